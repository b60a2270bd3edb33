"""Rounds per second of OOMD on SEAQuadratic: fused Numba path vs Gymnasium (Python) path.

Usage::

    python benchmarks/bench_sea.py [--rounds-fused 200000] [--rounds-python 20000]

Prints one line per dimension d in {10, 100} with both figures side by side, per wall-clock
second and per CPU second of this process (the CPU figure is the stable one on a shared,
loaded machine), plus the load average. Kernels are compiled (warmed) before timing; each
figure is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import time

from banditlab.harness import run
from banditlab.registry import make_agent, make_env


def _rate(d: int, rounds: int, backend: str, repeats: int) -> tuple[float, float]:
    best = float("inf")
    best_cpu = float("inf")
    for rep in range(repeats + 1):
        env = make_env("banditlab/SEAQuadratic-v0", d=d, noise=0.1, schedule="drift",
                       horizon=rounds)
        agent = make_agent("OOMD-v0")
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = run(env, agent, seed=rep, checkpoints=[rounds], backend=backend)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        assert res.backend == ("kernel" if backend == "kernel" else "python")
        if rep > 0:  # the first run warms (compiles) the kernels
            best = min(best, dt)
            best_cpu = min(best_cpu, dc)
    return rounds / best, rounds / best_cpu


def main() -> None:
    """Parse arguments and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds-fused", type=int, default=200_000)
    p.add_argument("--rounds-python", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'d':>5} {'fused /wall-s':>14} {'python /wall-s':>15} {'fused /cpu-s':>13} "
          f"{'python /cpu-s':>14} {'speed-up (cpu)':>15}")
    for d in (10, 100):
        fw, fc = _rate(d, args.rounds_fused, "kernel", args.repeats)
        pw, pc = _rate(d, args.rounds_python, "python", args.repeats)
        print(f"{d:>5} {fw:>14,.0f} {pw:>15,.0f} {fc:>13,.0f} {pc:>14,.0f} {fc / pc:>14.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
