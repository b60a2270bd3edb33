"""LOOP-Lin (ours): optimistic discounted LSVI with span clipping for linear AMDPs.

The efficient default instantiation of LOOP for linear AMDPs [I], in the
spirit of gamma-LSCVI-UCB (Hong, Chae, Zhang, Lee & Tewari, arXiv 2405.15050):
with ``Lambda = lambda I + sum phi_i phi_i^T`` and the data aggregated as
``b_r = sum phi_i r_i`` and ``M = sum phi_i e_{s_{i+1}}^T`` (d x S), iterate

``Q = min(Phi Lambda^-1 (b_r + gamma M V) + beta (1 + 2 B) ||phi||_{Lambda^-1}, 1 + 2 B)``,
``V = min(max_a Q - min_s max_a Q, 2 B)`` (re-centred, span clipped to ``2 B``)

from the previous ``V`` until ``max |dV| < tol`` or ``ceil(ln T / (1 - gamma))``
sweeps, with ``gamma = 1 - 1 / sqrt(T)``; act greedily on ``Q``; re-plan when
``det Lambda`` has doubled since the last plan (lazy switching).

Design choices [I]: values are re-centred every sweep (a discounted relative
value iteration), so ``Q`` stays on the scale ``1 + 2 B`` rather than
``1 / (1 - gamma)``; the bonus is scaled by that range so that an unexplored
direction (``||phi||_{Lambda^-1} = 1 / sqrt(lambda)``) is optimistic when
``beta >= sqrt(lambda)``. Without both, unvisited pairs look worse than
visited ones and the agent never explores RiverSwim.

``variant="fixed_point"`` (FOPO-like, slow, for small problems) [I]: for each ``J`` on
the grid ``{1, 0.99, ..., 0}`` iterate the J-offset optimistic fitted operator
``u = max_a [phi Lambda^-1 (b_r - J s_phi + M V) + bonus]`` with
``V <- min(u - min u, B)`` (re-centred, span ``B``; ``s_phi = sum phi_i``) from the
previous ``V``, and record the fixed-point residual ``max_s |u(s) - V(s)|`` (not
re-centred: it vanishes only when ``J`` is the optimistic gain, ``J + V = T V``).
Scanning the grid downwards, accept the first (largest) ``J`` whose residual is at most
``fp_tol`` (default 0.01, the grid step): the optimistic rule of FOPO-type fixed-point
programmes, which pick the largest gain admitting a fixed point (Wei et al. 2021); if no
``J`` qualifies, the one with the smallest residual. ``fp_rule="min_residual"`` keeps the
rule of ``LOOPLin-v0`` (the smallest residual over the whole grid, ties to the larger
``J``), which is not optimistic. Play greedily on the accepted ``Q``. Cost: at most
``101 * fp_iters`` sweeps per switch (the optimistic rule stops at the accepted ``J``).

Kernels on top, class below.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.amdp.loop import FINITE_SPAN_BOUND, RIVERSWIM6_SPAN
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.validation import (
    Array,
    Interval,
    Options,
    require_discrete_actions,
    require_discrete_observations,
)


class LOOPLinHparams(NamedTuple):
    """Kernel hyperparameters of :class:`LOOPLin`.

    Attributes:
        phi: float64[S, A, d], the features.
        lam: float64, ridge parameter ``lambda``.
        beta: float64, bonus multiplier.
        span_bound: float64, finite span bound ``B``.
        gamma: float64, discount ``1 - 1 / sqrt(T)`` of the discounted plan.
        n_sweeps: int64, sweep cap of the discounted plan.
        tol: float64, sweep stopping tolerance on ``max |dV|``.
        variant: int64, :data:`VARIANTS` value of the planner.
        fp_iters: int64, fixed-point iterations per grid value of ``J``.
        fp_tol: float64, residual tolerance of the optimistic (largest-``J``) rule.
        fp_largest: int64, 1 for the largest ``J`` within ``fp_tol``, 0 for the
            smallest residual.
    """

    phi: np.ndarray
    lam: float
    beta: float
    span_bound: float
    gamma: float
    n_sweeps: np.int64
    tol: float
    variant: np.int64
    fp_iters: np.int64
    fp_tol: float
    fp_largest: np.int64


class LinState(NamedTuple):
    """State of LOOP-Lin (updated in place). ``d`` is the feature dimension.

    Attributes:
        lam_inv: float64[d, d], ``Lambda^-1``.
        logdet: float64[2], ``(log det Lambda, log det Lambda at the last plan)``.
        b_r: float64[d], ``sum phi_i r_i``.
        s_phi: float64[d], ``sum phi_i``.
        m: float64[d, S], ``sum phi_i e_{s_{i+1}}^T``.
        q: float64[S, A], optimistic Q of the last plan.
        v: float64[S], value of the last plan (warm start).
        policy: int64[S], greedy policy.
        switches: int64[1], plans so far.
        need_plan: int64[1], plan at the next ``select``.
        g: float64[S, A, d], plan scratch: ``Lambda^-1 phi(s, a)``.
        bonus: float64[S, A], plan scratch: the elliptical bonuses.
        target: float64[d], plan scratch: the regression target of a sweep.
        mv: float64[d], plan scratch: ``M V`` of a sweep.
        vbuf: float64[S], plan scratch: the values of a sweep.
        vv: float64[S], plan scratch: the iterate of the fixed-point variant.
        qbuf: float64[S, A], plan scratch: ``Q`` of the fixed-point variant.
        y: float64[d], update scratch: ``Lambda^-1 phi(s_t, a_t)``.
    """

    lam_inv: np.ndarray
    logdet: np.ndarray
    b_r: np.ndarray
    s_phi: np.ndarray
    m: np.ndarray
    q: np.ndarray
    v: np.ndarray
    policy: np.ndarray
    switches: np.ndarray
    need_plan: np.ndarray
    g: np.ndarray
    bonus: np.ndarray
    target: np.ndarray
    mv: np.ndarray
    vbuf: np.ndarray
    vv: np.ndarray
    qbuf: np.ndarray
    y: np.ndarray


@njit(cache=True)
def _elliptic_bonus(phi, lam_inv, scale, g, bonus):
    """``g[s, a] = Lambda^-1 phi(s, a)`` and ``bonus[s, a] = scale * ||phi(s, a)||_{Lambda^-1}``.

    Args:
        phi: float64[S, A, d] features.
        lam_inv: float64[d, d] inverse Gram matrix.
        scale: ``beta * (1 + 2 B)``.
        g: float64[S, A, d] output.
        bonus: float64[S, A] output.
    """
    S, A, d = phi.shape
    for s in range(S):
        for a in range(A):
            y = g[s, a]
            np.dot(lam_inv, phi[s, a], y)
            q2 = 0.0
            for k in range(d):
                q2 += phi[s, a, k] * y[k]
            bonus[s, a] = scale * math.sqrt(max(q2, 0.0))


@njit(cache=True)
def lin_init(dims, hparams, rng):
    """``Lambda = lambda I``; plan at the first ``select``."""
    phi = hparams.phi
    lam = hparams.lam
    S, A, d = phi.shape
    logdet = np.zeros(2)
    logdet[0] = d * math.log(lam)
    logdet[1] = logdet[0]
    return LinState(np.eye(d) / lam, logdet, np.zeros(d), np.zeros(d), np.zeros((d, S)),
                    np.zeros((S, A)),
                    np.zeros(S), np.zeros(S, np.int64), np.zeros(1, np.int64),
                    np.ones(1, np.int64), np.zeros((S, A, d)), np.zeros((S, A)), np.zeros(d),
                    np.zeros(d), np.zeros(S), np.zeros(S), np.zeros((S, A)), np.zeros(d))


@njit(cache=True)
def discounted_optimistic_plan(phi, lam_inv, b_r, m, v, beta, span_bound, gamma, n_sweeps, tol,
                               q_out):
    """Optimistic discounted LSVI with span clipping (see module docstring).

    Args:
        phi: float64[S, A, d] features.
        lam_inv: float64[d, d].
        b_r: float64[d].
        m: float64[d, S].
        v: float64[S] warm start, updated in place.
        beta: Bonus multiplier.
        span_bound: ``B``; values are re-centred and clipped to span ``2 B``.
        gamma: Discount in (0, 1).
        n_sweeps: Sweep cap.
        tol: Stop when ``max |dV| < tol``.
        q_out: float64[S, A] output.

    Returns:
        Number of sweeps.
    """
    S, A, d = phi.shape
    return discounted_optimistic_plan_into(
        phi, lam_inv, b_r, m, v, beta, span_bound, gamma, n_sweeps, tol, q_out,
        np.empty((S, A, d)), np.empty((S, A)), np.empty(d), np.empty(d), np.empty(S))


@njit(cache=True)
def discounted_optimistic_plan_into(phi, lam_inv, b_r, m, v, beta, span_bound, gamma, n_sweeps,
                                    tol, q_out, g, bonus, target, mv, vnew):
    """:func:`discounted_optimistic_plan` with caller-owned scratch (no allocation).

    The arguments of :func:`discounted_optimistic_plan`, then the scratch ``g``
    (float64[S, A, d]), ``bonus`` (float64[S, A]), ``target``, ``mv`` (float64[d]) and
    ``vnew`` (float64[S]); same arithmetic and result.
    """
    S, A, d = phi.shape
    cap = 1.0 + 2.0 * span_bound
    _elliptic_bonus(phi, lam_inv, beta * cap, g, bonus)
    n = 0
    while n < n_sweeps:
        n += 1
        np.dot(m, v, mv)
        for k in range(d):
            target[k] = b_r[k] + gamma * mv[k]
        for s in range(S):
            best = -np.inf
            for a in range(A):
                val = bonus[s, a]
                for k in range(d):
                    val += g[s, a, k] * target[k]
                val = min(val, cap)
                q_out[s, a] = val
                if val > best:
                    best = val
            vnew[s] = best
        vmin = np.min(vnew)
        diff = 0.0
        for s in range(S):
            x = min(vnew[s] - vmin, 2.0 * span_bound)
            diff = max(diff, abs(x - v[s]))
            v[s] = x
        if diff < tol:
            break
    return n


@njit(cache=True)
def fixed_point_plan(phi, lam_inv, b_r, s_phi, m, v, beta, span_bound, n_grid, fp_iters,
                     q_out, fp_tol=np.inf, largest=False):
    """FOPO-like grid search over ``J`` for the optimistic fixed point (see module docstring).

    With ``largest`` the grid is scanned downwards from ``J = 1`` and the first ``J``
    whose residual is at most ``fp_tol`` is accepted (the optimistic rule: the largest
    gain with an approximate fixed point); when none qualifies, or without
    ``largest``, the ``J`` with the smallest residual (ties to the larger ``J``).

    Args:
        phi: float64[S, A, d].
        lam_inv: float64[d, d].
        b_r: float64[d].
        s_phi: float64[d].
        m: float64[d, S].
        v: float64[S] warm start; on return the accepted ``V``.
        beta: Bonus multiplier (bonus ``beta (1 + 2 B) ||phi||_{Lambda^-1}``).
        span_bound: ``B``.
        n_grid: Number of grid values of ``J`` in [0, 1] (101 for step 0.01).
        fp_iters: Fixed-point iterations per ``J``.
        q_out: float64[S, A] output: ``Q`` of the accepted ``J``.
        fp_tol: Residual tolerance of the optimistic rule.
        largest: Accept the largest ``J`` within ``fp_tol`` (else the smallest residual).

    Returns:
        ``(J, residual)`` of the accepted grid value.
    """
    S, A, d = phi.shape
    return fixed_point_plan_into(
        phi, lam_inv, b_r, s_phi, m, v, beta, span_bound, n_grid, fp_iters, q_out, fp_tol,
        largest, np.empty((S, A, d)), np.empty((S, A)), np.empty(d), np.empty(d),
        np.empty(S), np.empty(S), np.empty((S, A)))


@njit(cache=True)
def fixed_point_plan_into(phi, lam_inv, b_r, s_phi, m, v, beta, span_bound, n_grid, fp_iters,
                          q_out, fp_tol, largest, g, bonus, target, mv, u, vv, q):
    """:func:`fixed_point_plan` with caller-owned scratch (no allocation).

    The arguments of :func:`fixed_point_plan` (``fp_tol`` and ``largest`` required),
    then the scratch ``g`` (float64[S, A, d]), ``bonus`` (float64[S, A]), ``target``,
    ``mv`` (float64[d]), ``u``, ``vv`` (float64[S]) and ``q`` (float64[S, A]); same
    arithmetic and result.
    """
    S, A, d = phi.shape
    cap = 1.0 + 2.0 * span_bound
    _elliptic_bonus(phi, lam_inv, beta * cap, g, bonus)
    for s in range(S):
        vv[s] = v[s]
    best_res = np.inf
    best_j = 0.0
    for i in range(n_grid):
        J = 1.0 - i / (n_grid - 1.0)
        res = np.inf
        for _ in range(fp_iters):
            np.dot(m, vv, mv)
            for k in range(d):
                target[k] = b_r[k] - J * s_phi[k] + mv[k]
            for s in range(S):
                best = -np.inf
                for a in range(A):
                    val = bonus[s, a]
                    for k in range(d):
                        val += g[s, a, k] * target[k]
                    val = min(val, cap)
                    q[s, a] = val
                    best = max(best, val)
                u[s] = best
            res = 0.0
            for s in range(S):
                res = max(res, abs(u[s] - vv[s]))
            umin = np.min(u)
            for s in range(S):
                vv[s] = min(u[s] - umin, span_bound)
        if res < best_res - 1e-12:
            best_res = res
            best_j = J
            for s in range(S):
                v[s] = vv[s]
                for a in range(A):
                    q_out[s, a] = q[s, a]
        if largest and res <= fp_tol:
            best_res = res
            best_j = J
            for s in range(S):
                v[s] = vv[s]
                for a in range(A):
                    q_out[s, a] = q[s, a]
            break
    return best_j, best_res


@njit(cache=True)
def lin_select(state, hparams, obs, t, rng):
    """Plan when ``det Lambda`` has doubled, then play greedily on ``Q`` (no draws).

    ``hparams`` is a :class:`LOOPLinHparams`.
    """
    phi = hparams.phi
    beta = hparams.beta
    span_bound = hparams.span_bound
    gamma = hparams.gamma
    n_sweeps = hparams.n_sweeps
    tol = hparams.tol
    variant = hparams.variant
    fp_iters = hparams.fp_iters
    if state.need_plan[0] != 0:
        if variant == 0:
            discounted_optimistic_plan_into(
                phi, state.lam_inv, state.b_r, state.m, state.v, beta, span_bound, gamma,
                n_sweeps, tol, state.q, state.g, state.bonus, state.target, state.mv,
                state.vbuf)
        else:
            fixed_point_plan_into(
                phi, state.lam_inv, state.b_r, state.s_phi, state.m, state.v, beta, span_bound,
                101, fp_iters, state.q, hparams.fp_tol, hparams.fp_largest != 0, state.g,
                state.bonus, state.target, state.mv, state.vbuf, state.vv, state.qbuf)
        S, A = state.q.shape
        for s in range(S):
            best = 0
            for a in range(1, A):
                if state.q[s, a] > state.q[s, best]:
                    best = a
            state.policy[s] = best
        state.logdet[1] = state.logdet[0]
        state.switches[0] += 1
        state.need_plan[0] = 0
    return np.int64(state.policy[int(obs[0])])


@njit(cache=True)
def lin_update(state, hparams, obs, action, reward, next_obs):
    """Sherman-Morrison update of ``Lambda^-1``, aggregate data, determinant-doubling test."""
    phi = hparams.phi
    x = phi[int(obs[0]), action]
    y = state.y
    np.dot(state.lam_inv, x, y)
    q = 0.0
    d = x.shape[0]
    for k in range(d):
        q += x[k] * y[k]
    inv = 1.0 / (1.0 + q)
    for i in range(d):
        for j in range(d):
            state.lam_inv[i, j] -= inv * y[i] * y[j]
    state.logdet[0] += math.log1p(q)
    s2 = int(next_obs[0])
    for k in range(d):
        state.b_r[k] += x[k] * reward
        state.s_phi[k] += x[k]
        state.m[k, s2] += x[k]
    if state.logdet[0] - state.logdet[1] >= math.log(2.0):
        state.need_plan[0] = 1


VARIANTS = {"discounted": 0, "fixed_point": 1}
"""Planner names of :class:`LOOPLin` and their kernel codes."""
FP_RULES = ("largest", "min_residual")
"""Acceptance rules of the fixed-point variant."""


class LOOPLin(KernelAgent):
    """LOOP-Lin (ours): optimistic planning on linear AMDPs with determinant-doubling switches.

    Deviations:
        Our instantiation of LOOP for linear AMDPs [I] (module docstring): instead of
        LOOP's optimistic fixed-point programme over a Bellman-error confidence set,
        optimistic least-squares value iteration with an elliptical bonus scaled by
        ``1 + 2 B`` and values re-centred and span-clipped every sweep (discounted by
        default, in the spirit of gamma-LSCVI-UCB; ``variant="fixed_point"``: a grid
        search over ``J``, FOPO-like); switches when ``det Lambda`` doubles. The opt-in
        ``fp_rule="min_residual"`` keeps ``LOOPLin-v0``'s non-optimistic choice of
        ``J``. Measured effect: no implementation of LOOP or FOPO exists here to
        compare with; the variants and the ``beta`` grid are compared in
        ``banditlab run amdp_e2`` (``docs/families/amdp.md``).

    Args:
        features: float[S, A, d] ``phi`` (bind ``"@known:features"``), or ``None``
            for one-hot features over (s, a) (``d = S A``, the tabular case).
        span_bound: ``B`` (> 0, finite; default ``sp(h*)`` of RiverSwim-6 rounded up).
        horizon: ``T`` (bind ``"@run_length"``); sets ``gamma = 1 - 1/sqrt(T)``.
        beta: Bonus multiplier (> 0, default 1.0; the bonus is
            ``beta (1 + 2 B) ||phi||_{Lambda^-1}``; a value to tune, e.g. on
            {0.1, 0.3, 1, 3} [I]; ``amdp_e2.toml`` sweeps {0.3, 1, 3}).
        lambda_reg: Ridge parameter (> 0, default 1).
        variant: ``"discounted"`` (default, efficient) or ``"fixed_point"``
            (FOPO-like grid search over ``J``; slow, small problems only).
        max_sweeps: Cap on value-iteration sweeps per plan (default 20000; the
            nominal count is ``ceil(ln T / (1 - gamma))``).
        tol: Sweep stopping tolerance on ``max |dV|`` (default 1e-6).
        fp_iters: Fixed-point iterations per grid value of ``J`` (default 100).
        fp_rule: ``"largest"`` (default: the largest ``J`` whose residual is at most
            ``fp_tol``) or ``"min_residual"`` (the smallest residual, ``LOOPLin-v0``).
        fp_tol: Residual tolerance of the ``"largest"`` rule (> 0, default 0.01).

    References:
        He, Zhong & Yang, ICLR 2024; Hong et al., arXiv 2405.15050 (gamma-LSCVI-UCB);
        Wei et al., AISTATS 2021.
    """

    _tags = {"families": ("amdp",), "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300})}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "features": [None, Array("float", ndim=3)],
        "span_bound": FINITE_SPAN_BOUND,
        "horizon": Interval("int", 2, None),
        "beta": Interval("real", 0.0, None, closed="neither"),
        "lambda_reg": Interval("real", 0.0, None, closed="neither"),
        "variant": Options(*VARIANTS),
        "max_sweeps": Interval("int", 1, None),
        "tol": Interval("real", 0.0, None, closed="neither"),
        "fp_iters": Interval("int", 1, None),
        "fp_rule": Options(*FP_RULES),
        "fp_tol": Interval("real", 0.0, None, closed="neither"),
    }

    display_name: ClassVar[str] = "LOOP-Lin"
    deviation: ClassVar[str | None] = "LSVI bonus planner"

    def variant_tags(self) -> tuple[str, ...]:
        """``("fixed-point J grid",)`` for the fixed-point variant (plus ``"min-residual J"``)."""
        if self.variant != "fixed_point":
            return ()
        if self.fp_rule == "min_residual":
            return ("fixed-point J grid", "min-residual J")
        return ("fixed-point J grid",)

    def __init__(self, features=None, span_bound: float = RIVERSWIM6_SPAN,
                 horizon: int = 200_000, beta: float = 1.0, lambda_reg: float = 1.0,
                 variant: str = "discounted", max_sweeps: int = 20_000, tol: float = 1e-6,
                 fp_iters: int = 100, fp_rule: str = "largest", fp_tol: float = 0.01):
        self.features = features
        self.span_bound = span_bound
        self.horizon = horizon
        self.beta = beta
        self.lambda_reg = lambda_reg
        self.variant = variant
        self.max_sweeps = max_sweeps
        self.tol = tol
        self.fp_iters = fp_iters
        self.fp_rule = fp_rule
        self.fp_tol = fp_tol

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and the shape of ``features``."""
        super()._validate_params(action_space, observation_space)
        A = require_discrete_actions(action_space)
        S = require_discrete_observations(observation_space)
        if self.features is None:
            phi = np.eye(S * A).reshape(S, A, S * A)
        else:
            phi = np.asarray(self.features, dtype=np.float64)
            if phi.shape[:2] != (S, A):
                raise BanditlabError(f"features: expected shape ({S}, {A}, d), got {phi.shape}")
        self.phi_ = np.ascontiguousarray(phi)

    def _gamma(self) -> float:
        """``1 - 1 / sqrt(horizon)``."""
        return 1.0 - 1.0 / math.sqrt(self.horizon)

    def make_kernel(self) -> AgentKernel:
        """LOOP-Lin kernel."""
        gamma = self._gamma()
        n_sweeps = min(int(self.max_sweeps), math.ceil(math.log(self.horizon) / (1.0 - gamma)))
        hp = LOOPLinHparams(
            self.phi_, float(self.lambda_reg), float(self.beta), float(self.span_bound), gamma,
            np.int64(n_sweeps), float(self.tol), np.int64(VARIANTS[self.variant]),
            np.int64(self.fp_iters), float(self.fp_tol), np.int64(self.fp_rule == "largest"),
        )
        return AgentKernel(hp, lin_init, lin_select, lin_update)

    def diagnostics(self) -> dict[str, float]:
        """``{"switches": number of plans so far}``."""
        return {"switches": float(self.state_.switches[0])}
