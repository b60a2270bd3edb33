"""Online gradient descent on a Euclidean ball: D/(G sqrt t), AdaGrad-norm and 1/(lambda t) steps.

Kernels on top, class below.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.sea.common import POSITIVE, SEA_TAGS, require_ball_space
from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels.projections import project_ball_inplace
from banditlab.validation import Options, validate_value

_OGD_STEPS = ("sqrt", "adagrad_norm", "strongly_convex")


class OGDHParams(NamedTuple):
    """Hyperparameters of the OGD kernel (``AgentKernel.hparams``).

    Attributes:
        radius: float64, ball radius R.
        diameter: float64, D.
        grad_bound: float64, G (used by step kind 0).
        step_kind: int64, index into ``("sqrt", "adagrad_norm", "strongly_convex")``.
        strong_convexity: float64, lambda (used by step kind 2).
    """

    radius: float
    diameter: float
    grad_bound: float
    step_kind: np.int64
    strong_convexity: float


class OGDState(NamedTuple):
    """OGD state (updated in place).

    Attributes:
        x: float64[d], the current point.
        acc: float64[2], (sum of squared gradient norms so far, rounds completed).
    """

    x: np.ndarray
    acc: np.ndarray


@njit(cache=True)
def ogd_init(dims, hparams, rng):
    """Start at the centre of the ball."""
    return OGDState(np.zeros(dims[0]), np.zeros(2))


@njit(cache=True)
def ogd_select(state, hparams, obs, t, rng):
    """Play the current point: a view of ``state.x`` (the env reads it during its step)."""
    return state.x


@njit(cache=True)
def ogd_update(state, hparams, obs, action, reward, next_obs):
    """``x <- Pi_X(x - eta_t g_t)`` with ``g_t = next_obs``.

    ``hparams`` is an :class:`OGDHParams`; ``step_kind`` 0: ``eta_t = D / (G sqrt t)``;
    1 (AdaGrad-norm): ``eta_t = D / sqrt(sum_{s<=t} ||g_s||^2)``; 2: ``eta_t = 1 / (lambda t)``.
    """
    x = state.x  # fields first, then no tuple access
    acc = state.acc
    diameter = hparams.diameter
    step_kind = hparams.step_kind
    d = x.shape[0]  # the gradient is next_obs[:d] (data feedback appends the data)
    gg = 0.0
    for i in range(d):
        gg += next_obs[i] * next_obs[i]
    acc[0] += gg
    acc[1] += 1.0
    t = acc[1]
    if step_kind == 0:
        eta = diameter / (hparams.grad_bound * np.sqrt(t))
    elif step_kind == 1:
        eta = diameter / np.sqrt(acc[0]) if acc[0] > 0.0 else 0.0
    else:
        eta = 1.0 / (hparams.strong_convexity * t)
    for i in range(d):
        x[i] -= eta * next_obs[i]
    project_ball_inplace(x, hparams.radius)


class OGD(KernelAgent):
    """Projected online gradient descent on the ball ``{||x|| <= radius}``.

    ``x_{t+1} = Pi_X(x_t - eta_t g_t)``, ``x_1 = 0``, with ``step``:

    * ``"sqrt"``: ``eta_t = D / (G sqrt t)`` (Zinkevich 2003), regret ``O(D G sqrt T)``;
      labelled ``OGD``; the two other rules are labelled ``OGD [AdaGrad-norm step]`` and
      ``OGD [1/(lambda t) step]``;
    * ``"adagrad_norm"``: ``eta_t = D / sqrt(sum_{s<=t} ||g_s||^2)`` (the strong, honest
      baseline; Streeter & McMahan 2010, Ward et al. 2019);
    * ``"strongly_convex"``: ``eta_t = 1 / (lambda t)`` (Hazan, Agarwal & Kale 2007),
      regret ``O(G^2 log T / lambda)``.

    Deviations:
        Opt-in step rules (the label shows them): ``"adagrad_norm"`` and
        ``"strongly_convex"`` replace Zinkevich's step by the AdaGrad-norm step (no G
        needed) or the 1/(lambda t) step of Hazan et al. (log regret for strongly convex
        losses, no tracking). Measured [M] (static / dynamic pseudo-regret, ``python
        benchmarks/bench_sea.py --variants``: SEAQuadratic, noise 0.1, T = 1e4, 2 seeds):
        ``fixed`` 4.1, 9.8, 1.7 (D/(G sqrt t), AdaGrad-norm, 1/(lambda t)); ``drift``
        dynamic 1597, 155, 14689.

    Args:
        radius: Ball radius R (bind ``"@known:radius"``).
        diameter: D (bind ``"@known:diameter"``).
        grad_bound: G, used by ``"sqrt"`` (bind ``"@known:grad_bound"``).
        step: One of ``"sqrt"``, ``"adagrad_norm"``, ``"strongly_convex"``.
        strong_convexity: lambda, used by ``"strongly_convex"``.
    """

    display_name: ClassVar[str] = "OGD"
    _tags = dict(SEA_TAGS)
    _parameter_constraints = {
        "radius": POSITIVE,
        "diameter": POSITIVE,
        "step": Options(*_OGD_STEPS),
    }

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, grad_bound: float = 3.5,
                 step: str = "adagrad_norm", strong_convexity: float = 1.0):
        self.radius = radius
        self.diameter = diameter
        self.grad_bound = grad_bound
        self.step = step
        self.strong_convexity = strong_convexity

    def variant_tags(self) -> tuple[str, ...]:
        """The step rule when it is not Zinkevich's ``D / (G sqrt t)``."""
        return {"adagrad_norm": ("AdaGrad-norm step",),
                "strongly_convex": ("1/(lambda t) step",)}.get(self.step, ())

    def _validate_params(self, action_space, observation_space) -> None:
        """Declared constraints, the constants the chosen step uses, then the ball."""
        super()._validate_params(action_space, observation_space)
        if self.step == "sqrt":
            validate_value("grad_bound", self.grad_bound, POSITIVE)
        if self.step == "strongly_convex":
            validate_value("strong_convexity", self.strong_convexity, POSITIVE)
        require_ball_space(action_space, float(self.radius), observation_space)

    def make_kernel(self) -> AgentKernel:
        """OGD kernel."""
        hp = OGDHParams(
            radius=float(self.radius), diameter=float(self.diameter),
            grad_bound=float(self.grad_bound), step_kind=np.int64(_OGD_STEPS.index(self.step)),
            strong_convexity=float(self.strong_convexity),
        )
        return AgentKernel(hp, ogd_init, ogd_select, ogd_update)
