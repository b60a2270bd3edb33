"""``banditlab/SORSequence-v1``: choose the relaxation parameter for a sequence of linear systems.

A plain Gymnasium env (no fused kernel: the cost of a step is the linear
solve, done by the Numba kernels of :mod:`banditlab.envs.sor.solvers`). Ground
truth, the cached cost table and oracle agents live in
:mod:`banditlab.envs.sor.oracle`. The precomputed shifted-Laplacian configuration
is also a kernel env, ``banditlab/SORTable-v0`` (:mod:`banditlab.envs.sor.table`),
which the harness runs on the fused path.
"""

from __future__ import annotations

import hashlib
import time
from types import MappingProxyType
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from banditlab.core import (
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_OPTIMAL_EXPECTED_REWARD,
    INFO_REWARD_VECTOR,
    INFO_T,
    BanditlabError,
    PicklableMappingsMixin,
    spawn_env_streams,
)
from banditlab.envs.sor.instances import (
    VARIANCES,
    Heat2D,
    draw_shifted_laplacian_sequence,
    heat_kappa,
    laplacian_2d,
    shift_young_omega,
)
from banditlab.envs.sor.oracle import (
    CACHE_VERSION,
    HeatProfile,
    SORCostTable,
    SOROracle,
    cache_dir,
    golden_section_search,
    load_npz,
    profile_from_evaluations,
    save_npz,
)
from banditlab.envs.sor.solvers import (
    MAXITER,
    ORDER_CODE,
    SSOR_ORDERS,
    TOL,
    cg_solve,
    direct_solve,
    sor_solve,
    ssor_pcg_solve,
)
from banditlab.validation import Array, Boolean, Interval, Options, validate_params

__all__ = ["SORSequence", "DEFAULT_OMEGA_GRID", "LAPLACIAN_CONTEXT_RANGE", "solve_system"]

#: The authors' grid, ``linspace(1, 1.95, 20)``.
DEFAULT_OMEGA_GRID = tuple(float(w) for w in np.linspace(1.0, 1.95, 20))
#: The authors' context interval for shifted Laplacians (wider than the support [-0.15, 0.45]).
LAPLACIAN_CONTEXT_RANGE = (-0.15, 0.65)
_SOURCES = ("shifted_laplacian", "heat2d")
_M = 10  # the 10 x 10 interior grid of the shifted-Laplacian source

#: Constructor arguments, checked in this order (``None`` = the source's default).
_CONSTRAINTS = {
    "instance_source": Options(*_SOURCES),
    "variance": Options(*VARIANCES),
    "nx": Interval("int", 3, 400),
    "solver": [None, Options("sor", "ssor_pcg", "cg", "direct")],
    "tol": TOL,
    "maxiter": MAXITER,
    "x0": [None, Options("zeros", "warm")],
    "omega_grid": [None, Array("float", ndim=1, min_len=2, low=0.0, high=2.0,
                               closed="neither")],
    "action_type": Options("discrete", "continuous"),
    "cost_kind": Options("iterations", "time"),
    "full_info": [None, Boolean()],
    "precompute": [None, Boolean()],
    "horizon": Interval("int", 1),
    "ssor_order": Options(*SSOR_ORDERS),
    "cache": Boolean(),
    "time_solves": Boolean(),
}


def solve_system(solver: str, data, indices, indptr, b, x0, omega: float, shift: float,
                 tol: float, maxiter: int, ssor_order: str):
    """Solve ``(A + shift I) x = b`` from ``x0`` with ``solver``; ``A`` is the CSR triple.

    Returns:
        ``(x, iterations, converged)`` as the solver kernels of
        :mod:`banditlab.envs.sor.solvers` return them (``"direct"``: SciPy's ``spsolve``,
        0 iterations; ``"cg"`` ignores ``omega``).
    """
    if solver == "sor":
        return sor_solve(data, indices, indptr, b, x0, omega, tol, maxiter, shift)
    if solver == "cg":
        return cg_solve(data, indices, indptr, b, x0, tol, maxiter, shift)
    if solver == "direct":
        return direct_solve(data, indices, indptr, b, shift)
    return ssor_pcg_solve(data, indices, indptr, b, x0, omega, tol, maxiter, shift,
                          ORDER_CODE[ssor_order])


def _resolve_settings(v: dict[str, Any]) -> dict[str, Any]:
    """Fill the source-dependent defaults of validated arguments ``v`` (a new dict)."""
    s = dict(v)
    lap = s["instance_source"] == "shifted_laplacian"
    if s["solver"] is None:
        s["solver"] = "sor" if lap else "ssor_pcg"
    if s["x0"] is None:
        s["x0"] = "zeros" if lap else "warm"
    if s["omega_grid"] is None:
        s["omega_grid"] = np.asarray(DEFAULT_OMEGA_GRID, np.float64)
    if s["full_info"] is None:
        s["full_info"] = lap
    if s["precompute"] is None:
        s["precompute"] = (lap and s["x0"] == "zeros" and s["cost_kind"] == "iterations"
                           and s["full_info"])
    s["time_solves"] = s["time_solves"] or s["cost_kind"] == "time"
    return s


def _check_combinations(s: dict[str, Any]) -> None:
    """Cross-argument checks of resolved settings ``s``.

    Raises:
        BanditlabError: Naming the argument that cannot be combined with the others.
    """
    if np.any(np.diff(s["omega_grid"]) <= 0.0):
        raise BanditlabError("omega_grid: values must be strictly increasing")
    if s["precompute"] and s["instance_source"] != "shifted_laplacian":
        raise BanditlabError("precompute: only the shifted_laplacian source has a "
                             "policy-independent instance sequence")
    if s["precompute"] and s["cost_kind"] == "time":
        raise BanditlabError("precompute: not valid with cost_kind='time'")
    if s["precompute"] and s["x0"] == "warm":
        raise BanditlabError("precompute: not valid with x0='warm' (instances depend on "
                             "the actions)")
    if s["precompute"] and not s["full_info"]:
        raise BanditlabError("precompute: the cost table is the full-information table; "
                             "use full_info=True or precompute=False")
    if s["solver"] == "direct" and s["cost_kind"] != "time":
        raise BanditlabError("solver: 'direct' has no iteration count; use cost_kind='time' "
                             "(the direct solve is a wall-clock baseline)")
    if s["cost_kind"] == "time" and s["full_info"]:
        raise BanditlabError("full_info: must be False with cost_kind='time' (timings of "
                             "every grid omega are not comparable)")


class SORSequence(PicklableMappingsMixin, gym.Env):
    """Choose SOR's (or SSOR-PCG's) omega for each system of a sequence; pay the iterations.

    ## Description
    System t is ``A_t x = b_t``. Sources: ``"shifted_laplacian"`` (SOR-E1/E2:
    ``A_t = A + c_t I`` with A the unscaled 5-point Laplacian on a 10 x 10 grid,
    ``c_t = -0.15 + 0.6 Beta(0.5, 1.5)`` or ``Beta(2, 6)``, truncated-Gaussian
    ``b_t``, ``x_0 = 0``, SOR) and ``"heat2d"`` (SOR-E3: Crank-Nicolson steps of
    a 2-D heat equation with oscillating diffusion and moving forcing,
    warm-started from the previous solution, SSOR-PCG). Instances of the
    shifted-Laplacian source are drawn at ``reset(seed)`` from the ``init``
    stream, instance by instance (shift, then right-hand side); the heat
    source is deterministic. Steps draw nothing from the noise stream (zero
    draws per step whatever the action), so agents on the same seed face
    identical instances (common random numbers).

    ## Action Space
    ``Discrete(len(omega_grid))`` (default 20 values ``linspace(1, 1.95, 20)``) or,
    with ``action_type="continuous"``, ``Box(grid[0], grid[-1], (1,), float64)``;
    continuous omegas are clipped into the box, values outside (0, 2) are errors.

    ## Observation Space
    ``Box(c_lo, c_hi, (1,), float64)``: the context of the *next* system: the shift
    ``c_t`` (range ``[-0.15, 0.65]``, the authors' interval) or the diffusion
    coefficient at the *start* of the step (range ``[min kappa, max kappa]``
    over the run's step start times). After the last system it repeats the
    last context.

    ## Reward
    ``-cost``: iterations (SOR: first sweep with ``||r_k||/||r_0|| < tol``, counted
    from 1; SSOR-PCG: first ``k >= 0`` with ``||r_k|| <= tol ||b||``), or seconds
    with ``cost_kind="time"``. Capped at ``maxiter`` (then ``converged`` is False).

    ## Regret
    * ``dynamic`` (with ``full_info``; primary): per system, the best grid omega
      (``max reward_vector``). Non-negative for discrete actions.
    * ``static`` (with ``full_info``): best fixed grid omega in hindsight.
    * ``dynamic/young`` (shifted Laplacian with ``cost_kind="iterations"``; primary
      without ``full_info``): SOR at Young's omega*(A_t) on each system (off-grid; can
      be beaten on a system). With ``cost_kind="time"`` there is no comparator (the
      rewards are seconds; iteration comparators would mix units).
    * heat: ``static``/``dynamic`` are approximate (``exact=False``): the warm
      start makes the trajectory depend on the policy, and the comparators are
      evaluated along the learner's own trajectory; paired
      ``benchmark/fixed_<w>`` kinds compare against fixed-omega runs.

    ## Information
    ``t``; ``expected_reward`` (= ``reward``: the cost is deterministic given the
    instance); ``optimal_expected_reward`` (primary kind only); ``loss``
    (= -reward); ``iterations`` (int); ``converged`` (bool: False iff the cap
    was hit); ``unconverged`` (1.0 when the cap was hit, else 0.0; accumulated);
    ``omega``; ``context`` (of the system just solved); ``omega_young``
    (Young's omega*; ``young_omega`` is an alias); ``wallclock_s`` (solve time,
    only measured with ``time_solves=True`` or ``cost_kind="time"``, else 0.0
    so that runs stay deterministic); ``reward_vector`` (with ``full_info``:
    ``-iterations`` of every grid omega on the same ``(A_t, b_t, x_0)``).

    ## Known constants
    ``omega_grid``, ``context_range``, ``n``, ``solver``, ``horizon`` and
    ``cost_offset`` (1 for iteration counts, the smallest count, as in the authors'
    ``cost - 1`` normalisation; 0 for seconds): bind the learners' ``cost_offset`` to it
    with ``"@known:cost_offset"`` when ``cost_kind="time"``.

    ## Arguments
    * ``instance_source``: ``"shifted_laplacian"`` (default) or ``"heat2d"``.
    * ``variance``: ``"high"`` (default) or ``"low"`` shift distribution.
    * ``nx``: heat grid intervals per side, in [3, 400] (default 50; n = (nx-1)^2).
    * ``solver``: ``"sor"`` (Laplacian default), ``"ssor_pcg"`` (heat default), ``"cg"``
      (vanilla CG, the paper's unpreconditioned baseline: omega is ignored, every action
      costs the same) or ``"direct"`` (a sparse direct solve, SciPy's ``spsolve``: the
      paper's wall-clock baseline; omega is ignored, needs ``cost_kind="time"``,
      ``iterations`` is 0).
    * ``tol``: relative tolerance in (0, 1) (default 1e-8).
    * ``maxiter``: iteration cap (default 10000).
    * ``x0``: ``"zeros"`` (Laplacian default) or ``"warm"`` (heat default).
    * ``omega_grid``: increasing values in (0, 2) (default ``linspace(1, 1.95, 20)``).
    * ``action_type``: ``"discrete"`` or ``"continuous"``.
    * ``cost_kind``: ``"iterations"`` or ``"time"``.
    * ``full_info``: compute every grid omega's cost per system (Laplacian default True).
    * ``precompute``: shifted Laplacian only: fill the cost table (grid + Young)
      lazily in parallel blocks of 250 systems, cached on disk (see
      :mod:`banditlab.envs.sor.oracle`). Needs ``full_info``; not allowed with
      ``x0="warm"`` or ``cost_kind="time"``. Default: True exactly when allowed.
    * ``horizon``: number of systems T (default 5000).
    * ``ssor_order``: ``"upper_first"`` (authors' code) or ``"lower_first"``.
    * ``cache``: use the on-disk table cache (default True).
    * ``time_solves``: measure ``wallclock_s`` with a live solve of the chosen omega.

    ## References
    Khodak, Chow, Balcan, Talwalkar, "Learning to Relax: Setting Solver Parameters
    Across a Sequence of Linear System Instances", ICLR 2024; authors' code
    ``mkhodak/learning-to-relax`` (MATLAB).

    ## Oracle
    ``env.oracle`` (:class:`~banditlab.envs.sor.oracle.SOROracle`): cost table,
    comparators, benchmark policies (fixed omegas, Young's omega, golden-section
    instance-optimum, grid instance-optimum, best fixed in hindsight; heat: the
    authors' interpolated "Fixed Optimal" from :meth:`SOROracle.heat_profile`).

    ## Version History
    * v1: with ``cost_kind="time"`` the shifted Laplacian has no ``dynamic/young``
      comparator (v0 summed Young's iteration counts against rewards in seconds);
      ``solver="direct"``; the ``cost_offset`` known constant; heat oracle profile and
      ``fixed_optimal`` policy. Unchanged for ``cost_kind="iterations"``.
    * v0: initial version.
    """

    family = "sor"

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    run_kind: ClassVar[str] = "continuing"
    extra_metrics: ClassVar[tuple[str, ...]] = ("loss", "iterations", "unconverged",
                                                "wallclock_s")

    def __init__(
        self,
        instance_source: str = "shifted_laplacian",
        variance: str = "high",
        nx: int = 50,
        solver: str | None = None,
        tol: float = 1e-8,
        maxiter: int = 10000,
        x0: str | None = None,
        omega_grid=None,
        action_type: str = "discrete",
        cost_kind: str = "iterations",
        full_info: bool | None = None,
        precompute: bool | None = None,
        horizon: int = 5000,
        ssor_order: str = "upper_first",
        cache: bool = True,
        time_solves: bool = False,
    ):
        s = _resolve_settings(validate_params(_CONSTRAINTS, {
            "instance_source": instance_source, "variance": variance, "nx": nx,
            "solver": solver, "tol": tol, "maxiter": maxiter, "x0": x0,
            "omega_grid": omega_grid, "action_type": action_type, "cost_kind": cost_kind,
            "full_info": full_info, "precompute": precompute, "horizon": horizon,
            "ssor_order": ssor_order, "cache": cache, "time_solves": time_solves,
        }))
        _check_combinations(s)
        for name in _CONSTRAINTS:  # every argument, resolved, under its own name
            setattr(self, name, s[name])
        self.run_length = self.horizon
        self.n_grid = int(self.omega_grid.shape[0])
        self._build_source()
        self._build_spaces()
        self.oracle = SOROracle(self.instance_source, self.omega_grid, self.full_info,
                                self.action_type == "discrete", self.precompute, self.cost_kind)
        self.oracle.evaluator = self._evaluate_pending
        if self._heat is not None:
            self.oracle.profiler = self._heat_profile
        self.known_constants = MappingProxyType(
            {
                "omega_grid": tuple(float(w) for w in self.omega_grid),
                "context_range": tuple(self.context_range),
                "n": self.n,
                "solver": self.solver,
                "horizon": self.horizon,
                "cost_offset": 1.0 if self.cost_kind == "iterations" else 0.0,
            }
        )

    def _build_source(self) -> None:
        """The matrix (Laplacian CSR or heat discretisation), size ``n`` and context range."""
        if self.instance_source == "shifted_laplacian":
            self.context_range = LAPLACIAN_CONTEXT_RANGE
            self.n = _M * _M
            self._csr = laplacian_2d(_M)
            self._heat = None
        else:
            self._heat = Heat2D(self.nx)
            self.n = self._heat.n
            kap = heat_kappa(np.arange(self.horizon) * self._heat.dt)
            self.context_range = (float(kap.min()), float(kap.max()))

    def _build_spaces(self) -> None:
        """Action space (grid index or omega) and observation space (the context)."""
        if self.action_type == "discrete":
            self.action_space = gym.spaces.Discrete(self.n_grid)
        else:
            self.action_space = gym.spaces.Box(float(self.omega_grid[0]),
                                               float(self.omega_grid[-1]), (1,), np.float64)
        self.observation_space = gym.spaces.Box(self.context_range[0], self.context_range[1],
                                                (1,), np.float64)

    # ------------------------------------------------------------------ helpers
    def _solve(self, data, b, x0, omega, shift):
        return solve_system(self.solver, data, self._csr.indices, self._csr.indptr, b, x0,
                            omega, shift, self.tol, self.maxiter, self.ssor_order)

    def _context(self, t: int) -> float:
        t = min(t, self.horizon - 1)
        if self._heat is None:
            return float(self.shifts_[t])
        return self._heat.context(t)

    def _obs(self) -> np.ndarray:
        lo, hi = self.context_range
        return np.array([min(max(self._context(self.t_), lo), hi)], dtype=np.float64)

    def _omega_of(self, action) -> tuple[float, int | None]:
        if self.action_type == "discrete":
            if isinstance(action, np.ndarray) and action.shape == ():
                action = action.item()
            if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
                raise BanditlabError(
                    f"action: expected an integer in [0, {self.n_grid}), got {action!r}"
                )
            if not 0 <= int(action) < self.n_grid:
                raise BanditlabError(f"action: {int(action)} is outside [0, {self.n_grid})")
            return float(self.omega_grid[int(action)]), int(action)
        arr = np.asarray(action, dtype=np.float64).reshape(-1)
        if arr.shape != (1,) or not np.isfinite(arr[0]) or not 0.0 < arr[0] < 2.0:
            raise BanditlabError(f"action: expected one omega in (0, 2), got {action!r}")
        return float(np.clip(arr[0], self.omega_grid[0], self.omega_grid[-1])), None

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a run: draw (Laplacian) the instance sequence; return the first context."""
        super().reset(seed=seed)
        (self.init_rng_, self.noise_rng_, self.simulator_rng_, self.oracle_rng_) = (
            spawn_env_streams(self.np_random)
        )
        self.t_ = 0
        self.oracle.reset_sums()
        if self._heat is None:
            self.shifts_, self.rhs_ = draw_shifted_laplacian_sequence(
                self.init_rng_, self.horizon, self.variance, _M
            )
            self.young_ = shift_young_omega(self.shifts_, _M)
            self.table_ = (
                SORCostTable(self.shifts_, self.rhs_, self.omega_grid, self.young_, self.tol,
                             self.maxiter, _M, use_cache=self.cache, solver=self.solver,
                             ssor_order=self.ssor_order)
                if self.precompute else None
            )
            self.oracle.table = self.table_
            self.oracle.instances = (self.shifts_, self.rhs_)
            self.x_prev_ = np.zeros(self.n)
        else:
            self.u_ = self._heat.u0.copy()
            self.oracle.table = None
        return self._obs(), {}

    def step(self, action):
        """Solve system t with the chosen omega; see the class docstring for ``info``."""
        if not hasattr(self, "t_"):
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self.t_ >= self.horizon:
            raise gym.error.ResetNeeded(
                f"the run is over (run_length={self.horizon}); call reset(seed=...)"
            )
        omega, arm = self._omega_of(action)
        t = self.t_
        context = self._context(t)
        vec_iters = None
        young_iters = None
        wall = 0.0
        if self._heat is None:
            data = self._csr.data
            shift = float(self.shifts_[t])
            b = self.rhs_[t]
            x0 = self.x_prev_ if self.x0 == "warm" else np.zeros(self.n)
            omega_young = float(self.young_[t])
            if self.table_ is not None:
                row, conv_row = self.table_.row(t)
                vec_iters = row[:-1]
                young_iters = int(row[-1])
            else:
                if self.full_info:
                    vec_iters = np.empty(self.n_grid, np.int64)
                    conv_row = np.empty(self.n_grid, np.bool_)
                    for j in range(self.n_grid):
                        _, k, c = self._solve(data, b, x0, float(self.omega_grid[j]), shift)
                        vec_iters[j] = k
                        conv_row[j] = c
                if "dynamic/young" in self.oracle.regret_kinds:
                    _, yk, _ = self._solve(data, b, x0, omega_young, shift)
                    young_iters = int(yk)
            if (arm is not None and vec_iters is not None and not self.time_solves
                    and self.x0 == "zeros"):
                iters, conv = int(vec_iters[arm]), bool(conv_row[arm])
            else:
                t0 = time.perf_counter()
                x_sol, k, c = self._solve(data, b, x0, omega, shift)
                wall = time.perf_counter() - t0
                iters, conv = int(k), bool(c)
                if self.x0 == "warm":
                    self.x_prev_ = x_sol
        else:
            a_data, b, kappa_mid = self._heat.system(t, self.u_)
            x0 = self.u_ if self.x0 == "warm" else np.zeros(self.n)
            omega_young = self._heat.young_omega(kappa_mid)
            indices, indptr = self._heat.lap.indices, self._heat.lap.indptr
            solve = self._heat_solver(a_data, indices, indptr, b, x0)
            t0 = time.perf_counter()
            x, k, c = solve(omega)
            wall = time.perf_counter() - t0
            iters, conv = int(k), bool(c)
            if self.full_info:
                vec_iters = np.array([solve(float(w))[1] for w in self.omega_grid], np.int64)
            self.u_ = x
        if not self.time_solves:
            wall = 0.0
        self.t_ += 1
        loss = wall if self.cost_kind == "time" else float(iters)
        reward = -loss
        reward_vector = None if vec_iters is None else -vec_iters.astype(np.float64)
        young_reward = None if young_iters is None else -float(young_iters)
        info: dict[str, Any] = {INFO_T: self.t_, INFO_EXPECTED_REWARD: reward}
        if self.oracle.primary_kind == "dynamic":
            info[INFO_OPTIMAL_EXPECTED_REWARD] = float(np.max(reward_vector))
        elif self.oracle.primary_kind == "dynamic/young":
            info[INFO_OPTIMAL_EXPECTED_REWARD] = young_reward
        info.update(
            {
                INFO_LOSS: loss,
                "iterations": iters,
                "converged": conv,
                "unconverged": 0.0 if conv else 1.0,
                "omega": omega,
                "context": context,
                "omega_young": omega_young,
                "young_omega": omega_young,
                "wallclock_s": wall,
            }
        )
        if reward_vector is not None:
            info[INFO_REWARD_VECTOR] = reward_vector
        self.oracle.record(reward_vector, young_reward)
        truncated = self.t_ >= self.horizon
        return self._obs(), reward, False, truncated, info

    def _evaluate_pending(self, omega: float) -> float:
        """Cost of the pending system at ``omega`` without advancing (for oracle agents)."""
        if not hasattr(self, "t_") or self.t_ >= self.horizon:
            raise BanditlabError("oracle: no pending system (reset the env, or the run is over)")
        t = self.t_
        if self._heat is None:
            x0 = self.x_prev_ if self.x0 == "warm" else np.zeros(self.n)
            _, k, _ = self._solve(self._csr.data, self.rhs_[t], x0, omega,
                                  float(self.shifts_[t]))
            return float(k)
        a_data, b, _ = self._heat.system(t, self.u_)
        x0 = self.u_ if self.x0 == "warm" else np.zeros(self.n)
        lap = self._heat.lap
        _, k, _ = self._heat_solver(a_data, lap.indices, lap.indptr, b, x0)(omega)
        return float(k)

    def _heat_solver(self, a_data, indices, indptr, b, x0):
        order = ORDER_CODE[self.ssor_order]

        def solve(omega):
            if self.solver == "sor":
                return sor_solve(a_data, indices, indptr, b, x0, omega, self.tol, self.maxiter,
                                 0.0)
            if self.solver == "cg":
                return cg_solve(a_data, indices, indptr, b, x0, self.tol, self.maxiter, 0.0)
            if self.solver == "direct":
                return direct_solve(a_data, indices, indptr, b)
            return ssor_pcg_solve(a_data, indices, indptr, b, x0, omega, self.tol,
                                  self.maxiter, 0.0, order)

        return solve

    def _heat_profile(self, seed_omegas, n_evals: int, n_points: int) -> HeatProfile:
        """Build :meth:`SOROracle.heat_profile` (two passes over the run; disk-cached)."""
        if self.solver not in ("sor", "ssor_pcg"):
            raise BanditlabError(f"oracle: the interpolated profile needs an omega-dependent "
                                 f"solver ('sor' or 'ssor_pcg'), not {self.solver!r}")
        seeds = np.asarray(seed_omegas, np.float64)
        lo, hi = float(self.omega_grid[0]), float(self.omega_grid[-1])
        if seeds.shape[0] < 2 or np.any(np.diff(seeds) <= 0) or seeds[0] != lo or seeds[-1] != hi:
            raise BanditlabError(
                f"seed_omegas: expected increasing omegas from {lo} to {hi} (the ends of the "
                f"action range, so that the interpolation covers it), got {tuple(seeds)}"
            )
        if n_evals < seeds.shape[0] + 2:
            raise BanditlabError(f"n_evals: expected >= len(seed_omegas) + 2 = "
                                 f"{seeds.shape[0] + 2}, got {n_evals}")
        omegas = np.linspace(lo, hi, n_points)
        h = hashlib.sha256()
        h.update(f"{CACHE_VERSION}/heat-profile-v1/{self.solver}/{self.ssor_order}/"
                 f"{self.x0}/{self.nx}/{self.horizon}/{n_evals}/{n_points}".encode())
        h.update(np.asarray([self.tol, float(self.maxiter), self._heat.dt, lo, hi]).tobytes())
        h.update(seeds.tobytes())
        path = cache_dir() / f"heat-profile-{h.hexdigest()}.npz"
        names = ("seed_costs", "eval_omegas", "eval_costs")
        got = load_npz(path, names) if self.cache else None
        shapes = {"seed_costs": (self.horizon, seeds.shape[0]),
                  "eval_omegas": (self.horizon, n_evals), "eval_costs": (self.horizon, n_evals)}
        if got is None or any(got[k].shape != shapes[k] for k in names):
            got = self._heat_profile_passes(seeds, n_evals)
            if self.cache:
                save_npz(path, **got)
        return profile_from_evaluations(seeds, got["seed_costs"], got["eval_omegas"],
                                        got["eval_costs"], omegas)

    def _heat_profile_passes(self, seeds: np.ndarray, n_evals: int) -> dict[str, np.ndarray]:
        """The two passes of :meth:`_heat_profile` (``scripts/h2d.m``), uncached."""
        heat = self._heat
        indices, indptr = heat.lap.indices, heat.lap.indptr
        t_count, k = self.horizon, seeds.shape[0]
        seed_costs = np.empty((t_count, k))
        for j, w in enumerate(seeds):  # each fixed omega along its own trajectory
            u = heat.u0.copy()
            for t in range(t_count):
                a_data, b, _ = heat.system(t, u)
                x0 = u if self.x0 == "warm" else np.zeros(self.n)
                u, it, _ = self._heat_solver(a_data, indices, indptr, b, x0)(float(w))
                seed_costs[t, j] = it
        eval_omegas = np.empty((t_count, n_evals))
        eval_costs = np.empty((t_count, n_evals))
        u = heat.u0.copy()
        for t in range(t_count):  # golden section along the direct-solve trajectory
            a_data, b, _ = heat.system(t, u)
            x0 = u if self.x0 == "warm" else np.zeros(self.n)
            solve = self._heat_solver(a_data, indices, indptr, b, x0)
            om, fs = golden_section_search(lambda w, solve=solve: solve(w)[1], seeds,
                                           seed_costs[t], n_evals)
            eval_omegas[t], eval_costs[t] = om, fs
            u = direct_solve(a_data, indices, indptr, b)[0]
        return {"seed_costs": seed_costs, "eval_omegas": eval_omegas,
                "eval_costs": eval_costs}
