"""Access plumbing of the app layer: the unit of work a check may read, reads with masking.

A policy check sometimes needs a record the handler did not load (the owner of a contact's
customer). It must read it in the command's own unit of work: a second unit of work on the same
thread would share (and roll back) the SQLite connection. So every command handler the bus runs
is wrapped by :func:`with_unit_of_work`, and the facade's reads use :func:`bound`; both publish
the unit of work in a context variable that :class:`crmkit.app.tenants.UnitOfWorkOwners` reads.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import attrs

from crmkit.errors import NotFoundError, PermissionDeniedError
from crmkit.kernel.query import Page
from crmkit.ports import AccessPolicy, UnitOfWork
from crmkit.serialization import unstructure

A = TypeVar("A")

#: The unit of work of the command (or read) running in this context, with a cache of the
#: customer owners already looked up in it.
_current: ContextVar[tuple[UnitOfWork, dict[str, str | None]] | None] = ContextVar(
    "crmkit_access_unit_of_work", default=None
)


def admit(policy: AccessPolicy | None, actor: object) -> None:
    """Refuse an unknown actor or one of another tenant before anything is read.

    Policies that know actors offer ``admit(actor)`` (:class:`crmkit.access.RoleBasedPolicy`);
    asking it first means a stranger learns nothing, not even whether an id exists.
    """
    check = getattr(policy, "admit", None)
    if check is not None:
        check(actor if isinstance(actor, str) or actor is None else str(actor))


@contextmanager
def bound(
    uow: UnitOfWork, policy: AccessPolicy | None = None, actor: str | None = None
) -> Iterator[UnitOfWork]:
    """Admit ``actor``, then publish ``uow`` as the current unit of work for policy look-ups."""
    admit(policy, actor)
    token = _current.set((uow, {}))
    try:
        yield uow
    finally:
        _current.reset(token)


def with_unit_of_work(
    handler: Callable[[Any, UnitOfWork], Any], policy: AccessPolicy | None = None
) -> Callable[[Any, UnitOfWork], Any]:
    """Wrap a command handler: admit its actor, then publish the unit of work it is given."""

    def run(command: Any, uow: UnitOfWork) -> Any:
        with bound(uow, policy, getattr(command, "actor", None)):
            return handler(command, uow)

    inner = handler.func if isinstance(handler, functools.partial) else handler
    for name in ("__module__", "__qualname__", "__name__", "__doc__"):
        value = getattr(inner, name, None)
        if value is not None:
            setattr(run, name, value)
    run.__wrapped__ = handler  # type: ignore[attr-defined]
    return run


def customer_owner(customer_id: str) -> str | None:
    """The owner of ``customer_id`` read through the current unit of work (``None`` outside)."""
    current = _current.get()
    if current is None:
        return None
    uow, cache = current
    if customer_id not in cache:
        try:
            cache[customer_id] = uow.customers.get(customer_id).owner
        except NotFoundError:
            cache[customer_id] = None
    return cache[customer_id]


def masked(policy: AccessPolicy, actor: str | None, record_type: str, record: A) -> A:
    """``record`` as ``actor`` may see it: a masked copy if the policy masks any of its fields.

    A masked copy is for showing: its masked fields hold masked text, or ``None`` for a hidden
    value (an amount, a date, a section with a masked part), so it is not a valid record to
    save or to act on.
    """
    mask = getattr(policy, "mask", None)
    if mask is None or actor is None:
        return record
    document = unstructure(record)
    shown = mask(actor, record_type, document)
    if shown is document or shown == document:
        return record
    result = copy.copy(record)
    for key, value in shown.items():
        if key not in document or value == document[key] or not hasattr(result, key):
            continue
        original = getattr(record, key)
        if isinstance(value, str) and isinstance(original, str):
            new: object = value
        elif (
            isinstance(value, list)
            and isinstance(original, tuple)
            and all(isinstance(item, str) for item in value)
            and all(isinstance(item, str) for item in original)
        ):
            new = tuple(value)
        else:
            new = None
        object.__setattr__(result, key, new)  # a display copy: validators deliberately skipped
    return result


def check_read(
    policy: AccessPolicy, actor: str | None, action: str, resource: object | None
) -> None:
    """Check a read for ``actor``; the system (``None``) reads without asking the policy."""
    if actor is not None:
        policy.check(actor, action, resource)


def visible(policy: AccessPolicy, actor: str | None, action: str, record_type: str, record: A) -> A:
    """Check that ``actor`` may ``action`` ``record``; return it masked for them."""
    check_read(policy, actor, action, record)
    return masked(policy, actor, record_type, record)


def visible_items(
    policy: AccessPolicy, actor: str | None, action: str, record_type: str, items: Iterable[A]
) -> list[A]:
    """The ``items`` ``actor`` may ``action``, masked for them; the others are left out."""
    if actor is None:
        return list(items)
    shown: list[A] = []
    for item in items:
        try:
            policy.check(actor, action, item)
        except PermissionDeniedError:
            continue
        shown.append(masked(policy, actor, record_type, item))
    return shown


def visible_page(
    policy: AccessPolicy,
    actor: str | None,
    listing: str,
    action: str,
    record_type: str,
    page: Page[A],
) -> Page[A]:
    """One page as ``actor`` sees it: ``listing`` checked once, each item with ``action``.

    Items the actor may not read are left out, so a page may hold fewer than ``limit`` items;
    ``next_cursor`` still leads on through every record.
    """
    if actor is None:
        return page
    policy.check(actor, listing, None)
    items = visible_items(policy, actor, action, record_type, page.items)
    return attrs.evolve(page, items=tuple(items))
