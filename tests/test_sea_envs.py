"""SEA envs: closed-form SEA quantities vs Monte Carlo, comparators vs SciPy, CRN, bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from scipy.optimize import minimize

from banditlab.core import BanditlabError
from banditlab.envs.sea.env import SEALeastSquares, SEALogistic, SEAQuadratic
from banditlab.envs.sea.model import V_THETA
from banditlab.registry import make_env


# --------------------------------------------------------------------------- helpers
def _ball_minimize(fun, grad, d, radius, x0=None):
    """Generic convex solve over the ball with SciPy (SLSQP), independent of our kernels."""
    x0 = np.zeros(d) if x0 is None else x0
    cons = {"type": "ineq", "fun": lambda x: radius**2 - x @ x, "jac": lambda x: -2.0 * x}
    best = None
    for start in (x0, np.zeros(d)):
        res = minimize(fun, start, jac=grad, constraints=[cons], method="SLSQP",
                       options={"ftol": 1e-13, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    return best.x, float(best.fun)


def _replay_quadratic(rng, d, s, ball):
    """Re-draw one round's noise xi from a copy of the env's noise stream (NumPy only)."""
    xi = np.array([rng.standard_normal() for _ in range(d)])
    if ball:
        u = rng.random()
        xi *= s * np.sqrt(d + 2.0) * u ** (1.0 / d) / np.linalg.norm(xi)
    else:
        xi *= s
    return xi


def _replay_ls(rng, d, s):
    a = np.array([1.0 if rng.random() < 0.5 else -1.0 for _ in range(d)])
    eps = s * np.sqrt(3.0) * (2.0 * rng.random() - 1.0)
    return a, eps


def _replay_logistic(rng, d, rnorm, theta):
    a = np.array([rng.standard_normal() for _ in range(d)])
    u = rng.random()
    a *= rnorm / np.linalg.norm(a)
    p = 1.0 / (1.0 + np.exp(-a @ theta))
    return a, 1.0 if u < p else 0.0


def _random_ball_point(rng, d, radius):
    v = rng.standard_normal(d)
    return radius * rng.random() ** (1.0 / d) * v / np.linalg.norm(v)


# --------------------------------------------------------------------------- SEA quantities
@pytest.mark.parametrize("noise_kind", ["ball", "gaussian"])
def test_quadratic_sigma2_matches_monte_carlo(noise_kind):
    h = np.array([0.5, 1.0, 2.0])
    env = SEAQuadratic(d=3, radius=1.0, noise=0.3, noise_kind=noise_kind, h=h, horizon=6000)
    env.reset(seed=11)
    rng = np.random.default_rng(0)
    dev2 = []
    gsum = np.zeros(3)
    for _ in range(6000):
        x = _random_ball_point(rng, 3, 1.0)
        _, _, _, _, info = env.step(x)
        gF = h * (x - info["theta"])  # independent closed form of grad F
        np.testing.assert_allclose(info["grad_expected"], gF, atol=1e-12)
        dev2.append(np.sum((info["grad"] - gF) ** 2))
        gsum += info["grad"] - gF
    sigma2 = 0.09 * np.sum(h**2)
    assert info["stochastic_variance"] == pytest.approx(sigma2, rel=1e-12)
    # Monte Carlo: mean of ||g - grad F||^2 (sd of the mean ~ 2% here); noise mean zero.
    assert np.mean(dev2) == pytest.approx(sigma2, rel=0.06)
    assert np.all(np.abs(gsum / 6000) < 0.03)


def test_least_squares_sigma2_matches_monte_carlo_at_the_maximiser():
    d, radius, s = 4, 1.0, 0.2
    env = SEALeastSquares(d=d, radius=radius, noise=s, amplitude=0.5, horizon=8000)
    env.reset(seed=5)
    theta = np.zeros(d)
    theta[0] = 0.5
    x_max = -radius * theta / np.linalg.norm(theta)  # farthest point from theta
    x_mid = np.array([0.0, 0.6, 0.0, 0.0])
    devs = {0: [], 1: []}
    for t in range(8000):
        x = x_max if t % 2 == 0 else x_mid
        _, _, _, _, info = env.step(x)
        devs[t % 2].append(np.sum((info["grad"] - (x - theta)) ** 2))
    sigma2 = (d - 1) * (radius + 0.5) ** 2 + d * s * s
    assert info["stochastic_variance"] == pytest.approx(sigma2, rel=1e-12)
    assert np.mean(devs[0]) == pytest.approx(sigma2, rel=0.05)
    inner = (d - 1) * np.sum((x_mid - theta) ** 2) + d * s * s
    assert np.mean(devs[1]) == pytest.approx(inner, rel=0.05)
    assert np.mean(devs[1]) < sigma2  # the supremum is attained at the far boundary point


@pytest.mark.parametrize("schedule", ["drift", "alternating", "switching", "poisoned"])
def test_quadratic_adversarial_variation_is_sup_of_expected_gradient_change(schedule):
    h = np.array([0.5, 2.0])
    env = SEAQuadratic(d=2, radius=1.0, noise=0.0, schedule=schedule, period=17.0, rho=0.3,
                       stages=4, h=h, horizon=60)
    env.reset(seed=2)
    rng = np.random.default_rng(1)
    probes = [_random_ball_point(rng, 2, 1.0) for _ in range(5)]
    prev_theta = None
    total = 0.0
    for t in range(1, 61):
        _, _, _, _, info = env.step(np.zeros(2))
        theta = info["theta"]
        if schedule == "drift":
            ang = 2 * np.pi * t / 17.0
            np.testing.assert_allclose(theta, 2.0 * np.array([np.cos(ang), np.sin(ang)]),
                                       atol=1e-12)
        if schedule == "alternating":
            np.testing.assert_allclose(theta, (-1) ** t * np.array([2.0, 0.0]))
        if prev_theta is None:
            assert info["adversarial_variation"] == 0.0
        else:
            # grad F_t - grad F_{t-1} = -H (theta_t - theta_{t-1}) is the same at every x.
            diffs = [np.sum((h * (p - theta) - h * (p - prev_theta)) ** 2) for p in probes]
            assert info["adversarial_variation"] == pytest.approx(max(diffs), abs=1e-12)
            total += max(diffs)
        prev_theta = theta
    assert info["adversarial_variation_total"] == pytest.approx(total, abs=1e-9)


# --------------------------------------------------------------------------- comparators
def test_quadratic_comparators_match_scipy():
    d, radius, s = 3, 1.0, 0.4
    h = np.array([0.5, 1.0, 3.0])
    env = SEAQuadratic(d=d, radius=radius, noise=s, h=h, schedule="drift", period=40.0,
                       amplitude=1.5, horizon=80)
    env.reset(seed=7)
    rng = np.random.default_rng(3)
    zs, thetas, rewards, expected = [], [], [], []
    for _t in range(80):
        replay = copy.deepcopy(env.noise_rng_)
        x = _random_ball_point(rng, d, radius)
        _, r, _, _, info = env.step(x)
        z = info["theta"] + _replay_quadratic(replay, d, s, ball=True)
        assert -r == pytest.approx(0.5 * np.sum(h * (x - z) ** 2), abs=1e-12)
        # dynamic comparator: argmin_X F_t by SciPy
        u, fu = _ball_minimize(lambda v, th=info["theta"]: 0.5 * np.sum(h * (v - th) ** 2),
                               lambda v, th=info["theta"]: h * (v - th), d, radius)
        np.testing.assert_allclose(info["comparator_action"], u, atol=1e-5)
        assert -info["optimal_expected_reward"] == pytest.approx(
            fu + 0.5 * s * s * h.sum(), abs=1e-8)
        assert info["optimal_expected_reward"] >= info["expected_reward"] - 1e-12
        zs.append(z)
        thetas.append(info["theta"])
        rewards.append(r)
        expected.append(info["expected_reward"])
    zs, thetas = np.array(zs), np.array(thetas)

    def real(v):
        return 0.5 * np.sum(h * (v - zs) ** 2)

    def exp_(v):
        return 0.5 * np.sum(h * (v - thetas) ** 2) + 80 * 0.5 * s * s * h.sum()

    x_r, v_r = _ball_minimize(real, lambda v: np.sum(h * (v - zs), axis=0), d, radius)
    x_e, v_e = _ball_minimize(exp_, lambda v: np.sum(h * (v - thetas), axis=0), d, radius)
    c_real, c_exp = env.oracle.comparator("static", 80)
    assert -c_real == pytest.approx(v_r, rel=1e-9, abs=1e-9)
    assert -c_exp == pytest.approx(v_e, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(info["best_fixed_action"], x_r, atol=1e-5)
    # the kernel checkpoint agrees with the oracle
    ck = env.kernel.checkpoint(env.state_, env.kernel.params)
    assert ck[0] == pytest.approx(c_real, abs=1e-12) and ck[1] == pytest.approx(c_exp, abs=1e-12)
    # static regret on a moving sequence can be negative (never clipped): best-fixed is worse
    # than the sum of per-round minima
    assert -c_exp > -env.oracle.comparator("dynamic", 80)[1]


@pytest.mark.parametrize("n_rounds", [2, 40])
def test_least_squares_static_comparator_matches_scipy(n_rounds):
    d, radius, s = 4, 1.0, 0.3
    env = SEALeastSquares(d=d, radius=radius, noise=s, schedule="switching", stages=3,
                          horizon=n_rounds)
    env.reset(seed=4)
    rng = np.random.default_rng(9)
    data = []
    for _ in range(n_rounds):
        replay = copy.deepcopy(env.noise_rng_)
        x = _random_ball_point(rng, d, radius)
        _, r, _, _, info = env.step(x)
        a, eps = _replay_ls(replay, d, s)
        y = a @ info["theta"] + eps
        assert -r == pytest.approx(0.5 * (a @ x - y) ** 2, abs=1e-10)
        np.testing.assert_allclose(info["grad"], a * (a @ x - y), atol=1e-10)
        data.append((a, y))
    A = np.array([a for a, _ in data])
    Y = np.array([y for _, y in data])
    # n_rounds = 2 < d: singular sum a a' (hard case of the trust-region subproblem)
    _, v = _ball_minimize(lambda v: 0.5 * np.sum((A @ v - Y) ** 2),
                          lambda v: A.T @ (A @ v - Y), d, radius)
    c_real, _ = env.oracle.comparator("static", n_rounds)
    assert -c_real == pytest.approx(v, rel=1e-7, abs=1e-8)


def test_logistic_static_comparator_matches_scipy():
    d, radius = 3, 1.5
    env = SEALogistic(d=d, radius=radius, schedule="alternating", amplitude=1.0, horizon=60,
                      n_probe=64)
    env.reset(seed=8)
    rng = np.random.default_rng(2)
    A, Y = [], []
    for _ in range(60):
        replay = copy.deepcopy(env.noise_rng_)
        x = _random_ball_point(rng, d, radius)
        _, r, _, _, info = env.step(x)
        a, y = _replay_logistic(replay, d, 1.0, info["theta"])
        assert -r == pytest.approx(np.logaddexp(0.0, -(2 * y - 1) * (a @ x)), abs=1e-10)
        A.append(a)
        Y.append(y)
    A, Y = np.array(A), np.array(Y)

    def obj(v):
        u = A @ v
        return float(np.sum(np.logaddexp(0.0, u) - Y * u))

    def grad(v):
        u = A @ v
        return A.T @ (1.0 / (1.0 + np.exp(-u)) - Y)

    _, v = _ball_minimize(obj, grad, d, radius)
    c_real, _ = env.oracle.comparator("static", 60)
    assert -c_real == pytest.approx(v, rel=1e-7, abs=1e-7)
    # Expected static comparator: minimiser of the probe-feature estimate of sum F_s.
    probes = env.kernel.params.probes
    P = np.zeros(probes.shape[0])
    for th in (np.array([1.0, 0, 0]), np.array([-1.0, 0, 0])):
        P += 30 * (1.0 / (1.0 + np.exp(-probes @ th)))
    m = probes.shape[0]

    def obj_e(v):
        u = probes @ v
        return float(np.sum(60 * np.logaddexp(0.0, u) - P * u) / m)

    def grad_e(v):
        u = probes @ v
        return probes.T @ (60 / (1.0 + np.exp(-u)) - P) / m

    _, v_e = _ball_minimize(obj_e, grad_e, d, radius)
    assert -env.oracle.comparator("static", 60)[1] == pytest.approx(v_e, rel=1e-7, abs=1e-7)


# --------------------------------------------------------------------------- CRN, pickling
def test_common_random_numbers_and_pickle_mid_run():
    env_a = SEAQuadratic(d=3, noise=0.5, schedule="poisoned", rho=0.4, horizon=30)
    env_b = SEAQuadratic(d=3, noise=0.5, schedule="poisoned", rho=0.4, horizon=30)
    env_a.reset(seed=21)
    env_b.reset(seed=21)
    rng = np.random.default_rng(0)
    for t in range(30):
        xa = _random_ball_point(rng, 3, 1.0)
        xb = -xa
        _, _, _, _, ia = env_a.step(xa)
        _, _, _, _, ib = env_b.step(xb)
        # z = x - g (H = I) is the same whatever the action: common random numbers
        np.testing.assert_allclose(xa - ia["grad"], xb - ib["grad"], atol=1e-12)
        if t == 14:
            clone = pickle.loads(pickle.dumps(env_a))
            x_next = _random_ball_point(np.random.default_rng(5), 3, 1.0)
    r1 = clone.step(x_next)
    env_c = SEAQuadratic(d=3, noise=0.5, schedule="poisoned", rho=0.4, horizon=30)
    env_c.reset(seed=21)
    rng = np.random.default_rng(0)
    for _ in range(15):
        env_c.step(_random_ball_point(rng, 3, 1.0))  # the same actions as env_a's first 15
    r2 = env_c.step(x_next)
    assert r1[1] == r2[1]
    np.testing.assert_array_equal(r1[0], r2[0])
    # history-dependent sums (cumulative loss, observed variation) continue exactly
    np.testing.assert_array_equal(clone.state_.cum, env_c.state_.cum)
    assert clone.oracle.comparator("static", 16) == env_c.oracle.comparator("static", 16)


def test_reactive_schedule_follows_the_last_action():
    env = SEAQuadratic(d=2, noise=0.0, schedule="reactive", amplitude=2.0, horizon=5)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([0.0, 0.5]))
    np.testing.assert_allclose(info["theta"], [2.0, 0.0])  # theta_1 = theta_bar
    _, _, _, _, info = env.step(np.array([0.3, 0.0]))
    np.testing.assert_allclose(info["theta"], [0.0, -2.0])  # -A x_1 / ||x_1||


# --------------------------------------------------------------------------- kernel buffers
@pytest.mark.parametrize("env_id", ["banditlab/SEAQuadratic-v0", "banditlab/SEALeastSquaresData-v0",
                                    "banditlab/SEALogisticData-v0"])
def test_observation_is_a_view_that_survives_the_next_step(env_id):
    """``observe`` returns a row of the state's buffer; the step writes the other row."""
    env = make_env(env_id, d=3, horizon=10)
    env.reset(seed=4)
    kernel = env.kernel
    rng = np.random.default_rng(1)
    prev = kernel.observe(env.state_, kernel.params)
    assert np.shares_memory(prev, env.state_.obs_buf)
    np.testing.assert_array_equal(prev, 0.0)
    for _ in range(4):
        kept = prev.copy()
        obs_py, _, _, _, info = env.step(_random_ball_point(rng, 3, 1.0))
        now = kernel.observe(env.state_, kernel.params)
        np.testing.assert_array_equal(prev, kept)  # the previous observation is intact
        np.testing.assert_array_equal(now, obs_py)
        np.testing.assert_array_equal(now[:3], info["grad"])
        assert not np.shares_memory(obs_py, env.state_.obs_buf)  # the Gymnasium obs: a copy
        assert not np.shares_memory(info["grad"], env.state_.obs_buf)
        prev = now


@pytest.mark.parametrize("schedule", ["fixed", "alternating"])
def test_quadratic_comparator_cache_matches_a_fresh_solve(schedule):
    """The comparator reused while theta does not move is the point a fresh solve returns."""
    h = np.array([0.5, 2.0, 1.0])
    env = SEAQuadratic(d=3, h=h, schedule=schedule, amplitude=2.0, horizon=12)
    env.reset(seed=2)
    rng = np.random.default_rng(3)
    for _ in range(12):
        _, _, _, _, info = env.step(_random_ball_point(rng, 3, 1.0))
        u, fu = _ball_minimize(lambda v, th=info["theta"]: 0.5 * np.sum(h * (v - th) ** 2),
                               lambda v, th=info["theta"]: h * (v - th), 3, 1.0)
        np.testing.assert_allclose(info["comparator_action"], u, atol=1e-6)
        fresh = SEAQuadratic(d=3, h=h, schedule="fixed", amplitude=2.0, horizon=1)
        fresh.reset(seed=0)
        fresh.state_.vec[V_THETA] = info["theta"]
        np.testing.assert_array_equal(fresh.oracle.next_comparator(), info["comparator_action"])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"radius": 0.0}, "radius"),
        ({"radius": -1.0}, "radius"),
        ({"d": 0}, "d"),
        ({"noise": -0.1}, "noise"),
        ({"noise_kind": "laplace"}, "noise_kind"),
        ({"schedule": "sinusoid"}, "schedule"),
        ({"schedule": "drift", "period": 0.0}, "period"),
        ({"schedule": "drift", "d": 1}, "d"),
        ({"rho": 1.5}, "rho"),
        ({"stages": 0}, "stages"),
        ({"horizon": 0}, "horizon"),
        ({"h": [1.0, -1.0]}, "h"),
        ({"amplitude": float("nan")}, "amplitude"),
    ],
)
def test_bad_env_arguments(kwargs, name):
    with pytest.raises(BanditlabError, match=f"^{name}:"):
        SEAQuadratic(**kwargs)


def test_bad_actions():
    env = make_env("banditlab/SEAQuadratic-v0", d=3, horizon=5)
    env.reset(seed=0)
    with pytest.raises(BanditlabError, match="^action: must be finite"):
        env.step(np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(BanditlabError, match="^action: expected shape"):
        env.step(np.zeros(4))
    with pytest.raises(BanditlabError, match="^action: outside the action space"):
        env.step(np.array([1.5, 0.0, 0.0]))
    with pytest.raises(BanditlabError, match="^action: expected shape"):
        env.step("left")
    with pytest.raises(BanditlabError, match="^feature_norm:"):
        SEALogistic(feature_norm=0.0)
    assert env.t_ == 0  # nothing was played
    # a box point outside the ball is projected onto it (and reported)
    _, _, _, _, info = env.step(np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose(info["action_projected"], [2**-0.5, 2**-0.5, 0.0], atol=1e-15)
