"""Instance sources of the SOR family: shifted 10x10 Laplacians and a 2-D heat equation.

Matrices are plain CSR triples ``(data float64[nnz], indices int64[nnz],
indptr int64[n+1])`` so the env needs no SciPy. Grid points are numbered in
natural (lexicographic) order; MATLAB's ``numgrid('S', 12)`` numbers them
column by column, which for a square grid is the same matrix up to the
transpose symmetry of the grid (identical SOR iteration counts for symmetric
right-hand-side distributions).

Sources (parameters from the authors' scripts, ``mkhodak/learning-to-relax``,
``scripts/learning.m``, ``scripts/h2d.m``, ``utils/Heat2D.m``, ``utils/truncated_normal.m``):

* shifted Laplacian: ``A_t = A + c_t I`` with A the unscaled 5-point Laplacian
  (diagonal 4, off-diagonal -1) on an ``m x m`` interior grid (m = 10),
  ``c_t = -0.15 + 0.6 Beta(0.5, 1.5)`` (``"high"`` variance) or
  ``-0.15 + 0.6 Beta(2, 6)`` (``"low"``); ``b_t ~ N(0, I_n)`` conditioned on
  ``||b_t|| <= sqrt(n)`` (rejection); ``x_0 = 0``.
* heat2d: Crank-Nicolson for ``u_t = kappa(t) Lap u + q(t, x)`` on the unit
  square with zero Dirichlet boundary, ``dx = 1/nx``, ``dt = 0.001``,
  ``kappa(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t)``, moving bump forcing; at step
  time ``t`` with ``h = t + dt/2``: ``A = I - kappa(h) dt/2 L``,
  ``b = (I + kappa(h) dt/2 L) u + dt q(h)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.envs.sor.solvers import CSR, csr_matvec
from banditlab.validation import Interval, validate_value

__all__ = [
    "VARIANCES",
    "laplacian_2d",
    "laplacian_jacobi_radius",
    "draw_shift",
    "draw_truncated_gaussian",
    "draw_shifted_laplacian_sequence",
    "draw_shifted_laplacian_sequence_python",
    "shift_young_omega",
    "HEAT_DT",
    "heat_kappa",
    "heat_bump",
    "Heat2D",
]

#: Beta parameters of the shift distribution, by variance preset.
VARIANCES = {"high": (0.5, 1.5), "low": (2.0, 6.0)}
SHIFT_LOW = -0.15
SHIFT_WIDTH = 0.6
HEAT_DT = 0.001


def laplacian_2d(m: int, scale: float = 1.0):
    """5-point Laplacian ``scale * (4 on the diagonal, -1 off)`` on an ``m x m`` interior grid.

    Args:
        m: Interior points per side (n = m^2).
        scale: Multiplier (``1/dx^2`` gives the PDE operator ``-Lap``).

    Returns:
        :class:`~banditlab.envs.sor.solvers.CSR` ``(data float64[nnz], indices int64[nnz],
        indptr int64[m^2 + 1])``, rows in natural order, columns sorted within rows.
    """
    m = validate_value("m", m, Interval("int", 1))
    data, indices, indptr = [], [], [0]
    for i in range(m):
        for j in range(m):
            row = i * m + j
            for col, val in (
                (row - m, -1.0) if i > 0 else (None, 0.0),
                (row - 1, -1.0) if j > 0 else (None, 0.0),
                (row, 4.0),
                (row + 1, -1.0) if j < m - 1 else (None, 0.0),
                (row + m, -1.0) if i < m - 1 else (None, 0.0),
            ):
                if col is not None:
                    indices.append(col)
                    data.append(val * scale)
            indptr.append(len(indices))
    return CSR(np.asarray(data, np.float64), np.asarray(indices, np.int64),
               np.asarray(indptr, np.int64))


def laplacian_jacobi_radius(m: int) -> float:
    """Jacobi spectral radius of the unshifted ``m x m`` Laplacian: ``cos(pi / (m + 1))``."""
    return float(np.cos(np.pi / (m + 1)))


def shift_young_omega(shift, m: int = 10):
    """Young's omega of ``A + c I`` for the ``m x m`` Laplacian, vectorised over ``c``.

    ``beta(c) = 4 cos(pi/(m+1)) / (4 + c)`` (exact algebra: the Jacobi matrix of a
    constant-diagonal matrix scales with the inverse diagonal) and
    ``w* = 2 / (1 + sqrt(1 - beta^2))``.
    """
    c = np.asarray(shift, dtype=np.float64)
    beta = 4.0 * laplacian_jacobi_radius(m) / (4.0 + c)
    return 2.0 / (1.0 + np.sqrt(1.0 - beta * beta))


def draw_shift(rng: np.random.Generator, variance: str) -> float:
    """One shift ``c = -0.15 + 0.6 Beta(a, b)`` (one ``beta`` draw)."""
    a, b = VARIANCES[variance]
    return SHIFT_LOW + SHIFT_WIDTH * float(rng.beta(a, b))


def draw_truncated_gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    """``N(0, I_n)`` conditioned on ``||b|| <= sqrt(n)``, by rejection (``truncated_normal.m``)."""
    while True:
        b = rng.standard_normal(n)
        if float(b @ b) <= n:
            return b


#: Half-width of the band around ``||b||^2 = n`` inside which the compiled draw defers to the
#: Python one (whose ``b @ b`` is a BLAS dot product, summed in another order).
_NORM_BAND = 1e-9


@njit(cache=True)
def _draw_sequence_into(rng, a, b, shifts, rhs):
    """Compiled :func:`draw_shifted_laplacian_sequence`: the same draws, scalar by scalar.

    ``rng.beta`` and ``rng.standard_normal`` of a NumPy ``Generator`` in Numba consume the
    stream exactly as NumPy does (a size-``n`` normal draw is ``n`` scalar draws). The
    acceptance test sums ``b_i^2`` in index order; NumPy's ``b @ b`` may sum in another
    order, which can only change the decision when ``||b||^2`` lies within rounding of
    ``n``: then this returns ``False`` at once and the caller redraws in Python.
    Allocates nothing.

    Returns:
        ``True`` when every instance was drawn (``shifts``, ``rhs`` filled).
    """
    n = rhs.shape[1]
    for t in range(shifts.shape[0]):
        shifts[t] = SHIFT_LOW + SHIFT_WIDTH * rng.beta(a, b)
        while True:
            s = 0.0
            for i in range(n):
                v = rng.standard_normal()
                rhs[t, i] = v
                s += v * v
            if abs(s - n) <= _NORM_BAND * n:
                return False
            if s <= n:
                break
    return True


def draw_shifted_laplacian_sequence(rng: np.random.Generator, horizon: int, variance: str,
                                    m: int = 10):
    """The whole instance sequence, drawn instance by instance (shift, then RHS).

    Drawing per instance makes the first ``t`` instances independent of the
    horizon. Compiled (:func:`_draw_sequence_into`); a norm within rounding of the
    truncation radius makes it restart from the same generator state and draw in Python
    (:func:`draw_shift`, :func:`draw_truncated_gaussian`), so the result is always that of
    the Python draws.

    Returns:
        ``(shifts float64[T], rhs float64[T, m^2])``.
    """
    n = m * m
    shifts = np.empty(horizon)
    rhs = np.empty((horizon, n))
    start = rng.bit_generator.state
    if _draw_sequence_into(rng, *VARIANCES[variance], shifts, rhs):
        return shifts, rhs
    rng.bit_generator.state = start
    return draw_shifted_laplacian_sequence_python(rng, horizon, variance, m)


def draw_shifted_laplacian_sequence_python(rng: np.random.Generator, horizon: int,
                                           variance: str, m: int = 10):
    """:func:`draw_shifted_laplacian_sequence` in plain Python (the reference)."""
    n = m * m
    shifts = np.empty(horizon)
    rhs = np.empty((horizon, n))
    for t in range(horizon):
        shifts[t] = draw_shift(rng, variance)
        rhs[t] = draw_truncated_gaussian(rng, n)
    return shifts, rhs


def heat_kappa(t):
    """Diffusion coefficient ``kappa(t) = max(0.1 sin 2 pi t, -10 sin 2 pi t)`` (vectorised)."""
    s = np.sin(2.0 * np.pi * np.asarray(t, dtype=np.float64))
    return np.maximum(0.1 * s, -10.0 * s)


def heat_bump(x, y, cx, cy, r):
    """``exp(1 - 1/(1 - min(1, |p - c|^2 / r^2)))``: 1 at the centre, 0 outside radius ``r``."""
    d2 = np.minimum(1.0, ((x - cx) ** 2 + (y - cy) ** 2) / (r * r))
    with np.errstate(divide="ignore"):
        out = np.exp(1.0 - 1.0 / (1.0 - d2))
    return np.where(d2 >= 1.0, 0.0, out)


class Heat2D:
    """Crank-Nicolson discretisation of the 2-D heat equation of SOR-E3 (deterministic).

    Args:
        nx: Grid intervals per side; the unknowns are the ``(nx-1)^2`` interior points.
        dt: Time step (default 0.001).

    Attributes:
        n: Number of unknowns.
        lap: CSR of ``-L`` where ``L`` is the 5-point Laplacian ``(-4, +1)/dx^2``
            (so ``lap`` has diagonal ``4/dx^2``).
        xs, ys: float64[n] coordinates of the unknowns.
        u0: float64[n] initial condition ``bump(x; (1/2, 1/2), 1/4)``.
    """

    def __init__(self, nx: int, dt: float = HEAT_DT):
        self.nx = int(nx)
        self.dt = float(dt)
        m = self.nx - 1
        self.n = m * m
        self.dx = 1.0 / self.nx
        self.lap = laplacian_2d(m, 1.0 / self.dx**2)
        g = np.arange(1, m + 1) * self.dx
        yy, xx = np.meshgrid(g, g, indexing="ij")
        self.xs = xx.ravel()
        self.ys = yy.ravel()
        self.u0 = heat_bump(self.xs, self.ys, 0.5, 0.5, 0.25)
        self._diag_mask = self.lap.indices == np.repeat(np.arange(self.n), np.diff(self.lap.indptr))

    def forcing(self, t: float) -> np.ndarray:
        """``q(t, x) = 32 bump(x; (1/2 + cos(16 pi t)/4, 1/2 + sin(16 pi t)/4), 1/8)``."""
        cx = 0.5 + np.cos(16.0 * np.pi * t) / 4.0
        cy = 0.5 + np.sin(16.0 * np.pi * t) / 4.0
        return 32.0 * heat_bump(self.xs, self.ys, cx, cy, 0.125)

    def system(self, step: int, u: np.ndarray):
        """The Crank-Nicolson system of step ``step`` (from 0) at state ``u``.

        Returns:
            ``(data float64[nnz], b float64[n], kappa_mid float)`` with ``A`` sharing
            ``lap``'s ``indices``/``indptr``.
        """
        t = step * self.dt
        h = t + self.dt / 2.0
        k = float(heat_kappa(h))
        half = 0.5 * k * self.dt
        ldata, lind, lptr = self.lap
        # A = I + half * (-L) ; B = I - half * (-L).
        a_data = half * ldata + self._diag_mask
        lu = np.empty(self.n)
        csr_matvec(ldata, lind, lptr, u, 0.0, lu)
        b = u - half * lu + self.dt * self.forcing(h)
        return a_data, b, k

    def young_omega(self, kappa_mid: float) -> float:
        """Young's omega of ``A = I - kappa dt/2 L`` in closed form.

        With ``g = kappa dt / dx^2``: diagonal ``1 + 2 g``, off-diagonal ``-g/2``,
        Jacobi radius ``beta = 2 g cos(pi/nx) / (1 + 2 g)``.
        """
        g = kappa_mid * self.dt / self.dx**2
        beta = 2.0 * g * np.cos(np.pi / self.nx) / (1.0 + 2.0 * g)
        return float(2.0 / (1.0 + np.sqrt(1.0 - beta * beta)))

    def context(self, step: int) -> float:
        """The learner's context: ``kappa`` at the *start* of the step."""
        return float(heat_kappa(step * self.dt))
