"""Packaging: envs/ and agents/ install as banditlab.envs / banditlab.agents, nothing else."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_top_level_envs_or_agents_module():
    assert importlib.util.find_spec("agents") is None
    assert importlib.util.find_spec("envs") is None


def test_subpackages_come_from_the_mapped_folders():
    import banditlab.agents
    import banditlab.envs

    assert Path(banditlab.envs.__file__).resolve().parent == REPO / "envs"
    assert Path(banditlab.agents.__file__).resolve().parent == REPO / "agents"


def test_importing_the_folder_as_top_level_fails_loudly():
    for name in ("agents", "envs"):
        proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=REPO,
                              capture_output=True, text=True)
        assert proc.returncode != 0
        assert f"must be imported as 'banditlab.{name}'" in proc.stderr


def test_wheel_holds_only_banditlab(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), "-q"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("banditlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"banditlab"}
    # Every module of the three source folders ships (a family package missing from
    # pyproject's package list would otherwise vanish from the wheel silently).
    expected = set()
    for folder, prefix in (("banditlab", "banditlab"), ("envs", "banditlab/envs"),
                           ("agents", "banditlab/agents")):
        for path in (REPO / folder).rglob("*.py"):
            expected.add(f"{prefix}/{path.relative_to(REPO / folder).as_posix()}")
    missing = sorted(expected - set(names))
    assert not missing, f"modules missing from the wheel: {missing}"
    assert len(expected) > 60
    assert "banditlab/agents/classic/ucb.py" in names
    assert "banditlab/envs/active/data/q20/persons.csv" in names
    assert "banditlab/agents/active/data/ltal_q20.npz" in names
    assert "banditlab/benchmarks/quickstart.toml" in names
    assert "banditlab/py.typed" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "banditlab = banditlab.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
