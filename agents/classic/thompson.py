"""Thompson sampling: Beta-Bernoulli and Gaussian (Thompson, 1933; Agrawal & Goyal, 2012, 2013).

Kernels on top, classes below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import running_max, tied_maximiser
from banditlab.validation import Interval, require_discrete_actions


class ThompsonBetaHparams(NamedTuple):
    """Kernel hyperparameters of :class:`ThompsonBeta`.

    Attributes:
        alpha0: float64, prior successes (> 0).
        beta0: float64, prior failures (> 0).
    """

    alpha0: float
    beta0: float


class ThompsonGaussianHparams(NamedTuple):
    """Kernel hyperparameters of :class:`ThompsonGaussian`.

    Attributes:
        prior_mean: float64, prior mean ``m0`` of every arm.
        prior_var: float64, prior variance ``v0`` (> 0).
        sigma: float64, assumed noise standard deviation (> 0).
    """

    prior_mean: float
    prior_var: float
    sigma: float


class PosteriorState(NamedTuple):
    """Per-arm posterior statistics (updated in place).

    Attributes:
        a: float64[K], Beta: ``alpha0 + sum r``; Gaussian: pulls ``n``.
        b: float64[K], Beta: ``beta0 + sum (1 - r)``; Gaussian: summed rewards.
        sample: float64[K], scratch buffer for the posterior samples.
    """

    a: np.ndarray
    b: np.ndarray
    sample: np.ndarray


@njit(cache=True)
def beta_init(dims, hparams, rng):
    """Beta(alpha0, beta0) prior for each of the ``dims[0]`` arms (:class:`ThompsonBetaHparams`)."""
    k = dims[0]
    return PosteriorState(np.full(k, hparams.alpha0), np.full(k, hparams.beta0), np.zeros(k))


@njit(cache=True)
def beta_select(state, hparams, obs, t, rng):
    """Argmax of one Beta posterior sample per arm (K beta draws, one tie-break draw)."""
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for i in range(state.a.shape[0]):
        v = rng.beta(state.a[i], state.b[i])
        state.sample[i] = v
        best, n_best, first = running_max(v, i, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.sample, best, n_best, u)


@njit(cache=True)
def beta_update(state, hparams, obs, action, reward, next_obs):
    """Conjugate update with ``r`` clipped to [0, 1]: ``a += r``, ``b += 1 - r``."""
    r = min(max(reward, 0.0), 1.0)
    state.a[action] += r
    state.b[action] += 1.0 - r


@njit(cache=True)
def gaussian_init(dims, hparams, rng):
    """Zero pulls and sums for each of the ``dims[0]`` arms."""
    k = dims[0]
    return PosteriorState(np.zeros(k), np.zeros(k), np.zeros(k))


@njit(cache=True)
def gaussian_posterior(n, s, prior_mean, prior_var, sigma):
    """Posterior ``(mean, variance)`` of an arm's mean under a Gaussian prior and noise.

    Args:
        n: Pulls of the arm.
        s: Sum of its rewards.
        prior_mean: Prior mean ``m0``.
        prior_var: Prior variance ``v0`` (> 0).
        sigma: Noise standard deviation (> 0).

    Returns:
        ``((m0 / v0 + s / sigma^2) / prec, 1 / prec)`` with ``prec = 1 / v0 + n / sigma^2``.
    """
    s2 = sigma * sigma
    prec = 1.0 / prior_var + n / s2
    return (prior_mean / prior_var + s / s2) / prec, 1.0 / prec


@njit(cache=True)
def gaussian_select(state, hparams, obs, t, rng):
    """Argmax of one Gaussian posterior sample per arm (K normal draws, one tie-break draw).

    ``hparams`` is a :class:`ThompsonGaussianHparams`.
    """
    m0 = hparams.prior_mean
    v0 = hparams.prior_var
    sigma = hparams.sigma
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for i in range(state.a.shape[0]):
        mean, var = gaussian_posterior(state.a[i], state.b[i], m0, v0, sigma)
        v = mean + np.sqrt(var) * rng.standard_normal()
        state.sample[i] = v
        best, n_best, first = running_max(v, i, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.sample, best, n_best, u)


@njit(cache=True)
def gaussian_update(state, hparams, obs, action, reward, next_obs):
    """Add one pull and ``reward`` to the statistics of ``action``."""
    state.a[action] += 1.0
    state.b[action] += reward


class ThompsonBeta(KernelAgent):
    """Beta-Bernoulli Thompson sampling.

    Keeps a ``Beta(alpha0 + S_a, beta0 + n_a - S_a)`` posterior per arm and plays the
    arm with the largest posterior sample. Rewards are clipped to [0, 1]; for
    non-binary rewards the update ``a += r, b += 1 - r`` is the usual fractional
    approximation (Agrawal & Goyal's Bernoulli trick needs randomness in the update,
    which kernel updates do not receive).

    Args:
        alpha0: Prior successes (> 0, default 1: uniform prior).
        beta0: Prior failures (> 0, default 1).

    Regret guarantee:
        Asymptotically optimal on Bernoulli bandits with the uniform prior:
        ``E[N_a(T)] <= (1 + eps) log T / kl(mu_a, mu*) + O(1)`` (Kaufmann et al., 2012).

    References:
        Thompson, "On the Likelihood that One Unknown Probability Exceeds Another",
        Biometrika 25 (1933); Agrawal & Goyal, "Analysis of Thompson Sampling for the
        Multi-armed Bandit Problem", COLT 2012; Kaufmann, Korda & Munos, "Thompson
        Sampling: An Asymptotically Optimal Finite-Time Analysis", ALT 2012.
    """

    display_name: ClassVar[str] = "Thompson sampling"
    _tags = {"families": ("classic",)}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha0": Interval("real", 0.0, None, closed="neither"),
        "beta0": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, alpha0: float = 1.0, beta0: float = 1.0):
        self.alpha0 = alpha0
        self.beta0 = beta0

    def _validate_params(self, action_space, observation_space) -> None:
        """``alpha0``, ``beta0`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Beta-Bernoulli kernel over :class:`PosteriorState`."""
        return AgentKernel(
            ThompsonBetaHparams(float(self.alpha0), float(self.beta0)), beta_init, beta_select,
            beta_update,
        )


class ThompsonGaussian(KernelAgent):
    """Gaussian Thompson sampling with a conjugate normal prior and known noise level.

    Arm means have prior ``N(prior_mean, prior_var)`` and rewards are modelled as
    ``N(mean, sigma^2)``; the agent plays the arm with the largest posterior sample.
    With the defaults (``N(0, 1)`` prior, ``sigma = 1``) the posterior is
    ``N(S_a / (n_a + 1), 1 / (n_a + 1))``, the Gaussian-prior algorithm of Agrawal &
    Goyal (2013).

    Args:
        prior_mean: Prior mean of every arm (finite, default 0).
        prior_var: Prior variance (> 0, default 1).
        sigma: Assumed noise standard deviation (> 0, default 1). Use 0.5 or less for
            rewards in [0, 1] (sub-Gaussian with variance proxy 1/4).

    Regret guarantee:
        ``O(sum_a log T / Delta_a)`` on bandits with rewards in [0, 1] for the default
        prior (Agrawal & Goyal, 2013), and ``O(sqrt(K T log K))`` problem-independent.

    References:
        Agrawal & Goyal, "Further Optimal Regret Bounds for Thompson Sampling",
        AISTATS 2013; Russo, Van Roy, Kazerouni, Osband & Wen, "A Tutorial on Thompson
        Sampling", Foundations and Trends in ML 11 (2018).
    """

    display_name: ClassVar[str] = "Gaussian Thompson sampling"
    _tags = {"families": ("classic",), "check_env": ("banditlab/Gaussian-v0", {"horizon": 200})}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "prior_mean": Interval("real"),
        "prior_var": Interval("real", 0.0, None, closed="neither"),
        "sigma": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, prior_mean: float = 0.0, prior_var: float = 1.0, sigma: float = 1.0):
        self.prior_mean = prior_mean
        self.prior_var = prior_var
        self.sigma = sigma

    def _validate_params(self, action_space, observation_space) -> None:
        """The prior, ``sigma`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Gaussian kernel over :class:`PosteriorState`."""
        hp = ThompsonGaussianHparams(
            float(self.prior_mean), float(self.prior_var), float(self.sigma)
        )
        return AgentKernel(hp, gaussian_init, gaussian_select, gaussian_update)
