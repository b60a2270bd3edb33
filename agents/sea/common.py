"""Shared pieces of the SEA agents: tags, hyperparameter constraints and the ball check.

Every SEA agent plays points of a Euclidean ball ``{||x|| <= radius}`` inside a 1-D
``Box`` action space and observes the last gradient. The constraints below are
:mod:`banditlab.validation` objects used in the agents' ``_parameter_constraints``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from banditlab.core import BanditlabError
from banditlab.validation import REJECT, Constraint, Interval, require_box_actions

__all__ = [
    "SEA_TAGS",
    "SEA_ORACLE_TAGS",
    "POSITIVE",
    "NONNEGATIVE",
    "SEAOracleHandle",
    "require_ball_space",
]

SEA_TAGS = {
    "action_kind": "continuous",
    "families": ("sea",),
    "check_env": ("banditlab/SEAQuadratic-v0", {"horizon": 200}),
}
"""Tags of every SEA agent (continuous actions, checked on ``SEAQuadratic-v0``)."""

SEA_ORACLE_TAGS = {**SEA_TAGS, "oracle": True, "needs_oracle": True}
"""Tags of the SEA oracle agents, which take the env's live oracle as the ``oracle``
hyperparameter and are built through ``SEAOracle.benchmark_policies()``."""

POSITIVE = Interval("real", 0, None, closed="neither")
"""A finite number > 0."""

NONNEGATIVE = Interval("real", 0, None)
"""A finite number >= 0."""


class SEAOracleHandle(Constraint):
    """The live oracle of a SEA env, recognised by the methods an oracle agent calls.

    Agents never import env classes, so the oracle is checked by its interface.

    Args:
        method: The oracle method the agent calls each round (e.g. ``"expected_gradient"``).
    """

    description = (
        "the SEA env's oracle (build the agent with "
        "banditlab.registry.make_benchmark_policy(env.oracle, name))"
    )

    def __init__(self, method: str):
        self.method = method

    def accepts(self, value: Any) -> Any:  # noqa: D102 - documented on the base class
        return value if callable(getattr(value, self.method, None)) else REJECT


def require_ball_space(action_space: gym.Space, radius: float) -> None:
    """Require a 1-D Box action space whose bounds contain the ball of radius ``radius``.

    Raises:
        BanditlabError: ``"action_space: ..."`` for another space, ``"radius: ..."`` when
            the ball does not fit in the box.
    """
    require_box_actions(action_space, ndim=1)
    space_radius = float(np.min(action_space.high))
    if np.isfinite(space_radius) and radius > space_radius * (1.0 + 1e-9):
        raise BanditlabError(
            f"radius: {radius} exceeds the action space's radius {space_radius}; bind "
            "'@known:radius'"
        )
