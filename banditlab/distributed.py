"""Dask backend: run an experiment's work units on an existing Dask cluster.

Design choice: **workers return results to the client, which writes them** through the
same atomic task store as the local backends. Workers therefore need no shared
filesystem and never touch the manifest, so there is exactly one writer and a
crash of any worker cannot leave a half-written result. A worker that dies
mid-task loses only that unit: Dask reschedules it on another worker, and since
every task is a pure function of its seeds the result is unchanged.

Usage (start a scheduler and workers with Dask's own commands)::

    dask scheduler                       # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1
    banditlab run sweep.toml --scheduler tcp://HOST:8786

Requires the ``dask`` extra (``pip install "banditlab[dask]"``); workers need
banditlab installed in the same version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from banditlab.core import BanditlabError

__all__ = ["run_units_dask"]


def _client(scheduler: Any):
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
    commit: Callable[[list[tuple[str, Any]]], None],
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
    from distributed import as_completed

    from banditlab.harness import _run_unit

    client, owned = _client(scheduler)
    try:
        futures = [
            client.submit(_run_unit, list(unit), backend, retries=retries, pure=False,
                          key=f"banditlab-unit-{unit[0].task_id}-{len(unit)}")
            for unit in units
            if unit
        ]
        for future in as_completed(futures):
            commit(future.result())
    finally:
        if owned:
            client.close()
