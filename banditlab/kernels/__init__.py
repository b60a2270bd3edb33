"""Shared Numba kernels used by environments and agents.

Every function here is a module-level ``@njit(cache=True)`` kernel over arrays.
Randomness always comes from an explicit ``numpy.random.Generator`` argument.
"""

from banditlab.kernels.common import (
    argmax_random_tiebreak,
    bernoulli_kl,
    categorical_sample,
    kl_ucb_bernoulli,
    tsallis_inf_weights,
)

__all__ = [
    "argmax_random_tiebreak",
    "bernoulli_kl",
    "categorical_sample",
    "kl_ucb_bernoulli",
    "tsallis_inf_weights",
]
