"""Customer 360: one read that gathers everything crmkit knows about a customer.

:func:`show_customer_360` assembles, through the ports (one unit of work, read only), a
:class:`Customer360`: the profile, contacts, the latest interactions, open leads and
opportunities, quotes, the latest orders and the purchase summary (lifetime value per
currency, last order, order count), loyalty memberships and tiers, open complaints with the
state of their SLA clocks, and the customer's segments (rule segments, RFM, lifecycle and the
"needs attention" flag, each explained).

**Access.** The policy is asked ``check(actor, "customers.read", customer)`` first. Then, if
the policy offers ``mask(actor, record_type_name, document) -> document``, every section is
passed through it: sections are documents (the JSON-ready dicts of
:func:`crmkit.serialization.unstructure`), so the policy hides what the actor may not see.
The computed summaries follow the documents: when the policy hides an order's ``total``, the
purchase summary comes back without its amounts (:attr:`PurchaseView.amounts_hidden`), and
the segments' explanations do not mention amounts either.

**Segments** are read with :class:`CustomerSettings` (``bootstrap(customers=...)``), data
that round-trips through :mod:`crmkit.serialization`. :func:`segment_report` segments every
customer at once (RFM quintiles are over all customers with orders), and
:class:`NoRecentOrderTrigger` turns the "needs attention" flag into
:class:`~crmkit.notifications.events.CustomerNeedsAttention` events for the dispatcher.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit import bootstrap
    >>> from crmkit.kernel.money import Money
    >>> crm = bootstrap()
    >>> tea = crm.register_customer("Formosa Tea Co.", tags=["vip"])
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> _ = crm.record_order(tea.id, "shop", "#1001", at, Money("900", "TWD"))
    >>> view = crm.customer_360(tea.id)
    >>> view.profile["name"], view.purchases.order_count, view.purchases.lifetime_value
    ('Formosa Tea Co.', 1, (Money('900', 'TWD'),))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.app.service import ServiceSettings, _Config
from crmkit.app.triggers import scan
from crmkit.customers import (
    Customer,
    CustomerFacts,
    CustomerSegments,
    Order,
    PurchaseSummary,
    SegmentationRules,
    needs_attention,
    segment_customers,
    summarize_purchases,
)
from crmkit.customers.commands import ShowCustomer360, ShowSegments
from crmkit.customers.segments import ConditionResult, RfmScore, ScoreDetail, SegmentMatch
from crmkit.errors import ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.kernel.query import Op, Query
from crmkit.kernel.time import Clock, ensure_aware
from crmkit.notifications.events import CustomerNeedsAttention, occurrence_id
from crmkit.ports import AccessPolicy, UnitOfWork
from crmkit.serialization import unstructure
from crmkit.service import Complaint
from crmkit.service.sla import SlaStatus

__all__ = [
    "ComplaintView",
    "Customer360",
    "CustomerSettings",
    "LoyaltyView",
    "NoRecentOrderTrigger",
    "PurchaseView",
    "command_handlers",
    "customer_facts",
    "segment_report",
    "show_customer_360",
    "show_segments",
]

#: ``mask(actor, record_type_name, document) -> document``, as an access policy offers it.
Mask = Callable[[Any, str, dict[str, Any]], dict[str, Any]]

_PAGE = 500


def _segmentation(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, SegmentationRules):
        raise ValidationError(
            f"must be SegmentationRules, not {type(value).__name__}", path="segmentation"
        )


@attrs.frozen(kw_only=True)
class CustomerSettings:
    """How the customer use cases segment customers: the rules, as data.

    Example:
        >>> from crmkit.customers import RfmModel, SegmentRule
        >>> from crmkit.serialization import structure, unstructure
        >>> settings = CustomerSettings(segmentation=SegmentationRules(
        ...     segments=[SegmentRule(name="vip", tags=["vip"])], rfm=RfmModel(currency="TWD")))
        >>> structure(unstructure(settings), CustomerSettings) == settings
        True

    .. versionadded:: 0.1.0
    """

    segmentation: SegmentationRules = attrs.field(
        factory=SegmentationRules, validator=_segmentation
    )


@attrs.frozen
class PurchaseView:
    """The purchase summary as the actor may see it.

    The amounts (``lifetime_value``, ``refunded``) are ``None`` when the access policy hides
    order amounts from the actor (``amounts_hidden``); counts and dates stay.

    Example:
        >>> PurchaseView.of(PurchaseSummary(), hide_amounts=True).lifetime_value is None
        True

    .. versionadded:: 0.1.0
    """

    order_count: int
    refunded_orders: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    last_order_id: str | None
    lifetime_value: tuple[Money, ...] | None
    refunded: tuple[Money, ...] | None
    amounts_hidden: bool

    @classmethod
    def of(cls, summary: PurchaseSummary, *, hide_amounts: bool) -> PurchaseView:
        """The view of ``summary``, with or without its amounts."""
        return cls(
            summary.order_count,
            summary.refunded_orders,
            summary.first_order_at,
            summary.last_order_at,
            summary.last_order_id,
            None if hide_amounts else summary.lifetime_value,
            None if hide_amounts else summary.refunded,
            hide_amounts,
        )


@attrs.frozen
class LoyaltyView:
    """One loyalty membership: its program and tier, and the (masked) summary document.

    ``document`` holds ``id``, ``program_id``, ``customer_id``, ``tier``, ``enrolled_at`` and
    ``points_available`` (points usable at the time of the view), as the policy lets the
    actor see them.

    Example:
        >>> LoyaltyView("tea_club", "gold", {"tier": "gold"}).tier
        'gold'

    .. versionadded:: 0.1.0
    """

    program_id: str
    tier: str | None
    document: dict[str, Any]


@attrs.frozen
class ComplaintView:
    """An open complaint: its (masked) document and its SLA clocks at the time of the view.

    ``sla`` is ``None`` when the service settings cannot compute it (a policy set or
    calendar they name is missing).

    Example:
        >>> ComplaintView({"reference": "C-1"}, None).document["reference"]
        'C-1'

    .. versionadded:: 0.1.0
    """

    document: dict[str, Any]
    sla: SlaStatus | None


@attrs.frozen
class Customer360:
    """Everything about one customer, as the actor may see it, at ``as_of``.

    Sections are documents (JSON-ready dicts, passed through the policy's ``mask``):
    ``profile`` (the customer), ``contacts`` (oldest first), ``timeline`` (latest
    interactions, newest first), ``open_leads``, ``open_opportunities``, ``quotes`` (newest
    first) and ``orders`` (latest first). ``purchases``, ``loyalty``, ``complaints`` and
    ``segments`` are typed summaries computed from the same records.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> view = crm.customer_360(crm.register_customer("Acme").id)
        >>> view.segments.lifecycle.status.value, view.segments.attention.flagged
        ('prospect', False)

    .. versionadded:: 0.1.0
    """

    customer_id: str
    as_of: datetime
    profile: dict[str, Any]
    contacts: tuple[dict[str, Any], ...]
    timeline: tuple[dict[str, Any], ...]
    open_leads: tuple[dict[str, Any], ...]
    open_opportunities: tuple[dict[str, Any], ...]
    quotes: tuple[dict[str, Any], ...]
    orders: tuple[dict[str, Any], ...]
    purchases: PurchaseView
    loyalty: tuple[LoyaltyView, ...]
    complaints: tuple[ComplaintView, ...]
    segments: CustomerSegments


# ----- facts ---------------------------------------------------------------------------------


def _orders_of(uow: UnitOfWork, customer_id: str) -> list[Order]:
    return list(scan(uow.orders, Query.where(customer_id=customer_id).order("-ordered_at")))


def _region(orders: list[Order]) -> str | None:
    """The region of the latest order that names one (orders are newest first)."""
    for order in orders:
        if order.region is not None:
            return order.region
    return None


def _tiers(uow: UnitOfWork) -> dict[str, str]:
    """Each customer's tier: of its memberships, the first by program id that has one."""
    tiers: dict[str, str] = {}
    for member in scan(uow.memberships, Query().order("program_id")):
        if member.tier is not None:
            tiers.setdefault(member.customer_id, member.tier)
    return tiers


def _facts(customer: Customer, orders: list[Order], tier: str | None) -> CustomerFacts:
    return CustomerFacts(
        customer_id=customer.id,
        registered_at=customer.created_at,
        tags=customer.tags,
        source=customer.source,
        region=_region(orders),
        tier=tier,
        purchases=summarize_purchases(orders),
    )


def customer_facts(uow: UnitOfWork) -> list[CustomerFacts]:
    """Gather :class:`~crmkit.customers.CustomerFacts` for every customer, by customer id.

    Reads every customer, order and membership once, a page at a time. A customer's region
    is the region of its latest order that names one.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> with MemoryStore().unit_of_work() as uow:
        ...     customer_facts(uow)
        []

    .. versionadded:: 0.1.0
    """
    orders: dict[str, list[Order]] = {}
    for order in scan(uow.orders, Query().order("-ordered_at")):
        orders.setdefault(order.customer_id, []).append(order)
    tiers = _tiers(uow)
    return [
        _facts(customer, orders.get(customer.id, []), tiers.get(customer.id))
        for customer in scan(uow.customers)
    ]


def segment_report(
    uow: UnitOfWork, rules: SegmentationRules, now: datetime
) -> list[CustomerSegments]:
    """Segment every customer by ``rules`` at ``now`` (by customer id), each explained.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> with MemoryStore().unit_of_work() as uow:
        ...     segment_report(uow, SegmentationRules(), datetime.now().astimezone())
        []

    .. versionadded:: 0.1.0
    """
    return segment_customers(customer_facts(uow), rules, ensure_aware(now, "now"))


# ----- masking -------------------------------------------------------------------------------


def _mask_of(policy: AccessPolicy, actor: str | None) -> Mask:
    """The policy's ``mask``; none (show everything) without one or without an actor."""
    mask = getattr(policy, "mask", None)
    if mask is None or not callable(mask) or actor is None:
        return lambda _actor, _name, document: document
    return mask  # type: ignore[no-any-return]


def _amounts_hidden(mask: Mask, actor: str | None, orders: list[Order]) -> bool:
    """Whether the policy hides an order's total from ``actor`` (probed on a real order)."""
    if not orders:
        probe = {"total": {"amount": "1", "currency": "USD"}}
        shown = mask(actor, "orders", dict(probe))
        return bool(shown.get("total") != probe["total"])
    document = unstructure(orders[0])
    total = document.get("total")
    return bool(mask(actor, "orders", document).get("total") != total)


def _hide_amounts(segments: CustomerSegments) -> CustomerSegments:
    """The segments without any amount: lifetime-value reasons and RFM monetary values."""

    def condition(c: ConditionResult) -> ConditionResult:
        if c.condition != "lifetime_value_above":
            return c
        return ConditionResult(c.condition, c.matched, "lifetime value (hidden)")

    matches = tuple(
        SegmentMatch(m.segment, m.customer_id, tuple(condition(c) for c in m.conditions))
        for m in segments.matches
    )
    rfm = segments.rfm
    if rfm is not None:
        rfm = RfmScore(
            rfm.customer_id,
            rfm.recency,
            rfm.frequency,
            ScoreDetail("monetary", None, rfm.monetary.score, ()),
            rfm.segment,
        )
    return attrs.evolve(segments, matches=matches, rfm=rfm)


# ----- the use case --------------------------------------------------------------------------


def _documents(
    mask: Mask, actor: str | None, name: str, records: Iterable[Any]
) -> tuple[dict[str, Any], ...]:
    return tuple(mask(actor, name, unstructure(record)) for record in records)


def _first(uow_repository: Any, query: Query, limit: int) -> list[Any]:
    return list(uow_repository.query(query.take(limit)).items)


def show_customer_360(
    command: ShowCustomer360,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: CustomerSettings | None = None,
    service: ServiceSettings | None = None,
) -> Customer360:
    """Assemble a customer's 360 view, as ``command.actor`` may see it.

    ``NotFoundError`` if there is no such customer; the policy's ``PermissionDeniedError``
    if the actor may not read it. Nothing is written.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> from crmkit.kernel.money import Money
        >>> crm = bootstrap()
        >>> tea = crm.register_customer("Formosa Tea Co.")
        >>> _ = crm.add_contact(tea.id, "Lin Mei-ling")
        >>> _ = crm.log_interaction(tea.id, "call", "Asked about oolong")
        >>> view = crm.customer_360(tea.id)
        >>> [c["name"] for c in view.contacts], [i["summary"] for i in view.timeline]
        (['Lin Mei-ling'], ['Asked about oolong'])

    .. versionadded:: 0.1.0
    """
    settings = settings or CustomerSettings()
    service = service or ServiceSettings()
    customer = uow.customers.get(command.customer_id)
    actor = command.actor
    policy.check(actor, "customers.read", customer)
    now = clock.now() if command.at is None else command.at
    mask = _mask_of(policy, actor)
    by_customer = Query.where(customer_id=customer.id)

    contacts = list(scan(uow.contacts, by_customer))
    timeline = _first(uow.interactions, by_customer.order("-occurred_at", "-id"), command.timeline)
    leads = list(scan(uow.leads, by_customer.filter("is_open", Op.EQ, True)))
    opportunities = list(scan(uow.opportunities, by_customer.filter("is_open", Op.EQ, True)))
    quotes = list(scan(uow.quotes, by_customer.order("-created_at", "-id")))
    orders = _orders_of(uow, customer.id)
    complaints: list[Complaint] = list(
        scan(uow.complaints, by_customer.filter("is_open", Op.EQ, True).order("filed_at"))
    )
    members = list(scan(uow.memberships, by_customer.order("program_id")))

    hidden = _amounts_hidden(mask, actor, orders)
    summary = summarize_purchases(orders)
    segments = _segments_for(uow, settings.segmentation, customer, orders, members, now)
    if hidden:
        segments = _hide_amounts(segments)

    config = _Config(uow, service)
    complaint_views: list[ComplaintView] = []
    for case in complaints:
        try:
            sla: SlaStatus | None = config.status(case, max(now, case.filed_at))
        except (LookupError, ValueError):
            sla = None
        complaint_views.append(ComplaintView(mask(actor, "complaints", unstructure(case)), sla))

    loyalty = []
    for member in members:
        read_at = max(now, member.as_of)
        document = {
            "id": member.id,
            "program_id": member.program_id,
            "customer_id": member.customer_id,
            "tier": member.tier,
            "enrolled_at": unstructure(member.enrolled_at),
            "points_available": member.available(read_at),
        }
        shown = mask(actor, "memberships", document)
        loyalty.append(LoyaltyView(member.program_id, shown.get("tier"), shown))

    return Customer360(
        customer_id=customer.id,
        as_of=now,
        profile=mask(actor, "customers", unstructure(customer)),
        contacts=_documents(mask, actor, "contacts", contacts),
        timeline=_documents(mask, actor, "interactions", timeline),
        open_leads=_documents(mask, actor, "leads", leads),
        open_opportunities=_documents(mask, actor, "opportunities", opportunities),
        quotes=_documents(mask, actor, "quotes", quotes),
        orders=_documents(mask, actor, "orders", orders[: command.timeline]),
        purchases=PurchaseView.of(summary, hide_amounts=hidden),
        loyalty=tuple(loyalty),
        complaints=tuple(complaint_views),
        segments=segments,
    )


def _segments_for(
    uow: UnitOfWork,
    rules: SegmentationRules,
    customer: Customer,
    orders: list[Order],
    members: list[Any],
    now: datetime,
) -> CustomerSegments:
    """The customer's segments; with RFM configured, scored within the whole population."""
    tier = next((m.tier for m in members if m.tier is not None), None)
    if rules.rfm is None:
        facts = _facts(customer, orders, tier)
        return segment_customers([facts], rules, now)[0]
    everyone = customer_facts(uow)
    for result in segment_customers(everyone, rules, now):
        if result.customer_id == customer.id:
            return result
    return segment_customers([_facts(customer, orders, tier)], rules, now)[0]  # pragma: no cover


def show_segments(
    command: ShowSegments,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: CustomerSettings | None = None,
) -> list[CustomerSegments]:
    """Segment every customer with the settings' rules (by customer id), each explained.

    The policy is asked ``check(actor, "customers.segment", None)``: segmentation reads
    every customer and order. With ``command.segment``, only the customers in that rule
    segment or RFM segment are returned (RFM is still scored over everyone).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> from crmkit.customers import SegmentationRules, SegmentRule
        >>> crm = bootstrap(customers=CustomerSettings(segmentation=SegmentationRules(
        ...     segments=[SegmentRule(name="vip", tags=["vip"])])))
        >>> tea = crm.register_customer("Formosa Tea Co.", tags=["vip"])
        >>> _ = crm.register_customer("Huangpu Trading")
        >>> [s.customer_id == tea.id for s in crm.segment_customers(segment="vip")]
        [True]

    .. versionadded:: 0.1.0
    """
    settings = settings or CustomerSettings()
    policy.check(command.actor, "customers.segment", None)
    now = clock.now() if command.at is None else command.at
    results = segment_report(uow, settings.segmentation, now)
    wanted = command.segment
    if wanted is None:
        return results
    return [
        r for r in results if wanted in r.names or (r.rfm is not None and r.rfm.segment == wanted)
    ]


def command_handlers(
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: CustomerSettings | None = None,
    service: ServiceSettings | None = None,
) -> Mapping[type, CommandHandler]:
    """Return the 360 and segment read handlers bound to their collaborators, by command class.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock
        >>> sorted(c.__name__ for c in command_handlers(clock=ManualClock(), policy=AllowAll()))
        ['ShowCustomer360', 'ShowSegments']

    .. versionadded:: 0.1.0
    """
    if settings is not None and not isinstance(settings, CustomerSettings):
        raise ValidationError(
            f"must be CustomerSettings, not {type(settings).__name__}", path="customers"
        )
    return {
        ShowCustomer360: functools.partial(
            show_customer_360, clock=clock, policy=policy, settings=settings, service=service
        ),
        ShowSegments: functools.partial(
            show_segments, clock=clock, policy=policy, settings=settings
        ),
    }


# ----- the "needs attention" trigger ---------------------------------------------------------


def _attention_settings(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, CustomerSettings):
        raise ValidationError(
            f"must be CustomerSettings, not {type(value).__name__}", path="settings"
        )


@attrs.frozen
class NoRecentOrderTrigger:
    """Emits ``CustomerNeedsAttention`` for customers without a recent order (six months).

    The event is :class:`~crmkit.notifications.events.CustomerNeedsAttention`; the rule is
    the settings' :class:`~crmkit.customers.AttentionRule`, read by
    :func:`~crmkit.customers.needs_attention`: a customer is due when its latest order
    (with none, its registration, unless the rule leaves such customers out) is at least
    ``after`` ago. It fires once per quiet spell: the event id derives from the
    customer and that last order, so a new order starts a new spell. ``last_activity_at`` is
    the last order and ``inactive_days`` the days since. Route it with a subscription to
    ``notifications.CustomerNeedsAttention`` (``Recipient.user("owner")`` reaches the owner).

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit import bootstrap, ManualClock
        >>> from crmkit.kernel.money import Money
        >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> crm = bootstrap(clock=ManualClock(t0))
        >>> tea = crm.register_customer("Formosa Tea Co.", owner="u_amy")
        >>> _ = crm.record_order(tea.id, "shop", "#1", t0, Money("900", "TWD"))
        >>> trigger = NoRecentOrderTrigger()
        >>> with crm.store.unit_of_work() as uow:
        ...     early = trigger.fire(uow, t0 + timedelta(days=100))
        ...     due = trigger.fire(uow, t0 + timedelta(days=200))
        >>> early, [(e.name, e.owner, e.inactive_days) for e in due]
        ([], [('Formosa Tea Co.', 'u_amy', 200)])

    .. versionadded:: 0.1.0
    """

    settings: CustomerSettings = attrs.field(
        factory=CustomerSettings, validator=_attention_settings
    )
    name: str = "no_recent_order"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a ``CustomerNeedsAttention`` for each customer without a recent order."""
        now = ensure_aware(now, "now")
        rule = self.settings.segmentation.attention
        events: list[DomainEvent] = []
        customer: Customer
        for customer in scan(uow.customers):
            latest = uow.orders.query(
                Query.where(customer_id=customer.id).order("-ordered_at").take(1)
            ).items
            last = latest[0].ordered_at if latest else None
            facts = CustomerFacts(
                customer_id=customer.id,
                registered_at=customer.created_at,
                purchases=PurchaseSummary(order_count=len(latest), last_order_at=last),
            )
            flag = needs_attention(facts, rule, now)
            if not flag.flagged:
                continue
            events.append(
                CustomerNeedsAttention(
                    aggregate_id=customer.id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, customer.id, flag.since.isoformat()),
                    name=customer.name,
                    owner=customer.owner,
                    last_activity_at=flag.since,
                    inactive_days=flag.quiet_days,
                )
            )
        return events
