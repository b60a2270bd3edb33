"""SOR agents: Tsallis-INF (the authors' Newton rule), Tsallis-INF-CB, ChebCB, baselines, offsets.

The learning claims of the experiments are checked from their files by tests/test_sor_claims.py.
"""

import gymnasium as gym
import numpy as np
import pytest
from numpy.polynomial import chebyshev as npcheb

from banditlab.agents.sor.baselines import FixedOmega, GaussSeidel, YoungOmega
from banditlab.agents.sor.chebcb import ChebCB, chebyshev_features, inverse_gap_probs
from banditlab.agents.sor.oracle_agents import (
    GoldenSection,
    GridInstanceOptimal,
    SORBestFixedHindsight,
)
from banditlab.agents.sor.tsallis_inf import (
    RelaxTsallisINF,
    RelaxTsallisINFCB,
    relax_tsallis_newton,
    relax_tsallis_select,
)
from banditlab.core import BanditlabError
from banditlab.envs.sor.env import SORSequence
from banditlab.envs.sor.instances import shift_young_omega
from banditlab.harness import run

GRID = np.linspace(1.0, 1.95, 20)
SPACE = gym.spaces.Discrete(20)
OBS = gym.spaces.Box(-0.15, 0.65, (1,), np.float64)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("BANDITLAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "sorcache"))


# --------------------------------------------------------------------------- Tsallis-INF
def authors_predict(k, scale, t, steps=20, start=-1.0):
    """Literal transcription of ``predict`` of the authors' ``learners/TsallisINF.m``.

    Plain NumPy float64 scalars, IEEE arithmetic as in MATLAB (a division by zero gives
    inf/NaN), sums left to right, no safeguard of any kind. Returns the final Newton
    iterate ``x`` and the ``probs`` of the last step (computed before the final update).
    """
    k = [np.float64(v) for v in k]
    scale = np.float64(scale)
    eta = np.float64(2.0) / np.sqrt(np.float64(t))
    x = np.float64(start)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            probs = [np.float64(4.0) * (eta * (ki / scale - x)) ** np.float64(-2.0) for ki in k]
            total = np.float64(0.0)
            for p in probs:
                total = total + p
            total32 = np.float64(0.0)
            for p in probs:
                total32 = total32 + p ** np.float64(1.5)
            x = x - (total - np.float64(1.0)) / (eta * total32)
    return x, np.array(probs)


def _tsallis_inputs(rng, n):
    """Random learner states: early rounds (some arms never played, K = 0) and late ones
    (every K_i/s of the order of t, where the authors' Newton overshoots the pole)."""
    for i in range(n):
        t = int(rng.integers(1, 5000))
        scale = float(rng.uniform(0.5, 200.0))
        if i % 2:
            k = scale * t * rng.uniform(0.2, 3.0, 20)
        else:
            k = rng.exponential(3.0, 20) * scale * np.sqrt(t) * (rng.random(20) < 0.6)
        yield k, scale, t


def test_newton_iterate_equals_the_authors_update_on_random_inputs():
    rng = np.random.default_rng(0)
    n, beyond, nonfinite = 400, 0, 0
    p, q = np.empty(20), np.empty(20)
    for k, scale, t in _tsallis_inputs(rng, n):
        x_ref, p_ref = authors_predict(k, scale, t)
        u = rng.random()
        idx, p_i, x, pole, fires, fallback = relax_tsallis_select(k, scale, t, 20, -1.0, False,
                                                                 u, p, q)
        # The same floating-point operations in the same order: bit-identical iterates.
        assert x == x_ref or (np.isnan(x) and np.isnan(x_ref))
        np.testing.assert_array_equal(p, p_ref)
        assert fires == 0 and pole == np.min(k / scale)
        beyond += not x < pole
        if np.all(np.isfinite(p_ref)) and p_ref.sum() > 0:
            assert not fallback
            np.testing.assert_allclose(q, p_ref / p_ref.sum(), rtol=1e-12)
            assert idx == np.searchsorted(np.cumsum(p_ref / p_ref.sum()), u, side="right")
            assert p_i == p_ref[idx]  # the importance weight is the Newton value, not q_I
        else:
            nonfinite += 1
            assert fallback and p_i == 1.0 / 20 and np.all(q == 1.0 / 20)
            assert idx == min(int(u * 20), 19)
    # The sample covers both regimes: Newton ending beyond the pole and left of it.
    assert n // 4 < beyond < n


def test_pole_guard_keeps_newton_left_of_the_pole_and_normalises():
    rng = np.random.default_rng(1)
    p = np.empty(20)
    fired = 0
    for k, scale, t in _tsallis_inputs(rng, 200):
        x, pole, fires = relax_tsallis_newton(k, scale, t, 20, -1.0, True, p)
        assert x < pole
        fired += fires
        # Left of the pole the Newton map converges from the right: p sums to 1.
        assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert fired > 0


def test_tsallis_update_uses_running_mean_scale_and_newton_weight():
    agent = RelaxTsallisINF()
    agent.reset(SPACE, OBS, seed=1)
    costs = [50.0, 7.0, 300.0, 1.0, 120.0, 80.0]
    k = np.zeros(20)
    scale = 1.0
    for n, cost in enumerate(costs, start=1):
        assert agent.scale_[0] == scale
        a = agent.act(np.array([0.0]))
        _, p_ref = authors_predict(k, scale, n)
        assert agent.prob_ == p_ref[a]
        agent.update(np.array([0.0]), a, -cost, np.array([0.0]), False)
        k[a] += (cost - 1.0) / p_ref[a]
        scale = np.mean(costs[:n]) - 1.0
        np.testing.assert_allclose(agent.k_[0], k, rtol=1e-12)
    assert agent.scale_guards_ == 0 and agent.fallbacks_ == 0
    # Every cost equal to 1 gives mean - 1 = 0: the scale is guarded to 1 (and counted).
    agent.reset(SPACE, OBS, seed=1)
    a = agent.act(np.array([0.0]))
    agent.update(np.array([0.0]), a, -1.0, np.array([0.0]), False)
    assert agent.scale_[0] == 1.0 and agent.scale_guards_ == 1
    assert np.all(np.isfinite(agent.policy(np.array([0.0]))))


def test_labels_show_the_opt_in_variants():
    assert RelaxTsallisINF().label() == "Tsallis-INF"
    assert RelaxTsallisINF(pole_guard=True).label() == "Tsallis-INF [pole guard]"
    assert RelaxTsallisINFCB(cost_offset=0.0).label() == "Tsallis-INF-CB [cost offset 0]"
    assert ChebCB().label() == "ChebCB"
    assert (ChebCB(lip_min_zero=False, cost_offset=0).label()
            == "ChebCB [observed-min Lipschitz, cost offset 0]")


# --------------------------------------------------------------------------- cost offset
def _feed(agent, costs, contexts):
    agent.reset(SPACE, OBS, seed=3)
    actions = []
    for c, cost in zip(contexts, costs, strict=True):
        obs = np.array([c])
        a = agent.act(obs)
        actions.append(a)
        agent.update(obs, a, -cost[a], obs, False)
    return actions


@pytest.mark.parametrize("make", [lambda: RelaxTsallisINF(cost_offset=0.0),
                                  lambda: RelaxTsallisINFCB(cost_offset=0.0),
                                  lambda: ChebCB(cost_offset=0.0)])
def test_cost_offset_zero_makes_the_learners_scale_free(make):
    """Costs in seconds are iteration counts times a machine-dependent constant; with
    cost_offset=0 the learners' actions do not depend on that constant."""
    rng = np.random.default_rng(4)
    contexts = rng.uniform(-0.15, 0.45, 150)
    table = 40 + 300 * (GRID[None, :] - 1.6) ** 2 + 200 * (contexts[:, None] + 0.15) ** 2
    table = np.round(table * rng.uniform(0.9, 1.1, table.shape))
    iters = _feed(make(), table, contexts)
    secs = _feed(make(), table * 2.0**-12, contexts)  # a power of two scales exactly
    assert iters == secs
    assert len(set(iters)) > 1


@pytest.mark.parametrize("make", [RelaxTsallisINF, RelaxTsallisINFCB, ChebCB])
def test_costs_below_the_offset_raise(make):
    agent = make()
    agent.reset(SPACE, OBS, seed=0)
    a = agent.act(np.array([0.0]))
    with pytest.raises(BanditlabError, match="^cost_offset: the mean cost so far, 0.0032"):
        agent.update(np.array([0.0]), a, -0.0032, np.array([0.0]), False)


def test_time_costs_run_with_the_known_offset():
    env = SORSequence(horizon=40, cost_kind="time", full_info=False)
    assert env.known_constants["cost_offset"] == 0.0
    assert SORSequence(horizon=5).known_constants["cost_offset"] == 1.0
    assert "dynamic/young" not in env.oracle.regret_kinds and env.oracle.primary_kind is None
    with pytest.raises(BanditlabError, match="^cost_offset:"):
        run(env, "RelaxTsallisINF-v1", seed=0, checkpoints=[40])
    res = run(env, ("RelaxTsallisINF-v1", {"cost_offset": env.known_constants["cost_offset"]}),
              seed=0, checkpoints=[40])
    assert 0 < -res.finals["reward"] < 5.0  # seconds


def test_tsallis_cb_bins_contexts_to_nearest_centre():
    agent = RelaxTsallisINFCB(n_bins=5, context_range=(-0.15, 0.65))
    agent.reset(SPACE, OBS, seed=0)
    centres = -0.15 + 0.8 * (np.arange(5) + 0.5) / 5
    rng = np.random.default_rng(2)
    for c in np.concatenate([rng.uniform(-0.15, 0.65, 200), [-0.15, 0.65]]):
        assert agent._bin(np.array([c])) == int(np.argmin(np.abs(centres - c)))
    a = agent.act(np.array([0.6]))
    agent.update(np.array([0.6]), a, -10.0, np.array([0.0]), False)
    assert agent.bin_rounds_.tolist() == [1, 1, 1, 1, 2]


# --------------------------------------------------------------------------- ChebCB
def test_chebyshev_features_match_numpy():
    for z in np.linspace(-1, 1, 13):
        np.testing.assert_allclose(chebyshev_features(z, 6), npcheb.chebvander(z, 5)[0],
                                   atol=1e-14)
    np.testing.assert_allclose(chebyshev_features(3.0, 4), npcheb.chebvander(1.0, 3)[0], atol=0)


def test_inverse_gap_probabilities():
    rng = np.random.default_rng(3)
    for eta in (0.0, 1.0, 1e4):
        y = rng.standard_normal(20)
        p = inverse_gap_probs(y, eta)
        i = int(np.argmin(y))
        ref = 1.0 / (20 + eta * (y - y[i]))
        ref[i] = 1.0 - (ref.sum() - ref[i])
        np.testing.assert_allclose(p, ref, rtol=1e-12)
        assert p.sum() == pytest.approx(1.0) and np.all(p >= 0)
    np.testing.assert_allclose(inverse_gap_probs(np.zeros(20), 0.0), np.full(20, 0.05))


def test_chebcb_fits_respect_the_box_and_match_least_squares():
    agent = ChebCB()
    agent.reset(SPACE, OBS, seed=4)
    rng = np.random.default_rng(5)
    for _ in range(150):
        c = rng.uniform(-0.15, 0.45)
        obs = np.array([c])
        a = agent.act(obs)
        cost = float(np.round(50 + 400 * (c + 0.15) ** 2 * (1 + a / 10) + rng.integers(0, 5)))
        agent.update(obs, a, -cost, obs, False)
    costs = np.asarray(agent.costs_)
    k = costs.max()
    lip = k / 0.8  # lip_min_zero: the code's zero-padded minimum
    n_ = 2 + 4 * 0.8 * lip / k * (1 + np.log(6))
    scale = k * n_
    assert agent.scale_ == pytest.approx(scale)
    ub = np.array([1 / n_] + [2 * 0.8 * lip / scale / j for j in range(1, 6)])
    assert np.all(np.abs(agent.theta_) <= ub + 1e-9)
    feats = np.asarray(agent.features_)
    acts = np.asarray(agent.actions_)
    for arm in range(20):
        rows = acts == arm
        if rows.sum() == 0:
            continue
        y = (costs[rows] - 1) / scale
        unconstrained = np.linalg.pinv(feats[rows]) @ y
        if np.all(np.abs(unconstrained) <= ub):
            np.testing.assert_allclose(agent.theta_[arm], unconstrained, atol=1e-9)
    assert agent.eta_ > 0 and np.isfinite(agent.eta_)


# --------------------------------------------------------------------------- baselines
def test_baselines_map_omegas_to_the_grid():
    fo = FixedOmega(omega=1.62)
    fo.reset(SPACE, OBS, seed=0)
    assert fo.act(np.array([0.0])) == 12  # 1.60 is the nearest grid value
    gs = GaussSeidel()
    gs.reset(SPACE, OBS, seed=0)
    assert gs.act(np.array([0.3])) == 0
    yo = YoungOmega()
    yo.reset(SPACE, OBS, seed=0)
    box = gym.spaces.Box(1.0, 1.95, (1,), np.float64)
    yc = YoungOmega()
    yc.reset(box, OBS, seed=0)
    for c in (-0.15, 0.0, 0.3):
        w = float(shift_young_omega(c))
        assert yo.act(np.array([c])) == int(np.argmin(np.abs(GRID - w)))
        assert yc.act(np.array([c]))[0] == pytest.approx(min(w, 1.95))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", [RelaxTsallisINFCB, ChebCB])
def test_context_outside_declared_interval_raises(cls):
    agent = cls(context_range=(-0.15, 0.65))
    agent.reset(SPACE, OBS, seed=0)
    for c in (-0.2, 0.7, float("nan")):
        with pytest.raises(BanditlabError, match="context"):
            agent.act(np.array([c]))


@pytest.mark.parametrize(
    ("agent", "match"),
    [
        (RelaxTsallisINFCB(n_bins=0), "n_bins"),
        (RelaxTsallisINFCB(context_range=(0.5, 0.1)), "context_range"),
        (RelaxTsallisINF(omega_grid=[1.0, 1.5]), "omega_grid"),
        (RelaxTsallisINF(newton_steps=0), "newton_steps"),
        (ChebCB(n_features=0), "n_features"),
        (ChebCB(context_range=(0.0,)), "context_range"),
        (FixedOmega(omega=2.0), "omega"),
        (FixedOmega(omega=0.0), "omega"),
        (YoungOmega(beta0=1.2), "beta0"),
    ],
)
def test_bad_hyperparameters_raise(agent, match):
    with pytest.raises(BanditlabError, match=match):
        agent.reset(SPACE, OBS, seed=0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda env: GridInstanceOptimal(), "^oracle: expected the env's SOROracle"),
        (lambda env: SORBestFixedHindsight(oracle="table"), "^oracle:"),
        (lambda env: GoldenSection(oracle=env.oracle, seed_omegas=(1.5, 1.2)), "^seed_omegas:"),
        (lambda env: GoldenSection(oracle=env.oracle, seed_omegas=(1.0, 2.0)), "^seed_omegas:"),
        (lambda env: GoldenSection(oracle=env.oracle, seed_omegas=(1.0,)), "^seed_omegas:"),
        (lambda env: GoldenSection(oracle=env.oracle, n_evals=3), "^n_evals:"),
        (lambda env: GoldenSection(oracle=env.oracle, n_evals=12.0), "^n_evals:"),
    ],
)
def test_bad_oracle_agent_hyperparameters(make, match):
    env = SORSequence(horizon=5)
    with pytest.raises(BanditlabError, match=match):
        make(env).reset(env.action_space, env.observation_space, seed=0)


def test_table_oracle_agents_need_the_discrete_grid():
    env = SORSequence(horizon=5, action_type="continuous", precompute=False)
    with pytest.raises(BanditlabError, match="^action_space:"):
        GridInstanceOptimal(oracle=env.oracle).reset(env.action_space, env.observation_space)
