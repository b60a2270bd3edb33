"""``assert_claims``: run a shipped experiment at a scale and assert its ``[[claims]]``.

Family tests use it instead of restating a paper's claims by hand::

    from banditlab.testing.claims import assert_claims

    def test_quickstart_claims():
        assert_claims("quickstart", scale="smoke")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from banditlab.claims import NOT_CHECKED, ClaimResult, claims_report, evaluate_claims

__all__ = ["assert_claims"]


def assert_claims(name_or_path: str | os.PathLike, scale: str = "reduced", n_jobs: int = 1,
                  results_dir: str | os.PathLike | None = None) -> list[ClaimResult]:
    """Run an experiment at ``scale``, evaluate its claims, fail on any failing claim.

    Args:
        name_or_path: A shipped experiment's name (``"quickstart"``) or a TOML file.
        scale: ``"smoke"``, ``"reduced"`` or ``"full"``.
        n_jobs: Worker processes (``1``: in this process).
        results_dir: Results directory to run into (resumable: committed tasks are
            reused); default a temporary directory removed afterwards.

    Returns:
        Every :class:`~banditlab.claims.ClaimResult` (including those not checked at
        this scale).

    Raises:
        AssertionError: When a task fails, when no claim is checked at this scale
            (coverage cannot shrink silently), or listing every failing claim with its
            estimate, CI and detail.
    """
    from banditlab.experiment import find_experiment, load_experiment
    from banditlab.harness import run_experiment
    from banditlab.results import load_results

    exp = load_experiment(find_experiment(name_or_path), scale=scale)
    if results_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"claims-{exp.name}-") as tmp:
            return _run_and_check(exp, Path(tmp), scale, n_jobs, run_experiment, load_results)
    return _run_and_check(exp, Path(results_dir), scale, n_jobs, run_experiment, load_results)


def _run_and_check(exp, out: Path, scale: str, n_jobs: int, run_experiment,
                   load_results) -> list[ClaimResult]:
    summary = run_experiment(exp, out, n_jobs=n_jobs, progress=False)
    assert not summary.errors, f"{exp.name} at scale {scale}: tasks failed:\n{summary}"
    frame = load_results(summary.results_dir).to_frame()
    results = evaluate_claims(exp, frame, scale)
    checked = [r for r in results if r.verdict != NOT_CHECKED]
    assert checked, (f"{exp.name}: no claim is checked at scale {scale!r} "
                     f"({len(results)} claims in the file)")
    failing = [r for r in checked if r.verdict != "pass"]
    if failing:
        report, _ = claims_report(failing, title=f"{exp.name} at scale {scale}: failing claims")
        raise AssertionError(f"{len(failing)} of {len(checked)} claims of {exp.name} fail at "
                             f"scale {scale}:\n{report}")
    return results
