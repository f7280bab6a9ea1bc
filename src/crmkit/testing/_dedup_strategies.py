"""Hypothesis strategies for dedup's rule sets, records and review queue (registered by type)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from hypothesis import strategies as st

from crmkit.customers.dedup import (
    DedupRecord,
    DuplicateReview,
    MatchField,
    MatchRule,
    MatchRules,
    Survivorship,
    find_duplicates,
)
from crmkit.customers.dedup import FieldStrategy as _Strategy

__all__: list[str] = []

_WEIGHTS = st.integers(1, 100).map(lambda n: Decimal(n) / 100)


@st.composite
def _match_rules(draw: st.DrawFn) -> MatchRules:
    fields = draw(st.lists(st.sampled_from(list(MatchField)), min_size=1, unique=True))
    rules = [
        MatchRule(
            field=field,
            method=draw(st.sampled_from(["exact", "fuzzy"])),
            weight=draw(_WEIGHTS),
            threshold=draw(st.integers(50, 100).map(lambda n: Decimal(n) / 100)),
        )
        for field in fields
    ]
    total = sum((r.weight for r in rules), Decimal(0))
    accept = draw(st.integers(1, int(min(total, Decimal(1)) * 100)).map(lambda n: Decimal(n) / 100))
    return MatchRules(rules=rules, accept=accept, max_block_size=draw(st.integers(2, 1000)))


@st.composite
def _survivorships(draw: st.DrawFn) -> Survivorship:
    single = [s for s in _Strategy if s is not _Strategy.UNION]
    fields = draw(
        st.dictionaries(
            st.sampled_from(["name", "kind", "source", "owner", "lifecycle", "address"]),
            st.sampled_from(single),
        )
    )
    fields["tags"] = draw(st.sampled_from(list(_Strategy)))
    return Survivorship(
        default=draw(st.sampled_from(single)),
        fields=fields,
        source_priority=draw(st.lists(st.sampled_from(["erp", "web form", "import"]), unique=True)),
    )


_NAMES = st.sampled_from(["Amy Chen", "CHEN Amy", "陳小明", "陈小明", "Bob Lin"])
_COMPANIES = st.sampled_from(["Formosa Tea Co., Ltd.", "台灣茶業有限公司", "Acme Inc."])


@st.composite
def _dedup_records(draw: st.DrawFn) -> DedupRecord:
    return DedupRecord(
        id=f"cus_{draw(st.integers(1, 10**6))}",
        name=draw(st.none() | _NAMES),
        company=draw(st.none() | _COMPANIES),
        emails=draw(st.lists(st.sampled_from(["amy@x.example", "A.my@gmail.com"]), max_size=2)),
        phones=draw(st.lists(st.sampled_from(["0912-345-678", "+886912345678"]), max_size=2)),
        address=draw(st.none() | st.sampled_from(["12 King St", "台北市松仁路100號"])),
        region=draw(st.none() | st.just("TW")),
    )


@st.composite
def _duplicate_reviews(draw: st.DrawFn) -> DuplicateReview:
    phone = ["+886912345678"]
    a = draw(_dedup_records())
    b = DedupRecord(id=a.id + "0", name=a.name, phones=phone)
    pair = find_duplicates([DedupRecord(id=a.id, phones=phone), b]).pairs[0]
    return DuplicateReview.open(pair, now=datetime(2026, 1, 5, tzinfo=timezone.utc))


def _register() -> None:
    st.register_type_strategy(MatchRules, _match_rules())
    st.register_type_strategy(Survivorship, _survivorships())
    st.register_type_strategy(DedupRecord, _dedup_records())
    st.register_type_strategy(DuplicateReview, _duplicate_reviews())
