"""The Django example (examples/django_app): its ORM-backed store passes crmkit's contract suites,
and the app runs crmkit's use cases through ``bootstrap(store=DjangoStore())``.

Django is set up once per session with the example's own settings module, on a SQLite file in a
temporary directory (a file, not ``:memory:``: the contract suite's thread test gives each thread
its own connection), and migrated with the example's committed migrations. Each test starts from
empty tables. No pytest-django: plain ``django.setup()`` and ``migrate`` are all this needs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.adapters._shared import RECORD_TYPES
from crmkit.adapters.memory import MemoryStore
from crmkit.customers import Customer
from crmkit.errors import ConcurrencyError, StorageError
from crmkit.kernel import ManualClock, SequentialIds
from crmkit.kernel.query import Op, Query, RecordType
from crmkit.ports import Store
from crmkit.testing.contracts import OutboxContract, RepositoryContract, UnitOfWorkContract

pytest.importorskip("django")

APP_DIR = Path(__file__).resolve().parents[2] / "examples" / "django_app"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))


# --8<-- [start:contracts]
@pytest.fixture(scope="session")
def django_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Set Django up with the example's settings on a temporary SQLite file, and migrate it."""
    import django
    from django.conf import settings as django_settings

    if str(APP_DIR) not in sys.path:
        sys.path.insert(0, str(APP_DIR))
    if not django_settings.configured:
        database = tmp_path_factory.mktemp("django") / "crm.sqlite3"
        with pytest.MonkeyPatch.context() as mp:  # the settings module reads these once, here
            mp.setenv("DJANGO_SETTINGS_MODULE", "crm_site.settings")
            mp.setenv("CRM_BRIDGE_DATABASE", str(database))
            django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    yield
    connections.close_all()


def _flush() -> None:
    from crm_bridge.models import OutboxEntry, Record, RecordTerm

    RecordTerm.objects.all().delete()
    Record.objects.all().delete()
    OutboxEntry.objects.all().delete()


@pytest.fixture
def crm_store(django_db: None) -> Any:
    """A DjangoStore on empty tables."""
    from crm_bridge.store import DjangoStore

    _flush()
    return DjangoStore()


class TestDjangoRepository(RepositoryContract):
    pass


class TestDjangoUnitOfWork(UnitOfWorkContract):
    pass


class TestDjangoOutbox(OutboxContract):
    pass


# --8<-- [end:contracts]


# ----- the app uses crmkit ------------------------------------------------------------------


def test_bootstrap_with_the_django_store_runs_use_cases(crm_store: Any) -> None:
    from crm_bridge.models import OutboxEntry, Record
    from crm_bridge.services import build_crm

    crm = build_crm(clock=ManualClock(START), ids=SequentialIds())
    tea = crm.register_customer("Formosa Tea Co.", tags=["tea", "vip"])
    amy = crm.add_contact(tea.id, "Amy Chen", emails=["amy@formosatea.example"])
    crm.log_interaction(tea.id, "call", "Wants 200 gift boxes", contact_id=amy.id)
    crm.rename_customer(tea.id, "Formosa Tea Company")

    assert isinstance(crm.store, Store)
    assert [c.name for c in crm.find_customers(tag="vip").items] == ["Formosa Tea Company"]
    assert [c.id for c in crm.contacts_of(tea.id)] == [amy.id]
    assert [i.summary for i in crm.timeline(tea.id)] == ["Wants 200 gift boxes"]
    # What the Django tables hold: one row per aggregate, the version bumped by the rename.
    rows = dict(Record.objects.exclude(kind="audit_entries").values_list("kind", "version"))
    assert rows == {"customers": 2, "contacts": 1, "interactions": 1}
    # Beside them, the audit log: one entry per record each command changed, and it verifies.
    assert Record.objects.filter(kind="audit_entries").count() == 4
    assert crm.verify_audit().ok
    stored = Record.objects.get(kind="customers", record_id=tea.id)
    assert stored.document["name"] == "Formosa Tea Company"
    assert "version" not in stored.document
    assert list(OutboxEntry.objects.order_by("position").values_list("event_type", flat=True)) == [
        "customers.CustomerRegistered",
        "customers.ContactAdded",
        "customers.InteractionLogged",
        "customers.CustomerRenamed",
    ]


def test_the_committed_migrations_match_the_models(django_db: None) -> None:
    from django.core.management import call_command

    # --check exits non-zero when the models have changes no migration records.
    call_command("makemigrations", "crm_bridge", "--check", "--dry-run", verbosity=0)


def test_the_outbox_lock_row_is_made_by_a_migration(crm_store: Any) -> None:
    from crm_bridge.models import OutboxLock

    assert list(OutboxLock.objects.values_list("pk", flat=True)) == [1]


def test_without_the_outbox_lock_row_commit_fails_and_stores_nothing(crm_store: Any) -> None:
    from crm_bridge.models import OutboxLock, Record

    OutboxLock.objects.all().delete()
    try:
        with crm_store.unit_of_work() as uow:
            uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=START))
            with pytest.raises(StorageError, match="migrate"):
                uow.commit()
        assert not Record.objects.exists()
    finally:
        OutboxLock.objects.get_or_create(id=1)


def test_a_unit_of_work_inside_a_host_transaction_is_a_savepoint_of_it(crm_store: Any) -> None:
    """Under ATOMIC_REQUESTS (or any outer atomic()), the host's rollback undoes a commit."""
    from django.db import transaction

    class HostFailedError(Exception):
        pass

    committed: list[int] = []

    def view() -> None:  # a view under ATOMIC_REQUESTS that fails after using crmkit
        with transaction.atomic():
            with crm_store.unit_of_work() as uow:
                uow.customers.add(
                    Customer.register(id="cus_1", name="Acme", kind="company", now=START)
                )
                committed.append(len(uow.commit()))
            raise HostFailedError

    with pytest.raises(HostFailedError):
        view()
    assert committed == [1]
    assert crm_store.outbox.pending() == []
    with crm_store.unit_of_work() as uow:
        assert uow.customers.query(Query()).items == ()


def test_a_stale_save_changes_neither_the_record_nor_its_terms(crm_store: Any) -> None:
    from crm_bridge.models import RecordTerm

    clock = ManualClock(START)
    with crm_store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=START))
        uow.commit()
    with crm_store.unit_of_work() as uow:
        stale = uow.customers.get("cus_1")
    with crm_store.unit_of_work() as uow:
        fresh = uow.customers.get("cus_1")
        fresh.tag(add=["won"], now=clock.now())
        uow.customers.save(fresh)
        uow.commit()
    stale.tag(add=["lost"], now=clock.now())
    with crm_store.unit_of_work() as uow, pytest.raises(ConcurrencyError):
        uow.customers.save(stale)
    tags = RecordTerm.objects.filter(record__record_id="cus_1", field="tags")
    assert list(tags.values_list("value", flat=True)) == ["s:won"]


def test_a_record_type_of_the_host_needs_no_migration(django_db: None) -> None:
    from crm_bridge.store import DjangoStore

    _flush()
    vips = RecordType("vip_customers", Customer, {"name": lambda c: c.name})
    store = DjangoStore(record_types=(*RECORD_TYPES, vips))
    with store.unit_of_work() as uow:
        uow.repository(vips).add(
            Customer.register(id="cus_1", name="VIP", kind="person", now=START)
        )
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.repository(vips).query(Query.where(name="VIP")).items[0].id == "cus_1"
        assert uow.customers.query(Query()).items == ()


# ----- SQL narrows, Python decides: the same answers as the in-memory store -------------------

_NAMES = ["Acme", "acme", "ACME Asia", "Acme Asia", "Beta", "beta", "Zed", "台北茶行"]
_TAGS = ["vip", "VIP", "taipei", "tea"]
_OWNERS = [None, "u_1", "u_2"]


def _filters() -> st.SearchStrategy[tuple[str, str, Any]]:
    # The same instants in another zone: stored and asked-for datetimes compare as instants.
    zone = st.sampled_from([ZoneInfo("Asia/Taipei"), timezone.utc, ZoneInfo("America/New_York")])
    day = st.builds(lambda d, z: (START + timedelta(days=d)).astimezone(z), st.integers(0, 4), zone)
    return st.one_of(
        st.tuples(
            st.just("name"), st.sampled_from(["eq", "ne", "lt", "ge"]), st.sampled_from(_NAMES)
        ),
        st.tuples(
            st.just("name"), st.just("startswith"), st.sampled_from(["A", "a", "Acme ", "台"])
        ),
        st.tuples(st.just("owner"), st.sampled_from(["eq", "ne"]), st.sampled_from(_OWNERS)),
        st.tuples(
            st.just("owner"),
            st.just("in"),
            st.lists(st.sampled_from(_OWNERS), max_size=3).map(tuple),
        ),
        st.tuples(st.just("tags"), st.just("contains"), st.sampled_from(_TAGS)),
        st.tuples(st.just("kind"), st.just("eq"), st.sampled_from(["company", "person"])),
        st.tuples(st.just("created_at"), st.sampled_from(["eq", "lt", "ge"]), day),
        st.tuples(st.just("id"), st.just("in"), st.lists(st.sampled_from(["c0", "c1", "c5"]))),
    )


@settings(deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(_NAMES),
            st.sampled_from(["company", "person"]),
            st.sampled_from(_OWNERS),
            st.lists(st.sampled_from(_TAGS), unique=True, max_size=3),
            st.integers(0, 4),
        ),
        max_size=8,
    ),
    filters=st.lists(_filters(), min_size=1, max_size=2),
    order=st.sampled_from([(), ("name",), ("-created_at",), ("owner", "-name")]),
)
def test_queries_answer_as_the_memory_store_does(
    django_db: None,
    records: list[tuple[str, str, str | None, list[str], int]],
    filters: list[tuple[str, str, Any]],
    order: tuple[str, ...],
) -> None:
    """Property: any filters, any order: the same ids in the same order as MemoryStore."""
    from crm_bridge.store import DjangoStore

    _flush()
    query = Query(order_by=Query().order(*order).order_by)
    for field, op, value in filters:
        query = query.filter(field, Op(op), value)

    def answer(store: Store) -> list[str]:
        with store.unit_of_work() as uow:
            uow.customers.add_many(
                Customer.register(
                    id=f"c{n}",
                    name=name,
                    kind=kind,
                    owner=owner,
                    tags=tags,
                    now=START + timedelta(days=day),
                )
                for n, (name, kind, owner, tags, day) in enumerate(records)
            )
            uow.commit()
        with store.unit_of_work() as uow:
            return [c.id for c in uow.customers.query(query).items]

    assert answer(DjangoStore()) == answer(MemoryStore())


# ----- the JSON views -------------------------------------------------------------------------


def test_the_views_register_list_and_show_customers(crm_store: Any) -> None:
    from django.test import Client

    client = Client()
    made = client.post(
        "/customers/",
        json.dumps({"name": "Formosa Tea Co.", "tags": ["vip"]}),
        content_type="application/json",
    )
    assert made.status_code == 201
    customer_id = made.json()["id"]
    listed = client.get("/customers/", {"tag": "vip"}).json()
    assert [c["name"] for c in listed["items"]] == ["Formosa Tea Co."]
    shown = client.get(f"/customers/{customer_id}/").json()
    assert (shown["customer"]["version"], shown["contacts"], shown["timeline"]) == (1, [], [])


def test_the_views_map_crmkit_errors_to_statuses(crm_store: Any) -> None:
    from django.test import Client

    client = Client()
    missing = client.get("/customers/cus_404/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert "cus_404" in missing.json()["message"]
    bad = client.post(
        "/customers/",
        json.dumps({"name": "Acme", "kind": "alien"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    assert "alien" in bad.json()["message"]


# ----- the how-to page shows what the demo prints -------------------------------------------


def test_the_how_to_shows_what_the_demo_prints(tmp_path: Path) -> None:
    root = APP_DIR.parent.parent
    done = subprocess.run(
        [sys.executable, "-W", "error", str(root / "examples" / "django_app_demo.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = (root / "docs" / "how-to" / "bring-your-own-repository.md").read_text(encoding="utf-8")
    shown = re.findall(r"^```text\n(.*?)^```$", page, flags=re.MULTILINE | re.DOTALL)
    assert shown == [done.stdout], "update the output shown in bring-your-own-repository.md"
