"""Ground truth of ``banditlab/SORSequence-v0``: cost tables, disk cache, comparators.

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

import numpy as np

from banditlab.core import BanditlabError, BenchmarkPolicy, Oracle, RegretKind
from banditlab.envs.sor.instances import laplacian_2d
from banditlab.envs.sor.solvers import ORDER_CODE, sor_cost_table

__all__ = [
    "BLOCK",
    "CACHE_VERSION",
    "cache_dir",
    "SORCostTable",
    "SOROracle",
    "FIXED_OMEGAS_LAPLACIAN",
    "FIXED_OMEGAS_HEAT",
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
            order = 2 if self.solver == "cg" else ORDER_CODE[self.ssor_order]
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


#: Fixed omegas the authors plot for the shifted-Laplacian source (``fixed_<w>`` policies).
FIXED_OMEGAS_LAPLACIAN = ("1.0", "1.2", "1.4", "1.6", "1.8")
#: Fixed omegas the authors plot for the heat source; also the golden-section start grid.
FIXED_OMEGAS_HEAT = ("1.0", "1.3", "1.5", "1.75", "1.95")


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

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """Fixed omegas, golden section, Young's omega (Laplacian) and the table oracles.

        ``fixed_<w>`` (``RelaxFixedOmega-v0``) for the authors' plotted values,
        ``golden_section`` (``oracle/GoldenSection-v0``: per-system golden-section search
        through :meth:`current_cost`), ``young`` (``RelaxYoung-v0``, shifted Laplacian; the
        nearest grid omega for discrete actions), ``grid_instance_optimal`` (alias
        ``optimal``; ``oracle/GridInstanceOptimal-v0``, the primary ``dynamic`` comparator)
        and ``best_fixed_hindsight`` (``oracle/SORBestFixedHindsight-v0``); the last two
        need the shifted Laplacian with ``precompute`` and read this oracle's table.
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
