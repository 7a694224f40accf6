"""``plan_target``: the deterministic diff between the desired state and what the app holds, made once.

Decisions (documented in docs/architecture.md terms):

* Users are matched by externalId. Without a match, an *unmanaged* app user (no externalId)
  whose userName equals the desired userName case-insensitively is adopted; an app user with
  that userName and any other externalId is a conflict (warning, no op), so nobody is duplicated.
* Only the attributes a desired user manages are compared and written (``scim.changes``): the
  spec, Personio and the app each decide what is managed, and nothing else is ever planned, so a
  rerun against an app that drops attributes writes nothing. A change in the local part's casing
  IS an update; because matching is by externalId (or userName for adoption) it never leads to a
  second user. Manager links are planned only for users whose manager is managed.
* Held users (bad data in Personio, ``DesiredState.held``) are left exactly as they are: never
  deactivated, kept in their teams when they have an account, left out of member lists when not
  (a team only they would fill is not created).
* Inactive desired users are never created or adopted (there is nothing to deactivate); a managed
  one that is active is deactivated. Managed users that are not desired and active are deactivated,
  with the reason the desired state gives; inactive ones are left alone. Users are never deleted.
* Groups are matched by externalId only; unmanaged groups are never touched, even with the same
  name. Only managed users are ever removed from a group (hand-added members stay).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from personio_operator.run_warnings import RunWarning, WarningKind, warning
from personio_operator.safe_text import shown
from personio_operator.scim.changes import adoption_changes, user_changes
from personio_operator.scim.emails import user_name_key
from personio_operator.scim.models import (
    DesiredState,
    DesiredUser,
    ScimGroup,
    ScimUser,
    TargetState,
    UserField,
    is_managed_external_id,
)
from personio_operator.scim.plan import (
    REASON_INACTIVE,
    REASON_NOT_IN_PERSONIO,
    FieldChange,
    GroupAction,
    GroupOp,
    ManagerLinkOp,
    TargetPlan,
    UserAction,
    UserOp,
)

_USER_ACTION_ORDER = {action: index for index, action in enumerate(UserAction)}
_GROUP_ACTION_ORDER = {action: index for index, action in enumerate(GroupAction)}


def plan_target(desired: DesiredState, current: TargetState) -> TargetPlan:
    plan = TargetPlan()
    managed = index_managed_users(current.users, plan.warnings)
    by_user_name: dict[str, list[ScimUser]] = defaultdict(list)
    for user in current.users:
        by_user_name[user_name_key(user.user_name)].append(user)

    plan.managed_users_before = sum(1 for user in managed.values() if user.active)
    # externalId -> SCIM id after this run, or None for users created in this run
    resolvable: dict[str, str | None] = {external_id: user.id for external_id, user in managed.items()}
    seen_user_names: dict[str, str] = {}
    synced: list[tuple[DesiredUser, ScimUser | None]] = []

    for wanted in sorted(desired.users, key=lambda user: user.external_id):
        if wanted.external_id in desired.held:
            continue  # left exactly as it is
        key = user_name_key(wanted.user_name)
        if key in seen_user_names and seen_user_names[key] != wanted.external_id:
            plan.warnings.append(
                warning(
                    WarningKind.DUPLICATE_EMAIL,
                    f"{wanted.external_id} has the same userName {shown(wanted.user_name)!r} as "
                    f"{seen_user_names[key]}; it is skipped until the e-mail addresses differ in Personio",
                )
            )
            continue
        seen_user_names[key] = wanted.external_id
        existing = managed.get(wanted.external_id)
        if existing is not None:
            op = _managed_user_op(existing, wanted)
            if op is None:
                plan.users_unchanged += 1
            else:
                plan.users.append(op)
            synced.append((wanted, existing))
            continue
        holders = [user for user in by_user_name.get(key, []) if user.external_id != wanted.external_id]
        if holders:
            adoptable = next((user for user in holders if not user.external_id), None)
            if adoptable is None or len(holders) > 1:
                plan.warnings.append(_conflict_warning(wanted, holders))
                continue
            if not wanted.active:
                continue  # never adopt someone only to switch them off
            plan.users.append(
                UserOp(
                    action=UserAction.ADOPT,
                    external_id=wanted.external_id,
                    user_name=wanted.user_name,
                    user_id=adoptable.id,
                    changes=adoption_changes(adoptable, wanted),
                    desired=wanted,
                )
            )
            resolvable[wanted.external_id] = adoptable.id
            synced.append((wanted, adoptable))
            continue
        if not wanted.active:
            continue
        plan.users.append(
            UserOp(action=UserAction.CREATE, external_id=wanted.external_id, user_name=wanted.user_name, desired=wanted)
        )
        resolvable[wanted.external_id] = None
        synced.append((wanted, None))

    desired_ids = {user.external_id for user in desired.users}
    for external_id, user in sorted(managed.items()):
        if external_id not in desired_ids and external_id not in desired.held and user.active:
            plan.users.append(
                UserOp(
                    action=UserAction.DEACTIVATE,
                    external_id=external_id,
                    user_name=user.user_name,
                    user_id=user.id,
                    changes=[FieldChange(field=UserField.ACTIVE, old=True, new=False)],
                    reason=desired.inactive_reasons.get(external_id, REASON_NOT_IN_PERSONIO),
                )
            )

    plan.manager_links = _manager_links(synced, resolvable, plan.warnings)
    _plan_groups(plan, desired, current.groups, managed, resolvable)
    plan.users.sort(key=lambda op: (_USER_ACTION_ORDER[op.action], op.external_id))
    plan.groups.sort(key=lambda op: (_GROUP_ACTION_ORDER[op.action], op.external_id))
    return plan


def index_managed_users(users: Iterable[ScimUser], warnings: list[RunWarning] | None = None) -> dict[str, ScimUser]:
    """Managed users by externalId. Some servers accept duplicate externalIds: the active one (then the
    lowest id) is synced, whatever order the app lists them in; the planner and the applier both use this."""
    managed: dict[str, ScimUser] = {}
    for user in sorted(users, key=lambda user: (not user.active, user.id)):
        if not is_managed_external_id(user.external_id):
            continue
        assert user.external_id is not None
        if user.external_id in managed:
            if warnings is None:
                continue
            kept = managed[user.external_id]
            warnings.append(
                warning(
                    WarningKind.DUPLICATE_IN_APP,
                    f"the app holds more than one user with externalId {shown(user.external_id)}; "
                    f"only {shown(kept.user_name)!r} (id {shown(kept.id)}) is synced",
                )
            )
            continue
        managed[user.external_id] = user
    return managed


def _managed_user_op(existing: ScimUser, wanted: DesiredUser) -> UserOp | None:
    changes = user_changes(existing, wanted)
    if wanted.active and not existing.active:
        action = UserAction.REACTIVATE
        changes = [FieldChange(field=UserField.ACTIVE, old=False, new=True), *changes]
        reason = None
    elif not wanted.active and existing.active:
        action = UserAction.DEACTIVATE
        changes = [FieldChange(field=UserField.ACTIVE, old=True, new=False), *changes]
        reason = REASON_INACTIVE
    elif changes:
        action, reason = UserAction.UPDATE, None
    else:
        return None
    return UserOp(
        action=action,
        external_id=wanted.external_id,
        user_name=wanted.user_name,
        user_id=existing.id,
        changes=changes,
        desired=wanted,
        reason=reason,
    )


def _conflict_warning(wanted: DesiredUser, holders: list[ScimUser]) -> RunWarning:
    owners = ", ".join(f"id {shown(user.id)} (externalId {shown(user.external_id or 'empty')})" for user in holders[:5])
    if len(holders) > 5:
        owners += f" and {len(holders) - 5} more"
    used = f"userName {shown(wanted.user_name)!r} of {wanted.external_id} is already used in the app by {owners}"
    if len(holders) == 1 and is_managed_external_id(holders[0].external_id):
        # Ours, but another Personio person's (e.g. a rehire under a new Personio id): never re-keyed on a guess.
        text = (
            f"{used}, the account of another Personio person, so no account is created. If it is the same person "
            "under a new Personio id, clear its externalId in the app and it is adopted on the next run; "
            "otherwise give the two people different e-mails in Personio"
        )
    else:
        text = f"{used}; that user is not ours to change, so no account is created or adopted"
    return warning(WarningKind.USERNAME_TAKEN, text)


def _manager_links(
    synced: list[tuple[DesiredUser, ScimUser | None]],
    resolvable: dict[str, str | None],
    warnings: list[RunWarning],
) -> list[ManagerLinkOp]:
    links: list[ManagerLinkOp] = []
    for wanted, existing in synced:
        if not wanted.manages(UserField.MANAGER):
            continue
        manager_external_id = wanted.manager_external_id
        if manager_external_id is not None and manager_external_id not in resolvable:
            warnings.append(
                warning(
                    WarningKind.NO_ACCOUNT,
                    f"manager {manager_external_id} of {wanted.external_id} has no account in the app; "
                    "the manager link is cleared",
                )
            )
            manager_external_id = None
        current_manager_id = existing.manager_id if existing else None
        if manager_external_id is None:
            if current_manager_id is None:
                continue
        else:
            target_id = resolvable[manager_external_id]
            if target_id is not None and target_id == current_manager_id:
                continue
        links.append(
            ManagerLinkOp(
                external_id=wanted.external_id,
                user_name=wanted.user_name,
                manager_external_id=manager_external_id,
                old_manager_id=current_manager_id,
            )
        )
    links.sort(key=lambda link: link.external_id)
    return links


def _plan_groups(
    plan: TargetPlan,
    desired: DesiredState,
    current_groups: list[ScimGroup],
    managed_users: dict[str, ScimUser],
    resolvable: dict[str, str | None],
) -> None:
    external_id_of = {user.id: external_id for external_id, user in managed_users.items()}
    managed_groups: dict[str, ScimGroup] = {}
    unmanaged_names = {group.display_name for group in current_groups if not is_managed_external_id(group.external_id)}
    for group in sorted(current_groups, key=lambda group: group.id):
        if not is_managed_external_id(group.external_id):
            continue
        assert group.external_id is not None
        if group.external_id in managed_groups:
            plan.warnings.append(
                warning(
                    WarningKind.DUPLICATE_IN_APP,
                    f"the app holds more than one group with externalId {shown(group.external_id)}",
                )
            )
            continue
        managed_groups[group.external_id] = group

    wanted_ids = set()
    for wanted in sorted(desired.groups, key=lambda group: group.external_id):
        # Held people keep their place in a team only when they have an account to keep it with.
        candidates = {m for m in wanted.member_external_ids if m not in desired.held or m in managed_users}
        existing = managed_groups.get(wanted.external_id)
        if not candidates and existing is None:
            continue  # only people without an account would fill it
        wanted_ids.add(wanted.external_id)
        members = {member for member in candidates if member in resolvable}
        unknown = len(candidates) - len(members)
        if unknown:
            plan.warnings.append(
                warning(
                    WarningKind.NO_ACCOUNT,
                    f"{unknown} member(s) of {shown(wanted.display_name)!r} have no account and are left out",
                )
            )
        if existing is None:
            if wanted.display_name in unmanaged_names:
                plan.warnings.append(
                    warning(
                        WarningKind.HAND_MADE_GROUP,
                        f"a group named {shown(wanted.display_name)!r} was made by hand in the app; "
                        "ours is created next to it",
                    )
                )
            plan.groups.append(
                GroupOp(
                    action=GroupAction.CREATE,
                    external_id=wanted.external_id,
                    display_name=wanted.display_name,
                    add_external_ids=sorted(members),
                    desired=wanted,
                )
            )
            continue
        current_members = {external_id_of[member] for member in existing.member_ids if member in external_id_of}
        add = sorted(members - current_members)
        remove = sorted(current_members - members)
        renamed = existing.display_name != wanted.display_name
        if not (renamed or add or remove):
            plan.groups_unchanged += 1
            continue
        plan.groups.append(
            GroupOp(
                action=GroupAction.RENAME if renamed else GroupAction.MEMBERS,
                external_id=wanted.external_id,
                display_name=wanted.display_name,
                group_id=existing.id,
                old_display_name=existing.display_name if renamed else None,
                add_external_ids=add,
                remove_external_ids=remove,
                desired=wanted,
            )
        )

    for external_id, group in sorted(managed_groups.items()):
        if external_id in wanted_ids:
            continue
        plan.groups.append(
            GroupOp(
                action=GroupAction.REMOVE,
                external_id=external_id,
                display_name=group.display_name,
                group_id=group.id,
                remove_external_ids=sorted(
                    external_id_of[member] for member in group.member_ids if member in external_id_of
                ),
            )
        )
