"""Tight-loop benchmark of the LSD family: fused harness path vs a hand-written Numba loop.

Measured, on Laforgue et al.'s main-experiment instance (``banditlab/LSDLaforgue5-v1``:
five arms, delay-only Bernoulli payoffs, delays 1..10, every arm starting at delay 1,
``obs_encoding="delay"``), the steps per second of

* per-state UCB-greedy (``LSDUCBGreedy-v0`` with ``obs_encoding="delay"``, the env's
  encoding, which the registered default does not bind; target ratio 0.5), and
* ISI-CombUCB1 (``ISICombUCB1-v1``, blocks of ``d + 1 = 4`` pulls planned by exhaustive
  search over the ``5**4`` sequences, ``planner="exhaustive"``: the default block-LP
  planner would put a simplex solver in the hand-written loop; no target),

each on the harness's fused path (``harness.run(..., backend="kernel")``) and in one
hand-written ``@njit`` loop that tracks every arm's delay directly (no observation
encoding or decoding, statistics indexed by delay, the algorithm inlined, the argmax
tracked while the indices are computed). Both start from the same reset
(:func:`_tight.prepared`) and must end with identical cumulative reward and expected
reward. Run from the repository root::

    python benchmarks/bench_tight_lsd.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tight import Case, main_for  # noqa: E402

from banditlab.kernels.common import running_max, tied_maximiser  # noqa: E402

ENV_ID = "banditlab/LSDLaforgue5-v1"


def _delay_payoffs(env) -> np.ndarray:
    """``p[i, d - 1]``: arm ``i``'s mean at delay ``d`` (entries of the env's table)."""
    table = env.unwrapped.payoff_table
    k, _, tau = table.shape
    p = np.empty((k, tau))
    p[:, 0] = table[:, 0, 0]
    p[:, 1:] = table[:, 1, : tau - 1]
    return p


def _delays(env) -> np.ndarray:
    """Every arm's current delay (1 if played last round, else ``min(idle + 1, tau)``)."""
    s = env.unwrapped.state_
    tau = env.unwrapped.tau_max
    return np.where(s.streak > 0, 1, np.minimum(s.idle + 1, tau)).astype(np.int64)


# ----------------------------------------------------------------------- UCB-greedy
@njit(cache=True)
def ucb_greedy_loop(p, delay, steps, c, env_rng, agent_rng):
    """UCB-greedy over (arm, delay) on a delay-only Bernoulli LSD bandit.

    On a delay-only table every delay is its own (side, level) pair of the agent (delay
    1: on, level 1; delay ``d > 1``: off, level ``d - 1``), so the statistics are
    indexed by delay.
    """
    k, tau = p.shape
    counts = np.zeros((k, tau))
    sums = np.zeros((k, tau))
    index = np.empty(k)
    total = 0.0
    total_mu = 0.0
    for t in range(1, steps + 1):
        logt = np.log(t)
        best = -np.inf
        n_best = 0
        first = 0
        for i in range(k):
            n = counts[i, delay[i] - 1]
            if n == 0.0:
                v = np.inf
            else:
                v = sums[i, delay[i] - 1] / n + np.sqrt(c * logt / n)
            index[i] = v
            best, n_best, first = running_max(v, i, best, n_best, first)
        u = agent_rng.random()
        a = first if n_best == 1 else tied_maximiser(index, best, n_best, u)
        d = delay[a] - 1
        mu = p[a, d]
        r = 1.0 if env_rng.random() < mu else 0.0
        counts[a, d] += 1.0
        sums[a, d] += r
        for i in range(k):
            delay[i] = min(delay[i] + 1, tau)
        delay[a] = 1
        total += r
        total_mu += mu
    return total, total_mu


def hand_ucb_greedy(env, agent, steps):
    """The hand-written UCB-greedy loop from the harness's reset."""
    assert int(agent.tau_max) >= env.unwrapped.tau_max - 1
    return ucb_greedy_loop(_delay_payoffs(env), _delays(env), steps, float(agent.bonus_c),
                           env.unwrapped.noise_rng_, agent.rng_)


# ----------------------------------------------------------------------- ISI-CombUCB1
@njit(cache=True)
def isi_combucb_loop(p, delay, steps, length, c, unvisited, env_rng, agent_rng):
    """ISI-CombUCB1 with exhaustive block planning (blocks of ``length`` pulls).

    Indices ``ucb[i, d - 1]`` for capped delays ``d = 1..length``; at each block start
    the best sequence under later-pull values ``ucb[i, delta - 1]`` (first pulls valued
    0, ties by reservoir sampling); first pulls of an arm in a block are not learned
    from; after every other pull every arm's index at its current capped delay is
    refreshed.
    """
    k, tau = p.shape
    counts = np.zeros((k, length))
    sums = np.zeros((k, length))
    ucb = np.full((k, length), unvisited)
    later = np.zeros((k, length))
    plan = np.zeros(length, np.int64)
    first = np.zeros(length, np.bool_)
    seq = np.zeros(length, np.int64)
    last = np.empty(k, np.int64)
    seen = np.zeros(k, np.bool_)
    n_seq = k ** length
    total = 0.0
    total_mu = 0.0
    for t in range(1, steps + 1):
        pos = (t - 1) % length
        if pos == 0:
            for i in range(k):
                for dl in range(length - 1):
                    later[i, dl] = ucb[i, dl]
            best_val = -np.inf
            n_ties = 0
            for code in range(n_seq):
                cc = code
                for q in range(length):
                    seq[q] = cc % k
                    cc //= k
                for i in range(k):
                    last[i] = -1
                val = 0.0
                for q in range(length):
                    a = seq[q]
                    if last[a] >= 0:
                        val += later[a, q - last[a] - 1]
                    last[a] = q
                if val > best_val + 1e-12:
                    best_val = val
                    n_ties = 1
                    plan[:] = seq
                elif val > best_val - 1e-12:
                    n_ties += 1
                    if agent_rng.random() * n_ties < 1.0:
                        plan[:] = seq
            seen[:] = False
            for q in range(length):
                first[q] = not seen[plan[q]]
                seen[plan[q]] = True
        a = plan[pos]
        d = delay[a]
        mu = p[a, d - 1]
        r = 1.0 if env_rng.random() < mu else 0.0
        if not first[pos]:
            col = min(d, length) - 1
            counts[a, col] += 1.0
            sums[a, col] += r
            logt = np.log(t)
            for i in range(k):
                ci = min(delay[i], length) - 1
                n = counts[i, ci]
                if n > 0.0:
                    ucb[i, ci] = sums[i, ci] / n + np.sqrt(c * logt / n)
        for i in range(k):
            delay[i] = min(delay[i] + 1, tau)
        delay[a] = 1
        total += r
        total_mu += mu
    return total, total_mu


def hand_isi_combucb(env, agent, steps):
    """The hand-written ISI-CombUCB1 loop from the harness's reset."""
    hp = agent.kernel_.hparams
    assert hp.isi == 1 and hp.planner == 0 and hp.refresh == 0
    return isi_combucb_loop(_delay_payoffs(env), _delays(env), steps, int(hp.length),
                            float(hp.bonus_c), float(hp.unvisited),
                            env.unwrapped.noise_rng_, agent.rng_)


CASES = [
    Case("UCB-greedy on LSD-Laforgue5", ENV_ID, "LSDUCBGreedy-v0", 8_000_000,
         hand_ucb_greedy, agent_kwargs={"obs_encoding": "delay", "tau_max": 10},
         target=0.5),
    Case("ISI-CombUCB1 (exhaustive) on LSD-Laforgue5", ENV_ID, "ISICombUCB1-v1", 200_000,
         hand_isi_combucb, agent_kwargs={"planner": "exhaustive"}, target=None),
]


def main():
    """Measure every case and print the table."""
    return main_for(CASES, __doc__)


if __name__ == "__main__":
    main()
