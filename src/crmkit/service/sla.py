"""Service levels as data, and clocks computed on read from a case's status history.

An :class:`SlaPolicy` sets the first-response and resolution targets in *business time* on a
:class:`~crmkit.kernel.calendar.BusinessCalendar`, which statuses pause the clock (by default
``awaiting_customer``), the share of a target at which it warns (80%), and escalation levels
(owner -> team lead -> manager), each with its own timer. An :class:`SlaPolicySet` picks the
policy for a case by priority, customer tier and channel.

:func:`sla_status` is a pure function of (policy, calendar, the case's status history, now):
nothing about the clock is stored, so changing a policy or a calendar mid-flight loses no paused
time. Each :class:`SlaClock` explains itself: when it started, each pause, the calendar, the
target, the business time elapsed and remaining, the deadline and its state (``ok``,
``warning``, ``breached``, ``met``). ``Complaint.record_breaches`` records each breach once.

Example:
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from crmkit.kernel.calendar import BusinessCalendar
    >>> from crmkit.service import Complaint, ComplaintPolicy
    >>> tpe = ZoneInfo("Asia/Taipei")
    >>> calendar = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"), name="TPE")
    >>> policy = SlaPolicy(name="standard", first_response=timedelta(hours=4),
    ...                    resolution=timedelta(hours=27))
    >>> filed = datetime(2026, 1, 2, 16, 0, tzinfo=tpe)          # a Friday, 16:00
    >>> case = Complaint.file(id="case_1", reference="CS-1001", now=filed, channel="chat",
    ...     customer_id="cus_1", subject="Wrong size", category="returns", impact="low",
    ...     urgency="medium", policy=ComplaintPolicy(categories=["returns"]))
    >>> status = sla_status(case, policy, calendar, filed + timedelta(hours=1))
    >>> status.first_response.deadline.isoformat()  # 2 h on Friday + 2 h on Monday
    '2026-01-05T11:00:00+08:00'
    >>> status.first_response.elapsed, status.first_response.state.value
    (datetime.timedelta(seconds=3600), 'ok')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.time import ensure_aware
from crmkit.service._enums import (
    CLOCK_STOPPING_STATUSES,
    CaseStatus,
    Channel,
    Priority,
    SlaTarget,
)
from crmkit.service._model import Complaint
from crmkit.service._policy import tuple_of

__all__ = [
    "EscalationLevel",
    "EscalationStatus",
    "SlaClock",
    "SlaPause",
    "SlaPolicy",
    "SlaPolicySet",
    "SlaRule",
    "SlaSelection",
    "SlaState",
    "SlaStatus",
    "SlaTarget",
    "sla_status",
]

_ZERO = timedelta(0)
_US = timedelta(microseconds=1)


class SlaState(StrEnum):
    """Where a clock stands.

    ``ok``; ``warning`` (past the warning share); ``breached`` (its deadline passed unmet);
    ``met`` (stopped in time).

    Example:
        >>> [s.value for s in SlaState]
        ['ok', 'warning', 'breached', 'met']

    .. versionadded:: 0.1.0
    """

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


def _name(field: str) -> Any:
    return attrs.field(converter=v.strip, validator=v.text(100))


def _positive(_instance: object, attribute: attrs.Attribute[timedelta], value: Any) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError(
            f"must be a timedelta, not {type(value).__name__}", path=attribute.name
        )
    if value <= _ZERO:
        raise ValidationError(f"must be more than zero, got {value}", path=attribute.name)


def _target(value: object) -> SlaTarget:
    return v.to_enum(SlaTarget, "target")(value)


@attrs.frozen(kw_only=True)
class EscalationLevel:
    """Who to alert when a target's clock has run ``after`` of business time.

    A team lead, then a manager, each with their own timer (the owner is alerted by the
    warning itself).

    Example:
        >>> from datetime import timedelta
        >>> EscalationLevel(level="team_lead", target="resolution", after=timedelta(hours=16),
        ...                 notify="team_lead").after
        datetime.timedelta(seconds=57600)

    .. versionadded:: 0.1.0
    """

    level: str = _name("level")
    target: SlaTarget = attrs.field(converter=_target)
    after: timedelta = attrs.field(validator=_positive)
    notify: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )


def _pause_statuses(value: object) -> tuple[CaseStatus, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of statuses, not {type(value).__name__}", path="pause_statuses"
        )
    found: dict[CaseStatus, None] = {}
    for i, item in enumerate(value):
        status = v.to_enum(CaseStatus, f"pause_statuses[{i}]")(item)
        if status in CLOCK_STOPPING_STATUSES or status is CaseStatus.NEW:
            raise ValidationError(
                f"{status.value!r} cannot pause a clock: only 'acknowledged', 'in_progress' or "
                "'awaiting_customer' can (resolving stops the clock anyway)",
                path=f"pause_statuses[{i}]",
            )
        found.setdefault(status, None)
    return tuple(found)


def _share(value: object) -> Decimal:
    if isinstance(value, float):
        raise ValidationError(f"must be a Decimal or str, not float ({value!r})", path="warn_at")
    try:
        share = Decimal(value) if isinstance(value, (str, int)) else value
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{value!r} is not a number", path="warn_at") from None
    if not isinstance(share, Decimal) or isinstance(value, bool):
        raise ValidationError(
            f"must be a Decimal or str, not {type(value).__name__}", path="warn_at"
        )
    if not share.is_finite() or not Decimal(0) < share <= Decimal(1):
        raise ValidationError(
            f"must be a share of the target above 0 and at most 1, got {value}", path="warn_at"
        )
    return share


def _levels(value: object) -> tuple[EscalationLevel, ...]:
    return tuple_of(EscalationLevel, "escalations", value)


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """Targets in business time for the first response and the resolution, and their rules.

    Example:
        >>> from datetime import timedelta
        >>> gold = SlaPolicy(name="gold", first_response=timedelta(hours=4),
        ...     resolution=timedelta(hours=24), warn_at="0.75", escalations=[
        ...         EscalationLevel(level="team_lead", target="resolution",
        ...                         after=timedelta(hours=16), notify="team_lead"),
        ...         EscalationLevel(level="manager", target="resolution",
        ...                         after=timedelta(hours=24), notify="service_manager")])
        >>> gold.target("first_response"), [p.value for p in gold.pause_statuses]
        (datetime.timedelta(seconds=14400), ['awaiting_customer'])

    .. versionadded:: 0.1.0
    """

    name: str = _name("name")
    first_response: timedelta = attrs.field(validator=_positive)
    resolution: timedelta = attrs.field(validator=_positive)
    pause_statuses: tuple[CaseStatus, ...] = attrs.field(
        default=(CaseStatus.AWAITING_CUSTOMER,), converter=_pause_statuses
    )
    warn_at: Decimal = attrs.field(default=Decimal("0.8"), converter=_share)
    escalations: tuple[EscalationLevel, ...] = attrs.field(default=(), converter=_levels)

    def __attrs_post_init__(self) -> None:
        keys = [(e.target, e.level) for e in self.escalations]
        twice = sorted({f"{t.value}/{lvl}" for t, lvl in keys if keys.count((t, lvl)) > 1})
        if twice:
            raise DefinitionError(
                f"SLA policy {self.name!r} defines escalation level(s) {', '.join(twice)} more "
                "than once"
            )

    def target(self, kind: SlaTarget | str) -> timedelta:
        """The business time allowed for ``kind`` (first response or resolution).

        Example:
            >>> from datetime import timedelta
            >>> SlaPolicy(name="std", first_response=timedelta(hours=24),
            ...           resolution=timedelta(days=5)).target("resolution")
            datetime.timedelta(days=5)
        """
        kind = _target(kind)
        return self.first_response if kind is SlaTarget.FIRST_RESPONSE else self.resolution


def _priorities(value: object) -> tuple[Priority, ...]:
    found: tuple[Priority, ...] = _enum_tuple(Priority, "priorities", value)
    return found


def _channels(value: object) -> tuple[Channel, ...]:
    found: tuple[Channel, ...] = _enum_tuple(Channel, "channels", value)
    return found


def _tiers(value: object) -> tuple[str, ...]:
    return v.text_tuple("tiers", lambda s: s.casefold(), max_items=50)(value)


def _case_status(value: object) -> CaseStatus:
    return v.to_enum(CaseStatus, "status")(value)


def _enum_tuple(cls: Any, field: str, value: object) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"must be a list, not {type(value).__name__}", path=field)
    found: dict[Any, None] = {}
    for i, item in enumerate(value):
        found.setdefault(v.to_enum(cls, f"{field}[{i}]")(item), None)
    return tuple(found)


@attrs.frozen(kw_only=True)
class SlaRule:
    """Which cases get the policy named ``policy``: by priority, customer tier and channel.

    An empty condition matches every case; the first matching rule of a set wins.

    Example:
        >>> rule = SlaRule(name="gold members", policy="gold", tiers=["gold", "platinum"])
        >>> rule.matches(priority="low", tier="Gold", channel="email")
        "tier 'Gold' matched"
        >>> rule.matches(priority="low", tier=None, channel="email") is None
        True

    .. versionadded:: 0.1.0
    """

    name: str = _name("name")
    policy: str = _name("policy")
    priorities: tuple[Priority, ...] = attrs.field(default=(), converter=_priorities)
    tiers: tuple[str, ...] = attrs.field(default=(), converter=_tiers)
    channels: tuple[Channel, ...] = attrs.field(default=(), converter=_channels)

    def matches(
        self, *, priority: Priority | str, tier: str | None, channel: Channel | str
    ) -> str | None:
        """Why a case with this priority, tier and channel matches, or ``None``.

        Example:
            >>> SlaRule(name="urgent", policy="p1", priorities=["critical"]).matches(
            ...     priority="critical", tier=None, channel="phone")
            "priority 'critical' matched"
        """
        priority = v.to_enum(Priority, "priority")(priority)
        channel = v.to_enum(Channel, "channel")(channel)
        why = []
        if self.priorities:
            if priority not in self.priorities:
                return None
            why.append(f"priority {priority.value!r} matched")
        if self.tiers:
            if tier is None or tier.strip().casefold() not in self.tiers:
                return None
            why.append(f"tier {tier!r} matched")
        if self.channels:
            if channel not in self.channels:
                return None
            why.append(f"channel {channel.value!r} matched")
        return "; ".join(why) if why else "matches every case"


@attrs.frozen(kw_only=True)
class SlaSelection:
    """The policy chosen for a case, the rule that chose it, and why.

    Example:
        >>> from datetime import timedelta
        >>> std = SlaPolicy(name="std", first_response=timedelta(hours=24),
        ...                 resolution=timedelta(days=5))
        >>> SlaSelection(policy=std, rule="default", reason="no rule matched").policy.name
        'std'

    .. versionadded:: 0.1.0
    """

    policy: SlaPolicy
    rule: str
    reason: str


def _policies(value: object) -> tuple[SlaPolicy, ...]:
    return tuple_of(SlaPolicy, "policies", value)


def _rules(value: object) -> tuple[SlaRule, ...]:
    return tuple_of(SlaRule, "rules", value)


@attrs.frozen(kw_only=True)
class SlaPolicySet:
    """Named policies, the rules that pick one per case (first match wins), and the default.

    Example:
        >>> from datetime import timedelta
        >>> policies = SlaPolicySet(default="standard", policies=[
        ...     SlaPolicy(name="standard", first_response=timedelta(hours=24),
        ...               resolution=timedelta(days=5)),
        ...     SlaPolicy(name="gold", first_response=timedelta(hours=4),
        ...               resolution=timedelta(days=2))],
        ...     rules=[SlaRule(name="gold members", policy="gold", tiers=["gold"])])
        >>> chosen = policies.select_for(priority="medium", tier="gold", channel="email")
        >>> chosen.policy.name, chosen.reason
        ('gold', "tier 'gold' matched")
        >>> policies.select_for(priority="medium", tier=None, channel="email").policy.name
        'standard'

    .. versionadded:: 0.1.0
    """

    policies: tuple[SlaPolicy, ...] = attrs.field(converter=_policies)
    default: str = _name("default")
    rules: tuple[SlaRule, ...] = attrs.field(default=(), converter=_rules)

    def __attrs_post_init__(self) -> None:
        names = [p.name for p in self.policies]
        problems = []
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(f"SLA policy {', '.join(map(repr, twice))} is defined more than once")
        rule_names = [r.name for r in self.rules]
        twice = sorted({n for n in rule_names if rule_names.count(n) > 1})
        if twice:
            problems.append(f"SLA rule {', '.join(map(repr, twice))} is defined more than once")
        if self.default not in names:
            problems.append(f"the default policy {self.default!r} is not one of the policies")
        for rule in self.rules:
            if rule.policy not in names:
                problems.append(f"rule {rule.name!r} names unknown policy {rule.policy!r}")
        if problems:
            raise DefinitionError("; ".join(problems))

    def policy(self, name: str) -> SlaPolicy:
        """The policy called ``name``.

        Example:
            >>> from datetime import timedelta
            >>> SlaPolicySet(default="std", policies=[SlaPolicy(name="std",
            ...     first_response=timedelta(hours=8), resolution=timedelta(hours=40))]
            ...     ).policy("std").first_response
            datetime.timedelta(seconds=28800)
        """
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise ValidationError(
            f"{name!r} is not one of the policies {', '.join(p.name for p in self.policies)}",
            path="name",
        )

    def select_for(
        self, *, priority: Priority | str, channel: Channel | str, tier: str | None = None
    ) -> SlaSelection:
        """The policy for a case with this priority, channel and customer tier.

        Example:
            >>> from datetime import timedelta
            >>> one = SlaPolicySet(default="std", policies=[SlaPolicy(name="std",
            ...     first_response=timedelta(hours=8), resolution=timedelta(hours=40))])
            >>> one.select_for(priority="low", channel="chat").reason
            'no rule matched: the default policy'
        """
        for rule in self.rules:
            why = rule.matches(priority=priority, tier=tier, channel=channel)
            if why is not None:
                return SlaSelection(policy=self.policy(rule.policy), rule=rule.name, reason=why)
        return SlaSelection(
            policy=self.policy(self.default),
            rule="default",
            reason="no rule matched: the default policy",
        )

    def select(self, case: Complaint) -> SlaSelection:
        """The policy for ``case`` (its priority, customer tier and channel).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.service._model import _example
            >>> one = SlaPolicySet(default="std", policies=[SlaPolicy(name="std",
            ...     first_response=timedelta(hours=8), resolution=timedelta(hours=40))])
            >>> one.select(_example()).policy.name
            'std'
        """
        if not isinstance(case, Complaint):
            raise ValidationError(f"must be a Complaint, not {type(case).__name__}", path="case")
        return self.select_for(
            priority=case.priority, channel=case.channel, tier=case.customer_tier
        )


# ----- the clock -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SlaPause:
    """A span during which a clock did not run.

    The status, from, to (``None``: still paused), and the business time it held back.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> at = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
        >>> SlaPause(status="awaiting_customer", start=at, end=None,
        ...          business_time=timedelta(hours=2)).end is None
        True

    .. versionadded:: 0.1.0
    """

    status: CaseStatus = attrs.field(converter=_case_status)
    start: datetime
    end: datetime | None
    business_time: timedelta


@attrs.frozen(kw_only=True)
class EscalationStatus:
    """An escalation level on a clock: when it falls due, and whether it has.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> due = datetime(2026, 1, 6, 10, tzinfo=timezone.utc)
        >>> EscalationStatus(level="team_lead", notify="team_lead", after=timedelta(hours=16),
        ...                  due_at=due, reached=False).reached
        False

    .. versionadded:: 0.1.0
    """

    level: str
    notify: str | None
    after: timedelta
    due_at: datetime
    reached: bool


@attrs.frozen(kw_only=True)
class SlaClock:
    """One target's clock, explained: start, pauses, stop, elapsed, remaining, deadline, state.

    ``elapsed`` is business time the clock ran (``timedelta(0)`` when none); ``remaining`` and
    ``overdue`` are never negative. ``deadline`` is the earliest instant at which the target's
    business time will have run, given the pauses so far (for a stopped clock: the deadline in
    force when it stopped). While the clock is paused nobody knows when it will resume, and the
    deadline shown is the one if it resumed now (``deadline_projected``).

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.service._model import _example
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
        >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=2),
        ...                    resolution=timedelta(hours=16))
        >>> case = _example()           # filed Monday 2026-01-05 09:00 UTC
        >>> clock = sla_status(case, policy, cal, case.filed_at).first_response
        >>> clock.elapsed, clock.remaining, clock.deadline.isoformat()
        (datetime.timedelta(0), datetime.timedelta(seconds=7200), '2026-01-05T11:00:00+00:00')

    .. versionadded:: 0.1.0
    """

    target: SlaTarget
    duration: timedelta
    started_at: datetime
    pauses: tuple[SlaPause, ...]
    paused: bool
    stopped_at: datetime | None
    stopped_by: str | None
    elapsed: timedelta
    remaining: timedelta
    overdue: timedelta
    deadline: datetime
    deadline_projected: bool
    warn_at: Decimal
    warning_at: datetime
    state: SlaState
    escalations: tuple[EscalationStatus, ...]

    def explain(self) -> str:
        """A few lines that say how the clock reached its state.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.service._model import _example
            >>> from crmkit.kernel.calendar import BusinessCalendar
            >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
            >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=2),
            ...                    resolution=timedelta(hours=16))
            >>> case = _example()
            >>> print(sla_status(case, policy, cal, case.filed_at + timedelta(hours=1)
            ...                  ).first_response.explain())
            first_response: ok; target 2h00m of business time
              started 2026-01-05T09:00:00+00:00
              elapsed 1h00m, remaining 1h00m, deadline 2026-01-05T11:00:00+00:00
        """
        lines = [
            f"{self.target.value}: {self.state.value}; target {_hm(self.duration)} of business "
            "time",
            f"  started {self.started_at.isoformat()}",
        ]
        for pause in self.pauses:
            until = "now" if pause.end is None else pause.end.isoformat()
            lines.append(
                f"  paused {pause.start.isoformat()} to {until} ({pause.status.value}, "
                f"{_hm(pause.business_time)} of business time)"
            )
        if self.stopped_at is not None:
            lines.append(f"  stopped {self.stopped_at.isoformat()} ({self.stopped_by})")
        deadline = self.deadline.isoformat() + (
            " if resumed now" if self.deadline_projected else ""
        )
        tail = f", overdue {_hm(self.overdue)}" if self.overdue else ""
        lines.append(
            f"  elapsed {_hm(self.elapsed)}, remaining {_hm(self.remaining)}{tail}, "
            f"deadline {deadline}"
        )
        for level in self.escalations:
            lines.append(
                f"  escalation {level.level!r} after {_hm(level.after)}: due "
                f"{level.due_at.isoformat()}{' (reached)' if level.reached else ''}"
            )
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class SlaStatus:
    """Both clocks of a case at ``now``, the policy and the calendar they were computed with.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.service._model import _example
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"), name="HQ")
        >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=2),
        ...                    resolution=timedelta(hours=16))
        >>> case = _example()
        >>> status = sla_status(case, policy, cal, case.filed_at + timedelta(hours=3))
        >>> [c.state.value for c in status.clocks], status.calendar
        (['breached', 'ok'], 'HQ')

    .. versionadded:: 0.1.0
    """

    case_id: str
    reference: str
    policy: str
    calendar: str | None
    timezone: str
    computed_at: datetime
    first_response: SlaClock
    resolution: SlaClock

    @property
    def clocks(self) -> tuple[SlaClock, SlaClock]:
        """The first-response and the resolution clocks."""
        return (self.first_response, self.resolution)

    def explain(self) -> str:
        """Every clock explained, under a line naming the case, the policy and the calendar.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.service._model import _example
            >>> from crmkit.kernel.calendar import BusinessCalendar
            >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
            >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=2),
            ...                    resolution=timedelta(hours=16))
            >>> case = _example()
            >>> print(sla_status(case, policy, cal, case.filed_at).explain().splitlines()[0])
            case 'CS-1001' under SLA policy 'std', calendar (unnamed) in UTC, at ...
        """
        name = "(unnamed)" if self.calendar is None else repr(self.calendar)
        head = (
            f"case {self.reference!r} under SLA policy {self.policy!r}, calendar {name} in "
            f"{self.timezone}, at {self.computed_at.isoformat()}"
        )
        return "\n".join([head, *(clock.explain() for clock in self.clocks)])


def _hm(value: timedelta) -> str:
    minutes = value // timedelta(minutes=1)
    rest = value - timedelta(minutes=minutes)
    text = f"{minutes // 60}h{minutes % 60:02d}m"
    if rest:
        text += f"{rest.total_seconds():.0f}s" if rest >= timedelta(seconds=1) else "+"
    return text


def _share_of(duration: timedelta, share: Decimal) -> timedelta:
    micro = Decimal(duration // _US) * share
    return timedelta(microseconds=int(micro.to_integral_value(rounding=ROUND_CEILING)))


@attrs.frozen
class _Segment:
    status: CaseStatus
    start: datetime
    end: datetime | None  # None: still in this status at ``now``


def _segments(case: Complaint, now: datetime) -> list[_Segment]:
    history = [change for change in case.status_history if change.at <= now]
    segments: list[_Segment] = []
    for i, change in enumerate(history):
        end = history[i + 1].at if i + 1 < len(history) else None
        start = max(change.at, case.filed_at)
        if end is not None and end < start:
            continue
        segments.append(_Segment(change.new, start, end))
    return segments


def _clock(
    target: SlaTarget,
    case: Complaint,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    now: datetime,
) -> SlaClock:
    zone = calendar.zone
    duration = policy.target(target)
    start = case.filed_at
    segments = _segments(case, now)
    stop: datetime | None = None
    stopped_by: str | None = None
    if target is SlaTarget.FIRST_RESPONSE:
        if case.first_response_at is not None and start <= case.first_response_at <= now:
            stop, stopped_by = case.first_response_at, "first reply"
        for segment in segments:
            if segment.status in CLOCK_STOPPING_STATUSES and (stop is None or segment.start < stop):
                stop, stopped_by = segment.start, segment.status.value
                break
    elif segments and segments[-1].status in CLOCK_STOPPING_STATUSES:
        stop, stopped_by = segments[-1].start, segments[-1].status.value
    end_of_clock = now if stop is None else stop
    running: list[tuple[datetime, datetime]] = []
    pauses: list[SlaPause] = []
    open_running: datetime | None = None
    for segment in segments:
        begin = segment.start
        ongoing = stop is None and segment.end is None  # the status the case is in at ``now``
        finish = end_of_clock if segment.end is None else min(segment.end, end_of_clock)
        if not ongoing and finish <= begin:
            continue  # after the stop, or left at the instant it was entered
        if segment.status in policy.pause_statuses or segment.status in CLOCK_STOPPING_STATUSES:
            pauses.append(
                SlaPause(
                    status=segment.status,
                    start=begin.astimezone(zone),
                    end=None if ongoing else finish.astimezone(zone),
                    business_time=calendar.business_time_between(begin, finish),
                )
            )
        elif ongoing:
            open_running = begin
        else:
            running.append((begin, finish))
    if not segments and start <= now:  # a hand-built case without history: it ran all along
        open_running = start
    elapsed = sum((calendar.business_time_between(a, b) for a, b in running), _ZERO)
    if open_running is not None:
        elapsed += calendar.business_time_between(open_running, now)
    paused = stop is None and open_running is None and start <= now
    tail = open_running if open_running is not None else max(end_of_clock, start)

    def instant_at(amount: timedelta) -> tuple[datetime, bool]:
        """When the clock reaches ``amount``, and whether that is fixed (not a projection)."""
        spent = _ZERO
        for a, b in running:
            held = calendar.business_time_between(a, b)
            if spent + held >= amount:
                return calendar.add_business_time(a, amount - spent), True
            spent += held
        fixed = open_running is not None or stop is not None or start > now
        return calendar.add_business_time(tail, amount - spent), fixed

    deadline, fixed = instant_at(duration)
    warn = _share_of(duration, policy.warn_at)
    warning_at, _ = instant_at(warn)
    breached = fixed and deadline < end_of_clock
    if breached:
        state = SlaState.BREACHED
    elif stop is not None:
        state = SlaState.MET
    elif elapsed >= warn:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    levels = []
    for level in policy.escalations:
        if level.target is not target:
            continue
        due, due_fixed = instant_at(level.after)
        levels.append(
            EscalationStatus(
                level=level.level,
                notify=level.notify,
                after=level.after,
                due_at=due.astimezone(zone),
                reached=due_fixed and due < end_of_clock,
            )
        )
    return SlaClock(
        target=target,
        duration=duration,
        started_at=start.astimezone(zone),
        pauses=tuple(pauses),
        paused=paused,
        stopped_at=None if stop is None else stop.astimezone(zone),
        stopped_by=stopped_by,
        elapsed=elapsed,
        remaining=max(duration - elapsed, _ZERO),
        overdue=max(elapsed - duration, _ZERO),
        deadline=deadline.astimezone(zone),
        deadline_projected=not fixed,
        warn_at=policy.warn_at,
        warning_at=warning_at.astimezone(zone),
        state=state,
        escalations=tuple(levels),
    )


def sla_status(
    case: Complaint, policy: SlaPolicy, calendar: BusinessCalendar, now: datetime
) -> SlaStatus:
    """Both SLA clocks of ``case`` at ``now``, computed from its status history.

    Pure: the same case, policy, calendar and ``now`` give the same answer, and history after
    ``now`` is ignored (so a past ``now`` replays the clock as it was).

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.service._model import _example
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
        >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=2),
        ...                    resolution=timedelta(hours=16))
        >>> case = _example(acknowledged=True)   # filed and acknowledged Mon 09:00
        >>> case.reply("Looking into it", now=case.filed_at + timedelta(hours=1), by="u_amy",
        ...            wait_for_customer=True)
        >>> status = sla_status(case, policy, cal, case.filed_at + timedelta(hours=3))
        >>> status.first_response.state.value, status.resolution.paused
        ('met', True)
        >>> status.resolution.elapsed
        datetime.timedelta(seconds=3600)

    .. versionadded:: 0.1.0
    """
    if not isinstance(case, Complaint):
        raise ValidationError(f"must be a Complaint, not {type(case).__name__}", path="case")
    if not isinstance(policy, SlaPolicy):
        raise ValidationError(f"must be an SlaPolicy, not {type(policy).__name__}", path="policy")
    if not isinstance(calendar, BusinessCalendar):
        raise ValidationError(
            f"must be a BusinessCalendar, not {type(calendar).__name__}", path="calendar"
        )
    now = ensure_aware(now, "now")
    return SlaStatus(
        case_id=case.id,
        reference=case.reference,
        policy=policy.name,
        calendar=calendar.name,
        timezone=calendar.timezone,
        computed_at=now,
        first_response=_clock(SlaTarget.FIRST_RESPONSE, case, policy, calendar, now),
        resolution=_clock(SlaTarget.RESOLUTION, case, policy, calendar, now),
    )
