"""Throughput of the adversarial linear-Q MDP agents: episodes per second through the harness.

Usage::

    python benchmarks/bench_advmdp.py [--episodes 2000] [--quick]

Prints, for each size and simulator mode, the episodes per second of every
agent (Python episodic path of :func:`banditlab.harness.run`, after a warm-up run
that compiles the Numba kernels) and the simulator trajectories drawn per
episode. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import time

from banditlab.agents.advmdp.baselines import AdvMDPUniform
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

AGENTS = {
    "uniform": lambda mode: AdvMDPUniform(),
    "A0 DilatedBonusPO": lambda mode: DilatedBonusPO(c_eta=10.0),
    "A1 LogBarrierPO": lambda mode: LogBarrierPO(c_eta=30.0),
    "A2-candidate": lambda mode: MagnitudeReducedPO(c_eta=3.0),
    "TabularExp3PO": lambda mode: TabularExp3PO(c_eta=10.0),
    "A1 + MGR (M=256)": lambda mode: LogBarrierPO(
        c_eta=30.0, cov_estimator="mgr", n_cov_samples=256
    ),
}


def bench(size_kwargs: dict, mode: str, name: str, n_episodes: int) -> tuple[float, float]:
    """Episodes per second and simulator calls per episode of one agent."""
    env = AdvLinearQMDP(n_episodes=n_episodes, simulator_mode=mode, **size_kwargs)
    run(env, AGENTS[name](mode), seed=0, run_length=min(20, n_episodes), checkpoints=[1])
    t0 = time.perf_counter()
    res = run(env, AGENTS[name](mode), seed=1, checkpoints=[n_episodes])
    dt = time.perf_counter() - t0
    return n_episodes / dt, res.finals["sim_calls"] / n_episodes


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 episodes")
    args = parser.parse_args()
    n = 200 if args.quick else args.episodes
    print(f"{'size':26s} {'simulator':9s} {'agent':20s} {'episodes/s':>11s} {'sim/ep':>8s}")
    for size_name, kw in SIZES.items():
        for mode in ("exact", "sample"):
            for name in AGENTS:
                eps, sim = bench(kw, mode, name, n)
                print(f"{size_name:26s} {mode:9s} {name:20s} {eps:11.1f} {sim:8.1f}")


if __name__ == "__main__":
    main()
