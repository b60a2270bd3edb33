"""Min-max training and held-out evaluation of the 20 Questions policy (LTAL).

Trains :class:`~banditlab.agents.active.ltal_questions.LTALQuestionPolicy` as Zhang, Jain &
Jamieson (2020) train learned policies, over complexity classes of *real persons* of the
shipped 20 Questions subset (Hu et al., EMNLP 2018), as
:mod:`banditlab.agents.active.ltal_train` does for best-arm identification:

* **Split.** The persons are sorted by ρ (the characteristic time of their own P(yes) row,
  ``Q20.person_rhos``); even ranks are the training persons, odd ranks the held-out persons
  (:func:`person_split`), so every class has about as many of each.
* **Classes.** Θ^(r) = the persons with ρ ≤ r, nested, for radii ``radii`` (default 0.95,
  1.1, 1.25 and 3.3: about 25, 50, 75 and 100 persons, i.e. the ρ quartiles) [I].
* **Stage 1.** For every class r, π_r is trained against the adversary of the class: the
  training persons of the class weighted by w ∝ exp(L_i / τ), L_i the loss of person i in
  this iteration's B episodes (the softmax-weighted loss of the paper's min-max game; a
  person-level adversary, no perturbation of the rows [I]). Gradient: REINFORCE with the
  per-person mean loss as baseline, Adam, norm clipping. V̂*_r is π_r's soft worst loss on
  the class with ``vstar_rollouts`` fresh episodes per person.
* **Stage 2.** π* starts from the π_r with the smallest largest gap max_r (soft worst_r −
  V̂*_r) and minimises the soft maximum over classes of the gaps (log-sum-exp with
  temperature ``tau_r`` over exponentially smoothed gaps), every class weighted by its
  adversary. All classes share one batch of episodes per iteration (nested classes).
* **Evaluation** (:func:`evaluate_per_class`): for every class, the held-out persons of the
  class; every algorithm plays every held-out person in two independent batches of
  ``episodes`` episodes. The mean loss is over both batches; the worst person is *selected*
  on the first batch and *scored* on the second, so the selection does not inflate it.
  Baselines run through the env (:class:`~banditlab.agents.active.ltal_train.AgentSim`); the
  learned policies through the Numba rollouts
  (:func:`~banditlab.agents.active.ltal_questions.question_rollouts`, statistically
  identical to the agent through the env: ``tests/test_active_learning_questions.py``).

Reproduce the shipped weights and the numbers below (resumable; ``--ship`` copies π* to the
package data ``banditlab/agents/active/data/ltal_q20.npz`` with its JSON metadata)::

    nice python -m banditlab.agents.active.ltal_questions_train --out /tmp/ltal_q20 --ship

MEASURED (the shipped policy: that command, training seed 0, 4 classes × 80 + 80
iterations, B = 4, one hidden layer of 8 units; the full record is in ``data/ltal_q20.json``,
key ``"training"``). Training took 248 s of CPU (1091 s wall on a shared 2-core machine at
load ≈ 12), the evaluation 914 s wall. Held-out persons, 30 + 30 episodes per person, mean
loss / loss of the worst person (selected on the first batch, scored on the second; its
standard error is ≈ 0.05 at 0.1), T = 20:

======  ==  =============  =============  =============  ================  =============
r       n   π* (LTAL)      uniform        SGBS           SGBS [abstain.]   info-gain
======  ==  =============  =============  =============  ================  =============
0.95    13  0.003 / 0.033  0.514 / 0.567  0.406 / 0.767  0.028 / 0.033     0.001 / 0.000
1.10    26  0.001 / 0.033  0.572 / 0.667  0.424 / 0.767  0.026 / 0.033     0.002 / 0.000
1.25    38  0.005 / 0.100  0.581 / 0.667  0.466 / 0.700  0.061 / 0.933     0.004 / 0.067
3.30    50  0.015 / 0.100  0.584 / 0.667  0.507 / 0.733  0.113 / 0.933     0.012 / 0.067
======  ==  =============  =============  =============  ================  =============

* π* beats uniform querying in mean and worst-person loss on every class (mean by more than
  0.5) and is within 0.003 of information-gain greedy in mean loss and within 0.033 (one
  episode in 30) in worst-person loss on every class: the stated margins are 0.01 (mean)
  and 0.05 (worst person). It also beats SGBS and SGBS with abstaining hypotheses.
* T = 10 (the policy trained at T = 20, evaluated with t / T features): π* 0.077 / 0.071 /
  0.108 / 0.153 mean, 0.133 / 0.133 / 0.667 / 0.733 worst; info-gain 0.058 / 0.067 / 0.091 /
  0.140 and 0.200 / 0.133 / 0.600 / 0.767; uniform 0.76–0.81 and 0.77–0.80. T = 30: π*
  ≤ 0.005 mean and ≤ 0.100 worst, info-gain ≤ 0.004 and ≤ 0.133, uniform 0.31–0.40 and
  0.37–0.73. So π* stays within 0.02 of info-gain in mean loss at T = 10 and 30 as well.
* π* against the per-class policies on their own class (T = 20, mean): 0.003 / 0.001 /
  0.005 / 0.015 against π_r 0.013 / 0.005 / 0.009 / 0.026: π* (warm-started from the best
  π_r and trained on every class) is better on every class; the π_r do not degrade off
  their class here (every class contains the easy persons).
* On the training persons π* has mean loss 0.001 / 0.003 / 0.003 / 0.009 at T = 20: the
  held-out gap is small. Sampling the queries instead of the argmax (the agent's
  ``sample``) gives 0.001 / 0.003 / 0.008 / 0.016 mean and 0.000 / 0.000 / 0.067 / 0.067
  worst: no real difference; the argmax is the default.

Checkpoints: ``<out>/state.npz`` (arrays only, read with ``allow_pickle=False``) and
``<out>/state.json``; the final policies are ``<out>/pi_r<m>.npz`` and ``<out>/pi_star.npz``
(+ .json). Nothing is pickled.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from banditlab.agents.active.ltal import init_params, load_policy, save_policy
from banditlab.agents.active.ltal_questions import (
    ARCH,
    N_QUESTION_FEATURES,
    question_policy_gradient,
    question_rollouts,
    question_tables,
    shipped_weights,
)
from banditlab.agents.active.ltal_train import Adam, AgentSim
from banditlab.core import BanditlabError
from banditlab.envs.active.providers import Q20
from banditlab.validation import Array, Interval, Options, validate_params

__all__ = [
    "QuestionsConfig",
    "person_split",
    "class_members",
    "train_questions",
    "policy_run_fn",
    "agent_run_fn",
    "evaluate_per_class",
    "evaluate",
    "format_table",
    "main",
]

_POS_INT = Interval("int", 1, None)
_POS_REAL = Interval("real", 0, None, closed="neither")
_CONFIG_CONSTRAINTS: dict[str, Any] = {
    **{name: _POS_INT for name in ("budget", "rollouts", "vstar_rollouts",
                                   "checkpoint_every")},
    "iters_class": Interval("int", 0, None),
    "iters_robust": Interval("int", 0, None),
    "radii": Array("float", ndim=1, low=0, min_len=1),
    "hidden": Array("int", ndim=1, low=1),
    **{name: _POS_REAL for name in ("lr", "tau", "tau_r", "clip")},
    "entropy": Interval("real", 0, None),
    "gap_ema": Interval("real", 0, 1, closed="left"),
    "robust_init": Options("best_class", "fresh"),
    "seed": Interval("int", 0, None),
}
"""Field constraints of :class:`QuestionsConfig` (:mod:`banditlab.validation`)."""


@dataclass
class QuestionsConfig:
    """Hyperparameters of the 20 Questions policy training (defaults [I], sized for 2 cores).

    Attributes:
        budget: T.
        radii: Class radii r_1 < … < r_M (persons with ρ ≤ r).
        hidden: Hidden widths of the shared per-question MLP.
        lr: Adam learning rate. clip: Gradient norm clip.
        rollouts: B episodes per training person per iteration.
        iters_class: Stage-1 iterations per class. iters_robust: Stage-2 iterations.
        tau: Softmax temperature of the adversary over persons. tau_r: Over classes.
        gap_ema: Exponential smoothing of the class gaps of stage 2 (0 = none).
        entropy: Entropy bonus on the query softmax (0: episodes with zero advantage are
            skipped by the gradient kernel, which is most of them once the policy is good).
        vstar_rollouts: Episodes per person of the final V̂*_r estimates and of the
            stage-2 warm start.
        robust_init: ``"best_class"`` (π* starts from the best π_r) or ``"fresh"``.
        seed: Root seed. checkpoint_every: Iterations between checkpoints.
    """

    budget: int = 20
    radii: tuple = (0.95, 1.1, 1.25, 3.3)
    hidden: tuple = (8,)
    lr: float = 0.03
    clip: float = 1.0
    rollouts: int = 4
    iters_class: int = 80
    iters_robust: int = 80
    tau: float = 0.1
    tau_r: float = 0.05
    gap_ema: float = 0.8
    entropy: float = 0.0
    vstar_rollouts: int = 32
    robust_init: str = "best_class"
    seed: int = 0
    checkpoint_every: int = 10

    def validate(self) -> None:
        """Raise :class:`BanditlabError` on a bad field (naming it)."""
        validate_params(_CONFIG_CONSTRAINTS, {k: getattr(self, k) for k in _CONFIG_CONSTRAINTS})
        if any(b <= a for a, b in zip(self.radii[:-1], self.radii[1:], strict=False)):
            raise BanditlabError(f"radii: expected increasing radii, got {list(self.radii)}")

    def sizes(self) -> np.ndarray:
        """Layer widths of the shared MLP: int64[L + 1]."""
        return np.array((N_QUESTION_FEATURES, *self.hidden, 1), dtype=np.int64)


def person_split(rhos) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out persons: even and odd ranks of ρ (stable sort).

    Returns:
        ``(train, held_out)``: sorted int64 person indices.
    """
    order = np.argsort(np.asarray(rhos), kind="stable")
    return np.sort(order[0::2]), np.sort(order[1::2])


def class_members(persons, rhos, radii) -> list[np.ndarray]:
    """For every radius, the persons of ``persons`` with ρ ≤ r (int64 arrays)."""
    persons = np.asarray(persons, dtype=np.int64)
    rhos = np.asarray(rhos)
    return [persons[rhos[persons] <= r] for r in radii]


def _softmax(v, tau):
    z = np.exp((v - v.max()) / tau)
    return z / z.sum()


def _clip(g, c):
    n = np.linalg.norm(g)
    return g * (c / n) if n > c else g


def _episodes(params, sizes, tab, table, persons, B, T, rng, sample=True):
    """Rollouts of ``persons`` (B each): (queries[P, B, T], answers, losses float64[P, B])."""
    q, a, z = question_rollouts(params, sizes, tab, table[persons], B, T, sample, rng)
    return q, a, (z != persons[:, None]).astype(np.float64)


def _gradient(params, sizes, tab, q, a, losses, person_weights, T, entropy):
    """REINFORCE gradient of Σ_i person_weights_i L_i (per-person mean baselines)."""
    P, B = losses.shape
    adv = (losses - losses.mean(axis=1, keepdims=True)) * person_weights[:, None] / B
    return question_policy_gradient(params, sizes, tab, q.reshape(P * B, T),
                                    a.reshape(P * B, T), -adv.reshape(-1), float(entropy), T)


def _soft_worst(losses, tau):
    L = losses.mean(axis=1)
    return float(_softmax(L, tau) @ L)


def _save_state(out: Path, cfg, state: dict, arrays: dict) -> None:
    tmp = out / "state.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(out / "state.npz")
    (out / "state.json").write_text(json.dumps({"config": asdict(cfg), **state}, indent=1))


def train_questions(cfg: QuestionsConfig, out_dir, resume: bool = True,
                    progress: bool = True, max_iters: int | None = None) -> dict:
    """Train π_r for every class, then π*, on the training persons; resumable from ``out_dir``.

    Args:
        cfg: The configuration.
        out_dir: Folder for checkpoints and the final policies.
        resume: Continue from a checkpoint in ``out_dir`` (its config must match).
        progress: Print one line per checkpoint.
        max_iters: Stop after this many iterations in this call (a later call continues).

    Returns:
        ``{"v_star", "radii", "train", "policies", "done", "seconds", "cpu_seconds"}``
        (wall-clock and CPU seconds of training, over every call).

    Raises:
        BanditlabError: A bad configuration, a class without training persons, or a
            checkpoint of another configuration in ``out_dir``.
    """
    cfg.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prov = Q20()
    rhos = prov.person_rhos()
    table = prov.table
    tab = question_tables(table)
    train, _ = person_split(rhos)
    pools = class_members(train, rhos, cfg.radii)
    for m, pool in enumerate(pools):
        if pool.size == 0:
            raise BanditlabError(f"radii: no training person has rho <= {cfg.radii[m]}")
    union = pools[-1]
    for pool in pools:
        union = np.union1d(union, pool)
    index = {int(p): k for k, p in enumerate(union)}
    sizes = cfg.sizes()
    T, M = cfg.budget, len(cfg.radii)
    meta = {"arch": ARCH, "provider": "q20", "budget": T, "decision": "mle",
            "radii": [float(r) for r in cfg.radii],
            "train_pids": [int(prov.pid[i]) for i in train]}
    total = M * cfg.iters_class + cfg.iters_robust
    js = out / "state.json"
    if resume and js.is_file() and (out / "state.npz").is_file():
        state = json.loads(js.read_text())
        if state["config"] != json.loads(json.dumps(asdict(cfg))):
            raise BanditlabError(f"out_dir: {str(out)!r} holds a checkpoint of another config")
        with np.load(out / "state.npz", allow_pickle=False) as f:
            params, m_, v_, gap_avg = f["params"], f["adam_m"], f["adam_v"], f["gap_avg"]
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        done, v_star, seconds = state["done_iters"], list(state["v_star"]), state["seconds"]
        cpu = state.get("cpu_seconds", float("nan"))
        opt = Adam(len(params), cfg.lr)
        opt.m, opt.v, opt.k = m_, v_, int(state["adam_k"])
    else:
        rng = np.random.default_rng(cfg.seed)
        done, v_star, seconds, cpu = 0, [], 0.0, 0.0
        params = init_params(sizes, rng)
        opt = Adam(len(params), cfg.lr)
        gap_avg = np.full(M, np.nan)
    start, cpu_start = time.perf_counter(), time.process_time()
    n_run = total - done if max_iters is None else min(max_iters, total - done)

    def checkpoint():
        _save_state(out, cfg, {"done_iters": done, "v_star": v_star,
                               "rng": rng.bit_generator.state, "adam_k": opt.k,
                               "seconds": seconds + time.perf_counter() - start,
                               "cpu_seconds": cpu + time.process_time() - cpu_start},
                    {"params": params, "adam_m": opt.m, "adam_v": opt.v, "gap_avg": gap_avg})

    for _ in range(n_run):
        stage = min(done // cfg.iters_class, M) if cfg.iters_class else M
        it = done - stage * cfg.iters_class
        if stage < M:
            pool = pools[stage]
            if it == 0:
                params = init_params(sizes, rng)
                opt = Adam(len(params), cfg.lr)
            q, a, losses = _episodes(params, sizes, tab, table, pool, cfg.rollouts, T, rng)
            w = _softmax(losses.mean(axis=1), cfg.tau)
            g = _gradient(params, sizes, tab, q, a, losses, w, T, cfg.entropy)
            params = opt.step(params, _clip(g, cfg.clip))
            if it == cfg.iters_class - 1:
                lf = _episodes(params, sizes, tab, table, pool, cfg.vstar_rollouts, T, rng)[2]
                v_star.append(_soft_worst(lf, cfg.tau))
                save_policy(out / f"pi_r{stage}.npz", params, sizes,
                            {**meta, "class_index": stage, "r": float(cfg.radii[stage]),
                             "v_star": v_star[-1]})
        else:
            if done == M * cfg.iters_class and cfg.robust_init == "best_class" and M:
                params = _best_class_policy(out, sizes, tab, table, pools, v_star, cfg, rng)
                opt = Adam(len(params), cfg.lr)
            elif done == M * cfg.iters_class:
                params = init_params(sizes, rng)
                opt = Adam(len(params), cfg.lr)
            q, a, losses = _episodes(params, sizes, tab, table, union, cfg.rollouts, T, rng)
            L = losses.mean(axis=1)
            gaps = np.zeros(M)
            person_w = np.zeros(len(union))
            class_w = []
            for m, pool in enumerate(pools):
                rows = np.array([index[int(p)] for p in pool])
                w = _softmax(L[rows], cfg.tau)
                gaps[m] = float(w @ L[rows]) - v_star[m]
                class_w.append((rows, w))
            gap_avg = (gaps.copy() if np.isnan(gap_avg).any()
                       else cfg.gap_ema * gap_avg + (1 - cfg.gap_ema) * gaps)
            qm = _softmax(gap_avg, cfg.tau_r)
            for m, (rows, w) in enumerate(class_w):
                person_w[rows] += qm[m] * w
            g = _gradient(params, sizes, tab, q, a, losses, person_w, T, cfg.entropy)
            params = opt.step(params, _clip(g, cfg.clip))
            if done == total - 1:
                save_policy(out / "pi_star.npz", params, sizes,
                            {**meta, "class_index": None, "v_star": v_star})
        done += 1
        if done % cfg.checkpoint_every == 0 or done == total:
            checkpoint()
            if progress:
                print(f"[ltal q20] {done}/{total} iterations, "
                      f"{seconds + time.perf_counter() - start:.0f} s", flush=True)
    checkpoint()
    policies = {f"pi_r{m}": str(out / f"pi_r{m}.npz") for m in range(len(v_star))}
    if done == total:
        policies["pi_star"] = str(out / "pi_star.npz")
    return {"v_star": v_star, "radii": [float(r) for r in cfg.radii],
            "train": train.tolist(), "policies": policies, "done": done == total,
            "seconds": seconds + time.perf_counter() - start,
            "cpu_seconds": cpu + time.process_time() - cpu_start}


def _best_class_policy(out, sizes, tab, table, pools, v_star, cfg, rng) -> np.ndarray:
    """The π_r with the smallest largest gap max_m (soft worst_m − V̂*_m)."""
    best, best_gap = None, np.inf
    for k in range(len(v_star)):
        params = load_policy(out / f"pi_r{k}.npz")[0]
        worst = max(_soft_worst(_episodes(params, sizes, tab, table, pool, cfg.vstar_rollouts,
                                          cfg.budget, rng)[2], cfg.tau) - v_star[m]
                    for m, pool in enumerate(pools))
        if worst < best_gap:
            best, best_gap = params, worst
    return best.copy()


# --------------------------------------------------------------------------- evaluation
def policy_run_fn(params, sizes, table, budget: int, sample: bool = False):
    """``run_fn(persons, B, rng) -> losses float64[P, B]`` of a question policy (Numba)."""
    tab = question_tables(table)
    sizes = np.asarray(sizes, dtype=np.int64)

    def run_fn(persons, B, rng):
        persons = np.asarray(persons, dtype=np.int64)
        return _episodes(params, sizes, tab, table, persons, B, budget, rng, sample)[2]

    return run_fn


def agent_run_fn(agent, budget: int, table):
    """``run_fn`` of any agent played through the env on the persons' rows (black box)."""
    sim = AgentSim(agent, "q20", {}, budget)

    def run_fn(persons, B, rng):
        return sim.run([table[int(p)] for p in persons], B, rng)[2]

    return run_fn


def evaluate_per_class(algos: dict, members: list, episodes: int, seed=0) -> dict:
    """Mean loss and worst-person loss of every algorithm on every class.

    Every algorithm plays the persons of the largest class twice, ``episodes`` episodes
    per person and batch, batch k with ``default_rng([*seed, k])`` (the same generator for
    every algorithm). Per class: the mean over both batches and the class's persons; the
    worst person is the argmax of the first batch (lowest index on ties), reported with its
    second-batch loss (``worst``) and standard error.

    Args:
        algos: name -> ``run_fn(persons, B, rng) -> losses[P, B]``.
        members: Person indices of every class (nested: the last holds them all).
        episodes: Episodes per person and batch.
        seed: An int or a sequence of ints.

    Returns:
        ``{name: {"mean", "mean_se", "worst", "worst_se", "worst_person"}}`` with one entry
        per class in each list.
    """
    seed = list(np.atleast_1d(seed).astype(int).tolist())
    everyone = np.unique(np.concatenate([np.asarray(m, dtype=np.int64) for m in members]))
    pos = {int(p): k for k, p in enumerate(everyone)}
    out = {}
    for name, fn in algos.items():
        a = fn(everyone, episodes, np.random.default_rng([*seed, 0])).mean(axis=1)
        b = fn(everyone, episodes, np.random.default_rng([*seed, 1])).mean(axis=1)
        row = {"mean": [], "mean_se": [], "worst": [], "worst_se": [], "worst_person": []}
        for m in members:
            idx = np.array([pos[int(p)] for p in m], dtype=np.int64)
            both = (a[idx] + b[idx]) / 2
            row["mean"].append(float(both.mean()))
            row["mean_se"].append(float(both.std(ddof=1) / np.sqrt(idx.size))
                                  if idx.size > 1 else float("nan"))
            k = idx[int(np.argmax(a[idx]))]
            row["worst"].append(float(b[k]))
            row["worst_se"].append(float(np.sqrt(max(b[k] * (1 - b[k]), 1e-12) / episodes)))
            row["worst_person"].append(int(everyone[k]))
        out[name] = row
    return out


def _baselines(table, budget: int) -> dict:
    from banditlab.agents.active.baselines import SGBS, InfoGainGreedy, RoundRobinMLE

    kw = {"budget": budget, "problem": "table", "hypothesis_table": table}
    return {"Uniform + MLE": RoundRobinMLE(**kw), "SGBS": SGBS(**kw),
            "SGBS [abstaining hypotheses]": SGBS(margin=0.3, **kw),
            "Info-Gain Greedy": InfoGainGreedy(**kw)}


def evaluate(policies: dict, budgets, episodes: int, seed: int = 0,
             radii=QuestionsConfig.radii, baselines: bool = True) -> dict:
    """Per-class held-out evaluation of learned policies and the baselines for every budget.

    Args:
        policies: name -> ``.npz`` path of a question policy.
        budgets: The budgets T to evaluate.
        episodes: Episodes per held-out person and batch (see :func:`evaluate_per_class`).
        seed: Evaluation seed (combined with T).
        radii: Class radii.
        baselines: Also evaluate uniform, SGBS (plain and abstaining) and info-gain greedy.

    Returns:
        ``{"radii", "held_out_pids", "persons_per_class", "episodes", "budgets": {T: table}}``.
    """
    prov = Q20()
    rhos = prov.person_rhos()
    _, held = person_split(rhos)
    members = class_members(held, rhos, radii)
    res = {"radii": [float(r) for r in radii], "episodes": episodes,
           "held_out_pids": [int(prov.pid[i]) for i in held],
           "persons_per_class": [int(m.size) for m in members], "budgets": {}}
    for T in budgets:
        algos = {}
        for name, path in policies.items():
            params, sizes, _ = load_policy(path)
            algos[name] = policy_run_fn(params, sizes, prov.table, T)
        if baselines:
            algos.update({name: agent_run_fn(agent, T, prov.table)
                          for name, agent in _baselines(prov.table, T).items()})
        res["budgets"][str(T)] = evaluate_per_class(algos, members, episodes, seed=[seed, T])
    return res


def format_table(res: dict) -> str:
    """One text table per budget: mean / worst-person loss per class and algorithm."""
    lines = []
    for T, table in res["budgets"].items():
        names = list(table)
        lines.append(f"T = {T}: mean / worst-person loss on held-out persons "
                     f"({res['episodes']} + {res['episodes']} episodes per person)")
        lines.append("r".rjust(6) + "n".rjust(4) + "".join(n[:22].rjust(24) for n in names))
        for m, r in enumerate(res["radii"]):
            cells = "".join(f"{table[n]['mean'][m]:.3f} / {table[n]['worst'][m]:.3f}".rjust(24)
                            for n in names)
            lines.append(f"{r:6.2f}{res['persons_per_class'][m]:4d}{cells}")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Command line: train (resumable), evaluate, optionally ship the weights."""
    ap = argparse.ArgumentParser(
        prog="python -m banditlab.agents.active.ltal_questions_train",
        description="Train and evaluate the question-equivariant 20 Questions policy (LTAL).")
    ap.add_argument("--out", default="/tmp/banditlab_ltal_q20")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--iters-class", type=int, default=QuestionsConfig.iters_class)
    ap.add_argument("--iters-robust", type=int, default=QuestionsConfig.iters_robust)
    ap.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 30])
    ap.add_argument("--episodes", type=int, default=30,
                    help="evaluation episodes per held-out person and batch")
    ap.add_argument("--eval-seed", type=int, default=0)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--ship", action="store_true",
                    help="copy pi_star (+ metadata and evaluation) to the package data")
    args = ap.parse_args(argv)
    cfg = QuestionsConfig(seed=args.seed, iters_class=args.iters_class,
                          iters_robust=args.iters_robust)
    out = Path(args.out)
    t0, c0 = time.perf_counter(), time.process_time()
    res = train_questions(cfg, out)
    print(f"training: {res['seconds']:.0f} s recorded (this call: wall "
          f"{time.perf_counter() - t0:.0f} s, CPU {time.process_time() - c0:.0f} s); "
          f"V*_r = {np.round(res['v_star'], 3).tolist()}")
    record = {"config": asdict(cfg), "v_star": res["v_star"], "train_seconds": res["seconds"],
              "train_cpu_seconds": res["cpu_seconds"],
              "command": "python -m banditlab.agents.active.ltal_questions_train "
                         f"--seed {args.seed} --iters-class {args.iters_class} "
                         f"--iters-robust {args.iters_robust} --episodes {args.episodes}"}
    if not args.no_eval:
        t1 = time.perf_counter()
        ev = evaluate({"LTAL pi*": res["policies"]["pi_star"]}
                      | {k: v for k, v in res["policies"].items() if k != "pi_star"},
                      args.budgets, args.episodes, seed=args.eval_seed, radii=cfg.radii)
        print(format_table(ev))
        print(f"evaluation: {time.perf_counter() - t1:.0f} s")
        record["evaluation"] = ev
        (out / "evaluation.json").write_text(json.dumps(ev, indent=1))
    if args.ship:
        dest = shipped_weights()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(res["policies"]["pi_star"], dest)
        meta = json.loads(Path(res["policies"]["pi_star"]).with_suffix(".json").read_text())
        meta["training"] = record
        dest.with_suffix(".json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        print(f"shipped {dest} (+ .json)")


if __name__ == "__main__":
    main()
