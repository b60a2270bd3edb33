"""Per-task cost of tiny tasks, and the share of it a seeds-in-one-call loop could save.

Runs 4,000 tiny tasks (UCB1 and uniform play on a 2-armed Bernoulli bandit, T = 50, the
sweep of ``bench_scale.py``) in work units in this process, twice: as the harness runs them,
and with each pair's compiled ``fused_run`` replaced by a stub that returns the arrays of its
first call. The difference is what the compiled call costs per task, type dispatch and the
50 rounds included: the most that running a unit's seeds in one compiled call could save,
since every seed's reset (its generators spawned from its SeedSequence, the kernels' init),
checkpoint recording and result still happen per task in Python. Best of three each.

Run:  python benchmarks/bench_task_overhead.py [--tasks 4000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import tiny_sweep  # noqa: E402

from banditlab import _fused  # noqa: E402
from banditlab.execution import run_unit, work_units  # noqa: E402


def per_task_us(units, n_tasks: int) -> float:
    start = time.perf_counter()
    for unit in units:
        run_unit(unit, "auto")
    return (time.perf_counter() - start) / n_tasks * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tasks", type=int, default=4000)
    a = p.parse_args()
    tasks = tiny_sweep(a.tasks).tasks()
    units = work_units(tasks, 1)
    for unit in units:
        run_unit(unit[:2], "auto")  # load the compiled code
    real = min(per_task_us(units, len(tasks)) for _ in range(3))

    original = _fused.pair_loops
    stubs = {}

    def stubbed(env_kernel, agent_kernel):
        loops = original(env_kernel, agent_kernel)
        if id(loops) not in stubs:
            first = []

            def fused_run(*args):
                if not first:
                    first.append(loops.fused_run(*args))
                return first[0]

            stubs[id(loops)] = loops._replace(fused_run=fused_run)
        return stubs[id(loops)]

    _fused.pair_loops = stubbed
    try:
        stub = min(per_task_us(units, len(tasks)) for _ in range(3))
    finally:
        _fused.pair_loops = original
    print(f"{len(tasks):,} tiny tasks (T = 50), per task: {real:.0f} us as run, {stub:.0f} us "
          f"with the compiled call stubbed out; the call (type dispatch and 50 rounds) is "
          f"{real - stub:.0f} us, {(real - stub) / real:.0%} of a task")


if __name__ == "__main__":
    main()
