"""Dask backend, sweeps and fault tolerance, on a real LocalCluster on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import distributed  # noqa: F401  (the dask extra is part of [test]: missing, it fails loudly)
import pytest

from banditlab.experiment import Experiment, load_experiment
from banditlab.harness import run_experiment
from banditlab.results import ResultStore, load_results

SWEEP = """
name = "sweep"
n_seeds = 3
root_seed = 2
run_length = 400

[[envs]]
id = "banditlab/Bernoulli-v0"
grid = { means = [[0.4, 0.6], [0.2, 0.8]] }

[[agents]]
id = "UCB1-v0"
grid = { alpha = [0.5, 1.0, 2.0] }

[[agents]]
id = "Uniform-v0"
"""

SLOW = """
name = "slow"
n_seeds = 8
root_seed = 3
run_length = 2000
imports = ["banditlab.testing.fault_injection"]

[[envs]]
id = "banditlab/Bernoulli-v0"

[[agents]]
id = "testing/Sleepy-v0"
kwargs = { sleep_s = 0.02, every = 100 }
"""


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as c:
        yield c


def _exp(tmp_path, text, name="e.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sweep_expands_grids_with_stable_task_ids(tmp_path):
    exp = load_experiment(_exp(tmp_path, SWEEP))
    assert len(exp.envs) == 2 and len(exp.agents) == 4
    ids = [t.task_id for t in exp.tasks()]
    assert len(ids) == len(set(ids)) == 2 * 4 * 3
    assert ids == [t.task_id for t in load_experiment(_exp(tmp_path, SWEEP, "f.toml")).tasks()]
    bigger = load_experiment(_exp(tmp_path, SWEEP.replace("[0.5, 1.0, 2.0]",
                                                          "[0.5, 1.0, 2.0, 4.0]"), "g.toml"))
    assert set(ids) < {t.task_id for t in bigger.tasks()}


def test_dask_equals_serial_and_processes(tmp_path, cluster):
    exp = load_experiment(_exp(tmp_path, SWEEP))
    run_experiment(exp, tmp_path / "serial", n_jobs=1, progress=False)
    run_experiment(exp, tmp_path / "procs", n_jobs=2, progress=False)
    summary = run_experiment(exp, tmp_path / "dask", scheduler=cluster.scheduler_address,
                             progress=False)
    assert summary.n_ran == 24 and not summary.errors
    serial = load_results(tmp_path / "serial").to_frame()
    assert serial.equals(load_results(tmp_path / "procs").to_frame())
    assert serial.equals(load_results(tmp_path / "dask").to_frame())


def test_sweep_plot_from_cli(tmp_path):
    from banditlab.cli import main

    exp = _exp(tmp_path, SWEEP)
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress",
                 "--no-plot"]) == 0
    assert main(["plot", str(out), "--sweep", "alpha", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_killed_worker_task_is_retried_and_result_unchanged(tmp_path, cluster):
    from distributed import Client

    exp = load_experiment(_exp(tmp_path, SLOW))
    run_experiment(exp, tmp_path / "serial", n_jobs=1, progress=False)
    box = {}

    def target():
        box["summary"] = run_experiment(exp, tmp_path / "dask", progress=False,
                                        scheduler=cluster.scheduler_address)

    with Client(cluster) as client:
        thread = threading.Thread(target=target)
        thread.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            processing = client.processing()
            if any(processing.values()):
                break
            time.sleep(0.05)
        busy = [addr for addr, keys in client.processing().items() if keys]
        assert busy, "no task was running on any worker"
        pids = client.run(os.getpid, workers=busy[:1])
        time.sleep(0.2)  # let the task get going
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        thread.join(timeout=180)
    assert not thread.is_alive()
    assert box["summary"].n_ran == 8 and not box["summary"].errors
    assert load_results(tmp_path / "dask").to_frame().equals(
        load_results(tmp_path / "serial").to_frame())


def test_sigkill_client_mid_dask_sweep_then_rerun(tmp_path, cluster):
    exp_file = _exp(tmp_path, SLOW)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", "import sys; from banditlab.cli import main; "
           "sys.exit(main(sys.argv[1:]))", "run", str(exp_file), "--out", str(out),
           "--scheduler", cluster.scheduler_address, "--no-progress", "--no-plot"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()  # reaps it and closes its pipes
    n_done = len(ResultStore(out).committed())
    assert 2 <= n_done < 8
    summary = run_experiment(load_experiment(exp_file), out, progress=False,
                             scheduler=cluster.scheduler_address)
    assert summary.n_skipped == n_done and summary.n_ran == 8 - n_done
    clean = tmp_path / "clean"
    run_experiment(load_experiment(exp_file), clean, n_jobs=1, progress=False)
    assert load_results(out).to_frame().equals(load_results(clean).to_frame())


def test_failing_task_is_recorded_and_sweep_continues(tmp_path, capsys):
    from banditlab.cli import main

    exp = _exp(tmp_path, """
name = "boom"
n_seeds = 6
run_length = 50
imports = ["banditlab.testing.fault_injection"]
[[envs]]
id = "banditlab/Bernoulli-v0"
[[agents]]
id = "UCB1-v0"
[[agents]]
id = "testing/Exploding-v0"
kwargs = { fail_at = 20, fail_seed = 2 }
""")
    out = tmp_path / "res"
    code = main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress", "--no-plot"])
    printed = capsys.readouterr().out
    assert code == 1
    errors = ResultStore(out).errors()
    assert errors, "some Exploding runs must fail"
    n_err = len(errors)
    assert f"{n_err} failed" in printed and "FAILED" in printed
    assert "deliberate failure at round 20" in printed
    for e in errors.values():
        assert e["status"] == "error" and "RuntimeError" in e["traceback"]
    ok = load_results(out)
    assert len(ok) == 12 - n_err  # every other task committed
    # A rerun retries exactly the failed tasks (they fail again: the failure is deterministic).
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress",
                 "--no-plot"]) == 1
    assert f"ran 0, skipped {12 - n_err} already done, {n_err} failed" in capsys.readouterr().out


def test_manifest_lines_are_json_with_checksums(tmp_path):
    exp = Experiment.from_dict({"envs": [{"id": "banditlab/Bernoulli-v0"}],
                                "agents": [{"id": "UCB1-v0"}], "n_seeds": 2, "run_length": 30})
    run_experiment(exp, tmp_path, progress=False)
    lines = (tmp_path / "manifest.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert all(len(e["sha256"]) == 64 and e["status"] == "ok" for e in entries)
