"""Tenants: one store and one CRM per tenant, so no record crosses from one tenant to another.

:class:`TenantStores` opens each tenant's own store (a ``MemoryStore``, a SQLite file per tenant,
or whatever ``open_store`` builds, e.g. a PostgreSQL schema per tenant) and bootstraps a
:class:`~crmkit.app.CRM` on it whose :class:`~crmkit.access.RoleBasedPolicy` refuses the actors
of every other tenant. A record of tenant A is not in tenant B's store, so no id, query or bug in
a filter can read or write it from B: isolation holds by construction, not by a ``WHERE tenant =``
that every query must remember.

Example:
    >>> from crmkit.access import AccessRules, Actor, StaticActorDirectory
    >>> directory = StaticActorDirectory([
    ...     Actor(id="u_amy", roles=["rep"], tenant="acme"),
    ...     Actor(id="u_gus", roles=["admin"], tenant="globex")])
    >>> tenants = TenantStores.memory(rules=AccessRules.builtin(), directory=directory)
    >>> tea = tenants.crm("acme").register_customer("Formosa Tea Co.", owner="u_amy",
    ...                                             actor="u_amy")
    >>> tenants.for_actor("u_gus").get_customer(tea.id, actor="u_gus")
    Traceback (most recent call last):
    ...
    crmkit.errors.NotFoundError: ...
    >>> tenants.crm("acme").get_customer(tea.id, actor="u_gus")
    Traceback (most recent call last):
    ...
    crmkit.errors.PermissionDeniedError: user 'u_gus' belongs to tenant 'globex', not to ...

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmkit.access import AccessRules, ActorDirectory, RoleBasedPolicy
from crmkit.app import _access
from crmkit.app._crm import CRM
from crmkit.app.bootstrap import bootstrap
from crmkit.errors import PermissionDeniedError, ValidationError
from crmkit.ports import Store

__all__ = ["TenantStores", "UnitOfWorkOwners", "check_tenant"]

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_tenant(value: object) -> str:
    """Return ``value`` if it is a usable tenant id: letters, digits, ``_`` and ``-``, 1-63.

    A tenant id becomes part of a file name or a schema name, so nothing else is allowed.

    Example:
        >>> check_tenant("acme-tw")
        'acme-tw'
        >>> check_tenant("../etc")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: tenant: must be 1 to 63 letters, digits, '_' or '-' ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str) or _TENANT.match(value) is None:
        raise ValidationError(
            "must be 1 to 63 letters, digits, '_' or '-' starting with a letter or digit "
            f"(it names a file or schema), got {value!r}",
            path="tenant",
        )
    return value


class UnitOfWorkOwners:
    """An :class:`~crmkit.access.OwnerLookup` reading through the running command's unit of work.

    Inside a command (and inside the facade's reads) it loads the customer from the same unit
    of work the handler uses, so it sees the handler's view and opens no second transaction;
    outside one it knows no owner (``None``), so only a level of ``all`` reaches such records.

    Example:
        >>> from crmkit.access import OwnerLookup
        >>> owners = UnitOfWorkOwners()
        >>> isinstance(owners, OwnerLookup), owners.customer_owner("cus_1")
        (True, None)

    .. versionadded:: 0.1.0
    """

    def customer_owner(self, customer_id: str) -> str | None:
        """The owner of ``customer_id`` in the current unit of work, or ``None``."""
        return _access.customer_owner(customer_id)


_RESERVED = {"store", "database", "policy"}


class TenantStores:
    """One store and one bootstrapped :class:`~crmkit.app.CRM` per tenant, opened on first use.

    Args:
        open_store: builds the store of a tenant from its id (called once per tenant).
        rules: the access rules every tenant's policy enforces.
        directory: resolves user ids to actors (each actor names their one tenant).
        options: passed to :func:`~crmkit.app.bootstrap` for every tenant (``clock``, ``ids``,
            ``notifier``, ``leads``, ``pricing``, ``service``, ``loyalty``...); not ``store``,
            ``database`` or ``policy``, which this class supplies.

    Example:
        >>> from crmkit.access import AccessRules, Actor, StaticActorDirectory
        >>> directory = StaticActorDirectory([Actor(id="u_amy", roles=["rep"], tenant="acme")])
        >>> tenants = TenantStores.memory(rules=AccessRules.builtin(), directory=directory)
        >>> tenants.crm("acme") is tenants.for_actor("u_amy"), tenants.tenants()
        (True, ('acme',))

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        open_store: Callable[[str], Store],
        *,
        rules: AccessRules,
        directory: ActorDirectory,
        **options: Any,
    ) -> None:
        if not callable(open_store):
            raise ValidationError(
                f"must be callable as open_store(tenant) -> Store, not {type(open_store).__name__}",
                path="open_store",
            )
        reserved = sorted(_RESERVED & options.keys())
        if reserved:
            raise ValidationError(
                f"TenantStores supplies {', '.join(reserved)} itself for each tenant; leave "
                "them out",
                path=reserved[0],
            )
        # built once here, so bad rules or a bad directory fail now, not on the first tenant
        RoleBasedPolicy(rules, directory, tenant="check")
        self._open_store = open_store
        self.rules = rules
        self.directory = directory
        self._options = options
        self._crms: dict[str, CRM] = {}
        self._lock = threading.Lock()

    @classmethod
    def memory(
        cls, *, rules: AccessRules, directory: ActorDirectory, **options: Any
    ) -> TenantStores:
        """A ``MemoryStore`` per tenant (for tests and demos).

        Example:
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> TenantStores.memory(rules=AccessRules.builtin(),
            ...                     directory=StaticActorDirectory([])).tenants()
            ()
        """
        from crmkit.adapters.memory import MemoryStore

        return cls(lambda _tenant: MemoryStore(), rules=rules, directory=directory, **options)

    @classmethod
    def sqlite(
        cls,
        folder: str | os.PathLike[str],
        *,
        rules: AccessRules,
        directory: ActorDirectory,
        **options: Any,
    ) -> TenantStores:
        """A SQLite file per tenant, ``<folder>/<tenant>.db`` (the folder must exist).

        Example:
            >>> import tempfile
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     tenants = TenantStores.sqlite(folder, rules=AccessRules.builtin(),
            ...                                   directory=StaticActorDirectory([]))
            ...     _ = tenants.crm("acme").register_customer("Acme")
            ...     sorted(p.name for p in Path(folder).iterdir() if p.suffix == ".db")
            ['acme.db']
        """
        from crmkit.adapters.sqlite import SQLiteStore

        if not isinstance(folder, (str, os.PathLike)):
            raise ValidationError(
                f"must be a folder path, not {type(folder).__name__}", path="folder"
            )
        base = Path(folder)
        if not base.is_dir():
            raise ValidationError(f"must be an existing folder, not {str(base)!r}", path="folder")

        def open_store(tenant: str) -> Store:
            return SQLiteStore(base / f"{tenant}.db")

        return cls(open_store, rules=rules, directory=directory, **options)

    @classmethod
    def sqlalchemy(
        cls,
        engine: Any,
        *,
        rules: AccessRules,
        directory: ActorDirectory,
        schema_prefix: str = "tenant_",
        **options: Any,
    ) -> TenantStores:
        """A database schema per tenant, ``<schema_prefix><tenant>``, on one SQLAlchemy engine.

        Each tenant's store runs on ``engine.execution_options(schema_translate_map=...)``, so
        its tables (``crm_customers``...) live in its own schema, created on first use. Made for
        PostgreSQL (on MariaDB/MySQL a schema is a database, and the engine's user must be
        allowed to create them). Needs the ``sqlalchemy`` extra.

        Example:
            >>> import sqlalchemy
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> TenantStores.sqlalchemy(sqlalchemy.create_engine("sqlite://"),
            ...     rules=AccessRules.builtin(), directory=StaticActorDirectory([]),
            ...     schema_prefix="t-")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: schema_prefix: must be letters, digits and '_' ...
        """
        import sqlalchemy as sa

        from crmkit.adapters.sqlalchemy import SQLAlchemyStore

        if not isinstance(engine, sa.Engine):
            raise ValidationError(
                f"must be a sqlalchemy.Engine, not {type(engine).__name__}", path="engine"
            )
        if (
            not isinstance(schema_prefix, str)
            or re.fullmatch(r"[a-z_][a-z0-9_]{0,20}", schema_prefix) is None
        ):
            raise ValidationError(
                "must be letters, digits and '_' (lower case, at most 21), starting with a "
                f"letter or '_', got {schema_prefix!r}",
                path="schema_prefix",
            )

        def open_store(tenant: str) -> Store:
            schema = schema_prefix + tenant
            if re.fullmatch(r"[a-z0-9_]+", tenant) is None or len(schema) > 63:
                # one schema per tenant id, never shared: no folding of case or '-'
                raise ValidationError(
                    "a schema per tenant needs a tenant id of lower-case letters, digits and "
                    f"'_' that makes a schema name of at most 63 characters, got {tenant!r}",
                    path="tenant",
                )
            with engine.begin() as conn:
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            scoped = engine.execution_options(schema_translate_map={None: schema})
            return SQLAlchemyStore(scoped)

        return cls(open_store, rules=rules, directory=directory, **options)

    def crm(self, tenant: str) -> CRM:
        """The CRM of ``tenant``: its own store, and a policy that refuses other tenants' actors.

        Example:
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> tenants = TenantStores.memory(rules=AccessRules.builtin(),
            ...                               directory=StaticActorDirectory([]))
            >>> tenants.crm("acme").store is tenants.crm("globex").store
            False
        """
        tenant = check_tenant(tenant)
        with self._lock:
            found = self._crms.get(tenant)
            if found is None:
                policy = RoleBasedPolicy(
                    self.rules, self.directory, tenant=tenant, owners=UnitOfWorkOwners()
                )
                found = bootstrap(store=self._open_store(tenant), policy=policy, **self._options)
                self._crms[tenant] = found
            return found

    def for_actor(self, user_id: str) -> CRM:
        """The CRM of the tenant ``user_id`` belongs to (``PermissionDeniedError``: no such user).

        Example:
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> TenantStores.memory(rules=AccessRules.builtin(),
            ...                     directory=StaticActorDirectory([])).for_actor("u_x")
            Traceback (most recent call last):
            ...
            crmkit.errors.PermissionDeniedError: unknown user 'u_x' belongs to no tenant; ...
        """
        actor = self.directory.actor(user_id) if isinstance(user_id, str) else None
        if actor is None:
            raise PermissionDeniedError(
                f"unknown user {user_id!r} belongs to no tenant; add them to the host's user "
                "directory",
                details={"actor": str(user_id)},
            )
        return self.crm(actor.tenant)

    def tenants(self) -> tuple[str, ...]:
        """The tenants opened so far, sorted.

        Example:
            >>> from crmkit.access import AccessRules, StaticActorDirectory
            >>> tenants = TenantStores.memory(rules=AccessRules.builtin(),
            ...                               directory=StaticActorDirectory([]))
            >>> _ = tenants.crm("b"), tenants.crm("a")
            >>> tenants.tenants()
            ('a', 'b')
        """
        with self._lock:
            return tuple(sorted(self._crms))
