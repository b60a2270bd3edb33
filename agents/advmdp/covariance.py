"""Covariance estimators of the adversarial linear-Q MDP agents: exact, direct inverse, MGR.

Kernels on top, the estimator classes below. All three estimate, for each layer
``h``, the regularised inverse ``(gamma I + Sigma_h)^{-1}`` of the covariance
``Sigma_h = E_{(s, a) ~ q^pi_h}[phi(s, a) phi(s, a)^T]`` of the *current* policy
(on-policy: never an accumulated design matrix, which would mix the occupancies
of past policies), behind one interface :meth:`CovEstimator.inv_cov`.

* ``"exact"`` [I]: from the exact occupancy (needs ``simulator_mode="exact"``; the
  idealised infinite-sample simulator; learners show the label tag "exact covariance").
* ``"direct"`` [I]: the inverse of ``gamma I`` plus the empirical covariance of ``M``
  fresh trajectories (believed to be what Dai et al. call a "better alternative to
  MGR"; recalled, not checked against the paper).
* ``"mgr"``: Matrix Geometric Resampling (Neu & Olkhovskaya, COLT 2020) as Luo, Wei &
  Lee (2021) use it: ``M`` independent chains of ``N`` draws each, chain ``m`` computing
  ``c I + c sum_{n<=N} Z_{m, n}`` with ``Z_{m, 0} = I``,
  ``Z_{m, n} = Z_{m, n-1} (I - c (gamma I + phi_{m, n} phi_{m, n}^T))``, and the estimate is
  their mean (not symmetrised). Its mean is the truncated Neumann series
  ``sum_{j=0..N} c (I - c (gamma I + Sigma))^j``; averaging the chains divides the
  covariance of the estimate by ``M``. The variant ``"single_chain"`` (banditlab's
  earlier estimator, kept as an option) runs one chain over all trajectories and
  symmetrises the result. The structure is recalled from the papers [I]; the default
  ``N`` and the budget split are ours [I].

Shapes: ``phi`` float64[H, N, A, d], ``pi`` float64[H, N, A], results float64[H, d, d].
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.envs.advmdp.kernel import sim_occupancy_into, sim_sample
from banditlab.envs.advmdp.model import cumulative_rows, validate_policy_table
from banditlab.errors import BanditlabError
from banditlab.validation import Interval, Options, validate_params

__all__ = [
    "cov_from_occupancy",
    "cov_from_occupancy_into",
    "cov_from_trajectories",
    "cov_from_trajectories_into",
    "spd_inverse",
    "spd_inverse_into",
    "regularised_inverse",
    "regularised_inverse_into",
    "CovScratch",
    "cov_scratch",
    "inv_cov_into",
    "COV_CODES",
    "mgr_chains",
    "mgr_chains_into",
    "mgr_estimate",
    "mgr_from_trajectories",
    "default_mgr_chain_length",
    "CovEstimator",
    "make_cov_estimator",
    "COV_ESTIMATORS",
    "MGR_VARIANTS",
]

COV_ESTIMATORS = ("exact", "direct", "mgr")
MGR_VARIANTS = ("chains", "single_chain")
COV_CODES = {name: i for i, name in enumerate(COV_ESTIMATORS)}
"""Integer code of each estimator in the compiled :func:`inv_cov_into`."""


@njit(cache=True)
def cov_from_occupancy_into(out, phi, q):
    """``out[h] = sum_{s, a} q[h, s, a] phi_h(s, a) phi_h(s, a)^T`` (float64[H, d, d], in place)."""
    H, N, A, d = phi.shape
    for h in range(H):
        for i in range(d):
            for j in range(d):
                out[h, i, j] = 0.0
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


@njit(cache=True)
def cov_from_occupancy(phi, q):
    """float64[H, d, d], ``Sigma_h = sum_{s, a} q[h, s, a] phi_h(s, a) phi_h(s, a)^T``."""
    H, N, A, d = phi.shape
    out = np.empty((H, d, d))
    cov_from_occupancy_into(out, phi, q)
    return out


@njit(cache=True)
def cov_from_trajectories_into(out, phi, traj):
    """Empirical covariance per layer of ``traj`` (int64[M, H, 2]) into ``out``.

    Args:
        out: float64[H, d, d], written in place.
        phi: float64[H, N, A, d] features.
        traj: int64[M, H, 2] trajectories.
    """
    H, N, A, d = phi.shape
    M = traj.shape[0]
    for h in range(H):
        for i in range(d):
            for j in range(d):
                out[h, i, j] = 0.0
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
    for h in range(H):
        for i in range(d):
            for j in range(d):
                out[h, i, j] = out[h, i, j] / M


@njit(cache=True)
def cov_from_trajectories(phi, traj):
    """float64[H, d, d], empirical covariance per layer of ``traj`` (int64[M, H, 2])."""
    H, N, A, d = phi.shape
    out = np.empty((H, d, d))
    cov_from_trajectories_into(out, phi, traj)
    return out


@njit(cache=True)
def spd_inverse_into(out, M, L, Li):
    """Inverse of a symmetric positive definite float64[d, d] by Cholesky, in plain loops.

    Single-threaded on purpose: LAPACK's threaded ``inv`` was 100x slower on a loaded
    2-core machine (measured 0.1 s for d = 100). Raises on a non-positive pivot.

    Args:
        out: float64[d, d], written in place (may not alias ``M``).
        M: float64[d, d] symmetric positive definite.
        L, Li: float64[d, d] buffers (the Cholesky factor and its inverse).
    """
    d = M.shape[0]
    for i in range(d):
        for j in range(d):
            L[i, j] = 0.0
            Li[i, j] = 0.0
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
    for j in range(d):
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, d):
            acc = 0.0
            for k in range(j, i):
                acc -= L[i, k] * Li[k, j]
            Li[i, j] = acc / L[i, i]
    # M^{-1} = Li^T Li
    for i in range(d):
        for j in range(i, d):
            acc = 0.0
            for k in range(j, d):
                acc += Li[k, i] * Li[k, j]
            out[i, j] = acc
            out[j, i] = acc


@njit(cache=True)
def spd_inverse(M):
    """Inverse of a symmetric positive definite float64[d, d] (:func:`spd_inverse_into`)."""
    d = M.shape[0]
    out = np.empty((d, d))
    spd_inverse_into(out, M, np.empty((d, d)), np.empty((d, d)))
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
def mgr_chains_into(out, feats, gamma, c, n_chains, Z, zf):
    """Matrix Geometric Resampling: the mean of ``n_chains`` independent chains.

    Luo, Wei & Lee (2021)'s GeometricResampling: the rows of ``feats`` are split into
    ``n_chains`` consecutive blocks of ``N = len(feats) // n_chains`` draws; chain ``m``
    computes ``c I + c sum_{n=1..N} Z_{m, n}`` with ``Z_{m, 0} = I`` and
    ``Z_{m, n} = Z_{m, n-1} (I - c (gamma I + phi_{m, n} phi_{m, n}^T))``; the estimate is
    the mean over the chains. No symmetrisation: the products of non-commuting factors
    make each chain's estimate non-symmetric (and its quadratic forms possibly negative);
    its mean ``sum_{j=0..N} c (I - c (gamma I + Sigma))^j`` is symmetric positive definite.

    Args:
        out: float64[d, d], written in place: the mean of the ``M`` chain estimates.
        feats: float64[n_chains * N, d], i.i.d. draws of ``phi`` from the layer's
            occupancy (rows beyond ``n_chains * N`` are ignored).
        gamma: Regulariser (> 0).
        c: Step (``0 < c <= 1/2`` is valid when ``||phi|| <= 1`` and ``gamma <= 1``).
        n_chains: Number of chains ``M`` (>= 1, at most ``len(feats)``).
        Z: float64[d, d] and zf: float64[d] buffers.
    """
    rows, d = feats.shape
    N = rows // n_chains
    for i in range(d):
        for j in range(d):
            out[i, j] = 0.0
    shrink = 1.0 - c * gamma
    for m in range(n_chains):
        for i in range(d):
            for j in range(d):
                Z[i, j] = 1.0 if i == j else 0.0
            out[i, i] += c
        for n in range(N):
            r = m * N + n
            for i in range(d):
                acc = 0.0
                for j in range(d):
                    acc += Z[i, j] * feats[r, j]
                zf[i] = acc
            for i in range(d):
                for j in range(d):
                    Z[i, j] = shrink * Z[i, j] - c * zf[i] * feats[r, j]
                    out[i, j] += c * Z[i, j]
    for i in range(d):
        for j in range(d):
            out[i, j] = out[i, j] / n_chains


@njit(cache=True)
def mgr_chains(feats, gamma, c, n_chains):
    """Matrix Geometric Resampling: float64[d, d], the mean of ``n_chains`` chains.

    Allocating wrapper of :func:`mgr_chains_into` (see there).
    """
    d = feats.shape[1]
    out = np.empty((d, d))
    mgr_chains_into(out, feats, gamma, c, n_chains, np.empty((d, d)), np.empty(d))
    return out


@njit(cache=True)
def regularised_inverse_into(out, sigma, gamma, m, L, Li):
    """Compiled :func:`regularised_inverse`: ``out[h] = (gamma I + (sigma_h + sigma_h^T)/2)^{-1}``.

    The same arithmetic, entry by entry, as the NumPy expression of
    :func:`regularised_inverse` (hence the same result).

    Args:
        out: float64[H, d, d], written in place.
        sigma: float64[H, d, d].
        gamma: Regulariser (> 0).
        m, L, Li: float64[d, d] buffers.
    """
    H, d, _ = sigma.shape
    for h in range(H):
        for i in range(d):
            for j in range(d):
                m[i, j] = 0.5 * (sigma[h, i, j] + sigma[h, j, i]) + gamma * (
                    1.0 if i == j else 0.0)
        spd_inverse_into(out[h], m, L, Li)


class CovScratch(NamedTuple):
    """Buffers of :func:`inv_cov_into` (allocated once by :func:`cov_scratch`).

    Attributes:
        traj: int64[1, M, H, 2] covariance draws (``M`` per estimate; ``M = 1`` for exact).
        feats: float64[M, d] features of one layer's draws (``mgr``).
        start: int64[1, 3] the start triple ``(-1, 0, 0)`` of the draws.
        q: float64[H, N, A] occupancy (``exact``); dist: float64[2, N].
        sigma: float64[H, d, d] covariance (``exact``, ``direct``).
        mat: float64[d, d] regularised matrix; L, Li: float64[d, d] Cholesky factor and
            its inverse.
        Z: float64[d, d] and zf: float64[d] MGR chain buffers; est: float64[d, d] one
            layer's MGR estimate.
    """

    traj: np.ndarray
    feats: np.ndarray
    start: np.ndarray
    q: np.ndarray
    dist: np.ndarray
    sigma: np.ndarray
    mat: np.ndarray
    L: np.ndarray
    Li: np.ndarray
    Z: np.ndarray
    zf: np.ndarray
    est: np.ndarray


@njit(cache=True)
def cov_scratch(H, N, A, d, M):
    """A :class:`CovScratch` for ``H`` layers, ``N`` states, ``A`` actions, ``d`` features.

    ``M`` is the number of trajectories one estimate draws (at least 1).
    """
    start = np.zeros((1, 3), np.int64)
    start[0, 0] = -1
    return CovScratch(np.zeros((1, M, H, 2), np.int64), np.zeros((M, d)), start,
                      np.zeros((H, N, A)), np.zeros((2, N)), np.zeros((H, d, d)),
                      np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d)),
                      np.zeros(d), np.zeros((d, d)))


@njit(cache=True)
def inv_cov_into(out, phi, pi, cumpi, kind, gamma, c, n_chains, symmetrise, sim, sim_rng,
                 scratch):
    """Estimate ``(gamma I + Sigma_h)^{-1}`` under ``pi`` for every layer into ``out``.

    The compiled body of :meth:`CovEstimator.inv_cov`, called by the agents' episode
    kernels on both execution paths. Queries go through the simulator's kernel handle
    and stream (counted like the simulator's own methods). Allocates nothing: every
    intermediate lives in ``scratch``.

    Args:
        out: float64[H, d, d], written in place.
        phi: float64[H, N, A, d] features; pi: float64[H, N, A] policy;
            cumpi: float64[H, N, A] its cumulative rows (last entry 1).
        kind: :data:`COV_CODES` value (``exact`` needs an exact simulator).
        gamma, c: Regulariser and MGR step.
        n_chains: MGR chains (``scratch.traj.shape[1] // n_chains`` draws each).
        symmetrise: Return ``(S + S^T) / 2`` of the MGR estimate (single-chain variant).
        sim: :class:`~banditlab.envs.advmdp.kernel.AdvMDPSimHandle`; sim_rng: its stream.
        scratch: :class:`CovScratch`; ``direct`` and ``mgr`` draw ``M =
            scratch.traj.shape[1]`` trajectories into ``scratch.traj``.
    """
    H, N, A, d = phi.shape
    if kind == 0:
        sim_occupancy_into(sim, scratch.q, scratch.dist, pi)
        cov_from_occupancy_into(scratch.sigma, phi, scratch.q)
        regularised_inverse_into(out, scratch.sigma, gamma, scratch.mat, scratch.L, scratch.Li)
        return
    traj = scratch.traj
    sim_sample(sim, traj, cumpi, scratch.start, sim_rng)
    if kind == 1:
        cov_from_trajectories_into(scratch.sigma, phi, traj[0])
        regularised_inverse_into(out, scratch.sigma, gamma, scratch.mat, scratch.L, scratch.Li)
        return
    M = traj.shape[1]
    feats = scratch.feats
    est = scratch.est
    for h in range(H):
        for r in range(M):
            s = traj[0, r, h, 0]
            a = traj[0, r, h, 1]
            for i in range(d):
                feats[r, i] = phi[h, s, a, i]
        mgr_chains_into(est, feats, gamma, c, n_chains, scratch.Z, scratch.zf)
        for i in range(d):
            for j in range(d):
                out[h, i, j] = 0.5 * (est[i, j] + est[j, i]) if symmetrise else est[i, j]


def mgr_estimate(feats, gamma, c):
    """float64[d, d], one MGR chain over all rows of ``feats`` (no symmetrisation).

    Thin wrapper of :func:`mgr_chains` with one chain.
    """
    return mgr_chains(np.ascontiguousarray(feats, dtype=np.float64), float(gamma), float(c), 1)


def mgr_from_trajectories(phi, traj, gamma, c, n_chains=1, symmetrise=False):
    """float64[H, d, d], an MGR estimate per layer from the layer's features in ``traj``.

    A Python loop over layers around the :func:`mgr_chains` kernel (one jitted
    function calling another took 12 s of LLVM compile time).

    Args:
        phi: float64[H, N, A, d] features.
        traj: int64[n_chains * N, H, 2] trajectories (chain ``m`` uses rows
            ``m N .. (m + 1) N - 1``; every layer uses the same trajectories).
        gamma, c: Regulariser and step.
        n_chains: Number of independent chains averaged (Luo et al.'s ``M``).
        symmetrise: Return ``(S + S^T) / 2`` (the banditlab single-chain variant).
    """
    H = phi.shape[0]
    out = np.empty((H, phi.shape[3], phi.shape[3]))
    for h in range(H):
        feats = np.ascontiguousarray(phi[h, traj[:, h, 0], traj[:, h, 1]])
        est = mgr_chains(feats, float(gamma), float(c), int(n_chains))
        out[h] = 0.5 * (est + est.T) if symmetrise else est
    return out


def default_mgr_chain_length(gamma: float, c: float, n_episodes: int) -> int:
    """Chain length ``N = ceil(ln(K / gamma) / (c gamma))`` (at least 1).

    The bias of the mean, ``(gamma I + Sigma)^{-1} (I - c (gamma I + Sigma))^{N + 1}``, has
    operator norm at most ``exp(-c gamma (N + 1)) / gamma``; this ``N`` makes it at most
    ``epsilon = 1 / K``. Luo et al. (2021) choose ``N`` of this form from their own
    ``epsilon``; ``epsilon = 1 / K`` is our choice [I].
    """
    return max(1, math.ceil(math.log(max(n_episodes, 1) / gamma) / (c * gamma)))


class CovEstimator:
    """Estimator of ``(gamma I + Sigma_h)^{-1}`` for every layer under the current policy.

    Args:
        kind: ``"exact"``, ``"direct"`` or ``"mgr"``.
        gamma: Regulariser (> 0).
        n_samples: Simulator trajectories per call (``direct`` and ``mgr``): the budget.
        mgr_c: MGR step ``c`` (``0 < c <= 1/2``).
        chain_length: MGR chain length ``N`` (``mgr`` with ``variant="chains"``; at most
            ``n_samples``); the call draws ``M N`` trajectories, ``M = n_samples // N``
            independent chains.
        variant: ``"chains"`` (Luo et al.: the mean of ``M`` independent chains, not
            symmetrised) or ``"single_chain"`` (one chain over all ``n_samples``
            trajectories, symmetrised: banditlab's earlier estimator).
    """

    _parameter_constraints = {
        "cov_estimator": Options(*COV_ESTIMATORS),
        "gamma": Interval("real", 0.0, None, closed="neither"),
        "n_cov_samples": Interval("int", 1),
        "mgr_c": Interval("real", 0.0, 0.5, closed="right"),
        "mgr_chain_length": Interval("int", 1),
        "mgr_variant": Options(*MGR_VARIANTS),
    }

    def __init__(self, kind: str, gamma: float, n_samples: int, mgr_c: float = 0.5,
                 chain_length: int | None = None, variant: str = "chains"):
        v = validate_params(self._parameter_constraints, {
            "cov_estimator": kind, "gamma": gamma, "n_cov_samples": n_samples, "mgr_c": mgr_c,
            "mgr_chain_length": n_samples if chain_length is None else chain_length,
            "mgr_variant": variant,
        })
        if v["mgr_chain_length"] > v["n_cov_samples"]:
            raise BanditlabError(
                f"mgr_chain_length: {v['mgr_chain_length']} exceeds the trajectory budget "
                f"n_cov_samples={v['n_cov_samples']}"
            )
        self.kind = v["cov_estimator"]
        self.gamma = v["gamma"]
        self.n_samples = v["n_cov_samples"]
        self.mgr_c = v["mgr_c"]
        self.variant = v["mgr_variant"]
        if self.variant == "single_chain":
            self.chain_length, self.n_chains = self.n_samples, 1
        else:
            self.chain_length = v["mgr_chain_length"]
            self.n_chains = self.n_samples // self.chain_length

    def inv_cov(self, phi: np.ndarray, pi: np.ndarray, simulator) -> np.ndarray:
        """float64[H, d, d], the estimate of ``(gamma I + Sigma_h)^{-1}`` under ``pi``.

        Args:
            phi: float64[H, N, A, d] features the agent uses.
            pi: float64[H, N, A] the current policy table.
            simulator: The env's simulator handle.

        Raises:
            BanditlabError: On a bad policy table, an ``exact`` estimate with a sampling
                simulator, or a simulator whose env has not been reset.
        """
        H, N, A, d = phi.shape
        pi = validate_policy_table(pi, H, N, A, "pi_table")
        if self.kind == "exact":
            simulator._require_exact("occupancy()")
        if simulator.rng_ is None:
            raise BanditlabError("simulator: the env has not been reset; call env.reset(seed=...)")
        out = np.empty((H, d, d))
        m = self.trajectories_per_call()
        inv_cov_into(out, np.ascontiguousarray(phi, dtype=np.float64), pi, cumulative_rows(pi),
                     COV_CODES[self.kind], float(self.gamma), float(self.mgr_c),
                     int(self.n_chains), self.variant == "single_chain", simulator.handle_,
                     simulator.rng_, cov_scratch(H, N, A, d, max(m, 1)))
        return out

    def trajectories_per_call(self) -> int:
        """Simulator trajectories one estimate draws (0 for ``exact``)."""
        if self.kind == "exact":
            return 0
        if self.kind == "direct":
            return self.n_samples
        return self.n_chains * self.chain_length

    def from_trajectories(self, phi: np.ndarray, traj: np.ndarray) -> np.ndarray:
        """float64[H, d, d], the ``direct`` or ``mgr`` estimate from given trajectories.

        Args:
            phi: float64[H, N, A, d] features.
            traj: int64[n, H, 2] on-policy trajectories (``mgr`` needs
                ``n >= n_chains * chain_length``; ``direct`` uses all of them).
        """
        if self.kind == "direct":
            return regularised_inverse(cov_from_trajectories(phi, traj), self.gamma)
        if self.kind == "mgr":
            return mgr_from_trajectories(phi, traj[: self.n_chains * self.chain_length],
                                         self.gamma, self.mgr_c, self.n_chains,
                                         symmetrise=self.variant == "single_chain")
        raise BanditlabError("cov_estimator: 'exact' has no trajectory form")


def make_cov_estimator(kind: str, gamma: float, n_samples: int, mgr_c: float,
                       chain_length: int | None = None,
                       variant: str = "chains") -> CovEstimator:
    """Build a :class:`CovEstimator` (validating its parameters)."""
    return CovEstimator(kind, gamma, n_samples, mgr_c, chain_length, variant)
