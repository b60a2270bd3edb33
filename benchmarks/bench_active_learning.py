"""Benchmark of the active-identification family: LTAL training time and per-class losses.

Usage::

    python benchmarks/bench_active_learning.py            # n = 5, T = 20, 4 classes
    python benchmarks/bench_active_learning.py --smoke    # seconds, tiny sizes
    python benchmarks/bench_active_learning.py --n 10 --budget 50 --out /tmp/ltal_n10

Prints, side by side: the wall and CPU time of training the per-class policies π_r and the
robust policy π* (resumable; rerunning with the same ``--out`` reuses the checkpoint), then
for every class r the mean loss on held-out instances of the class and the worst loss found by
an adversary pool trained against *each* algorithm (uniform round robin, every π_r and π*;
sequential halving with ``--seq-halving``, slow: it runs through the env), then the 20
Questions identification rates of the baselines at T = 20.

Uniform round robin is simulated in NumPy (``round_robin_run``): with n | T every arm gets
T/n pulls and the decision is the best empirical mean, which is what ``RoundRobinMLE`` does
(ties have probability 0 with Gaussian responses); otherwise it runs through the env.
The worst-case column has a standard error of about sqrt(0.25 / eval_rollouts) per pool
member (≈ 0.05 at the default 100), plus the upward bias of a maximum over the pool.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from banditlab.agents.active_baselines import RoundRobinMLE, SequentialHalving
from banditlab.agents.active_ltal import load_policy
from banditlab.agents.active_ltal_train import (
    AgentSim,
    LTALConfig,
    evaluate_algorithm,
    policy_run_fn,
    train_ltal,
)
from banditlab.envs.active_learning_providers import SyntheticBAI
from banditlab.harness import run


def round_robin_run(n: int, T: int):
    """``run_fn`` of uniform round robin + best empirical mean, Gaussian arms, σ = 1, n | T."""

    def run_fn(thetas, B, rng):
        th = np.asarray(thetas, dtype=np.float64)
        P = th.shape[0]
        arms = np.arange(T) % n
        xs = np.broadcast_to(arms, (P, B, T)).copy()
        ys = th[:, arms][:, None, :] + rng.standard_normal((P, B, T))
        means = ys.reshape(P, B, T // n, n).mean(axis=2)
        losses = (np.argmax(means, axis=2) != np.argmax(th, axis=1)[:, None]).astype(float)
        return xs, ys, losses

    return run_fn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--out", default="/tmp/banditlab_ltal_bench")
    ap.add_argument("--iters-class", type=int, default=400)
    ap.add_argument("--iters-robust", type=int, default=400)
    ap.add_argument("--held-out", type=int, default=200, help="held-out instances per class")
    ap.add_argument("--eval-rollouts", type=int, default=100, help="episodes per instance")
    ap.add_argument("--adv-pool", type=int, default=16)
    ap.add_argument("--adv-iters", type=int, default=10)
    ap.add_argument("--seq-halving", action="store_true", help="also evaluate seq. halving")
    args = ap.parse_args()
    smoke = args.smoke
    cfg = LTALConfig(
        provider="synthetic_bai", provider_kwargs={"n": args.n}, budget=args.budget,
        class_r1=2.0 * args.n, n_classes=2 if smoke else 4,
        hidden=(), pool_size=6 if smoke else 32,
        rollouts=4 if smoke else 16, iters_class=3 if smoke else args.iters_class,
        iters_robust=3 if smoke else args.iters_robust,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    res = train_ltal(cfg, args.out, progress=not smoke)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"training (this call): wall {wall:.1f} s, CPU {cpu:.1f} s; "
          f"total recorded in checkpoint {res['seconds']:.1f} s")
    print("V*_r estimates:", np.round(res["v_star"], 3).tolist())

    prov = SyntheticBAI(n=args.n)
    T = args.budget
    rng = np.random.default_rng(123)
    n_held, B = (4, 4) if smoke else (args.held_out, args.eval_rollouts)
    adv = {"adv_pool": 4 if smoke else args.adv_pool,
           "adv_iters": 2 if smoke else args.adv_iters}
    if T % args.n == 0:
        algos = {"uniform": round_robin_run(args.n, T)}
    else:
        algos = {"uniform": AgentSim(RoundRobinMLE(budget=T), "synthetic_bai",
                                     {"n": args.n}, T).run}
    if args.seq_halving or smoke:
        algos["seq-halving"] = AgentSim(SequentialHalving(budget=T), "synthetic_bai",
                                        {"n": args.n}, T).run
    for name, path in res["policies"].items():
        params, sizes, _ = load_policy(path)
        algos[name] = policy_run_fn(params, sizes, prov, T)
    print(f"\nper-class loss (mean on {n_held} held-out instances / worst of an adversary pool "
          "trained against that algorithm)")
    header = "r".rjust(6) + "".join(name.rjust(16) for name in algos)
    print(header)
    for r in res["grid"]:
        held = [prov.sample_instance(rng, r) for _ in range(n_held)]
        cells = []
        for fn in algos.values():
            e = evaluate_algorithm(fn, prov, r, held, B, rng, **adv)
            cells.append(f"{e['mean']:.3f}/{e['worst']:.3f}".rjust(16))
        print(f"{r:6.1f}" + "".join(cells))

    from banditlab.envs.active_learning import ActiveIdentification

    n_p = 10 if smoke else 100
    env_kw = {"provider": "q20", "budget": 20, "n_episodes": n_p, "instance_mode": "sequence",
              "instance_ids": list(range(n_p))}
    table = ActiveIdentification(provider="q20").known_constants["hypothesis_table"]
    kw = {"problem": "table", "hypothesis_table": table}
    print(f"\n20 Questions, T = 20, {n_p} persons x 3 seeds: identification rate, wall time")
    for aid in ("RoundRobinMLE-v0", "SGBS-v0", "InfoGainGreedy-v0"):
        t0 = time.perf_counter()
        rates = [run(("banditlab/ActiveIdentification-v0", env_kw), (aid, kw), seed=s)
                 .finals["correct"] / n_p for s in range(3)]
        print(f"{aid:>20}: {np.mean(rates):.3f} {np.round(rates, 2).tolist()} "
              f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
