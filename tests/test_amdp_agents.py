"""Average-reward agents: regret on RiverSwim-6, switch bounds, one-hot reductions, parity."""

import math

import numpy as np
import pytest

from banditlab.agents.amdp.baselines import TabularPolicy
from banditlab.agents.amdp.linear import LOOPLin, discounted_optimistic_plan, fixed_point_plan
from banditlab.agents.amdp.loop import LOOPMix, mix_plan, one_hot_mixture_features
from banditlab.agents.amdp.ucrl2 import UCRL2
from banditlab.envs.amdp.env import LinearAMDP, LinearMixtureAMDP, RiverSwim
from banditlab.harness import run
from banditlab.registry import make_agent, make_benchmark_policy

T = 10_000
SEEDS = (0, 1)
# The Python path is used throughout: it needs no fused-loop compilation (the conformance
# suite checks fused/Python parity), which keeps the cold-cache time of this file low.
BACKEND = "python"


def _uniform_expected_regret(env, horizon):
    """Exact expected pseudo-regret of the uniform policy by propagating the state law."""
    o = env.unwrapped.oracle
    P_u = o.P.mean(axis=1)
    r_u = o.r.mean(axis=1)
    d = np.zeros(o.r.shape[0])
    d[env.unwrapped.start_state] = 1.0
    total = 0.0
    for _ in range(horizon):
        total += o.gain - d @ r_u
        d = d @ P_u
    return total


@pytest.fixture(scope="module")
def riverswim_runs():
    agents = {
        "ucrl2_l": lambda: UCRL2(radius="laplace"),
        "ucrl2_joa": lambda: UCRL2(radius="joa"),
        "loop_tab": lambda: make_agent("LOOPTab-v0"),
    }
    out = {}
    for name, factory in agents.items():
        out[name] = [run(("banditlab/RiverSwim-v0", {"horizon": T}), factory(), seed=s,
                         checkpoints=[T // 4, T // 2, T], backend=BACKEND) for s in SEEDS]
    return out


def _at(result, t, metric="pseudo_regret/gain"):
    return float(result.curves[metric][list(result.t).index(t)])


def test_optimistic_agents_concave_and_below_uniform(riverswim_runs):
    env = RiverSwim(horizon=T)
    uni = _uniform_expected_regret(env, T)
    # Uniform never reaches the right end: regret ~ J* T.
    assert uni > 0.9 * env.oracle.gain * T
    for name in ("ucrl2_l", "loop_tab"):
        runs = riverswim_runs[name]
        final = np.mean([r.finals["pseudo_regret/gain"] for r in runs])
        half = np.mean([_at(r, T // 2) for r in runs])
        assert final < 0.3 * uni, name
        # Concavity: the second half adds much less regret than the first.
        assert final - half < 0.6 * half, name
        for r in runs:
            # Realised regret equals pseudo-regret here (deterministic rewards).
            assert r.finals["regret/gain"] == pytest.approx(r.finals["pseudo_regret/gain"])


def test_ucrl2_original_radii_still_in_burn_in(riverswim_runs):
    """JMLR radii are vacuous for ~14 S ln(2 A t / delta) visits: regret still grows ~ J* t."""
    J = RiverSwim().oracle.gain
    for r in riverswim_runs["ucrl2_joa"]:
        second_half = r.finals["pseudo_regret/gain"] - _at(r, T // 2)
        assert second_half > 0.5 * J * (T // 2)


def test_doubling_switch_bound(riverswim_runs):
    """UCRL2 episodes: at most S A log2(8 T / (S A)) (Jaksch et al. 2010, episode-count bound)."""
    S, A = 6, 2
    bound = S * A * math.log2(8 * T / (S * A)) + 1
    for name in ("ucrl2_l", "ucrl2_joa", "loop_tab"):
        for r in riverswim_runs[name]:
            assert 1 <= r.finals["agent/switches"] <= bound


def test_loop_linear_agents_learn_with_few_switches():
    """Regret well below uniform; determinant doubling gives O(d log T) switches."""
    n = 4000
    env = LinearAMDP(dim=4, horizon=n)
    phi = env.known_constants["features"]
    agent = LOOPLin(features=phi, span_bound=env.known_constants["span_bound"], horizon=n)
    res = run(env, agent, seed=0, backend=BACKEND)
    d = phi.shape[2]
    # ||phi||_2 <= 1 for Dirichlet features: log det grows by at most d log(1 + T / d).
    assert 1 <= res.finals["agent/switches"] <= 1 + d * math.log2(1 + n / d)
    assert res.finals["pseudo_regret/gain"] < 0.2 * _uniform_expected_regret(env, n)

    env_m = LinearMixtureAMDP(horizon=n)
    kc = env_m.known_constants
    mix = LOOPMix(mixture_features=kc["mixture_features"], span_bound=kc["span_bound"],
                  theta_norm_bound=kc["theta_norm_bound"])
    res_m = run(env_m, mix, seed=0, backend=BACKEND)
    S, A = env_m.oracle.r.shape
    dm = kc["mixture_features"].shape[3]
    x_max = kc["span_bound"] * np.abs(kc["mixture_features"]).sum(axis=2).max() * np.sqrt(dm)
    # Determinant doublings plus reward-count doublings (at most S A (1 + log2 T)).
    bound_m = 1 + dm * math.log2(1 + n * x_max**2 / dm) + S * A * (1 + math.log2(n))
    assert 1 <= res_m.finals["agent/switches"] <= bound_m
    assert res_m.finals["pseudo_regret/gain"] < 0.5 * _uniform_expected_regret(env_m, n)


def _rollout(env, agent, n, seed=0):
    """Play ``n`` steps on the Python path; return the transitions."""
    obs, _ = env.reset(seed=seed)
    agent.reset(env.action_space, env.observation_space, seed=seed)
    rng = np.random.default_rng(seed)
    data = []
    for _ in range(n):
        agent.act(obs)  # triggers the agent's own planning; the action taken is random
        a = int(rng.integers(env.action_space.n))
        nxt, r, term, _, _ = env.step(a)
        agent.update(obs, a, r, nxt, term)
        data.append((int(obs), a, r, int(nxt)))
        obs = nxt
    return data


def test_loop_lin_one_hot_reduces_to_tabular_optimism():
    """One-hot phi: the LSVI plan equals tabular optimistic discounted VI with ridge counts."""
    env = RiverSwim(horizon=2000)
    S, A = 6, 2
    lam, beta, B, gamma = 1.0, 0.7, 3.0, 0.98
    agent = LOOPLin(lambda_reg=lam, beta=beta, span_bound=B, horizon=2500)
    data = _rollout(env, agent, 1500)
    st = agent.state_
    # Sherman-Morrison inverse equals the dense inverse.
    phi = np.eye(S * A).reshape(S, A, S * A)
    X = np.array([phi[s, a] for s, a, _, _ in data])
    np.testing.assert_allclose(st.lam_inv, np.linalg.inv(lam * np.eye(S * A) + X.T @ X),
                               atol=1e-12)
    v = np.zeros(S)
    q = np.zeros((S, A))
    discounted_optimistic_plan(phi, st.lam_inv, st.b_r, st.m, v, beta, B, gamma, 300, 1e-300,
                               q)
    # Independent tabular computation.
    N = np.zeros((S, A))
    C = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s, a, r, s2 in data:
        N[s, a] += 1
        C[s, a, s2] += 1
        R[s, a] += r
    cap = 1 + 2 * B
    bonus = beta * cap / np.sqrt(N + lam)
    vt = np.zeros(S)
    for _ in range(300):
        qt = np.minimum((R + gamma * C @ vt) / (N + lam) + bonus, cap)
        w = qt.max(axis=1)
        vt = np.minimum(w - w.min(), 2 * B)
    np.testing.assert_allclose(q, qt, atol=1e-9)
    np.testing.assert_allclose(v, vt, atol=1e-9)


def test_loop_mix_statistics_match_dense_ridge():
    """VTR statistics: Lambda^-1 and theta_hat equal the dense ridge solution on the logged data."""
    env = RiverSwim(horizon=800)
    S, A = 6, 2
    psi = one_hot_mixture_features(S, A)
    agent = LOOPMix(mixture_features=psi, span_bound=6.5, evi_max_iter=50)
    obs, _ = env.reset(seed=4)
    agent.reset(env.action_space, env.observation_space, seed=4)
    rng = np.random.default_rng(4)
    X, y = [], []
    for _ in range(600):
        agent.act(obs)
        target = agent.state_.target.copy()  # the target the next update regresses on
        a = int(rng.integers(A))
        nxt, r, term, _, _ = env.step(a)
        s = int(obs)
        X.append(np.einsum("jk,j->k", psi[s, a], target))
        y.append(target[int(nxt)])
        agent.update(obs, a, r, nxt, term)
        obs = nxt
    X, y = np.array(X), np.array(y)
    d = psi.shape[3]
    dense = np.linalg.inv(np.eye(d) + X.T @ X)
    np.testing.assert_allclose(agent.state_.lam_inv, dense, atol=1e-9)
    np.testing.assert_allclose(agent.state_.lam_inv @ agent.state_.b, dense @ X.T @ y, atol=1e-8)
    # A plan re-centres the new target, clips its span to B and refreshes psi_V.
    mix_plan(agent.state_, agent.kernel_.hparams, 601)
    tgt = agent.state_.target
    assert tgt.min() == 0.0 and np.ptp(tgt) <= 6.5 + 1e-12
    np.testing.assert_allclose(agent.state_.psi_v, np.einsum("sajk,j->sak", psi, tgt),
                               atol=1e-12)


def test_optimal_policy_agent_matches_oracle():
    env = RiverSwim(horizon=2000)
    opt = make_benchmark_policy(env.oracle, "optimal")
    assert isinstance(opt, TabularPolicy) and opt.get_tags()["oracle"]
    assert opt.registry_id == "AMDPTabularPolicy-v0"
    assert opt.policy == tuple(int(a) for a in env.oracle.policy)
    regs = np.array([run(env, opt, seed=s, backend=BACKEND).finals["pseudo_regret/gain"]
                     for s in range(8)])
    # Expected pseudo-regret of pi* lies within +-sp(h*); paths fluctuate ~ sqrt(T).
    assert abs(regs.mean()) <= env.oracle.span + 4 * regs.std(ddof=1) / np.sqrt(len(regs))


def _policy_gain(P, r, policy):
    S = r.shape[0]
    Ppi = P[np.arange(S), policy]
    M = 0.5 * (Ppi + np.eye(S))
    for _ in range(60):
        M = M @ M
        M /= M.sum(axis=1, keepdims=True)
    return float((M @ r[np.arange(S), policy]).max())


@pytest.mark.parametrize("make", [lambda: RiverSwim(n=6), lambda: RiverSwim(n=5, variant="orel"),
                                  lambda: LinearAMDP(features="one_hot", n=4)])
def test_fixed_point_variant_finds_gain_with_exact_data(make):
    """One-hot phi with (almost) infinite data: the accepted J is J* up to the 0.01 grid."""
    o = make().unwrapped.oracle
    S, A = o.r.shape
    d, n = S * A, 1e7
    phi = np.eye(d).reshape(S, A, d)
    v, q = np.zeros(S), np.zeros((S, A))
    J, _ = fixed_point_plan(phi, np.eye(d) / (1 + n), n * o.r.reshape(-1), n * np.ones(d),
                            n * o.P.reshape(d, S), v, 1e-6, o.span, 101, 300, q)
    assert abs(J - o.gain) <= 0.0051
    assert _policy_gain(o.P, o.r, q.argmax(axis=1)) == pytest.approx(o.gain, abs=1e-9)


def test_fixed_point_variant_learns_riverswim():
    env = LinearAMDP(features="one_hot", n=6, horizon=3000)
    kc = env.known_constants
    agent = LOOPLin(features=kc["features"], span_bound=kc["span_bound"], horizon=3000,
                    variant="fixed_point", fp_iters=50, beta=0.3)
    res = run(env, agent, seed=0, backend=BACKEND, checkpoints=[1500, 3000])
    assert res.finals["pseudo_regret/gain"] < 0.5 * _uniform_expected_regret(env, 3000)
