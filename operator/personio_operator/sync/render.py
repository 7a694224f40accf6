"""The plan and the run table as a person reads them. Machines get JSON from the models themselves
(``RunReport.model_dump_json(by_alias=True)``, ``TargetPlan.model_dump_json()``).

Every value that comes from Personio or the app (names, e-mails, team names, errors, warnings) is
shown through ``safe_text.shown``: no terminal escapes or invisible characters, and cut when long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from personio_operator.api.run import TeamCounts, UserCounts
from personio_operator.safe_text import shown
from personio_operator.scim.plan import GroupAction, GroupOp, TargetPlan, UserAction, UserOp
from personio_operator.sync.rejections import listing, object_line
from personio_operator.sync.report import RunReport

_USER_MARK = {
    UserAction.CREATE: "+",
    UserAction.ADOPT: "=",
    UserAction.UPDATE: "~",
    UserAction.DEACTIVATE: "-",
    UserAction.REACTIVATE: "^",
}
_GROUP_MARK = {GroupAction.CREATE: "+", GroupAction.RENAME: "~", GroupAction.MEMBERS: "~", GroupAction.REMOVE: "-"}
_MAX_LISTED_MEMBERS = 3
_MAX_ERROR_WIDTH = 70
_NAME_WIDTH = 80  # a userName or team name in a plan line
_LINE_LENGTH = 1000  # a warning or an error line


def plan_summary(plan: TargetPlan) -> str:
    users, groups = plan.counts()
    return (
        f"users: {users.created} to create, {users.updated} to update, {users.deactivated} to deactivate, "
        f"{users.reactivated} to reactivate, {users.unchanged} unchanged; "
        f"teams: {groups.created} to create, {groups.updated} to update, {groups.removed} to remove, "
        f"{groups.unchanged} unchanged"
    )


def render_plan(
    plan: TargetPlan,
    names: Mapping[str, str] | None = None,
    warnings: Sequence[object] = (),
    app_limits: Sequence[str] = (),
) -> str:
    """``names`` maps user externalIds to userNames so membership changes read as people;
    ``warnings`` are strings or ``RunWarning``s (shown by their text); ``app_limits`` say what the
    app does not take (``ScimDialect.limits``)."""
    names = names or {}
    lines = [f"Plan: {plan_summary(plan)}"]
    if plan.is_empty:
        lines.append("Nothing to change: the app already matches Personio.")
    if app_limits:
        lines += ["", "Not synced (what this app does not take)"]
        lines += [f"  - {shown(limit, _LINE_LENGTH)}" for limit in app_limits]
    if plan.users:
        width = max(len(shown(op.user_name, _NAME_WIDTH)) for op in plan.users)
        lines += ["", "Users", *[_user_line(op, width) for op in plan.users]]
    if plan.manager_links:
        links = []
        for link in plan.manager_links:
            manager = names.get(link.manager_external_id or "", link.manager_external_id) or "(none)"
            links.append(f"  > {shown(link.user_name, _NAME_WIDTH)}: manager -> {shown(manager, _NAME_WIDTH)}")
        lines += ["", "Manager links", *links]
    if plan.groups:
        lines += ["", "Teams", *[_group_line(op, names) for op in plan.groups]]
    all_warnings = [*plan.warnings, *warnings]
    if all_warnings:
        lines += ["", f"Warnings ({len(all_warnings)})"]
        lines += [f"  ! {shown(warning, _LINE_LENGTH)}" for warning in all_warnings]
    return "\n".join(lines)


def _user_line(op: UserOp, width: int) -> str:
    head = f"  {_USER_MARK[op.action]} {op.action.value:<10} {shown(op.user_name, _NAME_WIDTH):<{width}}"
    details: list[str] = []
    if op.action is UserAction.CREATE and op.desired is not None:
        details.append(shown(f"{op.desired.given_name} {op.desired.family_name}", _NAME_WIDTH))
    details += [
        f"{change.field}: {_show(change.old)} -> {_show(change.new)}"
        for change in op.changes
        if change.field != "active"  # the action says it
    ]
    if op.reason:
        details.append(shown(op.reason, _LINE_LENGTH))
    return f"{head}  {'; '.join(details)}".rstrip()


def _group_line(op: GroupOp, names: Mapping[str, str]) -> str:
    mark = _GROUP_MARK[op.action]
    if op.action is GroupAction.RENAME:
        text = f"{_show(op.old_display_name)} -> {_show(op.display_name)}"
    else:
        text = _show(op.display_name)
    parts = [f"  {mark} {op.action.value:<10} {text}"]
    if op.add_external_ids:
        parts.append(f"+{len(op.add_external_ids)} ({_people(op.add_external_ids, names)})")
    if op.remove_external_ids:
        parts.append(f"-{len(op.remove_external_ids)} ({_people(op.remove_external_ids, names)})")
    return "  ".join(parts)


def _people(external_ids: Sequence[str], names: Mapping[str, str]) -> str:
    listed = [shown(names.get(eid, eid), _NAME_WIDTH) for eid in external_ids[:_MAX_LISTED_MEMBERS]]
    more = len(external_ids) - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more else "")


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return repr(shown(value, _NAME_WIDTH)) if isinstance(value, str) else shown(value, _NAME_WIDTH)


# ---- the run table -------------------------------------------------------------------------------

_COLUMNS = ("Started at", "Started by", "Status", "Users +/~/-/^", "Teams +/~/-", "Error")


def _user_cell(counts: UserCounts) -> str:
    return f"{counts.created}/{counts.updated}/{counts.deactivated}/{counts.reactivated}"


def _team_cell(counts: TeamCounts) -> str:
    return f"{counts.created}/{counts.updated}/{counts.removed}"


def _status(report: RunReport) -> str:
    label = "ok" if report.succeeded else report.result.value.lower()
    mark = "✓" if report.succeeded else "✗"
    rejected = f", {report.rejected} rejected" if report.rejected else ""
    return f"{mark} {label}{rejected}" + (" (test)" if report.dry_run else "")


def _error_cell(report: RunReport) -> str:
    if not report.error:
        return ""
    first_line = shown(report.error.splitlines()[0], _LINE_LENGTH)
    return first_line if len(first_line) <= _MAX_ERROR_WIDTH else first_line[: _MAX_ERROR_WIDTH - 1] + "…"


def render_run_table(reports: Sequence[RunReport]) -> str:
    """The run table: one row per run, newest last. Counts: created/updated/deactivated/reactivated
    users and created/updated/removed teams (for a test: what the run would do)."""
    rows = [
        (
            report.started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
            shown(report.started_by),
            _status(report),
            _user_cell(report.users),
            _team_cell(report.teams),
            _error_cell(report),
        )
        for report in reports
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(_COLUMNS, *rows, strict=False)]
    lines = [_row(_COLUMNS, widths), _row(tuple("-" * w for w in widths), widths)]
    lines += [_row(row, widths) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True)).rstrip()


def render_report(report: RunReport, *, with_warnings: bool = True) -> str:
    """One run in detail, for people: counts, error, failed objects, warnings."""
    kind = "Test" if report.dry_run else "Run"
    lines = [
        f"{kind} {report.id}: {_status(report)}",
        f"  started at   {report.started_at.isoformat(timespec='seconds')}",
        f"  started by   {shown(report.started_by)} ({report.trigger.value})",
        f"  users        {_counts_text(report.users)}",
        f"  teams        {_counts_text(report.teams)}",
    ]
    if report.error:
        lines.append(f"  error        {shown(report.error, _LINE_LENGTH)}")
    if report.app_limits and not report.plan_text:  # the plan text says it already
        lines.append("  not synced   what this app does not take:")
        lines += [f"    - {shown(limit, _LINE_LENGTH)}" for limit in report.app_limits]
    rejected = report.rejected_objects
    if rejected:
        tolerated = f", a run tolerates {report.rejection_limit}" if report.rejection_limit is not None else ""
        lines.append(f"  rejected     {len(rejected)} object(s){tolerated}; the next run tries them again:")
        lines += [f"    {line}" for line in listing([object_line(obj) for obj in rejected])]
    failed = [obj for obj in report.objects if not obj.ok and not obj.rejected]
    if failed:
        lines.append(f"  not done     {len(failed)} object(s):")
        texts = [
            f"{obj.kind} {obj.action} {shown(obj.name, _NAME_WIDTH)}: {shown(obj.error or '', _LINE_LENGTH)}"
            for obj in failed
        ]
        lines += [f"    {line}" for line in listing(texts)]
    if report.warnings and with_warnings:
        lines.append(f"  warnings     {len(report.warnings)}:")
        lines += [f"    ! {shown(warning, _LINE_LENGTH)}" for warning in report.warnings]
    return "\n".join(lines)


def _counts_text(counts: UserCounts | TeamCounts) -> str:
    if isinstance(counts, UserCounts):
        return (
            f"{counts.created} created, {counts.updated} updated, {counts.deactivated} deactivated, "
            f"{counts.reactivated} reactivated, {counts.unchanged} unchanged"
        )
    return f"{counts.created} created, {counts.updated} updated, {counts.removed} removed, {counts.unchanged} unchanged"
