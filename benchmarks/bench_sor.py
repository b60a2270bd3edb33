"""Benchmarks of the SOR family, printed side by side.

1. Time per forward SOR sweep on the same CSR matrix: banditlab's Numba CSR kernel
   (``sor_sweep``), banditlab's 5-point stencil solver (sweep + residual check, per
   iteration), and PyAMG's compiled SOR relaxation (``amg_core.sor_gauss_seidel``,
   called directly and through ``pyamg.relaxation.relaxation.sor``). PyAMG is *not* a
   banditlab dependency; install it for this script only (``pip install pyamg``). Without it
   the PyAMG columns are reported as missing.
2. Wall time of one SOR-E1 trial (T instances, high variance) with full-information costs:
   the T x 21 cost table (20 grid omegas + Young's omega) from a cold disk cache, from the warm
   cache, and one Tsallis-INF / ChebCB run on top.
3. ``--tsallis``: Tsallis-INF with the authors' Newton rule (no pole guard, the default) and
   with ``pole_guard=True`` on the SOR-E1 high-variance streams (``--seeds`` seeds, T =
   ``--horizon``): rounds whose final Newton iterate lies at or beyond the pole, guard fires,
   uniform fallbacks, scale guards, and the ratio of cumulative iterations to the best fixed
   grid omega in hindsight at n = 500, 1000, 2000 and T (mean and range over seeds). Costs
   come from the cached full-information tables, so each agent run is a table look-up per
   round.

Usage::

    python benchmarks/bench_sor.py [--horizon 5000] [--repeats 5]
    python benchmarks/bench_sor.py --tsallis [--horizon 5000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from banditlab.envs.sor.instances import laplacian_2d
from banditlab.envs.sor.solvers import sor_solve_stencil, sor_sweep

try:  # optional, benchmark only
    import pyamg
    from pyamg import amg_core
    from pyamg.relaxation.relaxation import sor as pyamg_sor
except ImportError:  # pragma: no cover - depends on the machine
    pyamg = None


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _bench_size(m: int, repeats: int) -> str:
    """One table row: per-sweep times on the m x m Laplacian."""
    import scipy.sparse as sp

    n = m * m
    data, indices, indptr = laplacian_2d(m)
    a = sp.csr_matrix((data, indices.astype(np.int32), indptr.astype(np.int32)), shape=(n, n))
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n)
    sweeps = max(20, 2_000_000 // n)
    diag = np.full(n, 4.0)
    x = np.zeros(n)
    sor_sweep(data, indices, indptr, diag, x, b, 1.5, 0.0)  # compile

    def ours():
        for _ in range(sweeps):
            sor_sweep(data, indices, indptr, diag, x, b, 1.5, 0.0)

    t_csr = _best(ours, repeats) / sweeps
    # Stencil solver: exactly `sweeps` iterations (tol = 0 is never met), with residual checks.
    sor_solve_stencil(m, b, np.zeros(n), 1.5, 0.0, 2, 0.0)
    t_st = _best(lambda: sor_solve_stencil(m, b, np.zeros(n), 1.5, 0.0, sweeps, 0.0),
                 repeats) / sweeps
    if pyamg is not None:
        xa = np.zeros(n)

        def core():
            for _ in range(sweeps):
                amg_core.sor_gauss_seidel(a.indptr, a.indices, a.data, xa, b, 0, n, 1, 1.5)

        t_core = _best(core, repeats) / sweeps
        t_api = _best(lambda: pyamg_sor(a, xa, b, 1.5, iterations=sweeps), repeats) / sweeps
        ratio = f"{t_csr / t_core:9.2f}"
        cols = f"{t_core * 1e6:14.2f} {t_api * 1e6:13.2f}"
    else:
        cols = f"{'missing':>14} {'missing':>13}"
        ratio = f"{'-':>9}"
    return f"{n:>8} {sweeps:>7} {t_csr * 1e6:13.2f} {t_st * 1e6:17.2f} {cols} {ratio}"


def bench_sweeps(repeats: int) -> None:
    """Per-sweep times for grid sides m = 10, 100, 300 (n = m^2)."""
    print("== time per forward SOR sweep (omega = 1.5), best of", repeats, "==")
    if pyamg is None:
        print("pyamg is not installed: PyAMG columns are missing (pip install pyamg)")
    header = (f"{'n':>8} {'sweeps':>7} {'numba CSR us':>13} {'numba stencil us':>17} "
              f"{'pyamg core us':>14} {'pyamg API us':>13} {'CSR/core':>9}")
    print(header)
    for m in (10, 100, 300):
        print(_bench_size(m, repeats))
    print("(numba stencil = sor_solve_stencil per iteration: one sweep + one residual norm)")


def bench_e1_trial(horizon: int) -> None:
    """Wall time of one SOR-E1 trial with full-information costs."""
    from banditlab.envs.sor.env import SORSequence
    from banditlab.harness import run

    print(f"\n== one SOR-E1 trial, high variance, T = {horizon} ==")
    with tempfile.TemporaryDirectory() as d:
        os.environ["BANDITLAB_CACHE_DIR"] = d
        warm = SORSequence(horizon=10)
        warm.reset(seed=0)
        warm.table_.full()  # compile the parallel kernel outside the timing
        env = SORSequence(horizon=horizon)
        t0 = time.perf_counter()
        res = run(env, "oracle:grid_instance_optimal", seed=123, checkpoints=[horizon])
        cold = time.perf_counter() - t0
        sweeps = int(env.table_.iterations.sum())
        print(f"trial with cost table {horizon} x 21 from cold cache: {cold:8.2f} s "
              f"({sweeps:,} SOR sweeps in all, {cold / sweeps * 1e6:.2f} us per sweep incl. "
              "residual, parallel)")
        for name in ("oracle:grid_instance_optimal", "RelaxTsallisINF-v1", "ChebCB-v0"):
            t0 = time.perf_counter()
            res = run(env, name, seed=123, checkpoints=[horizon])
            print(f"{name:<30} on the warm disk cache: {time.perf_counter() - t0:8.2f} s "
                  f"(total iterations {-res.finals['reward']:,.0f})")


def tsallis_on_table(table, seed: int, pole_guard: bool):
    """Tsallis-INF (``RelaxTsallisINF``) played against a cost table (T x d iterations).

    Returns:
        ``(costs float64[T], agent)``: the iterations paid each round and the agent (its
        counters hold the Newton statistics).
    """
    import gymnasium as gym

    from banditlab.agents.sor.tsallis_inf import RelaxTsallisINF

    t_count, d = table.shape
    agent = RelaxTsallisINF(pole_guard=pole_guard)
    agent.reset(gym.spaces.Discrete(d), gym.spaces.Box(-1.0, 1.0, (1,)), seed=seed)
    obs = np.zeros(1)
    costs = np.empty(t_count)
    for t in range(t_count):
        a = agent.act(obs)
        costs[t] = table[t, a]
        agent.update(obs, a, -costs[t], obs, False)
    return costs, agent


def bench_tsallis(horizon: int, n_seeds: int) -> None:
    """Authors' Newton rule vs the pole guard on SOR-E1 (high variance)."""
    from banditlab.envs.sor.env import SORSequence

    marks = [n for n in (500, 1000, 2000) if n < horizon] + [horizon]
    print(f"\n== Tsallis-INF Newton rule, SOR-E1 high variance, T = {horizon}, "
          f"seeds 0..{n_seeds - 1} (env seed = agent seed) ==")
    rows = {False: [], True: []}
    stats = {False: [], True: []}
    for seed in range(n_seeds):
        env = SORSequence(variance="high", horizon=horizon)
        env.reset(seed=seed)
        table = env.table_.full()[0][:, :-1].astype(np.float64)
        best = np.cumsum(table, axis=0).min(axis=1)
        for guard in (False, True):
            costs, agent = tsallis_on_table(table, seed, guard)
            ratio = np.cumsum(costs)[np.asarray(marks) - 1] / best[np.asarray(marks) - 1]
            rows[guard].append(ratio)
            stats[guard].append((agent.beyond_pole_, agent.guard_fires_, agent.fallbacks_,
                                 agent.scale_guards_))
    head = " ".join(f"{'n=' + str(n):>18}" for n in marks)
    print(f"{'rule':<22} {'beyond pole':>12} {'guard fires':>12} {'fallbacks':>9} "
          f"{'scale guards':>12}   ratio to best fixed grid omega (mean [min, max]):")
    print(f"{'':<72}{head}")
    for guard in (False, True):
        st = np.asarray(stats[guard])
        r = np.asarray(rows[guard])
        name = "pole guard" if guard else "authors (default)"
        cells = " ".join(f"{m:6.3f} [{lo:.3f}, {hi:.3f}]"
                         for m, lo, hi in zip(r.mean(0), r.min(0), r.max(0), strict=True))
        print(f"{name:<22} {st[:, 0].mean():>12,.0f} {st[:, 1].mean():>12,.0f} "
              f"{st[:, 2].mean():>9,.0f} {st[:, 3].mean():>12,.0f}   {cells}")
        print(f"{'  seed 0':<22} {st[0, 0]:>12,} {st[0, 1]:>12,} {st[0, 2]:>9,} "
              f"{st[0, 3]:>12,}   " + " ".join(f"{v:18.3f}" for v in r[0]))
    print("(counts are per run of T rounds, averaged over seeds; 'beyond pole': rounds whose "
          "final Newton iterate x >= min_i K_i/s)")


def main() -> None:
    """Run the benchmarks."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizon", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seeds", type=int, default=5, help="seeds of --tsallis")
    p.add_argument("--skip-trial", action="store_true", help="only the per-sweep table")
    p.add_argument("--tsallis", action="store_true",
                   help="only the Tsallis-INF Newton-rule comparison")
    args = p.parse_args()
    import numba

    print(f"numba {numba.__version__}, pyamg {getattr(pyamg, '__version__', 'missing')}, "
          f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    if args.tsallis:
        bench_tsallis(args.horizon, args.seeds)
        return
    bench_sweeps(args.repeats)
    if not args.skip_trial:
        bench_e1_trial(args.horizon)


if __name__ == "__main__":
    main()
