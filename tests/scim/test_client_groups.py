"""Group operations of ScimClient against a real scim2-server on 127.0.0.1."""

from __future__ import annotations

import json

from pydantic import SecretStr

from personio_operator.scim.client import ScimClient
from personio_testkit.scim_app import ScimTestServer
from tests.plugins.scim_server import SCIM_TOKEN


def _seed_users(server: ScimTestServer, count: int) -> list[str]:
    return [
        server.add_user(f"member{index}@acme.example", external_id=f"personio:{index}")["id"] for index in range(count)
    ]


def _stored_group(server: ScimTestServer, group_id: str) -> dict:
    (group,) = [group for group in server.groups() if group["id"] == group_id]
    return group


def _member_values(group: dict) -> set[str]:
    return {member["value"] for member in group.get("members", [])}


def _patch_operations(server: ScimTestServer) -> list[list[dict]]:
    return [json.loads(r.body)["Operations"] for r in server.requests if r.method == "PATCH" and r.status < 300]


async def test_create_group_with_many_members_uses_chunks_of_at_most_100(scim_server, scim_client):
    member_ids = _seed_users(scim_server, 250)

    group = await scim_client.create_group("personio:department:9001", "Department Engineering", member_ids)

    stored = _stored_group(scim_server, group.id)
    assert (stored["externalId"], stored["displayName"]) == ("personio:department:9001", "Department Engineering")
    assert _member_values(stored) == set(member_ids)
    (post,) = [r for r in scim_server.requests if r.method == "POST"]
    assert len(json.loads(post.body)["members"]) == 100
    added = [len(op["value"]) for ops in _patch_operations(scim_server) for op in ops]
    assert added == [100, 50]


async def test_rename_keeps_the_group_id_and_members(scim_server, scim_client):
    member_ids = _seed_users(scim_server, 2)
    group = await scim_client.create_group("personio:team:1", "Team Old", member_ids)

    await scim_client.rename_group(group.id, "Team New")

    (stored,) = scim_server.groups()
    assert (stored["id"], stored["displayName"]) == (group.id, "Team New")
    assert _member_values(stored) == set(member_ids)


async def test_members_are_added_and_removed_leaving_others(scim_server, scim_client):
    member_ids = _seed_users(scim_server, 5)
    hand_added = scim_server.add_user("hand@acme.example")["id"]
    group = await scim_client.create_group("personio:team:1", "Team", [*member_ids[:3], hand_added])

    await scim_client.add_members(group.id, member_ids[3:])
    await scim_client.remove_members(group.id, member_ids[:2])

    assert _member_values(_stored_group(scim_server, group.id)) == {*member_ids[2:], hand_added}
    removal = _patch_operations(scim_server)[-1]
    assert [op["path"] for op in removal] == [f'members[value eq "{member_id}"]' for member_id in member_ids[:2]]


async def test_member_removal_falls_back_to_the_form_the_server_takes_and_remembers_it(scim_server, scim_client):
    member_ids = _seed_users(scim_server, 6)
    group = await scim_client.create_group("personio:team:1", "Team", member_ids)
    scim_server.faults.refuse_member_removal = "filter"

    await scim_client.remove_members(group.id, member_ids[:2])
    await scim_client.remove_members(group.id, member_ids[2:3])
    assert _member_values(_stored_group(scim_server, group.id)) == set(member_ids[3:])
    statuses = [r.status for r in scim_server.requests if r.method == "PATCH"]
    assert statuses == [400, 204, 204]  # the second removal went straight to the value form

    scim_server.faults.refuse_member_removal = "value"  # ... and the reverse for servers that only take filters
    await scim_client.remove_members(group.id, member_ids[3:4])

    assert _member_values(_stored_group(scim_server, group.id)) == set(member_ids[4:])
    last_patch = [r for r in scim_server.requests if r.method == "PATCH"][-1]
    assert json.loads(last_patch.body)["Operations"][0]["path"].startswith("members[value eq")


async def test_delete_group_and_deleting_twice_is_fine(scim_server, scim_client):
    group = await scim_client.create_group("personio:office:1", "Office Berlin")

    await scim_client.delete_group(group.id)
    await scim_client.delete_group(group.id)

    assert scim_server.groups() == []


async def test_groups_without_patch_are_changed_with_put(scim_server_factory):
    server = scim_server_factory(config={"patch": {"supported": False}})
    member_ids = _seed_users(server, 3)
    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=5) as client:
        await client.discover()
        group = await client.create_group("personio:team:1", "Team", member_ids[:2])
        await client.rename_group(group.id, "Team Renamed")
        await client.add_members(group.id, member_ids[2:])
        await client.remove_members(group.id, member_ids[:1])

    stored = _stored_group(server, group.id)
    assert (stored["displayName"], _member_values(stored)) == ("Team Renamed", set(member_ids[1:]))
    assert server.count("PATCH", "/") == 0
