"""The app's dialect: read leniently from /ServiceProviderConfig, /ResourceTypes and /Schemas, and
the payloads it makes us send (conservatively: only what the app declares).

Unit tests on documents (the two servers' real shapes, and odd ones), then discovery and look-ups
over real HTTP against scim2-server and django-scim2-server.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import SecretStr

from personio_operator.scim.applier import create_or_adopt
from personio_operator.scim.client import ScimClient
from personio_operator.scim.discovery import ScimDialect, ScimFeatures, dialect_from
from personio_operator.scim.models import (
    ALL_USER_FIELDS,
    ENTERPRISE_FIELDS,
    IDENTITY_FIELDS,
    UserField,
)
from personio_operator.scim.payloads import (
    ENTERPRISE_URN,
    apply_user_changes,
    parse_user,
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.scim.plan import FieldChange
from tests.plugins.scim_server import SCIM_TOKEN
from tests.scim.factories import desired_user

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
F = UserField


def attribute(name: str, *subs: str, **facets: str) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "type": "complex" if subs else "string", **facets}
    if subs:
        found["subAttributes"] = [{"name": sub, "type": "string"} for sub in subs]
    return found


def list_response(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(resources),
        "Resources": list(resources),
    }


def user_type(*extensions: str) -> dict[str, Any]:
    found: dict[str, Any] = {"id": "User", "name": "User", "endpoint": "/Users", "schema": USER_URN}
    if extensions:
        found["schemaExtensions"] = [{"schema": urn, "required": False} for urn in extensions]
    return found


GROUP_TYPE = {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP_URN}
# django-scim2-server 1.1 (tests/scim/test_django_scim_dialect.py pins these against the real server)
CORE_ONLY_TYPES = list_response(user_type(), GROUP_TYPE)
CORE_ONLY_SCHEMAS = list_response(
    {
        "id": USER_URN,
        "attributes": [
            attribute("userName"),
            attribute("name", "givenName", "familyName"),
            attribute("emails", "value", "primary"),
            attribute("active"),
            attribute("externalId"),
        ],
    },
    {"id": GROUP_URN, "attributes": [attribute("displayName"), attribute("members", "value", "display")]},
)
FULL_CORE = {
    "id": USER_URN,
    "attributes": [
        attribute("userName"),
        attribute("name", "formatted", "familyName", "givenName"),
        attribute("displayName"),
        attribute("title"),
        attribute("userType"),
        attribute("preferredLanguage"),
        attribute("active"),
        attribute("emails", "value", "display", "type", "primary"),
        attribute("groups", "value", "display", mutability="readOnly"),
    ],
}
ENTERPRISE = {
    "id": ENTERPRISE_URN,
    "attributes": [attribute("employeeNumber"), attribute("department"), attribute("manager", "value", "$ref")],
}
CORE_ONLY_FIELDS = IDENTITY_FIELDS | {F.GIVEN_NAME, F.FAMILY_NAME, F.EMAILS}
DJANGO_LIMITS = [
    "the app does not support the enterprise extension: employee number, department and manager are not synced",
    "the app's User schema has no displayName, title, userType or preferredLanguage: display name, job title, "
    "employment type and preferred language are not synced",
]


# --- reading the documents -------------------------------------------------------------------------


def test_a_core_only_app_holds_identity_names_and_e_mail_and_says_what_it_does_not_take():
    dialect = dialect_from(ScimFeatures(), CORE_ONLY_TYPES, CORE_ONLY_SCHEMAS)

    assert dialect.user_fields == CORE_ONLY_FIELDS
    assert not dialect.enterprise_extension
    assert (dialect.email_type, dialect.email_primary, dialect.declares_active) == (False, True, True)
    assert dialect.declared_by == {"/ResourceTypes", "/Schemas"}
    assert dialect.limits(ALL_USER_FIELDS) == DJANGO_LIMITS


def test_a_full_app_holds_everything_and_has_no_limits():
    dialect = dialect_from(
        ScimFeatures(), list_response(user_type(ENTERPRISE_URN)), list_response(FULL_CORE, ENTERPRISE)
    )

    assert dialect.user_fields == ALL_USER_FIELDS
    assert dialect.enterprise_extension and dialect.email_type and dialect.email_primary
    assert dialect.limits(ALL_USER_FIELDS) == []


def test_nothing_declared_means_the_standard_dialect():
    dialect = dialect_from(ScimFeatures(), None, None)

    assert dialect == ScimDialect()
    assert dialect.user_fields == ALL_USER_FIELDS and dialect.declared_by == frozenset()


def test_the_user_resource_type_decides_the_extension_even_when_schemas_describe_it():
    dialect = dialect_from(ScimFeatures(), list_response(user_type()), list_response(FULL_CORE, ENTERPRISE))

    assert dialect.user_fields == ALL_USER_FIELDS - ENTERPRISE_FIELDS
    assert dialect.limits([F.MANAGER]) == ["the app does not support the enterprise extension: manager is not synced"]


def test_a_listed_extension_without_its_schema_is_assumed_whole():
    dialect = dialect_from(ScimFeatures(), list_response(user_type(ENTERPRISE_URN)), list_response(FULL_CORE))

    assert dialect.user_fields >= ENTERPRISE_FIELDS


def test_without_resource_types_the_extension_follows_schemas():
    partial = {"id": ENTERPRISE_URN, "attributes": [attribute("department")]}

    without = dialect_from(ScimFeatures(), None, list_response(FULL_CORE))
    with_department = dialect_from(ScimFeatures(), None, list_response(FULL_CORE, partial))

    assert not without.enterprise_extension and ENTERPRISE_FIELDS.isdisjoint(without.user_fields)
    assert with_department.user_fields & ENTERPRISE_FIELDS == {F.DEPARTMENT}
    assert with_department.limits(ALL_USER_FIELDS) == [
        "the app's enterprise extension has no employeeNumber or manager: employee number and manager are not synced"
    ]


def test_without_schemas_every_core_attribute_is_assumed():
    dialect = dialect_from(ScimFeatures(), CORE_ONLY_TYPES, None)

    assert dialect.user_fields == ALL_USER_FIELDS - ENTERPRISE_FIELDS
    assert dialect.declared_by == {"/ResourceTypes"}


def test_read_only_and_never_returned_attributes_are_not_held():
    core = copy.deepcopy(FULL_CORE)
    by_name = {a["name"]: a for a in core["attributes"]}
    by_name["title"]["mutability"] = "readOnly"
    by_name["userType"]["returned"] = "never"  # written, never shown: it would be rewritten on every run
    by_name["name"]["subAttributes"][2]["mutability"] = "readOnly"  # givenName
    by_name["emails"]["subAttributes"][2]["returned"] = "never"  # type

    dialect = dialect_from(ScimFeatures(), None, list_response(core, ENTERPRISE))

    assert dialect.user_fields == ALL_USER_FIELDS - {F.TITLE, F.USER_TYPE, F.GIVEN_NAME}
    assert not dialect.email_type


def test_an_app_without_active_is_said_to_ignore_deactivations_but_active_is_still_sent():
    core = {"id": USER_URN, "attributes": [attribute("userName"), attribute("name", "givenName")]}

    dialect = dialect_from(ScimFeatures(), list_response(user_type()), list_response(core))

    assert F.ACTIVE in dialect.user_fields and not dialect.declares_active
    assert "the app's User schema has no active: deactivations may not take effect in the app" in dialect.limits([])


def test_limits_name_only_the_attributes_that_would_be_synced():
    dialect = dialect_from(ScimFeatures(), CORE_ONLY_TYPES, CORE_ONLY_SCHEMAS)

    assert dialect.limits(IDENTITY_FIELDS | {F.TITLE}) == [
        "the app's User schema has no title: job title is not synced"
    ]
    assert dialect.limits(CORE_ONLY_FIELDS) == []


@pytest.mark.parametrize(
    ("resource_types", "schemas"),
    [
        pytest.param([user_type()], CORE_ONLY_SCHEMAS["Resources"], id="bare JSON arrays"),
        pytest.param(user_type(), CORE_ONLY_SCHEMAS["Resources"][0], id="single resources"),
        pytest.param(
            {"resources": [{"SCHEMA": USER_URN.upper(), "schemaExtensions": []}]},
            {
                "RESOURCES": [
                    {
                        "ID": USER_URN.upper(),
                        "Attributes": [
                            {"NAME": "USERNAME"},
                            {"name": "Name", "SubAttributes": [{"name": "GIVENNAME"}, {"name": "familyname"}]},
                            {"name": "emails", "subAttributes": [{"name": "Value"}, {"name": "PRIMARY"}]},
                            {"name": "ACTIVE", "mutability": "READWRITE"},
                        ],
                    }
                ]
            },
            id="names, keys and URNs in any case",
        ),
        pytest.param(
            {"Resources": ["junk", 7, None, {"name": "User", "schemaExtensions": "not a list"}]},
            {
                "Resources": [
                    None,
                    {"id": USER_URN, "attributes": [*CORE_ONLY_SCHEMAS["Resources"][0]["attributes"], 5]},
                ]
            },
            id="junk entries between the real ones",
        ),
    ],
)
def test_odd_documents_are_read_leniently(resource_types, schemas):
    dialect = dialect_from(ScimFeatures(), resource_types, schemas)

    assert dialect.user_fields == CORE_ONLY_FIELDS
    assert not dialect.enterprise_extension and not dialect.email_type


@pytest.mark.parametrize(
    "document",
    [None, "", "<html>404</html>", 42, [], {}, {"Resources": "nope"}, {"Resources": [{"id": 7}]}, [[1, 2]]],
)
def test_unreadable_documents_count_as_not_declared(document):
    assert dialect_from(ScimFeatures(), document, document) == ScimDialect()


def test_a_schema_without_an_attribute_list_is_assumed_to_have_the_standard_attributes():
    dialect = dialect_from(ScimFeatures(), None, list_response({"id": USER_URN, "attributes": "many"}))

    assert dialect.user_fields == ALL_USER_FIELDS - ENTERPRISE_FIELDS


def test_huge_documents_are_looked_at_only_so_far():
    padding = [attribute(f"vendor{i}") for i in range(100_000)]
    schemas = list_response({"id": USER_URN, "attributes": [attribute("userName"), *padding, attribute("title")]})
    types = list_response(*[{"name": f"Thing{i}"} for i in range(10_000)], user_type(ENTERPRISE_URN))

    dialect = dialect_from(ScimFeatures(), types, schemas)

    assert F.TITLE not in dialect.user_fields  # beyond the bound: not declared, so not sent
    assert dialect.declared_by == {"/Schemas"}  # the User type came too late to be seen


# --- payloads per dialect --------------------------------------------------------------------------

CORE_ONLY = dialect_from(ScimFeatures(), CORE_ONLY_TYPES, CORE_ONLY_SCHEMAS)


def test_a_core_only_app_is_sent_core_attributes_only():
    wanted = desired_user(1, managed=CORE_ONLY.user_fields)

    payload = user_creation_payload(wanted, manager_id="m1", dialect=CORE_ONLY)

    assert payload == {
        "schemas": [USER_URN],
        "userName": "person1@acme.example",
        "externalId": "personio:1",
        "name": {"givenName": "Given1", "familyName": "Family1"},
        "emails": [{"value": "person1@acme.example", "primary": True}],
        "active": True,
    }


def test_the_full_dialect_is_sent_everything_it_declares():
    payload = user_creation_payload(desired_user(1), manager_id="m1", dialect=ScimDialect())

    assert payload["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert payload[ENTERPRISE_URN] == {"employeeNumber": "1", "department": "Engineering", "manager": {"value": "m1"}}
    assert {"title", "userType", "preferredLanguage", "displayName"} <= set(payload)
    assert payload["emails"] == [{"value": "person1@acme.example", "type": "work", "primary": True}]


def test_an_app_without_name_gets_no_name():
    managed = IDENTITY_FIELDS | {F.EMAILS}

    payload = user_creation_payload(desired_user(1, managed=managed), dialect=CORE_ONLY)

    assert set(payload) == {"schemas", "userName", "externalId", "emails", "active"}
    assert parse_user({**payload, "id": "x"}).user_name == "person1@acme.example"


def test_e_mail_changes_take_the_form_the_app_declares():
    change = FieldChange(field=F.EMAILS, old="a@acme.example", new="b@acme.example")

    patch = user_patch_payload([change], dialect=CORE_ONLY)
    put = apply_user_changes({"userName": "b@acme.example", "emails": []}, [change], dialect=CORE_ONLY)

    assert patch["Operations"] == [
        {"op": "replace", "path": "emails", "value": [{"value": "b@acme.example", "primary": True}]}
    ]
    assert put["emails"] == [{"value": "b@acme.example", "primary": True}]
    assert user_patch_payload([change])["Operations"][0]["value"][0]["type"] == "work"


# --- over real HTTP ---------------------------------------------------------------------------------


async def discovered(url: str, token: str) -> ScimDialect:
    async with ScimClient(url, SecretStr(token), timeout=5.0, budget_seconds=10.0) as client:
        return await client.discover()


async def test_discovery_reads_what_scim2_server_declares(scim_server):
    dialect = await discovered(scim_server.url, SCIM_TOKEN)

    assert dialect.user_fields == ALL_USER_FIELDS and dialect.enterprise_extension
    assert dialect.declared_by == {"/ResourceTypes", "/Schemas"}
    assert dialect.features.page_size == 1000


async def test_discovery_reads_what_django_scim2_server_declares(django_scim_server):
    dialect = await discovered(django_scim_server.url, django_scim_server.token)

    assert dialect.user_fields == CORE_ONLY_FIELDS and not dialect.enterprise_extension
    assert dialect.features.page_size == 200  # its filter.maxResults
    assert dialect.limits(ALL_USER_FIELDS) == DJANGO_LIMITS


@pytest.mark.parametrize("status", [404, 501, 400, 405])
async def test_an_app_without_discovery_documents_gets_the_standard_dialect(scim_server, status):
    for path in ("/ResourceTypes", "/Schemas"):
        scim_server.faults.add(method="GET", path=path, status=status, times=None)

    dialect = await discovered(scim_server.url, SCIM_TOKEN)

    assert dialect.user_fields == ALL_USER_FIELDS and dialect.declared_by == frozenset()
    assert dialect.features.discovered  # the ServiceProviderConfig was still read


async def test_a_missing_schemas_endpoint_keeps_what_resource_types_say(scim_server):
    scim_server.faults.add(method="GET", path="/Schemas", status=404, times=None)

    dialect = await discovered(scim_server.url, SCIM_TOKEN)

    assert dialect.declared_by == {"/ResourceTypes"} and dialect.enterprise_extension


@pytest.mark.parametrize("app_name", ["scim_server", "django_scim_server"])
@pytest.mark.parametrize("asked", ["Müller@bücher.example", "müller@xn--bcher-kva.example", "MÜLLER@BÜCHER.EXAMPLE"])
async def test_find_users_finds_an_address_in_either_spelling_of_its_domain(request, app_name, asked):
    app = request.getfixturevalue(app_name)
    stored = app.add_user("müller@xn--bcher-kva.example")
    app.add_user("mueller@buecher.example")

    async with ScimClient(app.url, SecretStr(app.token), timeout=5.0, budget_seconds=10.0) as client:
        await client.discover()
        found = await client.find_users(user_name=asked)

    assert [user.id for user in found] == [stored["id"]]


async def test_find_users_without_filters_matches_the_same_way(scim_server_factory):
    server = scim_server_factory(config={"filter": {"supported": False}})
    stored = server.add_user("müller@bücher.example")

    async with ScimClient(server.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=10.0) as client:
        await client.discover()
        found = await client.find_users(user_name="Müller@xn--bcher-kva.example")

    assert [user.id for user in found] == [stored["id"]]
    assert server.count("GET", "/Users") == 1 and "filter" not in server.requests[-1].query


async def test_a_conflicting_create_on_a_core_only_app_adopts_with_core_attributes_only(django_scim_server):
    hand_made = django_scim_server.add_user("person1@acme.example", given_name="Old", family_name="Name")
    wanted = desired_user(1, managed=CORE_ONLY_FIELDS)

    async with ScimClient(django_scim_server.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=10.0) as client:
        await client.discover()
        adopted = await create_or_adopt(client, wanted)

    assert (adopted.id, adopted.external_id) == (hand_made["id"], "personio:1")
    patches = [r.body.decode() for r in django_scim_server.requests if r.method == "PATCH"]
    assert len(patches) == 1 and "Given1" in patches[0]
    assert all(word not in patches[0] for word in ("title", "userType", ENTERPRISE_URN, '"type"'))


async def test_discovery_documents_kept_from_the_token_are_not_declared_and_the_run_goes_on(scim_server):
    for path in ("/ResourceTypes", "/Schemas"):
        scim_server.faults.add(method="GET", path=path, status=403, times=None)

    async with ScimClient(scim_server.url, SecretStr(SCIM_TOKEN), timeout=5.0, budget_seconds=10.0) as client:
        dialect = await client.discover()
        state = await client.read_state()

    assert dialect.declared_by == frozenset() and state.users == []
