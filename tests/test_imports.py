"""No import cycles among the modules of banditlab (including banditlab.envs / banditlab.agents).

Every module is parsed with ``ast``; module-level and function-level imports both count.
The only exemption is registration loading (``banditlab.registry`` importing the packages
``banditlab.envs`` and ``banditlab.agents`` to register the built-ins, like plugin entry
points), stated in ``banditlab.testing.imports.ALLOWED_EDGES`` and pinned here.
The same check prints as ``python benchmarks/import_cycles.py``.
"""

from __future__ import annotations

import pytest

from banditlab.testing.imports import (
    ALLOWED_EDGES,
    ImportGraph,
    find_cycles,
    import_graph,
    report,
)


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return import_graph()


def test_allow_list_is_exactly_registration_loading(graph):
    assert ALLOWED_EDGES == {
        ("banditlab.registry", "banditlab.envs"),
        ("banditlab.registry", "banditlab.agents"),
    }
    # Not stale: both edges exist (and only they are exempt).
    assert ALLOWED_EDGES <= graph.edge_set()


def test_graph_covers_every_project_package(graph):
    for module in ("banditlab.core", "banditlab.harness", "banditlab.execution",
                   "banditlab.loops", "banditlab.registry", "banditlab.envs",
                   "banditlab.agents"):
        assert module in graph.files, module
    assert any(m.startswith("banditlab.envs.") for m in graph.files)
    assert any(m.startswith("banditlab.agents.") for m in graph.files)
    # Function-level imports count: the harness layering is visible.
    assert "banditlab.execution" in graph.edges["banditlab.harness"]
    assert "banditlab.loops" in graph.edges["banditlab.execution"]


def test_no_import_cycles(graph, capsys):
    cycles = find_cycles(graph)
    with capsys.disabled():
        print("\n" + report(graph, cycles))
    assert not cycles, report(graph, cycles)


def test_the_detector_finds_a_cycle_and_respects_the_allow_list():
    g = ImportGraph(files=dict.fromkeys(["a", "b", "c", "banditlab.registry", "banditlab.envs"]),
                    edges={"a": {"b": [1]}, "b": {"c": [2]}, "c": {"a": [3]},
                           "banditlab.registry": {"banditlab.envs": [4]},
                           "banditlab.envs": {"banditlab.registry": [5]}})
    assert find_cycles(g) == [["a", "b", "c", "a"]]
    assert len(find_cycles(g, allowed=frozenset())) == 2
