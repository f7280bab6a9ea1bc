"""The program as data and compute_earn, the points breakdown, rule by rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    ActivityReward,
    BaseRate,
    BirthdayBonus,
    CampaignBonus,
    CategoryMultiplier,
    ContributionKind,
    EarnCaps,
    EarnLine,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    MemberContext,
    Tier,
    TierBenefits,
    TierModel,
    compute_activity,
    compute_earn,
)

TPE = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=TPE)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def program(**overrides: object) -> LoyaltyProgram:
    fields: dict[str, object] = {
        "id": "club",
        "name": "Club",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "point_value": twd("0.5"),
        "earn": EarnRules(base=BaseRate(points=1, per=twd(100))),
    }
    fields.update(overrides)
    return LoyaltyProgram(**fields)  # type: ignore[arg-type]


def rules(**overrides: object) -> EarnRules:
    fields: dict[str, object] = {"base": BaseRate(points=1, per=twd(100))}
    fields.update(overrides)
    return EarnRules(**fields)  # type: ignore[arg-type]


def earn(p: LoyaltyProgram, *lines: EarnLine, member: MemberContext | None = None, **kw: object):
    order = EarnOrder(id="o_1", lines=lines, **kw)  # type: ignore[arg-type]
    return compute_earn(p, order, member or MemberContext(), NOW)


def line(amount: int | str, category: str | None = None) -> EarnLine:
    return EarnLine(amount=twd(amount), category=category)


def contributions(breakdown) -> list[tuple[str, int]]:
    return [(c.rule, c.points) for c in breakdown.contributions]


# ----- definitions ---------------------------------------------------------------------------


def test_a_broken_program_lists_every_problem() -> None:
    with pytest.raises(DefinitionError) as caught:
        program(
            point_value=Money("1", "CNY"),
            earn=rules(
                category_multipliers=[
                    CategoryMultiplier(id="x", categories=["tea"], multiplier=2),
                    CategoryMultiplier(id="x", categories=["ware"], multiplier=3),
                ],
                activities=[
                    ActivityReward(kind="review", name="A", points=1),
                    ActivityReward(kind="review", name="B", points=2),
                ],
            ),
            pending_period=timedelta(days=40),
            expiry=ExpiryPolicy(kind="rolling_months", months=1),
        )

    assert caught.value.details["problems"] == [
        "point_value is in CNY, the program in TWD",
        "category multiplier 'x' is defined twice",
        "activity 'review' is defined twice",
        "pending_period (40 days) must be shorter than the shortest life of a lot under "
        "rolling_months expiry (27 days)",
    ]


def test_a_program_cannot_be_edited_in_place() -> None:
    p = program()

    with pytest.raises(attrs.exceptions.FrozenAttributeError, match="build a new program"):
        p.name = "Other"  # type: ignore[misc]
    assert attrs.evolve(p, name="Other").name == "Other"


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("time_zone", "Mars/Olympus", "time_zone"),
        ("currency", "XXX1", "currency"),
        ("pending_period", timedelta(days=-1), "pending_period"),
        ("min_redemption", 0, "min_redemption"),
        ("shortfall", "forgive", "shortfall"),
    ],
)
def test_bad_program_fields_are_validation_errors(field: str, value: object, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        program(**{field: value})

    assert caught.value.errors[0].path == path


def test_expiry_policy_needs_months_exactly_for_rolling() -> None:
    with pytest.raises(ValidationError, match="needs months"):
        ExpiryPolicy(kind="rolling_months")
    with pytest.raises(ValidationError, match="only for rolling_months"):
        ExpiryPolicy(kind="never", months=3)


def test_rolling_expiry_is_the_end_of_the_day_months_later_clamped_to_month_end() -> None:
    policy = ExpiryPolicy(kind="rolling_months", months=1)

    # Jan 31 + 1 month is Feb 28 (2026 is not a leap year); the lot lives to the end of it.
    assert policy.expires_at(datetime(2026, 1, 31, 23, 0, tzinfo=TPE), TPE) == datetime(
        2026, 3, 1, tzinfo=TPE
    )
    # Counted in the program's zone: 2026-01-31 20:00 UTC is Feb 1 04:00 in Taipei.
    utc_evening = datetime(2026, 1, 31, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert policy.expires_at(utc_evening, TPE) == datetime(2026, 3, 2, tzinfo=TPE)


def test_expiry_midnight_across_daylight_saving_is_local_midnight() -> None:
    ny = ZoneInfo("America/New_York")
    policy = ExpiryPolicy(kind="rolling_months", months=1)

    # Earned Feb 10 (EST, -05:00); expires Mar 11 00:00 local, after the spring-forward (EDT).
    expires = policy.expires_at(datetime(2026, 2, 10, 9, 0, tzinfo=ny), ny)
    assert expires == datetime(2026, 3, 11, tzinfo=ny)
    assert expires.utcoffset() == timedelta(hours=-4)


def test_value_of_points_rounds_half_up_to_minor_units() -> None:
    p = program(point_value=Money("0.333", "TWD"))

    # 7 x 0.333 = 2.331 -> 2.33; 5 x 0.333 = 1.665 -> 1.67 (half up)
    assert (p.value_of(7), p.value_of(5)) == (twd("2.33"), twd("1.67"))


# ----- compute_earn --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("ROUND_FLOOR", 12), ("ROUND_HALF_UP", 13), ("ROUND_CEILING", 13), ("ROUND_HALF_EVEN", 12)],
)
def test_the_base_rate_rounds_the_fraction_with_its_rule(rounding: str, expected: int) -> None:
    p = program(earn=EarnRules(base=BaseRate(points=1, per=twd(100), rounding=rounding)))

    # NT$1,250 / 100 = 12.5: floor 12, half up 13, ceiling 13, half even 12 (to the even one)
    assert earn(p, line(1250)).total == expected


def test_rates_with_several_points_and_big_steps() -> None:
    # 3 points per NT$25: NT$110 -> 110 x 3 / 25 = 13.2 -> 13
    p = program(earn=EarnRules(base=BaseRate(points=3, per=twd(25))))

    assert earn(p, line(110)).total == 13


def test_excluded_categories_earn_nothing_and_are_not_spend() -> None:
    p = program(earn=rules(excluded_categories=["gift_card"]))

    b = earn(p, line(1000, "tea"), line(5000, "gift_card"))
    assert (b.total, b.spend) == (10, twd(1000))


def test_a_line_takes_only_its_highest_category_multiplier() -> None:
    p = program(
        earn=rules(
            category_multipliers=[
                CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2),
                CategoryMultiplier(id="premium_x3", categories=["tea", "ware"], multiplier=3),
            ]
        )
    )

    # Base: (1000 + 500 + 200) / 100 = 17. Tea and ware both take x3 (adds 2 x base of those
    # lines: 2 x 15 = 30); the x2 rule covers no line, so it is not listed.
    b = earn(p, line(1000, "tea"), line(500, "ware"), line(200))
    assert contributions(b) == [("base", 17), ("premium_x3", 30)]


def test_multipliers_add_each_on_the_exact_base() -> None:
    p = program(
        earn=rules(
            category_multipliers=[
                CategoryMultiplier(id="x15", categories=["tea"], multiplier="1.5")
            ]
        ),
        tiers=TierModel(
            metric="points",
            period="calendar",
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(
                    id="gold",
                    name="Gold",
                    threshold=100,
                    benefits=TierBenefits(earn_multiplier="1.25"),
                ),
            ],
        ),
    )

    # NT$999 of tea: base 9.99 -> 9; x1.5 adds 9.99 x 0.5 = 4.995 -> 4; Gold x1.25 adds
    # 9.99 x 0.25 = 2.4975 -> 2. 9 + 4 + 2 = 15 (one rounding per contribution).
    b = earn(p, line(999, "tea"), member=MemberContext(tier="gold"))
    assert contributions(b) == [("base", 9), ("x15", 4), ("gold", 2)]
    assert [c.exact for c in b.contributions] == [
        Decimal("9.99"),
        Decimal("4.995"),
        Decimal("2.4975"),
    ]


def test_campaign_windows_include_the_start_and_exclude_the_end() -> None:
    start = datetime(2026, 11, 11, tzinfo=TPE)
    p = program(
        earn=rules(
            campaigns=[
                CampaignBonus(
                    id="double_11",
                    name="Double 11",
                    starts_at=start,
                    ends_at=start + timedelta(days=1),
                    multiplier=2,
                    points=11,
                )
            ]
        )
    )

    def at(when: datetime) -> int:
        order = EarnOrder(id="o", lines=[line(1000)], placed_at=when)
        return compute_earn(p, order, MemberContext(), start + timedelta(days=30)).total

    # 10 base; in the window x2 adds 10 and the fixed bonus 11: 31.
    assert at(start - timedelta(seconds=1)) == 10
    assert at(start) == 31
    assert at(start + timedelta(hours=23, minutes=59)) == 31
    assert at(start + timedelta(days=1)) == 10


def test_a_campaign_with_a_minimum_spend_and_categories() -> None:
    start = datetime(2026, 3, 1, tzinfo=TPE)
    p = program(
        earn=rules(
            campaigns=[
                CampaignBonus(
                    id="tea_week",
                    name="Tea week",
                    starts_at=start,
                    ends_at=start + timedelta(days=7),
                    multiplier=3,
                    categories=["tea"],
                    min_spend=twd(2000),
                )
            ]
        )
    )

    # Spend 1,500: below the minimum, no campaign.
    assert contributions(earn(p, line(1000, "tea"), line(500))) == [("base", 15)]
    # Spend 2,500: x3 on the tea lines only: adds 2 x 10 = 20.
    assert contributions(earn(p, line(1000, "tea"), line(1500))) == [
        ("base", 25),
        ("tea_week", 20),
    ]


def test_first_purchase_bonus_only_for_the_first_order() -> None:
    p = program(earn=rules(first_purchase_points=50))

    assert earn(p, line(100), member=MemberContext(first_order=True)).total == 51
    assert earn(p, line(100), member=MemberContext(first_order=False)).total == 1


def test_caps_per_order_then_per_day_are_negative_contributions() -> None:
    p = program(earn=rules(caps=EarnCaps(per_order=300, per_day=500)))

    # NT$50,000 -> 500; capped at 300 per order; 350 already earned today leaves 150.
    b = earn(p, line(50_000), member=MemberContext(earned_today=350))
    assert contributions(b) == [("base", 500), ("per_order", -200), ("per_day", -150)]
    assert (b.total, b.uncapped) == (150, 500)
    # Once the day's cap is used up, an order earns nothing (but is still explained).
    assert earn(p, line(1000), member=MemberContext(earned_today=500)).total == 0


def test_birthday_month_is_judged_in_the_program_time_zone() -> None:
    p = program(earn=rules(birthday=BirthdayBonus(multiplier=2)))
    member = MemberContext(birth_month=5)

    def placed(when: datetime) -> int:
        order = EarnOrder(id="o", lines=[line(1000)], placed_at=when)
        return compute_earn(p, order, member, datetime(2026, 6, 30, tzinfo=TPE)).total

    # 2026-04-30 16:30 UTC is May 1 00:30 in Taipei: birthday month; 15:30 UTC is still April.
    utc = ZoneInfo("UTC")
    assert placed(datetime(2026, 4, 30, 16, 30, tzinfo=utc)) == 20
    assert placed(datetime(2026, 4, 30, 15, 30, tzinfo=utc)) == 10


def test_the_birthday_gift_is_not_given_twice_a_year() -> None:
    p = program(earn=rules(birthday=BirthdayBonus(points=100)))
    may = EarnOrder(id="o", lines=[line(1000)], placed_at=datetime(2026, 5, 3, tzinfo=TPE))
    now = datetime(2026, 5, 3, 1, tzinfo=TPE)

    assert compute_earn(p, may, MemberContext(birth_month=5), now).total == 110
    given = MemberContext(birth_month=5, birthday_points_given=True)
    assert compute_earn(p, may, given, now).total == 10


def test_an_order_in_another_currency_or_from_the_future_is_refused() -> None:
    p = program()

    with pytest.raises(ValidationError, match="in CNY, the program in TWD"):
        compute_earn(p, EarnOrder.of("o", Money("10", "CNY")), MemberContext(), NOW)
    with pytest.raises(ValidationError, match="must not be after now"):
        earn(p, line(10), placed_at=NOW + timedelta(minutes=1))


def test_an_order_needs_lines_in_one_currency() -> None:
    with pytest.raises(ValidationError, match="at least one line"):
        EarnOrder(id="o", lines=[])
    with pytest.raises(ValidationError, match="the order's first line in TWD"):
        EarnOrder(id="o", lines=[line(1), EarnLine(amount=Money("1", "CNY"))])


def test_activities_pay_fixed_points_within_the_daily_cap() -> None:
    p = program(
        earn=rules(
            activities=[ActivityReward(kind="survey", name="Survey", points=30)],
            caps=EarnCaps(per_day=100),
        )
    )

    b = compute_activity(p, "survey", "sv_1", MemberContext(earned_today=80))
    assert [(c.kind, c.points) for c in b.contributions] == [
        (ContributionKind.ACTIVITY, 30),
        (ContributionKind.CAP, -10),
    ]
    with pytest.raises(ValidationError, match="rewards no activity 'review'"):
        compute_activity(p, "review", "rv_1", MemberContext())
