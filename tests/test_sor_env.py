"""SORSequence-v1: instances, cost table and disk cache, comparators, heat source, bad input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from banditlab.core import BanditlabError
from banditlab.envs.sor.env import DEFAULT_OMEGA_GRID, SORSequence
from banditlab.envs.sor.instances import Heat2D, heat_kappa, laplacian_2d
from banditlab.envs.sor.oracle import cache_dir
from banditlab.harness import run
from banditlab.registry import make_benchmark_policy


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("BANDITLAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "sorcache"))


def dense_sor_count(a, b, omega, tol=1e-8, maxiter=10000):
    """Independent dense SOR iteration count (x0 = 0, ||r_k||/||r_0|| < tol)."""
    from scipy.linalg import solve_triangular

    m = np.diag(np.diag(a)) / omega + np.tril(a, -1)
    x = np.zeros_like(b)
    r = b.copy()
    r0 = np.linalg.norm(r)
    for k in range(1, maxiter + 1):
        x = x + solve_triangular(m, r, lower=True)
        r = b - a @ x
        if np.linalg.norm(r) / r0 < tol:
            return k
    return maxiter


def test_instances_follow_the_papers_distributions():
    for variance, (a, b) in (("high", (0.5, 1.5)), ("low", (2.0, 6.0))):
        env = SORSequence(variance=variance, horizon=1500)
        env.reset(seed=11)  # draws only; the cost table is lazy
        u = (env.shifts_ + 0.15) / 0.6
        assert stats.kstest(u, stats.beta(a, b).cdf).pvalue > 1e-3
        norms = np.linalg.norm(env.rhs_, axis=1)
        assert np.all(norms <= 10.0)
        # The radial truncation keeps the upper part of the chi distribution out.
        assert np.mean(norms) < np.sqrt(100) and np.mean(norms) > 8.5
        assert env.table_.done.sum() == 0


def test_instance_prefix_does_not_depend_on_horizon():
    e1, e2 = SORSequence(horizon=50), SORSequence(horizon=300)
    e1.reset(seed=5)
    e2.reset(seed=5)
    np.testing.assert_array_equal(e1.shifts_, e2.shifts_[:50])
    np.testing.assert_array_equal(e1.rhs_, e2.rhs_[:50])


def test_table_matches_dense_sor_and_live_solves():
    env = SORSequence(horizon=15)
    live = SORSequence(horizon=15, precompute=False)
    obs, _ = env.reset(seed=3)
    obs_l, _ = live.reset(seed=3)
    a0 = sp.csr_matrix(laplacian_2d(10), shape=(100, 100)).toarray()
    rng = np.random.default_rng(0)
    for t in range(15):
        assert obs[0] == pytest.approx(env.shifts_[t]) and obs_l[0] == obs[0]
        arm = int(rng.integers(20))
        obs, r, term, trunc, info = env.step(arm)
        obs_l, r_l, _, _, info_l = live.step(arm)
        assert r == r_l and not term and trunc == (t == 14)
        np.testing.assert_array_equal(info["reward_vector"], info_l["reward_vector"])
        assert info["expected_reward"] == r == -info["loss"] == -info["iterations"]
        assert info["optimal_expected_reward"] == np.max(info["reward_vector"])
        assert info["omega"] == DEFAULT_OMEGA_GRID[arm]
        assert info["omega_young"] == info["young_omega"]
        if t < 2:  # independent dense check on a few instances and omegas
            c = env.shifts_[t]
            for j in (0, 12, 19):
                ref = dense_sor_count(a0 + c * np.eye(100), env.rhs_[t], DEFAULT_OMEGA_GRID[j])
                assert -info["reward_vector"][j] == ref


@pytest.mark.parametrize("solver", ["ssor_pcg", "cg"])
def test_table_matches_live_solves_for_krylov_solvers(solver):
    env = SORSequence(horizon=4, solver=solver)
    live = SORSequence(horizon=4, solver=solver, precompute=False)
    env.reset(seed=8)
    live.reset(seed=8)
    for arm in (0, 9, 19, 4):
        _, r, _, _, info = env.step(arm)
        _, r_l, _, _, info_l = live.step(arm)
        assert r == r_l
        np.testing.assert_array_equal(info["reward_vector"], info_l["reward_vector"])
    if solver == "cg":
        assert np.all(info["reward_vector"] == info["reward_vector"][0])


def test_cost_table_disk_cache_roundtrip_and_corruption(tmp_path, monkeypatch):
    import banditlab.envs.sor.oracle as so

    monkeypatch.setenv("BANDITLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(so, "BLOCK", 20)
    block = so.BLOCK
    env = SORSequence(horizon=block + 10)
    env.reset(seed=21)
    it, conv = env.table_.full()
    files = sorted(cache_dir().glob("*.npz"))
    assert len(files) == 2
    assert not list(cache_dir().glob("*.tmp*"))
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            assert set(z.files) == {"iterations", "converged"}
    env2 = SORSequence(horizon=block + 10)
    env2.reset(seed=21)
    it2, _ = env2.table_.full()
    assert env2.table_.cache_hits == 2
    np.testing.assert_array_equal(it, it2)
    # A corrupt file is recomputed, not trusted.
    files[0].write_bytes(b"not an npz file")
    env3 = SORSequence(horizon=block + 10)
    env3.reset(seed=21)
    it3, _ = env3.table_.full()
    assert env3.table_.cache_hits == 1
    np.testing.assert_array_equal(it, it3)
    # A different stream (seed) has different digests.
    env4 = SORSequence(horizon=block + 10)
    env4.reset(seed=22)
    assert env4.table_.block_digest(0) != env.table_.block_digest(0)


def test_comparators_match_the_table():
    env = SORSequence(horizon=120, variance="low")
    res = run(env, "RelaxTsallisINF-v1", seed=4, checkpoints=[60, 120])
    it, _ = env.table_.full()
    grid_cost = it[:, :-1]
    for j, t in enumerate((60, 120)):
        best_fixed = grid_cost[:t].sum(axis=0).min()
        inst_opt = grid_cost[:t].min(axis=1).sum()
        young = it[:t, -1].sum()
        cost = -res.curves["reward"][j]
        assert res.curves["regret/static"][j] == pytest.approx(cost - best_fixed)
        assert res.curves["regret/dynamic"][j] == pytest.approx(cost - inst_opt)
        assert res.curves["regret/dynamic/young"][j] == pytest.approx(cost - young)
        assert res.curves["iterations"][j] == pytest.approx(cost)
    # The oracle agents replay the comparators exactly.
    r_opt = run(env, "oracle:grid_instance_optimal", seed=4, checkpoints=[120])
    assert r_opt.finals["regret/dynamic"] == 0.0
    r_bf = run(env, "oracle:best_fixed_hindsight", seed=4, checkpoints=[120])
    assert r_bf.finals["regret/static"] == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"variance": "low", "action_type": "continuous", "precompute": False},
     {"instance_source": "heat2d", "nx": 10}],
)
def test_benchmark_policies_name_registered_agents(kwargs):
    from banditlab.core import BenchmarkPolicy
    from banditlab.registry import agent_ids

    env = SORSequence(horizon=5, **kwargs)
    policies = env.oracle.benchmark_policies()
    assert "golden_section" in policies and "fixed_1.0" in policies
    assert ("optimal" in policies) == (kwargs == {})
    assert ("fixed_optimal" in policies) == ("instance_source" in kwargs)
    ids = set(agent_ids())
    for name, policy in policies.items():
        assert isinstance(policy, BenchmarkPolicy) and policy.agent_id in ids, name
        agent = make_benchmark_policy(env.oracle, name)
        assert agent.registry_id == policy.agent_id
        live = "oracle" in policy.kwargs
        assert live == policy.agent_id.startswith("oracle/")
        assert agent.get_tags().get("needs_oracle", False) == live
        if live:
            assert agent.oracle is env.oracle


def test_continuous_actions_solve_at_the_chosen_omega():
    env = SORSequence(horizon=5, action_type="continuous")
    env.reset(seed=2)
    a0 = sp.csr_matrix(laplacian_2d(10), shape=(100, 100)).toarray()
    c, b = env.shifts_[0], env.rhs_[0].copy()
    _, r, _, _, info = env.step(np.array([1.53]))
    assert info["omega"] == 1.53
    assert -r == dense_sor_count(a0 + c * np.eye(100), b, 1.53)
    _, _, _, _, info = env.step(np.array([1.99]))  # clipped into the box
    assert info["omega"] == 1.95
    with pytest.raises(BanditlabError, match="action"):
        env.step(np.array([2.0]))


def test_cap_is_logged_as_not_converged():
    env = SORSequence(horizon=60, maxiter=60, variance="high")
    res = run(env, "RelaxGaussSeidel-v0", seed=0, checkpoints=[60])
    it, conv = env.table_.full()
    assert np.any(~conv[:, 0])  # near-singular shifts need > 60 Gauss-Seidel sweeps
    assert res.finals["unconverged"] == np.sum(~conv[:, 0])
    env.reset(seed=env.np_random_seed)
    t = int(np.argmin(conv[:, 0]))
    for _ in range(t):
        env.step(0)
    _, r, _, _, info = env.step(0)
    assert info["converged"] is False and info["iterations"] == 60 and info["unconverged"] == 1.0


def test_pickle_mid_run_continues_identically():
    env = SORSequence(horizon=30)
    env.reset(seed=9)
    for a in (3, 5, 7):
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in (1, 19, 10):
        o1, r1, *_ = env.step(a)
        o2, r2, *_ = clone.step(a)
        assert r1 == r2 and np.array_equal(o1, o2)
    assert env.oracle.comparator("static", 6) == clone.oracle.comparator("static", 6)


# --------------------------------------------------------------------------- heat source
def test_heat_crank_nicolson_step_matches_dense_solve():
    heat = Heat2D(10)
    rng = np.random.default_rng(1)
    u = rng.random(heat.n)
    step = 300  # t = 0.3: strong phase? kappa(0.3005) = 0.1 sin(...) > 0 (weak)
    a_data, b, k = heat.system(step, u)
    h = step * heat.dt + heat.dt / 2
    assert k == pytest.approx(max(0.1 * np.sin(2 * np.pi * h), -10 * np.sin(2 * np.pi * h)))
    m = heat.nx - 1
    one = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(m, m))
    lap = (sp.kron(sp.identity(m), one) + sp.kron(one, sp.identity(m))).toarray() * heat.nx**2
    a_ref = np.eye(heat.n) - 0.5 * k * heat.dt * lap
    b_ref = u + 0.5 * k * heat.dt * lap @ u + heat.dt * heat.forcing(h)
    a = sp.csr_matrix((a_data, heat.lap[1], heat.lap[2]), shape=(heat.n, heat.n)).toarray()
    np.testing.assert_allclose(a, a_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-12)


def test_heat_env_runs_warm_started_and_tracks_the_solution():
    env = SORSequence(instance_source="heat2d", nx=10, horizon=700, tol=1e-10)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.known_constants["context_range"] == pytest.approx(
        (0.0, float(heat_kappa(np.arange(700) * 0.001).max()))
    )
    heat = Heat2D(10)
    u = heat.u0.copy()
    costs = []
    for t in range(700):
        a_data, b, _ = heat.system(t, u)
        a = sp.csr_matrix((a_data, heat.lap[1], heat.lap[2]), shape=(heat.n, heat.n))
        u = sp.linalg.spsolve(a.tocsc(), b)
        obs, r, _, trunc, info = env.step(10)
        costs.append(-r)
        assert info["iterations"] == -r and info["converged"]
    assert trunc
    np.testing.assert_allclose(env.u_, u, atol=1e-6 * np.abs(u).max())
    # Strong-diffusion steps (t in (0.5, 0.8)) cost more SSOR-PCG iterations than weak ones.
    costs = np.asarray(costs)
    assert costs[550:690].mean() > 2 * costs[50:250].mean()
    # Full information: the played omega's cost is one entry of the reward vector.
    fi = SORSequence(instance_source="heat2d", nx=10, horizon=5, full_info=True)
    fi.reset(seed=0)
    for a in (0, 7, 19):
        _, r, _, _, info = fi.step(a)
        assert info["reward_vector"][a] == r
        assert info["optimal_expected_reward"] == np.max(info["reward_vector"])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"instance_source": "poisson"}, "instance_source"),
        ({"variance": "medium"}, "variance"),
        ({"tol": 0.0}, "tol"),
        ({"tol": -1e-8}, "tol"),
        ({"maxiter": 0}, "maxiter"),
        ({"omega_grid": [1.0, 2.0]}, "omega_grid"),
        ({"omega_grid": [0.0, 1.0]}, "omega_grid"),
        ({"omega_grid": [1.5, 1.2]}, "omega_grid"),
        ({"horizon": 0}, "horizon"),
        ({"x0": "warm", "precompute": True}, "precompute"),
        ({"instance_source": "heat2d", "precompute": True}, "precompute"),
        ({"cost_kind": "time"}, "full_info"),
        ({"solver": "direct"}, "^solver: 'direct' has no iteration count"),
        ({"solver": "gmres"}, "^solver:"),
        ({"full_info": False, "precompute": True}, "precompute"),
        ({"instance_source": "heat2d", "nx": 2}, "nx"),
        ({"ssor_order": "middle"}, "ssor_order"),
    ],
)
def test_bad_env_kwargs_raise(kwargs, match):
    with pytest.raises(BanditlabError, match=match):
        SORSequence(**kwargs)


def test_bad_actions_raise():
    env = SORSequence(horizon=3)
    env.reset(seed=0)
    for a in (20, -1, 1.5, "3", True):
        with pytest.raises(BanditlabError, match="action"):
            env.step(a)


# --------------------------------------------------------------------------- golden section
def test_golden_section_search_converges_on_a_unimodal_function():
    from banditlab.agents.sor.oracle_agents import golden_section_search

    calls = []

    def f(w):
        calls.append(w)
        return (w - 1.37) ** 2

    start = [1.0, 1.3, 1.5, 1.75, 1.95]
    om, fs = golden_section_search(f, start, [f(w) for w in start], 12)
    assert len(om) == 12 and len(calls) == 12
    np.testing.assert_allclose(fs, [(w - 1.37) ** 2 for w in om])
    # Bracket [1.0, 1.5] shrinks by tau per evaluation after the first two interior points.
    tau = (np.sqrt(5) - 1) / 2
    assert abs(om[np.argmin(fs)] - 1.37) <= 0.5 * tau**6
    assert np.all((om >= 1.0) & (om <= 1.95))


def test_golden_section_oracle_plays_the_argmin_midpoint_on_heat():
    env = SORSequence(instance_source="heat2d", nx=10, horizon=40, action_type="continuous")
    agent = make_benchmark_policy(env.oracle, "golden_section")
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=0)
    for _ in range(40):
        a = agent.act(obs)
        om, fs = agent.last_evals_
        best = om[fs == fs.min()]
        assert a[0] == pytest.approx(0.5 * (best.min() + best.max()))
        obs, r, _, _, info = env.step(a)
        agent.update(obs, a, r, obs, False)
        if best.min() == best.max():
            assert -r == fs.min()  # replaying an evaluated omega reproduces its cost


def test_warm_started_laplacian_uses_the_previous_solution():
    warm = SORSequence(horizon=6, x0="warm", precompute=False, full_info=True)
    cold = SORSequence(horizon=6, precompute=False, full_info=True)
    warm.reset(seed=2)
    cold.reset(seed=2)
    _, rw, _, _, iw = warm.step(16)
    _, rc, _, _, ic = cold.step(16)
    assert rw == rc  # the first warm start is zero
    np.testing.assert_array_equal(iw["reward_vector"], ic["reward_vector"])
    x1 = warm.x_prev_.copy()
    a0 = sp.csr_matrix(laplacian_2d(10), shape=(100, 100)).toarray()
    shift = warm.shifts_[0]
    assert np.linalg.norm((a0 + shift * np.eye(100)) @ x1 - warm.rhs_[0]) < 1e-6
    assert warm.oracle.current_cost(1.8) == warm._evaluate_pending(1.8)


# --------------------------------------------------------------------------- direct solves
def test_direct_solver_is_a_timed_baseline_on_both_sources():
    lap = SORSequence(horizon=3, solver="direct", cost_kind="time", full_info=False)
    lap.reset(seed=0)
    _, r, _, _, info = lap.step(5)
    assert info["iterations"] == 0 and info["converged"] and info["wallclock_s"] > 0
    assert r == -info["wallclock_s"] == -info["loss"]
    heat = SORSequence(instance_source="heat2d", nx=10, horizon=30, solver="direct",
                       cost_kind="time")
    ref = Heat2D(10)
    heat.reset(seed=0)
    u = ref.u0.copy()
    for t in range(30):
        a_data, b, _ = ref.system(t, u)
        u = np.linalg.solve(sp.csr_matrix((a_data, ref.lap[1], ref.lap[2]),
                                          shape=(ref.n, ref.n)).toarray(), b)
        _, r, _, _, info = heat.step(0)
        assert r < 0 and info["iterations"] == 0
    np.testing.assert_allclose(heat.u_, u, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- heat profile
HEAT_SMALL = {"instance_source": "heat2d", "nx": 8, "horizon": 40}


def test_heat_profile_reproduces_the_authors_two_passes():
    """Independent recomputation of scripts/h2d.m's profile: fixed-omega runs on their own
    trajectories, golden section on the trajectory advanced by dense direct solves."""
    from banditlab.envs.sor.solvers import ssor_pcg

    env = SORSequence(**HEAT_SMALL, action_type="continuous")
    prof = env.oracle.heat_profile()
    seeds = (1.0, 1.3, 1.5, 1.75, 1.95)
    assert prof.seed_omegas.tolist() == list(seeds)
    for j, w in enumerate(seeds):  # pass 1 == the env's own fixed-omega runs
        res = run(env, ("RelaxFixedOmega-v0", {"omega": w}), seed=0, checkpoints=list(
            range(1, 41)))
        np.testing.assert_array_equal(np.diff(res.curves["iterations"], prepend=0),
                                      prof.seed_costs[:, j])
    ref = Heat2D(8)
    u = ref.u0.copy()
    grid = np.linspace(1.0, 1.95, 96)
    for t in range(40):
        a_data, b, _ = ref.system(t, u)
        a = sp.csr_matrix((a_data, ref.lap[1], ref.lap[2]), shape=(ref.n, ref.n)).toarray()
        om, fs = prof.eval_omegas[t], prof.eval_costs[t]
        assert om[:5].tolist() == list(seeds) and fs[:5].tolist() == prof.seed_costs[t].tolist()
        for w, f in zip(om[5:], fs[5:], strict=True):  # golden-section evaluations
            assert ssor_pcg(a, b, w, x0=u)[1] == f
        order = np.argsort(om)
        np.testing.assert_array_equal(
            prof.contours[t], np.floor(np.interp(grid, om[order], fs[order]) + 0.5))
        best = om[fs == fs.min()]
        assert prof.instance_omegas[t] == 0.5 * (best.min() + best.max())
        u = np.linalg.solve(a, b)
    assert prof.fixed_omega == grid[np.argmin(prof.contours.mean(axis=0))]
    assert prof.eval_omegas.shape == (40, 12) and prof.contours.shape == (40, 96)


def test_fixed_optimal_policy_plays_the_profile_argmin(monkeypatch):
    cont = SORSequence(**HEAT_SMALL, action_type="continuous")
    w = cont.oracle.heat_profile().fixed_omega
    agent = make_benchmark_policy(cont.oracle, "fixed_optimal")
    assert agent.label() == "Interpolated best fixed omega"
    obs, _ = cont.reset(seed=0)
    agent.reset(cont.action_space, cont.observation_space, seed=0)
    assert agent.act(obs)[0] == w
    # A new env of the same configuration reads the profile from the disk cache.
    from banditlab.envs.sor.env import SORSequence as Env

    monkeypatch.setattr(Env, "_heat_profile_passes",
                        lambda *a: pytest.fail("profile recomputed despite the cache"))
    disc = SORSequence(**HEAT_SMALL)
    agent = make_benchmark_policy(disc.oracle, "fixed_optimal")
    obs, _ = disc.reset(seed=0)
    agent.reset(disc.action_space, disc.observation_space, seed=0)
    assert agent.act(obs) == int(np.argmin(np.abs(disc.omega_grid - w)))


def test_heat_profile_bad_input():
    from banditlab.agents.sor.oracle_agents import InterpolatedFixedOptimal

    lap = SORSequence(horizon=5)
    with pytest.raises(BanditlabError, match="^oracle: the interpolated profile exists"):
        lap.oracle.heat_profile()
    with pytest.raises(BanditlabError, match="^oracle: the interpolated fixed optimum needs"):
        InterpolatedFixedOptimal(oracle=lap.oracle).reset(lap.action_space,
                                                           lap.observation_space)
    heat = SORSequence(**HEAT_SMALL)
    with pytest.raises(BanditlabError, match="^seed_omegas: expected increasing omegas from"):
        heat.oracle.heat_profile((1.2, 1.5, 1.95))
    with pytest.raises(BanditlabError, match="^n_evals:"):
        heat.oracle.heat_profile(n_evals=6)
    with pytest.raises(BanditlabError, match="^n_evals:"):
        InterpolatedFixedOptimal(oracle=heat.oracle, n_evals=6).reset(heat.action_space,
                                                                      heat.observation_space)
    cg = SORSequence(**HEAT_SMALL, solver="cg")
    with pytest.raises(BanditlabError, match="^oracle: the interpolated profile needs"):
        cg.oracle.heat_profile()
