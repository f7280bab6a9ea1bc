"""The message bus: runs each command in a unit of work, then hands its events to subscribers.

A command has exactly one handler, registered with :meth:`MessageBus.register`. The bus opens a
unit of work on the store, calls ``handler(command, uow)`` and returns what the handler returns;
the handler commits when its work is done, and an exception it raises propagates unchanged (the
unit of work rolls back, and no event is dispatched).

The events a command *committed* then go, in order, to every event handler subscribed to their
class (or a base class) with :meth:`MessageBus.subscribe`. Event handlers are isolated from the
command and from each other: one that raises is recorded in :attr:`MessageBus.failures` and
logged on the ``"crmkit"`` logger at ERROR level, and the rest still run. An event handler may
itself handle commands through the bus; their events join the queue and are dispatched too.

In-process dispatch is for reactions inside one process. Committed events are also in the store's
outbox, for delivery that must survive a crash.

Example:
    >>> from crmkit.adapters.memory import MemoryStore
    >>> from crmkit.customers import Customer
    >>> from crmkit.customers.events import CustomerRegistered
    >>> from crmkit.kernel import ManualClock
    >>> clock = ManualClock()
    >>> def register(name, uow):
    ...     customer = Customer.register(id="cus_1", name=name, kind="company", now=clock.now())
    ...     uow.customers.add(customer)
    ...     uow.commit()
    ...     return customer
    >>> bus = MessageBus(MemoryStore())
    >>> bus.register(str, register)
    >>> bus.subscribe(CustomerRegistered, lambda event: print("welcome,", event.name))
    >>> bus.handle("Acme").id
    welcome, Acme
    'cus_1'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.ports import Store, UnitOfWork

__all__ = ["HandlerFailure", "MessageBus"]

C = TypeVar("C")
E = TypeVar("E", bound=DomainEvent)

#: A command handler: ``handler(command, uow) -> result``; it commits the unit of work itself.
CommandHandler = Callable[[Any, UnitOfWork], Any]

#: An event handler: ``handler(event)``; its return value is ignored.
EventHandler = Callable[[Any], object]

logger = logging.getLogger("crmkit")


@attrs.frozen
class HandlerFailure:
    """An event handler that raised: which event, which handler (by name), and the error.

    Example:
        >>> from datetime import datetime, timezone
        >>> event = DomainEvent(aggregate_id="cus_1",
        ...                     occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> failure = HandlerFailure(event, "hooks.send_welcome", RuntimeError("SMTP down"))
        >>> failure.handler_name, str(failure.error)
        ('hooks.send_welcome', 'SMTP down')

    .. versionadded:: 0.1.0
    """

    event: DomainEvent
    handler_name: str
    error: Exception


def _handler_name(handler: object) -> str:
    if isinstance(handler, functools.partial):
        handler = handler.func
    module = getattr(handler, "__module__", None)
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{name}" if module else str(name)


class _TrackedUnitOfWork:
    """Passes everything through to a unit of work and remembers what its commits returned."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.committed: list[DomainEvent] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def __enter__(self) -> _TrackedUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._uow.rollback()

    def commit(self) -> tuple[DomainEvent, ...]:
        events = self._uow.commit()
        self.committed.extend(events)
        return events

    def rollback(self) -> None:
        self._uow.rollback()


class _DispatchState(threading.local):
    def __init__(self) -> None:
        self.queue: deque[DomainEvent] = deque()
        self.dispatching = False


class MessageBus:
    """Routes commands to their handler and committed events to their subscribers.

    Args:
        store: where units of work come from (anything with ``unit_of_work()``).

    Attributes:
        store: the store given.
        failures: every event handler failure so far, oldest first (a host may clear it).

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> bus = MessageBus(MemoryStore())
        >>> bus.handle(42)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: command: no handler is registered for int; ...

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.failures: list[HandlerFailure] = []
        self._command_handlers: dict[type, CommandHandler] = {}
        self._event_handlers: list[tuple[type[DomainEvent], EventHandler]] = []
        self._state = _DispatchState()

    def register(self, command_type: type[C], handler: Callable[[C, UnitOfWork], object]) -> None:
        """Make ``handler`` the one handler of ``command_type`` (and its subclasses).

        Example:
            >>> from crmkit.adapters.memory import MemoryStore
            >>> bus = MessageBus(MemoryStore())
            >>> bus.register(str, lambda command, uow: command.upper())
            >>> bus.handle("hi")
            'HI'
            >>> bus.register(str, lambda command, uow: command)
            Traceback (most recent call last):
            ...
            crmkit.errors.DefinitionError: str already has a handler (...); a command has one

        .. versionadded:: 0.1.0
        """
        if not isinstance(command_type, type):
            raise ValidationError(
                f"must be a command class, not {type(command_type).__name__}",
                path="command_type",
            )
        if not callable(handler):
            raise ValidationError(
                f"must be callable as handler(command, uow), not {type(handler).__name__}",
                path="handler",
            )
        existing = self._command_handlers.get(command_type)
        if existing is not None:
            raise DefinitionError(
                f"{command_type.__name__} already has a handler ({_handler_name(existing)}); "
                "a command has one",
                details={"command": command_type.__name__},
            )
        self._command_handlers[command_type] = handler

    def subscribe(self, event_type: type[E], handler: Callable[[E], object]) -> None:
        """Call ``handler(event)`` for every committed event of ``event_type`` or a subclass.

        Handlers run in the order they subscribed. Subscribe to
        :class:`~crmkit.kernel.events.DomainEvent` to see every event.

        Example:
            >>> from crmkit.adapters.memory import MemoryStore
            >>> MessageBus(MemoryStore()).subscribe(str, print)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: event_type: must be a DomainEvent class, not ...

        .. versionadded:: 0.1.0
        """
        if not (isinstance(event_type, type) and issubclass(event_type, DomainEvent)):
            raise ValidationError(
                f"must be a DomainEvent class, not {event_type!r}", path="event_type"
            )
        if not callable(handler):
            raise ValidationError(
                f"must be callable as handler(event), not {type(handler).__name__}",
                path="handler",
            )
        self._event_handlers.append((event_type, handler))

    def handle(self, command: object) -> Any:
        """Run ``command``'s handler in a new unit of work; dispatch what it committed.

        Returns what the handler returns. The handler's exception, if any, propagates unchanged
        after the unit of work rolled back.

        Example:
            >>> from crmkit.adapters.memory import MemoryStore
            >>> bus = MessageBus(MemoryStore())
            >>> def refuse(command, uow):
            ...     raise ValueError(f"no {command}")
            >>> bus.register(str, refuse)
            >>> bus.handle("thanks")
            Traceback (most recent call last):
            ...
            ValueError: no thanks

        .. versionadded:: 0.1.0
        """
        handler = self._handler_for(command)
        tracked: _TrackedUnitOfWork | None = None
        try:
            with self.store.unit_of_work() as uow:
                tracked = _TrackedUnitOfWork(uow)
                return handler(command, cast(UnitOfWork, tracked))
        finally:
            if tracked is not None:
                self._state.queue.extend(tracked.committed)
            self._dispatch()

    def _handler_for(self, command: object) -> CommandHandler:
        for cls in type(command).__mro__:
            handler = self._command_handlers.get(cls)
            if handler is not None:
                return handler
        known = ", ".join(sorted(c.__name__ for c in self._command_handlers)) or "none yet"
        raise ValidationError(
            f"no handler is registered for {type(command).__name__}; this bus handles: {known}",
            path="command",
        )

    def _dispatch(self) -> None:
        state = self._state
        if state.dispatching:
            return  # an event handler's command: the outer loop dispatches its events
        state.dispatching = True
        try:
            while state.queue:
                event = state.queue.popleft()
                for event_type, handler in list(self._event_handlers):
                    if isinstance(event, event_type):
                        self._run(handler, event)
        finally:
            state.dispatching = False
            state.queue.clear()

    def _run(self, handler: EventHandler, event: DomainEvent) -> None:
        try:
            handler(event)
        except Exception as exc:
            name = _handler_name(handler)
            self.failures.append(HandlerFailure(event, name, exc))
            logger.exception(
                "event handler %s failed on %s (event %s, aggregate %s): %s",
                name,
                event.event_type,
                event.event_id,
                event.aggregate_id,
                type(exc).__name__,
            )
