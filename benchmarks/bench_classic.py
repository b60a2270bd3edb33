"""Throughput of the classic agents on their envs: fused Numba path vs Gymnasium path.

For every classic kernel agent on the env it is designed for (stochastic, adversarial and
linear contextual bandits), times one run on the fused path (``backend="kernel"``)
and one on the Gymnasium path (``backend="python"``), after a warm-up run that compiles
both, and prints steps per second side by side with their ratio.
Run:  python benchmarks/bench_classic.py [--steps N] [--python-steps M]

With ``--deviations`` it instead measures the effect of the documented deviation of
``Exp3-v0`` (loss-based, no uniform mixing; Bubeck & Cesa-Bianchi 2012) against Exp3 as
published by Auer et al. (2002, Fig. 1, with the tuning of their Cor. 3.2), on the two
adversarial envs of ``classic_adversarial.toml``: mean static pseudo-regret at T over
``--seeds`` seeds with its standard error.
Run:  python benchmarks/bench_classic.py --deviations [--horizon 10000] [--seeds 10]

With ``--variants`` it measures UCB1's exploration constant (``alpha = 2`` is the published
index, other values are labelled ``UCB1 [alpha=<value>]``) on ``Bernoulli10-v0``: mean
pseudo-regret at T with its standard error.
Run:  python benchmarks/bench_classic.py --variants [--horizon 10000] [--seeds 10]
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np

from banditlab.core import Agent
from banditlab.harness import run
from banditlab.registry import make_agent, make_env


@dataclass
class Args:
    steps: int = 200_000
    """Rounds of the fused run."""
    python_steps: int = 5_000
    """Rounds of the (much slower) Gymnasium run."""


# --- setup
CASES = [
    ("banditlab/Bernoulli10-v0", "EpsilonGreedy-v0"),
    ("banditlab/Bernoulli10-v0", "KLUCB-v0"),
    ("banditlab/Bernoulli10-v0", "ThompsonBeta-v0"),
    ("banditlab/Bernoulli10-v0", "ThompsonGaussian-v0"),
    ("banditlab/AdversarialBandit-v0", "Exp3-v0"),
    ("banditlab/AdversarialBandit-v0", "TsallisINF-v0"),
    ("banditlab/LinearContextual-v0", "LinUCB-v0"),
    ("banditlab/LinearContextual-v0", "LinTS-v0"),
]


def steps_per_second(env_id: str, agent_id: str, steps: int, backend: str) -> float:
    env = make_env(env_id, horizon=steps)
    start = time.perf_counter()
    run(env, agent_id, seed=0, backend=backend)
    return steps / (time.perf_counter() - start)


class Exp3Auer(Agent):
    """Exp3 as published (Auer et al. 2002, Fig. 1): reward estimates and uniform mixing.

    ``p = (1 - gamma) w / sum w + gamma / K``, ``w_i <- w_i exp(gamma x_hat_i / K)`` with
    ``x_hat_i = r / p_i`` for the played arm; ``gamma = min(1, sqrt(K ln K / ((e - 1) T)))``
    (their Cor. 3.2 with g = T). Measurement reference only (not registered).
    """

    display_name = "Exp3 (Auer et al. 2002)"
    _tags = {"families": ("classic",)}

    def __init__(self, horizon: int = 10000):
        self.horizon = horizon

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        self.rng_ = np.random.default_rng(seed)
        self.k_ = int(action_space.n)
        k = self.k_
        self.gamma_ = min(1.0, math.sqrt(k * math.log(k) / ((math.e - 1.0) * self.horizon)))
        self.logw_ = np.zeros(k)
        self.p_ = np.full(k, 1.0 / k)

    def act(self, observation):
        w = np.exp(self.logw_ - self.logw_.max())
        self.p_ = (1.0 - self.gamma_) * w / w.sum() + self.gamma_ / self.k_
        return int(self.rng_.choice(self.k_, p=self.p_))

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        self.logw_[action] += self.gamma_ * (reward / self.p_[action]) / self.k_


def deviations(horizon: int, seeds: int) -> None:
    """Static pseudo-regret of Exp3-v0 (both rates) and of the published Exp3."""
    envs = {
        "switch": {"schedule": "switch"},
        "sinusoidal": {"schedule": "sinusoidal", "means": [0.6, 0.5, 0.4, 0.3]},
    }
    agents = {
        "Exp3-v0 anytime": lambda: make_agent("Exp3-v0"),
        "Exp3-v0 horizon-tuned": lambda: make_agent("Exp3-v0", horizon=horizon),
        "Exp3 (Auer et al. 2002)": lambda: Exp3Auer(horizon=horizon),
    }
    print(f"static pseudo-regret at T = {horizon}, mean +- s.e. over {seeds} seeds")
    for env_name, kw in envs.items():
        for name, make in agents.items():
            vals = [run(make_env("banditlab/AdversarialBandit-v0", horizon=horizon, **kw),
                        make(), seed=s, checkpoints=[horizon]).finals["pseudo_regret/static"]
                    for s in range(seeds)]
            m, se = np.mean(vals), np.std(vals, ddof=1) / np.sqrt(seeds)
            print(f"{env_name:11s} {name:26s} {m:9.1f} +- {se:6.1f}", flush=True)


def variants(horizon: int, seeds: int) -> None:
    """Pseudo-regret of UCB1 with alpha in {0.5, 1, 2, 4} on Bernoulli10-v0."""
    print(f"pseudo-regret at T = {horizon}, mean +- s.e. over {seeds} seeds")
    for alpha in (0.5, 1.0, 2.0, 4.0):
        agent = make_agent("UCB1-v0", alpha=alpha)
        vals = [run(make_env("banditlab/Bernoulli10-v0", horizon=horizon),
                    make_agent("UCB1-v0", alpha=alpha), seed=s,
                    checkpoints=[horizon]).finals["pseudo_regret/stochastic"]
                for s in range(seeds)]
        m, se = np.mean(vals), np.std(vals, ddof=1) / np.sqrt(seeds)
        print(f"{agent.label():18s} {m:9.1f} +- {se:6.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=Args.steps)
    parser.add_argument("--python-steps", type=int, default=Args.python_steps)
    parser.add_argument("--deviations", action="store_true")
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--horizon", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=10)
    ns = parser.parse_args()
    if ns.deviations:
        deviations(ns.horizon, ns.seeds)
        return
    if ns.variants:
        variants(ns.horizon, ns.seeds)
        return
    args = Args(steps=ns.steps, python_steps=ns.python_steps)
    # --- run
    print(f"{'env':34s} {'agent':22s} {'fused steps/s':>14s} {'python steps/s':>15s} {'ratio':>7s}")
    for env_id, agent_id in CASES:
        for backend in ("kernel", "python"):  # warm-up: compile both paths
            steps_per_second(env_id, agent_id, 200, backend)
        fused = steps_per_second(env_id, agent_id, args.steps, "kernel")
        python = steps_per_second(env_id, agent_id, args.python_steps, "python")
        print(f"{env_id:34s} {agent_id:22s} {fused:14.3g} {python:15.3g} {fused / python:7.0f}")


if __name__ == "__main__":
    main()
