"""Hypothesis strategies and builders for analytics tests: deals with realistic life cycles.

:func:`deal` builds an opportunity through its real commands (open, move to proposal, win or
lose), so its history, dates and derived fields are the ones the rules produce;
:func:`deal_lists` draws lists of them spread around period boundaries (in any time zone),
with several owners, currencies, missing amounts and open deals with or without a date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial

from hypothesis import strategies as st

from crmkit.analytics.sales import _build_deal
from crmkit.kernel.money import Money
from crmkit.pipeline import Opportunity, Pipeline, Stage, Transition

__all__ = ["SALES", "deal", "deal_lists"]

#: The pipeline the drawn deals run on.
SALES = Pipeline(
    key="sales",
    name="Sales",
    stages=[
        Stage("lead", "Lead", 10),
        Stage("proposal", "Proposal", 60),
        Stage("won", "Won", 100, kind="won"),
        Stage("lost", "Lost", 0, kind="lost"),
    ],
    transitions=[
        Transition("lead", "proposal"),
        Transition("proposal", "won"),
        Transition("lead", "won"),
        Transition("lead", "lost"),
        Transition("proposal", "lost"),
    ],
)

_START = datetime(2025, 12, 20, tzinfo=timezone.utc)


#: Open a deal at ``created`` (in :data:`SALES` unless ``pipeline`` is given); optionally move
#: it to proposal (``proposal_at``), then close it (``outcome`` ``"won"`` or ``"lost"`` at
#: ``closed``).
deal = partial(_build_deal, pipeline=SALES)


@st.composite
def _deal(draw: st.DrawFn, id: str) -> Opportunity:
    created = _START + timedelta(
        hours=draw(st.integers(0, 24 * 150)), microseconds=draw(st.integers(0, 999_999))
    )
    owner = draw(st.sampled_from([None, "u_amy", "u_ben", "u_cho"]))
    currency = draw(st.sampled_from(["TWD", "TWD", "USD"]))
    cents = draw(st.one_of(st.none(), st.integers(0, 10_000_000)))
    amount = None if cents is None else Money(Decimal(cents).scaleb(-2), currency)
    expected = draw(st.one_of(st.none(), st.dates(date(2025, 12, 1), date(2026, 8, 31))))
    proposal = draw(st.booleans())
    proposal_at = created + timedelta(hours=draw(st.integers(0, 500))) if proposal else None
    outcome = draw(st.sampled_from([None, "won", "lost"]))
    closed = None
    if outcome is not None:
        base = proposal_at or created
        closed = base + timedelta(
            hours=draw(st.integers(0, 24 * 60)), microseconds=draw(st.integers(0, 999_999))
        )
    if outcome == "won" and amount is None:
        amount = draw(st.one_of(st.none(), st.just(Money("10.5", currency))))
    return deal(
        id,
        created=created,
        owner=owner,
        amount=amount,
        expected=expected,
        proposal_at=proposal_at,
        outcome=outcome,
        closed=closed,
    )


@st.composite
def deal_lists(draw: st.DrawFn, max_size: int = 25) -> list[Opportunity]:
    """Lists of deals with distinct ids."""
    n = draw(st.integers(0, max_size))
    return [draw(_deal(f"opp_{i}")) for i in range(n)]
