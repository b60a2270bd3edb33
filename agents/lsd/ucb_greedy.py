"""Per-(arm, state) UCB-greedy for LSD / recharging bandits.

Kernels on top, class below. The agent keeps empirical means of every (arm, side,
level) pair, where side is on (played last round, level = streak) or off (level =
idle rounds), decoded from the observation, and plays the arm whose current pair has
the largest UCB index ``mean + sqrt(bonus_c ln t / n)`` (unvisited pairs: ``+inf``,
ties at random). Design [I] (spec ``lsd_recharging.md`` §5); in blocking bandits the
analogous UCB-greedy has O(log T) (1 - 1/e)-regret (Basu et al., NeurIPS 2019 [M]).
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.lsd.blocks import lsd_obs_counters
from banditlab.kernels.common import argmax_random_tiebreak

OBS_ENCODINGS = ("signed_played_positive", "signed_played_negative", "delay")


class PairStatsState(NamedTuple):
    """Per-(arm, side, level) statistics (updated in place).

    Attributes:
        counts: float64[k, 2, tau_max], pulls of each pair (side 0 = on, 1 = off).
        sums: float64[k, 2, tau_max], summed rewards of each pair.
        index: float64[k], scratch buffer for the indices.
    """

    counts: np.ndarray
    sums: np.ndarray
    index: np.ndarray


@njit(cache=True)
def pair_of(streak_i, idle_i, tau):
    """``(side, level - 1)`` of one arm's counters, levels clipped to ``tau``."""
    if streak_i > 0:
        return 0, min(streak_i, tau) - 1
    return 1, min(max(idle_i, 1), tau) - 1


@njit(cache=True)
def ucbg_init(dims, hparams, rng):
    """Zero statistics for ``dims[0]`` arms and ``hparams[1]`` levels."""
    k = dims[0]
    tau = hparams[1]
    return PairStatsState(np.zeros((k, 2, tau)), np.zeros((k, 2, tau)), np.zeros(k))


@njit(cache=True)
def ucbg_select(state, hparams, obs, t, rng):
    """Argmax over arms of the UCB index of their current (side, level) pair.

    ``hparams = (bonus_c float64, tau_max int64, enc int64)``.
    """
    c = hparams[0]
    tau = hparams[1]
    streak, idle = lsd_obs_counters(obs, hparams[2])
    logt = np.log(max(t, 1))
    for i in range(streak.shape[0]):
        side, lev = pair_of(streak[i], idle[i], tau)
        n = state.counts[i, side, lev]
        if n == 0.0:
            state.index[i] = np.inf
        else:
            state.index[i] = state.sums[i, side, lev] / n + np.sqrt(c * logt / n)
    return argmax_random_tiebreak(state.index, rng)


@njit(cache=True)
def ucbg_update(state, hparams, obs, action, reward, next_obs):
    """Add ``reward`` to the pair of ``action`` at the state before the pull."""
    streak, idle = lsd_obs_counters(obs, hparams[2])
    side, lev = pair_of(streak[action], idle[action], hparams[1])
    state.counts[action, side, lev] += 1.0
    state.sums[action, side, lev] += reward


def validate_lsd_common(agent, action_space) -> None:
    """Shared checks of ``tau_max`` and ``obs_encoding`` for LSD learners."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise BanditlabError(f"action_space: this agent needs Discrete actions, got {action_space}")
    tau = agent.tau_max
    if isinstance(tau, bool) or not isinstance(tau, (int, np.integer)) or tau < 1:
        raise BanditlabError(f"tau_max: expected an integer >= 1, got {tau!r}")
    if agent.obs_encoding not in OBS_ENCODINGS:
        raise BanditlabError(
            f"obs_encoding: expected one of {OBS_ENCODINGS}, got {agent.obs_encoding!r}"
        )


def check_positive(name: str, value) -> float:
    """``value`` as a float, or :class:`BanditlabError` unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise BanditlabError(f"{name}: expected a finite number > 0, got {value!r}")
    return float(value)


class LSDUCBGreedy(KernelAgent):
    """UCB-greedy over (arm, last-switch state) pairs.

    Args:
        bonus_c: Exploration constant ``c`` of ``sqrt(c ln t / n)`` (default 1.5).
        tau_max: Level cap of the statistics (bind ``"@known:tau_max"``; default 10).
        obs_encoding: The env's observation encoding (bind ``"@known:obs_encoding"``).

    It is myopic: it can be trapped like Oracle Greedy (e.g. on ``LSDLaforgue2-v0``).
    """

    _tags = {"families": ("lsd",), "check_env": ("banditlab/LSDBandit-v0", {"horizon": 200})}

    def __init__(self, bonus_c: float = 1.5, tau_max: int = 10,
                 obs_encoding: str = "signed_played_positive"):
        self.bonus_c = bonus_c
        self.tau_max = tau_max
        self.obs_encoding = obs_encoding

    def _validate_params(self, action_space, observation_space) -> None:
        validate_lsd_common(self, action_space)
        check_positive("bonus_c", self.bonus_c)

    def make_kernel(self) -> AgentKernel:
        """UCB-greedy kernel over :class:`PairStatsState`."""
        hp = (float(self.bonus_c), np.int64(self.tau_max),
              np.int64(OBS_ENCODINGS.index(self.obs_encoding)))
        return AgentKernel(hp, ucbg_init, ucbg_select, ucbg_update)
