"""Ground truth of the adversarial linear-Q MDP: the oracle (values, the best fixed policy).

Everything here is exact (enumerated states, dense dynamic programming through the
kernels of :mod:`banditlab.envs.advmdp.model`, whose docstring lists the shapes);
nothing draws random numbers.

The comparator is the best *fixed* policy in hindsight. Because the value of a
fixed policy is linear in the loss, ``sum_{k<t} V^pi_k(s0) = t * V^pi(mean loss)``,
so one backward pass on the averaged loss gives the exact hindsight optimum [I].
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from banditlab.core import BanditlabError, BenchmarkPolicy, Oracle, RegretKind
from banditlab.envs.advmdp.kernel import advmdp_policy_loss, oracle_loss_tables
from banditlab.envs.advmdp.model import (
    advmdp_best_policy_dp,
    advmdp_occupancy,
    advmdp_policy_q_values,
    validate_policy_table,
)
from banditlab.validation import Interval, validate_value

__all__ = ["AdvLinearQMDPOracle"]


# --------------------------------------------------------------------------- oracle
class AdvLinearQMDPOracle(Oracle):
    """Exact ground truth of an :class:`~banditlab.envs.advmdp.env.AdvLinearQMDP`.

    Kind ``static`` (rounds = episodes, not per step, may be negative): the
    comparator is the best fixed policy in hindsight over episodes ``1..t``,
    ``C(t) = -t * min_pi V^pi(mean loss of episodes 0..t-1)``. The realised and
    expected comparator are the same number: the comparator's own trajectory is
    not simulated (a deliberate choice [I]), so ``regret/static`` carries the
    learner's trajectory noise only.

    The oracle reads the env's pre-generated schedule (``is_a[k]``: episode ``k``
    uses ``g^A``, else ``g^B``), which the env regenerates at ``reset(seed)``. It
    draws nothing from any stream.

    Attributes:
        P: float64[H, N, A, N] transitions.
        phi: float64[H, N, A, d] features.
        mu: float64[H, d, N] latent next-state distributions (``mu[H - 1] = 0``).
        g_a: float64[H, d], ``g^A``; ``g_b``: float64[H, d], ``g^B``.
        loss_tables: float64[2, H, N, A], the loss tables of ``g^A`` and ``g^B`` (shared
            with the env kernel, whose ``policy_value`` reads them too).
    """

    primary_kind = None
    regret_kinds = MappingProxyType(
        {
            "static": RegretKind(
                per_step=False,
                nonnegative=False,
                description=(
                    "cumulative expected reward of the best fixed policy in hindsight over "
                    "episodes 1..t (one backward pass on the averaged loss)"
                ),
            )
        }
    )

    def __init__(self, P, phi, mu, g_a, g_b):
        self.P = P
        self.phi = phi
        self.mu = mu
        self.g_a = g_a
        self.g_b = g_b
        self.H, self.N, self.A, self.d = phi.shape
        self.loss_tables = oracle_loss_tables(phi, g_a, g_b)
        self.is_a_ = None
        self.count_a_ = None
        self.episode_ = 0

    # ------------------------------------------------------------- set by the env
    def set_schedule(self, is_a: np.ndarray) -> None:
        """Take the run's pre-generated schedule (called by the env's ``reset(seed)``).

        Args:
            is_a: bool[K], ``True`` where episode ``k`` uses ``g^A`` (else ``g^B``).
        """
        self.is_a_ = is_a
        self.count_a_ = np.concatenate([[0], np.cumsum(is_a, dtype=np.int64)])
        self.episode_ = 0

    def _require_run(self) -> None:
        if self.is_a_ is None:
            raise BanditlabError("oracle: the env has not been reset; call env.reset(seed=...)")

    # ------------------------------------------------------------- model access
    def transitions(self) -> np.ndarray:
        """float64[H, N, A, N] transition kernel (copy)."""
        return self.P.copy()

    def features(self) -> np.ndarray:
        """float64[H, N, A, d] features (copy)."""
        return self.phi.copy()

    def loss_vectors(self, k: int) -> np.ndarray:
        """float64[H, d], the loss parameters ``g_{k, h}`` of episode ``k`` (from 0)."""
        self._require_run()
        k = self._check_episode(k)
        return (self.g_a if self.is_a_[k] else self.g_b).copy()

    def loss_table(self, k: int) -> np.ndarray:
        """float64[H, N, A], ``loss[h, s, a] = <phi_h(s, a), g_{k, h}>`` of episode ``k``."""
        return np.einsum("hsad,hd->hsa", self.phi, self.loss_vectors(k))

    def _check_episode(self, k) -> int:
        return validate_value("k", k, Interval("int", 0, self.is_a_.shape[0] - 1))

    def mean_loss_vectors(self, k0: int, k1: int) -> np.ndarray:
        """float64[H, d], the mean of ``g_k`` over episodes ``k0..k1-1``."""
        self._require_run()
        K = self.is_a_.shape[0]
        if not (0 <= k0 < k1 <= K):
            raise BanditlabError(f"(k0, k1): need 0 <= k0 < k1 <= {K}, got ({k0}, {k1})")
        na = int(self.count_a_[k1] - self.count_a_[k0])
        nb = (k1 - k0) - na
        return (na * self.g_a + nb * self.g_b) / (k1 - k0)

    def occupancy(self, pi) -> np.ndarray:
        """float64[H, N, A] occupancy measure of a policy table."""
        pi = validate_policy_table(pi, self.H, self.N, self.A)
        return advmdp_occupancy(self.P, pi)

    def theta(self, pi, k: int) -> np.ndarray:
        """float64[H, d], ``theta^pi_{k, h} = g_{k, h} + mu_h V^pi_{k, h+1}`` (linear-Q parameter).

        For every ``s`` in layer ``h``: ``Q^pi_k(s, a) = <phi_h(s, a), theta^pi_{k, h}>``.
        """
        pi = validate_policy_table(pi, self.H, self.N, self.A)
        g = self.loss_vectors(k)
        _, V = advmdp_policy_q_values(self.P, np.einsum("hsad,hd->hsa", self.phi, g), pi)
        return g + np.einsum("hdn,hn->hd", self.mu, V[1:])

    def q_values(self, pi, k: int) -> np.ndarray:
        """float64[H, N, A], ``Q^pi_k`` by backward dynamic programming."""
        pi = validate_policy_table(pi, self.H, self.N, self.A)
        Q, _ = advmdp_policy_q_values(self.P, self.loss_table(k), pi)
        return Q

    def expected_value(self, pi, k: int) -> float:
        """``V^pi_k(s_0)``: the expected total loss of episode ``k`` under ``pi``."""
        q = self.occupancy(pi)
        return float(np.sum(q * self.loss_table(k)))

    def best_fixed_policy(self, k0: int, k1: int) -> tuple[float, np.ndarray]:
        """Best fixed policy for the summed losses of episodes ``k0..k1-1``.

        Returns:
            ``(value, policy)``: the minimal summed expected loss
            ``min_pi sum_k V^pi_k(s_0)`` and a deterministic minimiser int64[H, N].
        """
        gbar = self.mean_loss_vectors(k0, k1)
        v0, policy = advmdp_best_policy_dp(self.P, np.einsum("hsad,hd->hsa", self.phi, gbar))
        return float(v0) * (k1 - k0), policy

    # ------------------------------------------------------------- regret
    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """``(C, C)`` with ``C = -min_pi sum_{k<t} V^pi_k(s_0)`` for kind ``static``."""
        if kind != "static":
            return super().comparator(kind, t)
        self._require_run()
        if t <= 0:
            return 0.0, 0.0
        value, _ = self.best_fixed_policy(0, int(t))
        return -value, -value

    def policy_expected_reward(self, policy_table) -> float:
        """Exact expected reward ``-V^pi_k(s_0)`` of the current episode under ``policy_table``.

        The current episode is the one in progress, or the next one to be played
        when the previous one has terminated (so the harness may call this before
        or after ``env.reset()``); past the run, ``k mod n_episodes`` like the env. The
        same kernel as the env kernel's ``policy_value`` (so the fused episodic loop
        records the same numbers); it equals ``-expected_value(policy_table, k)``.
        """
        self._require_run()
        pi = validate_policy_table(policy_table, self.H, self.N, self.A)
        k = self.episode_ % self.is_a_.shape[0]  # past the run: cyclic, as in the env
        return -advmdp_policy_loss(self.P, self.loss_tables[0 if self.is_a_[k] else 1], pi)

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """``{"best_fixed_hindsight": ..., "uniform": ...}``, by registry id.

        ``best_fixed_hindsight`` (``oracle/AdvMDPBestFixedHindsight-v0``) is an oracle agent
        holding this oracle: at its ``reset`` (after the env's ``reset(seed)``) it reads the
        pre-generated schedule and plays the best fixed policy over the whole run
        (two-pass). ``uniform`` is ``AdvMDPUniform-v0``.
        """
        return {
            "best_fixed_hindsight": BenchmarkPolicy("oracle/AdvMDPBestFixedHindsight-v0",
                                                    {"oracle": self}),
            "uniform": BenchmarkPolicy("AdvMDPUniform-v0"),
        }
