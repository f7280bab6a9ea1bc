"""Delivery: the life of one notification, as a stateful test, and its stored context."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.notifications import (
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    decode_context,
    encode_context,
)
from crmkit.serialization import structure, unstructure

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(first_delay=timedelta(seconds=10), max_attempts=3, jitter_percent=50)


def planned() -> Delivery:
    return Delivery.plan(
        idempotency_key="evt_1:sub:amy@example.com",
        subscription="sub",
        event_type="customers.CustomerRegistered",
        recipient="amy@example.com",
        channel="email",
        template="customer_registered",
        locale="en",
        now=T0,
    )


class DeliveryLife(RuleBasedStateMachine):
    """Any sequence of claims, outcomes, deferrals, suppressions and replays keeps the rules."""

    def __init__(self) -> None:
        super().__init__()
        self.delivery = planned()
        self.now = T0
        self.rng = random.Random(0)
        self.succeeded_once = False
        self.tries_seen = 0

    @rule(minutes=st.integers(0, 600))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def claim(self) -> None:
        if self.delivery.due(self.now):
            self.delivery.claim(self.now, timedelta(minutes=5))
            assert self.delivery.status is DeliveryStatus.SENDING
        else:
            with pytest.raises(RuleViolation):
                self.delivery.claim(self.now)

    @rule(ok=st.booleans(), retryable=st.booleans())
    def outcome(self, ok: bool, retryable: bool) -> None:
        d = self.delivery
        if d.status is not DeliveryStatus.SENDING:
            with pytest.raises(RuleViolation):
                d.succeed(self.now)
            return
        before = len(d.attempts)
        if ok:
            d.succeed(self.now)
            self.succeeded_once = True
        else:
            d.fail(self.now, "boom", retryable=retryable, policy=POLICY, rng=self.rng)
            if d.status is DeliveryStatus.PENDING:
                assert d.next_attempt_at > self.now  # never retried at once
        assert len(d.attempts) == before + 1

    @rule(hours=st.integers(1, 12))
    def defer(self, hours: int) -> None:
        d = self.delivery
        tries = d.tries
        if d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            d.defer(self.now + timedelta(hours=hours), "quiet hours")
            assert d.tries == tries  # waiting uses no try
        else:
            with pytest.raises(RuleViolation):
                d.defer(self.now, "quiet hours")

    @precondition(lambda self: self.delivery.status is DeliveryStatus.FAILED)
    @rule()
    def replay(self) -> None:
        self.delivery.replay(self.now)
        assert self.delivery.status is DeliveryStatus.PENDING and self.delivery.tries == 0

    @rule()
    def suppress(self) -> None:
        d = self.delivery
        if d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            d.suppress(self.now, "opted out")
        else:
            with pytest.raises(RuleViolation):
                d.suppress(self.now, "opted out")

    @invariant()
    def rules_hold(self) -> None:
        d = self.delivery
        if self.succeeded_once:  # a succeeded delivery never leaves that state
            assert d.status is DeliveryStatus.SUCCEEDED
            assert sum(a.succeeded for a in d.attempts) == 1
        if d.status is not DeliveryStatus.FAILED:
            assert d.tries <= POLICY.max_attempts
        assert (d.lease_until is not None) == (d.status is DeliveryStatus.SENDING)
        if d.status is DeliveryStatus.SUCCEEDED:
            assert d.attempts[-1].succeeded and d.delivered_at is not None
        assert len(d.attempts) >= self.tries_seen  # the record of tries only grows
        self.tries_seen = len(d.attempts)
        assert structure(unstructure(d), Delivery) == d


TestDeliveryLife = DeliveryLife.TestCase
TestDeliveryLife.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.text(max_size=20),
    st.builds(
        Money,
        st.decimals(-(10**6), 10**6, places=2, allow_nan=False),
        st.sampled_from(["TWD", "CNY", "USD", "JPY"]),
    ),
    st.datetimes(timezones=st.just(timezone.utc), min_value=datetime(2000, 1, 1)),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
contexts = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(lambda k: not k.startswith("$")),
    st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.text(min_size=1, max_size=5).filter(lambda k: not k.startswith("$")),
                inner,
                max_size=3,
            )
        ),
        max_leaves=8,
    ),
    max_size=6,
)


def _normal(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_normal(v) for v in value]
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


@settings(max_examples=150)
@given(contexts)
def test_a_context_round_trips_through_storage_with_its_types(context: dict[str, Any]) -> None:
    import json

    stored = json.loads(json.dumps(encode_context(context)))
    assert decode_context(stored) == _normal(context)


@pytest.mark.parametrize(
    ("context", "path"),
    [({"x": 1.5}, "x"), ({"$money": 1}, "$money"), ({"a": {"b": object()}}, "a.b"),
     ({"naive": datetime(2026, 1, 1)}, "naive")],
)  # fmt: skip
def test_a_context_that_cannot_be_stored_is_refused_naming_the_field(
    context: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        encode_context(context)
    assert path in str(info.value)


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(hours=1),
                         jitter_percent=0, max_attempts=100)  # fmt: skip
    delays = [policy.delay(n, random.Random(0)) for n in range(1, 100)]
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=1)


def test_a_date_and_a_decimal_keep_their_types() -> None:
    stored = encode_context({"on": date(2026, 1, 1), "rate": Decimal("0.05")})
    assert decode_context(stored) == {"on": date(2026, 1, 1), "rate": Decimal("0.05")}
