"""Customer, Contact and Interaction: validation, atomic failures, events, tags, phones, and the
customer's life as a hypothesis state machine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmkit.customers import (
    Channel,
    Contact,
    Customer,
    CustomerKind,
    Interaction,
    InteractionKind,
    Lifecycle,
)
from crmkit.customers import events as ev
from crmkit.errors import CRMError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.kernel.time import ManualClock
from crmkit.testing.strategies import (
    aware_datetimes,
    contacts,
    customers,
    ids,
    interactions,
    names,
    tags,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=TAIPEI)
LATER = NOW + timedelta(hours=1)
NAIVE = datetime(2026, 1, 5, 9, 0)


def _customer(**kw: Any) -> Customer:
    return Customer(
        **{
            "id": "cus_1",
            "name": "Acme",
            "kind": "company",
            "created_at": NOW,
            "tags": ["vip"],
            "owner": "u1",
            **kw,
        }
    )


def _contact(**kw: Any) -> Contact:
    return Contact(
        **{
            "id": "con_1",
            "customer_id": "cus_1",
            "name": "Amy",
            "emails": ["amy@example.com"],
            "phones": ["+886912345678"],
            **kw,
        }
    )


def _state(aggregate: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    return attrs.asdict(aggregate, recurse=False), aggregate.pending_events


def _error_of(call: Callable[[], object]) -> CRMError | None:
    try:
        call()
    except CRMError as exc:
        return exc
    return None


def _assert_names(error: CRMError, path: str) -> None:
    assert isinstance(error, ValidationError)
    assert path in [e.path for e in error.errors], error.errors
    assert path in str(error)


# ----- construction: malformed input sees only CRMErrors naming the field ------------------------

_REGISTER: dict[str, Any] = {"id": "cus_1", "name": "Acme", "kind": "company", "now": NOW}
_REGISTER_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": ""}, "name"),
    ("blank name", {"name": " \u3000\t"}, "name"),
    ("name None", {"name": None}, "name"),
    ("name number", {"name": 5}, "name"),
    ("name too long", {"name": "x" * 201}, "name"),
    ("unknown kind", {"kind": "alien"}, "kind"),
    ("kind None", {"kind": None}, "kind"),
    ("kind list", {"kind": ["company"]}, "kind"),
    ("tags a string", {"tags": "vip"}, "tags"),
    ("tags None", {"tags": None}, "tags"),
    ("tag number", {"tags": ["vip", 1]}, "tags[1]"),
    ("blank tag", {"tags": ["vip", " "]}, "tags[1]"),
    ("too many tags", {"tags": [f"t{i}" for i in range(51)]}, "tags"),
    ("tag too long", {"tags": ["x" * 1000]}, "tags[0]"),
    ("source number", {"source": 5}, "source"),
    ("source too long", {"source": "x" * 201}, "source"),
    ("empty owner", {"owner": ""}, "owner"),
    ("owner number", {"owner": 5}, "owner"),
    ("owner with space", {"owner": "a b"}, "owner"),
    ("empty id", {"id": ""}, "id"),
    ("id None", {"id": None}, "id"),
    ("id too long", {"id": "x" * 65}, "id"),
    ("now a string", {"now": "2026-01-05T09:00:00+08:00"}, "now"),
    ("now a date", {"now": date(2026, 1, 5)}, "now"),
    ("now None", {"now": None}, "now"),
    ("actor number", {"actor": 5}, "actor"),
    ("actor with space", {"actor": "a b"}, "actor"),
]


@pytest.mark.parametrize(
    ("changes", "path"), [c[1:] for c in _REGISTER_BAD], ids=[c[0] for c in _REGISTER_BAD]
)
def test_register_refuses_malformed_input_naming_the_field(
    changes: dict[str, Any], path: str
) -> None:
    with pytest.raises(CRMError) as info:
        Customer.register(**{**_REGISTER, **changes})
    if path == "now":  # the value lands in created_at; either name is fine
        assert {e.path for e in info.value.errors} & {"now", "created_at"}  # type: ignore[attr-defined]
    else:
        _assert_names(info.value, path)


def test_register_with_a_naive_now_names_now_or_created_at() -> None:
    with pytest.raises(CRMError) as info:
        Customer.register(**{**_REGISTER, "now": NAIVE})
    assert {e.path for e in info.value.errors} & {"now", "created_at"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"lifecycle": "dead"}, "lifecycle"),
        ({"lifecycle": None}, "lifecycle"),
        ({"version": -1}, "version"),
        ({"version": "1"}, "version"),
        ({"created_at": NAIVE}, "created_at"),
        ({"created_at": "2026-01-05"}, "created_at"),
    ],
)
def test_customer_constructor_refuses_malformed_input(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(CRMError) as info:
        _customer(**changes)
    _assert_names(info.value, path)


_CREATE: dict[str, Any] = {"id": "con_1", "customer_id": "cus_1", "name": "Amy", "now": NOW}
_CREATE_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": ""}, "name"),
    ("name too long", {"name": "x" * 201}, "name"),
    ("empty customer_id", {"customer_id": ""}, "customer_id"),
    ("bad email", {"emails": ["amy@example.com", "amy@"]}, "emails[1]"),
    ("emails a string", {"emails": "amy@example.com"}, "emails"),
    ("email number", {"emails": [5]}, "emails[0]"),
    ("too many emails", {"emails": [f"a{i}@example.com" for i in range(11)]}, "emails"),
    ("bad phone", {"phones": ["12345"], "region": "TW"}, "phones[0]"),
    ("phone without region", {"phones": ["0912345678"]}, "phones[0]"),
    ("phones a string", {"phones": "0912345678", "region": "TW"}, "phones"),
    ("phone number", {"phones": [912345678], "region": "TW"}, "phones[0]"),
    ("decision_maker str", {"decision_maker": "yes"}, "decision_maker"),
    ("decision_maker int", {"decision_maker": 1}, "decision_maker"),
    ("decision_maker None", {"decision_maker": None}, "decision_maker"),
    ("birthday a datetime", {"birthday": datetime(1990, 4, 1, tzinfo=TAIPEI)}, "birthday"),
    ("birthday a string", {"birthday": "1990-04-01"}, "birthday"),
    ("unknown locale", {"locale": "xx_YY"}, "locale"),
    ("empty locale", {"locale": ""}, "locale"),
    ("locale number", {"locale": 5}, "locale"),
    ("unknown channel", {"preferred_channel": "pigeon"}, "preferred_channel"),
    ("role number", {"role": 5}, "role"),
    ("role too long", {"role": "x" * 101}, "role"),
    ("naive now", {"now": NAIVE}, "now"),
    ("now None", {"now": None}, "now"),
    ("actor number", {"actor": 5}, "actor"),
]


@pytest.mark.parametrize(
    ("changes", "path"), [c[1:] for c in _CREATE_BAD], ids=[c[0] for c in _CREATE_BAD]
)
def test_contact_create_refuses_malformed_input_naming_the_field(
    changes: dict[str, Any], path: str
) -> None:
    with pytest.raises(CRMError) as info:
        Contact.create(**{**_CREATE, **changes})
    _assert_names(info.value, path)


_LOG: dict[str, Any] = {
    "id": "int_1",
    "customer_id": "cus_1",
    "kind": "call",
    "summary": "Asked for a quote",
    "occurred_at": NOW,
    "now": LATER,
}
_LOG_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown kind", {"kind": "fax"}, "kind"),
    ("empty summary", {"summary": " "}, "summary"),
    ("summary too long", {"summary": "x" * 2001}, "summary"),
    ("naive occurred_at", {"occurred_at": NAIVE}, "occurred_at"),
    ("occurred_at a string", {"occurred_at": "2026-01-05"}, "occurred_at"),
    ("occurred_at None", {"occurred_at": None}, "occurred_at"),
    ("naive now", {"now": NAIVE}, "now"),
    ("unknown channel", {"channel": "fax"}, "channel"),
    ("links a string", {"links": "q_1"}, "links"),
    ("bad link", {"links": ["q_1", "a b"]}, "links[1]"),
    ("empty by", {"by": ""}, "by"),
    ("contact_id number", {"contact_id": 5}, "contact_id"),
    ("empty customer_id", {"customer_id": ""}, "customer_id"),
    ("actor number", {"actor": 5}, "actor"),
]


@pytest.mark.parametrize(
    ("changes", "path"), [c[1:] for c in _LOG_BAD], ids=[c[0] for c in _LOG_BAD]
)
def test_interaction_log_refuses_malformed_input_naming_the_field(
    changes: dict[str, Any], path: str
) -> None:
    with pytest.raises(CRMError) as info:
        Interaction.log(**{**_LOG, **changes})
    _assert_names(info.value, path)


# ----- methods: malformed input changes nothing ------------------------------------------------

_CUSTOMER_METHODS_BAD: list[tuple[str, Callable[[Customer], object], str]] = [
    ("rename empty", lambda c: c.rename("", now=NOW), "name"),
    ("rename blank", lambda c: c.rename("   ", now=NOW), "name"),
    ("rename None", lambda c: c.rename(None, now=NOW), "name"),  # type: ignore[arg-type]
    ("rename number", lambda c: c.rename(5, now=NOW), "name"),  # type: ignore[arg-type]
    ("rename too long", lambda c: c.rename("x" * 201, now=NOW), "name"),
    ("rename naive now", lambda c: c.rename("B", now=NAIVE), "now"),
    ("rename now None", lambda c: c.rename("B", now=None), "now"),  # type: ignore[arg-type]
    ("rename actor number", lambda c: c.rename("B", now=NOW, actor=5), "actor"),  # type: ignore[arg-type]
    ("tag add a string", lambda c: c.tag(add="vip", now=NOW), "tags"),
    ("tag remove a string", lambda c: c.tag(remove="vip", now=NOW), "tags"),
    ("tag number", lambda c: c.tag(add=["ok", 1], now=NOW), "tags[1]"),  # type: ignore[list-item]
    ("tag blank", lambda c: c.tag(add=["ok", ""], now=NOW), "tags[1]"),
    ("tag too many", lambda c: c.tag(add=[f"t{i}" for i in range(50)], now=NOW), "tags"),
    ("tag naive now", lambda c: c.tag(add=["x"], now=NAIVE), "now"),
    ("tag actor number", lambda c: c.tag(add=["x"], now=NOW, actor=5), "actor"),  # type: ignore[arg-type]
    ("assign empty", lambda c: c.assign_owner("", now=NOW), "owner"),
    ("assign number", lambda c: c.assign_owner(5, now=NOW), "owner"),  # type: ignore[arg-type]
    ("assign with space", lambda c: c.assign_owner("u 2", now=NOW), "owner"),
    ("assign naive now", lambda c: c.assign_owner("u2", now=NAIVE), "now"),
    ("assign actor number", lambda c: c.assign_owner("u2", now=NOW, actor=5), "actor"),  # type: ignore[arg-type]
    ("lifecycle unknown", lambda c: c.change_lifecycle("dead", now=NOW), "lifecycle"),
    ("lifecycle None", lambda c: c.change_lifecycle(None, now=NOW), "lifecycle"),  # type: ignore[arg-type]
    ("lifecycle naive now", lambda c: c.change_lifecycle("active", now=NAIVE), "now"),
    (
        "lifecycle actor number",
        lambda c: c.change_lifecycle("active", now=NOW, actor=5),  # type: ignore[arg-type]
        "actor",
    ),
]


@pytest.mark.parametrize(
    ("call", "path"),
    [c[1:] for c in _CUSTOMER_METHODS_BAD],
    ids=[c[0] for c in _CUSTOMER_METHODS_BAD],
)
def test_a_failed_customer_method_names_the_field_and_changes_nothing(
    call: Callable[[Customer], object], path: str
) -> None:
    customer = _customer()
    before = _state(customer)
    with pytest.raises(CRMError) as info:
        call(customer)
    _assert_names(info.value, path)
    assert _state(customer) == before


def test_rename_to_empty_leaves_the_old_name() -> None:
    customer = _customer(name="Acme Ltd")
    with pytest.raises(ValidationError, match="name: must not be empty"):
        customer.rename("", now=NOW)
    assert customer.name == "Acme Ltd"
    assert customer.pending_events == ()


_UPDATE_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": ""}, "name"),
    ("bad email", {"emails": ["amy@"]}, "emails[0]"),
    ("bad phone", {"phones": ["123"], "region": "TW"}, "phones[0]"),
    ("phone without region", {"phones": ["0912345678"]}, "phones[0]"),
    ("decision_maker str", {"decision_maker": "yes"}, "decision_maker"),
    ("birthday a datetime", {"birthday": datetime(1990, 4, 1, tzinfo=TAIPEI)}, "birthday"),
    ("unknown locale", {"locale": "xx_YY"}, "locale"),
    ("unknown channel", {"preferred_channel": "fax"}, "preferred_channel"),
    ("role too long", {"role": "x" * 101}, "role"),
    ("customer_id not changeable", {"customer_id": "cus_2"}, "customer_id"),
    ("id not changeable", {"id": "con_2"}, "id"),
    ("version not changeable", {"version": 7}, "version"),
    ("unknown field", {"colour": "red"}, "colour"),
    ("actor number", {"actor": 5}, "actor"),
]


@pytest.mark.parametrize(
    ("bad", "path"), [c[1:] for c in _UPDATE_BAD], ids=[c[0] for c in _UPDATE_BAD]
)
def test_contact_update_with_one_bad_field_applies_none(bad: dict[str, Any], path: str) -> None:
    contact = _contact()
    before = _state(contact)
    with pytest.raises(CRMError) as info:
        contact.update(
            now=NOW, **{"name": "Amy Chen", "role": "CFO", "decision_maker": True, **bad}
        )
    _assert_names(info.value, path)
    assert _state(contact) == before


def test_contact_update_with_a_naive_now_applies_nothing() -> None:
    contact = _contact()
    before = _state(contact)
    with pytest.raises(CRMError) as info:
        contact.update(now=NAIVE, name="Amy Chen")
    _assert_names(info.value, "now")
    assert _state(contact) == before


# ----- events ----------------------------------------------------------------------------------


def test_register_records_customer_registered() -> None:
    c = Customer.register(
        id="cus_1",
        name=" Acme Ltd ",
        kind="company",
        now=NOW,
        tags=["VIP", "vip", "Taipei"],
        source=" trade show ",
        owner="u1",
        actor="u9",
    )
    assert (c.name, c.kind, c.tags, c.source, c.owner, c.lifecycle, c.created_at) == (
        "Acme Ltd",
        CustomerKind.COMPANY,
        ("vip", "taipei"),
        "trade show",
        "u1",
        Lifecycle.PROSPECT,
        NOW,
    )
    (e,) = c.pending_events
    assert isinstance(e, ev.CustomerRegistered)
    assert (e.aggregate_id, e.name, e.kind, e.source, e.owner, e.actor, e.occurred_at) == (
        "cus_1",
        "Acme Ltd",
        "company",
        "trade show",
        "u1",
        "u9",
        NOW,
    )
    assert e.aggregate_version == 1


def test_rename_records_old_and_new_and_a_no_op_records_nothing() -> None:
    c = _customer(name="Acme")
    c.rename("  Acme  ", now=NOW)
    assert c.pending_events == ()
    c.rename("Acme Corp", now=LATER, actor="u2")
    events: list[DomainEvent] = list(c.pending_events)
    (e,) = events
    assert isinstance(e, ev.CustomerRenamed)
    assert (e.old_name, e.new_name, e.actor, e.occurred_at) == ("Acme", "Acme Corp", "u2", LATER)


def test_tag_records_what_was_added_and_removed() -> None:
    c = _customer(tags=["vip", "b2b", "taipei"])
    c.tag(add=["New", "VIP"], remove=["B2B", "Taipei", "absent"], now=NOW)
    assert c.tags == ("vip", "new")
    (e,) = c.pending_events
    assert isinstance(e, ev.CustomerTagged)
    assert e.added == ("new",)
    assert e.removed == ("b2b", "taipei")
    c.tag(add=["vip"], remove=["absent"], now=NOW)
    assert len(c.pending_events) == 1  # nothing changed, nothing recorded


def test_tags_are_case_folded_stripped_and_deduplicated_in_order() -> None:
    c = _customer(tags=[" VIP ", "vip", "Key-Account", "台北", "台北", "KEY-account"])
    assert c.tags == ("vip", "key-account", "台北")


@given(tags())
def test_tags_are_always_unique_and_stripped(raw: list[str]) -> None:
    c = _customer(tags=raw)
    assert len(set(c.tags)) == len(c.tags)
    for t in c.tags:
        assert t == t.strip() and t
        if t.isascii():
            assert t == t.casefold()


def test_assign_owner_records_the_change_and_allows_nobody() -> None:
    c = _customer(owner="u1")
    c.assign_owner("u1", now=NOW)
    assert c.pending_events == ()
    c.assign_owner("u2", now=NOW)
    c.assign_owner(None, now=NOW)
    assert c.owner is None
    events: list[DomainEvent] = list(c.pending_events)
    first, second = events
    assert isinstance(first, ev.CustomerOwnerAssigned)
    assert isinstance(second, ev.CustomerOwnerAssigned)
    assert (first.old_owner, first.new_owner) == ("u1", "u2")
    assert (second.old_owner, second.new_owner) == ("u2", None)


def test_change_lifecycle_records_values_and_accepts_members_or_strings() -> None:
    c = _customer()
    c.change_lifecycle(Lifecycle.ACTIVE, now=NOW)
    c.change_lifecycle("active", now=NOW)
    c.change_lifecycle("at_risk", now=NOW)
    assert c.lifecycle is Lifecycle.AT_RISK
    assert [(e.old, e.new) for e in c.pending_events] == [  # type: ignore[attr-defined]
        ("prospect", "active"),
        ("active", "at_risk"),
    ]


def test_contact_create_records_contact_added() -> None:
    c = Contact.create(id="con_1", customer_id="cus_1", name=" Amy Chen ", now=NOW, actor="u1")
    (e,) = c.pending_events
    assert isinstance(e, ev.ContactAdded)
    assert (e.customer_id, e.name, e.actor, e.aggregate_id) == ("cus_1", "Amy Chen", "u1", "con_1")


def test_contact_update_records_only_the_fields_that_changed_sorted() -> None:
    c = _contact(role="CTO")
    c.update(now=NOW, name="Amy", role="CFO", locale="zh-TW", decision_maker=False)
    (e,) = c.pending_events
    assert isinstance(e, ev.ContactUpdated)
    assert e.fields == ("locale", "role")
    assert (c.role, c.locale) == ("CFO", "zh_Hant_TW")
    c.update(now=NOW, name=" Amy ", role="CFO")
    assert len(c.pending_events) == 1


def test_interaction_log_records_interaction_logged_at_now() -> None:
    i = Interaction.log(
        **_LOG, by="u1", contact_id="con_1", channel="line", links=["q_1", "q_1", "opp_2"]
    )
    assert (i.kind, i.channel, i.links, i.occurred_at) == (
        InteractionKind.CALL,
        Channel.LINE,
        ("q_1", "opp_2"),
        NOW,
    )
    (e,) = i.pending_events
    assert isinstance(e, ev.InteractionLogged)
    assert (e.customer_id, e.kind, e.summary, e.occurred_at) == (
        "cus_1",
        "call",
        "Asked for a quote",
        LATER,
    )


# ----- contacts: normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phones", "region", "e164"),
    [
        (["0912-345-678", "+886 912 345 678"], "TW", ("+886912345678",)),
        (["(02) 2345-6789"], "TW", ("+886223456789",)),
        (["138 0013 8000", "010 1234 5678"], "CN", ("+8613800138000", "+861012345678")),
        (["5123 4567", "+852 2123 4567"], "HK", ("+85251234567", "+85221234567")),
        (
            ["+886912345678", "+8613800138000", "+85251234567"],
            None,
            ("+886912345678", "+8613800138000", "+85251234567"),
        ),
    ],
)
def test_contact_phones_are_e164(
    phones: list[str], region: str | None, e164: tuple[str, ...]
) -> None:
    c = Contact.create(**_CREATE, phones=phones, region=region)
    assert c.phones == e164
    c2 = _contact()
    c2.update(now=NOW, phones=phones, region=region)
    assert c2.phones == e164


def test_contact_emails_are_normalised_and_deduplicated() -> None:
    c = Contact.create(**_CREATE, emails=[" Amy@Example.COM", "Amy@example.com", "b@example.com"])
    assert c.emails == ("Amy@example.com", "b@example.com")


def test_contact_locale_is_canonical() -> None:
    assert Contact.create(**_CREATE, locale="zh-Hant-TW").locale == "zh_Hant_TW"
    assert Contact.create(**_CREATE, locale="zh_TW").locale == "zh_Hant_TW"
    assert Contact.create(**_CREATE, locale=" en ").locale == "en"


def test_contact_constructor_requires_e164_phones() -> None:
    with pytest.raises(ValidationError) as info:
        _contact(phones=["0912345678"])
    _assert_names(info.value, "phones[0]")


# ----- strategies give valid aggregates --------------------------------------------------------


@given(customers(versions=st.integers(0, 100)))
def test_generated_customers_are_valid(c: Customer) -> None:
    assert attrs.evolve(c) == c  # re-running every converter and validator changes nothing
    assert c.pending_events == ()


@given(contacts())
def test_generated_contacts_are_valid(c: Contact) -> None:
    assert attrs.evolve(c) == c


@given(interactions())
def test_generated_interactions_are_valid(i: Interaction) -> None:
    assert attrs.evolve(i) == i


@given(
    st.from_type(Customer),
    st.from_type(Contact),
    st.from_type(Interaction),
    st.from_type(Money),
    st.from_type(DomainEvent),
    st.from_type(ev.CustomerRenamed),
)
@settings(max_examples=20)
def test_strategies_are_registered_with_hypothesis(
    customer: Customer,
    contact: Contact,
    interaction: Interaction,
    money: Money,
    event: DomainEvent,
    renamed: ev.CustomerRenamed,
) -> None:
    assert isinstance(customer, Customer)
    assert isinstance(contact, Contact)
    assert isinstance(interaction, Interaction)
    assert isinstance(money, Money)
    assert event.event_type.startswith("customers.")
    assert isinstance(renamed, ev.CustomerRenamed)


_CHECK_REGISTERED = """
from hypothesis import find, settings, strategies as st
from crmkit.customers import Customer
from crmkit.kernel.money import Money
quiet = settings(database=None, max_examples=10)
assert isinstance(find(st.from_type(Customer), lambda c: True, settings=quiet), Customer)
assert isinstance(find(st.from_type(Money), lambda m: True, settings=quiet), Money)
"""


@pytest.mark.parametrize(
    "first_import",
    ["import hypothesis", "import crmkit.testing.strategies"],
    ids=["hypothesis-first", "strategies-first"],
)
def test_the_entry_point_registers_whichever_module_is_imported_first(first_import: str) -> None:
    # Importing hypothesis runs crmkit's entry point, which imports the strategies module; when
    # that module is imported first, hypothesis calls the hook while the module is half-loaded.
    code = first_import + "\n" + _CHECK_REGISTERED
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# ----- the customer's life as a state machine ---------------------------------------------------

_BAD_NAMES = st.sampled_from(["", "   ", "\u3000", "x" * 201])
_BAD_OWNERS = st.sampled_from(["", "a b", "x" * 65])
_BAD_STAGES = st.sampled_from(["dead", "ACTIVE", "", "lost"])


def _fold(tag: str) -> str:
    tag = tag.strip()
    return tag.casefold() if tag.isascii() else tag


class CustomerLife(RuleBasedStateMachine):
    """Random sequences of commands; a plain model says what the customer should look like."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(NOW)
        self.customer = Customer.register(
            id="cus_1", name="Acme", kind="company", now=self.clock.now()
        )
        self.name = "Acme"
        self.tags: tuple[str, ...] = ()
        self.owner: str | None = None
        self.lifecycle = Lifecycle.PROSPECT
        self.version = 0
        self.pending = 1

    def _expect(self, effective: bool, event_type: type[DomainEvent]) -> None:
        if effective:
            self.pending += 1
            assert isinstance(self.customer.pending_events[-1], event_type)
        assert len(self.customer.pending_events) == self.pending

    def _refused(self, call: Callable[[], object]) -> bool:
        before = _state(self.customer)
        error = _error_of(call)
        if error is None:
            return False
        assert isinstance(error, ValidationError)
        assert _state(self.customer) == before
        return True

    @rule(name=names() | _BAD_NAMES)
    def rename(self, name: str) -> None:
        if self._refused(lambda: self.customer.rename(name, now=self.clock.now())):
            assert not name.strip() or len(name.strip()) > 200
            return
        effective = name.strip() != self.name
        self.name = name.strip()
        self._expect(effective, ev.CustomerRenamed)

    @rule(add=tags(), remove=tags())
    def tag(self, add: list[str], remove: list[str]) -> None:
        if self._refused(lambda: self.customer.tag(add, remove, now=self.clock.now())):
            return
        removing = {_fold(t) for t in remove}
        kept = dict.fromkeys(t for t in (*self.tags, *map(_fold, add)) if t not in removing)
        expected = tuple(kept)
        effective = set(expected) != set(self.tags)
        self.tags = expected
        self._expect(effective, ev.CustomerTagged)

    @rule(owner=st.none() | ids("usr") | _BAD_OWNERS)
    def assign(self, owner: str | None) -> None:
        if self._refused(lambda: self.customer.assign_owner(owner, now=self.clock.now())):
            assert owner is not None
            return
        effective = owner != self.owner
        self.owner = owner
        self._expect(effective, ev.CustomerOwnerAssigned)

    @rule(
        stage=st.sampled_from(Lifecycle)
        | st.sampled_from([s.value for s in Lifecycle])
        | _BAD_STAGES
    )
    def change_lifecycle(self, stage: Lifecycle | str) -> None:
        if self._refused(lambda: self.customer.change_lifecycle(stage, now=self.clock.now())):
            assert stage not in {s.value for s in Lifecycle}
            return
        new = Lifecycle(stage)
        effective = new is not self.lifecycle
        self.lifecycle = new
        self._expect(effective, ev.CustomerLifecycleChanged)

    @rule(step=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
    def time_passes(self, step: timedelta) -> None:
        self.clock.advance(step)

    @precondition(lambda self: self.pending > 0)
    @rule()
    def save(self) -> None:
        # What a repository does on save: take the events, bump the version by one.
        events = self.customer.pull_events()
        assert len(events) == self.pending
        assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
        self.customer.version += 1
        self.version += 1
        self.pending = 0

    @invariant()
    def matches_the_model(self) -> None:
        c = self.customer
        assert (c.name, c.tags, c.owner, c.lifecycle) == (
            self.name,
            self.tags,
            self.owner,
            self.lifecycle,
        )

    @invariant()
    def name_is_never_blank(self) -> None:
        assert self.customer.name.strip() == self.customer.name
        assert 0 < len(self.customer.name) <= 200

    @invariant()
    def tags_are_unique_and_folded(self) -> None:
        tags_ = self.customer.tags
        assert len(set(tags_)) == len(tags_) <= 50
        assert all(t == _fold(t) and t for t in tags_)

    @invariant()
    def version_only_moves_on_save_and_stamps_the_events(self) -> None:
        assert self.customer.version == self.version
        for event in self.customer.pending_events:
            assert event.aggregate_id == self.customer.id
            assert event.aggregate_version == self.version + 1


CustomerLife.TestCase.settings = settings(max_examples=60, stateful_step_count=30)
TestCustomerLife = CustomerLife.TestCase


@given(aware_datetimes())
def test_register_keeps_the_zone_it_was_given(now: datetime) -> None:
    c = Customer.register(id="cus_1", name="Acme", kind="person", now=now)
    assert c.created_at == now and c.created_at.tzinfo is now.tzinfo
    assert c.pending_events[0].occurred_at == now
    # An ambiguous wall time (01:30 on a New York fall-back day) compares unequal to any other
    # zone's datetime, even at the same instant; compare instants.
    assert now.astimezone(timezone.utc).timestamp() == c.created_at.timestamp()
