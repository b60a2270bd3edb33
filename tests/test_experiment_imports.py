"""Safe ``imports``: validated first, module names only, explicit search path, recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from banditlab.core import BanditlabError
from banditlab.experiment import Experiment, import_modules, load_experiment

PLUGIN = '''
from pathlib import Path

from banditlab.registry import register_agent

Path(__file__).with_name("IMPORTED").write_text("the plugin ran")
register_agent("{agent_id}", "banditlab.agents.classic.ucb:UCB1")
'''

TOML = '''
name = "plug"
n_seeds = {n_seeds}
run_length = 60
checkpoints = [30, 60]
imports = ["{module}"]
[[envs]]
id = "banditlab/Bernoulli-v0"
[[agents]]
id = "{agent_id}"
'''


def _plugin_dir(tmp_path, n_seeds=1):
    """A directory with someone's TOML and a plugin module next to it (unique names)."""
    tag = uuid.uuid4().hex[:8]
    module, agent_id = f"plug_{tag}", f"mylab/MyUCB{tag}-v0"
    d = tmp_path / "theirs"
    d.mkdir()
    (d / f"{module}.py").write_text(PLUGIN.format(agent_id=agent_id))
    toml = d / "exp.toml"
    toml.write_text(TOML.format(module=module, agent_id=agent_id, n_seeds=n_seeds))
    return d, toml, module, agent_id


def _py(code, cwd):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


def _cli(*args):
    return [sys.executable, "-c", "import sys; from banditlab.cli import main; "
            "sys.exit(main(sys.argv[1:]))", *args]


@pytest.mark.parametrize("bad", ["plugins/my_agents.py", "my_agents.py", "../x", "C:\\x\\y",
                                 "my-agents", ""])
def test_imports_are_module_names_only(bad):
    with pytest.raises(BanditlabError, match=r"imports\[0\]: .* is not a module name") as info:
        Experiment.from_dict({"imports": [bad], "envs": [{"id": "banditlab/Bernoulli-v0"}],
                              "agents": [{"id": "UCB1-v0"}]})
    assert len(str(info.value).splitlines()) == 1
    if "/" in bad or bad.endswith(".py"):
        assert "--import-path" in str(info.value)


def test_the_whole_file_is_validated_before_anything_is_imported(tmp_path):
    d, toml, module, _ = _plugin_dir(tmp_path)
    for bad, field in (("n_seeds = 1", "n_seeds = 0"), ("run_length = 60", "run_length = -1"),
                       ('id = "banditlab/Bernoulli-v0"', 'id = "banditlab/Bernoulli-v0"\n'
                        'label = "x"\n[[envs]]\nid = "banditlab/Gaussian-v0"\nlabel = "x"')):
        toml.write_text(toml.read_text().replace(bad, field, 1) if bad in toml.read_text()
                        else toml.read_text())
        with pytest.raises(BanditlabError):
            load_experiment(toml, import_path=[d])  # importable, yet never imported
        assert not (d / "IMPORTED").exists(), field
        assert module not in sys.modules
        toml.write_text(toml.read_text().replace(field, bad, 1))


def test_a_py_file_next_to_the_toml_is_not_executed_unless_passed(tmp_path):
    d, toml, module, agent_id = _plugin_dir(tmp_path)
    # As in an interactive session or `python -c` started in that directory: '' is on sys.path.
    out = _py("from banditlab.experiment import load_experiment\n"
              "try:\n    load_experiment('exp.toml')\n"
              "except Exception as exc:\n    print(type(exc).__name__, exc)\n", cwd=d)
    assert not (d / "IMPORTED").exists(), "the module next to the TOML was executed"
    line = out.stdout.strip()
    assert line.startswith("BanditlabError imports: cannot import"), (line, out.stderr)
    assert "--import-path" in line and str(d) in line
    # Passed explicitly, it is imported (its code runs) and its agent resolves.
    out = _py(f"from banditlab.experiment import load_experiment\n"
              f"e = load_experiment('exp.toml', import_path=[{str(d)!r}])\n"
              f"print(e.agents[0].id)\n", cwd=d)
    assert out.stdout.strip() == agent_id, out.stderr
    assert (d / "IMPORTED").read_text() == "the plugin ran"


def test_import_path_must_be_a_directory(tmp_path):
    with pytest.raises(BanditlabError, match="import_path: .* is not a directory"):
        import_modules(["json"], [tmp_path / "missing"])


def test_cli_run_rerun_and_check_honour_imports(tmp_path):
    d, toml, module, agent_id = _plugin_dir(tmp_path, n_seeds=2)
    out = tmp_path / "res"
    bad = subprocess.run(_cli("run", str(toml), "--out", str(out), "-j", "1", "--no-progress"),
                         cwd=d, capture_output=True, text=True)
    assert bad.returncode == 2 and "--import-path" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not out.exists()
    ok = subprocess.run(_cli("run", str(toml), "--out", str(out), "-j", "2", "--no-progress",
                             "--no-plot", "--import-path", str(d)),
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    entries = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(entries) == 2 and all(e["imports"] == [module] for e in entries)
    (record,) = [json.loads(x) for x in (out / "experiments.jsonl").read_text().splitlines()]
    assert record["imports"] == [module] and record["import_path"] == [str(d.resolve())]
    tid = entries[0]["task_id"]
    rerun = subprocess.run(_cli("rerun", tid[:10], "--results", str(out), "--import-path",
                                str(d)), cwd=tmp_path, capture_output=True, text=True)
    assert rerun.returncode == 0 and "identical" in rerun.stdout, rerun.stderr
    no_path = subprocess.run(_cli("rerun", tid[:10], "--results", str(out)),
                             cwd=tmp_path, capture_output=True, text=True)
    assert no_path.returncode == 2 and f"cannot import {module!r}" in no_path.stderr
    check = subprocess.run(_cli("check", agent_id, "--import", module, "--import-path", str(d)),
                           cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0 and "0 failed" in check.stdout, check.stdout + check.stderr
