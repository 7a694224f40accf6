"""Attribute whitelisting: fields the credential may not read are silently missing (v1 and v2)."""

from __future__ import annotations

import httpx

from personio_operator.personio.models import Attribute
from tests.personio_sandbox.helpers import v1_headers, v2_headers


def test_v2_nothing_whitelisted_yields_only_id_employments_and_meta(sandbox):
    sandbox.credentials.whitelist = set()
    headers = v2_headers(sandbox)
    person = httpx.get(f"{sandbox.base_url}/v2/persons/1004", headers=headers).json()
    assert set(person) == {"id", "employments", "_meta"}
    employment = httpx.get(f"{sandbox.base_url}/v2/persons/1004/employments", headers=headers).json()["_data"][0]
    assert set(employment) == {"id", "person", "_meta"}


def test_v2_fields_follow_the_domain_attributes(sandbox):
    sandbox.credentials.whitelist = {Attribute.EMAIL, Attribute.STATUS, Attribute.DEPARTMENT, Attribute.SUPERVISOR}
    headers = v2_headers(sandbox)
    person = httpx.get(f"{sandbox.base_url}/v2/persons/1004", headers=headers).json()
    assert set(person) == {"id", "email", "status", "employments", "_meta"}
    employment = httpx.get(f"{sandbox.base_url}/v2/persons/1004/employments", headers=headers).json()["_data"][0]
    assert set(employment) == {"id", "status", "supervisor", "org_units", "person", "_meta"}
    assert [u["type"] for u in employment["org_units"]] == ["department"]


def test_v1_keys_missing_from_attributes(sandbox):
    sandbox.credentials.whitelist = {"first_name", "last_name", "email"}
    body = httpx.get(f"{sandbox.base_url}/v1/company/employees", headers=v1_headers(sandbox)).json()
    for employee in body["data"]:
        assert set(employee["attributes"]) == {"id", "first_name", "last_name", "email"}


def test_whitelist_from_config(personio_sandbox):
    sandbox = personio_sandbox(employees=5, rate_limits=False, whitelist=frozenset({"first_name"}))
    person = httpx.get(f"{sandbox.base_url}/v2/persons/1002", headers=v2_headers(sandbox)).json()
    assert set(person) == {"id", "first_name", "employments", "_meta"}


def test_stale_credentials_hide_termination_until_regenerated(sandbox):
    leaver = next(p for p in sandbox.company.persons() if p.current.termination is not None)
    sandbox.credentials.stale = True
    url = f"{sandbox.base_url}/v2/persons/{leaver.id}/employments"
    before = httpx.get(url, headers=v2_headers(sandbox)).json()["_data"][0]
    assert "termination" not in before
    assert before["status"] == "INACTIVE"
    new_secret = sandbox.credentials.regenerate()
    after = httpx.get(url, headers=v2_headers(sandbox, client_secret=new_secret)).json()["_data"][0]
    assert after["termination"]["type"] == leaver.current.termination.type
