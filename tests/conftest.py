"""Shared pytest configuration: headless plotting, no progress bars, caches in a temporary dir.

Tests never write outside temporary directories: banditlab's disk caches (the SOR
cost tables, ``$BANDITLAB_CACHE_DIR``) go to a directory created for the session and
removed at exit, whatever the caller's environment says. Subprocesses inherit it.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

_CACHE = tempfile.mkdtemp(prefix="banditlab-test-cache-")
os.environ["BANDITLAB_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
