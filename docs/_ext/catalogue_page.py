"""Sphinx extension: write ``catalogue.md`` from the registries before every build.

The page is generated from :func:`banditlab.catalogue.catalogue_markdown` (the same text as the
README's catalogue section) when the builder starts, so it can never be stale; the generated
file is git-ignored.
"""

from __future__ import annotations

from pathlib import Path

HEADER = """# Catalogue

Every registered environment and agent, grouped by family (generated from the registries at
build time by `banditlab.catalogue.catalogue_markdown()`; `banditlab list envs` and
`banditlab list agents` print the same). Agents that read the live oracle are registered under
`oracle/`.

"""


def catalogue_page() -> str:
    """The catalogue page: a title, then the catalogue with its headings one level up."""
    from banditlab.catalogue import catalogue_markdown

    lines = []
    for line in catalogue_markdown().splitlines():
        if line.startswith("#"):
            line = line[1:]  # "### Environments" -> "## Environments", families -> "###"
        lines.append(line)
    return HEADER + "\n".join(lines).rstrip("\n") + "\n"


def write_catalogue(app) -> None:
    """``builder-inited`` hook: (re)write ``<srcdir>/catalogue.md`` when its text changed."""
    path = Path(app.srcdir) / "catalogue.md"
    text = catalogue_page()
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    """Register the hook."""
    app.connect("builder-inited", write_catalogue)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
