"""Encryption at rest: AesGcmCipher, EncryptedFields, and stores that use them."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import ManualClock, bootstrap
from crmkit.adapters.cipher import AesGcmCipher, EncryptedFields
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app import CRM
from crmkit.errors import StorageError, ValidationError
from crmkit.kernel import SequentialIds
from crmkit.kernel.query import Op, Query
from crmkit.ports import Cipher, Store

KEY = bytes(range(32))
INDEX_KEY = b"blind index key from the vault"
NAME, EMAIL, PHONE = "Wang Xiao-ming", "xiaoming.wang@example.com", "+886912345678"


def encryption(keys: dict[str, bytes] | None = None) -> EncryptedFields:
    return EncryptedFields(AesGcmCipher(keys or {"2026": KEY}), index_key=INDEX_KEY)


def fill(store: Store) -> tuple[CRM, dict[str, Any]]:
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Taipei")))
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds())
    wang = crm.register_customer(NAME, "person")
    contact = crm.add_contact(
        wang.id, NAME, emails=[EMAIL], phones=[PHONE], birthday=date(1990, 5, 17)
    )
    crm.log_interaction(wang.id, "call", f"{NAME} called from {PHONE}", contact_id=contact.id)
    lead = crm.capture_lead("web_form", name=NAME, email=EMAIL, phone=PHONE).lead
    case = crm.file_complaint(
        wang.id, "Cracked cup", category="product", channel="email", description=f"Mail {EMAIL}"
    )
    with crm.store.unit_of_work() as uow:
        stored = {
            "customer": uow.customers.get(wang.id),
            "contact": uow.contacts.get(contact.id),
            "lead": uow.leads.get(lead.id),
            "case": uow.complaints.get(case.id),
        }
    return crm, stored


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_sqlite_file_written_with_encryption_holds_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    plain_path = tmp_path / "plain.sqlite3"
    fill(SQLiteStore(plain_path))[0].store.close()  # type: ignore[attr-defined]
    assert NAME.encode() in raw_bytes(plain_path)  # the check can see plaintext

    crm, written = fill(SQLiteStore(path, encryption=encryption()))
    crm.store.close()  # type: ignore[attr-defined]
    data = raw_bytes(path)
    for secret in (NAME, EMAIL, PHONE, "912345678", "1990-05-17"):
        assert secret.encode() not in data, secret

    reopened = SQLiteStore(path, encryption=encryption())
    with reopened.unit_of_work() as uow:
        assert uow.customers.get(written["customer"].id) == written["customer"]
        assert uow.contacts.get(written["contact"].id) == written["contact"]
        assert uow.leads.get(written["lead"].id) == written["lead"]
        assert uow.complaints.get(written["case"].id) == written["case"]
        # Exact-value look-ups still work through the blind indexes.
        by_email = uow.contacts.query(Query().filter("emails", Op.CONTAINS, EMAIL)).items
        assert [c.id for c in by_email] == [written["contact"].id]
        assert [x.id for x in uow.leads.query(Query.where(phone=PHONE)).items] == [
            written["lead"].id
        ]
        with pytest.raises(ValidationError, match="encrypted at rest"):
            uow.customers.query(Query().order("name"))
    reopened.close()


def test_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    crm, written = fill(SQLiteStore(path, encryption=encryption()))
    crm.store.close()  # type: ignore[attr-defined]
    wrong = SQLiteStore(path, encryption=encryption({"2026": bytes(32)}))
    with wrong.unit_of_work() as uow, pytest.raises(StorageError, match="wrong key"):
        uow.contacts.get(written["contact"].id)
    missing = SQLiteStore(path, encryption=encryption({"2027": KEY}))
    with missing.unit_of_work() as uow, pytest.raises(StorageError, match="key '2026'"):
        uow.customers.get(written["customer"].id)


def test_keys_rotate_old_records_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    crm, written = fill(SQLiteStore(path, encryption=encryption({"2026": KEY})))
    crm.store.close()  # type: ignore[attr-defined]
    new_key = AesGcmCipher.generate_key()
    rotated = SQLiteStore(path, encryption=encryption({"2026": KEY, "2027": new_key}))
    with rotated.unit_of_work() as uow:
        contact = uow.contacts.get(written["contact"].id)
        assert contact == written["contact"]
        uow.contacts.save(contact)  # re-encrypted under 2027
        uow.commit()
    with SQLiteStore(path, encryption=encryption({"2027": new_key})).unit_of_work() as uow:
        assert uow.contacts.get(contact.id).emails == (EMAIL,)


def test_a_memory_store_keeps_encrypted_documents() -> None:
    store = MemoryStore(encryption=encryption())
    _, written = fill(store)
    kept = json.dumps(store._data, ensure_ascii=False)
    for secret in (NAME, EMAIL, PHONE):
        assert secret not in kept
    with store.unit_of_work() as uow:
        assert uow.contacts.get(written["contact"].id) == written["contact"]


def test_a_value_moved_to_another_record_does_not_decrypt() -> None:
    fields = encryption()
    sealed = fields.seal("contacts", "con_1", {"id": "con_1", "name": NAME})
    with pytest.raises(StorageError, match="moved to another record"):
        fields.open("contacts", "con_2", {"id": "con_2", "name": sealed["name"]})


def test_the_cipher_implements_the_port_and_refuses_bad_keys() -> None:
    assert isinstance(AesGcmCipher({"k": KEY}), Cipher)
    with pytest.raises(ValidationError, match="32 random bytes"):
        AesGcmCipher({"k": b"short"})
    with pytest.raises(ValidationError, match="not one of the key ids"):
        AesGcmCipher({"k": KEY}, current="other")


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(), inner)),
    max_leaves=8,
)


@given(_values, st.lists(st.text(min_size=1), max_size=3))
def test_seal_then_open_gives_the_document_back(value: Any, items: list[str]) -> None:
    fields = encryption()
    doc = {"id": "con_1", "name": value, "emails": items, "customer_id": "cus_1"}
    sealed = fields.seal("contacts", "con_1", doc)
    assert sealed["customer_id"] == "cus_1"
    if value is not None:
        assert sealed["name"] != value
    assert fields.open("contacts", "con_1", json.loads(json.dumps(sealed))) == doc
