"""Quotes through the CRM facade: the catalog admin, a quote's whole life, pricing from the
stored catalog, atomic and idempotent acceptance, expiry for a scheduler, revisions, the access
policy, malformed input, the settings as data, and a stateful run where every failed command
must leave the store as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from crmkit import (
    CRM,
    ConcurrencyError,
    CRMError,
    DuplicateError,
    ManualClock,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.quotes import ApprovalRequest, PricingSettings, QuoteExpiryRun
from crmkit.customers import Customer
from crmkit.kernel import SequentialIds
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.pricing import (
    ApprovalLevel,
    ApprovalPolicy,
    Coupon,
    DiscountRuleSet,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    Promotion,
    Quote,
    QuoteLine,
    QuoteStatus,
    TaxPolicy,
)
from crmkit.pricing.commands import AcceptQuote
from crmkit.serialization import structure, to_json, unstructure

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)
TW_VAT = TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="Taiwan VAT")
SETTINGS = PricingSettings(tax=TW_VAT, rule_set_id="rs_spring")


def twd(amount: str) -> Money:
    return Money(amount, "TWD")


TEA = Product(sku="TEA-500", name="Oolong tea 500 g", category="tea", unit="box")
TEAPOT = Product(sku="TEAPOT", name="Yixing teapot", category="ware")
STANDARD = PriceBook(
    id="pb_twd",
    name="Standard TWD",
    currency="TWD",
    entries=[
        PriceBookEntry(
            sku="TEA-500",
            unit_price=twd("100"),
            tiers=[PriceTier(10, twd("90")), PriceTier(50, twd("80"))],
        ),
        PriceBookEntry(sku="TEAPOT", unit_price=twd("2800"), floor_price=twd("2200")),
    ],
)
DEALER = PriceBook(
    id="pb_dealer",
    name="Dealer TWD",
    currency="TWD",
    customer_group="dealer",
    entries=[PriceBookEntry(sku="TEA-500", unit_price=twd("70"))],
)
YUAN = PriceBook(
    id="pb_cny",
    name="Standard CNY",
    currency="CNY",
    entries=[PriceBookEntry(sku="TEA-500", unit_price=Money("20", "CNY"))],
)
SPRING = DiscountRuleSet(
    id="rs_spring",
    name="Spring",
    promotions=[
        Promotion(id="spring", name="Spring sale", created_at=START, percent=10, categories=["tea"])
    ],
)
LIMIT = 2


def spring5() -> Coupon:
    return Coupon(code="SPRING5", name="Spring 5%", percent=5, created_at=START, usage_limit=LIMIT)


def seed(crm: CRM) -> Customer:
    """The tea shop's catalog, rules and coupon, stored through the facade; one customer."""
    crm.upsert_product(TEA)
    crm.upsert_product(TEAPOT)
    crm.upsert_price_book(STANDARD)
    crm.upsert_price_book(DEALER)
    crm.upsert_price_book(YUAN)
    crm.save_discount_rule_set(SPRING)
    crm.create_coupon(spring5())
    return crm.register_customer("Formosa Tea Co.")


def advance(crm: CRM, by: timedelta) -> None:
    clock = crm.clock
    assert isinstance(clock, ManualClock)
    clock.advance(by)


def outbox_types(crm: CRM) -> list[str]:
    return [e.event.event_type for e in crm.store.outbox.pending(10_000)]


def stored_quotes(crm: CRM) -> list[Quote]:
    found: list[Quote] = []
    query = Query().order("id").take(1000)
    with crm.store.unit_of_work() as uow:
        while True:
            page = uow.quotes.query(query)
            found.extend(page.items)
            if page.next_cursor is None:
                return found
            query = query.after(page.next_cursor)


def snapshot(crm: CRM) -> tuple[str, str, int]:
    """Everything a quote command may change: quotes, the coupon, the outbox."""
    return (
        to_json(stored_quotes(crm)),
        to_json(crm.get_coupon("SPRING5")),
        len(crm.store.outbox.pending(10_000)),
    )


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest) -> Iterator[CRM]:
    store = MemoryStore() if request.param == "memory" else SQLiteStore(":memory:")
    yield bootstrap(store=store, clock=ManualClock(START), ids=SequentialIds(), pricing=SETTINGS)
    if isinstance(store, SQLiteStore):
        store.close()


@pytest.fixture
def customer(crm: CRM) -> Customer:
    return seed(crm)


def sent_quote(crm: CRM, customer: Customer, *, coupon: bool = True, **kw: Any) -> Quote:
    """60 boxes of tea, with coupon SPRING5, priced, approved if need be, sent."""
    quote = crm.create_quote(
        customer.id,
        "TWD",
        coupon_codes=["SPRING5"] if coupon else [],
        lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        **kw,
    )
    crm.price_quote(quote.id)
    quote = crm.submit_quote(quote.id)
    for role in quote.pending_approvals:
        quote = crm.approve_quote(quote.id, role, actor="u_boss")
    return crm.send_quote(quote.id)


# ----- the whole life ----------------------------------------------------------------------------


class TestLifecycle:
    def test_from_draft_to_accepted_with_two_approvals_and_a_coupon(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(customer.id, "TWD", owner="u_amy", coupon_codes=["spring5"])
        assert (quote.status, quote.coupon_codes) == (QuoteStatus.DRAFT, ("SPRING5",))
        assert quote.valid_until == START + timedelta(days=30)
        quote = crm.add_quote_line(quote.id, "TEA-500", 60)
        quote = crm.set_quote_discount(quote.id, ManualDiscount(percent=20, reason="launch"))

        priced = crm.price_quote(quote.id, actor="u_amy")
        # 60 boxes reach the 50-box tier: 60 x 80 = 4,800 (list 60 x 100 = 6,000).
        # Spring sale 10%: -480 -> 4,320. Coupon 5% of 4,320: -216 -> 4,104.
        # Rep's 20% of 4,104: -820.80 -> 3,283.20, VAT included: 3,283.20 x 5/105 = 156.34.
        assert (priced.tier_total, priced.subtotal) == (twd("4800.00"), twd("4320.00"))
        assert [(q.rule_id, q.amount) for q in priced.quote_discounts] == [
            ("coupon_SPRING5", twd("216.00")),
            ("manual", twd("820.80")),
        ]
        assert (priced.total, priced.tax) == (twd("3283.20"), twd("156.34"))
        # 480 + 216 + 820.80 = 1,516.80 = 31.6% of 4,800: over 10% and over 25%.
        assert priced.effective_discount_percent == Decimal("31.6")
        assert "Spring sale (promotion, 10%)" in priced.explain()
        stored = crm.get_quote(quote.id)
        assert stored.priced == priced
        assert stored.required_approvals == ("sales_manager", "director")

        quote = crm.submit_quote(quote.id, actor="u_amy")
        assert quote.status is QuoteStatus.PENDING_APPROVAL
        with pytest.raises(RuleViolation, match="owns quote"):
            crm.approve_quote(quote.id, "sales_manager", actor="u_amy")
        quote = crm.approve_quote(quote.id, "sales_manager", actor="u_lin", comment="key account")
        assert quote.pending_approvals == ("director",)
        quote = crm.approve_quote(quote.id, "director", actor="u_dir")
        assert quote.status is QuoteStatus.APPROVED
        quote = crm.send_quote(quote.id, actor="u_amy")
        assert quote.status is QuoteStatus.SENT
        assert crm.get_coupon("SPRING5").times_used == 0  # a sent quote has used nothing yet

        quote = crm.accept_quote(quote.id, actor="portal")
        assert quote.status is QuoteStatus.ACCEPTED
        assert crm.get_quote(quote.id) == quote
        coupon = crm.get_coupon("SPRING5")
        assert [(r.quote_id, r.customer_id) for r in coupon.redemptions] == [
            (quote.id, customer.id)
        ]
        types = [t for t in outbox_types(crm) if t.startswith("pricing.Quote")]
        assert types[-4:] == [
            "pricing.QuoteApprovalDecided",
            "pricing.QuoteApproved",
            "pricing.QuoteSent",
            "pricing.QuoteAccepted",
        ]
        assert outbox_types(crm)[-1] == "pricing.CouponRedeemed"

    def test_a_customer_rejection_closes_the_quote(self, crm: CRM, customer: Customer) -> None:
        quote = sent_quote(crm, customer)
        quote = crm.reject_quote(quote.id, reason="went with a competitor")
        assert (quote.status, quote.rejection_reason) == (
            QuoteStatus.REJECTED,
            "went with a competitor",
        )
        with pytest.raises(RuleViolation, match="cannot accept"):
            crm.accept_quote(quote.id)
        assert crm.get_coupon("SPRING5").times_used == 0

    def test_an_edit_after_approval_needs_pricing_and_approval_again(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(customer.id, "TWD", coupon_codes=["SPRING5"])
        quote = crm.add_quote_line(quote.id, "TEA-500", 60)
        crm.price_quote(quote.id)
        quote = crm.submit_quote(quote.id)  # 14.5% off: the sales manager approves
        quote = crm.approve_quote(quote.id, "sales_manager", actor="u_lin")
        assert quote.status is QuoteStatus.APPROVED
        line = attrs.evolve(quote.line("l1"), quantity=Decimal(70))
        quote = crm.update_quote_line(quote.id, line)
        assert (quote.status, quote.priced) == (QuoteStatus.DRAFT, None)
        with pytest.raises(RuleViolation, match="must be priced"):
            crm.submit_quote(quote.id)

    def test_rejecting_the_approval_returns_the_quote_to_draft(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(customer.id, "TWD", discount=ManualDiscount(percent=30))
        quote = crm.add_quote_line(quote.id, "TEA-500", 60)
        crm.price_quote(quote.id)
        crm.submit_quote(quote.id)
        quote = crm.reject_quote_approval(
            quote.id, "sales_manager", actor="u_lin", comment="30% is too deep"
        )
        assert quote.status is QuoteStatus.DRAFT
        assert [(a.role, a.approved, a.comment) for a in quote.approvals] == [
            ("sales_manager", False, "30% is too deep")
        ]

    def test_lines_and_coupons_are_edited_through_the_facade(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(customer.id, "TWD")
        quote = crm.add_quote_line(quote.id, "TEA-500", 10)
        quote = crm.add_quote_line(quote.id, "TEAPOT", 1, line_id="pot", description="gift")
        quote = crm.add_quote_line(quote.id, "TEA-500", 2)
        assert [x.line_id for x in quote.lines] == ["l1", "pot", "l3"]
        quote = crm.remove_quote_line(quote.id, "l1")
        quote = crm.add_quote_line(quote.id, "TEA-500", 3)
        assert [x.line_id for x in quote.lines] == ["pot", "l3", "l4"]
        quote = crm.apply_coupon(quote.id, " spring5 ")
        assert quote.coupon_codes == ("SPRING5",)
        quote = crm.remove_coupon(quote.id, "SPRING5")
        assert quote.coupon_codes == ()
        quote = crm.set_quote_discount(quote.id, ManualDiscount(amount=twd("100")))
        quote = crm.set_quote_discount(quote.id, None)
        assert quote.discount is None
        assert crm.get_quote(quote.id) == quote

    def test_an_edit_that_changes_nothing_stores_nothing(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(customer.id, "TWD", coupon_codes=["SPRING5"])
        before = snapshot(crm)
        assert crm.apply_coupon(quote.id, "spring5") == quote
        assert crm.remove_coupon(quote.id, "WELCOME") == quote
        assert crm.set_quote_discount(quote.id, None) == quote
        assert snapshot(crm) == before
        assert crm.get_quote(quote.id).version == quote.version

    def test_a_revision_supersedes_the_quote_and_is_stored_with_it(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer)
        revision = crm.revise_quote(quote.id, actor="u_amy")
        old = crm.get_quote(quote.id)
        assert (old.status, old.superseded_by) == (QuoteStatus.SUPERSEDED, revision.id)
        assert (revision.revision, revision.previous_revision_id) == (2, quote.id)
        assert (revision.status, revision.priced) == (QuoteStatus.DRAFT, None)
        assert revision.lines == quote.lines and revision.coupon_codes == ("SPRING5",)
        assert revision.valid_until == quote.valid_until  # still valid: kept
        assert crm.get_quote(revision.id) == revision

    def test_revising_a_lapsed_quote_makes_it_valid_for_the_settings_period(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer)
        clock = crm.clock
        assert isinstance(clock, ManualClock)
        clock.advance(timedelta(days=40))
        revision = crm.revise_quote(quote.id)
        assert revision.valid_until == clock.now() + SETTINGS.valid_for
        until = clock.now() + timedelta(days=7)
        assert crm.revise_quote(revision.id, valid_until=until).valid_until == until

    def test_find_quotes_filters_by_customer_status_and_owner(
        self, crm: CRM, customer: Customer
    ) -> None:
        other = crm.register_customer("Huangpu Trading")
        first = crm.create_quote(customer.id, "TWD", owner="u_amy")
        advance(crm, timedelta(minutes=1))
        second = crm.create_quote(customer.id, "TWD", owner="u_bob")
        crm.create_quote(other.id, "TWD", owner="u_amy")
        mine = crm.find_quotes(customer_id=customer.id)
        assert [q.id for q in mine.items] == [second.id, first.id]
        assert [q.id for q in crm.find_quotes(customer_id=customer.id, owner="u_amy").items] == [
            first.id
        ]
        assert crm.find_quotes(status="sent").items == ()
        with pytest.raises(ValidationError, match="status"):
            crm.find_quotes(status="open")


# ----- pricing from the stored catalog -----------------------------------------------------------


class TestPricing:
    def test_a_customer_group_uses_its_price_book_and_other_currencies_are_ignored(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(
            customer.id,
            "TWD",
            customer_group="dealer",
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        )
        priced = crm.price_quote(quote.id)
        # Dealer book: 60 x 70 = 4,200 (list still 60 x 100 = 6,000); spring 10%: -420.
        assert (priced.list_total, priced.tier_total, priced.total) == (
            twd("6000.00"),
            twd("4200.00"),
            twd("3780.00"),
        )
        assert priced.lines[0].price_book_id == "pb_dealer"

    def test_the_rule_set_comes_from_the_command_or_the_settings(
        self, crm: CRM, customer: Customer
    ) -> None:
        crm.save_discount_rule_set(DiscountRuleSet.empty("rs_none"))
        quote = crm.create_quote(
            customer.id, "TWD", lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)]
        )
        assert crm.price_quote(quote.id).total == twd("4320.00")  # settings: spring 10%
        assert crm.price_quote(quote.id, rule_set_id="rs_none").total == twd("4800.00")
        with pytest.raises(NotFoundError, match="rs_404"):
            crm.price_quote(quote.id, rule_set_id="rs_404")

    def test_without_a_rule_set_only_manual_discounts_and_coupons_apply(
        self, customer: Customer, crm: CRM
    ) -> None:
        plain = bootstrap(store=crm.store, clock=crm.clock, pricing=PricingSettings())
        quote = plain.create_quote(
            customer.id,
            "TWD",
            coupon_codes=["SPRING5"],
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        )
        priced = plain.price_quote(quote.id)
        # 4,800 less the 5% coupon (240), no tax policy: 4,560 and no tax.
        assert (priced.total, priced.tax) == (twd("4560.00"), twd("0.00"))

    def test_a_coupon_that_cannot_be_used_is_listed_with_the_reason(
        self, crm: CRM, customer: Customer
    ) -> None:
        crm.create_coupon(
            Coupon(
                code="WINTER",
                name="Winter",
                percent=50,
                created_at=START - timedelta(days=90),
                valid_until=START - timedelta(days=1),
            )
        )
        quote = crm.create_quote(
            customer.id,
            "TWD",
            coupon_codes=["WINTER"],
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        )
        priced = crm.price_quote(quote.id)
        assert [(u.code, u.reason.value) for u in priced.unapplied] == [("WINTER", "expired")]
        assert priced.total == twd("4320.00")

    def test_an_unknown_product_fails_the_pricing_and_stores_nothing(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(
            customer.id, "TWD", lines=[QuoteLine(line_id="l1", sku="MATCHA", quantity=1)]
        )
        before = snapshot(crm)
        with pytest.raises(ValidationError, match="no product with sku 'MATCHA'"):
            crm.price_quote(quote.id)
        assert snapshot(crm) == before

    def test_a_product_without_a_price_in_the_currency_fails_the_pricing(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = crm.create_quote(
            customer.id, "CNY", lines=[QuoteLine(line_id="l1", sku="TEAPOT", quantity=1)]
        )
        before = snapshot(crm)
        with pytest.raises(RuleViolation, match="no CNY price book"):
            crm.price_quote(quote.id)
        assert snapshot(crm) == before

    def test_re_pricing_an_unchanged_approved_quote_changes_nothing(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer, coupon=False)
        quote = crm.revise_quote(quote.id)
        crm.price_quote(quote.id)
        approved = crm.submit_quote(quote.id)
        assert approved.status is QuoteStatus.APPROVED
        before = snapshot(crm)
        assert crm.price_quote(quote.id) == approved.priced
        assert snapshot(crm) == before

    def test_cash_rounding_and_no_approvals_come_from_the_settings(
        self, crm: CRM, customer: Customer
    ) -> None:
        cash = bootstrap(
            store=crm.store,
            clock=crm.clock,
            pricing=PricingSettings(tax=TW_VAT, cash=True, approvals=None),
        )
        quote = cash.create_quote(
            customer.id,
            "TWD",
            discount=ManualDiscount(percent=40),
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=3)],
        )
        priced = cash.price_quote(quote.id)
        # 3 x 100 = 300, 40% off: 180; VAT inside, 180 x 5/105 = 8.57 -> 9 in whole dollars.
        assert (priced.total, priced.tax) == (twd("180"), twd("9"))
        assert cash.submit_quote(quote.id).status is QuoteStatus.APPROVED


# ----- acceptance --------------------------------------------------------------------------------


class TestAcceptance:
    def test_accepting_twice_returns_the_quote_and_uses_the_coupon_once(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer)
        first = crm.accept_quote(quote.id)
        before = snapshot(crm)
        again = crm.accept_quote(quote.id)
        assert again == first
        assert snapshot(crm) == before
        assert crm.get_coupon("SPRING5").times_used == 1
        assert outbox_types(crm).count("pricing.QuoteAccepted") == 1

    def test_a_coupon_over_its_limit_fails_the_whole_acceptance(
        self, crm: CRM, customer: Customer
    ) -> None:
        quotes = [sent_quote(crm, customer) for _ in range(LIMIT + 1)]
        for quote in quotes[:LIMIT]:
            crm.accept_quote(quote.id)
        before = snapshot(crm)
        with pytest.raises(RuleViolation, match=r"usage limit \(2 uses\)"):
            crm.accept_quote(quotes[-1].id)
        assert snapshot(crm) == before
        assert crm.get_quote(quotes[-1].id).status is QuoteStatus.SENT
        assert crm.get_coupon("SPRING5").times_used == LIMIT

    def test_a_quote_without_coupons_is_accepted_alone(self, crm: CRM, customer: Customer) -> None:
        quote = sent_quote(crm, customer, coupon=False)
        assert crm.accept_quote(quote.id).status is QuoteStatus.ACCEPTED
        assert crm.get_coupon("SPRING5").times_used == 0

    def test_an_accepted_quote_carries_the_order_for_an_erp(
        self, crm: CRM, customer: Customer
    ) -> None:
        seen: list[Any] = []
        from crmkit.pricing.events import QuoteAccepted

        crm.bus.subscribe(QuoteAccepted, seen.append)
        quote = sent_quote(crm, customer)
        crm.accept_quote(quote.id)
        crm.accept_quote(quote.id)
        assert len(seen) == 1
        # 4,800 - 480 (spring) - 216 (coupon) = 4,104
        assert (seen[0].total, seen[0].coupon_codes) == (twd("4104.00"), ("SPRING5",))
        assert [(x.sku, x.quantity) for x in seen[0].lines] == [("TEA-500", Decimal(60))]

    def test_past_its_validity_a_sent_quote_cannot_be_accepted(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer)
        advance(crm, timedelta(days=30))
        with pytest.raises(RuleViolation, match="valid until"):
            crm.accept_quote(quote.id)
        assert crm.get_coupon("SPRING5").times_used == 0


class _StaleOnce:
    """A unit of work whose first coupon save meets a concurrent acceptance (a stale save)."""

    def __init__(self, uow: Any, hits: list[int]) -> None:
        self._uow = uow
        self._hits = hits
        self.coupons = self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def get(self, id: str) -> Any:
        return self._uow.coupons.get(id)

    def save(self, coupon: Any) -> None:
        self._hits.append(1)
        if len(self._hits) == 1:
            raise ConcurrencyError.stale("coupons", coupon.id, expected=1, actual=2)
        self._uow.coupons.save(coupon)


def test_a_stale_acceptance_is_retried_from_a_fresh_read(crm: CRM, customer: Customer) -> None:
    from crmkit.access import AllowAll
    from crmkit.app.quotes import accept_quote

    quote = sent_quote(crm, customer)
    hits: list[int] = []
    with crm.store.unit_of_work() as uow:
        accepted = accept_quote(
            AcceptQuote(quote.id),
            _StaleOnce(uow, hits),  # type: ignore[arg-type]
            clock=crm.clock,
            policy=AllowAll(),
            settings=SETTINGS,
        )
    assert len(hits) == 2 and accepted.status is QuoteStatus.ACCEPTED
    assert crm.get_coupon("SPRING5").times_used == 1
    assert crm.get_quote(quote.id).version == accepted.version


def test_a_stale_acceptance_gives_up_after_the_settings_attempts(
    crm: CRM, customer: Customer
) -> None:
    from crmkit.access import AllowAll
    from crmkit.app.quotes import accept_quote

    quote = sent_quote(crm, customer)
    before = snapshot(crm)
    hits: list[int] = []

    class AlwaysStale(_StaleOnce):
        def save(self, coupon: Any) -> None:
            self._hits.append(1)
            raise ConcurrencyError.stale("coupons", coupon.id, expected=1, actual=2)

    with crm.store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
        accept_quote(
            AcceptQuote(quote.id),
            AlwaysStale(uow, hits),  # type: ignore[arg-type]
            clock=crm.clock,
            policy=AllowAll(),
            settings=PricingSettings(accept_attempts=3),
        )
    assert len(hits) == 3
    assert snapshot(crm) == before


# ----- expiry ------------------------------------------------------------------------------------


class TestExpiry:
    def test_the_scheduler_expires_open_quotes_past_their_validity(
        self, crm: CRM, customer: Customer
    ) -> None:
        clock = crm.clock
        assert isinstance(clock, ManualClock)
        soon = crm.create_quote(customer.id, "TWD", valid_until=START + timedelta(days=5))
        # The same kind of moment written in UTC: 10 days after START, 01:00 UTC = 09:00 TPE.
        later = crm.create_quote(
            customer.id,
            "TWD",
            valid_until=(START + timedelta(days=10)).astimezone(timezone.utc),
        )
        won = sent_quote(crm, customer, valid_until=START + timedelta(days=5))
        crm.accept_quote(won.id)

        assert crm.expire_due_quotes().expired == ()
        clock.advance(timedelta(days=7))
        run = crm.expire_due_quotes(actor="scheduler")
        assert run == QuoteExpiryRun(at=clock.now(), expired=(soon.id,))
        assert crm.get_quote(soon.id).status is QuoteStatus.EXPIRED
        assert crm.get_quote(won.id).status is QuoteStatus.ACCEPTED
        clock.advance(timedelta(days=3))  # exactly at later's valid_until: due
        assert crm.expire_due_quotes().expired == (later.id,)
        assert crm.expire_due_quotes().expired == ()

    def test_one_quote_expires_only_once_its_validity_passed(
        self, crm: CRM, customer: Customer
    ) -> None:
        quote = sent_quote(crm, customer)
        before = snapshot(crm)
        with pytest.raises(RuleViolation, match="cannot expire before then"):
            crm.expire_quote(quote.id)
        assert snapshot(crm) == before
        advance(crm, timedelta(days=30))
        assert crm.expire_quote(quote.id).status is QuoteStatus.EXPIRED

    def test_a_quote_changed_during_the_run_is_skipped(self) -> None:
        class Racing:
            """A store whose quote saves see a concurrent change to quote ``quo_000001``."""

            def __init__(self, store: MemoryStore) -> None:
                self._store = store
                self.outbox = store.outbox

            def unit_of_work(self) -> Any:
                uow = self._store.unit_of_work()
                save = uow.quotes.save

                def racing_save(quote: Quote) -> None:
                    if quote.id == "quo_000001":
                        raise ConcurrencyError.stale("quotes", quote.id, expected=1, actual=2)
                    save(quote)

                uow.quotes.save = racing_save  # type: ignore[method-assign]
                return uow

        store = MemoryStore()
        setup = bootstrap(store=store, clock=ManualClock(START), ids=SequentialIds())
        cus = setup.register_customer("Acme")
        first = setup.create_quote(cus.id, "TWD", valid_until=START + timedelta(days=1))
        second = setup.create_quote(cus.id, "TWD", valid_until=START + timedelta(days=1))
        clock = ManualClock(START + timedelta(days=2))
        crm = bootstrap(store=Racing(store), clock=clock)  # type: ignore[arg-type]
        run = crm.expire_due_quotes()
        assert (run.expired, run.skipped) == ((second.id,), (first.id,))
        assert crm.get_quote(first.id).status is QuoteStatus.DRAFT


# ----- catalog admin -----------------------------------------------------------------------------


class TestCatalogAdmin:
    def test_a_fresh_product_replaces_the_stored_one(self, crm: CRM, customer: Customer) -> None:
        renamed = crm.upsert_product(attrs.evolve(TEA, name="Oolong tea, 500 g tin"))
        assert (renamed.name, renamed.version) == ("Oolong tea, 500 g tin", 2)
        assert TEA.version == 0  # the caller's object is not touched

    def test_a_loaded_price_book_must_still_be_current(self, crm: CRM, customer: Customer) -> None:
        with crm.store.unit_of_work() as uow:
            loaded = uow.price_books.get("pb_twd")
        crm.upsert_price_book(attrs.evolve(loaded, name="Standard TWD 2026"))
        with pytest.raises(ConcurrencyError):
            crm.upsert_price_book(attrs.evolve(loaded, name="Standard TWD (stale)"))
        with crm.store.unit_of_work() as uow:
            assert uow.price_books.get("pb_twd").name == "Standard TWD 2026"

    def test_a_new_rule_set_version_prices_new_quotes(self, crm: CRM, customer: Customer) -> None:
        deeper = attrs.evolve(
            SPRING,
            promotions=[attrs.evolve(SPRING.promotions[0], percent=Decimal(20))],
        )
        assert crm.save_discount_rule_set(deeper).version == 2
        quote = crm.create_quote(
            customer.id, "TWD", lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)]
        )
        assert crm.price_quote(quote.id).total == twd("3840.00")  # 4,800 less 20%

    def test_a_coupon_is_created_once(self, crm: CRM, customer: Customer) -> None:
        with pytest.raises(DuplicateError):
            crm.create_coupon(spring5())
        with pytest.raises(ValidationError, match=r"coupon\.version"):
            crm.create_coupon(crm.get_coupon("SPRING5"))
        used = spring5()
        used.redeem("quo_x", "cus_x", START)
        used.pull_events()
        with pytest.raises(ValidationError, match=r"coupon\.redemptions"):
            crm.create_coupon(attrs.evolve(used, code="OTHER", id=Coupon.id_for("OTHER")))

    def test_create_quote_needs_a_known_customer_and_known_coupons(
        self, crm: CRM, customer: Customer
    ) -> None:
        before = snapshot(crm)
        with pytest.raises(NotFoundError, match="cus_404"):
            crm.create_quote("cus_404", "TWD")
        with pytest.raises(NotFoundError, match="no coupon with code NOPE"):
            crm.create_quote(customer.id, "TWD", coupon_codes=["SPRING5", "NOPE"])
        assert snapshot(crm) == before
        quote = crm.create_quote(customer.id, "TWD")
        before = snapshot(crm)
        with pytest.raises(NotFoundError, match="NOPE"):
            crm.apply_coupon(quote.id, "nope")
        assert snapshot(crm) == before


# ----- the access policy -------------------------------------------------------------------------


class DenyEve:
    """Allows everyone but ``u_eve``, and records what ``u_eve`` asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object | None]] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        if actor == "u_eve":
            self.asked.append((action, resource))
            raise PermissionDeniedError(f"{actor!r} may not {action}")


Run = Callable[[CRM, str], object]
EVE = "u_eve"

DENIED: list[tuple[str, type | None, Run]] = [
    ("catalog.manage", Product, lambda crm, q: crm.upsert_product(TEAPOT, actor=EVE)),
    ("catalog.manage", PriceBook, lambda crm, q: crm.upsert_price_book(YUAN, actor=EVE)),
    (
        "catalog.manage",
        DiscountRuleSet,
        lambda crm, q: crm.save_discount_rule_set(SPRING, actor=EVE),
    ),
    (
        "catalog.manage",
        Coupon,
        lambda crm, q: crm.create_coupon(
            attrs.evolve(spring5(), code="XMAS", id="coupon_XMAS"), actor=EVE
        ),
    ),
    ("quotes.create", Customer, lambda crm, q: crm.create_quote("cus_000001", "TWD", actor=EVE)),
    ("quotes.edit", Quote, lambda crm, q: crm.add_quote_line(q, "TEAPOT", 1, actor=EVE)),
    (
        "quotes.edit",
        Quote,
        lambda crm, q: crm.update_quote_line(
            q, QuoteLine(line_id="l1", sku="TEA-500", quantity=1), actor=EVE
        ),
    ),
    ("quotes.edit", Quote, lambda crm, q: crm.remove_quote_line(q, "l1", actor=EVE)),
    ("quotes.edit", Quote, lambda crm, q: crm.apply_coupon(q, "SPRING5", actor=EVE)),
    ("quotes.edit", Quote, lambda crm, q: crm.remove_coupon(q, "SPRING5", actor=EVE)),
    ("quotes.edit", Quote, lambda crm, q: crm.set_quote_discount(q, None, actor=EVE)),
    ("quotes.price", Quote, lambda crm, q: crm.price_quote(q, actor=EVE)),
    ("quotes.submit", Quote, lambda crm, q: crm.submit_quote(q, actor=EVE)),
    ("quotes.approve", ApprovalRequest, lambda crm, q: crm.approve_quote(q, "x", actor=EVE)),
    (
        "quotes.approve",
        ApprovalRequest,
        lambda crm, q: crm.reject_quote_approval(q, "x", actor=EVE),
    ),
    ("quotes.send", Quote, lambda crm, q: crm.send_quote(q, actor=EVE)),
    ("quotes.accept", Quote, lambda crm, q: crm.accept_quote(q, actor=EVE)),
    ("quotes.reject", Quote, lambda crm, q: crm.reject_quote(q, actor=EVE)),
    ("quotes.expire", Quote, lambda crm, q: crm.expire_quote(q, actor=EVE)),
    ("quotes.expire", None, lambda crm, q: crm.expire_due_quotes(actor=EVE)),
    ("quotes.revise", Quote, lambda crm, q: crm.revise_quote(q, actor=EVE)),
]


class TestAccessPolicy:
    @pytest.mark.parametrize(
        ("action", "resource", "run"),
        DENIED,
        ids=[f"{i}-{a}" for i, (a, _, _) in enumerate(DENIED)],
    )
    def test_a_denied_command_stores_nothing(
        self, action: str, resource: type | None, run: Run
    ) -> None:
        policy = DenyEve()
        crm = bootstrap(
            clock=ManualClock(START), ids=SequentialIds(), policy=policy, pricing=SETTINGS
        )
        seed(crm)
        quote = sent_quote(crm, crm.find_customers().items[0])
        advance(crm, timedelta(days=31))
        before = snapshot(crm)
        with crm.store.unit_of_work() as uow:
            catalog_before = (
                to_json(uow.products.get("TEAPOT")),
                len(uow.price_books.query(Query()).items),
            )
        with pytest.raises(PermissionDeniedError, match=action):
            run(crm, quote.id)
        assert [a for a, _ in policy.asked] == [action]
        asked = policy.asked[0][1]
        if resource is None:
            assert asked is None
        else:
            assert isinstance(asked, resource)
        if isinstance(asked, ApprovalRequest):
            assert (asked.quote.id, asked.role) == (quote.id, "x")
        assert snapshot(crm) == before
        with crm.store.unit_of_work() as uow:
            assert catalog_before == (
                to_json(uow.products.get("TEAPOT")),
                len(uow.price_books.query(Query()).items),
            )

    def test_the_policy_decides_who_holds_an_approval_role(self) -> None:
        roles = {"u_lin": {"sales_manager"}, "u_dir": {"sales_manager", "director"}}

        class RolePolicy:
            def check(self, actor: str | None, action: str, resource: object = None) -> None:
                if isinstance(resource, ApprovalRequest) and resource.role not in roles.get(
                    actor or "", set()
                ):
                    raise PermissionDeniedError(f"{actor} is not a {resource.role}")

        crm = bootstrap(
            clock=ManualClock(START), ids=SequentialIds(), policy=RolePolicy(), pricing=SETTINGS
        )
        customer = seed(crm)
        quote = crm.create_quote(
            customer.id,
            "TWD",
            discount=ManualDiscount(percent=30),
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        )
        crm.price_quote(quote.id)
        crm.submit_quote(quote.id)
        crm.approve_quote(quote.id, "sales_manager", actor="u_lin")
        with pytest.raises(PermissionDeniedError, match="u_lin is not a director"):
            crm.approve_quote(quote.id, "director", actor="u_lin")
        with pytest.raises(PermissionDeniedError):
            crm.reject_quote_approval(quote.id, "director", actor="u_lin")
        assert crm.approve_quote(quote.id, "director", actor="u_dir").status is (
            QuoteStatus.APPROVED
        )


# ----- malformed input ---------------------------------------------------------------------------

NAIVE = datetime(2026, 4, 1, 9, 0)
Call = Callable[[CRM, str], Any]

MALFORMED: list[tuple[str, Call]] = [
    ("currency", lambda crm, q: crm.create_quote("cus_000001", "NTD")),
    ("valid_until", lambda crm, q: crm.create_quote("cus_000001", "TWD", valid_until=NAIVE)),
    ("customer_id", lambda crm, q: crm.create_quote("", "TWD")),
    ("lines[0]", lambda crm, q: crm.create_quote("cus_000001", "TWD", lines=["TEA-500"])),
    ("coupon_codes", lambda crm, q: crm.create_quote("cus_000001", "TWD", coupon_codes="X1")),
    (
        "discount.amount",
        lambda crm, q: crm.create_quote(
            "cus_000001", "TWD", discount=ManualDiscount(amount=Money("5", "USD"))
        ),
    ),
    ("quantity", lambda crm, q: crm.add_quote_line(q, "TEA-500", 1.5)),  # type: ignore[arg-type]
    ("quantity", lambda crm, q: crm.add_quote_line(q, "TEA-500", -1)),
    ("line_id", lambda crm, q: crm.add_quote_line(q, "TEA-500", 1, line_id="l 1")),
    ("line", lambda crm, q: crm.update_quote_line(q, {"line_id": "l1"})),  # type: ignore[arg-type]
    ("discount", lambda crm, q: crm.set_quote_discount(q, "10%")),  # type: ignore[arg-type]
    ("code", lambda crm, q: crm.apply_coupon(q, "")),
    ("rule_set_id", lambda crm, q: crm.price_quote(q, rule_set_id="rs spring")),
    ("actor", lambda crm, q: crm.approve_quote(q, "sales_manager", actor="")),
    ("role", lambda crm, q: crm.approve_quote(q, "", actor="u_lin")),
    ("valid_until", lambda crm, q: crm.revise_quote(q, valid_until=NAIVE)),
    ("product", lambda crm, q: crm.upsert_product("TEA-500")),  # type: ignore[arg-type]
    ("rule_set", lambda crm, q: crm.save_discount_rule_set(None)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("path", "call"), MALFORMED, ids=[p for p, _ in MALFORMED])
def test_malformed_input_is_a_validation_error_naming_the_field(
    crm: CRM, customer: Customer, path: str, call: Call
) -> None:
    quote = crm.create_quote(
        customer.id, "TWD", lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=1)]
    )
    before = snapshot(crm)
    with pytest.raises(ValidationError) as info:
        call(crm, quote.id)
    assert path in [e.path for e in info.value.errors], info.value
    assert snapshot(crm) == before


# ----- settings ----------------------------------------------------------------------------------


class TestSettings:
    def test_settings_round_trip_as_data(self) -> None:
        custom = PricingSettings(
            approvals=ApprovalPolicy(
                levels=[ApprovalLevel("manager", 5), ApprovalLevel("vp", 15)],
                basis="manual_discounts",
            ),
            tax=TW_VAT,
            cash=True,
            rule_set_id="rs_spring",
            valid_for=timedelta(days=14),
            accept_attempts=3,
        )
        for settings_ in (PricingSettings(), custom, PricingSettings(approvals=None)):
            assert structure(unstructure(settings_), PricingSettings) == settings_

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("approvals", "default"),
            ("tax", {"standard": 5}),
            ("cash", 1),
            ("rule_set_id", ""),
            ("valid_for", timedelta(0)),
            ("accept_attempts", 0),
            ("accept_attempts", True),
        ],
    )
    def test_bad_settings_name_the_field(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError) as info:
            PricingSettings(**{field: value})
        assert [e.path for e in info.value.errors] == [field]

    def test_bootstrap_wants_pricing_settings(self) -> None:
        with pytest.raises(ValidationError, match="must be PricingSettings"):
            bootstrap(pricing={"cash": True})  # type: ignore[arg-type]

    def test_a_quote_is_valid_for_the_settings_period_by_default(self) -> None:
        crm = bootstrap(
            clock=ManualClock(START), pricing=PricingSettings(valid_for=timedelta(days=7))
        )
        customer = crm.register_customer("Acme")
        assert crm.create_quote(customer.id, "TWD").valid_until == START + timedelta(days=7)


# ----- a stateful run ----------------------------------------------------------------------------


class QuoteMachine(RuleBasedStateMachine):
    """Random commands through the facade; a refused one must leave the store as it was."""

    quotes = Bundle("quotes")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.crm = bootstrap(clock=self.clock, ids=SequentialIds(), pricing=SETTINGS)
        self.customer = seed(self.crm).id
        self.accepted_events = 0

    def attempt(self, run: Callable[[], object]) -> object | None:
        before = snapshot(self.crm)
        try:
            result = run()
        except CRMError:
            assert snapshot(self.crm) == before
            return None
        if isinstance(result, Quote):
            assert self.crm.get_quote(result.id) == result
        return result

    @rule(target=quotes, days=st.integers(1, 20), coupon=st.booleans(), n=st.integers(1, 80))
    def create(self, days: int, coupon: bool, n: int) -> str:
        quote = self.crm.create_quote(
            self.customer,
            "TWD",
            owner="u_amy",
            valid_until=self.clock.now() + timedelta(days=days),
            coupon_codes=["SPRING5"] if coupon else [],
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=n)],
        )
        return quote.id

    @rule(q=quotes, steps=st.integers(1, 6))
    def move_on(self, q: str, steps: int) -> None:
        """Take the steps that move the quote on: price, submit, approve, send, accept."""
        for _ in range(steps):
            quote = self.crm.get_quote(q)
            if quote.status is QuoteStatus.DRAFT and quote.priced is None:
                self.price(q)
            elif quote.status is QuoteStatus.DRAFT:
                self.submit(q)
            elif quote.status is QuoteStatus.PENDING_APPROVAL:
                self.decide(q, approve=True, by="u_lin")
            elif quote.status is QuoteStatus.APPROVED:
                self.send(q)
            elif quote.status is QuoteStatus.SENT:
                self.accept(q)

    @rule(q=quotes, sku=st.sampled_from(["TEA-500", "TEAPOT", "MATCHA"]), n=st.integers(1, 80))
    def add_line(self, q: str, sku: str, n: int) -> None:
        self.attempt(lambda: self.crm.add_quote_line(q, sku, n))

    @rule(q=quotes, percent=st.sampled_from([None, 5, 15, 30]))
    def set_discount(self, q: str, percent: int | None) -> None:
        discount = None if percent is None else ManualDiscount(percent=percent)
        self.attempt(lambda: self.crm.set_quote_discount(q, discount))

    @rule(q=quotes, add=st.booleans())
    def coupon(self, q: str, add: bool) -> None:
        change = self.crm.apply_coupon if add else self.crm.remove_coupon
        self.attempt(lambda: change(q, "SPRING5"))

    @rule(q=quotes)
    def price(self, q: str) -> None:
        priced = self.attempt(lambda: self.crm.price_quote(q))
        if priced is not None:
            assert self.crm.get_quote(q).priced == priced

    @rule(q=quotes)
    def submit(self, q: str) -> None:
        self.attempt(lambda: self.crm.submit_quote(q))

    @rule(q=quotes, approve=st.booleans(), by=st.sampled_from(["u_amy", "u_lin"]))
    def decide(self, q: str, approve: bool, by: str) -> None:
        pending = self.crm.get_quote(q).pending_approvals
        role = pending[0] if pending else "sales_manager"
        decide = self.crm.approve_quote if approve else self.crm.reject_quote_approval
        self.attempt(lambda: decide(q, role, actor=by))

    @rule(q=quotes)
    def send(self, q: str) -> None:
        self.attempt(lambda: self.crm.send_quote(q))

    @rule(q=quotes)
    def accept(self, q: str) -> None:
        was = self.crm.get_quote(q).status
        if self.attempt(lambda: self.crm.accept_quote(q)) is not None and was is not (
            QuoteStatus.ACCEPTED
        ):
            self.accepted_events += 1

    @rule(q=quotes)
    def reject(self, q: str) -> None:
        self.attempt(lambda: self.crm.reject_quote(q, reason="no"))

    @rule(target=quotes, q=quotes)
    def revise(self, q: str) -> str:
        revision = self.attempt(lambda: self.crm.revise_quote(q))
        return revision.id if isinstance(revision, Quote) else q

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @rule()
    def expire_due(self) -> None:
        run = self.crm.expire_due_quotes()
        assert run.skipped == ()
        for quote_id in run.expired:
            assert self.crm.get_quote(quote_id).status is QuoteStatus.EXPIRED

    @invariant()
    def coupon_uses_match_accepted_quotes(self) -> None:
        quotes = stored_quotes(self.crm)
        accepted = [q for q in quotes if q.status is QuoteStatus.ACCEPTED]
        using = sorted(q.id for q in accepted if "SPRING5" in q.applied_coupon_codes)
        coupon = self.crm.get_coupon("SPRING5")
        assert sorted(r.quote_id for r in coupon.redemptions) == using
        assert coupon.times_used <= LIMIT
        assert len(accepted) == self.accepted_events
        assert outbox_types(self.crm).count("pricing.QuoteAccepted") == self.accepted_events

    @invariant()
    def states_hang_together(self) -> None:
        quotes = {q.id: q for q in stored_quotes(self.crm)}
        for quote in quotes.values():
            if quote.status in (QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED):
                assert quote.priced is not None
            if quote.status in (QuoteStatus.SENT, QuoteStatus.ACCEPTED):
                assert quote.priced is not None and quote.sent_at is not None
            if quote.priced is not None:
                assert quote.priced.total.amount >= 0
                assert quote.priced.total.amount <= quote.priced.list_total.amount
            if quote.status is QuoteStatus.SUPERSEDED:
                assert quote.superseded_by is not None
                assert quote.superseded_by in quotes
                assert quotes[quote.superseded_by].previous_revision_id == quote.id


QuoteMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=40, deadline=None)
TestQuoteMachine = QuoteMachine.TestCase
