"""Planners for LSD / recharging bandits with a known payoff table (oracle agents).

Kernels on top, classes below. They are returned by
``env.unwrapped.oracle.benchmark_policies()`` (spec ``lsd_recharging.md`` §4) and are
tagged ``oracle=True``: they receive the true payoff table as a hyperparameter.

* :class:`LSDOracleGreedy` (``greedy``, §4.4): argmax of the current means, ties at random.
* :class:`LSDLPRounding` (``lp_rounding`` / ``lsd_lp_rounding``, §4.1-4.2): solve the
  recharging LP (on the delay-only projection) or the higher-dimensional LSD LP with
  HiGHS; at ``reset`` sample one cycle ``(a_i, b_i)`` per arm with the LP's
  probabilities and a random phase; each round play a candidate (conflict rule
  ``"uniform"`` or ``"max_mean"``; an arm in the middle of a run keeps it), or fill
  greedily. The paper's "interleaved" rule is not implemented (unverified, §9).
* :class:`LSDRoundRobin` (``round_robin``, §4.5): cycle through the ``m'`` arms with the
  largest fully recharged mean, ``m'`` chosen by exact simulation.
* :class:`LSDBlockPlanner` (``block_lp``, §4.7): plans blocks of ``block`` pulls from the
  current states, either with Laforgue et al.'s block LP and greedy rounding
  (``planner="lp"``, HiGHS instead of CVXOPT) or by exhaustive search over all
  ``k**block`` sequences (``planner="exhaustive"``, the default: exact where the LP is a
  relaxation).
* :class:`LSDOptimal` (``optimal``, §4.6): the gain-optimal stationary policy from
  relative value iteration over the reachable joint states (small instances).
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.lsd.blocks import (
    PLANNERS,
    best_block_model,
    block_model_values,
    lsd_obs_counters,
    lsd_table_means,
    plan_block,
    table_mean,
)
from banditlab.envs.lsd.env import lsd_encode
from banditlab.kernels.common import argmax_random_tiebreak

OBS_ENCODINGS = ("signed_played_positive", "signed_played_negative", "delay")
CONFLICT_RULES = ("uniform", "max_mean")
_LSD_CHECK_ENV = ("banditlab/LSDBandit-v0", {"horizon": 200})


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

    ``hparams = (table float64[k, 2, tau], enc int64)``.
    """
    means = lsd_table_means(hparams[0], obs, hparams[1])
    return argmax_random_tiebreak(means, rng)


@njit(cache=True)
def rounding_init(dims, hparams, rng):
    """Sample each arm's cycle and phase from the LP solution.

    ``hparams = (table, enc, probs float64[k, n], a_opt int64[n], b_opt int64[n], rule)``;
    ``a_opt = -1`` means "play forever". One uniform per arm for the cycle, one integer
    draw per used arm for the phase.
    """
    probs = hparams[2]
    a_opt = hparams[3]
    b_opt = hparams[4]
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
    table = hparams[0]
    enc = hparams[1]
    rule = hparams[5]
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
    """``order[(t - 1) mod m']`` with ``hparams = (order int64[m'],)``."""
    order = hparams[0]
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
    """Empty block of length ``hparams[2]``."""
    return _empty_state(dims[0], hparams[2])


@njit(cache=True)
def block_select(state, hparams, obs, t, rng):
    """At a block start, plan a block under the true table; play its next pull.

    ``hparams = (table, enc, block int64, planner int64)``; planner 0 is the exhaustive
    search (exact simulation), 1 the block LP with greedy rounding.
    """
    pos = state.pos[0]
    if pos == 0:
        streak, idle = lsd_obs_counters(obs, hparams[1])
        if hparams[3] == 0:
            state.plan[:] = best_block_model(hparams[0], streak, idle, hparams[2], rng)
        else:
            fv, lv = block_model_values(hparams[0], streak, idle, hparams[2])
            state.plan[:] = plan_block(fv, lv, hparams[2], hparams[3], rng)
    a = state.plan[pos]
    state.pos[0] = (pos + 1) % hparams[2]
    return np.int64(a)


@njit(cache=True)
def optimal_select(state, hparams, obs, t, rng):
    """Stationary gain-optimal policy looked up by the joint-state key.

    ``hparams = (table, enc, c_on int64[k], c_off int64[k], mult int64[k],
    sorted_keys int64[S], policy_sorted int64[S])``; unknown states fall back to greedy.
    """
    table = hparams[0]
    c_on = hparams[2]
    c_off = hparams[3]
    mult = hparams[4]
    keys = hparams[5]
    policy = hparams[6]
    streak, idle = lsd_obs_counters(obs, hparams[1])
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
    return argmax_random_tiebreak(lsd_table_means(table, obs, hparams[1]), rng)


# --------------------------------------------------------------------------- classes
class _TablePlanner(KernelAgent):
    """Shared validation of planners that hold the true payoff table."""

    _tags = {
        "learns": False,
        "oracle": True,
        "families": ("lsd",),
        "check_env": _LSD_CHECK_ENV,
        "xfail_checks": {
            "check_default_constructible": "an oracle planner needs the true payoff_table; "
            "it is built by env.unwrapped.oracle.benchmark_policies()",
        },
    }

    def _table(self) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(self.payoff_table, dtype=np.float64))

    def _enc(self) -> np.int64:
        return np.int64(OBS_ENCODINGS.index(self.obs_encoding))

    def _validate_params(self, action_space, observation_space) -> None:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise BanditlabError(
                f"action_space: this agent needs Discrete actions, got {action_space}"
            )
        if self.payoff_table is None:
            raise BanditlabError("payoff_table: required (float[k, 2, tau_max], the true payoffs)")
        try:
            table = np.asarray(self.payoff_table, dtype=np.float64)
        except (TypeError, ValueError):
            raise BanditlabError(
                "payoff_table: expected numbers of shape (k, 2, tau_max)"
            ) from None
        if table.ndim != 3 or table.shape[1] != 2 or table.shape[0] != action_space.n:
            raise BanditlabError(
                f"payoff_table: expected shape ({action_space.n}, 2, tau_max), got {table.shape}"
            )
        if not np.all(np.isfinite(table)):
            raise BanditlabError("payoff_table: every payoff must be finite")
        if self.obs_encoding not in OBS_ENCODINGS:
            raise BanditlabError(
                f"obs_encoding: expected one of {OBS_ENCODINGS}, got {self.obs_encoding!r}"
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
        return AgentKernel((self._table(), self._enc()), planner_init_plain, greedy_select,
                           planner_update)


_LP_CACHE: dict = {}


def lp_schedule_options(table: np.ndarray, relaxation: str):
    """``(probs float64[k, n], a_opt int64[n], b_opt int64[n], value)`` of an LP's cycles.

    Recharging: option ``tau`` is the cycle ``(a, b) = (1, tau - 1)``. LSD: option
    ``(a, b)``, with ``a = -1`` for "play forever". Probabilities are the LP shares,
    renormalised per arm if they exceed 1 by rounding.
    """
    from banditlab.envs.lsd.lp import delay_projection, lsd_lp, recharging_lp

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
        relaxation: ``"recharging"`` (§4.1, on the delay-only projection; ``lp_rounding``)
            or ``"lsd"`` (§4.2, our reconstruction [I]; ``lsd_lp_rounding``).
        conflict_rule: ``"uniform"`` (default) or ``"max_mean"``.

    The schedule is sampled at ``reset`` from ``rng_``, so averaging over agent seeds
    averages over schedules. Guarantee [V-abs for Papadigenopoulos et al. 2022]: about
    ``(1 - 1/e)`` of the LP value asymptotically, on monotone recharging payoffs.
    """

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 relaxation: str = "lsd", conflict_rule: str = "uniform"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.relaxation = relaxation
        self.conflict_rule = conflict_rule

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        if self.relaxation not in ("recharging", "lsd"):
            raise BanditlabError(
                f"relaxation: expected 'recharging' or 'lsd', got {self.relaxation!r}"
            )
        if self.conflict_rule not in CONFLICT_RULES:
            raise BanditlabError(
                f"conflict_rule: expected one of {CONFLICT_RULES}, got {self.conflict_rule!r}"
            )

    def make_kernel(self) -> AgentKernel:
        """Rounding kernel over the LP's cycle options."""
        table = self._table()
        probs, a_opt, b_opt, _ = lp_schedule_options(table, self.relaxation)
        hp = (table, self._enc(), probs, a_opt, b_opt,
              np.int64(CONFLICT_RULES.index(self.conflict_rule)))
        return AgentKernel(hp, rounding_init, rounding_select, planner_update)


class LSDRoundRobin(_TablePlanner):
    """Best ranking policy: cycle through the top-``m'`` arms by fully recharged mean.

    ``m'`` is chosen by exact simulation of every ``m' = 1..k`` (Cella & Cesa-Bianchi
    2020 [M]).
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
        return AgentKernel((self.best_order(),), planner_init_plain, round_robin_select,
                           planner_update)


class LSDBlockPlanner(_TablePlanner):
    """Plans blocks of ``block`` pulls under the true table (``block_lp``, §4.7).

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

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 block: int = 4, max_sequences: int = 200_000, planner: str = "exhaustive"):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.block = block
        self.max_sequences = max_sequences
        self.planner = planner

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        if isinstance(self.block, bool) or not isinstance(self.block, (int, np.integer)) \
                or self.block < 1:
            raise BanditlabError(f"block: expected an integer >= 1, got {self.block!r}")
        if self.planner not in PLANNERS:
            raise BanditlabError(f"planner: expected one of {PLANNERS}, got {self.planner!r}")
        if self.planner == "exhaustive" and action_space.n ** self.block > self.max_sequences:
            raise BanditlabError(
                f"block: k**block = {action_space.n ** self.block} exceeds max_sequences="
                f"{self.max_sequences}; use a shorter block or planner='lp'"
            )

    def make_kernel(self) -> AgentKernel:
        """Block-planning kernel."""
        return AgentKernel((self._table(), self._enc(), np.int64(self.block),
                            np.int64(PLANNERS.index(self.planner))), block_init,
                           block_select, planner_update)


class LSDOptimal(_TablePlanner):
    """Gain-optimal stationary policy of the exact average-reward problem (small instances).

    Args:
        payoff_table: The true table float[k, 2, tau_max].
        obs_encoding: The env's observation encoding.
        init_state: The env's initial state (the reachable set is enumerated from it).
        max_states: Reachable-state cap.
    """

    def __init__(self, payoff_table=None, obs_encoding: str = "signed_played_positive",
                 init_state: str = "idle_max", max_states: int = 400_000):
        self.payoff_table = payoff_table
        self.obs_encoding = obs_encoding
        self.init_state = init_state
        self.max_states = max_states

    def make_kernel(self) -> AgentKernel:
        """Policy-lookup kernel (solves the average-reward problem)."""
        from banditlab.envs.lsd.oracle import LSDOracle

        table = self._table()
        oracle = LSDOracle(table, init_state=self.init_state, exact_state_cap=self.max_states)
        graph = oracle.graph
        if graph is None:
            raise BanditlabError(
                f"max_states: more than {self.max_states} reachable states; no exact optimum"
            )
        _, _, policy = oracle.exact_average_reward()
        radix = graph.c_on + graph.c_off
        mult = np.concatenate([[1], np.cumprod(radix[:-1])]).astype(np.int64)
        hp = (table, self._enc(), graph.c_on, graph.c_off, mult,
              np.ascontiguousarray(graph.keys[graph.order]),
              np.ascontiguousarray(policy[graph.order]))
        return AgentKernel(hp, planner_init_plain, optimal_select, planner_update)


@njit(cache=True)
def simulate_rounding(state, hparams, streak0, idle0, n_steps, rng):
    """Expected reward of ``n_steps`` rounds of a sampled schedule under ``hparams[0]``.

    Runs :func:`rounding_select` on a copy of the counters (the schedule state's
    ``last`` is restored afterwards); ties use ``rng``.
    """
    table = hparams[0]
    enc = hparams[1]
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
