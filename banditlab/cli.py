"""The ``banditlab`` command line.

Commands: ``run``, ``reproduce``, ``plot``, ``list``, ``validate``, ``check``, ``rerun``,
``bench``. Heavy
imports (Numba, Gymnasium, pandas) happen inside the commands, so
``banditlab --help`` answers immediately and compiles nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "experiments_markdown"]


def _resolve_experiment_path(name: str) -> Path:
    from banditlab.experiment import find_experiment

    return find_experiment(name)


def _cmd_run(args) -> int:
    from banditlab.experiment import load_experiment
    from banditlab.harness import run_experiment

    path = _resolve_experiment_path(args.experiment)
    exp = load_experiment(path, import_path=args.import_path, scale=args.scale,
                          n_seeds=args.n_seeds, run_length=args.run_length)
    out = Path(args.out) if args.out else _default_out(exp.name, args.scale, args.run_length)
    summary = run_experiment(
        exp, out, n_jobs=args.jobs, backend=args.backend, force=args.force,
        progress=not args.no_progress, scheduler=args.scheduler, new_run=args.new_run,
    )
    print(summary)
    out = summary.results_dir  # a run-<k> sub-directory with --new-run
    if not args.no_plot and summary.n_tasks - len(summary.errors) > 0:
        written = _plot(out, out / "regret.png", metric=args.metric, kind=args.kind,
                        defaults=exp.plot, logx=args.logx)
        print("plot: " + ", ".join(written))
    return 1 if summary.errors else 0


def _default_out(name: str, scale: str, run_length: int | None) -> Path:
    """``results/<name>``; a scale or run-length override gets its own directory."""
    suffix = "" if scale == "full" else f"-{scale}"
    if run_length is not None:
        suffix += f"-T{run_length}"
    return Path("results") / f"{name}{suffix}"


def _plot(results_dir, out, *, metric=None, kind=None, defaults=None, band="se", logx=False,
          symlog=False, view="cum", all_tasks=False) -> list[str]:
    """Plot a results directory; ``--metric``/``--kind`` win over the file's ``[plot]``."""
    from banditlab.core import BanditlabError
    from banditlab.plotting import plot_results, save_figure
    from banditlab.results import load_results

    results = load_results(results_dir, all_tasks=all_tasks)
    if len(results) == 0:
        raise BanditlabError(f"RESULTS: no committed results in {str(results_dir)!r}")
    defaults = dict(defaults or {})
    if metric is None and kind is None:
        metric, kind = defaults.get("metric"), defaults.get("kind")
    fig = plot_results(results, metric, kind=kind, band=band,
                       logx=logx or bool(defaults.get("logx")),
                       symlog=symlog or bool(defaults.get("symlog")), view=view)
    return save_figure(fig, out)


def _recorded_plot_defaults(results_dir) -> dict:
    """The ``[plot]`` table recorded with the directory's current experiment, if any."""
    try:
        from banditlab.results import ResultStore

        records = ResultStore(results_dir).experiments()
    except Exception:  # noqa: BLE001 - older directories record no experiments
        return {}
    return dict(records[-1].get("plot") or {}) if records else {}


def _cmd_plot(args) -> int:
    if args.sweep:
        from banditlab.plotting import plot_sweep_results, save_figure

        out = Path(args.out) if args.out else Path(args.results) / f"sweep_{args.sweep}.png"
        fig = plot_sweep_results(args.results, args.sweep, args.metric, band=args.band,
                                 logx=args.logx, kind=args.kind)
        print("plot: " + ", ".join(save_figure(fig, out)))
        return 0
    out = Path(args.out) if args.out else Path(args.results) / "regret.png"
    written = _plot(args.results, out, metric=args.metric, kind=args.kind,
                    defaults=_recorded_plot_defaults(args.results), band=args.band,
                    logx=args.logx, symlog=args.symlog, view=args.view, all_tasks=args.all)
    print("plot: " + ", ".join(written))
    return 0


def _cmd_list(args) -> int:
    if args.what == "experiments":
        print(experiments_markdown() if args.markdown else _experiments_text(), end="")
        return 0
    if args.markdown:
        from banditlab.catalogue import catalogue_markdown

        print(catalogue_markdown(), end="")
        return 0
    from banditlab.catalogue import catalogue_text

    print(catalogue_text(args.what, long=args.long), end="")
    return 0


def _bundled_experiments() -> list[Path]:
    from importlib import resources

    root = resources.files("banditlab.benchmarks")
    return sorted(Path(str(x)) for x in root.iterdir() if x.name.endswith(".toml"))


def _env_entry(env_id: str):
    """The registered constructor (class or factory) of an env id and its registered kwargs."""
    from banditlab.registry import env_spec, load_entry_point

    spec = env_spec(env_id)
    ep = spec.entry_point
    return (load_entry_point(ep) if isinstance(ep, str) else ep), dict(spec.kwargs or {})


def _size(data: dict) -> tuple[int, int, set[str]]:
    """Tasks, total rounds and env families of a parsed (scaled) file, without building envs.

    A task's rounds are the file's ``run_length``, else the env's ``horizon`` /
    ``n_episodes`` argument (from kwargs, grid or the constructor default).
    """
    import inspect
    import itertools

    def expand(entry):
        grid = entry.get("grid") or {}
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            yield {**(entry.get("kwargs") or {}), **dict(zip(keys, combo, strict=True))}

    n_agents = sum(1 for a in data.get("agents", []) for _ in expand(a))
    n_seeds = int(data.get("n_seeds", 5))
    tasks = rounds = 0
    families = set()
    from banditlab.catalogue import _env_family

    for e in data.get("envs", []):
        entry, registered = _env_entry(e["id"])
        families.add(_env_family(e["id"]))
        params = inspect.signature(entry).parameters
        for kwargs in expand(e):
            length = data.get("run_length")
            for name in ("horizon", "n_episodes"):
                if length is None and name in params:
                    length = kwargs.get(name, registered.get(name, params[name].default))
            tasks += n_agents * n_seeds
            rounds += n_agents * n_seeds * int(length or 0)
    return tasks, rounds, families


def _count(n: int) -> str:
    if n < 10_000:
        return f"{n:,}"
    mantissa, exponent = f"{n:.2g}".split("e+")
    return f"{mantissa}e{int(exponent)}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "<1 s"
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"~{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"~{seconds / 3600:.1f} h"
    return f"~{seconds / 86400:.0f} days"


EXPERIMENTS_START = "<!-- generated by `banditlab list experiments --markdown` -->"
_COST_NOTE = ("Times: estimated for one core as tasks x task_s + rounds / rounds_per_s from "
              "each file's [cost] table (measured once: every (env, agent) pair of the file, one "
              "seed, two run lengths, on a shared 2-core machine); divide by -j. Numba compiles "
              "about a second per (env, agent) pair and process on top.")


def _experiment_rows() -> list[dict]:
    """Name, families, description and (tasks, rounds, seconds) per scale of each shipped file."""
    return [_experiment_row(path) for path in _bundled_experiments()]


def _experiment_row(path: Path) -> dict:
    """The row of :func:`_experiment_rows` of one file."""
    import tomllib

    from banditlab.experiment import SCALES, apply_scale

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cost = data.get("cost") or {}
    sizes, families = {}, set()
    for scale in SCALES:
        if scale != "full" and scale not in (data.get("scales") or {}):
            continue
        tasks, rounds, fams = _size(apply_scale(data, scale, source=path.name))
        families |= fams
        seconds = None
        if "rounds_per_s" in cost:
            seconds = (tasks * float(cost.get("task_s", 0.0))
                       + rounds / float(cost["rounds_per_s"]))
        sizes[scale] = (tasks, rounds, seconds)
    return {"name": data.get("name", path.stem), "families": sorted(families),
            "description": data.get("description", ""), "sizes": sizes}


def _experiments_text() -> str:
    """``banditlab list experiments``: name, family, description, tasks and cost per scale."""
    lines = []
    for row in _experiment_rows():
        lines.append(f"{row['name']}  [{', '.join(row['families'])}]  {row['description']}")
        parts = []
        for scale, (tasks, rounds, seconds) in row["sizes"].items():
            text = f"{scale}: {tasks} tasks, {_count(rounds)} rounds"
            parts.append(text + ("" if seconds is None else f", {_duration(seconds)}"))
        lines.append("    " + " | ".join(parts))
    lines.append(_COST_NOTE + " Run one with: banditlab run NAME --scale smoke")
    return "\n".join(lines) + "\n"


def experiments_markdown() -> str:
    """The README table of shipped experiments (``banditlab list experiments --markdown``)."""
    out = [EXPERIMENTS_START, "",
           "| experiment | family | what | tasks: smoke / reduced / full | time: smoke / reduced / "
           "full |", "|---|---|---|---|---|"]
    for row in _experiment_rows():
        sizes = [row["sizes"].get(s) for s in ("smoke", "reduced", "full")]
        tasks = " / ".join("–" if x is None else str(x[0]) for x in sizes)
        times = " / ".join("–" if x is None or x[2] is None else _duration(x[2])
                           for x in sizes)
        out.append(f"| `{row['name']}` | {', '.join(row['families'])} | {row['description']} "
                   f"| {tasks} | {times} |")
    return "\n".join(out) + "\n"


def _papers_text() -> str:
    """``banditlab reproduce --list``: each paper, its experiments and cost per scale."""
    from banditlab.core import BanditlabError
    from banditlab.papers import PAPERS, paper_experiments

    lines = []
    for key, p in PAPERS.items():
        paths = paper_experiments(key)
        lines.append(f"{key}  [{p.family}]  {p.citation}")
        lines.append("    experiments: " + (", ".join(x.stem for x in paths) or "none yet"))
        rows = []
        for path in paths:
            try:
                rows.append(_experiment_row(path))
            except BanditlabError as exc:
                lines.append(f"    {path.stem}: no estimate ({exc})")
        parts = []
        for scale in ("smoke", "reduced", "full"):
            sizes = [row["sizes"].get(scale) for row in rows]
            if not sizes or any(s is None for s in sizes):
                continue
            tasks = sum(s[0] for s in sizes)
            seconds = (None if any(s[2] is None for s in sizes)
                       else sum(s[2] for s in sizes))
            parts.append(f"{scale}: {tasks} tasks" + ("" if seconds is None
                                                      else f", {_duration(seconds)}"))
        if parts:
            lines.append("    " + " | ".join(parts))
    lines.append(_COST_NOTE + " Reproduce one with: banditlab reproduce PAPER --scale smoke")
    return "\n".join(lines) + "\n"


def _cmd_reproduce(args) -> int:
    from banditlab.core import BanditlabError

    if args.list:
        if args.paper is not None:
            raise BanditlabError("PAPER: give a paper or --list, not both")
        print(_papers_text(), end="")
        return 0
    if args.paper is None:
        from banditlab.papers import PAPERS

        raise BanditlabError(f"PAPER: name a paper ({', '.join(PAPERS)}) or pass --list")
    from banditlab.reproduce import reproduce

    summary = reproduce(args.paper, args.scale, args.out, n_jobs=args.jobs,
                        backend=args.backend, new_run=args.new_run,
                        progress=not args.no_progress,
                        experiments=(None if args.experiments is None
                                     else [x.strip() for x in args.experiments.split(",")
                                           if x.strip()]))
    for err in summary.errors:
        print(f"banditlab: error: {err}", file=sys.stderr)
    return 1 if summary.errors else 0


def _cmd_validate(args) -> int:
    """Validate an experiment file at every declared scale (or one); nothing runs."""
    import tomllib

    from banditlab.core import BanditlabError
    from banditlab.experiment import load_experiment

    path = _resolve_experiment_path(args.experiment)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BanditlabError(f"experiment file {path.name}: malformed TOML: {exc}") from None
    declared = [s for s in ("smoke", "reduced") if s in (data.get("scales") or {})
                and isinstance(data["scales"], dict)]
    scales = [args.scale] if args.scale else ["full", *declared]
    problems: dict[str, list[str]] = {}
    counts = {}
    for scale in scales:
        try:
            exp = load_experiment(path, import_path=args.import_path, scale=scale)
            counts[scale] = len(exp.tasks())
        except BanditlabError as exc:
            problems.setdefault(str(exc), []).append(scale)
    for msg, where in problems.items():
        print(f"{path.name} ({', '.join(where)}): {msg}")
    if problems:
        return 1
    if args.scale:
        print(f"ok: {path.name}: {counts[args.scale]} tasks at scale {args.scale}")
        return 0
    extra = ", ".join(f"{s}: {counts[s]}" for s in declared)
    print(f"ok: {path.name}: {counts['full']} tasks" + (f" ({extra})" if extra else ""))
    return 0


def _cmd_check(args) -> int:
    from banditlab.checks import XFAIL_PREFIX, run_checks
    from banditlab.experiment import import_modules

    import_modules(args.imports or [], args.import_path or [], where="--import")
    results = run_checks(args.id)
    failed = xfailed = 0
    for name, err in results:
        if err is None:
            status = "ok"
        elif err.startswith(XFAIL_PREFIX):
            status, err = "xfail", err[len(XFAIL_PREFIX):]
            xfailed += 1
        else:
            status = "FAIL"
            failed += 1
        print(f"{status:5s} {name}" + ("" if err is None else f": {err}"))
    passed = len(results) - failed - xfailed
    print(f"{passed} passed, {failed} failed" + (f", {xfailed} xfailed" if xfailed else ""))
    return 1 if failed else 0


def _cmd_rerun(args) -> int:
    import numpy as np

    from banditlab.core import BanditlabError
    from banditlab.experiment import AgentConfig, EnvConfig, Task, TaskSeeds, import_modules
    from banditlab.harness import run_task
    from banditlab.results import ResultStore, load_results

    store = ResultStore.existing(args.results)
    entries = {e["task_id"]: e for e in store.entries() if e.get("status") == "ok"}
    matches = [k for k in entries if k.startswith(args.task_id)]
    current = None if args.all else store.current_task_ids()
    if current is not None and matches and not any(k in current for k in matches):
        raise BanditlabError(f"TASK_ID: {args.task_id!r} is a task of an earlier experiment "
                             "in this directory; pass --all to rerun it")
    if current is not None:
        matches = [k for k in matches if k in current]
    if len(matches) != 1:
        raise BanditlabError(f"TASK_ID: {args.task_id!r} matches {len(matches)} tasks")
    e = entries[matches[0]]
    import_modules(e.get("imports", []), args.import_path or [], where="imports (of the task)")
    res = load_results(args.results, all_tasks=True)
    frame = res.to_frame()
    stored = frame[frame["task_id"] == e["task_id"]]
    cps = tuple(sorted(int(x) for x in stored["t"].unique()))
    task = Task(EnvConfig(e["env_id"], e["env_kwargs"], e.get("env_label")),
                AgentConfig(e["agent_id"], e["agent_params"], e["agent_label"]),
                e["agent_params"], e["seed_index"], e["root_seed"], e["run_length"], cps,
                e["task_id"], TaskSeeds.given(e["env_seed"], e["agent_seed"], e["spawn_keys"]),
                tuple(e.get("imports", [])))
    result = run_task(task, args.backend)
    same = True
    for metric, g in stored.groupby("metric"):
        if metric not in result.curves or not np.array_equal(
            g.sort_values("t")["value"].to_numpy(), result.curves[metric]
        ):
            same = False
            print(f"differs: {metric}")
    print(f"rerun {e['run_id']} ({result.backend}): "
          + ("identical to the stored curves" if same else "DIFFERENT from the stored curves"))
    return 0 if same else 1


def _cmd_bench(args) -> int:
    from banditlab.benchmarking import bench_pair

    pairs = [("banditlab/Bernoulli10-v0", "UCB1-v0")]
    if args.env and args.agent:
        pairs = [(args.env, args.agent)]
    for env_id, agent_id in pairs:
        r = bench_pair(env_id, agent_id, steps=args.steps, python_steps=args.python_steps)
        print(f"{env_id} x {agent_id}: fused {r['fused_steps_per_s']:,.0f} steps/s, "
              f"python {r['python_steps_per_s']:,.0f} steps/s, "
              f"ratio {r['fused_steps_per_s'] / r['python_steps_per_s']:.0f}x")
    return 0


def _add_import_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--import-path", dest="import_path", action="append", metavar="DIR",
                        help="directory to import the experiment's `imports` from, besides "
                             "installed packages (imports run code); repeatable")


def _add_metric_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--metric", help="metric of every panel, e.g. regret/static or reward "
                                    "(default: the file's [plot] table, else each env's "
                                    "primary regret kind)")
    g.add_argument("--kind", help="regret kind of every panel, plotted as pseudo_regret/KIND "
                                  "(e.g. static, dynamic, stochastic)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``banditlab`` command."""
    p = argparse.ArgumentParser(
        prog="banditlab",
        description="Run bandit and online-learning experiments, plot regret, check envs/agents.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run an experiment file (resumes: only missing tasks run)")
    r.add_argument("experiment", help="a TOML file, or the name of a bundled experiment")
    r.add_argument("--out", help="results directory (default: results/<name>, or "
                                 "results/<name>-<scale>[-T<run length>] with an override)")
    r.add_argument("--scale", choices=("smoke", "reduced", "full"), default="full",
                   help="size declared in the file's [scales] table (full: the file as written)")
    r.add_argument("--n-seeds", type=int, metavar="N", help="override n_seeds (after --scale)")
    r.add_argument("--run-length", type=int, metavar="T",
                   help="override run_length: every env's horizon / n_episodes (after --scale)")
    r.add_argument("-j", "--jobs", type=int, default=-1,
                   help="worker processes (default: all cores; 1 = serial)")
    r.add_argument("--backend", choices=("auto", "kernel", "python"), default="auto")
    r.add_argument("--force", action="store_true", help="rerun tasks already committed")
    r.add_argument("--scheduler", help="address of a Dask scheduler (needs the dask extra)")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("--no-plot", action="store_true", help="do not write regret.png")
    r.add_argument("--logx", action="store_true", help="log-scaled t axis in the plot")
    _add_metric_options(r)
    r.add_argument("--new-run", action="store_true",
                   help="if --out holds a different experiment, write into a fresh "
                        "sub-directory OUT/run-<k> instead of refusing")
    _add_import_path(r)
    r.set_defaults(func=_cmd_run)

    rp = sub.add_parser("reproduce", help="run a paper's shipped experiments at a scale, plot "
                                          "them and report their claims")
    rp.add_argument("paper", nargs="?", help="paper key (see --list), e.g. laforgue2022")
    rp.add_argument("--list", action="store_true",
                    help="list the papers with their citation, experiments and cost per scale")
    rp.add_argument("--scale", choices=("smoke", "reduced", "full"), default="smoke",
                    help="size declared in each file's [scales] table (default smoke)")
    rp.add_argument("--out", help="output directory (default "
                                  "banditlab-reproductions/<paper>/<scale>); one "
                                  "sub-directory per experiment, resumable")
    rp.add_argument("-j", "--jobs", type=int, default=-1,
                    help="worker processes (default: all cores; 1 = serial)")
    rp.add_argument("--backend", choices=("auto", "kernel", "python"), default="auto")
    rp.add_argument("--new-run", action="store_true",
                    help="if an experiment's directory holds a different experiment, write "
                         "into a fresh sub-directory run-<k> instead of refusing")
    rp.add_argument("--experiments", metavar="NAMES",
                    help="comma-separated subset of the paper's experiments (default: all)")
    rp.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    rp.set_defaults(func=_cmd_reproduce)

    pl = sub.add_parser("plot", help="plot regret curves of a results directory")
    pl.add_argument("results", help="results directory")
    _add_metric_options(pl)
    pl.add_argument("--out", help="output file (.png, .svg or .pdf; default RESULTS/regret.png)")
    pl.add_argument("--band", choices=("se", "boot95", "quantile", "none"), default="se")
    pl.add_argument("--view", choices=("cum", "per_round", "over_log_t", "over_sqrt_t"),
                    default="cum")
    pl.add_argument("--logx", action="store_true")
    pl.add_argument("--symlog", action="store_true", help="symmetric log axis (negative regret)")
    pl.add_argument("--sweep", metavar="PARAM",
                    help="plot final regret against a swept agent or env parameter instead")
    pl.add_argument("--all", action="store_true",
                    help="include tasks of earlier experiments in the directory")
    pl.set_defaults(func=_cmd_plot)

    ls = sub.add_parser("list", help="list registered envs or agents, or shipped experiments")
    ls.add_argument("what", choices=("envs", "agents", "experiments"))
    ls.add_argument("--long", action="store_true", help="with one-line descriptions")
    ls.add_argument("--markdown", action="store_true",
                    help="the README tables (envs and agents, or experiments) as Markdown")
    ls.set_defaults(func=_cmd_list)

    v = sub.add_parser("validate", help="validate an experiment file at every declared scale "
                                        "(nothing runs)")
    v.add_argument("experiment", help="a TOML file, or the name of a bundled experiment")
    v.add_argument("--scale", choices=("smoke", "reduced", "full"),
                   help="validate this scale only (default: full and every declared scale)")
    _add_import_path(v)
    v.set_defaults(func=_cmd_validate)

    c = sub.add_parser("check", help="run the conformance checks on an env or agent id")
    c.add_argument("id")
    c.add_argument("--import", dest="imports", action="append", metavar="MODULE",
                   help="import MODULE first (registers plugin ids; runs its code); repeatable")
    _add_import_path(c)
    c.set_defaults(func=_cmd_check)

    rr = sub.add_parser("rerun", help="rerun one stored task and compare with its stored curves")
    rr.add_argument("task_id", help="task id (or a unique prefix)")
    rr.add_argument("--results", required=True, help="results directory")
    rr.add_argument("--backend", choices=("auto", "kernel", "python"), default="auto")
    rr.add_argument("--all", action="store_true",
                    help="also match tasks of earlier experiments in the directory")
    _add_import_path(rr)
    rr.set_defaults(func=_cmd_rerun)

    b = sub.add_parser("bench", help="steps per second of the fused and Gymnasium paths")
    b.add_argument("--env", help="env id (default: banditlab/Bernoulli10-v0)")
    b.add_argument("--agent", help="agent id (default: UCB1-v0)")
    b.add_argument("--steps", type=int, default=1_000_000)
    b.add_argument("--python-steps", type=int, default=20_000)
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``banditlab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from banditlab.core import BanditlabError

    try:
        return int(args.func(args) or 0)
    except BanditlabError as exc:
        print(f"banditlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # RunInterrupted says what was saved
        text = str(exc) if str(exc).startswith("interrupted") else "interrupted"
        print(f"banditlab: {text}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
