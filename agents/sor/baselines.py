"""Baselines of the SOR family: fixed omega, Gauss-Seidel (omega = 1), Young's omega per instance.

All three ignore feedback. On the discrete action space they play the grid
index nearest to their omega (ties to the smaller omega); on the continuous
one they return the omega itself.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from banditlab.core import Agent, BanditlabError

__all__ = ["FixedOmega", "GaussSeidel", "YoungOmega", "resolve_grid"]

_DEFAULT_GRID = tuple(float(w) for w in np.linspace(1.0, 1.95, 20))
_CHECK_ENV = ("banditlab/SORSequence-v0", {"horizon": 200})


def resolve_grid(omega_grid, action_space) -> np.ndarray:
    """Validate ``omega_grid`` (``None`` = ``linspace(1, 1.95, 20)``) against ``action_space``.

    Raises:
        BanditlabError: On a malformed grid or a size mismatch with a Discrete space.
    """
    try:
        grid = np.asarray(_DEFAULT_GRID if omega_grid is None else omega_grid, np.float64)
    except (TypeError, ValueError):
        raise BanditlabError(
            f"omega_grid: expected a list of numbers, got {omega_grid!r}"
        ) from None
    if grid.ndim != 1 or grid.shape[0] < 1 or not np.all(np.isfinite(grid)):
        raise BanditlabError("omega_grid: expected a non-empty 1-D list of finite omegas")
    if np.any(grid <= 0.0) or np.any(grid >= 2.0):
        raise BanditlabError("omega_grid: every omega must lie in the open interval (0, 2)")
    if isinstance(action_space, gym.spaces.Discrete):
        if int(action_space.n) != grid.shape[0]:
            raise BanditlabError(
                f"omega_grid: has {grid.shape[0]} values but the action space has "
                f"{int(action_space.n)} actions (bind it with '@known:omega_grid')"
            )
    elif not (isinstance(action_space, gym.spaces.Box) and action_space.shape == (1,)):
        raise BanditlabError(
            f"action_space: expected Discrete(d) or Box(shape=(1,)), got {action_space}"
        )
    return grid


def _check_omega(omega) -> float:
    if isinstance(omega, bool) or not isinstance(omega, (int, float, np.integer, np.floating)):
        raise BanditlabError(f"omega: expected a number in (0, 2), got {omega!r}")
    if not (np.isfinite(omega) and 0.0 < float(omega) < 2.0):
        raise BanditlabError(f"omega: must lie in the open interval (0, 2), got {omega!r}")
    return float(omega)


class _OmegaRule(Agent):
    """Shared plumbing: map a target omega to the action space."""

    _tags = {"learns": False, "families": ("sor",), "action_kind": "discrete",
             "check_env": _CHECK_ENV}

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

    def __init__(self, omega: float = 1.6, omega_grid=None):
        self.omega = omega
        self.omega_grid = omega_grid

    def _validate_params(self, action_space, observation_space) -> None:
        _check_omega(self.omega)

    def _target(self, observation) -> float:
        return float(self.omega)


class GaussSeidel(_OmegaRule):
    """Gauss-Seidel, i.e. SOR with omega = 1.

    Args:
        omega_grid: The env's grid (``None`` = the default grid).
    """

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

    _tags = {"learns": False, "oracle": True, "families": ("sor",), "action_kind": "discrete",
             "check_env": _CHECK_ENV}

    def __init__(self, beta0: float = float(np.cos(np.pi / 11)), diag: float = 4.0,
                 omega_grid=None):
        self.beta0 = beta0
        self.diag = diag
        self.omega_grid = omega_grid

    def _validate_params(self, action_space, observation_space) -> None:
        if not (isinstance(self.beta0, (int, float)) and 0.0 <= self.beta0 < 1.0):
            raise BanditlabError(f"beta0: expected a number in [0, 1), got {self.beta0!r}")
        if not (isinstance(self.diag, (int, float)) and self.diag > 0.0):
            raise BanditlabError(f"diag: expected a number > 0, got {self.diag!r}")

    def _target(self, observation) -> float:
        c = float(np.asarray(observation, dtype=np.float64).reshape(-1)[0])
        beta = self.beta0 * self.diag / (self.diag + c)
        if not 0.0 <= beta < 1.0:
            raise BanditlabError(
                f"observation: shift {c} makes the Jacobi radius {beta} leave [0, 1)"
            )
        return float(2.0 / (1.0 + np.sqrt(1.0 - beta * beta)))
