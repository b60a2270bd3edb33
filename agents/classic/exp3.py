"""Exp3 with importance-weighted loss estimates (Auer et al., 2002; Bubeck & Cesa-Bianchi, 2012).

Kernels on top, class below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import categorical_sample
from banditlab.validation import Interval, require_discrete_actions


class Exp3Hparams(NamedTuple):
    """Kernel hyperparameters of :class:`Exp3`.

    Attributes:
        eta: float64, constant learning rate, or ``-1.0`` when not given.
        horizon: float64, horizon T of the tuned rate, or ``-1.0`` when not given.
    """

    eta: float
    horizon: float


class WeightState(NamedTuple):
    """State of exponential-weights / FTRL bandit agents (updated in place).

    Attributes:
        cum_loss: float64[K], cumulative importance-weighted loss estimates ``L_hat``.
        probs: float64[K], the sampling distribution of the current round.
        aux: float64[2], ``[normaliser warm start, learning rate]`` (Tsallis-INF; unused
            by Exp3).
    """

    cum_loss: np.ndarray
    probs: np.ndarray
    aux: np.ndarray


@njit(cache=True)
def weight_init(dims, hparams, rng):
    """Zero loss estimates and uniform probabilities for ``dims[0]`` arms."""
    k = dims[0]
    aux = np.empty(2)
    aux[0] = np.nan
    aux[1] = np.nan
    return WeightState(np.zeros(k), np.full(k, 1.0 / k), aux)


@njit(cache=True)
def exp3_learning_rate(hparams, k, t):
    """Learning rate of Exp3 at round ``t``.

    ``eta`` if given (> 0); else ``sqrt(2 ln K / (T K))`` with the horizon T; else the
    anytime rate ``sqrt(ln K / (t K))``.

    Args:
        hparams: :class:`Exp3Hparams`; a value ``<= 0`` means "not given".
        k: Number of arms.
        t: Current round, from 1.
    """
    eta = hparams.eta
    horizon = hparams.horizon
    if eta > 0.0:
        return eta
    if horizon > 0.0:
        return np.sqrt(2.0 * np.log(k) / (horizon * k))
    return np.sqrt(np.log(k) / (t * k))


@njit(cache=True)
def exp3_select(state, hparams, obs, t, rng):
    """Sample from ``p_i ~ exp(-eta_t L_hat_i)`` (stabilised by ``min L_hat``); one uniform draw."""
    k = state.cum_loss.shape[0]
    eta = exp3_learning_rate(hparams, k, t)
    lmin = np.min(state.cum_loss)
    total = 0.0
    for i in range(k):
        w = np.exp(-eta * (state.cum_loss[i] - lmin))
        state.probs[i] = w
        total += w
    for i in range(k):
        state.probs[i] /= total
    return categorical_sample(state.probs, rng)


@njit(cache=True)
def importance_weighted_update(state, hparams, obs, action, reward, next_obs):
    """``L_hat[a] += (1 - r) / p[a]``: unbiased estimate of the loss ``1 - r`` of every arm."""
    state.cum_loss[action] += (1.0 - reward) / state.probs[action]


class Exp3(KernelAgent):
    """Exp3 (exponential weights for exploration and exploitation), loss-based form.

    Works with losses ``l = 1 - r`` (rewards in [0, 1]); keeps importance-weighted
    estimates ``L_hat_i = sum_s 1[a_s = i] l_s / p_{s,i}`` and samples
    ``p_{t,i} ~ exp(-eta_t L_hat_i)``. No explicit uniform mixing is needed for the
    loss-based estimator (Bubeck & Cesa-Bianchi, 2012, Thm 3.1).

    Learning rate (the horizon must be known for the tuned rate, or an anytime rate
    is used):

    * ``eta`` given: constant ``eta``;
    * else ``horizon`` given: ``eta = sqrt(2 ln K / (T K))``, pseudo-regret
      ``<= sqrt(2 T K ln K)``;
    * else (default) anytime ``eta_t = sqrt(ln K / (t K))``, pseudo-regret
      ``<= 2 sqrt(T K ln K)``.

    Args:
        eta: Constant learning rate (> 0) or ``None`` (default).
        horizon: Horizon T for the tuned rate (integer >= 1) or ``None`` (default);
            bind ``"@run_length"`` in experiment files.

    Regret guarantee:
        Static pseudo-regret ``O(sqrt(T K log K))`` against any oblivious adversary with
        rewards in [0, 1].

    Deviations:
        Exp3 as published by Auer et al. (2002, Fig. 1) estimates *rewards*
        ``x_hat = r / p`` and mixes the exponential weights with the uniform distribution,
        ``p = (1 - gamma) w / sum w + gamma / K``, with ``eta = gamma / K``. This class is the
        loss-based form of Bubeck & Cesa-Bianchi (2012, sec. 3.1): losses ``1 - r``
        estimated by importance weighting, no uniform mixing, its own learning rates.
        Why: loss estimates are nonnegative, so the exponential-weights analysis needs no
        exploration floor and gives the smaller bound ``sqrt(2 T K ln K)`` (against
        ``2 sqrt(e - 1) sqrt(T K ln K)`` for the published tuning). Measured effect [M]:
        lower static pseudo-regret than the published algorithm on both adversarial envs of
        ``classic_adversarial.toml`` (``python benchmarks/bench_classic.py --deviations``,
        T = 1e4, 10 seeds, mean +- s.e.): ``switch`` -734 +- 289 (anytime) and -574 +- 212
        (horizon-tuned) against 405 +- 210; ``sinusoidal`` 129 +- 17 and 202 +- 12 against
        380 +- 12.

    References:
        Auer, Cesa-Bianchi, Freund & Schapire, "The Nonstochastic Multiarmed Bandit
        Problem", SIAM J. Computing 32 (2002); Bubeck & Cesa-Bianchi, "Regret Analysis of
        Stochastic and Nonstochastic Multi-armed Bandit Problems", Foundations and Trends
        in ML 5 (2012), sec. 3.1.
    """

    display_name: ClassVar[str] = "Exp3"
    deviation: ClassVar[str | None] = "loss-based, no mixing"
    _tags = {
        "families": ("classic",),
        "check_env": ("banditlab/AdversarialBandit-v0", {"horizon": 200}),
    }

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "eta": [None, Interval("real", 0.0, None, closed="neither")],
        "horizon": [None, Interval("int", 1, None)],
    }

    def __init__(self, eta: float | None = None, horizon: int | None = None):
        self.eta = eta
        self.horizon = horizon

    def _validate_params(self, action_space, observation_space) -> None:
        """``eta``, ``horizon`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Exp3 kernel over :class:`WeightState`."""
        hp = Exp3Hparams(
            -1.0 if self.eta is None else float(self.eta),
            -1.0 if self.horizon is None else float(self.horizon),
        )
        return AgentKernel(hp, weight_init, exp3_select, importance_weighted_update)
