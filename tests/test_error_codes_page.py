"""docs/reference/error-codes.md lists every CRMError subclass in crmkit, and only real ones.

The page is what API clients branch on, so it must not drift: a new error class without a row,
a row naming a code that does not exist, or a wrong class, builtin or HTTP status all fail here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit import errors
from crmkit.http import status_for

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference" / "error-codes.md"
_ROW = re.compile(r"^\| `(?P<code>[^`]+)` \| `(?P<cls>[^`]+)` \|(?P<rest>.*)\|\s*$")
_BUILTINS = {ValueError, LookupError, PermissionError, ImportError}


def _import_everything() -> None:
    """Import every crmkit module, so every CRMError subclass is defined."""
    importlib.import_module("crmkit.testing.strategies")  # its helpers import it first
    for info in pkgutil.walk_packages(crmkit.__path__, "crmkit."):
        try:
            importlib.import_module(info.name)
        except errors.MissingDependencyError:
            continue  # an optional extra (its errors live in crmkit.errors anyway)


def _subclasses(cls: type[errors.CRMError]) -> Iterator[type[errors.CRMError]]:
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("crmkit."):
            yield sub
            yield from _subclasses(sub)


def crmkit_errors() -> set[type[errors.CRMError]]:
    _import_everything()
    return {errors.CRMError, *_subclasses(errors.CRMError)}


def page_rows() -> dict[str, tuple[str, list[str]]]:
    """code -> (dotted class name, [also a, HTTP, raised when]) for every table row."""
    rows: dict[str, tuple[str, list[str]]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        found = _ROW.match(line)
        if found:
            assert found["code"] not in rows, f"{found['code']} has two rows"
            cells = [c.strip() for c in found["rest"].split("|")]
            rows[found["code"]] = (found["cls"], cells)
    return rows


def _dotted(cls: type) -> str:
    """The public name: the shortest crmkit package below the root that exports the class."""
    parts = cls.__module__.split(".")
    for end in range(2, len(parts) + 1):
        module = ".".join(parts[:end])
        if getattr(importlib.import_module(module), cls.__name__, None) is cls:
            return f"{module}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def test_every_error_class_has_a_row() -> None:
    rows = page_rows()
    missing = sorted(
        f"{cls.code} ({_dotted(cls)})" for cls in crmkit_errors() if cls.code not in rows
    )
    assert not missing, f"add a row to {PAGE.name} for: {', '.join(missing)}"


def test_every_row_names_an_existing_code_and_its_class() -> None:
    by_code = {cls.code: cls for cls in crmkit_errors()}
    for code, (dotted, _cells) in page_rows().items():
        assert code in by_code, f"{PAGE.name} names code {code!r}, which no CRMError has"
        assert _resolve(dotted) is by_code[code], (
            f"{PAGE.name}: code {code!r} belongs to {_dotted(by_code[code])}, not {dotted}"
        )


def test_codes_are_unique_across_classes() -> None:
    classes = crmkit_errors()
    assert len({cls.code for cls in classes}) == len(classes)


@pytest.mark.parametrize("code", sorted(page_rows()))
def test_builtin_and_http_status_are_right(code: str) -> None:
    dotted, (also, http, when) = page_rows()[code]
    cls = _resolve(dotted)
    assert isinstance(cls, type) and issubclass(cls, errors.CRMError)
    builtins = [b for b in cls.__mro__ if b in _BUILTINS]
    expected_also = f"`{builtins[0].__name__}`" if builtins else ""
    if cls is errors.CRMError:
        expected_also = "`Exception`"
    assert also == expected_also, f"{code}: 'Also a' should be {expected_also or 'empty'}"
    assert int(http) == status_for(cls("example")), f"{code}: crmkit.http maps it elsewhere"
    assert len(when) > 20, f"{code}: say when it is raised"
