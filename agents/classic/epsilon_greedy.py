"""Fixed-epsilon greedy (Sutton & Barto, 2018, sec. 2.2-2.3).

Kernels on top, class below.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.agents.classic.baselines import _require_discrete
from banditlab.agents.classic.ucb import index_init, index_update
from banditlab.core import AgentKernel, BanditlabError, KernelAgent
from banditlab.kernels import argmax_random_tiebreak


@njit(cache=True)
def epsilon_greedy_select(state, hparams, obs, t, rng):
    """With probability ``epsilon`` a uniform arm, otherwise the greedy arm.

    Unpulled arms have index ``+inf`` (each arm is tried before greedy play).
    Three draws per call whatever the branch: one uniform (explore?), one integer
    (the exploring arm) and one uniform (greedy tie-break).

    Args:
        state: :class:`banditlab.agents.classic.ucb.IndexState` (counts, sums, index).
        hparams: ``(epsilon,)``.
        obs: Ignored.
        t: Current round, from 1 (unused).
        rng: The agent's generator.

    Returns:
        int64 arm index.
    """
    eps = hparams[0]
    k = state.counts.shape[0]
    u = rng.random()
    j = np.int64(rng.integers(0, k))
    for a in range(k):
        n = state.counts[a]
        state.index[a] = np.inf if n == 0.0 else state.sums[a] / n
    greedy = argmax_random_tiebreak(state.index, rng)
    if u < eps:
        return j
    return greedy


def _check_real(name, value, *, low=None, high=None, low_open=False, allow_none=False):
    """Validate one real hyperparameter; raise :class:`BanditlabError` naming it."""
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        v = float(value)
        ok = np.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v <= high
    if not ok:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        br = "(" if (low_open or low is None) else "["
        extra = " or None" if allow_none else ""
        raise BanditlabError(
            f"{name}: expected a finite number in {br}{lo}, {hi}]{extra}, got {value!r}"
        )


class EpsilonGreedy(KernelAgent):
    """Greedy on empirical means, exploring uniformly with a fixed probability ``epsilon``.

    Plays every arm once (unpulled arms first), then in each round with
    probability ``epsilon`` a uniformly random arm and otherwise the arm with the
    largest empirical mean (random tie-break).

    Args:
        epsilon: Exploration probability in [0, 1] (default 0.1).

    Regret guarantee:
        None: a fixed ``epsilon > 0`` pays ``epsilon * mean gap`` per round, so regret
        grows linearly, ``~ epsilon (1 - 1/K) * mean_a Delta_a * T``; a decaying
        ``epsilon_t ~ c K / (d^2 t)`` would give logarithmic regret (Auer et al., 2002,
        epsilon_n-greedy), which this agent deliberately does not implement.

    References:
        Sutton & Barto, "Reinforcement Learning: An Introduction", 2nd ed. (2018), ch. 2;
        Auer, Cesa-Bianchi & Fischer, "Finite-time Analysis of the Multiarmed Bandit
        Problem", Machine Learning 47 (2002).
    """

    _tags = {"families": ("classic",)}

    def __init__(self, epsilon: float = 0.1):
        self.epsilon = epsilon

    def _validate_params(self, action_space, observation_space) -> None:
        _require_discrete(action_space)
        _check_real("epsilon", self.epsilon, low=0.0, high=1.0)

    def make_kernel(self) -> AgentKernel:
        """Epsilon-greedy kernel over :class:`~banditlab.agents.classic.ucb.IndexState`."""
        return AgentKernel(
            (float(self.epsilon),), index_init, epsilon_greedy_select, index_update
        )
