"""Fixed-epsilon greedy (Sutton & Barto, 2018, sec. 2.2-2.3).

Kernels on top, class below.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.classic.ucb import index_init, index_update
from banditlab.core import AgentKernel, KernelAgent
from banditlab.kernels import random_integer, running_max, tied_maximiser
from banditlab.validation import Interval, require_discrete_actions


class EpsilonGreedyHparams(NamedTuple):
    """Kernel hyperparameters of :class:`EpsilonGreedy`.

    Attributes:
        epsilon: float64, exploration probability in [0, 1].
    """

    epsilon: float


@njit(cache=True)
def epsilon_greedy_select(state, hparams, obs, t, rng):
    """With probability ``epsilon`` a uniform arm, otherwise the greedy arm.

    Unpulled arms have index ``+inf`` (each arm is tried before greedy play).
    Three draws per call whatever the branch: one uniform (explore?), one integer
    (the exploring arm, :func:`banditlab.kernels.random_integer`) and one uniform (greedy
    tie-break). Allocates nothing.

    Args:
        state: :class:`banditlab.agents.classic.ucb.IndexState` (counts, sums, index).
        hparams: :class:`EpsilonGreedyHparams`.
        obs: Ignored.
        t: Current round, from 1 (unused).
        rng: The agent's generator.

    Returns:
        int64 arm index.
    """
    eps = hparams.epsilon
    k = state.counts.shape[0]
    u = rng.random()
    j = random_integer(rng, 0, k)
    best = -np.inf
    n_best = np.int64(0)
    greedy = np.int64(0)
    for a in range(k):
        n = state.counts[a]
        v = np.inf if n == 0.0 else state.sums[a] / n
        state.index[a] = v
        best, n_best, greedy = running_max(v, a, best, n_best, greedy)
    u_tie = rng.random()  # the tie-break draw of argmax_random_tiebreak, made whatever the values
    if n_best != 1:
        greedy = tied_maximiser(state.index, best, n_best, u_tie)
    if u < eps:
        return j
    return greedy


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

    display_name: ClassVar[str] = "epsilon-greedy"
    _tags = {"families": ("classic",)}
    _parameter_constraints: ClassVar[dict[str, Any]] = {"epsilon": Interval("real", 0.0, 1.0)}

    def __init__(self, epsilon: float = 0.1):
        self.epsilon = epsilon

    def _validate_params(self, action_space, observation_space) -> None:
        """``epsilon`` and discrete actions."""
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def make_kernel(self) -> AgentKernel:
        """Epsilon-greedy kernel over :class:`~banditlab.agents.classic.ucb.IndexState`."""
        return AgentKernel(
            EpsilonGreedyHparams(float(self.epsilon)), index_init, epsilon_greedy_select,
            index_update,
        )
