"""SOR family solvers: SOR, SSOR-PCG, CG and Young's omega against independent dense/SciPy code."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from scipy.sparse.linalg import cg as scipy_cg

from banditlab.core import BanditlabError
from banditlab.envs.sor.instances import (
    Heat2D,
    draw_truncated_gaussian,
    laplacian_2d,
    shift_young_omega,
)
from banditlab.envs.sor.solvers import (
    as_csr,
    cg_solve,
    jacobi_spectral_radius,
    sor,
    sor_solve,
    sor_solve_stencil,
    ssor_pcg,
    ssor_pcg_solve,
    young_omega,
)


def dense_sor_iterations(a, b, x0, omega, tol, maxiter):
    """Independent SOR in matrix form: x <- x + (D/w + L)^-1 (b - A x); ||r_k||/||r_0|| < tol."""
    m = np.diag(np.diag(a)) / omega + np.tril(a, -1)
    x = x0.copy()
    r = b - a @ x
    r0 = np.linalg.norm(r)
    for k in range(1, maxiter + 1):
        x = x + solve_triangular(m, r, lower=True)
        r = b - a @ x
        if np.linalg.norm(r) / r0 < tol:
            return k, x
    return maxiter, x


def dense_pcg_iterations(a, b, x0, m_inv, tol, maxiter):
    """Textbook PCG with an explicit dense preconditioner inverse, stop ||r_k|| <= tol ||b||."""
    x = x0.copy()
    r = b - a @ x
    nb = np.linalg.norm(b)
    if np.linalg.norm(r) <= tol * nb:
        return 0, x
    z = m_inv @ r
    p = z.copy()
    rz = r @ z
    for k in range(1, maxiter + 1):
        q = a @ p
        alpha = rz / (p @ q)
        x = x + alpha * p
        r = r - alpha * q
        if np.linalg.norm(r) <= tol * nb:
            return k, x
        z = m_inv @ r
        rz_new = r @ z
        p = z + rz_new / rz * p
        rz = rz_new
    return maxiter, x


def random_spd(rng, n, density=0.15):
    """A sparse, diagonally dominant SPD matrix as a dense array."""
    mask = rng.random((n, n)) < density
    off = np.where(mask, -rng.random((n, n)), 0.0)
    off = np.triu(off, 1)
    off = off + off.T
    diag = np.abs(off).sum(axis=1) + rng.uniform(0.05, 1.0, n)
    return off + np.diag(diag)


def shuffled_csr(a, rng):
    """CSR triple of ``a`` with the column order inside each row shuffled."""
    m = sp.csr_matrix(a)
    data, indices, indptr = m.data.copy(), m.indices.astype(np.int64), m.indptr.astype(np.int64)
    for i in range(a.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        perm = rng.permutation(hi - lo) + lo
        data[lo:hi], indices[lo:hi] = data[perm], indices[perm]
    return data, indices, indptr


@pytest.fixture(scope="module")
def lap10():
    return laplacian_2d(10)


def test_laplacian_matches_kronecker_construction(lap10):
    one = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(10, 10))
    eye = sp.identity(10)
    ref = (sp.kron(eye, one) + sp.kron(one, eye)).toarray()
    data, indices, indptr = lap10
    got = sp.csr_matrix((data, indices, indptr), shape=(100, 100)).toarray()
    np.testing.assert_array_equal(got, ref)


def test_sor_matches_dense_sor_on_shifted_laplacians(lap10):
    rng = np.random.default_rng(0)
    data, indices, indptr = lap10
    a0 = sp.csr_matrix((data, indices, indptr)).toarray()
    for _ in range(6):
        c = rng.uniform(-0.1, 0.45)
        w = rng.uniform(1.2, 1.95)
        b = draw_truncated_gaussian(rng, 100)
        x, k, conv = sor_solve(data, indices, indptr, b, np.zeros(100), w, 1e-8, 10000, c)
        k_ref, x_ref = dense_sor_iterations(a0 + c * np.eye(100), b, np.zeros(100), w, 1e-8,
                                            10000)
        assert conv
        assert k == k_ref
        np.testing.assert_allclose(x, x_ref, rtol=1e-9, atol=1e-12)
        assert sor_solve_stencil(10, b, np.zeros(100), w, 1e-8, 10000, c)[1] == k


def test_stencil_kernel_is_bit_identical_to_csr(lap10):
    rng = np.random.default_rng(1)
    data, indices, indptr = lap10
    for _ in range(5):
        b = rng.standard_normal(100)
        x0 = rng.standard_normal(100)
        c, w = rng.uniform(-0.1, 0.4), rng.uniform(1.0, 1.9)
        xa, ka, ca = sor_solve(data, indices, indptr, b, x0, w, 1e-9, 10000, c)
        xb, kb, cb = sor_solve_stencil(10, b, x0, w, 1e-9, 10000, c)
        assert ka == kb and ca == cb
        np.testing.assert_array_equal(xa, xb)


def test_sor_matches_dense_sor_on_random_spd_with_unsorted_columns():
    rng = np.random.default_rng(2)
    for n in (7, 30, 60):
        a = random_spd(rng, n)
        data, indices, indptr = shuffled_csr(a, rng)
        b = rng.standard_normal(n)
        x0 = rng.standard_normal(n)
        for w in (0.8, 1.0, 1.5):
            x, k, conv = sor_solve(data, indices, indptr, b, x0, w, 1e-10, 5000, 0.0)
            k_ref, x_ref = dense_sor_iterations(a, b, x0, w, 1e-10, 5000)
            assert conv and k == k_ref
            np.testing.assert_allclose(x, x_ref, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(a @ x, b, atol=1e-7 * np.linalg.norm(b))


def test_sor_zero_initial_residual_costs_zero(lap10):
    data, indices, indptr = lap10
    b = np.zeros(100)
    x, k, conv = sor_solve(data, indices, indptr, b, np.zeros(100), 1.3, 1e-8, 100, 0.0)
    assert k == 0 and conv


def test_cg_matches_scipy_cg(lap10):
    rng = np.random.default_rng(3)
    data, indices, indptr = lap10
    for c in (-0.1, 0.0, 0.3):
        a = sp.csr_matrix((data, indices, indptr)) + c * sp.identity(100)
        b = draw_truncated_gaussian(rng, 100)
        x, k, conv = cg_solve(data, indices, indptr, b, np.zeros(100), 1e-8, 1000, c)
        count = []
        x_ref, status = scipy_cg(a, b, rtol=1e-8, atol=0.0, maxiter=1000,
                                 callback=lambda xk, count=count: count.append(1))
        assert conv and status == 0
        assert abs(k - len(count)) <= 1
        np.testing.assert_allclose(x, x_ref, atol=1e-6)


@pytest.mark.parametrize("order", ["upper_first", "lower_first"])
def test_ssor_pcg_matches_dense_pcg(order):
    rng = np.random.default_rng(4)
    for n in (20, 64):
        a = random_spd(rng, n, density=0.2)
        d = np.diag(np.diag(a))
        low = np.tril(a, -1)
        for w in (0.7, 1.2, 1.8):
            lf = d + w * low
            uf = lf.T
            if order == "upper_first":
                m = uf @ np.linalg.inv(d) @ lf / (w * (2 - w))
            else:
                m = lf @ np.linalg.inv(d) @ uf / (w * (2 - w))
            b = rng.standard_normal(n)
            x0 = rng.standard_normal(n) * 0.1
            x, k, conv = ssor_pcg(a, b, w, tol=1e-9, x0=x0, order=order)
            k_ref, x_ref = dense_pcg_iterations(a, b, x0, np.linalg.inv(m), 1e-9, 1000)
            assert conv
            assert abs(k - k_ref) <= 1
            np.testing.assert_allclose(x, x_ref, atol=1e-6)


def test_ssor_pcg_warm_start_and_zero_rhs(lap10):
    data, indices, indptr = lap10
    a = sp.csr_matrix((data, indices, indptr)).toarray()
    rng = np.random.default_rng(5)
    b = rng.standard_normal(100)
    x_exact = np.linalg.solve(a, b)
    _, k, conv = ssor_pcg_solve(data, indices, indptr, b, x_exact, 1.5, 1e-8, 100, 0.0, 0)
    assert k == 0 and conv
    x, k, conv = ssor_pcg_solve(data, indices, indptr, np.zeros(100), x_exact, 1.5, 1e-8, 100,
                                0.0, 0)
    assert k == 0 and conv and not np.any(x)
    # A cold start takes several iterations and fewer than vanilla CG.
    _, k_ssor, _ = ssor_pcg_solve(data, indices, indptr, b, np.zeros(100), 1.5, 1e-8, 1000,
                                  0.0, 0)
    _, k_cg, _ = cg_solve(data, indices, indptr, b, np.zeros(100), 1e-8, 1000, 0.0)
    assert 1 < k_ssor < k_cg


def test_young_omega_closed_forms_match_dense_eigenvalues(lap10):
    data, indices, indptr = lap10
    a0 = sp.csr_matrix((data, indices, indptr)).toarray()
    rng = np.random.default_rng(6)
    for c in (-0.15, 0.0, 0.45):
        a = a0 + c * np.eye(100)
        jac = np.eye(100) - a / np.diag(a)[:, None]
        beta = np.max(np.abs(np.linalg.eigvals(jac)))
        assert shift_young_omega(c) == pytest.approx(young_omega(beta), rel=1e-12)
        est = jacobi_spectral_radius(data, indices, indptr, c, 3000, rng.standard_normal(100))
        assert est == pytest.approx(beta, rel=1e-6)
    heat = Heat2D(8)
    for kappa in (0.05, 3.0):
        a_data, _, _ = heat.system(0, heat.u0)
        half = 0.5 * kappa * heat.dt
        ldense = sp.csr_matrix(heat.lap, shape=(heat.n, heat.n)).toarray()
        a = np.eye(heat.n) + half * ldense
        jac = np.eye(heat.n) - a / np.diag(a)[:, None]
        beta = np.max(np.abs(np.linalg.eigvals(jac)))
        assert heat.young_omega(kappa) == pytest.approx(young_omega(beta), rel=1e-10)
        del a_data


def test_young_omega_beats_the_grid_on_average(lap10):
    """Young's omega* is slightly better than the grid instance-optimum (10 x 10 Laplacian)."""
    data, indices, indptr = lap10
    rng = np.random.default_rng(7)
    grid = np.linspace(1.0, 1.95, 20)
    young_total, grid_total = 0, 0
    for _ in range(25):
        c = -0.15 + 0.6 * rng.beta(2.0, 6.0)
        b = draw_truncated_gaussian(rng, 100)
        young_total += sor_solve_stencil(10, b, np.zeros(100), float(shift_young_omega(c)),
                                         1e-8, 10000, c)[1]
        grid_total += min(sor_solve_stencil(10, b, np.zeros(100), w, 1e-8, 10000, c)[1]
                          for w in grid)
    assert young_total < grid_total


def test_near_singular_system_hits_cap_and_reports_not_converged(lap10):
    data, indices, indptr = lap10
    lam_min = 8.0 - 8.0 * np.cos(np.pi / 22.0) ** 2  # 4 - 4 cos(pi/11)
    c = -lam_min + 1e-7
    b = draw_truncated_gaussian(np.random.default_rng(8), 100)
    x, k, conv = sor_solve(data, indices, indptr, b, np.zeros(100), 1.0, 1e-8, 300, c)
    assert k == 300 and not conv
    assert np.all(np.isfinite(x))


# --------------------------------------------------------------------------- bad input
def test_bad_matrices_raise():
    with pytest.raises(BanditlabError, match="A: expected a square"):
        as_csr(np.ones((3, 4)))
    with pytest.raises(BanditlabError, match="A: must be symmetric positive definite"):
        as_csr(np.array([[2.0, 1.0], [0.0, 2.0]]))  # not symmetric
    with pytest.raises(BanditlabError, match="A: must be symmetric positive definite"):
        as_csr(np.array([[1.0, 2.0], [2.0, 1.0]]))  # symmetric, indefinite
    with pytest.raises(BanditlabError, match="A: must be symmetric positive definite"):
        as_csr(np.array([[-1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(BanditlabError, match="A: every entry must be finite"):
        as_csr(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(BanditlabError, match="A: expected a square"):
        ssor_pcg(sp.csr_matrix(np.ones((2, 3))), np.ones(2), 1.0)


@pytest.mark.parametrize("omega", [0.0, 2.0, -0.5, 2.5, float("nan"), "1.5", True])
def test_omega_outside_open_interval_raises(omega):
    a = np.array([[2.0, -1.0], [-1.0, 2.0]])
    with pytest.raises(BanditlabError, match="omega"):
        sor(a, np.ones(2), omega)
    with pytest.raises(BanditlabError, match="omega"):
        ssor_pcg(a, np.ones(2), omega)


@pytest.mark.parametrize("tol", [0.0, -1e-8, 1.0, float("inf")])
def test_bad_tolerance_raises(tol):
    a = np.array([[2.0, -1.0], [-1.0, 2.0]])
    with pytest.raises(BanditlabError, match="tol"):
        sor(a, np.ones(2), 1.2, tol=tol)
    with pytest.raises(BanditlabError, match="tol"):
        ssor_pcg(a, np.ones(2), 1.2, tol=tol)


def test_bad_vectors_and_caps_raise():
    a = np.array([[2.0, -1.0], [-1.0, 2.0]])
    with pytest.raises(BanditlabError, match="b: expected shape"):
        sor(a, np.ones(3), 1.2)
    with pytest.raises(BanditlabError, match="maxiter"):
        sor(a, np.ones(2), 1.2, maxiter=0)
    with pytest.raises(BanditlabError, match="order"):
        ssor_pcg(a, np.ones(2), 1.2, order="sideways")
    x, k, conv = sor(a, np.ones(2), 1.2)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)
    assert conv and k >= 1
