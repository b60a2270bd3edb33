"""Baselines of the SOR family: fixed omega, Gauss-Seidel (omega = 1), Young's omega per instance.

All three ignore feedback. On the discrete action space they play the grid
index nearest to their omega (ties to the smaller omega); on the continuous
one they return the omega itself. Kernels on top, classes below: they are kernel agents
(:func:`omega_rule_select`, :func:`omega_rule_select_box`), so on the cached-table env
``banditlab/SORTable-v0`` they and the oracle's ``fixed_<w>`` and ``young`` policies run
in the fused loop.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.agents.sor.common import OMEGA, OMEGA_GRID, TABLE_CHECK_ENV, resolve_grid
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.validation import Interval

__all__ = ["FixedOmega", "GaussSeidel", "YoungOmega", "OmegaRuleHparams", "OmegaRuleState",
           "omega_rule_init", "omega_rule_target", "omega_rule_select", "omega_rule_select_box",
           "omega_rule_update"]


# --------------------------------------------------------------------------- kernels
class OmegaRuleHparams(NamedTuple):
    """Kernel hyperparameters of the omega rules.

    Attributes:
        young: bool, Young's omega of the context (else the fixed ``omega``).
        omega: float64, the fixed omega.
        beta0: float64, Jacobi spectral radius of the unshifted matrix (Young).
        diag: float64, the constant diagonal of the unshifted matrix (Young).
        grid: float64[d], the omega grid (discrete actions).
        continuous: bool, play the omega itself (a ``Box(1)`` action,
            :func:`omega_rule_select_box`) instead of a grid index (:func:`omega_rule_select`).
        low: float64, lower end of the ``Box`` (continuous).
        high: float64, upper end of the ``Box`` (continuous).
    """

    young: bool
    omega: float
    beta0: float
    diag: float
    grid: np.ndarray
    continuous: bool
    low: float
    high: float


class OmegaRuleState(NamedTuple):
    """Kernel state of the omega rules.

    Attributes:
        action: float64[1], the action buffer of a continuous action space (the omega);
            ``select`` returns it (the Python path copies it).
    """

    action: np.ndarray


@njit(cache=True)
def omega_rule_init(dims, hparams, rng):
    """The action buffer; nothing is learned and nothing is drawn."""
    return OmegaRuleState(np.zeros(1))


@njit(cache=True)
def omega_rule_target(hparams, obs):
    """The target omega: ``hparams.omega``, or Young's omega of the context ``c = obs[0]``.

    Young: ``2/(1 + sqrt(1 - beta^2))`` with ``beta = beta0 diag / (diag + c)``.

    Raises:
        BanditlabError: When ``beta`` leaves ``[0, 1)`` (the Python path raises it first,
            with the values).
    """
    if not hparams.young:
        return hparams.omega
    c = obs[0]
    beta = hparams.beta0 * hparams.diag / (hparams.diag + c)
    if not 0.0 <= beta < 1.0:
        raise BanditlabError("observation: the shift makes the Jacobi radius leave [0, 1)")
    return 2.0 / (1.0 + np.sqrt(1.0 - beta * beta))


@njit(cache=True)
def omega_rule_select(state, hparams, obs, t, rng):
    """The grid index nearest the target omega (first of equally near ones: the smaller)."""
    w = omega_rule_target(hparams, obs)
    grid = hparams.grid
    best = np.abs(grid[0] - w)
    idx = 0
    for i in range(1, grid.shape[0]):
        v = np.abs(grid[i] - w)
        if v < best:
            best = v
            idx = i
    return np.int64(idx)


@njit(cache=True)
def omega_rule_select_box(state, hparams, obs, t, rng):
    """The target omega clipped to ``[low, high]``: the action buffer ``state.action``."""
    w = omega_rule_target(hparams, obs)
    state.action[0] = min(max(w, hparams.low), hparams.high)
    return state.action


@njit(cache=True)
def omega_rule_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""


class _OmegaRule(KernelAgent):
    """Shared plumbing: map a target omega to the action space (kernel agent).

    Kernel agent (:func:`omega_rule_select`): on the cached-table env
    (``banditlab/SORTable-v0``) the harness runs the fused loop.
    """

    _tags = {"learns": False, "families": ("sor",), "action_kind": "discrete",
             "check_env": TABLE_CHECK_ENV}
    _parameter_constraints = {"omega_grid": OMEGA_GRID}
    _young: ClassVar[bool] = False

    def _target_omega(self) -> float:
        """The fixed omega (``_young`` rules: unused)."""
        return 1.0

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        resolve_grid(self.omega_grid, action_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate hyperparameters and build the kernel; nothing is learned."""
        self._validate_params(action_space, observation_space)
        self.grid_ = resolve_grid(self.omega_grid, action_space)
        self.action_space_ = action_space
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)

    def make_kernel(self) -> AgentKernel:
        """The omega-rule kernel for the action space of the last ``reset``."""
        space = self.action_space_
        continuous = not isinstance(space, gym.spaces.Discrete)
        lo = float(space.low[0]) if continuous else 0.0
        hi = float(space.high[0]) if continuous else 0.0
        hparams = OmegaRuleHparams(
            bool(self._young), float(self._target_omega()),
            float(getattr(self, "beta0", 0.0)), float(getattr(self, "diag", 1.0)),
            np.asarray(self.grid_, np.float64), continuous, lo, hi)
        select = omega_rule_select_box if continuous else omega_rule_select
        return AgentKernel(hparams, omega_rule_init, select, omega_rule_update)


class FixedOmega(_OmegaRule):
    """Always the same omega (the authors' fixed-omega baselines).

    Args:
        omega: The omega, in (0, 2) (default 1.6, the best plotted value for low variance).
        omega_grid: The env's grid (``"@known:omega_grid"``; ``None`` = the default grid).
    """

    display_name: ClassVar[str] = "Fixed omega"

    _parameter_constraints = {"omega": OMEGA, "omega_grid": OMEGA_GRID}

    def __init__(self, omega: float = 1.6, omega_grid=None):
        self.omega = omega
        self.omega_grid = omega_grid

    def _target_omega(self) -> float:
        return float(self.omega)


class GaussSeidel(_OmegaRule):
    """Gauss-Seidel, i.e. SOR with omega = 1.

    Args:
        omega_grid: The env's grid (``None`` = the default grid).
    """

    display_name: ClassVar[str] = "Gauss-Seidel"

    def __init__(self, omega_grid=None):
        self.omega_grid = omega_grid


class YoungOmega(_OmegaRule):
    """Young's asymptotically optimal omega of each shifted-Laplacian instance (oracle policy).

    Uses the context ``c`` (the diagonal shift) and the known structure of the
    matrix: ``beta(c) = beta0 * diag / (diag + c)`` and ``w* = 2/(1 + sqrt(1 - beta^2))``.
    On the discrete grid it plays the nearest grid omega (the env's
    ``dynamic/young`` comparator gives the exact off-grid figure).

    Args:
        beta0: Jacobi spectral radius of the unshifted matrix (default ``cos(pi/11)``,
            the 10 x 10 Laplacian).
        diag: The constant diagonal of the unshifted matrix (default 4).
        omega_grid: The env's grid (``None`` = the default grid).
    """

    display_name: ClassVar[str] = "Young's omega"

    _tags = {"learns": False, "oracle": True, "families": ("sor",), "action_kind": "discrete",
             "check_env": TABLE_CHECK_ENV}
    _young: ClassVar[bool] = True
    _parameter_constraints = {
        "beta0": Interval("real", 0.0, 1.0, closed="left"),
        "diag": Interval("real", 0.0, None, closed="neither"),
        "omega_grid": OMEGA_GRID,
    }

    def __init__(self, beta0: float = float(np.cos(np.pi / 11)), diag: float = 4.0,
                 omega_grid=None):
        self.beta0 = beta0
        self.diag = diag
        self.omega_grid = omega_grid

    def act(self, observation):
        """The grid omega nearest Young's omega of the context (raises off ``[0, 1)``)."""
        c = float(np.asarray(observation, dtype=np.float64).reshape(-1)[0])
        beta = self.beta0 * self.diag / (self.diag + c)
        if not 0.0 <= beta < 1.0:
            raise BanditlabError(
                f"observation: shift {c} makes the Jacobi radius {beta} leave [0, 1)"
            )
        return super().act(observation)
