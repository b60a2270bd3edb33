"""Throughput of the adversarial linear-Q MDP agents: episodes per second through the harness.

Usage::

    python benchmarks/bench_advmdp.py [--episodes 2000] [--quick]
    python benchmarks/bench_advmdp.py --mgr [--reps 200]

Prints, for each size and simulator mode, the episodes per second of every
agent through :func:`banditlab.harness.run` with its default backend (the fused
episodic loop for the kernel agents, the Python loop for the simulator-free learner;
the ``path`` column says which), after a warm-up run that compiles the Numba kernels,
and the simulator trajectories drawn per episode. ``benchmarks/bench_episodic.py``
times both paths of the same agents side by side. ``--mgr`` instead prints the relative
bias and spread (Frobenius norms, relative to the exact inverse) of the covariance
estimators at an equal budget of trajectories: MGR with independent chains (the
default), the single symmetrised chain (``mgr_variant="single_chain"``) and the direct
inverse, on layer 1 of the default instance under a random policy. No assertions:
figures only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from banditlab.agents.advmdp.baselines import AdvMDPUniform
from banditlab.agents.advmdp.covariance import (
    CovEstimator,
    cov_from_occupancy,
    default_mgr_chain_length,
    regularised_inverse,
)
from banditlab.agents.advmdp.linear_mdp import SimFreeLogBarrierPO
from banditlab.agents.advmdp.policy_opt import (
    DilatedBonusPO,
    LogBarrierPO,
    MagnitudeReducedPO,
    TabularExp3PO,
)
from banditlab.envs.advmdp.env import AdvLinearQMDP
from banditlab.harness import run

SIZES = {
    "small H=3 N=4 A=3 d=4": {"H": 3, "N": 4, "A": 3, "d": 4},
    "large H=5 N=20 A=5 d=10": {"H": 5, "N": 20, "A": 5, "d": 10},
}

def _exact(mode: str) -> dict:
    """Exact covariance and bonus with an exact simulator (else the defaults: MGR, sampled)."""
    return {"cov_estimator": "exact", "bonus": "exact_dp"} if mode == "exact" else {}


AGENTS = {
    "uniform": lambda mode: AdvMDPUniform(),
    "A0 DilatedBonusPO": lambda mode: DilatedBonusPO(c_eta=10.0, **_exact(mode)),
    "A1 LogBarrierPO": lambda mode: LogBarrierPO(c_eta=30.0, **_exact(mode)),
    "A2-candidate": lambda mode: MagnitudeReducedPO(c_eta=3.0, **_exact(mode)),
    "TabularExp3PO": lambda mode: TabularExp3PO(c_eta=10.0, **_exact(mode)),
    "A1 MGR 256 draws": lambda mode: LogBarrierPO(c_eta=30.0, n_cov_samples=256),
    "A1 direct 256 draws": lambda mode: LogBarrierPO(
        c_eta=30.0, cov_estimator="direct", n_cov_samples=256
    ),
    "SimFreeLogBarrierPO": lambda mode: SimFreeLogBarrierPO(),
}


def bench(size_kwargs: dict, mode: str, name: str,
          n_episodes: int) -> tuple[float, float, str]:
    """Episodes per second, simulator calls per episode and execution path of one agent."""
    env = AdvLinearQMDP(n_episodes=n_episodes, simulator_mode=mode, **size_kwargs)
    run(env, AGENTS[name](mode), seed=0, run_length=min(20, n_episodes), checkpoints=[1])
    t0 = time.perf_counter()
    res = run(env, AGENTS[name](mode), seed=1, checkpoints=[n_episodes])
    dt = time.perf_counter() - t0
    path = "fused" if res.backend == "kernel" else "python"
    return n_episodes / dt, res.finals["sim_calls"] / n_episodes, path


def mgr_table(reps: int, budget: int = 4096, K: int = 4096) -> None:
    """Relative bias and spread of the estimators against the exact inverse (layer 1)."""
    env = AdvLinearQMDP(n_episodes=K, simulator_mode="exact")
    env.reset(seed=0)
    pi = np.random.default_rng(0).dirichlet(np.ones(env.A), size=(env.H, env.N))
    sigma = cov_from_occupancy(env.phi, env.simulator.occupancy(pi))
    print(f"budget {budget} trajectories, K={K}, {reps} repeats; norms relative to "
          "||(gamma I + Sigma_1)^-1||_F")
    print(f"{'gamma':>7s} {'estimator':28s} {'chains x length':>16s} {'rel bias':>9s} "
          f"{'rel spread':>10s}")
    for gamma in (0.1, 0.03, 0.01):
        exact = regularised_inverse(sigma, gamma)[1]
        scale = np.linalg.norm(exact)
        n_len = min(budget, default_mgr_chain_length(gamma, 0.5, K))
        for name, est in (
            ("MGR chains (default)", CovEstimator("mgr", gamma, budget, 0.5, n_len)),
            ("MGR single chain, symmetrised",
             CovEstimator("mgr", gamma, budget, 0.5, variant="single_chain")),
            ("direct inverse", CovEstimator("direct", gamma, budget)),
        ):
            draws = np.stack([est.inv_cov(env.phi, pi, env.simulator)[1] for _ in range(reps)])
            mean = draws.mean(axis=0)
            bias = np.linalg.norm(mean - exact) / scale
            spread = np.sqrt(np.mean(np.sum((draws - mean) ** 2, axis=(1, 2)))) / scale
            shape = (f"{est.n_chains} x {est.chain_length}" if est.kind == "mgr"
                     else f"{budget} draws")
            print(f"{gamma:7.3g} {name:28s} {shape:>16s} {bias:9.4f} {spread:10.4f}")


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 episodes")
    parser.add_argument("--mgr", action="store_true", help="covariance estimator table")
    parser.add_argument("--reps", type=int, default=200, help="repeats of --mgr")
    args = parser.parse_args()
    if args.mgr:
        mgr_table(args.reps)
        return
    n = 200 if args.quick else args.episodes
    print(f"{'size':26s} {'simulator':9s} {'agent':20s} {'path':6s} {'episodes/s':>11s} "
          f"{'sim/ep':>8s}")
    for size_name, kw in SIZES.items():
        for mode in ("exact", "sample"):
            for name in AGENTS:
                eps, sim, path = bench(kw, mode, name, n)
                print(f"{size_name:26s} {mode:9s} {name:20s} {path:6s} {eps:11.1f} {sim:8.1f}")


if __name__ == "__main__":
    main()
