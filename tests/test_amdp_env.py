"""Average-reward MDP envs: tables, sampling, structure of linear instances, bad input."""

import gymnasium as gym
import numpy as np
import pytest

import banditlab.envs  # noqa: F401  (registers the ids)
from banditlab.agents.amdp.baselines import (
    PSRL,
    CertaintyEquivalenceEpsGreedy,
    TabularPolicy,
)
from banditlab.agents.amdp.linear import LOOPLin
from banditlab.agents.amdp.loop import LOOPMix, LOOPTab
from banditlab.agents.amdp.ucrl2 import UCRL2
from banditlab.core import BanditlabError, BenchmarkPolicy
from banditlab.envs.amdp.env import (
    GridWorldAMDP,
    LinearAMDP,
    LinearMixtureAMDP,
    RiverSwim,
    TabularAMDP,
    TwoStateLowerBound,
)
from banditlab.envs.amdp.model import (
    OBS_TABLE_STATES,
    amdp_observe,
    amdp_observe_state,
    riverswim_tables,
)
from banditlab.harness import run
from banditlab.registry import make_agent

IDS = ["RiverSwim", "SixArms", "TwoStateLowerBound", "GridWorldAMDP", "LinearAMDP",
       "LinearMixtureAMDP"]


@pytest.mark.parametrize("name", IDS)
def test_registered_defaults(name):
    env = gym.make(f"banditlab/{name}-v0", horizon=50)
    u = env.unwrapped
    assert u.run_kind == "continuing"
    assert u.known_constants["span_bound"] == pytest.approx(u.oracle.span)
    assert u.known_constants["n_states"] == u.observation_space.n
    obs, _ = env.reset(seed=0)
    total = 0.0
    for t in range(50):
        s = int(obs)
        a = env.action_space.sample()
        obs, rew, term, trunc, info = env.step(a)
        assert info["state"] == s and info["t"] == t + 1 and not term
        assert info["expected_reward"] == u.oracle.r[s, a]
        assert info["optimal_expected_reward"] == u.oracle.gain
        total += rew
    assert trunc


def test_riverswim_tables_match_definition():
    P, r = riverswim_tables(6, "osband")
    assert P[0, 1, 0] == 0.4 and P[0, 1, 1] == 0.6
    assert tuple(P[3, 1, 2:5]) == (0.05, 0.6, 0.35)
    assert P[5, 1, 4] == 0.4 and P[5, 1, 5] == 0.6
    assert r[0, 0] == 0.005 and r[5, 1] == 1.0 and r.sum() == 1.005
    P2, r2 = riverswim_tables(6, "orel")
    assert P2[0, 1, 0] == 0.6 and tuple(P2[3, 1, 2:5]) == (0.05, 0.55, 0.4)
    assert r2[0, 0] == 0.05


def test_transitions_sampled_by_inverse_cdf():
    """Empirical next-state frequencies and Bernoulli rewards match (P, r) (5-sigma margins)."""
    env = GridWorldAMDP(horizon=30000, reward_noise="bernoulli")
    P, r = env.oracle.P, env.oracle.r
    S, A = r.shape
    counts = np.zeros_like(P)
    rew = np.zeros((S, A))
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=5)
    for _ in range(30000):
        a = int(rng.integers(A))
        s = int(obs)
        obs, reward, *_ = env.step(a)
        counts[s, a, int(obs)] += 1
        rew[s, a] += reward
    n = counts.sum(axis=2)
    for s in range(S):
        for a in range(A):
            if n[s, a] < 200:
                continue
            freq = counts[s, a] / n[s, a]
            sd = np.sqrt(P[s, a] * (1 - P[s, a]) / n[s, a])
            assert np.all(np.abs(freq - P[s, a]) <= 5 * sd + 1e-12)
            assert np.all(counts[s, a][P[s, a] == 0] == 0)
            mean_sd = np.sqrt(r[s, a] * (1 - r[s, a]) / n[s, a])
            assert abs(rew[s, a] / n[s, a] - r[s, a]) <= 5 * mean_sd + 1e-12


def test_fixed_draws_per_step():
    env = RiverSwim(horizon=10)
    states = []
    for a in (0, 1):
        env.reset(seed=3)
        env.step(a)
        states.append(env.noise_rng_.bit_generator.state["state"])
    assert states[0] == states[1]
    ref = np.random.default_rng()
    env.reset(seed=3)
    ref.bit_generator.state = env.noise_rng_.bit_generator.state
    env.step(1)
    ref.random(2)
    assert ref.bit_generator.state["state"] == env.noise_rng_.bit_generator.state["state"]


def test_linear_structure():
    env = LinearAMDP(dim=4)
    phi = env.known_constants["features"]
    P, r = env.oracle.P, env.oracle.r
    S, A, d = phi.shape
    Phi = phi.reshape(S * A, d)
    # r = Phi w_r and P = Phi mu: residuals of least squares vanish, rank <= d.
    w = np.linalg.lstsq(Phi, r.reshape(-1), rcond=None)[0]
    np.testing.assert_allclose(Phi @ w, r.reshape(-1), atol=1e-10)
    mu = np.linalg.lstsq(Phi, P.reshape(S * A, S), rcond=None)[0]
    np.testing.assert_allclose(Phi @ mu, P.reshape(S * A, S), atol=1e-10)
    assert np.linalg.matrix_rank(P.reshape(S * A, S)) <= d


def test_mixture_structure():
    env = LinearMixtureAMDP()
    psi = env.known_constants["mixture_features"]
    P = env.oracle.P
    S, A, _, d = psi.shape
    X = psi.reshape(S * A * S, d)
    theta = np.linalg.lstsq(X, P.reshape(-1), rcond=None)[0]
    np.testing.assert_allclose(X @ theta, P.reshape(-1), atol=1e-10)
    assert np.linalg.norm(theta) <= env.known_constants["theta_norm_bound"] + 1e-9
    env1 = LinearMixtureAMDP(mixture="one_hot")
    psi1 = env1.known_constants["mixture_features"]
    theta1 = np.linalg.lstsq(psi1.reshape(-1, psi1.shape[3]), env1.oracle.P.reshape(-1),
                             rcond=None)[0]
    np.testing.assert_allclose(theta1, env1.oracle.P.reshape(-1), atol=1e-12)


def test_gridworld_goal_teleports():
    env = GridWorldAMDP()
    P, r = env.oracle.P, env.oracle.r
    goal = int(np.flatnonzero(r.max(axis=1) > 0)[0])
    assert np.all(r[goal] == 1.0) and np.all(P[goal, :, env.start_state] == 1.0)
    assert np.count_nonzero(r) == 4


# --------------------------------------------------------------------------- bad input
def _two_components():
    P = np.zeros((3, 1, 3))
    P[0, 0, 0] = 1.0  # absorbing, reward 0
    P[1, 0, 2] = 1.0
    P[2, 0, 1] = 1.0
    r = np.array([[0.0], [1.0], [1.0]])
    return P, r


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"transitions": [[[0.5, 0.4]], [[0.0, 1.0]]], "rewards": [[0.0], [1.0]]}, "sums to"),
        ({"transitions": [[[1.2, -0.2]], [[0.0, 1.0]]], "rewards": [[0.0], [1.0]]},
         "negative probability"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0], [1.5]]}, "rewards"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0], [-0.1]]}, "rewards"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0, 1.0]]}, "rewards"),
        ({"transitions": [[0.5, 0.5]], "rewards": [[0.0]]}, "transitions"),
        ({"transitions": [[[np.nan, 1.0]], [[0.5, 0.5]]], "rewards": [[0.0], [0.0]]},
         "finite"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0], [1.0]],
          "start_state": 2}, "start_state"),
        ({"transitions": _two_components()[0], "rewards": _two_components()[1],
          "start_state": 0}, "start_state"),
        ({"transitions": _two_components()[0], "rewards": _two_components()[1],
          "start_state": 1}, "weakly communicating"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0], [1.0]],
          "horizon": 0}, "horizon"),
        ({"transitions": [[[0.5, 0.5]], [[0.5, 0.5]]], "rewards": [[0.0], [1.0]],
          "reward_noise": "gauss"}, "reward_noise"),
    ],
)
def test_bad_tables(kwargs, match):
    with pytest.raises(BanditlabError, match=match):
        TabularAMDP(**kwargs)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: RiverSwim(n=1), "n:"),
        (lambda: RiverSwim(variant="x"), "variant"),
        (lambda: GridWorldAMDP(layout="maze"), "layout"),
        (lambda: GridWorldAMDP(slip=1.0), "slip"),
        (lambda: LinearAMDP(features="rbf"), "features"),
        (lambda: LinearAMDP(dim=0), "dim"),
        (lambda: LinearMixtureAMDP(mixture="x"), "mixture"),
        (lambda: gym.make("banditlab/TwoStateLowerBound-v0", delta=0.0), "delta"),
        (lambda: TwoStateLowerBound(delta=0.2, epsilon=0.9), "^epsilon:"),
        (lambda: TwoStateLowerBound(n_actions=0), "^n_actions:"),
        (lambda: RiverSwim(start_state=6), "^start_state:"),
        (lambda: RiverSwim(reward_noise="gauss"), "^reward_noise:"),
        (lambda: LinearAMDP(alpha_phi=0.0), "^alpha_phi:"),
        (lambda: LinearAMDP(instance_seed=-1), "^instance_seed:"),
        (lambda: LinearMixtureAMDP(alpha=float("nan")), "^alpha:"),
        (lambda: LinearMixtureAMDP(n_kernels=0), "^n_kernels:"),
        (lambda: GridWorldAMDP(slip=-0.1), "^slip:"),
    ],
)
def test_bad_env_kwargs(make, match):
    with pytest.raises(BanditlabError, match=match):
        make()


@pytest.mark.parametrize(
    "agent, match",
    [
        (LOOPTab(span_bound=0.0), "span_bound"),
        (LOOPTab(span_bound=-1.0), "span_bound"),
        (LOOPMix(span_bound=0), "span_bound"),
        (LOOPLin(span_bound=-2.0), "span_bound"),
        (LOOPLin(span_bound=float("inf")), "span_bound"),
        (UCRL2(radius="bernstein"), "radius"),
        (UCRL2(delta=1.5), "delta"),
        (UCRL2(n_states=7), "n_states"),
        (LOOPTab(switch="lazy"), "switch"),
        (LOOPLin(features=np.ones((6, 2))), "features"),
        (LOOPMix(mixture_features=np.ones((6, 2, 6))), "mixture_features"),
        (LOOPLin(variant="fopo"), "variant"),
        (LOOPLin(variant="fixed_point", fp_iters=0), "fp_iters"),
        (LOOPLin(horizon=1), "^horizon:"),
        (LOOPLin(tol=0.0), "^tol:"),
        (LOOPMix(theta_norm_bound=-1.0), "^theta_norm_bound:"),
        (LOOPMix(mixture_features=np.full((6, 2, 6, 3), np.nan)), "^mixture_features:"),
        (UCRL2(evi_max_iter=0), "^evi_max_iter:"),
        (UCRL2(n_states=2.5), "^n_states:"),
        (PSRL(rvi_tol=1.5), "^rvi_tol:"),
        (PSRL(rvi_max_iter=True), "^rvi_max_iter:"),
        (CertaintyEquivalenceEpsGreedy(c=0.0), "^c:"),
        (TabularPolicy(policy=(1, 1)), "^observation_space: the policy has 2 actions"),
        (TabularPolicy(policy=(0, 1, 2, 0, 1, 0)), "^action_space: the policy plays action 2"),
        (TabularPolicy(policy=((0, 1),)), "^policy:"),
        (TabularPolicy(policy=(0, -1, 0, 0, 0, 0)), "^policy:"),
        (TabularPolicy(policy="right"), "^policy:"),
    ],
)
def test_bad_agent_params(agent, match):
    env = RiverSwim(horizon=10)
    with pytest.raises(BanditlabError, match=match):
        agent.reset(env.action_space, env.observation_space, seed=0)


def test_oracle_names_benchmark_policies_by_registry_id():
    env = RiverSwim(horizon=10)
    pols = env.oracle.benchmark_policies()
    assert set(pols) == {"optimal", "uniform"}
    assert all(isinstance(p, BenchmarkPolicy) for p in pols.values())
    assert pols["optimal"].agent_id == "AMDPOptimalPolicy-v0"
    assert pols["optimal"].kwargs["policy"] == tuple(int(a) for a in env.oracle.policy)
    assert pols["uniform"] == BenchmarkPolicy("Uniform-v0")


def test_observation_is_a_row_later_steps_leave_intact():
    """``observe`` reads the state without allocating: a read-only row holding ``s``.

    The fused loop hands the observation before and after a step to ``update``: the
    earlier one must not change when the env moves on.
    """
    env = RiverSwim(horizon=50)
    env.reset(seed=0)
    k = env.unwrapped.kernel
    assert k.observe is amdp_observe
    seen = []
    for _ in range(40):
        kobs = k.observe(env.unwrapped.state_, k.params)
        assert not kobs.flags.writeable and kobs.shape == (1,)
        assert kobs[0] == env.unwrapped.state_.s[0]
        seen.append((kobs, float(kobs[0])))
        env.step(1)
    assert len({v for _, v in seen}) > 1  # the walk moved
    assert all(kobs[0] == v for kobs, v in seen)


def test_large_mdp_observes_through_its_state_table():
    """Beyond ``OBS_TABLE_STATES`` states the observation is a row of the state's own table."""
    S = OBS_TABLE_STATES + 2
    P = np.full((S, 1, S), 1.0 / S)  # mixes in one step: the oracle solves it at once
    r = np.zeros((S, 1))
    r[S - 1, 0] = 1.0
    env = TabularAMDP(P, r, horizon=300)
    k = env.unwrapped.kernel
    assert k.observe is amdp_observe_state
    env.reset(seed=1)
    kobs = k.observe(env.unwrapped.state_, k.params)
    env.step(0)
    assert kobs[0] == 0.0 and env.unwrapped.state_.s[0] != 0  # moved; the old row stayed
    res = run(env, make_agent("Uniform-v0"), seed=2, backend="kernel")
    assert res.curves["reward"][-1] == pytest.approx(res.curves["expected_reward"][-1])
