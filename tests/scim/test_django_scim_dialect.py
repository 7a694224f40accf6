"""What django-scim2-server 1.1 (Django + sqlite, default adapters) really says and does, over raw HTTP.

Each test pins one observation against the real server (not our ScimClient), so a new version
that changes it fails here first. Observed with django-scim2-server 1.1.0, Django 5.2, scim2-models 0.12:

- /ServiceProviderConfig: patch yes; filter yes with maxResults 200 (not enforced: count up to 1000 is
  served); bulk, sort, etag, changePassword no; one oauthbearertoken scheme.
- /ResourceTypes: User and Group without schemaExtensions. /Schemas: the core User and Group only, no
  enterprise schema. /ResourceTypes/User and /Schemas/<urn> are HTML 404s.
- Declared User attributes: userName, name{givenName, familyName}, emails{value, primary}, active,
  externalId (caseExact). Group: displayName, members{value, display}, externalId.
- POST/PUT /Users with the enterprise extension (whatever ``schemas`` says) or any unknown attribute:
  400, the detail is a pydantic message naming the attribute and ``extra_forbidden``. Only the
  extension's URN in ``schemas``, with no extension object, is accepted.
- Core attributes without a column (title, userType, preferredLanguage, displayName, name.formatted,
  the second e-mail, an e-mail's type) are accepted (201) and dropped.
- Users read back with ``name`` always present (``""`` parts when none were given) and at most one
  e-mail, ``primary: true``, no type. No Location header on 201; meta.location is set.
- userName is unique case-sensitively on create (409 uniqueness); PATCHing a taken userName: HTML 500.
- Filters: comparisons (eq, sw...) joined by ``and``, ``or``, ``not`` on userName, externalId, name.*,
  emails.value, active (users) and displayName, externalId (groups). String comparison ignores
  (ASCII) case, externalId included. id, meta.*, members.value, value paths: 400 invalidFilter.
- Paging: startIndex/count honoured, totalResults exact, itemsPerPage = items sent, creation order;
  count defaults to 100; count > 1000, startIndex < 1 or non-numbers: 400; past the end: empty page.
- PATCH users: add/replace of userName, name.*, emails, externalId, active work; any other path (title,
  userType, enterprise manager or employeeNumber...) answers 200 and changes nothing.
- PATCH groups: add members; remove by ``members[value eq "id"]``; remove by value list; replace
  members; unknown member ids are dropped silently; remove without a value, other filters: 400; a
  non-UUID member id in an add: HTML 500. A PATCH without the PatchOp schema: 400.
- PUT is a full replace (omitted attributes cleared), validated like POST.
- DELETE /Users is soft: 204, the user stays (GET 200, listed, found by filter, still a group
  member) with active false; repeatable. DELETE /Groups is hard: 204, then 404.
- A duplicate group displayName, on create or rename: HTML 500 (sqlite UNIQUE on auth_group.name,
  case-sensitive), nothing stored.
- Errors: SCIM Error JSON with the status as a string; scimType only on 409 and invalidFilter; 401 is
  SCIM JSON; a 404 for an unknown route or a non-UUID id and every 500 are Django HTML pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.plugins.django_scim_server import DjangoScimServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def scim(django_scim_server: DjangoScimServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {django_scim_server.token}"}
    with httpx.Client(base_url=django_scim_server.url, headers=headers, timeout=10) as client:
        yield client


def create_user(scim: httpx.Client, user_name: str, **attributes: Any) -> dict[str, Any]:
    response = scim.post("/Users", json={"schemas": [USER], "userName": user_name, **attributes})
    assert response.status_code == 201, response.text
    return response.json()


def create_group(scim: httpx.Client, display_name: str, **attributes: Any) -> dict[str, Any]:
    response = scim.post("/Groups", json={"schemas": [GROUP], "displayName": display_name, **attributes})
    assert response.status_code == 201, response.text
    return response.json()


def patch(scim: httpx.Client, path: str, *operations: dict[str, Any]) -> httpx.Response:
    return scim.patch(path, json={"schemas": [PATCH_OP], "Operations": list(operations)})


def member_ids(group: dict[str, Any]) -> set[str]:
    return {member["value"] for member in group.get("members", [])}


def filtered(scim: httpx.Client, path: str, scim_filter: str) -> list[dict[str, Any]]:
    response = scim.get(path, params={"filter": scim_filter})
    assert response.status_code == 200, response.text
    return response.json()["Resources"]


def assert_html_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")


def assert_scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    """The answer is a SCIM Error; returns its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)  # a string, as RFC 7644 says
    assert body.get("scimType") == scim_type
    return str(body["detail"])


# --- discovery -----------------------------------------------------------------------------------


def test_service_provider_config_offers_patch_and_filter_only(scim):
    config = scim.get("/ServiceProviderConfig").json()

    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"] == {"supported": False, "maxOperations": 0, "maxPayloadSize": 0}
    assert config["sort"] == config["etag"] == config["changePassword"] == {"supported": False}
    assert [scheme["type"] for scheme in config["authenticationSchemes"]] == ["oauthbearertoken"]


def test_resource_types_have_no_schema_extensions(scim):
    page = scim.get("/ResourceTypes").json()

    types = {resource["id"]: resource for resource in page["Resources"]}
    assert page["totalResults"] == 2
    assert {name: (t["endpoint"], t["schema"]) for name, t in types.items()} == {
        "User": ("/Users", USER),
        "Group": ("/Groups", GROUP),
    }
    assert all("schemaExtensions" not in resource_type for resource_type in types.values())


def test_schemas_declare_only_core_user_and_group_with_a_few_attributes(scim):
    schemas = {schema["id"]: schema for schema in scim.get("/Schemas").json()["Resources"]}

    def declared(schema_id: str) -> dict[str, list[str]]:
        return {
            attribute["name"]: [sub["name"] for sub in attribute.get("subAttributes", [])]
            for attribute in schemas[schema_id]["attributes"]
        }

    assert set(schemas) == {USER, GROUP}  # no enterprise extension
    assert declared(USER) == {
        "userName": [],
        "name": ["givenName", "familyName"],
        "emails": ["value", "primary"],
        "active": [],
        "externalId": [],
    }
    assert declared(GROUP) == {"displayName": [], "members": ["value", "display"], "externalId": []}
    external_id = next(a for a in schemas[USER]["attributes"] if a["name"] == "externalId")
    assert external_id["caseExact"] is True  # yet its filter compares case-insensitively, see below


def test_single_schema_and_resource_type_urls_are_html_404(scim):
    assert_html_page(scim.get(f"/Schemas/{USER}"), 404)
    assert_html_page(scim.get("/ResourceTypes/User"), 404)


def test_a_missing_or_wrong_bearer_token_is_a_scim_401(django_scim_server):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {django_scim_server.token}"}):
        response = httpx.get(f"{django_scim_server.url}/Users", headers=headers)
        assert assert_scim_error(response, 401) == "Authentication required"


# --- creating users ------------------------------------------------------------------------------


@pytest.mark.parametrize("schemas", [[USER, ENTERPRISE], [USER]])
def test_an_enterprise_extension_in_a_create_is_refused_as_extra_forbidden(scim, django_scim_server, schemas):
    body = {"schemas": schemas, "userName": "ext@acme.example", ENTERPRISE: {"employeeNumber": "7"}}

    detail = assert_scim_error(scim.post("/Users", json=body), 400)

    assert "extra_forbidden" in detail and ENTERPRISE in detail
    assert django_scim_server.users() == []


def test_the_enterprise_urn_in_schemas_alone_is_accepted(scim):
    created = create_user(scim, "urn-only@acme.example", schemas=[USER, ENTERPRISE])

    assert created["schemas"] == [USER]


def test_an_unknown_attribute_in_a_create_is_refused_as_extra_forbidden(scim):
    body = {"schemas": [USER], "userName": "vendor@acme.example", "vendorFlag": True}

    assert "vendorFlag" in assert_scim_error(scim.post("/Users", json=body), 400)


def test_core_attributes_it_has_no_column_for_are_accepted_and_dropped(scim):
    created = create_user(
        scim,
        "ada@acme.example",
        externalId="personio:1",
        title="CTO",
        userType="Internal",
        preferredLanguage="de",
        displayName="Ada Lovelace",
        name={"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
        emails=[
            {"value": "ada@acme.example", "type": "work", "primary": True},
            {"value": "ada@home.example", "type": "home"},
        ],
    )

    stored = scim.get(f"/Users/{created['id']}").json()
    assert stored == created
    assert {key for key in stored if key not in {"schemas", "id", "meta"}} == {
        "userName",
        "externalId",
        "name",
        "active",
        "emails",
    }
    assert stored["name"] == {"givenName": "Ada", "familyName": "Lovelace"}
    assert stored["emails"] == [{"value": "ada@acme.example", "primary": True}]  # first only, type dropped


def test_a_user_without_name_or_email_reads_back_with_empty_name_parts_and_no_emails(scim):
    created = create_user(scim, "bare@acme.example", active=False)

    assert created["name"] == {"givenName": "", "familyName": ""}
    assert "emails" not in created and "externalId" not in created
    assert created["active"] is False


def test_a_created_user_has_a_meta_location_but_no_location_header(scim, django_scim_server):
    response = scim.post("/Users", json={"schemas": [USER], "userName": "loc@acme.example"})

    assert "location" not in response.headers
    assert response.json()["meta"]["location"] == f"{django_scim_server.url}/Users/{response.json()['id']}"


def test_a_taken_user_name_is_a_409_but_only_in_the_same_case(scim):
    create_user(scim, "dup@acme.example")

    detail = assert_scim_error(
        scim.post("/Users", json={"schemas": [USER], "userName": "dup@acme.example"}), 409, "uniqueness"
    )
    assert "dup@acme.example" in detail
    create_user(scim, "DUP@acme.example")  # a second user, differing in case only


# --- filters and paging --------------------------------------------------------------------------


def test_eq_filters_ignore_ascii_case_even_for_external_id(scim):
    mixed = create_user(scim, "Case@Acme.example", externalId="Personio:1")
    umlaut = create_user(scim, "umlaut@acme.example", externalId="personio:Ä")

    assert [u["id"] for u in filtered(scim, "/Users", 'externalId eq "personio:1"')] == [mixed["id"]]
    assert [u["id"] for u in filtered(scim, "/Users", 'userName eq "case@acme.EXAMPLE"')] == [mixed["id"]]
    assert filtered(scim, "/Users", 'externalId eq "personio:ä"') == []  # sqlite folds ASCII only
    assert [u["id"] for u in filtered(scim, "/Users", 'externalId eq "personio:Ä"')] == [umlaut["id"]]


def test_filters_combine_with_and_or_not(scim):
    active = create_user(scim, "on@acme.example", externalId="personio:1")
    create_user(scim, "off@acme.example", externalId="personio:2", active=False)

    found = filtered(scim, "/Users", 'externalId sw "personio:" and active eq true')

    assert [user["id"] for user in found] == [active["id"]]
    assert len(filtered(scim, "/Users", 'userName eq "on@acme.example" or userName eq "off@acme.example"')) == 2
    assert [u["id"] for u in filtered(scim, "/Users", "not (active eq false)")] == [active["id"]]


@pytest.mark.parametrize(
    ("path", "scim_filter", "detail"),
    [
        ("/Users", f'id eq "{UNKNOWN_ID}"', "Unknown attribute: id"),
        ("/Users", 'meta.lastModified gt "2020-01-01T00:00:00Z"', "Unknown attribute: meta.lastModified"),
        ("/Users", 'emails[type eq "work"].value eq "a@acme.example"', "Unexpected character at position 6"),
        ("/Users", "externalId eq personio", "Expected value, got attr"),
        ("/Groups", 'members.value eq "x"', "Unknown attribute: members.value"),
    ],
)
def test_filters_it_cannot_evaluate_are_400_invalid_filter(scim, path, scim_filter, detail):
    response = scim.get(path, params={"filter": scim_filter})

    assert assert_scim_error(response, 400, "invalidFilter") == detail


def test_pages_follow_start_index_and_count(scim):
    names = [create_user(scim, f"user{i}@acme.example")["userName"] for i in range(5)]

    page = scim.get("/Users", params={"startIndex": 2, "count": 2}).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [user["userName"] for user in page["Resources"]] == names[1:3]  # creation order
    past_the_end = scim.get("/Users", params={"startIndex": 9}).json()
    assert (past_the_end["totalResults"], past_the_end["itemsPerPage"], past_the_end["Resources"]) == (5, 0, [])
    empty = scim.get("/Users", params={"count": 0}).json()
    assert (empty["totalResults"], empty["Resources"]) == (5, [])
    assert scim.get("/Users", params={"count": 1000}).status_code == 200  # above the declared maxResults of 200


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"count": 1001}, "count must be <= 1000"),
        ({"startIndex": 0}, "startIndex must be >= 1"),
        ({"count": "ten"}, "startIndex and count must be integers"),
    ],
)
def test_paging_parameters_out_of_range_are_400(scim, params, detail):
    assert assert_scim_error(scim.get("/Users", params=params), 400) == detail


# --- changing users ------------------------------------------------------------------------------


def test_patch_changes_core_attributes_it_has_columns_for(scim):
    user = create_user(scim, "old@acme.example", externalId="personio:1", name={"givenName": "Old"})

    response = patch(
        scim,
        f"/Users/{user['id']}",
        {"op": "replace", "path": "userName", "value": "new@acme.example"},
        {"op": "replace", "path": "name.givenName", "value": "New"},
        {"op": "replace", "path": "emails", "value": [{"value": "new@acme.example", "type": "work", "primary": True}]},
        {"op": "replace", "path": "externalId", "value": "personio:2"},
        {"op": "replace", "path": "active", "value": False},
    )

    assert response.status_code == 200
    stored = scim.get(f"/Users/{user['id']}").json()
    assert (stored["userName"], stored["name"]["givenName"], stored["externalId"], stored["active"]) == (
        "new@acme.example",
        "New",
        "personio:2",
        False,
    )
    assert stored["emails"] == [{"value": "new@acme.example", "primary": True}]


def test_patch_of_paths_it_does_not_know_answers_200_and_changes_nothing(scim):
    user = create_user(scim, "quiet@acme.example")
    manager = create_user(scim, "boss@acme.example")

    response = patch(
        scim,
        f"/Users/{user['id']}",
        {"op": "replace", "path": "title", "value": "CTO"},
        {"op": "replace", "path": "userType", "value": "Internal"},
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": manager["id"]}},
        {"op": "replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "7"},
        {"op": "remove", "path": "preferredLanguage"},
    )

    assert response.status_code == 200
    stored = scim.get(f"/Users/{user['id']}").json()
    assert {key: value for key, value in stored.items() if key != "meta"} == {
        key: value for key, value in user.items() if key != "meta"
    }


def test_patch_to_a_taken_user_name_is_an_html_500(scim):
    create_user(scim, "taken@acme.example")
    user = create_user(scim, "free@acme.example")

    response = patch(scim, f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": "taken@acme.example"})

    assert_html_page(response, 500)
    assert scim.get(f"/Users/{user['id']}").json()["userName"] == "free@acme.example"


def test_patch_without_the_patch_op_schema_is_400(scim):
    user = create_user(scim, "schema@acme.example")

    response = scim.patch(
        f"/Users/{user['id']}", json={"Operations": [{"op": "replace", "path": "active", "value": False}]}
    )

    assert assert_scim_error(response, 400) == "PatchOp schema required"


def test_put_replaces_the_whole_user(scim):
    user = create_user(
        scim,
        "put@acme.example",
        externalId="personio:1",
        name={"givenName": "A", "familyName": "B"},
        emails=[{"value": "put@acme.example"}],
    )

    response = scim.put(f"/Users/{user['id']}", json={"schemas": [USER], "userName": "put@acme.example"})

    assert response.status_code == 200
    stored = scim.get(f"/Users/{user['id']}").json()
    assert "externalId" not in stored and "emails" not in stored
    assert stored["name"] == {"givenName": "", "familyName": ""}


def test_put_with_the_enterprise_extension_is_refused_like_a_create(scim):
    user = create_user(scim, "putext@acme.example")
    body = {"schemas": [USER, ENTERPRISE], "userName": "putext@acme.example", ENTERPRISE: {"department": "R&D"}}

    assert "extra_forbidden" in assert_scim_error(scim.put(f"/Users/{user['id']}", json=body), 400)


def test_deleting_a_user_only_deactivates_it(scim):
    user = create_user(scim, "gone@acme.example", externalId="personio:1")
    group = create_group(scim, "Team", members=[{"value": user["id"]}])

    assert scim.delete(f"/Users/{user['id']}").status_code == 204

    stored = scim.get(f"/Users/{user['id']}")
    assert stored.status_code == 200 and stored.json()["active"] is False
    assert [u["id"] for u in scim.get("/Users").json()["Resources"]] == [user["id"]]
    assert member_ids(scim.get(f"/Groups/{group['id']}").json()) == {user["id"]}
    assert [u["id"] for u in filtered(scim, "/Users", 'externalId eq "personio:1"')] == [user["id"]]
    assert scim.delete(f"/Users/{user['id']}").status_code == 204  # again: still there to "delete"


def test_unknown_ids_are_scim_404_but_a_malformed_id_is_an_html_404(scim):
    assert assert_scim_error(scim.get(f"/Users/{UNKNOWN_ID}"), 404) == f"User {UNKNOWN_ID} not found"
    assert assert_scim_error(scim.delete(f"/Groups/{UNKNOWN_ID}"), 404) == f"Group {UNKNOWN_ID} not found"
    assert_html_page(scim.get("/Users/not-a-uuid"), 404)


# --- groups --------------------------------------------------------------------------------------


def test_a_duplicate_group_display_name_is_an_html_500_and_nothing_is_stored(scim, django_scim_server):
    create_group(scim, "Felix Böhm's Team", externalId="personio:supervisor:1007")

    response = scim.post(
        "/Groups",
        json={"schemas": [GROUP], "displayName": "Felix Böhm's Team", "externalId": "personio:supervisor:1008"},
    )

    assert_html_page(response, 500)
    assert [g["externalId"] for g in django_scim_server.groups()] == ["personio:supervisor:1007"]
    create_group(scim, "felix böhm's team")  # the name is unique case-sensitively


def test_renaming_a_group_to_a_taken_name_is_an_html_500(scim):
    create_group(scim, "Sales")
    group = create_group(scim, "Marketing")

    response = patch(scim, f"/Groups/{group['id']}", {"op": "replace", "path": "displayName", "value": "Sales"})

    assert_html_page(response, 500)
    assert scim.get(f"/Groups/{group['id']}").json()["displayName"] == "Marketing"


def test_group_members_are_listed_with_their_user_name_as_display_and_no_type(scim):
    user = create_user(scim, "member@acme.example")

    group = create_group(scim, "Team", members=[{"value": user["id"], "type": "User"}, {"value": UNKNOWN_ID}])

    assert group["members"] == [{"value": user["id"], "display": "member@acme.example"}]  # unknown id dropped


def test_member_patch_forms(scim):
    a, b, c, d = (create_user(scim, f"{name}@acme.example")["id"] for name in "abcd")
    group = create_group(scim, "Team", members=[{"value": a}])
    path = f"/Groups/{group['id']}"

    def members_after(*operations: dict[str, Any]) -> set[str]:
        response = patch(scim, path, *operations)
        assert response.status_code == 200, response.text
        return member_ids(scim.get(path).json())

    assert members_after({"op": "add", "path": "members", "value": [{"value": b, "type": "User"}, {"value": c}]}) == {
        a,
        b,
        c,
    }
    assert members_after({"op": "remove", "path": f'members[value eq "{b}"]'}) == {a, c}
    assert members_after({"op": "remove", "path": "members", "value": [{"value": c}]}) == {a}
    assert members_after({"op": "replace", "path": "members", "value": [{"value": d}]}) == {d}
    assert members_after({"op": "remove", "path": f'members[value eq "{UNKNOWN_ID}"]'}) == {d}
    assert members_after({"op": "add", "path": "members", "value": [{"value": d}]}) == {d}  # adding twice is fine


@pytest.mark.parametrize(
    ("operation", "detail"),
    [
        ({"op": "remove", "path": "members"}, "members value must be a list"),
        ({"op": "remove", "path": 'members[value eq "not-a-uuid"]'}, "Cannot parse member filter"),
        ({"op": "remove", "path": 'members[display eq "a"]'}, "Cannot parse member filter"),
        (
            {"op": "replace", "path": 'members[value eq "x"]', "value": []},
            'Unsupported PATCH path: members[value eq "x"]',
        ),
    ],
)
def test_member_patches_it_cannot_apply_are_400(scim, operation, detail):
    group = create_group(scim, "Team")

    assert assert_scim_error(patch(scim, f"/Groups/{group['id']}", operation), 400) == detail


def test_a_malformed_member_id_in_an_add_is_an_html_500(scim):
    group = create_group(scim, "Team")

    response = patch(
        scim, f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": "not-a-uuid"}]}
    )

    assert_html_page(response, 500)


def test_group_filters_by_external_id_and_display_name_ignore_case(scim):
    group = create_group(scim, "Team Berlin", externalId="personio:team:1")

    assert [g["id"] for g in filtered(scim, "/Groups", 'externalId eq "PERSONIO:TEAM:1"')] == [group["id"]]
    assert [g["id"] for g in filtered(scim, "/Groups", 'displayName eq "team berlin"')] == [group["id"]]


def test_put_replaces_a_group_with_its_members(scim):
    a, b = (create_user(scim, f"{name}@acme.example")["id"] for name in "ab")
    group = create_group(scim, "Team", externalId="personio:team:1", members=[{"value": a}])

    response = scim.put(
        f"/Groups/{group['id']}", json={"schemas": [GROUP], "displayName": "Team 2", "members": [{"value": b}]}
    )

    assert response.status_code == 200
    stored = scim.get(f"/Groups/{group['id']}").json()
    assert (stored["displayName"], member_ids(stored), "externalId" in stored) == ("Team 2", {b}, False)


def test_deleting_a_group_removes_it(scim):
    group = create_group(scim, "Doomed")

    response = scim.delete(f"/Groups/{group['id']}")

    assert (response.status_code, response.content) == (204, b"")
    assert_scim_error(scim.get(f"/Groups/{group['id']}"), 404)
    assert_scim_error(scim.delete(f"/Groups/{group['id']}"), 404)


# --- errors --------------------------------------------------------------------------------------


def test_malformed_json_is_a_scim_400(scim):
    response = scim.post("/Users", content=b"{nope", headers={"Content-Type": "application/scim+json"})

    assert assert_scim_error(response, 400) == "Invalid JSON in request body"


def test_an_unknown_route_is_an_html_404(scim):
    assert_html_page(scim.get("/Me"), 404)
    assert_html_page(scim.get("/Bulk"), 404)
