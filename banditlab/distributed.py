"""Dask backend: run an experiment's work units on an existing Dask cluster.

The implementation lives in :mod:`banditlab.execution` (:class:`~banditlab.execution.DaskExecutor`
behind the same interface as the local backends); this module keeps the public
name :func:`run_units_dask` importable from here.

Usage (start a scheduler and workers with Dask's own commands)::

    dask scheduler                       # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1
    banditlab run sweep.toml --scheduler tcp://HOST:8786

Requires the ``dask`` extra (``pip install "banditlab[dask]"``); workers need
banditlab installed in the same version.
"""

from __future__ import annotations

from banditlab.execution import run_units_dask

__all__ = ["run_units_dask"]
