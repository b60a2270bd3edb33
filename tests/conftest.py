"""Shared pytest configuration: headless plotting, no progress bars, caches in a temporary dir.

Tests never write outside temporary directories: banditlab's disk caches (the SOR
cost tables, ``$BANDITLAB_CACHE_DIR``) go to a directory created for the session and
removed at exit, whatever the caller's environment says. Subprocesses inherit it.
"""

import atexit
import contextlib
import io
import os
import shutil
import tempfile
import time

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
# Local sweeps start their worker processes at once (the default waits a second, so that
# a short sweep never pays for workers): every -j N test then runs units in workers.
os.environ["BANDITLAB_POOL_START_DELAY"] = "0"

_CACHE = tempfile.mkdtemp(prefix="banditlab-test-cache-")
os.environ["BANDITLAB_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


_SMOKE_REPRODUCTIONS: dict = {}


@pytest.fixture(scope="session")
def smoke_reproduction(tmp_path_factory):
    """``reproduce(key)`` -> ``(out_dir, exit_code, printed, seconds)``, run once per session.

    ``banditlab reproduce KEY --scale smoke -j 1 --backend python`` for a paper key; the
    shipped-experiment tests read the results of their file from ``out_dir/<experiment>``
    instead of running it a second time.
    """
    from banditlab.cli import main

    def reproduce(key: str):
        if key not in _SMOKE_REPRODUCTIONS:
            out = tmp_path_factory.mktemp(f"smoke-{key}") / key
            buf = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(buf):
                rc = main(["reproduce", key, "--scale", "smoke", "--out", str(out), "-j", "1",
                           "--backend", "python", "--no-progress"])
            _SMOKE_REPRODUCTIONS[key] = (out, rc, buf.getvalue(), time.perf_counter() - start)
        return _SMOKE_REPRODUCTIONS[key]

    return reproduce
