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

import contextlib
import functools
import logging
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import attrs

from crmkit.access.audit import AUDIT_ENTRIES, GENESIS, AuditEntry, entry_id_for
from crmkit.app.audit import AuditSettings
from crmkit.errors import DefinitionError, NotFoundError, PermissionDeniedError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.time import Clock, SystemClock
from crmkit.ports import Store, UnitOfWork
from crmkit.serialization import unstructure

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


def _document(aggregate: object) -> dict[str, Any]:
    document: dict[str, Any] = unstructure(aggregate)
    document.pop("version", None)
    return document


def _actor_id(actor: object) -> str | None:
    """The actor as the audit log keeps it: a user id (``Actor.user_id``) or the text given."""
    if actor is None or isinstance(actor, str):
        return actor
    for name in ("user_id", "id"):
        value = getattr(actor, name, None)
        if isinstance(value, str):
            return value
    return str(actor)


@attrs.define
class _Change:
    """One record's net change in a unit of work, from its first write to its last."""

    base: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    version: int


class _ChainHeads:
    """The hashes of recently stored audit entries, by entry id.

    The next entry of a record then need not read its predecessor back. An entry's id and hash
    never change once stored, so a remembered hash is never stale; at most ``size`` are kept
    (oldest dropped first).
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, entry_id: str) -> str | None:
        return self._hashes.get(entry_id)

    def put(self, entry: AuditEntry) -> None:
        with self._lock:
            self._hashes[entry.id] = entry.hash
            while len(self._hashes) > self._size:
                del self._hashes[next(iter(self._hashes))]


class _AuditedRepository:
    """A repository that tells its unit of work what each add, save and remove changed."""

    def __init__(self, tracker: _TrackedUnitOfWork, inner: Any, name: str) -> None:
        self._tracker = tracker
        self._inner = inner
        self._name = name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get(self, id: str) -> Any:
        aggregate = self._inner.get(id)
        self._tracker._loaded(self._name, aggregate)
        return aggregate

    def get_many(self, ids: Any) -> list[Any]:
        aggregates: list[Any] = self._inner.get_many(ids)
        for aggregate in aggregates:
            self._tracker._loaded(self._name, aggregate)
        return aggregates

    def add(self, aggregate: Any) -> None:
        self._inner.add(aggregate)
        self._tracker._added(self._name, aggregate)

    def add_many(self, aggregates: Any) -> None:
        batch = aggregates if isinstance(aggregates, (list, tuple)) else list(aggregates)
        self._inner.add_many(batch)
        for aggregate in batch:
            self._tracker._added(self._name, aggregate)

    def save(self, aggregate: Any) -> None:
        before = self._tracker._before(self._inner, self._name, aggregate)
        self._inner.save(aggregate)
        self._tracker._saved(self._name, aggregate, before, removed=False)

    def remove(self, aggregate: Any) -> None:
        before = self._tracker._before(self._inner, self._name, aggregate)
        self._inner.remove(aggregate)
        self._tracker._saved(self._name, aggregate, before, removed=True)


class _AppendOnlyRepository:
    """The audit entries as a command sees them: readable, never written."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _refuse(self, operation: str) -> PermissionDeniedError:
        return PermissionDeniedError(
            f"audit entries are append only and written by the message bus; a command cannot "
            f"{operation} them (to pseudonymise entries on a privacy request, use "
            "crmkit.app.audit.pseudonymise_trail)",
            details={"kind": AUDIT_ENTRIES.name, "operation": operation},
        )

    def add(self, aggregate: object) -> None:
        raise self._refuse("add")

    def add_many(self, aggregates: object) -> None:
        raise self._refuse("add many")

    def save(self, aggregate: object) -> None:
        raise self._refuse("save")

    def remove(self, aggregate: object) -> None:
        raise self._refuse("remove")


class _TrackedUnitOfWork:
    """Passes everything through to a unit of work and remembers what its commits returned.

    With auditing on, the repositories it hands out are wrapped: each record's first write
    reads the record as stored, each write snapshots it after, and ``commit()`` adds one audit
    entry per changed record to the same unit of work before committing it, all or nothing.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        audit: AuditSettings | None = None,
        clock: Clock | None = None,
        command: object = None,
        command_name: str | None = None,
        heads: _ChainHeads | None = None,
    ) -> None:
        self._uow = uow
        self.committed: list[DomainEvent] = []
        self._audit = audit
        self._clock = clock
        self._actor = _actor_id(getattr(command, "actor", None))
        self._command_name = command_name or type(command).__name__
        self._heads = heads if heads is not None else _ChainHeads()
        self._wrapped: dict[str, Any] = {}
        self._changes: dict[tuple[str, str], _Change] = {}
        self._snapshots: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._written: list[AuditEntry] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._uow, name)
        if self._audit is None or name.startswith("_"):
            return found
        record_type = getattr(found, "record_type", None)
        if getattr(record_type, "name", None) != name:
            return found
        return self._wrap(name, found)

    def _wrap(self, name: str, repository: Any) -> Any:
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            assert self._audit is not None
            if name == AUDIT_ENTRIES.name:
                wrapped = _AppendOnlyRepository(repository)
            elif name in self._audit.exclude:
                wrapped = repository
            else:
                wrapped = _AuditedRepository(self, repository, name)
            self._wrapped[name] = wrapped
        return wrapped

    def repository(self, record_type: Any) -> Any:
        found = self._uow.repository(record_type)  # type: ignore[attr-defined]
        if self._audit is None:
            return found
        return self._wrap(record_type.name, found)

    def __enter__(self) -> _TrackedUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> tuple[DomainEvent, ...]:
        try:
            if self._changes:
                self._write_audit()
            events = self._uow.commit()
            for entry in self._written:  # only once they are stored
                self._heads.put(entry)
        finally:
            self._reset()
        self.committed.extend(events)
        return events

    def rollback(self) -> None:
        self._reset()
        self._uow.rollback()

    def _reset(self) -> None:
        self._changes.clear()
        self._snapshots.clear()
        self._written.clear()

    # ----- audit recording ---------------------------------------------------------------
    def _loaded(self, name: str, aggregate: Any) -> None:
        """Snapshot a record as read, so its first write can be diffed without reading it again."""
        key = (name, aggregate.id)
        if key not in self._changes:
            self._snapshots[key] = (aggregate.version, _document(aggregate))

    def _before(self, repository: Any, name: str, aggregate: Any) -> dict[str, Any] | None:
        """The record's document as stored, on its first write in this unit of work."""
        key = (name, getattr(aggregate, "id", None))
        if key in self._changes:
            return None
        snapshot = self._snapshots.get(key)  # type: ignore[arg-type]
        if snapshot is not None and snapshot[0] == aggregate.version:
            return snapshot[1]
        try:
            stored = repository.get(aggregate.id)
        except (NotFoundError, ValidationError, AttributeError):
            return None  # the write itself will refuse it with the right error
        if stored.version != aggregate.version:
            return None  # stale: the write raises ConcurrencyError
        return _document(stored)

    def _added(self, name: str, aggregate: Any) -> None:
        key = (name, aggregate.id)
        change = self._changes.get(key)
        if change is None:
            self._changes[key] = _Change(0, None, _document(aggregate), aggregate.version)
        else:  # removed, then added again, in one unit of work
            change.after = _document(aggregate)
            change.version = aggregate.version

    def _saved(
        self, name: str, aggregate: Any, before: dict[str, Any] | None, *, removed: bool
    ) -> None:
        key = (name, aggregate.id)
        change = self._changes.get(key)
        if change is None:
            if before is None:
                return  # not read as stored (a host's repository without get): not audited
            base = aggregate.version - (0 if removed else 1)
            change = self._changes[key] = _Change(base, before, None, base)
        if removed:
            if change.before is None:  # added in this unit of work: nothing is left to record
                del self._changes[key]
                return
            change.after = None
            change.version = aggregate.version + 1
        else:
            change.after = _document(aggregate)
            change.version = aggregate.version

    def _write_audit(self) -> None:
        assert self._audit is not None
        assert self._clock is not None
        entries_repository = self._uow.audit_entries
        at = self._clock.now()
        actor = self._actor
        command = self._command_name
        key = self._audit.key
        entries: list[AuditEntry] = []
        for (name, target_id), change in self._changes.items():
            previous_hash = GENESIS
            if change.base:
                previous_id = entry_id_for(name, target_id, change.base)
                cached = self._heads.get(previous_id)
                if cached is not None:
                    previous_hash = cached
                else:
                    # Not found: written before auditing began; verify reports where it starts.
                    with contextlib.suppress(NotFoundError):
                        previous_hash = entries_repository.get(previous_id).hash
            entries.append(
                AuditEntry.create(
                    record_type=name,
                    target_id=target_id,
                    base_version=change.base,
                    target_version=change.version,
                    actor=actor,
                    at=at,
                    command=command,
                    before=change.before,
                    after=change.after,
                    previous_hash=previous_hash,
                    key=key,
                )
            )
        entries_repository.add_many(entries)
        self._written = entries


def _unaudited(uow: object) -> Any:
    """The unit of work under the bus's tracking wrapper (``uow`` itself if not wrapped)."""
    return uow._uow if isinstance(uow, _TrackedUnitOfWork) else uow


class _DispatchState(threading.local):
    def __init__(self) -> None:
        self.queue: deque[DomainEvent] = deque()
        self.dispatching = False


class MessageBus:
    """Routes commands to their handler and committed events to their subscribers.

    Args:
        store: where units of work come from (anything with ``unit_of_work()``).
        audit: record an audit log entry for every record each command changes, in the
            command's own unit of work (:class:`~crmkit.app.audit.AuditSettings`); ``None``
            (the default here; ``bootstrap()`` turns it on) records nothing.
        clock: the time audit entries carry. Default: ``SystemClock()``.

    Attributes:
        store: the store given.
        audit: the audit settings given (``None``: no audit log).
        clock: the clock given.
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

    def __init__(
        self,
        store: Store,
        *,
        audit: AuditSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        if audit is not None and not isinstance(audit, AuditSettings):
            raise ValidationError(
                f"must be AuditSettings or None (no audit log), not {type(audit).__name__}",
                path="audit",
            )
        self.store = store
        self.audit = audit
        self._heads = _ChainHeads()
        self.clock: Clock = clock if clock is not None else SystemClock()
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
                tracked = _TrackedUnitOfWork(
                    uow, self.audit, self.clock, command, heads=self._heads
                )
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
