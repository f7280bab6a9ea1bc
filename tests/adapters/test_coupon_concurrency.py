"""Concurrent acceptances through the CRM facade (``crm.accept_quote``), on real databases.

20 threads accept quotes that share a coupon limited to 5 uses: exactly 5 succeed. 10 threads
accept the same quote: it is accepted once and its coupon used once. The handler retries an
acceptance whose save a concurrent one made stale; nothing here retries by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.errors import RuleViolation
from crmkit.ports import Store
from crmkit.pricing import Coupon, Quote, QuoteLine, QuoteStatus
from crmkit.pricing.engine import _example_setup

THREADS = 20
LIMIT = 5


@pytest.fixture(params=["sqlite-file", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite-file":
        sqlite = SQLiteStore(tmp_path / "crm.db")
        yield sqlite
        sqlite.close()
    else:
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        yield SQLAlchemyStore(engine)


def _seed(store: Store) -> list[str]:
    catalog, rules, tax, now = _example_setup()
    coupon = Coupon(code="SPRING5", name="Spring 5%", created_at=now, percent=5, usage_limit=LIMIT)
    ids = []
    with store.unit_of_work() as uow:
        uow.coupons.add(coupon)
        for n in range(THREADS):
            quote = Quote.create(
                id=f"quo_{n:02d}", customer_id=f"cus_{n:02d}", currency="TWD", now=now,
                valid_until=now + timedelta(days=30), coupon_codes=["SPRING5"],
                lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=3)],
            )  # fmt: skip
            quote.price(catalog, rules, now=now, tax=tax, coupons=[coupon])
            quote.submit(now=now)
            for level in quote.required_approvals:
                quote.approve(level, by="usr_boss", now=now)
            quote.send(now=now)
            uow.quotes.add(quote)
            ids.append(quote.id)
        uow.commit()
    return ids


def _crm(store: Store) -> CRM:
    _, _, _, now = _example_setup()
    return bootstrap(store=store, clock=ManualClock(now))


def _run_together(targets: list[str], accept: Callable[[str], None]) -> None:
    start = threading.Barrier(len(targets))

    def run(quote_id: str) -> None:
        start.wait()
        accept(quote_id)

    threads = [threading.Thread(target=run, args=(i,)) for i in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_coupon_limit_holds_under_concurrent_acceptances(store: Store) -> None:
    ids = _seed(store)
    crm = _crm(store)
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def accept(quote_id: str) -> None:
        try:
            crm.accept_quote(quote_id, actor="usr_portal")
            result = "accepted"
        except RuleViolation as exc:
            result = f"refused: {exc}"
        except Exception as exc:  # recorded, so the assertion below shows it
            result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes[quote_id] = result

    _run_together(ids, accept)

    assert len(outcomes) == THREADS
    accepted = [i for i, r in outcomes.items() if r == "accepted"]
    assert len(accepted) == LIMIT, outcomes
    assert all("usage limit" in r for r in outcomes.values() if r != "accepted"), outcomes
    with store.unit_of_work() as uow:
        coupon = uow.coupons.get(Coupon.id_for("SPRING5"))
        statuses = [uow.quotes.get(i).status for i in ids]
    assert len(coupon.redemptions) == LIMIT
    assert sorted(r.quote_id for r in coupon.redemptions) == sorted(accepted)
    assert statuses.count(QuoteStatus.ACCEPTED) == LIMIT  # the refused ones stay sent
    assert statuses.count(QuoteStatus.SENT) == THREADS - LIMIT


def test_one_quote_accepted_by_many_at_once_is_accepted_once(store: Store) -> None:
    quote_id = _seed(store)[0]
    crm = _crm(store)
    results: list[object] = []
    lock = threading.Lock()

    def accept(quote_id: str) -> None:
        try:
            result: object = crm.accept_quote(quote_id).status
        except Exception as exc:  # recorded, so the assertion below shows it
            result = exc
        with lock:
            results.append(result)

    _run_together([quote_id] * 10, accept)

    assert results == [QuoteStatus.ACCEPTED] * 10
    coupon = crm.get_coupon("SPRING5")
    assert [r.quote_id for r in coupon.redemptions] == [quote_id]
    accepted_events = [
        e for e in store.outbox.pending(1000) if e.event.event_type == "pricing.QuoteAccepted"
    ]
    assert [e.event.aggregate_id for e in accepted_events] == [quote_id]
