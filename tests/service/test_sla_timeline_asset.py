"""The SLA timeline picture in the "Complaints and SLAs" how-to is what its script draws today."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "_ext" / "sla_timeline.py"
ASSET = ROOT / "docs" / "how-to" / "sla-timeline.svg"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sla_timeline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sla_timeline"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["sla_timeline"]
    return module


def test_the_committed_picture_is_what_the_script_draws() -> None:
    script = load_script()
    assert script.render(script.scenario()) == ASSET.read_text(encoding="utf-8"), (
        "regenerate it: python docs/_ext/sla_timeline.py"
    )


def test_the_picture_is_svg_and_shows_the_hand_checked_deadlines() -> None:
    svg = ASSET.read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    words = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    # first response, 4 business hours from Thu 2 Apr 16:30: Thu 1.5 h, Fri 3 and Mon 6 are
    # holidays, Tue 7 from 09:00: 2.5 h -> 11:30; the first reply on Tue at 10:00 met it
    assert "deadline Tue 11:30 (met)" in words
    # resolution, 18 business hours: 2.5 h before the pause (Tue 10:00 to Wed 14:00, 13 h held
    # back), then Wed 14-18 (4 h, 6.5 in all), Thu (9 h, 15.5), Fri from 09:00 (2.5 h) -> 11:30
    assert "paused: 13 business hours" in words
    assert "deadline Fri 11:30 (warning)" in words
