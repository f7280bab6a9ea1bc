"""Access rules as data, the merge of roles, masking, and the role-based policy's answers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.access import (
    ANY,
    BUILTIN_ACTIONS,
    AccessRules,
    ActionRule,
    Actor,
    AllowAll,
    FieldMask,
    Grant,
    Level,
    MaskStyle,
    Role,
    RoleBasedPolicy,
    StaticActorDirectory,
    mask_document,
    mask_email,
    mask_phone,
    mask_value,
)
from crmkit.errors import DefinitionError, PermissionDeniedError, ValidationError
from crmkit.ports import AccessPolicy, MaskingPolicy
from crmkit.serialization import from_json, structure, to_json, unstructure

RULES = AccessRules.builtin()
BUILTIN = ("rep", "manager", "service_agent", "auditor", "admin")
RECORD_TYPES = sorted({rule.record_type for rule in BUILTIN_ACTIONS})
OPERATIONS = sorted({rule.operation for rule in BUILTIN_ACTIONS})


# ----- the built-in roles, as the issue describes them ------------------------------------
@pytest.mark.parametrize(
    ("role", "record_type", "operation", "level"),
    [
        ("rep", "customers", "read", "team"),
        ("rep", "customers", "update", "own"),
        ("rep", "customers", "assign", "none"),
        ("rep", "quotes", "approve", "none"),
        ("manager", "customers", "update", "team"),
        ("manager", "quotes", "approve", "team"),
        ("manager", "customers", "read", "team"),
        ("service_agent", "complaints", "update", "all"),
        ("service_agent", "customers", "read", "all"),
        ("service_agent", "customers", "update", "none"),
        ("service_agent", "quotes", "read", "none"),
        ("auditor", "quotes", "read", "all"),
        ("auditor", "customers", "update", "none"),
        ("auditor", "complaints", "create", "none"),
        ("admin", "service_settings", "manage", "all"),
        ("admin", "customers", "merge", "all"),
    ],
)
def test_built_in_levels(role: str, record_type: str, operation: str, level: str) -> None:
    assert RULES.level([role], record_type, operation) is Level(level)


def test_the_auditor_reads_everything_and_writes_nothing() -> None:
    for rule in BUILTIN_ACTIONS:
        level = RULES.level(["auditor"], rule.record_type, rule.operation)
        assert level is (Level.ALL if rule.operation == "read" else Level.NONE), rule


def test_the_admin_may_do_everything_and_sees_everything() -> None:
    for rule in BUILTIN_ACTIONS:
        assert RULES.level(["admin"], rule.record_type, rule.operation) is Level.ALL
    assert all(RULES.masks(["admin"], rt) == {} for rt in RECORD_TYPES)


def test_masks_of_the_built_in_roles() -> None:
    assert RULES.masks(["auditor"], "contacts") == {
        "emails": MaskStyle.EMAIL,
        "phones": MaskStyle.PHONE,
        "birthday": MaskStyle.HIDE,
    }
    assert RULES.masks(["service_agent"], "orders")["total"] is MaskStyle.HIDE
    assert RULES.masks(["rep"], "contacts") == {}


def test_levels_are_ordered() -> None:
    assert Level.NONE < Level.OWN < Level.TEAM < Level.ALL
    assert max(Level.TEAM, Level.OWN) is Level.TEAM
    assert sorted([Level.ALL, Level.NONE, Level.TEAM]) == [Level.NONE, Level.TEAM, Level.ALL]


def test_the_most_specific_grant_of_a_role_wins() -> None:
    role = Role(
        name="clerk",
        grants=[
            Grant(ANY, [ANY], "own"),
            Grant(ANY, ["read"], "team"),
            Grant("quotes", [ANY], "none"),
            Grant("quotes", ["read"], "all"),
        ],
    )
    assert role.level("leads", "update") is Level.OWN
    assert role.level("leads", "read") is Level.TEAM
    assert role.level("quotes", "update") is Level.NONE
    assert role.level("quotes", "read") is Level.ALL


# ----- merging roles -------------------------------------------------------------------------
role_sets = st.lists(st.sampled_from([*BUILTIN, "unknown_role"]), max_size=4)


@given(role_sets, st.sampled_from(RECORD_TYPES), st.sampled_from(OPERATIONS))
def test_several_roles_get_the_most_permissive_level(
    roles: list[str], record_type: str, operation: str
) -> None:
    merged = RULES.level(roles, record_type, operation)
    singles = [RULES.level([role], record_type, operation) for role in roles]
    assert merged is max(singles, default=Level.NONE)


@given(role_sets, st.sampled_from([*RECORD_TYPES, "orders"]))
def test_a_field_stays_masked_only_if_every_reading_role_masks_it(
    roles: list[str], record_type: str
) -> None:
    merged = RULES.masks(roles, record_type)
    readers = [r for r in roles if RULES.level([r], record_type, "read") is not Level.NONE]
    for path in merged:
        for role in readers or [r for r in roles if RULES.role(r) is not None]:
            assert path in RULES.masks([role], record_type)
    if "admin" in roles:
        assert merged == {}


# ----- rules as data ----------------------------------------------------------------------------
def test_the_built_in_rules_round_trip_through_json() -> None:
    text = to_json(RULES)
    assert from_json(text, AccessRules) == RULES
    assert structure(unstructure(RULES), AccessRules) == RULES


grants = st.builds(
    Grant,
    st.sampled_from([*RECORD_TYPES, ANY]),
    st.lists(st.sampled_from([*OPERATIONS, ANY]), min_size=1, max_size=3, unique=True),
    st.sampled_from(list(Level)),
)
masks = st.builds(
    FieldMask,
    st.sampled_from(RECORD_TYPES),
    st.sampled_from(["emails", "phones", "total", "lines.amount"]),
    st.sampled_from(list(MaskStyle)),
)


@st.composite
def roles(draw: Any, name: str) -> Role:
    chosen = draw(st.lists(grants, max_size=5))
    seen: set[tuple[str, str]] = set()
    kept = []
    for grant in chosen:
        keys = {(grant.record_type, op) for op in grant.operations}
        if keys & seen:
            continue
        seen |= keys
        kept.append(grant)
    field_masks = draw(st.lists(masks, max_size=4, unique_by=lambda m: (m.record_type, m.field)))
    return Role(name=name, grants=kept, masks=field_masks)


@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True).flatmap(
        lambda names: st.tuples(*(roles(name) for name in names))
    )
)
def test_any_rules_round_trip_through_json(generated: tuple[Role, ...]) -> None:
    rules = AccessRules(roles=generated)
    assert from_json(to_json(rules), AccessRules) == rules


def test_bad_rules_are_refused_with_what_to_do() -> None:
    with pytest.raises(DefinitionError, match="role 'rep' is defined twice"):
        AccessRules(roles=[Role(name="rep"), Role(name="rep")])
    with pytest.raises(DefinitionError, match=r"grants 'read' on 'quotes' twice"):
        Role(name="x", grants=[Grant("quotes", ["read"], "all"), Grant("quotes", ["read"], "own")])
    with pytest.raises(DefinitionError, match=r"action 'a\.b' is mapped twice"):
        AccessRules(roles=[], actions=[ActionRule("a.b", "x", "read")] * 2)
    with pytest.raises(ValidationError, match="level"):
        Grant("quotes", ["read"], "most")
    with pytest.raises(ValidationError, match="operations"):
        Grant("quotes", [], "all")
    with pytest.raises(ValidationError, match="roles"):
        AccessRules(roles=["rep"])
    with pytest.raises(ValidationError, match="style"):
        FieldMask("contacts", "emails", "blur")


def test_every_action_crmkit_checks_is_mapped() -> None:
    # the actions the use cases check with a literal name (the matrix covers the others)
    import re
    from pathlib import Path

    import crmkit.app

    app = Path(crmkit.app.__file__).parent
    used = set()
    for path in app.glob("*.py"):
        used |= set(
            re.findall(r'policy\.check\([^,]+,\s*"([a-z_0-9]+\.[a-z_0-9]+)"', path.read_text())
        )
        used |= set(
            re.findall(
                r'"((?:customers|leads|quotes|service|maintenance|loyalty|catalog)'
                r'\.[a-z_]+)",\s*uow',
                path.read_text(),
            )
        )
    mapped = {rule.action for rule in BUILTIN_ACTIONS}
    assert used - mapped == set()


# ----- masking ---------------------------------------------------------------------------------
def test_masking_examples() -> None:
    assert mask_email("amy@example.com") == "a***@example.com"
    assert mask_phone("+886912345678") == "+8869****5678"
    assert mask_phone("0912345678") == "0912**5678"
    assert mask_value(None, "email") is None
    assert mask_value(12, "phone") is None
    assert mask_value("secret", "redact") == "***"


@given(st.emails())
def test_a_masked_email_keeps_only_its_first_letter_and_domain(email: str) -> None:
    masked = mask_email(email)
    local, _, domain = email.rpartition("@")
    assert masked == f"{local[0]}***@{domain}"


@given(st.from_regex(r"\+[1-9][0-9]{5,14}", fullmatch=True))
def test_a_masked_phone_keeps_its_length_prefix_and_last_four(phone: str) -> None:
    masked = mask_phone(phone)
    if len(phone) < 11:  # too short to hide at least two digits: nothing is shown
        assert masked == "***"
        return
    assert len(masked) == len(phone)
    assert masked[:5] == phone[:5] and masked[-4:] == phone[-4:]
    assert set(masked[5:-4]) == {"*"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(st.sampled_from(["a", "b", "c", "emails"]), json_values, max_size=4),
    st.dictionaries(
        st.sampled_from(["a", "b.c", "emails", "a.b"]), st.sampled_from(list(MaskStyle)), max_size=3
    ),
)
def test_masking_a_document_never_changes_the_input_nor_its_keys(
    document: dict[str, Any], paths: dict[str, MaskStyle]
) -> None:
    before = to_json(document)
    masked = mask_document(document, paths)
    assert to_json(document) == before
    assert masked.keys() == document.keys()
    for key in document.keys() - {p.split(".")[0] for p in paths}:
        assert masked[key] == document[key]


# ----- the policy --------------------------------------------------------------------------------
def _policy(**kw: Any) -> RoleBasedPolicy:
    directory = StaticActorDirectory(
        [
            Actor(id="u_amy", roles=["rep"], teams=["north"], tenant="acme"),
            Actor(id="u_ann", roles=["rep"], teams=["north"], tenant="acme"),
            Actor(id="u_bob", roles=["rep"], teams=["south"], tenant="acme"),
            Actor(id="u_max", roles=["manager"], teams=["north"], tenant="acme"),
            Actor(id="u_sue", roles=["service_agent"], teams=["desk"], tenant="acme"),
            Actor(id="u_gus", roles=["admin"], tenant="globex"),
        ]
    )
    return RoleBasedPolicy(RULES, directory, tenant="acme", **kw)


def test_the_policy_satisfies_both_ports() -> None:
    assert isinstance(_policy(), AccessPolicy)
    assert isinstance(_policy(), MaskingPolicy)
    assert isinstance(AllowAll(), MaskingPolicy)


def test_own_team_and_other_for_a_rep_and_a_manager() -> None:
    policy = _policy()
    amys = SimpleNamespace(id="cus_1", owner="u_amy")
    bobs = SimpleNamespace(id="cus_2", owner="u_bob")
    policy.check("u_amy", "customers.rename", amys)
    policy.check("u_ann", "customers.read", amys)  # same team: reps read their team's
    with pytest.raises(PermissionDeniedError, match=r"u_ann.*customers.rename.*owned by 'u_amy'"):
        policy.check("u_ann", "customers.rename", amys)
    policy.check("u_max", "customers.rename", amys)  # a manager changes the team's records
    with pytest.raises(PermissionDeniedError, match="shares none of their teams"):
        policy.check("u_max", "customers.rename", bobs)


def test_records_without_an_owner_belong_to_the_owner_of_their_customer() -> None:
    class Owners:
        def customer_owner(self, customer_id: str) -> str | None:
            return {"cus_1": "u_amy"}.get(customer_id)

    policy = _policy(owners=Owners())
    membership = SimpleNamespace(id="mem_1", customer_id="cus_1")
    policy.check("u_amy", "loyalty.earn", membership)
    with pytest.raises(PermissionDeniedError):
        policy.check("u_bob", "loyalty.earn", membership)
    without_lookup = _policy()
    with pytest.raises(PermissionDeniedError, match="owned by nobody"):
        without_lookup.check("u_amy", "loyalty.earn", membership)


def test_a_case_of_ones_team_is_in_reach_of_team_level() -> None:
    policy = _policy()
    case = SimpleNamespace(id="case_1", owner=None, team="north", customer_id="cus_9")
    policy.check("u_max", "service.acknowledge", case)
    with pytest.raises(PermissionDeniedError):
        policy.check("u_max", "service.acknowledge", SimpleNamespace(id="c2", team="south"))


def test_wrappers_stand_for_the_record_inside() -> None:
    policy = _policy()
    request = SimpleNamespace(quote=SimpleNamespace(id="quo_1", owner="u_ann"), role="x")
    policy.check("u_max", "quotes.approve", request)
    with pytest.raises(PermissionDeniedError, match=r"quotes\.approve on SimpleNamespace 'quo_1'"):
        policy.check("u_amy", "quotes.approve", request)


def test_who_what_and_why_in_every_refusal() -> None:
    policy = _policy()
    with pytest.raises(PermissionDeniedError, match="unknown user 'u_zed'") as unknown:
        policy.check("u_zed", "customers.read")
    assert unknown.value.details["action"] == "customers.read"
    with pytest.raises(PermissionDeniedError, match="belongs to tenant 'globex', not to 'acme'"):
        policy.check("u_gus", "customers.read")
    with pytest.raises(PermissionDeniedError, match="do not map that action"):
        policy.check("u_amy", "customers.teleport")
    with pytest.raises(PermissionDeniedError, match="needs level all") as bulk:
        policy.check("u_max", "quotes.expire", None)
    assert bulk.value.details == {
        "actor": "u_max",
        "action": "quotes.expire",
        "record_type": "quotes",
        "operation": "update",
        "level": "team",
        "resource": None,
    }
    with pytest.raises(PermissionDeniedError, match="no user given"):
        _policy(allow_system=False).check(None, "customers.read")
    policy.check(None, "customers.register")  # the system


def test_creating_and_listing_need_only_own() -> None:
    policy = _policy()
    policy.check("u_amy", "customers.register", None)
    policy.check("u_amy", "customers.find", None)
    with pytest.raises(PermissionDeniedError, match="grant no read on leads"):
        policy.check("u_sue", "leads.find", None)


def test_mask_refuses_strangers_and_masks_per_role() -> None:
    policy = _policy()
    doc = {"total": {"amount": "1", "currency": "TWD"}, "lines": [{"amount": "1"}]}
    assert policy.mask("u_sue", "orders", doc) == {"total": None, "lines": [{"amount": None}]}
    assert policy.mask("u_amy", "orders", doc) is doc
    assert policy.mask(None, "orders", doc) is doc
    with pytest.raises(PermissionDeniedError, match="belongs to tenant 'globex'"):
        policy.mask("u_gus", "orders", doc)


def test_bad_policy_parts_are_refused() -> None:
    directory = StaticActorDirectory([])
    with pytest.raises(ValidationError, match="rules"):
        RoleBasedPolicy({}, directory, tenant="acme")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="directory"):
        RoleBasedPolicy(RULES, {}, tenant="acme")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tenant"):
        RoleBasedPolicy(RULES, directory, tenant="a b")
    with pytest.raises(ValidationError, match="owners"):
        RoleBasedPolicy(RULES, directory, tenant="acme", owners=object())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="teams"):
        Actor(id="u_1", teams=["a b"], tenant="acme")


def test_an_approval_in_a_role_the_rules_define_needs_that_role() -> None:
    director = Role(name="director", grants=[Grant("quotes", ["read", "approve"], "team")])
    rules = AccessRules(roles=[*RULES.roles, director])
    directory = StaticActorDirectory(
        [
            Actor(id="u_max", roles=["manager"], teams=["north"], tenant="acme"),
            Actor(id="u_dee", roles=["manager", "director"], teams=["north"], tenant="acme"),
            Actor(id="u_root", roles=["admin"], tenant="acme"),
            Actor(id="u_amy", roles=["rep"], teams=["north"], tenant="acme"),
        ]
    )
    policy = RoleBasedPolicy(rules, directory, tenant="acme")
    quote = SimpleNamespace(id="quo_1", owner="u_amy")

    def approval(role: str) -> SimpleNamespace:
        return SimpleNamespace(quote=quote, role=role, approving=True)

    policy.check("u_max", "quotes.approve", approval("sales_manager"))  # not a rules role
    with pytest.raises(PermissionDeniedError, match="acts as role 'director'"):
        policy.check("u_max", "quotes.approve", approval("director"))
    policy.check("u_dee", "quotes.approve", approval("director"))
    policy.check("u_root", "quotes.approve", approval("director"))  # level all decides for any
    compensation = SimpleNamespace(
        case=SimpleNamespace(id="case_1", owner="u_amy"), approver_role="director"
    )
    with pytest.raises(PermissionDeniedError, match="acts as role 'director'"):
        policy.check("u_max", "service.compensate", compensation)
