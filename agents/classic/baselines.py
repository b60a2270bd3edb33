"""Sanity baselines: the uniform random agent and a fixed arm.

Kernels on top, classes below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.kernels import random_integer
from banditlab.validation import Interval, require_discrete_actions


class UniformHparams(NamedTuple):
    """Kernel hyperparameters of :class:`Uniform`: none."""


class FixedArmHparams(NamedTuple):
    """Kernel hyperparameters of :class:`FixedArm`.

    Attributes:
        arm: int64, the arm played every round.
    """

    arm: np.int64


class CounterState(NamedTuple):
    """State of the memoryless baselines (updated in place).

    Attributes:
        n_actions: int64[1], number of arms.
    """

    n_actions: np.ndarray


@njit(cache=True)
def counter_init(dims, hparams, rng):
    """State holding only the number of arms ``dims[0]``."""
    return CounterState(np.array([dims[0]], dtype=np.int64))


@njit(cache=True)
def uniform_select(state, hparams, obs, t, rng):
    """An arm drawn uniformly with one ``integers`` draw (allocation-free, same stream)."""
    return random_integer(rng, 0, state.n_actions[0])


@njit(cache=True)
def fixed_select(state, hparams, obs, t, rng):
    """Always ``hparams.arm`` (:class:`FixedArmHparams`)."""
    return np.int64(hparams.arm)


@njit(cache=True)
def memoryless_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""
    return None


class Uniform(KernelAgent):
    """Plays an arm chosen uniformly at random every round (linear-regret reference)."""

    display_name: ClassVar[str] = "Uniform"
    _tags = {"learns": False, "families": ("classic", "lsd", "sor", "amdp")}

    def __init__(self):
        pass

    def _validate_params(self, action_space, observation_space) -> None:
        """Discrete actions only."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Uniform kernel."""
        return AgentKernel(UniformHparams(), counter_init, uniform_select, memoryless_update)


class FixedArm(KernelAgent):
    """Always plays the same arm.

    Args:
        arm: Index of the arm (int >= 0).
    """

    display_name: ClassVar[str] = "Fixed arm"
    _tags = {"learns": False, "families": ("classic", "lsd", "sor")}
    _parameter_constraints: ClassVar[dict[str, Any]] = {"arm": Interval("int", 0, None)}

    def __init__(self, arm: int = 0):
        self.arm = arm

    def _validate_params(self, action_space, observation_space) -> None:
        """``arm`` an integer >= 0, discrete actions, and ``arm`` one of them."""
        super()._validate_params(action_space, observation_space)
        n = require_discrete_actions(action_space)
        if self.arm >= n:
            raise BanditlabError(f"arm: {self.arm} is outside [0, {n})")

    def make_kernel(self) -> AgentKernel:
        """Fixed-arm kernel."""
        return AgentKernel(FixedArmHparams(np.int64(self.arm)), counter_init, fixed_select,
                           memoryless_update)
