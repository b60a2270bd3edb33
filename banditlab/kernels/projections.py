"""Projections and trust-region solves onto a Euclidean ball (generic numerics, Numba).

Every function is a module-level ``@njit(cache=True)`` kernel over float64 arrays, written
with explicit sequential loops (no BLAS/LAPACK calls, no pairwise sums), so the jitted code,
its ``.py_func`` and every compiled caller round identically. The small ones (:func:`dot`,
:func:`norm`, :func:`project_ball_inplace`) are also ``inline="always"``: per-step kernels
call them without a function call (nor the reference counting of its array arguments).

* :func:`dot`, :func:`norm`: sequential inner product and Euclidean norm.
* :func:`project_ball` / :func:`project_ball_inplace`: Euclidean projection onto
  ``{||x|| <= R}``.
* :func:`trs_dense`: ``argmin_{||x|| <= R} 0.5 x'Qx - b'x`` for a symmetric PSD ``Q`` (the
  trust-region subproblem), by safeguarded Newton steps on the secular equation for the
  Lagrange multiplier ``mu`` (More & Sorensen 1983) with a Cholesky solve of
  ``(Q + mu I) x = b`` per step. With ``Q = A`` and ``b = A y`` it is the projection
  of ``y`` onto the ball in the ``A``-norm (used by ONS).
* :func:`trs_diag`: the same for a diagonal ``Q`` (closed-form solves).

:func:`trs_dense_into` and :func:`trs_diag_into` are the allocation-free forms used by the
per-step kernels: they write the minimiser into a caller's buffer and take the scratch
arrays as arguments (same arithmetic in the same order, so the results are identical).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "dot",
    "norm",
    "project_ball",
    "project_ball_inplace",
    "trs_dense",
    "trs_dense_into",
    "trs_diag",
    "trs_diag_into",
]

_BISECT_ITERS = 200


@njit(cache=True, inline="always")
def dot(a, b):
    """Sequential inner product of two float64[d] arrays."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit(cache=True, inline="always")
def norm(a):
    """Euclidean norm of a float64[d] array (sequential sum of squares)."""
    return np.sqrt(dot(a, a))


@njit(cache=True, inline="always")
def project_ball_inplace(x, radius):
    """Scale ``x`` (float64[d]) in place onto the ball of radius ``radius`` if it lies outside."""
    nrm = norm(x)
    if nrm > radius:
        f = radius / nrm
        for i in range(x.shape[0]):
            x[i] *= f


@njit(cache=True)
def project_ball(x, radius):
    """Euclidean projection of ``x`` (float64[d]) onto ``{||x|| <= radius}``; a new array."""
    out = x.copy()
    project_ball_inplace(out, radius)
    return out


@njit(cache=True)
def _shifted_solve(q, b, mu, out, work):
    """Solve ``(Q + mu I) out = b`` by Cholesky; return False if not positive definite."""
    d = b.shape[0]
    # Cholesky factor in the lower triangle of work.
    for j in range(d):
        s = q[j, j] + mu
        for k in range(j):
            s -= work[j, k] * work[j, k]
        if not s > 0.0:
            return False
        ljj = np.sqrt(s)
        work[j, j] = ljj
        for i in range(j + 1, d):
            s2 = q[i, j]
            for k in range(j):
                s2 -= work[i, k] * work[j, k]
            work[i, j] = s2 / ljj
    for i in range(d):  # forward substitution
        s = b[i]
        for k in range(i):
            s -= work[i, k] * out[k]
        out[i] = s / work[i, i]
    for i in range(d - 1, -1, -1):  # back substitution
        s = out[i]
        for k in range(i + 1, d):
            s -= work[k, i] * out[k]
        out[i] = s / work[i, i]
    return True


@njit(cache=True)
def trs_dense(q, b, radius):
    """``argmin_{||x|| <= radius} 0.5 x'Qx - b'x`` for a symmetric PSD ``Q`` (float64[d, d]).

    Interior solution when ``Q`` is positive definite and ``||Q^{-1} b|| <= radius``;
    otherwise ``x(mu) = (Q + mu I)^{-1} b`` with ``mu > 0`` found by safeguarded Newton so that
    ``||x(mu)|| = radius``. When ``Q`` is singular and ``b`` lies in its range with a
    minimum-norm solution inside the ball (the "hard case"), ``mu`` tends to a tiny positive
    floor and the returned point is within rounding of the minimum-norm minimiser (same
    optimal value).

    Args:
        q: float64[d, d] symmetric positive semi-definite matrix.
        b: float64[d] linear term.
        radius: Ball radius (> 0).

    Returns:
        float64[d] a minimiser (a new array; :func:`trs_dense_into` writes into a buffer).
    """
    d = b.shape[0]
    x = np.zeros(d)
    trs_dense_into(q, b, radius, x, np.zeros((d, d)), np.zeros(d))
    return x


@njit(cache=True)
def trs_dense_into(q, b, radius, x, work, w):
    """:func:`trs_dense` without allocation: the minimiser is written into ``x``.

    Args:
        q: float64[d, d] symmetric positive semi-definite matrix.
        b: float64[d] linear term (not aliased with ``x``).
        radius: Ball radius (> 0).
        x: float64[d], output (overwritten).
        work: float64[d, d] scratch (the Cholesky factor of ``Q + mu I``).
        w: float64[d] scratch.
    """
    d = b.shape[0]
    for i in range(d):
        x[i] = 0.0
        w[i] = 0.0
    bn = norm(b)
    if bn == 0.0:
        return
    trace = 0.0
    for i in range(d):
        trace += q[i, i]
    mu_floor = 1e-13 * (trace / d + bn / radius)
    if _shifted_solve(q, b, 0.0, x, work) and norm(x) <= radius:
        ok = True
        for i in range(d):
            if not np.isfinite(x[i]):
                ok = False
        if ok:
            return
    # ||x(mu)|| is decreasing in mu; ||x(mu)|| <= ||b|| / mu. Newton on the secular equation
    # phi(mu) = 1/||x(mu)|| - 1/R (concave, so Newton from the left of the root stays left and
    # converges monotonically; More & Sorensen 1983), safeguarded by a bisection bracket.
    # mu* >= ||b|| / R - lambda_max(Q) >= ||b|| / R - trace(Q): start left of the root.
    lo = max(mu_floor, bn / radius - trace)
    _shifted_solve(q, b, lo, x, work)
    if norm(x) <= radius:
        return
    hi = bn / radius
    mu = lo
    for _ in range(_BISECT_ITERS):
        nx = norm(x)
        if nx > radius:
            lo = mu
        else:
            hi = mu
        if abs(nx - radius) <= 1e-14 * radius or hi - lo <= 1e-15 * hi:
            break
        # w = L^{-1} x (forward substitution with the Cholesky factor of Q + mu I)
        for i in range(d):
            s = x[i]
            for k in range(i):
                s -= work[i, k] * w[k]
            w[i] = s / work[i, i]
        step = (nx * nx / dot(w, w)) * ((nx - radius) / radius)
        mu_new = mu + step
        if not (lo < mu_new < hi):
            mu_new = 0.5 * (lo + hi)
        mu = mu_new
        _shifted_solve(q, b, mu, x, work)
    project_ball_inplace(x, radius)  # guard against rounding just above the radius


@njit(cache=True)
def trs_diag(qdiag, b, radius):
    """:func:`trs_dense` for a diagonal ``Q = diag(qdiag)`` (float64[d], entries >= 0)."""
    x = np.zeros(b.shape[0])
    trs_diag_into(qdiag, b, radius, x)
    return x


@njit(cache=True)
def trs_diag_into(qdiag, b, radius, x):
    """:func:`trs_diag` without allocation: the minimiser is written into ``x`` (float64[d]).

    ``b`` must not alias ``x``.
    """
    d = b.shape[0]
    for i in range(d):
        x[i] = 0.0
    qmax = 0.0
    for i in range(d):
        qmax = max(qmax, qdiag[i])
    tol = 1e-12 * max(qmax, 1e-300)
    inside = True
    for i in range(d):
        if qdiag[i] > tol:
            x[i] = b[i] / qdiag[i]
        elif b[i] != 0.0:
            inside = False
    if inside and norm(x) <= radius:
        return
    # Safeguarded Newton on phi(mu) = 1/||x(mu)|| - 1/R (see trs_dense), from the left.
    # mu* >= |b_i| / R - q_i for every i: a valid start left of the root (phi <= 0 there).
    bn = norm(b)
    lo = 0.0
    for i in range(d):
        lo = max(lo, abs(b[i]) / radius - max(qdiag[i], 0.0))
    hi = bn / radius + 1.0
    mu = lo
    for _ in range(_BISECT_ITERS):
        s2 = 0.0
        s3 = 0.0
        for i in range(d):
            if b[i] == 0.0:
                continue  # no contribution (also avoids 0/0 on a zero curvature)
            den = max(qdiag[i], 0.0) + mu
            v = b[i] / den
            s2 += v * v
            s3 += v * v / den
        nx = np.sqrt(s2)
        if nx > radius:
            lo = mu
        else:
            hi = mu
        if abs(nx - radius) <= 1e-14 * radius or hi - lo <= 1e-15 * hi:
            break
        mu_new = mu + (s2 / s3) * ((nx - radius) / radius)
        if not (lo < mu_new < hi):
            mu_new = 0.5 * (lo + hi)
        mu = mu_new
    for i in range(d):
        x[i] = 0.0 if b[i] == 0.0 else b[i] / (max(qdiag[i], 0.0) + mu)
    project_ball_inplace(x, radius)
