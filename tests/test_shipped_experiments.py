"""Every shipped experiment file declares scales, plot default and cost; each runs at smoke scale.

The smoke runs use ``--backend python``: they check that each file's envs, agents, bindings
and scales work end to end, not the fused loop (which the parity tests cover pair by pair),
and skipping one fused compilation per (env, agent) pair keeps the 26 runs to seconds.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from banditlab.cli import _size
from banditlab.experiment import SCALES, apply_scale, load_experiment

BUNDLED = sorted(Path(str(p)) for p in resources.files("banditlab.benchmarks").iterdir()
                 if p.name.endswith(".toml"))
NAMES = [p.stem for p in BUNDLED]


def test_bundled_files_are_all_found():
    assert len(BUNDLED) >= 26 and "quickstart" in NAMES


@pytest.mark.parametrize("path", BUNDLED, ids=NAMES)
def test_file_declares_description_scales_and_cost(path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data.get("name") == path.stem
    assert isinstance(data.get("description"), str) and 10 < len(data["description"]) <= 120
    scales = data.get("scales", {})
    assert {"smoke", "reduced"} <= set(scales), "declare [scales.smoke] and [scales.reduced]"
    assert "full" not in scales or not scales["full"]
    cost = data.get("cost", {})
    assert cost.get("rounds_per_s", 0) > 0 and cost.get("task_s", -1) >= 0, (
        "record the measured [cost] (rounds_per_s, task_s) used by `banditlab list experiments`")


@pytest.mark.parametrize("path", BUNDLED, ids=NAMES)
def test_runs_at_smoke_scale_with_its_default_plot_metric(path, smoke_reproduction):
    """Run through its paper's smoke reproduction (every shipped file belongs to a paper)."""
    from banditlab.analysis import env_info, panel_metrics
    from banditlab.papers import PAPERS
    from banditlab.results import load_results

    key = tomllib.loads(path.read_text(encoding="utf-8")).get("paper")
    assert key in PAPERS, f"{path.name}: declare its paper (one of {sorted(PAPERS)})"
    root, rc, printed, _ = smoke_reproduction(key)
    assert rc == 0, printed
    out = root / path.stem
    smoke = load_experiment(path, scale="smoke")
    n_smoke = len(smoke.tasks())
    results = load_results(out)
    assert len(results) == n_smoke
    # smoke is smaller than reduced, which is smaller than the file as written (in rounds)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rounds = [_size(apply_scale(data, s))[1] for s in SCALES]
    assert rounds[0] < rounds[1] < rounds[2], rounds
    # the file's default plot metric (or each env's primary kind) exists in every panel
    panels = panel_metrics(results.to_frame(), env_info(results), smoke.plot.get("metric"),
                           smoke.plot.get("kind"))
    missing = {env: note for env, (_, note) in panels.items() if note is not None}
    assert not missing, missing


def test_scales_are_declared_names_only():
    assert SCALES == ("smoke", "reduced", "full")


@pytest.mark.parametrize("path", BUNDLED, ids=NAMES)
def test_the_sweeps_estimate_is_the_one_banditlab_list_prints(path):
    """``Experiment.estimated_seconds`` (which decides whether -j N starts its workers' server
    with the sweep) agrees with the estimate of ``banditlab list experiments``, or is None
    where the file leaves run lengths to the envs."""
    from banditlab.cli import _experiment_row

    tasks, _, seconds = _experiment_row(path)["sizes"]["full"]
    exp = load_experiment(path)
    assert len(exp.envs) * len(exp.agents) * exp.n_seeds == tasks
    estimate = exp.estimated_seconds()
    if exp.run_length is None:
        assert estimate is None
    else:
        assert estimate == pytest.approx(seconds, rel=1e-12)
