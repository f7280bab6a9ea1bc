"""A small role-based access policy: the host's answer to "who may do what".

crmkit calls ``policy.check(actor, action, resource)`` before every change (``leads.qualify``,
``quotes.price``...) and expects a :class:`~crmkit.errors.PermissionDeniedError` when the answer
is no; the HTTP layer turns that into a 403. The app checks the read actions (``leads.read``,
``opportunities.read``, ``quotes.read``) the same way, since crmkit's reads check nothing.

In a real service the actor comes from authentication (a session, a token); here it is the
``X-Actor`` header, so the demo can play several people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

import attrs

from crmkit.app.quotes import ApprovalRequest
from crmkit.errors import PermissionDeniedError

__all__ = ["DEMO_POLICY", "RolePolicy"]


def _frozen_grants(grants: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {role: frozenset(patterns) for role, patterns in grants.items()}


@attrs.frozen(kw_only=True)
class RolePolicy:
    """Each user has one role; each role may do the actions matching its patterns.

    A pattern is an action (``"leads.qualify"``) or a shell-style pattern (``"leads.*"``,
    ``"*"``). ``public`` actions need no user at all (a web form captures leads anonymously).
    A quote approval (the resource is an :class:`~crmkit.app.quotes.ApprovalRequest`) also
    needs the approval's role to be the user's own: a sales manager cannot sign for a director.

    Example:
        >>> policy = RolePolicy(users={"u_ivy": "intern"}, grants={"intern": ["leads.read"]})
        >>> policy.check("u_ivy", "leads.read")
        >>> policy.check("u_ivy", "leads.qualify")
        Traceback (most recent call last):
        ...
        crmkit.errors.PermissionDeniedError: 'u_ivy' (intern) may not leads.qualify; the intern role
        allows leads.read
    """

    users: Mapping[str, str]
    grants: Mapping[str, frozenset[str]] = attrs.field(converter=_frozen_grants)
    public: frozenset[str] = attrs.field(default=frozenset({"leads.capture"}), converter=frozenset)

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        """Return if ``actor`` may perform ``action``; raise ``PermissionDeniedError`` if not."""
        if action in self.public:
            return
        if actor is None:
            raise PermissionDeniedError(
                f"{action} needs a known user, and none was given",
                details={"action": action, "actor": None},
            )
        role = self.users.get(actor)
        if role is None:
            raise PermissionDeniedError(
                f"{actor!r} is not a user of this CRM, so may not {action}",
                details={"action": action, "actor": actor},
            )
        patterns = self.grants.get(role, frozenset())
        if any(fnmatchcase(action, pattern) for pattern in patterns):
            if isinstance(resource, ApprovalRequest) and resource.role != role:
                raise PermissionDeniedError(
                    f"{actor!r} is a {role}, so may not decide the {resource.role} approval",
                    details={
                        "action": action,
                        "actor": actor,
                        "role": role,
                        "approval_role": resource.role,
                    },
                )
            return
        allowed = sorted(patterns)
        raise PermissionDeniedError(
            f"{actor!r} ({role}) may not {action}; the {role} role allows "
            f"{', '.join(allowed) or 'nothing'}",
            details={"action": action, "actor": actor, "role": role, "allowed": allowed},
        )


#: The demo's people: Amy and Ben sell, Lin manages them, Chen directs, and Ivy is an intern
#: who may only look (anyone may capture a lead).
DEMO_POLICY = RolePolicy(
    users={
        "u_amy": "sales_rep",
        "u_ben": "sales_rep",
        "u_lin": "sales_manager",
        "u_chen": "director",
        "u_ivy": "intern",
    },
    grants={
        "intern": ["leads.read", "leads.log_activity", "opportunities.read", "quotes.read"],
        "sales_rep": [
            "leads.*",
            "opportunities.*",
            "quotes.create",
            "quotes.edit",
            "quotes.price",
            "quotes.submit",
            "quotes.send",
            "quotes.accept",
            "quotes.reject",
            "quotes.read",
        ],
        "sales_manager": ["*"],
        "director": ["*"],
    },
)
