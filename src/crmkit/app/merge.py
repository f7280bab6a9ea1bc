"""Dedup and merge use cases: find duplicates over the store, the review queue, merge customers.

Commands: :class:`FindDuplicates` (scan every live customer with its contacts and queue the
pairs found), :class:`DismissDuplicate`, :class:`PreviewMerge` (the dry run) and
:class:`MergeCustomers`. Actions checked with the access policy: ``customers.find_duplicates``,
``customers.dismiss_duplicate`` and ``customers.merge`` (on the survivor and each merged
customer).

A merge runs in ONE unit of work: the survivor takes the fields :class:`Survivorship` chooses,
every record that points at a merged customer is moved to the survivor (:data:`CUSTOMER_LINKS`
says which record type points through which field; a type the store does not keep, such as
``orders`` in an older store, is skipped), the merged customers become tombstones
(``merged_into``) so their ids stay resolvable, and a :class:`~crmkit.customers.dedup.MergeRecord`
explains it all (its ``CustomersMerged`` event goes to the outbox). Either all of it is
committed or none of it.

Loyalty: a membership whose id derives from the customer moves under a new id. If the survivor
already holds a membership of the same program, the merged customer's one must be empty (no
points, no pending points, no debt): it then stays with the tombstone as history; otherwise the
merge is refused, saying how to move the points first. Referrals that would make a customer
its own referrer, or refer one customer twice, are refused too.

Example:
    >>> from crmkit import bootstrap
    >>> crm = bootstrap()
    >>> a = crm.register_customer("Formosa Tea Co., Ltd.")
    >>> b = crm.register_customer("台灣 Formosa Tea 有限公司")
    >>> _ = crm.add_contact(a.id, "Amy Chen", phones=["0912-345-678"], region="TW")
    >>> _ = crm.add_contact(b.id, "Amy Chen", phones=["+886912345678"])
    >>> found = crm.find_duplicates()
    >>> [r.customer_ids == tuple(sorted((a.id, b.id))) for r in crm.duplicate_reviews().items]
    [True]
    >>> merged = crm.merge_customers(a.id, [b.id])
    >>> crm.resolve_customer(b.id).id == a.id, len(crm.contacts_of(a.id))
    (True, 2)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.customers import Contact, Customer
from crmkit.customers.dedup import (
    DedupRecord,
    DedupResult,
    DuplicateReview,
    FieldChoice,
    MatchRules,
    MergeRecord,
    RecordMove,
    ReviewStatus,
    Survivorship,
    apply_choices,
    choose_fields,
    find_duplicates,
    mark_merged,
)
from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.query import Query
from crmkit.kernel.time import Clock
from crmkit.ports import AccessPolicy, UnitOfWork

__all__ = [
    "CUSTOMER_LINKS",
    "CustomerLink",
    "DismissDuplicate",
    "DuplicateScan",
    "FindDuplicates",
    "MergeCustomers",
    "MergePlan",
    "PreviewMerge",
    "command_handlers",
    "dismiss_duplicate",
    "find_duplicates_in_store",
    "merge_customers",
    "preview_merge",
]


def _to_paths(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"must be a list of attribute paths, not {type(value).__name__}")
    return tuple(str(path) for path in value)


@attrs.frozen(kw_only=True)
class CustomerLink:
    """One way a record type points at a customer: the query field and the attribute paths.

    ``paths`` are attribute paths on the aggregate (``"conversion.customer_id"`` goes through a
    frozen value, which is rebuilt); ``rekey`` gives the record's new id when its id derives
    from the customer (a membership), or ``None`` when it does not.

    Example:
        >>> CustomerLink(record_type="quotes", field="customer_id").paths
        ('customer_id',)

    .. versionadded:: 0.1.0
    """

    record_type: str
    field: str
    paths: tuple[str, ...] = attrs.field(converter=_to_paths)
    rekey: Callable[[Any], str] | None = None

    @paths.default
    def _paths(self) -> tuple[str, ...]:
        return (self.field,)


def _membership_id(membership: Any) -> str:
    from crmkit.loyalty import Membership

    return Membership.id_for(membership.program_id, membership.customer_id)


def _referral_id(referral: Any) -> str:
    from crmkit.loyalty import Referral

    return Referral.id_for(referral.program_id, referral.referee_id)


#: Which record type links to a customer through which field: adding a type is one line.
#: (Work orders point at a maintenance contract or a complaint, not at the customer: they
#: follow those.)
CUSTOMER_LINKS: tuple[CustomerLink, ...] = (
    CustomerLink(record_type="contacts", field="customer_id"),
    CustomerLink(record_type="interactions", field="customer_id"),
    CustomerLink(
        record_type="leads",
        field="customer_id",
        paths=("conversion.customer_id", "customer_link.customer_id"),
    ),
    CustomerLink(record_type="opportunities", field="customer_id"),
    CustomerLink(record_type="quotes", field="customer_id"),
    CustomerLink(record_type="memberships", field="customer_id", rekey=_membership_id),
    CustomerLink(record_type="referrals", field="referrer_id"),
    CustomerLink(record_type="referrals", field="referee_id", rekey=_referral_id),
    CustomerLink(record_type="complaints", field="customer_id"),
    CustomerLink(record_type="maintenance_contracts", field="customer_id"),
    CustomerLink(record_type="orders", field="customer_id"),
)


def _rules(value: object) -> MatchRules | None:
    if value is not None and not isinstance(value, MatchRules):
        raise ValidationError(
            f"must be MatchRules or None, not {type(value).__name__}", path="rules"
        )
    return value


def _survivorship(value: object) -> Survivorship | None:
    if value is not None and not isinstance(value, Survivorship):
        raise ValidationError(
            f"must be Survivorship or None, not {type(value).__name__}", path="survivorship"
        )
    return value


def _actor(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        check_id(value, "actor")


def _id(_instance: Any, attribute: Any, value: Any) -> None:
    check_id(value, attribute.name)


def _merged_ids(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of customer ids, not {type(value).__name__}", path="merged_ids"
        )
    ids = tuple(check_id(item, f"merged_ids[{n}]") for n, item in enumerate(value))
    if not ids:
        raise ValidationError("must name at least one customer to merge", path="merged_ids")
    if len(set(ids)) != len(ids):
        raise ValidationError("must not name a customer twice", path="merged_ids")
    return ids


@attrs.frozen
class FindDuplicates:
    """Scan the store for duplicate customers and queue the pairs found for review.

    Example:
        >>> FindDuplicates().rules is None
        True

    .. versionadded:: 0.1.0
    """

    rules: MatchRules | None = attrs.field(default=None, converter=_rules)
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_actor)


@attrs.frozen
class DismissDuplicate:
    """Say a queued pair is not a duplicate.

    Example:
        >>> DismissDuplicate("dup_1", note="two shops, one owner").note
        'two shops, one owner'

    .. versionadded:: 0.1.0
    """

    review_id: str = attrs.field(validator=_id)
    note: str | None = None
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_actor)


@attrs.frozen
class PreviewMerge:
    """Show what merging ``merged_ids`` into ``survivor_id`` would do, changing nothing.

    Example:
        >>> PreviewMerge("cus_1", ["cus_2"]).merged_ids
        ('cus_2',)

    .. versionadded:: 0.1.0
    """

    survivor_id: str = attrs.field(validator=_id)
    merged_ids: tuple[str, ...] = attrs.field(converter=_merged_ids)
    survivorship: Survivorship | None = attrs.field(
        default=None, kw_only=True, converter=_survivorship
    )
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_actor)


@attrs.frozen
class MergeCustomers:
    """Merge ``merged_ids`` into ``survivor_id``: all of it in one unit of work, or nothing.

    Example:
        >>> MergeCustomers("cus_1", "cus_2")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: merged_ids: must be a list of customer ids, not str

    .. versionadded:: 0.1.0
    """

    survivor_id: str = attrs.field(validator=_id)
    merged_ids: tuple[str, ...] = attrs.field(converter=_merged_ids)
    survivorship: Survivorship | None = attrs.field(
        default=None, kw_only=True, converter=_survivorship
    )
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_actor)


@attrs.frozen(kw_only=True)
class DuplicateScan:
    """What :class:`FindDuplicates` found and did to the review queue.

    Example:
        >>> from crmkit.customers.dedup import DedupResult
        >>> DuplicateScan(result=DedupResult(pairs=(), records=0, candidates=0),
        ...               queued=(), updated=(), skipped=()).queued
        ()

    .. versionadded:: 0.1.0
    """

    result: DedupResult
    queued: tuple[str, ...]
    updated: tuple[str, ...]
    skipped: tuple[str, ...]


@attrs.frozen(kw_only=True)
class MergePlan:
    """A merge, worked out: the survivor as it will be, each field chosen, each move.

    ``kept`` names records that stay with a tombstone, and why. ``record`` is the merge record
    (stored only by a merge, not by a preview).

    Example:
        >>> from crmkit.app.merge import _example
        >>> plan = _example().preview_merge("cus_000001", ["cus_000002"])
        >>> [str(m) for m in plan.moves]
        ['contacts con_000002: customer_id cus_000002 -> cus_000001']

    .. versionadded:: 0.1.0
    """

    survivor: Customer
    merged: tuple[Customer, ...]
    fields: tuple[FieldChoice, ...]
    moves: tuple[RecordMove, ...]
    kept: tuple[str, ...]
    record: MergeRecord

    def explain(self) -> str:
        """The plan in lines (the merge record's explanation)."""
        return self.record.explain()


def _all(uow: UnitOfWork, name: str, query: Query) -> list[Any]:
    repository = getattr(uow, name)
    found: list[Any] = []
    query = query.take(1000)
    while True:
        page = repository.query(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)


def find_duplicates_in_store(
    command: FindDuplicates, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> DuplicateScan:
    """Scan every live customer (with its contacts), queue new pairs, refresh pending ones.

    A pair already dismissed or merged is left as it is (listed in ``skipped``).

    Example:
        >>> from crmkit.app.merge import _example
        >>> crm = _example()
        >>> scan = crm.find_duplicates()
        >>> len(scan.queued), len(crm.find_duplicates().queued)
        (1, 0)

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "customers.find_duplicates", None)
    customers = [c for c in _all(uow, "customers", Query()) if c.merged_into is None]
    contacts: dict[str, list[Contact]] = {}
    for contact in _all(uow, "contacts", Query()):
        contacts.setdefault(contact.customer_id, []).append(contact)
    records = [DedupRecord.from_customer(c, contacts.get(c.id, ())) for c in customers]
    result = find_duplicates(records, command.rules)
    existing = {r.id: r for r in _all(uow, "duplicate_reviews", Query())}
    now = clock.now()
    queued, updated, skipped = [], [], []
    for pair in result.pairs:
        review_id = DuplicateReview.id_for(pair.left, pair.right)
        review = existing.get(review_id)
        if review is None:
            uow.duplicate_reviews.add(DuplicateReview.open(pair, now=now, actor=command.actor))
            queued.append(review_id)
        elif review.refresh(pair):
            uow.duplicate_reviews.save(review)
            updated.append(review_id)
        elif review.status is not ReviewStatus.PENDING:
            skipped.append(review_id)
    uow.commit()
    return DuplicateScan(
        result=result, queued=tuple(queued), updated=tuple(updated), skipped=tuple(skipped)
    )


def dismiss_duplicate(
    command: DismissDuplicate, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> DuplicateReview:
    """Dismiss a pending review (``RuleViolation`` if it was already decided).

    Example:
        >>> from crmkit.app.merge import _example
        >>> crm = _example()
        >>> review_id = crm.find_duplicates().queued[0]
        >>> crm.dismiss_duplicate(review_id, note="father and son").status.value
        'dismissed'

    .. versionadded:: 0.1.0
    """
    review = uow.duplicate_reviews.get(command.review_id)
    policy.check(command.actor, "customers.dismiss_duplicate", review)
    review.dismiss(now=clock.now(), actor=command.actor, note=command.note)
    uow.duplicate_reviews.save(review)
    uow.commit()
    return review


def _get_path(aggregate: Any, path: str) -> Any:
    value = aggregate
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _set_path(aggregate: Any, path: str, new: str) -> None:
    head, _, last = path.rpartition(".")
    if not head:
        setattr(aggregate, last, new)
        return
    holder_path, _, holder_name = head.rpartition(".")
    parent = _get_path(aggregate, holder_path) if holder_path else aggregate
    setattr(parent, holder_name, attrs.evolve(getattr(parent, holder_name), **{last: new}))


def _rekeyed(aggregate: Aggregate, new_id: str) -> Aggregate:
    copy = attrs.evolve(aggregate, id=new_id, version=0)
    copy.pull_events()
    return copy


def _empty_membership(membership: Any, now: Any) -> bool:
    balance = membership.balance(now)
    return not (balance.available or balance.pending or membership.debt or membership.negative)


def _plan(
    command: PreviewMerge | MergeCustomers,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> tuple[MergePlan, list[Callable[[], None]]]:
    """Work the merge out and return it with the writes that carry it out (not yet run)."""
    if command.survivor_id in command.merged_ids:
        raise ValidationError(
            f"must not include the survivor {command.survivor_id!r}", path="merged_ids"
        )
    now = clock.now()
    survivor = uow.customers.get(command.survivor_id)
    merged = uow.customers.get_many(command.merged_ids)
    for customer in (survivor, *merged):
        policy.check(command.actor, "customers.merge", customer)
        if customer.merged_into is not None:
            raise RuleViolation(
                f"customer {customer.id!r} was already merged into {customer.merged_into!r}; "
                f"use {customer.merged_into!r} instead",
                details={"id": customer.id, "merged_into": customer.merged_into},
            )
    fields = choose_fields(survivor, merged, command.survivorship)
    apply_choices(survivor, fields, now=now, actor=command.actor)
    writes: list[Callable[[], None]] = []
    moves: list[RecordMove] = []
    kept: list[str] = []
    touched: dict[tuple[str, str], Any] = {}
    rekeys: dict[tuple[str, str], tuple[Any, CustomerLink]] = {}
    for link in CUSTOMER_LINKS:
        repository = getattr(uow, link.record_type, None)
        if repository is None:
            continue
        for old in command.merged_ids:
            for found in _all(uow, link.record_type, Query.where(**{link.field: old})):
                key = (link.record_type, found.id)
                record = touched.setdefault(key, found)
                for path in link.paths:
                    if _get_path(record, path) == old:
                        _set_path(record, path, survivor.id)
                        moves.append(
                            RecordMove(
                                record_type=link.record_type,
                                record_id=record.id,
                                field=path,
                                old=old,
                                new=survivor.id,
                            )
                        )
                if link.rekey is not None:
                    rekeys[key] = (record, link)
    for key, (record, link) in rekeys.items():
        assert link.rekey is not None
        new_id = link.rekey(record)
        if new_id == record.id:
            continue
        if link.record_type == "memberships":
            clash = _clash(uow, link.record_type, new_id)
            if clash is not None:
                if not _empty_membership(record, now):
                    balance = record.balance(now)
                    raise RuleViolation(
                        f"customers {survivor.id!r} and {record.customer_id!r} "
                        f"both hold a membership of program {record.program_id!r}; the merged "
                        f"one still holds points ({balance.available} available, "
                        f"{balance.pending} pending, debt {record.debt}). Two ledgers are not "
                        "combined: move the points first (adjust_points: take them off the "
                        "merged customer's card and add them to the survivor's), then merge; "
                        "the emptied card stays with the merged customer as history",
                        details={"program_id": record.program_id, "membership_id": key[1]},
                    )
                # An empty card stays with the tombstone: undo the move, keep it as history.
                _set_path(record, link.field, _old_owner(moves, key))
                moves[:] = [m for m in moves if (m.record_type, m.record_id) != key]
                del touched[key]
                kept.append(
                    f"memberships {key[1]}: empty, stays with the merged customer "
                    f"({survivor.id!r} has its own card in program {record.program_id!r})"
                )
                continue
        if link.record_type == "referrals":
            referral: Any = record
            if referral.referrer_id == referral.referee_id:
                raise RuleViolation(
                    f"merging would make customer {survivor.id!r} its own referrer in program "
                    f"{referral.program_id!r} (referral {referral.id!r}); cancel that referral "
                    "first or merge the other way round",
                    details={"referral_id": referral.id},
                )
            if _clash(uow, link.record_type, new_id) is not None:
                raise RuleViolation(
                    f"customer {survivor.id!r} was already referred in program "
                    f"{referral.program_id!r}, and so was a merged customer (referral "
                    f"{referral.id!r}); one customer can be referred once: settle one referral "
                    "first",
                    details={"referral_id": referral.id},
                )
        moved = _rekeyed(record, new_id)
        moves[:] = [
            attrs.evolve(m, new_id=new_id) if (m.record_type, m.record_id) == key else m
            for m in moves
        ]
        del touched[key]
        writes.append(functools.partial(_replace, uow, link.record_type, record, moved))
    for (name, _), record in touched.items():
        writes.append(functools.partial(getattr(uow, name).save, record))
    for customer in merged:
        mark_merged(customer, survivor.id)
    reviews = [
        r
        for r in _all(uow, "duplicate_reviews", Query.where(status="pending"))
        if set(r.customer_ids) <= {survivor.id, *command.merged_ids}
    ]
    record = MergeRecord.create(
        id=ids.new_id("mrg"),
        survivor_id=survivor.id,
        merged_ids=command.merged_ids,
        fields=fields,
        moves=moves,
        kept=kept,
        review_ids=[r.id for r in reviews],
        now=now,
        actor=command.actor,
    )
    for review in reviews:
        review.mark_merged(record.id, now=now, actor=command.actor)
        writes.append(functools.partial(uow.duplicate_reviews.save, review))
    writes.append(functools.partial(uow.customers.save, survivor))
    writes.extend(functools.partial(uow.customers.save, customer) for customer in merged)
    writes.append(functools.partial(uow.customer_merges.add, record))
    plan = MergePlan(
        survivor=survivor,
        merged=tuple(merged),
        fields=fields,
        moves=tuple(moves),
        kept=tuple(kept),
        record=record,
    )
    return plan, writes


def _old_owner(moves: list[RecordMove], key: tuple[str, str]) -> str:
    return next(m.old for m in moves if (m.record_type, m.record_id) == key)


def _clash(uow: UnitOfWork, name: str, new_id: str) -> Any:
    try:
        return getattr(uow, name).get(new_id)
    except NotFoundError:
        return None


def _replace(uow: UnitOfWork, name: str, old: Aggregate, new: Aggregate) -> None:
    repository = getattr(uow, name)
    repository.remove(old)
    repository.add(new)


def preview_merge(
    command: PreviewMerge,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> MergePlan:
    """The dry run: work the merge out and return it; nothing is written.

    Example:
        >>> from crmkit.app.merge import _example
        >>> crm = _example()
        >>> plan = crm.preview_merge("cus_000001", ["cus_000002"])
        >>> plan.survivor.tags, crm.get_customer("cus_000001").tags
        (('tea', 'vip'), ('tea',))

    .. versionadded:: 0.1.0
    """
    plan, _ = _plan(command, uow, clock=clock, ids=ids, policy=policy)
    uow.rollback()
    return plan


def merge_customers(
    command: MergeCustomers,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> MergePlan:
    """Merge, in one unit of work; return the plan carried out (its ``record`` is stored).

    Example:
        >>> from crmkit.app.merge import _example
        >>> crm = _example()
        >>> done = crm.merge_customers("cus_000001", ["cus_000002"])
        >>> crm.get_customer("cus_000002").merged_into, crm.resolve_customer("cus_000002").id
        ('cus_000001', 'cus_000001')

    .. versionadded:: 0.1.0
    """
    plan, writes = _plan(command, uow, clock=clock, ids=ids, policy=policy)
    for write in writes:
        write()
    uow.commit()
    return plan


def command_handlers(
    *, clock: Clock, ids: IdGenerator, policy: AccessPolicy
) -> Mapping[type, CommandHandler]:
    """Return the dedup and merge handlers bound to their collaborators, by command class.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> sorted(cls.__name__ for cls in handlers)
        ['DismissDuplicate', 'FindDuplicates', 'MergeCustomers', 'PreviewMerge']

    .. versionadded:: 0.1.0
    """
    return {
        FindDuplicates: functools.partial(find_duplicates_in_store, clock=clock, policy=policy),
        DismissDuplicate: functools.partial(dismiss_duplicate, clock=clock, policy=policy),
        PreviewMerge: functools.partial(preview_merge, clock=clock, ids=ids, policy=policy),
        MergeCustomers: functools.partial(merge_customers, clock=clock, ids=ids, policy=policy),
    }


def _example() -> Any:
    """A CRM with two customers that are one (for the examples): cus_000001 and cus_000002."""
    from datetime import datetime, timezone

    from crmkit import bootstrap
    from crmkit.kernel import ManualClock, SequentialIds

    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    crm = bootstrap(clock=clock, ids=SequentialIds())
    a = crm.register_customer("Formosa Tea Co., Ltd.", tags=["tea"])
    b = crm.register_customer("台灣 Formosa Tea 有限公司", tags=["vip"])
    crm.add_contact(a.id, "Amy Chen", phones=["0912-345-678"], region="TW")
    crm.add_contact(b.id, "Amy Chen", phones=["+886912345678"])
    return crm
