"""Normalisation keys and duplicate matching: same email, phone, or company and similar name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.leads.normalize import (
    LEGAL_SUFFIXES,
    NAME_SIMILARITY,
    MatchKeys,
    MatchKind,
    company_key,
    email_key,
    fold_text,
    match,
    name_similarity,
    phone_key,
)
from crmkit.testing.strategies import emails, names, phones


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme Ltd", "acme"),
        ("ACME Limited", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme, Inc.", "acme"),
        ("Acme Corporation", "acme"),
        ("Müller GmbH", "müller"),
        ("O'Reilly & Sons Pte. Ltd.", "o reilly and sons"),
        ("台灣積體電路製造股份有限公司", "台灣積體電路製造"),
        ("深圳市腾讯计算机系统有限公司", "深圳市腾讯计算机系统"),
        ("鴻海精密工業股份有限公司", "鴻海精密工業"),
        ("長江實業(集團)有限公司", "長江實業 集團"),
        ("阿里巴巴 公司", "阿里巴巴"),
        ("\uff21\uff23\uff2d\uff25 有限公司", "acme"),  # full-width letters
        ("Company", "company"),
        ("公司", "公司"),
        ("The Co Company", "the"),
    ],
)
def test_company_keys(name: str, key: str) -> None:
    assert company_key(name) == key


def test_every_legal_suffix_is_folded_text() -> None:
    for suffix in LEGAL_SUFFIXES:
        assert suffix == fold_text(suffix)


def test_keys_refuse_what_cannot_be_a_key() -> None:
    with pytest.raises(ValidationError):
        company_key("...")
    with pytest.raises(ValidationError):
        email_key("   ")
    with pytest.raises(ValidationError):
        phone_key("12345", "TW")
    with pytest.raises(ValidationError):
        fold_text(5)  # type: ignore[arg-type]


def test_email_and_phone_keys() -> None:
    assert email_key(" Amy.Chen@Example.COM ") == "amy.chen@example.com"
    assert phone_key("(02) 2345-6789", "TW") == "+886223456789"
    assert phone_key("+852 2123 4567") == "+85221234567"


def test_name_similarity_threshold_is_documented_by_examples() -> None:
    assert Decimal("0.85") == NAME_SIMILARITY
    assert name_similarity("Amy Chen", "Amy Chan") >= NAME_SIMILARITY
    assert name_similarity("Jon Smith", "John Smith") >= NAME_SIMILARITY
    assert name_similarity("Chen, Amy", "Amy Chen") >= NAME_SIMILARITY
    assert name_similarity("Amy Chen", "Bob Lin") < NAME_SIMILARITY
    assert name_similarity("陳美玲", "陳美玲") == Decimal("1.00")


def test_match_reasons_strongest_first() -> None:
    a = MatchKeys.build(
        name="Amy Chen", company="Acme Ltd", emails=["amy@acme.example"], phones=["+886912345678"]
    )
    b = MatchKeys.build(
        name="amy chan",
        company="ACME Inc.",
        emails=["AMY@acme.example", "amy.chen@gmail.com"],
        phones=["0912 345 678"],
        region="TW",
    )
    found = match(a, b)
    assert found is not None
    assert found.kinds == (MatchKind.EMAIL, MatchKind.PHONE, MatchKind.COMPANY_AND_NAME)
    assert (found.kind, found.value, found.reason) == (
        MatchKind.EMAIL,
        "amy@acme.example",
        "same email 'amy@acme.example'",
    )
    assert found.similarity == Decimal("0.88")


def test_no_match_without_shared_keys() -> None:
    amy = MatchKeys.build(name="Amy Chen", company="Acme", emails=["amy@acme.example"])
    assert match(amy, MatchKeys.build(name="Amy Chen", company="Globex")) is None
    assert match(amy, MatchKeys.build(name="Bob Lin", company="Acme Ltd")) is None
    assert match(MatchKeys(), MatchKeys()) is None  # nothing never matches nothing
    assert match(MatchKeys(company="Acme"), MatchKeys(company="Acme")) is None
    phone_only = MatchKeys.build(phones=["02 2345 6789"], region="TW")
    found = match(phone_only, MatchKeys(phones=["+886223456789"]))
    assert found is not None and found.kind is MatchKind.PHONE
    assert (
        match(amy, MatchKeys.build(name="Amy Chan", company="ACME"), threshold=Decimal("0.95"))
        is None
    )


def test_match_keys_validate_and_point_at_the_bad_item() -> None:
    with pytest.raises(ValidationError) as info:
        MatchKeys.build(phones=["+886912345678", "123"], region="TW")
    assert info.value.errors[0].path == "phones[1]"
    with pytest.raises(ValidationError) as info:
        MatchKeys(emails="amy@acme.example")  # type: ignore[arg-type]
    assert info.value.errors[0].path == "emails"
    with pytest.raises(ValidationError):
        match(MatchKeys(), {"emails": []})  # type: ignore[arg-type]


@settings(max_examples=100)
@given(names())
def test_company_key_is_idempotent(name: str) -> None:
    try:
        key = company_key(name)
    except ValidationError:
        return  # only punctuation: not a company name
    assert company_key(key) == key
    assert key == key.strip() and key


@settings(max_examples=60)
@given(names(), names())
def test_name_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = name_similarity(a, b)
    assert s == name_similarity(b, a)
    assert Decimal(0) <= s <= Decimal(1)
    assert name_similarity(a, a) == Decimal("1.00")


keys = st.builds(
    MatchKeys,
    emails=st.lists(emails(), max_size=2),
    phones=st.lists(phones(), max_size=2),
    company=st.none() | st.sampled_from(("Acme Ltd", "ACME Inc.", "Globex", "台積電股份有限公司")),
    name=st.none() | st.sampled_from(("Amy Chen", "amy chan", "Bob Lin", "陳美玲")),
)


@settings(max_examples=80)
@given(keys, keys)
def test_match_is_symmetric_and_reflexive(a: MatchKeys, b: MatchKeys) -> None:
    ab, ba = match(a, b), match(b, a)
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert ab.kinds == ba.kinds and ab.kind == ba.kind
    if a.emails or a.phones or (a.company and a.name):
        assert match(a, a) is not None
    assert MatchKeys(emails=a.emails, phones=a.phones, company=a.company, name=a.name) == a
