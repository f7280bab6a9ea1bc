"""crmkit.i18n: locale resolution, catalogs (shipped, compiled, in sync) and value formatting."""

from __future__ import annotations

import gettext
import io
import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import NaiveDatetimeError, ValidationError
from crmkit.i18n import (
    DOMAIN,
    LOCALE_DIR,
    N_,
    SUPPORTED_LOCALES,
    format_value,
    resolve_locale,
    translations,
)
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.money import Money
from crmkit.notifications import TEMPLATES
from crmkit.testing.strategies import aware_datetimes, locales, money, timezones

ROOT = Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)  # 17:30 in Taipei


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _msgids() -> set[str]:
    ids: set[str] = set()
    for t in TEMPLATES.values():
        ids |= {t.subject, t.text}
        if t.html is not None:
            ids.add(t.html)
    return ids


# ----- resolve_locale ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_locale", "expected"),
    [
        ("en", "en"),
        ("en_US", "en"),
        ("en-GB", "en"),
        ("zh_Hant_TW", "zh_Hant_TW"),
        ("zh-Hant-TW", "zh_Hant_TW"),
        ("zh_TW", "zh_Hant_TW"),
        ("zh-TW", "zh_Hant_TW"),
        ("zh_TW.UTF-8", "zh_Hant_TW"),
        ("zh_HK", "zh_Hant_TW"),
        ("zh_MO", "zh_Hant_TW"),
        ("zh_Hant", "zh_Hant_TW"),
        ("zh_Hant_HK", "zh_Hant_TW"),
        ("zh_Hans_CN", "zh_Hans_CN"),
        ("zh_CN", "zh_Hans_CN"),
        ("zh-cn", "zh_Hans_CN"),
        ("zh_SG", "zh_Hans_CN"),
        ("zh_Hans", "zh_Hans_CN"),
        ("zh", "zh_Hans_CN"),
        ("fr_FR", "en"),
        ("ja_JP", "en"),
        ("xx", "en"),
        ("", "en"),
        ("   ", "en"),
        ("../../etc/passwd", "en"),
        ("zh__TW", "en"),
        (None, "en"),
        (42, "en"),
    ],
)
def test_resolve_locale_maps_spellings_to_a_supported_catalog(
    given_locale: object, expected: str
) -> None:
    assert resolve_locale(given_locale) == expected


@given(st.one_of(st.text(max_size=20), locales(), st.none(), st.integers()))
def test_resolve_locale_never_raises_and_is_idempotent(value: object) -> None:
    resolved = resolve_locale(value)
    assert resolved in SUPPORTED_LOCALES
    assert resolve_locale(resolved) == resolved


# ----- translations -----------------------------------------------------------------------------


def test_translations_are_cached_per_resolved_locale() -> None:
    assert translations("zh_TW") is translations("zh_Hant_TW")
    assert translations("zh-HK") is translations("zh_Hant_TW")
    assert translations("fr_FR") is translations("en")


def test_shipped_catalogs_translate_to_taiwan_and_mainland_wording() -> None:
    msgid = "{points} points expire on {due_at}"
    assert translations("zh_Hant_TW").gettext(msgid) == "您有 {points} 點將於 {due_at} 到期"
    assert translations("zh_Hans_CN").gettext(msgid) == "您有 {points} 积分将于 {due_at} 到期"
    assert translations("en").gettext(msgid) == msgid


def test_a_msgid_missing_from_a_catalog_is_english_not_an_error() -> None:
    for locale in SUPPORTED_LOCALES:
        assert translations(locale).gettext("Not in any catalog: {x}") == "Not in any catalog: {x}"


def test_an_unknown_locale_is_english() -> None:
    msgid = "Happy birthday, {name}!"
    assert translations("fr_FR").gettext(msgid) == msgid
    assert translations(None).gettext(msgid) == msgid


def test_a_domain_without_catalogs_is_all_english(tmp_path: Path) -> None:
    t = translations("zh_Hant_TW", localedir=tmp_path, domain="nothing")
    assert t.gettext("Happy birthday, {name}!") == "Happy birthday, {name}!"


def test_an_unreadable_catalog_is_english_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "zh_Hant_TW" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "broken.mo").write_bytes(b"this is not a gettext catalog")
    with caplog.at_level(logging.WARNING, logger="crmkit.i18n"):
        t = translations("zh_TW", localedir=tmp_path, domain="broken")
    assert t.gettext("Happy birthday, {name}!") == "Happy birthday, {name}!"
    assert "unreadable" in caplog.text


@pytest.mark.parametrize("domain", ["", "../crmkit", "a/b", None])
def test_a_malformed_domain_is_refused(domain: object) -> None:
    with pytest.raises(ValidationError) as info:
        translations("en", domain=domain)  # type: ignore[arg-type]
    assert info.value.errors[0].path == "domain"


def test_n_marks_without_translating() -> None:
    assert N_("Happy birthday, {name}!") == "Happy birthday, {name}!"


# ----- the committed catalogs -------------------------------------------------------------------


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_supported_locale_ships_a_po_and_a_mo(locale: str) -> None:
    assert _po(locale).is_file()
    assert _mo(locale).is_file()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_committed_mo_files_match_their_po_files(locale: str) -> None:
    """Run `pybabel compile -D crmkit -d src/crmkit/locale` when this fails."""
    with _po(locale).open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)
    with _mo(locale).open("rb") as fp:
        committed = gettext.GNUTranslations(fp)
    assert committed._catalog == expected._catalog  # type: ignore[attr-defined]


def test_the_template_file_holds_exactly_what_the_sources_mark() -> None:
    """Run the `pybabel extract` command of docs/how-to/translate.md when this fails."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fp:
        method_map, options_map = parse_mapping_cfg(fp)  # type: ignore[no-untyped-call]
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "src" / "crmkit"),
            method_map,
            options_map,
            keywords={**DEFAULT_KEYWORDS, "N_": None},
        )
    }
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as fp:
        pot = {m.id for m in read_po(fp) if m.id}
    assert pot == extracted
    assert _msgids() <= pot


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_po_file_is_up_to_date_with_the_template(locale: str) -> None:
    """Run `pybabel update` (docs/how-to/translate.md) when this fails."""
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as fp:
        pot = {m.id for m in read_po(fp) if m.id}
    with _po(locale).open("rb") as fp:
        po = {m.id for m in read_po(fp) if m.id}
    assert po == pot


@pytest.mark.parametrize("locale", ["zh_Hant_TW", "zh_Hans_CN"])
def test_chinese_catalogs_translate_every_built_in_text_with_the_same_placeholders(
    locale: str,
) -> None:
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}

    with _po(locale).open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    for msgid in _msgids():
        message = catalog.get(msgid)
        assert message is not None, msgid
        assert isinstance(message.string, str) and message.string, f"untranslated: {msgid!r}"
        assert not message.fuzzy, f"fuzzy in {locale}: {msgid!r}"
        assert fields(message.string) == fields(msgid), msgid


def test_traditional_and_simplified_catalogs_use_their_own_script() -> None:
    # Characters that differ between the scripts: a slip into the other one shows here.
    traditional, simplified = set("點們歡會帳號報價單聯繫處應"), set("点们欢会账号报价单联系处应")
    only = {"zh_Hant_TW": traditional - simplified, "zh_Hans_CN": simplified - traditional}
    for locale, other in (("zh_Hant_TW", "zh_Hans_CN"), ("zh_Hans_CN", "zh_Hant_TW")):
        with _po(locale).open("rb") as fp:
            text = "".join(str(m.string) for m in read_po(fp) if m.id)
        assert set(text) & only[locale], f"{locale} shows none of its own characters"
        assert not set(text) & only[other], f"{locale} uses characters of {other}"


# ----- format_value ----------------------------------------------------------------------------


def test_money_is_formatted_with_money_format() -> None:
    amount = Money("1234.5", "TWD")
    assert format_value(amount, "zh_Hant_TW", "Asia/Taipei") == "$1,234.50"
    assert format_value(amount, "en", "UTC") == "NT$1,234.50"
    assert format_value(Money("1234.5", "CNY"), "zh_Hans_CN", "UTC") == "¥1,234.50"
    assert format_value(amount, "zh_Hans_CN", "UTC") == amount.format("zh_Hans_CN")


def test_datetimes_are_shown_in_the_recipients_zone() -> None:
    assert format_value(WHEN, "zh_Hant_TW", "Asia/Taipei") == "2026年3月5日 下午5:30"
    assert format_value(WHEN, "zh_Hans_CN", "Asia/Shanghai") == "2026年3月5日 17:30"
    assert format_value(WHEN, "en", "UTC") == "Mar 5, 2026, 9:30\u202fAM"
    # New York is on daylight saving time on 2026-03-20 (UTC-4), not on 2026-03-05 (UTC-5).
    assert format_value(WHEN, "en", "America/New_York") == "Mar 5, 2026, 4:30\u202fAM"
    later = WHEN + timedelta(days=15)
    assert format_value(later, "en", "America/New_York") == "Mar 20, 2026, 5:30\u202fAM"
    assert format_value(WHEN, "en", ZoneInfo("Asia/Taipei")) == "Mar 5, 2026, 5:30\u202fPM"


def test_a_datetime_matches_babels_own_medium_date_and_short_time() -> None:
    zone = ZoneInfo("Asia/Taipei")
    shown = format_value(WHEN, "zh_Hant_TW", "Asia/Taipei")
    assert format_date(WHEN.astimezone(zone), "medium", locale="zh_Hant_TW") in shown
    assert format_datetime(WHEN, "short", tzinfo=zone, locale="zh_Hant_TW").split()[-1] in shown


def test_dates_numbers_and_text() -> None:
    class Tier(StrEnum):
        GOLD = "Gold"

    assert format_value(date(2026, 3, 5), "zh_Hant_TW", "UTC") == "2026年3月5日"
    assert format_value(date(2026, 3, 5), "en", "Asia/Taipei") == "Mar 5, 2026"
    assert format_value(1234567, "en", "UTC") == "1,234,567"
    assert format_value(-5, "zh_Hans_CN", "UTC") == "-5"
    assert format_value(Decimal("1234.5678"), "en", "UTC") == "1,234.5678"
    assert format_value("Formosa {Tea} <Co>", "en", "UTC") == "Formosa {Tea} <Co>"
    assert format_value(Tier.GOLD, "en", "UTC") == "Gold"
    assert type(format_value(Tier.GOLD, "en", "UTC")) is str


@pytest.mark.parametrize(
    "value", [1.5, True, None, [1], {"a": 1}, Decimal("NaN"), Decimal("Infinity"), b"x"]
)
def test_other_values_are_refused_naming_value(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        format_value(value, "en", "UTC")
    assert [e.path for e in info.value.errors] == ["value"]


def test_a_float_refusal_says_what_to_pass() -> None:
    with pytest.raises(ValidationError, match=r"Decimal\('1.5'\) or Money"):
        format_value(1.5, "en", "UTC")


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        format_value(datetime(2026, 3, 5, 9, 30), "en", "UTC")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc", None, 8])
def test_an_unknown_zone_is_refused_naming_timezone(zone: object) -> None:
    with pytest.raises(ValidationError) as info:
        format_value("x", "en", zone)  # type: ignore[arg-type]
    assert [e.path for e in info.value.errors] == ["timezone"]


@pytest.mark.parametrize("locale", ["xx", "", None])
def test_an_unknown_formatting_locale_is_refused_naming_locale(locale: object) -> None:
    with pytest.raises(ValidationError) as info:
        format_value(1, locale, "UTC")  # type: ignore[arg-type]
    assert [e.path for e in info.value.errors] == ["locale"]


@settings(max_examples=50)
@given(aware_datetimes(), timezones(), st.sampled_from(SUPPORTED_LOCALES), timezones())
def test_a_datetime_shows_the_same_for_the_same_instant_whatever_its_zone(
    when: datetime, other_zone: object, locale: str, recipient_zone: object
) -> None:
    same_instant = when.astimezone(other_zone)  # type: ignore[arg-type]
    assert format_value(when, locale, recipient_zone) == format_value(  # type: ignore[arg-type]
        same_instant,
        locale,
        recipient_zone,  # type: ignore[arg-type]
    )


@settings(max_examples=50)
@given(money(), st.sampled_from(SUPPORTED_LOCALES))
def test_money_formats_in_every_supported_locale_as_money_format_does(
    amount: Money, locale: str
) -> None:
    assert format_value(amount, locale, "UTC") == amount.format(locale)
