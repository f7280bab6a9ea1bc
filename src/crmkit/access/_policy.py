"""The policies: :class:`AllowAll` and the rules-driven :class:`RoleBasedPolicy`."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from crmkit.access._actor import Actor, ActorDirectory
from crmkit.access._mask import mask_document
from crmkit.access._rules import AccessRules, ActionRule, Level
from crmkit.errors import PermissionDeniedError, ValidationError
from crmkit.kernel.ids import check_id


class AllowAll:
    """The permissive default policy: every actor may do everything and sees every field.

    Example:
        >>> AllowAll().check(None, "customers.register") is None
        True
        >>> doc = {"emails": ["amy@example.com"]}
        >>> AllowAll().mask("u_amy", "contacts", doc) is doc
        True

    .. versionadded:: 0.1.0
    """

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        """Allow everything."""
        return None

    def mask(self, actor: str | None, record_type: str, document: dict[str, Any]) -> dict[str, Any]:
        """Mask nothing: return ``document`` itself."""
        return document


@runtime_checkable
class OwnerLookup(Protocol):
    """Finds who owns a customer, for records that have no owner of their own.

    Contacts, interactions, quotes, memberships and maintenance contracts belong to whoever
    owns their customer. The app layer provides one that reads through the unit of work of the
    command being checked (:class:`crmkit.app.tenants.UnitOfWorkOwners`); a test can pass a
    dict's ``get``-like object.

    Example:
        >>> class Owners:
        ...     def customer_owner(self, customer_id):
        ...         return {"cus_1": "u_amy"}.get(customer_id)
        >>> isinstance(Owners(), OwnerLookup)
        True

    .. versionadded:: 0.1.0
    """

    def customer_owner(self, customer_id: str) -> str | None:
        """Return the owner of customer ``customer_id`` (``None``: no owner or no customer)."""
        ...


def _target(resource: object | None) -> object | None:
    """The record a resource stands for: an approval request stands for its quote, and so on."""
    if resource is None or hasattr(resource, "id"):
        return resource
    for name in ("case", "quote", "member", "customer"):
        inner: object | None = getattr(resource, name, None)
        if inner is not None:
            return inner
    return resource


def _acting_role(resource: object | None) -> str | None:
    """The role a request acts in: an approval's ``role``, a compensation's ``approver_role``."""
    if resource is None or hasattr(resource, "id"):
        return None
    for name in ("role", "approver_role"):
        value = getattr(resource, name, None)
        if isinstance(value, str):
            return value
    return None


def _describe(resource: object | None) -> str:
    if resource is None:
        return "no particular record"
    record_id = getattr(resource, "id", None)
    kind = type(resource).__name__
    return f"{kind} {record_id!r}" if isinstance(record_id, str) else kind


class RoleBasedPolicy:
    """Enforces :class:`AccessRules` for the actors of one tenant; masks what they may not see.

    ``check(actor, action, resource)`` resolves the user id through ``directory`` and raises
    ``PermissionDeniedError`` (saying who, what and why) when the user is unknown, belongs to
    another tenant, or their roles' level for the action's record type and operation does not
    reach the record: ``own`` needs the actor to own the record or its customer; ``team`` also
    accepts an owner who shares a team with the actor, or a case of one of the actor's teams;
    ``all`` accepts every record. A request that acts in a role (an approval's ``role``, a
    compensation's ``approver_role``) naming a role of the rules needs an actor holding that
    role, unless their level is ``all``. An actor of ``None`` is the system itself (scheduled
    runs, event reactions): allowed unless ``allow_system=False``.

    ``mask(actor, record_type, document)`` returns the document with the fields the actor's
    roles mask (see :meth:`AccessRules.masks`).

    Example:
        >>> from crmkit.access import Actor, StaticActorDirectory
        >>> directory = StaticActorDirectory([
        ...     Actor(id="u_amy", roles=["rep"], teams=["north"], tenant="acme"),
        ...     Actor(id="u_bob", roles=["rep"], teams=["south"], tenant="acme"),
        ...     Actor(id="u_eve", roles=["admin"], tenant="globex")])
        >>> policy = RoleBasedPolicy(AccessRules.builtin(), directory, tenant="acme")
        >>> from types import SimpleNamespace
        >>> amys = SimpleNamespace(id="cus_1", owner="u_amy")
        >>> policy.check("u_amy", "customers.rename", amys)
        >>> policy.check("u_bob", "customers.rename", amys)
        Traceback (most recent call last):
        ...
        crmkit.errors.PermissionDeniedError: user 'u_bob' (roles: rep) may not customers.rename ...
        >>> policy.check("u_eve", "customers.read", amys)
        Traceback (most recent call last):
        ...
        crmkit.errors.PermissionDeniedError: user 'u_eve' belongs to tenant 'globex', not to ...

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        rules: AccessRules,
        directory: ActorDirectory,
        *,
        tenant: str,
        owners: OwnerLookup | None = None,
        allow_system: bool = True,
    ) -> None:
        if not isinstance(rules, AccessRules):
            raise ValidationError(
                f"must be AccessRules (e.g. AccessRules.builtin()), not {type(rules).__name__}",
                path="rules",
            )
        if not isinstance(directory, ActorDirectory):
            raise ValidationError(
                "must implement crmkit.access.ActorDirectory (e.g. StaticActorDirectory([...])), "
                f"not {type(directory).__name__}",
                path="directory",
            )
        if owners is not None and not isinstance(owners, OwnerLookup):
            raise ValidationError(
                f"must implement crmkit.access.OwnerLookup, not {type(owners).__name__}",
                path="owners",
            )
        if not isinstance(allow_system, bool):
            raise ValidationError(
                f"must be True or False, not {type(allow_system).__name__}", path="allow_system"
            )
        self.rules = rules
        self.directory = directory
        self.tenant = check_id(tenant, "tenant")
        self.owners = owners
        self.allow_system = allow_system
        self._actions = {rule.action: rule for rule in rules.actions}

    # ----- who ---------------------------------------------------------------------------
    def actor(self, user_id: str | None, action: str) -> Actor | None:
        """The actor behind ``user_id`` if they may act in this tenant at all (``None``: system).

        Example:
            >>> from crmkit.access import StaticActorDirectory
            >>> RoleBasedPolicy(AccessRules.builtin(), StaticActorDirectory([]),
            ...                 tenant="acme").actor("u_x", "customers.read")
            Traceback (most recent call last):
            ...
            crmkit.errors.PermissionDeniedError: unknown user 'u_x' may not customers.read in ...
        """
        if user_id is None:
            if self.allow_system:
                return None
            raise PermissionDeniedError(
                f"no user given for {action} in tenant {self.tenant!r}, and this policy does "
                "not allow system actions; pass actor=<user id>",
                details={"action": action, "tenant": self.tenant},
            )
        found = self.directory.actor(user_id) if isinstance(user_id, str) else None
        if found is None:
            raise PermissionDeniedError(
                f"unknown user {user_id!r} may not {action} in tenant {self.tenant!r}: the "
                "directory has no such user; add them to the host's user directory",
                details={"actor": str(user_id), "action": action, "tenant": self.tenant},
            )
        if found.tenant != self.tenant:
            raise PermissionDeniedError(
                f"user {found.id!r} belongs to tenant {found.tenant!r}, not to {self.tenant!r} "
                f"whose records this CRM holds, so may not {action} here; use the CRM of "
                f"tenant {found.tenant!r}",
                details={
                    "actor": found.id,
                    "action": action,
                    "tenant": self.tenant,
                    "actor_tenant": found.tenant,
                },
            )
        return found

    def admit(self, user_id: str | None) -> None:
        """Refuse an unknown user or one of another tenant, whatever they ask for.

        The app layer calls this before it reads anything for a command or a read, so a
        stranger cannot even learn whether an id exists here.

        Example:
            >>> from crmkit.access import Actor, StaticActorDirectory
            >>> policy = RoleBasedPolicy(AccessRules.builtin(), StaticActorDirectory(
            ...     [Actor(id="u_gus", roles=["admin"], tenant="globex")]), tenant="acme")
            >>> policy.admit("u_gus")
            Traceback (most recent call last):
            ...
            crmkit.errors.PermissionDeniedError: user 'u_gus' belongs to tenant 'globex', ...
        """
        self.actor(user_id, "use this CRM")

    # ----- what --------------------------------------------------------------------------
    def _rule(self, actor: Actor, action: str) -> ActionRule:
        rule = self._actions.get(action)
        if rule is None:
            raise PermissionDeniedError(
                f"user {actor.id!r} may not {action}: the access rules do not map that action "
                "to a record type and operation; add ActionRule(action, record_type, "
                "operation) to AccessRules.actions",
                details={"actor": actor.id, "action": action},
            )
        return rule

    def owners_of(self, resource: object | None) -> tuple[str, ...]:
        """Who owns ``resource``: its owner (or technician) and its customer's owner.

        Example:
            >>> from types import SimpleNamespace
            >>> from crmkit.access import StaticActorDirectory
            >>> class Owners:
            ...     def customer_owner(self, customer_id):
            ...         return "u_amy"
            >>> policy = RoleBasedPolicy(AccessRules.builtin(), StaticActorDirectory([]),
            ...                          tenant="acme", owners=Owners())
            >>> policy.owners_of(SimpleNamespace(id="q1", owner="u_bob", customer_id="cus_1"))
            ('u_bob', 'u_amy')
        """
        target = _target(resource)
        if target is None:
            return ()
        found: list[str] = []
        for name in ("owner", "technician"):
            value = getattr(target, name, None)
            if isinstance(value, str) and value not in found:
                found.append(value)
        customer_id = getattr(target, "customer_id", None)
        if isinstance(customer_id, str) and self.owners is not None:
            owner = self.owners.customer_owner(customer_id)
            if owner is not None and owner not in found:
                found.append(owner)
        return tuple(found)

    def _reaches(self, actor: Actor, level: Level, resource: object | None) -> tuple[bool, str]:
        owners = self.owners_of(resource)
        if actor.id in owners:
            return True, ""
        shown = ", ".join(repr(o) for o in owners) or "nobody"
        if level is Level.OWN:
            return False, f"their level is own and the record is owned by {shown}"
        team = getattr(_target(resource), "team", None)
        if isinstance(team, str) and team in actor.teams:
            return True, ""
        for owner in owners:
            other = self.directory.actor(owner)
            if other is not None and other.tenant == actor.tenant and actor.shares_team_with(other):
                return True, ""
        teams = ", ".join(actor.teams) or "none"
        return False, (
            f"their level is team and the record is owned by {shown}, who shares none of "
            f"their teams ({teams})"
        )

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        """Return if ``actor`` may perform ``action`` on ``resource``; raise otherwise.

        Example:
            >>> from crmkit.access import Actor, StaticActorDirectory
            >>> directory = StaticActorDirectory([
            ...     Actor(id="u_ann", roles=["auditor"], tenant="acme")])
            >>> policy = RoleBasedPolicy(AccessRules.builtin(), directory, tenant="acme")
            >>> policy.check("u_ann", "customers.register")
            Traceback (most recent call last):
            ...
            crmkit.errors.PermissionDeniedError: user 'u_ann' (roles: auditor) may not ...
        """
        found = self.actor(actor, action)
        if found is None:
            return
        rule = self._rule(found, action)
        level = self.rules.level(found.roles, rule.record_type, rule.operation)
        target = _target(resource)
        acting = _acting_role(resource)
        if (
            acting is not None
            and self.rules.role(acting) is not None
            and acting not in found.roles
            and level is not Level.ALL
        ):
            why = (
                f"the request acts as role {acting!r}, which they do not hold (only a user "
                f"with that role, or level all, may decide as {acting!r})"
            )
        elif level is Level.ALL:
            return
        elif level is Level.NONE:
            why = f"their roles grant no {rule.operation} on {rule.record_type}"
        elif target is None:
            if rule.operation == "create" or rule.listing:
                return
            why = (
                f"acting on no particular record ({rule.operation} on every "
                f"{rule.record_type}) needs level all, and theirs is {level.value}"
            )
        else:
            allowed, why = self._reaches(found, level, target)
            if allowed:
                return
        roles = ", ".join(found.roles) or "none"
        raise PermissionDeniedError(
            f"user {found.id!r} (roles: {roles}) may not {action} on {_describe(target)}: {why}",
            details={
                "actor": found.id,
                "action": action,
                "record_type": rule.record_type,
                "operation": rule.operation,
                "level": level.value,
                "resource": getattr(target, "id", None),
            },
        )

    def mask(self, actor: str | None, record_type: str, document: dict[str, Any]) -> dict[str, Any]:
        """Return ``document`` with the fields ``actor``'s roles mask in ``record_type``.

        Example:
            >>> from crmkit.access import Actor, StaticActorDirectory
            >>> directory = StaticActorDirectory([
            ...     Actor(id="u_ann", roles=["auditor"], tenant="acme")])
            >>> policy = RoleBasedPolicy(AccessRules.builtin(), directory, tenant="acme")
            >>> policy.mask("u_ann", "contacts", {"name": "Amy", "emails": ["amy@example.com"],
            ...                                    "phones": ["+886912345678"]})
            {'name': 'Amy', 'emails': ['a***@example.com'], 'phones': ['+8869****5678']}
        """
        found = self.actor(actor, f"{record_type}.read")
        if found is None:
            return document
        return mask_document(document, self.rules.masks(found.roles, record_type))
