"""Small shared kernels: tie-breaking argmax, sampling, KL divergences, Tsallis-INF weights."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "argmax_random_tiebreak",
    "categorical_sample",
    "bernoulli_kl",
    "kl_ucb_bernoulli",
    "tsallis_inf_weights",
]


@njit(cache=True)
def argmax_random_tiebreak(values, rng):
    """Index of the maximum of ``values`` (float64[K]), ties broken uniformly with ``rng``.

    Consumes exactly one uniform draw from ``rng`` whatever the values, so the
    number of draws per call is fixed.
    """
    best = -np.inf
    n_best = 0
    for i in range(values.shape[0]):
        v = values[i]
        if v > best:
            best = v
            n_best = 1
        elif v == best:
            n_best += 1
    u = rng.random()
    pick = int(u * n_best)
    if pick >= n_best:
        pick = n_best - 1
    seen = 0
    for i in range(values.shape[0]):
        if values[i] == best:
            if seen == pick:
                return np.int64(i)
            seen += 1
    return np.int64(0)  # all NaN: unreachable for valid inputs


@njit(cache=True)
def categorical_sample(probs, rng):
    """Sample an index from ``probs`` (float64[K], summing to 1) with one uniform draw."""
    u = rng.random()
    acc = 0.0
    k = probs.shape[0]
    for i in range(k):
        acc += probs[i]
        if u < acc:
            return np.int64(i)
    # Rounding: return the last index with positive mass.
    for i in range(k - 1, -1, -1):
        if probs[i] > 0.0:
            return np.int64(i)
    return np.int64(k - 1)


@njit(cache=True)
def bernoulli_kl(p, q):
    """KL(Ber(p) || Ber(q)), with p, q clipped to [1e-15, 1 - 1e-15]."""
    eps = 1e-15
    p = min(max(p, eps), 1.0 - eps)
    q = min(max(q, eps), 1.0 - eps)
    return p * np.log(p / q) + (1.0 - p) * np.log((1.0 - p) / (1.0 - q))


@njit(cache=True)
def kl_ucb_bernoulli(mean, level, precision=1e-6, max_iter=50):
    """Largest q in [mean, 1] with KL(mean || q) <= level, by bisection.

    Args:
        mean: Empirical mean in [0, 1].
        level: Exploration level, e.g. ``(log t + c log log t) / n``.
        precision: Bisection tolerance.
        max_iter: Iteration cap.
    """
    lo = mean
    hi = 1.0
    if level <= 0.0:
        return mean
    for _ in range(max_iter):
        if hi - lo <= precision:
            break
        mid = 0.5 * (lo + hi)
        if bernoulli_kl(mean, mid) > level:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@njit(cache=True)
def tsallis_inf_weights(cum_loss_est, eta, x_init, tol=1e-12, max_iter=100):
    """1/2-Tsallis-INF weights by Newton's method on the normaliser.

    Solves for ``x`` such that ``sum_i 4 / (eta * (L_i - x))**2 = 1`` with ``x < min L``,
    and returns ``w_i = 4 / (eta * (L_i - x))**2`` (Zimmert & Seldin 2021, Alg. 2).

    Args:
        cum_loss_est: float64[K] cumulative importance-weighted loss estimates.
        eta: Learning rate (> 0).
        x_init: Warm start for the normaliser (the previous round's ``x``); used
            only when finite and below ``min L - 2 / eta``, otherwise Newton starts
            at ``min L - 2 / eta`` (pass NaN for "no warm start").
        tol: Stop when the weights sum to 1 within ``tol``.
        max_iter: Newton iteration cap.

    Returns:
        ``(w, x)``: float64[K] probabilities (renormalised) and the normaliser.
    """
    k = cum_loss_est.shape[0]
    lmin = np.min(cum_loss_est)
    # The root lies in [lmin - 2 sqrt(K)/eta, lmin - 2/eta]. Start at the warm start
    # when it is finite and left of the right end, else at the right end (where the sum
    # is >= 1, so Newton then decreases x monotonically to the root). A non-finite warm
    # start (NaN or -inf, e.g. "no previous round") used to make the first Newton step
    # NaN; it now falls back to the right end.
    right = lmin - 2.0 / eta
    if np.isfinite(x_init) and x_init < right:
        x = x_init
    else:
        x = right
    w = np.empty(k)
    for _ in range(max_iter):
        s = 0.0
        ds = 0.0
        for i in range(k):
            d = eta * (cum_loss_est[i] - x)
            wi = 4.0 / (d * d)
            w[i] = wi
            s += wi
            ds += eta * wi ** 1.5
        if abs(s - 1.0) < tol:
            break
        # Newton on f(x) = sum w_i(x) - 1, f'(x) = sum eta * w_i^{3/2}; f is convex increasing.
        if not (ds > 0.0 and np.isfinite(ds)):  # underflow far left of the root: restart
            x = right
            continue
        x = x - (s - 1.0) / ds
        if x >= right:  # safeguard: stay left of the pole region
            x = right
    total = 0.0
    for i in range(k):
        d = eta * (cum_loss_est[i] - x)
        w[i] = 4.0 / (d * d)
        total += w[i]
    for i in range(k):
        w[i] /= total
    return w, x
