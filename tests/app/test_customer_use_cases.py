"""The customers use cases through the CRM facade, on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import (
    CRM,
    ManualClock,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.customers import Customer, Lifecycle
from crmkit.customers.commands import RegisterCustomer
from crmkit.kernel import SequentialIds
from crmkit.kernel.events import DomainEvent

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[CRM]:
    if request.param == "memory":
        yield bootstrap(store=MemoryStore(), clock=clock, ids=SequentialIds())
        return
    store = SQLiteStore(":memory:")
    yield bootstrap(store=store, clock=clock, ids=SequentialIds())
    store.close()


def outbox_types(crm: CRM) -> list[str]:
    return [entry.event.event_type for entry in crm.store.outbox.pending(1000)]


class TestRegister:
    def test_registers_and_stores_the_customer(self, crm: CRM) -> None:
        tea = crm.register_customer(
            "Formosa Tea Co.", tags=["Tea", "tea"], source="2023 trade show", owner="u_amy"
        )
        assert (tea.id, tea.version, tea.created_at) == ("cus_000001", 1, START)
        assert crm.get_customer(tea.id) == tea
        assert tea.tags == ("tea",)
        assert tea.lifecycle is Lifecycle.PROSPECT
        assert outbox_types(crm) == ["customers.CustomerRegistered"]

    def test_records_the_actor_on_the_event(self, crm: CRM) -> None:
        crm.register_customer("Acme", actor="u_amy")
        (entry,) = crm.store.outbox.pending()
        assert entry.event.actor == "u_amy"

    def test_handle_takes_the_command_itself(self, crm: CRM) -> None:
        customer = crm.handle(RegisterCustomer("Wang Xiao-ming", "person"))
        assert crm.get_customer(customer.id).kind.value == "person"


class TestContacts:
    def test_adds_a_contact_with_e164_phones(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        mei = crm.add_contact(
            tea.id,
            "Lin Mei-ling",
            phones=["0912 345 678", "(02) 2345-6789"],
            region="TW",
            emails=["Mei@Example.com"],
            decision_maker=True,
            locale="zh-Hant-TW",
            preferred_channel="line",
        )
        assert mei.phones == ("+886912345678", "+886223456789")
        assert mei.emails == ("Mei@example.com",)
        assert mei.locale == "zh_Hant_TW"
        assert crm.contacts_of(tea.id) == [mei]
        assert outbox_types(crm)[-1] == "customers.ContactAdded"

    def test_contacts_of_lists_only_that_customers_contacts_oldest_first(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        other = crm.register_customer("Huangpu Trading")
        crm.add_contact(tea.id, "Zed")
        crm.add_contact(other.id, "Li Na")
        crm.add_contact(tea.id, "Amy")
        assert [c.name for c in crm.contacts_of(tea.id)] == ["Zed", "Amy"]

    def test_contacts_of_pages_through_more_than_one_page(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        with crm.store.unit_of_work() as uow:
            from crmkit.customers import Contact

            for n in range(1005):
                uow.contacts.add(Contact(id=f"con_{n:05d}", customer_id=tea.id, name=f"P{n}"))
            uow.commit()
        assert len(crm.contacts_of(tea.id)) == 1005

    def test_unknown_customer_is_not_found_and_nothing_is_stored(self, crm: CRM) -> None:
        with pytest.raises(NotFoundError, match="cus_404"):
            crm.add_contact("cus_404", "Amy")
        assert outbox_types(crm) == []


class TestInteractions:
    def test_occurred_at_defaults_to_now(self, crm: CRM, clock: ManualClock) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        clock.advance(timedelta(minutes=30))
        call = crm.log_interaction(tea.id, "call", "Asked for a quote", by="u_amy")
        assert call.occurred_at == START + timedelta(minutes=30)
        assert call.id == "int_000001"

    def test_explicit_occurred_at_is_kept(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        at = datetime(2026, 2, 27, 16, 0, tzinfo=TPE)
        assert crm.log_interaction(tea.id, "visit", "Visited", occurred_at=at).occurred_at == at

    def test_with_a_contact_of_the_customer(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        mei = crm.add_contact(tea.id, "Lin Mei-ling")
        call = crm.log_interaction(tea.id, "call", "Quote", contact_id=mei.id, channel="phone")
        assert call.contact_id == mei.id
        assert crm.timeline(tea.id) == [call]

    def test_timeline_is_newest_first(self, crm: CRM, clock: ManualClock) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        crm.log_interaction(tea.id, "call", "first")
        clock.advance(timedelta(days=1))
        crm.log_interaction(tea.id, "meeting", "second")
        crm.log_interaction(tea.id, "note", "backdated", occurred_at=START - timedelta(days=3))
        assert [i.summary for i in crm.timeline(tea.id)] == ["second", "first", "backdated"]

    def test_unknown_customer_is_not_found(self, crm: CRM) -> None:
        with pytest.raises(NotFoundError):
            crm.log_interaction("cus_404", "call", "Hello")
        assert outbox_types(crm) == []

    def test_unknown_contact_is_not_found(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        with pytest.raises(NotFoundError, match="con_404"):
            crm.log_interaction(tea.id, "call", "Hello", contact_id="con_404")
        assert crm.timeline(tea.id) == []

    def test_contact_of_another_customer_is_refused(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea Co.")
        huangpu = crm.register_customer("Huangpu Trading")
        li = crm.add_contact(huangpu.id, "Li Na")
        before = outbox_types(crm)
        with pytest.raises(RuleViolation) as caught:
            crm.log_interaction(tea.id, "call", "Hello", contact_id=li.id)
        assert tea.id in str(caught.value)
        assert li.id in str(caught.value)
        assert caught.value.details["contact_customer_id"] == huangpu.id
        assert crm.timeline(tea.id) == []
        assert crm.timeline(huangpu.id) == []
        assert outbox_types(crm) == before


class TestChanges:
    def test_rename(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea")
        renamed = crm.rename_customer(tea.id, "Formosa Tea Co.")
        assert (renamed.name, renamed.version) == ("Formosa Tea Co.", 2)
        assert crm.get_customer(tea.id).name == "Formosa Tea Co."
        assert outbox_types(crm)[-1] == "customers.CustomerRenamed"

    def test_tag(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea", tags=["lead", "tea"])
        tagged = crm.tag_customer(tea.id, add=["VIP"], remove=["lead"])
        assert crm.get_customer(tea.id).tags == tagged.tags == ("tea", "vip")

    def test_assign_and_unassign_owner(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea")
        assert crm.assign_customer_owner(tea.id, "u_amy").owner == "u_amy"
        assert crm.assign_customer_owner(tea.id, None).owner is None
        assert crm.get_customer(tea.id).version == 3

    def test_a_change_without_effect_records_no_event(self, crm: CRM) -> None:
        tea = crm.register_customer("Formosa Tea")
        crm.rename_customer(tea.id, "Formosa Tea")
        assert outbox_types(crm) == ["customers.CustomerRegistered"]

    @pytest.mark.parametrize(
        "change",
        [
            lambda crm: crm.rename_customer("cus_404", "X"),
            lambda crm: crm.tag_customer("cus_404", add=["x"]),
            lambda crm: crm.assign_customer_owner("cus_404", "u_amy"),
            lambda crm: crm.get_customer("cus_404"),
            lambda crm: crm.contacts_of("cus_404"),
            lambda crm: crm.timeline("cus_404"),
        ],
        ids=["rename", "tag", "assign", "get", "contacts_of", "timeline"],
    )
    def test_unknown_customer_is_not_found(self, crm: CRM, change: object) -> None:
        with pytest.raises(NotFoundError):
            change(crm)  # type: ignore[operator]


class TestFindCustomers:
    @pytest.fixture
    def populated(self, crm: CRM) -> CRM:
        crm.register_customer("Formosa Tea Co.", tags=["tea", "Taipei"], owner="u_amy")
        crm.register_customer("formosa oolong", tags=["tea"], owner="u_ben")
        crm.register_customer("Huangpu Trading", tags=["shanghai"], owner="u_amy")
        crm.register_customer("臺灣茶行", tags=["茶"])
        return crm

    def names(self, crm: CRM, **filters: object) -> list[str]:
        return [c.name for c in crm.find_customers(**filters).items]  # type: ignore[arg-type]

    def test_all_sorted_by_name_ignoring_case(self, populated: CRM) -> None:
        assert self.names(populated) == [
            "formosa oolong",
            "Formosa Tea Co.",
            "Huangpu Trading",
            "臺灣茶行",
        ]

    def test_name_prefix_ignores_case(self, populated: CRM) -> None:
        assert self.names(populated, name="FORMOSA") == ["formosa oolong", "Formosa Tea Co."]
        assert self.names(populated, name="臺灣") == ["臺灣茶行"]
        assert self.names(populated, name="  ") == self.names(populated)

    def test_tag_owner_and_lifecycle(self, populated: CRM) -> None:
        assert self.names(populated, tag="TAIPEI") == ["Formosa Tea Co."]
        assert self.names(populated, tag="茶") == ["臺灣茶行"]
        assert self.names(populated, owner="u_amy") == ["Formosa Tea Co.", "Huangpu Trading"]
        assert self.names(populated, tag="tea", owner="u_ben") == ["formosa oolong"]
        assert self.names(populated, lifecycle="churned") == []
        assert len(self.names(populated, lifecycle=Lifecycle.PROSPECT)) == 4

    def test_pages_with_a_cursor(self, populated: CRM) -> None:
        first = populated.find_customers(limit=3)
        assert first.next_cursor is not None
        second = populated.find_customers(limit=3, cursor=first.next_cursor)
        assert [c.name for c in second.items] == ["臺灣茶行"]
        assert second.next_cursor is None


class DenyAll:
    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str, object | None]] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        self.asked.append((actor, action, resource))
        raise PermissionDeniedError(f"{actor!r} may not {action}")


class OnlyRegister:
    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        if action != "customers.register":
            raise PermissionDeniedError(f"{actor!r} may not {action}")


class TestAccessPolicy:
    def test_denied_register_stores_nothing(self, clock: ManualClock) -> None:
        policy = DenyAll()
        crm = bootstrap(clock=clock, ids=SequentialIds(), policy=policy)
        seen: list[DomainEvent] = []
        crm.bus.subscribe(DomainEvent, seen.append)
        with pytest.raises(PermissionDeniedError):
            crm.register_customer("Acme", actor="u_eve")
        assert policy.asked == [("u_eve", "customers.register", None)]
        assert crm.find_customers().items == ()
        assert outbox_types(crm) == []
        assert seen == []

    @pytest.mark.parametrize(
        ("action", "run"),
        [
            ("customers.add_contact", lambda crm, cid: crm.add_contact(cid, "A", actor="u")),
            (
                "customers.log_interaction",
                lambda crm, cid: crm.log_interaction(cid, "call", "x", actor="u"),
            ),
            ("customers.rename", lambda crm, cid: crm.rename_customer(cid, "B", actor="u")),
            ("customers.tag", lambda crm, cid: crm.tag_customer(cid, add=["x"], actor="u")),
            (
                "customers.assign_owner",
                lambda crm, cid: crm.assign_customer_owner(cid, "u2", actor="u"),
            ),
        ],
    )
    def test_denied_change_stores_nothing(
        self, clock: ManualClock, action: str, run: object
    ) -> None:
        store = MemoryStore()
        setup = bootstrap(store=store, clock=clock, ids=SequentialIds())
        acme = setup.register_customer("Acme")
        policy = DenyAll()
        crm = bootstrap(store=store, clock=clock, ids=SequentialIds(start=10), policy=policy)
        with pytest.raises(PermissionDeniedError, match=action):
            run(crm, acme.id)  # type: ignore[operator]
        ((actor, asked, resource),) = policy.asked
        assert (actor, asked) == ("u", action)
        assert resource == acme  # the policy sees the customer acted on
        assert crm.get_customer(acme.id) == acme
        assert crm.contacts_of(acme.id) == []
        assert crm.timeline(acme.id) == []
        assert outbox_types(crm) == ["customers.CustomerRegistered"]

    def test_policy_can_allow_some_actions(self, clock: ManualClock) -> None:
        crm = bootstrap(clock=clock, policy=OnlyRegister())
        acme = crm.register_customer("Acme")
        with pytest.raises(PermissionDeniedError):
            crm.rename_customer(acme.id, "Acme Corp")
        assert crm.get_customer(acme.id).name == "Acme"


_names = st.text(alphabet="aAbB茶 ", min_size=1, max_size=4).filter(lambda s: s.strip())


@given(
    names=st.lists(_names, max_size=12),
    limit=st.integers(min_value=1, max_value=5),
    prefix=st.one_of(st.none(), st.text(alphabet="aAbB茶", max_size=2)),
)
def test_paging_through_find_customers_returns_each_match_once_in_order(
    names: list[str], limit: int, prefix: str | None
) -> None:
    crm = bootstrap(clock=ManualClock(START), ids=SequentialIds())
    registered = [crm.register_customer(name) for name in names]
    folded = (prefix or "").strip().casefold()
    expected = sorted(
        (c for c in registered if c.name.casefold().startswith(folded)),
        key=lambda c: (c.name.casefold(), c.id),
    )
    seen: list[Customer] = []
    cursor = None
    while True:
        page = crm.find_customers(name=prefix, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [c.id for c in seen] == [c.id for c in expected]
