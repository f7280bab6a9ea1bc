"""The repository contract: what every ``crmkit.ports.Repository`` must do, as pytest tests.

Subclass :class:`RepositoryContract` in a test module (name the subclass ``Test...``) and give it
a ``crm_store`` fixture that returns a fresh, empty object satisfying ``crmkit.ports.Store``.

Example:
    >>> import pytest
    >>> from crmkit.adapters.memory import MemoryStore
    >>> class TestMemoryRepository(RepositoryContract):
    ...     @pytest.fixture
    ...     def crm_store(self):
    ...         return MemoryStore()
    >>> "test_walking_every_page_returns_each_match_once_in_order" in dir(TestMemoryRepository)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.customers import Customer
from crmkit.errors import (
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from crmkit.kernel.query import Op, Query, Scalar
from crmkit.ports import Store
from crmkit.testing.contracts._support import (
    START,
    contact,
    customer,
    customer_ids,
    full_contact,
    full_customer,
    full_delivery,
    full_interaction,
    full_lead,
    full_opportunity,
    full_order,
    full_pipeline,
    interaction,
    new_clock,
    read_customer,
    remove_and_commit,
    save_and_commit,
    store_all,
)

__all__ = ["RepositoryContract"]


def _day(n: int) -> datetime:
    return START + timedelta(days=n)


def _seed(store: Store) -> None:
    """Five customers for query tests; two share the name "Acme"."""
    store_all(
        store,
        [
            customer("cus_a1", "Acme", now=_day(0), tags=["vip", "taipei"], owner="u_1"),
            customer("cus_a2", "Acme Asia", now=_day(1), tags=["taipei"], owner="u_2"),
            customer("cus_b1", "Beta", now=_day(2), kind="person", tags=["vip"]),
            customer("cus_c1", "Cosmo", now=_day(3), kind="person", owner="u_1"),
            customer("cus_c2", "Acme", now=_day(4), kind="person", tags=["shanghai"]),
        ],
    )


_FILTERS: list[tuple[str, str, Any, list[str]]] = [
    ("kind", "eq", "company", ["cus_a1", "cus_a2"]),
    ("kind", "ne", "company", ["cus_b1", "cus_c1", "cus_c2"]),
    ("owner", "eq", None, ["cus_b1", "cus_c2"]),
    ("owner", "ne", None, ["cus_a1", "cus_a2", "cus_c1"]),
    ("created_at", "lt", _day(2), ["cus_a1", "cus_a2"]),
    ("created_at", "le", _day(2), ["cus_a1", "cus_a2", "cus_b1"]),
    ("created_at", "gt", _day(2), ["cus_c1", "cus_c2"]),
    ("created_at", "ge", _day(2), ["cus_b1", "cus_c1", "cus_c2"]),
    ("owner", "in", ("u_1", "u_2"), ["cus_a1", "cus_a2", "cus_c1"]),
    ("tags", "contains", "vip", ["cus_a1", "cus_b1"]),
    ("name", "startswith", "Acme", ["cus_a1", "cus_a2", "cus_c2"]),
    ("name", "startswith", "Acme ", ["cus_a2"]),
    ("name", "eq", "Nobody", []),
]

_ORDERS: list[tuple[tuple[str, ...], list[str]]] = [
    (("name",), ["cus_a1", "cus_c2", "cus_a2", "cus_b1", "cus_c1"]),
    (("-name",), ["cus_c1", "cus_b1", "cus_a2", "cus_a1", "cus_c2"]),
    (("-created_at",), ["cus_c2", "cus_c1", "cus_b1", "cus_a2", "cus_a1"]),
    (("kind", "-created_at"), ["cus_a2", "cus_a1", "cus_c2", "cus_c1", "cus_b1"]),
    (("owner",), ["cus_b1", "cus_c2", "cus_a1", "cus_c1", "cus_a2"]),
    (("-owner",), ["cus_a2", "cus_a1", "cus_c1", "cus_b1", "cus_c2"]),
    (("-id",), ["cus_c2", "cus_c1", "cus_b1", "cus_a2", "cus_a1"]),
]

_SORTABLE = ("name", "kind", "owner", "created_at")


def _value(c: Customer, field: str) -> Scalar:
    return {
        "id": c.id,
        "name": c.name,
        "kind": c.kind.value,
        "owner": c.owner,
        "created_at": c.created_at,
    }[field]


def _rank(value: Scalar) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


def _comes_before(a: Customer, b: Customer, orders: list[tuple[str, bool]]) -> bool:
    """True if ``a`` sorts strictly before ``b`` (None first ascending; ties by id ascending)."""
    for field, descending in [*orders, ("id", False)]:
        x, y = _rank(_value(a, field)), _rank(_value(b, field))
        if x != y:
            return x > y if descending else x < y
    return False


class RepositoryContract:
    """Tests every repository must pass: reads, versioned writes, copies, queries, round trips.

    Needs one fixture, ``crm_store``: a fresh, empty ``crmkit.ports.Store``.

    Example:
        >>> RepositoryContract.__name__.endswith("Contract")  # so pytest does not collect it
        True

    .. versionadded:: 0.1.0
    """

    # ----- add and get ----------------------------------------------------------------------

    def test_add_then_get_returns_an_equal_copy_at_version_1(self, crm_store: Store) -> None:
        """An added aggregate reads back equal, at version 1, as a different object."""
        acme = customer("cus_1")
        store_all(crm_store, [acme])
        assert acme.version == 1
        with crm_store.unit_of_work() as uow:
            stored = uow.customers.get("cus_1")
        assert stored == acme
        assert stored is not acme
        assert stored.version == 1
        assert stored.pending_events == ()

    def test_add_refuses_a_non_zero_version(self, crm_store: Store) -> None:
        """Adding an aggregate that says it was stored before is a ValidationError."""
        acme = customer("cus_1")
        acme.version = 3
        with crm_store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.customers.add(acme)
        assert info.value.errors[0].path == "version"
        assert customer_ids(crm_store) == []

    def test_add_refuses_an_id_already_stored(self, crm_store: Store) -> None:
        """Adding an id that is stored raises DuplicateError and leaves the stored one alone."""
        store_all(crm_store, [customer("cus_1", "First")])
        with crm_store.unit_of_work() as uow, pytest.raises(DuplicateError) as info:
            uow.customers.add(customer("cus_1", "Second"))
        assert "cus_1" in str(info.value)
        assert read_customer(crm_store, "cus_1").name == "First"

    def test_add_refuses_an_id_added_earlier_in_the_same_unit_of_work(
        self, crm_store: Store
    ) -> None:
        """Adding the same id twice in one unit of work raises DuplicateError."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1", "First"))
            with pytest.raises(DuplicateError):
                uow.customers.add(customer("cus_1", "Second"))
            uow.commit()
        assert read_customer(crm_store, "cus_1").name == "First"

    def test_add_many_stores_a_batch_at_version_one_with_its_events(self, crm_store: Store) -> None:
        """``add_many`` stores every aggregate at version 1 and commits each one's events."""
        batch = [customer(f"cus_{i}", f"Batch {i}", tags=["vip"]) for i in range(5)]
        with crm_store.unit_of_work() as uow:
            uow.customers.add_many(batch)
            assert [c.version for c in batch] == [1] * 5
            events = uow.commit()
        assert [e.aggregate_id for e in events] == [f"cus_{i}" for i in range(5)]
        assert customer_ids(crm_store) == [f"cus_{i}" for i in range(5)]
        with crm_store.unit_of_work() as uow:
            page = uow.customers.query(Query().filter("tags", "contains", "vip"))
            assert len(page.items) == 5

    def test_add_many_with_one_stored_id_stores_none_of_the_batch(self, crm_store: Store) -> None:
        """A batch holding an id already stored raises DuplicateError and writes nothing."""
        store_all(crm_store, [customer("cus_2", "Stored")])
        batch = [customer(f"cus_{i}", f"Batch {i}") for i in range(4)]
        with crm_store.unit_of_work() as uow:
            with pytest.raises(DuplicateError, match="cus_2"):
                uow.customers.add_many(batch)
            uow.customers.add(customer("cus_9", "After"))
            uow.commit()
        assert customer_ids(crm_store) == ["cus_2", "cus_9"]
        assert read_customer(crm_store, "cus_2").name == "Stored"
        assert [c.version for c in batch] == [0] * 4

    def test_add_many_refuses_an_id_twice_in_the_batch(self, crm_store: Store) -> None:
        """The same id twice in one batch is a DuplicateError; nothing is written."""
        with crm_store.unit_of_work() as uow, pytest.raises(DuplicateError):
            uow.customers.add_many([customer("cus_1", "A"), customer("cus_1", "B")])
        assert customer_ids(crm_store) == []

    def test_get_of_an_unknown_id_names_kind_and_id(self, crm_store: Store) -> None:
        """``get`` of a missing id raises NotFoundError naming the kind and the id."""
        with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError) as info:
            uow.customers.get("cus_404")
        assert "cus_404" in str(info.value)
        assert "customers" in str(info.value)
        assert info.value.details["id"] == "cus_404"
        assert info.value.details["kind"] == "customers"

    def test_get_many_keeps_the_order_asked(self, crm_store: Store) -> None:
        """``get_many`` returns the aggregates in the order of the ids given."""
        store_all(crm_store, [customer(f"cus_{n}", f"Name {n}") for n in range(1, 6)])
        with crm_store.unit_of_work() as uow:
            found = uow.customers.get_many(["cus_4", "cus_1", "cus_5", "cus_2"])
            assert uow.customers.get_many([]) == []
        assert [c.id for c in found] == ["cus_4", "cus_1", "cus_5", "cus_2"]
        assert [c.name for c in found] == ["Name 4", "Name 1", "Name 5", "Name 2"]

    def test_get_many_names_every_missing_id(self, crm_store: Store) -> None:
        """``get_many`` with missing ids raises one NotFoundError listing all of them."""
        store_all(crm_store, [customer("cus_1")])
        with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError) as info:
            uow.customers.get_many(["cus_8", "cus_1", "cus_9"])
        assert "cus_8" in str(info.value)
        assert "cus_9" in str(info.value)
        assert info.value.details["ids"] == ["cus_8", "cus_9"]

    # ----- save and remove ------------------------------------------------------------------

    def test_each_save_bumps_the_version_by_one(self, crm_store: Store) -> None:
        """Versions go 1, 2, 3 over an add and two saves, on the object and in the store."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        for n, expected in [(2, 2), (3, 3)]:
            with crm_store.unit_of_work() as uow:
                acme = uow.customers.get("cus_1")
                acme.rename(f"Acme {n}", now=clock.now())
                uow.customers.save(acme)
                assert acme.version == expected
                uow.commit()
        stored = read_customer(crm_store, "cus_1")
        assert (stored.name, stored.version) == ("Acme 3", 3)

    def test_save_of_a_stale_version_is_refused(self, crm_store: Store) -> None:
        """Saving with a version older than the stored one raises ConcurrencyError."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as uow:
            stale = uow.customers.get("cus_1")
        with crm_store.unit_of_work() as uow:
            fresh = uow.customers.get("cus_1")
            fresh.rename("Fresh", now=clock.now())
            uow.customers.save(fresh)
            uow.commit()
        stale.rename("Stale", now=clock.now())
        with crm_store.unit_of_work() as uow, pytest.raises(ConcurrencyError) as info:
            save_and_commit(uow, stale)
        assert info.value.details["expected_version"] == 1
        assert info.value.details["actual_version"] == 2
        assert read_customer(crm_store, "cus_1").name == "Fresh"

    def test_save_of_a_never_added_aggregate_is_not_found(self, crm_store: Store) -> None:
        """Saving an aggregate that was never added (version 0) raises NotFoundError."""
        with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.customers.save(customer("cus_1"))
        assert customer_ids(crm_store) == []

    def test_remove_deletes_the_record(self, crm_store: Store) -> None:
        """A removed aggregate can no longer be read, and its id can be added again."""
        store_all(crm_store, [customer("cus_1", "Old"), customer("cus_2")])
        with crm_store.unit_of_work() as uow:
            uow.customers.remove(uow.customers.get("cus_1"))
            uow.commit()
        with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.customers.get("cus_1")
        assert customer_ids(crm_store) == ["cus_2"]
        store_all(crm_store, [customer("cus_1", "New")])
        again = read_customer(crm_store, "cus_1")
        assert (again.name, again.version) == ("New", 1)

    def test_remove_of_a_stale_version_is_refused(self, crm_store: Store) -> None:
        """Removing with an old version raises ConcurrencyError and keeps the record."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as uow:
            stale = uow.customers.get("cus_1")
        with crm_store.unit_of_work() as uow:
            fresh = uow.customers.get("cus_1")
            fresh.rename("Fresh", now=clock.now())
            uow.customers.save(fresh)
            uow.commit()
        with crm_store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
            remove_and_commit(uow, stale)
        assert read_customer(crm_store, "cus_1").name == "Fresh"

    def test_wrong_aggregate_type_is_a_validation_error(self, crm_store: Store) -> None:
        """Passing a Contact to the customers repository (or the like) is a ValidationError."""
        wrong: Any = contact("con_1", "cus_1")
        with crm_store.unit_of_work() as uow:
            with pytest.raises(ValidationError):
                uow.customers.add(wrong)
            with pytest.raises(ValidationError):
                uow.interactions.add(wrong)
            uow.commit()
        assert customer_ids(crm_store) == []

    # ----- reads see writes; copies, not references -----------------------------------------

    def test_reads_see_this_unit_of_works_own_writes(self, crm_store: Store) -> None:
        """Within a unit of work, get and query see what it added, saved and removed."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Gone"), customer("cus_2", "Old name")])
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_3", "New"))
            uow.customers.remove(uow.customers.get("cus_1"))
            renamed = uow.customers.get("cus_2")
            renamed.rename("New name", now=clock.now())
            uow.customers.save(renamed)
            assert uow.customers.get("cus_3").name == "New"
            assert uow.customers.get("cus_2").name == "New name"
            assert uow.customers.get("cus_2").version == 2
            with pytest.raises(NotFoundError):
                uow.customers.get("cus_1")
            page = uow.customers.query(Query().order("name"))
            assert [c.id for c in page.items] == ["cus_3", "cus_2"]
            uow.commit()
        assert customer_ids(crm_store) == ["cus_2", "cus_3"]

    def test_each_read_returns_a_new_object(self, crm_store: Store) -> None:
        """Two reads of one record return equal but distinct objects."""
        store_all(crm_store, [customer("cus_1")])
        with crm_store.unit_of_work() as uow:
            first, second = uow.customers.get("cus_1"), uow.customers.get("cus_1")
            (third,) = uow.customers.get_many(["cus_1"])
            (fourth,) = uow.customers.query(Query()).items
        assert first == second == third == fourth
        assert len({id(first), id(second), id(third), id(fourth)}) == 4

    def test_changing_a_read_object_without_saving_changes_nothing(self, crm_store: Store) -> None:
        """Mutating a returned object, then committing without save, leaves the record as it was."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme", tags=["vip"])])
        with crm_store.unit_of_work() as uow:
            acme = uow.customers.get("cus_1")
            acme.rename("Changed", now=clock.now())
            acme.tag(add=["lost"], now=clock.now())
            assert uow.customers.get("cus_1").name == "Acme"
            assert uow.commit() == ()
        stored = read_customer(crm_store, "cus_1")
        assert (stored.name, stored.tags, stored.version) == ("Acme", ("vip",), 1)

    def test_changing_an_added_object_before_commit_changes_nothing_stored(
        self, crm_store: Store
    ) -> None:
        """What ``add`` stores is the object as it was at ``add``, not a live reference."""
        clock = new_clock()
        acme = customer("cus_1", "Acme")
        with crm_store.unit_of_work() as uow:
            uow.customers.add(acme)
            acme.name = "Changed after add"
            acme.tag(add=["late"], now=clock.now())
            uow.commit()
        stored = read_customer(crm_store, "cus_1")
        assert (stored.name, stored.tags) == ("Acme", ())

    def test_changing_a_saved_object_before_commit_changes_nothing_stored(
        self, crm_store: Store
    ) -> None:
        """What ``save`` stores is the object as it was at ``save``."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as uow:
            acme = uow.customers.get("cus_1")
            acme.rename("Saved name", now=clock.now())
            uow.customers.save(acme)
            acme.name = "Changed after save"
            uow.commit()
        assert read_customer(crm_store, "cus_1").name == "Saved name"

    # ----- round trips ----------------------------------------------------------------------

    def test_customer_round_trip(self, crm_store: Store) -> None:
        """A customer with every field set reads back equal."""
        original = full_customer()
        store_all(crm_store, [original])
        assert read_customer(crm_store, original.id) == original

    def test_contact_round_trip(self, crm_store: Store) -> None:
        """A contact with every field set reads back equal."""
        original = full_contact()
        store_all(crm_store, [original])
        with crm_store.unit_of_work() as uow:
            assert uow.contacts.get(original.id) == original

    def test_delivery_round_trip(self, crm_store: Store) -> None:
        """A delivery (context with Money, datetimes, dates; tries; notes) reads back equal."""
        original = full_delivery()
        store_all(crm_store, [original])
        with crm_store.unit_of_work() as uow:
            stored = uow.deliveries.get(original.id)
            due = uow.deliveries.query(
                Query.where(status="pending").filter(
                    "next_attempt_at", Op.LE, original.next_attempt_at
                )
            ).items
        assert stored == original
        assert stored.notification() == original.notification()
        assert [d.id for d in due] == [original.id]

    def test_lead_round_trip(self, crm_store: Store) -> None:
        """A lead with activities, owner, consent and answers reads back equal and queryable."""
        original = full_lead()
        store_all(crm_store, [original])
        with crm_store.unit_of_work() as uow:
            assert uow.leads.get(original.id) == original
            found = uow.leads.query(
                Query.where(email="mei@formosa-tea.example", is_open=True).filter(
                    "external_refs", Op.CONTAINS, "form-7781"
                )
            ).items
        assert [lead.id for lead in found] == [original.id]

    def test_pipeline_and_opportunity_round_trip(self, crm_store: Store) -> None:
        """A pipeline definition and a deal moved along it read back equal and queryable."""
        pipeline = full_pipeline()
        deal = full_opportunity(pipeline)
        store_all(crm_store, [pipeline, deal])
        with crm_store.unit_of_work() as uow:
            assert uow.pipelines.get(pipeline.id) == pipeline
            stored = uow.opportunities.get(deal.id)
            assert stored == deal
            assert [h.target for h in stored.history][-1] == "proposal"

    def test_pricing_records_round_trip(self, crm_store: Store) -> None:
        """Products, a price book, a rule set, a coupon and a priced quote read back equal."""
        from crmkit.pricing import Coupon, Quote, QuoteLine
        from crmkit.pricing.engine import _example_setup

        catalog, rules, tax, now = _example_setup()
        coupon = Coupon(code="SPRING5", name="Spring 5%", created_at=now, percent=5,
                        usage_limit=5)  # fmt: skip
        quote = Quote.create(
            id="quo_full", customer_id="cus_full", currency="TWD", now=now,
            valid_until=now + timedelta(days=30), coupon_codes=["SPRING5"],
            lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=12)],
        )  # fmt: skip
        quote.price(catalog, rules, now=now, tax=tax, coupons=[coupon])
        records = [*catalog.products, *catalog.price_books, rules, coupon, quote]
        store_all(crm_store, records)
        with crm_store.unit_of_work() as uow:
            assert uow.quotes.get(quote.id) == quote
            assert uow.coupons.get(coupon.id) == coupon
            assert uow.discount_rule_sets.get(rules.id) == rules
            assert [uow.products.get(p.id) for p in catalog.products] == list(catalog.products)
            assert uow.price_books.get(catalog.price_books[0].id) == catalog.price_books[0]

    def test_service_records_round_trip(self, crm_store: Store) -> None:
        """A complaint's whole life, a calendar, SLA policies, a contract and a work order."""
        from crmkit.testing.contracts._service_support import service_records

        records = service_records()
        case = records.complaint
        store_all(crm_store, records.all())
        with crm_store.unit_of_work() as uow:
            assert uow.complaints.get(case.id) == case
            assert uow.business_calendars.get(records.calendar.id) == records.calendar
            assert uow.sla_policy_sets.get(records.policies.id) == records.policies
            assert uow.maintenance_contracts.get(records.contract.id) == records.contract
            assert uow.work_orders.get(records.work_order.id) == records.work_order
            found = uow.complaints.query(
                Query.where(is_open=False, csat_score=4, reference="CS-2026-0042")
                .filter("compensation_refs", Op.CONTAINS, "comp-p1")
                .filter("breached", Op.CONTAINS, "resolution")
                .filter("resolved_at", Op.GT, case.filed_at)
            ).items
            due = uow.maintenance_contracts.query(
                Query()
                .filter("renewal_from", Op.LE, records.contract.ends_on)
                .filter("serials", Op.CONTAINS, "AC-0043")
            ).items
            done = uow.work_orders.query(Query.where(is_open=False, technician="u_tech")).items
        assert [c.id for c in found] == [case.id]
        assert [c.id for c in due] == [records.contract.id]
        assert [w.id for w in done] == [records.work_order.id]

    def test_loyalty_records_round_trip(self, crm_store: Store) -> None:
        """A program with every rule, a member's whole ledger, and a rewarded referral."""
        from crmkit.testing.contracts._loyalty_support import loyalty_records

        records = loyalty_records()
        amy, bob = records.membership, records.referee
        store_all(crm_store, records.all())
        with crm_store.unit_of_work() as uow:
            assert uow.loyalty_programs.get(records.program.id) == records.program
            assert uow.memberships.get(amy.id) == amy
            assert uow.memberships.get(bob.id) == bob
            later = amy.enrolled_at.replace(year=2027, month=6)
            assert uow.memberships.get(amy.id).balance(later) == amy.balance(later)
            assert uow.referrals.get(records.referral.id) == records.referral
            programs = uow.loyalty_programs.query(Query.where(currency="TWD")).items
            gold = uow.memberships.query(
                Query.where(program_id=records.program.id, tier="gold").filter(
                    "enrolled_at", Op.LT, bob.enrolled_at
                )
            ).items
            by_code = uow.memberships.query(Query.where(referral_code=records.referral.code)).items
            rewarded = uow.referrals.query(
                Query.where(
                    referrer_id=amy.customer_id, status="rewarded", order_id="o_bob_1"
                ).filter("qualifies_at", Op.LE, records.referral.settled_at)
            ).items
        assert [p.id for p in programs] == [records.program.id]
        assert [m.id for m in gold] == [amy.id]
        assert [m.id for m in by_code] == [amy.id]
        assert [r.id for r in rewarded] == [records.referral.id]

    def test_interaction_round_trip(self, crm_store: Store) -> None:
        """An interaction with every field set reads back equal."""
        original = full_interaction()
        store_all(crm_store, [original])
        with crm_store.unit_of_work() as uow:
            assert uow.interactions.get(original.id) == original

    def test_order_round_trip(self, crm_store: Store) -> None:
        """An order (lines, refunds) reads back equal and is found by customer and refund state."""
        order = full_order()
        whole = full_order(external_ref="#1002")
        whole.refund("r-all", whole.net, refunded_at=START, now=START)
        store_all(crm_store, [order, whole])
        with crm_store.unit_of_work() as uow:
            assert uow.orders.get(order.id) == order
            by_customer = uow.orders.query(Query.where(customer_id="cus_full").order("-id"))
            refunded = uow.orders.query(Query.where(fully_refunded=True)).items
        assert sorted(o.id for o in by_customer.items) == sorted([order.id, whole.id])
        assert [o.id for o in refunded] == [whole.id]

    # ----- queries --------------------------------------------------------------------------

    @pytest.mark.parametrize(("field", "op", "value", "expected"), _FILTERS)
    def test_query_filters(
        self, crm_store: Store, field: str, op: str, value: Any, expected: list[str]
    ) -> None:
        """Each operator selects exactly the matching records (returned in id order)."""
        _seed(crm_store)
        with crm_store.unit_of_work() as uow:
            page = uow.customers.query(Query().filter(field, Op(op), value))
        assert [c.id for c in page.items] == expected
        assert page.next_cursor is None

    def test_query_combines_filters_with_and(self, crm_store: Store) -> None:
        """Several filters must all hold."""
        _seed(crm_store)
        query = Query.where(kind="person").filter("tags", "contains", "vip")
        with crm_store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.query(query).items] == ["cus_b1"]

    @pytest.mark.parametrize(("order", "expected"), _ORDERS)
    def test_query_orders_with_ties_broken_by_id(
        self, crm_store: Store, order: tuple[str, ...], expected: list[str]
    ) -> None:
        """Ascending and descending orders; None sorts first; equal keys fall back to id."""
        _seed(crm_store)
        with crm_store.unit_of_work() as uow:
            page = uow.customers.query(Query().order(*order))
        assert [c.id for c in page.items] == expected

    def test_query_pages_with_a_cursor(self, crm_store: Store) -> None:
        """``limit`` cuts pages; ``next_cursor`` continues; the last page has no cursor."""
        _seed(crm_store)
        query = Query().order("name").take(2)
        with crm_store.unit_of_work() as uow:
            first = uow.customers.query(query)
            second = uow.customers.query(query.after(first.next_cursor))
            third = uow.customers.query(query.after(second.next_cursor))
        assert [c.id for c in first.items] == ["cus_a1", "cus_c2"]
        assert [c.id for c in second.items] == ["cus_a2", "cus_b1"]
        assert [c.id for c in third.items] == ["cus_c1"]
        assert third.next_cursor is None

    def test_query_by_an_unknown_field_is_a_validation_error(self, crm_store: Store) -> None:
        """Filtering or ordering by a field that is not projected is a ValidationError."""
        with crm_store.unit_of_work() as uow:
            with pytest.raises(ValidationError) as info:
                uow.customers.query(Query.where(colour="red"))
            assert "colour" in str(info.value)
            with pytest.raises(ValidationError):
                uow.customers.query(Query().order("-colour"))

    def test_query_with_a_damaged_cursor_is_a_validation_error(self, crm_store: Store) -> None:
        """A cursor that no query returned is a ValidationError."""
        with crm_store.unit_of_work() as uow, pytest.raises(ValidationError):
            uow.customers.query(Query().after("not-a-cursor!"))

    def test_query_contacts_and_interactions(self, crm_store: Store) -> None:
        """The other record types query by their own projected fields."""
        store_all(
            crm_store,
            [
                contact("con_1", "cus_1", emails=["Amy@Example.com"], decision_maker=True),
                contact("con_2", "cus_1", name="Bob"),
                contact("con_3", "cus_2", name="Cy"),
                interaction("int_1", "cus_1", occurred_at=_day(-3)),
                interaction("int_2", "cus_1", occurred_at=_day(-1), kind="email"),
                interaction("int_3", "cus_2", occurred_at=_day(-2)),
            ],
        )
        with crm_store.unit_of_work() as uow:
            mine = uow.contacts.query(Query.where(customer_id="cus_1").order("name"))
            deciders = uow.contacts.query(Query.where(decision_maker=True))
            by_email = uow.contacts.query(Query().filter("emails", "contains", "amy@example.com"))
            recent = uow.interactions.query(Query.where(customer_id="cus_1").order("-occurred_at"))
        assert [c.id for c in mine.items] == ["con_1", "con_2"]
        assert [c.id for c in deciders.items] == ["con_1"]
        assert [c.id for c in by_email.items] == ["con_1"]
        assert [i.id for i in recent.items] == ["int_2", "int_1"]

    def test_walking_every_page_returns_each_match_once_in_order(self, crm_store: Store) -> None:
        """Property: for any records, order and page size, the pages list each match once."""
        runs = itertools.count()
        names = st.sampled_from(["Acme", "Acme Asia", "acme", "Beta", "Zed"])
        records = st.lists(
            st.tuples(
                st.integers(0, 99),
                names,
                st.sampled_from(["company", "person"]),
                st.sampled_from([None, "u_1", "u_2"]),
                st.integers(0, 3),
            ),
            max_size=12,
            unique_by=lambda r: r[0],
        )
        orders = st.lists(
            st.sampled_from([*_SORTABLE, *(f"-{f}" for f in _SORTABLE)]),
            max_size=2,
            unique_by=lambda spec: spec.lstrip("-"),
        )

        @settings(deadline=None, max_examples=50)
        @given(records=records, order=orders, page_size=st.integers(1, 5))
        def walk(
            records: list[tuple[int, str, str, str | None, int]],
            order: list[str],
            page_size: int,
        ) -> None:
            tag = f"run{next(runs)}"
            made = [
                customer(
                    f"cus_{tag}_{n:02d}", name, kind=kind, owner=owner, now=_day(day), tags=[tag]
                )
                for n, name, kind, owner, day in records
            ]
            store_all(crm_store, made)
            query = Query().filter("tags", "contains", tag).order(*order)
            walked: list[Customer] = []
            with crm_store.unit_of_work() as uow:
                page = uow.customers.query(query.take(page_size))
                walked += page.items
                while page.next_cursor is not None:
                    assert len(page.items) == page_size
                    page = uow.customers.query(query.take(page_size).after(page.next_cursor))
                    walked += page.items
                whole = uow.customers.query(query.take(1000))
            ids = [c.id for c in walked]
            assert sorted(ids) == sorted(c.id for c in made)
            assert ids == [c.id for c in whole.items]
            parsed = [(s.lstrip("-"), s.startswith("-")) for s in order]
            for before, after in itertools.pairwise(walked):
                assert _comes_before(before, after, parsed), (before, after, order)

        walk()
