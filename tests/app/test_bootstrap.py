"""bootstrap(): defaults, choices, and the arguments it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit import CRM, ManualClock, SystemClock, ValidationError, bootstrap
from crmkit.access import AllowAll
from crmkit.adapters.memory import MemoryStore, RecordingNotifier
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.kernel import SequentialIds, SortableIds


def test_zero_arguments_give_a_working_in_memory_crm() -> None:
    crm = bootstrap()
    assert isinstance(crm, CRM)
    assert isinstance(crm.store, MemoryStore)
    assert isinstance(crm.clock, SystemClock)
    assert isinstance(crm.ids, SortableIds)
    assert isinstance(crm.notifier, RecordingNotifier)
    assert isinstance(crm.policy, AllowAll)
    acme = crm.register_customer("Acme")
    assert acme.id.startswith("cus_")
    assert crm.get_customer(acme.id) == acme
    assert crm.notifier.sent == []


def test_each_call_gets_its_own_store() -> None:
    first, second = bootstrap(), bootstrap()
    first.register_customer("Acme")
    assert second.find_customers().items == ()


def test_given_parts_are_used() -> None:
    store, clock, ids = MemoryStore(), ManualClock(), SequentialIds()
    notifier, policy = RecordingNotifier(), AllowAll()
    crm = bootstrap(store=store, clock=clock, ids=ids, notifier=notifier, policy=policy)
    assert (crm.store, crm.clock, crm.ids, crm.notifier, crm.policy) == (
        store,
        clock,
        ids,
        notifier,
        policy,
    )
    assert crm.bus.store is store
    assert crm.register_customer("Acme").created_at == clock.now()


def test_default_ids_follow_the_given_clock() -> None:
    crm = bootstrap(clock=ManualClock())
    first = crm.register_customer("A").id
    second = crm.register_customer("B").id
    assert first < second


def test_database_means_a_sqlite_store_that_persists(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    crm = bootstrap(database=path, ids=SequentialIds())
    assert isinstance(crm.store, SQLiteStore)
    acme = crm.register_customer("Acme")
    crm.store.close()
    again = bootstrap(database=str(path))
    assert again.get_customer(acme.id).name == "Acme"
    again.store.close()  # type: ignore[attr-defined]


def test_store_and_database_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="either store or database") as caught:
        bootstrap(store=MemoryStore(), database=":memory:")
    assert caught.value.errors[0].path == "database"


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("store", "crm.db"),
        ("database", 42),
        ("clock", "now"),
        ("ids", 1),
        ("notifier", print),
        ("policy", object()),
    ],
)
def test_parts_of_the_wrong_kind_are_refused(argument: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        bootstrap(**{argument: value})  # type: ignore[arg-type]
    assert caught.value.errors[0].path == argument


def test_environment_variables_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMKIT_DATABASE", "DATABASE_URL", "CRMKIT_STORE"):
        monkeypatch.setenv(name, "/nonexistent/dir/crm.db")
    assert isinstance(bootstrap().store, MemoryStore)
