"""Privacy requests: export everything about a person, erase them, apply retention rules.

* :func:`export_person`: everything crmkit holds about a person (by customer id for a person
  customer, or by contact id), plus the leads that match their normalised email or phone, as one
  JSON-ready document: a section per record type, the audit entries about those records and the
  outbox events that mention them.
* :func:`erase_person`: anonymises the person in every record type, following the
  :class:`~crmkit.customers.privacy.PersonalDataMap` (records that belong to the person lose
  every mapped field; other records lose the values that mention them), rewrites the outbox
  (pending *and* delivered events) and pseudonymises the audit log (values dropped, digests kept,
  so the chains still verify), all in one unit of work. What the law requires stays: quote
  amounts, orders' amounts and the points ledger are not touched. A final safety scan reads every
  string of every record, audit entry and outbox event; if one of the person's identifiers is
  left anywhere, the erasure fails (nothing changes) and the error names each path.
* :func:`apply_retention`: deletes or anonymises the records past their
  :class:`~crmkit.customers.privacy.RetentionPolicy` period.

Access: ``privacy.export`` and ``privacy.erase`` (retention runs under ``privacy.erase``); only
admins have them among the built-in roles. The facade has them as
:meth:`CRM.export_person <crmkit.app.CRM.export_person>`,
:meth:`CRM.erase_person <crmkit.app.CRM.erase_person>` and
:meth:`CRM.apply_retention <crmkit.app.CRM.apply_retention>`.

Example:
    >>> from crmkit import bootstrap
    >>> crm = bootstrap()
    >>> amy = crm.register_customer("Amy Chen", "person")
    >>> _ = crm.add_contact(amy.id, "Amy Chen", emails=["amy@example.com"])
    >>> sorted(crm.export_person(customer_id=amy.id)["sections"])
    ['contacts', 'customers']
    >>> report = crm.erase_person(customer_id=amy.id)
    >>> crm.get_customer(amy.id).name, crm.contacts_of(amy.id)[0].emails
    ('Erased person', ())

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from crmkit.access.audit import (
    AUDIT_ENTRIES,
    GENESIS,
    AuditEntry,
    entry_id_for,
    pseudonymise,
)
from crmkit.app.audit import AuditSettings
from crmkit.app.messagebus import CommandHandler, _unaudited
from crmkit.app.triggers import scan
from crmkit.customers.privacy import (
    PersonalDataMap,
    PersonalField,
    PersonIdentifiers,
    PiiKind,
    RetentionAction,
    RetentionPolicy,
    find_identifiers,
    scrub_document,
)
from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import Clock, ensure_aware
from crmkit.ports import AccessPolicy, UnitOfWork
from crmkit.serialization import structure, unstructure

__all__ = [
    "ApplyRetention",
    "ErasePerson",
    "ErasureReport",
    "ExportPerson",
    "PrivacySettings",
    "RetentionRun",
    "apply_retention",
    "command_handlers",
    "erase_person",
    "export_person",
]

#: What the law keeps, and why: shown in every erasure report.
KEPT = (
    "quotes: lines, prices and totals of quotes are kept (accounting law); they name no person",
    "orders: amounts, dates and lines are kept (accounting law); line text naming the person goes",
    "memberships: the points ledger is kept exactly (points are a liability); the birthday goes",
    "audit_entries: entries stay, with their values dropped and digests kept, so the chains "
    "still verify",
)

_REF_FIELDS = ("customer_id", "referrer_id", "referee_id")


@attrs.frozen
class PrivacySettings:
    """The personal-data map and the retention policy the privacy use cases follow.

    Example:
        >>> PrivacySettings().retention.rules_for("deliveries")[0].years
        1

    .. versionadded:: 0.1.0
    """

    personal_data: PersonalDataMap = attrs.field(factory=PersonalDataMap.builtin)
    retention: RetentionPolicy = attrs.field(factory=RetentionPolicy.builtin)


def _subject_fields(instance: Any, _attribute: Any, _value: Any) -> None:
    if (instance.customer_id is None) == (instance.contact_id is None):
        raise ValidationError(
            "give exactly one of customer_id (a person customer) or contact_id",
            path="customer_id",
        )
    for name in ("customer_id", "contact_id"):
        value = getattr(instance, name)
        if value is not None:
            check_id(value, name)


@attrs.frozen(kw_only=True)
class ExportPerson:
    """Export everything crmkit holds about a person (a person customer, or one contact).

    Example:
        >>> ExportPerson(customer_id="cus_1").contact_id is None
        True
        >>> ExportPerson()
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: customer_id: give exactly one of customer_id ...

    .. versionadded:: 0.1.0
    """

    customer_id: str | None = None
    contact_id: str | None = attrs.field(default=None, validator=_subject_fields)
    actor: str | None = None


@attrs.frozen(kw_only=True)
class ErasePerson:
    """Erase (anonymise) a person across every record type, the outbox and the audit log.

    Example:
        >>> ErasePerson(contact_id="con_1", actor="u_admin").actor
        'u_admin'

    .. versionadded:: 0.1.0
    """

    customer_id: str | None = None
    contact_id: str | None = attrs.field(default=None, validator=_subject_fields)
    actor: str | None = None


@attrs.frozen(kw_only=True)
class ApplyRetention:
    """Delete or anonymise the records past their retention period at ``now`` (default: now).

    Example:
        >>> ApplyRetention().now is None
        True

    .. versionadded:: 0.1.0
    """

    now: datetime | None = None
    actor: str | None = None


@attrs.frozen
class ErasureReport:
    """What an erasure changed: each record with its changes, audit entries, outbox positions.

    ``records`` maps ``"record_type/id"`` to the paths erased in it; ``kept`` says what the law
    keeps and why.

    Example:
        >>> report = ErasureReport(subject="cus_1", records={"customers/cus_1": ("name",)})
        >>> print(report.explain())
        Erased cus_1: 1 record(s), 0 audit entry(ies), 0 outbox event(s).
          customers/cus_1: name
        Kept:
          quotes: ...

    .. versionadded:: 0.1.0
    """

    subject: str
    records: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    audit_entries: int = 0
    outbox_positions: tuple[int, ...] = ()
    kept: tuple[str, ...] = KEPT

    def explain(self) -> str:
        """A readable summary."""
        lines = [
            f"Erased {self.subject}: {len(self.records)} record(s), {self.audit_entries} audit "
            f"entry(ies), {len(self.outbox_positions)} outbox event(s)."
        ]
        lines += [f"  {key}: {', '.join(paths)}" for key, paths in self.records.items()]
        lines.append("Kept:")
        lines += [f"  {reason}" for reason in self.kept]
        return "\n".join(lines)


@attrs.frozen
class RetentionRun:
    """What :func:`apply_retention` did: ``"record_type/id"`` keys deleted and anonymised.

    Example:
        >>> RetentionRun(deleted=("leads/lead_1",)).deleted
        ('leads/lead_1',)

    .. versionadded:: 0.1.0
    """

    deleted: tuple[str, ...] = ()
    anonymised: tuple[str, ...] = ()


# ----- reading everything -------------------------------------------------------------------
def _names(uow: Any) -> list[str]:
    names = [n for n in UnitOfWork.__annotations__ if getattr(uow, n, None) is not None]
    return [n for n in names if hasattr(getattr(uow, n), "query")]


def _document(aggregate: Any) -> dict[str, Any]:
    document: dict[str, Any] = unstructure(aggregate)
    document.pop("version", None)
    return document


@attrs.define
class _Subject:
    """The person: their records' ids, and how to recognise them in text."""

    label: str
    customer_id: str | None  # set only for a person customer
    contact_ids: set[str]
    lead_ids: set[str]
    who: PersonIdentifiers

    def owns(self, name: str, document: Mapping[str, Any]) -> bool:
        id = document.get("id")
        if name == "customers" and id == self.customer_id and id is not None:
            return True
        if name == "contacts" and id in self.contact_ids:
            return True
        if name == "leads":
            return id in self.lead_ids
        if self.customer_id is not None:
            if any(document.get(f) == self.customer_id for f in _REF_FIELDS):
                return True
            if self.customer_id in (document.get("customer_ids") or ()):
                return True
        return document.get("contact_id") in self.contact_ids


def _find_subject(uow: Any, customer_id: str | None, contact_id: str | None) -> _Subject:
    if contact_id is not None:
        contact = uow.contacts.get(contact_id)
        customer = uow.customers.get(contact.customer_id)
    else:
        assert customer_id is not None
        customer = uow.customers.get(customer_id)
        contact = None
    person = customer.kind.value == "person"
    if contact is None and not person:
        raise ValidationError(
            f"customer {customer.id!r} is a company, not a person; erase or export one of its "
            "contacts with contact_id",
            path="customer_id",
        )
    names: list[str] = []
    if person:
        names.append(customer.name)
        contacts = [c for c in scan(uow.contacts) if c.customer_id == customer.id]
    else:
        assert contact is not None
        contacts = [contact]
    emails = [e for c in contacts for e in c.emails]
    phones = [p for c in contacts for p in c.phones]
    names += [c.name for c in contacts]
    contact_ids = {c.id for c in contacts}
    folded = {e.casefold() for e in emails}
    lead_ids: set[str] = set()
    for lead in scan(uow.leads):
        links = [lead.conversion, lead.customer_link]
        linked = any(
            link is not None
            and (
                (person and getattr(link, "customer_id", None) == customer.id)
                or getattr(link, "contact_id", None) in contact_ids
            )
            for link in links
        )
        if (
            linked
            or (lead.email is not None and lead.email.casefold() in folded)
            or (lead.phone is not None and lead.phone in phones)
        ):
            lead_ids.add(lead.id)
            names += [lead.name] if lead.name else []
            emails += [lead.email] if lead.email else []
            phones += [lead.phone] if lead.phone else []
    who = PersonIdentifiers(
        names=list(dict.fromkeys(names)),
        emails=list(dict.fromkeys(emails)),
        phones=list(dict.fromkeys(phones)),
    )
    label = customer.id if person else (contact.id if contact is not None else customer.id)
    return _Subject(label, customer.id if person else None, contact_ids, lead_ids, who)


def _mentions(event: DomainEvent, subject: _Subject, owned: set[str]) -> bool:
    if event.aggregate_id in owned:
        return True
    return bool(find_identifiers(unstructure(event), subject.who))


# ----- export ---------------------------------------------------------------------------------
def export_person(
    command: ExportPerson, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> dict[str, Any]:
    """Return everything crmkit holds about a person as one JSON-ready document.

    ``sections`` has a list of documents per record type (only the types with something about
    the person); ``audit`` the audit entries of those records; ``outbox`` the events, delivered or
    not, about those records or mentioning the person.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> amy = crm.register_customer("Amy Chen", "person")
        >>> doc = crm.export_person(customer_id=amy.id)
        >>> doc["subject"]["customer_id"], doc["sections"]["customers"][0]["name"]
        ('cus_...', 'Amy Chen')
        >>> [e["event_type"] for e in doc["outbox"]]
        ['customers.CustomerRegistered']

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "privacy.export", None)
    raw = _unaudited(uow)
    subject = _find_subject(raw, command.customer_id, command.contact_id)
    sections: dict[str, list[dict[str, Any]]] = {}
    owned: set[str] = set()
    keys: set[tuple[str, str]] = set()
    for name in _names(raw):
        if name == AUDIT_ENTRIES.name:
            continue
        for aggregate in scan(getattr(raw, name)):
            document = unstructure(aggregate)
            if subject.owns(name, document):
                sections.setdefault(name, []).append(document)
                owned.add(aggregate.id)
                keys.add((name, aggregate.id))
    audit: list[dict[str, Any]] = []
    entries = getattr(raw, AUDIT_ENTRIES.name, None)
    if entries is not None:
        audit = [unstructure(e) for e in scan(entries) if (e.record_type, e.target_id) in keys]
    outbox = [
        {"position": entry.position, **unstructure(entry.event)}
        for entry in _outbox_entries(raw)
        if _mentions(entry.event, subject, owned)
    ]
    return {
        "subject": {
            "customer_id": subject.customer_id,
            "contact_ids": sorted(subject.contact_ids),
            "lead_ids": sorted(subject.lead_ids),
        },
        "exported_at": clock.now().isoformat(),
        "sections": sections,
        "audit": audit,
        "outbox": outbox,
    }


def _outbox_entries(raw: Any) -> list[Any]:
    read = getattr(raw, "outbox_entries", None)
    if read is None:
        raise ValidationError(
            f"this store's unit of work ({type(raw).__name__}) cannot read its whole outbox "
            "(outbox_entries()); privacy requests need it to find and rewrite the person's "
            "events: use MemoryStore, SQLiteStore or SQLAlchemyStore, or add outbox_entries() "
            "and redact_outbox() to your store",
            path="store",
        )
    entries: list[Any] = read()
    return entries


# ----- erasure --------------------------------------------------------------------------------
def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(path).replace(r"\[\]", r"\[\d+\]") + r"(\..*|\[\d+\].*)?$")


def _name_paths(fields: tuple[PersonalField, ...]) -> list[re.Pattern[str]]:
    return [_pattern(f.path) for f in fields if f.kind is PiiKind.NAME]


class _Writer:
    """Saves changed records in the raw unit of work and writes their (pseudonymised) audit."""

    def __init__(
        self, raw: Any, audit: AuditSettings | None, clock: Clock, actor: str | None, command: str
    ) -> None:
        self.raw = raw
        self.audit = audit if getattr(raw, AUDIT_ENTRIES.name, None) is not None else None
        self.at = clock.now()
        self.actor = actor
        self.command = command
        self.entries: list[AuditEntry] = []

    def _entry(
        self,
        name: str,
        id: str,
        base: int,
        target: int,
        before: dict[str, Any],
        after: dict[str, Any] | None,
    ) -> None:
        if self.audit is None or name in self.audit.exclude:
            return
        previous_hash = GENESIS  # written before auditing began: verify says where it starts
        with contextlib.suppress(NotFoundError):
            previous_hash = self.raw.audit_entries.get(entry_id_for(name, id, base)).hash
        entry = AuditEntry.create(
            record_type=name,
            target_id=id,
            base_version=base,
            target_version=target,
            actor=self.actor,
            at=self.at,
            command=self.command,
            before=before,
            after=after,
            previous_hash=previous_hash,
            key=self.audit.key,
        )
        self.entries.append(pseudonymise(entry))

    def save(self, name: str, aggregate: Any, document: dict[str, Any]) -> None:
        before = _document(aggregate)
        changed = structure({**document, "version": aggregate.version}, type(aggregate))
        base = aggregate.version
        getattr(self.raw, name).save(changed)
        self._entry(name, aggregate.id, base, changed.version, before, document)

    def remove(self, name: str, aggregate: Any) -> None:
        before = _document(aggregate)
        base = aggregate.version
        getattr(self.raw, name).remove(aggregate)
        self._entry(name, aggregate.id, base, base + 1, before, None)

    def flush(self) -> None:
        if self.entries:
            self.raw.audit_entries.add_many(self.entries)


def _pseudonymise_audit(raw: Any, owned: set[tuple[str, str]], who: PersonIdentifiers) -> int:
    """Drop every value of the owned records' entries, and matching values everywhere else."""
    repository = getattr(raw, AUDIT_ENTRIES.name, None)
    if repository is None:
        return 0
    changed = 0
    for entry in list(scan(repository)):
        if (entry.record_type, entry.target_id) in owned:
            erased = pseudonymise(entry)
        else:
            paths = [
                c.path
                for c in entry.changes
                for value in (c.before, c.after)
                if value is not None
                and not value.pseudonymised
                and find_identifiers(value.value, who)
            ]
            if not paths:
                continue
            erased = pseudonymise(entry, paths=list(dict.fromkeys(paths)))
        if erased.changes != entry.changes:
            repository.save(erased)
            changed += 1
    return changed


def _scrub_text(value: Any, who: PersonIdentifiers) -> Any:
    if isinstance(value, str):
        return "[erased]" if who.match(value) is not None else value
    if isinstance(value, list):
        return [_scrub_text(item, who) for item in value]
    if isinstance(value, dict):
        return {k: _scrub_text(item, who) for k, item in value.items()}
    return value


def _event_scrubber(who: PersonIdentifiers) -> Callable[[DomainEvent], DomainEvent | None]:
    def scrub(event: DomainEvent) -> DomainEvent | None:
        data = unstructure(event)
        cleaned = _scrub_text(data, who)
        if cleaned == data:
            return None
        cleaned["event_type"] = data["event_type"]
        result: DomainEvent = structure(cleaned, DomainEvent)
        return result

    return scrub


def _safety_scan(raw: Any, subject: _Subject, settings: PrivacySettings) -> list[str]:
    found: list[str] = []
    for name in _names(raw):
        tolerated = _name_paths(settings.personal_data.fields_for(name))
        for aggregate in scan(getattr(raw, name)):
            document = unstructure(aggregate)
            owned = name != AUDIT_ENTRIES.name and subject.owns(name, document)
            for path in find_identifiers(document, subject.who):
                if not owned and any(p.match(path) for p in tolerated):
                    continue  # a namesake's own name field
                found.append(f"{name}/{aggregate.id}: {path}")
    for entry in _outbox_entries(raw):
        for path in find_identifiers(unstructure(entry.event), subject.who):
            found.append(f"outbox/{entry.position}: {path}")
    return found


def erase_person(
    command: ErasePerson,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: PrivacySettings,
    audit: AuditSettings | None,
) -> ErasureReport:
    """Anonymise a person everywhere, in one unit of work; return what changed.

    Records that belong to the person (their person customer, contacts, leads that match their
    email or phone or were converted to them, and every record whose ``customer_id`` or
    ``contact_id`` names them) lose every field on the personal-data map; other records lose the
    free text, emails and phones that mention them. The outbox is rewritten and the audit log
    pseudonymised. The safety scan then reads every string stored; a leftover identifier raises
    ``RuleViolation`` naming each path, and nothing changes. Erasing twice is harmless.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> amy = crm.register_customer("Amy Chen", "person")
        >>> _ = crm.log_interaction(amy.id, "call", "Amy Chen asked for a call back")
        >>> report = crm.erase_person(customer_id=amy.id)
        >>> sorted(report.records)
        ['customers/cus_...', 'interactions/int_...']
        >>> crm.timeline(amy.id)[0].summary
        '[erased]'

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "privacy.erase", None)
    raw = _unaudited(uow)
    if getattr(raw, "redact_outbox", None) is None:
        _outbox_entries(object())  # raises the error naming what the store lacks
    subject = _find_subject(raw, command.customer_id, command.contact_id)
    writer = _Writer(raw, audit, clock, command.actor, "ErasePerson")
    records: dict[str, tuple[str, ...]] = {}
    owned: set[tuple[str, str]] = set()
    for name in _names(raw):
        if name == AUDIT_ENTRIES.name:
            continue
        fields = settings.personal_data.fields_for(name)
        mention_fields = tuple(f for f in fields if f.kind is not PiiKind.NAME)
        for aggregate in list(scan(getattr(raw, name))):
            document = _document(aggregate)
            mine = subject.owns(name, document)
            if mine:
                owned.add((name, aggregate.id))
            if not fields:
                continue
            result = scrub_document(
                document,
                fields if mine else mention_fields,
                record_id=aggregate.id,
                only_matching=None if mine else subject.who,
                mentions=subject.who,
            )
            if result.changed:
                writer.save(name, aggregate, result.document)
                owned.add((name, aggregate.id))
                records[f"{name}/{aggregate.id}"] = tuple(c.path for c in result.changes)
    pseudonymised = _pseudonymise_audit(raw, owned, subject.who)
    writer.flush()
    positions = raw.redact_outbox(_event_scrubber(subject.who))
    leftovers = _safety_scan(raw, subject, settings)
    if leftovers:
        shown = "; ".join(leftovers[:10])
        more = f" (and {len(leftovers) - 10} more)" if len(leftovers) > 10 else ""
        raise RuleViolation(
            f"erasure of {subject.label} stopped, nothing was changed: the person's name, email "
            f"or phone is still stored at {shown}{more}. Add these fields to the "
            "PersonalDataMap (PrivacySettings.personal_data), or clear them, and erase again",
            details={"paths": leftovers, "subject": subject.label},
        )
    uow.commit()
    return ErasureReport(
        subject=subject.label,
        records=records,
        audit_entries=pseudonymised + len(writer.entries),
        outbox_positions=tuple(positions),
    )


# ----- retention ------------------------------------------------------------------------------
def apply_retention(
    command: ApplyRetention,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: PrivacySettings,
    audit: AuditSettings | None,
) -> RetentionRun:
    """Delete or anonymise every record past its retention period at ``command.now``.

    Anonymising applies every field of the personal-data map to the record (and drops the
    values of its audit entries); deleting removes it (its audit trail records the removal, with
    the values dropped).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> tea = crm.register_customer("Formosa Tea")
        >>> _ = crm.log_interaction(tea.id, "call", "Lin asked about oolong",
        ...     occurred_at=datetime(2019, 1, 5, tzinfo=timezone.utc))
        >>> crm.apply_retention().anonymised
        ('interactions/int_...',)
        >>> crm.timeline(tea.id)[0].summary
        '[erased]'

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "privacy.erase", None)
    now = clock.now() if command.now is None else ensure_aware(command.now, "now")
    raw = _unaudited(uow)
    writer = _Writer(raw, audit, clock, command.actor, "ApplyRetention")
    deleted: list[str] = []
    anonymised: list[str] = []
    touched: set[tuple[str, str]] = set()
    for name in _names(raw):
        rules = settings.retention.rules_for(name)
        if not rules:
            continue
        fields = settings.personal_data.fields_for(name)
        for aggregate in list(scan(getattr(raw, name))):
            document = _document(aggregate)
            rule = next((r for r in rules if r.due(document, now)), None)
            if rule is None:
                continue
            key = f"{name}/{aggregate.id}"
            if rule.action is RetentionAction.DELETE:
                writer.remove(name, aggregate)
                deleted.append(key)
                touched.add((name, aggregate.id))
                continue
            result = scrub_document(document, fields, record_id=aggregate.id)
            if result.changed:
                writer.save(name, aggregate, result.document)
                anonymised.append(key)
                touched.add((name, aggregate.id))
    _pseudonymise_audit(raw, touched, PersonIdentifiers())
    writer.flush()
    uow.commit()
    return RetentionRun(deleted=tuple(deleted), anonymised=tuple(anonymised))


def command_handlers(
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: PrivacySettings | None = None,
    audit: AuditSettings | None = None,
) -> Mapping[type, CommandHandler]:
    """Return the privacy command handlers bound to their collaborators, by command class.

    ``audit`` is the message bus's audit settings: erasure and retention write their own
    (pseudonymised) audit entries, so no personal value reaches the log.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock
        >>> sorted(c.__name__ for c in command_handlers(clock=ManualClock(), policy=AllowAll()))
        ['ApplyRetention', 'ErasePerson', 'ExportPerson']

    .. versionadded:: 0.1.0
    """
    chosen = PrivacySettings() if settings is None else settings
    if not isinstance(chosen, PrivacySettings):
        raise ValidationError(
            f"must be PrivacySettings, not {type(chosen).__name__}", path="privacy"
        )
    return {
        ExportPerson: functools.partial(export_person, clock=clock, policy=policy),
        ErasePerson: functools.partial(
            erase_person, clock=clock, policy=policy, settings=chosen, audit=audit
        ),
        ApplyRetention: functools.partial(
            apply_retention, clock=clock, policy=policy, settings=chosen, audit=audit
        ),
    }
