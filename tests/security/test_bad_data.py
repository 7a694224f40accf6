"""Hostile HR data, over real HTTP (the Personio sandbox with a fixture company, scim2-server as the app).

Promises:
- An e-mail the app could not be sent (``a..b@``, ``a@b``, a trailing dot, ``localhost``, an IP
  literal, ``<script>``, NUL, zero-width and bidi characters) holds that one person with a warning
  that says what to fix in Personio; everyone else is synced, the leaver is deactivated, and the
  run succeeds. No ValidationError anywhere.
- One mailbox is one user, however Personio or the app spell its domain (IDNA), and a rerun writes
  nothing.
- Names with zero-width joiners and non-joiners (emoji, Persian, Indic scripts) reach the app intact;
  control, bidi and zero-width characters never do; every text sent is at most 256 characters.
- Warnings, the rendered plan and the report show no terminal escapes and stay short, whatever
  the names are.
- Warnings have kinds: the summary counts them by kind and names the held people first.
- A run that crashes or is cancelled while writing reports exactly the objects written, checked
  against what the app holds, and never says that nothing was changed.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from personio_operator.api.run import RunResult, Trigger
from personio_operator.sync.render import render_report
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, company_from_dict
from personio_testkit.scim_app import ScimTestServer
from tests.plugins.scim_server import answer_nth_post_with
from tests.scim.factories import eventually
from tests.sync.harness import Harness

HOSTILE_EMAILS = {
    20: "a..b@acme-gmbh.de",
    21: "a@b",
    22: "dot@acme-gmbh.de.",
    23: "x@localhost",
    24: "a@[127.0.0.1]",
    25: "<script>@acme-gmbh.de",
    26: "nul\x00@acme-gmbh.de",
    27: "zero\u200bwidth@acme-gmbh.de",
    28: "bidi\u202eevil@acme-gmbh.de",
}
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
PERSIAN = "\u0645\u0647\u0631\u200c\u0633\u0627"  # Mehrsa, with a zero-width non-joiner
MALAYALAM = "\u0d28\u0d4d\u200d"  # a chillu written with a joiner at the end of the word
JOINERS = {"\u200c", "\u200d"}
LEAVER = 2


def person(pid: int, first: str, last: str, email: str | None, **employment: Any) -> dict[str, Any]:
    return {"id": pid, "first_name": first, "last_name": last, "email": email, "employments": [employment]}


def hostile_company() -> dict[str, Any]:
    persons = [
        person(1, "Berta", "Boss", "berta.boss@acme-gmbh.de", department_id=1, team_id=10),
        person(LEAVER, "Lea", "Leaver", "lea.leaver@acme-gmbh.de", supervisor_id=1, department_id=1),
        person(3, PERSIAN, f"Family {FAMILY}", "mehrsa@acme-gmbh.de", supervisor_id=1, department_id=2),
        person(4, MALAYALAM, "Nair", "nair@acme-gmbh.de", department_id=2, team_id=10),
        person(
            5,
            "\x1b[31mEvil\u202e\x00",
            "\u2066Name\u200b" + "n" * 600,
            "evil@acme-gmbh.de",
            position="CTO\x07\x1b]0;pwned\x07",
            department_id=2,
        ),
        person(6, "Otto", "Later", "otto@acme-gmbh.de", supervisor_id=1, department_id=1),
        person(7, "Jörg", "Müller", "müller@xn--bcher-kva.de", department_id=1),
    ]
    persons += [person(pid, f"Bad{pid}", "Address", email, department_id=1) for pid, email in HOSTILE_EMAILS.items()]
    return {
        "departments": [
            {"id": 1, "name": "Engineering"},
            {"id": 2, "name": "Ops\x1b[2J\u202e\u200b" + "o" * 1000},
        ],
        "teams": [{"id": 10, "name": "Core\x00\u2066Team"}],
        "persons": persons,
    }


@pytest.fixture
def harness(personio_sandbox: Callable, scim_server: ScimTestServer) -> Harness:
    sandbox = personio_sandbox(company=company_from_dict(hostile_company()), rate_limits=False)
    return Harness(sandbox, scim_server, users={"jobTitle": True}, teams={"department": True, "team": True})


def set_email_bypassing_personio_checks(harness: Harness, person_id: int, email: str) -> None:
    with harness.company.lock:
        harness.company.person(person_id).email = email


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def invisible(text: str) -> set[str]:
    return {char for char in text if unicodedata.category(char)[0] == "C" and char not in JOINERS}


def external_ids_in_app(app: ScimTestServer) -> set[str]:
    return {resource["externalId"] for resource in [*app.users(), *app.groups()] if resource.get("externalId")}


async def test_hostile_emails_hold_their_people_and_the_leaver_is_still_deactivated(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await harness.run()
    assert first.succeeded, first.error
    assert set(harness.users()) == {"1", "2", "3", "4", "5", "6", "7"}

    harness.company.terminate(LEAVER)
    set_email_bypassing_personio_checks(harness, 6, "otto..later@acme-gmbh.de")  # an existing account turns bad
    otto_before = harness.users()["6"]
    report = await harness.run()

    assert report.result is RunResult.SUCCEEDED, report.error  # held people are warnings, not failures
    assert harness.users()[str(LEAVER)]["active"] is False
    assert harness.users()["6"] == otto_before  # held: the account is left exactly as it is
    assert not set(map(str, HOSTILE_EMAILS)) & set(harness.users())
    for pid in [6, *HOSTILE_EMAILS]:
        (warning,) = [w for w in report.warnings if f"Person {pid} (" in w]
        assert "not a valid address" in warning and "Personio" in warning
    assert report.warning_summary.by_kind["InvalidEmail"] == len(HOSTILE_EMAILS) + 1
    assert all("valid address" in line for line in report.warning_summary.first)  # held people come first
    everything = report.model_dump_json() + "".join(record.getMessage() for record in caplog.records)
    assert "ValidationError" not in everything and "internal error" not in everything.lower()


async def test_one_mailbox_in_two_spellings_is_one_user_and_a_rerun_writes_nothing(harness: Harness) -> None:
    await harness.sync()
    assert harness.users()["7"]["userName"] == "müller@bücher.de"
    assert harness.users()["7"]["emails"][0]["value"] == "müller@bücher.de"
    harness.app.reset_requests()
    await harness.sync()
    assert harness.app.writes() == 0

    harness.company.change_email(7, "Müller@BÜCHER.DE")
    await harness.sync()
    assert harness.app.writes() == 0


async def test_an_app_user_in_punycode_is_adopted_not_duplicated(harness: Harness) -> None:
    hand_made = harness.app.add_user("müller@xn--bcher-kva.de", given_name="J", family_name="M")
    await harness.sync()
    mullers = [u for u in harness.app.users() if "bcher" in u["userName"] or "bücher" in u["userName"]]
    assert [u["id"] for u in mullers] == [hand_made["id"]]
    assert mullers[0]["externalId"] == "personio:7"
    harness.app.reset_requests()
    await harness.sync()
    assert harness.app.writes() == 0


async def test_names_with_joiners_reach_the_app_intact(harness: Harness) -> None:
    await harness.sync()
    users = harness.users()
    assert users["3"]["name"] == {"givenName": PERSIAN, "familyName": f"Family {FAMILY}"}
    assert users["4"]["name"]["givenName"] == MALAYALAM


async def test_control_characters_never_reach_the_app(harness: Harness) -> None:
    await harness.sync()
    stored = [*harness.app.users(), *harness.app.groups()]
    assert stored
    for text in strings(stored):
        assert not invisible(text), f"{text[:60]!r} reached the app"
    evil = harness.users()["5"]
    assert evil["name"]["givenName"] == "Evil" and evil["title"] == "CTO"
    assert len(evil["name"]["familyName"]) == 256 and len(evil["displayName"]) <= 256
    department = evil["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
    assert department.startswith("Opsooo") and len(department) == 256
    names = {group["displayName"] for group in harness.app.groups()}
    assert "Team CoreTeam" in names and all(len(name) <= 256 for name in names)


async def test_warnings_and_the_rendered_plan_show_no_escapes_and_stay_short(harness: Harness) -> None:
    harness.company.change_name(1, first_name="\x1b[2J\x1b]0;pwned\x07" + "A" * 10_000)
    set_email_bypassing_personio_checks(harness, 1, "")  # the boss is held and named in a warning
    report = await harness.run(dry_run=True)
    assert report.succeeded, report.error
    texts = [report.plan_text or "", render_report(report), *report.warnings, *report.warning_summary.first]
    for text in texts:
        assert "\x1b" not in text and "pwned" not in text and not invisible(text.replace("\n", ""))
    assert all(len(line) <= 1000 for text in texts for line in text.splitlines())
    (boss,) = [w for w in report.warnings if w.startswith("Person 1 (")]
    assert "AAAA" in boss and len(boss) < 400


def assert_reports_every_write(report: RunReport, app: ScimTestServer) -> None:
    """Everything reported as written is in the app, and everything in the app is reported (as written,
    or as cut short with an error that says the app may have applied it)."""
    written = [obj for obj in report.objects if obj.ok]
    assert {obj.key for obj in written} <= external_ids_in_app(app) <= {obj.key for obj in report.objects}
    for obj in report.objects:
        assert obj.ok or "may or may not have applied" in (obj.error or "")
    assert report.users.created == sum(1 for obj in written if obj.kind == "User" and obj.action == "create")
    assert report.error and "Nothing was changed" not in report.error
    assert f"It stopped after {len(written)} change" in report.error


async def test_a_crash_mid_run_reports_exactly_the_objects_written(harness: Harness) -> None:
    # An answer our JSON parser cannot read (not a SyncError): the user is stored, the run stops.
    answer_nth_post_with(harness.app, 3, b"[" * 100_000 + b"]" * 100_000)
    report = await harness.run()
    assert report.result is RunResult.FAILED
    assert_reports_every_write(report, harness.app)
    assert {obj.key for obj in report.objects} == external_ids_in_app(harness.app)  # nothing was in flight
    assert len(harness.users()) >= 3 and report.users.created >= 2
    (cut_short,) = [obj for obj in report.objects if not obj.ok]
    assert "may or may not have applied" in (cut_short.error or "")


async def test_a_cancelled_run_hands_over_a_report_of_its_writes(harness: Harness) -> None:
    stall = harness.app.faults.add(method="POST", path="/Users", delay_seconds=3, after_processing=True)
    interrupted: list[RunReport] = []
    secrets = RunSecrets(
        personio_client_id=DEFAULT_CLIENT_ID,
        personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
        scim_token=SecretStr(harness.app.token),
    )
    run = asyncio.create_task(
        run_integration(
            harness.spec(target={"scim": {"maxConcurrency": 2}}),
            secrets,
            trigger=Trigger.SCHEDULED,
            started_by="schedule",
            on_interrupted=interrupted.append,
            destinations=harness.destinations,
        )
    )
    await eventually(lambda: stall.fired == 1 and len(harness.users()) >= 2, within=20)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    (report,) = interrupted
    assert report.result is RunResult.INTERRUPTED
    assert_reports_every_write(report, harness.app)
    assert any(not obj.ok for obj in report.objects)  # the stalled create was cut short
