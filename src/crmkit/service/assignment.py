"""Complaint assignment rules as data: by category to a team, then a member by a strategy.

:class:`CaseAssignmentRules` holds the :class:`Team` list (members with their skills, the
team's :class:`Strategy`, its lead and manager, a cap on open cases per member), the
:class:`CategoryRoute` list that sends each category to a team (and names the skills its cases
need), and a fallback owner for whatever no route places.

* ``round_robin``: the next member after the one the team chose last;
* ``least_loaded``: the member with the fewest open cases (ties go to the earlier member);
* ``by_skill``: among the members holding every skill the route needs, the least loaded.

:func:`assign_case` is pure: the round-robin positions come in as an :class:`AssignmentState`
and go out updated in the :class:`CaseAssignment` (store them in the same unit of work as the
case); open case counts per member come in as a mapping. The assignment names the route and
why, and :meth:`CaseAssignment.apply_to` records both on the case (a re-assignment is kept in
``Complaint.assignments``).

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.service._model import _example
    >>> rules = CaseAssignmentRules(fallback_owner="u_lead", teams=[
    ...     Team(name="logistics", members=["u_amy", "u_bob"], strategy="round_robin",
    ...          lead="u_lead")],
    ...     routes=[CategoryRoute(name="delivery issues", categories=["delivery"],
    ...                           team="logistics")])
    >>> case = _example()
    >>> first = assign_case(case, rules)
    >>> first.owner, first.team, first.reason
    ('u_amy', 'logistics', "category 'delivery' goes to team 'logistics'; round robin: first
    turn in u_amy, u_bob")
    >>> assign_case(case, rules, first.new_state).owner
    'u_bob'
    >>> first.apply_to(case, now=datetime(2026, 1, 5, 9, 5, tzinfo=timezone.utc))
    >>> case.owner, case.team, case.assignments[-1].rule
    ('u_amy', 'logistics', 'delivery issues')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _rotation
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.service._model import Complaint
from crmkit.service._policy import tuple_of

__all__ = [
    "AssignmentState",
    "CaseAssignment",
    "CaseAssignmentRules",
    "CategoryRoute",
    "Strategy",
    "Team",
    "TeamMember",
    "assign_case",
]


class Strategy(StrEnum):
    """How a team picks the member who gets the next case.

    Example:
        >>> [s.value for s in Strategy]
        ['round_robin', 'least_loaded', 'by_skill']

    .. versionadded:: 0.1.0
    """

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    BY_SKILL = "by_skill"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _skills(value: object) -> tuple[str, ...]:
    return v.text_tuple("skills", _fold, max_items=100)(value)


def _user(_instance: object, _attribute: object, value: Any) -> None:
    check_id(value, "user")


@attrs.frozen
class TeamMember:
    """A member of a team and the skills they have (languages, products, case types).

    Example:
        >>> TeamMember("u_amy", skills=["zh-TW", "Billing"]).skills
        ('zh-tw', 'billing')

    .. versionadded:: 0.1.0
    """

    user: str = attrs.field(validator=_user)
    skills: tuple[str, ...] = attrs.field(default=(), converter=_skills)


def _members(value: object) -> tuple[TeamMember, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of members, not {type(value).__name__}", path="members"
        )
    found: list[TeamMember] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = TeamMember(check_id(item, f"members[{i}]"))
        if not isinstance(item, TeamMember):
            raise ValidationError(
                f"must be a user id or a TeamMember, not {type(item).__name__}",
                path=f"members[{i}]",
            )
        found.append(item)
    users = [m.user for m in found]
    twice = sorted({u for u in users if users.count(u) > 1})
    if twice:
        raise ValidationError(f"lists {', '.join(twice)} more than once", path="members")
    if not found:
        raise ValidationError("must name at least one member", path="members")
    return tuple(found)


def _strategy(value: object) -> Strategy:
    return v.to_enum(Strategy, "strategy")(value)


def _optional_user(_instance: object, attribute: attrs.Attribute[str | None], value: Any) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _max_open(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"must be a positive int or None, got {value!r}", path="max_open")


@attrs.frozen(kw_only=True)
class Team:
    """A team that takes cases: its members, how it picks one, who leads and manages it.

    ``lead`` and ``manager`` are who the SLA escalation levels reach; ``max_open`` skips
    members who already hold that many open cases.

    Example:
        >>> team = Team(name="billing", strategy="by_skill", lead="u_lead", max_open=25,
        ...     members=[TeamMember("u_amy", ["zh-TW"]), TeamMember("u_bob", ["en"])])
        >>> [m.user for m in team.members], team.strategy.value
        (['u_amy', 'u_bob'], 'by_skill')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    members: tuple[TeamMember, ...] = attrs.field(converter=_members)
    strategy: Strategy = attrs.field(default=Strategy.ROUND_ROBIN, converter=_strategy)
    lead: str | None = attrs.field(default=None, validator=_optional_user)
    manager: str | None = attrs.field(default=None, validator=_optional_user)
    max_open: int | None = attrs.field(default=None, validator=_max_open)

    @property
    def users(self) -> tuple[str, ...]:
        """The members' user ids, in order."""
        return tuple(m.user for m in self.members)


def _categories(value: object) -> tuple[str, ...]:
    return v.text_tuple("categories", max_items=500)(value)


@attrs.frozen(kw_only=True)
class CategoryRoute:
    """Cases of these categories go to ``team``; ``skills`` are what they need (by_skill).

    Example:
        >>> CategoryRoute(name="taiwan billing", categories=["billing"], team="billing",
        ...               skills=["zh-TW"]).skills
        ('zh-tw',)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    categories: tuple[str, ...] = attrs.field(converter=_categories)
    team: str = attrs.field(converter=v.strip, validator=v.text(100))
    skills: tuple[str, ...] = attrs.field(default=(), converter=_skills)

    def __attrs_post_init__(self) -> None:
        if not self.categories:
            raise ValidationError("must name at least one category", path="categories")


def _teams(value: object) -> tuple[Team, ...]:
    return tuple_of(Team, "teams", value)


def _routes(value: object) -> tuple[CategoryRoute, ...]:
    return tuple_of(CategoryRoute, "routes", value)


def _fallback(_instance: object, _attribute: object, value: Any) -> None:
    check_id(value, "fallback_owner")


@attrs.frozen(kw_only=True)
class CaseAssignmentRules:
    """Teams, the routes from categories to teams (first match wins), and the fallback owner.

    Example:
        >>> CaseAssignmentRules(fallback_owner="u_lead", teams=[],
        ...     routes=[CategoryRoute(name="r", categories=["x"], team="ghosts")])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: route 'r' sends cases to unknown team 'ghosts'

    .. versionadded:: 0.1.0
    """

    fallback_owner: str = attrs.field(validator=_fallback)
    fallback_team: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    teams: tuple[Team, ...] = attrs.field(default=(), converter=_teams)
    routes: tuple[CategoryRoute, ...] = attrs.field(default=(), converter=_routes)

    def __attrs_post_init__(self) -> None:
        problems = []
        names = [t.name for t in self.teams]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"team {name!r} is defined more than once")
        route_names = [r.name for r in self.routes]
        for name in sorted({n for n in route_names if route_names.count(n) > 1}):
            problems.append(f"route {name!r} is defined more than once")
        if "fallback" in route_names:
            problems.append("the route name 'fallback' is reserved for the fallback owner")
        for route in self.routes:
            if route.team not in names:
                problems.append(f"route {route.name!r} sends cases to unknown team {route.team!r}")
        if problems:
            raise DefinitionError("; ".join(problems))

    def team(self, name: str) -> Team:
        """The team called ``name``.

        Example:
            >>> CaseAssignmentRules(fallback_owner="u1", teams=[Team(name="a", members=["u2"])]
            ...                     ).team("a").users
            ('u2',)
        """
        for team in self.teams:
            if team.name == name:
                return team
        raise ValidationError(f"{name!r} is not one of the teams", path="team")


def _positions(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must be a mapping of team name to member, not {type(value).__name__}", path="last"
        )
    found: dict[str, str] = {}
    for team, member in value.items():
        if not isinstance(team, str) or not team.strip():
            raise ValidationError(f"must be a team name, got {team!r}", path="last")
        found[team] = check_id(member, f"last[{team!r}]")
    return found


@attrs.frozen
class AssignmentState:
    """Round-robin positions: for each team, the member it chose last.

    Example:
        >>> AssignmentState().after("billing", "u_amy").last
        {'billing': 'u_amy'}

    .. versionadded:: 0.1.0
    """

    last: Mapping[str, str] = attrs.field(factory=dict, converter=_positions, hash=False)

    def after(self, team: str, member: str) -> AssignmentState:
        """This state with ``member`` recorded as the one ``team`` chose last.

        Example:
            >>> AssignmentState({"a": "u1"}).after("a", "u2").last
            {'a': 'u2'}
        """
        return AssignmentState({**self.last, team: member})


@attrs.frozen(kw_only=True)
class CaseAssignment:
    """The outcome of :func:`assign_case`: owner, team, the route that chose them, why, state.

    Example:
        >>> CaseAssignment(owner="u_lead", team=None, rule="fallback",
        ...                reason="no route for category 'x'", new_state=AssignmentState()).owner
        'u_lead'

    .. versionadded:: 0.1.0
    """

    owner: str
    team: str | None
    rule: str
    reason: str
    new_state: AssignmentState

    def apply_to(self, case: Complaint, *, now: datetime, actor: str | None = None) -> None:
        """Give ``case`` to the owner and team, recording the route and the reason.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.service._model import _example
            >>> case = _example()
            >>> CaseAssignment(owner="u_lead", team="desk", rule="fallback", reason="none",
            ...     new_state=AssignmentState()).apply_to(case, now=case.filed_at)
            >>> case.owner, case.team
            ('u_lead', 'desk')
        """
        case.assign(
            self.owner, team=self.team, now=now, rule=self.rule, reason=self.reason, actor=actor
        )


def _check_loads(loads: object) -> Mapping[str, int]:
    if not isinstance(loads, Mapping):
        raise ValidationError(
            f"must be a mapping of member to open case count, not {type(loads).__name__}",
            path="loads",
        )
    for member, count in loads.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(
                f"must be a non-negative int, got {count!r}", path=f"loads[{member!r}]"
            )
    return loads


def assign_case(
    case: Complaint,
    rules: CaseAssignmentRules,
    state: AssignmentState | None = None,
    loads: Mapping[str, int] | None = None,
) -> CaseAssignment:
    """Choose the owner of ``case`` by ``rules``; pure (see the module documentation).

    ``loads`` maps members to their open case counts (missing: 0).

    Example:
        >>> from crmkit.service._model import _example
        >>> rules = CaseAssignmentRules(fallback_owner="u_lead", teams=[
        ...     Team(name="logistics", strategy="by_skill", members=[
        ...         TeamMember("u_amy", ["zh-TW"]), TeamMember("u_bob", ["zh-TW", "en"]),
        ...         TeamMember("u_kim", ["en"])])],
        ...     routes=[CategoryRoute(name="delivery", categories=["delivery"],
        ...                           team="logistics", skills=["zh-TW"])])
        >>> chosen = assign_case(_example(), rules, loads={"u_amy": 5, "u_bob": 2, "u_kim": 0})
        >>> chosen.owner, chosen.reason
        ('u_bob', "category 'delivery' goes to team 'logistics'; by skill: u_bob holds 2 open
        cases, the fewest of those with zh-tw (u_amy, u_bob)")

    .. versionadded:: 0.1.0
    """
    if not isinstance(case, Complaint):
        raise ValidationError(f"must be a Complaint, not {type(case).__name__}", path="case")
    if not isinstance(rules, CaseAssignmentRules):
        raise ValidationError(
            f"must be CaseAssignmentRules, not {type(rules).__name__}", path="rules"
        )
    state = AssignmentState() if state is None else state
    if not isinstance(state, AssignmentState):
        raise ValidationError(
            f"must be an AssignmentState, not {type(state).__name__}", path="state"
        )
    counts = _check_loads({} if loads is None else loads)
    skipped: list[str] = []
    for route in rules.routes:
        if case.category not in route.categories:
            continue
        team = rules.team(route.team)
        why = f"category {case.category!r} goes to team {team.name!r}"
        members = team.users
        eligible = [m for m in members if team.max_open is None or counts.get(m, 0) < team.max_open]
        if not eligible:
            skipped.append(
                f"route {route.name!r}: every member of {team.name!r} holds {team.max_open} or "
                "more open cases"
            )
            continue
        if team.strategy is Strategy.ROUND_ROBIN:
            owner, turn = _rotation.round_robin(members, state.last.get(team.name), eligible)
            return CaseAssignment(
                owner=owner,
                team=team.name,
                rule=route.name,
                reason=f"{why}; round robin: {turn} in {', '.join(members)}",
                new_state=state.after(team.name, owner),
            )
        if team.strategy is Strategy.BY_SKILL and route.skills:
            needed = set(route.skills)
            skilled = [m.user for m in team.members if needed <= set(m.skills)]
            able = [m for m in eligible if m in skilled]
            if not able:
                skipped.append(
                    f"route {route.name!r}: no available member of {team.name!r} has "
                    f"{', '.join(route.skills)}"
                )
                continue
            owner = _rotation.least_loaded(able, counts)
            return CaseAssignment(
                owner=owner,
                team=team.name,
                rule=route.name,
                reason=(
                    f"{why}; by skill: {owner} holds {counts.get(owner, 0)} open cases, the "
                    f"fewest of those with {', '.join(route.skills)} ({', '.join(skilled)})"
                ),
                new_state=state,
            )
        owner = _rotation.least_loaded(eligible, counts)
        return CaseAssignment(
            owner=owner,
            team=team.name,
            rule=route.name,
            reason=(
                f"{why}; least loaded: {owner} holds {counts.get(owner, 0)} open cases, the "
                f"fewest in {', '.join(members)}"
            ),
            new_state=state,
        )
    reason = (
        f"no route for category {case.category!r}"
        if not skipped
        else f"no route found an owner ({'; '.join(skipped)})"
    )
    return CaseAssignment(
        owner=rules.fallback_owner,
        team=rules.fallback_team,
        rule="fallback",
        reason=reason,
        new_state=state,
    )
