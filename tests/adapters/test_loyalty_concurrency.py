"""Concurrent earns for one member through the CRM facade (``crm.earn_for_order``), on databases.

16 threads earn for one member with distinct order ids while 16 more send the same order id
again and again, all at once: the balance is the sum of the distinct orders' points exactly,
and the ledger has exactly one earn entry per order id. The handler retries an earn whose save
a concurrent one made stale; nothing here retries by hand.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.loyalty import LoyaltySettings
from crmkit.customers import Customer
from crmkit.kernel.money import Money
from crmkit.loyalty import BaseRate, EarnOrder, EarnRules, EntryKind, LoyaltyProgram, Membership
from crmkit.ports import Store

DISTINCT = 16
REPEATS = 16
NOW = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Taipei"))


@pytest.fixture(params=["sqlite-file", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite-file":
        sqlite = SQLiteStore(tmp_path / "crm.db")
        yield sqlite
        sqlite.close()
    else:
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        yield SQLAlchemyStore(engine)


def _crm(store: Store) -> CRM:
    program = LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=Money("0.5", "TWD"),
        earn=EarnRules(base=BaseRate(points=1, per=Money("100", "TWD"))),
    )
    # 32 writers on one membership: each round of saves has one winner, so a writer may lose
    # many rounds; give the retries room (the default is 10).
    crm = bootstrap(
        store=store,
        clock=ManualClock(NOW),
        loyalty=LoyaltySettings(program_id=program.id, attempts=100),
    )
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_amy", name="Amy Lin", kind="person", now=NOW))
        uow.commit()
    crm.save_loyalty_program(program)
    crm.enroll_member("cus_amy")
    return crm


def _run_together(jobs: list[Callable[[], object]]) -> list[object]:
    start = threading.Barrier(len(jobs))
    results: list[object] = []
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        start.wait()
        try:
            result = job()
        except Exception as exc:  # recorded, so the assertion below shows it
            result = exc
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_earns_for_one_member_add_up_exactly(store: Store) -> None:
    crm = _crm(store)

    def earn(order_id: str, amount: int) -> Callable[[], object]:
        order = EarnOrder.of(order_id, Money(str(amount), "TWD"))
        return lambda: crm.earn_for_order("cus_amy", order).points

    # Order n is NT$1,000 + NT$100 x n: 10 + n points; the repeated order NT$5,000: 50 points.
    distinct = [earn(f"o_{n:02d}", 1000 + 100 * n) for n in range(DISTINCT)]
    repeated = [earn("o_same", 5000) for _ in range(REPEATS)]
    jobs = [job for pair in zip(distinct, repeated) for job in pair]
    results = _run_together(jobs)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    # sum(10 + n for n in 0..15) = 160 + 120 = 280, plus 50 once.
    expected = sum(10 + n for n in range(DISTINCT)) + 50
    assert expected == 330
    assert Counter(results)[50] == REPEATS  # every retry of o_same answers with its one entry
    member = crm.get_membership("cus_amy")
    assert member.balance(NOW).available == expected
    earns = Counter(e.reference for e in member.entries if e.kind is EntryKind.EARN)
    assert earns == Counter({**{f"o_{n:02d}": 1 for n in range(DISTINCT)}, "o_same": 1})
    with store.unit_of_work() as uow:
        stored = uow.memberships.get(Membership.id_for("tea_club", "cus_amy"))
    assert stored.available(NOW) == expected
    earned_events = [
        e for e in store.outbox.pending(1000) if e.event.event_type == "loyalty.PointsEarned"
    ]
    assert len(earned_events) == DISTINCT + 1
