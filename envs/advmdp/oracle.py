"""Ground truth of the adversarial linear-Q MDP: occupancies, values, the best fixed policy.

Kernels on top, the oracle class below. Everything here is exact (enumerated
states, dense dynamic programming); nothing draws random numbers.

Shapes used throughout (``H`` layers, ``N`` states per layer, ``A`` actions,
``d`` features). Layer 0 has a single state (index 0); its other ``N - 1`` rows
are padding (zero features, never reached):

* ``P``: float64[H, N, A, N], ``P[h, s, a, s']`` = probability of moving to state
  ``s'`` of layer ``h + 1`` (``P[H - 1]`` is all zeros: episodes end there).
* ``pi``: float64[H, N, A], a policy table (each row a distribution).
* ``loss``: float64[H, N, A], per-pair losses of one episode (or their average).
* ``q``: float64[H, N, A], occupancy measure ``q[h, s, a] = Pr(s_h = s, a_h = a)``.

The comparator is the best *fixed* policy in hindsight. Because the value of a
fixed policy is linear in the loss, ``sum_{k<t} V^pi_k(s0) = t * V^pi(mean loss)``,
so one backward pass on the averaged loss gives the exact hindsight optimum [I]
(spec ``adversarial_linear_mdp.md`` §3.7).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from numba import njit

from banditlab.core import BanditlabError, Oracle, RegretKind

__all__ = [
    "advmdp_occupancy",
    "advmdp_policy_q_values",
    "advmdp_best_policy_dp",
    "AdvLinearQMDPOracle",
    "validate_policy_table",
]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def advmdp_occupancy(P, pi):
    """Occupancy measure of ``pi`` from the start state (forward pass).

    Args:
        P: float64[H, N, A, N] transitions.
        pi: float64[H, N, A] policy table.

    Returns:
        float64[H, N, A], ``q[h, s, a] = Pr(s_h = s, a_h = a)``; each layer sums to 1.
    """
    H, N, A = pi.shape
    q = np.zeros((H, N, A))
    dist = np.zeros(N)
    dist[0] = 1.0
    for h in range(H):
        nxt = np.zeros(N)
        for s in range(N):
            if dist[s] == 0.0:
                continue
            for a in range(A):
                m = dist[s] * pi[h, s, a]
                q[h, s, a] = m
                if h + 1 < H and m != 0.0:
                    for s2 in range(N):
                        nxt[s2] += m * P[h, s, a, s2]
        dist = nxt
    return q


@njit(cache=True)
def advmdp_policy_q_values(P, loss, pi):
    """Q- and V-functions of ``pi`` for ``loss`` by backward dynamic programming.

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] losses.
        pi: float64[H, N, A] policy table.

    Returns:
        ``(Q float64[H, N, A], V float64[H + 1, N])`` with ``V[H] = 0``.
    """
    H, N, A = pi.shape
    Q = np.zeros((H, N, A))
    V = np.zeros((H + 1, N))
    for h in range(H - 1, -1, -1):
        for s in range(N):
            v = 0.0
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * V[h + 1, s2]
                Q[h, s, a] = loss[h, s, a] + cont
                v += pi[h, s, a] * Q[h, s, a]
            V[h, s] = v
    return Q, V


@njit(cache=True)
def advmdp_best_policy_dp(P, loss):
    """Loss-minimising deterministic policy for ``loss`` by backward dynamic programming.

    Ties are broken towards the smallest action index.

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] losses.

    Returns:
        ``(V0 float, policy int64[H, N])``: the optimal value at the start state and
        the minimiser (padded states of layer 0 get action 0).
    """
    H, N, A = loss.shape
    V = np.zeros((H + 1, N))
    policy = np.zeros((H, N), np.int64)
    for h in range(H - 1, -1, -1):
        for s in range(N):
            best = np.inf
            arg = 0
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * V[h + 1, s2]
                qv = loss[h, s, a] + cont
                if qv < best:
                    best = qv
                    arg = a
            V[h, s] = best
            policy[h, s] = arg
    return V[0, 0], policy


# --------------------------------------------------------------------------- helpers
def validate_policy_table(pi, H: int, N: int, A: int, name: str = "policy_table") -> np.ndarray:
    """Check and convert a policy table to float64[H, N, A].

    Accepts either an array of shape ``(H, N, A)`` or a list of ``H`` per-layer
    arrays of shape ``(n_h, A)`` with ``n_0 = 1`` and ``n_h = N`` otherwise (the
    padded rows of layer 0 are filled with the uniform distribution).

    Raises:
        BanditlabError: When the shape is wrong or a row is not a distribution
            (entries in [0, 1] summing to 1 within 1e-8).
    """
    if isinstance(pi, (list, tuple)):
        if len(pi) != H:
            raise BanditlabError(f"{name}: expected {H} per-layer arrays, got {len(pi)}")
        full = np.full((H, N, A), 1.0 / A)
        for h, layer in enumerate(pi):
            arr = np.asarray(layer, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != A or arr.shape[0] not in (1 if h == 0 else N, N):
                raise BanditlabError(
                    f"{name}: layer {h} must have shape ({1 if h == 0 else N}, {A}), "
                    f"got {arr.shape}"
                )
            full[h, : arr.shape[0]] = arr
        arr = full
    else:
        try:
            arr = np.asarray(pi, dtype=np.float64)
        except (TypeError, ValueError):
            raise BanditlabError(
                f"{name}: expected a float array of shape ({H}, {N}, {A})"
            ) from None
        if arr.shape != (H, N, A):
            raise BanditlabError(f"{name}: expected shape ({H}, {N}, {A}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BanditlabError(f"{name}: entries must be finite probabilities")
    if np.any(arr < 0.0) or np.any(np.abs(arr.sum(axis=2) - 1.0) > 1e-8):
        raise BanditlabError(
            f"{name}: every row pi[h, s, :] must be a distribution (entries >= 0 summing to 1)"
        )
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------- oracle
class AdvLinearQMDPOracle(Oracle):
    """Exact ground truth of an :class:`~banditlab.envs.advmdp.env.AdvLinearQMDP`.

    Kind ``static`` (rounds = episodes, not per step, may be negative): the
    comparator is the best fixed policy in hindsight over episodes ``1..t``,
    ``C(t) = -t * min_pi V^pi(mean loss of episodes 0..t-1)``. The realised and
    expected comparator are the same number: the comparator's own trajectory is
    not simulated (documented choice, spec §3.7), so ``regret/static`` carries the
    learner's trajectory noise only.

    The oracle reads the env's pre-generated schedule (``is_a[k]``: episode ``k``
    uses ``g^A``, else ``g^B``), which the env regenerates at ``reset(seed)``. It
    draws nothing from any stream.

    Attributes:
        P: float64[H, N, A, N] transitions.
        phi: float64[H, N, A, d] features.
        mu: float64[H, d, N] latent next-state distributions (``mu[H - 1] = 0``).
        g_a: float64[H, d], ``g^A``; ``g_b``: float64[H, d], ``g^B``.
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
        self.is_a_ = None
        self.count_a_ = None
        self.episode_ = 0

    # ------------------------------------------------------------- set by the env
    def _set_schedule(self, is_a: np.ndarray) -> None:
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
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise BanditlabError(f"k: expected an integer episode index, got {k!r}")
        if not 0 <= k < self.is_a_.shape[0]:
            raise BanditlabError(f"k: episode {k} is outside [0, {self.is_a_.shape[0]})")
        return int(k)

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
        or after ``env.reset()``); past the run, ``k mod n_episodes`` like the env.
        """
        self._require_run()
        k = self.episode_ % self.is_a_.shape[0]  # past the run: cyclic, as in the env
        return -self.expected_value(policy_table, k)

    def benchmark_policies(self):
        """``{"best_fixed_hindsight": ..., "uniform": ...}``.

        ``best_fixed_hindsight`` is an oracle agent holding this oracle: at its
        ``reset`` (after the env's ``reset(seed)``) it reads the pre-generated
        schedule and plays the best fixed policy over the whole run (two-pass).
        """
        from banditlab.agents.advmdp.baselines import AdvMDPUniform, BestFixedHindsight

        return {"best_fixed_hindsight": BestFixedHindsight(oracle=self), "uniform": AdvMDPUniform()}
