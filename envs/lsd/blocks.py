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
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.envs.lsd.lp import block_lp_round_nb
from banditlab.envs.lsd.model import table_mean

#: Planner codes for :func:`plan_block`.
PLANNERS = ("exhaustive", "lp")


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
    k = table.shape[0]
    tau = table.shape[2]
    seq = np.zeros(length, dtype=np.int64)
    best = np.zeros(length, dtype=np.int64)
    best_val = -np.inf
    n_ties = 0
    streak = np.empty(k, dtype=np.int64)
    idle = np.empty(k, dtype=np.int64)
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
            best[:] = seq
        elif val > best_val - 1e-12:
            n_ties += 1
            if rng.random() * n_ties < 1.0:
                best[:] = seq
    return best


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
    k = first_val.shape[0]
    seq = np.zeros(length, dtype=np.int64)
    best = np.zeros(length, dtype=np.int64)
    last = np.empty(k, dtype=np.int64)
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
            best[:] = seq
        elif val > best_val - 1e-12:
            n_ties += 1
            if rng.random() * n_ties < 1.0:
                best[:] = seq
    return best


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
    tau = table.shape[2]
    first_val = np.empty((k, length))
    later_val = np.empty((k, length))
    for i in range(k):
        for s in range(length):
            if s == 0:
                first_val[i, s] = table_mean(table, streak0[i], idle0[i], i)
            else:
                first_val[i, s] = table_mean(table, 0, min(idle0[i] + s, tau), i)
        later_val[i, 0] = table[i, 0, 0]
        for d in range(2, length + 1):
            later_val[i, d - 1] = table[i, 1, min(d - 1, tau) - 1]
    return first_val, later_val


@njit(cache=True)
def plan_block(first_val, later_val, length, planner, rng):
    """Best (``planner = 0``) or LP-rounded (``planner = 1``) block sequence (int64[L]).

    The LP branch draws one uniform from ``rng`` for tie-breaking.
    """
    if planner == 0:
        return best_block_index(first_val, later_val, length, rng)
    u = rng.random()
    return block_lp_round_nb(first_val, later_val, u)
