"""Declarative parameter validation: every constraint accepts, normalises and rejects exactly."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banditlab.core import Agent, BanditlabError
from banditlab.validation import (
    Array,
    Boolean,
    InstanceOf,
    Interval,
    Options,
    require_box_actions,
    require_discrete_actions,
    require_discrete_observations,
    validate_params,
    validate_value,
)


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        (Interval("int", 1), [1, 5, np.int64(3)], [0, -1, 1.0, True, "2", None, np.float64(2)]),
        (Interval("int", 1, 10), [1, 10], [0, 11]),
        (Interval("real", 0, None, closed="neither"), [1e-12, 3, np.float32(2.5)],
         [0, 0.0, -1, math.inf, math.nan, True, "1"]),
        (Interval("real", 0, 1), [0, 1, 0.5], [-1e-9, 1.0000001]),
        (Interval("real", 0, 1, closed="right"), [1.0, 1e-9], [0.0]),
        (Interval("real", 0, 1, closed="left"), [0.0], [1.0]),
        (Interval("real", 0, allow_inf=True), [math.inf, 0.0], [-math.inf, math.nan]),
        (Options("a", "b"), ["a", "b"], ["c", None, 1]),
        (Options(1, 2), [1, 2.0], [3, "1"]),
        (Boolean(), [True, False, np.bool_(True)], [0, 1, "True", None]),
        (InstanceOf(dict, what="a dict"), [{}], [[], None]),
    ],
)
def test_constraints_accept_and_reject(constraint, good, bad):
    for value in good:
        validate_value("p", value, constraint)
    for value in bad:
        with pytest.raises(BanditlabError, match=r"^p: expected ") as info:
            validate_value("p", value, constraint)
        assert "\n" not in str(info.value)


def test_messages_name_the_allowed_range():
    cases = [
        (Interval("int", 1), 0, "p: expected an integer >= 1, got 0"),
        (Interval("int", 1, 10), 11, "p: expected an integer in [1, 10], got 11"),
        (Interval("real", 0, None, closed="neither"), -1.0,
         "p: expected a finite number > 0, got -1.0"),
        (Interval("real", 0, 1, closed="right"), 0, "p: expected a finite number in (0, 1], got 0"),
        (Options("ucb", "ts"), "x", "p: expected one of ('ucb', 'ts'), got 'x'"),
        ([None, Interval("real", 0)], -2, "p: expected None or a finite number >= 0, got -2"),
        (Boolean(), 1, "p: expected True or False, got 1"),
    ]
    for constraint, value, message in cases:
        with pytest.raises(BanditlabError) as info:
            validate_value("p", value, constraint)
        assert str(info.value) == message


def test_normalisation():
    assert type(validate_value("p", np.int64(3), Interval("int", 0))) is int
    assert type(validate_value("p", 3, Interval("real", 0))) is float
    assert validate_value("p", None, [None, Interval("int", 0)]) is None
    arr = validate_value("p", [1, 2], Array("float", ndim=1))
    assert arr.dtype == np.float64 and arr.flags.c_contiguous
    iarr = validate_value("p", [1.0, 2.0], Array("int", shape=(2,)))
    assert iarr.dtype == np.int64 and iarr.tolist() == [1, 2]


def test_array_reasons_are_precise():
    c = Array("float", shape=(None, 3), low=0, high=1)
    with pytest.raises(BanditlabError, match=r"^m: expected an array of finite numbers of shape "
                                             r"\(n, 3\) in \[0, 1\], got shape \(2, 2\)$"):
        validate_value("m", np.zeros((2, 2)), c)
    with pytest.raises(BanditlabError, match=r"^m: every entry must be finite$"):
        validate_value("m", [[0, 0, math.nan]], c)
    with pytest.raises(BanditlabError, match=r"^m: every entry must be in \[0, 1\], got 2$"):
        validate_value("m", [[0, 0, 2]], c)
    with pytest.raises(BanditlabError, match=r"^m: every entry must be an integer$"):
        validate_value("m", [1.5], Array("int", ndim=1))
    with pytest.raises(BanditlabError, match=r"^m: expected an array"):
        validate_value("m", "abc", c)
    with pytest.raises(BanditlabError, match=r"^m: expected an array"):
        validate_value("m", [True, False], Array("float", ndim=1))
    with pytest.raises(BanditlabError, match=r"at least 2 entries"):
        validate_value("m", [0.5], Array("float", ndim=1, min_len=2))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                 st.booleans(), st.none(), st.text(max_size=3)))
def test_interval_matches_an_independent_predicate(value):
    c = Interval("real", -1, 2, closed="left")
    expected = (not isinstance(value, bool) and isinstance(value, (int, float))
                and math.isfinite(value) and -1 <= value < 2)
    try:
        out = validate_value("x", value, c)
    except BanditlabError:
        assert not expected
    else:
        assert expected and out == float(value)


def test_validate_params_checks_in_order_and_passes_unconstrained_values():
    constraints = {"a": Interval("int", 0), "b": Options("x", "y")}
    assert validate_params(constraints, {"a": 1, "b": "x", "c": object})["c"] is object
    with pytest.raises(BanditlabError, match="^a:"):
        validate_params(constraints, {"a": -1, "b": "z"})


def test_agent_base_class_checks_parameter_constraints():
    class Demo(Agent):
        _tags = {"families": ("classic",)}
        _parameter_constraints = {"alpha": Interval("real", 0, None, closed="neither")}

        def __init__(self, alpha=1.0):
            self.alpha = alpha

    space = gym.spaces.Discrete(2)
    Demo(alpha=2.0)._validate_params(space, space)
    with pytest.raises(BanditlabError, match=r"^alpha: expected a finite number > 0, got 0$"):
        Demo(alpha=0)._validate_params(space, space)


def test_space_requirements():
    d, box = gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))
    assert require_discrete_actions(d) == 3 and require_discrete_observations(d) == 3
    assert require_box_actions(box) == (2,)
    with pytest.raises(BanditlabError, match="^action_space: this agent needs Discrete actions"):
        require_discrete_actions(box)
    with pytest.raises(BanditlabError, match="^observation_space: this agent needs Discrete"):
        require_discrete_observations(box)
    with pytest.raises(BanditlabError, match="^action_space: this agent needs a 1-D Box"):
        require_box_actions(d)
