"""``banditlab reproduce PAPER``: run a paper's experiments at a scale and report its claims.

For each shipped experiment of the paper (:func:`banditlab.papers.paper_experiments`, in
name order) :func:`reproduce` runs the experiment at the scale into
``OUT/<experiment>/`` (resumable: committed tasks are reused, like ``banditlab run``),
writes its default figure (``regret.png``: the file's ``[plot]`` metric, else each env's
primary regret kind), evaluates its ``[[claims]]`` (:mod:`banditlab.claims`) and writes
``claims.md`` / ``claims.json`` beside the results; then the combined ``OUT/claims.md``
and ``OUT/claims.json`` with the paper's citation, the scale, the code's commit and the
package versions. Failing claims are results, not errors: only failed tasks or
experiments that cannot be run or evaluated count as errors.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from banditlab.errors import BanditlabError

__all__ = ["ExperimentOutcome", "ReproduceSummary", "reproduce", "default_out", "code_commit"]


@dataclass
class ExperimentOutcome:
    """What reproducing one experiment gave.

    Attributes:
        name: Experiment name.
        results_dir: Where its results, figure and claims report are.
        n_tasks: Tasks of the experiment at the scale.
        n_ran: Tasks run now (the others were already committed).
        n_failed: Tasks that failed.
        claims: The claim results (``ClaimResult``), empty on error.
        figure: Path of the figure, or ``None``.
        error: One line when the experiment could not be run or evaluated, else ``None``.
    """

    name: str
    results_dir: Path
    n_tasks: int = 0
    n_ran: int = 0
    n_failed: int = 0
    claims: list[Any] = field(default_factory=list)
    figure: str | None = None
    error: str | None = None

    def line(self) -> str:
        """One summary line."""
        from banditlab.claims import NOT_CHECKED

        if self.error is not None and not self.n_tasks:
            return f"{self.name}: ERROR {self.error}"
        checked = [r for r in self.claims if r.verdict != NOT_CHECKED]
        passed = sum(r.verdict == "pass" for r in checked)
        text = (f"{self.name}: {self.n_tasks} tasks ({self.n_ran} ran, "
                f"{self.n_tasks - self.n_ran - self.n_failed} reused"
                + (f", {self.n_failed} FAILED" if self.n_failed else "")
                + f"), claims {passed} of {len(checked)} pass")
        if len(checked) < len(self.claims):
            text += f" ({len(self.claims) - len(checked)} not checked at this scale)"
        if self.error is not None:
            text += f"; ERROR {self.error}"
        return text + f" -> {self.results_dir}"


@dataclass
class ReproduceSummary:
    """The outcome of :func:`reproduce`.

    Attributes:
        paper: Paper key.
        scale: Scale run.
        out: The output directory.
        experiments: One :class:`ExperimentOutcome` per experiment, in name order.
        report: Path of the combined ``claims.md``.
    """

    paper: str
    scale: str
    out: Path
    experiments: list[ExperimentOutcome]
    report: Path

    @property
    def errors(self) -> list[str]:
        """``"<experiment>: <error>"`` for every failed task set or experiment error."""
        out = []
        for e in self.experiments:
            if e.n_failed:
                out.append(f"{e.name}: {e.n_failed} tasks failed")
            if e.error is not None:
                out.append(f"{e.name}: {e.error}")
        return out


def default_out(paper: str, scale: str) -> Path:
    """``banditlab-reproductions/<paper>/<scale>``."""
    return Path("banditlab-reproductions") / paper / scale


def code_commit() -> str:
    """The git commit of the banditlab source (``+dirty`` with local changes), or ``"unknown"``."""
    root = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=30)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _write_report(directory: Path, results, title: str, meta: dict[str, Any]) -> Path:
    from banditlab.claims import claims_report

    md, data = claims_report(results, title=title, meta=meta)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "claims.md").write_text(md, encoding="utf-8")
    (directory / "claims.json").write_text(json.dumps(data, indent=1, allow_nan=False) + "\n",
                                           encoding="utf-8")
    return directory / "claims.md"


def reproduce(paper: str, scale: str = "smoke", out: str | os.PathLike | None = None, *,
              n_jobs: int | None = 1, backend: str = "auto", new_run: bool = False,
              progress: bool = False, echo: Callable[[str], Any] | None = print,
              experiments: Sequence[str] | None = None) -> ReproduceSummary:
    """Run every experiment of ``paper`` at ``scale``, plot it and evaluate its claims.

    Args:
        paper: A paper key (:data:`banditlab.papers.PAPERS`).
        scale: ``"smoke"``, ``"reduced"`` or ``"full"``.
        out: Output directory (default :func:`default_out`); each experiment runs into
            ``out/<experiment name>``.
        n_jobs: Worker processes per experiment.
        backend: Execution backend (``"auto"``, ``"kernel"``, ``"python"``).
        new_run: When an experiment's directory holds a different experiment, write into
            a fresh ``run-<k>`` sub-directory instead of refusing.
        progress: Show progress bars.
        echo: Called with each summary line (``None``: silent).
        experiments: Run only these of the paper's experiments (file stems, as listed by
            ``banditlab reproduce --list``); ``None`` runs all. The report's ``meta`` names
            the experiments run, so a partial report says it is partial.

    Returns:
        A :class:`ReproduceSummary` (its ``errors`` list failed tasks and experiments).

    Raises:
        BanditlabError: One line for an unknown paper, scale or experiment name, or a
            paper with no shipped experiment.
    """
    from banditlab.claims import evaluate_claims
    from banditlab.experiment import SCALES, load_experiment
    from banditlab.harness import run_experiment
    from banditlab.papers import paper as get_paper
    from banditlab.papers import paper_experiments
    from banditlab.results import load_results, package_versions

    info = get_paper(paper)
    if scale not in SCALES:
        raise BanditlabError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    paths = paper_experiments(paper)
    if not paths:
        raise BanditlabError(f"paper: no shipped experiment names paper = {paper!r} yet")
    if experiments is not None:
        known = {x.stem: x for x in paths}
        unknown = [x for x in experiments if x not in known]
        if unknown or not experiments:
            raise BanditlabError(f"experiments: expected names among {', '.join(known)}, "
                                 f"got {', '.join(unknown) or 'none'}")
        paths = [x for x in paths if x.stem in set(experiments)]
    root = Path(out) if out is not None else default_out(paper, scale)
    meta = {"paper": paper, "citation": info.citation, "scale": scale,
            "commit": code_commit(), "versions": package_versions(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "subset": experiments is not None}
    outcomes: list[ExperimentOutcome] = []
    combined: dict[str, list[Any]] = {}
    for path in paths:
        outcome = ExperimentOutcome(path.stem, root / path.stem)
        outcomes.append(outcome)
        try:
            exp = load_experiment(path, scale=scale)
            outcome.name = exp.name
            summary = run_experiment(exp, outcome.results_dir, n_jobs=n_jobs, backend=backend,
                                     progress=progress, new_run=new_run)
            outcome.results_dir = summary.results_dir
            outcome.n_tasks, outcome.n_ran = summary.n_tasks, summary.n_ran
            outcome.n_failed = len(summary.errors)
            if outcome.n_failed:
                raise BanditlabError(f"{outcome.n_failed} of {summary.n_tasks} tasks failed "
                                     f"(first: {summary.errors[0][0]}: {summary.errors[0][1]})")
            results = load_results(summary.results_dir)
            outcome.figure = _figure(results, exp, summary.results_dir)
            outcome.claims = evaluate_claims(exp, results.to_frame(), scale)
            combined[exp.name] = outcome.claims
            _write_report(summary.results_dir, outcome.claims,
                          f"{exp.name} ({paper}, scale {scale}): claims",
                          {**meta, "experiment": exp.name})
        except BanditlabError as exc:
            outcome.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported per experiment, the others go on
            outcome.error = f"{type(exc).__name__}: {exc}"
        if echo is not None:
            echo(outcome.line())
    meta["experiments"] = {o.name: (o.error or "ok") for o in outcomes}
    report = _write_report(root, combined, f"Claims of {paper} at scale {scale}", meta)
    if echo is not None:
        echo(f"report: {report}")
    return ReproduceSummary(paper, scale, root, outcomes, report)


def _figure(results, exp, results_dir: Path) -> str:
    """The experiment's default figure (its ``[plot]`` table, else each env's primary kind)."""
    import matplotlib.pyplot as plt

    from banditlab.plotting import plot_results, save_figure

    plot = dict(exp.plot or {})
    fig = plot_results(results, plot.get("metric"), kind=plot.get("kind"),
                       logx=bool(plot.get("logx")), symlog=bool(plot.get("symlog")))
    try:
        return save_figure(fig, results_dir / "regret.png")[0]
    finally:
        plt.close(fig)
