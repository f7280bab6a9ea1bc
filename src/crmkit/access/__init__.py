"""Access control: actors, roles as data, the role-based policy and field masking.

An :class:`Actor` is a user with roles, teams and one tenant; the host resolves user ids to
actors through an :class:`ActorDirectory`. :class:`AccessRules` say, per role, which level
(``own``, ``team``, ``all`` or ``none``) each record type and operation has and which fields
are masked; :class:`RoleBasedPolicy` enforces them for one tenant. See the "Security model"
page of the docs.

Example:
    >>> directory = StaticActorDirectory([Actor(id="u_ann", roles=["auditor"], tenant="acme")])
    >>> policy = RoleBasedPolicy(AccessRules.builtin(), directory, tenant="acme")
    >>> policy.check("u_ann", "customers.read")
    >>> policy.mask("u_ann", "leads", {"email": "amy@example.com"})
    {'email': 'a***@example.com'}

Constants:
    ``ANY`` (``"*"``) matches every record type or operation in a :class:`Grant` or
    :class:`FieldMask`; ``BUILTIN_ACTIONS`` maps every action crmkit's use cases check to a
    record type and an operation.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.access._actor import Actor, ActorDirectory, StaticActorDirectory
from crmkit.access._mask import mask_document, mask_email, mask_phone, mask_value
from crmkit.access._policy import AllowAll, OwnerLookup, RoleBasedPolicy
from crmkit.access._rules import (
    ANY,
    BUILTIN_ACTIONS,
    AccessRules,
    ActionRule,
    FieldMask,
    Grant,
    Level,
    MaskStyle,
    Role,
)
from crmkit.access.audit import (
    AuditChange,
    AuditEntry,
    AuditProblem,
    AuditReport,
    AuditValue,
    pseudonymise,
    verify_chain,
)

__all__ = [
    "ANY",
    "AccessRules",
    "ActionRule",
    "Actor",
    "ActorDirectory",
    "AllowAll",
    "AuditChange",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "AuditValue",
    "BUILTIN_ACTIONS",
    "FieldMask",
    "Grant",
    "Level",
    "MaskStyle",
    "OwnerLookup",
    "Role",
    "RoleBasedPolicy",
    "StaticActorDirectory",
    "mask_document",
    "mask_email",
    "mask_phone",
    "mask_value",
    "pseudonymise",
    "verify_chain",
]
