"""Complaint handling as data: categories, priority matrix, reopen window, compensation limits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, TypeVar

import attrs

from crmkit.errors import DefinitionError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.service._enums import CompensationKind, Impact, Priority, Urgency

__all__ = ["CompensationLimit", "ComplaintPolicy", "PriorityCell", "PriorityMatrix"]

T = TypeVar("T")


def tuple_of(cls: type[T], field: str, value: object) -> tuple[T, ...]:
    """Check that ``value`` is a list of ``cls`` and return it as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
            )
    return items


def _impact(value: object) -> Impact:
    return v.to_enum(Impact, "impact")(value)


def _urgency(value: object) -> Urgency:
    return v.to_enum(Urgency, "urgency")(value)


def _priority(value: object) -> Priority:
    return v.to_enum(Priority, "priority")(value)


@attrs.frozen
class PriorityCell:
    """One cell of the priority matrix: this impact with this urgency gives this priority.

    Example:
        >>> PriorityCell("high", "high", "critical").priority
        <Priority.CRITICAL: 'critical'>

    .. versionadded:: 0.1.0
    """

    impact: Impact = attrs.field(converter=_impact)
    urgency: Urgency = attrs.field(converter=_urgency)
    priority: Priority = attrs.field(converter=_priority)


def _cells(value: object) -> tuple[PriorityCell, ...]:
    return tuple_of(PriorityCell, "cells", value)


_DEFAULT_CELLS = (
    ("high", "high", "critical"),
    ("high", "medium", "high"),
    ("high", "low", "medium"),
    ("medium", "high", "high"),
    ("medium", "medium", "medium"),
    ("medium", "low", "low"),
    ("low", "high", "medium"),
    ("low", "medium", "low"),
    ("low", "low", "low"),
)


@attrs.frozen
class PriorityMatrix:
    """Impact x urgency -> priority, every one of the nine pairs given exactly once.

    Example:
        >>> matrix = PriorityMatrix.default()
        >>> matrix.priority("high", "medium"), matrix.priority(Impact.LOW, Urgency.LOW)
        (<Priority.HIGH: 'high'>, <Priority.LOW: 'low'>)
        >>> PriorityMatrix([PriorityCell("high", "high", "critical")])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: the priority matrix misses 8 of the 9 impact x urgency ...

    .. versionadded:: 0.1.0
    """

    cells: tuple[PriorityCell, ...] = attrs.field(converter=_cells)
    _table: dict[tuple[Impact, Urgency], Priority] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        table: dict[tuple[Impact, Urgency], Priority] = {}
        twice = []
        for cell in self.cells:
            key = (cell.impact, cell.urgency)
            if key in table:
                twice.append(f"{cell.impact.value} x {cell.urgency.value}")
            table[key] = cell.priority
        missing = [f"{i.value} x {u.value}" for i in Impact for u in Urgency if (i, u) not in table]
        problems = []
        if missing:
            problems.append(
                f"the priority matrix misses {len(missing)} of the 9 impact x urgency pairs: "
                + ", ".join(missing)
            )
        if twice:
            problems.append("the priority matrix gives " + ", ".join(twice) + " more than once")
        if problems:
            raise DefinitionError("; ".join(problems))
        object.__setattr__(self, "_table", table)

    @classmethod
    def default(cls) -> PriorityMatrix:
        """The usual ITIL-style matrix: high x high is critical, low x low is low.

        Example:
            >>> PriorityMatrix.default().priority("medium", "high").value
            'high'
        """
        return cls([PriorityCell(*cell) for cell in _DEFAULT_CELLS])

    def priority(self, impact: Impact | str, urgency: Impact | Urgency | str) -> Priority:
        """The priority of a problem with this ``impact`` and ``urgency``.

        Example:
            >>> PriorityMatrix.default().priority("low", "high").value
            'medium'
        """
        return self._table[(_impact(impact), _urgency(urgency))]


def _role(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="role")
    return check_id(value.strip(), "role")


def _kind(value: object) -> CompensationKind:
    return v.to_enum(CompensationKind, "kind")(value)


def _optional_money(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None:
        if not isinstance(value, Money):
            raise ValidationError(
                f"must be Money or None, not {type(value).__name__}", path="max_amount"
            )
        if value.amount <= 0:
            raise ValidationError(f"must be more than zero, got {value}", path="max_amount")


def _optional_points(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"must be a positive int or None, got {value!r}", path="max_points")


@attrs.frozen(kw_only=True)
class CompensationLimit:
    """The most an approver with ``role`` may grant of one kind of compensation.

    Money kinds (refund, voucher, upgrade, replacement) set ``max_amount`` (one limit per
    currency); goodwill points set ``max_points``.

    Example:
        >>> CompensationLimit(role="agent", kind="voucher", max_amount=Money("500", "TWD"))
        CompensationLimit(role='agent', kind=<CompensationKind.VOUCHER: 'voucher'>,
                          max_amount=Money('500', 'TWD'), max_points=None)
        >>> CompensationLimit(role="agent", kind="goodwill_points", max_amount=Money("5", "TWD"))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: max_points: goodwill_points limits are in points: set ...

    .. versionadded:: 0.1.0
    """

    role: str = attrs.field(converter=_role)
    kind: CompensationKind = attrs.field(converter=_kind)
    max_amount: Money | None = attrs.field(default=None, validator=_optional_money)
    max_points: int | None = attrs.field(default=None, validator=_optional_points)

    def __attrs_post_init__(self) -> None:
        if self.kind.in_points:
            if self.max_points is None or self.max_amount is not None:
                raise ValidationError(
                    "goodwill_points limits are in points: set max_points, not max_amount",
                    path="max_points",
                )
        elif self.max_amount is None or self.max_points is not None:
            raise ValidationError(
                f"{self.kind.value} limits are money: set max_amount, not max_points",
                path="max_amount",
            )


def _categories(value: object) -> tuple[str, ...]:
    return v.text_tuple("categories", max_items=500)(value)


def _root_causes(value: object) -> tuple[str, ...]:
    return v.text_tuple("root_causes", max_items=500)(value)


def _window(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError(
            f"must be a timedelta, not {type(value).__name__}", path="reopen_within"
        )
    if value < timedelta(0):
        raise ValidationError(f"must not be negative, got {value}", path="reopen_within")


def _matrix(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, PriorityMatrix):
        raise ValidationError(
            f"must be a PriorityMatrix, not {type(value).__name__}", path="priority_matrix"
        )


def _limits(value: object) -> tuple[CompensationLimit, ...]:
    return tuple_of(CompensationLimit, "compensation_limits", value)


@attrs.frozen(kw_only=True)
class ComplaintPolicy:
    """How complaints are handled, as data.

    The categories and root causes a case may name, the priority matrix, how long after
    resolution a case may be reopened, and how much compensation each approver role may grant.

    Example:
        >>> policy = ComplaintPolicy(categories=["delivery", "billing"],
        ...                          root_causes=["carrier_delay", "pricing_error"])
        >>> policy.check_category(" delivery ")
        'delivery'
        >>> policy.check_category("weather")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: category: 'weather' is not a complaint category; use one of
        'delivery', 'billing'
        >>> policy.reopen_within
        datetime.timedelta(days=14)

    .. versionadded:: 0.1.0
    """

    categories: tuple[str, ...] = attrs.field(converter=_categories)
    root_causes: tuple[str, ...] = attrs.field(default=(), converter=_root_causes)
    priority_matrix: PriorityMatrix = attrs.field(factory=PriorityMatrix.default, validator=_matrix)
    reopen_within: timedelta = attrs.field(default=timedelta(days=14), validator=_window)
    compensation_limits: tuple[CompensationLimit, ...] = attrs.field(default=(), converter=_limits)

    def __attrs_post_init__(self) -> None:
        if not self.categories:
            raise DefinitionError("a complaint policy needs at least one category")
        seen: set[tuple[str, CompensationKind, str | None]] = set()
        for limit in self.compensation_limits:
            key = (
                limit.role,
                limit.kind,
                None if limit.max_amount is None else limit.max_amount.currency,
            )
            if key in seen:
                raise DefinitionError(
                    f"compensation limit for role {limit.role!r}, kind {limit.kind.value!r}"
                    + (f" in {key[2]}" if key[2] else "")
                    + " is defined more than once"
                )
            seen.add(key)

    def check_category(self, category: object) -> str:
        """Return ``category`` (stripped) if it is one of :attr:`categories`.

        Example:
            >>> ComplaintPolicy(categories=["delivery"]).check_category("delivery")
            'delivery'
        """
        return _member(category, self.categories, "category", "a complaint category")

    def check_root_cause(self, root_cause: object) -> str:
        """Return ``root_cause`` (stripped) if it is one of :attr:`root_causes`.

        Example:
            >>> ComplaintPolicy(categories=["x"], root_causes=["carrier_delay"]
            ...                 ).check_root_cause("carrier_delay")
            'carrier_delay'
        """
        return _member(root_cause, self.root_causes, "root_cause", "a root-cause category")

    def check_compensation(
        self,
        role: str,
        kind: CompensationKind | str,
        *,
        amount: Money | None = None,
        points: int | None = None,
    ) -> CompensationLimit:
        """The limit that lets ``role`` grant this; a :class:`RuleViolation` if none does.

        Example:
            >>> limit = CompensationLimit(role="agent", kind="refund",
            ...                           max_amount=Money("1000", "TWD"))
            >>> policy = ComplaintPolicy(categories=["x"], compensation_limits=[limit])
            >>> policy.check_compensation("agent", "refund", amount=Money("800", "TWD")).role
            'agent'
            >>> policy.check_compensation("agent", "refund", amount=Money("1200", "TWD"))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: role 'agent' may grant a refund of at most 1000 TWD, not
            1200 TWD; ask a role with a higher limit
        """
        role = _role(role)
        kind = _kind(kind)
        limits = [lim for lim in self.compensation_limits if lim.role == role and lim.kind is kind]
        details = {"role": role, "kind": kind.value}
        if kind.in_points:
            if points is None:
                raise ValidationError("goodwill points need a number of points", path="points")
            for limit in limits:
                if limit.max_points is not None and points <= limit.max_points:
                    return limit
            if limits and limits[0].max_points is not None:
                raise RuleViolation(
                    f"role {role!r} may grant at most {limits[0].max_points} goodwill points, "
                    f"not {points}; ask a role with a higher limit",
                    details={**details, "max_points": limits[0].max_points},
                )
        else:
            if amount is None:
                raise ValidationError(f"a {kind.value} needs an amount", path="amount")
            for limit in limits:
                top = limit.max_amount
                if top is not None and top.currency == amount.currency:
                    if amount <= top:
                        return limit
                    raise RuleViolation(
                        f"role {role!r} may grant a {kind.value} of at most {top.amount} "
                        f"{top.currency}, not {amount.amount} {amount.currency}; ask a role "
                        "with a higher limit",
                        details={**details, "max_amount": str(top.amount)},
                    )
        currency = None if kind.in_points or amount is None else amount.currency
        allowed = sorted(
            {
                lim.role
                for lim in self.compensation_limits
                if lim.kind is kind
                and (currency is None or (lim.max_amount and lim.max_amount.currency == currency))
            }
        )
        where = "" if currency is None else f" in {currency}"
        raise RuleViolation(
            f"role {role!r} may not grant a {kind.value}{where}"
            + (f"; roles that may: {', '.join(allowed)}" if allowed else ""),
            details={**details, "allowed_roles": allowed},
        )


def _member(value: object, allowed: tuple[str, ...], field: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path=field)
    cleaned = value.strip()
    if cleaned not in allowed:
        listed = ", ".join(map(repr, allowed)) if allowed else "(none configured)"
        raise ValidationError(f"{value!r} is not {what}; use one of {listed}", path=field)
    return cleaned
