"""Malformed input to every use case: only CRMError subclasses come out, naming the field,
and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import CRM, CRMError, ManualClock, ValidationError, bootstrap
from crmkit.kernel import SequentialIds

NAIVE = datetime(2026, 3, 2, 9, 0)

Call = Callable[[CRM, str, str], Any]


@pytest.fixture
def crm() -> CRM:
    crm = bootstrap(clock=ManualClock(), ids=SequentialIds())
    acme = crm.register_customer("Acme")
    crm.add_contact(acme.id, "Amy")
    return crm


def _register(**kw: Any) -> Call:
    args = {"name": "Acme", **kw}
    return lambda crm, cid, con: crm.register_customer(**args)


def _contact(**kw: Any) -> Call:
    return lambda crm, cid, con: crm.add_contact(**{"customer_id": cid, "name": "Amy", **kw})


def _interaction(**kw: Any) -> Call:
    return lambda crm, cid, con: crm.log_interaction(
        **{"customer_id": cid, "kind": "call", "summary": "Hello", **kw}
    )


CASES: list[tuple[str, Call]] = [
    # register_customer
    ("name", _register(name=None)),
    ("name", _register(name="")),
    ("name", _register(name="   ")),
    ("name", _register(name=42)),
    ("name", _register(name="x" * 201)),
    ("kind", _register(kind="shop")),
    ("kind", _register(kind=1)),
    ("kind", _register(kind=None)),
    ("tags", _register(tags="vip")),
    ("tags", _register(tags=5)),
    ("tags", _register(tags=["ok", 3])),
    ("tags", _register(tags=["ok", " "])),
    ("source", _register(source=3.5)),
    ("owner", _register(owner="has space")),
    ("owner", _register(owner=7)),
    ("actor", _register(actor=["u1"])),
    # add_contact
    ("customer_id", _contact(customer_id=None)),
    ("customer_id", _contact(customer_id="")),
    ("customer_id", _contact(customer_id=1.5)),
    ("name", _contact(name="")),
    ("emails", _contact(emails=["amy@"])),
    ("emails", _contact(emails="amy@example.com")),
    ("emails", _contact(emails=[None])),
    ("phones", _contact(phones=["12345"], region="TW")),
    ("phones", _contact(phones=["0912 345 678"])),
    ("phones", _contact(phones=[912345678], region="TW")),
    ("phones", _contact(phones="0912345678", region="TW")),
    ("region", _contact(region="XX")),
    ("region", _contact(region=886)),
    ("role", _contact(role=5)),
    ("decision_maker", _contact(decision_maker="yes")),
    ("decision_maker", _contact(decision_maker=1)),
    ("birthday", _contact(birthday="1990-04-01")),
    ("birthday", _contact(birthday=NAIVE)),
    ("locale", _contact(locale="klingon")),
    ("locale", _contact(locale=5)),
    ("preferred_channel", _contact(preferred_channel="fax")),
    ("actor", _contact(actor="")),
    # log_interaction
    ("customer_id", _interaction(customer_id=42)),
    ("kind", _interaction(kind="telepathy")),
    ("kind", _interaction(kind=None)),
    ("summary", _interaction(summary="")),
    ("summary", _interaction(summary=None)),
    ("summary", _interaction(summary="x" * 2001)),
    ("occurred_at", _interaction(occurred_at=NAIVE)),
    ("occurred_at", _interaction(occurred_at="2026-03-02T09:00:00+08:00")),
    ("occurred_at", _interaction(occurred_at=date(2026, 3, 2))),
    ("occurred_at", _interaction(occurred_at=1772413200.0)),
    ("by", _interaction(by=5)),
    ("contact_id", _interaction(contact_id="")),
    ("channel", _interaction(channel="pigeon")),
    ("links", _interaction(links="int_1")),
    ("links", _interaction(links=[1])),
    # rename / tag / assign
    ("customer_id", lambda crm, cid, con: crm.rename_customer(5, "B")),
    ("name", lambda crm, cid, con: crm.rename_customer(cid, "")),
    ("name", lambda crm, cid, con: crm.rename_customer(cid, None)),
    ("add", lambda crm, cid, con: crm.tag_customer(cid, add="vip")),
    ("remove", lambda crm, cid, con: crm.tag_customer(cid, remove=[None])),
    ("owner", lambda crm, cid, con: crm.assign_customer_owner(cid, 5)),
    ("owner", lambda crm, cid, con: crm.assign_customer_owner(cid, "")),
    # reads
    ("id", lambda crm, cid, con: crm.get_customer(None)),
    ("customer_id", lambda crm, cid, con: crm.contacts_of(1.5)),
    ("customer_id", lambda crm, cid, con: crm.timeline(["cus_1"])),
    ("name", lambda crm, cid, con: crm.find_customers(name=5)),
    ("tag", lambda crm, cid, con: crm.find_customers(tag=5)),
    ("owner", lambda crm, cid, con: crm.find_customers(owner="a b")),
    ("lifecycle", lambda crm, cid, con: crm.find_customers(lifecycle="dead")),
    ("limit", lambda crm, cid, con: crm.find_customers(limit=0)),
    ("limit", lambda crm, cid, con: crm.find_customers(limit=1.5)),
    ("limit", lambda crm, cid, con: crm.find_customers(limit="10")),
    ("limit", lambda crm, cid, con: crm.find_customers(limit=Decimal(10))),
    ("cursor", lambda crm, cid, con: crm.find_customers(cursor=5)),
    ("cursor", lambda crm, cid, con: crm.find_customers(cursor="not-a-cursor")),
]


def _field(error: ValidationError) -> str:
    path = error.errors[0].path
    return path.split("[", 1)[0].split(".", 1)[0]


@pytest.mark.parametrize(("field", "call"), CASES)
def test_malformed_input_is_a_validation_error_naming_the_field(
    crm: CRM, field: str, call: Call
) -> None:
    (acme,) = crm.find_customers().items
    (amy,) = crm.contacts_of(acme.id)
    before = crm.store.outbox.pending(1000)
    with pytest.raises(CRMError) as caught:
        call(crm, acme.id, amy.id)
    assert isinstance(caught.value, ValidationError), repr(caught.value)
    assert _field(caught.value) == field
    assert field in str(caught.value)
    assert crm.store.outbox.pending(1000) == before
    assert crm.get_customer(acme.id) == acme
    assert crm.timeline(acme.id) == []


_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.datetimes(),
    st.dates(),
)


@given(
    name=_junk,
    kind=_junk,
    tags=_junk,
    emails=_junk,
    phones=_junk,
    region=_junk,
    occurred_at=_junk,
    summary=_junk,
)
def test_any_input_gives_a_result_or_a_crm_error(
    name: object,
    kind: object,
    tags: object,
    emails: object,
    phones: object,
    region: object,
    occurred_at: object,
    summary: object,
) -> None:
    crm = bootstrap(clock=ManualClock(), ids=SequentialIds())
    acme = crm.register_customer("Acme")
    junk: Any = (name, kind, tags, emails, phones, region, occurred_at, summary)
    name, kind, tags, emails, phones, region, occurred_at, summary = junk
    attempts: list[Callable[[], object]] = [
        lambda: crm.register_customer(name, kind, tags=tags),
        lambda: crm.add_contact(acme.id, name, emails=emails, phones=phones, region=region),
        lambda: crm.log_interaction(acme.id, kind, summary, occurred_at=occurred_at),
        lambda: crm.tag_customer(acme.id, add=tags),
        lambda: crm.find_customers(name=name, tag=summary),
    ]
    for attempt in attempts:
        before = len(crm.store.outbox.pending(1000))
        try:
            attempt()
        except CRMError:
            assert len(crm.store.outbox.pending(1000)) == before  # a failure stores nothing
