"""Tight-loop benchmark of the SEA family: fused kernel loop vs a hand-written Numba loop.

For two (env, agent) pairs of the SEA family, times the harness's fused path
(``run(..., backend="kernel")``: the loop generated for the pair, which calls the env's and
agent's kernels on their NamedTuple states) against one hand-written ``@njit`` loop of the
same pair (local arrays, the env and the algorithm inlined, no project kernels, no
NamedTuples), started from the env and agent exactly as the harness resets them. Both
follow the same trajectory: the cumulative reward and expected reward at the end must be
identical before a ratio is reported (see ``benchmarks/_tight.py``). The ratio fused /
hand-written says what the kernel decomposition costs.

The hand-written loops compute what a run of the pair reports each round: the realised
loss (reward), the expected loss (expected reward) and the expected loss of the dynamic
comparator ``u_t = argmin_X F_t`` (the optimal expected reward of the regret curves),
solved when ``theta_t`` changes (the env kernel caches it the same way); they skip the
SEA statistics the env kernel also keeps for its checkpoints (sigma^2, Sigma^2, observed
variation, path length, the static comparators' running sums).

Cases:

* optimistic OMD (``OOMD-v0``) on ``SEAQuadratic-v0`` (d = 10, ball noise, fixed schedule;
  2e6 rounds; target 0.5);
* OGD (``OGD-v0``, step ``D / (G sqrt t)``) on ``SEALeastSquares-v0`` (d = 10; 3e6 rounds;
  no target; the env kernel also accumulates ``sum a a'`` for the static comparator, d^2
  operations a round the hand-written loop does not need).

Run:  python benchmarks/bench_tight_sea.py [--repeats 5] [--scale 1.0]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.kernels.projections import project_ball_inplace, trs_diag_into

try:  # run as a script from benchmarks/ (or with benchmarks/ on the path)
    from _tight import Case, main_for
except ImportError:  # imported as benchmarks.bench_tight_sea from the repository root
    from benchmarks._tight import Case, main_for

__all__ = ["CASES", "main", "oomd_quadratic_loop", "ogd_least_squares_loop"]


@njit(cache=True)
def oomd_quadratic_loop(theta, h, radius, noise, ball, diameter, smoothness, delta, cap,
                        steps, env_rng):
    """Optimistic OMD on a fixed-schedule SEAQuadratic; ``(total_reward, total_expected)``.

    ``theta`` is the fixed ``theta`` of the schedule; ``ball`` selects ball noise (else
    Gaussian). Returns the sums of ``-f_t(x_t)`` and ``-F_t(x_t)``; the dynamic
    comparator's value ``-F_t(u_t)`` is accumulated too (third value).
    """
    d = theta.shape[0]
    xhat = np.zeros(d)
    hint = np.zeros(d)
    x = np.empty(d)
    z = np.empty(d)
    u = np.empty(d)
    trs_diag_into(h, h * theta, radius, u)  # theta is fixed: one solve, as the env does
    sum_h = 0.0
    for i in range(d):
        sum_h += h[i]
    base = 0.5 * noise * noise * sum_h
    s_fu = 0.0
    for i in range(d):
        e = u[i] - theta[i]
        s_fu += h[i] * (e * e)
    fu = 0.5 * s_fu + base
    ball_scale = noise * np.sqrt(d + 2.0)
    inv_d = 1.0 / d
    cap_eta = 1.0 / (4.0 * smoothness)
    acc = 0.0
    total = 0.0
    total_expected = 0.0
    total_optimal = 0.0
    for _t in range(1, steps + 1):
        eta = diameter / np.sqrt(delta + acc)
        if cap:
            eta = min(eta, cap_eta)
        for i in range(d):
            x[i] = xhat[i] - eta * hint[i]
        project_ball_inplace(x, radius)  # the learner's projection
        project_ball_inplace(x, radius)  # the env's (a no-op unless rounding left x just outside)
        ss = 0.0
        for i in range(d):
            z[i] = env_rng.standard_normal()
            ss += z[i] * z[i]
        if ball:
            f = ball_scale * env_rng.random() ** inv_d / max(np.sqrt(ss), 1e-300)
        else:
            f = noise
        s_loss = 0.0
        s_fx = 0.0
        dev = 0.0
        for i in range(d):
            zi = theta[i] + z[i] * f
            e = x[i] - zi
            ex = x[i] - theta[i]
            s_loss += h[i] * (e * e)
            s_fx += h[i] * (ex * ex)
            g = h[i] * e
            xhat[i] -= eta * g  # the learner's update with g_t = grad f_t(x_t)
            diff = g - hint[i]
            dev += diff * diff
            hint[i] = g
        project_ball_inplace(xhat, radius)
        acc += dev
        total -= 0.5 * s_loss
        total_expected -= 0.5 * s_fx + base
        total_optimal -= fu
    return total, total_expected, total_optimal


@njit(cache=True)
def ogd_least_squares_loop(theta, radius, noise, ball, diameter, grad_bound, steps, env_rng):
    """OGD (``D / (G sqrt t)``) on a fixed-schedule SEALeastSquares (see the OOMD loop)."""
    d = theta.shape[0]
    x = np.zeros(d)  # the learner's point
    xp = np.empty(d)  # the point played: the env's projection of a copy of x
    a = np.empty(d)
    u = theta.copy()
    project_ball_inplace(u, radius)  # theta is fixed: the comparator is its projection
    half_var = 0.5 * noise * noise
    s_fu = 0.0
    for i in range(d):
        e = u[i] - theta[i]
        s_fu += e * e
    fu = 0.5 * s_fu + half_var
    eps_scale = noise * np.sqrt(3.0)
    t_f = 0.0
    total = 0.0
    total_expected = 0.0
    total_optimal = 0.0
    for _t in range(1, steps + 1):
        for i in range(d):
            xp[i] = x[i]
        project_ball_inplace(xp, radius)  # the env's (a no-op unless rounding left x outside)
        for i in range(d):
            a[i] = 1.0 if env_rng.random() < 0.5 else -1.0
        if ball:
            eps = eps_scale * (2.0 * env_rng.random() - 1.0)
        else:
            eps = noise * env_rng.standard_normal()
        s_ath = 0.0
        s_ax = 0.0
        s_fx = 0.0
        for i in range(d):
            s_ath += a[i] * theta[i]
            s_ax += a[i] * xp[i]
            e = xp[i] - theta[i]
            s_fx += e * e
        r = s_ax - (s_ath + eps)
        t_f += 1.0
        eta = diameter / (grad_bound * np.sqrt(t_f))
        for i in range(d):
            x[i] -= eta * (r * a[i])
        project_ball_inplace(x, radius)
        total -= 0.5 * r * r
        total_expected -= 0.5 * s_fx + half_var
        total_optimal -= fu
    return total, total_expected, total_optimal


def _hand_oomd_quadratic(env, agent, steps):
    p = env.kernel.params
    hp = agent.make_kernel().hparams
    out = oomd_quadratic_loop(
        env.state_.theta.copy(), p.h, p.radius, p.noise, bool(p.noise_kind == 1),
        hp.diameter, hp.smoothness, hp.delta, bool(hp.cap), steps, env.noise_rng_)
    return out[0], out[1]


def _hand_ogd_least_squares(env, agent, steps):
    p = env.kernel.params
    hp = agent.make_kernel().hparams
    out = ogd_least_squares_loop(
        env.state_.theta.copy(), p.radius, p.noise, bool(p.noise_kind == 1), hp.diameter,
        hp.grad_bound, steps, env.noise_rng_)
    return out[0], out[1]


CASES = [
    Case("OOMD on SEAQuadratic (d = 10)", "banditlab/SEAQuadratic-v0", "OOMD-v0", 2_000_000,
         _hand_oomd_quadratic, env_kwargs={"d": 10}, target=0.5),
    Case("OGD on SEALeastSquares (d = 10)", "banditlab/SEALeastSquares-v0", "OGD-v0",
         3_000_000, _hand_ogd_least_squares, env_kwargs={"d": 10}, target=None),
]


def main(argv=None):
    """Measure every case and print the table."""
    return main_for(CASES, __doc__, argv)


if __name__ == "__main__":
    main()
