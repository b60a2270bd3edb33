"""Result store: atomic task files, manifest, resume after a crash, corruption detection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from banditlab.experiment import AgentConfig, EnvConfig, Experiment
from banditlab.harness import run_experiment
from banditlab.results import ResultStore, load_results

SLOW_EXPERIMENT = """
name = "killme"
n_seeds = 6
root_seed = 1
run_length = 30000

[[envs]]
id = "banditlab/Bernoulli10-v0"

[[agents]]
id = "UCB1-v0"

[[agents]]
id = "Uniform-v0"
"""


def test_frame_schema_and_values(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")],
                     [AgentConfig("UCB1-v0", {}, "UCB1 (ucb)")],
                     n_seeds=2, run_length=100, checkpoints=[10, 50, 100])
    run_experiment(exp, tmp_path, progress=False)
    res = load_results(tmp_path)
    df = res.to_frame()
    assert list(df.columns) == ["task_id", "run_id", "env_id", "env_label", "agent_id",
                                "agent_label", "seed_index", "t", "metric", "value"]
    assert sorted(df.t.unique()) == [10, 50, 100]
    assert set(df.metric) == {"reward", "expected_reward", "regret/stochastic",
                              "pseudo_regret/stochastic"}
    runs = res.runs_frame()
    assert len(runs) == 2 and set(runs.backend) == {"kernel"}
    assert {"env_seed", "agent_seed", "spawn_keys", "versions", "wall_time_s", "sha256"} <= set(
        runs.columns)
    # regret = comparator - reward, checked row by row
    wide = df.pivot_table(index=["task_id", "t"], columns="metric", values="value")
    np.testing.assert_allclose(wide["regret/stochastic"], 0.8 * wide.index.get_level_values("t")
                               - wide["reward"], atol=1e-9)


def test_corrupted_file_is_detected_and_recomputed(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                     n_seeds=3, run_length=200)
    run_experiment(exp, tmp_path, progress=False)
    before = load_results(tmp_path).to_frame()
    victim = sorted((tmp_path / "tasks").glob("*.parquet"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncate
    with pytest.warns(UserWarning, match="checksum"):
        partial = load_results(tmp_path)
    assert len(partial) == 2
    with pytest.warns(UserWarning, match="checksum"):
        summary = run_experiment(exp, tmp_path, progress=False)
    assert summary.n_ran == 1 and summary.n_skipped == 2
    after = load_results(tmp_path).to_frame()
    assert after.equals(before)


def test_torn_manifest_line_is_ignored(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                     n_seeds=2, run_length=100)
    run_experiment(exp, tmp_path, progress=False)
    with open(tmp_path / "manifest.jsonl", "a") as f:
        f.write('{"task_id": "abc", "status": "o')  # crash mid-append
    assert len(ResultStore(tmp_path).committed()) == 2


def _cli(*args):
    return [sys.executable, "-c", "import sys; from banditlab.cli import main; "
            "sys.exit(main(sys.argv[1:]))", *args]


def test_kill_midway_then_rerun_runs_only_missing_tasks(tmp_path):
    exp_file = tmp_path / "killme.toml"
    exp_file.write_text(SLOW_EXPERIMENT)
    out = tmp_path / "killed"
    cmd = _cli("run", str(exp_file), "--out", str(out), "-j", "1", "--backend", "python",
               "--no-progress", "--no-plot")
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 2:
            break
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed: make tasks slower")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()  # reaps it and closes its pipes
    n_done = len(ResultStore(out).committed())
    assert 2 <= n_done < 12
    rerun = subprocess.run(_cli("run", str(exp_file), "--out", str(out), "-j", "1",
                                "--no-progress", "--no-plot"),
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert f"ran {12 - n_done}, skipped {n_done} already done" in rerun.stdout
    clean = tmp_path / "clean"
    subprocess.run(_cli("run", str(exp_file), "--out", str(clean), "-j", "2", "--no-progress",
                        "--no-plot"), cwd=tmp_path, check=True,
                   capture_output=True)
    # The killed run used the Python loop, the rerun and the clean run the fused loop:
    # the tables are identical all the same.
    assert load_results(out).to_frame().equals(load_results(clean).to_frame())


# --------------------------------------------------------------------------- experiment identity
EDITABLE = """
name = "edited"
n_seeds = 2
root_seed = 4
run_length = 2000
checkpoints = [500, 1000, 2000]

[[envs]]
id = "banditlab/Bernoulli-v0"

[[agents]]
id = "UCB1-v0"
label = "UCB1 (main)"

[[agents]]
id = "Uniform-v0"
"""


def _load(tmp_path, text, name="e.toml"):
    from banditlab.experiment import load_experiment

    path = tmp_path / name
    path.write_text(text)
    return load_experiment(path)


def test_changed_experiment_into_the_same_dir_is_refused_in_one_line(tmp_path, capsys):
    """The edit-and-rerun scenario: a shorter horizon, then a renamed label, into one --out."""
    from banditlab.cli import main

    out = tmp_path / "res"
    exp_file = tmp_path / "e.toml"
    exp_file.write_text(EDITABLE)
    assert main(["run", str(exp_file), "--out", str(out), "-j", "1", "--no-progress",
                 "--no-plot"]) == 0
    before = load_results(out).to_frame()
    capsys.readouterr()
    for edited in (EDITABLE.replace("run_length = 2000", "run_length = 1000")
                   .replace("2000]", "1000]"),
                   EDITABLE.replace('label = "UCB1 (main)"', 'label = "UCB1 (alpha=2)"')):
        exp_file.write_text(edited)
        assert main(["run", str(exp_file), "--out", str(out), "-j", "1", "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "holds results of a different experiment" in err and "--new-run" in err
        # Nothing ran, nothing was deleted, the frame is exactly the old experiment's.
        assert load_results(out).to_frame().equals(before)
        assert not (out / "run-2").exists()
    assert set(before.t) == {500, 1000, 2000}
    assert set(before.agent_label) == {"UCB1 (main)", "Uniform"}


def test_new_run_writes_a_changed_experiment_into_a_fresh_subdirectory(tmp_path):
    out = tmp_path / "res"
    first = _load(tmp_path, EDITABLE)
    run_experiment(first, out, progress=False)
    old = load_results(out).to_frame()
    shorter = _load(tmp_path, EDITABLE.replace("run_length = 2000", "run_length = 1000")
                    .replace("2000]", "1000]"), "f.toml")
    summary = run_experiment(shorter, out, progress=False, new_run=True)
    assert summary.results_dir == out / "run-2" and summary.n_ran == 4
    new = load_results(out / "run-2").to_frame()
    assert new.t.max() == 1000 and new.groupby("run_id").t.max().eq(1000).all()
    assert load_results(out).to_frame().equals(old)  # old results untouched, never mixed
    # The same changed experiment again finds its sub-directory and resumes there.
    again = run_experiment(shorter, out, progress=False, new_run=True)
    assert again.results_dir == out / "run-2" and again.n_ran == 0 and again.n_skipped == 4
    # A third variant gets run-3; the top directory still accepts the original experiment.
    renamed = _load(tmp_path, EDITABLE.replace('label = "UCB1 (main)"',
                                               'label = "UCB1 (renamed)"'), "g.toml")
    assert run_experiment(renamed, out, progress=False, new_run=True).results_dir == (
        out / "run-3")
    assert run_experiment(first, out, progress=False).n_skipped == 4


def test_extending_reuses_and_a_subset_shows_only_its_tasks(tmp_path):
    out = tmp_path / "res"
    base = _load(tmp_path, EDITABLE)
    run_experiment(base, out, progress=False)
    more = _load(tmp_path, EDITABLE.replace("n_seeds = 2", "n_seeds = 3")
                 + '\n[[agents]]\nid = "EpsilonGreedy-v0"\n', "more.toml")
    s = run_experiment(more, out, progress=False)
    assert (s.n_skipped, s.n_ran) == (4, 5)
    assert len(load_results(out)) == 9
    # A subset (fewer seeds) reuses the directory; loading shows the current experiment only.
    fewer = _load(tmp_path, EDITABLE.replace("n_seeds = 2", "n_seeds = 1"), "fewer.toml")
    s = run_experiment(fewer, out, progress=False)
    assert (s.n_skipped, s.n_ran) == (2, 0)
    frame = load_results(out).to_frame()
    assert set(frame.seed_index) == {0} and set(frame.agent_label) == {"UCB1 (main)", "Uniform"}
    assert len(load_results(out, all_tasks=True)) == 9
    records = ResultStore(out).experiments()
    assert [r["generation"] for r in records] == [1, 2, 3]
    assert [r["n_tasks"] for r in records] == [4, 9, 2]
    import json

    lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert {e["experiment"] for e in lines} == {records[0]["experiment"],
                                                records[1]["experiment"]}


def test_plot_and_rerun_follow_the_current_experiment(tmp_path, capsys):
    from banditlab.cli import main

    out = tmp_path / "res"
    run_experiment(_load(tmp_path, EDITABLE), out, progress=False)
    old_ids = set(load_results(out).entries)
    fewer = _load(tmp_path, EDITABLE.replace("n_seeds = 2", "n_seeds = 1"), "fewer.toml")
    run_experiment(fewer, out, progress=False)
    gone = sorted(old_ids - set(load_results(out).entries))[0]
    capsys.readouterr()
    assert main(["rerun", gone[:12], "--results", str(out)]) == 2
    assert "earlier experiment" in capsys.readouterr().err
    assert main(["rerun", gone[:12], "--results", str(out), "--all"]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["plot", str(out), "--all", "--out", str(tmp_path / "all.png")]) == 0


def test_legacy_directory_without_experiment_records_still_loads(tmp_path):
    out = tmp_path / "res"
    exp = _load(tmp_path, EDITABLE)
    run_experiment(exp, out, progress=False)
    (out / "experiments.jsonl").unlink()
    assert len(load_results(out)) == 4  # everything counts as current
    s = run_experiment(exp, out, progress=False)
    assert s.n_skipped == 4
    changed = _load(tmp_path, EDITABLE.replace("root_seed = 4", "root_seed = 5"), "f.toml")
    from banditlab.core import BanditlabError

    with pytest.raises(BanditlabError, match="different experiment"):
        run_experiment(changed, out, progress=False)


# --------------------------------------------------------------------------- small but real
def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                         n_seeds=1, run_length=50)
        run_experiment(exp, tmp_path / "a", progress=False)
        os.umask(0o077)
        run_experiment(exp, tmp_path / "b", progress=False)
    finally:
        os.umask(old)
    for root, mode in ((tmp_path / "a", 0o644), (tmp_path / "b", 0o600)):
        files = [root / "manifest.jsonl", root / "experiments.jsonl",
                 *(root / "tasks").glob("*.parquet")]
        assert len(files) == 3
        for f in files:
            assert f.stat().st_mode & 0o777 == mode, (f, oct(f.stat().st_mode))


def test_torn_manifest_line_in_the_middle_is_named_in_a_warning(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                     n_seeds=3, run_length=100)
    run_experiment(exp, tmp_path, progress=False)
    manifest = tmp_path / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match=r"manifest.jsonl line 2 is torn"):
        assert len(load_results(tmp_path)) == 2
    # A torn *last* line (a crash mid-append) is ignored quietly, and cut by the next append.
    manifest.write_text("\n".join(lines[:1] + lines[2:]) + '\n{"task_id": "x", "sta')
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(ResultStore(tmp_path).committed()) == 2
    with pytest.warns(UserWarning, match="incomplete line"):
        summary = run_experiment(exp, tmp_path, progress=False)
    assert summary.n_ran == 1
    assert all(line.startswith("{") and line.endswith("}")
               for line in manifest.read_text().splitlines())


def test_missing_results_directory_messages(tmp_path, capsys):
    from banditlab.cli import main
    from banditlab.core import BanditlabError

    missing = tmp_path / "nope"
    with pytest.raises(BanditlabError, match="results_dir: .* does not exist"):
        load_results(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BanditlabError, match="holds no banditlab results"):
        load_results(tmp_path / "empty")
    for argv in (["plot", str(missing)], ["rerun", "abc", "--results", str(missing)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "does not exist" in err, err


def test_manifest_records_imports(tmp_path):
    import json

    exp = Experiment.from_dict({"envs": [{"id": "banditlab/Bernoulli-v0"}],
                                "agents": [{"id": "testing/Sleepy-v0",
                                            "kwargs": {"sleep_s": 0.0}}],
                                "n_seeds": 1, "run_length": 30,
                                "imports": ["banditlab.testing.fault_injection"]})
    run_experiment(exp, tmp_path, progress=False)
    (entry,) = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert entry["imports"] == ["banditlab.testing.fault_injection"]
    assert ResultStore(tmp_path).experiments()[0]["imports"] == entry["imports"]


def _start_cli_run(exp_file, out, cwd):
    return subprocess.Popen(_cli("run", str(exp_file), "--out", str(out), "-j", "1",
                                 "--no-progress", "--no-plot"),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_runs_into_one_directory_do_no_double_work(tmp_path):
    exp_file = tmp_path / "slow.toml"
    exp_file.write_text("""
name = "sleepy"
n_seeds = 6
run_length = 3000
imports = ["banditlab.testing.fault_injection"]
[[envs]]
id = "banditlab/Bernoulli-v0"
[[agents]]
id = "testing/Sleepy-v0"
kwargs = { sleep_s = 0.05, every = 100 }
""")  # 1.5 s per task: the second run starts while the first is busy
    out = tmp_path / "res"
    first = _start_cli_run(exp_file, out, tmp_path)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 120
    while not (manifest.exists() and manifest.read_text().count("\n") >= 1):
        assert first.poll() is None and time.time() < deadline, first.communicate()
        time.sleep(0.05)
    second = _start_cli_run(exp_file, out, tmp_path)  # while the first holds the lock
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2 and len(err2.strip().splitlines()) == 1, err2
    assert "another banditlab run (pid" in err2 and "is writing to" in err2
    import json

    ids = [json.loads(x)["task_id"] for x in manifest.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 6  # every task exactly once
    third = subprocess.run(_cli("run", str(exp_file), "--out", str(out), "-j", "1",
                                "--no-progress", "--no-plot"),
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "ran 0, skipped 6" in third.stdout  # the lock was released


# --------------------------------------------------------------------------- batched files
def _reference_frame(results):
    """The tidy frame computed the plain way: read every row, merge metadata, sort."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    from banditlab.results import FRAME_COLUMNS

    schema = pa.schema([("task_id", pa.string()), ("t", pa.int64()), ("metric", pa.string()),
                        ("value", pa.float64())])
    parts = []
    for tid, e in results.entries.items():  # each task's rows from the file it is committed to
        rows = ds.dataset(str(results.root / e["file"]), format="parquet",
                          schema=schema).to_table().to_pandas()
        parts.append(rows[rows.task_id == tid])
    frame = pd.concat(parts, ignore_index=True)
    meta = pd.DataFrame([{"task_id": tid, "run_id": e["run_id"], "env_id": e["env_id"],
                          "env_label": e["env_label"], "agent_id": e["agent_id"],
                          "agent_label": e["agent_label"], "seed_index": int(e["seed_index"])}
                         for tid, e in results.entries.items()])
    frame = frame.merge(meta, on="task_id", how="left")[list(FRAME_COLUMNS)]
    return frame.sort_values(["env_label", "agent_label", "seed_index", "metric", "t",
                              "task_id"], kind="stable").reset_index(drop=True)


def _fake_result(task_id: str, seed_index: int, scale: float, label: str = "a"):
    from banditlab.results import RunResult

    t = np.array([5, 10, 20], dtype=np.int64)
    return RunResult(
        task_id=task_id, run_id=f"e__{label}__{seed_index}", env_id="banditlab/Bernoulli-v0",
        env_kwargs={}, env_label="e", agent_id="UCB1-v0", agent_label=label, agent_params={},
        seed_index=seed_index, root_seed=0, spawn_keys={}, env_seed=0, agent_seed=0,
        run_kind="continuing", run_length=20, t=t,
        curves={"reward": scale * t.astype(float), "regret/x": scale * np.sqrt(t)},
        backend="kernel", wall_time_s=0.0)


def test_a_work_unit_is_one_file_and_the_frame_equals_the_reference(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")],
                     [AgentConfig("UCB1-v0"), AgentConfig("Uniform-v0")], n_seeds=6,
                     run_length=100)
    run_experiment(exp, tmp_path, progress=False, n_jobs=1)
    res = load_results(tmp_path)
    files = {e["file"] for e in res.entries.values()}
    assert len(res) == 12 and len(files) == 4  # 12 tasks in units of 3 (4 units per worker)
    assert all(f.startswith("tasks/batch-") for f in files)
    assert res.to_frame().equals(_reference_frame(res))


def test_frame_of_rerun_tasks_and_shared_labels_equals_the_reference(tmp_path):
    store = ResultStore(tmp_path)
    first = [_fake_result(f"{i:064x}", i, 1.0) for i in range(4)]
    store.write_many(first)
    store.write_many([_fake_result(f"{1:064x}", 1, 3.0)])  # task 1 rerun: a newer file wins
    # Two tasks sharing (env, agent, seed) labels: their rows interleave in the sorted frame.
    store.write_many([_fake_result(f"{9:064x}", 2, 5.0), _fake_result(f"{8:064x}", 7, 2.0,
                                                                         label="b")])
    res = load_results(tmp_path)
    assert len(res) == 6 and len(res.superseded_files) == 1
    frame = res.to_frame()
    assert frame.equals(_reference_frame(res))
    one = frame[frame.task_id == f"{1:064x}"]
    assert len(one) == 6 and one[one.metric == "reward"].value.tolist() == [15.0, 30.0, 60.0]
    # Corrupting the shared file drops exactly the tasks committed to it.
    victim = tmp_path / res.entries[f"{0:064x}"]["file"]
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.warns(UserWarning, match="checksum"):
        left = load_results(tmp_path)
    assert sorted(left.entries) == sorted([f"{1:064x}", f"{9:064x}", f"{8:064x}"])
    assert left.to_frame().equals(_reference_frame(left))


def test_compaction_keeps_the_frame_and_later_runs_extend_it(tmp_path):
    """Compaction merges the unit files, commits with one line, and changes no row."""
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")],
                     [AgentConfig("UCB1-v0"), AgentConfig("Uniform-v0")], n_seeds=6,
                     run_length=100)
    run_experiment(exp, tmp_path, progress=False, n_jobs=1)  # 4 files: below the threshold
    before = load_results(tmp_path).to_frame()
    store = ResultStore(tmp_path)
    assert store.compact() == 0 and len(list((tmp_path / "tasks").iterdir())) == 4
    assert store.compact(min_files=2) == 4
    files = sorted(p.name for p in (tmp_path / "tasks").iterdir())
    assert len(files) == 1 and files[0].startswith("compact-")
    lines = (tmp_path / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 13 and '"status": "compacted"' in lines[-1]
    res = load_results(tmp_path)
    assert {e["file"] for e in res.entries.values()} == {f"tasks/{files[0]}"}
    assert res.to_frame().equals(before)
    # An extension runs only the new seeds, and the frame equals a fresh run's.
    bigger = Experiment(exp.envs, exp.agents, n_seeds=8, run_length=100)
    assert run_experiment(bigger, tmp_path, progress=False, n_jobs=1).n_ran == 4
    fresh = tmp_path / "fresh"
    run_experiment(bigger, fresh, progress=False, n_jobs=1)
    assert load_results(tmp_path).to_frame().equals(load_results(fresh).to_frame())
    # A corrupted merged file drops its tasks (recomputed by the next run), like any file.
    merged = tmp_path / "tasks" / files[0]
    merged.write_bytes(merged.read_bytes()[:200])
    with pytest.warns(UserWarning, match="checksum"):
        assert len(load_results(tmp_path)) == 4
    with pytest.warns(UserWarning, match="checksum"):
        assert run_experiment(bigger, tmp_path, progress=False, n_jobs=1).n_ran == 12


def test_a_crash_before_the_compaction_line_leaves_the_results_as_they_were(tmp_path,
                                                                             monkeypatch):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                     n_seeds=8, run_length=50)
    run_experiment(exp, tmp_path, progress=False, n_jobs=1)
    before = load_results(tmp_path).to_frame()
    store = ResultStore(tmp_path)

    def crash(entry):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_append", crash)
    with pytest.raises(OSError):
        store.compact(min_files=2)
    assert len(list((tmp_path / "tasks").glob("batch-*.parquet"))) == 4  # nothing deleted
    assert len(list((tmp_path / "tasks").glob("compact-*.parquet"))) == 1  # unlisted
    assert load_results(tmp_path).to_frame().equals(before)
    # The next compaction removes what no line names, then merges the four files.
    (tmp_path / "tasks" / ".tmp-1-x.parquet").write_bytes(b"torn")
    assert ResultStore(tmp_path).compact(min_files=100) == 0  # too few: nothing read
    assert len(list((tmp_path / "tasks").iterdir())) == 6
    assert ResultStore(tmp_path).compact(min_files=2) == 4
    assert [p.name[:8] for p in (tmp_path / "tasks").iterdir()] == ["compact-"]
    assert load_results(tmp_path).to_frame().equals(before)


def test_a_finished_sweep_compacts_its_directory(tmp_path, monkeypatch):
    import banditlab.results as results

    monkeypatch.setattr(results.ResultStore.compact, "__defaults__", (3,))
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0")],
                     n_seeds=8, run_length=50)
    run_experiment(exp, tmp_path, progress=False, n_jobs=1)
    assert [p.name[:8] for p in (tmp_path / "tasks").iterdir()] == ["compact-"]
    assert len(load_results(tmp_path)) == 8
