"""Tight-loop benchmark of the amdp family: fused loop vs a hand-written Numba loop.

For two (env, agent) pairs, times the harness's fused path (``run(..., backend="kernel")``:
the continuing loop of ``banditlab._fused`` calling the env's and the agent's kernels)
against one hand-written ``@njit`` loop of the same pair (local arrays, the algorithm
inlined, no project kernels, no NamedTuples), started from the env and agent exactly as the
harness resets them. Both follow the same trajectory: the cumulative reward and expected
reward at the end must be identical before a ratio is reported (see
``benchmarks/_tight.py``).

Cases:

* UCRL2 (``UCRL2-v1``: JMLR radii, doubling episodes) on RiverSwim-6 (``RiverSwim-v0``),
  2e7 steps, target ratio 0.5;
* LOOP-Tab (``LOOPTab-v1``: Laplace radii, EVI truncated at span ``B = 6.32``, doubling
  episodes) on SixArms (``SixArms-v0``), 2e7 steps, no target.

The hand-written loop holds the statistics in local arrays and inlines the whole agent:
the stopping rule of Jaksch et al. (2010, Fig. 1) before each round, the confidence radii,
and extended value iteration with the same arithmetic in the same order as the project's
kernels (the L1 inner maximisation over the states sorted by decreasing value, damping
1/2, re-centring, stop at ``sp(Tu - u) < 1 / sqrt(t_k)``; LOOP-Tab: the span truncation
``min(w, min w + B)`` after each sweep). It sorts by insertion sort, which is the
permutation Numba's ``np.argsort`` returns for fewer than 16 states (both envs have
fewer); it skips what does not change the trajectory (the optimistic transitions, the
optimistic gain, the reward second moments). The env is inlined too: two uniforms per
step, the next state by inverse CDF.

Run:  python benchmarks/bench_tight_amdp.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

try:  # run as a script from benchmarks/ (or with benchmarks/ on the path)
    from _tight import Case, main_for
except ImportError:  # imported as benchmarks.bench_tight_amdp from the repository root
    from benchmarks._tight import Case, main_for

RADIUS_JOA = 0
"""UCRL2's JMLR radii (the kernel's radius code 0)."""
RADIUS_LAPLACE = 2
"""UCRL2-L's Laplace radii (the kernel's radius code 2)."""


@njit(cache=True)
def optimistic_l1_loop(cdf, rbar, start, steps, env_rng, delta, radius_code, span_bound,
                       max_iter):
    """UCRL2 / LOOP-Tab with L1 balls on a tabular AMDP; ``(total_reward, total_expected)``.

    Args:
        cdf: float64[S, A, S] inverse-CDF table of the env.
        rbar: float64[S, A] mean rewards (no reward noise).
        start: Start state.
        steps: Rounds.
        env_rng: The env's noise generator (two uniforms per step).
        delta: Confidence level.
        radius_code: :data:`RADIUS_JOA` or :data:`RADIUS_LAPLACE`.
        span_bound: ``B`` of the span truncation (``inf``: none, UCRL2).
        max_iter: EVI sweep cap.
    """
    S, A = rbar.shape
    counts = np.zeros((S, A))
    counts_k = np.zeros((S, A))
    nu = np.zeros((S, A))
    trans = np.zeros((S, A, S))
    rsum = np.zeros((S, A))
    phat = np.zeros((S, A, S))
    rtil = np.ones((S, A))
    prad = np.full((S, A), 2.0)
    u = np.zeros(S)
    w = np.empty(S)
    buf = np.empty(S)
    tb = np.empty(S)
    order = np.empty(S, np.int64)
    policy = np.zeros(S, np.int64)
    truncate = span_bound < np.inf
    log_2s = 0.0  # ln(2^S - 2) of the Laplace radii
    if S >= 2:
        log_2s = S * math.log(2.0) + math.log(max(1.0 - 2.0 ** (1 - S), 1e-300))
    s = start
    need_plan = True
    total = 0.0
    texp = 0.0
    for t in range(1, steps + 1):
        if not need_plan:
            a = policy[s]
            need_plan = nu[s, a] >= max(1.0, counts_k[s, a])
        if need_plan:
            # ---- episode start: confidence set, then extended value iteration
            tk = float(t)
            for x in range(S):
                for b in range(A):
                    n = counts[x, b]
                    counts_k[x, b] = n
                    nu[x, b] = 0.0
                    for y in range(S):
                        phat[x, b, y] = trans[x, b, y] / n if n > 0 else 0.0
                    if n < 1.0:
                        rr = 1.0
                        pr = 2.0
                    elif radius_code == 2:
                        dp = delta / (2.0 * S * A)
                        lg = 0.5 * math.log(n + 1.0) + log_2s - math.log(dp)
                        pr = math.sqrt(2.0 * (1.0 + 1.0 / n) * lg / n)
                        rr = math.sqrt((1.0 + 1.0 / n) * math.log(2.0 * math.sqrt(n + 1.0) / dp)
                                       / (2.0 * n))
                    else:
                        rr = math.sqrt(7.0 * math.log(2.0 * S * A * tk / delta) / (2.0 * n))
                        pr = math.sqrt(14.0 * S * math.log(2.0 * A * tk / delta) / n)
                    prad[x, b] = min(pr, 2.0)
                    rtil[x, b] = min(1.0, rsum[x, b] / n + rr) if n > 0 else 1.0
            eps = 1.0 / math.sqrt(tk)
            for _ in range(max_iter):
                # states by decreasing u (insertion sort = np.argsort(-u) for S < 16)
                for i in range(S):
                    k = i
                    j = i
                    while j > 0 and u[k] > u[order[j - 1]]:
                        order[j] = order[j - 1]
                        j -= 1
                    order[j] = k
                top = order[0]
                for x in range(S):
                    best = -np.inf
                    for b in range(A):
                        # max p . u over the L1 ball of radius prad around phat
                        for y in range(S):
                            buf[y] = phat[x, b, y]
                        buf[top] = min(1.0, phat[x, b, top] + 0.5 * prad[x, b])
                        tot = 0.0
                        for y in range(S):
                            tot += buf[y]
                        k = S - 1
                        while tot > 1.0 + 1e-15 and k >= 0:
                            j = order[k]
                            if j != top:
                                take = min(buf[j], tot - 1.0)
                                buf[j] -= take
                                tot -= take
                            k -= 1
                        if tot < 1.0:
                            buf[top] += 1.0 - tot
                        v = 0.0
                        for y in range(S):
                            v += buf[y] * u[y]
                        q = rtil[x, b] + v
                        if q > best:
                            best = q
                            policy[x] = b
                    w[x] = best
                if truncate:  # w <- min(w, min w + B), entry by entry as the projection does
                    for z in range(S):
                        m = w[z]
                        for x in range(S):
                            if x != z:
                                m = min(m, w[x] + span_bound)
                        tb[z] = m
                    for z in range(S):
                        w[z] = tb[z]
                dmax = -np.inf
                dmin = np.inf
                for x in range(S):
                    d = w[x] - u[x]
                    dmax = max(dmax, d)
                    dmin = min(dmin, d)
                umin = np.inf
                for x in range(S):
                    u[x] = 0.5 * u[x] + 0.5 * w[x]
                    umin = min(umin, u[x])
                for x in range(S):
                    u[x] -= umin
                if dmax - dmin < eps:
                    break
            need_plan = False
        a = policy[s]
        # ---- env step: next state by inverse CDF, mean reward
        u_next = env_rng.random()
        env_rng.random()  # the reward uniform (unused without reward noise)
        mean = rbar[s, a]
        nxt = S - 1
        for j in range(S):
            if u_next < cdf[s, a, j]:
                nxt = j
                break
        # ---- update
        counts[s, a] += 1.0
        trans[s, a, nxt] += 1.0
        rsum[s, a] += mean
        nu[s, a] += 1.0
        total += mean
        texp += mean
        s = nxt
    return total, texp


def _hand(env, agent, steps):
    """Unpack the env's tables and the agent's hyperparameters, run :func:`optimistic_l1_loop`."""
    p = env.unwrapped.kernel.params
    hp = agent.kernel_.hparams
    S = p.rbar.shape[0]
    assert S < 16 and p.bernoulli == 0 and hp.tau == 0.5 and hp.switch_code == 0
    assert hp.radius_code in (RADIUS_JOA, RADIUS_LAPLACE)
    assert hp.mitigate == 0 and hp.bias_estimation == 0
    return optimistic_l1_loop(p.cdf, p.rbar, int(env.unwrapped.state_.s[0]), steps,
                              env.unwrapped.noise_rng_, hp.delta, int(hp.radius_code),
                              hp.span_bound, int(hp.evi_max_iter))


CASES = [
    Case("UCRL2 on RiverSwim-6", "banditlab/RiverSwim-v0", "UCRL2-v1", 20_000_000, _hand,
         target=0.5),
    Case("LOOP-Tab on SixArms", "banditlab/SixArms-v0", "LOOPTab-v1", 20_000_000, _hand,
         target=None),
]


def main():
    """Measure every case and print the table."""
    return main_for(CASES, __doc__)


if __name__ == "__main__":
    main()
