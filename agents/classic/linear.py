"""Linear contextual bandit agents: LinUCB (Li et al., 2010) and linear Thompson sampling.

Kernels on top, classes below. Both agents fit one shared parameter ``theta`` by
ridge regression on the features of the arms they played; the observation is the
float64[K, d] matrix of the current round's features (row ``a`` = arm ``a``), as
produced by ``banditlab/LinearContextual-v0``.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.kernels import running_max, tied_maximiser
from banditlab.validation import Interval, require_discrete_actions


class LinUCBHparams(NamedTuple):
    """Kernel hyperparameters of :class:`LinUCB`.

    Attributes:
        alpha: float64, width of the confidence bonus (> 0).
        lam: float64, ridge regularisation (> 0).
    """

    alpha: float
    lam: float


class LinTSHparams(NamedTuple):
    """Kernel hyperparameters of :class:`LinTS`.

    Attributes:
        v: float64, posterior scale (> 0).
        lam: float64, ridge regularisation (> 0).
    """

    v: float
    lam: float


class LinUCBState(NamedTuple):
    """Ridge-regression statistics of LinUCB (updated in place).

    Attributes:
        a_inv: float64[d, d], ``(lam I + sum_s x_s x_s^T)^{-1}``, kept by Sherman-Morrison.
        b: float64[d], ``sum_s r_s x_s``.
        theta: float64[d], scratch: the ridge estimate ``a_inv @ b`` of the last select.
        index: float64[K], scratch: the arm indices of the last select.
        tmp: float64[d], scratch vector.
    """

    a_inv: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    index: np.ndarray
    tmp: np.ndarray


class LinTSState(NamedTuple):
    """Ridge-regression statistics of linear Thompson sampling (updated in place).

    Attributes:
        a: float64[d, d], ``lam I + sum_s x_s x_s^T``.
        b: float64[d], ``sum_s r_s x_s``.
        chol: float64[d, d], scratch: lower Cholesky factor ``L`` of ``a``.
        theta: float64[d], scratch: the posterior sample of the last select.
        index: float64[K], scratch: the sampled arm values.
        tmp: float64[d], scratch vector.
    """

    a: np.ndarray
    b: np.ndarray
    chol: np.ndarray
    theta: np.ndarray
    index: np.ndarray
    tmp: np.ndarray


@njit(cache=True)
def linucb_init(dims, hparams, rng):
    """``a_inv = I / lam``, zero ``b`` for ``K = dims[0]`` arms and ``d = dims[1] // K``."""
    k = dims[0]
    d = dims[1] // k
    lam = hparams.lam
    return LinUCBState(np.eye(d) / lam, np.zeros(d), np.zeros(d), np.zeros(k), np.zeros(d))


@njit(cache=True)
def linucb_select(state, hparams, obs, t, rng):
    """Argmax of ``<x_a, theta_hat> + alpha sqrt(x_a^T A^{-1} x_a)`` (one tie-break draw).

    Args:
        state: :class:`LinUCBState`.
        hparams: :class:`LinUCBHparams`.
        obs: float64[K, d] features of the current round.
        t: Current round, from 1 (unused).
        rng: Tie-breaking generator.
    """
    alpha = hparams.alpha
    a_inv = state.a_inv
    d = a_inv.shape[0]
    theta = state.theta
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += a_inv[i, j] * state.b[j]
        theta[i] = s
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for a in range(obs.shape[0]):
        mean = 0.0
        var = 0.0
        for i in range(d):
            mean += obs[a, i] * theta[i]
            s = 0.0
            for j in range(d):
                s += a_inv[i, j] * obs[a, j]
            var += obs[a, i] * s  # x^T (A^{-1} x), summed in the order of i
        v = mean + alpha * np.sqrt(max(var, 0.0))
        state.index[a] = v
        best, n_best, first = running_max(v, a, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.index, best, n_best, u)


@njit(cache=True)
def linucb_update(state, hparams, obs, action, reward, next_obs):
    """Sherman-Morrison rank-one update of ``a_inv`` with ``x = obs[action]``; ``b += r x``."""
    a_inv = state.a_inv
    d = a_inv.shape[0]
    u = state.tmp
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += a_inv[i, j] * obs[action, j]
        u[i] = s
    denom = 1.0
    for i in range(d):
        denom += obs[action, i] * u[i]
    for i in range(d):
        for j in range(d):
            a_inv[i, j] -= u[i] * u[j] / denom
    # Re-symmetrise to stop rounding drift.
    for i in range(d):
        for j in range(i + 1, d):
            m = 0.5 * (a_inv[i, j] + a_inv[j, i])
            a_inv[i, j] = m
            a_inv[j, i] = m
    for i in range(d):
        state.b[i] += reward * obs[action, i]


@njit(cache=True)
def lints_init(dims, hparams, rng):
    """``a = lam I``, zero ``b`` for ``K = dims[0]`` arms and ``d = dims[1] // K``."""
    k = dims[0]
    d = dims[1] // k
    lam = hparams.lam
    return LinTSState(
        np.eye(d) * lam, np.zeros(d), np.zeros((d, d)), np.zeros(d), np.zeros(k), np.zeros(d)
    )


@njit(cache=True)
def cholesky_lower(a, out):
    """Write the lower Cholesky factor of the SPD matrix ``a`` (float64[d, d]) into ``out``."""
    d = a.shape[0]
    for j in range(d):
        s = a[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        ljj = np.sqrt(max(s, 1e-300))
        out[j, j] = ljj
        for i in range(j + 1, d):
            s = a[i, j]
            for k in range(j):
                s -= out[i, k] * out[j, k]
            out[i, j] = s / ljj
        for i in range(j):
            out[i, j] = 0.0


@njit(cache=True)
def lints_select(state, hparams, obs, t, rng):
    """Argmax of ``<x_a, theta_tilde>`` with ``theta_tilde ~ N(theta_hat, v^2 A^{-1})``.

    ``theta_hat = A^{-1} b`` and the perturbation ``v L^{-T} z`` (``A = L L^T``, ``z`` d
    standard normals) are computed with triangular solves. Draws: d normals and one
    tie-break uniform per call.

    Args:
        state: :class:`LinTSState`.
        hparams: :class:`LinTSHparams`.
        obs: float64[K, d] features of the current round.
        t: Current round, from 1 (unused).
        rng: The agent's generator.
    """
    v = hparams.v
    chol = state.chol
    cholesky_lower(state.a, chol)
    d = chol.shape[0]
    y = state.tmp
    # Forward solve L y = b.
    for i in range(d):
        s = state.b[i]
        for k in range(i):
            s -= chol[i, k] * y[k]
        y[i] = s / chol[i, i]
    # y <- y + v z, then back solve L^T theta = y: theta = A^{-1} b + v L^{-T} z.
    for i in range(d):
        y[i] += v * rng.standard_normal()
    theta = state.theta
    for i in range(d - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, d):
            s -= chol[k, i] * theta[k]
        theta[i] = s / chol[i, i]
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for a in range(obs.shape[0]):
        m = 0.0
        for i in range(d):
            m += obs[a, i] * theta[i]
        state.index[a] = m
        best, n_best, first = running_max(m, a, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.index, best, n_best, u)


@njit(cache=True)
def lints_update(state, hparams, obs, action, reward, next_obs):
    """``A += x x^T``, ``b += r x`` with ``x = obs[action]``."""
    d = state.a.shape[0]
    for i in range(d):
        xi = obs[action, i]
        for j in range(d):
            state.a[i, j] += xi * obs[action, j]
        state.b[i] += reward * xi


def _require_features(action_space, observation_space) -> None:
    """Discrete actions and a Box observation of shape ``(n_arms, dim)``.

    Raises:
        BanditlabError: Naming ``action_space`` or ``observation_space``.
    """
    n_arms = require_discrete_actions(action_space)
    shape = getattr(observation_space, "shape", None)
    if not (
        isinstance(observation_space, gym.spaces.Box)
        and shape is not None
        and len(shape) == 2
        and shape[0] == n_arms
        and shape[1] >= 1
    ):
        raise BanditlabError(
            "observation_space: this agent needs a Box of shape (n_arms, dim) holding one "
            f"feature row per arm, got {observation_space}"
        )


class LinUCB(KernelAgent):
    """LinUCB with a shared parameter (ridge regression and an ellipsoidal bonus).

    Plays ``argmax_a <x_{t,a}, theta_hat> + alpha ||x_{t,a}||_{A^{-1}}`` with
    ``A = lam I + sum_s x_s x_s^T``, ``theta_hat = A^{-1} sum_s r_s x_s``. ``A^{-1}`` is
    maintained by Sherman-Morrison updates (O(d^2) per round). This is the
    shared-parameter LinUCB of Chu, Li, Reyzin & Schapire (2011, Algorithm 1; ``lam = 1``
    there) with per-arm feature vectors; Li et al. (2010) introduced LinUCB with one
    parameter per arm (disjoint model) and a hybrid model.

    Args:
        alpha: Width of the confidence bonus (> 0, default 1.0). A constant ``alpha`` is
            the practical form of Li et al. (2010); OFUL's theory width grows like
            ``sigma sqrt(d log t) + sqrt(lam) ||theta||``.
        lam: Ridge regularisation (> 0, default 1.0).

    Regret guarantee:
        With the OFUL width ``beta_t`` (not a constant ``alpha``):
        ``O(d sqrt(T) log T)`` (Abbasi-Yadkori et al., 2011).

    References:
        Li, Chu, Langford & Schapire, "A Contextual-Bandit Approach to Personalized News
        Article Recommendation", WWW 2010; Chu, Li, Reyzin & Schapire, "Contextual Bandits
        with Linear Payoff Functions", AISTATS 2011; Abbasi-Yadkori, Pal & Szepesvari, "Improved
        Algorithms for Linear Stochastic Bandits", NeurIPS 2011.
    """

    display_name: ClassVar[str] = "LinUCB"
    _tags = {
        "families": ("classic",),
        "check_env": ("banditlab/LinearContextual-v0", {"horizon": 200}),
    }

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": Interval("real", 0.0, None, closed="neither"),
        "lam": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, alpha: float = 1.0, lam: float = 1.0):
        self.alpha = alpha
        self.lam = lam

    def _validate_params(self, action_space, observation_space) -> None:
        """``alpha``, ``lam`` and the feature spaces."""
        super()._validate_params(action_space, observation_space)
        _require_features(action_space, observation_space)

    def make_kernel(self) -> AgentKernel:
        """LinUCB kernel over :class:`LinUCBState`."""
        return AgentKernel(
            LinUCBHparams(float(self.alpha), float(self.lam)), linucb_init, linucb_select,
            linucb_update,
        )


class LinTS(KernelAgent):
    """Linear Thompson sampling (LinTS) with a Gaussian ridge posterior.

    Samples ``theta_tilde ~ N(theta_hat, v^2 A^{-1})`` each round and plays
    ``argmax_a <x_{t,a}, theta_tilde>``, with ``A = lam I + sum_s x_s x_s^T`` and
    ``theta_hat = A^{-1} sum_s r_s x_s`` (Cholesky factorisation of ``A`` per round,
    O(d^3)).

    Args:
        v: Posterior scale (> 0, default 0.5). The analysis uses
            ``v = R sqrt(24 d ln(1/delta) / eps)``, far too conservative in practice; a
            value of the order of the noise level ``R`` is the usual practical choice.
        lam: Ridge regularisation (> 0, default 1.0).

    Regret guarantee:
        ``O(d^{3/2} sqrt(T))`` up to log factors with the theory value of ``v``
        (Agrawal & Goyal, 2013; Abeille & Lazaric, 2017).

    References:
        Agrawal & Goyal, "Thompson Sampling for Contextual Bandits with Linear Payoffs",
        ICML 2013; Abeille & Lazaric, "Linear Thompson Sampling Revisited", AISTATS 2017.
    """

    display_name: ClassVar[str] = "LinTS"
    _tags = {
        "families": ("classic",),
        "check_env": ("banditlab/LinearContextual-v0", {"horizon": 200}),
    }

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "v": Interval("real", 0.0, None, closed="neither"),
        "lam": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, v: float = 0.5, lam: float = 1.0):
        self.v = v
        self.lam = lam

    def _validate_params(self, action_space, observation_space) -> None:
        """``v``, ``lam`` and the feature spaces."""
        super()._validate_params(action_space, observation_space)
        _require_features(action_space, observation_space)

    def make_kernel(self) -> AgentKernel:
        """Linear TS kernel over :class:`LinTSState`."""
        return AgentKernel(LinTSHparams(float(self.v), float(self.lam)), lints_init, lints_select,
                           lints_update)
