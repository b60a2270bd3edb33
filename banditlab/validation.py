"""Declarative parameter validation (the scikit-learn ``_parameter_constraints`` idea).

Envs and agents state what each constructor argument or hyperparameter may be, as
data, and one function checks values against it::

    class UCB1(KernelAgent):
        _parameter_constraints = {"alpha": Interval("real", 0, None, closed="neither")}

    validate_params(UCB1._parameter_constraints, {"alpha": -1.0})
    # BanditlabError: alpha: expected a finite number > 0, got -1.0

A parameter may list several constraints (``[None, Interval(...)]`` accepts ``None``
or a number); the first that accepts the value wins and its normalised value
(``int``, ``float``, ``str``, ``bool`` or a contiguous ``float64``/``int64`` array) is
returned. Every rejection is one :class:`~banditlab.core.BanditlabError` line of the
form ``"<name>: expected <what is allowed>, got <value>"``, raised in Python before
any compiled code runs. Checks that relate several parameters (a table shape that
depends on ``n_arms``) stay in code, after the per-parameter checks.

:class:`~banditlab.core.Agent` runs its class's ``_parameter_constraints`` in
``_validate_params``; envs call :func:`validate_params` at the top of ``__init__``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import gymnasium as gym
import numpy as np

from banditlab.errors import BanditlabError

__all__ = [
    "Constraint",
    "Interval",
    "Options",
    "Boolean",
    "Array",
    "InstanceOf",
    "validate_params",
    "validate_value",
    "require_discrete_actions",
    "require_discrete_observations",
    "require_box_actions",
]


class Constraint:
    """One allowed form of a parameter.

    Subclasses implement :meth:`accepts` (normalise or return :data:`REJECT`) and
    :attr:`description` (the "expected ..." phrase of the error message). A
    constraint may override :meth:`detail` to explain a rejection more precisely
    than the description (e.g. which array entry failed).
    """

    description: str = "a valid value"

    def accepts(self, value: Any) -> Any:
        """The normalised value, or :data:`REJECT`."""
        raise NotImplementedError

    def detail(self, value: Any) -> str | None:
        """A sharper reason than :attr:`description` for rejecting ``value``, or ``None``."""
        return None


class _Reject:
    def __repr__(self) -> str:
        return "REJECT"


REJECT = _Reject()
"""Sentinel returned by :meth:`Constraint.accepts` for a value it does not accept."""


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _fmt(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if not isinstance(x, float) else f"{x:g}"


class Interval(Constraint):
    """An integer or a finite real number in an interval.

    Args:
        kind: ``"int"`` (integers, bools rejected) or ``"real"`` (ints and floats,
            bools rejected; NaN always rejected).
        left: Lower bound or ``None`` (unbounded).
        right: Upper bound or ``None`` (unbounded).
        closed: Which ends are included: ``"both"``, ``"left"``, ``"right"`` or
            ``"neither"``.
        allow_inf: Accept ``+inf`` when ``right`` is ``None`` (e.g. "no cap").
    """

    def __init__(self, kind: str, left: float | None = None, right: float | None = None, *,
                 closed: str = "both", allow_inf: bool = False):
        if kind not in ("int", "real"):
            raise ValueError(f"kind must be 'int' or 'real', got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both/left/right/neither, got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        self.allow_inf = allow_inf

    @property
    def _left_closed(self) -> bool:
        return self.closed in ("both", "left")

    @property
    def _right_closed(self) -> bool:
        return self.closed in ("both", "right")

    @property
    def description(self) -> str:  # noqa: D102 - documented on the base class
        what = "an integer" if self.kind == "int" else "a finite number"
        lo, hi = self.left, self.right
        if lo is None and hi is None:
            rng = ""
        elif hi is None:
            rng = f" {'>=' if self._left_closed else '>'} {_fmt(lo)}"
        elif lo is None:
            rng = f" {'<=' if self._right_closed else '<'} {_fmt(hi)}"
        else:
            rng = (f" in {'[' if self._left_closed else '('}{_fmt(lo)}, {_fmt(hi)}"
                   f"{']' if self._right_closed else ')'}")
        inf = " (or inf)" if self.allow_inf else ""
        return what + rng + inf

    def accepts(self, value: Any) -> Any:  # noqa: D102
        if self.kind == "int":
            if not _is_int(value):
                return REJECT
            v: float = int(value)
        else:
            if not _is_real(value):
                return REJECT
            v = float(value)
            if math.isnan(v):
                return REJECT
            if math.isinf(v) and not (self.allow_inf and v > 0 and self.right is None):
                return REJECT
        if self.left is not None and (v < self.left or (v == self.left and not self._left_closed)):
            return REJECT
        if self.right is not None and (
            v > self.right or (v == self.right and not self._right_closed)
        ):
            return REJECT
        return v


class Options(Constraint):
    """One of a fixed set of values (strings, numbers, or ``None``).

    Args:
        values: The allowed values, in the order the error message lists them.
    """

    def __init__(self, *values: Any):
        self.values = tuple(values)

    @property
    def description(self) -> str:  # noqa: D102
        return f"one of {self.values}"

    def accepts(self, value: Any) -> Any:  # noqa: D102
        for option in self.values:
            if type(option) is type(value) or (_is_real(option) and _is_real(value)):
                try:
                    if value == option:
                        return option
                except (TypeError, ValueError):  # pragma: no cover - exotic __eq__
                    continue
        return REJECT


class Boolean(Constraint):
    """``True`` or ``False`` (Python or NumPy bools; integers rejected)."""

    description = "True or False"

    def accepts(self, value: Any) -> Any:  # noqa: D102
        return bool(value) if isinstance(value, (bool, np.bool_)) else REJECT


class InstanceOf(Constraint):
    """An instance of one of the given types (e.g. a provider object or a mapping).

    Args:
        types: Accepted types.
        what: Phrase for the error message, e.g. ``"a mapping of parameter arrays"``.
    """

    def __init__(self, *types: type, what: str):
        self.types = types
        self.description = what

    def accepts(self, value: Any) -> Any:  # noqa: D102
        return value if isinstance(value, self.types) else REJECT


class Array(Constraint):
    """A numeric array (any array-like) of a given shape, finite, optionally bounded.

    Args:
        dtype: ``"float"`` (returned as contiguous ``float64``) or ``"int"`` (every
            entry integral, returned as ``int64``).
        shape: Required shape; ``None`` entries match any length. ``None`` alone
            allows any shape with ``ndim`` dimensions.
        ndim: Required number of dimensions when ``shape`` is ``None``.
        low: Lower bound on every entry, or ``None``.
        high: Upper bound on every entry, or ``None``.
        closed: Which bounds are included, as for :class:`Interval`.
        min_len: Minimum length along the first axis.
    """

    def __init__(self, dtype: str = "float", *, shape: Sequence[int | None] | None = None,
                 ndim: int | None = None, low: float | None = None, high: float | None = None,
                 closed: str = "both", min_len: int = 0):
        if dtype not in ("float", "int"):
            raise ValueError(f"dtype must be 'float' or 'int', got {dtype!r}")
        self.dtype, self.shape, self.low, self.high = dtype, shape, low, high
        self.ndim = len(shape) if shape is not None else ndim
        self.bounds = Interval("real", low, high, closed=closed)
        self.min_len = min_len

    @property
    def description(self) -> str:  # noqa: D102
        what = "an array of integers" if self.dtype == "int" else "an array of finite numbers"
        if self.shape is not None:
            dims = ", ".join("n" if s is None else str(s) for s in self.shape)
            what += f" of shape ({dims}{',' if len(self.shape) == 1 else ''})"
        elif self.ndim is not None:
            what += f" with {self.ndim} dimension{'s' if self.ndim != 1 else ''}"
        if self.min_len:
            what += f" with at least {self.min_len} entries"
        if self.low is not None or self.high is not None:
            what += " " + self.bounds.description.removeprefix("a finite number ")
        return what

    def _convert(self, value: Any) -> np.ndarray | None:
        if isinstance(value, (str, bytes, Mapping)) or value is None:
            return None
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            return None
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            return None
        if arr.dtype.kind == "b":
            return None
        return arr

    def accepts(self, value: Any) -> Any:  # noqa: D102
        arr = self._convert(value)
        if arr is None or self.detail(value) is not None:
            return REJECT
        if self.dtype == "int":
            return np.ascontiguousarray(arr, dtype=np.int64)
        return np.ascontiguousarray(arr, dtype=np.float64)

    def detail(self, value: Any) -> str | None:  # noqa: D102
        arr = self._convert(value)
        if arr is None:
            return None
        if self.ndim is not None and arr.ndim != self.ndim:
            return f"expected {self.description}, got shape {arr.shape}"
        if self.shape is not None:
            for want, got in zip(self.shape, arr.shape, strict=True):
                if want is not None and want != got:
                    return f"expected {self.description}, got shape {arr.shape}"
        if arr.ndim and arr.shape[0] < self.min_len:
            return f"expected {self.description}, got shape {arr.shape}"
        f = arr.astype(np.float64)
        if not np.all(np.isfinite(f)):
            return "every entry must be finite"
        if self.dtype == "int" and not np.all(f == np.round(f)):
            return "every entry must be an integer"
        if self.low is not None or self.high is not None:
            bad = [x for x in f.ravel() if self.bounds.accepts(float(x)) is REJECT]
            if bad:
                allowed = self.bounds.description.removeprefix("a finite number ")
                return f"every entry must be {allowed}, got {_fmt(float(bad[0]))}"
        return None


def _as_list(constraint: Any) -> list[Any]:
    if isinstance(constraint, (list, tuple)):
        return list(constraint)
    return [constraint]


def validate_value(name: str, value: Any, constraint: Any) -> Any:
    """Check one value against a constraint (or a list of alternatives).

    Args:
        name: Parameter name, the first word of the error message.
        value: The value to check.
        constraint: A :class:`Constraint`, ``None`` (the value ``None``), or a list
            of these (any one may accept).

    Returns:
        The normalised value.

    Raises:
        BanditlabError: ``"<name>: expected <allowed>, got <value>"`` (one line).
    """
    alternatives = _as_list(constraint)
    for c in alternatives:
        if c is None:
            if value is None:
                return None
            continue
        out = c.accepts(value)
        if out is not REJECT:
            return out
    for c in alternatives:  # a precise reason from the one constraint of the right kind
        if c is not None and (detail := c.detail(value)) is not None:
            raise BanditlabError(f"{name}: {detail}")
    phrases = [("None" if c is None else c.description) for c in alternatives]
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise BanditlabError(f"{name}: expected {' or '.join(phrases)}, got {shown}")


def validate_params(constraints: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Check every value that has a constraint, in the order of ``constraints``.

    Args:
        constraints: Parameter name to constraint (see :func:`validate_value`).
        values: Parameter name to value; names without a constraint pass unchanged.

    Returns:
        ``values`` with every constrained entry normalised.

    Raises:
        BanditlabError: For the first invalid value, naming it.
    """
    out = dict(values)
    for name, constraint in constraints.items():
        if name in out:
            out[name] = validate_value(name, out[name], constraint)
    return out


# --------------------------------------------------------------------------- spaces
def require_discrete_actions(action_space: gym.Space) -> int:
    """The number of actions of a ``Discrete`` action space.

    Raises:
        BanditlabError: ``"action_space: this agent needs Discrete actions, got ..."``.
    """
    if not isinstance(action_space, gym.spaces.Discrete):
        raise BanditlabError(f"action_space: this agent needs Discrete actions, got {action_space}")
    return int(action_space.n)


def require_discrete_observations(observation_space: gym.Space) -> int:
    """The number of states of a ``Discrete`` observation space.

    Raises:
        BanditlabError: ``"observation_space: this agent needs Discrete states, got ..."``.
    """
    if not isinstance(observation_space, gym.spaces.Discrete):
        raise BanditlabError(
            f"observation_space: this agent needs Discrete states, got {observation_space}"
        )
    return int(observation_space.n)


def require_box_actions(action_space: gym.Space, ndim: int = 1) -> tuple[int, ...]:
    """The shape of a ``Box`` action space with ``ndim`` dimensions.

    Raises:
        BanditlabError: ``"action_space: this agent needs a <ndim>-D Box, got ..."``.
    """
    if not isinstance(action_space, gym.spaces.Box) or len(action_space.shape) != ndim:
        raise BanditlabError(f"action_space: this agent needs a {ndim}-D Box, got {action_space}")
    return tuple(int(n) for n in action_space.shape)
