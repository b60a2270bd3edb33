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
  table (``p(1) = f(on, tau_max)``, ``p(delta) = f(off, delta - 1)``).
* :func:`isotonic_nonincreasing` / :func:`isotonic_nondecreasing`: pool-adjacent-
  violators projections (weighted least squares) used by the LP-UCB learner.
* :func:`block_lp`, :func:`block_lp_round`: Laforgue et al.'s block LP and its greedy
  rounding with HiGHS (the reference); :func:`block_lp_nb`, :func:`block_lp_round_nb`:
  the same in compiled code on :func:`simplex_max` (a dense Bland's-rule simplex for
  these small programs), used by the agents; :func:`block_lp_into`,
  :func:`block_lp_round_into` are the same on a preallocated :class:`BlockLPWork` (no
  allocation per block, for the kernels' steady state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "LPSolution",
    "delay_projection",
    "recharging_lp",
    "lsd_lp",
    "cycle_rewards",
    "pava",
    "isotonic_nonincreasing",
    "isotonic_nondecreasing",
    "block_lp",
    "block_lp_round",
    "block_lp_nb",
    "block_lp_round_nb",
    "simplex_max",
    "BlockLPWork",
    "block_lp_work",
    "block_lp_into",
    "block_lp_round_into",
    "simplex_max_into",
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

    ``p(delta) = f(off, delta - 1)`` for ``delta >= 2``, exact for a pull after ``delta -
    1`` idle rounds, and ``p(1) = f(on, tau_max)``: "pulled every round" is valued at the
    satiated rate an arm reaches when played every round, as the LSD LP values its
    "play forever" cycles [I]. Exact for delay-only (recharging) tables (their on rows
    are constant); on satiating tables the recharging LP is then the LSD LP restricted to
    single-pull cycles and play-forever, so its rounded schedules are valued correctly.
    (Valuing ``p(1)`` at ``f(on, 1)``, as banditlab did before ``LSDLPRounding-v1``,
    overvalues every-round play on satiating tables: the recharging-LP rounding then
    earned 0.196 per round against its LP's 0.790 on the E3 instance monotone-k8-tau20-i0.)
    """
    k, _, tau = table.shape
    p = np.empty((k, tau + 1))
    p[:, 0] = table[:, 0, tau - 1]
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
    from scipy.optimize import linprog  # imported here: ~0.15 s, only when solving
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
    from scipy.optimize import linprog
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


_BLOCK_LP_STRUCTURES: dict = {}


def _block_lp_structure(k: int, length: int):
    """Constraint matrices of :func:`block_lp` for ``k`` arms and ``L`` slots (memoised).

    Returns:
        ``(yi, yd, ys, a_ub, b_ub, a_eq)``: the arm, delay and slot of every ``y``
        variable (int64 arrays, in variable order after the ``k L`` ``x`` variables) and
        the sparse constraint matrices with their right-hand sides.
    """
    from scipy.sparse import csr_array
    key = (int(k), int(length))
    if key in _BLOCK_LP_STRUCTURES:
        return _BLOCK_LP_STRUCTURES[key]
    yi, yd, ys = [], [], []
    for i in range(k):
        for s in range(1, length):
            for d in range(1, s + 1):
                yi.append(i)
                yd.append(d)
                ys.append(s)
    yi, yd, ys = (np.asarray(v, dtype=np.int64) for v in (yi, yd, ys))
    n_x = k * length
    n = n_x + yi.shape[0]
    xi = np.repeat(np.arange(k), length)
    xs = np.tile(np.arange(length), k)
    a_eq = np.zeros((length, n))
    a_eq[xs, np.arange(n_x)] = 1.0
    a_eq[ys, n_x + np.arange(yi.shape[0])] = 1.0
    a_ub = np.zeros((k + k * length, n))
    a_ub[xi, np.arange(n_x)] = 1.0
    cols = n_x + np.arange(yi.shape[0])
    np.add.at(a_ub, (k + yi * length + (ys - yd), cols), 1.0)  # leaves slot s - d
    np.add.at(a_ub, (k + yi * length + ys, cols), -1.0)  # arrives at slot s
    a_ub[k + xi * length + xs, np.arange(n_x)] -= 1.0
    b_ub = np.concatenate([np.ones(k), np.zeros(k * length)])
    out = (yi, yd, ys, csr_array(a_ub), b_ub, csr_array(a_eq))
    if len(_BLOCK_LP_STRUCTURES) > 64:
        _BLOCK_LP_STRUCTURES.clear()
    _BLOCK_LP_STRUCTURES[key] = out
    return out


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
    upper-bounds the best block value.

    Relation to the authors' CVXOPT program (``algo_tools.gen_G_full``; read for its
    constraint families, not copied): it has the same variables and the same two
    first constraint families, and writes delay consistency as (a) "a later pull of
    ``i`` at ``s`` needs a first pull of ``i`` before ``s``" and (b) for every ``s``
    and ``delta``, ``sum_{delta' <= delta} y[i, delta', s - delta + delta'] <=`` the
    pulls of ``i`` at ``s - delta``. With ``y >= 0``, (b) for the largest ``delta`` is
    our flow constraint and implies (b) for the smaller ones, and (a) follows from the
    flow constraints (a cut argument: later pulls at ``s`` are fed by pulls before
    ``s``, whose total is at most the first pulls before ``s``), so both programs have
    the same feasible set and value [I].

    Args:
        first_val: float64[k, L]; later_val: float64[k, L] (column ``L - 1`` unused).

    Returns:
        :class:`BlockLPSolution`.
    """
    from scipy.optimize import linprog
    first_val = np.asarray(first_val, dtype=np.float64)
    later_val = np.asarray(later_val, dtype=np.float64)
    k, length = first_val.shape
    yi, yd, ys, a_ub, b_ub, a_eq = _block_lp_structure(k, length)
    n_x = k * length
    c = np.concatenate([-first_val.ravel(), -later_val[yi, yd - 1]])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(length), bounds=(0, 1),
                  method="highs")
    if res.status != 0:  # pragma: no cover - always feasible (any sequence) and bounded
        raise RuntimeError(f"block LP failed: {res.message}")
    z = np.clip(res.x, 0.0, 1.0)
    y = np.zeros((k, length, length))
    y[yi, yd, ys] = z[n_x:]
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


def block_lp_round(first_val: np.ndarray, later_val: np.ndarray, u: float = 0.0,
                   shortcut: bool = True) -> np.ndarray:
    """Greedy position-by-position rounding of :func:`block_lp` (the authors' ``oracle``).

    At each position but the last, the arm maximising (realised prefix value + LP value
    of the remaining positions, with first-pull values of arms already in the prefix
    replaced by their later-pull values) is kept; the last position is chosen by direct
    evaluation. Trying every arm costs ``k`` LP solves per position.

    ``shortcut`` (default): first solve the LP of the remaining positions with the
    current position free. If its optimal solution puts a whole pull of one arm ``a``
    there, ``a`` is an argmax of the criterion (the LP with the position fixed to ``a``
    is the suffix LP after ``prefix + [a]`` and keeps the same optimum, while no arm can
    exceed the free LP's value), so it is kept without trying the other arms; if that
    solution is integral at every remaining position, the rest of the block is read off
    it (the same argument position after position, the last position included). Only a
    fractional position costs the ``k`` solves. Ties are then broken by the LP's optimal
    vertex, otherwise at random with ``u``; the authors' ``argmax`` takes the first of
    tied arms.

    Args:
        first_val: float64[k, L]; later_val: float64[k, L].
        u: A uniform in ``[0, 1)`` breaking ties among equally good arms (up to 1e-9).
        shortcut: Use the integral-solution shortcut (``False``: always try every arm).

    Returns:
        int64[L], the rounded sequence.
    """
    first_val = np.asarray(first_val, dtype=np.float64)
    later_val = np.asarray(later_val, dtype=np.float64)
    k, length = first_val.shape
    prefix: list[int] = []
    while len(prefix) < length:
        p = len(prefix)
        if shortcut and p < length - 1:
            sol = block_lp(_suffix_first_values(prefix, first_val, later_val),
                           later_val[:, : length - p])
            mass = sol.x + sol.y.sum(axis=1)  # [arm, slot] of the remaining positions
            whole = mass.max(axis=0) >= 1.0 - 1e-9
            if whole[0]:
                n_int = int(np.argmin(whole)) if not whole.all() else length - p
                prefix.extend(int(a) for a in np.argmax(mass[:, :n_int], axis=0))
                continue
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


# ------------------------------------------------------------------ compiled block LP
@njit(cache=True)
def _pivot(tab, r, j):
    """Pivot the tableau on row ``r``, column ``j``."""
    rows, cols = tab.shape
    piv = tab[r, j]
    for c in range(cols):
        tab[r, c] /= piv
    for i in range(rows):
        if i != r:
            f = tab[i, j]
            if f != 0.0:
                for c in range(cols):
                    tab[i, c] -= f * tab[r, c]


@njit(cache=True)
def _simplex_phase(tab, basis, n_enter, tol, max_iter):
    """Bland's-rule simplex iterations on ``tab`` (objective in the last row).

    The objective row holds reduced costs (optimal when none is below ``-tol`` among the
    first ``n_enter`` columns). Returns ``True`` on optimality, ``False`` at ``max_iter``.
    """
    m = basis.shape[0]
    rhs = tab.shape[1] - 1
    for _ in range(max_iter):
        enter = -1
        for j in range(n_enter):
            if tab[m, j] < -tol:
                enter = j
                break
        if enter < 0:
            return True
        leave = -1
        best = np.inf
        for i in range(m):
            a = tab[i, enter]
            if a > tol:
                ratio = tab[i, rhs] / a
                if ratio < best - 1e-12 or (ratio <= best + 1e-12 and leave >= 0
                                            and basis[i] < basis[leave]):
                    best = ratio
                    leave = i
        if leave < 0:  # unbounded: impossible for the bounded programs solved here
            return False
        _pivot(tab, leave, enter)
        basis[leave] = enter
    return False


class BlockLPWork(NamedTuple):
    """Preallocated buffers of the compiled block LP for up to ``k`` arms and ``L`` slots.

    Built once by :func:`block_lp_work` (in an agent's ``init``); :func:`block_lp_into` and
    :func:`block_lp_round_into` use views of their leading parts for the smaller suffix
    programs, so planning a block allocates nothing. With ``n = k L + k L (L - 1) / 2``
    variables and ``m = L + k + k L`` constraints at ``L`` slots:

    Attributes:
        a: float64[m, n], constraint matrix.
        b: float64[m], right-hand sides.
        c: float64[n], objective.
        yi: int64[k L (L - 1) / 2], arm of each ``y`` variable.
        ys: int64[k L (L - 1) / 2], slot of each ``y`` variable.
        tab: float64[m + 1, n + m + 1], simplex tableau.
        basis: int64[m], basic variable of each row.
        z: float64[n], the solution.
        mass: float64[k, L], pull mass of each arm at each slot of the last solve.
        first: float64[k, L], first-pull values of the suffix program.
        seq: int64[L], the rounded sequence under construction.
        scores: float64[k], the rounding's criterion per arm.
        last: int64[k], last position of each arm in a prefix.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    yi: np.ndarray
    ys: np.ndarray
    tab: np.ndarray
    basis: np.ndarray
    z: np.ndarray
    mass: np.ndarray
    first: np.ndarray
    seq: np.ndarray
    scores: np.ndarray
    last: np.ndarray


@njit(cache=True)
def block_lp_work(k, length):
    """:class:`BlockLPWork` for ``k`` arms and blocks of up to ``length`` slots.

    ``length = 0`` gives empty buffers (an agent that never solves a block LP).
    """
    if length == 0:
        n = 0
        m = 0
        n_y = 0
        k_rows = 0
    else:
        n_y = k * length * (length - 1) // 2
        n = k * length + n_y
        m = length + k + k * length
        k_rows = k
    return BlockLPWork(np.zeros((m, n)), np.zeros(m), np.zeros(n), np.zeros(n_y, np.int64),
                       np.zeros(n_y, np.int64), np.zeros((m + 1, n + m + 1)),
                       np.zeros(m, np.int64), np.zeros(n), np.zeros((k_rows, length)),
                       np.zeros((k_rows, length)), np.zeros(length, np.int64),
                       np.zeros(k_rows), np.zeros(k_rows, np.int64))


@njit(cache=True)
def simplex_max_into(c, a, b, n_eq, tab, basis, z):
    """:func:`simplex_max` on caller-owned buffers (no allocation).

    Args:
        c: float64[n]; a: float64[m, n]; b: float64[m] (non-negative); n_eq: equality rows.
        tab: float64[m + 1, n + m + 1], the tableau (overwritten).
        basis: int64[m] (overwritten).
        z: float64[n], receives the solution (zeros when not ``ok``).

    Returns:
        ``(ok, value)``.
    """
    m, n = a.shape
    n_ub = m - n_eq
    n_all = n + n_ub + n_eq
    tol = 1e-10
    for r in range(m + 1):
        for j in range(n_all + 1):
            tab[r, j] = 0.0
    for j in range(n):
        z[j] = 0.0
    for r in range(m):
        for j in range(n):
            tab[r, j] = a[r, j]
        tab[r, n_all] = b[r]
        if r < n_eq:
            tab[r, n + n_ub + r] = 1.0
            basis[r] = n + n_ub + r
        else:
            tab[r, n + r - n_eq] = 1.0
            basis[r] = n + r - n_eq
    # phase 1: maximise -sum(artificials)
    for r in range(n_eq):
        for j in range(n_all + 1):
            if j < n + n_ub or j == n_all:
                tab[m, j] -= tab[r, j]
    max_iter = 50 * (m + n_all) + 1000
    if not _simplex_phase(tab, basis, n + n_ub, tol, max_iter):
        return False, np.nan
    if tab[m, n_all] < -1e-8:
        return False, np.nan
    for r in range(m):  # drive zero-level artificials out of the basis
        if basis[r] >= n + n_ub:
            for j in range(n + n_ub):
                if abs(tab[r, j]) > 1e-9:
                    _pivot(tab, r, j)
                    basis[r] = j
                    break
    # phase 2: the objective row holds -c plus the basic costs
    for j in range(n_all + 1):
        tab[m, j] = 0.0
    for j in range(n):
        tab[m, j] = -c[j]
    for r in range(m):
        bj = basis[r]
        if bj < n:
            cb = c[bj]
            if cb != 0.0:
                for j in range(n_all + 1):
                    tab[m, j] += cb * tab[r, j]
    if not _simplex_phase(tab, basis, n + n_ub, tol, max_iter):
        return False, np.nan
    for r in range(m):
        if basis[r] < n:
            z[basis[r]] = tab[r, n_all]
    return True, tab[m, n_all]


@njit(cache=True)
def simplex_max(c, a, b, n_eq):
    """Maximise ``c @ z`` s.t. ``a[:n_eq] z = b[:n_eq]``, ``a[n_eq:] z <= b[n_eq:]``, ``z >= 0``.

    Dense two-phase tableau simplex with Bland's rule (no cycling on the degenerate
    block LPs), for small programs; requires ``b >= 0``. Allocates its tableau
    (:func:`simplex_max_into` works on caller-owned buffers).

    Args:
        c: float64[n]; a: float64[m, n]; b: float64[m] (non-negative); n_eq: equality rows.

    Returns:
        ``(ok, value, z)``: ``ok`` is ``False`` when the program is infeasible (or the
        iteration cap is reached).
    """
    m, n = a.shape
    tab = np.zeros((m + 1, n + m + 1))
    basis = np.empty(m, dtype=np.int64)
    z = np.zeros(n)
    ok, value = simplex_max_into(c, a, b, n_eq, tab, basis, z)
    return ok, value, z


@njit(cache=True)
def block_lp_into(first_val, later_val, w):
    """:func:`block_lp` in compiled code on the buffers of ``w`` (:class:`BlockLPWork`).

    Args:
        first_val: float64[k, L']; later_val: float64[k, >= L'] (columns ``0..L' - 2``
            read), ``L'`` at most the workspace's ``L``.
        w: The workspace; ``w.mass[:, :L']`` receives the pull mass of each arm at each
            slot (``x[i, s] + sum_delta y[i, delta, s]``; zeros when the solve fails).

    Returns:
        The LP value (NaN if the solve failed, impossible for these programs).
    """
    k, length = first_val.shape
    n_x = k * length
    n_y = k * length * (length - 1) // 2
    n = n_x + n_y
    m = length + k + k * length
    a = w.a[:m, :n]
    b = w.b[:m]
    c = w.c[:n]
    yi = w.yi
    ys = w.ys
    for r in range(m):
        b[r] = 0.0
        for j in range(n):
            a[r, j] = 0.0
    for i in range(k):
        for s in range(length):
            col = i * length + s
            c[col] = first_val[i, s]
            a[s, col] = 1.0  # one pull per slot
            a[length + i, col] = 1.0  # one first pull per arm
            a[length + k + i * length + s, col] = -1.0  # pulls at s feed later pulls
    j = n_x
    for i in range(k):
        for s in range(1, length):
            for d in range(1, s + 1):
                c[j] = later_val[i, d - 1]
                a[s, j] = 1.0
                a[length + k + i * length + s - d, j] += 1.0  # leaves slot s - d
                a[length + k + i * length + s, j] -= 1.0  # is a pull at s
                yi[j - n_x] = i
                ys[j - n_x] = s
                j += 1
    for s in range(length):
        b[s] = 1.0
    for i in range(k):
        b[length + i] = 1.0
    z = w.z[:n]
    ok, value = simplex_max_into(c, a, b, length, w.tab[:m + 1, :n + m + 1], w.basis[:m], z)
    mass = w.mass
    for i in range(k):
        for s in range(length):
            mass[i, s] = 0.0
    if not ok:  # pragma: no cover - always feasible and bounded
        return np.nan
    for i in range(k):
        for s in range(length):
            mass[i, s] += z[i * length + s]
    for q in range(n_y):
        mass[yi[q], ys[q]] += z[n_x + q]
    return value


@njit(cache=True)
def block_lp_nb(first_val, later_val):
    """:func:`block_lp` in compiled code (:func:`simplex_max` instead of HiGHS).

    Allocates a workspace per call (:func:`block_lp_into` reuses one).

    Args:
        first_val: float64[k, L]; later_val: float64[k, L].

    Returns:
        ``(value, mass)``: the LP value and float64[k, L], the pull mass of each arm at
        each slot (``x[i, s] + sum_delta y[i, delta, s]``).
    """
    k, length = first_val.shape
    w = block_lp_work(k, length)
    value = block_lp_into(first_val, later_val, w)
    return value, w.mass


@njit(cache=True)
def _block_value_into(seq, n, first_val, later_val, last):
    """:func:`block_sequence_value` of ``seq[:n]`` in compiled code (``last``: int64[k] scratch)."""
    k = first_val.shape[0]
    for i in range(k):
        last[i] = -1
    val = 0.0
    for p in range(n):
        a = seq[p]
        if last[a] < 0:
            val += first_val[a, p]
        else:
            val += later_val[a, p - last[a] - 1]
        last[a] = p
    return val


@njit(cache=True)
def _suffix_first_into(seq, n, first_val, later_val, last, out):
    """``_suffix_first_values`` of the prefix ``seq[:n]`` into ``out[:, :L - n]`` (returned)."""
    k, length = first_val.shape
    res = out[:k, : length - n]
    for i in range(k):
        for s in range(n, length):
            res[i, s - n] = first_val[i, s]
        last[i] = -1
    for q in range(n):
        last[seq[q]] = q
    for a in range(k):
        if last[a] >= 0:
            for s in range(n, length):
                res[a, s - n] = later_val[a, s - last[a] - 1]
    return res


@njit(cache=True)
def block_lp_round_into(first_val, later_val, u, w, out):
    """:func:`block_lp_round` (with the shortcut) in compiled code, on :func:`block_lp_into`.

    Same rule position by position; the LP solver (Bland's-rule simplex instead of
    HiGHS) can return another optimal vertex, so ties may be broken differently. Works
    on the buffers of ``w`` (:class:`BlockLPWork` for at least ``k`` arms and ``L``
    slots) and writes the sequence into ``out`` (int64[L]); allocates nothing.
    """
    k, length = first_val.shape
    seq = w.seq[:length]
    for s in range(length):
        seq[s] = 0
    n = 0
    scores = w.scores[:k]
    while n < length:
        if n < length - 1:
            block_lp_into(_suffix_first_into(seq, n, first_val, later_val, w.last, w.first),
                          later_val[:, : length - n], w)
            mass = w.mass
            n_int = 0
            for s in range(length - n):
                best = 0
                for a in range(1, k):
                    if mass[a, s] > mass[best, s]:
                        best = a
                if mass[best, s] < 1.0 - 1e-9:
                    break
                seq[n + s] = best
                n_int += 1
            if n_int > 0:
                n += n_int
                continue
        for a in range(k):
            seq[n] = a
            scores[a] = _block_value_into(seq, n + 1, first_val, later_val, w.last)
            if n < length - 1:
                v = block_lp_into(
                    _suffix_first_into(seq, n + 1, first_val, later_val, w.last, w.first),
                    later_val[:, : length - n - 1], w)
                scores[a] += v
        top = scores.max()
        n_ties = 0
        for a in range(k):
            if scores[a] >= top - 1e-9:
                n_ties += 1
        pick = min(int(u * n_ties), n_ties - 1)
        for a in range(k):
            if scores[a] >= top - 1e-9:
                if pick == 0:
                    seq[n] = a
                    break
                pick -= 1
        n += 1
    for s in range(length):
        out[s] = seq[s]


@njit(cache=True)
def block_lp_round_nb(first_val, later_val, u):
    """:func:`block_lp_round` (with the shortcut) in compiled code, on :func:`block_lp_nb`.

    Allocates a workspace and the result (:func:`block_lp_round_into` reuses them).

    Returns:
        int64[L].
    """
    k, length = first_val.shape
    w = block_lp_work(k, length)
    out = np.zeros(length, np.int64)
    block_lp_round_into(first_val, later_val, u, w, out)
    return out
