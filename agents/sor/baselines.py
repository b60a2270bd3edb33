"""Baselines of the SOR family: fixed omega, Gauss-Seidel (omega = 1), Young's omega per instance.

All three ignore feedback. On the discrete action space they play the grid
index nearest to their omega (ties to the smaller omega); on the continuous
one they return the omega itself.
"""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym
import numpy as np

from banditlab.agents.sor.common import CHECK_ENV, OMEGA, OMEGA_GRID, resolve_grid
from banditlab.core import Agent, BanditlabError
from banditlab.validation import Interval

__all__ = ["FixedOmega", "GaussSeidel", "YoungOmega"]


class _OmegaRule(Agent):
    """Shared plumbing: map a target omega to the action space."""

    _tags = {"learns": False, "families": ("sor",), "action_kind": "discrete",
             "check_env": CHECK_ENV}
    _parameter_constraints = {"omega_grid": OMEGA_GRID}

    def _target(self, observation) -> float:
        raise NotImplementedError

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate hyperparameters; nothing is learned."""
        self._validate_params(action_space, observation_space)
        self.grid_ = resolve_grid(self.omega_grid, action_space)
        self.action_space_ = action_space
        self.rng_ = np.random.default_rng(seed)

    def act(self, observation):
        """The grid index nearest to the target omega, or the omega (continuous)."""
        w = self._target(observation)
        if isinstance(self.action_space_, gym.spaces.Discrete):
            return int(np.argmin(np.abs(self.grid_ - w)))
        lo, hi = float(self.action_space_.low[0]), float(self.action_space_.high[0])
        return np.array([min(max(w, lo), hi)], dtype=np.float64)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""


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

    def _target(self, observation) -> float:
        return float(self.omega)


class GaussSeidel(_OmegaRule):
    """Gauss-Seidel, i.e. SOR with omega = 1.

    Args:
        omega_grid: The env's grid (``None`` = the default grid).
    """

    display_name: ClassVar[str] = "Gauss-Seidel"

    def __init__(self, omega_grid=None):
        self.omega_grid = omega_grid

    def _target(self, observation) -> float:
        return 1.0


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
             "check_env": CHECK_ENV}
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

    def _target(self, observation) -> float:
        c = float(np.asarray(observation, dtype=np.float64).reshape(-1)[0])
        beta = self.beta0 * self.diag / (self.diag + c)
        if not 0.0 <= beta < 1.0:
            raise BanditlabError(
                f"observation: shift {c} makes the Jacobi radius {beta} leave [0, 1)"
            )
        return float(2.0 / (1.0 + np.sqrt(1.0 - beta * beta)))
