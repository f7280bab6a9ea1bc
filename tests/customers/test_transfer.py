"""Import rules: the column mapping, row-by-row validation, and the fast paths' equivalence."""

from __future__ import annotations

import string
from datetime import datetime, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.customers import Contact, Customer, normalize_email, normalize_phone
from crmkit.customers.transfer import (
    FIELDS,
    ColumnMapping,
    ImportRow,
    RowError,
    RowValidator,
    _e164_phone,
    _model_check,
    fast_normalize_email,
)
from crmkit.errors import ValidationError
from crmkit.testing import strategies as cst

NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)
ALL = ColumnMapping({f: f for f in FIELDS})


def _outcome(fn, value):  # type: ignore[no-untyped-def]
    try:
        return ("ok", fn(value))
    except ValidationError:
        return ("error", None)


# ----- the fast email path ---------------------------------------------------------------------

_ascii_local = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=70)
_ascii_label = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=70)
_ascii_emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join((*labels, tld))}",
    _ascii_local,
    st.lists(_ascii_label, min_size=1, max_size=3),
    st.one_of(
        st.text(string.ascii_letters, min_size=1, max_size=6),
        st.sampled_from(["test", "LOCAL", "onion", "com", "c0m"]),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_ascii_emails, cst.emails(), st.text(max_size=40)))
def test_fast_email_normalisation_agrees_with_email_validator(address: str) -> None:
    assert _outcome(fast_normalize_email, address) == _outcome(normalize_email, address)


def test_fast_email_keeps_the_local_part_and_lowers_the_domain() -> None:
    assert fast_normalize_email(" Amy.Chen+tw@Mail.Example.COM ") == "Amy.Chen+tw@mail.example.com"


# ----- the cheap phone check ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(cst.phones(), st.text("+0123456789 -().", max_size=20)))
def test_an_accepted_e164_phone_is_one_the_contact_accepts(text: str) -> None:
    try:
        phone = _e164_phone(text, None)
    except ValidationError:
        return
    contact = Contact(id="con_1", customer_id="cus_1", name="A", phones=[phone])
    assert contact.phones == (phone,)


@settings(max_examples=100, deadline=None)
@given(cst.phones())
def test_full_phone_check_agrees_with_normalize_phone(phone: str) -> None:
    check = RowValidator(ColumnMapping({"name": "n", "phone": "p"}), phone_check="full")
    row = check.validate(2, {"n": "Amy", "p": phone})
    assert isinstance(row, ImportRow)
    assert row.phones == (normalize_phone(phone),)


# ----- the text fast path -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name", "limit"),
    [
        (Customer, "name", 200),
        (Customer, "external_id", 200),
        (Customer, "source", 200),
        (Contact, "name", 200),
        (Contact, "role", 100),
    ],
)
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=210), st.text(string.printable, max_size=210)))
def test_the_text_fast_path_agrees_with_the_model(cls, name, limit, text) -> None:  # type: ignore[no-untyped-def]
    required = cls is Customer and name == "name"
    fast = _outcome(_model_check(cls, name, limit, required=required), text)
    attribute = getattr(attrs.fields(cls), name)

    def model(value: object) -> object:
        value = attribute.converter(value)
        attribute.validator(None, attribute, value)
        return value

    slow = _outcome(model, text)
    if slow == ("ok", None) or (slow[0] == "error" and not text.strip() and not required):
        # blank optional text: the import reads it as "no value"
        assert fast == ("ok", None)
    else:
        assert fast == slow


# ----- rows -----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    name=cst.names(),
    email=cst.emails(),
    phone=cst.phones(),
    tags=cst.tags(),
    kind=st.sampled_from(["company", "person", "", " Company "]),
)
def test_a_valid_row_builds_the_same_customer_and_contact_as_the_model(
    name: str, email: str, phone: str, tags: list[str], kind: str
) -> None:
    row = RowValidator(ALL).validate(
        2,
        {"name": name, "email": email, "phone": phone, "tags": tags, "kind": kind,
         "external_id": "ext-1"},
    )  # fmt: skip
    assert isinstance(row, ImportRow)
    customer = Customer(id="cus_1", name=name, kind=kind.strip().lower() or "person",
                        created_at=NOW, tags=tags, external_id="ext-1")  # fmt: skip
    contact = Contact(id="con_1", customer_id="cus_1", name=name, emails=[email], phones=[phone])
    assert (row.name, row.kind, row.tags, row.external_id) == (
        customer.name, customer.kind.value, customer.tags, customer.external_id
    )  # fmt: skip
    assert (row.contact_name, row.emails, row.phones) == (
        contact.name, contact.emails, contact.phones
    )  # fmt: skip


def test_every_bad_field_of_a_row_is_reported_with_row_field_reason_and_suggestion() -> None:
    errors = RowValidator(ALL).validate(
        9,
        {"name": " ", "email": "amy@", "phone": "0912", "kind": "shop", "owner": "u 1",
         "tags": "x" * 51, "role": "r" * 101},
    )  # fmt: skip
    assert isinstance(errors, list)
    assert all(isinstance(e, RowError) and e.row == 9 and e.error and e.suggestion for e in errors)
    assert [e.field for e in errors] == ["name", "kind", "tags", "owner", "email", "phone", "role"]
    assert {e.field: e.value for e in errors}["email"] == "amy@"


def test_several_emails_in_one_cell_split_on_the_separator_as_the_contact_keeps_them() -> None:
    cell = "a@example.com | a@EXAMPLE.com|A@example.com|b@example.com"
    row = RowValidator(ColumnMapping({"name": "n", "email": "e"}, separator="|")).validate(
        2, {"n": "Amy", "e": cell}
    )
    assert isinstance(row, ImportRow)
    emails = [part.strip() for part in cell.split("|")]
    assert row.emails == Contact(id="con_1", customer_id="cus_1", name="A", emails=emails).emails
    assert row.emails == ("a@example.com", "A@example.com", "b@example.com")


def test_eleven_emails_are_too_many() -> None:
    cell = ";".join(f"a{i}@example.com" for i in range(11))
    errors = RowValidator(ColumnMapping({"name": "n", "email": "e"})).validate(
        2, {"n": "A", "e": cell}
    )
    assert isinstance(errors, list) and "at most 10" in errors[0].error


def test_json_values_numbers_become_text_and_other_types_are_reported() -> None:
    check = RowValidator(ColumnMapping({"name": "n", "external_id": "x", "email": "e"}))
    row = check.validate(1, {"n": "Amy", "x": 42, "e": ["amy@example.com"]})
    assert isinstance(row, ImportRow) and row.external_id == "42"
    errors = check.validate(2, {"n": {"first": "Amy"}, "x": True})
    assert isinstance(errors, list)
    assert [(e.field, e.error) for e in errors] == [
        ("external_id", "must be text, not bool"),
        ("name", "must be text, not dict"),
    ]


def test_a_contact_name_falls_back_to_the_customer_name_only_with_contact_details() -> None:
    check = RowValidator(ColumnMapping({"name": "n", "email": "e"}))
    with_email = check.validate(2, {"n": "Amy", "e": "amy@example.com"})
    without = check.validate(3, {"n": "Acme", "e": ""})
    assert isinstance(with_email, ImportRow) and with_email.contact_name == "Amy"
    assert isinstance(without, ImportRow) and without.contact_name is None
    assert not without.has_contact


# ----- the mapping -----------------------------------------------------------------------------


def test_a_mapping_needs_a_name_column_and_known_fields() -> None:
    with pytest.raises(ValidationError, match="must map 'name'"):
        ColumnMapping({"email": "Mail"})
    with pytest.raises(ValidationError, match="'mail' is not a field"):
        ColumnMapping({"name": "Name", "mail": "Mail"})
    with pytest.raises(ValidationError, match="kind: must be one of"):
        ColumnMapping({"name": "Name"}, kind="shop")
    with pytest.raises(ValidationError, match="separator"):
        ColumnMapping({"name": "Name"}, separator=" ")


def test_a_mapping_round_trips_through_json() -> None:
    from crmkit.serialization import structure, unstructure

    mapping = ColumnMapping({"name": "Name", "email": "E-mail"}, kind="company", separator="|")
    assert structure(unstructure(mapping), ColumnMapping) == mapping


def test_a_header_without_a_mapped_column_is_refused_up_front() -> None:
    check = RowValidator(ColumnMapping({"name": "Name", "email": "E-mail"}))
    with pytest.raises(ValidationError, match="no column 'E-mail' \\(for email\\)"):
        check.for_header(["Name", "Email"])
    by_position = check.for_header(["E-mail", "Name"])
    assert by_position.check(2, ["amy@example.com", "Amy"])["email"] == ("amy@example.com",)


def test_validator_options_are_checked() -> None:
    with pytest.raises(ValidationError, match="phone_check"):
        RowValidator(ALL, phone_check="strict")
    with pytest.raises(ValidationError, match="region"):
        RowValidator(ALL, region="Taiwan")
    with pytest.raises(ValidationError, match="mapping"):
        RowValidator({"name": "n"})  # type: ignore[arg-type]
