"""Benchmark of the active-identification family: LTAL training and per-class losses (AL-E1).

Usage::

    python benchmarks/bench_active_learning.py                      # n = 5, T = 20
    python benchmarks/bench_active_learning.py --configs 5x20 5x50 10x20 10x50 --jobs 2
    python benchmarks/bench_active_learning.py --smoke              # seconds, tiny sizes

For every configuration ``n x T`` (Gaussian best-arm identification, n arms, budget T, classes
r = 2n · 2^m, m = 0..3), the script trains the per-class policies π_r and the robust policy π*
(resumable: rerunning with the same ``--out`` reuses the checkpoints in ``<out>/n<n>_T<T>``),
then evaluates every algorithm on every class:

* **mean**: the average loss over the same held-out instances of the class for every
  algorithm (CRN on instances);
* **worst**: the largest loss found by an adversary pool trained against *that* algorithm
  (never the pool trained against π*, which would flatter the baselines), every adversary
  starting from the same pool (half structured
  boundary instances, half class draws); the candidates are re-estimated with fresh
  episodes, so the figure is not inflated by selecting the noisiest member.

Algorithms: uniform round robin + best empirical mean (NumPy: with n | T every arm gets T/n
pulls, which is what ``RoundRobinMLE`` does), sequential halving, LUCB stopped at T and
C-tracking (through the env, black box), SGBS through our reduction to best-arm
identification ([I], see :class:`~banditlab.agents.active.baselines.SGBS`: Nowak's SGBS
needs hypotheses that predict ±1 answers, which a Gaussian pull is not), every π_r and π*.
``--q20`` also prints the 20 Questions identification rates of uniform, SGBS (Nowak's, and
with abstaining hypotheses) and information-gain greedy, where SGBS is in its own setting.
``--sh-fresh`` measures the deviation of :class:`~banditlab.agents.active.baselines.
SequentialHalving` (cumulative means) against Karnin et al.'s fresh per-round means.
The learned 20 Questions policy has its own command,
``python -m banditlab.agents.active.ltal_questions_train``.

Writes ``<out>/results.json`` (all numbers; records of earlier calls with other
configurations or seeds are kept) and the figures ``<out>/loss_vs_r.png`` and
``<out>/loss_vs_T.png`` (this call's configurations), and prints one table per configuration
and the training times.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from banditlab.agents.active.baselines import (
    SGBS,
    InfoGainGreedy,
    LUCBForcedStop,
    RoundRobinMLE,
    SequentialHalving,
    TrackAndStopBudget,
)
from banditlab.agents.active.ltal import load_policy
from banditlab.agents.active.ltal_train import (
    AgentSim,
    LTALConfig,
    evaluate_per_class,
    policy_run_fn,
    round_robin_run_fn,
    train_ltal,
)
from banditlab.envs.active.providers import Q20, SyntheticBAI
from banditlab.harness import run
from banditlab.kernels import argmax_random_tiebreak
from banditlab.registry import make_env

ENV_ID = "banditlab/ActiveIdentification-v0"
BASELINES = {
    "uniform": lambda T: RoundRobinMLE(budget=T),
    "seq-halving": lambda T: SequentialHalving(budget=T),
    "LUCB@T": lambda T: LUCBForcedStop(budget=T),
    "C-tracking@T": lambda T: TrackAndStopBudget(budget=T),
    "SGBS": lambda T: SGBS(problem="argmax", budget=T),
}


def run_config(n: int, T: int, out: str, smoke: bool, sizes: dict, seed: int = 0) -> dict:
    """Train π_r and π* for one configuration and evaluate every algorithm on every class."""
    cfg = LTALConfig(
        provider="synthetic_bai", provider_kwargs={"n": n}, budget=T, class_r1=2.0 * n,
        n_classes=2 if smoke else 4, arch="arms", hidden=(4,) if smoke else (16,),
        lr=0.01, pool_size=6 if smoke else 32, rollouts=4 if smoke else 16,
        iters_class=3 if smoke else sizes["iters_class"],
        iters_robust=3 if smoke else sizes["iters_robust"], vstar_rollouts=8 if smoke else 128,
        seed=seed,
    )
    folder = Path(out) / (f"n{n}_T{T}" + (f"_seed{seed}" if seed else ""))
    t0, c0 = time.perf_counter(), time.process_time()
    res = train_ltal(cfg, folder, progress=False)
    train = {"wall_this_call": time.perf_counter() - t0, "cpu_this_call": time.process_time() - c0,
             "seconds_recorded": res["seconds"]}
    prov = SyntheticBAI(n=n)
    algos = {}
    for name, make in BASELINES.items():
        if name == "uniform" and T % n == 0:
            algos[name] = round_robin_run_fn(n, T)
        else:
            algos[name] = AgentSim(make(T), "synthetic_bai", {"n": n}, T).run
    for name, path in res["policies"].items():
        params, psizes, meta = load_policy(path)
        algos[name] = policy_run_fn(params, psizes, prov, T, meta=meta)
    ev = {"n_rollouts": 4 if smoke else sizes["eval_rollouts"],
          "adv_iters": 1 if smoke else sizes["adv_iters"],
          "final_rollouts": 8 if smoke else sizes["final_rollouts"],
          "held_out": 4 if smoke else sizes["held_out"],
          "adv_pool": 4 if smoke else sizes["adv_pool"]}
    table = evaluate_per_class(algos, prov, res["grid"], seed=[n, T], **ev)
    return {"n": n, "T": T, "seed": seed, "grid": res["grid"], "v_star": res["v_star"],
            "train": train, "table": table, "eval": ev}


def print_config(rec: dict) -> None:
    """One table per configuration: mean / worst per class and algorithm."""
    n, T = rec["n"], rec["T"]
    tr = rec["train"]
    print(f"\n== n = {n}, T = {T}, training seed {rec.get('seed', 0)}: "
          f"training {tr['seconds_recorded']:.1f} s recorded "
          f"(this call: wall {tr['wall_this_call']:.1f} s, CPU {tr['cpu_this_call']:.1f} s); "
          f"V*_r = {np.round(rec['v_star'], 3).tolist()}")
    names = list(rec["table"])
    print("mean / worst-case loss (adversary trained against each algorithm)")
    print("r".rjust(6) + "".join(name.rjust(14) for name in names))
    for m, r in enumerate(rec["grid"]):
        cells = "".join(f"{rec['table'][k]['mean'][m]:.3f}/{rec['table'][k]['worst'][m]:.3f}"
                        .rjust(14) for k in names)
        print(f"{r:6.0f}{cells}")


def plot(records: list[dict], out: Path) -> None:
    """``loss_vs_r.png`` (mean and worst per configuration) and ``loss_vs_T.png``.

    SGBS (through the best-arm reduction) is far above the others (0.4–0.8) and would squash
    the scale, so it is left out of the figures and stated in a corner of every panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    show = ("uniform", "seq-halving", "LUCB@T", "C-tracking@T", "pi_star")
    colors = dict(zip(show, ("tab:blue", "tab:orange", "tab:green", "tab:red", "k"), strict=True))

    def style(name):
        if name == "pi_star":
            return {"color": "k", "lw": 2.2}
        if name.startswith("pi_r"):  # shades of purple, light = easy class
            m = int(name[4:])
            return {"ls": ":", "lw": 1.2, "color": plt.cm.Purples(0.35 + 0.15 * min(m, 4))}
        return {"color": colors[name]}

    records = sorted(records, key=lambda rec: (rec["n"], rec["T"]))
    fig, axes = plt.subplots(2, len(records), figsize=(4 * len(records), 6.5), squeeze=False)
    for j, rec in enumerate(records):
        for i, kind in enumerate(("mean", "worst")):
            ax = axes[i, j]
            for name in rec["table"]:
                if name not in show and not name.startswith("pi_r"):
                    continue
                v = np.asarray(rec["table"][name][kind])
                se = np.asarray(rec["table"][name][kind + "_se"])
                ax.errorbar(rec["grid"], v, yerr=1.96 * se, marker="o", ms=3, capsize=2,
                            label=name, **style(name))
            if "SGBS" in rec["table"]:
                v = rec["table"]["SGBS"][kind]
                ax.text(0.02, 0.97, f"SGBS (reduction): {min(v):.2f}–{max(v):.2f}",
                        transform=ax.transAxes, va="top", fontsize=7)
            ax.set_xscale("log", base=2)
            ax.set_title(f"n = {rec['n']}, T = {rec['T']}: {kind} loss", fontsize=9)
            ax.set_xlabel("class radius r (ρ ≤ r)")
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("average 0-1 loss (held-out)")
    axes[1, 0].set_ylabel("worst-case 0-1 loss (adversary)")
    axes[1, -1].legend(fontsize=7, title="bars: 95% CI", title_fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "loss_vs_r.png", dpi=120)
    plt.close(fig)
    ns = sorted({rec["n"] for rec in records})
    fig, axes = plt.subplots(1, len(ns), figsize=(4.5 * len(ns), 3.6), squeeze=False)
    for j, n in enumerate(ns):
        recs = sorted((rec for rec in records if rec["n"] == n), key=lambda rec: rec["T"])
        Ts = [rec["T"] for rec in recs]
        last = len(recs[0]["grid"]) - 1
        classes = (max(last - 1, 0), last)
        ax = axes[0, j]
        for name in show:
            for m, ls in zip(classes, ("-", "--"), strict=True):
                v = [rec["table"][name]["worst"][m] for rec in recs]
                ax.plot(Ts, v, ls, marker="o", color=colors[name],
                        lw=2.2 if name == "pi_star" else 1.2,
                        label=name if ls == "-" else None)
        r_a, r_b = (recs[0]["grid"][m] for m in classes)
        ax.set_title(f"n = {n}: worst-case loss, r = {r_a:.0f} (solid), {r_b:.0f} (dashed)",
                     fontsize=9)
        ax.set_xlabel("budget T")
        ax.set_xticks(Ts)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("worst-case 0-1 loss")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "loss_vs_T.png", dpi=120)
    plt.close(fig)


def q20_rates(smoke: bool) -> None:
    """20 Questions identification rates of the baselines at T = 20."""
    n_p = 10 if smoke else 100
    env_kw = {"provider": "q20", "budget": 20, "n_episodes": n_p, "instance_mode": "sequence",
              "instance_ids": list(range(n_p))}
    known = make_env(ENV_ID, provider="q20").known_constants
    kw = {"problem": "table", "hypothesis_table": known["hypothesis_table"]}
    print(f"\n20 Questions, T = 20, {n_p} persons x 3 seeds: identification rate, wall time")
    for aid, extra in (("RoundRobinMLE-v0", {}), ("SGBS-v1", {}), ("SGBS-v1", {"margin": 0.3}),
                       ("InfoGainGreedy-v0", {}),
                       ("InfoGainGreedy-v0", {"prior": "popularity",
                                              "prior_weights": known["prior"]})):
        t0 = time.perf_counter()
        rates = [run((ENV_ID, env_kw), (aid, {**kw, **extra}), seed=s)
                 .finals["correct"] / n_p for s in range(3)]
        name = aid + (f" {sorted(extra)}" if extra else "")
        print(f"{name:>30}: {np.mean(rates):.3f} {np.round(rates, 2).tolist()} "
              f"({time.perf_counter() - t0:.1f} s)")


def q20_per_class(smoke: bool) -> dict:
    """20 Questions, T = 20: per class Θ^(r) (persons with ρ ≤ r), mean and worst person.

    Every algorithm plays every person ``B`` episodes twice (two independent batches); the
    mean is over both batches and the persons of the class, the worst person is selected on
    the first batch and reported with the second (so the selection does not inflate it).
    """
    prov = Q20()
    rhos = prov.person_rhos()
    grid = [0.8, 1.0, 1.25, 1.6, float(np.ceil(rhos.max() * 10) / 10)]
    n_p = 10 if smoke else prov.n_hypotheses
    B = 2 if smoke else 20
    persons = [prov.table[h] for h in range(n_p)]
    kw = {"problem": "table", "hypothesis_table": prov.table}
    algos = {"uniform": RoundRobinMLE(budget=20, **kw), "SGBS": SGBS(budget=20, **kw),
             "SGBS [abstaining hypotheses]": SGBS(budget=20, margin=0.3, **kw),
             "info-gain": InfoGainGreedy(budget=20, **kw)}
    out = {"grid": grid, "persons_per_class": [int((rhos[:n_p] <= r).sum()) for r in grid],
           "table": {}}
    for name, agent in algos.items():
        sim = AgentSim(agent, "q20", {}, 20)
        a = sim.run(persons, B, np.random.default_rng(0))[2].mean(axis=1)
        b = sim.run(persons, B, np.random.default_rng(1))[2].mean(axis=1)
        row = {"mean": [], "worst": [], "worst_person": []}
        for r in grid:
            idx = np.flatnonzero(rhos[:n_p] <= r)
            if idx.size == 0:
                row["mean"].append(float("nan"))
                row["worst"].append(float("nan"))
                row["worst_person"].append(-1)
                continue
            row["mean"].append(float((a[idx] + b[idx]).mean() / 2))
            k = idx[int(np.argmax(a[idx]))]
            row["worst"].append(float(b[k]))
            row["worst_person"].append(int(prov.pid[k]))
        out["table"][name] = row
    print(f"\n20 Questions, T = 20, classes by person rho ({B} + {B} episodes per person): "
          "mean loss / loss of the worst person")
    print("r".rjust(6) + "persons".rjust(9) + "".join(k.rjust(14) for k in algos))
    for m, r in enumerate(grid):
        cells = "".join(f"{out['table'][k]['mean'][m]:.3f}/{out['table'][k]['worst'][m]:.3f}"
                        .rjust(14) for k in algos)
        print(f"{r:6.2f}{out['persons_per_class'][m]:9d}{cells}")
    return out


class FreshMeansSH(SequentialHalving):
    """Sequential halving as published: halving on the means of the round's fresh samples.

    Only for measuring the deviation of :class:`SequentialHalving` (``--sh-fresh``).
    """

    display_name = "Sequential Halving"
    deviation = None

    def _new_episode(self) -> None:
        super()._new_episode()
        self.c0_ = self.s0_ = None

    def _query(self, counts, sums, t) -> int:
        if not hasattr(self, "active_"):
            self._new_episode()
        if not self.plan_:
            if self.round_ > 0 and len(self.active_) > 1:
                c, s = counts - self.c0_, sums - self.s0_
                means = np.where(c > 0, s / np.maximum(c, 1), -np.inf)[self.active_]
                keep = max(1, math.ceil(len(self.active_) / 2))
                order = np.argsort(-means, kind="stable")
                self.active_ = np.sort(self.active_[order[:keep]])
            self.c0_, self.s0_ = counts.copy(), sums.copy()
            per = max(1, self.budget // (len(self.active_) * self.rounds_))
            self.plan_ = [int(a) for a in self.active_ for _ in range(per)]
            self.round_ += 1
        return self.plan_.pop(0)

    def _decide(self, counts, sums) -> int:
        act = self.active_
        if len(act) == 1:
            return int(act[0])
        c, s = counts - self.c0_, sums - self.s0_
        means = np.full(self.n_q_, -np.inf)
        means[act] = np.where(c[act] > 0, s[act] / np.maximum(c[act], 1), -np.inf)
        return int(argmax_random_tiebreak(means, self.rng_))


def sh_fresh(configs, smoke: bool) -> None:
    """Mean loss of SequentialHalving (cumulative means) and FreshMeansSH per class."""
    n_inst, n_ep = (4, 4) if smoke else (100, 40)
    print(f"\nsequential halving, mean loss over {n_inst} instances x {n_ep} episodes per class: "
          "cumulative (ours) / fresh per-round means (Karnin et al.)")
    for n, T in configs:
        prov = SyntheticBAI(n=n)
        for m in range(4):
            r = 2 * n * 2**m
            rng = np.random.default_rng([n, T, m])
            held = [prov.sample_instance(rng, r) for _ in range(n_inst)]
            cells = []
            for cls in (SequentialHalving, FreshMeansSH):
                sim = AgentSim(cls(budget=T), "synthetic_bai", {"n": n}, T)
                loss = sim.run(held, n_ep, np.random.default_rng(1))[2]
                cells.append(f"{loss.mean():.3f}±{loss.std() / np.sqrt(loss.size):.3f}")
            print(f"n = {n}, T = {T}, r = {r}: {cells[0]} / {cells[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", nargs="+", default=["5x20"], help="n x T, e.g. 5x20 10x50")
    ap.add_argument("--out", default="/tmp/banditlab_ltal_bench")
    ap.add_argument("--jobs", type=int, default=1, help="configurations run in parallel")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--seed", type=int, default=0, help="training seed (evaluation: fixed)")
    ap.add_argument("--q20", action="store_true", help="also the 20 Questions rates")
    ap.add_argument("--q20-only", action="store_true",
                    help="only the 20 Questions rates and per-class table (no training)")
    ap.add_argument("--sh-fresh", action="store_true",
                    help="only: sequential halving, cumulative against fresh per-round means")
    ap.add_argument("--iters-class", type=int, default=300)
    ap.add_argument("--iters-robust", type=int, default=300)
    ap.add_argument("--held-out", type=int, default=100, help="held-out instances per class")
    ap.add_argument("--eval-rollouts", type=int, default=40, help="episodes per instance")
    ap.add_argument("--adv-pool", type=int, default=16)
    ap.add_argument("--adv-iters", type=int, default=8)
    ap.add_argument("--final-rollouts", type=int, default=800)
    args = ap.parse_args()
    try:
        configs = [tuple(int(v) for v in c.lower().split("x")) for c in args.configs]
        if any(len(c) != 2 or min(c) < 1 for c in configs):
            raise ValueError
    except ValueError:
        ap.error(f"--configs: expected items like 5x20 (n x T), got {args.configs}")
    sizes = {k: getattr(args, k) for k in ("iters_class", "iters_robust", "held_out",
                                            "eval_rollouts", "adv_pool", "adv_iters",
                                            "final_rollouts")}
    if args.sh_fresh:
        sh_fresh(configs, args.smoke)
        return
    if args.q20_only:
        q20_rates(args.smoke)
        q20_per_class(args.smoke)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    jobs = [(n, T, str(out), args.smoke, sizes, args.seed) for n, T in configs]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as ex:
            records = list(ex.map(run_config, *zip(*jobs, strict=True)))
    else:
        records = [run_config(*job) for job in jobs]
    for rec in records:
        print_config(rec)
    # results.json keeps the records of earlier calls (other configurations or seeds)
    path = out / "results.json"
    key = lambda rec: (rec["n"], rec["T"], rec.get("seed", 0))  # noqa: E731
    merged = {key(rec): rec for rec in (json.loads(path.read_text()) if path.is_file() else [])}
    merged.update({key(rec): rec for rec in records})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(merged.values(), key=key), indent=1))
    tmp.replace(path)
    plot(records, out)
    print(f"\nwrote {out / 'results.json'}, {out / 'loss_vs_r.png'}, {out / 'loss_vs_T.png'} "
          f"({time.perf_counter() - t0:.0f} s)")
    if args.q20:
        q20_rates(args.smoke)
        q20 = q20_per_class(args.smoke)
        (out / "q20_per_class.json").write_text(json.dumps(q20, indent=1))


if __name__ == "__main__":
    main()
