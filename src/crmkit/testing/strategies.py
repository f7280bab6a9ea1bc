"""Hypothesis strategies for crmkit's public types: money, aware datetimes, ids and aggregates.

Use them in your own property tests, or let ``st.from_type(Money)`` (and ``Customer``,
``Contact``, ``Interaction``, ``DomainEvent``) find them: crmkit registers them with hypothesis
through its ``hypothesis`` entry point. This module needs hypothesis, which the ``test`` extra
installs (``pip install "crmkit[test]"``).

Every strategy builds valid objects through the classes' own constructors, so what it draws is
what a host could have stored. The values lean towards what trips CRM code in practice:
currencies with 0, 2 and 3 minor digits (JPY, TWD, KWD), zones with daylight saving
(America/New_York) next to the ones without (Asia/Taipei), Chinese names and E.164 phone numbers
from Taiwan, mainland China and Hong Kong.

Example:
    >>> from hypothesis import find
    >>> from crmkit.testing.strategies import money
    >>> find(money("TWD", min_value=100), lambda m: True)
    Money('100.00', 'TWD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import enum
import functools
import math
import string
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
from babel.localedata import locale_identifiers
from babel.numbers import list_currencies

from crmkit.customers import (
    Channel,
    ConsentRecord,
    Contact,
    Customer,
    CustomerKind,
    Interaction,
    InteractionKind,
    Lifecycle,
    Purpose,
    QuietHours,
    normalize_email,
)
from crmkit.customers import events as customer_events
from crmkit.errors import ValidationError
from crmkit.kernel._validators import to_enum
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, _to_decimal, currency_digits
from crmkit.kernel.query import Filter, Op, Order, Query
from crmkit.kernel.time import ensure_aware

# The hypothesis entry point names ``_hypothesis_setup_hook`` in this module. Importing
# hypothesis runs the entry points, so when this module is imported first, hypothesis calls the
# hook while the module is half-loaded: the hook is defined before that import and the
# registration then waits for the end of the module.
_registration_deferred = False


def _hypothesis_setup_hook() -> None:
    """Register crmkit's strategies with hypothesis (called through the entry point)."""
    global _registration_deferred
    register = globals().get("_register_strategies")
    if register is None:
        _registration_deferred = True
    else:
        register()


from hypothesis import strategies as st  # noqa: E402  (after the hook: see above)

__all__ = [
    "activities",
    "approval_policies",
    "aware_datetimes",
    "business_calendars",
    "case_assignment_rules",
    "catalogs",
    "complaint_policies",
    "complaints",
    "consent_records",
    "contacts",
    "coupons",
    "currencies",
    "customer_facts",
    "customers",
    "discount_rule_sets",
    "domain_events",
    "earn_orders",
    "emails",
    "equipment",
    "ids",
    "interactions",
    "lead_assignment_rules",
    "leads",
    "locales",
    "loyalty_programs",
    "loyalty_scenarios",
    "maintenance_contracts",
    "manual_discounts",
    "memberships",
    "money",
    "names",
    "opportunities",
    "order_lines",
    "orders",
    "phones",
    "pipelines",
    "price_books",
    "products",
    "qualification_frameworks",
    "queries",
    "quiet_hours",
    "quote_lines",
    "quotes",
    "referral_policies",
    "referrals",
    "reward_catalogs",
    "rfm_models",
    "scoring_models",
    "segment_rules",
    "segmentation_rules",
    "service_calendars",
    "service_plans",
    "sla_policies",
    "sla_policy_sets",
    "stage_thresholds",
    "tags",
    "tax_policies",
    "tier_models",
    "timezones",
    "work_orders",
]

_FAVOURITE_CURRENCIES = ("TWD", "CNY", "HKD", "USD", "JPY", "KWD")
_DEFAULT_MIN_MONEY = Decimal(-1_000_000_000)
_DEFAULT_MAX_MONEY = Decimal(1_000_000_000)
_DEFAULT_MIN_DATETIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
_DEFAULT_MAX_DATETIME = datetime(2100, 1, 1, tzinfo=timezone.utc)
_ZONE_NAMES = (
    "UTC",
    "Asia/Taipei",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
)
_FAVOURITE_LOCALES = ("en", "en_US", "zh_Hant_TW", "zh_Hans_CN", "zh_Hant_HK", "ja_JP")
_ID_ALPHABET = string.ascii_letters + string.digits + "-"
_PHONE_REGIONS = ("TW", "CN", "HK", "US", "JP", "SG", "GB")
_COMPANY_NAMES = (
    "Acme Ltd",
    "台灣積體電路製造股份有限公司",
    "鴻海精密工業",
    "阿里巴巴集团",
    "深圳市腾讯计算机系统有限公司",
    "長江實業(集團)有限公司",
    "O'Reilly & Sons",
    "Müller GmbH",
)
_PERSON_NAMES = ("Amy Chen", "陳美玲", "王小明", "李嘉誠", "José Núñez", "Zoë O'Brien")
_TAG_WORDS = ("VIP", "vip", "Taipei", "台北", "上海", "B2B", "key-account", "Straße", "STRASSE")
# Text as people type it: ASCII, accented Latin (and the no-break space), CJK, bopomofo,
# full-width forms and the ideographic space, emoji. No control characters and no surrogates.
# Code-point ranges keep hypothesis from building its Unicode category tables on first use.
_TEXT_CHARACTERS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xA0, max_codepoint=0x17F),
    st.characters(min_codepoint=0x3000, max_codepoint=0x312F),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F),
)
_EMAIL_LOCAL_CHARACTERS = string.ascii_letters + string.digits + "+-_"
_EMAIL_LABEL_CHARACTERS = string.ascii_lowercase + string.digits


# ----- money ----------------------------------------------------------------------------------


@functools.cache
def _all_currencies() -> tuple[str, ...]:
    return tuple(sorted(list_currencies()))


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes babel knows, half of the time one of TWD, CNY, HKD, USD, JPY and KWD.

    The favourites cover 0 (JPY), 2 (TWD, CNY, HKD, USD) and 3 (KWD) minor-unit digits.

    Example:
        >>> from hypothesis import find
        >>> find(currencies(), lambda code: code.startswith("K"))
        'KWD'

    .. versionadded:: 0.1.0
    """
    return st.one_of(st.sampled_from(_FAVOURITE_CURRENCIES), st.sampled_from(_all_currencies()))


def _bound(value: object, default: Decimal, path: str) -> Decimal:
    return default if value is None else _to_decimal(value, path)


@st.composite
def _money(
    draw: st.DrawFn,
    currency: st.SearchStrategy[str],
    low: Decimal,
    high: Decimal,
    exact: bool,
) -> Money:
    code = draw(currency)
    digits = currency_digits(code)
    if not exact:
        digits += draw(st.integers(1, 4))
    scale = Decimal(10) ** digits
    first, last = math.ceil(low * scale), math.floor(high * scale)
    if first > last:
        raise ValidationError(
            f"no {code} amount with {digits} decimal places lies between {low} and {high}",
            path="min_value",
        )
    units = draw(st.integers(first, last))
    return Money(Decimal(units).scaleb(-digits), code)


def money(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    min_value: Decimal | int | str | None = None,
    max_value: Decimal | int | str | None = None,
    exact: bool = True,
) -> st.SearchStrategy[Money]:
    """Money in ``currency`` (a code, a strategy of codes, or any of :func:`currencies`).

    Amounts lie between ``min_value`` and ``max_value`` (in major units, default minus and plus
    one billion) and, when ``exact``, have the currency's minor-unit digits (cents for TWD, none
    for JPY). With ``exact=False`` amounts carry one to four more digits, as unit prices and
    intermediate results may.

    Example:
        >>> from hypothesis import find
        >>> find(money("JPY", min_value=-5, max_value=5), lambda m: m.is_negative())
        Money('-1', 'JPY')
        >>> find(money("USD", exact=False), lambda m: m.amount > 1)
        Money('1.001', 'USD')

    .. versionadded:: 0.1.0
    """
    if currency is None:
        codes = currencies()
    elif isinstance(currency, st.SearchStrategy):
        codes = currency
    else:
        codes = st.just(Money.zero(currency).currency)
    low = _bound(min_value, _DEFAULT_MIN_MONEY, "min_value")
    high = _bound(max_value, _DEFAULT_MAX_MONEY, "max_value")
    if low > high:
        raise ValidationError(f"must not exceed max_value {high}, got {low}", path="min_value")
    if not isinstance(exact, bool):
        raise ValidationError(f"must be a bool, not {type(exact).__name__}", path="exact")
    return _money(codes, low, high, exact)


# ----- time -----------------------------------------------------------------------------------


@functools.cache
def _default_zones() -> tuple[tzinfo, ...]:
    return (timezone.utc, timezone(timedelta(hours=8)), *(ZoneInfo(n) for n in _ZONE_NAMES))


def timezones() -> st.SearchStrategy[tzinfo]:
    """The zones crmkit's tests care about (via ``zoneinfo``), and fixed UTC offsets.

    UTC, ``+08:00``, Asia/Taipei, Asia/Shanghai, Asia/Hong_Kong, America/New_York (daylight
    saving), Europe/London and Asia/Kolkata (a half-hour offset).

    Example:
        >>> from hypothesis import find
        >>> find(timezones(), lambda zone: str(zone) == "Asia/Taipei")
        zoneinfo.ZoneInfo(key='Asia/Taipei')

    .. versionadded:: 0.1.0
    """
    return st.sampled_from(_default_zones())


@st.composite
def _aware_datetimes(
    draw: st.DrawFn, low: datetime, high: datetime, zones: st.SearchStrategy[tzinfo]
) -> datetime:
    zone = draw(zones)
    # Draw the wall time in the zone between the bounds' local times, then keep only instants
    # within the bounds (a wall time next to a daylight-saving change can fall just outside).
    local = sorted(b.astimezone(zone).replace(tzinfo=None) for b in (low, high))
    wall = st.datetimes(local[0], local[1], timezones=st.just(zone), allow_imaginary=False)
    return draw(wall.filter(lambda value: low <= value <= high))


def aware_datetimes(
    min_value: datetime = _DEFAULT_MIN_DATETIME,
    max_value: datetime = _DEFAULT_MAX_DATETIME,
    *,
    zones: st.SearchStrategy[tzinfo] | None = None,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between two aware instants, in zones from :func:`timezones`.

    Values include wall times next to daylight-saving changes, ambiguous ones with either
    ``fold``, but never a wall time that did not exist. Bounds default to the years 2000-2100.

    Example:
        >>> from datetime import datetime, timezone
        >>> from hypothesis import find
        >>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> find(aware_datetimes(min_value=start), lambda d: True) >= start
        True

    .. versionadded:: 0.1.0
    """
    low = ensure_aware(min_value, "min_value")
    high = ensure_aware(max_value, "max_value")
    if low > high:
        raise ValidationError(
            f"must not be after max_value {high.isoformat()}, got {low.isoformat()}",
            path="min_value",
        )
    return _aware_datetimes(low, high, zones if zones is not None else timezones())


# ----- ids and text ---------------------------------------------------------------------------


def ids(prefix: str | None = None) -> st.SearchStrategy[str]:
    """Ids that :func:`~crmkit.kernel.ids.check_id` accepts: ``prefix_`` and 1-26 characters.

    Without a ``prefix`` the prefix is drawn too (one to eight lower-case letters).

    Example:
        >>> from hypothesis import find
        >>> find(ids("cus"), lambda i: True)
        'cus_0'

    .. versionadded:: 0.1.0
    """
    if prefix is not None:
        check_id(prefix, "prefix")
        room = 64 - len(prefix) - 1
        if room < 1:
            raise ValidationError("must be at most 62 characters", path="prefix")
        prefixes: st.SearchStrategy[str] = st.just(prefix)
    else:
        room = 26
        prefixes = st.text(string.ascii_lowercase, min_size=1, max_size=8)
    suffixes = st.text(_ID_ALPHABET, min_size=1, max_size=min(26, room))
    return st.builds("{}_{}".format, prefixes, suffixes)


def _free_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_TEXT_CHARACTERS, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def names() -> st.SearchStrategy[str]:
    """Names of customers and contacts: company and personal names, Chinese ones included.

    Names are stripped, never blank and at most 80 characters (crmkit allows 200).

    Example:
        >>> from hypothesis import find
        >>> find(names(), lambda n: "集团" in n)
        '阿里巴巴集团'

    .. versionadded:: 0.1.0
    """
    return st.one_of(
        st.sampled_from(_COMPANY_NAMES), st.sampled_from(_PERSON_NAMES), _free_text(80)
    )


def tags() -> st.SearchStrategy[list[str]]:
    """Lists of up to eight tags as a user types them: mixed case, repeats, Chinese.

    Example:
        >>> from hypothesis import find
        >>> find(tags(), lambda t: len(t) > 1)
        ['VIP', 'VIP']

    .. versionadded:: 0.1.0
    """
    one = st.one_of(st.sampled_from(_TAG_WORDS), _free_text(30))
    return st.lists(one, max_size=8)


def emails() -> st.SearchStrategy[str]:
    """Valid email addresses, some with capitals and some with non-ASCII parts.

    Example:
        >>> from crmkit.customers import normalize_email
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(emails())
        ... def test_normalising_twice_changes_nothing(email):
        ...     once = normalize_email(email)
        ...     assert normalize_email(once) == once
        >>> test_normalising_twice_changes_nothing()

    .. versionadded:: 0.1.0
    """
    readable = st.builds(
        "{}@{}".format,
        st.sampled_from(("amy", "Amy.Chen", "wang.xiaoming", "sales+tw", "小明")),
        st.sampled_from(("example.com", "Example.COM.tw", "公司.台灣", "mail.example.cn")),
    )
    atom = st.text(_EMAIL_LOCAL_CHARACTERS, min_size=1, max_size=12)
    local = st.lists(atom, min_size=1, max_size=3).map(".".join)
    label = st.text(_EMAIL_LABEL_CHARACTERS, min_size=1, max_size=12)
    tld = st.sampled_from(("com", "tw", "com.tw", "cn", "com.cn", "hk", "org", "台灣", "中国"))
    domain = st.builds(
        lambda labels, top, upper: (
            ".".join((*labels, top)).upper() if upper else ".".join((*labels, top))
        ),
        st.lists(label, min_size=1, max_size=2),
        tld,
        st.booleans(),
    )
    generated = st.builds("{}@{}".format, local, domain).filter(_is_valid_email)
    return st.one_of(readable, generated)


def _is_valid_email(address: str) -> bool:
    try:
        normalize_email(address)
    except ValidationError:
        return False
    return True


@functools.cache
def _phone_templates() -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for region in _PHONE_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                found.append((region, str(e164)))
    return tuple(found)


def _is_valid_phone(e164: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(e164, None)))
    except phonenumbers.NumberParseException:
        return False


def phones(region: str | None = None) -> st.SearchStrategy[str]:
    """Valid phone numbers in E.164 form (``+886912345678``), from TW, CN, HK and others.

    Numbers are real-shaped mobile and fixed-line numbers of the region (the last four digits
    vary); pass ``region`` (``"TW"``) to stay in one region.

    Example:
        >>> from hypothesis import find
        >>> find(phones("TW"), lambda p: p.startswith("+8869"))
        '+886912340000'

    .. versionadded:: 0.1.0
    """
    templates = [t for r, t in _phone_templates() if region is None or r == region]
    if not templates:
        known = ", ".join(_PHONE_REGIONS)
        raise ValidationError(f"must be one of {known}, got {region!r}", path="region")
    return st.builds(
        lambda template, tail: template[:-4] + tail,
        st.sampled_from(templates),
        st.text("0123456789", min_size=4, max_size=4),
    ).filter(_is_valid_phone)


def locales() -> st.SearchStrategy[str]:
    """Locale identifiers babel knows, half of the time en, zh_Hant_TW, zh_Hans_CN and kin.

    Example:
        >>> from hypothesis import find
        >>> find(locales(), lambda code: code.startswith("zh"))
        'zh_Hant_TW'

    .. versionadded:: 0.1.0
    """
    return st.one_of(
        st.sampled_from(_FAVOURITE_LOCALES), st.sampled_from(sorted(locale_identifiers()))
    )


# ----- aggregates -----------------------------------------------------------------------------


def _strategy(value: Any, default: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(value)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def customers(*, versions: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[Customer]:
    """Valid :class:`~crmkit.customers.Customer` aggregates, built by the constructor.

    They carry no pending events. ``versions`` defaults to 0 (never stored); pass
    ``st.integers(0, 100)`` for stored ones.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(customers(versions=st.integers(0, 5)))
        ... def test_name_is_never_blank(customer):
        ...     assert customer.name.strip() and not customer.pending_events
        >>> test_name_is_never_blank()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        Customer,
        id=ids("cus"),
        version=_strategy(versions, st.just(0)),
        name=names(),
        kind=st.sampled_from(CustomerKind),
        created_at=aware_datetimes(),
        tags=tags(),
        source=_optional(_free_text(80)),
        owner=_optional(ids("usr")),
        lifecycle=st.sampled_from(Lifecycle),
    )


E = TypeVar("E", bound=enum.Enum)

#: Quiet hours people set, and windows whose ends fall where clocks change (01:00-03:00 and
#: 00:30-02:30 cover the New York and London nights; 02:45-02:30 wraps almost the whole day).
_FAVOURITE_QUIET_HOURS = (
    ("22:00", "08:00"),
    ("21:00", "07:00"),
    ("12:00", "13:30"),
    ("01:00", "03:00"),
    ("00:30", "02:30"),
    ("02:45", "02:30"),
    ("23:30", "01:30"),
)
_CONSENT_SOURCES = (
    "web form",
    "phone call",
    "import",
    "unsubscribe link",
    "門市登記",
    "replied STOP",
)


def _whole_minutes() -> st.SearchStrategy[time]:
    return st.builds(time, st.integers(0, 23), st.integers(0, 59))


def _enum_strategy(
    cls: type[E], path: str, value: object, default: st.SearchStrategy[E]
) -> st.SearchStrategy[E]:
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(to_enum(cls, path)(value))


def quiet_hours() -> st.SearchStrategy[QuietHours]:
    """Valid :class:`~crmkit.customers.QuietHours`: whole minutes, some wrapping midnight.

    Half of them are common windows or ones whose ends fall where clocks change for daylight
    saving in New York or London (``01:00``-``03:00``, ``00:30``-``02:30``).

    Example:
        >>> from hypothesis import find
        >>> find(quiet_hours(), lambda q: q.wraps_midnight)
        QuietHours(start=datetime.time(22, 0), end=datetime.time(8, 0))

    .. versionadded:: 0.1.0
    """
    favourite = st.sampled_from(_FAVOURITE_QUIET_HOURS).map(lambda pair: QuietHours(*pair))
    drawn = st.tuples(_whole_minutes(), _whole_minutes()).filter(lambda p: p[0] != p[1])
    return st.one_of(favourite, drawn.map(lambda pair: QuietHours(*pair)))


@st.composite
def _consent_records(
    draw: st.DrawFn, channels: st.SearchStrategy[Channel], purposes: st.SearchStrategy[Purpose]
) -> ConsentRecord:
    at = draw(aware_datetimes(datetime(2015, 1, 1, tzinfo=timezone.utc), _DEFAULT_MAX_DATETIME))
    late = draw(st.sampled_from((None, timedelta(0), timedelta(days=400))))
    return ConsentRecord(
        channel=draw(channels),
        granted=draw(st.booleans()),
        at=at,
        source=draw(st.sampled_from(_CONSENT_SOURCES)),
        purpose=draw(purposes),
        by=draw(_optional(ids("usr"))),
        note=draw(_optional(_free_text(80))),
        **({} if late is None else {"recorded_at": at + late}),
    )


def consent_records(
    *,
    channel: Channel | str | st.SearchStrategy[Channel] | None = None,
    purpose: Purpose | str | st.SearchStrategy[Purpose] | None = None,
) -> st.SearchStrategy[ConsentRecord]:
    """Valid :class:`~crmkit.customers.ConsentRecord` values: opt-ins and opt-outs.

    ``channel`` and ``purpose`` fix (or draw) those fields; by default purposes lean to
    marketing, and some records were recorded later than given (imports).

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(consent_records(channel="sms"))
        ... def test_recorded_after_given(record):
        ...     assert record.channel.value == "sms" and record.recorded_at >= record.at
        >>> test_recorded_after_given()

    .. versionadded:: 0.1.0
    """
    channels = _enum_strategy(Channel, "channel", channel, st.sampled_from(Channel))
    default_purposes = st.sampled_from((*[Purpose.MARKETING] * 3, Purpose.TRANSACTIONAL))
    purposes = _enum_strategy(Purpose, "purpose", purpose, default_purposes)
    return _consent_records(channels, purposes)


def contacts(
    *,
    customer_id: str | st.SearchStrategy[str] | None = None,
    versions: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Contact]:
    """Valid :class:`~crmkit.customers.Contact` aggregates, built by the constructor.

    ``customer_id`` fixes (or draws) the customer they belong to; ``versions`` defaults to 0.
    About half have a time zone, half have quiet hours, and most have a short consent history
    (up to four records, mostly on two channels so that opt-ins and opt-outs meet).

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(contacts(customer_id="cus_1"))
        ... def test_phones_are_e164(contact):
        ...     assert contact.customer_id == "cus_1"
        ...     assert all(p.startswith("+") for p in contact.phones)
        >>> test_phones_are_e164()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        Contact,
        id=ids("con"),
        version=_strategy(versions, st.just(0)),
        customer_id=_strategy(customer_id, ids("cus")),
        name=names(),
        emails=st.lists(emails(), max_size=3),
        phones=st.lists(phones(), max_size=3),
        role=_optional(_free_text(100)),
        decision_maker=st.booleans(),
        birthday=_optional(st.dates(date(1900, 1, 1), date(2025, 12, 31))),
        locale=_optional(locales()),
        preferred_channel=_optional(st.sampled_from(Channel)),
        timezone=_optional(st.sampled_from(_ZONE_NAMES)),
        quiet_hours=_optional(quiet_hours()),
        consents=st.lists(
            consent_records(channel=st.sampled_from((Channel.EMAIL, Channel.SMS, *Channel))),
            max_size=4,
        ).map(tuple),
    )


def interactions(
    *,
    customer_id: str | st.SearchStrategy[str] | None = None,
    versions: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Interaction]:
    """Valid :class:`~crmkit.customers.Interaction` aggregates, built by the constructor.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(interactions())
        ... def test_occurred_at_is_aware(interaction):
        ...     assert interaction.occurred_at.utcoffset() is not None
        >>> test_occurred_at_is_aware()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        Interaction,
        id=ids("int"),
        version=_strategy(versions, st.just(0)),
        customer_id=_strategy(customer_id, ids("cus")),
        kind=st.sampled_from(InteractionKind),
        occurred_at=aware_datetimes(),
        summary=_free_text(300),
        by=_optional(ids("usr")),
        contact_id=_optional(ids("con")),
        channel=_optional(st.sampled_from(Channel)),
        links=st.lists(ids(), max_size=5),
    )


def _event_ids() -> st.SearchStrategy[str]:
    return st.uuids().map(lambda u: u.hex)


def _event_strategies(
    aggregate_ids: st.SearchStrategy[str],
) -> dict[type[DomainEvent], st.SearchStrategy[DomainEvent]]:
    common: dict[str, st.SearchStrategy[Any]] = {
        "aggregate_id": aggregate_ids,
        "occurred_at": aware_datetimes(),
        "actor": _optional(ids("usr")),
        "aggregate_version": st.integers(1, 10_000),
        "event_id": _event_ids(),
    }
    tag_tuple = st.lists(st.sampled_from(_TAG_WORDS).map(str.casefold), unique=True).map(tuple)
    specific: dict[type[DomainEvent], dict[str, st.SearchStrategy[Any]]] = {
        customer_events.CustomerRegistered: {
            "name": names(),
            "kind": st.sampled_from([k.value for k in CustomerKind]),
            "source": _optional(_free_text(80)),
            "owner": _optional(ids("usr")),
        },
        customer_events.CustomerRenamed: {"old_name": names(), "new_name": names()},
        customer_events.CustomerTagged: {"added": tag_tuple, "removed": tag_tuple},
        customer_events.CustomerOwnerAssigned: {
            "old_owner": _optional(ids("usr")),
            "new_owner": _optional(ids("usr")),
        },
        customer_events.CustomerLifecycleChanged: {
            "old": st.sampled_from([s.value for s in Lifecycle]),
            "new": st.sampled_from([s.value for s in Lifecycle]),
        },
        customer_events.ContactAdded: {"customer_id": ids("cus"), "name": names()},
        customer_events.ContactUpdated: {
            "customer_id": ids("cus"),
            "fields": st.lists(
                st.sampled_from(("name", "emails", "phones", "role", "locale")),
                min_size=1,
                unique=True,
            ).map(lambda f: tuple(sorted(f))),
        },
        customer_events.ConsentRecorded: {
            "customer_id": ids("cus"),
            "channel": st.sampled_from([c.value for c in Channel]),
            "purpose": st.sampled_from([p.value for p in Purpose]),
            "granted": st.booleans(),
            "at": aware_datetimes(),
            "source": st.sampled_from(_CONSENT_SOURCES),
            "by": _optional(ids("usr")),
            "note": _optional(_free_text(80)),
        },
        customer_events.ContactTimeZoneChanged: {
            "customer_id": ids("cus"),
            "old": _optional(st.sampled_from(_ZONE_NAMES)),
            "new": _optional(st.sampled_from(_ZONE_NAMES)),
        },
        customer_events.ContactQuietHoursChanged: {
            "customer_id": ids("cus"),
            "old": _optional(quiet_hours()),
            "new": _optional(quiet_hours()),
        },
        customer_events.ContactPreferredChannelChanged: {
            "customer_id": ids("cus"),
            "old": _optional(st.sampled_from([c.value for c in Channel])),
            "new": _optional(st.sampled_from([c.value for c in Channel])),
        },
        customer_events.InteractionLogged: {
            "customer_id": ids("cus"),
            "kind": st.sampled_from([k.value for k in InteractionKind]),
            "summary": _free_text(300),
        },
    }
    return {cls: st.builds(cls, **common, **fields) for cls, fields in specific.items()}


def domain_events(
    aggregate_id: str | st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[DomainEvent]:
    """The customers context's domain events, each with valid data, stamped and identified.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(domain_events("cus_1"))
        ... def test_event_types_are_namespaced(event):
        ...     assert event.event_type.startswith("customers.")
        ...     assert event.aggregate_id == "cus_1"
        >>> test_event_types_are_namespaced()

    .. versionadded:: 0.1.0
    """
    return st.one_of(*_event_strategies(_strategy(aggregate_id, ids("cus"))).values())


def _filter_values(op: Op) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-1000, 1000),
        _free_text(20),
        st.decimals(
            allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000
        ),
        st.dates(),
        aware_datetimes(),
    )
    if op is Op.IN:
        return st.lists(scalars, max_size=4).map(tuple)
    if op in (Op.CONTAINS, Op.STARTSWITH):
        return _free_text(20)
    return scalars


@st.composite
def _filters(draw: st.DrawFn, fields: st.SearchStrategy[str]) -> Filter:
    op = draw(st.sampled_from(Op))
    return Filter(draw(fields), op, draw(_filter_values(op)))


def queries(fields: Sequence[str] | None = None) -> st.SearchStrategy[Query]:
    """Valid :class:`~crmkit.kernel.query.Query` objects over ``fields`` (default: a few names).

    Filters use every operator with values of the kinds a projected field holds (text, numbers,
    decimals, dates, aware datetimes, tuples for ``in``); there is no cursor.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(queries(["name"]))
        ... def test_only_the_given_fields(query):
        ...     assert {f.field for f in query.filters} <= {"name"}
        >>> test_only_the_given_fields()

    .. versionadded:: 0.1.0
    """
    names_ = st.sampled_from(list(fields) if fields else ["name", "kind", "owner", "tags"])
    orders = st.builds(Order, names_, st.booleans())
    return st.builds(
        Query,
        filters=st.lists(_filters(names_), max_size=3).map(tuple),
        order_by=st.lists(orders, max_size=2, unique_by=lambda o: o.field).map(tuple),
        limit=st.integers(1, 1000),
    )


# The leads context's strategies live in their own module; they are part of this public one.
from crmkit.testing._customer_strategies import (  # noqa: E402
    customer_facts,
    order_lines,
    orders,
    rfm_models,
    segment_rules,
    segmentation_rules,
)
from crmkit.testing._lead_strategies import (  # noqa: E402
    activities,
    business_calendars,
    lead_assignment_rules,
    leads,
    qualification_frameworks,
    scoring_models,
    stage_thresholds,
)
from crmkit.testing._loyalty_strategies import (  # noqa: E402
    earn_orders,
    loyalty_programs,
    loyalty_scenarios,
    memberships,
    referral_policies,
    referrals,
    reward_catalogs,
    tier_models,
)
from crmkit.testing._pipeline_strategies import opportunities, pipelines  # noqa: E402
from crmkit.testing._pricing_strategies import (  # noqa: E402
    approval_policies,
    catalogs,
    coupons,
    discount_rule_sets,
    manual_discounts,
    price_books,
    products,
    quote_lines,
    quotes,
    tax_policies,
)
from crmkit.testing._service_strategies import (  # noqa: E402
    case_assignment_rules,
    complaint_policies,
    complaints,
    equipment,
    maintenance_contracts,
    service_calendars,
    service_plans,
    sla_policies,
    sla_policy_sets,
    work_orders,
)

# ----- registration ---------------------------------------------------------------------------


def _register_strategies() -> None:
    from crmkit.customers import CustomerFacts, RfmModel, SegmentationRules, SegmentRule
    from crmkit.customers import Order as PurchaseOrder
    from crmkit.kernel.calendar import BusinessCalendar
    from crmkit.leads import Lead
    from crmkit.leads.scoring import ScoringModel
    from crmkit.loyalty import LoyaltyProgram, Membership
    from crmkit.pipeline import Opportunity, Pipeline
    from crmkit.pricing import Coupon, Quote
    from crmkit.service import Complaint, ComplaintPolicy
    from crmkit.service.maintenance import MaintenanceContract, WorkOrder
    from crmkit.service.sla import SlaPolicy, SlaPolicySet
    from crmkit.testing import _dedup_strategies

    st.register_type_strategy(Money, money())
    _dedup_strategies._register()
    st.register_type_strategy(Lead, leads())
    st.register_type_strategy(Pipeline, pipelines())
    st.register_type_strategy(Quote, quotes())
    st.register_type_strategy(Coupon, coupons())
    st.register_type_strategy(LoyaltyProgram, loyalty_programs())
    st.register_type_strategy(Membership, loyalty_scenarios().map(lambda s: s.membership))
    st.register_type_strategy(Complaint, complaints())
    st.register_type_strategy(ComplaintPolicy, complaint_policies())
    st.register_type_strategy(SlaPolicy, sla_policies())
    st.register_type_strategy(SlaPolicySet, sla_policy_sets())
    st.register_type_strategy(MaintenanceContract, maintenance_contracts())
    st.register_type_strategy(WorkOrder, work_orders())
    st.register_type_strategy(Opportunity, opportunities())
    st.register_type_strategy(ScoringModel, scoring_models())
    st.register_type_strategy(BusinessCalendar, business_calendars())
    st.register_type_strategy(Customer, customers())
    st.register_type_strategy(Contact, contacts())
    st.register_type_strategy(QuietHours, quiet_hours())
    st.register_type_strategy(ConsentRecord, consent_records())
    st.register_type_strategy(Interaction, interactions())
    st.register_type_strategy(PurchaseOrder, orders())
    st.register_type_strategy(SegmentRule, segment_rules())
    st.register_type_strategy(SegmentationRules, segmentation_rules())
    st.register_type_strategy(RfmModel, rfm_models())
    st.register_type_strategy(CustomerFacts, customer_facts())
    st.register_type_strategy(DomainEvent, domain_events())
    for cls, strategy in _event_strategies(ids("cus")).items():
        st.register_type_strategy(cls, strategy)
    _register_rule_sets_and_values()


def _register_rule_sets_and_values() -> None:
    """Register the rule sets and values of leads, pricing, loyalty, service and the kernel."""
    from crmkit.kernel.query import Query as QueryType
    from crmkit.leads import Activity
    from crmkit.leads.assignment import AssignmentRules
    from crmkit.leads.qualification import Framework, StageThresholds
    from crmkit.loyalty import EarnOrder, Referral, ReferralPolicy, RewardCatalog, TierModel
    from crmkit.pricing import (
        ApprovalPolicy,
        Catalog,
        DiscountRuleSet,
        ManualDiscount,
        PriceBook,
        Product,
        QuoteLine,
        TaxPolicy,
    )
    from crmkit.service.assignment import CaseAssignmentRules
    from crmkit.service.maintenance import Equipment, ServicePlan

    found: dict[type, st.SearchStrategy[Any]] = {
        QueryType: queries(),
        Activity: activities(),
        AssignmentRules: lead_assignment_rules(),
        Framework: qualification_frameworks(),
        StageThresholds: stage_thresholds(),
        EarnOrder: earn_orders(),
        Referral: referrals(),
        ReferralPolicy: referral_policies(),
        RewardCatalog: reward_catalogs(),
        TierModel: tier_models(),
        ApprovalPolicy: approval_policies(),
        Catalog: catalogs(),
        DiscountRuleSet: discount_rule_sets(),
        ManualDiscount: manual_discounts(),
        PriceBook: products().flatmap(price_books).map(lambda books: books[0]),
        Product: products(1).map(lambda items: items[0]),
        QuoteLine: quote_lines().map(lambda lines: lines[0]),
        TaxPolicy: tax_policies(),
        CaseAssignmentRules: case_assignment_rules(),
        Equipment: equipment(),
        ServicePlan: service_plans(),
    }
    for cls, strategy in found.items():
        st.register_type_strategy(cls, strategy)


if _registration_deferred:
    _register_strategies()
