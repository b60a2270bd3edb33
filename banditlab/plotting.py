"""Plots of regret curves and sweeps (matplotlib only), as pure functions of the tidy frame."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from banditlab.analysis import default_metric, summarise
from banditlab.core import BanditlabError

__all__ = ["plot_regret", "plot_experiment", "plot_sweep", "plot_sweep_results", "sweep_values",
           "save_figure"]

_BAND_LABEL = {
    "se": "mean ± 1.96 s.e.",
    "boot95": "mean, 95% bootstrap CI",
    "quantile": "mean, 10–90% of runs",
    "none": "mean",
}
_VIEWS = ("cum", "per_round", "over_log_t", "over_sqrt_t")


def _use_agg() -> None:
    import matplotlib

    if os.environ.get("DISPLAY") is None and matplotlib.get_backend().lower() not in (
        "agg", "module://matplotlib_inline.backend_inline"
    ):
        matplotlib.use("Agg")


def plot_regret(
    df: pd.DataFrame,
    metric: str | None = None,
    *,
    env: str | None = None,
    view: str = "cum",
    band: str = "se",
    logx: bool = False,
    logy: bool = False,
    symlog: bool = False,
    ax=None,
):
    """Cumulative ``metric`` against ``t``: one line per agent with a labelled band.

    Args:
        df: Tidy results frame.
        metric: Metric to draw (default: the first pseudo-regret metric).
        env: The ``env_label`` to draw (required when the frame holds several envs).
        view: ``"cum"``, ``"per_round"`` (divided by t), ``"over_log_t"`` or
            ``"over_sqrt_t"``.
        band: ``"se"``, ``"boot95"``, ``"quantile"`` or ``"none"``.
        logx: Log-scaled t axis.
        logy: Log-scaled value axis (values <= 0 are dropped by matplotlib).
        symlog: Symmetric-log value axis, for regret that can be negative.
        ax: Matplotlib axes (created if omitted).

    Returns:
        The axes.
    """
    _use_agg()
    import matplotlib.pyplot as plt

    if view not in _VIEWS:
        raise BanditlabError(f"view: expected one of {', '.join(_VIEWS)}, got {view!r}")
    metric = metric or default_metric(df)
    envs = sorted(df["env_label"].unique())
    if env is None:
        if len(envs) != 1:
            raise BanditlabError(f"env: the frame holds {len(envs)} envs; pick one of {envs}")
        env = envs[0]
    sub = df[df["env_label"] == env]
    if sub.empty:
        raise BanditlabError(f"env: {env!r} is not in the results (have: {envs})")
    summary = summarise(sub, metric, band=band)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, g in summary.groupby("agent_label", sort=True):
        t = g["t"].to_numpy(dtype=np.float64)
        scale = {
            "cum": np.ones_like(t),
            "per_round": t,
            "over_log_t": np.log(np.maximum(t, 2.0)),
            "over_sqrt_t": np.sqrt(t),
        }[view]
        mean, low, high = (g[c].to_numpy() / scale for c in ("mean", "low", "high"))
        style = "--" if str(label).startswith("oracle:") else "-"
        (line,) = ax.plot(t, mean, style, label=f"{label} (n={int(g['n'].max())})")
        if band != "none":
            ax.fill_between(t, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ylabel = {"cum": metric, "per_round": f"{metric} / t", "over_log_t": f"{metric} / log t",
              "over_sqrt_t": f"{metric} / √t"}[view]
    ax.set_xlabel("t (rounds)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{env} — {_BAND_LABEL[band]}", fontsize=9)
    if logx:
        ax.set_xscale("log")
    if symlog:
        ax.set_yscale("symlog", linthresh=1.0)
    elif logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_experiment(
    df: pd.DataFrame,
    metric: str | None = None,
    *,
    band: str = "se",
    logx: bool = False,
    symlog: bool = False,
    view: str = "cum",
):
    """One panel per env of :func:`plot_regret`; returns the figure."""
    _use_agg()
    import matplotlib.pyplot as plt

    metric = metric or default_metric(df)
    envs = sorted(df[df["metric"] == metric]["env_label"].unique())
    if not envs:
        raise BanditlabError(f"metric: {metric!r} is not in the results")
    n = len(envs)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 4 * nrows), squeeze=False)
    for ax, env in zip(axes.flat, envs, strict=False):
        plot_regret(df, metric, env=env, band=band, logx=logx, symlog=symlog, ax=ax,
                    view=view)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_sweep(
    df: pd.DataFrame,
    param_values: dict[str, float],
    metric: str | None = None,
    *,
    param_name: str = "parameter",
    band: str = "se",
    logx: bool = False,
    ax=None,
):
    """Final ``metric`` against a swept parameter, with a band over runs.

    Args:
        df: Tidy frame.
        param_values: Maps each ``agent_label`` (or ``env_label``) of the sweep to its
            parameter value.
        metric: Metric (default: first pseudo-regret metric).
        param_name: Axis label.
        band: ``"se"`` or ``"boot95"``.
        logx: Log-scaled parameter axis.
        ax: Axes.
    """
    _use_agg()
    import matplotlib.pyplot as plt

    from banditlab.analysis import bootstrap_ci

    metric = metric or default_metric(df)
    sub = df[df["metric"] == metric]
    last = sub[sub["t"] == sub.groupby("task_id")["t"].transform("max")]
    key = "agent_label" if set(param_values) & set(last["agent_label"]) else "env_label"
    rows = []
    for name, value in param_values.items():
        v = last[last[key] == name]["value"].to_numpy()
        if v.size == 0:
            raise BanditlabError(f"param_values: no runs for {name!r}")
        if band == "boot95":
            lo, hi = bootstrap_ci(v)
        else:
            half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
            lo, hi = v.mean() - half, v.mean() + half
        rows.append((value, v.mean(), lo, hi))
    rows.sort()
    x, m, lo, hi = map(np.array, zip(*rows, strict=True))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, m, "o-")
    ax.fill_between(x, lo, hi, alpha=0.2, label=_BAND_LABEL.get(band, band))
    ax.set_xlabel(param_name)
    ax.set_ylabel(f"final {metric}")
    if logx:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def sweep_values(results, param: str) -> tuple[dict[str, float], str]:
    """Value of a swept parameter for every agent label (or env id) of a results set.

    Args:
        results: A :class:`~banditlab.results.Results`.
        param: Name of an agent hyperparameter or env constructor argument.

    Returns:
        ``(values, key)`` where ``key`` is ``"agent_label"`` or ``"env_label"``.

    Raises:
        BanditlabError: When no run has a numeric value for ``param``.
    """
    import json

    runs = results.runs_frame()
    for column, key in (("agent_params", "agent_label"), ("env_kwargs", "env_label")):
        values = {}
        for _, row in runs.iterrows():
            params = json.loads(row[column])
            if param in params and isinstance(params[param], (int, float)):
                values[row[key]] = float(params[param])
        if len(set(values.values())) >= 2:
            return values, key
    raise BanditlabError(f"sweep: no agent or env parameter {param!r} takes two or more values")


def plot_sweep_results(results_dir, param: str, metric: str | None = None, *, band: str = "se",
                       logx: bool = False):
    """Figure of final ``metric`` against a swept parameter, one panel per env."""
    _use_agg()
    import matplotlib.pyplot as plt

    from banditlab.results import load_results

    results = load_results(results_dir)
    values, key = sweep_values(results, param)
    df = results.to_frame()
    if key == "agent_label":
        envs = sorted(df["env_label"].unique())
        fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
        for ax, env in zip(axes.flat, envs, strict=True):
            sub = df[df["env_label"] == env]
            present = {k: v for k, v in values.items() if k in set(sub["agent_label"])}
            plot_sweep(sub, present, metric, param_name=param, band=band, logx=logx, ax=ax)
            ax.set_title(env, fontsize=9)
    else:
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_sweep(df, values, metric, param_name=param, band=band, logx=logx, ax=ax)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | os.PathLike, formats: Sequence[str] = ()) -> list[str]:
    """Save ``fig`` to ``path`` (format from its suffix: png, svg or pdf) and extra formats."""
    base, ext = os.path.splitext(str(path))
    ext = ext.lstrip(".").lower() or "png"
    out = []
    for fmt in dict.fromkeys([ext, *formats]):
        if fmt not in ("png", "svg", "pdf"):
            raise BanditlabError(f"format: expected png, svg or pdf, got {fmt!r}")
        target = f"{base}.{fmt}"
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        fig.savefig(target, dpi=150, bbox_inches="tight")
        out.append(target)
    return out
