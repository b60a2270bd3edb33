"""Numba solvers of the SOR family: SOR, SSOR-preconditioned CG, Young's optimal omega.

Every kernel works on a symmetric matrix in CSR form ``(data, indices, indptr)``
(``float64[nnz]``, ``int64[nnz]``, ``int64[n+1]``) plus an optional diagonal
``shift``: the system solved is ``(A + shift * I) x = b``. The shift lets the
shifted-Laplacian sequence reuse one CSR matrix for every instance. Column
indices inside a row need not be sorted; the diagonal entry must be stored
(explicitly, possibly as 0 before the shift).

Stopping rules (they differ on purpose, as in the authors' code,
``mkhodak/learning-to-relax``, ``solvers/sor.m`` and MATLAB ``pcg``):

* :func:`sor_solve`: stop at the first sweep ``k >= 1`` with
  ``||b - A x_k||_2 / ||b - A x_0||_2 < tol``; the cost is ``k`` (counted from 1),
  capped at ``maxiter``. If ``x_0`` is already exact (``r_0 = 0``) the cost is 0.
* :func:`ssor_pcg_solve`: stop at the first iteration ``k >= 0`` with
  ``||r_k||_2 <= tol * ||b||_2`` (relative to ``b``, not ``r_0``), where ``r_k`` is
  the recursively updated residual; a warm start that already meets the
  tolerance costs 0 iterations. MATLAB's ``pcg`` additionally re-checks the true
  residual when the recursive one converges; counts can therefore differ by
  about one iteration from MATLAB (documented, not replicated).

SSOR preconditioner: with ``A = D + L + L^T`` (``L`` strictly lower),
``M = (D + w L^T) D^-1 (D + w L) / (w (2 - w))``. Ordering ``"upper_first"``
(the authors' ``ssor_pcg.m``: factors ``M1 = (D + w L)^T D^-1``,
``M2 = (D + w L) / (w(2-w))``, MATLAB applies ``M1^-1`` first) solves with the
upper factor then the lower one; ``"lower_first"`` is the textbook
``(D + w L) D^-1 (D + w L^T)`` variant (solves lower then upper). Iteration
counts of the two variants may differ by about one.

References:
    Young, "Iterative methods for solving partial difference equations of
    elliptic type" (1950); Hackbusch, "Iterative Solution of Large Sparse
    Systems of Equations" (2016); Khodak, Chow, Balcan, Talwalkar, "Learning to
    Relax" (ICLR 2024).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from banditlab.errors import BanditlabError
from banditlab.validation import Interval, Options, validate_params

__all__ = [
    "csr_matvec",
    "residual_norm",
    "sor_sweep",
    "sor_solve",
    "sor_solve_stencil",
    "ssor_pcg_solve",
    "cg_solve",
    "direct_solve",
    "young_omega",
    "jacobi_spectral_radius",
    "sor_cost_table",
    "sor_cost_table_into",
    "sor_cost_table_chunk",
    "TABLE_SCRATCH_ROWS",
    "SSOR_ORDERS",
    "ORDER_CODE",
    "OMEGA",
    "TOL",
    "MAXITER",
    "CSR",
    "as_csr",
    "sor",
    "ssor_pcg",
]

SSOR_ORDERS = ("upper_first", "lower_first")
#: Integer code of each SSOR factor order passed to the kernels ("none" means no
#: preconditioner).
ORDER_CODE = {"upper_first": 0, "lower_first": 1, "none": 2}

#: SOR/SSOR relaxation parameter: the open interval (0, 2).
OMEGA = Interval("real", 0.0, 2.0, closed="neither")
#: Relative tolerance: the open interval (0, 1).
TOL = Interval("real", 0.0, 1.0, closed="neither")
#: Iteration cap: an integer >= 1.
MAXITER = Interval("int", 1)


class CSR(NamedTuple):
    """A square matrix in compressed sparse row form (what every kernel here takes).

    Attributes:
        data: float64[nnz] values.
        indices: int64[nnz] column indices.
        indptr: int64[n + 1] row pointers.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray


@njit(cache=True)
def _diagonal_into(data, indices, indptr, shift, d):
    """Write the diagonal of ``A + shift I`` into ``d`` (float64[n])."""
    n = indptr.shape[0] - 1
    for i in range(n):
        d[i] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if indices[k] == i:
                d[i] += data[k]
        d[i] += shift


@njit(cache=True)
def _diagonal(data, indices, indptr, shift):
    """Diagonal of ``A + shift I`` as float64[n]."""
    d = np.zeros(indptr.shape[0] - 1)
    _diagonal_into(data, indices, indptr, shift, d)
    return d


@njit(cache=True)
def csr_matvec(data, indices, indptr, x, shift, out):
    """``out = (A + shift I) x`` (float64[n], written in place)."""
    n = indptr.shape[0] - 1
    for i in range(n):
        s = shift * x[i]
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        out[i] = s


@njit(cache=True)
def residual_norm(data, indices, indptr, x, b, shift):
    """``||b - (A + shift I) x||_2``."""
    n = indptr.shape[0] - 1
    acc = 0.0
    for i in range(n):
        s = shift * x[i]
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        r = b[i] - s
        acc += r * r
    return np.sqrt(acc)


@njit(cache=True)
def sor_sweep(data, indices, indptr, diag, x, b, omega, shift):
    """One forward SOR sweep in place: ``x_i <- (1-w) x_i + w (b_i - sum_{j!=i} a_ij x_j) / a_ii``.

    Uses updated values for ``j < i`` (Gauss-Seidel order). ``diag`` is the
    diagonal of ``A + shift I`` (float64[n]).
    """
    n = indptr.shape[0] - 1
    for i in range(n):
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j != i:
                s -= data[k] * x[j]
        x[i] = (1.0 - omega) * x[i] + omega * s / diag[i]


@njit(cache=True)
def sor_solve(data, indices, indptr, b, x0, omega, tol, maxiter, shift):
    """Solve ``(A + shift I) x = b`` with forward SOR from ``x0``.

    Stopping rule: first sweep ``k >= 1`` with ``||r_k|| / ||r_0|| < tol``;
    0 sweeps when ``r_0 = 0``.

    Args:
        data: float64[nnz] CSR values of A.
        indices: int64[nnz] column indices.
        indptr: int64[n+1] row pointers.
        b: float64[n] right-hand side.
        x0: float64[n] start (not modified).
        omega: Relaxation parameter in (0, 2).
        tol: Relative tolerance (> 0).
        maxiter: Sweep cap (>= 1).
        shift: Diagonal shift added to A.

    Returns:
        ``(x float64[n], iterations int64, converged bool)``; ``iterations ==
        maxiter`` and ``converged == False`` when the cap is hit.
    """
    diag = _diagonal(data, indices, indptr, shift)
    x = x0.copy()
    k, converged = _sor_into(data, indices, indptr, b, x, omega, tol, maxiter, shift, diag)
    return x, k, converged


@njit(cache=True)
def _sor_into(data, indices, indptr, b, x, omega, tol, maxiter, shift, diag):
    """:func:`sor_solve` in place: ``x`` holds ``x0`` on entry and the iterate on exit.

    ``diag`` is the diagonal of ``A + shift I``. Allocates nothing.

    Returns:
        ``(iterations int64, converged bool)``.
    """
    r0 = residual_norm(data, indices, indptr, x, b, shift)
    if r0 == 0.0:
        return np.int64(0), True
    for k in range(1, maxiter + 1):
        sor_sweep(data, indices, indptr, diag, x, b, omega, shift)
        r = residual_norm(data, indices, indptr, x, b, shift)
        if r / r0 < tol:
            return np.int64(k), True
    return np.int64(maxiter), False


@njit(cache=True)
def _stencil_row_residual(m, x, b, shift, row):
    """``b_row - ((A_m + shift I) x)_row``, summed in the CSR column order of ``laplacian_2d``."""
    i = row // m
    j = row - i * m
    s = shift * x[row]
    if i > 0:
        s += -1.0 * x[row - m]
    if j > 0:
        s += -1.0 * x[row - 1]
    s += 4.0 * x[row]
    if j < m - 1:
        s += -1.0 * x[row + 1]
    if i < m - 1:
        s += -1.0 * x[row + m]
    return b[row] - s


@njit(cache=True)
def sor_solve_stencil(m, b, x0, omega, tol, maxiter, shift):
    """:func:`sor_solve` specialised to ``A = laplacian_2d(m) + shift I`` (diagonal ``4 + shift``).

    Same arithmetic, in the same order, as the CSR kernel on that matrix (so the
    same iterates and iteration counts), without index arrays. The residual of
    row ``r`` is computed during the sweep as soon as row ``r + m`` (its last
    neighbour) is updated, so a sweep and its residual check take one pass.

    Returns:
        ``(x float64[m^2], iterations int64, converged bool)``.
    """
    x = x0.copy()
    k, converged = _sor_stencil_into(m, b, x, omega, tol, maxiter, shift)
    return x, k, converged


@njit(cache=True)
def _sor_stencil_into(m, b, x, omega, tol, maxiter, shift):
    """:func:`sor_solve_stencil` in place: ``x`` holds ``x0`` on entry, the iterate on exit.

    Allocates nothing.

    Returns:
        ``(iterations int64, converged bool)``.
    """
    n = m * m
    r0sq = 0.0
    for row in range(n):
        r = _stencil_row_residual(m, x, b, shift, row)
        r0sq += r * r
    if r0sq == 0.0:
        return np.int64(0), True
    r0 = np.sqrt(r0sq)
    dg = 4.0 + shift
    for k in range(1, maxiter + 1):
        acc = 0.0
        for i in range(m):
            for j in range(m):
                row = i * m + j
                s = b[row]
                if i > 0:
                    s -= -1.0 * x[row - m]
                if j > 0:
                    s -= -1.0 * x[row - 1]
                if j < m - 1:
                    s -= -1.0 * x[row + 1]
                if i < m - 1:
                    s -= -1.0 * x[row + m]
                x[row] = (1.0 - omega) * x[row] + omega * s / dg
                if i > 0:  # row - m = (i - 1, j) now has every neighbour updated
                    q = row - m
                    t = shift * x[q]
                    if i > 1:
                        t += -1.0 * x[q - m]
                    if j > 0:
                        t += -1.0 * x[q - 1]
                    t += 4.0 * x[q]
                    if j < m - 1:
                        t += -1.0 * x[q + 1]
                    t += -1.0 * x[row]
                    r = b[q] - t
                    acc += r * r
        for row in range(n - m, n):
            r = _stencil_row_residual(m, x, b, shift, row)
            acc += r * r
        if np.sqrt(acc) / r0 < tol:
            return np.int64(k), True
    return np.int64(maxiter), False


@njit(cache=True)
def _ssor_apply(data, indices, indptr, diag, omega, order, r, tmp, z):
    """``z = M^-1 r`` for the SSOR preconditioner (``order``: 0 upper first, 1 lower first, 2 none).

    With ``M = U' D^-1 L' / (w(2-w))`` where ``L' = D + w L`` and ``U' = L'^T``:
    order 0 means ``M = U' D^-1 L'`` scaled, so ``z = w(2-w) L'^-1 D U'^-1 r``
    (upper solve first); order 1 uses ``M = L' D^-1 U'`` scaled, so
    ``z = w(2-w) U'^-1 D L'^-1 r`` (lower solve first).
    """
    n = indptr.shape[0] - 1
    if order == 2:
        for i in range(n):
            z[i] = r[i]
        return
    scale = omega * (2.0 - omega)
    if order == 0:
        # Backward solve (D + w L^T) tmp = r (upper triangle = entries with j > i).
        for i in range(n - 1, -1, -1):
            s = r[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j > i:
                    s -= omega * data[k] * tmp[j]
            tmp[i] = s / diag[i]
        for i in range(n):
            tmp[i] *= diag[i]
        # Forward solve (D + w L) z = tmp.
        for i in range(n):
            s = tmp[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j < i:
                    s -= omega * data[k] * z[j]
            z[i] = s / diag[i]
    else:
        for i in range(n):
            s = r[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j < i:
                    s -= omega * data[k] * tmp[j]
            tmp[i] = s / diag[i]
        for i in range(n):
            tmp[i] *= diag[i]
        for i in range(n - 1, -1, -1):
            s = tmp[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j > i:
                    s -= omega * data[k] * z[j]
            z[i] = s / diag[i]
    for i in range(n):
        z[i] *= scale


@njit(cache=True)
def _pcg(data, indices, indptr, b, x0, omega, tol, maxiter, shift, order):
    n = indptr.shape[0] - 1
    diag = _diagonal(data, indices, indptr, shift)
    x = x0.copy()
    k, converged = _pcg_into(data, indices, indptr, b, x, omega, tol, maxiter, shift, order,
                             diag, np.empty(n), np.empty(n), np.empty(n), np.zeros(n),
                             np.empty(n))
    return x, k, converged


@njit(cache=True)
def _pcg_into(data, indices, indptr, b, x, omega, tol, maxiter, shift, order, diag, r, z,
              tmp, p, q):
    """:func:`ssor_pcg_solve` in place: ``x`` holds ``x0`` on entry, the iterate on exit.

    ``diag`` is the diagonal of ``A + shift I``; ``r``, ``z``, ``tmp``, ``p``, ``q`` are
    float64[n] work buffers. Allocates nothing. ``b = 0`` sets ``x = 0``.

    Returns:
        ``(iterations int64, converged bool)``.
    """
    n = indptr.shape[0] - 1
    csr_matvec(data, indices, indptr, x, shift, r)
    for i in range(n):
        r[i] = b[i] - r[i]
    nb = np.sqrt(np.dot(b, b))
    if nb == 0.0:
        for i in range(n):
            x[i] = 0.0
        return np.int64(0), True
    thresh = tol * nb
    if np.sqrt(np.dot(r, r)) <= thresh:
        return np.int64(0), True
    rho_old = 1.0
    for k in range(1, maxiter + 1):
        _ssor_apply(data, indices, indptr, diag, omega, order, r, tmp, z)
        rho = np.dot(r, z)
        if k == 1:
            for i in range(n):
                p[i] = z[i]
        else:
            beta = rho / rho_old
            for i in range(n):
                p[i] = z[i] + beta * p[i]
        csr_matvec(data, indices, indptr, p, shift, q)
        pq = np.dot(p, q)
        if pq <= 0.0 or not np.isfinite(pq):
            return np.int64(maxiter), False  # breakdown: not SPD (checked in Python first)
        alpha = rho / pq
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
        rho_old = rho
        if np.sqrt(np.dot(r, r)) <= thresh:
            return np.int64(k), True
    return np.int64(maxiter), False


@njit(cache=True)
def ssor_pcg_solve(data, indices, indptr, b, x0, omega, tol, maxiter, shift, order):
    """Solve ``(A + shift I) x = b`` by CG preconditioned with SSOR(omega), warm-started.

    Stopping rule: first ``k >= 0`` with ``||r_k|| <= tol ||b||``; ``b = 0`` returns
    ``x = 0`` after 0 iterations (MATLAB ``pcg`` convention).

    Args:
        data: float64[nnz] CSR values of an SPD matrix.
        indices: int64[nnz] column indices.
        indptr: int64[n+1] row pointers.
        b: float64[n] right-hand side.
        x0: float64[n] warm start (not modified).
        omega: SSOR parameter in (0, 2).
        tol: Relative tolerance (> 0).
        maxiter: Iteration cap.
        shift: Diagonal shift.
        order: int, 0 = ``"upper_first"`` (authors' code), 1 = ``"lower_first"``.

    Returns:
        ``(x float64[n], iterations int64, converged bool)``.
    """
    return _pcg(data, indices, indptr, b, x0, omega, tol, maxiter, shift, order)


@njit(cache=True)
def cg_solve(data, indices, indptr, b, x0, tol, maxiter, shift):
    """Unpreconditioned CG with the stopping rule of :func:`ssor_pcg_solve` ("vanilla CG")."""
    return _pcg(data, indices, indptr, b, x0, 1.0, tol, maxiter, shift, 2)


@njit(cache=True)
def young_omega(beta):
    """Young's asymptotically optimal SOR parameter ``2 / (1 + sqrt(1 - beta^2))``.

    ``beta`` is the Jacobi spectral radius ``rho(I - D^-1 A)`` (in [0, 1) for
    consistently ordered SPD matrices).
    """
    if beta >= 1.0:
        return 2.0
    return 2.0 / (1.0 + np.sqrt(1.0 - beta * beta))


@njit(cache=True)
def jacobi_spectral_radius(data, indices, indptr, shift, n_iter, rng_vec):
    """``rho(I - D^-1 (A + shift I))`` by power iteration on the symmetrised Jacobi matrix.

    Iterates ``J_s = D^-1/2 (D - A) D^-1/2`` (same spectrum as the Jacobi matrix)
    and estimates ``rho`` as ``sqrt(||J_s^2 v|| / ||v||)``, which converges even
    when ``+rho`` and ``-rho`` are both eigenvalues (bipartite graphs, e.g. the
    5-point Laplacian).

    Args:
        data, indices, indptr: CSR of A.
        shift: Diagonal shift.
        n_iter: Number of double steps.
        rng_vec: float64[n] start vector (caller-provided, not modified).
    """
    n = indptr.shape[0] - 1
    diag = _diagonal(data, indices, indptr, shift)
    sq = np.sqrt(diag)
    v = rng_vec / np.sqrt(np.dot(rng_vec, rng_vec))
    w = np.empty(n)
    est = 0.0
    for _ in range(n_iter):
        for _half in range(2):
            for i in range(n):
                s = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    j = indices[k]
                    if j != i:
                        s -= data[k] * v[j] / sq[j]
                w[i] = s / sq[i]
            v, w = w, v
        nv = np.sqrt(np.dot(v, v))
        if nv == 0.0:
            return 0.0
        est = np.sqrt(nv)
        v = v / nv
    return est


@njit(cache=True, parallel=True)
def sor_cost_table(data, indices, indptr, shifts, rhs, omegas, tol, maxiter, method=0, order=0):
    """Iteration counts for every (instance, omega) pair, from ``x0 = 0``, in parallel.

    Args:
        data, indices, indptr: CSR of the base matrix A.
        shifts: float64[T] diagonal shifts c_t (instance t is ``A + c_t I``).
        rhs: float64[T, n] right-hand sides.
        omegas: float64[T, d] the omegas to try for each instance (e.g. the
            grid repeated, plus Young's omega per row).
        tol: Relative tolerance.
        maxiter: Iteration cap.
        method: 0 = SOR (:func:`sor_solve`), 1 = SSOR-PCG (:func:`ssor_pcg_solve`),
            2 = SOR on the unscaled 5-point Laplacian stencil (:func:`sor_solve_stencil`;
            the CSR arrays must be ``laplacian_2d(m)``, ``m = sqrt(n)``).
        order: SSOR factor order for ``method=1`` (0 upper first, 1 lower first).

    Returns:
        ``(iterations int64[T, d], converged bool[T, d])``.
    """
    t_count = shifts.shape[0]
    d = omegas.shape[1]
    n = indptr.shape[0] - 1
    m = int(np.round(np.sqrt(n)))
    iters = np.zeros((t_count, d), np.int64)
    conv = np.zeros((t_count, d), np.bool_)
    for job in prange(t_count * d):
        t = job // d
        j = job - t * d
        x0 = np.zeros(n)
        if method == 2:
            _, k, c = sor_solve_stencil(m, rhs[t], x0, omegas[t, j], tol, maxiter, shifts[t])
        elif method == 0:
            _, k, c = sor_solve(data, indices, indptr, rhs[t], x0, omegas[t, j], tol, maxiter,
                                shifts[t])
        else:
            _, k, c = _pcg(data, indices, indptr, rhs[t], x0, omegas[t, j], tol, maxiter,
                           shifts[t], order)
        iters[t, j] = k
        conv[t, j] = c
    return iters, conv


#: Rows of the work buffer of one chunk of :func:`sor_cost_table_into`.
TABLE_SCRATCH_ROWS = 7


@njit(cache=True, nogil=True)
def sor_cost_table_chunk(data, indices, indptr, shifts, rhs, omegas, tol, maxiter, method,
                         order, iters, conv, buf, chunk, chunks):
    """Solves ``chunk, chunk + chunks, ...`` of the ``T x d`` table, in place in ``buf``.

    The solve of job ``i`` (instance ``i // d``, omega ``i mod d``) is that of
    :func:`sor_cost_table` (the same kernels, the same operations), so the counts are
    identical. Allocates nothing and releases the GIL (:func:`sor_cost_table_into` runs
    chunks in threads).

    Args:
        data, indices, indptr: CSR of the base matrix A (``laplacian_2d(m)`` for
            ``method=2``).
        shifts: float64[T] diagonal shifts.
        rhs: float64[T, n] right-hand sides.
        omegas: float64[T, d] the omegas of each instance.
        tol: Relative tolerance.
        maxiter: Iteration cap.
        method: As :func:`sor_cost_table` (0 SOR, 1 SSOR-PCG, 2 SOR stencil).
        order: SSOR factor order for ``method=1`` (2: no preconditioner, i.e. CG).
        iters: int64[T, d] output.
        conv: bool[T, d] output.
        buf: float64[:data:`TABLE_SCRATCH_ROWS`, n] work buffer of this chunk.
        chunk: Index of this chunk.
        chunks: Number of chunks.
    """
    d = omegas.shape[1]
    n = indptr.shape[0] - 1
    m = int(np.round(np.sqrt(n)))
    n_jobs = shifts.shape[0] * d
    x = buf[0]
    diag = buf[1]
    for job in range(chunk, n_jobs, chunks):
        t = job // d
        j = job - t * d
        for i in range(n):
            x[i] = 0.0
        if method == 2:
            k, cv = _sor_stencil_into(m, rhs[t], x, omegas[t, j], tol, maxiter, shifts[t])
        elif method == 0:
            _diagonal_into(data, indices, indptr, shifts[t], diag)
            k, cv = _sor_into(data, indices, indptr, rhs[t], x, omegas[t, j], tol, maxiter,
                              shifts[t], diag)
        else:
            _diagonal_into(data, indices, indptr, shifts[t], diag)
            k, cv = _pcg_into(data, indices, indptr, rhs[t], x, omegas[t, j], tol, maxiter,
                              shifts[t], order, diag, buf[2], buf[3], buf[4], buf[5], buf[6])
        iters[t, j] = k
        conv[t, j] = cv


def sor_cost_table_into(data, indices, indptr, shifts, rhs, omegas, tol, maxiter, method, order,
                        iters, conv, threads=None):
    """:func:`sor_cost_table` into caller-owned ``iters``/``conv``, in threads.

    The jobs are split into one strided chunk per thread (:func:`sor_cost_table_chunk`,
    which releases the GIL); the work buffers are allocated here, by NumPy, so compiled
    code allocates nothing whatever ``T``. Every call makes the same number of compiled
    calls, ``threads``, even with no job (``T = 0``): their argument unboxing is what
    Numba's allocation statistics count, and the fused-loop allocation counts of
    :mod:`banditlab.testing.allocations` compare runs of two lengths whose resets build
    tables of two sizes, partly or wholly from the disk cache.

    Args:
        data, indices, indptr, shifts, rhs, omegas, tol, maxiter, method, order: As
            :func:`sor_cost_table_chunk`.
        iters: int64[T, d] output.
        conv: bool[T, d] output.
        threads: Number of threads (default Numba's thread count).
    """
    import numba

    n_jobs = shifts.shape[0] * omegas.shape[1]
    chunks = max(1, int(threads or numba.get_num_threads()))
    scratch = np.empty((chunks, TABLE_SCRATCH_ROWS, indptr.shape[0] - 1))
    args = (data, indices, indptr, shifts, rhs, omegas, float(tol), int(maxiter), int(method),
            int(order), iters, conv)
    if chunks == 1 or n_jobs == 0:
        for c in range(chunks):
            sor_cost_table_chunk(*args, scratch[c], c, chunks)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=chunks) as pool:
        futures = [pool.submit(sor_cost_table_chunk, *args, scratch[c], c, chunks)
                   for c in range(chunks)]
        for f in futures:
            f.result()


def direct_solve(data, indices, indptr, b, shift=0.0):
    r"""Sparse direct solve of ``(A + shift I) x = b`` (SciPy's SuperLU, ``spsolve``).

    The wall-clock baseline of the heat experiment (the authors time MATLAB's ``A\b``,
    a sparse Cholesky for SPD matrices; SuperLU is SciPy's general sparse LU, so absolute
    times differ). Not a Numba kernel: the factorisation is SciPy's compiled code.

    Returns:
        ``(x float64[n], 0, True)``: the solution, zero iterations, converged.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    n = indptr.shape[0] - 1
    a = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    if shift != 0.0:
        a = a + shift * sp.identity(n, format="csr")
    return np.asarray(spsolve(a.tocsc(), b), dtype=np.float64), 0, True


# --------------------------------------------------------------------------- Python API
def as_csr(a, *, require_spd: bool = True, spd_check_max_n: int = 2000):
    """Validate a square symmetric (optionally SPD) matrix and return its CSR arrays.

    Args:
        a: A dense 2-D array, a SciPy sparse matrix/array, or a CSR triple
            ``(data, indices, indptr)``.
        require_spd: Check symmetry, a positive diagonal and (for ``n <=
            spd_check_max_n``) positive definiteness by a dense Cholesky factorisation.
            Larger matrices are checked for symmetry and positive diagonal only.
        spd_check_max_n: Size limit of the dense Cholesky check.

    Returns:
        :class:`CSR` ``(data float64[nnz], indices int64[nnz], indptr int64[n+1])`` with
        every diagonal entry stored.

    Raises:
        BanditlabError: On a non-square, non-finite, non-symmetric or non-SPD matrix.
    """
    import scipy.sparse as sp

    if isinstance(a, tuple) and len(a) == 3:
        data, indices, indptr = (np.asarray(v) for v in a)
        n = indptr.shape[0] - 1
        mat = sp.csr_matrix((data.astype(np.float64), indices, indptr), shape=(n, n))
    elif sp.issparse(a):
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise BanditlabError(f"A: expected a square matrix, got shape {a.shape}")
        mat = sp.csr_matrix(a, dtype=np.float64)
    else:
        arr = np.asarray(a, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise BanditlabError(f"A: expected a square matrix, got shape {arr.shape}")
        mat = sp.csr_matrix(arr)
    n = mat.shape[0]
    if n < 1:
        raise BanditlabError("A: expected a non-empty square matrix")
    if not np.all(np.isfinite(mat.data)):
        raise BanditlabError("A: every entry must be finite")
    mat = (mat + sp.csr_matrix((np.zeros(n), (np.arange(n), np.arange(n))), shape=(n, n))).tocsr()
    mat.sort_indices()
    diag = mat.diagonal()
    if require_spd:
        asym = abs(mat - mat.T).max() if mat.nnz else 0.0
        if asym > 1e-12 * max(1.0, abs(mat).max()):
            raise BanditlabError("A: must be symmetric positive definite (it is not symmetric)")
        if np.any(diag <= 0.0):
            raise BanditlabError(
                "A: must be symmetric positive definite (a diagonal entry is <= 0)"
            )
        if n <= spd_check_max_n:
            try:
                np.linalg.cholesky(mat.toarray())
            except np.linalg.LinAlgError:
                raise BanditlabError(
                    "A: must be symmetric positive definite (Cholesky failed)"
                ) from None
    elif np.any(diag == 0.0):
        raise BanditlabError("A: SOR needs a non-zero diagonal")
    return CSR(mat.data.astype(np.float64), mat.indices.astype(np.int64),
               mat.indptr.astype(np.int64))


_SOLVE_CONSTRAINTS = {"omega": OMEGA, "tol": TOL, "maxiter": MAXITER,
                      "order": Options(*SSOR_ORDERS)}


def _vector(v, n: int, name: str) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.shape != (n,):
        raise BanditlabError(f"{name}: expected shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BanditlabError(f"{name}: every entry must be finite")
    return np.ascontiguousarray(arr)


def sor(a, b, omega, *, tol=1e-8, maxiter=10000, x0=None, require_spd=True):
    """Validated SOR solve of ``A x = b`` (see :func:`sor_solve` for the stopping rule).

    Returns:
        ``(x, iterations, converged)``.
    """
    data, indices, indptr = as_csr(a, require_spd=require_spd)
    n = indptr.shape[0] - 1
    v = validate_params(_SOLVE_CONSTRAINTS, {"omega": omega, "tol": tol, "maxiter": maxiter})
    w, tol, maxiter = v["omega"], v["tol"], v["maxiter"]
    b = _vector(b, n, "b")
    x0 = np.zeros(n) if x0 is None else _vector(x0, n, "x0")
    x, k, c = sor_solve(data, indices, indptr, b, x0, w, tol, maxiter, 0.0)
    return x, int(k), bool(c)


def ssor_pcg(a, b, omega, *, tol=1e-8, maxiter=10000, x0=None, order="upper_first"):
    """Validated SSOR-PCG solve of an SPD system (see :func:`ssor_pcg_solve`).

    Args:
        a: SPD matrix (dense, SciPy sparse, or CSR triple).
        b: Right-hand side.
        omega: SSOR parameter in (0, 2).
        tol: Relative tolerance w.r.t. ``||b||``.
        maxiter: Iteration cap.
        x0: Warm start (default zeros).
        order: ``"upper_first"`` (authors' code) or ``"lower_first"`` (textbook).

    Returns:
        ``(x, iterations, converged)``.
    """
    data, indices, indptr = as_csr(a, require_spd=True)
    n = indptr.shape[0] - 1
    v = validate_params(_SOLVE_CONSTRAINTS,
                        {"omega": omega, "tol": tol, "maxiter": maxiter, "order": order})
    w, tol, maxiter = v["omega"], v["tol"], v["maxiter"]
    b = _vector(b, n, "b")
    x0 = np.zeros(n) if x0 is None else _vector(x0, n, "x0")
    x, k, c = ssor_pcg_solve(data, indices, indptr, b, x0, w, tol, maxiter, 0.0,
                             ORDER_CODE[order])
    return x, int(k), bool(c)
