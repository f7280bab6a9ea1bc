"""A host project's own test suite uses crmkit's pytest plugin and strategies, with no set-up."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HOST_TESTS = """
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.kernel.money import Money
from crmkit.testing import strategies as crm_st


def test_the_crm_fixture_is_in_memory_on_the_manual_clock(crm, clock, crm_ids):
    tea = crm.register_customer("Formosa Tea Co.")
    assert tea.id == "cus_000001"
    assert tea.created_at == clock.now()
    clock.advance(timedelta(days=1))
    assert crm.clock.now() == tea.created_at + timedelta(days=1)


def test_each_test_gets_a_fresh_crm(crm):
    assert crm.find_customers().items == ()


def test_the_factory_makes_valid_stored_records(crm, crm_factory):
    acme = crm_factory.customer()
    amy = crm_factory.contact(acme.id)
    assert crm.contacts_of(acme.id) == [amy]
    assert crm_factory.lead().lead.email == "lead1@example.com"


def test_crm_sqlite_keeps_its_data_in_a_file(crm_sqlite, tmp_path):
    crm_sqlite.register_customer("Acme")
    assert (tmp_path / "crm.db").exists()
    assert [c.name for c in crm_sqlite.find_customers().items] == ["Acme"]


def test_notifications_are_recorded(notifications, crm):
    assert crm.notifier is notifications
    assert notifications.sent == []


@settings(max_examples=25)
@given(crm_st.money(currency="TWD"), st.from_type(Money))
def test_the_strategies_make_valid_money(amount, any_money):
    assert amount.currency == "TWD"
    assert any_money.amount == any_money.amount.quantize(any_money.amount)
"""

CONFTEST_OVERRIDE = """
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crmkit.kernel.time import ManualClock


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")))
"""


def test_a_host_project_uses_the_plugin_and_the_strategies(pytester: pytest.Pytester) -> None:
    """The plugin is found through its entry point: the host's files import no fixture."""
    pytester.makepyfile(test_host=textwrap.dedent(HOST_TESTS))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_a_host_overrides_the_clock_and_the_crm_follows(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent(CONFTEST_OVERRIDE))
    pytester.makepyfile(
        test_zone="""
        def test_created_in_taipei(crm):
            assert crm.register_customer("Acme").created_at.isoformat() == (
                "2026-03-02T09:00:00+08:00"
            )
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_how_to_examples_run_as_a_host_project(pytester: pytest.Pytester) -> None:
    """docs/how-to/testing.md shows a test file and a conftest; they run as shown."""
    page = (Path(__file__).parents[2] / "docs" / "how-to" / "testing.md").read_text("utf-8")
    blocks = re.findall(r"```python notest\n(.*?)```", page, flags=re.S)
    tests = next(b for b in blocks if "def test_a_lead_gets_a_follow_up_deadline" in b)
    conftest = next(b for b in blocks if "def clock():" in b)
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_from_docs=tests)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
