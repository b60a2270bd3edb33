"""Ground truth of ``banditlab/SORSequence-v1``: cost tables, disk cache, comparators.

The full-information cost table of the shifted-Laplacian source holds, for
every instance t, the SOR iteration count of every grid omega and of Young's
omega (T x (d + 1), int64) plus the convergence flags. It is computed lazily
in blocks of :data:`BLOCK` instances (the missing blocks of a request together, in
threads, by :func:`banditlab.envs.sor.solvers.sor_cost_table_into`), and each block is
cached on disk under ``$BANDITLAB_CACHE_DIR/sor`` (default ``~/.cache/banditlab/sor``)
in an ``.npz`` file named by the SHA-256 digest of everything that determines
it (the block's shifts and right-hand sides, the grid, tolerance, iteration
cap and grid size). Files are written atomically (temporary file, then
``os.replace``) and read with ``allow_pickle=False``. A corrupt or mismatching
file is recomputed.

The oracle names its benchmark policies by registry id
(:class:`~banditlab.core.BenchmarkPolicy`); the agents that read it during a run
live in :mod:`banditlab.agents.sor.oracle_agents`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from banditlab.core import BanditlabError, BenchmarkPolicy, Oracle, RegretKind
from banditlab.envs.sor.instances import laplacian_2d
from banditlab.envs.sor.solvers import ORDER_CODE, sor_cost_table_into

__all__ = [
    "BLOCK",
    "CACHE_VERSION",
    "cache_dir",
    "SORCostTable",
    "SOROracle",
    "FIXED_OMEGAS_LAPLACIAN",
    "FIXED_OMEGAS_HEAT",
    "HeatProfile",
    "golden_section_search",
    "interpolated_profile",
    "profile_from_evaluations",
    "save_npz",
    "load_npz",
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


def save_npz(path: Path, **arrays) -> None:
    """Write ``arrays`` to ``path`` atomically (temporary file, then ``os.replace``).

    A read-only or full cache directory never breaks a run: errors are swallowed.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def load_npz(path: Path, names) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of an ``.npz`` file (``allow_pickle=False``), or ``None``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in names}
    except (OSError, ValueError, KeyError):
        return None


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
        solver: ``"sor"`` (the stencil kernel), ``"ssor_pcg"`` or ``"cg"``.
        ssor_order: SSOR factor order of ``"ssor_pcg"`` (see
            :data:`~banditlab.envs.sor.solvers.ORDER_CODE`).

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
        got = load_npz(path, ("iterations", "converged"))
        if got is None:
            return None
        it, cv = got["iterations"], got["converged"]
        d = self.omega_grid.shape[0] + 1
        if it.shape != (rows, d) or cv.shape != (rows, d) or it.dtype != np.int64:
            return None
        return it, cv.astype(np.bool_)

    def _save(self, path: Path, it, cv) -> None:
        save_npz(path, iterations=it, converged=cv)

    def ensure_block(self, k: int) -> None:
        """Fill block ``k`` from the disk cache or by computing it."""
        if not self.done[k]:
            self._fill([k])

    def _fill(self, blocks) -> None:
        """Fill ``blocks`` (not yet done): from the disk cache, the rest computed together.

        The blocks missing from the cache are computed together, in threads, by
        :func:`~banditlab.envs.sor.solvers.sor_cost_table_into` into arrays allocated
        here. It is called even when nothing is missing, so a call makes the same
        compiled calls (and Numba allocation counts) however much came from the cache or
        was computed (the fused-loop allocation counts compare runs of two lengths, see
        :mod:`banditlab.testing.allocations`).
        """
        d = self.omega_grid.shape[0] + 1
        missing = []
        for k in blocks:
            lo, hi = k * BLOCK, min((k + 1) * BLOCK, self.horizon)
            path = cache_dir() / f"{self.block_digest(k)}.npz"
            got = self._load(path, hi - lo) if self.use_cache else None
            if got is None:
                missing.append((k, lo, hi, path))
                continue
            self.iterations[lo:hi], self.converged[lo:hi] = got
            self.cache_hits += 1
            self.done[k] = True
        rows = np.concatenate([np.arange(lo, hi) for _, lo, hi, _ in missing]
                              ) if missing else np.zeros(0, np.int64)
        omegas = np.empty((rows.shape[0], d))
        omegas[:, :-1] = self.omega_grid[None, :]
        omegas[:, -1] = self.young[rows]
        it = np.zeros((rows.shape[0], d), np.int64)
        cv = np.zeros((rows.shape[0], d), np.bool_)
        data, indices, indptr = laplacian_2d(self.m)
        method = {"sor": 2, "ssor_pcg": 1, "cg": 1}[self.solver]
        order = 2 if self.solver == "cg" else ORDER_CODE[self.ssor_order]
        sor_cost_table_into(data, indices, indptr, np.ascontiguousarray(self.shifts[rows]),
                            np.ascontiguousarray(self.rhs[rows]), omegas, self.tol,
                            self.maxiter, method, order, it, cv)
        at = 0
        for k, lo, hi, path in missing:
            block_it, block_cv = it[at:at + hi - lo], cv[at:at + hi - lo]
            at += hi - lo
            if self.use_cache:
                self._save(path, block_it, block_cv)
            self.iterations[lo:hi] = block_it
            self.converged[lo:hi] = block_cv
            self.done[k] = True

    def row(self, t: int):
        """``(iterations int64[d+1], converged bool[d+1])`` of instance ``t`` (from 0)."""
        self.ensure_block(t // BLOCK)
        return self.iterations[t], self.converged[t]

    def full(self):
        """The whole table ``(iterations, converged)`` (every missing block in one launch)."""
        self._fill([k for k in range(self.done.shape[0]) if not self.done[k]])
        return self.iterations, self.converged


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


class HeatProfile(NamedTuple):
    """The authors' interpolated iteration profile of a heat run (``scripts/h2d.m``).

    Computed by :meth:`SOROracle.heat_profile`: the fixed-omega runs give the start costs,
    a golden-section search per step along the trajectory advanced by direct solves
    refines them, and each step's evaluations are interpolated onto ``omegas``.

    Attributes:
        seed_omegas: float64[k] the fixed omegas (golden-section start grid).
        seed_costs: float64[T, k] iterations of each fixed-omega run at each step, on its
            own warm-started trajectory.
        eval_omegas: float64[T, n_evals] every omega evaluated at each step (start grid
            first).
        eval_costs: float64[T, n_evals] their costs (the start ones are ``seed_costs``).
        omegas: float64[n_points] the interpolation grid (``linspace`` over the action
            range).
        contours: float64[T, n_points] ``round(interp(eval_omegas, eval_costs, omegas))``
            per step.
        fixed_omega: The "Fixed Optimal" omega: ``omegas[argmin contours.mean(0)]``.
        instance_omegas: float64[T] the "Instance-Optimal" omega of each step: the midpoint
            of the smallest and largest evaluated omega with the step's minimal cost.
    """

    seed_omegas: np.ndarray
    seed_costs: np.ndarray
    eval_omegas: np.ndarray
    eval_costs: np.ndarray
    omegas: np.ndarray
    contours: np.ndarray
    fixed_omega: float
    instance_omegas: np.ndarray


def interpolated_profile(eval_omegas, eval_costs, omegas) -> np.ndarray:
    """Per-row linear interpolation of evaluated costs onto ``omegas``, rounded half up.

    As MATLAB's ``round(interp1(og, ng, g))`` in ``scripts/h2d.m`` (evaluation points
    sorted first; ``omegas`` must lie within each row's evaluated range).

    Args:
        eval_omegas: float64[T, k] evaluated omegas (distinct within a row).
        eval_costs: float64[T, k] their costs.
        omegas: float64[m] points to interpolate at.

    Returns:
        float64[T, m].
    """
    out = np.empty((eval_omegas.shape[0], omegas.shape[0]))
    for t in range(eval_omegas.shape[0]):
        order = np.argsort(eval_omegas[t], kind="stable")
        out[t] = np.floor(np.interp(omegas, eval_omegas[t][order], eval_costs[t][order]) + 0.5)
    return out


def profile_from_evaluations(seed_omegas, seed_costs, eval_omegas, eval_costs,
                             omegas) -> HeatProfile:
    """Assemble a :class:`HeatProfile` (contours, fixed and instance-optimal omegas)."""
    contours = interpolated_profile(eval_omegas, eval_costs, omegas)
    fixed = float(omegas[int(np.argmin(contours.mean(axis=0)))])
    inst = np.empty(eval_omegas.shape[0])
    for t in range(eval_omegas.shape[0]):
        best = eval_omegas[t][eval_costs[t] == eval_costs[t].min()]
        inst[t] = 0.5 * (best.min() + best.max())
    return HeatProfile(np.asarray(seed_omegas, np.float64), seed_costs, eval_omegas,
                       eval_costs, omegas, contours, fixed, inst)


#: Fixed omegas the authors plot for the shifted-Laplacian source (``fixed_<w>`` policies).
FIXED_OMEGAS_LAPLACIAN = ("1.0", "1.2", "1.4", "1.6", "1.8")
#: Fixed omegas the authors plot for the heat source; also the golden-section start grid.
FIXED_OMEGAS_HEAT = ("1.0", "1.3", "1.5", "1.75", "1.95")


def _kinds(source: str, full_info: bool, discrete: bool, cost_kind: str = "iterations"):
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
    if source == "shifted_laplacian" and cost_kind == "iterations":
        kinds["dynamic/young"] = RegretKind(
            per_step=True, nonnegative=False,
            description="cost of SOR at Young's omega*(A_t) on each system",
        )
    else:
        for name in FIXED_OMEGAS_HEAT:
            kinds[f"benchmark/fixed_{name}"] = RegretKind(
                per_step=False, nonnegative=False, exact=False, paired=True,
                description=f"SSOR-PCG at fixed omega = {name} on the same seed",
            )
    return kinds


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
                 precompute: bool = False, cost_kind: str = "iterations"):
        self.source = source
        self.cost_kind = cost_kind
        self.precompute = bool(precompute)
        self.omega_grid = np.asarray(omega_grid, dtype=np.float64)
        self.full_info = bool(full_info)
        self.discrete = bool(discrete)
        self.regret_kinds = MappingProxyType(_kinds(source, full_info, discrete, cost_kind))
        if full_info:
            self.primary_kind = "dynamic"
        elif "dynamic/young" in self.regret_kinds:
            self.primary_kind = "dynamic/young"
        else:
            self.primary_kind = None
        self.table = None
        self.instances = None
        self.evaluator = None  # set by the env: omega -> cost of the pending system
        self.profiler = None  # set by the env (heat): builds a HeatProfile
        self.profiles = {}
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

    def heat_profile(self, seed_omegas=None, n_evals: int = 12,
                     n_points: int = 96) -> HeatProfile:
        """The authors' interpolated iteration profile of this heat run (``scripts/h2d.m``).

        Two passes over the whole run, independent of any agent (the heat source is
        deterministic): (1) SSOR-PCG at each of ``seed_omegas`` along its own warm-started
        trajectory, recording the iterations of every step; (2) the trajectory advanced by
        direct sparse solves, where each step's system (warm start: the direct solution of
        the previous step) is searched by :func:`golden_section_search` from those start
        costs up to ``n_evals`` evaluations, and the evaluations are interpolated onto
        ``n_points`` omegas spanning the action range. Computed once per env and
        arguments and cached on disk next to the cost tables.

        Args:
            seed_omegas: Increasing start omegas (default the authors' 1, 1.3, 1.5, 1.75,
                1.95).
            n_evals: Evaluations per step, start ones included (default 12).
            n_points: Interpolation points (default 96).

        Raises:
            BanditlabError: On the shifted-Laplacian source or an omega-independent solver.
        """
        if self.profiler is None:
            raise BanditlabError("oracle: the interpolated profile exists for the heat2d "
                                 "source only")
        seeds = tuple(float(w) for w in (FIXED_OMEGAS_HEAT if seed_omegas is None
                                         else seed_omegas))
        key = (seeds, int(n_evals), int(n_points))
        if key not in self.profiles:
            self.profiles[key] = self.profiler(seeds, int(n_evals), int(n_points))
        return self.profiles[key]

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """Fixed omegas, golden section, Young's omega (Laplacian) and the table oracles.

        ``fixed_<w>`` (``RelaxFixedOmega-v0``) for the authors' plotted values,
        ``golden_section`` (``oracle/GoldenSection-v0``: per-system golden-section search
        through :meth:`current_cost`), ``young`` (``RelaxYoung-v0``, shifted Laplacian; the
        nearest grid omega for discrete actions), ``grid_instance_optimal`` (alias
        ``optimal``; ``oracle/GridInstanceOptimal-v0``, the primary ``dynamic`` comparator)
        and ``best_fixed_hindsight`` (``oracle/SORBestFixedHindsight-v0``); the last two
        need the shifted Laplacian with ``precompute`` and read this oracle's table. Heat:
        ``fixed_optimal`` (``oracle/InterpolatedFixedOptimal-v0``: the authors' "Fixed
        Optimal", the argmin of the interpolated profile of :meth:`heat_profile`).
        """
        grid = tuple(float(w) for w in self.omega_grid)
        lap = self.source == "shifted_laplacian"
        names = FIXED_OMEGAS_LAPLACIAN if lap else FIXED_OMEGAS_HEAT
        out = {
            f"fixed_{w}": BenchmarkPolicy("RelaxFixedOmega-v0",
                                          {"omega": float(w), "omega_grid": grid})
            for w in names
        }
        out["golden_section"] = BenchmarkPolicy(
            "oracle/GoldenSection-v0",
            {"oracle": self, "seed_omegas": tuple(float(w) for w in names)},
        )
        if not lap:
            out["fixed_optimal"] = BenchmarkPolicy(
                "oracle/InterpolatedFixedOptimal-v0",
                {"oracle": self, "seed_omegas": tuple(float(w) for w in names)},
            )
        if lap:
            out["young"] = BenchmarkPolicy("RelaxYoung-v0", {"omega_grid": grid})
            if self.precompute and self.discrete:
                optimal = BenchmarkPolicy("oracle/GridInstanceOptimal-v0", {"oracle": self})
                out["grid_instance_optimal"] = optimal
                out["optimal"] = optimal
                out["best_fixed_hindsight"] = BenchmarkPolicy(
                    "oracle/SORBestFixedHindsight-v0", {"oracle": self}
                )
        return out
