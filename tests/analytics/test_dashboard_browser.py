"""The HTML dashboard in a real browser: headless Chromium at desktop and phone widths.

``crmkit demo``'s story writes its dashboard page; Debian's ``/usr/bin/chromium``, driven by
playwright exactly as ``tests/test_site.py`` does (its browser path, flags and skip rules are
reused), opens it from a file at 1280 and 390 pixels wide. Every chart must have rendered: its
inline SVG visible, of nonzero size, with drawn paths; the page must fit the phone's width, log
no console error and request nothing (it is self-contained). A full-page screenshot of each is
saved in the test's ``tmp_path``; the test prints where.

Locally, a missing browser, playwright or matplotlib skips with the command that installs it;
with ``CI=true`` it fails instead (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import importlib.util
import io
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from crmkit._demo_story import tell


def _site_helpers() -> ModuleType:
    """tests/test_site.py, for its Chromium path, flags and skip-or-fail rule."""
    path = Path(__file__).resolve().parent.parent / "test_site.py"
    spec = importlib.util.spec_from_file_location("_crmkit_test_site_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SITE = _site_helpers()
CHARTS = ["revenue", "stages", "reps", "complaints", "tiers0", "points0", "segments"]
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]


def _require_tools() -> None:
    for module, extra in (("playwright", "test"), ("matplotlib", "report")):
        if importlib.util.find_spec(module) is None:
            SITE._missing(f"{module} is not installed: pip install -e '.[{extra}]'")
    chromium = SITE.CHROMIUM
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        SITE._missing(
            f"no Chromium at {chromium}: apt-get install -y chromium "
            "(or set CRMKIT_CHROMIUM to a Chromium binary)"
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(SITE.CHROMIUM), headless=True, args=SITE.CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module", params=["en", "zh_Hant_TW"])
def dashboard_page(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The page ``crmkit demo --locale ...`` writes."""
    _require_tools()
    folder = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    page = folder / "dashboard.html"
    tell(folder / "demo.db", kept=True, locale=request.param, out=io.StringIO(), html=page)
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_renders_its_charts_without_errors(
    browser: Any, dashboard_page: Path, width: int, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        problems: list[str] = []

        def offline(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file://", "data:")):
                route.continue_()
            else:
                problems.append(f"request to {url}")
                route.abort()

        def console(message: Any) -> None:
            if message.type == "error":
                problems.append(f"console error: {message.text}")

        page.route("**/*", offline)
        page.on("console", console)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.goto(dashboard_page.as_uri(), wait_until="load")

        assert page.locator("header h1").is_visible()
        names = page.locator("figure.chart").evaluate_all(
            "figures => figures.map(f => f.dataset.chart)"
        )
        assert names == CHARTS
        for name in CHARTS:
            svg = page.locator(f'figure[data-chart="{name}"] svg')
            svg.scroll_into_view_if_needed()
            assert svg.is_visible(), name
            box = svg.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, name
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (name, box)
            drawn = svg.evaluate(
                """svg => {
                    const paths = [...svg.querySelectorAll('path')]
                        .filter(p => (p.getAttribute('d') || '').trim().length > 0);
                    const area = paths.reduce((sum, p) => {
                        const b = p.getBBox();
                        return sum + b.width * b.height;
                    }, 0);
                    return {paths: paths.length, area: area,
                            texts: svg.querySelectorAll('text').length};
                }"""
            )
            assert drawn["paths"] > 0 and drawn["area"] > 0, (name, drawn)
            assert drawn["texts"] > 0, (name, drawn)
        # Nothing wider than the screen: a phone scrolls down, never sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"page is {overflow}px wide on a {width}px screen"

        locale = dashboard_page.parent.name.split("-", 1)[1].rstrip("0123456789")
        shot = tmp_path / f"dashboard-{locale}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot at {width}px: {shot}")
        assert shot.stat().st_size > 0
        assert not problems, "\n".join(problems)
    finally:
        context.close()
