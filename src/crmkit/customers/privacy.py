"""Personal data as data: where it lives, how to erase it, how long to keep it, and a safety scan.

A :class:`PersonalDataMap` says, per record type, which paths of a stored document hold
personal data (a :class:`PersonalField`: a path, a :class:`PiiKind` and a :class:`PiiAction`).
:func:`scrub_document` applies those actions to one document and explains what it changed;
:func:`find_identifiers` is the safety scan that walks *every* string of a document looking for
a person's name, email or phone (in the forms they are written and normalised), so a field
nobody put on the map cannot slip through an erasure. :class:`RetentionPolicy` says how long each
record type is kept after an anchor date, then deleted or anonymised.

Paths are dotted keys; ``[]`` stands for every item of a list (``"messages[].body"``). The
actions: ``redact`` replaces the value with a placeholder that still validates (an email becomes
``erased-…@erased.example``), ``drop`` removes items from a list, ``set_none`` clears the value.

Example:
    >>> doc = {"id": "con_1", "name": "Wang Xiao-ming", "emails": ["xm@example.com"],
    ...        "phones": ["+886912345678"], "birthday": "1990-05-17"}
    >>> result = scrub_document(doc, PersonalDataMap.builtin().fields_for("contacts"),
    ...                         record_id="con_1")
    >>> result.document["name"], result.document["emails"], result.document["birthday"]
    ('Erased person', [], None)
    >>> print(result.explain())
    name: name redacted
    emails[0]: email dropped
    phones[0]: phone dropped
    birthday: birthday set to None
    >>> who = PersonIdentifiers(names=["Wang Xiao-ming"], emails=["XM@example.com"],
    ...                         phones=["+886912345678"])
    >>> find_identifiers({"note": "call 0912-345-678"}, who)
    ['note']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs
import phonenumbers
from dateutil.relativedelta import relativedelta

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.time import ensure_aware

__all__ = [
    "PersonIdentifiers",
    "PersonalDataMap",
    "PersonalField",
    "PiiAction",
    "PiiKind",
    "Redaction",
    "RetentionAction",
    "RetentionPolicy",
    "RetentionRule",
    "ScrubResult",
    "find_identifiers",
    "is_placeholder",
    "placeholder",
    "scrub_document",
]


class PiiKind(StrEnum):
    """What kind of personal data a field holds.

    Example:
        >>> PiiKind("email") is PiiKind.EMAIL
        True

    .. versionadded:: 0.1.0
    """

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    BIRTHDAY = "birthday"
    FREE_TEXT = "free_text"
    ADDRESS = "address"


class PiiAction(StrEnum):
    """What erasing does to a field: ``redact`` (placeholder), ``drop`` (list items), ``set_none``.

    Example:
        >>> [a.value for a in PiiAction]
        ['redact', 'drop', 'set_none']

    .. versionadded:: 0.1.0
    """

    REDACT = "redact"
    DROP = "drop"
    SET_NONE = "set_none"


_PLACEHOLDERS = {
    PiiKind.NAME: "Erased person",
    PiiKind.FREE_TEXT: "[erased]",
    PiiKind.ADDRESS: "[erased]",
}
_REDACTABLE = frozenset({PiiKind.NAME, PiiKind.EMAIL, PiiKind.FREE_TEXT, PiiKind.ADDRESS})
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$")


def placeholder(kind: PiiKind | str, record_id: str) -> str:
    """Return the placeholder a redacted value of ``kind`` becomes in record ``record_id``.

    Emails get a placeholder per record (a valid address on a reserved domain), so two erased
    leads are not taken for duplicates of each other.

    Example:
        >>> placeholder("name", "con_1"), placeholder("free_text", "con_1")
        ('Erased person', '[erased]')
        >>> placeholder("email", "lead_1")
        'erased-...@erased.example'
        >>> placeholder("phone", "con_1")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: kind: a phone cannot be redacted to a placeholder; ...

    .. versionadded:: 0.1.0
    """
    kind = v.to_enum(PiiKind, "kind")(kind)
    if kind is PiiKind.EMAIL:
        tag = hashlib.sha256(record_id.encode()).hexdigest()[:12]
        return f"erased-{tag}@erased.example"
    if kind not in _PLACEHOLDERS:
        raise ValidationError(
            f"a {kind.value} cannot be redacted to a placeholder; use drop or set_none",
            path="kind",
        )
    return _PLACEHOLDERS[kind]


def is_placeholder(value: object) -> bool:
    """Whether ``value`` is a placeholder an erasure left (so it identifies nobody).

    Example:
        >>> is_placeholder("Erased person"), is_placeholder(placeholder("email", "lead_1"))
        (True, True)
        >>> is_placeholder("Amy")
        False

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        return False
    return value in _PLACEHOLDERS.values() or (
        value.startswith("erased-") and value.endswith("@erased.example")
    )


def _check_path(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _PATH.match(value):
        raise DefinitionError(
            f"path {value!r} is not a document path; write dotted keys with [] for every list "
            "item, such as 'name', 'emails' or 'messages[].body'",
            details={"path": value},
        )


def _pii_kind(value: object) -> PiiKind:
    return v.to_enum(PiiKind, "kind")(value)


def _pii_action(value: object) -> PiiAction:
    return v.to_enum(PiiAction, "action")(value)


@attrs.frozen
class PersonalField:
    """One place in a record type's documents that holds personal data, and how to erase it.

    ``drop`` empties the list at ``path`` (or, when only matching values are erased, removes
    the matching items); ``redact`` needs a kind with a placeholder (name, email, free text,
    address); ``set_none`` clears the value (the field must be optional).
    ``only_if_mentioned`` limits the field to values that name the person even in the
    person's own records (an order line's product name is usually not personal data).
    ``fill`` redacts an empty value too, for records that must keep one of two fields (a lead
    needs an email or a phone: its email becomes a placeholder even if it had only a phone).

    Example:
        >>> PersonalField("messages[].body", "free_text", "redact").kind
        <PiiKind.FREE_TEXT: 'free_text'>
        >>> PersonalField("phones", "phone", "redact")
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: phones: a phone has no placeholder that validates; ...

    .. versionadded:: 0.1.0
    """

    path: str = attrs.field(validator=_check_path)
    kind: PiiKind = attrs.field(converter=_pii_kind)
    action: PiiAction = attrs.field(converter=_pii_action)
    only_if_mentioned: bool = attrs.field(default=False, validator=v.of_type(bool))
    fill: bool = attrs.field(default=False, validator=v.of_type(bool))

    def __attrs_post_init__(self) -> None:
        if self.action is PiiAction.REDACT and self.kind not in _REDACTABLE:
            raise DefinitionError(
                f"{self.path}: a {self.kind.value} has no placeholder that validates; "
                "use drop (for a list) or set_none",
                details={"path": self.path, "kind": self.kind.value},
            )


def _fields(value: object) -> dict[str, tuple[PersonalField, ...]]:
    if not isinstance(value, Mapping):
        raise DefinitionError(
            f"fields must map record type names to lists of PersonalField, not "
            f"{type(value).__name__}"
        )
    out: dict[str, tuple[PersonalField, ...]] = {}
    for name, items in value.items():
        if not isinstance(name, str) or isinstance(items, (str, bytes)):
            raise DefinitionError(f"fields[{name!r}] must be a list of PersonalField")
        batch = tuple(items)
        for item in batch:
            if not isinstance(item, PersonalField):
                raise DefinitionError(
                    f"fields[{name!r}] must hold PersonalField objects, not {type(item).__name__}"
                )
        out[name] = batch
    return out


_F = PersonalField

#: The personal data in crmkit's own record types.
_BUILTIN: dict[str, tuple[PersonalField, ...]] = {
    "customers": (_F("name", "name", "redact"), _F("address", "address", "set_none")),
    "contacts": (
        _F("name", "name", "redact"),
        _F("emails", "email", "drop"),
        _F("phones", "phone", "drop"),
        _F("birthday", "birthday", "set_none"),
        _F("consents[].note", "free_text", "set_none"),
    ),
    "interactions": (_F("summary", "free_text", "redact"), _F("links", "free_text", "drop")),
    "leads": (
        _F("name", "name", "set_none"),
        _F("email", "email", "redact", fill=True),
        _F("phone", "phone", "set_none"),
        _F("job_title", "free_text", "set_none"),
        _F("activities[].detail", "free_text", "set_none"),
        _F("qualification.answers[].evidence", "free_text", "redact"),
        _F("disqualification.note", "free_text", "set_none"),
        _F("duplicate.reason", "free_text", "redact"),
        _F("customer_link.reason", "free_text", "redact"),
    ),
    "complaints": (
        _F("subject", "free_text", "redact"),
        _F("description", "free_text", "set_none"),
        _F("resolution", "free_text", "set_none"),
        _F("messages[].body", "free_text", "redact"),
        _F("notes[].body", "free_text", "redact"),
        _F("attachments[].filename", "free_text", "redact"),
        _F("cancellation.note", "free_text", "redact"),
        _F("csat.comment", "free_text", "set_none"),
    ),
    "deliveries": (
        _F("recipient", "email", "redact"),
        _F("idempotency_key", "free_text", "redact"),
        _F("context", "free_text", "drop"),
        _F("notes", "free_text", "drop"),
    ),
    "orders": (_F("lines[].name", "free_text", "redact", only_if_mentioned=True),),
    "memberships": (
        _F("birth_month", "birthday", "set_none"),
        _F("birth_day", "birthday", "set_none"),
    ),
    "duplicate_reviews": (_F("note", "free_text", "set_none"),),
}


@attrs.frozen
class PersonalDataMap:
    """Which fields of which record type hold personal data: the map erasure and encryption use.

    Example:
        >>> pd = PersonalDataMap.builtin()
        >>> [f.path for f in pd.fields_for("leads")][:3]
        ['name', 'email', 'phone']
        >>> pd.fields_for("products")
        ()
        >>> extra = pd.extend({"products": [PersonalField("designer", "name", "set_none")]})
        >>> [f.path for f in extra.fields_for("products")]
        ['designer']

    .. versionadded:: 0.1.0
    """

    fields: Mapping[str, tuple[PersonalField, ...]] = attrs.field(converter=_fields)

    @classmethod
    def builtin(cls) -> PersonalDataMap:
        """The map of crmkit's own record types."""
        return cls(_BUILTIN)

    def fields_for(self, record_type: str) -> tuple[PersonalField, ...]:
        """The personal fields of ``record_type`` (empty if it holds none)."""
        return self.fields.get(record_type, ())

    def extend(self, more: Mapping[str, Iterable[PersonalField]]) -> PersonalDataMap:
        """Return a map with ``more`` fields added (a host's own record types or fields)."""
        merged = {name: list(items) for name, items in self.fields.items()}
        for name, items in _fields(more).items():
            merged.setdefault(name, []).extend(items)
        return PersonalDataMap({name: tuple(items) for name, items in merged.items()})


def _phone_digits(phone: str) -> tuple[str, ...]:
    digits = re.sub(r"\D", "", phone)
    forms = {digits} if len(digits) >= 6 else set()
    try:
        parsed = phonenumbers.parse(phone if phone.startswith("+") else "+" + digits, None)
        national = str(parsed.national_number)
        if len(national) >= 6:
            forms.add(national)
    except phonenumbers.NumberParseException:
        pass
    return tuple(sorted(forms))


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() and not is_placeholder(value) else ()
    items = v.text_tuple("identifiers")(value)
    return tuple(s for s in items if s.strip() and not is_placeholder(s))


_DIGIT_RUN = re.compile(r"\+?\d[\d\s().\-/]*\d")


@attrs.frozen
class PersonIdentifiers:
    """A person's name(s), email(s) and phone(s), and how to recognise them in any text.

    Placeholders an erasure left are ignored, so erasing again finds nothing to do.
    Names and emails match case-insensitively anywhere in a text; a phone matches a run of
    digits (spaces, dashes, dots and brackets allowed between them) that contains its number
    with or without the country code, so ``+886912345678``, ``0912 345 678`` and
    ``(09) 1234-5678`` all match.

    Example:
        >>> who = PersonIdentifiers(names=["Lin Mei-ling"], emails=["Mei@FormosaTea.tw"],
        ...                         phones=["+886912345678"])
        >>> who.match("Write to mei@formosatea.tw"), who.match("ring 0912 345 678")
        ('email', 'phone')
        >>> who.match("cus_000001 at 2026-03-02T09:00:00+08:00") is None
        True

    .. versionadded:: 0.1.0
    """

    names: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    emails: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    phones: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    _needles: tuple[tuple[str, str], ...] = attrs.field(init=False, repr=False, eq=False)
    _digits: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        needles = {(n.strip().casefold(), "name") for n in self.names}
        needles |= {(e.strip().casefold(), "email") for e in self.emails}
        object.__setattr__(self, "_needles", tuple(sorted(needles)))
        digits = {d for p in self.phones for d in _phone_digits(p)}
        object.__setattr__(self, "_digits", tuple(sorted(digits)))

    def __bool__(self) -> bool:
        return bool(self._needles or self._digits)

    def merge(self, other: PersonIdentifiers) -> PersonIdentifiers:
        """Return the identifiers of both (no repeats).

        Example:
            >>> PersonIdentifiers(names=["Amy"]).merge(PersonIdentifiers(names=["Amy"])).names
            ('Amy',)
        """
        return PersonIdentifiers(
            names=list(dict.fromkeys((*self.names, *other.names))),
            emails=list(dict.fromkeys((*self.emails, *other.emails))),
            phones=list(dict.fromkeys((*self.phones, *other.phones))),
        )

    def match(self, text: str) -> str | None:
        """Return the kind of identifier in ``text`` (``"name"``, ``"email"``, ``"phone"``)."""
        folded = text.casefold()
        for needle, kind in self._needles:
            if needle in folded:
                return kind
        if self._digits:
            for run in _DIGIT_RUN.findall(text):
                digits = re.sub(r"\D", "", run)
                if any(d in digits for d in self._digits):
                    return "phone"
        return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield path, key
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def find_identifiers(document: Any, who: PersonIdentifiers) -> list[str]:
    """The safety scan: every path in ``document`` whose text holds one of ``who``'s identifiers.

    Every string is read, dictionary keys included, whatever field it is in, so a field missing
    from the :class:`PersonalDataMap` is found too.

    Example:
        >>> who = PersonIdentifiers(emails=["amy@example.com"])
        >>> find_identifiers({"a": {"b": ["x", "AMY@example.com"]}, "c": 3}, who)
        ['a.b[1]']

    .. versionadded:: 0.1.0
    """
    if not isinstance(who, PersonIdentifiers):
        raise ValidationError(f"must be PersonIdentifiers, not {type(who).__name__}", path="who")
    found: list[str] = []
    for path, text in _walk(document, ""):
        if who.match(text) is not None and path not in found:
            found.append(path)
    return found


@attrs.frozen
class Redaction:
    """One change :func:`scrub_document` made: the concrete path, the kind and the action.

    Example:
        >>> print(Redaction("messages[0].body", PiiKind.FREE_TEXT, PiiAction.REDACT))
        messages[0].body: free_text redacted

    .. versionadded:: 0.1.0
    """

    path: str
    kind: PiiKind
    action: PiiAction

    def __str__(self) -> str:
        done = {"redact": "redacted", "drop": "dropped", "set_none": "set to None"}
        return f"{self.path}: {self.kind.value} {done[self.action.value]}"


@attrs.frozen
class ScrubResult:
    """A scrubbed copy of a document and the list of what changed.

    Example:
        >>> r = scrub_document({"name": "Amy"}, [PersonalField("name", "name", "redact")],
        ...                    record_id="cus_1")
        >>> r.changed, r.document
        (True, {'name': 'Erased person'})

    .. versionadded:: 0.1.0
    """

    document: dict[str, Any]
    changes: tuple[Redaction, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was erased."""
        return bool(self.changes)

    def explain(self) -> str:
        """One line per change."""
        return "\n".join(str(c) for c in self.changes)


def _holds(value: Any, who: PersonIdentifiers | None) -> bool:
    if who is None:
        return True
    return any(who.match(text) is not None for _, text in _walk(value, ""))


def _apply(
    container: Any,
    parts: list[str],
    where: str,
    field: PersonalField,
    record_id: str,
    who: PersonIdentifiers | None,
    out: list[Redaction],
) -> None:
    if not isinstance(container, dict):
        return
    head, rest = parts[0], parts[1:]
    many = head.endswith("[]")
    key = head[:-2] if many else head
    if key not in container:
        return
    here = f"{where}.{key}" if where else key
    value = container[key]
    if many and rest:
        if isinstance(value, list):
            for i, item in enumerate(value):
                _apply(item, rest, f"{here}[{i}]", field, record_id, who, out)
        return
    if rest:
        _apply(value, rest, here, field, record_id, who, out)
        return
    if value is None:
        if field.fill and field.action is PiiAction.REDACT and who is None:
            container[key] = placeholder(field.kind, record_id)
            out.append(Redaction(here, field.kind, field.action))
        return
    if field.action is PiiAction.DROP:
        if isinstance(value, dict):
            kept_d = {k: x for k, x in value.items() if not _holds(x, who)}
            for k in value:
                if k not in kept_d:
                    out.append(Redaction(f"{here}.{k}", field.kind, field.action))
            container[key] = kept_d
        elif isinstance(value, list):
            kept = []
            for i, item in enumerate(value):
                if _holds(item, who):
                    out.append(Redaction(f"{here}[{i}]", field.kind, field.action))
                else:
                    kept.append(item)
            container[key] = kept
        elif _holds(value, who):
            container[key] = None
            out.append(Redaction(here, field.kind, PiiAction.SET_NONE))
        return
    if not _holds(value, who):
        return
    if field.action is PiiAction.SET_NONE:
        container[key] = None
    else:
        replacement = placeholder(field.kind, record_id)
        if value == replacement:
            return
        container[key] = replacement
    out.append(Redaction(here, field.kind, field.action))


def scrub_document(
    document: Mapping[str, Any],
    fields: Iterable[PersonalField],
    *,
    record_id: str,
    only_matching: PersonIdentifiers | None = None,
    mentions: PersonIdentifiers | None = None,
) -> ScrubResult:
    """Apply each field's action to a copy of ``document``; return it with what changed.

    Without ``only_matching`` every listed field is erased (the records that belong to the
    person). With it, only values that hold one of the identifiers are (another record that
    mentions the person): a list loses only the matching items. Fields marked
    ``only_if_mentioned`` are erased only where they hold one of ``mentions`` (or of
    ``only_matching``). Erasing twice changes nothing the second time.

    Example:
        >>> doc = {"summary": "Met Amy", "links": ["https://x.example/amy", "https://x.example/q"]}
        >>> fields = PersonalDataMap.builtin().fields_for("interactions")
        >>> r = scrub_document(doc, fields, record_id="int_1",
        ...                    only_matching=PersonIdentifiers(names=["amy"]))
        >>> r.document
        {'summary': '[erased]', 'links': ['https://x.example/q']}
        >>> scrub_document(r.document, fields, record_id="int_1").changes[0].path
        'links[0]'

    .. versionadded:: 0.1.0
    """
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"must be a document (a dict), not {type(document).__name__}", path="document"
        )
    copied: dict[str, Any] = copy.deepcopy(dict(document))
    out: list[Redaction] = []
    for field in fields:
        who = only_matching
        if field.only_if_mentioned and who is None:
            if mentions is None:
                continue
            who = mentions
        _apply(copied, field.path.split("."), "", field, record_id, who, out)
    return ScrubResult(copied, tuple(out))


class RetentionAction(StrEnum):
    """What happens to a record past its retention period: ``delete`` or ``anonymise``.

    Example:
        >>> RetentionAction("anonymise").value
        'anonymise'

    .. versionadded:: 0.1.0
    """

    DELETE = "delete"
    ANONYMISE = "anonymise"


def _retention_action(value: object) -> RetentionAction:
    return v.to_enum(RetentionAction, "action")(value)


def _statuses(value: object) -> tuple[str, ...]:
    return v.text_tuple("statuses")(value)


def _positive_years(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DefinitionError(f"years must be a whole number of years (0 or more), not {value!r}")


_ZONE_SUFFIX = re.compile(r"\[[^\]]*\]$")


def _anchor_time(document: Mapping[str, Any], path: str) -> datetime | None:
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    if isinstance(value, datetime):
        return ensure_aware(value, path)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(_ZONE_SUFFIX.sub("", value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@attrs.frozen
class RetentionRule:
    """Keep a record type for ``years`` after the date at ``anchor``, then delete or anonymise.

    ``statuses``, when given, limits the rule to documents whose ``status`` is one of them (a
    lead is kept while it is open). A document without the anchor date is never due.

    Example:
        >>> from datetime import datetime, timezone
        >>> rule = RetentionRule("leads", "updated_at", 2, "delete", statuses=["disqualified"])
        >>> doc = {"status": "disqualified", "updated_at": "2023-01-05T00:00:00+00:00"}
        >>> rule.due(doc, datetime(2026, 1, 5, tzinfo=timezone.utc))
        True
        >>> rule.due({**doc, "status": "new"}, datetime(2026, 1, 5, tzinfo=timezone.utc))
        False

    .. versionadded:: 0.1.0
    """

    record_type: str = attrs.field(validator=v.text(64))
    anchor: str = attrs.field(validator=_check_path)
    years: int = attrs.field(validator=_positive_years)
    action: RetentionAction = attrs.field(converter=_retention_action)
    statuses: tuple[str, ...] = attrs.field(default=(), converter=_statuses)

    def due(self, document: Mapping[str, Any], now: datetime) -> bool:
        """Whether ``document`` is past its retention period at ``now``."""
        now = ensure_aware(now, "now")
        if self.statuses and document.get("status") not in self.statuses:
            return False
        anchor = _anchor_time(document, self.anchor)
        return anchor is not None and anchor + relativedelta(years=self.years) <= now


def _rules(value: object) -> tuple[RetentionRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise DefinitionError(f"rules must be a list of RetentionRule, not {type(value).__name__}")
    rules = tuple(value)
    for rule in rules:
        if not isinstance(rule, RetentionRule):
            raise DefinitionError(f"rules must hold RetentionRule, not {type(rule).__name__}")
    return rules


@attrs.frozen
class RetentionPolicy:
    """Retention rules as data: per record type, how long, from which date, and then what.

    The built-in policy is a starting point, not legal advice: closed complaints are anonymised
    after 6 years, interactions after 5, delivered or failed notifications deleted after 1,
    disqualified leads deleted after 2. Quotes, orders and memberships are not touched (the law
    keeps amounts and the points ledger).

    Example:
        >>> [(r.record_type, r.years, r.action.value) for r in RetentionPolicy.builtin().rules]
        [('complaints', 6, 'anonymise'), ('interactions', 5, 'anonymise'),
         ('deliveries', 1, 'delete'), ('leads', 2, 'delete')]

    .. versionadded:: 0.1.0
    """

    rules: tuple[RetentionRule, ...] = attrs.field(default=(), converter=_rules)

    @classmethod
    def builtin(cls) -> RetentionPolicy:
        """A conservative default (see the class docstring)."""
        return cls(
            [
                RetentionRule("complaints", "closed_at", 6, "anonymise"),
                RetentionRule("interactions", "occurred_at", 5, "anonymise"),
                RetentionRule(
                    "deliveries", "created_at", 1, "delete", ["succeeded", "failed", "suppressed"]
                ),
                RetentionRule("leads", "updated_at", 2, "delete", ["disqualified"]),
            ]
        )

    def rules_for(self, record_type: str) -> tuple[RetentionRule, ...]:
        """The rules of ``record_type``, in order."""
        return tuple(r for r in self.rules if r.record_type == record_type)
