"""The conformance kit: :func:`check_env` and :func:`check_agent`.

Both are built from small named ``check_*`` functions (in
:mod:`banditlab.checks.env_checker` and :mod:`banditlab.checks.agent_checker`),
each raising ``AssertionError`` with a "most likely cause" message. Third-party
authors run them on their own envs and agents::

    from banditlab.checks import check_env, check_agent
    check_env("banditlab/Bernoulli-v0")      # raises AssertionError listing failures
    check_agent("UCB1-v0")
    for subject, check in check_agent("UCB1-v0", generate_only=True):
        check(subject)                       # scikit-learn's shape

Envs must declare a ``family`` and agents a ``families`` tag naming families
declared with :func:`banditlab.registry.register_family` (``check_env_family``,
``check_agent_families``); agents declare a ``display_name`` and, with a ``Deviations:``
docstring section, a ``deviation`` or ``variant_tags`` (``check_agent_display_name``);
every benchmark policy of an env's oracle is built
through the registry and played (``check_benchmark_policies``). Oracle agents
(tag ``needs_oracle``) are built from the oracle of their check env and play that
env. Envs also follow the conventions of Gymnasium's own wrappers and vector envs: no
reserved ``info`` key (``check_no_reserved_info_keys``), ``info["action_mask"]`` from
``reset`` on when actions are restricted (``check_action_mask_from_reset``), a run under
``RecordEpisodeStatistics(TimeLimit(env, 50))`` (``check_standard_wrappers``) and under
``gym.make_vec`` in sync and async mode (``check_vector_env``). An object skips a check only
by declaring it in ``xfail_checks`` (agents: the tag; envs: a class attribute
``xfail_checks = {"check_name": "reason"}``).
:func:`run_checks` serves ``banditlab check ID``.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from banditlab.checks._common import EnvSubject, entry_env_class, env_subject
from banditlab.checks.agent_checker import AgentSubject, agent_checks, agent_class, agent_subject
from banditlab.checks.env_checker import env_checks
from banditlab.core import BanditlabError

__all__ = [
    "check_env",
    "check_agent",
    "run_checks",
    "env_check_list",
    "agent_check_list",
    "XFAIL_PREFIX",
]

#: Prefix of the message :func:`run_checks` reports for a check the object declared xfail.
XFAIL_PREFIX = "xfail: "


def _env_class(env: Any) -> Any:
    if isinstance(env, EnvSubject):
        return type(env.make())
    if isinstance(env, str):
        return entry_env_class(env)
    if isinstance(env, tuple) and len(env) == 2 and isinstance(env[0], str):
        return entry_env_class(env[0])
    if hasattr(env, "id") and hasattr(env, "entry_point"):  # an EnvSpec
        return entry_env_class(env.id)
    if hasattr(env, "unwrapped"):
        return type(env.unwrapped)
    return type(env_subject(env).make())


def env_check_list(env: Any) -> tuple[EnvSubject, list[Callable[[Any], None]]]:
    """The env subject and the checks that apply to it (built without compiling anything).

    An id registered with a factory function (not a class) whose return annotation does
    not name the class is built once here (the subject keeps that env), so the checks of
    its class apply, kernel checks included, and its ``xfail_checks`` are honoured.
    """
    subject = env_subject(env)
    cls = _env_class(env)
    if not isinstance(cls, type):
        cls = type(subject.make())
        subject.xfail_checks = dict(getattr(cls, "xfail_checks", {}) or {})
    return subject, env_checks(cls)


def agent_check_list(agent: Any) -> tuple[AgentSubject, list[Callable[[Any], None]]]:
    """The agent subject and the checks that apply to it."""
    subject = agent_subject(agent)
    return subject, agent_checks(agent_class(agent))


def _generate(subject, checks) -> Iterator[tuple[Any, Callable[[Any], None]]]:
    for check in checks:
        yield subject, check


def _run_all(subject, checks) -> None:
    failures = []
    for check in checks:
        reason = subject.xfail_checks.get(check.__name__)
        if reason is not None:
            warnings.warn(f"{subject.name}: {check.__name__} skipped (xfail_checks: {reason})",
                          stacklevel=3)
            continue
        try:
            check(subject)
        except AssertionError as exc:
            failures.append(f"{check.__name__}: {exc}")
    if failures:
        raise AssertionError(f"{subject.name} failed {len(failures)} check(s):\n"
                             + "\n".join(failures))


def check_env(env: Any, *, generate_only: bool = False):
    """Run every env check on ``env`` (or yield them).

    Args:
        env: A registered id (shortened to a small horizon / few episodes), an
            ``(id, kwargs)`` pair, an ``EnvSpec``, an env instance (copied, not
            mutated) or a zero-argument factory.
        generate_only: Return a generator of ``(subject, check)`` pairs instead;
            call ``check(subject)`` to run one.

    Raises:
        AssertionError: Listing every failed check with its most likely cause.
    """
    subject, checks = env_check_list(env)
    if generate_only:
        return _generate(subject, checks)
    _run_all(subject, checks)
    return None


def check_agent(agent: Any, *, generate_only: bool = False):
    """Run every agent check on ``agent`` (or yield them).

    Args:
        agent: A registered id, an ``AgentSpec``, an :class:`~banditlab.core.Agent`
            instance (copied) or class. Checks run on the env named by the
            agent's ``check_env`` tag.
        generate_only: Return a generator of ``(subject, check)`` pairs instead.

    Raises:
        AssertionError: Listing every failed check with its most likely cause.
    """
    subject, checks = agent_check_list(agent)
    if generate_only:
        return _generate(subject, checks)
    _run_all(subject, checks)
    return None


def run_checks(id: str) -> list[tuple[str, str | None]]:
    """Run every check on a registered env id or agent id (for ``banditlab check ID``).

    Args:
        id: A registered env id (``"banditlab/Name-vN"``) or agent id (``"Name-vN"``).

    Returns:
        ``(check name, None)`` for each passing check, ``(check name, message)`` for
        each failing one (an unexpected exception is reported with its type), and
        ``(check name, "xfail: <reason>")`` for checks the object declares in
        ``xfail_checks`` (not run).

    Raises:
        BanditlabError: When ``id`` is neither a registered env nor agent (close
            matches suggested).
    """
    import gymnasium as gym

    from banditlab.registry import _suggest, agent_ids, agent_registry, env_ids

    envs = env_ids()
    if id in gym.registry:
        subject, checks = env_check_list(id)
    else:
        agents = agent_ids()
        if id not in agent_registry:
            raise BanditlabError(
                f"id: {id!r} is neither a registered env nor agent{_suggest(id, envs + agents)}"
            )
        subject, checks = agent_check_list(id)
    out: list[tuple[str, str | None]] = []
    for check in checks:
        reason = subject.xfail_checks.get(check.__name__)
        if reason is not None:
            out.append((check.__name__, XFAIL_PREFIX + str(reason)))
            continue
        try:
            check(subject)
            out.append((check.__name__, None))
        except AssertionError as exc:
            out.append((check.__name__, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a crash is a failure with its traceback tail
            tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            out.append((check.__name__, f"unexpected error: {tail}"))
    return out
