"""KL-UCB for Bernoulli rewards (Garivier & Cappe, 2011; Cappe et al., 2013).

Kernels on top, class below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.classic.ucb import IndexState, index_init
from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import kl_ucb_bernoulli, running_max, tied_maximiser
from banditlab.validation import Interval, require_discrete_actions


class KLUCBHparams(NamedTuple):
    """Kernel hyperparameters of :class:`KLUCB`.

    Attributes:
        c: float64, constant of the ``log log t`` term (>= 0).
        precision: float64, bisection tolerance of the index.
    """

    c: float
    precision: float


@njit(cache=True)
def kl_ucb_level(t, n, c):
    """Exploration level ``(log t + c log log t) / n`` (the ``log log`` term only for t >= 3).

    Args:
        t: Current round (from 1).
        n: Pulls of the arm (> 0).
        c: Constant of the ``log log t`` term (>= 0).
    """
    lvl = np.log(t)
    if c > 0.0 and t >= 3:
        lvl += c * np.log(np.log(t))
    return lvl / n


@njit(cache=True)
def kl_ucb_update(state, hparams, obs, action, reward, next_obs):
    """Add ``reward`` clipped to [0, 1] to the statistics of ``action``."""
    r = min(max(reward, 0.0), 1.0)
    state.counts[action] += 1.0
    state.sums[action] += r


@njit(cache=True)
def kl_ucb_select(state, hparams, obs, t, rng):
    """Argmax of the KL-UCB index; unpulled arms first (random ties).

    The index of arm ``a`` is ``max{q in [mu_a, 1] : n_a kl(mu_a, q) <= log t + c log
    log t}``, found by bisection (:func:`banditlab.kernels.kl_ucb_bernoulli`, tolerance
    ``hparams.precision``).

    Args:
        state: :class:`~banditlab.agents.classic.ucb.IndexState`.
        hparams: :class:`KLUCBHparams`.
        obs: Ignored.
        t: Current round, from 1.
        rng: Tie-breaking generator (one draw per call).
    """
    c = hparams.c
    precision = hparams.precision
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for a in range(state.counts.shape[0]):
        n = state.counts[a]
        if n == 0.0:
            v = np.inf
        else:
            mean = state.sums[a] / n
            v = kl_ucb_bernoulli(mean, kl_ucb_level(t, n, c), precision, 60)
        state.index[a] = v
        best, n_best, first = running_max(v, a, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.index, best, n_best, u)


class KLUCB(KernelAgent):
    """KL-UCB with the Bernoulli divergence.

    Plays each arm once, then the arm maximising
    ``max{q : n_a kl(mu_a, q) <= log t + c log log t}``. Rewards are clipped to
    [0, 1] (the index is designed for rewards in [0, 1]).

    Args:
        c: Constant of the ``log log t`` term (>= 0). ``c = 3`` is the value of the
            finite-time analysis; ``c = 0`` (default) is recommended in practice by the
            authors.
        precision: Bisection tolerance of the index (in (0, 0.1], default 1e-6).

    Regret guarantee:
        Asymptotically optimal on Bernoulli bandits (matches the Lai-Robbins bound):
        ``E[N_a(T)] <= (1 + eps) log T / kl(mu_a, mu*) + O(log log T)`` for ``c = 3``.

    References:
        Garivier & Cappe, "The KL-UCB Algorithm for Bounded Stochastic Bandits and
        Beyond", COLT 2011; Cappe, Garivier, Maillard, Munos & Stoltz, "Kullback-Leibler
        Upper Confidence Bounds for Optimal Sequential Allocation", Annals of Statistics
        41 (2013).
    """

    display_name: ClassVar[str] = "KL-UCB"
    _tags = {"families": ("classic",)}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "c": Interval("real", 0.0, None),
        "precision": Interval("real", 0.0, 0.1, closed="right"),
    }

    def __init__(self, c: float = 0.0, precision: float = 1e-6):
        self.c = c
        self.precision = precision

    def _validate_params(self, action_space, observation_space) -> None:
        """``c``, ``precision`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """KL-UCB kernel over :class:`~banditlab.agents.classic.ucb.IndexState`."""
        return AgentKernel(
            KLUCBHparams(float(self.c), float(self.precision)), index_init, kl_ucb_select,
            kl_ucb_update,
        )


__all__ = ["KLUCB", "KLUCBHparams", "IndexState", "kl_ucb_level", "kl_ucb_select",
           "kl_ucb_update"]
