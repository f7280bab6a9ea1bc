"""Hypothesis strategies for purchase history and segmentation: orders, facts, segment rules.

:mod:`crmkit.testing.strategies` re-exports these. Orders are built through
:meth:`~crmkit.customers.Order.report` and refunded through :meth:`~crmkit.customers.Order.refund`,
so what a strategy draws is what a host could have stored. The values lean towards what
breaks purchase code: zero-total orders, refunds of the whole total in several parts,
currencies with 0, 2 and 3 minor digits, and several currencies per customer.

* :func:`order_lines`, :func:`orders`;
* :func:`customer_facts` (facts with a consistent purchase summary);
* :func:`segment_rules`, :func:`rfm_models`, :func:`segmentation_rules`.

Example:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(orders())
    ... def test_refunds_never_exceed_the_order(order):
    ...     assert not order.net.is_negative()
    >>> test_refunds_never_exceed_the_order()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from crmkit.customers import (
    DEFAULT_RFM_SEGMENTS,
    AttentionRule,
    CustomerFacts,
    LifecycleRules,
    Order,
    OrderLine,
    RfmModel,
    SegmentationRules,
    SegmentRule,
    summarize_purchases,
)
from crmkit.kernel.money import Money, currency_digits

__all__ = [
    "customer_facts",
    "order_lines",
    "orders",
    "rfm_models",
    "segment_rules",
    "segmentation_rules",
]

_CURRENCIES = ("TWD", "JPY", "KWD", "CNY", "USD")
_T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
_TAGS = ("vip", "wholesale", "taipei", "new", "茶")
_SOURCES = ("trade show", "web", "referral", "ads")
_REGIONS = ("TW", "CN", "HK", "JP")
_TIERS = ("silver", "gold", "platinum")


def _amount(currency: str, low: int = 0, high: int = 100_000) -> st.SearchStrategy[Money]:
    digits = currency_digits(currency)
    return st.integers(low * 10**digits, high * 10**digits).map(
        lambda units: Money(Decimal(units).scaleb(-digits), currency)
    )


def order_lines(currency: str = "TWD") -> st.SearchStrategy[OrderLine]:
    """Valid order lines in ``currency``: a name, maybe a SKU, a quantity and an amount.

    Example:
        >>> from hypothesis import find
        >>> find(order_lines("JPY"), lambda line: True).amount.currency
        'JPY'

    .. versionadded:: 0.1.0
    """
    return st.builds(
        OrderLine,
        sku=st.none() | st.sampled_from(("TEA-500", "TEA-100", "CUP-1")),
        name=st.sampled_from(("Oolong 500 g", "Green tea", "茶杯")),
        quantity=st.integers(1, 20),
        amount=_amount(currency, 0, 10_000),
    )


@st.composite
def orders(
    draw: st.DrawFn,
    customer_id: str | st.SearchStrategy[str] | None = None,
    *,
    currency: str | None = None,
    refunds: bool = True,
) -> Order:
    """Valid orders, reported and (with ``refunds``) refunded through the aggregate.

    Refunds add up to at most the total; sometimes to exactly the total.

    Example:
        >>> from hypothesis import find
        >>> find(orders("cus_1", currency="TWD"), lambda o: len(o.refunds) > 1).refunds[0].amount
        Money('0.01', 'TWD')

    .. versionadded:: 0.1.0
    """
    if customer_id is None:
        customer = draw(st.sampled_from(("cus_1", "cus_2", "cus_3")))
    elif isinstance(customer_id, str):
        customer = customer_id
    else:
        customer = draw(customer_id)
    cur = currency or draw(st.sampled_from(_CURRENCIES))
    at = _T0 + timedelta(minutes=draw(st.integers(0, 2 * 365 * 24 * 60)))
    total = draw(_amount(cur))
    order = Order.report(
        customer_id=customer,
        source=draw(st.sampled_from(("shop", "pos"))),
        external_ref=f"#{draw(st.integers(1, 10**9))}",
        ordered_at=at,
        total=total,
        now=at,
        lines=draw(st.lists(order_lines(cur), max_size=3)),
        channel=draw(st.none() | st.sampled_from(("web", "store", "phone"))),
        region=draw(st.none() | st.sampled_from(_REGIONS)),
    )
    if refunds and total.amount > 0:
        digits = currency_digits(cur)
        left = total.minor_units
        for n in range(draw(st.integers(0, 3))):
            if left <= 0:
                break
            units = draw(st.integers(1, left))
            left -= units
            when = at + timedelta(days=draw(st.integers(0, 60)))
            order.refund(
                f"r-{n}",
                Money(Decimal(units).scaleb(-digits), cur),
                refunded_at=when,
                now=when,
            )
    order.pull_events()
    return order


@st.composite
def customer_facts(
    draw: st.DrawFn, customer_id: str | None = None, *, currency: str = "TWD"
) -> CustomerFacts:
    """Facts about one customer whose purchase summary comes from real orders in ``currency``.

    Example:
        >>> from hypothesis import find
        >>> find(customer_facts(), lambda f: f.purchases.order_count > 0).purchases.order_count
        1

    .. versionadded:: 0.1.0
    """
    cid = customer_id or f"cus_{draw(st.integers(1, 10**6))}"
    bought = draw(st.lists(orders(cid, currency=currency), max_size=4))
    return CustomerFacts(
        customer_id=cid,
        registered_at=_T0 - timedelta(days=draw(st.integers(0, 400))),
        tags=draw(st.lists(st.sampled_from(_TAGS), max_size=3)),
        source=draw(st.none() | st.sampled_from(_SOURCES)),
        region=draw(st.none() | st.sampled_from(_REGIONS)),
        tier=draw(st.none() | st.sampled_from(_TIERS)),
        purchases=summarize_purchases(bought),
    )


@st.composite
def segment_rules(draw: st.DrawFn) -> SegmentRule:
    """Valid rule-based segments with one to four of the conditions.

    Example:
        >>> from hypothesis import find
        >>> find(segment_rules(), lambda r: bool(r.tags)).tags
        ('vip',)

    .. versionadded:: 0.1.0
    """
    kinds = draw(
        st.sets(
            st.sampled_from(("tiers", "tags", "before", "quiet", "value", "sources", "regions")),
            min_size=1,
            max_size=4,
        )
    )
    fields: dict[str, Any] = {"name": f"seg_{draw(st.integers(1, 999))}"}
    if "tiers" in kinds:
        fields["tiers"] = draw(st.lists(st.sampled_from(_TIERS), min_size=1, max_size=2))
    if "tags" in kinds:
        fields["tags"] = draw(st.lists(st.sampled_from(_TAGS), min_size=1, max_size=2))
    if "before" in kinds:
        fields["last_order_before"] = _T0 + timedelta(days=draw(st.integers(0, 800)))
    if "quiet" in kinds:
        fields["no_order_for"] = timedelta(days=draw(st.integers(1, 400)))
    if "value" in kinds:
        currencies = draw(st.lists(st.sampled_from(_CURRENCIES), min_size=1, unique=True))
        fields["lifetime_value_above"] = [draw(_amount(c, 0, 50_000)) for c in currencies]
    if "sources" in kinds:
        fields["sources"] = draw(st.lists(st.sampled_from(_SOURCES), min_size=1, max_size=2))
    if "regions" in kinds:
        fields["regions"] = draw(st.lists(st.sampled_from(_REGIONS), min_size=1, max_size=2))
    return SegmentRule(**fields)


def rfm_models(currency: str = "TWD") -> st.SearchStrategy[RfmModel]:
    """RFM models in ``currency``: the default segments, or a partial list closed by a catch-all.

    Example:
        >>> from hypothesis import find
        >>> find(rfm_models(), lambda m: True).currency
        'TWD'

    .. versionadded:: 0.1.0
    """
    from crmkit.customers import RfmSegment

    catch_all = RfmSegment(name="others")
    partial = st.lists(st.sampled_from(DEFAULT_RFM_SEGMENTS), unique_by=lambda s: s.name).map(
        lambda chosen: (*chosen, catch_all)
    )
    return st.builds(
        RfmModel, currency=st.just(currency), segments=st.just(DEFAULT_RFM_SEGMENTS) | partial
    )


@st.composite
def segmentation_rules(draw: st.DrawFn, currency: str = "TWD") -> SegmentationRules:
    """Complete segmentation settings: rule segments, maybe RFM, lifecycle and attention.

    Example:
        >>> from hypothesis import find
        >>> find(segmentation_rules(), lambda r: r.rfm is not None).rfm.currency
        'TWD'

    .. versionadded:: 0.1.0
    """
    at_risk = draw(st.integers(30, 300))
    return SegmentationRules(
        segments=draw(st.lists(segment_rules(), max_size=3, unique_by=lambda r: r.name)),
        rfm=draw(st.none() | rfm_models(currency)),
        lifecycle=LifecycleRules(
            new_for=timedelta(days=draw(st.integers(1, 120))),
            at_risk_after=timedelta(days=at_risk),
            churned_after=timedelta(days=at_risk + draw(st.integers(1, 300))),
        ),
        attention=AttentionRule(
            after=timedelta(days=draw(st.integers(1, 365))),
            include_never_ordered=draw(st.booleans()),
        ),
    )
