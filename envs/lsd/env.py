"""Last-switch-dependent (LSD) and recharging bandits.

An arm's mean payoff depends on its last-switch state: how many consecutive rounds it
has been played (``streak``) or left idle (``idle``), both capped at ``tau_max``
(Laforgue et al. 2022; Foussoul et al. 2023; recharging bandits of Kleinberg &
Immorlica 2018 and Papadigenopoulos et al. 2022).

Kernels on top, class below; the model kernels they share with the oracle and the
agents (means, counter updates, encodings) are in :mod:`banditlab.envs.lsd.model`. The
state keeps explicit ``streak``/``idle`` counters (int64 arrays, which avoid Numba
integer-unification casts); a signed state only appears in the observation, through
``obs_encoding``.

Each step draws a fixed number of values from the noise stream whatever the action (one
uniform for Bernoulli rewards, one standard normal for clipped Gaussian rewards; with
``m_pulls > 1``, one per arm), so agents run on the same env seed face common random
numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv
from banditlab.envs.lsd.model import (
    INIT_STATES,
    OBS_ENCODINGS,
    MultiPull,
    delay_to_table,
    lsd_arm_mean,
    lsd_encode,
    lsd_encode_into,
)
from banditlab.envs.lsd.oracle import LSDOracle
from banditlab.validation import (
    REJECT,
    Array,
    Boolean,
    Constraint,
    InstanceOf,
    Interval,
    Options,
    validate_params,
    validate_value,
)

__all__ = [
    "LSDBandit",
    "LSDParams",
    "LSDState",
    "make_laforgue5",
    "make_laforgue2",
    "laforgue5_delay_payoffs",
    "laforgue2_delay_payoffs",
    "build_table",
    "family_table",
    "random_family_params",
    "check_monotone",
]

PRESETS = ("table", "recharging", "blocking", "stationary", "monotone", "seasonal",
           "concave", "step")
NOISE_BERNOULLI = 0
NOISE_GAUSSIAN = 1
DEFAULT_ALPHA = 1.0 - 1.0 / np.e
MAX_TAU = 1000
MAX_ARMS = 1000


# --------------------------------------------------------------------------- kernels
class LSDState(NamedTuple):
    """Kernel state of an LSD bandit (updated in place).

    Attributes:
        streak: int64[k], consecutive rounds each arm has been played (0 if idle).
        idle: int64[k], consecutive rounds each arm has been idle (0 if played last).
        t: int64[1], steps completed.
        pulled: int64[k], 1 for the arms pulled in the last round (several pulls per round).
        last_r: float64[k], each arm's reward in the last round (0 if not pulled; several
            pulls per round).
        obs: float64[2, w], two observation rows (``w = k``, or ``2k`` with several pulls
            per round: the encoded state then ``last_r``); each step writes the row the
            previous observation does not use, so both stay intact for the agent's update.
        obs_pos: int64[1], the row of ``obs`` holding the current observation.
    """

    streak: np.ndarray
    idle: np.ndarray
    t: np.ndarray
    pulled: np.ndarray
    last_r: np.ndarray
    obs: np.ndarray
    obs_pos: np.ndarray


class LSDParams(NamedTuple):
    """Kernel parameters of an LSD bandit (the instance and its comparators).

    Attributes:
        table: float64[k, 2, tau_max], the payoff table (axis 1: 0 = on, 1 = off).
        tau_max: int64, the counter cap.
        noise: int64, 0 Bernoulli rewards, 1 clipped Gaussian rewards.
        sigma: float64, the Gaussian noise's standard deviation (0 for Bernoulli).
        enc: int64, index of the observation encoding in ``OBS_ENCODINGS``.
        init_mode: int64, index of the initial state in ``INIT_STATES``.
        alpha_opt: float64[H + 1], ``alpha * OPT(t)`` for ``t = 0..H`` (empty when the
            finite-horizon optimum was not computed).
        alpha_gain: float64, ``alpha * g*`` (NaN without an exact optimum).
        alpha_lp: float64, ``alpha`` times the LSD LP value (NaN above the LP size cap).
        has_opt: int64, 1 when ``alpha/opt`` is declared.
        has_lp: int64, 1 when ``alpha/lp`` is declared.
        m: int64, pulls per round.
    """

    table: np.ndarray
    tau_max: np.int64
    noise: np.int64
    sigma: float
    enc: np.int64
    init_mode: np.int64
    alpha_opt: np.ndarray
    alpha_gain: float
    alpha_lp: float
    has_opt: np.int64
    has_lp: np.int64
    m: np.int64


@njit(cache=True)
def lsd_init(params, rng):
    """Initial counters: all idle ``tau_max`` (``init_mode`` 0) or all streak 1 (1)."""
    table = params.table
    tau_max = params.tau_max
    init_mode = params.init_mode
    k = table.shape[0]
    streak = np.zeros(k, dtype=np.int64)
    idle = np.zeros(k, dtype=np.int64)
    for i in range(k):
        if init_mode == 0:
            idle[i] = tau_max
        else:
            streak[i] = 1
    width = k if params.m == 1 else 2 * k
    obs = np.zeros((2, width))
    lsd_encode_into(streak, idle, params.enc, tau_max, obs[0])
    return LSDState(streak, idle, np.zeros(1, dtype=np.int64), np.zeros(k, dtype=np.int64),
                    np.zeros(k), obs, np.zeros(1, dtype=np.int64))


# The step kernels read the arrays through ``state`` and ``params``, and their helpers
# below are inlined (``inline="always"``, Numba IR inlining): a call to a separately
# compiled (cached) function is not inlined by LLVM, so it passes every field of both
# NamedTuples and costs an NRT incref/decref pair per array argument, several times the
# work of the step. Same arithmetic as :func:`lsd_arm_mean`, :func:`lsd_advance`,
# :func:`lsd_advance_multi` and :func:`lsd_encode` of the model module.
@njit(cache=True)
def _mean_now(state, params, i):
    """Arm ``i``'s mean at its current counters (:func:`lsd_arm_mean`)."""
    streak = state.streak
    if streak[i] > 0:
        return params.table[i, 0, streak[i] - 1]
    return params.table[i, 1, state.idle[i] - 1]


@njit(cache=True)
def _advance_and_observe(state, params, action):
    """Advance the counters and encode them into the obs row the current one does not use.

    ``action >= 0``: that arm was pulled (:func:`lsd_advance`); ``action < 0``: the arms
    with ``state.pulled[i] == 1`` were (:func:`lsd_advance_multi`), and the row also
    receives ``last_r``. The encoding is :func:`lsd_encode`'s.
    """
    streak = state.streak
    idle = state.idle
    tau_max = params.tau_max
    enc = params.enc
    pos = 1 - state.obs_pos[0]
    obs = state.obs
    k = streak.shape[0]
    for i in range(k):
        if (i == action) if action >= 0 else (state.pulled[i] == 1):
            streak[i] = min(streak[i] + 1, tau_max)
            idle[i] = 0
        else:
            idle[i] = min(idle[i] + 1, tau_max)
            streak[i] = 0
        if streak[i] > 0:
            if enc == 0:
                obs[pos, i] = streak[i]
            elif enc == 1:
                obs[pos, i] = -streak[i]
            else:
                obs[pos, i] = 1.0
        else:
            if enc == 0:
                obs[pos, i] = -idle[i]
            elif enc == 1:
                obs[pos, i] = idle[i]
            else:
                obs[pos, i] = min(idle[i] + 1, tau_max)
    if action < 0:
        for i in range(k):
            obs[pos, k + i] = state.last_r[i]
    state.obs_pos[0] = pos


@njit(cache=True)
def lsd_step(state, params, action, rng):
    """Pull ``action``: one noise draw, reward at the state before the pull, then advance.

    Args:
        state: :class:`LSDState`.
        params: :class:`LSDParams`.
        action: int64 arm.
        rng: The env's noise generator (exactly one draw per call).

    Returns:
        ``(reward, expected_reward, nan)``: this family has no per-step comparator.
    """
    if params.noise == 0:
        u = rng.random()
        z = 0.0
    else:
        u = 0.0
        z = rng.standard_normal()
    mu = _mean_now(state, params, action)
    if params.noise == 0:
        r = 1.0 if u < mu else 0.0
    else:
        r = min(max(mu + params.sigma * z, 0.0), 1.0)
    _advance_and_observe(state, params, action)
    state.t[0] += 1
    return r, mu, np.nan


@njit(cache=True)
def lsd_step_multi(state, params, action, rng):
    """Pull the arms marked in ``action`` (float64[k] 0/1), at most ``m`` of them.

    The lowest-indexed marked arms are pulled when more than ``m`` are marked; an
    all-zero action pulls nothing. One noise draw per arm, pulled or not (``k`` per
    step). Each pulled arm pays at its state before the pull.

    Returns:
        ``(sum of rewards, sum of means, nan)``.
    """
    noise = params.noise
    k = state.streak.shape[0]
    total = 0.0
    total_mu = 0.0
    n = 0
    for i in range(k):
        if noise == 0:
            u = rng.random()
            z = 0.0
        else:
            u = 0.0
            z = rng.standard_normal()
        state.last_r[i] = 0.0
        state.pulled[i] = 0
        if action[i] > 0.5 and n < params.m:
            n += 1
            mu = _mean_now(state, params, i)
            if noise == 0:
                r = 1.0 if u < mu else 0.0
            else:
                r = min(max(mu + params.sigma * z, 0.0), 1.0)
            state.pulled[i] = 1
            state.last_r[i] = r
            total += r
            total_mu += mu
    _advance_and_observe(state, params, np.int64(-1))
    state.t[0] += 1
    return total, total_mu, np.nan


@njit(cache=True)
def lsd_observe(state, params):
    """The encoded state (float64[k]) in the env's ``obs_encoding`` (a view of ``state.obs``)."""
    return state.obs[state.obs_pos[0]]


@njit(cache=True)
def lsd_observe_multi(state, params):
    """float64[2k]: the encoded state, then each arm's reward in the last round.

    A view of ``state.obs`` (written by ``init`` and ``step``).
    """
    return state.obs[state.obs_pos[0]]


@njit(cache=True)
def lsd_alpha_opt(params, t):
    """``alpha * OPT(t)`` from the precomputed curve, extended by ``alpha * g*`` per round."""
    curve = params.alpha_opt
    n = curve.shape[0]
    if n == 0:
        return params.alpha_gain * t
    if t < n:
        return curve[t]
    return curve[n - 1] + (t - (n - 1)) * params.alpha_gain


@njit(cache=True)
def lsd_checkpoint(state, params):
    """Cumulative comparators ``(realised, expected)`` of ``alpha/opt`` (if any) and ``alpha/lp``.

    Both are model comparators, so realised equals expected.
    """
    t = state.t[0]
    has_opt = params.has_opt
    has_lp = params.has_lp
    out = np.empty(2 * (has_opt + has_lp))
    j = 0
    if has_opt:
        v = lsd_alpha_opt(params, t)
        out[0] = v
        out[1] = v
        j = 2
    if has_lp:
        out[j] = params.alpha_lp * t
        out[j + 1] = params.alpha_lp * t
    return out


# --------------------------------------------------------------------------- validation
class GaussianNoise(Constraint):
    """The noise argument ``("gaussian", sigma)`` with a finite ``sigma > 0`` (tuple or list)."""

    description = "('gaussian', sigma) with a finite sigma > 0"
    _sigma = Interval("real", 0, None, closed="neither")

    def accepts(self, value):  # noqa: D102 - documented on the base class
        if (isinstance(value, (tuple, list)) and len(value) == 2
                and isinstance(value[0], str) and value[0] == "gaussian"
                and self._sigma.accepts(value[1]) is not REJECT):
            return ("gaussian", float(value[1]))
        return REJECT


_TABLE = Array("float", ndim=3)

_CONSTRAINTS = {
    "preset": Options(*PRESETS),
    "payoff_table": [None, _TABLE, InstanceOf(Callable, what="a callable mean(i, kind, level)")],
    "delay_payoffs": [None, Array("float", ndim=2)],
    "means": [None, Array("float", ndim=1)],
    "block_lengths": [None, Array("int", ndim=1, low=0)],
    "family_params": [None, InstanceOf(dict, what="a dict of per-arm parameter lists")],
    "random_instance_seed": [None, Interval("int", 0, None)],
    "n_arms": [None, Interval("int", 1, MAX_ARMS)],
    "tau_max": [None, Interval("int", 1, MAX_TAU)],
    "noise": [Options("bernoulli"), GaussianNoise()],
    "init_state": Options(*INIT_STATES),
    "obs_encoding": Options(*OBS_ENCODINGS),
    "monotone": Boolean(),
    "m_pulls": Interval("int", 1, None),
    "horizon": Interval("int", 1, None),
    "alpha": Interval("real", 0, 1, closed="right"),
    "exact_state_cap": Interval("int", 1, None),
}
"""Per-argument constraints of :class:`LSDBandit` (table shapes and presets are checked in code)."""


def _nonempty(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` unchanged, or a one-line error when it has no entries."""
    if arr.size == 0:
        raise BanditlabError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------- payoffs
def random_family_params(preset: str, n_arms: int, tau_max: int, seed) -> dict:
    """Random parameters of a parametric family, with our generator defaults [I].

    ``r ~ U[0.2, 1]``, ``gamma ~ U[0.5, 1]``, ``rho ~ U[gamma, 1]``, ``theta ~ U{1..tau_max}``,
    ``period ~ U{2..tau_max}`` (at least 2).
    """
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.2, 1.0, n_arms)
    gamma = rng.uniform(0.5, 1.0, n_arms)
    rho = rng.uniform(gamma, 1.0)
    theta = rng.integers(1, tau_max + 1, n_arms).astype(np.float64)
    period = rng.integers(2, max(tau_max, 2) + 1, n_arms).astype(np.float64)
    if preset == "monotone":
        return {"r": r, "gamma": gamma, "rho": rho, "theta": theta}
    if preset == "seasonal":
        return {"r": r, "period": period}
    return {"r": r, "theta": theta}


def family_table(preset: str, params: dict, tau_max: int) -> np.ndarray:
    """Payoff table (float64[k, 2, tau_max]) of a parametric family.

    * ``monotone``: ``f(on, j) = r gamma^j``, ``f(off, b) = r (1 - (1 - rho) exp(-(b-1)/theta))``.
    * ``seasonal`` [I for the on levels]: ``f(off, b) = r (0.5 + 0.5 cos(2 pi b / P))``, on
      levels pay ``f(off, 1)``'s delay-1 value ``r (0.5 + 0.5 cos(2 pi / P))``.
    * ``concave``: delay-only ``p(delta) = r (1 - exp(-delta / theta))``.
    * ``step``: delay-only ``p(delta) = r 1[delta >= theta]``.
    """
    lev = np.arange(1, tau_max + 1, dtype=np.float64)

    def get(name):
        if name not in params:
            raise BanditlabError(f"family_params: preset {preset!r} needs key {name!r}")
        key = f"family_params[{name!r}]"
        return _nonempty(key, validate_value(key, params[name], Array("float", ndim=1)))

    r = get("r")
    k = r.shape[0]
    table = np.empty((k, 2, tau_max))
    if preset == "monotone":
        gamma, rho, theta = get("gamma"), get("rho"), get("theta")
        if np.any(theta <= 0):
            raise BanditlabError("family_params['theta']: every theta must be > 0")
        table[:, 0, :] = r[:, None] * gamma[:, None] ** lev[None, :]
        table[:, 1, :] = r[:, None] * (
            1.0 - (1.0 - rho[:, None]) * np.exp(-(lev[None, :] - 1.0) / theta[:, None])
        )
        return table
    if preset == "seasonal":
        period = get("period")
        if np.any(period <= 0):
            raise BanditlabError("family_params['period']: every period must be > 0")
        phase = 2 * np.pi * lev[None, :] / period[:, None]
        table[:, 1, :] = r[:, None] * (0.5 + 0.5 * np.cos(phase))
        table[:, 0, :] = (r * (0.5 + 0.5 * np.cos(2 * np.pi / period)))[:, None]
        return table
    theta = get("theta")
    if np.any(theta <= 0):
        raise BanditlabError("family_params['theta']: every theta must be > 0")
    if preset == "concave":
        p = r[:, None] * (1.0 - np.exp(-lev[None, :] / theta[:, None]))
    else:
        p = r[:, None] * (lev[None, :] >= theta[:, None])
    return delay_to_table(p)


def check_monotone(table: np.ndarray) -> None:
    """Raise :class:`BanditlabError` unless on rows decrease and off rows increase (weakly)."""
    for i in range(table.shape[0]):
        if np.any(np.diff(table[i, 0]) > 1e-12):
            raise BanditlabError(
                f"payoff_table: monotone=True but arm {i}'s on payoffs f(on, j) increase in j; "
                "they must be non-increasing (satiation)"
            )
        if np.any(np.diff(table[i, 1]) < -1e-12):
            raise BanditlabError(
                f"payoff_table: monotone=True but arm {i}'s off payoffs f(off, b) decrease in b; "
                "they must be non-decreasing (recharging)"
            )


def check_table_range(table: np.ndarray) -> None:
    """Raise :class:`BanditlabError` unless the table fits the caps and payoffs lie in [0, 1]."""
    if table.shape[0] > MAX_ARMS or table.shape[2] > MAX_TAU:
        raise BanditlabError(
            f"payoff_table: at most {MAX_ARMS} arms and {MAX_TAU} levels, got {table.shape}"
        )
    if np.any(table < 0):
        raise BanditlabError("payoff_table: payoffs must be >= 0 (negative value found)")
    if np.any(table > 1):
        raise BanditlabError(
            "payoff_table: payoffs must lie in [0, 1] (Bernoulli means / clipped Gaussian)"
        )


def _explicit_table(payoff_table, n_arms, tau_max) -> np.ndarray:
    """The ``"table"`` preset: a validated array, or a callable tabulated at construction."""
    if payoff_table is None:
        raise BanditlabError("payoff_table: required when preset='table' (float[k, 2, tau_max])")
    if callable(payoff_table):
        if tau_max is None or n_arms is None:
            raise BanditlabError(
                "payoff_table: a callable mean(i, kind, level) needs n_arms and tau_max"
            )
        table = np.array([[[payoff_table(i, kind, lev) for lev in range(1, tau_max + 1)]
                           for kind in ("on", "off")] for i in range(n_arms)], dtype=np.float64)
        if not np.all(np.isfinite(table)):
            raise BanditlabError("payoff_table: every payoff must be finite")
        return table
    table = _nonempty("payoff_table", payoff_table)
    if table.shape[1] != 2:
        raise BanditlabError(f"payoff_table: expected shape (k, 2, tau_max), got {table.shape}")
    if tau_max is not None and tau_max != table.shape[2]:
        raise BanditlabError(
            f"tau_max: {tau_max} does not match payoff_table's last axis "
            f"({table.shape[2]}); omit it or make them equal"
        )
    return table


def _blocking_table(mu: np.ndarray, block_lengths, tau_max) -> np.ndarray:
    """The ``"blocking"`` preset: arm ``i`` pays ``mu_i`` only at delays above its block."""
    if block_lengths is None:
        raise BanditlabError("block_lengths: required when preset='blocking'")
    blk = block_lengths
    if blk.shape != mu.shape:
        raise BanditlabError(
            f"block_lengths: expected {mu.shape[0]} integers >= 0, got {blk.tolist()!r}"
        )
    tau = int(blk.max()) + 1 if tau_max is None else tau_max
    if tau <= int(blk.max()):
        raise BanditlabError(f"tau_max: must exceed every block length, got {tau}")
    delta = np.arange(1, tau + 1)
    return delay_to_table(mu[:, None] * (delta[None, :] > blk[:, None]))


def build_table(preset, payoff_table, delay_payoffs, means, block_lengths, family_params,
                random_instance_seed, n_arms, tau_max) -> np.ndarray:
    """Payoff table float64[k, 2, tau_max] of a preset (see :class:`LSDBandit`).

    Arguments are the constructor's, already checked against its per-argument
    constraints (arrays as float64/int64 arrays); this checks what depends on the preset.
    """
    if preset == "table":
        return _explicit_table(payoff_table, n_arms, tau_max)
    if preset == "recharging":
        if delay_payoffs is None:
            raise BanditlabError(
                "delay_payoffs: required when preset='recharging' (float[k, tau_max])"
            )
        p = _nonempty("delay_payoffs", delay_payoffs)
        if tau_max is not None and tau_max != p.shape[1]:
            raise BanditlabError(
                f"tau_max: {tau_max} does not match delay_payoffs' last axis ({p.shape[1]})"
            )
        return delay_to_table(p)
    if preset in ("blocking", "stationary"):
        if means is None:
            raise BanditlabError(f"means: required when preset={preset!r}")
        mu = _nonempty("means", means)
        if preset == "blocking":
            return _blocking_table(mu, block_lengths, tau_max)
        tau = 1 if tau_max is None else tau_max
        return delay_to_table(np.repeat(mu[:, None], tau, axis=1))
    # random / parametric families
    tau = 10 if tau_max is None else tau_max
    if family_params is None:
        if random_instance_seed is None:
            raise BanditlabError(
                f"family_params: preset {preset!r} needs family_params or random_instance_seed"
            )
        k = 5 if n_arms is None else n_arms
        family_params = random_family_params(preset, k, tau, random_instance_seed)
    return family_table(preset, family_params, tau)


# --------------------------------------------------------------------------- class
class LSDBandit(KernelEnv):
    """Last-switch-dependent bandit (recharging, blocking, satiation, seasonality).

    ## Description
    ``k`` arms. Arm ``i``'s mean payoff is ``f_i(on, streak_i)`` if it was played in the
    previous ``streak_i >= 1`` consecutive rounds, else ``f_i(off, idle_i)`` after
    ``idle_i >= 1`` idle rounds; counters are capped at ``tau_max`` and payoffs are
    constant beyond the cap. Playing an arm increments its streak and resets its idle
    counter; every other arm's idle counter increments and its streak resets.

    ## Action Space
    ``Discrete(k)`` with one pull per round. With ``m_pulls = m > 1`` (several plays per
    round, as in Simchi-Levi et al. 2021 and Papadigenopoulos et al. 2022):
    :class:`~banditlab.envs.lsd.model.MultiPull` ``(k, max_pulls=m)``, a ``MultiBinary(k)``
    vector of the arms to pull. Every 0/1 vector is valid: at most ``m`` marked arms are
    pulled (the lowest-indexed ones when more are marked) and an all-zero vector pulls
    nothing; every pulled arm's counters move as for a single pull, every other arm idles.

    ## Observation Space
    ``Box(-tau_max, tau_max, (k,), int64)``: every arm's encoded state in
    ``obs_encoding``: ``"signed_played_positive"`` (``+streak`` when on, ``-idle`` when
    off), ``"signed_played_negative"`` (Laforgue et al.'s code convention) or ``"delay"``
    (``1`` if played last round, else ``min(idle + 1, tau_max)``; loses the streak length,
    meant for delay-only presets). With ``m_pulls > 1``: ``Box(float64, (2k,))``, the
    encoded states followed by each arm's reward in the previous round (0 for arms not
    pulled): semi-bandit feedback, since agents never see ``info``.

    ## Reward
    Bernoulli (one uniform per step) or ``("gaussian", sigma)``: ``clip(mu + sigma z, 0, 1)``
    with one standard normal per step (``expected_reward`` reports the unclipped ``mu``; the
    clipping biases the realised mean near 0 and 1). With ``m_pulls > 1``: one draw per arm
    and step, and the reward is the sum over the pulled arms.

    ## Regret
    No per-step kind (per-round regret against "the best arm now" is not a valid
    comparator for state-dependent payoffs). Kinds: ``alpha/opt`` (``alpha * OPT(t)``,
    exact finite-horizon DP when small, else ``alpha * t * g*``; absent when the reachable
    state space exceeds the cap), ``alpha/lp`` (``alpha * t * LP``, an upper bound) and the
    paired ``benchmark/<planner>`` kinds (see :class:`banditlab.envs.lsd.oracle.LSDOracle`).

    ## Information
    ``t``, ``expected_reward``, ``expected_reward_vector`` (every arm's mean before the
    pull), ``greedy_action``, ``greedy_expected_reward`` (the myopic oracle, diagnostic
    only; with ``m_pulls > 1`` the 0/1 vector of the ``m`` largest means and their sum),
    ``state_before``, ``state_after`` (encoded states); with ``m_pulls > 1`` also
    ``pulled`` (0/1 vector of the arms actually pulled).

    ## Arguments
    * ``preset``: ``"table"`` (default), ``"recharging"`` (``delay_payoffs`` float[k, tau_max],
      ``p_i(delta)``), ``"blocking"`` (``means``, ``block_lengths``), ``"stationary"``
      (``means``), ``"monotone"``, ``"seasonal"``, ``"concave"``, ``"step"`` (``family_params``
      dict, or ``random_instance_seed`` with ``n_arms`` and ``tau_max``).
    * ``payoff_table``: float[k, 2, tau_max] (axis 1: 0 = on level ``j``, 1 = off level
      ``b``), or a callable ``mean(i, kind, level)`` with ``kind`` in {"on", "off"}
      (needs ``n_arms`` and ``tau_max``), tabulated at construction.
    * ``noise``: ``"bernoulli"`` (default) or ``("gaussian", sigma)``.
    * ``tau_max``: counter cap (inferred from the table).
    * ``init_state``: ``"idle_max"`` (default, all arms fully recharged) or
      ``"all_delay_one"`` (Laforgue et al.'s start: every arm as if just played).
    * ``obs_encoding``: see Observation Space.
    * ``monotone``: if ``True``, reject tables whose on payoffs increase or off payoffs
      decrease.
    * ``m_pulls``: pulls per round ``m`` (default 1, at most ``k``).
    * ``horizon``: run length T (default 10 000).
    * ``alpha``: the ``alpha`` of ``alpha/opt`` and ``alpha/lp`` (default ``1 - 1/e``).
    * ``exact_state_cap``: largest reachable joint-state count for the exact optimum.

    ## References
    Laforgue, Clerici, Cesa-Bianchi, Gilad-Bachrach (AISTATS 2022); Foussoul, Goyal,
    Papadigenopoulos, Zeevi (ICML 2023); Kleinberg & Immorlica (FOCS 2018);
    Papadigenopoulos, Caramanis, Shakkottai (NeurIPS 2022); Basu et al. (NeurIPS 2019).

    ## Version History
    * v1: the ``benchmark/lp_rounding``, ``benchmark/lsd_lp_rounding`` and
      ``benchmark/lsd_lp_epochs`` comparators changed (the rounding planners no longer fill
      rounds greedily, see :class:`~banditlab.agents.lsd.planners.LSDLPRounding`);
      ``m_pulls > 1`` supported.
    * v0: initial version.
    """

    family = "lsd"

    def __init__(
        self,
        preset: str = "table",
        payoff_table=None,
        delay_payoffs=None,
        means=None,
        block_lengths=None,
        family_params=None,
        random_instance_seed=None,
        n_arms=None,
        tau_max=None,
        noise="bernoulli",
        init_state: str = "idle_max",
        obs_encoding: str = "signed_played_positive",
        monotone: bool = False,
        m_pulls: int = 1,
        horizon: int = 10_000,
        alpha: float = DEFAULT_ALPHA,
        exact_state_cap: int = 400_000,
    ):
        v = validate_params(_CONSTRAINTS, {k: x for k, x in locals().items() if k != "self"})
        table = build_table(v["preset"], v["payoff_table"], v["delay_payoffs"], v["means"],
                            v["block_lengths"], v["family_params"], v["random_instance_seed"],
                            v["n_arms"], v["tau_max"])
        check_table_range(table)
        if v["monotone"]:
            check_monotone(table)
        if v["m_pulls"] > table.shape[0]:
            raise BanditlabError(
                f"m_pulls: at most the number of arms ({table.shape[0]}), got {m_pulls}")
        m = int(v["m_pulls"])
        self.preset, self.noise = preset, noise
        self.init_state, self.obs_encoding = init_state, obs_encoding
        self.monotone, self.m_pulls = v["monotone"], m
        self.horizon = self.run_length = v["horizon"]
        self.alpha = v["alpha"]
        self.payoff_table = table
        self.n_arms, self.tau_max = int(table.shape[0]), int(table.shape[2])
        if m == 1:
            self.action_space = gym.spaces.Discrete(self.n_arms)
            self.observation_space = gym.spaces.Box(-self.tau_max, self.tau_max,
                                                    shape=(self.n_arms,), dtype=np.int64)
        else:
            self.action_space = MultiPull(self.n_arms, m)
            k = self.n_arms
            low = np.concatenate([np.full(k, -float(self.tau_max)), np.zeros(k)])
            high = np.concatenate([np.full(k, float(self.tau_max)), np.ones(k)])
            self.observation_space = gym.spaces.Box(low, high, dtype=np.float64)
        self.oracle = LSDOracle(table, init_state=init_state, obs_encoding=obs_encoding,
                                horizon=self.horizon, alpha=self.alpha,
                                exact_state_cap=v["exact_state_cap"], m_pulls=m)
        self.known_constants = MappingProxyType(
            {"k": self.n_arms, "n_arms": self.n_arms, "tau_max": self.tau_max, "m_pulls": m,
             "obs_encoding": obs_encoding, "horizon": self.horizon}
        )
        self.kernel = self._make_kernel()

    def _make_kernel(self) -> EnvKernel:
        """The :class:`EnvKernel` of this instance, comparators precomputed by the oracle."""
        curve, gain, lp_rate, has_opt = self.oracle.kernel_comparators()
        if isinstance(self.noise, str):
            noise_kind, sigma = NOISE_BERNOULLI, 0.0
        else:
            noise_kind, sigma = NOISE_GAUSSIAN, float(self.noise[1])
        params = LSDParams(
            table=np.ascontiguousarray(self.payoff_table), tau_max=np.int64(self.tau_max),
            noise=np.int64(noise_kind), sigma=float(sigma),
            enc=np.int64(OBS_ENCODINGS.index(self.obs_encoding)),
            init_mode=np.int64(INIT_STATES.index(self.init_state)), alpha_opt=curve,
            alpha_gain=float(gain), alpha_lp=float(lp_rate), has_opt=np.int64(has_opt),
            has_lp=np.int64(self.oracle.has_lp), m=np.int64(self.m_pulls),
        )
        kinds = (("alpha/opt",) if has_opt else ()) + (("alpha/lp",) if self.oracle.has_lp else ())
        if self.m_pulls == 1:
            step, observe = lsd_step, lsd_observe
        else:
            step, observe = lsd_step_multi, lsd_observe_multi
        return EnvKernel(params=params, init=lsd_init, step=step, observe=observe,
                         checkpoint=lsd_checkpoint, comparator_kinds=kinds)

    # ----------------------------------------------------------------- hooks
    def kernel_obs_to_obs(self, kobs):
        """Encoded state as int64[k] (several pulls per round: float64[2k] with rewards)."""
        if self.m_pulls == 1:
            return np.asarray(kobs).astype(np.int64)
        return np.array(kobs, dtype=np.float64)

    def _validate_action(self, action):
        """One pull: an arm index. Several pulls: a 0/1 vector of length ``k``."""
        if self.m_pulls == 1:
            return super()._validate_action(action)
        arr = np.asarray(action)
        if arr.shape != (self.n_arms,):
            raise BanditlabError(
                f"action: expected a 0/1 vector of shape ({self.n_arms},), got shape {arr.shape}")
        if not np.all((arr == 0) | (arr == 1)):
            raise BanditlabError(f"action: entries must be 0 or 1, got {arr.tolist()!r}")
        return arr.astype(np.float64)

    def _means_now(self) -> np.ndarray:
        s = self.state_
        return np.array([lsd_arm_mean(self.payoff_table, s.streak, s.idle, i)
                         for i in range(self.n_arms)])

    def _encoded(self) -> np.ndarray:
        enc = lsd_encode(self.state_.streak, self.state_.idle, self.kernel.params.enc,
                         self.kernel.params.tau_max)
        return np.asarray(enc).astype(np.int64)

    def _pre_step_info(self, action):
        means = self._means_now()
        if self.m_pulls == 1:
            greedy, greedy_value = int(np.argmax(means)), float(np.max(means))
        else:
            top = np.argsort(-means, kind="stable")[: self.m_pulls]
            greedy = np.zeros(self.n_arms, dtype=np.int8)
            greedy[top] = 1
            greedy_value = float(means[top].sum())
        return {
            "expected_reward_vector": means,
            "greedy_action": greedy,
            "greedy_expected_reward": greedy_value,
            "state_before": self._encoded(),
        }

    def _make_info_extra(self, action, reward):
        if self.m_pulls == 1:
            return {"state_after": self._encoded()}
        return {"state_after": self._encoded(),
                "pulled": self.state_.pulled.astype(np.int8)}


# --------------------------------------------------------------------------- Laforgue et al.
def laforgue5_delay_payoffs() -> np.ndarray:
    """LSD-E1 delay payoffs (k = 5, delays 1..10; Laforgue et al., ``gen_M_trickCSBOG``).

    Arms 0, 3, 4: 0.15; arm 1: 0.95 at delay 3 only, else 0; arm 2: 0.16 at delay 6,
    0.96 from delay 9 on, else 0.14.
    """
    p = np.full((5, 10), 0.15)
    p[1] = 0.0
    p[1, 2] = 0.95
    p[2] = 0.14
    p[2, 5] = 0.16
    p[2, 8:] = 0.96
    return p


def laforgue2_delay_payoffs() -> np.ndarray:
    """LSD-E2 delay payoffs (k = 2, delays 1..11; ``gen_M_trickOG`` with ``pos = 2``).

    Arm 0: 0.05 everywhere; arm 1: 0.06 at delay 1, 0.95 from delay 2 on.
    """
    p = np.full((2, 11), 0.05)
    p[1] = 0.95
    p[1, 0] = 0.06
    return p


def make_laforgue5(horizon: int = 3600, noise="bernoulli", alpha: float = DEFAULT_ALPHA):
    """The LSD-E1 env: delay-only payoffs, ``obs_encoding="delay"``, all arms start at delay 1."""
    return LSDBandit(preset="recharging", delay_payoffs=laforgue5_delay_payoffs(), noise=noise,
                     init_state="all_delay_one", obs_encoding="delay", horizon=horizon,
                     alpha=alpha)


def make_laforgue2(horizon: int = 3300, noise="bernoulli", alpha: float = DEFAULT_ALPHA):
    """The LSD-E2 env: delay-only payoffs, ``obs_encoding="delay"``, all arms start at delay 1."""
    return LSDBandit(preset="recharging", delay_payoffs=laforgue2_delay_payoffs(), noise=noise,
                     init_state="all_delay_one", obs_encoding="delay", horizon=horizon,
                     alpha=alpha)
