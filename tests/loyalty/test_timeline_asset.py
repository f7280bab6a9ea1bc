"""The member timeline picture in the "Loyalty" how-to is what its script draws today."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "_ext" / "loyalty_timeline.py"
ASSET = ROOT / "docs" / "how-to" / "loyalty-timeline.svg"
SVG = "{http://www.w3.org/2000/svg}"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("loyalty_timeline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["loyalty_timeline"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["loyalty_timeline"]
    return module


def test_the_committed_picture_is_what_the_script_draws() -> None:
    script = load_script()
    assert script.render(script.scenario()) == ASSET.read_text(encoding="utf-8"), (
        "regenerate it: python docs/_ext/loyalty_timeline.py"
    )


def test_the_timeline_has_the_worked_examples_numbers() -> None:
    timeline = load_script().scenario()
    # The worked example's earns: 48, 62, 133 (Silver x1.5), 180, 100 and 40 (Gold x2); the
    # tea set's 200; the May lot's 133 - 90 = 43 left expire on 21 May 2027.
    assert [(e.at.date().isoformat(), e.points) for e in timeline.events] == [
        ("2026-01-10", 48),
        ("2026-03-03", 62),
        ("2026-05-20", 133),
        ("2026-07-08", 180),
        ("2026-08-01", -200),
        ("2026-10-01", 100),
        ("2026-12-24", 40),
        ("2027-05-21", -43),
    ]
    assert [(when.date().isoformat(), tier) for when, tier in timeline.tiers] == [
        ("2026-01-05", "member"),
        ("2026-03-03", "silver"),
        ("2026-07-08", "gold"),
    ]
    by_day = {day.isoformat(): (available, pending) for day, available, pending in timeline.days}
    # 31 Dec 2026: 223 + 100 available, the 24 Dec order's 40 still pending (worked example).
    assert by_day["2026-12-31"] == (323, 40)
    # 21 May 2027: 363 - 43 after the expiry.
    assert by_day["2027-05-21"] == (320, 0)


def test_the_picture_is_svg_with_the_tiers_and_the_events() -> None:
    root = ET.fromstring(ASSET.read_text(encoding="utf-8"))
    assert root.tag == f"{SVG}svg"
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for label in ("Silver from 3 Mar", "Gold from 8 Jul", "tea set -200", "expired -43"):
        assert label in words
    assert len(list(root.iter(f"{SVG}path"))) == 2
