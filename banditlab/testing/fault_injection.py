"""Agents that fail on purpose, for testing fault tolerance of sweeps.

Importing this module registers ``testing/Exploding-v0`` and ``testing/Sleepy-v0``
(an experiment file pulls it in with ``imports = ["banditlab.testing.fault_injection"]``).
They are not part of the catalogue and not imported by ``banditlab.agents``.
"""

from __future__ import annotations

import time

import numpy as np

from banditlab.core import Agent
from banditlab.registry import register_agent
from banditlab.validation import Interval, require_discrete_actions

__all__ = ["ExplodingAgent", "SleepyUniform"]


class ExplodingAgent(Agent):
    """Plays arm 0 and raises ``RuntimeError`` at round ``fail_at`` of runs with ``fail_seed``.

    Args:
        fail_at: Round at which to raise (>= 1).
        fail_seed: Only runs whose agent seed is divisible by this number fail
            (1: every run fails).
    """

    display_name = "Exploding (test fixture)"
    _tags = {"learns": False, "families": ("classic",)}
    _parameter_constraints = {"fail_at": Interval("int", 1)}

    def __init__(self, fail_at: int = 10, fail_seed: int = 1):
        self.fail_at = fail_at
        self.fail_seed = fail_seed

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Start counting rounds."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.t_ = 0
        self.fails_ = seed is None or seed % self.fail_seed == 0

    def act(self, observation):
        """Arm 0, or an exception at round ``fail_at``."""
        self.t_ += 1
        if self.fails_ and self.t_ >= self.fail_at:
            raise RuntimeError(f"ExplodingAgent: deliberate failure at round {self.t_}")
        return 0

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""


class SleepyUniform(Agent):
    """Uniform random arm, sleeping ``sleep_s`` seconds every ``every`` rounds (slow tasks).

    Args:
        sleep_s: Seconds to sleep.
        every: Rounds between sleeps.
    """

    display_name = "Sleepy Uniform (test fixture)"
    _tags = {"learns": False, "families": ("classic",)}
    _parameter_constraints = {"sleep_s": Interval("real", 0), "every": Interval("int", 1)}

    def __init__(self, sleep_s: float = 0.01, every: int = 100):
        self.sleep_s = sleep_s
        self.every = every

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and seed the generator."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.n_ = int(action_space.n)
        self.t_ = 0

    def act(self, observation):
        """A uniform arm (after an occasional sleep)."""
        self.t_ += 1
        if self.t_ % self.every == 0:
            time.sleep(self.sleep_s)
        return int(self.rng_.integers(0, self.n_))

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""


register_agent("testing/Exploding-v0", "banditlab.testing.fault_injection:ExplodingAgent")
register_agent("testing/Sleepy-v0", "banditlab.testing.fault_injection:SleepyUniform")
