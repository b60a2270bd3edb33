"""Fail early, keep data: unwritable, read-only and full results directories.

How each condition is produced (root ignores permission bits, so a test as root needs more
than ``chmod``):

* unwritable: ``chmod 0o555``; as root the run is a subprocess started with ``setpriv
  --bounding-set=-dac_override,-dac_read_search`` (root without the capability that
  bypasses permission bits), as another user it runs directly;
* read-only: as root a read-only tmpfs mount (``EROFS``), and a tmpfs remounted read-only
  under an existing results directory; as another user a ``chmod 0o555`` directory;
* full: as root a small tmpfs (``ENOSPC`` from the real writer, then ``remount,size=``
  to free space); without root the writer is monkeypatched to raise ``ENOSPC``, and the
  free-space check sees a patched ``shutil.disk_usage``.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from banditlab.cli import main
from banditlab.core import BanditlabError
from banditlab.experiment import load_experiment
from banditlab.harness import run_experiment
from banditlab.results import ResultStore, load_results

IS_ROOT = os.geteuid() == 0

SMALL = """
name = "small"
n_seeds = {n_seeds}
root_seed = 1
run_length = 50
checkpoints = [10, 25, 50]
[[envs]]
id = "banditlab/Bernoulli-v0"
[[agents]]
id = "UCB1-v0"
[[agents]]
id = "Uniform-v0"
"""


def _exp_file(tmp_path, n_seeds=2):
    path = tmp_path / f"small{n_seeds}.toml"
    path.write_text(SMALL.format(n_seeds=n_seeds))
    return path


def _cli(*args):
    return [sys.executable, "-c", "import sys; from banditlab.cli import main; "
            "sys.exit(main(sys.argv[1:]))", *args]


def _unprivileged(cmd):
    """``cmd`` run so that permission bits apply (see the module docstring)."""
    if not IS_ROOT:
        return cmd
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permission bits cannot be made to apply")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]


def _one_line_error(proc) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.stdout, err)
    assert len(err.splitlines()) == 1 and err.startswith("banditlab: error: "), err
    assert "Traceback" not in err
    return err


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems (root only); unmounted at the end."""
    if not IS_ROOT:
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def mount(name, options):
        path = tmp_path / name
        path.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True, text=True)
        if res.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_unwritable_directory_fails_before_any_task(tmp_path):
    exp = _exp_file(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "res").mkdir()
    os.chmod(locked / "res", 0o555)
    os.chmod(locked, 0o555)
    try:
        for out, expected in ((locked / "new", "cannot be created (Permission denied)"),
                              (locked / "res", "is not writable (Permission denied)")):
            proc = subprocess.run(_unprivileged(_cli("run", str(exp), "--out", str(out), "-j",
                                                     "1", "--no-progress")),
                                  capture_output=True, text=True, cwd=tmp_path)
            err = _one_line_error(proc)
            assert expected in err and str(out) in err, err
            assert not (out / "manifest.jsonl").exists()
    finally:
        os.chmod(locked / "res", 0o755)
        os.chmod(locked, 0o755)


def test_read_only_directory_fails_before_any_task_and_keeps_results(tmp_path, request):
    exp = _exp_file(tmp_path)
    if IS_ROOT:
        tmpfs = request.getfixturevalue("tmpfs")
        ro = tmpfs("ro", "ro,size=1m")
        proc = subprocess.run(_cli("run", str(exp), "--out", str(ro / "res"), "-j", "1",
                                   "--no-progress"), capture_output=True, text=True)
        assert "cannot be created (Read-only file system)" in _one_line_error(proc)
        # An existing results directory whose file system became read-only.
        out = tmpfs("rw", "size=4m") / "res"
        run_experiment(load_experiment(exp), out, progress=False)
        subprocess.run(["mount", "-o", "remount,ro", str(out.parent)], check=True)
        expected = "is not writable (Read-only file system)"
        cmd = _cli("run", str(_exp_file(tmp_path, 3)), "--out", str(out), "-j", "1",
                   "--no-progress")
    else:
        out = tmp_path / "res"
        run_experiment(load_experiment(exp), out, progress=False)
        for d in (out / "tasks", out):
            os.chmod(d, 0o555)
        request.addfinalizer(lambda: [os.chmod(d, 0o755) for d in (out, out / "tasks")])
        expected = "is not writable (Permission denied)"
        cmd = _cli("run", str(_exp_file(tmp_path, 3)), "--out", str(out), "-j", "1",
                   "--no-progress")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert expected in _one_line_error(proc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every committed task still verifies
        assert len(load_results(out)) == 4


def test_full_directory_fails_before_any_task(tmp_path, request, monkeypatch, capsys):
    exp = _exp_file(tmp_path)
    if IS_ROOT:
        full = request.getfixturevalue("tmpfs")("full", "size=256k")
        with open(full / "ballast", "wb") as f:  # leave less than a task needs
            f.write(b"\0" * (shutil.disk_usage(full).free - (16 << 10)))
        out = full / "res"
    else:
        import banditlab.results as results_mod

        out = tmp_path / "res"
        usage = shutil.disk_usage(tmp_path)
        monkeypatch.setattr(results_mod.shutil, "disk_usage",
                            lambda p: usage._replace(free=16 << 10))
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err, err
    assert "KiB free" in err and not (out / "manifest.jsonl").exists()


def _clean_frame(tmp_path, exp):
    run_experiment(exp, tmp_path / "clean", progress=False)
    return load_results(tmp_path / "clean").to_frame()


def _check_stopped_then_resumed(out, exp, err, resume, clean):
    assert len(err.splitlines()) == 1, err
    assert "No space left on device" in err and "committed before them are intact" in err
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # committed tasks verify; no torn manifest line
        partial = load_results(out)
    n = len(partial)
    assert 0 < n < 100, n
    assert not list((out / "tasks").glob(".tmp-*")), "a temporary file was left behind"
    got = partial.to_frame()
    want = clean[clean.task_id.isin(set(partial.entries))].reset_index(drop=True)
    assert got.equals(want)
    resume()
    summary = run_experiment(exp, out, progress=False)
    assert summary.n_skipped == n and summary.n_ran == 100 - n
    assert load_results(out).to_frame().equals(clean)


def test_disk_full_during_a_run_stops_with_one_line_and_keeps_committed_tasks(
        tmp_path, request, capsys):
    """A real small tmpfs (root): the run fills it, stops, and resumes once there is room."""
    if not IS_ROOT:
        pytest.skip("needs a tmpfs (root); the monkeypatched variant below runs everywhere")
    fs = request.getfixturevalue("tmpfs")("small", "size=96k")
    exp_path = _exp_file(tmp_path, 50)
    clean = _clean_frame(tmp_path, load_experiment(exp_path))
    out = fs / "res"
    assert main(["run", str(exp_path), "--out", str(out), "-j", "1", "--no-progress",
                 "--no-plot"]) == 2
    err = capsys.readouterr().err.strip()

    def grow():
        subprocess.run(["mount", "-o", "remount,size=4m", str(fs)], check=True)

    _check_stopped_then_resumed(out, load_experiment(exp_path), err, grow, clean)


def test_disk_full_simulated_in_the_writer(tmp_path, monkeypatch, capsys):
    """The same without root: the task writer raises ENOSPC after a few tasks."""
    exp_path = _exp_file(tmp_path, 50)
    clean = _clean_frame(tmp_path, load_experiment(exp_path))
    out = tmp_path / "res"
    real_write = ResultStore.write_many
    calls = {"n": 0}

    def failing_write(self, results):
        calls["n"] += 1
        if calls["n"] > 1:  # the second work unit's write
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, results)

    monkeypatch.setattr(ResultStore, "write_many", failing_write)
    assert main(["run", str(exp_path), "--out", str(out), "-j", "1", "--no-progress",
                 "--no-plot"]) == 2
    err = capsys.readouterr().err.strip()
    assert "the 25 tasks committed before them are intact" in err  # one unit of 100 / 4
    _check_stopped_then_resumed(out, load_experiment(exp_path), err,
                                lambda: monkeypatch.setattr(ResultStore, "write_many",
                                                            real_write),
                                clean)


def test_results_dir_that_is_a_file(tmp_path):
    exp = load_experiment(_exp_file(tmp_path))
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(BanditlabError, match="exists and is not a directory"):
        run_experiment(exp, target, progress=False)


def test_manifest_append_failure_leaves_no_torn_line(tmp_path, monkeypatch):
    """A manifest append that fails half-way is rolled back to the previous end of file."""
    import banditlab.results as results_mod

    exp = load_experiment(_exp_file(tmp_path))
    run_experiment(exp, tmp_path / "res", progress=False)
    manifest = tmp_path / "res" / "manifest.jsonl"
    before = manifest.read_bytes()
    real_write = os.write

    def half_then_enospc(fd, data):
        if len(data) > 200:
            real_write(fd, bytes(data[:100]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(results_mod.os, "write", half_then_enospc)
    with pytest.raises(OSError):
        ResultStore(tmp_path / "res")._append({"task_id": "x" * 300})
    monkeypatch.undo()
    assert manifest.read_bytes() == before
    assert Path(manifest).read_text().endswith("\n")
