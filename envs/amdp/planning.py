"""Average-reward planning: relative value iteration, policy iteration, the gain LP, EVI.

Three independent solvers for the optimal gain ``J*``, a bias ``h*`` and an
optimal policy of a finite MDP ``(P, r)``:

* :func:`relative_value_iteration` (Numba kernel :func:`rvi_kernel`) with the
  aperiodicity transform ``P_tau = tau P + (1 - tau) I``; the bias of the
  transformed MDP is rescaled back, ``h* = tau h_tau``.
* :func:`policy_iteration`: Howard's multichain policy iteration (Puterman 1994,
  Sec. 9.2) with exact evaluation by dense linear algebra (the gain vector from
  the Cesaro limit matrix, the bias from the deviation matrix).
* :func:`lp_gain`: the dual LP over occupancy measures (SciPy HiGHS) for ``J*``,
  then a second LP for the pointwise-smallest solution ``h`` of
  ``J* + h(s) >= r(s, a) + P(.|s, a) h`` with ``h(s_ref) = 0``, which equals the
  optimality-equation bias when ``s_ref`` is recurrent under an optimal policy.

Also the extended value iteration (EVI) kernels of the tabular optimistic agents:
the inner maximisations over L1 balls (UCRL2, Jaksch, Ortner & Auer, JMLR 2010),
KL balls (KL-UCRL, Filippi, Cappe & Garivier 2010) and per-entry boxes (UCRL2-B,
Fruit, Pirotta & Lazaric 2020), and :func:`extended_value_iteration` with optional
mitigation and projection onto a bias region (PMEVI, Boone & Zhang 2024; span
truncation as in SCAL, used by banditlab's LOOP-Tab instantiation).

Shapes: ``P`` float64[S, A, S], ``r`` float64[S, A].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = [
    "AverageRewardSolution",
    "rvi_kernel",
    "rvi_into",
    "relative_value_iteration",
    "policy_iteration",
    "lp_gain",
    "solve_average_reward",
    "optimistic_l1_transition",
    "optimistic_kl_transition",
    "optimistic_box_transition",
    "project_bias",
    "extended_value_iteration",
    "extended_value_iteration_into",
    "argsort_desc_into",
    "ARGSORT_STACK",
    "span_bounds",
    "evi_kernel",
    "REGION_L1",
    "REGION_KL",
    "REGION_BOX",
]


@dataclass(frozen=True)
class AverageRewardSolution:
    """Optimal gain, bias and policy of a finite MDP.

    Attributes:
        gain: ``J*`` (float).
        bias: float64[S], a solution ``h*`` of the optimality equation with ``h*(ref) = 0``.
        span: ``max h* - min h*``.
        policy: int64[S], a gain-optimal deterministic policy.
        ref: Reference state (recurrent under ``policy``).
        method: Name of the solver.
    """

    gain: float
    bias: np.ndarray
    span: float
    policy: np.ndarray
    ref: int
    method: str


# --------------------------------------------------------------------------- RVI
@njit(cache=True)
def rvi_kernel(P, r, tau, ref, tol, max_iter):
    """Relative value iteration on the aperiodic transform ``tau P + (1 - tau) I``.

    Iterates ``v = max_a (r + P_tau h)``, ``h <- v - v(ref)`` until
    ``max |h_new - h| < tol``. Allocates its outputs; :func:`rvi_into` is the
    allocation-free form the agents' kernels call.

    Args:
        P: float64[S, A, S] transition kernel.
        r: float64[S, A] mean rewards.
        tau: Aperiodicity parameter in (0, 1].
        ref: Reference state index.
        tol: Stopping tolerance on the sup-norm change of ``h``.
        max_iter: Iteration cap.

    Returns:
        ``(gain, bias, policy, n_iter)``: ``bias = tau * h_tau`` (the bias of the
        original MDP, ``bias[ref] = 0``), ``policy`` int64[S] greedy for it.
    """
    S = r.shape[0]
    bias = np.empty(S)
    v = np.empty(S)
    policy = np.empty(S, np.int64)
    gain, it = rvi_into(P, r, tau, ref, tol, max_iter, bias, v, policy)
    return gain, bias, policy, it


@njit(cache=True)
def rvi_into(P, r, tau, ref, tol, max_iter, h, v, policy):
    """:func:`rvi_kernel` into caller-owned buffers (no allocation, same arithmetic).

    Args:
        P: float64[S, A, S] transition kernel.
        r: float64[S, A] mean rewards.
        tau: Aperiodicity parameter in (0, 1].
        ref: Reference state index.
        tol: Stopping tolerance on the sup-norm change of ``h``.
        max_iter: Iteration cap.
        h: float64[S] output: the bias ``tau * h_tau`` (overwritten; starts from 0).
        v: float64[S] scratch.
        policy: int64[S] output: the greedy policy.

    Returns:
        ``(gain, n_iter)``.
    """
    S, A = r.shape
    for s in range(S):
        h[s] = 0.0
        v[s] = 0.0
    gain = 0.0
    it = 0
    while it < max_iter:
        it += 1
        for s in range(S):
            best = -np.inf
            for a in range(A):
                q = r[s, a] + (1.0 - tau) * h[s]
                for s2 in range(S):
                    q += tau * P[s, a, s2] * h[s2]
                if q > best:
                    best = q
            v[s] = best
        gain = v[ref]
        diff = 0.0
        for s in range(S):
            hn = v[s] - gain
            d = abs(hn - h[s])
            if d > diff:
                diff = d
            h[s] = hn
        if diff < tol:
            break
    for s in range(S):
        h[s] = tau * h[s]
    bias = h
    for s in range(S):
        policy[s] = 0
        best = -np.inf
        for a in range(A):
            q = r[s, a]
            for s2 in range(S):
                q += P[s, a, s2] * bias[s2]
            if q > best + 1e-10:
                best = q
                policy[s] = a
    return gain, it


def _stationary_projection(Ppi: np.ndarray) -> np.ndarray:
    """Cesaro limit ``P*`` of a stochastic matrix by repeated squaring of ``(P + I) / 2``."""
    M = 0.5 * (Ppi + np.eye(Ppi.shape[0]))
    for _ in range(200):
        M2 = M @ M
        M2 /= M2.sum(axis=1, keepdims=True)  # keep rows stochastic despite rounding
        if np.max(np.abs(M2 - M)) < 1e-14:
            M = M2
            break
        M = M2
    return M


def _recurrent_ref(Pstar: np.ndarray) -> int:
    """A state with the largest stationary mass (hence recurrent)."""
    return int(np.argmax(Pstar.max(axis=0)))


def relative_value_iteration(
    P: np.ndarray, r: np.ndarray, *, tau: float = 0.5, ref: int | None = None,
    tol: float = 1e-12, max_iter: int = 10_000_000,
) -> AverageRewardSolution:
    """``J*``, ``h*`` and a greedy policy by RVI (see :func:`rvi_kernel`).

    Args:
        P: float64[S, A, S].
        r: float64[S, A].
        tau: Aperiodicity parameter (default 0.5).
        ref: Reference state; default: a recurrent state of the RVI policy.
        tol: Stopping tolerance on ``h``.
        max_iter: Iteration cap.
    """
    P = np.ascontiguousarray(P, dtype=np.float64)
    r = np.ascontiguousarray(r, dtype=np.float64)
    gain, bias, policy, _ = rvi_kernel(P, r, float(tau), 0, float(tol), int(max_iter))
    if ref is None:
        S = r.shape[0]
        ref = _recurrent_ref(_stationary_projection(P[np.arange(S), policy]))
    bias = bias - bias[ref]
    return AverageRewardSolution(
        float(gain), bias, float(bias.max() - bias.min()), policy, int(ref), "rvi"
    )


# --------------------------------------------------------------------------- policy iteration
def _evaluate(P: np.ndarray, r: np.ndarray, policy: np.ndarray):
    S = r.shape[0]
    idx = np.arange(S)
    Ppi = P[idx, policy]
    rpi = r[idx, policy]
    Pstar = _stationary_projection(Ppi)
    g = Pstar @ rpi
    H = np.linalg.solve(np.eye(S) - Ppi + Pstar, np.eye(S) - Pstar)
    h = H @ rpi
    return g, h, Pstar


def policy_iteration(
    P: np.ndarray, r: np.ndarray, *, max_iter: int = 1000, tol: float = 1e-10
) -> tuple[AverageRewardSolution, np.ndarray]:
    """Multichain policy iteration (Puterman 1994, Alg. of Sec. 9.2).

    Evaluation: gain vector ``g = P*_pi r_pi`` and bias ``h = H_pi r_pi`` with the
    deviation matrix ``H = (I - P_pi + P*_pi)^{-1} (I - P*_pi)``. Improvement:
    first on ``P g``, then on ``r + P h`` among the gain-maximising actions,
    keeping the current action on ties (within ``tol``).

    Args:
        P: float64[S, A, S].
        r: float64[S, A].
        max_iter: Iteration cap.
        tol: Tie tolerance.

    Returns:
        ``(solution, gain_vector)``: the solution normalised at a recurrent state
        of the final policy, and the optimal gain of every start state.
    """
    P = np.asarray(P, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    S, A = r.shape
    policy = np.argmax(r, axis=1).astype(np.int64)
    for _ in range(max_iter):
        g, h, Pstar = _evaluate(P, r, policy)
        new = policy.copy()
        pg = P @ g  # [S, A]
        changed = False
        for s in range(S):
            m = pg[s].max()
            if pg[s, policy[s]] < m - tol:
                new[s] = int(np.argmax(pg[s]))
                changed = True
        if not changed:
            q = r + P @ h
            for s in range(S):
                ok = pg[s] >= pg[s].max() - tol
                qs = np.where(ok, q[s], -np.inf)
                if qs[policy[s]] < qs.max() - tol:
                    new[s] = int(np.argmax(qs))
                    changed = True
        if not changed:
            break
        policy = new
    gain = float(g.max())
    ref = _recurrent_ref(Pstar)
    bias = h - h[ref]
    sol = AverageRewardSolution(gain, bias, float(bias.max() - bias.min()), policy, ref, "pi")
    return sol, g


# --------------------------------------------------------------------------- LP
def lp_gain(P: np.ndarray, r: np.ndarray, *, ref: int | None = None) -> AverageRewardSolution:
    """``J*`` by the occupancy-measure LP and ``h*`` by a second LP (SciPy HiGHS).

    LP 1: maximise ``sum x(s, a) r(s, a)`` over ``x >= 0`` with ``sum x = 1`` and
    flow conservation ``sum_a x(s', a) = sum_{s, a} P(s'|s, a) x(s, a)``.
    LP 2: minimise ``sum_s h(s)`` subject to ``J* + h(s) >= r(s, a) + P(.|s, a) h``
    and ``h(ref) = 0``; with ``ref`` recurrent under an optimal unichain policy
    the minimiser is the optimality-equation bias (every feasible ``h`` dominates it).

    Args:
        P: float64[S, A, S].
        r: float64[S, A].
        ref: Reference state; default: the state with the largest optimal occupancy.
    """
    from scipy.optimize import linprog  # imported here: ~0.15 s, only when solving
    P = np.asarray(P, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    S, A = r.shape
    n = S * A
    Aeq = np.zeros((S + 1, n))
    for s in range(S):
        for a in range(A):
            j = s * A + a
            Aeq[s, j] += 1.0
            Aeq[:S, j] -= P[s, a]
    Aeq[S, :] = 1.0
    beq = np.zeros(S + 1)
    beq[S] = 1.0
    res = linprog(-r.reshape(-1), A_eq=Aeq, b_eq=beq, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"gain LP failed: {res.message}")
    gain = float(-res.fun)
    x = res.x.reshape(S, A)
    if ref is None:
        ref = int(np.argmax(x.sum(axis=1)))
    # LP 2 over h in R^S: constraints h(s) - P(.|s,a) h >= r(s,a) - J*.
    Aub = np.zeros((n, S))
    bub = np.zeros(n)
    for s in range(S):
        for a in range(A):
            j = s * A + a
            Aub[j] = P[s, a]
            Aub[j, s] -= 1.0
            bub[j] = gain - r[s, a]
    bounds = [(None, None)] * S
    bounds[ref] = (0.0, 0.0)
    res2 = linprog(np.ones(S), A_ub=Aub, b_ub=bub, bounds=bounds, method="highs")
    if res2.status != 0:
        raise RuntimeError(f"bias LP failed: {res2.message}")
    h = res2.x - res2.x[ref]
    policy = np.argmax(r + P @ h, axis=1).astype(np.int64)
    return AverageRewardSolution(gain, h, float(h.max() - h.min()), policy, int(ref), "lp")


def solve_average_reward(P: np.ndarray, r: np.ndarray) -> AverageRewardSolution:
    """The oracle's solution: RVI, normalised at a recurrent state of its policy."""
    return relative_value_iteration(P, r)


# --------------------------------------------------------------------------- EVI
@njit(cache=True)
def optimistic_l1_transition(phat, radius, order, out):
    """Maximise ``p . u`` over the L1 ball ``||p - phat||_1 <= radius`` in the simplex.

    The inner problem of UCRL2's EVI (Jaksch et al. 2010, Fig. 2): move
    ``radius / 2`` of mass onto the best state, remove the excess from the worst
    states in increasing order of ``u``.

    Args:
        phat: float64[S] empirical distribution (sums to 1, or all zeros when unvisited).
        radius: L1 radius (>= 0); values >= 2 are vacuous.
        order: int64[S] states sorted by decreasing ``u``.
        out: float64[S] output buffer.
    """
    S = phat.shape[0]
    for i in range(S):
        out[i] = phat[i]
    best = order[0]
    out[best] = min(1.0, phat[best] + 0.5 * radius)
    total = 0.0
    for i in range(S):
        total += out[i]
    k = S - 1
    while total > 1.0 + 1e-15 and k >= 0:
        j = order[k]
        if j != best:
            excess = total - 1.0
            take = min(out[j], excess)
            out[j] -= take
            total -= take
        k -= 1
    if total < 1.0:  # only when phat does not sum to one (unvisited pair)
        out[best] += 1.0 - total


@njit(cache=True)
def optimistic_kl_transition(phat, radius, u, out):
    """Maximise ``p . u`` over ``{p in the simplex: KL(phat || p) <= radius}`` (KL-UCRL).

    The inner problem of KL-UCRL (Filippi, Cappe & Garivier 2010, Appendix): with
    ``Z`` the support of ``phat`` and ``f(nu) = sum_{i in Z} phat_i ln(nu - u_i)
    + ln(sum_{i in Z} phat_i / (nu - u_i))`` (decreasing on ``nu > max_Z u``), either

    * a maximiser of ``u`` lies outside ``Z`` and ``f(max u) < radius``: mass
      ``r = 1 - exp(f(max u) - radius)`` goes to the maximisers outside ``Z``
      (split evenly) and ``nu = max u``; or
    * ``r = 0`` and ``nu`` solves ``f(nu) = radius`` (bisection to machine precision);

    then ``p_i = (1 - r) (phat_i / (nu - u_i)) / sum_Z phat_j / (nu - u_j)`` on ``Z``.
    A pair without data (``phat`` all zeros) has the vacuous set: all mass on a
    maximiser of ``u``.

    Args:
        phat: float64[S] empirical distribution (or all zeros).
        radius: KL radius (> 0).
        u: float64[S] values.
        out: float64[S] output buffer.
    """
    S = phat.shape[0]
    total = 0.0
    vmax = -np.inf
    best = 0
    for i in range(S):
        out[i] = 0.0
        total += phat[i]
        if u[i] > vmax:
            vmax = u[i]
            best = i
    if total < 0.5 or radius == np.inf:  # no data: every distribution is plausible
        out[best] = 1.0
        return
    if radius <= 0.0:
        for i in range(S):
            out[i] = phat[i]
        return
    vzmax = -np.inf
    vzmin = np.inf
    for i in range(S):
        if phat[i] > 0.0:
            vzmax = max(vzmax, u[i])
            vzmin = min(vzmin, u[i])
    if vzmax - vzmin <= 1e-14 * max(1.0, abs(vzmax)):
        # u constant on the support: phat is optimal among distributions on Z.
        n_out = 0
        if vmax > vzmax + 1e-12:
            # f(max u) = 0 < radius: move r = 1 - exp(-radius) onto the maximisers.
            r = 1.0 - math.exp(-radius)
            for i in range(S):
                if phat[i] == 0.0 and u[i] >= vmax - 1e-12:
                    n_out += 1
            for i in range(S):
                if phat[i] == 0.0 and u[i] >= vmax - 1e-12:
                    out[i] = r / n_out
                else:
                    out[i] = (1.0 - r) * phat[i]
        else:
            for i in range(S):
                out[i] = phat[i]
        return
    r = 0.0
    nu = 0.0
    case_out = False
    if vmax > vzmax + 1e-12:
        f = _kl_f(phat, u, vmax)
        if f < radius:
            case_out = True
            nu = vmax
            r = 1.0 - math.exp(f - radius)
    if not case_out:
        # Bracket: f(lo) > radius near max_Z u, f(hi) <= radius far away.
        gap = max(vzmax - vzmin, 1e-300)
        hi = vzmax + gap
        while _kl_f(phat, u, hi) > radius:
            gap *= 2.0
            hi = vzmax + gap
        lo = vzmax
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if _kl_f(phat, u, mid) > radius:
                lo = mid
            else:
                hi = mid
        nu = hi
    norm = 0.0
    for i in range(S):
        if phat[i] > 0.0:
            norm += phat[i] / (nu - u[i])
    n_out = 0
    if case_out:
        for i in range(S):
            if phat[i] == 0.0 and u[i] >= vmax - 1e-12:
                n_out += 1
    for i in range(S):
        if phat[i] > 0.0:
            out[i] = (1.0 - r) * (phat[i] / (nu - u[i])) / norm
        elif case_out and u[i] >= vmax - 1e-12:
            out[i] = r / n_out


@njit(cache=True)
def _kl_f(phat, u, nu):
    """``f(nu)`` of :func:`optimistic_kl_transition` (``nu > max`` of ``u`` on the support)."""
    a = 0.0
    b = 0.0
    for i in range(phat.shape[0]):
        if phat[i] > 0.0:
            d = nu - u[i]
            if d <= 0.0:
                return np.inf
            a += phat[i] * math.log(d)
            b += phat[i] / d
    return a + math.log(b)


@njit(cache=True)
def optimistic_box_transition(lower, upper, order, out):
    """Maximise ``p . u`` over ``{p in the simplex: lower <= p <= upper}`` (UCRL2-B's boxes).

    Start from the lower bounds and hand the remaining mass ``1 - sum(lower)`` to the
    states in decreasing order of ``u``, each up to its upper bound (the greedy
    solution of this linear programme; Fruit, Pirotta & Lazaric 2020).

    Args:
        lower: float64[S] lower bounds (``sum(lower) <= 1``).
        upper: float64[S] upper bounds (``sum(upper) >= 1``, ``upper >= lower``).
        order: int64[S] states sorted by decreasing ``u``.
        out: float64[S] output buffer.
    """
    S = lower.shape[0]
    rest = 1.0
    for i in range(S):
        out[i] = lower[i]
        rest -= lower[i]
    k = 0
    while rest > 0.0 and k < S:
        j = order[k]
        add = min(rest, upper[j] - out[j])
        if add > 0.0:
            out[j] += add
            rest -= add
        k += 1


REGION_L1 = 0
"""Code of L1 (Weissman-type) transition sets in :func:`extended_value_iteration`."""
REGION_KL = 1
"""Code of KL transition sets in :func:`extended_value_iteration`."""
REGION_BOX = 2
"""Code of per-entry (Bernstein box) transition sets in :func:`extended_value_iteration`."""


@njit(cache=True)
def project_bias(w, ubias, buf):
    """Largest vector below ``w`` with ``v(z) - v(x) <= ubias[x, z]``: ``min_x w(x) + ubias[x, z]``.

    ``ubias`` must be closed under shortest paths with a zero diagonal (then the map
    is the projection onto the bias region, monotone and non-expansive in sup norm).
    With ``ubias[x, z] = B`` off the diagonal it is the span truncation
    ``min(w, min w + B)`` of SCAL.

    Args:
        w: float64[S] values, updated in place.
        ubias: float64[S, S] pairwise upper bounds (``inf``: no constraint).
        buf: float64[S] scratch.

    Returns:
        The number of entries the projection lowered (by more than ``1e-12``).
    """
    S = w.shape[0]
    for z in range(S):
        m = w[z]
        for x in range(S):
            c = ubias[x, z]
            if x != z and c < np.inf:
                m = min(m, w[x] + c)
        buf[z] = m
    changed = 0
    for z in range(S):
        if buf[z] < w[z] - 1e-12:
            changed += 1
        w[z] = buf[z]
    return changed


ARGSORT_STACK = 128
"""Length of the ``stack`` scratch of :func:`argsort_desc_into` (64 pending partitions:
the quicksort pushes the larger part and iterates on the smaller, so the depth is at
most ``log2(S)``)."""


@njit(cache=True, inline="always")
def _neg_lt(u, i, j):
    """Numba's float ``<`` of the keys ``-u[i]`` and ``-u[j]`` (NaN sorts last)."""
    a = -u[i]
    b = -u[j]
    return a < b or (np.isnan(b) and not np.isnan(a))


@njit(cache=True)
def argsort_desc_into(u, order, stack):
    """``order <- np.argsort(-u)`` without allocating: the same permutation, ties included.

    A transcription of the quicksort Numba compiles for ``np.argsort`` (median-of-three
    partitions down to 15 entries, then insertion sort; ``numba/misc/quicksort.py``)
    on the keys ``-u``, so EVI's tie-breaking between states of equal value is the one
    of ``np.argsort(-u)``.

    Args:
        u: float64[S] values.
        order: int64[S] output: states by decreasing ``u``.
        stack: int64[:data:`ARGSORT_STACK`] scratch.
    """
    n = u.shape[0]
    for i in range(n):
        order[i] = i
    if n < 2:
        return
    stack[0] = 0
    stack[1] = n - 1
    top = 1
    while top > 0:
        top -= 1
        low = stack[2 * top]
        high = stack[2 * top + 1]
        while high - low >= 15:
            # partition around the median of {low, mid, high}
            mid = (low + high) >> 1
            if _neg_lt(u, order[mid], order[low]):
                order[low], order[mid] = order[mid], order[low]
            if _neg_lt(u, order[high], order[mid]):
                order[high], order[mid] = order[mid], order[high]
            if _neg_lt(u, order[mid], order[low]):
                order[low], order[mid] = order[mid], order[low]
            pivot = order[mid]
            order[high], order[mid] = order[mid], order[high]
            i = low
            j = high - 1
            while True:
                while i < high and _neg_lt(u, order[i], pivot):
                    i += 1
                while j >= low and _neg_lt(u, pivot, order[j]):
                    j -= 1
                if i >= j:
                    break
                order[i], order[j] = order[j], order[i]
                i += 1
                j -= 1
            order[i], order[high] = order[high], order[i]
            if high - i > i - low:
                if high > i:
                    stack[2 * top] = i + 1
                    stack[2 * top + 1] = high
                    top += 1
                high = i - 1
            else:
                if i > low:
                    stack[2 * top] = low
                    stack[2 * top + 1] = i - 1
                    top += 1
                low = i + 1
        # insertion sort of order[low:high + 1]
        for i in range(low + 1, high + 1):
            k = order[i]
            j = i
            while j > low and _neg_lt(u, k, order[j - 1]):
                order[j] = order[j - 1]
                j -= 1
            order[j] = k


@njit(cache=True)
def extended_value_iteration(phat, rtil, prad, plo, pup, beta, ubias, u, eps, tau, max_iter,
                             region, mitigate, project, ptil, policy):
    """Extended value iteration over L1, KL or box sets, with mitigation and projection.

    One sweep: ``w(s) = max_a rtil(s, a) + V(s, a)`` where ``V(s, a) = max p . u`` over
    the transition set of ``(s, a)`` (``region``: :data:`REGION_L1` with radius
    ``prad``, :data:`REGION_KL` with KL radius ``prad``, :data:`REGION_BOX` with the
    bounds ``plo``/``pup``); with ``mitigate`` the optimism is capped,
    ``V(s, a) = min(V(s, a), phat(s, a) . u + beta(s, a))`` (PMEVI's mitigation);
    with ``project`` the sweep is followed by :func:`project_bias` with ``ubias``
    (span truncation, PMEVI's projection). Then ``u <- (1 - tau) u + tau w``
    (aperiodicity transform), re-centred to ``min u = 0``; stop when
    ``sp(w - u) < eps``.

    Args:
        phat: float64[S, A, S] empirical transitions (zero rows for unvisited pairs).
        rtil: float64[S, A] optimistic rewards.
        prad: float64[S, A] L1 or KL radii (ignored for boxes).
        plo: float64[S, A, S] lower bounds (boxes only).
        pup: float64[S, A, S] upper bounds (boxes only).
        beta: float64[S, A] mitigation caps (``inf``: none; used when ``mitigate``).
        ubias: float64[S, S] closed pairwise bias bounds (used when ``project``).
        u: float64[S] values, updated in place (warm start).
        eps: Stopping accuracy.
        tau: Damping in (0, 1].
        max_iter: Sweep cap.
        region: Transition-set code.
        mitigate: Cap the optimism by ``beta``.
        project: Project every sweep onto the bias region ``ubias``.
        ptil: float64[S, A, S] output: maximising transitions of the last sweep.
        policy: int64[S] output: greedy policy of the last sweep.

    Returns:
        ``(gain_estimate, n_sweeps, n_projected)``: the midpoint of ``w - u`` at the
        last sweep, the sweeps run, and how many entries the projection lowered in
        the last sweep.
    """
    S = rtil.shape[0]
    return extended_value_iteration_into(
        phat, rtil, prad, plo, pup, beta, ubias, u, eps, tau, max_iter, region, mitigate,
        project, ptil, policy, np.empty(S), np.empty(S), np.empty(S), np.empty(S, np.int64),
        np.empty(ARGSORT_STACK, np.int64))


@njit(cache=True)
def extended_value_iteration_into(phat, rtil, prad, plo, pup, beta, ubias, u, eps, tau,
                                  max_iter, region, mitigate, project, ptil, policy, w, buf,
                                  pbuf, order, stack):
    """:func:`extended_value_iteration` with caller-owned scratch (no allocation).

    The arguments of :func:`extended_value_iteration`, then the scratch ``w``, ``buf``,
    ``pbuf`` (float64[S]), ``order`` (int64[S]) and ``stack``
    (int64[:data:`ARGSORT_STACK`]); same arithmetic and result.
    """
    S, A = rtil.shape
    gain = 0.0
    n = 0
    lowered = 0
    while n < max_iter:
        n += 1
        if region != 1:  # the KL maximisation does not use the order
            argsort_desc_into(u, order, stack)
        for s in range(S):
            best = -np.inf
            for a in range(A):
                if region == 1:
                    optimistic_kl_transition(phat[s, a], prad[s, a], u, buf)
                elif region == 2:
                    optimistic_box_transition(plo[s, a], pup[s, a], order, buf)
                else:
                    optimistic_l1_transition(phat[s, a], prad[s, a], order, buf)
                v = 0.0
                for s2 in range(S):
                    v += buf[s2] * u[s2]
                    ptil[s, a, s2] = buf[s2]
                if mitigate and beta[s, a] < np.inf:
                    vhat = 0.0
                    for s2 in range(S):
                        vhat += phat[s, a, s2] * u[s2]
                    v = min(v, vhat + beta[s, a])
                q = rtil[s, a] + v
                if q > best:
                    best = q
                    policy[s] = a
            w[s] = best
        if project:
            lowered = project_bias(w, ubias, pbuf)
        dmax = -np.inf
        dmin = np.inf
        for s in range(S):
            d = w[s] - u[s]
            dmax = max(dmax, d)
            dmin = min(dmin, d)
        gain = 0.5 * (dmax + dmin)
        umin = np.inf
        for s in range(S):
            u[s] = (1.0 - tau) * u[s] + tau * w[s]
            umin = min(umin, u[s])
        for s in range(S):
            u[s] -= umin
        if dmax - dmin < eps:
            break
    return gain, n, lowered


@njit(cache=True)
def span_bounds(S, span_bound):
    """``ubias`` of the span constraint ``sp(u) <= span_bound``: ``B`` off the diagonal, 0 on it."""
    ub = np.full((S, S), span_bound)
    for s in range(S):
        ub[s, s] = 0.0
    return ub


@njit(cache=True)
def evi_kernel(phat, rtil, prad, u, span_bound, eps, tau, max_iter, ptil, policy):
    """Extended value iteration over L1 sets with optional span clipping, warm-started at ``u``.

    :func:`extended_value_iteration` with :data:`REGION_L1`, no mitigation and, when
    ``span_bound`` is finite, the span truncation ``w <- min(w, min w + span_bound)``
    after every sweep (span-constrained EVI, as in SCAL).

    Args:
        phat: float64[S, A, S] empirical transitions (zero rows when unvisited).
        rtil: float64[S, A] optimistic rewards.
        prad: float64[S, A] L1 transition radii.
        u: float64[S] value vector, updated in place (warm start).
        span_bound: Span bound ``B`` (``inf`` for plain EVI).
        eps: Stopping accuracy.
        tau: Damping in (0, 1].
        max_iter: Sweep cap.
        ptil: float64[S, A, S] output: optimistic transitions at the last sweep.
        policy: int64[S] output: greedy policy at the last sweep.

    Returns:
        ``(gain_estimate, n_sweeps)`` with the gain estimate the midpoint of ``Tu - u``.
    """
    S, A = rtil.shape
    dummy = np.zeros((1, 1, 1))
    beta = np.zeros((1, 1))
    ub = span_bounds(S, span_bound)
    gain, n, _ = extended_value_iteration(phat, rtil, prad, dummy, dummy, beta, ub, u, eps, tau,
                                          max_iter, 0, False, np.isfinite(span_bound), ptil,
                                          policy)
    return gain, n
