"""Tight-loop benchmark of the SOR family: Tsallis-INF on a cached cost table, fused vs hand loop.

``banditlab/SORTable-v0`` is the SOR-E1 run (shifted 10 x 10 Laplacians, 20 grid omegas)
whose costs come from the precomputed full-information table: ``reset(seed)`` draws the
systems and reads the table (disk-cached), a step is a look-up. This script times the
harness's fused path (``run(..., backend="kernel")``: the loop generated for the pair,
calling the env's and agent's kernels on their NamedTuple states, *including* the env's
``reset``, i.e. drawing the systems and loading the cached table) against one hand-written
``@njit`` loop of the same pair that takes the same table (``env.state_.reward``,
float64[T, 20]) and the same generator (``agent.rng_``), with the authors' Tsallis-INF
inlined: ``k_i/s`` hoisted out of the Newton steps, the pole (a diagnostic) not computed,
no NamedTuples, no project kernels. Both follow the same trajectory: the cumulative reward
and expected reward at the end must be identical before a ratio is reported (see
``benchmarks/_tight.py``). Target: 0.5.

Cases (T = 2000 systems, high variance):

* Tsallis-INF (``RelaxTsallisINF-v1``, the authors' Newton rule: 20 steps from -1);
* Tsallis-INF [pole guard] (``pole_guard=True``: the hand loop also tracks the pole).

The first run computes and caches the cost tables of the seeds it uses (six tables, about
25 ms per system on two loaded cores; ``$BANDITLAB_CACHE_DIR/sor``, default
``~/.cache/banditlab/sor``); later runs read them.

Run:  python benchmarks/bench_tight_sor.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import numpy as np
from numba import njit

try:  # run as a script from benchmarks/ (or with benchmarks/ on the path)
    from _tight import Case, main_for
except ImportError:  # imported as benchmarks.bench_tight_sor from the repository root
    from benchmarks._tight import Case, main_for


@njit(cache=True, error_model="numpy")
def tsallis_table_loop(reward, steps, rng, newton_steps, newton_start, pole_guard, offset):
    """Tsallis-INF (authors' Newton rule, optional pole guard) on a reward table.

    Args:
        reward: float64[T, d], ``-iterations`` of every grid omega on every system.
        steps: Rounds to play (``<= T``).
        rng: The agent's generator (one uniform per round).
        newton_steps: Newton steps per round.
        newton_start: Starting normaliser.
        pole_guard: Keep the Newton iterate left of the pole ``min k/s``.
        offset: The cost offset (1 for iteration counts).

    Returns:
        ``(total_reward, total_expected_reward)`` (equal: the costs are deterministic).
    """
    d = reward.shape[1]
    k = np.zeros(d)
    ks = np.empty(d)
    p = np.empty(d)
    scale = 1.0
    cost_sum = 0.0
    total = 0.0
    for t in range(1, steps + 1):
        eta = 2.0 / np.sqrt(t)
        for i in range(d):
            ks[i] = k[i] / scale
        x = newton_start
        pole = np.inf
        if pole_guard:
            for i in range(d):
                pole = min(pole, ks[i])
            if not x < pole:
                x = pole - 1e-12
        s = 0.0
        for _ in range(newton_steps):
            s = 0.0
            s32 = 0.0
            for i in range(d):
                v = 4.0 * (eta * (ks[i] - x)) ** -2.0
                p[i] = v
                s += v
                s32 += v ** 1.5
            x_new = x - (s - 1.0) / (eta * s32)
            if pole_guard and not x_new < pole:
                x_new = 0.5 * (x + pole)
            x = x_new
        u = rng.random()
        valid = np.isfinite(s) and s > 0.0
        for i in range(d):
            if not (np.isfinite(p[i]) and p[i] >= 0.0):
                valid = False
        if valid:
            acc = 0.0
            arm = d - 1
            for i in range(d):
                acc += p[i] / s
                if u < acc:
                    arm = i
                    break
            prob = p[arm]
        else:
            arm = min(int(u * d), d - 1)
            prob = 1.0 / d
        r = reward[t - 1, arm]
        total += r
        cost = -r
        cost_sum += cost
        sc = cost_sum / t - offset
        scale = sc if sc > 0.0 else 1.0
        k[arm] += (cost - offset) / prob
    return total, total


def _hand(env, agent, steps):
    return tsallis_table_loop(env.state_.reward, steps, agent.rng_, int(agent.newton_steps),
                              float(agent.newton_start), bool(agent.pole_guard),
                              float(agent.cost_offset))


T = 2000

CASES = [
    Case("Tsallis-INF on SORTable (cached table)", "banditlab/SORTable-v0",
         "RelaxTsallisINF-v1", T, _hand),
    Case("Tsallis-INF [pole guard] on SORTable", "banditlab/SORTable-v0",
         "RelaxTsallisINF-v1", T, _hand, agent_kwargs={"pole_guard": True}),
]


def main(argv=None):
    """Measure every case and print the table."""
    return main_for(CASES, __doc__, argv)


if __name__ == "__main__":
    main()
