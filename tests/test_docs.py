"""The documentation site builds with warnings as errors and is complete.

One Sphinx build (``python -m sphinx -W --keep-going -b html docs <tmp>``, the documented
command) into a temporary directory, then: every public class and function of every public
module is in the API reference, every registered id in the catalogue, every family and
notebook has a page (the notebooks with figures), and every internal link of the built HTML
points at an existing file.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("sphinx", reason="the docs build needs the `docs` extra (sphinx, furo, "
                    "myst-nb); `pip install -e '.[test]'` installs it")
pytest.importorskip("furo", reason="the docs build needs the furo theme (`docs` extra)")
pytest.importorskip("myst_nb", reason="the docs build needs myst-nb (`docs` extra)")

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


@pytest.fixture(scope="module")
def built_html(tmp_path_factory) -> Path:
    """The HTML directory of one ``-W`` build of the site."""
    out = tmp_path_factory.mktemp("docs") / "html"
    doctrees = out.parent / "doctrees"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-d", str(doctrees),
         str(DOCS), str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return out


def _public_modules() -> list[str]:
    names = []
    for root in ("banditlab", "banditlab.envs", "banditlab.agents"):
        pkg = importlib.import_module(root)
        names.append(root)
        for info in pkgutil.walk_packages(pkg.__path__, root + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(set(names))


def _anchor(modname: str, name: str, obj) -> str:
    """The id under which the API reference documents ``modname.name``."""
    home = getattr(obj, "__module__", None)
    public_home = isinstance(home, str) and home.startswith("banditlab") and not any(
        p.startswith("_") for p in home.split("."))
    if public_home and isinstance(getattr(obj, "__qualname__", None), str):
        return f"{home}.{obj.__qualname__}"
    return f"{modname}.{name}"


def _ids(html_dir: Path) -> set[str]:
    ids: set[str] = set()
    for page in (html_dir / "api" / "generated").glob("*.html"):
        ids.update(re.findall(r'id="([^"]+)"', page.read_text()))
    return ids


def test_every_public_module_and_name_is_in_the_api_reference(built_html):
    generated = built_html / "api" / "generated"
    ids = _ids(built_html)
    missing_pages, missing = [], []
    for modname in _public_modules():
        if not (generated / f"{modname}.html").is_file():
            missing_pages.append(modname)
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", ()):
            if name.startswith("_"):
                continue  # __version__, private helpers listed for tests
            obj = getattr(mod, name)
            if isinstance(obj, types.GenericAlias) or not (isinstance(obj, type) or callable(obj)):
                continue  # constants and type aliases: documented where they carry a doc comment
            anchor = _anchor(modname, name, obj)
            if anchor not in ids and f"{modname}.{name}" not in ids:
                missing.append(anchor)
    assert not missing_pages, f"modules without an API page: {missing_pages}"
    assert not missing, f"public names missing from the API reference: {missing}"


def test_catalogue_page_lists_every_registered_id(built_html):
    from banditlab.registry import agent_ids, env_ids

    page = (built_html / "catalogue.html").read_text()
    ids = [i for i in env_ids() + agent_ids() if not i.startswith("testing/")]
    missing = [i for i in ids if f">{i}<" not in page]
    assert not missing, f"catalogue page misses {missing}"


def test_every_family_has_a_page(built_html):
    from banditlab.registry import known_families

    index = (built_html / "families" / "index.html").read_text()
    for family in known_families():
        assert (built_html / "families" / f"{family}.html").is_file(), f"no page for {family}"
        assert f"{family}.html" in index, f"families index does not link {family}"


def test_every_notebook_has_a_page_with_a_figure(built_html):
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        page = built_html / "notebooks" / f"{nb.stem}.html"
        assert page.is_file(), f"notebook {nb.name} has no page"
        pngs = re.findall(r'<img[^>]+src="([^"]+\.png)"', page.read_text())
        assert pngs, f"notebook page {page.name} shows no figure"
        for src in pngs:
            assert (page.parent / unquote(src)).resolve().is_file(), f"{page.name}: {src}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)


def test_no_broken_internal_links(built_html):
    broken = []
    for page in built_html.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text())
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(built_html)} -> {link}")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken))[:50])


def test_readme_shows_the_figure_and_how_to_build_the_docs():
    readme = (REPO / "README.md").read_text()
    head = readme.split("\n## ", 2)
    assert "docs/_static/quickstart_regret.png" in head[0] + head[1]
    assert (DOCS / "_static" / "quickstart_regret.png").is_file()
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in readme
    assert "docs/_build/html/index.html" in readme


def test_screenshots_in_headless_chromium(built_html, tmp_path):
    """Headless Chromium renders the home, a family, an API and a notebook page.

    Through ``docs/screenshots.py``: each PNG must have the window's size and not be blank.
    To look at them, run ``python docs/screenshots.py`` after a build (PNGs in
    ``docs/_build/screenshots``).
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_screenshots", DOCS / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    if screenshots.find_chromium() is None:
        message = "headless Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("BANDITLAB_REQUIRE_CHROMIUM"):  # set by .ci/run, which installs it
            pytest.fail(message)
        pytest.skip(message)
    shots = screenshots.shoot(built_html, tmp_path)
    assert set(shots) == {"home", "family", "api", "notebook"}
    assert all(png.stat().st_size > 10_000 for png in shots.values())
