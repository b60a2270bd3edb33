"""Throughput measurement of the two execution paths (used by ``banditlab bench``).

Speed lives in benchmarks, not in tests: these functions measure and return
figures; nothing asserts on them.
"""

from __future__ import annotations

import time

__all__ = ["bench_pair"]


def bench_pair(
    env_id: str, agent_id: str, *, steps: int = 1_000_000, python_steps: int = 20_000,
    seed: int = 0,
) -> dict[str, float]:
    """Steps per second of the fused Numba loop and of the Gymnasium loop on one pair.

    Both are timed after a warm-up run (compilation excluded), with one checkpoint
    at the end so that logging does not dominate.

    Args:
        env_id: A registered continuing env with a kernel.
        agent_id: A registered kernel agent.
        steps: Rounds for the fused path.
        python_steps: Rounds for the Gymnasium path (it is much slower).
        seed: Seed of both runs.

    Returns:
        ``{"fused_steps_per_s": ..., "python_steps_per_s": ...}``.
    """
    from banditlab.harness import run
    from banditlab.registry import make_env

    def timed(n: int, backend: str) -> float:
        env = make_env(env_id, horizon=n)
        run(env, agent_id, seed=seed, checkpoints=[min(n, 10)], backend=backend)  # warm-up
        env = make_env(env_id, horizon=n)
        start = time.perf_counter()
        run(env, agent_id, seed=seed, checkpoints=[n], backend=backend)
        return n / (time.perf_counter() - start)

    return {
        "fused_steps_per_s": timed(steps, "kernel"),
        "python_steps_per_s": timed(python_steps, "python"),
    }
