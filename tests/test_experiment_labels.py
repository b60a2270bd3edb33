"""Agent labels are derived from the agents: written labels must start with them.

Covers derived labels for plain entries, grid points and ``oracle:<name>`` entries, the
one-line errors (a written label that does not start with the derived one, an agent class
without ``display_name``, duplicate labels, oracle names that differ across envs), the
Python API, and that extending a sweep still reuses the tasks already run.
"""

from __future__ import annotations

import textwrap

import pytest

from banditlab.core import BanditlabError
from banditlab.experiment import AgentConfig, EnvConfig, Experiment, load_experiment
from banditlab.harness import run_experiment
from banditlab.registry import agent_registry, make_agent

UCB = make_agent("UCB1-v0").label()
UNIFORM = make_agent("Uniform-v0").label()
FIXED = make_agent("FixedArm-v0", arm=1).label()

HEAD = """
name = "labels"
n_seeds = 2
run_length = 200
checkpoints = [100, 200]

[[envs]]
id = "banditlab/Bernoulli-v0"
"""


def _load(tmp_path, agents: str, head: str = HEAD, **kw):
    path = tmp_path / "labels.toml"
    path.write_text(head + agents)
    return load_experiment(path, **kw)


def _agent(id: str, **fields) -> str:
    lines = ["[[agents]]", f'id = "{id}"']
    for k, v in fields.items():
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def test_labels_are_derived_and_written_labels_extend_them(tmp_path):
    exp = _load(tmp_path, _agent("UCB1-v0") + _agent("Uniform-v0", label=f'"{UNIFORM} (base)"')
                + _agent("oracle:optimal"))
    # Bernoulli-v0's oracle maps "optimal" to FixedArm-v0 on its best arm.
    assert [a.display for a in exp.agents] == [UCB, f"{UNIFORM} (base)", FIXED]
    assert [a.derived for a in exp.agents] == [UCB, UNIFORM, FIXED]
    tasks = exp.tasks()
    assert {t.agent.display for t in tasks} == {UCB, f"{UNIFORM} (base)", FIXED}
    assert all(t.run_id.split("__")[1] == t.agent.display for t in tasks)
    same = _load(tmp_path, _agent("UCB1-v0", label=f'"{UCB}"'))
    assert same.agents[0].display == UCB


def test_grid_points_add_their_values_after_the_label(tmp_path):
    exp = _load(tmp_path, _agent("UCB1-v0", grid="{ alpha = [0.5, 2.0] }")
                + _agent("FixedArm-v0", label=f'"{FIXED} (sweep)"', grid="{ arm = [0, 1] }"))
    half = make_agent("UCB1-v0", alpha=0.5).label()
    assert [a.display for a in exp.agents] == [
        f"{half} (alpha=0.5)", f"{UCB} (alpha=2.0)", f"{FIXED} (sweep) (arm=0)",
        f"{FIXED} (sweep) (arm=1)"]


@pytest.mark.parametrize("label, message", [
    (UCB.lower(), f"agents[0].label: {UCB.lower()!r} must start with the agent's label {UCB!r}"),
    (UCB + "-tuned", f"agents[0].label: {UCB + '-tuned'!r} must start with the agent's label "
                     f"{UCB!r} followed by a space"),
])
def test_a_written_label_must_start_with_the_derived_one(tmp_path, label, message):
    with pytest.raises(BanditlabError) as info:
        _load(tmp_path, _agent("UCB1-v0", label=f'"{label}"'))
    assert str(info.value) == message


def test_a_variant_label_shows_its_tags(tmp_path, plugin):
    """A written label that drops the bracketed variant of the agent is refused."""
    head = HEAD.replace('name = "labels"', 'name = "labels"\nimports = ["labeltest_plugin"]')
    exp = _load(tmp_path, _agent("labeltest/Boosted-v0", grid="{ boost = [false, true] }"),
                head=head, import_path=[plugin])
    name = "Generic test agent"
    assert [a.display for a in exp.agents] == [f"{name} (boost=False)",
                                               f"{name} [boost] (boost=True)"]
    with pytest.raises(BanditlabError) as info:
        _load(tmp_path, _agent("labeltest/Boosted-v0", kwargs="{ boost = true }",
                               label=f'"{name} (boosted)"'), head=head, import_path=[plugin])
    assert str(info.value) == (f"agents[0].label: '{name} (boosted)' must start with the "
                               f"agent's label '{name} [boost]'")
    # A written label applies to every grid point, so it must start with each point's label.
    with pytest.raises(BanditlabError, match=r"^agents\[0\]\.label: .* must start with the "
                                             r"agent's label 'Generic test agent \[boost\]'"):
        _load(tmp_path, _agent("labeltest/Boosted-v0", grid="{ boost = [false, true] }",
                               label=f'"{name} (sweep)"'), head=head, import_path=[plugin])


def test_duplicate_labels_are_refused(tmp_path):
    with pytest.raises(BanditlabError) as info:
        _load(tmp_path, _agent("FixedArm-v0", kwargs="{ arm = 0 }")
              + _agent("FixedArm-v0", kwargs="{ arm = 1 }"))
    label = make_agent("FixedArm-v0", arm=0).label()
    assert str(info.value) == (
        f"agents: agents[0] and agents[1] share the label {label!r}; give them distinct labels "
        f"starting with it, e.g. '{label} (<what differs>)'")
    with pytest.raises(BanditlabError, match=r"^agents: duplicate agent"):
        _load(tmp_path, _agent("Uniform-v0") + _agent("Uniform-v0"))
    ok = _load(tmp_path, _agent("FixedArm-v0", kwargs="{ arm = 0 }", label=f'"{FIXED} (arm 0)"')
               + _agent("FixedArm-v0", kwargs="{ arm = 1 }", label=f'"{FIXED} (arm 1)"'))
    assert len(ok.agents) == 2


NAMELESS = textwrap.dedent('''
    """Test plugin: an agent class without display_name, an env whose oracle names Uniform."""
    import gymnasium as gym

    from banditlab.agents.classic.baselines import Uniform
    from banditlab.core import BenchmarkPolicy
    from banditlab.envs.classic.stochastic import BernoulliBandit, StochasticBanditOracle
    from banditlab.registry import register_agent
    from banditlab.testing import GenericTestAgent


    class Nameless(Uniform):
        """Uniform play; the test removes its display name."""


    class UniformOracle(StochasticBanditOracle):
        def benchmark_policies(self):
            return {"optimal": BenchmarkPolicy("Uniform-v0", {})}


    class UniformOptimal(BernoulliBandit):
        def __init__(self, means=(0.2, 0.8), horizon=100):
            super().__init__(means=means, horizon=horizon)
            self.oracle = UniformOracle(self.oracle.means)


    class Boosted(GenericTestAgent):
        """The generic test agent with an opt-in option.

        Deviations:
            ``boost=True`` changes nothing; it only shows in the label (fixture).
        """

        def __init__(self, boost=False):
            self.boost = boost

        def variant_tags(self):
            return ("boost",) if self.boost else ()


    register_agent("labeltest/Nameless-v0", "labeltest_plugin:Nameless")
    register_agent("labeltest/Boosted-v0", "labeltest_plugin:Boosted")
    gym.register("labeltest/UniformOptimal-v0", entry_point=UniformOptimal)
''')


@pytest.fixture
def plugin(tmp_path):
    d = tmp_path / "plugin"
    d.mkdir()
    (d / "labeltest_plugin.py").write_text(NAMELESS)
    yield d
    import sys

    import gymnasium as gym

    agent_registry.pop("labeltest/Nameless-v0", None)
    agent_registry.pop("labeltest/Boosted-v0", None)
    gym.registry.pop("labeltest/UniformOptimal-v0", None)
    sys.modules.pop("labeltest_plugin", None)


def test_an_agent_class_without_display_name_is_a_one_line_error(tmp_path, plugin):
    import importlib
    import sys

    sys.path.insert(0, str(plugin))
    try:
        mod = importlib.import_module("labeltest_plugin")
    finally:
        sys.path.remove(str(plugin))
    # The class inherits Uniform's name; take it away to get an undeclared class.
    mod.Nameless.display_name = None
    head = HEAD.replace('name = "labels"', 'name = "labels"\nimports = ["labeltest_plugin"]')
    with pytest.raises(BanditlabError) as info:
        _load(tmp_path, _agent("labeltest/Nameless-v0"), head=head, import_path=[plugin])
    assert str(info.value) == (
        "display_name: agent class labeltest_plugin.Nameless (labeltest/Nameless-v0) declares "
        'no display_name; add display_name: ClassVar[str] = "<algorithm name>" to the class '
        "(see banditlab.core.Agent)")


def test_oracle_entries_must_name_one_policy_across_envs(tmp_path, plugin):
    head = HEAD.replace('name = "labels"', 'name = "labels"\nimports = ["labeltest_plugin"]') + (
        '\n[[envs]]\nid = "labeltest/UniformOptimal-v0"\n')
    with pytest.raises(BanditlabError) as info:
        _load(tmp_path, _agent("oracle:optimal"), head=head, import_path=[plugin])
    assert str(info.value) == (
        f"agents[0].id: 'oracle:optimal' names different policies on the experiment's envs "
        f"({FIXED!r} on banditlab/Bernoulli-v0; {UNIFORM!r} on labeltest/UniformOptimal-v0); "
        "split the experiment by env")


def test_python_api_derives_labels_before_tasks_and_checks_written_ones():
    exp = Experiment([EnvConfig("banditlab/Bernoulli-v0")],
                     [AgentConfig("UCB1-v0"), AgentConfig("Uniform-v0", {}, f"{UNIFORM} (mine)")],
                     n_seeds=1, run_length=50)
    with pytest.raises(BanditlabError, match=r"^agent 'UCB1-v0': its label is not derived yet"):
        _ = exp.agents[0].display
    assert [t.agent.display for t in exp.tasks()] == [UCB, f"{UNIFORM} (mine)"]
    bad = Experiment([EnvConfig("banditlab/Bernoulli-v0")], [AgentConfig("UCB1-v0", {}, "ucb")],
                     n_seeds=1, run_length=50)
    with pytest.raises(BanditlabError, match=r"^agents\[0\]\.label: 'ucb' must start with"):
        bad.tasks()


def test_extending_a_sweep_reuses_its_tasks_and_relabelling_is_a_change(tmp_path):
    out = tmp_path / "res"
    uniform = _agent("Uniform-v0")
    first = run_experiment(_load(tmp_path, _agent("UCB1-v0", grid="{ alpha = [0.5, 1.0] }")
                                 + uniform), out, progress=False)
    assert (first.n_ran, first.n_skipped) == (6, 0)
    wider = _load(tmp_path, _agent("UCB1-v0", grid="{ alpha = [0.5, 1.0, 2.0] }") + uniform)
    second = run_experiment(wider, out, progress=False)
    assert (second.n_ran, second.n_skipped) == (2, 6)
    relabelled = _load(tmp_path, _agent("UCB1-v0", grid="{ alpha = [0.5, 1.0, 2.0] }")
                       + _agent("Uniform-v0", label=f'"{UNIFORM} (baseline)"'))
    with pytest.raises(BanditlabError, match="holds results of a different experiment"):
        run_experiment(relabelled, out, progress=False)
