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
import signal
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
from banditlab.results import ResultStore

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
"""``("ok", RunResult)``, ``("written", WrittenTask)`` (written by a local worker, to be
committed) or ``("error", (task, message, traceback))``."""
Commit = Callable[[list[Outcome]], None]
"""Called in the calling process with the outcomes of one finished unit."""


def run_unit(tasks: Sequence[Task], backend: str, writer: ResultStore | None = None
             ) -> list[Outcome]:
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
        writer: The results directory's store, given to local workers: the unit's
            results are written there as one file (:meth:`ResultStore.write_file`)
            and come back as ``("written", WrittenTask)``, i.e. manifest lines for
            the calling process to commit. If the write fails they come back as
            ``("ok", RunResult)``, and the calling process writes them (and reports
            the failure the same way as its own).

    Returns:
        ``("ok", RunResult)``, ``("written", WrittenTask)`` or
        ``("error", (task, message, traceback))`` per task.
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
    oks = [payload for status, payload in out if status == "ok"]
    if writer is not None and oks:
        try:
            written = iter(writer.write_file(oks, unique=True))
        except OSError:
            return out  # the calling process writes them, and reports a failure
        out = _PackedOutcomes(("written", next(written)) if status == "ok"
                              else (status, payload) for status, payload in out)
    return out


class _PackedOutcomes(list):
    """A worker's outcomes, pickled compressed on their way back to the calling process.

    A unit's manifest lines are about 1 KB per task, 200 KB for a unit of 200 tasks: more
    than a pipe holds (64 KB), so the worker would block in its send until the calling
    process's pool thread, competing for the GIL with that process's own tasks, has read
    them all, and only then start its next unit (measured: 35-130 ms per unit of about
    70 ms). Compressed (zlib level 1, under 1 ms) they are about 10x smaller, so the send
    returns at once. Unpickled, they are a plain list.
    """

    def __reduce__(self):
        import pickle
        import zlib

        return _unpack_outcomes, (zlib.compress(pickle.dumps(list(self), protocol=5), 1),)


def _unpack_outcomes(blob: bytes) -> list[Outcome]:
    """The list a :class:`_PackedOutcomes` was (only ever given a worker's own blob)."""
    import pickle
    import zlib

    return pickle.loads(zlib.decompress(blob))


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


SERVER_READY_ENV = "BANDITLAB_FORKSERVER_READY"
"""Environment variable naming the file into which the local workers' forkserver writes a
byte once it has imported banditlab (set by :meth:`ProcessExecutor.start_server`)."""

INTERRUPT_GRACE_S = 3.0
"""After a Ctrl-C, how long units still in workers are waited for before the workers are
stopped (their unreturned tasks run again on resume)."""

SERVER_READY_TIMEOUT_S = 10.0
"""Longest wait for that byte before workers are started anyway."""

_server_ready_path: str | None = None
"""That file, for the forkserver this process started (``None``: not started by us)."""


def _marked(path: str) -> bool:
    """Whether the forkserver has written its byte (a missing file counts as ready)."""
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return True


def _remove_marker(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


UNITS_PER_WORKER = 2
"""Units handed to each ready worker at a time: the next one waits in the worker's queue, so
a worker never idles while the calling process finishes a unit of its own."""

POOL_START_DELAY_S = 1.0
"""Seconds a local sweep expected to be short runs in the calling process before it starts
its workers' server and workers (environment variable ``BANDITLAB_POOL_START_DELAY``
overrides it; the test suite sets 0 so that every multi-process test exercises the
workers). A sweep is expected to be short when the experiment's ``[cost]`` table estimates
it below this delay (:func:`banditlab.harness.run_experiment` then passes
``prestart=False``): such a sweep (the README's first command) never starts a process.
Otherwise the server starts with the sweep and workers start as soon as it is ready."""


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
    workers. A worker gets units (from the front of the list) only once it has
    started, a couple at a time; meanwhile the calling process runs units itself
    (from the end). A sweep too small to repay starting workers therefore runs at
    the speed of a serial run, and a large one uses every worker: ``-j N`` is not
    slower than ``-j 1``.

    Workers fork from a ``forkserver`` process that has imported banditlab, the
    built-in registrations and ``preload`` once and initialised Numba
    (:mod:`banditlab._worker_warmup`): fast start, no threads inherited from the
    calling process. The pool is kept for later calls in this process
    with the same size and ``preload``, and shut down at exit. Workers die with the
    calling process, even when it is killed (:func:`banditlab.interrupts.worker_init`).

    Args:
        n_workers: Processes working on units, the calling process included (>= 2).
        preload: Further modules the server imports (an experiment's ``imports``).
        writer: The results directory's store: workers write their units' results
            there and send back only manifest lines (see :func:`run_unit`), so task
            data never passes through the calling process, which commits the lines.
            ``None``: workers send back the results.
        prestart: Start the forkserver when a call starts (``False``: only once the
            dispatcher wants workers, after :data:`POOL_START_DELAY_S`; for sweeps
            expected to end sooner, whose server would only compete with this process).
    """

    _pools: dict[tuple[int, tuple[str, ...]], ProcessPoolExecutor] = {}

    def __init__(self, n_workers: int, preload: Sequence[str] = (),
                 writer: ResultStore | None = None, prestart: bool = True):
        self.n_workers = n_workers
        self.preload = tuple(preload)
        self.writer = writer
        self.prestart = prestart
        self._pool: ProcessPoolExecutor | None = None
        self.units_in_workers = 0
        """Units of the last call whose results came from a worker (not a backup copy)."""

    def _context(self):
        """The ``forkserver`` context, with this executor's modules to preload."""
        import multiprocessing as mp

        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["banditlab.execution", "banditlab.envs", "banditlab.agents",
                                    "banditlab._worker_warmup", *self.preload])
        return ctx

    def start_server(self) -> None:
        """Start the forkserver now (it imports in its own process; this call returns at once).

        :func:`banditlab.harness.run_experiment` calls it when a local sweep starts (and
        :meth:`__call__` when units are queued), so that the server has imported
        banditlab and initialised Numba by the time the first worker is wanted: a
        worker then starts in a fraction of a second instead of one or two. A sweep
        that ends before it wants workers leaves the server idle; it exits with this
        process.
        """
        import multiprocessing.forkserver
        import tempfile

        global _server_ready_path
        self._context()
        if _server_ready_path is None:
            # The server writes a byte into this file once it has imported everything
            # (banditlab._worker_warmup, preloaded after the built-in modules).
            fd, path = tempfile.mkstemp(prefix="banditlab-forkserver-")
            os.close(fd)
            os.environ[SERVER_READY_ENV] = path
            _server_ready_path = path
            atexit.register(_remove_marker, path)
        # The server is a new process in this one's process group: a Ctrl-C while it
        # imports would kill it with a traceback on the terminal. It starts with SIGINT
        # blocked (the mask is inherited through exec, in whatever thread this runs), and
        # so do the workers it forks until worker_init has installed their handler.
        # (multiprocessing's resource tracker, which the server's start starts first,
        # unblocks SIGINT after its own start: start it before blocking.)
        import multiprocessing.resource_tracker

        with contextlib.suppress(Exception):  # the pool start reports real failures
            multiprocessing.resource_tracker.ensure_running()
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                multiprocessing.forkserver.ensure_running()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _get_pool(self) -> ProcessPoolExecutor:
        key = (self.n_workers - 1, self.preload)
        pool = self._pools.get(key)
        if pool is None or getattr(pool, "_broken", False) or getattr(pool, "_shutdown_thread",
                                                                        False):
            ctx = self._context()
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

    def _forget(self, pool: ProcessPoolExecutor) -> None:
        """Stop keeping ``pool`` for later calls."""
        for key, p in list(self._pools.items()):
            if p is pool:
                del self._pools[key]

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Terminate the pool's workers and forget the pool (the next call starts a new one)."""
        self._forget(pool)
        procs = getattr(pool, "_processes", None)
        procs = {} if procs is None else procs  # the pool's own dict: see below

        def terminate() -> None:
            for proc in list(procs.values()):
                with contextlib.suppress(Exception):
                    proc.terminate()

        terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        # shutdown() waits for a submit in progress in another thread, which may have
        # added a worker to the dict meanwhile: stop it too, so that nothing waits for it.
        terminate()

    def __call__(self, units: Sequence[Sequence[Task]], backend: str, commit: Commit) -> None:
        """Run every unit in the pool or in this process; commit outcomes as units complete.

        A dispatcher thread starts the pool (once the prestarted server is ready, or
        after :data:`POOL_START_DELAY_S` of work without ``prestart``; at once with a
        pool kept from an earlier call) and hands units to the workers from
        the front of the list: :data:`UNITS_PER_WORKER` to each worker once it has
        answered a probe (it has started), then one more whenever one of its units
        ends, so nothing piles up in the pool's queue and a worker never waits for this
        process. Meanwhile this process runs units itself from the end of the list and
        commits every unit's outcomes (from workers too) in this thread. When no unit is
        left to start, it runs a copy of a unit still in a worker (newest first) instead
        of waiting idle; every task is committed once, from whichever copy ends first
        (tasks are pure functions of their seeds, so both copies are identical), and
        the sweep ends as soon as every task is committed.

        Raises:
            RunInterrupted: After a Ctrl-C, once the running units have returned the
                tasks they finished (units not started are not run).
        """
        import collections
        import threading

        queue = collections.deque(units)
        lock = threading.Lock()  # guards queue pops, in_flight and claimed
        in_flight: dict[Any, Sequence[Task]] = {}  # worker future -> its unit
        claimed = [0]  # units popped by the dispatcher and not yet in in_flight
        finished = threading.Event()  # set when this call ends: the dispatcher stops
        started: dict[str, Any] = {}  # "pool" once started, "error" if dispatching failed
        kept = self._pool_alive()  # a pool of an earlier call, started and warm
        # A prestarted server makes workers cheap to start: they start once it is ready
        # (about half a second). Otherwise the sweep was expected to be short: workers
        # (and their server) only after POOL_START_DELAY_S.
        delay = 0.0 if kept or self.prestart else _pool_start_delay()
        self.units_in_workers = 0

        def hand_out(pool: ProcessPoolExecutor, n: int, pending: set) -> None:
            for _ in range(n):
                with lock:
                    if not queue or finished.is_set() or stop_requested():
                        return
                    unit = queue.popleft()
                    claimed[0] += 1
                try:
                    fut = pool.submit(run_unit, unit, backend, self.writer)
                finally:
                    with lock:
                        claimed[0] -= 1
                with lock:
                    in_flight[fut] = unit
                pending.add(fut)

        def dispatch() -> None:
            # A sweep that this process finishes within the delay never starts workers
            # (starting one costs CPU that a short sweep on a small machine never repays).
            try:
                if finished.wait(delay) or stop_requested():
                    return
                with lock:
                    if not queue:
                        return  # this process has taken every unit (a one-unit sweep)
                if not kept:
                    self.start_server()  # now if not prestarted (else a no-op)
                # Workers are started once the forkserver is ready (it says so in a
                # file): a sweep that ends earlier starts none, and starting them takes
                # milliseconds instead of blocking until the server has imported banditlab.
                # A server started by other code before ours never says so: wait at most
                # SERVER_READY_TIMEOUT_S, then start workers anyway.
                ready = None if kept else _server_ready_path
                deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
                while (ready is not None and not _marked(ready)
                       and time.monotonic() < deadline):
                    if finished.wait(0.02) or stop_requested():
                        return
                with lock:
                    if not queue:
                        return
                pool = self._get_pool()
                with lock:
                    if finished.is_set():
                        return  # the sweep ended meanwhile: no worker is started
                    started["pool"] = self._pool = pool
                probes = {pool.submit(_ready) for _ in range(self.n_workers - 1)}
                pending = set(probes)
                while pending and not finished.is_set():
                    done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                    for fut in done:
                        if fut.exception() is not None:
                            raise fut.exception()
                        hand_out(pool, UNITS_PER_WORKER if fut in probes else 1, pending)
            except BaseException as exc:  # noqa: BLE001 - raised in the calling thread
                started["error"] = exc

        committed: set[str] = set()

        def commit_new(outcomes: list[Outcome]) -> None:
            _commit_new_outcomes(outcomes, committed, commit, self.writer)

        def covered(unit: Sequence[Task]) -> bool:
            return all(t.task_id in committed for t in unit)

        backed: set[Any] = set()  # worker futures whose unit this process runs as well
        moot: list[Any] = []  # worker futures whose unit was committed from that copy
        if not kept and len(queue) > 1 and self.prestart:
            self.start_server()
        dispatcher = threading.Thread(target=dispatch, name="banditlab-dispatch", daemon=True)
        dispatcher.start()
        stopped_at = None  # when this process saw a Ctrl-C
        try:
            while True:
                if "error" in started:
                    raise started["error"]
                with lock:
                    done = [f for f in in_flight if f.done()]
                for fut in done:
                    with lock:
                        unit = in_flight.pop(fut)
                    if fut in backed and covered(unit):
                        _remove_written(fut)  # the copy run here was committed first
                        continue
                    if fut.exception() is not None:
                        raise fut.exception()
                    self.units_in_workers += 1
                    commit_new(fut.result())
                with lock:
                    unit = queue.pop() if queue and not stop_requested() else None
                if unit is not None:
                    commit_new(run_unit(unit, backend))
                    continue
                with lock:
                    for fut in [f for f in in_flight if f in backed and covered(in_flight[f])]:
                        # Committed from the copy run here: the worker's copy is moot, and
                        # the file it writes is removed when it ends.
                        del in_flight[fut]
                        moot.append(fut)
                        fut.add_done_callback(_remove_written)
                    running = [(f, u) for f, u in in_flight.items()
                               if not f.done() and f not in backed]
                    if not in_flight and not claimed[0] and (not queue or stop_requested()):
                        break
                if running and not stop_requested():
                    # Nothing left to start: rather than wait idle for a worker's unit,
                    # run the newest one here too; whichever copy ends first is committed.
                    fut, unit = running[-1]
                    backed.add(fut)
                    commit_new(run_unit(unit, backend))
                    continue
                with lock:
                    waiting = list(in_flight)
                if stop_requested():
                    # Workers return the tasks they finished within milliseconds of a
                    # Ctrl-C; a unit that has not come back after INTERRUPT_GRACE_S (a
                    # worker that died while starting) is given up and its workers are
                    # stopped below: its tasks run again on resume.
                    stopped_at = stopped_at or time.monotonic()
                    if time.monotonic() - stopped_at > INTERRUPT_GRACE_S:
                        break
                if waiting:
                    wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(0.005)  # the dispatcher is submitting a claimed unit
            if stop_requested():
                raise RunInterrupted()
        except BaseException:
            # An interrupt (the workers' stop flags are set), a failed commit (disk
            # full), a second Ctrl-C or a broken pool: stop the workers at once and
            # start a new pool next time; nothing half-written stays (atomic store).
            finished.set()
            dispatcher.join(timeout=1)
            pool = started.get("pool")
            if pool is not None:
                self._discard(pool)
            raise
        # The dispatcher is not joined: one still starting workers (the sweep ended
        # meanwhile) stops them itself once they have started.
        with lock:
            finished.set()
            pool = started.get("pool")
        if pool is not None and any(not f.done() for f in moot):
            # A worker still runs a unit committed from the copy run here: stop the
            # workers rather than keep a busy pool (which the interpreter would wait for
            # at exit).
            self._discard(pool)


def _commit_new_outcomes(outcomes: list[Outcome], committed: set[str], commit: Commit,
                         writer: ResultStore | None) -> None:
    """Commit the outcomes of a unit copy whose tasks are not in ``committed`` yet.

    A unit run twice (a backup copy) is committed once, task by task. A file a worker
    wrote for a copy none of whose tasks is new is removed. When only some are new (the
    other copy was cut short by a Ctrl-C), the file also holds rows of tasks committed
    from the other copy: their lines are appended again, naming this file, so that every
    row of a task file is named by a manifest line (the older copy's file then holds a
    superseded copy, which loading and compaction leave out). Both copies are identical.
    """
    fresh = [o for o in outcomes if _outcome_task_id(o) not in committed]
    committed.update(_outcome_task_id(o) for o in fresh)
    if fresh:
        commit(fresh)
    kept = {p.path for st, p in fresh if st == "written"}
    again = []
    if len(fresh) < len(outcomes):  # a copy partly committed from the other one
        new = {_outcome_task_id(o) for o in fresh}
        again = [p.line for st, p in outcomes
                 if st == "written" and p.path in kept and p.task_id not in new]
    if again and writer is not None:
        writer.commit_lines(again)
    for path in {p.path for st, p in outcomes if st == "written"} - kept:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _remove_written(fut: Any) -> None:
    """Remove the files a worker wrote for a unit of which no task is committed."""
    if fut.cancelled() or fut.exception() is not None:
        return
    for path in {p.path for status, p in fut.result() if status == "written"}:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _outcome_task_id(outcome: Outcome) -> str:
    status, payload = outcome
    return payload[0].task_id if status == "error" else payload.task_id


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
                  n_tasks: int | None = None, writer: ResultStore | None = None,
                  prestart: bool = True) -> Executor:
    """The executor for ``n_jobs`` workers or a Dask ``scheduler``.

    Args:
        n_jobs: Local worker processes (``1``: serial in this process).
        scheduler: A Dask scheduler address or cluster object (takes precedence).
        preload: Modules local workers import first (an experiment's ``imports``).
        n_tasks: Number of tasks to run; with at most one, local runs stay serial.
        writer: The store local workers write their results to (see
            :class:`ProcessExecutor`); Dask workers always send results back.
        prestart: Whether local workers' server starts with the sweep
            (:class:`ProcessExecutor`).

    Returns:
        A :class:`DaskExecutor`, :class:`SerialExecutor` or :class:`ProcessExecutor`.
    """
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if n_jobs == 1 or (n_tasks is not None and n_tasks <= 1):
        return SerialExecutor()
    return ProcessExecutor(n_jobs, preload, writer, prestart)


def execute_tasks(
    tasks: Sequence[Task],
    commit: Commit,
    *,
    backend: str = "auto",
    n_jobs: int = 1,
    scheduler: Any = None,
    preload: Sequence[str] = (),
    writer: ResultStore | None = None,
    prestart: bool = True,
) -> Executor:
    """Run tasks with the executor :func:`make_executor` picks, committing outcomes.

    Args:
        tasks: Tasks to run.
        commit: Called in this process with the outcomes of each finished unit.
        backend: Execution path of every task.
        n_jobs: Local worker processes.
        scheduler: A Dask scheduler address or cluster object.
        preload: Modules local workers import first.
        writer: The store local workers write results to (``commit`` then receives
            ``("written", WrittenTask)`` outcomes from them).
        prestart: Start local workers' server with the sweep (see :class:`ProcessExecutor`).

    Returns:
        The executor that ran them.
    """
    executor = make_executor(n_jobs, scheduler, preload, n_tasks=len(tasks), writer=writer,
                             prestart=prestart)
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
