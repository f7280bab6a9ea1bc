"""Shared attrs validators and converters that raise crmkit's ``ValidationError``.

Each names the field it checks, so a bad value says where it was.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from crmkit.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)

#: Unicode category Cc (C0 and C1 controls) except tab and line feed / carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _name(attribute: object) -> str:
    return str(getattr(attribute, "name", "value")).lstrip("_")


def text(max_length: int = 200) -> Callable[[Any, Any, Any], None]:
    """Validate a required text field: a str, not blank, at most ``max_length`` characters."""

    def check(_instance: object, attribute: object, value: object) -> None:
        path = _name(attribute)
        if not isinstance(value, str):
            raise ValidationError(f"must be text, not {type(value).__name__}", path=path)
        if not value.strip():
            raise ValidationError("must not be empty", path=path)
        if _CONTROL.search(value) is not None:
            raise ValidationError(
                "must not hold control characters (only line breaks and tabs)", path=path
            )
        if len(value) > max_length:
            raise ValidationError(
                f"must be at most {max_length} characters, got {len(value)}", path=path
            )

    return check


def optional_text(max_length: int = 200) -> Callable[[Any, Any, Any], None]:
    """Validate an optional text field: ``None`` or what :func:`text` accepts."""
    required = text(max_length)

    def check(instance: object, attribute: object, value: object) -> None:
        if value is not None:
            required(instance, attribute, value)

    return check


def strip(value: object) -> object:
    """Strip surrounding white space from text; leave other values for the validator to judge."""
    return value.strip() if isinstance(value, str) else value


def strip_optional(value: object) -> object:
    """Like :func:`strip`, and an empty string becomes ``None``."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def to_enum(cls: type[E], field: str) -> Callable[[object], E]:
    """Convert a value (or the enum member itself) to ``cls``; name the allowed values if not."""

    def convert(value: object) -> E:
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except (ValueError, TypeError):
            allowed = ", ".join(repr(m.value) for m in cls)
            raise ValidationError(f"{value!r} is not one of {allowed}", path=field) from None

    return convert


def to_optional_enum(cls: type[E], field: str) -> Callable[[object], E | None]:
    """Like :func:`to_enum`, and ``None`` stays ``None``."""
    required = to_enum(cls, field)

    def convert(value: object) -> E | None:
        return None if value is None else required(value)

    return convert


def of_type(*types: type) -> Callable[[Any, Any, Any], None]:
    """Validate that the value is an instance of one of ``types`` (bool is not an int)."""

    def check(_instance: object, attribute: object, value: object) -> None:
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise ValidationError(
                f"must be {names}, not {type(value).__name__}", path=_name(attribute)
            )

    return check


def optional_date(_instance: object, attribute: object, value: Any) -> None:
    """Validate ``None`` or a ``date`` that is not a ``datetime``."""
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise ValidationError(f"must be a date, not {type(value).__name__}", path=_name(attribute))


def text_tuple(
    field: str, normalise: Callable[[str], str] | None = None, *, max_items: int = 50
) -> Callable[[object], tuple[str, ...]]:
    """Convert an iterable of text to a tuple without blanks or duplicates, order kept."""

    def convert(value: object) -> tuple[str, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(f"must be a list of text, not {type(value).__name__}", path=field)
        seen: dict[str, None] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(
                    f"must be text, not {type(item).__name__}", path=f"{field}[{i}]"
                )
            cleaned = item.strip()
            if not cleaned:
                raise ValidationError("must not be empty", path=f"{field}[{i}]")
            if normalise is not None:
                try:
                    cleaned = normalise(cleaned)
                except ValidationError as exc:
                    raise exc.at(f"{field}[{i}]") from None
            seen.setdefault(cleaned, None)
        if len(seen) > max_items:
            raise ValidationError(f"must hold at most {max_items} items", path=field)
        return tuple(seen)

    return convert


def instance_tuple(cls: type, field: str) -> Callable[[object], tuple[Any, ...]]:
    """Convert a list of ``cls`` instances to a tuple; anything else names the bad item."""

    def convert(value: object) -> tuple[Any, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert
