"""A griffe extension that renders crmkit's docstring conventions for the API reference.

crmkit's docstrings are written for ``help()`` and doctest first:

* an ``Example:`` section of doctests (Google style; griffe reads only the plural ``Examples:``
  as code, so the singular one would be rendered as Markdown and ``>>>`` become block quotes);
* a closing ``.. versionadded:: X`` line (Sphinx style), shown here as "Added in version X";
* Sphinx roles such as ``:class:`FieldError``` and ``:func:`~crmkit.kernel.money.Money```,
  shown here as plain code.

The rewrite happens only for the docs build; the source keeps its text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
_VERSIONADDED = re.compile(r"^\.\. versionadded::[ \t]*(\S+)[ \t]*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def rewrite(text: str) -> str:
    """Return ``text`` with crmkit's docstring conventions turned into what griffe renders well."""
    text = _EXAMPLE.sub(r"\1Examples:", text)
    text = _VERSIONADDED.sub(r"*Added in version \1.*", text)
    return _ROLE.sub(_role, text)


def _rewrite_docstring(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = rewrite(obj.docstring.value)


class CrmkitDocstrings(griffe.Extension):
    """Rewrite docstrings as griffe loads them (the rewrite is idempotent).

    ``on_object`` sees every object of a package once the tree is complete, but not the
    package module itself, which ``on_package`` receives.
    """

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s own docstring (aliases share their target's)."""
        _rewrite_docstring(obj)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the package module's docstring."""
        _rewrite_docstring(pkg)
