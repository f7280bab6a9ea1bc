"""crmkit's table layout for SQLAlchemy: one table per record type, side tables, the outbox.

The SQL type of each projected field follows the kind its
:class:`~crmkit.kernel.query.RecordType` declares in ``kinds`` (or the ``column_kinds`` a host
passes to :func:`make_metadata`, which override it); a field declared nowhere is text.

Every column knows its kind (``Column.info["crmkit_kind"]``), so the store converts values the
same way whichever MetaData (crmkit's, or a host's built with :func:`make_metadata`) it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from crmkit.adapters._shared import RECORD_TYPES
from crmkit.errors import FieldError, ValidationError
from crmkit.kernel.query import FIELD_KINDS, FieldKind, RecordType, Scalar

__all__ = [
    "COLUMN_KINDS",
    "DEFAULT_METADATA",
    "SCHEMA_VERSION",
    "FieldKind",
    "make_metadata",
]

#: The version of crmkit's SQLAlchemy table layout (not of the documents inside), kept in the
#: ``crm_schema`` table under the component ``"sqlalchemy"``.
SCHEMA_VERSION = 1

#: The component name under which this adapter records its layout version in ``crm_schema``.
COMPONENT = "sqlalchemy"

_KINDS: tuple[str, ...] = FIELD_KINDS

#: The kinds of crmkit's own projected fields that are not text, keyed by (record type name,
#: field name); each record type declares them in ``RecordType.kinds``.
COLUMN_KINDS: Mapping[tuple[str, str], FieldKind] = {
    (rt.name, field): kind for rt in RECORD_TYPES for field, kind in rt.kinds.items()
}

#: Longest text a queryable (projected) column holds, in characters.
TEXT_LENGTH = 255
#: Longest id.
ID_LENGTH = 64

_RESERVED = frozenset({"id", "version", "schema_version", "document"})

#: Table options: InnoDB, full Unicode, and binary (code point) order on MySQL/MariaDB.
_TABLE_OPTIONS: dict[str, Any] = {
    f"{prefix}_{option}": value
    for prefix in ("mysql", "mariadb")  # mysql+pymysql:// and mariadb+pymysql:// URLs
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))
}


def text_type(length: int) -> TypeEngine[str]:
    """Text that compares and sorts by code point on every dialect, as Python does.

    PostgreSQL columns use the ``"C"`` collation, MySQL/MariaDB ``utf8mb4_bin``; SQLite's
    default ``BINARY`` collation already compares UTF-8 bytes, which is code point order.
    """
    return (
        sa.String(length)
        .with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")
        .with_variant(
            mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
        )
    )


def _document_type() -> TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(charset="utf8mb4"), "mysql", "mariadb")


def _position_type() -> TypeEngine[int]:
    # SQLite auto-increments only an INTEGER PRIMARY KEY (an alias of the rowid).
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _column_type(kind: str) -> TypeEngine[Any]:
    if kind == "integer":
        return sa.BigInteger()
    if kind == "boolean":
        return sa.Boolean(create_constraint=False)
    if kind == "datetime":
        return text_type(32)
    if kind == "date":
        return text_type(10)
    if kind == "decimal":
        return sa.Numeric(38, 10, asdecimal=True)
    return text_type(TEXT_LENGTH)


def side_table_name(record_type_name: str, field: str) -> str:
    """Name of the side table holding a multi-valued field."""
    return f"crm_{record_type_name}__{field}"


def _usable(name: str) -> bool:
    return bool(name) and name.isascii() and name.replace("_", "").isalnum()


def make_metadata(
    record_types: Iterable[RecordType[Any]] = RECORD_TYPES,
    *,
    column_kinds: Mapping[tuple[str, str], FieldKind] | None = None,
) -> sa.MetaData:
    """Build a ``MetaData`` holding crmkit's tables for ``record_types``.

    Each record type gets ``crm_<name>(id, version, schema_version, document, <fields>)`` with an
    index per projected field, and a side table ``crm_<name>__<field>(id, value)`` per
    multi-valued field. The outbox (``crm_outbox``), its lock row (``crm_outbox_lock``) and the
    layout version (``crm_schema``) complete the set.

    Args:
        record_types: the record types to lay out (crmkit's own by default).
        column_kinds: the kind (see :data:`~crmkit.kernel.query.FieldKind`) of projected
            fields, keyed by ``(record type name, field)``; it overrides what the record types
            declare in ``RecordType.kinds``. A field declared nowhere is stored as text.

    Example:
        >>> md = make_metadata()
        >>> [name for name in sorted(md.tables) if name.startswith(("crm_contacts", "crm_cou"))]
        ['crm_contacts', 'crm_contacts__emails', 'crm_contacts__phones', 'crm_coupons']
        >>> md.tables["crm_customers"].c.created_at.type
        String(length=32)
        >>> make_metadata(column_kinds={("customers", "name"): "money"})
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: column_kinds[('customers', 'name')]: 'money' is not ...

    .. versionadded:: 0.1.0
    """
    kinds: dict[tuple[str, str], FieldKind] = {}
    problems: list[FieldError] = []
    for key, declared in (column_kinds or {}).items():
        if declared not in _KINDS:
            problems.append(
                FieldError(
                    f"column_kinds[{key!r}]",
                    f"{declared!r} is not a field kind; use one of {', '.join(_KINDS)}",
                )
            )
        else:
            kinds[key] = declared
    record_types = list(record_types)
    for n, record_type in enumerate(record_types):
        if not isinstance(record_type, RecordType):
            problems.append(
                FieldError(
                    f"record_types[{n}]", f"must be a RecordType, not {type(record_type).__name__}"
                )
            )
            continue
        if not _usable(record_type.name):
            problems.append(
                FieldError(
                    f"record_types[{n}].name",
                    f"{record_type.name!r} cannot name a table; use letters, digits and _",
                )
            )
        for field in record_type.fields:
            if not _usable(field) or field in _RESERVED:
                problems.append(
                    FieldError(
                        f"record_types[{n}].fields",
                        f"{field!r} cannot name a column; use letters, digits and _, and none "
                        f"of {', '.join(sorted(_RESERVED))}",
                    )
                )
    if problems:
        raise ValidationError(errors=problems)

    md = sa.MetaData()
    for record_type in record_types:
        name = record_type.name
        table_name = f"crm_{name}"
        columns: list[sa.Column[Any]] = [
            sa.Column("id", text_type(ID_LENGTH), primary_key=True, info={"crmkit_kind": "text"}),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("schema_version", sa.Integer(), nullable=False),
            sa.Column("document", _document_type(), nullable=False),
        ]
        indexes: list[sa.Index] = []
        multi: list[str] = []
        for field in record_type.fields:
            kind: FieldKind = kinds.get((name, field), record_type.kind(field))
            if kind == "multi":
                multi.append(field)
                continue
            columns.append(
                sa.Column(field, _column_type(kind), nullable=True, info={"crmkit_kind": kind})
            )
            indexes.append(sa.Index(f"ix_{table_name}_{field}", field))
        sa.Table(
            table_name,
            md,
            *columns,
            *indexes,
            info={"crmkit_record_type": name, "crmkit_multi": tuple(multi)},
            **_TABLE_OPTIONS,
        )
        for field in multi:
            side = side_table_name(name, field)
            sa.Table(
                side,
                md,
                sa.Column("id", text_type(ID_LENGTH), primary_key=True),
                sa.Column(
                    "value",
                    text_type(TEXT_LENGTH),
                    primary_key=True,
                    info={"crmkit_kind": "text"},
                ),
                sa.Index(f"ix_{side}_value", "value"),
                info={"crmkit_record_type": name, "crmkit_field": field},
                **_TABLE_OPTIONS,
            )
    sa.Table(
        "crm_outbox",
        md,
        sa.Column("position", _position_type(), primary_key=True, autoincrement=True),
        sa.Column("event_id", text_type(ID_LENGTH), nullable=False, unique=True),
        sa.Column("event_type", text_type(128), nullable=False),
        sa.Column("aggregate_id", text_type(ID_LENGTH), nullable=False),
        sa.Column("payload", _document_type(), nullable=False),
        sa.Column("delivered_at", text_type(32), nullable=True),
        sa.Index("ix_crm_outbox_pending", "delivered_at", "position"),
        sqlite_autoincrement=True,
        **_TABLE_OPTIONS,
    )
    sa.Table(
        "crm_outbox_lock",
        md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        **_TABLE_OPTIONS,
    )
    sa.Table(
        "crm_schema",
        md,
        sa.Column("component", text_type(ID_LENGTH), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        **_TABLE_OPTIONS,
    )
    return md


# ----- values -------------------------------------------------------------------------------

_PYTHON_TYPE = {
    "text": "str",
    "integer": "int",
    "boolean": "bool",
    "datetime": "datetime",
    "date": "date",
    "decimal": "Decimal",
    "multi": "tuple",
}


def python_type_name(kind: str) -> str:
    """The Python type a column of ``kind`` holds (for messages)."""
    return _PYTHON_TYPE.get(kind, "str")


def utc_text(value: datetime) -> str:
    """Fixed-width UTC ISO text for an aware datetime, so text order is time order."""
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "+00:00"


def fits(kind: str, value: object) -> bool:
    """Whether ``value`` (not ``None``) compares with a ``kind`` column as Python would."""
    if kind == "text":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "datetime":
        return isinstance(value, datetime) and value.utcoffset() is not None
    if kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind == "decimal":
        return isinstance(value, (int, Decimal)) and not (
            isinstance(value, Decimal) and not value.is_finite()
        )
    return False


#: The range of a BIGINT column.
INTEGER_RANGE = (-(2**63), 2**63 - 1)
#: Digits a Numeric(38, 10) column keeps before and after the point.
DECIMAL_DIGITS = (28, 10)


def out_of_range(kind: str, value: object) -> int:
    """For an ``integer`` column: -1/1 if ``value`` lies below/above any storable one, else 0."""
    if kind != "integer" or not isinstance(value, int):
        return 0
    low, high = INTEGER_RANGE
    return -1 if value < low else 1 if value > high else 0


def to_column(kind: str, value: Any) -> Any:
    """Convert a value that :func:`fits` ``kind`` to what its column stores and compares."""
    if value is None:
        return None
    if kind == "datetime":
        return utc_text(value)
    if kind == "date":
        return value.isoformat()
    if kind == "boolean":
        return bool(value)
    if kind == "integer" and isinstance(value, bool):
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    return value


def check_text(value: str, path: str, limit: int = TEXT_LENGTH) -> str:
    """Refuse text a queryable column cannot hold on every database; return it unchanged."""
    if len(value) > limit:
        raise ValidationError(
            f"is {len(value)} characters long; a queryable field holds at most {limit} in SQL "
            "storage",
            path=path,
        )
    if "\x00" in value:
        raise ValidationError(
            "contains a NUL character, which PostgreSQL cannot store; remove it", path=path
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "is not valid Unicode (it holds a lone surrogate)", path=path
        ) from None
    return value


def stored_value(record_type_name: str, field: str, kind: str, value: Scalar) -> Any:
    """Check a projected value of ``kind`` and convert it for its column.

    A ``multi`` field returns its distinct values as a list (for the side table).
    """
    if value is None:
        return [] if kind == "multi" else None
    path = field
    if kind == "multi":
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, (tuple, list)):
            raise ValidationError(
                f"a multi-valued field must project a tuple of text, not {type(value).__name__}",
                path=path,
            )
        distinct: dict[str, None] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(
                    f"must be text, not {type(item).__name__}", path=f"{path}[{i}]"
                )
            distinct.setdefault(check_text(item, f"{path}[{i}]"), None)
        return list(distinct)
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime) and value.utcoffset() is None:
        raise ValidationError("must be an aware datetime", path=path)
    if not fits(kind, value):
        raise ValidationError(
            f"{record_type_name} projects a {type(value).__name__} here but its column holds "
            f"{kind}; declare it with make_metadata(column_kinds={{({record_type_name!r}, "
            f"{field!r}): ...}})",
            path=path,
        )
    if kind == "text":
        return check_text(cast("str", value), path)
    if out_of_range(kind, value):
        low, high = INTEGER_RANGE
        raise ValidationError(f"must be from {low} to {high} to be stored, got {value}", path=path)
    if kind == "decimal":
        number = Decimal(cast("int | Decimal", value))
        exponent = number.normalize().as_tuple().exponent
        whole, places = DECIMAL_DIGITS
        if number.adjusted() >= whole or (isinstance(exponent, int) and -exponent > places):
            raise ValidationError(
                f"must have at most {whole} digits before the point and {places} after it to "
                f"be stored, got {value}",
                path=path,
            )
    return to_column(kind, value)


#: crmkit's tables for its own record types (public as ``crmkit.adapters.sqlalchemy.metadata``).
DEFAULT_METADATA = make_metadata()
