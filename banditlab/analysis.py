"""Analysis: pure functions over the tidy results frame.

The frame has the columns ``task_id, run_id, env_id, env_label, agent_id, agent_label,
seed_index, t, metric, value`` (see :mod:`banditlab.results`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from banditlab.core import BanditlabError

__all__ = [
    "EnvInfo",
    "env_info",
    "primary_metric",
    "panel_metrics",
    "default_metric",
    "summarise",
    "final_table",
    "fit_slope",
    "regret_vs",
    "bootstrap_ci",
]


@dataclass(frozen=True)
class EnvInfo:
    """What plots need to know about the env of a results panel.

    Attributes:
        run_kind: ``"continuing"`` (t counts rounds) or ``"episodic"`` (t counts
            episodes), as recorded in the results; ``""`` when unknown.
        primary_kind: The oracle's ``primary_kind`` (``None`` when it has none or the
            env could not be built).
        kinds: The oracle's regret kinds that have a curve (not ``paired``), in the order
            it declares them.
        built: ``False`` when the env could not be rebuilt from its id and kwargs (e.g.
            a plugin that is not imported); then only ``run_kind`` is known.
    """

    run_kind: str = ""
    primary_kind: str | None = None
    kinds: tuple[str, ...] = ()
    built: bool = False


def env_info(results) -> dict[str, EnvInfo]:
    """:class:`EnvInfo` of every env label of a :class:`~banditlab.results.Results`.

    The run kind comes from the task metadata; the regret kinds from the env's oracle,
    rebuilt once per env label from the recorded id and kwargs (nothing is run).
    """
    from banditlab.registry import make_env

    out: dict[str, EnvInfo] = {}
    for e in results.entries.values():
        label = e.get("env_label", e["env_id"])
        if label in out:
            continue
        run_kind = str(e.get("run_kind") or "")
        try:
            env = make_env(e["env_id"], **dict(e.get("env_kwargs") or {}))
        except Exception:  # noqa: BLE001 - unknown or unimportable env: only the run kind
            out[label] = EnvInfo(run_kind)
            continue
        oracle = getattr(env, "oracle", None)
        kinds = tuple(k for k, v in dict(getattr(oracle, "regret_kinds", {}) or {}).items()
                      if not getattr(v, "paired", False))
        out[label] = EnvInfo(run_kind or str(getattr(env, "run_kind", "")),
                             getattr(oracle, "primary_kind", None), kinds, True)
        env.close()
    return out


def primary_metric(info: EnvInfo | None, metrics) -> str | None:
    """The default metric of one env: ``pseudo_regret/<primary kind>``.

    Falls back to the first declared kind with a curve, then (env unknown) to the first
    pseudo-regret, realised regret or reward metric present. ``None`` if none is present.
    """
    metrics = set(metrics)
    if info is not None:
        for kind in ([info.primary_kind] if info.primary_kind else []) + list(info.kinds):
            if f"pseudo_regret/{kind}" in metrics:
                return f"pseudo_regret/{kind}"
    for prefix in ("pseudo_regret/", "regret/"):
        for m in sorted(metrics):
            if m.startswith(prefix):
                return m
    return "reward" if "reward" in metrics else None


def panel_metrics(
    df: pd.DataFrame,
    env_infos: dict[str, EnvInfo] | None = None,
    metric: str | None = None,
    kind: str | None = None,
) -> dict[str, tuple[str | None, str | None]]:
    """The metric of each env's panel and, when the env lacks it, a note saying so.

    Args:
        df: Tidy frame.
        env_infos: :func:`env_info` of the results (default: nothing known).
        metric: A metric for every panel (e.g. ``"regret/static"``).
        kind: A regret kind for every panel, plotted as ``pseudo_regret/<kind>``.

    Returns:
        ``{env_label: (metric, note)}``; ``note`` is ``None`` when the panel has data.
    """
    if metric is not None and kind is not None:
        raise BanditlabError("metric: give a metric or a kind, not both")
    wanted = metric if metric is not None else (f"pseudo_regret/{kind}" if kind else None)
    out = {}
    for env, g in df.groupby("env_label", sort=True):
        present = set(g["metric"].unique())
        info = (env_infos or {}).get(env)
        m = wanted if wanted is not None else primary_metric(info, present)
        if m is not None and m in present:
            out[env] = (m, None)
            continue
        regrets = sorted(x for x in present if "regret/" in x)
        has = ", ".join(regrets) or ", ".join(sorted(present)) or "no metrics"
        what = m or "regret metric"
        out[env] = (m, f"no {what} for this env (has: {has})")
    return out


def default_metric(df: pd.DataFrame, env_infos: dict[str, EnvInfo] | None = None) -> str:
    """One metric for the whole frame.

    With ``env_infos`` (see :func:`env_info`) it is the envs' primary
    ``pseudo_regret/<kind>`` when all envs of the frame share it. Otherwise (and without
    ``env_infos``) the first pseudo-regret metric in alphabetical order, else realised
    regret, else reward. Plots choose per env instead (:func:`panel_metrics`).
    """
    if env_infos:
        chosen = {m for m, note in panel_metrics(df, env_infos).values() if note is None}
        if len(chosen) == 1:
            return chosen.pop()
    metrics = sorted(df["metric"].unique())
    for prefix in ("pseudo_regret/", "regret/"):
        for m in metrics:
            if m.startswith(prefix):
                return m
    if "reward" in metrics:
        return "reward"
    raise BanditlabError("metric: the frame holds no metric")


def _check_metric(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    sub = df[df["metric"] == metric]
    if sub.empty:
        available = ", ".join(sorted(df["metric"].unique()))
        raise BanditlabError(f"metric: {metric!r} is not in the results (available: {available})")
    return sub


def bootstrap_ci(
    values: np.ndarray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``values`` (float64[n]).

    Uses its own ``Generator`` seeded with ``seed``, so bands are reproducible.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        v = float(values.mean()) if values.size else np.nan
        return v, v
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    means = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def summarise(
    df: pd.DataFrame,
    metric: str,
    *,
    band: str = "se",
    by: tuple[str, ...] = ("env_label", "agent_label"),
) -> pd.DataFrame:
    """Mean curve and band of ``metric`` per (env, agent) at every checkpoint.

    Args:
        df: Tidy frame.
        metric: Metric name, e.g. ``"pseudo_regret/stochastic"``.
        band: ``"se"`` (mean ± 1.96 standard errors), ``"boot95"`` (bootstrap 95% CI of
            the mean), ``"quantile"`` (10%–90% of runs) or ``"none"``.
        by: Grouping columns.

    Returns:
        Columns ``*by, t, mean, low, high, n``.
    """
    if band not in ("se", "boot95", "quantile", "none"):
        raise BanditlabError(f"band: expected se, boot95, quantile or none, got {band!r}")
    sub = _check_metric(df, metric)
    rows = []
    for key, g in sub.groupby([*by, "t"], sort=True):
        v = g["value"].to_numpy()
        mean = float(v.mean())
        if band == "se":
            half = 1.96 * float(v.std(ddof=1)) / np.sqrt(v.size) if v.size > 1 else 0.0
            low, high = mean - half, mean + half
        elif band == "boot95":
            low, high = bootstrap_ci(v)
        elif band == "quantile":
            low, high = float(np.quantile(v, 0.1)), float(np.quantile(v, 0.9))
        else:
            low = high = mean
        rows.append((*key, mean, low, high, v.size))
    return pd.DataFrame(rows, columns=[*by, "t", "mean", "low", "high", "n"])


def final_table(df: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """Final value of ``metric`` per (env, agent): mean, standard error, n."""
    metric = metric or default_metric(df)
    sub = _check_metric(df, metric)
    last = sub[sub["t"] == sub.groupby("task_id")["t"].transform("max")]
    out = last.groupby(["env_label", "agent_label"])["value"].agg(["mean", "std", "count"])
    out["se"] = out["std"] / np.sqrt(out["count"])
    return out.drop(columns="std").rename(columns={"count": "n"}).reset_index()


def fit_slope(
    df: pd.DataFrame, metric: str | None = None, *, t_min: int | None = None,
    by: tuple[str, ...] = ("env_label", "agent_label"),
) -> pd.DataFrame:
    """Log-log slope of the mean ``metric`` curve against ``t``, per group.

    A slope near 1 is linear regret, 0.5 is sqrt(t), near 0 is logarithmic. The
    fit uses checkpoints with ``t >= t_min`` (default: the last decade of the run)
    and positive mean values; a 95% CI comes from a bootstrap over runs.

    Returns:
        Columns ``*by, slope, low, high``.
    """
    metric = metric or default_metric(df)
    sub = _check_metric(df, metric)
    rows = []
    for key, g in sub.groupby(list(by)):
        t_max = g["t"].max()
        lo_t = t_min if t_min is not None else max(1, t_max // 10)
        g = g[g["t"] >= lo_t]
        wide = g.pivot_table(index="task_id", columns="t", values="value")
        ts = wide.columns.to_numpy(dtype=np.float64)

        def slope_of(mat: np.ndarray, ts: np.ndarray = ts) -> float:
            m = mat.mean(axis=0)
            ok = m > 0
            if ok.sum() < 2:
                return np.nan
            return float(np.polyfit(np.log(ts[ok]), np.log(m[ok]), 1)[0])

        mat = wide.to_numpy()
        s = slope_of(mat)
        rng = np.random.default_rng(0)
        boots = [slope_of(mat[rng.integers(0, mat.shape[0], mat.shape[0])]) for _ in range(200)]
        boots = np.array([b for b in boots if np.isfinite(b)])
        low, high = (np.quantile(boots, [0.025, 0.975]) if boots.size else (np.nan, np.nan))
        rows.append((*(key if isinstance(key, tuple) else (key,)), s, float(low), float(high)))
    return pd.DataFrame(rows, columns=[*by, "slope", "low", "high"])


def regret_vs(df: pd.DataFrame, benchmark_label: str, *, metric: str = "reward") -> pd.DataFrame:
    """``benchmark/<name>`` regret: the benchmark agent's cumulative reward minus each agent's.

    Pairs runs on ``(env_label, seed_index, t)``: under common random numbers both
    agents faced the same env noise, so the paired difference has low variance.

    Args:
        df: Tidy frame containing the benchmark agent's runs.
        benchmark_label: ``agent_label`` of the benchmark (e.g. ``"oracle:greedy"``).
        metric: ``"reward"`` (realised) or ``"expected_reward"`` (pseudo).

    Returns:
        A tidy frame of the other agents with metric ``benchmark/<label>`` (realised)
        or ``pseudo_benchmark/<label>`` (expected).
    """
    sub = _check_metric(df, metric)
    bench = sub[sub["agent_label"] == benchmark_label]
    if bench.empty:
        raise BanditlabError(f"benchmark_label: no runs labelled {benchmark_label!r}")
    bench = bench[["env_label", "seed_index", "t", "value"]].rename(columns={"value": "bench"})
    others = sub[sub["agent_label"] != benchmark_label]
    merged = others.merge(bench, on=["env_label", "seed_index", "t"], how="inner")
    merged["value"] = merged["bench"] - merged["value"]
    prefix = "benchmark" if metric == "reward" else "pseudo_benchmark"
    merged["metric"] = f"{prefix}/{benchmark_label}"
    return merged.drop(columns="bench")
