"""Qualification frameworks as data, the answers a lead collects, and MQL/SQL thresholds.

A :class:`Framework` is a named list of :class:`Criterion` (``BANT``: budget, authority, need,
timeline, built in; MEDDIC or your own are data of the same shape, so they round-trip through
:mod:`crmkit.serialization`). A :class:`QualificationAnswer` says whether a criterion is met,
with the evidence, who said so and when; a lead keeps every answer (:class:`Qualification`),
and the latest answer per criterion counts. :func:`stage_for` maps a score and the answers to
a marketing stage with :class:`StageThresholds` (MQL at a score of 50, SQL when BANT is
complete, by default).

Example:
    >>> from datetime import datetime, timezone
    >>> from decimal import Decimal
    >>> from crmkit.leads.qualification import (BANT, Qualification, QualificationAnswer,
    ...     StageThresholds, stage_for)
    >>> at = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
    >>> answers = Qualification()
    >>> for key in ("budget", "authority", "need"):
    ...     answers = answers.with_answer(QualificationAnswer(framework="bant", criterion=key,
    ...         met=True, evidence="said so on the call", by="u_amy", at=at))
    >>> answers.missing(BANT)
    ('timeline',)
    >>> stage_for(Decimal("62.5"), answers, StageThresholds()).value
    'mql'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import _to_decimal
from crmkit.kernel.time import validate_aware

if TYPE_CHECKING:
    from crmkit.leads.scoring import LeadScore

__all__ = [
    "BANT",
    "Criterion",
    "Framework",
    "Qualification",
    "QualificationAnswer",
    "Stage",
    "StageThresholds",
    "stage_for",
]


def _key(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not (
        isinstance(value, str)
        and value
        and len(value) <= 50
        and value.isascii()
        and (value.replace("_", "").replace("-", "").isalnum())
        and value == value.lower()
    ):
        raise ValidationError(
            "must be a short lower-case key of letters, digits, '_' or '-' "
            f"(e.g. 'budget'), got {value!r}",
            path=attribute.name,
        )


@attrs.frozen
class Criterion:
    """One question of a framework: a stable ``key``, a ``label`` for people, required or not.

    Example:
        >>> Criterion("champion", "Has an internal champion", required=False).required
        False

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=_key)
    label: str = attrs.field(converter=v.strip, validator=v.text(200))
    required: bool = attrs.field(default=True, validator=v.of_type(bool))
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(1000)
    )


def _criteria(value: object) -> tuple[Criterion, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of Criterion, not {type(value).__name__}", path="criteria"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Criterion):
            raise ValidationError(
                f"must be a Criterion, not {type(item).__name__}", path=f"criteria[{i}]"
            )
    return items


@attrs.frozen
class Framework:
    """A qualification framework: a key, a name and its criteria (keys unique, at least one).

    Example:
        >>> meddic = Framework("meddic", "MEDDIC", [
        ...     Criterion("metrics", "Metrics"), Criterion("economic_buyer", "Economic buyer"),
        ...     Criterion("decision_criteria", "Decision criteria"),
        ...     Criterion("decision_process", "Decision process"),
        ...     Criterion("identify_pain", "Identified pain"),
        ...     Criterion("champion", "Champion")])
        >>> len(meddic.criteria), meddic.criterion("champion").label
        (6, 'Champion')

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=_key)
    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    criteria: tuple[Criterion, ...] = attrs.field(converter=_criteria)

    def __attrs_post_init__(self) -> None:
        if not self.criteria:
            raise DefinitionError(f"framework {self.key!r} needs at least one criterion")
        keys = [c.key for c in self.criteria]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise DefinitionError(
                f"framework {self.key!r} lists criterion {', '.join(map(repr, repeated))} "
                "more than once; keys must be unique"
            )

    @property
    def keys(self) -> tuple[str, ...]:
        """The criteria keys, in order.

        Example:
            >>> BANT.keys
            ('budget', 'authority', 'need', 'timeline')
        """
        return tuple(c.key for c in self.criteria)

    def criterion(self, key: str) -> Criterion:
        """The criterion with ``key``; a ``ValidationError`` naming the known keys otherwise.

        Example:
            >>> BANT.criterion("money")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: criterion: 'money' is not a criterion of 'bant'; ...
        """
        for criterion in self.criteria:
            if criterion.key == key:
                return criterion
        raise ValidationError(
            f"{key!r} is not a criterion of {self.key!r}; use one of "
            f"{', '.join(map(repr, self.keys))}",
            path="criterion",
        )


#: The built-in BANT framework: budget, authority, need and timeline, all required.
BANT = Framework(
    "bant",
    "BANT",
    [
        Criterion("budget", "Budget", description="There is money set aside for this purchase."),
        Criterion("authority", "Authority", description="We talk to who decides, or reach them."),
        Criterion("need", "Need", description="The problem we solve hurts them now."),
        Criterion("timeline", "Timeline", description="They plan to buy within a known period."),
    ],
)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


@attrs.frozen(kw_only=True)
class QualificationAnswer:
    """One answer to one criterion: met or not, the evidence, who answered and when.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = QualificationAnswer(framework="bant", criterion="budget", met=True,
        ...     evidence="NT$2M approved for Q3", by="u_amy",
        ...     at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> a.met, a.evidence
        (True, 'NT$2M approved for Q3')

    .. versionadded:: 0.1.0
    """

    framework: str = attrs.field(validator=_key)
    criterion: str = attrs.field(validator=_key)
    met: bool = attrs.field(validator=v.of_type(bool))
    evidence: str = attrs.field(converter=v.strip, validator=v.text(2000))
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)


def _answers(value: object) -> tuple[QualificationAnswer, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of QualificationAnswer, not {type(value).__name__}", path="answers"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, QualificationAnswer):
            raise ValidationError(
                f"must be a QualificationAnswer, not {type(item).__name__}",
                path=f"answers[{i}]",
            )
    return items


@attrs.frozen
class Qualification:
    """Every answer a lead collected, oldest first; the latest per criterion counts.

    Example:
        >>> Qualification().is_complete(BANT)
        False

    .. versionadded:: 0.1.0
    """

    answers: tuple[QualificationAnswer, ...] = attrs.field(default=(), converter=_answers)

    def with_answer(self, answer: QualificationAnswer) -> Qualification:
        """Return these answers and one more (the history is never rewritten).

        Example:
            >>> from datetime import datetime, timezone
            >>> q = Qualification().with_answer(QualificationAnswer(framework="bant",
            ...     criterion="need", met=True, evidence="manual quoting takes days",
            ...     at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
            >>> len(q.answers)
            1
        """
        if not isinstance(answer, QualificationAnswer):
            raise ValidationError(
                f"must be a QualificationAnswer, not {type(answer).__name__}", path="answer"
            )
        return Qualification((*self.answers, answer))

    def latest(self, framework: Framework) -> dict[str, QualificationAnswer]:
        """The answer in force per criterion key of ``framework`` (latest ``at``, then last).

        Example:
            >>> Qualification().latest(BANT)
            {}
        """
        found: dict[str, QualificationAnswer] = {}
        for answer in self.answers:
            if answer.framework != framework.key:
                continue
            before = found.get(answer.criterion)
            if before is None or answer.at >= before.at:
                found[answer.criterion] = answer
        return {k: found[k] for k in framework.keys if k in found}

    def missing(self, framework: Framework) -> tuple[str, ...]:
        """The required criteria of ``framework`` not (yet) answered as met.

        Example:
            >>> Qualification().missing(BANT)
            ('budget', 'authority', 'need', 'timeline')
        """
        latest = self.latest(framework)
        return tuple(
            c.key
            for c in framework.criteria
            if c.required and not (c.key in latest and latest[c.key].met)
        )

    def is_complete(self, framework: Framework) -> bool:
        """Tell whether every required criterion of ``framework`` is answered as met.

        Example:
            >>> Qualification().is_complete(BANT)
            False
        """
        return not self.missing(framework)


class Stage(StrEnum):
    """Where a lead stands in the funnel: a plain lead, marketing- or sales-qualified.

    Example:
        >>> [s.value for s in Stage]
        ['lead', 'mql', 'sql']

    .. versionadded:: 0.1.0
    """

    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"


def _mql_score(value: object) -> Decimal:
    return _to_decimal(value, "mql_score")


def _optional_points(value: object) -> Decimal | None:
    return None if value is None else _to_decimal(value, "sql_score")


@attrs.frozen(kw_only=True)
class StageThresholds:
    """When a lead counts as marketing-qualified (MQL) and when as sales-qualified (SQL).

    MQL: a score of at least ``mql_score``. SQL: every required criterion of
    ``sql_framework`` met, and a score of at least ``sql_score`` when one is set.

    Example:
        >>> t = StageThresholds(mql_score=40, sql_score=40)
        >>> t.mql_score, t.sql_framework.key
        (Decimal('40'), 'bant')

    .. versionadded:: 0.1.0
    """

    mql_score: Decimal = attrs.field(default=Decimal(50), converter=_mql_score)
    sql_framework: Framework = attrs.field(default=BANT)
    sql_score: Decimal | None = attrs.field(default=None, converter=_optional_points)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.sql_framework, Framework):
            raise ValidationError(
                f"must be a Framework, not {type(self.sql_framework).__name__}",
                path="sql_framework",
            )


def stage_for(
    score: LeadScore | Decimal | int, qualification: Qualification, thresholds: StageThresholds
) -> Stage:
    """The funnel stage a score and the answers give under ``thresholds``.

    ``score`` is a :class:`~crmkit.leads.scoring.LeadScore` or its total.

    Example:
        >>> from decimal import Decimal
        >>> stage_for(Decimal("12"), Qualification(), StageThresholds()).value
        'lead'

    .. versionadded:: 0.1.0
    """
    total = score if isinstance(score, (Decimal, int)) else getattr(score, "total", None)
    if isinstance(total, bool) or not isinstance(total, (Decimal, int)):
        raise ValidationError(
            f"must be a LeadScore or a Decimal total, not {type(score).__name__}", path="score"
        )
    if not isinstance(qualification, Qualification):
        raise ValidationError(
            f"must be a Qualification, not {type(qualification).__name__}", path="qualification"
        )
    complete = qualification.is_complete(thresholds.sql_framework)
    if complete and (thresholds.sql_score is None or total >= thresholds.sql_score):
        return Stage.SQL
    if total >= thresholds.mql_score:
        return Stage.MQL
    return Stage.LEAD
