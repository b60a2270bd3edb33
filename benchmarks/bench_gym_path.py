"""The Gymnasium path against a plain Python Gymnasium loop doing the same work.

Task: UCB1 (alpha = 2, random tie-breaking) on the 10-armed Bernoulli bandit
``banditlab/Bernoulli10-v0``. Three loops, timed side by side in one run (best of 5,
alternating, after warm-up):

* **plain**: a ``gymnasium.Env`` written in Python/NumPy (Bernoulli draw from its own
  ``Generator``) and a Python UCB1 agent (NumPy index, ties broken with its own
  ``Generator``), stepped by ``env.step(agent.act(obs))`` and ``agent.update(...)``;
* **banditlab**: ``banditlab.run(..., backend="python")``, the Gymnasium path every
  agent without a kernel runs on (kernel env and kernel agent called from Python;
  regret bookkeeping included);
* **banditlab, direct kernel calls**: the same with the generator passed to the
  kernels directly instead of through :class:`banditlab._entry.RngHolder` (what the
  path did before).

Run:  python benchmarks/bench_gym_path.py [--steps 20000]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

from banditlab import _entry
from banditlab.harness import run
from banditlab.registry import make_env


class PlainBernoulli(gym.Env):
    """A 10-armed Bernoulli bandit in plain Python."""

    def __init__(self, means):
        self.means = np.asarray(means, dtype=float)
        self.action_space = gym.spaces.Discrete(len(self.means))
        self.observation_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        reward = 1.0 if self.np_random.random() < self.means[action] else 0.0
        return 0, reward, False, False, {"expected_reward": self.means[action]}


class PlainUCB1:
    """UCB1 in plain NumPy (same index and tie-breaking rule as banditlab's kernel)."""

    def __init__(self, k: int, seed: int):
        self.counts = np.zeros(k)
        self.sums = np.zeros(k)
        self.t = 0
        self.rng = np.random.default_rng(seed)

    def act(self, obs):
        self.t += 1
        with np.errstate(divide="ignore", invalid="ignore"):
            index = np.where(self.counts == 0, np.inf, self.sums / self.counts
                             + np.sqrt(2.0 * np.log(self.t) / self.counts))
        best = np.flatnonzero(index == index.max())
        return int(best[self.rng.integers(best.shape[0])]) if best.shape[0] > 1 else int(best[0])

    def update(self, obs, action, reward, next_obs, terminated):
        self.counts[action] += 1.0
        self.sums[action] += reward


def time_plain(steps: int, seed: int) -> float:
    env = PlainBernoulli(make_env("banditlab/Bernoulli10-v0").means)
    agent = PlainUCB1(10, seed + 1)
    start = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(steps):
        a = agent.act(obs)
        nxt, r, term, trunc, info = env.step(a)
        agent.update(obs, a, r, nxt, term)
        total += r
        obs = nxt
    return time.perf_counter() - start


def time_banditlab(steps: int, seed: int) -> float:
    env = make_env("banditlab/Bernoulli10-v0", horizon=steps)
    start = time.perf_counter()
    run(env, "UCB1-v0", seed=seed, backend="python")
    return time.perf_counter() - start


def time_direct(steps: int, seed: int) -> float:
    saved = _entry.holder_call
    _entry.holder_call = lambda kernel: None  # the kernels get the Generator itself
    try:
        return time_banditlab(steps, seed)
    finally:
        _entry.holder_call = saved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=20_000)
    a = p.parse_args()
    for f in (time_plain, time_banditlab, time_direct):
        f(500, 0)  # warm-up: compilation and imports excluded
    times: dict[str, list[float]] = {"plain": [], "banditlab": [], "direct": []}
    for s in range(5):
        times["plain"].append(time_plain(a.steps, s))
        times["banditlab"].append(time_banditlab(a.steps, s))
        times["direct"].append(time_direct(a.steps, s))
    rate = {k: a.steps / min(v) for k, v in times.items()}
    print(f"UCB1 on the 10-armed Bernoulli bandit, {a.steps:,} steps, best of 5")
    print(f"  plain Python Gymnasium loop:              {rate['plain']:10,.0f} steps/s")
    print(f"  banditlab Gymnasium path:                 {rate['banditlab']:10,.0f} steps/s")
    print(f"  banditlab Gymnasium path, direct calls:   {rate['direct']:10,.0f} steps/s")
    print(f"  banditlab / plain = {rate['banditlab'] / rate['plain']:.2f}   "
          f"(direct calls / plain = {rate['direct'] / rate['plain']:.2f})")


if __name__ == "__main__":
    main()
