"""Benchmarks of the LSD family: fused-path speed, exact-optimum cost and the E3 table.

Run ``python benchmarks/bench_lsd.py`` (add ``--e3`` for the planning-quality table,
``--quick`` for a smaller E3, ``--e4 T`` for the LP-UCB regret slope against its
full-information counterpart at the E4 size k = 5, tau_max = 10, ``--rounding`` for the
LP-rounding planners against ``(1 - 1/e)`` of their LPs on LSD-E2 and every LSD-E3
instance, ``--variants`` for the CombUCB1 / ISI-CombUCB1 variants on LSD-E1). Prints
measured figures side by side; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
import tomllib
from importlib import resources

import numpy as np

import banditlab.agents  # noqa: F401
import banditlab.envs  # noqa: F401
from banditlab.envs.lsd.env import LSDBandit
from banditlab.envs.lsd.exact import build_graph, exact_average_reward, exact_finite_horizon
from banditlab.harness import run
from banditlab.registry import make_agent, make_benchmark_policy


def bench_fused(n_runs: int = 5) -> None:
    """Steps per second of UCB-greedy on LSD-E1 (T = 3600), fused vs Python loop."""
    spec = ("banditlab/LSDLaforgue5-v1", {"horizon": 3600})
    agent = make_agent("LSDUCBGreedy-v0", obs_encoding="delay", tau_max=10)
    run(spec, agent, seed=0, backend="kernel")  # compile / load cache
    run(spec, agent, seed=0, backend="python")
    for backend, runs in (("kernel", n_runs), ("python", 1)):
        t0 = time.perf_counter()
        for s in range(runs):
            run(spec, agent, seed=s, backend=backend)
        dt = time.perf_counter() - t0
        print(f"E1 UCB-greedy {backend:>6}: {runs * 3600 / dt:12,.0f} steps/s "
              f"({runs} run(s) of 3600 in {dt:.2f} s, harness overhead included)")


def bench_exact(k: int = 5, tau: int = 10, seeds=(0, 1, 2)) -> None:
    """Time of the exact optimum (BFS + RVI, then backward induction T = 1000)."""
    for seed in seeds:
        env = LSDBandit(preset="monotone", random_instance_seed=seed, n_arms=k, tau_max=tau,
                        horizon=10, exact_state_cap=1)
        table = env.payoff_table
        build_graph(np.ones((2, 2, 2)) * 0.5)  # warm the kernels
        t0 = time.perf_counter()
        graph = build_graph(table, "idle_max", max_states=2_000_000)
        t1 = time.perf_counter()
        g, _, _ = exact_average_reward(graph)
        t2 = time.perf_counter()
        exact_finite_horizon(graph, 1000)
        t3 = time.perf_counter()
        print(f"exact k={k} tau={tau} seed={seed}: {graph.n_states:8d} reachable states, "
              f"BFS {t1 - t0:6.2f} s, RVI {t2 - t1:6.2f} s (g*={g:.4f}), "
              f"backward induction T=1000 {t3 - t2:6.2f} s")


def e3_table(quick: bool) -> None:
    """LP / g* and the planners' realised average reward / g* on random instances."""
    horizon = 2000
    n_inst = 3 if quick else 10
    n_seeds = 3 if quick else 5
    grid = [(3, 5), (3, 10), (5, 5)] if quick else [(3, 5), (3, 10), (5, 5), (5, 10)]
    presets = ("monotone", "concave", "step", "seasonal")
    names = ("lsd_lp_rounding", "lp_rounding", "greedy", "round_robin")
    print(f"E3 (T={horizon}, {n_inst} instances x {n_seeds} rounding seeds; mean [95% CI] "
          "of ratio to the exact g*)")
    header = f"{'preset':>9} {'k':>2} {'tau':>3} {'LSD-LP/g*':>17} {'rech-LP/g*':>17}" + "".join(
        f" {n:>19}" for n in names) + f" {'lpround/(1-1/e)LP':>19}"
    print(header)
    for preset in presets:
        for k, tau in grid:
            ratios: dict[str, list[float]] = {n: [] for n in names}
            lp_r, rl_r, vs_lp = [], [], []
            for inst in range(n_inst):
                env = LSDBandit(preset=preset, random_instance_seed=inst, n_arms=k,
                                tau_max=tau, horizon=horizon, alpha=1.0)
                g = env.oracle.exact_average_reward()[0]
                lp_r.append(env.oracle.lp_bound("lsd").value / g)
                rech = env.oracle.lp_bound("recharging").value
                rl_r.append(rech / g)
                for n in names:
                    pol = make_benchmark_policy(env.oracle, n)
                    vals = [run(env, pol, seed=s).finals["expected_reward"] / horizon
                            for s in range(n_seeds)]
                    ratios[n].append(np.mean(vals) / g)
                    if n == "lp_rounding":
                        vs_lp.append(np.mean(vals) / ((1 - 1 / np.e) * rech))

            def fmt(x):
                x = np.asarray(x)
                h = 1.96 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0
                return f"{x.mean():.3f} [{x.mean() - h:.3f},{x.mean() + h:.3f}]"

            print(f"{preset:>9} {k:>2} {tau:>3} {fmt(lp_r):>17} {fmt(rl_r):>17}"
                  + "".join(f" {fmt(ratios[n]):>19}" for n in names) + f" {fmt(vs_lp):>19}",
                  flush=True)


def bench_block_planners(n_blocks: int = 40, seed: int = 0) -> None:
    """Block LP with greedy rounding vs exhaustive search on random UCB-like blocks.

    Blocks of LSD-E1 size (k = 5, L = 4, ISI-CombUCB1 with d = 3): time per planned block
    of the exhaustive search, of the compiled LP rounding the agents use and of the HiGHS
    reference, the rounded block's value relative to the exhaustive optimum, and the LP's
    relative excess over that optimum.
    """
    from banditlab.envs.lsd.blocks import best_block_index
    from banditlab.envs.lsd.lp import (
        block_lp,
        block_lp_round,
        block_lp_round_nb,
        block_sequence_value,
    )

    rng = np.random.default_rng(seed)
    blocks = [(rng.random((5, 4)), rng.random((5, 4))) for _ in range(n_blocks)]
    g = np.random.default_rng(0)
    best_block_index(*blocks[0], 4, g)  # compile / load cache
    block_lp_round_nb(*blocks[0], 0.5)
    t0 = time.perf_counter()
    best = [block_sequence_value(best_block_index(fv, lv, 4, g), fv, lv) for fv, lv in blocks]
    t1 = time.perf_counter()
    rounded = [block_sequence_value(block_lp_round_nb(fv, lv, 0.5), fv, lv) for fv, lv in blocks]
    t2 = time.perf_counter()
    [block_lp_round(fv, lv) for fv, lv in blocks]
    t3 = time.perf_counter()
    lp = [block_lp(fv, lv).value for fv, lv in blocks]
    ratio = np.array(rounded) / np.array(best)
    excess = np.array(lp) / np.array(best) - 1.0
    print(f"block k=5 L=4 ({n_blocks} random blocks): exhaustive {1e3 * (t1 - t0) / n_blocks:8.3f} "
          f"ms/block, LP rounding {1e3 * (t2 - t1) / n_blocks:8.3f} ms/block compiled, "
          f"{1e3 * (t3 - t2) / n_blocks:8.1f} ms/block HiGHS; rounded/optimum mean "
          f"{ratio.mean():.4f} min {ratio.min():.4f}; LP/optimum - 1 mean {excess.mean():.4f} "
          f"max {excess.max():.4f}")


def _e4_job(args):
    inst, horizon, seed, bonus_c = args
    from banditlab.agents.lsd.lp_ucb import LSDLPUCB

    kw = {"preset": "monotone", "random_instance_seed": inst, "n_arms": 5, "tau_max": 10,
          "monotone": True, "horizon": horizon}
    cps = np.unique(np.geomspace(100, horizon, 20).astype(np.int64))
    env = LSDBandit(**kw)
    table = env.payoff_table.tolist()
    learner = run(env, LSDLPUCB(tau_max=10, bonus_c=bonus_c), seed=seed, checkpoints=cps)
    full = run(LSDBandit(**kw), LSDLPUCB(tau_max=10, payoff_table=table), seed=seed,
               checkpoints=cps)
    return learner.t, full.curves["expected_reward"] - learner.curves["expected_reward"]


def e4_slope(horizon: int, n_seeds: int = 8, instances=(0, 1, 2), bonus_cs=(0.02, 1.5)) -> None:
    """Log-log slope (last decade, bootstrap 95% CI over seeds, ``fit_slope``) of LP-UCB's
    expected-reward regret against its full-information counterpart (same seeds)."""
    from multiprocessing import Pool

    import pandas as pd

    from banditlab.analysis import fit_slope

    jobs = [(i, horizon, s, c) for i in instances for c in bonus_cs for s in range(n_seeds)]
    with Pool(2) as pool:
        out = pool.map(_e4_job, jobs)
    rows = []
    for (inst, _, seed, c), (ts, reg) in zip(jobs, out, strict=True):
        rows += [{"task_id": f"{inst}-{c}-{seed}", "env_label": f"monotone-k5-tau10-i{inst}",
                  "agent_label": f"LP-UCB bonus_c={c}", "t": int(t), "metric": "regret",
                  "value": float(v)} for t, v in zip(ts, reg, strict=True)]
    frame = pd.DataFrame(rows)
    final = frame[frame["t"] == frame["t"].max()].groupby(["env_label", "agent_label"])["value"]
    table = fit_slope(frame, "regret").merge(final.mean().rename("regret_T").reset_index())
    print(f"E4 LP-UCB vs full-information counterpart, T={horizon}, {n_seeds} seeds:")
    print(table.to_string(index=False))


def _mean_ci(x) -> tuple[float, float]:
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def rounding_table(n_seeds: int = 10, rules=("max_mean", "uniform"), horizon: int = 2000,
                   envs: str = "all") -> None:
    """LP rounding against ``(1 - 1/e)`` of its own LP on LSD-E2 and the LSD-E3 instances.

    One row per (instance, relaxation, conflict rule): the LP value, ``(1 - 1/e)`` LP,
    and the mean expected reward per round over ``n_seeds`` rounding seeds with its 95%
    CI (normal approximation), T = ``horizon``. ``envs="reduced"``: the E3 instances of
    the reduced scale only.
    """
    from banditlab.registry import make_env

    alpha = 1 - 1 / np.e
    text = resources.files("banditlab.benchmarks").joinpath("lsd_e3.toml").read_text()
    data = tomllib.loads(text)
    entries = [(e["label"], e["id"], e["kwargs"]) for e in data["envs"]]
    if envs == "reduced":
        keep = set(data["scales"]["reduced"]["envs"])
        entries = [e for e in entries if e[0] in keep]
    entries = [("LSD-E2", "banditlab/LSDLaforgue2-v1", {})] + entries
    print(f"LP rounding vs (1 - 1/e) LP, T={horizon}, {n_seeds} rounding seeds (mean ± 95% CI)")
    print(f"{'instance':>24} {'relaxation':>10} {'rule':>8} {'LP':>7} {'(1-1/e)LP':>9} "
          f"{'planner':>16} {'ratio':>6}")
    worst: dict[str, float] = {}
    for label, env_id, kw in entries:
        kw = {k: v for k, v in kw.items() if k != "exact_state_cap"}
        if label != "LSD-E2":
            kw["exact_state_cap"] = 1
        env = make_env(env_id, **kw, horizon=horizon)
        for relaxation in ("recharging", "lsd"):
            lp = env.oracle.lp_bound(relaxation).value
            for rule in rules:
                agent = make_agent("LSDLPRounding-v1", payoff_table=env.payoff_table.tolist(),
                                   obs_encoding=env.obs_encoding, relaxation=relaxation,
                                   conflict_rule=rule)
                vals = [run(env, agent, seed=s).finals["expected_reward"] / horizon
                        for s in range(n_seeds)]
                m, h = _mean_ci(vals)
                worst[rule] = min(worst.get(rule, np.inf), m / (alpha * lp))
                flag = "" if m >= alpha * lp else "  below"
                print(f"{label:>24} {relaxation:>10} {rule:>8} {lp:7.4f} {alpha * lp:9.4f} "
                      f"{m:8.4f} ± {h:.4f} {m / lp:6.3f}{flag}", flush=True)
    for rule, w in worst.items():
        print(f"rule {rule}: smallest mean / ((1 - 1/e) LP) = {w:.3f}")


def combucb_variants(n_seeds: int = 10, horizon: int = 3600) -> None:
    """CombUCB1 / ISI-CombUCB1 on LSD-E1: the authors' defaults against the opt-in variants.

    Mean reward per round over ``n_seeds`` seeds with its 95% CI (normal approximation).
    """
    spec = ("banditlab/LSDLaforgue5-v1", {"horizon": horizon})
    variants = ({}, {"planner": "exhaustive"}, {"ucb_refresh": "per_block"},
                {"planner": "exhaustive", "ucb_refresh": "per_block"})
    print(f"LSD-E1, T={horizon}, {n_seeds} seeds: mean reward per round [95% CI]")
    for agent_id in ("CombUCB1Block-v1", "ISICombUCB1-v1"):
        for kw in variants:
            agent = make_agent(agent_id, block=3, **kw)
            t0 = time.perf_counter()
            vals = [run(spec, agent, seed=s).finals["reward"] / horizon for s in range(n_seeds)]
            m, h = _mean_ci(vals)
            print(f"{agent.label():>52}: {m:.3f} [{m - h:.3f}, {m + h:.3f}] "
                  f"({(time.perf_counter() - t0) / n_seeds:.1f} s/run)", flush=True)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--e3", action="store_true", help="also print the E3 table")
    parser.add_argument("--quick", action="store_true", help="smaller E3 grid")
    parser.add_argument("--e4", type=int, default=0, metavar="T",
                        help="also print the E4 LP-UCB regret slopes at horizon T")
    parser.add_argument("--rounding", action="store_true",
                        help="only the LP-rounding table on LSD-E2 and every LSD-E3 instance")
    parser.add_argument("--variants", action="store_true",
                        help="only the CombUCB1 / ISI-CombUCB1 variants on LSD-E1")
    args = parser.parse_args()
    if args.rounding or args.variants:
        if args.rounding:
            rounding_table()
        if args.variants:
            combucb_variants()
        return
    bench_fused()
    bench_exact()
    bench_block_planners()
    if args.e3:
        e3_table(args.quick)
    if args.e4:
        e4_slope(args.e4)


if __name__ == "__main__":
    main()
