"""Stochastically extended adversarial (SEA) online convex optimisation environments.

Each round an adversary fixes ``theta_t`` (the *schedule*), the learner plays a point
``x_t`` of the Euclidean ball ``{||x|| <= R}``, a loss ``f_t`` is drawn around
``theta_t`` and the learner observes the gradient ``g_t = grad f_t(x_t)``. The
noise level ``s`` (stochastic variance sigma^2) and the schedule (adversarial
variation Sigma^2) are the two knobs that interpolate between i.i.d. and adversarial
OCO (Sachs et al., NeurIPS 2022; Chen et al., ICML 2023 / JMLR 2024).

Kernels on top, classes below. One env kernel serves the three losses (an integer
``kind`` in the params selects the loss), so every env runs on the fused Numba path:

* ``kind = 0`` quadratic ``f(x) = 0.5 ||x - z||_H^2``, ``z = theta + xi``;
* ``kind = 1`` least squares ``f(x) = 0.5 (a'x - y)^2``, Rademacher ``a``, ``y = a'theta + eps``;
* ``kind = 2`` logistic ``f(x) = log(1 + exp(-y a'x))``, ``a`` uniform on a sphere,
  ``P(y = 1 | a) = sigmoid(a'theta)``.

Noise draws per step (whatever the action, so runs with the same env seed face common
random numbers): quadratic ``d`` normals (+1 uniform for ``noise_kind="ball"``); least
squares ``d`` uniforms + 1 normal (gaussian) or 1 uniform (ball); logistic ``d`` normals
+ 1 uniform. The ``reactive`` schedule is an *adaptive* adversary: theta depends on the
learner's previous action, so only the noise (not theta) is common across agents.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv
from banditlab.kernels.projections import project_ball_inplace, trs_dense, trs_diag

KIND_QUADRATIC = 0
KIND_LEAST_SQUARES = 1
KIND_LOGISTIC = 2

SCHEDULES = ("fixed", "drift", "alternating", "poisoned", "switching", "reactive")
NOISE_KINDS = ("gaussian", "ball")

# Layout of the per-step scalars and cumulative sums in the kernel state.
S_LOSS, S_FX, S_FU_REAL, S_FU, S_SIGMA2, S_VAR, S_OBSVAR, S_PATH = range(8)
C_LOSS, C_SIGMA2, C_VAR, C_OBSVAR, C_DYN_REAL, C_DYN_EXP, C_PATH, C_SIGMA2_MAX, C_VAR_MAX = (
    range(9)
)


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
        scal: float64[8], per-step scalars (loss, F(x), f(u), F(u), sigma^2, Sigma^2,
            observed variation, path increment) of the last round.
        cum: float64[9], cumulative loss, sigma^2, Sigma^2, observed variation,
            sum f(u), sum F(u), path length, max sigma^2, max Sigma^2.
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
        cache: float64[3], logistic: (valid flag, sigma^2 estimate, F(u)).
        warm: float64[2, d], warm starts of the logistic static comparators.
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


# --------------------------------------------------------------------------- kernels
# params = (kind, d, radius, h, s, noise_kind, schedule, sched_f, theta_bar, feature_norm,
#           probes, probe_pts, horizon); sched_f = (amplitude, period, rho, stages).


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
    sched = params[6]
    sched_f = params[7]
    theta_bar = params[8]
    horizon = params[12]
    amp = sched_f[0]
    if sched == 0:  # fixed
        out[:] = theta_bar
    elif sched == 1:  # drift(P)
        ang = 2.0 * np.pi * t / sched_f[1]
        out[:] = 0.0
        out[0] = amp * np.cos(ang)
        out[1] = amp * np.sin(ang)
    elif sched == 2:  # alternating
        sgn = 1.0 if t % 2 == 0 else -1.0
        out[:] = sgn * theta_bar
    elif sched == 3:  # poisoned(rho)
        out[:] = state.signs[min(t, state.signs.shape[0] - 1)] * theta_bar
    elif sched == 4:  # switching(S)
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
    d = params[1]
    radius = params[2]
    rnorm = params[9]
    probes = params[10]
    pts = params[11]
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
    state.cache[1] = sig2
    state.cache[2] = fu
    state.cache_theta[:] = theta


@njit(cache=True)
def sea_init(params, rng):
    """Initial state; pre-draws the oblivious adversary (poisoned signs, switching stages)."""
    d = params[1]
    sched = params[6]
    sched_f = params[7]
    horizon = params[12]
    kind = params[0]
    m = params[10].shape[0]
    n_pts = params[11].shape[0]
    if sched == 3:
        signs = np.ones(horizon + 2)
        for t in range(horizon + 2):
            if rng.random() < sched_f[2]:
                signs[t] = -1.0
    else:
        signs = np.ones(1)
    if sched == 4:
        n_stages = int(sched_f[3])
        stage = np.zeros((n_stages, d))
        for k in range(n_stages):
            v = np.empty(d)
            for i in range(d):
                v[i] = rng.standard_normal()
            v *= sched_f[0] / np.sqrt(np.sum(v * v))
            stage[k] = v
    else:
        stage = np.zeros((1, d))
    cap = horizon if kind == 2 else 1
    state = SEAState(
        np.zeros(1, np.int64), np.zeros(d), np.zeros(d), signs, stage, np.zeros(d),
        np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(8),
        np.zeros(9), np.zeros(d), np.zeros(1), np.zeros((d, d)), np.zeros(d), np.zeros(1),
        np.zeros((cap, d)), np.zeros(cap), np.zeros(m), np.zeros(m), np.zeros((n_pts, d)),
        np.zeros((n_pts, d)), np.zeros(d), np.zeros(3), np.zeros((2, d)),
    )
    sea_theta_at(params, state, 1, state.theta)
    return state


@njit(cache=True)
def _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var):
    """Common tail of the three step kernels: variation, path, shifts, sums, next theta."""
    kind = params[0]
    th = state.theta
    d = th.shape[0]
    obsvar = 0.0
    path = 0.0
    if t >= 2:
        obsvar = np.sum((g - state.grad) ** 2)
        if kind == 2:
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
    if kind == 2:
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
        params: The env params tuple (see the module source).
        action: float64[d] point of the ball.
        rng: The env's noise generator: ``d`` normals (+1 uniform for ball noise).

    Returns:
        ``(-f_t(x_t), -F_t(x_t), -F_t(u_t))``.
    """
    d = params[1]
    radius = params[2]
    h = params[3]
    s = params[4]
    noise_kind = params[5]
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params[2])  # box points outside the ball
    xi = np.empty(d)
    for i in range(d):
        xi[i] = rng.standard_normal()
    if noise_kind == 1:
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
    state.szz[0] += np.sum(h * z * z)
    state.sthth[0] += np.sum(h * th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_least_squares_step(state, params, action, rng):
    """Least-squares round: Rademacher ``a``, ``y = a'theta + eps``, ``f(x) = 0.5 (a'x - y)^2``.

    Draws ``d`` uniforms (signs) and one normal (gaussian) or one uniform (ball) per step.
    """
    d = params[1]
    radius = params[2]
    s = params[4]
    noise_kind = params[5]
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params[2])  # box points outside the ball
    a = np.empty(d)
    for i in range(d):
        a[i] = 1.0 if rng.random() < 0.5 else -1.0
    if noise_kind == 1:
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
        for k in range(d):
            state.saa[i, k] += a[i] * a[k]
    state.szz[0] += y * y
    state.sthth[0] += np.sum(th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_logistic_step(state, params, action, rng):
    """Logistic round: ``a`` uniform on the sphere, ``P(y = 1) = sigmoid(a'theta)``.

    Draws ``d`` normals and one uniform per step. Expected quantities use the probe features.
    """
    d = params[1]
    rnorm = params[9]
    probes = params[10]
    t = state.t[0] + 1
    th = state.theta
    x = action.copy()
    project_ball_inplace(x, params[2])  # box points outside the ball
    a = np.empty(d)
    for i in range(d):
        a[i] = rng.standard_normal()
    uy = rng.random()
    a *= rnorm / max(np.sqrt(np.sum(a * a)), 1e-300)
    changed = state.cache[0] == 0.0 or np.any(state.cache_theta != th)
    if changed:
        _logistic_refresh(state, params, th)
        state.cache[0] = 1.0
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
    fu = state.cache[2]
    sig2 = state.cache[1]
    var = 0.0
    if np.any(th != state.theta_prev):
        for k in range(state.pg_cur.shape[0]):
            vk = np.sum((state.pg_cur[k] - state.pg_prev[k]) ** 2)
            if vk > var:
                var = vk
    idx = min(t - 1, state.data_y.shape[0] - 1)
    state.data_a[idx] = a
    state.data_y[idx] = ylab
    for j in range(state.psum.shape[0]):
        state.psum[j] += state.pcur[j]
    state.sthth[0] += np.sum(th * th)
    return _sea_finish(state, params, t, x, g, gexp, u, loss, fx, fu_real, fu, sig2, var)


@njit(cache=True)
def sea_observe(state, params):
    """The last observed gradient ``grad f_t(x_t)`` (zeros before the first round); a copy."""
    return state.grad.copy()


@njit(cache=True)
def sea_quadratic_static(state, params, expected):
    """Best fixed point in hindsight over rounds ``1..t`` and its cumulative loss (quadratic).

    Args:
        state: :class:`SEAState`.
        params: Env params.
        expected: ``False`` for ``argmin_X sum_s f_s`` (realised losses), ``True`` for
            ``argmin_X sum_s F_s`` (expected losses).

    Returns:
        ``(x, value)``: float64[d] minimiser and the minimal cumulative loss.
    """
    d = params[1]
    radius = params[2]
    h = params[3]
    s = params[4]
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
    d = params[1]
    radius = params[2]
    s = params[4]
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
    d = params[1]
    radius = params[2]
    t = state.t[0]
    if t == 0:
        return np.zeros(d), 0.0
    if expected:
        probes = params[10]
        m = probes.shape[0]
        cw = np.full(m, t / m)
        qw = state.psum / m
        x, val = logistic_min(probes, m, cw, qw, state.warm[1], radius)
        state.warm[1] = x
        return x, val
    n = min(t, state.data_y.shape[0])
    x, val = logistic_min(state.data_a, n, np.ones(n), state.data_y, state.warm[0], radius)
    state.warm[0] = x
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
    fn = (sea_quadratic_static, sea_least_squares_static, sea_logistic_static)[int(params[0])]
    return fn(state, params, bool(expected))


@njit(cache=True)
def sea_expected_gradient(state, params, x):
    """``grad F(x)`` (float64[d]) for the *next* round's theta (``state.theta``).

    Logistic: the probe-feature estimate. Used by oracle agents only.
    """
    kind = params[0]
    h = params[3]
    th = state.theta
    if kind == 0:
        return h * (x - th)
    if kind == 1:
        return x - th
    probes = params[10]
    m = probes.shape[0]
    g = np.zeros(x.shape[0])
    for j in range(m):
        pj = _sigmoid(np.sum(probes[j] * th))
        g += (_sigmoid(np.sum(probes[j] * x)) - pj) * probes[j]
    return g / m


@njit(cache=True)
def _next_comparator_closed_form(state, params):
    kind = params[0]
    radius = params[2]
    h = params[3]
    th = state.theta
    if kind == 0:
        return trs_diag(h, h * th, radius)
    u = th.copy()
    project_ball_inplace(u, radius)
    return u


@njit(cache=True)
def _next_comparator_logistic(state, params):
    radius = params[2]
    th = state.theta
    probes = params[10]
    m = probes.shape[0]
    qw = np.empty(m)
    for j in range(m):
        qw[j] = _sigmoid(np.sum(probes[j] * th)) / m
    u, _ = logistic_min(probes, m, np.full(m, 1.0 / m), qw, state.u, radius)
    return u


def sea_next_comparator(state, params):
    """``u_{t+1} = argmin_X F_{t+1}`` for the next round's theta (oracle agents only)."""
    if int(params[0]) == KIND_LOGISTIC:
        return _next_comparator_logistic(state, params)
    return _next_comparator_closed_form(state, params)


# --------------------------------------------------------------------------- validation
def _check_int(name, value, low, high=None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise BanditlabError(f"{name}: expected an integer >= {low}, got {value!r}")
    if value < low or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise BanditlabError(f"{name}: expected an integer {rng}, got {value!r}")
    return int(value)


def _check_float(name, value, *, low=None, low_open=False, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BanditlabError(f"{name}: expected a finite number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise BanditlabError(f"{name}: expected a finite number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        op = ">" if low_open else ">="
        raise BanditlabError(f"{name}: expected a number {op} {low}, got {value!r}")
    if high is not None and v > high:
        raise BanditlabError(f"{name}: expected a number <= {high}, got {value!r}")
    return v


# --------------------------------------------------------------------------- classes
class _SEABase(KernelEnv):
    """Shared implementation of the SEA envs (see the subclasses' docstrings)."""

    family = "sea"

    run_kind = "continuing"
    extra_metrics = ("loss", "stochastic_variance", "adversarial_variation", "observed_variation")
    _kind = KIND_QUADRATIC

    def __init__(
        self,
        d: int = 10,
        radius: float = 1.0,
        noise: float = 0.1,
        noise_kind: str = "ball",
        schedule: str = "fixed",
        amplitude: float | None = None,
        period: float = 1000.0,
        rho: float = 0.05,
        stages: int = 10,
        horizon: int = 10000,
        h=None,
        feature_norm: float = 1.0,
        n_probe: int = 256,
    ):
        from banditlab.envs.sea.oracle import SEAOracle

        self.d = _check_int("d", d, 1)
        self.radius = _check_float("radius", radius, low=0.0, low_open=True)
        self.noise = _check_float("noise", noise, low=0.0)
        if noise_kind not in NOISE_KINDS:
            raise BanditlabError(f"noise_kind: expected one of {NOISE_KINDS}, got {noise_kind!r}")
        self.noise_kind = noise_kind
        if schedule not in SCHEDULES:
            raise BanditlabError(f"schedule: expected one of {SCHEDULES}, got {schedule!r}")
        self.schedule = schedule
        self.amplitude = (
            2.0 * self.radius if amplitude is None
            else _check_float("amplitude", amplitude, low=0.0)
        )
        self.period = _check_float("period", period, low=0.0, low_open=True)
        self.rho = _check_float("rho", rho, low=0.0, high=1.0)
        self.stages = _check_int("stages", stages, 1)
        self.horizon = _check_int("horizon", horizon, 1)
        self.run_length = self.horizon
        if schedule == "drift" and self.d < 2:
            raise BanditlabError("d: the drift schedule rotates in a plane and needs d >= 2")
        if h is None:
            hv = np.ones(self.d)
        else:
            try:
                hv = np.asarray(h, dtype=np.float64)
            except (TypeError, ValueError):
                raise BanditlabError(
                    f"h: expected a list of d positive numbers, got {h!r}"
                ) from None
            if hv.shape != (self.d,) or not np.all(np.isfinite(hv)) or np.any(hv <= 0):
                raise BanditlabError(
                    f"h: expected {self.d} finite numbers > 0 (the diagonal of H), got {h!r}"
                )
        self.h = hv if h is None else h
        self._h = hv
        self.feature_norm = _check_float("feature_norm", feature_norm, low=0.0, low_open=True)
        self.n_probe = _check_int("n_probe", n_probe, 2)
        self.action_space = gym.spaces.Box(
            low=-self.radius, high=self.radius, shape=(self.d,), dtype=np.float64
        )
        gb = self._grad_bound()
        obs_bound = gb if np.isfinite(gb) else np.finfo(np.float64).max
        self.observation_space = gym.spaces.Box(
            low=-obs_bound, high=obs_bound, shape=(self.d,), dtype=np.float64
        )
        self.oracle = SEAOracle(self)
        self.known_constants = MappingProxyType(self._known_constants(gb))
        self._kernel_cache = None

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        state["_kernel_cache"] = None  # rebuilt lazily (holds jitted dispatchers)
        return state

    # ------------------------------------------------------------- constants
    def _grad_bound(self) -> float:
        raise NotImplementedError

    def _known_constants(self, grad_bound: float) -> dict:
        raise NotImplementedError

    def _probes(self):
        d = self.d
        return np.zeros((1, d)), np.zeros((1, d))

    @property
    def kernel(self) -> EnvKernel:
        """The :class:`EnvKernel`, rebuilt if ``run_length`` changed (switching stages, storage)."""
        cache = self.__dict__.get("_kernel_cache")
        if cache is not None and cache[0] == self.run_length:
            return cache[1]
        sched_id = SCHEDULES.index(self.schedule)
        theta_bar = np.zeros(self.d)
        theta_bar[0] = self.amplitude
        probes, pts = self._probes()
        params = (
            np.int64(self._kind), np.int64(self.d), float(self.radius), self._h.copy(),
            float(self.noise), np.int64(NOISE_KINDS.index(self.noise_kind)), np.int64(sched_id),
            np.array([self.amplitude, self.period, self.rho, float(self.stages)]), theta_bar,
            float(self.feature_norm), probes, pts, np.int64(self.run_length),
        )
        step, checkpoint = (
            (sea_quadratic_step, sea_quadratic_checkpoint),
            (sea_least_squares_step, sea_least_squares_checkpoint),
            (sea_logistic_step, sea_logistic_checkpoint),
        )[self._kind]
        kernel = EnvKernel(
            params=params, init=sea_init, step=step, observe=sea_observe,
            checkpoint=checkpoint, comparator_kinds=("static", "dynamic"),
            extra_metrics=self.extra_metrics,
        )
        self._kernel_cache = (self.run_length, kernel)
        return kernel

    # ------------------------------------------------------------- hooks
    def _validate_action(self, action):
        try:
            arr = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.shape != (self.d,):
            shape = None if arr is None else arr.shape
            raise BanditlabError(f"action: expected shape ({self.d},), got {shape}")
        if not np.all(np.isfinite(arr)):
            raise BanditlabError("action: must be finite")
        if np.any(np.abs(arr) > self.radius * (1.0 + 1e-12)):
            raise BanditlabError(
                f"action: outside the action space Box(-{self.radius}, {self.radius}); points "
                "of the box outside the ball are projected onto it"
            )
        return arr.copy()  # the kernel step projects onto the ball (both paths alike)

    def _on_reset(self) -> None:
        self.oracle._reset()

    def _make_info_extra(self, action, reward):
        st = self.state_
        info = {
            "loss": float(st.scal[S_LOSS]),
            "expected_loss": float(st.scal[S_FX]),
            "grad": st.grad.copy(),
            "grad_expected": st.grad_exp.copy(),
            "stochastic_variance": float(st.scal[S_SIGMA2]),
            "adversarial_variation": float(st.scal[S_VAR]),
            "observed_variation": float(st.scal[S_OBSVAR]),
            "comparator_action": (st.u_prev if self._kind == KIND_LOGISTIC else st.u).copy(),
            "theta": st.theta_prev.copy(),
            "action_projected": st.x.copy(),
        }
        if self.t_ >= self.run_length:
            info.update(self.oracle.run_totals())
        return info


class SEAQuadratic(_SEABase):
    """SEA online convex optimisation with quadratic losses (every SEA quantity exact).

    ## Description
    Each round the adversary's schedule fixes ``theta_t``; the learner plays ``x_t`` in the
    ball ``{||x|| <= R}``; ``z_t = theta_t + xi_t`` is drawn and the loss is
    ``f_t(x) = 0.5 ||x - z_t||_H^2`` with ``H = diag(h)``. Expected loss
    ``F_t(x) = 0.5 ||x - theta_t||_H^2 + 0.5 s^2 sum_i h_i``.

    ## Action Space
    ``Box(-R, R, (d,))``; the decision set is the ball ``{||x|| <= R}`` inside it. Points of
    the box outside the ball are projected onto the ball (Euclidean; the projected point is
    what is played and is reported as ``action_projected``); agents should project
    themselves. Points outside the box, non-finite values or a wrong shape raise
    :class:`BanditlabError`.

    ## Observation Space
    ``Box(-G, G, (d,))`` (``G`` the gradient bound; the largest float for Gaussian noise): the
    last gradient ``grad f_{t-1}(x_{t-1})``, zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` normals per step, plus one uniform for ``noise_kind="ball"``
    (``xi`` uniform in the ball of radius ``s sqrt(d + 2)``, so ``E[xi xi'] = s^2 I``).

    ## Regret
    * ``dynamic`` (primary, per step): comparator ``u_t = argmin_X F_t`` (H-weighted projection
      of ``theta_t``); realised ``-sum f_s(u_s)``, expected ``-sum F_s(u_s)``.
    * ``static``: best fixed point in hindsight, ``-min_X sum_s f_s`` (realised, the H-weighted
      projection of the mean of the ``z_s``) and ``-min_X sum_s F_s`` (expected). Can be
      negative on moving sequences; never clipped.

    ## Information
    ``t``, ``expected_reward`` (``-F_t(x_t)``), ``optimal_expected_reward`` (``-F_t(u_t)``),
    ``loss``, ``expected_loss``, ``grad``, ``grad_expected``, ``stochastic_variance``
    (``sigma_t^2 = s^2 sum h_i^2``, exact), ``adversarial_variation``
    (``Sigma_t^2 = ||H(theta_t - theta_{t-1})||^2``, ``Sigma_1^2 := 0``), ``observed_variation``
    (``||g_t - g_{t-1}||^2``, 0 at t = 1), ``comparator_action``, ``theta``,
    ``action_projected``; on the final step also the run totals of
    :meth:`SEAOracle.run_totals`.

    ## Arguments
    ``d`` (10), ``radius`` (1.0), ``noise`` s (0.1), ``noise_kind`` ("ball" or "gaussian"),
    ``schedule`` (one of ``fixed``, ``drift``, ``alternating``, ``poisoned``, ``switching``,
    ``reactive``), ``amplitude`` A (default 2R), ``period`` P (1000), ``rho`` (0.05),
    ``stages`` S (10), ``horizon`` (10000), ``h`` (diagonal of H, default ones).

    ## References
    Sachs, Hadiji, van Erven, Guzman, NeurIPS 2022 (arXiv 2202.07554); Chen, Zhang, Tu, Zhao,
    Zhang, ICML 2023 / JMLR 2024 (arXiv 2302.04552).

    ## Version History
    * v0: initial version.
    """

    _kind = KIND_QUADRATIC

    def __init__(self, d=10, radius=1.0, noise=0.1, noise_kind="ball", schedule="fixed",
                 amplitude=None, period=1000.0, rho=0.05, stages=10, horizon=10000, h=None):
        super().__init__(d=d, radius=radius, noise=noise, noise_kind=noise_kind,
                         schedule=schedule, amplitude=amplitude, period=period, rho=rho,
                         stages=stages, horizon=horizon, h=h)

    def _grad_bound(self) -> float:
        if self.noise_kind == "gaussian" and self.noise > 0:
            return float("inf")
        xi = self.noise * np.sqrt(self.d + 2.0)
        return float(np.max(self._h) * (self.radius + self.amplitude + xi))

    def _known_constants(self, grad_bound):
        lam = float(np.min(self._h))
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": float(np.max(self._h)), "strong_convexity": lam,
            "grad_bound": grad_bound,
            "exp_concavity": lam / grad_bound**2 if np.isfinite(grad_bound) else 0.0,
            "horizon": self.horizon,
        }


class SEALeastSquares(_SEABase):
    """SEA online least squares with Rademacher features.

    ## Description
    ``f_t(x) = 0.5 (a_t'x - y_t)^2`` with ``a_t`` uniform on ``{-1, 1}^d`` and
    ``y_t = a_t'theta_t + eps_t``; ``E[a a'] = I`` gives ``F_t(x) = 0.5 ||x - theta_t||^2 +
    0.5 s^2``. Individual ``f_t`` are convex but not strongly convex; ``F_t`` is 1-strongly
    convex and 1-smooth.

    ## Action Space
    ``Box(-R, R, (d,))``, projected onto the ball (see :class:`SEAQuadratic`).

    ## Observation Space
    The last gradient ``a (a'x - y)``; zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` uniforms (signs of ``a``) plus one normal (``noise_kind=
    "gaussian"``, ``eps ~ N(0, s^2)``) or one uniform (``"ball"``: ``eps`` uniform on
    ``[-s sqrt 3, s sqrt 3]``, variance ``s^2``).

    ## Regret
    As :class:`SEAQuadratic`; ``u_t`` is the Euclidean projection of ``theta_t``; the realised
    static comparator minimises ``0.5 x'(sum a a')x - (sum a y)'x`` over the ball (trust-region
    subproblem by eigendecomposition and bisection).

    ## Information
    As :class:`SEAQuadratic`, with ``sigma_t^2 = (d - 1)(R + ||theta_t||)^2 + d s^2`` (exact,
    derived for Rademacher features) and ``Sigma_t^2 = ||theta_t - theta_{t-1}||^2``.

    ## Arguments
    As :class:`SEAQuadratic` without ``h``.

    ## References
    Chen et al. (2023), Sachs et al. (2022).

    ## Version History
    * v0: initial version.
    """

    _kind = KIND_LEAST_SQUARES

    def __init__(self, d=10, radius=1.0, noise=0.1, noise_kind="ball", schedule="fixed",
                 amplitude=None, period=1000.0, rho=0.05, stages=10, horizon=10000):
        super().__init__(d=d, radius=radius, noise=noise, noise_kind=noise_kind,
                         schedule=schedule, amplitude=amplitude, period=period, rho=rho,
                         stages=stages, horizon=horizon)

    def _grad_bound(self) -> float:
        if self.noise_kind == "gaussian" and self.noise > 0:
            return float("inf")
        rd = np.sqrt(self.d)
        return float(rd * (rd * (self.radius + self.amplitude) + self.noise * np.sqrt(3.0)))

    def _known_constants(self, grad_bound):
        rd = np.sqrt(self.d)
        resid = rd * (self.radius + self.amplitude) + self.noise * np.sqrt(3.0)
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": 1.0, "strong_convexity": 0.0, "grad_bound": grad_bound,
            "exp_concavity": 1.0 / resid**2 if self.noise_kind == "ball" else 0.0,
            "horizon": self.horizon,
        }


class SEALogistic(_SEABase):
    """SEA online logistic regression.

    ## Description
    ``f_t(x) = log(1 + exp(-y_t a_t'x))`` with ``a_t`` uniform on the sphere of radius
    ``feature_norm`` and ``P(y_t = 1 | a_t) = sigmoid(a_t'theta_t)``. The schedule moves
    ``theta_t``; ``noise`` is unused (the label noise is intrinsic).

    **Estimates.** ``F_t`` has no closed form. The env replaces the expectation over ``a`` by
    an average over ``n_probe`` fixed probe features (antithetic pairs drawn once, at
    construction, from a dedicated generator seeded by the constructor arguments; no env
    stream is touched, so common random numbers are unaffected). ``expected_reward``,
    ``grad_expected``, ``u_t``, the expected static comparator, ``sigma_t^2`` and
    ``Sigma_t^2`` are computed under this estimate, and ``sigma_t^2`` / ``Sigma_t^2`` take the
    supremum over the probe points ``{0, +-R e_i}`` only. They are *estimates*, not exact
    values. The realised static comparator is an exact convex solve (projected Newton with a
    trust-region step) on the stored ``(a_s, y_s)``, warm-started, at checkpoints.

    ## Action Space
    ``Box(-R, R, (d,))``, projected onto the ball (see :class:`SEAQuadratic`).

    ## Observation Space
    The last gradient ``(sigmoid(a'x) - 1[y = 1]) a``; zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` normals (direction of ``a``) and one uniform (label).

    ## Regret
    As :class:`SEAQuadratic`; both kinds are marked ``exact=False`` (probe estimate).

    ## Information
    As :class:`SEAQuadratic` (estimated quantities as above).

    ## Arguments
    ``d``, ``radius``, ``schedule``, ``amplitude``, ``period``, ``rho``, ``stages``, ``horizon``
    as :class:`SEAQuadratic`; ``feature_norm`` (1.0; smoothness ``feature_norm^2 / 4``; keep
    ``R feature_norm <= 2-3``, exp-concavity ``exp(-R feature_norm)``); ``n_probe`` (256).

    ## References
    Chen et al. (2023), Sachs et al. (2022).

    ## Version History
    * v0: initial version.
    """

    _kind = KIND_LOGISTIC

    def __init__(self, d=10, radius=1.0, schedule="fixed", amplitude=None, period=1000.0,
                 rho=0.05, stages=10, horizon=10000, feature_norm=1.0, n_probe=256):
        super().__init__(d=d, radius=radius, noise=0.0, noise_kind="ball", schedule=schedule,
                         amplitude=amplitude, period=period, rho=rho, stages=stages,
                         horizon=horizon, feature_norm=feature_norm, n_probe=n_probe)

    def _probes(self):
        d = self.d
        half = (self.n_probe + 1) // 2
        rng = np.random.default_rng([20260, d, half])
        a = rng.standard_normal((half, d))
        a *= self.feature_norm / np.linalg.norm(a, axis=1, keepdims=True)
        probes = np.ascontiguousarray(np.vstack([a, -a]))
        pts = np.zeros((2 * d + 1, d))
        for i in range(d):
            pts[1 + 2 * i, i] = self.radius
            pts[2 + 2 * i, i] = -self.radius
        return probes, pts

    def _grad_bound(self) -> float:
        return float(self.feature_norm)

    def _known_constants(self, grad_bound):
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": self.feature_norm**2 / 4.0, "strong_convexity": 0.0,
            "grad_bound": grad_bound,
            "exp_concavity": float(np.exp(-self.radius * self.feature_norm)),
            "horizon": self.horizon,
        }
