"""Finding duplicate customers: match rules as data, blocking keys, scores with reasons.

A :class:`DedupRecord` is what dedup compares: a name, a company, emails, phones and an
address (build one from a stored customer and its contacts with :meth:`DedupRecord.from_customer`).
:class:`MatchRules` say what counts as evidence: each :class:`MatchRule` names a field, a method
(``exact`` on the folded key, or ``fuzzy`` with the ``rapidfuzz`` library, from ``crmkit[dedup]``)
and the weight it adds to a pair's score. A pair whose score reaches ``accept`` is a duplicate.

:func:`find_duplicates` never compares every pair: it groups records by *blocking keys* (the
same email key, the same phone key, the same folded company name and name initials, ...) and scores
only the pairs that share a block, so N records cost about N, not N². A block larger than
``max_block_size`` (a shared ``info@`` address, say) is left out and listed in the result's
``capped`` blocks, so nothing is skipped silently. Every pair found carries its reasons: which
rule, which two values, how similar, what it added.

Keys fold what people type: full-width letters and digits, case, traditional and simplified
Chinese (台灣 and 台湾), legal forms ("Co., Ltd.", "有限公司"), dots and ``+tags`` in Gmail
addresses, local phone numbers and E.164 (a cheap canonical form: the region's calling code plus
the digits, no full parsing per row).

Example:
    >>> a = DedupRecord(id="cus_1", name="Amy Chen", company="Formosa Tea Co., Ltd.",
    ...                 phones=["0912-345-678"], region="TW")
    >>> b = DedupRecord(id="cus_2", name="CHEN Amy", company="Formosa Tea Ltd",
    ...                 phones=["+886 912 345 678"])
    >>> result = find_duplicates([a, b])
    >>> pair = result.pairs[0]
    >>> pair.left, pair.right, pair.score
    ('cus_1', 'cus_2', Decimal('1.00'))
    >>> print(pair.explain())
    cus_1 ~ cus_2: score 1.00 (accept from 0.60)
      phone exact: '+886912345678' = '+886912345678' (1.00) +0.60
      name fuzzy: 'amy chen' ~ 'amy chen' (1.00) +0.35
      company fuzzy: 'formosa tea' ~ 'formosa tea' (1.00) +0.25

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from crmkit.customers import _dedup_text as keys
from crmkit.customers._merge import (
    CUSTOMER_MERGES,
    CustomersMerged,
    FieldChoice,
    FieldStrategy,
    MergeRecord,
    RecordMove,
    Survivorship,
    apply_choices,
    choose_fields,
    mark_merged,
    resolve_id,
)
from crmkit.customers._model import Contact, Customer, CustomerKind
from crmkit.errors import DefinitionError, MissingDependencyError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import RecordType
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware

__all__ = [
    "BlockingKey",
    "CUSTOMER_MERGES",
    "CappedBlock",
    "CustomersMerged",
    "DEFAULT_RULES",
    "DUPLICATE_REVIEWS",
    "DedupRecord",
    "DedupResult",
    "DuplicateDismissed",
    "DuplicateFound",
    "DuplicatePair",
    "DuplicateReview",
    "FieldChoice",
    "FieldStrategy",
    "KeyPart",
    "KeyTake",
    "MatchField",
    "MatchMethod",
    "MatchReason",
    "MatchRule",
    "MatchRules",
    "MergeRecord",
    "RecordMove",
    "ReviewStatus",
    "Survivorship",
    "apply_choices",
    "choose_fields",
    "find_duplicates",
    "find_duplicates_pairwise",
    "mark_merged",
    "resolve_id",
    "score_pair",
]

_HUNDRED = Decimal(100)
_DIGITS = re.compile(r"\D+")
_CENT = Decimal("0.01")


class MatchField(StrEnum):
    """What a rule or a blocking key looks at.

    Example:
        >>> [f.value for f in MatchField]
        ['email', 'phone', 'name', 'company', 'address']

    .. versionadded:: 0.1.0
    """

    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    COMPANY = "company"
    ADDRESS = "address"


class MatchMethod(StrEnum):
    """How a rule compares: ``exact`` folded keys, or ``fuzzy`` similarity (rapidfuzz).

    Example:
        >>> MatchMethod("fuzzy").value
        'fuzzy'

    .. versionadded:: 0.1.0
    """

    EXACT = "exact"
    FUZZY = "fuzzy"


class KeyTake(StrEnum):
    """Which part of a folded value a blocking key uses.

    ``value`` the whole key, ``prefix`` its first ``length`` characters, ``initials`` the first
    letter of each word (of a CJK name: its first character), ``digits`` only its digits.

    Example:
        >>> [t.value for t in KeyTake]
        ['value', 'prefix', 'initials', 'digits']

    .. versionadded:: 0.1.0
    """

    VALUE = "value"
    PREFIX = "prefix"
    INITIALS = "initials"
    DIGITS = "digits"


def _int_range(low: int, high: int) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                f"must be a whole number from {low} to {high}, got {value!r}", path=attribute.name
            )

    return check


def _unit_decimal(path: str) -> Callable[[object], Decimal]:
    def convert(value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise ValidationError(
                f"must be a Decimal, int or str between 0 and 1, not {type(value).__name__}",
                path=path,
            )
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise ValidationError(f"{value!r} is not a number", path=path) from None
        if not number.is_finite() or not 0 <= number <= 1:
            raise ValidationError(f"must be between 0 and 1, got {value}", path=path)
        if number != number.quantize(_CENT):
            raise ValidationError(f"must have at most two decimal places, got {value}", path=path)
        return number.quantize(_CENT)

    return convert


def _to_field(value: object) -> MatchField:
    return v.to_enum(MatchField, "field")(value)


def _to_method(value: object) -> MatchMethod:
    return v.to_enum(MatchMethod, "method")(value)


def _to_take(value: object) -> KeyTake:
    return v.to_enum(KeyTake, "take")(value)


def _to_weight(value: object) -> Decimal:
    return _unit_decimal("weight")(value)


def _to_threshold(value: object) -> Decimal:
    return _unit_decimal("threshold")(value)


def _to_accept(value: object) -> Decimal:
    return _unit_decimal("accept")(value)


def _to_similarity(value: object) -> Decimal:
    return _unit_decimal("similarity")(value)


def _to_contribution(value: object) -> Decimal:
    return _unit_decimal("contribution")(value)


def _to_score(value: object) -> Decimal:
    return _unit_decimal("score")(value)


@attrs.frozen(kw_only=True)
class MatchRule:
    """One piece of evidence: ``field`` compared by ``method`` adds ``weight`` to the score.

    An ``exact`` rule fires when the two records share a folded key (any of their emails or
    phones); a ``fuzzy`` rule fires when the rapidfuzz similarity of the folded values (names
    with their words sorted) reaches ``threshold`` (two addresses must
    also have the same digits: house number, floor, postcode). A missing value never matches.

    Example:
        >>> MatchRule(field="name", method="fuzzy", weight="0.35").threshold
        Decimal('0.85')

    .. versionadded:: 0.1.0
    """

    field: MatchField = attrs.field(converter=_to_field)
    method: MatchMethod = attrs.field(default=MatchMethod.EXACT, converter=_to_method)
    weight: Decimal = attrs.field(converter=_to_weight)
    threshold: Decimal = attrs.field(default=Decimal("0.85"), converter=_to_threshold)


@attrs.frozen(kw_only=True)
class KeyPart:
    """One part of a blocking key: a field and which part of its folded value to take.

    Example:
        >>> KeyPart(field="company", take="prefix", length=4).take.value
        'prefix'

    .. versionadded:: 0.1.0
    """

    field: MatchField = attrs.field(converter=_to_field)
    take: KeyTake = attrs.field(default=KeyTake.VALUE, converter=_to_take)
    length: int = attrs.field(default=4, validator=_int_range(1, 50))


def _parts(value: object) -> tuple[KeyPart, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of KeyPart", path="parts")
    parts = tuple(value)
    if not parts or not all(isinstance(p, KeyPart) for p in parts):
        raise ValidationError("must be a non-empty list of KeyPart", path="parts")
    return parts


@attrs.frozen(kw_only=True)
class BlockingKey:
    """Records that share this key's value are compared; ``parts`` are joined with ``|``.

    A record missing any part has no value for the key. Email and phone parts give one value
    per address or number.

    Example:
        >>> key = BlockingKey(name="company+initials", parts=[
        ...     KeyPart(field="company", take="prefix", length=4),
        ...     KeyPart(field="name", take="initials")])
        >>> key.values(DedupRecord(id="cus_1", name="Amy Chen", company="Formosa Tea"))
        ('form|ac',)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    parts: tuple[KeyPart, ...] = attrs.field(converter=_parts)

    def values(self, record: DedupRecord) -> tuple[str, ...]:
        """The key's values for ``record`` (none when a part is missing)."""
        return _key_values(self, _Folded.of(record))


def _exact_key(field: MatchField) -> BlockingKey:
    return BlockingKey(name=field.value, parts=(KeyPart(field=field),))


#: The blocking keys of :data:`DEFAULT_RULES` beside the exact rules' own keys.
_DEFAULT_BLOCKING = (
    BlockingKey(
        name="company+initials",
        parts=(
            KeyPart(field=MatchField.COMPANY),
            KeyPart(field=MatchField.NAME, take=KeyTake.INITIALS),
        ),
    ),
    BlockingKey(
        name="initials+address digits",
        parts=(
            KeyPart(field=MatchField.NAME, take=KeyTake.INITIALS),
            KeyPart(field=MatchField.ADDRESS, take=KeyTake.DIGITS),
        ),
    ),
)


def _rules(value: object) -> tuple[MatchRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise DefinitionError("rules: must be a list of MatchRule")
    rules = tuple(value)
    if not rules or not all(isinstance(r, MatchRule) for r in rules):
        raise DefinitionError("rules: must be a non-empty list of MatchRule")
    seen = [(r.field, r.method) for r in rules]
    if len(set(seen)) != len(seen):
        raise DefinitionError("rules: a field and method may appear once each")
    return rules


def _blocking(value: object) -> tuple[BlockingKey, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise DefinitionError("blocking: must be a list of BlockingKey")
    found = tuple(value)
    if not all(isinstance(k, BlockingKey) for k in found):
        raise DefinitionError("blocking: must be a list of BlockingKey")
    names = [k.name for k in found]
    if len(set(names)) != len(names):
        raise DefinitionError("blocking: each key needs its own name")
    return found


@attrs.frozen(kw_only=True)
class MatchRules:
    """The match policy: rules, the score from which a pair is a duplicate, the blocking keys.

    Every ``exact`` rule adds its own blocking key (its field's whole key), so a pair an exact
    rule accepts is always a candidate unless its block was capped. ``blocking`` adds keys for
    the fuzzy rules. Blocks larger than ``max_block_size`` are not compared (see
    :attr:`DedupResult.capped`). Round-trips through :mod:`crmkit.serialization`.

    Example:
        >>> from crmkit.serialization import structure, unstructure
        >>> structure(unstructure(DEFAULT_RULES), MatchRules) == DEFAULT_RULES
        True
        >>> [k.name for k in DEFAULT_RULES.all_blocking_keys()]
        ['email', 'phone', 'company+initials', 'initials+address digits']
        >>> MatchRules(rules=[MatchRule(field="email", weight="0.5")], accept="0.6")
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: accept: no pair can reach 0.60: the weights add up to 0.50

    .. versionadded:: 0.1.0
    """

    rules: tuple[MatchRule, ...] = attrs.field(converter=_rules)
    accept: Decimal = attrs.field(default=Decimal("0.60"), converter=_to_accept)
    blocking: tuple[BlockingKey, ...] = attrs.field(default=(), converter=_blocking)
    max_block_size: int = attrs.field(default=200, validator=_int_range(2, 100_000))

    def __attrs_post_init__(self) -> None:
        total = sum((r.weight for r in self.rules), Decimal(0))
        if self.accept <= 0:
            raise DefinitionError("accept: must be above 0, or every pair would be a duplicate")
        if total < self.accept:
            raise DefinitionError(
                f"accept: no pair can reach {self.accept}: the weights add up to {total}"
            )

    def all_blocking_keys(self) -> tuple[BlockingKey, ...]:
        """The exact rules' keys first, then :attr:`blocking` (without repeating a name)."""
        implicit = [_exact_key(r.field) for r in self.rules if r.method is MatchMethod.EXACT]
        names = {k.name for k in self.blocking}
        return (*(k for k in implicit if k.name not in names), *self.blocking)


#: Email or phone alone (0.60) is a duplicate; so is a similar name at a similar company
#: (0.35 + 0.25) or at a similar address (0.35 + 0.25). A similar company and address alone
#: (colleagues) is not.
DEFAULT_RULES = MatchRules(
    rules=(
        MatchRule(field=MatchField.EMAIL, weight=Decimal("0.60")),
        MatchRule(field=MatchField.PHONE, weight=Decimal("0.60")),
        MatchRule(field=MatchField.NAME, method=MatchMethod.FUZZY, weight=Decimal("0.35")),
        MatchRule(field=MatchField.COMPANY, method=MatchMethod.FUZZY, weight=Decimal("0.25")),
        MatchRule(field=MatchField.ADDRESS, method=MatchMethod.FUZZY, weight=Decimal("0.25")),
    ),
    blocking=_DEFAULT_BLOCKING,
)


def _texts(path: str) -> Callable[[object], tuple[str, ...]]:
    def convert(value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValidationError(f"must be a list of text, not {type(value).__name__}", path=path)
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValidationError(
                    f"must be text, not {type(item).__name__}", path=f"{path}[{i}]"
                )
        return items

    return convert


def _optional_str(path: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"must be text or None, not {type(value).__name__}", path=path)

    return check


def _record_id(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("must be a non-empty text id", path="id")


def _to_emails(value: object) -> tuple[str, ...]:
    return _texts("emails")(value)


def _to_phones(value: object) -> tuple[str, ...]:
    return _texts("phones")(value)


@attrs.frozen(kw_only=True)
class DedupRecord:
    """What dedup compares for one customer (or one imported row): raw values, folded later.

    ``region`` reads phone numbers written without ``+`` (``"TW"``).

    Example:
        >>> DedupRecord(id="row_7", name="陳小明", emails=["Ming@Example.com"]).emails
        ('Ming@Example.com',)

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=_record_id)
    name: str | None = attrs.field(default=None, validator=_optional_str("name"))
    company: str | None = attrs.field(default=None, validator=_optional_str("company"))
    emails: tuple[str, ...] = attrs.field(default=(), converter=_to_emails)
    phones: tuple[str, ...] = attrs.field(default=(), converter=_to_phones)
    address: str | None = attrs.field(default=None, validator=_optional_str("address"))
    region: str | None = attrs.field(default=None, validator=_optional_str("region"))

    @classmethod
    def from_customer(cls, customer: Customer, contacts: Iterable[Contact] = ()) -> DedupRecord:
        """The record of a stored customer, with every email and phone of its contacts.

        A company's name is its company too.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> tea = Customer(id="cus_1", name="Formosa Tea", kind="company", created_at=now)
            >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy",
            ...               emails=["amy@tea.example"], phones=["+886912345678"])
            >>> r = DedupRecord.from_customer(tea, [amy])
            >>> r.name, r.company, r.emails, r.phones
            ('Formosa Tea', 'Formosa Tea', ('amy@tea.example',), ('+886912345678',))
        """
        emails: list[str] = []
        phones: list[str] = []
        for contact in contacts:
            emails.extend(contact.emails)
            phones.extend(contact.phones)
        company = customer.name if customer.kind is CustomerKind.COMPANY else None
        return cls(
            id=customer.id,
            name=customer.name,
            company=company,
            emails=emails,
            phones=phones,
            address=customer.address,
        )


class _Folded:
    """A record's folded keys, computed once; ``values`` holds them per field, in field order."""

    __slots__ = ("address", "company", "emails", "id", "name", "phones", "values")

    def __init__(
        self,
        record_id: str,
        emails: tuple[str, ...],
        phones: tuple[str, ...],
        name: str,
        company: str,
        address: str,
    ) -> None:
        self.id, self.emails, self.phones = record_id, emails, phones
        self.name, self.company, self.address = name, company, address
        self.values: tuple[tuple[str, ...], ...] = (
            emails,
            phones,
            (name,) if name else (),
            (company,) if company else (),
            (address,) if address else (),
        )

    @classmethod
    def of(cls, record: DedupRecord) -> _Folded:
        emails = tuple(sorted({k for k in map(keys.email_key, record.emails) if k}))
        region = record.region
        phones = tuple(sorted({k for k in (keys.phone_key(p, region) for p in record.phones) if k}))
        return cls(
            record.id,
            emails,
            phones,
            keys.name_key(record.name),
            keys.company_key(record.company),
            keys.address_key(record.address),
        )

    def field(self, field: MatchField) -> tuple[str, ...]:
        return self.values[_FIELD_INDEX[field]]


_FIELD_INDEX = {field: n for n, field in enumerate(MatchField)}


def _take(value: str, part: KeyPart) -> str:
    take = part.take
    if take is KeyTake.VALUE:
        return value
    if take is KeyTake.PREFIX:
        return value.replace(" ", "")[: part.length]
    if take is KeyTake.INITIALS:
        return keys.initials(value)
    return _DIGITS.sub("", value)


def _key_values(key: BlockingKey, folded: _Folded) -> tuple[str, ...]:
    parts = key.parts
    if len(parts) == 1 and parts[0].take is KeyTake.VALUE:
        return folded.values[_FIELD_INDEX[parts[0].field]]
    choices: list[list[str]] = []
    for part in parts:
        taken = [t for t in (_take(v, part) for v in folded.values[_FIELD_INDEX[part.field]]) if t]
        if not taken:
            return ()
        choices.append(taken)
    if len(choices) == 2 and len(choices[0]) == 1 and len(choices[1]) == 1:
        return (f"{choices[0][0]}|{choices[1][0]}",)
    return tuple("|".join(combo) for combo in itertools.product(*choices))


@attrs.frozen(kw_only=True)
class MatchReason:
    """Why a pair scored: the rule, the two values compared, their similarity, the contribution.

    Example:
        >>> r = MatchReason(field="email", method="exact", left="a@x.example",
        ...                 right="a@x.example", similarity="1", contribution="0.6")
        >>> str(r)
        "email exact: 'a@x.example' = 'a@x.example' (1.00) +0.60"

    .. versionadded:: 0.1.0
    """

    field: MatchField = attrs.field(converter=_to_field)
    method: MatchMethod = attrs.field(converter=_to_method)
    left: str = attrs.field(validator=v.of_type(str))
    right: str = attrs.field(validator=v.of_type(str))
    similarity: Decimal = attrs.field(converter=_to_similarity)
    contribution: Decimal = attrs.field(converter=_to_contribution)

    def __str__(self) -> str:
        sign = "=" if self.method is MatchMethod.EXACT else "~"
        return (
            f"{self.field.value} {self.method.value}: {self.left!r} {sign} {self.right!r} "
            f"({self.similarity}) +{self.contribution}"
        )


@attrs.frozen(kw_only=True)
class DuplicatePair:
    """Two records taken for the same customer (``left`` < ``right``), with score and reasons.

    Example:
        >>> pair = find_duplicates([DedupRecord(id="b", emails=["x@y.example"]),
        ...                         DedupRecord(id="a", emails=["X@y.example"])]).pairs[0]
        >>> pair.left, pair.right, [str(r) for r in pair.reasons]
        ('a', 'b', ["email exact: 'x@y.example' = 'x@y.example' (1.00) +0.60"])

    .. versionadded:: 0.1.0
    """

    left: str
    right: str
    score: Decimal
    accept: Decimal
    reasons: tuple[MatchReason, ...]

    def explain(self) -> str:
        """One line for the pair and one per reason."""
        head = f"{self.left} ~ {self.right}: score {self.score} (accept from {self.accept})"
        return "\n".join([head, *(f"  {r}" for r in self.reasons)])


@attrs.frozen(kw_only=True)
class CappedBlock:
    """A block left out because it held more records than ``max_block_size``.

    Example:
        >>> CappedBlock(key="email", value="info@acme.example", size=950).size
        950

    .. versionadded:: 0.1.0
    """

    key: str
    value: str
    size: int


@attrs.frozen(kw_only=True)
class DedupResult:
    """What :func:`find_duplicates` found, and what it did to find it.

    ``pairs`` are sorted by score (highest first), then ids; ``candidates`` is how many pairs
    were scored; ``capped`` lists every block left out.

    Example:
        >>> rows = [DedupRecord(id=i, emails=["same@x.example"]) for i in ("a", "b", "c")]
        >>> result = find_duplicates(rows)
        >>> result.clusters(), result.candidates, result.capped
        ((('a', 'b', 'c'),), 3, ())

    .. versionadded:: 0.1.0
    """

    pairs: tuple[DuplicatePair, ...]
    records: int
    candidates: int
    capped: tuple[CappedBlock, ...] = ()

    def clusters(self) -> tuple[tuple[str, ...], ...]:
        """Groups of ids joined by the pairs (transitively), each sorted, largest first."""
        parent: dict[str, str] = {}

        def root(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for pair in self.pairs:
            a, b = root(pair.left), root(pair.right)
            if a != b:
                parent[max(a, b)] = min(a, b)
        groups: dict[str, list[str]] = {}
        for x in parent:
            groups.setdefault(root(x), []).append(x)
        found = (tuple(sorted(g)) for g in groups.values())
        return tuple(sorted(found, key=lambda g: (-len(g), g)))


class _Scorer:
    """The rules compiled for speed: integer hundredths, rapidfuzz imported once."""

    def __init__(self, rules: MatchRules) -> None:
        self.rules = rules
        self.accept = int(rules.accept * _HUNDRED)
        self.compiled = [
            (r, int(r.weight * _HUNDRED), float(r.threshold * _HUNDRED)) for r in rules.rules
        ]
        self.ratio: Callable[..., float] | None = None
        if any(r.method is MatchMethod.FUZZY for r in rules.rules):
            try:
                from rapidfuzz import fuzz
            except ImportError as exc:
                raise MissingDependencyError.for_extra(
                    "rapidfuzz", "dedup", "a fuzzy match rule"
                ) from exc
            self.ratio = fuzz.ratio

    def _similarity(self, rule: MatchRule, threshold: float, a: _Folded, b: _Folded) -> float:
        field = rule.field
        if field is MatchField.EMAIL:
            return 100.0 if any(e in b.emails for e in a.emails) else 0.0
        if field is MatchField.PHONE:
            return 100.0 if any(p in b.phones for p in a.phones) else 0.0
        x: str = getattr(a, field.value)
        y: str = getattr(b, field.value)
        if not x or not y:
            return 0.0
        if x == y:
            return 100.0
        if rule.method is MatchMethod.EXACT or self.ratio is None:
            return 0.0
        if field is MatchField.ADDRESS and _DIGITS.sub("", x) != _DIGITS.sub("", y):
            return 0.0  # 12 King Street is not 427 King Street, however alike they read
        return self.ratio(x, y, score_cutoff=threshold)

    def total(self, a: _Folded, b: _Folded) -> int:
        total = 0
        for rule, weight, threshold in self.compiled:
            if self._similarity(rule, threshold, a, b) >= threshold:
                total += weight
        return min(total, 100)

    def pair(self, a: _Folded, b: _Folded) -> DuplicatePair:
        reasons = []
        total = 0
        for rule, weight, threshold in self.compiled:
            similarity = self._similarity(rule, threshold, a, b)
            if similarity < threshold or similarity == 0:
                continue
            total += weight
            left, right = _shown(rule.field, a, b)
            reasons.append(
                MatchReason(
                    field=rule.field,
                    method=rule.method,
                    left=left,
                    right=right,
                    similarity=(Decimal(repr(similarity)) / _HUNDRED).quantize(_CENT),
                    contribution=rule.weight,
                )
            )
        if a.id > b.id:
            a, b = b, a
            reasons = [attrs.evolve(r, left=r.right, right=r.left) for r in reasons]
        return DuplicatePair(
            left=a.id,
            right=b.id,
            score=(Decimal(min(total, 100)) / _HUNDRED).quantize(_CENT),
            accept=self.rules.accept,
            reasons=tuple(reasons),
        )


def _shown(field: MatchField, a: _Folded, b: _Folded) -> tuple[str, str]:
    if field in (MatchField.EMAIL, MatchField.PHONE):
        shared = min(set(a.field(field)) & set(b.field(field)))
        return shared, shared
    return getattr(a, field.value), getattr(b, field.value)


def score_pair(a: DedupRecord, b: DedupRecord, rules: MatchRules | None = None) -> DuplicatePair:
    """Score two records under ``rules`` (default :data:`DEFAULT_RULES`), with every reason.

    Example:
        >>> a = DedupRecord(id="a", name="Amy Chen", address="12 Queen's Road")
        >>> b = DedupRecord(id="b", name="Amy Chan", address="12 Queens Road")
        >>> pair = score_pair(a, b)
        >>> pair.score, [r.field.value for r in pair.reasons]
        (Decimal('0.60'), ['name', 'address'])

    .. versionadded:: 0.1.0
    """
    return _Scorer(_check_rules(rules)).pair(_Folded.of(_record(a)), _Folded.of(_record(b)))


def _check_rules(rules: object) -> MatchRules:
    if rules is None:
        return DEFAULT_RULES
    if not isinstance(rules, MatchRules):
        raise ValidationError(f"must be MatchRules, not {type(rules).__name__}", path="rules")
    return rules


def _record(value: object, path: str = "record") -> DedupRecord:
    if not isinstance(value, DedupRecord):
        raise ValidationError(f"must be a DedupRecord, not {type(value).__name__}", path=path)
    return value


def _fold_all(records: Iterable[DedupRecord]) -> list[_Folded]:
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise ValidationError("must be a list of DedupRecord", path="records")
    folded = [_Folded.of(_record(r, f"records[{i}]")) for i, r in enumerate(records)]
    seen: set[str] = set()
    for item in folded:
        if item.id in seen:
            raise ValidationError(
                f"holds the id {item.id!r} twice; ids must be unique", path="records"
            )
        seen.add(item.id)
    return folded


def find_duplicates(records: Iterable[DedupRecord], rules: MatchRules | None = None) -> DedupResult:
    """Find the duplicate pairs among ``records`` by blocking keys, then scoring.

    Only pairs that share a blocking key's value are scored; each is scored once, however many
    keys it shares. Pairs scoring at least ``rules.accept`` are returned with their reasons.

    Example:
        >>> rows = [
        ...     DedupRecord(id="r1", name="陳小明", company="台灣茶業有限公司",
        ...                 phones=["02 2345 6789"], region="TW"),
        ...     DedupRecord(id="r2", name="陈小明", company="台湾茶业 Co., Ltd."),
        ...     DedupRecord(id="r3", name="Bob Lin", phones=["+886223456789"]),
        ... ]
        >>> [(p.left, p.right, p.score) for p in find_duplicates(rows).pairs]
        [('r1', 'r2', Decimal('0.60')), ('r1', 'r3', Decimal('0.60'))]

    .. versionadded:: 0.1.0
    """
    rules = _check_rules(rules)
    scorer = _Scorer(rules)
    folded = _fold_all(records)
    count = len(folded)
    candidates: set[int] = set()
    capped: list[CappedBlock] = []
    for key in rules.all_blocking_keys():
        blocks: dict[str, list[int]] = {}
        for index, item in enumerate(folded):
            for value in _key_values(key, item):
                blocks.setdefault(value, []).append(index)
        for value, members in blocks.items():
            if len(members) < 2:
                continue
            if len(members) > rules.max_block_size:
                capped.append(CappedBlock(key=key.name, value=value, size=len(members)))
                continue
            for i, j in itertools.combinations(members, 2):
                candidates.add(i * count + j if i < j else j * count + i)
    pairs = []
    for code in candidates:
        a, b = folded[code // count], folded[code % count]
        if scorer.total(a, b) >= scorer.accept:
            pairs.append(scorer.pair(a, b))
    return _result(pairs, count, len(candidates), capped)


def find_duplicates_pairwise(
    records: Sequence[DedupRecord], rules: MatchRules | None = None
) -> DedupResult:
    """Score every pair (N² / 2 of them), the reference :func:`find_duplicates` is held to.

    Tests and benchmarks measure :func:`find_duplicates` against it; use it on samples only.

    Example:
        >>> rows = [DedupRecord(id="a", emails=["x@y.example"]),
        ...         DedupRecord(id="b", emails=["X@Y.example"]), DedupRecord(id="c")]
        >>> r = find_duplicates_pairwise(rows)
        >>> [(p.left, p.right) for p in r.pairs], r.candidates
        ([('a', 'b')], 3)

    .. versionadded:: 0.1.0
    """
    rules = _check_rules(rules)
    scorer = _Scorer(rules)
    folded = _fold_all(records)
    pairs = []
    scored = 0
    for a, b in itertools.combinations(folded, 2):
        scored += 1
        if scorer.total(a, b) >= scorer.accept:
            pairs.append(scorer.pair(a, b))
    return _result(pairs, len(folded), scored, [])


def _result(
    pairs: list[DuplicatePair], records: int, candidates: int, capped: list[CappedBlock]
) -> DedupResult:
    pairs.sort(key=lambda p: (-p.score, p.left, p.right))
    capped.sort(key=lambda c: (-c.size, c.key, c.value))
    return DedupResult(
        pairs=tuple(pairs), records=records, candidates=candidates, capped=tuple(capped)
    )


# ----- the review queue ------------------------------------------------------------------------


class ReviewStatus(StrEnum):
    """Where a suspected duplicate stands in the review queue.

    Example:
        >>> [s.value for s in ReviewStatus]
        ['pending', 'merged', 'dismissed']

    .. versionadded:: 0.1.0
    """

    PENDING = "pending"
    MERGED = "merged"
    DISMISSED = "dismissed"


@attrs.frozen(kw_only=True)
class DuplicateFound(DomainEvent):
    """A pair of customers entered the review queue.

    Example:
        >>> DuplicateFound.event_type
        'customers.DuplicateFound'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.DuplicateFound"
    customer_ids: tuple[str, ...]
    score: Decimal


@attrs.frozen(kw_only=True)
class DuplicateDismissed(DomainEvent):
    """A reviewer said a suspected pair is not a duplicate.

    Example:
        >>> DuplicateDismissed.event_type
        'customers.DuplicateDismissed'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.DuplicateDismissed"
    customer_ids: tuple[str, ...]
    note: str | None = None


def _pair_ids(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or len(value) != 2 or value[0] >= value[1]:
        raise ValidationError("must be two different ids in sorted order", path="customer_ids")
    for i, item in enumerate(value):
        check_id(item, f"customer_ids[{i}]")


def _reasons(value: object) -> tuple[MatchReason, ...]:
    items = tuple(value) if isinstance(value, Iterable) else None
    if items is None or not all(isinstance(r, MatchReason) for r in items):
        raise ValidationError("must be a list of MatchReason", path="reasons")
    return items


def _to_pair(value: object) -> tuple[str, str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("must be two customer ids", path="customer_ids")
    items = tuple(value)
    if len(items) != 2:
        raise ValidationError(f"must be two customer ids, got {len(items)}", path="customer_ids")
    return (items[0], items[1])


def _to_status(value: object) -> ReviewStatus:
    return v.to_enum(ReviewStatus, "status")(value)


@attrs.define(kw_only=True)
class DuplicateReview(Aggregate):
    """One suspected pair in the review queue: pending until merged or dismissed.

    The id is :meth:`id_for` the pair, so finding the same pair again updates it (while
    pending) instead of queueing it twice, and a dismissed pair stays dismissed.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> pair = find_duplicates([DedupRecord(id="cus_2", emails=["a@x.example"]),
        ...                         DedupRecord(id="cus_1", emails=["A@x.example"])]).pairs[0]
        >>> review = DuplicateReview.open(pair, now=now)
        >>> review.customer_ids, review.status.value
        (('cus_1', 'cus_2'), 'pending')
        >>> review.dismiss(now=now, actor="u_amy", note="two people, one shared inbox")
        >>> review.status.value, review.decided_by
        ('dismissed', 'u_amy')

    .. versionadded:: 0.1.0
    """

    customer_ids: tuple[str, str] = attrs.field(converter=_to_pair, validator=_pair_ids)
    score: Decimal = attrs.field(converter=_to_score)
    reasons: tuple[MatchReason, ...] = attrs.field(converter=_reasons)
    found_at: datetime = attrs.field(validator=validate_aware)
    status: ReviewStatus = attrs.field(default=ReviewStatus.PENDING, converter=_to_status)
    decided_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    decided_by: str | None = attrs.field(default=None, validator=v.optional_text(100))
    note: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(1000)
    )
    merge_id: str | None = attrs.field(default=None, validator=v.optional_text(100))

    @staticmethod
    def id_for(a: str, b: str) -> str:
        """The review id of a pair of customer ids (in either order).

        Example:
            >>> DuplicateReview.id_for("cus_1", "cus_2") == DuplicateReview.id_for("cus_2", "cus_1")
            True
        """
        left, right = sorted((check_id(a, "a"), check_id(b, "b")))
        return "dup_" + hashlib.blake2b(f"{left}\x1f{right}".encode(), digest_size=10).hexdigest()

    @classmethod
    def open(
        cls, pair: DuplicatePair, *, now: datetime, actor: str | None = None
    ) -> DuplicateReview:
        """Queue ``pair`` for review and record ``DuplicateFound``."""
        ensure_aware(now, "now")
        review = cls(
            id=cls.id_for(pair.left, pair.right),
            customer_ids=(pair.left, pair.right),
            score=pair.score,
            reasons=pair.reasons,
            found_at=now,
        )
        review.record(
            DuplicateFound(
                aggregate_id=review.id,
                occurred_at=now,
                actor=actor,
                customer_ids=review.customer_ids,
                score=review.score,
            )
        )
        return review

    def refresh(self, pair: DuplicatePair) -> bool:
        """Take a newer score and reasons while pending; return whether anything changed."""
        if self.status is not ReviewStatus.PENDING:
            return False
        if (self.score, self.reasons) == (pair.score, pair.reasons):
            return False
        self.score, self.reasons = pair.score, pair.reasons
        return True

    def _decide(self, status: ReviewStatus, now: datetime, actor: str | None) -> None:
        ensure_aware(now, "now")
        if self.status is not ReviewStatus.PENDING:
            raise RuleViolation(
                f"duplicate review {self.id!r} is already {self.status.value}; "
                "only a pending review can be decided",
                details={"id": self.id, "status": self.status.value},
            )
        self.status, self.decided_at, self.decided_by = status, now, actor

    def dismiss(self, *, now: datetime, actor: str | None = None, note: str | None = None) -> None:
        """Say the pair is not a duplicate; it stays dismissed when found again."""
        self._decide(ReviewStatus.DISMISSED, now, actor)
        self.note = note
        self.record(
            DuplicateDismissed(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_ids=self.customer_ids,
                note=self.note,
            )
        )

    def mark_merged(self, merge_id: str, *, now: datetime, actor: str | None = None) -> None:
        """Close the review because its pair was merged (``merge_id`` is the merge record)."""
        self._decide(ReviewStatus.MERGED, now, actor)
        self.merge_id = merge_id


#: The review queue: queryable by status, customer ids, score and when found.
DUPLICATE_REVIEWS: RecordType[DuplicateReview] = RecordType(
    "duplicate_reviews",
    DuplicateReview,
    {
        "status": lambda r: r.status.value,
        "customer_ids": lambda r: r.customer_ids,
        "score": lambda r: r.score,
        "found_at": lambda r: r.found_at,
    },
    kinds={"customer_ids": "multi", "score": "decimal", "found_at": "datetime"},
)
