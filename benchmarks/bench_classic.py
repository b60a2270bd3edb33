"""Throughput of the classic agents on their envs: fused Numba path vs Gymnasium path.

For every classic kernel agent on the env it is designed for (stochastic, adversarial and
linear contextual bandits), times one run on the fused path (``backend="kernel"``)
and one on the Gymnasium path (``backend="python"``), after a warm-up run that compiles
both, and prints steps per second side by side with their ratio.
Run:  python benchmarks/bench_classic.py [--steps N] [--python-steps M]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from banditlab.harness import run
from banditlab.registry import make_env


@dataclass
class Args:
    steps: int = 200_000
    """Rounds of the fused run."""
    python_steps: int = 5_000
    """Rounds of the (much slower) Gymnasium run."""


# --- setup
CASES = [
    ("banditlab/Bernoulli10-v0", "EpsilonGreedy-v0"),
    ("banditlab/Bernoulli10-v0", "KLUCB-v0"),
    ("banditlab/Bernoulli10-v0", "ThompsonBeta-v0"),
    ("banditlab/Bernoulli10-v0", "ThompsonGaussian-v0"),
    ("banditlab/AdversarialBandit-v0", "Exp3-v0"),
    ("banditlab/AdversarialBandit-v0", "TsallisINF-v0"),
    ("banditlab/LinearContextual-v0", "LinUCB-v0"),
    ("banditlab/LinearContextual-v0", "LinTS-v0"),
]


def steps_per_second(env_id: str, agent_id: str, steps: int, backend: str) -> float:
    env = make_env(env_id, horizon=steps)
    start = time.perf_counter()
    run(env, agent_id, seed=0, backend=backend)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=Args.steps)
    parser.add_argument("--python-steps", type=int, default=Args.python_steps)
    ns = parser.parse_args()
    args = Args(steps=ns.steps, python_steps=ns.python_steps)
    # --- run
    print(f"{'env':34s} {'agent':22s} {'fused steps/s':>14s} {'python steps/s':>15s} {'ratio':>7s}")
    for env_id, agent_id in CASES:
        for backend in ("kernel", "python"):  # warm-up: compile both paths
            steps_per_second(env_id, agent_id, 200, backend)
        fused = steps_per_second(env_id, agent_id, args.steps, "kernel")
        python = steps_per_second(env_id, agent_id, args.python_steps, "python")
        print(f"{env_id:34s} {agent_id:22s} {fused:14.3g} {python:15.3g} {fused / python:7.0f}")


if __name__ == "__main__":
    main()
