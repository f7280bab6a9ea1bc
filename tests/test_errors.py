"""The CRMError family: codes, builtin mix-ins, field paths, messages, dict views."""

from __future__ import annotations

import json
import pickle

import pytest

from crmkit import errors
from crmkit.errors import (
    ConcurrencyError,
    ConflictError,
    CRMError,
    CurrencyMismatchError,
    DefinitionError,
    DeliveryError,
    DuplicateError,
    FieldError,
    MissingDependencyError,
    NaiveDatetimeError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    StorageError,
    ValidationError,
)

CODES = {
    CRMError: "crm_error",
    ValidationError: "validation_error",
    CurrencyMismatchError: "currency_mismatch",
    NaiveDatetimeError: "naive_datetime",
    DefinitionError: "definition_error",
    NotFoundError: "not_found",
    ConflictError: "conflict",
    ConcurrencyError: "concurrency_conflict",
    DuplicateError: "duplicate",
    RuleViolation: "rule_violation",
    PermissionDeniedError: "permission_denied",
    StorageError: "storage_error",
    DeliveryError: "delivery_error",
    MissingDependencyError: "missing_dependency",
}


def _all_error_classes() -> list[type[CRMError]]:
    return [
        obj
        for name in errors.__all__
        if isinstance(obj := getattr(errors, name), type) and issubclass(obj, CRMError)
    ]


def test_every_error_class_has_a_pinned_code() -> None:
    assert set(_all_error_classes()) == set(CODES)
    for cls, code in CODES.items():
        assert cls.code == code


def test_codes_are_unique() -> None:
    assert len(set(CODES.values())) == len(CODES)


@pytest.mark.parametrize(
    ("cls", "parents"),
    [
        (ValidationError, (CRMError, ValueError)),
        (CurrencyMismatchError, (ValidationError, ValueError)),
        (NaiveDatetimeError, (ValidationError, ValueError)),
        (DefinitionError, (CRMError, ValueError)),
        (NotFoundError, (CRMError, LookupError)),
        (ConflictError, (CRMError,)),
        (ConcurrencyError, (ConflictError,)),
        (DuplicateError, (ConflictError,)),
        (RuleViolation, (CRMError,)),
        (PermissionDeniedError, (CRMError, PermissionError)),
        (StorageError, (CRMError,)),
    ],
)
def test_the_tree_and_its_builtin_mix_ins(cls: type[CRMError], parents: tuple[type, ...]) -> None:
    for parent in parents:
        assert issubclass(cls, parent)


def test_builtin_except_clauses_catch_crm_errors() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        raise ValidationError("must not be empty", path="name")
    with pytest.raises(LookupError):
        raise NotFoundError("no customer 'c9'")
    with pytest.raises(PermissionError):
        raise PermissionDeniedError("no")


def test_rule_violation_and_definition_error_are_kept_apart() -> None:
    assert not issubclass(RuleViolation, ValueError)
    assert not issubclass(DefinitionError, RuleViolation)
    assert not issubclass(RuleViolation, DefinitionError)


def test_crm_error_message_details_and_to_dict() -> None:
    err = CRMError("something failed", details={"id": "c1"})
    assert str(err) == err.message == "something failed"
    assert err.to_dict() == {
        "code": "crm_error",
        "message": "something failed",
        "details": {"id": "c1"},
    }
    assert NotFoundError("gone").to_dict() == {
        "code": "not_found",
        "message": "gone",
        "details": {},
    }


def test_details_are_copied_not_shared() -> None:
    source = {"id": "c1"}
    err = CRMError("x", details=source)
    source["id"] = "changed"
    assert err.details["id"] == "c1"
    err.to_dict()["details"]["id"] = "changed too"
    assert err.details["id"] == "c1"


def test_validation_error_with_one_path() -> None:
    err = ValidationError("must not be empty", path="name")
    assert str(err) == "name: must not be empty"
    assert err.errors == (FieldError("name", "must not be empty"),)
    assert err.to_dict() == {
        "code": "validation_error",
        "message": "name: must not be empty",
        "details": {"errors": [{"path": "name", "message": "must not be empty"}]},
    }


def test_validation_error_without_a_path_or_a_message() -> None:
    assert str(ValidationError("is not valid JSON")) == "is not valid JSON"
    assert ValidationError().errors == (FieldError("", "is invalid"),)
    assert str(ValidationError(path="age")) == "age: is invalid"


def test_str_with_several_problems_names_each_field() -> None:
    err = ValidationError(
        errors=[
            FieldError("name", "must not be empty"),
            FieldError("emails[0]", "is not an email address"),
            FieldError("", "is not a customer"),
        ]
    )
    assert str(err) == (
        "3 problems: name: must not be empty; emails[0]: is not an email address; is not a customer"
    )
    assert [e["path"] for e in err.details["errors"]] == ["name", "emails[0]", ""]


def test_a_message_and_errors_together_put_the_message_first() -> None:
    err = ValidationError("is required", path="id", errors=[FieldError("name", "is empty")])
    assert [e.path for e in err.errors] == ["id", "name"]


def test_details_of_a_validation_error_keep_the_callers_details() -> None:
    err = ValidationError("bad", path="x", details={"hint": "y"})
    assert err.details["hint"] == "y"
    assert err.details["errors"] == [{"path": "x", "message": "bad"}]


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("contacts[1]", "name", "contacts[1].name"),
        ("contacts", "[1]", "contacts[1]"),
        ("contacts[1]", "", "contacts[1]"),
        ("", "name", "name"),
        ("customer.contacts[0]", "emails[2]", "customer.contacts[0].emails[2]"),
    ],
)
def test_at_places_paths_under_a_prefix(prefix: str, path: str, expected: str) -> None:
    moved = ValidationError("is wrong", path=path).at(prefix)
    assert [e.path for e in moved.errors] == [expected]
    assert moved.details["errors"] == [{"path": expected, "message": "is wrong"}]
    assert str(moved) == (f"{expected}: is wrong" if expected else "is wrong")


def test_at_keeps_the_class_code_and_other_details() -> None:
    err = NaiveDatetimeError("must be aware", path="at", details={"hint": "zone"})
    moved = err.at("events[3]")
    assert type(moved) is NaiveDatetimeError
    assert moved.code == "naive_datetime"
    assert moved.details["hint"] == "zone"
    assert moved.errors[0].path == "events[3].at"
    assert err.errors[0].path == "at"  # the original is unchanged


def test_at_moves_every_problem() -> None:
    err = ValidationError(errors=[FieldError("a", "x"), FieldError("[0]", "y")]).at("root")
    assert [e.path for e in err.errors] == ["root.a", "root[0]"]
    assert str(err).startswith("2 problems: ")


def test_concurrency_error_stale() -> None:
    err = ConcurrencyError.stale("customers", "cus_1", expected=3, actual=4)
    assert str(err) == (
        "customers 'cus_1' was changed by someone else (read version 3, stored version 4); "
        "reload and retry"
    )
    assert err.details == {
        "kind": "customers",
        "id": "cus_1",
        "expected_version": 3,
        "actual_version": 4,
    }
    removed = ConcurrencyError.stale("leads", "l1", expected=1, actual=None)
    assert "it was removed" in str(removed)
    assert removed.details["actual_version"] is None


@pytest.mark.parametrize("cls", list(CODES))
def test_to_dict_is_json_ready(cls: type[CRMError]) -> None:
    err = cls("boom", details={"n": 1})
    assert json.loads(json.dumps(err.to_dict()))["code"] == cls.code


@pytest.mark.parametrize(
    "err",
    [
        ValidationError("must not be empty", path="name"),
        ValidationError(errors=[FieldError("a", "x"), FieldError("b", "y")]),
        NaiveDatetimeError("must be aware", path="at"),
        NotFoundError("no customer 'c9'", details={"id": "c9"}),
        ConcurrencyError.stale("customers", "cus_1", expected=3, actual=4),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling(err: CRMError) -> None:
    # Hosts send errors across processes (task queues, multiprocessing).
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert back.to_dict() == err.to_dict()
    assert getattr(back, "errors", None) == getattr(err, "errors", None)


def test_field_error_is_a_frozen_value() -> None:
    fe = FieldError("name", "is empty")
    assert fe == FieldError("name", "is empty")
    assert hash(fe) == hash(FieldError("name", "is empty"))
    with pytest.raises(AttributeError):
        fe.path = "x"  # type: ignore[misc]
