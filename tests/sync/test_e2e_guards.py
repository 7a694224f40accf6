"""Safety guards end to end: a failed guard means a failed run and zero writes to the app."""

from personio_operator.errors import ErrorKind
from tests.sync.harness import Harness


async def test_a_test_writes_nothing_and_reports_what_it_found(harness: Harness) -> None:
    report = await harness.run(dry_run=True)
    assert report.succeeded and report.dry_run
    assert harness.app.writes() == 0
    assert report.test.personio_reachable and report.test.target_reachable
    assert report.test.employees_fetched == len(harness.company.persons())
    assert report.users.created == len(harness.in_scope_ids())
    assert report.plan_text.startswith("Plan: users: 26 to create")
    assert report.objects == []


async def test_incomplete_fetch_fails_the_run_before_any_write(make_harness) -> None:
    harness = make_harness(employees=60)  # two pages of persons
    await harness.sync()
    harness.company.terminate(1002)
    harness.sandbox.faults.repeat_cursor(page_index=1)
    harness.app.reset_requests()
    report = await harness.run()
    assert not report.succeeded
    assert report.error_kind is ErrorKind.SAFETY
    assert "incomplete" in report.error and "nothing was changed" in report.error
    assert harness.app.writes() == 0
    assert "1002" in harness.active_ids()


async def test_silently_dropped_page_is_caught_by_the_deactivation_threshold(make_harness) -> None:
    harness = make_harness(employees=60)
    await harness.sync()
    harness.sandbox.faults.drop_page(page_index=1, keep=0)  # Personio loses 10 people without saying so
    harness.app.reset_requests()
    report = await harness.run()
    assert not report.succeeded and report.error_kind is ErrorKind.SAFETY
    assert harness.app.writes() == 0
    assert harness.active_ids() == harness.in_scope_ids()


async def test_deactivation_threshold_fails_the_run_and_says_what_to_do(harness: Harness) -> None:
    await harness.sync()
    leavers = sorted(harness.in_scope_ids())[1:6]
    for person_id in leavers:
        harness.company.terminate(int(person_id))
    harness.app.reset_requests()

    report = await harness.run()  # 10% of 26 managed users allows 2
    assert not report.succeeded and report.error_kind is ErrorKind.SAFETY
    assert "would deactivate 5 users" in report.error
    assert "10% of 26 managed users = 2" in report.error
    assert "raise safety.maxDeactivations" in report.error
    assert harness.app.writes() == 0
    assert report.users.deactivated == 0

    report = await harness.sync(safety={"maxDeactivations": "5"})
    assert report.users.deactivated == 5
    assert not set(leavers) & harness.active_ids()


async def test_threshold_is_also_reported_by_a_test(harness: Harness) -> None:
    await harness.sync()
    for person_id in sorted(harness.in_scope_ids())[1:6]:
        harness.company.terminate(int(person_id))
    report = await harness.run(dry_run=True)
    assert not report.succeeded and "maxDeactivations" in report.error
    assert report.plan_text and "to deactivate" in report.plan_text  # the plan is still shown


async def test_missing_required_attribute_fails_with_where_to_allow_it(make_harness) -> None:
    readable = {"first_name", "last_name", "email", "status", "position", "supervisor", "department"}
    harness = make_harness(sandbox_options={"whitelist": frozenset(readable)})
    report = await harness.run()
    assert not report.succeeded
    assert report.error_kind is ErrorKind.CONFIGURATION
    assert "Employment type" in report.error and "API credentials" in report.error
    assert harness.app.writes() == 0


async def test_enabled_team_attribute_missing_fails_naming_the_setting(make_harness) -> None:
    readable = {"first_name", "last_name", "email", "status", "employment_type", "position", "supervisor"}
    harness = make_harness(sandbox_options={"whitelist": frozenset(readable)}, teams={"office": True})
    report = await harness.run()
    assert not report.succeeded and report.error_kind is ErrorKind.CONFIGURATION
    assert "Office (teams.office)" in report.error
    assert harness.app.writes() == 0


async def test_wrong_scim_token_fails_clearly_without_writing_or_leaking(harness: Harness) -> None:
    from pydantic import SecretStr

    from personio_operator.api.run import Trigger
    from personio_operator.sync.runner import run_integration
    from personio_operator.sync.secrets import RunSecrets
    from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr("wrong-token-value"),
    )
    report = await run_integration(
        harness.spec(), secrets, trigger=Trigger.MANUAL, started_by="t", destinations=harness.destinations
    )
    assert not report.succeeded and report.error_kind is ErrorKind.CONFIGURATION
    dumped = report.model_dump_json()
    assert "wrong-token-value" not in dumped and DEFAULT_CLIENT_SECRET not in dumped
    assert harness.app.writes() == 0


async def test_personio_credentials_refused(harness: Harness) -> None:
    from pydantic import SecretStr

    from personio_operator.api.run import Trigger
    from personio_operator.sync.runner import run_integration
    from personio_operator.sync.secrets import RunSecrets

    secrets = RunSecrets(
        personio_client_id="nobody", personio_client_secret=SecretStr("bad-secret"), scim_token=SecretStr("x")
    )
    report = await run_integration(
        harness.spec(), secrets, trigger=Trigger.MANUAL, started_by="t", destinations=harness.destinations
    )
    assert not report.succeeded and report.error_kind is ErrorKind.CONFIGURATION
    assert "bad-secret" not in report.model_dump_json()
    assert harness.app.writes() == 0


async def test_a_fatal_error_midway_still_reports_what_was_written(harness: Harness) -> None:
    harness.app.faults.add(method="POST", path="/Groups", status=401, times=None)  # the token loses group rights
    report = await harness.run(teams={"department": True})
    assert not report.succeeded and report.error_kind is ErrorKind.CONFIGURATION
    created = len(harness.users())
    assert created == len(harness.in_scope_ids())  # users were written before groups failed
    assert report.users.created == created  # and the report says so
    assert report.teams.created == 0
    groups = [o for o in report.objects if o.kind == "Group"]
    assert groups and not any(o.ok for o in groups)  # the refused attempts are listed, none as written
    assert not harness.groups()
    written = sum(1 for o in report.objects if o.ok)
    assert f"It stopped after {written} changes written" in report.error


async def test_a_page_cut_short_below_the_threshold_is_caught_by_asking_personio(make_harness) -> None:
    """v2 pages carry no total: people left out are looked up one by one before anyone is deactivated."""
    harness = make_harness(employees=60)
    await harness.sync()
    harness.company.remove(1003)  # really gone: would be deactivated
    harness.sandbox.faults.drop_page(page_index=1, keep=8)  # two people lost without a word: under 10 %
    harness.app.reset_requests()
    report = await harness.run()
    assert not report.succeeded and report.error_kind is ErrorKind.SAFETY
    assert "list of people was incomplete" in report.error and "still exist in Personio" in report.error
    assert harness.app.writes() == 0
    assert "1003" in harness.active_ids()  # nothing at all was written, not even the real leaver

    harness.sandbox.faults.clear()
    report = await harness.run()
    assert report.succeeded and report.users.deactivated == 1
    assert "1003" not in harness.active_ids()
