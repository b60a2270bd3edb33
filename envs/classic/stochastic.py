"""Stochastic K-armed bandits: Bernoulli and Gaussian arms.

Kernels on top, classes below. Both envs draw exactly one random number per
step whatever the arm (a uniform for Bernoulli, a standard normal for
Gaussian), so agents run on the same env seed face common random numbers.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BenchmarkPolicy, EnvKernel, KernelEnv, Oracle, RegretKind
from banditlab.validation import Array, Interval, validate_params


class BernoulliBanditParams(NamedTuple):
    """Kernel parameters of :class:`BernoulliBandit`.

    Attributes:
        means: float64[K], success probability of each arm.
        best_mean: float64, ``max(means)``.
    """

    means: np.ndarray
    best_mean: float


class GaussianBanditParams(NamedTuple):
    """Kernel parameters of :class:`GaussianBandit`.

    Attributes:
        means: float64[K], mean reward of each arm.
        best_mean: float64, ``max(means)``.
        sigma: float64, noise standard deviation.
    """

    means: np.ndarray
    best_mean: float
    sigma: float


class StochasticBanditState(NamedTuple):
    """Kernel state of a stochastic bandit (updated in place).

    Attributes:
        t: int64[1], steps completed.
        obs: float64[1], the constant observation (returned without allocating).
    """

    t: np.ndarray
    obs: np.ndarray


@njit(cache=True)
def stochastic_bandit_init(params, rng):
    """Initial state; draws nothing (the instance is fixed by the constructor)."""
    return StochasticBanditState(np.zeros(1, np.int64), np.zeros(1))


@njit(cache=True)
def bernoulli_step(state, params, action, rng):
    """Pull ``action``: one uniform draw ``u``, reward ``1[u < means[action]]``.

    Args:
        state: :class:`StochasticBanditState`.
        params: :class:`BernoulliBanditParams`.
        action: int64 arm index.
        rng: The env's noise generator.

    Returns:
        ``(reward, expected_reward, optimal_expected_reward)``.
    """
    means = params.means
    best = params.best_mean
    u = rng.random()
    state.t[0] += 1
    mu = means[action]
    return (1.0 if u < mu else 0.0), mu, best


@njit(cache=True)
def gaussian_step(state, params, action, rng):
    """Pull ``action``: reward ``means[action] + sigma * z`` with one standard normal ``z``.

    Args:
        state: :class:`StochasticBanditState`.
        params: :class:`GaussianBanditParams`.
        action: int64 arm index.
        rng: The env's noise generator.
    """
    means = params.means
    best = params.best_mean
    sigma = params.sigma
    z = rng.standard_normal()
    state.t[0] += 1
    mu = means[action]
    return mu + sigma * z, mu, best


@njit(cache=True)
def constant_observe(state, params):
    """Constant observation ``[0.0]`` of context-free bandits: ``state.obs``, never written.

    Returns the state's preallocated buffer (no allocation per step); one buffer is
    enough because the observation never changes (an env whose observation changes
    keeps two buffers, since the agent receives both ``obs`` and ``next_obs``).
    """
    return state.obs


@njit(cache=True)
def no_checkpoint(state, params):
    """No comparator beyond the per-step one and no extra metrics."""
    return np.empty(0)


class StochasticBanditOracle(Oracle):
    """Oracle of a stationary stochastic bandit: the best arm's mean.

    Kind ``stochastic``: comparator ``C(t) = t * max_a mu_a`` (per step, primary).
    """

    primary_kind = "stochastic"
    regret_kinds = MappingProxyType(
        {
            "stochastic": RegretKind(
                per_step=True,
                nonnegative=True,
                description="t times the largest arm mean (pseudo-regret of stochastic bandits)",
            )
        }
    )

    def __init__(self, means: np.ndarray):
        self.means = means
        self.best_mean = float(np.max(means))
        self.best_arm = int(np.argmax(means))

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """``(t * best_mean, t * best_mean)`` for kind ``stochastic``."""
        if kind != "stochastic":
            return super().comparator(kind, t)
        return t * self.best_mean, t * self.best_mean

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """``{"optimal": FixedArm-v0 on the best arm}``."""
        return {"optimal": BenchmarkPolicy("FixedArm-v0", {"arm": self.best_arm})}


class _StochasticBandit(KernelEnv):
    """Shared implementation of context-free stochastic bandits.

    Args:
        means: float64[K], validated by the subclass.
        horizon: Validated run length.
    """

    family = "classic"

    def __init__(self, means: np.ndarray, horizon: int):
        self.horizon = horizon
        self.run_length = self.horizon
        self.means = means
        k = means.shape[0]
        self.action_space = gym.spaces.Discrete(k)
        self.observation_space = gym.spaces.Discrete(1)
        self.oracle = StochasticBanditOracle(means)
        self.known_constants = MappingProxyType({"n_arms": k, "horizon": self.horizon})

    def kernel_obs_to_obs(self, kobs):
        """The constant observation ``0``."""
        return 0


class BernoulliBandit(_StochasticBandit):
    """K-armed Bernoulli bandit.

    ## Description
    Each arm ``a`` pays 1 with probability ``means[a]`` and 0 otherwise.

    ## Action Space
    ``Discrete(K)``.

    ## Observation Space
    ``Discrete(1)``: the constant 0 (no context).

    ## Reward
    ``1[u < means[a]]`` for one uniform ``u`` drawn per step (common random numbers).

    ## Regret
    ``stochastic`` (primary, per step): comparator ``t * max_a means[a]``.

    ## Information
    ``t``, ``expected_reward`` (``means[a]``), ``optimal_expected_reward`` (``max means``).

    ## Arguments
    * ``means``: list of K probabilities in [0, 1].
    * ``horizon``: run length T (default 1000).

    ## References
    Lai & Robbins (1985); Auer, Cesa-Bianchi & Fischer (2002).

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "means": Array("float", ndim=1, min_len=1, low=0.0, high=1.0),
        "horizon": Interval("int", 1, None),
    }

    def __init__(self, means=(0.2, 0.8), horizon: int = 1000):
        p = validate_params(self._parameter_constraints, {"means": means, "horizon": horizon})
        arr = p["means"]
        super().__init__(arr, p["horizon"])
        self.kernel = EnvKernel(
            params=BernoulliBanditParams(arr, float(np.max(arr))),
            init=stochastic_bandit_init,
            step=bernoulli_step,
            observe=constant_observe,
            checkpoint=no_checkpoint,
        )


class GaussianBandit(_StochasticBandit):
    """K-armed Gaussian bandit with a common known standard deviation.

    ## Description
    Arm ``a`` pays ``means[a] + sigma * z`` with ``z ~ N(0, 1)``.

    ## Action Space
    ``Discrete(K)``.

    ## Observation Space
    ``Discrete(1)``: the constant 0.

    ## Reward
    One standard normal per step whatever the arm (common random numbers).

    ## Regret
    ``stochastic`` (primary, per step): comparator ``t * max_a means[a]``.

    ## Information
    ``t``, ``expected_reward``, ``optimal_expected_reward``.

    ## Arguments
    * ``means``: list of K finite means.
    * ``sigma``: noise standard deviation (> 0, default 1).
    * ``horizon``: run length T (default 1000).

    ## Version History
    * v0: initial version.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "means": Array("float", ndim=1, min_len=1),
        "sigma": Interval("real", 0.0, None, closed="neither"),
        "horizon": Interval("int", 1, None),
    }

    def __init__(self, means=(0.0, 0.5), sigma: float = 1.0, horizon: int = 1000):
        p = validate_params(self._parameter_constraints,
                            {"means": means, "sigma": sigma, "horizon": horizon})
        arr = p["means"]
        self.sigma = p["sigma"]
        super().__init__(arr, p["horizon"])
        self.kernel = EnvKernel(
            params=GaussianBanditParams(arr, float(np.max(arr)), self.sigma),
            init=stochastic_bandit_init,
            step=gaussian_step,
            observe=constant_observe,
            checkpoint=no_checkpoint,
        )
