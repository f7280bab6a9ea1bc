"""The Quote aggregate: editing, pricing, approvals, sending, acceptance, revisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.pricing import (
    ApprovalPolicy,
    Coupon,
    ManualDiscount,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from crmkit.pricing.engine import _example_setup

CATALOG, RULES, TAX, NOW = _example_setup()
POLICY = ApprovalPolicy.default()


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def new_quote(percent: int = 20, **kw: object) -> Quote:
    fields: dict[str, object] = {
        "id": "q_1",
        "customer_id": "cus_1",
        "currency": "TWD",
        "now": NOW,
        "valid_until": NOW + timedelta(days=30),
        "owner": "u_amy",
        "lines": [
            QuoteLine(
                line_id="l1", sku="TEA-500", quantity=60, discount=ManualDiscount(percent=percent)
            )
        ],
    }
    fields.update(kw)
    return Quote.create(**fields)  # type: ignore[arg-type]


def priced(quote: Quote, **kw: object) -> Quote:
    quote.price(CATALOG, RULES, now=NOW, tax=TAX, approvals=POLICY, **kw)  # type: ignore[arg-type]
    return quote


def event_types(quote: Quote) -> list[str]:
    return [e.event_type.removeprefix("pricing.") for e in quote.pull_events()]


def test_the_happy_path_with_two_approvals():
    """60 boxes: tier 4,800; promotion 10% -> 4,320; manual 20% -> 3,456 (28% off)."""
    quote = priced(new_quote())
    assert quote.required_approvals == ("sales_manager", "director")
    quote.submit(now=NOW)
    assert quote.status is QuoteStatus.PENDING_APPROVAL
    assert quote.pending_approvals == ("sales_manager", "director")
    quote.approve("sales_manager", by="u_mgr", now=NOW, comment="strategic account")
    assert quote.status is QuoteStatus.PENDING_APPROVAL
    quote.approve("director", by="u_dir", now=NOW + timedelta(hours=1))
    assert quote.status is QuoteStatus.APPROVED
    quote.send(now=NOW)
    quote.accept(now=NOW + timedelta(days=2))

    assert quote.status is QuoteStatus.ACCEPTED
    assert [(a.role, a.by, a.approved, a.comment) for a in quote.approvals] == [
        ("sales_manager", "u_mgr", True, "strategic account"),
        ("director", "u_dir", True, None),
    ]
    assert event_types(quote) == [
        "QuoteCreated",
        "QuotePriced",
        "QuoteSubmitted",
        "QuoteApprovalDecided",
        "QuoteApprovalDecided",
        "QuoteApproved",
        "QuoteSent",
        "QuoteAccepted",
    ]


def test_acceptance_records_what_an_erp_needs():
    quote = priced(new_quote(percent=5))
    quote.submit(now=NOW)
    quote.approve("sales_manager", by="u_mgr", now=NOW)  # 696 off 4,800 = 14.5%
    quote.send(now=NOW)
    quote.pull_events()
    quote.accept(now=NOW, actor="u_amy")
    [accepted] = quote.pull_events()

    assert (accepted.customer_id, accepted.currency, accepted.revision) == ("cus_1", "TWD", 1)
    [order_line] = accepted.lines
    # 4,800 -> promotion 480 -> 4,320 -> manual 5% = 216 -> 4,104 incl. 5% VAT (195.43)
    assert (order_line.sku, order_line.quantity, order_line.list_price) == ("TEA-500", 60, twd(100))
    assert (order_line.price_book_amount, order_line.discount, order_line.amount) == (
        twd(4800),
        twd(696),
        twd(4104),
    )
    assert (order_line.tax, order_line.total) == (twd("195.43"), twd(4104))
    assert (accepted.total, accepted.tax, accepted.tax_included) == (twd(4104), twd("195.43"), True)


def test_a_quote_over_a_threshold_cannot_be_sent_before_approval():
    quote = priced(new_quote())
    with pytest.raises(RuleViolation, match="cannot send"):
        quote.send(now=NOW)
    quote.submit(now=NOW)
    with pytest.raises(RuleViolation, match="cannot send"):
        quote.send(now=NOW)


def test_a_quote_without_a_threshold_is_approved_on_submit():
    quote = priced(new_quote(percent=0))  # 10% promotion only: not over 10%
    quote.submit(now=NOW)

    assert quote.status is QuoteStatus.APPROVED
    assert quote.required_approvals == ()


def test_approvals_go_in_order_and_not_by_the_owner():
    quote = priced(new_quote())
    quote.submit(now=NOW)
    with pytest.raises(RuleViolation, match="approves after 'sales_manager'"):
        quote.approve("director", by="u_dir", now=NOW)
    with pytest.raises(RuleViolation, match="owns quote"):
        quote.approve("sales_manager", by="u_amy", now=NOW)
    with pytest.raises(RuleViolation, match="does not wait for role 'cfo'"):
        quote.approve("cfo", by="u_x", now=NOW)
    assert quote.approvals == ()


def test_a_rejected_approval_sends_the_quote_back_to_draft_and_is_recorded():
    quote = priced(new_quote())
    quote.submit(now=NOW)
    quote.approve("sales_manager", by="u_mgr", now=NOW)
    quote.reject_approval("director", by="u_dir", now=NOW, comment="too deep")

    assert quote.status is QuoteStatus.DRAFT
    assert quote.current_approvals == ()
    assert [(a.role, a.approved, a.comment, a.round) for a in quote.approvals] == [
        ("sales_manager", True, None, 0),
        ("director", False, "too deep", 0),
    ]


def test_changing_a_priced_line_after_approval_resets_it():
    quote = priced(new_quote())
    quote.submit(now=NOW)
    quote.approve("sales_manager", by="u_mgr", now=NOW)
    quote.approve("director", by="u_dir", now=NOW)
    quote.pull_events()
    quote.update_line(
        QuoteLine(line_id="l1", sku="TEA-500", quantity=61, discount=ManualDiscount(percent=20)),
        now=NOW,
    )

    assert quote.status is QuoteStatus.DRAFT
    assert quote.priced is None
    assert quote.required_approvals == ()
    assert quote.current_approvals == ()
    assert len(quote.approvals) == 2  # history stays
    assert event_types(quote) == ["QuoteApprovalReset", "QuoteEdited"]
    with pytest.raises(RuleViolation, match="must be priced"):
        quote.submit(now=NOW)


def test_re_pricing_to_the_same_result_keeps_the_approval():
    quote = priced(new_quote())
    quote.submit(now=NOW)
    quote.approve("sales_manager", by="u_mgr", now=NOW)
    quote.approve("director", by="u_dir", now=NOW)
    quote.pull_events()
    quote.price(CATALOG, RULES, now=NOW + timedelta(hours=1), tax=TAX, approvals=POLICY)

    assert quote.status is QuoteStatus.APPROVED
    assert quote.pull_events() == []


def test_no_edits_after_sending_revise_instead():
    quote = priced(new_quote(percent=0))
    quote.submit(now=NOW)
    quote.send(now=NOW)
    before = quote.lines
    with pytest.raises(RuleViolation, match="revise it"):
        quote.add_line(QuoteLine(line_id="l2", sku="TEA-500", quantity=1), now=NOW)
    assert quote.lines == before

    revision = quote.revise(new_id="q_2", now=NOW, valid_until=NOW + timedelta(days=60))
    assert (quote.status, quote.superseded_by) == (QuoteStatus.SUPERSEDED, "q_2")
    assert quote.priced is not None  # the old revision stays readable
    assert (revision.revision, revision.previous_revision_id, revision.status) == (
        2,
        "q_1",
        QuoteStatus.DRAFT,
    )
    assert revision.lines == quote.lines
    assert revision.priced is None
    assert [e.event_type for e in revision.pending_events] == ["pricing.QuoteCreated"]


def test_accepted_quotes_are_frozen():
    quote = priced(new_quote(percent=0))
    quote.submit(now=NOW)
    quote.send(now=NOW)
    quote.accept(now=NOW)
    snapshot = quote.priced
    for action in (
        lambda: quote.add_line(QuoteLine(line_id="l2", sku="TEA-500", quantity=1), now=NOW),
        lambda: quote.price(CATALOG, RULES, now=NOW, tax=TAX),
        lambda: quote.revise(new_id="q_2", now=NOW),
        lambda: quote.reject(now=NOW),
        lambda: quote.expire(now=NOW + timedelta(days=90)),
        lambda: quote.set_discount(ManualDiscount(percent=1), now=NOW),
    ):
        with pytest.raises(RuleViolation):
            action()
    assert quote.priced is snapshot
    assert quote.status is QuoteStatus.ACCEPTED


def test_expiry_and_validity():
    quote = priced(new_quote(percent=0))
    quote.submit(now=NOW)
    quote.send(now=NOW)
    late = NOW + timedelta(days=31)
    with pytest.raises(RuleViolation, match="valid until"):
        quote.accept(now=late)
    with pytest.raises(RuleViolation, match="cannot expire before"):
        quote.expire(now=NOW)
    quote.expire(now=late)
    assert quote.status is QuoteStatus.EXPIRED
    revision = quote.revise(new_id="q_2", now=late, valid_until=late + timedelta(days=30))
    assert revision.valid_until == late + timedelta(days=30)


def test_customer_rejection():
    quote = priced(new_quote(percent=0))
    quote.submit(now=NOW)
    quote.send(now=NOW)
    quote.reject(now=NOW, reason="price too high")
    assert (quote.status, quote.rejection_reason) == (QuoteStatus.REJECTED, "price too high")


def test_coupons_on_the_quote_and_redeeming_the_applied_ones():
    coupon = Coupon(code="TEA5", name="Tea 5%", created_at=NOW, percent=5, usage_limit=1)
    quote = new_quote(percent=0, coupon_codes=["tea5", "NOSUCH"])
    assert quote.coupon_codes == ("NOSUCH", "TEA5")
    priced(quote, coupons=[coupon])

    assert quote.applied_coupon_codes == ("TEA5",)
    quote.submit(now=NOW)
    quote.approve("sales_manager", by="u_mgr", now=NOW)  # 10% promotion + 5% coupon
    quote.send(now=NOW)
    quote.accept(now=NOW)
    assert quote.applied_coupon_codes == ("TEA5",)
    assert coupon.redeem(quote.id, quote.customer_id, NOW)
    assert not coupon.redeem(quote.id, quote.customer_id, NOW)  # idempotent per quote
    assert coupon.times_used == 1


def test_editing_commands():
    quote = new_quote(percent=0)
    quote.add_line(QuoteLine(line_id="l2", sku="TEA-500", quantity=3), now=NOW)
    quote.remove_line("l1", now=NOW)
    quote.apply_coupon(" tea5 ", now=NOW)
    quote.apply_coupon("TEA5", now=NOW)
    quote.set_discount(ManualDiscount(amount=twd(50)), now=NOW)
    quote.remove_coupon("tea5", now=NOW)

    assert [x.line_id for x in quote.lines] == ["l2"]
    assert quote.coupon_codes == ()
    assert quote.discount == ManualDiscount(amount=twd(50))
    with pytest.raises(ValidationError, match="used twice"):
        quote.add_line(QuoteLine(line_id="l2", sku="TEA-500", quantity=1), now=NOW)
    with pytest.raises(ValidationError, match="no line 'l9'"):
        quote.remove_line("l9", now=NOW)
    with pytest.raises(ValidationError, match="USD"):
        quote.set_discount(ManualDiscount(amount=Money("1", "USD")), now=NOW)
    assert quote.discount == ManualDiscount(amount=twd(50))


def test_creation_is_validated():
    with pytest.raises(ValidationError, match="must be after now"):
        new_quote(valid_until=NOW)
    with pytest.raises(ValidationError, match="currency"):
        new_quote(currency="twd")
    with pytest.raises(RuleViolation, match="no lines"):
        Quote.create(
            id="q_9", customer_id="c", currency="TWD", now=NOW, valid_until=NOW + timedelta(days=1)
        ).price(CATALOG, RULES, now=NOW)


def test_a_revision_chain_keeps_every_revision_readable():
    first = priced(new_quote(percent=0))
    second = first.revise(new_id="q_2", now=NOW)
    third = second.revise(new_id="q_3", now=NOW)

    assert [q.revision for q in (first, second, third)] == [1, 2, 3]
    assert third.previous_revision_id == "q_2"
    assert second.superseded_by == "q_3"
    with pytest.raises(RuleViolation):
        first.revise(new_id="q_4", now=NOW)
