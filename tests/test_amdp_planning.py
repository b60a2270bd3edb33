"""Average-reward planning: RVI, policy iteration and the LP agree; EVI against SciPy."""

import itertools

import numpy as np
import pytest
from numba import njit
from scipy.optimize import linprog, minimize

from banditlab.envs.amdp.env import (
    GridWorldAMDP,
    LinearAMDP,
    LinearMixtureAMDP,
    RiverSwim,
    SixArms,
    TwoStateLowerBound,
)
from banditlab.envs.amdp.planning import (
    ARGSORT_STACK,
    REGION_BOX,
    REGION_KL,
    REGION_L1,
    argsort_desc_into,
    evi_kernel,
    extended_value_iteration,
    extended_value_iteration_into,
    lp_gain,
    optimistic_box_transition,
    optimistic_kl_transition,
    optimistic_l1_transition,
    policy_iteration,
    project_bias,
    relative_value_iteration,
    rvi_into,
    rvi_kernel,
)

ENVS = {
    "riverswim6": lambda: RiverSwim(n=6),
    "riverswim12": lambda: RiverSwim(n=12),
    "riverswim6_orel": lambda: RiverSwim(n=6, variant="orel"),
    "sixarms": SixArms,
    "twostate": TwoStateLowerBound,
    "twostate_b": lambda: TwoStateLowerBound(delta=0.05, epsilon=0.02, n_actions=3),
    "grid_four_rooms": GridWorldAMDP,
    "grid_empty": lambda: GridWorldAMDP(layout="empty"),
    "linear_d4": lambda: LinearAMDP(dim=4),
    "linear_d8": LinearAMDP,
    "linear_d16": lambda: LinearAMDP(dim=16),
    "linear_one_hot": lambda: LinearAMDP(features="one_hot"),
    "mixture": LinearMixtureAMDP,
    "mixture_one_hot": lambda: LinearMixtureAMDP(mixture="one_hot"),
}


@pytest.fixture(scope="module", params=sorted(ENVS))
def model(request):
    env = ENVS[request.param]()
    return request.param, env.unwrapped.oracle


def test_three_solvers_agree(model):
    name, oracle = model
    P, r = oracle.P, oracle.r
    rvi = relative_value_iteration(P, r)
    pi, gvec = policy_iteration(P, r)
    lp = lp_gain(P, r, ref=rvi.ref)
    assert abs(rvi.gain - pi.gain) < 1e-8 and abs(rvi.gain - lp.gain) < 1e-8, name
    assert abs(rvi.span - pi.span) < 1e-8 and abs(rvi.span - lp.span) < 1e-8, name
    h_pi = pi.bias - pi.bias[rvi.ref]
    np.testing.assert_allclose(rvi.bias, h_pi, atol=1e-8)
    np.testing.assert_allclose(rvi.bias, lp.bias, atol=1e-8)
    # Constant optimal gain (weak communication) and the oracle uses the RVI values.
    assert np.ptp(gvec) < 1e-8
    assert oracle.gain == pytest.approx(rvi.gain, abs=1e-12)
    assert oracle.span == pytest.approx(rvi.span, abs=1e-10)


def test_bias_solves_optimality_equation(model):
    _, oracle = model
    P, r = oracle.P, oracle.r
    q = r + P @ oracle.bias
    resid = q.max(axis=1) - oracle.bias - oracle.gain
    assert np.max(np.abs(resid)) < 1e-8
    # pi* is greedy for (r, h*).
    S = r.shape[0]
    assert np.all(q[np.arange(S), oracle.policy] >= q.max(axis=1) - 1e-8)


def test_aperiodicity_rescaling():
    """The transform changes h_tau by 1/tau; the reported bias must not depend on tau."""
    oracle = RiverSwim(n=6).unwrapped.oracle
    a = relative_value_iteration(oracle.P, oracle.r, tau=0.3)
    b = relative_value_iteration(oracle.P, oracle.r, tau=0.9)
    assert a.span == pytest.approx(b.span, abs=1e-8)
    assert a.gain == pytest.approx(b.gain, abs=1e-10)


def _gain_of_policy(P, r, policy):
    S = r.shape[0]
    Ppi = P[np.arange(S), policy]
    # Stationary distribution from the start state by solving with the sum constraint;
    # all policies below are unichain.
    A = np.vstack([Ppi.T - np.eye(S), np.ones(S)])
    b = np.zeros(S + 1)
    b[-1] = 1.0
    mu = np.linalg.lstsq(A, b, rcond=None)[0]
    return float(mu @ r[np.arange(S), policy])


@pytest.mark.parametrize("factory", [lambda: RiverSwim(n=6), lambda: RiverSwim(n=5, variant="orel"),
                                     lambda: TwoStateLowerBound(delta=0.05, epsilon=0.02,
                                                                n_actions=3)])
def test_gain_against_brute_force(factory):
    oracle = factory().unwrapped.oracle
    S, A = oracle.r.shape
    best = max(_gain_of_policy(oracle.P, oracle.r, np.array(pol))
               for pol in itertools.product(range(A), repeat=S))
    assert oracle.gain == pytest.approx(best, abs=1e-9)


def test_two_state_closed_form():
    for delta, eps, k in [(0.1, 0.05, 2), (0.05, 0.02, 3)]:
        oracle = TwoStateLowerBound(delta=delta, epsilon=eps, n_actions=k).unwrapped.oracle
        assert oracle.gain == pytest.approx((delta + eps) / (2 * delta + eps), abs=1e-10)


def test_optimal_policy_expected_regret_within_span():
    """E sum_{t<=n} (J* - r(s_t, pi*(s_t))) stays within +-sp(h*) (exact propagation)."""
    for env in (RiverSwim(n=6), SixArms(), GridWorldAMDP()):
        o = env.unwrapped.oracle
        S = o.r.shape[0]
        Ppi = o.P[np.arange(S), o.policy]
        rpi = o.r[np.arange(S), o.policy]
        d = np.zeros(S)
        d[env.unwrapped.start_state] = 1.0
        total = 0.0
        for _ in range(3000):
            total += o.gain - d @ rpi
            assert abs(total) <= o.span + 1e-9
            d = d @ Ppi


def test_l1_inner_problem_matches_linprog():
    rng = np.random.default_rng(0)
    for _ in range(30):
        S = int(rng.integers(2, 7))
        phat = rng.dirichlet(np.ones(S) * 0.5)
        u = rng.normal(size=S)
        radius = float(rng.uniform(0.0, 2.5))
        out = np.empty(S)
        optimistic_l1_transition(phat, radius, np.argsort(-u), out)
        assert out.min() >= -1e-12 and out.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.abs(out - phat).sum() <= radius + 1e-9
        # LP over (p, e) with -e <= p - phat <= e, sum e <= radius, p in the simplex.
        c = np.concatenate([-u, np.zeros(S)])
        eye = np.eye(S)
        A_ub = np.block([[eye, -eye], [-eye, -eye], [np.zeros((1, S)), np.ones((1, S))]])
        b_ub = np.concatenate([phat, -phat, [radius]])
        A_eq = np.concatenate([np.ones(S), np.zeros(S)])[None]
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0],
                      bounds=[(0, None)] * (2 * S), method="highs")
        assert out @ u == pytest.approx(-res.fun, abs=1e-9)


def test_evi_zero_radius_is_value_iteration():
    """With radius 0 EVI plans on the true model: its gain estimate approaches J*."""
    for env in (RiverSwim(n=6), GridWorldAMDP(layout="empty")):
        o = env.unwrapped.oracle
        S, A = o.r.shape
        u = np.zeros(S)
        ptil = np.zeros_like(o.P)
        pol = np.zeros(S, np.int64)
        gain, _ = evi_kernel(o.P, o.r, np.zeros((S, A)), u, np.inf, 1e-10, 0.5, 200000, ptil,
                             pol)
        assert gain == pytest.approx(o.gain, abs=1e-8)
        np.testing.assert_allclose(ptil, o.P, atol=1e-12)
        # u converges to the bias up to a constant.
        np.testing.assert_allclose(u - u.min(), o.bias - o.bias.min(), atol=1e-6)


def test_evi_span_clipping():
    o = SixArms().unwrapped.oracle
    S, A = o.r.shape
    for bound in (2.0, 10.0):
        u = np.zeros(S)
        gain, _ = evi_kernel(o.P, o.r, np.full((S, A), 0.3), u, bound, 1e-6, 0.5, 100000,
                             np.zeros_like(o.P), np.zeros(S, np.int64))
        assert np.ptp(u) <= bound + 1e-9


def test_diameter_closed_forms():
    # Two-state MDP: the slowest move is s1 -> s0 with probability delta, so D = 1 / delta.
    for delta, eps in [(0.1, 0.05), (0.05, 0.02)]:
        o = TwoStateLowerBound(delta=delta, epsilon=eps).unwrapped.oracle
        assert o.diameter() == pytest.approx(1.0 / delta, rel=1e-8)
    # SixArms: reaching room 6 needs the 0.01 action from the hub (expected 100 steps),
    # plus one step to return to the hub from another room.
    assert SixArms().unwrapped.oracle.diameter() == pytest.approx(101.0, rel=1e-8)


def test_kl_inner_problem_matches_scipy():
    """The KL-UCRL inner maximisation equals SLSQP's optimum (best of several starts)."""
    rng = np.random.default_rng(1)
    for case in range(40):
        S = int(rng.integers(2, 6))
        phat = rng.dirichlet(np.ones(S) * 0.7)
        if case % 2:  # a support smaller than S: mass may move to unseen states
            phat[rng.choice(S, int(rng.integers(1, S)), replace=False)] = 0.0
            if phat.sum() == 0:
                phat[0] = 1.0
            phat /= phat.sum()
        u = rng.normal(size=S)
        radius = float(rng.uniform(0.01, 1.0))
        out = np.empty(S)
        optimistic_kl_transition(phat, radius, u, out)
        supp = phat > 0
        kl = np.sum(phat[supp] * np.log(phat[supp] / out[supp]))
        assert out.min() >= -1e-12 and out.sum() == pytest.approx(1.0, abs=1e-12)
        assert kl <= radius + 1e-9
        cons = [{"type": "eq", "fun": lambda q: q.sum() - 1.0},
                {"type": "ineq", "fun": lambda q, p=phat, m=supp, r=radius:
                 r - np.sum(p[m] * np.log(p[m] / np.maximum(q[m], 1e-300)))}]
        best = -np.inf
        for _ in range(4):
            q0 = 0.5 * phat + 0.5 * rng.dirichlet(np.ones(S))
            res = minimize(lambda q, u=u: -q @ u, q0, constraints=cons, method="SLSQP",
                           bounds=[(1e-12, 1.0)] * S, options={"ftol": 1e-12, "maxiter": 500})
            q = res.x
            feasible = (abs(q.sum() - 1) < 1e-6 and np.sum(
                phat[supp] * np.log(phat[supp] / np.maximum(q[supp], 1e-300))) <= radius + 1e-6)
            if feasible:
                best = max(best, q @ u)
        assert out @ u >= best - 1e-7


def test_box_inner_problem_matches_linprog():
    rng = np.random.default_rng(2)
    for _ in range(30):
        S = int(rng.integers(2, 7))
        phat = rng.dirichlet(np.ones(S))
        w = rng.uniform(0, 0.3, S)
        lo, hi = np.maximum(phat - w, 0.0), np.minimum(phat + w, 1.0)
        u = rng.normal(size=S)
        out = np.empty(S)
        optimistic_box_transition(lo, hi, np.argsort(-u), out)
        assert np.all(out >= lo - 1e-12) and np.all(out <= hi + 1e-12)
        assert out.sum() == pytest.approx(1.0, abs=1e-12)
        res = linprog(-u, A_eq=np.ones((1, S)), b_eq=[1.0], bounds=list(zip(lo, hi, strict=True)),
                      method="highs")
        assert out @ u == pytest.approx(-res.fun, abs=1e-9)


def test_projection_is_the_largest_vector_below():
    """``project_bias`` equals the LP max sum v s.t. v <= w, v(z) - v(x) <= c(x, z)."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        S = int(rng.integers(2, 7))
        h = rng.normal(size=S)
        c = h[None, :] - h[:, None] + rng.uniform(0, 0.5, (S, S))  # h satisfies the bounds
        c[rng.random((S, S)) < 0.3] = np.inf
        np.fill_diagonal(c, 0.0)
        for k in range(S):  # shortest-path closure
            c = np.minimum(c, c[:, [k]] + c[[k], :])
        w = rng.normal(size=S) * 2
        v = w.copy()
        project_bias(v, c, np.empty(S))
        rows, rhs = [], []
        for x in range(S):
            for z in range(S):
                if x != z and np.isfinite(c[x, z]):
                    row = np.zeros(S)
                    row[z], row[x] = 1.0, -1.0
                    rows.append(row)
                    rhs.append(c[x, z])
        res = linprog(-np.ones(S), A_ub=np.array(rows) if rows else None,
                      b_ub=np.array(rhs) if rows else None,
                      bounds=[(None, wi) for wi in w], method="highs")
        np.testing.assert_allclose(v, res.x, atol=1e-8)


@pytest.mark.parametrize("region", [REGION_L1, REGION_KL, REGION_BOX])
def test_projected_mitigated_evi_on_the_true_model(region):
    """Exact sets (zero radii / point boxes), any caps, the true bias region: gain J*, bias h*."""
    o = RiverSwim(n=6).unwrapped.oracle
    S, A = o.r.shape
    ubias = o.bias[None, :] - o.bias[:, None] + 0.5  # a region holding h*, closed
    np.fill_diagonal(ubias, 0.0)
    for k in range(S):
        ubias = np.minimum(ubias, ubias[:, [k]] + ubias[[k], :])
    prad = np.zeros((S, A))
    u = np.zeros(S)
    ptil = np.zeros_like(o.P)
    pol = np.zeros(S, np.int64)
    gain, _, _ = extended_value_iteration(o.P, o.r, prad, o.P, o.P, np.full((S, A), 0.05),
                                          ubias, u, 1e-10, 0.5, 200_000, region, True, True,
                                          ptil, pol)
    assert gain == pytest.approx(o.gain, abs=1e-8)
    np.testing.assert_allclose(u - u.min(), o.bias - o.bias.min(), atol=1e-6)
    np.testing.assert_array_equal(pol, o.policy)


# --------------------------------------------------------------------------- allocation-free forms
@njit(cache=True)
def _numba_argsort_desc(u):
    """What EVI computed before its sort became allocation-free: Numba's ``np.argsort(-u)``."""
    return np.argsort(-u)


@pytest.mark.parametrize("n", [1, 2, 6, 15, 16, 17, 21, 40, 200])
def test_argsort_desc_into_is_numbas_argsort(n):
    """The same permutation as Numba's quicksort of ``-u``, ties included (many ties here)."""
    rng = np.random.default_rng(n)
    order = np.empty(n, np.int64)
    stack = np.empty(ARGSORT_STACK, np.int64)
    for values in (rng.integers(0, 4, n).astype(float), rng.random(n), np.zeros(n),
                   np.arange(n, dtype=float), -np.arange(n, dtype=float)):
        argsort_desc_into(values, order, stack)
        np.testing.assert_array_equal(order, _numba_argsort_desc(values))


def test_rvi_into_equals_rvi_kernel():
    """The buffer form writes the bias and policy ``rvi_kernel`` returns, bit for bit."""
    for env in (RiverSwim(n=6), GridWorldAMDP(), SixArms()):
        o = env.unwrapped.oracle
        S = o.r.shape[0]
        gain, bias, policy, n_iter = rvi_kernel(o.P, o.r, 0.5, 0, 1e-8, 20000)
        h = np.full(S, 7.0)  # stale contents must not matter
        v = np.full(S, -3.0)
        pol = np.full(S, 9, np.int64)
        assert rvi_into(o.P, o.r, 0.5, 0, 1e-8, 20000, h, v, pol) == (gain, n_iter)
        np.testing.assert_array_equal(h, bias)
        np.testing.assert_array_equal(pol, policy)


@pytest.mark.parametrize("region", [REGION_L1, REGION_KL, REGION_BOX])
def test_evi_into_equals_evi(region):
    """Caller-owned scratch (with stale contents) gives the allocating form's results exactly."""
    o = GridWorldAMDP().unwrapped.oracle  # 21 states: the sort's partition step runs
    S, A = o.r.shape
    rng = np.random.default_rng(region)
    prad = rng.random((S, A)) * (0.5 if region == REGION_KL else 1.0)
    lo = np.clip(o.P - 0.1, 0.0, 1.0)
    hi = np.clip(o.P + 0.1, 0.0, 1.0)
    beta = np.full((S, A), 0.2)
    ubias = np.full((S, S), 3.0)
    np.fill_diagonal(ubias, 0.0)
    outs = []
    for scratch in (None, 1):
        u = np.zeros(S)
        ptil = np.zeros_like(o.P)
        pol = np.zeros(S, np.int64)
        args = (o.P, o.r, prad, lo, hi, beta, ubias, u, 1e-6, 0.5, 5000, region, True, True,
                ptil, pol)
        if scratch is None:
            res = extended_value_iteration(*args)
        else:
            res = extended_value_iteration_into(
                *args, np.full(S, 5.0), np.full(S, 5.0), np.full(S, 5.0),
                np.full(S, 3, np.int64), np.full(ARGSORT_STACK, 4, np.int64))
        outs.append((res, u, ptil, pol))
    assert outs[0][0] == outs[1][0]
    for a, b in zip(outs[0][1:], outs[1][1:], strict=True):
        np.testing.assert_array_equal(a, b)
