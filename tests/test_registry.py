"""Registries: versioned ids, close-match suggestions, kwargs checks, lazy entry-point plugins."""

from __future__ import annotations

import sys
import textwrap

import pytest

from banditlab import registry
from banditlab.core import BanditlabError
from banditlab.registry import agent_ids, env_ids, make_agent, make_env, register_agent


def test_ids_are_versioned_and_namespaced():
    assert all(i.startswith("banditlab/") and "-v" in i for i in env_ids())
    assert all(i.rsplit("-v", 1)[1].isdigit() for i in agent_ids())


def test_register_agent_rejects_unversioned_ids():
    with pytest.raises(BanditlabError, match="agent id"):
        register_agent("NoVersion", "banditlab.agents.classic.ucb:UCB1")


def test_unknown_ids_suggest_close_matches():
    with pytest.raises(BanditlabError, match="did you mean 'UCB1-v0'"):
        make_agent("UCB-v0")
    with pytest.raises(BanditlabError, match="did you mean 'banditlab/Gaussian-v0'"):
        make_env("banditlab/Gausian-v0")


def test_unknown_kwargs_are_named():
    with pytest.raises(BanditlabError, match="unknown argument 'horizn'; did you mean 'horizon'"):
        make_env("banditlab/Bernoulli-v0", horizn=5)
    with pytest.raises(BanditlabError, match="unknown argument 'beta'"):
        make_agent("UCB1-v0", beta=1.0)


def test_make_agent_records_registry_id_and_clones():
    agent = make_agent("UCB1-v0", alpha=0.5)
    assert agent.registry_id == "UCB1-v0"
    clone = type(agent)(**agent.get_params())
    assert clone.get_params() == {"alpha": 0.5}


def test_entry_point_plugins_are_loaded_lazily(tmp_path, monkeypatch):
    plugin = tmp_path / "my_bandit_plugin.py"
    plugin.write_text(textwrap.dedent("""
        from banditlab.registry import register_agent
        register_agent("myplugin/Greedy-v0", "banditlab.agents.classic.baselines:FixedArm",
                       {"arm": 1})
    """))
    dist = tmp_path / "my_bandit_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-bandit-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[banditlab.agents]\nmine = my_bandit_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", set())
    assert "my_bandit_plugin" not in sys.modules  # nothing was imported eagerly
    agent = make_agent("myplugin/Greedy-v0")  # unknown id -> the group is read, then found
    assert agent.get_params() == {"arm": 1}
    assert "my_bandit_plugin" in sys.modules
    registry.agent_registry.pop("myplugin/Greedy-v0")
