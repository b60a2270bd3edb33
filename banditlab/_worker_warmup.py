"""Imported by the local workers' ``forkserver`` process: initialise Numba once there.

The first call of any compiled function in a process initialises Numba's CPU target
(its typing and lowering registries, including SciPy's BLAS bindings): about 0.4 s
on a 2-core machine, paid before the process can run a single kernel. Importing this
module in the server (see :class:`banditlab.execution.ProcessExecutor`) pays it once
there, so every worker forked from the server starts with an initialised target and
only loads its pairs' compiled loops from Numba's on-disk cache.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def _one() -> int:
    return 1


_one()
