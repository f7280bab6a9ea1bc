"""The one cattrs converter: every crmkit object to JSON-ready data and back.

Conventions: ``Money`` as ``{"amount": "12.30", "currency": "TWD"}`` (amount as a string, never a
float); ``Decimal`` as a string; aware ``datetime`` as ISO 8601 with its offset, plus the IANA
zone in brackets when it has one (RFC 9557: ``2026-11-01T01:30:00-05:00[America/New_York]``), so
a local business time comes back in its own zone and an ambiguous hour keeps its ``fold``;
``date`` as ISO 8601; a wall-clock ``time`` as ``"22:00"`` (seconds only when it has some);
a ``timedelta`` as an ISO 8601 duration in days to seconds (``"P14D"``, ``"PT24H"``);
enums by value; tuples as lists; domain events carry an ``event_type`` tag so a list of mixed
events round-trips. Structuring validates through the classes' own validators, and any problem
comes back as one :class:`~crmkit.errors.ValidationError` listing each field path.

Example:
    >>> from crmkit.kernel.money import Money
    >>> unstructure(Money("12.3", "TWD"))
    {'amount': '12.3', 'currency': 'TWD'}
    >>> structure({"amount": "12.3", "currency": "TWD"}, Money)
    Money('12.3', 'TWD')
    >>> structure({"amount": 12.3, "currency": "TWD"}, Money)
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: amount: must be a Decimal, int or str, not float (12.3); ...

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs
import cattrs.cols
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.v import format_exception
from dateutil.parser import isoparse

from crmkit.errors import CRMError, FieldError, ValidationError
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.events import DomainEvent, event_class
from crmkit.kernel.money import Money, _to_decimal
from crmkit.kernel.query import Filter, _from_jsonable, _jsonable
from crmkit.kernel.time import ensure_aware

__all__ = [
    "default_converter",
    "dumps",
    "from_json",
    "make_converter",
    "structure",
    "to_json",
    "unstructure",
]

T = TypeVar("T")

# One encoder, built once: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


_ZONED = re.compile(r"^(?P<instant>[^\[\]]+)\[(?P<zone>[^\[\]]+)\]$")


def _parse_iso(text: str) -> datetime:
    """Parse ISO 8601 the same way on every Python (3.10's fromisoformat rejects ``Z``)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        parsed = isoparse(text)
    offset = parsed.utcoffset()
    return parsed if offset is None else parsed.replace(tzinfo=timezone(offset))


def _unstructure_datetime(value: datetime) -> str:
    """ISO 8601 with offset; an IANA zone is kept as an RFC 9557 suffix (``[Asia/Taipei]``)."""
    text = ensure_aware(value, "").isoformat()
    if isinstance(value.tzinfo, ZoneInfo):
        text += f"[{value.tzinfo.key}]"
    return text


def _structure_datetime(value: Any, _type: type) -> datetime:
    if type(value) is str and not value.endswith("]"):
        # The common case, what crmkit writes: ISO 8601 with an offset, read in one C call.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass  # a ``Z`` on Python 3.10, or not a datetime: the full path below says which
        else:
            if parsed.tzinfo is not None:
                return parsed
    if isinstance(value, str):
        zone: ZoneInfo | None = None
        match = _ZONED.match(value) if value.endswith("]") else None
        text = value
        if match is not None:
            text = match["instant"]
            try:
                zone = ZoneInfo(match["zone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(f"{match['zone']!r} is not an IANA time zone") from None
        try:
            parsed = _parse_iso(text)
        except (ValueError, OverflowError):
            raise ValidationError(f"{value!r} is not an ISO 8601 datetime") from None
        aware = ensure_aware(parsed, "")
        return aware.astimezone(zone) if zone is not None else aware
    return ensure_aware(value, "")


def _is_list_or_tuple(cls: Any) -> bool:
    origin = get_origin(cls)
    args = get_args(cls)
    return origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis)


def _sequence_factory(conv: cattrs.Converter) -> Any:
    def factory(cls: Any) -> Any:
        if get_origin(cls) is list:
            inner = cattrs.cols.list_structure_factory(cls, conv)
        else:
            inner = cattrs.cols.homogenous_tuple_structure_factory(cls, conv)

        def structure_sequence(value: Any, typ: Any) -> Any:
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                raise ValidationError(f"must be a list, not {type(value).__name__}")
            return inner(value, typ)

        return structure_sequence

    return factory


def _structure_date(value: Any, _type: type) -> date:
    if isinstance(value, datetime):
        raise ValidationError("must be a date, not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)")


def _unstructure_time(value: time) -> str:
    spec = "minutes" if value.second == 0 and value.microsecond == 0 else "auto"
    return value.isoformat(timespec=spec)


def _structure_time(value: Any, _type: type) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not an ISO 8601 time of day (HH:MM)")


_DURATION = re.compile(
    r"^(?P<sign>-)?P(?!$)(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)(?:\.(?P<fraction>\d{1,6}))?S)?)?$"
)


def _unstructure_timedelta(value: timedelta) -> str:
    """ISO 8601 duration in days, hours, minutes and seconds: ``P14D``, ``PT24H``, ``-PT0.5S``."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if value.microseconds:
        clock += f"{seconds}.{value.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    text = "P" + (f"{value.days}D" if value.days else "") + (f"T{clock}" if clock else "")
    return sign + (text if text != "P" else "PT0S")


def _structure_timedelta(value: Any, _type: type) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match is not None:
            try:
                result = timedelta(
                    days=int(match["days"] or 0),
                    hours=int(match["hours"] or 0),
                    minutes=int(match["minutes"] or 0),
                    seconds=int(match["seconds"] or 0),
                    microseconds=int((match["fraction"] or "").ljust(6, "0") or 0),
                )
            except OverflowError:
                pass
            else:
                return -result if match["sign"] else result
    raise ValidationError(
        f"{value!r} is not an ISO 8601 duration such as 'PT24H', 'P14D' or 'P1DT2H30M' "
        "(days, hours, minutes and seconds; no years or months)"
    )


def _structure_money(value: Any, _type: type) -> Money:
    if not isinstance(value, dict):
        raise ValidationError(
            f"must be an object with amount and currency, not {type(value).__name__}"
        )
    missing = [k for k in ("amount", "currency") if k not in value]
    extra = sorted(set(value) - {"amount", "currency"})
    if missing or extra:
        problems = [FieldError(k, "is required") for k in missing]
        problems += [FieldError(k, "is not a Money field") for k in extra]
        raise ValidationError(errors=problems)
    return Money(value["amount"], value["currency"])


def _structure_filter(value: Any, _type: type) -> Filter:
    if not isinstance(value, Mapping):
        raise ValidationError(f"must be an object, not {type(value).__name__}")
    extra = sorted(set(value) - {"field", "op", "value"})
    missing = [k for k in ("field", "op", "value") if k not in value]
    if extra or missing:
        problems = [FieldError(k, "is required") for k in missing]
        problems += [FieldError(k, "is not a known field") for k in extra]
        raise ValidationError(errors=problems)
    if not isinstance(value["field"], str):
        raise ValidationError(f"must be str, not {type(value['field']).__name__}", path="field")
    try:
        decoded = _from_jsonable(value["value"])
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise ValidationError("is not a filter value crmkit wrote", path="value") from None
    return Filter(value["field"], value["op"], decoded)


def _strict(kind: type) -> Any:
    def hook(value: Any, typ: type) -> Any:
        if type(value) is not kind and not (
            kind is int and isinstance(value, int) and not isinstance(value, bool)
        ):
            raise ValidationError(f"must be {kind.__name__}, not {type(value).__name__}")
        return value

    return hook


def _optional_inner(cls: Any) -> Any:
    """The ``X`` of ``X | None`` (``Optional[X]``), else ``None``."""
    args = get_args(cls)
    if len(args) == 2 and type(None) in args and get_origin(cls) in (Union, UnionType):
        return args[0] if args[1] is type(None) else args[1]
    return None


def _optional_factory(conv: cattrs.Converter) -> Any:
    """``X | None`` with ``X``'s hook looked up once, not dispatched again for every value."""

    def factory(cls: Any) -> Any:
        inner_type = _optional_inner(cls)
        inner = conv.get_structure_hook(inner_type)

        def structure_optional(value: Any, _type: Any) -> Any:
            return None if value is None else inner(value, inner_type)

        return structure_optional

    return factory


def _is_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, enum.Enum)


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise ValidationError(f"{value!r} is not one of {allowed}") from None


def _is_event(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, DomainEvent)


def make_converter() -> cattrs.Converter:
    """Build crmkit's converter: hooks for money, decimals, time, events; extra keys refused.

    Example:
        >>> from datetime import datetime, timezone
        >>> make_converter().unstructure(datetime(2026, 1, 1, 8, tzinfo=timezone.utc))
        '2026-01-01T08:00:00+00:00'

    .. versionadded:: 0.1.0
    """
    return _build_converter(detailed=True)


def _build_converter(*, detailed: bool) -> cattrs.Converter:
    """Build the converter; ``detailed=False`` is the fast reader (see :func:`structure`)."""
    conv = cattrs.Converter(
        forbid_extra_keys=True,
        detailed_validation=detailed,
        # The fast reader hands a field that has its own attrs converter (tags, kind, ...)
        # the raw value once, instead of structuring it by type and converting it again.
        prefer_attrib_converters=not detailed,
    )
    for kind in (str, int, bool):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_unstructure_hook_func(_is_enum, lambda e: e.value)
    conv.register_structure_hook_func(_is_enum, _structure_enum)
    # crmkit's enums subclass str; key their hooks on StrEnum, ahead of str in their MRO.
    conv.register_unstructure_hook(StrEnum, lambda e: e.value)
    conv.register_structure_hook(StrEnum, _structure_enum)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda v, _t: _to_decimal(v, ""))
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(date, lambda d: d.isoformat())
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(time, _unstructure_time)
    conv.register_structure_hook(time, _structure_time)
    conv.register_unstructure_hook(timedelta, _unstructure_timedelta)
    conv.register_structure_hook(timedelta, _structure_timedelta)
    conv.register_unstructure_hook(
        Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
    )
    conv.register_structure_hook(Money, _structure_money)
    conv.register_structure_hook_factory(_is_list_or_tuple, _sequence_factory(conv))
    if not detailed:  # the detailed converter keeps cattrs' own, which reports paths
        conv.register_structure_hook_factory(
            lambda cls: _optional_inner(cls) is not None, _optional_factory(conv)
        )
    # A filter's value is typed Any: keep its type with the same tags cursors use.
    conv.register_unstructure_hook(
        Filter, lambda f: {"field": f.field, "op": f.op.value, "value": _jsonable(f.value)}
    )
    conv.register_structure_hook(Filter, _structure_filter)

    def unstructure_event_factory(cls: type[DomainEvent]) -> Any:
        inner = cattrs.gen.make_dict_unstructure_fn(cls, conv)

        def unstructure_event(event: DomainEvent) -> dict[str, Any]:
            # The runtime class decides, so a DomainEvent-typed field keeps its subclass data.
            if type(event) is not cls:
                return conv.unstructure(event, unstructure_as=type(event))  # type: ignore[no-any-return]
            return {"event_type": event.event_type, **inner(event)}

        return unstructure_event

    def structure_event_factory(cls: type[DomainEvent]) -> Any:
        def structure_event(value: Any, _type: type) -> DomainEvent:
            if not isinstance(value, dict):
                raise ValidationError(f"must be an object, not {type(value).__name__}")
            if "event_type" not in value:
                raise ValidationError("is required", path="event_type")
            data = dict(value)
            target = event_class(str(data.pop("event_type")))
            if not issubclass(target, cls):
                raise ValidationError(
                    f"{target.event_type!r} is not a {cls.__name__}", path="event_type"
                )
            event: DomainEvent = specific(target)(data, target)
            return event

        return structure_event

    made: dict[type[DomainEvent], Any] = {}

    def specific(target: type[DomainEvent]) -> Any:
        if target not in made:
            made[target] = cattrs.gen.make_dict_structure_fn(
                target,
                conv,
                _cattrs_forbid_extra_keys=True,
                _cattrs_detailed_validation=detailed,
            )
        return made[target]

    conv.register_unstructure_hook_factory(_is_event, unstructure_event_factory)
    conv.register_structure_hook_factory(_is_event, structure_event_factory)
    return conv


@functools.cache
def _fast_converter() -> cattrs.Converter:
    return _build_converter(detailed=False)


@functools.lru_cache(maxsize=1024)
def _fast_hook(cls: Any) -> tuple[bool, Callable[[Any, Any], Any]]:
    """Whether ``cls`` is an attrs class, and the fast converter's structure hook for it."""
    return attrs.has(cls), _fast_converter().get_structure_hook(cls)


@functools.cache
def default_converter() -> cattrs.Converter:
    """Return the shared converter made by :func:`make_converter` (built once, on first use).

    Treat it as read-only; build your own with :func:`make_converter` to add hooks.

    Example:
        >>> default_converter() is default_converter()
        True

    .. versionadded:: 0.1.0
    """
    return make_converter()


def unstructure(obj: Any) -> Any:
    """Turn a crmkit object into JSON-ready data (dicts, lists, strings, numbers).

    Example:
        >>> from datetime import date
        >>> unstructure(date(2026, 1, 5))
        '2026-01-05'

    .. versionadded:: 0.1.0
    """
    return default_converter().unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` from JSON-ready data; any problem is one ``ValidationError`` with paths.

    Example:
        >>> from crmkit.customers import Customer
        >>> structure({"id": "cus_1", "name": "", "kind": "alien"}, Customer)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: 2 problems: kind: 'alien' is not one of 'company', 'person';
        created_at: is required

    .. versionadded:: 0.1.0
    """
    spec: Any = cls
    try:
        is_attrs, hook = _fast_hook(spec)
    except TypeError:  # an unhashable type spec: look it up every time
        is_attrs, hook = attrs.has(cls), _fast_converter().get_structure_hook(cls)
    if is_attrs and type(data) is not dict and not isinstance(data, Mapping):
        raise ValidationError(f"must be an object, not {type(data).__name__}")
    # Valid data (most of what a store reads) takes the fast path: no per-field error
    # bookkeeping, and attrs converters see each raw value once. It is exactly as strict (the
    # same hooks and the classes' own converters and validators); any failure is re-run on
    # the detailed converter so the error lists every bad field, not just the first.
    try:
        return hook(data, cls)  # type: ignore[no-any-return]
    except Exception:  # noqa: S110 - re-run below for the complete report
        pass
    try:
        return default_converter().structure(data, cls)
    except BaseValidationError as exc:
        # Keep the most precise class when every problem is of one kind (NaiveDatetimeError).
        kinds = {
            type(leaf) if isinstance(leaf, ValidationError) else ValidationError
            for leaf in _leaves(exc)
        }
        error_class = kinds.pop() if len(kinds) == 1 else ValidationError
        raise error_class(errors=_flatten(exc, "", cls)) from None
    except CRMError:  # a DefinitionError keeps its list of problems
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError(format_exception(exc, cls)) from None


def to_json(obj: Any) -> str:
    """Serialise a crmkit object to a compact JSON string (non-ASCII kept readable).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> to_json(Money("100", "TWD"))
        '{"amount":"100","currency":"TWD"}'

    .. versionadded:: 0.1.0
    """
    return dumps(unstructure(obj))


def dumps(data: Any) -> str:
    """Encode data that is already JSON-ready (from :func:`unstructure`) as compact JSON.

    Example:
        >>> dumps({"name": "台北", "tags": ["vip"]})
        '{"name":"台北","tags":["vip"]}'

    .. versionadded:: 0.1.0
    """
    return _ENCODER.encode(data)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text into a ``cls``; malformed JSON is a ``ValidationError`` too.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> from_json('{"amount": "5", "currency": "CNY"}', Money)
        Money('5', 'CNY')

    .. versionadded:: 0.1.0
    """
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"is not valid JSON: {exc}") from None
    return structure(data, cls)


def _leaves(exc: BaseException) -> list[BaseException]:
    nested = getattr(exc, "exceptions", None)
    if isinstance(nested, tuple):
        return [leaf for sub in nested for leaf in _leaves(sub)]
    return [exc]


def _join(path: str, part: str) -> str:
    if not path:
        return part
    if not part:
        return path
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _flatten(exc: BaseException, path: str, cls: Any = None) -> list[FieldError]:
    if isinstance(exc, ClassValidationError):
        found: list[FieldError] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            found += _flatten(sub, _join(path, note.name), note.type)
        for sub in without:
            found += _flatten(sub, path, exc.cl)
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        with_index, without = exc.group_exceptions()
        for sub, index_note in with_index:
            found += _flatten(sub, _join(path, f"[{index_note.index}]"), index_note.type)
        for sub in without:
            found += _flatten(sub, path)
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        return [
            FieldError(_join(path, key), "is not a known field") for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, ValidationError):
        return [FieldError(_join(path, e.path), e.message) for e in exc.errors]
    if isinstance(exc, KeyError):
        return [FieldError(path, "is required")]
    nested = getattr(exc, "exceptions", None)  # any other exception group (3.10: backport)
    if isinstance(nested, tuple):
        return [e for sub in nested for e in _flatten(sub, path)]
    return [FieldError(path, format_exception(exc, cls))]
