"""The ``banditlab`` command line.

Commands: ``run``, ``plot``, ``list``, ``check``, ``rerun``, ``bench``. Heavy
imports (Numba, Gymnasium, pandas) happen inside the commands, so
``banditlab --help`` answers immediately and compiles nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def _resolve_experiment_path(name: str) -> Path:
    p = Path(name)
    if p.is_file():
        return p
    from importlib import resources

    bundled = resources.files("banditlab.benchmarks") / f"{name}.toml"
    if bundled.is_file():
        return Path(str(bundled))
    from banditlab.core import BanditlabError

    names = sorted(x.name[:-5] for x in resources.files("banditlab.benchmarks").iterdir()
                   if x.name.endswith(".toml"))
    raise BanditlabError(
        f"EXPERIMENT: {name!r} is neither a file nor a bundled experiment "
        f"(bundled: {', '.join(names)})"
    )


def _cmd_run(args) -> int:
    from banditlab.experiment import load_experiment
    from banditlab.harness import run_experiment

    path = _resolve_experiment_path(args.experiment)
    exp = load_experiment(path)
    out = Path(args.out) if args.out else Path("results") / exp.name
    summary = run_experiment(
        exp, out, n_jobs=args.jobs, backend=args.backend, force=args.force,
        progress=not args.no_progress, scheduler=args.scheduler,
    )
    print(summary)
    if not args.no_plot and summary.n_tasks - len(summary.errors) > 0:
        written = _plot(out, None, out / "regret.png", "se", args.logx, False, "cum")
        print("plot: " + ", ".join(written))
    return 1 if summary.errors else 0


def _plot(results_dir, metric, out, band, logx, symlog, view) -> list[str]:
    from banditlab.core import BanditlabError
    from banditlab.plotting import plot_experiment, save_figure
    from banditlab.results import load_results

    results = load_results(results_dir)
    if len(results) == 0:
        raise BanditlabError(f"RESULTS: no committed results in {str(results_dir)!r}")
    fig = plot_experiment(results.to_frame(), metric, band=band, logx=logx, symlog=symlog,
                          view=view)
    return save_figure(fig, out)


def _cmd_plot(args) -> int:
    if args.sweep:
        from banditlab.plotting import plot_sweep_results, save_figure

        out = Path(args.out) if args.out else Path(args.results) / f"sweep_{args.sweep}.png"
        fig = plot_sweep_results(args.results, args.sweep, args.metric, band=args.band,
                                 logx=args.logx)
        print("plot: " + ", ".join(save_figure(fig, out)))
        return 0
    out = Path(args.out) if args.out else Path(args.results) / "regret.png"
    written = _plot(args.results, args.metric, out, args.band, args.logx, args.symlog, args.view)
    print("plot: " + ", ".join(written))
    return 0


def _cmd_list(args) -> int:
    if args.markdown:
        from banditlab.catalogue import catalogue_markdown

        print(catalogue_markdown(), end="")
        return 0
    if args.long:
        from banditlab.catalogue import agent_rows, env_rows

        for i, _, desc in env_rows() if args.what == "envs" else agent_rows():
            print(f"{i:40s} {desc}")
        return 0
    from banditlab.registry import agent_ids, env_ids

    ids = env_ids() if args.what == "envs" else agent_ids()
    for i in ids:
        print(i)
    return 0


def _cmd_check(args) -> int:
    from banditlab.checks import XFAIL_PREFIX, run_checks

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
    from banditlab.experiment import AgentConfig, EnvConfig, Task
    from banditlab.harness import run_task
    from banditlab.results import ResultStore, load_results

    store = ResultStore(args.results)
    entries = {e["task_id"]: e for e in store.entries() if e.get("status") == "ok"}
    matches = [k for k in entries if k.startswith(args.task_id)]
    if len(matches) != 1:
        raise BanditlabError(f"TASK_ID: {args.task_id!r} matches {len(matches)} tasks")
    e = entries[matches[0]]
    res = load_results(args.results)
    frame = res.to_frame()
    stored = frame[frame["task_id"] == e["task_id"]]
    cps = tuple(sorted(int(x) for x in stored["t"].unique()))
    task = Task(EnvConfig(e["env_id"], e["env_kwargs"], e.get("env_label")),
                AgentConfig(e["agent_id"], e["agent_params"], e["agent_label"]),
                e["agent_params"], e["seed_index"], e["root_seed"], e["run_length"], cps,
                e["task_id"], e["env_seed"], e["agent_seed"], e["spawn_keys"])
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``banditlab`` command."""
    p = argparse.ArgumentParser(
        prog="banditlab",
        description="Run bandit and online-learning experiments, plot regret, check envs/agents.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run an experiment file (resumes: only missing tasks run)")
    r.add_argument("experiment", help="a TOML file, or the name of a bundled experiment")
    r.add_argument("--out", help="results directory (default: results/<name>)")
    r.add_argument("-j", "--jobs", type=int, default=-1,
                   help="worker processes (default: all cores; 1 = serial)")
    r.add_argument("--backend", choices=("auto", "kernel", "python"), default="auto")
    r.add_argument("--force", action="store_true", help="rerun tasks already committed")
    r.add_argument("--scheduler", help="address of a Dask scheduler (needs the dask extra)")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("--no-plot", action="store_true", help="do not write regret.png")
    r.add_argument("--logx", action="store_true", help="log-scaled t axis in the plot")
    r.set_defaults(func=_cmd_run)

    pl = sub.add_parser("plot", help="plot regret curves of a results directory")
    pl.add_argument("results", help="results directory")
    pl.add_argument("--metric", help="metric (default: first pseudo-regret metric)")
    pl.add_argument("--out", help="output file (.png, .svg or .pdf; default RESULTS/regret.png)")
    pl.add_argument("--band", choices=("se", "boot95", "quantile", "none"), default="se")
    pl.add_argument("--view", choices=("cum", "per_round", "over_log_t", "over_sqrt_t"),
                    default="cum")
    pl.add_argument("--logx", action="store_true")
    pl.add_argument("--symlog", action="store_true", help="symmetric log axis (negative regret)")
    pl.add_argument("--sweep", metavar="PARAM",
                    help="plot final regret against a swept agent or env parameter instead")
    pl.set_defaults(func=_cmd_plot)

    ls = sub.add_parser("list", help="list registered envs or agents")
    ls.add_argument("what", choices=("envs", "agents"))
    ls.add_argument("--long", action="store_true", help="with one-line descriptions")
    ls.add_argument("--markdown", action="store_true",
                    help="the README catalogue of envs and agents, as Markdown tables")
    ls.set_defaults(func=_cmd_list)

    c = sub.add_parser("check", help="run the conformance checks on an env or agent id")
    c.add_argument("id")
    c.set_defaults(func=_cmd_check)

    rr = sub.add_parser("rerun", help="rerun one stored task and compare with its stored curves")
    rr.add_argument("task_id", help="task id (or a unique prefix)")
    rr.add_argument("--results", required=True, help="results directory")
    rr.add_argument("--backend", choices=("auto", "kernel", "python"), default="auto")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
