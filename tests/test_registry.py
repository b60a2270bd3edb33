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


def test_unregistered_versions_name_the_registered_ones(monkeypatch):
    """A dropped agent version names its successor(s); env versions get Gymnasium's message."""
    import gymnasium as gym

    monkeypatch.setitem(registry.agent_registry, "testing/Versioned-v2",
                        registry.AgentSpec("testing/Versioned-v2",
                                           "banditlab.agents.classic.ucb:UCB1"))
    with pytest.raises(BanditlabError) as info:
        make_agent("testing/Versioned-v0")
    assert str(info.value) == ("agent id 'testing/Versioned-v0': version v0 is not registered; "
                               "use 'testing/Versioned-v2'")
    monkeypatch.setitem(registry.agent_registry, "testing/Versioned-v1",
                        registry.AgentSpec("testing/Versioned-v1",
                                           "banditlab.agents.classic.ucb:UCB1"))
    with pytest.raises(BanditlabError) as info:
        registry.agent_spec("testing/Versioned-v0")
    assert str(info.value).endswith("use 'testing/Versioned-v2' or 'testing/Versioned-v1'")
    with pytest.raises(BanditlabError, match="did you mean 'UCB1-v0'"):
        make_agent("UCB-v0")  # a name with no registered version: close matches as before

    gym.register("banditlab/VersionedTest-v1",
                 entry_point="banditlab.envs.classic.stochastic:BernoulliBandit")
    try:
        for old, expected in (
            ("banditlab/VersionedTest-v0", "is deprecated. Please use "
                                           "`banditlab/VersionedTest-v1` instead."),
            ("banditlab/VersionedTest-v5", "It provides versioned environments: [ `v1` ]."),
        ):
            with pytest.raises(BanditlabError) as info:
                make_env(old)
            message = str(info.value)
            assert "\n" not in message and message.startswith(f"env id {old!r}: ")
            assert message.endswith(expected), message
    finally:
        gym.registry.pop("banditlab/VersionedTest-v1")


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


def test_known_families_are_the_declared_builtins_in_order():
    from banditlab.envs import FAMILIES
    from banditlab.registry import family_registry, known_families

    assert known_families()[: len(FAMILIES)] == FAMILIES
    assert all(family_registry[f].title for f in FAMILIES)


@pytest.mark.parametrize("name", ["Classic", "my-lab", "", "1lab", None])
def test_register_family_rejects_malformed_names(name):
    with pytest.raises(BanditlabError, match="family: .* must be a lower-case identifier"):
        registry.register_family(name, title="x")


def test_catalogue_groups_rows_by_declared_family():
    from banditlab.catalogue import agent_rows, catalogue_markdown, catalogue_text, env_rows
    from banditlab.registry import family_registry, known_families

    envs, agents = env_rows(), agent_rows()
    assert {r[3] for r in envs} <= set(known_families())
    assert {r[3] for r in agents} <= set(known_families())
    lsd_env = next(r[0] for r in envs if r[0].startswith("banditlab/LSDBandit-v"))
    assert dict((r[0], r[3]) for r in envs)[lsd_env] == "lsd"
    assert dict((r[0], r[3]) for r in agents)["UCB1-v0"] == "classic"
    env_part, agent_part = catalogue_markdown().split("### Agents", 1)
    for part, rows in ((env_part, envs), (agent_part, agents)):
        # One heading per family with rows, in declaration order, titled from the registry.
        headings = [line for line in part.splitlines() if line.startswith("#### ")]
        assert headings == [f"#### {family_registry[f].title} (`{f}`)" for f in known_families()
                            if any(r[3] == f for r in rows)]
        for i, _, _, family in rows:
            section = part.split(f"(`{family}`)", 1)[1].split("#### ", 1)[0]
            assert f"`{i}`" in section, f"{i} is not listed under {family}"
    text = catalogue_text("envs")
    assert text.splitlines()[0].startswith("classic") and "  banditlab/Bernoulli-v0" in text
