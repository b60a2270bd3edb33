"""Imported by the local workers' ``forkserver`` process: initialise Numba once there.

The first call of any compiled function in a process initialises Numba's CPU target
(its typing and lowering registries, including SciPy's BLAS bindings): about 0.4 s
on a 2-core machine, paid before the process can run a single kernel. Importing this
module in the server (see :class:`banditlab.execution.ProcessExecutor`) pays it once
there, so every worker forked from the server starts with an initialised target and
only loads its pairs' compiled loops from Numba's on-disk cache. Imported after the
built-in modules, it then writes a byte into the file named by the environment variable
:data:`banditlab.execution.SERVER_READY_ENV`, which tells the calling process that
workers can start without waiting.
"""

from __future__ import annotations

import os

from numba import njit

from banditlab.execution import SERVER_READY_ENV  # preloaded before this module


@njit(cache=True)
def _one() -> int:
    return 1


_one()

# Tell the process that started the server that it is ready (ProcessExecutor.start_server):
# one byte into the file it created (never created here, so nothing is left behind if that
# process has ended and removed it).
_ready = os.environ.get(SERVER_READY_ENV)
if _ready:
    try:
        _fd = os.open(_ready, os.O_WRONLY | os.O_APPEND)
    except OSError:
        pass
    else:
        os.write(_fd, b"1")
        os.close(_fd)
