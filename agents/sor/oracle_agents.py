"""Oracle agents of the SOR family: they read the live :class:`SOROracle` during a run.

They take the env's oracle as their ``oracle`` hyperparameter, are registered in the
``oracle/`` namespace with the tag ``needs_oracle=True``, and are built by the oracle's
benchmark policies (``oracle:grid_instance_optimal``, ``oracle:best_fixed_hindsight``,
``oracle:golden_section`` in experiment files, or
``banditlab.registry.make_benchmark_policy(env.oracle, name)``).

* :class:`GridInstanceOptimal`: the cheapest grid omega of each system (reads the
  precomputed cost table; the env's ``dynamic`` comparator).
* :class:`SORBestFixedHindsight`: the grid omega with the smallest total cost over the
  whole run (two-pass; the env's ``static`` comparator).
* :class:`GoldenSection`: the authors' per-system golden-section instance-optimum
  (solves the pending system through ``oracle.current_cost``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from banditlab.agents.sor.common import CHECK_ENV
from banditlab.core import Agent, BanditlabError
from banditlab.envs.sor.oracle import SOROracle
from banditlab.validation import Array, InstanceOf, Interval, require_discrete_actions

__all__ = [
    "GridInstanceOptimal",
    "SORBestFixedHindsight",
    "GoldenSection",
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

    def act(self, observation):
        """Argmin of the current system's cost row."""
        return int(np.argmin(self.oracle.cost_row(self.t_)))


class SORBestFixedHindsight(_TableAgent):
    """Plays the grid omega with the smallest total cost over the whole run (two-pass oracle).

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle` (with a precomputed
            cost table).
    """

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


def golden_section_search(cost, start_omegas, start_costs, n_evals):
    """Golden-section refinement of a coarse omega grid (after ``utils/golden_section.m``).

    Brackets the argmin of the start evaluations by its grid neighbours and runs
    golden-section steps until ``n_evals`` evaluations in all (start ones included);
    ties move the bracket left on odd evaluation indices (1-based), as in the
    authors' code.

    Args:
        cost: Callable omega -> cost.
        start_omegas: Increasing start grid (length >= 2).
        start_costs: Costs at ``start_omegas``.
        n_evals: Total number of evaluations.

    Returns:
        ``(omegas float64[k], costs float64[k])`` of every evaluation.
    """
    om = [float(w) for w in start_omegas]
    fs = [float(f) for f in start_costs]
    n = len(om)
    best = min(fs)
    arg = [i for i, f in enumerate(fs) if f == best]
    left, right = max(0, arg[0] - 1), min(n - 1, arg[-1] + 1)
    lo, hi = om[left], om[right]
    tau = (np.sqrt(5.0) - 1.0) / 2.0

    def ev(w):
        f = float(cost(w))
        om.append(w)
        fs.append(f)
        return f

    if right - left == 2:
        mid, fmid = om[left + 1], fs[left + 1]
        if hi - mid > mid - lo:
            o1, f1 = mid, fmid
            o2 = lo + tau * (hi - lo)
            f2 = ev(o2)
        elif hi - mid < mid - lo:
            o1 = lo + (1.0 - tau) * (hi - lo)
            f1 = ev(o1)
            o2, f2 = mid, fmid
        else:
            o1 = lo + (1.0 - tau) * (hi - lo)
            f1 = ev(o1)
            o2 = lo + tau * (hi - lo)
            f2 = ev(o2)
    elif right - left == 3:
        o1, f1 = om[left + 1], fs[left + 1]
        o2, f2 = om[right - 1], fs[right - 1]
    else:
        o1 = lo + (1.0 - tau) * (hi - lo)
        f1 = ev(o1)
        o2 = lo + tau * (hi - lo)
        f2 = ev(o2)
    while len(om) < n_evals:
        i = len(om) + 1  # 1-based index of this evaluation
        if f1 > f2 or (f1 == f2 and i % 2 == 1):
            lo, o1, f1 = o1, o2, f2
            o2 = lo + tau * (hi - lo)
            f2 = ev(o2)
        else:
            hi, o2, f2 = o2, o1, f1
            o1 = lo + (1.0 - tau) * (hi - lo)
            f1 = ev(o1)
    return np.asarray(om), np.asarray(fs)


class GoldenSection(_LiveOracleAgent):
    """Per-system golden-section instance-optimum (the authors' heat "Instance-Optimal").

    For each system: evaluate the ``seed_omegas`` on the pending system through
    ``oracle.current_cost``, refine by :func:`golden_section_search` to
    ``n_evals`` evaluations in all, and play the midpoint of the set of evaluated
    omegas with the minimal cost (nearest grid value on a discrete action space).
    Difference from the authors' script [I]: their seed costs come from the
    fixed-omega runs' own trajectories; here every evaluation uses the pending
    system of *this* run (same ``A_t``, ``b_t`` and warm start).

    Args:
        oracle: The env's :class:`~banditlab.envs.sor.oracle.SOROracle`.
        seed_omegas: Increasing start grid in (0, 2) (default the heat values 1, 1.3, 1.5,
            1.75, 1.95).
        n_evals: Evaluations per system, at least ``len(seed_omegas)`` (default 12).
    """

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
