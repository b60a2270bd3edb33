"""Model kernels of the SEA envs: parameters, state layout and the Numba step/comparator kernels.

This is the leaf module of the SEA env package: :mod:`banditlab.envs.sea.env` (the
Gymnasium classes) and :mod:`banditlab.envs.sea.oracle` (comparators, run totals) both
import it, and it imports neither. Every kernel is a module-level ``@njit(cache=True)``
function of ``(state, params, ...)`` with ``params`` a :class:`SEAParams` and ``state`` a
:class:`SEAState` (two small per-round helpers are ``inline="always"``).

The per-round kernels (``sea_*_step``, :func:`sea_observe`) allocate nothing: :func:`sea_init`
allocates every array, the observation is a view of a row of ``SEAState.obs_buf`` and the
action is only read during the step. Checkpoints and the Python helpers of the oracle may
allocate.

One set of kernels serves the three losses (``SEAParams.kind`` selects the loss):

* :data:`KIND_QUADRATIC` ``f(x) = 0.5 ||x - z||_H^2``, ``z = theta + xi``;
* :data:`KIND_LEAST_SQUARES` ``f(x) = 0.5 (a'x - y)^2``, Rademacher ``a``,
  ``y = a'theta + eps``;
* :data:`KIND_LOGISTIC` ``f(x) = log(1 + exp(-y a'x))``, ``a`` uniform on a sphere,
  ``P(y = 1 | a) = sigmoid(a'theta)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.kernels.projections import (
    project_ball_inplace,
    trs_dense,
    trs_dense_into,
    trs_diag,
    trs_diag_into,
)

__all__ = [
    "KIND_QUADRATIC",
    "KIND_LEAST_SQUARES",
    "KIND_LOGISTIC",
    "SCHEDULES",
    "NOISE_KINDS",
    "FEEDBACKS",
    "LOSSES",
    "SEAParams",
    "SEAState",
    "sea_theta_at",
    "logistic_objective",
    "logistic_min",
    "logistic_min_into",
    "sea_init",
    "sea_quadratic_step",
    "sea_least_squares_step",
    "sea_logistic_step",
    "sea_observe",
    "sea_quadratic_static",
    "sea_least_squares_static",
    "sea_logistic_static",
    "sea_quadratic_checkpoint",
    "sea_least_squares_checkpoint",
    "sea_logistic_checkpoint",
    "sea_static_solution",
    "sea_expected_gradient",
    "sea_next_comparator",
]

KIND_QUADRATIC = 0
KIND_LEAST_SQUARES = 1
KIND_LOGISTIC = 2

SCHEDULES = ("fixed", "drift", "alternating", "poisoned", "switching", "reactive")
"""Adversary schedules; ``SEAParams.schedule`` is an index into this tuple."""
SCHED_FIXED, SCHED_DRIFT, SCHED_ALTERNATING, SCHED_POISONED, SCHED_SWITCHING, SCHED_REACTIVE = (
    range(6)
)
NOISE_KINDS = ("gaussian", "ball")
"""Noise distributions; ``SEAParams.noise_kind`` is an index into this tuple."""
NOISE_GAUSSIAN, NOISE_BALL = range(2)
FEEDBACKS = ("gradient", "data")
"""What the learner observes; ``SEAParams.feedback`` is an index into this tuple."""
FEEDBACK_GRADIENT, FEEDBACK_DATA = range(2)
LOSSES = ("quadratic", "least_squares", "logistic")
"""Names of the loss kinds, indexed by ``SEAParams.kind`` (the ``loss`` known constant)."""

# Slots of the per-step scalars ``SEAState.scal`` (values of the last round).
S_LOSS, S_FX, S_FU_REAL, S_FU, S_SIGMA2, S_VAR, S_OBSVAR, S_PATH = range(8)
# Slots of the cumulative sums ``SEAState.cum`` (over the rounds played so far).
(C_LOSS, C_SIGMA2, C_VAR, C_OBSVAR, C_DYN_REAL, C_DYN_EXP, C_PATH, C_SIGMA2_MAX, C_VAR_MAX,
 C_SZZ, C_STHTH) = range(11)
# Slots of the round counters ``SEAState.t``.
T_ROUND, T_OBS = range(2)
# Rows of the per-round vectors ``SEAState.vec`` (float64[N_VEC, d]).
(V_THETA, V_THETA_PREV, V_X, V_GRAD_EXP, V_U, V_U_PREV, V_STHETA, V_SZ, V_CACHE_THETA,
 V_U_NEW, V_B, V_DRAW, V_H, V_THETA_BAR) = range(14)
N_VEC = 14
# Slots of the logistic cache ``SEAState.cache``.
CACHE_VALID, CACHE_SIGMA2, CACHE_FU = range(3)
# Rows of the logistic warm starts ``SEAState.warm``.
WARM_REALISED, WARM_EXPECTED = range(2)
# Rows of the logistic probe-weight scratch ``SEAState.pscratch``.
P_CW, P_QW = range(2)


class SEAParams(NamedTuple):
    """Parameters of a SEA env instance (immutable; ``EnvKernel.params``).

    ``d`` is the dimension, ``M`` the number of logistic probe features and ``P`` the
    number of probe points (``M = P = 1`` placeholders for the quadratic and
    least-squares losses).

    Attributes:
        kind: int64, the loss (:data:`KIND_QUADRATIC`, :data:`KIND_LEAST_SQUARES`,
            :data:`KIND_LOGISTIC`).
        d: int64, dimension of the decision set.
        radius: float64, radius ``R`` of the ball ``{||x|| <= R}``.
        h: float64[d], diagonal of ``H`` (quadratic loss; ones otherwise).
        noise: float64, noise level ``s`` (unused by the logistic loss).
        noise_kind: int64, index into :data:`NOISE_KINDS` (0 gaussian, 1 ball).
        schedule: int64, index into :data:`SCHEDULES`.
        amplitude: float64, ``A``: size of ``theta`` (drift radius, ``||theta_bar||``,
            switching stage norm, reactive scale).
        period: float64, ``P`` of the drift schedule (rounds per revolution).
        rho: float64, sign-flip probability of the poisoned schedule.
        stages: int64, number of stages of the switching schedule.
        theta_bar: float64[d], ``A e_1``, the base theta of fixed, alternating, poisoned
            and reactive.
        feature_norm: float64, norm of the logistic features.
        probes: float64[M, d], logistic probe features (antithetic pairs).
        probe_pts: float64[P, d], points where the logistic sigma^2 and Sigma^2 are
            estimated (``{0, +-R e_i}``, ``P = 2d + 1``).
        horizon: int64, the run length ``T`` (switching stage lengths, logistic storage).
        feedback: int64, index into :data:`FEEDBACKS` (0: the observation is the last
            gradient, float64[d]; 1: the gradient followed by the round's data record,
            float64[2d + 1], see :func:`sea_observe`).
    """

    kind: np.int64
    d: np.int64
    radius: float
    h: np.ndarray
    noise: float
    noise_kind: np.int64
    schedule: np.int64
    amplitude: float
    period: float
    rho: float
    stages: np.int64
    theta_bar: np.ndarray
    feature_norm: float
    probes: np.ndarray
    probe_pts: np.ndarray
    horizon: np.int64
    feedback: np.int64


class SEAState(NamedTuple):
    """Kernel state of a SEA env (updated in place). ``d`` dimension, ``T`` horizon.

    The vectors a round reads and writes are rows of one array, ``vec``, and the last two
    observations are the rows of ``obs_buf``: the step kernels then touch a handful of
    arrays per round (Numba counts references per array and per kernel call).

    Attributes:
        t: int64[2], at the slots ``T_*``: rounds completed; the row of ``obs_buf`` holding
            the current observation.
        vec: float64[14, d], per-round vectors at the rows ``V_*``:
            ``V_THETA`` theta of the *next* round (fixed before the learner acts);
            ``V_THETA_PREV`` theta of the last completed round;
            ``V_X`` the last action played (projected onto the ball);
            ``V_GRAD_EXP`` ``grad F_t(x_t)`` of the last round;
            ``V_U`` the dynamic comparator ``u_t = argmin_X F_t`` of the last round;
            ``V_U_PREV`` ``u_{t-1}``;
            ``V_STHETA`` sum theta_s;
            ``V_SZ`` quadratic: sum z_s; least squares: sum a_s y_s;
            ``V_CACHE_THETA`` theta the caches refer to (quadratic: the comparator, reused
            while theta does not move; logistic: the probe caches); NaN before the first
            round;
            ``V_U_NEW``, ``V_B``, ``V_DRAW`` scratch (the round's comparator, the linear term
            ``H theta`` of its trust-region solve, the round's draw ``z_t`` or ``a_t``);
            ``V_H`` the diagonal of ``H`` and ``V_THETA_BAR`` ``theta_bar`` (copies of the
            parameters).
        signs: float64[T + 2], pre-drawn +-1 of the ``poisoned`` schedule (length 1 otherwise).
        stage_thetas: float64[S, d], pre-drawn stage optima of ``switching``.
        scal: float64[8], per-step scalars of the last round, at the slots ``S_*``: loss,
            F(x), f(u), F(u), sigma^2, Sigma^2, observed variation, path increment.
        cum: float64[11], cumulative sums at the slots ``C_*``: loss, sigma^2, Sigma^2,
            observed variation, sum f(u), sum F(u), path length, max sigma^2, max Sigma^2,
            then (static comparators) quadratic sum z_s'H z_s or least squares sum y_s^2,
            and sum theta_s'H theta_s (H = I except for the quadratic).
        saa: float64[d, d], least squares: sum a_s a_s' (zeros otherwise).
        data_a: float64[T, d], logistic: stored features (shape (1, d) otherwise).
        data_y: float64[T], logistic: stored labels as 1[y = 1].
        psum: float64[M], logistic: sum_s sigmoid(a_j'theta_s) over the probe features.
        pcur: float64[M], logistic: sigmoid(a_j'theta) for the cached theta.
        pg_cur: float64[2d+1, d], logistic: estimated grad F at the probe points (cached theta).
        pg_prev: float64[2d+1, d], the same for the previous distinct theta.
        cache: float64[3], logistic, at the slots ``CACHE_*``: valid flag, sigma^2
            estimate, F(u).
        warm: float64[2, d], warm starts of the logistic static comparators (rows
            ``WARM_REALISED``, ``WARM_EXPECTED``).
        obs_buf: float64[2, n], the last two observations (``n = d`` for gradient
            feedback, ``2d + 1`` for data feedback): row ``t[T_OBS]`` holds the current
            one, the last gradient ``g_t = grad f_t(x_t)`` (then, with data feedback, the
            round's data record: quadratic ``(z_t, 0)``, least squares and logistic
            ``(a_t, y_t)``, logistic ``y_t`` in ``{-1, +1}``); the other row the one before
            (its first ``d`` entries are ``g_{t-1}``). Each step writes the row the previous
            observation does not use, so that one stays intact. Zeros before the first
            round.
        pscratch: float64[2, M], logistic probe weights of the comparator solve (rows
            ``P_CW``, ``P_QW``).
        nvec: float64[6, d], scratch vectors of :func:`logistic_min_into` (logistic;
            shape (6, 1) otherwise).
        nmat: float64[2, d, d], scratch matrices of :func:`logistic_min_into` (logistic;
            shape (2, 1, 1) otherwise).
    """

    t: np.ndarray
    vec: np.ndarray
    signs: np.ndarray
    stage_thetas: np.ndarray
    scal: np.ndarray
    cum: np.ndarray
    saa: np.ndarray
    data_a: np.ndarray
    data_y: np.ndarray
    psum: np.ndarray
    pcur: np.ndarray
    pg_cur: np.ndarray
    pg_prev: np.ndarray
    cache: np.ndarray
    warm: np.ndarray
    obs_buf: np.ndarray
    pscratch: np.ndarray
    nvec: np.ndarray
    nmat: np.ndarray

    @property
    def theta(self) -> np.ndarray:
        """The theta of the next round (a view of ``vec[V_THETA]``)."""
        return self.vec[V_THETA]

    @property
    def x(self) -> np.ndarray:
        """The last action played (a view of ``vec[V_X]``)."""
        return self.vec[V_X]

    @property
    def u(self) -> np.ndarray:
        """The dynamic comparator of the last round (a view of ``vec[V_U]``)."""
        return self.vec[V_U]

    @property
    def grad(self) -> np.ndarray:
        """The last observed gradient (a view of the current row of ``obs_buf``)."""
        return self.obs_buf[self.t[T_OBS], : self.vec.shape[1]]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _sigmoid(u):
    if u >= 0.0:
        return 1.0 / (1.0 + np.exp(-u))
    e = np.exp(u)
    return e / (1.0 + e)


@njit(cache=True)
def _softplus(u):
    return max(u, 0.0) + np.log1p(np.exp(-abs(u)))


@njit(cache=True)
def _theta_into(sched, vec, signs, stage_thetas, amp, period, horizon, t):
    """Write ``theta_t`` of the schedule into ``vec[V_THETA]`` (reads ``V_THETA_BAR``, ``V_X``)."""
    d = vec.shape[1]
    if sched == SCHED_FIXED:
        for i in range(d):
            vec[V_THETA, i] = vec[V_THETA_BAR, i]
    elif sched == SCHED_DRIFT:  # drift(P)
        ang = 2.0 * np.pi * t / period
        for i in range(d):
            vec[V_THETA, i] = 0.0
        vec[V_THETA, 0] = amp * np.cos(ang)
        vec[V_THETA, 1] = amp * np.sin(ang)
    elif sched == SCHED_ALTERNATING:
        sgn = 1.0 if t % 2 == 0 else -1.0
        for i in range(d):
            vec[V_THETA, i] = sgn * vec[V_THETA_BAR, i]
    elif sched == SCHED_POISONED:  # poisoned(rho)
        sgn = signs[min(t, signs.shape[0] - 1)]
        for i in range(d):
            vec[V_THETA, i] = sgn * vec[V_THETA_BAR, i]
    elif sched == SCHED_SWITCHING:  # switching(S)
        n_stages = stage_thetas.shape[0]
        k = ((t - 1) * n_stages) // max(horizon, 1)
        k = min(max(k, 0), n_stages - 1)
        for i in range(d):
            vec[V_THETA, i] = stage_thetas[k, i]
    else:  # reactive: -A x_{t-1}/||x_{t-1}||, theta_bar when x_{t-1} = 0
        ss = 0.0
        for i in range(d):
            ss += vec[V_X, i] * vec[V_X, i]
        nrm = np.sqrt(ss)
        if t == 1 or nrm <= 1e-12:
            for i in range(d):
                vec[V_THETA, i] = vec[V_THETA_BAR, i]
        else:
            f = -amp / nrm
            for i in range(d):
                vec[V_THETA, i] = f * vec[V_X, i]


@njit(cache=True)
def sea_theta_at(params, state, t):
    """Write ``theta_t`` (round ``t >= 1``) of the schedule into ``state.vec[V_THETA]``."""
    _theta_into(params.schedule, state.vec, state.signs, state.stage_thetas, params.amplitude,
                params.period, params.horizon, t)


@njit(cache=True)
def logistic_objective(feats, n, c, q, x):
    """``sum_{j<n} c_j softplus(a_j'x) - q_j a_j'x`` for features ``feats`` (float64[>=n, d])."""
    val = 0.0
    for j in range(n):
        uj = 0.0
        for i in range(x.shape[0]):
            uj += feats[j, i] * x[i]
        val += c[j] * _softplus(uj) - q[j] * uj
    return val


@njit(cache=True)
def logistic_min(feats, n, c, q, x0, radius):
    """Minimise :func:`logistic_objective` over the ball by projected Newton.

    Each Newton step minimises the local quadratic model exactly over the ball (a
    trust-region subproblem), followed by Armijo backtracking; the iterate stays feasible.

    Returns:
        ``(x, value)``: float64[d] minimiser (to ~1e-10) and the objective there (a new
        array; :func:`logistic_min_into` works in place without allocating).
    """
    d = x0.shape[0]
    x = x0.copy()
    f0 = logistic_min_into(feats, n, c, q, x, radius, np.zeros((6, d)), np.zeros((2, d, d)))
    return x, f0


@njit(cache=True)
def logistic_min_into(feats, n, c, q, x, radius, vec, mat):
    """:func:`logistic_min` in place: ``x`` (float64[d]) holds the start and receives the minimiser.

    Args:
        feats: float64[>=n, d] features.
        n: Number of features used.
        c: float64[>=n] weights of the softplus terms.
        q: float64[>=n] weights of the linear terms.
        x: float64[d], the start on entry, the minimiser on exit.
        radius: Ball radius.
        vec: float64[6, d] scratch (gradient, Newton right-hand side, trust-region solution,
            its work vector, the step and the trial point).
        mat: float64[2, d, d] scratch (Hessian, Cholesky factor).

    Returns:
        The objective at the minimiser.
    """
    d = x.shape[0]
    grad = vec[0]
    rhs = vec[1]
    z = vec[2]
    w = vec[3]
    p = vec[4]
    xn = vec[5]
    hess = mat[0]
    work = mat[1]
    project_ball_inplace(x, radius)
    f0 = logistic_objective(feats, n, c, q, x)
    for _ in range(60):
        for i in range(d):
            grad[i] = 0.0
            for k in range(d):
                hess[i, k] = 0.0
        for j in range(n):
            uj = 0.0
            for i in range(d):
                uj += feats[j, i] * x[i]
            sj = _sigmoid(uj)
            gj = c[j] * sj - q[j]
            wj = c[j] * sj * (1.0 - sj)
            for i in range(d):
                grad[i] += gj * feats[j, i]
                for k in range(i + 1):
                    hess[i, k] += wj * feats[j, i] * feats[j, k]
        for i in range(d):
            hess[i, i] += 1e-12
            for k in range(i):
                hess[k, i] = hess[i, k]
        np.dot(hess, x, rhs)  # the BLAS product of ``hess @ x``, into a buffer
        for i in range(d):
            rhs[i] -= grad[i]
        trs_dense_into(hess, rhs, radius, z, work, w)
        pp = 0.0
        xx = 0.0
        slope = 0.0
        for i in range(d):
            p[i] = z[i] - x[i]
            pp += p[i] * p[i]
            xx += x[i] * x[i]
            slope += grad[i] * p[i]
        pn = np.sqrt(pp)
        if pn <= 1e-13 * (1.0 + np.sqrt(xx)):
            break
        if slope >= 0.0:
            break
        alpha = 1.0
        accepted = False
        fn = f0
        while alpha > 1e-12:
            for i in range(d):
                xn[i] = x[i] + alpha * p[i]
            fn = logistic_objective(feats, n, c, q, xn)
            if fn <= f0 + 1e-4 * alpha * slope:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            break
        for i in range(d):
            x[i] = xn[i]
        f0 = fn
        if alpha * pn <= 1e-11:
            break
    return f0


@njit(cache=True)
def _logistic_refresh(probes, pts, rnorm, radius, vec, pcur, pg_prev, pg_cur, pscratch, nvec,
                      nmat, cache):
    """Recompute the logistic caches (probe probabilities, u, F(u), sigma^2) for ``theta``.

    ``theta`` is ``vec[V_THETA]``; the comparator is solved in place in ``vec[V_U]`` and
    ``vec[V_CACHE_THETA]`` records ``theta``. Takes the arrays of :class:`SEAParams` and
    :class:`SEAState` it reads and writes.
    """
    d = vec.shape[1]
    m = probes.shape[0]
    for j in range(m):
        uj = 0.0
        for i in range(d):
            uj += probes[j, i] * vec[V_THETA, i]
        pcur[j] = _sigmoid(uj)
    n_pts = pts.shape[0]
    for k in range(n_pts):
        for i in range(d):
            pg_prev[k, i] = pg_cur[k, i]
    sig2 = 0.0
    for k in range(n_pts):
        for i in range(d):
            pg_cur[k, i] = 0.0
        second = 0.0
        for j in range(m):
            uj = 0.0
            for i in range(d):
                uj += probes[j, i] * pts[k, i]
            sj = _sigmoid(uj)
            pj = pcur[j]
            for i in range(d):
                pg_cur[k, i] += (sj - pj) * probes[j, i]
            second += (sj - pj) ** 2 + pj * (1.0 - pj)
        gg = 0.0
        for i in range(d):
            pg_cur[k, i] /= m
            gg += pg_cur[k, i] * pg_cur[k, i]
        val = rnorm * rnorm * second / m - gg
        if val > sig2:
            sig2 = val
    cw = pscratch[P_CW]
    qw = pscratch[P_QW]
    for j in range(m):
        cw[j] = 1.0 / m
        qw[j] = pcur[j] / m
    fu = logistic_min_into(probes, m, cw, qw, vec[V_U], radius, nvec, nmat)
    cache[CACHE_SIGMA2] = sig2
    cache[CACHE_FU] = fu
    for i in range(d):
        vec[V_CACHE_THETA, i] = vec[V_THETA, i]


@njit(cache=True)
def sea_init(params, rng):
    """Initial state; pre-draws the oblivious adversary (poisoned signs, switching stages)."""
    d = params.d
    sched = params.schedule
    horizon = params.horizon
    kind = params.kind
    m = params.probes.shape[0]
    n_pts = params.probe_pts.shape[0]
    if sched == SCHED_POISONED:
        signs = np.ones(horizon + 2)
        for t in range(horizon + 2):
            if rng.random() < params.rho:
                signs[t] = -1.0
    else:
        signs = np.ones(1)
    if sched == SCHED_SWITCHING:
        n_stages = params.stages
        stage = np.zeros((n_stages, d))
        for k in range(n_stages):
            v = np.empty(d)
            for i in range(d):
                v[i] = rng.standard_normal()
            v *= params.amplitude / np.sqrt(np.sum(v * v))
            stage[k] = v
    else:
        stage = np.zeros((1, d))
    cap = horizon if kind == KIND_LOGISTIC else 1
    n_obs = d if params.feedback == FEEDBACK_GRADIENT else 2 * d + 1
    dn = d if kind == KIND_LOGISTIC else 1
    vec = np.zeros((N_VEC, d))
    for i in range(d):
        vec[V_CACHE_THETA, i] = np.nan  # no comparator cached yet
        vec[V_H, i] = params.h[i]
        vec[V_THETA_BAR, i] = params.theta_bar[i]
    state = SEAState(
        np.zeros(2, np.int64), vec, signs, stage, np.zeros(8), np.zeros(11), np.zeros((d, d)),
        np.zeros((cap, d)), np.zeros(cap), np.zeros(m), np.zeros(m), np.zeros((n_pts, d)),
        np.zeros((n_pts, d)), np.zeros(3), np.zeros((2, d)), np.zeros((2, n_obs)),
        np.zeros((2, m)), np.zeros((6, dn)), np.zeros((2, dn, dn)),
    )
    sea_theta_at(params, state, 1)
    return state


# Per-round kernels. Numba counts references per array: each array a kernel call reads
# costs a pair of runtime calls per round (they are not elided in the fused loop), so the
# step kernels read a handful of arrays (the per-round vectors are rows of ``vec``), read
# every field of ``state`` and ``params`` they need in their first lines and take arrays,
# not the tuples, to their helpers.


@njit(inline="always")
def _play(action, vec, radius):
    """``vec[V_X] = action`` projected onto the ball (as ``project_ball_inplace``)."""
    d = vec.shape[1]
    ss = 0.0
    for i in range(d):
        v = action[i]
        vec[V_X, i] = v
        ss += v * v
    nrm = np.sqrt(ss)
    if nrm > radius:
        f = radius / nrm
        for i in range(d):
            vec[V_X, i] *= f


@njit(cache=True)
def _quadratic_noise_scale(rng, noise_kind, s, d, ss):
    """Factor turning ``d`` standard normals with squared norm ``ss`` into the noise ``xi``.

    Ball noise draws one uniform here (radius ``s sqrt(d + 2) U^(1/d)``); Gaussian noise is
    ``s`` times the normals.
    """
    if noise_kind == NOISE_BALL:
        uu = rng.random()
        return s * np.sqrt(d + 2.0) * uu ** (1.0 / d) / max(np.sqrt(ss), 1e-300)
    return s


@njit(cache=True)
def _least_squares_noise(rng, noise_kind, s):
    """The label noise ``eps`` of a least-squares round (one uniform or one normal draw)."""
    if noise_kind == NOISE_BALL:
        return s * np.sqrt(3.0) * (2.0 * rng.random() - 1.0)
    return s * rng.standard_normal()


@njit(cache=True)
def _diag_comparator(vec, radius):
    """``vec[V_U_NEW] = argmin_{||x|| <= R} 0.5 ||x - theta||_H^2`` (theta ``vec[V_THETA]``).

    ``vec[V_B]`` receives the linear term ``H theta`` of the trust-region solve.
    """
    for i in range(vec.shape[1]):
        vec[V_B, i] = vec[V_H, i] * vec[V_THETA, i]
    trs_diag_into(vec[V_H], vec[V_B], radius, vec[V_U_NEW])


@njit(inline="always")
def _close_round(t, tt, vec, scal, cum, loss, fx, fu_real, fu, sig2, var, obsvar, path):
    """Common tail of the step kernels: theta shift and sum, per-step values and sums.

    The step kernels have written the round's vectors and the new observation row.
    """
    for i in range(vec.shape[1]):
        vec[V_STHETA, i] += vec[V_THETA, i]
        vec[V_THETA_PREV, i] = vec[V_THETA, i]
    scal[S_LOSS] = loss
    scal[S_FX] = fx
    scal[S_FU_REAL] = fu_real
    scal[S_FU] = fu
    scal[S_SIGMA2] = sig2
    scal[S_VAR] = var
    scal[S_OBSVAR] = obsvar
    scal[S_PATH] = path
    cum[C_LOSS] += loss
    cum[C_SIGMA2] += sig2
    cum[C_VAR] += var
    cum[C_OBSVAR] += obsvar
    cum[C_DYN_REAL] += fu_real
    cum[C_DYN_EXP] += fu
    cum[C_PATH] += path
    cum[C_SIGMA2_MAX] = max(cum[C_SIGMA2_MAX], sig2)
    cum[C_VAR_MAX] = max(cum[C_VAR_MAX], var)
    tt[T_OBS] = 1 - tt[T_OBS]
    tt[T_ROUND] = t


@njit(cache=True)
def sea_quadratic_step(state, params, action, rng):
    """Quadratic round: ``z = theta + xi``, ``f(x) = 0.5 ||x - z||_H^2``.

    The comparator ``u_t`` (the H-weighted projection of ``theta_t``) is solved when
    ``theta_t`` differs from the theta of the last solve (``vec[V_CACHE_THETA]``) and reused
    otherwise (the same solve would return the same point).

    Args:
        state: :class:`SEAState`.
        params: :class:`SEAParams`.
        action: float64[d] point of the ball (read during the call only).
        rng: The env's noise generator: ``d`` normals (+1 uniform for ball noise).

    Returns:
        ``(-f_t(x_t), -F_t(x_t), -F_t(u_t))``.
    """
    d = params.d
    radius = params.radius
    s = params.noise
    noise_kind = params.noise_kind
    sched = params.schedule
    amp = params.amplitude
    period = params.period
    horizon = params.horizon
    data = params.feedback != FEEDBACK_GRADIENT
    tt = state.t
    vec = state.vec
    signs = state.signs
    stage_thetas = state.stage_thetas
    scal = state.scal
    cum = state.cum
    obs = state.obs_buf
    t = tt[T_ROUND] + 1
    old = tt[T_OBS]  # the row of the previous observation (left intact)
    new = 1 - old
    _play(action, vec, radius)  # box points outside the ball are projected
    ss = 0.0
    for i in range(d):
        zi = rng.standard_normal()
        vec[V_DRAW, i] = zi
        ss += zi * zi
    f = _quadratic_noise_scale(rng, noise_kind, s, d, ss)
    fresh = False
    for i in range(d):
        vec[V_DRAW, i] *= f  # xi
        if vec[V_CACHE_THETA, i] != vec[V_THETA, i]:
            fresh = True
        vec[V_CACHE_THETA, i] = vec[V_THETA, i]
        vec[V_U_NEW, i] = vec[V_U, i]
    if fresh:  # u_t = argmin_X F_t, else u_t = u_{t-1} (same theta)
        _diag_comparator(vec, radius)
    s_loss = 0.0
    s_h = 0.0
    s_fx = 0.0
    s_fur = 0.0
    s_fu = 0.0
    s_hh = 0.0
    var = 0.0
    obsvar = 0.0
    s_hzz = 0.0
    s_hthth = 0.0
    pp = 0.0
    for i in range(d):
        th = vec[V_THETA, i]
        xv = vec[V_X, i]
        hi = vec[V_H, i]
        ui = vec[V_U_NEW, i]
        zi = th + vec[V_DRAW, i]
        e = xv - zi
        ex = xv - th
        gi = hi * e
        vec[V_GRAD_EXP, i] = hi * ex
        s_loss += hi * (e * e)
        s_h += hi
        s_fx += hi * (ex * ex)
        er = ui - zi
        s_fur += hi * (er * er)
        eu = ui - th
        s_fu += hi * (eu * eu)
        s_hh += hi * hi
        v = hi * (th - vec[V_THETA_PREV, i])
        var += v * v
        og = gi - obs[old, i]
        obsvar += og * og
        obs[new, i] = gi
        if data:
            obs[new, d + i] = zi
        vec[V_SZ, i] += zi
        s_hzz += hi * zi * zi
        s_hthth += hi * th * th
        ep = ui - vec[V_U, i]
        pp += ep * ep
        vec[V_U_PREV, i] = vec[V_U, i]
        vec[V_U, i] = ui
    if data:
        obs[new, 2 * d] = 0.0
    loss = 0.5 * s_loss
    base = 0.5 * s * s * s_h
    fx = 0.5 * s_fx + base
    fu_real = 0.5 * s_fur
    fu = 0.5 * s_fu + base
    sig2 = s * s * s_hh
    cum[C_SZZ] += s_hzz
    cum[C_STHTH] += s_hthth
    path = np.sqrt(pp)
    if t < 2:
        obsvar = 0.0
        path = 0.0
        var = 0.0
    _close_round(t, tt, vec, scal, cum, loss, fx, fu_real, fu, sig2, var, obsvar, path)
    if sched != SCHED_FIXED:  # the fixed schedule's theta_{t+1} is theta_t
        _theta_into(sched, vec, signs, stage_thetas, amp, period, horizon, t + 1)
    return -loss, -fx, -fu


@njit(cache=True)
def sea_least_squares_step(state, params, action, rng):
    """Least-squares round: Rademacher ``a``, ``y = a'theta + eps``, ``f(x) = 0.5 (a'x - y)^2``.

    Draws ``d`` uniforms (signs) and one normal (gaussian) or one uniform (ball) per step.
    """
    d = params.d
    radius = params.radius
    s = params.noise
    noise_kind = params.noise_kind
    sched = params.schedule
    amp = params.amplitude
    period = params.period
    horizon = params.horizon
    data = params.feedback != FEEDBACK_GRADIENT
    tt = state.t
    vec = state.vec
    signs = state.signs
    stage_thetas = state.stage_thetas
    scal = state.scal
    cum = state.cum
    saa = state.saa
    obs = state.obs_buf
    t = tt[T_ROUND] + 1
    old = tt[T_OBS]  # the row of the previous observation (left intact)
    new = 1 - old
    _play(action, vec, radius)  # box points outside the ball are projected
    for i in range(d):
        vec[V_DRAW, i] = 1.0 if rng.random() < 0.5 else -1.0
    eps = _least_squares_noise(rng, noise_kind, s)
    s_ath = 0.0
    s_ax = 0.0
    s_fx = 0.0
    s_thth = 0.0
    var = 0.0
    for i in range(d):
        th = vec[V_THETA, i]
        ai = vec[V_DRAW, i]
        s_ath += ai * th
        s_ax += ai * vec[V_X, i]
        e = vec[V_X, i] - th
        vec[V_GRAD_EXP, i] = e
        s_fx += e * e
        s_thth += th * th
        v = th - vec[V_THETA_PREV, i]
        var += v * v
    y = s_ath + eps
    r = s_ax - y
    loss = 0.5 * r * r
    fx = 0.5 * s_fx + 0.5 * s * s
    nt = np.sqrt(s_thth)  # u_t is the projection of theta_t: a scale factor
    f = radius / nt if nt > radius else 1.0
    s_au = 0.0
    s_fu = 0.0
    obsvar = 0.0
    pp = 0.0
    for i in range(d):
        th = vec[V_THETA, i]
        ai = vec[V_DRAW, i]
        ui = th * f if nt > radius else th
        s_au += ai * ui
        eu = ui - th
        s_fu += eu * eu
        gi = r * ai
        og = gi - obs[old, i]
        obsvar += og * og
        obs[new, i] = gi
        if data:
            obs[new, d + i] = ai
        ep = ui - vec[V_U, i]
        pp += ep * ep
        vec[V_U_PREV, i] = vec[V_U, i]
        vec[V_U, i] = ui
        vec[V_SZ, i] += ai * y
        for k in range(d):
            saa[i, k] += ai * vec[V_DRAW, k]
    if data:
        obs[new, 2 * d] = y
    ru = s_au - y
    fu_real = 0.5 * ru * ru
    fu = 0.5 * s_fu + 0.5 * s * s
    sig2 = (d - 1.0) * (radius + nt) ** 2 + d * s * s
    cum[C_SZZ] += y * y
    cum[C_STHTH] += s_thth
    path = np.sqrt(pp)
    if t < 2:
        obsvar = 0.0
        path = 0.0
        var = 0.0
    _close_round(t, tt, vec, scal, cum, loss, fx, fu_real, fu, sig2, var, obsvar, path)
    if sched != SCHED_FIXED:  # the fixed schedule's theta_{t+1} is theta_t
        _theta_into(sched, vec, signs, stage_thetas, amp, period, horizon, t + 1)
    return -loss, -fx, -fu


@njit(cache=True)
def sea_logistic_step(state, params, action, rng):
    """Logistic round: ``a`` uniform on the sphere, ``P(y = 1) = sigmoid(a'theta)``.

    Draws ``d`` normals and one uniform per step. Expected quantities use the probe features;
    the probe caches are recomputed when ``theta_t`` changes.
    """
    d = params.d
    radius = params.radius
    rnorm = params.feature_norm
    probes = params.probes
    probe_pts = params.probe_pts
    sched = params.schedule
    amp = params.amplitude
    period = params.period
    horizon = params.horizon
    data = params.feedback != FEEDBACK_GRADIENT
    tt = state.t
    vec = state.vec
    signs = state.signs
    stage_thetas = state.stage_thetas
    scal = state.scal
    cum = state.cum
    data_a = state.data_a
    data_y = state.data_y
    psum = state.psum
    pcur = state.pcur
    pg_cur = state.pg_cur
    pg_prev = state.pg_prev
    cache = state.cache
    pscratch = state.pscratch
    nvec = state.nvec
    nmat = state.nmat
    obs = state.obs_buf
    t = tt[T_ROUND] + 1
    old = tt[T_OBS]  # the row of the previous observation (left intact)
    new = 1 - old
    _play(action, vec, radius)  # box points outside the ball are projected
    ss = 0.0
    for i in range(d):
        ai = rng.standard_normal()
        vec[V_DRAW, i] = ai
        ss += ai * ai
    uy = rng.random()
    f = rnorm / max(np.sqrt(ss), 1e-300)
    changed = cache[CACHE_VALID] == 0.0
    for i in range(d):
        vec[V_DRAW, i] *= f
        if vec[V_CACHE_THETA, i] != vec[V_THETA, i]:
            changed = True
    if changed:  # only when theta moves
        _logistic_refresh(probes, probe_pts, rnorm, radius, vec, pcur, pg_prev, pg_cur,
                          pscratch, nvec, nmat, cache)
        cache[CACHE_VALID] = 1.0
    s_ath = 0.0
    s_ax = 0.0
    for i in range(d):
        s_ath += vec[V_DRAW, i] * vec[V_THETA, i]
        s_ax += vec[V_DRAW, i] * vec[V_X, i]
    ylab = 1.0 if uy < _sigmoid(s_ath) else 0.0
    ux = s_ax
    loss = _softplus(ux) - ylab * ux
    cg = _sigmoid(ux) - ylab
    m = probes.shape[0]
    fx = 0.0
    for i in range(d):
        vec[V_GRAD_EXP, i] = 0.0
    for j in range(m):
        uj = 0.0
        for i in range(d):
            uj += probes[j, i] * vec[V_X, i]
        fx += _softplus(uj) - pcur[j] * uj
        cj = _sigmoid(uj) - pcur[j]
        for i in range(d):
            vec[V_GRAD_EXP, i] += cj * probes[j, i]
    fx /= m
    uu_ = 0.0
    obsvar = 0.0
    pp = 0.0
    s_thth = 0.0
    idx = min(t - 1, data_y.shape[0] - 1)
    for i in range(d):
        ai = vec[V_DRAW, i]
        th = vec[V_THETA, i]
        vec[V_GRAD_EXP, i] /= m
        uu_ += ai * vec[V_U, i]
        gi = cg * ai
        og = gi - obs[old, i]
        obsvar += og * og
        obs[new, i] = gi
        if data:
            obs[new, d + i] = ai
        ep = vec[V_U, i] - vec[V_U_PREV, i]  # u_t (the cache) against u_{t-1}
        pp += ep * ep
        vec[V_U_PREV, i] = vec[V_U, i]
        data_a[idx, i] = ai
        s_thth += th * th
    if data:
        obs[new, 2 * d] = 2.0 * ylab - 1.0
    fu_real = _softplus(uu_) - ylab * uu_
    fu = cache[CACHE_FU]
    sig2 = cache[CACHE_SIGMA2]
    var = 0.0
    moved = False
    for i in range(d):
        if vec[V_THETA, i] != vec[V_THETA_PREV, i]:
            moved = True
    if moved:
        for k in range(pg_cur.shape[0]):
            vk = 0.0
            for i in range(d):
                e = pg_cur[k, i] - pg_prev[k, i]
                vk += e * e
            if vk > var:
                var = vk
    data_y[idx] = ylab
    for j in range(psum.shape[0]):
        psum[j] += pcur[j]
    cum[C_STHTH] += s_thth
    path = np.sqrt(pp)
    if t < 2:
        obsvar = 0.0
        path = 0.0
        var = 0.0
    _close_round(t, tt, vec, scal, cum, loss, fx, fu_real, fu, sig2, var, obsvar, path)
    if sched != SCHED_FIXED:  # the fixed schedule's theta_{t+1} is theta_t
        _theta_into(sched, vec, signs, stage_thetas, amp, period, horizon, t + 1)
    return -loss, -fx, -fu


@njit(cache=True)
def sea_observe(state, params):
    """The observation after the last round (zeros before the first round): a view.

    ``params.feedback`` 0 (gradient): ``grad f_t(x_t)``, float64[d]. 1 (data): float64[2d + 1],
    ``grad f_t(x_t)`` followed by the round's data record (quadratic ``(z_t, 0)``; least
    squares and logistic ``(a_t, y_t)``, logistic ``y_t`` in ``{-1, +1}``). It is the row
    ``state.t[T_OBS]`` of ``state.obs_buf``, which the next step leaves intact (it writes
    the other row); callers handing it to users copy it.
    """
    obs = state.obs_buf
    tt = state.t
    return obs[tt[T_OBS]]


@njit(cache=True)
def sea_quadratic_static(state, params, expected):
    """Best fixed point in hindsight over rounds ``1..t`` and its cumulative loss (quadratic).

    Args:
        state: :class:`SEAState`.
        params: :class:`SEAParams`.
        expected: ``False`` for ``argmin_X sum_s f_s`` (realised losses), ``True`` for
            ``argmin_X sum_s F_s`` (expected losses).

    Returns:
        ``(x, value)``: float64[d] minimiser and the minimal cumulative loss.
    """
    d = params.d
    radius = params.radius
    h = params.h
    s = params.noise
    t = state.t[T_ROUND]
    if t == 0:
        return np.zeros(d), 0.0
    q = t * h
    if expected:
        b = h * state.vec[V_STHETA]
        const = 0.5 * state.cum[C_STHTH] + t * 0.5 * s * s * np.sum(h)
    else:
        b = h * state.vec[V_SZ]
        const = 0.5 * state.cum[C_SZZ]
    x = trs_diag(q, b, radius)
    return x, 0.5 * np.sum(q * x * x) - np.sum(b * x) + const


@njit(cache=True)
def sea_least_squares_static(state, params, expected):
    """As :func:`sea_quadratic_static` for least squares (eigendecomposition + bisection)."""
    d = params.d
    radius = params.radius
    s = params.noise
    t = state.t[T_ROUND]
    if t == 0:
        return np.zeros(d), 0.0
    if expected:
        b = state.vec[V_STHETA].copy()
        x = trs_diag(np.full(d, float(t)), b, radius)
        val = 0.5 * t * np.sum(x * x) - np.sum(b * x) + 0.5 * state.cum[C_STHTH]
        return x, val + t * 0.5 * s * s
    sz = state.vec[V_SZ].copy()
    x = trs_dense(state.saa, sz, radius)
    val = 0.5 * np.sum(x * (state.saa @ x)) - np.sum(sz * x) + 0.5 * state.cum[C_SZZ]
    return x, val


@njit(cache=True)
def sea_logistic_static(state, params, expected):
    """As :func:`sea_quadratic_static` for logistic losses (projected Newton, warm-started).

    Realised: exact solve on the stored data; expected: the probe-feature estimate.
    """
    d = params.d
    radius = params.radius
    t = state.t[T_ROUND]
    if t == 0:
        return np.zeros(d), 0.0
    if expected:
        probes = params.probes
        m = probes.shape[0]
        cw = np.full(m, t / m)
        qw = state.psum / m
        x, val = logistic_min(probes, m, cw, qw, state.warm[WARM_EXPECTED], radius)
        state.warm[WARM_EXPECTED] = x
        return x, val
    n = min(t, state.data_y.shape[0])
    x, val = logistic_min(
        state.data_a, n, np.ones(n), state.data_y, state.warm[WARM_REALISED], radius
    )
    state.warm[WARM_REALISED] = x
    return x, val


@njit(cache=True)
def _checkpoint_tail(state, out):
    out[2] = -state.cum[C_DYN_REAL]
    out[3] = -state.cum[C_DYN_EXP]
    out[4] = state.cum[C_LOSS]
    out[5] = state.cum[C_SIGMA2]
    out[6] = state.cum[C_VAR]
    out[7] = state.cum[C_OBSVAR]
    return out


@njit(cache=True)
def sea_quadratic_checkpoint(state, params):
    """Cumulative values read at checkpoints.

    Returns:
        float64[8]: static realised, static expected, dynamic realised, dynamic expected
        (comparators in reward units), then loss, stochastic_variance,
        adversarial_variation, observed_variation.
    """
    out = np.zeros(8)
    out[0] = -sea_quadratic_static(state, params, False)[1]
    out[1] = -sea_quadratic_static(state, params, True)[1]
    return _checkpoint_tail(state, out)


@njit(cache=True)
def sea_least_squares_checkpoint(state, params):
    """As :func:`sea_quadratic_checkpoint` for least squares."""
    out = np.zeros(8)
    out[0] = -sea_least_squares_static(state, params, False)[1]
    out[1] = -sea_least_squares_static(state, params, True)[1]
    return _checkpoint_tail(state, out)


@njit(cache=True)
def sea_logistic_checkpoint(state, params):
    """As :func:`sea_quadratic_checkpoint` for logistic losses."""
    out = np.zeros(8)
    out[0] = -sea_logistic_static(state, params, False)[1]
    out[1] = -sea_logistic_static(state, params, True)[1]
    return _checkpoint_tail(state, out)


def sea_static_solution(state, params, expected):
    """Dispatch to the static solver of the env's loss kind (Python helper for the oracle)."""
    fn = (sea_quadratic_static, sea_least_squares_static, sea_logistic_static)[int(params.kind)]
    return fn(state, params, bool(expected))


@njit(cache=True)
def sea_expected_gradient(state, params, x):
    """``grad F(x)`` (float64[d]) for the *next* round's theta (``state.vec[V_THETA]``).

    Logistic: the probe-feature estimate. Used by oracle agents only.
    """
    kind = params.kind
    h = params.h
    th = state.vec[V_THETA]
    if kind == KIND_QUADRATIC:
        return h * (x - th)
    if kind == KIND_LEAST_SQUARES:
        return x - th
    probes = params.probes
    m = probes.shape[0]
    g = np.zeros(x.shape[0])
    for j in range(m):
        pj = _sigmoid(np.sum(probes[j] * th))
        g += (_sigmoid(np.sum(probes[j] * x)) - pj) * probes[j]
    return g / m


@njit(cache=True)
def _next_comparator_closed_form(state, params):
    kind = params.kind
    radius = params.radius
    h = params.h
    th = state.vec[V_THETA]
    if kind == KIND_QUADRATIC:
        return trs_diag(h, h * th, radius)
    u = th.copy()
    project_ball_inplace(u, radius)
    return u


@njit(cache=True)
def _next_comparator_logistic(state, params):
    radius = params.radius
    th = state.vec[V_THETA]
    probes = params.probes
    m = probes.shape[0]
    qw = np.empty(m)
    for j in range(m):
        qw[j] = _sigmoid(np.sum(probes[j] * th)) / m
    u, _ = logistic_min(probes, m, np.full(m, 1.0 / m), qw, state.vec[V_U], radius)
    return u


def sea_next_comparator(state, params):
    """``u_{t+1} = argmin_X F_{t+1}`` for the next round's theta (oracle agents only)."""
    if int(params.kind) == KIND_LOGISTIC:
        return _next_comparator_logistic(state, params)
    return _next_comparator_closed_form(state, params)
