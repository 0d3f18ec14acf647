"""Render the HTML report of the shop fixture and screenshot it in headless Chromium.

    python -m benchmarks.render_html [--out DIR]

Scans a copy of fixtures/shop, writes `report.html` and `report.png` into
`--out` (default benchmarks/out/html), and prints their paths. Needs Debian's
`chromium` (`apt-get install -y chromium`); exits 2 with that hint without it.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.config import Settings
from engine.html import render_html
from engine.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "html"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(browser: str, page: Path, png: Path, size: str = "1400,1000") -> None:
    """Open `page` in a fresh headless profile (no network, no sync) and save a PNG."""
    with tempfile.TemporaryDirectory(prefix="codebot-chromium-") as profile:
        subprocess.run([
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
            f"--screenshot={png}", f"--window-size={size}", page.as_uri(),
        ], check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    browser = find_browser()
    if browser is None:
        print("render_html: no chromium found; apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="codebot-shop-") as work:
        tree = Path(work) / "shop"
        shutil.copytree(FIXTURES / "shop", tree)
        result = scan([tree], Settings(jobs=1), Path(work) / "index.db")
        page = args.out / "report.html"
        page.write_text(render_html(result), encoding="utf-8")
    png = args.out / "report.png"
    screenshot(browser, page.absolute(), png.absolute())
    print(f"{page}\n{png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
