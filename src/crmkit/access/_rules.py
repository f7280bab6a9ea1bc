"""Access rules as data: levels per role, record type and operation; field masks; actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id

#: A record type or operation that matches every record type or operation in a grant.
ANY = "*"


class Level(StrEnum):
    """How far a grant reaches: ``none`` < ``own`` < ``team`` < ``all``.

    ``own``: records the actor owns (or whose customer the actor owns); ``team``: also records
    owned by someone who shares a team with the actor (or a case of one of the actor's teams);
    ``all``: every record of the tenant.

    Example:
        >>> Level("team") > Level("own"), max(Level.OWN, Level.ALL).value
        (True, 'all')

    .. versionadded:: 0.1.0
    """

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"

    @property
    def rank(self) -> int:
        """0 for ``none`` up to 3 for ``all``."""
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_RANKS = {Level.NONE: 0, Level.OWN: 1, Level.TEAM: 2, Level.ALL: 3}


class MaskStyle(StrEnum):
    """How a masked field is shown.

    ``email``: ``"amy@example.com"`` becomes ``"a***@example.com"``; ``phone``:
    ``"+886912345678"`` becomes ``"+8869****5678"``; ``redact``: text becomes ``"***"``;
    ``hide``: the value becomes ``None`` (amounts, dates, whole sections).

    Example:
        >>> MaskStyle("phone").value
        'phone'

    .. versionadded:: 0.1.0
    """

    EMAIL = "email"
    PHONE = "phone"
    REDACT = "redact"
    HIDE = "hide"


def _name(field: str) -> Callable[[object], str]:
    def convert(value: object) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be text, not {type(value).__name__}", path=field)
        return check_id(value.strip(), field)

    return convert


def _names(field: str) -> Callable[[object], tuple[str, ...]]:
    return v.text_tuple(field, lambda text: check_id(text, field))


def _level(value: object) -> Level:
    return v.to_enum(Level, "level")(value)


def _style(value: object) -> MaskStyle:
    return v.to_enum(MaskStyle, "style")(value)


def _path(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="field")
    parts = value.strip().split(".")
    for part in parts:
        check_id(part, "field")
    return ".".join(parts)


def _record_type(value: object) -> str:
    return _name("record_type")(value)


def _operation(value: object) -> str:
    return _name("operation")(value)


def _action_name(value: object) -> str:
    return _name("action")(value)


def _role_name(value: object) -> str:
    return _name("name")(value)


def _operations(value: object) -> tuple[str, ...]:
    return _names("operations")(value)


def _grants(value: object) -> tuple[Grant, ...]:
    return v.instance_tuple(Grant, "grants")(value)


def _field_masks(value: object) -> tuple[FieldMask, ...]:
    return v.instance_tuple(FieldMask, "masks")(value)


@attrs.frozen
class Grant:
    """A role's level for some operations on a record type (``"*"`` matches any).

    Example:
        >>> Grant("customers", ["read", "update"], "team").operations
        ('read', 'update')

    .. versionadded:: 0.1.0
    """

    record_type: str = attrs.field(converter=_record_type)
    operations: tuple[str, ...] = attrs.field(converter=_operations)
    level: Level = attrs.field(converter=_level)

    def __attrs_post_init__(self) -> None:
        if not self.operations:
            raise ValidationError("must name at least one operation (or '*')", path="operations")


@attrs.frozen
class FieldMask:
    """A field a role sees masked: record type, dotted path in its document, and style.

    A path passes through lists: ``"lines.amount"`` masks the amount of every line.

    Example:
        >>> FieldMask("contacts", "emails", "email").style.value
        'email'

    .. versionadded:: 0.1.0
    """

    record_type: str = attrs.field(converter=_record_type)
    field: str = attrs.field(converter=_path)
    style: MaskStyle = attrs.field(converter=_style)


@attrs.frozen(kw_only=True)
class Role:
    """A named set of grants and field masks.

    Within one role the most specific grant wins (exact record type and operation, then a
    ``"*"`` operation, then a ``"*"`` record type); anything not granted is ``none``.

    Example:
        >>> rep = Role(name="rep", grants=[Grant("customers", ["read"], "team"),
        ...                                Grant("*", ["read"], "own")])
        >>> rep.level("customers", "read").value, rep.level("leads", "read").value
        ('team', 'own')
        >>> rep.level("leads", "update").value
        'none'

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=_role_name)
    grants: tuple[Grant, ...] = attrs.field(default=(), converter=_grants)
    masks: tuple[FieldMask, ...] = attrs.field(default=(), converter=_field_masks)
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )

    def __attrs_post_init__(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for i, grant in enumerate(self.grants):
            for operation in grant.operations:
                key = (grant.record_type, operation)
                if key in seen:
                    raise DefinitionError(
                        f"role {self.name!r} grants {operation!r} on {grant.record_type!r} "
                        f"twice (grants[{seen[key]}] and grants[{i}]); keep one",
                        details={"role": self.name, "grants": [seen[key], i]},
                    )
                seen[key] = i
        masked: set[tuple[str, str]] = set()
        for mask in self.masks:
            key = (mask.record_type, mask.field)
            if key in masked:
                raise DefinitionError(
                    f"role {self.name!r} masks {mask.field!r} of {mask.record_type!r} twice; "
                    "keep one",
                    details={"role": self.name},
                )
            masked.add(key)

    def level(self, record_type: str, operation: str) -> Level:
        """This role's level for ``operation`` on ``record_type`` (most specific grant).

        Example:
            >>> Role(name="auditor", grants=[Grant("*", ["read"], "all")]).level(
            ...     "quotes", "read").value
            'all'
        """
        best: tuple[int, Level] | None = None
        for grant in self.grants:
            if grant.record_type not in (record_type, ANY):
                continue
            for operation_name in grant.operations:
                if operation_name not in (operation, ANY):
                    continue
                specificity = (grant.record_type != ANY) * 2 + (operation_name != ANY)
                if best is None or specificity > best[0]:
                    best = (specificity, grant.level)
        return Level.NONE if best is None else best[1]

    def masks_for(self, record_type: str) -> dict[str, MaskStyle]:
        """The fields this role masks in ``record_type`` (its own and ``"*"`` masks).

        Example:
            >>> Role(name="x", masks=[FieldMask("leads", "email", "email")]).masks_for("leads")
            {'email': <MaskStyle.EMAIL: 'email'>}
        """
        return {
            mask.field: mask.style for mask in self.masks if mask.record_type in (record_type, ANY)
        }


@attrs.frozen
class ActionRule:
    """What an action name means: the record type it touches and the operation it performs.

    ``listing`` marks an action that lists records and is checked again on each one, so on no
    particular record it needs only ``own``; any other action on no particular record (a
    scheduled run, a report over everyone) needs ``all``, except ``create``, which needs ``own``.

    Example:
        >>> ActionRule("customers.rename", "customers", "update").operation
        'update'

    .. versionadded:: 0.1.0
    """

    action: str = attrs.field(converter=_action_name)
    record_type: str = attrs.field(converter=_record_type)
    operation: str = attrs.field(converter=_operation)
    listing: bool = attrs.field(default=False, validator=v.of_type(bool), kw_only=True)


def _actions(items: Iterable[tuple[str, str, str]]) -> tuple[ActionRule, ...]:
    return tuple(ActionRule(action, record_type, op) for action, record_type, op in items)


#: Every action crmkit's use cases check, with the record type and operation it maps to.
BUILTIN_ACTIONS: tuple[ActionRule, ...] = (
    *_actions(
        [
            ("analytics.loyalty", "loyalty_reports", "read"),
            ("analytics.sales", "sales_reports", "read"),
            ("analytics.service", "service_reports", "read"),
            ("catalog.manage", "catalog", "manage"),
            ("catalog.read", "catalog", "read"),
            ("customers.add_contact", "contacts", "create"),
            ("customers.assign_owner", "customers", "assign"),
            ("customers.dismiss_duplicate", "customers", "merge"),
            ("customers.find_duplicates", "customers", "merge"),
            ("customers.import", "customers", "import"),
            ("customers.log_interaction", "interactions", "create"),
            ("customers.merge", "customers", "merge"),
            ("customers.read", "customers", "read"),
            ("customers.read_contacts", "contacts", "read"),
            ("customers.read_orders", "orders", "read"),
            ("customers.read_timeline", "interactions", "read"),
            ("customers.record_consent", "contacts", "update"),
            ("customers.record_order", "orders", "create"),
            ("customers.record_refund", "orders", "update"),
            ("customers.register", "customers", "create"),
            ("customers.rename", "customers", "update"),
            ("customers.segment", "customers", "read"),
            ("customers.set_contact_preferences", "contacts", "update"),
            ("customers.tag", "customers", "update"),
            ("leads.answer_qualification", "leads", "update"),
            ("leads.assign", "leads", "assign"),
            ("leads.capture", "leads", "create"),
            ("leads.convert", "leads", "update"),
            ("leads.disqualify", "leads", "update"),
            ("leads.log_activity", "leads", "update"),
            ("leads.mark_contacted", "leads", "update"),
            ("leads.nurture", "leads", "update"),
            ("leads.qualify", "leads", "update"),
            ("leads.read", "leads", "read"),
            ("leads.recycle", "leads", "update"),
            ("leads.score", "leads", "update"),
            ("leads.start_working", "leads", "update"),
            ("loyalty.adjust", "memberships", "adjust"),
            ("loyalty.earn", "memberships", "update"),
            ("loyalty.enroll", "memberships", "create"),
            ("loyalty.manage", "loyalty_programs", "manage"),
            ("loyalty.read", "memberships", "read"),
            ("loyalty.redeem", "memberships", "update"),
            ("loyalty.refer", "memberships", "update"),
            ("loyalty.refund", "memberships", "update"),
            ("loyalty.schedule", "memberships", "update"),
            ("maintenance.read", "maintenance_contracts", "read"),
            ("maintenance.read_work_orders", "work_orders", "read"),
            ("maintenance.renew", "maintenance_contracts", "update"),
            ("maintenance.sign", "maintenance_contracts", "create"),
            ("maintenance.work_orders", "work_orders", "update"),
            ("privacy.erase", "privacy", "erase"),
            ("privacy.export", "privacy", "export"),
            ("quotes.accept", "quotes", "update"),
            ("quotes.approve", "quotes", "approve"),
            ("quotes.create", "quotes", "create"),
            ("quotes.edit", "quotes", "update"),
            ("quotes.expire", "quotes", "update"),
            ("quotes.price", "quotes", "update"),
            ("quotes.read", "quotes", "read"),
            ("quotes.reject", "quotes", "update"),
            ("quotes.revise", "quotes", "update"),
            ("quotes.send", "quotes", "update"),
            ("quotes.submit", "quotes", "update"),
            ("service.acknowledge", "complaints", "update"),
            ("service.assign", "complaints", "assign"),
            ("service.cancel", "complaints", "update"),
            ("service.check_sla", "complaints", "update"),
            ("service.close", "complaints", "update"),
            ("service.compensate", "complaints", "update"),
            ("service.configure", "service_settings", "manage"),
            ("service.csat", "complaints", "update"),
            ("service.customer_message", "complaints", "update"),
            ("service.file", "complaints", "create"),
            ("service.note", "complaints", "update"),
            ("service.read", "complaints", "read"),
            ("service.reopen", "complaints", "update"),
            ("service.reply", "complaints", "update"),
            ("service.resolve", "complaints", "update"),
            ("service.view_public", "complaints", "read"),
            ("service.work", "complaints", "update"),
        ]
    ),
    ActionRule("customers.find", "customers", "read", listing=True),
    ActionRule("leads.find", "leads", "read", listing=True),
    ActionRule("quotes.find", "quotes", "read", listing=True),
    ActionRule("service.find", "complaints", "read", listing=True),
)

_CUSTOMER_DATA = (
    "customers",
    "contacts",
    "interactions",
    "leads",
    "opportunities",
    "quotes",
    "orders",
)


def _builtin_roles() -> tuple[Role, ...]:
    own, team, all_ = Level.OWN, Level.TEAM, Level.ALL
    rep = Role(
        name="rep",
        description="Sales rep: reads the team's customer data, changes their own.",
        grants=[
            *(Grant(rt, ["read"], team) for rt in _CUSTOMER_DATA),
            *(Grant(rt, ["create", "update"], own) for rt in _CUSTOMER_DATA),
            Grant("complaints", ["read", "create"], own),
            Grant("maintenance_contracts", ["read", "create", "update"], own),
            Grant("memberships", ["read", "create", "update"], own),
            Grant("catalog", ["read"], all_),
        ],
    )
    manager = Role(
        name="manager",
        description="Sales manager: reads, changes, assigns and approves their teams' records.",
        grants=[
            *(
                Grant(rt, ["read", "create", "update", "assign", "approve"], team)
                for rt in _CUSTOMER_DATA
            ),
            Grant("customers", ["merge"], team),
            Grant("sales_reports", ["read"], all_),
            Grant("complaints", ["read", "create", "update", "assign"], team),
            Grant("maintenance_contracts", ["read", "create", "update"], team),
            Grant("work_orders", ["read"], team),
            Grant("memberships", ["read", "create", "update", "adjust"], team),
            Grant("catalog", ["read"], all_),
        ],
    )
    service_agent = Role(
        name="service_agent",
        description="Service agent: works every case and reads the customers behind them; "
        "sees no amounts.",
        grants=[
            Grant("complaints", ["read", "create", "update", "assign"], all_),
            Grant("work_orders", ["read", "update"], all_),
            Grant("maintenance_contracts", ["read"], all_),
            Grant("customers", ["read"], all_),
            Grant("contacts", ["read", "update"], all_),
            Grant("interactions", ["read", "create"], all_),
            Grant("memberships", ["read"], all_),
            Grant("orders", ["read"], all_),
            Grant("catalog", ["read"], all_),
            Grant("service_reports", ["read"], all_),
        ],
        masks=[
            FieldMask("orders", "total", "hide"),
            FieldMask("quotes", "priced", "hide"),
            FieldMask("orders", "lines.amount", "hide"),
            FieldMask("orders", "refunds.amount", "hide"),
            FieldMask("complaints", "compensations.amount", "hide"),
            FieldMask("work_orders", "parts.cost", "hide"),
        ],
    )
    auditor = Role(
        name="auditor",
        description="Auditor: reads everything, changes nothing, sees no contact details.",
        grants=[Grant(ANY, ["read"], all_)],
        masks=[
            FieldMask("contacts", "emails", "email"),
            FieldMask("contacts", "phones", "phone"),
            FieldMask("contacts", "birthday", "hide"),
            FieldMask("leads", "email", "email"),
            FieldMask("leads", "phone", "phone"),
        ],
    )
    admin = Role(
        name="admin", description="Administrator: everything.", grants=[Grant(ANY, [ANY], all_)]
    )
    return (rep, manager, service_agent, auditor, admin)


def _roles(value: object) -> tuple[Role, ...]:
    return v.instance_tuple(Role, "roles")(value)


def _action_rules(value: object) -> tuple[ActionRule, ...]:
    return v.instance_tuple(ActionRule, "actions")(value)


@attrs.frozen(kw_only=True)
class AccessRules:
    """The whole access policy as data: roles, and what each action name means.

    A user with several roles gets the most permissive level of each record type and
    operation, and sees a field masked only if every role of theirs that may read the record
    type masks it. The rules round-trip through :mod:`crmkit.serialization`, so a host can keep
    them in its database and edit them in an admin screen.

    Example:
        >>> rules = AccessRules.builtin()
        >>> [role.name for role in rules.roles]
        ['rep', 'manager', 'service_agent', 'auditor', 'admin']
        >>> rules.level(["rep", "auditor"], "quotes", "read").value
        'all'
        >>> rules.masks(["auditor"], "contacts")["phones"].value
        'phone'
        >>> from crmkit.serialization import from_json, to_json
        >>> from_json(to_json(rules), AccessRules) == rules
        True

    .. versionadded:: 0.1.0
    """

    roles: tuple[Role, ...] = attrs.field(converter=_roles)
    actions: tuple[ActionRule, ...] = attrs.field(default=BUILTIN_ACTIONS, converter=_action_rules)

    def __attrs_post_init__(self) -> None:
        names: set[str] = set()
        for role in self.roles:
            if role.name in names:
                raise DefinitionError(
                    f"role {role.name!r} is defined twice; give each role one definition",
                    details={"role": role.name},
                )
            names.add(role.name)
        seen: set[str] = set()
        for rule in self.actions:
            if rule.action in seen:
                raise DefinitionError(
                    f"action {rule.action!r} is mapped twice; map each action once",
                    details={"action": rule.action},
                )
            seen.add(rule.action)

    @classmethod
    def builtin(cls) -> AccessRules:
        """The built-in roles ``rep``, ``manager``, ``service_agent``, ``auditor``, ``admin``.

        Example:
            >>> AccessRules.builtin().role("service_agent").level("complaints", "update").value
            'all'
        """
        return cls(roles=_builtin_roles())

    def role(self, name: str) -> Role | None:
        """The role called ``name``, or ``None``.

        Example:
            >>> AccessRules.builtin().role("wizard") is None
            True
        """
        for role in self.roles:
            if role.name == name:
                return role
        return None

    def action(self, name: str) -> ActionRule | None:
        """What action ``name`` means, or ``None`` if the rules do not map it.

        Example:
            >>> AccessRules.builtin().action("quotes.approve").operation
            'approve'
        """
        for rule in self.actions:
            if rule.action == name:
                return rule
        return None

    def level(self, roles: Iterable[str], record_type: str, operation: str) -> Level:
        """The most permissive level any of ``roles`` has (unknown role names grant nothing).

        Example:
            >>> AccessRules.builtin().level(["rep"], "customers", "assign").value
            'none'
        """
        best = Level.NONE
        for name in roles:
            role = self.role(name)
            if role is not None:
                best = max(best, role.level(record_type, operation))
        return best

    def masks(self, roles: Iterable[str], record_type: str) -> dict[str, MaskStyle]:
        """The fields of ``record_type`` masked for someone with all of ``roles``.

        A field stays masked only if every role that may read ``record_type`` masks it (if
        none of them may read it, every role counts: a section shown inside another record,
        such as the quotes in a Customer 360 view, is still masked).

        Example:
            >>> AccessRules.builtin().masks(["auditor", "rep"], "contacts")
            {}
        """
        readers = [
            role
            for name in roles
            if (role := self.role(name)) is not None
            and role.level(record_type, "read") is not Level.NONE
        ]
        if not readers:
            readers = [role for name in roles if (role := self.role(name)) is not None]
        if not readers:
            return {}
        masked = readers[0].masks_for(record_type)
        for role in readers[1:]:
            others = role.masks_for(record_type)
            masked = {path: style for path, style in masked.items() if path in others}
        return masked
