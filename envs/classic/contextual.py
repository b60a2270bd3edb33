"""Linear contextual bandit: per-round arm features, a fixed unknown parameter, Gaussian noise.

Kernels on top, class below. Every round shows a feature vector ``x_{t,a} in R^d``
for each of the K arms; pulling arm ``a`` pays ``<x_{t,a}, theta> + sigma z_t``.
Each step draws exactly one standard normal (the reward noise ``z_t``) and then
``K d`` uniforms (the next round's features) from the noise stream, whatever the arm (common
random numbers).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import BanditlabError, EnvKernel, KernelEnv, Oracle, RegretKind
from banditlab.validation import Array, Interval, validate_params


class LinearContextualParams(NamedTuple):
    """Kernel parameters of :class:`LinearContextual`.

    Attributes:
        theta: float64[d], the given parameter (zeros when drawn per run).
        theta_given: int64, 1 when ``theta`` is used as given, 0 to draw it at ``init``.
        n_arms: int64, K.
        sigma: float64, reward noise standard deviation.
        feature_bound: float64, features are uniform on ``[-feature_bound, feature_bound)``.
    """

    theta: np.ndarray
    theta_given: np.int64
    n_arms: np.int64
    sigma: float
    feature_bound: float


class LinearContextualState(NamedTuple):
    """Kernel state of the linear contextual bandit (updated in place).

    Attributes:
        t: int64[1], rounds completed.
        theta: float64[d], the unknown parameter of this run.
        obs: float64[2, K, d], two feature buffers: ``obs[pos[0]]`` holds the features of
            the current round (row ``a`` is arm ``a``); ``step`` draws the next round's
            features into the other buffer, so the previous observation (a view returned
            by :func:`linear_contextual_observe`) stays intact for the agent's ``update``.
        pos: int64[1], index (0 or 1) of the current round's buffer in ``obs``.
        cum_best: float64[1], ``sum_{s<=t} max_a <x_{s,a}, theta>``.
    """

    t: np.ndarray
    theta: np.ndarray
    obs: np.ndarray
    pos: np.ndarray
    cum_best: np.ndarray


@njit(cache=True)
def _draw_contexts(obs, row, bound, rng):
    """Overwrite ``obs[row]`` (float64[K, d] of ``obs``: float64[2, K, d]) with i.i.d. uniforms.

    Entries are uniform on ``[-bound, bound)``, one ``random()`` draw per entry, row by row.
    Indexes ``obs`` in place (no view), so the step allocates and reference-counts nothing.
    """
    k = obs.shape[1]
    d = obs.shape[2]
    for a in range(k):
        for j in range(d):
            obs[row, a, j] = bound * (2.0 * rng.random() - 1.0)


@njit(cache=True)
def linear_contextual_init(params, rng):
    """Draw ``theta`` (unless given) and the first round's features from the ``init`` stream.

    Args:
        params: :class:`LinearContextualParams`.
        rng: The env's ``init`` generator.
    """
    theta_in = params.theta
    theta_given = params.theta_given
    k = params.n_arms
    scale = params.feature_bound
    d = theta_in.shape[0]
    theta = np.empty(d)
    if theta_given != 0:
        theta[:] = theta_in
    else:
        # Uniform on the unit sphere: normalised standard normal vector.
        norm2 = 0.0
        for j in range(d):
            v = rng.standard_normal()
            theta[j] = v
            norm2 += v * v
        nrm = np.sqrt(norm2)
        if nrm == 0.0:  # probability zero; keep theta well defined
            theta[0] = 1.0
            nrm = 1.0
        for j in range(d):
            theta[j] /= nrm
    obs = np.zeros((2, k, d))
    _draw_contexts(obs, 0, scale, rng)
    return LinearContextualState(np.zeros(1, np.int64), theta, obs, np.zeros(1, np.int64),
                                 np.zeros(1))


@njit(cache=True)
def linear_contextual_step(state, params, action, rng):
    """Pay ``<x_{t,a}, theta> + sigma z``, then draw the next round's features.

    Args:
        state: :class:`LinearContextualState`.
        params: :class:`LinearContextualParams`.
        action: int64 arm index.
        rng: The env's noise generator (``K d`` uniforms and one standard normal per step).

    Returns:
        ``(reward, expected_reward, optimal_expected_reward)`` with
        ``optimal_expected_reward = max_a <x_{t,a}, theta>``.
    """
    sigma = params.sigma
    scale = params.feature_bound
    pos = state.pos[0]
    k = state.obs.shape[1]
    d = state.obs.shape[2]
    best = -np.inf
    chosen = 0.0
    for a in range(k):
        m = 0.0
        for j in range(d):
            m += state.obs[pos, a, j] * state.theta[j]
        if m > best:
            best = m
        if a == action:
            chosen = m
    z = rng.standard_normal()
    state.cum_best[0] += best
    state.t[0] += 1
    nxt = 1 - pos
    _draw_contexts(state.obs, nxt, scale, rng)
    state.pos[0] = nxt
    return chosen + sigma * z, chosen, best


@njit(cache=True)
def linear_contextual_observe(state, params):
    """The current features, float64[K, d]: a view of ``state.obs[state.pos[0]]``.

    No allocation: the next ``step`` writes the other buffer, so this view stays valid
    until the step after it; the Python path copies it (``KernelEnv.kernel_obs_to_obs``).
    """
    return state.obs[state.pos[0]]


@njit(cache=True)
def linear_contextual_checkpoint(state, params):
    """No hindsight comparator (the primary kind is per step) and no extra metrics."""
    return np.empty(0)


class LinearContextualOracle(Oracle):
    """Oracle of the linear contextual bandit.

    Kind ``stochastic`` (primary, per step): ``C(t) = sum_{s<=t} max_a <x_{s,a}, theta>``,
    the expected reward of the best arm *for the current context* (contextual
    pseudo-regret against the optimal policy ``x -> argmax_a <x_a, theta>``); realised
    comparator equals the expected one. Read from the kernel state's running sum.
    """

    primary_kind = "stochastic"
    regret_kinds = MappingProxyType(
        {
            "stochastic": RegretKind(
                per_step=True,
                nonnegative=True,
                description="sum over rounds of the best arm's expected reward for that "
                "round's context",
            )
        }
    )

    def __init__(self):
        self.state_: LinearContextualState | None = None

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """``(C(t), C(t))`` for kind ``stochastic`` from the running sum."""
        if kind != "stochastic":
            return super().comparator(kind, t)
        if self.state_ is None:
            raise RuntimeError("the oracle is read after env.reset(seed=...)")
        if int(self.state_.t[0]) != t:
            raise ValueError(
                f"t: the oracle holds sums up to round {int(self.state_.t[0])}, not {t}"
            )
        c = float(self.state_.cum_best[0])
        return c, c

    @property
    def theta(self) -> np.ndarray:
        """The current run's parameter, float64[d] (a copy)."""
        if self.state_ is None:
            raise RuntimeError("the oracle is read after env.reset(seed=...)")
        return self.state_.theta.copy()


def _theta_param(theta: np.ndarray | None, dim: int) -> tuple[np.ndarray, int]:
    """``(theta float64[d], theta_given)``: zeros and 0 when ``theta`` is drawn per run.

    Raises:
        BanditlabError: When a given ``theta`` does not have ``dim`` entries.
    """
    if theta is None:
        return np.zeros(dim), 0
    if theta.shape != (dim,):
        raise BanditlabError(
            f"theta: expected {dim} finite numbers (dim={dim}) or None, got shape {theta.shape}"
        )
    return theta, 1


class LinearContextual(KernelEnv):
    """K-armed linear contextual bandit with a fixed unknown parameter.

    ## Description
    At round ``t`` each arm ``a`` shows features ``x_{t,a} in R^d`` with i.i.d. entries
    uniform on ``[-feature_bound, feature_bound]`` (default ``feature_bound =
    sqrt(3 / d)``, so ``E ||x||^2 = 1``). The unknown ``theta`` is fixed for the run:
    given, or drawn uniformly on the unit sphere from the env's ``init`` stream at ``reset(seed)``.

    ## Action Space
    ``Discrete(K)``.

    ## Observation Space
    ``Box(-feature_bound, feature_bound, (K, d), float64)``: row ``a`` is ``x_{t,a}``.
    The env belongs to the ``"classic"`` family; the suites pair it with every classic agent
    whose hyperparameters accept its spaces (LinUCB, LinTS, and context-free agents).

    ## Reward
    ``<x_{t,a}, theta> + sigma z_t`` with one standard normal ``z_t``; each step then
    draws the next ``K d`` features (``K d`` uniforms), a fixed count whatever the arm.

    ## Regret
    ``stochastic`` (primary, per step): comparator ``sum_t max_a <x_{t,a}, theta>``, the
    best arm for the current context.

    ## Information
    ``t``, ``expected_reward`` (``<x_{t,a}, theta>``), ``optimal_expected_reward``
    (``max_a <x_{t,a}, theta>``).

    ## Arguments
    * ``n_arms``: K >= 1 (default 10).
    * ``dim``: d >= 1 (default 5).
    * ``theta``: list of d finite numbers, or ``None`` (default) for a random unit vector
      per run.
    * ``sigma``: noise standard deviation (>= 0, default 0.5).
    * ``feature_bound``: features are uniform on ``[-feature_bound, feature_bound]`` (> 0;
      default ``None`` = ``sqrt(3 / d)``).
    * ``horizon``: run length T (default 1000).

    ## References
    Li, Chu, Langford & Schapire, "A Contextual-Bandit Approach to Personalized News
    Article Recommendation", WWW 2010; Abbasi-Yadkori, Pal & Szepesvari, "Improved
    Algorithms for Linear Stochastic Bandits", NeurIPS 2011.

    ## Version History
    * v0: initial version.
    """

    family = "classic"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_arms": Interval("int", 1, None),
        "dim": Interval("int", 1, None),
        "horizon": Interval("int", 1, None),
        "theta": [None, Array("float", ndim=1)],
        "sigma": Interval("real", 0.0, None),
        "feature_bound": [None, Interval("real", 0.0, None, closed="neither")],
    }

    def __init__(
        self,
        n_arms: int = 10,
        dim: int = 5,
        theta=None,
        sigma: float = 0.5,
        feature_bound: float | None = None,
        horizon: int = 1000,
    ):
        p = validate_params(self._parameter_constraints, {
            "n_arms": n_arms, "dim": dim, "horizon": horizon, "theta": theta, "sigma": sigma,
            "feature_bound": feature_bound,
        })
        k, d = p["n_arms"], p["dim"]
        self.horizon = p["horizon"]
        theta_arr, theta_given = _theta_param(p["theta"], d)
        scale = float(np.sqrt(3.0 / d)) if p["feature_bound"] is None else p["feature_bound"]
        self.n_arms = k
        self.dim = d
        self.theta = None if theta is None else theta_arr
        self.sigma = p["sigma"]
        self.feature_bound = scale
        self.run_length = self.horizon
        self.action_space = gym.spaces.Discrete(k)
        self.observation_space = gym.spaces.Box(-scale, scale, shape=(k, d), dtype=np.float64)
        self.oracle = LinearContextualOracle()
        self.known_constants = MappingProxyType(
            {"n_arms": k, "dim": d, "horizon": self.horizon, "sigma": self.sigma}
        )
        self.kernel = EnvKernel(
            params=LinearContextualParams(
                theta_arr, np.int64(theta_given), np.int64(k), self.sigma, scale
            ),
            init=linear_contextual_init,
            step=linear_contextual_step,
            observe=linear_contextual_observe,
            checkpoint=linear_contextual_checkpoint,
        )

    def _on_reset(self) -> None:
        """Point the oracle at the new run's kernel state."""
        self.oracle.state_ = self.state_
