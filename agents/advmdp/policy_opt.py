"""Policy optimisation for adversarial linear-Q MDPs: dilated bonus, log-barrier FTRL, A2-candidate.

Kernels on top, classes below. All agents share one loop (the policy-optimisation
scheme of Luo et al. 2021 with the variations of Dai et al. 2023), run per episode ``k``:

1. policy ``pi_k`` from the cumulative adjusted loss table ``C[h, s, a] = sum_{tau<k}
   (Qhat_tau(s, a) - B_tau(s, a))`` (exponential weights, or log-barrier FTRL);
2. ``Sigma^dagger_{k, h}``, an estimate of ``(gamma I + Sigma_{k, h})^{-1}`` under ``pi_k``
   (:mod:`banditlab.agents.advmdp.covariance`; default Matrix Geometric Resampling with
   independent chains, as the papers);
3. bonus ``b_k(s, a) = beta (||phi(s, a)||^2_{Sigma^dagger} + E_{a'~pi_k(s)}
   ||phi(s, a')||^2_{Sigma^dagger})`` (quadratic forms used as they are, negative ones
   included, unless ``clip_bonus_norms``) and the dilated bonus ``B_k(s, a) = b_k(s, a) +
   (1 + 1/H) E_{s', a'} B_k(s', a')`` by one backward pass over the enumerated states
   (``bonus="sampled_dp"``: ``n_bonus_samples`` start-pair simulator draws per pair;
   ``"exact_dp"``: exact transitions), a banditlab simplification [I] of Luo et al.'s
   memoised recursive sampling, which costs poly(K) per call;
4. play the episode, observe the losses ``l_h`` along the trajectory (bandit
   feedback), form ``L_h = sum_{h' >= h} l_{h'}``, ``thetahat_h = Sigma^dagger_h
   phi_h(s_h, a_h) L_h`` and ``Qhat_h(s, a) = <phi_h(s, a), thetahat_h>``, and update ``C``.

Steps 1-3 are one compiled kernel per episode (:func:`po_begin_episode`), step 4 is
:func:`po_select`, :func:`po_update` and :func:`po_end_episode`; the classes are thin
wrappers calling them (kernel agents), and the harness's fused episodic loop
(:mod:`banditlab._fused`) calls the same kernels with the same generators (the agent's,
and the simulator's stream through its kernel handle).

``C`` is kept as a table over the enumerated (h, s, a) (not as summed ``thetahat``),
because the A2-candidate truncation acts per pair. Much of the detail is recalled
from the papers rather than checked line by line, or designed here [I]; the defaults
below are the theory's rate scalings in ``K`` with multiplicative constants ``c_eta``,
``c_beta`` to tune (with the theory's constants the learners behave like uniform play
at small K).

References:
    Luo, Wei, Lee, "Policy Optimization in Adversarial MDPs: Improved Exploration
    via Dilated Bonuses", NeurIPS 2021 (A0, Õ(K^{2/3}) with linear-Q and a simulator).
    Dai, Luo, Wei, Zimmert, "Refined Regret for Adversarial MDPs with Linear
    Function Approximation", ICML 2023 (A1: log-barrier FTRL, Õ(√K); A2:
    magnitude-reduced estimator, whose exact form we have NOT checked, hence the
    "A2-candidate" label).
"""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.advmdp.covariance import (
    COV_CODES,
    COV_ESTIMATORS,
    MGR_VARIANTS,
    CovScratch,
    cov_scratch,
    default_mgr_chain_length,
    inv_cov_into,
    make_cov_estimator,
)
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.advmdp.kernel import generator_caller, sim_sample
from banditlab.envs.advmdp.model import validate_features
from banditlab.validation import (
    Array,
    Boolean,
    Interval,
    Options,
    require_discrete_actions,
)

__all__ = [
    "logbarrier_weights",
    "expweights_policy",
    "expweights_policy_into",
    "logbarrier_policy",
    "logbarrier_policy_into",
    "immediate_bonus",
    "immediate_bonus_into",
    "dilate_bonus_exact",
    "dilate_bonus_exact_into",
    "estimate_and_accumulate",
    "estimate_and_accumulate_into",
    "POHparams",
    "POState",
    "po_init",
    "po_begin_episode",
    "po_select",
    "po_update",
    "po_end_episode",
    "po_policy",
    "dilate_bonus_sampled_into",
    "kernel_obs",
    "learner_variant_tags",
    "default_cov_samples",
    "DilatedBonusPO",
    "LogBarrierPO",
    "MagnitudeReducedPO",
    "TabularExp3PO",
]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def logbarrier_policy_into(pi, C, eta, newton, x):
    """Per row of ``C``, the minimiser of ``<p, c> + (1/eta) sum_a ln(1/p_a)``, into ``pi``.

    Closed form ``p_a = 1 / (eta (c_a - min c + lam))`` with the scalar ``lam`` in
    ``[1/eta, A/eta]`` solving ``sum_a p_a = 1`` (``sum p`` decreases in ``lam``).
    Safeguarded Newton (``newton=True``; started at the left end of the bracket,
    where the convex decreasing ``f(lam) = sum p - 1`` makes Newton monotone, and
    falling back to bisection whenever a step leaves the bracket) or 60 bisection
    steps. Each row is renormalised. Never NaN for finite ``C``.

    Args:
        pi: float64[H, N, A], written in place (may not alias ``C``).
        C: float64[H, N, A], cumulative losses (finite, any magnitude).
        eta: Learning rate (> 0).
        newton: Use safeguarded Newton instead of plain bisection.
        x: float64[A] buffer.
    """
    H, N, A = C.shape
    for h in range(H):
        for s in range(N):
            cmin = np.inf
            for a in range(A):
                if C[h, s, a] < cmin:
                    cmin = C[h, s, a]
            for a in range(A):
                x[a] = eta * (C[h, s, a] - cmin)  # >= 0; p_a = 1 / (x_a + mu), mu = eta lam
            lo = 1.0  # f(lo) >= 0
            hi = float(A)  # f(hi) <= 0
            mu = lo
            if newton:
                for _ in range(100):
                    f = -1.0
                    df = 0.0
                    for a in range(A):
                        inv = 1.0 / (x[a] + mu)
                        f += inv
                        df -= inv * inv
                    if f > 0:
                        lo = mu
                    else:
                        hi = mu
                    if f == 0.0 or hi - lo <= 1e-15 * hi:
                        break
                    step = mu - f / df
                    if not (lo < step < hi):
                        step = 0.5 * (lo + hi)
                    if step == mu:
                        break
                    mu = step
            else:
                for _ in range(60):
                    mu = 0.5 * (lo + hi)
                    f = -1.0
                    for a in range(A):
                        f += 1.0 / (x[a] + mu)
                    if f > 0:
                        lo = mu
                    else:
                        hi = mu
                mu = 0.5 * (lo + hi)
            tot = 0.0
            for a in range(A):
                pi[h, s, a] = 1.0 / (x[a] + mu)
                tot += pi[h, s, a]
            for a in range(A):
                pi[h, s, a] /= tot


@njit(cache=True)
def logbarrier_policy(C, eta, newton):
    """float64[H, N, A]: per row, the log-barrier minimiser (:func:`logbarrier_policy_into`)."""
    H, N, A = C.shape
    pi = np.empty((H, N, A))
    logbarrier_policy_into(pi, C, eta, newton, np.empty(A))
    return pi


def logbarrier_weights(c, eta, newton=True):
    """float64[A], the log-barrier FTRL distribution of one state's cumulative losses ``c``.

    Thin wrapper of :func:`logbarrier_policy` on a single row.
    """
    c = np.ascontiguousarray(c, dtype=np.float64)
    return logbarrier_policy(c.reshape(1, 1, -1), float(eta), bool(newton))[0, 0]


@njit(cache=True)
def expweights_policy_into(pi, C, eta):
    """``pi(a|s) ∝ exp(-eta (C[h, s, a] - min_a C[h, s, a]))`` into ``pi`` (float64[H, N, A])."""
    H, N, A = C.shape
    for h in range(H):
        for s in range(N):
            cmin = np.inf
            for a in range(A):
                if C[h, s, a] < cmin:
                    cmin = C[h, s, a]
            tot = 0.0
            for a in range(A):
                w = math.exp(-eta * (C[h, s, a] - cmin))
                pi[h, s, a] = w
                tot += w
            for a in range(A):
                pi[h, s, a] /= tot


@njit(cache=True)
def expweights_policy(C, eta):
    """float64[H, N, A], ``pi(a|s) ∝ exp(-eta (C[h, s, a] - min_a C[h, s, a]))``."""
    pi = np.empty(C.shape)
    expweights_policy_into(pi, C, eta)
    return pi


@njit(cache=True)
def immediate_bonus_into(b, nrm, phi, sig_inv, pi, beta, clip):
    """``b(s, a) = beta (||phi(s,a)||^2 + E_{a'~pi(s)} ||phi(s,a')||^2)`` into ``b``.

    The "norms" are the quadratic forms ``phi^T sig_inv[h] phi`` (``sig_inv``:
    float64[H, d, d]). With an exact or direct inverse they are >= 0 up to rounding;
    an MGR estimate is not positive semi-definite, so a form can be negative. Luo et
    al. (2021) use the form as it is (it is linear in the estimate, so the bonus has
    the mean of the bonus under the estimate's mean); ``clip=True`` floors each form at
    0 (a banditlab option [I], which biases the bonus upwards).

    Args:
        b: float64[H, N, A], written in place; nrm: float64[H, N, A] buffer (the forms).
        phi: float64[H, N, A, d]; sig_inv: float64[H, d, d]; pi: float64[H, N, A].
        beta: Bonus scale; clip: Floor the forms at 0.
    """
    H, N, A, d = phi.shape
    for h in range(H):
        for s in range(N):
            for a in range(A):
                acc = 0.0
                for i in range(d):
                    fi = phi[h, s, a, i]
                    if fi == 0.0:
                        continue
                    for j in range(d):
                        acc += fi * sig_inv[h, i, j] * phi[h, s, a, j]
                nrm[h, s, a] = acc if (acc > 0.0 or not clip) else 0.0
    for h in range(H):
        for s in range(N):
            mean = 0.0
            for a in range(A):
                mean += pi[h, s, a] * nrm[h, s, a]
            for a in range(A):
                b[h, s, a] = beta * (nrm[h, s, a] + mean)


@njit(cache=True)
def immediate_bonus(phi, sig_inv, pi, beta, clip):
    """float64[H, N, A], the immediate bonus (allocating :func:`immediate_bonus_into`)."""
    H, N, A, d = phi.shape
    b = np.empty((H, N, A))
    immediate_bonus_into(b, np.empty((H, N, A)), phi, sig_inv, pi, beta, clip)
    return b


@njit(cache=True)
def dilate_bonus_exact_into(B, P, pi, b, vnext):
    """``B_h = b_h + (1 + 1/H) E_{s'~P_h, a'~pi} B_{h+1}`` (``B_H = 0``) into ``B``.

    Args:
        B: float64[H, N, A], written in place (may not alias ``b``).
        P: float64[H, N, A, N]; pi, b: float64[H, N, A]; vnext: float64[N] buffer.
    """
    H, N, A = b.shape
    dil = 1.0 + 1.0 / H
    for h in range(H - 1, -1, -1):
        for s in range(N):
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * vnext[s2]
                B[h, s, a] = b[h, s, a] + dil * cont
        for s in range(N):
            v = 0.0
            for a in range(A):
                v += pi[h, s, a] * B[h, s, a]
            vnext[s] = v


@njit(cache=True)
def dilate_bonus_exact(P, pi, b):
    """float64[H, N, A], ``B_h = b_h + (1 + 1/H) E_{s'~P_h, a'~pi} B_{h+1}`` (``B_H = 0``)."""
    H, N, A = b.shape
    B = np.empty((H, N, A))
    dilate_bonus_exact_into(B, P, pi, b, np.empty(N))
    return B


@njit(cache=True)
def estimate_and_accumulate_into(theta, C, phi, sig_inv, states, actions, losses, B, lower):
    """Add ``Qhat_k - B_k`` to ``C`` in place; write ``thetahat`` into ``theta`` (float64[H, d]).

    ``thetahat_h = sig_inv[h] phi_h(s_h, a_h) L_h`` with ``L_h = sum_{h' >= h} losses[h']``
    and ``Qhat_h(s, a) = max(<phi_h(s, a), thetahat_h>, lower)`` (``lower = -inf``: no
    truncation; the A2-candidate uses ``lower = -trunc_c / eta``).

    Args:
        theta: float64[H, d], written in place.
        C: float64[H, N, A] cumulative adjusted losses (updated).
        phi: float64[H, N, A, d] features.
        sig_inv: float64[H, d, d].
        states: int64[H]; actions: int64[H]; losses: float64[H] along the trajectory.
        B: float64[H, N, A] dilated bonus of this episode.
        lower: Truncation level of ``Qhat``.
    """
    H, N, A, d = phi.shape
    L = 0.0
    for h in range(H - 1, -1, -1):
        L += losses[h]
        s = states[h]
        a = actions[h]
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += sig_inv[h, i, j] * phi[h, s, a, j]
            theta[h, i] = acc * L
        for s2 in range(N):
            for a2 in range(A):
                qv = 0.0
                for i in range(d):
                    qv += phi[h, s2, a2, i] * theta[h, i]
                if qv < lower:
                    qv = lower
                C[h, s2, a2] += qv - B[h, s2, a2]


@njit(cache=True)
def estimate_and_accumulate(C, phi, sig_inv, states, actions, losses, B, lower):
    """Add ``Qhat_k - B_k`` to ``C`` in place; return ``thetahat`` float64[H, d].

    Allocating wrapper of :func:`estimate_and_accumulate_into`.
    """
    theta = np.empty((phi.shape[0], phi.shape[3]))
    estimate_and_accumulate_into(theta, C, phi, sig_inv, states, actions, losses, B, lower)
    return theta


# --------------------------------------------------------------------------- episode kernels
POLICY_CODES = {"expweights": 0, "newton": 1, "bisection": 2}
"""Integer code of each policy solver in :class:`POHparams` (log-barrier: newton, bisection)."""
BONUS_CODES = {"sampled_dp": 0, "exact_dp": 1}
"""Integer code of each dilated-bonus computation in :class:`POHparams`."""


class POHparams(NamedTuple):
    """Hyperparameters of the policy-optimisation kernels (fixed for a run).

    Attributes:
        phi: float64[H, N, A, d] features the agent uses.
        P: float64[H, N, A, N] exact transitions (``bonus="exact_dp"``; else float64[1, 1, 1, 1]).
        eta: float64, learning rate; gamma: float64, covariance regulariser;
            beta: float64, bonus scale; lower: float64, truncation of ``Qhat`` (``-inf``: none).
        policy_kind: int64, :data:`POLICY_CODES` value.
        cov_kind: int64, :data:`~banditlab.agents.advmdp.covariance.COV_CODES` value.
        mgr_c: float64, MGR step; n_chains: int64, MGR chains;
            symmetrise: bool, single-chain MGR (symmetrised).
        n_cov_draws: int64, simulator trajectories per covariance estimate (0: exact).
        bonus_kind: int64, :data:`BONUS_CODES` value; n_bonus: int64, draws per start pair.
        clip: bool, floor the bonus quadratic forms at 0.
    """

    phi: np.ndarray
    P: np.ndarray
    eta: float
    gamma: float
    beta: float
    lower: float
    policy_kind: int
    cov_kind: int
    mgr_c: float
    n_chains: int
    symmetrise: bool
    n_cov_draws: int
    bonus_kind: int
    n_bonus: int
    clip: bool


class POState(NamedTuple):
    """Learned state and buffers of the policy-optimisation kernels (updated in place).

    Attributes:
        C: float64[H, N, A] cumulative adjusted losses ``sum_tau (Qhat_tau - B_tau)``.
        pi: float64[H, N, A] policy of the current episode; cumpi: float64[H, N, A] its
            cumulative rows.
        sig_inv: float64[H, d, d] covariance estimate of the current episode.
        bonus: float64[H, N, A] dilated bonus of the current episode.
        traj_s, traj_a: int64[H]; traj_l: float64[H], the episode's trajectory and losses.
        flags: int64[2], ``(need_policy, episodes)``: whether the next episode's policy is
            still to be computed, and the episodes learned from.
        cov: :class:`~banditlab.agents.advmdp.covariance.CovScratch`, the covariance
            estimator's buffers (its ``traj``: int64[1, M, H, 2], ``M`` draws per estimate,
            ``M = 1`` for exact; ``feats``: float64[M, d]; the Cholesky and MGR buffers).
        btraj: int64[N A, n_bonus, H, 2] bonus draws (``sampled_dp``; else [1, 1, H, 2]).
        starts: int64[H, N A, 3] start triples ``(h, s, a)`` of the sampled bonus per layer.
        vnext: float64[N] buffer.
        x: float64[A] buffer of the log-barrier solver.
        b: float64[H, N, A] immediate bonus; nrm: float64[H, N, A] its quadratic forms.
        theta: float64[H, d], ``thetahat`` of the last episode learned from.

    Everything ``begin_episode``, ``select``, ``update`` and ``end_episode`` write lives
    here (allocated by :func:`po_init`): the episode kernels allocate nothing.
    """

    C: np.ndarray
    pi: np.ndarray
    cumpi: np.ndarray
    sig_inv: np.ndarray
    bonus: np.ndarray
    traj_s: np.ndarray
    traj_a: np.ndarray
    traj_l: np.ndarray
    flags: np.ndarray
    cov: CovScratch
    btraj: np.ndarray
    starts: np.ndarray
    vnext: np.ndarray
    x: np.ndarray
    b: np.ndarray
    nrm: np.ndarray
    theta: np.ndarray


@njit(cache=True)
def po_init(dims, hparams, rng):
    """Fresh :class:`POState` (``C = 0``, the first policy still to compute).

    Args:
        dims: int64[2], ``(A, 2)`` (actions, kernel observation size).
        hparams: :class:`POHparams` (sizes from ``phi`` and the budgets).
        rng: Unused (the state is deterministic).
    """
    phi = hparams.phi
    H, N, A, d = phi.shape
    M = max(hparams.n_cov_draws, 1)
    sampled = hparams.bonus_kind == 0 and hparams.beta > 0
    starts = np.zeros((H, N * A, 3), np.int64)
    for h in range(H):
        for s in range(N):
            for a in range(A):
                starts[h, s * A + a, 0] = h
                starts[h, s * A + a, 1] = s
                starts[h, s * A + a, 2] = a
    flags = np.zeros(2, np.int64)
    flags[0] = 1
    return POState(
        np.zeros((H, N, A)), np.zeros((H, N, A)), np.zeros((H, N, A)), np.zeros((H, d, d)),
        np.zeros((H, N, A)), np.zeros(H, np.int64), np.zeros(H, np.int64), np.zeros(H), flags,
        cov_scratch(H, N, A, d, M),
        np.zeros((N * A if sampled else 1, hparams.n_bonus if sampled else 1, H, 2), np.int64),
        starts, np.zeros(N), np.zeros(A), np.zeros((H, N, A)), np.zeros((H, N, A)),
        np.zeros((H, d)),
    )


@njit(cache=True)
def dilate_bonus_sampled_into(B, b, pi, cumpi, sim, sim_rng, btraj, starts, vnext):
    """Monte-Carlo backward pass of the dilated bonus into ``B`` [I].

    ``B_h(s, a) = b_h(s, a) + (1 + 1/H) mean_i V_{h+1}(s'_i)`` with ``V_{h+1}(s') = E_{a'~pi}
    B_{h+1}(s', a')`` and ``btraj.shape[1]`` start-pair simulator draws ``s'_i`` per pair.

    Args:
        B: float64[H, N, A] output; b: float64[H, N, A] immediate bonus.
        pi, cumpi: float64[H, N, A] policy and its cumulative rows.
        sim, sim_rng: The simulator's kernel handle and stream.
        btraj: int64[N A, m, H, 2] buffer; starts: int64[H, N A, 3]; vnext: float64[N].
    """
    H, N, A = b.shape
    m = btraj.shape[1]
    for h in range(H):
        for s in range(N):
            for a in range(A):
                B[h, s, a] = b[h, s, a]
    dil = 1.0 + 1.0 / H
    for h in range(H - 2, -1, -1):
        for s in range(N):
            v = 0.0
            for a in range(A):
                v += pi[h + 1, s, a] * B[h + 1, s, a]
            vnext[s] = v
        n_h = 1 if h == 0 else N
        sim_sample(sim, btraj, cumpi, starts[h, : n_h * A], sim_rng)
        for s in range(n_h):
            for a in range(A):
                acc = 0.0
                row = s * A + a
                for i in range(m):
                    acc += vnext[btraj[row, i, h + 1, 0]]
                B[h, s, a] += dil * (acc / m)


@njit(cache=True)
def po_begin_episode(state, hparams, sim, sim_rng, rng):
    """Compute the episode's policy, covariance estimate and dilated bonus (once per episode).

    Does nothing when they are already computed (``flags[0] == 0``). Draws only from the
    simulator's stream ``sim_rng`` (``rng`` is unused). Allocates nothing (every
    intermediate is a buffer of ``state``).
    """
    if state.flags[0] == 0:
        return
    C, eta, pi = state.C, hparams.eta, state.pi
    if hparams.policy_kind == 0:
        expweights_policy_into(pi, C, eta)
    else:
        logbarrier_policy_into(pi, C, eta, hparams.policy_kind == 1, state.x)
    H, N, A = pi.shape
    for s in range(1, N):  # padded rows of layer 0
        for a in range(A):
            pi[0, s, a] = 1.0 / A
    for h in range(H):
        for s in range(N):
            acc = 0.0
            for a in range(A):
                acc += pi[h, s, a]
                state.cumpi[h, s, a] = acc
            state.cumpi[h, s, A - 1] = 1.0
    inv_cov_into(state.sig_inv, hparams.phi, state.pi, state.cumpi, hparams.cov_kind,
                 hparams.gamma, hparams.mgr_c, hparams.n_chains, hparams.symmetrise, sim,
                 sim_rng, state.cov)
    if hparams.beta > 0:
        b = state.b
        immediate_bonus_into(b, state.nrm, hparams.phi, state.sig_inv, state.pi, hparams.beta,
                             hparams.clip)
        if hparams.bonus_kind == 1:
            dilate_bonus_exact_into(state.bonus, hparams.P, state.pi, b, state.vnext)
        else:
            dilate_bonus_sampled_into(state.bonus, b, state.pi, state.cumpi, sim, sim_rng,
                                      state.btraj, state.starts, state.vnext)
    else:
        state.bonus[:] = 0.0
    state.flags[0] = 0


@njit(cache=True)
def po_select(state, hparams, obs, t, rng):
    """Draw ``a ~ pi_k(.|s)`` by inverse CDF from one ``rng.random()``; ``obs = (h, s)``."""
    h = int(obs[0])
    s = int(obs[1])
    A = state.pi.shape[2]
    u = rng.random()
    acc = 0.0
    for a in range(A):
        acc += state.pi[h, s, a]
        if u < acc:
            return a
    return A - 1


@njit(cache=True)
def po_update(state, hparams, obs, action, reward, next_obs):
    """Record the step ``(s_h, a_h, loss_h)`` of the trajectory."""
    h = int(obs[0])
    state.traj_s[h] = int(obs[1])
    state.traj_a[h] = action
    state.traj_l[h] = -reward


@njit(cache=True)
def po_end_episode(state, hparams, rng):
    """Estimate ``Qhat_k`` from the trajectory and add ``Qhat_k - B_k`` to ``C``.

    An episode played without a computed policy (no ``begin_episode``) teaches nothing.
    """
    if state.flags[0] != 0:
        return
    estimate_and_accumulate_into(state.theta, state.C, hparams.phi, state.sig_inv, state.traj_s,
                                 state.traj_a, state.traj_l, state.bonus, hparams.lower)
    state.flags[1] += 1
    state.flags[0] = 1


@njit(cache=True)
def po_policy(state, hparams):
    """float64[H, N, A], the policy of the current episode (a view of the state)."""
    return state.pi


def kernel_obs(observation) -> np.ndarray:
    """float64[2] ``(h, s)`` of an adversarial linear MDP observation (the env kernel's form)."""
    return np.array([float(observation["h"]), float(observation["s"])])


# --------------------------------------------------------------------------- constraints
_POSITIVE = Interval("real", 0.0, None, closed="neither")
_NONNEGATIVE = Interval("real", 0.0, None)
_COUNT = [None, Interval("int", 1)]


def learner_variant_tags(agent) -> tuple[str, ...]:
    """Label tags of the opt-in options shared by the policy-optimisation learners.

    ``"exact covariance"`` / ``"direct covariance"`` (``cov_estimator`` other than MGR),
    ``"single-chain MGR"`` (``mgr_variant="single_chain"`` with MGR), ``"exact bonus"``
    (``bonus="exact_dp"``), ``"clipped bonus norms"`` (``clip_bonus_norms=True``).
    """
    tags = []
    cov = getattr(agent, "cov_estimator", "mgr")
    if cov in ("exact", "direct"):
        tags.append(f"{cov} covariance")
    elif getattr(agent, "mgr_variant", "chains") == "single_chain":
        tags.append("single-chain MGR")
    if getattr(agent, "bonus", "sampled_dp") == "exact_dp":
        tags.append("exact bonus")
    if getattr(agent, "clip_bonus_norms", False) is True:
        tags.append("clipped bonus norms")
    return tuple(tags)


# --------------------------------------------------------------------------- agents
class _LinearQPolicyOptimisation(KernelAgent):
    """Shared machinery of the policy-optimisation agents (see the module docstring).

    A thin wrapper of the episode kernels above (:func:`po_begin_episode`,
    :func:`po_select`, :func:`po_update`, :func:`po_end_episode`, :func:`po_policy`):
    the Python path calls them with the agent's ``rng_`` and the simulator's kernel
    handle and stream, the fused episodic loop of :mod:`banditlab._fused` calls the same
    kernels with the same generators.

    Subclasses define ``_default_rates(K, H, A, d) -> (eta, gamma, beta)`` and
    ``_policy_kind() -> str`` (a key of :data:`POLICY_CODES`), and may set ``_tabular``
    (one-hot features) or a truncation level.

    Learned state after :meth:`reset`: ``state_`` (:class:`POState`; ``C_``, ``pi_``,
    ``sig_inv_``, ``bonus_`` are views of its arrays), ``kernel_``, ``dims_``, ``t_``
    (steps played), ``phi_`` float64[H, N, A, d], ``eta_``, ``gamma_``, ``beta_``, ``cov_``
    (the :class:`~banditlab.agents.advmdp.covariance.CovEstimator` configuration),
    ``simulator_``, ``rng_``; ``episodes_`` reads the state.
    """

    _tags = {
        "families": ("advmdp",),
        "needs_simulator": True,
        "exposes_policy": True,
        "check_env": ("banditlab/AdvLinearQMDP-v0", {"n_episodes": 32}),
    }
    _parameter_constraints = {
        "c_eta": _POSITIVE,
        "c_beta": _NONNEGATIVE,
        "eta": [None, _POSITIVE],
        "gamma": [None, _POSITIVE],
        "beta": [None, _NONNEGATIVE],
        "mgr_c": Interval("real", 0.0, 0.5, closed="right"),
        "cov_estimator": Options(*COV_ESTIMATORS),
        "mgr_variant": Options(*MGR_VARIANTS),
        "mgr_chain_length": _COUNT,
        "bonus": Options("sampled_dp", "exact_dp"),
        "clip_bonus_norms": Boolean(),
        "n_cov_samples": _COUNT,
        "n_bonus_samples": Interval("int", 1),
        "n_episodes": _COUNT,
        "features": [None, Array("float", ndim=4)],
    }
    _tabular = False

    def _default_rates(self, K: int, H: int, A: int, d: int) -> tuple[float, float, float]:
        raise NotImplementedError

    def _policy_kind(self) -> str:
        raise NotImplementedError

    def _lower(self) -> float:
        return -np.inf

    def variant_tags(self) -> tuple[str, ...]:
        """Tags of the opt-in options that are on (see :func:`learner_variant_tags`)."""
        return learner_variant_tags(self)

    # ----------------------------------------------------------------- validation
    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    # ----------------------------------------------------------------- run
    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate, read the setting's constants from ``simulator``, zero the learned state.

        Raises:
            BanditlabError: On a bad hyperparameter or when ``simulator`` is missing.
        """
        self._validate_params(action_space, observation_space)
        if simulator is None:
            raise BanditlabError(
                f"simulator: {type(self).__name__} needs the env's simulator (tag needs_simulator)"
            )
        self.rng_ = np.random.default_rng(seed)
        self.simulator_ = simulator
        self.exact_sim_ = getattr(simulator, "mode", "sample") == "exact"
        kc = simulator.known_constants
        H, N, A = int(kc["H"]), int(kc["N"]), int(kc["A"])
        if A != action_space.n:
            raise BanditlabError(f"action_space: has {action_space.n} actions, simulator says {A}")
        feats = simulator.features() if self.features is None else self.features
        phi = validate_features(feats, H, N, A, simplex=False)
        if self._tabular:
            phi = np.zeros((H, N, A, N * A))
            for s in range(N):
                for a in range(A):
                    phi[:, s, a, s * A + a] = 1.0
            phi[0, 1:] = 0.0
        self.phi_ = np.ascontiguousarray(phi)
        d = self.phi_.shape[3]
        K = int(self.n_episodes if self.n_episodes is not None else kc["n_episodes"])
        eta, gamma, beta = self._default_rates(K, H, A, d)
        self.eta_ = float(self.eta if self.eta is not None else eta)
        self.gamma_ = float(self.gamma if self.gamma is not None else gamma)
        self.beta_ = float(self.beta if self.beta is not None else beta)
        cov = self.cov_estimator
        if cov == "exact" and not self.exact_sim_:
            raise BanditlabError("cov_estimator: 'exact' needs an env with simulator_mode='exact'")
        if self.bonus == "exact_dp" and not self.exact_sim_:
            raise BanditlabError("bonus: 'exact_dp' needs an env with simulator_mode='exact'")
        m = default_cov_samples(self.n_cov_samples, d, H, K, self.gamma_)
        chain = self.mgr_chain_length
        if chain is None:
            chain = min(m, default_mgr_chain_length(self.gamma_, float(self.mgr_c), K))
        self.cov_ = make_cov_estimator(cov, self.gamma_, m, float(self.mgr_c), chain,
                                       self.mgr_variant)
        self.P_ = simulator.transitions() if self.bonus == "exact_dp" else None
        self.H_, self.N_, self.A_ = H, N, A
        self.kernel_ = self.make_kernel()
        self.dims_ = np.array([A, 2], dtype=np.int64)
        self.action_space_ = action_space
        self.state_ = self.kernel_.init(self.dims_, self.kernel_.hparams, self.rng_)
        self.t_ = 0

    def make_kernel(self) -> AgentKernel:
        """The episode kernels with this agent's :class:`POHparams` (after :meth:`reset`)."""
        hparams = POHparams(
            phi=self.phi_,
            P=self.P_ if self.P_ is not None else np.zeros((1, 1, 1, 1)),
            eta=self.eta_, gamma=self.gamma_, beta=self.beta_, lower=float(self._lower()),
            policy_kind=POLICY_CODES[self._policy_kind()],
            cov_kind=COV_CODES[self.cov_.kind], mgr_c=float(self.cov_.mgr_c),
            n_chains=int(self.cov_.n_chains), symmetrise=self.cov_.variant == "single_chain",
            n_cov_draws=self.cov_.trajectories_per_call(),
            bonus_kind=BONUS_CODES[self.bonus], n_bonus=int(self.n_bonus_samples),
            clip=bool(self.clip_bonus_norms),
        )
        return AgentKernel(hparams, po_init, po_select, po_update, begin_episode=po_begin_episode,
                           end_episode=po_end_episode, policy=po_policy)

    # views of the kernel state
    C_ = property(lambda self: self.state_.C, doc="float64[H, N, A] cumulative adjusted losses.")
    pi_ = property(lambda self: self.state_.pi, doc="float64[H, N, A] current policy.")
    sig_inv_ = property(lambda self: self.state_.sig_inv,
                        doc="float64[H, d, d] current covariance estimate.")
    bonus_ = property(lambda self: self.state_.bonus, doc="float64[H, N, A] dilated bonus.")
    episodes_ = property(lambda self: int(self.state_.flags[1]), doc="Episodes learned from.")
    need_policy_ = property(lambda self: bool(self.state_.flags[0]),
                            doc="Whether the next episode's policy is still to be computed.")

    def _begin_episode(self) -> None:
        """Run :func:`po_begin_episode` when the episode's policy is still to be computed."""
        if not self.state_.flags[0]:  # the kernel's own test, read without a compiled call
            return
        sim = self.simulator_
        if sim.rng_ is None:
            raise BanditlabError("simulator: the env has not been reset; call env.reset(seed=...)")
        po_begin_episode(self.state_, self.kernel_.hparams, sim.handle_, sim.rng_, self.rng_)

    def _dilate_sampled(self, pi: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Monte-Carlo backward pass (:func:`dilate_bonus_sampled_into`) for given ``pi``, ``b``."""
        H, N, A = b.shape
        m = int(self.n_bonus_samples)
        cumpi = np.cumsum(pi, axis=-1)
        cumpi[..., -1] = 1.0
        B = np.empty((H, N, A))
        dilate_bonus_sampled_into(B, np.ascontiguousarray(b, dtype=np.float64),
                                  np.ascontiguousarray(pi, dtype=np.float64), cumpi,
                                  self.simulator_.handle_, self.simulator_.rng_,
                                  np.empty((N * A, m, H, 2), np.int64), self.state_.starts,
                                  np.empty(N))
        return B

    def policy_table(self) -> np.ndarray:
        """float64[H, N, A], the policy ``pi_k`` of the current episode (copy)."""
        if not hasattr(self, "state_"):
            raise BanditlabError("policy_table: call reset() first")
        self._begin_episode()
        return po_policy(self.state_, self.kernel_.hparams).copy()

    def act(self, observation):
        """Draw ``a ~ pi_k(.|s)`` for the observed layer and state (:func:`po_select`)."""
        self._begin_episode()
        a = generator_caller(po_select)(
            self.state_, self.kernel_.hparams, kernel_obs(observation), self.t_ + 1, self.rng_)
        return int(a)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Record the step; at the end of the episode estimate ``Qhat`` and update ``C``."""
        po_update(self.state_, self.kernel_.hparams, kernel_obs(observation), np.int64(action),
                  float(reward), kernel_obs(next_observation))
        self.t_ += 1
        if terminated:  # an episode played without act() teaches nothing (kernel no-op)
            generator_caller(po_end_episode)(self.state_, self.kernel_.hparams, self.rng_)

    def diagnostics(self) -> dict[str, float]:
        """``{"episodes": ...}`` (cumulative)."""
        return {"episodes": float(self.episodes_ if hasattr(self, "state_") else 0)}


def default_cov_samples(n_cov_samples, d: int, H: int, K: int, gamma: float) -> int:
    """Trajectory budget per covariance estimate: ``n_cov_samples``, or the default.

    The default ``ceil(4 ln(d H K) / gamma^2)`` capped at 4096 (for speed) is ours [I].
    """
    if n_cov_samples is not None:
        return int(n_cov_samples)
    return int(min(4096, math.ceil(4 * math.log(max(d * H * K, 2)) / gamma**2)))


_COMMON_DOC = """
    Args:
        c_eta: Multiplier of the learning-rate scaling (tune it; the scaling itself
            is given per agent below).
        c_beta: Multiplier of the bonus scale ``beta = c_beta * sqrt(gamma)``.
        eta, gamma, beta: Explicit values overriding the scalings (None: use them).
        n_episodes: K used by the scalings (None: the simulator's ``n_episodes``;
            experiment files bind ``"@run_length"``).
        cov_estimator: ``"mgr"`` (default: Matrix Geometric Resampling, as the papers),
            ``"direct"`` (inverse of the regularised empirical covariance) or ``"exact"``
            (exact occupancy; needs ``simulator_mode="exact"``).
        n_cov_samples: Simulator trajectories per episode for ``direct``/``mgr`` (None:
            ``ceil(4 ln(dHK)/gamma^2)`` capped at 4096 [I]).
        mgr_c: MGR step (``0 < c <= 1/2``).
        mgr_chain_length: MGR chain length ``N`` (None:
            ``min(n_cov_samples, ceil(ln(K/gamma)/(c gamma)))`` [I]); MGR averages
            ``n_cov_samples // N`` independent chains.
        mgr_variant: ``"chains"`` (default, Luo et al.'s independent chains) or
            ``"single_chain"`` (one symmetrised chain over the budget; banditlab's
            earlier estimator).
        bonus: ``"sampled_dp"`` (default: one Monte-Carlo backward pass with
            ``n_bonus_samples`` simulator draws per pair) or ``"exact_dp"`` (exact
            transitions; needs ``simulator_mode="exact"``).
        clip_bonus_norms: Floor the quadratic forms ``||phi||^2_{Sigma^dagger}`` of the
            bonus at 0 (default False: used as they are, see :func:`immediate_bonus`).
        n_bonus_samples: Start-pair draws per (h, s, a) for ``"sampled_dp"``.
        features: Optional float64[H, N, A, d] (``"@known:features"``); None reads
            ``simulator.features()``. Norms must be <= 1.
"""

_COMMON_DEVIATIONS = """
    Deviations:
        Dilated bonus: Luo et al. (2021) estimate ``B_k(s, a)`` by recursive simulator
        sampling (memoised, polynomial in K per call). Here ``B_k`` comes from one
        backward pass over the enumerated states: ``bonus="sampled_dp"`` estimates each
        ``E_{s'}[.]`` from ``n_bonus_samples`` start-pair draws, ``bonus="exact_dp"``
        (tag "exact bonus") uses the exact transitions. The recursion is not
        implemented, so its effect is not measured; the sampled pass matches the exact
        DP within Monte-Carlo error (``pytest tests/test_advmdp_agents.py -k
        sampled_dilated``). Opt-in options shown as tags: ``cov_estimator="exact"`` or
        ``"direct"`` (exact occupancy, or the inverse of the empirical covariance, in
        place of MGR), ``mgr_variant="single_chain"`` (banditlab's earlier estimator: one
        symmetrised chain over the whole budget; at a budget of 4096 draws its relative
        spread is 0.23 against 0.055 for 19 chains at gamma = 0.1 and 0.29 against 0.13
        at 0.03, biases within Monte-Carlo error [M], ``python
        benchmarks/bench_advmdp.py --mgr``), ``clip_bonus_norms=True``.
"""


class DilatedBonusPO(_LinearQPolicyOptimisation):
    """A0: Luo, Wei & Lee (2021) policy optimisation with dilated bonus (exp weights).

    ``pi_k(.|s) ∝ exp(-eta C_k(s, .))``; scalings ``eta = c_eta K^{-2/3}``, ``gamma = H eta``
    (keeps ``eta Qhat >= -1``), ``beta = c_beta sqrt(gamma)`` [I]. Covariance by MGR with
    independent chains, as in the paper.
    """

    __doc__ += _COMMON_DOC + _COMMON_DEVIATIONS
    display_name: ClassVar[str] = "Dilated-Bonus PO"
    deviation: ClassVar[str | None] = "backward-pass bonus"

    def __init__(
        self,
        c_eta: float = 3.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "mgr",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        mgr_chain_length: int | None = None,
        mgr_variant: str = "chains",
        bonus: str = "sampled_dp",
        clip_bonus_norms: bool = False,
        n_bonus_samples: int = 8,
        features=None,
    ):
        self.c_eta = c_eta
        self.c_beta = c_beta
        self.eta = eta
        self.gamma = gamma
        self.beta = beta
        self.n_episodes = n_episodes
        self.cov_estimator = cov_estimator
        self.n_cov_samples = n_cov_samples
        self.mgr_c = mgr_c
        self.mgr_chain_length = mgr_chain_length
        self.mgr_variant = mgr_variant
        self.bonus = bonus
        self.clip_bonus_norms = clip_bonus_norms
        self.n_bonus_samples = n_bonus_samples
        self.features = features

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * K ** (-2.0 / 3.0)
        gamma = min(1.0, H * eta)
        return eta, gamma, self.c_beta * math.sqrt(gamma)

    def _policy_kind(self):
        return "expweights"


class LogBarrierPO(_LinearQPolicyOptimisation):
    """A1: Dai, Luo, Wei & Zimmert (2023) Algorithm 1, log-barrier FTRL.

    ``pi_k(.|s) = argmin_p <p, C_k(s, .)> + (1/eta) sum_a ln(1/p_a)``, solved in closed
    form up to one scalar (:func:`logbarrier_weights`). Scalings [I]:
    ``eta = c_eta sqrt(A ln K / (d H^3 K))``, ``gamma = 1/K``, ``beta = c_beta sqrt(gamma)``.
    The rest of the loop (MGR covariance, dilated bonus, estimator) is Luo et al.'s, as we
    recall Dai et al.'s Algorithm 1 [I].

    Extra Args:
        log_barrier_solver: ``"newton"`` (safeguarded) or ``"bisection"`` (60 steps).
    """

    __doc__ += _COMMON_DOC + _COMMON_DEVIATIONS
    display_name: ClassVar[str] = "Log-Barrier PO"
    deviation: ClassVar[str | None] = "backward-pass bonus"
    _parameter_constraints = {
        **_LinearQPolicyOptimisation._parameter_constraints,
        "log_barrier_solver": Options("newton", "bisection"),
    }

    def __init__(
        self,
        c_eta: float = 30.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "mgr",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        mgr_chain_length: int | None = None,
        mgr_variant: str = "chains",
        bonus: str = "sampled_dp",
        clip_bonus_norms: bool = False,
        n_bonus_samples: int = 8,
        features=None,
        log_barrier_solver: str = "newton",
    ):
        self.c_eta = c_eta
        self.c_beta = c_beta
        self.eta = eta
        self.gamma = gamma
        self.beta = beta
        self.n_episodes = n_episodes
        self.cov_estimator = cov_estimator
        self.n_cov_samples = n_cov_samples
        self.mgr_c = mgr_c
        self.mgr_chain_length = mgr_chain_length
        self.mgr_variant = mgr_variant
        self.bonus = bonus
        self.clip_bonus_norms = clip_bonus_norms
        self.n_bonus_samples = n_bonus_samples
        self.features = features
        self.log_barrier_solver = log_barrier_solver

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(A * math.log(max(K, 2)) / (d * H**3 * K))
        gamma = 1.0 / K
        return eta, gamma, self.c_beta * math.sqrt(gamma)

    def _policy_kind(self):
        return self.log_barrier_solver


class MagnitudeReducedPO(DilatedBonusPO):
    """"A2-candidate": exp weights with the estimate truncated from below [I].

    NOT Dai et al.'s Algorithm 2 (whose magnitude-reduced estimator we have not
    checked): a placeholder of our own, ``Qtilde = max(Qhat, -trunc_c/eta)``, which
    restores ``eta Qtilde >= -1`` without a large ``gamma``. Scalings [I]:
    ``eta = c_eta sqrt(ln A / (d H^3 K))``, ``gamma = 1/K``, ``beta = c_beta sqrt(gamma)``.
    A bonus floor ``beta = max(c_beta sqrt(gamma), eta H^2)`` [I] (meant to absorb the
    truncation bias) is available with ``beta_floor=True`` (tag "bonus floor"); it is off
    by default because on ``AdvLinearQMDP-v0`` (iid_mix, p_mix=0.8, K=2048, exact
    simulator, 2 seeds) the floor made the agent no better than uniform (pseudo-regret
    337-434 vs uniform 433 for c_eta in {3, 10, 30}) while without it c_eta=30 reached 127
    [M] (a one-off tuning run, not kept in the repository). Its label says
    "A2-candidate" in every plot.

    Extra Args:
        trunc_c: Truncation constant ``c`` (> 0).
        beta_floor: Use the bonus floor ``beta >= eta H^2``.
    """

    __doc__ += _COMMON_DOC + _COMMON_DEVIATIONS.replace(
        "Dilated bonus: Luo et al.", "The loop is A0's (:class:`DilatedBonusPO`). Dilated "
        "bonus: Luo et al.", 1) + """        ``beta_floor=True`` adds the tag "bonus floor".
"""
    display_name: ClassVar[str] = "A2-candidate PO"
    deviation: ClassVar[str | None] = None
    _parameter_constraints = {
        **_LinearQPolicyOptimisation._parameter_constraints,
        "trunc_c": _POSITIVE,
        "beta_floor": Boolean(),
    }

    def __init__(
        self,
        c_eta: float = 30.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "mgr",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        mgr_chain_length: int | None = None,
        mgr_variant: str = "chains",
        bonus: str = "sampled_dp",
        clip_bonus_norms: bool = False,
        n_bonus_samples: int = 8,
        features=None,
        trunc_c: float = 0.5,
        beta_floor: bool = False,
    ):
        super().__init__(
            c_eta, c_beta, eta, gamma, beta, n_episodes, cov_estimator, n_cov_samples, mgr_c,
            mgr_chain_length, mgr_variant, bonus, clip_bonus_norms, n_bonus_samples, features,
        )
        self.trunc_c = trunc_c
        self.beta_floor = beta_floor

    def variant_tags(self) -> tuple[str, ...]:
        """The shared tags, then ``"bonus floor"`` when ``beta_floor=True``."""
        return learner_variant_tags(self) + (("bonus floor",) if self.beta_floor is True else ())

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(max(math.log(A), math.log(2)) / (d * H**3 * K))
        gamma = 1.0 / K
        beta = self.c_beta * math.sqrt(gamma)
        return eta, gamma, max(beta, eta * H**2) if self.beta_floor else beta

    def _lower(self) -> float:
        return -float(self.trunc_c) / self.eta_


class TabularExp3PO(DilatedBonusPO):
    """Tabular per-state Exp3 policy optimisation (baseline of ours) on one-hot features.

    Ignores the env's features and uses one-hot features of dimension ``N * A``,
    so ``Sigma_h = diag(q_h)`` and the estimator is the implicit-exploration
    importance-weighted ``L_h 1[(s_h, a_h) = (s, a)] / (gamma + q_h(s, a))`` with the
    exact (``cov_estimator="exact"``) or estimated occupancy. Scalings [I]:
    ``eta = c_eta sqrt(ln A / (d H^3 K))`` with ``d = N A``, ``gamma = eta`` (implicit
    exploration), ``beta = c_beta sqrt(gamma)``.
    """

    __doc__ += _COMMON_DOC + _COMMON_DEVIATIONS.replace(
        "Dilated bonus: Luo et al.", "The loop is A0's (:class:`DilatedBonusPO`). Dilated "
        "bonus: Luo et al.", 1)
    display_name: ClassVar[str] = "Tabular Exp3 PO"
    deviation: ClassVar[str | None] = None
    _tabular = True

    def __init__(
        self,
        c_eta: float = 10.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "mgr",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        mgr_chain_length: int | None = None,
        mgr_variant: str = "chains",
        bonus: str = "sampled_dp",
        clip_bonus_norms: bool = False,
        n_bonus_samples: int = 8,
        features=None,
    ):
        super().__init__(
            c_eta, c_beta, eta, gamma, beta, n_episodes, cov_estimator, n_cov_samples, mgr_c,
            mgr_chain_length, mgr_variant, bonus, clip_bonus_norms, n_bonus_samples, features,
        )

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(max(math.log(A), math.log(2)) / (d * H**3 * K))
        gamma = min(1.0, eta)
        return eta, gamma, self.c_beta * math.sqrt(gamma)
