"""The generated schema passes the API server's structural-schema rules, and the checker of those
rules rejects each kind of schema a real API server rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from personio_operator.api.crd import build_crd
from tests.crd.structural import crd_errors, structural_errors


def test_generated_crd_is_structural() -> None:
    assert crd_errors(build_crd()) == []


def test_committed_crd_is_structural(committed_crd: dict[str, Any]) -> None:
    assert crd_errors(committed_crd) == []


def _valid_root() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "count": {"type": "integer", "default": 1, "minimum": 0},
                    "items": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def test_the_valid_baseline_passes() -> None:
    assert structural_errors(_valid_root()) == []


def _spec(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["spec"]


BAD_SCHEMAS = [
    ("missing type", lambda s: _spec(s)["properties"]["name"].pop("type"), "type must not be empty"),
    ("$ref", lambda s: _spec(s)["properties"].update(ref={"$ref": "#/defs/x"}), "$ref is forbidden"),
    ("unknown keyword", lambda s: _spec(s)["properties"]["name"].update(const="x"), "unknown field 'const'"),
    ("numeric exclusiveMinimum", lambda s: _spec(s)["properties"]["count"].update(exclusiveMinimum=0), "boolean"),
    ("additionalProperties false", lambda s: _spec(s).update(additionalProperties=False), "cannot be false"),
    (
        "properties and additionalProperties",
        lambda s: _spec(s).update(additionalProperties={"type": "string"}),
        "mutually exclusive",
    ),
    ("array without items", lambda s: _spec(s)["properties"]["items"].pop("items"), "needs items"),
    ("uniqueItems", lambda s: _spec(s)["properties"]["items"].update(uniqueItems=True), "uniqueItems"),
    ("wrong default type", lambda s: _spec(s)["properties"]["count"].update(default="one"), "default"),
    ("default out of bounds", lambda s: _spec(s)["properties"]["count"].update(default=-1), "default"),
    (
        "unpruned default",
        lambda s: _spec(s).update(default={"name": "x", "unknown": 1}),
        "Additional properties are not allowed",
    ),
    (
        "type inside anyOf",
        lambda s: _spec(s)["properties"]["name"].update(anyOf=[{"type": "string"}, {"type": "integer"}]),
        "not allowed inside a junctor",
    ),
    (
        "int-or-string with a type",
        lambda s: _spec(s)["properties"]["count"].update({"x-kubernetes-int-or-string": True}),
        "type must be empty",
    ),
    (
        "metadata beyond name",
        lambda s: s["properties"]["metadata"].update(properties={"labels": {"type": "object"}}),
        "only name and generateName",
    ),
    ("metadata default", lambda s: s["properties"]["metadata"].update(default={}), "only type and properties"),
    ("root not an object", lambda s: s.update(type="string"), "type must be object at the root"),
    ("nullable root", lambda s: s.update(nullable=True), "nullable is forbidden at the root"),
    ("enum of the wrong type", lambda s: _spec(s)["properties"]["name"].update(enum=["a", 1]), "enum value 1"),
    ("undeclared required", lambda s: _spec(s).update(required=["name", "ghost"]), "'ghost' is not declared"),
    ("unknown format", lambda s: _spec(s)["properties"]["name"].update(format="iban"), "unknown format"),
    (
        "list map without keys",
        lambda s: _spec(s)["properties"].update(
            conds={"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object", "properties": {}}}
        ),
        "needs object items and x-kubernetes-list-map-keys",
    ),
    (
        "optional list map key",
        lambda s: _spec(s)["properties"].update(
            conds={
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "properties": {"type": {"type": "string"}}},
            }
        ),
        "must be required or have a default",
    ),
    (
        "set of objects",
        lambda s: _spec(s)["properties"]["items"].update(
            {"x-kubernetes-list-type": "set", "items": {"type": "object"}}
        ),
        "set needs scalar",
    ),
    (
        "CEL that does not compile",
        lambda s: _spec(s).update({"x-kubernetes-validations": [{"rule": "self.name ==", "message": "m"}]}),
        "does not compile",
    ),
    (
        "CEL message with a line break",
        lambda s: _spec(s).update({"x-kubernetes-validations": [{"rule": "true", "message": "a\nb"}]}),
        "line breaks",
    ),
    (
        "default that breaks a CEL rule",
        lambda s: _spec(s)["properties"]["count"].update(
            {"x-kubernetes-validations": [{"rule": "self > 5", "message": "count must exceed 5"}]}
        ),
        "count must exceed 5",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in BAD_SCHEMAS], ids=[n for n, *_ in BAD_SCHEMAS])
def test_checker_rejects_what_the_api_server_rejects(mutate: Any, expected: str) -> None:
    schema = copy.deepcopy(_valid_root())
    mutate(schema)
    errors = structural_errors(schema)
    assert any(expected in error for error in errors), errors


def test_crd_level_checks() -> None:
    crd = build_crd()
    version = crd["spec"]["versions"][0]
    del version["schema"]["openAPIV3Schema"]["properties"]["status"]
    version["additionalPrinterColumns"].append({"name": "Age", "type": "duration", "jsonPath": "status.x"})
    errors = crd_errors(crd)
    assert any("status subresource without a status schema" in error for error in errors), errors
    assert any("unknown type 'duration'" in error for error in errors), errors
    assert any("must start with '.'" in error for error in errors), errors
    assert any("'Age' is declared twice" in error for error in errors), errors
