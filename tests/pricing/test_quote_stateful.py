"""A stateful test of the Quote lifecycle against a small model of what each command may do."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit.errors import RuleViolation
from crmkit.pricing import (
    ApprovalPolicy,
    ManualDiscount,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from crmkit.pricing.engine import _example_setup
from crmkit.serialization import unstructure

CATALOG, RULES, TAX, START = _example_setup()
POLICY = ApprovalPolicy.default()
S = QuoteStatus
EDITABLE = {S.DRAFT, S.PENDING_APPROVAL, S.APPROVED}
OPEN = EDITABLE | {S.SENT}
REVISABLE = OPEN | {S.REJECTED, S.EXPIRED}


class QuoteLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.count = 1
        self.quote = Quote.create(
            id="q_1",
            customer_id="cus_1",
            currency="TWD",
            now=self.now,
            owner="u_rep",
            valid_until=self.now + timedelta(days=12),
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=20)],
        )
        self.status = S.DRAFT
        self.priced = False
        self.accepted_pricing = None
        self.superseded: list[Quote] = []

    # -- helpers ---------------------------------------------------------------------------

    def attempt(self, allowed: bool, action) -> bool:
        """Run ``action``; it must succeed iff ``allowed``, and a refusal changes nothing."""
        before = unstructure(self.quote)
        events = len(self.quote.pending_events)
        try:
            action()
        except RuleViolation:
            assert not allowed, "refused a command the model allows"
            assert unstructure(self.quote) == before, "a refused command changed the quote"
            assert len(self.quote.pending_events) == events
            return False
        assert allowed, "accepted a command the model refuses"
        return True

    @property
    def valid(self) -> bool:
        return self.now < self.quote.valid_until

    def edited(self) -> None:
        self.status = S.DRAFT
        self.priced = False

    # -- commands --------------------------------------------------------------------------

    @rule(quantity=st.integers(1, 80), percent=st.sampled_from([None, 0, 5, 20, 30]))
    def edit_line(self, quantity, percent):
        discount = None if percent is None else ManualDiscount(percent=percent)
        new = QuoteLine(line_id="l1", sku="TEA-500", quantity=quantity, discount=discount)
        if self.attempt(self.status in EDITABLE, lambda: self.quote.update_line(new, now=self.now)):
            self.edited()

    @rule(percent=st.sampled_from([1, 12, 40]))
    def set_quote_discount(self, percent):
        discount = ManualDiscount(percent=percent)
        changes = discount != self.quote.discount
        if (
            self.attempt(
                self.status in EDITABLE or not changes,
                lambda: self.quote.set_discount(discount, now=self.now),
            )
            and changes
        ):
            self.edited()

    @rule()
    def price(self):
        if self.attempt(
            self.status in EDITABLE,
            lambda: self.quote.price(CATALOG, RULES, now=self.now, tax=TAX, approvals=POLICY),
        ):
            self.priced = True  # same catalog and rules: a re-price never changes the result

    @rule()
    def submit(self):
        allowed = self.status is S.DRAFT and self.priced and self.valid
        if self.attempt(allowed, lambda: self.quote.submit(now=self.now)):
            self.status = S.PENDING_APPROVAL if self.quote.required_approvals else S.APPROVED

    @rule()
    def approve_next(self):
        pending = self.quote.pending_approvals
        role = pending[0] if pending else "sales_manager"
        if (
            self.attempt(
                self.status is S.PENDING_APPROVAL,
                lambda: self.quote.approve(role, by="u_boss", now=self.now, comment="ok"),
            )
            and len(pending) == 1
        ):
            self.status = S.APPROVED

    @rule()
    def approve_out_of_order(self):
        pending = self.quote.pending_approvals
        if len(pending) > 1:
            self.attempt(False, lambda: self.quote.approve(pending[1], by="u_boss", now=self.now))
        else:
            self.attempt(False, lambda: self.quote.approve("cfo", by="u_boss", now=self.now))

    @rule()
    def self_approval(self):
        pending = self.quote.pending_approvals or ("sales_manager",)
        self.attempt(False, lambda: self.quote.approve(pending[0], by="u_rep", now=self.now))

    @rule()
    def reject_approval(self):
        pending = self.quote.pending_approvals
        role = pending[-1] if pending else "director"
        if self.attempt(
            self.status is S.PENDING_APPROVAL,
            lambda: self.quote.reject_approval(role, by="u_boss", now=self.now, comment="no"),
        ):
            self.status = S.DRAFT

    @rule()
    def send(self):
        if self.attempt(
            self.status is S.APPROVED and self.valid, lambda: self.quote.send(now=self.now)
        ):
            self.status = S.SENT

    @rule()
    def accept(self):
        if self.attempt(
            self.status is S.SENT and self.valid, lambda: self.quote.accept(now=self.now)
        ):
            self.status = S.ACCEPTED
            self.accepted_pricing = self.quote.priced

    @rule()
    def customer_rejects(self):
        if self.attempt(self.status is S.SENT, lambda: self.quote.reject(now=self.now)):
            self.status = S.REJECTED

    @rule(days=st.integers(1, 4))
    def time_passes(self, days):
        self.now += timedelta(days=days)

    @rule()
    def let_it_lapse(self):
        self.now = max(self.now, self.quote.valid_until)
        self.expire()

    @rule()
    def expire(self):
        if self.attempt(
            self.status in OPEN and not self.valid, lambda: self.quote.expire(now=self.now)
        ):
            self.status = S.EXPIRED

    @rule()
    def revise(self):
        self.count += 1
        new_id = f"q_{self.count}"
        until = self.now + timedelta(days=12)
        revised: list[Quote] = []
        if self.attempt(
            self.status in REVISABLE,
            lambda: revised.append(
                self.quote.revise(new_id=new_id, now=self.now, valid_until=until)
            ),
        ):
            old = self.quote
            assert old.status is S.SUPERSEDED and old.superseded_by == new_id
            self.superseded.append(old)
            self.quote = revised[0]
            assert self.quote.previous_revision_id == old.id
            assert self.quote.revision == old.revision + 1
            self.status = S.DRAFT
            self.priced = False

    def _progress(self) -> None:
        """The next step of the happy path, so runs reach sent and accepted quotes often."""
        if self.status is S.DRAFT and not self.priced:
            self.price()
        elif self.status is S.DRAFT:
            self.submit()
        elif self.status is S.PENDING_APPROVAL:
            self.approve_next()
        elif self.status is S.APPROVED:
            self.send()
        elif self.status is S.SENT:
            self.accept()
        else:
            self.revise()

    # Three identical rules: the happy path is drawn three times as often as any other step.
    @rule()
    def progress(self):
        self._progress()

    @rule()
    def progress_again(self):
        self._progress()

    @rule()
    def progress_once_more(self):
        self._progress()

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def status_matches_the_model(self):
        assert self.quote.status is self.status

    @invariant()
    def past_draft_means_priced_and_approved(self):
        q = self.quote
        if q.status in (S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.ACCEPTED):
            assert q.priced is not None
        if q.status in (S.APPROVED, S.SENT, S.ACCEPTED):
            done = {a.role for a in q.current_approvals if a.approved}
            assert set(q.required_approvals) <= done
        if q.status is S.PENDING_APPROVAL:
            assert q.pending_approvals
        assert self.priced == (q.priced is not None)

    @invariant()
    def acceptance_froze_the_pricing(self):
        if self.status is S.ACCEPTED:
            assert self.quote.priced is self.accepted_pricing

    @invariant()
    def old_revisions_stay_readable_and_closed(self):
        for old in self.superseded:
            assert old.status is S.SUPERSEDED
            assert old.superseded_by is not None


QuoteLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestQuoteLifecycle = QuoteLifecycle.TestCase
