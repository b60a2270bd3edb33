"""The harness: run one agent on one env, or a whole experiment, and record regret.

* :func:`run` runs one agent on one env (the run loops, the fused Numba path and the
  regret metrics are described in :mod:`banditlab.loops`);
* :func:`run_experiment` runs every missing task of an
  :class:`~banditlab.experiment.Experiment` through an executor of
  :mod:`banditlab.execution` (serial, local processes or Dask; results are identical
  whichever runs them) and commits each result to the
  :class:`~banditlab.results.ResultStore`;
* :func:`run_many` is the Python equivalent of an experiment file.

Before any task runs, :func:`run_experiment` checks the backend (``"kernel"`` needs a
fused path for every (env, agent) pair) and the results directory (creatable,
writable, room for a task), takes the directory's lock (a second concurrent run into
it is refused), and checks that the directory holds no *other* experiment (see
:mod:`banditlab.results`: an extension or a subset of the directory's current
experiment reuses it; a changed one is refused unless ``new_run=True``, which writes
it into a sub-directory ``run-<k>``). A write that fails during the run (disk full)
stops it with one line; every task committed before stays intact.

Layering (no import cycles): ``harness`` -> ``execution`` -> ``loops``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banditlab.core import BanditlabError
from banditlab.execution import Outcome, ProcessExecutor, _pool_start_delay, execute_tasks
from banditlab.experiment import AgentConfig, EnvConfig, Experiment
from banditlab.interrupts import RunInterrupted
from banditlab.loops import BACKENDS, fused_path_available, run, run_task
from banditlab.results import ResultStore, load_results

__all__ = ["run", "run_task", "run_experiment", "run_many", "RunSummary", "BACKENDS"]


@dataclass
class RunSummary:
    """What :func:`run_experiment` did.

    Attributes:
        results_dir: Where results live (a ``run-<k>`` sub-directory with ``new_run``).
        n_tasks: Tasks in the experiment.
        n_skipped: Tasks already committed (resume).
        n_ran: Tasks run now and committed.
        errors: ``(run_id, message)`` of tasks that raised.
        wall_time_s: Wall-clock time of this call.
    """

    results_dir: Path
    n_tasks: int
    n_skipped: int
    n_ran: int
    errors: list[tuple[str, str]]
    wall_time_s: float

    def __str__(self) -> str:
        s = (f"{self.n_tasks} tasks: ran {self.n_ran}, skipped {self.n_skipped} already done, "
             f"{len(self.errors)} failed ({self.wall_time_s:.1f} s) -> {self.results_dir}")
        for run_id, msg in self.errors[:10]:
            s += f"\n  FAILED {run_id}: {msg}"
        return s


def _worth_prestarting(experiment: Experiment) -> bool:
    """Whether to start the workers' server with the sweep (see :func:`run_experiment`).

    Not when the experiment's ``[cost]`` says the whole sweep takes less than
    :data:`~banditlab.execution.POOL_START_DELAY_S` on one core: no worker would be started
    for it, and the server's imports on the other core only slow this process down. An
    estimate that proves wrong costs little: the dispatcher starts the server when it
    wants workers.
    """
    estimate = experiment.estimated_seconds()
    return estimate is None or estimate >= _pool_start_delay()


def run_experiment(
    experiment: Experiment,
    results_dir: str | os.PathLike,
    *,
    n_jobs: int | None = 1,
    backend: str = "auto",
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
    new_run: bool = False,
) -> RunSummary:
    """Run every missing task of an experiment and commit each to the result store.

    Args:
        experiment: A validated :class:`~banditlab.experiment.Experiment`.
        results_dir: The results directory (created if needed).
        n_jobs: Worker processes (``1``: serial in this process; ``None`` or ``-1``:
            all cores). Results are identical whatever the number. With more than one,
            the workers' server starts with the sweep, unless the experiment's ``[cost]``
            estimates the sweep shorter than the workers' start delay (then no worker
            would be started; see :class:`~banditlab.execution.ProcessExecutor`).
        backend: ``"auto"``, ``"kernel"`` or ``"python"`` for every task.
        force: Rerun tasks that are already committed.
        progress: Show a progress bar (tasks done, ETA).
        scheduler: Address of a Dask scheduler (requires the ``dask`` extra).
        new_run: When ``results_dir`` holds a different experiment, write into its
            sub-directory ``run-<k>`` (the first one holding this experiment or an
            experiment it may reuse, else a new one) instead of refusing.

    Returns:
        A :class:`RunSummary`.

    Raises:
        RunInterrupted: On Ctrl-C, after committing every task that finished (a
            ``KeyboardInterrupt`` saying how many tasks are saved; rerun to resume).
        BanditlabError: One line, before any task runs, for a bad argument, a backend
            that cannot run some pair, an unusable results directory, another run
            holding its lock, or a different experiment in it; during the run, for a
            failed write (committed tasks stay intact).
    """
    if backend not in BACKENDS:
        raise BanditlabError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if n_jobs is None or n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise BanditlabError(f"n_jobs: expected an integer >= 1 or -1 (all cores), got {n_jobs!r}")
    start = time.perf_counter()
    prestart = _worth_prestarting(experiment)
    if n_jobs > 1 and scheduler is None and prestart:
        # Local workers fork from a server that imports banditlab and initialises Numba
        # (about a second): start it now, on another core, while the tasks are built.
        ProcessExecutor(n_jobs).start_server()
    tasks = experiment.tasks()
    if backend == "kernel":
        _check_kernel_backend(experiment)
    task_runs = {t.task_id: t.run_id for t in tasks}
    need = _task_bytes(max((len(t.checkpoints) for t in tasks), default=1))
    with _open_store(Path(results_dir), task_runs, need, new_run) as store:
        try:
            store.record_experiment(experiment.name, task_runs, experiment.imports,
                                    [str(Path(d).resolve()) for d in experiment.import_path],
                                    plot=getattr(experiment, "plot", None))
        except OSError as exc:
            raise BanditlabError(f"results_dir: cannot record the experiment in "
                                 f"{str(store.root)!r} ({_strerror(exc)})") from None
        done = set() if force else set(store.committed(verify=True, only=task_runs))
        todo = [t for t in tasks if t.task_id not in done]
        errors: list[tuple[str, str]] = []
        n_ran = 0

        bar = _tqdm()(total=len(todo), desc=experiment.name, unit="task", disable=not progress,
                      dynamic_ncols=True)

        def commit(outcomes: list[Outcome]) -> None:
            # One file for the unit's finished tasks, then one manifest line per task
            # (a local worker wrote its unit's file already: only the lines are left).
            nonlocal n_ran
            oks = [payload for status, payload in outcomes if status == "ok"]
            written = [payload.line for status, payload in outcomes if status == "written"]
            failed = [payload for status, payload in outcomes if status == "error"]
            try:
                store.write_many(oks)
                store.commit_lines(written)
                n_ran += len(oks) + len(written)
                bar.update(len(oks) + len(written))
                for task, msg, tb in failed:
                    store.write_error(task.metadata(), msg, tb)
                    errors.append((task.run_id, msg))
                    bar.update(1)
            except OSError as exc:
                n_ok = len(done) + n_ran
                raise BanditlabError(
                    f"results_dir: writing {len(outcomes)} task(s) to {str(store.root)!r} "
                    f"failed ({_strerror(exc)}); the {n_ok} tasks committed before them are "
                    "intact: fix the directory (free space) and run again to continue"
                ) from None

        try:
            # No ``preload`` of the experiment's imports into the forkserver (it would import
            # them with the current directory on sys.path): each worker imports them through
            # ``import_modules`` in ``run_unit``, like this process did.
            execute_tasks(todo, commit, backend=backend, n_jobs=n_jobs, scheduler=scheduler,
                          writer=store, prestart=prestart)
        except RunInterrupted:
            raise RunInterrupted(len(done) + n_ran, len(tasks), str(store.root)) from None
        finally:
            bar.close()
        try:  # one file instead of one per work unit, so that loading stays fast
            store.compact()
        except OSError as exc:  # the per-unit files are intact and still committed
            warnings.warn(f"results: compacting {str(store.root)!r} failed "
                          f"({_strerror(exc)}); the results are intact", stacklevel=2)
    return RunSummary(store.root, len(tasks), len(tasks) - len(todo), n_ran, errors,
                      time.perf_counter() - start)


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _tqdm():
    """``tqdm.auto`` (notebook widgets) when ipywidgets is installed, else the text bar.

    ``tqdm.auto`` without ipywidgets warns ``IProgress not found`` in notebooks.
    """
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def _task_bytes(n_checkpoints: int) -> int:
    """A generous size of one task file and its manifest line, for the free-space check."""
    return (64 << 10) + n_checkpoints * 16 * 24


def _check_kernel_backend(experiment: Experiment) -> None:
    """``backend="kernel"``: every (env, agent) pair must have the fused path, or one line."""
    for e in experiment.envs:
        env = experiment.make_env(e)
        for a in experiment.agents:
            agent = Experiment.make_agent(a, env)
            if not fused_path_available(env, agent):
                env.close()
                raise BanditlabError(
                    "backend: 'kernel' needs a continuing KernelEnv (or an episodic env with "
                    "an episodic kernel) and a KernelAgent, but env "
                    f"{e.display!r} with agent {a.display!r} has no fused path (use --backend "
                    "auto, which falls back to the Gymnasium loop, or python)"
                )
        env.close()


@contextlib.contextmanager
def _open_store(root: Path, task_runs: Mapping[str, str], need: int,
                new_run: bool) -> Iterator[ResultStore]:
    """The locked store the experiment ``task_runs`` writes to (see :func:`run_experiment`)."""
    store = ResultStore(root)
    store.check_writable(need)
    with store.lock():
        reason = store.conflict(task_runs)
        if reason is None:
            yield store
            return
        if not new_run:
            raise BanditlabError(
                f"results_dir: {str(root)!r} holds results of a different experiment "
                f"({reason}); pass --new-run (new_run=True) to write this one into a fresh "
                "sub-directory, or choose another --out"
            )
    k = 2
    while (root / f"run-{k}").exists() and ResultStore(root / f"run-{k}").conflict(task_runs):
        k += 1
    store = ResultStore(root / f"run-{k}")
    store.check_writable(need)
    with store.lock():
        reason = store.conflict(task_runs)
        if reason is not None:  # pragma: no cover - another process wrote it meanwhile
            raise BanditlabError(
                f"results_dir: {str(store.root)!r} holds results of a different experiment "
                f"({reason})"
            )
        yield store


def run_many(
    envs: Sequence[Any],
    agents: Sequence[Any],
    *,
    n_seeds: int = 5,
    root_seed: int = 0,
    run_length: int | None = None,
    checkpoints: Any = "default",
    results_dir: str | os.PathLike,
    n_jobs: int | None = 1,
    backend: str = "auto",
    force: bool = False,
    progress: bool = True,
    new_run: bool = False,
):
    """Python API equivalent of an experiment file; returns the loaded results.

    Args:
        envs: Env ids or ``(id, kwargs)`` pairs.
        agents: Agent ids, ``(id, kwargs)`` pairs or ``(id, kwargs, label)`` triples (a
            label must start with the agent's own :meth:`~banditlab.core.Agent.label`).
        n_seeds: Runs per pair.
        root_seed: Root entropy.
        run_length: Optional override of every env's run length.
        checkpoints: Checkpoint spec.
        results_dir: Results directory.
        n_jobs: Worker processes.
        backend: Execution backend.
        force: Rerun committed tasks.
        progress: Show a progress bar.
        new_run: Write into a fresh sub-directory when ``results_dir`` holds a different
            experiment (see :func:`run_experiment`).

    Returns:
        :class:`~banditlab.results.Results` of this experiment.
    """
    env_cfgs = [EnvConfig(e) if isinstance(e, str) else EnvConfig(e[0], dict(e[1]))
                for e in envs]
    agent_cfgs = []
    for a in agents:
        if isinstance(a, str):
            agent_cfgs.append(AgentConfig(a))
        else:
            agent_cfgs.append(AgentConfig(a[0], dict(a[1]), a[2] if len(a) > 2 else None))
    exp = Experiment(env_cfgs, agent_cfgs, n_seeds=n_seeds, root_seed=root_seed,
                     run_length=run_length, checkpoints=checkpoints)
    exp.validate()
    summary = run_experiment(exp, results_dir, n_jobs=n_jobs, backend=backend, force=force,
                             progress=progress, new_run=new_run)
    return load_results(summary.results_dir)
