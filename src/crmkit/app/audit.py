"""Use cases of the audit log: a record's trail, an actor's entries, verification, pseudonymising.

The message bus records the entries (see :class:`AuditSettings` and
:mod:`crmkit.access.audit`); these functions read and check them through a unit of work. The
facade has them as :meth:`CRM.audit_trail <crmkit.app.CRM.audit_trail>`,
:meth:`CRM.audit_by_actor <crmkit.app.CRM.audit_by_actor>`,
:meth:`CRM.verify_audit <crmkit.app.CRM.verify_audit>` and
:meth:`CRM.pseudonymise_audit <crmkit.app.CRM.pseudonymise_audit>`.

Example:
    >>> from crmkit import bootstrap
    >>> crm = bootstrap()
    >>> acme = crm.register_customer("Acme", actor="usr_amy")
    >>> _ = crm.rename_customer(acme.id, "Acme Corp", actor="usr_bob")
    >>> with crm.store.unit_of_work() as uow:
    ...     [(e.actor, e.command) for e in audit_trail(uow, "customers", acme.id)]
    ...     verify_audit(uow).ok
    [('usr_amy', 'RegisterCustomer'), ('usr_bob', 'RenameCustomer')]
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

import attrs

from crmkit.access.audit import (
    AUDIT_ENTRIES,
    AuditEntry,
    AuditProblem,
    AuditReport,
    pseudonymise,
    verify_chain,
)
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import Op, Page, Query
from crmkit.kernel.time import Clock, ensure_aware
from crmkit.ports import UnitOfWork

__all__ = [
    "AuditSettings",
    "audit_by_actor",
    "audit_trail",
    "audited",
    "pseudonymise_trail",
    "verify_audit",
]


def _to_key(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise ValidationError(
        f"must be bytes (or text) held by the host, or None, not {type(value).__name__}",
        path="key",
    )


def _to_names(value: object) -> tuple[str, ...]:
    return v.text_tuple("exclude")(value)


@attrs.frozen
class AuditSettings:
    """How the message bus keeps the audit log.

    Args:
        key: a secret the host keeps; with it, entry hashes are HMACs, so nobody without the
            key can rewrite a record's chain consistently. Without it (the default) the chains
            detect edits and removals, but someone who can write the store could recompute
            them. Pass the same key to :func:`verify_audit`.
        exclude: record types not audited. Default: ``("deliveries",)``, the notification
            deliveries the dispatcher (not a command) keeps changing.

    Example:
        >>> AuditSettings(key=b"from-the-host-vault")
        AuditSettings(exclude=('deliveries',))
        >>> AuditSettings(exclude="customers")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: exclude: must be a list of text, not str

    .. versionadded:: 0.1.0
    """

    key: bytes | None = attrs.field(default=None, converter=_to_key, repr=False)
    exclude: tuple[str, ...] = attrs.field(default=("deliveries",), converter=_to_names)


def _name(record_type: object) -> str:
    name = getattr(record_type, "name", record_type)
    if not isinstance(name, str) or not name:
        raise ValidationError(
            f"must be a record type name such as 'customers' (or a RecordType), not "
            f"{type(record_type).__name__}",
            path="record_type",
        )
    return name


def _all(uow: Any, name: str, query: Query) -> list[Any]:
    repository = getattr(uow, name)
    found: list[Any] = []
    while True:
        page = repository.query(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)


def audit_trail(uow: UnitOfWork, record_type: object, id: str) -> list[AuditEntry]:
    """Return every audit entry of one record, oldest first (empty if it has none).

    ``record_type`` is the record type's name (``"customers"``) or the ``RecordType``.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> _ = crm.tag_customer(acme.id, add=["vip"])
        >>> with crm.store.unit_of_work() as uow:
        ...     trail = audit_trail(uow, "customers", acme.id)
        >>> [[(c.path, c.kind) for c in e.changes] for e in trail]
        [[('', 'added')], [('/tags/0', 'added')]]

    .. versionadded:: 0.1.0
    """
    name = _name(record_type)
    query = Query.where(record_type=name, target_id=check_id(id, "id"))
    return _all(uow, AUDIT_ENTRIES.name, query.order("target_version", "id").take(1000))


def audit_by_actor(
    uow: UnitOfWork,
    actor: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AuditEntry]:
    """Return one page of what ``actor`` did, newest first, optionally from ``since`` to ``until``.

    ``until`` is exclusive. Pass the page's ``next_cursor`` as ``cursor`` for the next page.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> _ = crm.register_customer("Acme", actor="usr_amy")
        >>> _ = crm.register_customer("Formosa Tea", actor="usr_bob")
        >>> with crm.store.unit_of_work() as uow:
        ...     [e.command for e in audit_by_actor(uow, "usr_bob").items]
        ['RegisterCustomer']

    .. versionadded:: 0.1.0
    """
    if not isinstance(actor, str) or not actor:
        raise ValidationError(f"must be the actor's user id (text), not {actor!r}", path="actor")
    query = Query.where(actor=actor).order("-at", "-id").take(limit)
    if since is not None:
        query = query.filter("at", Op.GE, ensure_aware(since, "since"))
    if until is not None:
        query = query.filter("at", Op.LT, ensure_aware(until, "until"))
    if cursor is not None and not isinstance(cursor, str):
        raise ValidationError(
            f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
        )
    return uow.audit_entries.query(query.after(cursor))


def _audited_names(exclude: Iterable[str]) -> list[str]:
    skip = {AUDIT_ENTRIES.name, *exclude}
    return [name for name in UnitOfWork.__annotations__ if name not in skip]


def verify_audit(
    uow: UnitOfWork,
    *,
    key: bytes | None = None,
    exclude: Iterable[str] = ("deliveries",),
) -> AuditReport:
    """Check every record's chain, and that every audited record has one; report each problem.

    Reads every audit entry and every record of the audited record types (all but
    ``exclude``) and runs :func:`~crmkit.access.audit.verify_chain` on each record's entries
    against the record's current version. A record that exists but has no entry is reported as
    ``unaudited`` (which is also what records written before auditing began, or outside the
    message bus, look like). ``key`` is the :class:`AuditSettings` key, if one was used.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> _ = crm.rename_customer(acme.id, "Acme Corp")
        >>> with crm.store.unit_of_work() as uow:
        ...     newest = audit_trail(uow, "customers", acme.id)[-1]
        ...     uow.audit_entries.remove(newest)   # tampering, straight through the store
        ...     uow.commit()
        ()
        >>> with crm.store.unit_of_work() as uow:
        ...     [p.kind for p in verify_audit(uow).problems]
        ['head_behind']

    .. versionadded:: 0.1.0
    """
    skip = v.text_tuple("exclude")(exclude)
    chains: dict[tuple[str, str], list[AuditEntry]] = {}
    count = 0
    query = Query().order("record_type", "target_id", "target_version", "id").take(1000)
    for entry in _all(uow, AUDIT_ENTRIES.name, query):
        chains.setdefault((entry.record_type, entry.target_id), []).append(entry)
        count += 1
    names = _audited_names(skip)
    names += sorted({rt for rt, _ in chains if rt not in names})
    versions: dict[tuple[str, str], int] = {}
    for name in names:
        if getattr(uow, name, None) is None:
            continue
        for record in _all(uow, name, Query().take(1000)):
            versions[(name, record.id)] = record.version
    problems: list[AuditProblem] = []
    for (name, target_id), entries in chains.items():
        problems.extend(verify_chain(entries, versions.get((name, target_id)), key=key))
    for (name, target_id), version in versions.items():
        if (name, target_id) not in chains and name not in skip:
            problems.append(
                AuditProblem(
                    "unaudited",
                    name,
                    target_id,
                    f"{name} {target_id!r}: the record is at version {version} but has no audit "
                    "entry (its entries were removed, or it was written before auditing began "
                    "or outside the message bus)",
                    version=version,
                )
            )
    problems.sort(key=lambda p: (p.record_type, p.target_id, p.version or 0, p.kind))
    return AuditReport(entries=count, records=len(versions), problems=tuple(problems))


def audited(
    uow: UnitOfWork,
    *,
    actor: object,
    action: str,
    clock: Clock,
    settings: AuditSettings | None = None,
) -> UnitOfWork:
    """Wrap ``uow`` so that its commits write audit entries, as a command's do on the bus.

    For code that writes outside the message bus (a bulk import, a scheduled job): every record
    added, saved or removed through the returned unit of work gets its entry, attributed to
    ``actor`` (a user id, or an ``Actor``) and ``action`` (recorded as the entry's command),
    in the same transaction. Leave the ``with`` block of ``uow`` itself as usual.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.adapters.memory import MemoryStore
        >>> from crmkit.customers import Customer
        >>> from crmkit.kernel import ManualClock
        >>> store, clock = MemoryStore(), ManualClock()
        >>> with store.unit_of_work() as raw:
        ...     uow = audited(raw, actor="usr_amy", action="ImportCustomers", clock=clock)
        ...     uow.customers.add(Customer(id="cus_1", name="Acme", kind="company",
        ...                                created_at=clock.now()))
        ...     _ = uow.commit()
        >>> with store.unit_of_work() as uow:
        ...     [(e.actor, e.command) for e in audit_trail(uow, "customers", "cus_1")]
        [('usr_amy', 'ImportCustomers')]

    .. versionadded:: 0.1.0
    """
    from crmkit.app.messagebus import _TrackedUnitOfWork

    if not isinstance(action, str) or not action.strip():
        raise ValidationError(
            f"must name what is done (e.g. 'ImportCustomers'), not {action!r}", path="action"
        )
    if settings is not None and not isinstance(settings, AuditSettings):
        raise ValidationError(
            f"must be AuditSettings or None, not {type(settings).__name__}", path="settings"
        )
    tracked = _TrackedUnitOfWork(
        uow,
        settings or AuditSettings(),
        clock,
        SimpleNamespace(actor=actor),
        command_name=action.strip(),
    )
    return cast(UnitOfWork, tracked)


def pseudonymise_trail(
    uow: UnitOfWork,
    record_type: object,
    id: str,
    *,
    paths: Iterable[str] | None = None,
    containing: Iterable[str] = (),
) -> int:
    """Drop values (keep digests) in a record's audit entries; return how many entries changed.

    The one sanctioned change to stored entries, for privacy requests: see
    :func:`~crmkit.access.audit.pseudonymise` for ``paths`` and ``containing``. The entries are
    saved in ``uow`` (also inside a command handler); commit it. The chains still verify.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Wang Xiao-ming", "person")
        >>> with crm.store.unit_of_work() as uow:
        ...     pseudonymise_trail(uow, "customers", acme.id, containing=["wang xiao-ming"])
        ...     _ = uow.commit()
        1
        >>> with crm.store.unit_of_work() as uow:
        ...     audit_trail(uow, "customers", acme.id)[0].changes[0].after.value is None
        ...     verify_audit(uow).ok
        True
        True

    .. versionadded:: 0.1.0
    """
    from crmkit.app.messagebus import _unaudited

    raw = _unaudited(uow)
    changed = 0
    for entry in audit_trail(raw, record_type, id):
        erased = pseudonymise(entry, paths=paths, containing=containing)
        if erased.changes != entry.changes:
            raw.audit_entries.save(erased)
            changed += 1
    return changed
