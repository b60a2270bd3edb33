"""Benchmark of the average-reward MDP family: steps/s and policy switches vs T.

Usage::

    python benchmarks/bench_amdp.py            # T = 1e6 on RiverSwim-6 (fused path)
    python benchmarks/bench_amdp.py --T 200000
    python benchmarks/bench_amdp.py --regret   # regret table at T = 1e5, 8 seeds
    python benchmarks/bench_amdp.py --regret --T-regret 100000 --seeds 8

Prints, side by side: steps per second of UCRL2 (JMLR radii), UCRL2-L and LOOP-Tab on
RiverSwim-6 on the fused Numba path (after a warm-up run that compiles everything) and on
the Python (Gymnasium) path; then the number of policy switches at T = 1e3 .. T for the
LOOP instantiations and UCRL2-L, with the reference O(S A log2 T) / O(d log2 T) scales.

With ``--regret``: instead, the pseudo-regret at ``T`` on RiverSwim-6 (mean and 95%
t-interval over seeds, seeds 0..n-1, fused path) of UCRL2 (JMLR and Laplace radii),
KL-UCRL, UCRL2B, PMEVI-DT, LOOP-Tab (B = sp(h*)) and PSRL, with their switch counts.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from banditlab.agents.amdp.baselines import PSRL
from banditlab.agents.amdp.evi_agents import KLUCRL, PMEVIDT, UCRL2B
from banditlab.agents.amdp.linear import LOOPLin
from banditlab.agents.amdp.loop import LOOPMix, LOOPTab
from banditlab.agents.amdp.ucrl2 import UCRL2
from banditlab.envs.amdp.env import LinearAMDP, LinearMixtureAMDP, RiverSwim
from banditlab.harness import run


def _steps_per_s(make_agent, horizon: int, backend: str, seed: int = 0) -> tuple[float, dict]:
    env = RiverSwim(n=6, horizon=horizon)
    run(RiverSwim(n=6, horizon=1000), make_agent(), seed=seed, backend=backend)  # warm-up
    t0 = time.perf_counter()
    res = run(env, make_agent(), seed=seed, backend=backend, checkpoints=[horizon])
    return horizon / (time.perf_counter() - t0), res.finals


def regret_table(horizon: int, n_seeds: int) -> None:
    """Pseudo-regret at ``horizon`` on RiverSwim-6: mean and 95% t-interval over seeds."""
    span = RiverSwim().oracle.span
    agents = {
        "UCRL2 (JMLR radii)": lambda: UCRL2(radius="joa"),
        "UCRL2-L (Laplace radii)": lambda: UCRL2(radius="laplace"),
        "KL-UCRL": KLUCRL,
        "UCRL2B": UCRL2B,
        "PMEVI-DT": PMEVIDT,
        "LOOP-Tab (B = sp)": lambda: LOOPTab(span_bound=span),
        "PSRL": PSRL,
    }
    q = stats.t.ppf(0.975, n_seeds - 1)
    print(f"RiverSwim-6, T = {horizon}, seeds 0..{n_seeds - 1}: pseudo-regret, mean +- 95% CI")
    for name, make in agents.items():
        regs, sw = [], []
        for seed in range(n_seeds):
            res = run(RiverSwim(n=6, horizon=horizon), make(), seed=seed, checkpoints=[horizon])
            regs.append(res.finals["pseudo_regret/gain"])
            sw.append(res.finals["agent/switches"])
        r = np.asarray(regs)
        half = q * r.std(ddof=1) / np.sqrt(n_seeds)
        print(f"{name:26s} {r.mean():9.0f} +- {half:6.0f}   switches {np.mean(sw):6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=1_000_000, help="fused-path horizon")
    parser.add_argument("--T-python", type=int, default=20_000, help="Python-path horizon")
    parser.add_argument("--T-switch", type=int, default=100_000, help="switch-count horizon")
    parser.add_argument("--regret", action="store_true", help="print the regret table only")
    parser.add_argument("--T-regret", type=int, default=100_000, help="regret-table horizon")
    parser.add_argument("--seeds", type=int, default=8, help="regret-table seeds")
    args = parser.parse_args()
    if args.regret:
        regret_table(args.T_regret, args.seeds)
        return

    span = RiverSwim().oracle.span
    agents = {
        "UCRL2 (JMLR radii)": lambda: UCRL2(radius="joa"),
        "UCRL2-L": lambda: UCRL2(radius="laplace"),
        "LOOP-Tab (B = sp)": lambda: LOOPTab(span_bound=span),
        "LOOP-Tab (B = sp, model exit)": lambda: LOOPTab(span_bound=span,
                                                         switch="doubling+model_exit"),
    }
    print(f"RiverSwim-6, J* = {RiverSwim().oracle.gain:.6f}, sp(h*) = {span:.4f}")
    print(f"{'agent':32s} {'fused steps/s':>14s} {'python steps/s':>15s} "
          f"{'pseudo-regret(T)':>17s} {'switches':>9s}")
    for name, make in agents.items():
        fused, finals = _steps_per_s(make, args.T, "kernel")
        py, _ = _steps_per_s(make, args.T_python, "python")
        print(f"{name:32s} {fused:14.3g} {py:15.3g} {finals['pseudo_regret/gain']:17.1f} "
              f"{finals['agent/switches']:9.0f}")
    print(f"(fused: T = {args.T}; python: T = {args.T_python})")

    T = args.T_switch
    grid = [t for t in (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000) if t <= T]
    print(f"\npolicy switches vs T (one run each, seed 0, T = {T})")
    rows = []
    rs = RiverSwim(n=6, horizon=T)
    rows.append(("UCRL2-L, RiverSwim-6", "S A log2 T", 12,
                 run(rs, UCRL2(radius="laplace"), seed=0, checkpoints=grid)))
    rows.append(("LOOP-Tab, RiverSwim-6", "S A log2 T", 12,
                 run(rs, LOOPTab(span_bound=span), seed=0, checkpoints=grid)))
    for d in (4, 8, 16):
        env = LinearAMDP(dim=d, horizon=T)
        kc = env.known_constants
        res = run(env, LOOPLin(features=kc["features"], span_bound=kc["span_bound"], horizon=T),
                  seed=0, checkpoints=grid)
        rows.append((f"LOOP-Lin, LinearAMDP d={d}", "d log2 T", d, res))
    env = LinearMixtureAMDP(horizon=T)
    kc = env.known_constants
    res = run(env, LOOPMix(mixture_features=kc["mixture_features"], span_bound=kc["span_bound"],
                           theta_norm_bound=kc["theta_norm_bound"]), seed=0, checkpoints=grid)
    rows.append(("LOOP-Mix, LinearMixture d=4", "d log2 T", 4, res))
    print(f"{'agent / env':30s} " + " ".join(f"{t:>8d}" for t in grid) + "   ref scale")
    for name, ref, mult, res in rows:
        sw = res.curves["agent/switches"]
        refs = "/".join(f"{mult * math.log2(t):.0f}" for t in grid)
        print(f"{name:30s} " + " ".join(f"{v:8.0f}" for v in np.asarray(sw)) + f"   {ref}: {refs}")


if __name__ == "__main__":
    main()
