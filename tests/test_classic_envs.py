"""Classic bandit environments: the adversarial bandit and the linear contextual bandit.

Each env is checked against an independent NumPy re-implementation of its
definition driven by a copy of the env's noise generator, for CRN, pickling, the
Gymnasium checker and every bad constructor argument.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

from banditlab.core import BanditlabError, BenchmarkPolicy
from banditlab.envs.classic.adversarial import AdversarialBandit
from banditlab.envs.classic.contextual import LinearContextual
from banditlab.envs.classic.stochastic import BernoulliBandit, GaussianBandit
from banditlab.registry import make_benchmark_policy, make_env

ADV_CONFIGS = [
    {"schedule": "iid", "means": (0.7, 0.2, 0.5)},
    {"schedule": "switch", "means": (0.9, 0.5, 0.3, 0.1), "switch_at": 0.3},
    {"schedule": "sinusoidal", "means": (0.6, 0.5, 0.4, 0.3, 0.2), "amplitude": 0.5,
     "period": 37.0, "shuffle_arms": True},
]


def reference_means(cfg: dict, perm: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """The schedule's mean vector at round ``t``, written from the env docstring."""
    m = np.asarray(cfg["means"], dtype=float)[perm]
    k = m.shape[0]
    sched = cfg["schedule"]
    if sched == "iid":
        return m
    if sched == "switch":
        step = int(np.floor(cfg.get("switch_at", 0.5) * horizon))
        return m if t <= step else np.roll(m, 1)
    period = cfg.get("period") or horizon / 4
    amp = cfg.get("amplitude", 0.3)
    return np.clip(m + amp * np.sin(2 * np.pi * t / period + 2 * np.pi * np.arange(k) / k), 0, 1)


@pytest.mark.parametrize("cfg", ADV_CONFIGS, ids=lambda c: c["schedule"])
def test_adversarial_matches_reference(cfg):
    horizon = 150
    env = AdversarialBandit(horizon=horizon, **cfg)
    env.reset(seed=11)
    perm = env.state_.perm.copy()
    assert sorted(perm.tolist()) == list(range(len(cfg["means"])))
    g = copy.deepcopy(env.noise_rng_)
    actions = np.random.default_rng(5).integers(0, len(cfg["means"]), size=horizon)
    cum_r = np.zeros(len(cfg["means"]))
    cum_mu = np.zeros(len(cfg["means"]))
    cum_best = 0.0
    for t, a in enumerate(actions, start=1):
        mu = reference_means(cfg, perm, t, horizon)
        u = g.random()
        rvec = (u < mu).astype(float)
        _, reward, term, trunc, info = env.step(int(a))
        cum_r += rvec
        cum_mu += mu
        cum_best += mu.max()
        assert reward == rvec[a]
        assert info["expected_reward"] == pytest.approx(mu[a], abs=1e-12)
        assert info["optimal_expected_reward"] == pytest.approx(mu.max(), abs=1e-12)
        assert info["t"] == t and not term and trunc == (t == horizon)
        np.testing.assert_allclose(env.oracle.means_at(t), mu, atol=1e-12)
    real, exp = env.oracle.comparator("static", horizon)
    assert real == cum_r.max()
    assert exp == pytest.approx(cum_mu.max(), abs=1e-9)
    ck = env.kernel.checkpoint(env.state_, env.kernel.params)
    assert (ck[0], ck[1]) == (real, exp)
    assert env.oracle.comparator("dynamic", horizon)[1] == pytest.approx(cum_best, abs=1e-9)
    # The best fixed arm over the whole horizon, recomputed independently.
    assert env.oracle.best_fixed_arm() == int(np.argmax(cum_mu))


def test_adversarial_crn_and_static_comparator_independent_of_actions():
    runs = []
    for actions in ([0] * 60, [3] * 60, list(np.arange(60) % 4)):
        env = make_env("banditlab/AdversarialBandit-v0", horizon=60)
        env.reset(seed=3)
        for a in actions:
            env.step(a)
        runs.append((env.noise_rng_.bit_generator.state, env.oracle.comparator("static", 60)))
    assert runs[0] == runs[1] == runs[2]


def test_adversarial_shuffle_depends_on_seed_only():
    perms = set()
    for seed in range(8):
        env = AdversarialBandit(means=(0.1, 0.2, 0.3, 0.4, 0.5), shuffle_arms=True)
        env.reset(seed=seed)
        p1 = tuple(env.state_.perm)
        env.reset(seed=seed)
        assert tuple(env.state_.perm) == p1
        perms.add(p1)
    assert len(perms) > 1


def reference_contextual(env: LinearContextual, seed: int, actions) -> None:
    obs, _ = env.reset(seed=seed)
    g = copy.deepcopy(env.noise_rng_)
    theta = env.oracle.theta
    k, d = env.n_arms, env.dim
    x = np.asarray(obs).copy()
    assert x.shape == (k, d) and env.observation_space.contains(obs)
    prev_obs = obs
    cum_best = 0.0
    for a in actions:
        means = x @ theta
        z = g.standard_normal()
        x_next = env.feature_bound * (2.0 * g.random((k, d)) - 1.0)
        saved_prev = prev_obs.copy()
        obs, reward, _, _, info = env.step(int(a))
        cum_best += means.max()
        assert reward == pytest.approx(means[a] + env.sigma * z, abs=1e-12)
        assert info["expected_reward"] == pytest.approx(means[a], abs=1e-12)
        assert info["optimal_expected_reward"] == pytest.approx(means.max(), abs=1e-12)
        np.testing.assert_array_equal(obs, x_next)
        # The previous observation is not a view of the env state.
        np.testing.assert_array_equal(prev_obs, saved_prev)
        prev_obs = obs
        x = x_next
    n = len(actions)
    assert env.oracle.comparator("stochastic", n)[0] == pytest.approx(cum_best, abs=1e-9)


def test_contextual_matches_reference_random_theta():
    env = LinearContextual(n_arms=4, dim=3, sigma=0.7, horizon=100)
    reference_contextual(env, 21, np.arange(80) % 4)
    assert np.linalg.norm(env.oracle.theta) == pytest.approx(1.0, abs=1e-12)
    env2 = LinearContextual(n_arms=4, dim=3, sigma=0.7, horizon=100)
    env2.reset(seed=22)
    assert not np.array_equal(env2.oracle.theta, env.oracle.theta)


def test_contextual_matches_reference_given_theta():
    theta = [0.5, -1.0]
    env = LinearContextual(n_arms=3, dim=2, theta=theta, sigma=0.0, feature_bound=2.0,
                           horizon=50)
    reference_contextual(env, 4, [0, 1, 2, 2, 1] * 10)
    np.testing.assert_array_equal(env.oracle.theta, theta)


def test_contextual_crn():
    states = []
    for a in (0, 9):
        env = make_env("banditlab/LinearContextual-v0", horizon=30)
        env.reset(seed=8)
        for _ in range(30):
            env.step(a)
        states.append(env.noise_rng_.bit_generator.state)
    assert states[0] == states[1]


@pytest.mark.parametrize(
    "env_id,kwargs",
    [
        ("banditlab/AdversarialBandit-v0", {"horizon": 120}),
        ("banditlab/AdversarialBandit-v0", ADV_CONFIGS[2] | {"horizon": 120}),
        ("banditlab/LinearContextual-v0", {"horizon": 120}),
    ],
)
def test_gymnasium_checker_and_pickle_mid_run(env_id, kwargs):
    env = gym.make(env_id, **kwargs).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env, skip_render_check=True)
    env.reset(seed=1)
    for t in range(40):
        env.step(t % env.action_space.n)
    clone = pickle.loads(pickle.dumps(env))
    for t in range(40, 120):
        a = (3 * t) % env.action_space.n
        o1, r1, _, tr1, i1 = env.step(a)
        o2, r2, _, tr2, i2 = clone.step(a)
        assert r1 == r2 and tr1 == tr2 and i1 == i2
        np.testing.assert_array_equal(np.asarray(o1), np.asarray(o2))
    kind = env.oracle.primary_kind
    assert env.oracle.comparator(kind, 120) == clone.oracle.comparator(kind, 120)
    with pytest.raises(BanditlabError, match="action"):
        env.reset(seed=0)
        env.step(env.action_space.n)


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"means": []}, "means"),
        ({"means": [[0.1, 0.2]]}, "means"),
        ({"means": [0.5, 1.2]}, "means"),
        ({"means": [0.5, float("nan")]}, "means"),
        ({"means": "abc"}, "means"),
        ({"schedule": "random"}, "schedule"),
        ({"switch_at": 0.0}, "switch_at"),
        ({"switch_at": 1.5}, "switch_at"),
        ({"switch_at": "half"}, "switch_at"),
        ({"amplitude": -0.1}, "amplitude"),
        ({"amplitude": 2.0}, "amplitude"),
        ({"period": 0}, "period"),
        ({"period": float("inf")}, "period"),
        ({"shuffle_arms": "yes"}, "shuffle_arms"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"horizon": True}, "horizon"),
    ],
)
def test_adversarial_bad_input(kwargs, param):
    with pytest.raises(BanditlabError, match=f"^{param}:"):
        AdversarialBandit(**kwargs)


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"n_arms": 0}, "n_arms"),
        ({"n_arms": 2.5}, "n_arms"),
        ({"n_arms": True}, "n_arms"),
        ({"dim": 0}, "dim"),
        ({"dim": 3, "theta": [1.0, 2.0]}, "theta"),
        ({"dim": 2, "theta": [1.0, float("nan")]}, "theta"),
        ({"dim": 2, "theta": "ab"}, "theta"),
        ({"sigma": -1.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"sigma": "1"}, "sigma"),
        ({"feature_bound": 0.0}, "feature_bound"),
        ({"feature_bound": float("inf")}, "feature_bound"),
        ({"horizon": -3}, "horizon"),
    ],
)
def test_contextual_bad_input(kwargs, param):
    with pytest.raises(BanditlabError, match=f"^{param}:"):
        LinearContextual(**kwargs)


@pytest.mark.parametrize(
    "make,param",
    [
        (lambda: BernoulliBandit(means=[]), "means"),
        (lambda: BernoulliBandit(means=[0.5, 1.2]), "means"),
        (lambda: BernoulliBandit(means=[[0.1, 0.2]]), "means"),
        (lambda: BernoulliBandit(horizon=0), "horizon"),
        (lambda: GaussianBandit(means=[0.0, float("inf")]), "means"),
        (lambda: GaussianBandit(means="ab"), "means"),
        (lambda: GaussianBandit(sigma=0.0), "sigma"),
        (lambda: GaussianBandit(sigma=True), "sigma"),
        (lambda: GaussianBandit(horizon=1.5), "horizon"),
    ],
)
def test_stochastic_bad_input(make, param):
    with pytest.raises(BanditlabError, match=f"^{param}:"):
        make()


def test_oracles_name_benchmark_policies_by_registry_id():
    env = BernoulliBandit(means=(0.3, 0.9, 0.5))
    assert env.oracle.benchmark_policies() == {
        "optimal": BenchmarkPolicy("FixedArm-v0", {"arm": 1})
    }
    assert make_benchmark_policy(env.oracle, "optimal").get_params() == {"arm": 1}
    adv = AdversarialBandit(means=(0.2, 0.9, 0.5), schedule="iid")
    assert adv.oracle.benchmark_policies() == {
        "best_fixed_arm": BenchmarkPolicy("FixedArm-v0", {"arm": 1})
    }
    # With shuffled labels the best arm depends on the run's seed: no benchmark policy.
    assert AdversarialBandit(shuffle_arms=True).oracle.benchmark_policies() == {}


def test_contextual_observe_is_a_double_buffered_view():
    """``observe`` returns a view of a state buffer; a step writes the other buffer only."""
    env = make_env("banditlab/LinearContextual-v0", horizon=20).unwrapped
    obs, _ = env.reset(seed=3)
    observe, params = env.kernel.observe, env.kernel.params
    prev = observe(env.state_, params)
    assert np.shares_memory(prev, env.state_.obs)
    np.testing.assert_array_equal(prev, obs)
    for a in range(6):
        saved = prev.copy()
        obs, _, _, _, _ = env.step(a % env.n_arms)
        cur = observe(env.state_, params)
        assert np.shares_memory(cur, env.state_.obs) and not np.shares_memory(cur, prev)
        np.testing.assert_array_equal(prev, saved)  # intact until the following step
        np.testing.assert_array_equal(cur, obs)
        assert not np.shares_memory(obs, env.state_.obs)  # users get a copy
        prev = cur
