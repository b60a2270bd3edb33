"""Sanity baselines: the uniform random agent and a fixed arm.

Kernels on top, classes below.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent


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
    """An arm drawn uniformly with one ``integers`` draw."""
    return np.int64(rng.integers(0, state.n_actions[0]))


@njit(cache=True)
def fixed_select(state, hparams, obs, t, rng):
    """Always ``hparams[0]``."""
    return np.int64(hparams[0])


@njit(cache=True)
def memoryless_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""
    return None


def _require_discrete(action_space) -> None:
    if not isinstance(action_space, gym.spaces.Discrete):
        raise BanditlabError(f"action_space: this agent needs Discrete actions, got {action_space}")


class Uniform(KernelAgent):
    """Plays an arm chosen uniformly at random every round (linear-regret reference)."""

    _tags = {"learns": False, "families": ("classic", "lsd", "sor", "amdp")}

    def __init__(self):
        pass

    def _validate_params(self, action_space, observation_space) -> None:
        _require_discrete(action_space)

    def make_kernel(self) -> AgentKernel:
        """Uniform kernel."""
        return AgentKernel((0,), counter_init, uniform_select, memoryless_update)


class FixedArm(KernelAgent):
    """Always plays the same arm.

    Args:
        arm: Index of the arm (int >= 0).
    """

    _tags = {"learns": False, "families": ("classic", "lsd", "sor")}

    def __init__(self, arm: int = 0):
        self.arm = arm

    def _validate_params(self, action_space, observation_space) -> None:
        _require_discrete(action_space)
        if isinstance(self.arm, bool) or not isinstance(self.arm, (int, np.integer)):
            raise BanditlabError(f"arm: expected an integer, got {self.arm!r}")
        if not 0 <= self.arm < action_space.n:
            raise BanditlabError(f"arm: {self.arm} is outside [0, {action_space.n})")

    def make_kernel(self) -> AgentKernel:
        """Fixed-arm kernel."""
        return AgentKernel((np.int64(self.arm),), counter_init, fixed_select, memoryless_update)
