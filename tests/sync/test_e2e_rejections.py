"""Objects the app rejects, end to end (Personio sandbox -> runner -> scim2-server with faults): a few
rejections leave the run Succeeded with the objects named and are tried again by the next run (more
than a run tolerates: tests/security/test_rejections.py)."""

from __future__ import annotations

import pytest

from personio_operator.api.run import RunResult
from personio_operator.sync.render import render_report, render_run_table
from tests.sync.harness import Harness

REFUSAL = "the attribute department code is not allowed here"


async def test_a_few_rejections_leave_the_run_succeeded_and_the_next_run_writes_them(harness: Harness) -> None:
    harness.app.faults.add(method="POST", path="/Users", status=400, times=2, detail=REFUSAL, scim_type="invalidValue")
    harness.app.faults.add(method="POST", path="/Groups", status=400, times=1, detail=REFUSAL)
    in_scope = harness.in_scope_ids()

    first = await harness.run(teams={"department": True})

    assert first.result is RunResult.SUCCEEDED and first.error is None
    assert first.rejected == 3 and first.rejection_limit == 5
    rejected = first.rejected_objects
    assert [(obj.kind, obj.action) for obj in rejected].count(("User", "create")) == 2
    assert [(obj.kind, obj.action) for obj in rejected].count(("Group", "create")) == 1
    assert all(obj.http_status == 400 and REFUSAL in (obj.error or "") for obj in rejected)
    assert first.objects[:3] == rejected  # listed first
    missing = {obj.key.removeprefix("personio:") for obj in rejected if obj.kind == "User"}
    assert harness.active_ids() == in_scope - missing  # everybody else was written
    assert first.users.created == len(in_scope) - 2
    text = render_report(first)
    assert "rejected     3 object(s), a run tolerates 5; the next run tries them again:" in text
    assert all(obj.name in text for obj in rejected)
    assert "✓ ok, 3 rejected" in render_run_table([first])

    second = await harness.run(teams={"department": True})

    assert second.succeeded and second.rejected == 0
    assert second.users.created == 2 and second.teams.created == 1
    assert harness.active_ids() == in_scope
    assert {obj.key for obj in second.objects if obj.kind == "User" and obj.action == "create"} == {
        obj.key for obj in rejected if obj.kind == "User"
    }
    for obj in rejected:  # the rejected group now exists
        if obj.kind == "Group":
            assert obj.key in harness.groups()


@pytest.mark.parametrize("status", [422, 503], ids=["refused", "server-error-on-every-attempt"])
async def test_a_rejected_update_is_tried_again_by_the_next_run(harness: Harness, status: int) -> None:
    await harness.sync()
    person = min(harness.in_scope_ids())
    harness.company.change_position(int(person), "Chief Rejection Officer")
    user_id = harness.users()[person]["id"]
    harness.app.faults.add(method="PATCH", path=f"/Users/{user_id}", status=status, times=None, detail=REFUSAL)

    refused = await harness.run(users={"jobTitle": True})
    assert refused.succeeded and refused.rejected == 1
    (obj,) = refused.rejected_objects
    assert (obj.kind, obj.action, obj.key, obj.http_status) == ("User", "update", f"personio:{person}", status)
    assert harness.users()[person].get("title") != "Chief Rejection Officer"

    harness.app.faults.clear()  # the app takes it now
    accepted = await harness.run(users={"jobTitle": True})
    assert accepted.succeeded and accepted.rejected == 0
    assert harness.users()[person]["title"] == "Chief Rejection Officer"
