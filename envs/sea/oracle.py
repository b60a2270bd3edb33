"""Oracle of the SEA envs: regret comparators, SEA run totals and oracle agents.

The oracle reads the env's kernel state (running sums kept by the kernel step) and never
draws random numbers, so common random numbers are unaffected. It imports the model
kernels from :mod:`banditlab.envs.sea.model`, never the env module, and names its
benchmark agents by registry id.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from banditlab.core import BenchmarkPolicy, Oracle, RegretKind
from banditlab.envs.sea.model import (
    C_DYN_EXP,
    C_DYN_REAL,
    C_OBSVAR,
    C_PATH,
    C_SIGMA2,
    C_SIGMA2_MAX,
    C_VAR,
    C_VAR_MAX,
    sea_expected_gradient,
    sea_next_comparator,
    sea_static_solution,
)

_EXACT_KINDS = MappingProxyType(
    {
        "static": RegretKind(
            per_step=False,
            nonnegative=False,
            description=(
                "best fixed point of the ball in hindsight: -min_X sum_s f_s (realised) and "
                "-min_X sum_s F_s (expected); can be negative on moving sequences"
            ),
        ),
        "dynamic": RegretKind(
            per_step=True,
            nonnegative=True,
            description="per-round minimiser u_t = argmin_X F_t: -sum f_s(u_s), -sum F_s(u_s)",
        ),
    }
)

_ESTIMATED_KINDS = MappingProxyType(
    {
        "static": RegretKind(
            per_step=False,
            nonnegative=False,
            exact=False,
            description=(
                "best fixed point in hindsight (realised: exact convex solve on the stored "
                "data; expected: probe-feature estimate of sum F_s); can be negative"
            ),
        ),
        "dynamic": RegretKind(
            per_step=True,
            nonnegative=True,
            exact=False,
            description="u_t = argmin_X of the probe-feature estimate of F_t",
        ),
    }
)


class SEAOracle(Oracle):
    """Ground truth of a SEA env (quadratic, least squares or logistic).

    Kinds: ``dynamic`` (primary, per step; ``u_t = argmin_X F_t``) and ``static`` (best
    fixed point in hindsight, realised and expected). Logistic kinds are marked
    ``exact=False`` because ``F_t`` is a probe-feature estimate there.

    Args:
        env: The owning env (the oracle reads ``env.state_``, ``env.kernel.params`` and
            ``env.known_constants``).
        estimated: ``True`` when ``F_t`` is a probe-feature estimate (the logistic env).
    """

    primary_kind = "dynamic"

    def __init__(self, env, *, estimated: bool = False):
        self._env = env
        self._estimated = bool(estimated)

    @property
    def regret_kinds(self):
        """``static`` and ``dynamic`` (``exact=False`` for the logistic env)."""
        return _ESTIMATED_KINDS if self._estimated else _EXACT_KINDS

    def _reset(self) -> None:
        """Nothing to clear: the running sums live in the kernel state."""

    # ------------------------------------------------------------- comparators
    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative comparator reward over rounds ``1..t`` (``t`` = rounds completed)."""
        st = self._env.state_
        if kind == "static":
            if int(st.t[0]) == 0:
                return 0.0, 0.0
            params = self._env.kernel.params
            _, v_real = sea_static_solution(st, params, False)
            _, v_exp = sea_static_solution(st, params, True)
            return -float(v_real), -float(v_exp)
        if kind == "dynamic":
            return -float(st.cum[C_DYN_REAL]), -float(st.cum[C_DYN_EXP])
        return super().comparator(kind, t)

    def best_fixed_action(self, expected: bool = False) -> np.ndarray:
        """``argmin_X sum_{s<=t} f_s`` (or ``F_s`` with ``expected=True``) over rounds so far."""
        x, _ = sea_static_solution(self._env.state_, self._env.kernel.params, bool(expected))
        return np.asarray(x).copy()

    def run_totals(self) -> dict[str, Any]:
        """SEA totals over the rounds played so far.

        Returns:
            ``best_fixed_action`` (float64[d], realised), ``stochastic_variance_total``
            (sigma^2_{1:t}), ``adversarial_variation_total`` (Sigma^2_{1:t}, from t = 2),
            ``path_length`` (sum ||u_s - u_{s-1}||), ``observed_variation_total``
            (sum ||g_s - g_{s-1}||^2), ``stochastic_variance_max``,
            ``adversarial_variation_max``.
        """
        cm = self._env.state_.cum
        return {
            "best_fixed_action": self.best_fixed_action(False),
            "stochastic_variance_total": float(cm[C_SIGMA2]),
            "adversarial_variation_total": float(cm[C_VAR]),
            "path_length": float(cm[C_PATH]),
            "observed_variation_total": float(cm[C_OBSVAR]),
            "stochastic_variance_max": float(cm[C_SIGMA2_MAX]),
            "adversarial_variation_max": float(cm[C_VAR_MAX]),
        }

    # ------------------------------------------------------------- model access
    def expected_gradient(self, x) -> np.ndarray:
        """``grad F_{t+1}(x)`` for the round about to be played (oracle agents only)."""
        x = np.asarray(x, dtype=np.float64)
        return sea_expected_gradient(self._env.state_, self._env.kernel.params, x)

    def next_comparator(self) -> np.ndarray:
        """``u_{t+1} = argmin_X F_{t+1}`` for the round about to be played."""
        return sea_next_comparator(self._env.state_, self._env.kernel.params)

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """Oracle agents that read this oracle during the run, by registry id.

        Returns:
            ``oomd_oracle_hint``: ``oracle/SEAOracleHintOOMD-v0``, OOMD with the hint
            ``grad F_t(xhat_t)`` and the env's radius, diameter and smoothness;
            ``dynamic_comparator``: ``oracle/SEADynamicComparator-v0``, which plays
            ``u_t = argmin_X F_t``.
        """
        kc = self._env.known_constants
        return {
            "oomd_oracle_hint": BenchmarkPolicy(
                "oracle/SEAOracleHintOOMD-v0",
                {"oracle": self, "radius": kc["radius"], "diameter": kc["diameter"],
                 "smoothness": kc["smoothness"]},
            ),
            "dynamic_comparator": BenchmarkPolicy(
                "oracle/SEADynamicComparator-v0", {"oracle": self}
            ),
        }
