"""Every ```python block in README.md and docs/ runs, so the docs cannot drift from the code.

Blocks of one file run in order in one namespace: a later block may use names an earlier one
defined. A block whose first line starts with ``>>>`` is a doctest (its output is checked with
ELLIPSIS and NORMALIZE_WHITESPACE); any other block is executed as a script and states what it
shows with ``assert``. A block fenced as ```python notest is shown but not run; keep those rare.
Each file runs in a fresh temporary working directory, so a page may create files (an SQLite
database) without touching the repository.
"""

from __future__ import annotations

import doctest
import re
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


class Block(NamedTuple):
    """One fenced code block: the line its code starts on, its info string and its code."""

    lineno: int
    info: str
    code: str


def code_blocks(text: str) -> list[Block]:
    """Return every fenced code block of a Markdown text, dedented by the fence's indent."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        indent, fence, info = opened["indent"], opened["fence"], opened["info"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise AssertionError(f"line {i + 1}: code block opened with {fence} is never closed")
        blocks.append(Block(i + 2, info, textwrap.dedent("\n".join(body)) + "\n"))
        i = j + 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    """The blocks of ``path`` whose info string says ``python`` (``notest`` ones included)."""
    found = []
    for block in code_blocks(path.read_text(encoding="utf-8")):
        words = block.info.replace("{", " ").replace("}", " ").replace(".", " ").split()
        if words and words[0] in ("python", "py", "pycon"):
            found.append(block)
    return found


def documented_files() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _is_notest(block: Block) -> bool:
    return "notest" in block.info.split()


FILES_WITH_CODE = [p for p in documented_files() if python_blocks(p)]


def _run_doctest(block: Block, path: Path, namespace: dict[str, Any]) -> None:
    name = f"{path.relative_to(ROOT)}:{block.lineno}"
    test = doctest.DocTestParser().get_doctest(
        block.code, namespace, name, str(path), block.lineno - 1
    )
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # a DocTest runs in a copy of the globals it was given
    if runner.failures:
        pytest.fail("".join(report), pytrace=False)


def _run_script(block: Block, path: Path, namespace: dict[str, Any]) -> None:
    # Pad with blank lines so a traceback's line numbers are the Markdown file's own.
    source = "\n" * (block.lineno - 1) + block.code
    exec(compile(source, str(path), "exec"), namespace)  # the docs' own code


@pytest.mark.parametrize(
    "path", FILES_WITH_CODE, ids=[str(p.relative_to(ROOT)) for p in FILES_WITH_CODE]
)
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in python_blocks(path):
        if _is_notest(block):
            continue
        if block.code.lstrip().startswith(">>>"):
            _run_doctest(block, path, namespace)
        else:
            _run_script(block, path, namespace)


def test_readme_and_getting_started_have_runnable_code() -> None:
    # The README example is the first thing a reader runs; it must never be skipped.
    for name in ("README.md", "docs/getting-started.md"):
        blocks = python_blocks(ROOT / name)
        assert blocks, f"{name} has no python code block"
        assert not any(_is_notest(b) for b in blocks), f"{name} skips a block with notest"


def test_notest_blocks_are_rare() -> None:
    skipped = [
        f"{p.relative_to(ROOT)}:{b.lineno}"
        for p in documented_files()
        for b in python_blocks(p)
        if _is_notest(b)
    ]
    assert len(skipped) <= 3, f"too many untested code blocks: {skipped}"


def test_the_parser_keeps_order_indentation_and_info() -> None:
    text = textwrap.dedent(
        """\
        Intro.

        ```python
        x = 1
        ```

        !!! note
            ```python notest
            y = x + 1
            ```

        ````markdown
        ```python
        not a block of its own
        ```
        ````
        """
    )
    blocks = code_blocks(text)
    assert [(b.lineno, b.info, b.code) for b in blocks] == [
        (4, "python", "x = 1\n"),
        (9, "python notest", "y = x + 1\n"),
        (13, "markdown", "```python\nnot a block of its own\n```\n"),
    ]
