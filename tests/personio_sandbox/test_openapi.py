"""Real requests and responses validated against Personio's official OpenAPI files.

Contradictions the README documents need no skip here: the sandbox sends the upper-case custom
attribute ``type`` the schema allows, and omits ``employment_end_date`` instead of sending null.
Two contradictions the README does not list are in the v1 personnel spec (``data`` object vs
array; null attribute values); ``helpers.relax_v1_personnel`` relaxes exactly those, and
``test_the_v1_spec_rejects_its_own_example`` proves they are real.
"""

from __future__ import annotations

import json

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

from personio_testkit.personio_sandbox import V1Quirks
from tests.personio_sandbox.helpers import (
    SPEC_HOST,
    V1_PERSONNEL,
    relax_v1_personnel,
    spec_dict,
    token_form,
    v1_headers,
    v2_headers,
    validate,
)


@pytest.fixture
def v2(sandbox):
    with httpx.Client(base_url=sandbox.base_url, headers=v2_headers(sandbox)) as client:
        yield client


def test_v2_token_responses(sandbox):
    ok = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form())
    validate("v2/credentials-service-api-v2.json", ok)
    refused = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form(client_secret="wrong"))
    validate("v2/credentials-service-api-v2.json", refused)
    missing = httpx.post(f"{sandbox.base_url}/v2/auth/token", data={"client_id": "x"})
    # The request itself is invalid on purpose (required fields missing); only the response is checked.
    validate("v2/credentials-service-api-v2.json", missing, validate_request=False)
    revoked = httpx.post(f"{sandbox.base_url}/v2/auth/revoke", data={"token": ok.json()["access_token"]})
    validate("v2/credentials-service-api-v2.json", revoked)


def test_v2_person_pages_and_errors(sandbox, v2):
    spec = "v2/persons-service-api-v2.json"
    first = v2.get("/v2/persons", params={"limit": 50})
    validate(spec, first)
    validate(spec, v2.get("/v2/persons", params={"status": "INACTIVE", "updated_at.gt": "2020-01-01T00:00:00Z"}))
    for person in sandbox.company.persons()[:12]:
        validate(spec, v2.get(f"/v2/persons/{person.id}"))
    validate(spec, v2.get("/v2/persons/424242"))
    # A deliberately invalid request: only the 400 response is checked.
    validate(spec, v2.get("/v2/persons", params={"updated_at.gt": "soon"}), validate_request=False)


def test_v2_employments(sandbox, v2):
    spec = "v2/employment-contract-v2.json"
    for person in sandbox.company.persons():
        validate(spec, v2.get(f"/v2/persons/{person.id}/employments"))
    person = sandbox.company.person(1003)
    validate(spec, v2.get(f"/v2/persons/{person.id}/employments/{person.current.id}"))
    validate(spec, v2.get("/v2/persons/424242/employments"))


def test_v2_after_changes_and_with_a_narrow_whitelist(sandbox, v2):
    sandbox.company.terminate(1005)
    sandbox.company.change_supervisor(1006, None)
    sandbox.credentials.whitelist = {"email"}
    validate("v2/persons-service-api-v2.json", v2.get("/v2/persons", params={"limit": 50}))
    for person_id in (1005, 1006):
        validate("v2/employment-contract-v2.json", v2.get(f"/v2/persons/{person_id}/employments"))


def test_v1_auth_and_employees(sandbox):
    auth = httpx.post(
        f"{sandbox.base_url}/v1/auth", json={"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    )
    validate("v1/personio-auth-api.yaml", auth)
    spec = "v1/personio-personnel-data-api-oa3.yaml"
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox)) as v1:
        validate(spec, v1.get("/v1/company/employees", params={"limit": 100}))
        validate(spec, v1.get("/v1/company/employees", params=[("attributes[]", "email"), ("attributes[]", "team")]))
        validate(spec, v1.get("/v1/company/employees/1004"))
        validate(spec, v1.get("/v1/company/employees/attributes"))


def test_the_v1_spec_rejects_its_own_example():
    document = spec_dict(V1_PERSONNEL)
    example = document["paths"]["/company/employees"]["get"]["responses"]["200"]["content"]["application/json"]
    body = json.dumps(example["examples"]["response"]["value"]).encode()
    request = MockRequest(SPEC_HOST, "get", "/v1/company/employees")
    response = MockResponse(body, status_code=200, content_type="application/json")
    with pytest.raises(OpenAPIError):
        OpenAPI.from_dict(document).validate_response(request, response)
    OpenAPI.from_dict(relax_v1_personnel(document)).validate_response(request, response)


def test_v1_quirks_break_the_spec_as_real_personio_does(personio_sandbox):
    sandbox = personio_sandbox(employees=20, rate_limits=False, v1_quirks=V1Quirks(empty_objects_as="empty_list"))
    with httpx.Client(base_url=sandbox.base_url, headers=v1_headers(sandbox)) as v1:
        response = v1.get("/v1/company/employees")
    with pytest.raises(OpenAPIError):
        validate(V1_PERSONNEL, response)
