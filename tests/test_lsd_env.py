"""LSD / recharging env: semantics against an independent re-implementation, CRN, presets,
conformance, pickling, fused-vs-Python parity and bad-input errors."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest

import banditlab.agents  # noqa: F401  (registers agents)
import banditlab.envs  # noqa: F401  (registers envs)
from banditlab.checks import check_env
from banditlab.core import BanditlabError, spawn_env_streams
from banditlab.envs.lsd.env import LSDBandit, laforgue2_delay_payoffs, laforgue5_delay_payoffs
from banditlab.harness import run
from banditlab.registry import make_agent, make_env

LSD_IDS = [
    "banditlab/LSDBandit-v1",
    "banditlab/LSDLaforgue5-v1",
    "banditlab/LSDLaforgue2-v1",
    "banditlab/LSDRecharging-v1",
    "banditlab/LSDBlocking-v1",
    "banditlab/LSDSeasonal-v1",
    "banditlab/LSDMultiPull-v0",
]

PRESET_KWARGS = [
    {"preset": "table", "payoff_table": np.random.default_rng(3).uniform(0, 1, (3, 2, 4))},
    {"preset": "recharging", "delay_payoffs": [[0.1, 0.5, 0.9], [0.3, 0.3, 0.4]]},
    {"preset": "blocking", "means": [0.9, 0.4], "block_lengths": [2, 0]},
    {"preset": "stationary", "means": [0.2, 0.7], "tau_max": 2},
    {"preset": "monotone", "random_instance_seed": 4, "n_arms": 3, "tau_max": 4,
     "monotone": True},
    {"preset": "seasonal", "random_instance_seed": 4, "n_arms": 3, "tau_max": 6},
    {"preset": "concave", "random_instance_seed": 4, "n_arms": 3, "tau_max": 5,
     "noise": ("gaussian", 0.1)},
    {"preset": "step", "random_instance_seed": 4, "n_arms": 3, "tau_max": 5,
     "obs_encoding": "signed_played_negative"},
]


def reference_rollout(table, init_state, actions):
    """Independent plain-Python model: per-arm (on, level) states and means before pulls."""
    k, _, tau = table.shape
    if init_state == "idle_max":
        state = [("off", tau) for _ in range(k)]
    else:
        state = [("on", 1) for _ in range(k)]
    means = []
    for a in actions:
        kind, lev = state[a]
        means.append(table[a, 0 if kind == "on" else 1, lev - 1])
        new = []
        for i, (kind, lev) in enumerate(state):
            if i == a:
                new.append(("on", min(lev + 1, tau)) if kind == "on" else ("on", 1))
            else:
                new.append(("off", min(lev + 1, tau)) if kind == "off" else ("off", 1))
        state = new
    return np.array(means), state


@pytest.mark.parametrize("env_id", LSD_IDS)
def test_registered_ids_pass_conformance(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env_id)


@pytest.mark.parametrize("kwargs", PRESET_KWARGS, ids=[k["preset"] for k in PRESET_KWARGS])
def test_presets_pass_conformance(kwargs):
    check_env(lambda: LSDBandit(**kwargs, horizon=60))


@pytest.mark.parametrize("init_state", ["idle_max", "all_delay_one"])
@pytest.mark.parametrize("enc", ["signed_played_positive", "signed_played_negative", "delay"])
def test_transitions_and_encodings_match_reference(init_state, enc):
    rng = np.random.default_rng(11)
    table = rng.uniform(0, 1, (3, 2, 4))
    env = LSDBandit(payoff_table=table, init_state=init_state, obs_encoding=enc, horizon=200)
    obs, _ = env.reset(seed=5)
    actions = list(rng.integers(0, 3, 150)) + [1] * 7 + [2] * 3  # long streaks hit the cap
    got = []
    for a in actions:
        obs, _, term, trunc, info = env.step(int(a))
        got.append(info["expected_reward"])
        assert not term
    want, state = reference_rollout(table, init_state, actions)
    np.testing.assert_array_equal(np.array(got), want)
    for i, (kind, lev) in enumerate(state):
        if enc == "signed_played_positive":
            expect = lev if kind == "on" else -lev
        elif enc == "signed_played_negative":
            expect = -lev if kind == "on" else lev
        else:
            expect = 1 if kind == "on" else min(lev + 1, 4)
        assert obs[i] == expect
    assert info["t"] == len(actions) and not trunc
    assert "optimal_expected_reward" not in info


def test_bernoulli_one_uniform_per_step_crn():
    table = np.random.default_rng(0).uniform(0, 1, (4, 2, 3))
    env = LSDBandit(payoff_table=table, horizon=100)
    env.reset(seed=42)
    # Independent replay of the stream layout: gymnasium seeding, spawn, one uniform per step.
    seeded, _ = gym.utils.seeding.np_random(42)
    uniforms = spawn_env_streams(seeded)[1].random(100)
    rng = np.random.default_rng(1)
    for t in range(100):
        a = int(rng.integers(0, 4))
        _, r, _, _, info = env.step(a)
        assert r == (1.0 if uniforms[t] < info["expected_reward"] else 0.0)


def test_gaussian_noise_is_clipped_normal():
    table = np.full((2, 2, 3), 0.5)
    env = LSDBandit(payoff_table=table, noise=("gaussian", 0.3), horizon=50)
    env.reset(seed=1)
    ref = LSDBandit(payoff_table=table, noise=("gaussian", 0.3), horizon=50)
    ref.reset(seed=1)
    z = ref.noise_rng_.standard_normal(50)
    rewards = [env.step(t % 2)[1] for t in range(50)]
    np.testing.assert_allclose(rewards, np.clip(0.5 + 0.3 * z, 0, 1))


def test_delay_presets_match_their_definition():
    env = make_env("banditlab/LSDLaforgue5-v1")
    p = laforgue5_delay_payoffs()
    # Play arm 1 every third round from delay 1: its delay at each pull is 3 -> 0.95.
    env.reset(seed=0)
    means = []
    for t in range(30):
        _, _, _, _, info = env.step(1 if t % 3 == 2 else 0)
        means.append(info["expected_reward"])
    assert means[2] == p[1, 2] == 0.95 and means[5] == 0.95
    # Arm 2 at delay 9 pays 0.96 (delay = idle + 1).
    env.reset(seed=0)
    for _ in range(8):
        env.step(0)
    assert env.step(2)[4]["expected_reward"] == 0.96
    e2 = make_env("banditlab/LSDLaforgue2-v1")
    assert e2.payoff_table.shape == (2, 2, 11)
    off_row = laforgue2_delay_payoffs()[1, [*range(1, 11), 10]]
    np.testing.assert_array_equal(e2.payoff_table[1, 1], off_row)


def test_blocking_preset_means():
    env = LSDBandit(preset="blocking", means=[0.8, 0.3], block_lengths=[2, 0], horizon=20)
    env.reset(seed=0)
    got = [env.step(a)[4]["expected_reward"] for a in [0, 0, 1, 1, 0, 1, 1, 0]]
    # arm 0 pays only when its delay (idle + 1) exceeds 2; it starts fully rested
    assert got == [0.8, 0.0, 0.3, 0.3, 0.8, 0.3, 0.3, 0.8]


def test_pickle_mid_run_continues_identically():
    env = make_env("banditlab/LSDBandit-v1")
    env.reset(seed=3)
    for a in [0, 1, 1, 2, 0]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in [2, 2, 0, 1, 1, 0, 2]:
        o1, r1, _, _, i1 = env.step(a)
        o2, r2, _, _, i2 = clone.step(a)
        assert r1 == r2 and np.array_equal(o1, o2)
        assert i1["expected_reward"] == i2["expected_reward"]


def test_fused_and_python_paths_agree():
    agent = make_agent("LSDUCBGreedy-v0", obs_encoding="delay")
    a = run(("banditlab/LSDLaforgue5-v1", {"horizon": 400}), agent, seed=2, backend="kernel")
    b = run(("banditlab/LSDLaforgue5-v1", {"horizon": 400}), agent, seed=2, backend="python")
    assert a.backend == "kernel" and b.backend == "python"
    for m in ("reward", "expected_reward", "regret/alpha/opt", "pseudo_regret/alpha/lp"):
        np.testing.assert_allclose(a.curves[m], b.curves[m], rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"payoff_table": [[[0.5, -0.1], [0.2, 0.3]]]}, "payoff_table"),
        ({"payoff_table": [[[0.5, np.nan], [0.2, 0.3]]]}, "payoff_table"),
        ({"payoff_table": [[[0.5, 1.2], [0.2, 0.3]]]}, "payoff_table"),
        ({"payoff_table": [[0.5, 0.2], [0.2, 0.3]]}, "payoff_table"),
        ({"payoff_table": np.zeros((2, 3, 4))}, "payoff_table"),
        ({"payoff_table": None}, "payoff_table"),
        ({"preset": "recharging", "delay_payoffs": [[0.1, 0.2]], "tau_max": 0}, "tau_max"),
        ({"preset": "stationary", "means": [0.1], "tau_max": 0}, "tau_max"),
        ({"payoff_table": np.full((1, 2, 3), 0.5), "tau_max": 2}, "tau_max"),
        ({"payoff_table": [[[0.2, 0.5], [0.2, 0.3]]], "monotone": True}, "payoff_table"),
        ({"payoff_table": [[[0.5, 0.2], [0.4, 0.3]]], "monotone": True}, "payoff_table"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "noise": "poisson"}, "noise"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "noise": ("gaussian", -1.0)}, "noise"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "noise": ["gaussian", np.inf]}, "noise"),
        ({"preset": "blocking", "means": [0.5], "block_lengths": [-1]}, "block_lengths"),
        ({"preset": "recharging", "delay_payoffs": np.zeros((2, 0))}, "delay_payoffs"),
        ({"preset": "monotone", "family_params": [1, 2]}, "family_params"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "alpha": 0.0}, "alpha"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "monotone": 1}, "monotone"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "obs_encoding": "x"}, "obs_encoding"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "init_state": "x"}, "init_state"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "m_pulls": 2}, "m_pulls"),
        ({"payoff_table": np.full((1, 2, 2), 0.5), "horizon": 0}, "horizon"),
        ({"preset": "nope"}, "preset"),
        ({"preset": "blocking", "means": [0.5, 0.5], "block_lengths": [1]}, "block_lengths"),
        ({"preset": "monotone"}, "family_params"),
        ({"preset": "monotone", "random_instance_seed": 0, "tau_max": 5000}, "tau_max"),
        ({"preset": "monotone", "random_instance_seed": 0, "n_arms": 10**6}, "n_arms"),
    ],
)
def test_bad_input_one_line_error(kwargs, param):
    with pytest.raises(BanditlabError) as err:
        LSDBandit(**kwargs)
    msg = str(err.value)
    assert msg.startswith(param) and "\n" not in msg


def test_monotone_presets_validate():
    for preset in ("monotone", "concave", "step"):
        env = LSDBandit(preset=preset, random_instance_seed=9, n_arms=4, tau_max=6,
                        monotone=True, horizon=10)
        t = env.payoff_table
        assert np.all(np.diff(t[:, 0], axis=1) <= 1e-12)
        assert np.all(np.diff(t[:, 1], axis=1) >= -1e-12)
    with pytest.raises(BanditlabError, match="^payoff_table"):
        LSDBandit(preset="seasonal", random_instance_seed=9, n_arms=4, tau_max=6,
                  monotone=True)


def test_observation_space_and_known_constants():
    env = gym.make("banditlab/LSDLaforgue5-v1").unwrapped
    assert env.known_constants["tau_max"] == 10 and env.known_constants["k"] == 5
    assert env.known_constants["obs_encoding"] == "delay"
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs) and obs.tolist() == [1] * 5
    assert env.oracle.primary_kind is None
    assert {"alpha/opt", "alpha/lp", "benchmark/greedy"} <= set(env.oracle.regret_kinds)


def test_benchmark_policies_are_registered_ids_with_the_true_table():
    from banditlab.core import BenchmarkPolicy
    from banditlab.registry import agent_ids, make_benchmark_policy

    env = make_env("banditlab/LSDLaforgue5-v1", horizon=50)
    policies = env.oracle.benchmark_policies()
    assert set(policies) == set(env.oracle.planner_names())
    for name, policy in policies.items():
        assert isinstance(policy, BenchmarkPolicy) and policy.agent_id in agent_ids(), name
        np.testing.assert_array_equal(np.asarray(policy.kwargs["payoff_table"]),
                                      env.payoff_table)
        agent = make_benchmark_policy(env.oracle, name)
        assert agent.obs_encoding == "delay" and agent.get_tags()["oracle"] is (
            name != "lsd_lp_epochs"), name
    assert policies["optimal"].kwargs["init_state"] == "all_delay_one"


@pytest.mark.parametrize(
    ("agent_id", "kwargs", "param"),
    [
        ("LSDOracleGreedy-v0", {"payoff_table": None}, "payoff_table"),
        ("LSDOracleGreedy-v0", {"payoff_table": np.full((3, 3, 2), 0.5)}, "payoff_table"),
        ("LSDOracleGreedy-v0", {"payoff_table": np.full((2, 2, 2), 0.5)}, "action_space"),
        ("LSDLPRounding-v1", {"relaxation": "x"}, "relaxation"),
        ("LSDLPRounding-v1", {"conflict_rule": "x"}, "conflict_rule"),
        ("LSDOptimal-v0", {"init_state": "x"}, "init_state"),
        ("LSDBlockPlanner-v0", {"block": 0}, "block"),
        ("LSDRoundRobin-v0", {"obs_encoding": "x"}, "obs_encoding"),
        ("LSDLPUCB-v1", {"isotonic": "x"}, "isotonic"),
        ("LSDLPUCB-v1", {"payoff_table": np.full((3, 2, 4), 0.5)}, "payoff_table"),
    ],
)
def test_bad_planner_hyperparameters_one_line_error(agent_id, kwargs, param):
    env = make_env("banditlab/LSDBandit-v1")  # k = 3, tau_max = 5
    if agent_id != "LSDLPUCB-v1" and "payoff_table" not in kwargs:
        kwargs = {**kwargs, "payoff_table": env.payoff_table.tolist()}
    with pytest.raises(BanditlabError) as err:
        make_agent(agent_id, **kwargs).reset(env.action_space, env.observation_space, seed=0)
    msg = str(err.value)
    assert msg.startswith(param) and "\n" not in msg


# --------------------------------------------------------------------------- m pulls
def reference_multi_rollout(table, actions, m, uniforms):
    """Independent model of m pulls per round: the first m marked arms are pulled.

    Returns per-round (expected reward, reward, pulled mask, last rewards) and the final
    per-arm (kind, level) states (idle_max start).
    """
    k, _, tau = table.shape
    state = [("off", tau) for _ in range(k)]
    out = []
    for act, u in zip(actions, uniforms, strict=True):
        marked = [i for i in range(k) if act[i] == 1][:m]
        mus = {i: table[i, 0 if state[i][0] == "on" else 1, state[i][1] - 1] for i in marked}
        rews = {i: float(u[i] < mus[i]) for i in marked}
        last = np.array([rews.get(i, 0.0) for i in range(k)])
        mask = np.array([1 if i in marked else 0 for i in range(k)])
        out.append((sum(mus.values()), sum(rews.values()), mask, last))
        state = [(("on", min(lv + 1, tau)) if kd == "on" else ("on", 1)) if i in marked
                 else (("off", min(lv + 1, tau)) if kd == "off" else ("off", 1))
                 for i, (kd, lv) in enumerate(state)]
    return out, state


def test_several_pulls_per_round_match_an_independent_model():
    rng = np.random.default_rng(5)
    table = rng.uniform(0, 1, (4, 2, 3))
    env = LSDBandit(payoff_table=table, m_pulls=2, horizon=120)
    assert env.action_space.max_pulls == 2 and env.observation_space.shape == (8,)
    obs, _ = env.reset(seed=7)
    seeded, _ = gym.utils.seeding.np_random(7)
    uniforms = spawn_env_streams(seeded)[1].random((120, 4))  # one draw per arm and step
    actions = rng.integers(0, 2, (120, 4))  # any 0/1 vector: more than m, or none
    actions[:5] = [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1], [1, 0, 0, 0], [1, 1, 0, 0]]
    want, state = reference_multi_rollout(table, actions, 2, uniforms)
    for act, (mu, r, mask, last) in zip(actions, want, strict=True):
        obs, reward, _, _, info = env.step(act.astype(np.int8))
        assert info["expected_reward"] == pytest.approx(mu, abs=1e-12)
        assert reward == r
        np.testing.assert_array_equal(info["pulled"], mask)
        np.testing.assert_array_equal(obs[4:], last)  # semi-bandit feedback
    signed = [lev if kind == "on" else -lev for kind, lev in state]
    np.testing.assert_array_equal(obs[:4], signed)
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("action", [[1, 0], [0, 2, 0, 0], [0.5, 0, 0, 1]])
def test_several_pulls_bad_action_one_line_error(action):
    env = LSDBandit(payoff_table=np.full((4, 2, 2), 0.5), m_pulls=2, horizon=10)
    env.reset(seed=0)
    with pytest.raises(BanditlabError) as err:
        env.step(np.array(action))
    assert str(err.value).startswith("action") and "\n" not in str(err.value)


def test_several_pulls_exact_optimum_matches_brute_force():
    from banditlab.envs.lsd.exact import build_graph, exact_finite_horizon, pull_sets

    table = np.round(np.random.default_rng(2).uniform(0, 1, (3, 2, 2)), 2)
    acts = pull_sets(3, 2)
    assert acts.shape == (7, 3) and acts.sum(axis=1).max() == 2  # all sets of <= 2 arms
    horizon = 5
    got = exact_finite_horizon(build_graph(table, "idle_max", m=2), horizon)
    # exhaustive search over every sequence of pull sets, on explicit per-arm states
    def step(state, a):
        mu = 0.0
        new = []
        for i, (kd, lv) in enumerate(state):
            if acts[a, i]:
                mu += table[i, 0 if kd == "on" else 1, lv - 1]
                new.append(("on", min(lv + 1, 2)) if kd == "on" else ("on", 1))
            else:
                new.append(("off", min(lv + 1, 2)) if kd == "off" else ("off", 1))
        return mu, tuple(new)

    def opt(state, t, memo={}):  # noqa: B006 - memo across calls of one test
        if t == 0:
            return 0.0
        key = (state, t)
        if key not in memo:
            memo[key] = max(mu + opt(nxt, t - 1) for mu, nxt in
                            (step(state, a) for a in range(len(acts))))
        return memo[key]

    start = (("off", 2),) * 3
    np.testing.assert_allclose(got, [opt(start, t) for t in range(horizon + 1)], atol=1e-12)
