"""LP relaxations of LSD / recharging bandits, solved with SciPy's HiGHS.

* :func:`recharging_lp` (the standard relaxation of recharging bandits, as we recall it
  from Kleinberg & Immorlica 2018 and Papadigenopoulos et al. 2022; not checked against
  their full texts): variables ``x[i, tau]``, the time share of arm ``i``
  played every ``tau`` rounds; maximise ``sum x p_i(tau) / tau`` subject to
  ``sum x / tau <= m`` and ``sum_tau x[i, tau] <= 1``. Its value upper-bounds the
  optimal average reward of delay-only instances (each cycle's gaps partition time).
* :func:`lsd_lp` (**our reconstruction [I]** of the "higher-dimensional" LP relaxation
  named in the abstract of Foussoul et al. 2023, not checked against the paper): variables
  ``y[i, a, b]``, the time share of arm ``i`` in cycles "idle ``b`` rounds, then play
  ``a`` rounds", ``a`` in ``1..tau_max+1`` plus ``a = inf`` (play forever), ``b`` in
  ``1..tau_max``.
* :func:`delay_projection`: the delay-only payoffs ``p_i(delta)`` read off a general
  table (``p(1) = f(on, 1)``, ``p(delta) = f(off, delta - 1)``).
* :func:`isotonic_nonincreasing` / :func:`isotonic_nondecreasing`: pool-adjacent-
  violators projections (weighted least squares) used by the LP-UCB learner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import linprog

__all__ = [
    "LPSolution",
    "delay_projection",
    "recharging_lp",
    "lsd_lp",
    "cycle_rewards",
    "pava",
    "isotonic_nonincreasing",
    "isotonic_nondecreasing",
]


@dataclass
class LPSolution:
    """Solution of a per-round LP relaxation.

    Attributes:
        value: Optimal per-round value (an upper bound on ``g*``).
        x: The solution: float64[k, D] (recharging, ``x[i, tau - 1]``) or
            float64[k, tau_max + 2, tau_max] (LSD, ``y[i, a - 1, b - 1]``, with
            ``a - 1 = tau_max + 1`` standing for ``a = inf``).
        kind: ``"recharging"`` or ``"lsd"``.
    """

    value: float
    x: np.ndarray
    kind: str


def delay_projection(table: np.ndarray) -> np.ndarray:
    """Delay-only payoffs ``p[i, delta - 1]``, ``delta = 1..tau_max + 1`` (float64[k, tau_max + 1]).

    ``p(1) = f(on, 1)`` (played in the previous round) and ``p(delta) = f(off, delta - 1)``.
    Exact for delay-only (recharging) tables; a projection otherwise.
    """
    k, _, tau = table.shape
    p = np.empty((k, tau + 1))
    p[:, 0] = table[:, 0, 0]
    p[:, 1:] = table[:, 1, :]
    return p


def recharging_lp(delay_payoffs: np.ndarray, m: int = 1) -> LPSolution:
    """Recharging LP relaxation with HiGHS.

    Args:
        delay_payoffs: float64[k, D], ``p_i(delta)`` for ``delta = 1..D`` (constant beyond D).
        m: Pulls per round.

    Returns:
        :class:`LPSolution` with ``x`` float64[k, D].
    """
    p = np.asarray(delay_payoffs, dtype=np.float64)
    k, d = p.shape
    taus = np.arange(1, d + 1, dtype=np.float64)
    c = -(p / taus[None, :]).ravel()
    a_ub = np.zeros((1 + k, k * d))
    a_ub[0] = np.tile(1.0 / taus, k)
    for i in range(k):
        a_ub[1 + i, i * d : (i + 1) * d] = 1.0
    b_ub = np.concatenate([[float(m)], np.ones(k)])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"recharging LP failed: {res.message}")
    return LPSolution(float(-res.fun), np.maximum(res.x, 0.0).reshape(k, d), "recharging")


def cycle_rewards(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cycle rewards ``R[i, a-1, b-1]`` and lengths of the LSD relaxation (:func:`lsd_lp`).

    ``R_i(a, b) = f_i(off, b) + sum_{j=1..a-1} f_i(on, min(j, tau_max))``; index
    ``a - 1 = tau_max + 1`` is the "play forever" column with rate ``f_i(on, tau_max)``
    (its "reward" is the rate and its "length" 1).

    Returns:
        ``(R, L)``: float64[k, tau_max + 2, tau_max] each.
    """
    k, _, tau = table.shape
    big_r = np.zeros((k, tau + 2, tau))
    big_l = np.zeros((k, tau + 2, tau))
    for i in range(k):
        on_cum = np.concatenate([[0.0], np.cumsum(table[i, 0, :])])
        for a in range(1, tau + 2):
            later = on_cum[min(a - 1, tau)] + max(0, a - 1 - tau) * table[i, 0, tau - 1]
            for b in range(1, tau + 1):
                big_r[i, a - 1, b - 1] = table[i, 1, b - 1] + later
                big_l[i, a - 1, b - 1] = a + b
        big_r[i, tau + 1, :] = table[i, 0, tau - 1]
        big_l[i, tau + 1, :] = 1.0
    return big_r, big_l


def lsd_lp(table: np.ndarray, m: int = 1) -> LPSolution:
    """Higher-dimensional LSD LP relaxation (our reconstruction [I]) with HiGHS.

    Maximise ``sum y R / (a + b)`` subject to ``sum y a / (a + b) <= m`` and
    ``sum_{a,b} y[i, a, b] <= 1`` per arm. The ``a = inf`` column has rate
    ``f(on, tau_max)`` and capacity use 1; only its ``b = 1`` entry is kept (the
    others are zero by bounds).

    Returns:
        :class:`LPSolution` with ``x`` float64[k, tau_max + 2, tau_max].
    """
    table = np.asarray(table, dtype=np.float64)
    k, _, tau = table.shape
    big_r, big_l = cycle_rewards(table)
    a_vals = np.arange(1, tau + 3, dtype=np.float64)[None, :, None] * np.ones((k, 1, tau))
    cap = a_vals / big_l
    cap[:, tau + 1, :] = 1.0
    rate = big_r / big_l
    n = k * (tau + 2) * tau
    a_ub = np.zeros((1 + k, n))
    a_ub[0] = cap.ravel()
    block = (tau + 2) * tau
    for i in range(k):
        a_ub[1 + i, i * block : (i + 1) * block] = 1.0
    b_ub = np.concatenate([[float(m)], np.ones(k)])
    upper = np.full((k, tau + 2, tau), np.inf)
    upper[:, tau + 1, 1:] = 0.0
    bounds = np.stack([np.zeros(n), upper.ravel()], axis=1)
    res = linprog(-rate.ravel(), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover
        raise RuntimeError(f"LSD LP failed: {res.message}")
    return LPSolution(float(-res.fun), np.maximum(res.x, 0.0).reshape(k, tau + 2, tau), "lsd")


@njit(cache=True)
def pava(y, w):
    """Weighted isotonic (non-decreasing) least-squares fit by pool-adjacent-violators.

    Args:
        y: float64[n] values; w: float64[n] positive weights.

    Returns:
        float64[n], the non-decreasing sequence minimising ``sum w (y - fit)^2``.
    """
    n = y.shape[0]
    vals = np.empty(n)
    wts = np.empty(n)
    cnt = np.empty(n, dtype=np.int64)
    top = 0
    for i in range(n):
        vals[top] = y[i]
        wts[top] = w[i]
        cnt[top] = 1
        top += 1
        while top > 1 and vals[top - 2] > vals[top - 1]:
            wsum = wts[top - 2] + wts[top - 1]
            vals[top - 2] = (vals[top - 2] * wts[top - 2] + vals[top - 1] * wts[top - 1]) / wsum
            wts[top - 2] = wsum
            cnt[top - 2] += cnt[top - 1]
            top -= 1
    out = np.empty(n)
    pos = 0
    for b in range(top):
        for _ in range(cnt[b]):
            out[pos] = vals[b]
            pos += 1
    return out


def isotonic_nondecreasing(y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted projection of ``y`` onto non-decreasing sequences."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    return pava(y, w)


def isotonic_nonincreasing(y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted projection of ``y`` onto non-increasing sequences."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    return -pava(-y, w)


# ------------------------------------------------------------------ Laforgue's block LP
@dataclass
class BlockLPSolution:
    """Solution of the block LP of :func:`block_lp`.

    Attributes:
        value: LP optimum (an upper bound on the best block value).
        x: float64[k, L], ``x[i, s]``: arm ``i``'s first pull in the block is at ``s``.
        y: float64[k, L, L], ``y[i, delta, s]``: a later pull of arm ``i`` at ``s`` whose
            previous pull was at ``s - delta`` (``1 <= delta <= s``; other entries 0).
    """

    value: float
    x: np.ndarray
    y: np.ndarray


def block_sequence_value(seq, first_val: np.ndarray, later_val: np.ndarray) -> float:
    """Block objective of a sequence (the quantity :func:`block_lp` relaxes).

    ``first_val[a, s]`` for arm ``a``'s first pull in the block at position ``s`` and
    ``later_val[a, delta - 1]`` for a later pull with in-block delay ``delta``.

    Args:
        seq: int[L'] arms, ``L' <= L``.
        first_val: float64[k, L]; later_val: float64[k, L].

    Returns:
        The value (float).
    """
    last: dict[int, int] = {}
    val = 0.0
    for p, a in enumerate(seq):
        a = int(a)
        val += first_val[a, p] if a not in last else later_val[a, p - last[a] - 1]
        last[a] = p
    return float(val)


def block_lp(first_val: np.ndarray, later_val: np.ndarray) -> BlockLPSolution:
    """Laforgue et al.'s block LP over ``L`` slots, solved with HiGHS.

    Variables ``x[i, s]`` (first pull of arm ``i`` at slot ``s``, valued
    ``first_val[i, s]``) and ``y[i, delta, s]`` (a later pull of arm ``i`` at ``s`` with
    in-block delay ``delta``, valued ``later_val[i, delta - 1]``), all in ``[0, 1]``.
    Constraints: one pull per slot (``sum_i x[i, s] + sum_{i, delta} y[i, delta, s] =
    1``); at most one first pull per arm (``sum_s x[i, s] <= 1``); delay consistency,
    written as a flow: the pulls of arm ``i`` leaving slot ``s`` forward
    (``sum_delta y[i, delta, s + delta]``) are at most the pulls of ``i`` at ``s``
    (``x[i, s] + sum_delta y[i, delta, s]``). The integer points are exactly the
    sequences (each arm's pulls form one chain from its first pull), so the LP value
    upper-bounds the best block value. The exact constraint matrix of the authors'
    CVXOPT code is not reproduced [I]; this is our formulation of its three constraint
    families (one pull per slot, one first pull per arm, delay consistency).

    Args:
        first_val: float64[k, L]; later_val: float64[k, L] (column ``L - 1`` unused).

    Returns:
        :class:`BlockLPSolution`.
    """
    first_val = np.asarray(first_val, dtype=np.float64)
    later_val = np.asarray(later_val, dtype=np.float64)
    k, length = first_val.shape
    n_x = k * length
    y_index = {}
    for i in range(k):
        for s in range(1, length):
            for d in range(1, s + 1):
                y_index[(i, d, s)] = n_x + len(y_index)
    n = n_x + len(y_index)
    c = np.zeros(n)
    for i in range(k):
        c[i * length : (i + 1) * length] = -first_val[i]
    for (i, d, _s), j in y_index.items():
        c[j] = -later_val[i, d - 1]
    a_eq = np.zeros((length, n))
    for i in range(k):
        for s in range(length):
            a_eq[s, i * length + s] = 1.0
    for (_i, _d, s), j in y_index.items():
        a_eq[s, j] = 1.0
    a_ub = np.zeros((k + k * length, n))
    for i in range(k):
        a_ub[i, i * length : (i + 1) * length] = 1.0
    for (i, d, s), j in y_index.items():
        a_ub[k + i * length + (s - d), j] += 1.0  # leaves slot s - d
        a_ub[k + i * length + s, j] -= 1.0  # arrives at slot s
    for i in range(k):
        for s in range(length):
            a_ub[k + i * length + s, i * length + s] -= 1.0
    b_ub = np.concatenate([np.ones(k), np.zeros(k * length)])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(length), bounds=(0, 1),
                  method="highs")
    if res.status != 0:  # pragma: no cover - always feasible (any sequence) and bounded
        raise RuntimeError(f"block LP failed: {res.message}")
    z = np.clip(res.x, 0.0, 1.0)
    y = np.zeros((k, length, length))
    for (i, d, s), j in y_index.items():
        y[i, d, s] = z[j]
    return BlockLPSolution(float(-res.fun), z[:n_x].reshape(k, length), y)


def _suffix_first_values(prefix, first_val, later_val):
    """First-pull values of the suffix LP after a fixed prefix (float64[k, L - len(prefix)])."""
    k, length = first_val.shape
    p = len(prefix)
    out = first_val[:, p:].copy()
    last = {}
    for q, a in enumerate(prefix):
        last[int(a)] = q
    for a, q in last.items():
        for s in range(p, length):
            out[a, s - p] = later_val[a, s - q - 1]
    return out


def block_lp_round(first_val: np.ndarray, later_val: np.ndarray, u: float = 0.0) -> np.ndarray:
    """Greedy position-by-position rounding of :func:`block_lp`.

    At each position but the last, every arm is tried; the arm maximising (realised
    prefix value + LP value of the remaining positions, with first-pull values of arms
    already in the prefix replaced by their later-pull values) is kept. The last
    position is chosen by direct evaluation. About ``k (L - 1)`` LP solves.

    Args:
        first_val: float64[k, L]; later_val: float64[k, L].
        u: A uniform in ``[0, 1)`` breaking ties among equally good arms (up to 1e-9).

    Returns:
        int64[L], the rounded sequence.
    """
    first_val = np.asarray(first_val, dtype=np.float64)
    later_val = np.asarray(later_val, dtype=np.float64)
    k, length = first_val.shape
    prefix: list[int] = []
    for p in range(length):
        scores = np.empty(k)
        for a in range(k):
            cand = prefix + [a]
            scores[a] = block_sequence_value(cand, first_val, later_val)
            if p < length - 1:
                scores[a] += block_lp(_suffix_first_values(cand, first_val, later_val),
                                      later_val[:, : length - p - 1]).value
        ties = np.flatnonzero(scores >= scores.max() - 1e-9)
        prefix.append(int(ties[min(int(u * len(ties)), len(ties) - 1)]))
    return np.asarray(prefix, dtype=np.int64)
