"""The service context's enums and the complaint status graph."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from crmkit.kernel._enum import StrEnum

__all__ = [
    "CLOCK_STOPPING_STATUSES",
    "CancelReason",
    "CaseStatus",
    "Channel",
    "CompensationKind",
    "Impact",
    "MessageAuthor",
    "Priority",
    "REOPEN_MOVES",
    "STATUS_GRAPH",
    "SlaTarget",
    "Urgency",
]


class Channel(StrEnum):
    """How a complaint reached us.

    Example:
        >>> [c.value for c in Channel]
        ['phone', 'email', 'web_form', 'chat', 'social', 'in_store']

    .. versionadded:: 0.1.0
    """

    PHONE = "phone"
    EMAIL = "email"
    WEB_FORM = "web_form"
    CHAT = "chat"
    SOCIAL = "social"
    IN_STORE = "in_store"


class CaseStatus(StrEnum):
    """Where a complaint stands; :data:`STATUS_GRAPH` says which moves are allowed.

    Example:
        >>> CaseStatus("awaiting_customer").is_open, CaseStatus.CLOSED.is_open
        (True, False)

    .. versionadded:: 0.1.0
    """

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Whether someone still has to work on a case in this status."""
        return self in _OPEN


_OPEN = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.ACKNOWLEDGED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_CUSTOMER,
    }
)


class Impact(StrEnum):
    """How much harm the problem does (to the customer, or to many customers).

    Example:
        >>> Impact("high")
        <Impact.HIGH: 'high'>

    .. versionadded:: 0.1.0
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(StrEnum):
    """How soon the problem must be dealt with.

    Example:
        >>> Urgency("low")
        <Urgency.LOW: 'low'>

    .. versionadded:: 0.1.0
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    """A case's priority, from an impact x urgency matrix; ``rank`` 1 is the most pressing.

    Example:
        >>> Priority.CRITICAL.rank, Priority("low").rank
        (1, 4)

    .. versionadded:: 0.1.0
    """

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """1 for critical up to 4 for low."""
        return _RANKS[self]


_RANKS = {p: i + 1 for i, p in enumerate(Priority)}


class CancelReason(StrEnum):
    """Why a case was cancelled rather than resolved.

    Example:
        >>> CancelReason("spam")
        <CancelReason.SPAM: 'spam'>

    .. versionadded:: 0.1.0
    """

    DUPLICATE = "duplicate"
    SPAM = "spam"


class CompensationKind(StrEnum):
    """What a customer is given to make up for a problem.

    ``goodwill_points`` is counted in points; every other kind has a money value.

    Example:
        >>> CompensationKind("voucher").in_points, CompensationKind.GOODWILL_POINTS.in_points
        (False, True)

    .. versionadded:: 0.1.0
    """

    REFUND = "refund"
    VOUCHER = "voucher"
    GOODWILL_POINTS = "goodwill_points"
    UPGRADE = "upgrade"
    REPLACEMENT = "replacement"

    @property
    def in_points(self) -> bool:
        """Whether this kind is an amount of loyalty points rather than money."""
        return self is CompensationKind.GOODWILL_POINTS


class MessageAuthor(StrEnum):
    """Who wrote a public message on a case: one of our agents, or the customer.

    Example:
        >>> MessageAuthor("customer")
        <MessageAuthor.CUSTOMER: 'customer'>

    .. versionadded:: 0.1.0
    """

    AGENT = "agent"
    CUSTOMER = "customer"


class SlaTarget(StrEnum):
    """An SLA target: the first response, or the resolution.

    Example:
        >>> [t.value for t in SlaTarget]
        ['first_response', 'resolution']

    .. versionadded:: 0.1.0
    """

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


_S = CaseStatus

#: From each status, the statuses a complaint may move to. The moves in :data:`REOPEN_MOVES`
#: happen only through ``Complaint.reopen``, within the reopen window.
STATUS_GRAPH: Mapping[CaseStatus, tuple[CaseStatus, ...]] = MappingProxyType(
    {
        _S.NEW: (_S.ACKNOWLEDGED, _S.CANCELLED),
        _S.ACKNOWLEDGED: (_S.IN_PROGRESS, _S.CANCELLED),
        _S.IN_PROGRESS: (_S.AWAITING_CUSTOMER, _S.RESOLVED, _S.CANCELLED),
        _S.AWAITING_CUSTOMER: (_S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED),
        _S.RESOLVED: (_S.CLOSED, _S.IN_PROGRESS),
        _S.CLOSED: (_S.IN_PROGRESS,),
        _S.CANCELLED: (),
    }
)

#: The moves of :data:`STATUS_GRAPH` that only ``Complaint.reopen`` makes.
REOPEN_MOVES: frozenset[tuple[CaseStatus, CaseStatus]] = frozenset(
    {(_S.RESOLVED, _S.IN_PROGRESS), (_S.CLOSED, _S.IN_PROGRESS)}
)

#: Statuses in which no SLA clock runs and no target can be missed any more.
CLOCK_STOPPING_STATUSES: frozenset[CaseStatus] = frozenset({_S.RESOLVED, _S.CLOSED, _S.CANCELLED})
