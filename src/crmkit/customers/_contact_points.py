"""Normalising emails (email-validator) and phone numbers (phonenumbers, E.164)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from crmkit.errors import ValidationError

__all__ = ["normalize_email", "normalize_phone"]


def normalize_email(value: str) -> str:
    """Return the normalised form of an email address (domain lower-cased, IDN kept readable).

    Syntax only: no DNS lookup is made.

    Example:
        >>> normalize_email(" Amy.Chen@Example.COM ")
        'Amy.Chen@example.com'
        >>> normalize_email("amy@")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: 'amy@' is not a valid email address: ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}")
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationError(f"{value.strip()!r} is not a valid email address: {exc}") from None


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return a phone number in E.164 form; ``region`` (``"TW"``) reads numbers without ``+``.

    Example:
        >>> normalize_phone("0912 345 678", "TW"), normalize_phone("+86 138 0013 8000")
        ('+886912345678', '+8613800138000')
        >>> normalize_phone("12345", "TW")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: '12345' is not a valid phone number for region TW

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}")
    raw = value.strip()
    where = f"for region {region}" if region else "(no region given: write it as +<country code>)"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"{raw!r} is not a valid phone number {where}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{raw!r} is not a valid phone number {where}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
