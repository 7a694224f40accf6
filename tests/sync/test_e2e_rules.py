"""The user rules, end to end: Personio sandbox -> runner -> real SCIM server."""

from tests.sync.harness import ENTERPRISE_SCHEMA, Harness


async def test_first_run_creates_every_in_scope_person_with_the_seed_fields(harness: Harness) -> None:
    report = await harness.sync()
    expected = harness.in_scope_ids()
    assert harness.active_ids() == expected == set(harness.users())
    assert report.users.created == len(expected)

    person = harness.company.person(1003)
    user = harness.users()["1003"]
    assert user["userName"] == person.email
    assert user["name"] == {"givenName": person.first_name, "familyName": person.last_name}
    assert user["emails"][0]["value"] == person.email
    assert user["title"] == person.current.position
    assert user["userType"] == "Internal"
    assert user["preferredLanguage"] == "de"
    assert user[ENTERPRISE_SCHEMA]["employeeNumber"] == "1003"
    assert user[ENTERPRISE_SCHEMA]["department"] == harness.company.departments[person.current.department_id].name


async def test_onboarding_and_leave_get_active_accounts_inactive_and_external_do_not(harness: Harness) -> None:
    await harness.sync()
    statuses = {str(p.id): (p.current.status, p.current.type) for p in harness.company.persons()}
    active = harness.active_ids()
    assert {pid for pid in active if statuses[pid][0] in {"ONBOARDING", "LEAVE"}}, "the sample has both"
    assert not {pid for pid, (status, kind) in statuses.items() if status == "INACTIVE" or kind == "EXTERNAL"} & active


async def test_external_staff_only_with_include_external(harness: Harness) -> None:
    await harness.sync()
    externals = {str(p.id) for p in harness.company.persons() if p.current.type == "EXTERNAL"}
    assert not externals & set(harness.users())
    await harness.sync(rules={"includeExternal": True})
    assert harness.active_ids() == harness.in_scope_ids(include_external=True)
    added = harness.in_scope_ids(include_external=True) - harness.in_scope_ids()
    assert added and all(harness.users()[pid]["userType"] == "External" for pid in added)


async def test_job_title_only_with_users_job_title(harness: Harness) -> None:
    await harness.sync(users={"jobTitle": False})
    assert not any("title" in user for user in harness.users().values())
    await harness.sync()
    assert harness.users()["1003"]["title"] == harness.company.person(1003).current.position


async def test_leave_policy_deactivate(harness: Harness) -> None:
    await harness.sync()
    on_leave = {str(p.id) for p in harness.company.persons() if p.current.status == "LEAVE"}
    assert on_leave <= harness.active_ids()
    report = await harness.sync(rules={"onLeave": "Deactivate"}, safety={"maxDeactivations": "5"})
    assert not on_leave & harness.active_ids()
    assert report.users.deactivated == len(on_leave)


async def test_default_language_is_set_on_create_only(harness: Harness) -> None:
    await harness.sync()
    harness.patch_user_in_app("1002", "preferredLanguage", "fr")  # the user picked their own language
    harness.company.change_position(1002, "Chief of Staff")  # so the next run does update this user
    hire = harness.company.hire(first_name="Neu", last_name="Person", email="neu.person@sandbox-gmbh.example.com")

    await harness.sync(defaultLanguage="en")
    users = harness.users()
    assert users["1002"]["preferredLanguage"] == "fr"
    assert users["1002"]["title"] == "Chief of Staff"
    assert users["1003"]["preferredLanguage"] == "de"
    assert users[str(hire)]["preferredLanguage"] == "en"


async def test_leaver_is_deactivated_and_a_rehire_reactivates_the_same_user_with_a_new_email(harness: Harness) -> None:
    await harness.sync()
    before = harness.users()["1025"]

    harness.company.terminate(1025)
    report = await harness.sync()
    assert harness.users()["1025"]["active"] is False
    assert report.users.deactivated == 1
    (deactivation,) = [o for o in report.objects if o.action == "deactivate"]
    assert deactivation.key == "personio:1025" and deactivation.ok

    harness.company.rehire(1025)
    harness.company.change_email(1025, "jose.krause.neu@sandbox-gmbh.example.com")
    report = await harness.sync()
    after = harness.users()["1025"]
    assert after["id"] == before["id"]
    assert after["active"] is True
    assert after["userName"] == "jose.krause.neu@sandbox-gmbh.example.com"
    assert report.users.reactivated == 1 and report.users.created == 0
    assert len([u for u in harness.app.users() if u.get("externalId") == "personio:1025"]) == 1


async def test_people_gone_from_personio_or_out_of_scope_are_deactivated_never_deleted(harness: Harness) -> None:
    await harness.sync()
    harness.company.remove(1021)
    harness.company.change_employment_type(1020, "EXTERNAL")
    report = await harness.run(dry_run=True)
    assert "no longer in Personio" in report.plan_text
    assert "out of scope (external" in report.plan_text
    await harness.sync()
    users = harness.users()
    assert users["1021"]["active"] is False and users["1020"]["active"] is False


async def test_existing_app_user_with_the_same_email_is_adopted_not_duplicated(harness: Harness) -> None:
    email = harness.company.person(1003).email
    harness.app.add_user(user_name=email.upper(), given_name="Old", family_name="Name")
    report = await harness.sync()
    same_name = [u for u in harness.app.users() if u["userName"].lower() == email]
    assert len(same_name) == 1 and same_name[0]["externalId"] == "personio:1003"
    assert report.users.updated >= 1
