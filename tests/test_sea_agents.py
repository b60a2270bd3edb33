"""SEA agents: reference implementations, hint indexing, qualitative SEA results, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from scipy.optimize import minimize

from banditlab.agents.sea.oftrl import FTRL, OFTRL
from banditlab.agents.sea.ogd import OGD
from banditlab.agents.sea.ons import ONS, OptimisticONS
from banditlab.agents.sea.oomd import OOMD
from banditlab.agents.sea.sword import SwordVariation
from banditlab.core import BanditlabError
from banditlab.envs.sea.env import SEAQuadratic
from banditlab.harness import run
from banditlab.registry import make_agent, make_benchmark_policy, make_env
from banditlab.testing.claims import assert_claims


def _proj(x, radius):
    n = np.linalg.norm(x)
    return x if n <= radius else x * (radius / n)


def _play(env, agent, n, seed=0):
    """Python loop; returns the played points and the observed gradients."""
    obs, _ = env.reset(seed=seed)
    agent.reset(env.action_space, env.observation_space, seed=0)
    xs, gs = [], []
    for _ in range(n):
        x = agent.act(obs)
        nobs, r, te, _, _ = env.step(x)
        agent.update(obs, x, r, nobs, te)
        xs.append(np.array(x, dtype=float))
        gs.append(np.array(nobs, dtype=float))
        obs = nobs
    return np.array(xs), np.array(gs)


def _pseudo(env_kwargs, agent, kinds=("static", "dynamic"), seed=0, backend="python"):
    env = SEAQuadratic(**env_kwargs)
    res = run(env, agent, seed=seed, checkpoints=[env.run_length], backend=backend)
    out = {k: res.finals[f"pseudo_regret/{k}"] for k in kinds}
    out["norm"] = (np.sqrt(env.oracle.run_totals()["stochastic_variance_total"])
                   + np.sqrt(env.oracle.run_totals()["adversarial_variation_total"]) + 1.0)
    return out


# --------------------------------------------------------------------------- kernel buffers
@pytest.mark.parametrize("agent_id", ["OOMD-v0", "OGD-v0", "AdaGradOGD-v0", "OFTRL-v0", "FTRL-v0",
                                      "ONS-v1", "OptimisticONS-v0", "SwordVariation-v0",
                                      "ImplicitOOMD-v0"])
def test_kernel_action_is_a_state_view_and_the_python_action_a_copy(agent_id):
    """``select`` returns a view of a state buffer; ``act`` hands the user a copy of it."""
    env_id = ("banditlab/SEAQuadraticData-v0" if agent_id == "ImplicitOOMD-v0"
              else "banditlab/SEAQuadratic-v0")
    env = make_env(env_id, d=3, horizon=20)
    agent = make_agent(agent_id)
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=0)
    for t in range(1, 6):
        x = agent.act(obs)
        kx = agent.kernel_.select(agent.state_, agent.kernel_.hparams, obs, t, agent.rng_)
        np.testing.assert_array_equal(kx, x)
        assert any(np.shares_memory(kx, a) for a in agent.state_)
        assert not any(np.shares_memory(x, a) for a in agent.state_)
        nobs, r, te, _, _ = env.step(x)
        agent.update(obs, x, r, nobs, te)
        obs = nobs


# --------------------------------------------------------------------------- references
@pytest.mark.parametrize("step", ["self_confident", "strongly_convex"])
def test_oomd_matches_a_reference_implementation(step):
    env = SEAQuadratic(d=3, noise=0.3, schedule="drift", period=20.0, horizon=60)
    agent = OOMD(step=step, smoothness=1.0, cap=True, c=1.0, strong_convexity=1.0)
    xs, gs = _play(env, agent, 60)
    xhat, hint, acc = np.zeros(3), np.zeros(3), 0.0
    for t in range(1, 61):
        eta = 2.0 / np.sqrt(1.0 + acc) if step == "self_confident" else 1.0 / t
        eta = min(eta, 0.25)
        x = _proj(xhat - eta * hint, 1.0)  # hint M_t = g_{t-1}, used before g_t is seen
        np.testing.assert_allclose(xs[t - 1], x, atol=1e-12)
        g = gs[t - 1]
        xhat = _proj(xhat - eta * g, 1.0)  # same eta_t in both half-steps
        acc += np.sum((g - hint) ** 2)
        hint = g


@pytest.mark.parametrize("step", ["sqrt", "adagrad_norm", "strongly_convex"])
def test_ogd_matches_a_reference_implementation(step):
    env = SEAQuadratic(d=3, noise=0.3, schedule="poisoned", rho=0.3, horizon=40)
    xs, gs = _play(env, OGD(step=step, grad_bound=3.5, strong_convexity=1.0), 40)
    x, acc = np.zeros(3), 0.0
    for t in range(1, 41):
        np.testing.assert_allclose(xs[t - 1], x, atol=1e-12)
        g = gs[t - 1]
        acc += g @ g
        eta = {"sqrt": 2.0 / (3.5 * np.sqrt(t)), "adagrad_norm": 2.0 / np.sqrt(acc),
               "strongly_convex": 1.0 / t}[step]
        x = _proj(x - eta * g, 1.0)


@pytest.mark.parametrize(("optimistic", "sc"), [(True, False), (False, False), (True, True)])
def test_oftrl_matches_a_reference_implementation(optimistic, sc):
    env = SEAQuadratic(d=3, noise=0.3, schedule="switching", stages=3, horizon=40)
    agent = OFTRL(optimistic=optimistic, strongly_convex=sc, strong_convexity=1.0)
    xs, gs = _play(env, agent, 40)
    gsum, xsum, hint, acc = np.zeros(3), np.zeros(3), np.zeros(3), 0.0
    for t in range(1, 41):
        if sc:
            x = _proj((xsum - gsum - hint) / t, 1.0)
        else:
            x = _proj(-2.0 / np.sqrt(1.0 + acc) * (gsum + hint), 1.0)
        np.testing.assert_allclose(xs[t - 1], x, atol=1e-12)
        g = gs[t - 1]
        gsum += g
        xsum += x
        acc += np.sum((g - hint) ** 2)
        hint = g if optimistic else np.zeros(3)


@pytest.mark.parametrize("accumulate", ["g_minus_m", "g"])
def test_ons_uses_exact_a_norm_projections(accumulate):
    env = SEAQuadratic(d=3, noise=0.2, schedule="alternating", horizon=25)
    agent = OptimisticONS(grad_bound=3.5, exp_concavity=0.5, epsilon=0.05,
                          accumulate=accumulate, optimistic=True)
    xs, gs = _play(env, agent, 25)
    beta = 0.5 * min(1.0 / (4 * 3.5 * 2.0), 0.5)

    a = 0.05 * np.eye(3)
    xhat, hint = np.zeros(3), np.zeros(3)
    n_boundary = 0
    for t in range(25):
        y = xhat - np.linalg.solve(a, hint)
        n_boundary += np.linalg.norm(y) > 1.0
        np.testing.assert_allclose(xs[t], a_proj(y, a), atol=1e-6)
        g = gs[t]
        v = g - hint if accumulate == "g_minus_m" else g
        a = a + 0.5 * beta * np.outer(v, v)
        xhat = a_proj(xhat - np.linalg.solve(a, g), a)
        hint = g
    assert n_boundary >= 5  # the A-norm projection was really exercised


def a_proj(y, a):
    """Independent A-norm projection: SciPy on min (x - y)'A(x - y) s.t. ||x|| <= 1."""
    if np.linalg.norm(y) <= 1.0:
        return y
    cons = {"type": "ineq", "fun": lambda x: 1.0 - x @ x, "jac": lambda x: -2.0 * x}
    res = minimize(lambda x: (x - y) @ a @ (x - y), _proj(y, 1.0),
                   jac=lambda x: 2.0 * a @ (x - y), constraints=[cons], method="SLSQP",
                   options={"ftol": 1e-15, "maxiter": 500})
    return res.x


@pytest.mark.parametrize("epsilon", [None, 0.5])
def test_ons_is_hazan_agarwal_kale_algorithm_2(epsilon):
    """ONS-v1: A_t = eps I + sum_{s<=t} g g', x_{t+1} = Pi^{A_t}(x_t - A_t^{-1} g_t / beta)."""
    env = SEAQuadratic(d=3, noise=0.2, schedule="alternating", horizon=25)
    g_bound, alpha, dia = 3.5, 0.5, 2.0
    xs, gs = _play(env, ONS(grad_bound=g_bound, exp_concavity=alpha, epsilon=epsilon), 25)
    beta = 0.5 * min(1.0 / (4 * g_bound * dia), alpha)
    eps = 1.0 / (beta**2 * dia**2) if epsilon is None else epsilon
    a, x = eps * np.eye(3), np.zeros(3)
    for t in range(25):
        np.testing.assert_allclose(xs[t], x, atol=1e-6)
        g = gs[t]
        a = a + np.outer(g, g)
        x = a_proj(x - np.linalg.solve(a, g) / beta, a)
    assert make_agent("ONS-v1").label() == "ONS"


def test_ftrl_is_oftrl_without_the_hint():
    env = SEAQuadratic(d=3, noise=0.3, schedule="switching", stages=3, horizon=40)
    xs_f, _ = _play(env, FTRL(), 40)
    xs_o, _ = _play(SEAQuadratic(d=3, noise=0.3, schedule="switching", stages=3, horizon=40),
                    OFTRL(optimistic=False), 40)
    np.testing.assert_array_equal(xs_f, xs_o)
    assert "optimistic" not in FTRL().get_params()
    assert FTRL().label() == "FTRL" and OFTRL(optimistic=False).label() == (
        "Optimistic FTRL [no hint]")


# --------------------------------------------------------------------------- hint indexing
def test_alternating_schedule_catches_an_off_by_one_hint():
    """Using g_t as its own hint (a mis-indexed OOMD) gives near-zero regret on alternating."""
    T = 400
    kwargs = {"d": 5, "noise": 0.0, "schedule": "alternating", "horizon": T}
    correct = _pseudo(kwargs, OOMD())["static"]

    env = SEAQuadratic(**kwargs)
    obs, _ = env.reset(seed=0)
    xhat, acc, expected = np.zeros(5), 0.0, 0.0
    for _ in range(T):
        eta = min(2.0 / np.sqrt(1.0 + acc), 0.25)
        cheat = env.oracle.expected_gradient(xhat)  # = grad f_t(xhat_t) with no noise
        x = _proj(xhat - eta * cheat, 1.0)
        _, _, _, _, info = env.step(x)
        g = info["grad"]
        xhat = _proj(xhat - eta * g, 1.0)
        acc += np.sum((g - cheat) ** 2)
        expected += info["expected_reward"]
    mis_indexed = env.oracle.comparator("static", T)[1] - expected
    assert mis_indexed < 0.05 * correct
    assert correct > 20.0


# --------------------------------------------------------------------------- qualitative
# The experiments' claims (optimism pays on a slow drift and the advantage goes with noise;
# wrong hints cost a constant factor; Sword tracks switching optima) are data in the
# experiment files and asserted here at smoke scale.
@pytest.mark.parametrize("name", ["sea_e2_interpolation", "sea_e3_alternating",
                                  "sea_e4_dynamic"])
def test_experiment_claims_at_smoke_scale(name):
    results = assert_claims(name, scale="smoke")
    assert sum(r.verdict == "pass" for r in results) >= 2


def test_normalised_regret_of_convex_oomd_stays_bounded_across_the_grid():
    worst = 0.0
    for s in (0.0, 0.3):
        for sched in ("fixed", "drift", "alternating", "poisoned", "switching"):
            kw = {"d": 10, "noise": s, "schedule": sched, "period": 1000.0, "horizon": 1000}
            out = _pseudo(kw, OOMD())
            worst = max(worst, out["static"] / out["norm"])
    assert 0.0 < worst < 3.0


def test_oracle_agents_bound_the_value_of_hints():
    kw = {"d": 10, "noise": 0.1, "schedule": "drift", "period": 200.0, "horizon": 1000}
    env = SEAQuadratic(**kw)
    hint_agent = make_benchmark_policy(env.oracle, "oomd_oracle_hint")
    comp_agent = make_benchmark_policy(env.oracle, "dynamic_comparator")
    hint = run(env, hint_agent, seed=0, checkpoints=[1000]).finals
    comp = run(env, comp_agent, seed=0, checkpoints=[1000]).finals
    oomd = _pseudo(kw, OOMD())["dynamic"]
    for agent in (hint_agent, comp_agent):
        tags = agent.get_tags()
        assert tags["oracle"] is True and tags["needs_oracle"] is True
    assert hint_agent.registry_id == "oracle/SEAOracleHintOOMD-v0"
    assert comp_agent.registry_id == "oracle/SEADynamicComparator-v0"
    assert hint["pseudo_regret/dynamic"] < 0.5 * oomd
    assert abs(comp["pseudo_regret/dynamic"]) < 1e-9


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (OOMD(diameter=0.0), "diameter"),
        (OOMD(radius=-1.0), "radius"),
        (OOMD(step="newton"), "step"),
        (OOMD(step="strongly_convex", strong_convexity=0.0), "strong_convexity"),
        (OOMD(radius=2.0), "radius"),
        (OGD(step="sqrt", grad_bound=float("inf")), "grad_bound"),
        (OFTRL(delta=float("nan")), "delta"),
        (OptimisticONS(accumulate="m"), "accumulate"),
        (OptimisticONS(exp_concavity=0.0), "exp_concavity"),
        (SwordVariation(horizon=0), "horizon"),
        (SwordVariation(stability_gamma=-1.0), "stability_gamma"),
    ],
)
def test_bad_agent_hyperparameters(agent, name):
    env = SEAQuadratic(d=3, horizon=10)
    with pytest.raises(BanditlabError, match=f"^{name}:"):
        agent.reset(env.action_space, env.observation_space, seed=0)


def test_agents_reject_discrete_action_spaces():
    with pytest.raises(BanditlabError, match="^action_space:"):
        OOMD().reset(gym.spaces.Discrete(3), gym.spaces.Discrete(1), seed=0)
