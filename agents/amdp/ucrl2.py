"""UCRL2 (Jaksch, Ortner & Auer, JMLR 2010) and the shared tabular optimistic kernel.

Kernels on top, class below. The same kernel serves every tabular optimistic agent
of the family: UCRL2 (L1 balls), KL-UCRL and UCRL2-B
(:mod:`banditlab.agents.amdp.evi_agents`), PMEVI-DT (the same, plus mitigation and
a bias region) and banditlab's LOOP-Tab instantiation
(:class:`banditlab.agents.amdp.loop.LOOPTab`: a finite span bound and an optional
stricter switch test).

Confidence regions (``N = max(1, n(s, a))``, ``t_k`` the episode start):

* ``"joa"`` (JMLR paper): reward ``sqrt(7 ln(2 S A t_k / delta) / (2 N))``,
  transitions (L1) ``sqrt(14 S ln(2 A t_k / delta) / N)``.
* ``"joa_sa"``: as ``"joa"`` with ``ln(2 S A t_k / delta)`` in the transition
  radius (rlberry's variant).
* ``"laplace"`` (UCRL2-L: UCRL2 with Laplace-method, peeling-free radii, as in
  Bourel, Maillard & Talebi, "Tightening Exploration in Upper Confidence
  Reinforcement Learning", ICML 2020; the constants below are our reconstruction,
  not transcribed from the paper or its reference code [I]): with
  ``delta' = delta / (2 S A)``, transitions
  ``sqrt(2 (1 + 1/N) ln(sqrt(N + 1) (2^S - 2) / delta') / N)``, reward
  ``sqrt((1 + 1/N) ln(2 sqrt(N + 1) / delta') / (2 N))``.
* ``"weissman"`` (PMEVI-DT's region; constants ours [I]): with
  ``l = ln(3 S A t_k / delta)``, transitions ``sqrt(2 (ln(2^S - 2) + l) / N)`` (the
  L1 deviation inequality of Weissman et al. 2003 with a union bound), reward
  ``sqrt(l / (2 N))``.
* ``"kl"`` (KL-UCRL, Filippi, Cappe & Garivier 2010): ``KL(phat || p) <= C_P / N``
  with ``C_P = S (B + ln(B + 1 / ln t_k) (1 + 1 / (B + 1 / ln t_k)))``,
  ``B = ln(2 e S^2 A ln t_k / delta)``; reward ``sqrt(ln(4 S A ln t_k / delta) / 1.99)
  / sqrt(N)`` (``ln t_k`` read as ``ln max(2, t_k)``; the constants of the KL-UCRL
  reference implementation in Bourel's ``statisticalRL-learners``).
* ``"bernstein"`` (UCRL2-B): per-entry empirical-Bernstein boxes, see
  :func:`bernstein_bounds`.

Unvisited pairs get the vacuous sets (reward 1, every next-state law). Episodes end
by the stopping rule of Jaksch et al. (2010, Fig. 1): before round ``t``, when the
pair ``(s_t, pi_k(s_t))`` about to be played has been played ``max(1, N_k(s, a))``
times in the episode (optionally also when the optimistic model of the pair just
played leaves the confidence set with doubled radii). EVI stops at accuracy
``1 / sqrt(t_k)`` and uses the aperiodicity transform (damping ``1/2``), which
leaves the optimal gain and policies of the extended MDP unchanged. The switch
counter counts policy computations, including the first one.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.amdp.planning import (
    ARGSORT_STACK,
    REGION_BOX,
    REGION_KL,
    REGION_L1,
    extended_value_iteration_into,
)
from banditlab.validation import (
    Interval,
    Options,
    require_discrete_actions,
    require_discrete_observations,
)

RADIUS_CODES = {"joa": 0, "joa_sa": 1, "laplace": 2, "weissman": 3, "kl": 4, "bernstein": 5}
"""Confidence-region names and their kernel codes (codes 0-3: L1 balls; 4: KL; 5: boxes)."""
L1_RADII = ("joa", "joa_sa", "laplace", "weissman")
"""The L1-ball regions (the ones UCRL2 and LOOP-Tab accept)."""
RADIUS_TAGS = {"joa": (), "joa_sa": ("S A log radii",), "laplace": ("Laplace radii",),
               "weissman": ("Weissman radii",)}
"""Label tags of the L1 radii of UCRL2 (the JMLR radii are UCRL2's own: no tag)."""
SWITCH_CODES = {"doubling": 0, "doubling+model_exit": 1}
"""Switch rules and their kernel codes."""


class OptimisticTabularHparams(NamedTuple):
    """Kernel hyperparameters of the tabular optimistic agents (UCRL2, KL-UCRL, UCRL2-B, ...).

    Attributes:
        n_states: int64, S.
        delta: float64, confidence level in (0, 1).
        radius_code: int64, :data:`RADIUS_CODES` value of the confidence region.
        span_bound: float64, span bound ``B`` of EVI (``inf``: no clipping, UCRL2).
        switch_code: int64, :data:`SWITCH_CODES` value of the episode-end rule.
        evi_max_iter: int64, cap on EVI sweeps per episode.
        tau: float64, EVI damping (aperiodicity transform) in (0, 1].
        mitigate: int64, 1 to cap the optimism by the variance bound ``beta`` (PMEVI).
        bias_estimation: int64, 1 to build the data-driven bias region (PMEVI-DT).
    """

    n_states: np.int64
    delta: float
    radius_code: np.int64
    span_bound: float
    switch_code: np.int64
    evi_max_iter: np.int64
    tau: float
    mitigate: np.int64
    bias_estimation: np.int64


class OptimisticTabularState(NamedTuple):
    """State of the tabular optimistic agents (updated in place).

    Attributes:
        counts: float64[S, A], visits n(s, a).
        trans: float64[S, A, S], transition counts.
        rsum: float64[S, A], summed rewards.
        r2sum: float64[S, A], summed squared rewards.
        counts_k: float64[S, A], visits at the start of the current episode.
        nu: float64[S, A], visits within the current episode.
        phat: float64[S, A, S], scratch: empirical transitions.
        rtil: float64[S, A], optimistic rewards of the current policy's model.
        prad: float64[S, A], L1 (or KL) radii of the current confidence set.
        plo: float64[S, A, S], lower transition bounds (Bernstein boxes).
        pup: float64[S, A, S], upper transition bounds (Bernstein boxes).
        beta: float64[S, A], mitigation caps (``inf``: none).
        ubias: float64[S, S], closed pairwise bounds ``u(z) - u(x) <= ubias[x, z]`` of
            the bias region (``inf``: none).
        ptil: float64[S, A, S], optimistic transitions of the current model.
        u: float64[S], EVI values (warm start).
        policy: int64[S], the current policy.
        switches: int64[1], policy computations so far.
        need_plan: int64[1], 1 when the next ``select`` must recompute the policy.
        t: int64[1], updates so far.
        gain: float64[1], optimistic gain of the current model.
        clips: int64[1], plans whose last EVI sweep was changed by the span
            truncation or the bias projection.
        seg_sum: float64[S, S], bias estimation: summed ``gain - reward`` over the
            completed passages from ``x`` to ``z``.
        seg_len: float64[S, S], summed lengths of those passages.
        seg_n: float64[S, S], number of those passages.
        pend_t: float64[S, S], start round of the pending passage (-1: none).
        pend_x: float64[S, S], ``cum`` at the start of the pending passage.
        cum: float64[1], ``sum_i (gain_i - r_i)`` over the rounds played.
        bias_bound: float64[1], the span bound ``B`` of the last plan's bias region.
        evi_w: float64[S], EVI scratch: the values of a sweep.
        evi_buf: float64[S], EVI scratch: the maximising transition of one pair.
        evi_pbuf: float64[S], EVI scratch of the bias projection.
        evi_order: int64[S], EVI scratch: states by decreasing value.
        evi_stack: int64[ARGSORT_STACK], EVI scratch of the sort.
        last: int64[2], the pair ``(s, a)`` of the last update (for the model-exit test).
    """

    counts: np.ndarray
    trans: np.ndarray
    rsum: np.ndarray
    r2sum: np.ndarray
    counts_k: np.ndarray
    nu: np.ndarray
    phat: np.ndarray
    rtil: np.ndarray
    prad: np.ndarray
    plo: np.ndarray
    pup: np.ndarray
    beta: np.ndarray
    ubias: np.ndarray
    ptil: np.ndarray
    u: np.ndarray
    policy: np.ndarray
    switches: np.ndarray
    need_plan: np.ndarray
    t: np.ndarray
    gain: np.ndarray
    clips: np.ndarray
    seg_sum: np.ndarray
    seg_len: np.ndarray
    seg_n: np.ndarray
    pend_t: np.ndarray
    pend_x: np.ndarray
    cum: np.ndarray
    bias_bound: np.ndarray
    evi_w: np.ndarray
    evi_buf: np.ndarray
    evi_pbuf: np.ndarray
    evi_order: np.ndarray
    evi_stack: np.ndarray
    last: np.ndarray


@njit(cache=True)
def _log_2s(S):
    """``ln(2^S - 2)`` (0 for S < 2)."""
    if S < 2:
        return 0.0
    return S * math.log(2.0) + math.log(max(1.0 - math.ldexp(1.0, 1 - S), 1e-300))


@njit(cache=True)
def confidence_radii(n, S, A, tk, delta, code):
    """``(reward_radius, transition_radius)`` for ``n`` visits (see module docstring).

    The transition radius is an L1 radius (codes 0-3, at most 2) or a KL radius (code
    4). Unvisited pairs get the vacuous radii (reward 1, L1 radius 2, KL radius
    ``inf``). Code 5 (Bernstein boxes) is handled by :func:`bernstein_bounds`.
    """
    if n < 1.0:
        return 1.0, (np.inf if code == 4 else 2.0)
    if code == 2:
        dp = delta / (2.0 * S * A)
        lg = 0.5 * math.log(n + 1.0) + _log_2s(S) - math.log(dp)
        pr = math.sqrt(2.0 * (1.0 + 1.0 / n) * lg / n)
        rr = math.sqrt((1.0 + 1.0 / n) * math.log(2.0 * math.sqrt(n + 1.0) / dp) / (2.0 * n))
    elif code == 3:
        lg = math.log(3.0 * S * A * tk / delta)
        pr = math.sqrt(2.0 * (_log_2s(S) + lg) / n)
        rr = math.sqrt(lg / (2.0 * n))
    elif code == 4:
        llt = math.log(max(2.0, tk))
        b = math.log(2.0 * math.e * S * S * A * llt / delta)
        cp = S * (b + math.log(b + 1.0 / llt) * (1.0 + 1.0 / (b + 1.0 / llt)))
        cr = math.sqrt(math.log(4.0 * S * A * llt / delta) / 1.99)
        return cr / math.sqrt(n), cp / n
    else:
        rr = math.sqrt(7.0 * math.log(2.0 * S * A * tk / delta) / (2.0 * n))
        inner = 2.0 * A * tk / delta if code == 0 else 2.0 * S * A * tk / delta
        pr = math.sqrt(14.0 * S * math.log(inner) / n)
    return rr, min(pr, 2.0)


@njit(cache=True)
def bernstein_bounds(state, s, a, S, A, delta):
    """Fill ``plo``/``pup`` of ``(s, a)`` and return its optimistic reward (UCRL2-B).

    With ``n = max(1, N)`` and ``l = ln(18 S A n / delta)``: transitions
    ``phat(s') -+ (2 sqrt(phat (1 - phat) l / n) + 6 l / n)`` clipped to [0, 1],
    reward ``rhat + 2 sqrt(vhat l / n) + 6 l / n`` capped at 1 (``vhat`` the
    empirical reward variance). Unvisited pairs: ``[0, 1]`` boxes and reward 1.
    """
    n = state.counts[s, a]
    if n < 1.0:
        for j in range(S):
            state.plo[s, a, j] = 0.0
            state.pup[s, a, j] = 1.0
        return 1.0
    ll = math.log(18.0 * S * A * n / delta)
    for j in range(S):
        p = state.trans[s, a, j] / n
        w = 2.0 * math.sqrt(p * (1.0 - p) * ll / n) + 6.0 * ll / n
        state.plo[s, a, j] = max(0.0, p - w)
        state.pup[s, a, j] = min(1.0, p + w)
    rhat = state.rsum[s, a] / n
    var = max(0.0, state.r2sum[s, a] / n - rhat * rhat)
    return min(1.0, rhat + 2.0 * math.sqrt(var * ll / n) + 6.0 * ll / n)


@njit(cache=True)
def optimistic_init(dims, hparams, rng):
    """Empty statistics for ``hparams.n_states`` states and ``dims[0]`` actions."""
    S = hparams.n_states
    A = dims[0]
    return OptimisticTabularState(
        np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((S, A)),
        np.zeros((S, A)), np.zeros((S, A)), np.zeros((S, A, S)), np.ones((S, A)),
        np.full((S, A), 2.0), np.zeros((S, A, S)), np.ones((S, A, S)),
        np.full((S, A), np.inf), np.full((S, S), np.inf), np.zeros((S, A, S)), np.zeros(S),
        np.zeros(S, np.int64), np.zeros(1, np.int64), np.ones(1, np.int64),
        np.zeros(1, np.int64), np.zeros(1), np.zeros(1, np.int64), np.zeros((S, S)),
        np.zeros((S, S)), np.zeros((S, S)), np.full((S, S), -1.0), np.zeros((S, S)),
        np.zeros(1), np.full(1, np.inf), np.zeros(S), np.zeros(S), np.zeros(S),
        np.zeros(S, np.int64), np.zeros(ARGSORT_STACK, np.int64), np.zeros(2, np.int64),
    )


@njit(cache=True)
def _closure(mat):
    """Shortest-path closure of ``mat`` in place (Floyd-Warshall); ``True`` if no negative cycle."""
    S = mat.shape[0]
    for k in range(S):
        for i in range(S):
            mik = mat[i, k]
            if mik == np.inf:
                continue
            for j in range(S):
                v = mik + mat[k, j]
                if v < mat[i, j]:
                    mat[i, j] = v
    for i in range(S):
        if mat[i, i] < -1e-9:
            return False
    return True


@njit(cache=True)
def _pair_bounds(state, ln_term, width_bound, cap, out):
    """Closed pairwise bounds ``min(m + (1 + width_bound) w, cap)`` into ``out``.

    ``m[x, z]`` is the mean of ``sum (gain - reward)`` over the passages from ``x``
    to ``z`` and ``w[x, z] = sqrt(2 len ln_term) / n``. Returns the largest closed
    bound off the diagonal (``inf`` if some pair is unbounded) and ``-inf`` when the
    bounds contain a negative cycle.
    """
    S = out.shape[0]
    for x in range(S):
        for z in range(S):
            if x == z:
                out[x, z] = 0.0
                continue
            v = np.inf
            n = state.seg_n[x, z]
            if n > 0.0:
                v = (state.seg_sum[x, z]
                     + (1.0 + width_bound) * math.sqrt(2.0 * state.seg_len[x, z] * ln_term)) / n
            out[x, z] = min(v, cap)
    if not _closure(out):
        return -np.inf
    worst = 0.0
    for x in range(S):
        for z in range(S):
            if x != z:
                worst = max(worst, out[x, z])
    return worst


BIAS_SPAN_CEILING = 1e6
"""A priori ceiling on ``sp(h*)`` from which PMEVI-DT's span estimate descends [I]."""


@njit(cache=True)
def bias_region(state, hparams, t):
    """The bias region of PMEVI-DT: closed pairwise bounds into ``state.ubias`` [I].

    For any passage from ``x`` to ``z`` (history-dependent actions), the optimality
    equation gives ``h*(z) - h*(x) <= sum (g* - r_i) + martingale terms``; averaged
    over the ``n`` completed passages (total length ``L``) and with ``g*`` replaced by
    the optimistic gains of the episodes (``>= g*`` on the good event):
    ``h*(z) - h*(x) <= (seg_sum + (1 + B) sqrt(2 L ln(2 S^2 t / delta))) / n`` for any
    ``B >= sp(h*)``. With ``f(B)`` the largest closed bound under width ``B`` (capped at
    the prior ``span_bound``), ``f`` is non-decreasing and ``sp(h*) <= f(sp(h*))``, so
    the iterates ``B_{j+1} = f(B_j)`` from ``B_0 = 1e6`` (when ``f(B_0) < B_0``) stay
    above ``sp(h*)`` and decrease to the largest fixed point: ``B = min(prior, B_j)``
    bounds ``sp(h*)`` on the same event. Inconsistent bounds (a negative cycle) are
    dropped for this episode.
    """
    S = hparams.n_states
    ln_term = math.log(2.0 * S * S * t / hparams.delta)
    prior = hparams.span_bound
    bound = prior
    b = BIAS_SPAN_CEILING
    f = _pair_bounds(state, ln_term, b, prior, state.ubias)
    if f > -np.inf and f < b:
        for _ in range(200):
            b_new = f
            if b_new >= b - 1e-9 * max(1.0, b):
                b = b_new
                break
            b = b_new
            f = _pair_bounds(state, ln_term, b, prior, state.ubias)
            if f == -np.inf:
                b = np.inf
                break
        bound = min(prior, b)
    worst = _pair_bounds(state, ln_term, bound, bound, state.ubias)
    if worst == -np.inf:
        bound = prior
        for x in range(S):
            for z in range(S):
                state.ubias[x, z] = 0.0 if x == z else prior
    state.bias_bound[0] = bound


@njit(cache=True)
def mitigation(state, hparams, t):
    """Variance caps ``beta(s, a)`` of PMEVI's mitigated operator [I].

    Empirical Bernstein (Maurer & Pontil 2009) for ``(p - phat) . h*`` with
    ``sp(h*) <= B`` (``B = state.bias_bound``): ``sqrt(2 V l / n) + 7 B l / (3 (n - 1))``
    with ``l = ln(3 S A t / delta)`` and ``V`` a tractable upper bound of
    ``max_{h in region} Var_phat(h)``: ``min_{y0} sum_y phat(y) d(y0, y)^2`` over
    states ``y0`` in the support, ``d(y0, y) = max(ubias[y0, y], ubias[y, y0])``.
    Pairs with fewer than two visits, or an unbounded region, get no cap.
    """
    S = hparams.n_states
    A = state.counts.shape[1]
    B = state.bias_bound[0]
    ll = math.log(3.0 * S * A * t / hparams.delta)
    for s in range(S):
        for a in range(A):
            n = state.counts[s, a]
            state.beta[s, a] = np.inf
            if n < 2.0 or B == np.inf:
                continue
            vbest = np.inf
            for y0 in range(S):
                if state.phat[s, a, y0] <= 0.0:
                    continue
                v = 0.0
                for y in range(S):
                    p = state.phat[s, a, y]
                    if p > 0.0 and y != y0:
                        d = max(state.ubias[y0, y], state.ubias[y, y0])
                        v += p * d * d
                vbest = min(vbest, v)
            if vbest < np.inf:
                state.beta[s, a] = (math.sqrt(2.0 * vbest * ll / n)
                                    + 7.0 * B * ll / (3.0 * (n - 1.0)))


@njit(cache=True)
def optimistic_plan(state, hparams, t):
    """Start an episode at round ``t``: confidence set, (projected, mitigated) EVI, new policy.

    Args:
        state: :class:`OptimisticTabularState`.
        hparams: :class:`OptimisticTabularHparams`.
        t: Current round (from 1).
    """
    S = hparams.n_states
    delta = hparams.delta
    code = hparams.radius_code
    A = state.counts.shape[1]
    for s in range(S):
        for a in range(A):
            n = state.counts[s, a]
            state.counts_k[s, a] = n
            state.nu[s, a] = 0.0
            for s2 in range(S):
                state.phat[s, a, s2] = state.trans[s, a, s2] / n if n > 0 else 0.0
            if code == 5:
                state.rtil[s, a] = bernstein_bounds(state, s, a, S, A, delta)
                continue
            rr, pr = confidence_radii(n, S, A, float(t), delta, code)
            state.prad[s, a] = pr
            state.rtil[s, a] = min(1.0, state.rsum[s, a] / n + rr) if n > 0 else 1.0
    project = False
    if hparams.bias_estimation != 0:
        bias_region(state, hparams, t)
        project = True
    elif np.isfinite(hparams.span_bound):
        for x in range(S):
            for z in range(S):
                state.ubias[x, z] = 0.0 if x == z else hparams.span_bound
        state.bias_bound[0] = hparams.span_bound
        project = True
    if hparams.mitigate != 0:
        mitigation(state, hparams, t)
    region = REGION_KL if code == 4 else (REGION_BOX if code == 5 else REGION_L1)
    gain, _, lowered = extended_value_iteration_into(
        state.phat, state.rtil, state.prad, state.plo, state.pup, state.beta, state.ubias,
        state.u, 1.0 / math.sqrt(t), hparams.tau, hparams.evi_max_iter, region,
        hparams.mitigate != 0, project, state.ptil, state.policy, state.evi_w, state.evi_buf,
        state.evi_pbuf, state.evi_order, state.evi_stack)
    state.gain[0] = gain
    if lowered > 0:
        state.clips[0] += 1
    state.switches[0] += 1
    state.need_plan[0] = 0


@njit(cache=True)
def _record_passages(state, x):
    """Arrival in state ``x``: close the pending passages ``y -> x``, open ``x -> z``."""
    S = state.pend_t.shape[0]
    now = float(state.t[0])
    cum = state.cum[0]
    for y in range(S):
        if y != x and state.pend_t[y, x] >= 0.0:
            state.seg_sum[y, x] += cum - state.pend_x[y, x]
            state.seg_len[y, x] += now - state.pend_t[y, x]
            state.seg_n[y, x] += 1.0
            state.pend_t[y, x] = -1.0
    for z in range(S):
        if z != x and state.pend_t[x, z] < 0.0:
            state.pend_t[x, z] = now
            state.pend_x[x, z] = cum


@njit(cache=True)
def _model_exit(state, hparams, s, a):
    """LOOP-Tab's model-exit test after an update of ``(s, a)``: request a plan when it fails.

    Stricter LOOP-style test [I]: refit when the optimistic model of ``(s, a)`` no longer
    fits the data, i.e. leaves the confidence set with doubled radii (EVI's model sits on
    the boundary of the set, so the undoubled test would fire at almost every step).
    """
    S = hparams.n_states
    A = state.counts.shape[1]
    n = state.counts[s, a]
    rr, pr = confidence_radii(n, S, A, float(state.t[0] + 1), hparams.delta,
                              hparams.radius_code)
    dist = 0.0
    for j in range(S):
        dist += abs(state.ptil[s, a, j] - state.trans[s, a, j] / n)
    rhat = state.rsum[s, a] / n
    if dist > 2.0 * pr or state.rtil[s, a] > rhat + 2.0 * rr:
        state.need_plan[0] = 1


@njit(cache=True)
def _select_slow(state, hparams, s, t):
    """The rare part of :func:`optimistic_select`.

    PMEVI-DT's passages; the model-exit test of the pair just updated (LOOP-Tab's
    ``"doubling+model_exit"``, :func:`_model_exit`); then a plan if one is due.
    """
    if hparams.bias_estimation != 0:
        _record_passages(state, s)
    if hparams.switch_code == 1 and state.need_plan[0] == 0 and state.t[0] > 0:
        _model_exit(state, hparams, state.last[0], state.last[1])
    a = state.policy[s]
    # (after a plan nu = 0, so a requested plan is never followed by a second one)
    if state.need_plan[0] != 0 or state.nu[s, a] >= max(1.0, state.counts_k[s, a]):
        optimistic_plan(state, hparams, t)
    return state.policy[s]


@njit(cache=True)
def optimistic_select(state, hparams, obs, t, rng):
    """Play the current policy; start an episode first when the pair about to be played is full.

    The stopping rule of Jaksch et al. (2010, Fig. 1): the episode ends before round
    ``t`` when the pair ``(s_t, pi_k(s_t))`` about to be played has
    ``nu_k(s, a) = max(1, N_k(s, a))`` (or, with ``"doubling+model_exit"``, when the
    optimistic model of the pair updated last left its set: :func:`_model_exit`). No
    draws.

    Written for the fused loop, which inlines this kernel: the common round reads three
    arrays and calls nothing; the rare part (:func:`_select_slow`: PMEVI-DT's passages,
    the model-exit test, the plan) is called inside ``try`` and ``state`` is used again
    after it. The error exit of a plain call, or ``state`` dying on several paths, keeps
    Numba from pruning the reference counting of every array of ``state`` around the
    inlined kernel at every round (UCRL2 on RiverSwim-6, fused loop: 4 M rounds/s with a
    plain call, 31 M with this form).
    """
    s = int(obs[0])
    a = state.policy[s]
    if (hparams.bias_estimation != 0 or hparams.switch_code == 1 or state.need_plan[0] != 0
            or state.nu[s, a] >= max(1.0, state.counts_k[s, a])):
        failed = False
        try:
            _select_slow(state, hparams, s, t)
        except Exception:
            failed = True
        if failed:
            raise RuntimeError("optimistic_select: planning failed")
    return np.int64(state.policy[s])


@njit(cache=True)
def optimistic_update(state, hparams, obs, action, reward, next_obs):
    """Count the transition; no draws, no calls.

    LOOP-Tab's model-exit test of this pair (``"doubling+model_exit"``) runs at the
    start of the next :func:`optimistic_select`, before anything else reads the
    statistics (same result as testing here; it keeps this kernel free of calls, for the
    reason given in :func:`optimistic_select`).
    """
    s = int(obs[0])
    s2 = int(next_obs[0])
    a = action
    state.counts[s, a] += 1.0
    state.trans[s, a, s2] += 1.0
    state.rsum[s, a] += reward
    state.r2sum[s, a] += reward * reward
    state.nu[s, a] += 1.0
    state.t[0] += 1
    state.cum[0] += state.gain[0] - reward
    state.last[0] = s
    state.last[1] = a


def resolve_n_states(n_states: int | None, action_space, observation_space) -> int:
    """The number of states: Discrete actions and states required, ``n_states`` must match.

    Args:
        n_states: A validated integer >= 1, or ``None`` to read it from the space.
        action_space: The env's action space (must be ``Discrete``).
        observation_space: The env's observation space (must be ``Discrete``).

    Raises:
        BanditlabError: Naming the space that is not ``Discrete``, or ``n_states`` when
            it differs from the observation space's size.
    """
    require_discrete_actions(action_space)
    s_space = require_discrete_observations(observation_space)
    if n_states is None:
        return s_space
    if int(n_states) != s_space:
        raise BanditlabError(
            f"n_states: {n_states} does not match the observation space Discrete({s_space})"
        )
    return int(n_states)


N_STATES = [None, Interval("int", 1, None)]
"""Constraint of the ``n_states`` hyperparameter of the tabular agents."""


class OptimisticTabularAgent(KernelAgent):
    """Shared wrapper of the tabular optimistic agents (one kernel, different regions).

    Subclasses store ``delta``, ``radius`` (where they have one), ``n_states`` and
    ``evi_max_iter``; learned state adds ``n_states_`` (the resolved number of states).
    """

    _tags = {
        "families": ("amdp",),
        "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "delta": Interval("real", 0.0, 1.0, closed="neither"),
        "radius": Options(*L1_RADII),
        "n_states": N_STATES,
        "evi_max_iter": Interval("int", 1, None),
    }

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and ``n_states`` against them."""
        super()._validate_params(action_space, observation_space)
        self.n_states_ = resolve_n_states(self.n_states, action_space, observation_space)

    def _hparams(self, span_bound: float, switch: str, radius: str | None = None,
                 mitigate: bool = False, bias_estimation: bool = False
                 ) -> OptimisticTabularHparams:
        return OptimisticTabularHparams(
            np.int64(self.n_states_), float(self.delta),
            np.int64(RADIUS_CODES[self.radius if radius is None else radius]),
            float(span_bound), np.int64(SWITCH_CODES[switch]), np.int64(self.evi_max_iter),
            0.5, np.int64(mitigate), np.int64(bias_estimation),
        )

    def diagnostics(self) -> dict[str, float]:
        """``switches`` (policy computations so far) and ``optimistic_gain`` (of the last plan)."""
        return {"switches": float(self.state_.switches[0]),
                "optimistic_gain": float(self.state_.gain[0])}


class UCRL2(OptimisticTabularAgent):
    """UCRL2: optimism over L1 confidence sets, extended value iteration, doubling episodes.

    Episodes end when the pair about to be played has been played, within the
    episode, as often as before it (Jaksch et al. 2010, Fig. 1).
    ``diagnostics()`` adds the optimistic gain of the last plan (at least ``J*`` minus
    the EVI accuracy on the event of the confidence bounds).

    Deviations:
        With the default ``radius="joa"`` this is UCRL2 as published. Opt-in radii:
        ``"laplace"`` (UCRL2-L, Bourel, Maillard & Talebi 2020; constants
        reconstructed [I]), ``"joa_sa"`` (rlberry's ``S A`` in the transition log
        term) and ``"weissman"`` ([I]). Measured effect on RiverSwim-6: the Laplace
        radii end the burn-in of the JMLR radii (``python benchmarks/bench_amdp.py
        --regret``; numbers in ``docs/families/amdp.md``).

    Args:
        delta: Confidence level in (0, 1) (default 0.05).
        radius: ``"joa"`` (JMLR radii, default), ``"joa_sa"``, ``"laplace"`` (UCRL2-L)
            or ``"weissman"`` (module docstring).
        n_states: Number of states, or ``None`` to read it from the observation
            space (bind ``"@known:n_states"`` in experiments).
        evi_max_iter: Cap on EVI sweeps per episode (default 10000).

    Regret guarantee:
        ``O~(D S sqrt(A T))`` with probability ``1 - delta`` for communicating MDPs
        of diameter ``D`` (JMLR radii).

    References:
        Jaksch, Ortner & Auer, "Near-optimal Regret Bounds for Reinforcement
        Learning", JMLR 11 (2010).
    """

    display_name: ClassVar[str] = "UCRL2"

    def __init__(self, delta: float = 0.05, radius: str = "joa", n_states=None,
                 evi_max_iter: int = 10_000):
        self.delta = delta
        self.radius = radius
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def variant_tags(self) -> tuple[str, ...]:
        """A tag naming the radii when they are not the JMLR ones (e.g. ``"Laplace radii"``)."""
        return RADIUS_TAGS.get(self.radius, ())

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel without span clipping."""
        return AgentKernel(self._hparams(np.inf, "doubling"), optimistic_init,
                           optimistic_select, optimistic_update)
