"""Validators, converters and small helpers shared by the loyalty modules (private)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, _to_decimal, is_currency
from crmkit.kernel.time import ensure_aware


def name_of(attribute: object) -> str:
    """The field name an attrs validator reports (without a leading underscore)."""
    return str(getattr(attribute, "name", "value")).lstrip("_")


def id_field(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a required id (a non-empty string without spaces, at most 64 characters)."""
    check_id(value, name_of(attribute))


def optional_id(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate ``None`` or an id."""
    if value is not None:
        check_id(value, name_of(attribute))


def int_range(low: int, high: int) -> Callable[[Any, Any, Any], None]:
    """Validate an int (not a bool) from ``low`` to ``high``."""

    def check(_instance: object, attribute: object, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                f"must be an int from {low} to {high}, got {value!r}", path=name_of(attribute)
            )

    return check


def optional_int_range(low: int, high: int) -> Callable[[Any, Any, Any], None]:
    """Validate ``None`` or an int from ``low`` to ``high``."""
    required = int_range(low, high)

    def check(instance: object, attribute: object, value: Any) -> None:
        if value is not None:
            required(instance, attribute, value)

    return check


def plain_int(_instance: object, attribute: object, value: Any) -> None:
    """Validate an int (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"must be an int, not {type(value).__name__}", path=name_of(attribute)
        )


def non_negative_int(_instance: object, attribute: object, value: Any) -> None:
    """Validate an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"must be an int >= 0, got {value!r}", path=name_of(attribute))


def decimal_in(path: str, low: Decimal, high: Decimal) -> Callable[[object], Decimal]:
    """Convert to a Decimal from ``low`` to ``high`` (floats refused)."""

    def convert(value: object) -> Decimal:
        number = _to_decimal(value, path)
        if not number.is_finite() or not low <= number <= high:
            raise ValidationError(f"must be from {low} to {high}, got {number}", path=path)
        return number

    return convert


def optional_decimal_in(
    path: str, low: Decimal, high: Decimal
) -> Callable[[object], Decimal | None]:
    """Like :func:`decimal_in`, and ``None`` stays ``None``."""
    required = decimal_in(path, low, high)

    def convert(value: object) -> Decimal | None:
        return None if value is None else required(value)

    return convert


def money_field(_instance: object, attribute: object, value: Any) -> None:
    """Validate a non-negative Money."""
    path = name_of(attribute)
    if not isinstance(value, Money):
        raise ValidationError(f"must be Money, not {type(value).__name__}", path=path)
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path=path)


def optional_money(instance: object, attribute: object, value: Any) -> None:
    """Validate ``None`` or a non-negative Money."""
    if value is not None:
        money_field(instance, attribute, value)


def currency_field(_instance: object, attribute: object, value: Any) -> None:
    """Validate an ISO 4217 currency code."""
    if not is_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code (e.g. 'TWD', 'CNY', 'USD')",
            path=name_of(attribute),
        )


def zone_field(_instance: object, attribute: object, value: Any) -> None:
    """Validate an IANA time zone name (``Asia/Taipei``)."""
    path = name_of(attribute)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"must be an IANA time zone name, got {value!r}", path=path)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone (e.g. 'Asia/Taipei')", path=path
        ) from None


#: Convert an iterable to a tuple whose items are all ``cls`` (the kernel's converter).
tuple_of = v.instance_tuple


def ids_tuple(field: str) -> Callable[[object], tuple[str, ...]]:
    """Convert an iterable of ids (categories, offers) to a tuple without repeats, order kept."""

    def convert(value: object) -> tuple[str, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(f"must be a list of text, not {type(value).__name__}", path=field)
        seen: dict[str, None] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(
                    f"must be text, not {type(item).__name__}", path=f"{field}[{i}]"
                )
            seen.setdefault(check_id(item.strip(), f"{field}[{i}]"), None)
        if len(seen) > 1000:
            raise ValidationError("must hold at most 1000 items", path=field)
        return tuple(seen)

    return convert


def check_now(now: object, actor: object = None) -> datetime:
    """Check a command's ``now`` (aware) and optional ``actor`` (an id)."""
    aware = ensure_aware(now, "now")
    if actor is not None:
        check_id(actor, "actor")
    return aware


def check_points(value: object, path: str = "points", *, allow_negative: bool = False) -> int:
    """Check a points amount: a non-zero int (positive unless ``allow_negative``)."""
    low = -1_000_000_000 if allow_negative else 1
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= 1_000_000_000
        or value == 0
    ):
        wanted = "a non-zero int" if allow_negative else "an int >= 1"
        raise ValidationError(f"must be {wanted} (at most 1000000000), got {value!r}", path=path)
    return value


def mismatch(kind: str, reference: str, first: str, now: str) -> RuleViolation:
    """The error for a reference replayed with a different payload."""
    return RuleViolation(
        f"{kind} reference {reference!r} was already used with a different payload "
        f"({first}); this call has ({now}). Use a new reference for a new fact",
        details={"kind": kind, "reference": reference, "first": first, "now": now},
    )


class _EventIds:
    """Unique 128-bit hex ids for events: a random 64-bit prefix and a counter.

    ``uuid.uuid4()`` asks the kernel for 16 random bytes per id; the ledger's per-call budget
    (a redemption in under 10 µs) cannot afford that. A prefix drawn from ``os.urandom`` once
    per process (and again in a forked child) followed by a 64-bit counter is as unique and
    costs a fraction of it; ``itertools.count`` is atomic under the GIL.
    """

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(int.from_bytes(os.urandom(4), "big"))

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


new_event_id = _EventIds().new
