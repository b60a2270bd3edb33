"""A uniform random kernel agent for non-discrete action spaces (used by the parity checks).

Kernels on top, class below. For ``Discrete`` spaces the checks use
:class:`banditlab.agents.classic.baselines.Uniform`.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent


class BoxState(NamedTuple):
    """State of :class:`UniformBox`.

    Attributes:
        low: float64[d], lower bounds (infinite bounds replaced by -1).
        high: float64[d], upper bounds (infinite bounds replaced by 1).
        binary: int64[1], 1 when actions are 0/1 vectors (MultiBinary).
    """

    low: np.ndarray
    high: np.ndarray
    binary: np.ndarray


@njit(cache=True)
def box_init(dims, hparams, rng):
    """State from ``hparams = (low float64[d], high float64[d], binary int64)``."""
    low, high, binary = hparams
    return BoxState(low.copy(), high.copy(), np.array([binary], dtype=np.int64))


@njit(cache=True)
def box_select(state, hparams, obs, t, rng):
    """One uniform per coordinate: ``low + (high - low) * u`` (or ``u < 1/2`` for binary)."""
    d = state.low.shape[0]
    out = np.empty(d)
    for i in range(d):
        u = rng.random()
        if state.binary[0] == 1:
            out[i] = 1.0 if u < 0.5 else 0.0
        else:
            out[i] = state.low[i] + (state.high[i] - state.low[i]) * u
    return out


@njit(cache=True)
def box_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""
    return None


class UniformBox(KernelAgent):
    """Uniform random actions in a ``Box`` (finite part of the bounds) or ``MultiBinary`` space.

    Used by :func:`banditlab.checks.env_checker.check_fused_parity` for continuous envs;
    not registered.
    """

    display_name = "Uniform box (check fixture)"
    _tags = {"learns": False, "action_kind": "continuous", "families": ()}

    def __init__(self):
        pass

    def _validate_params(self, action_space, observation_space) -> None:
        if not isinstance(action_space, (gym.spaces.Box, gym.spaces.MultiBinary)):
            raise BanditlabError(
                f"action_space: UniformBox needs a Box or MultiBinary space, got {action_space}"
            )

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Record the bounds, then build the kernel state."""
        self._validate_params(action_space, observation_space)
        if isinstance(action_space, gym.spaces.Box):
            low = np.where(np.isfinite(action_space.low), action_space.low, -1.0).ravel()
            high = np.where(np.isfinite(action_space.high), action_space.high, 1.0).ravel()
            self.bounds_ = (low.astype(np.float64), np.maximum(high, low).astype(np.float64), 0)
        else:
            d = int(np.prod(action_space.shape))
            self.bounds_ = (np.zeros(d), np.ones(d), 1)
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)

    def make_kernel(self) -> AgentKernel:
        """Uniform box kernel (needs ``reset`` to have recorded the bounds)."""
        low, high, binary = self.bounds_
        return AgentKernel((low, high, np.int64(binary)), box_init, box_select, box_update)

    def kernel_action_to_action(self, action):
        """Reshape to the space's shape and dtype."""
        space = self.action_space_
        return np.asarray(action).reshape(space.shape).astype(space.dtype)
