# ruff: noqa: RUF012  (Django's Meta options are plain class-level lists)
"""Where crmkit's records live: three generic tables, good for every record type.

* ``Record``: one row per aggregate. ``kind`` is the record type's name (``"customers"``),
  ``record_id`` the aggregate's id, ``document`` the JSON document crmkit's converter made (without
  the version), ``version`` the optimistic-concurrency counter, ``schema_version`` the document's
  schema (older documents are upcast when read), ``projection`` the record type's projected
  fields as typed JSON (what queries sort and compare on).
* ``RecordTerm``: one row per projected value (a tag list gives one row per tag), indexed by
  ``(field, value, record)``; equality, membership and prefix filters narrow a query in SQL with it.
* ``OutboxEntry``: committed events; ``position`` is the commit order.
* ``OutboxLock``: one row that committing units of work lock (``SELECT ... FOR UPDATE``) while
  they append to the outbox, so positions follow commit order on servers with concurrent
  transactions (PostgreSQL, MariaDB). SQLite has one writer at a time and ignores the lock.

A new crmkit record type (yours, or one a later crmkit adds) needs no migration: it is rows in the
same tables with another ``kind``.
"""

from __future__ import annotations

from django.db import models


# --8<-- [start:models]
class Record(models.Model):
    """One stored aggregate: its document, version and projected fields."""

    kind = models.CharField(max_length=64)
    record_id = models.CharField(max_length=255)
    version = models.PositiveIntegerField()
    schema_version = models.PositiveIntegerField()
    document = models.JSONField()
    projection = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="crm_record_kind_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.record_id} v{self.version}"


class RecordTerm(models.Model):
    """One projected value of a record, as canonical text, for filtering in SQL.

    ``value`` is ``NULL`` for ``None``; otherwise a typed, canonical text (``"s:Acme"``,
    ``"n:12.5"``, ``"t:2026-01-05T01:00:00.000000+00:00"``) cut to 255 characters. Equal values
    give equal terms, so a filter on terms returns every matching record (and, for values cut
    short, perhaps a few more, which the exact check in Python then drops).
    """

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="terms")
    field = models.CharField(max_length=64)
    value = models.CharField(max_length=255, null=True)

    class Meta:
        indexes = [models.Index(fields=["field", "value", "record"], name="crm_term_lookup")]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}"


class OutboxEntry(models.Model):
    """A committed domain event, waiting to be handed to a relay."""

    position = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=255)
    aggregate_id = models.CharField(max_length=255)
    payload = models.JSONField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "position"], name="crm_outbox_pending")]
        verbose_name_plural = "outbox entries"

    def __str__(self) -> str:
        return f"#{self.position} {self.event_type}"


# --8<-- [end:models]


class OutboxLock(models.Model):
    """The single row (id 1, made by a migration) that orders outbox appends."""

    id = models.PositiveSmallIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"outbox lock {self.id}"
