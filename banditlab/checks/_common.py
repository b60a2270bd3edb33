"""Helpers shared by the env and agent checkers: subjects, random actions, deep comparison.

Nothing here compiles Numba code at import time.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from banditlab.core import INFO_ACTION_MASK, BanditlabError

#: Upper bound on the run length (steps for continuing envs) the conformance suite asks for
#: when an env constructor accepts ``horizon``.
SMALL_HORIZON = 60
#: Upper bound on the number of episodes the conformance suite asks for (episodic envs).
SMALL_N_EPISODES = 3
#: Steps after which an episode that never terminates is declared broken.
MAX_EPISODE_STEPS = 10_000


# --------------------------------------------------------------------------- env subjects
@dataclass
class EnvSubject:
    """What an env check needs: a name, a factory of fresh unwrapped envs, declared xfails.

    Attributes:
        name: Readable id (the registry id or the class name).
        factory: Zero-argument callable returning a fresh, unreset, unwrapped env.
        xfail_checks: Mapping of check name to reason (from the env class's
            ``xfail_checks`` attribute, if any).
        env_id: Registry id when the subject came from one, else ``None``.
        kwargs: Constructor overrides requested with ``env_id``.
        kwargs_optional: The overrides are the suite's shortening (dropped, falling back to
            the registered defaults, when the constructor rejects them), not the user's.
    """

    name: str
    factory: Callable[[], gym.Env]
    xfail_checks: Mapping[str, str] = field(default_factory=dict)
    env_id: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    kwargs_optional: bool = False
    _pristine: Any = field(default=None, repr=False)
    _copyable: bool = field(default=True, repr=False)

    def make(self) -> gym.Env:
        """A fresh unwrapped env.

        The first call runs the factory and keeps the unreset env; later calls
        return deep copies of it (constructors may be expensive: oracles solve LPs
        or eigenproblems), or call the factory again if the env cannot be copied.
        """
        if self._pristine is None:
            self._pristine = self.factory().unwrapped
        if self._copyable:
            try:
                return copy.deepcopy(self._pristine)
            except Exception:  # noqa: BLE001 - e.g. a read-only mappingproxy attribute
                self._copyable = False
        return self.factory().unwrapped


def _entry_class(env_id: str):
    from banditlab.registry import env_spec, load_entry_point

    entry = env_spec(env_id).entry_point
    return load_entry_point(entry) if isinstance(entry, str) else entry


def entry_env_class(env_id: str, *, build: bool = False):
    """The env class behind a registered id, also when its entry point is a factory function.

    A class entry point is returned as is; a factory's return annotation is used when it
    names a class; otherwise, with ``build=True``, the registered env is built once and its
    class returned (else the factory itself).
    """
    obj = _entry_class(env_id)
    if inspect.isclass(obj):
        return obj
    try:
        ann = inspect.signature(obj).return_annotation
    except (TypeError, ValueError):
        ann = inspect.Signature.empty
    if isinstance(ann, str):
        ann = getattr(obj, "__globals__", {}).get(ann)
    if inspect.isclass(ann) and ann is not inspect.Signature.empty:
        return ann
    if not build:
        return obj
    from banditlab.registry import make_env

    return type(make_env(env_id))


def small_env_kwargs(env_id: str) -> dict[str, Any]:
    """Constructor overrides that shorten a registered env for the conformance suite.

    Shrinks ``horizon`` (continuing envs) to at most :data:`SMALL_HORIZON` and
    ``n_episodes`` (episodic envs) to at most :data:`SMALL_N_EPISODES`, when the
    constructor accepts them. Other arguments keep their registered defaults.

    Args:
        env_id: A registered env id.

    Returns:
        The overrides (possibly empty).
    """
    from banditlab.registry import env_spec

    spec = env_spec(env_id)
    cls = _entry_class(env_id)
    target = cls.__init__ if inspect.isclass(cls) else cls
    cls = entry_env_class(env_id)  # a factory's env class declares run_kind
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return {}
    run_kind = getattr(cls, "run_kind", "continuing")
    out: dict[str, Any] = {}
    for name, cap in (("horizon", SMALL_HORIZON), ("n_episodes", SMALL_N_EPISODES)):
        if name not in params:
            continue
        if name == "horizon" and run_kind == "episodic":
            continue  # in episodic envs "horizon" is usually the episode length
        default = spec.kwargs.get(name, params[name].default)
        if isinstance(default, (int, np.integer)) and not isinstance(default, bool):
            if default > cap:
                out[name] = cap
    return out


def env_subject(env: Any) -> EnvSubject:
    """Normalise what a user passes to an env check.

    Args:
        env: A registered env id (shortened with :func:`small_env_kwargs`), an
            ``(id, kwargs)`` pair (used as given), a Gymnasium ``EnvSpec``, an env
            instance (copied, never mutated), an :class:`EnvSubject`, or a
            zero-argument factory.

    Returns:
        An :class:`EnvSubject`.
    """
    from banditlab.registry import make_env

    if isinstance(env, EnvSubject):
        return env
    if isinstance(env, gym.envs.registration.EnvSpec):
        env = env.id
    if isinstance(env, str):
        env_id = env
        kwargs = small_env_kwargs(env_id)

        def factory():
            # Nothing is built at collection time; an env whose constructor rejects the
            # shortened arguments runs with its registered defaults.
            try:
                return make_env(env_id, **kwargs)
            except (BanditlabError, TypeError, ValueError):
                return make_env(env_id)

        cls = entry_env_class(env_id)
        return EnvSubject(
            name=env_id,
            factory=factory,
            xfail_checks=dict(getattr(cls, "xfail_checks", {}) or {}),
            env_id=env_id,
            kwargs=kwargs,
            kwargs_optional=True,
        )
    if isinstance(env, tuple) and len(env) == 2 and isinstance(env[0], str):
        env_id, kwargs = env[0], dict(env[1])
        cls = entry_env_class(env_id)
        return EnvSubject(
            name=env_id,
            factory=lambda: make_env(env_id, **kwargs),
            xfail_checks=dict(getattr(cls, "xfail_checks", {}) or {}),
            env_id=env_id,
            kwargs=kwargs,
        )
    if isinstance(env, gym.Env):
        raw = env.unwrapped
        xfail = dict(getattr(raw, "xfail_checks", {}) or {})
        try:
            pristine = copy.deepcopy(raw)
        except Exception as exc:  # noqa: BLE001 - fall back to the env's registration
            spec = getattr(raw, "spec", None)
            if spec is None:
                raise BanditlabError(
                    f"env: cannot copy {type(raw).__name__} ({type(exc).__name__}: {exc}); "
                    "pass a zero-argument factory instead"
                ) from exc
            spec_id, spec_kwargs = spec.id, dict(spec.kwargs)
            return EnvSubject(name=spec_id, factory=lambda: make_env(spec_id, **spec_kwargs),
                              xfail_checks=xfail, env_id=spec_id, kwargs=spec_kwargs)
        return EnvSubject(
            name=type(pristine).__name__,
            factory=lambda: copy.deepcopy(pristine),
            xfail_checks=xfail,
        )
    if callable(env):
        return EnvSubject(
            name=getattr(env, "__name__", type(env).__name__),
            factory=env,
            xfail_checks=dict(getattr(env, "xfail_checks", {}) or {}),
        )
    raise BanditlabError(
        f"env: expected an env id, (id, kwargs), an EnvSpec, an env or a factory, got {env!r}"
    )


# --------------------------------------------------------------------------- random actions
def _space_and_mask_source(target: Any) -> tuple[gym.Space, Any]:
    if isinstance(target, gym.Env):
        return target.action_space, getattr(target, "action_mask", None)
    return target, None


def valid_mask(target: Any, info: Mapping[str, Any] | None) -> np.ndarray | None:
    """The boolean mask of valid discrete actions, if the env declares one.

    Read from ``info["action_mask"]``, else from a callable ``env.action_mask()``
    when ``target`` is an env (phase-dependent action sets, e.g. query/decide).
    """
    space, source = _space_and_mask_source(target)
    if not isinstance(space, gym.spaces.Discrete):
        return None
    if info is not None and INFO_ACTION_MASK in info:
        raw = info[INFO_ACTION_MASK]
    elif callable(source):
        raw = source()
    else:
        return None
    mask = np.asarray(raw).astype(bool).ravel()
    if mask.shape[0] != int(space.n) or not mask.any():
        return None
    return mask


def random_action(target: Any, rng: np.random.Generator, info=None) -> Any:
    """A random valid action drawn from ``rng`` (never from the space's own generator).

    Args:
        target: An env (its action space and action mask are used) or a space.
        rng: Generator of the draws.
        info: The last ``info`` (its ``action_mask`` wins over ``env.action_mask()``).

    Infinite ``Box`` bounds are replaced by ``[-1, 1]``.
    """
    space, _ = _space_and_mask_source(target)
    if isinstance(space, gym.spaces.Discrete):
        mask = valid_mask(target, info)
        if mask is not None:
            return int(space.start) + int(rng.choice(np.flatnonzero(mask)))
        return int(space.start) + int(rng.integers(int(space.n)))
    if isinstance(space, gym.spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1.0).astype(np.float64)
        high = np.where(np.isfinite(space.high), space.high, 1.0).astype(np.float64)
        high = np.maximum(high, low)
        return (low + (high - low) * rng.random(space.shape)).astype(space.dtype)
    if isinstance(space, gym.spaces.MultiBinary):
        return rng.integers(0, 2, size=space.shape).astype(space.dtype)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return (space.start + (rng.random(space.shape) * space.nvec).astype(np.int64)).astype(
            space.dtype
        )
    space.seed(int(rng.integers(2**31)))
    return space.sample()


def candidate_actions(target: Any, rng: np.random.Generator, info=None, n: int = 4) -> list:
    """A few distinct valid actions (all of them for small discrete spaces)."""
    space, _ = _space_and_mask_source(target)
    if isinstance(space, gym.spaces.Discrete):
        mask = valid_mask(target, info)
        valid = np.flatnonzero(mask) if mask is not None else np.arange(int(space.n))
        if valid.shape[0] > 8:
            picks = {int(valid[0]), int(valid[-1])}
            picks.update(int(v) for v in rng.choice(valid, size=n, replace=False))
            valid = np.array(sorted(picks))
        return [int(space.start) + int(v) for v in valid]
    return [random_action(target, rng, info) for _ in range(n)]


# --------------------------------------------------------------------------- comparison
def first_difference(
    a: Any, b: Any, path: str = "", depth: int = 0, *, rtol: float = 0.0, atol: float = 0.0
) -> str | None:
    """Where two values differ (bit for bit, NaN equal to NaN), or ``None`` when equal.

    With ``rtol``/``atol`` > 0, floating-point values compare as ``numpy.isclose``.

    Understands arrays, NumPy generators (compared by bit-generator state),
    mappings, sequences, NamedTuples, Gymnasium spaces and plain objects (by
    ``vars``, a few levels deep).
    """
    where = path or "<value>"
    if a is b:
        return None
    if isinstance(a, np.random.Generator) or isinstance(b, np.random.Generator):
        if not (isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator)):
            return f"{where}: {type(a).__name__} vs {type(b).__name__}"
        return first_difference(a.bit_generator.state, b.bit_generator.state, where + ".state",
                                depth + 1, rtol=rtol, atol=atol)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.shape != b_arr.shape:
            return f"{where}: shape {a_arr.shape} vs {b_arr.shape}"
        if a_arr.dtype.kind in "fc" or b_arr.dtype.kind in "fc":
            if rtol or atol:
                same = bool(np.all(np.isclose(a_arr, b_arr, rtol=rtol, atol=atol,
                                              equal_nan=True)))
            else:
                same = np.array_equal(a_arr, b_arr, equal_nan=True)
        else:
            try:
                same = bool(np.array_equal(a_arr, b_arr))
            except TypeError:
                same = all(first_difference(x, y) is None for x, y in zip(a_arr.ravel(),
                                                                          b_arr.ravel(),
                                                                          strict=True))
        return None if same else f"{where}: arrays differ ({_short(a_arr)} vs {_short(b_arr)})"
    if isinstance(a, (bool, int, float, complex, np.number, np.bool_)) and isinstance(
        b, (bool, int, float, complex, np.number, np.bool_)
    ):
        if a == b or (_isnan(a) and _isnan(b)):
            return None
        if (rtol or atol) and bool(np.isclose(a, b, rtol=rtol, atol=atol)):
            return None
        return f"{where}: {a!r} vs {b!r}"
    if isinstance(a, gym.Space) or isinstance(b, gym.Space):
        return None if a == b else f"{where}: {a!r} vs {b!r}"
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            return f"{where}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}[{k!r}]", depth + 1, rtol=rtol, atol=atol)
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return f"{where}: {type(a).__name__}[{len(a)}] vs {type(b).__name__}[{len(b)}]"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]", depth + 1, rtol=rtol, atol=atol)
            if d:
                return d
        return None
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, (str, bytes)) or a is None:
        return None if a == b else f"{where}: {a!r} vs {b!r}"
    if callable(a) and not hasattr(a, "__dict__"):
        return None if a == b else f"{where}: {a!r} vs {b!r}"
    if hasattr(a, "__dict__") and depth < 6 and not inspect.isroutine(a) and not inspect.isclass(a):
        if type(a).__module__.startswith("numba"):
            return None if a == b else f"{where}: {a!r} vs {b!r}"
        return first_difference(vars(a), vars(b), where, depth + 1, rtol=rtol, atol=atol)
    try:
        return None if bool(a == b) else f"{where}: {a!r} vs {b!r}"
    except Exception:  # noqa: BLE001 - objects without a usable ==
        return None


def _isnan(x: Any) -> bool:
    try:
        return math.isnan(x)
    except TypeError:
        return False


def _short(arr: np.ndarray) -> str:
    text = np.array2string(arr.ravel()[:6], precision=17)
    return text if arr.size <= 6 else text[:-1] + " ...]"


def generator_states(obj: Any) -> dict[str, Any]:
    """Bit-generator states of every ``np.random.Generator`` attribute of ``obj``.

    Includes Gymnasium's ``np_random`` (stored as ``_np_random``) and the named
    streams (``noise_rng_`` and friends), one level into plain attributes.
    """
    out: dict[str, Any] = {}
    for name, value in sorted(vars(obj).items()):
        if isinstance(value, np.random.Generator):
            out[name] = copy.deepcopy(value.bit_generator.state)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                if isinstance(v, np.random.Generator):
                    out[f"{name}[{i}]"] = copy.deepcopy(v.bit_generator.state)
    return out


def global_random_state() -> tuple:
    """Snapshot of NumPy's and Python's global random states."""
    import random

    return np.random.get_state(legacy=False), random.getstate()  # noqa: NPY002 - inspected
