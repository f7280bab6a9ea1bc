"""Draw the member timeline of the "Loyalty" how-to from a real ``Membership``.

The member is the worked example's (``tests/loyalty/test_worked_examples.py``, "a year of a
member's purchases"): Tea Club, 1 point per NT$100, 14 pending days, lots that live 12 months,
Silver from NT$10,000 of spend in a calendar year (x1.5) and Gold from NT$30,000 (x2). Amy
buys six times in 2026, redeems 200 points for a tea set in August, and the lots she did not
spend expire in 2027. Everything drawn comes from crmkit: each day's available and pending
points are ``Membership.balance`` on that day, and the tier band is ``Membership.tier_history``.

Run it from the repository root to regenerate the picture::

    python docs/_ext/loyalty_timeline.py        # writes docs/how-to/loyalty-timeline.svg

``tests/loyalty/test_timeline_asset.py`` checks that the committed picture is what this script
draws today.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import attrs

from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    Tier,
    TierBenefits,
    TierModel,
)

TPE = ZoneInfo("Asia/Taipei")
OUT = Path(__file__).resolve().parents[1] / "how-to" / "loyalty-timeline.svg"

FIRST = date(2026, 1, 1)
LAST = date(2027, 7, 1)
LEFT, TOP, RIGHT = 64.0, 40.0, 24.0
PLOT_W, PLOT_H = 780.0, 220.0
TIER_Y = TOP + PLOT_H + 34.0
TIER_H = 20.0
WIDTH = LEFT + PLOT_W + RIGHT
HEIGHT = TIER_Y + TIER_H + 70.0
Y_MAX = 500
TIER_COLOURS = {"member": "#cfd8dc", "silver": "#90a4ae", "gold": "#f4b400"}


def twd(amount: int) -> Money:
    """New Taiwan dollars."""
    return Money(str(amount), "TWD")


def at(y: int, m: int, d: int, hh: int = 12) -> datetime:
    """An instant in Taipei."""
    return datetime(y, m, d, hh, tzinfo=TPE)


def program() -> LoyaltyProgram:
    """The worked example's program."""
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=Money("0.5", "TWD"),
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        earn=EarnRules(base=BaseRate(points=1, per=twd(100))),
        tiers=TierModel(
            metric="spend",
            period="calendar",
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(
                    id="silver",
                    name="Silver",
                    threshold=10_000,
                    benefits=TierBenefits(earn_multiplier="1.5"),
                ),
                Tier(
                    id="gold",
                    name="Gold",
                    threshold=30_000,
                    benefits=TierBenefits(earn_multiplier=2, free_shipping=True),
                ),
            ],
        ),
    )


@attrs.frozen
class Event:
    """One thing that happened, for the labels: when, what, and the points it moved."""

    at: datetime
    label: str
    points: int


@attrs.frozen
class Timeline:
    """The member's day-by-day balance, the events and the tier changes."""

    days: tuple[tuple[date, int, int], ...]  # (day, available, pending) at the day's end
    events: tuple[Event, ...]
    tiers: tuple[tuple[datetime, str], ...]


def scenario() -> Timeline:
    """Replay the worked example and read the balance at the end of every day."""
    p = program()
    m = Membership.enroll(id="mem_amy", program=p, customer_id="cus_amy", now=at(2026, 1, 5))
    events: list[Event] = []

    def buy(order_id: str, amount: int) -> Callable[[datetime], None]:
        def run(now: datetime) -> None:
            entry = m.earn(p, EarnOrder.of(order_id, twd(amount)), now=now)
            events.append(Event(now, f"NT${amount:,}", entry.points))

        return run

    def redeem(now: datetime) -> None:
        entry = m.redeem(p, 200, reference="rdm_teaset", now=now, purpose="tea set")
        events.append(Event(now, "tea set", entry.points))

    actions: list[tuple[datetime, Callable[[datetime], None]]] = [
        (at(2026, 1, 10), buy("o_0110", 4800)),
        (at(2026, 3, 3), buy("o_0303", 6250)),
        (at(2026, 5, 20), buy("o_0520", 8999)),
        (at(2026, 7, 8), buy("o_0708", 12000)),
        (at(2026, 8, 1), redeem),
        (at(2026, 10, 1), buy("o_1001", 5000)),
        (at(2026, 12, 24), buy("o_1224", 2000)),
    ]
    days: list[tuple[date, int, int]] = []
    day = FIRST
    pending_actions = list(actions)
    while day <= LAST:
        end = datetime(day.year, day.month, day.day, tzinfo=TPE) + timedelta(days=1)
        while pending_actions and pending_actions[0][0] < end:
            when, action = pending_actions.pop(0)
            action(when)
        if end > m.enrolled_at:
            m.advance(p, end)
            balance = m.balance(end)
            days.append((day, balance.available, balance.pending))
        else:
            days.append((day, 0, 0))
        day += timedelta(days=1)
    for entry in m.entries:
        if entry.kind.value == "expire":
            events.append(Event(entry.at, "expired", entry.points))
    tiers = tuple((change.at, change.to_tier) for change in m.tier_history)
    return Timeline(days=tuple(days), events=tuple(sorted(events, key=lambda e: e.at)), tiers=tiers)


# ----- drawing -------------------------------------------------------------------------------


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def x_of(day: date) -> float:
    """Where a day is drawn."""
    span = (LAST - FIRST).days
    return LEFT + PLOT_W * (day - FIRST).days / span


def y_of(points: int) -> float:
    """Where a number of points is drawn."""
    return TOP + PLOT_H * (1 - points / Y_MAX)


def _text(x: float, y: float, words: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(words)}</text>'


def _step_path(points: list[tuple[date, int]]) -> str:
    parts: list[str] = []
    previous: int | None = None
    for day, value in points:
        x = x_of(day)
        if previous is None:
            parts.append(f"M{_f(x)},{_f(y_of(value))}")
        elif value != previous:
            parts.append(f"H{_f(x)}V{_f(y_of(value))}")
        previous = value
    parts.append(f"H{_f(x_of(LAST + timedelta(days=1)))}")
    return "".join(parts)


def _axes() -> list[str]:
    out = [
        f'<line x1="{_f(LEFT)}" y1="{_f(TOP + PLOT_H)}" x2="{_f(LEFT + PLOT_W)}" '
        f'y2="{_f(TOP + PLOT_H)}" stroke="#455a64"/>',
        f'<line x1="{_f(LEFT)}" y1="{_f(TOP)}" x2="{_f(LEFT)}" y2="{_f(TOP + PLOT_H)}" '
        'stroke="#455a64"/>',
    ]
    for value in range(0, Y_MAX + 1, 100):
        y = y_of(value)
        out.append(
            f'<line x1="{_f(LEFT)}" y1="{_f(y)}" x2="{_f(LEFT + PLOT_W)}" y2="{_f(y)}" '
            'stroke="#eceff1"/>'
        )
        out.append(_text(LEFT - 6, y + 4, str(value), anchor="end"))
    month = FIRST
    while month <= LAST:
        x = x_of(month)
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(TOP + PLOT_H)}" x2="{_f(x)}" '
            f'y2="{_f(TOP + PLOT_H + 5)}" stroke="#455a64"/>'
        )
        label = month.strftime("%b") if month.month != 1 else month.strftime("%b %Y")
        out.append(_text(x, TOP + PLOT_H + 17, label, anchor="middle"))
        month = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
    out.append(_text(LEFT - 6, TOP - 12, "points", anchor="end"))
    return out


def _tier_band(tiers: tuple[tuple[datetime, str], ...]) -> list[str]:
    out = [_text(LEFT - 6, TIER_Y + 14, "tier", anchor="end")]
    for n, (start, tier) in enumerate(tiers):
        end = tiers[n + 1][0].date() if n + 1 < len(tiers) else LAST + timedelta(days=1)
        x0, x1 = x_of(start.date()), x_of(end)
        out.append(
            f'<rect x="{_f(x0)}" y="{_f(TIER_Y)}" width="{_f(x1 - x0)}" height="{_f(TIER_H)}" '
            f'fill="{TIER_COLOURS.get(tier, "#b0bec5")}"/>'
        )
        out.append(_text(x0 + 4, TIER_Y + 14, f"{tier.capitalize()} from {start.day} {start:%b}"))
    return out


def _events(timeline: Timeline) -> list[str]:
    out: list[str] = []
    by_day = {day: available + pending for day, available, pending in timeline.days}
    for n, event in enumerate(timeline.events):
        day = event.at.date()
        x = x_of(day)
        total = by_day.get(day, 0)
        y = y_of(total) - 8 - 12 * (n % 2)
        sign = "+" if event.points > 0 else ""
        out.append(f'<circle cx="{_f(x)}" cy="{_f(y_of(total))}" r="3" fill="#263238"/>')
        out.append(
            _text(x, y, f"{event.label} {sign}{event.points}", anchor="middle",
                  extra=' font-size="10"')
        )  # fmt: skip
    return out


def render(timeline: Timeline) -> str:
    """The SVG document (deterministic: the same timeline draws the same bytes)."""
    available = [(day, a) for day, a, _ in timeline.days]
    total = [(day, a + p) for day, a, p in timeline.days]
    body: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(WIDTH)}" height="{_f(HEIGHT)}" '
        f'viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT)}" font-family="sans-serif" font-size="11" '
        'fill="#263238">',
        "<title>A year of a Tea Club member: points and tier</title>",
        f'<rect width="{_f(WIDTH)}" height="{_f(HEIGHT)}" fill="#ffffff"/>',
        *_axes(),
        f'<path d="{_step_path(total)}" fill="none" stroke="#90caf9" stroke-width="2" '
        'stroke-dasharray="5 3"/>',
        f'<path d="{_step_path(available)}" fill="none" stroke="#1565c0" stroke-width="2"/>',
        *_events(timeline),
        *_tier_band(timeline.tiers),
    ]
    legend_y = TIER_Y + TIER_H + 30
    body += [
        f'<line x1="{_f(LEFT)}" y1="{_f(legend_y - 4)}" x2="{_f(LEFT + 24)}" '
        f'y2="{_f(legend_y - 4)}" stroke="#1565c0" stroke-width="2"/>',
        _text(LEFT + 30, legend_y, "available (spendable) points"),
        f'<line x1="{_f(LEFT + 230)}" y1="{_f(legend_y - 4)}" x2="{_f(LEFT + 254)}" '
        f'y2="{_f(legend_y - 4)}" stroke="#90caf9" stroke-width="2" stroke-dasharray="5 3"/>',
        _text(LEFT + 260, legend_y, "available + pending (14-day return window)"),
        _text(
            LEFT,
            legend_y + 20,
            "Lots expire 12 months after they were earned; redeeming spends the soonest-expiring "
            "first and never lowers the tier.",
        ),
        "</svg>",
    ]
    return "\n".join(body) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the picture (``--out`` to write elsewhere)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.write_text(render(scenario()), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
