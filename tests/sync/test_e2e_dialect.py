"""The sync speaks each app's dialect, over real HTTP, against every SCIM server of the suite.

scim2-server declares the whole standard dialect (enterprise extension included); django-scim2-server
declares core schemas only, refuses the extension and silently drops attributes it has no column for.
Promises pinned here, on both (nothing in the product knows which server it talks to):

- the first run creates every in-scope person, sending only what the app declares;
- a rerun writes nothing (0 write requests), also after HR changes to attributes the app does not hold;
- the plan and the report say once, in words, what the app does not take; a Test does too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from personio_testkit.scim_app import ENTERPRISE_SCHEMA
from tests.sync.harness import Harness

DJANGO_LIMITS = [
    "the app does not support the enterprise extension: employee number, department and manager are not synced",
    "the app's User schema has no displayName, title, userType or preferredLanguage: display name, job title, "
    "employment type and preferred language are not synced",
]
# What each app does not take, by what it declares (test data, not product knowledge).
EXPECTED_LIMITS = {"scim_server": [], "django_scim_server": DJANGO_LIMITS}


@pytest.fixture(params=sorted(EXPECTED_LIMITS))
def app_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def harness(personio_sandbox: Callable, app_name: str, request: pytest.FixtureRequest) -> Harness:
    """30 people (seed 1), rate limits off, and an empty app of the given kind."""
    return Harness(personio_sandbox(employees=30, seed=1, rate_limits=False), request.getfixturevalue(app_name))


def created_users(harness: Harness) -> list[dict]:
    """The bodies of the POST /Users the app received."""
    return [json.loads(r.body) for r in harness.app.requests if r.method == "POST" and r.path.endswith("/Users")]


async def test_the_first_run_creates_everybody_and_a_rerun_writes_nothing(harness: Harness, app_name: str):
    expected = harness.in_scope_ids()

    first = await harness.sync()

    assert set(harness.users()) == expected
    assert (first.users.created, first.objects and all(obj.ok for obj in first.objects)) == (len(expected), True)
    sent = created_users(harness)
    assert len(sent) == len(expected)
    if app_name == "django_scim_server":
        assert all(ENTERPRISE_SCHEMA not in body and ENTERPRISE_SCHEMA not in body["schemas"] for body in sent)
        assert all({"title", "userType", "preferredLanguage", "displayName"}.isdisjoint(body) for body in sent)
        assert all(set(body["emails"][0]) == {"value", "primary"} for body in sent)  # no undeclared "type"
    else:
        assert all(body[ENTERPRISE_SCHEMA]["employeeNumber"] for body in sent)

    harness.app.reset_requests()
    second = await harness.sync()

    assert harness.app.writes() == 0
    assert (second.users.created, second.users.updated, second.users.unchanged) == (0, 0, len(expected))


async def test_hr_changes_to_attributes_the_app_does_not_hold_write_nothing(harness: Harness, app_name: str):
    await harness.sync()
    someone = int(sorted(harness.users())[3])
    harness.company.change_position(someone, "Chief Dialect Officer")
    harness.app.reset_requests()

    report = await harness.sync()

    writes = [(r.method, r.path) for r in harness.app.requests if r.method in {"POST", "PUT", "PATCH", "DELETE"}]
    if app_name == "django_scim_server":
        assert writes == []  # title is not held by this app
        assert report.users.updated == 0
    else:
        assert writes == [("PATCH", f"/Users/{harness.users()[str(someone)]['id']}")]
        assert harness.users()[str(someone)]["title"] == "Chief Dialect Officer"


async def test_the_plan_the_report_and_the_test_say_once_what_the_app_does_not_take(harness: Harness, app_name: str):
    expected = EXPECTED_LIMITS[app_name]

    test = await harness.run(dry_run=True)
    run = await harness.sync()

    for report in (test, run):
        assert report.app_limits == expected
        assert report.plan_text is not None
        for limit in expected:
            assert report.plan_text.count(limit) == 1
        assert ("Not synced" in report.plan_text) == bool(expected)


async def test_limits_name_only_what_the_spec_would_sync(harness: Harness, app_name: str):
    report = await harness.run(dry_run=True, users={"jobTitle": False})

    assert not any("job title" in limit for limit in report.app_limits)
    assert len(report.app_limits) == len(EXPECTED_LIMITS[app_name])
