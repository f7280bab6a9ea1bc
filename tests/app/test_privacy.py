"""Privacy requests end to end: export, erase (every table and document), retention, access.

One person (Wang Xiao-ming) goes through everything crmkit keeps: two leads, conversion to a
person customer with a contact, interactions, an accepted quote, a reported order, a loyalty
membership with its ledger, a complaint with messages, a delivered notification, audit entries
and outbox events. Others (Formosa Tea and its contact Lin Mei-ling, another lead) are stored
beside them. After erasure, every document of the memory store and every table and column of the
SQLite file is searched for the person's name, email and phone in the forms they were written
and normalised.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from crmkit import ManualClock, Money, bootstrap
from crmkit.access import AccessRules, Actor, RoleBasedPolicy, StaticActorDirectory
from crmkit.adapters.memory import MemoryStore, RecordingNotifier
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app import CRM
from crmkit.app.dispatch import Dispatcher
from crmkit.app.loyalty import LoyaltySettings
from crmkit.app.privacy import PrivacySettings
from crmkit.customers.privacy import PersonalDataMap, RetentionPolicy, RetentionRule
from crmkit.errors import PermissionDeniedError, RuleViolation, ValidationError
from crmkit.kernel import SequentialIds
from crmkit.loyalty import BaseRate, EarnLine, EarnOrder, EarnRules, LoyaltyProgram, Tier, TierModel
from crmkit.notifications.subscriptions import Recipient, Subscription
from crmkit.ports import Store
from crmkit.pricing import PriceBook, PriceBookEntry, Product
from crmkit.serialization import to_json, unstructure

TAIPEI = ZoneInfo("Asia/Taipei")
NAME = "Wang Xiao-ming"
EMAIL = "Xiaoming.Wang@Example.COM"  # stored as Xiaoming.Wang@example.com
PHONE = "0912 345 678"  # stored as +886912345678
#: Every form the person's identifiers were written or stored in.
FORMS = (
    NAME,
    "Xiao-ming",
    EMAIL,
    "xiaoming.wang@example.com",
    PHONE,
    "0912-345-678",
    "0912345678",
    "+886912345678",
    "+886 912 345 678",
    "912345678",
)


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [form for form in FORMS if form.casefold() in folded]


@attrs.frozen
class Data:
    crm: CRM
    clock: ManualClock
    wang: str
    wang_contact: str
    quote: str
    formosa: str
    lin: str
    mention: str
    other_lead: str


def _twd(amount: str) -> Money:
    return Money(amount, "TWD")


def make_crm(store: Store, **options: Any) -> tuple[CRM, ManualClock]:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI))
    crm = bootstrap(
        store=store,
        clock=clock,
        ids=SequentialIds(),
        loyalty=LoyaltySettings(program_id="club"),
        **options,
    )
    return crm, clock


def build(store: Store, **options: Any) -> Data:
    crm, clock = make_crm(store, **options)
    # Others, stored beside the person.
    formosa = crm.register_customer("Formosa Tea Co.")
    lin = crm.add_contact(formosa.id, "Lin Mei-ling", emails=["mei@formosatea.tw"])
    other = crm.capture_lead("web_form", name="Chen Da-wei", email="dawei@example.com")
    # The person: a web form lead, worked and converted to a person customer.
    web = crm.capture_lead(
        "web_form", name=NAME, email=EMAIL, phone=PHONE, phone_region="TW", external_ref="f-1"
    )
    crm.log_lead_activity(web.lead.id, "call", detail=f"Called {NAME} on {PHONE}")
    crm.start_working_lead(web.lead.id)
    crm.qualify_lead(web.lead.id)
    done = crm.convert_lead(web.lead.id)
    wang, contact = done.customer, done.contact
    # A second lead, later, with the phone written another way.
    crm.capture_lead("trade_show", name="Xiao-ming", phone="+886 912 345 678")
    crm.log_interaction(wang.id, "call", f"{NAME} asked about oolong", contact_id=contact.id)
    crm.log_interaction(wang.id, "email", "Sent the price list to xiaoming.wang@example.com")
    mention = crm.log_interaction(formosa.id, "meeting", f"{NAME} referred us to Lin")
    # A quote accepted, an order reported, points earned.
    crm.upsert_product(Product(sku="TEA", name="Oolong", category="tea"))
    crm.upsert_price_book(
        PriceBook(
            id="pb",
            name="TWD",
            currency="TWD",
            entries=[PriceBookEntry(sku="TEA", unit_price=_twd("1200"))],
        )
    )
    quote = crm.create_quote(wang.id, "TWD")
    crm.add_quote_line(quote.id, "TEA", 3)
    crm.price_quote(quote.id)
    crm.submit_quote(quote.id)
    crm.send_quote(quote.id)
    accepted = crm.accept_quote(quote.id)
    crm.record_order(
        wang.id,
        "shop",
        "o-77",
        clock.now(),
        _twd("3600"),
        lines=[{"name": f"Gift box engraved for {NAME}", "amount": _twd("3600")}],
    )
    crm.save_loyalty_program(
        LoyaltyProgram(
            id="club",
            name="Club",
            currency="TWD",
            time_zone="Asia/Taipei",
            point_value=Money("1", "TWD"),
            earn=EarnRules(base=BaseRate(points=1, per=_twd("100"))),
            tiers=TierModel(
                metric="spend",
                period="calendar",
                tiers=[Tier(id="member", name="Member", threshold=0)],
            ),
        )
    )
    crm.enroll_member(wang.id, birthday=date(1990, 5, 17))
    crm.earn_for_order(
        wang.id, EarnOrder(id=accepted.id, lines=[EarnLine(amount=accepted.priced.total)])
    )
    # A complaint with messages both ways.
    case = crm.file_complaint(
        wang.id,
        f"{NAME}: cracked cup",
        category="product",
        channel="email",
        contact_id=contact.id,
        owner="u_amy",
        description=f"Please email {EMAIL} or call {PHONE}",
    )
    crm.acknowledge_complaint(case.id, actor="u_amy")
    crm.reply_to_complaint(case.id, f"Dear {NAME}, sorry!", by="u_amy", wait_for_customer=True)
    crm.record_customer_message(case.id, "Call me on 0912-345-678")
    # A notification delivered to the person (and its outbox events marked delivered).
    welcome = Subscription(
        name="welcome",
        event_type="customers.ContactAdded",
        template="welcome",
        to=Recipient.contact("aggregate_id"),
    )
    report = Dispatcher(crm.store, RecordingNotifier(), [welcome], clock=clock).run_once()
    assert report.sent == 2  # Lin and Wang
    return Data(
        crm, clock, wang.id, contact.id, quote.id, formosa.id, lin.id, mention.id, other.lead.id
    )


# ----- reading everything a store holds -------------------------------------------------------
def memory_dump(store: MemoryStore) -> dict[str, Any]:
    """Every document the memory store keeps, and every outbox event (delivered too)."""
    return {
        "records": copy.deepcopy(store._data),
        "outbox": [to_json(e.event) for e in store._entries],
    }


def sqlite_dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the SQLite file, every column."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}
    finally:
        conn.close()


def text_of(dump: object) -> str:
    return json.dumps(dump, ensure_ascii=False, default=str)


def _documents(crm: CRM, name: str, ids: list[str]) -> list[dict[str, Any]]:
    with crm.store.unit_of_work() as uow:
        return [unstructure(getattr(uow, name).get(i)) for i in ids]


@pytest.fixture(params=["memory", "sqlite"])
def stored(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Data, Callable[[], str]]]:
    if request.param == "memory":
        memory = MemoryStore()
        yield build(memory), lambda: text_of(memory_dump(memory))
        return
    path = tmp_path / "crm.sqlite3"
    sqlite = SQLiteStore(path)
    yield build(sqlite), lambda: text_of(sqlite_dump(path))
    sqlite.close()


# ----- erasure ------------------------------------------------------------------------------
def test_erasure_leaves_no_trace_in_any_table_or_document(
    stored: tuple[Data, Callable[[], str]],
) -> None:
    data, everything = stored
    crm = data.crm
    assert set(leaks(everything())) >= {NAME, "+886912345678", "xiaoming.wang@example.com"}
    ledger = crm.get_membership(data.wang).entries
    balance = crm.points_balance(data.wang).balance
    quote = crm.get_quote(data.quote)
    others = (
        _documents(crm, "customers", [data.formosa])
        + _documents(crm, "contacts", [data.lin])
        + _documents(crm, "leads", [data.other_lead])
    )

    report = crm.erase_person(customer_id=data.wang)

    assert leaks(everything()) == []
    assert crm.get_membership(data.wang).entries == ledger
    assert crm.points_balance(data.wang).balance == balance
    after = crm.get_quote(data.quote)
    assert (after.status, after.priced, after.lines) == (quote.status, quote.priced, quote.lines)
    assert after.priced is not None and after.priced.total == _twd("3600")
    assert others == _documents(crm, "customers", [data.formosa]) + _documents(
        crm, "contacts", [data.lin]
    ) + _documents(crm, "leads", [data.other_lead])
    # Another customer's note that mentioned the person lost the mention, nothing else.
    with crm.store.unit_of_work() as uow:
        note = uow.interactions.get(data.mention)
    assert (note.summary, note.customer_id) == ("[erased]", data.formosa)
    assert f"interactions/{data.mention}" in report.records
    assert crm.verify_audit().ok
    assert report.outbox_positions and report.audit_entries > 0
    assert "points ledger" in report.explain()


def test_erasure_is_idempotent(stored: tuple[Data, Callable[[], str]]) -> None:
    data, everything = stored
    data.crm.erase_person(customer_id=data.wang)
    before = everything()
    again = data.crm.erase_person(customer_id=data.wang)
    assert again.records == {} and again.outbox_positions == ()
    assert everything() == before


def test_a_field_missing_from_the_map_fails_loudly_and_changes_nothing(
    stored: tuple[Data, Callable[[], str]],
) -> None:
    data, everything = stored
    builtin = PersonalDataMap.builtin()
    without_messages = PersonalDataMap(
        {
            **builtin.fields,
            "complaints": tuple(
                f for f in builtin.fields_for("complaints") if f.path != "messages[].body"
            ),
        }
    )
    # The same data under a CRM whose map forgot complaint messages.
    crm, _ = make_crm(data.crm.store, privacy=PrivacySettings(personal_data=without_messages))
    before = everything()
    with pytest.raises(RuleViolation) as caught:
        crm.erase_person(customer_id=data.wang)
    assert "complaints/case_000001: messages[0].body" in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert everything() == before


def test_a_failure_while_rewriting_the_outbox_changes_nothing(
    stored: tuple[Data, Callable[[], str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, everything = stored
    uow_class = type(data.crm.store.unit_of_work())

    def broken(self: object, scrub: object) -> list[int]:
        raise OSError("disk full")

    monkeypatch.setattr(uow_class, "redact_outbox", broken)
    before = everything()
    with pytest.raises(OSError, match="disk full"):
        data.crm.erase_person(customer_id=data.wang)
    assert everything() == before


def test_erasing_one_contact_of_a_company_keeps_the_company(
    stored: tuple[Data, Callable[[], str]],
) -> None:
    data, _ = stored
    crm = data.crm
    report = crm.erase_person(contact_id=data.lin)
    assert crm.get_customer(data.formosa).name == "Formosa Tea Co."
    lin = crm.contacts_of(data.formosa)[0]
    assert (lin.name, lin.emails) == ("Erased person", ())
    assert report.subject == data.lin
    assert crm.get_customer(data.wang).name == NAME  # nobody else is touched


def test_export_has_every_section_audit_and_outbox(
    stored: tuple[Data, Callable[[], str]],
) -> None:
    data, _ = stored
    export = data.crm.export_person(customer_id=data.wang)
    assert json.loads(json.dumps(export)) == export  # JSON-ready
    assert set(export["sections"]) >= {
        "customers",
        "contacts",
        "interactions",
        "leads",
        "quotes",
        "orders",
        "memberships",
        "complaints",
        "deliveries",
    }
    assert len(export["sections"]["leads"]) == 2  # matched by email and by phone
    assert data.formosa not in text_of(export["sections"]["customers"])
    assert {e["record_type"] for e in export["audit"]} >= {"customers", "contacts", "leads"}
    assert {"customers.ContactAdded", "leads.LeadCaptured"} <= {
        e["event_type"] for e in export["outbox"]
    }
    assert export["subject"]["contact_ids"] == [data.wang_contact]


def test_a_company_customer_is_not_a_person() -> None:
    data = build(MemoryStore())
    with pytest.raises(ValidationError, match="is a company, not a person"):
        data.crm.erase_person(customer_id=data.formosa)


def test_only_admins_may_export_or_erase() -> None:
    directory = StaticActorDirectory(
        [
            Actor(id="u_rep", roles=["rep"], tenant="t"),
            Actor(id="u_audit", roles=["auditor"], tenant="t"),
            Actor(id="u_admin", roles=["admin"], tenant="t"),
        ]
    )
    policy = RoleBasedPolicy(AccessRules.builtin(), directory, tenant="t")
    crm, _ = make_crm(MemoryStore(), policy=policy)
    amy = crm.register_customer("Amy Chen", "person", actor="u_admin")
    for actor in ("u_rep", "u_audit"):
        with pytest.raises(PermissionDeniedError):
            crm.erase_person(customer_id=amy.id, actor=actor)
        with pytest.raises(PermissionDeniedError):
            crm.export_person(customer_id=amy.id, actor=actor)
    assert crm.export_person(customer_id=amy.id, actor="u_admin")["sections"]["customers"]
    crm.erase_person(customer_id=amy.id, actor="u_admin")
    assert crm.get_customer(amy.id).name == "Erased person"


# ----- retention ----------------------------------------------------------------------------
def test_retention_deletes_and_anonymises_what_is_due_and_keeps_the_rest() -> None:
    data = build(MemoryStore())
    crm, clock = data.crm, data.clock
    crm.disqualify_lead(data.other_lead, "no_budget")
    clock.advance(timedelta(days=365 * 5 + 2))
    run = crm.apply_retention()
    assert f"leads/{data.other_lead}" in run.deleted
    assert {k.split("/")[0] for k in run.anonymised} == {"interactions"}
    assert {i.summary for i in crm.timeline(data.wang)} == {"[erased]"}
    assert crm.get_customer(data.wang).name == NAME  # no rule for customers
    assert crm.verify_audit().ok
    assert crm.apply_retention() == type(run)()  # nothing is due twice


def test_retention_rules_are_data() -> None:
    policy = RetentionPolicy([RetentionRule("customers", "created_at", 0, "anonymise")])
    crm, _ = make_crm(MemoryStore(), privacy=PrivacySettings(retention=policy))
    amy = crm.register_customer("Amy Chen", "person")
    assert crm.apply_retention().anonymised == (f"customers/{amy.id}",)
    assert crm.get_customer(amy.id).name == "Erased person"
