"""The kernel: money, time, ids, events, aggregates and queries; no CRM concept lives here.

Example:
    >>> from crmkit.kernel import Money
    >>> Money("10", "TWD") + Money("5", "TWD")
    Money('15', 'TWD')

.. versionadded:: 0.1.0
"""

from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar, WorkingHours
from crmkit.kernel.events import DomainEvent, event_class
from crmkit.kernel.ids import IdGenerator, SequentialIds, SortableIds, check_id
from crmkit.kernel.money import Money, Rounding, currency_digits, is_currency
from crmkit.kernel.query import Filter, Op, Order, Page, Query, RecordType, run_query
from crmkit.kernel.time import Clock, ManualClock, SystemClock, ensure_aware, validate_aware

__all__ = [
    "Aggregate",
    "BusinessCalendar",
    "Clock",
    "DomainEvent",
    "Filter",
    "IdGenerator",
    "ManualClock",
    "Money",
    "Op",
    "Order",
    "Page",
    "Query",
    "RecordType",
    "Rounding",
    "SequentialIds",
    "SortableIds",
    "SystemClock",
    "WorkingHours",
    "check_id",
    "currency_digits",
    "ensure_aware",
    "event_class",
    "is_currency",
    "run_query",
    "validate_aware",
]
