"""Tight-loop benchmark of the advmdp family: fused episodic loop vs a hand-written Numba loop.

For two (env, agent) pairs on ``AdvLinearQMDP-v0`` with ``H = 3, N = 4, A = 3, d = 4``,
times the harness's fused episodic path (``run(..., backend="kernel")``: the episode loop
of ``banditlab._fused`` calling the env's and agent's kernels, with the exact policy value
of the agent's policy recorded as each episode's expected reward) against one hand-written
``@njit`` episode loop of the same pair (local arrays, the algorithm inlined, no project
kernels, no NamedTuples), started from the env and agent exactly as the harness resets
them. Both follow the same trajectory: the cumulative reward and expected reward at the
end must be identical before a ratio is reported (see ``benchmarks/_tight.py``). ``steps``
counts *episodes* (``n_episodes`` of the env; ``H = 3`` steps each). No ratio target.

Cases:

* uniform play (``AdvMDPUniform-v0``; 1e6 episodes). The hand-written loop computes the
  uniform policy's exact value under ``g^A`` and ``g^B`` once (the policy never changes),
  the fused loop the value of the agent's policy table every episode;
* Log-Barrier PO (``LogBarrierPO-v1``) with the exact simulator (``simulator_mode="exact"``,
  ``cov_estimator="exact"``, ``bonus="exact_dp"``: no simulator draws, so the hand loop
  needs only the agent's and the env's noise streams; 2e4 episodes). Per episode: the
  log-barrier policy (safeguarded Newton per state), the exact occupancy, the per-layer
  covariance and its regularised inverse (Cholesky), the immediate and dilated bonuses,
  the exact policy value, ``H`` steps and the loss estimate. The hand loop computes the
  occupancy once for the covariance and the policy value (the fused loop twice: once in
  the agent's kernel, once in the env's).

Run:  python benchmarks/bench_tight_advmdp.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.np.random.random_methods import buffered_bounded_lemire_uint32

try:  # run as a script from benchmarks/ (or with benchmarks/ on the path)
    from _tight import Case, main_for
except ImportError:  # imported as benchmarks.bench_tight_advmdp from the repository root
    from benchmarks._tight import Case, main_for

SIZES = {"H": 3, "N": 4, "A": 3, "d": 4}


@njit(cache=True)
def _small_sum(a, n):
    """NumPy's summation order of a contiguous ``a[:n]`` for ``n <= 128`` (eight lanes)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
    r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
    m = n - n % 8
    for i in range(8, m, 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(m, n):
        res += a[i]
    return res


@njit(cache=True)
def _occupancy(q, dist, nxt, P, pi):
    """Forward pass: ``q[h, s, a] = Pr(s_h = s, a_h = a)`` from the start state."""
    H, N, A = q.shape
    q[:] = 0.0
    dist[:] = 0.0
    dist[0] = 1.0
    for h in range(H):
        nxt[:] = 0.0
        for s in range(N):
            ds = dist[s]
            if ds == 0.0:
                continue
            for a in range(A):
                m = ds * pi[h, s, a]
                q[h, s, a] = m
                if h + 1 < H and m != 0.0:
                    for s2 in range(N):
                        nxt[s2] += m * P[h, s, a, s2]
        for s in range(N):
            dist[s] = nxt[s]


@njit(cache=True)
def _value(q, loss, prod):
    """``-sum(q * loss)`` in NumPy's summation order (``H N A <= 128``)."""
    H, N, A = q.shape
    i = 0
    for h in range(H):
        for s in range(N):
            for a in range(A):
                prod[i] = q[h, s, a] * loss[h, s, a]
                i += 1
    return -(0.0 + _small_sum(prod, i))


# --------------------------------------------------------------------------- uniform play
@njit(cache=True)
def uniform_loop(step_loss, oracle_loss, P, cumP, is_a, n_episodes, env_rng, agent_rng):
    """Uniform play; returns ``(total_reward, total_expected_reward)``."""
    H, N, A = step_loss.shape[1], step_loss.shape[2], step_loss.shape[3]
    pi = np.full((H, N, A), 1.0 / A)
    q = np.empty((H, N, A))
    dist = np.empty(N)
    nxt = np.empty(N)
    prod = np.empty(H * N * A)
    _occupancy(q, dist, nxt, P, pi)
    values = np.empty(2)
    for w in range(2):
        values[w] = _value(q, oracle_loss[w], prod)
    K = is_a.shape[0]
    total = 0.0
    texp = 0.0
    for k in range(n_episodes):
        w = 0 if is_a[k % K] else 1
        e_reward = 0.0
        s = 0
        for h in range(H):
            a = 0
            if A > 1:
                a = np.int64(buffered_bounded_lemire_uint32(agent_rng.bit_generator,
                                                            np.uint32(A - 1)))
            u = env_rng.random()
            e_reward += -step_loss[w, h, s, a]
            if h + 1 < H:
                s2 = 0
                while s2 < N - 1 and u >= cumP[h, s, a, s2]:
                    s2 += 1
                s = s2
        total += e_reward
        texp += values[w]
    return total, texp


def hand_uniform(env, agent, steps):
    """Unpack the env's instance arrays and schedule, run :func:`uniform_loop`."""
    p = env.unwrapped.kernel.params
    assert p.step_loss[0].size <= 128
    return uniform_loop(p.step_loss, p.oracle_loss, p.P, p.cumP, env.unwrapped.state_.is_a,
                        steps, env.unwrapped.noise_rng_, agent.rng_)


# --------------------------------------------------------------------------- Log-Barrier PO
@njit(cache=True)
def logbarrier_exact_loop(phi, P, cumP, step_loss, oracle_loss, is_a, eta, gamma, beta,
                          n_episodes, env_rng, agent_rng):
    """Log-Barrier PO with exact covariance and exact dilated bonus; returns the totals."""
    H, N, A, d = phi.shape
    C = np.zeros((H, N, A))
    pi = np.empty((H, N, A))
    q = np.empty((H, N, A))
    nrm = np.empty((H, N, A))
    b = np.empty((H, N, A))
    B = np.empty((H, N, A))
    x = np.empty(A)
    dist = np.empty(N)
    nxt = np.empty(N)
    vnext = np.empty(N)
    prod = np.empty(H * N * A)
    sig = np.empty((d, d))
    m = np.empty((d, d))
    L = np.zeros((d, d))
    Li = np.zeros((d, d))
    sig_inv = np.empty((H, d, d))
    theta = np.empty(d)
    traj_s = np.empty(H, np.int64)
    traj_a = np.empty(H, np.int64)
    traj_l = np.empty(H)
    dil = 1.0 + 1.0 / H
    K = is_a.shape[0]
    total = 0.0
    texp = 0.0
    for k in range(n_episodes):
        # log-barrier FTRL policy: p_a = 1 / (x_a + mu), safeguarded Newton on mu
        for h in range(H):
            for s in range(N):
                cmin = np.inf
                for a in range(A):
                    if C[h, s, a] < cmin:
                        cmin = C[h, s, a]
                for a in range(A):
                    x[a] = eta * (C[h, s, a] - cmin)
                lo = 1.0
                hi = float(A)
                mu = lo
                for _ in range(100):
                    f = -1.0
                    df = 0.0
                    for a in range(A):
                        inv = 1.0 / (x[a] + mu)
                        f += inv
                        df -= inv * inv
                    if f > 0:
                        lo = mu
                    else:
                        hi = mu
                    if f == 0.0 or hi - lo <= 1e-15 * hi:
                        break
                    step = mu - f / df
                    if not (lo < step < hi):
                        step = 0.5 * (lo + hi)
                    if step == mu:
                        break
                    mu = step
                tot = 0.0
                for a in range(A):
                    pi[h, s, a] = 1.0 / (x[a] + mu)
                    tot += pi[h, s, a]
                for a in range(A):
                    pi[h, s, a] /= tot
        for s in range(1, N):
            for a in range(A):
                pi[0, s, a] = 1.0 / A
        # exact occupancy, covariance per layer, (gamma I + Sigma_h)^{-1} by Cholesky
        _occupancy(q, dist, nxt, P, pi)
        for h in range(H):
            sig[:] = 0.0
            for s in range(N):
                for a in range(A):
                    w = q[h, s, a]
                    if w == 0.0:
                        continue
                    for i in range(d):
                        fi = w * phi[h, s, a, i]
                        if fi == 0.0:
                            continue
                        for j in range(d):
                            sig[i, j] += fi * phi[h, s, a, j]
            for i in range(d):
                for j in range(d):
                    m[i, j] = 0.5 * (sig[i, j] + sig[j, i]) + gamma * (1.0 if i == j else 0.0)
            for j in range(d):
                acc = m[j, j]
                for kk in range(j):
                    acc -= L[j, kk] * L[j, kk]
                L[j, j] = np.sqrt(acc)
                for i in range(j + 1, d):
                    acc = m[i, j]
                    for kk in range(j):
                        acc -= L[i, kk] * L[j, kk]
                    L[i, j] = acc / L[j, j]
            for j in range(d):
                Li[j, j] = 1.0 / L[j, j]
                for i in range(j + 1, d):
                    acc = 0.0
                    for kk in range(j, i):
                        acc -= L[i, kk] * Li[kk, j]
                    Li[i, j] = acc / L[i, i]
            for i in range(d):
                for j in range(i, d):
                    acc = 0.0
                    for kk in range(j, d):
                        acc += Li[kk, i] * Li[kk, j]
                    sig_inv[h, i, j] = acc
                    sig_inv[h, j, i] = acc
        # immediate bonus and its exact dilation
        if beta > 0:
            for h in range(H):
                for s in range(N):
                    for a in range(A):
                        acc = 0.0
                        for i in range(d):
                            fi = phi[h, s, a, i]
                            if fi == 0.0:
                                continue
                            for j in range(d):
                                acc += fi * sig_inv[h, i, j] * phi[h, s, a, j]
                        nrm[h, s, a] = acc
            for h in range(H):
                for s in range(N):
                    mean = 0.0
                    for a in range(A):
                        mean += pi[h, s, a] * nrm[h, s, a]
                    for a in range(A):
                        b[h, s, a] = beta * (nrm[h, s, a] + mean)
            for h in range(H - 1, -1, -1):
                for s in range(N):
                    for a in range(A):
                        cont = 0.0
                        if h + 1 < H:
                            for s2 in range(N):
                                cont += P[h, s, a, s2] * vnext[s2]
                        B[h, s, a] = b[h, s, a] + dil * cont
                for s in range(N):
                    v = 0.0
                    for a in range(A):
                        v += pi[h, s, a] * B[h, s, a]
                    vnext[s] = v
        else:
            B[:] = 0.0
        # the exact value of the episode's policy (the same occupancy)
        w = 0 if is_a[k % K] else 1
        texp += _value(q, oracle_loss[w], prod)
        # play the episode
        e_reward = 0.0
        s = 0
        for h in range(H):
            u = agent_rng.random()
            a = A - 1
            acc = 0.0
            for a2 in range(A):
                acc += pi[h, s, a2]
                if u < acc:
                    a = a2
                    break
            loss = step_loss[w, h, s, a]
            e_reward += -loss
            traj_s[h] = s
            traj_a[h] = a
            traj_l[h] = loss
            u = env_rng.random()
            if h + 1 < H:
                s2 = 0
                while s2 < N - 1 and u >= cumP[h, s, a, s2]:
                    s2 += 1
                s = s2
        total += e_reward
        # loss estimate: C += <phi, Sigma^dagger phi_h(s_h, a_h) L_h> - B
        Lh = 0.0
        for h in range(H - 1, -1, -1):
            Lh += traj_l[h]
            s = traj_s[h]
            a = traj_a[h]
            for i in range(d):
                acc = 0.0
                for j in range(d):
                    acc += sig_inv[h, i, j] * phi[h, s, a, j]
                theta[i] = acc * Lh
            for s2 in range(N):
                for a2 in range(A):
                    qv = 0.0
                    for i in range(d):
                        qv += phi[h, s2, a2, i] * theta[i]
                    C[h, s2, a2] += qv - B[h, s2, a2]
    return total, texp


def hand_logbarrier(env, agent, steps):
    """Unpack the instance, schedule and the agent's rates, run :func:`logbarrier_exact_loop`."""
    p = env.unwrapped.kernel.params
    hp = agent.kernel_.hparams
    # the configuration this loop inlines: Newton solver, exact covariance, exact bonus
    assert (hp.policy_kind, hp.cov_kind, hp.bonus_kind, hp.clip) == (1, 0, 1, False)
    assert p.step_loss[0].size <= 128 and math.isinf(hp.lower)
    return logbarrier_exact_loop(agent.phi_, p.P, p.cumP, p.step_loss, p.oracle_loss,
                                 env.unwrapped.state_.is_a, agent.eta_, agent.gamma_,
                                 agent.beta_, steps, env.unwrapped.noise_rng_, agent.rng_)


CASES = [
    Case("Uniform on AdvLinearQMDP (H3 N4 A3 d4)", "banditlab/AdvLinearQMDP-v0",
         "AdvMDPUniform-v0", 1_000_000, hand_uniform, env_kwargs=dict(SIZES), target=None),
    Case("LogBarrierPO exact on AdvLinearQMDP", "banditlab/AdvLinearQMDP-v0",
         "LogBarrierPO-v1", 20_000, hand_logbarrier,
         env_kwargs={**SIZES, "simulator_mode": "exact"},
         agent_kwargs={"cov_estimator": "exact", "bonus": "exact_dp"}, target=None),
]


def main():
    """Measure every case and print the table."""
    return main_for(CASES, __doc__)


if __name__ == "__main__":
    main()
