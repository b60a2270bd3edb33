"""Small shared kernels: tie-breaking argmax, sampling, KL divergences, Tsallis-INF weights.

None of them allocates except :func:`tsallis_inf_weights` (which returns a new array; the
per-step form is :func:`tsallis_inf_weights_into`), so agent and env kernels can call them
in their ``select`` / ``step`` without touching the heap.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random.generator_core import next_uint32
from numba.np.random.random_methods import (
    bounded_lemire_uint64,
    buffered_bounded_lemire_uint32,
)

__all__ = [
    "argmax_random_tiebreak",
    "running_max",
    "tied_maximiser",
    "categorical_sample",
    "random_integer",
    "bernoulli_kl",
    "kl_ucb_bernoulli",
    "tsallis_inf_weights",
    "tsallis_inf_weights_into",
]


@njit(cache=True)
def random_integer(rng, low, high):
    """``rng.integers(low, high)`` (int64 in ``[low, high)``) without allocating.

    Numba's ``Generator.integers(low, high)`` builds a one-element array per call (one heap
    allocation); this draws the same value from the same stream (the bounded Lemire draws
    NumPy and Numba use for int64), leaving ``rng`` in the same state.

    Args:
        rng: A ``numpy.random.Generator``.
        low: Smallest value (integer).
        high: One past the largest value (integer > ``low``).

    Raises:
        ValueError: When ``high <= low``, like ``rng.integers``.
    """
    lo = np.int64(low)
    hi = np.int64(high)
    if hi <= lo:
        raise ValueError("low is greater than high in given interval")
    span = hi - np.int64(1) - lo  # int64, as in Numba's ``integers`` (same branches)
    if span == 0:
        return lo
    bitgen = rng.bit_generator
    if span < 0xFFFFFFFF:
        return lo + np.int64(buffered_bounded_lemire_uint32(bitgen, span))
    if span == 0xFFFFFFFF:
        return lo + np.int64(next_uint32(bitgen))
    return lo + np.int64(bounded_lemire_uint64(bitgen, span))


@njit(cache=True)
def argmax_random_tiebreak(values, rng):
    """Index of the maximum of ``values`` (float64[K]), ties broken uniformly with ``rng``.

    Consumes exactly one uniform draw from ``rng`` whatever the values, so the
    number of draws per call is fixed. One pass over ``values`` when the maximum is
    unique (the usual case), a second pass to find the picked maximiser otherwise.
    Kernels that compute the values in a loop can instead track the maximum as they go
    (:func:`running_max`) and break ties with :func:`tied_maximiser`: same result, same
    draw, no separate pass.
    """
    best = -np.inf
    n_best = 0
    first = 0
    for i in range(values.shape[0]):
        best, n_best, first = running_max(values[i], i, best, n_best, first)
    u = rng.random()
    if n_best == 1:
        return np.int64(first)
    return tied_maximiser(values, best, n_best, u)


@njit(cache=True, inline="always")
def running_max(v, i, best, n_best, first):
    """One step of the running maximum of :func:`argmax_random_tiebreak`.

    Start from ``best = -inf, n_best = 0, first = 0`` and feed the values in index order;
    NaN values are skipped.

    Args:
        v: float64, the value at index ``i``.
        i: int64 index of ``v``.
        best: float64, maximum so far.
        n_best: int64, how many values so far equal ``best``.
        first: int64, index of the first of them.

    Returns:
        The updated ``(best, n_best, first)``.
    """
    if v > best:
        return v, np.int64(1), np.int64(i)
    if v == best:
        if n_best == 0:
            return best, np.int64(1), np.int64(i)
        return best, n_best + 1, first
    return best, n_best, first


@njit(cache=True)
def tied_maximiser(values, best, n_best, u):
    """The maximiser :func:`argmax_random_tiebreak` picks among ``n_best > 1`` tied ones.

    Args:
        values: float64[K], the values.
        best: float64, their maximum.
        n_best: int64, how many values equal ``best``.
        u: The uniform draw of the tie-break, in [0, 1).

    Returns:
        int64, the index of the ``int(u * n_best)``-th value equal to ``best``.
    """
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
    """1/2-Tsallis-INF weights by Newton's method on the normaliser (allocates the weights).

    Solves for ``x`` such that ``sum_i 4 / (eta * (L_i - x))**2 = 1`` with ``x < min L``,
    and returns ``w_i = 4 / (eta * (L_i - x))**2`` (Zimmert & Seldin 2021, Alg. 2).
    Per-step callers use :func:`tsallis_inf_weights_into`, which writes the weights into a
    buffer instead of a new array (same values).

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
    w = np.empty(cum_loss_est.shape[0])
    x = tsallis_inf_weights_into(cum_loss_est, eta, x_init, w, tol, max_iter)
    return w, x


@njit(cache=True)
def tsallis_inf_weights_into(cum_loss_est, eta, x_init, out, tol=1e-12, max_iter=100):
    """:func:`tsallis_inf_weights` writing the weights into ``out``; allocates nothing.

    Args:
        cum_loss_est: float64[K] cumulative importance-weighted loss estimates.
        eta: Learning rate (> 0).
        x_init: Warm start for the normaliser (see :func:`tsallis_inf_weights`).
        out: float64[K], overwritten with the probabilities (renormalised); must not
            alias ``cum_loss_est``.
        tol: Stop when the weights sum to 1 within ``tol``.
        max_iter: Newton iteration cap.

    Returns:
        The normaliser ``x`` (float64).
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
    w = out
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
    return x
