"""Coupons count their own uses; pricing records store and query through a unit of work."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.adapters import MemoryStore
from crmkit.errors import ConcurrencyError, RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.pricing import (
    COUPONS,
    DISCOUNT_RULE_SETS,
    PRICE_BOOKS,
    PRODUCTS,
    QUOTES,
    ApprovalPolicy,
    Catalog,
    Coupon,
    Quote,
    QuoteLine,
    normalize_code,
)
from crmkit.pricing.engine import _example_setup

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PRICING_TYPES = (QUOTES, PRODUCTS, PRICE_BOOKS, COUPONS, DISCOUNT_RULE_SETS)


def coupon(**kw: object) -> Coupon:
    fields: dict[str, object] = {
        "code": "SPRING",
        "name": "Spring",
        "created_at": NOW,
        "percent": 10,
    }
    fields.update(kw)
    return Coupon(**fields)  # type: ignore[arg-type]


def test_codes_are_normalised_and_checked():
    assert normalize_code(" spring-10 ") == "SPRING-10"
    assert Coupon.id_for("spring-10") == "coupon_SPRING-10"
    with pytest.raises(ValidationError, match="is not a coupon code"):
        normalize_code("no spaces")


def test_limits_window_and_idempotency():
    c = coupon(usage_limit=2, per_customer_limit=1, valid_until=NOW + timedelta(days=1))
    assert c.redeem("q_1", "cus_1", NOW)
    assert not c.redeem("q_1", "cus_1", NOW)  # the same quote again: counted once
    with pytest.raises(RuleViolation, match="cus_1 has used coupon SPRING"):
        c.redeem("q_2", "cus_1", NOW)
    assert c.redeem("q_3", "cus_2", NOW)
    with pytest.raises(RuleViolation, match="usage limit"):
        c.redeem("q_4", "cus_3", NOW)
    assert c.times_used == 2
    assert [e.times_used for e in c.pull_events()] == [1, 2]
    late = coupon()
    with pytest.raises(RuleViolation, match="valid until"):
        coupon(valid_until=NOW).redeem("q_1", "cus_1", NOW)
    assert late.unusable_reason("cus_1", NOW) is None


@settings(max_examples=100)
@given(
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 3)),
    st.lists(
        st.tuples(
            st.sampled_from(["q_1", "q_2", "q_3", "q_4", "q_5", "q_6", "q_7"]),
            st.sampled_from(["cus_1", "cus_2", "cus_3"]),
        ),
        max_size=20,
    ),
)
def test_a_coupon_never_exceeds_its_limits(limit, per_customer, uses):
    c = coupon(usage_limit=limit, per_customer_limit=per_customer)
    for quote_id, customer in uses:
        before = c.redemptions
        try:
            c.redeem(quote_id, customer, NOW)
        except RuleViolation:
            assert c.redemptions == before
    assert c.times_used <= limit
    assert len({r.quote_id for r in c.redemptions}) == c.times_used
    if per_customer is not None:
        for customer in ("cus_1", "cus_2", "cus_3"):
            assert c.uses_by(customer) <= per_customer


def test_pricing_records_project_their_query_fields():
    catalog, rules, tax, now = _example_setup()
    quote = Quote.create(
        id="q_1",
        customer_id="cus_1",
        currency="TWD",
        now=now,
        valid_until=now + timedelta(days=30),
        coupon_codes=["TEA5"],
        lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=2)],
    )
    assert QUOTES.project(quote)["total"] is None
    quote.price(catalog, rules, now=now, tax=tax)
    fields = QUOTES.project(quote)

    assert (fields["status"], fields["total"], fields["coupon_codes"]) == (
        "draft",
        quote.priced.total.amount,
        ("TEA5",),
    )
    assert PRODUCTS.project(catalog.products[0])["category"] == "tea"
    assert PRICE_BOOKS.project(catalog.price_books[0])["currency"] == "TWD"
    assert COUPONS.project(coupon(usage_limit=3)) == {
        "code": "SPRING",
        "valid_from": None,
        "valid_until": None,
        "times_used": 0,
        "usage_limit": 3,
    }
    assert DISCOUNT_RULE_SETS.project(rules) == {"name": "Spring"}


def test_catalog_rules_and_quotes_store_and_load_through_a_unit_of_work():
    catalog, rules, tax, now = _example_setup()
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.repository(PRODUCTS).add_many(catalog.products)
        uow.repository(PRICE_BOOKS).add_many(catalog.price_books)
        uow.repository(DISCOUNT_RULE_SETS).add(rules)
        uow.repository(COUPONS).add(coupon(code="TEA5", usage_limit=1))
        uow.repository(QUOTES).add(
            Quote.create(
                id="q_1",
                customer_id="cus_1",
                currency="TWD",
                now=now,
                valid_until=now + timedelta(days=30),
                coupon_codes=["TEA5"],
                lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=2)],
            )
        )
        uow.commit()

    with store.unit_of_work() as uow:
        loaded = Catalog(
            products=uow.repository(PRODUCTS).query(Query()).items,
            price_books=uow.repository(PRICE_BOOKS).query(Query.where(currency="TWD")).items,
        )
        quote = uow.repository(QUOTES).get("q_1")
        coupons = uow.repository(COUPONS).get_many([Coupon.id_for(c) for c in quote.coupon_codes])
        quote.price(
            loaded,
            uow.repository(DISCOUNT_RULE_SETS).get(rules.id),
            now=now,
            tax=tax,
            coupons=coupons,
            approvals=ApprovalPolicy.default(),
        )
        uow.repository(QUOTES).save(quote)
        uow.commit()

    with store.unit_of_work() as uow:
        again = uow.repository(QUOTES).get("q_1")
        assert again.priced == quote.priced
        assert again.applied_coupon_codes == ("TEA5",)
        found = uow.repository(QUOTES).query(Query.where(customer_id="cus_1", status="draft"))
        assert [q.id for q in found.items] == ["q_1"]


def test_concurrent_redemptions_respect_the_limit_with_optimistic_concurrency():
    """12 threads each redeem a limit-5 coupon for their own quote, retrying stale saves.

    This is the design the app layer relies on (its own test runs it on SQLite and
    PostgreSQL): load, redeem, save in one unit of work; the version check refuses a stale
    save; a retry re-reads the uses. Exactly 5 succeed.
    """
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.repository(COUPONS).add(coupon(usage_limit=5))
        uow.commit()
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(n: int) -> None:
        barrier.wait()
        for _attempt in range(50):
            try:
                with store.unit_of_work() as uow:
                    c = uow.repository(COUPONS).get(Coupon.id_for("SPRING"))
                    c.redeem(f"q_{n}", f"cus_{n}", NOW)
                    uow.repository(COUPONS).save(c)
                    uow.commit()
                result = "ok"
            except ConcurrencyError:
                continue
            except RuleViolation:
                result = "limit"
            with lock:
                outcomes.append(result)
            return

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["limit"] * 7 + ["ok"] * 5
    with store.unit_of_work() as uow:
        assert uow.repository(COUPONS).get(Coupon.id_for("SPRING")).times_used == 5


def test_money_import_used_in_amount_coupons():
    c = coupon(percent=None, amount=Money("100", "TWD"))
    assert c.amount == Money("100", "TWD")
