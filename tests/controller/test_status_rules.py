"""Status rules without a server: conditions, bounded history, pause/resume decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from personio_operator.api.run import RunResult, Trigger
from personio_operator.api.status import ConditionStatus, ConditionType, PersonioIntegrationStatus
from personio_operator.controller.decide import ActionKind, decide
from personio_operator.controller.integration import Integration, read_status
from personio_operator.controller.status import Outcome, run_finished, set_conditions
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION, Request
from personio_operator.errors import ErrorKind
from personio_operator.sync.report import RunReport
from tests.controller.objects import SPEC, integration

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
QUIET = {ActionKind.IDLE, ActionKind.REFRESH}  # nothing runs (at most the next run time is written)


def view(status: dict | None = None, *, active: bool = True, generation: int = 1, annotations=None, **spec):
    return integration(status, generation=generation, annotations=annotations, active=active, **spec)


HANDLED = {"lastScheduledSlot": "2026-11-25T04:00:00Z", "phase": "Active"}


def test_new_active_integration_activates_at_once():
    action = decide(view(), NOW, in_flight=(), secrets_check_due=False)
    assert action.kind is ActionKind.RUN
    assert action.trigger.value == "Activation"
    assert action.slot == datetime(2026, 11, 25, 4, tzinfo=UTC)


def test_schedule_due_and_not_due():
    assert decide(view(HANDLED), NOW, in_flight=(), secrets_check_due=False).kind in QUIET
    due = decide(view(HANDLED), NOW + timedelta(hours=18), in_flight=(), secrets_check_due=False)
    assert (due.kind, due.trigger.value, due.started_by) == (ActionKind.RUN, "Scheduled", "schedule")


def test_paused_only_resumes_on_spec_change_or_checks_secrets():
    paused = {**HANDLED, "pausedGeneration": 1}
    later = NOW + timedelta(days=3)
    assert decide(view(paused), later, in_flight=(), secrets_check_due=False).kind in QUIET
    assert decide(view(paused), later, in_flight=(), secrets_check_due=True).kind is ActionKind.CHECK_SECRETS
    resume = decide(view(paused, generation=2), later, in_flight=(), secrets_check_due=False)
    assert resume.kind is ActionKind.RESUME


def test_run_request_works_while_paused_and_is_ignored_while_inactive():
    request = {RUN_REQUEST_ANNOTATION: "2026-11-25T09:59:00Z by alice@acme.example"}
    paused = {**HANDLED, "pausedGeneration": 1}
    manual = decide(view(paused, annotations=request), NOW, in_flight=(), secrets_check_due=False)
    assert (manual.kind, manual.started_by) == (ActionKind.RUN, "alice@acme.example")
    inactive = decide(view(HANDLED, active=False, annotations=request), NOW, in_flight=(), secrets_check_due=False)
    assert inactive.kind is ActionKind.IGNORE_RUN_REQUEST
    handled = {**HANDLED, "lastHandledRunRequest": request[RUN_REQUEST_ANNOTATION]}
    assert decide(view(handled, annotations=request), NOW, in_flight=(), secrets_check_due=False).kind in QUIET


def test_test_request_is_allowed_while_inactive():
    request = {TEST_REQUEST_ANNOTATION: "t by bob@acme.example"}
    action = decide(
        view({"phase": "Inactive"}, active=False, annotations=request), NOW, in_flight=(), secrets_check_due=False
    )
    assert action.kind is ActionKind.TEST


def test_current_run_not_in_this_process_is_interrupted():
    running = {
        **HANDLED,
        "currentRun": {
            "id": "r1",
            "trigger": "Scheduled",
            "startedBy": "schedule",
            "startTime": "2026-11-25T04:00:00Z",
        },
    }
    assert decide(view(running), NOW, in_flight=(), secrets_check_due=False).kind is ActionKind.RECORD_INTERRUPTED
    assert decide(view(running), NOW, in_flight={"r1"}, secrets_check_due=False).kind in QUIET


def test_unusable_spec_is_reported_once_per_generation_and_nothing_runs():
    later = NOW + timedelta(days=2)  # slots are due
    report = decide(view(HANDLED, schedule="whenever"), later, in_flight=(), secrets_check_due=False)
    assert report.kind is ActionKind.REPORT_INVALID_SPEC
    assert "schedule" in report.reason
    reported = {
        **HANDLED,
        "phase": "Invalid",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "InvalidSpec",
                "message": "x",
                "lastTransitionTime": "2026-11-25T10:00:00Z",
                "observedGeneration": 1,
            }
        ],
    }
    assert decide(view(reported, schedule="whenever"), later, in_flight=(), secrets_check_due=False).kind in QUIET
    next_generation = decide(view(reported, generation=2, historyLimit=0), later, in_flight=(), secrets_check_due=False)
    assert next_generation.kind is ActionKind.REPORT_INVALID_SPEC
    assert "spec.historyLimit" in next_generation.reason
    request = {RUN_REQUEST_ANNOTATION: "2026-11-25T09:59:00Z by alice@acme.example"}
    ignored = decide(
        view(reported, schedule="whenever", annotations=request), later, in_flight=(), secrets_check_due=False
    )
    assert ignored.kind is ActionKind.IGNORE_RUN_REQUEST
    fixed = decide(view(reported, generation=2), later, in_flight=(), secrets_check_due=False)
    assert fixed.kind is ActionKind.ACCEPT_SPEC


def test_request_value_without_a_name():
    assert Request("2026-11-25T10:00:00Z").requested_by.startswith("unknown")
    assert Request("2026-11-25T10:00:00Z by  ").requested_by.startswith("unknown")


def test_condition_transition_time_moves_only_on_flips():
    first = set_conditions(
        [], [(ConditionType.READY, ConditionStatus.TRUE, "RunSucceeded", "ok")], now=NOW, generation=1
    )
    current = PersonioIntegrationStatus.model_validate({"conditions": first}).conditions
    later = NOW + timedelta(hours=1)
    same = set_conditions(
        current, [(ConditionType.READY, ConditionStatus.TRUE, "RunSucceeded", "ok again")], now=later, generation=2
    )
    flipped = set_conditions(
        current, [(ConditionType.READY, ConditionStatus.FALSE, "DataError", "bad")], now=later, generation=2
    )
    assert same[0]["lastTransitionTime"] == "2026-11-25T10:00:00Z"
    assert same[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "2026-11-25T11:00:00Z"


def _report(run_id: str, minute: int, result=RunResult.SUCCEEDED) -> RunReport:
    start = NOW + timedelta(minutes=minute)
    return RunReport(
        id=run_id,
        trigger=Trigger.MANUAL,
        started_by="x",
        started_at=start,
        completed_at=start,
        result=result,
        error=None if result is RunResult.SUCCEEDED else "boom",
        error_kind=None if result is RunResult.SUCCEEDED else ErrorKind.SAFETY,
    )


def test_history_is_newest_first_and_bounded():

    status = PersonioIntegrationStatus()
    for minute in range(5):
        patch = run_finished(
            integration(status, historyLimit=3),
            _report(f"r{minute}", minute),
            Trigger.MANUAL,
            Outcome(paused=False),
            now=NOW,
            how_to_resume="",
        )
        merged = {**status.model_dump(by_alias=True), **patch}  # a JSON merge patch: None deletes
        status = PersonioIntegrationStatus.model_validate({k: v for k, v in merged.items() if v is not None})
    assert [entry.id for entry in status.history] == ["r4", "r3", "r2"]


def test_failed_run_patch_pauses_with_reason_and_message():

    patch = run_finished(
        integration(generation=4),
        _report("r1", 0, RunResult.FAILED),
        Trigger.SCHEDULED,
        Outcome(paused=True, pause_generation=4, pause_secret_versions={"s": "7"}),
        now=NOW,
        how_to_resume="Fix it.",
    )
    assert patch["pausedGeneration"] == 4
    assert patch["phase"] == "Paused"
    conditions = {c["type"]: c for c in patch["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", "SafetyError")
    assert conditions["Paused"]["message"].endswith("Fix it.")


def test_warning_summary_is_bounded_one_line_and_most_frequent_first():
    from personio_operator.controller.status import warning_summary
    from personio_operator.sync.report import WarningSummary

    kinds = {f"Kind{i:02d}": i + 1 for i in range(15)}
    raw = WarningSummary(
        total=sum(kinds.values()),
        by_kind=kinds,
        first=[f"Person {i} (\x1b[31m{'Ω' * 5000}\r\nforged line)" for i in range(9)],
    )
    shown = warning_summary(raw)
    assert shown is not None and shown.total == raw.total
    assert [item.kind for item in shown.by_kind] == [f"Kind{i:02d}" for i in range(14, 4, -1)]
    assert len(shown.first) == 5
    assert all(len(line) <= 300 and "\x1b" not in line and "\n" not in line for line in shown.first)
    assert warning_summary(WarningSummary()) is None


def test_a_passing_test_clears_what_an_older_failing_test_left_in_status():
    from personio_operator.controller.status import dry_run_finished

    report = _report("t1", 0)
    patch = dry_run_finished(integration(), report, "r by bob")
    assert patch["lastTest"]["error"] is None  # null in a merge patch removes the older error
    assert patch["lastTest"]["warnings"] is None


def test_last_test_shows_what_the_app_does_not_take_in_bounded_lines():
    from personio_operator.api.status import LastTest
    from personio_operator.controller.status import dry_run_finished

    limits = ["the app does not support the enterprise extension: manager is not synced"]
    limits += [f"line {i} \x1b[31m{'Ω' * 5000}\r\nforged" for i in range(9)]
    report = _report("t1", 0).model_copy(update={"app_limits": limits})

    shown = dry_run_finished(integration(), report, "r by bob")["lastTest"]["appLimits"]

    assert shown[0] == limits[0]
    assert len(shown) == 5
    assert all(len(line) <= 300 and "\x1b" not in line and "\n" not in line for line in shown)
    LastTest.model_validate({"time": NOW, "startedBy": "bob", "result": "Passed", "appLimits": shown})


def test_status_fields_that_cannot_be_read_are_left_out():
    good_entry = {
        "id": "r1",
        "trigger": "Manual",
        "startedBy": "x",
        "startTime": "2026-11-25T10:00:00Z",
        "result": "Succeeded",
    }
    status = read_status(
        {
            "history": [good_entry, {"id": 1}, "junk"],
            "conditions": "junk",
            "pausedGeneration": "one",
            "phase": "Sleeping",
            "lastHandledRunRequest": "r by bob",
        }
    )
    assert [entry.id for entry in status.history] == ["r1"]
    assert status.conditions == [] and status.paused_generation is None and status.phase is None
    assert status.last_handled_run_request == "r by bob"
    assert read_status("junk") == PersonioIntegrationStatus()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_field_names = st.sampled_from(
    ["schedule", "timeZone", "active", "historyLimit", "personio", "target", "currentRun", "history", "conditions",
     "phase", "lastScheduledSlot", "pausedGeneration", "lastTest", "generation", "annotations",
     RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION]
)  # fmt: skip
_parts = st.dictionaries(_field_names, _json, max_size=6)


@settings(max_examples=200, deadline=None)
@given(spec=_parts | _json, status=_parts | _json, metadata=_parts | _json)
def test_whatever_the_object_holds_a_decision_is_made(spec, status, metadata):
    obj = {"metadata": metadata, "spec": {**SPEC, **spec} if isinstance(spec, dict) else spec, "status": status}
    current = Integration.parse(obj)
    action = decide(current, NOW, in_flight=(), secrets_check_due=True)
    assert isinstance(action.kind, ActionKind)
    assert (current.spec_error is None) == (current.spec is not None)


# -- parse once, decide, and say when to look again --------------------------------------------------


def _applied(status: dict, patch: dict) -> dict:
    """A JSON merge patch of status (None deletes)."""
    merged = {**status, **patch}
    return {key: value for key, value in merged.items() if value is not None}


def test_between_runs_the_status_is_kept_current_and_then_left_alone():
    from personio_operator.controller.status import refreshed

    behind = view(HANDLED)
    assert decide(behind, NOW, in_flight=(), secrets_check_due=False).kind is ActionKind.REFRESH
    patch = refreshed(behind, now=NOW)
    assert patch == {
        "observedGeneration": 1,
        "nextRunTime": "2026-11-26T04:00:00Z",
        "nextRun": "2026-11-26T04:00:00Z",
    }
    assert decide(view(_applied(HANDLED, patch)), NOW, in_flight=(), secrets_check_due=False).kind is ActionKind.IDLE


def test_the_next_run_says_why_there_is_none():
    from personio_operator.controller.status import next_run_text

    assert next_run_text(view({**HANDLED, "pausedGeneration": 1}), NOW).startswith("none while paused: automatic")
    assert next_run_text(view(HANDLED, active=False), NOW) == "none while inactive: spec.active is false"
    assert next_run_text(view(HANDLED, schedule="0 4 30 2 *"), NOW).startswith("none until the spec is fixed")


def test_when_to_look_again_without_an_event():
    from personio_operator.controller.decide import next_due, watches_secrets

    assert next_due(view(HANDLED), NOW) == datetime(2026, 11, 26, 4, tzinfo=UTC)
    assert next_due(view(HANDLED, schedule="*/15 * * * *"), NOW) == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    paused = view({**HANDLED, "pausedGeneration": 1})
    assert next_due(paused, NOW) is None and watches_secrets(paused)
    assert next_due(view(HANDLED, active=False), NOW) is None and not watches_secrets(view(HANDLED, active=False))
    assert next_due(view(HANDLED, timeZone="Mars/Olympus"), NOW) is None


def test_what_earlier_versions_left_is_cleaned_up_first_and_an_object_being_deleted_is_left_alone():
    left = {"hrsync.dev/last-handled-configuration": "{}", "hrsync.dev/kopf-managed": "yes"}
    request = {RUN_REQUEST_ANNOTATION: "r by bob"}
    old = view(HANDLED, annotations={**left, **request})
    assert old.leftovers == ("hrsync.dev/kopf-managed", "hrsync.dev/last-handled-configuration")
    assert decide(old, NOW, in_flight=(), secrets_check_due=False).kind is ActionKind.CLEAN_UP
    deleting = Integration.parse(
        {"metadata": {"name": "acme", "namespace": "ns", "deletionTimestamp": "2026-11-25T09:00:00Z"}, "spec": SPEC}
    )
    assert decide(deleting, NOW + timedelta(days=1), in_flight=(), secrets_check_due=True).kind is ActionKind.IDLE


def test_secret_versions_written_as_a_map_by_earlier_versions_are_read():
    status = read_status({"pausedGeneration": 1, "pausedSecretVersions": {"personio-credentials": "7", "scim": ""}})
    assert status.paused_secret_version("personio-credentials") == "7"
    assert status.paused_secret_version("scim") == ""
    assert status.paused_secret_version("other") is None


def test_slots_missed_while_paused_are_skipped_when_the_pause_ends():
    from personio_operator.controller.status import resumed

    later = NOW + timedelta(days=2)
    paused = view({**HANDLED, "pausedGeneration": 1}, generation=2)
    patch = resumed(paused, "the spec changed", now=later)
    assert patch["lastScheduledSlot"] == "2026-11-27T04:00:00Z"
    after = view(_applied({**HANDLED, "pausedGeneration": 1}, patch), generation=2)
    assert decide(after, later, in_flight=(), secrets_check_due=False).kind is ActionKind.IDLE


def test_without_a_usable_spec_the_defaults_are_the_spec_models():
    from personio_operator.api.spec import PersonioIntegrationSpec

    broken = view(HANDLED, historyLimit=0)
    assert broken.spec is None
    assert broken.history_limit == PersonioIntegrationSpec.model_fields["history_limit"].default
    assert view(HANDLED, historyLimit=3).history_limit == 3
