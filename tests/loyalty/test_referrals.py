"""Referrals: codes, self-referral and loops refused, rewards once the first order is final."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import RuleViolation
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    EarnRules,
    LoyaltyProgram,
    Referral,
    ReferralPolicy,
    ReferralStatus,
    referral_code,
)
from crmkit.serialization import structure, unstructure

T0 = datetime(2026, 3, 1, 12, tzinfo=ZoneInfo("Asia/Taipei"))
PROGRAM = LoyaltyProgram(
    id="club",
    name="Club",
    currency="TWD",
    time_zone="Asia/Taipei",
    point_value=Money("1", "TWD"),
    pending_period=timedelta(days=14),
    earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
)
POLICY = ReferralPolicy(referrer_points=200, referee_points=100)


def register(
    referrer: str = "amy", referee: str = "bob", chain: dict[str, str] | None = None
) -> Referral:
    return Referral.register(
        program_id="club",
        code=referral_code("club", referrer),
        referrer_id=referrer,
        referee_id=referee,
        now=T0,
        referred_by=chain or {},
    )


def test_codes_are_stable_and_distinct() -> None:
    assert referral_code("club", "amy") == referral_code("club", "amy")
    assert referral_code("club", "amy") != referral_code("club", "bob")
    assert referral_code("club", "amy") != referral_code("other", "amy")


def test_rewards_wait_for_the_first_orders_pending_period() -> None:
    r = register()
    assert r.qualify(POLICY, now=T0 + timedelta(days=100)) == ()  # no order yet
    assert r.record_first_order(PROGRAM, "o1", ordered_at=T0 + timedelta(days=1))
    assert not r.record_first_order(PROGRAM, "o2", ordered_at=T0 + timedelta(days=2))
    due = T0 + timedelta(days=15)
    assert r.qualify(POLICY, now=due - timedelta(seconds=1)) == ()
    grants = r.qualify(POLICY, now=due)
    assert [(g.customer_id, g.points, g.role) for g in grants] == [
        ("amy", 200, "referrer"),
        ("bob", 100, "referee"),
    ]
    assert r.status is ReferralStatus.REWARDED
    assert r.qualify(POLICY, now=due) == ()  # once
    assert r.grants(POLICY) == grants  # the same references for an idempotent retry
    assert [e.event_type for e in r.pull_events()] == [
        "loyalty.ReferralRegistered",
        "loyalty.ReferralRewarded",
    ]


def test_a_fully_refunded_first_order_voids_the_referral() -> None:
    r = register()
    r.record_first_order(PROGRAM, "o1", ordered_at=T0)
    assert not r.first_order_refunded("o2", now=T0)
    assert r.first_order_refunded("o1", now=T0 + timedelta(days=3))
    assert r.status is ReferralStatus.VOID
    assert r.qualify(POLICY, now=T0 + timedelta(days=30)) == ()
    # a later order does not revive it
    assert not r.record_first_order(PROGRAM, "o3", ordered_at=T0 + timedelta(days=4))


def test_self_referral_double_referral_and_loops_are_refused() -> None:
    with pytest.raises(RuleViolation, match="themselves"):
        register("amy", "amy")
    with pytest.raises(RuleViolation, match="already referred"):
        register("amy", "bob", {"bob": "cat"})
    with pytest.raises(RuleViolation, match="loop"):
        register("bob", "amy", {"bob": "amy"})  # amy referred bob; bob may not refer amy
    with pytest.raises(RuleViolation, match="loop"):
        register("dan", "amy", {"dan": "cat", "cat": "bob", "bob": "amy"})
    register("dan", "eve", {"dan": "cat", "cat": "bob", "bob": "amy"})  # a chain is fine


@given(edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=20))
def test_accepted_referrals_never_form_a_cycle(edges: list[tuple[int, int]]) -> None:
    referred_by: dict[str, str] = {}
    for referrer, referee in edges:
        try:
            r = register(f"c{referrer}", f"c{referee}", referred_by)
        except RuleViolation:
            continue
        referred_by[r.referee_id] = r.referrer_id
    for start in referred_by:
        seen = {start}
        current = start
        while current in referred_by:
            current = referred_by[current]
            assert current not in seen
            seen.add(current)


def test_referral_round_trips() -> None:
    r = register()
    r.record_first_order(PROGRAM, "o1", ordered_at=T0)
    r.pull_events()
    assert structure(unstructure(r), Referral) == r
    assert r.id == Referral.id_for("club", "bob")


def test_records_project_what_hosts_query() -> None:
    from crmkit.loyalty import MEMBERSHIPS, REFERRALS, Membership

    m = Membership.enroll(
        id=Membership.id_for("club", "amy"), program=PROGRAM, customer_id="amy", now=T0
    )
    row = MEMBERSHIPS.project(m)
    assert (row["program_id"], row["customer_id"]) == ("club", "amy")
    assert row["referral_code"] == referral_code("club", "amy")
    assert m.id == Membership.id_for("club", "amy") != Membership.id_for("club", "bob")
    r = register()
    assert REFERRALS.project(r)["status"] == "registered"
