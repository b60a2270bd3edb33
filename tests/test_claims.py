"""Claims as data: parsing, validation, each kind against hand-computed values, reports.

The frames are synthetic (values chosen so estimates and, with two seeds, bootstrap CIs are
exact); the experiments are real files whose envs are cheap to build. The last tests load
every shipped experiment that names a paper, at every scale, and count its claims.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from banditlab.claims import (
    N_BOOT,
    ClaimResult,
    claims_report,
    evaluate_claims,
    parse_claims,
)
from banditlab.core import BanditlabError
from banditlab.experiment import SCALES, load_experiment
from banditlab.papers import PAPERS, paper_experiments, shipped_experiments
from banditlab.registry import make_agent

TS = [10, 20, 50, 100, 200, 500, 1000]
ENV = "coins"


def _labels():
    fixed = make_agent("FixedArm-v0").label()
    uniform = make_agent("Uniform-v0").label()
    return f"{fixed} (A)", f"{fixed} (B)", f"{uniform} (C)"


A, B, C = _labels()

HEAD = f"""
name = "synthetic"
paper = "classic"
n_seeds = 2
run_length = 1000
checkpoints = {TS}

[[envs]]
id = "banditlab/Bernoulli-v0"
label = "{ENV}"

[[agents]]
id = "FixedArm-v0"
kwargs = {{ arm = 1 }}
label = "{A}"

[[agents]]
id = "FixedArm-v0"
kwargs = {{ arm = 0 }}
label = "{B}"

[[agents]]
id = "Uniform-v0"
label = "{C}"

[scales.smoke]
n_seeds = 1
"""


def _claim(**fields) -> str:
    base = {"id": "c", "text": "a claim", "source": "here", "metric": "reward"}
    base.update(fields)
    lines = ["[[claims]]"]
    for k, v in base.items():
        lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def _exp(tmp_path, *claims: str, head: str = HEAD, scale: str = "full"):
    path = tmp_path / "synthetic.toml"
    path.write_text(head + "\n" + "\n".join(claims))
    return load_experiment(path, scale=scale)


def _frame(curves: dict[tuple[str, str, str], np.ndarray], ts=TS) -> pd.DataFrame:
    """Tidy frame from ``{(env, agent, metric): float[seeds, len(ts)]}``."""
    rows = []
    for (env, agent, metric), mat in curves.items():
        mat = np.atleast_2d(np.asarray(mat, dtype=float))
        for s, row in enumerate(mat):
            tid = f"{env}|{agent}|{s}"
            for t, v in zip(ts, row, strict=True):
                rows.append((tid, tid, "banditlab/Bernoulli-v0", env, "x", agent, s, t, metric, v))
    return pd.DataFrame(rows, columns=["task_id", "run_id", "env_id", "env_label", "agent_id",
                                       "agent_label", "seed_index", "t", "metric", "value"])


def _final(values_by_agent: dict[str, list[float]], metric="reward") -> pd.DataFrame:
    """Curves that are linear in t and end at the given per-seed values at t = 1000."""
    scale = np.array(TS, dtype=float) / TS[-1]
    return _frame({(ENV, a, metric): np.outer(v, scale) for a, v in values_by_agent.items()})


def _one(exp, frame, **kw) -> ClaimResult:
    (r,) = evaluate_claims(exp, frame, **kw)
    return r


# --------------------------------------------------------------------------- ordering
def test_ordering_estimate_is_the_smallest_gap_and_two_seed_cis_are_exact(tmp_path):
    frame = _final({A: [3.0, 5.0], B: [1.0, 3.0], C: [0.0, 2.0]})
    exp = _exp(tmp_path, _claim(kind="ordering", agents=[A, B, C], prefer="higher"))
    r = _one(exp, frame)
    assert (r.verdict, r.estimate, r.t, r.env, r.n_seeds) == ("pass", 1.0, 1000, ENV, 2)
    # Seeds are resampled jointly: the gaps per seed are (2, 2) and (1, 1) -> CI of the
    # smallest gap is exactly [1, 1].
    assert (r.ci_low, r.ci_high) == (1.0, 1.0)
    assert f"{A} 4 [3, 5] > {B} 2 [1, 3] > {C} 1 [0, 2]" in r.detail
    lower = _exp(tmp_path, _claim(kind="ordering", agents=[A, B, C], prefer="lower"))
    r = _one(lower, frame)
    assert r.verdict == "fail" and r.estimate == -2.0 and "not in the claimed order" in r.detail
    assert _one(_exp(tmp_path, _claim(kind="ordering", agents=[C, B], prefer="lower")),
                frame).estimate == 1.0


def test_ordering_separated_needs_disjoint_cis(tmp_path):
    overlapping = _final({A: [3.0, 5.0], B: [1.0, 3.0]})
    exp = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher",
                                separated=True))
    r = _one(exp, overlapping)
    assert r.verdict == "fail" and "overlap" in r.detail and r.estimate == 2.0
    apart = _final({A: [3.0, 5.0], B: [1.0, 2.9]})
    assert _one(exp, apart).verdict == "pass"
    # One seed: no CI, so "separated" cannot be established.
    smoke = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher",
                                  separated=True), scale="smoke")
    r = _one(smoke, _final({A: [5.0], B: [1.0]}))
    assert r.verdict == "fail" and math.isnan(r.ci_low) and "no CI" in r.detail


def test_ordering_at_an_earlier_checkpoint(tmp_path):
    frame = _frame({(ENV, A, "reward"): [[1, 1, 1, 1, 1, 1, 1]] * 2,
                    (ENV, B, "reward"): [[0, 0, 0, 2, 2, 2, 2]] * 2})
    early = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher", t=50))
    assert _one(early, frame).verdict == "pass"
    late = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher"))
    assert _one(late, frame).verdict == "fail"


# --------------------------------------------------------------------------- ratio, bound
def test_ratio_of_means_across_agents_and_metrics(tmp_path):
    frame = pd.concat([_final({A: [3.0, 5.0], B: [1.0, 3.0]}),
                       _final({A: [8.0, 8.0]}, metric="expected_reward")])
    exp = _exp(tmp_path, _claim(kind="ratio", agent=A, reference_agent=B, at_least=1.5))
    r = _one(exp, frame)
    assert (r.verdict, r.estimate, r.at_least) == ("pass", 2.0, 1.5)
    # Joint resampling of the per-seed pairs (3, 1) and (5, 3): ratios 3/1, 5/3 and 8/4.
    assert (r.ci_low, r.ci_high) == (pytest.approx(5 / 3), pytest.approx(3.0))
    r = _one(_exp(tmp_path, _claim(kind="ratio", agent=A, reference_agent=B, at_most=1.5)), frame)
    assert r.verdict == "fail" and "above at_most 1.5" in r.detail
    same = _exp(tmp_path, _claim(kind="ratio", agent=A, reference_metric="expected_reward",
                                 at_least=0.5, at_most=0.5))
    assert _one(same, frame).estimate == 0.5 and _one(same, frame).verdict == "pass"
    # confident: the whole CI [5/3, 3] must satisfy the bound
    strict = _exp(tmp_path, _claim(kind="ratio", agent=A, reference_agent=B, at_least=2.5,
                                   confident=False),
                  _claim(id="d", kind="ratio", agent=A, reference_agent=B, at_least=1.6,
                         confident=True),
                  _claim(id="e", kind="ratio", agent=A, reference_agent=B, at_least=2.0,
                         at_most=2.9, confident=True))
    verdicts = [(r.id, r.verdict) for r in evaluate_claims(strict, frame)]
    assert verdicts == [("c", "fail"), ("d", "pass"), ("e", "fail")]


def test_bound_mean_and_ci(tmp_path):
    frame = _final({A: [3.0, 5.0]})
    r = _one(_exp(tmp_path, _claim(kind="bound", agent=A, at_least=3.5, at_most=4.0)), frame)
    assert (r.verdict, r.estimate, r.ci_low, r.ci_high) == ("pass", 4.0, 3.0, 5.0)
    r = _one(_exp(tmp_path, _claim(kind="bound", agent=A, at_least=4.5)), frame)
    assert r.verdict == "fail" and "below at_least 4.5" in r.detail
    at_100 = _exp(tmp_path, _claim(kind="bound", agent=A, t=100, at_most=0.41))
    r = _one(at_100, frame)
    assert (r.t, r.estimate, r.verdict) == (100, pytest.approx(0.4), "pass")


def test_benchmark_metrics_are_paired_differences(tmp_path):
    frame = _final({A: [3.0, 5.0], B: [1.0, 4.0]})
    exp = _exp(tmp_path, _claim(kind="bound", agent=B, metric=f"benchmark/{A}", at_least=1.5,
                                at_most=1.5))
    r = _one(exp, frame)
    assert (r.estimate, r.ci_low, r.ci_high, r.verdict) == (1.5, 1.0, 2.0, "pass")


# --------------------------------------------------------------------------- slopes
def test_slope_against_t_with_default_and_explicit_t_min(tmp_path):
    ts = np.array(TS, dtype=float)
    # t below 100, 10 sqrt(t / 10) above: slope 1 then 0.5, continuous at t = 100.
    shape = np.where(ts < 100, ts, 100.0 * np.sqrt(ts / 100.0))
    frame = _frame({(ENV, A, "reward"): np.outer([1.0, 3.0], shape)})
    r = _one(_exp(tmp_path, _claim(kind="slope", agent=A, at_most=0.51)), frame)
    # default t_min = 1000 // 10 = 100: only the sqrt part; any resample is a multiple of it
    assert r.estimate == pytest.approx(0.5, abs=1e-12) and r.verdict == "pass"
    assert r.ci_low == pytest.approx(0.5, abs=1e-12) and r.ci_high == pytest.approx(0.5, abs=1e-12)
    assert "t in [100, 1000], 4 of 4 checkpoints" in r.detail
    wide = _one(_exp(tmp_path, _claim(kind="slope", agent=A, t_min=10, at_least=0.6)), frame)
    expected = np.polyfit(np.log(ts), np.log(2.0 * shape), 1)[0]
    assert wide.estimate == pytest.approx(expected, abs=1e-12) and wide.verdict == "pass"
    early = _one(_exp(tmp_path, _claim(kind="slope", agent=A, t=100, t_min=10, at_least=0.99,
                                       at_most=1.01)), frame)
    assert early.estimate == pytest.approx(1.0, abs=1e-12) and early.t == 100


def test_slope_over_env_entries(tmp_path):
    head = f"""
name = "sweep"
n_seeds = 2
checkpoints = 5

[[envs]]
id = "banditlab/Bernoulli-v0"
grid = {{ horizon = [100, 400, 1600] }}
label = "h"

[[agents]]
id = "Uniform-v0"
label = "{C}"
"""
    exp = _exp(tmp_path, _claim(kind="slope", agent=C, x="horizon", at_least=0.49,
                                at_most=0.51), head=head)
    labels = [e.display for e in exp.envs]
    assert labels == ["h(horizon=100)", "h(horizon=400)", "h(horizon=1600)"]
    curves, ends = {}, {}
    for label, h in zip(labels, (100, 400, 1600), strict=True):
        ts = [int(x) for x in np.ceil(np.linspace(h / 5, h, 5))]
        ends[label] = ts
        curves[label] = _frame({(label, C, "reward"): np.outer([2.0, 4.0], np.sqrt(ts))}, ts)
    r = _one(exp, pd.concat(curves.values()))
    assert r.env == ", ".join(labels) and r.t is None
    assert r.estimate == pytest.approx(0.5, abs=1e-12) and r.verdict == "pass"
    assert r.ci_low == pytest.approx(0.5, abs=1e-12)
    assert "horizon=100: 30, horizon=400: 60, horizon=1600: 120" in r.detail


def test_slope_over_agent_grid_points(tmp_path):
    head = f"""
name = "agent-sweep"
n_seeds = 2
run_length = 1000
checkpoints = {TS}

[[envs]]
id = "banditlab/Bernoulli-v0"
label = "{ENV}"

[[agents]]
id = "UCB1-v0"
grid = {{ alpha = [0.5, 2.0, 8.0] }}
"""
    ucb = make_agent("UCB1-v0").label()
    exp = _exp(tmp_path, _claim(kind="slope", agent=ucb, x="alpha", at_least=-1.01,
                                at_most=-0.99), head=head)
    labels = [a.display for a in exp.agents]
    assert all(label.startswith(ucb + " ") for label in labels)
    frame = _frame({(ENV, label, "reward"): np.outer([1.0, 3.0], np.full(len(TS), 8.0 / alpha))
                    for label, alpha in zip(labels, (0.5, 2.0, 8.0), strict=True)})
    r = _one(exp, frame)
    assert r.env == ENV and r.estimate == pytest.approx(-1.0, abs=1e-12) and r.verdict == "pass"


def test_slope_sweep_needs_two_values_and_positive_x(tmp_path):
    with pytest.raises(BanditlabError, match=r"^claims\[0\]\.x: 'beta' is neither set by every "
                                             r"env of the claim \(coins\) nor by agents "
                                             r"labelled 'nobody' or 'nobody \.\.\.'"):
        _exp(tmp_path, _claim(kind="slope", agent="nobody", x="beta", at_most=1))
    fixed = make_agent("FixedArm-v0").label()  # A and B: arm = 1 and arm = 0
    with pytest.raises(BanditlabError, match=r"^claims\[0\]\.x: arm = 0 of '.*\(B\)' is not a "
                                             r"positive number"):
        _exp(tmp_path, _claim(kind="slope", agent=fixed, x="arm", at_most=1))
    # run_length = 1000 sets the one env's horizon: a single point
    with pytest.raises(BanditlabError, match=r"^claims\[0\]\.x: 'horizon' takes fewer than two "
                                             r"values over the env entries"):
        _exp(tmp_path, _claim(kind="slope", agent=A, x="horizon", at_most=1))


# --------------------------------------------------------------------------- scales, determinism
def test_claims_outside_their_scales_are_not_checked(tmp_path):
    frame = _final({A: [4.0], B: [1.0]})
    exp = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher",
                                scales=["reduced", "full"]),
               _claim(id="d", kind="bound", agent="a label that only exists at full scale",
                      at_most=1, scales=["full"]), scale="smoke")
    results = evaluate_claims(exp, frame)
    assert [r.verdict for r in results] == ["not checked at this scale"] * 2
    assert math.isnan(results[0].estimate) and results[0].env == ""
    assert evaluate_claims(exp, frame, scale="reduced")[0].verdict == "pass"


def test_cis_are_deterministic_and_depend_on_the_claim_id(tmp_path):
    rng = np.random.default_rng(1)
    frame = _final({A: list(rng.normal(5, 1, 6)), B: list(rng.normal(1, 1, 6))})
    head = HEAD.replace("n_seeds = 2", "n_seeds = 6")
    c1 = _claim(kind="ratio", agent=A, reference_agent=B, at_least=0)
    c2 = _claim(id="other", kind="ratio", agent=A, reference_agent=B, at_least=0)
    first = evaluate_claims(_exp(tmp_path, c1, c2, head=head), frame)
    again = evaluate_claims(_exp(tmp_path, c1, c2, head=head), frame)
    assert [r.to_dict() for r in first] == [r.to_dict() for r in again]
    assert first[0].estimate == first[1].estimate
    assert (first[0].ci_low, first[0].ci_high) != (first[1].ci_low, first[1].ci_high)
    # the CI is a 95% percentile bootstrap of N_BOOT resamples: it brackets the estimate
    assert first[0].ci_low < first[0].estimate < first[0].ci_high and N_BOOT == 2000


def test_claims_are_not_part_of_task_identity(tmp_path):
    plain = _exp(tmp_path)
    with_claims = _exp(tmp_path, _claim(kind="bound", agent=A, at_most=1))
    assert [t.task_id for t in plain.tasks()] == [t.task_id for t in with_claims.tasks()]
    assert plain.paper == "classic" and len(with_claims.claims) == 1


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("claim, message", [
    (_claim(kind="guess"), r"claims\[0\]\.kind: expected one of ordering, ratio, slope, bound"),
    (_claim(id="Bad-Id", kind="bound", agent="x", at_most=1), r"claims\[0\]\.id: expected "
                                                               "lower-case"),
    (_claim(kind="bound", agent="x", at_most=1, text=""), r"claims\[0\]\.text: expected a "
                                                          "non-empty string"),
    (_claim(kind="bound", agent="x"), r"claims\[0\]: a bound claim needs at_least and/or "
                                      "at_most"),
    (_claim(kind="bound", agent="x", at_least=2, at_most=1), r"claims\[0\]\.at_most: 1 is "
                                                             "below at_least 2"),
    (_claim(kind="bound", agent="x", at_most=True), r"claims\[0\]\.at_most: expected a finite "
                                                    "number"),
    (_claim(kind="bound", agent="x", at_most=1, agents=["x", "y"]), r"claims\[0\]: unknown "
                                                                    "field 'agents' for kind "
                                                                    "'bound'"),
    (_claim(kind="ordering", agents=["x"], prefer="higher"), r"claims\[0\]\.agents: expected a "
                                                             "list of two or more"),
    (_claim(kind="ordering", agents=["x", "y"]), r"claims\[0\]\.prefer: expected 'higher' or "
                                                 "'lower'"),
    (_claim(kind="ordering", agents=["x", "y"], prefer="lower", separated="yes"),
     r"claims\[0\]\.separated: expected true or false"),
    (_claim(kind="ratio", agent="x", at_most=1), r"claims\[0\]: the ratio compares 'x''s "
                                                 "'reward' with itself"),
    (_claim(kind="slope", agent="x", x="alpha", t_min=5, at_most=1),
     r"claims\[0\]\.t_min: applies only to x = \"t\""),
    (_claim(kind="slope", agent="x", t=10, t_min=10, at_most=1),
     r"claims\[0\]\.t_min: 10 is not below t = 10"),
    (_claim(kind="bound", agent="x", at_most=1, scales=["tiny"]),
     r"claims\[0\]\.scales: expected a non-empty list of distinct scales"),
    (_claim(kind="bound", agent="x", at_most=1, t=0), r"claims\[0\]\.t: expected a checkpoint"),
    (_claim(kind="bound", agent="x", at_most=1, env=[]), r"claims\[0\]\.env: expected an env "
                                                         "label"),
])
def test_field_errors_are_one_line_and_name_the_field(tmp_path, claim, message):
    with pytest.raises(BanditlabError, match="^" + message) as info:
        _exp(tmp_path, claim)
    assert "\n" not in str(info.value)


def test_duplicate_ids_and_unknown_papers():
    c = {"id": "same", "text": "t", "source": "s", "kind": "bound", "metric": "m",
         "agent": "a", "at_most": 1}
    with pytest.raises(BanditlabError, match=r"^claims\[1\]\.id: 'same' is also the id of "
                                             r"claims\[0\]"):
        parse_claims({"claims": [c, c]})
    with pytest.raises(BanditlabError, match=r"^paper: 'nobody2099' is not a known paper key "
                                             r"\(known: classic, laforgue2022"):
        parse_claims({"paper": "nobody2099"})
    assert parse_claims({}) == (None, [])


@pytest.mark.parametrize("claim, message", [
    (_claim(kind="bound", agent="Nobody", at_most=1),
     r"claims\[0\]\.agent: no agent is labelled 'Nobody' at scale full \(labels: "),
    (_claim(kind="ordering", agents=[A, "Nobody"], prefer="lower"),
     r"claims\[0\]\.agents: no agent is labelled 'Nobody'"),
    (_claim(kind="ratio", agent=A, reference_agent="Nobody", at_most=1),
     r"claims\[0\]\.reference_agent: no agent is labelled 'Nobody'"),
    (_claim(kind="bound", agent=A, at_most=1, env="elsewhere"),
     r"claims\[0\]\.env: no env is labelled 'elsewhere' at scale full \(labels: 'coins'\)"),
    (_claim(kind="bound", agent=A, at_most=1, t=30),
     r"claims\[0\]\.t: 30 is not a checkpoint of env 'coins' at scale full \(run length 1000"),
    (_claim(kind="bound", agent=A, at_most=1, metric="benchmark/Nobody"),
     r"claims\[0\]\.metric: no agent is labelled 'Nobody'"),
    (_claim(kind="slope", agent=A, t_min=600, at_most=1),
     r"claims\[0\]\.t_min: fewer than two checkpoints of env 'coins' lie in \[600, 1000\]"),
])
def test_references_are_checked_when_the_experiment_loads(tmp_path, claim, message):
    with pytest.raises(BanditlabError, match="^" + message):
        _exp(tmp_path, claim)


def test_missing_metrics_fail_at_evaluation(tmp_path):
    exp = _exp(tmp_path, _claim(kind="bound", agent=A, at_most=1, metric="regret/nothing"))
    with pytest.raises(BanditlabError, match=r"^claims\[0\]\.metric: 'regret/nothing' is not a "
                                             r"metric of env 'coins' \(available: reward\)"):
        evaluate_claims(exp, _final({A: [1.0, 2.0]}))
    with pytest.raises(BanditlabError, match=r"^claims\[0\]: the results hold no 'regret/nothing'"
                                             r" values of agent"):
        evaluate_claims(exp, _final({B: [1.0, 2.0]}, metric="regret/nothing"))


# --------------------------------------------------------------------------- report
def test_report_table_summary_and_json(tmp_path):
    frame = _final({A: [3.0, 5.0], B: [1.0, 3.0]})
    exp = _exp(tmp_path, _claim(kind="ordering", agents=[A, B], prefer="higher"),
               _claim(id="d", kind="bound", agent=A, at_least=10),
               _claim(id="e", kind="bound", agent=A, at_least=1, scales=["smoke"]))
    results = evaluate_claims(exp, frame)
    md, data = claims_report(results, title="Synthetic", meta={"commit": "abc123"})
    assert "**1 of 2 claims pass (1 not checked at this scale).**" in md
    assert "| claim | env | t | measured [95% CI] | target | verdict | detail |" in md
    assert f"| coins | 1000 | 2 [2, 2] | {A} > {B} | pass |" in md
    assert "| 4 [3, 5] | >= 10 | **FAIL** |" in md and "* commit: abc123" in md
    assert data["summary"] == {"pass": 1, "fail": 1, "not_checked": 1, "checked": 2, "total": 3}
    text = json.dumps(data, allow_nan=False)  # NaN estimates become null
    assert json.loads(text)["claims"][2]["estimate"] is None
    by_exp, _ = claims_report({"synthetic": results})
    assert "## synthetic (1 of 2 pass)" in by_exp


# --------------------------------------------------------------------------- shipped files
@pytest.mark.parametrize("path", shipped_experiments(), ids=lambda p: p.stem)
def test_shipped_experiment_claims_load_at_every_scale(path):
    """Labels, envs and checkpoints named by the claims exist at each scale they apply to."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    paper, claims = parse_claims(data)
    if not claims:
        return
    declared = ["full", *[s for s in SCALES if s in (data.get("scales") or {})]]
    for scale in declared:
        if any(scale in c.scales for c in claims):
            exp = load_experiment(path, scale=scale)
            assert exp.paper == paper and exp.scale == scale


def test_claims_per_paper():
    counts: Counter[str] = Counter({key: 0 for key in PAPERS})
    for path in shipped_experiments():
        paper, claims = parse_claims(tomllib.loads(path.read_text(encoding="utf-8")))
        if paper is not None:
            counts[paper] += len(claims)
    print("claims per paper:", dict(counts))
    assert all(n >= 1 for n in counts.values()), counts  # coverage cannot shrink silently


def test_quickstart_is_a_classic_experiment_with_claims():
    assert "quickstart" in [p.stem for p in paper_experiments("classic")]
    exp = load_experiment(shipped_experiments()[[p.stem for p in shipped_experiments()]
                                                .index("quickstart")])
    kinds = {c.kind for c in exp.claims}
    assert kinds == {"ordering", "ratio", "slope", "bound"}


def test_quickstart_claims_hold_at_smoke_scale(tmp_path):
    from banditlab.testing.claims import assert_claims

    results = assert_claims("quickstart", scale="smoke", results_dir=tmp_path / "res")
    verdicts = Counter(r.verdict for r in results)
    assert verdicts == {"pass": 3, "not checked at this scale": 2}
    again = assert_claims("quickstart", scale="smoke", results_dir=tmp_path / "res")  # reuses
    assert [r.to_dict() for r in again] == [r.to_dict() for r in results]


def test_assert_claims_reports_failing_claims(tmp_path):
    text = (shipped_experiments()[[p.stem for p in shipped_experiments()].index("quickstart")]
            .read_text())
    bad = text.replace("at_least = 340", "at_least = 370")
    path = tmp_path / "quickstart_bad.toml"
    path.write_text(bad)
    from banditlab.testing.claims import assert_claims

    with pytest.raises(AssertionError, match=r"1 of 3 claims of quickstart fail at scale smoke"
                                             r":\n# quickstart at scale smoke: failing claims"):
        assert_claims(path, scale="smoke")
    none_here = tmp_path / "no_smoke_claims.toml"
    none_here.write_text(text.replace('id = "ucb1_below_uniform"',
                                      'id = "ucb1_below_uniform"\nscales = ["full"]')
                         .replace('id = "uniform_linear"', 'id = "uniform_linear"\nscales = '
                                  '["full"]')
                         .replace('id = "uniform_regret_at_1000"', 'id = "uniform_regret_at_'
                                  '1000"\nscales = ["full"]'))
    with pytest.raises(AssertionError, match="no claim is checked at scale 'smoke'"):
        assert_claims(none_here, scale="smoke")
