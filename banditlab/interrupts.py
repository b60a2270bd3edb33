"""Clean interrupts: Ctrl-C stops a run between tasks, keeps what finished; no worker outlives us.

**In the process that runs an experiment** :func:`interrupt_guard` replaces the
``SIGINT`` handler while tasks run. The first Ctrl-C does not raise anything (an
exception raised while compiled Numba code runs would surface later as a
``SystemError`` and look like a task failure); it sets a flag that the run loops
check at every checkpoint and the executors check between tasks, and forwards the
signal to the local worker processes. Every task that finished before the flag
was seen is committed; the task running when it was seen is abandoned (it is
recomputed on resume, with the same result since every task is a pure function of
its seeds); then the harness raises :class:`RunInterrupted`, which the CLI turns
into one line and exit status 130. A second Ctrl-C raises ``KeyboardInterrupt``
at once (workers are terminated, nothing half-written: the task store commits by
atomic rename plus a manifest line).

**In worker processes** :func:`worker_init` installs the same flag handler (so a
Ctrl-C from the terminal, which reaches the whole process group, only asks the
worker to stop after its current task) and makes the kernel kill the worker when
its parent dies (Linux ``PR_SET_PDEATHSIG``; local workers are children of the
``forkserver`` process, which exits when the main process dies, even by
``SIGKILL``). A watcher thread also exits the worker when the main process is
gone, on every POSIX system, as soon as the worker is back in Python code.

The flag is checked at checkpoints, so a task stops within one checkpoint interval
on the Python paths; a fused compiled run without diagnostics finishes its task
(compiled code cannot be interrupted), which is a fraction of a second to seconds
for the shipped experiments.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

__all__ = [
    "RunInterrupted",
    "TaskInterrupted",
    "interrupt_guard",
    "stop_requested",
    "raise_if_stopped",
    "worker_init",
    "request_stop",
    "clear_stop",
]

_STOP = threading.Event()


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C after committing every task that had finished.

    Subclasses ``KeyboardInterrupt``, so code that handles interrupts keeps working.

    Attributes:
        n_saved: Tasks committed in the results directory (this run and earlier ones).
        n_tasks: Tasks in the experiment.
        results_dir: The results directory (rerun the same command to resume).
    """

    def __init__(self, n_saved: int = 0, n_tasks: int = 0, results_dir: str = ""):
        super().__init__(n_saved, n_tasks, results_dir)
        self.n_saved = n_saved
        self.n_tasks = n_tasks
        self.results_dir = results_dir

    def __str__(self) -> str:
        return (f"interrupted: {self.n_saved} of {self.n_tasks} tasks saved in "
                f"{self.results_dir}; run the same command again to resume")


class TaskInterrupted(Exception):
    """Raised inside a task's run loop when a stop was requested (the task is abandoned)."""


def stop_requested() -> bool:
    """Whether a stop (Ctrl-C) was requested in this process."""
    return _STOP.is_set()


def raise_if_stopped() -> None:
    """Raise :class:`TaskInterrupted` when a stop was requested (called at checkpoints)."""
    if _STOP.is_set():
        raise TaskInterrupted("stop requested")


def request_stop() -> None:
    """Ask the running tasks of this process to stop (what the first Ctrl-C does)."""
    _STOP.set()


def clear_stop() -> None:
    """Forget a stop request (at the start of a run)."""
    _STOP.clear()


@contextlib.contextmanager
def interrupt_guard(forward: Callable[[], list[int]] | None = None) -> Iterator[None]:
    """Handle Ctrl-C as a stop request while the block runs (main thread only).

    Args:
        forward: Returns the pids of worker processes to forward the first ``SIGINT``
            to (they stop after their current task).

    Yields:
        Nothing; outside the main thread the block runs with the handler unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):  # noqa: ARG001 - signal handler signature
        if _STOP.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        _STOP.set()
        for pid in (forward() if forward is not None else []):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)

    clear_stop()
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        clear_stop()


def _set_parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        return libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - non-glibc systems
        return False


def _watch(main_pid: int, parent_pid: int) -> None:
    while True:
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - pid reused by another user
            os._exit(1)
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(1.0)


def worker_init(main_pid: int) -> None:
    """Initialise a local worker process (``ProcessPoolExecutor`` initializer).

    Installs the stop-flag ``SIGINT`` handler, then unblocks ``SIGINT`` (workers are
    forked with it blocked, so that a Ctrl-C while they start is held, not fatal), and
    makes the worker die with its parent (see the module docstring).

    Args:
        main_pid: Pid of the process running the experiment.
    """
    clear_stop()
    signal.signal(signal.SIGINT, lambda signum, frame: _STOP.set())
    # Forked with SIGINT blocked (see ProcessExecutor.start_server): a Ctrl-C that came
    # while the worker started is delivered now, to the handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent = os.getppid()
    if _set_parent_death_signal() and os.getppid() != parent:  # parent died meanwhile
        os._exit(1)
    threading.Thread(target=_watch, args=(main_pid, parent), daemon=True,
                     name="banditlab-parent-watch").start()
