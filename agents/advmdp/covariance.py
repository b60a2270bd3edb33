"""Covariance estimators of the adversarial linear-Q MDP agents: exact, direct inverse, MGR.

Kernels on top, the estimator classes below. All three estimate, for each layer
``h``, the regularised inverse ``(gamma I + Sigma_h)^{-1}`` of the covariance
``Sigma_h = E_{(s, a) ~ q^pi_h}[phi(s, a) phi(s, a)^T]`` of the *current* policy
(on-policy: never an accumulated design matrix, which would mix the occupancies
of past policies), behind one interface :meth:`CovEstimator.inv_cov`.

* ``"exact"`` [I]: from the exact occupancy (needs ``simulator_mode="exact"``; the
  idealised infinite-sample simulator, label results "(exact-sim)").
* ``"direct"`` [I]: the inverse of ``gamma I`` plus the empirical covariance of ``M``
  fresh trajectories (believed to be what Dai et al. call a "better alternative to
  MGR"; recalled, not checked against the paper).
* ``"mgr"``: Matrix Geometric Resampling (Neu & Olkhovskaya, COLT 2020):
  ``Z_0 = I``, ``Z_m = Z_{m-1} (I - c (gamma I + phi_m phi_m^T))``, estimate
  ``c I + c sum_m Z_m``. Its mean is the truncated Neumann series
  ``sum_{j=0..M} c (I - c (gamma I + Sigma))^j`` (the recursion as in the MGR paper;
  the parameter choices are recalled, not checked against it [I]).

Shapes: ``phi`` float64[H, N, A, d], ``pi`` float64[H, N, A], results float64[H, d, d].
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.validation import Interval, Options, validate_params

__all__ = [
    "cov_from_occupancy",
    "cov_from_trajectories",
    "spd_inverse",
    "regularised_inverse",
    "mgr_estimate",
    "mgr_from_trajectories",
    "CovEstimator",
    "make_cov_estimator",
    "COV_ESTIMATORS",
]

COV_ESTIMATORS = ("exact", "direct", "mgr")


@njit(cache=True)
def cov_from_occupancy(phi, q):
    """float64[H, d, d], ``Sigma_h = sum_{s, a} q[h, s, a] phi_h(s, a) phi_h(s, a)^T``."""
    H, N, A, d = phi.shape
    out = np.zeros((H, d, d))
    for h in range(H):
        for s in range(N):
            for a in range(A):
                w = q[h, s, a]
                if w == 0.0:
                    continue
                for i in range(d):
                    fi = w * phi[h, s, a, i]
                    if fi == 0.0:
                        continue
                    for j in range(d):
                        out[h, i, j] += fi * phi[h, s, a, j]
    return out


@njit(cache=True)
def cov_from_trajectories(phi, traj):
    """float64[H, d, d], empirical covariance per layer of ``traj`` (int64[M, H, 2])."""
    H, N, A, d = phi.shape
    M = traj.shape[0]
    out = np.zeros((H, d, d))
    for m in range(M):
        for h in range(H):
            s = traj[m, h, 0]
            a = traj[m, h, 1]
            for i in range(d):
                fi = phi[h, s, a, i]
                if fi == 0.0:
                    continue
                for j in range(d):
                    out[h, i, j] += fi * phi[h, s, a, j]
    return out / M


@njit(cache=True)
def spd_inverse(M):
    """Inverse of a symmetric positive definite float64[d, d] by Cholesky, in plain loops.

    Single-threaded on purpose: LAPACK's threaded ``inv`` was 100x slower on a loaded
    2-core machine (measured 0.1 s for d = 100). Raises on a non-positive pivot.
    """
    d = M.shape[0]
    L = np.zeros((d, d))
    for j in range(d):
        acc = M[j, j]
        for k in range(j):
            acc -= L[j, k] * L[j, k]
        if not acc > 0.0:
            raise ValueError("spd_inverse: matrix is not positive definite")
        L[j, j] = np.sqrt(acc)
        for i in range(j + 1, d):
            acc = M[i, j]
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            L[i, j] = acc / L[j, j]
    # inverse of L (lower triangular)
    Li = np.zeros((d, d))
    for j in range(d):
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, d):
            acc = 0.0
            for k in range(j, i):
                acc -= L[i, k] * Li[k, j]
            Li[i, j] = acc / L[i, i]
    # M^{-1} = Li^T Li
    out = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            acc = 0.0
            for k in range(j, d):
                acc += Li[k, i] * Li[k, j]
            out[i, j] = acc
            out[j, i] = acc
    return out


def regularised_inverse(sigma, gamma):
    """float64[H, d, d], ``(gamma I + sigma_h)^{-1}`` per layer (Cholesky, symmetric).

    A Python loop over layers around the :func:`spd_inverse` kernel (compiling the
    loop as one jitted function took 15 s of LLVM time on the test machine).
    """
    H, d, _ = sigma.shape
    out = np.empty((H, d, d))
    eye = np.eye(d)
    for h in range(H):
        out[h] = spd_inverse(np.ascontiguousarray(0.5 * (sigma[h] + sigma[h].T) + gamma * eye))
    return out


@njit(cache=True)
def mgr_estimate(feats, gamma, c):
    """One Matrix Geometric Resampling estimate from ``M`` feature draws.

    Args:
        feats: float64[M, d], i.i.d. draws of ``phi`` from the layer's occupancy.
        gamma: Regulariser (> 0).
        c: Step (``0 < c <= 1/2`` is valid when ``||phi|| <= 1`` and ``gamma <= 1``).

    Returns:
        float64[d, d], ``c I + c sum_{m=1..M} Z_m`` with ``Z_0 = I`` and
        ``Z_m = Z_{m-1} (I - c (gamma I + phi_m phi_m^T))``.
    """
    M, d = feats.shape
    Z = np.eye(d)
    S = c * np.eye(d)
    shrink = 1.0 - c * gamma
    zf = np.empty(d)
    for m in range(M):
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += Z[i, j] * feats[m, j]
            zf[i] = acc
        for i in range(d):
            for j in range(d):
                Z[i, j] = shrink * Z[i, j] - c * zf[i] * feats[m, j]
                S[i, j] += c * Z[i, j]
    return 0.5 * (S + S.T)


def mgr_from_trajectories(phi, traj, gamma, c):
    """float64[H, d, d], one MGR estimate per layer from the layer's features in ``traj``.

    A Python loop over layers around the :func:`mgr_estimate` kernel (one jitted
    function calling the other took 12 s of LLVM compile time).
    """
    H = phi.shape[0]
    out = np.empty((H, phi.shape[3], phi.shape[3]))
    for h in range(H):
        feats = np.ascontiguousarray(phi[h, traj[:, h, 0], traj[:, h, 1]])
        out[h] = mgr_estimate(feats, gamma, c)
    return out


class CovEstimator:
    """Estimator of ``(gamma I + Sigma_h)^{-1}`` for every layer under the current policy.

    Args:
        kind: ``"exact"``, ``"direct"`` or ``"mgr"``.
        gamma: Regulariser (> 0).
        n_samples: Trajectories per call (``direct`` and ``mgr``).
        mgr_c: MGR step ``c`` (``0 < c <= 1/2``).
    """

    _parameter_constraints = {
        "cov_estimator": Options(*COV_ESTIMATORS),
        "gamma": Interval("real", 0.0, None, closed="neither"),
        "mgr_c": Interval("real", 0.0, 0.5, closed="right"),
    }

    def __init__(self, kind: str, gamma: float, n_samples: int, mgr_c: float = 0.5):
        v = validate_params(self._parameter_constraints,
                            {"cov_estimator": kind, "gamma": gamma, "mgr_c": mgr_c})
        self.kind = v["cov_estimator"]
        self.gamma = v["gamma"]
        self.n_samples = int(n_samples)
        self.mgr_c = v["mgr_c"]

    def inv_cov(self, phi: np.ndarray, pi: np.ndarray, simulator) -> np.ndarray:
        """float64[H, d, d], the estimate of ``(gamma I + Sigma_h)^{-1}`` under ``pi``.

        Args:
            phi: float64[H, N, A, d] features the agent uses.
            pi: float64[H, N, A] the current policy table.
            simulator: The env's simulator handle.
        """
        if self.kind == "exact":
            q = simulator.occupancy(pi)
            return regularised_inverse(cov_from_occupancy(phi, q), self.gamma)
        traj = simulator.sample(pi, self.n_samples)
        if self.kind == "direct":
            return regularised_inverse(cov_from_trajectories(phi, traj), self.gamma)
        return mgr_from_trajectories(phi, traj, self.gamma, self.mgr_c)


def make_cov_estimator(kind: str, gamma: float, n_samples: int, mgr_c: float) -> CovEstimator:
    """Build a :class:`CovEstimator` (validating its parameters)."""
    return CovEstimator(kind, gamma, n_samples, mgr_c)
