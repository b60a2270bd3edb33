"""``banditlab/SORTable-v0``: SOR relaxation over a cached full-information cost table (kernel env).

Kernels on top, class below. A run of the shifted-Laplacian source with the default
``precompute`` of :class:`~banditlab.envs.sor.env.SORSequence` (``x0 = 0``, iteration
costs, full information) never solves a system at step time: the cost of every grid
omega on every system is read from the :class:`~banditlab.envs.sor.oracle.SORCostTable`,
computed in parallel blocks and cached on disk. :class:`SORTable` is that run as a
:class:`~banditlab.core.KernelEnv`: ``init`` (plain Python, called by ``reset(seed)``)
draws the instance sequence from the ``init`` stream exactly as ``SORSequence`` does and
reads the whole table through the same cache; ``step`` is a table look-up. The harness
then runs the fused Numba loop with kernel agents (the Tsallis-INF learners and the omega
baselines of :mod:`banditlab.agents.sor`).

Same seed, same arguments: the same systems, observations, rewards, ``info`` and
comparators as ``SORSequence`` (the tests compare both envs step by step).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import INFO_LOSS, INFO_REWARD_VECTOR, BanditlabError, EnvKernel, KernelEnv
from banditlab.envs.sor.env import (
    _CONSTRAINTS,
    _M,
    DEFAULT_OMEGA_GRID,
    LAPLACIAN_CONTEXT_RANGE,
    solve_system,
)
from banditlab.envs.sor.instances import (
    VARIANCES,
    draw_shifted_laplacian_sequence,
    laplacian_2d,
    shift_young_omega,
)
from banditlab.envs.sor.oracle import SORCostTable, SOROracle
from banditlab.envs.sor.solvers import SSOR_ORDERS
from banditlab.validation import Options, validate_params

__all__ = [
    "SORTable",
    "SORTableOracle",
    "SORTableParams",
    "SORTableState",
    "TABLE_SOLVERS",
    "sor_table_init",
    "sor_table_step",
    "sor_table_observe",
    "sor_table_checkpoint",
]

#: Solvers with a policy-independent cost table (the ``solver`` codes of the kernel params).
TABLE_SOLVERS = ("sor", "ssor_pcg", "cg")
_VARIANCES = tuple(VARIANCES)
_EXTRA = ("loss", "iterations", "unconverged", "wallclock_s")


class SORTableParams(NamedTuple):
    """Kernel parameters of :class:`SORTable` (what ``init`` needs to rebuild a run).

    Attributes:
        omega_grid: float64[d], the grid.
        low: float64, lower end of the context range (observations are clipped to it).
        high: float64, upper end of the context range.
        horizon: int64, number of systems T.
        variance: int64, index of the shift distribution in ``("high", "low")``.
        solver: int64, index of the solver in :data:`TABLE_SOLVERS`.
        ssor_order: int64, index of the SSOR order in
            :data:`~banditlab.envs.sor.solvers.SSOR_ORDERS`.
        tol: float64, relative tolerance.
        maxiter: int64, iteration cap.
        cache: bool, read and write the on-disk table cache.
    """

    omega_grid: np.ndarray
    low: float
    high: float
    horizon: np.int64
    variance: np.int64
    solver: np.int64
    ssor_order: np.int64
    tol: float
    maxiter: np.int64
    cache: bool


class SORTableState(NamedTuple):
    """Kernel state of :class:`SORTable` (``T`` systems, ``d`` grid omegas, ``n = 100``).

    Written once by :func:`sor_table_init`, except ``pos`` and ``sums`` (updated in place
    by :func:`sor_table_step`).

    Attributes:
        pos: int64[1], systems solved so far (the next system is ``pos[0]``, from 0).
        sums: float64[3], running sums of the chosen systems' ``loss``, ``iterations`` and
            ``unconverged`` (the extra metrics).
        reward: float64[T, d], ``-iterations`` of every grid omega on every system: the
            cost table the steps read.
        best: float64[T], ``max_a reward[t, a]`` (the ``dynamic`` comparator per step).
        cum_reward: float64[T, d], ``sum_{s<=t} reward[s, a]`` (``static`` comparator).
        cum_young: float64[T], ``sum_{s<=t} -iterations(Young's omega)`` (``dynamic/young``).
        obs: float64[T + 1, 1], row ``t``: the observation before system ``t`` (its shift,
            clipped to the context range; row ``T`` repeats the last). ``observe``
            returns the row ``pos[0]`` (a view).
        iterations: int64[T, d + 1], the cost table (last column: Young's omega).
        converged: bool[T, d + 1], convergence flags of the table.
        shifts: float64[T], the shifts ``c_t``.
        rhs: float64[T, n], the right-hand sides ``b_t``.
        young: float64[T], Young's omega of each system.
    """

    pos: np.ndarray
    sums: np.ndarray
    reward: np.ndarray
    best: np.ndarray
    cum_reward: np.ndarray
    cum_young: np.ndarray
    obs: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    shifts: np.ndarray
    rhs: np.ndarray
    young: np.ndarray


def _table(params: SORTableParams, shifts, rhs, young) -> SORCostTable:
    """The (lazy) :class:`SORCostTable` of a run, as ``SORSequence`` builds it."""
    return SORCostTable(shifts, rhs, params.omega_grid, young, params.tol, int(params.maxiter),
                        _M, use_cache=bool(params.cache),
                        solver=TABLE_SOLVERS[int(params.solver)],
                        ssor_order=SSOR_ORDERS[int(params.ssor_order)])


def sor_table_init(params: SORTableParams, rng: np.random.Generator) -> SORTableState:
    """Draw the run's systems from ``rng`` and read their full cost table (disk-cached).

    Plain Python (called by ``reset(seed)``, never inside a compiled loop): the instance
    draws are those of ``SORSequence.reset`` (shift, then right-hand side, system by
    system), and the table is :meth:`SORCostTable.full` with the same cache keys, so a
    table computed for either env serves both.
    """
    t_count = int(params.horizon)
    shifts, rhs = draw_shifted_laplacian_sequence(rng, t_count, _VARIANCES[int(params.variance)],
                                                  _M)
    young = shift_young_omega(shifts, _M)
    iterations, converged = _table(params, shifts, rhs, young).full()
    d = params.omega_grid.shape[0]
    reward = -iterations[:, :d].astype(np.float64)
    young_reward = -iterations[:, d].astype(np.float64)
    best = np.max(reward, axis=1)
    # Running sums in time order, as SOROracle.record adds them (sums of integers: exact).
    cum_reward = np.cumsum(reward, axis=0)
    cum_young = np.cumsum(young_reward)
    obs = np.empty((t_count + 1, 1))
    obs[:t_count, 0] = np.minimum(np.maximum(shifts, params.low), params.high)
    obs[t_count, 0] = obs[t_count - 1, 0]
    return SORTableState(np.zeros(1, np.int64), np.zeros(3), reward, best, cum_reward,
                         cum_young, obs, iterations.copy(), converged.copy(), shifts, rhs,
                         young)


@njit(cache=True)
def sor_table_step(state, params, action, rng):
    """Solve system ``pos[0]`` at grid omega ``action``: a look-up; draws nothing.

    Returns:
        ``(reward, reward, best)``: ``-iterations`` (the cost is deterministic given the
        system, so the expected reward is the reward) and the best grid omega's reward
        (``dynamic``).
    """
    pos = state.pos
    t = pos[0]
    r = state.reward[t, action]
    sums = state.sums
    sums[0] += -r
    sums[1] += -r
    sums[2] += 0.0 if state.converged[t, action] else 1.0
    pos[0] = t + 1
    return r, r, state.best[t]


@njit(cache=True)
def sor_table_observe(state, params):
    """float64[1]: the context of the next system (a view of row ``pos[0]`` of ``obs``)."""
    return state.obs[state.pos[0]]


@njit(cache=True)
def sor_table_checkpoint(state, params):
    """``[static, static, young, young, loss, iterations, unconverged, 0.0]`` so far.

    ``static`` is ``max_a sum_{s<=t} reward[s, a]`` (0 before the first system),
    ``young`` the summed rewards of Young's omega; the last four are the extra metrics
    (``wallclock_s`` is 0: no solve is timed).
    """
    t = state.pos[0]
    out = np.zeros(8)
    if t > 0:
        row = state.cum_reward[t - 1]
        best = row[0]
        for a in range(1, row.shape[0]):
            if row[a] > best:
                best = row[a]
        out[0] = best
        out[1] = best
        out[2] = state.cum_young[t - 1]
        out[3] = state.cum_young[t - 1]
    out[4] = state.sums[0]
    out[5] = state.sums[1]
    out[6] = state.sums[2]
    return out


class SORTableOracle(SOROracle):
    """:class:`SOROracle` of a :class:`SORTable` run: comparators read from the kernel state.

    Same kinds (``static``, ``dynamic`` primary, ``dynamic/young``), table and benchmark
    policies as the oracle of a precomputed ``SORSequence``; ``comparator`` reads the
    cumulative sums of the env's kernel state (``state_``, set at ``reset``), so it
    answers on both harness paths.
    """

    def __init__(self, omega_grid):
        super().__init__("shifted_laplacian", omega_grid, full_info=True, discrete=True,
                         precompute=True, cost_kind="iterations")
        self.state_: SORTableState | None = None

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative comparator reward over systems ``1..t`` (``t`` = systems solved)."""
        state = self.state_
        if state is None:
            raise BanditlabError("oracle: read after env.reset(seed=...)")
        if t != int(state.pos[0]):
            raise BanditlabError(f"t: the oracle has seen {int(state.pos[0])} systems, not {t}")
        if t == 0 and kind in self.regret_kinds:
            return 0.0, 0.0
        if kind == "static":
            v = float(np.max(state.cum_reward[t - 1]))
        elif kind == "dynamic":
            v = float(np.sum(state.best[:t]))
        elif kind == "dynamic/young":
            v = float(state.cum_young[t - 1])
        else:
            return super().comparator(kind, t)
        return v, v


_TABLE_CONSTRAINTS = {
    **{k: _CONSTRAINTS[k] for k in ("variance", "tol", "maxiter", "omega_grid", "horizon",
                                    "ssor_order", "cache")},
    "solver": Options(*TABLE_SOLVERS),
}


class SORTable(KernelEnv):
    """Shifted-Laplacian SOR runs read from the cached cost table: the fused-path SOR env.

    ## Description
    The run of ``SORSequence(instance_source="shifted_laplacian", precompute=True)``
    (SOR-E1/E2: ``A_t = A + c_t I``, A the unscaled 5-point Laplacian on a 10 x 10 grid,
    ``c_t = -0.15 + 0.6 Beta(0.5, 1.5)`` or ``Beta(2, 6)``, truncated-Gaussian ``b_t``,
    ``x_0 = 0``) as a kernel env. ``reset(seed)`` draws the systems from the ``init``
    stream, exactly as ``SORSequence``, and reads the full-information cost table (every
    grid omega and Young's omega on every system) through the same disk cache; a step is
    a look-up in that table. Steps draw no noise.

    ## Action Space
    ``Discrete(len(omega_grid))`` (default 20 values ``linspace(1, 1.95, 20)``).

    ## Observation Space
    ``Box(-0.15, 0.65, (1,), float64)``: the shift ``c_t`` of the *next* system (clipped
    to the range; after the last system it repeats the last shift).

    ## Reward
    ``-iterations``: the first SOR sweep with ``||r_k||/||r_0|| < tol``, counted from 1
    (SSOR-PCG and CG: the first ``k >= 0`` with ``||r_k|| <= tol ||b||``), capped at
    ``maxiter``. The same reward as ``SORSequence``; the learners' normalisation
    constant is the known constant ``cost_offset = 1``.

    ## Regret
    * ``dynamic`` (primary): per system, the best grid omega. Non-negative.
    * ``static``: best fixed grid omega in hindsight.
    * ``dynamic/young``: SOR at Young's omega*(A_t) on each system (off-grid).

    ## Information
    As ``SORSequence``: ``t``, ``expected_reward`` (= ``reward``),
    ``optimal_expected_reward``, ``loss``, ``iterations``, ``converged``,
    ``unconverged``, ``omega``, ``context`` (the shift of the system just solved),
    ``omega_young`` (alias ``young_omega``), ``wallclock_s`` (always 0.0) and
    ``reward_vector``.

    ## Known constants
    ``omega_grid``, ``context_range``, ``n``, ``solver``, ``horizon``, ``cost_offset``
    (1), as ``SORSequence``.

    ## Arguments
    * ``variance``: ``"high"`` (default) or ``"low"`` shift distribution.
    * ``solver``: ``"sor"`` (default), ``"ssor_pcg"`` or ``"cg"`` (omega ignored).
    * ``tol``: relative tolerance in (0, 1) (default 1e-8).
    * ``maxiter``: iteration cap (default 10000).
    * ``omega_grid``: increasing values in (0, 2) (default ``linspace(1, 1.95, 20)``).
    * ``horizon``: number of systems T (default 5000). ``reset`` builds the whole table
      (the first time about 20 ms per system on two cores; cached on disk afterwards).
    * ``ssor_order``: ``"upper_first"`` (authors' code) or ``"lower_first"``.
    * ``cache``: use the on-disk table cache (default True).

    ## References
    Khodak, Chow, Balcan, Talwalkar, "Learning to Relax: Setting Solver Parameters
    Across a Sequence of Linear System Instances", ICLR 2024.

    ## Oracle
    ``env.oracle`` (:class:`SORTableOracle`): the run's cost table and the benchmark
    policies of a precomputed ``SORSequence`` (fixed omegas, Young's omega, golden
    section, grid instance-optimal, best fixed grid omega in hindsight).

    ## Version History
    * v0: initial version (the fused path over cached tables).
    """

    family = "sor"
    extra_metrics: ClassVar[tuple[str, ...]] = _EXTRA

    def __init__(self, variance: str = "high", solver: str = "sor", tol: float = 1e-8,
                 maxiter: int = 10000, omega_grid=None, horizon: int = 5000,
                 ssor_order: str = "upper_first", cache: bool = True):
        v = validate_params(_TABLE_CONSTRAINTS, {
            "variance": variance, "solver": solver, "tol": tol, "maxiter": maxiter,
            "omega_grid": omega_grid, "horizon": horizon, "ssor_order": ssor_order,
            "cache": cache,
        })
        grid = (np.asarray(DEFAULT_OMEGA_GRID, np.float64) if v["omega_grid"] is None
                else v["omega_grid"])
        if np.any(np.diff(grid) <= 0.0):
            raise BanditlabError("omega_grid: values must be strictly increasing")
        for name in _TABLE_CONSTRAINTS:
            setattr(self, name, v[name])
        self.omega_grid = grid
        self.instance_source = "shifted_laplacian"
        self.run_length = self.horizon
        self.n_grid = int(grid.shape[0])
        self.n = _M * _M
        self.context_range = LAPLACIAN_CONTEXT_RANGE
        self._csr = laplacian_2d(_M)
        lo, hi = self.context_range
        self.action_space = gym.spaces.Discrete(self.n_grid)
        self.observation_space = gym.spaces.Box(lo, hi, (1,), np.float64)
        self.oracle = SORTableOracle(grid)
        self.oracle.evaluator = self._evaluate_pending
        self.known_constants = MappingProxyType({
            "omega_grid": tuple(float(w) for w in grid),
            "context_range": tuple(self.context_range),
            "n": self.n,
            "solver": self.solver,
            "horizon": self.horizon,
            "cost_offset": 1.0,
        })
        params = SORTableParams(
            grid, float(lo), float(hi), np.int64(self.horizon),
            np.int64(_VARIANCES.index(self.variance)), np.int64(TABLE_SOLVERS.index(self.solver)),
            np.int64(SSOR_ORDERS.index(self.ssor_order)), float(self.tol),
            np.int64(self.maxiter), bool(self.cache))
        self.kernel = EnvKernel(params=params, init=sor_table_init, step=sor_table_step,
                                observe=sor_table_observe, checkpoint=sor_table_checkpoint,
                                comparator_kinds=("static", "dynamic/young"),
                                extra_metrics=_EXTRA)

    # ------------------------------------------------------------------ hooks
    def _on_reset(self) -> None:
        """Point the oracle at the new run: its kernel state, instances and cost table."""
        st = self.state_
        table = _table(self.kernel.params, st.shifts, st.rhs, st.young)
        table.iterations[:] = st.iterations
        table.converged[:] = st.converged
        table.done[:] = True
        self.oracle.reset_sums()
        self.oracle.state_ = st
        self.oracle.table = table
        self.oracle.instances = (st.shifts, st.rhs)

    def _make_info_extra(self, action: Any, reward: float) -> dict[str, Any]:
        """The ``info`` keys of ``SORSequence`` for the system just solved."""
        st = self.state_
        t = self.t_ - 1
        a = int(action)
        iters = int(st.iterations[t, a])
        conv = bool(st.converged[t, a])
        omega_young = float(st.young[t])
        return {
            INFO_LOSS: float(iters),
            "iterations": iters,
            "converged": conv,
            "unconverged": 0.0 if conv else 1.0,
            "omega": float(self.omega_grid[a]),
            "context": float(st.shifts[t]),
            "omega_young": omega_young,
            "young_omega": omega_young,
            "wallclock_s": 0.0,
            INFO_REWARD_VECTOR: st.reward[t].copy(),
        }

    def _evaluate_pending(self, omega: float) -> float:
        """Cost of the pending system at ``omega`` (a live solve; for oracle agents)."""
        if not hasattr(self, "state_") or self.t_ >= self.horizon:
            raise BanditlabError("oracle: no pending system (reset the env, or the run is over)")
        t = self.t_
        st = self.state_
        _, k, _ = solve_system(self.solver, self._csr.data, self._csr.indices,
                               self._csr.indptr, st.rhs[t], np.zeros(self.n), float(omega),
                               float(st.shifts[t]), self.tol, self.maxiter, self.ssor_order)
        return float(k)

    # ------------------------------------------------------------------ run data (copies)
    @property
    def shifts_(self) -> np.ndarray:
        """float64[T]: the run's shifts ``c_t`` (a copy)."""
        return self.state_.shifts.copy()

    @property
    def rhs_(self) -> np.ndarray:
        """float64[T, n]: the run's right-hand sides (a copy)."""
        return self.state_.rhs.copy()

    @property
    def young_(self) -> np.ndarray:
        """float64[T]: Young's omega of each system (a copy)."""
        return self.state_.young.copy()

    @property
    def table_(self) -> SORCostTable:
        """The run's :class:`SORCostTable` (the oracle's, filled at ``reset``)."""
        return self.oracle.table
