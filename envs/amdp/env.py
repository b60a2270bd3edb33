"""Infinite-horizon average-reward MDPs: RiverSwim, SixArms, two-state, gridworld, linear.

Kernels on top, table builders in the middle, classes below. Every env is a
continuing :class:`~banditlab.core.KernelEnv` over an exact table ``(P, r)``:
each step draws exactly two uniforms from the noise stream whatever the action,
one for the next state (inverse CDF) and one for the reward (used only with
``reward_noise="bernoulli"``), so agents on the same env seed face common random
numbers. The oracle (:mod:`banditlab.envs.amdp.oracle`) holds
``J*``, ``h*``, ``sp(h*)`` and ``pi*``, computed exactly at construction.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv
from banditlab.envs.amdp.oracle import AMDPOracle, solve_and_validate

__all__ = [
    "TabularAMDP",
    "RiverSwim",
    "SixArms",
    "TwoStateLowerBound",
    "GridWorldAMDP",
    "LinearAMDP",
    "LinearMixtureAMDP",
    "riverswim_tables",
    "sixarms_tables",
    "two_state_tables",
    "gridworld_tables",
    "low_rank_linear_tables",
    "base_kernel_mixture_tables",
]


# --------------------------------------------------------------------------- kernels
class AMDPState(NamedTuple):
    """Kernel state of a tabular AMDP (updated in place).

    Attributes:
        s: int64[1], the current state.
        t: int64[1], steps completed.
    """

    s: np.ndarray
    t: np.ndarray


@njit(cache=True)
def amdp_init(params, rng):
    """Start in ``params[4]`` (the start state); draws nothing."""
    return AMDPState(np.array([params[4]], np.int64), np.zeros(1, np.int64))


@njit(cache=True)
def amdp_step(state, params, action, rng):
    """One transition: two uniforms, next state by inverse CDF, reward.

    Args:
        state: :class:`AMDPState`.
        params: ``(cdf float64[S, A, S], rbar float64[S, A], gain float64,
            bernoulli int64, start int64)``; ``cdf`` is the row-wise cumulative
            sum of ``P`` with every entry from the last positive one set to 1.
        action: int64.
        rng: Noise generator (exactly two ``random()`` draws per step).

    Returns:
        ``(reward, rbar[s, a], J*)``.
    """
    cdf, rbar, gain, bernoulli, _ = params
    u_next = rng.random()
    u_rew = rng.random()
    s = state.s[0]
    mean = rbar[s, action]
    S = cdf.shape[2]
    nxt = S - 1
    for j in range(S):
        if u_next < cdf[s, action, j]:
            nxt = j
            break
    state.s[0] = nxt
    state.t[0] += 1
    if bernoulli != 0:
        reward = 1.0 if u_rew < mean else 0.0
    else:
        reward = mean
    return reward, mean, gain


@njit(cache=True)
def amdp_observe(state, params):
    """Observation ``[s]`` as float64[1]."""
    out = np.empty(1)
    out[0] = state.s[0]
    return out


@njit(cache=True)
def amdp_checkpoint(state, params):
    """No comparator beyond the per-step gain and no extra metrics."""
    return np.empty(0)


def _inverse_cdf_table(P: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(P, axis=2)
    S, A, _ = P.shape
    for s in range(S):
        for a in range(A):
            last = int(np.flatnonzero(P[s, a] > 0)[-1])
            cdf[s, a, last:] = 1.0
    return np.ascontiguousarray(cdf)


# --------------------------------------------------------------------------- tables
def riverswim_tables(n: int = 6, variant: str = "osband") -> tuple[np.ndarray, np.ndarray]:
    """RiverSwim transition and reward tables (action 0 = left, 1 = right).

    ``variant="osband"`` (Osband, Van Roy & Russo 2013; Strehl & Littman 2008
    rescaled): right from 0 stays 0.4 / moves 0.6; interior left 0.05, stay 0.6,
    right 0.35; last state left 0.4, stay 0.6; r(0, left) = 0.005,
    r(n-1, right) = 1. ``variant="orel"`` (Bourel's OReL course code): right from
    0 stays 0.6 / moves 0.4; interior right 0.4, stay 0.55, left 0.05; last state
    stay 0.6, left 0.4; r(0, left) = 0.05, r(n-1, right) = 1.

    Returns:
        ``(P float64[n, 2, n], r float64[n, 2])``.
    """
    if variant == "osband":
        p0 = (0.4, 0.6)
        pin = (0.05, 0.6, 0.35)
        r_left = 0.005
    elif variant == "orel":
        p0 = (0.6, 0.4)
        pin = (0.05, 0.55, 0.4)
        r_left = 0.05
    else:
        raise BanditlabError(f"variant: expected 'osband' or 'orel', got {variant!r}")
    P = np.zeros((n, 2, n))
    r = np.zeros((n, 2))
    for s in range(n):
        P[s, 0, max(s - 1, 0)] = 1.0
    P[0, 1, 0] = p0[0]
    P[0, 1, 1] = p0[1]
    for s in range(1, n - 1):
        P[s, 1, s - 1] = pin[0]
        P[s, 1, s] = pin[1]
        P[s, 1, s + 1] = pin[2]
    P[n - 1, 1, n - 2] = 0.4
    P[n - 1, 1, n - 1] = 0.6
    r[0, 0] = r_left
    r[n - 1, 1] = 1.0
    return P, r


def sixarms_tables() -> tuple[np.ndarray, np.ndarray]:
    """SixArms (Strehl & Littman 2008), rewards divided by 6000.

    7 states (0 = hub), 6 actions. From the hub, action i reaches room i+1 with
    probability ``[1, .15, .10, .05, .03, .01][i]``, else stays. Room 1: every
    action but 4 stays with reward 50; action 4 returns to the hub. Room j >= 2:
    action j-1 stays with reward ``[133, 300, 800, 1660, 6000][j-2]``; any other
    action returns to the hub (reward 0).
    """
    S, A = 7, 6
    P = np.zeros((S, A, S))
    r = np.zeros((S, A))
    probs = [1.0, 0.15, 0.10, 0.05, 0.03, 0.01]
    for i, p in enumerate(probs):
        P[0, i, i + 1] = p
        P[0, i, 0] += 1.0 - p
    for a in range(A):
        if a == 4:
            P[1, a, 0] = 1.0
        else:
            P[1, a, 1] = 1.0
            r[1, a] = 50.0
    room_rewards = [133.0, 300.0, 800.0, 1660.0, 6000.0]
    for j in range(2, 7):
        for a in range(A):
            if a == j - 1:
                P[j, a, j] = 1.0
                r[j, a] = room_rewards[j - 2]
            else:
                P[j, a, 0] = 1.0
    return P, r / 6000.0


def two_state_tables(
    delta: float = 0.1, epsilon: float = 0.05, n_actions: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Two-state lower-bound MDP (Jaksch et al. 2010 style).

    r(s0, .) = 0, r(s1, .) = 1. From s0 every action moves to s1 with
    probability ``delta``, except action 0 (the best), which moves with
    ``delta + epsilon``; from s1 every action moves to s0 with ``delta``.
    ``J* = (delta + epsilon) / (2 delta + epsilon)``.
    """
    P = np.zeros((2, n_actions, 2))
    r = np.zeros((2, n_actions))
    for a in range(n_actions):
        p = delta + epsilon if a == 0 else delta
        P[0, a, 1] = p
        P[0, a, 0] = 1.0 - p
        P[1, a, 0] = delta
        P[1, a, 1] = 1.0 - delta
        r[1, a] = 1.0
    return P, r


_LAYOUTS = {
    "empty": ("S....", ".....", ".....", ".....", "....G"),
    "four_rooms": ("S.#..", ".....", "#.#.#", "..#..", "....G"),
}
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # up, right, down, left


def gridworld_tables(layout: str = "four_rooms", slip: float = 0.1):
    """Slippery 5x5 gridworld; reward 1 in the goal cell, whose actions teleport to the start.

    States are the free cells in row-major order. With probability ``1 - slip``
    the agent moves in the chosen direction (up, right, down, left), otherwise in
    one of the three other directions uniformly; moves into walls or the border
    leave it in place. Every action in the goal cell pays 1 and returns to the
    start cell (reward collected one step after reaching the goal).

    Returns:
        ``(P, r, start_state, cells)`` with ``cells`` the (row, col) of each state.
    """
    if not isinstance(layout, str) or layout not in _LAYOUTS:
        raise BanditlabError(f"layout: expected one of {sorted(_LAYOUTS)}, got {layout!r}")
    rows = _LAYOUTS[layout]
    cells = [(i, j) for i, row in enumerate(rows) for j, c in enumerate(row) if c != "#"]
    index = {c: k for k, c in enumerate(cells)}
    start = next(index[(i, j)] for i, row in enumerate(rows) for j, c in enumerate(row) if c == "S")
    goal = next(index[(i, j)] for i, row in enumerate(rows) for j, c in enumerate(row) if c == "G")
    S, A = len(cells), 4
    P = np.zeros((S, A, S))
    r = np.zeros((S, A))
    for k, (i, j) in enumerate(cells):
        for a in range(A):
            if k == goal:
                P[k, a, start] = 1.0
                r[k, a] = 1.0
                continue
            for m, (di, dj) in enumerate(_MOVES):
                p = 1.0 - slip if m == a else slip / 3.0
                target = index.get((i + di, j + dj), k)
                P[k, a, target] += p
    return P, r, start, cells


def low_rank_linear_tables(
    n_states: int, n_actions: int, dim: int, alpha_phi: float, alpha_mu: float, seed: int
):
    """Random low-rank linear AMDP: ``P = Phi mu``, ``r = Phi w_r``.

    ``phi(s, a) ~ Dirichlet(alpha_phi 1_d)``, rows of ``mu ~ Dirichlet(alpha_mu 1_S)``,
    ``w_r ~ U[0, 1]^d``, all from ``default_rng(seed)``.

    Returns:
        ``(P float64[S, A, S], r float64[S, A], phi float64[S, A, d])``.
    """
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(alpha_phi * np.ones(dim), size=(n_states, n_actions))
    mu = rng.dirichlet(alpha_mu * np.ones(n_states), size=dim)
    w_r = rng.uniform(0.0, 1.0, size=dim)
    P = phi @ mu
    P /= P.sum(axis=2, keepdims=True)
    r = np.clip(phi @ w_r, 0.0, 1.0)
    return P, r, phi


def base_kernel_mixture_tables(
    n_states: int, n_actions: int, n_kernels: int, alpha: float, seed: int
):
    """Random linear mixture ``P = sum_j theta_j P_j`` over ``m`` base kernels.

    Base kernel rows ``~ Dirichlet(alpha 1_S)``, ``theta ~ Dirichlet(1_m)``,
    rewards ``~ U[0, 1]``, all from ``default_rng(seed)``.

    Returns:
        ``(P, r, psi float64[S, A, S, m], theta float64[m])``.
    """
    rng = np.random.default_rng(seed)
    base = rng.dirichlet(alpha * np.ones(n_states), size=(n_kernels, n_states, n_actions))
    theta = rng.dirichlet(np.ones(n_kernels))
    psi = np.ascontiguousarray(np.moveaxis(base, 0, -1))  # [S, A, S, m]
    P = psi @ theta
    P /= P.sum(axis=2, keepdims=True)
    r = rng.uniform(0.0, 1.0, size=(n_states, n_actions))
    return P, r, psi, theta


# --------------------------------------------------------------------------- validation
def _validate_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise BanditlabError(f"horizon: expected an integer >= 1, got {horizon!r}")
    return int(horizon)


def _validate_int(name: str, value, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise BanditlabError(f"{name}: expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        hi = "" if high is None else f", <= {high}"
        raise BanditlabError(f"{name}: expected an integer >= {low}{hi}, got {value!r}")
    return int(value)


def _validate_prob(name: str, value, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise BanditlabError(f"{name}: expected a number in [{low}, {high}], got {value!r}")
    if not (np.isfinite(value) and low <= value <= high):
        raise BanditlabError(f"{name}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


def validate_tables(transitions, rewards) -> tuple[np.ndarray, np.ndarray]:
    """Check ``P`` (float[S, A, S], rows on the simplex) and ``r`` (float[S, A] in [0, 1]).

    Raises:
        BanditlabError: On a wrong shape, a negative or non-finite probability, a
            row not summing to 1 (tolerance 1e-9), or a reward outside [0, 1].
    """
    try:
        P = np.array(transitions, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError("transitions: expected a float array [S, A, S]") from None
    if P.ndim != 3 or P.shape[0] < 1 or P.shape[1] < 1 or P.shape[2] != P.shape[0]:
        raise BanditlabError(f"transitions: expected shape [S, A, S], got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise BanditlabError("transitions: every probability must be finite")
    if np.any(P < 0):
        s, a, s2 = np.argwhere(P < 0)[0]
        raise BanditlabError(
            f"transitions: negative probability P[{s}, {a}, {s2}] = {P[s, a, s2]}; "
            "probabilities must be >= 0"
        )
    sums = P.sum(axis=2)
    if np.any(np.abs(sums - 1.0) > 1e-9):
        s, a = np.argwhere(np.abs(sums - 1.0) > 1e-9)[0]
        raise BanditlabError(
            f"transitions: row P[{s}, {a}, :] sums to {sums[s, a]:.12g}; every row must sum to 1"
        )
    P /= sums[:, :, None]
    try:
        r = np.array(rewards, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError("rewards: expected a float array [S, A]") from None
    if r.shape != P.shape[:2]:
        raise BanditlabError(f"rewards: expected shape {P.shape[:2]}, got {r.shape}")
    if not np.all(np.isfinite(r)) or np.any(r < 0) or np.any(r > 1):
        raise BanditlabError("rewards: every mean reward must lie in [0, 1]")
    return P, r


# --------------------------------------------------------------------------- envs
class TabularAMDP(KernelEnv):
    """A finite average-reward MDP given by exact tables (base of the family).

    ## Description
    An infinite-horizon MDP with no resets: one run is ``horizon`` steps of
    ``s_{t+1} ~ P(.|s_t, a_t)``. The learner is compared with the optimal gain.

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``: the current state (kernel observation float64[1]).

    ## Reward
    ``r(s, a)`` (``reward_noise="none"``) or ``Bernoulli(r(s, a))``
    (``"bernoulli"``). Each step draws two uniforms (next state by inverse CDF,
    reward) whatever the action.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``; realised ``t J* - sum r``,
    pseudo ``sum_t (J* - r(s_t, a_t))``.

    ## Information
    ``t``; ``state`` (``s_t`` before the step); ``expected_reward``
    (``r(s_t, a_t)``); ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``transitions``: float[S, A, S], rows on the simplex.
    * ``rewards``: float[S, A] mean rewards in [0, 1].
    * ``horizon``: run length T (default 200000).
    * ``reward_noise``: ``"none"`` or ``"bernoulli"``.
    * ``start_state``: initial state (default 0); the optimal gain from it must be ``J*``.

    Known constants: ``n_states``, ``n_actions``, ``reward_max`` (1),
    ``span_bound`` (``sp(h*)``), ``span_bound_x2`` and ``span_bound_x4`` (for the
    sensitivity study of a loose bound B), ``horizon``.

    ## References
    Puterman, "Markov Decision Processes" (1994), ch. 8-9; Jaksch, Ortner & Auer,
    JMLR 11 (2010).

    ## Version History
    * v0: initial version.
    """

    family = "amdp"

    def __init__(
        self,
        transitions=None,
        rewards=None,
        horizon: int = 200_000,
        reward_noise: str = "none",
        start_state: int = 0,
    ):
        if transitions is None or rewards is None:
            transitions, rewards = riverswim_tables(6, "osband")
        P, r = validate_tables(transitions, rewards)
        self._setup(P, r, horizon, reward_noise, start_state, {})

    def _setup(self, P, r, horizon, reward_noise, start_state, extra_known) -> None:
        self.horizon = _validate_horizon(horizon)
        self.run_length = self.horizon
        if reward_noise not in ("none", "bernoulli"):
            raise BanditlabError(
                f"reward_noise: expected 'none' or 'bernoulli', got {reward_noise!r}"
            )
        self.reward_noise = reward_noise
        S, A = r.shape
        self.start_state = _validate_int("start_state", start_state, 0, S - 1)
        self.transitions = P
        self.rewards = r
        solution = solve_and_validate(P, r, self.start_state)
        self.oracle = AMDPOracle(P, r, solution)
        self.action_space = gym.spaces.Discrete(A)
        self.observation_space = gym.spaces.Discrete(S)
        self.known_constants = MappingProxyType(
            {
                "n_states": S,
                "n_actions": A,
                "reward_max": 1.0,
                "span_bound": float(solution.span),
                "span_bound_x2": 2.0 * float(solution.span),
                "span_bound_x4": 4.0 * float(solution.span),
                "horizon": self.horizon,
                **extra_known,
            }
        )
        self.kernel = EnvKernel(
            params=(
                _inverse_cdf_table(P),
                np.ascontiguousarray(r),
                float(solution.gain),
                np.int64(1 if reward_noise == "bernoulli" else 0),
                np.int64(self.start_state),
            ),
            init=amdp_init,
            step=amdp_step,
            observe=amdp_observe,
            checkpoint=amdp_checkpoint,
        )


    def kernel_obs_to_obs(self, kobs):
        """The state index as ``np.int64``."""
        return np.int64(kobs[0])

    def _pre_step_info(self, action):
        return {"state": int(self.state_.s[0])}


class RiverSwim(TabularAMDP):
    """RiverSwim with ``n`` states (Strehl & Littman 2008; Osband et al. 2013).

    ## Description
    A chain: action 0 (left) moves left deterministically; action 1 (right)
    swims against the current. Small reward at the left end, large at the right
    end. Start state 0. See :func:`riverswim_tables` for both parameterisations.

    ## Action Space
    ``Discrete(2)``.

    ## Observation Space
    ``Discrete(n)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``n``: number of states (>= 2, default 6).
    * ``variant``: ``"osband"`` (default) or ``"orel"``.
    * ``horizon``, ``reward_noise``, ``start_state`` as :class:`TabularAMDP`.

    ## References
    Strehl & Littman, JCSS 74 (2008); Osband, Russo & Van Roy, NeurIPS 2013.

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, n: int = 6, variant: str = "osband", horizon: int = 200_000,
        reward_noise: str = "none", start_state: int = 0,
    ):
        self.n = _validate_int("n", n, 2)
        self.variant = variant
        P, r = riverswim_tables(self.n, variant)
        self._setup(P, r, horizon, reward_noise, start_state, {})


class SixArms(TabularAMDP):
    """SixArms (Strehl & Littman 2008), rewards scaled to [0, 1].

    ## Description
    A hub and six rooms of decreasing reachability and increasing reward (see
    :func:`sixarms_tables`). Under average reward it is degenerate (``J*`` = the
    largest reward): regret measures how fast room 6 is found; a large-span stress test.

    ## Action Space
    ``Discrete(6)``.

    ## Observation Space
    ``Discrete(7)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    ``horizon``, ``reward_noise``, ``start_state`` (default 0, the hub).

    ## References
    Strehl & Littman, JCSS 74 (2008).

    ## Version History
    * v0: initial version.
    """

    def __init__(self, horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0):
        P, r = sixarms_tables()
        self._setup(P, r, horizon, reward_noise, start_state, {})


class TwoStateLowerBound(TabularAMDP):
    """The two-state MDP of UCRL2's lower-bound construction.

    ## Description
    Reward 1 in s1, 0 in s0 for every action. From s0, action 0 moves to s1 with
    probability ``delta + epsilon``, the others with ``delta``; from s1 every
    action returns with ``delta``. ``J* = (delta + epsilon) / (2 delta + epsilon)``,
    diameter about ``1 / delta``. Start state s0.

    ## Action Space
    ``Discrete(n_actions)``.

    ## Observation Space
    ``Discrete(2)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``delta`` in (0, 0.5], ``epsilon`` in [0, 1 - delta], ``n_actions`` >= 1.
    * ``horizon``, ``reward_noise``, ``start_state``.

    ## References
    Jaksch, Ortner & Auer, JMLR 11 (2010), Sec. 6 (construction recalled [M]).

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, delta: float = 0.1, epsilon: float = 0.05, n_actions: int = 2,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        self.delta = _validate_prob("delta", delta, 0.0, 0.5)
        if self.delta <= 0:
            raise BanditlabError(f"delta: expected a number in (0, 0.5], got {delta!r}")
        self.epsilon = _validate_prob("epsilon", epsilon, 0.0, 1.0 - self.delta)
        self.n_actions = _validate_int("n_actions", n_actions, 1)
        P, r = two_state_tables(self.delta, self.epsilon, self.n_actions)
        self._setup(P, r, horizon, reward_noise, start_state, {})


class GridWorldAMDP(TabularAMDP):
    """Slippery 5x5 gridworld with a goal that teleports to the start.

    ## Description
    See :func:`gridworld_tables`. Layouts ``"four_rooms"`` (default) and
    ``"empty"`` (Colosseum-style ``minigrid_empty``/``simple_grid`` designs).

    ## Action Space
    ``Discrete(4)`` (up, right, down, left).

    ## Observation Space
    ``Discrete(S)``, the free cells in row-major order.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``layout``: ``"four_rooms"`` or ``"empty"``.
    * ``slip``: slip probability in [0, 1) (default 0.1).
    * ``horizon``, ``reward_noise``; the start is the ``S`` cell.

    ## References
    Conserva & Rauber, "Hardness in Markov Decision Processes: Theory and Practice"
    (Colosseum), NeurIPS 2022 [M].

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, layout: str = "four_rooms", slip: float = 0.1, horizon: int = 200_000,
        reward_noise: str = "none",
    ):
        self.layout = layout
        self.slip = _validate_prob("slip", slip, 0.0, 1.0)
        if self.slip >= 1.0:
            raise BanditlabError(f"slip: expected a number in [0, 1), got {slip!r}")
        P, r, start, cells = gridworld_tables(layout, self.slip)
        self.cells = tuple(cells)
        self._setup(P, r, horizon, reward_noise, start, {})


class LinearAMDP(TabularAMDP):
    """Linear AMDP ``P(.|s, a) = <phi(s, a), mu(.)>``, ``r = <phi, w_r>`` with known ``phi``.

    ## Description
    ``features="low_rank"``: a random instance (:func:`low_rank_linear_tables`)
    fixed by ``instance_seed``; ``features="one_hot"``: RiverSwim-``n`` with
    ``phi = one-hot(s, a)`` (``d = 2n``).

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``features``: ``"low_rank"`` (default) or ``"one_hot"``.
    * ``n_states`` (20), ``n_actions`` (4), ``dim`` (8), ``alpha_phi`` (0.3),
      ``alpha_mu`` (0.5), ``instance_seed`` (0): low-rank instance.
    * ``n``: RiverSwim size for ``"one_hot"`` (default 6).
    * ``horizon``, ``reward_noise``, ``start_state``.

    Known constants add ``features`` (float64[S, A, d]) and ``dim``.

    ## References
    Wei et al., AISTATS 2021; He, Zhong & Yang, ICLR 2024.

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, features: str = "low_rank", n_states: int = 20, n_actions: int = 4, dim: int = 8,
        alpha_phi: float = 0.3, alpha_mu: float = 0.5, instance_seed: int = 0, n: int = 6,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        self.features = features
        if features == "low_rank":
            S = _validate_int("n_states", n_states, 2)
            A = _validate_int("n_actions", n_actions, 1)
            d = _validate_int("dim", dim, 1)
            for name, val in (("alpha_phi", alpha_phi), ("alpha_mu", alpha_mu)):
                if not (isinstance(val, (int, float)) and np.isfinite(val) and val > 0):
                    raise BanditlabError(f"{name}: expected a finite number > 0, got {val!r}")
            seed = _validate_int("instance_seed", instance_seed, 0)
            P, r, phi = low_rank_linear_tables(S, A, d, alpha_phi, alpha_mu, seed)
        elif features == "one_hot":
            P, r = riverswim_tables(_validate_int("n", n, 2), "osband")
            S, A = r.shape
            phi = np.eye(S * A).reshape(S, A, S * A)
        else:
            raise BanditlabError(f"features: expected 'low_rank' or 'one_hot', got {features!r}")
        P, r = validate_tables(P, r)
        self._setup(P, r, horizon, reward_noise, start_state,
                    {"features": phi, "dim": int(phi.shape[2])})


class LinearMixtureAMDP(TabularAMDP):
    """Linear-mixture AMDP ``P(s'|s, a) = <psi(s'|s, a), theta*>`` with known ``psi``.

    ## Description
    ``mixture="base_kernels"``: ``P = sum_j theta_j P_j`` over ``n_kernels``
    random base kernels (:func:`base_kernel_mixture_tables`); ``mixture="one_hot"``:
    RiverSwim-``n`` with ``psi`` one-hot over (s, a, s') (``d = 2 n^2``).

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Discrete(S)``.

    ## Reward
    ``r(s, a)`` (or ``Bernoulli(r(s, a))``), two uniforms per step.

    ## Regret
    ``gain`` (primary, per step): comparator ``t J*``.

    ## Information
    ``t``, ``state``, ``expected_reward``, ``optimal_expected_reward`` (``J*``).

    ## Arguments
    * ``mixture``: ``"base_kernels"`` (default) or ``"one_hot"``.
    * ``n_states`` (10), ``n_actions`` (3), ``n_kernels`` (4), ``alpha`` (0.5),
      ``instance_seed`` (0); ``n`` (6) for ``"one_hot"``.
    * ``horizon``, ``reward_noise``, ``start_state``.

    Known constants add ``mixture_features`` (float64[S, A, S, d]), ``dim`` and
    ``theta_norm_bound`` (a bound on ``||theta*||_2``: 1 for base kernels, ``||P||_F`` for one-hot).

    ## References
    Wu, Zhou & Gu, AISTATS 2022; He, Zhong & Yang, ICLR 2024.

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, mixture: str = "base_kernels", n_states: int = 10, n_actions: int = 3,
        n_kernels: int = 4, alpha: float = 0.5, instance_seed: int = 0, n: int = 6,
        horizon: int = 200_000, reward_noise: str = "none", start_state: int = 0,
    ):
        self.mixture = mixture
        if mixture == "base_kernels":
            S = _validate_int("n_states", n_states, 2)
            A = _validate_int("n_actions", n_actions, 1)
            m = _validate_int("n_kernels", n_kernels, 1)
            if not (isinstance(alpha, (int, float)) and np.isfinite(alpha) and alpha > 0):
                raise BanditlabError(f"alpha: expected a finite number > 0, got {alpha!r}")
            seed = _validate_int("instance_seed", instance_seed, 0)
            P, r, psi, theta = base_kernel_mixture_tables(S, A, m, alpha, seed)
            theta_norm = 1.0  # theta* lies on the simplex
        elif mixture == "one_hot":
            P, r = riverswim_tables(_validate_int("n", n, 2), "osband")
            S, A = r.shape
            psi = np.eye(S * A * S).reshape(S, A, S, S * A * S)
            theta_norm = float(np.linalg.norm(P))  # theta* = vec(P)
        else:
            raise BanditlabError(
                f"mixture: expected 'base_kernels' or 'one_hot', got {mixture!r}"
            )
        P, r = validate_tables(P, r)
        self._setup(P, r, horizon, reward_noise, start_state,
                    {"mixture_features": psi, "dim": int(psi.shape[3]),
                     "theta_norm_bound": theta_norm})
