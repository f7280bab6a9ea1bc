"""Field masking: pure functions over values and JSON-ready documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmkit.access._rules import MaskStyle
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v


def mask_email(value: str) -> str:
    """Keep an email's first character and its domain: ``"a***@example.com"``.

    Text without an ``@`` is redacted to ``"***"``.

    Example:
        >>> mask_email("amy@example.com"), mask_email("not an email")
        ('a***@example.com', '***')

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="value")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_phone(value: str) -> str:
    """Keep a phone number's country code and first digit, and its last four digits.

    ``"+886912345678"`` becomes ``"+8869****5678"``; a number too short to keep anything
    private after that is redacted to ``"***"``.

    Example:
        >>> mask_phone("+886912345678"), mask_phone("+4420")
        ('+8869****5678', '***')

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="value")
    keep_head = 5 if value.startswith("+") else 4
    if len(value) < keep_head + 4 + 2:
        return "***"
    hidden = len(value) - keep_head - 4
    return value[:keep_head] + "*" * hidden + value[-4:]


def mask_value(value: Any, style: MaskStyle | str) -> Any:
    """Mask one value (each item of a list) in ``style``; ``None`` stays ``None``.

    Text masks as its style says; anything else (amounts, dates, sections) is hidden (``None``).

    Example:
        >>> mask_value(["amy@example.com", "bo@example.org"], "email")
        ['a***@example.com', 'b***@example.org']
        >>> mask_value({"amount": "12.50", "currency": "TWD"}, "hide") is None
        True

    .. versionadded:: 0.1.0
    """
    how = v.to_enum(MaskStyle, "style")(style)
    if value is None or how is MaskStyle.HIDE:
        return None
    if isinstance(value, (list, tuple)):
        return [mask_value(item, how) for item in value]
    if not isinstance(value, str):
        return None
    if how is MaskStyle.EMAIL:
        return mask_email(value)
    if how is MaskStyle.PHONE:
        return mask_phone(value)
    return "***"


def _mask_path(node: Any, parts: list[str], style: MaskStyle) -> Any:
    if isinstance(node, list):
        return [_mask_path(item, parts, style) for item in node]
    if not isinstance(node, dict) or parts[0] not in node:
        return node
    head, rest = parts[0], parts[1:]
    copy = dict(node)
    copy[head] = mask_value(node[head], style) if not rest else _mask_path(node[head], rest, style)
    return copy


def mask_document(document: dict[str, Any], masks: Mapping[str, MaskStyle | str]) -> dict[str, Any]:
    """Return ``document`` with each dotted path in ``masks`` masked; the input is untouched.

    A path passes through lists (``"lines.amount"`` masks every line's amount); a path the
    document lacks is left alone. With nothing to mask the same document is returned.

    Example:
        >>> doc = {"name": "Amy", "emails": ["amy@example.com"],
        ...        "lines": [{"sku": "TEA", "amount": {"amount": "9.00", "currency": "USD"}}]}
        >>> mask_document(doc, {"emails": "email", "lines.amount": "hide"})
        {'name': 'Amy', 'emails': ['a***@example.com'], 'lines': [{'sku': 'TEA', 'amount': None}]}
        >>> mask_document(doc, {}) is doc
        True

    .. versionadded:: 0.1.0
    """
    if not isinstance(document, dict):
        raise ValidationError(
            f"must be a document (dict), not {type(document).__name__}", path="document"
        )
    masked = document
    for path, style in masks.items():
        how = v.to_enum(MaskStyle, "style")(style)
        masked = _mask_path(masked, path.split("."), how)
    return masked
