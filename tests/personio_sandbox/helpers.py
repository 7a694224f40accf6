"""Plain-httpx helpers for sandbox tests (deliberately not the project's Personio client)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxServer

SPEC_DIR = Path("/work/shared/personio-openapi")
SPEC_HOST = "https://api.personio.de"


def token_form(**overrides: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def v2_token(sandbox: SandboxServer, **overrides: str) -> str:
    response = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form(**overrides))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def v2_headers(sandbox: SandboxServer, **overrides: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {v2_token(sandbox, **overrides)}"}


def v1_headers(sandbox: SandboxServer) -> dict[str, str]:
    response = httpx.post(
        f"{sandbox.base_url}/v1/auth", json={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['token']}"}


def walk_v2(client: httpx.Client, url: str, params: dict[str, Any] | None = None, max_pages: int = 10_000) -> list:
    """Follow next links to the end; returns every page's body."""
    pages = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        next_link = body["_meta"]["links"].get("next")
        if next_link is None:
            return pages
        assert len(pages) < max_pages, "paging did not end"
        response = client.get(next_link["href"])


def _string_timestamps_loader() -> type[yaml.SafeLoader]:
    # The v1 YAML has unquoted timestamps; keep them strings (README, "Known inconsistencies").
    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


# openapi-core only parses application/json by itself; Personio errors are application/problem+json.
_CONFIG = Config(extra_media_type_deserializers={"application/problem+json": json.loads})


def spec_dict(name: str) -> dict[str, Any]:
    path = SPEC_DIR / name
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return _string_keys(yaml.load(path.read_text(), Loader=_string_timestamps_loader()))


@cache
def spec(name: str) -> OpenAPI:
    document = spec_dict(name)
    if name == V1_PERSONNEL:
        document = relax_v1_personnel(document)
    return OpenAPI.from_dict(document, config=_CONFIG)


V1_PERSONNEL = "v1/personio-personnel-data-api-oa3.yaml"
V1_VALUE_SCHEMAS = ("Employee", "Supervisor", "ShortEmployee", "Office", "Department", "Team", "CostCenters")


def relax_v1_personnel(document: dict[str, Any]) -> dict[str, Any]:
    """Two contradictions inside the v1 personnel spec, which its own example response breaks
    (``test_openapi.py`` proves that): ``EmployeesResponse`` is ``allOf`` ``Response`` (``data``:
    object) and ``data``: array; and every attribute ``value`` is non-nullable although the
    example sends ``"value": null`` for empty ones. Only these two are relaxed; all else is checked.
    """
    schemas = document["components"]["schemas"]
    schemas["Response"]["properties"]["data"].pop("type", None)

    def nullable_values(node: Any) -> None:
        if isinstance(node, dict):
            for key, child in node.get("properties", {}).items():
                if key == "value" and isinstance(child, dict):
                    target = schemas[child["$ref"].rsplit("/", 1)[1]] if "$ref" in child else child
                    target["nullable"] = True
                nullable_values(child)

    for name in V1_VALUE_SCHEMAS:
        nullable_values(schemas[name])
    return document


def _string_keys(node: Any) -> Any:
    """YAML reads unquoted status codes (``200:``) as ints; OpenAPI keys are strings."""
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def validate(spec_name: str, response: httpx.Response, *, validate_request: bool = True) -> None:
    """Validate a real exchange against an official spec (raises on any mismatch)."""
    request = response.request
    content_type = request.headers.get("content-type", "application/json").split(";")[0]
    mock_request = MockRequest(
        SPEC_HOST,
        request.method,
        request.url.path,
        args=list(request.url.params.multi_items()),
        headers=dict(request.headers),
        data=request.content,
        content_type=content_type,
    )
    mock_response = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers.get("content-type", "application/json").split(";")[0],
        headers=dict(response.headers),
    )
    openapi = spec(spec_name)
    if validate_request:
        openapi.validate_request(mock_request)
    openapi.validate_response(mock_request, mock_response)
