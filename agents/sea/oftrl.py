"""Optimistic follow-the-regularised-leader on a Euclidean ball (Sachs et al., NeurIPS 2022).

Kernels on top, classes below. ``FTRL-v0`` is :class:`FTRL`, the same kernels without the
hint.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.sea.common import POSITIVE, SEA_TAGS, require_ball_space
from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels.projections import project_ball_inplace
from banditlab.validation import Boolean, validate_value


class OFTRLHParams(NamedTuple):
    """Hyperparameters of the optimistic FTRL kernel (``AgentKernel.hparams``).

    Attributes:
        radius: float64, ball radius R.
        diameter: float64, D (scale of the self-confident step).
        delta: float64, additive constant of the step.
        optimistic: int64, 1 to use the hint ``M_t = g_{t-1}``, 0 for ``M_t = 0``.
        strongly_convex: int64, 1 for the strongly convex surrogates.
        strong_convexity: float64, lambda.
    """

    radius: float
    diameter: float
    delta: float
    optimistic: np.int64
    strongly_convex: np.int64
    strong_convexity: float


class OFTRLState(NamedTuple):
    """Optimistic FTRL state (updated in place). ``d`` is the dimension.

    Attributes:
        gsum: float64[d], ``sum_{s<t} g_s``.
        xsum: float64[d], ``sum_{s<t} x_s`` (strongly convex surrogates).
        hint: float64[d], ``M_t`` (last gradient when optimistic, else zeros).
        x: float64[d], the point played this round.
        acc: float64[2], (``sum_{s<t} ||g_s - M_s||^2``, rounds completed).
    """

    gsum: np.ndarray
    xsum: np.ndarray
    hint: np.ndarray
    x: np.ndarray
    acc: np.ndarray


@njit(cache=True)
def oftrl_init(dims, hparams, rng):
    """Zero sums and hint."""
    d = dims[0]
    return OFTRLState(np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(2))


@njit(cache=True)
def oftrl_select(state, hparams, obs, t, rng):
    """Lazy projection ``x_t = Pi_X(-eta_t (sum_{s<t} g_s + M_t))`` (or the strongly convex form).

    ``hparams`` is an :class:`OFTRLHParams`. Convex:
    ``eta_t = D / sqrt(delta + sum_{s<t} ||g_s - M_s||^2)``. Strongly convex: FTRL on the
    surrogates ``<g_s, x> + lambda/2 ||x - x_s||^2`` plus ``lambda/2 ||x||^2``, i.e.
    ``x_t = Pi_X((lambda sum x_s - sum g_s - M_t) / (lambda t))``.
    """
    x = state.x  # fields first, then no tuple access
    gsum = state.gsum
    xsum = state.xsum
    hint = state.hint
    acc = state.acc
    lam = hparams.strong_convexity
    d = x.shape[0]
    if hparams.strongly_convex != 0:
        n = acc[1]
        for i in range(d):
            x[i] = (lam * xsum[i] - gsum[i] - hint[i]) / (lam * (n + 1.0))
    else:
        eta = hparams.diameter / np.sqrt(hparams.delta + acc[0])
        for i in range(d):
            x[i] = -eta * (gsum[i] + hint[i])
    project_ball_inplace(x, hparams.radius)
    return x  # a view of the state buffer (the env reads it during its step)


@njit(cache=True)
def oftrl_update(state, hparams, obs, action, reward, next_obs):
    """Add ``g_t`` and ``x_t`` to the sums; ``M_{t+1} = g_t`` when optimistic."""
    x = state.x  # fields first, then no tuple access
    gsum = state.gsum
    xsum = state.xsum
    hint = state.hint
    acc = state.acc
    optimistic = hparams.optimistic
    s = 0.0
    for i in range(x.shape[0]):  # g = next_obs[:d] (data feedback appends the data)
        gi = next_obs[i]
        gsum[i] += gi
        xsum[i] += x[i]
        diff = gi - hint[i]
        s += diff * diff
        hint[i] = gi if optimistic != 0 else 0.0
    acc[0] += s
    acc[1] += 1.0


class OFTRL(KernelAgent):
    """Optimistic FTRL with the last gradient as hint (``optimistic=False``: plain FTRL).

    Convex: ``x_t = argmin_X <sum_{s<t} g_s + M_t, x> + ||x||^2 / (2 eta_t)`` (a lazy
    projection on the ball) with the self-confident ``eta_t`` of :class:`OOMD`; expected
    regret ``O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T}))`` (Sachs et al., as summarised by
    Chen et al.). Strongly convex
    (``strongly_convex=True``): FTRL on ``<g_s, x> + lambda/2 ||x - x_s||^2`` plus the hint,
    ``O((sigma^2_max + Sigma^2_max) log T)``. The self-confident step is ours, taken from
    :class:`OOMD` [I]; the ``lambda/2 ||x||^2`` start term of the
    strongly convex form is our choice [I].

    Deviations:
        Opt-in only (the label shows them): ``optimistic=False`` (no hint; the :class:`FTRL`
        class) and ``strongly_convex=True``. Measured [M] (static / dynamic pseudo-regret,
        ``python benchmarks/bench_sea.py --variants``: SEAQuadratic, noise 0.1, T = 1e4, 2
        seeds): default ``fixed`` 1.8, ``drift`` dynamic 9675; no hint 1.7 and 9779;
        strongly convex surrogates 1.7 and 14992 (lazy methods do not track).

    Args:
        radius: Ball radius R.
        diameter: D (scale of the self-confident step).
        delta: Additive constant of the step (> 0).
        optimistic: Use ``M_t = g_{t-1}`` (else ``M_t = 0``).
        strongly_convex: Use the strongly convex surrogates.
        strong_convexity: lambda.

    References:
        Sachs, Hadiji, van Erven, Guzman, "Between Stochastic and Adversarial Online Convex
        Optimization: Improved Regret Bounds via Smoothness", NeurIPS 2022.
    """

    display_name: ClassVar[str] = "Optimistic FTRL"
    _tags = dict(SEA_TAGS)
    _parameter_constraints = {
        "radius": POSITIVE,
        "diameter": POSITIVE,
        "delta": POSITIVE,
        "optimistic": Boolean(),
        "strongly_convex": Boolean(),
    }

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, delta: float = 1.0,
                 optimistic: bool = True, strongly_convex: bool = False,
                 strong_convexity: float = 1.0):
        self.radius = radius
        self.diameter = diameter
        self.delta = delta
        self.optimistic = optimistic
        self.strongly_convex = strongly_convex
        self.strong_convexity = strong_convexity

    def variant_tags(self) -> tuple[str, ...]:
        """``"no hint"`` when ``optimistic=False``; ``"strongly convex surrogates"``."""
        tags = () if self.optimistic else ("no hint",)
        return tags + (("strongly convex surrogates",) if self.strongly_convex else ())

    def _validate_params(self, action_space, observation_space) -> None:
        """Declared constraints, lambda when strongly convex, then the ball."""
        super()._validate_params(action_space, observation_space)
        if self.strongly_convex:
            validate_value("strong_convexity", self.strong_convexity, POSITIVE)
        require_ball_space(action_space, float(self.radius), observation_space)

    def make_kernel(self) -> AgentKernel:
        """OFTRL kernel."""
        hp = OFTRLHParams(
            radius=float(self.radius), diameter=float(self.diameter), delta=float(self.delta),
            optimistic=np.int64(bool(self.optimistic)),
            strongly_convex=np.int64(bool(self.strongly_convex)),
            strong_convexity=float(self.strong_convexity),
        )
        return AgentKernel(hp, oftrl_init, oftrl_select, oftrl_update)


class FTRL(OFTRL):
    """Follow the regularised leader on linearised losses: optimistic FTRL without the hint.

    ``x_t = argmin_X <sum_{s<t} g_s, x> + ||x||^2 / (2 eta_t)`` (``M_t = 0``), with the same
    self-confident step and strongly convex form as :class:`OFTRL`; the non-optimistic
    baseline of Sachs et al. (2022).

    Deviations:
        Opt-in only: ``strongly_convex=True`` (labelled ``FTRL [strongly convex
        surrogates]``). Measured [M] (static / dynamic pseudo-regret, ``python
        benchmarks/bench_sea.py --variants``: SEAQuadratic, noise 0.1, T = 1e4, 2 seeds):
        default ``fixed`` 1.7, ``drift`` dynamic 9779; strongly convex surrogates 1.7 and
        15006.

    Args:
        radius: Ball radius R.
        diameter: D (scale of the self-confident step).
        delta: Additive constant of the step (> 0).
        strongly_convex: Use the strongly convex surrogates.
        strong_convexity: lambda.
    """

    display_name: ClassVar[str] = "FTRL"
    optimistic: ClassVar[bool] = False
    """Fixed: no hint (not a hyperparameter of this class)."""
    _parameter_constraints = {
        k: v for k, v in OFTRL._parameter_constraints.items() if k != "optimistic"
    }

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, delta: float = 1.0,
                 strongly_convex: bool = False, strong_convexity: float = 1.0):
        self.radius = radius
        self.diameter = diameter
        self.delta = delta
        self.strongly_convex = strongly_convex
        self.strong_convexity = strong_convexity

    def variant_tags(self) -> tuple[str, ...]:
        """``"strongly convex surrogates"`` when ``strongly_convex=True``."""
        return ("strongly convex surrogates",) if self.strongly_convex else ()
