import json
from datetime import UTC, datetime

from personio_operator.api.run import ObjectResult, RunResult, TeamCounts, Trigger, UserCounts
from personio_operator.scim.models import DesiredUser
from personio_operator.scim.plan import (
    FieldChange,
    GroupAction,
    GroupOp,
    ManagerLinkOp,
    TargetPlan,
    UserAction,
    UserOp,
)
from personio_operator.sync.render import plan_summary, render_plan, render_report, render_run_table
from personio_operator.sync.report import RunReport

ANNA = DesiredUser(
    external_id="personio:1", user_name="anna@acme.example", given_name="Anna", family_name="Li", email="a@x"
)


def sample_plan() -> TargetPlan:
    return TargetPlan(
        users=[
            UserOp(action=UserAction.CREATE, external_id="personio:1", user_name="anna@acme.example", desired=ANNA),
            UserOp(
                action=UserAction.UPDATE,
                external_id="personio:2",
                user_name="bob@acme.example",
                user_id="u2",
                changes=[FieldChange(field="title", old="Dev", new="Lead")],
            ),
            UserOp(
                action=UserAction.DEACTIVATE,
                external_id="personio:3",
                user_name="carl@acme.example",
                user_id="u3",
                reason="inactive in Personio",
            ),
        ],
        manager_links=[
            ManagerLinkOp(external_id="personio:1", user_name="anna@acme.example", manager_external_id="personio:2")
        ],
        groups=[
            GroupOp(
                action=GroupAction.RENAME,
                external_id="personio:department:9",
                display_name="Abteilung Technik",
                old_display_name="Abteilung IT",
                group_id="g",
                add_external_ids=["personio:1"],
                remove_external_ids=["personio:3"],
            ),
            GroupOp(action=GroupAction.REMOVE, external_id="personio:office:1", display_name="Büro Alt", group_id="h"),
        ],
        users_unchanged=4,
        groups_unchanged=1,
    )


def test_plan_text_reads_as_a_diff() -> None:
    names = {"personio:1": "anna@acme.example", "personio:2": "bob@acme.example", "personio:3": "carl@acme.example"}
    text = render_plan(sample_plan(), names, warnings=["Person 9 has no e-mail"])
    assert text.splitlines()[0] == (
        "Plan: users: 1 to create, 1 to update, 1 to deactivate, 0 to reactivate, 4 unchanged; "
        "teams: 0 to create, 1 to update, 1 to remove, 1 unchanged"
    )
    assert "+ create     anna@acme.example  Anna Li" in text
    assert "title: 'Dev' -> 'Lead'" in text
    assert "- deactivate carl@acme.example  inactive in Personio" in text
    assert "anna@acme.example: manager -> bob@acme.example" in text
    assert "'Abteilung IT' -> 'Abteilung Technik'  +1 (anna@acme.example)  -1 (carl@acme.example)" in text
    assert "- remove     'Büro Alt'" in text
    assert "! Person 9 has no e-mail" in text


def test_empty_plan_says_nothing_to_change() -> None:
    text = render_plan(TargetPlan(users_unchanged=3))
    assert "Nothing to change" in text
    assert plan_summary(TargetPlan(users_unchanged=3)).endswith("0 to remove, 0 unchanged")


def test_plan_json_round_trips() -> None:
    plan = sample_plan()
    assert TargetPlan.model_validate(json.loads(plan.model_dump_json())) == plan


def report(**overrides) -> RunReport:
    data = {
        "id": "abc123",
        "trigger": Trigger.SCHEDULED,
        "started_by": "schedule",
        "started_at": datetime(2026, 11, 25, 4, 0, tzinfo=UTC),
        "users": UserCounts(created=12, updated=3, deactivated=1),
        "teams": TeamCounts(created=4, removed=1),
    }
    data.update(overrides)
    return RunReport(**data)


def test_run_table_has_the_seed_columns() -> None:
    failed = report(
        id="def",
        trigger=Trigger.MANUAL,
        started_by="jane@acme.example",
        result=RunResult.FAILED,
        error="This run would deactivate 40 users, more than safety.maxDeactivations allows " + "x" * 80,
        users=UserCounts(),
        teams=TeamCounts(),
    )
    lines = render_run_table([report(), failed]).splitlines()
    assert lines[0].split("  ")[0] == "Started at"
    for column in ("Started by", "Status", "Users +/~/-/^", "Teams +/~/-", "Error"):
        assert column in lines[0]
    assert "2026-11-25 04:00:00 UTC" in lines[2] and "schedule" in lines[2] and "✓ ok" in lines[2]
    assert "12/3/1/0" in lines[2] and "4/0/1" in lines[2]
    assert "jane@acme.example" in lines[3] and "✗ failed" in lines[3] and lines[3].endswith("…")


def test_report_detail_lists_failures_and_warnings() -> None:
    text = render_report(
        report(
            objects=[ObjectResult(kind="User", action="create", key="personio:1", name="a@x", ok=False, error="409")],
            warnings=["Person 9 has no e-mail"],
        )
    )
    assert "started by   schedule (Scheduled)" in text
    assert "12 created, 3 updated, 1 deactivated" in text
    assert "User create a@x: 409" in text
    assert "! Person 9 has no e-mail" in text
