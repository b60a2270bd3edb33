"""Results store at scale: writing and loading a results directory of many tasks.

Builds a results directory of ``--tasks`` tasks (default 10^5) the way a sweep writes it:
work units of ``--unit`` tasks (one Parquet file and one manifest append per unit), every
task a copy of one real run (UCB1 on ``banditlab/Bernoulli10-v0``, 8 checkpoints, 4 metrics)
(32 rows) with its own task id and seed index, and the experiment recorded. Then it times, in one
process: ``load_results(dir)`` (manifest, checksums), ``.to_frame()`` (the tidy frame) and
the sum of both, first with one file per work unit, then after ``ResultStore.compact()``
(what a finished sweep does), and checks that both frames are identical. Writing is timed
too (the store's own cost, not the runs').

Run:  python benchmarks/bench_store.py [--tasks 100000] [--unit 50] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import hashlib
import pstats
import tempfile
import time
from pathlib import Path


def build(root: Path, n_tasks: int, unit: int) -> tuple[float, int]:
    """Write ``n_tasks`` tasks in units of ``unit``; returns (seconds writing, rows per task)."""
    from banditlab.harness import run
    from banditlab.results import ResultStore

    template = run("banditlab/Bernoulli10-v0", "UCB1-v0", seed=0, checkpoints=8)
    store = ResultStore(root)
    tasks = {}
    results = []
    for i in range(n_tasks):
        tid = hashlib.sha256(f"task-{i}".encode()).hexdigest()
        label = f"UCB1 ({i // 1000})"
        results.append(dataclasses.replace(
            template, task_id=tid, run_id=f"Bernoulli10__{label}__{i % 1000}",
            agent_label=label, seed_index=i % 1000, env_label="Bernoulli10"))
        tasks[tid] = results[-1].run_id
    store.record_experiment("store", tasks)
    start = time.perf_counter()
    for k in range(0, n_tasks, unit):
        store.write_many(results[k:k + unit])
    return time.perf_counter() - start, len(template.t) * len(template.curves)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tasks", type=int, default=100_000)
    p.add_argument("--unit", type=int, default=50, help="tasks per work unit (file)")
    p.add_argument("--profile", action="store_true", help="print the top of a profile")
    a = p.parse_args()
    import pandas as pd

    from banditlab.results import ResultStore, load_results

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        write_s, rows_per_task = build(root, a.tasks, a.unit)
        print(f"{a.tasks:,} tasks in {a.tasks // a.unit:,} files, "
              f"{a.tasks * rows_per_task:,} rows")
        print(f"  write (store only):  {write_s:7.2f} s  ({a.tasks / write_s:,.0f} tasks/s)")
        frames = []
        for stage in ("one file per unit", "compacted"):
            if stage == "compacted":
                start = time.perf_counter()
                merged = ResultStore(root).compact()
                print(f"  compact():           {time.perf_counter() - start:7.2f} s "
                      f"({merged:,} files into one; a finished sweep does this itself)")
            prof = cProfile.Profile() if a.profile else None
            start = time.perf_counter()
            if prof:
                prof.enable()
            results = load_results(root)
            mid = time.perf_counter()
            frame = results.to_frame()
            end = time.perf_counter()
            if prof:
                prof.disable()
            print(f"  {stage}: load_results {mid - start:5.2f} s + to_frame {end - mid:5.2f} s"
                  f" = {end - start:5.2f} s")
            assert len(frame) == a.tasks * rows_per_task, len(frame)
            frames.append(pd.util.hash_pandas_object(frame, index=True).to_numpy())
            del frame, results
            if prof:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
        assert (frames[0] == frames[1]).all(), "compaction changed the frame"
        print("  the two frames are identical")


if __name__ == "__main__":
    main()
