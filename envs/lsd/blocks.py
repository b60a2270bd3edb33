"""Block planning for LSD bandits (Numba kernels shared by the block planner and learners).

A *block* is a sequence of ``L`` pulls planned at once from the current counters.

* :func:`best_block_model`: exhaustive search of the best length-``L`` action sequence
  under a known payoff table (exact simulation of the counters).
* :func:`best_block_index`: exhaustive search of the best length-``L`` sequence under
  per-(arm, delay) values, first pulls valued separately (Laforgue et al.'s block
  objective).
* :func:`block_model_values`: Laforgue's first-pull / later-pull value matrices under a
  known table (delay model: exact for delay-only tables, a projection otherwise).
* :func:`plan_block`: dispatch between the exhaustive search and the block LP with greedy
  rounding (:func:`banditlab.envs.lsd.lp.block_lp_round_nb`, compiled: a dense simplex
  instead of HiGHS, so the fused loop and the Python path share it; its LP values agree
  with HiGHS's to 1e-7 in the tests).

Both block searches enumerate all ``k**L`` sequences (callers cap ``k**L``) and break
ties uniformly at random with one uniform draw per tied candidate (reservoir sampling).

Each function has an ``_into`` twin that writes into caller-owned buffers, most of them
in a :class:`BlockWork` built once by :func:`block_work` (in an agent's ``init``), so
that planning a block allocates nothing; the plain functions allocate and call them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.envs.lsd.lp import BlockLPWork, block_lp_round_into, block_lp_work
from banditlab.envs.lsd.model import table_mean

#: Planner codes for :func:`plan_block`.
PLANNERS = ("exhaustive", "lp")


class BlockWork(NamedTuple):
    """Preallocated buffers of block planning for ``k`` arms and blocks of ``L`` pulls.

    Attributes:
        first_val: float64[k, L], first-pull values of the block objective.
        later_val: float64[k, L], later-pull values of the block objective.
        seq: int64[L], the sequence being enumerated (exhaustive searches).
        streak: int64[k], simulated counters (exhaustive search under a table).
        idle: int64[k], simulated counters (exhaustive search under a table).
        last: int64[k], last position of each arm (exhaustive search on values) or
            arms already in the block (scratch).
        lp: :class:`~banditlab.envs.lsd.lp.BlockLPWork` of the LP planner (empty buffers
            when the LP planner is not used).
    """

    first_val: np.ndarray
    later_val: np.ndarray
    seq: np.ndarray
    streak: np.ndarray
    idle: np.ndarray
    last: np.ndarray
    lp: BlockLPWork


@njit(cache=True)
def block_work(k, length, planner):
    """:class:`BlockWork` for ``k`` arms, blocks of ``length`` pulls and ``planner``.

    The LP workspace is sized for ``length`` slots when ``planner`` is 1 (the LP), empty
    otherwise.
    """
    lp_len = length if planner == 1 else 0
    return BlockWork(np.zeros((k, length)), np.zeros((k, length)), np.zeros(length, np.int64),
                     np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64),
                     block_lp_work(k, lp_len))


@njit(cache=True)
def best_block_model_into(table, streak0, idle0, length, rng, w, best):
    """:func:`best_block_model` on the buffers of ``w`` (:class:`BlockWork`), into ``best``.

    Args:
        table: float64[k, 2, tau] payoff table.
        streak0, idle0: int64[k] counters at the start of the block.
        length: Block length ``L``.
        rng: Tie-breaking generator.
        w: Workspace (``seq``, ``streak``, ``idle`` used).
        best: int64[L], receives the sequence maximising the expected block reward.
    """
    k = table.shape[0]
    tau = table.shape[2]
    seq = w.seq
    streak = w.streak
    idle = w.idle
    for p in range(length):
        seq[p] = 0
        best[p] = 0
    best_val = -np.inf
    n_ties = 0
    total = k ** length
    for code in range(total):
        c = code
        for p in range(length):
            seq[p] = c % k
            c //= k
        for i in range(k):
            streak[i] = streak0[i]
            idle[i] = idle0[i]
        val = 0.0
        for p in range(length):
            a = seq[p]
            val += table_mean(table, streak[a], idle[a], a)
            for i in range(k):
                if i == a:
                    streak[i] = min(streak[i] + 1, tau)
                    idle[i] = 0
                else:
                    idle[i] = min(idle[i] + 1, tau)
                    streak[i] = 0
        if val > best_val + 1e-12:
            best_val = val
            n_ties = 1
            for p in range(length):
                best[p] = seq[p]
        elif val > best_val - 1e-12:
            n_ties += 1
            if rng.random() * n_ties < 1.0:
                for p in range(length):
                    best[p] = seq[p]


@njit(cache=True)
def best_block_model(table, streak0, idle0, length, rng):
    """Best length-``length`` sequence under the true payoff table (exact, exhaustive).

    Args:
        table: float64[k, 2, tau] payoff table.
        streak0, idle0: int64[k] counters at the start of the block.
        length: Block length ``L``.
        rng: Tie-breaking generator.

    Returns:
        int64[L], the sequence maximising the expected block reward.
    """
    best = np.zeros(length, dtype=np.int64)
    best_block_model_into(table, streak0, idle0, length, rng,
                          block_work(table.shape[0], length, 0), best)
    return best


@njit(cache=True)
def best_block_index_into(first_val, later_val, length, rng, w, best):
    """:func:`best_block_index` on the buffers of ``w`` (``seq``, ``last``), into ``best``."""
    k = first_val.shape[0]
    seq = w.seq
    last = w.last
    for p in range(length):
        seq[p] = 0
        best[p] = 0
    best_val = -np.inf
    n_ties = 0
    total = k ** length
    for code in range(total):
        c = code
        for p in range(length):
            seq[p] = c % k
            c //= k
        for i in range(k):
            last[i] = -1
        val = 0.0
        for p in range(length):
            a = seq[p]
            if last[a] < 0:
                val += first_val[a, p]
            else:
                val += later_val[a, p - last[a] - 1]
            last[a] = p
        if val > best_val + 1e-12:
            best_val = val
            n_ties = 1
            for p in range(length):
                best[p] = seq[p]
        elif val > best_val - 1e-12:
            n_ties += 1
            if rng.random() * n_ties < 1.0:
                for p in range(length):
                    best[p] = seq[p]


@njit(cache=True)
def best_block_index(first_val, later_val, length, rng):
    """Best sequence for Laforgue et al.'s block objective (exhaustive).

    The value of a sequence is the sum over positions ``s`` of ``first_val[a, s]`` for
    an arm's first pull in the block and ``later_val[a, delta - 1]`` for a later pull
    with in-block delay ``delta`` (positions since the arm's previous pull).

    Args:
        first_val: float64[k, L]; later_val: float64[k, L].
        length: Block length ``L``.
        rng: Tie-breaking generator.

    Returns:
        int64[L].
    """
    best = np.zeros(length, dtype=np.int64)
    best_block_index_into(first_val, later_val, length, rng,
                          block_work(first_val.shape[0], length, 0), best)
    return best


@njit(cache=True)
def block_model_values_into(table, streak0, idle0, length, first_val, later_val):
    """:func:`block_model_values` written into ``first_val`` and ``later_val`` (float64[k, L])."""
    k = table.shape[0]
    tau = table.shape[2]
    for i in range(k):
        for s in range(length):
            if s == 0:
                first_val[i, s] = table_mean(table, streak0[i], idle0[i], i)
            else:
                first_val[i, s] = table_mean(table, 0, min(idle0[i] + s, tau), i)
        later_val[i, 0] = table[i, 0, 0]
        for d in range(2, length + 1):
            later_val[i, d - 1] = table[i, 1, min(d - 1, tau) - 1]


@njit(cache=True)
def block_model_values(table, streak0, idle0, length):
    """First-pull and later-pull values of the block objective under a known table.

    ``first_val[i, s]`` is arm ``i``'s exact mean if its first pull in the block is at
    position ``s`` (current counters, then ``s`` idle rounds). ``later_val[i, d - 1]`` is
    the delay-model value of a later pull with in-block delay ``d``: ``f(on, 1)`` for
    ``d = 1`` and ``f(off, d - 1)`` otherwise (:func:`~banditlab.envs.lsd.lp.
    delay_projection`); exact for delay-only (recharging) tables, where the block value
    equals the simulated one, and a projection for satiating tables [I].

    Returns:
        ``(first_val, later_val)``: float64[k, L] each.
    """
    k = table.shape[0]
    first_val = np.empty((k, length))
    later_val = np.empty((k, length))
    block_model_values_into(table, streak0, idle0, length, first_val, later_val)
    return first_val, later_val


@njit(cache=True)
def plan_block_into(first_val, later_val, length, planner, rng, w, out):
    """:func:`plan_block` on the buffers of ``w`` (:class:`BlockWork`), into ``out`` (int64[L]).

    The LP branch needs ``w`` built for ``planner = 1`` (:func:`block_work`).
    """
    if planner == 0:
        best_block_index_into(first_val, later_val, length, rng, w, out)
        return
    u = rng.random()
    block_lp_round_into(first_val, later_val, u, w.lp, out)


@njit(cache=True)
def plan_block(first_val, later_val, length, planner, rng):
    """Best (``planner = 0``) or LP-rounded (``planner = 1``) block sequence (int64[L]).

    The LP branch draws one uniform from ``rng`` for tie-breaking.
    """
    out = np.zeros(length, dtype=np.int64)
    plan_block_into(first_val, later_val, length, planner, rng,
                    block_work(first_val.shape[0], length, planner), out)
    return out
