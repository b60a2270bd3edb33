"""Render pages of the built documentation site to PNG screenshots with headless Chromium.

Build the site first, then::

    python docs/screenshots.py                      # docs/_build/html -> docs/_build/screenshots
    python docs/screenshots.py --html DIR --out DIR

It shoots four pages: the home page, one family page, one API reference page and one executed
notebook page (``--page NAME=relative/path.html`` replaces the selection), and checks that each
PNG has the requested size and is not blank. The window is 1280x1600 CSS pixels, except for the
notebook page: 1280x2200, so that the shot reaches the page's first figure (headless Chromium
captures the top of the page only; it does not scroll to a ``#fragment``). Chromium is the
Debian package (``apt-get install chromium``); the browser runs without network (``file://``
URLs, background networking off).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
WINDOW = (1280, 1600)
NOTEBOOK_WINDOW = (1280, 2200)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def default_pages(html_dir: Path) -> dict[str, Path]:
    """The four pages to shoot: home, one family page, one API page, one notebook page.

    The family and notebook pages are the LSD family's: its notebook shows a figure early.
    """
    api = sorted(html_dir.rglob("banditlab.core.html"))
    if not api:
        raise FileNotFoundError(f"no API page banditlab.core.html under {html_dir}")
    return {
        "home": html_dir / "index.html",
        "family": html_dir / "families" / "lsd.html",
        "api": api[0],
        "notebook": html_dir / "notebooks" / "lsd.html",
    }


def screenshot(browser: str, page: Path, out: Path, window: tuple[int, int] = WINDOW,
               timeout: float = 120.0) -> Path:
    """Render ``page`` (a local HTML file) to ``out`` (PNG) with headless Chromium."""
    if not page.is_file():
        raise FileNotFoundError(page)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="banditlab-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", f"--screenshot={out}",
               f"--window-size={window[0]},{window[1]}", page.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot for {page} (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-2000:]}")
    return out


def check_png(path: Path, window: tuple[int, int] = WINDOW) -> None:
    """Raise if the PNG does not have the window's size or is a single colour (blank page)."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    height, width = img.shape[:2]
    if (width, height) != window:
        raise ValueError(f"{path}: {width}x{height}, expected {window[0]}x{window[1]}")
    if float(img[..., :3].std()) < 0.02:
        raise ValueError(f"{path}: the page looks blank")


def shoot(html_dir: Path, out_dir: Path, pages: dict[str, Path] | None = None,
          browser: str | None = None) -> dict[str, Path]:
    """Screenshot ``pages`` (default: :func:`default_pages`) into ``out_dir/<name>.png``."""
    browser = browser or find_chromium()
    if browser is None:
        raise RuntimeError("no Chromium on PATH (Debian: apt-get install chromium)")
    pages = pages if pages is not None else default_pages(html_dir)
    shots = {}
    for name, page in pages.items():
        window = NOTEBOOK_WINDOW if name == "notebook" else WINDOW
        png = screenshot(browser, page, out_dir / f"{name}.png", window)
        check_png(png, window)
        shots[name] = png
    return shots


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html",
                        help="built HTML directory (default: docs/_build/html)")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "screenshots",
                        help="where the PNGs go (default: docs/_build/screenshots)")
    parser.add_argument("--page", action="append", default=[], metavar="NAME=PATH",
                        help="page to shoot, relative to --html (repeatable)")
    args = parser.parse_args(argv)
    pages = None
    if args.page:
        pages = {}
        for item in args.page:
            name, _, rel = item.partition("=")
            pages[name] = args.html / rel
    for name, png in shoot(args.html, args.out, pages).items():
        print(f"{name}: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
