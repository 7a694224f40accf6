"""The cluster examples are valid for the API server (schema, defaults, CEL) and for the models,
and the API server's defaults are the models' defaults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from personio_operator.api import GROUP, KIND, VERSION
from personio_operator.api.spec import PersonioIntegrationSpec
from tests.crd.apiserver import admit
from tests.crd.objects import EXAMPLES, minimal_integration


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, document)
        for path in sorted(EXAMPLES.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def _integrations() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path, doc in _documents() if doc["kind"] == KIND]


def test_examples_hold_integrations() -> None:
    assert {path.name for path, _ in _integrations()} == {"personiointegration.yaml", "local-sandbox.yaml"}


@pytest.mark.parametrize(("path", "integration"), _integrations(), ids=lambda value: getattr(value, "name", ""))
def test_integration_example_is_admitted_by_the_api_server_and_the_model(
    resource_schema: dict[str, Any], path: Path, integration: dict[str, Any]
) -> None:
    assert integration["apiVersion"] == f"{GROUP}/{VERSION}"
    stored, errors = admit(resource_schema, integration)
    assert errors == [], f"{path.name}: {errors}"
    spec = PersonioIntegrationSpec.model_validate(integration["spec"])
    assert spec.model_dump(mode="json", by_alias=True, exclude_none=True) == stored["spec"]


@pytest.mark.parametrize(("path", "integration"), _integrations(), ids=lambda value: getattr(value, "name", ""))
def test_referenced_secrets_exist_in_the_same_namespace(path: Path, integration: dict[str, Any]) -> None:
    namespace = integration["metadata"]["namespace"]
    secrets = {
        (doc["metadata"]["namespace"], doc["metadata"]["name"]): doc.get("stringData", {})
        for _, doc in _documents()
        if doc["kind"] == "Secret"
    }
    spec = PersonioIntegrationSpec.model_validate(integration["spec"])
    personio_ref = spec.personio.credentials_secret_ref
    scim_ref = spec.target.scim.credentials_secret_ref
    for name, keys in (
        (personio_ref.name, {personio_ref.client_id_key, personio_ref.client_secret_key}),
        (scim_ref.name, {scim_ref.key}),
    ):
        assert (namespace, name) in secrets, f"{path.name}: Secret {namespace}/{name} is not in examples/cluster"
        assert keys <= set(secrets[(namespace, name)]), f"{path.name}: Secret {name} lacks {keys}"


def _leaf_paths(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, child in node.get("properties", {}).items():
        if "properties" in child:
            yield from _leaf_paths(child, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _has(document: dict[str, Any], dotted: str) -> bool:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_full_example_sets_every_spec_field(resource_schema: dict[str, Any]) -> None:
    (full,) = [doc for path, doc in _integrations() if path.name == "personiointegration.yaml"]
    spec_schema = resource_schema["properties"]["spec"]
    # Team name templates are per-kind overrides: one is enough to document the field.
    missing = [
        path
        for path in _leaf_paths(spec_schema)
        if not _has(full["spec"], path) and not path.startswith("teams.nameTemplates.")
    ]
    assert missing == [], f"examples/cluster/personiointegration.yaml does not show {missing}"
    assert full["spec"]["teams"]["nameTemplates"]


def test_local_example_points_at_the_test_machine(resource_schema: dict[str, Any]) -> None:
    (local,) = [doc for path, doc in _integrations() if path.name == "local-sandbox.yaml"]
    assert local["spec"]["personio"]["baseUrl"].startswith("http://127.0.0.1:")
    assert local["spec"]["target"]["scim"]["url"].startswith("http://127.0.0.1:")


def test_api_server_defaults_equal_the_model_defaults(resource_schema: dict[str, Any]) -> None:
    integration = minimal_integration()
    stored, errors = admit(resource_schema, integration)
    assert errors == []
    model = PersonioIntegrationSpec.model_validate(integration["spec"])
    assert stored["spec"] == model.model_dump(mode="json", by_alias=True, exclude_none=True)


def test_unknown_fields_are_rejected(resource_schema: dict[str, Any]) -> None:
    _, errors = admit(resource_schema, minimal_integration(scheduel="0 5 * * *"))
    assert any("scheduel" in error for error in errors), errors


def test_required_fields_are_required(resource_schema: dict[str, Any]) -> None:
    integration = minimal_integration()
    del integration["spec"]["target"]
    _, errors = admit(resource_schema, integration)
    assert any("'target' is a required property" in error for error in errors), errors
