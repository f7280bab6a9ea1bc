"""The audit log: who changed which record, when, and how, as tamper-evident hash chains.

Every command the message bus runs leaves one :class:`AuditEntry` per record it added, saved or
removed: the actor, the time, the command, the target (record type, id and the versions before
and after) and the fields that changed, each as a JSON Pointer into the record's document with
the value before and after (:class:`AuditChange`).

Tamper evidence. Each record has its own hash chain: an entry's :attr:`~AuditEntry.hash` covers
everything in it plus the hash of the record's previous entry, and its id is derived from
(record type, record id, version), so an entry cannot be moved. The record's current version
anchors the head of the chain, which :func:`verify_chain` checks: an edited entry no longer
matches its hash, a removed entry in the middle breaks the link of the next one, a removed newest
entry leaves the chain ending before the record's version, and an entry moved to another place no
longer matches its id.

Privacy. The hash never covers a value itself, only its salted digest
(``sha256(salt || canonical JSON)``); the value and its random salt are kept beside the digest
(:class:`AuditValue`). :func:`pseudonymise` drops values and their salts but keeps the digests,
so the chain still verifies and what remains reveals nothing about the person.

Example:
    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    >>> added = AuditEntry.create(
    ...     record_type="customers", target_id="cus_1", base_version=0, target_version=1,
    ...     actor="usr_amy", at=at, command="RegisterCustomer",
    ...     before=None, after={"id": "cus_1", "name": "Acme"}, previous_hash=GENESIS)
    >>> renamed = AuditEntry.create(
    ...     record_type="customers", target_id="cus_1", base_version=1, target_version=2,
    ...     actor="usr_bob", at=at, command="RenameCustomer",
    ...     before={"id": "cus_1", "name": "Acme"}, after={"id": "cus_1", "name": "Acme Corp"},
    ...     previous_hash=added.hash)
    >>> [(c.path, c.before.value, c.after.value) for c in renamed.changes]
    [('/name', 'Acme', 'Acme Corp')]
    >>> verify_chain([added, renamed], current_version=2)
    []
    >>> [p.kind for p in verify_chain([added], current_version=2)]
    ['head_behind']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import RecordType
from crmkit.kernel.time import ensure_aware

__all__ = [
    "AUDIT_ENTRIES",
    "AuditChange",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "AuditValue",
    "GENESIS",
    "ProblemKind",
    "entry_id_for",
    "pseudonymise",
    "verify_chain",
]

#: The ``previous_hash`` of the first entry of every chain.
GENESIS = "0" * 64

#: What :func:`verify_chain` found wrong with a chain.
ProblemKind = Literal[
    "edited",
    "misplaced",
    "broken_link",
    "chain_start",
    "head_behind",
    "head_ahead",
    "removal_missing",
    "not_removed",
    "unaudited",
]

_HEX = frozenset("0123456789abcdef")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hex(length: int, field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, str) or len(value) != length or not set(value) <= _HEX:
            raise ValidationError(
                f"must be {length} lower-case hex digits, got {value!r}", path=field
            )

    return check


def _optional_hex(length: int, field: str) -> Any:
    inner = _hex(length, field)

    def check(instance: object, attribute: object, value: object) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def _digest(salt: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + _canonical(value).encode()).hexdigest()


@attrs.frozen
class AuditValue:
    """One value in an audit entry: its salted digest, and the value and salt beside it.

    The entry's hash covers only ``digest``. Once pseudonymised, ``value`` and ``salt`` are
    ``None`` and only the digest is left: it still proves the chain, and without the salt it
    cannot be matched against guesses.

    Example:
        >>> amy = AuditValue.seal("amy@example.com")
        >>> amy.value, amy.intact, amy.pseudonymised
        ('amy@example.com', True, False)
        >>> gone = amy.pseudonymise()
        >>> gone.value, gone.digest == amy.digest, gone.intact, gone.pseudonymised
        (None, True, True, True)

    .. versionadded:: 0.1.0
    """

    digest: str = attrs.field(validator=_hex(64, "digest"))
    value: Any = None
    salt: str | None = attrs.field(default=None, validator=_optional_hex(32, "salt"))

    @classmethod
    def seal(cls, value: Any) -> AuditValue:
        """Return ``value`` (JSON-ready data) with a fresh random salt and its digest.

        Example:
            >>> a, b = AuditValue.seal("Acme"), AuditValue.seal("Acme")
            >>> a.digest == b.digest  # each value has its own salt
            False

        .. versionadded:: 0.1.0
        """
        salt = secrets.token_hex(16)
        return cls(_digest(salt, value), value, salt)

    @property
    def pseudonymised(self) -> bool:
        """Whether the value and salt were dropped (only the digest is left)."""
        return self.salt is None

    @property
    def intact(self) -> bool:
        """Whether the stored value and salt still give the digest (always, once pseudonymised).

        A pseudonymised value must hold no value either: a value without its salt is refused.
        """
        if self.salt is None:
            return self.value is None
        return hmac.compare_digest(_digest(self.salt, self.value), self.digest)

    def pseudonymise(self) -> AuditValue:
        """Return this value without the value and the salt: only the digest remains.

        Example:
            >>> AuditValue.seal({"name": "Amy"}).pseudonymise().value is None
            True

        .. versionadded:: 0.1.0
        """
        return AuditValue(self.digest)


def _optional_value(_instance: object, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, AuditValue):
        raise ValidationError(
            f"must be an AuditValue or None (absent), not {type(value).__name__}",
            path=attribute.name,
        )


@attrs.frozen
class AuditChange:
    """One changed place in a record's document: a JSON Pointer, the value before and after.

    ``before`` is ``None`` where the place did not exist (the record was added, or a list grew);
    ``after`` is ``None`` where it no longer exists (the record was removed). The pointer ``""``
    is the whole document, used when a record is added or removed.

    Example:
        >>> change = AuditChange("/name", AuditValue.seal("Acme"), AuditValue.seal("Acme Corp"))
        >>> change.kind, change.after.value
        ('changed', 'Acme Corp')

    .. versionadded:: 0.1.0
    """

    path: str = attrs.field(validator=v.of_type(str))
    before: AuditValue | None = attrs.field(default=None, validator=_optional_value)
    after: AuditValue | None = attrs.field(default=None, validator=_optional_value)

    @property
    def kind(self) -> Literal["added", "removed", "changed"]:
        """``"added"`` (nothing before), ``"removed"`` (nothing after) or ``"changed"``."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def _pointer(parent: str, key: str | int) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _diff(path: str, before: Any, after: Any, out: list[AuditChange]) -> None:
    """Append the changes from ``before`` to ``after``: dicts by key, lists by position."""
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            if key in after:
                if before[key] != after[key]:
                    _diff(_pointer(path, key), before[key], after[key], out)
            else:
                out.append(AuditChange(_pointer(path, key), AuditValue.seal(before[key]), None))
        for key in after:
            if key not in before:
                out.append(AuditChange(_pointer(path, key), None, AuditValue.seal(after[key])))
        return
    if isinstance(before, list) and isinstance(after, list):
        common = min(len(before), len(after))
        for i in range(common):
            if before[i] != after[i]:
                _diff(_pointer(path, i), before[i], after[i], out)
        for i in range(common, len(before)):
            out.append(AuditChange(_pointer(path, i), AuditValue.seal(before[i]), None))
        for i in range(common, len(after)):
            out.append(AuditChange(_pointer(path, i), None, AuditValue.seal(after[i])))
        return
    out.append(AuditChange(path, AuditValue.seal(before), AuditValue.seal(after)))


def _changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[AuditChange]:
    if before is None and after is None:
        return []
    if before is None:
        return [AuditChange("", None, AuditValue.seal(after))]
    if after is None:
        return [AuditChange("", AuditValue.seal(before), None)]
    out: list[AuditChange] = []
    _diff("", before, after, out)
    return out


def entry_id_for(record_type: str, target_id: str, version: int) -> str:
    """Return the id of the audit entry that made ``version`` of a record.

    Deterministic, so each (record type, id, version) has exactly one place: two entries for the
    same version collide, and an entry moved elsewhere no longer matches its id.

    Example:
        >>> entry_id_for("customers", "cus_1", 2)
        'aud_...'
        >>> entry_id_for("customers", "cus_1", 2) == entry_id_for("customers", "cus_1", 2)
        True

    .. versionadded:: 0.1.0
    """
    key = f"{record_type}\x00{target_id}\x00{version}".encode()
    return "aud_" + hashlib.sha256(key).hexdigest()[:40]


def _version(_instance: object, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"must be a non-negative int, got {value!r}", path=attribute.name)


def _aware(_instance: object, attribute: Any, value: Any) -> None:
    ensure_aware(value, attribute.name)


def _id(_instance: object, attribute: Any, value: Any) -> None:
    check_id(value, attribute.name)


def _to_changes(value: object) -> tuple[AuditChange, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of AuditChange, not {type(value).__name__}", path="changes"
        )
    changes = tuple(value)
    for i, change in enumerate(changes):
        if not isinstance(change, AuditChange):
            raise ValidationError(
                f"must be an AuditChange, not {type(change).__name__}", path=f"changes[{i}]"
            )
    return changes


@attrs.define(kw_only=True)
class AuditEntry(Aggregate):
    """What one command did to one record: who, when, which command, the changes; chained.

    ``base_version`` is the record's version before the command (0: it was added) and
    ``target_version`` the version it made (for a removal, one past the last version).
    ``previous_hash`` is the hash of the record's entry for ``base_version`` (:data:`GENESIS`
    for the first), and ``hash`` covers every field but the values themselves (their digests
    stand in for them). Build entries with :meth:`create`; the message bus does, for every
    command. Entries are only ever added: the normal command path never changes one.

    Example:
        >>> from datetime import datetime, timezone
        >>> entry = AuditEntry.create(
        ...     record_type="contacts", target_id="con_1", base_version=3, target_version=4,
        ...     actor="usr_amy", at=datetime(2026, 1, 5, tzinfo=timezone.utc),
        ...     command="SetContactPreferences", before={"locale": "en"},
        ...     after={"locale": "zh_Hant_TW"}, previous_hash=GENESIS)
        >>> entry.id == entry_id_for("contacts", "con_1", 4), entry.intact()
        (True, True)
        >>> [(c.path, c.kind) for c in entry.changes]
        [('/locale', 'changed')]

    .. versionadded:: 0.1.0
    """

    record_type: str = attrs.field(validator=v.text(64))
    target_id: str = attrs.field(validator=_id)
    base_version: int = attrs.field(validator=_version)
    target_version: int = attrs.field(validator=_version)
    removed: bool = attrs.field(default=False, validator=v.of_type(bool))
    actor: str | None = attrs.field(default=None, validator=v.optional_text(200))
    at: datetime = attrs.field(validator=_aware)
    command: str = attrs.field(default="", validator=v.of_type(str))
    changes: tuple[AuditChange, ...] = attrs.field(default=(), converter=_to_changes)
    previous_hash: str = attrs.field(default=GENESIS, validator=_hex(64, "previous_hash"))
    hash: str = attrs.field(default=GENESIS, validator=_hex(64, "hash"))

    @classmethod
    def create(
        cls,
        *,
        record_type: str,
        target_id: str,
        base_version: int,
        target_version: int,
        actor: str | None,
        at: datetime,
        command: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        previous_hash: str,
        key: bytes | None = None,
    ) -> AuditEntry:
        """Build the entry for a change from document ``before`` to ``after``, hashed.

        ``before`` is ``None`` for a record added, ``after`` is ``None`` for one removed; the
        changes are the JSON Pointers where the two documents differ (the whole document, at
        ``""``, for an add or a removal). ``key``, when given, makes the hash an HMAC, so that
        nobody without the key can forge a consistent chain.

        Example:
            >>> from datetime import datetime, timezone
            >>> e = AuditEntry.create(
            ...     record_type="customers", target_id="cus_1", base_version=1,
            ...     target_version=2, actor=None, at=datetime(2026, 1, 5, tzinfo=timezone.utc),
            ...     command="TagCustomer", before={"tags": ["tea"]},
            ...     after={"tags": ["tea", "vip"]}, previous_hash=GENESIS)
            >>> [(c.path, c.kind, c.after.value) for c in e.changes]
            [('/tags/1', 'added', 'vip')]

        .. versionadded:: 0.1.0
        """
        entry = cls(
            id=entry_id_for(record_type, target_id, target_version),
            record_type=record_type,
            target_id=target_id,
            base_version=base_version,
            target_version=target_version,
            removed=after is None and before is not None,
            actor=actor,
            at=at,
            command=command,
            changes=_changes(before, after),
            previous_hash=previous_hash,
        )
        entry.hash = entry.compute_hash(key)
        return entry

    def compute_hash(self, key: bytes | None = None) -> str:
        """Return the hash this entry should carry (an HMAC-SHA256 when ``key`` is given).

        Example:
            >>> from datetime import datetime, timezone
            >>> e = AuditEntry(id="aud_1", record_type="leads", target_id="lea_1",
            ...                base_version=0, target_version=1,
            ...                at=datetime(2026, 1, 5, tzinfo=timezone.utc))
            >>> e.compute_hash() == e.compute_hash(), e.compute_hash() == e.compute_hash(b"k")
            (True, False)

        .. versionadded:: 0.1.0
        """
        payload = _canonical(
            [
                self.record_type,
                self.target_id,
                self.base_version,
                self.target_version,
                self.removed,
                self.actor,
                self.at.astimezone(timezone.utc).isoformat(),
                self.command,
                [
                    [
                        c.path,
                        None if c.before is None else c.before.digest,
                        None if c.after is None else c.after.digest,
                    ]
                    for c in self.changes
                ],
                self.previous_hash,
            ]
        ).encode()
        if key is None:
            return hashlib.sha256(payload).hexdigest()
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    def intact(self, key: bytes | None = None) -> bool:
        """Whether the hash matches the entry and every kept value matches its digest.

        Example:
            >>> from datetime import datetime, timezone
            >>> e = AuditEntry.create(
            ...     record_type="leads", target_id="lea_1", base_version=0, target_version=1,
            ...     actor="usr_amy", at=datetime(2026, 1, 5, tzinfo=timezone.utc),
            ...     command="CaptureLead", before=None, after={"id": "lea_1"},
            ...     previous_hash=GENESIS)
            >>> e.actor = "usr_mallory"
            >>> e.intact()
            False

        .. versionadded:: 0.1.0
        """
        if not hmac.compare_digest(self.compute_hash(key), self.hash):
            return False
        return all(
            value.intact for c in self.changes for value in (c.before, c.after) if value is not None
        )


#: Audit entries: queryable by target (record type, id, version), actor and time.
AUDIT_ENTRIES: RecordType[AuditEntry] = RecordType(
    "audit_entries",
    AuditEntry,
    {
        "record_type": lambda e: e.record_type,
        "target_id": lambda e: e.target_id,
        "target_version": lambda e: e.target_version,
        "actor": lambda e: e.actor,
        "at": lambda e: e.at,
    },
    kinds={"target_version": "integer", "at": "datetime"},
)


def _matches(
    change: AuditChange, value: AuditValue, paths: tuple[str, ...] | None, needles: tuple[str, ...]
) -> bool:
    if value.pseudonymised:
        return False
    if paths is not None and not any(
        change.path == p or change.path.startswith(p + "/") or p == "" for p in paths
    ):
        return False
    if needles:
        text = _canonical(value.value).casefold()
        return any(n in text for n in needles)
    return True


def pseudonymise(
    entry: AuditEntry,
    *,
    paths: Iterable[str] | None = None,
    containing: Iterable[str] = (),
) -> AuditEntry:
    """Return a copy of ``entry`` with values dropped (digests kept); it still verifies.

    Without arguments every value goes. ``paths`` keeps it to the values at (or under) those
    JSON Pointers; ``containing`` to the values whose JSON text contains one of the strings
    (case-insensitive: a name, an e-mail address, a phone number). Given both, a value must
    match both.

    Example:
        >>> from datetime import datetime, timezone
        >>> e = AuditEntry.create(
        ...     record_type="contacts", target_id="con_1", base_version=1, target_version=2,
        ...     actor="usr_amy", at=datetime(2026, 1, 5, tzinfo=timezone.utc),
        ...     command="AddContact", before={"emails": [], "role": None},
        ...     after={"emails": ["AMY@example.com"], "role": "buyer"}, previous_hash=GENESIS)
        >>> erased = pseudonymise(e, containing=["amy@example.com"])
        >>> [(c.path, c.after.value) for c in erased.changes]
        [('/emails/0', None), ('/role', 'buyer')]
        >>> erased.intact(), erased.hash == e.hash
        (True, True)

    .. versionadded:: 0.1.0
    """
    if not isinstance(entry, AuditEntry):
        raise ValidationError(f"must be an AuditEntry, not {type(entry).__name__}", path="entry")
    wanted: tuple[str, ...] | None = None
    if paths is not None:
        if isinstance(paths, str):
            raise ValidationError(
                "must be a list of JSON Pointers, not a single str; wrap it in a list",
                path="paths",
            )
        wanted = tuple(v.text_tuple("paths")(paths)) if paths else ()
        wanted = tuple(p if p.startswith("/") else "/" + p for p in wanted)
    if isinstance(containing, str):
        raise ValidationError(
            "must be a list of strings, not a single str; wrap it in a list", path="containing"
        )
    needles = tuple(n.casefold() for n in v.text_tuple("containing")(containing))

    def drop(change: AuditChange, value: AuditValue | None) -> AuditValue | None:
        if value is not None and _matches(change, value, wanted, needles):
            return value.pseudonymise()
        return value

    changes = tuple(AuditChange(c.path, drop(c, c.before), drop(c, c.after)) for c in entry.changes)
    return attrs.evolve(entry, changes=changes)


@attrs.frozen
class AuditProblem:
    """Something :func:`verify_chain` found wrong, with the record and entry it concerns.

    Example:
        >>> p = AuditProblem("head_behind", "customers", "cus_1", "the chain ends early",
        ...                  version=3)
        >>> p.kind, p.version
        ('head_behind', 3)

    .. versionadded:: 0.1.0
    """

    kind: ProblemKind
    record_type: str
    target_id: str
    message: str
    entry_id: str | None = None
    version: int | None = None


@attrs.frozen
class AuditReport:
    """The result of verifying an audit log: what was checked, and every problem found.

    Example:
        >>> report = AuditReport(entries=4, records=2, problems=())
        >>> report.ok
        True

    .. versionadded:: 0.1.0
    """

    entries: int
    records: int
    problems: tuple[AuditProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def verify_chain(
    entries: Sequence[AuditEntry],
    current_version: int | None,
    *,
    key: bytes | None = None,
) -> list[AuditProblem]:
    """Check one record's chain against the record's ``current_version``; list the problems.

    ``entries`` are every entry stored for one record (any order); ``current_version`` is the
    record's version now, or ``None`` if the record no longer exists. Problems:

    * ``edited``: an entry no longer matches its hash, or a kept value its digest;
    * ``misplaced``: an entry's id is not the one for its record and version (moved, reordered);
    * ``broken_link``: an entry does not follow the one before it (an entry between is missing);
    * ``chain_start``: the first entry does not start at version 0 (earlier entries are missing,
      or the record was written before auditing began);
    * ``head_behind`` / ``head_ahead``: the chain ends before / after the record's version (the
      newest entries are missing, or the record was written outside the audited bus);
    * ``removal_missing``: the record is gone but no entry records its removal;
    * ``not_removed``: an entry records a removal but the record exists;
    * ``unaudited``: the record exists but has no entry at all (reported by
      :func:`crmkit.app.audit.verify_audit`, which knows the records; an empty ``entries`` gives
      no problem here).

    Example:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> first = AuditEntry.create(
        ...     record_type="leads", target_id="lea_1", base_version=0, target_version=1,
        ...     actor=None, at=at, command="CaptureLead", before=None, after={"score": 0},
        ...     previous_hash=GENESIS)
        >>> second = AuditEntry.create(
        ...     record_type="leads", target_id="lea_1", base_version=1, target_version=2,
        ...     actor=None, at=at, command="ScoreLead", before={"score": 0},
        ...     after={"score": 40}, previous_hash=first.hash)
        >>> verify_chain([second, first], current_version=2)
        []
        >>> second.actor = "usr_mallory"
        >>> [p.kind for p in verify_chain([first, second], current_version=2)]
        ['edited']

    .. versionadded:: 0.1.0
    """
    chain = sorted(entries, key=lambda e: (e.target_version, e.id))
    if not chain:
        return []  # a record without entries: the caller knows which record it is
    rt, target = chain[0].record_type, chain[0].target_id
    problems: list[AuditProblem] = []

    def problem(kind: ProblemKind, message: str, entry: AuditEntry | None = None) -> None:
        problems.append(
            AuditProblem(
                kind,
                rt,
                target,
                f"{rt} {target!r}: {message}",
                entry_id=None if entry is None else entry.id,
                version=None if entry is None else entry.target_version,
            )
        )

    previous: AuditEntry | None = None
    for entry in chain:
        if (entry.record_type, entry.target_id) != (rt, target):
            problem("misplaced", f"entry {entry.id} belongs to another record", entry)
            continue
        if entry.id != entry_id_for(rt, target, entry.target_version):
            problem(
                "misplaced",
                f"entry {entry.id} says version {entry.target_version}, which is not the "
                "version its id was made for (moved or reordered)",
                entry,
            )
        if not entry.intact(key):
            problem(
                "edited",
                f"entry for version {entry.target_version} does not match its hash or digests "
                "(changed after it was written)",
                entry,
            )
        if previous is None:
            if entry.base_version != 0 or entry.previous_hash != GENESIS:
                problem(
                    "chain_start",
                    f"the chain starts at version {entry.base_version}, not 0: earlier entries "
                    "are missing, or the record was written before auditing began",
                    entry,
                )
        elif entry.base_version != previous.target_version or not hmac.compare_digest(
            entry.previous_hash, previous.hash
        ):
            problem(
                "broken_link",
                f"entry for version {entry.target_version} does not follow the entry for version "
                f"{previous.target_version} (an entry between them is missing or was changed)",
                entry,
            )
        previous = entry
    head = chain[-1]
    if current_version is None:
        if not head.removed:
            problem(
                "removal_missing",
                f"the record is gone but its chain ends at version {head.target_version} without "
                "a removal (the newest entry is missing)",
                head,
            )
    elif head.removed:
        problem(
            "not_removed",
            f"the chain records a removal at version {head.target_version} but the record "
            f"exists at version {current_version}",
            head,
        )
    elif current_version > head.target_version:
        problem(
            "head_behind",
            f"the record is at version {current_version} but its chain ends at version "
            f"{head.target_version}: the newest entries are missing, or it was changed outside "
            "the audited message bus",
            head,
        )
    elif current_version < head.target_version:
        problem(
            "head_ahead",
            f"the record is at version {current_version} but its chain goes on to version "
            f"{head.target_version}: the record was rolled back or restored from an old copy",
            head,
        )
    return problems
