"""Normalising lead contact data, and telling when two records are the same person.

Capture normalises what people type so that duplicates can be found by equality: an email key
is the address stripped and case-folded; a phone key is E.164 (``+886912345678``, by
:func:`crmkit.customers.normalize_phone`); a company key drops legal-form words (``Ltd``,
``Inc.``, ``Co.``, ``GmbH``, ``股份有限公司``, ``有限公司``, ``公司``, ...), punctuation and
case, after Unicode NFKC (so full-width Latin letters read as ASCII).

:func:`match` compares the :class:`MatchKeys` of a candidate with those of an existing lead or
customer contact and explains why they are the same person, strongest reason first:

1. the same email key;
2. the same phone key;
3. the same company key and similar person names: :data:`NAME_SIMILARITY` (0.85) or more by
   ``difflib.SequenceMatcher.ratio`` on folded names, trying the words in their given order
   and sorted (so "Chen Amy" matches "Amy Chen").

The functions are pure; the app layer looks candidates up in the stores by these keys (the
``LEADS`` record type projects them) and applies the host's duplicate policy.

Example:
    >>> from crmkit.leads.normalize import MatchKeys, company_key, match
    >>> company_key("Acme Co., Ltd."), company_key("台灣積體電路製造股份有限公司")
    ('acme', '台灣積體電路製造')
    >>> web = MatchKeys.build(name="Amy Chen", company="ACME Inc.", emails=["amy@acme.example"])
    >>> show = MatchKeys.build(name="Amy Chen", company="Acme Ltd", phones=["+886912345678"])
    >>> found = match(web, show)
    >>> found.kind.value, found.reason
    ('company_and_name', "same company 'acme' and similar names ('amy chen' ~ 'amy chen', 1.00)")

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from crmkit.customers import normalize_phone
from crmkit.errors import ValidationError
from crmkit.kernel._enum import StrEnum

__all__ = [
    "LEGAL_SUFFIXES",
    "Match",
    "MatchKeys",
    "MatchKind",
    "NAME_SIMILARITY",
    "company_key",
    "email_key",
    "fold_text",
    "match",
    "name_similarity",
    "phone_key",
]

#: Two person names at one company are "similar" from this ``difflib`` ratio on (0.85: "Amy
#: Chen" ~ "Amy Chan" is 0.875, "Jon Smith" ~ "John Smith" 0.95, "Amy Chen" ~ "Amos Chen" 0.82).
NAME_SIMILARITY = Decimal("0.85")

#: Legal-form words dropped from the end of company names (repeatedly: "Co., Ltd." goes whole).
#: Latin ones match whole words; CJK ones match the end of the name, longest first.
LEGAL_SUFFIXES: tuple[str, ...] = (
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "co",
    "corp",
    "corporation",
    "company",
    "llc",
    "llp",
    "plc",
    "lp",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "pte",
    "pty",
    "kk",
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "股份公司",
    "有限公司",
    "公司",
    "株式会社",
)

_LATIN_SUFFIXES = frozenset(s for s in LEGAL_SUFFIXES if s.isascii())
_CJK_SUFFIXES = tuple(sorted((s for s in LEGAL_SUFFIXES if not s.isascii()), key=len, reverse=True))
_PUNCTUATION = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
_TWO = Decimal("0.01")


def fold_text(value: str) -> str:
    r"""Fold text for comparison: NFKC, case-folded, white space collapsed, ends stripped.

    Example:
        >>> fold_text("  \uff21\uff2d\uff39   Chen ")  # full-width AMY
        'amy chen'

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}")
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def email_key(value: str) -> str:
    """The key two emails of one person share: stripped and case-folded (NFKC).

    Syntax is checked where a lead is captured (:func:`crmkit.customers.normalize_email`);
    the key only folds, so stored addresses always have one.

    Example:
        >>> email_key(" Amy.Chen@Example.COM ")
        'amy.chen@example.com'

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="email")
    key = unicodedata.normalize("NFKC", value).strip().casefold()
    if not key:
        raise ValidationError("must not be empty", path="email")
    return key


def phone_key(value: str, region: str | None = None) -> str:
    """The key of a phone number: E.164, reading a number without ``+`` in ``region``.

    Example:
        >>> phone_key("0912-345-678", "TW"), phone_key("+886 912 345 678")
        ('+886912345678', '+886912345678')

    .. versionadded:: 0.1.0
    """
    return normalize_phone(value, region)


def company_key(value: str) -> str:
    r"""Fold a company name for matching: NFKC, case, punctuation and legal-form words dropped.

    A name made only of legal words ("Company") keeps them, so no key is empty.

    Example:
        >>> names = ("ACME Inc.", "Acme, Ltd", "\uff41\uff43\uff4d\uff45 有限公司", "Company")
        >>> [company_key(n) for n in names]
        ['acme', 'acme', 'acme', 'company']

    .. versionadded:: 0.1.0
    """
    folded = fold_text(value)
    words = _PUNCTUATION.sub(" ", folded.replace("&", " and ")).split()
    if not words:
        raise ValidationError("must hold letters or digits", path="company")
    while True:
        changed = False
        if len(words) > 1 and words[-1] in _LATIN_SUFFIXES:
            words.pop()
            changed = True
        last = words[-1]
        for suffix in _CJK_SUFFIXES:
            if last.endswith(suffix) and len(last) > len(suffix):
                words[-1] = last[: -len(suffix)]
                changed = True
                break
            if last == suffix and len(words) > 1:
                words.pop()
                changed = True
                break
        if not changed:
            return " ".join(words)


def name_similarity(a: str, b: str) -> Decimal:
    """How alike two person names are, from 0 to 1 (two places), ignoring case and word order.

    The best ``difflib.SequenceMatcher(None, x, y).ratio()`` over the folded names and their
    words sorted, each compared both ways round, so the answer does not depend on the order of
    the arguments.

    Example:
        >>> name_similarity("Amy Chen", "amy chan"), name_similarity("Chen Amy", "Amy Chen")
        (Decimal('0.88'), Decimal('1.00'))

    .. versionadded:: 0.1.0
    """
    x, y = fold_text(a), fold_text(b)
    if x == y:
        return Decimal("1.00")
    sx, sy = " ".join(sorted(x.split())), " ".join(sorted(y.split()))
    best = max(
        difflib.SequenceMatcher(None, p, q).ratio() for p, q in ((x, y), (y, x), (sx, sy), (sy, sx))
    )
    return Decimal(repr(best)).quantize(_TWO, rounding=ROUND_HALF_EVEN)


class MatchKind(StrEnum):
    """Why two records are taken for the same person, strongest first.

    Example:
        >>> [k.value for k in MatchKind]
        ['email', 'phone', 'company_and_name']

    .. versionadded:: 0.1.0
    """

    EMAIL = "email"
    PHONE = "phone"
    COMPANY_AND_NAME = "company_and_name"


def _fold_all(value: object, fold: Callable[[str], str], field: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"must be a list of text, not {type(value).__name__}", path=field)
    found: dict[str, None] = {}
    for i, item in enumerate(value):
        try:
            found.setdefault(fold(item), None)
        except ValidationError as exc:
            raise ValidationError(errors=exc.errors).at(f"{field}[{i}]") from None
    return tuple(found)


def _plain_phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except ValidationError as exc:
        raise ValidationError(errors=exc.errors) from None


def _email_keys(value: object) -> tuple[str, ...]:
    return _fold_all(value, email_key, "emails")


def _phone_keys(value: object) -> tuple[str, ...]:
    return _fold_all(value, _plain_phone, "phones")


def _optional_company(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return company_key(value)  # type: ignore[arg-type]


def _optional_name(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return fold_text(value)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class MatchKeys:
    """What duplicate matching compares: email keys, E.164 phones, company key, folded name.

    Build it from raw values with :meth:`build` (phones in ``region``), or from a lead with
    :meth:`crmkit.leads.Lead.match_keys`. Values are folded on construction, so building
    keys from keys changes nothing.

    Example:
        >>> MatchKeys.build(name=" Amy  CHEN ", company="Acme Ltd", emails=["Amy@Acme.example"],
        ...                 phones=["02 2345 6789"], region="TW")
        MatchKeys(emails=('amy@acme.example',), phones=('+886223456789',), company='acme',
                  name='amy chen')

    .. versionadded:: 0.1.0
    """

    emails: tuple[str, ...] = attrs.field(default=(), converter=_email_keys)
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phone_keys)
    company: str | None = attrs.field(default=None, converter=_optional_company)
    name: str | None = attrs.field(default=None, converter=_optional_name)

    @classmethod
    def build(
        cls,
        *,
        name: str | None = None,
        company: str | None = None,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        region: str | None = None,
    ) -> MatchKeys:
        """Fold raw values into keys; phones without ``+`` are read in ``region``.

        Example:
            >>> MatchKeys.build(phones=["0912 345 678"], region="TW").phones
            ('+886912345678',)
        """
        e164 = _fold_all(phones, lambda p: normalize_phone(p, region), "phones")
        return cls(emails=emails, phones=e164, company=company, name=name)


@attrs.frozen(kw_only=True)
class Match:
    """Why a candidate is taken for an existing record: the strongest reason and every other.

    ``value`` is the shared key (the email, the phone or the company key); ``similarity`` is
    the name similarity when the company and name matched, else ``None``.

    Example:
        >>> a = MatchKeys(emails=["amy@acme.example"], phones=["+886912345678"])
        >>> m = match(a, a)
        >>> m.kind.value, m.kinds, m.value
        ('email', (<MatchKind.EMAIL: 'email'>, <MatchKind.PHONE: 'phone'>), 'amy@acme.example')

    .. versionadded:: 0.1.0
    """

    kind: MatchKind
    value: str
    reason: str
    kinds: tuple[MatchKind, ...]
    similarity: Decimal | None = None


def match(
    candidate: MatchKeys, existing: MatchKeys, *, threshold: Decimal = NAME_SIMILARITY
) -> Match | None:
    """Tell whether ``candidate`` and ``existing`` are the same person, and why; else ``None``.

    Same email, same phone, or same company and names at least ``threshold`` similar (see
    :func:`name_similarity`). A missing value never matches a missing value.

    Example:
        >>> web = MatchKeys.build(name="Amy Chen", company="Acme", emails=["amy@acme.example"])
        >>> other = MatchKeys.build(name="Bob Lin", company="Acme", emails=["bob@acme.example"])
        >>> match(web, other) is None
        True
        >>> match(web, MatchKeys.build(emails=["AMY@acme.example"])).reason
        "same email 'amy@acme.example'"

    .. versionadded:: 0.1.0
    """
    if not isinstance(candidate, MatchKeys) or not isinstance(existing, MatchKeys):
        raise ValidationError("must be MatchKeys (build them with MatchKeys.build)", path="keys")
    found: list[tuple[MatchKind, str, str, Decimal | None]] = []
    email = next((e for e in candidate.emails if e in existing.emails), None)
    if email is not None:
        found.append((MatchKind.EMAIL, email, f"same email {email!r}", None))
    phone = next((p for p in candidate.phones if p in existing.phones), None)
    if phone is not None:
        found.append((MatchKind.PHONE, phone, f"same phone {phone!r}", None))
    if (
        candidate.company is not None
        and candidate.company == existing.company
        and candidate.name is not None
        and existing.name is not None
    ):
        similarity = name_similarity(candidate.name, existing.name)
        if similarity >= threshold:
            found.append(
                (
                    MatchKind.COMPANY_AND_NAME,
                    candidate.company,
                    f"same company {candidate.company!r} and similar names "
                    f"({candidate.name!r} ~ {existing.name!r}, {similarity})",
                    similarity,
                )
            )
    if not found:
        return None
    kind, value, reason, _ = found[0]
    return Match(
        kind=kind,
        value=value,
        reason=reason,
        kinds=tuple(k for k, *_ in found),
        similarity=next((s for *_, s in found if s is not None), None),
    )
