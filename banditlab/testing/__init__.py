"""Test helpers shared by banditlab's test suite and by third-party packages.

* :func:`parametrize_with_checks`: one pytest case per (object, check), with ids
  such as ``UCB1-v0-check_reset_determinism``; checks an object declares in
  ``xfail_checks`` are marked ``xfail`` (the only way to skip one).
* :func:`all_env_specs`, :func:`all_agent_specs`: every registered env / agent.
* :class:`GenericTestEnv`, :class:`GenericTestAgent`: well-behaved defaults whose
  methods are injected as constructor arguments, so deliberately broken
  fixtures are one line each (the idea of Gymnasium's ``tests/testing_env.py``).
* :class:`GenericTestOracleAgent`: a correct oracle agent (tag ``needs_oracle``) for
  stochastic-bandit oracles, the fixture of the kit's oracle-agent support.
* :func:`warm_numba_kernels` and the session fixture :func:`numba_warm`: compile
  the common kernels once per test session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np

from banditlab.core import (
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_OPTIMAL_EXPECTED_REWARD,
    INFO_T,
    Agent,
    spawn_env_streams,
)

try:  # pytest is a test dependency, not a runtime one
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

__all__ = [
    "all_env_specs",
    "all_agent_specs",
    "parametrize_with_checks",
    "check_cases",
    "GenericTestEnv",
    "GenericTestAgent",
    "GenericTestOracleAgent",
    "warm_numba_kernels",
    "numba_warm",
]


# --------------------------------------------------------------------------- registries
def all_env_specs() -> list:
    """Gymnasium ``EnvSpec`` of every registered ``banditlab/`` env (and plugins), sorted."""
    from banditlab.registry import env_ids, env_spec

    return [env_spec(i) for i in env_ids()]


def all_agent_specs() -> list:
    """:class:`~banditlab.registry.AgentSpec` of every registered agent (and plugins), sorted."""
    from banditlab.registry import agent_ids, agent_spec

    return [agent_spec(i) for i in agent_ids()]


# --------------------------------------------------------------------------- parametrization
def _is_env_like(obj: Any) -> bool:
    from banditlab.checks._common import EnvSubject

    if isinstance(obj, (gym.Env, gym.envs.registration.EnvSpec, EnvSubject)):
        return True
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str):
        return obj[0] in gym.registry
    if isinstance(obj, str):
        from banditlab.registry import env_ids

        env_ids()
        return obj in gym.registry
    return False


def _broken(name: str, exc: BaseException) -> Callable[[Any], None]:
    def check_loadable(_subject: Any) -> None:
        raise AssertionError(
            f"{name}: building the check list failed ({type(exc).__name__}: {exc}). Most likely "
            "cause: the registered entry point does not import or its defaults do not construct."
        )

    return check_loadable


def _object_name(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, tuple) and obj and isinstance(obj[0], str):
        return obj[0]
    for attr in ("id", "name", "registry_id"):
        value = getattr(obj, attr, None)
        if isinstance(value, str):
            return value
    return type(obj).__name__ if not isinstance(obj, type) else obj.__name__


def check_cases(objects: Iterable[Any]) -> list[tuple[str, Any, Callable, str | None]]:
    """``(case id, subject, check, xfail reason)`` for every object and applicable check.

    Envs and agents may be mixed. Building a case never compiles Numba code. An
    object whose check list cannot be built yields one failing case
    ``<name>-check_loadable`` instead of breaking collection.
    """
    from banditlab.checks import agent_check_list, env_check_list

    cases = []
    for obj in objects:
        name = _object_name(obj)
        try:
            subject, checks = env_check_list(obj) if _is_env_like(obj) else agent_check_list(obj)
        except Exception as exc:  # noqa: BLE001 - reported as a failing case
            cases.append((f"{name}-check_loadable", obj, _broken(name, exc), None))
            continue
        for check in checks:
            reason = subject.xfail_checks.get(check.__name__)
            cases.append((f"{subject.name}-{check.__name__}", subject, check, reason))
    return cases


def parametrize_with_checks(objects: Iterable[Any]):
    """A ``pytest.mark.parametrize`` decorator over ``(subject, check)`` pairs.

    Usage::

        @parametrize_with_checks(["UCB1-v0", "banditlab/Bernoulli-v0"])
        def test_conformance(subject, check):
            check(subject)

    Args:
        objects: Env ids, ``EnvSpec``, env instances, agent ids, ``AgentSpec``,
            agent instances or classes.

    Returns:
        The decorator; ids look like ``UCB1-v0-check_reset_determinism``.
    """
    if pytest is None:  # pragma: no cover
        raise ImportError("parametrize_with_checks needs pytest")
    params = []
    for case_id, subject, check, reason in check_cases(objects):
        marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason is not None else []
        params.append(pytest.param(subject, check, id=case_id, marks=marks))
    return pytest.mark.parametrize("subject, check", params)


# --------------------------------------------------------------------------- generic env
def generic_reset(env: GenericTestEnv, seed: int | None, options: dict | None):
    """Default ``reset_fn``: seed, spawn the streams, start a run (or continue one)."""
    if seed is not None or not hasattr(env, "noise_rng_"):
        gym.Env.reset(env, seed=seed)
        env.init_rng_, env.noise_rng_, env.simulator_rng_, env.oracle_rng_ = spawn_env_streams(
            env.np_random
        )
        env.episode_ = 0
    else:
        env.episode_ += 1
    env.t_ = 0
    return 0, {}


def generic_step(env: GenericTestEnv, action):
    """Default ``step_fn``: a Bernoulli arm with one uniform draw per step (CRN)."""
    if not env.action_space.contains(action):
        from banditlab.core import BanditlabError

        raise BanditlabError(f"action: {action!r} is outside {env.action_space}")
    u = env.noise_rng_.random()
    env.t_ += 1
    mu = float(env.means[int(action)])
    reward = 1.0 if u < mu else 0.0
    info = {INFO_T: env.t_, INFO_EXPECTED_REWARD: mu,
            INFO_OPTIMAL_EXPECTED_REWARD: float(np.max(env.means))}
    if env.run_kind == "episodic":
        info[INFO_EPISODE] = env.episode_
        return 0, reward, env.t_ >= env.episode_length, False, info
    return 0, reward, False, env.t_ >= env.run_length, info


class GenericTestEnv(gym.Env):
    """A small, correct Bernoulli bandit whose ``reset``/``step`` are injectable.

    Defaults pass every env check (except the kernel ones, which do not apply:
    this is not a :class:`~banditlab.core.KernelEnv`). Replace ``reset_fn`` or
    ``step_fn`` to build a broken fixture in one line. Its ``family`` is
    ``"classic"`` (a subclass may declare another).

    Args:
        reset_fn: ``reset_fn(env, seed, options) -> (obs, info)``; must call
            ``gymnasium.Env.reset(env, seed=seed)`` to seed ``np_random``.
        step_fn: ``step_fn(env, action) -> (obs, reward, terminated, truncated, info)``.
        means: Arm means (float, K entries).
        run_length: Steps per run (continuing) or episodes per run (episodic).
        run_kind: ``"continuing"`` or ``"episodic"``.
        episode_length: Steps per episode (episodic only).
        oracle: Oracle object (default: the stochastic-bandit oracle of ``means``).
        action_space: Default ``Discrete(len(means))``.
        observation_space: Default ``Discrete(1)``.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention
    extra_metrics: tuple[str, ...] = ()
    family = "classic"

    def __init__(
        self,
        reset_fn: Callable | None = None,
        step_fn: Callable | None = None,
        means=(0.2, 0.8),
        run_length: int = 20,
        run_kind: str = "continuing",
        episode_length: int = 4,
        oracle=None,
        action_space: gym.Space | None = None,
        observation_space: gym.Space | None = None,
    ):
        from banditlab.envs.classic.stochastic import StochasticBanditOracle

        self.reset_fn = reset_fn or generic_reset
        self.step_fn = step_fn or generic_step
        self.means = np.asarray(means, dtype=np.float64)
        self.run_length = run_length
        self.run_kind = run_kind
        self.episode_length = episode_length
        self.oracle = oracle if oracle is not None else StochasticBanditOracle(self.means)
        self.action_space = action_space or gym.spaces.Discrete(self.means.shape[0])
        self.observation_space = observation_space or gym.spaces.Discrete(1)
        self.known_constants = {"n_arms": int(self.means.shape[0])}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Delegate to ``reset_fn``."""
        return self.reset_fn(self, seed, options)

    def step(self, action):
        """Delegate to ``step_fn``."""
        return self.step_fn(self, action)


# --------------------------------------------------------------------------- generic agent
def generic_agent_reset(agent: GenericTestAgent, action_space, observation_space, seed,
                        simulator) -> None:
    """Default ``reset_fn``: counts and sums per arm, ``rng_`` from ``seed``."""
    agent.n_actions_ = int(action_space.n)
    agent.counts_ = np.zeros(agent.n_actions_)
    agent.sums_ = np.zeros(agent.n_actions_)
    agent.rng_ = np.random.default_rng(seed)


def generic_agent_act(agent: GenericTestAgent, observation) -> int:
    """Default ``act_fn``: a uniformly random arm from ``rng_``."""
    return int(agent.rng_.integers(agent.n_actions_))


def generic_agent_update(agent: GenericTestAgent, observation, action, reward,
                         next_observation, terminated) -> None:
    """Default ``update_fn``: accumulate counts and sums."""
    agent.counts_[action] += 1.0
    agent.sums_[action] += reward


class GenericTestAgent(Agent):
    """A small, correct (non-learning) agent whose methods are injectable.

    The injected functions are its hyperparameters (stored verbatim), so clones
    keep them. Defaults pass every agent check that applies. Tagged
    ``families=("classic",)``.

    Args:
        reset_fn: ``reset_fn(agent, action_space, observation_space, seed, simulator)``.
        act_fn: ``act_fn(agent, observation) -> action``.
        update_fn: ``update_fn(agent, obs, action, reward, next_obs, terminated)``.
        init_fn: Called as ``init_fn(agent)`` at the end of ``__init__`` (only broken
            fixtures use it).
    """

    display_name = "Generic test agent"
    _tags = {"learns": False, "families": ("classic",)}  # noqa: RUF012
    # Class-level defaults, so subclasses with their own __init__ need not call this one.
    reset_fn = act_fn = update_fn = init_fn = None

    def __init__(self, reset_fn=None, act_fn=None, update_fn=None, init_fn=None):
        self.reset_fn = reset_fn
        self.act_fn = act_fn
        self.update_fn = update_fn
        self.init_fn = init_fn
        if init_fn is not None:
            init_fn(self)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Delegate to ``reset_fn``."""
        (self.reset_fn or generic_agent_reset)(self, action_space, observation_space, seed,
                                               simulator)

    def act(self, observation):
        """Delegate to ``act_fn``."""
        return (self.act_fn or generic_agent_act)(self, observation)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Delegate to ``update_fn``."""
        (self.update_fn or generic_agent_update)(self, observation, action, reward,
                                                 next_observation, terminated)


class GenericTestOracleAgent(Agent):
    """A correct oracle agent: plays the best arm of the env's live stochastic-bandit oracle.

    Tagged ``needs_oracle``: it takes the oracle as its ``oracle`` hyperparameter (stored
    verbatim, never copied) and reads ``oracle.best_arm`` at every ``reset``, so the
    conformance kit must build it from the oracle of the env it plays.

    Args:
        oracle: The env's oracle (anything with an integer ``best_arm``).
    """

    display_name = "Generic test oracle (best arm)"
    _tags = {"learns": True, "families": ("classic",), "needs_oracle": True,  # noqa: RUF012
             "oracle": True}

    def __init__(self, oracle=None):
        self.oracle = oracle

    def _validate_params(self, action_space, observation_space) -> None:
        from banditlab.validation import require_discrete_actions

        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)
        if self.oracle is None or not hasattr(self.oracle, "best_arm"):
            from banditlab.core import BanditlabError

            raise BanditlabError(
                f"oracle: expected the env's oracle (with best_arm), got {self.oracle!r}")

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Read the best arm from the oracle; seed ``rng_`` (unused)."""
        self._validate_params(action_space, observation_space)
        self.arm_ = int(self.oracle.best_arm)
        self.rng_ = np.random.default_rng(seed)

    def act(self, observation) -> int:
        """The oracle's best arm."""
        return self.arm_

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""


# --------------------------------------------------------------------------- warm-up
@functools.cache
def warm_numba_kernels() -> float:
    """Compile the kernels most checks share, once per process; returns seconds spent.

    Runs the foundation's Bernoulli env with ``Uniform`` and ``UCB1`` on both
    harness paths for a few steps (this also compiles the fused loop for those
    pairs). With ``cache=True`` later processes load the compiled code from disk.
    """
    import time

    from banditlab.agents.classic.baselines import Uniform
    from banditlab.agents.classic.ucb import UCB1
    from banditlab.harness import run

    t0 = time.perf_counter()
    for agent in (Uniform(), UCB1()):
        for backend in ("kernel", "python"):
            run(("banditlab/Bernoulli-v0", {"horizon": 10}), agent.clone(), seed=0,
                backend=backend)
    return time.perf_counter() - t0


if pytest is not None:

    @pytest.fixture(scope="session")
    def numba_warm() -> float:
        """Session fixture: :func:`warm_numba_kernels` once (import it into a test module)."""
        return warm_numba_kernels()
