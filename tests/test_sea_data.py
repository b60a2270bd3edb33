"""SEA data feedback: the observed data records, exact proximal steps, implicit optimistic OMD.

References: the losses and gradients recomputed with NumPy from the data records, SciPy's
constrained minimiser (SLSQP) and the KKT conditions for the proximal steps, and an
independent NumPy/SciPy replay of the agent's first rounds. The experiment's claims
(``sea_e5_data.toml``) are asserted at smoke scale.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log1p

from banditlab.agents.sea.implicit import ImplicitOOMD, prox_step
from banditlab.agents.sea.oomd import OOMD
from banditlab.core import BanditlabError
from banditlab.envs.sea.env import SEALeastSquares, SEALogistic, SEAQuadratic
from banditlab.harness import run
from banditlab.testing.claims import assert_claims

H = np.array([0.5, 1.0, 2.0])
ENVS = {
    "quadratic": lambda fb, **kw: SEAQuadratic(d=3, noise=0.3, schedule="drift", period=20.0,
                                               h=H, feedback=fb, **kw),
    "least_squares": lambda fb, **kw: SEALeastSquares(d=3, noise=0.3, schedule="drift",
                                                      period=20.0, feedback=fb, **kw),
    "logistic": lambda fb, **kw: SEALogistic(d=3, schedule="drift", period=20.0, feedback=fb,
                                             **kw),
}
LOSS_KIND = {"quadratic": 0, "least_squares": 1, "logistic": 2}


def loss_and_grad(loss, record, x, h=H):
    """``(f(x), grad f(x))`` from a data record, computed independently with NumPy."""
    d = x.shape[0]
    v, y = record[:d], record[d]
    if loss == "quadratic":
        return 0.5 * np.sum(h * (x - v) ** 2), h * (x - v)
    u = v @ x
    if loss == "least_squares":
        return 0.5 * (u - y) ** 2, (u - y) * v
    return float(log1p(np.exp(-y * u))), -y * expit(-y * u) * v


def scipy_prox(loss, record, eta, c, radius, h=H):
    """``argmin_{||x|| <= R} eta f(x) + 0.5 ||x - c||^2`` by SLSQP (tight tolerance)."""
    def obj(x):
        f, g = loss_and_grad(loss, record, x, h)
        return eta * f + 0.5 * np.sum((x - c) ** 2), eta * g + (x - c)

    cons = {"type": "ineq", "fun": lambda x: radius**2 - x @ x, "jac": lambda x: -2.0 * x}
    x0 = c * min(1.0, 0.5 * radius / max(np.linalg.norm(c), 1e-12))
    res = minimize(obj, x0, jac=True, constraints=[cons], method="SLSQP",
                   options={"ftol": 1e-15, "maxiter": 500})
    return res.x


# --------------------------------------------------------------------------- env
@pytest.mark.parametrize("loss", list(ENVS))
def test_data_record_reproduces_the_loss_and_gradient(loss):
    env = ENVS[loss]("data", horizon=30)
    d = 3
    assert env.observation_space.shape == (2 * d + 1,)
    obs, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs, np.zeros(2 * d + 1))
    rng = np.random.default_rng(0)
    for _ in range(30):
        x = rng.uniform(-0.5, 0.5, d)
        obs, r, _, _, info = env.step(x)
        assert env.observation_space.contains(obs)
        f, g = loss_and_grad(loss, obs[d:], x)
        assert abs(f - info["loss"]) <= 1e-12 * max(1.0, abs(f))
        np.testing.assert_allclose(g, info["grad"], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(obs[:d], info["grad"])
        assert r == -info["loss"]
        if loss == "logistic":
            assert obs[2 * d] in (-1.0, 1.0) and abs(np.linalg.norm(obs[d:2 * d]) - 1.0) < 1e-12
        if loss == "least_squares":
            assert set(np.abs(obs[d:2 * d])) == {1.0}
        if loss == "quadratic":
            assert obs[2 * d] == 0.0


@pytest.mark.parametrize("loss", list(ENVS))
def test_data_feedback_changes_nothing_but_the_observation(loss):
    """Same seed and actions: identical rewards and info; gradient agents learn identically."""
    grad_env, data_env = ENVS[loss]("gradient", horizon=40), ENVS[loss]("data", horizon=40)
    grad_env.reset(seed=5)
    data_env.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(40):
        x = rng.uniform(-0.6, 0.6, 3)
        og, rg, _, _, ig = grad_env.step(x)
        od, rd, _, _, idd = data_env.step(x)
        assert rg == rd and ig["expected_reward"] == idd["expected_reward"]
        np.testing.assert_array_equal(od[:3], og)
    # OOMD reads the gradient part of the data observation: the same run on both envs.
    a = run(ENVS[loss]("gradient", horizon=60), OOMD(), seed=2, checkpoints=[20, 60],
            backend="python").curves
    b = run(ENVS[loss]("data", horizon=60), OOMD(), seed=2, checkpoints=[20, 60],
            backend="python").curves
    for k in ("reward", "pseudo_regret/static", "pseudo_regret/dynamic"):
        np.testing.assert_array_equal(a[k], b[k])


def test_bad_feedback_argument():
    with pytest.raises(BanditlabError, match="^feedback:"):
        SEAQuadratic(feedback="function")


# --------------------------------------------------------------------------- proximal steps
@pytest.mark.parametrize("loss", list(ENVS))
@pytest.mark.parametrize("where", ["interior", "boundary"])
def test_prox_step_matches_scipy_and_the_kkt_conditions(loss, where):
    rng = np.random.default_rng(LOSS_KIND[loss] + (10 if where == "boundary" else 0))
    d, radius = 3, 1.0
    on_sphere = 0
    for _ in range(5):
        if loss == "quadratic":
            record = np.append(rng.normal(0, 0.4 if where == "interior" else 2.0, d), 0.0)
        elif loss == "least_squares":
            record = np.append(rng.choice([-1.0, 1.0], d),
                               rng.normal(0, 0.3 if where == "interior" else 4.0))
        else:
            a = rng.normal(size=d)
            record = np.append(a / np.linalg.norm(a), rng.choice([-1.0, 1.0]))
        c = rng.normal(size=d) * (0.1 if where == "interior" else 1.5)
        eta = float(rng.uniform(0.2, 3.0))
        out = np.empty(d)
        prox_step(LOSS_KIND[loss], H, record, eta, c.copy(), radius, out)
        ref = scipy_prox(loss, record, eta, c, radius)
        np.testing.assert_allclose(out, ref, atol=2e-6)
        # KKT: eta grad f(x) + x - c = -mu x with mu >= 0 (mu > 0 only on the sphere).
        _, g = loss_and_grad(loss, record, out)
        resid = eta * g + out - c
        nrm = np.linalg.norm(out)
        if nrm < radius * (1 - 1e-9):
            np.testing.assert_allclose(resid, 0.0, atol=1e-9)
        else:
            assert abs(nrm - radius) < 1e-12
            mu = -(resid @ out) / nrm**2
            assert mu >= -1e-12
            np.testing.assert_allclose(resid, -mu * out, atol=1e-9)
        on_sphere += abs(nrm - radius) < 1e-12
    # The boundary cases do exercise the constraint (the interior ones never do).
    assert on_sphere >= 3 if where == "boundary" else on_sphere == 0


# --------------------------------------------------------------------------- agent
@pytest.mark.parametrize("loss", list(ENVS))
@pytest.mark.parametrize("optimistic", [True, False])
def test_implicit_oomd_matches_an_independent_replay(loss, optimistic):
    """Six rounds: every played point equals the SciPy replay of the documented updates."""
    n = 6
    env = ENVS[loss]("data", horizon=n)
    agent = ImplicitOOMD(loss=loss, h=H if loss == "quadratic" else None,
                         optimistic=optimistic)
    obs, _ = env.reset(seed=11)
    agent.reset(env.action_space, env.observation_space, seed=0)
    xhat, prev, acc, d = np.zeros(3), None, 0.0, 3
    for _ in range(n):
        eta = 2.0 / np.sqrt(1.0 + acc)
        use_hint = optimistic and prev is not None
        x_ref = scipy_prox(loss, prev, eta, xhat, 1.0) if use_hint else xhat.copy()
        x = agent.act(obs)
        np.testing.assert_allclose(x, x_ref, atol=2e-6)
        nobs, r, te, _, _ = env.step(x)
        agent.update(obs, x, r, nobs, te)
        gh = loss_and_grad(loss, prev, x)[1] if use_hint else np.zeros(d)
        acc += np.sum((nobs[:d] - gh) ** 2)
        xhat = scipy_prox(loss, nobs[d:], eta, xhat, 1.0)
        np.testing.assert_allclose(agent.state_.xhat, xhat, atol=2e-6)
        prev, obs = nobs[d:].copy(), nobs
    assert agent.state_.acc[0] == pytest.approx(acc, rel=1e-9)


@pytest.mark.parametrize("loss", ["least_squares", "logistic"])
def test_fused_path_equals_python_path_with_the_matching_loss(loss):
    """The registered parity pairs use ``loss="quadratic"``; here each prox branch runs fused."""
    runs = [run(ENVS[loss]("data", horizon=150), ImplicitOOMD(loss=loss), seed=4,
                checkpoints=[50, 150], backend=b) for b in ("kernel", "python")]
    assert runs[0].backend == "kernel" and runs[1].backend == "python"
    for k, v in runs[0].curves.items():
        np.testing.assert_array_equal(v, runs[1].curves[k], err_msg=k)


@pytest.mark.parametrize(
    ("make_env", "agent", "name"),
    [
        (lambda: SEAQuadratic(d=3, horizon=10), ImplicitOOMD(), "observation_space"),
        (lambda: SEAQuadratic(d=3, horizon=10, feedback="data"), ImplicitOOMD(h=[1.0, 2.0]),
         "h"),
        (lambda: SEAQuadratic(d=3, horizon=10, feedback="data"), ImplicitOOMD(h=[1.0, 0.0, 1.0]),
         "h"),
        (lambda: SEAQuadratic(d=3, horizon=10, feedback="data"), ImplicitOOMD(loss="hinge"),
         "loss"),
        (lambda: SEAQuadratic(d=3, horizon=10, feedback="data"), ImplicitOOMD(delta=0.0),
         "delta"),
        (lambda: SEAQuadratic(d=3, horizon=10, feedback="data"), ImplicitOOMD(radius=2.0),
         "radius"),
    ],
)
def test_bad_implicit_oomd_input(make_env, agent, name):
    env = make_env()
    with pytest.raises(BanditlabError, match=f"^{name}:"):
        agent.reset(env.action_space, env.observation_space, seed=0)


def test_data_experiment_claims_at_smoke_scale():
    """sea_e5_data: the last-loss hint tracks the drift; implicit optimistic OMD learns."""
    results = assert_claims("sea_e5_data", scale="smoke")
    assert sum(r.verdict == "pass" for r in results) >= 3
