"""Planners for LSD / recharging bandits with a known payoff table (oracle agents).

Kernels on top, classes below. The env's oracle names them by registry id in
``env.unwrapped.oracle.benchmark_policies()`` (build one with
:func:`banditlab.registry.make_benchmark_policy`); they are tagged ``oracle=True`` and
receive the true payoff table as a hyperparameter, never the oracle itself.

* :class:`LSDOracleGreedy` (``LSDOracleGreedy-v0``, oracle name ``greedy``): argmax of
  the current means, ties at random.
* :class:`LSDLPRounding` (``LSDLPRounding-v0``, ``lp_rounding`` / ``lsd_lp_rounding``):
  solve the recharging LP (on the delay-only projection) or the higher-dimensional LSD
  LP with HiGHS; at ``reset`` sample one cycle ``(a_i, b_i)`` per arm with the LP's
  probabilities and a random phase; each round play a candidate (conflict rule
  ``"uniform"`` or ``"max_mean"``; an arm in the middle of a run keeps it), or fill
  greedily. The "interleaved" scheduling of Papadigenopoulos et al. (NeurIPS 2022) is
  not implemented (its details were not checked against the paper).
* :class:`LSDRoundRobin` (``LSDRoundRobin-v0``, ``round_robin``): cycle through the
  ``m'`` arms with the largest fully recharged mean, ``m'`` chosen by exact simulation.
* :class:`LSDBlockPlanner` (``LSDBlockPlanner-v0``, ``block_lp``): plans blocks of
  ``block`` pulls from the current states, either with Laforgue et al.'s block LP and
  greedy rounding (``planner="lp"``, HiGHS instead of CVXOPT) or by exhaustive search
  over all ``k**block`` sequences (``planner="exhaustive"``, the default: exact where the
  LP is a relaxation).
* :class:`LSDOptimal` (``LSDOptimal-v0``, ``optimal``): the gain-optimal stationary
  policy from relative value iteration over the reachable joint states (small instances).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.lsd.blocks import (
    PLANNERS,
    best_block_model,
    block_model_values,
    plan_block,
)
from banditlab.envs.lsd.exact import optimal_average_reward, reachable_graph
from banditlab.envs.lsd.lp import delay_projection, lsd_lp, recharging_lp
from banditlab.envs.lsd.model import (
    INIT_STATES,
    OBS_ENCODINGS,
    lsd_encode,
    lsd_obs_counters,
    lsd_table_means,
    table_mean,
)
from banditlab.kernels.common import argmax_random_tiebreak
from banditlab.validation import Array, Interval, Options, require_discrete_actions

CONFLICT_RULES = ("uniform", "max_mean")
RELAXATIONS = ("recharging", "lsd")
#: The env the planners' conformance checks run on; their registered defaults are its model.
CHECK_ENV = ("banditlab/LSDLaforgue2-v0", {"horizon": 200})


# --------------------------------------------------------------------------- kernels
class PlannerState(NamedTuple):
    """State of the schedule planners (updated in place).

    Attributes:
        period: int64[k], cycle length ``a + b`` of each arm's sampled cycle (0 = unused).
        idle_len: int64[k], the ``b`` (idle part) of each arm's cycle.
        phase: int64[k], random phase in ``0..period-1``.
        last: int64[1], the arm played last round (-1 before the first round).
        plan: int64[L], the current block (block planner only; else length 0).
        pos: int64[1], position in the block.
        scratch: float64[k], scratch buffer.
    """

    period: np.ndarray
    idle_len: np.ndarray
    phase: np.ndarray
    last: np.ndarray
    plan: np.ndarray
    pos: np.ndarray
    scratch: np.ndarray


class GreedyHParams(NamedTuple):
    """Hyperparameters of the greedy planner kernel.

    Attributes:
        table: float64[k, 2, tau_max], the true payoff table.
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
    """

    table: np.ndarray
    enc: np.int64


class RoundingHParams(NamedTuple):
    """Hyperparameters of the LP-rounding schedule kernels (also used by LP-UCB).

    Attributes:
        table: float64[k, 2, tau_max], the payoff table the schedule is planned on.
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
        probs: float64[k, n], each arm's probability of each cycle option.
        a_opt: int64[n], the played part ``a`` of each option (-1: play forever).
        b_opt: int64[n], the idle part ``b`` of each option.
        rule: int64, index of the conflict rule in ``CONFLICT_RULES``.
    """

    table: np.ndarray
    enc: np.int64
    probs: np.ndarray
    a_opt: np.ndarray
    b_opt: np.ndarray
    rule: np.int64


class RoundRobinHParams(NamedTuple):
    """Hyperparameters of the round-robin kernel.

    Attributes:
        order: int64[m'], the arms cycled through.
    """

    order: np.ndarray


class BlockPlannerHParams(NamedTuple):
    """Hyperparameters of the block planner kernel.

    Attributes:
        table: float64[k, 2, tau_max], the true payoff table.
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
        block: int64, block length.
        planner: int64, index of the block planner in ``PLANNERS`` (0 exhaustive, 1 LP).
    """

    table: np.ndarray
    enc: np.int64
    block: np.int64
    planner: np.int64


class OptimalHParams(NamedTuple):
    """Hyperparameters of the optimal-policy lookup kernel.

    Attributes:
        table: float64[k, 2, tau_max], the true payoff table (greedy fallback).
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
        c_on: int64[k], on caps of the compressed joint state.
        c_off: int64[k], off caps of the compressed joint state.
        mult: int64[k], mixed-radix multipliers of the per-arm codes.
        keys: int64[S], sorted keys of the reachable joint states.
        policy: int64[S], the optimal action of each state, in ``keys`` order.
    """

    table: np.ndarray
    enc: np.int64
    c_on: np.ndarray
    c_off: np.ndarray
    mult: np.ndarray
    keys: np.ndarray
    policy: np.ndarray


@njit(cache=True)
def _empty_state(k, plan_len):
    return PlannerState(np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64),
                        np.full(1, -1, np.int64), np.zeros(plan_len, np.int64),
                        np.zeros(1, np.int64), np.zeros(k))


@njit(cache=True)
def planner_init_plain(dims, hparams, rng):
    """State with no schedule (greedy, round-robin, optimal)."""
    return _empty_state(dims[0], 0)


@njit(cache=True)
def planner_update(state, hparams, obs, action, reward, next_obs):
    """Remember the last arm played."""
    state.last[0] = action


@njit(cache=True)
def greedy_select(state, hparams, obs, t, rng):
    """Argmax of the true current means (ties uniformly at random).

    ``hparams``: :class:`GreedyHParams`.
    """
    means = lsd_table_means(hparams.table, obs, hparams.enc)
    return argmax_random_tiebreak(means, rng)


@njit(cache=True)
def rounding_init(dims, hparams, rng):
    """Sample each arm's cycle and phase from the LP solution.

    ``hparams``: :class:`RoundingHParams`; ``a_opt = -1`` means "play forever". One
    uniform per arm for the cycle, one integer draw per used arm for the phase.
    """
    probs = hparams.probs
    a_opt = hparams.a_opt
    b_opt = hparams.b_opt
    k = dims[0]
    st = _empty_state(k, 0)
    for i in range(k):
        u = rng.random()
        acc = 0.0
        for j in range(probs.shape[1]):
            acc += probs[i, j]
            if u < acc:
                if a_opt[j] < 0:
                    st.period[i] = 1
                    st.idle_len[i] = 0
                else:
                    st.period[i] = a_opt[j] + b_opt[j]
                    st.idle_len[i] = b_opt[j]
                st.phase[i] = rng.integers(0, st.period[i])
                break
    return st


@njit(cache=True)
def rounding_select(state, hparams, obs, t, rng):
    """Play a candidate of the sampled schedule, else fill greedily.

    Arm ``i`` is a candidate at round ``t`` when ``(t - 1 + phase_i) mod period_i >= b_i``.
    An arm that played last round and is still a candidate keeps its run; otherwise
    rule 0 picks a candidate uniformly, rule 1 the candidate with the largest mean.
    """
    table = hparams.table
    enc = hparams.enc
    rule = hparams.rule
    means = lsd_table_means(table, obs, enc)
    k = means.shape[0]
    n_cand = 0
    for i in range(k):
        p = state.period[i]
        if p > 0 and (t - 1 + state.phase[i]) % p >= state.idle_len[i]:
            state.scratch[i] = means[i] if rule == 1 else 0.0
            n_cand += 1
        else:
            state.scratch[i] = -np.inf
    last = state.last[0]
    if last >= 0 and state.scratch[last] > -np.inf:
        return np.int64(last)
    if n_cand == 0:
        return argmax_random_tiebreak(means, rng)
    return argmax_random_tiebreak(state.scratch, rng)


@njit(cache=True)
def round_robin_select(state, hparams, obs, t, rng):
    """``order[(t - 1) mod m']`` (``hparams``: :class:`RoundRobinHParams`)."""
    order = hparams.order
    return np.int64(order[(t - 1) % order.shape[0]])


@njit(cache=True)
def simulate_cycle_average(table, order, n_steps):
    """Average expected reward of cycling ``order`` from all arms idle, over the 2nd half."""
    k = table.shape[0]
    tau = table.shape[2]
    streak = np.zeros(k, np.int64)
    idle = np.full(k, tau, np.int64)
    total = 0.0
    for s in range(n_steps):
        a = order[s % order.shape[0]]
        if s >= n_steps // 2:
            total += table_mean(table, streak[a], idle[a], a)
        for i in range(k):
            if i == a:
                streak[i] = min(streak[i] + 1, tau)
                idle[i] = 0
            else:
                idle[i] = min(idle[i] + 1, tau)
                streak[i] = 0
    return total / (n_steps - n_steps // 2)


@njit(cache=True)
def block_init(dims, hparams, rng):
    """Empty block of length ``hparams.block``."""
    return _empty_state(dims[0], hparams.block)


@njit(cache=True)
def block_select(state, hparams, obs, t, rng):
    """At a block start, plan a block under the true table; play its next pull.

    ``hparams``: :class:`BlockPlannerHParams`; planner 0 is the exhaustive search (exact
    simulation), 1 the block LP with greedy rounding.
    """
    pos = state.pos[0]
    if pos == 0:
        streak, idle = lsd_obs_counters(obs, hparams.enc)
        if hparams.planner == 0:
            state.plan[:] = best_block_model(hparams.table, streak, idle, hparams.block, rng)
        else:
            fv, lv = block_model_values(hparams.table, streak, idle, hparams.block)
            state.plan[:] = plan_block(fv, lv, hparams.block, hparams.planner, rng)
    a = state.plan[pos]
    state.pos[0] = (pos + 1) % hparams.block
    return np.int64(a)


@njit(cache=True)
def optimal_select(state, hparams, obs, t, rng):
    """Stationary gain-optimal policy looked up by the joint-state key.

    ``hparams``: :class:`OptimalHParams`; unknown states fall back to greedy.
    """
    table = hparams.table
    c_on = hparams.c_on
    c_off = hparams.c_off
    mult = hparams.mult
    keys = hparams.keys
    policy = hparams.policy
    streak, idle = lsd_obs_counters(obs, hparams.enc)
    key = np.int64(0)
    for i in range(streak.shape[0]):
        if streak[i] > 0:
            code = min(streak[i], c_on[i]) - 1
        else:
            code = c_on[i] + min(max(idle[i], 1), c_off[i]) - 1
        key += code * mult[i]
    pos = np.searchsorted(keys, key)
    if pos < keys.shape[0] and keys[pos] == key:
        return np.int64(policy[pos])
    return argmax_random_tiebreak(lsd_table_means(table, obs, hparams.enc), rng)


# --------------------------------------------------------------------------- classes
class _TablePlanner(KernelAgent):
    """Shared validation of planners that hold the true payoff table.

    The registered ids carry the model of their check env (``LSDLaforgue2-v0``) as
    defaults, so they build and run without arguments; the oracle passes every env's
    own table and encoding.
    """

    _tags = {
        "learns": False,
        "oracle": True,
        "families": ("lsd",),
        "check_env": CHECK_ENV,
    }
    _parameter_constraints = {
        "payoff_table": Array("float", ndim=3),
        "obs_encoding": Options(*OBS_ENCODINGS),
    }

    def _table(self) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(self.payoff_table, dtype=np.float64))

    def _enc(self) -> np.int64:
        return np.int64(OBS_ENCODINGS.index(self.obs_encoding))

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        k = require_discrete_actions(action_space)
        shape = np.shape(self.payoff_table)
        if shape[1] != 2:
            raise BanditlabError(f"payoff_table: expected shape (k, 2, tau_max), got {shape}")
        if shape[0] != k:  # a valid table of another instance: the env does not match it
            raise BanditlabError(
                f"action_space: payoff_table has {shape[0]} arms, the env has {action_space}"
            )


class LSDOracleGreedy(_TablePlanner):
    """Oracle Greedy: play the arm with the largest true mean at its current state.

    Args:
        payoff_table: The true table float[k, 2, tau_max].
        obs_encoding: The env's observation encoding.

    References:
        Laforgue et al. (AISTATS 2022), ``run_exp.py`` baseline; Basu et al. (NeurIPS 2019).
    """

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding

    def make_kernel(self) -> AgentKernel:
        """Greedy kernel."""
        return AgentKernel(GreedyHParams(table=self._table(), enc=self._enc()),
                           planner_init_plain, greedy_select, planner_update)


_LP_CACHE: dict = {}


def lp_schedule_options(table: np.ndarray, relaxation: str):
    """``(probs float64[k, n], a_opt int64[n], b_opt int64[n], value)`` of an LP's cycles.

    Recharging: option ``tau`` is the cycle ``(a, b) = (1, tau - 1)``. LSD: option
    ``(a, b)``, with ``a = -1`` for "play forever". Probabilities are the LP shares,
    renormalised per arm if they exceed 1 by rounding.
    """
    key = (table.tobytes(), table.shape, relaxation)
    if key in _LP_CACHE:
        return _LP_CACHE[key]
    k, _, tau = table.shape
    if relaxation == "recharging":
        sol = recharging_lp(delay_projection(table))
        probs = sol.x
        d = probs.shape[1]
        a_opt = np.ones(d, dtype=np.int64)
        b_opt = np.arange(d, dtype=np.int64)
    else:
        sol = lsd_lp(table)
        probs = sol.x.reshape(k, -1)
        a_grid, b_grid = np.meshgrid(np.arange(1, tau + 3), np.arange(1, tau + 1), indexing="ij")
        a_grid = a_grid.astype(np.int64)
        a_grid[tau + 1, :] = -1
        a_opt = a_grid.ravel()
        b_opt = b_grid.astype(np.int64).ravel()
    probs = np.clip(probs, 0.0, None)
    row = probs.sum(axis=1, keepdims=True)
    probs = np.where(row > 1.0, probs / np.maximum(row, 1e-300), probs)
    out = (np.ascontiguousarray(probs), a_opt, b_opt, sol.value)
    if len(_LP_CACHE) > 128:
        _LP_CACHE.clear()
    _LP_CACHE[key] = out
    return out


class LSDLPRounding(_TablePlanner):
    """LP relaxation + randomised rounding with a pluggable conflict rule.

    Args:
        payoff_table: The true table float[k, 2, tau_max].
        obs_encoding: The env's observation encoding.
        relaxation: ``"recharging"`` (the recharging LP on the delay-only projection;
            ``lp_rounding``) or ``"lsd"`` (the higher-dimensional LSD LP, our
            reconstruction [I]; ``lsd_lp_rounding``).
        conflict_rule: ``"uniform"`` (default) or ``"max_mean"``.

    The schedule is sampled at ``reset`` from ``rng_``, so averaging over agent seeds
    averages over schedules. Guarantee (Papadigenopoulos et al., NeurIPS 2022, from the
    paper's abstract): about ``(1 - 1/e)`` of the LP value asymptotically, on monotone
    recharging payoffs.
    """

    _parameter_constraints = {
        **_TablePlanner._parameter_constraints,
        "relaxation": Options(*RELAXATIONS),
        "conflict_rule": Options(*CONFLICT_RULES),
    }

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 relaxation: str = "lsd", conflict_rule: str = "uniform"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.relaxation = relaxation
        self.conflict_rule = conflict_rule

    def make_kernel(self) -> AgentKernel:
        """Rounding kernel over the LP's cycle options."""
        table = self._table()
        probs, a_opt, b_opt, _ = lp_schedule_options(table, self.relaxation)
        hp = RoundingHParams(table=table, enc=self._enc(), probs=probs, a_opt=a_opt,
                             b_opt=b_opt, rule=np.int64(CONFLICT_RULES.index(self.conflict_rule)))
        return AgentKernel(hp, rounding_init, rounding_select, planner_update)


class LSDRoundRobin(_TablePlanner):
    """Best ranking policy: cycle through the top-``m'`` arms by fully recharged mean.

    ``m'`` is chosen by exact simulation of every ``m' = 1..k``. Ranking policies are
    within a constant factor of optimal on delay-dependent payoffs (Cella &
    Cesa-Bianchi, AISTATS 2020; recalled from the paper, not checked against its full
    text).
    """

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding

    def best_order(self) -> np.ndarray:
        """int64[m'], the best top-``m'`` cycle."""
        table = self._table()
        k, _, tau = table.shape
        rank = np.argsort(-table[:, 1, -1], kind="stable").astype(np.int64)
        n_steps = 40 * k * tau
        vals = [simulate_cycle_average(table, rank[:m].copy(), n_steps) for m in range(1, k + 1)]
        return rank[: int(np.argmax(vals)) + 1].copy()

    def make_kernel(self) -> AgentKernel:
        """Round-robin kernel."""
        return AgentKernel(RoundRobinHParams(order=self.best_order()), planner_init_plain,
                           round_robin_select, planner_update)


class LSDBlockPlanner(_TablePlanner):
    """Plans blocks of ``block`` pulls under the true table (oracle name ``block_lp``).

    ``planner="lp"``: Laforgue et al.'s block LP (:func:`~banditlab.envs.lsd.lp.block_lp`,
    HiGHS instead of the authors' CVXOPT) with greedy position-by-position rounding, on
    first-pull values from the current states and later-pull values from the table's
    delay projection (exact for delay-only tables, a projection for satiating ones [I]).
    ``planner="exhaustive"`` (default): exact search of all ``k**block`` sequences by
    simulation of the counters (refused above ``max_sequences``). The exhaustive search
    stays the default because it is exact on every table (the LP rounding can lose a
    little, see the tests) and, for the blocks used here (``k**block <= 625``), more than two
    orders of magnitude cheaper than the ``k (block - 1)`` LP solves per block.

    Args:
        payoff_table: The true table float[k, 2, tau_max].
        obs_encoding: The env's observation encoding.
        block: Block length (default 4, Laforgue's ISI block for ``d = 3``).
        max_sequences: Cap on ``k**block`` (exhaustive planner only).
        planner: ``"exhaustive"`` or ``"lp"``.
    """

    _parameter_constraints = {
        **_TablePlanner._parameter_constraints,
        "block": Interval("int", 1, None),
        "max_sequences": Interval("int", 1, None),
        "planner": Options(*PLANNERS),
    }

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 block: int = 4, max_sequences: int = 200_000, planner: str = "exhaustive"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.block = block
        self.max_sequences = max_sequences
        self.planner = planner

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        if self.planner == "exhaustive" and action_space.n ** self.block > self.max_sequences:
            raise BanditlabError(
                f"block: k**block = {action_space.n ** self.block} exceeds max_sequences="
                f"{self.max_sequences}; use a shorter block or planner='lp'"
            )

    def make_kernel(self) -> AgentKernel:
        """Block-planning kernel."""
        hp = BlockPlannerHParams(table=self._table(), enc=self._enc(),
                                 block=np.int64(self.block),
                                 planner=np.int64(PLANNERS.index(self.planner)))
        return AgentKernel(hp, block_init, block_select, planner_update)


class LSDOptimal(_TablePlanner):
    """Gain-optimal stationary policy of the exact average-reward problem (small instances).

    Args:
        payoff_table: The true table float[k, 2, tau_max].
        obs_encoding: The env's observation encoding.
        init_state: The env's initial state (the reachable set is enumerated from it).
        max_states: Reachable-state cap.
    """

    _parameter_constraints = {
        **_TablePlanner._parameter_constraints,
        "init_state": Options(*INIT_STATES),
        "max_states": Interval("int", 1, None),
    }

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 init_state: str = "idle_max", max_states: int = 400_000):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.init_state = init_state
        self.max_states = max_states

    def make_kernel(self) -> AgentKernel:
        """Policy-lookup kernel (solves the average-reward problem, memoised per table)."""
        table = self._table()
        graph = reachable_graph(table, self.init_state, int(self.max_states))
        if graph is None:
            raise BanditlabError(
                f"max_states: more than {self.max_states} reachable states; no exact optimum"
            )
        _, _, policy = optimal_average_reward(table, self.init_state, int(self.max_states))
        radix = graph.c_on + graph.c_off
        mult = np.concatenate([[1], np.cumprod(radix[:-1])]).astype(np.int64)
        hp = OptimalHParams(table=table, enc=self._enc(), c_on=graph.c_on, c_off=graph.c_off,
                            mult=mult, keys=np.ascontiguousarray(graph.keys[graph.order]),
                            policy=np.ascontiguousarray(policy[graph.order]))
        return AgentKernel(hp, planner_init_plain, optimal_select, planner_update)


@njit(cache=True)
def simulate_rounding(state, hparams, streak0, idle0, n_steps, rng):
    """Expected reward of ``n_steps`` rounds of a sampled schedule under ``hparams.table``.

    Runs :func:`rounding_select` on a copy of the counters (the schedule state's
    ``last`` is restored afterwards); ties use ``rng``.
    """
    table = hparams.table
    enc = hparams.enc
    k = table.shape[0]
    tau = table.shape[2]
    streak = streak0.copy()
    idle = idle0.copy()
    saved = state.last[0]
    total = 0.0
    for s in range(n_steps):
        obs = lsd_encode(streak, idle, enc, tau)
        a = rounding_select(state, hparams, obs, s + 1, rng)
        total += table_mean(table, streak[a], idle[a], a)
        state.last[0] = a
        for i in range(k):
            if i == a:
                streak[i] = min(streak[i] + 1, tau)
                idle[i] = 0
            else:
                idle[i] = min(idle[i] + 1, tau)
                streak[i] = 0
    state.last[0] = saved
    return total
