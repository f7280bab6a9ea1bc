"""The customers commands: immutable values, checked and normalised when built."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import attrs
import pytest

from crmkit import NaiveDatetimeError, ValidationError
from crmkit.customers import Channel, CustomerKind, InteractionKind
from crmkit.customers.commands import (
    AddContact,
    AssignCustomerOwner,
    LogInteraction,
    RegisterCustomer,
    RenameCustomer,
    TagCustomer,
)

ALL = [
    RegisterCustomer("Acme", "company"),
    AddContact("cus_1", "Amy"),
    LogInteraction("cus_1", "call", "Hello"),
    RenameCustomer("cus_1", "Acme Corp"),
    TagCustomer("cus_1", add=["vip"]),
    AssignCustomerOwner("cus_1", "u_amy"),
]


@pytest.mark.parametrize("command", ALL, ids=lambda c: type(c).__name__)
def test_commands_are_immutable_equal_by_value_and_carry_an_actor(command: object) -> None:
    assert attrs.has(type(command))
    assert command.actor is None  # type: ignore[attr-defined]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        command.actor = "u_eve"  # type: ignore[attr-defined, misc]
    assert attrs.evolve(command) == command  # type: ignore[misc]
    assert hash(attrs.evolve(command, actor="u_amy")) != hash(command)  # type: ignore[misc]


def test_register_customer_normalises() -> None:
    cmd = RegisterCustomer(" Acme ", CustomerKind.PERSON, tags=["VIP", "vip", "茶"], source=" ")
    assert (cmd.name, cmd.kind, cmd.tags, cmd.source) == (
        "Acme",
        CustomerKind.PERSON,
        ("vip", "茶"),
        None,
    )


def test_add_contact_checks_phones_against_the_region() -> None:
    cmd = AddContact("cus_1", "Amy", phones=["0912 345 678"], region=" tw ")
    assert cmd.region == "TW"
    with pytest.raises(ValidationError) as caught:
        AddContact("cus_1", "Amy", phones=["+886912345678", "0912"], region="TW")
    assert caught.value.errors[0].path == "phones[1]"


def test_add_contact_normalises_emails_channel_and_locale() -> None:
    cmd = AddContact(
        "cus_1",
        "Amy",
        emails=["Amy@Example.COM"],
        preferred_channel="line",
        locale="zh-Hant-TW",
        birthday=date(1990, 4, 1),
    )
    assert cmd.emails == ("Amy@example.com",)
    assert cmd.preferred_channel is Channel.LINE
    assert cmd.locale == "zh_Hant_TW"


def test_log_interaction_needs_an_aware_time() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Taipei"))
    cmd = LogInteraction("cus_1", "meeting", " Tasting ", occurred_at=at, channel="in_person")
    assert (cmd.kind, cmd.summary, cmd.channel) == (
        InteractionKind.MEETING,
        "Tasting",
        Channel.IN_PERSON,
    )
    with pytest.raises(NaiveDatetimeError, match="occurred_at"):
        LogInteraction("cus_1", "call", "x", occurred_at=datetime(2026, 3, 2, 9))


def test_tag_customer_names_which_list_is_wrong() -> None:
    with pytest.raises(ValidationError) as caught:
        TagCustomer("cus_1", add=["ok"], remove=["fine", ""])
    assert caught.value.errors[0].path == "remove[1]"
