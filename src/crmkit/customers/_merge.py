"""Merging customers, the pure part: survivorship rules, the merge record, tombstones.

The app layer (:mod:`crmkit.app.merge`) loads the customers and the records that point at them,
asks :func:`choose_fields` what the survivor becomes, moves the records and keeps a
:class:`MergeRecord` that explains it all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from crmkit.customers._model import Customer, CustomerKind, Lifecycle
from crmkit.errors import DefinitionError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import RecordType
from crmkit.kernel.time import ensure_aware, validate_aware

__all__ = [
    "CUSTOMER_MERGES",
    "CustomersMerged",
    "FieldChoice",
    "FieldStrategy",
    "MergeRecord",
    "RecordMove",
    "Survivorship",
    "apply_choices",
    "choose_fields",
    "mark_merged",
    "resolve_id",
]

#: The customer fields survivorship decides, in the order they are decided.
MERGE_FIELDS = ("name", "kind", "tags", "source", "owner", "lifecycle", "address")


class FieldStrategy(StrEnum):
    """How one field of the survivor is chosen among the customers merged.

    ``survivor`` keeps the survivor's value; ``most_recent`` takes the value of the most
    recently registered customer that has one; ``most_complete`` the value of the customer with
    the most fields filled in; ``source_priority`` the value of the customer whose ``source``
    comes first in :attr:`Survivorship.source_priority`; ``union`` (tags only) keeps every tag.
    Only non-empty values are taken; ties go to the survivor, then to the order given.

    Example:
        >>> [s.value for s in FieldStrategy]
        ['survivor', 'most_recent', 'most_complete', 'source_priority', 'union']

    .. versionadded:: 0.1.0
    """

    SURVIVOR = "survivor"
    MOST_RECENT = "most_recent"
    MOST_COMPLETE = "most_complete"
    SOURCE_PRIORITY = "source_priority"
    UNION = "union"


_to_strategy = v.to_enum(FieldStrategy, "strategy")


def _strategy(value: object) -> FieldStrategy:
    return _to_strategy(value)


def _field_strategies(value: object) -> dict[str, FieldStrategy]:
    if not isinstance(value, Mapping):
        raise DefinitionError(f"fields: must be a mapping, not {type(value).__name__}")
    found: dict[str, FieldStrategy] = {}
    for name, strategy in value.items():
        if name not in MERGE_FIELDS:
            raise DefinitionError(
                f"fields: {name!r} is not a merge field; known are {', '.join(MERGE_FIELDS)}"
            )
        try:
            found[name] = _to_strategy(strategy)
        except ValidationError as exc:
            raise DefinitionError(f"fields.{name}: {exc.message}") from None
        if found[name] is FieldStrategy.UNION and name != "tags":
            raise DefinitionError(f"fields.{name}: 'union' is for tags only")
    return found


def _default_fields() -> dict[str, FieldStrategy]:
    return {
        "name": FieldStrategy.SURVIVOR,
        "kind": FieldStrategy.SURVIVOR,
        "tags": FieldStrategy.UNION,
    }


def _default_strategy(value: object) -> FieldStrategy:
    strategy = _to_strategy(value)
    if strategy is FieldStrategy.UNION:
        raise DefinitionError("default: 'union' is for tags only; name it in fields")
    return strategy


def _to_source_priority(value: object) -> tuple[str, ...]:
    return v.text_tuple("source_priority")(value)


def _to_texts(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"must be a list of text, not {type(value).__name__}")
    return tuple(str(item) for item in value)


@attrs.frozen(kw_only=True)
class Survivorship:
    """Survivorship rules as data: a strategy per field, a default, and source priorities.

    Round-trips through :mod:`crmkit.serialization`, so a host can keep it with its settings.

    Example:
        >>> rules = Survivorship(fields={"address": "most_recent", "tags": "union"},
        ...                      source_priority=["erp", "web form"])
        >>> rules.strategy_for("address").value, rules.strategy_for("owner").value
        ('most_recent', 'most_complete')
        >>> Survivorship(fields={"colour": "survivor"})
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: fields: 'colour' is not a merge field; known are ...

    .. versionadded:: 0.1.0
    """

    default: FieldStrategy = attrs.field(
        default=FieldStrategy.MOST_COMPLETE, converter=_default_strategy
    )
    fields: dict[str, FieldStrategy] = attrs.field(
        factory=_default_fields, converter=_field_strategies, hash=False
    )
    source_priority: tuple[str, ...] = attrs.field(default=(), converter=_to_source_priority)

    def strategy_for(self, field: str) -> FieldStrategy:
        """The strategy for ``field``: its own, else the default."""
        return self.fields.get(field, self.default)


@attrs.frozen(kw_only=True)
class FieldChoice:
    """What the survivor's ``field`` became, from which customers, by which strategy.

    ``value`` is the chosen value as text (tags: each tag; empty: no value).

    Example:
        >>> FieldChoice(field="address", value=["台北市松仁路100號"], from_ids=["cus_2"],
        ...             strategy="most_recent").from_ids
        ('cus_2',)

    .. versionadded:: 0.1.0
    """

    field: str = attrs.field(validator=attrs.validators.in_(MERGE_FIELDS))
    value: tuple[str, ...] = attrs.field(converter=_to_texts)
    from_ids: tuple[str, ...] = attrs.field(converter=_to_texts)
    strategy: FieldStrategy = attrs.field(converter=_strategy)

    def __str__(self) -> str:
        shown = ", ".join(self.value) if self.value else "(none)"
        return f"{self.field} = {shown} from {', '.join(self.from_ids)} ({self.strategy.value})"


def _value(customer: Customer, field: str) -> tuple[str, ...]:
    raw = getattr(customer, field)
    if field == "tags":
        return tuple(raw)
    if isinstance(raw, (CustomerKind, Lifecycle)):
        return (raw.value,)
    return () if raw is None else (str(raw),)


def _completeness(customer: Customer) -> int:
    return sum(1 for field in MERGE_FIELDS if _value(customer, field))


def choose_fields(
    survivor: Customer, merged: Sequence[Customer], survivorship: Survivorship | None = None
) -> tuple[FieldChoice, ...]:
    """Decide every merge field of the survivor from ``survivor`` and the ``merged`` customers.

    Example:
        >>> from datetime import datetime, timezone
        >>> t = lambda day: datetime(2026, 1, day, tzinfo=timezone.utc)
        >>> a = Customer(id="cus_1", name="Formosa Tea", kind="company", created_at=t(1),
        ...              tags=["tea"], source="erp")
        >>> b = Customer(id="cus_2", name="Formosa Tea Co.", kind="company", created_at=t(9),
        ...              tags=["vip"], address="台北市松仁路100號", owner="u_amy")
        >>> for choice in choose_fields(a, [b]):
        ...     print(choice)
        name = Formosa Tea from cus_1 (survivor)
        kind = company from cus_1 (survivor)
        tags = tea, vip from cus_1, cus_2 (union)
        source = erp from cus_1 (most_complete)
        owner = u_amy from cus_2 (most_complete)
        lifecycle = prospect from cus_2 (most_complete)
        address = 台北市松仁路100號 from cus_2 (most_complete)

    .. versionadded:: 0.1.0
    """
    rules = survivorship if survivorship is not None else Survivorship()
    everyone = [survivor, *merged]
    complete = sorted(everyone, key=lambda c: -_completeness(c))  # stable: survivor first
    recent = sorted(everyone, key=lambda c: c.created_at, reverse=True)
    recent.sort(key=lambda c: c is not survivor and c.created_at == survivor.created_at)

    def rank(customer: Customer) -> int:
        if customer.source in rules.source_priority:
            return rules.source_priority.index(customer.source)
        return len(rules.source_priority)

    by_source = sorted(everyone, key=rank)
    choices = []
    for field in MERGE_FIELDS:
        strategy = rules.strategy_for(field)
        if strategy is FieldStrategy.UNION:
            tags: dict[str, None] = {}
            sources: dict[str, None] = {}
            for customer in everyone:
                for tag in customer.tags:
                    tags.setdefault(tag, None)
                    sources.setdefault(customer.id, None)
            choices.append(
                FieldChoice(field=field, value=tags, from_ids=sources, strategy=strategy)
            )
            continue
        order = {
            FieldStrategy.SURVIVOR: [survivor],
            FieldStrategy.MOST_RECENT: recent,
            FieldStrategy.MOST_COMPLETE: complete,
            FieldStrategy.SOURCE_PRIORITY: by_source,
        }[strategy]
        chosen = next((c for c in order if _value(c, field)), survivor)
        choices.append(
            FieldChoice(
                field=field, value=_value(chosen, field), from_ids=(chosen.id,), strategy=strategy
            )
        )
    return tuple(choices)


def apply_choices(
    survivor: Customer, choices: Iterable[FieldChoice], *, now: datetime, actor: str | None = None
) -> None:
    """Give ``survivor`` the chosen values, recording the usual events for each change.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> a = Customer(id="cus_1", name="Tea", kind="company", created_at=now)
        >>> apply_choices(a, [FieldChoice(field="tags", value=["vip"], from_ids=["cus_2"],
        ...                               strategy="union")], now=now)
        >>> a.tags, [e.event_type for e in a.pending_events]
        (('vip',), ['customers.CustomerTagged'])

    .. versionadded:: 0.1.0
    """
    for choice in choices:
        one = choice.value[0] if choice.value else None
        if choice.field == "name" and one is not None:
            survivor.rename(one, now=now, actor=actor)
        elif choice.field == "tags":
            dropped = [tag for tag in survivor.tags if tag not in choice.value]
            survivor.tag(add=choice.value, remove=dropped, now=now, actor=actor)
        elif choice.field == "owner":
            survivor.assign_owner(one, now=now, actor=actor)
        elif choice.field == "lifecycle" and one is not None:
            survivor.change_lifecycle(one, now=now, actor=actor)
        elif choice.field == "kind" and one is not None:
            survivor.kind = CustomerKind(one)
        elif choice.field in ("source", "address"):
            setattr(survivor, choice.field, one)


def mark_merged(customer: Customer, survivor_id: str) -> None:
    """Make ``customer`` a tombstone pointing at ``survivor_id``.

    Example:
        >>> from datetime import datetime, timezone
        >>> b = Customer(id="cus_2", name="Tea", kind="company",
        ...              created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> mark_merged(b, "cus_1"); b.merged_into
        'cus_1'
        >>> mark_merged(b, "cus_3")
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: customer 'cus_2' was already merged into 'cus_1'; ...

    .. versionadded:: 0.1.0
    """
    check_id(survivor_id, "survivor_id")
    if customer.merged_into is not None:
        raise RuleViolation(
            f"customer {customer.id!r} was already merged into {customer.merged_into!r}; "
            "merge into that customer instead",
            details={"id": customer.id, "merged_into": customer.merged_into},
        )
    if survivor_id == customer.id:
        raise RuleViolation(f"customer {customer.id!r} cannot be merged into itself")
    customer.merged_into = survivor_id


def resolve_id(customer_id: str, get: Callable[[str], Customer], *, limit: int = 50) -> Customer:
    """Follow ``merged_into`` from ``customer_id`` to the customer that survived.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> store = {"cus_1": Customer(id="cus_1", name="A", kind="person", created_at=now),
        ...          "cus_2": Customer(id="cus_2", name="A", kind="person", created_at=now,
        ...                            merged_into="cus_1")}
        >>> resolve_id("cus_2", store.__getitem__).id
        'cus_1'

    .. versionadded:: 0.1.0
    """
    customer = get(check_id(customer_id, "customer_id"))
    seen = {customer.id}
    while customer.merged_into is not None:
        customer = get(customer.merged_into)
        if customer.id in seen or len(seen) >= limit:
            raise RuleViolation(
                f"customer {customer_id!r} has a merge chain that loops or runs past {limit} "
                "customers; repair merged_into by hand",
                details={"id": customer_id},
            )
        seen.add(customer.id)
    return customer


@attrs.frozen(kw_only=True)
class RecordMove:
    """One related record a merge moved: its type, id, the field changed, from and to.

    ``new_id`` is set when the record's id is derived from the customer (a membership, a
    referral's referee) and so changed with it.

    Example:
        >>> print(RecordMove(record_type="quotes", record_id="quo_1", field="customer_id",
        ...                  old="cus_2", new="cus_1"))
        quotes quo_1: customer_id cus_2 -> cus_1

    .. versionadded:: 0.1.0
    """

    record_type: str
    record_id: str
    field: str
    old: str
    new: str
    new_id: str | None = None

    def __str__(self) -> str:
        renamed = f" (now {self.new_id})" if self.new_id else ""
        return (
            f"{self.record_type} {self.record_id}: {self.field} {self.old} -> {self.new}{renamed}"
        )


@attrs.frozen(kw_only=True)
class CustomersMerged(DomainEvent):
    """Customers were merged into a survivor; ``aggregate_id`` is the merge record.

    Example:
        >>> CustomersMerged.event_type
        'customers.CustomersMerged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomersMerged"
    survivor_id: str
    merged_ids: tuple[str, ...]
    moved: int


def _tuple_of(cls: type, path: str) -> Callable[[object], tuple[Any, ...]]:
    def convert(value: object) -> tuple[Any, ...]:
        items = tuple(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
        if items is None or not all(isinstance(item, cls) for item in items):
            raise ValidationError(f"must be a list of {cls.__name__}", path=path)
        return items

    return convert


def _survivor_id(_instance: Any, _attribute: Any, value: Any) -> None:
    check_id(value, "survivor_id")


def _ids(path: str) -> Callable[[object], tuple[str, ...]]:
    return v.text_tuple(path, lambda s: check_id(s, ""))


def _to_merged_ids(value: object) -> tuple[str, ...]:
    return _ids("merged_ids")(value)


def _to_review_ids(value: object) -> tuple[str, ...]:
    return _ids("review_ids")(value)


def _to_fields(value: object) -> tuple[FieldChoice, ...]:
    return _tuple_of(FieldChoice, "fields")(value)


def _to_moves(value: object) -> tuple[RecordMove, ...]:
    return _tuple_of(RecordMove, "moves")(value)


def _to_kept(value: object) -> tuple[str, ...]:
    return v.text_tuple("kept", max_items=1000)(value)


@attrs.define(kw_only=True)
class MergeRecord(Aggregate):
    """The explanation of one merge: who, when, what the survivor became, what moved.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> record = MergeRecord.create(id="mrg_1", survivor_id="cus_1", merged_ids=["cus_2"],
        ...     fields=[], moves=[RecordMove(record_type="contacts", record_id="con_9",
        ...                                  field="customer_id", old="cus_2", new="cus_1")],
        ...     now=now, actor="u_amy")
        >>> print(record.explain())
        cus_2 merged into cus_1 at 2026-01-05T00:00:00+00:00 by u_amy
          moved contacts con_9: customer_id cus_2 -> cus_1
        >>> [e.event_type for e in record.pending_events]
        ['customers.CustomersMerged']

    .. versionadded:: 0.1.0
    """

    survivor_id: str = attrs.field(validator=_survivor_id)
    merged_ids: tuple[str, ...] = attrs.field(converter=_to_merged_ids)
    merged_at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=v.optional_text(100))
    fields: tuple[FieldChoice, ...] = attrs.field(default=(), converter=_to_fields)
    moves: tuple[RecordMove, ...] = attrs.field(default=(), converter=_to_moves)
    kept: tuple[str, ...] = attrs.field(default=(), converter=_to_kept)
    review_ids: tuple[str, ...] = attrs.field(default=(), converter=_to_review_ids)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        survivor_id: str,
        merged_ids: Iterable[str],
        fields: Iterable[FieldChoice],
        moves: Iterable[RecordMove],
        now: datetime,
        kept: Iterable[str] = (),
        review_ids: Iterable[str] = (),
        actor: str | None = None,
    ) -> MergeRecord:
        """Build the record and record ``CustomersMerged``."""
        ensure_aware(now, "now")
        record = cls(
            id=id,
            survivor_id=survivor_id,
            merged_ids=merged_ids,
            merged_at=now,
            by=actor,
            fields=fields,
            moves=moves,
            kept=kept,
            review_ids=review_ids,
        )
        record.record(
            CustomersMerged(
                aggregate_id=record.id,
                occurred_at=now,
                actor=actor,
                survivor_id=record.survivor_id,
                merged_ids=record.merged_ids,
                moved=len(record.moves),
            )
        )
        return record

    def explain(self) -> str:
        """The merge in lines: who into whom, each field chosen, each move, what stayed."""
        by = f" by {self.by}" if self.by else ""
        lines = [
            f"{', '.join(self.merged_ids)} merged into {self.survivor_id} "
            f"at {self.merged_at.isoformat()}{by}"
        ]
        lines += [f"  field {choice}" for choice in self.fields]
        lines += [f"  moved {move}" for move in self.moves]
        lines += [f"  kept {note}" for note in self.kept]
        return "\n".join(lines)


#: Merge records: queryable by survivor, merged ids and time.
CUSTOMER_MERGES: RecordType[MergeRecord] = RecordType(
    "customer_merges",
    MergeRecord,
    {
        "survivor_id": lambda m: m.survivor_id,
        "merged_ids": lambda m: m.merged_ids,
        "merged_at": lambda m: m.merged_at,
    },
    kinds={"merged_ids": "multi", "merged_at": "datetime"},
)
