"""UCB1 (Auer, Cesa-Bianchi & Fischer, 2002).

Kernels on top, class below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import running_max, tied_maximiser
from banditlab.validation import Interval, require_discrete_actions


class UCB1Hparams(NamedTuple):
    """Kernel hyperparameters of :class:`UCB1`.

    Attributes:
        alpha: float64, exploration constant (> 0).
    """

    alpha: float


class IndexState(NamedTuple):
    """Per-arm statistics of index policies (updated in place).

    Attributes:
        counts: float64[K], pulls of each arm.
        sums: float64[K], summed rewards of each arm.
        index: float64[K], scratch buffer for the indices.
    """

    counts: np.ndarray
    sums: np.ndarray
    index: np.ndarray


@njit(cache=True)
def index_init(dims, hparams, rng):
    """Zero counts and sums for ``dims[0]`` arms."""
    k = dims[0]
    return IndexState(np.zeros(k), np.zeros(k), np.zeros(k))


@njit(cache=True)
def index_update(state, hparams, obs, action, reward, next_obs):
    """Add ``reward`` to the statistics of ``action``."""
    state.counts[action] += 1.0
    state.sums[action] += reward


@njit(cache=True)
def ucb1_select(state, hparams, obs, t, rng):
    """Argmax of ``mean + sqrt(alpha * ln t / n)``; unpulled arms first (random ties).

    Args:
        state: :class:`IndexState`.
        hparams: :class:`UCB1Hparams`.
        obs: Ignored.
        t: Current round, from 1.
        rng: Tie-breaking generator (one draw per call).
    """
    alpha = hparams.alpha
    logt = np.log(t)
    best = -np.inf
    n_best = np.int64(0)
    first = np.int64(0)
    for a in range(state.counts.shape[0]):
        n = state.counts[a]
        if n == 0.0:
            v = np.inf
        else:
            v = state.sums[a] / n + np.sqrt(alpha * logt / n)
        state.index[a] = v
        best, n_best, first = running_max(v, a, best, n_best, first)
    u = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best == 1:
        return first
    return tied_maximiser(state.index, best, n_best, u)


class UCB1(KernelAgent):
    """UCB1 with exploration constant ``alpha``.

    Plays each arm once, then the arm maximising
    ``mean_a + sqrt(alpha * ln t / n_a)``. ``alpha = 2`` is the original UCB1; another
    value is labelled ``UCB1 [alpha=<value>]``.

    Args:
        alpha: Exploration constant (> 0, default 2.0).

    Regret guarantee:
        ``O(sum_a log T / Delta_a)`` for rewards in [0, 1] with ``alpha = 2``.

    Deviations:
        Opt-in only: ``alpha != 2`` changes the published index's exploration constant
        (labelled ``UCB1 [alpha=<value>]``); Theorem 1 of Auer et al. holds for
        ``alpha = 2``, and smaller constants are the usual practical tuning. Measured [M]
        (``python benchmarks/bench_classic.py --variants``: Bernoulli10-v0, T = 1e4,
        10 seeds, pseudo-regret mean +- s.e.): alpha 0.5: 121 +- 6, 1: 215 +- 7,
        2: 389 +- 7, 4: 655 +- 14.

    References:
        Auer, Cesa-Bianchi, Fischer, "Finite-time Analysis of the Multiarmed
        Bandit Problem", Machine Learning 47 (2002).
    """

    display_name: ClassVar[str] = "UCB1"
    _tags = {"families": ("classic", "lsd", "sor")}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": Interval("real", 0.0, None, closed="neither"),
    }

    def __init__(self, alpha: float = 2.0):
        self.alpha = alpha

    def variant_tags(self) -> tuple[str, ...]:
        """``("alpha=<value>",)`` when ``alpha`` is not UCB1's 2 (the published index)."""
        alpha = self.alpha
        if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and alpha != 2.0:
            return (f"alpha={float(alpha):g}",)
        return ()

    def _validate_params(self, action_space, observation_space) -> None:
        """``alpha`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """UCB1 kernel over :class:`IndexState`."""
        return AgentKernel(UCB1Hparams(float(self.alpha)), index_init, ucb1_select, index_update)
