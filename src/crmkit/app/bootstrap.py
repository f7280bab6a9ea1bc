"""``bootstrap()``: wire a store, a clock, ids, a notifier and a policy into a :class:`CRM`.

This is crmkit's composition root, the one place that picks the adapters. Every argument is
optional; the defaults give a working CRM in memory. Nothing happens at import time and nothing
reads environment variables: what you pass is what you get.

Example:
    >>> from crmkit import bootstrap
    >>> crm = bootstrap()
    >>> crm.register_customer("Formosa Tea Co.").name
    'Formosa Tea Co.'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import os

import attrs

from crmkit.access import AllowAll
from crmkit.app import customer360 as customer360_app
from crmkit.app import customers as customers_app
from crmkit.app import leads as leads_app
from crmkit.app import loyalty as loyalty_app
from crmkit.app import merge as merge_app
from crmkit.app import privacy as privacy_app
from crmkit.app import quotes as quotes_app
from crmkit.app import service as service_app
from crmkit.app._access import with_unit_of_work
from crmkit.app._crm import CRM
from crmkit.app.audit import AuditSettings
from crmkit.app.messagebus import MessageBus
from crmkit.errors import ValidationError
from crmkit.kernel.ids import IdGenerator, SortableIds
from crmkit.kernel.time import Clock, SystemClock
from crmkit.ports import AccessPolicy, Notifier, Store

__all__ = ["bootstrap"]


def _not_a(port: str, value: object, path: str, example: str) -> ValidationError:
    return ValidationError(
        f"must implement crmkit.ports.{port} (e.g. {example}), not {type(value).__name__}",
        path=path,
    )


def bootstrap(
    *,
    store: Store | None = None,
    database: str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    notifier: Notifier | None = None,
    policy: AccessPolicy | None = None,
    leads: leads_app.LeadSettings | None = None,
    pricing: quotes_app.PricingSettings | None = None,
    service: service_app.ServiceSettings | None = None,
    service_hooks: service_app.ServiceHooks | None = None,
    loyalty: loyalty_app.LoyaltySettings | None = None,
    customers: customer360_app.CustomerSettings | None = None,
    audit: bool | AuditSettings = True,
    privacy: privacy_app.PrivacySettings | None = None,
) -> CRM:
    """Build a :class:`CRM` from the given parts; every part left out gets a default.

    Args:
        store: where aggregates live. Default: a new in-memory ``MemoryStore`` (lost on exit).
        database: a SQLite file path (or ``":memory:"``): shorthand for
            ``store=SQLiteStore(database)``. Give ``store`` or ``database``, not both.
        clock: the time used for ``now``. Default: ``SystemClock()`` (UTC).
        ids: makes new ids. Default: ``SortableIds(clock)``, ids that sort by creation time.
        notifier: delivers notifications. Default: a ``RecordingNotifier``, which sends
            nothing and keeps every notification in ``.sent`` so nothing leaves the process
            until you plug a real notifier in.
        policy: decides who may do what. Default: ``AllowAll()``.
        leads: how the leads use cases behave (duplicate policy, follow-up calendar, scoring
            model, assignment rules...). Default: ``LeadSettings()``
            (:class:`crmkit.app.leads.LeadSettings`).
        pricing: how the quote use cases behave (approval policy, tax policy, cash rounding,
            the discount rule set, how long quotes are valid...). Default: ``PricingSettings()``
            (:class:`crmkit.app.quotes.PricingSettings`).
        service: how the complaint and maintenance use cases behave (complaint policy, SLA
            policies, calendars, assignment rules...). Default: ``ServiceSettings()``
            (:class:`crmkit.app.service.ServiceSettings`).
        service_hooks: the functions the service use cases call into other contexts (the
            customer's tier, goodwill points). Default: none
            (:class:`crmkit.app.service.ServiceHooks`); with ``loyalty`` configured, the hooks
            left unset are the loyalty context's (the member's tier selects the SLA, goodwill
            points go on the member's ledger).
        loyalty: the loyalty program the loyalty use cases run, its rewards, referrals and
            points as payment (:class:`crmkit.app.loyalty.LoyaltySettings`). Default: none
            (only saving a program is possible).
        customers: how customers are segmented for the 360 view and the segment report
            (rule segments, RFM, lifecycle and "needs attention" thresholds)
            (:class:`crmkit.app.customer360.CustomerSettings`). Default: ``CustomerSettings()``.
        audit: keep the audit log: every command records who changed what in which record,
            in the command's own transaction, as tamper-evident chains
            (:mod:`crmkit.app.audit`). ``True`` (the default) uses ``AuditSettings()``; pass
            :class:`crmkit.app.audit.AuditSettings` for an HMAC key or other exclusions, or
            ``False`` to record nothing.
        privacy: the personal-data map and retention rules the privacy requests follow
            (:class:`crmkit.app.privacy.PrivacySettings`). Default: the built-in ones.

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> from crmkit import ManualClock
        >>> from crmkit.kernel import SequentialIds
        >>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")))
        >>> crm = bootstrap(database=":memory:", clock=clock, ids=SequentialIds())
        >>> tea = crm.register_customer("Formosa Tea Co.")
        >>> tea.id, tea.created_at.isoformat()
        ('cus_000001', '2026-03-02T09:00:00+08:00')
        >>> bootstrap(store=crm.store, database="crm.db")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: database: give either store or database, not both; ...

    .. versionadded:: 0.1.0
    """
    if store is not None and database is not None:
        raise ValidationError(
            "give either store or database, not both; database='crm.db' is shorthand for "
            "store=SQLiteStore('crm.db')",
            path="database",
        )
    if database is not None:
        if not isinstance(database, (str, os.PathLike)):
            raise ValidationError(
                f"must be a file path (str or os.PathLike) or ':memory:', not "
                f"{type(database).__name__}",
                path="database",
            )
        from crmkit.adapters.sqlite import SQLiteStore

        store = SQLiteStore(database)
    elif store is None:
        from crmkit.adapters.memory import MemoryStore

        store = MemoryStore()
    elif not isinstance(store, Store):
        raise _not_a("Store", store, "store", "MemoryStore() or SQLiteStore('crm.db')")
    if clock is None:
        clock = SystemClock()
    elif not isinstance(clock, Clock):
        raise _not_a("Clock", clock, "clock", "SystemClock() or ManualClock()")
    if ids is None:
        ids = SortableIds(clock)
    elif not isinstance(ids, IdGenerator):
        raise _not_a("IdGenerator", ids, "ids", "SortableIds() or SequentialIds()")
    if notifier is None:
        from crmkit.adapters.memory import RecordingNotifier

        notifier = RecordingNotifier()
    elif not isinstance(notifier, Notifier):
        raise _not_a("Notifier", notifier, "notifier", "RecordingNotifier()")
    if policy is None:
        policy = AllowAll()
    elif not isinstance(policy, AccessPolicy):
        raise _not_a("AccessPolicy", policy, "policy", "AllowAll()")

    if isinstance(audit, AuditSettings):
        audit_settings: AuditSettings | None = audit
    elif audit is True or audit is False:
        audit_settings = AuditSettings() if audit else None
    else:
        raise ValidationError(
            f"must be True, False or AuditSettings, not {type(audit).__name__}", path="audit"
        )
    bus = MessageBus(store, audit=audit_settings, clock=clock)
    for command_type, handler in customers_app.command_handlers(
        clock=clock, ids=ids, policy=policy
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in merge_app.command_handlers(
        clock=clock, ids=ids, policy=policy
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in leads_app.command_handlers(
        clock=clock, ids=ids, policy=policy, settings=leads
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in quotes_app.command_handlers(
        clock=clock, ids=ids, policy=policy, settings=pricing
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    if loyalty is not None:
        if not isinstance(loyalty, loyalty_app.LoyaltySettings):
            raise ValidationError(
                f"must be LoyaltySettings, not {type(loyalty).__name__}", path="loyalty"
            )
        if service_hooks is None:
            service_hooks = service_app.ServiceHooks()
        elif not isinstance(service_hooks, service_app.ServiceHooks):
            raise ValidationError(
                f"must be ServiceHooks, not {type(service_hooks).__name__}", path="service_hooks"
            )
        service_hooks = attrs.evolve(
            service_hooks,
            tier_lookup=service_hooks.tier_lookup or loyalty_app.tier_lookup_hook(loyalty),
            goodwill_points=(
                service_hooks.goodwill_points or loyalty_app.goodwill_points_hook(loyalty)
            ),
        )
    for command_type, handler in loyalty_app.command_handlers(
        clock=clock, policy=policy, settings=loyalty
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in service_app.command_handlers(
        clock=clock, ids=ids, policy=policy, settings=service, hooks=service_hooks
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in customer360_app.command_handlers(
        clock=clock, policy=policy, settings=customers, service=service
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    for command_type, handler in privacy_app.command_handlers(
        clock=clock, policy=policy, settings=privacy, audit=audit_settings
    ).items():
        bus.register(command_type, with_unit_of_work(handler, policy))
    return CRM(store=store, clock=clock, ids=ids, notifier=notifier, policy=policy, bus=bus)
