"""Choosing one member of a team: round robin and least loaded, shared by every assignment rule.

Leads (``crmkit.leads.assignment``) and complaints (``crmkit.service.assignment``) both hand
work to a team member; the choice itself knows no CRM concept and lives here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def round_robin(
    members: Sequence[str], last: str | None, eligible: Sequence[str]
) -> tuple[str, str]:
    """The next eligible member after ``last`` in ``members`` order, and the turn described.

    ``eligible`` must hold at least one of ``members``.
    """
    start = members.index(last) + 1 if last in members else 0
    allowed = set(eligible)
    owner = next(
        members[(start + i) % len(members)]
        for i in range(len(members))
        if members[(start + i) % len(members)] in allowed
    )
    turn = "first turn" if last is None else f"next after {last}"
    return owner, turn


def least_loaded(eligible: Sequence[str], loads: Mapping[str, int]) -> str:
    """The eligible member with the fewest open items (ties go to the earlier member)."""
    return min(eligible, key=lambda member: loads.get(member, 0))
