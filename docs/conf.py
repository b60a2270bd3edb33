"""Sphinx configuration of the banditlab documentation site.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``docs/about-docs.md`` says why Sphinx and what each extension does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import banditlab  # noqa: E402

project = "banditlab"
author = "banditlab developers"
copyright = "banditlab developers"  # noqa: A001
release = version = banditlab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",  # MyST Markdown pages and Jupyter notebooks (brings myst_parser)
    "catalogue_page",  # docs/_ext: writes catalogue.md from the registries
]
# No intersphinx: the build needs no network.

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "jupyter_execute"]

html_theme = "furo"
html_title = "banditlab"
html_static_path = ["_static"]

# MyST
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 4  # README-style "#section" links resolve to headings

# API reference: one page per public module, generated from docstrings.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_class_signature = "separated"
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # NamedTuple fields are documented once, by autodoc

nitpicky = False


# Each object is documented once, on the page of the public module that defines it; a name a
# public module re-exports (in its ``__all__``) from another public module links there instead.
# Objects defined in a private module (``banditlab.checks._agents``) are documented on the page
# of the public package that exports them.
_CURRENT_MODULE = [""]


def _is_private_module(modname: str) -> bool:
    return any(part.startswith("_") for part in modname.split("."))


def _note_module(app, what, name, obj, options, lines) -> None:
    if what == "module":
        _CURRENT_MODULE[0] = name
    # Docstrings title their sections Markdown-style ("## Arguments"): render them as rubrics.
    out = []
    for line in lines:
        if line.startswith("## ") and line[3:].strip():
            out += [f".. rubric:: {line[3:].strip()}", ""]
        else:
            out.append(line)
    lines[:] = out


def _skip_foreign(app, what, name, obj, skip, options):
    home = getattr(obj, "__module__", None)
    current = _CURRENT_MODULE[0]
    if what != "module" or not isinstance(home, str) or not current:
        return None
    if home == current:
        return None
    if home.startswith("banditlab") and _is_private_module(home) and \
            home.startswith(current + "."):
        return None  # defined in a private sub-module, exported here
    return True  # imported from elsewhere: documented (or not) at its home


def setup(app):
    """Register the skip hook."""
    app.connect("autodoc-process-docstring", _note_module, priority=100)
    app.connect("autodoc-skip-member", _skip_foreign)

# Notebooks: executed at build time (configured below by the notebook section).
nb_execution_mode = "off"

# --- notebooks and reproductions (helper B) ---------------------------------------------
# The notebooks live in notebooks/ (committed without outputs). At every build they are copied
# into docs/notebooks/ (git-ignored) with a fresh mtime, so Sphinx re-reads them and myst-nb
# executes them with the code being documented, at the reduced size of BANDITLAB_SMOKE=1.
# The measured reports under benchmarks/measured/<study>/ become docs/_reproductions/<study>.md
# (git-ignored, regenerated at every build): the study's README, its figures, and its JSON
# records as tables and downloads.
import json as _json  # noqa: E402
import shutil as _shutil  # noqa: E402

_DOCS_DIR = DOCS
_REPO_DIR = _DOCS_DIR.parent

os.environ["BANDITLAB_SMOKE"] = "1"
# ipykernel selects the inline backend (figures as PNG outputs) only when MPLBACKEND is unset.
os.environ.pop("MPLBACKEND", None)


def _copy_notebooks() -> None:
    dest = _DOCS_DIR / "notebooks"
    _shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    for src in sorted((_REPO_DIR / "notebooks").glob("*.ipynb")):
        _shutil.copyfile(src, dest / src.name)


def _fmt(x: object) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def _records_tables(records: object) -> list[str]:
    """Tables for JSON records shaped {"grid": [...], "table": {algo: {"mean": [...], ...}}}."""
    recs = records if isinstance(records, list) else [records]
    out: list[str] = []
    for rec in recs:
        if not (isinstance(rec, dict) and isinstance(rec.get("table"), dict) and "grid" in rec):
            continue
        label = ", ".join(f"{k} = {rec[k]}" for k in ("n", "T", "seed") if k in rec)
        out.append(f"**{label}**" if label else "")
        out.append("")
        out.append("| algorithm | " + " | ".join(f"{_fmt(g)}" for g in rec["grid"]) + " |")
        out.append("|---" * (len(rec["grid"]) + 1) + "|")
        for algo, row in rec["table"].items():
            cells = []
            for i in range(len(rec["grid"])):
                mean = row.get("mean", [None] * (i + 1))[i]
                worst = row.get("worst", [None] * (i + 1))[i]
                cells.append(" / ".join(_fmt(v) for v in (mean, worst) if v is not None))
            out.append(f"| {algo} | " + " | ".join(cells) + " |")
        out.append("")
    if out:
        out.insert(0, "Columns: the class grid of the record; cells: mean loss / worst-case loss.")
        out.insert(1, "")
    return out


def _caption(readme: str, name: str) -> str:
    """The README's bullet describing ``name`` (``- `name` (...): text``), else the file name."""
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("- ", "* ")) and line[2:].startswith(f"`{name}`"):
            text = [line[2:].strip()]
            for more in lines[i + 1:]:
                if not more.startswith("  ") or not more.strip():
                    break
                text.append(more.strip())
            return " ".join(text)
    return f"`{name}`"


def _write_reproductions() -> None:
    dest = _DOCS_DIR / "_reproductions"
    _shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    for study in sorted((_REPO_DIR / "benchmarks" / "measured").iterdir()):
        readme = study / "README.md"
        if not readme.is_file():
            continue
        assets = dest / study.name
        assets.mkdir()
        lines = [readme.read_text(encoding="utf-8").rstrip(), ""]
        lines += [f"Source: `benchmarks/measured/{study.name}/`.", ""]
        pngs = sorted(study.glob("*.png"))
        if pngs:
            lines += ["## Figures", "", "Click a figure for its full size.", ""]
        for png in pngs:
            _shutil.copyfile(png, assets / png.name)
            # A scaled image links to its full-size file (html_scaled_image_link).
            lines += [f"```{{figure}} {study.name}/{png.name}", ":width: 100%", "",
                      _caption(lines[0], png.name), "```", ""]
        for data in sorted(study.glob("*.json")):
            _shutil.copyfile(data, assets / data.name)
            lines += [f"## `{data.name}`", "",
                      f"{{download}}`Download {data.name} <{study.name}/{data.name}>`", ""]
            lines += _records_tables(_json.loads(data.read_text(encoding="utf-8")))
        (dest / f"{study.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


_copy_notebooks()
_write_reproductions()

nb_execution_mode = os.environ.get("BANDITLAB_DOCS_NB_EXECUTION", "force")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# --- end notebooks and reproductions ----------------------------------------------------
