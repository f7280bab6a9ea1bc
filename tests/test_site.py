"""The built docs site works in a real browser, offline.

``mkdocs build --strict`` builds the site into a temporary folder, a local HTTP server serves it,
and headless Chromium (Debian's ``/usr/bin/chromium``, driven by playwright; playwright's own
browser download is never used) opens the home page, a how-to page and the zh-Hant home page.
Each must show its title with no console error, no uncaught page error and no request to another
origin (the site is self-contained: no web fonts, no CDN). A screenshot of each page is saved in
the test's own ``tmp_path``; the test prints where.

Locally, a missing browser, playwright or mkdocs skips these tests with the reason and the
command that installs it; with ``CI=true`` it fails them (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CRMKIT_CHROMIUM", "/usr/bin/chromium"))
# Flags that let Chromium run headless as root in a container, with nothing fetched in the
# background (updates, sync, field trials) that could log an error unrelated to the site.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the browser check must run)", pytrace=False)
    pytest.skip(reason)


def _require_tools() -> None:
    for module, extra in (("mkdocs", "docs"), ("material", "docs"), ("playwright", "test")):
        if importlib.util.find_spec(module) is None:
            _missing(f"{module} is not installed: pip install -e '.[{extra}]'")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(
            f"no Chromium at {CHROMIUM}: apt-get install -y chromium "
            "(or set CRMKIT_CHROMIUM to a Chromium binary)"
        )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output for what went wrong


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the site with ``mkdocs build --strict`` and serve it on 127.0.0.1 (a free port)."""
    _require_tools()
    site = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if built.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built.stderr[-4000:]}", pytrace=False)
    handler = functools.partial(_QuietHandler, directory=str(site))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture(scope="module")
def browser(site_url: str) -> Iterator[Any]:
    """One headless Chromium for the module (launching it takes about a second)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Visit(NamedTuple):
    """What happened while a page loaded."""

    page: Any
    problems: list[str]


@pytest.fixture
def visit(browser: Any, site_url: str) -> Iterator[Any]:
    """``visit(path)`` opens ``site_url + path`` in a fresh page and records what went wrong.

    A problem is a console message of type error, an uncaught page error, a request that failed,
    or any request to another origin (aborted, so the test never waits on the network).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def open_page(path: str) -> Visit:
        page = context.new_page()
        problems: list[str] = []

        def local_only(route: Any) -> None:
            url = route.request.url
            if url.startswith(site_url + "/") or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                problems.append(f"request to another origin: {url}")
                route.abort()

        def console(message: Any) -> None:
            if message.type == "error":
                problems.append(f"console error: {message.text} at {message.location}")

        page.route("**/*", local_only)
        page.on("console", console)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "requestfailed",
            lambda req: problems.append(f"request failed: {req.url} ({req.failure})"),
        )
        page.goto(site_url + path, wait_until="networkidle")
        return Visit(page, problems)

    try:
        yield open_page
    finally:
        context.close()


def _title(page: Any) -> str:
    """The page's H1 as a reader sees it, without the permalink sign the toc extension adds."""
    heading = page.locator("article h1").first
    assert heading.is_visible()
    return str(heading.inner_text()).removesuffix("¶").strip()


PAGES = [
    pytest.param("/", "crmkit", id="home"),
    pytest.param("/how-to/pricing/", "Pricing and quotes", id="how-to-pricing"),
    pytest.param("/zh-Hant/", "crmkit", id="zh-Hant-home"),
]


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_page_shows_its_title_without_errors(
    visit: Any, path: str, title: str, tmp_path: Path
) -> None:
    page, problems = visit(path)
    assert _title(page) == title
    # The page's first code example is rendered and highlighted.
    assert page.locator("article .highlight").first.is_visible()
    shot = tmp_path / f"{path.strip('/').replace('/', '-') or 'home'}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot of {path}: {shot}")
    assert shot.stat().st_size > 0
    assert not problems, "\n".join(problems)


def test_language_links_lead_to_the_translation_and_back(visit: Any) -> None:
    page, problems = visit("/getting-started/")
    page.locator("article").get_by_role("link", name="中文 (台灣)", exact=True).first.click()
    page.wait_for_url("**/zh-Hant/getting-started/", wait_until="networkidle")
    assert _title(page) == "快速入門"
    # Marked as Traditional Chinese, so the browser picks Taiwanese glyphs and fonts.
    assert page.locator('article [lang="zh-Hant-TW"] h1').count() == 1
    page.locator("article").get_by_role("link", name="English", exact=True).first.click()
    page.wait_for_url(lambda url: url.endswith("/getting-started/") and "/zh-Hant/" not in url)
    assert _title(page) == "Getting started"
    assert not problems, "\n".join(problems)
