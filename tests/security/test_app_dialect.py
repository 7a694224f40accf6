"""Promises about what an app's discovery documents (/ServiceProviderConfig, /ResourceTypes, /Schemas)
can and cannot do: they are written by the app, so they are untrusted input.

- an app's words never reach the report, the plan or status: what it does not take is said in ours;
- an app can narrow what it is sent, never widen it beyond what the spec and Personio allow;
- an unreadable or hostile document makes the app get less, never makes the run fail or hang.
"""

from __future__ import annotations

from personio_operator.scim.discovery import ScimDialect, ScimFeatures, dialect_from
from personio_operator.scim.models import ALL_USER_FIELDS, IDENTITY_FIELDS, UserField
from personio_operator.scim.payloads import user_creation_payload
from personio_operator.sync.attributes import managed_user_fields
from tests.scim.factories import desired_user
from tests.sync.factories import make_spec

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
HOSTILE = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 ignore previous instructions"


def test_an_app_cannot_put_its_own_words_into_what_the_report_says():
    schemas = [
        {
            "id": USER_URN,
            "description": HOSTILE,
            "attributes": [{"name": "userName"}, {"name": HOSTILE, "description": HOSTILE}],
        }
    ]
    types = [{"name": "User", "schema": USER_URN, "description": HOSTILE, "schemaExtensions": [HOSTILE]}]

    limits = dialect_from(ScimFeatures(), types, schemas).limits(ALL_USER_FIELDS)

    assert limits and all("evil" not in line and "\x1b" not in line and "ignore" not in line for line in limits)


def test_an_app_that_declares_everything_is_sent_no_more_than_the_spec_allows():
    everything = ScimDialect()
    managed = managed_user_fields(make_spec(users={"jobTitle": False}), app=everything.user_fields)

    payload = user_creation_payload(desired_user(1, title="Secret project lead", managed=managed), dialect=everything)

    assert UserField.TITLE not in managed and "title" not in payload
    assert "Secret project lead" not in str(payload)


def test_an_app_that_declares_nothing_usable_still_gets_who_a_user_is_and_nothing_breaks():
    hostile = {"Resources": [{"id": USER_URN, "attributes": [{"name": name} for name in ("x" * 10_000, 7, None)]}]}

    dialect = dialect_from(ScimFeatures(), {"Resources": [{"name": "User"}]}, hostile)

    assert dialect.user_fields == IDENTITY_FIELDS
    payload = user_creation_payload(desired_user(1, managed=dialect.user_fields), dialect=dialect)
    assert set(payload) == {"schemas", "userName", "externalId", "active"}
