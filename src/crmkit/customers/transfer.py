"""Importing customers and contacts: the column mapping (data) and row-by-row validation.

Pure rules, no I/O: :class:`ColumnMapping` says which source column feeds which field,
:class:`RowValidator` turns one source row into a checked :class:`ImportRow` or into the list of
:class:`RowError` s that say, per field, what was wrong and what would be right. The use case that
reads files, finds duplicates and stores records is :mod:`crmkit.app.transfer`.

Every field is checked by the model's own converter and validator, so a row that passes builds a
valid :class:`~crmkit.customers.Customer` and :class:`~crmkit.customers.Contact`. The two costly
checks have a fast path: an ordinary ASCII email address is normalised with one regular
expression (anything else goes through ``email-validator``, with the same result), and phone
numbers are checked as E.164 text (``phone_check="e164"``, the default) or parsed in full with
``phonenumbers`` for a region (``phone_check="full"``, about 20 µs a number, cached).

Example:
    >>> mapping = ColumnMapping({"external_id": "Id", "name": "Full name", "email": "E-mail"})
    >>> check = RowValidator(mapping)
    >>> check.validate(2, {"Id": "A-1", "Full name": " Amy Chen ", "E-mail": "Amy@Example.COM"})
    ImportRow(row=2, external_id='A-1', name='Amy Chen', kind='person', tags=(), source=None,
              owner=None, contact_name='Amy Chen', emails=('Amy@example.com',), phones=(),
              role=None)
    >>> [(e.row, e.field, e.error) for e in check.validate(3, {"Full name": "", "E-mail": "x@"})]
    [(3, 'name', 'must not be empty'), (3, 'email', "'x@' is not a valid email address: ...")]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from crmkit.customers._contact_points import normalize_email, normalize_phone
from crmkit.customers._model import Contact, Customer
from crmkit.errors import ValidationError

__all__ = [
    "ColumnMapping",
    "FIELDS",
    "ImportRow",
    "RowError",
    "RowValidator",
    "fast_normalize_email",
]

#: The fields an import fills: the customer's, then its contact's.
FIELDS: tuple[str, ...] = (
    "external_id",
    "name",
    "kind",
    "tags",
    "source",
    "owner",
    "contact_name",
    "email",
    "phone",
    "role",
)

_PHONE_CHECKS = ("e164", "full")

# An ordinary ASCII address: dot-atoms of common characters, a domain of LDH labels and a
# letters-only top-level domain. email-validator accepts each such address and normalises it by
# lower-casing the domain (property-tested in tests/customers/test_transfer.py).
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_SPECIAL_USE = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))
_PHONE_NOISE = str.maketrans("", "", " -.()\u00a0")


def fast_normalize_email(value: str) -> str:
    """Normalise an email address as :func:`~crmkit.customers.normalize_email` does, faster.

    An ordinary ASCII address takes a regular-expression fast path (about 1 µs instead of 20);
    anything else is handed to ``normalize_email``, so the result (or the error) is the same.

    Example:
        >>> fast_normalize_email(" Amy.Chen@Example.COM ")
        'Amy.Chen@example.com'
        >>> fast_normalize_email("amy@localhost")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: 'amy@localhost' is not a valid email address: ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}")
    text = value.strip()
    if len(text) <= 254 and _SIMPLE_EMAIL.fullmatch(text):
        at = text.rindex("@")
        domain = text[at + 1 :].lower()
        if at <= 64 and domain[domain.rindex(".") + 1 :] not in _SPECIAL_USE:
            return text[: at + 1] + domain
    return normalize_email(text)


@functools.lru_cache(maxsize=65536)
def _full_phone(value: str, region: str | None) -> str:
    return normalize_phone(value, region)


def _e164_phone(value: str, _region: str | None) -> str:
    if value[:1] == "+" and value[1:].isdigit() and 8 <= len(value) <= 16 and value.isascii():
        return value  # already clean E.164: the common case
    text = value.translate(_PHONE_NOISE)
    if text.startswith("+") and text[1:].isdigit() and 8 <= len(text) <= 16 and text.isascii():
        return text
    raise ValidationError(f"{value.strip()!r} is not an E.164 number such as '+886912345678'")


def _check_columns(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must map field names to column names, not {type(value).__name__}", path="columns"
        )
    columns: dict[str, str] = {}
    for field, column in value.items():
        if field not in FIELDS:
            raise ValidationError(
                f"{field!r} is not a field an import fills; use one of {', '.join(FIELDS)}",
                path=f"columns.{field}",
            )
        if not isinstance(column, str) or not column.strip():
            raise ValidationError("must be a column name (text)", path=f"columns.{field}")
        columns[field] = column
    if "name" not in columns:
        raise ValidationError(
            "must map 'name' (the customer's name) to a column, e.g. {'name': 'Full name'}",
            path="columns",
        )
    return columns


def _one_of(choices: Sequence[str], path: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value not in choices:
            raise ValidationError(
                f"must be one of {', '.join(map(repr, choices))}, not {value!r}", path=path
            )

    return check


def _separator(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, str) or len(value) != 1 or value.isspace():
        raise ValidationError(
            f"must be one visible character such as ';', not {value!r}", path="separator"
        )


@attrs.frozen
class ColumnMapping:
    """Which source column feeds which import field: rules as data, JSON-ready.

    Args:
        columns: ``{field: column}`` for the fields in :data:`FIELDS`; ``name`` is required.
            A JSON Lines import reads the same names as keys of each object.
        kind: the customer kind when no ``kind`` column is mapped (or the cell is empty).
        separator: splits ``tags``, ``email`` and ``phone`` cells holding several values.

    ``contact_name`` falls back to ``name``; a contact is made when the row has an email, a
    phone or a contact name.

    Example:
        >>> ColumnMapping({"name": "Company", "email": "Mail"}, kind="company").columns
        {'name': 'Company', 'email': 'Mail'}
        >>> ColumnMapping({"Company": "name"})
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: columns.Company: 'Company' is not a field an import ...

    .. versionadded:: 0.1.0
    """

    columns: dict[str, str] = attrs.field(converter=_check_columns)
    kind: str = attrs.field(default="person", validator=_one_of(("company", "person"), "kind"))
    separator: str = attrs.field(default=";", validator=_separator)

    @classmethod
    def same_names(cls, header: Iterable[str], **options: Any) -> ColumnMapping:
        """Map every field to the column of the same name that ``header`` has.

        Example:
            >>> ColumnMapping.same_names(["name", "email", "notes"]).columns
            {'name': 'name', 'email': 'email'}
        """
        names = set(header)
        return cls({f: f for f in FIELDS if f in names}, **options)


@attrs.frozen
class RowError:
    """One problem in one source row: which row, which field, what is wrong, what would be right.

    ``row`` counts lines of the source from 1 (a CSV's header is line 1, so its first data row is
    2); ``value`` is the offending cell, if any.

    Example:
        >>> RowError(4, "email", "'x@' is not a valid email address", "write it as name@domain")
        RowError(row=4, field='email', error="'x@' is not a valid email address",
                 suggestion='write it as name@domain', value=None)

    .. versionadded:: 0.1.0
    """

    row: int
    field: str
    error: str
    suggestion: str
    value: str | None = None


@attrs.frozen
class ImportRow:
    """A checked source row: the customer's fields and its contact's, normalised.

    Example:
        >>> ImportRow(2, None, "Acme", "company").has_contact
        False

    .. versionadded:: 0.1.0
    """

    row: int
    external_id: str | None
    name: str
    kind: str
    tags: tuple[str, ...] = ()
    source: str | None = None
    owner: str | None = None
    contact_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    role: str | None = None

    @property
    def has_contact(self) -> bool:
        """Whether the row makes a contact (it has an email, a phone or a contact name)."""
        return bool(self.emails or self.phones or self.contact_name)


_SUGGESTIONS = {
    "external_id": "give the customer's id in the source system as text (at most 200 characters)",
    "name": "give the customer's name (1 to 200 characters)",
    "kind": "write 'company' or 'person', or leave it empty for the mapping's default",
    "tags": "separate tags with the mapping's separator; each at most 50 characters",
    "source": "describe where the customer came from in at most 200 characters",
    "owner": "give the owner's user id, such as 'usr_amy'",
    "contact_name": "give the contact's name (1 to 200 characters) or leave it empty",
    "email": "write an address such as 'amy@example.com'",
    "phone": "write the number in E.164 form such as '+886912345678', or import with "
    "phone_check='full' and the right region",
    "role": "describe the contact's role in at most 100 characters",
}


def _model_check(
    cls: type[Any], name: str, fast_max: int | None = None, *, required: bool = False
) -> Callable[[object], Any]:
    """The model's own converter then validator for ``cls.name``, as one function.

    With ``fast_max`` (for a field that strips text and takes 1 to ``fast_max`` characters
    without control characters), ordinary text is accepted without calling them; the property
    tests check that the two paths agree. Blank optional text is ``None``.
    """
    attribute = getattr(attrs.fields(cls), name)
    converter = attribute.converter
    validator = attribute.validator

    def check(value: object) -> Any:
        if value is None or value == "":
            if required:
                raise ValidationError("must not be empty")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # a JSON number where text was expected
        if type(value) is str:
            text = value.strip()
            if fast_max is not None and text and len(text) <= fast_max and text.isprintable():
                return text
            if not text and not required:
                return None
        if converter is not None:
            value = converter(value)
        if validator is not None:
            validator(None, attribute, value)
        return value

    return check


def _as_text(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(f"must be text, not {type(value).__name__}")


class RowValidator:
    """Checks source rows against a :class:`ColumnMapping`; one per import.

    Args:
        mapping: the column mapping.
        region: the region phone numbers without ``+`` belong to (with ``phone_check="full"``).
        phone_check: ``"e164"`` (the default: a cheap check that the number is written in E.164)
            or ``"full"`` (parse and validate each number with ``phonenumbers``; cached).

    Example:
        >>> check = RowValidator(ColumnMapping({"name": "n", "phone": "p"}), region="TW",
        ...                      phone_check="full")
        >>> check.validate(2, {"n": "Amy", "p": "0912 345 678"}).phones
        ('+886912345678',)

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, mapping: ColumnMapping, *, region: str | None = None, phone_check: str = "e164"
    ) -> None:
        if not isinstance(mapping, ColumnMapping):
            raise ValidationError(
                f"must be a ColumnMapping, not {type(mapping).__name__}", path="mapping"
            )
        if phone_check not in _PHONE_CHECKS:
            raise ValidationError(
                f"must be 'e164' or 'full', not {phone_check!r}", path="phone_check"
            )
        if region is not None and (not isinstance(region, str) or len(region) != 2):
            raise ValidationError(
                f"must be a two-letter region such as 'TW', not {region!r}", path="region"
            )
        self.mapping = mapping
        self.region = region.upper() if region else None
        self._phone = _full_phone if phone_check == "full" else _e164_phone
        self._separator = mapping.separator
        checks: dict[str, Callable[[Any], Any]] = {
            "external_id": _model_check(Customer, "external_id", 200),
            "name": _model_check(Customer, "name", 200, required=True),
            "kind": self._kind,
            "tags": self._tags,
            "source": _model_check(Customer, "source", 200),
            "owner": _model_check(Customer, "owner"),
            "contact_name": _model_check(Contact, "name", 200),
            "email": self._emails,
            "phone": self._phones,
            "role": _model_check(Contact, "role", 100),
        }
        self._tag_check = _model_check(Customer, "tags")
        self._by_position = False
        self._plan: list[tuple[str, Any, Callable[[Any], Any]]] = [
            (f, mapping.columns[f], checks[f]) for f in FIELDS if f in mapping.columns
        ]
        self._defaults: dict[str, Any] = {
            "external_id": None,
            "name": None,
            "kind": mapping.kind,
            "tags": (),
            "source": None,
            "owner": None,
            "contact_name": None,
            "email": (),
            "phone": (),
            "role": None,
        }

    def validate(self, row_number: int, row: Mapping[str, Any]) -> ImportRow | list[RowError]:
        """Return the checked row, or every problem it has (one per field at most).

        ``row`` maps column names to cells (a CSV row by header, or a JSON Lines object, whose
        values may also be numbers, or lists for ``tags``, ``email`` and ``phone``).

        Example:
            >>> check = RowValidator(ColumnMapping({"name": "n", "kind": "k"}))
            >>> [(e.field, e.error, e.value) for e in check.validate(7, {"n": "Acme", "k": "shop"})]
            [('kind', "must be one of 'company', 'person', not 'shop'", 'shop')]
        """
        values = self.check(row_number, row)
        if isinstance(values, list):
            return values
        return ImportRow(
            row=row_number,
            external_id=values["external_id"],
            name=values["name"],
            kind=values["kind"],
            tags=values["tags"],
            source=values["source"],
            owner=values["owner"],
            contact_name=values["contact_name"],
            emails=values["email"],
            phones=values["phone"],
            role=values["role"],
        )

    def for_header(self, header: Sequence[str]) -> RowValidator:
        """A validator for rows given as lists of cells in ``header``'s order (a CSV's rows).

        Every mapped column must be in the header (``ValidationError`` naming the missing
        ones and the header's columns).

        Example:
            >>> check = RowValidator(ColumnMapping({"name": "Name"})).for_header(["Id", "Name"])
            >>> check.check(2, ["7", "Amy"])["name"]
            'Amy'
            >>> RowValidator(ColumnMapping({"name": "Full name"})).for_header(["Name"])
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: mapping.columns: the header has no column 'Full name' ...
        """
        position = {column: i for i, column in reversed(list(enumerate(header)))}
        missing = [f"{c!r} (for {f})" for f, c in self.mapping.columns.items() if c not in position]
        if missing:
            raise ValidationError(
                f"the header has no column {', '.join(missing)}; it has "
                f"{', '.join(map(repr, header))}: fix the mapping or the file",
                path="mapping.columns",
            )
        clone = copy.copy(self)
        clone._plan = [(f, position[c], convert) for f, c, convert in self._plan]
        clone._by_position = True
        return clone

    def check(
        self, row_number: int, row: Mapping[str, Any] | Sequence[Any]
    ) -> dict[str, Any] | list[RowError]:
        """Like :meth:`validate`, with the checked values as a dict by field (the fast path).

        ``row`` is a mapping by column name, or a list of cells for a validator made by
        :meth:`for_header`.

        Example:
            >>> RowValidator(ColumnMapping({"name": "n"})).check(2, {"n": " Amy "})["name"]
            'Amy'
        """
        values = self._defaults.copy()
        errors: list[RowError] | None = None
        get = row.__getitem__ if self._by_position else row.get  # type: ignore[union-attr]
        for field, column, convert in self._plan:
            raw = get(column)
            try:
                values[field] = convert(raw)
            except ValidationError as exc:
                if errors is None:
                    errors = []
                message = exc.errors[0].message if exc.errors else str(exc)
                shown = raw if isinstance(raw, str) or raw is None else repr(raw)
                errors.append(RowError(row_number, field, message, _SUGGESTIONS[field], shown))
        if errors is not None:
            return errors
        if values["name"] is None:
            return [RowError(row_number, "name", "must not be empty", _SUGGESTIONS["name"])]
        if values["contact_name"] is None and (values["email"] or values["phone"]):
            values["contact_name"] = values["name"]
        return values

    def _kind(self, value: Any) -> str:
        if value is None:
            return self.mapping.kind
        if not isinstance(value, str):
            value = _as_text(value)
        kind: str = value.strip().lower()
        if not kind:
            return self.mapping.kind
        if kind not in ("company", "person"):
            raise ValidationError(f"must be one of 'company', 'person', not {value.strip()!r}")
        return kind

    def _split(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            return [v if isinstance(v, str) else _as_text(v) for v in value]
        if not isinstance(value, str):
            value = _as_text(value)
        if self._separator not in value:
            value = value.strip()
            return [value] if value else []
        return [part.strip() for part in value.split(self._separator) if part.strip()]

    def _tags(self, value: Any) -> tuple[str, ...]:
        parts = self._split(value)
        return self._tag_check(parts) if parts else ()

    def _emails(self, value: Any) -> tuple[str, ...]:
        if type(value) is str and self._separator not in value:  # the common case: one
            return (fast_normalize_email(value),) if value and not value.isspace() else ()
        return self._each(self._split(value), fast_normalize_email)

    def _phones(self, value: Any) -> tuple[str, ...]:
        phone, region = self._phone, self.region
        if type(value) is str and self._separator not in value:
            return (phone(value, region),) if value and not value.isspace() else ()
        return self._each(self._split(value), lambda p: phone(p, region))

    @staticmethod
    def _each(parts: list[str], normalise: Callable[[str], str]) -> tuple[str, ...]:
        if len(parts) <= 1:  # the common case
            return (normalise(parts[0]),) if parts else ()
        seen = dict.fromkeys(normalise(part) for part in parts)
        if len(seen) > 10:
            raise ValidationError(f"must hold at most 10 values, got {len(seen)}")
        return tuple(seen)
