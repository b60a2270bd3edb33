"""The catalogue of registered environments and agents, grouped by family.

Serves the README's catalogue section and ``banditlab list``. An env's family is
its class attribute ``family``; an agent's is its *home* family, the first entry of
its ``families`` tag. Families appear in declaration order
(:func:`banditlab.registry.known_families`) with their titles from
:data:`banditlab.registry.family_registry`; ids without a declared family (a broken
plugin) are listed last under :data:`UNDECLARED` rather than dropped.

Regenerate the README section with ``python -m banditlab.catalogue README.md``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

__all__ = [
    "UNDECLARED",
    "env_rows",
    "agent_rows",
    "rows_by_family",
    "family_title",
    "catalogue_markdown",
    "catalogue_text",
    "update_readme",
]

#: Group of ids whose class declares no known family.
UNDECLARED = "(no declared family)"

#: Heading that starts the catalogue section of the README (it runs to the end of the file).
README_HEADING = "## Catalogue"
#: First line of the generated part of that section (everything before it is kept).
README_START = "### Environments"


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def _env_family(env_id: str) -> str:
    from banditlab.checks._common import entry_env_class

    try:  # a factory entry point is resolved to the class of the env it builds
        cls = entry_env_class(env_id, build=True)
    except Exception:  # noqa: BLE001 - a broken registration is listed, not hidden
        return UNDECLARED
    family = getattr(cls, "family", None)
    return family if isinstance(family, str) else UNDECLARED


def _agent_family(cls) -> str:
    tags = cls.get_tags() if hasattr(cls, "get_tags") else {}
    families = tags.get("families") or ()
    return families[0] if isinstance(families, tuple) and families else UNDECLARED


def env_rows() -> list[tuple[str, str, str, str]]:
    """``(id, entry point, one-line description, family)`` for every registered env, by id.

    An id registered with a factory function is built once to read its class's family
    (unless the factory's return annotation names the class).
    """
    from banditlab.registry import env_ids, env_spec, load_entry_point

    rows = []
    for eid in env_ids():
        entry = env_spec(eid).entry_point
        cls = load_entry_point(entry) if isinstance(entry, str) else entry
        rows.append((eid, entry if isinstance(entry, str) else repr(entry), _summary(cls),
                     _env_family(eid)))
    return rows


def agent_rows(include_testing: bool = False) -> list[tuple[str, str, str, str]]:
    """``(id, entry point, one-line description, home family)`` for every registered agent."""
    from banditlab.registry import agent_ids, agent_spec, load_entry_point

    rows = []
    for aid in agent_ids():
        if aid.startswith("testing/") and not include_testing:
            continue
        spec = agent_spec(aid)
        cls = load_entry_point(spec.entry_point)
        rows.append((aid, spec.entry_point, _summary(cls), _agent_family(cls)))
    return rows


def rows_by_family(rows: list[tuple[str, str, str, str]]) -> dict[str, list[tuple]]:
    """Rows grouped by their family (last field), families in declaration order.

    Families without rows are left out; :data:`UNDECLARED` comes last.
    """
    from banditlab.registry import known_families

    order = [*known_families(), UNDECLARED]
    groups: dict[str, list[tuple]] = {}
    for family in order + sorted({r[3] for r in rows} - set(order)):
        members = [r for r in rows if r[3] == family]
        if members:
            groups[family] = members
    return groups


def family_title(family: str) -> str:
    """The declared title of ``family`` (the name itself if it has none)."""
    from banditlab.registry import family_registry

    spec = family_registry.get(family)
    return spec.title if spec is not None else family


def _markdown_tables(rows) -> list[str]:
    lines: list[str] = []
    for family, members in rows_by_family(rows).items():
        heading = (f"#### {family_title(family)} (`{family}`)" if family != UNDECLARED
                   else f"#### {UNDECLARED}")
        lines += [heading, "", "| id | description |", "|---|---|"]
        lines += [f"| `{i}` | {d} |" for i, _, d, _ in members]
        lines.append("")
    return lines


def catalogue_markdown() -> str:
    """Markdown tables of every env and agent id, grouped by family, as in the README."""
    lines = [README_START, ""] + _markdown_tables(env_rows())
    lines += ["### Agents", ""] + _markdown_tables(agent_rows())
    return "\n".join(lines).rstrip("\n") + "\n"


def catalogue_text(what: str, long: bool = False, include_testing: bool = True) -> str:
    """Plain-text listing for ``banditlab list envs|agents``: ids indented under families.

    Args:
        what: ``"envs"`` or ``"agents"``.
        long: Add each id's one-line description.
        include_testing: List the ``testing/`` (fault-injection) agents too.
    """
    rows = env_rows() if what == "envs" else agent_rows(include_testing=include_testing)
    lines = []
    for family, members in rows_by_family(rows).items():
        title = family_title(family) if family != UNDECLARED else ""
        lines.append(f"{family}" + (f"  ({title})" if title and title != family else ""))
        for i, _, desc, _ in members:
            lines.append(f"  {i:40s} {desc}".rstrip() if long else f"  {i}")
    return "\n".join(lines) + "\n"


def update_readme(path: str | Path) -> bool:
    """Rewrite the generated part of a README's catalogue section; ``True`` if it changed.

    The section starts at :data:`README_HEADING`; its text up to :data:`README_START` is
    kept, everything from there to the end of the file is replaced by
    :func:`catalogue_markdown`.
    """
    path = Path(path)
    text = path.read_text()
    head, sep, section = text.partition(README_HEADING)
    if not sep or README_START not in section:
        raise ValueError(f"{path}: no {README_HEADING!r} section with {README_START!r}")
    intro = section.split(README_START, 1)[0]
    new = head + sep + intro + catalogue_markdown()
    if new != text:
        path.write_text(new)
    return new != text


if __name__ == "__main__":  # pragma: no cover - python -m banditlab.catalogue README.md
    changed = update_readme(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("updated" if changed else "unchanged")
