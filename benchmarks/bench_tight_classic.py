"""Tight-loop benchmark of the classic family: fused kernel loop vs a hand-written Numba loop.

For four (env, agent) pairs of the classic family, times the harness's fused path
(``run(..., backend="kernel")``: the loop generated for the pair, which calls the env's and
agent's kernels on their NamedTuple states) against one hand-written ``@njit`` loop of the
same pair (local arrays, the algorithm inlined, no project kernels, no NamedTuples; the
argmax is tracked while the values are computed and its random tie-break makes the same
single uniform draw as ``argmax_random_tiebreak``), started from the env and agent exactly
as the harness resets them. Both follow the same trajectory: the cumulative reward and
expected reward at the end must be identical before a ratio is reported (see
``benchmarks/_tight.py``). The ratio fused / hand-written says what the kernel
decomposition costs; the targets are 0.9 for UCB1 and 0.5 for the others.

Cases:

* UCB1 on ``Bernoulli10-v0`` (1e6 rounds);
* KL-UCB on ``Bernoulli10-v0`` (1e5 rounds: a bisection of ~20 halvings per arm and round);
* Beta-Bernoulli Thompson sampling on ``Bernoulli10-v0`` (1e6 rounds: ten beta draws a round);
* LinUCB on ``LinearContextual-v0`` (K = 10, d = 5; 6e5 rounds).

A timed run takes about 0.1 s (UCB1) to 0.7 s (the others) on an idle core.

Run:  python benchmarks/bench_tight_classic.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import numpy as np
from numba import njit

try:  # run as a script from benchmarks/ (or with benchmarks/ on the path)
    from _tight import Case, main_for
except ImportError:  # imported as benchmarks.bench_tight_classic from the repository root
    from benchmarks._tight import Case, main_for



@njit(cache=True)
def _tied_pick(values, best, n_best, u):
    """The maximiser ``argmax_random_tiebreak`` picks with the uniform ``u`` among ``n_best``.

    The loops track the maximum, its multiplicity and its first index while they compute
    the values, so the usual case (one maximiser) needs neither a second pass nor this call.
    """
    pick = int(u * n_best)
    if pick >= n_best:
        pick = n_best - 1
    seen = 0
    for i in range(values.shape[0]):
        if values[i] == best:
            if seen == pick:
                return i
            seen += 1
    return 0


@njit(cache=True)
def ucb1_bernoulli_loop(means, alpha, steps, env_rng, agent_rng):
    """UCB1 on a Bernoulli bandit; returns ``(total_reward, total_expected_reward)``."""
    k = means.shape[0]
    counts = np.zeros(k)
    sums = np.zeros(k)
    index = np.empty(k)
    total = 0.0
    total_expected = 0.0
    for t in range(1, steps + 1):
        logt = np.log(t)
        best = -np.inf
        n_best = 0
        arm = 0
        for a in range(k):
            n = counts[a]
            v = np.inf if n == 0.0 else sums[a] / n + np.sqrt(alpha * logt / n)
            index[a] = v
            if v > best:
                best = v
                n_best = 1
                arm = a
            elif v == best:
                n_best += 1
        u_tie = agent_rng.random()  # the tie-break draw, made whatever the values
        if n_best != 1:
            arm = _tied_pick(index, best, n_best, u_tie)
        mu = means[arm]
        r = 1.0 if env_rng.random() < mu else 0.0
        counts[arm] += 1.0
        sums[arm] += r
        total += r
        total_expected += mu
    return total, total_expected


@njit(cache=True)
def klucb_bernoulli_loop(means, precision, steps, env_rng, agent_rng):
    """KL-UCB (``c = 0``, bisection capped at 60 halvings) on a Bernoulli bandit."""
    k = means.shape[0]
    counts = np.zeros(k)
    sums = np.zeros(k)
    index = np.empty(k)
    eps = 1e-15
    total = 0.0
    total_expected = 0.0
    for t in range(1, steps + 1):
        logt = np.log(t)
        for a in range(k):
            n = counts[a]
            if n == 0.0:
                index[a] = np.inf
                continue
            mean = sums[a] / n
            level = logt / n
            if level <= 0.0:
                index[a] = mean
                continue
            p = min(max(mean, eps), 1.0 - eps)
            lo = mean
            hi = 1.0
            for _ in range(60):
                if hi - lo <= precision:
                    break
                mid = 0.5 * (lo + hi)
                q = min(max(mid, eps), 1.0 - eps)
                kl = p * np.log(p / q) + (1.0 - p) * np.log((1.0 - p) / (1.0 - q))
                if kl > level:
                    hi = mid
                else:
                    lo = mid
            index[a] = 0.5 * (lo + hi)
        best = -np.inf
        n_best = 0
        arm = 0
        for a in range(k):
            v = index[a]
            if v > best:
                best = v
                n_best = 1
                arm = a
            elif v == best:
                n_best += 1
        u_tie = agent_rng.random()  # the tie-break draw, made whatever the values
        if n_best != 1:
            arm = _tied_pick(index, best, n_best, u_tie)
        mu = means[arm]
        r = 1.0 if env_rng.random() < mu else 0.0
        counts[arm] += 1.0
        sums[arm] += r
        total += r
        total_expected += mu
    return total, total_expected


@njit(cache=True)
def thompson_bernoulli_loop(means, alpha0, beta0, steps, env_rng, agent_rng):
    """Beta-Bernoulli Thompson sampling on a Bernoulli bandit."""
    k = means.shape[0]
    a_post = np.full(k, alpha0)
    b_post = np.full(k, beta0)
    sample = np.empty(k)
    total = 0.0
    total_expected = 0.0
    for _ in range(steps):
        best = -np.inf
        n_best = 0
        arm = 0
        for i in range(k):
            v = agent_rng.beta(a_post[i], b_post[i])
            sample[i] = v
            if v > best:
                best = v
                n_best = 1
                arm = i
            elif v == best:
                n_best += 1
        u_tie = agent_rng.random()  # the tie-break draw, made whatever the values
        if n_best != 1:
            arm = _tied_pick(sample, best, n_best, u_tie)
        mu = means[arm]
        r = 1.0 if env_rng.random() < mu else 0.0
        a_post[arm] += r
        b_post[arm] += 1.0 - r
        total += r
        total_expected += mu
    return total, total_expected


@njit(cache=True)
def linucb_contextual_loop(x0, theta, sigma, bound, alpha, lam, steps, env_rng, agent_rng):
    """Shared-parameter LinUCB (Sherman-Morrison) on the linear contextual bandit.

    ``x0`` (float64[K, d]) are the first round's features and ``theta`` the run's
    parameter, both drawn by the env's reset; every round then draws one normal (the
    reward noise) and the next ``K d`` uniform features from the env's noise stream.
    """
    k, d = x0.shape
    x = x0.copy()
    a_inv = np.zeros((d, d))
    for i in range(d):
        a_inv[i, i] = 1.0 / lam
    b = np.zeros(d)
    th = np.empty(d)
    u = np.empty(d)
    index = np.empty(k)
    total = 0.0
    total_expected = 0.0
    for _ in range(steps):
        # LinUCB index of every arm, then argmax with a random tie-break.
        best = -np.inf
        n_best = 0
        arm = 0
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += a_inv[i, j] * b[j]
            th[i] = s
        for a in range(k):
            mean = 0.0
            for i in range(d):
                mean += x[a, i] * th[i]
                s = 0.0
                for j in range(d):
                    s += a_inv[i, j] * x[a, j]
                u[i] = s
            var = 0.0
            for i in range(d):
                var += x[a, i] * u[i]
            v = mean + alpha * np.sqrt(max(var, 0.0))
            index[a] = v
            if v > best:
                best = v
                n_best = 1
                arm = a
            elif v == best:
                n_best += 1
        u_tie = agent_rng.random()  # the tie-break draw, made whatever the values
        if n_best != 1:
            arm = _tied_pick(index, best, n_best, u_tie)
        # Env: expected reward of the chosen arm (the loop returns no regret, so the best
        # arm's is not needed), one normal.
        chosen = 0.0
        for j in range(d):
            chosen += x[arm, j] * theta[j]
        r = chosen + sigma * env_rng.standard_normal()
        total += r
        total_expected += chosen
        # Agent: Sherman-Morrison update with x[arm], b += r x[arm].
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += a_inv[i, j] * x[arm, j]
            u[i] = s
        denom = 1.0
        for i in range(d):
            denom += x[arm, i] * u[i]
        for i in range(d):
            for j in range(d):
                a_inv[i, j] -= u[i] * u[j] / denom
        for i in range(d):
            for j in range(i + 1, d):
                m = 0.5 * (a_inv[i, j] + a_inv[j, i])
                a_inv[i, j] = m
                a_inv[j, i] = m
        for i in range(d):
            b[i] += r * x[arm, i]
        # Env: next round's features.
        for a in range(k):
            for j in range(d):
                x[a, j] = bound * (2.0 * env_rng.random() - 1.0)
    return total, total_expected


def _means(env) -> np.ndarray:
    return np.asarray(env.unwrapped.means, dtype=np.float64)


def hand_ucb1(env, agent, steps):
    """UCB1 on a Bernoulli bandit, hand-written."""
    return ucb1_bernoulli_loop(_means(env), float(agent.alpha), steps,
                               env.unwrapped.noise_rng_, agent.rng_)


def hand_klucb(env, agent, steps):
    """KL-UCB on a Bernoulli bandit, hand-written (``c = 0`` only)."""
    assert agent.c == 0.0, "the hand-written loop implements c = 0"
    return klucb_bernoulli_loop(_means(env), float(agent.precision), steps,
                                env.unwrapped.noise_rng_, agent.rng_)


def hand_thompson(env, agent, steps):
    """Beta-Bernoulli Thompson sampling on a Bernoulli bandit, hand-written."""
    return thompson_bernoulli_loop(_means(env), float(agent.alpha0), float(agent.beta0), steps,
                                   env.unwrapped.noise_rng_, agent.rng_)


def hand_linucb(env, agent, steps):
    """LinUCB on the linear contextual bandit, hand-written."""
    e = env.unwrapped
    st = e.state_
    x0 = np.array(st.obs[st.pos[0]])
    return linucb_contextual_loop(x0, np.array(st.theta), float(e.sigma), float(e.feature_bound),
                                  float(agent.alpha), float(agent.lam), steps, e.noise_rng_,
                                  agent.rng_)


CASES = [
    Case("UCB1 on Bernoulli10", "banditlab/Bernoulli10-v0", "UCB1-v0", 1_000_000, hand_ucb1,
         target=0.9),
    Case("KL-UCB on Bernoulli10", "banditlab/Bernoulli10-v0", "KLUCB-v0", 100_000, hand_klucb,
         target=0.5),
    Case("Thompson (Beta) on Bernoulli10", "banditlab/Bernoulli10-v0", "ThompsonBeta-v0",
         1_000_000, hand_thompson, target=0.5),
    Case("LinUCB on LinearContextual (K=10, d=5)", "banditlab/LinearContextual-v0", "LinUCB-v0",
         600_000, hand_linucb, target=0.5),
]


def main():
    """Measure every case and print the table."""
    return main_for(CASES, __doc__)


if __name__ == "__main__":
    main()
