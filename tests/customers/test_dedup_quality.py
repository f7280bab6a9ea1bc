"""Dedup quality on generated data: precision and recall of the planted duplicates."""

from __future__ import annotations

from crmkit.customers.dedup import find_duplicates
from crmkit.testing.datasets import generate_contacts


def test_dedup_finds_the_planted_duplicates_in_100k_contacts():
    data = generate_contacts(100_000, seed=2026)
    result = find_duplicates(data.records)
    quality = data.evaluate(result)
    assert quality.true_positives + quality.false_negatives >= 9_000  # ~10% planted
    assert quality.precision >= 0.95, quality
    assert quality.recall >= 0.95, quality
    assert result.capped == ()  # no block was too large to compare
    assert result.candidates < 20 * len(data.records)  # about N pairs scored, not N²


def test_the_generator_is_deterministic_and_plants_every_kind_of_variant():
    one, two = generate_contacts(3_000, seed=5), generate_contacts(3_000, seed=5)
    assert one == two
    copies = [r for r in one.records if any(r.id in g[1:] for g in one.duplicates)]
    text = " ".join(f"{r.name} {r.company} {r.emails} {r.phones} {r.address}" for r in copies)
    for variant in ("台湾", "有限公司", "Co., Ltd.", "GMail.com", "\uff10", "-"):
        assert variant in text, variant
    assert any(r.region == "TW" for r in copies)  # phones written locally
    assert any(not r.emails for r in copies) and any(not r.phones for r in copies)
    assert len({e for r in one.records for e in r.emails}) > 0.8 * len(one.records)
