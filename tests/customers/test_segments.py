"""Segments as data: rule segments, RFM quintiles and named segments, lifecycle, attention.

Hand-computed fixtures pin the answers; hypothesis properties pin the invariants (RFM quintiles
partition the population, each customer has exactly one named segment, rules round-trip)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.customers import (
    DEFAULT_RFM_SEGMENTS,
    AttentionRule,
    CustomerFacts,
    Lifecycle,
    LifecycleRules,
    PurchaseSummary,
    RfmModel,
    RfmSegment,
    SegmentationRules,
    SegmentRule,
    assess_lifecycle,
    needs_attention,
    rfm_scores,
    segment_customers,
)
from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel.money import Money
from crmkit.serialization import structure, unstructure
from crmkit.testing.strategies import customer_facts, segment_rules, segmentation_rules

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _facts(
    n: int = 1,
    *,
    days: int | None = None,
    orders: int = 0,
    values: tuple[Money, ...] = (),
    first_days: int | None = None,
    registered_days: int = 1000,
    **fields: object,
) -> CustomerFacts:
    last = None if days is None else NOW - timedelta(days=days)
    first = last if first_days is None else NOW - timedelta(days=first_days)
    return CustomerFacts(
        customer_id=f"cus_{n}",
        registered_at=NOW - timedelta(days=registered_days),
        purchases=PurchaseSummary(
            order_count=orders if days is not None else 0,
            first_order_at=first,
            last_order_at=last,
            lifetime_value=values,
        ),
        **fields,  # type: ignore[arg-type]
    )


# ----- rule segments -----------------------------------------------------------------------------


def test_every_condition_is_checked_and_explained() -> None:
    """A customer is in a segment only if every condition holds; each says why."""
    rule = SegmentRule(
        name="taipei_vip",
        tiers=["Gold"],
        tags=["vip"],
        no_order_for=timedelta(days=30),
        lifetime_value_above=[Money("10000", "TWD")],
        sources=["Trade Show"],
        regions=["tw"],
    )
    facts = _facts(
        days=45,
        orders=3,
        values=(Money("12000", "TWD"),),
        tier="gold",
        tags=["VIP", "wholesale"],
        source="trade show",
        region="TW",
    )

    match = rule.evaluate(facts, NOW)

    assert match.matched
    assert [c.condition for c in match.conditions] == [
        "tiers",
        "tags",
        "no_order_for",
        "lifetime_value_above",
        "sources",
        "regions",
    ]
    assert match.conditions[3].reason == "lifetime value 12000 TWD is above 10000 TWD"


def test_one_failing_condition_keeps_a_customer_out_and_says_which() -> None:
    """A missing tag fails the rule; the failing condition names the missing tag."""
    rule = SegmentRule(name="vip_wholesale", tags=["vip", "wholesale"])

    match = rule.evaluate(_facts(tags=["vip"]), NOW)

    assert not match.matched
    assert match.conditions[0].reason == "lacks tag wholesale"


def test_lifetime_value_is_compared_per_currency_never_summed() -> None:
    """6000 TWD and 6000 USD are not 12000 of anything: below a 10000 TWD threshold."""
    rule = SegmentRule(name="big", lifetime_value_above=[Money("10000", "TWD")])
    facts = _facts(days=1, orders=2, values=(Money("6000", "TWD"), Money("6000", "USD")))
    other = SegmentRule(
        name="big_anywhere",
        lifetime_value_above=[Money("10000", "TWD"), Money("5000", "USD")],
    )

    assert not rule.evaluate(facts, NOW).matched
    assert other.evaluate(facts, NOW).matched


def test_last_order_before_never_matches_a_customer_without_orders() -> None:
    """Without an order, "last order before" does not hold (and says so)."""
    rule = SegmentRule(name="lapsed", last_order_before=NOW - timedelta(days=90))

    never = rule.evaluate(_facts(), NOW)
    lapsed = rule.evaluate(_facts(days=120, orders=1), NOW)
    recent = rule.evaluate(_facts(days=10, orders=1), NOW)

    assert (never.matched, never.conditions[0].reason) == (False, "has no order")
    assert (lapsed.matched, recent.matched) == (True, False)


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: SegmentRule(name="everyone"), DefinitionError),
        (lambda: SegmentRule(name="x", lifetime_value_above=Money("1", "TWD")), ValidationError),
        (
            lambda: SegmentRule(
                name="x", lifetime_value_above=[Money("1", "TWD"), Money("2", "TWD")]
            ),
            ValidationError,
        ),
        (lambda: SegmentRule(name="x", no_order_for=timedelta(0)), ValidationError),
        (lambda: SegmentRule(name="x", last_order_before=datetime(2026, 1, 1)), ValidationError),
        (lambda: SegmentRule(name="has space", tags=["a"]), ValidationError),
        (
            lambda: SegmentationRules(
                segments=[SegmentRule(name="a", tags=["x"]), SegmentRule(name="a", tags=["y"])]
            ),
            DefinitionError,
        ),
    ],
)
def test_bad_rules_are_refused(build: object, error: type[Exception]) -> None:
    """Invalid segment definitions are refused when built."""
    with pytest.raises(error):
        build()  # type: ignore[operator]


@given(segmentation_rules())
def test_segmentation_rules_round_trip(rules: SegmentationRules) -> None:
    """Rules are data: they come back equal from the converter."""
    assert structure(unstructure(rules), SegmentationRules) == rules


@given(segment_rules(), customer_facts())
def test_a_match_holds_exactly_when_every_condition_does(
    rule: SegmentRule, facts: CustomerFacts
) -> None:
    """The match is the conjunction of its conditions, one result per condition given."""
    match = rule.evaluate(facts, NOW)

    assert match.matched == all(c.matched for c in match.conditions)
    assert len(match.conditions) >= 1
    assert all(c.reason for c in match.conditions)


# ----- RFM ---------------------------------------------------------------------------------------


def _ten() -> list[CustomerFacts]:
    # cus_1 .. cus_10: recency 10..100 days, frequency 10..1, monetary 1000..10000 TWD.
    return [
        _facts(n, days=10 * n, orders=11 - n, values=(Money(1000 * (11 - n), "TWD"),))
        for n in range(1, 11)
    ]


def test_rfm_by_hand() -> None:
    """Ten customers, two per quintile; cut k is the value at rank 2k (best last)."""
    scores = {s.customer_id: s for s in rfm_scores(_ten(), RfmModel(currency="TWD"), NOW)}

    assert [scores[f"cus_{n}"].code for n in range(1, 11)] == [
        "R5F5M5",
        "R5F5M5",
        "R4F4M4",
        "R4F4M4",
        "R3F3M3",
        "R3F3M3",
        "R2F2M2",
        "R2F2M2",
        "R1F1M1",
        "R1F1M1",
    ]
    first = scores["cus_1"]
    assert first.recency.boundaries == tuple(Decimal(d) for d in (90, 70, 50, 30))
    assert first.frequency.boundaries == tuple(Decimal(f) for f in (2, 4, 6, 8))
    assert first.monetary.boundaries == tuple(Decimal(m) for m in (2000, 4000, 6000, 8000))
    assert first.recency.explain() == "recency 10 scores 5 (boundaries 90, 70, 50, 30)"
    assert [scores[f"cus_{n}"].segment for n in (1, 3, 5, 7, 9)] == [
        "champions",
        "champions",
        "loyal",
        "hibernating",
        "lost",
    ]


def test_rfm_named_segments_by_hand() -> None:
    """Recent rare buyers are promising; frequent buyers gone quiet are at risk."""
    people = [
        _facts(1, days=1, orders=1, values=(Money("100", "TWD"),)),  # recent, rare
        _facts(2, days=2, orders=1, values=(Money("100", "TWD"),)),
        _facts(3, days=300, orders=20, values=(Money("9000", "TWD"),)),  # frequent, gone
        _facts(4, days=310, orders=25, values=(Money("9500", "TWD"),)),
        _facts(5, days=150, orders=5, values=(Money("900", "TWD"),)),
    ]

    named = {s.customer_id: s.segment for s in rfm_scores(people, RfmModel(currency="TWD"), NOW)}

    assert named == {
        "cus_1": "promising",
        "cus_2": "promising",
        "cus_3": "at_risk",
        "cus_4": "at_risk",
        "cus_5": "loyal",
    }


def test_a_small_population_still_gives_its_best_customer_five() -> None:
    """With fewer than five buyers the low cuts are none: the best scores 5, ties alike."""
    people = [
        _facts(1, days=3, orders=4, values=(Money("3600", "TWD"),)),
        _facts(2, days=250, orders=1, values=(Money("300", "TWD"),)),
    ]

    best, other = rfm_scores(people, RfmModel(currency="TWD"), NOW)

    assert (best.code, other.code) == ("R5F5M5", "R3F3M3")
    assert best.recency.explain() == "recency 3 scores 5 (boundaries -, -, 250, 250)"
    assert [s.code for s in rfm_scores(people[:1], RfmModel(currency="TWD"), NOW)] == ["R5F5M5"]


def test_customers_without_orders_are_not_scored_and_other_currencies_count_zero() -> None:
    """RFM scores buyers only; monetary reads the model's currency, nothing converted."""
    people = [
        _facts(1),
        _facts(2, days=5, orders=1, values=(Money("50", "USD"),)),
        _facts(3, days=5, orders=1, values=(Money("50", "TWD"),)),
    ]

    scores = {s.customer_id: s for s in rfm_scores(people, RfmModel(currency="TWD"), NOW)}

    assert set(scores) == {"cus_2", "cus_3"}
    assert scores["cus_2"].monetary.value == Decimal(0)
    assert scores["cus_2"].monetary.score < scores["cus_3"].monetary.score


def test_rfm_segments_must_cover_every_score() -> None:
    """A segment list with a hole is a DefinitionError listing the hole."""
    with pytest.raises(DefinitionError) as caught:
        RfmModel(currency="TWD", segments=DEFAULT_RFM_SEGMENTS[:-1])

    assert caught.value.details["uncovered"] == [
        "R1F1M1",
        "R1F1M2",
        "R1F1M3",
        "R1F1M4",
        "R1F1M5",
    ] + [f"R1F2M{m}" for m in range(1, 6)]


_population = st.lists(customer_facts(), min_size=1, max_size=25, unique_by=lambda f: f.customer_id)


@given(_population)
def test_rfm_quintiles_are_a_partition(people: list[CustomerFacts]) -> None:
    """Every buyer gets one score 1-5 per dimension, monotone in its value, equal for ties."""
    buyers = [f for f in people if f.purchases.order_count]
    scores = rfm_scores(people, RfmModel(currency="TWD"), NOW)

    assert [s.customer_id for s in scores] == [f.customer_id for f in buyers]
    for name in ("recency", "frequency", "monetary"):
        details = [getattr(s, name) for s in scores]
        assert all(1 <= d.score <= 5 for d in details)
        for a in details:
            for b in details:
                if a.value == b.value:
                    assert a.score == b.score
                elif (a.value < b.value) == (name != "recency"):  # type: ignore[operator]
                    assert a.score <= b.score


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40, unique=True))
def test_distinct_values_fill_quintiles_evenly(values: list[int]) -> None:
    """With distinct values each quintile holds floor or ceil of n/5 customers."""
    people = [_facts(i, days=1, orders=1, values=(Money(v, "TWD"),)) for i, v in enumerate(values)]

    counts = Counter(s.monetary.score for s in rfm_scores(people, RfmModel(currency="TWD"), NOW))

    n = len(values)
    assert sum(counts.values()) == n
    assert all(n // 5 <= counts.get(k, 0) <= -(-n // 5) for k in range(1, 6))


@given(_population, st.sampled_from([DEFAULT_RFM_SEGMENTS, (RfmSegment(name="all"),)]))
def test_each_buyer_has_exactly_one_named_segment(
    people: list[CustomerFacts], segments: tuple[RfmSegment, ...]
) -> None:
    """The first covering segment names the customer; it is one of the model's."""
    model = RfmModel(currency="TWD", segments=segments)

    for score in rfm_scores(people, model, NOW):
        r, f, m = score.recency.score, score.frequency.score, score.monetary.score
        covering = [s.name for s in segments if s.covers(r, f, m)]
        assert covering and score.segment == covering[0]


# ----- lifecycle and attention -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (_facts(), Lifecycle.PROSPECT),
        (_facts(days=10, orders=1, first_days=10), Lifecycle.NEW),
        (_facts(days=10, orders=4, first_days=400), Lifecycle.ACTIVE),
        (_facts(days=179, orders=4, first_days=400), Lifecycle.ACTIVE),
        (_facts(days=180, orders=4, first_days=400), Lifecycle.AT_RISK),
        (_facts(days=364, orders=4, first_days=400), Lifecycle.AT_RISK),
        (_facts(days=365, orders=4, first_days=400), Lifecycle.CHURNED),
    ],
)
def test_lifecycle_by_hand(facts: CustomerFacts, status: Lifecycle) -> None:
    """Default thresholds: new 90 days, at risk 180, churned 365 (at the boundary: the later)."""
    assert assess_lifecycle(facts, LifecycleRules(), NOW).status is status


def test_lifecycle_thresholds_are_data_and_checked() -> None:
    """Thresholds round-trip and must be ordered."""
    rules = LifecycleRules(new_for=timedelta(days=30), at_risk_after=timedelta(days=60))
    assert structure(unstructure(rules), LifecycleRules) == rules
    with pytest.raises(DefinitionError):
        LifecycleRules(at_risk_after=timedelta(days=365), churned_after=timedelta(days=365))


@given(customer_facts(), st.integers(1, 200), st.integers(1, 400))
def test_lifecycle_follows_the_thresholds(facts: CustomerFacts, risk: int, extra: int) -> None:
    """Churned, at risk, new or active exactly as the days since the orders say."""
    rules = LifecycleRules(
        at_risk_after=timedelta(days=risk), churned_after=timedelta(days=risk + extra)
    )
    now = NOW + timedelta(days=400)
    status = assess_lifecycle(facts, rules, now).status
    last = facts.purchases.last_order_at

    if last is None:
        assert status is Lifecycle.PROSPECT
    elif now - last >= rules.churned_after:
        assert status is Lifecycle.CHURNED
    elif now - last >= rules.at_risk_after:
        assert status is Lifecycle.AT_RISK
    else:
        assert status in (Lifecycle.NEW, Lifecycle.ACTIVE)


def test_attention_by_hand() -> None:
    """No order for six months flags; a prospect counts from registration unless left out."""
    rule = AttentionRule()
    quiet = needs_attention(_facts(days=190, orders=2), rule, NOW)
    busy = needs_attention(_facts(days=20, orders=2), rule, NOW)
    prospect = needs_attention(_facts(registered_days=200), rule, NOW)
    left_out = needs_attention(
        _facts(registered_days=200), AttentionRule(include_never_ordered=False), NOW
    )

    assert (quiet.flagged, quiet.quiet_days, quiet.reason) == (
        True,
        190,
        "last order 190 days ago, at least 182 days",
    )
    assert not busy.flagged
    assert prospect.flagged and prospect.since == NOW - timedelta(days=200)
    assert not left_out.flagged and "not flagged" in left_out.reason


@given(customer_facts(), st.integers(1, 500))
def test_attention_flags_exactly_the_quiet(facts: CustomerFacts, days: int) -> None:
    """Flagged exactly when the last order (or registration) is at least ``after`` ago."""
    rule = AttentionRule(after=timedelta(days=days))
    now = NOW + timedelta(days=200)
    since = facts.purchases.last_order_at or facts.registered_at

    assert needs_attention(facts, rule, now).flagged == (now - since >= rule.after)


def test_segment_customers_puts_it_together() -> None:
    """One result per customer: its rule segments, RFM, lifecycle and attention."""
    rules = SegmentationRules(
        segments=[SegmentRule(name="vip", tags=["vip"])], rfm=RfmModel(currency="TWD")
    )
    people = [*_ten(), _facts(11, tags=["vip"])]

    results = segment_customers(people, rules, NOW)

    assert [r.customer_id for r in results] == [f.customer_id for f in people]
    assert results[-1].names == ("vip",) and results[-1].rfm is None
    assert results[0].rfm is not None and results[0].rfm.segment == "champions"
    assert results[-1].lifecycle.status is Lifecycle.PROSPECT
    assert results[-1].attention.flagged  # registered 1000 days ago, never ordered
