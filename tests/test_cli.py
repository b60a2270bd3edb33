"""The banditlab command line: help without compiling, run + plot, list, errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from banditlab.cli import main


def test_help_imports_no_numba():
    code = ("import sys\nfrom banditlab.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print('numba' in sys.modules, 'gymnasium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_list(capsys):
    assert main(["list", "envs"]) == 0
    envs = capsys.readouterr().out.split()
    assert "banditlab/Bernoulli-v0" in envs and "banditlab/Gaussian-v0" in envs
    assert main(["list", "agents"]) == 0
    assert "UCB1-v0" in capsys.readouterr().out.split()


def test_run_writes_results_and_plot_then_resumes(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text('name = "e"\nn_seeds = 2\nrun_length = 300\n[[envs]]\n'
                   'id = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n'
                   '[[agents]]\nid = "Uniform-v0"\n')
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "ran 4, skipped 0" in text
    png = out / "regret.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["run", str(exp), "--out", str(out), "--no-progress", "--no-plot"]) == 0
    assert "ran 0, skipped 4" in capsys.readouterr().out
    svg = tmp_path / "r.svg"
    assert main(["plot", str(out), "--out", str(svg), "--logx", "--band", "boot95"]) == 0
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('n_seeds = 2\n[[envs]]\nid = "banditlab/Bernouli-v0"\n[[agents]]\nid = "UCB1-v0"\n',
         "unknown environment 'banditlab/Bernouli-v0'; did you mean 'banditlab/Bernoulli-v0'"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB-v0"\n',
         "unknown agent 'UCB-v0'; did you mean"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n'
         'kwargs = { alpah = 1.0 }\n', "unknown argument 'alpah'; did you mean 'alpha'"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n'
         'kwargs = { alpha = "big" }\n', "alpha: expected a finite number > 0"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\nkwargs = { means = [0.5, 1.5] }\n'
         '[[agents]]\nid = "UCB1-v0"\n', "means: every entry must be in [0, 1], got 1.5"),
        ('run_length = 0\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n',
         "run_length: expected an integer >= 1"),
        ('run_length = 2.5\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\n'
         'id = "UCB1-v0"\n', "run_length: expected an integer >= 1"),
        ('n_seeds = 0\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n',
         "n_seeds: expected an integer >= 1"),
        ('root_seed = -3\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\n'
         'id = "UCB1-v0"\n', "root_seed: expected an integer >= 0"),
        ('n_seeds = 2\nseeds = 3\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\n'
         'id = "UCB1-v0"\n', "unknown field 'seeds'"),
        ('n_seeds = 2\n[[envs]\nid = "x"\n', "malformed TOML"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\n', "agents: expected a non-empty list"),
        ('[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\nid = "UCB1-v0"\n'
         'kwargs = { alpha = "@known:nothing" }\n', "env has no known constant 'nothing'"),
        ('checkpoints = "often"\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n[[agents]]\n'
         'id = "UCB1-v0"\n', "checkpoints: expected 'default'"),
    ],
)
def test_bad_experiment_files_get_one_line_errors(tmp_path, capsys, toml, expected):
    exp = tmp_path / "bad.toml"
    exp.write_text(toml)
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("banditlab: error: ")
    assert expected in err
    assert not out.exists()  # nothing ran, nothing was written


def test_missing_experiment_names_bundled_ones(capsys):
    assert main(["run", "no-such-experiment"]) == 2
    err = capsys.readouterr().err
    assert "quickstart" in err


def test_action_outside_space_is_a_one_line_error():
    from banditlab.core import BanditlabError
    from banditlab.registry import make_env

    env = make_env("banditlab/Bernoulli-v0")
    env.reset(seed=0)
    for bad in (2, -1, 0.5, "1", True):
        with pytest.raises(BanditlabError, match="action"):
            env.step(bad)
    _, _, _, _, info = env.step(1)  # the env is intact after rejected actions
    assert info["t"] == 1


def test_rerun_reproduces_a_stored_task(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text('n_seeds = 1\nrun_length = 200\n[[envs]]\nid = "banditlab/Gaussian-v0"\n'
                   '[[agents]]\nid = "UCB1-v0"\n')
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "--no-progress", "--no-plot"]) == 0
    from banditlab.results import load_results

    (tid,) = load_results(out).entries
    capsys.readouterr()
    assert main(["rerun", tid[:12], "--results", str(out), "--backend", "python"]) == 0
    assert "identical to the stored curves" in capsys.readouterr().out


# --------------------------------------------------------------------------- day-to-day CLI
TWO_ENVS = (
    'name = "two"\nn_seeds = 2\nrun_length = 300\n'
    '[[envs]]\nid = "banditlab/Bernoulli10-v0"\n'
    '[[envs]]\nid = "banditlab/AdversarialBandit-v0"\nkwargs = { schedule = "switch" }\n'
    '[[agents]]\nid = "UCB1-v0"\n[[agents]]\nid = "Exp3-v0"\n'
    '[scales.smoke]\nn_seeds = 1\nrun_length = 100\n'
)


def test_run_quickstart_with_overrides(tmp_path, monkeypatch, capsys):
    """The issue's command: a shipped file shrunk from the command line, in its own directory."""
    from banditlab.results import load_results

    monkeypatch.chdir(tmp_path)
    assert main(["run", "quickstart", "--n-seeds", "2", "--run-length", "500", "-j", "1",
                 "--no-progress"]) == 0
    assert "4 tasks: ran 4" in capsys.readouterr().out
    out = tmp_path / "results" / "quickstart-T500"
    assert (out / "regret.png").read_bytes()[:4] == b"\x89PNG"
    entries = load_results(out).entries.values()
    assert len(entries) == 4 and {e["run_length"] for e in entries} == {500}


def test_scale_and_overrides(tmp_path, monkeypatch, capsys):
    from banditlab.experiment import load_experiment
    from banditlab.results import load_results

    monkeypatch.chdir(tmp_path)
    exp = tmp_path / "two.toml"
    exp.write_text(TWO_ENVS)
    assert len(load_experiment(exp).tasks()) == 8
    smoke = load_experiment(exp, scale="smoke")
    assert (smoke.n_seeds, smoke.run_length, len(smoke.tasks())) == (1, 100, 4)
    assert load_experiment(exp, scale="smoke", n_seeds=3, run_length=50).tasks()[0].run_length == 50
    assert main(["run", str(exp), "--scale", "smoke", "-j", "1", "--no-progress",
                 "--no-plot", "--backend", "python"]) == 0
    assert len(load_results(tmp_path / "results" / "two-smoke")) == 4
    assert main(["run", str(exp), "--scale", "reduced", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("declares no 'reduced' scale (declared: smoke; 'full' is the file as "
                        "written)") and len(err.splitlines()) == 1
    assert main(["run", str(exp), "--n-seeds", "0", "--no-progress"]) == 2
    assert "n_seeds: expected an integer >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[scales.tiny]\nn_seeds = 1\n", "scales: unknown scale 'tiny' (allowed: smoke, reduced"),
        ("[scales.smoke]\nseeds = 1\n", "scales.smoke: unknown field 'seeds'"),
        ("[scales.smoke]\nrun_length = 0\n", "scales.smoke.run_length: expected an integer >= 1"),
        ("[scales.smoke]\nenvs = [2]\n", "scales.smoke.envs[0]: position 2 is outside 0..1"),
        ("[scales.smoke]\nenvs = ['nope']\n", "scales.smoke.envs[0]: 'nope' matches 0 entries"),
        ("[scales.smoke]\ngrid = { alpha = [1.0] }\n",
         "scales.smoke.grid.alpha: no kept [[envs]] or [[agents]] entry sweeps 'alpha'"),
        ("[scales.full]\nn_seeds = 1\n", "scales.full: the full scale is the file as written"),
        ("[plot]\nkind = 'static'\nmetric = 'reward'\n", "plot: give metric or kind, not both"),
        ("[plot]\ncolour = 'red'\n", "plot: unknown field 'colour'"),
        ("[cost]\nrounds_per_s = 0\n", "cost.rounds_per_s: expected a number > 0"),
    ],
)
def test_bad_scales_plot_and_cost_tables_get_one_line_errors(tmp_path, capsys, table, expected):
    exp = tmp_path / "bad.toml"
    exp.write_text(TWO_ENVS.split("[scales.smoke]")[0] + table)
    assert main(["validate", str(exp)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert main(["run", str(exp), "--out", str(tmp_path / "res"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err
    assert not (tmp_path / "res").exists()


def test_grid_scale_replaces_axis_values(tmp_path):
    from banditlab.experiment import load_experiment

    exp = tmp_path / "g.toml"
    exp.write_text('n_seeds = 3\nrun_length = 100\n[[envs]]\nid = "banditlab/Bernoulli-v0"\n'
                   '[[agents]]\nid = "UCB1-v0"\ngrid = { alpha = [0.5, 1.0, 2.0] }\n'
                   '[[agents]]\nid = "Uniform-v0"\nlabel = "Uniform (uni)"\n'
                   '[scales.smoke]\nagents = [0]\ngrid = { alpha = [1.0] }\nn_seeds = 1\n')
    smoke = load_experiment(exp, scale="smoke")
    from banditlab.registry import make_agent

    derived = make_agent("UCB1-v0", alpha=1.0).label()
    assert [a.display for a in smoke.agents] == [f"{derived} (alpha=1.0)"]
    assert len(load_experiment(exp).tasks()) == 12


def test_validate_reports_ok_with_task_counts_and_runs_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "quickstart"]) == 0
    assert capsys.readouterr().out.strip() == "ok: quickstart.toml: 16 tasks (smoke: 4, reduced: 8)"
    exp = tmp_path / "two.toml"
    exp.write_text(TWO_ENVS)
    assert main(["validate", str(exp), "--scale", "smoke"]) == 0
    assert capsys.readouterr().out.strip() == "ok: two.toml: 4 tasks at scale smoke"
    bad = tmp_path / "bad.toml"
    bad.write_text(TWO_ENVS.replace('id = "Exp3-v0"\n', 'id = "Exp3-v0"\nkwargs = { eta = -1 }\n'))
    assert main(["validate", str(bad)]) == 1
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("bad.toml (full, smoke): agents[1]") and "eta" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "two.toml"]


def test_list_experiments_shows_every_shipped_file_with_cost_per_scale(capsys):
    from importlib import resources

    names = sorted(p.name[:-5] for p in resources.files("banditlab.benchmarks").iterdir()
                   if p.name.endswith(".toml"))
    assert main(["list", "experiments"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    for name in names:
        (head,) = [x for x in lines if x.startswith(name + "  [")]
        sizes = lines[lines.index(head) + 1]
        assert sizes.lstrip().startswith("smoke: ") and " | reduced: " in sizes
        parts = sizes.strip().split(" | ")
        assert [p.split(":")[0] for p in parts] == ["smoke", "reduced", "full"], sizes
        assert all(re.search(r", (<1 s|~[\d.]+ (s|min|h|days))$", p) for p in parts), sizes
    assert "quickstart  [classic]  UCB1 vs uniform" in text
    assert main(["list", "experiments", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.count("\n| `") == len(names)


def _frame_two_envs(tmp_path):
    exp = tmp_path / "two.toml"
    exp.write_text(TWO_ENVS)
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress", "--no-plot",
                 "--backend", "python"]) == 0
    return out


def _texts(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts).replace("\n", " ")


def test_plot_defaults_to_each_envs_primary_kind_and_never_drops_a_panel(tmp_path, capsys):
    from banditlab.plotting import plot_results

    out = _frame_two_envs(tmp_path)
    fig = plot_results(out)
    axes = [a for a in fig.axes if a.get_visible()]
    titles = [a.get_title() for a in axes]
    assert len(axes) == 2 and "AdversarialBandit-v0" in titles[0] and "Bernoulli10" in titles[1]
    labels = [a.get_ylabel().replace("\n", " ") for a in axes]
    assert labels == ["expected regret (pseudo-regret) against the best action of each round",
                      "expected regret (pseudo-regret) against the best arm"]
    assert [a.get_xlabel() for a in axes] == ["rounds", "rounds"]
    legend = fig.legends[0]
    assert legend.get_title().get_text() == "mean ± 1.96 s.e."
    # one metric for every panel: the Bernoulli env has no static regret and says so
    fig = plot_results(out, kind="static")
    adv, bern = (a for a in fig.axes if a.get_visible())
    assert "against the best fixed action in hindsight" in adv.get_ylabel().replace("\n", " ")
    assert "no pseudo_regret/static for this env (has: pseudo_regret/stochastic" in _texts(bern)
    capsys.readouterr()
    assert main(["plot", str(out), "--kind", "static", "--out", str(tmp_path / "s.png")]) == 0
    assert main(["plot", str(out), "--metric", "regret/nothing"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("banditlab: error: metric: no env has regret/nothing (available: ")
    with pytest.raises(SystemExit):
        main(["plot", str(out), "--metric", "reward", "--kind", "static"])


def test_experiment_file_names_its_default_plot_metric(tmp_path, monkeypatch):
    import banditlab.plotting
    from banditlab.cli import _recorded_plot_defaults
    from banditlab.experiment import load_experiment

    exp = tmp_path / "plotted.toml"
    exp.write_text(TWO_ENVS.replace("[scales.smoke]", '[plot]\nkind = "static"\n[scales.smoke]'))
    assert load_experiment(exp).plot == {"kind": "static"}
    seen = []
    real = banditlab.plotting.plot_experiment

    def spy(df, metric=None, **kw):
        seen.append((metric, kw["kind"]))
        return real(df, metric, **kw)

    monkeypatch.setattr(banditlab.plotting, "plot_experiment", spy)
    out = tmp_path / "res"
    assert main(["run", str(exp), "--out", str(out), "-j", "1", "--no-progress",
                 "--backend", "python"]) == 0  # run plots with the file's default
    assert _recorded_plot_defaults(out) == {"kind": "static"}
    assert main(["plot", str(out)]) == 0  # so does plot, from the recorded experiment
    assert main(["plot", str(out), "--metric", "reward"]) == 0  # the option wins
    assert seen == [(None, "static"), (None, "static"), ("reward", None)]


def test_episodic_envs_plot_against_episodes(tmp_path):
    from banditlab.plotting import plot_results

    out = tmp_path / "res"
    assert main(["run", "advmdp_smoke", "--scale", "smoke", "--out", str(out), "-j", "1",
                 "--backend", "python", "--no-progress", "--no-plot"]) == 0
    (ax,) = [a for a in plot_results(out).axes if a.get_visible()]
    assert ax.get_xlabel() == "episodes"
    assert "against the best fixed action in hindsight" in ax.get_ylabel().replace("\n", " ")


def test_metric_labels_are_words():
    from banditlab.plotting import comparator_name, metric_label

    assert metric_label("regret/gain").replace("\n", " ") == (
        "realised regret against t·J* (the optimal gain)")
    assert metric_label("pseudo_regret/stochastic", "per_round").replace("\n", " ") == (
        "expected regret (pseudo-regret) against the best arm / t")
    assert metric_label("reward") == "cumulative reward"
    assert comparator_name("benchmark/greedy") == "the greedy benchmark policy (same seed)"
