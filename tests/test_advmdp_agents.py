"""Adversarial linear-Q MDP agents: solver, covariance estimators, bonus, estimator, learning."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from scipy.optimize import minimize

from banditlab.agents.advmdp.baselines import uniform_integer
from banditlab.agents.advmdp.covariance import (
    COV_CODES,
    cov_from_occupancy,
    cov_scratch,
    default_mgr_chain_length,
    inv_cov_into,
    mgr_chains,
    mgr_estimate,
    mgr_from_trajectories,
    regularised_inverse,
)
from banditlab.agents.advmdp.policy_opt import (
    DilatedBonusPO,
    LogBarrierPO,
    MagnitudeReducedPO,
    TabularExp3PO,
    dilate_bonus_exact,
    dilate_bonus_exact_into,
    estimate_and_accumulate,
    estimate_and_accumulate_into,
    expweights_policy,
    expweights_policy_into,
    immediate_bonus,
    immediate_bonus_into,
    logbarrier_policy,
    logbarrier_policy_into,
    logbarrier_weights,
)
from banditlab.core import BanditlabError
from banditlab.envs.advmdp.env import AdvLinearQMDP
from banditlab.envs.advmdp.model import cumulative_rows
from banditlab.harness import run
from banditlab.testing.claims import assert_claims

LEARNERS = (DilatedBonusPO, LogBarrierPO, MagnitudeReducedPO, TabularExp3PO)


def occupancy_np(P, pi, start=None):
    """Independent occupancy (optionally from a start pair (h, s, a))."""
    H, N, A = pi.shape
    q = np.zeros((H, N, A))
    if start is None:
        dist = np.zeros(N)
        dist[0] = 1.0
        h0 = 0
    else:
        h0, s0, a0 = start
        q[h0, s0, a0] = 1.0
        dist = None
    for h in range(h0, H):
        if dist is not None:
            q[h] = dist[:, None] * pi[h]
        if h + 1 < H:
            dist = np.einsum("sa,san->n", q[h], P[h])
    return q


# ----------------------------------------------------------------------------- log-barrier
def _lb_objective(p, c, eta):
    return float(p @ c - np.sum(np.log(p)) / eta)


@pytest.mark.parametrize("newton", [True, False])
def test_logbarrier_solver_minimises_its_objective(newton):
    rng = np.random.default_rng(0)
    for _ in range(30):
        A = int(rng.integers(2, 7))
        c = rng.normal(0, 10 ** rng.uniform(-1, 2), A)
        eta = 10 ** rng.uniform(-2, 1)
        p = logbarrier_weights(c, eta, newton)
        assert abs(p.sum() - 1) < 1e-12 and np.all(p > 0)
        # generic solver: SLSQP on the simplex, and BFGS on a softmax parametrisation
        cons = {"type": "eq", "fun": lambda x: x.sum() - 1}
        r1 = minimize(
            _lb_objective, np.full(A, 1 / A), args=(c, eta), method="SLSQP",
            bounds=[(1e-300, 1)] * A, constraints=[cons], options={"ftol": 1e-14, "maxiter": 500},
        )
        r2 = minimize(
            lambda z, c=c, eta=eta: _lb_objective(np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
                                                  c, eta),
            np.zeros(A), method="BFGS", options={"gtol": 1e-12},
        )
        ours = _lb_objective(p, c, eta)
        for x in (r1.x / r1.x.sum(), np.exp(r2.x - r2.x.max()) / np.exp(r2.x - r2.x.max()).sum()):
            fx = _lb_objective(x, c, eta)
            assert ours <= fx + 1e-9 * (1 + abs(fx))
            # the objective is (1/eta)-strongly convex on the simplex:
            # ||p - x||^2 <= 2 eta (f(x) - f(p))
            assert np.sum((p - x) ** 2) <= 2 * eta * max(fx - ours, 0.0) + 1e-14
        # KKT: c_a + lambda = 1/(eta p_a) has the same lambda for every a
        lam = 1 / (eta * p) - c
        assert np.ptp(lam) <= 1e-8 * (1 + np.abs(lam).max())


@pytest.mark.parametrize("newton", [True, False])
def test_logbarrier_solver_extreme_inputs_never_nan(newton):
    cases = [
        np.array([-1e6, 0.0, 1e6]),
        np.array([-1e300, -1e300, 5.0]),
        np.array([-1e308, 1e308, 0.0, 3.0]),
        np.array([-5e15, -5e15 + 1.0]),
        np.zeros(5),
    ]
    for c in cases:
        for eta in (1e-6, 1.0, 1e3):
            p = logbarrier_weights(c, eta, newton)
            assert np.all(np.isfinite(p)) and np.all(p >= 0)
            assert abs(p.sum() - 1) < 1e-12
            assert p[np.argmin(c)] == p.max()


def test_expweights_policy_is_the_softmax():
    rng = np.random.default_rng(1)
    C = rng.normal(0, 50, (3, 4, 3))
    pi = expweights_policy(C, 0.3)
    ref = np.exp(-0.3 * (C - C.min(axis=2, keepdims=True)))
    np.testing.assert_allclose(pi, ref / ref.sum(axis=2, keepdims=True), rtol=1e-12)


# ----------------------------------------------------------------------------- covariance
def _mgr_chain_numpy(feats, gamma, c):
    """Independent reference: one MGR chain by dense matrix products."""
    d = feats.shape[1]
    Z, S = np.eye(d), c * np.eye(d)
    for f in feats:
        Z = Z @ (np.eye(d) - c * (gamma * np.eye(d) + np.outer(f, f)))
        S = S + c * Z
    return S


def test_mgr_averages_independent_chains_and_its_mean_is_the_exact_inverse():
    """Luo et al.'s MGR: M independent chains of N draws, averaged, not symmetrised.

    Mean over R repeats against (a) the truncated Neumann series (within 5 standard
    errors per entry) and (b) the exact (gamma I + Sigma)^{-1} (within the truncation
    bound ||(gamma I + Sigma)^{-1}|| (1 - c gamma)^{N+1} plus 5 standard errors).
    """
    rng = np.random.default_rng(2)
    d, n_support = 3, 5
    support = rng.dirichlet(np.ones(d) * 0.5, n_support)
    w = rng.dirichlet(np.ones(n_support))
    sigma = np.einsum("k,ki,kj->ij", w, support, support)
    gamma, c, M = 0.1, 0.5, 8
    N = default_mgr_chain_length(gamma, c, 1000)  # bias <= 1e-3 in operator norm
    assert N == 185
    eye = np.eye(d)
    exact = np.linalg.inv(gamma * eye + sigma)
    step = eye - c * (gamma * eye + sigma)
    truncated = exact @ (eye - np.linalg.matrix_power(step, N + 1))
    np.testing.assert_allclose(
        truncated, sum(c * np.linalg.matrix_power(step, j) for j in range(N + 1)), atol=1e-12
    )
    # structure: chain m uses draws m N .. (m + 1) N - 1; the estimate is the plain mean
    feats = support[rng.choice(n_support, M * N, p=w)]
    singles = [_mgr_chain_numpy(feats[m * N:(m + 1) * N], gamma, c) for m in range(M)]
    for m in range(M):
        np.testing.assert_allclose(mgr_estimate(feats[m * N:(m + 1) * N], gamma, c),
                                   singles[m], rtol=1e-11, atol=1e-12)
    est = mgr_chains(feats, gamma, c, M)
    np.testing.assert_allclose(est, np.mean(singles, axis=0), rtol=1e-11, atol=1e-12)
    assert np.abs(est - est.T).max() > 1e-3  # not symmetrised
    # the per-layer wrapper: one layer whose "states" are the draws, one trajectory each
    phi1 = feats[None, :, None, :]  # (H=1, n=M N, A=1, d)
    traj = np.stack([np.arange(M * N), np.zeros(M * N, np.int64)], axis=1)[:, None, :]
    np.testing.assert_allclose(mgr_from_trajectories(phi1, traj, gamma, c, M)[0], est,
                               rtol=1e-12, atol=1e-14)
    single = mgr_from_trajectories(phi1, traj, gamma, c, 1, symmetrise=True)[0]
    ref = _mgr_chain_numpy(feats, gamma, c)  # banditlab's earlier estimator: one chain,
    np.testing.assert_allclose(single, 0.5 * (ref + ref.T), rtol=1e-10, atol=1e-10)  # sym.
    # statistics over repeats
    R = 1500
    idx = rng.choice(n_support, (R, M * N), p=w)
    draws = np.stack([mgr_chains(support[idx[r]], gamma, c, M) for r in range(R)])
    ones = np.stack([mgr_chains(support[idx[r, :N]], gamma, c, 1) for r in range(R)])
    mean = draws.mean(axis=0)
    se = draws.std(axis=0, ddof=1) / np.sqrt(R)
    assert np.all(np.abs(mean - truncated) <= 5 * se)
    bias_bound = np.linalg.norm(exact, 2) * (1 - c * gamma) ** (N + 1)
    assert bias_bound < 1e-3
    assert np.all(np.abs(mean - exact) <= bias_bound + 5 * se)
    # independent chains: averaging M of them divides the variance by M (sampling error of
    # the variance ratio with R = 1500 repeats is about 5%; margin 25%)
    ratio = draws.var(axis=0, ddof=1).sum() / ones.var(axis=0, ddof=1).sum()
    assert 0.75 / M < ratio < 1.25 / M, ratio


def test_covariance_estimators_against_dense_linear_algebra():
    env = AdvLinearQMDP(n_episodes=4, simulator_mode="exact")
    env.reset(seed=0)
    rng = np.random.default_rng(3)
    pi = rng.dirichlet(np.ones(env.A), size=(env.H, env.N))
    q = occupancy_np(env.P, pi)
    sig = np.einsum("hsa,hsai,hsaj->hij", q, env.phi, env.phi)
    np.testing.assert_allclose(cov_from_occupancy(env.phi, q), sig, atol=1e-14)
    gamma = 0.05
    exact = np.linalg.inv(sig + gamma * np.eye(env.d))
    np.testing.assert_allclose(regularised_inverse(sig, gamma), exact, rtol=1e-10)
    # the Cholesky inverse on larger, ill-conditioned SPD matrices
    for d in (1, 7, 40):
        X = rng.normal(size=(2, d, d)) * np.logspace(0, -3, d)
        S = np.einsum("hij,hkj->hik", X, X)
        np.testing.assert_allclose(
            regularised_inverse(S, 1e-3),
            np.linalg.inv(S + 1e-3 * np.eye(d)),
            rtol=1e-8, atol=1e-8 * np.abs(np.linalg.inv(S + 1e-3 * np.eye(d))).max(),
        )
    agent = LogBarrierPO(cov_estimator="direct", gamma=gamma, n_cov_samples=10000)
    agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
    err = np.abs(agent.cov_.inv_cov(env.phi, pi, env.simulator) - exact).max()
    # 10000 samples: max error ~1% of the scale (2.5% worst of 20 repeats, measured)
    assert err < 0.06 * np.abs(exact).max()
    # MGR through the same interface (simulator trajectories): 4 chains of 60 draws from a
    # budget of 250 (10 trajectories unused); mean over repeated calls matches the truncated
    # Neumann series of the true covariance
    N, c, R = 60, 0.5, 250
    agent = LogBarrierPO(cov_estimator="mgr", gamma=gamma, n_cov_samples=250, mgr_c=c,
                         mgr_chain_length=N)
    agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
    assert (agent.cov_.n_chains, agent.cov_.chain_length) == (4, N)
    draws = np.stack([agent.cov_.inv_cov(env.phi, pi, env.simulator) for _ in range(R)])
    eye = np.eye(env.d)
    for h in range(env.H):
        step = eye - c * (gamma * eye + sig[h])
        truth = sum(c * np.linalg.matrix_power(step, j) for j in range(N + 1))
        se = draws[:, h].std(axis=0) / np.sqrt(R)
        assert np.all(np.abs(draws[:, h].mean(axis=0) - truth) <= 5 * se + 1e-9)
    assert env.simulator.sim_calls == 10000 + 4 * N * R


def _garbage(x, rng):
    """Fill a scratch array with values a kernel must not read before writing."""
    if x.dtype.kind == "f":
        x[...] = rng.choice([np.nan, np.inf, -1e300, 7.5], size=x.shape)
    else:
        x[...] = rng.integers(-(2**40), 2**40, size=x.shape)


@pytest.mark.parametrize("kind", ["exact", "direct", "mgr"])
def test_covariance_scratch_is_written_before_it_is_read(kind):
    """The episode kernels reuse one scratch per run: stale contents never change a result."""
    env = AdvLinearQMDP(n_episodes=4, simulator_mode="exact")
    H, N, A, d = env.phi.shape
    rng = np.random.default_rng(5)
    pi = rng.dirichlet(np.ones(A), size=(H, N))
    cumpi = cumulative_rows(pi)
    outs = []
    for dirty in (False, True, True):
        env.reset(seed=2)
        scratch = cov_scratch(H, N, A, d, 60)
        if dirty:
            for name, buf in zip(scratch._fields, scratch, strict=True):
                if name != "start":  # the constant start triple (-1, 0, 0)
                    _garbage(buf, rng)
        out = np.full((H, d, d), np.nan)
        inv_cov_into(out, env.phi, pi, cumpi, COV_CODES[kind], 0.05, 0.5, 3, False,
                     env.simulator.handle_, env.simulator.rng_, scratch)
        outs.append(out)
    assert np.all(np.isfinite(outs[0]))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_in_place_kernels_equal_the_allocating_ones():
    """Every ``*_into`` kernel gives its allocating counterpart's numbers on stale buffers."""
    env = AdvLinearQMDP(H=4, N=5, A=3, n_episodes=2)
    H, N, A, d = env.phi.shape
    rng = np.random.default_rng(8)
    C = rng.normal(size=(H, N, A)) * 30.0
    pi = rng.dirichlet(np.ones(A), size=(H, N))
    sig_inv = np.stack([np.linalg.inv(np.eye(d) * 0.1 + np.cov(rng.random((d, 9))))
                        for _ in range(H)])

    def buf(*shape):
        x = np.empty(shape)
        _garbage(x, rng)
        return x

    for newton in (True, False):
        out = buf(H, N, A)
        logbarrier_policy_into(out, C, 0.7, newton, buf(A))
        np.testing.assert_array_equal(out, logbarrier_policy(C, 0.7, newton))
    out = buf(H, N, A)
    expweights_policy_into(out, C, 0.7)
    np.testing.assert_array_equal(out, expweights_policy(C, 0.7))
    for clip in (False, True):
        b = buf(H, N, A)
        immediate_bonus_into(b, buf(H, N, A), env.phi, sig_inv, pi, 0.4, clip)
        np.testing.assert_array_equal(b, immediate_bonus(env.phi, sig_inv, pi, 0.4, clip))
    B = buf(H, N, A)
    dilate_bonus_exact_into(B, env.P, pi, b, buf(N))
    np.testing.assert_array_equal(B, dilate_bonus_exact(env.P, pi, b))
    states = rng.integers(0, N, size=H)
    states[0] = 0
    actions = rng.integers(0, A, size=H)
    losses = rng.random(H)
    C1, C2, theta = C.copy(), C.copy(), buf(H, d)
    estimate_and_accumulate_into(theta, C1, env.phi, sig_inv, states, actions, losses, B, -2.0)
    ref = estimate_and_accumulate(C2, env.phi, sig_inv, states, actions, losses, B, -2.0)
    np.testing.assert_array_equal(theta, ref)
    np.testing.assert_array_equal(C1, C2)


@pytest.mark.parametrize(
    "n", [1, 2, 3, 7, 1000, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**40, 2**62 + 3])
def test_uniform_integer_is_the_integers_draw(n):
    """Uniform play's allocation-free draw is ``rng.integers(0, n)``, stream state included."""
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    for _ in range(50):
        assert uniform_integer(a, n) == b.integers(0, n)
    assert a.bit_generator.state == b.bit_generator.state
    assert a.random() == b.random()


# ----------------------------------------------------------------------------- bonus, estimator
def test_dilated_bonus_matches_the_unrolled_sum():
    """B_h(s, a) = sum_{h' >= h} (1 + 1/H)^{h' - h} E[b(s_h', a_h') | s_h = s, a_h = a]."""
    env = AdvLinearQMDP(H=4, N=3, A=2, n_episodes=2)
    rng = np.random.default_rng(4)
    pi = rng.dirichlet(np.ones(2), size=(4, 3))
    sig_inv = np.stack([np.linalg.inv(np.eye(env.d) * 0.1 + np.cov(rng.random((env.d, 9))))
                        for _ in range(4)])
    b = immediate_bonus(env.phi, sig_inv, pi, 0.7, False)
    nrm = np.einsum("hsai,hij,hsaj->hsa", env.phi, sig_inv, env.phi)
    np.testing.assert_allclose(
        b, 0.7 * (nrm + (pi * nrm).sum(axis=2, keepdims=True)), rtol=1e-12
    )
    # an indefinite estimate (as MGR's can be): forms used as they are, or floored at 0
    sq = np.einsum("hsai,hsai->hsa", env.phi, env.phi)
    ratio = (nrm / np.where(sq > 0, sq, 1.0))[sq > 0]
    indef = sig_inv - np.median(ratio) * np.eye(env.d)
    nrm = np.einsum("hsai,hij,hsaj->hsa", env.phi, indef, env.phi)
    assert (nrm < 0).any() and (nrm > 0).any()
    for clip, ref in ((False, nrm), (True, np.maximum(nrm, 0.0))):
        np.testing.assert_allclose(
            immediate_bonus(env.phi, indef, pi, 0.7, clip),
            0.7 * (ref + (pi * ref).sum(axis=2, keepdims=True)), rtol=1e-12, atol=1e-15,
        )
    B = dilate_bonus_exact(env.P, pi, b)
    for h, s, a in itertools.product(range(4), range(3), range(2)):
        q = occupancy_np(env.P, pi, start=(h, s, a))
        ref = sum((1 + 1 / 4) ** (hp - h) * np.sum(q[hp] * b[hp]) for hp in range(h, 4))
        assert B[h, s, a] == pytest.approx(ref, rel=1e-12)


def test_sampled_dilated_bonus_matches_exact_dp():
    """The Monte-Carlo backward pass (batched start-pair simulator draws) vs the exact DP."""
    env = AdvLinearQMDP(n_episodes=4, simulator_mode="exact")
    env.reset(seed=0)
    n = 20000
    agent = LogBarrierPO(bonus="sampled_dp", n_bonus_samples=n, gamma=0.1)
    agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(3), size=(3, 4))
    b = rng.random((3, 4, 3))
    before = env.simulator.sim_calls
    Bm = agent._dilate_sampled(pi, b)
    assert env.simulator.sim_calls - before == n * (1 * 3 + 4 * 3)  # layers 0 and 1
    Be = dilate_bonus_exact(env.P, pi, b)
    np.testing.assert_array_equal(Bm[2], Be[2])  # last layer: no expectation
    # each layer adds a mean of n draws of a value in [0, max Be]; errors compound over H
    tol = 5 * env.H * (1 + 1 / env.H) * Be.max() / np.sqrt(n)
    assert np.abs(Bm[0, 0] - Be[0, 0]).max() < tol
    assert np.abs(Bm[1:] - Be[1:]).max() < tol
    with pytest.raises(BanditlabError, match="^start:"):
        env.simulator.sample(pi, 2, start=np.array([[0, 1, 0]]))


def test_estimator_mean_is_the_regularised_projection_of_theta():
    """Enumerating all trajectories: E[thetahat_h] = (gamma I + Sigma_h)^{-1} Sigma_h theta_h."""
    env = AdvLinearQMDP(H=2, N=2, A=2, d=3, n_episodes=2, schedule="stationary")
    env.reset(seed=0)
    rng = np.random.default_rng(5)
    pi = rng.dirichlet(np.ones(2), size=(2, 2))
    gamma = 0.05
    q = occupancy_np(env.P, pi)
    sig = np.einsum("hsa,hsai,hsaj->hij", q, env.phi, env.phi)
    sig_inv = np.linalg.inv(sig + gamma * np.eye(3))
    loss = env.oracle.loss_table(0)
    mean = np.zeros((2, 3))
    for a0, s1, a1 in itertools.product(range(2), repeat=3):
        prob = pi[0, 0, a0] * env.P[0, 0, a0, s1] * pi[1, s1, a1]
        states = np.array([0, s1])
        actions = np.array([a0, a1])
        losses = np.array([loss[0, 0, a0], loss[1, s1, a1]])
        C = np.zeros((2, 2, 2))
        theta = estimate_and_accumulate(
            C, env.phi, sig_inv, states, actions, losses, np.zeros((2, 2, 2)), -np.inf
        )
        np.testing.assert_allclose(C, np.einsum("hsad,hd->hsa", env.phi, theta), atol=1e-12)
        mean += prob * theta
    theta_true = env.oracle.theta(pi, 0)
    np.testing.assert_allclose(mean, np.einsum("hij,hjk,hk->hi", sig_inv, sig, theta_true),
                               atol=1e-12)


def test_tabular_reduction_is_importance_weighting():
    """With one-hot features and exact covariance, Qhat = L 1[(s,a) visited] / (gamma + q)."""
    env = AdvLinearQMDP(tabular=True, n_episodes=8, simulator_mode="exact")
    for cls in (LogBarrierPO, TabularExp3PO):
        agent = cls(gamma=1e-3, beta=0.0, cov_estimator="exact")
        obs, _ = env.reset(seed=2)
        agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
        pi = agent.policy_table()
        q = occupancy_np(env.P, pi)
        visited, losses = [], []
        done = False
        while not done:
            a = agent.act(obs)
            nobs, r, done, _, info = env.step(a)
            agent.update(obs, a, r, nobs, done)
            visited.append((int(obs["h"]), int(obs["s"]), a))
            losses.append(info["loss"])
            obs = nobs
        expect = np.zeros_like(agent.C_)
        for i, (h, s, a) in enumerate(visited):
            expect[h, s, a] = sum(losses[i:]) / (1e-3 + q[h, s, a])
        np.testing.assert_allclose(agent.C_[0, 0], expect[0, 0], rtol=1e-9)
        np.testing.assert_allclose(agent.C_[1:], expect[1:], rtol=1e-9)


def test_a2_candidate_truncates_from_below():
    env = AdvLinearQMDP(n_episodes=64, simulator_mode="exact")
    agent = MagnitudeReducedPO(c_eta=30.0, beta=0.0, trunc_c=0.5, cov_estimator="exact")
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
    lower = -0.5 / agent.eta_
    for k in range(64):
        if k:
            obs, _ = env.reset()
        before = agent.C_.copy()
        agent.policy_table()
        done = False
        while not done:
            a = agent.act(obs)
            nobs, r, done, _, _ = env.step(a)
            agent.update(obs, a, r, nobs, done)
            obs = nobs
        assert np.all(agent.C_ - before >= lower - 1e-9)


# ----------------------------------------------------------------------------- agent contract
@pytest.mark.parametrize("cls", LEARNERS)
def test_agent_contract_determinism_pickle_clone(cls):
    env = AdvLinearQMDP(n_episodes=40)  # default sample-mode simulator
    agent = cls()
    res1 = run(env, agent, seed=3, run_length=12)
    res2 = run(env, cls(**agent.get_params()), seed=3, run_length=12)
    for key in res1.curves:
        if key != "wall_time_s":
            np.testing.assert_array_equal(res1.curves[key], res2.curves[key])
    assert res1.finals["sim_calls"] > 0
    # pickle mid-run: continuations agree
    obs, _ = env.reset(seed=1)
    agent.reset(env.action_space, env.observation_space, seed=5, simulator=env.simulator)
    for _ in range(4):
        a = agent.act(obs)
        nobs, r, done, _, _ = env.step(a)
        agent.update(obs, a, r, nobs, done)
        obs = nobs if not done else env.reset()[0]
    env2, agent2 = pickle.loads(pickle.dumps((env, agent)))
    agent2.simulator_ = env2.simulator
    outs = []
    for e, ag, o in ((env, agent, obs), (env2, agent2, obs)):
        seq = []
        for _ in range(9):
            a = ag.act(o)
            no, r, done, _, _ = e.step(a)
            ag.update(o, a, r, no, done)
            seq.append(a)
            o = no if not done else e.reset()[0]
        pt = ag.policy_table()
        assert np.all(np.isfinite(pt)) and np.allclose(pt.sum(axis=2), 1)
        outs.append((seq, pt))
    assert outs[0][0] == outs[1][0]
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"c_eta": 0.0}, "^c_eta:"),
        ({"c_beta": -1.0}, "^c_beta:"),
        ({"gamma": -0.1}, "^gamma:"),
        ({"cov_estimator": "qr"}, "^cov_estimator:"),
        ({"bonus": "sampled"}, "^bonus:"),
        ({"n_cov_samples": 0}, "^n_cov_samples:"),
        ({"mgr_c": 0.9}, "^mgr_c:"),
        ({"features": np.full((3, 4, 3, 2), 0.9)}, r"^features: every \|\|phi"),
        ({"cov_estimator": "exact"}, "^cov_estimator: 'exact' needs"),
        ({"cov_estimator": "auto"}, "^cov_estimator:"),
        ({"bonus": "exact_dp"}, "^bonus: 'exact_dp' needs"),
        ({"mgr_variant": "sym"}, "^mgr_variant:"),
        ({"mgr_chain_length": 0}, "^mgr_chain_length:"),
        ({"n_cov_samples": 10, "mgr_chain_length": 11}, "^mgr_chain_length: 11 exceeds"),
        ({"clip_bonus_norms": "yes"}, "^clip_bonus_norms:"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    env = AdvLinearQMDP(n_episodes=8)
    env.reset(seed=0)
    agent = LogBarrierPO(**kwargs)
    with pytest.raises(BanditlabError, match=match):
        agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"trunc_c": 0.0}, "^trunc_c:"),
        ({"beta_floor": 1}, "^beta_floor:"),
        ({"n_bonus_samples": 2.5}, "^n_bonus_samples:"),
        ({"eta": float("nan")}, "^eta:"),
    ],
)
def test_bad_magnitude_reduced_hyperparameters(kwargs, match):
    env = AdvLinearQMDP(n_episodes=8)
    env.reset(seed=0)
    agent = MagnitudeReducedPO(**kwargs)
    with pytest.raises(BanditlabError, match=match):
        agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)


def test_labels_name_the_variants():
    assert DilatedBonusPO().label() == "Dilated-Bonus PO [backward-pass bonus]"
    assert LogBarrierPO(cov_estimator="exact", bonus="exact_dp").label() == (
        "Log-Barrier PO [backward-pass bonus, exact covariance, exact bonus]")
    assert LogBarrierPO(mgr_variant="single_chain", clip_bonus_norms=True).label() == (
        "Log-Barrier PO [backward-pass bonus, single-chain MGR, clipped bonus norms]")
    assert LogBarrierPO(cov_estimator="direct", mgr_variant="single_chain").label() == (
        "Log-Barrier PO [backward-pass bonus, direct covariance]")
    assert MagnitudeReducedPO(beta_floor=True).label() == "A2-candidate PO [bonus floor]"
    assert TabularExp3PO().label() == "Tabular Exp3 PO"


def test_default_mgr_budget_split():
    """Defaults: M = budget // N independent chains of N = ceil(ln(K/gamma)/(c gamma)) draws."""
    env = AdvLinearQMDP(n_episodes=4096)
    env.reset(seed=0)
    agent = DilatedBonusPO()
    agent.reset(env.action_space, env.observation_space, seed=0, simulator=env.simulator)
    gamma = agent.gamma_
    assert gamma == pytest.approx(3 * 3.0 * 4096 ** (-2 / 3))
    budget = min(4096, int(np.ceil(4 * np.log(4 * 3 * 4096) / gamma**2)))
    length = int(np.ceil(np.log(4096 / gamma) / (0.5 * gamma)))
    assert (agent.cov_.chain_length, agent.cov_.n_chains) == (length, budget // length)
    before = env.simulator.sim_calls
    agent.policy_table()  # one covariance estimate (M N draws) and the sampled bonus
    n_bonus = 8 * (3 + 4 * 3)
    assert env.simulator.sim_calls - before == budget // length * length + n_bonus


def test_missing_simulator_and_solver_name():
    env = AdvLinearQMDP(n_episodes=8)
    with pytest.raises(BanditlabError, match="^simulator:"):
        DilatedBonusPO().reset(env.action_space, env.observation_space, seed=0)
    with pytest.raises(BanditlabError, match="^log_barrier_solver:"):
        LogBarrierPO(log_barrier_solver="brent").reset(
            env.action_space, env.observation_space, seed=0, simulator=env.simulator
        )


# ----------------------------------------------------------------------------- learning
def test_e1_claims_at_reduced_scale():
    """ALM-E1's claims (advmdp_e1_regret_vs_k.toml, K = 2048, 4 seeds, exact simulator).

    Every learner well below uniform play (ratios of final static pseudo-regret: log-barrier
    and A2-candidate <= 0.5, dilated-bonus and tabular <= 0.8), uniform play linear, and
    log-barrier FTRL's anytime slope (<= 0.75) below the exponential-weights one (>= 0.75).
    """
    assert_claims("advmdp_e1_regret_vs_k", scale="reduced")
