"""Store a notification's context as JSON and get the same values back.

A template's context may hold :class:`~crmkit.kernel.money.Money`, aware ``datetime``, ``date``,
``Decimal`` and the JSON types (``str``, ``int``, ``bool``, ``None``, lists, string-keyed
dicts). Plain JSON would turn Money into a dict and a datetime into a string, so the stored form
tags them: ``{"$money": {"amount": "1234.5", "currency": "TWD"}}``, ``{"$datetime": ...}``,
``{"$date": ...}``, ``{"$decimal": ...}``. A key that starts with ``$`` in the host's own dicts
is refused rather than guessed at.

Example:
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from crmkit.kernel.money import Money
    >>> ctx = {"amount": Money("1234.5", "TWD"),
    ...        "due_at": datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Taipei"))}
    >>> stored = encode_context(ctx)
    >>> stored["amount"]
    {'$money': {'amount': '1234.5', 'currency': 'TWD'}}
    >>> decode_context(stored) == ctx
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmkit.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.serialization import structure, unstructure

__all__ = [
    "decode_context",
    "encode_context",
]

_TAGS = ("$money", "$datetime", "$date", "$decimal")


def _encode(value: object, path: str) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Money):
        return {"$money": unstructure(value)}
    if isinstance(value, datetime):
        return {"$datetime": unstructure(value)}  # refuses naive datetimes
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(item, f"{path}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, Mapping):
        return _encode_mapping(value, path)
    raise ValidationError(
        f"a notification context holds str, int, bool, None, Money, datetime, date, Decimal, "
        f"lists and dicts, not {type(value).__name__}",
        path=path,
    )


def _encode_mapping(mapping: Mapping[Any, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in mapping.items():
        where = f"{path}.{key}" if path else str(key)
        if not isinstance(key, str):
            raise ValidationError(f"context keys must be str, not {type(key).__name__}", path=where)
        if key.startswith("$"):
            raise ValidationError(
                "context keys must not start with '$' (reserved for stored value tags)",
                path=where,
            )
        out[key] = _encode(item, where)
    return out


def encode_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``context`` as JSON-ready data, tagging Money, datetimes, dates and Decimals.

    Example:
        >>> from datetime import date
        >>> encode_context({"birthday": date(1990, 5, 4), "tags": ["vip"]})
        {'birthday': {'$date': '1990-05-04'}, 'tags': ['vip']}
        >>> encode_context({"price": 1.5})
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: price: a notification context holds str, int, ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(context, Mapping):
        raise ValidationError(
            f"must be a mapping of names to values, not {type(context).__name__}",
            path="context",
        )
    return _encode_mapping(context, "")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$money":
            return structure(inner, Money)
        if tag == "$datetime":
            return structure(inner, datetime)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$decimal":
            return Decimal(inner)
    return {key: _decode(item) for key, item in value.items()}


def decode_context(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values :func:`encode_context` stored, as Money, datetimes, dates and Decimals.

    Example:
        >>> decode_context({"total": {"$decimal": "12.50"}, "name": "Acme"})
        {'total': Decimal('12.50'), 'name': 'Acme'}

    .. versionadded:: 0.1.0
    """
    return {key: _decode(item) for key, item in stored.items()}
