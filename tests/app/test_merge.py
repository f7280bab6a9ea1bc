"""Merging customers: every related record moves, ids stay resolvable, all or nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmkit import bootstrap
from crmkit.adapters.memory import MemoryRepository, MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.loyalty import _example_program, _example_settings
from crmkit.app.merge import CUSTOMER_LINKS
from crmkit.customers.dedup import MergeRecord, Survivorship
from crmkit.errors import NotFoundError, RuleViolation, StorageError, ValidationError
from crmkit.kernel import ManualClock, SequentialIds
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.pipeline import Opportunity
from crmkit.pipeline.definition import _example as _example_pipeline
from crmkit.service.maintenance import Equipment, ServicePlan

T0 = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Taipei"))


def _crm(store=None):
    clock = ManualClock(T0)
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds(), loyalty=_example_settings())
    crm.save_loyalty_program(_example_program())
    return crm


def _everything(crm, old: str) -> dict[str, list[str]]:
    """One of every record type that points at a customer, all pointing at ``old``."""
    made: dict[str, list[str]] = {}
    contact = crm.add_contact(old, "Amy Chen", emails=["amy@tea.example"])
    made["contacts"] = [contact.id]
    made["interactions"] = [crm.log_interaction(old, "call", "Asked for a quote").id]
    lead = crm.capture_lead("web_form", name="Amy Chen", email="amy.other@tea.example").lead
    crm.start_working_lead(lead.id, actor="u_amy")
    crm.qualify_lead(lead.id, actor="u_amy")
    crm.convert_lead(lead.id, customer_id=old, contact_id=contact.id)
    made["leads"] = [lead.id]
    with crm.store.unit_of_work() as uow:
        pipeline = _example_pipeline()
        uow.pipelines.add(pipeline)
        deal = Opportunity.open(
            id="opp_1", customer_id=old, name="Tea for 2027", pipeline=pipeline, now=T0
        )
        uow.opportunities.add(deal)
        uow.commit()
    made["opportunities"] = [deal.id]
    made["quotes"] = [crm.create_quote(old, "TWD").id]
    made["memberships"] = [crm.enroll_member(old).id]
    from crmkit.loyalty.referrals import referral_code

    newcomer = crm.register_customer("Newcomer", "person")
    crm.enroll_member(newcomer.id)
    made["referrals"] = [crm.register_referral(newcomer.id, referral_code("tea_club", old)).id]
    complaint = crm.file_complaint(old, "Leaking tin", category="product", channel="email")
    made["complaints"] = [complaint.id]
    contract = crm.sign_maintenance_contract(
        old,
        [Equipment(serial="AC-1", model="Daikin", site="Taipei", installed_on=date(2026, 1, 1))],
        ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        starts_on=date(2026, 3, 1),
        ends_on=date(2027, 2, 28),
    )
    made["maintenance_contracts"] = [contract.id]
    made["orders"] = [
        crm.record_order(old, "shop", "ord-1", T0 - timedelta(days=3), Money("1200", "TWD")).id
    ]
    return made


def _pointing_at(crm, record_type: str, record_id: str) -> set[str]:
    """The customer ids a stored record points at, through every link of its type."""
    from crmkit.app.merge import _get_path

    with crm.store.unit_of_work() as uow:
        repository = getattr(uow, record_type)
        try:
            record = repository.get(record_id)
        except NotFoundError:
            return set()
    return {
        value
        for link in CUSTOMER_LINKS
        if link.record_type == record_type
        for path in link.paths
        if (value := _get_path(record, path)) is not None
    }


@pytest.fixture(params=["memory", "sqlite"])
def crm(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "crm.db")
    return _crm(store)


def test_a_merge_moves_every_related_record_and_the_merged_id_resolves_to_the_survivor(crm):
    survivor = crm.register_customer("Formosa Tea Co., Ltd.", tags=["tea"])
    merged = crm.register_customer("台灣 Formosa Tea 有限公司", tags=["vip"])
    made = _everything(crm, merged.id)
    assert set(made) | {"referrals"} >= {link.record_type for link in CUSTOMER_LINKS}

    plan = crm.merge_customers(survivor.id, [merged.id], actor="u_amy")

    assert crm.resolve_customer(merged.id).id == survivor.id
    assert crm.get_customer(merged.id).merged_into == survivor.id
    assert crm.get_customer(survivor.id).tags == ("tea", "vip")
    moved = {(m.record_type, m.new_id or m.record_id) for m in plan.moves}
    for record_type, ids in made.items():
        for record_id in ids:
            new_id = next(
                (
                    m.new_id
                    for m in plan.moves
                    if m.record_type == record_type and m.record_id == record_id and m.new_id
                ),
                record_id,
            )
            assert (record_type, new_id) in moved
            pointing = _pointing_at(crm, record_type, new_id)
            assert merged.id not in pointing, (record_type, record_id)
            assert survivor.id in pointing or record_type == "referrals"
    # the referral's referrer moved: the survivor refers the newcomer now
    (referral,) = made["referrals"]
    assert _pointing_at(crm, "referrals", referral) >= {survivor.id}
    with crm.store.unit_of_work() as uow:
        (record,) = uow.customer_merges.query(Query.where(survivor_id=survivor.id)).items
    assert isinstance(record, MergeRecord)
    assert record.merged_ids == (merged.id,) and record.by == "u_amy"
    assert len(record.moves) == len(plan.moves) >= len(made)
    assert "merged into" in record.explain()
    events = [e.event for e in crm.store.outbox.pending(limit=1000)]
    (done,) = [e for e in events if e.event_type == "customers.CustomersMerged"]
    assert done.survivor_id == survivor.id and done.moved == len(plan.moves)


def test_the_preview_shows_the_merge_and_changes_nothing(crm):
    survivor = crm.register_customer("Formosa Tea", tags=["tea"])
    merged = crm.register_customer("Formosa Tea Co.", tags=["vip"])
    crm.add_contact(merged.id, "Amy Chen")
    before = crm.store.outbox.pending(limit=1000)

    plan = crm.preview_merge(survivor.id, [merged.id])

    assert plan.survivor.tags == ("tea", "vip")
    assert [str(m).split(":")[0] for m in plan.moves] == [f"contacts {plan.moves[0].record_id}"]
    assert crm.get_customer(merged.id).merged_into is None
    assert [c.customer_id for c in crm.contacts_of(merged.id)] == [merged.id]
    assert crm.store.outbox.pending(limit=1000) == before


def test_a_failure_half_way_leaves_everything_as_it_was(monkeypatch):
    crm = _crm()
    survivor = crm.register_customer("Formosa Tea")
    merged = crm.register_customer("Formosa Tea Co.")
    made = _everything(crm, merged.id)
    real_save = MemoryRepository.save

    def failing_save(self, aggregate):
        if self.record_type.name == "complaints":
            raise StorageError("disk full")
        return real_save(self, aggregate)

    monkeypatch.setattr(MemoryRepository, "save", failing_save)
    with pytest.raises(StorageError):
        crm.merge_customers(survivor.id, [merged.id])
    monkeypatch.undo()

    assert crm.get_customer(merged.id).merged_into is None
    for record_type, ids in made.items():
        if record_type in ("memberships", "referrals"):
            continue
        for record_id in ids:
            assert _pointing_at(crm, record_type, record_id) == {merged.id}, record_type
    assert crm.get_membership(merged.id).customer_id == merged.id
    with crm.store.unit_of_work() as uow:
        assert not uow.customer_merges.query(Query()).items
    events = [e.event.event_type for e in crm.store.outbox.pending(limit=1000)]
    assert "customers.CustomersMerged" not in events


def test_two_memberships_with_points_are_refused_with_what_to_do():
    crm = _crm()
    survivor = crm.register_customer("Amy Chen", "person")
    merged = crm.register_customer("AMY CHEN", "person")
    crm.enroll_member(survivor.id)
    crm.enroll_member(merged.id)
    crm.adjust_points(merged.id, 30, reference="gift", reason="welcome", actor="u_amy")

    with pytest.raises(RuleViolation, match="move the points first") as caught:
        crm.merge_customers(survivor.id, [merged.id])
    assert "30 available" in str(caught.value)
    assert crm.get_customer(merged.id).merged_into is None

    # Moving the points by hand (a reversal entry and a credit) lets the merge go through.
    crm.adjust_points(merged.id, -30, reference="move-out", reason="merge", actor="u_amy")
    crm.adjust_points(survivor.id, 30, reference="move-in", reason="merge", actor="u_amy")
    plan = crm.merge_customers(survivor.id, [merged.id])
    assert any("stays with the merged customer" in note for note in plan.kept)
    assert crm.points_balance(survivor.id).balance.available == 30
    assert crm.get_membership(merged.id).customer_id == merged.id  # kept as history


def test_a_membership_of_the_merged_customer_alone_moves_under_the_survivors_id():
    crm = _crm()
    survivor = crm.register_customer("Amy Chen", "person")
    merged = crm.register_customer("Amy Chen", "person")
    crm.enroll_member(merged.id)
    crm.adjust_points(merged.id, 50, reference="gift", reason="welcome", actor="u_amy")

    crm.merge_customers(survivor.id, [merged.id])

    assert crm.points_balance(survivor.id).balance.available == 50
    with pytest.raises(NotFoundError):
        crm.get_membership(merged.id)


def test_a_merge_that_would_make_a_customer_its_own_referrer_is_refused():
    from crmkit.loyalty.referrals import referral_code

    crm = _crm()
    survivor = crm.register_customer("Amy Chen", "person")
    merged = crm.register_customer("Amy Chen", "person")
    crm.enroll_member(survivor.id)
    crm.enroll_member(merged.id)
    crm.register_referral(merged.id, referral_code("tea_club", survivor.id))

    with pytest.raises(RuleViolation, match="its own referrer"):
        crm.merge_customers(survivor.id, [merged.id])


def test_the_review_queue_pending_dismissed_merged():
    crm = _crm()
    a = crm.register_customer("Formosa Tea Co., Ltd.")
    b = crm.register_customer("Formosa Tea Ltd")
    c = crm.register_customer("Formosa Tea Limited")
    for customer in (a, b, c):
        crm.add_contact(customer.id, "Amy Chen", phones=["0912-345-678"], region="TW")

    scan = crm.find_duplicates()
    assert len(scan.queued) == 3 and scan.result.capped == ()
    reviews = crm.duplicate_reviews().items
    assert all(r.status.value == "pending" and r.reasons for r in reviews)

    ab = next(r for r in reviews if set(r.customer_ids) == {a.id, b.id})
    crm.dismiss_duplicate(ab.id, note="two branches")
    again = crm.find_duplicates()
    assert again.queued == () and ab.id in again.skipped
    with pytest.raises(RuleViolation, match="already dismissed"):
        crm.dismiss_duplicate(ab.id)

    crm.merge_customers(a.id, [c.id])
    statuses = {r.id: r.status.value for r in crm.duplicate_reviews(None).items}
    assert sorted(statuses.values()) == ["dismissed", "merged", "pending"]
    # A tombstone is no longer scanned: only the pair a-b (dismissed) is found again.
    assert crm.find_duplicates().result.records == 2


def test_bad_merges_are_refused_and_change_nothing():
    crm = _crm()
    a = crm.register_customer("Amy", "person")
    b = crm.register_customer("Amy", "person")
    with pytest.raises(ValidationError, match="survivor"):
        crm.merge_customers(a.id, [b.id, a.id])
    with pytest.raises(NotFoundError):
        crm.merge_customers(a.id, ["cus_404"])
    with pytest.raises(ValidationError, match="merged_ids"):
        crm.merge_customers(a.id, [])
    crm.merge_customers(a.id, [b.id])
    with pytest.raises(RuleViolation, match="already merged into"):
        crm.merge_customers(b.id, [a.id])
    with pytest.raises(RuleViolation, match="already merged into"):
        crm.merge_customers(a.id, [b.id])


def test_survivorship_rules_pick_the_fields():
    crm = _crm()
    old = crm.register_customer("Formosa Tea", source="erp")
    crm.clock.advance(timedelta(days=30))
    new = crm.register_customer("Formosa Tea Co., Ltd.", source="web form", owner="u_bob")
    rules = Survivorship(
        fields={"name": "most_recent", "owner": "source_priority", "tags": "union"},
        source_priority=["erp", "web form"],
    )
    plan = crm.merge_customers(old.id, [new.id], survivorship=rules)
    survivor = crm.get_customer(old.id)
    assert survivor.name == "Formosa Tea Co., Ltd."  # the most recent
    assert survivor.owner == "u_bob"  # erp has none: the next source in priority does
    choices = {c.field: c for c in plan.fields}
    assert choices["name"].from_ids == (new.id,) and choices["name"].strategy.value == "most_recent"
