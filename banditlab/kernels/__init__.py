"""Shared Numba kernels used by environments and agents.

Every function here is a module-level ``@njit(cache=True)`` kernel over arrays.
Randomness always comes from an explicit ``numpy.random.Generator`` argument.
"""

from banditlab.kernels.common import (
    argmax_random_tiebreak,
    bernoulli_kl,
    categorical_sample,
    kl_ucb_bernoulli,
    random_integer,
    running_max,
    tied_maximiser,
    tsallis_inf_weights,
    tsallis_inf_weights_into,
)

__all__ = [
    "argmax_random_tiebreak",
    "bernoulli_kl",
    "categorical_sample",
    "kl_ucb_bernoulli",
    "random_integer",
    "running_max",
    "tied_maximiser",
    "tsallis_inf_weights",
    "tsallis_inf_weights_into",
]
