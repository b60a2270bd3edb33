"""Oracle agents of the SOR family: they read the live :class:`SOROracle` during a run.

They take the env's oracle as their ``oracle`` hyperparameter, are registered in the
``oracle/`` namespace with the tag ``needs_oracle=True``, and are built by the oracle's
benchmark policies (``oracle:grid_instance_optimal``, ``oracle:best_fixed_hindsight``,
``oracle:golden_section``, ``oracle:fixed_optimal`` in experiment files, or
``banditlab.registry.make_benchmark_policy(env.oracle, name)``).

* :class:`GridInstanceOptimal`: the cheapest grid omega of each system (reads the
  precomputed cost table; the env's ``dynamic`` comparator).
* :class:`SORBestFixedHindsight`: the grid omega with the smallest total cost over the
  whole run (two-pass; the env's ``static`` comparator).
* :class:`GoldenSection`: the authors' per-system golden-section instance-optimum
  (solves the pending system through ``oracle.current_cost``).
* :class:`InterpolatedFixedOptimal`: the authors' heat-experiment "Fixed Optimal" omega
  (the argmin of the interpolated profile of ``oracle.heat_profile``).

:func:`golden_section_search` lives in :mod:`banditlab.envs.sor.oracle` and is re-exported.
"""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym
import numpy as np

from banditlab.agents.sor.common import CHECK_ENV
from banditlab.core import Agent, BanditlabError
from banditlab.envs.sor.oracle import SOROracle, golden_section_search
from banditlab.validation import Array, InstanceOf, Interval, require_discrete_actions

__all__ = [
    "GridInstanceOptimal",
    "SORBestFixedHindsight",
    "GoldenSection",
    "InterpolatedFixedOptimal",
    "golden_section_search",
]

_ORACLE = InstanceOf(SOROracle, what="the env's SOROracle (use oracle:<name>)")


class _LiveOracleAgent(Agent):
    """Shared plumbing: validate the oracle, count the systems solved so far."""

    _tags = {"learns": False, "oracle": True, "needs_oracle": True, "families": ("sor",),
             "check_env": CHECK_ENV}
    _parameter_constraints = {"oracle": _ORACLE}

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and start counting systems."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.t_ = 0

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Advance the system counter."""
        self.t_ += 1


class _TableAgent(_LiveOracleAgent):
    """Oracle agent reading the live oracle's cost table (shifted Laplacian, precompute)."""

    def __init__(self, oracle=None):
        self.oracle = oracle

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)


class GridInstanceOptimal(_TableAgent):
    """Plays the grid omega with the fewest iterations on each system (ties: smallest omega).

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle` (with a precomputed
            cost table).
    """

    display_name: ClassVar[str] = "Grid instance-optimal"

    def act(self, observation):
        """Argmin of the current system's cost row."""
        return int(np.argmin(self.oracle.cost_row(self.t_)))


class SORBestFixedHindsight(_TableAgent):
    """Plays the grid omega with the smallest total cost over the whole run (two-pass oracle).

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle` (with a precomputed
            cost table).
    """

    display_name: ClassVar[str] = "Best fixed grid omega"

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate; the arm is chosen at the first ``act`` of the run (the table is lazy)."""
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)
        self.arm_ = None

    def act(self, observation):
        """Argmin of the column sums of the full table."""
        if self.arm_ is None:
            it, _ = self.oracle.table.full()
            self.arm_ = int(np.argmin(it[:, :-1].sum(axis=0)))
        return self.arm_


class GoldenSection(_LiveOracleAgent):
    """Per-system golden-section instance-optimum (the authors' heat "Instance-Optimal").

    For each system: evaluate the ``seed_omegas`` on the pending system through
    ``oracle.current_cost``, refine by :func:`golden_section_search` to
    ``n_evals`` evaluations in all, and play the midpoint of the set of evaluated
    omegas with the minimal cost (nearest grid value on a discrete action space).
    Difference from the authors' script [I]: their Instance-Optimal replays the
    minimisers of a search on the trajectory advanced by direct solves, started from
    the fixed-omega runs' own costs (that search is
    :meth:`~banditlab.envs.sor.oracle.SOROracle.heat_profile`'s ``instance_omegas``);
    here every evaluation uses the pending system of *this* run (same ``A_t``,
    ``b_t`` and warm start).

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle`.
        seed_omegas: Increasing start grid in (0, 2) (default the heat values 1, 1.3, 1.5,
            1.75, 1.95).
        n_evals: Evaluations per system, at least ``len(seed_omegas)`` (default 12).
    """

    display_name: ClassVar[str] = "Golden-section instance-optimal"

    _parameter_constraints = {
        "oracle": _ORACLE,
        "seed_omegas": Array("float", ndim=1, min_len=2, low=0.0, high=2.0, closed="neither"),
        "n_evals": Interval("int", 1),
    }

    def __init__(self, oracle=None, seed_omegas=(1.0, 1.3, 1.5, 1.75, 1.95), n_evals=12):
        self.oracle = oracle
        self.seed_omegas = seed_omegas
        self.n_evals = n_evals

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        w = np.asarray(self.seed_omegas, dtype=np.float64)
        if np.any(np.diff(w) <= 0):
            raise BanditlabError(
                f"seed_omegas: expected strictly increasing omegas, got {self.seed_omegas!r}"
            )
        if self.n_evals < w.shape[0]:
            raise BanditlabError(
                f"n_evals: expected an integer >= len(seed_omegas) = {w.shape[0]}, "
                f"got {self.n_evals!r}"
            )
        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise BanditlabError(f"action_space: unsupported {action_space}")

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and remember the action space."""
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)
        self.action_space_ = action_space
        self.last_evals_ = None

    def act(self, observation):
        """Search the pending system and play the midpoint of the argmin set."""
        cost = self.oracle.current_cost
        start = [float(w) for w in self.seed_omegas]
        om, fs = golden_section_search(cost, start, [cost(w) for w in start], int(self.n_evals))
        best = om[fs == fs.min()]
        w = 0.5 * (best.min() + best.max())
        self.last_evals_ = (om, fs)
        if isinstance(self.action_space_, gym.spaces.Discrete):
            return int(np.argmin(np.abs(self.oracle.omega_grid - w)))
        lo, hi = float(self.action_space_.low[0]), float(self.action_space_.high[0])
        return np.array([min(max(w, lo), hi)], dtype=np.float64)


class InterpolatedFixedOptimal(_LiveOracleAgent):
    """The authors' heat-experiment "Fixed Optimal" omega: the argmin of an interpolated profile.

    At the first ``act`` of a run it reads :meth:`SOROracle.heat_profile` (computed once
    per env configuration, cached on disk): the iterations of every step, searched by
    golden section from the fixed-omega costs along the trajectory advanced by direct
    solves and interpolated onto ``n_points`` omegas spanning the action range, as in
    the authors' ``scripts/h2d.m``. It then plays the omega whose mean interpolated cost
    over the run is smallest, every step: exactly on a continuous action space, the
    nearest grid value on a discrete one.

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle` (heat source).
        seed_omegas: Increasing start omegas spanning the action range (default the
            authors' 1, 1.3, 1.5, 1.75, 1.95).
        n_evals: Evaluations per step, at least ``len(seed_omegas) + 2`` (default 12).
        n_points: Interpolation points, at least 2 (default 96).
    """

    display_name: ClassVar[str] = "Interpolated best fixed omega"

    _tags = {"learns": False, "oracle": True, "needs_oracle": True, "families": ("sor",),
             "check_env": ("banditlab/SORSequence-v1",
                           {"instance_source": "heat2d", "nx": 8, "horizon": 40})}
    _parameter_constraints = {
        "oracle": _ORACLE,
        "seed_omegas": Array("float", ndim=1, min_len=2, low=0.0, high=2.0, closed="neither"),
        "n_evals": Interval("int", 1),
        "n_points": Interval("int", 2),
    }

    def __init__(self, oracle=None, seed_omegas=(1.0, 1.3, 1.5, 1.75, 1.95), n_evals=12,
                 n_points=96):
        self.oracle = oracle
        self.seed_omegas = seed_omegas
        self.n_evals = n_evals
        self.n_points = n_points

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        w = np.asarray(self.seed_omegas, dtype=np.float64)
        if np.any(np.diff(w) <= 0):
            raise BanditlabError(
                f"seed_omegas: expected strictly increasing omegas, got {self.seed_omegas!r}"
            )
        if self.n_evals < w.shape[0] + 2:
            raise BanditlabError(
                f"n_evals: expected an integer >= len(seed_omegas) + 2 = {w.shape[0] + 2}, "
                f"got {self.n_evals!r}"
            )
        if self.oracle.profiler is None:
            raise BanditlabError("oracle: the interpolated fixed optimum needs the heat2d "
                                 "source (oracle.heat_profile)")
        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise BanditlabError(f"action_space: unsupported {action_space}")

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate; the omega is read from the oracle's profile at the first ``act``."""
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)
        self.action_space_ = action_space
        self.omega_ = None

    def act(self, observation):
        """The profile's fixed-optimal omega (nearest grid index on a discrete space)."""
        if self.omega_ is None:
            profile = self.oracle.heat_profile(tuple(float(w) for w in self.seed_omegas),
                                               int(self.n_evals), int(self.n_points))
            self.omega_ = float(profile.fixed_omega)
        if isinstance(self.action_space_, gym.spaces.Discrete):
            return int(np.argmin(np.abs(self.oracle.omega_grid - self.omega_)))
        lo, hi = float(self.action_space_.low[0]), float(self.action_space_.high[0])
        return np.array([min(max(self.omega_, lo), hi)], dtype=np.float64)
