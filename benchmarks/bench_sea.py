"""Rounds per second of OOMD on SEAQuadratic: fused Numba path vs Gymnasium (Python) path.

Usage::

    python benchmarks/bench_sea.py [--rounds-fused 200000] [--rounds-python 20000]

Prints one line per dimension d in {10, 100} with both figures side by side, per wall-clock
second and per CPU second of this process (the CPU figure is the stable one on a shared,
loaded machine), plus the load average. Kernels are compiled (warmed) before timing; each
figure is the best of ``--repeats`` runs.

With ``--deviations`` it instead measures the matrix scaling of the online Newton step:
``ONS-v1`` (the scaling of Hazan, Agarwal & Kale 2007, Algorithm 2) against the scaling of
``ONS-v0`` (``I + (beta/2) sum g g'``, replayed as ``OptimisticONS-v0`` without hint,
accumulating ``g``), and ``OptimisticONS-v0`` under both scalings: mean static pseudo-regret
at T over ``--seeds`` seeds with its standard error, on SEALogistic (d = 2, theta = 0.5 e_1,
exp-concave) and on the fixed-schedule SEAQuadratic of sea_e1 (noise 0.1)::

    python benchmarks/bench_sea.py --deviations [--horizon 10000] [--seeds 4]

With ``--variants`` it measures the opt-in variants of the SEA agents (the options their
labels show in brackets) against their defaults: mean static and dynamic pseudo-regret at
T on SEAQuadratic (noise 0.1, ``fixed`` and ``drift``; the data-feedback instance for the
implicit learner) over ``--seeds`` seeds::

    python benchmarks/bench_sea.py --variants [--horizon 10000] [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from banditlab.harness import run
from banditlab.registry import make_agent, make_env


def _rate(d: int, rounds: int, backend: str, repeats: int) -> tuple[float, float]:
    best = float("inf")
    best_cpu = float("inf")
    for rep in range(repeats + 1):
        env = make_env("banditlab/SEAQuadratic-v0", d=d, noise=0.1, schedule="drift",
                       horizon=rounds)
        agent = make_agent("OOMD-v0")
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = run(env, agent, seed=rep, checkpoints=[rounds], backend=backend)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        assert res.backend == ("kernel" if backend == "kernel" else "python")
        if rep > 0:  # the first run warms (compiles) the kernels
            best = min(best, dt)
            best_cpu = min(best_cpu, dc)
    return rounds / best, rounds / best_cpu


def hazan_scaled_kwargs(kc: dict) -> dict:
    """``OptimisticONS`` kwargs whose matrix is ``beta A_t`` of Hazan et al. (2007).

    The kernel adds ``(beta'/2) v v'`` with ``beta' = 0.5 min(1/(4 G D), alpha)``: halving G
    and doubling alpha doubles ``beta'``, and ``epsilon = 1/(beta D^2)`` is ``beta`` times
    the paper's ``1/(beta^2 D^2)``.
    """
    g, a, dia = kc["grad_bound"], kc["exp_concavity"], kc["diameter"]
    beta = 0.5 * min(1.0 / (4.0 * g * dia), a)
    return {"radius": kc["radius"], "diameter": dia, "grad_bound": g / 2.0,
            "exp_concavity": 2.0 * a, "epsilon": 1.0 / (beta * dia**2)}


def deviations(horizon: int, seeds: int) -> None:
    """Static pseudo-regret of the online Newton steps under the two matrix scalings."""
    envs = {
        "SEALogistic d=2": ("banditlab/SEALogistic-v0", {"d": 2, "amplitude": 0.5}),
        "SEAQuadratic fixed s=0.1": ("banditlab/SEAQuadratic-v0",
                                     {"noise": 0.1, "schedule": "fixed"}),
    }
    print(f"static pseudo-regret at T = {horizon}, mean +- s.e. over {seeds} seeds")
    for name, (env_id, kw) in envs.items():
        kc = dict(make_env(env_id, horizon=horizon, **kw).unwrapped.known_constants)
        base = {"radius": kc["radius"], "diameter": kc["diameter"],
                "grad_bound": kc["grad_bound"], "exp_concavity": kc["exp_concavity"]}
        plain = {"accumulate": "g", "optimistic": False}
        cases = (
            ("ONS-v1 (Hazan et al.)", "ONS-v1", base),
            ("ONS-v0 scaling", "OptimisticONS-v0", {**base, **plain}),
            ("OptimisticONS-v0", "OptimisticONS-v0", base),
            ("OptimisticONS, Hazan scaling", "OptimisticONS-v0", hazan_scaled_kwargs(kc)),
        )
        for label, agent_id, kwargs in cases:
            vals = [run(make_env(env_id, horizon=horizon, **kw), make_agent(agent_id, **kwargs),
                        seed=s, checkpoints=[horizon]).finals["pseudo_regret/static"]
                    for s in range(seeds)]
            m, se = np.mean(vals), np.std(vals, ddof=1) / np.sqrt(seeds)
            print(f"{name:26s} {label:30s} {m:9.2f} +- {se:6.2f}", flush=True)


VARIANTS = [
    ("OGD-v0", {}), ("OGD-v0", {"step": "adagrad_norm"}), ("OGD-v0", {"step": "strongly_convex"}),
    ("OOMD-v0", {}), ("OOMD-v0", {"cap": False}),
    ("OOMD-v0", {"step": "strongly_convex", "cap": False}),
    ("OFTRL-v0", {}), ("OFTRL-v0", {"optimistic": False}), ("OFTRL-v0", {"strongly_convex": True}),
    ("FTRL-v0", {}), ("FTRL-v0", {"strongly_convex": True}),
    ("OptimisticONS-v0", {}), ("OptimisticONS-v0", {"accumulate": "g"}),
    ("OptimisticONS-v0", {"optimistic": False}),
    ("SwordVariation-v0", {}), ("SwordVariation-v0", {"stability_gamma": 0.1}),
    ("ImplicitOOMD-v0", {}), ("ImplicitOOMD-v0", {"optimistic": False}),
]


def variants(horizon: int, seeds: int) -> None:
    """Static and dynamic pseudo-regret of every agent variant on two SEAQuadratic sequences."""
    print(f"pseudo-regret at T = {horizon} (static / dynamic), mean over {seeds} seeds")
    for agent_id, kw in VARIANTS:
        kw = dict(kw)
        if agent_id == "SwordVariation-v0":
            kw["horizon"] = horizon
        label = make_agent(agent_id, **kw).label()
        env_id = ("banditlab/SEAQuadraticData-v0" if agent_id.startswith("Implicit")
                  else "banditlab/SEAQuadratic-v0")
        cells = []
        for sched in ("fixed", "drift"):
            st, dy = [], []
            for seed in range(seeds):
                res = run(make_env(env_id, horizon=horizon, noise=0.1, schedule=sched),
                          make_agent(agent_id, **kw), seed=seed, checkpoints=[horizon])
                st.append(res.finals["pseudo_regret/static"])
                dy.append(res.finals["pseudo_regret/dynamic"])
            cells.append(f"{sched}: {np.mean(st):9.1f} / {np.mean(dy):8.1f}")
        print(f"{label:58s} " + "   ".join(cells), flush=True)


def main() -> None:
    """Parse arguments and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds-fused", type=int, default=200_000)
    p.add_argument("--rounds-python", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--deviations", action="store_true")
    p.add_argument("--variants", action="store_true")
    p.add_argument("--horizon", type=int, default=10_000)
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds (default 4 with --deviations, 2 with --variants)")
    args = p.parse_args()
    if args.deviations:
        deviations(args.horizon, args.seeds or 4)
        return
    if args.variants:
        variants(args.horizon, args.seeds or 2)
        return
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'d':>5} {'fused /wall-s':>14} {'python /wall-s':>15} {'fused /cpu-s':>13} "
          f"{'python /cpu-s':>14} {'speed-up (cpu)':>15}")
    for d in (10, 100):
        fw, fc = _rate(d, args.rounds_fused, "kernel", args.repeats)
        pw, pc = _rate(d, args.rounds_python, "python", args.repeats)
        print(f"{d:>5} {fw:>14,.0f} {pw:>15,.0f} {fc:>13,.0f} {pc:>14,.0f} {fc / pc:>14.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
