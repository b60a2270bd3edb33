"""Instance providers of the active-identification family (LTAL, Zhang, Jain & Jamieson 2020).

Kernels on top, providers below. A provider describes one identification problem: the
query set, the instance space Θ, the map θ ↦ z*(θ), the loss, the response model, the
complexity ρ(θ) of the lower-bound program and the classes Θ^(r) = {θ : ρ(θ) ≤ r}.

Every provider represents an instance by a float64 vector ``theta``:

* ``SyntheticBAI``: θ ∈ ℝ^n, the arm means (Gaussian responses, known σ).
* ``Thresholds``: θ ∈ [0, 1]^n non-decreasing, P(label 1) at each point; z*(θ) is the first
  index with θ_x ≥ 1/2 (``n`` when there is none), so there are ``n + 1`` hypotheses.
* ``Q20``: θ = P(yes | person, question) for the 500 questions of the secret person (a row of
  the shipped table, or a perturbation of it); z*(θ) is the nearest person in Bernoulli KL.
* ``JesterLinear``: θ ∈ ℝ^d, a user vector; the mean response to joke j is ⟨x_j, θ⟩.

Complexity (our reading of the lower-bound program of Zhang, Jain & Jamieson 2020 [I]):
``ρ(θ) = min_λ max_{θ' ∈ Alt(θ)} 1 / Σ_x λ_x KL(p_θ(·|x) ‖ p_θ'(·|x))``. The inner minimum is
in closed form for every provider (Gaussian best arm, monotone Bernoulli thresholds, the
finite set of other persons, the linear half-spaces). The allocation λ is then found by

* Gaussian best arm: the Garivier–Kaufmann root-finding characterisation, exact
  (:func:`maxmin_bai`); entropic mirror ascent (:func:`maxmin_bai_mirror`) is kept as an
  iterative cross-check (it reaches about 0.1–5 % of the value in 300 iterations);
* thresholds: closed form (two neighbours of the threshold);
* Q20 (finite alternatives, linear in λ): an exact LP with SciPy's HiGHS (:func:`maxmin_lp`);
  the values for the shipped 100 × 500 table are precomputed in ``person_rho.csv``;
* Jester linear: mirror descent on the XY-design objective in NumPy (approximate).
"""

from __future__ import annotations

import csv
import importlib.resources
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numba import njit

from banditlab.core import BanditlabError
from banditlab.registry import check_kwargs
from banditlab.validation import InstanceOf, Interval, Options, validate_params, validate_value

__all__ = [
    "PROVIDERS",
    "InstanceProvider",
    "SyntheticBAI",
    "Thresholds",
    "Q20",
    "JesterLinear",
    "make_provider",
    "load_q20",
    "maxmin_lp",
    "maxmin_bai",
    "maxmin_bai_mirror",
    "bernoulli_kl_vec",
    "geometric_grid",
    "read_jester_ratings",
    "P_CLIP",
    "PROBLEM_CODES",
]

PROBLEM_ARGMAX = 0
PROBLEM_THRESHOLDS = 1
PROBLEM_TABLE = 2
PROBLEM_LINEAR = 3
PROBLEM_CODES = {"argmax": 0, "thresholds": 1, "table": 2, "linear": 3}

ETA0 = 0.5  # base step of the mirror-ascent solver
P_CLIP = 1e-3
"""Probabilities are clipped to [P_CLIP, 1 - P_CLIP] inside KLs and likelihoods."""


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def bernoulli_kl_vec(p, q):
    """Elementwise Bernoulli KL ``kl(p ‖ q)`` for float64 arrays of equal shape (clipped)."""
    out = np.empty(p.shape[0])
    for i in range(p.shape[0]):
        a = min(max(p[i], P_CLIP), 1.0 - P_CLIP)
        b = min(max(q[i], P_CLIP), 1.0 - P_CLIP)
        out[i] = a * np.log(a / b) + (1.0 - a) * np.log((1.0 - a) / (1.0 - b))
    return out


@njit(cache=True)
def _softmin_weights(vals, tau, w):
    m = np.inf
    for j in range(vals.shape[0]):
        m = min(m, vals[j])
    s = 0.0
    for j in range(vals.shape[0]):
        w[j] = np.exp(-(vals[j] - m) / tau)
        s += w[j]
    for j in range(vals.shape[0]):
        w[j] /= s
    return m


def maxmin_lp(D: np.ndarray) -> tuple[float, np.ndarray]:
    """Exact ``max_{λ ∈ Δ_n} min_j Σ_x D[j, x] λ_x`` by linear programming (SciPy HiGHS).

    Used when the alternatives form a finite set with linear inner values (the other persons
    of Q20): variables (λ, s), maximise s subject to ``D λ ≥ s``, ``Σ λ = 1``, ``λ ≥ 0``.

    Args:
        D: float64[J, n], non-negative KL costs of each alternative along each query.

    Returns:
        ``(value, lam)`` with float64[n] allocation.
    """
    from scipy.optimize import linprog

    J, n = D.shape
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-D, np.ones((J, 1))])
    a_eq = np.r_[np.ones(n), 0.0][None, :]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(J), A_eq=a_eq, b_eq=[1.0],
                  bounds=[(0, None)] * n + [(None, None)], method="highs")
    if res.status != 0:  # pragma: no cover - HiGHS solves this bounded feasible LP
        raise RuntimeError(f"rho LP failed: {res.message}")
    lam = np.clip(res.x[:n], 0.0, None)
    return float(res.x[-1]), lam / lam.sum()


@njit(cache=True)
def maxmin_bai(c, istar, iters):
    """Exact ``max_λ min_{j ≠ i*} c_j / (1/λ_{i*} + 1/λ_j)`` (Gaussian best arm).

    Garivier & Kaufmann (2016, Thm. 5) specialised to Gaussian arms: with
    ``x_j(y) = y / (c_j − y)`` the optimum is at the root ``y*`` of ``Σ_j x_j(y)² = 1`` on
    ``(0, min_j c_j)``, found by bisection (``iters`` halvings, at least 60); then
    ``λ_{i*} = 1 / (1 + Σ_j x_j)``, ``λ_j = x_j λ_{i*}`` and the value is ``λ_{i*} y*``.
    :func:`maxmin_bai_mirror` solves the same program by mirror ascent (cross-check).

    Args:
        c: float64[n] gap costs ``(θ_{i*} − θ_j)² / (2σ²)`` (``c[istar]`` ignored, others > 0).
        istar: Index of the best arm.
        iters: Bisection steps (60 are enough for double precision).

    Returns:
        ``(value, lam)``.
    """
    n = c.shape[0]
    cmin = np.inf
    for j in range(n):
        if j != istar:
            cmin = min(cmin, c[j])
    lo, hi = 0.0, cmin
    for _ in range(max(iters, 60)):
        y = 0.5 * (lo + hi)
        s = 0.0
        for j in range(n):
            if j != istar:
                x = y / (c[j] - y)
                s += x * x
        if s > 1.0:
            hi = y
        else:
            lo = y
    y = 0.5 * (lo + hi)
    lam = np.zeros(n)
    tot = 1.0
    for j in range(n):
        if j != istar:
            lam[j] = y / (c[j] - y)
            tot += lam[j]
    lam[istar] = 1.0
    for j in range(n):
        lam[j] /= tot
    return lam[istar] * y, lam


@njit(cache=True)
def maxmin_bai_mirror(c, istar, iters):
    """Mirror ascent for the program of :func:`maxmin_bai` (an iterative cross-check).

    ``c_j = (θ_{i*} − θ_j)² / (2σ²)``; the closed-form inner minimum of Garivier & Kaufmann
    (2016) for unit-vector queries. Entropic mirror ascent on the soft-min
    ``-τ log Σ_j exp(-log g_j(λ) / τ)``, ``τ`` annealed from 0.3 to 0.003, step
    ``ETA0 / sqrt(k)`` on the gradient with respect to ``log λ``; the best iterate (largest
    hard minimum) is returned.

    Args:
        c: float64[n] gap costs (``c[istar]`` is ignored).
        istar: Index of the best arm.
        iters: Number of iterations.

    Returns:
        ``(value, lam)``.
    """
    n = c.shape[0]
    lam = np.full(n, 1.0 / n)
    best_lam = lam.copy()
    best = -1.0
    g = np.empty(n)
    logg = np.empty(n)
    w = np.empty(n)
    grad = np.empty(n)
    for k in range(iters):
        m = np.inf
        for j in range(n):
            if j == istar:
                g[j] = np.inf
                logg[j] = np.inf
                continue
            g[j] = c[j] / (1.0 / lam[istar] + 1.0 / lam[j])
            logg[j] = np.log(max(g[j], 1e-300))
            m = min(m, g[j])
        if m > best:
            best = m
            best_lam[:] = lam
        tau = 0.3 * (0.01 ** (k / max(iters - 1, 1)))
        mm = np.inf
        for j in range(n):
            mm = min(mm, logg[j])
        s = 0.0
        for j in range(n):
            w[j] = 0.0 if j == istar else np.exp(-(logg[j] - mm) / tau)
            s += w[j]
        for j in range(n):
            w[j] /= s
        for x in range(n):
            grad[x] = 0.0
        for j in range(n):
            if j == istar:
                continue
            # d log g_j / d lam = (1/lam^2) / (1/lam_i + 1/lam_j) on the two coordinates
            den = 1.0 / lam[istar] + 1.0 / lam[j]
            grad[istar] += w[j] / (lam[istar] ** 2 * den)
            grad[j] += w[j] / (lam[j] ** 2 * den)
        eta = ETA0 / np.sqrt(k + 1.0)
        gmax = -np.inf
        for x in range(n):
            grad[x] *= lam[x]  # natural scale
            gmax = max(gmax, grad[x])
        z = 0.0
        for x in range(n):
            lam[x] = max(lam[x] * np.exp(eta * (grad[x] - gmax)), 1e-12)
            z += lam[x]
        for x in range(n):
            lam[x] /= z
    return best, best_lam


_GRID_CONSTRAINTS = {
    "r1": Interval("real", 0, None, closed="neither"),
    "n_classes": Interval("int", 1, None),
    "ratio": Interval("real", 1, None, closed="neither"),
}


def geometric_grid(r1: float, n_classes: int, ratio: float = 2.0) -> np.ndarray:
    """Class radii ``r_m = r1 * ratio**m`` for ``m = 0..n_classes-1`` (float64[n_classes]).

    Raises:
        BanditlabError: ``r1 <= 0``, ``n_classes < 1`` or ``ratio <= 1`` (naming the argument).
    """
    v = validate_params(_GRID_CONSTRAINTS, {"r1": r1, "n_classes": n_classes, "ratio": ratio})
    return v["r1"] * v["ratio"] ** np.arange(v["n_classes"], dtype=np.float64)


# --------------------------------------------------------------------------- providers
class InstanceProvider:
    """Base class of instance providers (see the module docstring).

    Attributes:
        name: Provider name used by the env's ``provider`` argument.
        problem: ``"argmax"``, ``"thresholds"``, ``"table"`` or ``"linear"``: how hypotheses
            relate to responses (used by agents through the ``problem`` known constant).
        response_model: ``"gaussian"``, ``"bernoulli"`` or ``"categorical"``.
        n_queries: Number of queries n_q.
        n_hypotheses: Number of hypotheses n_h.
        sigma: Noise standard deviation (Gaussian responses), else 0.
        rho_iters: Mirror-ascent iterations used by :meth:`rho`.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {}
    """Constructor argument name to constraint (:mod:`banditlab.validation`), checked first."""

    name = ""
    problem = "argmax"
    response_model = "gaussian"
    n_queries: int
    n_hypotheses: int
    sigma = 0.0
    rho_iters = 1000

    # ----------------------------------------------------------- instance maps
    def means(self, theta: np.ndarray) -> np.ndarray:
        """Mean response (P(yes) for binary responses) of every query, float64[n_q]."""
        return np.asarray(theta, dtype=np.float64)

    def z_star(self, theta: np.ndarray) -> int:
        """The true hypothesis z*(θ)."""
        raise NotImplementedError

    def loss(self, z_hat: int, theta: np.ndarray, kind: str = "zero_one") -> float:
        """``1[z_hat != z*]`` (``zero_one``) or the simple regret of ``z_hat`` (argmax problems)."""
        if kind == "simple_regret":
            m = self.hypothesis_values(theta)
            return float(np.max(m) - m[z_hat])
        return 0.0 if int(z_hat) == self.z_star(theta) else 1.0

    def hypothesis_values(self, theta: np.ndarray) -> np.ndarray:
        """Value of each hypothesis for ``simple_regret`` (argmax and linear problems)."""
        raise BanditlabError(f"loss: 'simple_regret' is not defined for provider {self.name!r}")

    def response(self, theta: np.ndarray, x: int, u: float, h: int | None = None) -> float:
        """Response to query ``x`` from one noise draw ``u`` (uniform or standard normal).

        ``h`` is the true hypothesis when the caller knows it (used by categorical Q20).
        """
        m = self.means(theta)[x]
        if self.response_model == "gaussian":
            return float(m + self.sigma * u)
        return 1.0 if u < m else 0.0

    def noise_kind(self) -> str:
        """``"normal"`` or ``"uniform"``: the single noise draw each query step consumes."""
        return "normal" if self.response_model == "gaussian" else "uniform"

    def score(self, theta: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """∇_θ Σ_t log p_θ(y_t | x_t) (the adversary's score function), float64 like θ."""
        raise NotImplementedError

    # ----------------------------------------------------------- complexity
    def rho(self, theta: np.ndarray) -> float:
        """Characteristic time ρ(θ) of the lower-bound program (inf if z* is not unique)."""
        raise NotImplementedError

    def allocation(self, theta: np.ndarray) -> np.ndarray:
        """The optimal allocation λ*(θ) ∈ Δ_{n_q} of the lower-bound program."""
        raise NotImplementedError

    # ----------------------------------------------------------- instances and classes
    def sample_unrestricted(self, rng: np.random.Generator) -> np.ndarray:
        """A draw from the provider's base distribution over Θ."""
        raise NotImplementedError

    def sample_instance(
        self, rng: np.random.Generator, r: float | None = None, max_tries: int = 10
    ) -> np.ndarray:
        """An instance, restricted to Θ^(r) when ``r`` is given.

        Rejection sampling from the base distribution; after ``max_tries`` rejections the
        last draw is projected into the class (:meth:`project_to_class`), so the number of
        draws is bounded.
        """
        theta = self.sample_unrestricted(rng)
        if r is None:
            return theta
        for _ in range(max_tries - 1):
            if self.rho(theta) <= r:
                return theta
            theta = self.sample_unrestricted(rng)
        return self.project_to_class(theta, r)

    def boundary_instance(self, rng: np.random.Generator, r: float) -> np.ndarray:
        """A hard instance of Θ^(r) used to seed adversary pools; :meth:`sample_instance` here."""
        return self.sample_instance(rng, r)

    def anchor(self, theta: np.ndarray, r: float) -> np.ndarray:
        """An easy instance with the same z* and ρ ≤ r/2, the target of the projection."""
        raise NotImplementedError

    def clip(self, theta: np.ndarray) -> np.ndarray:
        """Map an arbitrary vector back into Θ (used after adversary gradient steps)."""
        return np.asarray(theta, dtype=np.float64)

    def project_to_class(self, theta: np.ndarray, r: float, n_bisect: int = 30) -> np.ndarray:
        """Move θ into Θ^(r) by bisection along the segment to :meth:`anchor`.

        Returns θ itself when ρ(θ) ≤ r, else the point of the segment closest to θ found by
        bisection with ρ ≤ r (ρ is not convex in θ, so this is a feasible point, not the
        Euclidean projection). When even the anchor has ρ > r (an empty class), the anchor
        is returned.
        """
        theta = self.clip(theta)
        if self.rho(theta) <= r:
            return theta
        a = self.anchor(theta, r)
        lo, hi = 0.0, 1.0  # fraction of the way to the anchor; hi is feasible
        for _ in range(n_bisect):
            mid = 0.5 * (lo + hi)
            if self.rho((1 - mid) * theta + mid * a) <= r:
                hi = mid
            else:
                lo = mid
        return (1 - hi) * theta + hi * a

    def instance_ids(self) -> int:
        """Number of fixed (real) instances, 0 when instances are only sampled."""
        return 0

    def instance_from_id(self, i: int) -> np.ndarray:
        """The fixed instance ``i`` (real persons or users)."""
        raise BanditlabError(f"instance_id: provider {self.name!r} has no fixed instances")

    def known_constants(self) -> dict:
        """What the setting grants the learner (without the budget)."""
        return {
            "n_queries": self.n_queries,
            "n_hypotheses": self.n_hypotheses,
            "response_model": self.response_model,
            "problem": self.problem,
            "sigma": self.sigma,
        }

    def kernel_table(self) -> np.ndarray:
        """float64[n_h, n_q] table the compiled decision rules use (empty when unused)."""
        return np.zeros((0, 0))


class SyntheticBAI(InstanceProvider):
    """Gaussian best-arm identification: queries are arms, θ are the arm means.

    Args:
        n: Number of arms (≥ 2).
        sigma: Known noise standard deviation (> 0).
        mean_scale: Standard deviation of the base distribution θ_i ~ N(0, mean_scale²).
    """

    name = "synthetic_bai"
    problem = "argmax"
    response_model = "gaussian"
    rho_iters = 60
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n": Interval("int", 2, None),
        "sigma": Interval("real", 0, None, closed="neither"),
        "mean_scale": Interval("real", 0, None, closed="neither"),
    }

    def __init__(self, n: int = 5, sigma: float = 1.0, mean_scale: float = 1.0):
        v = validate_params(self._parameter_constraints,
                            {"n": n, "sigma": sigma, "mean_scale": mean_scale})
        self.n_queries = self.n_hypotheses = v["n"]
        self.sigma = v["sigma"]
        self.mean_scale = v["mean_scale"]

    def z_star(self, theta):
        """The best arm (lowest index on ties)."""
        return int(np.argmax(theta))

    def clip(self, theta):
        """The bounded instance space used by adversaries [I]: centre, then clip to ±3·scale.

        Without a bound, score-function ascent drives the means to magnitudes where the
        policy's inputs saturate (measured: pools at ±1000 with ρ ≈ 0 that an MLP still lost).
        """
        theta = np.asarray(theta, dtype=np.float64)
        theta = theta - 0.5 * (theta.max() + theta.min())
        b = 3.0 * self.mean_scale
        return np.clip(theta, -b, b)

    def hypothesis_values(self, theta):
        """The arm means."""
        return np.asarray(theta, dtype=np.float64)

    def score(self, theta, xs, ys):
        """Gaussian score ``Σ_t (y_t − θ_{x_t}) / σ² e_{x_t}``."""
        g = np.zeros(self.n_queries)
        np.add.at(g, xs, (ys - theta[xs]) / self.sigma**2)
        return g

    def _costs(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        i = int(np.argmax(theta))
        c = (theta[i] - theta) ** 2 / (2 * self.sigma**2)
        return c, i

    def rho(self, theta):
        """ρ = 1 / max_λ min_{j≠i*} c_j / (1/λ_{i*} + 1/λ_j) (inf on a tie for the best arm)."""
        c, i = self._costs(theta)
        if np.min(np.delete(c, i)) <= 0:
            return math.inf
        v, _ = maxmin_bai(c, i, self.rho_iters)
        return 1.0 / v

    def allocation(self, theta):
        """λ*(θ) from :func:`maxmin_bai` (uniform on ties)."""
        c, i = self._costs(theta)
        if np.min(np.delete(c, i)) <= 0:
            return np.full(self.n_queries, 1.0 / self.n_queries)
        return maxmin_bai(c, i, self.rho_iters)[1]

    def sample_unrestricted(self, rng):
        """θ_i ~ N(0, mean_scale²) i.i.d."""
        return rng.standard_normal(self.n_queries) * self.mean_scale

    def project_to_class(self, theta, r, n_bisect=30):
        """Scale the gaps to the best arm: ρ(θ_{i*} + c(θ − θ_{i*})) = ρ(θ) / c² (exact).

        Returns θ when ρ(θ) ≤ r, else the scaled instance with ρ = r (up to the solver's
        accuracy, with a 1e-9 relative margin); one ρ evaluation instead of a bisection.
        """
        theta = np.asarray(theta, dtype=np.float64)
        rho = self.rho(theta)
        if rho <= r:
            return theta
        if not np.isfinite(rho):
            return super().project_to_class(theta, r, n_bisect)
        c = math.sqrt(rho / r) * (1 + 1e-9)
        best = theta[int(np.argmax(theta))]
        out = best + c * (theta - best)
        return out - 0.5 * (out.max() + out.min())  # re-centre (ρ is shift invariant)

    def boundary_instance(self, rng, r):
        """A structured instance with ρ = r: k competitors close to the best, the rest far [I].

        k ~ U{1, …, n − 1} competitors at gaps 1 + U(0, 0.3) and the other arms at gaps
        U(2, 5), in random order, then all gaps scaled so that ρ = r (:meth:`project_to_class`
        in both directions) and clipped to the bounded instance space (which can only lower
        ρ). These families (one close competitor; all arms equally close) are where uniform
        allocation is respectively worst and best for a given ρ, so adversary pools are
        seeded with them as well as with :meth:`sample_instance` draws.
        """
        n = self.n_queries
        k = int(rng.integers(1, n))
        gaps = np.concatenate([1.0 + 0.3 * rng.random(k), rng.uniform(2.0, 5.0, n - 1 - k)])
        theta = -np.concatenate([[0.0], gaps])[rng.permutation(n)]
        c = math.sqrt(self.rho(theta) / r) * (1 + 1e-9)
        best = theta.max()
        return self.clip(best + c * (theta - best))

    def anchor(self, theta, r):
        """Best arm kept, all others at gap D with ρ(anchor) = r/2 (exact closed form)."""
        i = int(np.argmax(theta))
        n = self.n_queries
        gap = math.sqrt(2 * self.sigma**2 * (1 + math.sqrt(n - 1)) ** 2 / (0.5 * r))
        a = np.full(n, theta[i] - gap)
        a[i] = theta[i]
        return a


class Thresholds(InstanceProvider):
    """1-D thresholds with margin-dependent Bernoulli label noise [I].

    Points x = 0..n−1; θ_x = P(label 1 | x), non-decreasing; z*(θ) = first x with
    θ_x ≥ 1/2, or n when none (n + 1 hypotheses). Base distribution: a logistic curve
    θ_x = 1 / (1 + exp(−(x − c) / s)) with c ~ U(−0.5, n − 0.5) and s ~ U(0.3, 3).

    Args:
        n: Number of points (≥ 2).
    """

    name = "thresholds"
    problem = "thresholds"
    response_model = "bernoulli"

    _parameter_constraints: ClassVar[dict[str, Any]] = {"n": Interval("int", 2, None)}

    def __init__(self, n: int = 25):
        self.n_queries = validate_params(self._parameter_constraints, {"n": n})["n"]
        self.n_hypotheses = self.n_queries + 1

    def z_star(self, theta):
        """First index with θ_x ≥ 1/2, else n."""
        idx = np.nonzero(np.asarray(theta) >= 0.5)[0]
        return int(idx[0]) if idx.size else self.n_queries

    def score(self, theta, xs, ys):
        """Bernoulli score ``Σ_t (y_t / θ_x − (1 − y_t) / (1 − θ_x)) e_{x_t}``."""
        p = np.clip(theta, P_CLIP, 1 - P_CLIP)
        g = np.zeros(self.n_queries)
        np.add.at(g, xs, ys / p[xs] - (1 - ys) / (1 - p[xs]))
        return g

    def _alt_matrix(self, theta):
        """Rows: closed-form inner minima ``λ_{k−1} kl(θ_{k−1}, ½)`` and ``λ_k kl(θ_k, ½)``.

        Moving to the nearest alternative only pushes the one point next to the threshold
        across 1/2 (monotonicity makes every farther alternative costlier).
        """
        theta = np.asarray(theta, dtype=np.float64)
        n = self.n_queries
        k = self.z_star(theta)
        half = np.full(n, 0.5)
        kl = bernoulli_kl_vec(theta, half)
        rows = []
        if k > 0:
            row = np.zeros(n)
            row[k - 1] = kl[k - 1]
            rows.append(row)
        if k < n:
            row = np.zeros(n)
            row[k] = kl[k]
            rows.append(row)
        return np.array(rows)

    def rho(self, theta):
        """ρ = Σ over the (one or two) nearest alternatives of 1 / kl(θ_x, ½).

        ``max_λ min(a λ_{k−1}, b λ_k) = ab / (a + b)`` in closed form, so ρ = 1/a + 1/b
        (inf when a point sits exactly at 1/2).
        """
        c = self._alt_matrix(theta).max(axis=1)
        if np.any(c <= 1e-15):
            return math.inf
        return float(np.sum(1.0 / c))

    def allocation(self, theta):
        """λ* ∝ 1 / kl(θ_x, ½) on the point(s) next to the threshold."""
        D = self._alt_matrix(theta)
        c = D.max(axis=1)
        lam = np.zeros(self.n_queries)
        for row, cj in zip(D, c, strict=True):
            lam[np.argmax(row)] = 1.0 / cj
        return lam / lam.sum()

    def clip(self, theta):
        """Sort (monotone) and clip to [0.01, 0.99]."""
        return np.clip(np.sort(np.asarray(theta, dtype=np.float64)), 0.01, 0.99)

    def sample_unrestricted(self, rng):
        """A logistic curve with random centre and slope (two uniform draws)."""
        c = rng.uniform(-0.5, self.n_queries - 0.5)
        s = rng.uniform(0.3, 3.0)
        x = np.arange(self.n_queries, dtype=np.float64)
        return np.clip(1.0 / (1.0 + np.exp(-(x - c) / s)), 0.01, 0.99)

    def anchor(self, theta, r):
        """0.01 left of the threshold and 0.99 from it on (same z*).

        ρ(anchor) = 2 / kl(0.01, ½) ≈ 3.14 (1.57 when the threshold is at an end), the
        smallest ρ in the clipped instance space; classes with a smaller r are empty.
        """
        k = self.z_star(theta)
        a = np.full(self.n_queries, 0.01)
        a[k:] = 0.99
        return a


def _read_prob_csv(path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2 or rows[0][0] != "pid":
        raise BanditlabError(f"q20 data: {path.name} must start with a 'pid,q0,...' header")
    width = len(rows[0])
    pids, vals = [], []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise BanditlabError(
                f"q20 data: {path.name} line {i} has {len(row)} fields, expected {width}"
            )
        try:
            pids.append(int(row[0]))
            vals.append([float(v) for v in row[1:]])
        except ValueError:
            raise BanditlabError(f"q20 data: {path.name} line {i} is not numeric") from None
    arr = np.array(vals, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise BanditlabError(f"q20 data: {path.name} probabilities must lie in [0, 1]")
    return np.array(pids, dtype=np.int64), arr


def load_q20(data_dir: str | Path | None = None) -> dict:
    """Load the shipped Q20 subset (Hu et al., EMNLP 2018; Apache-2.0, see the data README).

    Args:
        data_dir: Folder holding ``right_prob.csv``, ``wrong_prob.csv`` and ``persons.csv``;
            default: the copy shipped in ``banditlab/envs/active/data/q20`` (read with
            importlib.resources).

    Returns:
        ``{"pid": int64[P], "right": float64[P, Q], "wrong": float64[P, Q],
        "prior": float64[P]}``.

    Raises:
        BanditlabError: Malformed files or probabilities outside [0, 1].
    """
    if data_dir is None:
        root = importlib.resources.files("banditlab.envs.active") / "data" / "q20"
    else:
        root = Path(data_dir)
    pid_r, right = _read_prob_csv(root / "right_prob.csv")
    pid_w, wrong = _read_prob_csv(root / "wrong_prob.csv")
    if right.shape != wrong.shape or not np.array_equal(pid_r, pid_w):
        raise BanditlabError("q20 data: right_prob.csv and wrong_prob.csv disagree on persons")
    prior = np.ones(len(pid_r))
    persons = root / "persons.csv"
    if persons.is_file():
        with persons.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if [int(r["pid"]) for r in rows] == pid_r.tolist():
            prior = np.array([float(r["prior"]) for r in rows])
    return {"pid": pid_r, "right": right, "wrong": wrong, "prior": prior / prior.sum()}


class Q20(InstanceProvider):
    """Noisy 20 Questions on the shipped subset of Hu et al. (2018) [I for the task].

    Hypotheses are persons, queries are questions, θ is P(yes) of the secret person.
    ``unknown="drop"``: binary answers with P(yes) = right / (right + wrong) (the unknown
    answers are dropped, i.e. the user is re-asked); ``unknown="category"``: three answers
    yes / no / unknown with probabilities (right, wrong, 1 − right − wrong) clipped at 0 and
    renormalised, drawn by inverse CDF of one uniform and reported as responses 1, 0 and 0.5.
    In that mode the ``stats`` observation is not sufficient (use ``obs_mode="history"``), and
    ρ and the adversary use the binary model.

    Args:
        n_persons: Use the first ``n_persons`` persons (≤ 100).
        n_questions: Use the first ``n_questions`` questions (≤ 500).
        unknown: ``"drop"`` or ``"category"``.
        data_dir: Alternative data folder with the same files (tests of malformed data).
    """

    name = "q20"
    problem = "table"
    response_model = "bernoulli"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "data_dir": [None, InstanceOf(str, Path, what="a folder path")],
        "unknown": Options("drop", "category"),
        "n_persons": Interval("int", 2, None),
        "n_questions": Interval("int", 1, None),
    }

    def __init__(self, n_persons: int = 100, n_questions: int = 500, unknown: str = "drop",
                 data_dir: str | None = None):
        v = validate_params(self._parameter_constraints,
                            {"data_dir": data_dir, "unknown": unknown, "n_persons": n_persons,
                             "n_questions": n_questions})
        data = load_q20(data_dir)
        n_p, n_q = v["n_persons"], v["n_questions"]
        if n_p > data["right"].shape[0]:
            raise BanditlabError(f"n_persons: at most {data['right'].shape[0]}, got {n_p}")
        if n_q > data["right"].shape[1]:
            raise BanditlabError(f"n_questions: at most {data['right'].shape[1]}, got {n_q}")
        self.unknown = unknown
        self.data_dir = data_dir
        self.response_model = "bernoulli" if unknown == "drop" else "categorical"
        self.pid = data["pid"][:n_p]
        self.right = data["right"][:n_p, :n_q]
        self.wrong = data["wrong"][:n_p, :n_q]
        self.prior = data["prior"][:n_p] / data["prior"][:n_p].sum()
        den = self.right + self.wrong
        self.table = np.where(den > 0, self.right / np.maximum(den, 1e-12), 0.5)
        self.n_hypotheses, self.n_queries = self.table.shape
        self._rho_cache: dict[int, float] = {}

    def z_star(self, theta):
        """The person whose P(yes) row is nearest to θ in summed Bernoulli KL."""
        theta = np.asarray(theta, dtype=np.float64)
        exact = np.flatnonzero((self.table == theta).all(axis=1))
        if exact.size == 1:
            return int(exact[0])
        p = np.clip(theta, P_CLIP, 1 - P_CLIP)
        q = np.clip(self.table, P_CLIP, 1 - P_CLIP)
        d = (p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))).sum(axis=1)
        return int(np.argmin(d))

    def response(self, theta, x, u, h=None):
        """Binary: ``1[u < θ_x]``; categorical: yes (1) / no (0) / unknown (0.5) by inverse CDF.

        ``h`` (the secret person, default z*(θ)) selects the categorical probabilities.
        """
        if self.unknown == "drop":
            return 1.0 if u < theta[x] else 0.0
        h = self.z_star(theta) if h is None else int(h)
        r, w = self.right[h, x], self.wrong[h, x]
        unk = max(1.0 - r - w, 0.0)
        s = r + w + unk
        if u < r / s:
            return 1.0
        if u < (r + w) / s:
            return 0.0
        return 0.5

    def score(self, theta, xs, ys):
        """Bernoulli score of the binary model."""
        p = np.clip(theta, P_CLIP, 1 - P_CLIP)
        g = np.zeros(self.n_queries)
        ys = np.asarray(ys, dtype=np.float64)
        np.add.at(g, xs, ys / p[xs] - (1 - ys) / (1 - p[xs]))
        return g

    def _alt_matrix(self, theta, h):
        others = np.delete(self.table, h, axis=0)
        th = np.broadcast_to(np.asarray(theta, dtype=np.float64), others.shape)
        return bernoulli_kl_vec(th.ravel(), others.ravel()).reshape(others.shape)

    def rho(self, theta):
        """ρ with the finite alternative set of the other persons (binary model), by LP."""
        theta = np.asarray(theta, dtype=np.float64)
        h = self.z_star(theta)
        exact = np.array_equal(theta, self.table[h])
        if exact and h in self._rho_cache:
            return self._rho_cache[h]
        v, _ = maxmin_lp(self._alt_matrix(theta, h))
        out = 1.0 / v if v > 1e-15 else math.inf
        if exact:
            self._rho_cache[h] = out
        return out

    def allocation(self, theta):
        """λ*(θ) over the questions (LP)."""
        theta = np.asarray(theta, dtype=np.float64)
        return maxmin_lp(self._alt_matrix(theta, self.z_star(theta)))[1]

    def person_rhos(self) -> np.ndarray:
        """ρ of every person's own row, float64[n_h] (cached).

        With the shipped data and all 100 persons × 500 questions, the values are read from
        ``person_rho.csv`` (precomputed with :func:`maxmin_lp`, the same LP; a test checks a
        sample against a fresh solve); otherwise they are solved here (about 0.1–0.4 s each).
        """
        if (self.data_dir is None and self.n_hypotheses == 100 and self.n_queries == 500
                and not self._rho_cache):
            root = importlib.resources.files("banditlab.envs.active")
            path = root / "data" / "q20" / "person_rho.csv"
            with path.open(newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            if [int(r["pid"]) for r in rows] == self.pid.tolist():
                for h, r in enumerate(rows):
                    self._rho_cache[h] = float(r["rho"])
        return np.array([self.rho(self.table[h]) for h in range(self.n_hypotheses)])

    def clip(self, theta):
        """Clip to [0.001, 0.999]."""
        return np.clip(np.asarray(theta, dtype=np.float64), P_CLIP, 1 - P_CLIP)

    def sample_unrestricted(self, rng):
        """A person drawn uniformly (one integer draw); θ is that person's row."""
        return self.table[int(rng.integers(self.n_hypotheses))].copy()

    def sample_instance(self, rng, r=None, max_tries=50):
        """A person drawn uniformly among those with ρ ≤ r (one integer draw)."""
        if r is None:
            return self.sample_unrestricted(rng)
        ok = np.nonzero(self.person_rhos() <= r)[0]
        if ok.size == 0:
            raise BanditlabError(f"complexity_class: no person has rho <= {r}")
        return self.table[int(ok[rng.integers(ok.size)])].copy()

    def anchor(self, theta, r):
        """The secret person's own row (feasible when that person is in the class)."""
        return self.table[self.z_star(theta)].copy()

    def instance_ids(self):
        """The persons."""
        return self.n_hypotheses

    def instance_from_id(self, i):
        """Person ``i``'s P(yes) row."""
        i = int(i)
        if not 0 <= i < self.n_hypotheses:
            raise BanditlabError(f"instance_id: expected 0 <= id < {self.n_hypotheses}, got {i}")
        return self.table[i].copy()

    def known_constants(self):
        """Adds ``hypothesis_table`` (n_h × n_q P(yes)) and the person ``prior``."""
        out = super().known_constants()
        out["hypothesis_table"] = self.table.copy()
        out["prior"] = self.prior.copy()
        return out

    def kernel_table(self):
        """The P(yes) table."""
        return self.table


_RATINGS_FILE = InstanceOf(str, Path, what="a file path")


def read_jester_ratings(path: str | Path) -> np.ndarray:
    """Read a ratings file in the jester-data-1 layout.

    One user per line, comma- (or whitespace-) separated: the number of rated jokes, then
    one rating in [−10, 10] per joke, with 99 marking a missing rating.

    Returns:
        float64[U, J] ratings with NaN for missing entries.

    Raises:
        BanditlabError: Missing file, ragged or non-numeric rows, ratings out of range, or a
            count column that disagrees with the ratings.
    """
    p = Path(validate_value("ratings_file", path, _RATINGS_FILE))
    if not p.is_file():
        raise BanditlabError(f"ratings_file: no such file {str(p)!r}")
    rows = []
    for i, line in enumerate(p.read_text().splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        try:
            rows.append([float(v) for v in parts])
        except ValueError:
            raise BanditlabError(f"ratings_file: line {i} is not numeric") from None
    if not rows:
        raise BanditlabError("ratings_file: the file is empty")
    width = len(rows[0])
    if width < 3 or any(len(r) != width for r in rows):
        raise BanditlabError("ratings_file: every line needs the same number (>= 3) of fields")
    arr = np.array(rows)
    counts, ratings = arr[:, 0], arr[:, 1:]
    missing = ratings == 99
    if np.any(~missing & ((ratings < -10) | (ratings > 10))):
        raise BanditlabError("ratings_file: ratings must lie in [-10, 10] (99 = missing)")
    if np.any(counts != (~missing).sum(axis=1)):
        raise BanditlabError("ratings_file: first column must count the rated jokes of the line")
    return np.where(missing, np.nan, ratings)


class JesterLinear(InstanceProvider):
    """Transductive linear best-arm identification from Jester-style ratings [I].

    Users who rated every joke are kept; ratings are centred by their global mean and a
    rank-d SVD ``R ≈ U S Vᵀ`` gives joke features ``x_j = V_j S^{1/2}`` and user vectors
    ``θ_u = U_u S^{1/2}``. The arms are the ``m`` jokes with the largest rating variance;
    σ is the residual standard deviation. Responses ``⟨x_j, θ⟩ + σ z``. Instances are the real
    users (``instance_from_id``) or Gaussian draws matching their covariance.

    Args:
        ratings_file: Path of the user-supplied ratings file (:func:`read_jester_ratings`).
        m: Number of arms (jokes), 2 ≤ m ≤ number of jokes.
        d: Feature dimension, 1 ≤ d ≤ min(m, users).
    """

    name = "jester_linear"
    problem = "linear"
    response_model = "gaussian"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "ratings_file": _RATINGS_FILE,
        "m": Interval("int", 2, None),
        "d": Interval("int", 1, None),
    }

    def __init__(self, ratings_file: str, m: int = 20, d: int = 10):
        v = validate_params(self._parameter_constraints,
                            {"ratings_file": ratings_file, "m": m, "d": d})
        m, d = v["m"], v["d"]
        ratings = read_jester_ratings(ratings_file)
        full = ratings[~np.isnan(ratings).any(axis=1)]
        if full.shape[0] < 2:
            raise BanditlabError("ratings_file: need at least 2 users who rated every joke")
        if m > full.shape[1]:
            raise BanditlabError(f"m: at most {full.shape[1]} jokes, got {m}")
        if d > min(m, full.shape[0]):
            raise BanditlabError(f"d: at most min(m, users) = {min(m, full.shape[0])}, got {d}")
        jokes = np.sort(np.argsort(-full.var(axis=0), kind="stable")[:m])
        R = full[:, jokes]
        Rc = R - R.mean()
        U, S, Vt = np.linalg.svd(Rc, full_matrices=False)
        sq = np.sqrt(S[:d])
        self.features = Vt[:d].T * sq  # (m, d)
        self.users = U[:, :d] * sq  # (U, d)
        resid = Rc - self.users @ self.features.T
        self.sigma = float(max(np.sqrt(np.mean(resid**2)), 1e-3))
        self.jokes = jokes
        self.n_queries = self.n_hypotheses = m
        self.d = d
        self._cov_chol = np.linalg.cholesky(np.cov(self.users.T).reshape(d, d) + 1e-9 * np.eye(d))

    def means(self, theta):
        """``X θ``."""
        return self.features @ np.asarray(theta, dtype=np.float64)

    def z_star(self, theta):
        """The joke with the largest mean rating."""
        return int(np.argmax(self.means(theta)))

    def hypothesis_values(self, theta):
        """Mean rating of every joke."""
        return self.means(theta)

    def score(self, theta, xs, ys):
        """``Σ_t (y_t − ⟨x_t, θ⟩) x_t / σ²``."""
        X = self.features[xs]
        return X.T @ (ys - X @ theta) / self.sigma**2

    def rho(self, theta, iters=None):
        """``2σ² min_λ max_{j≠j*} ‖x*−x_j‖²_{A(λ)⁻¹} / ⟨x*−x_j, θ⟩²`` by mirror descent."""
        return self._design(theta, iters)[0]

    def allocation(self, theta):
        """λ*(θ) of the XY-design problem."""
        return self._design(theta, None)[1]

    def _design(self, theta, iters):
        iters = iters or self.rho_iters
        mu = self.means(theta)
        j = int(np.argmax(mu))
        Y = self.features[j] - np.delete(self.features, j, axis=0)
        gaps = mu[j] - np.delete(mu, j)
        if np.min(gaps) <= 1e-12:
            return math.inf, np.full(self.n_queries, 1.0 / self.n_queries)
        X = self.features
        lam = np.full(self.n_queries, 1.0 / self.n_queries)
        best, best_lam = math.inf, lam.copy()
        for k in range(iters):
            A = X.T @ (lam[:, None] * X) + 1e-9 * np.eye(self.d)
            Ainv_Y = np.linalg.solve(A, Y.T)  # (d, J)
            vals = np.einsum("dj,jd->j", Ainv_Y, Y) / gaps**2
            f = float(vals.max())
            if f < best:
                best, best_lam = f, lam.copy()
            tau = 0.3 * 0.01 ** (k / max(iters - 1, 1))
            w = np.exp(-(np.log(f) - np.log(vals)) / tau)
            w /= w.sum()
            # d vals_j / d lam_x = -(x^T A^{-1} y_j)^2 / gap_j^2
            G = -((X @ Ainv_Y) ** 2) / gaps**2  # (m, J)
            grad = (G * (w / vals)).sum(axis=1) * lam  # natural scale of log objective
            eta = 0.5 / math.sqrt(k + 1)
            lam = lam * np.exp(-eta * (grad - grad.min()))
            lam = np.maximum(lam / lam.sum(), 1e-12)
            lam /= lam.sum()
        return 2 * self.sigma**2 * best, best_lam

    def sample_unrestricted(self, rng):
        """θ ~ N(0, Σ_users) with the empirical covariance of the user vectors."""
        return self._cov_chol @ rng.standard_normal(self.d)

    def anchor(self, theta, r):
        """The instance scaled up until ρ ≤ r/2 (ρ scales as 1/c² under θ ↦ cθ)."""
        rho = self.rho(theta)
        c = math.sqrt(max(rho / (0.5 * r), 1.0))
        return np.asarray(theta) * c

    def instance_ids(self):
        """The real users."""
        return self.users.shape[0]

    def instance_from_id(self, i):
        """User ``i``'s vector."""
        i = int(i)
        if not 0 <= i < self.users.shape[0]:
            raise BanditlabError(f"instance_id: expected 0 <= id < {self.users.shape[0]}, got {i}")
        return self.users[i].copy()

    def known_constants(self):
        """Adds the joke ``features`` (m × d)."""
        out = super().known_constants()
        out["features"] = self.features.copy()
        return out


PROVIDERS = {
    "synthetic_bai": SyntheticBAI,
    "thresholds": Thresholds,
    "q20": Q20,
    "jester_linear": JesterLinear,
}


_PROVIDER = Options(*PROVIDERS)


def make_provider(name: str, kwargs: dict | None = None) -> InstanceProvider:
    """Build a provider by name (``synthetic_bai``, ``thresholds``, ``q20``, ``jester_linear``).

    Raises:
        BanditlabError: Unknown name, unknown keyword argument or an invalid argument value.
    """
    validate_value("provider", name, _PROVIDER)
    kwargs = dict(kwargs or {})
    check_kwargs(PROVIDERS[name].__init__, kwargs, f"provider_kwargs of {name!r}")
    return PROVIDERS[name](**kwargs)
