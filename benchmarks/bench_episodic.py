"""Episodes per second of adversarial linear MDP runs: the Gymnasium loop against the fused loop.

Usage::

    python benchmarks/bench_episodic.py [--episodes 65536] [--python-episodes 400]
                                        [--repeats 3] [--seconds 1.0] [--quick]
                                        [--before DIR]

For each agent, on ``AdvLinearQMDP`` with ``H = 3, N = 4, A = 3, d = 4`` and the exact
simulator (``simulator_mode="exact"``), both execution paths of
:func:`banditlab.harness.run` are timed side by side in one process: ``backend="python"``
(the Gymnasium loop, one Python call per step; what every episodic run used before the
fused episodic path existed) and ``backend="kernel"`` (the fused episode loop of
:mod:`banditlab._fused`). Same env instance, same agent and hyperparameters (the agents'
rates use the env's ``n_episodes``, so both paths run the same algorithm), same seed.

After a warm-up run of each path (compilation, cached on disk), a calibration run sets
the number of episodes of each timed run: about ``--seconds`` of work, at least
``--python-episodes`` for the Python path and at most ``--episodes`` for the fused one.
Each path is timed ``--repeats`` times, alternating; the table shows the median
episodes per second, their ratio (fused / Python), and whether both paths recorded the
same curves over the episodes the Python run played (the fused run is checkpointed
there too). No assertions: figures only.

``--before DIR`` adds the Python path of the code before the fused episodic path
existed, timed in the same process: ``DIR`` holds that version's ``envs/advmdp`` and
``agents/advmdp`` (``git archive 5bc00a0 envs/advmdp agents/advmdp | tar -x -C DIR``),
whose env, oracle and agent modules are loaded under other names (the model module is
today's; its kernels did not change). Rows whose options that version lacks show ``-``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from banditlab.agents.advmdp.baselines import AdvMDPUniform
from banditlab.agents.advmdp.policy_opt import DilatedBonusPO, LogBarrierPO, MagnitudeReducedPO
from banditlab.envs.advmdp.env import AdvLinearQMDP
from banditlab.harness import run

SIZE = {"H": 3, "N": 4, "A": 3, "d": 4}
EXACT = {"cov_estimator": "exact", "bonus": "exact_dp"}

# name: (class, kwargs, whether the version before the fused path had the same options)
AGENTS = {
    "Uniform": (AdvMDPUniform, {}, True),
    "Dilated-Bonus PO, exact cov/bonus": (DilatedBonusPO, {"c_eta": 10.0, **EXACT}, True),
    "Log-Barrier PO, exact cov/bonus": (LogBarrierPO, {"c_eta": 30.0, **EXACT}, True),
    "A2-candidate PO, exact cov/bonus": (MagnitudeReducedPO, {"c_eta": 30.0, **EXACT}, True),
    "Dilated-Bonus PO, defaults (MGR)": (DilatedBonusPO, {}, False),
    "Log-Barrier PO, defaults (MGR)": (LogBarrierPO, {}, False),
}

_BEFORE_MODULES = {  # in import order
    "banditlab.envs.advmdp.oracle": "envs/advmdp/oracle.py",
    "banditlab.envs.advmdp.env": "envs/advmdp/env.py",
    "banditlab.agents.advmdp.covariance": "agents/advmdp/covariance.py",
    "banditlab.agents.advmdp.policy_opt": "agents/advmdp/policy_opt.py",
    "banditlab.agents.advmdp.baselines": "agents/advmdp/baselines.py",
}


def load_before(root: Path) -> dict[str, object]:
    """The env and agent modules of an older tree, loaded as ``bench_before_<stem>``."""
    alias = {m: f"bench_before_{Path(f).stem}" for m, f in _BEFORE_MODULES.items()}
    out = {}
    for module, rel in _BEFORE_MODULES.items():
        text = (root / rel).read_text()
        for other, name in alias.items():
            text = text.replace(f"from {other} import", f"from {name} import")
        path = root / f"{alias[module]}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(alias[module], path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[alias[module]] = mod
        spec.loader.exec_module(mod)
        out[module.rsplit(".", 1)[1]] = mod
    return out


def _timed(env, make_agent, backend: str, n: int, checkpoints: list[int]):
    t0 = time.perf_counter()
    res = run(env, make_agent(), seed=1, backend=backend, run_length=n,
              checkpoints=checkpoints)
    return n / (time.perf_counter() - t0), res


def bench(name: str, n_episodes: int, n_py_min: int, repeats: int, seconds: float,
          before: dict | None = None):
    """Median episodes/s of both paths (and of the older Python path), and whether the
    curves of both paths agree."""
    cls, kwargs, comparable = AGENTS[name]

    def make_agent():
        return cls(**kwargs)

    env = AdvLinearQMDP(n_episodes=n_episodes, simulator_mode="exact", **SIZE)
    old_env = old_agent = None
    if before is not None and comparable:
        old_env = before["env"].AdvLinearQMDP(n_episodes=n_episodes, simulator_mode="exact",
                                              **SIZE)
        module = before["baselines" if cls is AdvMDPUniform else "policy_opt"]

        def old_agent():
            return getattr(module, cls.__name__)(**kwargs)

        run(old_env, old_agent(), seed=0, backend="python", run_length=20, checkpoints=[20])
    for backend in ("python", "kernel"):  # warm-up: compile (or load) everything
        run(env, make_agent(), seed=0, backend=backend, run_length=20, checkpoints=[20])
    rate_py, _ = _timed(env, make_agent, "python", min(n_py_min, n_episodes), [1])
    n_py = int(min(n_episodes, max(n_py_min, seconds * rate_py)))
    rate_fu, _ = _timed(env, make_agent, "kernel", n_py, [n_py])
    n_fu = int(min(n_episodes, max(n_py, seconds * rate_fu)))
    py_rates, fu_rates, old_rates, same = [], [], [], True
    for _ in range(repeats):
        if old_env is not None:
            old_rates.append(_timed(old_env, old_agent, "python", n_py, [n_py])[0])
        r_py, res_py = _timed(env, make_agent, "python", n_py, [n_py])
        cps = [n_py] if n_fu == n_py else [n_py, n_fu]
        r_fu, res_fu = _timed(env, make_agent, "kernel", n_fu, cps)
        py_rates.append(r_py)
        fu_rates.append(r_fu)
        same &= all(np.array_equal(res_py.curves[m][0], res_fu.curves[m][0], equal_nan=True)
                    for m in res_py.curves)
    old = statistics.median(old_rates) if old_rates else None
    return old, statistics.median(py_rates), n_py, statistics.median(fu_rates), n_fu, same


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2**16,
                        help="n_episodes of the env (most episodes a fused run plays)")
    parser.add_argument("--python-episodes", type=int, default=400,
                        help="fewest episodes of a Python run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="target length of a run")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 0.3 s runs")
    parser.add_argument("--before", type=Path, default=None,
                        help="older envs/advmdp + agents/advmdp tree to time as well")
    args = parser.parse_args()
    repeats, seconds = (1, 0.3) if args.quick else (args.repeats, args.seconds)
    before = None if args.before is None else load_before(args.before)
    print(f"AdvLinearQMDP H=3 N=4 A=3 d=4, exact simulator, n_episodes={args.episodes}; "
          f"median of {repeats} runs, episodes/s")
    print(f"{'agent':34s} {'before':>7s} {'python':>7s} {'(eps)':>6s} {'fused':>8s} "
          f"{'(eps)':>6s} {'fused/python':>12s} {'fused/before':>12s}  same curves")
    for name in AGENTS:
        old, py, n_py, fu, n_fu, same = bench(name, args.episodes, args.python_episodes,
                                              repeats, seconds, before)
        old_s, vs_old = ("-", "-") if old is None else (f"{old:.0f}", f"{fu / old:.1f}x")
        print(f"{name:34s} {old_s:>7s} {py:7.0f} {n_py:6d} {fu:8.0f} {n_fu:6d} "
              f"{fu / py:11.1f}x {vs_old:>12s}  {'yes' if same else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
