"""The catalogue of registered environments and agents (README section, ``banditlab list``)."""

from __future__ import annotations

import inspect

__all__ = ["env_rows", "agent_rows", "catalogue_markdown"]


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def env_rows() -> list[tuple[str, str, str]]:
    """``(id, entry point, one-line description)`` for every registered banditlab env."""
    from banditlab.registry import env_ids, env_spec, load_entry_point

    rows = []
    for eid in env_ids():
        entry = env_spec(eid).entry_point
        cls = load_entry_point(entry) if isinstance(entry, str) else entry
        rows.append((eid, entry if isinstance(entry, str) else repr(entry), _summary(cls)))
    return rows


def agent_rows(include_testing: bool = False) -> list[tuple[str, str, str]]:
    """``(id, entry point, one-line description)`` for every registered agent."""
    from banditlab.registry import agent_ids, agent_spec, load_entry_point

    rows = []
    for aid in agent_ids():
        if aid.startswith("testing/") and not include_testing:
            continue
        spec = agent_spec(aid)
        rows.append((aid, spec.entry_point, _summary(load_entry_point(spec.entry_point))))
    return rows


def catalogue_markdown() -> str:
    """Markdown tables of every env and agent id, as printed in the README."""
    lines = ["### Environments", "", "| id | description |", "|---|---|"]
    lines += [f"| `{i}` | {d} |" for i, _, d in env_rows()]
    lines += ["", "### Agents", "", "| id | description |", "|---|---|"]
    lines += [f"| `{i}` | {d} |" for i, _, d in agent_rows()]
    return "\n".join(lines) + "\n"
