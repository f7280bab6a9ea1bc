"""How the loyalty context's aggregates are stored and queried."""

from __future__ import annotations

from crmkit.kernel.query import RecordType
from crmkit.loyalty.membership import Membership
from crmkit.loyalty.program import LoyaltyProgram
from crmkit.loyalty.referrals import Referral, referral_code

__all__ = ["LOYALTY_PROGRAMS", "MEMBERSHIPS", "REFERRALS"]

#: Loyalty programs: queryable by name and currency.
LOYALTY_PROGRAMS: RecordType[LoyaltyProgram] = RecordType(
    "loyalty_programs",
    LoyaltyProgram,
    {"name": lambda p: p.name, "currency": lambda p: p.currency},
)

#: Memberships (id = ``Membership.id_for(program_id, customer_id)``, so a customer holds one
#: card per program): queryable by program, customer, tier, referral code and enrollment.
#: A membership's document holds its whole ledger (see the Loyalty how-to for its size).
MEMBERSHIPS: RecordType[Membership] = RecordType(
    "memberships",
    Membership,
    {
        "program_id": lambda m: m.program_id,
        "customer_id": lambda m: m.customer_id,
        "tier": lambda m: m.tier,
        "referral_code": lambda m: referral_code(m.program_id, m.customer_id),
        "enrolled_at": lambda m: m.enrolled_at,
    },
    kinds={"enrolled_at": "datetime"},
)

#: Referrals (id = ``Referral.id_for(program_id, referee_id)``): queryable by program,
#: referrer, referee, status and first order.
REFERRALS: RecordType[Referral] = RecordType(
    "referrals",
    Referral,
    {
        "program_id": lambda r: r.program_id,
        "referrer_id": lambda r: r.referrer_id,
        "referee_id": lambda r: r.referee_id,
        "status": lambda r: r.status.value,
        "order_id": lambda r: r.order_id,
        "qualifies_at": lambda r: r.qualifies_at,
    },
    kinds={"qualifies_at": "datetime"},
)
