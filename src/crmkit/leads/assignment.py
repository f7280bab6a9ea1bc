"""Lead assignment rules as data: territories, round robin, least loaded, and a fallback owner.

:class:`AssignmentRules` is an ordered list of :class:`AssignmentRule` and a fallback owner.
Each rule has conditions (regions, industries, source channels, a company-size range; an
empty condition matches anything) and a strategy for choosing among its ``owners``:

* ``owner``: the one owner named (a territory owned by one rep);
* ``round_robin``: the next member of the team after the one chosen last time;
* ``least_loaded``: the member with the fewest open leads (ties go to the earlier member).

``max_open`` skips members who already hold that many open leads. The first rule that matches
and finds an owner wins; if none does, the fallback owner gets the lead.

:func:`assign` is a pure function: the round-robin position comes in as an
:class:`AssignmentState` and goes out, updated, in the :class:`Assignment` (the caller stores
it, in the same unit of work as the lead, so two captures never take the same turn); the open
lead counts per owner come in as a mapping. The assignment names the rule and the reason, and
:meth:`Assignment.apply_to` records both on the lead.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.leads import Lead
    >>> from crmkit.leads.assignment import AssignmentRule, AssignmentRules, AssignmentState, assign
    >>> rules = AssignmentRules(fallback_owner="u_lead", rules=[
    ...     AssignmentRule.territory("enterprise", owner="u_kim", min_company_size=1000),
    ...     AssignmentRule.round_robin("taiwan team", ["u_amy", "u_bob"], regions=["TW"])])
    >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> lead = Lead.capture(id="l1", now=now, source_channel="web_form", email="a@b.example",
    ...                     region="tw", company_size=40)
    >>> first = assign(lead, rules, AssignmentState())
    >>> first.owner, first.rule, first.reason
    ('u_amy', 'taiwan team', "region 'tw' matched; round robin: first turn in u_amy, u_bob")
    >>> assign(lead, rules, first.new_state).owner
    'u_bob'
    >>> first.apply_to(lead, now=now)
    >>> lead.owner, lead.assignment.rule
    ('u_amy', 'taiwan team')

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
from crmkit.leads._model import Lead, SourceChannel

__all__ = [
    "Assignment",
    "AssignmentRule",
    "AssignmentRules",
    "AssignmentState",
    "Strategy",
    "assign",
]


class Strategy(StrEnum):
    """How a rule picks an owner among its ``owners``.

    Example:
        >>> [s.value for s in Strategy]
        ['owner', 'round_robin', 'least_loaded']

    .. versionadded:: 0.1.0
    """

    OWNER = "owner"
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _owners(value: object) -> tuple[str, ...]:
    return v.text_tuple("owners", lambda s: check_id(s, ""), max_items=200)(value)


def _regions(value: object) -> tuple[str, ...]:
    return v.text_tuple("regions", max_items=500)(value)


def _industries(value: object) -> tuple[str, ...]:
    return v.text_tuple("industries", max_items=500)(value)


def _channels(value: object) -> tuple[SourceChannel, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of source channels, not {type(value).__name__}",
            path="source_channels",
        )
    found: dict[SourceChannel, None] = {}
    for i, item in enumerate(value):
        found.setdefault(v.to_enum(SourceChannel, f"source_channels[{i}]")(item), None)
    return tuple(found)


def _strategy(value: object) -> Strategy:
    return v.to_enum(Strategy, "strategy")(value)


def _optional_count(_instance: object, attribute: attrs.Attribute[int | None], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValidationError(
            f"must be a non-negative int or None, got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class AssignmentRule:
    """Who gets the leads that match some conditions, and how one of several is chosen.

    Build one with :meth:`territory`, :meth:`round_robin` or :meth:`least_loaded`, or directly.

    Example:
        >>> rule = AssignmentRule(name="retail", strategy="least_loaded",
        ...     owners=["u_amy", "u_bob"], industries=["Retail"], max_open=30)
        >>> rule.strategy, rule.max_open
        (<Strategy.LEAST_LOADED: 'least_loaded'>, 30)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    strategy: Strategy = attrs.field(converter=_strategy)
    owners: tuple[str, ...] = attrs.field(converter=_owners)
    regions: tuple[str, ...] = attrs.field(default=(), converter=_regions)
    industries: tuple[str, ...] = attrs.field(default=(), converter=_industries)
    source_channels: tuple[SourceChannel, ...] = attrs.field(default=(), converter=_channels)
    min_company_size: int | None = attrs.field(default=None, validator=_optional_count)
    max_company_size: int | None = attrs.field(default=None, validator=_optional_count)
    max_open: int | None = attrs.field(default=None, validator=_optional_count)
    _regions_folded: frozenset[str] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _industries_folded: frozenset[str] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not self.owners:
            raise ValidationError("must name at least one owner", path="owners")
        if self.strategy is Strategy.OWNER and len(self.owners) != 1:
            raise ValidationError(
                f"an 'owner' rule names exactly one owner, got {len(self.owners)}; use "
                "'round_robin' or 'least_loaded' for a team",
                path="owners",
            )
        low, high = self.min_company_size, self.max_company_size
        if low is not None and high is not None and low > high:
            raise ValidationError(
                f"must not exceed max_company_size {high}, got {low}", path="min_company_size"
            )
        object.__setattr__(self, "_regions_folded", frozenset(map(_fold, self.regions)))
        object.__setattr__(self, "_industries_folded", frozenset(map(_fold, self.industries)))

    @classmethod
    def territory(
        cls,
        name: str,
        *,
        owner: str | None = None,
        team: Iterable[str] = (),
        strategy: Strategy | str = Strategy.ROUND_ROBIN,
        regions: Iterable[str] = (),
        industries: Iterable[str] = (),
        source_channels: Iterable[SourceChannel | str] = (),
        min_company_size: int | None = None,
        max_company_size: int | None = None,
        max_open: int | None = None,
    ) -> AssignmentRule:
        """A territory: leads matching the conditions go to ``owner``, or to a ``team`` member.

        Example:
            >>> AssignmentRule.territory("north", owner="u_amy", regions=["TW-TPE"]).strategy
            <Strategy.OWNER: 'owner'>
        """
        members = tuple(team)
        if (owner is None) == (not members):
            raise ValidationError("give either owner or team, not both or neither", path="owner")
        return cls(
            name=name,
            strategy=Strategy.OWNER if owner is not None else strategy,
            owners=(owner,) if owner is not None else members,
            regions=regions,
            industries=industries,
            source_channels=source_channels,
            min_company_size=min_company_size,
            max_company_size=max_company_size,
            max_open=max_open,
        )

    @classmethod
    def round_robin(cls, name: str, team: Iterable[str], **conditions: Any) -> AssignmentRule:
        """Members of ``team`` take turns (``conditions`` as for :meth:`territory`).

        Example:
            >>> AssignmentRule.round_robin("inbound", ["u_amy", "u_bob"]).owners
            ('u_amy', 'u_bob')
        """
        return cls(name=name, strategy=Strategy.ROUND_ROBIN, owners=team, **conditions)

    @classmethod
    def least_loaded(cls, name: str, team: Iterable[str], **conditions: Any) -> AssignmentRule:
        """The member of ``team`` with the fewest open leads gets the next one.

        Example:
            >>> AssignmentRule.least_loaded("inbound", ["u_amy", "u_bob"], max_open=20).max_open
            20
        """
        return cls(name=name, strategy=Strategy.LEAST_LOADED, owners=team, **conditions)

    def matches(self, lead: Lead) -> str | None:
        """Why ``lead`` meets this rule's conditions, or ``None`` when it does not.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
            ...                     industry="Retail", company_size=80)
            >>> AssignmentRule.round_robin("smb retail", ["u1"], industries=["retail"],
            ...                            max_company_size=100).matches(lead)
            "industry 'Retail' matched; company size 80 at most 100"
        """
        why: list[str] = []
        if self.regions:
            if lead.region is None or _fold(lead.region) not in self._regions_folded:
                return None
            why.append(f"region {lead.region!r} matched")
        if self.industries:
            if lead.industry is None or _fold(lead.industry) not in self._industries_folded:
                return None
            why.append(f"industry {lead.industry!r} matched")
        if self.source_channels:
            if lead.source_channel not in self.source_channels:
                return None
            why.append(f"channel {lead.source_channel.value!r} matched")
        low, high = self.min_company_size, self.max_company_size
        if low is not None or high is not None:
            size = lead.company_size
            if (
                size is None
                or (low is not None and size < low)
                or (high is not None and size > high)
            ):
                return None
            if low is not None and high is not None:
                why.append(f"company size {size} within {low}-{high}")
            elif low is not None:
                why.append(f"company size {size} at least {low}")
            else:
                why.append(f"company size {size} at most {high}")
        return "; ".join(why) if why else "matches every lead"


def _rules(value: object) -> tuple[AssignmentRule, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of AssignmentRule, not {type(value).__name__}", path="rules"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, AssignmentRule):
            raise ValidationError(
                f"must be an AssignmentRule, not {type(item).__name__}", path=f"rules[{i}]"
            )
    return items


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


@attrs.frozen(kw_only=True)
class AssignmentRules:
    """Rules tried in order, and the owner of whatever none of them takes.

    Example:
        >>> AssignmentRules(fallback_owner="u_lead").rules
        ()
        >>> AssignmentRules(fallback_owner="u_lead", rules=[
        ...     AssignmentRule.round_robin("a", ["u1"]), AssignmentRule.round_robin("a", ["u2"])])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: assignment rule 'a' is defined more than once; ...

    .. versionadded:: 0.1.0
    """

    fallback_owner: str = attrs.field(validator=_id_field)
    rules: tuple[AssignmentRule, ...] = attrs.field(default=(), converter=_rules)

    def __attrs_post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if "fallback" in names:
            raise DefinitionError("the rule name 'fallback' is reserved for the fallback owner")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DefinitionError(
                f"assignment rule {', '.join(map(repr, repeated))} is defined more than once; "
                "rule names are unique"
            )


def _positions(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must be a mapping of rule name to owner, not {type(value).__name__}", path="last"
        )
    found: dict[str, str] = {}
    for rule, owner in value.items():
        if not isinstance(rule, str) or not rule.strip():
            raise ValidationError(f"must be a rule name, got {rule!r}", path="last")
        found[rule] = check_id(owner, f"last[{rule!r}]")
    return found


@attrs.frozen
class AssignmentState:
    """Round-robin positions: for each round-robin rule, the owner it chose last.

    Store it with the rules and pass it to :func:`assign`; keep the ``new_state`` it returns.

    Example:
        >>> AssignmentState({"inbound": "u_bob"}).last
        {'inbound': 'u_bob'}

    .. versionadded:: 0.1.0
    """

    last: Mapping[str, str] = attrs.field(factory=dict, converter=_positions, hash=False)

    def after(self, rule: str, owner: str) -> AssignmentState:
        """This state with ``owner`` recorded as the last one ``rule`` chose.

        Example:
            >>> AssignmentState().after("inbound", "u_amy").last
            {'inbound': 'u_amy'}
        """
        return AssignmentState({**self.last, rule: owner})


@attrs.frozen(kw_only=True)
class Assignment:
    """The outcome of :func:`assign`: the owner, the rule that chose them, why, and the state.

    Example:
        >>> a = Assignment(owner="u_lead", rule="fallback", reason="no rule matched",
        ...                new_state=AssignmentState())
        >>> a.owner
        'u_lead'

    .. versionadded:: 0.1.0
    """

    owner: str
    rule: str
    reason: str
    new_state: AssignmentState

    def apply_to(self, lead: Lead, *, now: datetime, actor: str | None = None) -> None:
        """Give ``lead`` to the owner, recording the rule and reason on it.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> Assignment(owner="u_lead", rule="fallback", reason="no rule matched",
            ...            new_state=AssignmentState()).apply_to(lead, now=now)
            >>> lead.assignment.reason
            'no rule matched'
        """
        lead.assign_owner(self.owner, now=now, rule=self.rule, reason=self.reason, actor=actor)


def _check_loads(loads: object) -> Mapping[str, int]:
    if not isinstance(loads, Mapping):
        raise ValidationError(
            f"must be a mapping of owner to open lead count, not {type(loads).__name__}",
            path="loads",
        )
    for owner, count in loads.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(
                f"must be a non-negative int, got {count!r}", path=f"loads[{owner!r}]"
            )
    return loads


def _team(owners: tuple[str, ...]) -> str:
    return ", ".join(owners)


def assign(
    lead: Lead,
    rules: AssignmentRules,
    state: AssignmentState | None = None,
    loads: Mapping[str, int] | None = None,
) -> Assignment:
    """Choose the owner of ``lead`` by ``rules``; pure (see the module documentation).

    ``loads`` maps owners to their open lead counts (missing: 0).

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
        >>> rules = AssignmentRules(fallback_owner="u_lead", rules=[
        ...     AssignmentRule.least_loaded("inbound", ["u_amy", "u_bob"], max_open=10)])
        >>> assign(lead, rules, loads={"u_amy": 4, "u_bob": 2}).owner
        'u_bob'
        >>> full = assign(lead, rules, loads={"u_amy": 10, "u_bob": 12})
        >>> full.owner, full.reason
        ('u_lead', "no rule found an owner (rule 'inbound': every owner holds 10 or more
        open leads)")

    .. versionadded:: 0.1.0
    """
    if not isinstance(lead, Lead):
        raise ValidationError(f"must be a Lead, not {type(lead).__name__}", path="lead")
    if not isinstance(rules, AssignmentRules):
        raise ValidationError(f"must be AssignmentRules, not {type(rules).__name__}", path="rules")
    state = AssignmentState() if state is None else state
    if not isinstance(state, AssignmentState):
        raise ValidationError(
            f"must be an AssignmentState, not {type(state).__name__}", path="state"
        )
    counts = _check_loads({} if loads is None else loads)
    skipped: list[str] = []
    for rule in rules.rules:
        why = rule.matches(lead)
        if why is None:
            continue
        eligible = [
            o for o in rule.owners if rule.max_open is None or counts.get(o, 0) < rule.max_open
        ]
        if not eligible:
            skipped.append(
                f"rule {rule.name!r}: every owner holds {rule.max_open} or more open leads"
            )
            continue
        if rule.strategy is Strategy.OWNER:
            owner = eligible[0]
            return Assignment(
                owner=owner, rule=rule.name, reason=f"{why}; owned by {owner}", new_state=state
            )
        if rule.strategy is Strategy.LEAST_LOADED:
            owner = _rotation.least_loaded(eligible, counts)  # ties go to the earlier owner
            return Assignment(
                owner=owner,
                rule=rule.name,
                reason=(
                    f"{why}; least loaded: {owner} holds {counts.get(owner, 0)} open leads, the "
                    f"fewest in {_team(rule.owners)}"
                ),
                new_state=state,
            )
        owner, turn = _rotation.round_robin(rule.owners, state.last.get(rule.name), eligible)
        return Assignment(
            owner=owner,
            rule=rule.name,
            reason=f"{why}; round robin: {turn} in {_team(rule.owners)}",
            new_state=state.after(rule.name, owner),
        )
    reason = "no rule matched" if not skipped else f"no rule found an owner ({'; '.join(skipped)})"
    return Assignment(owner=rules.fallback_owner, rule="fallback", reason=reason, new_state=state)
