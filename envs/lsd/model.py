"""The LSD model as Numba kernels: counters, means, encodings and their decoding.

This is the leaf module of the family: the env, the oracle, the planners and the
learners all import it, and it imports nothing from banditlab but its error class. An
arm's last-switch state is a pair of counters: ``streak`` (consecutive rounds played, 0
when idle) and ``idle`` (consecutive rounds idle, 0 when played last round), both capped
at ``tau_max``. A payoff table ``float64[k, 2, tau_max]`` holds ``f_i(on, j)`` at
``[i, 0, j - 1]`` and ``f_i(off, b)`` at ``[i, 1, b - 1]``.

* :func:`lsd_arm_mean`, :func:`lsd_advance`, :func:`lsd_encode`: the env's dynamics.
* :func:`lsd_obs_counters`: ``(streak, idle)`` decoded from an encoded observation.
* :func:`table_mean`, :func:`lsd_table_means`: means under a table, levels clipped to
  the table's cap (so a table with a smaller cap than the env's still applies).
* :func:`lsd_obs_delays`: every arm's delay (``1`` if played last round, else ``idle + 1``).
* :func:`pair_of`: the ``(side, level - 1)`` table index of an arm's counters.
* :func:`lsd_advance_multi`, :func:`lsd_obs_counters_into`, :func:`lsd_encode_into`,
  :func:`lsd_obs_delays_into`, :func:`lsd_obs_counter`, :func:`lsd_decode_value`: the
  same for several pulls per round, and encoding / decoding into caller-owned buffers,
  of one arm or of one value (no allocation, for the kernels' steady state).
* :class:`MultiPull` and :func:`pulls_per_round`: the action space of an env with
  ``m_pulls > 1`` (a ``MultiBinary(k)`` that carries ``max_pulls``) and the number of
  pulls per round an agent reads off its action space.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.errors import BanditlabError

__all__ = [
    "OBS_ENCODINGS",
    "INIT_STATES",
    "MultiPull",
    "pulls_per_round",
    "lsd_arm_mean",
    "lsd_advance",
    "lsd_advance_multi",
    "lsd_encode",
    "lsd_encode_into",
    "lsd_obs_counters",
    "lsd_obs_counters_into",
    "lsd_obs_counter",
    "lsd_decode_value",
    "table_mean",
    "lsd_table_means",
    "lsd_obs_delays",
    "lsd_obs_delays_into",
    "pair_of",
    "delay_to_table",
]

#: Observation encodings; the kernels take the index (``enc``) into this tuple.
OBS_ENCODINGS = ("signed_played_positive", "signed_played_negative", "delay")
#: Initial states (every arm idle ``tau_max`` rounds, or every arm as if just played).
INIT_STATES = ("idle_max", "all_delay_one")


class MultiPull(gym.spaces.MultiBinary):
    """Action space of an LSD bandit with up to ``max_pulls`` pulls per round.

    A ``MultiBinary(k)`` vector marks the arms to pull. Every 0/1 vector is a valid
    action (Gymnasium's convention that every element of the space is playable): the
    env pulls the marked arms, at most ``max_pulls`` of them (the lowest-indexed marked
    arms when more are marked); an all-zero vector is a round without a pull. Agents
    read ``max_pulls`` off the space (:func:`pulls_per_round`).

    Args:
        n: Number of arms ``k``.
        max_pulls: Pulls per round ``m`` (``2 <= m <= k``).
        seed: Optional seed of the space's own sampler.
    """

    def __init__(self, n: int, max_pulls: int, seed=None):
        super().__init__(n, seed=seed)
        self.max_pulls = int(max_pulls)

    def __repr__(self) -> str:
        return f"MultiPull({self.n}, max_pulls={self.max_pulls})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, MultiPull) and self.n == other.n
                and self.max_pulls == other.max_pulls)

    def __hash__(self) -> int:
        return hash(("MultiPull", int(np.prod(self.shape)), self.max_pulls))


def pulls_per_round(action_space) -> int:
    """``m``, the pulls per round of an LSD env, read off its action space.

    ``Discrete(k)``: 1; :class:`MultiPull`: its ``max_pulls``.

    Raises:
        BanditlabError: For any other space.
    """
    if isinstance(action_space, gym.spaces.Discrete):
        return 1
    if isinstance(action_space, MultiPull):
        return int(action_space.max_pulls)
    raise BanditlabError(
        f"action_space: expected Discrete(k) (one pull per round) or the MultiPull space of "
        f"an LSD env with m_pulls > 1, got {action_space}"
    )


@njit(cache=True)
def lsd_arm_mean(table, streak, idle, i):
    """Mean payoff of arm ``i`` in its current state: ``f_i(on, streak)`` or ``f_i(off, idle)``."""
    if streak[i] > 0:
        return table[i, 0, streak[i] - 1]
    return table[i, 1, idle[i] - 1]


@njit(cache=True)
def lsd_advance(streak, idle, action, tau_max):
    """Counter update after playing ``action``: its streak +1, every other arm idle +1 (capped)."""
    k = streak.shape[0]
    for i in range(k):
        if i == action:
            streak[i] = min(streak[i] + 1, tau_max)
            idle[i] = 0
        else:
            idle[i] = min(idle[i] + 1, tau_max)
            streak[i] = 0


@njit(cache=True)
def lsd_advance_multi(streak, idle, pulled, tau_max):
    """Counter update after pulling the arms with ``pulled[i] == 1`` (int64[k], any number)."""
    k = streak.shape[0]
    for i in range(k):
        if pulled[i] == 1:
            streak[i] = min(streak[i] + 1, tau_max)
            idle[i] = 0
        else:
            idle[i] = min(idle[i] + 1, tau_max)
            streak[i] = 0


@njit(cache=True)
def lsd_encode(streak, idle, enc, tau_max):
    """Encoded state of every arm (float64[k]).

    ``enc``: 0 = signed, played positive (``+streak`` / ``-idle``); 1 = signed, played
    negative (Laforgue et al.'s code: ``-streak`` / ``+idle``); 2 = delay
    (``1`` if played last round, else ``min(idle + 1, tau_max)``).
    """
    out = np.empty(streak.shape[0])
    lsd_encode_into(streak, idle, enc, tau_max, out)
    return out


@njit(cache=True)
def lsd_encode_into(streak, idle, enc, tau_max, out):
    """:func:`lsd_encode` written into ``out[:k]`` (caller-owned float64, no allocation)."""
    for i in range(streak.shape[0]):
        if streak[i] > 0:
            if enc == 0:
                out[i] = streak[i]
            elif enc == 1:
                out[i] = -streak[i]
            else:
                out[i] = 1.0
        else:
            if enc == 0:
                out[i] = -idle[i]
            elif enc == 1:
                out[i] = idle[i]
            else:
                out[i] = min(idle[i] + 1, tau_max)


@njit(cache=True)
def lsd_obs_counters(obs, enc):
    """``(streak, idle)`` int64[k] from an encoded observation (inverse of :func:`lsd_encode`).

    ``enc``: 0 signed played-positive, 1 signed played-negative, 2 delay (``delta = 1``
    decodes to streak 1, ``delta > 1`` to idle ``delta - 1``).
    """
    k = obs.shape[0]
    streak = np.zeros(k, dtype=np.int64)
    idle = np.zeros(k, dtype=np.int64)
    for i in range(k):
        v = int(np.round(obs[i]))
        if enc == 0:
            if v > 0:
                streak[i] = v
            else:
                idle[i] = max(-v, 1)
        elif enc == 1:
            if v < 0:
                streak[i] = -v
            else:
                idle[i] = max(v, 1)
        else:
            if v <= 1:
                streak[i] = 1
            else:
                idle[i] = v - 1
    return streak, idle


@njit(cache=True)
def lsd_obs_counter(obs, enc, i):
    """``(streak_i, idle_i)`` of arm ``i`` decoded from ``obs`` (as :func:`lsd_obs_counters`)."""
    return lsd_decode_value(obs[i], enc)


@njit(cache=True)
def lsd_decode_value(x, enc):
    """``(streak, idle)`` of one arm from its encoded value ``x`` (as :func:`lsd_obs_counters`).

    Scalar arguments and inlined (``inline="always"``): kernels call it in their per-arm
    loops at no call cost (a call to a separately compiled function is not inlined, and
    each array argument of one costs a reference-count pair).
    """
    v = int(np.round(x))
    if enc == 0:
        if v > 0:
            return v, 0
        return 0, max(-v, 1)
    if enc == 1:
        if v < 0:
            return -v, 0
        return 0, max(v, 1)
    if v <= 1:
        return 1, 0
    return 0, v - 1


@njit(cache=True)
def lsd_obs_counters_into(obs, enc, streak, idle):
    """Decode the first ``k = streak.shape[0]`` entries of ``obs`` into ``streak``/``idle``.

    Same decoding as :func:`lsd_obs_counters`, written into caller-owned int64[k]
    buffers (entries of ``obs`` beyond ``k``, e.g. the per-arm rewards of a multi-pull
    observation, are ignored).
    """
    for i in range(streak.shape[0]):
        v = int(np.round(obs[i]))
        streak[i] = 0
        idle[i] = 0
        if enc == 0:
            if v > 0:
                streak[i] = v
            else:
                idle[i] = max(-v, 1)
        elif enc == 1:
            if v < 0:
                streak[i] = -v
            else:
                idle[i] = max(v, 1)
        else:
            if v <= 1:
                streak[i] = 1
            else:
                idle[i] = v - 1


@njit(cache=True)
def table_mean(table, streak_i, idle_i, i):
    """``f_i(on, streak)`` or ``f_i(off, idle)`` with levels clipped to the table's cap."""
    tau = table.shape[2]
    if streak_i > 0:
        return table[i, 0, min(streak_i, tau) - 1]
    return table[i, 1, min(max(idle_i, 1), tau) - 1]


@njit(cache=True)
def lsd_table_means(table, obs, enc):
    """float64[k]: every arm's mean under ``table`` at the decoded observation."""
    streak, idle = lsd_obs_counters(obs, enc)
    k = table.shape[0]
    out = np.empty(k)
    for i in range(k):
        out[i] = table_mean(table, streak[i], idle[i], i)
    return out


@njit(cache=True)
def lsd_obs_delays(obs, enc):
    """int64[k]: delay of every arm (``1`` if played last round, else ``idle + 1``)."""
    out = np.empty(obs.shape[0], dtype=np.int64)
    lsd_obs_delays_into(obs, enc, out)
    return out


@njit(cache=True)
def lsd_obs_delays_into(obs, enc, out):
    """:func:`lsd_obs_delays` of the first ``k = out.shape[0]`` entries, written into ``out``.

    Decodes arm by arm (same decoding as :func:`lsd_obs_counters`), no allocation.
    """
    for i in range(out.shape[0]):
        v = int(np.round(obs[i]))
        if enc == 0:
            out[i] = 1 if v > 0 else max(-v, 1) + 1
        elif enc == 1:
            out[i] = 1 if v < 0 else max(v, 1) + 1
        else:
            out[i] = 1 if v <= 1 else v


@njit(cache=True)
def pair_of(streak_i, idle_i, tau):
    """``(side, level - 1)`` of one arm's counters, levels clipped to ``tau``."""
    if streak_i > 0:
        return 0, min(streak_i, tau) - 1
    return 1, min(max(idle_i, 1), tau) - 1


def delay_to_table(p: np.ndarray) -> np.ndarray:
    """Table of a delay-only payoff ``p[i, delta - 1]`` (``delta = 1..tau_max``).

    On levels pay ``p(1)``; idle ``b`` pays ``p(min(b + 1, tau_max))``.
    """
    k, tau = p.shape
    table = np.empty((k, 2, tau))
    table[:, 0, :] = p[:, :1]
    for b in range(1, tau + 1):
        table[:, 1, b - 1] = p[:, min(b + 1, tau) - 1]
    return table
