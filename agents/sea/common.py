"""Shared pieces of the SEA agents: tags, hyperparameter constraints and the ball check.

Every SEA agent plays points of a Euclidean ball ``{||x|| <= radius}`` inside a 1-D
``Box`` action space and observes the last gradient (the first ``d`` entries of the
observation; with ``feedback="data"`` the data record of the last loss follows them).
The constraints below are :mod:`banditlab.validation` objects used in the agents'
``_parameter_constraints``.
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
    "require_sea_observations",
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


def require_ball_space(action_space: gym.Space, radius: float,
                       observation_space: gym.Space | None = None) -> None:
    """Require a 1-D Box action space whose bounds contain the ball of radius ``radius``.

    With ``observation_space`` also require the SEA observation: a 1-D Box of shape
    ``(d,)`` (gradient feedback) or ``(2d + 1,)`` (data feedback: the gradient followed by
    the data record), ``d`` the action dimension. Gradient learners read the first ``d``
    entries either way.

    Raises:
        BanditlabError: ``"action_space: ..."`` for another space, ``"radius: ..."`` when
            the ball does not fit in the box, ``"observation_space: ..."`` for another
            observation space.
    """
    require_box_actions(action_space, ndim=1)
    if observation_space is not None:
        require_sea_observations(action_space, observation_space)
    space_radius = float(np.min(action_space.high))
    if np.isfinite(space_radius) and radius > space_radius * (1.0 + 1e-9):
        raise BanditlabError(
            f"radius: {radius} exceeds the action space's radius {space_radius}; bind "
            "'@known:radius'"
        )


def require_sea_observations(action_space: gym.Space, observation_space: gym.Space,
                             *, data: bool = False) -> None:
    """Require the SEA observation box: ``(d,)`` or ``(2d + 1,)`` (only the latter if ``data``).

    Raises:
        BanditlabError: ``"observation_space: ..."`` naming the allowed shapes.
    """
    d = int(action_space.shape[0])
    shape = getattr(observation_space, "shape", None)
    allowed = ((2 * d + 1,),) if data else ((d,), (2 * d + 1,))
    if not (isinstance(observation_space, gym.spaces.Box) and shape in allowed):
        what = ("a Box of shape (2d + 1,) = " + str((2 * d + 1,)) + " (the gradient and the "
                "data record; make the env with feedback='data')") if data else (
            f"a Box of shape {(d,)} (gradient feedback) or {(2 * d + 1,)} (data feedback)")
        raise BanditlabError(f"observation_space: expected {what}, got {observation_space}")
