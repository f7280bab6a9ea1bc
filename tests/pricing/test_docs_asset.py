"""The rendered zh_Hant_TW quote shown in the docs is what examples/pricing.py renders today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSET = ROOT / "docs" / "how-to" / "pricing-quote.zh_Hant_TW.html"


def test_the_docs_quote_document_is_current(tmp_path: Path) -> None:
    out = tmp_path / "quote.html"
    done = subprocess.run(
        [sys.executable, "-W", "error", str(ROOT / "examples" / "pricing.py"), "--html", str(out)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == ASSET.read_text(encoding="utf-8"), (
        "regenerate it: python examples/pricing.py --html docs/how-to/pricing-quote.zh_Hant_TW.html"
    )
    assert "總計（含稅）" in done.stdout  # noqa: RUF001 - the explanation in zh_Hant_TW
    assert "Total (tax included)" in done.stdout  # and in English
