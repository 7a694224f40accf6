"""Both auth flows over real HTTP: success, every documented error, stable tokens, expiry, revocation."""

from __future__ import annotations

import httpx
import pytest

from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxClock
from tests.personio_sandbox.helpers import token_form, v2_token


def test_v1_auth_accepts_json_and_form_and_returns_the_same_stable_token(sandbox):
    by_json = httpx.post(
        f"{sandbox.base_url}/v1/auth", json={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    )
    by_form = httpx.post(
        f"{sandbox.base_url}/v1/auth", data={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    )
    assert by_json.status_code == by_form.status_code == 200
    token = by_json.json()["data"]["token"]
    assert by_json.json()["success"] is True
    assert token.startswith("papi-")
    assert by_form.json()["data"]["token"] == token


def test_v1_wrong_credentials_give_the_documented_403(sandbox):
    response = httpx.post(f"{sandbox.base_url}/v1/auth", json={"client_id": DEFAULT_CLIENT_ID, "client_secret": "no"})
    assert response.status_code == 403
    assert response.json() == {"success": False, "error": {"code": 0, "message": "Wrong credentials"}}


def test_v1_query_string_credentials_are_refused_unless_switched_on(personio_sandbox):
    query = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    strict = personio_sandbox(employees=1, rate_limits=False)
    refused = httpx.post(f"{strict.base_url}/v1/auth", params=query)
    assert refused.status_code == 403
    assert "body" in refused.json()["error"]["message"]
    legacy = personio_sandbox(employees=1, rate_limits=False, v1_query_string_auth=True)
    assert httpx.post(f"{legacy.base_url}/v1/auth", params=query).status_code == 200


def test_v1_missing_fields_say_which_are_missing(sandbox):
    response = httpx.post(f"{sandbox.base_url}/v1/auth", json={"client_id": DEFAULT_CLIENT_ID})
    assert response.status_code == 400
    assert set(response.json()["error"]["errors"]) == {"client_secret"}


def test_v1_resource_without_or_with_a_bad_token(sandbox):
    url = f"{sandbox.base_url}/v1/company/employees"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json()["error"]["message"] == "Authorization is not provided"
    bad = httpx.get(url, headers={"Authorization": "Bearer papi-made-up"})
    assert bad.status_code == 403
    assert bad.json()["success"] is False


def test_v2_token_success_shape(sandbox):
    response = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form())
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("papi-")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert "personio:persons:read" in body["scope"].split()


def test_v2_token_requires_a_form_body(sandbox):
    response = httpx.post(f"{sandbox.base_url}/v2/auth/token", json=token_form())
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["error"] == "invalid_request"
    assert "x-www-form-urlencoded" in response.json()["error_description"]


def test_v2_token_lists_missing_parameters(sandbox):
    response = httpx.post(f"{sandbox.base_url}/v2/auth/token", data={"client_id": DEFAULT_CLIENT_ID})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert sorted(response.json()["meta"]["missing_parameters"]) == ["client_secret", "grant_type"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_secret": "wrong"}, "unauthorized_client"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"scope": "personio:persons:read personio:salaries:write"}, "invalid_scope"),
    ],
)
def test_v2_token_errors(sandbox, overrides, error):
    response = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form(**overrides))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert body["trace_id"] and body["timestamp"]
    assert "sandbox-secret" not in response.text


def test_v2_token_is_stable_and_counts_down_then_expires(personio_sandbox):
    clock = SandboxClock(frozen=True)
    sandbox = personio_sandbox(employees=3, rate_limits=False, clock=clock, token_lifetime_seconds=3600)
    first = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form()).json()
    clock.advance(600)
    second = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form()).json()
    assert second["access_token"] == first["access_token"]
    assert (first["expires_in"], second["expires_in"]) == (3600, 3000)

    headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers).status_code == 200
    clock.advance(3000)
    expired = httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["errors"][0]["detail"]
    fresh = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form()).json()
    assert fresh["access_token"] != first["access_token"]
    assert fresh["expires_in"] == 3600


def test_v2_unknown_or_missing_token_is_401(sandbox):
    missing = httpx.get(f"{sandbox.base_url}/v2/persons")
    unknown = httpx.get(f"{sandbox.base_url}/v2/persons", headers={"Authorization": "Bearer papi-guess"})
    assert missing.status_code == unknown.status_code == 401
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_v2_revoked_token_is_401_and_a_new_one_is_issued(sandbox):
    token = v2_token(sandbox)
    revoke = httpx.post(f"{sandbox.base_url}/v2/auth/revoke", data={"token": token})
    assert revoke.status_code == 200
    assert revoke.content == b""
    assert httpx.get(f"{sandbox.base_url}/v2/persons", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert v2_token(sandbox) != token


def test_token_with_a_narrow_scope_cannot_read_employments(sandbox):
    token = v2_token(sandbox, scope="personio:persons:read")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers).status_code == 200
    refused = httpx.get(f"{sandbox.base_url}/v2/persons/1001/employments", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["title"] == "Insufficient access scope"


def test_regenerated_credentials_invalidate_the_old_secret_and_its_tokens(sandbox):
    old_token = v2_token(sandbox)
    new_secret = sandbox.credentials.regenerate()
    assert new_secret != DEFAULT_CLIENT_SECRET
    old = httpx.post(f"{sandbox.base_url}/v2/auth/token", data=token_form())
    assert old.json()["error"] == "unauthorized_client"
    headers = {"Authorization": f"Bearer {old_token}"}
    assert httpx.get(f"{sandbox.base_url}/v2/persons", headers=headers).status_code == 401
    assert v2_token(sandbox, client_secret=new_secret) != old_token
    assert new_secret not in repr(sandbox.credentials)
