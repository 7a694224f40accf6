"""The payload layer's fast path gives exactly what scim2-models gives, or leaves the payload to it.

Promises pinned here:
- every payload we build by hand equals the one scim2-models builds from the same data (users with any
  managed subset, any e-mail form the app declares, names with any characters; patches; groups), and a
  value scim2-models refuses (an invalid e-mail) is refused with scim2-models' own error;
- every app payload the fast reader takes is one scim2-models reads without error, to the same user or
  group; anything else (other spellings, string booleans, two primary e-mails, a password, a bad
  timestamp, an unknown attribute) is read by scim2-models, errors included;
- the e-mail a payload carries is pydantic's ``EmailStr`` of it, ``Name <address>`` forms included;
- a shape is trusted only after scim2-models agreed on it, and a shape it disagreed on stays with it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic.networks import validate_email

from personio_operator.scim import payloads
from personio_operator.scim import plain_payloads as plain
from personio_operator.scim.discovery import ScimDialect
from personio_operator.scim.models import DesiredUser, UserField
from personio_operator.scim.payloads import (
    ENTERPRISE_URN,
    PayloadError,
    group_creation_payload,
    members_add_payload,
    parse_group,
    parse_user,
    user_creation_payload,
    user_patch_payload,
)
from personio_operator.scim.plan import FieldChange
from personio_operator.scim.shapes import ShapeChecked, shape_of

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
# The scim2-models builders and readers the fast path is held against (they are the reference, not the product's
# entry points, hence private).
reference_user = payloads._parse_user
reference_group = payloads._parse_group
reference_creation = payloads._user_creation_payload
reference_patch = payloads._user_patch_payload

VALID_EMAILS = [
    "anna.schmidt@acme.example",
    "Anna.Schmidt@ACME.example",
    "müller@bücher.de",
    "x@xn--bcher-kva.de",
    "a+b@sub.example.org",
    " padded@acme.example ",
    "Anna Schmidt <anna@acme.example>",
    '"Schmidt, Anna" <anna@acme.example>',
]
INVALID_EMAILS = ["a@b", "a..b@example.com", "x@localhost", "not an address", "a@example.com\r\n", "<>"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(max_size=12)
maybe_texts = st.none() | texts
emails = st.sampled_from(VALID_EMAILS + INVALID_EMAILS)


@st.composite
def desired_users(draw: st.DrawFn) -> DesiredUser:
    return DesiredUser(
        external_id=f"personio:{draw(st.integers(1, 99999))}",
        user_name=draw(st.sampled_from(VALID_EMAILS)),
        given_name=draw(texts),
        family_name=draw(texts),
        email=draw(emails),
        active=draw(st.booleans()),
        title=draw(maybe_texts),
        user_type=draw(st.sampled_from([None, "Internal", "External"])),
        preferred_language=draw(st.sampled_from([None, "de", "en"])),
        employee_number=draw(maybe_texts),
        department=draw(maybe_texts),
        managed=draw(st.frozensets(st.sampled_from(list(UserField)))),
    )


dialects = st.none() | st.builds(ScimDialect, email_type=st.booleans(), email_primary=st.booleans())


def same_outcome(fast: Any, reference: Any) -> None:
    """Both give the same payload, or both refuse it."""
    try:
        expected = reference()
    except ValueError:
        with pytest.raises(ValueError):
            fast()
        return
    assert fast() == expected


@SETTINGS
@given(desired_users(), st.none() | st.text(min_size=1, max_size=8), dialects)
def test_a_created_user_is_what_scim2_models_builds(desired: DesiredUser, manager: str | None, dialect: Any) -> None:
    same_outcome(
        lambda: user_creation_payload(desired, manager_id=manager, dialect=dialect),
        lambda: reference_creation(desired, manager, dialect),
    )
    try:
        built = plain.user_creation(desired, manager, dialect)
    except ValueError:
        return
    assert built == reference_creation(desired, manager, dialect)


changes = st.lists(
    st.one_of(
        st.builds(FieldChange, field=st.just("active"), old=st.booleans(), new=st.booleans()),
        st.builds(FieldChange, field=st.just("emails"), new=st.none() | emails),
        st.builds(FieldChange, field=st.just("manager"), new=st.none() | texts),
        st.builds(
            FieldChange,
            field=st.sampled_from(
                ["externalId", "userName", "name.givenName", "name.familyName", "title", "department"]
            ),
            new=maybe_texts,
        ),
    ),
    max_size=5,
)


@SETTINGS
@given(changes, dialects)
def test_a_user_patch_is_what_scim2_models_builds(listed: list[FieldChange], dialect: Any) -> None:
    same_outcome(lambda: user_patch_payload(listed, dialect=dialect), lambda: reference_patch(listed, dialect))


@SETTINGS
@given(texts, st.lists(st.text(min_size=1, max_size=8), max_size=5))
def test_groups_and_member_changes_are_what_scim2_models_builds(name: str, members: list[str]) -> None:
    assert group_creation_payload("personio:team:1", name, members) == payloads._group_creation_payload(
        "personio:team:1", name, members
    )
    assert members_add_payload(members) == payloads._members_add_payload(members)


def test_an_invalid_address_is_refused_with_scim2_models_own_error() -> None:
    desired = DesiredUser(
        external_id="personio:1", user_name="a@acme.example", given_name="A", family_name="B", email="a@b"
    )
    with pytest.raises(ValueError) as ours:
        user_creation_payload(desired)
    with pytest.raises(ValueError) as theirs:
        reference_creation(desired, None, None)
    assert str(ours.value) == str(theirs.value)


@SETTINGS
@given(st.sampled_from(VALID_EMAILS + INVALID_EMAILS) | st.text(max_size=20))
def test_an_e_mail_value_is_pydantics_email_str(address: str) -> None:
    try:
        expected = validate_email(address)[1]
    except Exception:
        with pytest.raises(ValueError):
            plain.email_value(address)
        return
    assert plain.email_value(address) == expected


# --- reading -------------------------------------------------------------------------------------

good_timestamps = st.sampled_from(["2024-01-01T00:00:00Z", "2024-05-06T07:08:09.123+02:00"])
bad_values = st.sampled_from(["", None, 5, "False", "yesterday", "not a url", [], {}, [{"value": "a@b"}]])
odd_keys = st.sampled_from(["USERNAME", "Emails", "profileUrl", "password", "vendorFlag", "nickName", "locale"])


def plain_emails() -> st.SearchStrategy[list[dict[str, Any]]]:
    entry = st.fixed_dictionaries(
        {"value": st.sampled_from(VALID_EMAILS)},
        optional={"type": st.sampled_from(["work", "home"]), "primary": st.booleans(), "display": texts},
    )
    return st.lists(entry, max_size=3)


@st.composite
def plain_users(draw: st.DrawFn) -> dict[str, Any]:
    user: dict[str, Any] = {"schemas": [CORE_USER, ENTERPRISE_URN], "id": "u1", "userName": "ada@acme.example"}
    optional: dict[str, Any] = {
        "externalId": st.sampled_from(["personio:7", ""]),
        "active": st.booleans(),
        "name": st.fixed_dictionaries({}, optional={"givenName": texts, "familyName": texts, "formatted": texts}),
        "emails": plain_emails(),
        "displayName": texts,
        "title": texts,
        "userType": texts,
        "preferredLanguage": st.sampled_from(["de", "en"]),
        "meta": st.fixed_dictionaries(
            {"resourceType": st.just("User")}, optional={"created": good_timestamps, "lastModified": good_timestamps}
        ),
        ENTERPRISE_URN: st.fixed_dictionaries(
            {},
            optional={
                "employeeNumber": texts,
                "department": texts,
                "manager": st.fixed_dictionaries({}, optional={"value": texts, "displayName": texts, "$ref": texts}),
            },
        ),
        "groups": st.lists(st.fixed_dictionaries({"value": texts, "display": texts}), max_size=2),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            user[key] = draw(strategy)
    return user


def deviate(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """One of the deviations apps are known for: another spelling, type or value somewhere, or an extra attribute."""
    changed = dict(payload)
    where = draw(st.sampled_from([*sorted(changed, key=str), "(new key)", "(nested)"]))
    if where == "(new key)":
        changed[draw(odd_keys)] = draw(bad_values | texts)
    elif where == "(nested)":
        nested = [key for key, value in changed.items() if isinstance(value, dict) and value]
        if nested:
            key = draw(st.sampled_from(nested))
            inner = dict(changed[key])
            inner_key = draw(st.sampled_from(sorted(inner)))
            inner[draw(st.sampled_from([inner_key, inner_key.upper()]))] = draw(bad_values)
            changed[key] = inner
    else:
        changed[where] = draw(bad_values)
    return changed


@st.composite
def app_users(draw: st.DrawFn) -> dict[str, Any]:
    """Users as apps send them: mostly plain, some with a deviation or two."""
    user = draw(plain_users())
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        user = deviate(draw, user)
    return user


def read_outcome(reader: Any, payload: Any) -> Any:
    try:
        return reader(payload)
    except PayloadError as error:
        return ("refused", str(error))


@SETTINGS
@given(app_users())
def test_a_user_the_fast_reader_takes_reads_the_same_through_scim2_models(payload: dict[str, Any]) -> None:
    read = plain.read_user(payload)
    if read is not None:
        assert reference_user(payload) == read[1]
        assert read[0] == shape_of(payload), "the reader's shape follows the one definition"
    assert read_outcome(parse_user, payload) == read_outcome(reference_user, payload)


@st.composite
def app_groups(draw: st.DrawFn) -> dict[str, Any]:
    group: dict[str, Any] = {"schemas": [CORE_GROUP], "id": "g1", "displayName": draw(texts.filter(bool))}
    if draw(st.booleans()):
        group["externalId"] = draw(st.sampled_from(["personio:team:1", ""]))
    if draw(st.booleans()):
        member = st.fixed_dictionaries(
            {"value": st.sampled_from(["u1", "u2", ""])},
            optional={"type": st.sampled_from(["User", "Group"]), "$ref": texts, "display": texts},
        )
        group["members"] = draw(st.lists(member, max_size=4))
    if draw(st.booleans()):
        group["meta"] = {"resourceType": "Group", "created": draw(good_timestamps)}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        group = deviate(draw, group)
    return group


@SETTINGS
@given(app_groups())
def test_a_group_the_fast_reader_takes_reads_the_same_through_scim2_models(payload: dict[str, Any]) -> None:
    read = plain.read_group(payload)
    if read is not None:
        assert reference_group(payload) == read[1]
        assert read[0] == shape_of(payload), "the reader's shape follows the one definition"
    assert read_outcome(parse_group, payload) == read_outcome(reference_group, payload)


def test_the_plain_form_of_scim2_server_is_read_the_fast_way() -> None:
    """The control for the properties above: a plain user is not silently left to the slow path."""
    user = {
        "schemas": [CORE_USER, ENTERPRISE_URN],
        "id": "u1",
        "userName": "ada@acme.example",
        "externalId": "personio:7",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@ACME.example", "type": "work", "primary": True}],
        "active": True,
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "location": "/Users/u1"},
        ENTERPRISE_URN: {"employeeNumber": "7", "manager": {"value": "m1", "$ref": "../Users/m1"}},
    }
    read = plain.read_user(user)
    assert read is not None and read[1].email == "ada@acme.example" and read[1].manager_id == "m1"
    assert read[1] == reference_user(user)


# --- trusting a shape ----------------------------------------------------------------------------


def test_a_shape_is_trusted_once_scim2_models_agreed_and_never_when_it_did_not() -> None:
    checked: ShapeChecked[str] = ShapeChecked("test")
    asked: list[str] = []

    def reference(answer: str) -> Any:
        return lambda: asked.append(answer) or answer

    agreeing, disagreeing = shape_of({"a": "x"}), shape_of({"b": "x"})
    assert checked.result(agreeing, "same", reference("same")) == "same"
    assert checked.result(agreeing, "fast", reference("unused")) == "fast"
    assert checked.result(disagreeing, "fast", reference("library")) == "library"
    assert checked.result(disagreeing, "fast", reference("library again")) == "library again"
    assert asked == ["same", "library", "library again"]


def test_payloads_that_differ_only_in_texts_share_a_shape_and_others_do_not() -> None:
    one = {"schemas": [CORE_USER], "userName": "a", "active": True, "emails": [{"value": "x", "primary": True}]}
    other = {"schemas": [CORE_USER], "userName": "b", "active": True, "emails": [{"value": "y", "primary": True}]}
    assert shape_of(one) == shape_of(other)
    for changed in (
        {**one, "active": False},
        {**one, "userName": ""},
        {**one, "schemas": [CORE_USER, ENTERPRISE_URN]},
        {**one, "emails": [{"value": "x", "primary": True}, {"value": "z", "primary": True}]},
        {**one, "title": None},
    ):
        assert shape_of(changed) != shape_of(one)
