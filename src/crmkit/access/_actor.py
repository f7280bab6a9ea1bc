"""Who acts: :class:`Actor`, and the :class:`ActorDirectory` port that resolves user ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, runtime_checkable

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id


def _ids(field: str) -> Callable[[object], tuple[str, ...]]:
    return v.text_tuple(field, lambda text: check_id(text, field))


def _user_id(value: object) -> str:
    return check_id(value, "id")


def _tenant(value: object) -> str:
    return check_id(value, "tenant")


def _roles(value: object) -> tuple[str, ...]:
    return _ids("roles")(value)


def _teams(value: object) -> tuple[str, ...]:
    return _ids("teams")(value)


@attrs.frozen(kw_only=True)
class Actor:
    """A user as access control sees them: id, roles, teams and the one tenant they belong to.

    Roles name roles of the :class:`~crmkit.access.AccessRules` in force (``"rep"``,
    ``"manager"``, ``"service_agent"``, ``"auditor"``, ``"admin"`` built in); teams are the
    host's team ids; a record is in your team when its owner shares a team with you.

    Example:
        >>> amy = Actor(id="u_amy", roles=["rep"], teams=["north"], tenant="acme")
        >>> amy.roles, amy.teams, amy.tenant
        (('rep',), ('north',), 'acme')
        >>> Actor(id="u 1", roles=["rep"], tenant="acme")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: id: must be a non-empty string of at most 64 ...

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(converter=_user_id)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_roles)
    teams: tuple[str, ...] = attrs.field(default=(), converter=_teams)
    tenant: str = attrs.field(converter=_tenant)

    def shares_team_with(self, other: Actor) -> bool:
        """Whether ``other`` is in at least one of this actor's teams.

        Example:
            >>> a = Actor(id="u_a", teams=["north", "south"], tenant="acme")
            >>> a.shares_team_with(Actor(id="u_b", teams=["south"], tenant="acme"))
            True
        """
        return not set(self.teams).isdisjoint(other.teams)


@runtime_checkable
class ActorDirectory(Protocol):
    """Resolves the user id a command carries to an :class:`Actor` (the host's user store).

    crmkit keeps user ids on commands and records; the host knows each user's roles, teams
    and tenant. :class:`StaticActorDirectory` serves a fixed list (for tests and small hosts).

    Example:
        >>> isinstance(StaticActorDirectory([]), ActorDirectory)
        True

    .. versionadded:: 0.1.0
    """

    def actor(self, user_id: str) -> Actor | None:
        """Return the actor with ``user_id``, or ``None`` if there is no such user."""
        ...


class StaticActorDirectory:
    """An :class:`ActorDirectory` over a fixed list of actors.

    Example:
        >>> directory = StaticActorDirectory([Actor(id="u_amy", roles=["rep"], tenant="acme")])
        >>> directory.actor("u_amy").roles, directory.actor("u_nobody")
        (('rep',), None)
        >>> StaticActorDirectory([Actor(id="u_a", tenant="x"), Actor(id="u_a", tenant="y")])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: actors[1]: user 'u_a' appears twice; give each ...

    .. versionadded:: 0.1.0
    """

    def __init__(self, actors: Iterable[Actor]) -> None:
        self._actors: dict[str, Actor] = {}
        for i, actor in enumerate(actors):
            if not isinstance(actor, Actor):
                raise ValidationError(
                    f"must be an Actor, not {type(actor).__name__}", path=f"actors[{i}]"
                )
            if actor.id in self._actors:
                raise ValidationError(
                    f"user {actor.id!r} appears twice; give each user id one Actor",
                    path=f"actors[{i}]",
                )
            self._actors[actor.id] = actor

    def actor(self, user_id: str) -> Actor | None:
        """Return the actor with ``user_id``, or ``None``.

        Example:
            >>> StaticActorDirectory([]).actor("u_amy") is None
            True
        """
        return self._actors.get(user_id)

    def __iter__(self) -> Iterator[Actor]:
        return iter(self._actors.values())
