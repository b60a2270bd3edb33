"""Online gradient descent on a Euclidean ball: D/(G sqrt t), AdaGrad-norm and 1/(lambda t) steps.

Kernels on top, class below. Also holds the small validation helpers shared by the
``oco_*`` agents of the SEA family.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.kernels.projections import dot, project_ball_inplace

SEA_TAGS = {
    "action_kind": "continuous",
    "families": ("sea",),
    "check_env": ("banditlab/SEAQuadratic-v0", {"horizon": 200}),
}


def check_positive(name: str, value, *, allow_zero: bool = False, allow_inf: bool = False):
    """Raise :class:`BanditlabError` unless ``value`` is a number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BanditlabError(f"{name}: expected a number > 0, got {value!r}")
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not allow_inf):
        raise BanditlabError(f"{name}: expected a finite number, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        op = ">=" if allow_zero else ">"
        raise BanditlabError(f"{name}: expected a number {op} 0, got {value!r}")
    return v


def check_choice(name: str, value, choices) -> str:
    """Raise :class:`BanditlabError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise BanditlabError(f"{name}: expected one of {tuple(choices)}, got {value!r}")
    return value


def require_ball_space(action_space, radius: float) -> None:
    """Require a 1-D Box action space whose bounds contain the ball of radius ``radius``."""
    if not isinstance(action_space, gym.spaces.Box) or len(action_space.shape) != 1:
        raise BanditlabError(
            f"action_space: this agent needs a 1-D Box (a ball of the SEA family), got "
            f"{action_space}"
        )
    space_radius = float(np.min(action_space.high))
    if np.isfinite(space_radius) and radius > space_radius * (1.0 + 1e-9):
        raise BanditlabError(
            f"radius: {radius} exceeds the action space's radius {space_radius}; bind "
            "'@known:radius'"
        )


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
    """Play the current point (a copy)."""
    return state.x.copy()


@njit(cache=True)
def ogd_update(state, hparams, obs, action, reward, next_obs):
    """``x <- Pi_X(x - eta_t g_t)`` with ``g_t = next_obs``.

    ``hparams = (radius, diameter, grad_bound, step_kind, strong_convexity)``; ``step_kind``
    0: ``eta_t = D / (G sqrt t)``; 1 (AdaGrad-norm): ``eta_t = D / sqrt(sum_{s<=t} ||g_s||^2)``;
    2: ``eta_t = 1 / (lambda t)``.
    """
    radius, diameter, grad_bound, step_kind, lam = hparams
    g = next_obs
    state.acc[0] += dot(g, g)
    state.acc[1] += 1.0
    t = state.acc[1]
    if step_kind == 0:
        eta = diameter / (grad_bound * np.sqrt(t))
    elif step_kind == 1:
        eta = diameter / np.sqrt(state.acc[0]) if state.acc[0] > 0.0 else 0.0
    else:
        eta = 1.0 / (lam * t)
    for i in range(state.x.shape[0]):
        state.x[i] -= eta * g[i]
    project_ball_inplace(state.x, radius)


_OGD_STEPS = ("sqrt", "adagrad_norm", "strongly_convex")


class OGD(KernelAgent):
    """Projected online gradient descent on the ball ``{||x|| <= radius}``.

    ``x_{t+1} = Pi_X(x_t - eta_t g_t)``, ``x_1 = 0``, with ``step``:

    * ``"sqrt"``: ``eta_t = D / (G sqrt t)`` (Zinkevich 2003), regret ``O(D G sqrt T)``;
    * ``"adagrad_norm"``: ``eta_t = D / sqrt(sum_{s<=t} ||g_s||^2)`` (the strong, honest
      baseline; Streeter & McMahan 2010, Ward et al. 2019);
    * ``"strongly_convex"``: ``eta_t = 1 / (lambda t)`` (Hazan, Agarwal & Kale 2007),
      regret ``O(G^2 log T / lambda)``.

    Args:
        radius: Ball radius R (bind ``"@known:radius"``).
        diameter: D (bind ``"@known:diameter"``).
        grad_bound: G, used by ``"sqrt"`` (bind ``"@known:grad_bound"``).
        step: One of ``"sqrt"``, ``"adagrad_norm"``, ``"strongly_convex"``.
        strong_convexity: lambda, used by ``"strongly_convex"``.
    """

    _tags = dict(SEA_TAGS)

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, grad_bound: float = 3.5,
                 step: str = "adagrad_norm", strong_convexity: float = 1.0):
        self.radius = radius
        self.diameter = diameter
        self.grad_bound = grad_bound
        self.step = step
        self.strong_convexity = strong_convexity

    def _validate_params(self, action_space, observation_space) -> None:
        check_positive("radius", self.radius)
        check_positive("diameter", self.diameter)
        check_choice("step", self.step, _OGD_STEPS)
        if self.step == "sqrt":
            check_positive("grad_bound", self.grad_bound)
        if self.step == "strongly_convex":
            check_positive("strong_convexity", self.strong_convexity)
        require_ball_space(action_space, float(self.radius))

    def make_kernel(self) -> AgentKernel:
        """OGD kernel."""
        hp = (float(self.radius), float(self.diameter), float(self.grad_bound),
              np.int64(_OGD_STEPS.index(self.step)), float(self.strong_convexity))
        return AgentKernel(hp, ogd_init, ogd_select, ogd_update)
