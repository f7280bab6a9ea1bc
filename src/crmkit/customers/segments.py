"""Segments as data: rule-based segments, RFM scoring, lifecycle status and "needs attention".

Every rule here is a plain attrs object that round-trips through :mod:`crmkit.serialization`,
so a host can keep its segments in a database and edit them in an admin screen. The engine
reads :class:`CustomerFacts` (what the app layer gathers about a customer: tags, source,
region, loyalty tier and a :class:`~crmkit.customers.purchases.PurchaseSummary`) and ``now``,
and every answer explains itself:

* :class:`SegmentRule` (tier, tags, last order before, lifetime value above, source, region):
  :meth:`SegmentRule.evaluate` lists each condition with whether it held and why.
* :class:`RfmModel`: recency, frequency and monetary scores 1 to 5 in quintiles over the
  population (:func:`rfm_scores`), each score with the boundaries used, and the named segment
  (champions, loyal, promising, at risk, hibernating, lost) its R and F scores fall in.
* :class:`LifecycleRules`: prospect, new, active, at risk or churned, from the orders
  (:func:`assess_lifecycle`).
* :class:`AttentionRule`: the "needs attention" flag for customers with no order for six
  months (:func:`needs_attention`).

Lifetime values are compared per currency and never summed across currencies.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from crmkit.customers.purchases import PurchaseSummary, _tuple_of
    >>> from crmkit.kernel.money import Money
    >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    >>> facts = CustomerFacts(customer_id="cus_1", registered_at=now - timedelta(days=400),
    ...     tags=("vip",), purchases=PurchaseSummary(order_count=3,
    ...         first_order_at=now - timedelta(days=300), last_order_at=now - timedelta(days=20),
    ...         lifetime_value=(Money("12000", "TWD"),)))
    >>> big = SegmentRule(name="big_spenders", lifetime_value_above=(Money("10000", "TWD"),))
    >>> match = big.evaluate(facts, now)
    >>> match.matched, match.conditions[0].reason
    (True, 'lifetime value 12000 TWD is above 10000 TWD')
    >>> assess_lifecycle(facts, LifecycleRules(), now).status.value
    'active'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from crmkit.customers._model import Lifecycle
from crmkit.customers.purchases import PurchaseSummary, _tuple_of
from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, is_currency
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware

__all__ = [
    "AttentionFlag",
    "AttentionRule",
    "ConditionResult",
    "CustomerFacts",
    "CustomerSegments",
    "DEFAULT_RFM_SEGMENTS",
    "LifecycleAssessment",
    "LifecycleRules",
    "RfmModel",
    "RfmScore",
    "RfmSegment",
    "ScoreDetail",
    "SegmentMatch",
    "SegmentRule",
    "SegmentationRules",
    "assess_lifecycle",
    "needs_attention",
    "rfm_scores",
    "segment_customers",
]


def _fold(text: str) -> str:
    return text.casefold() if text.isascii() else text


_to_tags = v.text_tuple("tags", _fold)
_to_tiers = v.text_tuple("tiers", _fold)
_to_sources = v.text_tuple("sources", _fold)
_to_regions = v.text_tuple("regions", str.upper)


def _tags(value: object) -> tuple[str, ...]:
    return _to_tags(value)


def _tiers(value: object) -> tuple[str, ...]:
    return _to_tiers(value)


def _sources(value: object) -> tuple[str, ...]:
    return _to_sources(value)


def _regions(value: object) -> tuple[str, ...]:
    return _to_regions(value)


def _key(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_text(value: object) -> object:
    return v.strip_optional(value)


# ----- facts ---------------------------------------------------------------------------------


def _summary(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, PurchaseSummary):
        raise ValidationError(
            f"must be a PurchaseSummary, not {type(value).__name__}", path="purchases"
        )


@attrs.frozen(kw_only=True)
class CustomerFacts:
    """What segmentation reads about one customer (gathered by the app layer).

    Attributes:
        customer_id: the customer.
        registered_at: when the customer was registered (aware).
        tags: the customer's tags (ASCII tags compared without case).
        source: where the customer came from.
        region: the customer's ISO 3166 region (``"TW"``), if known.
        tier: the customer's loyalty tier, if a member.
        purchases: the summary of the customer's orders.

    Example:
        >>> from datetime import datetime, timezone
        >>> CustomerFacts(customer_id="cus_1", registered_at=datetime(2026, 1, 1,
        ...     tzinfo=timezone.utc), tags=["VIP"]).tags
        ('vip',)

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_key)
    registered_at: datetime = attrs.field(validator=validate_aware)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    source: str | None = attrs.field(default=None, converter=_optional_text)
    region: str | None = attrs.field(default=None, converter=_optional_text)
    tier: str | None = attrs.field(default=None, converter=_optional_text)
    purchases: PurchaseSummary = attrs.field(factory=PurchaseSummary, validator=_summary)


# ----- rule-based segments -------------------------------------------------------------------


@attrs.frozen
class ConditionResult:
    """One condition of a segment rule: whether it held for a customer, and why.

    Example:
        >>> ConditionResult("tags", True, "has every tag of vip").matched
        True

    .. versionadded:: 0.1.0
    """

    condition: str
    matched: bool
    reason: str


@attrs.frozen
class SegmentMatch:
    """A segment rule applied to one customer: matched only if every condition held.

    Example:
        >>> SegmentMatch("vip", "cus_1", (ConditionResult("tags", False, "no tag vip"),)).matched
        False

    .. versionadded:: 0.1.0
    """

    segment: str
    customer_id: str
    conditions: tuple[ConditionResult, ...]

    @property
    def matched(self) -> bool:
        """Whether every condition held."""
        return all(c.matched for c in self.conditions)


def _thresholds(value: object) -> tuple[Money, ...]:
    found = _tuple_of(Money, "lifetime_value_above", value)
    seen: set[str] = set()
    for i, money in enumerate(found):
        if money.currency in seen:
            raise ValidationError(
                f"repeats {money.currency}: give one threshold per currency",
                path=f"lifetime_value_above[{i}]",
            )
        seen.add(money.currency)
    return found


def _optional_positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class SegmentRule:
    """A rule-based segment: a customer belongs when every condition given holds.

    Conditions left empty (or ``None``) are not checked; a rule must give at least one.

    Attributes:
        name: the segment's key (an id such as ``"vip_taipei"``).
        tiers: the customer's loyalty tier is one of these.
        tags: the customer has every one of these tags.
        last_order_before: the customer's last order was before this instant (a customer
            who never ordered does not match).
        no_order_for: the customer's last order is at least this long ago at ``now`` (the
            relative form of ``last_order_before``; never ordered does not match).
        lifetime_value_above: one threshold per currency; the customer matches when its
            lifetime value in any of those currencies is above that currency's threshold.
            Currencies are never added together.
        sources: the customer's source is one of these (ignoring case).
        regions: the customer's region is one of these (ISO 3166 codes).
        description: what the segment is for, for people.

    Example:
        >>> from crmkit.serialization import structure, unstructure
        >>> rule = SegmentRule(name="taipei_vip", tags=["VIP"], regions=["tw"])
        >>> structure(unstructure(rule), SegmentRule) == rule
        True
        >>> SegmentRule(name="everyone")
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: segment 'everyone' has no condition; give at least one ...

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=_key)
    tiers: tuple[str, ...] = attrs.field(default=(), converter=_tiers)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    last_order_before: datetime | None = attrs.field(
        default=None, validator=validate_optional_aware
    )
    no_order_for: timedelta | None = attrs.field(default=None, validator=_optional_positive)
    lifetime_value_above: tuple[Money, ...] = attrs.field(default=(), converter=_thresholds)
    sources: tuple[str, ...] = attrs.field(default=(), converter=_sources)
    regions: tuple[str, ...] = attrs.field(default=(), converter=_regions)
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )

    def __attrs_post_init__(self) -> None:
        given = (
            self.tiers,
            self.tags,
            self.last_order_before,
            self.no_order_for,
            self.lifetime_value_above,
            self.sources,
            self.regions,
        )
        if not any(item for item in given if item is not None):
            raise DefinitionError(
                f"segment {self.name!r} has no condition; give at least one of tiers, tags, "
                "last_order_before, no_order_for, lifetime_value_above, sources, regions",
                details={"segment": self.name},
            )

    def evaluate(self, facts: CustomerFacts, now: datetime) -> SegmentMatch:
        """Check each condition for ``facts`` at ``now``; the match lists every one.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
            >>> facts = CustomerFacts(customer_id="cus_1", registered_at=now, source="Trade show")
            >>> m = SegmentRule(name="fair", sources=["trade show"], tiers=["gold"]).evaluate(
            ...     facts, now)
            >>> m.matched, [(c.condition, c.matched) for c in m.conditions]
            (False, [('tiers', False), ('sources', True)])
        """
        if not isinstance(facts, CustomerFacts):
            raise ValidationError(
                f"must be CustomerFacts, not {type(facts).__name__}", path="facts"
            )
        now = ensure_aware(now, "now")
        results: list[ConditionResult] = []
        if self.tiers:
            tier = None if facts.tier is None else _fold(facts.tier)
            ok = tier in self.tiers
            results.append(
                ConditionResult(
                    "tiers",
                    ok,
                    f"tier {facts.tier!r} is {'one' if ok else 'none'} of {', '.join(self.tiers)}",
                )
            )
        if self.tags:
            missing = [t for t in self.tags if t not in facts.tags]
            results.append(
                ConditionResult(
                    "tags",
                    not missing,
                    f"has every tag of {', '.join(self.tags)}"
                    if not missing
                    else f"lacks tag {', '.join(missing)}",
                )
            )
        last = facts.purchases.last_order_at
        if self.last_order_before is not None:
            cut = self.last_order_before
            results.append(_before("last_order_before", last, cut))
        if self.no_order_for is not None:
            results.append(_before("no_order_for", last, now - self.no_order_for))
        if self.lifetime_value_above:
            results.append(self._value(facts.purchases))
        if self.sources:
            source = None if facts.source is None else _fold(facts.source)
            ok = source in self.sources
            results.append(
                ConditionResult(
                    "sources",
                    ok,
                    f"source {facts.source!r} is {'one' if ok else 'none'} of "
                    f"{', '.join(self.sources)}",
                )
            )
        if self.regions:
            region = None if facts.region is None else facts.region.upper()
            ok = region in self.regions
            results.append(
                ConditionResult(
                    "regions",
                    ok,
                    f"region {facts.region!r} is {'one' if ok else 'none'} of "
                    f"{', '.join(self.regions)}",
                )
            )
        return SegmentMatch(self.name, facts.customer_id, tuple(results))

    def _value(self, purchases: PurchaseSummary) -> ConditionResult:
        notes: list[str] = []
        for threshold in self.lifetime_value_above:
            value = purchases.value_in(threshold.currency)
            if value > threshold:
                return ConditionResult(
                    "lifetime_value_above", True, f"lifetime value {value} is above {threshold}"
                )
            notes.append(f"{value} is not above {threshold}")
        return ConditionResult("lifetime_value_above", False, "lifetime value " + "; ".join(notes))


def _before(condition: str, last: datetime | None, cut: datetime) -> ConditionResult:
    if last is None:
        return ConditionResult(condition, False, "has no order")
    ok = last < cut
    return ConditionResult(
        condition,
        ok,
        f"last order {last.isoformat()} is {'before' if ok else 'not before'} {cut.isoformat()}",
    )


# ----- RFM -----------------------------------------------------------------------------------


def _score_range(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in value)
        and 1 <= value[0] <= value[1] <= 5
    )
    if not ok:
        raise ValidationError(
            f"must be a (low, high) pair of scores with 1 <= low <= high <= 5, got {value!r}",
            path=attribute.name,
        )


def _pair(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(kw_only=True)
class RfmSegment:
    """A named RFM segment: the R, F and M score ranges (inclusive) it covers.

    Example:
        >>> RfmSegment(name="champions", recency=(4, 5), frequency=(4, 5)).covers(5, 4, 1)
        True

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=_key)
    recency: tuple[int, int] = attrs.field(default=(1, 5), converter=_pair, validator=_score_range)
    frequency: tuple[int, int] = attrs.field(
        default=(1, 5), converter=_pair, validator=_score_range
    )
    monetary: tuple[int, int] = attrs.field(default=(1, 5), converter=_pair, validator=_score_range)

    def covers(self, r: int, f: int, m: int) -> bool:
        """Whether scores ``r``, ``f`` and ``m`` fall in this segment's ranges."""
        return (
            self.recency[0] <= r <= self.recency[1]
            and self.frequency[0] <= f <= self.frequency[1]
            and self.monetary[0] <= m <= self.monetary[1]
        )


#: The named segments crmkit starts with, first match wins; together they cover every score.
DEFAULT_RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    RfmSegment(name="champions", recency=(4, 5), frequency=(4, 5)),
    RfmSegment(name="loyal", recency=(3, 5), frequency=(3, 5)),
    RfmSegment(name="promising", recency=(3, 5), frequency=(1, 2)),
    RfmSegment(name="at_risk", recency=(1, 2), frequency=(3, 5)),
    RfmSegment(name="hibernating", recency=(2, 2), frequency=(1, 2)),
    RfmSegment(name="lost", recency=(1, 1), frequency=(1, 2)),
)


def _segments(value: object) -> tuple[RfmSegment, ...]:
    return _tuple_of(RfmSegment, "segments", value)


def _currency(_instance: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code", path="currency")


@attrs.frozen(kw_only=True)
class RfmModel:
    """How to score recency, frequency and monetary value, and name the segments.

    Scores run from 1 to 5 in quintiles over the population scored (customers with at least
    one order). Monetary value is the lifetime value in ``currency`` (a customer who never
    paid in it has zero there; currencies are never converted or added). The named segments
    are tried in order and the first that covers a customer's scores names it; together they
    must cover all 125 combinations, so every customer has exactly one.

    Example:
        >>> RfmModel(currency="TWD").segment_for(5, 5, 1)
        'champions'
        >>> RfmModel(currency="TWD", segments=[RfmSegment(name="recent", recency=(4, 5))])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: the RFM segments cover no segment for R1 F1 M1 (and ...

    .. versionadded:: 0.1.0
    """

    currency: str = attrs.field(validator=_currency)
    segments: tuple[RfmSegment, ...] = attrs.field(
        default=DEFAULT_RFM_SEGMENTS, converter=_segments
    )

    def __attrs_post_init__(self) -> None:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise DefinitionError(
                f"the RFM segments repeat a name: {', '.join(names)}; give each a unique name",
                details={"segments": names},
            )
        gaps = [
            (r, f, m)
            for r in range(1, 6)
            for f in range(1, 6)
            for m in range(1, 6)
            if not any(s.covers(r, f, m) for s in self.segments)
        ]
        if gaps:
            r, f, m = gaps[0]
            raise DefinitionError(
                f"the RFM segments cover no segment for R{r} F{f} M{m} (and {len(gaps) - 1} "
                "more combinations); add a segment for them, e.g. a last one with every "
                "range 1 to 5",
                details={"uncovered": [f"R{r}F{f}M{m}" for r, f, m in gaps]},
            )

    def segment_for(self, r: int, f: int, m: int) -> str:
        """The name of the first segment that covers these scores."""
        for segment in self.segments:
            if segment.covers(r, f, m):
                return segment.name
        raise DefinitionError(f"no RFM segment covers R{r} F{f} M{m}")  # pragma: no cover


@attrs.frozen
class ScoreDetail:
    """One RFM dimension for one customer: the value, its score, and the boundaries used.

    ``boundaries`` are the four quintile cuts over the population: cut ``k`` is the value of
    the customer at rank ``floor(k * n / 5)`` (best last), or ``None`` when that rank is below
    one (fewer than five customers). A value scores 1 plus the number of cuts it beats: for
    frequency and monetary, cuts it is above; for recency (days since the last order, fewer
    is better), cuts it is below; a ``None`` cut is beaten by everyone. So equal values get
    equal scores, and distinct values fill the quintiles as evenly as ``n`` allows, the best
    customer always scoring 5. ``value`` is ``None`` (and ``boundaries`` empty) where the
    reader may not see amounts.

    Example:
        >>> d = ScoreDetail("frequency", Decimal(3), 4, (Decimal(1), Decimal(1), Decimal(2),
        ...                 Decimal(4)))
        >>> d.explain()
        'frequency 3 scores 4 (boundaries 1, 1, 2, 4)'
        >>> ScoreDetail("recency", Decimal(3), 5, (None, None, Decimal(250), Decimal(250))
        ...            ).explain()
        'recency 3 scores 5 (boundaries -, -, 250, 250)'

    .. versionadded:: 0.1.0
    """

    dimension: str
    value: Decimal | None
    score: int
    boundaries: tuple[Decimal | None, ...]

    def explain(self) -> str:
        """Say the value, the score and the boundaries (``-`` for none) in one line.

        A value hidden from the reader (``None``, with no boundaries) is said to be hidden.

        Example:
            >>> ScoreDetail("monetary", None, 3, ()).explain()
            'monetary (hidden) scores 3'
        """
        if self.value is None:
            return f"{self.dimension} (hidden) scores {self.score}"
        cuts = ", ".join("-" if b is None else str(b) for b in self.boundaries)
        return f"{self.dimension} {self.value} scores {self.score} (boundaries {cuts})"


@attrs.frozen
class RfmScore:
    """A customer's RFM scores, each explained, and the named segment they put it in.

    Example:
        >>> d = lambda name, s: ScoreDetail(name, Decimal(1), s, (Decimal(1),) * 4)
        >>> RfmScore("cus_1", d("recency", 5), d("frequency", 4), d("monetary", 3),
        ...          "champions").code
        'R5F4M3'

    .. versionadded:: 0.1.0
    """

    customer_id: str
    recency: ScoreDetail
    frequency: ScoreDetail
    monetary: ScoreDetail
    segment: str

    @property
    def code(self) -> str:
        """The scores as ``"R5F4M3"``."""
        return f"R{self.recency.score}F{self.frequency.score}M{self.monetary.score}"


def _cuts(values: list[Decimal]) -> tuple[Decimal | None, ...]:
    """The quintile cuts: the value at rank floor(k * n / 5), k = 1..4 (``None`` below 1)."""
    ordered = sorted(values)
    n = len(ordered)
    return tuple(ordered[k * n // 5 - 1] if k * n // 5 >= 1 else None for k in range(1, 5))


def _score(value: Decimal, cuts: tuple[Decimal | None, ...]) -> int:
    """1 + how many cuts ``value`` beats (is strictly above; a ``None`` cut always)."""
    return 1 + sum(1 for cut in cuts if cut is None or cut < value)


def _negated(cuts: tuple[Decimal | None, ...]) -> tuple[Decimal | None, ...]:
    return tuple(None if cut is None else -cut for cut in cuts)


def rfm_scores(
    population: Iterable[CustomerFacts], model: RfmModel, now: datetime
) -> list[RfmScore]:
    """Score every customer of ``population`` with at least one order (in population order).

    Recency is whole days from the last order to ``now``; frequency the number of orders;
    monetary the lifetime value in the model's currency. Each dimension is cut in quintiles
    over the customers scored, so equal values always get equal scores.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.kernel.money import Money
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> def facts(n, days, orders, value):
        ...     return CustomerFacts(customer_id=f"cus_{n}", registered_at=now,
        ...         purchases=PurchaseSummary(order_count=orders,
        ...             last_order_at=now - timedelta(days=days),
        ...             lifetime_value=(Money(value, "TWD"),)))
        >>> people = [facts(1, 5, 9, 9000), facts(2, 30, 4, 3000), facts(3, 90, 3, 800),
        ...           facts(4, 200, 2, 400), facts(5, 400, 1, 100)]
        >>> [(s.customer_id, s.code, s.segment) for s in rfm_scores(people, RfmModel(
        ...     currency="TWD"), now)]  # doctest: +NORMALIZE_WHITESPACE
        [('cus_1', 'R5F5M5', 'champions'), ('cus_2', 'R4F4M4', 'champions'),
         ('cus_3', 'R3F3M3', 'loyal'), ('cus_4', 'R2F2M2', 'hibernating'),
         ('cus_5', 'R1F1M1', 'lost')]

    .. versionadded:: 0.1.0
    """
    if not isinstance(model, RfmModel):
        raise ValidationError(f"must be an RfmModel, not {type(model).__name__}", path="model")
    now = ensure_aware(now, "now")
    scored: list[tuple[CustomerFacts, Decimal, Decimal, Decimal]] = []
    for i, facts in enumerate(population):
        if not isinstance(facts, CustomerFacts):
            raise ValidationError(
                f"must be CustomerFacts, not {type(facts).__name__}", path=f"population[{i}]"
            )
        last = facts.purchases.last_order_at
        if facts.purchases.order_count < 1 or last is None:
            continue
        days = Decimal(max((now - last).days, 0))
        scored.append(
            (
                facts,
                days,
                Decimal(facts.purchases.order_count),
                facts.purchases.value_in(model.currency).amount,
            )
        )
    if not scored:
        return []
    # Fewer days is better: score recency on the negated days, show the cuts in days.
    r_cuts = _cuts([-s[1] for s in scored])
    f_cuts = _cuts([s[2] for s in scored])
    m_cuts = _cuts([s[3] for s in scored])
    shown_r_cuts = _negated(r_cuts)
    results: list[RfmScore] = []
    for facts, days, count, value in scored:
        r = _score(-days, r_cuts)
        f = _score(count, f_cuts)
        m = _score(value, m_cuts)
        results.append(
            RfmScore(
                facts.customer_id,
                ScoreDetail("recency", days, r, shown_r_cuts),
                ScoreDetail("frequency", count, f, f_cuts),
                ScoreDetail("monetary", value, m, m_cuts),
                model.segment_for(r, f, m),
            )
        )
    return results


# ----- lifecycle and attention ---------------------------------------------------------------


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class LifecycleRules:
    """The thresholds that turn a customer's orders into a lifecycle status.

    * no order: ``prospect``;
    * last order at least ``churned_after`` ago: ``churned``;
    * else at least ``at_risk_after`` ago: ``at_risk``;
    * else first order less than ``new_for`` ago: ``new``;
    * else ``active``.

    Example:
        >>> LifecycleRules(at_risk_after=timedelta(days=400))
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: at_risk_after (400 days, 0:00:00) must be shorter than ...

    .. versionadded:: 0.1.0
    """

    new_for: timedelta = attrs.field(default=timedelta(days=90), validator=_positive)
    at_risk_after: timedelta = attrs.field(default=timedelta(days=180), validator=_positive)
    churned_after: timedelta = attrs.field(default=timedelta(days=365), validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.at_risk_after >= self.churned_after:
            raise DefinitionError(
                f"at_risk_after ({self.at_risk_after}) must be shorter than churned_after "
                f"({self.churned_after}): a customer is at risk before it is churned",
                details={"at_risk_after": str(self.at_risk_after)},
            )


@attrs.frozen
class LifecycleAssessment:
    """A customer's lifecycle status at ``as_of``, and the reason for it.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> a = assess_lifecycle(CustomerFacts(customer_id="cus_1", registered_at=now),
        ...                      LifecycleRules(), now)
        >>> a.status.value, a.reason
        ('prospect', 'has no order yet')

    .. versionadded:: 0.1.0
    """

    customer_id: str
    status: Lifecycle
    reason: str
    as_of: datetime


def assess_lifecycle(
    facts: CustomerFacts, rules: LifecycleRules, now: datetime
) -> LifecycleAssessment:
    """The lifecycle status ``rules`` give ``facts`` at ``now``, with the reason.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> facts = CustomerFacts(customer_id="cus_1", registered_at=now,
        ...     purchases=PurchaseSummary(order_count=1, first_order_at=now - timedelta(days=200),
        ...                               last_order_at=now - timedelta(days=200)))
        >>> a = assess_lifecycle(facts, LifecycleRules(), now)
        >>> a.status.value, a.reason
        ('at_risk', 'last order 200 days ago, at least 180 days (at_risk_after)')

    .. versionadded:: 0.1.0
    """
    if not isinstance(rules, LifecycleRules):
        raise ValidationError(f"must be LifecycleRules, not {type(rules).__name__}", path="rules")
    now = ensure_aware(now, "now")
    first, last = facts.purchases.first_order_at, facts.purchases.last_order_at
    if last is None:
        return LifecycleAssessment(facts.customer_id, Lifecycle.PROSPECT, "has no order yet", now)
    since = now - last
    if since >= rules.churned_after:
        status = Lifecycle.CHURNED
        reason = f"last order {since.days} days ago, at least {rules.churned_after.days} days "
        reason += "(churned_after)"
    elif since >= rules.at_risk_after:
        status = Lifecycle.AT_RISK
        reason = f"last order {since.days} days ago, at least {rules.at_risk_after.days} days "
        reason += "(at_risk_after)"
    elif first is not None and now - first < rules.new_for:
        status = Lifecycle.NEW
        reason = f"first order {(now - first).days} days ago, less than {rules.new_for.days} "
        reason += "days (new_for)"
    else:
        status = Lifecycle.ACTIVE
        reason = f"last order {since.days} days ago, less than {rules.at_risk_after.days} days "
        reason += "(at_risk_after)"
    return LifecycleAssessment(facts.customer_id, status, reason, now)


@attrs.frozen(kw_only=True)
class AttentionRule:
    """When a customer "needs attention": no order for ``after`` (about six months).

    A customer who never ordered counts from its registration when
    ``include_never_ordered`` (the default), and is never flagged otherwise.

    Example:
        >>> AttentionRule().after.days
        182

    .. versionadded:: 0.1.0
    """

    after: timedelta = attrs.field(default=timedelta(days=182), validator=_positive)
    include_never_ordered: bool = attrs.field(default=True, validator=v.of_type(bool))


@attrs.frozen
class AttentionFlag:
    """Whether a customer needs attention at ``as_of``, since when, and why.

    ``since`` is the last order (or, with none, the registration); ``quiet_days`` how many
    whole days ago that was.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> flag = needs_attention(CustomerFacts(customer_id="cus_1", registered_at=now),
        ...                        AttentionRule(), now)
        >>> flag.flagged, flag.reason
        (False, 'registered 0 days ago and no order yet, less than 182 days')

    .. versionadded:: 0.1.0
    """

    customer_id: str
    flagged: bool
    since: datetime
    quiet_days: int
    reason: str
    as_of: datetime


def needs_attention(facts: CustomerFacts, rule: AttentionRule, now: datetime) -> AttentionFlag:
    """Flag ``facts`` if its last order (or registration) is at least ``rule.after`` ago.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> facts = CustomerFacts(customer_id="cus_1", registered_at=now - timedelta(days=900),
        ...     purchases=PurchaseSummary(order_count=2, last_order_at=now - timedelta(days=190)))
        >>> flag = needs_attention(facts, AttentionRule(), now)
        >>> flag.flagged, flag.quiet_days, flag.reason
        (True, 190, 'last order 190 days ago, at least 182 days')

    .. versionadded:: 0.1.0
    """
    if not isinstance(rule, AttentionRule):
        raise ValidationError(f"must be AttentionRule, not {type(rule).__name__}", path="rule")
    now = ensure_aware(now, "now")
    last = facts.purchases.last_order_at
    if last is None:
        since, what = facts.registered_at, "registered {} days ago and no order yet"
    else:
        since, what = last, "last order {} days ago"
    quiet = now - since
    flagged = quiet >= rule.after and (last is not None or rule.include_never_ordered)
    label = what.format(max(quiet.days, 0))
    if last is None and not rule.include_never_ordered:
        reason = f"{label}; customers without orders are not flagged"
    elif flagged:
        reason = f"{label}, at least {rule.after.days} days"
    else:
        reason = f"{label}, less than {rule.after.days} days"
    return AttentionFlag(facts.customer_id, flagged, since, max(quiet.days, 0), reason, now)


# ----- all together --------------------------------------------------------------------------


def _rules(value: object) -> tuple[SegmentRule, ...]:
    found = _tuple_of(SegmentRule, "segments", value)
    names = [rule.name for rule in found]
    for name in names:
        if names.count(name) > 1:
            raise DefinitionError(
                f"two segments are named {name!r}; give each a unique name",
                details={"segment": name},
            )
    return found


def _optional_model(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, RfmModel):
        raise ValidationError(
            f"must be an RfmModel or None, not {type(value).__name__}", path="rfm"
        )


def _of(cls: type) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(
                f"must be {cls.__name__}, not {type(value).__name__}", path=attribute.name
            )

    return check


@attrs.frozen(kw_only=True)
class SegmentationRules:
    """Every segmentation setting in one piece of data: rule segments, RFM, lifecycle, attention.

    ``rfm`` is ``None`` to skip RFM scoring (it reads every customer with orders).

    Example:
        >>> from crmkit.serialization import structure, unstructure
        >>> rules = SegmentationRules(segments=[SegmentRule(name="vip", tags=["vip"])],
        ...                           rfm=RfmModel(currency="TWD"))
        >>> structure(unstructure(rules), SegmentationRules) == rules
        True

    .. versionadded:: 0.1.0
    """

    segments: tuple[SegmentRule, ...] = attrs.field(default=(), converter=_rules)
    rfm: RfmModel | None = attrs.field(default=None, validator=_optional_model)
    lifecycle: LifecycleRules = attrs.field(factory=LifecycleRules, validator=_of(LifecycleRules))
    attention: AttentionRule = attrs.field(factory=AttentionRule, validator=_of(AttentionRule))


@attrs.frozen
class CustomerSegments:
    """Where one customer stands: its rule segments, RFM score, lifecycle and attention flag.

    ``matches`` holds every rule segment evaluated (matched or not, each explained);
    :attr:`names` only those that matched.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> [result] = segment_customers([CustomerFacts(customer_id="cus_1", registered_at=now,
        ...     tags=["vip"])], SegmentationRules(segments=[SegmentRule(name="vip",
        ...     tags=["vip"])]), now)
        >>> result.names, result.lifecycle.status.value, result.rfm is None
        (('vip',), 'prospect', True)

    .. versionadded:: 0.1.0
    """

    customer_id: str
    matches: tuple[SegmentMatch, ...]
    rfm: RfmScore | None
    lifecycle: LifecycleAssessment
    attention: AttentionFlag

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the rule segments the customer is in, in the rules' order."""
        return tuple(m.segment for m in self.matches if m.matched)


def segment_customers(
    population: Iterable[CustomerFacts], rules: SegmentationRules, now: datetime
) -> list[CustomerSegments]:
    """Segment every customer of ``population`` by ``rules`` at ``now`` (in population order).

    RFM quintiles are computed over the whole population given, so pass every customer (or
    the population you mean the quintiles to be over) and pick the ones you need after.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        >>> people = [CustomerFacts(customer_id=f"cus_{n}", registered_at=now) for n in range(2)]
        >>> [s.attention.flagged for s in segment_customers(people, SegmentationRules(), now)]
        [False, False]

    .. versionadded:: 0.1.0
    """
    if not isinstance(rules, SegmentationRules):
        raise ValidationError(
            f"must be SegmentationRules, not {type(rules).__name__}", path="rules"
        )
    now = ensure_aware(now, "now")
    people = list(population)
    scores = (
        {} if rules.rfm is None else {s.customer_id: s for s in rfm_scores(people, rules.rfm, now)}
    )
    return [
        CustomerSegments(
            facts.customer_id,
            tuple(rule.evaluate(facts, now) for rule in rules.segments),
            scores.get(facts.customer_id),
            assess_lifecycle(facts, rules.lifecycle, now),
            needs_attention(facts, rules.attention, now),
        )
        for facts in people
    ]
