"""Dedup: keys, rules as data, blocking against the pairwise reference, the review queue."""

from __future__ import annotations

import itertools
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmkit.customers import _dedup_text as keys
from crmkit.customers.dedup import (
    DEFAULT_RULES,
    BlockingKey,
    DedupRecord,
    DuplicateReview,
    KeyPart,
    MatchRule,
    MatchRules,
    ReviewStatus,
    Survivorship,
    find_duplicates,
    find_duplicates_pairwise,
    score_pair,
)
from crmkit.errors import DefinitionError, MissingDependencyError, RuleViolation, ValidationError
from crmkit.serialization import structure, unstructure

NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Amy.Chen@GMail.com", "amychen+crm@gmail.com"),
        ("AMY.CHEN@ACME.EXAMPLE", "amy.chen@acme.example"),
        ("\uff41my@acme.example", "amy@acme.example"),
    ],
)
def test_emails_written_differently_share_a_key(a, b):
    assert keys.email_key(a) == keys.email_key(b)


def test_dots_count_outside_gmail():
    assert keys.email_key("amy.chen@acme.example") != keys.email_key("amychen@acme.example")


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0912-345-678", "TW"),
        ("+886 912 345 678", None),
        ("00886912345678", None),
        ("\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "TW"),
    ],
)
def test_local_and_e164_phones_share_a_key(raw, region):
    assert keys.phone_key(raw, region) == "+886912345678"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("台灣積體電路製造股份有限公司", "台湾积体电路制造 Co., Ltd."),
        ("Formosa Tea Co., Ltd.", "FORMOSA TEA LIMITED"),
        ("Formosa Tea Inc.", "Formosa Tea 有限公司"),
        ("臺灣茶業有限公司", "台湾茶业公司"),
    ],
)
def test_company_names_fold_width_script_and_legal_form(a, b):
    assert keys.company_key(a) == keys.company_key(b)


def test_planted_variants_are_found_and_explained():
    a = DedupRecord(
        id="r1", name="陳小明", company="台灣茶業股份有限公司", phones=["0912-345-678"], region="TW"
    )
    b = DedupRecord(id="r2", name="陈小明", company="台湾茶业 Co., Ltd.", emails=["x@y.example"])
    c = DedupRecord(id="r3", name="Bob Lin", phones=["+886912345678"])
    result = find_duplicates([a, b, c])
    assert [(p.left, p.right) for p in result.pairs] == [("r1", "r2"), ("r1", "r3")]
    by_pair = {(p.left, p.right): p for p in result.pairs}
    assert [r.field.value for r in by_pair["r1", "r2"].reasons] == ["name", "company"]
    assert "phone exact: '+886912345678' = '+886912345678'" in by_pair["r1", "r3"].explain()


def test_rules_round_trip_and_bad_rules_are_definition_errors():
    rules = MatchRules(
        rules=[
            MatchRule(field="email", weight="0.7"),
            MatchRule(field="name", method="fuzzy", weight="0.3"),
        ],
        accept="0.7",
        blocking=[BlockingKey(name="n", parts=[KeyPart(field="name", take="initials")])],
        max_block_size=50,
    )
    assert structure(unstructure(rules), MatchRules) == rules
    survivorship = Survivorship(fields={"owner": "source_priority"}, source_priority=["erp"])
    assert structure(unstructure(survivorship), Survivorship) == survivorship
    with pytest.raises(DefinitionError, match="once each"):
        MatchRules(rules=[MatchRule(field="email", weight="0.6")] * 2)
    with pytest.raises(DefinitionError, match="union"):
        Survivorship(fields={"name": "union"})
    with pytest.raises(ValidationError, match="between 0 and 1"):
        MatchRule(field="email", weight="1.5")


def test_fuzzy_rules_without_rapidfuzz_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)
    with pytest.raises(MissingDependencyError) as caught:
        find_duplicates([DedupRecord(id="a")])
    assert caught.value.details["extra"] == "dedup"
    exact = MatchRules(rules=[MatchRule(field="email", weight="1")], accept="1")
    assert find_duplicates([DedupRecord(id="a")], exact).pairs == ()


def test_an_oversized_block_is_left_out_and_reported():
    rows = [DedupRecord(id=f"r{i}", emails=["info@acme.example"]) for i in range(5)]
    small = MatchRules(rules=[MatchRule(field="email", weight="1")], accept="1", max_block_size=4)
    result = find_duplicates(rows, small)
    assert result.pairs == ()
    assert [(c.key, c.value, c.size) for c in result.capped] == [("email", "info@acme.example", 5)]


def test_bad_records_are_refused():
    with pytest.raises(ValidationError, match="twice"):
        find_duplicates([DedupRecord(id="a"), DedupRecord(id="a")])
    with pytest.raises(ValidationError, match=r"records\[0\]"):
        find_duplicates(["a"])  # type: ignore[list-item]


# ----- properties ---------------------------------------------------------------------------

EXACT_RULES = MatchRules(
    rules=[
        MatchRule(field="email", weight="0.6"),
        MatchRule(field="phone", weight="0.6"),
        MatchRule(field="company", weight="0.3"),
        MatchRule(field="name", weight="0.3"),
    ],
    accept="0.6",
    max_block_size=100_000,
)

_emails = st.sampled_from(
    ["amy@x.example", "AMY@x.example", "a.b@gmail.com", "ab@gmail.com", "bo@y.example"]
)
_phones = st.sampled_from(["0912-345-678", "+886912345678", "+886223456789", "02 2345 6789"])
_names = st.sampled_from(["Amy Chen", "Chen Amy", "AMY CHAN", "陳小明", "陈小明", "Bob Lin"])
_companies = st.sampled_from(
    ["Formosa Tea Co., Ltd.", "Formosa Tea", "台灣茶業有限公司", "台湾茶业", "Acme"]
)


@st.composite
def _records(draw):
    count = draw(st.integers(0, 12))
    return [
        DedupRecord(
            id=f"r{i}",
            name=draw(st.none() | _names),
            company=draw(st.none() | _companies),
            emails=draw(st.lists(_emails, max_size=2)),
            phones=draw(st.lists(_phones, max_size=2)),
            address=draw(st.none() | st.sampled_from(["12 King St", "12 king st.", "9 Queen Rd"])),
            region="TW",
        )
        for i in range(count)
    ]


def _found(result):
    return {(p.left, p.right): (p.score, p.reasons) for p in result.pairs}


@given(_records())
def test_blocking_never_misses_a_pair_the_pairwise_scorer_accepts_under_exact_rules(records):
    assert _found(find_duplicates(records, EXACT_RULES)) == _found(
        find_duplicates_pairwise(records, EXACT_RULES)
    )


@given(_records())
def test_blocking_finds_only_pairs_the_pairwise_scorer_finds_with_the_same_reasons(records):
    blocked = _found(find_duplicates(records))
    everything = _found(find_duplicates_pairwise(records))
    assert blocked.items() <= everything.items()


@given(_records())
@settings(max_examples=50)
def test_a_score_is_the_sum_of_its_reasons_and_does_not_depend_on_the_order(records):
    for a, b in itertools.pairwise(records):
        one, two = score_pair(a, b), score_pair(b, a)
        assert (one.left, one.right, one.score) == (two.left, two.right, two.score)
        total = sum((r.contribution for r in one.reasons), Decimal(0))
        assert one.score == min(total, Decimal("1.00"))
        assert (one.score >= DEFAULT_RULES.accept) == bool(find_duplicates_pairwise([a, b]).pairs)


# ----- the review queue as a state machine ----------------------------------------------------


class ReviewMachine(RuleBasedStateMachine):
    """A review is decided once; found again, a decided review never changes."""

    def __init__(self) -> None:
        super().__init__()
        pair = find_duplicates(
            [
                DedupRecord(id="cus_1", emails=["a@x.example"]),
                DedupRecord(id="cus_2", emails=["a@x.example"]),
            ]
        ).pairs[0]
        self.pair = pair
        self.review = DuplicateReview.open(pair, now=NOW)
        self.decided: ReviewStatus | None = None
        self.now = NOW

    @rule()
    def dismiss(self) -> None:
        self.now += timedelta(minutes=1)
        if self.decided is None:
            self.review.dismiss(now=self.now, actor="u_amy")
            self.decided = ReviewStatus.DISMISSED
        else:
            with pytest.raises(RuleViolation, match="only a pending review"):
                self.review.dismiss(now=self.now)

    @rule()
    def merge(self) -> None:
        self.now += timedelta(minutes=1)
        if self.decided is None:
            self.review.mark_merged("mrg_1", now=self.now)
            self.decided = ReviewStatus.MERGED
        else:
            with pytest.raises(RuleViolation):
                self.review.mark_merged("mrg_2", now=self.now)

    @precondition(lambda self: self.decided is not None)
    @rule(score=st.sampled_from(["0.60", "0.85", "1.00"]))
    def found_again(self, score: str) -> None:
        import attrs

        assert not self.review.refresh(attrs.evolve(self.pair, score=Decimal(score)))

    @invariant()
    def status_matches(self) -> None:
        assert self.review.status is (self.decided or ReviewStatus.PENDING)
        assert (self.review.decided_at is None) == (self.decided is None)
        assert self.review.id == DuplicateReview.id_for("cus_2", "cus_1")


TestReviewMachine = ReviewMachine.TestCase
