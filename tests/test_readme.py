"""The README stays true: its two commands, the CI entry point, the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from banditlab.registry import agent_ids, env_ids

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", README, flags=re.S)]


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
