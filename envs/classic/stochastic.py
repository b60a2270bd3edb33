"""Stochastic K-armed bandits: Bernoulli and Gaussian arms.

Kernels on top, classes below. Both envs draw exactly one random number per
step whatever the arm (a uniform for Bernoulli, a standard normal for
Gaussian), so agents run on the same env seed face common random numbers.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv, Oracle, RegretKind


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
        params: ``(means float64[K], best_mean float64)``.
        action: int64 arm index.
        rng: The env's noise generator.

    Returns:
        ``(reward, expected_reward, optimal_expected_reward)``.
    """
    means, best = params
    u = rng.random()
    state.t[0] += 1
    mu = means[action]
    return (1.0 if u < mu else 0.0), mu, best


@njit(cache=True)
def gaussian_step(state, params, action, rng):
    """Pull ``action``: reward ``means[action] + sigma * z`` with one standard normal ``z``.

    Args:
        state: :class:`StochasticBanditState`.
        params: ``(means float64[K], best_mean float64, sigma float64)``.
        action: int64 arm index.
        rng: The env's noise generator.
    """
    means, best, sigma = params
    z = rng.standard_normal()
    state.t[0] += 1
    mu = means[action]
    return mu + sigma * z, mu, best


@njit(cache=True)
def constant_observe(state, params):
    """Constant observation ``[0.0]`` of context-free bandits: ``state.obs``, never written.

    Returning a buffer of the state avoids an allocation per step; it is safe only
    because the observation never changes (an env whose observation changes must
    return a fresh array, since the agent receives both ``obs`` and ``next_obs``).
    """
    return state.obs


@njit(cache=True)
def empty_observe(state, params):
    """Constant observation ``[0.0]`` for kernel states without an ``obs`` buffer."""
    return np.zeros(1)


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

    def benchmark_policies(self):
        """``{"optimal": FixedArm(best arm)}``."""
        from banditlab.agents.classic.baselines import FixedArm

        return {"optimal": FixedArm(arm=self.best_arm)}


def _validate_means(means, *, low: float | None, high: float | None) -> np.ndarray:
    try:
        arr = np.asarray(means, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError(f"means: expected a list of numbers, got {means!r}") from None
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise BanditlabError(f"means: expected a non-empty 1-D list, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BanditlabError("means: every mean must be finite")
    if low is not None and np.any(arr < low) or high is not None and np.any(arr > high):
        raise BanditlabError(f"means: every mean must lie in [{low}, {high}], got {arr.tolist()}")
    return arr


def _validate_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise BanditlabError(f"horizon: expected an integer >= 1, got {horizon!r}")
    return int(horizon)


class _StochasticBandit(KernelEnv):
    """Shared implementation of context-free stochastic bandits."""

    family = "classic"

    def __init__(self, means, horizon: int):
        self.horizon = _validate_horizon(horizon)
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

    def __init__(self, means=(0.2, 0.8), horizon: int = 1000):
        arr = _validate_means(means, low=0.0, high=1.0)
        super().__init__(arr, horizon)
        self.kernel = EnvKernel(
            params=(arr, float(np.max(arr))),
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

    def __init__(self, means=(0.0, 0.5), sigma: float = 1.0, horizon: int = 1000):
        arr = _validate_means(means, low=None, high=None)
        if not (isinstance(sigma, (int, float, np.floating)) and np.isfinite(sigma) and sigma > 0):
            raise BanditlabError(f"sigma: expected a finite number > 0, got {sigma!r}")
        self.sigma = float(sigma)
        super().__init__(arr, horizon)
        self.kernel = EnvKernel(
            params=(arr, float(np.max(arr)), self.sigma),
            init=stochastic_bandit_init,
            step=gaussian_step,
            observe=constant_observe,
            checkpoint=no_checkpoint,
        )
