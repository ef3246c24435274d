"""Open a QC report in headless Chromium: every image must load; optionally a screenshot.

    python scripts/check_report.py REPORT.html [--screenshot OUT.png]

A copy of the report gets a script that, once the page has loaded, counts the images
whose pixels the browser could not decode and writes the count into the title; the DOM
Chromium dumps is then read back. Prints ``images N, broken M``; exit 1 if any broke
or the page did not load. Chromium comes from scripts/install_chromium.sh.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """<script>window.addEventListener('load', () => {
const imgs = [...document.images];
const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
document.title = `images ${imgs.length}, broken ${broken}`;});</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("no Chromium on PATH: run scripts/install_chromium.sh first.")


def _run(*args: str) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    proc = subprocess.run(
        [chromium(), *flags, *args], capture_output=True, text=True, timeout=180, check=False
    )
    return proc.stdout


def check(report: Path, screenshot: Path | None = None) -> tuple[int, int]:
    """(images, broken images) of the report as Chromium loaded it."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
        dom = _run("--virtual-time-budget=20000", "--dump-dom", probe.as_uri())
    found = re.search(r"<title>images (\d+), broken (\d+)</title>", dom)
    if not found:
        raise SystemExit(f"{report}: the page did not finish loading in Chromium.")
    if screenshot is not None:
        _run("--window-size=1400,2400", f"--screenshot={screenshot}", report.resolve().as_uri())
    return int(found[1]), int(found[2])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    images, broken = check(args.report, args.screenshot)
    print(f"images {images}, broken {broken}")
    sys.exit(1 if broken or not images else 0)
