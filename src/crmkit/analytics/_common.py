"""Shared pieces of the analytics context: explanations, ratios and argument checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v

__all__ = ["Explanation", "Ratio"]

T = TypeVar("T")

_FOUR = Decimal("0.0001")


def _pairs(value: object) -> tuple[tuple[str, int], ...]:
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = [tuple(item) for item in value]
    else:
        raise ValidationError(
            f"must be reason -> count pairs, not {type(value).__name__}", path="excluded"
        )
    found: Counter[str] = Counter()
    for reason, count in items:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(f"must be a count of 0 or more, not {count!r}", path="excluded")
        if count:
            found[str(reason)] += count
    return tuple(sorted(found.items()))


def _notes(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(note) for note in value)


@attrs.frozen
class Explanation:
    """How a metric was computed: the formula, the records counted, those left out and why.

    ``excluded`` pairs each reason with how many records it left out (reasons sorted, empty
    reasons dropped); ``notes`` carry anything else a reader needs (rates used, conventions).

    Example:
        >>> e = Explanation("won amount / won deals", 3, {"no amount": 1})
        >>> e.excluded, e.excluded_count
        ((('no amount', 1),), 1)
        >>> str(e)
        'won amount / won deals; counted 3; excluded 1: no amount (1)'

    .. versionadded:: 0.1.0
    """

    formula: str
    counted: int
    excluded: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_pairs)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_notes)

    @property
    def excluded_count(self) -> int:
        """How many records were left out, for every reason together.

        Example:
            >>> Explanation("x", 1, {"a": 2, "b": 3}).excluded_count
            5
        """
        return sum(count for _reason, count in self.excluded)

    def __str__(self) -> str:
        text = f"{self.formula}; counted {self.counted}"
        if self.excluded:
            reasons = ", ".join(f"{reason} ({count})" for reason, count in self.excluded)
            text += f"; excluded {self.excluded_count}: {reasons}"
        for note in self.notes:
            text += f"; {note}"
        return text


@attrs.frozen
class Ratio:
    """``part`` of ``whole``; :attr:`value` is the share to four places, ``None`` when empty.

    Example:
        >>> Ratio(2, 3).value, Ratio(0, 0).value
        (Decimal('0.6667'), None)

    .. versionadded:: 0.1.0
    """

    part: int
    whole: int

    @property
    def value(self) -> Decimal | None:
        """``part / whole`` rounded half-even to four places; ``None`` if ``whole`` is 0.

        Example:
            >>> Ratio(1, 8).value
            Decimal('0.1250')
        """
        if not self.whole:
            return None
        return (Decimal(self.part) / Decimal(self.whole)).quantize(_FOUR, ROUND_HALF_EVEN)


def check_items(value: Iterable[Any], cls: type[T], path: str) -> list[T]:
    """The items of ``value``, each checked to be a ``cls`` (else a ``ValidationError``)."""
    return list(v.instance_tuple(cls, path)(value))


def average(total: Decimal, count: int, places: int = 2) -> Decimal | None:
    """``total / count`` rounded half-even to ``places``; ``None`` when ``count`` is 0."""
    if not count:
        return None
    return (total / count).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
