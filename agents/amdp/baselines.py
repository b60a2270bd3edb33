"""Tabular sanity baselines for average-reward MDPs: fixed policy, CE eps-greedy, PSRL.

Kernels on top, classes below. All three report ``diagnostics()["switches"]``,
the number of policy computations so far.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.amdp.ucrl2 import N_STATES, resolve_n_states
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.envs.amdp.planning import rvi_into
from banditlab.kernels import random_integer
from banditlab.validation import Array, Interval

RVI_CONSTRAINTS: dict[str, Any] = {
    "n_states": N_STATES,
    "rvi_tol": Interval("real", 0.0, 1.0, closed="neither"),
    "rvi_max_iter": Interval("int", 1, None),
}
"""Constraints of the hyperparameters shared by the model-based baselines."""


# --------------------------------------------------------------------------- fixed policy
class TabularPolicyHparams(NamedTuple):
    """Kernel hyperparameters of :class:`TabularPolicy`.

    Attributes:
        policy: int64[S], the action played in each state.
    """

    policy: np.ndarray


class PolicyState(NamedTuple):
    """State of :class:`TabularPolicy`.

    Attributes:
        policy: int64[S], action of each state.
        switches: int64[1], always 0.
    """

    policy: np.ndarray
    switches: np.ndarray


@njit(cache=True)
def policy_init(dims, hparams, rng):
    """Copy the policy table ``hparams.policy`` (:class:`TabularPolicyHparams`)."""
    return PolicyState(hparams.policy.copy(), np.zeros(1, np.int64))


@njit(cache=True)
def policy_select(state, hparams, obs, t, rng):
    """``policy[obs[0]]`` (no draws)."""
    return np.int64(state.policy[int(obs[0])])


@njit(cache=True)
def policy_update(state, hparams, obs, action, reward, next_obs):
    """Nothing to learn."""
    return None


class TabularPolicy(KernelAgent):
    """Fixed deterministic stationary policy on a tabular AMDP, one action per state.

    The average-reward oracle's ``optimal`` benchmark plays ``pi*`` through its
    subclass :class:`OptimalPolicy`.

    Args:
        policy: Sequence of actions, one per state (default: always action 1,
            optimal on RiverSwim-6).
    """

    _tags = {
        "learns": False,
        "oracle": True,
        "families": ("amdp",),
        "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {"policy": Array("int", ndim=1, low=0)}

    display_name: ClassVar[str] = "Fixed policy"

    def __init__(self, policy=(1, 1, 1, 1, 1, 1)):
        self.policy = policy

    def _validate_params(self, action_space, observation_space) -> None:
        """``policy`` a sequence of actions >= 0, then matched against the env's spaces.

        A policy built for another env is a space mismatch, reported as such (naming
        ``observation_space`` or ``action_space``).
        """
        super()._validate_params(action_space, observation_space)
        n_states = resolve_n_states(None, action_space, observation_space)
        arr = np.ascontiguousarray(self.policy, dtype=np.int64)
        if arr.shape != (n_states,):
            raise BanditlabError(
                f"observation_space: the policy has {arr.shape[0]} actions (one per state), "
                f"the env has {observation_space}"
            )
        if np.any(arr >= action_space.n):
            raise BanditlabError(
                f"action_space: the policy plays action {int(arr.max())}, the env has "
                f"{action_space}"
            )
        self.policy_array_ = arr

    def make_kernel(self) -> AgentKernel:
        """Fixed-policy kernel."""
        return AgentKernel(TabularPolicyHparams(self.policy_array_), policy_init, policy_select,
                           policy_update)

    def diagnostics(self) -> dict[str, float]:
        """``{"switches": 0}``."""
        return {"switches": 0.0}


class OptimalPolicy(TabularPolicy):
    """An optimal policy ``pi*`` of a tabular AMDP, played as a fixed policy (the benchmark OPT).

    The average-reward oracle's ``optimal`` benchmark builds it with ``policy = pi*``
    (from relative value iteration on the true model); the expected pseudo-regret of
    ``pi*`` stays within ``+-sp(h*)``.

    Args:
        policy: ``pi*``, one action per state (default: always action 1, optimal on
            RiverSwim-6).
    """

    display_name: ClassVar[str] = "OPT"


# --------------------------------------------------------------------------- shared stats
class ModelState(NamedTuple):
    """State of the model-based sampling baselines (updated in place).

    Attributes:
        counts: float64[S, A], visits.
        trans: float64[S, A, S], transition counts.
        rsum: float64[S, A], summed rewards.
        counts_k: float64[S, A], visits at the last policy computation.
        nu: float64[S, A], visits since then.
        pmodel: float64[S, A, S], scratch model.
        rmodel: float64[S, A], scratch rewards.
        policy: int64[S], current policy.
        switches: int64[1], policy computations so far.
        need_plan: int64[1], plan at the next ``select``.
        rvi_h: float64[S], RVI scratch: the bias of the last plan.
        rvi_v: float64[S], RVI scratch: the values of a sweep.
    """

    counts: np.ndarray
    trans: np.ndarray
    rsum: np.ndarray
    counts_k: np.ndarray
    nu: np.ndarray
    pmodel: np.ndarray
    rmodel: np.ndarray
    policy: np.ndarray
    switches: np.ndarray
    need_plan: np.ndarray
    rvi_h: np.ndarray
    rvi_v: np.ndarray


@njit(cache=True)
def model_init(dims, hparams, rng):
    """Empty statistics for ``hparams.n_states`` states and ``dims[0]`` actions."""
    S = hparams.n_states
    A = dims[0]
    return ModelState(
        np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((S, A)),
        np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A)), np.zeros(S, np.int64),
        np.zeros(1, np.int64), np.ones(1, np.int64), np.zeros(S), np.zeros(S),
    )


@njit(cache=True)
def model_update(state, hparams, obs, action, reward, next_obs):
    """Count the transition; request a new policy by the doubling rule."""
    s = int(obs[0])
    a = action
    state.counts[s, a] += 1.0
    state.trans[s, a, int(next_obs[0])] += 1.0
    state.rsum[s, a] += reward
    state.nu[s, a] += 1.0
    if state.nu[s, a] >= max(1.0, state.counts_k[s, a]):
        state.need_plan[0] = 1


@njit(cache=True)
def _start_episode(state):
    S, A = state.counts.shape
    for s in range(S):
        for a in range(A):
            state.counts_k[s, a] = state.counts[s, a]
            state.nu[s, a] = 0.0
    state.switches[0] += 1
    state.need_plan[0] = 0


# --------------------------------------------------------------------------- PSRL
class PSRLHparams(NamedTuple):
    """Kernel hyperparameters of :class:`PSRL`.

    Attributes:
        n_states: int64, S.
        rvi_tol: float64, RVI tolerance when solving a sampled model.
        rvi_max_iter: int64, RVI iteration cap.
    """

    n_states: np.int64
    rvi_tol: float
    rvi_max_iter: np.int64


@njit(cache=True)
def psrl_sample_and_solve(state, hparams, rng):
    """Sample a model from the posterior, solve it by RVI, start an episode.

    Posterior: ``Dirichlet(1 + counts)`` per transition row, ``Beta(1 + sum r,
    1 + n - sum r)`` per mean reward (rewards in [0, 1] used as fractional successes).
    """
    S, A = state.counts.shape
    for s in range(S):
        for a in range(A):
            tot = 0.0
            for s2 in range(S):
                g = rng.gamma(1.0 + state.trans[s, a, s2], 1.0)
                state.pmodel[s, a, s2] = g
                tot += g
            for s2 in range(S):
                state.pmodel[s, a, s2] /= tot
            n = state.counts[s, a]
            sr = state.rsum[s, a]
            state.rmodel[s, a] = rng.beta(1.0 + sr, 1.0 + n - sr)
    rvi_into(state.pmodel, state.rmodel, 0.5, 0, hparams.rvi_tol, hparams.rvi_max_iter,
             state.rvi_h, state.rvi_v, state.policy)
    _start_episode(state)


@njit(cache=True)
def psrl_select(state, hparams, obs, t, rng):
    """At an episode start, sample a model and solve it (:func:`psrl_sample_and_solve`).

    The sampling is called inside ``try``, with ``state`` used after it, for the reason
    given in :func:`banditlab.agents.amdp.ucrl2.optimistic_select`.
    """
    if state.need_plan[0] != 0:
        failed = False
        try:
            psrl_sample_and_solve(state, hparams, rng)
        except Exception:
            failed = True
        if failed:
            raise RuntimeError("psrl_select: sampling or solving the model failed")
    return np.int64(state.policy[int(obs[0])])


class PSRL(KernelAgent):
    """Posterior sampling for RL with the UCRL2 doubling episodes.

    Deviations:
        PSRL (Osband, Russo & Van Roy 2013) resamples at the start of fixed-length
        episodes of an episodic MDP, and its average-reward version TSDE (Ouyang et al.
        2017) also ends an episode when it outlasts the previous one by a step; here
        episodes end only by UCRL2's doubling rule (the count of the pair just played
        doubles) [I]. Measured effect: not measured (no fixed-length or TSDE schedule
        is implemented here to compare with).

    Args:
        n_states: Number of states or ``None`` (read from the observation space).
        rvi_tol: RVI tolerance when solving a sampled model (default 1e-8).
        rvi_max_iter: RVI iteration cap (default 20000).

    References:
        Osband, Russo & Van Roy, "(More) Efficient Reinforcement Learning via
        Posterior Sampling", NeurIPS 2013; Ouyang et al., NeurIPS 2017
        (average-reward TSDE). Priors Dirichlet(1)/Beta(1, 1) [I].
    """

    _tags = {"families": ("amdp",), "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300})}
    _parameter_constraints: ClassVar[dict[str, Any]] = dict(RVI_CONSTRAINTS)

    display_name: ClassVar[str] = "PSRL"
    deviation: ClassVar[str | None] = "doubling episodes"

    def __init__(self, n_states=None, rvi_tol: float = 1e-8, rvi_max_iter: int = 20_000):
        self.n_states = n_states
        self.rvi_tol = rvi_tol
        self.rvi_max_iter = rvi_max_iter

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and ``n_states`` against them."""
        super()._validate_params(action_space, observation_space)
        self.n_states_ = resolve_n_states(self.n_states, action_space, observation_space)

    def make_kernel(self) -> AgentKernel:
        """PSRL kernel."""
        hp = PSRLHparams(np.int64(self.n_states_), float(self.rvi_tol),
                         np.int64(self.rvi_max_iter))
        return AgentKernel(hp, model_init, psrl_select, model_update)

    def diagnostics(self) -> dict[str, float]:
        """``{"switches": number of sampled policies}``."""
        return {"switches": float(self.state_.switches[0])}


# --------------------------------------------------------------------------- CE eps-greedy
class CEEpsGreedyHparams(NamedTuple):
    """Kernel hyperparameters of :class:`CertaintyEquivalenceEpsGreedy`.

    Attributes:
        n_states: int64, S.
        rvi_tol: float64, RVI tolerance.
        rvi_max_iter: int64, RVI iteration cap.
        c: float64, exploration constant of ``eps_t = min(1, c / sqrt(t))``.
    """

    n_states: np.int64
    rvi_tol: float
    rvi_max_iter: np.int64
    c: float


@njit(cache=True)
def ce_select(state, hparams, obs, t, rng):
    """Certainty equivalence with eps-greedy exploration.

    At rounds ``t = 1, 2, 4, 8, ...`` solve the empirical model by RVI
    (unvisited pairs: uniform next state, reward 0); then play a uniform action
    with probability ``min(1, c / sqrt(t))``, else the planned one. Two draws per call.
    """
    tol = hparams.rvi_tol
    max_iter = hparams.rvi_max_iter
    c = hparams.c
    S, A = state.counts.shape
    if (t & (t - 1)) == 0:
        for s in range(S):
            for a in range(A):
                n = state.counts[s, a]
                for s2 in range(S):
                    state.pmodel[s, a, s2] = state.trans[s, a, s2] / n if n > 0 else 1.0 / S
                state.rmodel[s, a] = state.rsum[s, a] / n if n > 0 else 0.0
        rvi_into(state.pmodel, state.rmodel, 0.5, 0, tol, max_iter, state.rvi_h, state.rvi_v,
                 state.policy)
        state.switches[0] += 1
    u = rng.random()
    a_rand = random_integer(rng, 0, A)  # rng.integers(0, A) without its one-element array
    if u < min(1.0, c / math.sqrt(t)):
        return np.int64(a_rand)
    return np.int64(state.policy[int(obs[0])])


@njit(cache=True)
def ce_update(state, hparams, obs, action, reward, next_obs):
    """Count the transition."""
    s = int(obs[0])
    state.counts[s, action] += 1.0
    state.trans[s, action, int(next_obs[0])] += 1.0
    state.rsum[s, action] += reward


class CertaintyEquivalenceEpsGreedy(KernelAgent):
    """Plan on the empirical model every ``2^j`` rounds, explore with ``eps_t = min(1, c/sqrt(t))``.

    Args:
        c: Exploration constant (> 0, default 1.0).
        n_states: Number of states or ``None`` (read from the observation space).
        rvi_tol: RVI tolerance (default 1e-8).
        rvi_max_iter: RVI iteration cap (default 20000).

    References:
        A naive baseline designed for banditlab [I]; no regret guarantee.
    """

    _tags = {"families": ("amdp",), "check_env": ("banditlab/RiverSwim-v0", {"horizon": 300})}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "c": Interval("real", 0.0, None, closed="neither"),
        **RVI_CONSTRAINTS,
    }

    display_name: ClassVar[str] = "CE eps-greedy"

    def __init__(self, c: float = 1.0, n_states=None, rvi_tol: float = 1e-8,
                 rvi_max_iter: int = 20_000):
        self.c = c
        self.n_states = n_states
        self.rvi_tol = rvi_tol
        self.rvi_max_iter = rvi_max_iter

    def _validate_params(self, action_space, observation_space) -> None:
        """The constraints, then Discrete spaces and ``n_states`` against them."""
        super()._validate_params(action_space, observation_space)
        self.n_states_ = resolve_n_states(self.n_states, action_space, observation_space)

    def make_kernel(self) -> AgentKernel:
        """CE eps-greedy kernel."""
        hp = CEEpsGreedyHparams(np.int64(self.n_states_), float(self.rvi_tol),
                                np.int64(self.rvi_max_iter), float(self.c))
        return AgentKernel(hp, model_init, ce_select, ce_update)

    def diagnostics(self) -> dict[str, float]:
        """``{"switches": number of re-plannings}``."""
        return {"switches": float(self.state_.switches[0])}
