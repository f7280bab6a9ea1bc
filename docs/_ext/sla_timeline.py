"""Draw the SLA timeline of the "Complaints and SLAs" how-to from a real ``sla_status``.

The case is the how-to's: filed through the CRM facade on Thursday 2 April 2026 at 16:30 in
Taipei, before a long weekend (Friday 3 and Monday 6 April are public holidays), answered with
a question on Tuesday, paused while the customer was away, resumed on Wednesday, and looked at
on Thursday 9 April at 17:00. Everything drawn comes from the ``SlaStatus`` crmkit computes:
the calendar's working hours, each clock's running and paused spans, the warning, the
escalation and the deadlines.

Run it from the repository root to regenerate the picture::

    python docs/_ext/sla_timeline.py            # writes docs/how-to/sla-timeline.svg

``tests/service/test_sla_timeline_asset.py`` checks that the committed picture is what this
script draws today.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from crmkit import ManualClock, bootstrap
from crmkit.app.service import ServiceSettings
from crmkit.kernel import SequentialIds
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.service import ComplaintPolicy
from crmkit.service.sla import EscalationLevel, SlaClock, SlaPolicy, SlaPolicySet, SlaStatus

TPE = ZoneInfo("Asia/Taipei")
OUT = Path(__file__).resolve().parents[1] / "how-to" / "sla-timeline.svg"

FIRST_DAY = date(2026, 4, 2)
DAYS = 9
LEFT, TOP, DAY_WIDTH = 120.0, 44.0, 92.0
WIDTH = LEFT + DAYS * DAY_WIDTH + 20
ROWS = {"calendar": 62.0, "first_response": 120.0, "resolution": 196.0}
BAR = 18.0
HEIGHT = 310.0

CALENDAR = BusinessCalendar.office_hours(
    "Asia/Taipei",
    ("09:00", "18:00"),
    holidays=[date(2026, 4, 3), date(2026, 4, 6)],
    name="Taipei desk",
)
POLICIES = SlaPolicySet(
    default="standard",
    policies=[
        SlaPolicy(
            name="standard",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=18),
            escalations=[
                EscalationLevel(
                    level="team_lead",
                    target="resolution",
                    after=timedelta(hours=12),
                    notify="team_lead",
                )
            ],
        )
    ],
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in April 2026, Taipei time."""
    return datetime(2026, 4, day, hour, minute, tzinfo=TPE)


def scenario() -> SlaStatus:
    """The how-to's case, taken through the facade; its SLA status on Thursday 9 April, 17:00."""
    clock = ManualClock(at(2, 16, 30))
    crm = bootstrap(
        clock=clock,
        ids=SequentialIds(),
        service=ServiceSettings(
            complaints=ComplaintPolicy(categories=["delivery"]), sla=POLICIES, calendar=CALENDAR
        ),
    )
    customer = crm.register_customer("Formosa Tea Co.")
    case = crm.file_complaint(
        customer.id, "Parcel never arrived", category="delivery", channel="email", owner="u_amy"
    )
    crm.acknowledge_complaint(case.id)
    clock.set(at(7, 10))
    crm.reply_to_complaint(
        case.id, "Could you send a photo of the label?", by="u_amy", wait_for_customer=True
    )
    clock.set(at(8, 14))
    crm.record_customer_message(case.id, "Here it is.")
    clock.set(at(9, 17))
    return crm.complaint_sla(case.id)


def x_of(instant: datetime) -> float:
    """The picture's x for an instant."""
    start = datetime.combine(FIRST_DAY, time(0), tzinfo=TPE)
    days = (instant.astimezone(TPE) - start) / timedelta(days=1)
    return LEFT + days * DAY_WIDTH


def _f(value: float) -> str:
    return f"{value:.1f}"


def _rect(x0: float, x1: float, y: float, fill: str, extra: str = "") -> str:
    return (
        f'<rect x="{_f(x0)}" y="{_f(y)}" width="{_f(max(x1 - x0, 0.5))}" height="{_f(BAR)}" '
        f'fill="{fill}"{extra}/>'
    )


def _text(x: float, y: float, words: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(words)}</text>'


def _tick(x: float, y: float, colour: str, label: str, *, place: int = 0) -> list[str]:
    """A marker across a row, its label above (``place`` 0 or 1, higher) or below (-1)."""
    label_y = y + BAR + 12 if place < 0 else y - 4 - 12 * place
    anchor = "end" if x > WIDTH - 90 else "middle"
    return [
        f'<line x1="{_f(x)}" y1="{_f(y - 2)}" x2="{_f(x)}" y2="{_f(y + BAR + 2)}" '
        f'stroke="{colour}" stroke-width="2.5"/>',
        _text(x, label_y, label, anchor=anchor, extra=f' fill="{colour}"'),
    ]


def _working(calendar: BusinessCalendar) -> list[tuple[datetime, datetime]]:
    """The calendar's working periods over the days drawn, as instants."""
    found = []
    for n in range(DAYS):
        day = FIRST_DAY + timedelta(days=n)
        if calendar.is_holiday(day):
            continue
        for hours in calendar.hours:
            if hours.weekday.number == day.weekday():
                start = datetime.combine(day, hours.start, tzinfo=calendar.zone)
                end = datetime.combine(day, hours.end, tzinfo=calendar.zone)
                found.append((start, end))
    return found


def _running(
    start: datetime, end: datetime, working: list[tuple[datetime, datetime]], y: float
) -> list[str]:
    """A running span: a thin line throughout, thick where the calendar works (where it counts)."""
    mid = y + BAR / 2
    parts = [
        f'<line x1="{_f(x_of(start))}" y1="{_f(mid)}" x2="{_f(x_of(end))}" y2="{_f(mid)}" '
        'stroke="#2f6fb3" stroke-width="2"/>'
    ]
    for open_at, close_at in working:
        a, b = max(start, open_at), min(end, close_at)
        if a < b:
            parts.append(_rect(x_of(a), x_of(b), y, "#2f6fb3"))
    return parts


def _calendar_row(calendar: BusinessCalendar) -> list[str]:
    y = ROWS["calendar"]
    parts = [_text(LEFT - 8, y + 13, "working hours", anchor="end")]
    for n in range(DAYS):
        day = FIRST_DAY + timedelta(days=n)
        x0 = LEFT + n * DAY_WIDTH
        label = day.strftime("%a %d Apr").replace(" 0", " ")
        parts.append(_text(x0 + DAY_WIDTH / 2, TOP - 18, label, anchor="middle"))
        parts.append(
            f'<line x1="{_f(x0)}" y1="{_f(TOP - 12)}" x2="{_f(x0)}" y2="{_f(HEIGHT - 52)}" '
            'stroke="#d0d4d9" stroke-width="1"/>'
        )
        if calendar.is_holiday(day):
            parts.append(
                _text(
                    x0 + DAY_WIDTH / 2,
                    TOP - 4,
                    "public holiday",
                    anchor="middle",
                    extra=' fill="#b0413e" font-style="italic"',
                )
            )
    for start, end in _working(calendar):
        parts.append(_rect(x_of(start), x_of(end), y, "#cfe8d8"))
    return parts


def _clock_row(
    clock: SlaClock, now: datetime, name: str, label: str, calendar: BusinessCalendar
) -> list[str]:
    y = ROWS[name]
    working = _working(calendar)
    parts = [
        _text(LEFT - 8, y + 9, label, anchor="end"),
        _text(
            LEFT - 8,
            y + 22,
            f"{clock.duration / timedelta(hours=1):g} business hours",
            anchor="end",
            extra=' fill="#5b6470" font-size="10"',
        ),
    ]
    end = clock.stopped_at or now
    cursor = clock.started_at
    for pause in clock.pauses:
        pause_end = pause.end or end
        parts += _running(cursor, pause.start, working, y)
        parts.append(_rect(x_of(pause.start), x_of(pause_end), y, "url(#paused)"))
        parts.append(
            _text(
                (x_of(pause.start) + x_of(pause_end)) / 2,
                y + BAR + 12,
                f"paused: {pause.business_time / timedelta(hours=1):g} business hours",
                anchor="middle",
                extra=' fill="#a8641b" font-size="10"',
            )
        )
        cursor = pause_end
    parts += _running(cursor, end, working, y)
    if clock.stopped_at is None and clock.deadline > now:
        for open_at, close_at in working:
            a, b = max(now, open_at), min(clock.deadline, close_at)
            if a < b:
                parts.append(
                    _rect(x_of(a), x_of(b), y, "none", ' stroke="#2f6fb3" stroke-dasharray="4 3"')
                )
    if clock.stopped_at is not None:
        parts += _tick(x_of(clock.stopped_at), y, "#1d7a45", f"{clock.stopped_by}")
    else:
        parts += _tick(
            x_of(clock.warning_at), y, "#c98a06", f"warning at {clock.warn_at:.0%}", place=1
        )
    for level in clock.escalations:
        parts += _tick(x_of(level.due_at), y, "#8e44ad", level.level.replace("_", " "))
    deadline = clock.deadline.strftime("%a %H:%M")
    parts += _tick(
        x_of(clock.deadline), y, "#b0413e", f"deadline {deadline} ({clock.state.value})", place=-1
    )
    return parts


def render(status: SlaStatus, calendar: BusinessCalendar = CALENDAR) -> str:
    """The SVG picture of ``status`` on ``calendar``, as text."""
    now = status.computed_at
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(WIDTH)}" height="{_f(HEIGHT)}" '
        f'viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT)}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="11" fill="#1f2933">',
        f"<title>SLA timeline of case {escape(status.reference)}</title>",
        "<defs>",
        '<pattern id="paused" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">',
        '<rect width="6" height="6" fill="#f6d7a7"/>',
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#e0a040" stroke-width="3"/>',
        "</pattern>",
        "</defs>",
        f'<rect width="{_f(WIDTH)}" height="{_f(HEIGHT)}" fill="#ffffff"/>',
    ]
    parts += _calendar_row(calendar)
    parts += _clock_row(status.first_response, now, "first_response", "first response", calendar)
    parts += _clock_row(status.resolution, now, "resolution", "resolution", calendar)
    x_now = x_of(now)
    parts.append(
        f'<line x1="{_f(x_now)}" y1="{_f(ROWS["calendar"] - 6)}" x2="{_f(x_now)}" '
        f'y2="{_f(HEIGHT - 52)}" stroke="#1f2933" stroke-width="1.5" stroke-dasharray="2 2"/>'
    )
    parts.append(_text(x_now, HEIGHT - 40, "now (Thu 17:00)", anchor="middle"))
    legend_y = HEIGHT - 18
    legend = [
        ("#cfe8d8", "working hours"),
        ("#2f6fb3", "business time counted"),
        ("url(#paused)", "paused (awaiting the customer)"),
    ]
    x = LEFT
    for fill, words in legend:
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(legend_y - 9)}" width="14" height="10" fill="{fill}"/>'
        )
        parts.append(_text(x + 19, legend_y, words))
        x += 40 + 6.2 * len(words)
    parts.append(
        f'<rect x="{_f(x)}" y="{_f(legend_y - 9)}" width="14" height="10" fill="none" '
        'stroke="#2f6fb3" stroke-dasharray="4 3"/>'
    )
    parts.append(_text(x + 19, legend_y, "still to run, if nothing pauses it"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the picture (to ``--out``, by default the how-to's ``sla-timeline.svg``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.write_text(render(scenario()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
