"""User operations of ScimClient against a real scim2-server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from personio_operator.errors import ConfigurationError, ErrorKind, TransientError
from personio_operator.scim.applier import create_or_adopt
from personio_operator.scim.client import ScimClient
from personio_operator.scim.errors import ScimConflictError
from personio_operator.scim.plan import FieldChange
from personio_testkit.scim_app import ENTERPRISE_SCHEMA, ScimTestServer
from tests.plugins.scim_server import SCIM_TOKEN
from tests.scim.factories import desired_user


def _stored(server: ScimTestServer, user_name: str) -> dict:
    matches = [user for user in server.users() if user["userName"].lower() == user_name.lower()]
    assert len(matches) == 1, f"expected exactly one stored user {user_name}, found {len(matches)}"
    return matches[0]


async def test_create_sends_every_attribute_and_reads_it_back(scim_server, scim_client):
    boss = await create_or_adopt(scim_client, desired_user(1))
    wanted = desired_user(2, preferred_language="en", user_type="External", department="R&D")

    created = await create_or_adopt(scim_client, wanted, manager_id=boss.id)

    stored = _stored(scim_server, wanted.user_name)
    assert stored["externalId"] == "personio:2"
    assert stored["name"] == {"givenName": "Given2", "familyName": "Family2"}
    assert stored["emails"] == [{"value": "person2@acme.example", "type": "work", "primary": True}]
    assert (stored["active"], stored["title"], stored["userType"], stored["preferredLanguage"]) == (
        True,
        "Title 2",
        "External",
        "en",
    )
    assert stored[ENTERPRISE_SCHEMA] == {
        "employeeNumber": "2",
        "department": "R&D",
        "manager": {"value": boss.id},
    }
    (read_back,) = [user for user in (await scim_client.read_state()).users if user.id == created.id]
    assert read_back == created
    assert (read_back.manager_id, read_back.department, read_back.preferred_language) == (boss.id, "R&D", "en")


async def test_patch_changes_only_the_given_attributes(scim_server, scim_client):
    created = await create_or_adopt(scim_client, desired_user(1))
    scim_server.reset_requests()

    await scim_client.patch_user(
        created.id,
        [
            FieldChange(field="title", old="Title 1", new="Lead"),
            FieldChange(field="department", old="Engineering", new=None),
            FieldChange(field="emails", old="person1@acme.example", new="Person1@acme.example"),
        ],
    )

    (request,) = scim_server.requests
    assert (request.method, request.path, request.status) == ("PATCH", f"/Users/{created.id}", 204)
    operations = json.loads(request.body)["Operations"]
    assert {operation["path"] for operation in operations} == {
        "title",
        f"{ENTERPRISE_SCHEMA}:department",
        "emails",
    }
    stored = _stored(scim_server, "person1@acme.example")
    assert stored["title"] == "Lead"
    assert "department" not in stored.get(ENTERPRISE_SCHEMA, {})
    assert stored["emails"][0]["value"] == "Person1@acme.example"
    assert stored["name"]["givenName"] == "Given1"


async def test_deactivate_and_reactivate_never_delete(scim_server, scim_client):
    created = await create_or_adopt(scim_client, desired_user(1))

    await scim_client.set_active(created.id, False)
    assert _stored(scim_server, "person1@acme.example")["active"] is False
    await scim_client.set_active(created.id, True)

    assert _stored(scim_server, "person1@acme.example")["active"] is True
    assert scim_server.count("DELETE", "/") == 0


async def test_conflict_on_create_adopts_the_hand_made_user(scim_server, scim_client):
    hand_made = scim_server.add_user("PERSON1@acme.example", given_name="Ada", family_name="Old")

    adopted = await create_or_adopt(scim_client, desired_user(1))

    assert adopted.id == hand_made["id"]
    stored = _stored(scim_server, "person1@acme.example")
    assert stored["externalId"] == "personio:1"
    assert stored["userName"] == "person1@acme.example"
    assert stored["name"] == {"givenName": "Given1", "familyName": "Family1"}
    assert [r.status for r in scim_server.requests if r.method == "POST"] == [409]


async def test_conflict_with_a_foreign_owner_fails_that_user_and_changes_nothing(scim_server, scim_client):
    scim_server.add_user("person1@acme.example", external_id="okta-42", title="kept")

    with pytest.raises(ScimConflictError) as raised:
        await create_or_adopt(scim_client, desired_user(1))

    assert "okta-42" in str(raised.value)
    assert raised.value.kind is ErrorKind.DATA
    stored = _stored(scim_server, "person1@acme.example")
    assert (stored["externalId"], stored["title"]) == ("okta-42", "kept")
    assert scim_server.count("PATCH", "/") == 0


async def test_find_users_quotes_and_escapes_filter_values(scim_server, scim_client):
    scim_server.add_user('odd"name\\x@acme.example', external_id="personio:1")
    scim_server.add_user("other@acme.example", external_id="personio:10")

    found = await scim_client.find_users(user_name='ODD"name\\x@acme.example')
    by_external_id = await scim_client.find_users(external_id="personio:1")

    assert [user.user_name for user in found] == ['odd"name\\x@acme.example']
    assert [user.external_id for user in by_external_id] == ["personio:1"]


async def test_paging_reads_every_user_across_pages(scim_server_factory):
    server = scim_server_factory(config={"filter": {"supported": True, "maxResults": 3}})
    for index in range(8):
        server.add_user(f"user{index}@acme.example")

    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=5) as client:
        await client.discover()
        users = await client.list_users()

    assert sorted(user.user_name for user in users) == [f"user{index}@acme.example" for index in range(8)]
    assert client.stats.requests["GET /Users"] == 3


async def test_paging_trusts_items_received_not_items_per_page(scim_server, scim_client):
    for index in range(7):
        scim_server.add_user(f"user{index}@acme.example")
    scim_server.faults.max_page_items = 2  # the server sends 2 per page whatever count and itemsPerPage say

    users = await scim_client.list_users()

    assert len({user.id for user in users}) == 7
    assert scim_client.stats.requests["GET /Users"] == 4


async def test_incomplete_listing_is_refused_rather_than_trusted(scim_server, scim_client):
    hidden = [scim_server.add_user(f"user{index}@acme.example")["id"] for index in range(3)][1]
    scim_server.faults.hide_from_lists = {hidden}

    with pytest.raises(TransientError, match="incomplete"):
        await scim_client.read_state()


async def test_lenient_reading_of_quirky_answers(scim_server, scim_client):
    created = await create_or_adopt(scim_client, desired_user(1, active=True))
    await scim_client.set_active(created.id, False)
    scim_server.faults.content_type = "text/json"
    scim_server.faults.unknown_attributes = True
    scim_server.faults.string_booleans = True

    (user,) = (await scim_client.read_state()).users

    assert (user.id, user.active, user.external_id) == (created.id, False, "personio:1")
    assert scim_server.requests[-1].status == 200


async def test_without_filter_support_lookups_match_on_the_full_list(scim_server_factory):
    server = scim_server_factory(config={"filter": {"supported": False}})
    server.add_user("someone@acme.example")
    server.add_user("person1@acme.example", given_name="Hand", family_name="Made")

    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=5) as client:
        await client.discover()
        adopted = await create_or_adopt(client, desired_user(1))

    assert adopted.external_id == "personio:1"
    assert all("filter" not in request.query for request in server.requests)
    assert len([user for user in server.users() if user["userName"] == "person1@acme.example"]) == 1


async def test_without_patch_support_changes_are_written_with_put(scim_server_factory):
    server = scim_server_factory(config={"patch": {"supported": False}})
    server.add_user("keep@acme.example", external_id="personio:1", nickName="Nick", title="Old")
    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=5) as client:
        await client.discover()
        (user,) = await client.list_users()
        await client.patch_user(user.id, [FieldChange(field="title", old="Old", new="New")])

    stored = _stored(server, "keep@acme.example")
    assert (stored["title"], stored["nickName"], stored["externalId"]) == ("New", "Nick", "personio:1")
    assert server.count("PATCH", "/") == 0
    assert server.count("PUT", "/Users") == 1


async def test_refused_token_is_a_configuration_error_without_the_token(scim_server):
    async with ScimClient(
        scim_server.url, SecretStr("wrong-token-value"), token_hint="Secret 'scim' key 'token'"
    ) as client:
        with pytest.raises(ConfigurationError) as raised:
            await client.read_state()

    message = str(raised.value)
    assert "401" in message and "Secret 'scim' key 'token'" in message
    assert "wrong-token-value" not in message
    assert "wrong-token-value" not in repr(client)


async def test_wrong_url_is_a_configuration_error(scim_server):
    async with ScimClient(scim_server.url.removesuffix("/v2") + "/nothing/here", SecretStr(SCIM_TOKEN)) as client:
        await client.discover()
        with pytest.raises(ConfigurationError) as raised:
            await client.list_users()
    assert "spec.target.scim.url" in str(raised.value)
