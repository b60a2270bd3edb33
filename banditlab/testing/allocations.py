"""Steady-state heap allocations of the fused loop, counted by Numba's runtime (NRT).

The fused loop of an (env kernel, agent kernel) pair must not allocate per step: every
observation, action and scratch array lives in the kernels' states, allocated once by
``init``. :func:`allocations_per_step` measures it: the pair runs twice on the fused path
with the same seed and a single checkpoint at the end, once ``short`` and once ``long``
rounds (episodes for episodic envs), and the difference of the NRT allocation counters is
divided by the extra rounds. Allocations made once per run (``init``, the result arrays,
the checkpoint read) cancel; anything left is paid per step. Allocations made by NumPy
outside compiled code are not NRT allocations and are not counted.

The count is exact (NRT counts every ``meminfo`` allocation), so the assertion of the
test suite is ``== 0``, not a tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AllocationCount", "allocations_per_step", "enable_nrt_stats"]


def enable_nrt_stats() -> None:
    """Turn on Numba's NRT allocation statistics for this process (idempotent).

    Same effect as ``NUMBA_NRT_STATS=1`` before Numba is imported.
    """
    from numba.core.runtime import _nrt_python

    if not _nrt_python.memsys_stats_enabled():
        _nrt_python.memsys_enable_stats()


def _nrt_allocations() -> int:
    from numba.core.runtime import rtsys

    return int(rtsys.get_allocation_stats().alloc)


@dataclass(frozen=True)
class AllocationCount:
    """NRT allocations of two fused runs of one pair.

    Attributes:
        env_id: Registered env id.
        agent_ref: Registered agent id or ``"oracle:<name>"``.
        short: Rounds (episodes for an episodic env) of the shorter run.
        long: Rounds (episodes) of the longer run.
        short_allocations: NRT allocations during the shorter run.
        long_allocations: NRT allocations during the longer run.
    """

    env_id: str
    agent_ref: str
    short: int
    long: int
    short_allocations: int
    long_allocations: int

    @property
    def per_step(self) -> float:
        """Extra allocations per extra round (episode), the steady-state cost."""
        return (self.long_allocations - self.short_allocations) / (self.long - self.short)


def allocations_per_step(env_id: str, agent_ref: str, *, short: int | None = None,
                         long: int | None = None, seed: int = 3) -> AllocationCount:
    """Count the NRT allocations of the fused loop of one pair at two run lengths.

    Args:
        env_id: A registered kernel env (continuing, or episodic with an episodic kernel).
        agent_ref: A registered kernel agent id, or ``"oracle:<name>"`` of the env's oracle.
        short: Rounds of the shorter run (default 200, or 3 episodes for episodic envs).
        long: Rounds of the longer run (default 600, or 9 episodes).
        seed: Seed of both runs.

    Returns:
        An :class:`AllocationCount`; its ``per_step`` is the steady-state allocation rate.

    Raises:
        BanditlabError: When ``long <= short`` or the pair has no fused path.
    """
    from banditlab.core import BanditlabError
    from banditlab.harness import run
    from banditlab.registry import env_spec, load_entry_point, make_env
    from banditlab.testing.parity import build_agent

    cls = load_entry_point(env_spec(env_id).entry_point)
    episodic = getattr(cls, "run_kind", "continuing") == "episodic"
    short = short if short is not None else (3 if episodic else 200)
    long = long if long is not None else (9 if episodic else 600)
    if not 1 <= short < long:
        raise BanditlabError(f"long: expected an integer > short = {short}, got {long}")
    enable_nrt_stats()

    def count(n: int) -> int:
        env = make_env(env_id, **({"n_episodes": n} if episodic else {"horizon": n}))
        agent = build_agent(env, agent_ref)
        before = _nrt_allocations()
        run(env, agent, seed=seed, run_length=n, checkpoints=[n], backend="kernel")
        return _nrt_allocations() - before

    count(short)  # compile, and let lazily built caches settle
    return AllocationCount(env_id, agent_ref, short, long, count(short), count(long))
