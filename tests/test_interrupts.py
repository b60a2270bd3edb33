"""Ctrl-C and killed parents: a run stops within seconds, keeps finished tasks, leaves no workers.

The runs are real ``banditlab run`` processes on an experiment whose tasks take about
half a second each (``testing/Sleepy-v0`` on the Python path), interrupted once a few
tasks are committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from banditlab.experiment import load_experiment
from banditlab.harness import run_experiment
from banditlab.interrupts import RunInterrupted, stop_requested
from banditlab.results import ResultStore, load_results

N_SEEDS = 16
EXPERIMENT = f"""
name = "interrupt"
n_seeds = {N_SEEDS}
run_length = 2000
imports = ["banditlab.testing.fault_injection"]
[[envs]]
id = "banditlab/Bernoulli-v0"
[[agents]]
id = "testing/Sleepy-v0"
kwargs = {{ sleep_s = 0.025, every = 100 }}
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from banditlab.cli import main; sys.exit(main())",
            *args]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _committed(out: Path) -> int:
    manifest = out / "manifest.jsonl"
    return len(manifest.read_text().splitlines()) if manifest.exists() else 0


def _children(pid: int) -> set[int]:
    """Pids of the live descendants of ``pid`` (from /proc)."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parent_of[int(entry.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent_of.items() if pp in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.fixture()
def experiment_file(tmp_path: Path) -> Path:
    path = tmp_path / "interrupt.toml"
    path.write_text(EXPERIMENT)
    return path


@pytest.fixture(scope="module")
def uninterrupted_frame(tmp_path_factory):
    """The tidy frame of an uninterrupted serial run of EXPERIMENT (computed once: 8 s)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    (root / "interrupt.toml").write_text(EXPERIMENT)
    run_experiment(load_experiment(root / "interrupt.toml"), root / "out", n_jobs=1,
                   progress=False)
    return load_results(root / "out").to_frame()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("jobs", "target"), [("1", "group"), ("2", "parent"), ("2", "group")])
def test_sigint_stops_within_seconds_keeps_finished_tasks_and_resumes(tmp_path, experiment_file,
                                                                       uninterrupted_frame,
                                                                       jobs, target):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _cli("run", str(experiment_file), "--out", str(out), "-j", jobs, "--no-progress",
             "--no-plot"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        _wait_for(lambda: _committed(out) >= 2, 120, "two committed tasks")
        assert proc.poll() is None, "the run finished before it could be interrupted"
        workers = _children(proc.pid)
        start = time.monotonic()
        if target == "group":  # what a terminal's Ctrl-C does
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert elapsed < 5.0, f"stopped {elapsed:.1f} s after SIGINT"
    lines = stderr.strip().splitlines()
    n_saved = len(ResultStore(out).committed(verify=True))
    assert lines == [f"banditlab: interrupted: {n_saved} of {N_SEEDS} tasks saved in {out}; "
                     "run the same command again to resume"], stderr
    assert 2 <= n_saved < N_SEEDS
    assert not ResultStore(out).errors(), "an interrupted task must not be recorded as failed"
    _wait_for(lambda: not any(_alive(p) for p in workers), 10, "the workers to exit")
    # Resume: only the missing tasks run; the frame equals an uninterrupted run's.
    done = subprocess.run(
        _cli("run", str(experiment_file), "--out", str(out), "-j", jobs, "--no-progress",
             "--no-plot"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"ran {N_SEEDS - n_saved}, skipped {n_saved} already done, 0 failed" in done.stdout
    assert load_results(out).to_frame().equals(uninterrupted_frame)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_the_workers_server_starts_prints_one_line(tmp_path, experiment_file):
    """A terminal's Ctrl-C reaches the whole process group, the workers' server too, which
    imports banditlab for about half a second after the sweep starts: it must not die with
    a traceback on the terminal (it starts with SIGINT blocked). Before the fix, 24 of 30
    runs interrupted at random times in that window printed 6-59 lines."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _cli("run", str(experiment_file), "--out", str(out), "-j", "2", "--no-progress",
             "--no-plot"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        _wait_for(lambda: any("multiprocessing.forkserver" in _cmdline(p)
                              for p in _children(proc.pid)), 120, "the forkserver to start")
        os.killpg(proc.pid, signal.SIGINT)  # while the server imports
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("banditlab: interrupted: ") and line.endswith("to resume"), stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_worker_outlives_a_killed_parent(tmp_path, experiment_file):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _cli("run", str(experiment_file), "--out", str(out), "-j", "3", "--no-progress",
             "--no-plot"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_children(proc.pid)) >= 3, 120, "a forkserver and two workers")
        descendants = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers must follow
        proc.wait()
        _wait_for(lambda: not any(_alive(p) for p in descendants), 10,
                  f"descendants {sorted(descendants)} to exit")
    finally:
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_interrupt_in_process_raises_run_interrupted_and_restores_the_handler(tmp_path,
                                                                            experiment_file):
    previous = signal.getsignal(signal.SIGINT)
    exp = load_experiment(experiment_file)
    out = tmp_path / "out"
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(RunInterrupted) as info:
            run_experiment(exp, out, n_jobs=1, progress=False)
    finally:
        timer.cancel()
    n_saved = len(ResultStore(out).committed())
    assert 1 <= info.value.n_saved == n_saved < N_SEEDS
    assert info.value.n_tasks == N_SEEDS and info.value.results_dir == str(out)
    assert signal.getsignal(signal.SIGINT) is previous and not stop_requested()
    summary = run_experiment(exp, out, n_jobs=1, progress=False)  # resumes
    assert (summary.n_skipped, summary.n_ran) == (n_saved, N_SEEDS - n_saved)
