"""Claims as data: what an experiment is expected to show, checked against its results.

An experiment file names the paper it reproduces and lists its claims; each claim is
evaluated on the tidy results frame (:meth:`banditlab.results.Results.to_frame`) and
gets a verdict with an estimate and a 95% confidence interval. This docstring is the
reference of the schema.

.. code-block:: toml

    paper = "laforgue2022"          # a key of banditlab.papers (banditlab reproduce PAPER)

    [[claims]]
    id = "isi_above_greedy"         # unique in the file, [a-z0-9_]+
    text = "ISI-CombUCB1 ends with more cumulative reward than Oracle Greedy"
    source = "Laforgue et al. (2022), Fig. 2"
    kind = "ordering"               # ordering | ratio | slope | bound
    metric = "reward"               # a metric of the results frame (cumulative value at t)
    env = "LSD k=5"                 # optional: an env label or a list; default every env
    t = 3600                        # optional: a checkpoint; default the final one
    scales = ["reduced", "full"]    # optional: scales at which it must hold; default all
    agents = ["ISI-CombUCB1", "Oracle Greedy"]   # ordering: best first
    prefer = "higher"               # ordering: "higher" or "lower" values are better

Fields common to every kind:

* ``id``, ``text``, ``source`` (where the paper or the experiment says it), ``kind``,
  ``metric`` (required). ``metric`` is a metric of the frame, e.g. ``reward``,
  ``pseudo_regret/stochastic``; ``benchmark/<agent label>`` and
  ``pseudo_benchmark/<agent label>`` are also accepted and computed with
  :func:`banditlab.analysis.regret_vs` (the named agent's cumulative reward, realised or
  expected, minus each agent's, paired by seed).
* ``env`` (optional): env label(s) the claim is evaluated on, one verdict per env;
  default every env of the file.
* ``t`` (optional): the checkpoint (a round recorded at every run of the env); default
  the final checkpoint.
* ``scales`` (optional): scales (``smoke``, ``reduced``, ``full``) at which the claim
  must hold; at other scales its verdict is ``"not checked at this scale"`` and the
  labels it names need not exist there.

Kinds (agent labels are the labels of the results, see
:meth:`banditlab.experiment.Experiment.resolve_labels`):

* ``ordering``: ``agents = [best, ..., worst]`` (two or more labels) and ``prefer =
  "higher" | "lower"``. Passes when the means at ``t`` are strictly ordered. Optional
  ``separated = true``: in addition, the 95% CIs of the means of neighbours must not
  overlap. Estimate: the smallest gap between neighbours' means, signed so that
  positive is the claimed direction, with its CI.
* ``ratio``: ``agent``; ``reference_agent`` (default ``agent``), ``reference_metric``
  (default ``metric``); ``at_least`` and/or ``at_most``. Estimate: mean of ``metric``
  of ``agent`` over mean of ``reference_metric`` of ``reference_agent`` at ``t`` (ratio of
  means over seeds).
* ``slope``: ``agent``; ``x = "t"`` (default): least-squares slope of log(mean metric)
  on log(t) over the checkpoints in ``[t_min, t]``, ``t_min`` optional (default: a tenth
  of ``t``, the last decade of the run). ``x = "<kwarg>"``: one point per env entry
  (when every env of the claim sets that kwarg; one verdict over those envs) or per
  agent whose label is ``agent`` or starts with ``agent`` and a space (grid points such
  as ``"UCB1 (alpha=0.5)"``) and whose kwargs set it (one verdict per env), the mean at
  ``t`` against the kwarg's value. Points with a
  non-positive mean are left out (as in :func:`banditlab.analysis.fit_slope`); fewer
  than two points give no estimate (a fail). ``at_least`` and/or ``at_most``.
* ``bound``: ``agent``; the mean at ``t``; ``at_least`` and/or ``at_most``.

Optional for ``ratio``, ``slope`` and ``bound`` (an addition to the shared schema):
``confident = true`` requires the whole 95% CI, not only the estimate, to satisfy
``at_least`` / ``at_most``.

**Verdicts** are ``"pass"`` or ``"fail"`` (``"not checked at this scale"`` when the
scale is not in ``scales``). Bounds are inclusive. A verdict is decided on the
estimate (plus the CIs where ``separated`` / ``confident`` ask for them).

**Confidence intervals**: 95% percentile bootstrap over seeds, 2000 resamples of the
seed indices, from ``numpy.random.default_rng`` seeded by a ``SeedSequence`` of the
claim id and the env label, so reports are deterministic. The series a claim compares
(agents, metrics, sweep points) are resampled jointly by seed index when they share
their seed indices (runs of one seed index face the same env randomness: common random
numbers), independently otherwise. With one seed there is no CI (``NaN``); a claim that
needs a CI then fails.

Validation happens when an experiment is loaded: fields and types first (one-line
errors naming ``claims[i].<field>``), then, after the agents' labels are derived, the
env and agent labels and checkpoints the claims applicable at the loaded scale name.
Metrics are checked when claims are evaluated. Claims are not part of any task's
identity: editing them never reruns anything.

Use :func:`evaluate_claims` on an experiment and its frame, :func:`claims_report` for
the Markdown table and JSON, :func:`banditlab.testing.claims.assert_claims` in tests
and ``banditlab reproduce PAPER`` from the shell.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from banditlab.errors import BanditlabError

__all__ = [
    "KINDS",
    "VERDICTS",
    "N_BOOT",
    "Claim",
    "ClaimResult",
    "parse_claims",
    "check_claim_references",
    "evaluate_claims",
    "claims_report",
]

KINDS = ("ordering", "ratio", "slope", "bound")
VERDICTS = ("pass", "fail", "not checked at this scale")
NOT_CHECKED = VERDICTS[2]
#: Bootstrap resamples of every CI.
N_BOOT = 2000
_ALL_SCALES = ("smoke", "reduced", "full")
_ID = re.compile(r"^[a-z0-9_]+$")
_COMMON = ("id", "text", "source", "kind", "metric", "env", "t", "scales")
_FIELDS = {
    "ordering": ("agents", "prefer", "separated"),
    "ratio": ("agent", "reference_agent", "reference_metric", "at_least", "at_most",
              "confident"),
    "slope": ("agent", "x", "t_min", "at_least", "at_most", "confident"),
    "bound": ("agent", "at_least", "at_most", "confident"),
}
_BENCH_PREFIXES = {"benchmark/": "reward", "pseudo_benchmark/": "expected_reward"}


@dataclass(frozen=True)
class Claim:
    """One validated ``[[claims]]`` table (see the module docstring for the fields).

    Attributes:
        index: Position in the file's ``[[claims]]`` list (for messages).
    """

    id: str
    text: str
    source: str
    kind: str
    metric: str
    index: int = 0
    env: tuple[str, ...] | None = None
    t: int | None = None
    scales: tuple[str, ...] = _ALL_SCALES
    agents: tuple[str, ...] = ()
    prefer: str = "higher"
    separated: bool = False
    agent: str | None = None
    reference_agent: str | None = None
    reference_metric: str | None = None
    at_least: float | None = None
    at_most: float | None = None
    x: str = "t"
    t_min: int | None = None
    confident: bool = False

    @property
    def where(self) -> str:
        """``claims[<index>]``."""
        return f"claims[{self.index}]"

    def target(self) -> str:
        """What the claim asserts, in a few characters (``>= 0.5``, ``A > B``...)."""
        if self.kind == "ordering":
            op = " > " if self.prefer == "higher" else " < "
            return op.join(self.agents) + (" (separated)" if self.separated else "")
        parts = []
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"<= {self.at_most:g}")
        return " and ".join(parts) + (" (whole CI)" if self.confident else "")


@dataclass
class ClaimResult:
    """The verdict of one claim on one env (or one set of envs for env sweeps).

    Attributes:
        experiment: Name of the experiment.
        id: Claim id.
        text: Claim text.
        source: Where the paper says it.
        kind: ``ordering``, ``ratio``, ``slope`` or ``bound``.
        metric: The metric evaluated.
        env: Env label (labels joined by ``", "`` for a sweep over envs; ``""`` when the
            claim was not checked).
        t: Checkpoint evaluated (``None`` when not checked).
        estimate: Measured value (see the kinds in the module docstring); NaN when none.
        ci_low: Lower end of the 95% bootstrap CI (NaN when none).
        ci_high: Upper end.
        verdict: ``"pass"``, ``"fail"`` or ``"not checked at this scale"``.
        target: What the claim asserts (``">= 0.5"``, ``"A > B"``).
        at_least: Lower bound (ratio, slope, bound), or ``None``.
        at_most: Upper bound, or ``None``.
        ordering: Agents best first (ordering claims), else ``()``.
        detail: One line: per-agent means with CIs, points used, why it failed.
        n_seeds: Seeds behind the estimate (the smallest over the series compared).
        scale: Scale the results were run at.
    """

    experiment: str
    id: str
    text: str
    source: str
    kind: str
    metric: str
    env: str
    t: int | None
    estimate: float
    ci_low: float
    ci_high: float
    verdict: str
    target: str = ""
    at_least: float | None = None
    at_most: float | None = None
    ordering: tuple[str, ...] = ()
    detail: str = ""
    n_seeds: int = 0
    scale: str = "full"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN becomes ``None``)."""
        out = asdict(self)
        for key in ("estimate", "ci_low", "ci_high"):
            v = out[key]
            out[key] = None if v is None or not math.isfinite(v) else float(v)
        out["ordering"] = list(self.ordering)
        return out


# --------------------------------------------------------------------------- parsing
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _string(table: Mapping[str, Any], key: str, where: str, required: bool = True) -> str | None:
    v = table.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise BanditlabError(f"{where}.{key}: expected a non-empty string"
                             + ("" if v is None else f", got {v!r}"))
    return v


def parse_claims(data: Mapping[str, Any]) -> tuple[str | None, list[Claim]]:
    """Check the top-level ``paper`` and the ``[[claims]]`` tables of a parsed file.

    Pure data: nothing is imported and no label is resolved
    (:func:`check_claim_references` checks those).

    Args:
        data: The parsed experiment file.

    Returns:
        ``(paper key or None, claims)``.

    Raises:
        BanditlabError: One line naming ``paper`` or ``claims[i].<field>``.
    """
    from banditlab.papers import PAPERS

    paper = data.get("paper")
    if paper is not None:
        if not isinstance(paper, str) or paper not in PAPERS:
            raise BanditlabError(f"paper: {paper!r} is not a known paper key (known: "
                                 f"{', '.join(PAPERS)})")
    raw = data.get("claims", [])
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        raise BanditlabError("claims: expected [[claims]] tables")
    claims: list[Claim] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(raw):
        claim = _parse_claim(table, i)
        if claim.id in seen:
            raise BanditlabError(f"claims[{i}].id: {claim.id!r} is also the id of "
                                 f"claims[{seen[claim.id]}]; ids must be unique in the file")
        seen[claim.id] = i
        claims.append(claim)
    return paper, claims


def _parse_claim(table: Mapping[str, Any], i: int) -> Claim:
    where = f"claims[{i}]"
    kind = table.get("kind")
    if kind not in KINDS:
        raise BanditlabError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    allowed = (*_COMMON, *_FIELDS[kind])
    bad = sorted(set(table) - set(allowed))
    if bad:
        raise BanditlabError(f"{where}: unknown field {bad[0]!r} for kind {kind!r} (allowed: "
                             f"{', '.join(allowed)})")
    cid = table.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise BanditlabError(f"{where}.id: expected lower-case letters, digits and '_', "
                             f"got {cid!r}")
    kw: dict[str, Any] = {"id": cid, "index": i, "kind": kind}
    for key in ("text", "source", "metric"):
        kw[key] = _string(table, key, where)
    env = table.get("env")
    if env is not None:
        envs = [env] if isinstance(env, str) else env
        if (not isinstance(envs, list) or not envs
                or not all(isinstance(e, str) and e for e in envs)):
            raise BanditlabError(f"{where}.env: expected an env label or a non-empty list of "
                                 f"labels, got {env!r}")
        if len(set(envs)) < len(envs):
            raise BanditlabError(f"{where}.env: lists an env twice")
        kw["env"] = tuple(envs)
    if "t" in table:
        if not _is_int(table["t"]) or table["t"] < 1:
            raise BanditlabError(f"{where}.t: expected a checkpoint (integer >= 1), "
                                 f"got {table['t']!r}")
        kw["t"] = int(table["t"])
    if "scales" in table:
        sc = table["scales"]
        if (not isinstance(sc, list) or not sc or not all(s in _ALL_SCALES for s in sc)
                or len(set(sc)) < len(sc)):
            raise BanditlabError(f"{where}.scales: expected a non-empty list of distinct "
                                 f"scales among {', '.join(_ALL_SCALES)}, got {sc!r}")
        kw["scales"] = tuple(sc)
    if kind == "ordering":
        agents = table.get("agents")
        if (not isinstance(agents, list) or len(agents) < 2
                or not all(isinstance(a, str) and a for a in agents)):
            raise BanditlabError(f"{where}.agents: expected a list of two or more agent labels, "
                                 f"best first, got {agents!r}")
        if len(set(agents)) < len(agents):
            raise BanditlabError(f"{where}.agents: lists an agent twice")
        kw["agents"] = tuple(agents)
        if table.get("prefer") not in ("higher", "lower"):
            raise BanditlabError(f"{where}.prefer: expected 'higher' or 'lower' (which values "
                                 f"are better), got {table.get('prefer')!r}")
        kw["prefer"] = table["prefer"]
        if "separated" in table:
            if not isinstance(table["separated"], bool):
                raise BanditlabError(f"{where}.separated: expected true or false")
            kw["separated"] = table["separated"]
        return Claim(**kw)
    kw["agent"] = _string(table, "agent", where)
    for key in ("at_least", "at_most"):
        if key in table:
            v = table[key]
            if not _is_number(v) or not math.isfinite(float(v)):
                raise BanditlabError(f"{where}.{key}: expected a finite number, got {v!r}")
            kw[key] = float(v)
    if kw.get("at_least") is None and kw.get("at_most") is None:
        raise BanditlabError(f"{where}: a {kind} claim needs at_least and/or at_most")
    if (kw.get("at_least") is not None and kw.get("at_most") is not None
            and kw["at_least"] > kw["at_most"]):
        raise BanditlabError(f"{where}.at_most: {kw['at_most']:g} is below at_least "
                             f"{kw['at_least']:g}")
    if "confident" in table:
        if not isinstance(table["confident"], bool):
            raise BanditlabError(f"{where}.confident: expected true or false")
        kw["confident"] = table["confident"]
    if kind == "ratio":
        kw["reference_agent"] = _string(table, "reference_agent", where, required=False)
        kw["reference_metric"] = _string(table, "reference_metric", where, required=False)
        if ((kw["reference_agent"] or kw["agent"]) == kw["agent"]
                and (kw["reference_metric"] or kw["metric"]) == kw["metric"]):
            raise BanditlabError(f"{where}: the ratio compares {kw['agent']!r}'s "
                                 f"{kw['metric']!r} with itself; set reference_agent or "
                                 "reference_metric")
    if kind == "slope":
        if "x" in table:
            kw["x"] = _string(table, "x", where)
        if "t_min" in table:
            if kw.get("x", "t") != "t":
                raise BanditlabError(f"{where}.t_min: applies only to x = \"t\"")
            if not _is_int(table["t_min"]) or table["t_min"] < 1:
                raise BanditlabError(f"{where}.t_min: expected an integer >= 1, "
                                     f"got {table['t_min']!r}")
            kw["t_min"] = int(table["t_min"])
            if kw.get("t") is not None and kw["t_min"] >= kw["t"]:
                raise BanditlabError(f"{where}.t_min: {kw['t_min']} is not below t = {kw['t']}")
    return Claim(**kw)


# --------------------------------------------------------------------------- references
def _agent_labels(experiment) -> list[str]:
    return [a.display for a in experiment.agents]


def _env_labels(experiment) -> list[str]:
    return [e.display for e in experiment.envs]


def _claim_envs(claim: Claim, experiment) -> list[str]:
    return list(claim.env) if claim.env is not None else _env_labels(experiment)


def _sweep(claim: Claim, experiment) -> tuple[str, list[tuple[str, float]]]:
    """``("env", [(env label, x)])`` or ``("agent", [(agent label, x)])`` of a kwarg slope."""
    where = f"{claim.where}.x"
    envs = {e.display: e for e in experiment.envs}
    claim_envs = _claim_envs(claim, experiment)
    env_points = []
    for label in claim_envs:
        kwargs = experiment.env_kwargs(envs[label])
        if claim.x not in kwargs:
            env_points = None
            break
        env_points.append((label, kwargs[claim.x]))
    if env_points is not None:
        mode, points = "env", env_points
    else:
        mode = "agent"
        points = [(a.display, a.kwargs[claim.x]) for a in experiment.agents
                  if (a.display == claim.agent or a.display.startswith(claim.agent + " "))
                  and claim.x in a.kwargs]
        if not points:
            raise BanditlabError(
                f"{where}: {claim.x!r} is neither set by every env of the claim "
                f"({', '.join(claim_envs)}) nor by agents labelled {claim.agent!r} "
                f"or {claim.agent + ' ...'!r}")
    for label, value in points:
        if not _is_number(value) or not float(value) > 0:
            raise BanditlabError(f"{where}: {claim.x} = {value!r} of {label!r} is not a "
                                 "positive number (the slope is fitted on log x)")
    if len({float(v) for _, v in points}) < 2:
        raise BanditlabError(f"{where}: {claim.x!r} takes fewer than two values over the "
                             f"{mode} entries at this scale (restrict the claim's scales)")
    return mode, [(label, float(v)) for label, v in points]


def check_claim_references(experiment, checkpoints: Mapping[str, Sequence[int]]) -> None:
    """Check the labels, checkpoints and sweeps named by the claims of the loaded scale.

    Called by :meth:`banditlab.experiment.Experiment.validate` after the agents' labels
    are derived. Claims whose ``scales`` exclude the experiment's scale are skipped.

    Args:
        experiment: The experiment (its ``claims``, ``scale``, ``envs``, ``agents``).
        checkpoints: Every env label's checkpoints.

    Raises:
        BanditlabError: One line naming ``claims[i].<field>``.
    """
    envs = _env_labels(experiment)
    agents = _agent_labels(experiment)
    scale = getattr(experiment, "scale", "full")

    def need_agent(label: str, where: str) -> None:
        if label not in agents:
            raise BanditlabError(f"{where}: no agent is labelled {label!r} at scale {scale} "
                                 f"(labels: {', '.join(map(repr, agents))})")

    for c in experiment.claims:
        if scale not in c.scales:
            continue
        for e in c.env or ():
            if e not in envs:
                raise BanditlabError(f"{c.where}.env: no env is labelled {e!r} at scale "
                                     f"{scale} (labels: {', '.join(map(repr, envs))})")
        for prefix in _BENCH_PREFIXES:
            if c.metric.startswith(prefix):
                need_agent(c.metric[len(prefix):], f"{c.where}.metric")
            if (c.reference_metric or "").startswith(prefix):
                need_agent(c.reference_metric[len(prefix):], f"{c.where}.reference_metric")
        if c.kind == "ordering":
            for label in c.agents:
                need_agent(label, f"{c.where}.agents")
        elif c.kind == "slope" and c.x != "t":
            mode, _ = _sweep(c, experiment)
            if mode == "env":
                need_agent(c.agent, f"{c.where}.agent")
        else:
            need_agent(c.agent, f"{c.where}.agent")
            if c.reference_agent is not None:
                need_agent(c.reference_agent, f"{c.where}.reference_agent")
        for e in _claim_envs(c, experiment):
            cps = [int(x) for x in checkpoints[e]]
            if c.t is not None and c.t not in cps:
                raise BanditlabError(
                    f"{c.where}.t: {c.t} is not a checkpoint of env {e!r} at scale {scale} "
                    f"(run length {cps[-1]}; restrict the claim's scales or add the checkpoint)")
            if c.kind == "slope" and c.x == "t":
                t_end = c.t if c.t is not None else cps[-1]
                t_min = c.t_min if c.t_min is not None else max(1, t_end // 10)
                if sum(t_min <= x <= t_end for x in cps) < 2:
                    raise BanditlabError(
                        f"{c.where}.t_min: fewer than two checkpoints of env {e!r} lie in "
                        f"[{t_min}, {t_end}] at scale {scale}")


# --------------------------------------------------------------------------- evaluation
def _rng(claim_id: str, env: str) -> np.random.Generator:
    words = np.frombuffer(hashlib.sha256(f"{claim_id}\0{env}".encode()).digest(),
                          dtype=np.uint32)
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.4g}"


def _ci_text(mean: float, lo: float, hi: float) -> str:
    return f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"


@dataclass
class _Series:
    """Values of one (agent, metric) on one env: seeds x checkpoints."""

    label: str
    seeds: np.ndarray  # int64[n]
    ts: np.ndarray  # int64[m]
    values: np.ndarray = field(repr=False)  # float64[n, m]

    def at(self, t: int) -> np.ndarray:
        return self.values[:, int(np.searchsorted(self.ts, t))]


class _Frame:
    """The tidy frame indexed for claims (with benchmark metrics added on demand)."""

    def __init__(self, frame):
        self.frame = frame
        self._cache: dict[tuple[str, str, str], _Series] = {}
        self._bench: dict[str, Any] = {}

    def series(self, claim: Claim, env: str, agent: str, metric: str) -> _Series:
        key = (env, agent, metric)
        if key in self._cache:
            return self._cache[key]
        df = self.frame
        sub = df[df["env_label"] == env]
        if sub.empty:
            raise BanditlabError(f"{claim.where}.env: the results hold no runs of env {env!r}")
        if metric not in set(sub["metric"].unique()):
            sub = self._benchmark(claim, sub, env, metric)
        sub = sub[(sub["agent_label"] == agent) & (sub["metric"] == metric)]
        if sub.empty:
            raise BanditlabError(f"{claim.where}: the results hold no {metric!r} values of "
                                 f"agent {agent!r} on env {env!r}")
        wide = sub.pivot_table(index="seed_index", columns="t", values="value", aggfunc="mean")
        if wide.isna().to_numpy().any():
            raise BanditlabError(f"{claim.where}: the runs of agent {agent!r} on env {env!r} "
                                 "do not share their checkpoints")
        s = _Series(agent, wide.index.to_numpy(dtype=np.int64),
                    wide.columns.to_numpy(dtype=np.int64), wide.to_numpy(dtype=np.float64))
        self._cache[key] = s
        return s

    def _benchmark(self, claim: Claim, sub, env: str, metric: str):
        for prefix, base in _BENCH_PREFIXES.items():
            if metric.startswith(prefix):
                from banditlab.analysis import regret_vs

                bench = metric[len(prefix):]
                key = f"{env}\0{metric}"
                if key not in self._bench:
                    self._bench[key] = regret_vs(sub, bench, metric=base)
                return self._bench[key]
        available = ", ".join(sorted(sub["metric"].unique()))
        raise BanditlabError(f"{claim.where}.metric: {metric!r} is not a metric of env {env!r} "
                             f"(available: {available})")


def _boot(series: list[np.ndarray], seeds: list[np.ndarray],
          rng: np.random.Generator) -> np.ndarray | None:
    """Bootstrap means, ``float64[k, N_BOOT]``, resampling seeds jointly when they match.

    ``None`` when some series has fewer than two seeds (no CI).
    """
    if min(len(v) for v in series) < 2:
        return None
    if all(np.array_equal(seeds[0], s) for s in seeds[1:]):
        n = len(series[0])
        idx = rng.integers(0, n, size=(N_BOOT, n))
        return np.stack([v[idx].mean(axis=1) for v in series])
    out = []
    for v in series:
        idx = rng.integers(0, len(v), size=(N_BOOT, len(v)))
        out.append(v[idx].mean(axis=1))
    return np.stack(out)


def _ci(samples: np.ndarray | None) -> tuple[float, float]:
    if samples is None:
        return math.nan, math.nan
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(samples, [0.025, 0.975])
    return float(lo), float(hi)


def _loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """Least-squares slope of log y on log x over the points with y > 0; (slope, points)."""
    ok = (y > 0) & (x > 0)
    if int(ok.sum()) < 2 or np.unique(x[ok]).size < 2:
        return math.nan, int(ok.sum())
    lx, ly = np.log(x[ok]), np.log(y[ok])
    lx_c = lx - lx.mean()
    return float(np.dot(lx_c, ly - ly.mean()) / np.dot(lx_c, lx_c)), int(ok.sum())


def _within(claim: Claim, estimate: float, lo: float, hi: float) -> tuple[bool, str]:
    """Whether the estimate (and the CI with ``confident``) satisfies the bounds."""
    if not math.isfinite(estimate):
        return False, "no estimate"
    values = [estimate] + ([lo, hi] if claim.confident else [])
    if claim.confident and not (math.isfinite(lo) and math.isfinite(hi)):
        return False, "no CI (one seed) but confident = true"
    if claim.at_least is not None and min(values) < claim.at_least:
        what = "CI" if claim.confident and estimate >= claim.at_least else "estimate"
        return False, f"{what} below at_least {claim.at_least:g}"
    if claim.at_most is not None and max(values) > claim.at_most:
        what = "CI" if claim.confident and estimate <= claim.at_most else "estimate"
        return False, f"{what} above at_most {claim.at_most:g}"
    return True, ""


def _result(claim: Claim, experiment, scale: str, env: str, t: int | None, estimate: float,
            ci: tuple[float, float], ok: bool, detail: str, n_seeds: int) -> ClaimResult:
    return ClaimResult(
        experiment=getattr(experiment, "name", ""), id=claim.id, text=claim.text,
        source=claim.source, kind=claim.kind, metric=claim.metric, env=env, t=t,
        estimate=float(estimate), ci_low=ci[0], ci_high=ci[1],
        verdict="pass" if ok else "fail", target=claim.target(), at_least=claim.at_least,
        at_most=claim.at_most, ordering=claim.agents, detail=detail, n_seeds=int(n_seeds),
        scale=scale)


def _t_of(claim: Claim, s: _Series, env: str) -> int:
    t = claim.t if claim.t is not None else int(s.ts[-1])
    if t not in set(s.ts.tolist()):
        raise BanditlabError(f"{claim.where}.t: {t} is not a checkpoint of the runs on env "
                             f"{env!r} (last: {int(s.ts[-1])})")
    return t


def _eval_ordering(c: Claim, fr: _Frame, env: str, rng, base) -> ClaimResult:
    series = [fr.series(c, env, a, c.metric) for a in c.agents]
    t = _t_of(c, series[0], env)
    vals = [s.at(t) for s in series]
    means = np.array([v.mean() for v in vals])
    boot = _boot(vals, [s.seeds for s in series], rng)
    sign = 1.0 if c.prefer == "higher" else -1.0
    gaps = sign * (means[:-1] - means[1:])
    estimate = float(gaps.min())
    ci = _ci(None if boot is None else (sign * (boot[:-1] - boot[1:])).min(axis=0))
    cis = [_ci(None if boot is None else boot[k]) for k in range(len(series))]
    ok = bool(np.all(gaps > 0))
    why = "" if ok else "means not in the claimed order"
    if ok and c.separated:
        for k in range(len(series) - 1):
            (lo_a, hi_a), (lo_b, hi_b) = cis[k], cis[k + 1]
            if not all(map(math.isfinite, (lo_a, hi_a, lo_b, hi_b))):
                ok, why = False, "no CI (one seed) but separated = true"
                break
            if (lo_a <= hi_b) if c.prefer == "higher" else (hi_a >= lo_b):
                ok, why = False, f"CIs of {c.agents[k]!r} and {c.agents[k + 1]!r} overlap"
                break
    op = " > " if c.prefer == "higher" else " < "
    detail = op.join(f"{a} {_ci_text(m, lo, hi)}" for a, m, (lo, hi)
                     in zip(c.agents, means, cis, strict=True))
    detail += f"; smallest gap {_fmt(estimate)}" + (f"; {why}" if why else "")
    return base(env, t, estimate, ci, ok, detail, min(len(v) for v in vals))


def _eval_ratio(c: Claim, fr: _Frame, env: str, rng, base) -> ClaimResult:
    ref_agent = c.reference_agent or c.agent
    ref_metric = c.reference_metric or c.metric
    num = fr.series(c, env, c.agent, c.metric)
    den = fr.series(c, env, ref_agent, ref_metric)
    t = _t_of(c, num, env)
    a, b = num.at(t), den.at(_t_of(c, den, env))
    estimate = float(a.mean() / b.mean()) if b.mean() != 0 else math.nan
    boot = _boot([a, b], [num.seeds, den.seeds], rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = _ci(None if boot is None else boot[0] / boot[1])
    ok, why = _within(c, estimate, *ci)
    detail = (f"{c.agent} {c.metric} {_fmt(float(a.mean()))} / {ref_agent} {ref_metric} "
              f"{_fmt(float(b.mean()))}" + (f"; {why}" if why else ""))
    return base(env, t, estimate, ci, ok, detail, min(len(a), len(b)))


def _eval_bound(c: Claim, fr: _Frame, env: str, rng, base) -> ClaimResult:
    s = fr.series(c, env, c.agent, c.metric)
    t = _t_of(c, s, env)
    v = s.at(t)
    boot = _boot([v], [s.seeds], rng)
    ci = _ci(None if boot is None else boot[0])
    estimate = float(v.mean())
    ok, why = _within(c, estimate, *ci)
    detail = f"{c.agent} mean {c.metric} over {len(v)} seeds" + (f"; {why}" if why else "")
    return base(env, t, estimate, ci, ok, detail, len(v))


def _eval_slope_t(c: Claim, fr: _Frame, env: str, rng, base) -> ClaimResult:
    s = fr.series(c, env, c.agent, c.metric)
    t_end = _t_of(c, s, env)
    t_min = c.t_min if c.t_min is not None else max(1, t_end // 10)
    cols = (s.ts >= t_min) & (s.ts <= t_end)
    x = s.ts[cols].astype(np.float64)
    mat = s.values[:, cols]
    estimate, used = _loglog_slope(x, mat.mean(axis=0))
    ci = (math.nan, math.nan)
    if mat.shape[0] >= 2:
        idx = rng.integers(0, mat.shape[0], size=(N_BOOT, mat.shape[0]))
        curves = mat[idx].mean(axis=1)  # (N_BOOT, m)
        ci = _ci(np.array([_loglog_slope(x, cv)[0] for cv in curves]))
    ok, why = _within(c, estimate, *ci)
    detail = (f"log-log fit of {c.agent}'s mean {c.metric} on t in [{t_min}, {t_end}], "
              f"{used} of {x.size} checkpoints" + (f"; {why}" if why else ""))
    return base(env, t_end, estimate, ci, ok, detail, mat.shape[0])


def _eval_slope_points(c: Claim, fr: _Frame, env_points: list[tuple[str, str, float]],
                       env_shown: str, rng, base) -> ClaimResult:
    """Slope over (env, agent, x) points, each the mean at ``t``."""
    series = [fr.series(c, env, agent, c.metric) for env, agent, _ in env_points]
    ts = [_t_of(c, s, env) for s, (env, _, _) in zip(series, env_points, strict=True)]
    vals = [s.at(t) for s, t in zip(series, ts, strict=True)]
    x = np.array([p[2] for p in env_points])
    means = np.array([v.mean() for v in vals])
    estimate, used = _loglog_slope(x, means)
    boot = _boot(vals, [s.seeds for s in series], rng)
    ci = _ci(None if boot is None else
             np.array([_loglog_slope(x, boot[:, j])[0] for j in range(boot.shape[1])]))
    ok, why = _within(c, estimate, *ci)
    pts = ", ".join(f"{c.x}={xv:g}: {_fmt(m)}" for xv, m in zip(x, means, strict=True))
    detail = f"log-log fit over {used} of {x.size} points ({pts})" + (f"; {why}" if why else "")
    t_shown = ts[0] if len(set(ts)) == 1 else None
    return base(env_shown, t_shown, estimate, ci, ok, detail, min(len(v) for v in vals))


def evaluate_claims(experiment, frame, scale: str | None = None) -> list[ClaimResult]:
    """Evaluate the experiment's claims on its tidy results frame.

    Args:
        experiment: A loaded :class:`~banditlab.experiment.Experiment` (its ``claims``,
            ``envs``, ``agents`` and ``scale``).
        frame: :meth:`banditlab.results.Results.to_frame` of its results.
        scale: Scale the results were run at (default: the experiment's ``scale``).

    Returns:
        One :class:`ClaimResult` per claim and env (one per claim for sweeps over envs
        and for claims not checked at this scale), in file order.

    Raises:
        BanditlabError: One line for a metric, agent or env the results do not hold.
    """
    scale = scale or getattr(experiment, "scale", "full")
    fr = _Frame(frame)
    out: list[ClaimResult] = []
    for c in experiment.claims:
        if scale not in c.scales:
            out.append(ClaimResult(
                experiment=getattr(experiment, "name", ""), id=c.id, text=c.text,
                source=c.source, kind=c.kind, metric=c.metric, env="", t=c.t,
                estimate=math.nan, ci_low=math.nan, ci_high=math.nan, verdict=NOT_CHECKED,
                target=c.target(), at_least=c.at_least, at_most=c.at_most, ordering=c.agents,
                detail=f"claimed at scales {', '.join(c.scales)}", scale=scale))
            continue

        def base(env, t, estimate, ci, ok, detail, n, c=c):
            return _result(c, experiment, scale, env, t, estimate, ci, ok, detail, n)

        envs = _claim_envs(c, experiment)
        if c.kind == "slope" and c.x != "t":
            mode, points = _sweep(c, experiment)
            if mode == "env":
                shown = ", ".join(envs)
                triples = [(env, c.agent, x) for env, x in points]
                out.append(_eval_slope_points(c, fr, triples, shown, _rng(c.id, shown), base))
                continue
            for env in envs:
                triples = [(env, agent, x) for agent, x in points]
                out.append(_eval_slope_points(c, fr, triples, env, _rng(c.id, env), base))
            continue
        fn = {"ordering": _eval_ordering, "ratio": _eval_ratio, "bound": _eval_bound,
              "slope": _eval_slope_t}[c.kind]
        for env in envs:
            out.append(fn(c, fr, env, _rng(c.id, env), base))
    return out


# --------------------------------------------------------------------------- report
def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_report(results: Sequence[ClaimResult] | Mapping[str, Sequence[ClaimResult]], *,
                  title: str = "Claims", meta: Mapping[str, Any] | None = None
                  ) -> tuple[str, dict[str, Any]]:
    """A Markdown report and its JSON-able form.

    Args:
        results: Claim results (from :func:`evaluate_claims`), or experiment name to
            claim results.
        title: Heading of the Markdown report.
        meta: Extra JSON-able fields (commit, versions, scale...) shown under the heading
            and stored in the dict.

    Returns:
        ``(markdown, data)``: the Markdown has one table per experiment (claim, env,
        measured value [95% CI], target, verdict, detail) and a summary line ``k of n
        claims pass``; ``data`` holds ``summary``, ``claims`` (each
        :meth:`ClaimResult.to_dict`) and ``meta``.
    """
    if isinstance(results, Mapping):
        flat = [r for rs in results.values() for r in rs]
    else:
        flat = list(results)
    checked = [r for r in flat if r.verdict != NOT_CHECKED]
    n_pass = sum(r.verdict == "pass" for r in checked)
    summary = {"pass": n_pass, "fail": len(checked) - n_pass,
               "not_checked": len(flat) - len(checked), "checked": len(checked),
               "total": len(flat)}
    line = f"{n_pass} of {len(checked)} claims pass"
    if summary["not_checked"]:
        line += f" ({summary['not_checked']} not checked at this scale)"
    lines = [f"# {title}", ""]
    for key, value in (meta or {}).items():
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append(f"* {key}: {value}")
    if meta:
        lines.append("")
    lines += [f"**{line}.**", ""]
    by_exp: dict[str, list[ClaimResult]] = {}
    for r in flat:
        by_exp.setdefault(r.experiment, []).append(r)
    for name, rs in by_exp.items():
        k = sum(r.verdict == "pass" for r in rs)
        n = sum(r.verdict != NOT_CHECKED for r in rs)
        lines += [f"## {name or 'experiment'} ({k} of {n} pass)", "",
                  "| claim | env | t | measured [95% CI] | target | verdict | detail |",
                  "|---|---|---|---|---|---|---|"]
        for r in rs:
            measured = ("–" if r.verdict == NOT_CHECKED
                        else _ci_text(r.estimate, r.ci_low, r.ci_high))
            verdict = {"pass": "pass", "fail": "**FAIL**"}.get(r.verdict, r.verdict)
            claim = f"`{r.id}`: {r.text} ({r.source})"
            lines.append(
                f"| {_md(claim)} | {_md(r.env or '–')} | {'' if r.t is None else r.t} | "
                f"{measured} | {_md(r.target)} | {verdict} | {_md(r.detail)} |")
        lines.append("")
    lines.append(
        "Measured: the claim's estimate (ordering: the smallest gap between neighbours, "
        "positive in the claimed direction; ratio: ratio of means; slope: log-log slope; "
        f"bound: mean) with a 95% percentile bootstrap CI over seeds ({N_BOOT} resamples).")
    data = {"summary": summary, "summary_line": line, "claims": [r.to_dict() for r in flat],
            "meta": dict(meta or {})}
    return "\n".join(lines) + "\n", data
