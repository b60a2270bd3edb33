"""Gymnasium conventions: reserved info keys, action masks from reset, wrappers, vector envs.

The env conformance suite runs the four named checks over every registered id; these tests pin
the two envs that broke them (with their registered defaults, as a Gymnasium user makes them),
show that undoing either fix makes the checks fail, and run the code of docs/gymnasium.md.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordEpisodeStatistics, TimeLimit

import banditlab.envs.advmdp.env as advmdp_env
from banditlab.checks import env_checker as ec
from banditlab.core import (
    INFO_ACTION_MASK,
    INFO_EPISODE,
    RESERVED_INFO_KEYS,
    RESERVED_INFO_PREFIX,
)
from banditlab.envs.active.env import ActiveIdentification
from banditlab.registry import env_ids
from banditlab.testing import check_cases

REPO = Path(__file__).resolve().parents[1]
GYM_CHECKS = ("check_no_reserved_info_keys", "check_action_mask_from_reset",
              "check_standard_wrappers", "check_vector_env")
ACTIVE = "banditlab/ActiveIdentification-v0"
ADVMDP = "banditlab/AdvLinearQMDP-v0"


def test_reserved_keys_are_one_public_constant():
    assert INFO_EPISODE == "episode_index"
    assert set(RESERVED_INFO_KEYS) == {"episode", "_episode", "final_obs", "final_info",
                                       "final_observation"}
    assert RESERVED_INFO_PREFIX == "_"
    info = {"t": 1, "episode": 0, "_t": True, "episode_index": 0, "action_mask": None}
    assert ec.reserved_info_keys(info) == ["episode", "_t"]


def test_every_registered_id_gets_the_gymnasium_checks_without_xfail():
    cases = {c[0]: c[3] for c in check_cases(env_ids())}
    for env_id in env_ids():
        for name in GYM_CHECKS:
            assert cases[f"{env_id}-{name}"] is None, (env_id, name)


def test_adv_linear_qmdp_under_record_episode_statistics():
    env = RecordEpisodeStatistics(TimeLimit(gym.make(ADVMDP), 50))
    obs, info = env.reset(seed=0)
    assert info == {"episode_index": 0}
    episodes = 0
    for _ in range(30):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated:
            assert info["episode"]["l"] == 3 and info["episode_index"] == episodes
            episodes += 1
            obs, info = env.reset()
            assert info["episode_index"] == episodes
    assert episodes == 10 and len(env.length_queue) == 10


def test_active_identification_gives_the_mask_at_reset_and_every_step():
    env = gym.make(ACTIVE, budget=4)
    env.action_space.seed(0)
    obs, info = env.reset(seed=0)
    n = env.unwrapped.n_q + env.unwrapped.n_h
    for _ in range(3 * 5):
        mask = info[INFO_ACTION_MASK]
        assert mask.dtype == np.int8 and mask.shape == (n,)
        np.testing.assert_array_equal(mask, env.unwrapped.action_mask())
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample(mask=mask))
        if terminated:
            obs, info = env.reset()
    assert info["episode_index"] == 3


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_active_identification_in_vector_envs_with_masked_random_actions(mode):
    envs = gym.make_vec(ACTIVE, num_envs=3, vectorization_mode=mode)
    try:
        envs.action_space.seed(1)
        obs, info = envs.reset(seed=0)
        assert info[INFO_ACTION_MASK].shape == (3, envs.single_action_space.n)
        decisions = 0
        for _ in range(50):  # registered budget 20: two decisions per sub-env
            actions = envs.action_space.sample(mask=tuple(info[INFO_ACTION_MASK]))
            obs, rewards, terminated, truncated, info = envs.step(actions)
            decisions += int(terminated.sum())
            assert info[RESERVED_INFO_PREFIX + INFO_ACTION_MASK].all()
        assert decisions == 6
    finally:
        envs.close()


def test_the_old_episode_key_fails_the_checks(monkeypatch):
    monkeypatch.setattr(advmdp_env, "INFO_EPISODE", "episode")
    subject = (ADVMDP, {"n_episodes": 3})
    with pytest.raises(AssertionError, match=r"reset\(seed=\.\.\.\): info has the key 'episode'"):
        ec.check_no_reserved_info_keys(subject)
    with pytest.raises(AssertionError, match=r"failed at step 3: bare AssertionError .*"
                       r"`assert self._stats_key not in info`"):
        ec.check_standard_wrappers(subject)


class ActiveWithoutResetMask(ActiveIdentification):
    """The env as it was: the mask only in the step info."""

    def reset(self, *, seed=None, options=None):
        """Drop the mask from the reset info."""
        obs, info = super().reset(seed=seed, options=options)
        info.pop(INFO_ACTION_MASK)
        return obs, info


def test_a_mask_missing_at_reset_fails_the_check():
    with pytest.raises(AssertionError, match=r"reset\(seed=0\): info has no 'action_mask' although "
                       r"the env emits one \(first at step 1\)"):
        ec.check_action_mask_from_reset(functools.partial(ActiveWithoutResetMask, n_episodes=3))


def _python_blocks() -> list[str]:
    text = (REPO / "docs" / "gymnasium.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_docs_code_blocks_run(index, tmp_path):
    block = _python_blocks()[index]
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
