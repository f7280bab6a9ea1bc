"""Every script in examples/ runs to completion, and the README shows the quickstart verbatim."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert ROOT / "examples" / "quickstart.py" in EXAMPLES


def run_example(script: Path, cwd: Path) -> str:
    """Run ``script`` as a user would (in ``cwd``, warnings as errors); return its stdout."""
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"{script.name} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n"
        f"{done.stderr}"
    )
    return done.stdout


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    assert run_example(script, tmp_path).strip(), f"{script.name} printed nothing"


def _readme_block(info: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(rf"^```{info}\n(.*?)^```$", readme, flags=re.MULTILINE | re.DOTALL)
    assert first is not None, f"README.md has no ```{info} block"
    return first.group(1)


def test_readme_example_is_the_quickstart_script() -> None:
    script = (ROOT / "examples" / "quickstart.py").read_text(encoding="utf-8")
    assert _readme_block("python") == script, (
        "README.md's first example and examples/quickstart.py differ; keep them identical"
    )


def test_readme_shows_what_the_quickstart_prints(tmp_path: Path) -> None:
    printed = run_example(ROOT / "examples" / "quickstart.py", tmp_path)
    assert printed == _readme_block("text"), "update the output shown in README.md"
