"""The audit log: recorded for every command, queryable, tamper-evident, pseudonymisable."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit import CRM, ManualClock, bootstrap
from crmkit.access.audit import (
    GENESIS,
    AuditEntry,
    AuditValue,
    entry_id_for,
    pseudonymise,
    verify_chain,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.audit import AuditSettings, audit_trail, audited, verify_audit
from crmkit.app.messagebus import MessageBus
from crmkit.customers import Customer
from crmkit.errors import ConcurrencyError, PermissionDeniedError, ValidationError
from crmkit.kernel import SequentialIds
from crmkit.ports import Repository, Store, UnitOfWork

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))


def make_crm(**kwargs: Any) -> tuple[CRM, ManualClock]:
    clock = ManualClock(START)
    return bootstrap(clock=clock, ids=SequentialIds(), **kwargs), clock


def kinds(crm: CRM) -> list[str]:
    return [p.kind for p in crm.verify_audit().problems]


def trail(crm: CRM, record_type: str, id: str) -> list[AuditEntry]:
    return crm.audit_trail(record_type, id)


def tamper(store: Store, change: Callable[[UnitOfWork], None]) -> None:
    """Change the stored audit entries straight through the store, as an intruder would."""
    with store.unit_of_work() as uow:
        change(uow)
        uow.commit()


# ----- recording ----------------------------------------------------------------------------


def test_every_command_records_actor_time_target_and_changes() -> None:
    crm, clock = make_crm()
    acme = crm.register_customer("Acme", tags=["tea"], actor="usr_amy")
    clock.advance(timedelta(minutes=5))
    crm.rename_customer(acme.id, "Acme Corp", actor="usr_bob")
    amy = crm.add_contact(acme.id, "Amy Lin", emails=["amy@example.com"], actor="usr_bob")

    added, renamed = trail(crm, "customers", acme.id)
    assert (added.actor, added.command, added.at) == ("usr_amy", "RegisterCustomer", START)
    assert (added.base_version, added.target_version, added.removed) == (0, 1, False)
    [whole] = added.changes
    assert whole.path == "" and whole.before is None
    assert whole.after is not None and whole.after.value["name"] == "Acme"

    assert (renamed.actor, renamed.command) == ("usr_bob", "RenameCustomer")
    assert renamed.at == START + timedelta(minutes=5)
    assert (renamed.record_type, renamed.target_id) == ("customers", acme.id)
    assert (renamed.base_version, renamed.target_version) == (1, 2)
    assert [
        (c.path, c.before and c.before.value, c.after and c.after.value) for c in renamed.changes
    ] == [("/name", "Acme", "Acme Corp")]
    assert renamed.previous_hash == added.hash

    [contact_added] = trail(crm, "contacts", amy.id)
    assert contact_added.changes[0].after is not None
    assert contact_added.changes[0].after.value["emails"] == ["amy@example.com"]
    assert crm.verify_audit().ok


def test_a_change_inside_a_list_is_recorded_at_its_json_pointer() -> None:
    crm, _ = make_crm()
    acme = crm.register_customer("Acme", tags=["tea"])
    crm.tag_customer(acme.id, add=["vip"])
    tagged = trail(crm, "customers", acme.id)[-1]
    assert [(c.path, c.kind, c.after and c.after.value) for c in tagged.changes] == [
        ("/tags/1", "added", "vip")
    ]


def test_an_actor_object_is_recorded_by_its_user_id() -> None:
    @attrs.frozen
    class Actor:
        user_id: str
        tenant: str

    bus = MessageBus(MemoryStore(), audit=AuditSettings(), clock=ManualClock(START))

    @attrs.frozen
    class Register:
        actor: Actor

    def register(command: Register, uow: UnitOfWork) -> None:
        uow.customers.add(Customer(id="cus_1", name="Acme", kind="company", created_at=START))
        uow.commit()

    bus.register(Register, register)
    bus.handle(Register(Actor("usr_amy", "t1")))
    with bus.store.unit_of_work() as uow:
        assert [e.actor for e in audit_trail(uow, "customers", "cus_1")] == ["usr_amy"]


def test_query_by_record_and_by_actor_with_a_time_window_and_pages() -> None:
    crm, clock = make_crm()
    ids = []
    for n in range(5):
        ids.append(crm.register_customer(f"Customer {n}", actor="usr_amy").id)
        clock.advance(timedelta(hours=1))
    crm.rename_customer(ids[0], "Renamed", actor="usr_bob")

    assert [e.command for e in trail(crm, "customers", ids[0])] == [
        "RegisterCustomer",
        "RenameCustomer",
    ]
    assert trail(crm, "customers", "cus_404") == []

    first = crm.audit_by_actor("usr_amy", limit=2)
    assert [e.target_id for e in first.items] == [ids[4], ids[3]]  # newest first
    rest = crm.audit_by_actor("usr_amy", limit=10, cursor=first.next_cursor)
    assert [e.target_id for e in rest.items] == [ids[2], ids[1], ids[0]]
    window = crm.audit_by_actor(
        "usr_amy", since=START + timedelta(hours=1), until=START + timedelta(hours=3)
    )
    assert [e.target_id for e in window.items] == [ids[2], ids[1]]
    assert [e.command for e in crm.audit_by_actor("usr_bob").items] == ["RenameCustomer"]
    with pytest.raises(ValidationError, match="since"):
        crm.audit_by_actor("usr_amy", since=datetime(2026, 1, 1))


def test_a_failed_command_writes_no_audit_entry() -> None:
    store = MemoryStore()
    bus = MessageBus(store, audit=AuditSettings(), clock=ManualClock(START))
    with store.unit_of_work() as uow:
        uow.customers.add(Customer(id="cus_1", name="Acme", kind="company", created_at=START))
        uow.commit()

    def rename_then_fail(command: str, uow: UnitOfWork) -> None:
        acme = uow.customers.get("cus_1")
        acme.rename("Acme Corp", now=START)
        uow.customers.save(acme)
        uow.customers.add(Customer(id="cus_2", name="Tea", kind="company", created_at=START))
        raise RuntimeError(command)

    def stale_save(command: str, uow: UnitOfWork) -> None:
        acme = uow.customers.get("cus_1")
        with store.unit_of_work() as other:  # someone else saves first
            theirs = other.customers.get("cus_1")
            other.customers.save(theirs)
            other.commit()
        acme.rename("Acme Corp", now=START)
        uow.customers.save(acme)
        uow.commit()

    bus.register(str, rename_then_fail)
    bus.register(bytes, lambda command, uow: stale_save(command.decode(), uow))
    with pytest.raises(RuntimeError):
        bus.handle("boom")
    with pytest.raises(ConcurrencyError):
        bus.handle(b"late")
    with store.unit_of_work() as uow:
        assert audit_trail(uow, "customers", "cus_1") == []
        assert audit_trail(uow, "customers", "cus_2") == []


def test_a_command_cannot_write_audit_entries() -> None:
    crm, _ = make_crm()
    acme = crm.register_customer("Acme")
    [entry] = trail(crm, "customers", acme.id)

    def forge(command: str, uow: UnitOfWork) -> None:
        assert isinstance(uow.customers, Repository)  # the wrappers keep the port's shape
        assert isinstance(uow.audit_entries, Repository)
        uow.audit_entries.save(attrs.evolve(entry, actor="usr_mallory"))

    crm.bus.register(str, forge)
    with pytest.raises(PermissionDeniedError, match="append only"):
        crm.handle("forge")
    assert trail(crm, "customers", acme.id) == [entry]


def test_writes_outside_the_bus_can_be_audited_too() -> None:
    store, clock = MemoryStore(), ManualClock(START)
    with store.unit_of_work() as raw:
        uow = audited(raw, actor="usr_amy", action="ImportCustomers", clock=clock)
        uow.customers.add_many(
            Customer(id=f"cus_{n}", name=f"C{n}", kind="company", created_at=START)
            for n in range(3)
        )
        uow.commit()
    with store.unit_of_work() as raw:
        uow = audited(raw, actor=None, action="Nightly", clock=clock)
        c = uow.customers.get("cus_1")
        c.rename("C1 Ltd", now=START)
        uow.customers.save(c)
        uow.commit()
    with store.unit_of_work() as uow:
        assert [(e.actor, e.command) for e in audit_trail(uow, "customers", "cus_1")] == [
            ("usr_amy", "ImportCustomers"),
            (None, "Nightly"),
        ]
        assert verify_audit(uow).ok
        with pytest.raises(ValidationError, match="action"):
            audited(uow, actor=None, action=" ", clock=clock)


def test_audit_can_be_turned_off() -> None:
    crm, _ = make_crm(audit=False)
    acme = crm.register_customer("Acme")
    assert trail(crm, "customers", acme.id) == []
    with pytest.raises(ValidationError, match="audit"):
        bootstrap(audit="yes")  # type: ignore[arg-type]


def test_removing_a_record_ends_its_chain_with_a_removal() -> None:
    store = MemoryStore()
    bus = MessageBus(store, audit=AuditSettings(), clock=ManualClock(START))

    def add(command: str, uow: UnitOfWork) -> None:
        uow.customers.add(Customer(id=command, name="Acme", kind="company", created_at=START))
        uow.commit()

    def remove(command: bytes, uow: UnitOfWork) -> None:
        uow.customers.remove(uow.customers.get(command.decode()))
        uow.commit()

    bus.register(str, add)
    bus.register(bytes, remove)
    bus.handle("cus_1")
    bus.handle(b"cus_1")
    with store.unit_of_work() as uow:
        _, removed = audit_trail(uow, "customers", "cus_1")
        assert removed.removed and removed.target_version == 2
        assert removed.changes[0].before is not None and removed.changes[0].after is None
        assert verify_audit(uow).ok
    tamper(store, lambda uow: uow.audit_entries.remove(removed))
    with store.unit_of_work() as uow:
        assert [p.kind for p in verify_audit(uow).problems] == ["removal_missing"]


# ----- verification -------------------------------------------------------------------------


@pytest.fixture
def three_versions() -> tuple[CRM, str]:
    crm, clock = make_crm()
    acme = crm.register_customer("Acme", actor="usr_amy")
    for name in ("Acme Corp", "Acme Holdings", "Acme Group"):
        clock.advance(timedelta(minutes=1))
        crm.rename_customer(acme.id, name, actor="usr_bob")
    return crm, acme.id


def test_an_untouched_log_verifies(three_versions: tuple[CRM, str]) -> None:
    crm, _ = three_versions
    report = crm.verify_audit()
    assert report.ok and report.entries == 4 and report.records == 1


@pytest.mark.parametrize(
    "edit",
    [
        {"actor": "usr_mallory"},
        {"at": START - timedelta(days=1)},
        {"command": "Nothing"},
        {"previous_hash": GENESIS},
    ],
)
def test_an_edited_entry_is_detected(three_versions: tuple[CRM, str], edit: dict[str, Any]) -> None:
    crm, id = three_versions
    entry = trail(crm, "customers", id)[1]
    tamper(crm.store, lambda uow: uow.audit_entries.save(attrs.evolve(entry, **edit)))
    problems = crm.verify_audit().problems
    assert {p.kind for p in problems} >= {"edited"}
    assert all(p.target_id == id for p in problems)


def test_an_edited_value_is_detected_even_with_the_hash_left_alone(
    three_versions: tuple[CRM, str],
) -> None:
    crm, id = three_versions
    entry = trail(crm, "customers", id)[2]
    change = entry.changes[0]
    assert change.after is not None
    forged = attrs.evolve(change, after=attrs.evolve(change.after, value="Someone Else"))
    tamper(crm.store, lambda uow: uow.audit_entries.save(attrs.evolve(entry, changes=[forged])))
    assert kinds(crm) == ["edited"]


def test_a_rehashed_edit_is_detected_by_the_next_entry(three_versions: tuple[CRM, str]) -> None:
    crm, id = three_versions
    entry = trail(crm, "customers", id)[1]
    forged = attrs.evolve(entry, actor="usr_mallory")
    forged.hash = forged.compute_hash()
    tamper(crm.store, lambda uow: uow.audit_entries.save(forged))
    assert kinds(crm) == ["broken_link"]


def test_a_deleted_middle_entry_is_detected(three_versions: tuple[CRM, str]) -> None:
    crm, id = three_versions
    middle = trail(crm, "customers", id)[2]
    tamper(crm.store, lambda uow: uow.audit_entries.remove(middle))
    [problem] = crm.verify_audit().problems
    assert problem.kind == "broken_link" and problem.version == 4
    assert "version 4" in problem.message and "version 2" in problem.message


def test_a_deleted_newest_entry_is_detected(three_versions: tuple[CRM, str]) -> None:
    crm, id = three_versions
    newest = trail(crm, "customers", id)[-1]
    tamper(crm.store, lambda uow: uow.audit_entries.remove(newest))
    [problem] = crm.verify_audit().problems
    assert problem.kind == "head_behind"
    assert "version 4" in problem.message and "ends at version 3" in problem.message


def test_a_deleted_first_and_a_deleted_only_entry_are_detected() -> None:
    crm, _ = make_crm()
    acme = crm.register_customer("Acme")
    crm.rename_customer(acme.id, "Acme Corp")
    tea = crm.register_customer("Formosa Tea")
    first = trail(crm, "customers", acme.id)[0]
    [only] = trail(crm, "customers", tea.id)

    def remove_both(uow: UnitOfWork) -> None:
        uow.audit_entries.remove(first)
        uow.audit_entries.remove(only)

    tamper(crm.store, remove_both)
    problems = {(p.target_id, p.kind) for p in crm.verify_audit().problems}
    assert problems == {(acme.id, "chain_start"), (tea.id, "unaudited")}


def test_a_reordered_entry_is_detected(three_versions: tuple[CRM, str]) -> None:
    crm, id = three_versions
    _, second, third, _ = trail(crm, "customers", id)

    def swap(uow: UnitOfWork) -> None:
        uow.audit_entries.save(attrs.evolve(third, id=second.id, version=second.version))
        uow.audit_entries.save(attrs.evolve(second, id=third.id, version=third.version))

    tamper(crm.store, swap)
    assert "misplaced" in kinds(crm)


def test_a_rolled_back_record_is_detected(three_versions: tuple[CRM, str]) -> None:
    crm, id = three_versions
    newest = trail(crm, "customers", id)[-1]
    with crm.store.unit_of_work() as uow:  # a record written outside the bus
        acme = uow.customers.get(id)
        uow.customers.save(acme)
        uow.commit()
    assert kinds(crm) == ["head_behind"]
    assert newest.target_version == 4


def test_a_keyed_log_cannot_be_rewritten_without_the_key() -> None:
    crm, _ = make_crm(audit=AuditSettings(key=b"host-secret"))
    acme = crm.register_customer("Acme", actor="usr_amy")
    assert crm.verify_audit().ok
    [entry] = trail(crm, "customers", acme.id)
    forged = attrs.evolve(entry, actor="usr_mallory")
    forged.hash = forged.compute_hash()  # without the key
    tamper(crm.store, lambda uow: uow.audit_entries.save(forged))
    assert kinds(crm) == ["edited"]
    with crm.store.unit_of_work() as uow:
        assert not verify_audit(uow, key=b"wrong").ok


# ----- privacy ------------------------------------------------------------------------------


def test_pseudonymised_entries_keep_digests_and_still_verify() -> None:
    crm, _ = make_crm()
    acme = crm.register_customer("Acme")
    amy = crm.add_contact(acme.id, "Amy Lin", emails=["amy@example.com"], phones=["+886912345678"])
    crm.rename_customer(acme.id, "Amy Lin Trading")
    before = trail(crm, "contacts", amy.id) + trail(crm, "customers", acme.id)

    assert crm.pseudonymise_audit("contacts", amy.id) == 1
    assert crm.pseudonymise_audit("customers", acme.id, containing=["AMY LIN"]) == 1
    assert crm.pseudonymise_audit("customers", acme.id, containing=["AMY LIN"]) == 0

    after = trail(crm, "contacts", amy.id) + trail(crm, "customers", acme.id)
    assert [e.hash for e in after] == [e.hash for e in before]
    text = repr([c for e in after for c in e.changes])
    assert "Amy" not in text and "amy@example.com" not in text and "912345678" not in text
    renamed = after[-1].changes[0]
    assert renamed.before is not None and renamed.before.value == "Acme"  # not about Amy: kept
    assert renamed.after is not None and renamed.after.pseudonymised
    assert crm.verify_audit().ok


def test_pseudonymise_by_path_and_refusals() -> None:
    crm, _ = make_crm()
    acme = crm.register_customer("Acme", tags=["tea"])
    crm.rename_customer(acme.id, "Acme Corp")
    crm.tag_customer(acme.id, add=["vip"])
    _, renamed, tagged = trail(crm, "customers", acme.id)
    assert [
        c.path
        for c in pseudonymise(renamed, paths=["/tags"]).changes
        if c.after and c.after.pseudonymised
    ] == []
    erased = pseudonymise(tagged, paths=["tags"])
    assert all(c.after is not None and c.after.pseudonymised for c in erased.changes)
    assert erased.intact()
    with pytest.raises(ValidationError, match="containing"):
        pseudonymise(tagged, containing="amy")
    with pytest.raises(ValidationError, match="paths"):
        pseudonymise(tagged, paths="/tags")
    with pytest.raises(ValidationError, match="entry"):
        pseudonymise("entry")  # type: ignore[arg-type]


def test_a_value_without_its_salt_is_not_intact() -> None:
    sealed = AuditValue.seal("Amy")
    assert not AuditValue(sealed.digest, "Amy").intact  # value kept, salt dropped
    with pytest.raises(ValidationError, match="salt"):
        AuditValue(sealed.digest, "Amy", "zz")


# ----- stores and concurrency ---------------------------------------------------------------


def test_sqlite_store_keeps_a_verifying_log_and_detects_a_raw_sql_edit(tmp_path: Path) -> None:
    clock = ManualClock(START)
    crm = bootstrap(database=tmp_path / "crm.db", clock=clock, ids=SequentialIds())
    acme = crm.register_customer("Acme", actor="usr_amy")
    crm.rename_customer(acme.id, "Acme Corp", actor="usr_bob")
    assert crm.verify_audit().ok
    assert [e.actor for e in crm.audit_trail("customers", acme.id)] == ["usr_amy", "usr_bob"]
    assert isinstance(crm.store, SQLiteStore)
    conn = sqlite3.connect(tmp_path / "crm.db")  # an intruder with the database file
    try:
        [table] = [
            r[0]
            for r in conn.execute("select name from sqlite_master where type='table'")
            if "audit" in r[0]
        ]
        conn.execute(f"update {table} set document = replace(document, 'usr_bob', 'usr_eve')")
        conn.commit()
    finally:
        conn.close()
    assert [e.actor for e in crm.audit_trail("customers", acme.id)] == ["usr_amy", "usr_eve"]
    assert kinds(crm) == ["edited"]


def test_concurrent_writers_of_one_record_keep_one_unbroken_chain(tmp_path: Path) -> None:
    crm = bootstrap(database=tmp_path / "crm.db", ids=SequentialIds())
    acme = crm.register_customer("Acme")
    done: list[int] = []

    def rename(n: int) -> None:
        for _ in range(50):
            try:
                crm.rename_customer(acme.id, f"Acme {n}", actor=f"usr_{n}")
                done.append(n)
                return
            except ConcurrencyError:
                continue

    threads = [threading.Thread(target=rename, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = crm.audit_trail("customers", acme.id)
    assert len(entries) == 1 + len(done)
    assert [e.target_version for e in entries] == list(range(1, len(entries) + 1))
    assert crm.verify_audit().ok


# ----- properties ---------------------------------------------------------------------------

names = st.text(alphabet="abcdefgh ", min_size=1, max_size=8).filter(lambda s: s.strip() != "")
actors = st.sampled_from([None, "usr_amy", "usr_bob"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("register"), names, actors),
        st.tuples(st.just("rename"), names, actors),
        st.tuples(st.just("tag"), names, actors),
        st.tuples(st.just("contact"), names, actors),
    ),
    min_size=1,
    max_size=12,
)


def run(crm: CRM, plan: list[tuple[str, str, str | None]]) -> list[str]:
    customers: list[str] = []
    for i, (kind, text, actor) in enumerate(plan):
        if kind == "register" or not customers:
            customers.append(crm.register_customer(text, actor=actor).id)
        elif kind == "rename":
            crm.rename_customer(customers[i % len(customers)], text, actor=actor)
        elif kind == "tag":
            crm.tag_customer(customers[i % len(customers)], add=[text.strip()], actor=actor)
        else:
            crm.add_contact(customers[i % len(customers)], text, actor=actor)
    return customers


def all_entries(crm: CRM) -> list[AuditEntry]:
    with crm.store.unit_of_work() as uow:
        return audit_trail_all(uow)


def audit_trail_all(uow: UnitOfWork) -> list[AuditEntry]:
    from crmkit.kernel import Query

    found: list[AuditEntry] = []
    query = Query().take(1000)
    while True:
        page = uow.audit_entries.query(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps)
def test_any_sequence_of_commands_gives_a_verifying_log(
    plan: list[tuple[str, str, str | None]],
) -> None:
    crm, _ = make_crm()
    run(crm, plan)
    report = crm.verify_audit()
    assert report.ok, report.problems
    assert report.entries == len(plan)  # each of these commands changes exactly one record


tampers = st.sampled_from(["actor", "at", "command", "value", "delete", "swap", "rehash"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, how=tampers, pick=st.integers(min_value=0, max_value=10_000))
def test_any_single_tamper_is_detected(
    plan: list[tuple[str, str, str | None]], how: str, pick: int
) -> None:
    crm, _ = make_crm()
    run(crm, plan)
    entries = sorted(all_entries(crm), key=lambda e: e.id)
    victim = entries[pick % len(entries)]
    chain = sorted(
        (
            e
            for e in entries
            if (e.record_type, e.target_id) == (victim.record_type, victim.target_id)
        ),
        key=lambda e: e.target_version,
    )
    if how == "value" and not victim.changes:
        how = "actor"  # a save that changed nothing has no value to forge
    if how == "swap" and len(chain) < 2:
        how = "delete"
    if how == "rehash" and victim is chain[-1]:
        how = "delete"  # rehashing the newest entry without a key is undetectable by design

    def change(uow: UnitOfWork) -> None:
        if how == "delete":
            uow.audit_entries.remove(victim)
        elif how == "swap":
            a, b = chain[pick % (len(chain) - 1)], chain[pick % (len(chain) - 1) + 1]
            uow.audit_entries.save(attrs.evolve(b, id=a.id, version=a.version))
            uow.audit_entries.save(attrs.evolve(a, id=b.id, version=b.version))
        elif how == "value":
            c = victim.changes[0]
            value = c.after or c.before
            assert value is not None
            forged = attrs.evolve(value, value={"forged": True})
            new = attrs.evolve(c, after=forged) if c.after else attrs.evolve(c, before=forged)
            uow.audit_entries.save(attrs.evolve(victim, changes=[new, *victim.changes[1:]]))
        elif how == "rehash":
            forged_entry = attrs.evolve(victim, actor="usr_mallory", command="Forged")
            forged_entry.hash = forged_entry.compute_hash()
            uow.audit_entries.save(forged_entry)
        else:
            new_value: Any = {
                "actor": "usr_mallory" if victim.actor != "usr_mallory" else "usr_amy",
                "at": victim.at + timedelta(seconds=1),
                "command": victim.command + "X",
            }[how]
            uow.audit_entries.save(attrs.evolve(victim, **{how: new_value}))

    tamper(crm.store, change)
    assert not crm.verify_audit().ok


class AuditedCustomers(RuleBasedStateMachine):
    """Commands in any order: the log always verifies and each record's trail has its versions."""

    def __init__(self) -> None:
        super().__init__()
        self.crm, self.clock = make_crm()
        self.customers: list[str] = []

    @rule(name=names, actor=actors)
    def register(self, name: str, actor: str | None) -> None:
        self.customers.append(self.crm.register_customer(name, actor=actor).id)

    @rule(pick=st.integers(min_value=0), name=names, actor=actors)
    def rename(self, pick: int, name: str, actor: str | None) -> None:
        if self.customers:
            self.crm.rename_customer(self.customers[pick % len(self.customers)], name, actor=actor)

    @rule(pick=st.integers(min_value=0), tag=names)
    def tag(self, pick: int, tag: str) -> None:
        if self.customers:
            self.crm.tag_customer(self.customers[pick % len(self.customers)], add=[tag.strip()])

    @rule(minutes=st.integers(min_value=0, max_value=600))
    def wait(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @rule(pick=st.integers(min_value=0))
    def pseudonymise(self, pick: int) -> None:
        if self.customers:
            self.crm.pseudonymise_audit("customers", self.customers[pick % len(self.customers)])

    @invariant()
    def log_verifies_and_trails_match_versions(self) -> None:
        assert self.crm.verify_audit().ok
        for id in self.customers:
            version = self.crm.get_customer(id).version
            entries = self.crm.audit_trail("customers", id)
            assert entries[-1].target_version == version
            assert [e.target_version for e in entries] == sorted(
                {e.target_version for e in entries}
            )
            assert entries[0].id == entry_id_for("customers", id, 1)


AuditedCustomers.TestCase.settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None
)
test_audited_customers = AuditedCustomers.TestCase


def test_verify_chain_on_its_own() -> None:
    at = START
    first = AuditEntry.create(
        record_type="leads",
        target_id="lea_1",
        base_version=0,
        target_version=1,
        actor=None,
        at=at,
        command="CaptureLead",
        before=None,
        after={"score": 0},
        previous_hash=GENESIS,
    )
    assert verify_chain([], current_version=3) == []
    assert [p.kind for p in verify_chain([first], current_version=None)] == ["removal_missing"]
    assert [p.kind for p in verify_chain([first], current_version=0)] == ["head_ahead"]
