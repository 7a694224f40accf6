"""The pydantic -> structural schema converter on small models, one construct at a time."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from personio_operator.api.crd import CrdGenerationError, structural_schema
from tests.crd.apiserver import admit
from tests.crd.structural import structural_errors


def _root(model: type[BaseModel]) -> dict[str, Any]:
    """The model as ``spec`` of an otherwise empty resource, checked by the structural rules."""
    spec = structural_schema(model, mode="validation", path=("spec",))
    root = {"type": "object", "properties": {"metadata": {"type": "object"}, "spec": spec}}
    assert structural_errors(root) == []
    return spec


class Inner(BaseModel):
    level: int = Field(default=3, ge=1)
    tags: list[str] = Field(default_factory=list)


class Rule(BaseModel):
    name: str


def test_optional_becomes_nullable_without_a_null_default() -> None:
    class Model(BaseModel):
        note: str | None = None
        inner: Inner | None = None

    spec = _root(Model)
    assert spec["properties"]["note"] == {"type": "string", "nullable": True}
    assert spec["properties"]["inner"]["type"] == "object"
    assert spec["properties"]["inner"]["nullable"] is True
    assert "default" not in spec["properties"]["inner"]


def test_int_or_str_becomes_int_or_string() -> None:
    class Model(BaseModel):
        amount: int | str = "10%"

    node = _root(Model)["properties"]["amount"]
    assert node["x-kubernetes-int-or-string"] is True
    assert "type" not in node
    assert node["default"] == "10%"


def test_unions_without_a_structural_form_are_refused_with_the_path() -> None:
    class Model(BaseModel):
        value: float | str = 1.0

    with pytest.raises(CrdGenerationError, match=r"spec\.value: a union"):
        structural_schema(Model, mode="validation", path=("spec",))


def test_exclusive_bounds_use_the_openapi_v3_0_form() -> None:
    class Model(BaseModel):
        ratio: float = Field(default=0.5, gt=0, lt=1)

    node = _root(Model)["properties"]["ratio"]
    assert node["minimum"] == 0 and node["exclusiveMinimum"] is True
    assert node["maximum"] == 1 and node["exclusiveMaximum"] is True
    _, errors = admit(_root(Model), {"ratio": 0})
    assert errors, "0 must be rejected by an exclusive minimum of 0"


def test_dicts_become_additional_properties_and_any_is_preserved() -> None:
    class Model(BaseModel):
        labels: dict[str, int] = Field(default_factory=dict)
        anything: Any = None
        free: dict[str, Any] = Field(default_factory=dict)

    spec = _root(Model)
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "integer"}
    assert spec["properties"]["anything"]["x-kubernetes-preserve-unknown-fields"] is True
    assert spec["properties"]["free"] == {"type": "object", "default": {}, "x-kubernetes-preserve-unknown-fields": True}


def test_literal_becomes_an_enum() -> None:
    class Model(BaseModel):
        mode: Literal["fast"] = "fast"
        level: Literal["low", "high"] = "low"

    spec = _root(Model)
    assert spec["properties"]["mode"]["enum"] == ["fast"]
    assert spec["properties"]["level"]["enum"] == ["low", "high"]


def test_factory_defaults_let_the_api_server_fill_nested_defaults() -> None:
    class Model(BaseModel):
        inner: Inner = Field(default_factory=Inner)
        rules: list[Rule] = Field(default_factory=list)

    spec = _root(Model)
    assert spec["properties"]["inner"]["default"] == {}
    assert spec["properties"]["rules"]["default"] == []
    stored, errors = admit(spec, {})
    assert errors == []
    assert stored == {"inner": {"level": 3, "tags": []}, "rules": []}
    assert stored == Model().model_dump(mode="json")


def test_refs_are_inlined_and_rules_from_field_and_model_are_both_kept() -> None:
    class Window(BaseModel):
        model_config = {"json_schema_extra": {"x-kubernetes-validations": [{"rule": "self.start <= self.end"}]}}
        start: int
        end: int

    class Model(BaseModel):
        window: Window = Field(json_schema_extra={"x-kubernetes-validations": [{"rule": "self.end < 24"}]})

    node = _root(Model)["properties"]["window"]
    assert "$ref" not in str(node)
    assert [rule["rule"] for rule in node["x-kubernetes-validations"]] == ["self.start <= self.end", "self.end < 24"]
    _, errors = admit(_root(Model), {"window": {"start": 5, "end": 2}})
    assert errors == [".window: self.start <= self.end"]


def test_titles_and_forbidden_additional_properties_are_dropped() -> None:
    class Model(BaseModel):
        model_config = {"extra": "forbid", "title": "Shown nowhere"}
        name: str = Field(title="Name")

    spec = _root(Model)
    assert "title" not in str(spec)
    assert "additionalProperties" not in spec


def test_defaults_can_be_left_out() -> None:
    schema = structural_schema(Inner, mode="serialization", keep_defaults=False)
    assert "default" not in str(schema)
