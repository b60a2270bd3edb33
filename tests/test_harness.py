"""Harness: parity of the fused and Gymnasium loops, seeding, checkpoints, parallel = serial."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from banditlab.core import BanditlabError
from banditlab.experiment import AgentConfig, EnvConfig, Experiment, default_checkpoints
from banditlab.harness import run, run_experiment
from banditlab.registry import make_agent, make_env
from banditlab.results import ResultStore, load_results
from banditlab.seeding import task_seeds
from banditlab.testing.parity import build_agent, check_parity_coverage, parity_plan, small_env

_small_env = small_env
PLAN = parity_plan()
KERNEL_PAIRS = PLAN.pairs


def test_every_registered_id_builds_with_defaults():
    assert not PLAN.broken, f"registered ids that cannot be built with defaults: {PLAN.broken}"


def test_parity_coverage_per_family(capsys):
    with capsys.disabled():
        print("\nfused-vs-Gymnasium parity pairs per family:\n" + PLAN.report())
    check_parity_coverage(PLAN)
    counts = PLAN.counts()
    # The families with kernel envs today; each must be paired with its own agents.
    for fam in ("classic", "lsd", "sea", "amdp", "advmdp", "sor"):
        assert counts[fam] > 0, counts
    # Every classic kernel agent runs on every classic kernel env whose spaces it accepts,
    # and the only skips are space mismatches the agent itself reports.
    classic_envs = [e for e, f in PLAN.kernel_envs.items() if f == "classic"]
    classic_agents = [a for a, f in PLAN.kernel_agents.items() if f == "classic"]
    covered = {(e, a) for e, a in PLAN.pairs}
    skipped = {(e, a) for e, a, _ in PLAN.skipped}
    for e in classic_envs:
        for a in classic_agents:
            assert (e, a) in covered or (e, a) in skipped, (e, a)
    # Skips are space mismatches the agent reports, or an instance-bound oracle agent's
    # registered instance not fitting (those agents are covered through oracle: pairs).
    assert all(a in PLAN.instance_bound
               or reason.split(":")[0] in ("action_space", "observation_space", "simulator")
               for _, a, reason in PLAN.skipped), PLAN.skipped
    # Every kernel env is paired with each of its oracle's kernel benchmark policies.
    assert ("banditlab/RiverSwim-v0", "oracle:optimal") in covered
    # Episodic kernel envs (adversarial linear MDPs) with their learners and benchmarks.
    for agent in ("LogBarrierPO-v1", "DilatedBonusPO-v1", "AdvMDPUniform-v0",
                  "oracle:best_fixed_hindsight"):
        assert ("banditlab/AdvLinearQMDP-v0", agent) in covered, agent
    assert ("banditlab/LSDLaforgue5-v1", "oracle:lp_rounding") in covered
    # Own-family pairs the old default-family layout never ran.
    for pair in [("banditlab/SEALogistic-v0", "OOMD-v0"), ("banditlab/RiverSwim-v0", "UCRL2-v1"),
                 ("banditlab/LSDLaforgue2-v1", "LSDUCBGreedy-v0")]:
        assert pair in covered, pair


def test_parity_coverage_fails_when_a_family_loses_its_pairs():
    """The coverage check is not vacuous: mislabel a family's envs and it fails."""
    import copy

    plan = copy.deepcopy(PLAN)
    plan.kernel_envs = {e: ("classic" if f == "sea" else f) for e, f in plan.kernel_envs.items()}
    plan.pairs = [p for p in plan.pairs if plan.pair_family[p] != "sea"]
    plan.pair_family = {p: f for p, f in plan.pair_family.items() if f != "sea"}
    plan.kernel_envs["banditlab/SEAQuadratic-v0"] = "sea"  # one sea env left, with no pair
    with pytest.raises(AssertionError, match="family 'sea'"):
        check_parity_coverage(plan)


def test_there_are_kernel_pairs():
    assert ("banditlab/Bernoulli10-v0", "UCB1-v0") in KERNEL_PAIRS


@pytest.mark.parametrize(("env_id", "agent_id"), KERNEL_PAIRS,
                         ids=[f"{e}|{a}" for e, a in KERNEL_PAIRS])
def test_fused_path_equals_gymnasium_path(env_id, agent_id):
    results = {}
    for backend in ("python", "kernel"):
        env = _small_env(env_id, horizon=300)
        results[backend] = run(env, build_agent(env, agent_id), seed=11, backend=backend)
    py, fused = results["python"], results["kernel"]
    assert py.backend == "python" and fused.backend == "kernel"
    assert sorted(py.curves) == sorted(fused.curves)
    for metric in py.curves:
        np.testing.assert_array_equal(py.curves[metric], fused.curves[metric], err_msg=metric)


def _covering_pairs(pairs):
    """A sub-list of ``pairs`` in which every env id and every agent id appears."""
    seen_env, seen_agent, out = set(), set(), []
    for env_id, agent_id in pairs:
        if env_id not in seen_env or agent_id not in seen_agent:
            out.append((env_id, agent_id))
            seen_env.add(env_id)
            seen_agent.add(agent_id)
    return out


REUSE_PAIRS = _covering_pairs(KERNEL_PAIRS)


def test_reuse_pairs_cover_every_kernel_env_and_agent():
    assert {e for e, _ in REUSE_PAIRS} == {e for e, _ in KERNEL_PAIRS}
    assert {a for _, a in REUSE_PAIRS} == {a for _, a in KERNEL_PAIRS}
    print(f"\nreused-object runs checked on {len(REUSE_PAIRS)} of {len(KERNEL_PAIRS)} pairs")


@pytest.mark.parametrize(("env_id", "agent_id"), REUSE_PAIRS,
                         ids=[f"{e}|{a}" for e, a in REUSE_PAIRS])
def test_reused_env_and_agent_give_the_results_of_fresh_ones(env_id, agent_id):
    """A work unit runs a pair's seeds on one env and one agent (execution.run_unit)."""
    env = _small_env(env_id, horizon=200)
    agent = build_agent(env, agent_id)
    for seed in (3, 4, 3):
        reused = run(env, agent, seed=seed, backend="kernel")
        fresh_env = _small_env(env_id, horizon=200)
        fresh = run(fresh_env, build_agent(fresh_env, agent_id), seed=seed, backend="kernel")
        assert sorted(reused.curves) == sorted(fresh.curves)
        for metric in fresh.curves:
            np.testing.assert_array_equal(reused.curves[metric], fresh.curves[metric],
                                          err_msg=f"seed {seed}: {metric}")


def test_auto_backend_picks_kernel_and_python_for_python_agents():
    r = run(_small_env("banditlab/Bernoulli-v0"), "UCB1-v0", seed=0)
    assert r.backend == "kernel"


def test_regret_is_exact_against_direct_computation():
    env = make_env("banditlab/Bernoulli-v0", means=[0.3, 0.6, 0.5], horizon=500)
    r = run(env, "Uniform-v0", seed=4, backend="python", checkpoints=[100, 500])
    # Recompute by hand with the same seeds: pseudo-regret = sum(0.6 - means[a_t]).
    from banditlab.seeding import run_seeds

    env_seed, agent_seed = run_seeds(4)
    env2 = make_env("banditlab/Bernoulli-v0", means=[0.3, 0.6, 0.5], horizon=500)
    agent = make_agent("Uniform-v0")
    env2.reset(seed=env_seed)
    agent.reset(env2.action_space, env2.observation_space, seed=agent_seed)
    means = np.array([0.3, 0.6, 0.5])
    gaps, rewards = [], []
    for _ in range(500):
        a = agent.act(0)
        _, rew, _, _, _ = env2.step(a)
        agent.update(0, a, rew, 0, False)
        gaps.append(0.6 - means[a])
        rewards.append(rew)
    assert r.curves["pseudo_regret/stochastic"][-1] == pytest.approx(sum(gaps), abs=1e-9)
    assert r.curves["reward"][0] == sum(rewards[:100])
    assert r.curves["regret/stochastic"][-1] == pytest.approx(0.6 * 500 - sum(rewards), abs=1e-9)


def test_default_checkpoints_union_of_log_and_linear():
    cps = default_checkpoints(10_000)
    assert cps[0] == 1 and cps[-1] == 10_000
    assert np.all(np.diff(cps) > 0)
    for v in (1, 2, 5, 12, 25, 170, 9000):
        assert v in cps
    assert all(v in cps for v in range(50, 10_001, 50))
    assert len(cps) < 300


def test_env_seed_is_independent_of_agent_common_random_numbers():
    env_cfg = {"id": "banditlab/Bernoulli-v0", "kwargs": {}}
    s1 = task_seeds(0, env_cfg, {"id": "UCB1-v0", "kwargs": {}}, 3)
    s2 = task_seeds(0, env_cfg, {"id": "Uniform-v0", "kwargs": {}}, 3)
    s3 = task_seeds(0, env_cfg, {"id": "UCB1-v0", "kwargs": {}}, 4)
    assert s1[0] == s2[0]  # same env noise for every agent in run 3
    assert s1[1] != s2[1]  # independent agent streams
    assert s1[0] != s3[0]  # a new run index draws new env noise


def test_seeds_are_stable_across_processes():
    code = (
        "from banditlab.seeding import task_seeds; import json;"
        "print(json.dumps(task_seeds(7, {'id': 'banditlab/Bernoulli-v0', 'kwargs': {'horizon': 5}},"
        " {'id': 'UCB1-v0', 'kwargs': {'alpha': 2.0}}, 2)[:2]))"
    )
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": str(h), "PATH": ""}).stdout
            for h in (1, 2)}
    assert len(outs) == 1
    here = task_seeds(7, {"id": "banditlab/Bernoulli-v0", "kwargs": {"horizon": 5}},
                      {"id": "UCB1-v0", "kwargs": {"alpha": 2.0}}, 2)[:2]
    assert json.loads(outs.pop()) == list(here)


def test_common_random_numbers_across_agents_in_an_experiment(tmp_path):
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0", {"means": [0.5, 0.5]})],
                     [AgentConfig("UCB1-v0"), AgentConfig("Uniform-v0")], n_seeds=2,
                     run_length=200)
    run_experiment(exp, tmp_path, progress=False)
    df = load_results(tmp_path).to_frame()
    # Both arms have mean 0.5 and one uniform per step decides the reward whatever the arm:
    # the two agents' reward sequences are identical in each run.
    rew = df[df.metric == "reward"].pivot_table(index=["seed_index", "t"], columns="agent_label",
                                                values="value")
    ucb, uniform = (a.display for a in exp.agents)  # the agents' own labels
    np.testing.assert_array_equal(rew[ucb].to_numpy(), rew[uniform].to_numpy())
    assert not np.array_equal(rew.xs(0, level="seed_index")[ucb].to_numpy(),
                              rew.xs(1, level="seed_index")[ucb].to_numpy())


def _quick_experiment(**kw):
    base = dict(n_seeds=3, run_length=400, root_seed=5)
    base.update(kw)
    return Experiment([EnvConfig("banditlab/Bernoulli10-v0"), EnvConfig("banditlab/Gaussian-v0")],
                      [AgentConfig("UCB1-v0"), AgentConfig("Uniform-v0")], **base)


def test_process_backend_equals_serial(tmp_path):
    exp = _quick_experiment()
    run_experiment(exp, tmp_path / "serial", n_jobs=1, progress=False)
    run_experiment(exp, tmp_path / "procs", n_jobs=2, progress=False)
    a = load_results(tmp_path / "serial").to_frame()
    b = load_results(tmp_path / "procs").to_frame()
    assert len(a) == len(b) > 0
    assert a.equals(b)


def _sleepy_tasks(n_seeds: int, sleep_s: float):
    exp = Experiment.from_dict({
        "name": "sleepy", "n_seeds": n_seeds, "run_length": 100,
        "imports": ["banditlab.testing.fault_injection"],
        "envs": [{"id": "banditlab/Bernoulli-v0"}],
        "agents": [{"id": "testing/Sleepy-v0", "kwargs": {"sleep_s": sleep_s, "every": 100}}],
    })
    return exp.tasks()


def _collect(tasks, **kw):
    from banditlab.execution import execute_tasks

    out = {}

    def commit(outcomes):
        for status, payload in outcomes:
            assert status == "ok", payload
            assert payload.task_id not in out, "a task was committed twice"
            out[payload.task_id] = payload.curves

    executor = execute_tasks(tasks, commit, **kw)
    return out, executor


def test_workers_run_units_and_give_the_serial_results():
    """With workers started at once (the suite's setting), they take units; every task is
    committed exactly once (backup copies included) and equals the serial result."""
    tasks = _sleepy_tasks(12, 0.25)
    serial, _ = _collect(tasks, n_jobs=1)
    parallel, executor = _collect(tasks, n_jobs=2)
    assert executor.units_in_workers > 0
    assert sorted(serial) == sorted(parallel) == sorted(t.task_id for t in tasks)
    for tid, curves in serial.items():
        for metric, values in curves.items():
            np.testing.assert_array_equal(values, parallel[tid][metric])


def test_workers_write_their_units_and_the_caller_commits_lines(tmp_path):
    """-j 2 through run_experiment: workers write their units' files and send back manifest
    lines; the frame equals the serial one, every task is committed once, and after a
    compaction no task file is left that no committed task names (a backup copy that lost
    is removed when it ends, or by the compaction if its worker was stopped first)."""
    import json

    from banditlab.execution import ProcessExecutor

    exp = Experiment.from_dict({
        "name": "sleepy", "n_seeds": 12, "run_length": 100,
        "imports": ["banditlab.testing.fault_injection"],
        "envs": [{"id": "banditlab/Bernoulli-v0"}],
        "agents": [{"id": "testing/Sleepy-v0", "kwargs": {"sleep_s": 0.25, "every": 100}},
                   {"id": "UCB1-v0"}],
    })
    written = []
    real = ProcessExecutor.__call__

    def spy(self, units, backend, commit):
        def counting(outcomes):
            written.extend(p.task_id for st, p in outcomes if st == "written")
            commit(outcomes)
        return real(self, units, backend, counting)

    ProcessExecutor.__call__, saved = spy, ProcessExecutor.__call__
    try:
        run_experiment(exp, tmp_path / "p", n_jobs=2, progress=False)
    finally:
        ProcessExecutor.__call__ = saved
    run_experiment(exp, tmp_path / "s", n_jobs=1, progress=False)
    assert len(written) > 0, "no unit was written by a worker"
    lines = [json.loads(x) for x in (tmp_path / "p" / "manifest.jsonl").read_text().splitlines()]
    ok = [e for e in lines if e.get("status") == "ok"]
    assert len(ok) == len({e["task_id"] for e in ok}) == 24
    named = {Path(e["file"]).name for e in ok}
    assert named <= {f.name for f in (tmp_path / "p" / "tasks").iterdir()}
    assert ResultStore(tmp_path / "p").compact(min_files=2) == len(named)
    assert [f.name[:8] for f in (tmp_path / "p" / "tasks").iterdir()] == ["compact-"]
    a = load_results(tmp_path / "p").to_frame().sort_values(["task_id", "metric", "t"])
    b = load_results(tmp_path / "s").to_frame().sort_values(["task_id", "metric", "t"])
    assert a.reset_index(drop=True).equals(b.reset_index(drop=True))


def test_a_prestarted_sweep_starts_workers_without_the_delay(monkeypatch):
    """With the server started with the sweep, workers start as soon as it is ready, not
    after POOL_START_DELAY_S (set to an hour here): a 4-second sweep gets worker help."""
    from banditlab.execution import ProcessExecutor

    monkeypatch.setenv("BANDITLAB_POOL_START_DELAY", "3600")
    monkeypatch.setattr(ProcessExecutor, "_pools", {})
    tasks = _sleepy_tasks(16, 0.25)
    try:
        parallel, executor = _collect(tasks, n_jobs=2)
        assert len(parallel) == 16 and executor.units_in_workers >= 1
    finally:
        for pool in list(ProcessExecutor._pools.values()):
            ProcessExecutor(2)._discard(pool)


def test_a_short_sweep_never_starts_workers(monkeypatch):
    """A sweep expected to be short (``prestart=False``, what run_experiment passes when
    the experiment's [cost] says so) starts its server and workers only after a second of
    work: a shorter one with -j 2 runs like -j 1, no process started."""
    from banditlab.execution import ProcessExecutor

    calls = []
    monkeypatch.delenv("BANDITLAB_POOL_START_DELAY")
    monkeypatch.setattr(ProcessExecutor, "_pools", {})
    monkeypatch.setattr(ProcessExecutor, "start_server", lambda self: calls.append(1))
    tasks = _sleepy_tasks(4, 0.01)
    parallel, executor = _collect(tasks, n_jobs=2, prestart=False)
    assert len(parallel) == 4 and executor.units_in_workers == 0
    assert ProcessExecutor._pools == {} and executor.worker_pids() == [] and calls == []


@pytest.mark.parametrize(("cost", "started"), [
    ({}, True),  # no estimate: start with the sweep
    ({"rounds_per_s": 1e9, "task_s": 0.001}, False),  # 12 * (0.001 + 400 / 1e9) s < 1 s
    ({"rounds_per_s": 100.0, "task_s": 0.0}, True),  # 12 * 400 / 100 = 48 s >= 1 s
])
def test_the_server_starts_with_a_sweep_only_when_cost_says_it_is_long(tmp_path, monkeypatch,
                                                                      cost, started):
    from banditlab import harness
    from banditlab.execution import ProcessExecutor, SerialExecutor

    calls, passed = [], []
    monkeypatch.setenv("BANDITLAB_POOL_START_DELAY", "1.0")  # what the decision compares with
    monkeypatch.setattr(ProcessExecutor, "start_server", lambda self: calls.append(self.n_workers))

    def serial(todo, commit, prestart, **kw):  # what the executor is told; tasks run here
        passed.append(prestart)
        SerialExecutor()([[t] for t in todo], "auto", commit)

    monkeypatch.setattr(harness, "execute_tasks", serial)
    exp = _quick_experiment()
    exp.cost = cost
    assert exp.estimated_seconds() == (
        None if not cost else 12 * (cost["task_s"] + exp.run_length / cost["rounds_per_s"]))
    summary = run_experiment(exp, tmp_path, n_jobs=2, progress=False)
    assert summary.n_ran == 12
    assert calls == ([2] if started else []) and passed == [started]


def test_an_experiment_file_carries_its_cost_table_for_the_estimate():
    from banditlab.experiment import find_experiment, load_experiment

    exp = load_experiment(find_experiment("quickstart"))  # [cost]: 9.6e6 rounds/s, 0.006 s per task
    assert exp.cost == {"rounds_per_s": 9.6e6, "task_s": 0.006}
    assert exp.estimated_seconds() == pytest.approx(16 * (0.006 + 20000 / 9.6e6))


def test_python_backend_experiment_equals_kernel_backend(tmp_path):
    exp = _quick_experiment(n_seeds=2)
    run_experiment(exp, tmp_path / "k", backend="kernel", progress=False)
    run_experiment(exp, tmp_path / "p", backend="python", progress=False)
    assert load_results(tmp_path / "k").to_frame().equals(load_results(tmp_path / "p").to_frame())


def test_rerun_runs_only_missing_tasks(tmp_path):
    exp = _quick_experiment()
    first = run_experiment(exp, tmp_path, progress=False)
    assert first.n_ran == 12 and first.n_skipped == 0
    second = run_experiment(exp, tmp_path, progress=False)
    assert second.n_ran == 0 and second.n_skipped == 12
    bigger = _quick_experiment(n_seeds=4)
    third = run_experiment(bigger, tmp_path, progress=False)
    assert third.n_ran == 4 and third.n_skipped == 12


def test_run_rejects_bad_arguments():
    with pytest.raises(BanditlabError, match="backend"):
        run("banditlab/Bernoulli-v0", "UCB1-v0", backend="gpu")
    with pytest.raises(BanditlabError, match="run_length"):
        run("banditlab/Bernoulli-v0", "UCB1-v0", run_length=10**9)
    with pytest.raises(BanditlabError, match="run_length"):
        run("banditlab/Bernoulli-v0", "UCB1-v0", run_length=0)
    with pytest.raises(BanditlabError, match="seed"):
        run("banditlab/Bernoulli-v0", "UCB1-v0", seed=-1)
    with pytest.raises(BanditlabError, match="checkpoints"):
        run("banditlab/Bernoulli-v0", "UCB1-v0", checkpoints=[0, 5])


# --------------------------------------------------------------------------- comparators
def test_checkpoint_layout_names_every_entry():
    from banditlab.core import CheckpointLayout, EnvKernel

    layout = CheckpointLayout(("static", "dynamic"), ("loss", "variance"))
    assert len(layout) == 6
    assert layout.names() == ("realised/static", "expected/static", "realised/dynamic",
                              "expected/dynamic", "loss", "variance")
    assert [layout.realised("static"), layout.expected("static")] == [0, 1]
    assert [layout.realised("dynamic"), layout.expected("dynamic")] == [2, 3]
    assert [layout.extra("loss"), layout.extra("variance")] == [4, 5]
    assert layout.has_comparator("static") and not layout.has_comparator("stochastic")
    with pytest.raises(KeyError, match="stochastic"):
        layout.realised("stochastic")
    with pytest.raises(KeyError, match="regret"):
        layout.extra("regret")
    k = EnvKernel((), None, None, None, None, ("alpha/opt",), ("x",))
    assert k.layout().names() == ("realised/alpha/opt", "expected/alpha/opt", "x")


@pytest.mark.parametrize("env_id", sorted(PLAN.kernel_envs))
def test_kernel_checkpoint_agrees_with_the_oracle(env_id):
    """The harness reads a kernel env's comparators from ``EnvKernel.checkpoint`` only; the
    oracle's ``comparator`` (used by checkers and by users) must give the same values."""
    env = _small_env(env_id, horizon=60).unwrapped
    env.reset(seed=5)
    env.action_space.seed(0)
    layout = env.kernel.layout()
    for t in range(1, 61):
        if env.step(env.action_space.sample())[2]:  # episodic: continue the run
            env.reset()
        if t in (1, 17, 60):
            ck = env.kernel.checkpoint(env.state_, env.kernel.params)
            assert len(ck) == len(layout)
            for kind in layout.comparator_kinds:
                real, exp = env.oracle.comparator(kind, t)
                assert ck[layout.realised(kind)] == real, (kind, t)
                if kind != env.oracle.primary_kind:
                    assert ck[layout.expected(kind)] == exp, (kind, t)


def test_python_path_of_a_kernel_env_reads_the_kernel_checkpoint(monkeypatch):
    env = _small_env("banditlab/AdversarialBandit-v0", horizon=200)
    reference = run(env, "Exp3-v0", seed=2, backend="python", checkpoints=[50, 200])

    def refuse(self, kind, t):
        raise AssertionError("oracle.comparator was called for a kernel env")

    monkeypatch.setattr(type(env.unwrapped.oracle), "comparator", refuse)
    for backend in ("python", "kernel"):
        env = _small_env("banditlab/AdversarialBandit-v0", horizon=200)
        r = run(env, "Exp3-v0", seed=2, backend=backend, checkpoints=[50, 200])
        for metric, curve in reference.curves.items():
            np.testing.assert_array_equal(curve, r.curves[metric], err_msg=metric)


# --------------------------------------------------------------------------- protocol
def test_optional_protocol_members_have_declared_defaults():
    from banditlab.core import Agent, KernelEnv, Oracle

    agent = Agent()
    assert agent.diagnostics() == {} and agent.policy_table() is None
    assert agent.registry_id is None
    oracle = Oracle()
    assert dict(oracle.run_totals()) == {} and oracle.policy_expected_reward(None) is None
    assert KernelEnv.simulator is None
    # A registered agent records its id; runs are labelled with it.
    assert make_agent("UCB1-v0").registry_id == "UCB1-v0"
    r = run(_small_env("banditlab/Bernoulli-v0", horizon=20), "UCB1-v0", checkpoints=[20])
    assert r.agent_id == "UCB1-v0" and r.totals == {}


# --------------------------------------------------------------------------- checked up front
def test_plain_gymnasium_id_gets_a_one_line_error(tmp_path, capsys):
    from banditlab.cli import main

    with pytest.raises(BanditlabError, match="'CartPole-v1' is a plain Gymnasium environment"):
        run("CartPole-v1", "Uniform-v0")
    for extra in ("", "run_length = 20\n"):
        exp = tmp_path / "cartpole.toml"
        exp.write_text(f'n_seeds = 1\n{extra}[[envs]]\nid = "CartPole-v1"\n'
                       '[[agents]]\nid = "Uniform-v0"\n')
        out = tmp_path / "res"
        assert main(["run", str(exp), "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "envs[0].id: 'CartPole-v1' is a plain Gymnasium environment" in err
        assert not out.exists()


def test_kernel_backend_is_checked_before_any_task(tmp_path):
    exp = Experiment.from_dict({
        "envs": [{"id": "banditlab/Bernoulli-v0"}],
        "agents": [{"id": "UCB1-v0"},
                   {"id": "testing/Sleepy-v0", "label": "Sleepy Uniform (test fixture) (sleepy)"}],
        "imports": ["banditlab.testing.fault_injection"], "n_seeds": 2, "run_length": 50})
    out = tmp_path / "res"
    with pytest.raises(BanditlabError, match=r"env 'banditlab/Bernoulli-v0' with agent 'Sleepy "
                                             r"Uniform \(test fixture\) \(sleepy\)' has no fused "
                                             "path") as info:
        run_experiment(exp, out, backend="kernel", progress=False)
    assert str(info.value).startswith("backend: ") and len(str(info.value).splitlines()) == 1
    assert not out.exists()  # nothing ran, nothing was written
    assert run_experiment(exp, out, backend="auto", progress=False).n_ran == 4


def test_progress_bar_without_ipywidgets_is_plain_tqdm(monkeypatch):
    import importlib.util

    import tqdm.std

    from banditlab import harness

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert harness._tqdm() is tqdm.std.tqdm


def test_notebook_shows_progress_without_warnings(tmp_path, monkeypatch):
    """A notebook running an experiment with a progress bar, executed by the README's command."""
    import shutil

    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from banditlab.experiment import AgentConfig, EnvConfig, Experiment\n"
        "from banditlab.harness import run_experiment\n"
        "exp = Experiment([EnvConfig('banditlab/Bernoulli-v0')], [AgentConfig('UCB1-v0')],\n"
        "                 n_seeds=2, run_length=50, name='progress')\n"
        f"print(run_experiment(exp, {str(tmp_path / 'res')!r}, n_jobs=1, progress=True))\n")]
    path = tmp_path / "progress.ipynb"
    nbformat.write(nb, path)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    if shutil.which("jupyter") and importlib_available("nbconvert"):
        subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                        str(path)], check=True, capture_output=True, cwd=tmp_path)
        done = nbformat.read(path, as_version=4)
    else:
        from nbclient import NotebookClient

        done = nb
        NotebookClient(done, timeout=600, kernel_name="python3").execute()
    outputs = done.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs) + json.dumps(
        [o.get("data", {}) for o in outputs])
    assert "error" not in {o.output_type for o in outputs}, outputs
    assert "IProgress" not in text and "TqdmWarning" not in text, text
    assert "2/2" in text  # the bar itself (text or widget) reached the end
    assert "ran 2, skipped 0" in text


def importlib_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_task_ids_and_seeds_equal_their_definitions():
    """Experiment.tasks() digests each pair's config once (digest_series, TaskSeeds); every id
    and seed equals the digest of the full task dict and task_seeds(...) computed directly."""
    from banditlab.results import SCHEMA_VERSION
    from banditlab.seeding import digest

    exp = _quick_experiment(n_seeds=3)
    tasks = exp.tasks()
    assert len(tasks) == 12
    for t in tasks:
        env_cfg = t.env.as_dict()
        agent_cfg = {"id": t.agent.id, "kwargs": t.agent_params}
        expected_id = digest({
            "env": env_cfg, "agent": agent_cfg, "label": t.agent.display,
            "env_label": t.env.display, "run_index": t.run_index, "root_seed": t.root_seed,
            "run_length": t.run_length, "checkpoints": list(t.checkpoints),
            "schema_version": SCHEMA_VERSION,
        })[:32]
        assert t.task_id == expected_id
        assert (t.env_seed, t.agent_seed, t.spawn_keys) == task_seeds(
            t.root_seed, env_cfg, agent_cfg, t.run_index)


def _no_duplicate_rows(frame) -> bool:
    return not frame.duplicated(["task_id", "t", "metric"]).any()


def test_a_worker_copy_partly_committed_from_the_other_copy_loads_each_task_once(tmp_path):
    """Ctrl-C can cut both copies of a unit short: the calling process's copy committed
    task 0, the worker's file holds tasks 0-3. Committing the worker's new tasks 1-3
    commits task 0 again, naming the worker's file, so neither loading nor compaction
    reads task 0's rows twice (they were read twice before, from a fresh clean clone's
    interrupted `-j 2` run). The frame equals a serial run's."""
    from banditlab.execution import _commit_new_outcomes
    from banditlab.loops import run_task

    exp = _quick_experiment(n_seeds=4)
    tasks = [t for t in exp.tasks() if t.agent.id == "UCB1-v0"][:4]
    results = [run_task(t) for t in tasks]
    store = ResultStore(tmp_path / "p")
    store.record_experiment(exp.name, {t.task_id: t.run_id for t in tasks})
    store.write_many(results[:1])  # the calling process's copy, cut after task 0
    worker = [("written", w) for w in store.write_file(results, unique=True)]
    committed = {tasks[0].task_id}
    commits = []
    _commit_new_outcomes(worker, committed, lambda o: (commits.append(len(o)),
                                                       store.commit_lines([p.line for _, p in o])),
                         store)
    assert commits == [3] and committed == {t.task_id for t in tasks}
    serial = ResultStore(tmp_path / "s")
    serial.record_experiment(exp.name, {t.task_id: t.run_id for t in tasks})
    serial.write_many(results)
    want = load_results(tmp_path / "s").to_frame()
    got = load_results(tmp_path / "p").to_frame()
    assert _no_duplicate_rows(got) and got.equals(want)
    assert store.compact(min_files=2) == 2
    got = load_results(tmp_path / "p").to_frame()
    assert _no_duplicate_rows(got) and got.equals(want)


def test_compaction_after_a_forced_rerun_keeps_each_task_once(tmp_path):
    """A forced rerun writes a second copy of every task (units of several tasks: new
    file names); compaction keeps only the copy each task's last entry names (it kept
    both before, and the compacted directory loaded every row twice)."""
    exp = _quick_experiment(n_seeds=12)
    run_experiment(exp, tmp_path, progress=False)
    run_experiment(exp, tmp_path, progress=False, force=True)
    before = load_results(tmp_path).to_frame()
    assert _no_duplicate_rows(before)
    assert ResultStore(tmp_path).compact(min_files=2) >= 2
    after = load_results(tmp_path).to_frame()
    assert _no_duplicate_rows(after) and after.equals(before)
