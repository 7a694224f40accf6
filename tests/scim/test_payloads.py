"""Payload translation and the small pure helpers (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from personio_operator.http_retry import retry_after_seconds
from personio_operator.scim.discovery import ScimFeatures, features_from_config
from personio_operator.scim.models import ALL_USER_FIELDS, UserField
from personio_operator.scim.payloads import (
    ENTERPRISE_URN,
    PayloadError,
    apply_user_changes,
    parse_list_page,
    parse_user,
    quote_filter_value,
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.scim.plan import FieldChange
from tests.scim.factories import desired_user

QUIRKY_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_URN, "urn:vendor:ext"],
    "id": "u1",
    "externalId": "personio:7",
    "userName": "ada@acme.example",
    "active": "False",
    "name": {"givenName": "Ada", "familyName": "Lovelace", "honorificSuffix": "PhD"},
    "emails": [
        {"value": "private@example.org", "type": "home"},
        {"value": "ada@acme.example", "type": "work", "primary": "True"},
    ],
    "vendorFlag": True,
    "urn:vendor:ext": {"seat": "premium"},
    ENTERPRISE_URN: {"employeeNumber": "7", "department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}},
}


def test_parse_user_ignores_unknown_attributes_and_coerces_string_booleans():
    user = parse_user(QUIRKY_USER)

    assert (user.id, user.external_id, user.active) == ("u1", "personio:7", False)
    assert (user.given_name, user.family_name, user.email) == ("Ada", "Lovelace", "ada@acme.example")
    assert (user.employee_number, user.department, user.manager_id) == ("7", "R&D", "m1")


def test_parse_user_without_user_name_is_a_clear_error():
    with pytest.raises(PayloadError, match="userName"):
        parse_user({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x"})


def test_list_page_with_numbers_as_strings():
    resources, total = parse_list_page(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": "12",
            "itemsPerPage": "100",
            "startIndex": "1",
            "Resources": [QUIRKY_USER],
        }
    )
    assert (len(resources), total) == (1, 12)


def test_creation_payload_round_trips_every_attribute():
    wanted = desired_user(3, preferred_language="en", user_type="External")

    payload = user_creation_payload(wanted, manager_id="m9")
    user = parse_user({**payload, "id": "new"})

    assert payload["preferredLanguage"] == "en"
    assert (user.user_name, user.external_id, user.email, user.title, user.user_type) == (
        wanted.user_name,
        wanted.external_id,
        wanted.email,
        wanted.title,
        "External",
    )
    assert (user.employee_number, user.department, user.manager_id, user.preferred_language) == (
        "3",
        "Engineering",
        "m9",
        "en",
    )


def test_unmanaged_title_is_not_sent_on_create():
    payload = user_creation_payload(desired_user(1, title="Ignored", managed=ALL_USER_FIELDS - {UserField.TITLE}))
    assert "title" not in payload


def test_patch_payload_replaces_values_and_removes_cleared_ones():
    payload = user_patch_payload(
        [
            FieldChange(field="active", old=True, new=False),
            FieldChange(field="manager", old="m1", new=None),
            FieldChange(field="employeeNumber", old="1", new="2"),
        ]
    )
    assert payload["Operations"] == [
        {"op": "replace", "path": "active", "value": False},
        {"op": "remove", "path": f"{ENTERPRISE_URN}:manager"},
        {"op": "replace", "path": f"{ENTERPRISE_URN}:employeeNumber", "value": "2"},
    ]


def test_put_fallback_payload_keeps_unmanaged_attributes():
    current = {**QUIRKY_USER, "meta": {"version": 'W/"3"'}}
    result = apply_user_changes(
        current,
        [FieldChange(field="name.givenName", new="Augusta"), FieldChange(field="department", new=None)],
    )
    assert result["name"] == {"givenName": "Augusta", "familyName": "Lovelace", "honorificSuffix": "PhD"}
    assert "department" not in result[ENTERPRISE_URN] and result[ENTERPRISE_URN]["employeeNumber"] == "7"
    assert result["vendorFlag"] is True and "meta" not in result
    assert QUIRKY_USER["name"]["givenName"] == "Ada"  # the input is not changed


def test_filter_values_are_quoted_and_escaped():
    assert quote_filter_value('a"b\\c') == '"a\\"b\\\\c"'


def test_retry_after_as_seconds_and_as_http_date():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_service_provider_config_drives_features_and_garbage_gives_defaults():
    features = features_from_config(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": "false"},
            "bulk": {"supported": True, "maxOperations": 50, "maxPayloadSize": 1000},
            "filter": {"supported": True, "maxResults": 200},
            "etag": {"supported": True},
            "unknownThing": 1,
        }
    )
    assert (features.patch, features.bulk, features.filter, features.etag) == (False, True, True, True)
    assert features.page_size == 200
    assert features_from_config("not json") == ScimFeatures()
    assert features_from_config({"patch": "yes please"}).discovered is False
