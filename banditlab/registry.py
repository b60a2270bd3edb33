"""Registries: agents (banditlab's own, versioned) and environments (Gymnasium's).

Families are declared with :func:`register_family` (each built-in family in
``envs/<family>/__init__.py``). Agents are registered with :func:`register_agent`
under versioned ids ``"<Name>-v<N>"`` in ``agents/<family>/__init__.py``;
environments are registered in Gymnasium's registry as ``"banditlab/<Name>-v<N>"``
in ``envs/<family>/__init__.py``.
Third-party packages register by being imported (an experiment file's
``imports`` list) or by declaring the entry-point groups ``banditlab.agents``
and ``banditlab.envs``; those groups are read lazily, only when an id is
unknown or when listing, never at import time.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from banditlab.core import Agent, BanditlabError, BenchmarkPolicy

__all__ = [
    "FamilySpec",
    "family_registry",
    "register_family",
    "known_families",
    "AgentSpec",
    "agent_registry",
    "register_agent",
    "make_agent",
    "make_benchmark_policy",
    "agent_ids",
    "env_ids",
    "make_env",
    "env_spec",
    "load_entry_point",
    "check_kwargs",
]

_AGENT_ID = re.compile(r"^(?:[\w.-]+/)?[A-Za-z][\w.]*-v\d+$")


@dataclass(frozen=True)
class FamilySpec:
    """Declaration of a research family (a setting with its own envs and agents).

    Attributes:
        name: Short identifier used in ``env.family`` and agents' ``families`` tag
            (lower case, e.g. ``"lsd"``).
        title: Human-readable name.
        description: One sentence for catalogues.
    """

    name: str
    title: str
    description: str = ""


family_registry: dict[str, FamilySpec] = {}
_FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def register_family(name: str, *, title: str, description: str = "") -> None:
    """Declare a family so envs and agents may name it (idempotent for the same name).

    Third-party packages declare their own families the same way before registering
    envs that name them.

    Args:
        name: Lower-case identifier (letters, digits, underscores).
        title: Human-readable name.
        description: One sentence for catalogues.

    Raises:
        BanditlabError: On a malformed name.
    """
    if not isinstance(name, str) or not _FAMILY_NAME.match(name):
        raise BanditlabError(f"family: {name!r} must be a lower-case identifier like 'lsd'")
    family_registry[name] = FamilySpec(name=name, title=title, description=description)


def known_families() -> tuple[str, ...]:
    """Names of every declared family (built-ins and plugins), in declaration order."""
    _ensure_builtin()
    _load_plugin_group("banditlab.envs")
    return tuple(family_registry)


@dataclass(frozen=True)
class AgentSpec:
    """Registration record of an agent.

    Attributes:
        id: Versioned id, ``"<Name>-v<N>"`` (optionally ``"<namespace>/<Name>-v<N>"``).
        entry_point: ``"module.path:ClassName"``.
        kwargs: Default hyperparameters applied before user overrides.
    """

    id: str
    entry_point: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


agent_registry: dict[str, AgentSpec] = {}
_entry_points_loaded: set[str] = set()


def register_agent(id: str, entry_point: str, kwargs: Mapping[str, Any] | None = None) -> None:
    """Register an agent class under a versioned id.

    Args:
        id: ``"<Name>-v<N>"``; bump ``N`` whenever behaviour changes.
        entry_point: ``"module.path:ClassName"``, imported lazily by :func:`make_agent`.
        kwargs: Default hyperparameters of this id.

    Raises:
        BanditlabError: On a malformed id.
    """
    if not _AGENT_ID.match(id):
        raise BanditlabError(f"agent id: {id!r} must look like 'Name-v0'")
    agent_registry[id] = AgentSpec(id=id, entry_point=entry_point, kwargs=dict(kwargs or {}))


def load_entry_point(entry_point: str) -> Any:
    """Import ``"module:attr"`` and return the attribute."""
    module_name, _, attr = entry_point.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _load_plugin_group(group: str) -> None:
    """Import the third-party modules declared under an entry-point group (once)."""
    if group in _entry_points_loaded:
        return
    _entry_points_loaded.add(group)
    for ep in metadata.entry_points(group=group):
        ep.load()


def _ensure_builtin() -> None:
    import banditlab.agents  # noqa: F401  (registers the built-in agents)
    import banditlab.envs  # noqa: F401  (registers the built-in envs)


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def agent_ids() -> list[str]:
    """All registered agent ids (built-ins and entry-point plugins), sorted."""
    _ensure_builtin()
    _load_plugin_group("banditlab.agents")
    return sorted(agent_registry)


def agent_spec(id: str) -> AgentSpec:
    """The :class:`AgentSpec` of ``id``, with close matches suggested when unknown.

    Raises:
        BanditlabError: One line. For an id whose name is registered under other
            versions: ``agent id 'UCRL2-v0': version v0 is not registered; use
            'UCRL2-v1'`` (every registered version, newest first).
    """
    _ensure_builtin()
    if id not in agent_registry:
        _load_plugin_group("banditlab.agents")
    if id not in agent_registry:
        others = _other_versions(id, agent_registry)
        if others:
            version = id.rsplit("-", 1)[1]
            use = " or ".join(repr(o) for o in others)
            raise BanditlabError(
                f"agent id {id!r}: version {version} is not registered; use {use}"
            )
        raise BanditlabError(f"agent id: unknown agent {id!r}{_suggest(id, list(agent_registry))}")
    return agent_registry[id]


_VERSIONED = re.compile(r"^(?P<name>.+)-v(?P<version>\d+)$")


def _other_versions(id: str, registry: Mapping[str, Any]) -> list[str]:
    """Registered ids with the same name as ``id`` and another version, newest first."""
    m = _VERSIONED.match(id) if isinstance(id, str) else None
    if m is None:
        return []
    found = []
    for other in registry:
        mo = _VERSIONED.match(other)
        if mo is not None and mo["name"] == m["name"] and other != id:
            found.append((int(mo["version"]), other))
    return [o for _, o in sorted(found, reverse=True)]


def check_kwargs(target: Any, kwargs: Mapping[str, Any], what: str) -> None:
    """Raise a one-line error for keyword arguments ``target``'s signature does not accept."""
    params = inspect.signature(target).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if n != "self" and p.kind != p.VAR_POSITIONAL]
    for key in kwargs:
        if key not in allowed:
            raise BanditlabError(
                f"{what}: unknown argument {key!r}{_suggest(key, allowed)} "
                f"(allowed: {', '.join(allowed) or 'none'})"
            )


def make_agent(id: str, **kwargs: Any) -> Agent:
    """Build a registered agent.

    Args:
        id: A registered agent id.
        **kwargs: Hyperparameters overriding the registered defaults.

    Returns:
        An unreset agent.

    Raises:
        BanditlabError: Unknown id (with close matches) or unknown hyperparameter.
    """
    spec = agent_spec(id)
    cls = load_entry_point(spec.entry_point)
    params = {**spec.kwargs, **kwargs}
    check_kwargs(cls.__init__, params, f"agent {id!r}")
    agent = cls(**params)
    agent.registry_id = id  # not a hyperparameter: records where it came from
    return agent


def make_benchmark_policy(oracle: Any, name: str, where: str = "agent") -> Agent:
    """Build the benchmark policy ``name`` of an env's oracle through the agent registry.

    Args:
        oracle: ``env.unwrapped.oracle``.
        name: A key of ``oracle.benchmark_policies()``.
        where: Field named in the error message.

    Returns:
        An unreset agent.

    Raises:
        BanditlabError: When the oracle offers no policy ``name`` (listing those it has).
    """
    policies = oracle.benchmark_policies()
    if name not in policies:
        raise BanditlabError(
            f"{where}.id: env has no oracle policy {name!r} "
            f"(available: {', '.join(sorted(policies)) or 'none'})"
        )
    policy = policies[name]
    if isinstance(policy, Agent):  # third-party oracles written before BenchmarkPolicy
        return policy
    if not isinstance(policy, BenchmarkPolicy):
        raise BanditlabError(f"{where}.id: oracle policy {name!r} is not a BenchmarkPolicy")
    return make_agent(policy.agent_id, **dict(policy.kwargs))


# --------------------------------------------------------------------------- envs
def env_ids() -> list[str]:
    """All registered ``banditlab/`` environment ids (and entry-point plugins), sorted."""
    import gymnasium as gym

    _ensure_builtin()
    _load_plugin_group("banditlab.envs")
    return sorted(k for k in gym.registry if k.startswith("banditlab/"))


def env_spec(id: str):
    """Gymnasium's ``EnvSpec`` for ``id``, with close matches suggested when unknown.

    An id whose version is not registered while others are gets Gymnasium's message
    (``... is deprecated. Please use 'banditlab/X-v1' instead.``) on one line.
    """
    import gymnasium as gym

    _ensure_builtin()
    if id not in gym.registry:
        _load_plugin_group("banditlab.envs")
    if id not in gym.registry:
        try:  # Gymnasium's own message for a deprecated or missing version, on one line
            gym.spec(id)
        except (gym.error.DeprecatedEnv, gym.error.VersionNotFound) as exc:
            raise BanditlabError(f"env id {id!r}: {' '.join(str(exc).split())}") from None
        except Exception:  # noqa: BLE001 - any other lookup failure: our message below
            pass
        hint = _suggest(id, list(gym.registry))
        raise BanditlabError(f"env id: unknown environment {id!r}{hint}")
    return gym.registry[id]


def make_env(id: str, **kwargs: Any):
    """Build a registered environment with validated keyword arguments.

    Args:
        id: A Gymnasium id such as ``"banditlab/Bernoulli-v0"``.
        **kwargs: Constructor arguments overriding the registered defaults.

    Returns:
        The unwrapped environment (banditlab manages run lengths itself).

    Raises:
        BanditlabError: Unknown id (with close matches) or unknown argument.
    """
    import gymnasium as gym

    spec = env_spec(id)
    entry = spec.entry_point
    cls = load_entry_point(entry) if isinstance(entry, str) else entry
    check_kwargs(cls.__init__ if inspect.isclass(cls) else cls, kwargs, f"env {id!r}")
    env = gym.make(id, disable_env_checker=True, **kwargs)
    return env.unwrapped
