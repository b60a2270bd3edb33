"""Optimistic OMD with implicit (proximal) steps on the observed losses, for data feedback.

Kernels on top, class below. With ``feedback="data"`` a SEA env reveals the data that define
the round's loss ``f_t`` (the noisy centre ``z_t`` of the quadratic loss, the pair
``(a_t, y_t)`` of least squares and logistic regression), so the learner can use the whole
function ``f_t`` instead of its linearisation ``<g_t, x>``: both half-steps of optimistic OMD
become proximal steps on losses,

* ``x_t = argmin_{x in X} eta_t f_{t-1}(x) + 0.5 ||x - xhat_t||^2`` (the hint is the last
  observed *loss*), and
* ``xhat_{t+1} = argmin_{x in X} eta_t f_t(x) + 0.5 ||x - xhat_t||^2`` (the implicit update),

on the ball ``X = {||x|| <= R}``. Each proximal step is solved exactly: a trust-region
subproblem with a diagonal (quadratic) or identity-plus-rank-one (least squares) matrix, by
Newton's method on the secular equation; for the logistic loss a one-dimensional monotone
equation in ``u = a'x`` nested in a bisection on the ball's multiplier.
"""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.sea.common import (
    POSITIVE,
    SEA_TAGS,
    require_ball_space,
    require_sea_observations,
)
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.sea.model import LOSSES
from banditlab.kernels.projections import project_ball_inplace
from banditlab.validation import Array, Boolean, Options

__all__ = [
    "ImplicitOOMD",
    "ImplicitHParams",
    "ImplicitState",
    "prox_step",
    "hint_gradient",
]

_LOSS_QUADRATIC, _LOSS_LEAST_SQUARES, _LOSS_LOGISTIC = range(3)


class ImplicitHParams(NamedTuple):
    """Hyperparameters of the implicit optimistic OMD kernel (``AgentKernel.hparams``).

    Attributes:
        radius: float64, ball radius R.
        diameter: float64, D (scale of the self-confident step).
        delta: float64, additive constant of the step.
        loss_kind: int64, index into ``("quadratic", "least_squares", "logistic")``.
        h: float64[d] diagonal of ``H`` of the quadratic loss, or float64[0] for ones.
        optimistic: int64, 1 to use the last observed loss as the hint, 0 for no hint.
    """

    radius: float
    diameter: float
    delta: float
    loss_kind: np.int64
    h: np.ndarray
    optimistic: np.int64


class ImplicitState(NamedTuple):
    """State of the implicit optimistic OMD kernel (updated in place); ``d`` the dimension.

    Attributes:
        xhat: float64[d], the secondary iterate ``xhat_t``.
        x: float64[d], the point played this round.
        h: float64[d], the diagonal of ``H`` (ones unless ``hparams.h`` is given).
        prev: float64[d + 1], the data record of the last round (the hint ``f_{t-1}``).
        gh: float64[d], scratch: ``grad f_{t-1}(x_t)``.
        acc: float64[3], (``sum_{s<t} ||g_s - grad f_{s-1}(x_s)||^2``, ``eta_t`` of this
            round, 1.0 once a data record has been seen).
    """

    xhat: np.ndarray
    x: np.ndarray
    h: np.ndarray
    prev: np.ndarray
    gh: np.ndarray
    acc: np.ndarray


@njit(cache=True)
def _sigmoid(u):
    if u >= 0.0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


@njit(cache=True)
def _secular_diag(h, b, eta, radius):
    """Multiplier ``mu >= 0`` of ``min 0.5 x'(I + eta H + mu I)x - b'x`` with ``||x|| = R``.

    ``x_i(mu) = b_i / (1 + eta h_i + mu)``; returns 0 when ``||x(0)|| <= R``. Newton's method
    on ``phi(mu) = 1/R - 1/||x(mu)||`` (increasing and concave, so the iterates increase
    monotonically to the root). No allocation.
    """
    d = b.shape[0]
    mu = 0.0
    for _ in range(100):
        s2 = 0.0
        s3 = 0.0
        for i in range(d):
            q = 1.0 + eta * h[i] + mu
            s2 += (b[i] / q) ** 2
            s3 += b[i] * b[i] / (q * q * q)
        nrm = math.sqrt(s2)
        if nrm <= radius * (1.0 + 1e-15):
            return mu
        phi = 1.0 / radius - 1.0 / nrm
        step = phi * nrm**3 / s3
        if step <= 1e-16 * (1.0 + mu):
            return mu
        mu += step
    return mu


@njit(cache=True)
def _prox_quadratic(h, z, eta, c, radius, out):
    """``out = argmin_{||x|| <= R} eta 0.5 ||x - z||_H^2 + 0.5 ||x - c||^2`` (may alias ``c``)."""
    d = c.shape[0]
    for i in range(d):
        out[i] = c[i] + eta * h[i] * z[i]  # the linear term b, overwritten below
    mu = _secular_diag(h, out, eta, radius)
    for i in range(d):
        out[i] = out[i] / (1.0 + eta * h[i] + mu)
    project_ball_inplace(out, radius)  # rounding only


@njit(cache=True)
def _prox_least_squares(a, y, eta, c, radius, out):
    """``out = argmin_{||x|| <= R} eta 0.5 (a'x - y)^2 + 0.5 ||x - c||^2``; ``out`` may be ``c``.

    ``Q = I + eta a a'`` has the eigenvalue ``q1 = 1 + eta ||a||^2`` along ``a`` and 1 on its
    orthogonal complement; with ``b = c + eta y a`` split as ``beta a/||a|| + b_perp`` the
    solution is ``x(mu) = b / (1 + mu) + (beta / ||a||) (1/(q1 + mu) - 1/(1 + mu)) a``.
    """
    d = c.shape[0]
    aa = 0.0
    ab = 0.0
    bb = 0.0
    for i in range(d):
        bi = c[i] + eta * y * a[i]
        out[i] = bi
        aa += a[i] * a[i]
        ab += a[i] * bi
        bb += bi * bi
    q1 = 1.0 + eta * aa
    w1 = ab * ab / aa if aa > 0.0 else 0.0  # beta^2
    w0 = max(bb - w1, 0.0)  # ||b_perp||^2
    mu = 0.0
    for _ in range(100):
        s2 = w1 / (q1 + mu) ** 2 + w0 / (1.0 + mu) ** 2
        nrm = math.sqrt(s2)
        if nrm <= radius * (1.0 + 1e-15):
            break
        s3 = w1 / (q1 + mu) ** 3 + w0 / (1.0 + mu) ** 3
        step = (1.0 / radius - 1.0 / nrm) * nrm**3 / s3
        if step <= 1e-16 * (1.0 + mu):
            break
        mu += step
    coef = (ab / aa) * (1.0 / (q1 + mu) - 1.0 / (1.0 + mu)) if aa > 0.0 else 0.0
    for i in range(d):
        out[i] = out[i] / (1.0 + mu) + coef * a[i]
    project_ball_inplace(out, radius)  # rounding only


@njit(cache=True)
def _logistic_u(ac, aa, y, eta, mu):
    """Root ``u`` of ``u (1 + mu) = ac + eta aa y sigmoid(-y u)`` (the difference increases in u).

    Safeguarded Newton inside the bracket ``[(ac - eta aa), (ac + eta aa)] / (1 + mu)``.
    """
    k = 1.0 + mu
    lo = (ac - eta * aa) / k
    hi = (ac + eta * aa) / k
    u = ac / k
    for _ in range(100):
        sg = _sigmoid(-y * u)
        gval = u * k - ac - eta * aa * y * sg
        if gval > 0.0:
            hi = u
        else:
            lo = u
        deriv = k + eta * aa * sg * (1.0 - sg)
        un = u - gval / deriv
        if not (lo < un < hi):
            un = 0.5 * (lo + hi)
        if abs(un - u) <= 1e-15 * (1.0 + abs(u)):
            return un
        u = un
    return u


@njit(cache=True)
def _logistic_norm(ac, aa, cc, y, eta, mu):
    """``(||x(mu)||, s)`` with ``x(mu) = (c + s a) / (1 + mu)``, ``s = eta y sigmoid(-y u(mu))``.

    ``ac = a'c``, ``aa = ||a||^2``, ``cc = ||c||^2``.
    """
    u = _logistic_u(ac, aa, y, eta, mu)
    s = eta * y * _sigmoid(-y * u)
    return math.sqrt(max(cc + 2.0 * s * ac + s * s * aa, 0.0)) / (1.0 + mu), s


@njit(cache=True)
def _prox_logistic(a, y, eta, c, radius, out):
    """``out = argmin_{||x|| <= R} eta log(1 + exp(-y a'x)) + 0.5 ||x - c||^2`` (y = +-1).

    Optimality: ``x = (c + eta y sigmoid(-y u) a) / (1 + mu)`` with ``u = a'x`` and the ball's
    multiplier ``mu >= 0``; ``u`` solves a monotone scalar equation (:func:`_logistic_u`) and
    ``||x(mu)||`` is non-increasing in ``mu``, so ``mu`` is found by bisection.
    ``out`` may be ``c``.
    """
    d = c.shape[0]
    aa = 0.0
    ac = 0.0
    cc = 0.0
    for i in range(d):
        aa += a[i] * a[i]
        ac += a[i] * c[i]
        cc += c[i] * c[i]

    mu = 0.0
    nrm, s = _logistic_norm(ac, aa, cc, y, eta, 0.0)
    if nrm > radius:
        lo = 0.0
        hi = max((math.sqrt(cc) + eta * math.sqrt(aa)) / radius - 1.0, 0.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            nm, _s = _logistic_norm(ac, aa, cc, y, eta, mid)
            if nm > radius:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * (1.0 + hi):
                break
        mu = hi
        nrm, s = _logistic_norm(ac, aa, cc, y, eta, mu)
    for i in range(d):
        out[i] = (c[i] + s * a[i]) / (1.0 + mu)
    project_ball_inplace(out, radius)  # rounding only


@njit(cache=True)
def prox_step(loss_kind, h, record, eta, c, radius, out):
    """Proximal step ``out = argmin_{||x|| <= R} eta f(x) + 0.5 ||x - c||^2`` on a data record.

    Args:
        loss_kind: 0 quadratic ``f = 0.5 ||x - z||_H^2``, 1 least squares
            ``f = 0.5 (a'x - y)^2``, 2 logistic ``f = log(1 + exp(-y a'x))``.
        h: float64[d], the diagonal of ``H`` (quadratic only).
        record: float64[d + 1], ``(z, 0)`` or ``(a, y)`` as in the env's observation.
        eta: Step size (> 0).
        c: float64[d], the centre of the step.
        radius: Ball radius R.
        out: float64[d], written with the minimiser (may be ``c`` itself).
    """
    d = c.shape[0]
    vec = record[:d]
    y = record[d]
    if loss_kind == _LOSS_QUADRATIC:
        _prox_quadratic(h, vec, eta, c, radius, out)
    elif loss_kind == _LOSS_LEAST_SQUARES:
        _prox_least_squares(vec, y, eta, c, radius, out)
    else:
        _prox_logistic(vec, y, eta, c, radius, out)


@njit(cache=True)
def hint_gradient(loss_kind, h, record, x, out):
    """``out = grad f(x)`` (float64[d]) for the loss of a data record (see :func:`prox_step`)."""
    d = x.shape[0]
    if loss_kind == _LOSS_QUADRATIC:
        for i in range(d):
            out[i] = h[i] * (x[i] - record[i])
        return
    u = 0.0
    for k in range(d):
        u += record[k] * x[k]
    y = record[d]
    scale = u - y if loss_kind == _LOSS_LEAST_SQUARES else -y * _sigmoid(-y * u)
    for i in range(d):
        out[i] = scale * record[i]


@njit(cache=True)
def implicit_init(dims, hparams, rng):
    """``xhat_1 = 0``, no hint yet; ``H`` from ``hparams.h`` (ones when empty)."""
    d = dims[0]
    h = np.ones(d)
    if hparams.h.shape[0] == d:
        h[:] = hparams.h
    return ImplicitState(np.zeros(d), np.zeros(d), h, np.zeros(d + 1), np.zeros(d),
                         np.zeros(3))


@njit(cache=True)
def implicit_select(state, hparams, obs, t, rng):
    """``x_t = argmin_X eta_t f_{t-1}(x) + 0.5 ||x - xhat_t||^2`` (``xhat_t`` without a hint).

    ``eta_t = D / sqrt(delta + sum_{s<t} ||g_s - grad f_{s-1}(x_s)||^2)``, stored for the
    update of the same round.
    """
    eta = hparams.diameter / math.sqrt(hparams.delta + state.acc[0])
    state.acc[1] = eta
    if hparams.optimistic != 0 and state.acc[2] > 0.0:
        prox_step(hparams.loss_kind, state.h, state.prev, eta, state.xhat, hparams.radius,
                  state.x)
    else:
        for i in range(state.x.shape[0]):
            state.x[i] = state.xhat[i]
    return state.x  # a view of the state buffer (the env reads it during its step)


@njit(cache=True)
def implicit_update(state, hparams, obs, action, reward, next_obs):
    """Implicit step on ``f_t`` from ``xhat_t``; the record of ``f_t`` becomes the next hint.

    ``next_obs`` is float64[2d + 1]: the gradient ``g_t = grad f_t(x_t)`` and the data record
    of ``f_t``. The step-size sum gains ``||g_t - grad f_{t-1}(x_t)||^2`` (``||g_t||^2``
    without a hint).
    """
    d = state.x.shape[0]
    if hparams.optimistic != 0 and state.acc[2] > 0.0:
        hint_gradient(hparams.loss_kind, state.h, state.prev, state.x, state.gh)
    else:
        for i in range(d):
            state.gh[i] = 0.0
    dev = 0.0
    for i in range(d):
        diff = next_obs[i] - state.gh[i]
        dev += diff * diff
    for i in range(d + 1):
        state.prev[i] = next_obs[d + i]
    prox_step(hparams.loss_kind, state.h, state.prev, state.acc[1], state.xhat,
              hparams.radius, state.xhat)
    state.acc[0] += dev
    state.acc[2] = 1.0


class ImplicitOOMD(KernelAgent):
    """Optimistic OMD whose two half-steps are proximal steps on observed losses (data feedback).

    Needs ``feedback="data"`` (e.g. ``banditlab/SEAQuadraticData-v0``): the observation carries
    the data of the last loss, so the learner knows ``f_t`` itself. Each round, with
    ``xhat_1 = 0``:

    * ``x_t = argmin_{||x|| <= R} eta_t f_{t-1}(x) + 0.5 ||x - xhat_t||^2`` (``x_1 = xhat_1``):
      the optimistic step, whose hint is the whole last loss rather than its last gradient;
    * play ``x_t``, observe ``g_t = grad f_t(x_t)`` and the data of ``f_t``;
    * ``xhat_{t+1} = argmin_{||x|| <= R} eta_t f_t(x) + 0.5 ||x - xhat_t||^2``: the implicit
      (proximal) update;
    * ``eta_t = D / sqrt(delta + sum_{s<t} ||g_s - grad f_{s-1}(x_s)||^2)``, from past rounds
      only and the same in both half-steps.

    With linear losses ``f(x) = <g, x>`` both steps reduce to :class:`~banditlab.agents.sea.
    oomd.OOMD` (hint ``M_t = g_{t-1}``); on the SEA losses the proximal steps cannot
    overshoot, so no ``1/(4L)`` cap is used. ``optimistic=False`` drops the hint
    (``x_t = xhat_t``, deviations ``||g_s||^2``): implicit OMD.

    Provenance: implicit (proximal) updates in online learning are due to Kulis & Bartlett
    (2010); Campolongo & Orabona (2020) bound implicit OMD by the temporal variability of
    the losses, and the JMLR version of Chen et al. (2024) uses optimistic OMD with an
    implicit update for non-smooth SEA losses. Using the last observed *loss* as the
    optimistic hint, the gradient-deviation step size above (measured at the played point,
    ``||grad f_s(x_s) - grad f_{s-1}(x_s)||``, which only data feedback makes available) and
    the absence of a cap are our choices [I]; we make no claim that this is the exact
    algorithm or step size of any of these papers.

    Deviations:
        Opt-in only: ``optimistic=False`` (labelled ``[no hint]``): implicit OMD, ``x_t =
        xhat_t``. Measured [M] (static / dynamic pseudo-regret, ``python
        benchmarks/bench_sea.py --variants``: SEAQuadraticData, noise 0.1, T = 1e4, 2
        seeds): default ``fixed`` 26.6, ``drift`` dynamic 51.7; without hint 9.3 and 161.6
        (the hint pays on the drift and costs on the noisy fixed optimum, like the gradient
        hint of :class:`~banditlab.agents.sea.oomd.OOMD`, 26.9 and 55.6).

    Args:
        radius: Ball radius R (``"@known:radius"``).
        diameter: D (``"@known:diameter"``).
        delta: Additive constant of the step (> 0).
        loss: The env's loss: ``"quadratic"``, ``"least_squares"`` or ``"logistic"``
            (``"@known:loss"``); it is how the data record is read.
        h: Diagonal of ``H`` of the quadratic loss (``"@known:h"``), or ``None`` for ones.
        optimistic: Use the last observed loss as the hint.

    References:
        Chen, Zhang, Tu, Zhao, Zhang, "Optimistic Online Mirror Descent for Bridging
        Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024;
        Kulis & Bartlett, "Implicit Online Learning", ICML 2010; Campolongo & Orabona,
        "Temporal Variability in Implicit Online Learning", NeurIPS 2020; Rakhlin &
        Sridharan, "Online Learning with Predictable Sequences", COLT 2013.
    """

    display_name: ClassVar[str] = "Implicit optimistic OMD"
    _tags = {**SEA_TAGS, "check_env": ("banditlab/SEAQuadraticData-v0", {"horizon": 200})}
    _parameter_constraints = {
        "radius": POSITIVE,
        "diameter": POSITIVE,
        "delta": POSITIVE,
        "loss": Options(*LOSSES),
        "h": [None, Array("float", shape=(None,), low=0, closed="neither")],
        "optimistic": Boolean(),
    }

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, delta: float = 1.0,
                 loss: str = "quadratic", h=None, optimistic: bool = True):
        self.radius = radius
        self.diameter = diameter
        self.delta = delta
        self.loss = loss
        self.h = h
        self.optimistic = optimistic

    def variant_tags(self) -> tuple[str, ...]:
        """``("no hint",)`` when ``optimistic=False``."""
        return () if self.optimistic else ("no hint",)

    def _validate_params(self, action_space, observation_space) -> None:
        """Declared constraints, the ball, data-feedback observations and the length of ``h``."""
        super()._validate_params(action_space, observation_space)
        require_ball_space(action_space, float(self.radius))
        require_sea_observations(action_space, observation_space, data=True)
        d = int(action_space.shape[0])
        if self.h is not None and np.asarray(self.h).shape != (d,):
            raise BanditlabError(
                f"h: expected {d} finite numbers > 0 (the diagonal of H), got shape "
                f"{np.asarray(self.h).shape}"
            )

    def make_kernel(self) -> AgentKernel:
        """Implicit optimistic OMD kernel."""
        h = np.zeros(0) if self.h is None else np.ascontiguousarray(self.h, dtype=np.float64)
        hp = ImplicitHParams(
            radius=float(self.radius), diameter=float(self.diameter), delta=float(self.delta),
            loss_kind=np.int64(LOSSES.index(self.loss)), h=h,
            optimistic=np.int64(bool(self.optimistic)),
        )
        return AgentKernel(hp, implicit_init, implicit_select, implicit_update)
