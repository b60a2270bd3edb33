"""Shared machinery of the tight-loop benchmarks (``bench_tight_<family>.py``, ``bench_tight.py``).

A :class:`Case` pairs the harness's fused path on one (env, agent) pair with a hand-written
Numba loop of the same env and agent: one ``@njit`` function with local arrays, no kernel
calls and no NamedTuples, what a careful Numba programmer writes for that one pair. The
hand-written loop starts from the env and agent exactly as the harness resets them
(:func:`prepared`: same instance arrays, same noise and agent generators in the same
state), so it must reproduce the trajectory; :func:`measure` asserts that the cumulative
reward and expected reward at the end are *identical* before it reports a ratio. Both
paths are timed after a warm-up (compilation excluded), alternating, best of ``repeats``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "Row", "prepared", "measure", "main_for"]


@dataclass
class Case:
    """One fused-vs-hand-written comparison.

    Attributes:
        name: Row label, e.g. ``"UCRL2 on RiverSwim-6"``.
        env_id: Registered env id.
        agent_id: Registered agent id.
        steps: Rounds per timed run.
        hand: ``hand(env, agent, steps) -> (total_reward, total_expected_reward)``: extracts
            what it needs from the env and agent as :func:`prepared` returns them (instance
            arrays, ``env.noise_rng_``, ``agent.rng_``) and calls the hand-written loop. Only
            this call is timed.
        env_kwargs: Env constructor arguments (``horizon`` is set to ``steps``; for an
            episodic env ``n_episodes``, and ``steps`` counts episodes).
        agent_kwargs: Agent constructor arguments.
        target: Smallest acceptable fused / hand-written ratio (``None``: no target).
    """

    name: str
    env_id: str
    agent_id: str
    steps: int
    hand: Callable[[Any, Any, int], tuple[float, float]]
    env_kwargs: dict = field(default_factory=dict)
    agent_kwargs: dict = field(default_factory=dict)
    target: float | None = 0.5


@dataclass
class Row:
    """What :func:`measure` found for one case."""

    case: Case
    fused_steps_per_s: float
    hand_steps_per_s: float

    @property
    def ratio(self) -> float:
        """Fused over hand-written throughput."""
        return self.fused_steps_per_s / self.hand_steps_per_s

    def line(self) -> str:
        """One table line."""
        target = self.case.target
        verdict = "" if target is None else ("  ok" if self.ratio >= target else
                                             f"  BELOW {target}")
        return (f"{self.case.name:<44} {self.fused_steps_per_s:>13,.0f} "
                f"{self.hand_steps_per_s:>13,.0f} {self.ratio:>7.2f}{verdict}")


def _make(case: Case, steps: int):
    from banditlab.registry import env_spec, load_entry_point, make_agent, make_env

    cls = load_entry_point(env_spec(case.env_id).entry_point)
    length = "n_episodes" if getattr(cls, "run_kind", None) == "episodic" else "horizon"
    env = make_env(case.env_id, **{**case.env_kwargs, length: steps})
    return env, make_agent(case.agent_id, **case.agent_kwargs)


def prepared(case: Case, steps: int, seed: int):
    """The env and agent reset exactly as ``harness.run(env, agent, seed=seed)`` resets them.

    Returns:
        ``(env, agent)``; ``env.noise_rng_`` and ``agent.rng_`` are in the state the fused
        loop starts from, ``env.state_`` and ``agent.state_`` hold the initial kernel states.
    """
    from banditlab.seeding import run_seeds

    env, agent = _make(case, steps)
    env_seed, agent_seed = run_seeds(int(seed))
    env.reset(seed=env_seed)
    simulator = (getattr(env.unwrapped, "simulator", None)  # as the harness's _simulator_for
                 if agent.get_tags().get("needs_simulator") else None)
    agent.reset(env.action_space, env.observation_space, seed=agent_seed, simulator=simulator)
    return env, agent


def _fused(case: Case, steps: int, seed: int) -> tuple[float, tuple[float, float]]:
    from banditlab.harness import run

    env, agent = _make(case, steps)
    start = time.perf_counter()
    res = run(env, agent, seed=seed, checkpoints=[steps], backend="kernel")
    seconds = time.perf_counter() - start
    return seconds, (float(res.curves["reward"][-1]), float(res.curves["expected_reward"][-1]))


def _hand(case: Case, steps: int, seed: int) -> tuple[float, tuple[float, float]]:
    env, agent = prepared(case, steps, seed)
    start = time.perf_counter()
    totals = case.hand(env, agent, steps)
    seconds = time.perf_counter() - start
    return seconds, (float(totals[0]), float(totals[1]))


def measure(case: Case, *, repeats: int = 5, seed: int = 0, steps: int | None = None) -> Row:
    """Time both paths side by side and check they follow the same trajectory.

    Raises:
        AssertionError: When the hand-written loop's totals differ from the harness's.
    """
    steps = case.steps if steps is None else steps
    _fused(case, min(steps, 1000), seed), _hand(case, min(steps, 1000), seed)  # compile
    fused_s, hand_s = [], []
    for r in range(repeats):
        tf, fused_totals = _fused(case, steps, seed + r)
        th, hand_totals = _hand(case, steps, seed + r)
        if fused_totals != hand_totals:
            raise AssertionError(f"{case.name}: the hand-written loop's (reward, expected) "
                                 f"{hand_totals} differ from the harness's {fused_totals}")
        fused_s.append(tf)
        hand_s.append(th)
    return Row(case, steps / min(fused_s), steps / min(hand_s))


HEADER = (f"{'pair':<44} {'fused steps/s':>13} {'hand steps/s':>13} {'ratio':>7}\n"
          + "-" * 80)


def main_for(cases: Sequence[Case], description: str, argv: Sequence[str] | None = None
             ) -> list[Row]:
    """Command line of a family benchmark: measure every case and print the table."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per path (best of)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every case's steps")
    a = p.parse_args(argv)
    print(HEADER)
    rows = []
    for case in cases:
        row = measure(case, repeats=a.repeats, steps=max(1000, int(case.steps * a.scale)))
        print(row.line(), flush=True)
        rows.append(row)
    print("trajectories identical in every case (reward and expected reward at the end)")
    return rows
