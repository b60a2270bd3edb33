"""Compile once per machine: cold and warm start of one (env, agent) pair per family.

Each measurement is a fresh Python process that imports banditlab, builds the env and
the agent and runs 100 rounds (2 episodes of the adversarial MDP) on the fused path,
timed from process start to the end of the run: the run itself takes well under a
millisecond, so this is the time a process spends before it steps. **Cold**:
empty Numba and banditlab caches (``NUMBA_CACHE_DIR`` and ``BANDITLAB_CACHE_DIR``
point to a new directory), so every kernel and the pair's fused loop compile.
**Warm**: later processes with the same caches, which load everything from disk (best
of three).
The import of banditlab alone is reported for reference, and so is **Numba's floor**: a
process that imports NumPy, Numba and Gymnasium and calls one trivial ``@njit(cache=True)``
function already compiled to the same cache (what any process that runs a cached Numba
function pays before its first compiled step: Numba's import and its CPU target's
initialisation, which imports ``scipy.linalg`` for its BLAS bindings).

Run:  python benchmarks/bench_compile.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

PAIRS = {
    "classic": ("banditlab/Bernoulli10-v0", "UCB1-v0"),
    "lsd": ("banditlab/LSDLaforgue5-v1", "LSDUCBGreedy-v0"),
    "amdp": ("banditlab/RiverSwim-v0", "UCRL2-v1"),
    "sea": ("banditlab/SEAQuadratic-v0", "OOMD-v0"),
    "sor": ("banditlab/SORTable-v0", "RelaxTsallisINF-v1"),
    "advmdp": ("banditlab/AdvLinearQMDP-v0", "LogBarrierPO-v1"),
}

PROBE = """
import sys, time
from banditlab.harness import run
from banditlab.experiment import Experiment, AgentConfig, EnvConfig
env_id, agent_id = sys.argv[1], sys.argv[2]
exp = Experiment([EnvConfig(env_id)], [AgentConfig(agent_id)], n_seeds=1, run_length=%d)
task = exp.tasks()[0]
from banditlab.loops import run_task
res = run_task(task)
print(res.backend)
"""


FLOOR_MODULE = """
from numba import njit


@njit(cache=True)
def total(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s
"""

FLOOR = """
import numpy as np
import gymnasium
from floor_module import total
total(np.ones(3))
"""


def _timed(args: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                         check=True)
    return time.perf_counter() - start, out.stdout.strip().splitlines()[-1] if out.stdout else ""


def main() -> None:
    print("cold / warm process time (import + build + compile or load + 100 rounds), seconds")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"),
                   BANDITLAB_CACHE_DIR=os.path.join(tmp, "banditlab"))
        imp = min(_timed(["-c", "import banditlab.envs, banditlab.agents"], env)[0]
                  for _ in range(3))
        print(f"  import banditlab (envs, agents): {imp:.2f}")
        floor_dir = os.path.join(tmp, "floor")
        os.makedirs(floor_dir)
        with open(os.path.join(floor_dir, "floor_module.py"), "w") as fh:
            fh.write(FLOOR_MODULE)
        floor_env = dict(env, PYTHONPATH=floor_dir)
        _timed(["-c", FLOOR], floor_env)  # compile and cache
        floor = min(_timed(["-c", FLOOR], floor_env)[0] for _ in range(3))
        print(f"  Numba's floor (numpy, numba, gymnasium, one cached njit call): {floor:.2f}")
        for family, (env_id, agent_id) in PAIRS.items():
            env = dict(env, NUMBA_CACHE_DIR=os.path.join(tmp, family, "numba"),
                       BANDITLAB_CACHE_DIR=os.path.join(tmp, family, "banditlab"))
            probe = PROBE % (2 if family == "advmdp" else 100)
            cold, backend = _timed(["-c", probe, env_id, agent_id], env)
            warm = min(_timed(["-c", probe, env_id, agent_id], env)[0] for _ in range(3))
            print(f"  {family:8s} {agent_id:22s} on {env_id:30s} cold {cold:6.2f}  "
                  f"warm {warm:5.2f} (floor + {warm - floor:4.2f})  ({backend} path)")


if __name__ == "__main__":
    main()
