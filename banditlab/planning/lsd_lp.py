"""LP relaxations of LSD / recharging bandits, solved with SciPy's HiGHS.

* :func:`recharging_lp` (spec §4.1, standard in Kleinberg & Immorlica 2018 and
  Papadigenopoulos et al. 2022 [M]): variables ``x[i, tau]``, the time share of arm ``i``
  played every ``tau`` rounds; maximise ``sum x p_i(tau) / tau`` subject to
  ``sum x / tau <= m`` and ``sum_tau x[i, tau] <= 1``. Its value upper-bounds the
  optimal average reward of delay-only instances (each cycle's gaps partition time).
* :func:`lsd_lp` (spec §4.2, **our reconstruction [I]** of the "higher-dimensional"
  relaxation of Foussoul et al. 2023, not checked against their §3): variables
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
    """Recharging LP relaxation (§4.1) with HiGHS.

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
    """Cycle rewards ``R[i, a-1, b-1]`` and lengths of the LSD relaxation (§4.2).

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
    """Higher-dimensional LSD LP relaxation (§4.2, our reconstruction [I]) with HiGHS.

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
