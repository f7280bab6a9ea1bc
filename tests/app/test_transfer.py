"""Importing customers: the report, the modes, dry runs, re-imports, and what gets stored."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, PermissionDeniedError, bootstrap
from crmkit.adapters.backup import export_store, restore_store
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.customers import Contact, Customer
from crmkit.customers.transfer import ColumnMapping
from crmkit.errors import ValidationError
from crmkit.kernel import SequentialIds
from crmkit.kernel.query import Query
from crmkit.ports import Store
from crmkit.testing import strategies as cst

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)
MAPPING = ColumnMapping(
    {"external_id": "Id", "name": "Name", "email": "Email", "phone": "Phone", "tags": "Tags"}
)


@pytest.fixture(params=["memory", "sqlite", "sqlalchemy-sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        sqlite = SQLiteStore(tmp_path / "crm.db")
        yield sqlite
        sqlite.close()
    else:
        import sqlalchemy

        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'sa.db'}")
        yield SQLAlchemyStore(engine)
        engine.dispose()


def crm_on(store: Store) -> CRM:
    return bootstrap(store=store, clock=ManualClock(START), ids=SequentialIds())


def everything(store: Store, kind: str) -> list[Any]:
    found: list[Any] = []
    with store.unit_of_work() as uow:
        repository = getattr(uow, kind)
        query: Query | None = Query().take(1000)
        while query is not None:
            page = repository.query(query)
            found.extend(page.items)
            query = None if page.next_cursor is None else query.after(page.next_cursor)
    return found


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    writer.writerow(["Id", "Name", "Email", "Phone", "Tags"])
    writer.writerows(rows)
    return out.getvalue()


BAD_CELLS = [
    ("Name", "", "name"),
    ("Email", "amy@", "email"),
    ("Phone", "0912-345", "phone"),
    ("Tags", "x" * 60, "tags"),
    ("Email", "a@b@c.example", "email"),
]


def planted(n: int, seed: int = 7) -> tuple[str, dict[int, str]]:
    """``n`` rows, 5% of them bad in one field; return the CSV and {row number: bad field}."""
    rnd = random.Random(seed)
    rows: list[list[str]] = []
    bad: dict[int, str] = {}
    columns = ["Id", "Name", "Email", "Phone", "Tags"]
    for i in range(n):
        row = [f"X{i}", f"Person {i}", f"p{i}@example.com", f"+8869{i:08d}", "vip;taipei"]
        if rnd.random() < 0.05:
            column, value, field = rnd.choice(BAD_CELLS)
            row[columns.index(column)] = value
            bad[i + 2] = field
        rows.append(row)
    return csv_text(rows), bad


class TestReport:
    def test_good_rows_are_imported_and_every_bad_row_is_reported_with_its_reason(
        self, store: Store
    ) -> None:
        text, bad = planted(400)
        report = crm_on(store).import_customers(io.StringIO(text), MAPPING)
        assert report.loaded and report.rows == 400
        assert {e.row: e.field for e in report.errors} == bad
        assert all(e.error and e.suggestion for e in report.errors)
        assert report.customers_created == report.contacts_created == 400 - len(bad)
        stored = everything(store, "customers")
        assert len(stored) == 400 - len(bad)
        assert {c.external_id for c in stored} == {
            f"X{r - 2}" for r in range(2, 402) if r not in bad
        }

    def test_all_or_nothing_imports_nothing_when_a_row_is_bad(self, store: Store) -> None:
        text, bad = planted(200)
        report = crm_on(store).import_customers(io.StringIO(text), MAPPING, mode="all_or_nothing")
        assert not report.loaded and report.bad_rows == tuple(sorted(bad))
        assert everything(store, "customers") == everything(store, "contacts") == []

    def test_all_or_nothing_imports_everything_when_every_row_is_good(self, store: Store) -> None:
        text = csv_text([["X1", "Amy", "amy@example.com", "", ""]])
        report = crm_on(store).import_customers(io.StringIO(text), MAPPING, mode="all_or_nothing")
        assert report.loaded and [c.name for c in everything(store, "contacts")] == ["Amy"]

    def test_a_dry_run_reports_the_same_and_writes_nothing(self, store: Store) -> None:
        text, _ = planted(100)
        crm = crm_on(store)
        dry = crm.import_customers(io.StringIO(text), MAPPING, dry_run=True)
        assert everything(store, "customers") == [] and store.outbox.pending() == []
        real = crm.import_customers(io.StringIO(text), MAPPING)
        assert (dry.errors, dry.duplicates, dry.customers_created, dry.contacts_created) == (
            real.errors, real.duplicates, real.customers_created, real.contacts_created
        )  # fmt: skip
        assert not dry.loaded and real.loaded

    def test_a_reimport_is_idempotent(self, store: Store) -> None:
        text, _bad = planted(150)
        crm = crm_on(store)
        first = crm.import_customers(io.StringIO(text), MAPPING)
        before = (everything(store, "customers"), everything(store, "contacts"))
        again = crm.import_customers(io.StringIO(text), MAPPING)
        assert again.customers_created == again.contacts_created == 0
        assert len(again.duplicates) == first.customers_created
        assert (everything(store, "customers"), everything(store, "contacts")) == before


class TestDedup:
    def test_duplicates_within_the_file_by_email_phone_and_external_id(self, store: Store) -> None:
        text = csv_text(
            [
                ["A", "Amy", "amy@example.com", "+886912345678", ""],
                ["B", "Amy again", "AMY@EXAMPLE.COM", "", ""],  # same email, other case
                ["C", "Bob", "", "+886 912 345 678", ""],  # same phone, spaced
                ["A", "", "", "", ""],  # bad: no name
                ["A", "Amy Ltd", "", "", ""],  # same external id, nothing new
                ["A", "Amy Ltd", "li@example.com", "", ""],  # same external id, a new contact
            ]
        )
        report = crm_on(store).import_customers(io.StringIO(text), MAPPING)
        assert [(d.row, d.field, d.matches) for d in report.duplicates] == [
            (3, "email", "row 2"),
            (4, "phone", "row 2"),
            (6, "external_id", "cus_000001-000001"),
        ]
        assert report.customers_created == 1 and report.contacts_created == 2
        contacts = everything(store, "contacts")
        assert {c.customer_id for c in contacts} == {"cus_000001-000001"}

    def test_duplicates_of_stored_records(self, store: Store) -> None:
        crm = crm_on(store)
        tea = crm.register_customer("Formosa Tea")
        amy = crm.add_contact(tea.id, "Amy", emails=["Amy@Example.com"], phones=["+886912345678"])
        crm.import_customers(io.StringIO(csv_text([["T-1", "Formosa", "", "", ""]])), MAPPING)
        text = csv_text(
            [
                ["", "Amy", "amy@example.com", "", ""],
                ["", "Amy", "", "+886912345678", ""],
                ["T-1", "Formosa Tea Co", "", "", ""],
            ]
        )
        report = crm.import_customers(io.StringIO(text), MAPPING)
        [imported] = [c for c in everything(store, "customers") if c.external_id == "T-1"]
        assert [(d.field, d.matches) for d in report.duplicates] == [
            ("email", amy.id),
            ("phone", amy.id),
            ("external_id", imported.id),
        ]


class TestStored:
    def test_imported_records_equal_the_ones_the_model_builds(self, store: Store) -> None:
        text = csv_text([["X9", " Amy Chen ", "Amy.Chen@Example.COM", "+886912345678", "VIP;vip"]])
        crm_on(store).import_customers(io.StringIO(text), MAPPING)
        [customer] = everything(store, "customers")
        [contact] = everything(store, "contacts")
        expected = Customer(
            id=customer.id, version=1, name="Amy Chen", kind="person",
            created_at=START, tags=["VIP"], external_id="X9",
        )  # fmt: skip
        assert customer == expected
        assert contact == Contact(
            id=contact.id, version=1, customer_id=customer.id, name="Amy Chen",
            emails=["Amy.Chen@Example.COM"], phones=["+886912345678"],
        )  # fmt: skip
        assert store.outbox.pending() == []  # an import records no events
        with store.unit_of_work() as uow:
            by_external = uow.customers.query(Query.where(external_id="X9")).items
        assert [c.id for c in by_external] == [customer.id]

    def test_imported_records_can_be_changed_afterwards(self, store: Store) -> None:
        crm = crm_on(store)
        crm.import_customers(io.StringIO(csv_text([["X1", "Amy", "", "", ""]])), MAPPING)
        [customer] = everything(store, "customers")
        assert crm.rename_customer(customer.id, "Amy Chen").version == 2

    def test_json_lines_with_the_fields_as_keys(self, store: Store) -> None:
        lines = [
            json.dumps({"name": "Acme", "kind": "company", "external_id": 7, "tags": ["b2b"]}),
            "",
            "not json",
            json.dumps(["a list"]),
            json.dumps({"name": "Li Na", "email": ["li@example.com"], "phone": "+8613800138000"}),
        ]
        report = crm_on(store).import_customers(io.StringIO("\n".join(lines)), format="jsonl")
        assert [(e.row, e.field) for e in report.errors] == [(3, ""), (4, "")]
        assert sorted(c.name for c in everything(store, "customers")) == ["Acme", "Li Na"]

    def test_a_file_path_with_a_header_mapping_by_name(self, store: Store, tmp_path: Path) -> None:
        path = tmp_path / "contacts.csv"
        path.write_text("\ufeffname,email\nAmy,amy@example.com\n", encoding="utf-8")
        report = crm_on(store).import_customers(path)
        assert report.contacts_created == 1

    def test_a_store_without_bulk_loading_gets_add_many(self) -> None:
        class Plain:  # only the Store port
            def __init__(self) -> None:
                self.inner = MemoryStore()

            def unit_of_work(self) -> Any:
                return self.inner.unit_of_work()

            @property
            def outbox(self) -> Any:
                return self.inner.outbox

        plain = Plain()
        text = csv_text([["X1", "Amy", "amy@example.com", "", ""]])
        report = crm_on(plain).import_customers(io.StringIO(text), MAPPING)  # type: ignore[arg-type]
        assert report.loaded
        assert [c.version for c in everything(plain.inner, "contacts")] == [1]


class TestRefusals:
    def test_bad_options_and_files(self, tmp_path: Path) -> None:
        crm = crm_on(MemoryStore())
        with pytest.raises(ValidationError, match="mode"):
            crm.import_customers(io.StringIO(""), MAPPING, mode="some")
        with pytest.raises(ValidationError, match="format"):
            crm.import_customers(io.StringIO(""), MAPPING, format="xlsx")
        with pytest.raises(ValidationError, match="cannot read"):
            crm.import_customers(tmp_path / "missing.csv", MAPPING)
        with pytest.raises(ValidationError, match="no column 'Id'"):
            crm.import_customers(io.StringIO("Name\nAmy\n"), MAPPING)
        with pytest.raises(ValidationError, match="must map 'name'"):
            crm.import_customers(io.StringIO("Full name\nAmy\n"))

    def test_a_row_with_the_wrong_number_of_cells_is_reported(self) -> None:
        report = crm_on(MemoryStore()).import_customers(
            io.StringIO("name,email\nAmy,amy@example.com,extra\n\nBob,bob@example.com\n")
        )
        assert [(e.row, e.field) for e in report.errors] == [(2, "")]
        assert "has 3 cells but the header has 2" in report.errors[0].error
        assert report.contacts_created == 1

    def test_the_policy_is_asked(self) -> None:
        class Deny:
            def check(self, actor: str | None, action: str, resource: object = None) -> None:
                raise PermissionDeniedError(f"{actor} may not {action}")

        crm = bootstrap(store=MemoryStore(), policy=Deny())
        with pytest.raises(PermissionDeniedError, match=r"customers\.import"):
            crm.import_customers(io.StringIO("name\nAmy\n"), actor="usr_1")


# ----- export and restore, any generated data set ----------------------------------------------


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    customers=st.lists(
        cst.customers(versions=st.integers(1, 9)), max_size=6, unique_by=lambda c: c.id
    ),
    contacts=st.lists(
        cst.contacts(versions=st.integers(1, 9)), max_size=6, unique_by=lambda c: c.id
    ),
    interactions=st.lists(
        cst.interactions(versions=st.integers(1, 9)), max_size=4, unique_by=lambda i: i.id
    ),
    events=st.lists(cst.domain_events(), max_size=4, unique_by=lambda e: e.event_id),
)
def test_any_data_set_exports_and_restores_record_by_record(
    tmp_path_factory: pytest.TempPathFactory,
    customers: list[Any],
    contacts: list[Any],
    interactions: list[Any],
    events: list[Any],
) -> None:
    from crmkit.adapters._shared import to_document
    from crmkit.customers import CONTACTS, CUSTOMERS, INTERACTIONS
    from crmkit.ports import StoredRecord

    source = MemoryStore()
    source.load_records(
        [
            StoredRecord(rt.name, a.id, a.version, rt.schema_version, to_document(rt, a))
            for rt, batch in (
                (CUSTOMERS, customers),
                (CONTACTS, contacts),
                (INTERACTIONS, interactions),
            )
            for a in batch
        ],
        events,
    )
    path = tmp_path_factory.mktemp("backup") / "backup.jsonl"
    export_store(source, path)
    target = SQLiteStore(tmp_path_factory.mktemp("target") / "crm.db")
    try:
        summary = restore_store(target, path)
        assert summary.total == len(customers) + len(contacts) + len(interactions)
        for kind, batch in (("customers", customers), ("contacts", contacts),
                            ("interactions", interactions)):  # fmt: skip
            assert everything(target, kind) == sorted(batch, key=lambda a: a.id)
        assert [e.event for e in target.outbox.pending(limit=100)] == events
    finally:
        target.close()


_cells = st.fixed_dictionaries(
    {
        "Id": st.sampled_from(["", "A", "B", "C", "D"]),
        "Name": st.sampled_from(["", "Amy", "Bob", " Li Na "]),
        "Email": st.sampled_from(
            ["", "amy@example.com", "AMY@example.com", "bob@example.com", "x@"]
        ),
        "Phone": st.sampled_from(["", "+886912345678", "+886 912 345 678", "+8613800138000", "12"]),
        "Tags": st.sampled_from(["", "vip", "a;b"]),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_cells, max_size=12))
def test_every_row_is_loaded_reported_or_a_duplicate_once_and_reimports_add_nothing(
    rows: list[dict[str, str]],
) -> None:
    store = MemoryStore()
    crm = crm_on(store)
    text = csv_text([[r["Id"], r["Name"], r["Email"], r["Phone"], r["Tags"]] for r in rows])
    report = crm.import_customers(io.StringIO(text), MAPPING)
    bad, dupes = set(report.bad_rows), {d.row for d in report.duplicates}
    assert not bad & dupes and report.rows == len(rows)
    contacts = everything(store, "contacts")
    keys = [e.casefold() for c in contacts for e in c.emails] + [
        p for c in contacts for p in c.phones
    ]
    assert len(keys) == len(set(keys))  # no two stored contacts share an email or a phone
    externals = [c.external_id for c in everything(store, "customers") if c.external_id]
    assert len(externals) == len(set(externals))
    again = crm.import_customers(io.StringIO(text), MAPPING)
    assert again.bad_rows == report.bad_rows
    keyless = [
        n
        for n, r in enumerate(rows, start=2)
        if n not in report.bad_rows and not (r["Id"] or r["Email"] or r["Phone"])
    ]
    # a row with an external id, an email or a phone is recognised; one without any is not
    assert (again.customers_created, again.contacts_created) == (len(keyless), 0)
