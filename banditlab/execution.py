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

import atexit
import contextlib
import os
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from banditlab.core import BanditlabError
from banditlab.experiment import Task, import_modules
from banditlab.interrupts import (
    RunInterrupted,
    TaskInterrupted,
    interrupt_guard,
    stop_requested,
    worker_init,
)
from banditlab.loops import build_pair, fused_path_available, run_task

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

    Tasks that differ only in their seeds and run on the fused path share one env
    and one agent object: each task's ``reset(seed=...)`` restarts both, so the
    per-task cost is the reset and the compiled run, not building the objects and
    validating their arguments again (the results are those of fresh objects, which
    ``tests/test_harness.py`` checks for every kernel pair).

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
    pairs: dict[str, tuple[Any, Any]] = {}  # fused pairs, reused across the unit's seeds
    try:
        for task in tasks:
            if stop_requested():  # Ctrl-C: the unit returns the tasks finished so far
                break
            try:
                key = _pair_key(task)
                pair = pairs.get(key)
                if pair is None and backend != "python":
                    built = build_pair(task)
                    if fused_path_available(*built):
                        pair = pairs[key] = built
                    else:
                        built[0].close()
                out.append(("ok", run_task(task, backend, pair)))
            except TaskInterrupted:
                break
            except Exception as exc:  # noqa: BLE001 - recorded in the manifest, sweep goes on
                pairs.pop(_pair_key(task), None)  # never reuse objects a failure left behind
                out.append(("error", (task, f"{type(exc).__name__}: {exc}",
                                      traceback.format_exc())))
    finally:
        for env, _ in pairs.values():
            with contextlib.suppress(Exception):
                env.close()
    return out


def _pair_key(task: Task) -> str:
    """Identity of a task's env and agent configuration (everything but its seeds)."""
    import json

    return json.dumps([task.env.id, dict(task.env.kwargs), task.agent.id,
                       task.agent_params], sort_keys=True, default=repr)


MAX_UNIT_TASKS = 200
"""Largest work unit: small enough that idle workers find units to take until the end."""


def work_units(tasks: Sequence[Task], n_workers: int) -> list[list[Task]]:
    """Split tasks into units of one (env, agent) pair, about four units per worker.

    No unit has more than :data:`MAX_UNIT_TASKS` tasks.

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
    target = max(1, min(MAX_UNIT_TASKS, -(-total // max(1, 4 * n_workers))))
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
        """Run and commit each unit in order.

        Raises:
            RunInterrupted: After committing the tasks finished before a Ctrl-C.
        """
        for unit in units:
            commit(run_unit(unit, backend))
            if stop_requested():
                raise RunInterrupted()


POOL_START_DELAY_S = 1.0
"""Seconds a local sweep runs in the calling process before it starts worker processes
(environment variable ``BANDITLAB_POOL_START_DELAY`` overrides it; the test suite sets 0
so that every multi-process test exercises the workers)."""


def _pool_start_delay() -> float:
    value = os.environ.get("BANDITLAB_POOL_START_DELAY")
    try:
        return POOL_START_DELAY_S if value is None else max(0.0, float(value))
    except ValueError:
        raise BanditlabError(f"BANDITLAB_POOL_START_DELAY: expected a number of seconds, "
                             f"got {value!r}") from None


class ProcessExecutor:
    """Runs units in local worker processes and in the calling process.

    ``n_workers`` processes work: the calling process and ``n_workers - 1`` pool
    workers. A worker gets a unit (from the front of the list) only once it has
    started and is idle; meanwhile the calling process runs units itself (from the
    end). A sweep too small to repay starting workers therefore runs at the speed
    of a serial run, and a large one uses every worker: ``-j N`` is not slower
    than ``-j 1``.

    Workers fork from a ``forkserver`` process that has imported banditlab, the
    built-in registrations and ``preload`` once (fast start, no threads inherited
    from the calling process). The pool is kept for later calls in this process
    with the same size and ``preload``, and shut down at exit. Workers die with the
    calling process, even when it is killed (:func:`banditlab.interrupts.worker_init`).

    Args:
        n_workers: Processes working on units, the calling process included (>= 2).
        preload: Further modules the server imports (an experiment's ``imports``).
    """

    _pools: dict[tuple[int, tuple[str, ...]], ProcessPoolExecutor] = {}

    def __init__(self, n_workers: int, preload: Sequence[str] = ()):
        self.n_workers = n_workers
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None
        self.units_in_workers = 0
        """Units of the last call whose results came from a worker (not a backup copy)."""

    def _get_pool(self) -> ProcessPoolExecutor:
        import multiprocessing as mp

        key = (self.n_workers - 1, self.preload)
        pool = self._pools.get(key)
        if pool is None or getattr(pool, "_broken", False) or getattr(pool, "_shutdown_thread",
                                                                        False):
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["banditlab.execution", "banditlab.envs",
                                        "banditlab.agents", *self.preload])
            pool = ProcessPoolExecutor(max_workers=max(1, self.n_workers - 1), mp_context=ctx,
                                       initializer=worker_init, initargs=(os.getpid(),))
            self._pools[key] = pool
        return pool

    def _pool_alive(self) -> bool:
        pool = self._pools.get((self.n_workers - 1, self.preload))
        return pool is not None and not getattr(pool, "_broken", False) and not getattr(
            pool, "_shutdown_thread", False)

    def worker_pids(self) -> list[int]:
        """Pids of the live worker processes (Ctrl-C is forwarded to them)."""
        pool = self._pool
        procs = getattr(pool, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.pid is not None]

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        for key, p in list(self._pools.items()):
            if p is pool:
                del self._pools[key]
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Run every unit in the pool or in this process; commit outcomes as units complete.

        A unit is handed to the pool only when a worker is ready and idle (each worker
        first answers a probe, i.e. it has started and imported banditlab), so at most
        one unit per worker is in flight and nothing waits in the pool's queue: the
        calling process takes the other units itself, from the end of the list, while
        the workers take them from the front. When none is left to start, the calling
        process runs a copy of a unit still in flight (newest first) instead of waiting
        idle; every task is committed once, from whichever copy ends first (tasks are
        pure functions of their seeds, so both copies are identical).

        Raises:
            RunInterrupted: After a Ctrl-C, once the running units have returned the
                tasks they finished (units not started are not run).
        """
        import collections
        import threading

        queue = collections.deque(units)
        # Starting a pool blocks until the forkserver has imported banditlab (a second
        # or more): a thread starts it while this process runs units.
        started: dict[str, Any] = {}

        def start() -> None:
            try:
                pool = self._get_pool()
                started["probes"] = [pool.submit(_ready) for _ in range(self.n_workers - 1)]
                started["pool"] = pool
            except BaseException as exc:  # noqa: BLE001 - raised in the calling thread
                started["error"] = exc

        starter = threading.Thread(target=start, name="banditlab-pool-start", daemon=True)
        # A pool kept from an earlier call is used at once; a new one is started only
        # once this process has worked for POOL_START_DELAY_S with units still queued,
        # so a sweep that short runs exactly as with -j 1 (starting a worker costs about
        # a second of CPU, which a small sweep on a small machine never repays).
        began, delay = time.perf_counter(), _pool_start_delay()
        self.units_in_workers = 0
        if self._pool_alive():
            starter.start()
        pool = None
        in_flight: dict[Any, bool] = {}  # future -> is a unit (else a readiness probe)
        unit_of: dict[Any, Sequence[Task]] = {}
        committed: set[str] = set()

        def commit_new(outcomes: list[Outcome]) -> None:
            # A unit run twice (a backup copy) is committed once, task by task.
            fresh = [o for o in outcomes if _outcome_task_id(o) not in committed]
            committed.update(_outcome_task_id(o) for o in fresh)
            if fresh:
                commit(fresh)

        backed: set[Any] = set()  # units already run here as well

        def next_backup():
            """The newest unit still running in a worker and not yet copied, or ``None``."""
            running = [f for f in unit_of if not f.done() and f not in backed]
            return running[-1] if running else None
        try:
            # Probes still out when the queue is empty are not waited for: a small sweep
            # ends when the calling process has run it, however slowly workers start.
            while any(in_flight.values()) or (queue and not stop_requested()):
                if (not starter.is_alive() and pool is None and starter.ident is None and queue
                        and time.perf_counter() - began >= delay):
                    starter.start()
                if pool is None and starter.ident is not None and not starter.is_alive():
                    if "error" in started:
                        raise started["error"]
                    pool = self._pool = started["pool"]
                    in_flight.update(dict.fromkeys(started["probes"], False))
                for fut in [f for f in in_flight if f.done()]:
                    is_unit = in_flight.pop(fut)
                    if is_unit:
                        self.units_in_workers += 1
                        commit_new(fut.result())
                    elif fut.exception() is not None:
                        raise fut.exception()
                    if queue and not stop_requested():  # that worker is idle now
                        unit = queue.popleft()
                        fut = pool.submit(run_unit, unit, backend)
                        in_flight[fut] = True
                        unit_of[fut] = unit
                if queue and not stop_requested():
                    commit_new(run_unit(queue.pop(), backend))
                elif not stop_requested() and (fut := next_backup()) is not None:
                    # Nothing left to start: rather than wait idle for a worker's unit
                    # (a new worker spends its first second loading compiled code), run
                    # the newest one here too; whichever copy ends first is committed.
                    backed.add(fut)
                    commit_new(run_unit(unit_of[fut], backend))
                elif any(in_flight.values()):
                    wait(list(in_flight), timeout=0.2, return_when=FIRST_COMPLETED)
            if stop_requested():
                raise RunInterrupted()
        except BaseException:
            # An interrupt (the workers' stop flags are set), a failed commit (disk
            # full), a second Ctrl-C or a broken pool: stop the workers at once and
            # start a new pool next time; nothing half-written stays (atomic store).
            if pool is not None:
                self._discard(pool)
            raise


def _outcome_task_id(outcome: Outcome) -> str:
    status, payload = outcome
    return payload.task_id if status == "ok" else payload[0].task_id


def _ready() -> bool:
    """The probe a new worker answers once it has started (banditlab imported)."""
    return True


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
    from distributed import wait as dask_wait

    client, owned = _dask_client(scheduler)
    try:
        pending = {
            client.submit(run_unit, list(unit), backend, retries=retries, pure=False,
                          key=f"banditlab-unit-{unit[0].task_id}-{len(unit)}")
            for unit in units
            if unit
        }
        while pending:
            if stop_requested():
                # Units already returned are committed; the others are cancelled on the
                # cluster and recomputed on resume (same seeds, same results).
                client.cancel(list(pending))
                raise RunInterrupted()
            try:
                done, pending = dask_wait(pending, timeout=0.25, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
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
) -> Executor:
    """Run tasks with the executor :func:`make_executor` picks, committing outcomes.

    Args:
        tasks: Tasks to run.
        commit: Called in this process with the outcomes of each finished unit.
        backend: Execution path of every task.
        n_jobs: Local worker processes.
        scheduler: A Dask scheduler address or cluster object.
        preload: Modules local workers import first.

    Returns:
        The executor that ran them.
    """
    executor = make_executor(n_jobs, scheduler, preload, n_tasks=len(tasks))
    with interrupt_guard(forward=getattr(executor, "worker_pids", None)):
        executor(work_units(tasks, executor.n_workers), backend, commit)
    return executor


@atexit.register
def _shutdown_pools() -> None:
    """Stop the kept pools at exit (after ``concurrent.futures`` has joined its threads).

    No unit of an executor call is in flight here, so the workers are idle, still
    starting, or running a backup copy nobody waits for: they are terminated.
    """
    for pool in list(ProcessExecutor._pools.values()):
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        with contextlib.suppress(Exception):
            pool.shutdown(wait=False, cancel_futures=True)
    ProcessExecutor._pools.clear()
