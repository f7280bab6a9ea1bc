"""SLA deadline throughput: crmkit's BusinessCalendar vs a brute-force minute-by-minute count.

Run: ``python benchmarks/service.py [--cases 10000] [--rounds 3] [--seed 7]
[--brute-sample 12] [--walk-sample 1000] [--sla-sample 2000]``
(public holidays come from the ``holidays`` package: ``pip install "crmkit[holidays]"``).

Every contender computes the same deadlines: for each of ``--cases`` complaints filed at random
minutes of 2026, the instant when a target's business time is up on a London support calendar
(Monday to Friday, 09:00-12:30 and 13:30-18:00, England's bank holidays, an office closure,
and both 2026 daylight-saving changes). Three targets, as business time: 4 hours, 5 days and
30 days (``timedelta(days=30)`` of business time: 90 working days of 8 hours).

* ``crmkit``: ``BusinessCalendar.add_business_time`` for every case: a binary search in the
  calendar's cached index of business time per day, so the cost should not grow with the target;
* ``crmkit sla_status``: the full ``sla_status(case, policy, calendar, now)`` (both clocks, with
  their pauses, warning instants and escalations; the resolution target twice the measured one)
  on ``--sla-sample`` complaints filed beforehand; the first response deadline is compared;
* ``day-by-day walk``: the algorithm crmkit had before, walking every working period one after
  the other, on ``--walk-sample`` cases;
* ``brute force``: step one minute at a time, reading the calendar's data (local weekday and
  wall time against the weekly hours, holidays, closures), until the target's minutes are
  counted; on ``--brute-sample`` cases only, since one 30-day deadline scans about 180,000
  minutes.

Sampled contenders are timed on their sample and extrapolated to deadlines per second (the
table says which). All contenders' deadlines are checked to agree, case by case, before
anything is timed. Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from datetime import time as clock_time
from typing import Any

from crmkit.kernel.calendar import BusinessCalendar, Closure
from crmkit.service import Complaint, ComplaintPolicy
from crmkit.service.sla import SlaPolicy, sla_status

UTC = timezone.utc
MINUTE = timedelta(minutes=1)
TARGETS = {
    "4 hours": timedelta(hours=4),
    "5 days": timedelta(days=5),
    "30 days": timedelta(days=30),
}
POLICY = ComplaintPolicy(categories=["delivery"])


def build_calendar() -> BusinessCalendar:
    london = BusinessCalendar.office_hours(
        "Europe/London", ("09:00", "12:30"), ("13:30", "18:00"), name="London support"
    )
    move = Closure(
        start=datetime(2026, 6, 12, 13, 30, tzinfo=london.zone),
        end=datetime(2026, 6, 15, 12, 30, tzinfo=london.zone),
        reason="office move",
    )
    return london.with_public_holidays("GB", years=[2026, 2027], subdivision="ENG").with_closures(
        move
    )


def build_starts(seed: int, n: int) -> list[datetime]:
    rng = random.Random(seed)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return [first + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(n)]


# ----- the contenders ------------------------------------------------------------------------


def crmkit_deadlines(
    calendar: BusinessCalendar, starts: Sequence[datetime], target: timedelta
) -> list[datetime]:
    add = calendar.add_business_time
    return [add(start, target) for start in starts]


def day_walk_deadlines(
    calendar: BusinessCalendar, starts: Sequence[datetime], target: timedelta
) -> list[datetime]:
    found = []
    for start in starts:
        remaining = target
        for begin, finish in calendar._intervals(start.astimezone(calendar.zone).date()):
            if finish <= start:
                continue
            begin = max(begin, start)
            if finish - begin >= remaining:
                found.append((begin + remaining).astimezone(calendar.zone))
                break
            remaining -= finish - begin
    return found


def brute_force_deadlines(
    calendar: BusinessCalendar, starts: Sequence[datetime], target: timedelta
) -> list[datetime]:
    zone = calendar.zone
    holidays = frozenset(calendar.holidays)
    closures = [(c.start, c.end) for c in calendar.closures]
    by_day: dict[int, list[tuple[clock_time, clock_time | None]]] = {}
    for hours in calendar.hours:
        end = None if hours.end == clock_time(0) else hours.end
        by_day.setdefault(hours.weekday.number, []).append((hours.start, end))
    minutes = target // MINUTE

    def working(minute: datetime) -> bool:
        for shut, reopen in closures:
            if shut <= minute < reopen:
                return False
        local = minute.astimezone(zone)
        if local.date() in holidays:
            return False
        wall = local.time().replace(tzinfo=None, fold=0)
        return any(
            begin <= wall and (end is None or wall < end)
            for begin, end in by_day.get(local.weekday(), ())
        )

    found = []
    for start in starts:
        count, minute = 0, start
        while True:
            if working(minute):
                count += 1
                if count == minutes:
                    found.append((minute + MINUTE).astimezone(zone))
                    break
            minute += MINUTE
    return found


def file_cases(starts: Sequence[datetime]) -> list[Complaint]:
    return [
        Complaint.file(
            id=f"case_{i}",
            reference=f"CS-{i}",
            now=start,
            channel="email",
            customer_id="cus_1",
            subject="x",
            category="delivery",
            impact="medium",
            urgency="medium",
            policy=POLICY,
        )
        for i, start in enumerate(starts)
    ]


def sla_deadlines(
    calendar: BusinessCalendar, cases: Sequence[Complaint], target: timedelta
) -> list[datetime]:
    policy = SlaPolicy(name="bench", first_response=target, resolution=target * 2)
    return [sla_status(c, policy, calendar, c.filed_at).first_response.deadline for c in cases]


# ----- timing --------------------------------------------------------------------------------


def timed(
    fn: Callable[[BusinessCalendar, Sequence[Any], timedelta], list[datetime]],
    calendar: BusinessCalendar,
    items: Sequence[Any],
    target: timedelta,
    rounds: int,
) -> tuple[float, list[datetime]]:
    """Best seconds per deadline over ``rounds`` runs, and the deadlines."""
    best = float("inf")
    result: list[datetime] = []
    for _ in range(rounds):
        begin = time.perf_counter()
        result = fn(calendar, items, target)
        best = min(best, (time.perf_counter() - begin) / len(items))
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--brute-sample", type=int, default=12)
    parser.add_argument("--walk-sample", type=int, default=1000)
    parser.add_argument("--sla-sample", type=int, default=2000)
    args = parser.parse_args()

    calendar = build_calendar()
    starts = build_starts(args.seed, args.cases)
    cases = file_cases(starts[: args.sla_sample])
    crmkit_deadlines(calendar, starts[:10], timedelta(hours=1))  # warm the zone caches
    print(
        f"{args.cases:,} complaints filed at random minutes of 2026 on {calendar.name!r} "
        f"({calendar.timezone}, {calendar.weekly_hours / timedelta(hours=1):g} h a week, "
        f"{len(calendar.holidays)} "
        "holidays, one closure)"
    )
    header = f"{'target':<9}{'contender':<22}{'cases':>8}{'deadlines/s':>14}{'vs brute':>11}"
    rows = []
    per_target: dict[str, float] = {}
    for label, target in TARGETS.items():
        crm, crm_result = timed(crmkit_deadlines, calendar, starts, target, args.rounds)
        brute_n = min(args.brute_sample, len(starts))
        brute, brute_result = timed(brute_force_deadlines, calendar, starts[:brute_n], target, 1)
        walk_n = min(args.walk_sample, len(starts))
        walk, walk_result = timed(day_walk_deadlines, calendar, starts[:walk_n], target, 1)
        sla_n = min(args.sla_sample, len(starts))
        sla, sla_result = timed(sla_deadlines, calendar, cases[:sla_n], target, 1)
        assert brute_result == crm_result[:brute_n], f"{label}: crmkit disagrees with brute force"
        assert walk_result == crm_result[:walk_n], f"{label}: crmkit disagrees with the walk"
        assert sla_result == crm_result[:sla_n], f"{label}: sla_status disagrees"
        per_target[label] = crm
        for name, seconds, n in (
            ("crmkit", crm, len(starts)),
            ("crmkit sla_status", sla, sla_n),
            ("day-by-day walk", walk, walk_n),
            ("brute force", brute, brute_n),
        ):
            sampled = "" if n == len(starts) else " *"
            rows.append(
                f"{label:<9}{name:<22}{n:>8,}{1 / seconds:>14,.0f}{brute / seconds:>10,.0f}x"
                f"{sampled}"
            )
    print("all contenders agree on every deadline they computed\n")
    print(header)
    print("\n".join(rows))
    print(
        "\n* timed on that many cases and extrapolated to deadlines per second "
        f"(crmkit: best of {args.rounds} rounds over all cases)"
    )
    short = per_target["4 hours"]
    print(
        "crmkit time per deadline relative to the 4-hour target: "
        + ", ".join(f"{label} {seconds / short:.2f}x" for label, seconds in per_target.items())
    )


if __name__ == "__main__":
    main()
