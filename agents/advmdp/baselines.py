"""Baselines of the adversarial linear-Q MDP family: uniform play and the best fixed policy.

Both expose their policy table (tag ``exposes_policy``), so the harness computes
their exact expected episode reward. :class:`AdvMDPBestFixedHindsight` reads the env's
live oracle (registered as ``oracle/AdvMDPBestFixedHindsight-v0``, tag ``needs_oracle``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from banditlab.core import Agent, BanditlabError
from banditlab.envs.advmdp.oracle import AdvLinearQMDPOracle
from banditlab.validation import InstanceOf, require_discrete_actions

__all__ = ["AdvMDPUniform", "AdvMDPBestFixedHindsight"]

_CHECK_ENV = ("banditlab/AdvLinearQMDP-v0", {"n_episodes": 32})


def _layer_sizes(action_space, observation_space) -> tuple[int, int, int]:
    """``(H, N, A)`` read from the spaces of an adversarial linear-Q MDP."""
    require_discrete_actions(action_space)
    if not (
        isinstance(observation_space, gym.spaces.Dict)
        and {"h", "s"} <= set(observation_space.spaces)
    ):
        raise BanditlabError(
            "observation_space: expected Dict(h=Discrete(H), s=Discrete(N), ...) of an "
            "adversarial linear-Q MDP"
        )
    return (
        int(observation_space["h"].n),
        int(observation_space["s"].n),
        int(action_space.n),
    )


class AdvMDPUniform(Agent):
    """Uniform random play at every state (linear-regret reference); exposes its policy."""

    _tags = {
        "learns": False,
        "exposes_policy": True,
        "families": ("advmdp",),
        "check_env": _CHECK_ENV,
    }

    def __init__(self):
        pass

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        _layer_sizes(action_space, observation_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Read (H, N, A) from the spaces and seed ``rng_``."""
        self._validate_params(action_space, observation_space)
        self.H_, self.N_, self.A_ = _layer_sizes(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)

    def policy_table(self) -> np.ndarray:
        """float64[H, N, A], the uniform distribution everywhere."""
        return np.full((self.H_, self.N_, self.A_), 1.0 / self.A_)

    def act(self, observation):
        """A uniform action (one ``integers`` draw)."""
        return int(self.rng_.integers(0, self.A_))

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""


class AdvMDPBestFixedHindsight(Agent):
    """Oracle agent: plays the best fixed deterministic policy over the whole run.

    Two-pass: at :meth:`reset` (which the harness calls after the env's
    ``reset(seed)``) it reads the already generated loss schedule from ``oracle``
    and solves one backward pass on the run's mean loss. Built by
    ``make_benchmark_policy(env.oracle, "best_fixed_hindsight")`` (experiment files:
    ``oracle:best_fixed_hindsight``).

    Args:
        oracle: The env's :class:`~banditlab.envs.advmdp.oracle.AdvLinearQMDPOracle`.
    """

    _tags = {
        "learns": False,
        "oracle": True,
        "needs_oracle": True,
        "exposes_policy": True,
        "families": ("advmdp",),
        "check_env": _CHECK_ENV,
    }
    _parameter_constraints = {
        "oracle": InstanceOf(
            AdvLinearQMDPOracle,
            what="the env's AdvLinearQMDPOracle (use oracle:best_fixed_hindsight)",
        )
    }

    def __init__(self, oracle=None):
        self.oracle = oracle

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        _layer_sizes(action_space, observation_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Solve the hindsight problem over the oracle's whole schedule."""
        self._validate_params(action_space, observation_space)
        self.H_, self.N_, self.A_ = _layer_sizes(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        K = int(self.oracle.is_a_.shape[0]) if self.oracle.is_a_ is not None else 0
        if K == 0:
            raise BanditlabError("oracle: reset the env (reset(seed=...)) before this agent")
        _, self.policy_ = self.oracle.best_fixed_policy(0, K)

    def policy_table(self) -> np.ndarray:
        """float64[H, N, A], the deterministic hindsight policy as one-hot rows."""
        pi = np.zeros((self.H_, self.N_, self.A_))
        for h in range(self.H_):
            pi[h, np.arange(self.N_), self.policy_[h]] = 1.0
        return pi

    def act(self, observation):
        """The hindsight policy's action at the observed (layer, state)."""
        return int(self.policy_[int(observation["h"]), int(observation["s"])])

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""
