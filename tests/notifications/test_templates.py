# Chinese punctuation in expected strings is the point.
# ruff: noqa: RUF001
"""Templates and TemplateRenderer: translation, formatting, escaping, fallback and errors."""

from __future__ import annotations

import html
import logging
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import NotFoundError, ValidationError
from crmkit.i18n import N_, SUPPORTED_LOCALES, resolve_locale
from crmkit.kernel.money import Money
from crmkit.notifications import TEMPLATES, RenderedMessage, Template, TemplateRenderer
from crmkit.notifications import templates as templates_module
from crmkit.ports import Notification
from crmkit.serialization import structure, unstructure
from crmkit.testing.strategies import aware_datetimes, locales, money, timezones

WHEN = datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)  # 2026-03-05 17:30 in Taipei

REQUIRED_KEYS = {
    "customer_registered",
    "lead_follow_up_due",
    "sla_first_response_due",
    "sla_breached",
    "birthday_greeting",
    "customer_needs_attention",
    "win_back",
    "loyalty_tier_upgraded",
    "points_expiring",
    "quote_expiring",
    "maintenance_due",
    "complaint_acknowledged",
    "sla_resolution_due",
    "maintenance_renewal_due",
    "csat_survey",
}

#: A realistic value per placeholder name used by the built-in templates.
SAMPLE: dict[str, Any] = {
    "name": "Amy",
    "business": "Formosa Tea",
    "lead": "Acme Ltd",
    "customer": "Acme Ltd",
    "case": "C-42",
    "due_at": WHEN,
    "last_contact_at": date(2026, 1, 10),
    "amount": Money("1234.5", "TWD"),
    "code": "BACK10",
    "tier": "Gold",
    "program": "Tea Club",
    "points": 1200,
    "quote": "Q-1024",
    "asset": "Espresso machine EM-3",
    "contract": "MC-2026-007",
    "value": Money("600", "TWD"),
}


def note(
    template: str,
    locale: str = "en",
    context: dict[str, Any] | None = None,
    zone: str = "Asia/Taipei",
) -> Notification:
    return Notification(
        "amy@example.com",
        "email",
        template,
        locale,
        context=SAMPLE if context is None else context,
        idempotency_key="k1",
        timezone=zone,
    )


def compile_catalog(root: Path, locale: str, domain: str, messages: dict[str, str]) -> None:
    catalog = Catalog(locale=locale, domain=domain)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    folder = root / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{domain}.mo").open("wb") as fp:
        write_mo(fp, catalog)


# ----- the built-in templates -------------------------------------------------------------------


def test_the_issue_s_templates_are_built_in() -> None:
    assert set(TEMPLATES) >= REQUIRED_KEYS
    assert all(key == t.key for key, t in TEMPLATES.items())
    assert all(t.html is not None for t in TEMPLATES.values())


def test_every_built_in_placeholder_is_documented_in_the_module_docstring() -> None:
    doc = templates_module.__doc__ or ""
    for key, template in TEMPLATES.items():
        line = next((ln for ln in doc.splitlines() if f"``{key}``:" in ln), None)
        assert line is not None, f"{key} is not documented"
        for name in template.placeholders:
            assert f"``{name}``" in line, f"{key}: placeholder {name} is not documented"


def test_the_sample_covers_every_placeholder() -> None:
    used = set().union(*(t.placeholders for t in TEMPLATES.values()))
    assert used <= set(SAMPLE)


def test_the_templates_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        TEMPLATES["x"] = TEMPLATES["win_back"]  # type: ignore[index]


# ----- rendering --------------------------------------------------------------------------------


def test_render_in_english() -> None:
    message = TemplateRenderer().render(note("quote_expiring"))
    assert message == RenderedMessage(
        subject="Your quote Q-1024 expires on Mar 5, 2026, 5:30\u202fPM",
        text=(
            "Dear Amy,\n\nYour quote Q-1024 for NT$1,234.50 is valid until "
            "Mar 5, 2026, 5:30\u202fPM. Accept it before then to keep these prices, or reply "
            "to this email with any questions."
        ),
        html=(
            "<p>Dear Amy,</p>\n<p>Your quote <strong>Q-1024</strong> for "
            "<strong>NT$1,234.50</strong> is valid until <strong>Mar 5, 2026, "
            "5:30\u202fPM</strong>. Accept it before then to keep these prices, or reply to "
            "this email with any questions.</p>"
        ),
        locale="en",
    )


def test_render_in_traditional_chinese_for_taiwan() -> None:
    message = TemplateRenderer().render(note("quote_expiring", "zh_Hant_TW"))
    assert message.locale == "zh_Hant_TW"
    assert message.subject == "您的報價單 Q-1024 將於 2026年3月5日 下午5:30 到期"
    assert message.text.startswith("親愛的 Amy：\n\n您的報價單 Q-1024，金額 $1,234.50，")
    assert "<strong>$1,234.50</strong>" in (message.html or "")


def test_render_in_simplified_chinese_for_mainland_china() -> None:
    context = {**SAMPLE, "amount": Money("88", "CNY")}
    message = TemplateRenderer().render(note("win_back", "zh_CN", context, "Asia/Shanghai"))
    assert message.locale == "zh_Hans_CN"
    assert message.subject == "Amy，好久不见，我们很想念您"
    assert "即可立减 ¥88.00，有效期至 2026年3月5日 17:30。" in message.text


def test_a_date_deadline_and_an_int_are_formatted_for_the_locale() -> None:
    context = {**SAMPLE, "due_at": date(2026, 12, 31), "points": 12500}
    message = TemplateRenderer().render(note("points_expiring", "zh_Hant_TW", context))
    assert message.subject == "您有 12,500 點將於 2026年12月31日 到期"


def test_points_expiring_shows_the_points_their_value_and_the_last_day() -> None:
    context = {**SAMPLE, "due_at": date(2027, 3, 2), "points": 1200, "value": Money("600", "TWD")}
    message = TemplateRenderer().render(note("points_expiring", "zh_Hant_TW", context))
    assert message.subject == "您有 1,200 點將於 2027年3月2日 到期"
    assert "您在 Tea Club 的 1,200 點（價值 $600.00）將於 2027年3月2日 當日結束時到期" in (
        message.text
    )
    assert "（價值 <strong>$600.00</strong>）" in (message.html or "")
    english = TemplateRenderer().render(note("points_expiring", "en", context))
    assert "1,200 of your Tea Club points, worth NT$600.00, will expire at the end of " in (
        english.text
    )


def test_values_are_formatted_in_the_recipients_own_locale_when_its_language_matches() -> None:
    context = {**SAMPLE, "due_at": date(2026, 3, 5)}
    british = TemplateRenderer().render(note("maintenance_due", "en_GB", context))
    assert british.locale == "en"
    assert "due on 5 Mar 2026." in british.text
    american = TemplateRenderer().render(note("maintenance_due", "en_US", context))
    assert "due on Mar 5, 2026." in american.text


def test_html_values_are_escaped_text_values_are_not() -> None:
    context = {**SAMPLE, "name": "Amy <script>alert('x')</script> & Co"}
    message = TemplateRenderer().render(note("birthday_greeting", context=context))
    assert "<script>" not in (message.html or "")
    assert "Amy &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in (message.html or "")
    assert "Dear Amy <script>alert('x')</script> & Co," in message.text


def test_braces_in_values_are_kept_literally_not_interpreted() -> None:
    context = {**SAMPLE, "name": "{business} {0} {{x}}"}
    message = TemplateRenderer().render(note("birthday_greeting", context=context))
    assert message.text.startswith("Dear {business} {0} {{x}},")


def test_the_subject_stays_on_one_line() -> None:
    context = {**SAMPLE, "name": "Amy\r\nBcc: spam@example.com"}
    message = TemplateRenderer().render(note("birthday_greeting", context=context))
    assert message.subject == "Happy birthday, Amy Bcc: spam@example.com!"
    assert "Amy\r\nBcc" in message.text


def test_extra_context_keys_are_ignored() -> None:
    context = {"name": "Amy", "business": "Acme", "unused": object()}
    assert TemplateRenderer().render(note("birthday_greeting", context=context)).subject == (
        "Happy birthday, Amy!"
    )


# ----- errors -----------------------------------------------------------------------------------


def test_an_unknown_template_is_not_found_listing_the_known_keys() -> None:
    with pytest.raises(NotFoundError) as info:
        TemplateRenderer().render(note("no_such_template"))
    assert "no_such_template" in str(info.value)
    assert "quote_expiring" in str(info.value)
    assert info.value.details["known"] == sorted(TEMPLATES)


def test_missing_placeholders_are_each_named_under_context() -> None:
    with pytest.raises(ValidationError) as info:
        TemplateRenderer().render(note("quote_expiring", context={"name": "Amy"}))
    paths = [e.path for e in info.value.errors]
    assert paths == ["context.amount", "context.due_at", "context.quote"]
    assert "quote_expiring" in str(info.value)


def test_a_value_that_cannot_be_formatted_is_named_under_context() -> None:
    context = {**SAMPLE, "amount": 1234.5, "due_at": datetime(2026, 3, 5)}
    with pytest.raises(ValidationError) as info:
        TemplateRenderer().render(note("quote_expiring", context=context))
    assert [e.path for e in info.value.errors] == ["context.amount", "context.due_at"]


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        TemplateRenderer().render(note("quote_expiring", zone="Asia/Taipie"))
    assert [e.path for e in info.value.errors] == ["timezone"]


def test_render_refuses_what_is_not_a_notification() -> None:
    with pytest.raises(ValidationError) as info:
        TemplateRenderer().render({"template": "win_back"})  # type: ignore[arg-type]
    assert info.value.errors[0].path == "notification"


def test_a_context_that_is_not_a_mapping_is_refused() -> None:
    bad = Notification("amy@example.com", "email", "birthday_greeting", "en", context=[1])  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        TemplateRenderer().render(bad)
    assert info.value.errors[0].path == "context"


# ----- fallback to English ----------------------------------------------------------------------


def test_an_unknown_locale_renders_english() -> None:
    message = TemplateRenderer().render(note("quote_expiring", "fr_FR"))
    assert message.locale == "en"
    assert message.subject == "Your quote Q-1024 expires on Mar 5, 2026, 5:30\u202fPM"


@pytest.mark.parametrize("locale", ["", "not a locale", "../../etc", "zh__TW"])
def test_a_malformed_locale_renders_english(locale: str) -> None:
    message = TemplateRenderer().render(note("birthday_greeting", locale))
    assert (message.locale, message.subject) == ("en", "Happy birthday, Amy!")


def test_a_msgid_missing_from_the_chinese_catalog_renders_english() -> None:
    shipped = Template(
        "order_shipped",
        N_("Order {order} has shipped"),
        N_("Hello {name}, order {order} is on its way."),
    )
    renderer = TemplateRenderer().with_templates(shipped)
    context = {"name": "Amy", "order": "SO-7"}
    message = renderer.render(note("order_shipped", "zh_Hant_TW", context))
    assert message.locale == "zh_Hant_TW"
    assert message.subject == "Order SO-7 has shipped"
    assert message.text == "Hello Amy, order SO-7 is on its way."
    assert message.html is None


def test_a_translation_with_other_placeholders_falls_back_to_english(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = Template(
        "order_shipped",
        "Order {order} has shipped",
        "Hello {name}, order {order} is on its way.",
        "<p>Hello {name}, order {order} is on its way.</p>",
    )
    compile_catalog(
        tmp_path,
        "zh_Hant_TW",
        "shop",
        {
            "Order {order} has shipped": "訂單 {ordre} 已出貨",  # misspelt placeholder
            "Hello {name}, order {order} is on its way.": "{name} 您好，訂單 {order} 已寄出。",
            "<p>Hello {name}, order {order} is on its way.</p>": "<p>{name} 您好，訂單 {order",
            # A broken override of a built-in text falls through to crmkit's own translation.
            "Happy birthday, {name}!": "{nom}，生日快樂！",
        },
    )
    renderer = TemplateRenderer(catalogs=[(tmp_path, "shop")]).with_templates(shipped)
    context = {"name": "Amy", "order": "SO-7"}
    with caplog.at_level(logging.WARNING, logger="crmkit.i18n"):
        message = renderer.render(note("order_shipped", "zh_TW", context))
        greeting = renderer.render(note("birthday_greeting", "zh_TW"))
    assert message.subject == "Order SO-7 has shipped"
    assert message.text == "Amy 您好，訂單 SO-7 已寄出。"
    assert message.html == "<p>Hello Amy, order SO-7 is on its way.</p>"
    assert greeting.subject == "Amy，生日快樂！"
    assert "Order {order} has shipped" in caplog.text


def test_a_host_catalog_can_reword_a_built_in_text(tmp_path: Path) -> None:
    compile_catalog(
        tmp_path, "zh_Hant_TW", "shop", {"Happy birthday, {name}!": "{name}，祝您生日快樂！"}
    )
    renderer = TemplateRenderer().with_catalog(tmp_path, "shop")
    message = renderer.render(note("birthday_greeting", "zh_Hant_TW"))
    assert message.subject == "Amy，祝您生日快樂！"
    assert message.text.startswith("親愛的 Amy：")  # the rest still comes from crmkit's catalog
    # The catalog is per renderer: the default one is unchanged.
    default = TemplateRenderer().render(note("birthday_greeting", "zh_Hant_TW"))
    assert default.subject == "Amy，生日快樂！"


# ----- Template and TemplateRenderer construction -----------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"key": ""}, "key"),
        ({"key": "has space"}, "key"),
        ({"key": 3}, "key"),
        ({"subject": ""}, "subject"),
        ({"subject": "two\nlines"}, "subject"),
        ({"subject": "Total {total:.2f}"}, "subject"),
        ({"text": "   "}, "text"),
        ({"text": "Hello {0}"}, "text"),
        ({"text": "Hello {user.name}"}, "text"),
        ({"text": "Hello {name!r}"}, "text"),
        ({"text": "Hello {name"}, "text"),
        ({"text": "Hello }"}, "text"),
        ({"html": ""}, "html"),
        ({"html": "<p>{}</p>"}, "html"),
        ({"html": 3}, "html"),
    ],
)
def test_a_malformed_template_is_refused_naming_the_field(
    kwargs: dict[str, Any], path: str
) -> None:
    fields: dict[str, Any] = {"key": "k", "subject": "Hi {name}", "text": "Hello {name}"}
    with pytest.raises(ValidationError) as info:
        Template(**{**fields, **kwargs})
    assert [e.path for e in info.value.errors] == [path]


def test_literal_braces_are_written_doubled() -> None:
    template = Template("k", "Set {{x}} for {name}", "{{not a placeholder}} {name}")
    assert template.placeholders == {"name"}
    message = TemplateRenderer({"k": template}).render(note("k", context={"name": "Amy"}))
    assert (message.subject, message.text) == ("Set {x} for Amy", "{not a placeholder} Amy")


def test_templates_round_trip_through_the_serializer() -> None:
    for template in TEMPLATES.values():
        assert structure(unstructure(template), Template) == template
    with pytest.raises(ValidationError):
        structure({"key": "k", "subject": "a\nb", "text": "x"}, Template)


def test_with_templates_returns_a_new_renderer() -> None:
    base = TemplateRenderer()
    extra = Template("ping", "Ping {name}", "Ping, {name}.")
    extended = base.with_templates(extra)
    assert "ping" in extended.templates
    assert "ping" not in base.templates
    replaced = extended.with_templates(Template("ping", "Pong {name}", "Pong, {name}."))
    assert replaced.templates["ping"].subject == "Pong {name}"
    assert replaced.catalogs == base.catalogs


def test_a_renderer_with_only_host_templates() -> None:
    extra = Template("ping", "Ping {name}", "Ping, {name}.")
    renderer = TemplateRenderer({"ping": extra})
    assert list(renderer.templates) == ["ping"]
    with pytest.raises(NotFoundError):
        renderer.render(note("win_back"))


@pytest.mark.parametrize(
    ("templates", "path"),
    [
        ({"a": Template("b", "s", "t")}, "templates['a']"),
        ({"a": "not a template"}, "templates['a']"),
        (["a"], "templates"),
    ],
)
def test_a_renderer_refuses_malformed_templates(templates: Any, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        TemplateRenderer(templates)
    assert info.value.errors[0].path == path


def test_a_renderer_refuses_malformed_catalogs(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        TemplateRenderer(catalogs=[(tmp_path / "missing", "shop")])
    assert info.value.errors[0].path == "catalogs[0].localedir"
    with pytest.raises(ValidationError) as info:
        TemplateRenderer(catalogs=[(tmp_path, "")])
    assert info.value.errors[0].path == "catalogs[0].domain"
    with pytest.raises(ValidationError) as info:
        TemplateRenderer(catalogs=[str(tmp_path)])  # type: ignore[list-item]
    assert info.value.errors[0].path == "catalogs[0]"
    with pytest.raises(ValidationError):
        TemplateRenderer().with_templates("ping")  # type: ignore[arg-type]


# ----- properties -------------------------------------------------------------------------------

_BRACELESS_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="{}"), max_size=30)
_VALUES = st.one_of(
    money(),
    aware_datetimes(),
    st.dates(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    _BRACELESS_TEXT,
)


@st.composite
def full_notifications(draw: st.DrawFn) -> Notification:
    key = draw(st.sampled_from(sorted(TEMPLATES)))
    context = {name: draw(_VALUES) for name in sorted(TEMPLATES[key].placeholders)}
    return Notification(
        draw(st.just("amy@example.com")),
        "email",
        key,
        draw(st.one_of(st.sampled_from(SUPPORTED_LOCALES), locales(), st.text(max_size=12))),
        context=context,
        timezone=str(draw(timezones().filter(lambda z: hasattr(z, "key")))),
    )


@settings(max_examples=150)
@given(full_notifications())
def test_any_built_in_template_renders_fully_in_any_locale(notification: Notification) -> None:
    message = TemplateRenderer().render(notification)
    assert message.locale == resolve_locale(notification.locale) in SUPPORTED_LOCALES
    for part in (message.subject, message.text, message.html or ""):
        assert "{" not in part and "}" not in part
    assert "\n" not in message.subject and "\r" not in message.subject
    for value in notification.context.values():
        if isinstance(value, str) and value.strip() and "\n" not in value and "\r" not in value:
            assert value in message.text
            assert html.escape(value, quote=True) in (message.html or "")


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_html_never_receives_a_raw_markup_character_from_a_value(name: str) -> None:
    context = {"name": name, "business": "Acme"}
    message = TemplateRenderer().render(note("birthday_greeting", "zh_Hant_TW", context))
    assert f"<p>親愛的 {html.escape(name, quote=True)}：</p>" in (message.html or "")
