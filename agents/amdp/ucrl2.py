"""UCRL2 (Jaksch, Ortner & Auer, JMLR 2010) and the shared tabular optimistic kernel.

Kernels on top, class below. The same kernel, with a finite span bound and an
optional stricter switch test, is banditlab's LOOP-Tab instantiation
(:class:`banditlab.agents.amdp.loop.LOOPTab`).

Radii (``N = max(1, n(s, a))``, ``t_k`` the episode start):

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

Unvisited pairs get the vacuous radii (reward 1, L1 radius 2). Episodes end by
the doubling rule: when the within-episode count of the pair just played
reaches ``max(1, N_k(s, a))`` (optionally also when the optimistic model of
the pair just played leaves the confidence set with doubled radii). The
switch counter counts policy computations, including the first one.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.amdp.planning import evi_kernel
from banditlab.validation import (
    Interval,
    Options,
    require_discrete_actions,
    require_discrete_observations,
)

RADIUS_CODES = {"joa": 0, "joa_sa": 1, "laplace": 2}
"""Radius names and their kernel codes."""
SWITCH_CODES = {"doubling": 0, "doubling+model_exit": 1}
"""Switch rules and their kernel codes."""


class OptimisticTabularHparams(NamedTuple):
    """Kernel hyperparameters of the tabular optimistic agents (UCRL2, LOOP-Tab).

    Attributes:
        n_states: int64, S.
        delta: float64, confidence level in (0, 1).
        radius_code: int64, :data:`RADIUS_CODES` value of the radii.
        span_bound: float64, span bound ``B`` of EVI (``inf``: no clipping, UCRL2).
        switch_code: int64, :data:`SWITCH_CODES` value of the episode-end rule.
        evi_max_iter: int64, cap on EVI sweeps per episode.
        tau: float64, EVI damping (aperiodicity transform) in (0, 1].
    """

    n_states: np.int64
    delta: float
    radius_code: np.int64
    span_bound: float
    switch_code: np.int64
    evi_max_iter: np.int64
    tau: float


class OptimisticTabularState(NamedTuple):
    """State of the tabular optimistic agents (updated in place).

    Attributes:
        counts: float64[S, A], visits n(s, a).
        trans: float64[S, A, S], transition counts.
        rsum: float64[S, A], summed rewards.
        counts_k: float64[S, A], visits at the start of the current episode.
        nu: float64[S, A], visits within the current episode.
        phat: float64[S, A, S], scratch: empirical transitions.
        rtil: float64[S, A], optimistic rewards of the current policy's model.
        prad: float64[S, A], L1 radii of the current confidence set.
        ptil: float64[S, A, S], optimistic transitions of the current model.
        u: float64[S], EVI values (warm start).
        policy: int64[S], the current policy.
        switches: int64[1], policy computations so far.
        need_plan: int64[1], 1 when the next ``select`` must recompute the policy.
        t: int64[1], updates so far.
        gain: float64[1], optimistic gain of the current model.
    """

    counts: np.ndarray
    trans: np.ndarray
    rsum: np.ndarray
    counts_k: np.ndarray
    nu: np.ndarray
    phat: np.ndarray
    rtil: np.ndarray
    prad: np.ndarray
    ptil: np.ndarray
    u: np.ndarray
    policy: np.ndarray
    switches: np.ndarray
    need_plan: np.ndarray
    t: np.ndarray
    gain: np.ndarray


@njit(cache=True)
def confidence_radii(n, S, A, tk, delta, code):
    """``(reward_radius, l1_transition_radius)`` for ``n`` visits (see module docstring)."""
    if n < 1.0:
        return 1.0, 2.0
    if code == 2:
        dp = delta / (2.0 * S * A)
        log2s = S * math.log(2.0) + math.log(max(1.0 - 2.0 ** (1 - S), 1e-300))
        if S < 2:
            log2s = 0.0
        lg = 0.5 * math.log(n + 1.0) + log2s - math.log(dp)
        pr = math.sqrt(2.0 * (1.0 + 1.0 / n) * lg / n)
        rr = math.sqrt((1.0 + 1.0 / n) * math.log(2.0 * math.sqrt(n + 1.0) / dp) / (2.0 * n))
    else:
        rr = math.sqrt(7.0 * math.log(2.0 * S * A * tk / delta) / (2.0 * n))
        inner = 2.0 * A * tk / delta if code == 0 else 2.0 * S * A * tk / delta
        pr = math.sqrt(14.0 * S * math.log(inner) / n)
    return rr, min(pr, 2.0)


@njit(cache=True)
def optimistic_init(dims, hparams, rng):
    """Empty statistics for ``hparams.n_states`` states and ``dims[0]`` actions."""
    S = hparams.n_states
    A = dims[0]
    return OptimisticTabularState(
        np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((S, A)),
        np.zeros((S, A)), np.zeros((S, A, S)), np.ones((S, A)), np.full((S, A), 2.0),
        np.zeros((S, A, S)), np.zeros(S), np.zeros(S, np.int64), np.zeros(1, np.int64),
        np.ones(1, np.int64), np.zeros(1, np.int64), np.zeros(1),
    )


@njit(cache=True)
def optimistic_plan(state, hparams, t):
    """Start an episode at round ``t``: confidence set, (span-constrained) EVI, new policy.

    Args:
        state: :class:`OptimisticTabularState`.
        hparams: :class:`OptimisticTabularHparams`.
        t: Current round (from 1).
    """
    S = hparams.n_states
    delta = hparams.delta
    code = hparams.radius_code
    span_bound = hparams.span_bound
    max_iter = hparams.evi_max_iter
    tau = hparams.tau
    A = state.counts.shape[1]
    for s in range(S):
        for a in range(A):
            n = state.counts[s, a]
            state.counts_k[s, a] = n
            state.nu[s, a] = 0.0
            rr, pr = confidence_radii(n, S, A, float(t), delta, code)
            state.prad[s, a] = pr
            if n > 0:
                state.rtil[s, a] = min(1.0, state.rsum[s, a] / n + rr)
                for s2 in range(S):
                    state.phat[s, a, s2] = state.trans[s, a, s2] / n
            else:
                state.rtil[s, a] = 1.0
                for s2 in range(S):
                    state.phat[s, a, s2] = 0.0
    eps = 1.0 / math.sqrt(t)
    gain, _ = evi_kernel(state.phat, state.rtil, state.prad, state.u, span_bound, eps, tau,
                         max_iter, state.ptil, state.policy)
    state.gain[0] = gain
    state.switches[0] += 1
    state.need_plan[0] = 0


@njit(cache=True)
def optimistic_select(state, hparams, obs, t, rng):
    """Plan if an episode just ended, then play the current policy in ``obs[0]`` (no draws)."""
    if state.need_plan[0] != 0:
        optimistic_plan(state, hparams, t)
    return np.int64(state.policy[int(obs[0])])


@njit(cache=True)
def optimistic_update(state, hparams, obs, action, reward, next_obs):
    """Count the transition; end the episode by doubling (and, optionally, model exit)."""
    S = hparams.n_states
    delta = hparams.delta
    code = hparams.radius_code
    switch_code = hparams.switch_code
    s = int(obs[0])
    s2 = int(next_obs[0])
    a = action
    state.counts[s, a] += 1.0
    state.trans[s, a, s2] += 1.0
    state.rsum[s, a] += reward
    state.nu[s, a] += 1.0
    state.t[0] += 1
    if state.nu[s, a] >= max(1.0, state.counts_k[s, a]):
        state.need_plan[0] = 1
    elif switch_code == 1:
        # Stricter LOOP-style test [I]: refit when the optimistic model of (s, a) no longer
        # fits the data, i.e. leaves the confidence set with doubled radii (EVI's model sits
        # on the boundary of the set, so the undoubled test would fire at almost every step).
        A = state.counts.shape[1]
        n = state.counts[s, a]
        rr, pr = confidence_radii(n, S, A, float(state.t[0] + 1), delta, code)
        dist = 0.0
        for j in range(S):
            dist += abs(state.ptil[s, a, j] - state.trans[s, a, j] / n)
        rhat = state.rsum[s, a] / n
        if dist > 2.0 * pr or state.rtil[s, a] > rhat + 2.0 * rr:
            state.need_plan[0] = 1


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
    """Shared wrapper of UCRL2 and LOOP-Tab (same kernel, different span bound and switch rule).

    Subclasses store ``delta``, ``radius``, ``n_states`` and ``evi_max_iter``; learned
    state adds ``n_states_`` (the resolved number of states).
    """

    _tags = {
        "families": ("amdp",),
        "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "delta": Interval("real", 0.0, 1.0, closed="neither"),
        "radius": Options(*RADIUS_CODES),
        "n_states": N_STATES,
        "evi_max_iter": Interval("int", 1, None),
    }

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and ``n_states`` against them."""
        super()._validate_params(action_space, observation_space)
        self.n_states_ = resolve_n_states(self.n_states, action_space, observation_space)

    def _hparams(self, span_bound: float, switch: str) -> OptimisticTabularHparams:
        return OptimisticTabularHparams(
            np.int64(self.n_states_), float(self.delta), np.int64(RADIUS_CODES[self.radius]),
            float(span_bound), np.int64(SWITCH_CODES[switch]), np.int64(self.evi_max_iter),
            0.5,
        )

    def diagnostics(self) -> dict[str, float]:
        """``{"switches": number of policy computations so far}``."""
        return {"switches": float(self.state_.switches[0])}


class UCRL2(OptimisticTabularAgent):
    """UCRL2: optimism over L1 confidence sets, extended value iteration, doubling episodes.

    Args:
        delta: Confidence level in (0, 1) (default 0.05).
        radius: ``"joa"`` (JMLR radii, default), ``"joa_sa"`` or ``"laplace"`` (UCRL2-L).
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

    def __init__(self, delta: float = 0.05, radius: str = "joa", n_states=None,
                 evi_max_iter: int = 10_000):
        self.delta = delta
        self.radius = radius
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel without span clipping."""
        return AgentKernel(self._hparams(np.inf, "doubling"), optimistic_init,
                           optimistic_select, optimistic_update)
