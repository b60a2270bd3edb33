"""Scale-out: tasks per second and scheduling overhead, locally and on a Dask LocalCluster.

Four measurements, side by side:

1. A sweep of many tiny tasks (default 10,000: UCB1/Uniform on a 2-armed Bernoulli bandit,
   T = 50). First as a user runs it: ``banditlab run FILE -j 1`` and ``-j 2`` in fresh
   processes (new workers, new forkserver), alternately, three times each; the run time
   is the one the command prints (from reading the experiment to the compacted store),
   and the speed-up is the ratio of the medians. Then in this process on serial, local
   processes (-j 2, a first call that starts the workers, then a second one that finds
   them started) and a 2-worker LocalCluster:
   tasks/s and the overhead per task (wall time minus the summed in-task run time).
2. Store and loader at that size: one ``load_results(...).to_frame()`` call.
3. Speed-up of -j 2 over serial for 1-second tasks (the ``testing/Sleepy-v0`` agent sleeps,
   so the task length does not depend on the machine's speed).
4. The README's first command (``banditlab run quickstart``) in a fresh process with the
   default ``-j`` (all cores) and with ``-j 1``.

Run:  python benchmarks/bench_scale.py [--tasks 10000] [--skip-dask]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from banditlab.experiment import Experiment
from banditlab.harness import run_experiment
from banditlab.results import load_results


@dataclass
class Args:
    tasks: int = 10_000
    """Tiny tasks in the sweep (rounded to a multiple of 2 agents x n seeds)."""
    long_tasks: int = 8
    """1-second tasks for the speed-up measurement."""


CLI = "import sys; from banditlab.cli import main; sys.exit(main(sys.argv[1:]))"
"""The ``banditlab`` console script, run with this interpreter."""


def tiny_sweep(n_tasks: int) -> Experiment:
    return Experiment.from_dict({
        "name": "scale",
        "n_seeds": max(1, n_tasks // 2),
        "run_length": 50,
        "checkpoints": 5,
        "envs": [{"id": "banditlab/Bernoulli-v0"}],
        "agents": [{"id": "UCB1-v0"}, {"id": "Uniform-v0"}],
    })


def one_second_tasks(n: int) -> Experiment:
    return Experiment.from_dict({
        "name": "long",
        "n_seeds": n,
        "run_length": 1000,
        "imports": ["banditlab.testing.fault_injection"],
        "envs": [{"id": "banditlab/Bernoulli-v0"}],
        "agents": [{"id": "testing/Sleepy-v0", "kwargs": {"sleep_s": 0.1, "every": 100}}],
    })


def fresh_process_runs(n_tasks: int, repeats: int = 3) -> dict[int, list[float]]:
    """Run times printed by ``banditlab run`` of the tiny sweep, -j 1 and -j 2, alternately."""
    exp = tiny_sweep(n_tasks)
    seeds = max(1, n_tasks // 2)
    text = (f'name = "scale"\nn_seeds = {seeds}\nrun_length = 50\ncheckpoints = 5\n'
            '[[envs]]\nid = "banditlab/Bernoulli-v0"\n'
            '[[agents]]\nid = "UCB1-v0"\n[[agents]]\nid = "Uniform-v0"\n')
    assert len(exp.tasks()) == 2 * seeds
    runs: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.toml"
        path.write_text(text)
        for rep in range(repeats):
            for jobs in (1, 2):
                out = Path(tmp) / f"out-{jobs}-{rep}"
                proc = subprocess.run(
                    [sys.executable, "-c", CLI, "run", str(path), "--out", str(out), "-j",
                     str(jobs), "--no-progress", "--no-plot"],
                    check=True, capture_output=True, text=True)
                found = re.search(r"ran (\d+),.*\(([0-9.]+) s\)", proc.stdout)
                assert found and int(found.group(1)) == 2 * seeds, proc.stdout
                runs[jobs].append(float(found.group(2)))
    return runs


def timed(exp: Experiment, **kw) -> tuple[float, float, Path]:
    out = Path(tempfile.mkdtemp(prefix="banditlab-scale-"))
    start = time.perf_counter()
    summary = run_experiment(exp, out, progress=False, **kw)
    wall = time.perf_counter() - start
    assert summary.n_ran == summary.n_tasks and not summary.errors, summary
    in_task = load_results(out).runs_frame()["wall_time_s"].sum()
    return wall, in_task, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tasks", type=int, default=Args.tasks)
    p.add_argument("--long-tasks", type=int, default=Args.long_tasks)
    p.add_argument("--skip-dask", action="store_true")
    a = p.parse_args()

    # --- tiny tasks
    exp = tiny_sweep(a.tasks)
    n = len(exp.tasks())
    timed(tiny_sweep(20))  # warm-up: compile kernels into the on-disk cache
    backends = {"serial": {"n_jobs": 1}, "processes -j 2": {"n_jobs": 2}}
    cluster = None
    if not a.skip_dask:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, silence_logs=40)
        backends["dask LocalCluster (2 workers)"] = {"scheduler": cluster.scheduler_address}
    print(f"{n:,} tiny tasks (T = 50):")
    fresh = fresh_process_runs(a.tasks)
    med = {j: statistics.median(v) for j, v in fresh.items()}
    print(f"  banditlab run, fresh processes: -j 1 {n / med[1]:,.0f} tasks/s, "
          f"-j 2 {n / med[2]:,.0f} tasks/s (medians of {len(fresh[1])}; run times "
          f"{', '.join(f'{x:.2f}' for x in fresh[1])} s / "
          f"{', '.join(f'{x:.2f}' for x in fresh[2])} s): -j 2 is "
          f"{med[1] / med[2]:.2f}x serial")
    out_dir = None
    for name, kw in backends.items():
        wall, in_task, out_dir = timed(exp, **kw)
        workers = 1 if name == "serial" else 2
        overhead = (wall * workers - in_task) / n
        print(f"  {name:32s} {n / wall:8,.0f} tasks/s   overhead {overhead * 1e3:6.2f} ms/task")
    # A second local call in the same process finds the pool of the first one started.
    wall, in_task, _ = timed(exp, n_jobs=2)
    print(f"  {'processes -j 2, kept pool':32s} {n / wall:8,.0f} tasks/s   overhead "
          f"{(wall * 2 - in_task) / n * 1e3:6.2f} ms/task")

    # --- loader at that size
    start = time.perf_counter()
    frame = load_results(out_dir).to_frame()
    print(f"  load_results(...).to_frame() on {n:,} task files: "
          f"{time.perf_counter() - start:.2f} s ({len(frame):,} rows)")

    # --- 1-second tasks: speed-up on 2 cores
    long_exp = one_second_tasks(a.long_tasks)
    serial, _, _ = timed(long_exp, n_jobs=1)
    procs, _, _ = timed(long_exp, n_jobs=2)
    line = (f"{a.long_tasks} tasks of ~1 s: serial {serial:.1f} s, -j 2 {procs:.1f} s, "
            f"speed-up {serial / procs:.2f}x")
    if cluster is not None:
        dask_wall, _, _ = timed(long_exp, scheduler=cluster.scheduler_address)
        line += f"; dask {dask_wall:.1f} s, speed-up {serial / dask_wall:.2f}x"
        cluster.close()
    print(line)

    # --- the README's first command, in a fresh process: default -j (all cores) vs -j 1
    walls: dict[str, list[float]] = {"-j 1": [], "default -j": []}
    for _ in range(3):
        for name, extra in (("-j 1", ["-j", "1"]), ("default -j", [])):
            out = Path(tempfile.mkdtemp(prefix="banditlab-quickstart-"))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", CLI, "run", "quickstart", "--out",
                            str(out), "--no-progress", *extra], check=True,
                           capture_output=True)
            walls[name].append(time.perf_counter() - start)
    print("banditlab run quickstart (fresh process, warm compile cache, best of 3): "
          + ", ".join(f"{k} {min(v):.2f} s" for k, v in walls.items()))


if __name__ == "__main__":
    main()
