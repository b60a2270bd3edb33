"""Adversarial linear-Q MDP env, simulator and oracle: exact properties against brute force."""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from banditlab.core import BanditlabError
from banditlab.envs.advmdp.env import AdvLinearQMDP
from banditlab.registry import make_benchmark_policy


# ----------------------------------------------------------------------------- helpers
def dense_q_values(P, loss, pi):
    """Independent backward DP in plain numpy (matrix form)."""
    H, N, A = pi.shape
    Q = np.zeros((H, N, A))
    Vn = np.zeros(N)
    for h in range(H - 1, -1, -1):
        Q[h] = loss[h] + (P[h] @ Vn if h + 1 < H else 0.0)
        Vn = (pi[h] * Q[h]).sum(axis=1)
    return Q, Vn[0]


def dense_occupancy(P, pi):
    H, N, A = pi.shape
    q = np.zeros((H, N, A))
    dist = np.zeros(N)
    dist[0] = 1.0
    for h in range(H):
        q[h] = dist[:, None] * pi[h]
        if h + 1 < H:
            dist = np.einsum("sa,san->n", q[h], P[h])
    return q


def random_policy(rng, H, N, A):
    return rng.dirichlet(np.ones(A) * 0.7, size=(H, N))


def play_episode(env, actions_rng, collect=None):
    total = 0.0
    done = False
    while not done:
        obs, r, done, _, info = env.step(int(actions_rng.integers(env.A)))
        total += r
        if collect is not None:
            collect.append((obs["h"], obs["s"], info["loss"]))
    return total


# ----------------------------------------------------------------------------- linear Q
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"tabular": True}, {"ill_conditioned": True}, {"H": 4, "N": 3, "A": 2, "d": 5}],
)
def test_linear_q_holds_exactly_for_random_policies(kwargs):
    env = AdvLinearQMDP(n_episodes=8, **kwargs)
    env.reset(seed=3)
    orc = env.oracle
    rng = np.random.default_rng(0)
    P = orc.transitions()
    for _ in range(5):
        pi = random_policy(rng, env.H, env.N, env.A)
        for k in (0, 5):
            loss = orc.loss_table(k)
            Q, _ = dense_q_values(P, loss, pi)
            theta = orc.theta(pi, k)
            Qlin = np.einsum("hsad,hd->hsa", env.phi, theta)
            # reachable states: layer 0 state 0 and every state of later layers
            np.testing.assert_allclose(Qlin[0, 0], Q[0, 0], rtol=0, atol=1e-12)
            np.testing.assert_allclose(Qlin[1:], Q[1:], rtol=0, atol=1e-12)
            np.testing.assert_allclose(orc.q_values(pi, k), Q, rtol=0, atol=1e-12)
            # ||theta|| <= sqrt(d) H (the linear-Q assumption's bound)
            assert np.all(np.linalg.norm(theta, axis=1) <= np.sqrt(env.d) * env.H + 1e-12)


def test_instance_is_a_valid_mdp_with_bounded_losses():
    env = AdvLinearQMDP(H=4, N=5, A=3, d=6, n_episodes=4)
    env.reset(seed=0)
    np.testing.assert_allclose(env.P[0, 0].sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(env.P[1:-1].sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(env.P >= 0)
    assert np.all(np.linalg.norm(env.phi, axis=-1) <= 1 + 1e-12)
    for k in range(4):
        lt = env.oracle.loss_table(k)
        assert lt.min() >= 0 and lt.max() <= 1


def test_tabular_and_ill_conditioned_structure():
    tab = AdvLinearQMDP(tabular=True, n_episodes=4)
    assert tab.d == tab.N * tab.A
    for h, s, a in itertools.product(range(1, tab.H), range(tab.N), range(tab.A)):
        np.testing.assert_array_equal(tab.phi[h, s, a], np.eye(tab.d)[s * tab.A + a])
    ill = AdvLinearQMDP(ill_conditioned=True, n_episodes=4)
    ill.reset(seed=0)
    z = ill.d - 1
    for h in range(ill.H):
        np.testing.assert_array_equal(ill.phi[h, 0, 0], np.eye(ill.d)[z])
        other = ill.phi[h, 1:, :, z] if h else ill.phi[h, 0, 1:, z]
        assert np.all(other == 0)
        if h + 1 < ill.H:
            np.testing.assert_array_equal(ill.P[h, 0, 0], np.eye(ill.N)[0])
        for k in range(4):
            assert ill.oracle.loss_table(k)[h, 0, 0] == 0.0
    # the zero-loss chain is the best fixed policy
    value, policy = ill.oracle.best_fixed_policy(0, 4)
    assert value == 0.0 and policy[0, 0] == 0 and all(policy[h, 0] == 0 for h in range(ill.H))


# ----------------------------------------------------------------------------- best fixed policy
def test_best_fixed_policy_matches_brute_force_over_deterministic_policies():
    env = AdvLinearQMDP(H=2, N=2, A=2, d=3, n_episodes=40, schedule="iid_mix", p_mix=0.5)
    orc = env.oracle
    for seed in range(4):
        env.reset(seed=seed)
        P = orc.transitions()
        losses = [orc.loss_table(k) for k in range(40)]
        for k0, k1 in [(0, 40), (0, 1), (7, 23), (39, 40)]:
            best = np.inf
            # reachable states: (layer 0, state 0), (layer 1, state 0), (layer 1, state 1)
            for a0, a1, a2 in itertools.product(range(2), repeat=3):
                pi = np.full((2, 2, 2), 0.5)
                pi[0, 0] = np.eye(2)[a0]
                pi[1, 0] = np.eye(2)[a1]
                pi[1, 1] = np.eye(2)[a2]
                total = sum(dense_q_values(P, losses[k], pi)[1] for k in range(k0, k1))
                best = min(best, total)
            value, policy = orc.best_fixed_policy(k0, k1)
            assert value == pytest.approx(best, abs=1e-12)
            pi = np.zeros((2, 2, 2))
            for h in range(2):
                pi[h, np.arange(2), policy[h]] = 1.0
            got = sum(orc.expected_value(pi, k) for k in range(k0, k1))
            assert got == pytest.approx(best, abs=1e-12)


def test_comparator_and_policy_expected_reward_are_exact():
    env = AdvLinearQMDP(n_episodes=30, schedule="switch_half")
    orc = env.oracle
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    pi = random_policy(rng, env.H, env.N, env.A)
    q = dense_occupancy(env.P, pi)
    for t in (1, 10, 15, 16, 30):
        val, _ = orc.best_fixed_policy(0, t)
        assert orc.comparator("static", t) == (-val, -val)
    for k in range(6):
        expected = -float(np.sum(q * orc.loss_table(k)))
        assert orc.policy_expected_reward(pi) == pytest.approx(expected, abs=1e-12)
        play_episode(env, rng)
        # after termination (before reset) the "current" episode is the next one
        if k + 1 < 30:
            assert orc.policy_expected_reward(pi) == pytest.approx(
                -float(np.sum(q * orc.loss_table(k + 1))), abs=1e-12
            )
        env.reset()
    with pytest.raises(KeyError):
        orc.comparator("dynamic", 3)


def test_realised_episode_reward_has_the_exact_mean():
    """Monte Carlo over many episodes of a stationary schedule vs the exact value."""
    env = AdvLinearQMDP(n_episodes=4000, schedule="stationary")
    env.reset(seed=5)
    pi = np.full((env.H, env.N, env.A), 1.0 / env.A)
    rng = np.random.default_rng(2)
    totals = np.empty(4000)
    for k in range(4000):
        if k:
            env.reset()
        totals[k] = play_episode(env, rng)
    exact = env.oracle.policy_expected_reward(pi)
    se = totals.std() / np.sqrt(totals.size)
    assert abs(totals.mean() - exact) < 4 * se


# ----------------------------------------------------------------------------- schedules
def test_schedules():
    K = 1000
    env = AdvLinearQMDP(n_episodes=K, schedule="switch_half")
    env.reset(seed=0)
    np.testing.assert_array_equal(env.is_a_, np.arange(K) < K // 2)
    env = AdvLinearQMDP(n_episodes=K, schedule="switch_p", p_mix=0.7)
    env.reset(seed=0)
    np.testing.assert_array_equal(env.is_a_, np.arange(K) < 700)
    # switch_half is degenerate (documented): the mean loss is 1/2 on every pair
    env = AdvLinearQMDP(n_episodes=K, schedule="switch_half")
    env.reset(seed=0)
    np.testing.assert_allclose(env.oracle.mean_loss_vectors(0, K), 0.5)
    env = AdvLinearQMDP(n_episodes=K, schedule="doubling_blocks")
    env.reset(seed=0)
    expect = []
    j = 0
    while len(expect) < K:
        expect += [j % 2 == 0] * 2**j
        j += 1
    np.testing.assert_array_equal(env.is_a_, np.array(expect[:K]))
    env = AdvLinearQMDP(n_episodes=K, schedule="stationary")
    env.reset(seed=0)
    assert env.is_a_.all()
    env = AdvLinearQMDP(n_episodes=20000, schedule="iid_mix", p_mix=0.6)
    env.reset(seed=0)
    first = env.is_a_.copy()
    assert abs(first.mean() - 0.6) < 4 * np.sqrt(0.24 / 20000)
    env.reset(seed=0)
    np.testing.assert_array_equal(env.is_a_, first)
    env.reset(seed=1)
    assert not np.array_equal(env.is_a_, first)
    # the schedule uses g^A / g^B = 1 - g^A
    np.testing.assert_allclose(env.oracle.g_a + env.oracle.g_b, 1.0)


# ----------------------------------------------------------------------------- gymnasium, CRN
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"tabular": True}, {"ill_conditioned": True}, {"H": 1}, {"N": 1}, {"A": 1}],
)
def test_gymnasium_checker_has_no_warnings(kwargs):
    env = AdvLinearQMDP(n_episodes=16, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)


def test_episode_flow_and_info():
    env = AdvLinearQMDP(n_episodes=3)
    obs, info = env.reset(seed=0)
    assert info["episode_index"] == 0 and obs["h"] == 0 and obs["s"] == 0
    for k in range(3):
        if k:
            obs, info = env.reset()
            assert info["episode_index"] == k
        for h in range(env.H):
            assert obs["h"] == h
            np.testing.assert_array_equal(obs["phi"], env.phi[h, obs["s"]])
            nobs, r, term, trunc, info = env.step(0)
            assert info["t"] == h + 1 and info["episode_index"] == k and info["layer"] == h
            assert r == -info["loss"] == info["expected_reward"]
            assert term == (h == env.H - 1) and not trunc
            assert "optimal_expected_reward" not in info
            obs = nobs
    # past the run the schedule repeats cyclically (the harness never goes there)
    obs, info = env.reset()
    assert info["episode_index"] == 3
    _, r, _, _, info = env.step(0)
    assert info["loss"] == pytest.approx(env.oracle.loss_table(0)[0, 0, 0])


def test_crn_and_simulator_never_perturb_the_trajectory():
    def trajectory(actions, use_sim):
        env = AdvLinearQMDP(n_episodes=50)
        env.reset(seed=11)
        states = []
        pi = np.full((env.H, env.N, env.A), 1.0 / env.A)
        for k in range(50):
            if k:
                env.reset()
            for h in range(env.H):
                if use_sim:
                    env.simulator.sample(pi, 3)
                obs, _, _, _, info = env.step(actions[k, h])
                states.append(int(info["state"]))
        return states, env.noise_rng_.bit_generator.state, env.simulator.sim_calls

    rng = np.random.default_rng(0)
    a1 = rng.integers(0, 3, (50, 3))
    a2 = rng.integers(0, 3, (50, 3))
    s1, state1, calls1 = trajectory(a1, False)
    s1b, state1b, calls1b = trajectory(a1, True)
    _, state2, _ = trajectory(a2, False)
    assert s1 == s1b and calls1 == 0 and calls1b == 50 * 3 * 3
    assert state1 == state1b == state2  # one noise draw per step whatever the action


def test_sim_calls_info_accumulates_to_the_total():
    env = AdvLinearQMDP(n_episodes=5)
    env.reset(seed=0)
    pi = np.full((env.H, env.N, env.A), 1.0 / env.A)
    acc = 0
    for k in range(5):
        if k:
            env.reset()
        env.simulator.sample(pi, k + 1)
        for _ in range(env.H):
            _, _, _, _, info = env.step(1)
            acc += info["sim_calls"]
            assert info["sim_calls_total"] == acc
    assert acc == sum(range(1, 6))


def test_determinism_and_pickle_mid_run():
    env = AdvLinearQMDP(n_episodes=20)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(3):
        play_episode(env, rng)
        env.reset()
    env.step(1)
    clone = pickle.loads(pickle.dumps(env))
    rng2 = np.random.default_rng(7)
    out = []
    for e in (env, clone):
        r = np.random.default_rng(7)
        seq = []
        for _ in range(2):
            while True:
                obs, rew, done, _, info = e.step(int(r.integers(3)))
                seq.append((int(obs["s"]), rew))
                if done:
                    break
            e.reset()
        out.append(seq)
    assert out[0] == out[1]
    assert rng2 is not None


# ----------------------------------------------------------------------------- simulator
def test_simulator_samples_follow_the_exact_occupancy():
    env = AdvLinearQMDP(n_episodes=4, simulator_mode="exact")
    env.reset(seed=0)
    rng = np.random.default_rng(3)
    pi = random_policy(rng, env.H, env.N, env.A)
    n = 40000
    traj = env.simulator.sample(pi, n)
    assert traj.shape == (n, env.H, 2) and env.simulator.sim_calls == n
    q = env.simulator.occupancy(pi)
    np.testing.assert_allclose(q, dense_occupancy(env.P, pi), atol=1e-14)
    for h in range(env.H):
        counts = np.zeros((env.N, env.A))
        np.add.at(counts, (traj[:, h, 0], traj[:, h, 1]), 1.0)
        freq = counts / n
        se = np.sqrt(q[h] * (1 - q[h]) / n)
        assert np.all(np.abs(freq - q[h]) <= 5 * se + 1e-12)
    # start pairs: the next state follows P[h, s, a]
    start = env.simulator.sample(pi, 20000, start=(1, 2, 1))
    assert np.all(start[:, 0] == -1) and np.all(start[:, 1, 0] == 2) and np.all(start[:, 1, 1] == 1)
    freq = np.bincount(start[:, 2, 0], minlength=env.N) / 20000
    p = env.simulator.transition(1, 2, 1)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / 20000) + 1e-12)


def test_simulator_sample_mode_refuses_exact_queries():
    env = AdvLinearQMDP(n_episodes=4)
    env.reset(seed=0)
    pi = np.full((env.H, env.N, env.A), 1.0 / env.A)
    with pytest.raises(BanditlabError, match="simulator_mode='exact'"):
        env.simulator.occupancy(pi)
    with pytest.raises(BanditlabError, match="simulator_mode='exact'"):
        env.simulator.transition(0, 0, 0)
    assert not hasattr(env.simulator, "loss_vectors")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"H": 0}, "^H:"),
        ({"H": 1.5}, "^H:"),
        ({"N": 0}, "^N:"),
        ({"A": 0}, "^A:"),
        ({"d": 0}, "^d:"),
        ({"schedule": "sine"}, "^schedule:"),
        ({"p_mix": 1.5}, "^p_mix:"),
        ({"n_episodes": 0}, "^n_episodes:"),
        ({"alpha_phi": -1.0}, "^alpha_phi:"),
        ({"simulator_mode": "magic"}, "^simulator_mode:"),
        ({"tabular": True, "d": 5}, "^d:"),
        ({"tabular": True, "ill_conditioned": True}, "^ill_conditioned:"),
        ({"features": np.full((3, 4, 3, 2), 0.9)}, r"^features: every \|\|phi"),
        ({"features": np.full((3, 4, 3, 2), 0.5)[:, :, :2]}, "^features: expected shape"),
        ({"features": np.full((3, 4, 3, 2), 0.3)}, "^features: every reachable"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(BanditlabError, match=match):
        AdvLinearQMDP(**kwargs)


def test_custom_features_are_used():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.ones(2), size=(3, 4, 3))
    env = AdvLinearQMDP(features=phi, n_episodes=4)
    np.testing.assert_allclose(env.phi, phi)
    assert env.d == 2


@pytest.mark.parametrize("action", [3, -1, 1.5, "a", True, np.array([0, 1])])
def test_action_outside_space(action):
    env = AdvLinearQMDP(n_episodes=4)
    env.reset(seed=0)
    with pytest.raises(BanditlabError, match="^action:"):
        env.step(action)


@pytest.mark.parametrize(
    "table, match",
    [
        (np.full((3, 4, 3), 0.5), "distribution"),
        (-np.full((3, 4, 3), 1.0 / 3), "distribution"),
        (np.full((3, 4, 2), 0.5), "shape"),
        (np.full((3, 4, 3), np.nan), "finite"),
    ],
)
def test_policy_table_not_a_distribution(table, match):
    env = AdvLinearQMDP(n_episodes=4, simulator_mode="exact")
    env.reset(seed=0)
    with pytest.raises(BanditlabError, match=f"^policy_table:.*{match}"):
        env.oracle.policy_expected_reward(table)
    with pytest.raises(BanditlabError, match=f"^pi_table:.*{match}"):
        env.simulator.sample(table, 2)
    with pytest.raises(BanditlabError, match=f"^pi_table:.*{match}"):
        env.simulator.occupancy(table)


def test_episode_index_outside_the_run_raises():
    env = AdvLinearQMDP(n_episodes=4)
    env.reset(seed=0)
    for k in (4, -1, 1.0, True):
        with pytest.raises(BanditlabError, match="^k:"):
            env.oracle.loss_vectors(k)
    with pytest.raises(BanditlabError, match="^n:"):
        env.simulator.sample(np.full((3, 4, 3), 1 / 3), 0)
    with pytest.raises(BanditlabError, match="^run_length:"):
        env.run_length = 0


def test_per_layer_policy_tables_are_accepted():
    env = AdvLinearQMDP(n_episodes=4)
    env.reset(seed=0)
    layers = [np.full((1, 3), 1 / 3)] + [np.full((4, 3), 1 / 3)] * 2
    full = np.full((3, 4, 3), 1 / 3)
    assert env.oracle.policy_expected_reward(layers) == env.oracle.policy_expected_reward(full)
    with pytest.raises(BanditlabError, match="^policy_table: layer 1"):
        env.oracle.policy_expected_reward([layers[0], np.full((2, 3), 1 / 3), layers[2]])


def test_best_fixed_hindsight_agent_has_zero_final_pseudo_regret():
    from banditlab.harness import run

    env = AdvLinearQMDP(n_episodes=60, schedule="switch_p", p_mix=0.7)
    best = make_benchmark_policy(env.oracle, "best_fixed_hindsight")
    res = run(env, best, seed=2, checkpoints=[10, 60])
    assert res.finals["pseudo_regret/static"] == pytest.approx(0.0, abs=1e-9)
    # before the end it may beat the prefix comparator or not, but the total is exact
    uni = run(env, make_benchmark_policy(env.oracle, "uniform"), seed=2, checkpoints=[60])
    assert uni.finals["pseudo_regret/static"] > 1.0


def test_benchmark_policies_name_registered_agents():
    from banditlab.core import BenchmarkPolicy
    from banditlab.registry import agent_ids

    env = AdvLinearQMDP(n_episodes=8)
    policies = env.oracle.benchmark_policies()
    assert set(policies) == {"best_fixed_hindsight", "uniform"}
    for name, policy in policies.items():
        assert isinstance(policy, BenchmarkPolicy) and policy.agent_id in agent_ids()
        agent = make_benchmark_policy(env.oracle, name)
        live = "oracle" in policy.kwargs
        assert live == policy.agent_id.startswith("oracle/")
        assert agent.get_tags().get("needs_oracle", False) == live
    best = make_benchmark_policy(env.oracle, "best_fixed_hindsight")
    assert best.oracle is env.oracle


def test_best_fixed_hindsight_agent_needs_the_live_oracle():
    from banditlab.agents.advmdp.baselines import AdvMDPBestFixedHindsight

    env = AdvLinearQMDP(n_episodes=8)
    with pytest.raises(BanditlabError, match="^oracle: expected the env's AdvLinearQMDPOracle"):
        AdvMDPBestFixedHindsight().reset(env.action_space, env.observation_space, seed=0)
    with pytest.raises(BanditlabError, match="^oracle: reset the env"):
        AdvMDPBestFixedHindsight(oracle=env.oracle).reset(
            env.action_space, env.observation_space, seed=0
        )
