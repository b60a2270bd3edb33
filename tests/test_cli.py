"""The banditlab command line: help without compiling, run + plot, list, errors."""

from __future__ import annotations

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
         '[[agents]]\nid = "UCB1-v0"\n', "means: every mean must lie in [0.0, 1.0]"),
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
