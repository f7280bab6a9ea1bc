"""Use cases of the pricing context: one handler per command in :mod:`crmkit.pricing.commands`.

Each handler checks the access policy, loads what it needs through the unit of work, calls the
pure rules of :mod:`crmkit.pricing`, stores the result and commits. A failed command stores
nothing. The actions and the resource the policy is shown:

| action           | commands                                              | resource           |
|------------------|-------------------------------------------------------|--------------------|
| `catalog.manage` | upsert a product, a price book; save a rule set;      | what is stored     |
|                  | create a coupon                                       |                    |
| `quotes.create`  | create a quote                                        | the customer       |
| `quotes.edit`    | add, update, remove a line; apply, remove a coupon;   | the quote          |
|                  | set the quote discount                                |                    |
| `quotes.price`   | price                                                 | the quote          |
| `quotes.submit`  | submit                                                | the quote          |
| `quotes.approve` | approve; reject the approval                          | an ApprovalRequest |
| `quotes.send`    | send                                                  | the quote          |
| `quotes.accept`  | accept                                                | the quote          |
| `quotes.reject`  | the customer rejects                                  | the quote          |
| `quotes.expire`  | expire one quote; expire the due ones                 | the quote; `None`  |
| `quotes.revise`  | revise                                                | the quote          |

An approval is checked with an :class:`ApprovalRequest` (the quote, the role, approve or
refuse) so a host's policy can tell whether the actor holds the role; the quote itself refuses
an approval by its owner and approvals out of order.

**Pricing** (:func:`price_quote`) loads the products on the quote's lines, the price books in
its currency, the discount rule set (the command's ``rule_set_id``, else
:attr:`PricingSettings.rule_set_id`, else none) and the coupons for its codes, runs the engine
with the settings' tax policy, cash rounding and approval policy, stores the priced result on
the quote and returns the :class:`~crmkit.pricing.PricedQuote`, which explains itself.

**Acceptance** (:func:`accept_quote`) runs in one unit of work: the quote is accepted and every
coupon its pricing applied is redeemed (:meth:`~crmkit.pricing.Coupon.redeem`) and saved with
it. A coupon over its limit fails the whole acceptance and nothing is stored. Accepting an
accepted quote returns it and redeems nothing. Two acceptances racing for the same coupon make
one save stale; the handler then reads everything again and retries, up to
:attr:`PricingSettings.accept_attempts` times, so the limit holds and no acceptance is lost to
a mere race.

**Expiry** (:func:`expire_due_quotes`) is for a scheduler: every open quote whose
``valid_until`` has passed is expired, each in its own commit; one changed concurrently is
skipped (:class:`QuoteExpiryRun` says which) and expired by the next run if still due.

:class:`PricingSettings` is the configuration the handlers share (``bootstrap(pricing=...)``).
It is data: it round-trips through :mod:`crmkit.serialization`.

Example:
    >>> from crmkit.app.quotes import _example_crm
    >>> crm, quote = _example_crm()
    >>> crm.price_quote(quote.id).total
    Money('4320.00', 'TWD')
    >>> quote = crm.submit_quote(quote.id)
    >>> quote = crm.send_quote(quote.id)
    >>> crm.accept_quote(quote.id).status.value
    'accepted'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.errors import ConcurrencyError, NotFoundError, ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.query import Op, Page, Query
from crmkit.kernel.time import Clock
from crmkit.ports import AccessPolicy, Repository, UnitOfWork
from crmkit.pricing import (
    ApprovalPolicy,
    Catalog,
    Coupon,
    DiscountRuleSet,
    PriceBook,
    PricedQuote,
    Product,
    Quote,
    QuoteStatus,
    TaxPolicy,
)
from crmkit.pricing.commands import (
    AcceptQuote,
    AddQuoteLine,
    ApplyCoupon,
    ApproveQuote,
    CreateCoupon,
    CreateQuote,
    ExpireDueQuotes,
    ExpireQuote,
    PriceQuote,
    RejectQuote,
    RejectQuoteApproval,
    RemoveCoupon,
    RemoveQuoteLine,
    ReviseQuote,
    SaveDiscountRuleSet,
    SendQuote,
    SetQuoteDiscount,
    SubmitQuote,
    UpdateQuoteLine,
    UpsertPriceBook,
    UpsertProduct,
)

if TYPE_CHECKING:
    from crmkit.app._crm import CRM

__all__ = [
    "ApprovalRequest",
    "PricingSettings",
    "QuoteExpiryRun",
    "accept_quote",
    "add_quote_line",
    "apply_coupon",
    "approve_quote",
    "command_handlers",
    "create_coupon",
    "create_quote",
    "expire_due_quotes",
    "expire_quote",
    "price_quote",
    "reject_quote",
    "reject_quote_approval",
    "remove_coupon",
    "remove_quote_line",
    "revise_quote",
    "save_discount_rule_set",
    "send_quote",
    "set_quote_discount",
    "submit_quote",
    "update_quote_line",
    "upsert_price_book",
    "upsert_product",
]

A = TypeVar("A")
G = TypeVar("G", bound=Aggregate)

#: Page size for loading price books, products, coupons and due quotes.
_PAGE = 500
#: The statuses a quote can expire from (open quotes).
_OPEN = (
    QuoteStatus.DRAFT.value,
    QuoteStatus.PENDING_APPROVAL.value,
    QuoteStatus.APPROVED.value,
    QuoteStatus.SENT.value,
)


# ----- settings ------------------------------------------------------------------------------


def _optional(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__} or None, not {type(value).__name__}", path=path
            )

    return check


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


def _attempts(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValidationError(f"must be an int from 1 to 100, got {value!r}", path=attribute.name)


def _bool(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(
            f"must be True or False, not {type(value).__name__}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class PricingSettings:
    """How the quote use cases behave in one CRM; pass it as ``bootstrap(pricing=...)``.

    Attributes:
        approvals: which roles must approve a discount (default
            :meth:`ApprovalPolicy.default() <crmkit.pricing.ApprovalPolicy.default>`: more
            than 10% the sales manager, more than 25% a director too); ``None``: no approvals.
        tax: the tax policy quotes are priced with (``None``: without tax).
        cash: whether amounts are rounded to the currency's cash digits (TWD: whole dollars).
        rule_set_id: the stored discount rule set pricing uses when the command names none
            (``None``: only manual discounts and coupons apply).
        valid_for: how long a new quote is valid when its creator gives no ``valid_until``
            (30 days).
        accept_attempts: how many times an acceptance is tried when a concurrent one makes
            its save stale (10); then the ``ConcurrencyError`` reaches the caller.

    Example:
        >>> from crmkit.pricing import TaxPolicy
        >>> from crmkit.serialization import structure, unstructure
        >>> settings = PricingSettings(cash=True, rule_set_id="rs_spring",
        ...     tax=TaxPolicy(rates={"standard": 5}, prices_include_tax=True))
        >>> [level.role for level in settings.approvals.levels], settings.valid_for.days
        (['sales_manager', 'director'], 30)
        >>> structure(unstructure(settings), PricingSettings) == settings
        True

    .. versionadded:: 0.1.0
    """

    approvals: ApprovalPolicy | None = attrs.field(
        factory=ApprovalPolicy.default, validator=_optional(ApprovalPolicy, "approvals")
    )
    tax: TaxPolicy | None = attrs.field(default=None, validator=_optional(TaxPolicy, "tax"))
    cash: bool = attrs.field(default=False, validator=_bool)
    rule_set_id: str | None = attrs.field(default=None, validator=_optional_id)
    valid_for: timedelta = attrs.field(default=timedelta(days=30), validator=_positive)
    accept_attempts: int = attrs.field(default=10, validator=_attempts)


# ----- results and resources -----------------------------------------------------------------


@attrs.frozen
class ApprovalRequest:
    """What the access policy is asked about an approval: may the actor decide for ``role``?

    ``approving`` is ``True`` to approve, ``False`` to refuse. The action is
    ``quotes.approve`` either way.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.errors import PermissionDeniedError
        >>> ROLES = {"u_lin": {"sales_manager"}}
        >>> class RolePolicy:
        ...     def check(self, actor, action, resource=None):
        ...         if isinstance(resource, ApprovalRequest) and (
        ...                 resource.role not in ROLES.get(actor, ())):
        ...             raise PermissionDeniedError(f"{actor} is not a {resource.role}")
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm(policy=RolePolicy(), percent=15)
        >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
        >>> crm.approve_quote(quote.id, "sales_manager", actor="u_bob")
        Traceback (most recent call last):
        ...
        crmkit.errors.PermissionDeniedError: u_bob is not a sales_manager
        >>> crm.approve_quote(quote.id, "sales_manager", actor="u_lin").status.value
        'approved'

    .. versionadded:: 0.1.0
    """

    quote: Quote
    role: str
    approving: bool


@attrs.frozen(kw_only=True)
class QuoteExpiryRun:
    """What :func:`expire_due_quotes` did: the quotes it expired, and the ones it skipped.

    A quote is skipped when someone changed it while the run was expiring it; the next run
    expires it if it is still open and due.

    Example:
        >>> from datetime import datetime, timezone
        >>> run = QuoteExpiryRun(at=datetime(2026, 4, 2, tzinfo=timezone.utc),
        ...                      expired=("quo_1", "quo_2"))
        >>> len(run.expired), run.skipped
        (2, ())

    .. versionadded:: 0.1.0
    """

    at: datetime
    expired: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


# ----- loading -------------------------------------------------------------------------------


def _all(run: Callable[[Query], Page[A]], query: Query) -> list[A]:
    found: list[A] = []
    while True:
        page = run(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)


def _catalog_for(uow: UnitOfWork, quote: Quote) -> Catalog:
    """The products on the quote's lines and every price book in its currency."""
    skus = sorted({line.sku for line in quote.lines})
    products: list[Product] = []
    for start in range(0, len(skus), _PAGE):  # a bounded IN list for every database
        chunk = tuple(skus[start : start + _PAGE])
        products.extend(_all(uow.products.query, Query().filter("id", Op.IN, chunk).take(_PAGE)))
    books = _all(uow.price_books.query, Query.where(currency=quote.currency).take(_PAGE))
    return Catalog(products=products, price_books=books)


def _coupons_for(uow: UnitOfWork, codes: Iterable[str]) -> list[Coupon]:
    wanted = tuple(sorted(set(codes)))
    if not wanted:
        return []
    return _all(uow.coupons.query, Query().filter("code", Op.IN, wanted).take(_PAGE))


def _require_coupons(uow: UnitOfWork, codes: Iterable[str]) -> None:
    wanted = sorted(set(codes))
    found = {c.code for c in _coupons_for(uow, wanted)}
    missing = [code for code in wanted if code not in found]
    if missing:
        listed = ", ".join(missing)
        raise NotFoundError(
            f"no coupon with code {listed}; create it first (catalog.manage) or check the code",
            details={"kind": "coupons", "codes": missing},
        )


def _rule_set(uow: UnitOfWork, rule_set_id: str | None) -> DiscountRuleSet:
    if rule_set_id is None:
        return DiscountRuleSet.empty()
    return uow.discount_rule_sets.get(rule_set_id)


def _upsert(repository: Repository[G], aggregate: G) -> G:
    """Add ``aggregate``, or replace the stored one with its id; return the stored copy.

    A fresh aggregate (version 0) replaces what is stored; a loaded one must still be current.
    The caller's object is left as it was (the repository bumps the copy's version).
    """
    stored = attrs.evolve(aggregate)
    if stored.version == 0:
        try:
            current = repository.get(stored.id)
        except NotFoundError:
            repository.add(stored)
            return stored
        stored = attrs.evolve(stored, version=current.version)
    repository.save(stored)
    return stored


def _change_quote(
    quote_id: str,
    actor: str | None,
    action: str,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Callable[[Quote], object],
) -> Quote:
    """Load a quote, check ``action`` for ``actor``, apply ``change``, save and commit.

    A change that records no event (a repeated coupon code, the same discount) stores nothing.
    """
    quote = uow.quotes.get(quote_id)
    policy.check(actor, action, quote)
    change(quote)
    _save(uow, quote)
    return quote


def _save(uow: UnitOfWork, quote: Quote) -> None:
    if quote.pending_events:
        uow.quotes.save(quote)
        uow.commit()


# ----- catalog and rules admin ---------------------------------------------------------------


def upsert_product(command: UpsertProduct, uow: UnitOfWork, *, policy: AccessPolicy) -> Product:
    """Add a product, or replace the one with the same sku; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.pricing import Product
        >>> crm = bootstrap()
        >>> tea = crm.upsert_product(Product(sku="TEA-500", name="Oolong", category="tea"))
        >>> tea = crm.upsert_product(Product(sku="TEA-500", name="Oolong 500 g", category="tea"))
        >>> tea.name, tea.version
        ('Oolong 500 g', 2)

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "catalog.manage", command.product)
    product: Product = _upsert(uow.products, command.product)
    uow.commit()
    return product


def upsert_price_book(
    command: UpsertPriceBook, uow: UnitOfWork, *, policy: AccessPolicy
) -> PriceBook:
    """Add a price book, or replace the one with the same id; return it as stored.

    Example:
        >>> from crmkit import Money, bootstrap
        >>> from crmkit.pricing import PriceBook, PriceBookEntry
        >>> crm = bootstrap()
        >>> book = crm.upsert_price_book(PriceBook(id="pb_twd", name="Standard", currency="TWD",
        ...     entries=[PriceBookEntry(sku="TEA-500", unit_price=Money("450", "TWD"))]))
        >>> book.entry("TEA-500").unit_price, book.version
        (Money('450', 'TWD'), 1)

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "catalog.manage", command.price_book)
    book: PriceBook = _upsert(uow.price_books, command.price_book)
    uow.commit()
    return book


def save_discount_rule_set(
    command: SaveDiscountRuleSet, uow: UnitOfWork, *, policy: AccessPolicy
) -> DiscountRuleSet:
    """Add a discount rule set, or replace the one with the same id; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.pricing import DiscountRuleSet
        >>> crm = bootstrap()
        >>> crm.save_discount_rule_set(DiscountRuleSet(id="rs_1", name="Spring", cap_percent=30)
        ...     ).cap_percent
        Decimal('30')

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "catalog.manage", command.rule_set)
    rules: DiscountRuleSet = _upsert(uow.discount_rule_sets, command.rule_set)
    uow.commit()
    return rules


def create_coupon(command: CreateCoupon, uow: UnitOfWork, *, policy: AccessPolicy) -> Coupon:
    """Add a new coupon; a code that exists is a ``DuplicateError``.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> from crmkit.pricing import Coupon
        >>> crm = bootstrap()
        >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> crm.create_coupon(Coupon(code="spring5", name="Spring", percent=5, created_at=now,
        ...                          usage_limit=100)).id
        'coupon_SPRING5'
        >>> crm.create_coupon(Coupon(code="SPRING5", name="Again", percent=9, created_at=now))
        Traceback (most recent call last):
        ...
        crmkit.errors.DuplicateError: ...

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "catalog.manage", command.coupon)
    coupon = attrs.evolve(command.coupon)
    uow.coupons.add(coupon)
    uow.commit()
    return coupon


# ----- a quote's content ---------------------------------------------------------------------


def create_quote(
    command: CreateQuote,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: PricingSettings,
) -> Quote:
    """Create a draft quote for an existing customer; return it as stored.

    ``valid_until`` defaults to now plus :attr:`PricingSettings.valid_for`; coupon codes must
    name stored coupons.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, _ = _example_crm()
        >>> quote = crm.create_quote("cus_000001", "TWD", customer_group="dealer", owner="u_amy")
        >>> quote.status.value, quote.valid_until - quote.created_at, quote.customer_group
        ('draft', datetime.timedelta(days=30), 'dealer')
        >>> crm.create_quote("cus_404", "TWD")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no customers record with id 'cus_404'

    .. versionadded:: 0.1.0
    """
    customer = uow.customers.get(command.customer_id)
    policy.check(command.actor, "quotes.create", customer)
    _require_coupons(uow, command.coupon_codes)
    now = clock.now()
    quote = Quote.create(
        id=ids.new_id("quo"),
        customer_id=command.customer_id,
        currency=command.currency,
        now=now,
        valid_until=command.valid_until or now + settings.valid_for,
        lines=command.lines,
        customer_group=command.customer_group,
        coupon_codes=command.coupon_codes,
        discount=command.discount,
        owner=command.owner,
        actor=command.actor,
    )
    uow.quotes.add(quote)
    uow.commit()
    return quote


def _next_line_id(quote: Quote) -> str:
    taken = {line.line_id for line in quote.lines}
    n = len(taken) + 1
    while f"l{n}" in taken:
        n += 1
    return f"l{n}"


def add_quote_line(
    command: AddQuoteLine, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Add a line (``line_id`` default: the next free ``l<n>``); return the quote.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> quote = crm.add_quote_line(quote.id, "TEA-500", 5, description="samples")
        >>> [(line.line_id, line.quantity) for line in quote.lines]
        [('l1', Decimal('60')), ('l2', Decimal('5'))]

    .. versionadded:: 0.1.0
    """

    def change(quote: Quote) -> None:
        line = command.build(command.line_id or _next_line_id(quote))
        quote.add_line(line, now=clock.now(), actor=command.actor)

    return _change_quote(command.quote_id, command.actor, "quotes.edit", uow, policy, change)


def update_quote_line(
    command: UpdateQuoteLine, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Replace the line with the command line's ``line_id``; return the quote.

    Example:
        >>> import attrs
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> line = attrs.evolve(quote.line("l1"), quantity=80)
        >>> crm.update_quote_line(quote.id, line).line("l1").quantity
        Decimal('80')

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.edit",
        uow,
        policy,
        lambda quote: quote.update_line(command.line, now=clock.now(), actor=command.actor),
    )


def remove_quote_line(
    command: RemoveQuoteLine, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Remove a line; return the quote (an unknown line id is a ``ValidationError``).

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> crm.remove_quote_line(quote.id, "l1").lines
        ()

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.edit",
        uow,
        policy,
        lambda quote: quote.remove_line(command.line_id, now=clock.now(), actor=command.actor),
    )


def apply_coupon(
    command: ApplyCoupon, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Put a stored coupon's code on a quote; return the quote.

    An unknown code is a ``NotFoundError``; whether a known one applies is decided by pricing.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> crm.apply_coupon(quote.id, "spring5").coupon_codes
        ('SPRING5',)
        >>> crm.apply_coupon(quote.id, "NOPE")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no coupon with code NOPE; create it first ...

    .. versionadded:: 0.1.0
    """
    quote = uow.quotes.get(command.quote_id)
    policy.check(command.actor, "quotes.edit", quote)
    _require_coupons(uow, [command.code])
    quote.apply_coupon(command.code, now=clock.now(), actor=command.actor)
    _save(uow, quote)
    return quote


def remove_coupon(
    command: RemoveCoupon, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Take a coupon code off a quote; return the quote.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> _ = crm.apply_coupon(quote.id, "SPRING5")
        >>> crm.remove_coupon(quote.id, "spring5").coupon_codes
        ()

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.edit",
        uow,
        policy,
        lambda quote: quote.remove_coupon(command.code, now=clock.now(), actor=command.actor),
    )


def set_quote_discount(
    command: SetQuoteDiscount, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Set (or clear) the rep's discount on the whole quote; return the quote.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> from crmkit.pricing import ManualDiscount
        >>> crm, quote = _example_crm()
        >>> crm.set_quote_discount(quote.id, ManualDiscount(percent=5)).discount.percent
        Decimal('5')

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.edit",
        uow,
        policy,
        lambda quote: quote.set_discount(command.discount, now=clock.now(), actor=command.actor),
    )


# ----- a quote's life ------------------------------------------------------------------------


def price_quote(
    command: PriceQuote,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: PricingSettings,
) -> PricedQuote:
    """Price a quote with the stored catalog, rule set and coupons; store and return the result.

    The result explains itself (:meth:`~crmkit.pricing.PricedQuote.explain`), lists the
    coupons and rules that did not apply with the reason, and the quote records the approvals
    its discount needs under :attr:`PricingSettings.approvals`.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm(percent=20)
        >>> priced = crm.price_quote(quote.id)
        >>> [(d.rule_id, d.amount) for d in priced.lines[0].discounts]
        [('spring', Money('480.00', 'TWD')), ('manual', Money('864.00', 'TWD'))]
        >>> crm.get_quote(quote.id).required_approvals
        ('sales_manager', 'director')

    .. versionadded:: 0.1.0
    """
    quote = uow.quotes.get(command.quote_id)
    policy.check(command.actor, "quotes.price", quote)
    rules = _rule_set(uow, command.rule_set_id or settings.rule_set_id)
    priced = quote.price(
        _catalog_for(uow, quote),
        rules,
        now=clock.now(),
        tax=settings.tax,
        coupons=_coupons_for(uow, quote.coupon_codes),
        approvals=settings.approvals,
        cash=settings.cash,
        actor=command.actor,
    )
    _save(uow, quote)  # re-pricing an unchanged submitted quote changes nothing
    return priced


def submit_quote(
    command: SubmitQuote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Submit a priced draft: pending approval if its discount needs any, else approved.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm(percent=20)
        >>> crm.submit_quote(quote.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: quote 'quo_000001' must be priced before it is submitted
        >>> _ = crm.price_quote(quote.id)
        >>> quote = crm.submit_quote(quote.id)
        >>> quote.status.value, quote.pending_approvals
        ('pending_approval', ('sales_manager', 'director'))

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.submit",
        uow,
        policy,
        lambda quote: quote.submit(now=clock.now(), actor=command.actor),
    )


def _decide(
    command: ApproveQuote | RejectQuoteApproval,
    approving: bool,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccessPolicy,
) -> Quote:
    quote = uow.quotes.get(command.quote_id)
    policy.check(command.actor, "quotes.approve", ApprovalRequest(quote, command.role, approving))
    decide = quote.approve if approving else quote.reject_approval
    decide(command.role, by=command.actor, now=clock.now(), comment=command.comment)
    uow.quotes.save(quote)
    uow.commit()
    return quote


def approve_quote(
    command: ApproveQuote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Record the actor's approval in ``role``; the last one approves the quote.

    The policy is asked ``quotes.approve`` with an :class:`ApprovalRequest`; the quote refuses
    its owner and roles out of order.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm(percent=20, owner="u_amy")
        >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
        >>> crm.approve_quote(quote.id, "director", actor="u_dir")
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: role 'director' approves after 'sales_manager'; approvals go
        from the lowest level up
        >>> crm.approve_quote(quote.id, "sales_manager", actor="u_amy")
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: 'u_amy' owns quote 'quo_000001' and cannot approve or reject
        its discount
        >>> _ = crm.approve_quote(quote.id, "sales_manager", actor="u_lin")
        >>> crm.approve_quote(quote.id, "director", actor="u_dir").status.value
        'approved'

    .. versionadded:: 0.1.0
    """
    return _decide(command, True, uow, clock, policy)


def reject_quote_approval(
    command: RejectQuoteApproval, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Record the actor's refusal in ``role``: the quote is a draft again, to re-price.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm(percent=20)
        >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
        >>> quote = crm.reject_quote_approval(quote.id, "sales_manager", actor="u_lin",
        ...                                   comment="20% is too much")
        >>> quote.status.value, quote.approvals[-1].comment
        ('draft', '20% is too much')

    .. versionadded:: 0.1.0
    """
    return _decide(command, False, uow, clock, policy)


def send_quote(command: SendQuote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy) -> Quote:
    """Mark an approved quote as sent; return it.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> crm.send_quote(quote.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: cannot send quote 'quo_000001': it is draft (allowed when
        approved)

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.send",
        uow,
        policy,
        lambda quote: quote.send(now=clock.now(), actor=command.actor),
    )


def _accept_once(
    command: AcceptQuote, uow: UnitOfWork, clock: Clock, policy: AccessPolicy
) -> Quote:
    quote = uow.quotes.get(command.quote_id)
    policy.check(command.actor, "quotes.accept", quote)
    if quote.status is QuoteStatus.ACCEPTED:
        return quote
    now = clock.now()
    quote.accept(now=now, actor=command.actor)
    redeemed: list[Coupon] = []
    for code in sorted(quote.applied_coupon_codes):  # one lock order for every acceptance
        coupon = uow.coupons.get(Coupon.id_for(code))
        if coupon.redeem(quote.id, quote.customer_id, now, actor=command.actor):
            redeemed.append(coupon)
    uow.quotes.save(quote)
    for coupon in redeemed:
        uow.coupons.save(coupon)
    uow.commit()
    return quote


def accept_quote(
    command: AcceptQuote,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: PricingSettings,
) -> Quote:
    """Accept a sent quote and redeem its applied coupons in one unit of work; return it.

    Idempotent: an accepted quote is returned as it is, and no coupon is used twice. A coupon
    over its limit (or out of its window) is a ``RuleViolation`` and nothing is stored. A
    concurrent acceptance that made this one's save stale is retried from the start, up to
    :attr:`PricingSettings.accept_attempts` times.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> _ = crm.apply_coupon(quote.id, "SPRING5")
        >>> crm.price_quote(quote.id).effective_discount_percent    # 10% spring, 5% coupon
        Decimal('14.5')
        >>> _ = crm.submit_quote(quote.id)
        >>> _ = crm.approve_quote(quote.id, "sales_manager", actor="u_lin")
        >>> _ = crm.send_quote(quote.id)
        >>> crm.accept_quote(quote.id).status.value
        'accepted'
        >>> crm.accept_quote(quote.id).closed_at == crm.get_quote(quote.id).closed_at
        True
        >>> crm.get_coupon("SPRING5").times_used
        1

    .. versionadded:: 0.1.0
    """
    attempt = 1
    while True:
        try:
            return _accept_once(command, uow, clock, policy)
        except ConcurrencyError:
            uow.rollback()
            if attempt >= settings.accept_attempts:
                raise
            attempt += 1


def reject_quote(
    command: RejectQuote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Record that the customer rejected a sent quote; return it.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
        >>> _ = crm.send_quote(quote.id)
        >>> crm.reject_quote(quote.id, reason="budget cut").rejection_reason
        'budget cut'

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.reject",
        uow,
        policy,
        lambda quote: quote.reject(now=clock.now(), reason=command.reason, actor=command.actor),
    )


def expire_quote(
    command: ExpireQuote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Quote:
    """Expire one open quote whose ``valid_until`` has passed; return it.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> crm.expire_quote(quote.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: quote 'quo_000001' is valid until
        2026-04-01T17:00:00+08:00; it cannot expire before then

    .. versionadded:: 0.1.0
    """
    return _change_quote(
        command.quote_id,
        command.actor,
        "quotes.expire",
        uow,
        policy,
        lambda quote: quote.expire(now=clock.now(), actor=command.actor),
    )


def expire_due_quotes(
    command: ExpireDueQuotes, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> QuoteExpiryRun:
    """Expire every open quote whose ``valid_until`` has passed, each in its own commit.

    The policy is asked ``quotes.expire`` once, with no resource, before anything changes. A
    quote someone changes during the run is skipped; the next run expires it if still due.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> crm.expire_due_quotes().expired
        ()
        >>> _ = crm.clock.advance(timedelta(days=31))
        >>> crm.expire_due_quotes().expired, crm.get_quote(quote.id).status.value
        (('quo_000001',), 'expired')

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "quotes.expire", None)
    now = clock.now()
    query = (
        Query()
        .filter("status", Op.IN, _OPEN)
        .filter("valid_until", Op.LE, now)
        .order("valid_until")
        .take(_PAGE)
    )
    expired: list[str] = []
    skipped: list[str] = []
    while True:
        page = uow.quotes.query(query)
        for quote in page.items:
            try:
                quote.expire(now=now, actor=command.actor)
                uow.quotes.save(quote)
                uow.commit()
            except ConcurrencyError:
                uow.rollback()
                skipped.append(quote.id)
            else:
                expired.append(quote.id)
        if page.next_cursor is None:
            return QuoteExpiryRun(at=now, expired=tuple(expired), skipped=tuple(skipped))
        query = query.after(page.next_cursor)


def revise_quote(
    command: ReviseQuote,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: PricingSettings,
) -> Quote:
    """Supersede a quote with a new draft revision (returned); both are stored together.

    ``valid_until`` defaults to the quote's own, or to now plus
    :attr:`PricingSettings.valid_for` when that has passed.

    Example:
        >>> from crmkit.app.quotes import _example_crm
        >>> crm, quote = _example_crm()
        >>> revision = crm.revise_quote(quote.id)
        >>> revision.revision, revision.previous_revision_id, revision.status.value
        (2, 'quo_000001', 'draft')
        >>> crm.get_quote(quote.id).superseded_by == revision.id
        True

    .. versionadded:: 0.1.0
    """
    quote = uow.quotes.get(command.quote_id)
    policy.check(command.actor, "quotes.revise", quote)
    now = clock.now()
    until = command.valid_until
    if until is None:
        until = quote.valid_until if quote.valid_until > now else now + settings.valid_for
    revision = quote.revise(
        new_id=ids.new_id("quo"), now=now, valid_until=until, actor=command.actor
    )
    uow.quotes.save(quote)
    uow.quotes.add(revision)
    uow.commit()
    return revision


# ----- wiring --------------------------------------------------------------------------------


def command_handlers(
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: PricingSettings | None = None,
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    ``settings`` defaults to ``PricingSettings()``.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> len(handlers), sorted(cls.__name__ for cls in handlers)[:3]
        (21, ['AcceptQuote', 'AddQuoteLine', 'ApplyCoupon'])

    .. versionadded:: 0.1.0
    """
    if settings is None:
        settings = PricingSettings()
    elif not isinstance(settings, PricingSettings):
        raise ValidationError(
            f"must be PricingSettings, not {type(settings).__name__}", path="settings"
        )
    c, p, st = clock, policy, settings
    partial = functools.partial
    return {
        UpsertProduct: partial(upsert_product, policy=p),
        UpsertPriceBook: partial(upsert_price_book, policy=p),
        SaveDiscountRuleSet: partial(save_discount_rule_set, policy=p),
        CreateCoupon: partial(create_coupon, policy=p),
        CreateQuote: partial(create_quote, clock=c, ids=ids, policy=p, settings=st),
        AddQuoteLine: partial(add_quote_line, clock=c, policy=p),
        UpdateQuoteLine: partial(update_quote_line, clock=c, policy=p),
        RemoveQuoteLine: partial(remove_quote_line, clock=c, policy=p),
        ApplyCoupon: partial(apply_coupon, clock=c, policy=p),
        RemoveCoupon: partial(remove_coupon, clock=c, policy=p),
        SetQuoteDiscount: partial(set_quote_discount, clock=c, policy=p),
        PriceQuote: partial(price_quote, clock=c, policy=p, settings=st),
        SubmitQuote: partial(submit_quote, clock=c, policy=p),
        ApproveQuote: partial(approve_quote, clock=c, policy=p),
        RejectQuoteApproval: partial(reject_quote_approval, clock=c, policy=p),
        SendQuote: partial(send_quote, clock=c, policy=p),
        AcceptQuote: partial(accept_quote, clock=c, policy=p, settings=st),
        RejectQuote: partial(reject_quote, clock=c, policy=p),
        ExpireQuote: partial(expire_quote, clock=c, policy=p),
        ExpireDueQuotes: partial(expire_due_quotes, clock=c, policy=p),
        ReviseQuote: partial(revise_quote, clock=c, ids=ids, policy=p, settings=st),
    }


# ----- docstring fixture ---------------------------------------------------------------------


def _example_crm(
    *, policy: AccessPolicy | None = None, percent: int | None = None, owner: str | None = None
) -> tuple[CRM, Quote]:
    """A CRM for the docstrings, and a draft quote of 60 boxes of tea for its one customer.

    The catalog and the spring rule set are :func:`crmkit.pricing.engine._example_setup`'s
    (60 boxes: volume tier NT$80, spring promotion 10%, Taiwan VAT included); coupon
    ``SPRING5`` (5%, 100 uses) exists. ``percent`` puts a manual discount on the line.
    """
    from datetime import timezone
    from zoneinfo import ZoneInfo

    from crmkit.app.bootstrap import bootstrap
    from crmkit.kernel.ids import SequentialIds
    from crmkit.kernel.time import ManualClock
    from crmkit.pricing import ManualDiscount, QuoteLine
    from crmkit.pricing.engine import _example_setup

    catalog, rules, tax, start = _example_setup()
    now = start.astimezone(ZoneInfo("Asia/Taipei"))
    crm = bootstrap(
        clock=ManualClock(now),
        ids=SequentialIds(),
        policy=policy,
        pricing=PricingSettings(tax=tax, rule_set_id=rules.id),
    )
    admin = crm.store.unit_of_work()
    with admin as uow:
        uow.products.add_many(catalog.products)
        uow.price_books.add_many(catalog.price_books)
        uow.discount_rule_sets.add(rules)
        uow.coupons.add(
            Coupon(
                code="SPRING5",
                name="Spring 5%",
                percent=5,
                created_at=start.astimezone(timezone.utc),
                usage_limit=100,
            )
        )
        uow.commit()
    customer = crm.register_customer("Formosa Tea Co.")
    discount = None if percent is None else ManualDiscount(percent=percent)
    quote = crm.create_quote(
        customer.id,
        "TWD",
        owner=owner,
        lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60, discount=discount)],
    )
    return crm, quote
