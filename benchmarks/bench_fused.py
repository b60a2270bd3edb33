"""Throughput of the fused path vs a hand-written Numba loop vs the Gymnasium path.

Spec: shared/design/interfaces.md §2.4 (two execution paths). Task: UCB1 (alpha = 2) on
the 10-armed Bernoulli bandit ``banditlab/Bernoulli10-v0``. All three loops do the same
work (same arms, same index, same tie-breaking draw) and are timed side by side in one
run, after compilation. Run:  python benchmarks/bench_fused.py [--steps N] [--seeds S]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from banditlab.harness import run
from banditlab.kernels import argmax_random_tiebreak
from banditlab.registry import make_env


@dataclass
class Args:
    steps: int = 1_000_000
    """Rounds per run for the compiled loops."""
    python_steps: int = 20_000
    """Rounds for the (much slower) Gymnasium loop."""
    seeds: int = 10
    """Runs in the 'T = 1e6 x 10 seeds' timing."""


@njit(cache=True)
def handwritten_ucb1_bernoulli(means, steps, env_rng, agent_rng):
    """A minimal monolithic loop: UCB1 on Bernoulli arms, no harness, no logging."""
    k = means.shape[0]
    counts = np.zeros(k)
    sums = np.zeros(k)
    index = np.zeros(k)
    total = 0.0
    for t in range(1, steps + 1):
        logt = np.log(t)
        for a in range(k):
            n = counts[a]
            index[a] = np.inf if n == 0.0 else sums[a] / n + np.sqrt(2.0 * logt / n)
        a = argmax_random_tiebreak(index, agent_rng)
        r = 1.0 if env_rng.random() < means[a] else 0.0
        counts[a] += 1.0
        sums[a] += r
        total += r
    return total


def time_fused(steps: int, seed: int = 0) -> float:
    env = make_env("banditlab/Bernoulli10-v0", horizon=steps)
    start = time.perf_counter()
    run(env, "UCB1-v0", seed=seed, backend="kernel")  # default checkpoint grid, as users run it
    return time.perf_counter() - start


def time_handwritten(steps: int, seed: int = 0) -> float:
    env = make_env("banditlab/Bernoulli10-v0")
    means = np.asarray(env.means)
    env_rng, agent_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    start = time.perf_counter()
    handwritten_ucb1_bernoulli(means, steps, env_rng, agent_rng)
    return time.perf_counter() - start


def time_python(steps: int, seed: int = 0) -> float:
    env = make_env("banditlab/Bernoulli10-v0", horizon=steps)
    start = time.perf_counter()
    run(env, "UCB1-v0", seed=seed, backend="python")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=Args.steps)
    p.add_argument("--python-steps", type=int, default=Args.python_steps)
    p.add_argument("--seeds", type=int, default=Args.seeds)
    a = p.parse_args()
    # --- warm-up (compilation excluded from every timing)
    time_fused(1000), time_handwritten(1000), time_python(100)
    # --- run: the paths alternate in 5 rounds (so load changes hit all of them); best of 5
    times: dict[str, list[float]] = {"fused": [], "hand": [], "python": []}
    for s in range(5):
        times["hand"].append(time_handwritten(a.steps, s))
        times["fused"].append(time_fused(a.steps, s))
        times["python"].append(time_python(a.python_steps, s))
    fused = a.steps / min(times["fused"])
    hand = a.steps / min(times["hand"])
    py = a.python_steps / min(times["python"])
    print(f"UCB1 on 10-armed Bernoulli, {a.steps:,} steps")
    print(f"  fused path (harness, default checkpoints): {fused:14,.0f} steps/s")
    print(f"  hand-written Numba loop:                   {hand:14,.0f} steps/s")
    print(f"  Gymnasium path (harness, Python loop):     {py:14,.0f} steps/s")
    print(f"  fused / hand-written = {fused / hand:.2f}   fused / Gymnasium = {fused / py:.0f}x")
    start = time.perf_counter()
    for s in range(a.seeds):
        time_fused(a.steps, seed=100 + s)
    print(f"  T = {a.steps:,} x {a.seeds} seeds on the fused path: "
          f"{time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
