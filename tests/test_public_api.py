"""Pins the public API: ``__all__`` of every public module, complete, sorted and documented.

A public module is one whose dotted name has no part starting with ``_``. For each:

* ``__all__`` exists, is sorted as ``sorted()`` sorts (case-sensitive) and has no duplicates;
* every name in ``__all__`` exists;
* every public name *defined* in the module or in one of its private submodules is in
  ``__all__`` (names imported from other modules, public crmkit ones included, may be
  re-exported or not, as httpx's test allows);
* every class and function in ``__all__`` has its own docstring with an ``Example`` section and a
  ``.. versionadded::`` line; for the other names (constants such as ``CUSTOMERS``, type aliases)
  the module docstring must carry them instead.
"""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
import types
import typing
from typing import Any

import pytest

import crmkit

#: The modules the brief names, including ones other people are writing right now
#: (``crmkit`` root, ``crmkit.app``, ``crmkit.adapters.memory``): they must exist.
EXPECTED_MODULES = [
    "crmkit",
    "crmkit.access",
    "crmkit.adapters.memory",
    "crmkit.app",
    "crmkit.app.tenants",
    "crmkit.customers",
    "crmkit.errors",
    "crmkit.kernel",
    "crmkit.ports",
    "crmkit.serialization",
    "crmkit.testing.strategies",
]

#: Entry points, not APIs.
NOT_API = {"crmkit.__main__"}


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def _discovered_modules() -> list[str]:
    found = {"crmkit"}
    for info in pkgutil.walk_packages(crmkit.__path__, "crmkit.", onerror=lambda _name: None):
        if not _is_private(info.name) and info.name not in NOT_API:
            found.add(info.name)
    return sorted(found)


PUBLIC_MODULES = sorted(set(EXPECTED_MODULES) | set(_discovered_modules()))


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _defined_here(module: types.ModuleType, obj: Any) -> bool:
    """Whether a class or function was defined in ``module`` or a private submodule of it."""
    where = getattr(obj, "__module__", None)
    if not isinstance(where, str):
        return False
    if where == module.__name__:
        return True
    prefix = module.__name__ + "."
    return where.startswith(prefix) and _is_private(where[len(prefix) :])


def _is_documented_kind(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isroutine(obj)


def _own_doc(obj: Any) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return doc or ""


def _has_example_and_version(doc: str) -> bool:
    return "Example" in doc and ".. versionadded::" in doc


def test_the_expected_modules_are_public_modules() -> None:
    for name in EXPECTED_MODULES:
        assert not _is_private(name)
        assert name in PUBLIC_MODULES


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_module_imports_and_has_a_documented_all(name: str) -> None:
    module = _module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, (list, tuple)), f"{name} has no __all__"
    assert all(isinstance(n, str) for n in exported)
    doc = module.__doc__ or ""
    assert _has_example_and_version(doc), f"{name}: module docstring needs Example + versionadded"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = list(getattr(_module(name), "__all__", []))
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(exported) == len(set(exported)), f"{name}.__all__ has duplicates"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_name_in_all_exists(name: str) -> None:
    module = _module(name)
    missing = [n for n in getattr(module, "__all__", []) if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def _skipped_constant(obj: Any) -> bool:
    # Explicitly not API even with a public name: modules, type variables, typing constructs
    # (aliases such as ``Union[...]``), ``from __future__`` features and ``TYPE_CHECKING``.
    return (
        isinstance(obj, (types.ModuleType, typing.TypeVar, __future__._Feature))
        or type(obj).__module__ == "typing"
        or isinstance(obj, bool)
    )


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_defined_in_the_module_is_exported(name: str) -> None:
    module = _module(name)
    exported = set(getattr(module, "__all__", []))
    unexported = []
    for attr, obj in vars(module).items():
        if attr.startswith("_") or attr in exported or _skipped_constant(obj):
            continue
        if _is_documented_kind(obj):
            if _defined_here(module, obj):
                unexported.append(attr)
        elif type(obj).__module__.startswith("crmkit") and not _reexported(attr, obj, name):
            unexported.append(attr)  # a crmkit object (a RecordType constant) made here
    assert not unexported, f"{name}: public names missing from __all__: {sorted(unexported)}"


def _reexported(attr: str, obj: Any, here: str) -> bool:
    """Whether another public module exports the same object under the same name."""
    for other in PUBLIC_MODULES:
        if other == here:
            continue
        module = _module(other)
        if attr in getattr(module, "__all__", ()) and getattr(module, attr, None) is obj:
            return True
    return False


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_exported_name_is_documented_with_an_example_and_version(name: str) -> None:
    module = _module(name)
    undocumented = []
    for attr in getattr(module, "__all__", []):
        obj = getattr(module, attr, None)
        if obj is None:
            continue  # reported by test_every_name_in_all_exists
        if _is_documented_kind(obj):
            if not _has_example_and_version(_own_doc(obj)):
                undocumented.append(attr)
        elif not _has_example_and_version(module.__doc__ or ""):
            undocumented.append(f"{attr} (a constant: the module docstring documents it)")
    assert not undocumented, (
        f"{name}: docstrings need an Example section and '.. versionadded::': {undocumented}"
    )


def test_the_version_is_exported() -> None:
    assert isinstance(getattr(crmkit, "__version__", None), str)
