"""Bad HR data never breaks a run or corrupts the app: each case is skipped or handled with a warning."""

from tests.sync.harness import Harness


def set_email_bypassing_personio_checks(harness: Harness, person_id: int, email: str) -> None:
    """Personio should keep e-mails unique; data imported around it may not be."""
    with harness.company.lock:
        harness.company.person(person_id).email = email


async def test_person_without_email_is_skipped_and_an_existing_account_left_alone(harness: Harness) -> None:
    harness.company.change_email(1002, None)
    report = await harness.sync()
    assert "1002" not in harness.users()
    assert any("Person 1002" in w and "no e-mail" in w for w in report.warnings)

    harness.company.change_email(1002, "anna.horvath@sandbox-gmbh.example.com")
    await harness.sync()
    harness.company.change_email(1002, None)
    harness.app.reset_requests()
    report = await harness.sync()
    assert harness.users()["1002"]["active"] is True
    assert harness.app.writes() == 0


async def test_two_people_with_the_same_email_are_both_skipped(harness: Harness) -> None:
    set_email_bypassing_personio_checks(harness, 1020, harness.company.person(1002).email.upper())
    report = await harness.sync()
    assert not {"1002", "1020"} & set(harness.users())
    assert any("Person 1002" in w and "Person 1020" in w and "share the e-mail" in w for w in report.warnings)
    assert len({u["userName"].lower() for u in harness.app.users()}) == len(harness.app.users())


async def test_email_that_differs_only_in_case_changes_nothing(harness: Harness) -> None:
    await harness.sync()
    harness.company.change_email(1002, "Anna.Horvath@Sandbox-GmbH.example.com")
    harness.app.reset_requests()
    await harness.sync()
    assert harness.app.writes() == 0
    assert harness.users()["1002"]["userName"] == "anna.horvath@sandbox-gmbh.example.com"


async def test_supervisor_cycle_leaves_one_link_empty(harness: Harness) -> None:
    harness.company.change_supervisor(1001, 1002)  # 1002 reports to 1001, now 1001 reports to 1002
    report = await harness.sync()
    links = {harness.manager_of("1001"), harness.manager_of("1002")}
    assert None in links and len(links) == 2
    assert any("cycle" in w for w in report.warnings)


async def test_very_long_and_non_latin_names(harness: Harness) -> None:
    harness.company.change_name(1002, first_name="Anna-" + "x" * 400)
    report = await harness.sync()
    users = harness.users()
    assert len(users["1002"]["name"]["givenName"]) == 256
    assert any("Person 1002" in w and "cut to 256" in w for w in report.warnings)
    korean = harness.company.person(1022)
    assert users["1022"]["name"] == {"givenName": korean.first_name, "familyName": korean.last_name}


async def test_invalid_email_is_skipped(harness: Harness) -> None:
    set_email_bypassing_personio_checks(harness, 1003, "ida.loessner at sandbox")
    report = await harness.sync()
    assert "1003" not in harness.users()
    assert any("Person 1003" in w and "not a valid address" in w for w in report.warnings)


async def test_second_run_writes_nothing(make_harness) -> None:
    harness = make_harness(
        teams={"supervisor": True, "team": True, "department": True, "office": True, "employmentType": True},
        rules={"includeExternal": True},
    )
    await harness.sync()
    harness.app.reset_requests()
    report = await harness.sync()
    assert harness.app.writes() == 0
    assert report.users.model_dump() == {**report.users.model_dump(), "created": 0, "updated": 0, "deactivated": 0}
    assert report.users.unchanged == len(harness.in_scope_ids(include_external=True))
    assert report.teams.created == report.teams.updated == report.teams.removed == 0
