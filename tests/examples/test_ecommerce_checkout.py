"""The e-commerce checkout example (examples/ecommerce_checkout): what a shop relies on.

Totals are exact and follow the shop's rules (checked against the rules worked by hand, for
any cart); a repeated "order paid" callback earns once and counts the coupon once; a refund
takes the points back, once per refund reference; a coupon that is unknown or cannot be used
is refused with a CRMError code, and a refused call stores nothing a customer would see.

The example is a package in ``examples/``; it is loaded from its path under its own name, so
nothing else in ``examples/`` becomes importable.
"""

from __future__ import annotations

import importlib
import sys
import types
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, Money
from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.http import problem_details
from crmkit.kernel import SequentialIds
from crmkit.loyalty import EntryKind

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "examples" / "ecommerce_checkout"
START = datetime(2026, 3, 20, 14, 0, tzinfo=ZoneInfo("Asia/Taipei"))


def _load_package() -> types.ModuleType:
    """Import examples/ecommerce_checkout as ``ecommerce_checkout`` (examples/ is on the path
    only while it is imported)."""
    examples = str(PACKAGE_DIR.parent)
    sys.path.insert(0, examples)
    try:
        return importlib.import_module("ecommerce_checkout")
    finally:
        sys.path.remove(examples)


_load_package()
from ecommerce_checkout import CartItem, Checkout, CouponRefused, demo_crm  # noqa: E402


def twd(amount: int | str) -> Money:
    return Money(str(amount), "TWD")


def expected_total(tins: int, teapots: int, *, coupon: bool) -> Money:
    """The shop's rules worked by hand (shop.py): tier from 5 tins, 10% off tea, NT$100 coupon."""
    tin = Decimal(450 if tins >= 5 else 480) * Decimal("0.9")  # the spring festival
    total = tin * tins + 1800 * teapots
    if coupon and total >= 1000:  # the coupon's minimum order
        total -= 100
    return twd(total)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def crm(clock: ManualClock) -> CRM:
    return demo_crm(clock=clock, ids=SequentialIds())


@pytest.fixture
def checkout(crm: CRM) -> Checkout:
    return Checkout(crm)


@pytest.fixture
def lin(crm: CRM) -> str:
    return crm.register_customer("林美玲 Lin Mei-ling", "person").id


def _cart() -> list[CartItem]:
    return [CartItem("OOLONG-150", 6), CartItem("TEAPOT", 1)]


# ----- pricing ----------------------------------------------------------------------------


def test_the_cart_is_priced_through_the_whole_waterfall(checkout: Checkout, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart(), coupon="welcome100")

    assert cart.total == expected_total(6, 1, coupon=True) == twd(4130)
    steps = dict(cart.waterfall())
    assert steps["List price"] == twd(6 * 480 + 1800)
    assert steps["Volume price"] == twd(6 * (450 - 480))
    assert steps["Spring tea festival"] == twd(-270)
    assert steps["Coupon WELCOME100"] == twd(-100)
    # VAT is included: 5/105 of each line, rounded per line to whole dollars.
    lines = cart.priced.lines
    assert steps["of which VAT"] == Money.sum([line.tax for line in lines], currency="TWD")
    assert abs(steps["of which VAT"].amount - cart.total.amount * 5 / 105) < 1
    assert "WELCOME100" in cart.explain("en")
    assert "優惠券" in cart.explain("zh_Hant_TW")


@settings(max_examples=20, deadline=None)
@given(
    tins=st.integers(0, 40),
    teapots=st.integers(0, 3),
    coupon=st.booleans(),
)
def test_any_cart_totals_exactly_what_the_rules_say(tins: int, teapots: int, coupon: bool) -> None:
    crm = demo_crm(clock=ManualClock(START), ids=SequentialIds())
    items = [CartItem(sku, n) for sku, n in (("OOLONG-150", tins), ("TEAPOT", teapots)) if n]
    customer = crm.register_customer("Chen Bo", "person").id
    if not items:
        with pytest.raises(ValidationError) as refused:
            Checkout(crm).price_cart(customer, items)
        assert refused.value.errors[0].path == "items"
        return
    big_enough = expected_total(tins, teapots, coupon=False) >= twd(1000)
    code = "WELCOME100" if coupon else None
    if coupon and not big_enough:
        with pytest.raises(CouponRefused) as refused:
            Checkout(crm).price_cart(customer, items, coupon=code)
        assert refused.value.details["reason"] == "min_order"
        return
    cart = Checkout(crm).price_cart(customer, items, coupon=code)
    assert cart.total == expected_total(tins, teapots, coupon=coupon)
    steps = cart.waterfall()
    assert Money.sum([amount for _, amount in steps[:-2]], currency="TWD") == steps[-2][1]
    assert steps[-2] == ("Total", cart.total)
    assert twd(0) <= cart.total <= steps[0][1]


# ----- payment and refund -----------------------------------------------------------------


def test_a_repeated_payment_callback_earns_once(checkout: Checkout, crm: CRM, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart(), coupon="WELCOME100")

    first = checkout.order_paid("SO-1001", checkout_id=cart.checkout_id, amount=cart.total)
    second = checkout.order_paid("SO-1001", checkout_id=cart.checkout_id, amount=cart.total)

    assert first.points == second.points == 4130 // 100  # 1 point per NT$100 paid
    assert second.balance == first.balance
    assert first.balance.pending == first.points  # pending for the 7-day return window
    member = crm.get_membership(lin)
    assert [e.reference for e in member.entries if e.kind is EntryKind.EARN] == ["SO-1001"]
    assert crm.get_coupon("WELCOME100").times_used == 1
    assert crm.get_quote(cart.checkout_id).status.value == "accepted"


def test_points_become_available_after_the_return_window(
    checkout: Checkout, crm: CRM, lin: str, clock: ManualClock
) -> None:
    cart = checkout.price_cart(lin, _cart())
    paid = checkout.order_paid("SO-1", checkout_id=cart.checkout_id, amount=cart.total)
    clock.advance(timedelta(days=7, minutes=1))
    assert crm.points_balance(lin).balance.available == paid.points


def test_a_full_refund_reverses_the_points_once(checkout: Checkout, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart())
    paid = checkout.order_paid("SO-7", checkout_id=cart.checkout_id, amount=cart.total)

    refund = checkout.order_refunded(
        "SO-7", checkout_id=cart.checkout_id, refund_ref="RF-1", amount=cart.total
    )
    again = checkout.order_refunded(
        "SO-7", checkout_id=cart.checkout_id, refund_ref="RF-1", amount=cart.total
    )

    assert refund.points == -paid.points
    assert again.points == refund.points and again.balance == refund.balance
    assert refund.balance.pending == refund.balance.available == 0


def test_a_partial_refund_takes_back_its_share(checkout: Checkout, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart())
    paid = checkout.order_paid("SO-8", checkout_id=cart.checkout_id, amount=cart.total)
    teapot = next(line.total for line in cart.priced.lines if line.sku == "TEAPOT")

    refund = checkout.order_refunded(
        "SO-8", checkout_id=cart.checkout_id, refund_ref="RF-8", amount=teapot
    )

    share = paid.points * teapot.amount / cart.total.amount
    assert -refund.points == int(share)  # in proportion, rounded towards the member
    assert refund.balance.pending == paid.points + refund.points


def test_a_payment_that_does_not_match_the_total_is_refused_and_changes_nothing(
    checkout: Checkout, crm: CRM, lin: str
) -> None:
    cart = checkout.price_cart(lin, _cart(), coupon="WELCOME100")

    with pytest.raises(ValidationError) as refused:
        checkout.order_paid("SO-9", checkout_id=cart.checkout_id, amount=twd(100))

    assert refused.value.code == "validation_error"
    assert refused.value.errors[0].path == "amount"
    assert crm.get_quote(cart.checkout_id).status.value == "draft"
    assert crm.get_coupon("WELCOME100").times_used == 0
    with pytest.raises(NotFoundError):
        crm.get_membership(lin)  # not even enrolled


# ----- coupons ----------------------------------------------------------------------------


def test_an_unknown_coupon_is_not_found_and_stores_nothing(
    checkout: Checkout, crm: CRM, lin: str
) -> None:
    with pytest.raises(NotFoundError) as refused:
        checkout.price_cart(lin, _cart(), coupon="FREE-TEA")

    assert refused.value.code == "not_found"
    assert "FREE-TEA" in str(refused.value)
    assert problem_details(refused.value)[0] == 404
    assert not crm.find_quotes(customer_id=lin).items


def test_a_used_coupon_is_refused_with_the_plugins_code(checkout: Checkout, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart(), coupon="welcome100")
    checkout.order_paid("SO-1", checkout_id=cart.checkout_id, amount=cart.total)

    with pytest.raises(CouponRefused) as refused:
        checkout.price_cart(lin, _cart(), coupon="welcome100")

    error = refused.value
    assert isinstance(error, RuleViolation)
    assert (error.code, error.details["code"], error.details["reason"]) == (
        "checkout.coupon_refused",
        "WELCOME100",
        "customer_limit",
    )
    status, body = problem_details(error)
    assert (status, body["code"]) == (409, "checkout.coupon_refused")


def test_another_customer_may_still_use_the_coupon(checkout: Checkout, crm: CRM, lin: str) -> None:
    cart = checkout.price_cart(lin, _cart(), coupon="welcome100")
    checkout.order_paid("SO-1", checkout_id=cart.checkout_id, amount=cart.total)
    chen = crm.register_customer("陳博 Chen Bo", "person").id

    assert checkout.price_cart(chen, _cart(), coupon="welcome100").total == cart.total
