"""Last-switch-dependent (LSD) and recharging bandits.

An arm's mean payoff depends on its last-switch state: how many consecutive rounds it
has been played (``streak``) or left idle (``idle``), both capped at ``tau_max``
(Laforgue et al. 2022; Foussoul et al. 2023; recharging bandits of Kleinberg &
Immorlica 2018 and Papadigenopoulos et al. 2022). Spec: ``shared/specs/lsd_recharging.md``.

Kernels on top, class below. The state keeps explicit ``streak``/``idle`` counters
(int64 arrays; the spec suggests int16, int64 avoids Numba integer-unification casts);
a signed state only appears in the observation, through ``obs_encoding``.

Each step draws exactly one number from the noise stream whatever the action (one
uniform for Bernoulli rewards, one standard normal for clipped Gaussian rewards), so
agents run on the same env seed face common random numbers.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv

PRESETS = ("table", "recharging", "blocking", "stationary", "monotone", "seasonal",
           "concave", "step")
OBS_ENCODINGS = ("signed_played_positive", "signed_played_negative", "delay")
INIT_STATES = ("idle_max", "all_delay_one")
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
    """

    streak: np.ndarray
    idle: np.ndarray
    t: np.ndarray


@njit(cache=True)
def lsd_arm_mean(table, streak, idle, i):
    """Mean payoff of arm ``i`` in its current state: ``f_i(on, streak)`` or ``f_i(off, idle)``."""
    if streak[i] > 0:
        return table[i, 0, streak[i] - 1]
    return table[i, 1, idle[i] - 1]


@njit(cache=True)
def lsd_advance(streak, idle, action, tau_max):
    """Counter update after playing ``action``: its streak +1, every other arm idle +1 (capped)."""
    k = streak.shape[0]
    for i in range(k):
        if i == action:
            streak[i] = min(streak[i] + 1, tau_max)
            idle[i] = 0
        else:
            idle[i] = min(idle[i] + 1, tau_max)
            streak[i] = 0


@njit(cache=True)
def lsd_encode(streak, idle, enc, tau_max):
    """Encoded state of every arm (float64[k]).

    ``enc``: 0 = signed, played positive (``+streak`` / ``-idle``); 1 = signed, played
    negative (Laforgue et al.'s code: ``-streak`` / ``+idle``); 2 = delay
    (``1`` if played last round, else ``min(idle + 1, tau_max)``).
    """
    k = streak.shape[0]
    out = np.empty(k)
    for i in range(k):
        if streak[i] > 0:
            if enc == 0:
                out[i] = streak[i]
            elif enc == 1:
                out[i] = -streak[i]
            else:
                out[i] = 1.0
        else:
            if enc == 0:
                out[i] = -idle[i]
            elif enc == 1:
                out[i] = idle[i]
            else:
                out[i] = min(idle[i] + 1, tau_max)
    return out


@njit(cache=True)
def lsd_init(params, rng):
    """Initial counters: all idle ``tau_max`` (``init_mode`` 0) or all streak 1 (1)."""
    table = params[0]
    tau_max = params[1]
    init_mode = params[5]
    k = table.shape[0]
    streak = np.zeros(k, dtype=np.int64)
    idle = np.zeros(k, dtype=np.int64)
    for i in range(k):
        if init_mode == 0:
            idle[i] = tau_max
        else:
            streak[i] = 1
    return LSDState(streak, idle, np.zeros(1, dtype=np.int64))


@njit(cache=True)
def lsd_step(state, params, action, rng):
    """Pull ``action``: one noise draw, reward at the state before the pull, then advance.

    Args:
        state: :class:`LSDState`.
        params: ``(table float64[k, 2, tau_max], tau_max int64, noise int64, sigma float64,
            enc int64, init_mode int64, alpha_opt float64[H + 1], alpha_gain float64,
            alpha_lp float64, has_opt int64, has_lp int64)``.
        action: int64 arm.
        rng: The env's noise generator (exactly one draw per call).

    Returns:
        ``(reward, expected_reward, nan)``: this family has no per-step comparator.
    """
    table = params[0]
    tau_max = params[1]
    noise = params[2]
    sigma = params[3]
    if noise == 0:
        u = rng.random()
        z = 0.0
    else:
        u = 0.0
        z = rng.standard_normal()
    mu = lsd_arm_mean(table, state.streak, state.idle, action)
    if noise == 0:
        r = 1.0 if u < mu else 0.0
    else:
        r = min(max(mu + sigma * z, 0.0), 1.0)
    lsd_advance(state.streak, state.idle, action, tau_max)
    state.t[0] += 1
    return r, mu, np.nan


@njit(cache=True)
def lsd_observe(state, params):
    """The encoded state (float64[k]) in the env's ``obs_encoding``."""
    return lsd_encode(state.streak, state.idle, params[4], params[1])


@njit(cache=True)
def lsd_alpha_opt(params, t):
    """``alpha * OPT(t)`` from the precomputed curve, extended by ``alpha * g*`` per round."""
    curve = params[6]
    n = curve.shape[0]
    if n == 0:
        return params[7] * t
    if t < n:
        return curve[t]
    return curve[n - 1] + (t - (n - 1)) * params[7]


@njit(cache=True)
def lsd_checkpoint(state, params):
    """Cumulative comparators ``(realised, expected)`` of ``alpha/opt`` (if any) and ``alpha/lp``.

    Both are model comparators, so realised equals expected.
    """
    t = state.t[0]
    has_opt = params[9]
    has_lp = params[10]
    out = np.empty(2 * (has_opt + has_lp))
    j = 0
    if has_opt:
        v = lsd_alpha_opt(params, t)
        out[0] = v
        out[1] = v
        j = 2
    if has_lp:
        out[j] = params[8] * t
        out[j + 1] = params[8] * t
    return out


# --------------------------------------------------------------------------- payoffs
def _delay_to_table(p: np.ndarray) -> np.ndarray:
    """Table of a delay-only payoff ``p[i, delta - 1]`` (``delta = 1..tau_max``).

    On levels pay ``p(1)``; idle ``b`` pays ``p(min(b + 1, tau_max))``.
    """
    k, tau = p.shape
    table = np.empty((k, 2, tau))
    table[:, 0, :] = p[:, :1]
    for b in range(1, tau + 1):
        table[:, 1, b - 1] = p[:, min(b + 1, tau) - 1]
    return table


def _as_array(name: str, value, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError(f"{name}: expected numbers, got {value!r}") from None
    if arr.ndim != ndim or arr.size == 0:
        raise BanditlabError(f"{name}: expected a non-empty {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BanditlabError(f"{name}: every value must be finite")
    return arr


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise BanditlabError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def random_family_params(preset: str, n_arms: int, tau_max: int, seed) -> dict:
    """Random parameters of a §2.6 family with the LSD-E3 generator defaults [I].

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
    """Payoff table (float64[k, 2, tau_max]) of a §2.6 family.

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
        return _as_array(f"family_params[{name!r}]", params[name], 1)

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
    return _delay_to_table(p)


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


def build_table(preset, payoff_table, delay_payoffs, means, block_lengths, family_params,
                random_instance_seed, n_arms, tau_max) -> np.ndarray:
    """Validated payoff table float64[k, 2, tau_max] of a preset (see :class:`LSDBandit`)."""
    if preset not in PRESETS:
        raise BanditlabError(f"preset: expected one of {PRESETS}, got {preset!r}")
    if tau_max is not None:
        tau_max = _check_int("tau_max", tau_max, 1)
        if tau_max > MAX_TAU:
            raise BanditlabError(f"tau_max: expected an integer in [1, {MAX_TAU}], got {tau_max}")
    if random_instance_seed is not None:
        random_instance_seed = _check_int("random_instance_seed", random_instance_seed, 0)
    if n_arms is not None:
        n_arms = _check_int("n_arms", n_arms, 1)
        if n_arms > MAX_ARMS:
            raise BanditlabError(f"n_arms: expected an integer in [1, {MAX_ARMS}], got {n_arms}")
    if preset == "table":
        if payoff_table is None:
            raise BanditlabError(
                "payoff_table: required when preset='table' (float[k, 2, tau_max])"
            )
        if callable(payoff_table):
            if tau_max is None or n_arms is None:
                raise BanditlabError(
                    "payoff_table: a callable mean(i, kind, level) needs n_arms and tau_max"
                )
            k = _check_int("n_arms", n_arms, 1)
            table = np.array([[[payoff_table(i, kind, lev) for lev in range(1, tau_max + 1)]
                               for kind in ("on", "off")] for i in range(k)], dtype=np.float64)
        else:
            table = _as_array("payoff_table", payoff_table, 3)
            if table.shape[1] != 2:
                raise BanditlabError(
                    f"payoff_table: expected shape (k, 2, tau_max), got {table.shape}"
                )
            if tau_max is not None and tau_max != table.shape[2]:
                raise BanditlabError(
                    f"tau_max: {tau_max} does not match payoff_table's last axis "
                    f"({table.shape[2]}); omit it or make them equal"
                )
        if not np.all(np.isfinite(table)):
            raise BanditlabError("payoff_table: every payoff must be finite")
        return table
    if preset == "recharging":
        if delay_payoffs is None:
            raise BanditlabError(
                "delay_payoffs: required when preset='recharging' (float[k, tau_max])"
            )
        p = _as_array("delay_payoffs", delay_payoffs, 2)
        if tau_max is not None and tau_max != p.shape[1]:
            raise BanditlabError(
                f"tau_max: {tau_max} does not match delay_payoffs' last axis ({p.shape[1]})"
            )
        return _delay_to_table(p)
    if preset in ("blocking", "stationary"):
        if means is None:
            raise BanditlabError(f"means: required when preset={preset!r}")
        mu = _as_array("means", means, 1)
        if preset == "stationary":
            tau = 1 if tau_max is None else tau_max
            return _delay_to_table(np.repeat(mu[:, None], tau, axis=1))
        if block_lengths is None:
            raise BanditlabError("block_lengths: required when preset='blocking'")
        try:
            blk = np.asarray(block_lengths)
        except (TypeError, ValueError):
            blk = np.asarray([])
        if blk.shape != mu.shape or not np.issubdtype(blk.dtype, np.integer) or np.any(blk < 0):
            raise BanditlabError(
                f"block_lengths: expected {mu.shape[0]} integers >= 0, got {block_lengths!r}"
            )
        tau = int(blk.max()) + 1 if tau_max is None else tau_max
        if tau <= int(blk.max()):
            raise BanditlabError(f"tau_max: must exceed every block length, got {tau}")
        delta = np.arange(1, tau + 1)
        return _delay_to_table(mu[:, None] * (delta[None, :] > blk[:, None]))
    # random / parametric families
    tau = 10 if tau_max is None else tau_max
    if family_params is None:
        if random_instance_seed is None:
            raise BanditlabError(
                f"family_params: preset {preset!r} needs family_params or random_instance_seed"
            )
        k = 5 if n_arms is None else _check_int("n_arms", n_arms, 1)
        family_params = random_family_params(preset, k, tau, random_instance_seed)
    elif not isinstance(family_params, dict):
        raise BanditlabError(f"family_params: expected a dict, got {family_params!r}")
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
    ``Discrete(k)`` (one pull per round; ``m_pulls > 1`` is not implemented in v0).

    ## Observation Space
    ``Box(-tau_max, tau_max, (k,), int64)``: every arm's encoded state in
    ``obs_encoding``: ``"signed_played_positive"`` (``+streak`` when on, ``-idle`` when
    off), ``"signed_played_negative"`` (Laforgue et al.'s code convention) or ``"delay"``
    (``1`` if played last round, else ``min(idle + 1, tau_max)``; loses the streak length,
    meant for delay-only presets).

    ## Reward
    Bernoulli (one uniform per step) or ``("gaussian", sigma)``: ``clip(mu + sigma z, 0, 1)``
    with one standard normal per step (``expected_reward`` reports the unclipped ``mu``; the
    clipping biases the realised mean near 0 and 1).

    ## Regret
    No per-step kind (per-round regret against "the best arm now" is not a valid
    comparator for state-dependent payoffs). Kinds: ``alpha/opt`` (``alpha * OPT(t)``,
    exact finite-horizon DP when small, else ``alpha * t * g*``; absent when the reachable
    state space exceeds the cap), ``alpha/lp`` (``alpha * t * LP``, an upper bound) and the
    paired ``benchmark/<planner>`` kinds (see :class:`banditlab.envs.lsd.oracle.LSDOracle`).

    ## Information
    ``t``, ``expected_reward``, ``expected_reward_vector`` (every arm's mean before the
    pull), ``greedy_action``, ``greedy_expected_reward`` (the myopic oracle, diagnostic
    only), ``state_before``, ``state_after`` (encoded states).

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
    * ``m_pulls``: pulls per round; only 1 in v0.
    * ``horizon``: run length T (default 10 000).
    * ``alpha``: the ``alpha`` of ``alpha/opt`` and ``alpha/lp`` (default ``1 - 1/e``).
    * ``exact_state_cap``: largest reachable joint-state count for the exact optimum.

    ## References
    Laforgue, Clerici, Cesa-Bianchi, Gilad-Bachrach (AISTATS 2022); Foussoul, Goyal,
    Papadigenopoulos, Zeevi (ICML 2023); Kleinberg & Immorlica (FOCS 2018);
    Papadigenopoulos, Caramanis, Shakkottai (NeurIPS 2022); Basu et al. (NeurIPS 2019).

    ## Version History
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
        from banditlab.envs.lsd.oracle import LSDOracle

        table = build_table(preset, payoff_table, delay_payoffs, means, block_lengths,
                            family_params, random_instance_seed, n_arms, tau_max)
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
        if isinstance(noise, str) and noise == "bernoulli":
            noise_kind, sigma = NOISE_BERNOULLI, 0.0
        elif (isinstance(noise, (tuple, list)) and len(noise) == 2 and noise[0] == "gaussian"
              and isinstance(noise[1], (int, float)) and not isinstance(noise[1], bool)
              and np.isfinite(noise[1]) and noise[1] > 0):
            noise_kind, sigma = NOISE_GAUSSIAN, float(noise[1])
        else:
            raise BanditlabError(
                f"noise: expected 'bernoulli' or ('gaussian', sigma > 0), got {noise!r}"
            )
        if init_state not in INIT_STATES:
            raise BanditlabError(f"init_state: expected one of {INIT_STATES}, got {init_state!r}")
        if obs_encoding not in OBS_ENCODINGS:
            raise BanditlabError(
                f"obs_encoding: expected one of {OBS_ENCODINGS}, got {obs_encoding!r}"
            )
        if not isinstance(monotone, (bool, np.bool_)):
            raise BanditlabError(f"monotone: expected True or False, got {monotone!r}")
        if monotone:
            check_monotone(table)
        if _check_int("m_pulls", m_pulls, 1) != 1:
            raise BanditlabError(f"m_pulls: only 1 pull per round is implemented, got {m_pulls}")
        self.horizon = _check_int("horizon", horizon, 1)
        if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool)
                and 0 < alpha <= 1):
            raise BanditlabError(f"alpha: expected a number in (0, 1], got {alpha!r}")
        exact_state_cap = _check_int("exact_state_cap", exact_state_cap, 1)

        self.preset = preset
        self.payoff_table = table
        self.tau_max = int(table.shape[2])
        self.n_arms = int(table.shape[0])
        self.noise = noise
        self.init_state = init_state
        self.obs_encoding = obs_encoding
        self.monotone = bool(monotone)
        self.m_pulls = 1
        self.alpha = float(alpha)
        self.run_length = self.horizon
        k, tau = self.n_arms, self.tau_max
        self.action_space = gym.spaces.Discrete(k)
        self.observation_space = gym.spaces.Box(-tau, tau, shape=(k,), dtype=np.int64)
        self.oracle = LSDOracle(table, init_state=init_state, obs_encoding=obs_encoding,
                                horizon=self.horizon, alpha=self.alpha,
                                exact_state_cap=exact_state_cap)
        self.known_constants = MappingProxyType(
            {"k": k, "n_arms": k, "tau_max": tau, "m_pulls": 1, "obs_encoding": obs_encoding,
             "horizon": self.horizon}
        )
        enc = OBS_ENCODINGS.index(obs_encoding)
        curve, gain, lp_rate, has_opt = self.oracle.kernel_comparators()
        self.kernel = EnvKernel(
            params=(np.ascontiguousarray(table), np.int64(tau), np.int64(noise_kind),
                    float(sigma), np.int64(enc), np.int64(INIT_STATES.index(init_state)),
                    curve, float(gain), float(lp_rate), np.int64(has_opt),
                    np.int64(self.oracle.has_lp)),
            init=lsd_init,
            step=lsd_step,
            observe=lsd_observe,
            checkpoint=lsd_checkpoint,
            comparator_kinds=(("alpha/opt",) if has_opt else ())
            + (("alpha/lp",) if self.oracle.has_lp else ()),
        )

    # ----------------------------------------------------------------- hooks
    def kernel_obs_to_obs(self, kobs):
        """Encoded state as int64[k]."""
        return np.asarray(kobs).astype(np.int64)

    def _means_now(self) -> np.ndarray:
        s = self.state_
        return np.array([lsd_arm_mean(self.payoff_table, s.streak, s.idle, i)
                         for i in range(self.n_arms)])

    def _encoded(self) -> np.ndarray:
        return self.kernel_obs_to_obs(lsd_observe(self.state_, self.kernel.params))

    def _pre_step_info(self, action):
        means = self._means_now()
        return {
            "expected_reward_vector": means,
            "greedy_action": int(np.argmax(means)),
            "greedy_expected_reward": float(np.max(means)),
            "state_before": self._encoded(),
        }

    def _make_info_extra(self, action, reward):
        return {"state_after": self._encoded()}


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
