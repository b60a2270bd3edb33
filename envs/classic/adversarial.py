"""Oblivious adversarial K-armed bandit with Bernoulli rewards driven by one shared uniform.

Kernels on top, class below. The adversary fixes a sequence of mean vectors
``mu_t in [0, 1]^K`` (a deterministic *schedule*, optionally with the arm labels
permuted once per run from the env's ``init`` stream). At every round one uniform
``u_t`` is drawn and the whole reward vector is ``r_t(a) = 1[u_t < mu_t(a)]``: the
reward of every arm is determined whatever the learner plays (common random
numbers, one draw per step), and no ``T x K`` table is stored (O(K) memory).

The kernel state keeps the running sums ``sum_s r_s(a)`` and ``sum_s mu_s(a)`` for
every arm, from which the ``static`` comparator (best fixed arm in hindsight) is read.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BenchmarkPolicy, EnvKernel, KernelEnv, Oracle, RegretKind
from banditlab.envs.classic.stochastic import constant_observe
from banditlab.validation import Array, Boolean, Interval, Options, validate_params

SCHEDULES = ("iid", "switch", "sinusoidal")
"""Schedule names; their index in this tuple is the kernel's schedule code."""


class AdversarialBanditParams(NamedTuple):
    """Kernel parameters of :class:`AdversarialBandit`.

    Attributes:
        means: float64[K], base means in [0, 1].
        schedule: int64, index of the schedule name in :data:`SCHEDULES`.
        switch_step: int64, last round before ``"switch"`` moves the means.
        amplitude: float64, amplitude of ``"sinusoidal"``.
        period: float64, period in rounds of ``"sinusoidal"``.
        shuffle: int64, 1 when the arm labels are permuted once per run, else 0.
    """

    means: np.ndarray
    schedule: np.int64
    switch_step: np.int64
    amplitude: float
    period: float
    shuffle: np.int64


class AdversarialBanditState(NamedTuple):
    """Kernel state of the adversarial bandit (updated in place).

    Attributes:
        t: int64[1], rounds completed.
        perm: int64[K], arm ``a`` plays the role of base arm ``perm[a]`` (identity
            unless ``shuffle_arms``).
        mu: float64[K], scratch: the mean vector of the last round.
        cum_reward: float64[K], ``sum_{s<=t} r_s(a)`` (realised reward of each fixed arm).
        cum_mean: float64[K], ``sum_{s<=t} mu_s(a)`` (expected reward of each fixed arm).
        cum_best: float64[1], ``sum_{s<=t} max_a mu_s(a)`` (dynamic comparator).
        obs: float64[1], the constant observation ``[0.0]`` (never written, returned by
            :func:`banditlab.envs.classic.stochastic.constant_observe` without allocating).
    """

    t: np.ndarray
    perm: np.ndarray
    mu: np.ndarray
    cum_reward: np.ndarray
    cum_mean: np.ndarray
    cum_best: np.ndarray
    obs: np.ndarray


@njit(cache=True)
def adversarial_means(params, perm, t, out):
    """Write the mean vector ``mu_t`` of round ``t`` (from 1) into ``out``.

    Args:
        params: :class:`AdversarialBanditParams`.
        perm: int64[K] arm permutation.
        t: Round index, from 1.
        out: float64[K], overwritten.

    Schedules (code: definition, with ``m = means[perm]``):

    * 0 ``iid``: ``mu_t(a) = m[a]`` (a stochastic instance seen as an oblivious sequence).
    * 1 ``switch``: ``m[a]`` for ``t <= switch_step``, then ``m[(a - 1) mod K]``: every
      mean moves one arm up, so the best arm changes.
    * 2 ``sinusoidal``: ``clip(m[a] + amplitude * sin(2 pi t / period + 2 pi a / K), 0, 1)``.
    """
    means = params.means
    schedule = params.schedule
    switch_step = params.switch_step
    amplitude = params.amplitude
    period = params.period
    k = means.shape[0]
    if schedule == 0:
        for a in range(k):
            out[a] = means[perm[a]]
    elif schedule == 1:
        if t <= switch_step:
            for a in range(k):
                out[a] = means[perm[a]]
        else:
            for a in range(k):
                out[a] = means[perm[(a - 1) % k]]
    else:
        for a in range(k):
            v = means[perm[a]] + amplitude * np.sin(
                2.0 * np.pi * t / period + 2.0 * np.pi * a / k
            )
            out[a] = min(max(v, 0.0), 1.0)


@njit(cache=True)
def adversarial_init(params, rng):
    """Initial state; draws the arm permutation from ``rng`` only when ``shuffle`` is set."""
    means = params.means
    shuffle = params.shuffle
    k = means.shape[0]
    perm = np.arange(k)
    if shuffle != 0:
        # Fisher-Yates with k - 1 integer draws.
        for i in range(k - 1, 0, -1):
            j = rng.integers(0, i + 1)
            tmp = perm[i]
            perm[i] = perm[j]
            perm[j] = tmp
    return AdversarialBanditState(
        np.zeros(1, np.int64), perm, np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(1),
        np.zeros(1),
    )


@njit(cache=True)
def adversarial_step(state, params, action, rng):
    """One round: one uniform ``u``, reward vector ``1[u < mu_t]``, running sums updated.

    Args:
        state: :class:`AdversarialBanditState`.
        params: :class:`AdversarialBanditParams`.
        action: int64 arm index.
        rng: The env's noise generator (exactly one ``random()`` draw per step).

    Returns:
        ``(reward, expected_reward, optimal_expected_reward)`` with
        ``optimal_expected_reward = max_a mu_t(a)`` (kind ``dynamic``).
    """
    t = state.t[0] + 1
    mu = state.mu
    adversarial_means(params, state.perm, t, mu)
    u = rng.random()
    best = -np.inf
    for a in range(mu.shape[0]):
        m = mu[a]
        if m > best:
            best = m
        state.cum_mean[a] += m
        if u < m:
            state.cum_reward[a] += 1.0
    state.cum_best[0] += best
    state.t[0] = t
    m_act = mu[action]
    return (1.0 if u < m_act else 0.0), m_act, best


@njit(cache=True)
def adversarial_checkpoint(state, params):
    """``[max_a sum r(a), max_a sum mu(a)]``: the ``static`` comparator (realised, expected)."""
    out = np.empty(2)
    out[0] = np.max(state.cum_reward)
    out[1] = np.max(state.cum_mean)
    return out


@njit(cache=True)
def adversarial_total_means(params, perm, horizon):
    """``sum_{t=1}^{horizon} mu_t(a)`` for every arm (float64[K]); O(horizon K) time."""
    k = params.means.shape[0]
    out = np.zeros(k)
    mu = np.empty(k)
    for t in range(1, horizon + 1):
        adversarial_means(params, perm, t, mu)
        for a in range(k):
            out[a] += mu[a]
    return out


class AdversarialBanditOracle(Oracle):
    """Oracle of the oblivious adversarial bandit.

    Kinds:

    * ``dynamic`` (primary, per step): ``C(t) = sum_{s<=t} max_a mu_s(a)``, the
      per-round best arm's mean; realised comparator equals the expected one (as for
      the ``stochastic`` kind of the stochastic bandits).
    * ``static`` (hindsight): realised ``max_a sum_{s<=t} r_s(a)``, expected
      ``max_a sum_{s<=t} mu_s(a)``. Not non-negative: an adaptive learner can beat the
      best fixed arm when the best arm changes (e.g. the ``switch`` schedule), so both
      realised and pseudo static regret may be negative.

    The comparators are read from the running sums of the env's kernel state.
    """

    primary_kind = "dynamic"
    regret_kinds = MappingProxyType(
        {
            "dynamic": RegretKind(
                per_step=True,
                nonnegative=True,
                description="sum over rounds of the largest arm mean of that round",
            ),
            "static": RegretKind(
                per_step=False,
                nonnegative=False,
                description="reward of the best fixed arm in hindsight over rounds 1..t",
            ),
        }
    )

    def __init__(self, params: AdversarialBanditParams, horizon: int):
        self.params = params
        self.horizon = horizon
        self.state_: AdversarialBanditState | None = None

    def _state(self) -> AdversarialBanditState:
        if self.state_ is None:
            raise RuntimeError("the oracle is read after env.reset(seed=...)")
        return self.state_

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative comparator over rounds ``1..t`` (``t`` = rounds completed so far)."""
        state = self._state()
        if int(state.t[0]) != t:
            raise ValueError(f"t: the oracle holds sums up to round {int(state.t[0])}, not {t}")
        if kind == "static":
            return float(np.max(state.cum_reward)), float(np.max(state.cum_mean))
        if kind == "dynamic":
            best = float(state.cum_best[0])
            return best, best
        return super().comparator(kind, t)

    def means_at(self, t: int) -> np.ndarray:
        """The mean vector ``mu_t`` (float64[K]) of round ``t`` (from 1) for the current run."""
        out = np.empty(self.params.means.shape[0])
        adversarial_means(self.params, self._perm(), np.int64(t), out)
        return out

    def _perm(self) -> np.ndarray:
        if self.state_ is not None:
            return self.state_.perm
        if self.params.shuffle != 0:
            raise RuntimeError("with shuffle_arms the arm labels are known after env.reset(seed)")
        return np.arange(self.params.means.shape[0])

    def best_fixed_arm(self) -> int:
        """Arm with the largest total mean over the whole horizon (current run's labels)."""
        totals = adversarial_total_means(self.params, self._perm(), self.horizon)
        return int(np.argmax(totals))

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """``{"best_fixed_arm": FixedArm-v0 on the arm with the largest total mean}``.

        Not offered with ``shuffle_arms=True``: the best arm's label then depends on the
        run's seed, and a benchmark agent is built once per experiment.
        """
        if self.params.shuffle != 0:
            return {}
        return {"best_fixed_arm": BenchmarkPolicy("FixedArm-v0", {"arm": self.best_fixed_arm()})}


def adversarial_params(
    means: np.ndarray, schedule: str, switch_step: int, amplitude: float, period: float,
    shuffle_arms: bool,
) -> AdversarialBanditParams:
    """The kernel parameters of validated constructor arguments."""
    return AdversarialBanditParams(
        means,
        np.int64(SCHEDULES.index(schedule)),
        np.int64(switch_step),
        float(amplitude),
        float(period),
        np.int64(shuffle_arms),
    )


class AdversarialBandit(KernelEnv):
    """Oblivious adversarial K-armed bandit with Bernoulli rewards from one shared uniform.

    ## Description
    An oblivious adversary fixes the mean vectors ``mu_t in [0, 1]^K`` of every round
    in advance through a deterministic schedule built from ``means``:

    * ``"iid"``: ``mu_t = means`` (stationary; a stochastic instance);
    * ``"switch"``: ``mu_t = means`` up to round ``switch_step = floor(switch_at * T)``,
      then every mean moves one arm up (``mu_t(a) = means[(a - 1) mod K]``), so the best
      arm changes;
    * ``"sinusoidal"``: ``mu_t(a) = clip(means[a] + amplitude * sin(2 pi t / period +
      2 pi a / K), 0, 1)``, phase-shifted oscillations around ``means``.

    With ``shuffle_arms=True`` the arm labels are permuted once per run, from the
    env's ``init`` stream, so the instance depends on the seed.

    ## Action Space
    ``Discrete(K)``.

    ## Observation Space
    ``Discrete(1)``: the constant 0 (no context).

    ## Reward
    One uniform ``u_t`` per step whatever the arm; ``r_t(a) = 1[u_t < mu_t(a)]``. The
    whole reward vector is determined by ``u_t`` (common random numbers, O(K) memory).

    ## Regret
    * ``dynamic`` (primary, per step): comparator ``sum_t max_a mu_t(a)``.
    * ``static``: best fixed arm in hindsight; realised ``max_a sum_t r_t(a)``, expected
      ``max_a sum_t mu_t(a)``; may be negative for adaptive learners.

    ## Information
    ``t``, ``expected_reward`` (``mu_t(a_t)``), ``optimal_expected_reward``
    (``max_a mu_t(a)``).

    ## Arguments
    * ``means``: K base means in [0, 1] (default ``(0.9, 0.5, 0.3, 0.1)``).
    * ``schedule``: ``"iid"``, ``"switch"`` (default) or ``"sinusoidal"``.
    * ``switch_at``: fraction of the horizon after which ``"switch"`` changes, in (0, 1]
      (default 0.5).
    * ``amplitude``: amplitude of ``"sinusoidal"``, in [0, 1] (default 0.3).
    * ``period``: period in rounds of ``"sinusoidal"`` (> 0; default ``None`` = T / 4).
    * ``shuffle_arms``: permute arm labels per run (default ``False``).
    * ``horizon``: run length T (default 1000).

    ## References
    Auer, Cesa-Bianchi, Freund & Schapire, "The Nonstochastic Multiarmed Bandit
    Problem", SIAM J. Computing 32 (2002); Lattimore & Szepesvari, "Bandit Algorithms"
    (2020), ch. 11 (oblivious adversaries, static regret) and ch. 31 (non-stationary
    bandits, dynamic regret).

    ## Version History
    * v0: initial version.
    """

    family = "classic"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "means": Array("float", ndim=1, min_len=1, low=0.0, high=1.0),
        "horizon": Interval("int", 1, None),
        "schedule": Options(*SCHEDULES),
        "switch_at": Interval("real", 0.0, 1.0, closed="right"),
        "amplitude": Interval("real", 0.0, 1.0),
        "period": [None, Interval("real", 0.0, None, closed="neither")],
        "shuffle_arms": Boolean(),
    }

    def __init__(
        self,
        means=(0.9, 0.5, 0.3, 0.1),
        schedule: str = "switch",
        switch_at: float = 0.5,
        amplitude: float = 0.3,
        period: float | None = None,
        shuffle_arms: bool = False,
        horizon: int = 1000,
    ):
        p = validate_params(self._parameter_constraints, {
            "means": means, "horizon": horizon, "schedule": schedule, "switch_at": switch_at,
            "amplitude": amplitude, "period": period, "shuffle_arms": shuffle_arms,
        })
        arr = p["means"]
        self.horizon = p["horizon"]
        self.means = arr
        self.schedule = p["schedule"]
        self.switch_at = p["switch_at"]
        self.amplitude = p["amplitude"]
        self.period = max(self.horizon / 4.0, 1.0) if p["period"] is None else p["period"]
        self.shuffle_arms = p["shuffle_arms"]
        self.run_length = self.horizon
        k = arr.shape[0]
        self.switch_step = int(np.floor(self.switch_at * self.horizon))
        params = adversarial_params(arr, self.schedule, self.switch_step, self.amplitude,
                                    self.period, self.shuffle_arms)
        self.action_space = gym.spaces.Discrete(k)
        self.observation_space = gym.spaces.Discrete(1)
        self.oracle = AdversarialBanditOracle(params, self.horizon)
        self.known_constants = MappingProxyType({"n_arms": k, "horizon": self.horizon})
        self.kernel = EnvKernel(
            params=params,
            init=adversarial_init,
            step=adversarial_step,
            observe=constant_observe,
            checkpoint=adversarial_checkpoint,
            comparator_kinds=("static",),
        )

    def kernel_obs_to_obs(self, kobs):
        """The constant observation ``0``."""
        return 0

    def _on_reset(self) -> None:
        """Point the oracle at the new run's kernel state (its running sums)."""
        self.oracle.state_ = self.state_
