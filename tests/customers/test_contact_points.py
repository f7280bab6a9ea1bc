"""Email and phone normalisation: email-validator and libphonenumber (E.164)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.customers import normalize_email, normalize_phone
from crmkit.errors import ValidationError
from crmkit.testing.strategies import emails, phones


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        (" Amy.Chen@Example.COM ", "Amy.Chen@example.com"),
        ("amy@example.com.tw", "amy@example.com.tw"),
        ("小明@公司.台灣", "小明@公司.台灣"),
        ("sales+tw@Mail.Example.CN", "sales+tw@mail.example.cn"),
    ],
)
def test_emails_are_normalised(raw: str, normalised: str) -> None:
    assert normalize_email(raw) == normalised


@pytest.mark.parametrize(
    "bad", ["", "amy", "amy@", "@example.com", "amy@@example.com", "amy@example", "a b@c.com"]
)
def test_invalid_emails_are_validation_errors_quoting_the_input(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_email(bad)
    assert "is not a valid email address" in str(info.value)
    assert repr(bad.strip()) in str(info.value)


@pytest.mark.parametrize("bad", [None, 5, b"amy@example.com", ["amy@example.com"]])
def test_an_email_must_be_text(bad: object) -> None:
    with pytest.raises(ValidationError, match="must be text"):
        normalize_email(bad)  # type: ignore[arg-type]


@given(emails())
def test_normalising_an_email_twice_changes_nothing(email: str) -> None:
    once = normalize_email(email)
    assert normalize_email(once) == once


# ----- phones ----------------------------------------------------------------------------------


_FULL_WIDTH_MOBILE = "".join(chr(0xFF10 + int(d)) for d in "0912345678")  # as typed with an IME


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        # Taiwan: mobile and Taipei landline, national and international forms
        ("0912 345 678", "TW", "+886912345678"),
        ("0912-345-678", "TW", "+886912345678"),
        ("(02) 2345-6789", "TW", "+886223456789"),
        ("+886 912 345 678", None, "+886912345678"),
        ("+886-2-2345-6789", "CN", "+886223456789"),  # an explicit +886 wins over the region
        (_FULL_WIDTH_MOBILE, "TW", "+886912345678"),
        # mainland China: mobile and Beijing landline
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 138 0013 8000", None, "+8613800138000"),
        ("010 1234 5678", "CN", "+861012345678"),
        # Hong Kong: mobile and landline, no trunk prefix
        ("5123 4567", "HK", "+85251234567"),
        ("2123 4567", "HK", "+85221234567"),
        ("+852 9123 4567", None, "+85291234567"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "region", "mentions"),
    [
        ("12345", "TW", "for region TW"),
        ("0912345678", None, "+<country code>"),
        ("0912 345 67", "TW", "for region TW"),
        ("call me", "TW", "for region TW"),
        ("", "HK", "for region HK"),
        ("1234 5678", "HK", "for region HK"),
        ("+886 12", None, "+<country code>"),
    ],
)
def test_invalid_phones_are_validation_errors(raw: str, region: str | None, mentions: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw, region)
    assert "is not a valid phone number" in str(info.value)
    assert mentions in str(info.value)


@pytest.mark.parametrize("bad", [None, 886912345678, ["+886912345678"]])
def test_a_phone_must_be_text(bad: object) -> None:
    with pytest.raises(ValidationError, match="must be text"):
        normalize_phone(bad)  # type: ignore[arg-type]


@given(phones())
def test_normalising_an_e164_phone_changes_nothing(phone: str) -> None:
    assert normalize_phone(phone) == phone
    assert normalize_phone(phone, "TW") == phone


@given(st.sampled_from(["TW", "CN", "HK"]).flatmap(lambda r: st.tuples(st.just(r), phones(r))))
def test_numbers_written_nationally_normalise_to_the_same_e164(pair: tuple[str, str]) -> None:
    region, e164 = pair
    national = phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    assert normalize_phone(national, region) == e164
