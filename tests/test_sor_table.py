"""SORTable-v0 (the cached-table kernel env) and the SOR kernel agents on the fused path.

``SORTable`` must be ``SORSequence`` with ``precompute`` step for step; the kernel agents
(Tsallis-INF, Tsallis-INF-CB, the omega baselines) must keep the trajectories of the Python
learners they replace (pinned below from the pre-kernel implementation) and run
allocation-free in the fused loop.
"""

import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import banditlab.envs.sor.instances as instances
from banditlab.agents.sor.baselines import OmegaRuleHparams, OmegaRuleState, omega_rule_select
from banditlab.agents.sor.tsallis_inf import RelaxTsallisHparams, relax_tsallis_bin
from banditlab.core import BanditlabError, KernelAgent, KernelEnv
from banditlab.envs.sor.env import SORSequence
from banditlab.envs.sor.instances import (
    draw_shifted_laplacian_sequence,
    draw_shifted_laplacian_sequence_python,
    laplacian_2d,
    shift_young_omega,
)
from banditlab.envs.sor.solvers import sor_cost_table, sor_cost_table_into
from banditlab.envs.sor.table import SORTable
from banditlab.harness import run
from banditlab.registry import make_agent, make_env
from banditlab.testing.allocations import allocations_per_step

ROOT = Path(__file__).resolve().parents[1]


def _same_curves(a, b):
    assert sorted(a.curves) == sorted(b.curves)
    for k in a.curves:
        np.testing.assert_array_equal(a.curves[k], b.curves[k], err_msg=k)


# --------------------------------------------------------------------------- the env
def test_table_env_equals_the_precomputed_sequence_step_by_step():
    table, seq = SORTable(horizon=60, variance="low"), SORSequence(horizon=60, variance="low")
    assert isinstance(table, KernelEnv) and table.family == "sor"
    assert dict(table.known_constants) == dict(seq.known_constants)
    assert table.oracle.regret_kinds.keys() == seq.oracle.regret_kinds.keys()
    assert table.oracle.primary_kind == seq.oracle.primary_kind == "dynamic"
    assert sorted(table.oracle.benchmark_policies()) == sorted(seq.oracle.benchmark_policies())
    assert table.extra_metrics == seq.extra_metrics
    obs_t, _ = table.reset(seed=7)
    obs_s, _ = seq.reset(seed=7)
    np.testing.assert_array_equal(table.shifts_, seq.shifts_)
    np.testing.assert_array_equal(table.rhs_, seq.rhs_)
    rng = np.random.default_rng(1)
    ck = table.kernel.layout()
    for step in range(1, 61):
        np.testing.assert_array_equal(obs_t, obs_s)
        assert obs_t.dtype == np.float64 and obs_t.shape == (1,)
        a = int(rng.integers(20))
        obs_t, r_t, te_t, tr_t, info_t = table.step(a)
        obs_s, r_s, te_s, tr_s, info_s = seq.step(a)
        assert (r_t, te_t, tr_t) == (r_s, te_s, tr_s)
        assert list(info_t) == list(info_s)
        for key in info_s:
            np.testing.assert_array_equal(info_t[key], info_s[key], err_msg=key)
            assert type(info_t[key]) is type(info_s[key]), key
        values = table.kernel.checkpoint(table.state_, table.kernel.params)
        for kind in ("static", "dynamic", "dynamic/young"):
            assert table.oracle.comparator(kind, step) == seq.oracle.comparator(kind, step)
        for kind in ("static", "dynamic/young"):
            assert values[ck.realised(kind)] == seq.oracle.comparator(kind, step)[0]
    np.testing.assert_array_equal(obs_t, obs_s)  # the last context repeats
    assert table.oracle.cost_row(5).tolist() == seq.oracle.cost_row(5).tolist()
    # The observation handed out is a copy, not a view of the kernel's buffer.
    obs_t[0] = 123.0
    assert table.state_.obs[60, 0] != 123.0


def test_table_env_arguments():
    env = SORTable(horizon=8, solver="ssor_pcg", ssor_order="lower_first", tol=1e-6)
    ref = SORSequence(horizon=8, solver="ssor_pcg", ssor_order="lower_first", tol=1e-6)
    env.reset(seed=2)
    ref.reset(seed=2)
    for a in (0, 7, 19, 3):
        assert env.step(a)[1] == ref.step(a)[1]
    grid = np.linspace(1.1, 1.9, 5)
    small = SORTable(horizon=5, omega_grid=grid)
    assert small.action_space == gym.spaces.Discrete(5)
    assert small.known_constants["omega_grid"] == tuple(grid)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"solver": "direct"}, "^solver:"),
    ({"variance": "medium"}, "^variance:"),
    ({"omega_grid": [1.5, 1.2]}, "^omega_grid:"),
    ({"horizon": 0}, "^horizon:"),
    ({"tol": 2.0}, "^tol:"),
])
def test_table_env_bad_arguments(kwargs, match):
    with pytest.raises(BanditlabError, match=match):
        SORTable(**kwargs)


def test_golden_section_oracle_runs_on_the_table_env():
    env = SORTable(horizon=6)
    res = run(env, "oracle:golden_section", seed=1, backend="python")
    ref = run(SORSequence(horizon=6), "oracle:golden_section", seed=1, backend="python")
    _same_curves(res, ref)


# --------------------------------------------------------------------------- trajectories
# Curves of the pre-kernel Python learners (SORSequence-v1, high variance, T = 400,
# harness seed 0, Python path), values at t = 400.
PINNED = {
    "tsallis": ({}, {"reward": -63453.0, "regret/static": 22024.0, "regret/dynamic": 39720.0,
                     "regret/dynamic/young": 40624.0, "agent/newton_beyond_pole": 229.0,
                     "agent/pole_guard_fires": 0.0}),
    "pole_guard": ({"pole_guard": True},
                   {"reward": -73214.0, "regret/static": 31785.0,
                    "agent/newton_beyond_pole": 0.0, "agent/pole_guard_fires": 394.0}),
    "cb": ({"n_bins": 5}, {"reward": -64996.0, "regret/static": 23567.0,
                           "agent/newton_beyond_pole": 122.0}),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_kernel_tsallis_keeps_the_python_learners_trajectory(case):
    kwargs, pinned = PINNED[case]
    aid = "RelaxTsallisINFCB-v1" if case == "cb" else "RelaxTsallisINF-v1"
    fused = run(make_env("banditlab/SORTable-v0", horizon=400), make_agent(aid, **kwargs),
                seed=0, checkpoints=np.arange(1, 401), backend="kernel")
    assert fused.backend == "kernel"
    seq = run(make_env("banditlab/SORSequence-v1", horizon=400), make_agent(aid, **kwargs),
              seed=0, checkpoints=np.arange(1, 401), backend="python")
    _same_curves(fused, seq)
    for key, value in pinned.items():
        assert fused.curves[key][-1] == value, key


@pytest.mark.parametrize(("aid", "kwargs"), [
    ("RelaxTsallisINF-v1", {"pole_guard": True, "newton_steps": 7, "newton_start": -3.0}),
    ("RelaxTsallisINFCB-v1", {"n_bins": 3, "pole_guard": True}),
    ("RelaxTsallisINFCB-v1", {"n_bins": 1, "cost_offset": 0.5}),
    ("RelaxFixedOmega-v0", {"omega": 1.62}),
    ("RelaxYoung-v0", {}),
])
def test_fused_path_equals_python_path_for_agent_variants(aid, kwargs):
    res = {b: run(make_env("banditlab/SORTable-v0", horizon=120), make_agent(aid, **kwargs),
                  seed=4, checkpoints=np.arange(1, 121), backend=b)
           for b in ("kernel", "python")}
    assert res["kernel"].backend == "kernel"
    _same_curves(res["kernel"], res["python"])


def test_kernel_agents_are_kernel_agents_with_the_table_check_env():
    for aid in ("RelaxTsallisINF-v1", "RelaxTsallisINFCB-v1", "RelaxFixedOmega-v0",
                "RelaxGaussSeidel-v0", "RelaxYoung-v0"):
        agent = make_agent(aid)
        assert isinstance(agent, KernelAgent), aid
        assert agent.get_tags()["check_env"][0] == "banditlab/SORTable-v0"


def test_continuous_baselines_return_a_copy_of_the_action_buffer():
    box = gym.spaces.Box(1.0, 1.95, (1,), np.float64)
    obs_space = gym.spaces.Box(-0.15, 0.65, (1,), np.float64)
    agent = make_agent("RelaxYoung-v0")
    agent.reset(box, obs_space, seed=0)
    a1 = agent.act(np.array([0.0]))
    a2 = agent.act(np.array([0.5]))
    assert a1[0] != a2[0] and a1[0] == pytest.approx(float(shift_young_omega(0.0)))
    assert agent.state_.action[0] == a2[0] and a2 is not agent.state_.action


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("backend", ["kernel", "python"])
def test_costs_below_the_offset_raise_on_both_paths(backend):
    env = make_env("banditlab/SORTable-v0", horizon=30)
    agent = make_agent("RelaxTsallisINF-v1", cost_offset=1e6)
    with pytest.raises(BanditlabError, match="^cost_offset: the mean cost so far"):
        run(env, agent, seed=0, backend=backend)


def test_kernels_raise_on_contexts_they_cannot_use():
    hp = RelaxTsallisHparams(np.int64(5), True, -0.15, 0.65, np.int64(20), -1.0, False, 1.0)
    assert relax_tsallis_bin(hp, np.array([0.6])) == 4
    for c in (0.7, -0.2, np.nan):
        with pytest.raises(BanditlabError, match="^observation: the context is outside"):
            relax_tsallis_bin(hp, np.array([c]))
    off = hp._replace(contextual=False)
    assert relax_tsallis_bin(off, np.array([np.nan])) == 0
    young = OmegaRuleHparams(True, 0.0, float(np.cos(np.pi / 11)), 4.0,
                             np.linspace(1.0, 1.95, 20), False, 0.0, 0.0)
    rng = np.random.default_rng(0)
    state = OmegaRuleState(np.zeros(1))
    with pytest.raises(BanditlabError, match="^observation: the shift"):
        omega_rule_select(state, young, np.array([-3.9]), 1, rng)


# --------------------------------------------------------------------------- allocations
@pytest.mark.parametrize("agent", ["RelaxTsallisINF-v1", "RelaxTsallisINFCB-v1",
                                   "oracle:young", "oracle:fixed_1.8"])
def test_fused_loop_allocates_nothing_per_step(agent):
    # The long run's table is computed (a cold cache) and the short one's read from disk:
    # the table build must not add compiled-code allocations either.
    count = allocations_per_step("banditlab/SORTable-v0", agent, short=40, long=130, seed=9)
    assert count.per_step == 0.0, count


# --------------------------------------------------------------------------- building blocks
def test_compiled_draws_equal_the_python_draws():
    for variance in ("high", "low"):
        for seed in range(6):
            r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
            s1, b1 = draw_shifted_laplacian_sequence(r1, 300, variance)
            s2, b2 = draw_shifted_laplacian_sequence_python(r2, 300, variance)
            np.testing.assert_array_equal(s1, s2)
            np.testing.assert_array_equal(b1, b2)
            assert r1.bit_generator.state == r2.bit_generator.state


def test_draws_near_the_truncation_radius_are_redrawn_in_python(monkeypatch):
    def borderline(rng, a, b, shifts, rhs):
        rng.standard_normal(37)  # consumed, then abandoned
        return False

    monkeypatch.setattr(instances, "_draw_sequence_into", borderline)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    s1, b1 = draw_shifted_laplacian_sequence(r1, 20, "high")
    s2, b2 = draw_shifted_laplacian_sequence_python(r2, 20, "high")
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(b1, b2)
    assert r1.bit_generator.state == r2.bit_generator.state


@pytest.mark.parametrize(("method", "order"), [(2, 0), (0, 0), (1, 0), (1, 1), (1, 2)])
def test_threaded_table_kernel_equals_the_parallel_one(method, order):
    rng = np.random.default_rng(3)
    shifts, rhs = draw_shifted_laplacian_sequence(rng, 9, "high")
    rhs[4] = 0.0
    omegas = np.empty((9, 21))
    omegas[:, :-1] = np.linspace(1.0, 1.95, 20)
    omegas[:, -1] = shift_young_omega(shifts)
    data, indices, indptr = laplacian_2d(10)
    for maxiter in (10000, 25):
        ref_it, ref_cv = sor_cost_table(data, indices, indptr, shifts, rhs, omegas, 1e-8,
                                        maxiter, method, order)
        for threads in (1, 2, 5):
            it = np.full((9, 21), -1, np.int64)
            cv = np.zeros((9, 21), np.bool_)
            sor_cost_table_into(data, indices, indptr, shifts, rhs, omegas, 1e-8, maxiter,
                                method, order, it, cv, threads=threads)
            np.testing.assert_array_equal(it, ref_it)
            np.testing.assert_array_equal(cv, ref_cv)
    empty = np.zeros((0, 21), np.int64)
    sor_cost_table_into(data, indices, indptr, shifts[:0], rhs[:0], omegas[:0], 1e-8, 100,
                        method, order, empty, empty.astype(bool), threads=2)


def test_tight_benchmark_hand_loop_follows_the_harness():
    path = ROOT / "benchmarks" / "bench_tight_sor.py"
    import sys

    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location("bench_tight_sor_under_test", path)
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        from _tight import measure
    finally:
        sys.path.remove(str(path.parent))
    for case in bench.CASES:
        row = measure(case, repeats=1, steps=150)  # asserts identical totals
        assert row.ratio > 0
