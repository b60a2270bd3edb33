"""Shared constraints and helpers of the SOR agents: the omega grid and the context interval.

Every SOR agent takes the env's grid as ``omega_grid`` (``"@known:omega_grid"``) and the
contextual ones its context interval as ``context_range`` (``"@known:context_range"``).
The per-value checks are declarative (:mod:`banditlab.validation`); the checks that relate
a value to the action space or to another value are the functions below.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from banditlab.errors import BanditlabError
from banditlab.validation import Array, Interval, validate_value

__all__ = [
    "CHECK_ENV",
    "TABLE_CHECK_ENV",
    "DEFAULT_OMEGA_GRID",
    "OMEGA",
    "OMEGA_GRID",
    "CONTEXT_RANGE",
    "resolve_grid",
    "context_bounds",
    "check_context",
    "COST_OFFSET",
    "check_mean_cost",
]

#: Env the conformance checks run the SOR agents on.
CHECK_ENV = ("banditlab/SORSequence-v1", {"horizon": 200})
#: Env the conformance checks run the SOR kernel agents on: the cached-table kernel env, so
#: that the fused-vs-Python check applies.
TABLE_CHECK_ENV = ("banditlab/SORTable-v0", {"horizon": 200})
#: The authors' grid, ``linspace(1, 1.95, 20)`` (the env's default).
DEFAULT_OMEGA_GRID = tuple(float(w) for w in np.linspace(1.0, 1.95, 20))
#: A relaxation parameter: the open interval (0, 2).
OMEGA = Interval("real", 0.0, 2.0, closed="neither")
#: ``None`` (the default grid) or a non-empty 1-D array of omegas in (0, 2).
OMEGA_GRID = [None, Array("float", ndim=1, min_len=1, low=0.0, high=2.0, closed="neither")]
#: ``(low, high)``; ``low < high`` is checked by :func:`context_bounds`.
CONTEXT_RANGE = Array("float", shape=(2,))


def resolve_grid(omega_grid, action_space) -> np.ndarray:
    """Validate ``omega_grid`` (``None`` = ``linspace(1, 1.95, 20)``) against ``action_space``.

    Returns:
        float64[d], the grid.

    Raises:
        BanditlabError: On a malformed grid or a size mismatch with a Discrete space.
    """
    grid = validate_value("omega_grid", omega_grid, OMEGA_GRID)
    if grid is None:
        grid = np.asarray(DEFAULT_OMEGA_GRID, np.float64)
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


def context_bounds(context_range) -> tuple[float, float]:
    """``(low, high)`` of a context interval as floats, with ``low < high``.

    Raises:
        BanditlabError: When ``context_range`` is not two finite numbers with ``low < high``.
    """
    lo, hi = (float(v) for v in validate_value("context_range", context_range, CONTEXT_RANGE))
    if not lo < hi:
        raise BanditlabError(f"context_range: expected finite low < high, got {context_range!r}")
    return lo, hi


def check_context(observation, lo: float, hi: float) -> float:
    """The context (first entry of ``observation``), which must lie in ``[lo, hi]``.

    A relative slack of ``1e-9 (hi - lo)`` absorbs rounding at the ends.

    Raises:
        BanditlabError: When the context is not finite or lies outside the interval.
    """
    c = float(np.asarray(observation, dtype=np.float64).reshape(-1)[0])
    tol = 1e-9 * (hi - lo)
    if not (np.isfinite(c) and lo - tol <= c <= hi + tol):
        raise BanditlabError(
            f"observation: context {c} is outside context_range [{lo}, {hi}]; bind "
            "context_range with '@known:context_range'"
        )
    return c


#: ``cost_offset``: a non-negative real (the authors' value 1 suits iteration counts).
COST_OFFSET = Interval("real", 0.0, None, closed="left")


def check_mean_cost(mean_cost: float, cost_offset: float) -> None:
    """Raise when the running mean cost lies below ``cost_offset`` (normalisation broken).

    The scale-free normalisations of the authors' learners divide by ``mean - 1``
    (Tsallis-INF) and fit ``(cost - 1)/scale`` (ChebCB): the ``1`` is the smallest cost an
    iteration count takes. Costs in seconds (``cost_kind="time"``) lie far below 1, which
    would make every normalised loss about ``-1`` whatever the arm; they need
    ``cost_offset=0`` (the env's ``"@known:cost_offset"``).

    Raises:
        BanditlabError: ``"cost_offset: ..."`` when ``mean_cost < cost_offset``.
    """
    if mean_cost < cost_offset:
        raise BanditlabError(
            f"cost_offset: the mean cost so far, {mean_cost:.6g}, is below cost_offset = "
            f"{cost_offset:g}; costs in seconds (cost_kind='time') need cost_offset=0 "
            "(bind cost_offset='@known:cost_offset')"
        )
