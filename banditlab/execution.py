"""Execution of an experiment's tasks: the work-unit runner and its backends behind one interface.

A **work unit** is a list of tasks of one (env, agent) pair, run one after another in
one process by :func:`run_unit`, which returns one *outcome* per task:
``("ok", RunResult)`` or ``("error", (task, message, traceback))`` (a failing task
is recorded and the sweep continues).

An **executor** runs units and hands each unit's outcomes to a ``commit`` callback
*in the calling process*, as units complete (:class:`Executor`). Three are built in:

* :class:`SerialExecutor`: in this process, in order;
* :class:`ProcessExecutor`: local worker processes (``forkserver``);
* :class:`DaskExecutor`: an existing Dask cluster. Workers return results to the
  client, which writes them through the same atomic task store as the local
  backends: workers need no shared filesystem and never touch the manifest, so
  there is exactly one writer and a crash of any worker cannot leave a half-written
  result. A worker that dies mid-task loses only that unit: Dask reschedules it on
  another worker, and since every task is a pure function of its seeds the result
  is unchanged.

:func:`execute_tasks` picks the executor from ``n_jobs`` and ``scheduler`` and splits
the tasks into units; every executor gives bit-identical results because each
task's result depends on its seeds only.

Dask usage (start a scheduler and workers with Dask's own commands)::

    dask scheduler                       # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1
    banditlab run sweep.toml --scheduler tcp://HOST:8786

The Dask backend requires the ``dask`` extra (``pip install "banditlab[dask]"``);
workers need banditlab installed in the same version.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from banditlab.core import BanditlabError
from banditlab.experiment import Task, import_modules
from banditlab.loops import run_task

__all__ = [
    "Outcome",
    "Commit",
    "Executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "make_executor",
    "execute_tasks",
    "run_unit",
    "work_units",
    "run_units_dask",
]

Outcome = tuple[str, Any]
"""``("ok", RunResult)`` or ``("error", (task, message, traceback))``."""
Commit = Callable[[list[Outcome]], None]
"""Called in the calling process with the outcomes of one finished unit."""


def run_unit(tasks: Sequence[Task], backend: str) -> list[Outcome]:
    """Run a work unit (tasks of one (env, agent) pair) in one process.

    The modules named in the tasks' ``imports`` are imported first (from installed
    packages and the tasks' ``import_path``, as the experiment resolved them), so
    third-party registrations exist in every worker process.

    Args:
        tasks: The unit's tasks.
        backend: Execution path of every task (``"auto"``, ``"kernel"``, ``"python"``).

    Returns:
        ``("ok", RunResult)`` or ``("error", (task, message, traceback))`` per task.
    """
    out: list[Outcome] = []
    modules = list(dict.fromkeys(m for task in tasks for m in task.imports))
    if modules:
        paths = [d for d in dict.fromkeys(d for task in tasks for d in task.import_path)
                 if os.path.isdir(d)]  # a Dask worker may not have the client's directories
        import_modules(modules, paths)
    for task in tasks:
        try:
            out.append(("ok", run_task(task, backend)))
        except Exception as exc:  # noqa: BLE001 - recorded in the manifest, sweep continues
            out.append(("error", (task, f"{type(exc).__name__}: {exc}", traceback.format_exc())))
    return out


def work_units(tasks: Sequence[Task], n_workers: int) -> list[list[Task]]:
    """Split tasks into units of one (env, agent) pair, about four units per worker.

    Args:
        tasks: Tasks to run.
        n_workers: Number of workers the units are meant for.

    Returns:
        Lists of tasks, each of one (env label, agent label) pair, in task order.
    """
    groups: dict[tuple[str, str], list[Task]] = {}
    for t in tasks:
        groups.setdefault((t.env.display, t.agent.display), []).append(t)
    units = []
    total = len(tasks)
    target = max(1, -(-total // max(1, 4 * n_workers)))
    for group in groups.values():
        for i in range(0, len(group), target):
            units.append(group[i : i + target])
    return units


class Executor(Protocol):
    """Runs tasks and commits their outcomes in the calling process.

    Attributes:
        n_workers: Workers the tasks are split for (see :func:`work_units`).
    """

    n_workers: int

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Run every unit with :func:`run_unit` and call ``commit`` with each unit's outcomes."""


class SerialExecutor:
    """Runs units one after another in this process."""

    n_workers = 1

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Run and commit each unit in order."""
        for unit in units:
            commit(run_unit(unit, backend))


class ProcessExecutor:
    """Runs units in local worker processes.

    Workers fork from a ``forkserver`` process that has imported banditlab, the
    built-in registrations and ``preload`` once (fast start, no threads inherited
    from the calling process).

    Args:
        n_workers: Worker processes.
        preload: Further modules the server imports (an experiment's ``imports``).
    """

    def __init__(self, n_workers: int, preload: Sequence[str] = ()):
        self.n_workers = n_workers
        self.preload = tuple(preload)

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Submit every unit to the pool and commit outcomes as units complete."""
        import multiprocessing as mp

        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["banditlab.execution", "banditlab.envs",
                                    "banditlab.agents", *self.preload])
        pool = ProcessPoolExecutor(max_workers=self.n_workers, mp_context=ctx)
        try:
            futures = [pool.submit(run_unit, unit, backend) for unit in units]
            for fut in as_completed(futures):
                commit(fut.result())
        except BaseException:
            # A failed commit (disk full) or an interrupt: units not started yet are
            # dropped instead of being run for nothing.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


class DaskExecutor:
    """Runs units on a Dask cluster; outcomes come back to the client, which commits them.

    Args:
        scheduler: A scheduler address (``"tcp://host:8786"``) or a cluster object.
        retries: Extra attempts of a unit whose worker failed.
        n_workers: Workers the tasks are split for.
    """

    def __init__(self, scheduler: Any, retries: int = 3, n_workers: int = 8):
        self.scheduler = scheduler
        self.retries = retries
        self.n_workers = n_workers

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Submit every unit to the cluster and commit outcomes as units complete."""
        run_units_dask(units, backend, self.scheduler, commit, retries=self.retries)


def _dask_client(scheduler: Any):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise BanditlabError(
            "scheduler: the Dask backend needs the 'dask' extra (pip install 'banditlab[dask]')"
        ) from None
    if hasattr(scheduler, "scheduler_address"):  # a LocalCluster or similar object
        return Client(scheduler), True
    if not isinstance(scheduler, str) or not scheduler:
        raise BanditlabError(f"scheduler: expected an address like tcp://host:8786, got "
                             f"{scheduler!r}")
    try:
        return Client(scheduler, timeout="10s"), True
    except OSError as exc:
        raise BanditlabError(f"scheduler: cannot connect to {scheduler!r} ({exc})") from None


def run_units_dask(
    units: Sequence[Sequence[Any]],
    backend: str,
    scheduler: Any,
    commit: Commit,
    *,
    retries: int = 3,
) -> None:
    """Submit work units to a Dask cluster and commit each unit's results as it completes.

    Args:
        units: Lists of :class:`~banditlab.experiment.Task` (one (env, agent) pair each).
        backend: Execution backend of every task (``"auto"``, ``"kernel"``, ``"python"``).
        scheduler: A scheduler address (``"tcp://host:8786"``) or a cluster object.
        commit: Called in the client with each unit's outcomes (writes the task store).
        retries: Extra attempts of a unit whose worker failed.
    """
    from distributed import as_completed as dask_as_completed

    client, owned = _dask_client(scheduler)
    try:
        futures = [
            client.submit(run_unit, list(unit), backend, retries=retries, pure=False,
                          key=f"banditlab-unit-{unit[0].task_id}-{len(unit)}")
            for unit in units
            if unit
        ]
        for future in dask_as_completed(futures):
            commit(future.result())
    finally:
        if owned:
            client.close()


def make_executor(n_jobs: int, scheduler: Any = None, preload: Sequence[str] = (),
                  n_tasks: int | None = None) -> Executor:
    """The executor for ``n_jobs`` workers or a Dask ``scheduler``.

    Args:
        n_jobs: Local worker processes (``1``: serial in this process).
        scheduler: A Dask scheduler address or cluster object (takes precedence).
        preload: Modules local workers import first (an experiment's ``imports``).
        n_tasks: Number of tasks to run; with at most one, local runs stay serial.

    Returns:
        A :class:`DaskExecutor`, :class:`SerialExecutor` or :class:`ProcessExecutor`.
    """
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if n_jobs == 1 or (n_tasks is not None and n_tasks <= 1):
        return SerialExecutor()
    return ProcessExecutor(n_jobs, preload)


def execute_tasks(
    tasks: Sequence[Task],
    commit: Commit,
    *,
    backend: str = "auto",
    n_jobs: int = 1,
    scheduler: Any = None,
    preload: Sequence[str] = (),
) -> None:
    """Run tasks with the executor :func:`make_executor` picks, committing outcomes.

    Args:
        tasks: Tasks to run.
        commit: Called in this process with the outcomes of each finished unit.
        backend: Execution path of every task.
        n_jobs: Local worker processes.
        scheduler: A Dask scheduler address or cluster object.
        preload: Modules local workers import first.
    """
    executor = make_executor(n_jobs, scheduler, preload, n_tasks=len(tasks))
    executor(work_units(tasks, executor.n_workers), backend, commit)
