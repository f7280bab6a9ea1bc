"""Tenants: random actors, tenants and ids never read or write across tenants (memory, SQLite)."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.access import AccessRules, Actor, Level, StaticActorDirectory
from crmkit.app import CRM
from crmkit.app.tenants import TenantStores, UnitOfWorkOwners, check_tenant
from crmkit.errors import NotFoundError, PermissionDeniedError, ValidationError
from crmkit.kernel.time import ManualClock

RULES = AccessRules.builtin()
TENANTS = ("acme", "globex", "initech")
ROLES = ("admin", "auditor", "rep")
ACTORS = [
    Actor(id=f"u_{tenant}_{role}", roles=[role], teams=["t1"], tenant=tenant)
    for tenant in TENANTS
    for role in ROLES
]
DIRECTORY = StaticActorDirectory(ACTORS)
BY_ID = {actor.id: actor for actor in ACTORS}
START = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


@contextmanager
def tenant_stores(backend: str) -> Iterator[TenantStores]:
    clock = ManualClock(START)
    if backend == "memory":
        yield TenantStores.memory(rules=RULES, directory=DIRECTORY, clock=clock)
        return
    with tempfile.TemporaryDirectory() as folder:
        yield TenantStores.sqlite(folder, rules=RULES, directory=DIRECTORY, clock=clock)


operations = st.lists(
    st.tuples(
        st.sampled_from(["create", "read", "rename", "find", "contacts", "add_contact"]),
        st.sampled_from(TENANTS),  # whose CRM is called
        st.sampled_from([*BY_ID, "u_nobody"]),  # who calls it
        st.integers(min_value=0, max_value=10_000),  # which known id (or a made-up one)
    ),
    max_size=25,
)


def _expect_tenant(actor_id: str, tenant: str) -> type[Exception] | None:
    actor = BY_ID.get(actor_id)
    if actor is None or actor.tenant != tenant:
        return PermissionDeniedError
    return None


def _call(op: str, crm: CRM, record_id: str, tenant: str, actor_id: str) -> Any:
    if op == "read":
        return crm.get_customer(record_id, actor=actor_id)
    if op == "contacts":
        return crm.contacts_of(record_id, actor=actor_id)
    if op == "rename":
        return crm.rename_customer(record_id, f"{tenant}:renamed", actor=actor_id)
    return crm.add_contact(record_id, "New", actor=actor_id)


def _run_operations(backend: str, steps: list[tuple[str, str, str, int]]) -> None:
    with tenant_stores(backend) as tenants:
        home: dict[str, str] = {}  # record id -> its tenant
        for tenant in TENANTS:
            crm = tenants.crm(tenant)
            for n in range(2):
                customer = crm.register_customer(f"{tenant}:{n}", owner=f"u_{tenant}_rep")
                home[customer.id] = tenant
                crm.add_contact(customer.id, f"{tenant} contact")
        for op, tenant, actor_id, pick in steps:
            crm = tenants.crm(tenant)
            known = sorted(home)
            record_id = known[pick % len(known)] if pick % 7 else f"cus_made_up_{pick}"
            refused = _expect_tenant(actor_id, tenant)
            role = BY_ID[actor_id].roles[0] if actor_id in BY_ID else None
            if op == "create":
                if refused is None and role == "auditor":
                    refused = PermissionDeniedError
                if refused:
                    with pytest.raises(refused):
                        crm.register_customer(f"{tenant}:x", owner=actor_id, actor=actor_id)
                else:
                    made = crm.register_customer(f"{tenant}:x", owner=actor_id, actor=actor_id)
                    home[made.id] = tenant
            elif op == "find":
                if refused:
                    with pytest.raises(refused):
                        crm.find_customers(limit=1000, actor=actor_id)
                else:
                    page = crm.find_customers(limit=1000, actor=actor_id)
                    assert all(c.name.startswith(f"{tenant}:") for c in page.items)
                    assert {c.id for c in page.items} <= {i for i, t in home.items() if t == tenant}
            else:
                if refused is None and home.get(record_id) != tenant:
                    refused = NotFoundError  # another tenant's id is not in this store
                if refused is None and op in ("rename", "add_contact") and role == "auditor":
                    refused = PermissionDeniedError
                call = functools.partial(_call, op, crm, record_id, tenant, actor_id)
                if refused:
                    with pytest.raises(refused):
                        call()
                else:
                    result = call()
                    if op == "contacts":
                        assert all(c.customer_id == record_id for c in result)
                        assert all(c.name.startswith(tenant) or c.name == "New" for c in result)
                    elif op == "add_contact":
                        assert result.customer_id == record_id
                    else:
                        assert result.name.startswith(f"{tenant}:")
        # nothing crossed: every tenant's store holds its own records and only those
        for tenant in TENANTS:
            everything = tenants.crm(tenant).find_customers(limit=1000).items
            assert all(c.name.startswith(f"{tenant}:") for c in everything)
            assert {c.id for c in everything} == {i for i, t in home.items() if t == tenant}


@given(operations)
def test_random_actors_and_ids_never_cross_tenants_in_memory(
    steps: list[tuple[str, str, str, int]],
) -> None:
    _run_operations("memory", steps)


@settings(max_examples=25)
@given(operations)
def test_random_actors_and_ids_never_cross_tenants_in_sqlite(
    steps: list[tuple[str, str, str, int]],
) -> None:
    _run_operations("sqlite", steps)


def test_each_sqlite_tenant_is_its_own_file(tmp_path: Path) -> None:
    tenants = TenantStores.sqlite(tmp_path, rules=RULES, directory=DIRECTORY)
    tea = tenants.crm("acme").register_customer("acme:tea", actor="u_acme_admin")
    tenants.crm("globex").register_customer("globex:gears", actor="u_globex_admin")
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["acme.db", "globex.db"]
    reopened = TenantStores.sqlite(tmp_path, rules=RULES, directory=DIRECTORY)
    assert reopened.crm("acme").get_customer(tea.id, actor="u_acme_auditor").name == "acme:tea"
    with pytest.raises(NotFoundError):
        reopened.crm("globex").get_customer(tea.id, actor="u_globex_admin")


def test_for_actor_opens_the_actors_own_tenant() -> None:
    tenants = TenantStores.memory(rules=RULES, directory=DIRECTORY)
    assert tenants.for_actor("u_globex_rep") is tenants.crm("globex")
    with pytest.raises(PermissionDeniedError, match="belongs to no tenant"):
        tenants.for_actor("u_nobody")


def test_bad_tenant_ids_and_options_are_refused(tmp_path: Path) -> None:
    for bad in ["", "../acme", "a b", "a/b", "-x", 7]:
        with pytest.raises(ValidationError, match="tenant"):
            check_tenant(bad)
    with pytest.raises(ValidationError, match="supplies policy, store"):
        TenantStores.memory(rules=RULES, directory=DIRECTORY, store=None, policy=None)
    with pytest.raises(ValidationError, match="existing folder"):
        TenantStores.sqlite(tmp_path / "missing", rules=RULES, directory=DIRECTORY)
    with pytest.raises(ValidationError, match="rules"):
        TenantStores.memory(rules=None, directory=DIRECTORY)  # type: ignore[arg-type]


def test_the_owner_lookup_reads_the_running_command_s_unit_of_work() -> None:
    tenants = TenantStores.memory(rules=RULES, directory=DIRECTORY)
    crm = tenants.crm("acme")
    mine = crm.register_customer("acme:mine", owner="u_acme_rep")
    contact = crm.add_contact(mine.id, "Amy", actor="u_acme_rep")  # reaches it: owns customer
    assert contact.customer_id == mine.id
    assert UnitOfWorkOwners().customer_owner(mine.id) is None  # outside a command: no reach
    theirs = crm.register_customer("acme:theirs", owner="u_acme_admin")
    assert RULES.level(["rep"], "contacts", "create") is Level.OWN
    with pytest.raises(PermissionDeniedError, match="owned by 'u_acme_admin'"):
        crm.add_contact(theirs.id, "Bo", actor="u_acme_rep")
