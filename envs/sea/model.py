"""Model kernels of the SEA envs: parameters, state layout and the Numba step/comparator kernels.

This is the leaf module of the SEA env package: :mod:`banditlab.envs.sea.env` (the
Gymnasium classes) and :mod:`banditlab.envs.sea.oracle` (comparators, run totals) both
import it, and it imports neither. Every kernel is a module-level ``@njit(cache=True)``
function of ``(state, params, ...)`` with ``params`` a :class:`SEAParams` and ``state`` a
:class:`SEAState`.

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

from banditlab.kernels.projections import project_ball_inplace, trs_dense, trs_diag

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
C_LOSS, C_SIGMA2, C_VAR, C_OBSVAR, C_DYN_REAL, C_DYN_EXP, C_PATH, C_SIGMA2_MAX, C_VAR_MAX = (
    range(9)
)
# Slots of the logistic cache ``SEAState.cache``.
CACHE_VALID, CACHE_SIGMA2, CACHE_FU = range(3)
# Rows of the logistic warm starts ``SEAState.warm``.
WARM_REALISED, WARM_EXPECTED = range(2)


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

    Attributes:
        t: int64[1], rounds completed.
        theta: float64[d], theta of the *next* round (fixed before the learner acts).
        theta_prev: float64[d], theta of the last completed round.
        signs: float64[T + 2], pre-drawn +-1 of the ``poisoned`` schedule (length 1 otherwise).
        stage_thetas: float64[S, d], pre-drawn stage optima of ``switching``.
        x: float64[d], last action played.
        grad: float64[d], last observed gradient ``grad f_t(x_t)`` (the observation).
        grad_prev: float64[d], the gradient of the round before.
        grad_exp: float64[d], ``grad F_t(x_t)`` of the last round.
        u: float64[d], dynamic comparator ``u_t = argmin_X F_t`` of the last round.
        u_prev: float64[d], ``u_{t-1}``.
        scal: float64[8], per-step scalars of the last round, at the slots ``S_*``: loss,
            F(x), f(u), F(u), sigma^2, Sigma^2, observed variation, path increment.
        cum: float64[9], cumulative sums at the slots ``C_*``: loss, sigma^2, Sigma^2,
            observed variation, sum f(u), sum F(u), path length, max sigma^2, max Sigma^2.
        sz: float64[d], quadratic: sum z_s; least squares: sum a_s y_s.
        szz: float64[1], quadratic: sum z_s'H z_s; least squares: sum y_s^2.
        saa: float64[d, d], least squares: sum a_s a_s' (zeros otherwise).
        stheta: float64[d], sum theta_s.
        sthth: float64[1], sum theta_s'H theta_s (H = I except for the quadratic).
        data_a: float64[T, d], logistic: stored features (shape (1, d) otherwise).
        data_y: float64[T], logistic: stored labels as 1[y = 1].
        psum: float64[M], logistic: sum_s sigmoid(a_j'theta_s) over the probe features.
        pcur: float64[M], logistic: sigmoid(a_j'theta) for the cached theta.
        pg_cur: float64[2d+1, d], logistic: estimated grad F at the probe points (cached theta).
        pg_prev: float64[2d+1, d], the same for the previous distinct theta.
        cache_theta: float64[d], theta the logistic caches refer to.
        cache: float64[3], logistic, at the slots ``CACHE_*``: valid flag, sigma^2
            estimate, F(u).
        warm: float64[2, d], warm starts of the logistic static comparators (rows
            ``WARM_REALISED``, ``WARM_EXPECTED``).
        record: float64[d + 1], the data of the last round: quadratic ``(z_t, 0)``, least
            squares and logistic ``(a_t, y_t)`` (logistic ``y_t`` in ``{-1, +1}``); zeros
            before the first round.
    """

    t: np.ndarray
    theta: np.ndarray
    theta_prev: np.ndarray
    signs: np.ndarray
    stage_thetas: np.ndarray
    x: np.ndarray
    grad: np.ndarray
    grad_prev: np.ndarray
    grad_exp: np.ndarray
    u: np.ndarray
    u_prev: np.ndarray
    scal: np.ndarray
    cum: np.ndarray
    sz: np.ndarray
    szz: np.ndarray
    saa: np.ndarray
    stheta: np.ndarray
    sthth: np.ndarray
    data_a: np.ndarray
    data_y: np.ndarray
    psum: np.ndarray
    pcur: np.ndarray
    pg_cur: np.ndarray
    pg_prev: np.ndarray
    cache_theta: np.ndarray
    cache: np.ndarray
    warm: np.ndarray
    record: np.ndarray


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
def sea_theta_at(params, state, t, out):
    """Write ``theta_t`` (round ``t >= 1``) of the schedule into ``out`` (float64[d])."""
    sched = params.schedule
    theta_bar = params.theta_bar
    horizon = params.horizon
    amp = params.amplitude
    if sched == SCHED_FIXED:
        out[:] = theta_bar
    elif sched == SCHED_DRIFT:  # drift(P)
        ang = 2.0 * np.pi * t / params.period
        out[:] = 0.0
        out[0] = amp * np.cos(ang)
        out[1] = amp * np.sin(ang)
    elif sched == SCHED_ALTERNATING:
        sgn = 1.0 if t % 2 == 0 else -1.0
        out[:] = sgn * theta_bar
    elif sched == SCHED_POISONED:  # poisoned(rho)
        out[:] = state.signs[min(t, state.signs.shape[0] - 1)] * theta_bar
    elif sched == SCHED_SWITCHING:  # switching(S)
        n_stages = state.stage_thetas.shape[0]
        k = ((t - 1) * n_stages) // max(horizon, 1)
        k = min(max(k, 0), n_stages - 1)
        out[:] = state.stage_thetas[k]
    else:  # reactive: -A x_{t-1}/||x_{t-1}||, theta_bar when x_{t-1} = 0
        nrm = np.sqrt(np.sum(state.x * state.x))
        if t == 1 or nrm <= 1e-12:
            out[:] = theta_bar
        else:
            out[:] = (-amp / nrm) * state.x


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
        ``(x, value)``: float64[d] minimiser (to ~1e-10) and the objective there.
    """
    d = x0.shape[0]
    x = x0.copy()
    project_ball_inplace(x, radius)
    f0 = logistic_objective(feats, n, c, q, x)
    for _ in range(60):
        grad = np.zeros(d)
        hess = np.zeros((d, d))
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
        z = trs_dense(hess, hess @ x - grad, radius)
        p = z - x
        pn = np.sqrt(np.sum(p * p))
        if pn <= 1e-13 * (1.0 + np.sqrt(np.sum(x * x))):
            break
        slope = np.sum(grad * p)
        if slope >= 0.0:
            break
        alpha = 1.0
        accepted = False
        while alpha > 1e-12:
            xn = x + alpha * p
            fn = logistic_objective(feats, n, c, q, xn)
            if fn <= f0 + 1e-4 * alpha * slope:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            break
        x = xn
        f0 = fn
        if alpha * pn <= 1e-11:
            break
    return x, f0


@njit(cache=True)
def _logistic_refresh(state, params, theta):
    """Recompute the logistic caches (probe probabilities, u, F(u), sigma^2) for ``theta``."""
    d = params.d
    radius = params.radius
    rnorm = params.feature_norm
    probes = params.probes
    pts = params.probe_pts
    m = probes.shape[0]
    for j in range(m):
        uj = 0.0
        for i in range(d):
            uj += probes[j, i] * theta[i]
        state.pcur[j] = _sigmoid(uj)
    state.pg_prev[:, :] = state.pg_cur
    sig2 = 0.0
    for k in range(pts.shape[0]):
        gk = np.zeros(d)
        second = 0.0
        for j in range(m):
            uj = 0.0
            for i in range(d):
                uj += probes[j, i] * pts[k, i]
            sj = _sigmoid(uj)
            pj = state.pcur[j]
            for i in range(d):
                gk[i] += (sj - pj) * probes[j, i]
            second += (sj - pj) ** 2 + pj * (1.0 - pj)
        gk /= m
        state.pg_cur[k] = gk
        val = rnorm * rnorm * second / m - np.sum(gk * gk)
        if val > sig2:
            sig2 = val
    cw = np.full(m, 1.0 / m)
    qw = state.pcur / m
    u, fu = logistic_min(probes, m, cw, qw, state.u, radius)
    state.u[:] = u
    state.cache[CACHE_SIGMA2] = sig2
    state.cache[CACHE_FU] = fu
    state.cache_theta[:] = theta


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
    state = SEAState(
        np.zeros(1, np.int64), np.zeros(d), np.zeros(d), signs, stage, np.zeros(d),
        np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(8),
        np.zeros(9), np.zeros(d), np.zeros(1), np.zeros((d, d)), np.zeros(d), np.zeros(1),
        np.zeros((cap, d)), np.zeros(cap), np.zeros(m), np.zeros(m), np.zeros((n_pts, d)),
        np.zeros((n_pts, d)), np.zeros(d), np.zeros(3), np.zeros((2, d)), np.zeros(d + 1),
    )
    sea_theta_at(params, state, 1, state.theta)
    return state


@njit(cache=True)
def _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var):
    """Common tail of the three step kernels: variation, path, shifts, sums, next theta."""
    kind = params.kind
    th = state.theta
    d = th.shape[0]
    obsvar = 0.0
    path = 0.0
    if t >= 2:
        obsvar = np.sum((g - state.grad) ** 2)
        if kind == KIND_LOGISTIC:
            path = np.sqrt(np.sum((u - state.u_prev) ** 2))
        else:
            path = np.sqrt(np.sum((u - state.u) ** 2))
    else:
        var = 0.0
    for i in range(d):
        state.stheta[i] += th[i]
    state.theta_prev[:] = th
    state.grad_prev[:] = state.grad
    state.grad[:] = g
    state.grad_exp[:] = gexp
    if kind == KIND_LOGISTIC:
        state.u_prev[:] = u  # the logistic cache keeps u_t in state.u already
    else:
        state.u_prev[:] = state.u
        state.u[:] = u
    state.x[:] = x
    sc = state.scal
    sc[S_LOSS] = loss
    sc[S_FX] = fx
    sc[S_FU_REAL] = fu_real
    sc[S_FU] = fu
    sc[S_SIGMA2] = sig2
    sc[S_VAR] = var
    sc[S_OBSVAR] = obsvar
    sc[S_PATH] = path
    cm = state.cum
    cm[C_LOSS] += loss
    cm[C_SIGMA2] += sig2
    cm[C_VAR] += var
    cm[C_OBSVAR] += obsvar
    cm[C_DYN_REAL] += fu_real
    cm[C_DYN_EXP] += fu
    cm[C_PATH] += path
    cm[C_SIGMA2_MAX] = max(cm[C_SIGMA2_MAX], sig2)
    cm[C_VAR_MAX] = max(cm[C_VAR_MAX], var)
    state.t[0] = t
    sea_theta_at(params, state, t + 1, state.theta)
    return -loss, -fx, -fu


@njit(cache=True)
def sea_quadratic_step(state, params, action, rng):
    """Quadratic round: ``z = theta + xi``, ``f(x) = 0.5 ||x - z||_H^2``.

    Args:
        state: :class:`SEAState`.
        params: :class:`SEAParams`.
        action: float64[d] point of the ball.
        rng: The env's noise generator: ``d`` normals (+1 uniform for ball noise).

    Returns:
        ``(-f_t(x_t), -F_t(x_t), -F_t(u_t))``.
    """
    d = params.d
    radius = params.radius
    h = params.h
    s = params.noise
    noise_kind = params.noise_kind
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params.radius)  # box points outside the ball
    xi = np.empty(d)
    for i in range(d):
        xi[i] = rng.standard_normal()
    if noise_kind == NOISE_BALL:
        uu = rng.random()
        nrm = np.sqrt(np.sum(xi * xi))
        xi *= s * np.sqrt(d + 2.0) * uu ** (1.0 / d) / max(nrm, 1e-300)
    else:
        xi *= s
    z = th + xi
    g = h * (x - z)
    gexp = h * (x - th)
    loss = 0.5 * np.sum(h * (x - z) ** 2)
    base = 0.5 * s * s * np.sum(h)
    fx = 0.5 * np.sum(h * (x - th) ** 2) + base
    u = trs_diag(h, h * th, radius)
    fu_real = 0.5 * np.sum(h * (u - z) ** 2)
    fu = 0.5 * np.sum(h * (u - th) ** 2) + base
    sig2 = s * s * np.sum(h * h)
    var = np.sum((h * (th - state.theta_prev)) ** 2)
    for i in range(d):
        state.sz[i] += z[i]
        state.record[i] = z[i]
    state.record[d] = 0.0
    state.szz[0] += np.sum(h * z * z)
    state.sthth[0] += np.sum(h * th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_least_squares_step(state, params, action, rng):
    """Least-squares round: Rademacher ``a``, ``y = a'theta + eps``, ``f(x) = 0.5 (a'x - y)^2``.

    Draws ``d`` uniforms (signs) and one normal (gaussian) or one uniform (ball) per step.
    """
    d = params.d
    radius = params.radius
    s = params.noise
    noise_kind = params.noise_kind
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params.radius)  # box points outside the ball
    a = np.empty(d)
    for i in range(d):
        a[i] = 1.0 if rng.random() < 0.5 else -1.0
    if noise_kind == NOISE_BALL:
        eps = s * np.sqrt(3.0) * (2.0 * rng.random() - 1.0)
    else:
        eps = s * rng.standard_normal()
    y = np.sum(a * th) + eps
    r = np.sum(a * x) - y
    loss = 0.5 * r * r
    g = r * a
    gexp = x - th
    fx = 0.5 * np.sum((x - th) ** 2) + 0.5 * s * s
    u = th.copy()
    project_ball_inplace(u, radius)
    ru = np.sum(a * u) - y
    fu_real = 0.5 * ru * ru
    fu = 0.5 * np.sum((u - th) ** 2) + 0.5 * s * s
    nt = np.sqrt(np.sum(th * th))
    sig2 = (d - 1.0) * (radius + nt) ** 2 + d * s * s
    var = np.sum((th - state.theta_prev) ** 2)
    for i in range(d):
        state.sz[i] += a[i] * y
        state.record[i] = a[i]
        for k in range(d):
            state.saa[i, k] += a[i] * a[k]
    state.record[d] = y
    state.szz[0] += y * y
    state.sthth[0] += np.sum(th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_logistic_step(state, params, action, rng):
    """Logistic round: ``a`` uniform on the sphere, ``P(y = 1) = sigmoid(a'theta)``.

    Draws ``d`` normals and one uniform per step. Expected quantities use the probe features.
    """
    d = params.d
    rnorm = params.feature_norm
    probes = params.probes
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params.radius)  # box points outside the ball
    a = np.empty(d)
    for i in range(d):
        a[i] = rng.standard_normal()
    uy = rng.random()
    a *= rnorm / max(np.sqrt(np.sum(a * a)), 1e-300)
    changed = state.cache[CACHE_VALID] == 0.0 or np.any(state.cache_theta != th)
    if changed:
        _logistic_refresh(state, params, th)
        state.cache[CACHE_VALID] = 1.0
    ylab = 1.0 if uy < _sigmoid(np.sum(a * th)) else 0.0
    ux = np.sum(a * x)
    loss = _softplus(ux) - ylab * ux
    g = (_sigmoid(ux) - ylab) * a
    m = probes.shape[0]
    fx = 0.0
    gexp = np.zeros(d)
    for j in range(m):
        uj = np.sum(probes[j] * x)
        fx += _softplus(uj) - state.pcur[j] * uj
        gexp += (_sigmoid(uj) - state.pcur[j]) * probes[j]
    fx /= m
    gexp /= m
    u = state.u.copy()
    uu_ = np.sum(a * u)
    fu_real = _softplus(uu_) - ylab * uu_
    fu = state.cache[CACHE_FU]
    sig2 = state.cache[CACHE_SIGMA2]
    var = 0.0
    if np.any(th != state.theta_prev):
        for k in range(state.pg_cur.shape[0]):
            vk = np.sum((state.pg_cur[k] - state.pg_prev[k]) ** 2)
            if vk > var:
                var = vk
    idx = min(t - 1, state.data_y.shape[0] - 1)
    state.data_a[idx] = a
    state.data_y[idx] = ylab
    state.record[:d] = a
    state.record[d] = 2.0 * ylab - 1.0
    for j in range(state.psum.shape[0]):
        state.psum[j] += state.pcur[j]
    state.sthth[0] += np.sum(th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_observe(state, params):
    """The observation after the last round (zeros before the first round); a new array.

    ``params.feedback`` 0 (gradient): ``grad f_t(x_t)``, float64[d]. 1 (data): float64[2d + 1],
    ``grad f_t(x_t)`` followed by ``state.record``, the round's data record (quadratic
    ``(z_t, 0)``; least squares and logistic ``(a_t, y_t)``, logistic ``y_t`` in ``{-1, +1}``).
    """
    if params.feedback == FEEDBACK_GRADIENT:
        return state.grad.copy()
    d = state.grad.shape[0]
    out = np.empty(2 * d + 1)
    out[:d] = state.grad
    out[d:] = state.record
    return out


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
    t = state.t[0]
    if t == 0:
        return np.zeros(d), 0.0
    q = t * h
    if expected:
        b = h * state.stheta
        const = 0.5 * state.sthth[0] + t * 0.5 * s * s * np.sum(h)
    else:
        b = h * state.sz
        const = 0.5 * state.szz[0]
    x = trs_diag(q, b, radius)
    return x, 0.5 * np.sum(q * x * x) - np.sum(b * x) + const


@njit(cache=True)
def sea_least_squares_static(state, params, expected):
    """As :func:`sea_quadratic_static` for least squares (eigendecomposition + bisection)."""
    d = params.d
    radius = params.radius
    s = params.noise
    t = state.t[0]
    if t == 0:
        return np.zeros(d), 0.0
    if expected:
        b = state.stheta.copy()
        x = trs_diag(np.full(d, float(t)), b, radius)
        val = 0.5 * t * np.sum(x * x) - np.sum(b * x) + 0.5 * state.sthth[0]
        return x, val + t * 0.5 * s * s
    x = trs_dense(state.saa, state.sz, radius)
    val = 0.5 * np.sum(x * (state.saa @ x)) - np.sum(state.sz * x) + 0.5 * state.szz[0]
    return x, val


@njit(cache=True)
def sea_logistic_static(state, params, expected):
    """As :func:`sea_quadratic_static` for logistic losses (projected Newton, warm-started).

    Realised: exact solve on the stored data; expected: the probe-feature estimate.
    """
    d = params.d
    radius = params.radius
    t = state.t[0]
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
    """``grad F(x)`` (float64[d]) for the *next* round's theta (``state.theta``).

    Logistic: the probe-feature estimate. Used by oracle agents only.
    """
    kind = params.kind
    h = params.h
    th = state.theta
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
    th = state.theta
    if kind == KIND_QUADRATIC:
        return trs_diag(h, h * th, radius)
    u = th.copy()
    project_ball_inplace(u, radius)
    return u


@njit(cache=True)
def _next_comparator_logistic(state, params):
    radius = params.radius
    th = state.theta
    probes = params.probes
    m = probes.shape[0]
    qw = np.empty(m)
    for j in range(m):
        qw[j] = _sigmoid(np.sum(probes[j] * th)) / m
    u, _ = logistic_min(probes, m, np.full(m, 1.0 / m), qw, state.u, radius)
    return u


def sea_next_comparator(state, params):
    """``u_{t+1} = argmin_X F_{t+1}`` for the next round's theta (oracle agents only)."""
    if int(params.kind) == KIND_LOGISTIC:
        return _next_comparator_logistic(state, params)
    return _next_comparator_closed_form(state, params)
