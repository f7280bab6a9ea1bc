"""The personal-data map, scrubbing, the safety scan and retention rules (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from crmkit.customers import Contact
from crmkit.customers.privacy import (
    PersonalDataMap,
    PersonalField,
    PersonIdentifiers,
    RetentionRule,
    find_identifiers,
    is_placeholder,
    placeholder,
    scrub_document,
)
from crmkit.errors import DefinitionError
from crmkit.serialization import structure, unstructure

PHONE = "+886912345678"
WHO = PersonIdentifiers(names=["Wang Xiao-ming"], emails=["xm@example.com"], phones=[PHONE])

# Text that may or may not hold an identifier, nested the way documents are.
_texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["Wang Xiao-ming", "XM@example.com", "0912 345 678", "(09) 1234-5678"]),
    st.builds(lambda a, b: f"{a} Wang Xiao-ming {b}", st.text(max_size=5), st.text(max_size=5)),
)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "note", "body"]), inner, max_size=4),
    ),
    max_leaves=12,
)
_documents = st.fixed_dictionaries(
    {
        "id": st.just("rec_1"),
        "summary": _texts,
        "links": st.lists(_texts, max_size=4),
        "messages": st.lists(st.fixed_dictionaries({"body": _texts, "meta": _json}), max_size=3),
    }
)
_FIELDS = (
    PersonalField("summary", "free_text", "redact"),
    PersonalField("links", "free_text", "drop"),
    PersonalField("messages[].body", "free_text", "set_none"),
)


@given(_documents)
def test_scrubbing_everything_leaves_no_identifier_in_a_mapped_path(doc: dict[str, Any]) -> None:
    result = scrub_document(doc, _FIELDS, record_id="rec_1")
    mapped = [p for p in find_identifiers(result.document, WHO) if not p.startswith("messages[")]
    assert mapped == []
    for message in result.document["messages"]:
        assert message["body"] is None
    # The rest of the document is untouched.
    assert [m["meta"] for m in result.document["messages"]] == [m["meta"] for m in doc["messages"]]


@given(_documents)
def test_scrubbing_only_mentions_keeps_what_names_nobody_and_is_idempotent(
    doc: dict[str, Any],
) -> None:
    once = scrub_document(doc, _FIELDS, record_id="rec_1", only_matching=WHO)
    twice = scrub_document(once.document, _FIELDS, record_id="rec_1", only_matching=WHO)
    assert twice.changes == () and twice.document == once.document
    assert [x for x in doc["links"] if WHO.match(x) is None] == once.document["links"]
    if WHO.match(doc["summary"]) is None:
        assert once.document["summary"] == doc["summary"]


@given(
    st.lists(st.sampled_from([" ", "-", ".", "(", ")", ""]), min_size=10, max_size=10),
    st.booleans(),
)
def test_a_phone_is_found_however_it_is_written(separators: list[str], national: bool) -> None:
    digits = "0912345678" if national else "+886912345678"
    head, body = (digits[:1], digits[1:]) if national else (digits[:4], digits[4:])
    written = head + "".join(s + d for s, d in zip(separators, body, strict=False))
    assert WHO.match(f"call {written} today") == "phone"


def test_dates_amounts_and_ids_are_not_phones() -> None:
    for text in ("2026-03-02T09:00:00+08:00", "cus_000001", "3600.00", "aud_" + "ab" * 20):
        assert WHO.match(text) is None


def test_the_builtin_contact_fields_scrub_to_a_valid_contact() -> None:
    contact = Contact(
        id="con_1",
        customer_id="cus_1",
        name="Wang Xiao-ming",
        emails=["xm@example.com"],
        phones=[PHONE],
    )
    doc = unstructure(contact)
    result = scrub_document(
        doc, PersonalDataMap.builtin().fields_for("contacts"), record_id="con_1"
    )
    erased = structure(result.document, Contact)
    assert (erased.name, erased.emails, erased.phones) == ("Erased person", (), ())
    assert find_identifiers(result.document, WHO) == []


def test_placeholders_validate_and_identify_nobody() -> None:
    assert is_placeholder(placeholder("email", "lead_1"))
    assert PersonIdentifiers(names=["Erased person"]).names == ()
    assert placeholder("email", "a") != placeholder("email", "b")


def test_a_bad_map_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="not a document path"):
        PersonalField("messages.[]body", "free_text", "redact")
    with pytest.raises(DefinitionError, match="no placeholder"):
        PersonalField("birthday", "birthday", "redact")
    with pytest.raises(DefinitionError, match="PersonalField"):
        PersonalDataMap({"contacts": ["name"]})


@given(st.integers(min_value=0, max_value=10), st.integers(min_value=-400, max_value=400))
def test_a_rule_is_due_exactly_from_its_anniversary(years: int, days: int) -> None:
    anchor = datetime(2020, 2, 29, 12, tzinfo=timezone.utc)
    rule = RetentionRule("interactions", "occurred_at", years, "anonymise")
    doc = {"occurred_at": anchor.isoformat() + "[UTC]"}
    now = anchor + relativedelta(years=years) + timedelta(days=days)
    assert rule.due(doc, now) is (days >= 0)
    assert not rule.due({"occurred_at": None}, now)
