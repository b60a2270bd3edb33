"""Per-(arm, state) UCB-greedy for LSD / recharging bandits.

Kernels on top, class below. The agent keeps empirical means of every (arm, side,
level) pair, where side is on (played last round, level = streak) or off (level =
idle rounds), decoded from the observation, and plays the arm whose current pair has
the largest UCB index ``mean + sqrt(bonus_c ln t / n)`` (unvisited pairs: ``+inf``,
ties at random). Our design [I]; in blocking bandits the analogous UCB-greedy has
O(log T) (1 - 1/e)-regret (Basu et al., NeurIPS 2019; recalled from the paper, not
checked against its full text).

With ``m > 1`` pulls per round (the env's
:class:`~banditlab.envs.lsd.model.MultiPull` action space) it plays the ``m`` arms with
the largest indices and learns each pulled arm's reward from the second half of the next
observation (semi-bandit feedback); the pulled arms are those the next observation shows
on.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, KernelAgent
from banditlab.envs.lsd.model import (
    OBS_ENCODINGS,
    lsd_decode_value,
    lsd_obs_counters_into,
    pair_of,
    pulls_per_round,
)
from banditlab.kernels.common import argmax_random_tiebreak, running_max, tied_maximiser
from banditlab.validation import Interval, Options


class UCBGreedyHParams(NamedTuple):
    """Hyperparameters of the UCB-greedy kernel.

    Attributes:
        bonus_c: float64, exploration constant ``c`` of ``sqrt(c ln t / n)``.
        tau_max: int64, level cap of the statistics.
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
        m: int64, pulls per round.
    """

    bonus_c: float
    tau_max: np.int64
    enc: np.int64
    m: np.int64


class PairStatsState(NamedTuple):
    """Per-(arm, side, level) statistics (updated in place).

    Attributes:
        counts: float64[k, 2, tau_max], pulls of each pair (side 0 = on, 1 = off).
        sums: float64[k, 2, tau_max], summed rewards of each pair.
        index: float64[k], scratch buffer for the indices.
        streak: int64[k], decoded counters of the current observation (scratch).
        idle: int64[k], decoded counters of the current observation (scratch).
        nstreak: int64[k], decoded counters of the next observation (scratch).
        nidle: int64[k], decoded counters of the next observation (scratch).
        action: float64[k], the 0/1 action returned with several pulls per round.
    """

    counts: np.ndarray
    sums: np.ndarray
    index: np.ndarray
    streak: np.ndarray
    idle: np.ndarray
    nstreak: np.ndarray
    nidle: np.ndarray
    action: np.ndarray


@njit(cache=True)
def ucbg_init(dims, hparams, rng):
    """Zero statistics for ``dims[0]`` arms and ``hparams.tau_max`` levels."""
    k = dims[0]
    tau = hparams.tau_max
    return PairStatsState(np.zeros((k, 2, tau)), np.zeros((k, 2, tau)), np.zeros(k),
                          np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64),
                          np.zeros(k, np.int64), np.zeros(k))


@njit(cache=True)
def ucbg_select(state, hparams, obs, t, rng):
    """Argmax over arms of the UCB index of their current (side, level) pair (ties at random).

    ``hparams``: :class:`UCBGreedyHParams`. Decodes arm by arm with inlined scalar
    helpers (no array is passed to a compiled call: each array argument costs a
    reference-count pair, about as much as the whole index).
    """
    c = hparams.bonus_c
    tau = hparams.tau_max
    enc = hparams.enc
    counts = state.counts
    sums = state.sums
    index = state.index
    logt = np.log(max(t, 1))
    best = -np.inf
    n_best = 0
    first = 0
    for i in range(index.shape[0]):
        streak_i, idle_i = lsd_decode_value(obs[i], enc)
        side, lev = pair_of(streak_i, idle_i, tau)
        n = counts[i, side, lev]
        if n == 0.0:
            v = np.inf
        else:
            v = sums[i, side, lev] / n + np.sqrt(c * logt / n)
        index[i] = v
        best, n_best, first = running_max(v, i, best, n_best, first)
    # argmax_random_tiebreak(index, rng), tracked while the indices are computed
    u = rng.random()
    if n_best == 1:
        return np.int64(first)
    return tied_maximiser(index, best, n_best, u)


@njit(cache=True)
def ucbg_update(state, hparams, obs, action, reward, next_obs):
    """Add ``reward`` to the pair of ``action`` at the state before the pull."""
    streak_a, idle_a = lsd_decode_value(obs[action], hparams.enc)
    side, lev = pair_of(streak_a, idle_a, hparams.tau_max)
    state.counts[action, side, lev] += 1.0
    state.sums[action, side, lev] += reward


@njit(cache=True)
def ucbg_select_multi(state, hparams, obs, t, rng):
    """The ``m`` arms with the largest UCB indices of their current pairs (0/1 vector)."""
    c = hparams.bonus_c
    tau = hparams.tau_max
    lsd_obs_counters_into(obs, hparams.enc, state.streak, state.idle)
    logt = np.log(max(t, 1))
    k = state.index.shape[0]
    for i in range(k):
        side, lev = pair_of(state.streak[i], state.idle[i], tau)
        n = state.counts[i, side, lev]
        if n == 0.0:
            state.index[i] = np.inf
        else:
            state.index[i] = state.sums[i, side, lev] / n + np.sqrt(c * logt / n)
        state.action[i] = 0.0
    for _ in range(hparams.m):
        a = argmax_random_tiebreak(state.index, rng)
        if state.index[a] == -np.inf:
            break
        state.action[a] = 1.0
        state.index[a] = -np.inf
    return state.action


@njit(cache=True)
def ucbg_update_multi(state, hparams, obs, action, reward, next_obs):
    """Add each pulled arm's reward (``next_obs[k + i]``) to its pair before the pull."""
    k = state.index.shape[0]
    lsd_obs_counters_into(obs, hparams.enc, state.streak, state.idle)
    lsd_obs_counters_into(next_obs, hparams.enc, state.nstreak, state.nidle)
    for i in range(k):
        if state.nstreak[i] > 0:
            side, lev = pair_of(state.streak[i], state.idle[i], hparams.tau_max)
            state.counts[i, side, lev] += 1.0
            state.sums[i, side, lev] += next_obs[k + i]


class LSDUCBGreedy(KernelAgent):
    """UCB-greedy over (arm, last-switch state) pairs.

    Args:
        bonus_c: Exploration constant ``c`` of ``sqrt(c ln t / n)`` (default 1.5).
        tau_max: Level cap of the statistics (bind ``"@known:tau_max"``; default 10).
        obs_encoding: The env's observation encoding (bind ``"@known:obs_encoding"``).

    It is myopic: it can be trapped like Oracle Greedy (e.g. on ``LSDLaforgue2-v1``).
    """

    display_name: ClassVar[str] = "Per-state UCB-greedy"

    _tags = {"families": ("lsd",), "check_env": ("banditlab/LSDBandit-v1", {"horizon": 200})}
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
        pulls_per_round(action_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Read the pulls per round off the action space, then reset the kernel."""
        self._validate_params(action_space, observation_space)
        self.m_ = pulls_per_round(action_space)
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)

    def make_kernel(self) -> AgentKernel:
        """UCB-greedy kernel over :class:`PairStatsState`."""
        m = int(getattr(self, "m_", 1))
        hp = UCBGreedyHParams(bonus_c=float(self.bonus_c), tau_max=np.int64(self.tau_max),
                              enc=np.int64(OBS_ENCODINGS.index(self.obs_encoding)),
                              m=np.int64(m))
        if m == 1:
            return AgentKernel(hp, ucbg_init, ucbg_select, ucbg_update)
        return AgentKernel(hp, ucbg_init, ucbg_select_multi, ucbg_update_multi)

    def kernel_action_to_action(self, action):
        """``int`` (one pull) or a fresh int8[k] 0/1 vector (several pulls)."""
        if int(getattr(self, "m_", 1)) == 1:
            return int(action)
        return np.array(action, dtype=np.int8)
