"""A Test and the run after it count alike: the plan's summary, the Test's report and the run's report
come from one counting function (``TargetPlan.counts``), on a real plan with every kind of change."""

from personio_operator.api.run import TeamCounts, UserCounts
from personio_operator.sync.render import plan_summary
from tests.sync.harness import ENTERPRISE_SCHEMA, Harness


async def test_a_test_and_the_run_after_it_report_the_same_counts(harness: Harness) -> None:
    await harness.sync(teams={"department": True, "supervisor": True})
    linked = next(pid for pid in sorted(harness.users()) if harness.manager_of(pid) is not None)
    other = next(pid for pid in sorted(harness.users()) if pid not in (linked, harness.manager_of(linked)))
    users = harness.users()
    # only the manager link differs for `linked`: a user counted as updated by the link alone
    harness.patch_user_in_app(linked, f"{ENTERPRISE_SCHEMA}:manager", {"value": users[other]["id"]})
    retitled = next(pid for pid in sorted(users) if pid not in (linked, other))
    harness.patch_user_in_app(retitled, "title", "Changed by hand")
    switched_off = next(pid for pid in sorted(users) if pid not in (linked, other, retitled))
    harness.patch_user_in_app(switched_off, "active", False)
    team = sorted(harness.groups())[0]
    harness._patch(f"/Groups/{harness.groups()[team]['id']}", "replace", "displayName", "Renamed by hand")
    spec = {"teams": {"department": True}, "safety": {"maxDeactivations": "50%"}}  # supervisor teams go

    test = await harness.run(dry_run=True, **spec)
    run = await harness.sync(**spec)

    assert test.succeeded, test.error
    assert (test.users, test.teams) == (run.users, run.teams)
    assert test.plan is not None and test.plan_text is not None
    assert plan_summary(test.plan) in test.plan_text
    assert (
        f"{run.users.updated} to update, {run.users.deactivated} to deactivate, "
        f"{run.users.reactivated} to reactivate, {run.users.unchanged} unchanged"
    ) in test.plan_text
    # every kind of change is in this plan, so the agreement is not the agreement of zeros
    assert run.users == UserCounts(updated=2, reactivated=1, unchanged=run.users.unchanged)
    assert run.users.unchanged == len(harness.users()) - 3
    assert run.teams.updated >= 1 and run.teams.removed >= 1 and run.teams.unchanged >= 1
    assert run.teams == TeamCounts(updated=run.teams.updated, removed=run.teams.removed, unchanged=run.teams.unchanged)
    assert harness.manager_of(linked) is not None and harness.manager_of(linked) != other
