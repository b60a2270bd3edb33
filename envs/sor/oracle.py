"""Ground truth of ``banditlab/SORSequence-v0``: cost tables, disk cache, comparators, oracles.

The full-information cost table of the shifted-Laplacian source holds, for
every instance t, the SOR iteration count of every grid omega and of Young's
omega (T x (d + 1), int64) plus the convergence flags. It is computed lazily
in blocks of :data:`BLOCK` instances with the ``prange``-parallel kernel
:func:`banditlab.envs.sor.solvers.sor_cost_table`, and each block is cached on
disk under ``$BANDITLAB_CACHE_DIR/sor`` (default ``~/.cache/banditlab/sor``)
in an ``.npz`` file named by the SHA-256 digest of everything that determines
it (the block's shifts and right-hand sides, the grid, tolerance, iteration
cap and grid size). Files are written atomically (temporary file, then
``os.replace``) and read with ``allow_pickle=False``. A corrupt or mismatching
file is recomputed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import MappingProxyType

import numpy as np

from banditlab.core import Agent, BanditlabError, Oracle, RegretKind
from banditlab.envs.sor.instances import laplacian_2d
from banditlab.envs.sor.solvers import _ORDER_CODE, sor_cost_table

__all__ = [
    "BLOCK",
    "CACHE_VERSION",
    "cache_dir",
    "SORCostTable",
    "SOROracle",
    "GridInstanceOptimal",
    "BestFixedHindsight",
    "GoldenSection",
    "golden_section_search",
]

#: Instances per cached block of the cost table.
BLOCK = 250
#: Bumped whenever the meaning of a cached table changes.
CACHE_VERSION = "sor-costs-v1"


def cache_dir() -> Path:
    """``$BANDITLAB_CACHE_DIR/sor`` or ``~/.cache/banditlab/sor`` (read at call time)."""
    root = os.environ.get("BANDITLAB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "banditlab"
    return base / "sor"


class SORCostTable:
    """Lazily computed, disk-cached full-information SOR costs of a shifted-Laplacian sequence.

    Args:
        shifts: float64[T] shifts c_t.
        rhs: float64[T, n] right-hand sides.
        omega_grid: float64[d] grid.
        young: float64[T] Young's omega of each instance (last column).
        tol: SOR tolerance.
        maxiter: Sweep cap.
        m: Grid side (n = m^2).
        use_cache: Read and write the disk cache.

    Attributes:
        iterations: int64[T, d + 1], -1 where not yet computed.
        converged: bool[T, d + 1].
    """

    def __init__(self, shifts, rhs, omega_grid, young, tol, maxiter, m, use_cache=True,
                 solver="sor", ssor_order="upper_first"):
        self.shifts = shifts
        self.rhs = rhs
        self.omega_grid = np.asarray(omega_grid, dtype=np.float64)
        self.young = young
        self.tol = float(tol)
        self.maxiter = int(maxiter)
        self.m = int(m)
        self.use_cache = bool(use_cache)
        self.solver = solver
        self.ssor_order = ssor_order
        t_count = shifts.shape[0]
        d = self.omega_grid.shape[0] + 1
        self.iterations = np.full((t_count, d), -1, np.int64)
        self.converged = np.zeros((t_count, d), np.bool_)
        self.done = np.zeros(-(-t_count // BLOCK), np.bool_)
        self.cache_hits = 0

    @property
    def horizon(self) -> int:
        """Number of instances T."""
        return int(self.shifts.shape[0])

    def block_digest(self, k: int) -> str:
        """SHA-256 hex digest identifying block ``k``."""
        lo, hi = k * BLOCK, min((k + 1) * BLOCK, self.horizon)
        h = hashlib.sha256()
        h.update(CACHE_VERSION.encode())
        h.update(f"{self.solver}/{self.ssor_order}".encode())
        h.update(np.asarray([self.tol, float(self.maxiter), float(self.m)]).tobytes())
        h.update(np.ascontiguousarray(self.omega_grid).tobytes())
        h.update(np.ascontiguousarray(self.shifts[lo:hi]).tobytes())
        h.update(np.ascontiguousarray(self.rhs[lo:hi]).tobytes())
        return h.hexdigest()

    def _load(self, path: Path, rows: int):
        try:
            with np.load(path, allow_pickle=False) as z:
                it = z["iterations"]
                cv = z["converged"]
        except (OSError, ValueError, KeyError):
            return None
        d = self.omega_grid.shape[0] + 1
        if it.shape != (rows, d) or cv.shape != (rows, d) or it.dtype != np.int64:
            return None
        return it, cv.astype(np.bool_)

    def _save(self, path: Path, it, cv) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, iterations=it, converged=cv)
            os.replace(tmp, path)
        except OSError:  # a read-only cache never breaks a run
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass

    def ensure_block(self, k: int) -> None:
        """Fill block ``k`` from the disk cache or by computing it."""
        if self.done[k]:
            return
        lo, hi = k * BLOCK, min((k + 1) * BLOCK, self.horizon)
        path = cache_dir() / f"{self.block_digest(k)}.npz"
        got = self._load(path, hi - lo) if self.use_cache else None
        if got is None:
            data, indices, indptr = laplacian_2d(self.m)
            omegas = np.empty((hi - lo, self.omega_grid.shape[0] + 1))
            omegas[:, :-1] = self.omega_grid[None, :]
            omegas[:, -1] = self.young[lo:hi]
            method = {"sor": 2, "ssor_pcg": 1, "cg": 1}[self.solver]
            order = 2 if self.solver == "cg" else _ORDER_CODE[self.ssor_order]
            it, cv = sor_cost_table(data, indices, indptr, self.shifts[lo:hi],
                                    np.ascontiguousarray(self.rhs[lo:hi]), omegas, self.tol,
                                    self.maxiter, method, order)
            if self.use_cache:
                self._save(path, it, cv)
        else:
            it, cv = got
            self.cache_hits += 1
        self.iterations[lo:hi] = it
        self.converged[lo:hi] = cv
        self.done[k] = True

    def row(self, t: int):
        """``(iterations int64[d+1], converged bool[d+1])`` of instance ``t`` (from 0)."""
        self.ensure_block(t // BLOCK)
        return self.iterations[t], self.converged[t]

    def full(self):
        """The whole table ``(iterations, converged)`` (computes every block)."""
        for k in range(self.done.shape[0]):
            self.ensure_block(k)
        return self.iterations, self.converged


def _kinds(source: str, full_info: bool, discrete: bool):
    exact = source == "shifted_laplacian"
    note = "" if exact else " (approximate: warm starts make the trajectory policy-dependent)"
    kinds = {}
    if full_info:
        kinds["static"] = RegretKind(
            per_step=False, nonnegative=False, exact=exact,
            description="best fixed grid omega in hindsight over systems 1..t" + note,
        )
        kinds["dynamic"] = RegretKind(
            per_step=True, nonnegative=discrete, exact=exact,
            description="per-system minimum cost over the omega grid (grid instance-optimal)"
            + note,
        )
    if source == "shifted_laplacian":
        kinds["dynamic/young"] = RegretKind(
            per_step=True, nonnegative=False,
            description="cost of SOR at Young's omega*(A_t) on each system",
        )
    else:
        for name in _HEAT_FIXED:
            kinds[f"benchmark/fixed_{name}"] = RegretKind(
                per_step=False, nonnegative=False, exact=False, paired=True,
                description=f"SSOR-PCG at fixed omega = {name} on the same seed",
            )
    return kinds


_SYN_FIXED = ("1.0", "1.2", "1.4", "1.6", "1.8")
_HEAT_FIXED = ("1.0", "1.3", "1.5", "1.75", "1.95")


class SOROracle(Oracle):
    """Oracle of :class:`banditlab.envs.sor.env.SORSequence`.

    Kinds (see the env docstring): ``static`` and ``dynamic`` (with
    ``full_info``), ``dynamic/young`` (shifted Laplacian), and paired
    ``benchmark/fixed_<omega>`` kinds for heat.

    Attributes:
        omega_grid: float64[d].
        table: :class:`SORCostTable` of the current run (shifted Laplacian with
            ``precompute``), else ``None``.
        sum_vector: float64[d] running sum of ``reward_vector`` (full info).
        sum_dynamic: running sum of ``max reward_vector``.
        sum_young: running sum of ``-cost(Young's omega)``.
        t: systems solved in the run.
    """

    def __init__(self, source: str, omega_grid, full_info: bool, discrete: bool,
                 precompute: bool = False):
        self.source = source
        self.precompute = bool(precompute)
        self.omega_grid = np.asarray(omega_grid, dtype=np.float64)
        self.full_info = bool(full_info)
        self.discrete = bool(discrete)
        self.regret_kinds = MappingProxyType(_kinds(source, full_info, discrete))
        if full_info:
            self.primary_kind = "dynamic"
        elif source == "shifted_laplacian":
            self.primary_kind = "dynamic/young"
        else:
            self.primary_kind = None
        self.table = None
        self.instances = None
        self.evaluator = None  # set by the env: omega -> cost of the pending system
        self.reset_sums()

    def __getstate__(self):
        """Plain-dict state (``MappingProxyType`` does not pickle)."""
        state = self.__dict__.copy()
        state["regret_kinds"] = dict(self.regret_kinds)
        return state

    def __setstate__(self, state):
        """Restore the read-only ``regret_kinds``."""
        state["regret_kinds"] = MappingProxyType(state["regret_kinds"])
        self.__dict__.update(state)

    def reset_sums(self) -> None:
        """Clear the running sums (called by the env's ``reset``)."""
        d = self.omega_grid.shape[0]
        self.sum_vector = np.zeros(d)
        self.sum_dynamic = 0.0
        self.sum_young = 0.0
        self.t = 0

    def record(self, reward_vector, young_reward) -> None:
        """Add one system's full-information rewards (called by the env's ``step``)."""
        if reward_vector is not None:
            self.sum_vector += reward_vector
            self.sum_dynamic += float(np.max(reward_vector))
        if young_reward is not None:
            self.sum_young += float(young_reward)
        self.t += 1

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative comparator reward over systems ``1..t`` (``t`` = systems solved so far)."""
        if t != self.t:
            raise BanditlabError(f"t: the oracle has seen {self.t} systems, not {t}")
        if kind == "static" and "static" in self.regret_kinds:
            v = float(np.max(self.sum_vector))
        elif kind == "dynamic" and "dynamic" in self.regret_kinds:
            v = self.sum_dynamic
        elif kind == "dynamic/young" and "dynamic/young" in self.regret_kinds:
            v = self.sum_young
        else:
            return super().comparator(kind, t)
        return v, v

    def cost_row(self, t: int) -> np.ndarray:
        """Iterations of every grid omega on instance ``t`` (from 0); needs a precomputed table."""
        if self.table is None:
            raise BanditlabError(
                "oracle: this agent needs the precomputed cost table "
                "(instance_source='shifted_laplacian', precompute=True)"
            )
        return self.table.row(t)[0][:-1]

    def current_cost(self, omega: float) -> float:
        """Cost of the *pending* system (the next one ``step`` will solve) at ``omega``.

        Solves it without changing the env (same ``A_t``, ``b_t`` and warm start).
        """
        if self.evaluator is None:
            raise BanditlabError("oracle: no pending system (call env.reset first)")
        return float(self.evaluator(float(omega)))

    def benchmark_policies(self) -> dict[str, Agent]:
        """Fixed omegas, golden section, Young's omega (Laplacian) and the table oracles.

        ``fixed_<w>`` for the authors' plotted values, ``golden_section`` (per-system
        golden-section search through :meth:`current_cost`), ``young`` (shifted
        Laplacian; the nearest grid omega for discrete actions),
        ``grid_instance_optimal`` (alias ``optimal``, the primary ``dynamic`` comparator)
        and ``best_fixed_hindsight`` (shifted Laplacian with ``precompute``; they read
        this oracle's table).
        """
        from banditlab.agents.sor.baselines import FixedOmega, YoungOmega

        grid = tuple(float(w) for w in self.omega_grid)
        names = _SYN_FIXED if self.source == "shifted_laplacian" else _HEAT_FIXED
        out: dict[str, Agent] = {
            f"fixed_{w}": FixedOmega(omega=float(w), omega_grid=grid) for w in names
        }
        out["golden_section"] = GoldenSection(oracle=self, seed_omegas=tuple(
            float(w) for w in (_HEAT_FIXED if self.source == "heat2d" else _SYN_FIXED)))
        if self.source == "shifted_laplacian":
            out["young"] = YoungOmega(omega_grid=grid)
            if self.precompute and self.discrete:
                out["grid_instance_optimal"] = GridInstanceOptimal(oracle=self)
                out["optimal"] = GridInstanceOptimal(oracle=self)
                out["best_fixed_hindsight"] = BestFixedHindsight(oracle=self)
        return out


class _TableAgent(Agent):
    """Oracle agent reading the live oracle's cost table (shifted Laplacian, precompute)."""

    _tags = {"learns": False, "oracle": True, "families": ("sor",),
             "check_env": ("banditlab/SORSequence-v0", {"horizon": 200})}

    def __init__(self, oracle=None):
        self.oracle = oracle

    def _validate_params(self, action_space, observation_space) -> None:
        import gymnasium as gym

        if not isinstance(self.oracle, SOROracle):
            raise BanditlabError("oracle: expected the env's SOROracle (use oracle:<name>)")
        if not isinstance(action_space, gym.spaces.Discrete):
            raise BanditlabError("action_space: this oracle agent needs the discrete omega grid")

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and start counting systems."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.t_ = 0

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Advance the system counter."""
        self.t_ += 1


class GridInstanceOptimal(_TableAgent):
    """Plays the grid omega with the fewest iterations on each system (ties: smallest omega)."""

    def act(self, observation):
        """Argmin of the current system's cost row."""
        return int(np.argmin(self.oracle.cost_row(self.t_)))


class BestFixedHindsight(_TableAgent):
    """Plays the grid omega with the smallest total cost over the whole run (two-pass oracle)."""

    def act(self, observation):
        """Argmin of the column sums of the full table."""
        if not hasattr(self, "arm_"):
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


class GoldenSection(_TableAgent):
    """Per-system golden-section instance-optimum (the authors' heat "Instance-Optimal").

    For each system: evaluate the ``seed_omegas`` on the pending system through
    ``oracle.current_cost``, refine by :func:`golden_section_search` to
    ``n_evals`` evaluations in all, and play the midpoint of the set of evaluated
    omegas with the minimal cost (nearest grid value on a discrete action space).
    Difference from the authors' script [I]: their seed costs come from the
    fixed-omega runs' own trajectories; here every evaluation uses the pending
    system of *this* run (same ``A_t``, ``b_t`` and warm start).

    Args:
        oracle: The env's :class:`SOROracle`.
        seed_omegas: Increasing start grid (default the heat values 1, 1.3, 1.5, 1.75, 1.95).
        n_evals: Evaluations per system (default 12).
    """

    def __init__(self, oracle=None, seed_omegas=(1.0, 1.3, 1.5, 1.75, 1.95), n_evals=12):
        self.oracle = oracle
        self.seed_omegas = seed_omegas
        self.n_evals = n_evals

    def _validate_params(self, action_space, observation_space) -> None:
        import gymnasium as gym

        if not isinstance(self.oracle, SOROracle):
            raise BanditlabError("oracle: expected the env's SOROracle (use oracle:<name>)")
        w = np.asarray(self.seed_omegas, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] < 2 or np.any(np.diff(w) <= 0) or np.any(w <= 0) or np.any(
            w >= 2
        ):
            raise BanditlabError("seed_omegas: expected >= 2 increasing omegas in (0, 2)")
        if not isinstance(self.n_evals, (int, np.integer)) or self.n_evals < w.shape[0]:
            raise BanditlabError("n_evals: expected an integer >= len(seed_omegas)")
        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise BanditlabError(f"action_space: unsupported {action_space}")

    def act(self, observation):
        """Search the pending system and play the midpoint of the argmin set."""
        import gymnasium as gym

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

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and remember the action space."""
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)
        self.action_space_ = action_space
