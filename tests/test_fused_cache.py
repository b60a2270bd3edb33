"""The fused loops are compiled once per machine: cached per pair, invalidated by source edits.

* a second process running an already-compiled pair loads both loops from Numba's disk
  cache (no compilation: ``cache_misses == 0``);
* the generated module's name digests the kernels' sources, so an edited kernel gets a
  new module (Numba itself would reuse the stale loop);
* kernels that are not importable by name run on the generic loops, with the same
  results bit for bit.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from numba import njit

from banditlab import _fused
from banditlab.loops import run
from banditlab.registry import make_agent, make_env


def _probe(cache_dir) -> dict:
    code = textwrap.dedent("""
        import json, sys
        from banditlab.loops import run
        from banditlab.registry import make_env, make_agent
        from banditlab import _fused
        env = make_env("banditlab/Bernoulli10-v0", horizon=2000)
        agent = make_agent("UCB1-v0")
        res = run(env, agent, seed=3, backend="kernel")
        loops = _fused.pair_loops(env.kernel, agent.kernel_)
        stats = loops.fused_run.stats
        print(json.dumps({"cached": loops.cached, "hits": sum(stats.cache_hits.values()),
                          "misses": sum(stats.cache_misses.values()),
                          "file": loops.fused_run.py_func.__code__.co_filename,
                          "regret": res.curves["regret/stochastic"].tolist()}))
    """)
    env = dict(os.environ, BANDITLAB_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_compiled_pair_from_disk(tmp_path):
    first = _probe(tmp_path)
    second = _probe(tmp_path)
    assert first["cached"] and second["cached"]
    assert first["file"] == second["file"]
    assert first["file"].startswith(str(tmp_path / "fused"))
    assert first["misses"] == 1 and first["hits"] == 0  # compiled and saved once
    assert second["misses"] == 0 and second["hits"] == 1  # loaded, not compiled
    assert first["regret"] == second["regret"]


KERNELS = '''
import numpy as np
from numba import njit


@njit(cache=True)
def step(state, params, action, rng):
    r = 1.0 if rng.random() < params[action] else 0.0
    state[0] += 1.0
    return r * {scale}, params[action], params.max()


@njit(cache=True)
def observe(state, params):
    return np.zeros(1)


@njit(cache=True)
def checkpoint(state, params):
    return np.zeros(0)


@njit(cache=True)
def select(state, hparams, obs, t, rng):
    return int(rng.integers(0, hparams[0]))


@njit(cache=True)
def update(state, hparams, obs, action, reward, next_obs):
    state[0] += reward
'''


def _kernel_pair(module):
    from banditlab.core import AgentKernel, EnvKernel

    ek = EnvKernel(np.array([0.2, 0.8]), None, module.step, module.observe, module.checkpoint)
    ak = AgentKernel((2,), None, module.select, module.update)
    return ek, ak


def _run_loops(loops, ek, ak, seed=0):
    return loops.fused_run(*loops.kernel_args, np.zeros(1), ek.params, np.zeros(1), ak.hparams,
                           np.random.default_rng(seed), np.random.default_rng(seed + 1),
                           np.zeros(1), np.array([10, 50], dtype=np.int64), 0)


def test_edited_kernel_module_gets_a_new_loop_module(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDITLAB_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "bl_probe_kernels.py"
    path.write_text(KERNELS.format(scale="1.0"))
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    module = importlib.import_module("bl_probe_kernels")
    try:
        loops_a = _fused.pair_loops(*_kernel_pair(module))
        sums_a, _ = _run_loops(loops_a, *_kernel_pair(module))
        path.write_text(KERNELS.format(scale="2.0"))
        module = importlib.reload(module)
        loops_b = _fused.pair_loops(*_kernel_pair(module))
        sums_b, _ = _run_loops(loops_b, *_kernel_pair(module))
    finally:
        sys.modules.pop("bl_probe_kernels", None)
    assert loops_a.cached and loops_b.cached
    file_a = loops_a.fused_run.py_func.__code__.co_filename
    file_b = loops_b.fused_run.py_func.__code__.co_filename
    assert file_a != file_b and os.path.dirname(file_a) == str(tmp_path / "cache" / "fused")
    # The edit doubled every reward: the new loop runs the new kernel, not a stale one.
    np.testing.assert_array_equal(sums_b[:, 0], 2.0 * sums_a[:, 0])
    np.testing.assert_array_equal(sums_b[:, 1:], sums_a[:, 1:])


def test_kernels_not_importable_by_name_run_the_generic_loops_bit_for_bit():
    env = make_env("banditlab/Bernoulli10-v0", horizon=3000)
    agent = make_agent("UCB1-v0")
    reference = run(env, agent, seed=5, backend="kernel")
    ek0 = env.kernel
    inner_step = ek0.step

    @njit
    def wrapped_step(state, params, action, rng):  # defined in a function: not importable
        return inner_step(state, params, action, rng)

    env.kernel = ek0._replace(step=wrapped_step)
    try:
        loops = _fused.pair_loops(env.kernel, agent.kernel_)
        assert not loops.cached and len(loops.kernel_args) == 5
        generic = run(env, agent, seed=5, backend="kernel")
    finally:
        env.kernel = ek0
    for name, values in reference.curves.items():
        np.testing.assert_array_equal(generic.curves[name], values, err_msg=name)
