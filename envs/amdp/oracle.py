"""Oracle of the average-reward MDP family: J*, h*, sp(h*) and pi* of the true model.

The solution comes from relative value iteration with the aperiodicity
transform (:func:`banditlab.envs.amdp.planning.relative_value_iteration`);
policy iteration and the gain LP (SciPy HiGHS) in the same module cross-check it
(see ``tests/test_amdp_planning.py``).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from banditlab.core import BanditlabError, BenchmarkPolicy, Oracle, RegretKind
from banditlab.envs.amdp.planning import (
    AverageRewardSolution,
    policy_iteration,
    solve_average_reward,
)

__all__ = ["AMDPOracle", "solve_and_validate"]


def solve_and_validate(P: np.ndarray, r: np.ndarray, start_state: int) -> AverageRewardSolution:
    """Solve the MDP and check that regret against ``J*`` is meaningful.

    Raises:
        BanditlabError: When the optimal gain differs between start states (the
            MDP is not weakly communicating) or is lower from ``start_state``.
    """
    sol = solve_average_reward(P, r)
    _, gvec = policy_iteration(P, r)
    if gvec.max() - gvec.min() > 1e-8:
        bad = int(np.argmin(gvec))
        if gvec[start_state] < gvec.max() - 1e-8:
            raise BanditlabError(
                f"start_state: the optimal gain from state {start_state} is {gvec[start_state]:.6g}"
                f" < J* = {gvec.max():.6g} (the optimal recurrent class is unreachable from it);"
                " use a weakly communicating MDP"
            )
        raise BanditlabError(
            f"transitions: the optimal gain is not constant (state {bad} has gain "
            f"{gvec[bad]:.6g} < {gvec.max():.6g}); the MDP must be weakly communicating"
        )
    return sol


class AMDPOracle(Oracle):
    """Ground truth of a finite average-reward MDP.

    Kind ``gain`` (primary, per step): comparator ``C(t) = t J*`` (realised and
    expected). Not ``nonnegative`` per step: the optimal policy's expected
    pseudo-regret stays within ``+-sp(h*)`` but can be negative.

    Attributes:
        P: float64[S, A, S] transitions.
        r: float64[S, A] mean rewards.
        gain: ``J*``.
        bias: float64[S], ``h*`` with ``h*(ref) = 0``.
        span: ``sp(h*)``.
        policy: int64[S], an optimal policy ``pi*``.

    :meth:`diameter` computes the diameter on demand (small S).
    """

    primary_kind = "gain"
    regret_kinds = MappingProxyType(
        {
            "gain": RegretKind(
                per_step=True,
                nonnegative=False,
                exact=True,
                description="t times the optimal gain J* (average-reward regret)",
            )
        }
    )

    def __init__(self, P: np.ndarray, r: np.ndarray, solution: AverageRewardSolution):
        self.P = P
        self.r = r
        self.solution = solution
        self.gain = solution.gain
        self.bias = solution.bias
        self.span = solution.span
        self.policy = solution.policy

    def diameter(self, tol: float = 1e-10, max_iter: int = 1_000_000) -> float:
        """Diameter ``D = max_{s != s'} min_pi E[steps from s to s']`` (small S only).

        For each target state, value iteration on the stochastic shortest-path
        problem ``T(s) = 1 + min_a P(.|s, a) T`` with ``T(target) = 0``.

        Args:
            tol: Stop when the sup-norm change is below ``tol``.
            max_iter: Iteration cap per target.
        """
        S = self.r.shape[0]
        best = 0.0
        for target in range(S):
            T = np.zeros(S)
            for _ in range(max_iter):
                new = 1.0 + (self.P @ T).min(axis=1)
                new[target] = 0.0
                done = np.max(np.abs(new - T)) < tol
                T = new
                if done:
                    break
            best = max(best, float(T.max()))
        return best

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """``(t J*, t J*)`` for kind ``gain``."""
        if kind != "gain":
            return super().comparator(kind, t)
        return t * self.gain, t * self.gain

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """``{"optimal": AMDPOptimalPolicy-v0 playing pi*, "uniform": Uniform-v0}``."""
        return {
            "optimal": BenchmarkPolicy(
                "AMDPOptimalPolicy-v0", {"policy": tuple(int(a) for a in self.policy)}
            ),
            "uniform": BenchmarkPolicy("Uniform-v0"),
        }
