"""Fuzzed inputs: experiment files, every env's constructor arguments, and actions.

Property: invalid input raises a one-line ``BanditlabError`` naming the field, in Python,
before compiled code runs (never another exception, never a crash inside a kernel);
valid input runs.
"""

from __future__ import annotations

import inspect
import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banditlab.core import BanditlabError
from banditlab.experiment import Experiment, load_experiment
from banditlab.registry import env_ids, env_spec, load_entry_point, make_env

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=8), st.sampled_from([0, -1, 1, 2, 1e308, -1e-9, math.nan, math.inf]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)


def _one_line_error(fn):
    try:
        return fn()
    except BanditlabError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg, f"error is not one line: {msg!r}"
        return None


# --------------------------------------------------------------------------- experiments
env_entry = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["banditlab/Bernoulli-v0", "banditlab/Gaussian-v0",
                                      "banditlab/Bernouli-v0"]), values)},
    optional={"kwargs": st.one_of(st.dictionaries(st.sampled_from(["means", "horizon", "sigma",
                                                                   "bogus"]), values, max_size=3),
                                  values),
              "label": values},
)
agent_entry = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["UCB1-v0", "Uniform-v0", "UCB-v0"]), values)},
    optional={"kwargs": st.one_of(st.dictionaries(st.sampled_from(["alpha", "arm", "x"]), values,
                                                  max_size=2), values),
              "label": values},
)
experiments = st.fixed_dictionaries(
    {},
    optional={
        "envs": st.one_of(st.lists(env_entry, max_size=2), values),
        "agents": st.one_of(st.lists(agent_entry, max_size=2), values),
        "n_seeds": values,
        "root_seed": values,
        "run_length": st.one_of(st.integers(-5, 50), values),
        "checkpoints": values,
        "name": values,
        "bogus_field": values,
    },
)


@FUZZ
@given(data=experiments)
def test_fuzzed_experiment_dicts_fail_with_one_line_errors(data):
    exp = _one_line_error(lambda: Experiment.from_dict(data))
    if exp is not None:
        assert exp.tasks()


@FUZZ
@given(text=st.text(max_size=200))
def test_fuzzed_experiment_files(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "e.toml"
    path.write_text(text, encoding="utf-8")
    _one_line_error(lambda: load_experiment(path))


# --------------------------------------------------------------------------- envs
ENV_IDS = env_ids()


def _params(env_id):
    cls = load_entry_point(env_spec(env_id).entry_point)
    return [n for n in inspect.signature(cls).parameters if n not in ("self", "render_mode")]


def _short(env_id):
    kwargs = {}
    params = _params(env_id)
    if "horizon" in params:
        kwargs["horizon"] = 20
    if "n_episodes" in params:
        kwargs["n_episodes"] = 2
    return kwargs


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_constructor_arguments(env_id, data):
    params = _params(env_id)
    if not params:
        return
    name = data.draw(st.sampled_from(params), label="parameter")
    value = data.draw(values, label="value")
    kwargs = {**_short(env_id), name: value}
    env = _one_line_error(lambda: make_env(env_id, **kwargs))
    if env is None:
        return
    # Accepted values must give a working env: reset and a few valid steps.
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            break


def _invalid_actions(space):
    if isinstance(space, gym.spaces.Discrete):
        return st.one_of(st.integers(max_value=int(space.start) - 1),
                         st.integers(min_value=int(space.start + space.n)),
                         st.floats(), st.text(max_size=3), st.none(), st.booleans())
    shape = space.shape
    return st.one_of(
        st.none(), st.text(max_size=3),
        st.lists(st.floats(), min_size=1, max_size=3).filter(
            lambda v: np.asarray(v).shape != shape),
        st.just(np.full(shape, np.nan)), st.just(np.full(shape, np.inf)),
    )


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_actions_are_rejected_before_the_kernel(env_id, data):
    env = make_env(env_id, **_short(env_id))
    env.reset(seed=1)
    action = data.draw(_invalid_actions(env.action_space), label="action")
    t_before = getattr(env, "t_", None)
    with pytest.raises(BanditlabError) as err:
        env.step(action)
    assert "\n" not in str(err.value) and "action" in str(err.value)
    assert getattr(env, "t_", None) == t_before  # nothing advanced
    env.action_space.seed(0)
    env.step(env.action_space.sample())  # the env still works
