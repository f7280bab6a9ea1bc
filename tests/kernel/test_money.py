"""Money: construction, arithmetic, rounding, allocation, formatting and the precision policy."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CRMError, CurrencyMismatchError, ValidationError
from crmkit.kernel.money import Money, Rounding, currency_digits, is_currency
from crmkit.testing.strategies import currencies, money


def _paths(error: ValidationError) -> list[str]:
    return [e.path for e in error.errors]


# ----- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (12, Decimal(12)),
        ("12.30", Decimal("12.30")),
        (" 12.30 ", Decimal("12.30")),
        (Decimal("0.05"), Decimal("0.05")),
        (-7, Decimal(-7)),
        ("-0.01", Decimal("-0.01")),
    ],
)
def test_money_is_built_from_int_str_and_decimal(amount: object, expected: Decimal) -> None:
    m = Money(amount, "TWD")
    assert m.amount == expected
    assert isinstance(m.amount, Decimal)
    assert m.currency == "TWD"


@pytest.mark.parametrize("amount", [1.5, 0.1, 1.0, float("nan"), True, False])
def test_floats_and_bools_are_refused_naming_amount(amount: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, "USD")
    assert _paths(info.value) == ["amount"]
    assert type(amount).__name__ in str(info.value)


def test_a_float_refusal_says_what_to_write_instead() -> None:
    with pytest.raises(ValidationError, match=r"Decimal\('1\.5'\) or '1\.5'"):
        Money(1.5, "USD")


@pytest.mark.parametrize("amount", ["abc", "", "1,000", None, [1], "NaN", "Infinity", "-inf"])
def test_amounts_that_are_not_finite_numbers_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, "USD")
    assert _paths(info.value) == ["amount"]


@pytest.mark.parametrize("currency", ["ABC", "XXQ", "", None, 840, "US Dollar"])
def test_unknown_currencies_are_refused_naming_currency(currency: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money("1", currency)  # type: ignore[arg-type]
    assert _paths(info.value) == ["currency"]
    assert "ISO 4217" in str(info.value)


@pytest.mark.parametrize(("given", "suggested"), [("twd", "TWD"), ("cny", "CNY"), (" usd ", "USD")])
def test_a_lowercase_currency_suggests_the_uppercase_code(given: str, suggested: str) -> None:
    with pytest.raises(ValidationError, match=f"did you mean '{suggested}'"):
        Money("1", given)


def test_is_currency_knows_iso_codes_only() -> None:
    assert is_currency("TWD") and is_currency("KWD") and is_currency("CNY")
    assert not is_currency("twd")
    assert not is_currency("ABC")
    assert not is_currency(None)


def test_zero_and_from_minor() -> None:
    assert Money.zero("JPY") == Money("0", "JPY")
    assert Money.from_minor(12345, "TWD") == Money("123.45", "TWD")
    assert Money.from_minor(-5, "KWD").amount == Decimal("-0.005")
    assert Money.from_minor(500, "JPY").amount == Decimal(500)


@pytest.mark.parametrize("units", [1.0, "100", True, None])
def test_from_minor_wants_an_int(units: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money.from_minor(units, "TWD")  # type: ignore[arg-type]
    assert _paths(info.value) == ["units"]


# ----- arithmetic and comparison ---------------------------------------------------------------


def test_add_subtract_multiply_negate() -> None:
    a, b = Money("10.50", "CNY"), Money("0.75", "CNY")
    assert a + b == Money("11.25", "CNY")
    assert a - b == Money("9.75", "CNY")
    assert b - a == Money("-9.75", "CNY")
    assert a * 2 == Money("21.00", "CNY")
    assert 3 * b == Money("2.25", "CNY")
    assert a * Decimal("0.5") == Money("5.25", "CNY")
    assert a * "0.1" == Money("1.05", "CNY")
    assert -a == Money("-10.50", "CNY")
    assert abs(-a) == a
    assert +a is a


def test_equal_amounts_are_equal_whatever_their_trailing_zeros() -> None:
    assert Money("1", "USD") == Money("1.00", "USD")
    assert hash(Money("1", "USD")) == hash(Money("1.00", "USD"))
    assert len({Money("1", "USD"), Money("1.0", "USD"), Money("1.00", "USD")}) == 1


def test_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money("1", "USD") != Money("1", "TWD")


def test_comparisons_within_one_currency() -> None:
    small, big = Money("1.00", "HKD"), Money("1.01", "HKD")
    assert small < big and small <= big and big > small and big >= small
    assert small <= Money("1", "HKD") and small >= Money("1", "HKD")
    assert sorted([big, small]) == [small, big]


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: Money.sum([a, b], currency="USD"),
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge", "sum"],
)
def test_mixing_currencies_raises_currency_mismatch(operation: object) -> None:
    with pytest.raises(CurrencyMismatchError) as info:
        operation(Money("1", "USD"), Money("1", "TWD"))  # type: ignore[operator]
    assert "USD" in str(info.value) and "TWD" in str(info.value)
    assert isinstance(info.value, ValidationError)
    assert info.value.details["currencies"] == ["USD", "TWD"]


@pytest.mark.parametrize("factor", [1.5, True, Money("2", "USD"), None])
def test_multiplying_by_a_float_bool_money_or_none_is_refused(factor: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money("1", "USD") * factor
    assert _paths(info.value) == ["factor"]


def test_comparing_money_with_a_number_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        assert Money("1", "USD") < 5


@pytest.mark.parametrize(
    "operation",
    [lambda m: m + 1, lambda m: m - Decimal(1), lambda m: 1 + m, lambda m: "1" - m],
    ids=["money+int", "money-decimal", "int+money", "str-money"],
)
def test_adding_a_plain_number_is_a_crm_error_not_a_type_error(operation: object) -> None:
    # Bad input never leaks TypeError: comparisons already raise ValidationError here.
    with pytest.raises(CRMError):
        operation(Money("1", "USD"))  # type: ignore[operator]


def test_money_sum_of_nothing_is_zero_in_the_currency() -> None:
    assert Money.sum([], currency="TWD") == Money.zero("TWD")
    assert Money.sum(iter([Money("1", "TWD"), Money("2", "TWD")]), currency="TWD") == Money(
        "3", "TWD"
    )


@pytest.mark.parametrize("items", [None, [1, 2], ["1"]])
def test_money_sum_of_non_money_is_a_crm_error(items: object) -> None:
    with pytest.raises(CRMError):
        Money.sum(items, currency="TWD")  # type: ignore[arg-type]


@given(a=money("TWD"), b=money("TWD"), c=money("TWD"))
def test_addition_is_associative_and_commutative(a: Money, b: Money, c: Money) -> None:
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert (a + b) - b == a


@given(st.data(), currencies(), st.randoms(use_true_random=False))
def test_money_sum_does_not_depend_on_order(data: st.DataObject, code: str, rnd: object) -> None:
    items = data.draw(st.lists(money(code), max_size=30))
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert Money.sum(shuffled, currency=code) == Money.sum(items, currency=code)


@given(currencies(), st.integers(-(10**15), 10**15))
def test_from_minor_and_minor_units_round_trip(code: str, units: int) -> None:
    m = Money.from_minor(units, code)
    assert m.minor_units == units
    assert Money.from_minor(m.minor_units, m.currency) == m


@given(money())
def test_exact_amounts_round_trip_through_minor_units(m: Money) -> None:
    assert Money.from_minor(m.minor_units, m.currency) == m
    assert m.round() == m


def test_minor_units_of_an_amount_with_too_many_digits_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"more than 2 decimal places; call \.round\(\)"):
        _ = Money("1.005", "USD").minor_units


# ----- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "half_up", "half_even"),
    [
        ("0.125", "USD", "0.13", "0.12"),
        ("0.135", "USD", "0.14", "0.14"),
        ("-0.125", "USD", "-0.13", "-0.12"),
        ("2.5", "JPY", "3", "2"),
        ("3.5", "JPY", "4", "4"),
        ("1.0005", "KWD", "1.001", "1.000"),
        ("10.005", "TWD", "10.01", "10.00"),
    ],
)
def test_rounding_is_half_up_by_default_and_half_even_on_request(
    amount: str, currency: str, half_up: str, half_even: str
) -> None:
    m = Money(amount, currency)
    assert m.round().amount == Decimal(half_up)
    assert m.round(Rounding.HALF_UP).amount == Decimal(half_up)
    assert m.round(Rounding.HALF_EVEN).amount == Decimal(half_even)


def test_rounding_gives_exactly_the_currency_digits() -> None:
    assert str(Money("7", "TWD").round().amount) == "7.00"
    assert str(Money("7", "KWD").round().amount) == "7.000"
    assert str(Money("7.4", "JPY").round().amount) == "7"


def test_rounding_with_an_unknown_mode_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Money("1.005", "USD").round("bogus")  # type: ignore[arg-type]


@given(money(exact=False))
def test_rounding_always_lands_on_minor_units_within_half_a_unit(m: Money) -> None:
    rounded = m.round()
    assert Money.from_minor(rounded.minor_units, m.currency) == rounded
    half = Decimal(1).scaleb(-m.digits) / 2
    assert abs(rounded.amount - m.amount) <= half


# ----- the precision policy --------------------------------------------------------------------


def test_precision_policy_accounting_digits_for_arithmetic() -> None:
    # TWD keeps cents in arithmetic and storage (ISO 4217 / CLDR accounting digits)...
    assert currency_digits("TWD") == 2
    assert currency_digits("USD") == 2
    assert currency_digits("CNY") == 2
    assert currency_digits("HKD") == 2
    assert currency_digits("JPY") == 0
    assert currency_digits("KWD") == 3
    assert Money("0.01", "TWD").minor_units == 1
    assert Money("100.00", "TWD").allocate([1, 1, 1])[0] == Money("33.34", "TWD")


def test_precision_policy_cash_digits_only_for_display_with_cash_true() -> None:
    # ...but TWD is paid in whole dollars: cash digits are 0 and only cash=True uses them.
    assert currency_digits("TWD", cash=True) == 0
    assert currency_digits("USD", cash=True) == 2
    price = Money("149.50", "TWD")
    assert price.format("zh_Hant_TW") == "$149.50"
    assert price.format("zh_Hant_TW", cash=True) == "$150"
    assert price.round(cash=True) == Money("150", "TWD")
    assert price.amount == Decimal("149.50")  # formatting never changes the amount


# ----- allocation ------------------------------------------------------------------------------

_ratios = st.lists(
    st.one_of(
        st.integers(0, 1000),
        st.decimals(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False, places=3),
        st.just(0),
    ),
    min_size=1,
    max_size=20,
).filter(lambda rs: sum(Decimal(r) for r in rs) > 0)


@given(m=money(min_value=-(10**6), max_value=10**6), ratios=_ratios)
def test_allocate_never_loses_or_invents_a_minor_unit(m: Money, ratios: list[object]) -> None:
    parts = m.allocate(ratios)  # type: ignore[arg-type]
    assert len(parts) == len(ratios)
    assert Money.sum(parts, currency=m.currency) == m
    weights = [Decimal(r) for r in ratios]  # type: ignore[arg-type]
    whole = sum(weights)
    for part, weight in zip(parts, weights):
        assert part.currency == m.currency
        assert Money.from_minor(part.minor_units, m.currency) == part  # exact in minor units
        if weight == 0:
            assert part.is_zero()
        share = Decimal(m.minor_units) * weight / whole
        assert abs(part.minor_units - share) < 1
        if not part.is_zero():
            assert part.is_negative() == m.is_negative()


@given(m=money(min_value=-(10**6), max_value=10**6), ratios=_ratios, factor=st.integers(1, 50))
@settings(max_examples=50)
def test_allocate_depends_only_on_the_proportions(
    m: Money, ratios: list[object], factor: int
) -> None:
    scaled = [Decimal(r) * factor for r in ratios]  # type: ignore[arg-type]
    assert m.allocate(scaled) == m.allocate(ratios)  # type: ignore[arg-type]


@given(money())
def test_allocate_to_a_single_part_returns_the_whole(m: Money) -> None:
    assert m.allocate([1]) == (m,)
    assert m.allocate([0, 7, 0]) == (Money.zero(m.currency), m, Money.zero(m.currency))


def test_allocate_ties_give_the_extra_unit_to_the_earlier_part() -> None:
    assert [p.amount for p in Money("0.05", "USD").allocate([1, 1, 1])] == [
        Decimal("0.02"),
        Decimal("0.02"),
        Decimal("0.01"),
    ]
    assert [p.amount for p in Money("-0.05", "USD").allocate([1, 1, 1])] == [
        Decimal("-0.02"),
        Decimal("-0.02"),
        Decimal("-0.01"),
    ]
    assert [p.amount for p in Money("1", "JPY").allocate([1, 1])] == [Decimal(1), Decimal(0)]
    assert [p.amount for p in Money("100", "TWD").allocate([1, 1, 1])] == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


def test_allocate_gives_leftovers_to_the_largest_remainders() -> None:
    # shares 0.70, 0.20, 0.10 of 0.09 -> 6.3, 1.8, 0.9 cents: floors 6, 1, 0; 2 cents left go to
    # the remainders 0.9 (third) and 0.8 (second).
    parts = Money("0.09", "USD").allocate([7, 2, 1])
    assert [p.minor_units for p in parts] == [6, 2, 1]


def test_allocate_accepts_decimal_and_str_ratios() -> None:
    parts = Money("10", "USD").allocate([Decimal("0.25"), "0.75"])
    assert parts == (Money("2.50", "USD"), Money("7.50", "USD"))


def test_allocate_is_deterministic() -> None:
    m = Money("1234.57", "CNY")
    assert m.allocate([3, 1, 4, 1, 5, 9, 2, 6]) == m.allocate([3, 1, 4, 1, 5, 9, 2, 6])


@pytest.mark.parametrize(
    ("ratios", "path"),
    [
        ([], "ratios"),
        ([0, 0, 0], "ratios"),
        ([1, -1], "ratios[1]"),
        ([1, 1.5], "ratios[1]"),
        ([True], "ratios[0]"),
        (["x"], "ratios[0]"),
        ("123", "ratios"),
        (None, "ratios"),
        (5, "ratios"),
    ],
)
def test_allocate_refuses_bad_ratios(ratios: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        Money("10", "USD").allocate(ratios)  # type: ignore[arg-type]
    assert _paths(info.value) == [path]


def test_allocate_refuses_an_amount_with_more_digits_than_the_currency() -> None:
    with pytest.raises(ValidationError) as info:
        Money("10.005", "USD").allocate([1, 1])
    assert _paths(info.value) == ["amount"]
    with pytest.raises(ValidationError):
        Money("0.5", "JPY").allocate([1])


# ----- formatting ------------------------------------------------------------------------------

_GOLDEN = {
    ("en", "TWD"): "NT$1,234,567.50",
    ("en", "CNY"): "CN¥1,234,567.50",
    ("en", "HKD"): "HK$1,234,567.50",
    ("en", "USD"): "$1,234,567.50",
    ("en", "JPY"): "¥1,234,568",
    ("zh_Hant_TW", "TWD"): "$1,234,567.50",
    ("zh_Hant_TW", "CNY"): "CN¥1,234,567.50",
    ("zh_Hant_TW", "HKD"): "HK$1,234,567.50",
    ("zh_Hant_TW", "USD"): "US$1,234,567.50",
    ("zh_Hant_TW", "JPY"): "¥1,234,568",
    ("zh_Hans_CN", "TWD"): "NT$1,234,567.50",
    ("zh_Hans_CN", "CNY"): "¥1,234,567.50",
    ("zh_Hans_CN", "HKD"): "HK$1,234,567.50",
    ("zh_Hans_CN", "USD"): "US$1,234,567.50",
    ("zh_Hans_CN", "JPY"): "JP¥1,234,568",
}


@pytest.mark.parametrize(("locale", "currency"), sorted(_GOLDEN))
def test_format_golden(locale: str, currency: str) -> None:
    amount = Money("1234568", "JPY") if currency == "JPY" else Money("1234567.5", currency)
    assert amount.format(locale) == _GOLDEN[locale, currency]
    assert (-amount).format(locale) == "-" + _GOLDEN[locale, currency]


@pytest.mark.parametrize(
    ("amount", "locale", "expected"),
    [
        ("1234.5", "en", "NT$1,235"),
        ("1234.5", "zh_Hant_TW", "$1,235"),
        ("1234.49", "zh_Hant_TW", "$1,234"),
        ("0.50", "zh_Hans_CN", "NT$1"),
        ("-1234.5", "zh_Hant_TW", "-$1,235"),
    ],
)
def test_format_cash_twd_rounds_half_up_to_whole_dollars(
    amount: str, locale: str, expected: str
) -> None:
    assert Money(amount, "TWD").format(locale, cash=True) == expected


def test_format_cash_leaves_currencies_paid_in_cents_alone() -> None:
    assert Money("12.34", "USD").format("en", cash=True) == "$12.34"
    assert Money("12.34", "CNY").format("zh_Hans_CN", cash=True) == "¥12.34"


def test_format_cash_never_shows_a_negative_zero() -> None:
    assert Money("-0.40", "TWD").format("en", cash=True) == "NT$0"
    assert (-Money.zero("USD")).format("en") == "$0.00"


def test_format_never_rounds_silently() -> None:
    # Module docstring: "what it shows with cash=False is the stored amount".
    assert Money("1234.567", "USD").format("en") == "$1,234.567"


def test_format_accepts_a_babel_locale() -> None:
    from babel import Locale

    assert Money("5", "TWD").format(Locale.parse("zh_Hant_TW")) == "$5.00"


@pytest.mark.parametrize("locale", ["xx_YY", "klingon", "", None, 5])
def test_format_with_an_unknown_locale_is_a_validation_error(locale: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money("1", "USD").format(locale)  # type: ignore[arg-type]
    assert _paths(info.value) == ["locale"]


def test_str_and_repr() -> None:
    assert str(Money("12.30", "TWD")) == "12.30 TWD"
    assert repr(Money("12.30", "TWD")) == "Money('12.30', 'TWD')"


@given(money(exact=False))
def test_repr_evaluates_back_to_an_equal_amount(m: Money) -> None:
    assert eval(repr(m), {"Money": Money}) == m


@given(money())
def test_money_is_immutable(m: Money) -> None:
    with pytest.raises(AttributeError):
        m.amount = Decimal(1)  # type: ignore[misc]
