"""20 threads accept quotes that share a coupon limited to 5 uses: exactly 5 succeed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.errors import ConcurrencyError, RuleViolation
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


def test_a_coupon_limit_holds_under_concurrent_acceptances(store: Store) -> None:
    ids = _seed(store)
    _, _, _, now = _example_setup()
    outcomes: dict[str, str] = {}
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def accept(quote_id: str) -> None:
        start.wait()
        while True:
            try:
                with store.unit_of_work() as uow:
                    quote = uow.quotes.get(quote_id)
                    coupon = uow.coupons.get(Coupon.id_for("SPRING5"))
                    quote.accept(now=now)
                    for _code in quote.applied_coupon_codes:
                        coupon.redeem(quote.id, quote.customer_id, now)
                    uow.quotes.save(quote)
                    uow.coupons.save(coupon)
                    uow.commit()
                result = "accepted"
            except ConcurrencyError:
                continue  # someone redeemed first: read again and retry
            except RuleViolation as exc:
                result = f"refused: {exc}"
            with lock:
                outcomes[quote_id] = result
            return

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    accepted = [i for i, r in outcomes.items() if r == "accepted"]
    assert len(accepted) == LIMIT
    assert all("limit" in r for r in outcomes.values() if r != "accepted")
    with store.unit_of_work() as uow:
        coupon = uow.coupons.get(Coupon.id_for("SPRING5"))
        statuses = [uow.quotes.get(i).status for i in ids]
    assert len(coupon.redemptions) == LIMIT
    assert sorted(r.quote_id for r in coupon.redemptions) == sorted(accepted)
    assert statuses.count(QuoteStatus.ACCEPTED) == LIMIT  # the refused ones stay sent
