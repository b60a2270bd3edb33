"""LOOP instantiations (ours): LOOP-Tab (tabular) and LOOP-Mix (linear mixtures).

LOOP (He, Zhong & Yang, ICLR 2024, arXiv 2404.12648) is a fixed-point
optimisation over a general hypothesis class; it is not computable as stated.
These are banditlab's computable instantiations [I] that keep its three
defining parts -- a data-fit confidence set, optimistic planning for the gain
under a known span bound ``B``, and lazy (low-switching) policy updates. Label
them "LOOP-inst (ours)" in results. The paper's exact confidence levels and
switch thresholds were not checked against its full text; the ones here are our
choices [I].

Kernels on top, classes below.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.amdp.ucrl2 import (
    SWITCH_CODES,
    OptimisticTabularAgent,
    optimistic_init,
    optimistic_select,
    optimistic_update,
)
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.validation import (
    Array,
    Interval,
    Options,
    require_discrete_actions,
    require_discrete_observations,
)

#: sp(h*) of the default env RiverSwim-6 (Osband parameters), rounded up; registered default B.
RIVERSWIM6_SPAN = 6.32

FINITE_SPAN_BOUND = Interval("real", 0.0, None, closed="neither")
"""Constraint of a span bound ``B`` that must be finite (LOOP-Mix, LOOP-Lin)."""


# --------------------------------------------------------------------------- LOOP-Tab
class LOOPTab(OptimisticTabularAgent):
    """LOOP-Tab (ours): rectangular confidence sets, span-constrained EVI, lazy switches.

    The model-based LOOP confidence set (value-targeted regression) is relaxed to
    per-(s, a) L1 balls and reward intervals with UCRL2 (``"joa"``) or UCRL2-L
    (``"laplace"``) radii; planning is extended value iteration whose iterates are
    clipped to span ``B`` after each sweep (as in SCAL/PMEVI); the policy is
    recomputed by the doubling rule (``switch="doubling"``, ``O(S A log T)``
    switches; Jaksch et al. 2010, Fig. 1) or additionally when the current optimistic
    model leaves the updated confidence set (``"doubling+model_exit"``).
    ``diagnostics()["span_clips"]`` counts the plans in which the truncation at ``B``
    was active.

    Deviations:
        LOOP (He, Zhong & Yang 2024) optimises over a general hypothesis class and is
        not computable as stated; this is our tabular instantiation [I]: the
        value-targeted confidence set is relaxed to per-(s, a) L1 balls, LOOP's
        optimistic fixed-point programme is replaced by EVI truncated at span ``B``,
        and its lazy switching by UCRL2's doubling rule. Opt-in: other radii
        (``radius``) and model-exit switches (``switch``). Measured effect: no
        implementation of LOOP exists to compare with; against UCRL2-L (the same
        without truncation) the truncation at ``B = sp(h*)`` never binds on RiverSwim,
        SixArms or the two-state MDPs (identical runs) and binds on the four-rooms
        gridworld, and the model-exit test never fired there (``banditlab run amdp_e1``;
        table in ``docs/families/amdp.md``).

    Args:
        span_bound: ``B >= sp(h*)`` (> 0; bind ``"@known:span_bound"``). Default:
            ``sp(h*)`` of RiverSwim-6 rounded up.
        delta: Confidence level in (0, 1) (default 0.05).
        radius: ``"laplace"`` (default), ``"joa"`` or ``"joa_sa"``.
        switch: ``"doubling"`` (default) or ``"doubling+model_exit"``.
        n_states: Number of states or ``None`` (read from the observation space).
        evi_max_iter: Cap on EVI sweeps per switch (default 10000).

    Regret guarantee:
        None proved for this instantiation; LOOP's bound is
        ``O~(poly(d, sp(V*)) sqrt(T beta))`` (its exact form not checked against the
        paper's full text [I]).

    References:
        He, Zhong & Yang, ICLR 2024; Jaksch et al., JMLR 2010; Fruit et al.,
        "Efficient bias-span-constrained exploration-exploitation in RL" (SCAL),
        ICML 2018.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "span_bound": Interval("real", 0.0, None, closed="neither", allow_inf=True),
        **OptimisticTabularAgent._parameter_constraints,
        "switch": Options(*SWITCH_CODES),
    }

    display_name: ClassVar[str] = "LOOP-Tab"
    deviation: ClassVar[str | None] = "rectangular L1 relaxation"

    def variant_tags(self) -> tuple[str, ...]:
        """Tags for non-default radii (``"JMLR radii"``) and model-exit switches."""
        tags = {"joa": ("JMLR radii",), "joa_sa": ("S A log radii",),
                "weissman": ("Weissman radii",)}.get(self.radius, ())
        if self.switch == "doubling+model_exit":
            tags += ("model-exit switches",)
        return tags

    def __init__(self, span_bound: float = RIVERSWIM6_SPAN, delta: float = 0.05,
                 radius: str = "laplace", switch: str = "doubling", n_states=None,
                 evi_max_iter: int = 10_000):
        self.span_bound = span_bound
        self.delta = delta
        self.radius = radius
        self.switch = switch
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel with span clipping at ``B``."""
        return AgentKernel(self._hparams(float(self.span_bound), self.switch), optimistic_init,
                           optimistic_select, optimistic_update)

    def diagnostics(self) -> dict[str, float]:
        """``switches``, ``optimistic_gain`` and ``span_clips``.

        ``span_clips`` counts the plans whose last EVI sweep was changed by the span
        truncation, i.e. plans in which the bound ``B`` was active.
        """
        return {**super().diagnostics(), "span_clips": float(self.state_.clips[0])}


# --------------------------------------------------------------------------- LOOP-Mix
class LOOPMixHparams(NamedTuple):
    """Kernel hyperparameters of :class:`LOOPMix`.

    Attributes:
        psi: float64[S, A, S, d], the mixture features ``psi(s'|s, a)``.
        lam: float64, ridge parameter ``lambda``.
        delta: float64, confidence level.
        span_bound: float64, finite span bound ``B``.
        theta_norm: float64, bound on ``||theta*||_2``.
        beta_scale: float64, multiplier of the confidence radius.
        evi_max_iter: int64, EVI sweep cap per switch.
        tau: float64, EVI damping in (0, 1].
    """

    psi: np.ndarray
    lam: float
    delta: float
    span_bound: float
    theta_norm: float
    beta_scale: float
    evi_max_iter: np.int64
    tau: float


class MixState(NamedTuple):
    """State of LOOP-Mix (updated in place). ``d`` is the mixture dimension.

    Attributes:
        lam_inv: float64[d, d], inverse of ``Lambda = lambda I + sum x x^T``.
        b: float64[d], ``sum x_i V_i(s_{i+1})``.
        logdet: float64[2], ``(log det Lambda, log det Lambda at the last switch)``.
        target: float64[S], the regression target ``V`` (the value of the last plan).
        psi_v: float64[S, A, d], ``sum_{s'} psi(s'|s, a) V(s')`` for the current target.
        counts: float64[S, A], visits.
        rsum: float64[S, A], summed rewards.
        counts_k: float64[S, A], visits at the last switch.
        u: float64[S], EVI scratch / warm start.
        policy: int64[S], current policy.
        switches: int64[1], policy computations so far.
        need_plan: int64[1], plan at the next ``select``.
        gain: float64[1], optimistic gain of the last plan.
        theta: float64[d], scratch: the ridge estimate ``Lambda^-1 b`` of a plan.
        rtil: float64[S, A], scratch: the optimistic rewards of a plan.
        psi_u: float64[S, A, d], scratch: ``sum_{s'} psi(s'|s, a) u(s')`` of a sweep.
        w: float64[S], scratch: the values of a sweep.
        y: float64[d], scratch: ``Lambda^-1 x`` of one feature vector.
    """

    lam_inv: np.ndarray
    b: np.ndarray
    logdet: np.ndarray
    target: np.ndarray
    psi_v: np.ndarray
    counts: np.ndarray
    rsum: np.ndarray
    counts_k: np.ndarray
    u: np.ndarray
    policy: np.ndarray
    switches: np.ndarray
    need_plan: np.ndarray
    gain: np.ndarray
    theta: np.ndarray
    rtil: np.ndarray
    psi_u: np.ndarray
    w: np.ndarray
    y: np.ndarray


@njit(cache=True)
def mix_init(dims, hparams, rng):
    """``Lambda = lambda I``, zero target; plan at the first ``select``."""
    psi = hparams.psi
    lam = hparams.lam
    S, A, _, d = psi.shape
    logdet = np.zeros(2)
    logdet[0] = d * math.log(lam)
    logdet[1] = logdet[0]
    return MixState(
        np.eye(d) / lam, np.zeros(d), logdet, np.zeros(S), np.zeros((S, A, d)),
        np.zeros((S, A)), np.zeros((S, A)), np.zeros((S, A)), np.zeros(S),
        np.zeros(S, np.int64), np.zeros(1, np.int64), np.ones(1, np.int64), np.zeros(1),
        np.zeros(d), np.ones((S, A)), np.zeros((S, A, d)), np.zeros(S), np.zeros(d),
    )


@njit(cache=True)
def _project_psi(psi, v, out):
    """``out[s, a] = sum_{s'} psi[s, a, s'] v[s']`` (float64[S, A, d])."""
    S, A, S2, d = psi.shape
    for s in range(S):
        for a in range(A):
            for k in range(d):
                out[s, a, k] = 0.0
            for s2 in range(S2):
                if v[s2] != 0.0:
                    for k in range(d):
                        out[s, a, k] += psi[s, a, s2, k] * v[s2]


@njit(cache=True)
def mix_plan(state, hparams, t):
    """VTR estimate, confidence radius, span-clipped optimistic EVI, new target and policy.

    Radius ``beta_t = scale (B sqrt(d ln((1 + t / lambda) / delta)) + sqrt(lambda)
    theta_norm)``, a Hoeffding-type radius for value-targeted regression with targets
    of span ``B`` (the Bernstein radius of UCRL2-VTR, Wu, Zhou & Gu 2022, is not used)
    [I]. Rewards are estimated per (s, a) with a Hoeffding bonus
    ``sqrt(ln(2 S A t / delta) / (2 n))`` [I]. ``hparams`` is a :class:`LOOPMixHparams`.
    """
    psi = hparams.psi
    lam = hparams.lam
    delta = hparams.delta
    span_bound = hparams.span_bound
    theta_norm = hparams.theta_norm
    scale = hparams.beta_scale
    max_iter = hparams.evi_max_iter
    tau = hparams.tau
    S, A, _, d = psi.shape
    theta = state.theta
    np.dot(state.lam_inv, state.b, theta)  # Lambda^-1 b, into the scratch
    beta = scale * (span_bound * math.sqrt(d * math.log((1.0 + t / lam) / delta))
                    + math.sqrt(lam) * theta_norm)
    rtil = state.rtil
    for s in range(S):
        for a in range(A):
            n = state.counts[s, a]
            state.counts_k[s, a] = n
            rtil[s, a] = 1.0
            if n > 0:
                rtil[s, a] = min(1.0, state.rsum[s, a] / n
                                 + math.sqrt(math.log(2.0 * S * A * t / delta) / (2.0 * n)))
    u = state.u
    psi_u = state.psi_u
    w = state.w
    y = state.y
    eps = 1.0 / math.sqrt(t)
    gain = 0.0
    for _ in range(max_iter):
        _project_psi(psi, u, psi_u)
        umin = np.min(u)
        umax = np.max(u)
        for s in range(S):
            best = -np.inf
            for a in range(A):
                x = psi_u[s, a]
                mean = 0.0
                for k in range(d):
                    mean += x[k] * theta[k]
                np.dot(state.lam_inv, x, y)
                q2 = 0.0
                for k in range(d):
                    q2 += x[k] * y[k]
                val = mean + beta * math.sqrt(max(q2, 0.0))
                val = min(max(val, umin), umax)
                q = rtil[s, a] + val
                if q > best:
                    best = q
                    state.policy[s] = a
            w[s] = best
        wmin = np.min(w)
        for s in range(S):
            w[s] = min(w[s] - wmin, span_bound)
        dmax = -np.inf
        dmin = np.inf
        for s in range(S):
            dd = w[s] - u[s]
            dmax = max(dmax, dd)
            dmin = min(dmin, dd)
        # The gain estimate is the midpoint of T u - u before re-centring: T u = w + wmin.
        gain = 0.5 * (dmax + dmin) + wmin
        for s in range(S):
            u[s] = (1.0 - tau) * u[s] + tau * w[s]
        if dmax - dmin < eps:
            break
    umin = np.min(u)
    for s in range(S):
        state.target[s] = u[s] - umin
    _project_psi(psi, state.target, state.psi_v)
    state.gain[0] = gain
    state.logdet[1] = state.logdet[0]
    state.switches[0] += 1
    state.need_plan[0] = 0


@njit(cache=True)
def mix_select(state, hparams, obs, t, rng):
    """Plan when a switch is due, then play the current policy (no draws)."""
    if state.need_plan[0] != 0:
        mix_plan(state, hparams, t)
    return np.int64(state.policy[int(obs[0])])


@njit(cache=True)
def mix_update(state, hparams, obs, action, reward, next_obs):
    """Sherman-Morrison update of the VTR statistics; switch when ``det Lambda`` doubles.

    Also switches when the visit count of the played pair doubles (rewards are
    tabular) [I].
    """
    s = int(obs[0])
    a = action
    x = state.psi_v[s, a]
    y = state.y
    np.dot(state.lam_inv, x, y)
    q = 0.0
    for k in range(x.shape[0]):
        q += x[k] * y[k]
    if q > 0.0:
        inv = 1.0 / (1.0 + q)
        d = x.shape[0]
        for i in range(d):
            for j in range(d):
                state.lam_inv[i, j] -= inv * y[i] * y[j]
        state.logdet[0] += math.log1p(q)
    target_next = state.target[int(next_obs[0])]
    for k in range(x.shape[0]):
        state.b[k] += x[k] * target_next
    state.counts[s, a] += 1.0
    state.rsum[s, a] += reward
    if state.logdet[0] - state.logdet[1] >= math.log(2.0):
        state.need_plan[0] = 1
    if state.counts[s, a] >= 2.0 * max(1.0, state.counts_k[s, a]):
        state.need_plan[0] = 1


def one_hot_mixture_features(n_states: int, n_actions: int) -> np.ndarray:
    """``psi(s'|s, a) = e_(s, a, s')``: the tabular model as a linear mixture (d = S^2 A)."""
    d = n_states * n_actions * n_states
    return np.eye(d).reshape(n_states, n_actions, n_states, d)


class LOOPMix(KernelAgent):
    """LOOP-Mix (ours): value-targeted regression, span-clipped optimistic EVI, lazy switches.

    For ``P(s'|s, a) = <psi(s'|s, a), theta*>`` with known ``psi``: regress
    ``V(s_{t+1})`` on ``psi_V(s_t, a_t) = sum_{s'} psi(s'|s_t, a_t) V(s')`` for the
    current target ``V`` (ridge ``lambda``); plan by EVI with the optimistic next
    value ``clip(<psi_u, theta_hat> + beta ||psi_u||_{Lambda^-1}, min u, max u)``,
    re-centred and clipped to span ``B``; switch when ``det Lambda`` doubles (or a
    reward count doubles). Approximates UCRL2-VTR with Hoeffding confidence.

    Deviations:
        Our instantiation of LOOP for linear mixtures [I]: the confidence set is the
        ridge ellipsoid of value-targeted regression with a Hoeffding-type radius (not
        LOOP's discrepancy set, nor the Bernstein radius of UCRL2-VTR), planning is
        EVI with the optimistic next value clipped to ``[min u, max u]`` and the span
        clipped to ``B``, rewards are tabular with Hoeffding bonuses, and a switch
        also happens when a visit count doubles. Measured effect: no implementation
        of LOOP or UCRL2-VTR exists here to compare with; against tabular UCRL2-L
        see ``banditlab run amdp_e2_mixture`` (``docs/families/amdp.md``).

    Args:
        mixture_features: float[S, A, S, d] ``psi`` (bind ``"@known:mixture_features"``),
            or ``None`` for the one-hot (tabular) mixture, ``d = S^2 A``.
        span_bound: ``B`` (> 0; default: ``sp(h*)`` of RiverSwim-6 rounded up).
        theta_norm_bound: Bound on ``||theta*||_2`` (default: ``sqrt(S A)``,
            valid for the one-hot mixture; bind ``"@known:theta_norm_bound"``).
        lambda_reg: Ridge parameter (> 0, default 1).
        delta: Confidence level (default 0.05).
        beta_scale: Multiplier of the radius (> 0, default 1).
        evi_max_iter: EVI sweep cap per switch (default 1000).

    References:
        He, Zhong & Yang, ICLR 2024; Wu, Zhou & Gu, AISTATS 2022 (UCRL2-VTR);
        Ayoub et al., ICML 2020 (value-targeted regression).
    """

    _tags = {"families": ("amdp",), "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300})}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mixture_features": [None, Array("float", ndim=4)],
        "span_bound": FINITE_SPAN_BOUND,
        "theta_norm_bound": [None, Interval("real", 0.0, None)],
        "lambda_reg": Interval("real", 0.0, None, closed="neither"),
        "delta": Interval("real", 0.0, 1.0, closed="neither"),
        "beta_scale": Interval("real", 0.0, None, closed="neither"),
        "evi_max_iter": Interval("int", 1, None),
    }

    display_name: ClassVar[str] = "LOOP-Mix"
    deviation: ClassVar[str | None] = "VTR ellipsoid, span-clipped EVI"

    def __init__(self, mixture_features=None, span_bound: float = RIVERSWIM6_SPAN,
                 theta_norm_bound=None, lambda_reg: float = 1.0, delta: float = 0.05,
                 beta_scale: float = 1.0, evi_max_iter: int = 1000):
        self.mixture_features = mixture_features
        self.span_bound = span_bound
        self.theta_norm_bound = theta_norm_bound
        self.lambda_reg = lambda_reg
        self.delta = delta
        self.beta_scale = beta_scale
        self.evi_max_iter = evi_max_iter

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and the shape of ``mixture_features``."""
        super()._validate_params(action_space, observation_space)
        A = require_discrete_actions(action_space)
        S = require_discrete_observations(observation_space)
        if self.mixture_features is None:
            psi = one_hot_mixture_features(S, A)
        else:
            psi = np.asarray(self.mixture_features, dtype=np.float64)
            if psi.shape[:3] != (S, A, S):
                raise BanditlabError(
                    f"mixture_features: expected shape ({S}, {A}, {S}, d), got {psi.shape}"
                )
        self.psi_ = np.ascontiguousarray(psi)
        tn = self.theta_norm_bound
        self.theta_norm_ = float(math.sqrt(S * A) if tn is None else tn)

    def make_kernel(self) -> AgentKernel:
        """LOOP-Mix kernel."""
        hp = LOOPMixHparams(
            self.psi_, float(self.lambda_reg), float(self.delta), float(self.span_bound),
            self.theta_norm_, float(self.beta_scale), np.int64(self.evi_max_iter), 0.5,
        )
        return AgentKernel(hp, mix_init, mix_select, mix_update)

    def diagnostics(self) -> dict[str, float]:
        """``switches`` (policy computations so far) and ``optimistic_gain`` (of the last plan)."""
        return {"switches": float(self.state_.switches[0]),
                "optimistic_gain": float(self.state_.gain[0])}
