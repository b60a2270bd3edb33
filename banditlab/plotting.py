"""Plots of regret curves and sweeps (matplotlib only), as pure functions of the tidy frame.

Figures are meant to be published as they come out:

* the default metric of each panel is its env's primary regret kind
  (``pseudo_regret/<oracle.primary_kind>``, else the first kind the oracle declares), so
  an experiment mixing envs shows each with its own comparator; an experiment file's
  ``[plot]`` table or ``--metric`` / ``--kind`` choose one metric for every panel, and a
  panel whose env lacks it says so instead of disappearing;
* axes are labelled in words ("expected regret (pseudo-regret) against the best arm",
  "rounds" or "episodes" by the env's run kind), the legend sits outside the panels and
  long grid-env titles are shortened and wrapped.

:func:`plot_results` does all of this for a results directory; :func:`plot_experiment`
and :func:`plot_regret` work on a tidy frame (pass ``env_infos`` from
:func:`banditlab.analysis.env_info` to get per-env defaults and run kinds).
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from banditlab.analysis import EnvInfo, default_metric, env_info, panel_metrics, summarise
from banditlab.core import BanditlabError

__all__ = ["plot_regret", "plot_experiment", "plot_results", "plot_sweep", "plot_sweep_results",
           "sweep_values", "save_figure", "metric_label", "comparator_name"]

_BAND_LABEL = {
    "se": "mean ± 1.96 s.e.",
    "boot95": "mean, 95% bootstrap CI",
    "quantile": "mean, 10–90% of runs",
    "none": "mean",
}
_VIEWS = ("cum", "per_round", "over_log_t", "over_sqrt_t")
_VIEW_SUFFIX = {"cum": "", "per_round": " / t", "over_log_t": " / log t", "over_sqrt_t": " / √t"}

#: Short names of the comparators of the regret-kind vocabulary (axis labels).
_COMPARATORS = {
    "stochastic": "the best arm",
    "static": "the best fixed action in hindsight",
    "dynamic": "the best action of each round",
    "dynamic/young": "Young's ω* of each system",
    "gain": "t·J* (the optimal gain)",
    "alpha/opt": "α·OPT (exact optimum)",
    "alpha/lp": "α·t·LP (LP upper bound)",
    "fixed_budget": "the oracle that knows the answer",
}
_WORDS = {
    "reward": "cumulative reward",
    "expected_reward": "cumulative expected reward",
    "loss": "cumulative loss",
    "wall_time_s": "wall time (s)",
}


def _use_agg() -> None:
    import matplotlib

    if os.environ.get("DISPLAY") is None and matplotlib.get_backend().lower() not in (
        "agg", "module://matplotlib_inline.backend_inline"
    ):
        matplotlib.use("Agg")


def comparator_name(kind: str) -> str:
    """Words for the comparator of a regret kind (``"static"`` -> "the best fixed action ...")."""
    if kind in _COMPARATORS:
        return _COMPARATORS[kind]
    head, _, rest = kind.partition("/")
    if head == "benchmark":
        return f"the {rest.replace('_', ' ')} benchmark policy (same seed)"
    if head == "alpha":
        return f"α·{rest}"
    if head == "dynamic":
        return f"the per-round comparator ({rest})"
    return kind


def metric_label(metric: str, view: str = "cum", width: int = 44) -> str:
    """Human-readable (wrapped) axis label of a metric under a view.

    ``pseudo_regret/<kind>`` reads "expected regret (pseudo-regret) against <comparator>",
    ``regret/<kind>`` "realised regret against <comparator>"; views divide by t, log t or √t.
    """
    head, _, rest = metric.partition("/")
    if head == "pseudo_regret":
        text = f"expected regret (pseudo-regret) against {comparator_name(rest)}"
    elif head == "regret":
        text = f"realised regret against {comparator_name(rest)}"
    elif head == "pseudo_benchmark":
        text = f"expected regret against {rest}"
    elif head == "benchmark":
        text = f"realised regret against {rest}"
    elif head == "agent" and rest:
        text = f"{rest.replace('_', ' ')} (agent diagnostic)"
    else:
        text = _WORDS.get(metric, f"cumulative {metric.replace('_', ' ')}")
    return "\n".join(textwrap.wrap(text + _VIEW_SUFFIX[view], width)) or metric


def _t_label(run_kind: str | None) -> str:
    return "episodes" if run_kind == "episodic" else "rounds"


def _short_title(env: str, width: int = 46, max_lines: int = 3) -> str:
    """Env label without the ``banditlab/`` prefix, grid values spaced, wrapped to fit."""
    text = re.sub(r"(?<=\S)\(", " (", re.sub(r",(?=\S)", ", ", env.removeprefix("banditlab/")))
    lines = textwrap.wrap(text, width, break_long_words=True)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def _styles(df: pd.DataFrame) -> dict[str, dict]:
    """One colour and line style per agent label, the same in every panel."""
    import matplotlib

    pairs = df[["agent_label", "agent_id"]].drop_duplicates("agent_label")
    labels = sorted(pairs["agent_label"])
    oracle = set(pairs[pairs["agent_id"].astype(str).str.startswith("oracle:")]["agent_label"])
    if len(labels) <= 10:
        colors = [matplotlib.colormaps["tab10"](i) for i in range(10)]
    else:  # the dark half of tab20 first, so neighbours in the legend differ in hue
        tab20 = matplotlib.colormaps["tab20"]
        colors = [tab20(i) for i in range(0, 20, 2)] + [tab20(i) for i in range(1, 20, 2)]
    dashes = ("-", "--", ":", "-.")
    out = {}
    for i, label in enumerate(labels):
        style = dashes[(i // len(colors)) % len(dashes)]
        if label in oracle or str(label).startswith("oracle:"):
            style = "--" if style == "-" else style
        out[label] = {"color": colors[i % len(colors)], "linestyle": style}
    return out


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 40)), ha="center", va="center",
            transform=ax.transAxes, fontsize=8, color="0.3")
    ax.set_xticks([])
    ax.set_yticks([])


def _draw(ax, sub: pd.DataFrame, metric: str, *, view: str, band: str,
          styles: Mapping[str, dict], with_n: bool) -> tuple[int, int]:
    """Draw every agent's mean curve and band; returns the (min, max) runs per agent."""
    summary = summarise(sub, metric, band=band)
    ns = []
    for label, g in summary.groupby("agent_label", sort=True):
        t = g["t"].to_numpy(dtype=np.float64)
        scale = {
            "cum": np.ones_like(t),
            "per_round": t,
            "over_log_t": np.log(np.maximum(t, 2.0)),
            "over_sqrt_t": np.sqrt(t),
        }[view]
        mean, low, high = (g[c].to_numpy() / scale for c in ("mean", "low", "high"))
        n = int(g["n"].max())
        ns.append(n)
        style = styles.get(label, {})
        (line,) = ax.plot(t, mean, label=f"{label} (n={n})" if with_n else str(label),
                          linewidth=1.4, **style)
        if band != "none":
            ax.fill_between(t, low, high, color=line.get_color(), alpha=0.18, linewidth=0)
    return (min(ns), max(ns)) if ns else (0, 0)


def _axes_scales(ax, logx: bool, logy: bool, symlog: bool) -> None:
    if logx:
        ax.set_xscale("log")
    if symlog:
        ax.set_yscale("symlog", linthresh=1.0)
    elif logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)


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
    env_infos: Mapping[str, EnvInfo] | None = None,
    kind: str | None = None,
    legend: bool = True,
):
    """Cumulative ``metric`` against ``t`` on one env: one line per agent with a band.

    Args:
        df: Tidy results frame.
        metric: Metric to draw (default: the env's primary regret kind, see
            :func:`banditlab.analysis.panel_metrics`).
        env: The ``env_label`` to draw (required when the frame holds several envs).
        view: ``"cum"``, ``"per_round"`` (divided by t), ``"over_log_t"`` or
            ``"over_sqrt_t"``.
        band: ``"se"``, ``"boot95"``, ``"quantile"`` or ``"none"``.
        logx: Log-scaled t axis.
        logy: Log-scaled value axis (values <= 0 are dropped by matplotlib).
        symlog: Symmetric-log value axis, for regret that can be negative.
        ax: Matplotlib axes (created if omitted).
        env_infos: :func:`banditlab.analysis.env_info` of the results: primary kinds
            and run kinds ("rounds" or "episodes").
        kind: A regret kind, drawn as ``pseudo_regret/<kind>`` (instead of ``metric``).
        legend: Draw the legend (outside the axes, on the right).

    Returns:
        The axes. When the env has no curve of the metric the panel says so.
    """
    _use_agg()
    import matplotlib.pyplot as plt

    if view not in _VIEWS:
        raise BanditlabError(f"view: expected one of {', '.join(_VIEWS)}, got {view!r}")
    if band not in _BAND_LABEL:
        raise BanditlabError(f"band: expected se, boot95, quantile or none, got {band!r}")
    envs = sorted(df["env_label"].unique())
    if env is None:
        if len(envs) != 1:
            raise BanditlabError(f"env: the frame holds {len(envs)} envs; pick one of {envs}")
        env = envs[0]
    sub = df[df["env_label"] == env]
    if sub.empty:
        raise BanditlabError(f"env: {env!r} is not in the results (have: {envs})")
    (metric, note), = panel_metrics(sub, env_infos, metric, kind).values()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    info = (env_infos or {}).get(env)
    ax.set_title(_short_title(env), fontsize=9)
    if note is not None:
        _note(ax, note)
        return ax
    _draw(ax, sub, metric, view=view, band=band, styles=_styles(sub), with_n=True)
    ax.set_xlabel(_t_label(info.run_kind if info else None))
    ax.set_ylabel(metric_label(metric, view), fontsize=9)
    _axes_scales(ax, logx, logy, symlog)
    if legend:
        ax.legend(fontsize=8, title=_BAND_LABEL[band], title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    return ax


def _layout(n: int) -> tuple[int, int, tuple[float, float]]:
    if n <= 3:
        ncols, size = n, (5.4, 3.8)
    elif n <= 9:
        ncols, size = 3, (4.8, 3.4)
    elif n <= 24:
        ncols, size = 4, (4.2, 3.1)
    else:
        ncols, size = 6, (3.6, 2.8)
    return ncols, -(-n // ncols), size


def plot_experiment(
    df: pd.DataFrame,
    metric: str | None = None,
    *,
    kind: str | None = None,
    band: str = "se",
    logx: bool = False,
    symlog: bool = False,
    view: str = "cum",
    env_infos: Mapping[str, EnvInfo] | None = None,
):
    """One panel per env (every env of the frame) and one legend outside the panels.

    Args:
        df: Tidy results frame.
        metric: One metric for every panel (default: each env's primary regret kind).
        kind: One regret kind for every panel (``pseudo_regret/<kind>``).
        band: Band of :func:`banditlab.analysis.summarise`.
        logx: Log-scaled t axes.
        symlog: Symmetric-log value axes.
        view: ``"cum"``, ``"per_round"``, ``"over_log_t"`` or ``"over_sqrt_t"``.
        env_infos: :func:`banditlab.analysis.env_info` of the results.

    Returns:
        The figure. A panel whose env lacks the chosen metric says so.
    """
    _use_agg()
    import matplotlib.pyplot as plt

    if view not in _VIEWS:
        raise BanditlabError(f"view: expected one of {', '.join(_VIEWS)}, got {view!r}")
    if band not in _BAND_LABEL:
        raise BanditlabError(f"band: expected se, boot95, quantile or none, got {band!r}")
    if df.empty:
        raise BanditlabError("results: the frame holds no curves")
    panels = panel_metrics(df, env_infos, metric, kind)
    if all(note is not None for _, note in panels.values()):
        wanted = metric or (f"pseudo_regret/{kind}" if kind else "a regret metric")
        available = ", ".join(sorted(df["metric"].unique()))
        raise BanditlabError(f"metric: no env has {wanted} (available: {available})")
    styles = _styles(df)
    n = len(panels)
    ncols, nrows, (w, h) = _layout(n)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False)
    shared = len({m for m, _ in panels.values()}) == 1 and n > ncols
    for k, (ax, (env, (m, note))) in enumerate(zip(axes.flat, panels.items(), strict=False)):
        sub = df[df["env_label"] == env]
        info = (env_infos or {}).get(env)
        if note is not None:
            ax.set_title(_short_title(env), fontsize=9)
            _note(ax, note)
            continue
        lo, hi = _draw(ax, sub, m, view=view, band=band, styles=styles, with_n=False)
        runs = (f"n = {lo}" if lo == hi else f"n = {lo}–{hi}") + (" run" if hi == 1 else " runs")
        ax.set_title(f"{_short_title(env)}\n({runs} per agent)", fontsize=9)
        ax.set_xlabel(_t_label(info.run_kind if info else None), fontsize=9)
        if not shared or k % ncols == 0:  # one label per row when every panel shares it
            ax.set_ylabel(metric_label(m, view, width=40 if n <= 3 else 34), fontsize=8.5)
        ax.tick_params(labelsize=8)
        _axes_scales(ax, logx, False, symlog)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    handles = {}
    for ax in axes.flat:
        for hnd, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, hnd)
    if handles:
        labels = sorted(handles)
        fig.legend([handles[k] for k in labels], labels, loc="upper left",
                   bbox_to_anchor=(1.0, 0.99), fontsize=8, title=_BAND_LABEL[band],
                   title_fontsize=8, frameon=False)
    return fig


def plot_results(
    results,
    metric: str | None = None,
    *,
    kind: str | None = None,
    band: str = "se",
    logx: bool = False,
    symlog: bool = False,
    view: str = "cum",
):
    """:func:`plot_experiment` of a results directory (or :class:`~banditlab.results.Results`).

    Each env's primary regret kind and run kind are read from the results (the env is
    rebuilt from its recorded id and kwargs; nothing runs).
    """
    from banditlab.results import Results, load_results

    if not isinstance(results, Results):
        results = load_results(results)
    if len(results) == 0:
        raise BanditlabError(f"results: no committed results in {str(results.root)!r}")
    return plot_experiment(results.to_frame(), metric, kind=kind, band=band, logx=logx,
                           symlog=symlog, view=view, env_infos=env_info(results))


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
        metric: Metric (default: :func:`banditlab.analysis.default_metric`).
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
    ax.set_ylabel("final " + metric_label(metric, width=38), fontsize=9)
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
                       logx: bool = False, kind: str | None = None):
    """Figure of final ``metric`` against a swept parameter, one panel per env.

    The default metric of each panel is its env's primary regret kind.
    """
    _use_agg()
    import matplotlib.pyplot as plt

    from banditlab.results import load_results

    results = load_results(results_dir)
    values, key = sweep_values(results, param)
    df = results.to_frame()
    infos = env_info(results)
    if key == "agent_label":
        panels = panel_metrics(df, infos, metric, kind)
        fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 3.8),
                                 squeeze=False)
        for ax, (env, (m, note)) in zip(axes.flat, panels.items(), strict=True):
            ax.set_title(_short_title(env), fontsize=9)
            if note is not None:
                _note(ax, note)
                continue
            sub = df[df["env_label"] == env]
            present = {k: v for k, v in values.items() if k in set(sub["agent_label"])}
            plot_sweep(sub, present, m, param_name=param, band=band, logx=logx, ax=ax)
            ax.set_title(_short_title(env), fontsize=9)
    else:
        if metric is None and kind is not None:
            metric = f"pseudo_regret/{kind}"
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_sweep(df, values, metric or default_metric(df, infos), param_name=param,
                   band=band, logx=logx, ax=ax)
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
