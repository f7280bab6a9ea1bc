"""An e-commerce checkout plugin over crmkit: see README.md in this folder, and ``checkout``."""

from .checkout import CartItem, Checkout, CouponRefused, Payment, PricedCart, Refund
from .shop import demo_crm

__all__ = ["CartItem", "Checkout", "CouponRefused", "Payment", "PricedCart", "Refund", "demo_crm"]
