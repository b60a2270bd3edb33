"""Oracle of LSD / recharging bandits: exact optimum, LP bounds, comparators and planners.

Regret accounting: the state is policy-dependent, so "the best arm now" is not a valid
per-step comparator and there is none (``primary_kind = None``). Kinds:

* ``alpha/opt``: ``alpha * OPT(t)``, with ``OPT(t)`` from exact finite-horizon backward
  induction over the reachable joint states when ``S * k * T`` is small, else
  ``alpha * t * g*`` (``OPT(t) - t g*`` is bounded by the bias span). Declared only when
  the reachable state space is below the cap.
* ``alpha/lp``: ``alpha * t * LP`` with the higher-dimensional LSD LP value (an upper
  bound on ``g*``, so this alpha-regret is an upper bound; ``exact=False``).
* ``benchmark/<planner>``: paired contrasts against the oracle agents of
  :meth:`LSDOracle.benchmark_policies` run on the same env seed.

Both model comparators are noise-free: their realised value equals their expected value.
The oracle draws nothing from the env's streams. Its benchmark policies are named by
registry id (:class:`~banditlab.core.BenchmarkPolicy`) with the true payoff table as a
hyperparameter; the planners live in :mod:`banditlab.agents.lsd.planners`.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from banditlab.core import BenchmarkPolicy, Oracle, PicklableMappingsMixin, RegretKind
from banditlab.envs.lsd.exact import (
    optimal_average_reward,
    optimal_finite_horizon,
    reachable_graph,
)
from banditlab.envs.lsd.lp import delay_projection, lsd_lp, recharging_lp

#: Largest ``S * k * T`` for which the finite-horizon DP is run at construction.
FINITE_HORIZON_BUDGET = 2e8
#: Largest LSD LP (``k (tau_max + 2) tau_max`` variables) solved for ``alpha/lp``.
LP_VARIABLE_CAP = 200_000

_CACHE: dict = {}


def _cached(key, fn):
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = fn()
    return _CACHE[key]


PLANNER_NAMES = ("greedy", "lp_rounding", "lsd_lp_rounding", "round_robin", "block_lp",
                 "lsd_lp_epochs", "optimal")


class LSDOracle(PicklableMappingsMixin, Oracle):
    """Ground truth of an :class:`~banditlab.envs.lsd.env.LSDBandit`.

    Args:
        table: float64[k, 2, tau_max] payoff table.
        init_state: The env's initial state.
        obs_encoding: The env's observation encoding (planners decode it).
        horizon: The env's horizon.
        alpha: ``alpha`` of the ``alpha/*`` kinds.
        exact_state_cap: Reachable-state cap of the exact optimum.
        m_pulls: Pulls per round ``m`` (the LPs' capacity; the exact optimum's actions are
            the sets of at most ``m`` arms).
    """

    primary_kind = None

    def __init__(self, table, *, init_state="idle_max", obs_encoding="signed_played_positive",
                 horizon=10_000, alpha=1.0 - 1.0 / np.e, exact_state_cap=400_000, m_pulls=1):
        self.payoff_table = np.ascontiguousarray(table, dtype=np.float64)
        self.init_state = init_state
        self.obs_encoding = obs_encoding
        self.horizon = int(horizon)
        self.alpha = float(alpha)
        self.exact_state_cap = int(exact_state_cap)
        self.m_pulls = int(m_pulls)
        self._key = (self.payoff_table.tobytes(), self.payoff_table.shape, init_state,
                     self.m_pulls)
        self._graph = reachable_graph(self.payoff_table, init_state, self.exact_state_cap,
                                      self.m_pulls)
        kinds = {}
        if self._graph is not None:
            kinds["alpha/opt"] = RegretKind(
                per_step=False, nonnegative=False, exact=True,
                description="alpha times the exact optimal expected total reward OPT(t)",
            )
        k, tau = self.payoff_table.shape[0], self.payoff_table.shape[2]
        self.has_lp = k * (tau + 2) * tau <= LP_VARIABLE_CAP
        if self.has_lp:
            kinds["alpha/lp"] = RegretKind(
                per_step=False, nonnegative=False, exact=False,
                description="alpha * t times the LSD LP upper bound on the optimal average reward",
            )
        for name in self.planner_names():
            kinds[f"benchmark/{name}"] = RegretKind(
                per_step=False, nonnegative=False, paired=True,
                description=f"the {name} planner (true payoffs) run on the same env seed",
            )
        self.regret_kinds = MappingProxyType(kinds)

    # ----------------------------------------------------------------- model access
    @property
    def n_arms(self) -> int:
        """Number of arms."""
        return int(self.payoff_table.shape[0])

    @property
    def tau_max(self) -> int:
        """Counter cap."""
        return int(self.payoff_table.shape[2])

    def mean(self, i: int, kind: str, level: int) -> float:
        """``f_i(kind, level)`` with ``kind`` in {"on", "off"} and ``level`` in 1.. (capped)."""
        side = 0 if kind == "on" else 1
        return float(self.payoff_table[i, side, min(max(level, 1), self.tau_max) - 1])

    @property
    def graph(self):
        """The reachable joint-state graph, or ``None`` above the state cap."""
        return self._graph

    def exact_average_reward(self):
        """``(g*, h, policy)`` of the exact average-reward problem (small instances only).

        Raises:
            RuntimeError: When the reachable state space exceeds the cap.
        """
        return optimal_average_reward(self.payoff_table, self.init_state, self.exact_state_cap,
                                      self.m_pulls)

    def exact_finite_horizon(self, horizon: int) -> np.ndarray:
        """``OPT(t)`` for ``t = 0..horizon`` (float64[horizon + 1])."""
        return optimal_finite_horizon(self.payoff_table, self.init_state, self.exact_state_cap,
                                      horizon, self.m_pulls)

    def lp_bound(self, kind: str = "lsd"):
        """Per-round LP bound and solution (:class:`~banditlab.envs.lsd.lp.LPSolution`).

        ``kind="recharging"`` solves the recharging LP on the delay-only projection of the
        table (an upper bound on ``g*`` for delay-only tables); ``kind="lsd"`` solves the
        higher-dimensional LSD LP (:mod:`banditlab.envs.lsd.lp`); both with capacity
        ``m_pulls``.
        """
        if kind == "recharging":
            return _cached(self._key + ("lp_r",),
                           lambda: recharging_lp(delay_projection(self.payoff_table),
                                                 self.m_pulls))
        if kind == "lsd":
            return _cached(self._key + ("lp_lsd",),
                           lambda: lsd_lp(self.payoff_table, self.m_pulls))
        raise KeyError(f"kind: expected 'recharging' or 'lsd', got {kind!r}")

    # ----------------------------------------------------------------- comparators
    def kernel_comparators(self):
        """``(alpha * OPT curve float64[H+1] or empty, alpha * g*, alpha * LP, has_opt)``.

        ``alpha * LP`` is NaN when the LSD LP has more than :data:`LP_VARIABLE_CAP`
        variables (then ``alpha/lp`` is not declared).
        """
        lp = self.lp_bound("lsd").value if self.has_lp else np.nan
        if self._graph is None:
            return np.empty(0), np.nan, self.alpha * lp, False
        g = self.exact_average_reward()[0]
        budget = self._graph.n_states * self._graph.acts.shape[0] * self.horizon
        if budget <= FINITE_HORIZON_BUDGET:
            curve = self.alpha * self.exact_finite_horizon(self.horizon)
        else:
            curve = np.empty(0)
        return curve, self.alpha * g, self.alpha * lp, True

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative ``(realised, expected)`` comparator of ``alpha/opt`` or ``alpha/lp``."""
        curve, gain, lp, has_opt = self.kernel_comparators()
        if kind == "alpha/lp" and self.has_lp:
            return lp * t, lp * t
        if kind == "alpha/opt" and has_opt:
            if curve.shape[0] == 0:
                v = gain * t
            elif t < curve.shape[0]:
                v = float(curve[t])
            else:
                v = float(curve[-1] + (t - curve.shape[0] + 1) * gain)
            return v, v
        return super().comparator(kind, t)

    # ----------------------------------------------------------------- planners
    def planner_names(self) -> tuple[str, ...]:
        """Names of :meth:`benchmark_policies`.

        ``optimal`` only on small instances; ``block_lp`` only with one pull per round.
        """
        return tuple(n for n in PLANNER_NAMES
                     if (n != "optimal" or self._graph is not None)
                     and (n != "block_lp" or self.m_pulls == 1))

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """Oracle agents built from the true payoffs, by registry id.

        ``greedy`` (``LSDOracleGreedy-v0``), ``lp_rounding`` and ``lsd_lp_rounding``
        (``LSDLPRounding-v1`` on the recharging or the LSD LP), ``round_robin``
        (``LSDRoundRobin-v0``), ``block_lp`` (``LSDBlockPlanner-v0``, one pull per round
        only), ``lsd_lp_epochs`` (``LSDLPUCB-v1`` with the true table: the
        full-information counterpart of the LP-UCB learner) and ``optimal``
        (``LSDOptimal-v0``, small instances only); see :mod:`banditlab.agents.lsd.planners`.
        Every planner reads the pulls per round off the env's action space.
        """
        table = self.payoff_table.tolist()
        common = {"payoff_table": table, "obs_encoding": self.obs_encoding}
        out = {
            "greedy": BenchmarkPolicy("LSDOracleGreedy-v0", dict(common)),
            "lp_rounding": BenchmarkPolicy("LSDLPRounding-v1",
                                           {**common, "relaxation": "recharging"}),
            "lsd_lp_rounding": BenchmarkPolicy("LSDLPRounding-v1",
                                               {**common, "relaxation": "lsd"}),
            "round_robin": BenchmarkPolicy("LSDRoundRobin-v0", dict(common)),
            "lsd_lp_epochs": BenchmarkPolicy("LSDLPUCB-v1", {"tau_max": self.tau_max,
                                                             **common}),
        }
        if self.m_pulls == 1:
            out["block_lp"] = BenchmarkPolicy("LSDBlockPlanner-v0", dict(common))
        if self._graph is not None:
            out["optimal"] = BenchmarkPolicy("LSDOptimal-v0",
                                             {**common, "init_state": self.init_state})
        return out
