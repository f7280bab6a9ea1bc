"""Quote: the aggregate a rep edits, prices, gets approved, sends and the customer accepts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import is_currency
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.pricing.approvals import ApprovalPolicy
from crmkit.pricing.catalog import Catalog, _id_field, _optional_key, _tuple_of
from crmkit.pricing.engine import (
    DiscountKind,
    PricedQuote,
    QuoteLine,
    TaxPolicy,
    price_quote,
)
from crmkit.pricing.events import (
    OrderLine,
    QuoteAccepted,
    QuoteApprovalDecided,
    QuoteApprovalReset,
    QuoteApproved,
    QuoteCreated,
    QuoteEdited,
    QuoteExpired,
    QuotePriced,
    QuoteRejected,
    QuoteRevised,
    QuoteSent,
    QuoteSubmitted,
)
from crmkit.pricing.rules import Coupon, DiscountRuleSet, ManualDiscount, normalize_code

__all__ = ["ApprovalRecord", "Quote", "QuoteStatus"]


class QuoteStatus(StrEnum):
    """Where a quote stands.

    ``draft`` → ``pending_approval`` (its discount needs approval) → ``approved`` → ``sent`` →
    ``accepted`` | ``rejected`` | ``expired``. A revised quote becomes ``superseded`` and stays
    readable; the revision is a new quote.

    Example:
        >>> QuoteStatus("pending_approval") is QuoteStatus.PENDING_APPROVAL
        True

    .. versionadded:: 0.1.0
    """

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


#: What each command accepts a quote in; anything else is a RuleViolation.
_EDITABLE = frozenset({QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED})
_OPEN = frozenset({*_EDITABLE, QuoteStatus.SENT})
_REVISABLE = frozenset({*_OPEN, QuoteStatus.REJECTED, QuoteStatus.EXPIRED})


def _status(value: object) -> QuoteStatus:
    return v.to_enum(QuoteStatus, "status")(value)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _revision(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"must be an int >= 1, got {value!r}", path="revision")


def _round(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"must be an int >= 0, got {value!r}", path="approval_round")


@attrs.frozen(kw_only=True)
class ApprovalRecord:
    """An approval decision: who, in which role, when, approved or not, and why.

    ``round`` numbers the pricing it was about; a reset (an edit after submitting, or a
    rejection) starts a new round, so older records stay as history but no longer count.

    Example:
        >>> from datetime import datetime, timezone
        >>> r = ApprovalRecord(role="director", by="u_lin", approved=True, round=1,
        ...     at=datetime(2026, 3, 2, tzinfo=timezone.utc), comment="strategic account")
        >>> r.role, r.approved
        ('director', True)

    .. versionadded:: 0.1.0
    """

    role: str = attrs.field(validator=_id_field)
    by: str = attrs.field(validator=_id_field)
    at: datetime = attrs.field(validator=validate_aware)
    approved: bool = attrs.field(validator=v.of_type(bool))
    round: int = attrs.field(validator=_round)
    comment: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(2000)
    )


def _lines(value: object) -> tuple[QuoteLine, ...]:
    return _tuple_of(QuoteLine, "lines")(value)


def _check_lines(instance: Quote, _attribute: object, value: tuple[QuoteLine, ...]) -> None:
    seen: set[str] = set()
    for i, line in enumerate(value):
        if line.line_id in seen:
            raise ValidationError(
                f"line id {line.line_id!r} is used twice", path=f"lines[{i}].line_id"
            )
        seen.add(line.line_id)
        amount = None if line.discount is None else line.discount.amount
        if amount is not None and amount.currency != instance.currency:
            raise ValidationError(
                f"is in {amount.currency}, the quote in {instance.currency}",
                path=f"lines[{i}].discount.amount",
            )
    if len(value) > 1000:
        raise ValidationError("a quote holds at most 1000 lines", path="lines")


def _codes(value: object) -> tuple[str, ...]:
    codes = v.text_tuple("coupon_codes", normalize_code, max_items=20)(value)
    return tuple(sorted(codes))


def _check_discount(instance: Quote, _attribute: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, ManualDiscount):
        raise ValidationError(
            f"must be a ManualDiscount or None, not {type(value).__name__}", path="discount"
        )
    if value.amount is not None and value.amount.currency != instance.currency:
        raise ValidationError(
            f"is in {value.amount.currency}, the quote in {instance.currency}",
            path="discount.amount",
        )


def _currency(_instance: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code (e.g. 'TWD', 'CNY', 'USD')",
            path="currency",
        )


def _approvals(value: object) -> tuple[ApprovalRecord, ...]:
    return _tuple_of(ApprovalRecord, "approvals")(value)


def _roles(value: object) -> tuple[str, ...]:
    return v.text_tuple("required_approvals", check_id)(value)


def _optional_priced(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, PricedQuote):
        raise ValidationError(
            f"must be a PricedQuote or None, not {type(value).__name__}", path="priced"
        )


def _check_call(now: object, actor: object) -> datetime:
    aware = ensure_aware(now, "now")
    if actor is not None:
        check_id(actor, "actor")
    return aware


@attrs.define(kw_only=True)
class Quote(Aggregate):
    """A quote to a customer: lines, coupons and discount; its pricing, approvals and status.

    Build one with :meth:`create`. Edit it with :meth:`add_line`, :meth:`update_line`,
    :meth:`remove_line`, :meth:`apply_coupon`, :meth:`remove_coupon` and
    :meth:`set_discount` while it is a draft, pending approval or approved; an edit after
    pricing throws the pricing (and any approvals) away, so the quote must be priced and
    approved again. :meth:`price` runs :func:`~crmkit.pricing.price_quote` and works out
    which approvals the discount needs; :meth:`submit` asks for them (or approves at once
    when none is needed); :meth:`approve` records each in order; :meth:`send`,
    :meth:`accept`, :meth:`reject` and :meth:`expire` follow. :meth:`revise` supersedes the
    quote with a new revision and keeps this one readable. Accepting freezes the pricing and
    records :class:`~crmkit.pricing.events.QuoteAccepted` for an ERP; the host then redeems
    :attr:`applied_coupon_codes` with :meth:`Coupon.redeem` in the same unit of work.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.pricing.engine import _example_setup
        >>> catalog, rules, tax, now = _example_setup()
        >>> q = Quote.create(id="q_1", customer_id="cus_1", currency="TWD", now=now,
        ...     valid_until=datetime(2026, 4, 1, tzinfo=timezone.utc), owner="u_amy",
        ...     lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=60,
        ...                      discount=ManualDiscount(percent=20))])
        >>> q.price(catalog, rules, now=now, tax=tax, approvals=ApprovalPolicy.default()).total
        Money('3456.00', 'TWD')
        >>> q.required_approvals
        ('sales_manager', 'director')
        >>> q.submit(now=now); q.status.value
        'pending_approval'
        >>> q.approve("sales_manager", by="u_mgr", now=now)
        >>> q.approve("director", by="u_dir", now=now, comment="strategic"); q.status.value
        'approved'
        >>> q.send(now=now); q.accept(now=now); q.status.value
        'accepted'
        >>> q.pending_events[-1].total
        Money('3456.00', 'TWD')

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    currency: str = attrs.field(validator=_currency)
    created_at: datetime = attrs.field(validator=validate_aware)
    valid_until: datetime = attrs.field(validator=validate_aware)
    lines: tuple[QuoteLine, ...] = attrs.field(default=(), converter=_lines, validator=_check_lines)
    customer_group: str | None = attrs.field(default=None, converter=_optional_key)
    coupon_codes: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    discount: ManualDiscount | None = attrs.field(default=None, validator=_check_discount)
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    status: QuoteStatus = attrs.field(default=QuoteStatus.DRAFT, converter=_status)
    revision: int = attrs.field(default=1, validator=_revision)
    previous_revision_id: str | None = attrs.field(default=None, validator=_optional_id)
    superseded_by: str | None = attrs.field(default=None, validator=_optional_id)
    priced: PricedQuote | None = attrs.field(default=None, validator=_optional_priced)
    required_approvals: tuple[str, ...] = attrs.field(default=(), converter=_roles)
    approval_round: int = attrs.field(default=0, validator=_round)
    approvals: tuple[ApprovalRecord, ...] = attrs.field(default=(), converter=_approvals)
    sent_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    rejection_reason: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(2000)
    )

    # ----- creation ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        id: str,
        customer_id: str,
        currency: str,
        now: datetime,
        valid_until: datetime,
        lines: Iterable[QuoteLine] = (),
        customer_group: str | None = None,
        coupon_codes: Iterable[str] = (),
        discount: ManualDiscount | None = None,
        owner: str | None = None,
        actor: str | None = None,
    ) -> Quote:
        """Create a draft quote and record ``QuoteCreated``; ``valid_until`` must be after now.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> Quote.create(id="q_1", customer_id="cus_1", currency="TWD", now=now,
            ...              valid_until=now).status
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: valid_until: must be after now
            (2026-03-02T00:00:00+00:00)
        """
        now = _check_call(now, actor)
        valid_until = ensure_aware(valid_until, "valid_until")
        if valid_until <= now:
            raise ValidationError(f"must be after now ({now.isoformat()})", path="valid_until")
        quote = cls(
            id=id,
            customer_id=customer_id,
            currency=currency,
            created_at=now,
            valid_until=valid_until,
            lines=tuple(lines),
            customer_group=customer_group,
            coupon_codes=tuple(coupon_codes),
            discount=discount,
            owner=owner,
        )
        quote._created(now, actor)
        return quote

    def _created(self, now: datetime, actor: str | None) -> None:
        self.record(
            QuoteCreated(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=self.customer_id,
                currency=self.currency,
                valid_until=self.valid_until,
                revision=self.revision,
                previous_revision_id=self.previous_revision_id,
            )
        )

    # ----- reading -----------------------------------------------------------------------------

    @property
    def current_approvals(self) -> tuple[ApprovalRecord, ...]:
        """The approval decisions of the current round (older rounds are history)."""
        return tuple(a for a in self.approvals if a.round == self.approval_round)

    @property
    def pending_approvals(self) -> tuple[str, ...]:
        """The roles still to approve, in order (empty unless pending approval)."""
        if self.status is not QuoteStatus.PENDING_APPROVAL:
            return ()
        done = {a.role for a in self.current_approvals if a.approved}
        return tuple(r for r in self.required_approvals if r not in done)

    @property
    def applied_coupon_codes(self) -> tuple[str, ...]:
        """The coupon codes the current pricing applied (what to redeem on acceptance)."""
        if self.priced is None:
            return ()
        return tuple(
            q.code
            for q in self.priced.quote_discounts
            if q.kind is DiscountKind.COUPON and q.code is not None
        )

    def line(self, line_id: str) -> QuoteLine:
        """Return the line with ``line_id``; an unknown one is a ``ValidationError``.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> q = Quote(id="q_1", customer_id="c", currency="TWD", created_at=now,
            ...           valid_until=now, lines=[QuoteLine(line_id="l1", sku="A", quantity=1)])
            >>> q.line("l1").sku
            'A'
        """
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise ValidationError(f"quote {self.id!r} has no line {line_id!r}", path="line_id")

    # ----- guards ------------------------------------------------------------------------------

    def _require(self, action: str, allowed: frozenset[QuoteStatus]) -> None:
        if self.status not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            hint = ""
            if self.status in (QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED):
                hint = "; revise it to change it"
            raise RuleViolation(
                f"cannot {action} quote {self.id!r}: it is {self.status.value} "
                f"(allowed when {names}){hint}",
                details={"quote_id": self.id, "status": self.status.value, "action": action},
            )

    def _require_valid(self, action: str, now: datetime) -> None:
        if now >= self.valid_until:
            raise RuleViolation(
                f"cannot {action} quote {self.id!r}: it was valid until "
                f"{self.valid_until.isoformat()}; expire or revise it",
                details={"quote_id": self.id, "valid_until": self.valid_until.isoformat()},
            )

    # ----- editing -----------------------------------------------------------------------------

    def _edit(self, change: str, apply: Any, now: datetime, actor: str | None) -> None:
        """Check, then apply an edit; throw away pricing and approvals it makes stale."""
        self._require(change, _EDITABLE)
        apply()  # validates (attrs validators) before anything else changes
        had_submitted = self.status is not QuoteStatus.DRAFT
        self.priced = None
        self.required_approvals = ()
        if had_submitted:
            self._reset_approvals(f"quote changed: {change}", now, actor)
        self.record(
            QuoteEdited(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                changes=(change,),
                approvals_reset=had_submitted,
            )
        )

    def _reset_approvals(self, reason: str, now: datetime, actor: str | None) -> None:
        self.status = QuoteStatus.DRAFT
        self.approval_round += 1
        self.record(
            QuoteApprovalReset(aggregate_id=self.id, occurred_at=now, actor=actor, reason=reason)
        )

    def add_line(self, line: QuoteLine, *, now: datetime, actor: str | None = None) -> None:
        """Add ``line`` (its ``line_id`` must be new).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> q = Quote(id="q_1", customer_id="c", currency="TWD", created_at=now,
            ...           valid_until=now)
            >>> q.add_line(QuoteLine(line_id="l1", sku="A", quantity=2), now=now)
            >>> [line.sku for line in q.lines]
            ['A']
        """
        now = _check_call(now, actor)
        if not isinstance(line, QuoteLine):
            raise ValidationError(f"must be a QuoteLine, not {type(line).__name__}", path="line")

        def apply() -> None:
            self.lines = (*self.lines, line)

        self._edit("add_line", apply, now, actor)

    def update_line(self, line: QuoteLine, *, now: datetime, actor: str | None = None) -> None:
        """Replace the line with the same ``line_id`` by ``line`` (quantity, discount...)."""
        now = _check_call(now, actor)
        if not isinstance(line, QuoteLine):
            raise ValidationError(f"must be a QuoteLine, not {type(line).__name__}", path="line")
        self.line(line.line_id)

        def apply() -> None:
            self.lines = tuple(line if x.line_id == line.line_id else x for x in self.lines)

        self._edit("update_line", apply, now, actor)

    def remove_line(self, line_id: str, *, now: datetime, actor: str | None = None) -> None:
        """Remove the line with ``line_id``."""
        now = _check_call(now, actor)
        self.line(line_id)

        def apply() -> None:
            self.lines = tuple(x for x in self.lines if x.line_id != line_id)

        self._edit("remove_line", apply, now, actor)

    def apply_coupon(self, code: str, *, now: datetime, actor: str | None = None) -> None:
        """Add coupon ``code`` (normalised; a repeat is a no-op). Pricing checks it applies."""
        now = _check_call(now, actor)
        normal = normalize_code(code)
        if normal in self.coupon_codes:
            return

        def apply() -> None:
            self.coupon_codes = (*self.coupon_codes, normal)

        self._edit("apply_coupon", apply, now, actor)

    def remove_coupon(self, code: str, *, now: datetime, actor: str | None = None) -> None:
        """Remove coupon ``code`` (a code the quote does not have is a no-op)."""
        now = _check_call(now, actor)
        normal = normalize_code(code)
        if normal not in self.coupon_codes:
            return

        def apply() -> None:
            self.coupon_codes = tuple(c for c in self.coupon_codes if c != normal)

        self._edit("remove_coupon", apply, now, actor)

    def set_discount(
        self, discount: ManualDiscount | None, *, now: datetime, actor: str | None = None
    ) -> None:
        """Set (or clear, with ``None``) the rep's manual discount on the whole quote."""
        now = _check_call(now, actor)
        if discount == self.discount:
            return

        def apply() -> None:
            self.discount = discount

        self._edit("set_discount", apply, now, actor)

    # ----- pricing and approvals ---------------------------------------------------------------

    def price(
        self,
        catalog: Catalog,
        rules: DiscountRuleSet,
        *,
        now: datetime,
        tax: TaxPolicy | None = None,
        coupons: Iterable[Coupon] = (),
        approvals: ApprovalPolicy | None = None,
        cash: bool = False,
        actor: str | None = None,
    ) -> PricedQuote:
        """Price the quote, store the result and the approvals its discount needs.

        Allowed while editable; ``cash=True`` prices in the currency's cash digits (see
        :func:`~crmkit.pricing.price_quote`). Re-pricing a submitted or approved quote to the
        same result keeps its status; to a different result it resets the approvals (a draft
        again).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.pricing.engine import _example_setup
            >>> catalog, rules, tax, now = _example_setup()
            >>> q = Quote.create(id="q_1", customer_id="cus_1", currency="TWD", now=now,
            ...     valid_until=datetime(2026, 4, 1, tzinfo=timezone.utc),
            ...     lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=1)])
            >>> q.price(catalog, rules, now=now, tax=tax).total
            Money('90.00', 'TWD')
        """
        now = _check_call(now, actor)
        self._require("price", _EDITABLE)
        if not self.lines:
            raise RuleViolation(f"quote {self.id!r} has no lines to price")
        if approvals is not None and not isinstance(approvals, ApprovalPolicy):
            raise ValidationError(
                f"must be an ApprovalPolicy or None, not {type(approvals).__name__}",
                path="approvals",
            )
        priced = price_quote(self, catalog, rules, now, coupons=coupons, tax=tax, cash=cash)
        required = () if approvals is None else approvals.required_roles(priced)
        old = self.priced
        same = (
            old is not None
            and attrs.evolve(priced, priced_at=old.priced_at) == old
            and required == self.required_approvals
        )
        if self.status is not QuoteStatus.DRAFT:
            if same:
                return self.priced  # type: ignore[return-value]
            self._reset_approvals("quote re-priced to a different result", now, actor)
        self.priced = priced
        self.required_approvals = required
        self.record(
            QuotePriced(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                subtotal=priced.subtotal,
                discount_total=priced.discount_total,
                price_book_total=priced.tier_total,
                tax=priced.tax,
                total=priced.total,
                required_approvals=required,
            )
        )
        return priced

    def submit(self, *, now: datetime, actor: str | None = None) -> None:
        """Ask for the approvals the pricing needs; with none needed the quote is approved."""
        now = _check_call(now, actor)
        self._require("submit", frozenset({QuoteStatus.DRAFT}))
        if self.priced is None:
            raise RuleViolation(f"quote {self.id!r} must be priced before it is submitted")
        self._require_valid("submit", now)
        self.record(
            QuoteSubmitted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                required_approvals=self.required_approvals,
            )
        )
        if self.required_approvals:
            self.status = QuoteStatus.PENDING_APPROVAL
        else:
            self._approved(now, actor)

    def _approved(self, now: datetime, actor: str | None) -> None:
        self.status = QuoteStatus.APPROVED
        self.record(
            QuoteApproved(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                approved_by=tuple(a.by for a in self.current_approvals if a.approved),
            )
        )

    def _decide(
        self, role: str, by: str, now: datetime, comment: str | None, approved: bool
    ) -> ApprovalRecord:
        check_id(role, "role")
        check_id(by, "by")
        action = "approve" if approved else "reject the approval of"
        self._require(action, frozenset({QuoteStatus.PENDING_APPROVAL}))
        pending = self.pending_approvals
        if role not in pending:
            raise RuleViolation(
                f"quote {self.id!r} does not wait for role {role!r}; it waits for "
                f"{', '.join(pending)}",
                details={"quote_id": self.id, "role": role, "pending": list(pending)},
            )
        if approved and role != pending[0]:
            raise RuleViolation(
                f"role {role!r} approves after {pending[0]!r}; approvals go from the lowest "
                "level up",
                details={"quote_id": self.id, "role": role, "next": pending[0]},
            )
        if self.owner is not None and by == self.owner:
            raise RuleViolation(
                f"{by!r} owns quote {self.id!r} and cannot approve or reject its discount",
                details={"quote_id": self.id, "by": by},
            )
        record = ApprovalRecord(
            role=role, by=by, at=now, approved=approved, round=self.approval_round, comment=comment
        )
        self.approvals = (*self.approvals, record)
        self.record(
            QuoteApprovalDecided(
                aggregate_id=self.id,
                occurred_at=now,
                actor=by,
                role=role,
                by=by,
                approved=approved,
                comment=record.comment,
            )
        )
        return record

    def approve(self, role: str, *, by: str, now: datetime, comment: str | None = None) -> None:
        """Record ``by``'s approval in ``role``; the last one approves the quote.

        Roles approve in order from the lowest level; the quote's owner cannot approve it
        (the host's access policy checks that ``by`` holds ``role``).
        """
        now = _check_call(now, by)
        self._decide(role, by, now, comment, True)
        if not self.pending_approvals:
            self._approved(now, by)

    def reject_approval(
        self, role: str, *, by: str, now: datetime, comment: str | None = None
    ) -> None:
        """Record that ``by`` in ``role`` refused the discount; the quote is a draft again."""
        now = _check_call(now, by)
        self._decide(role, by, now, comment, False)
        self._reset_approvals(f"{role} rejected the discount", now, by)

    # ----- with the customer -------------------------------------------------------------------

    def send(self, *, now: datetime, actor: str | None = None) -> None:
        """Mark the approved quote as sent to the customer."""
        now = _check_call(now, actor)
        self._require("send", frozenset({QuoteStatus.APPROVED}))
        self._require_valid("send", now)
        assert self.priced is not None
        self.status = QuoteStatus.SENT
        self.sent_at = now
        self.record(
            QuoteSent(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                total=self.priced.total,
                valid_until=self.valid_until,
            )
        )

    def accept(self, *, now: datetime, actor: str | None = None) -> None:
        """Record the customer's acceptance: prices freeze; ``QuoteAccepted`` carries the order.

        Redeem :attr:`applied_coupon_codes` with :meth:`Coupon.redeem` in the same unit of
        work, so a coupon over its limit makes the whole acceptance fail.
        """
        now = _check_call(now, actor)
        self._require("accept", frozenset({QuoteStatus.SENT}))
        self._require_valid("accept", now)
        priced = self.priced
        assert priced is not None
        self.status = QuoteStatus.ACCEPTED
        self.closed_at = now
        self.record(
            QuoteAccepted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=self.customer_id,
                revision=self.revision,
                currency=self.currency,
                lines=tuple(
                    OrderLine(
                        line_id=line.line_id,
                        sku=line.sku,
                        quantity=line.quantity,
                        unit=line.unit,
                        tax_category=line.tax_category,
                        tax_rate=line.tax_rate,
                        list_price=line.list_price,
                        price_book_amount=line.tier_amount,
                        discount=line.discount,
                        amount=line.amount,
                        tax=line.tax,
                        total=line.total,
                    )
                    for line in priced.lines
                ),
                subtotal=priced.subtotal,
                quote_discount=priced.quote_discount,
                tax=priced.tax,
                total=priced.total,
                tax_included=priced.tax_included,
                coupon_codes=self.applied_coupon_codes,
                customer_group=self.customer_group,
                priced_at=priced.priced_at,
            )
        )

    def reject(self, *, now: datetime, reason: str | None = None, actor: str | None = None) -> None:
        """Record that the customer rejected the sent quote."""
        now = _check_call(now, actor)
        self._require("reject", frozenset({QuoteStatus.SENT}))
        self.status = QuoteStatus.REJECTED
        self.rejection_reason = reason
        self.closed_at = now
        self.record(
            QuoteRejected(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                reason=self.rejection_reason,
            )
        )

    def expire(self, *, now: datetime, actor: str | None = None) -> None:
        """Expire an open quote whose ``valid_until`` has passed (refused before that)."""
        now = _check_call(now, actor)
        self._require("expire", _OPEN)
        if now < self.valid_until:
            raise RuleViolation(
                f"quote {self.id!r} is valid until {self.valid_until.isoformat()}; it cannot "
                "expire before then",
                details={"quote_id": self.id, "valid_until": self.valid_until.isoformat()},
            )
        self.status = QuoteStatus.EXPIRED
        self.closed_at = now
        self.record(
            QuoteExpired(
                aggregate_id=self.id, occurred_at=now, actor=actor, valid_until=self.valid_until
            )
        )

    def revise(
        self,
        *,
        new_id: str,
        now: datetime,
        valid_until: datetime | None = None,
        actor: str | None = None,
    ) -> Quote:
        """Supersede this quote with a new draft revision (returned); this one stays readable.

        The revision copies the lines, coupons, discount, customer and owner, has
        ``revision + 1`` and ``previous_revision_id`` = this id, and needs pricing and
        approval again. Save both quotes in one unit of work.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> q = Quote.create(id="q_1", customer_id="c", currency="TWD", now=now,
            ...                  valid_until=now + timedelta(days=30))
            >>> r = q.revise(new_id="q_2", now=now)
            >>> (r.revision, r.previous_revision_id, q.status.value, q.superseded_by)
            (2, 'q_1', 'superseded', 'q_2')
        """
        now = _check_call(now, actor)
        self._require("revise", _REVISABLE)
        check_id(new_id, "new_id")
        if new_id == self.id:
            raise ValidationError("must differ from the quote's own id", path="new_id")
        until = ensure_aware(valid_until, "valid_until") if valid_until else self.valid_until
        if until <= now:
            raise ValidationError(
                f"must be after now ({now.isoformat()}); give a new valid_until",
                path="valid_until",
            )
        revision = Quote(
            id=new_id,
            customer_id=self.customer_id,
            currency=self.currency,
            created_at=now,
            valid_until=until,
            lines=self.lines,
            customer_group=self.customer_group,
            coupon_codes=self.coupon_codes,
            discount=self.discount,
            owner=self.owner,
            revision=self.revision + 1,
            previous_revision_id=self.id,
        )
        self.status = QuoteStatus.SUPERSEDED
        self.superseded_by = new_id
        self.record(
            QuoteRevised(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                new_quote_id=new_id,
                new_revision=revision.revision,
            )
        )
        revision._created(now, actor)
        return revision
