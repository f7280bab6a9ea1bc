"""The e-commerce checkout plugin, as a tea shop uses it: price a cart, get paid, refund.

It builds the plugin of ``examples/ecommerce_checkout`` around a demo CRM whose clock the
script moves, and calls it as the shop's checkout page and its payment provider would: the cart
priced through crmkit's waterfall (volume tier, spring promotion, a coupon, VAT included), the
"order paid" callback earning Tea Club points (sent twice, as providers do), a refund taking
back the returned teapot's share, and the coupon refused when it is tried again. Amounts are
shown in English and in Traditional Chinese (Taiwan). Run it with
``python examples/ecommerce_checkout_demo.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# Python puts this script's folder on sys.path, so the example's package imports from any cwd.
from ecommerce_checkout import CartItem, Checkout, PricedCart, demo_crm

from crmkit import CRMError, ManualClock, Money
from crmkit.kernel import SequentialIds

clock = ManualClock(datetime(2026, 3, 20, 14, 0, tzinfo=ZoneInfo("Asia/Taipei")))
crm = demo_crm(clock=clock, ids=SequentialIds())
checkout = Checkout(crm)


def both(amount: Money) -> str:
    """An amount as an English and a Taiwanese page show it (whole dollars: cash rounding)."""
    return f"{amount.format('en', cash=True):>10}  {amount.format('zh_Hant_TW', cash=True):>8}"


def show(cart: PricedCart) -> None:
    for label, amount in cart.waterfall():
        print(f"    {label:<32}{both(amount)}")


lin = crm.register_customer("林美玲 Lin Mei-ling", "person")

print("1. Lin checks out 6 tins of oolong and a teapot with coupon welcome100.")
cart = checkout.price_cart(
    lin.id, [CartItem("OOLONG-150", 6), CartItem("TEAPOT", 1)], coupon="welcome100"
)
show(cart)

print("\n2. The payment provider calls back: order SO-1001 is paid (and calls again).")
paid = checkout.order_paid("SO-1001", checkout_id=cart.checkout_id, amount=cart.total)
again = checkout.order_paid("SO-1001", checkout_id=cart.checkout_id, amount=cart.total)
print(f"    earned {paid.points} points, pending for the 7-day return window")
print(f"    the repeated callback earned nothing more: {again.balance.pending} points pending")

print("\n3. Three days later Lin returns the teapot; the refund takes back its share.")
clock.advance(timedelta(days=3))
teapot = next(line.total for line in cart.priced.lines if line.sku == "TEAPOT")
refund = checkout.order_refunded(
    "SO-1001", checkout_id=cart.checkout_id, refund_ref="RF-2001", amount=teapot
)
checkout.order_refunded(
    "SO-1001", checkout_id=cart.checkout_id, refund_ref="RF-2001", amount=teapot
)
print(
    f"    refunded {teapot.format('en', cash=True)} ({teapot.format('zh_Hant_TW', cash=True)}): "
    f"{refund.points} points; the repeated refund callback changed nothing"
)
clock.advance(timedelta(days=5))
print(
    f"    after the return window: {crm.points_balance(lin.id).balance.available} points available"
)

print("\n4. Coupons that cannot be used are refused with a code the page can show.")
for code in ("welcome100", "free-tea"):
    try:
        checkout.price_cart(lin.id, [CartItem("OOLONG-150", 5)], coupon=code)
    except CRMError as refused:
        print(f"    {code}: {refused.code}: {refused}")
