"""Complexity ρ(θ), classes and projections of the active-identification providers."""

from __future__ import annotations

import csv
import importlib.resources
import math

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from banditlab.core import BanditlabError
from banditlab.envs.active.providers import (
    Q20,
    SyntheticBAI,
    Thresholds,
    bernoulli_kl_vec,
    geometric_grid,
    maxmin_bai,
    maxmin_bai_mirror,
)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_bai_rho_matches_closed_form_equal_gaps(n, sigma):
    # one best arm, n-1 arms at gap D: rho = 2 sigma^2 (1 + sqrt(n-1))^2 / D^2
    gap = 0.7
    theta = np.zeros(n)
    theta[1] = gap
    p = SyntheticBAI(n=n, sigma=sigma)
    exact = 2 * sigma**2 * (1 + math.sqrt(n - 1)) ** 2 / gap**2
    assert p.rho(theta) == pytest.approx(exact, rel=1e-9)
    lam = p.allocation(theta)
    assert lam[1] == pytest.approx(math.sqrt(n - 1) / (math.sqrt(n - 1) + n - 1), rel=1e-9)


def _rho_bai_scipy(theta, sigma):
    """Independent: epigraph form solved by SLSQP from several starts."""
    n = len(theta)
    i = int(np.argmax(theta))
    c = (theta[i] - theta) ** 2 / (2 * sigma**2)
    others = [j for j in range(n) if j != i]

    def cons(z):
        lam, s = z[:n], z[n]
        return np.array([c[j] / (1 / lam[i] + 1 / lam[j]) - s for j in others])

    best = 0.0
    for start in (np.full(n, 1 / n), np.r_[np.full(n, 0.5 / (n - 1))]):
        start = start.copy()
        start[i] = 0.5 if n > 2 else start[i]
        start /= start.sum()
        z0 = np.r_[start, 0.0]
        res = minimize(lambda z: -z[n], z0, method="SLSQP",
                       constraints=[{"type": "ineq", "fun": cons},
                                    {"type": "eq", "fun": lambda z: z[:n].sum() - 1}],
                       bounds=[(1e-6, 1)] * n + [(0, None)], options={"maxiter": 500,
                                                                     "ftol": 1e-12})
        best = max(best, res.x[n])
    return 1 / best


def test_bai_rho_matches_scipy_and_garivier_kaufmann_bounds():
    rng = np.random.default_rng(0)
    p = SyntheticBAI(n=6, sigma=1.0)
    for _ in range(5):
        theta = rng.standard_normal(6)
        rho = p.rho(theta)
        assert rho == pytest.approx(_rho_bai_scipy(theta, 1.0), rel=1e-4)
        gaps = np.sort(theta)[::-1]
        d = gaps[0] - gaps[1:]
        H = 2 * (1 / d[0] ** 2 + np.sum(1 / d**2))  # sum over all arms, Delta_{i*} = Delta_min
        assert H * (1 - 1e-6) <= rho <= 2 * H * (1 + 1e-6)


def test_maxmin_bai_exact_and_mirror_ascent_agree():
    c = np.array([0.0, 0.3, 1.2, 2.0])
    v, lam = maxmin_bai(c, 0, 60)
    assert lam.sum() == pytest.approx(1.0) and lam.min() >= 0
    inner = [c[j] / (1 / lam[0] + 1 / lam[j]) for j in (1, 2, 3)]
    assert v == pytest.approx(min(inner)) and max(inner) == pytest.approx(min(inner), rel=1e-6)
    vm, lam_m = maxmin_bai_mirror(c, 0, 300)
    assert vm <= v * (1 + 1e-9) and vm == pytest.approx(v, rel=0.05)
    assert vm == pytest.approx(min(c[j] / (1 / lam_m[0] + 1 / lam_m[j]) for j in (1, 2, 3)))


def test_thresholds_rho_closed_form_against_lp_over_all_alternatives():
    # every alternative threshold j pushes the block between j and z* across 1/2; the LP
    # over all of them (independent solver) must equal the two-neighbour closed form
    rng = np.random.default_rng(1)
    p = Thresholds(n=8)
    for _ in range(5):
        theta = p.sample_unrestricted(rng)
        k = p.z_star(theta)
        kl = bernoulli_kl_vec(theta, np.full(8, 0.5))
        rows = []
        for j in range(9):
            if j == k:
                continue
            row = np.zeros(8)
            lo, hi = (j, k) if j < k else (k, j)
            row[lo:hi] = kl[lo:hi]
            rows.append(row)
        D = np.array(rows)
        J, n = D.shape
        res = linprog(np.r_[np.zeros(n), -1.0], A_ub=np.hstack([-D, np.ones((J, 1))]),
                      b_ub=np.zeros(J), A_eq=np.r_[np.ones(n), 0.0][None], b_eq=[1.0],
                      bounds=[(0, None)] * n + [(None, None)], method="highs")
        assert p.rho(theta) == pytest.approx(1 / res.x[-1], rel=1e-6)


def test_q20_shipped_rho_matches_fresh_lp():
    root = importlib.resources.files("banditlab.envs.active") / "data" / "q20"
    with (root / "person_rho.csv").open() as f:
        shipped = [float(r["rho"]) for r in csv.DictReader(f)]
    p = Q20()
    fresh = Q20()
    fresh._rho_cache = {}
    for h in (0, 37, 99):
        D = fresh._alt_matrix(fresh.table[h], h)
        # brute-force check of the inner minimum: the LP value is a min over the rows
        res = linprog(np.r_[np.zeros(D.shape[1]), -1.0],
                      A_ub=np.hstack([-D, np.ones((D.shape[0], 1))]), b_ub=np.zeros(D.shape[0]),
                      A_eq=np.r_[np.ones(D.shape[1]), 0.0][None], b_eq=[1.0],
                      bounds=[(0, None)] * D.shape[1] + [(None, None)], method="highs")
        lam = res.x[:-1]
        assert (D @ lam).min() == pytest.approx(res.x[-1], rel=1e-6)
        assert shipped[h] == pytest.approx(1 / res.x[-1], rel=1e-6)
    assert p.person_rhos()[37] == pytest.approx(shipped[37])


def test_projection_into_class():
    rng = np.random.default_rng(3)
    bai = SyntheticBAI(n=5)
    for _ in range(5):
        theta = bai.sample_unrestricted(rng)
        r = bai.rho(theta) / 3
        proj = bai.project_to_class(theta, r)
        assert bai.z_star(proj) == bai.z_star(theta)
        assert r * 0.99 <= bai.rho(proj) <= r * (1 + 1e-6)
        # generic bisection along the segment to the anchor also lands inside
        generic = super(SyntheticBAI, bai).project_to_class(theta, r)
        assert bai.rho(generic) <= r and bai.z_star(generic) == bai.z_star(theta)
    thr = Thresholds(n=10)
    for _ in range(5):
        theta = thr.sample_unrestricted(rng)
        r = max(thr.rho(theta) / 4, 8.0)
        proj = thr.project_to_class(theta, r)
        assert thr.rho(proj) <= r
        assert np.all(np.diff(proj) >= 0) and thr.z_star(proj) == thr.z_star(theta)
    # sampling restricted to a class
    xs = [bai.sample_instance(rng, 12.0) for _ in range(20)]
    assert max(bai.rho(x) for x in xs) <= 12.0 * (1 + 1e-6)


def test_geometric_grid_and_errors():
    np.testing.assert_allclose(geometric_grid(3.0, 4), [3, 6, 12, 24])
    with pytest.raises(BanditlabError, match="r1"):
        geometric_grid(-1.0, 3)
    with pytest.raises(BanditlabError, match="n"):
        SyntheticBAI(n=1)
    with pytest.raises(BanditlabError, match="sigma"):
        SyntheticBAI(sigma=0.0)


def test_linear_rho_with_unit_features_reduces_to_best_arm():
    # x_j = e_j turns the transductive linear program into Gaussian best-arm identification
    from banditlab.envs.active.providers import JesterLinear

    p = JesterLinear.__new__(JesterLinear)  # bypass the ratings file: set the features
    n = 4
    p.features, p.d, p.n_queries, p.n_hypotheses, p.sigma, p.rho_iters = (
        np.eye(n), n, n, n, 1.0, 400)
    sym = np.array([0.0, 0.7, 0.0, 0.0])
    assert p.rho(sym) == pytest.approx(2 * (1 + math.sqrt(n - 1)) ** 2 / 0.49, rel=1e-3)
    theta = np.array([0.3, 1.0, -0.5, 0.6])
    # mirror descent is approximate (measured 1.0 % above the exact value here)
    assert SyntheticBAI(n=n).rho(theta) <= p.rho(theta) * (1 + 1e-9)
    assert p.rho(theta) == pytest.approx(SyntheticBAI(n=n).rho(theta), rel=0.02)
