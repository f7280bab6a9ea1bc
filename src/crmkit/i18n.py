# Chinese punctuation in the examples is the point of this module.
# ruff: noqa: RUF002
"""Message catalogs and locale-aware formatting, with the locale always passed in.

crmkit's texts (notification templates for now) are gettext messages in the ``crmkit`` domain,
kept as babel catalogs under :data:`LOCALE_DIR` (``crmkit/locale/<locale>/LC_MESSAGES``) for
every locale in :data:`SUPPORTED_LOCALES`: ``en`` (the source language), ``zh_Hant_TW`` and
``zh_Hans_CN``. Nothing here installs a global gettext domain or reads the process locale.

* :func:`resolve_locale` maps whatever a host stores (``"zh-TW"``, ``"zh_HK"``,
  ``"zh_Hans"``, ``"en_GB"``, ``"fr_FR"``, ``None``) to the supported locale whose catalog
  is used; anything unknown or malformed maps to ``"en"``.
* :func:`translations` loads (once per locale) the compiled catalog for a locale. A msgid the
  catalog lacks comes back as itself: English, never an error.
* :func:`format_value` formats one value for people: :class:`~crmkit.kernel.money.Money` with
  ``Money.format``, datetimes in the recipient's IANA zone, dates, numbers, and text as is.
* :func:`N_` marks a module-level msgid for ``pybabel extract`` without translating it.

Constants: :data:`SUPPORTED_LOCALES` (the catalogs crmkit ships), :data:`DOMAIN` (the gettext
domain, ``"crmkit"``) and :data:`LOCALE_DIR` (the catalogs' directory, a :class:`pathlib.Path`).

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> resolve_locale("zh-TW"), resolve_locale("zh_SG"), resolve_locale("fr_FR")
    ('zh_Hant_TW', 'zh_Hans_CN', 'en')
    >>> translations("zh_TW").gettext("Service level breached: case {case}")
    '已違反服務水準：案件 {case}'
    >>> translations("fr_FR").gettext("Service level breached: case {case}")
    'Service level breached: case {case}'
    >>> format_value(Money("1234.5", "TWD"), "zh_Hant_TW", "Asia/Taipei")
    '$1,234.50'
    >>> format_value(datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc), "zh_Hant_TW", "Asia/Taipei")
    '2026年3月5日 下午5:30'
    >>> SUPPORTED_LOCALES, DOMAIN, LOCALE_DIR.name
    (('en', 'zh_Hant_TW', 'zh_Hans_CN'), 'crmkit', 'locale')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import decimal
import functools
import logging
import os
import struct
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import Locale, UnknownLocaleError, get_global, parse_locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal
from babel.support import Translations

from crmkit.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.time import ensure_aware

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "SUPPORTED_LOCALES",
    "format_value",
    "resolve_locale",
    "translations",
]

SUPPORTED_LOCALES: Final[tuple[str, ...]] = ("en", "zh_Hant_TW", "zh_Hans_CN")
DOMAIN: Final = "crmkit"
LOCALE_DIR: Final[Path] = Path(__file__).resolve().parent / "locale"

#: The source language: every msgid is English, so a missing translation shows English.
_FALLBACK: Final = "en"

_logger = logging.getLogger("crmkit.i18n")


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention pybabel looks for
    """Mark ``msgid`` for extraction by ``pybabel extract`` and return it unchanged.

    Use it where a message is defined (at module level) rather than shown; translate it later
    with :func:`translations` in the recipient's locale.

    Example:
        >>> GREETING = N_("Happy birthday, {name}!")
        >>> GREETING
        'Happy birthday, {name}!'
        >>> translations("zh_Hans_CN").gettext(GREETING)
        '{name}，生日快乐！'

    .. versionadded:: 0.1.0
    """
    return msgid


def _parts(locale: object) -> tuple[str, str | None, str | None] | None:
    """``(language, script, territory)`` of a locale identifier, script filled in; or None."""
    if isinstance(locale, Locale):
        text = str(locale)
    elif isinstance(locale, str):
        text = locale.strip().replace("-", "_")
    else:
        return None
    if not text:
        return None
    try:
        language, territory, script, _variant = parse_locale(text)[:4]
    except (ValueError, TypeError):
        return None
    language = language.lower()
    if script is None:
        # CLDR's likely subtags: zh_TW is written in Hant, zh and zh_SG in Hans.
        likely: Mapping[str, str] = get_global("likely_subtags")
        guess = likely.get(f"{language}_{territory}") or likely.get(language)
        if guess:
            try:
                script = parse_locale(guess)[2]
            except ValueError:  # pragma: no cover - CLDR's own data always parses
                script = None
    return language, script, territory


@functools.cache
def _supported_parts() -> tuple[tuple[str, tuple[str, str | None, str | None]], ...]:
    found = []
    for name in SUPPORTED_LOCALES:
        parts = _parts(name)
        assert parts is not None
        found.append((name, parts))
    return tuple(found)


def resolve_locale(locale: object) -> str:
    """Return the supported locale whose catalog serves ``locale``; ``"en"`` when none fits.

    Spellings babel understands are accepted (``zh-TW``, ``zh_TW``, ``zh_Hant_TW``,
    ``zh_TW.UTF-8``). A locale is matched on its language and script (the script filled in
    from CLDR's likely subtags when missing), preferring the same territory: ``zh_TW``,
    ``zh_HK`` and ``zh_MO`` map to ``zh_Hant_TW``; ``zh``, ``zh_CN`` and ``zh_SG`` to
    ``zh_Hans_CN``; every ``en_*`` to ``en``. Anything else, malformed values and non-strings
    included, maps to ``"en"``. It never raises.

    Example:
        >>> [resolve_locale(x) for x in ("zh_Hant_TW", "zh-HK", "zh", "zh_Hans", "en_GB")]
        ['zh_Hant_TW', 'zh_Hant_TW', 'zh_Hans_CN', 'zh_Hans_CN', 'en']
        >>> [resolve_locale(x) for x in ("ja_JP", "", "../../etc/passwd", None)]
        ['en', 'en', 'en', 'en']

    .. versionadded:: 0.1.0
    """
    if isinstance(locale, str) and locale in SUPPORTED_LOCALES:
        return locale
    parts = _parts(locale)
    if parts is None:
        return _FALLBACK
    language, script, territory = parts
    best: tuple[int, str] | None = None
    for name, (s_language, s_script, s_territory) in _supported_parts():
        if s_language != language:
            continue
        score = 2 * (s_script == script) + (territory is not None and s_territory == territory)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best is not None else _FALLBACK


def _mo_path(localedir: Path, locale: str, domain: str) -> Path:
    return localedir / locale / "LC_MESSAGES" / f"{domain}.mo"


@functools.cache
def _load(locale: str, localedir: Path, domain: str) -> Translations:
    path = _mo_path(localedir, locale, domain)
    try:
        with path.open("rb") as fp:
            return Translations(fp, domain=domain)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, LookupError, struct.error, UnicodeDecodeError) as exc:
        _logger.warning(
            "message catalog %s is unreadable (%s: %s); showing English",
            path,
            type(exc).__name__,
            exc,
        )
    return Translations(domain=domain)


def translations(
    locale: object,
    *,
    localedir: str | os.PathLike[str] = LOCALE_DIR,
    domain: str = DOMAIN,
) -> Translations:
    """Return the compiled catalog for ``locale`` (resolved with :func:`resolve_locale`).

    Loaded once per resolved locale, directory and domain, then cached. A msgid the catalog
    does not hold translates to itself (English); a missing or unreadable ``.mo`` file gives an
    empty catalog (all English, with a warning logged to ``crmkit.i18n`` when it is unreadable).
    It never raises for a locale. Hosts pass their own ``localedir`` and ``domain`` to read
    their own catalogs, laid out like crmkit's (``<localedir>/<locale>/LC_MESSAGES/<domain>.mo``).

    Example:
        >>> t = translations("zh-TW")
        >>> t.gettext("Happy birthday, {name}!")
        '{name}，生日快樂！'
        >>> t.gettext("a msgid no catalog has")
        'a msgid no catalog has'
        >>> translations("zh_Hant_TW") is t
        True

    .. versionadded:: 0.1.0
    """
    if not isinstance(domain, str) or not domain or os.sep in domain or "/" in domain:
        raise ValidationError(f"must be a gettext domain name, not {domain!r}", path="domain")
    return _load(resolve_locale(locale), Path(localedir).resolve(), domain)


def _zone(timezone: object) -> tzinfo:
    if isinstance(timezone, tzinfo):
        return timezone
    if not isinstance(timezone, str):
        raise ValidationError(
            f"must be an IANA time zone name such as 'Asia/Taipei', not {type(timezone).__name__}",
            path="timezone",
        )
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{timezone!r} is not an IANA time zone name (e.g. 'Asia/Taipei', 'UTC')",
            path="timezone",
        ) from None


def _babel_locale(locale: object) -> Locale:
    try:
        if isinstance(locale, Locale):
            return locale
        if not isinstance(locale, str):
            raise TypeError(locale)
        return Locale.parse(locale.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError(
            f"{locale!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
            path="locale",
        ) from None


def _format_locale(requested: object, resolved: str) -> str:
    """The locale to format values in: the recipient's own when its words match the catalog's.

    ``en_GB`` text comes from the ``en`` catalog but its dates and numbers follow ``en_GB``;
    ``fr_FR`` falls back to English text, so its values are formatted in English too (a French
    month name inside an English sentence would help no one).
    """
    requested_parts, resolved_parts = _parts(requested), _parts(resolved)
    if requested_parts is None or resolved_parts is None:
        return resolved
    if requested_parts[:2] != resolved_parts[:2]:
        return resolved
    try:
        return str(_babel_locale(requested))
    except ValidationError:
        return resolved


def _format_datetime(value: datetime, locale: Locale) -> str:
    # babel's format_datetime(format="medium") with a short time: a notification does not
    # need seconds. The combining pattern is CLDR's, as babel itself builds it.
    pattern = str(get_datetime_format("medium", locale=locale))
    return (
        pattern.replace("'", "")
        .replace("{0}", str(format_time(value, "short", tzinfo=None, locale=locale)))
        .replace("{1}", str(format_date(value, "medium", locale=locale)))
    )


def _format_number(value: Decimal, locale: Locale) -> str:
    # Enough precision for every digit: babel quantizes in the current decimal context, whose
    # default 28 digits would fail (InvalidOperation) on a long number.
    exponent = value.as_tuple().exponent
    fraction = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    with decimal.localcontext() as context:
        context.prec = max(context.prec, max(value.adjusted(), 0) + fraction + 10)
        return str(format_decimal(value, locale=locale, decimal_quantization=False))


def format_value(value: object, locale: str | Locale, timezone: str | tzinfo) -> str:
    r"""Format ``value`` for a person reading ``locale``, showing times in ``timezone``.

    * :class:`~crmkit.kernel.money.Money`: ``Money.format(locale)`` (CLDR symbol and digits;
      never rounded by the formatter);
    * aware ``datetime``: converted to ``timezone`` (an IANA name such as ``"Asia/Taipei"``),
      shown as CLDR's *medium* date with a *short* time (no seconds);
    * ``date``: CLDR's *medium* date;
    * ``int`` or finite ``Decimal``: grouped decimal, every digit kept;
    * ``str`` (``StrEnum`` members included): as is.

    Raises:
        ValidationError: ``path="value"`` for a naive datetime, a float, a bool, a non-finite
            Decimal or any other type; ``path="locale"`` for a locale babel does not know;
            ``path="timezone"`` for an unknown zone.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> from decimal import Decimal
        >>> when = datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)
        >>> format_value(when, "en", "America/New_York")
        'Mar 5, 2026, 4:30\u202fAM'
        >>> format_value(when, "zh_Hans_CN", "Asia/Shanghai")
        '2026年3月5日 17:30'
        >>> format_value(date(2026, 3, 5), "en", "UTC"), format_value(1234567, "en", "UTC")
        ('Mar 5, 2026', '1,234,567')
        >>> format_value(Decimal("0.125"), "zh_Hant_TW", "UTC")
        '0.125'
        >>> format_value(1.5, "en", "UTC")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: value: must be Money, a datetime, a date, an int, a
        Decimal or a str, not float (1.5); floats are inexact, pass Decimal('1.5') or Money

    .. versionadded:: 0.1.0
    """
    zone = _zone(timezone)  # a bad zone is an error whatever the value
    loc = _babel_locale(locale)
    if isinstance(value, Money):
        return value.format(loc)
    if isinstance(value, datetime):
        return _format_datetime(ensure_aware(value, "value").astimezone(zone), loc)
    if isinstance(value, date):
        return str(format_date(value, "medium", locale=loc))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _format_number(Decimal(value), loc)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"must be a finite number, not {value}", path="value")
        return _format_number(value, loc)
    hint = ""
    if isinstance(value, float):
        hint = f"; floats are inexact, pass Decimal({str(value)!r}) or Money"
    shown = f" ({value!r})" if isinstance(value, (bool, float)) else ""
    raise ValidationError(
        "must be Money, a datetime, a date, an int, a Decimal or a str, "
        f"not {type(value).__name__}{shown}{hint}",
        path="value",
    )
