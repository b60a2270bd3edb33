"""Fast calls from Python into kernels that draw from a ``numpy.random.Generator``.

On the Gymnasium path every step calls kernels from Python (``EnvKernel.step``,
``AgentKernel.select``). Numba unboxes a ``Generator`` argument through several
Python-level attribute reads of its bit generator's ctypes interface, which costs
more than everything else in the call together (measured in
``benchmarks/bench_fused.py``). This module wraps such a kernel once:

* :class:`RngHolder` is a Numba structref holding the generator in its native
  form; it is unboxed as a single pointer. Draws made through it advance the same
  bit generator state as the Python object, so the stream is the one the fused
  path and a direct call would use (bit-for-bit parity is tested);
* :func:`holder_call` returns, for a module-level kernel ``f(a, b, ..., rng)``, a
  compiled ``f_held(a, b, ..., holder)`` generated once per machine with the
  machinery of :mod:`banditlab._fused` (cached on disk, name digesting the
  sources), or ``None`` for kernels that are not importable by name (the caller
  then calls the kernel directly).
"""

from __future__ import annotations

import functools
import inspect

from numba import njit
from numba.core import types
from numba.core.types import NumPyRandomGeneratorType
from numba.experimental import structref

from banditlab._fused import kernel_module_digests, kernel_names, load_generated

__all__ = ["RngHolder", "holder_call", "GeneratorCaller"]


@structref.register
class RngHolderType(types.StructRef):
    """Numba type of :class:`RngHolder`."""

    def preprocess_fields(self, fields):
        """Drop literal types from the fields."""
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class RngHolder(structref.StructRefProxy):
    """A ``numpy.random.Generator`` held in Numba's native form (cheap to pass to kernels).

    Args:
        rng: The generator; draws through the holder advance its state.
    """

    def __new__(cls, rng):
        """Hold ``rng``."""
        return _new_holder(rng)


structref.define_proxy(RngHolder, RngHolderType, ["rng"])
RNG_HOLDER_TYPE = RngHolderType([("rng", NumPyRandomGeneratorType("generator"))])


@njit(cache=True)
def _new_holder(rng):
    holder = structref.new(RNG_HOLDER_TYPE)
    holder.rng = rng
    return holder


def _render(name: tuple[str, str], n_args: int):
    module, fn = name
    params = ", ".join(f"a{i}" for i in range(n_args))

    def render(digest: str) -> str:
        return (
            f'"""Kernel {module}.{fn} called with a generator holder '
            f'(banditlab._entry, {digest[:16]})."""\n'
            "from numba import njit\n"
            f"from {module} import {fn} as kernel\n\n\n"
            "@njit(cache=True)\n"
            f"def call({params}, holder):\n"
            f"    return kernel({params}, holder.rng)\n"
        )

    return render


@functools.cache
def _held(name: tuple[str, str], digests: tuple[str, ...], n_args: int):
    module = load_generated("entry", (name,), digests, _render(name, n_args))
    return None if module is None else module.call


def holder_call(kernel):
    """``kernel(..., rng)`` as a compiled ``call(..., holder)``, or ``None`` (see module doc).

    Args:
        kernel: A module-level ``@njit`` kernel whose last parameter is the generator.
    """
    names = kernel_names((kernel,))
    if names is None:
        return None
    n_args = len(inspect.signature(kernel.py_func).parameters) - 1
    return _held(names[0], kernel_module_digests(names), n_args)


class GeneratorCaller:
    """Calls ``kernel(*args, rng)`` through a cached :class:`RngHolder` of ``rng``.

    Falls back to the direct call for kernels without a holder entry point. The
    holder is rebuilt when a different generator object is passed.

    Args:
        kernel: The kernel (last parameter: the generator).
    """

    __slots__ = ("kernel", "entry", "_rng", "_holder")

    def __init__(self, kernel):
        self.kernel = kernel
        self.entry = holder_call(kernel)
        self._rng = None
        self._holder = None

    def __reduce__(self):
        """Copies and pickles rebuild the caller; the holder is per process and generator."""
        return (GeneratorCaller, (self.kernel,))

    def __call__(self, *args):
        """``kernel(*args[:-1], args[-1])`` with the generator ``args[-1]``."""
        if self.entry is None:
            return self.kernel(*args)
        rng = args[-1]
        if rng is not self._rng:
            self._holder = RngHolder(rng)
            self._rng = rng
        return self.entry(*args[:-1], self._holder)
