"""The README stays true: every code block runs, its tables are current, its commands work.

* ``toml`` blocks start with ``# file: NAME.toml``; each is loaded, validated and run at
  its ``smoke`` scale.
* ``python`` blocks: ``# file: NAME.py`` blocks build modules, the others run as scripts
  (in order, in a directory holding every ``# file:`` block).
* ``bash`` blocks: every ``banditlab`` command runs, at small size (see
  :func:`_small_command`), in that same directory. ``pip install`` and ``pytest`` are the
  CI entry point itself (checked against ``.ci/run``) and ``dask scheduler`` / ``dask
  worker`` need a cluster, so they do not run; the ``banditlab run ... --scheduler`` line
  of the cluster block is checked for its syntax and flags only (the Dask executor itself
  is tested on a ``LocalCluster`` in ``tests/test_distributed.py``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from banditlab.cli import build_parser, main
from banditlab.registry import agent_ids, env_ids

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _bash_blocks() -> list[str]:
    return [b.strip() for b in _blocks("bash")]


def _python_blocks() -> list[str]:
    return _blocks("python")


def _file_blocks() -> dict[str, str]:
    """``{name: text}`` of every block whose first line is ``# file: NAME``."""
    files: dict[str, str] = {}
    for block in _blocks("python") + _blocks("toml"):
        first = block.splitlines()[0]
        if first.startswith("# file: "):
            name = first.removeprefix("# file: ").strip()
            files[name] = files.get(name, "") + block + "\n"
    return files


def _write_files(where: Path) -> dict[str, str]:
    files = _file_blocks()
    for name, text in files.items():
        (where / name).write_text(text)
    return files


def test_readme_starts_with_the_two_fresh_machine_commands():
    first, second = _bash_blocks()[:2]
    assert first.startswith("pip install -e . && banditlab run quickstart")
    assert second == 'pip install -e ".[test]" && pytest'


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert _bash_blocks()[1] in ci.splitlines()


def test_quickstart_experiment_is_bundled():
    from importlib import resources

    assert (resources.files("banditlab.benchmarks") / "quickstart.toml").is_file()


def test_catalogue_lists_every_registered_id():
    catalogue = README.split("## Catalogue", 1)[1]
    ids = [i for i in env_ids() + agent_ids() if not i.startswith("testing/")]
    missing = [i for i in ids if f"`{i}`" not in catalogue]
    assert not missing, f"README catalogue misses {missing}"


def test_toml_blocks_load_validate_and_run_at_smoke_scale(tmp_path, monkeypatch, capsys):
    """Each README experiment file is valid as written and runs at its smoke scale."""
    import tomllib

    from banditlab.experiment import load_experiment
    from banditlab.results import load_results

    monkeypatch.chdir(tmp_path)
    tomls = _blocks("toml")
    assert tomls, "the README shows no experiment file"
    for block in tomls:
        first = block.splitlines()[0]
        assert first.startswith("# file: ") and first.endswith(".toml"), (
            f"a README toml block must start with '# file: NAME.toml', got {first!r}")
    files = {n: t for n, t in _write_files(tmp_path).items() if n.endswith(".toml")}
    for name, text in files.items():
        assert "smoke" in tomllib.loads(text).get("scales", {}), f"{name}: no [scales.smoke]"
        load_experiment(tmp_path / name)  # the file as written validates
        exp = load_experiment(tmp_path / name, scale="smoke")
        out = tmp_path / "smoke" / name
        assert main(["run", name, "--scale", "smoke", "--out", str(out), "-j", "1",
                     "--no-progress", "--no-plot"]) == 0, capsys.readouterr()
        assert len(load_results(out)) == len(exp.tasks())


def test_python_blocks_run(tmp_path):
    """Every ``python`` block runs: ``# file: NAME`` blocks build modules, the rest run in order."""
    files = _write_files(tmp_path)
    scripts = [b for b in _python_blocks() if not b.splitlines()[0].startswith("# file: ")]
    assert any(n.endswith(".py") for n in files) and scripts
    for i, script in enumerate(scripts):
        path = tmp_path / f"readme_block_{i}.py"
        path.write_text(script)
        proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, f"README python block {i} failed:\n{proc.stderr[-3000:]}"


def _small_command(args: list[str], cwd: Path) -> list[str] | None:
    """The README command at test size, or ``None`` when it is checked for flags only.

    ``run`` gets ``-j 1`` (instead of any ``-j N``), no progress bar and, unless the command
    already sets a scale or size, ``--scale smoke``; ``rerun``'s ``<task_id>`` placeholder is
    replaced by a task of the named results directory. ``run --scheduler`` needs a Dask
    cluster: it is parsed, not run.
    """
    args = list(args)
    if args[0] == "run":
        if "--scheduler" in args:
            return None
        if "-j" in args:
            i = args.index("-j")
            del args[i:i + 2]
        args += ["-j", "1", "--no-progress"]
        if not {"--scale", "--n-seeds", "--run-length"} & set(args):
            args += ["--scale", "smoke"]
    if args[0] == "rerun" and "<task_id>" in args:
        from banditlab.results import load_results

        results = args[args.index("--results") + 1]
        args[args.index("<task_id>")] = sorted(load_results(cwd / results).entries)[0][:12]
    return args


def test_bash_blocks_run_at_small_size(tmp_path, monkeypatch, capsys):
    """Every ``banditlab`` command of the README runs (at small size) and succeeds."""
    monkeypatch.chdir(tmp_path)
    _write_files(tmp_path)
    ran, parsed = [], []
    for block in _bash_blocks():
        for line in block.splitlines():
            for segment in line.split("&&"):
                words = shlex.split(segment, comments=True)
                if not words:
                    continue
                if words[0] in ("pip", "pytest", "dask"):
                    continue  # the CI entry point itself / needs a cluster (see module doc)
                assert words[0] == "banditlab", f"unexpected README command: {segment!r}"
                small = _small_command(words[1:], tmp_path)
                if small is None:
                    build_parser().parse_args(words[1:])  # syntax and flags only
                    parsed.append(segment)
                    continue
                rc = main(small)
                out = capsys.readouterr()
                assert rc == 0, f"README command {segment.strip()!r} -> {small}: {out.err}"
                ran.append(small[0])
    assert {"run", "plot", "rerun", "list", "validate"} <= set(ran)
    assert parsed, "the cluster command was not checked"


def test_shipped_experiments_table_is_generated():
    from banditlab.cli import EXPERIMENTS_START, experiments_markdown

    section = README.split("## Shipped experiments", 1)[1].split("\n## ", 1)[0]
    assert EXPERIMENTS_START in section, "README lacks the shipped-experiments table"
    generated = section[section.index(EXPERIMENTS_START):].rstrip("\n") + "\n"
    assert generated == experiments_markdown(), (
        "README shipped-experiments table is stale; regenerate it with "
        "`banditlab list experiments --markdown`"
    )


def test_catalogue_section_is_generated():
    from banditlab.catalogue import README_START, catalogue_markdown

    section = README.split("## Catalogue", 1)[1]
    generated = README_START + section.split(README_START, 1)[1]
    assert generated == catalogue_markdown(), (
        "README catalogue is stale; regenerate it with `python -m banditlab.catalogue README.md`"
    )


def test_readme_lists_every_check_of_the_kit():
    from banditlab.checks import agent_checker, env_checker

    names = [n for mod in (env_checker, agent_checker) for n in mod.__all__
             if n.startswith("check_")]
    missing = [n for n in names if f"`{n}`" not in README]
    assert not missing, f"README does not list the checks {missing}"


def test_docs_index_links_every_family_page():
    from banditlab.registry import known_families

    index = (REPO / "docs" / "README.md").read_text()
    for family in known_families():
        page = f"families/{family}.md"
        assert page in index, f"docs/README.md does not link {page}"
        assert (REPO / "docs" / page).is_file(), f"docs/{page} is missing"
        assert f"docs/{page}" in README, f"README does not link docs/{page}"
