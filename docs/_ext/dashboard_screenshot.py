"""Make the dashboard screenshots of docs/how-to/analytics.md from ``crmkit demo``'s story.

    .venv/bin/python docs/_ext/dashboard_screenshot.py

Tells the demo story (English) into a temporary folder, opens the dashboard page it writes in
headless Chromium (Debian's /usr/bin/chromium, or CRMKIT_CHROMIUM, through playwright, as
tests/analytics/test_dashboard_browser.py does), and saves full-page screenshots at desktop
(1280 px) and phone (390 px) widths as docs/how-to/dashboard.png and dashboard-phone.png.
Needs the test and report extras: pip install -e '.[test,report]'.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

from crmkit._demo_story import tell

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "how-to"
CHROMIUM = os.environ.get("CRMKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> int:
    """Write both screenshots; 0 on success."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "dashboard.html"
        tell(Path(folder) / "demo.db", kept=True, locale="en", out=io.StringIO(), html=page_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                for width, name in ((1280, "dashboard.png"), (390, "dashboard-phone.png")):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(page_path.as_uri(), wait_until="load")
                    page.screenshot(path=str(OUT / name), full_page=True)
                    page.close()
                    print(f"wrote {OUT / name}")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
