"""Discount approvals as data: which roles must approve a quote, by how deep its discount is.

An :class:`ApprovalPolicy` lists :class:`ApprovalLevel` thresholds, e.g. more than 10% needs
the sales manager and more than 25% a director. A quote whose discount is over a threshold needs
that level *and every level below it*, approved in order from the lowest. The discount compared
is, by :class:`ApprovalBasis`, every discount or only what reps typed by hand, as a percentage
of the price-book amount; the comparison is exact (``discount * 100 > threshold * base``), so
10.004% is over 10% and exactly 10% is not, whatever the rounding.

Example:
    >>> from crmkit.pricing.engine import _example
    >>> policy = ApprovalPolicy.default()
    >>> [level.role for level in policy.levels]
    ['sales_manager', 'director']
    >>> policy.required_roles(_example())     # a 10% discount is not *over* 10%
    ()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.pricing.catalog import _percent, _tuple_of
from crmkit.pricing.engine import PricedQuote

__all__ = ["ApprovalBasis", "ApprovalLevel", "ApprovalPolicy", "required_approvals"]


class ApprovalBasis(StrEnum):
    """Which discount the thresholds are compared with.

    ``all_discounts``: every discount (automatic, manual, quote-level, coupons);
    ``manual_discounts``: only the discounts reps typed (automatic ones are pre-approved).

    Example:
        >>> ApprovalBasis("manual_discounts").value
        'manual_discounts'

    .. versionadded:: 0.1.0
    """

    ALL_DISCOUNTS = "all_discounts"
    MANUAL_DISCOUNTS = "manual_discounts"


def _role(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="role")
    return check_id(value.strip(), "role")


def _above(value: object) -> Decimal:
    return _percent(value, "above_percent")


@attrs.frozen
class ApprovalLevel:
    """A role that must approve quotes discounted more than ``above_percent``.

    Example:
        >>> ApprovalLevel("director", 25).above_percent
        Decimal('25')

    .. versionadded:: 0.1.0
    """

    role: str = attrs.field(converter=_role)
    above_percent: Decimal = attrs.field(converter=_above)
    label: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )


def _levels(value: object) -> tuple[ApprovalLevel, ...]:
    return _tuple_of(ApprovalLevel, "levels")(value)


def _basis(value: object) -> ApprovalBasis:
    return v.to_enum(ApprovalBasis, "basis")(value)


@attrs.frozen(kw_only=True)
class ApprovalPolicy:
    """Approval thresholds, lowest first: roles and the discount percentage each approves over.

    Thresholds must rise strictly and roles must not repeat (a ``DefinitionError`` otherwise).

    Example:
        >>> ApprovalPolicy(levels=[ApprovalLevel("director", 25), ApprovalLevel("manager", 10)])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: approval levels must rise strictly: 'manager' (10%)
        comes after 'director' (25%)

    .. versionadded:: 0.1.0
    """

    levels: tuple[ApprovalLevel, ...] = attrs.field(converter=_levels)
    basis: ApprovalBasis = attrs.field(default=ApprovalBasis.ALL_DISCOUNTS, converter=_basis)

    def __attrs_post_init__(self) -> None:
        roles: set[str] = set()
        for before, after in zip(self.levels, self.levels[1:], strict=False):
            if after.above_percent <= before.above_percent:
                raise DefinitionError(
                    f"approval levels must rise strictly: {after.role!r} "
                    f"({after.above_percent}%) comes after {before.role!r} "
                    f"({before.above_percent}%)"
                )
        for level in self.levels:
            if level.role in roles:
                raise DefinitionError(f"role {level.role!r} appears in two approval levels")
            roles.add(level.role)

    @classmethod
    def default(cls) -> ApprovalPolicy:
        """More than 10% needs the ``sales_manager``, more than 25% also a ``director``.

        Example:
            >>> [str(level.above_percent) for level in ApprovalPolicy.default().levels]
            ['10', '25']
        """
        return cls(
            levels=(
                ApprovalLevel("sales_manager", 10, "Sales manager"),
                ApprovalLevel("director", 25, "Director"),
            )
        )

    def required(self, priced: PricedQuote) -> tuple[ApprovalLevel, ...]:
        """Return the levels ``priced`` needs, lowest first (empty: it may be sent as is).

        Example:
            >>> from crmkit.pricing.engine import _example
            >>> strict = ApprovalPolicy(levels=[ApprovalLevel("manager", 5)])
            >>> [level.role for level in strict.required(_example())]
            ['manager']
        """
        if not isinstance(priced, PricedQuote):
            raise ValidationError(
                f"must be a PricedQuote, not {type(priced).__name__}", path="priced"
            )
        base = priced.tier_total.amount
        if base <= 0:
            return ()
        if self.basis is ApprovalBasis.MANUAL_DISCOUNTS:
            discount = priced.manual_discount_total.amount
        else:
            discount = priced.discount_total.amount
        return tuple(level for level in self.levels if discount * 100 > level.above_percent * base)

    def required_roles(self, priced: PricedQuote) -> tuple[str, ...]:
        """Return the roles that must approve ``priced``, in the order they approve.

        Example:
            >>> from crmkit.pricing.engine import _example
            >>> ApprovalPolicy(levels=[ApprovalLevel("manager", 9)]).required_roles(_example())
            ('manager',)
        """
        return tuple(level.role for level in self.required(priced))


def required_approvals(priced: PricedQuote, policy: ApprovalPolicy) -> tuple[str, ...]:
    """Return the roles that must approve ``priced`` under ``policy``, lowest level first.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> required_approvals(_example(), ApprovalPolicy(levels=[ApprovalLevel("boss", "9.99")]))
        ('boss',)

    .. versionadded:: 0.1.0
    """
    if not isinstance(policy, ApprovalPolicy):
        raise ValidationError(
            f"must be an ApprovalPolicy, not {type(policy).__name__}", path="policy"
        )
    return policy.required_roles(priced)
