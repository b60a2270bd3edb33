"""Per-(arm, state) UCB-greedy for LSD / recharging bandits.

Kernels on top, class below. The agent keeps empirical means of every (arm, side,
level) pair, where side is on (played last round, level = streak) or off (level =
idle rounds), decoded from the observation, and plays the arm whose current pair has
the largest UCB index ``mean + sqrt(bonus_c ln t / n)`` (unvisited pairs: ``+inf``,
ties at random). Our design [I]; in blocking bandits the analogous UCB-greedy has
O(log T) (1 - 1/e)-regret (Basu et al., NeurIPS 2019; recalled from the paper, not
checked against its full text).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, KernelAgent
from banditlab.envs.lsd.model import OBS_ENCODINGS, lsd_obs_counters, pair_of
from banditlab.kernels.common import argmax_random_tiebreak
from banditlab.validation import Interval, Options, require_discrete_actions


class UCBGreedyHParams(NamedTuple):
    """Hyperparameters of the UCB-greedy kernel.

    Attributes:
        bonus_c: float64, exploration constant ``c`` of ``sqrt(c ln t / n)``.
        tau_max: int64, level cap of the statistics.
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
    """

    bonus_c: float
    tau_max: np.int64
    enc: np.int64


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
def ucbg_init(dims, hparams, rng):
    """Zero statistics for ``dims[0]`` arms and ``hparams.tau_max`` levels."""
    k = dims[0]
    tau = hparams.tau_max
    return PairStatsState(np.zeros((k, 2, tau)), np.zeros((k, 2, tau)), np.zeros(k))


@njit(cache=True)
def ucbg_select(state, hparams, obs, t, rng):
    """Argmax over arms of the UCB index of their current (side, level) pair.

    ``hparams``: :class:`UCBGreedyHParams`.
    """
    c = hparams.bonus_c
    tau = hparams.tau_max
    streak, idle = lsd_obs_counters(obs, hparams.enc)
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
    streak, idle = lsd_obs_counters(obs, hparams.enc)
    side, lev = pair_of(streak[action], idle[action], hparams.tau_max)
    state.counts[action, side, lev] += 1.0
    state.sums[action, side, lev] += reward


class LSDUCBGreedy(KernelAgent):
    """UCB-greedy over (arm, last-switch state) pairs.

    Args:
        bonus_c: Exploration constant ``c`` of ``sqrt(c ln t / n)`` (default 1.5).
        tau_max: Level cap of the statistics (bind ``"@known:tau_max"``; default 10).
        obs_encoding: The env's observation encoding (bind ``"@known:obs_encoding"``).

    It is myopic: it can be trapped like Oracle Greedy (e.g. on ``LSDLaforgue2-v0``).
    """

    _tags = {"families": ("lsd",), "check_env": ("banditlab/LSDBandit-v0", {"horizon": 200})}
    _parameter_constraints = {
        "bonus_c": Interval("real", 0, None, closed="neither"),
        "tau_max": Interval("int", 1, None),
        "obs_encoding": Options(*OBS_ENCODINGS),
    }

    def __init__(self, bonus_c: float = 1.5, tau_max: int = 10,
                 obs_encoding: str = "signed_played_positive"):
        self.bonus_c = bonus_c
        self.tau_max = tau_max
        self.obs_encoding = obs_encoding

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """UCB-greedy kernel over :class:`PairStatsState`."""
        hp = UCBGreedyHParams(bonus_c=float(self.bonus_c), tau_max=np.int64(self.tau_max),
                              enc=np.int64(OBS_ENCODINGS.index(self.obs_encoding)))
        return AgentKernel(hp, ucbg_init, ucbg_select, ucbg_update)
