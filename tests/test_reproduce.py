"""``banditlab reproduce``: the paper registry, ``--list``, and a smoke reproduction of every paper.

Every paper key runs end to end at smoke scale (``--backend python``, as the shipped-experiment
smoke runs: the fused loop is covered pair by pair by the parity tests); the classic paper's
output is checked file by file, and a second run of it must reuse every task.
"""

from __future__ import annotations

import json

import pytest

from banditlab.cli import main
from banditlab.papers import PAPERS, paper, paper_experiments


def test_list_prints_every_paper_with_citation_experiments_and_cost(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for key, p in PAPERS.items():
        assert f"{key}  [{p.family}]  {p.citation}" in out
    assert "    experiments: " in out and "quickstart" in out
    block = out.split("classic  [classic]", 1)[1].split("\nlaforgue2022", 1)[0]
    assert "smoke: " in block and " tasks" in block and "full: " in block
    assert out.rstrip().endswith("Reproduce one with: banditlab reproduce PAPER --scale smoke")


def test_unknown_paper_and_missing_argument_are_one_line_errors(capsys):
    assert main(["reproduce", "smith1999"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("banditlab: error: paper: unknown paper 'smith1999' (known: "
                   + ", ".join(PAPERS) + ")")
    assert main(["reproduce"]) == 2
    assert "PAPER: name a paper (classic, laforgue2022" in capsys.readouterr().err
    assert main(["reproduce", "classic", "--list"]) == 2
    capsys.readouterr()
    assert main(["reproduce", "he2024", "--experiments", "amdp_e1,amdp_e9"]) == 2
    assert capsys.readouterr().err.strip() == (
        "banditlab: error: experiments: expected names among amdp_e1, amdp_e2, "
        "amdp_e2_mixture, got amdp_e9")


def test_experiment_subset_runs_only_the_named_files_and_says_so(tmp_path, capsys):
    out = tmp_path / "he"
    assert main(["reproduce", "he2024", "--experiments", "amdp_e2_mixture", "--out", str(out),
                 "-j", "1", "--backend", "python", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["amdp_e2_mixture"]
    meta = json.loads((out / "claims.json").read_text())["meta"]
    assert meta["subset"] is True and list(meta["experiments"]) == ["amdp_e2_mixture"]


def test_paper_registry_is_data_driven():
    assert list(PAPERS) == ["classic", "laforgue2022", "khodak2024", "chen2024", "dai2023",
                            "he2024", "zhang2020"]
    assert paper("laforgue2022").family == "lsd" and paper("laforgue2022").year == 2022
    names = [p.stem for p in paper_experiments("classic")]
    assert "quickstart" in names and names == sorted(names)


def _check_classic(out, printed, capsys):
    """The classic reproduction, file by file; then a second run reuses every task."""
    names = [p.stem for p in paper_experiments("classic")]
    assert len(printed) == len(names) + 1 and printed[-1] == f"report: {out / 'claims.md'}"
    for name, line in zip(names, printed, strict=False):
        assert line.startswith(f"{name}: ") and " pass" in line and line.endswith(str(out / name))
        d = out / name
        assert (d / "regret.png").stat().st_size > 1000
        data = json.loads((d / "claims.json").read_text())
        assert data["meta"]["experiment"] == name and data["meta"]["scale"] == "smoke"
        assert all(c["verdict"] in ("pass", "fail", "not checked at this scale")
                   for c in data["claims"])
        assert "| claim | env | t | measured [95% CI] | target | verdict | detail |" in (
            d / "claims.md").read_text()
    combined = json.loads((out / "claims.json").read_text())
    meta = combined["meta"]
    assert meta["paper"] == "classic" and meta["citation"] == paper("classic").citation
    assert len(meta["commit"]) >= 7 and {"banditlab", "numpy", "numba"} <= set(meta["versions"])
    verdicts = {(c["experiment"], c["id"]): c["verdict"] for c in combined["claims"]}
    assert verdicts[("quickstart", "ucb1_below_uniform")] == "pass"
    assert verdicts[("quickstart", "ucb1_sublinear")] == "not checked at this scale"
    assert combined["summary"]["checked"] >= 3
    md = (out / "claims.md").read_text()
    assert md.startswith("# Claims of classic at scale smoke") and " claims pass" in md
    # Resumable: nothing runs again, the same report comes out.
    assert main(["reproduce", "classic", "--scale", "smoke", "--out", str(out), "-j", "1",
                 "--backend", "python", "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "(0 ran, 4 reused)" in again
    assert json.loads((out / "claims.json").read_text())["claims"] == combined["claims"]


@pytest.mark.parametrize("key", list(PAPERS))
def test_every_paper_reproduces_at_smoke_scale(key, smoke_reproduction, capsys):
    out, rc, printed, seconds = smoke_reproduction(key)
    with capsys.disabled():
        print(f"\nreproduce {key} --scale smoke: {seconds:.1f} s")
    assert rc == 0, printed
    data = json.loads((out / "claims.json").read_text())
    assert set(data["meta"]["experiments"]) == {p.stem for p in paper_experiments(key)}
    assert all(v == "ok" for v in data["meta"]["experiments"].values())
    assert data["summary"]["total"] >= 1, f"{key}: its experiments state no claim"
    if key == "classic":
        _check_classic(out, printed.splitlines(), capsys)
