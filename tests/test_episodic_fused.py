"""The fused episodic loop: bit-for-bit parity with the Gymnasium loop, exact policy values.

* every advmdp learner configuration (covariance estimators, bonuses, solvers, tabular and
  simulator-free envs) gives identical curves, identical final kernel states and identical
  generator states (env noise, agent, simulator) on both paths, checkpoint by checkpoint;
* the fused loop of every such configuration allocates nothing per episode (Numba runtime
  allocation counts at two run lengths), also on instances whose policy value sums more
  than 128 products (the pairwise stack);
* the oracle's exact policy value (the number both paths record per episode) equals the
  NumPy formula it replaced, ``-sum(occupancy * loss_table)``, bit for bit, also from
  buffers holding stale values;
* kernels that are not importable by name run on the generic episode loop, agent kernels
  without episode hooks run with no-op hooks, and a non-terminating episode is an error on
  both paths.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from numba import njit

from banditlab import _fused
from banditlab.agents.classic.baselines import Uniform
from banditlab.core import (
    Agent,
    BanditlabError,
    EnvKernel,
    Oracle,
    RegretKind,
    spawn_env_streams,
)
from banditlab.envs.advmdp.kernel import (
    PAIRWISE_STACK,
    SCRATCH_FIELDS,
    advmdp_policy_loss,
    advmdp_policy_loss_into,
    advmdp_policy_value,
    pairwise_sum,
    pairwise_sum_into,
)
from banditlab.envs.advmdp.model import advmdp_occupancy
from banditlab.harness import run
from banditlab.loops import fused_path_available
from banditlab.registry import make_agent, make_benchmark_policy, make_env
from banditlab.testing.allocations import enable_nrt_stats

QMDP = "banditlab/AdvLinearQMDP-v0"

# (env kwargs, agent id or "oracle:<name>", agent kwargs)
CASES = {
    "exact covariance and bonus": (
        {"simulator_mode": "exact"}, "DilatedBonusPO-v1",
        {"cov_estimator": "exact", "bonus": "exact_dp"}),
    "direct covariance, bisection": (
        {}, "LogBarrierPO-v1",
        {"cov_estimator": "direct", "n_cov_samples": 64, "log_barrier_solver": "bisection"}),
    "single-chain MGR, clipped norms": (
        {}, "LogBarrierPO-v1",
        {"mgr_variant": "single_chain", "n_cov_samples": 64, "clip_bonus_norms": True}),
    "A2-candidate with bonus floor": (
        {"simulator_mode": "exact", "schedule": "doubling_blocks"}, "MagnitudeReducedPO-v1",
        {"beta_floor": True, "n_bonus_samples": 3}),
    "tabular": ({"tabular": True, "simulator_mode": "exact"}, "TabularExp3PO-v1",
                {"cov_estimator": "exact"}),
    "larger instance, d > 16": (
        {"H": 4, "N": 6, "A": 4, "d": 17, "schedule": "switch_p"}, "LogBarrierPO-v1",
        {"n_cov_samples": 40}),
    "no simulator, uniform": ({"_env": "banditlab/AdvLinearMDP-v0"}, "AdvMDPUniform-v0", {}),
    "no simulator, hindsight": (
        {"_env": "banditlab/AdvLinearMDP-v0"}, "oracle:best_fixed_hindsight", {}),
}


def _pair(env_kwargs, agent_id, agent_kwargs, n_episodes):
    kw = dict(env_kwargs)
    env = make_env(kw.pop("_env", QMDP), n_episodes=n_episodes, **kw).unwrapped
    if agent_id.startswith("oracle:"):
        return env, make_benchmark_policy(env.oracle, agent_id.split(":", 1)[1])
    return env, make_agent(agent_id, **agent_kwargs)


def _generator_states(env, agent):
    out = [env.noise_rng_.bit_generator.state, agent.rng_.bit_generator.state]
    if getattr(env, "simulator", None) is not None:
        out.append(env.simulator.rng_.bit_generator.state)
    return out


def _assert_states_equal(a, b, name="state"):
    """Kernel states (NamedTuples of arrays, possibly nested) hold equal arrays."""
    if isinstance(a, tuple):
        assert type(a) is type(b) and len(a) == len(b), name
        for field, x, y in zip(getattr(a, "_fields", range(len(a))), a, b, strict=True):
            _assert_states_equal(x, y, f"{name}.{field}")
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_episodes_equal_the_gymnasium_loop(case):
    env_kwargs, agent_id, agent_kwargs = CASES[case]
    K = 14
    runs = {}
    for backend in ("python", "kernel"):
        env, agent = _pair(env_kwargs, agent_id, agent_kwargs, K)
        assert fused_path_available(env, agent)
        res = run(env, agent, seed=5, backend=backend, checkpoints=list(range(1, K + 1)))
        assert res.backend == backend
        runs[backend] = (res, env, agent)
    (py, env_p, ag_p), (fu, env_f, ag_f) = runs["python"], runs["kernel"]
    assert sorted(py.curves) == sorted(fu.curves)
    for metric in py.curves:
        np.testing.assert_array_equal(py.curves[metric], fu.curves[metric], err_msg=metric)
    # the same final kernel states and the same draws from every stream (the env's scratch
    # buffers are written by the fused loop's policy values only)
    for name in env_p.state_._fields:
        if name not in SCRATCH_FIELDS:
            np.testing.assert_array_equal(getattr(env_p.state_, name),
                                          getattr(env_f.state_, name), err_msg=name)
    _assert_states_equal(ag_p.state_, ag_f.state_)
    assert _generator_states(env_p, ag_p) == _generator_states(env_f, ag_f)
    assert ag_p.t_ == ag_f.t_ == int(env_p.H) * K
    if "sim_calls" in py.curves:
        assert py.curves["sim_calls"][-1] == env_f.simulator.sim_calls


ALLOCATION_CASES = {
    **CASES,
    "uniform, > 128 products": ({"H": 4, "N": 10, "A": 5, "d": 6}, "AdvMDPUniform-v0", {}),
    "beta = 0, > 128 products": (
        {"H": 3, "N": 12, "A": 5, "d": 5}, "DilatedBonusPO-v1", {"beta": 0.0,
                                                                "n_cov_samples": 30}),
}


def _nrt_allocations_of_run(env_kwargs, agent_id, agent_kwargs, n_episodes):
    from numba.core.runtime import rtsys

    env, agent = _pair(env_kwargs, agent_id, agent_kwargs, n_episodes)
    before = rtsys.get_allocation_stats().alloc
    run(env, agent, seed=3, backend="kernel", checkpoints=[n_episodes])
    return rtsys.get_allocation_stats().alloc - before


@pytest.mark.parametrize("case", sorted(ALLOCATION_CASES))
def test_fused_episodes_allocate_nothing_per_episode(case):
    """Policies, covariance estimates (exact, direct, MGR), bonuses, simulator draws and the
    exact policy value all run on buffers allocated at ``init``: runs of 3 and 9 episodes
    make the same number of Numba runtime allocations."""
    enable_nrt_stats()
    _nrt_allocations_of_run(*ALLOCATION_CASES[case], 3)  # compile
    short = _nrt_allocations_of_run(*ALLOCATION_CASES[case], 3)
    long = _nrt_allocations_of_run(*ALLOCATION_CASES[case], 9)
    assert long == short, (short, long)


def test_segments_and_run_length_do_not_change_the_run():
    """Checkpoint grids only cut the compiled loop into segments; the run is the same."""
    finals = []
    for cps in ([9], [1, 2, 5, 9], list(range(1, 10))):
        env, agent = _pair({}, "LogBarrierPO-v1", {"n_cov_samples": 32}, 20)
        res = run(env, agent, seed=2, backend="kernel", run_length=9, checkpoints=cps)
        finals.append({m: c[-1] for m, c in res.curves.items()})
        assert env.episode_ == 9 and agent.episodes_ == 9
    assert finals[0] == finals[1] == finals[2]


def test_recorded_policy_values_are_the_oracle_values():
    """Per-episode expected rewards are the oracle's exact values of the agent's policies."""
    env, agent = _pair({"simulator_mode": "exact"}, "DilatedBonusPO-v1",
                       {"cov_estimator": "exact", "bonus": "exact_dp"}, 6)
    res = run(env, agent, seed=1, backend="kernel", checkpoints=list(range(1, 7)))
    env2, agent2 = _pair({"simulator_mode": "exact"}, "DilatedBonusPO-v1",
                         {"cov_estimator": "exact", "bonus": "exact_dp"}, 6)
    from banditlab.seeding import run_seeds

    env_seed, agent_seed = run_seeds(1)
    obs, _ = env2.reset(seed=env_seed)
    agent2.reset(env2.action_space, env2.observation_space, seed=agent_seed,
                 simulator=env2.simulator)
    values = []
    for k in range(6):
        if k:
            obs, _ = env2.reset()
        values.append(env2.oracle.policy_expected_reward(agent2.policy_table()))
        done = False
        while not done:
            a = agent2.act(obs)
            nobs, r, done, _, _ = env2.step(a)
            agent2.update(obs, a, r, nobs, done)
            obs = nobs
    np.testing.assert_array_equal(res.curves["expected_reward"], np.cumsum(values))


@pytest.mark.parametrize("shape", [(3, 4, 3, 4), (5, 20, 5, 10), (2, 3, 2, 17)])
def test_policy_value_kernel_equals_the_numpy_formula(shape):
    """``-np.sum(occupancy * loss_table)`` bit for bit (NumPy's pairwise summation)."""
    H, N, A, d = shape
    env = make_env(QMDP, H=H, N=N, A=A, d=d, n_episodes=8).unwrapped
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for k in range(4):
        pi = rng.dirichlet(np.full(A, 0.5), size=(H, N))
        loss = np.einsum("hsad,hd->hsa", env.phi, env.oracle.loss_vectors(k))
        expected = -float(np.sum(advmdp_occupancy(env.P, pi) * loss))
        env.oracle.episode_ = k
        env.state_.pos[2] = k
        assert env.oracle.policy_expected_reward(pi) == expected
        assert advmdp_policy_value(env.state_, env.kernel.params, pi) == expected


def test_pairwise_sum_is_numpys_sum():
    rng = np.random.default_rng(1)
    frames = np.full((3, PAIRWISE_STACK), 99, np.int64)  # stale buffers, reused
    vals = np.full(PAIRWISE_STACK, np.nan)
    for n in [*range(1, 300), 1000, 1031, 8192, 20000]:
        x = rng.normal(size=n) * 10.0 ** rng.integers(-6, 6, size=n)
        assert 0.0 + pairwise_sum(x, 0, n) == np.sum(x), n
        assert 0.0 + pairwise_sum_into(x, 0, n, frames, vals) == np.sum(x), n


def test_policy_loss_from_stale_buffers_is_the_oracle_value():
    """The env state's scratch (reused every episode) never leaks into a policy value."""
    env = make_env(QMDP, H=4, N=10, A=5, d=6, n_episodes=8).unwrapped
    rng = np.random.default_rng(2)
    H, N, A = env.H, env.N, env.A
    loss = env.oracle.loss_tables[1]
    for _ in range(3):
        pi = rng.dirichlet(np.full(A, 0.5), size=(H, N))
        bufs = (np.full((H, N, A), np.nan), np.full((2, N), np.inf),
                np.full(H * N * A, -1e300), np.full((3, PAIRWISE_STACK), 7, np.int64),
                np.full(PAIRWISE_STACK, np.nan))
        assert (advmdp_policy_loss_into(env.P, loss, pi, *bufs)
                == advmdp_policy_loss(env.P, loss, pi)
                == float(np.sum(advmdp_occupancy(env.P, pi) * loss)))


# --------------------------------------------------------------------------- generic loop
class _ToyOracle(Oracle):
    primary_kind = None
    regret_kinds = {"static": RegretKind(per_step=False, nonnegative=False)}

    def comparator(self, kind, t):
        return 0.0, 0.0


class _ToyEpisodic(gym.Env):
    """Episodes end with probability ``p_end`` after each step (kernels built locally)."""

    run_kind = "episodic"
    extra_metrics = ("steps",)
    family = "advmdp"

    def __init__(self, p_end=0.3, n_episodes=12, max_episode_steps=None):
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(0.0, np.inf, (1,))
        self.run_length = n_episodes
        self.max_episode_steps = max_episode_steps
        self.oracle = _ToyOracle()

        @njit
        def begin(state, params):
            state[0] = 0.0
            state[1] = 0.0

        @njit
        def step(state, params, action, rng):
            u = rng.random()
            state[0] += 1.0
            state[2] += 1.0
            if u < params[0]:
                state[1] = 1.0
            return u * (action + 1.0), u, np.nan

        @njit
        def observe(state, params):
            out = np.empty(1)
            out[0] = state[0]
            return out

        @njit
        def terminated(state, params):
            return state[1] != 0.0

        @njit
        def checkpoint(state, params):
            out = np.empty(1)
            out[0] = state[2]
            return out

        self.kernel = EnvKernel((float(p_end),), None, step, observe, checkpoint, (),
                                self.extra_metrics, begin_episode=begin,
                                terminated=terminated)

    def reset(self, *, seed=None, options=None):
        if seed is not None or not hasattr(self, "state_"):
            super().reset(seed=seed)
            self.noise_rng_ = spawn_env_streams(self.np_random)[1]
            self.state_ = np.zeros(3)
        else:
            self.kernel.begin_episode(self.state_, self.kernel.params)
        return self.kernel.observe(self.state_, self.kernel.params), {}

    def step(self, action):
        k = self.kernel
        reward, expected, _ = k.step(self.state_, k.params, np.int64(action), self.noise_rng_)
        info = {"t": int(self.state_[0]), "expected_reward": float(expected), "steps": 1.0}
        return (k.observe(self.state_, k.params), float(reward),
                bool(k.terminated(self.state_, k.params)), False, info)


def test_generic_loop_with_no_op_agent_hooks_equals_the_gymnasium_loop():
    """Local (non-importable) kernels run the generic loop; a continuing kernel agent (no
    episode hooks, no policy) runs with the no-op kernels."""
    env = _ToyEpisodic()
    loops = _fused.episodic_loops(env.kernel, Uniform().make_kernel())
    assert not loops.cached and not loops.policy_value and len(loops.kernel_args) == 10
    curves = {}
    for backend in ("python", "kernel"):
        res = run(_ToyEpisodic(), Uniform(), seed=4, backend=backend, checkpoints=[1, 5, 12])
        curves[backend] = res.curves
    assert sorted(curves["python"]) == sorted(curves["kernel"])
    for metric, curve in curves["python"].items():
        np.testing.assert_array_equal(curve, curves["kernel"][metric], err_msg=metric)
    assert curves["python"]["steps"][-1] > 12  # episodes of several steps


@pytest.mark.parametrize("backend", ["python", "kernel"])
def test_an_episode_that_never_ends_is_an_error(backend):
    env = _ToyEpisodic(p_end=0.0, max_episode_steps=7)
    with pytest.raises(RuntimeError, match="episode 1 did not terminate within 7 steps"):
        run(env, Uniform(), seed=0, backend=backend, checkpoints=[2])


class _PythonUniform(Agent):
    """A uniform agent without kernels."""

    display_name = "Python uniform"
    _tags = {"learns": False, "families": ("advmdp",)}

    def __init__(self):
        pass

    def reset(self, action_space, observation_space, *, seed=None, simulator=None):
        self.rng_ = np.random.default_rng(seed)
        self.n_ = int(action_space.n)

    def act(self, observation):
        return int(self.rng_.integers(0, self.n_))

    def update(self, observation, action, reward, next_observation, terminated):
        pass


def test_agents_without_kernels_keep_the_python_path():
    env = make_env("banditlab/AdvLinearMDP-v0", n_episodes=4)
    assert fused_path_available(env, make_agent("AdvMDPUniform-v0"))
    assert not fused_path_available(env, _PythonUniform())
    assert run(env, _PythonUniform(), seed=0, checkpoints=[4]).backend == "python"
    with pytest.raises(BanditlabError, match="^backend: 'kernel' needs"):
        run(env, _PythonUniform(), seed=0, backend="kernel")


class _ExtraDrawUniform(type(make_agent("AdvMDPUniform-v0"))):
    """Broken: its Python ``act`` draws once more than its kernel."""

    def act(self, observation):
        self.rng_.random()
        return super().act(observation)


def test_conformance_check_covers_episodic_kernel_agents():
    from banditlab.checks import agent_checker as ac

    assert ac.check_kernel_matches_python in ac.agent_checks(type(make_agent("LogBarrierPO-v1")))
    ac.check_kernel_matches_python(make_agent("AdvMDPUniform-v0"))
    with pytest.raises(AssertionError, match="the fused Numba loop and the Python loop disagree"):
        ac.check_kernel_matches_python(_ExtraDrawUniform())
