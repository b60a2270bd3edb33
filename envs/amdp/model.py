"""Model of the average-reward MDP family: exact tables, their validation and the env kernels.

The leaf module of the family: the environments (:mod:`banditlab.envs.amdp.env`) build
their :class:`~banditlab.core.EnvKernel` from the kernels here, and the table builders
are shared by the envs, the tests and the notebook. Every step draws exactly two uniforms
from the noise stream whatever the action, one for the next state (inverse CDF) and one
for the reward (used only with ``reward_noise="bernoulli"``), so agents on the same env
seed face common random numbers.

Shapes: ``P`` float64[S, A, S], ``r`` float64[S, A].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.core import BanditlabError

__all__ = [
    "AMDPParams",
    "AMDPState",
    "amdp_params",
    "amdp_init",
    "amdp_step",
    "amdp_observe",
    "amdp_observe_state",
    "OBS_TABLE_STATES",
    "STATE_OBS",
    "amdp_checkpoint",
    "inverse_cdf_table",
    "riverswim_tables",
    "sixarms_tables",
    "two_state_tables",
    "GRIDWORLD_LAYOUTS",
    "gridworld_tables",
    "low_rank_linear_tables",
    "base_kernel_mixture_tables",
    "validate_tables",
]
# --------------------------------------------------------------------------- kernels
class AMDPParams(NamedTuple):
    """Kernel parameters of a tabular AMDP (:class:`~banditlab.envs.amdp.env.TabularAMDP`).

    Attributes:
        cdf: float64[S, A, S], row-wise cumulative sum of ``P`` with every entry from the
            last positive one set to 1 (:func:`inverse_cdf_table`).
        rbar: float64[S, A], mean rewards.
        gain: float64, the optimal gain ``J*``.
        bernoulli: int64, 1 for Bernoulli rewards, 0 for the mean reward itself.
        start: int64, the start state.
    """

    cdf: np.ndarray
    rbar: np.ndarray
    gain: float
    bernoulli: np.int64
    start: np.int64


class AMDPState(NamedTuple):
    """Kernel state of a tabular AMDP (updated in place).

    Attributes:
        s: int64[1], the current state.
        t: int64[1], steps completed.
        obs: float64[S, 1], the observation of every state (``obs[s, 0] = s``, written by
            ``init`` and never changed), read by :func:`amdp_observe_state`.
    """

    s: np.ndarray
    t: np.ndarray
    obs: np.ndarray


OBS_TABLE_STATES = 1024
"""Largest number of states whose observations :func:`amdp_observe` reads from
:data:`STATE_OBS`; larger MDPs use :func:`amdp_observe_state`."""

STATE_OBS = np.arange(OBS_TABLE_STATES, dtype=np.float64).reshape(OBS_TABLE_STATES, 1)
"""float64[OBS_TABLE_STATES, 1], ``STATE_OBS[s, 0] = s``: the observation of state ``s``
(read-only; compiled into the kernels as a constant)."""
STATE_OBS.setflags(write=False)


@njit(cache=True)
def amdp_init(params, rng):
    """Start in ``params.start``; draws nothing."""
    S = params.rbar.shape[0]
    obs = np.empty((S, 1))
    for s in range(S):
        obs[s, 0] = s
    return AMDPState(np.array([params.start], np.int64), np.zeros(1, np.int64), obs)


@njit(cache=True)
def amdp_step(state, params, action, rng):
    """One transition: two uniforms, next state by inverse CDF, reward.

    The arrays are indexed through ``state`` and ``params`` (no local aliases, no
    ``break``), which lets Numba drop the reference counting of the inlined kernel in the
    fused loop.

    Args:
        state: :class:`AMDPState`.
        params: :class:`AMDPParams`.
        action: int64.
        rng: Noise generator (exactly two ``random()`` draws per step).

    Returns:
        ``(reward, rbar[s, a], J*)``.
    """
    u_next = rng.random()
    u_rew = rng.random()
    s = state.s[0]
    mean = params.rbar[s, action]
    S = params.cdf.shape[2]
    nxt = S - 1
    j = 0
    while j < S:  # the first j with u_next < cdf[s, a, j]
        if u_next < params.cdf[s, action, j]:
            nxt = j
            j = S
        j += 1
    state.s[0] = nxt
    state.t[0] += 1
    reward = mean
    if params.bernoulli != 0:
        reward = 1.0 if u_rew < mean else 0.0
    return reward, mean, params.gain


@njit(cache=True)
def amdp_observe(state, params):
    """Observation ``[s]`` as float64[1] (read-only), for MDPs of at most 1024 states.

    The row ``STATE_OBS[s]`` of the module-level constant table :data:`STATE_OBS`: a
    view without reference count (the table is compiled in as a constant), so the fused
    loop touches no reference count for the observation, and a later step cannot change
    it. Measured on RiverSwim-6 with UCRL2: 31 M rounds/s, against 4 M with a view of a
    table in the state (:func:`amdp_observe_state`), whose reference counting also
    keeps Numba from pruning the agent's.
    """
    return STATE_OBS[state.s[0]]


@njit(cache=True)
def amdp_observe_state(state, params):
    """Observation ``[s]`` as float64[1]: a view of the row ``state.obs[s]`` (any ``S``)."""
    return state.obs[state.s[0]]


@njit(cache=True)
def amdp_checkpoint(state, params):
    """No comparator beyond the per-step gain and no extra metrics."""
    return np.empty(0)


def inverse_cdf_table(P: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums of ``P`` (float64[S, A, S]), 1 from each row's last positive entry.

    Sampling ``min{j : u < cdf[s, a, j]}`` for a uniform ``u`` then never returns a
    state of probability zero, whatever the rounding of the cumulative sums.
    """
    cdf = np.cumsum(P, axis=2)
    S, A, _ = P.shape
    for s in range(S):
        for a in range(A):
            last = int(np.flatnonzero(P[s, a] > 0)[-1])
            cdf[s, a, last:] = 1.0
    return np.ascontiguousarray(cdf)


def amdp_params(P: np.ndarray, r: np.ndarray, gain: float, reward_noise: str,
                start_state: int) -> AMDPParams:
    """The kernel parameters of validated tables, the optimal gain and the reward model."""
    return AMDPParams(
        inverse_cdf_table(P),
        np.ascontiguousarray(r),
        float(gain),
        np.int64(1 if reward_noise == "bernoulli" else 0),
        np.int64(start_state),
    )


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


GRIDWORLD_LAYOUTS = {  # "S" start, "G" goal, "#" wall
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
    if not isinstance(layout, str) or layout not in GRIDWORLD_LAYOUTS:
        raise BanditlabError(
            f"layout: expected one of {sorted(GRIDWORLD_LAYOUTS)}, got {layout!r}"
        )
    rows = GRIDWORLD_LAYOUTS[layout]
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


