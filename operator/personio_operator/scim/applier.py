"""``apply_plan``: carry out a ``TargetPlan`` against the app, in order.

Users first (bounded concurrency), then manager links (every user now has a SCIM id), then groups
(members resolved from externalIds to the SCIM ids known after the user phase): removals first, then
renames, then creates and membership changes, so that a name one of our groups gives up is free
before another of ours takes it (apps that require unique names refuse it otherwise).

A *rejection* of one object (the app refuses it with a SyncError that is not a configuration or
transient error, e.g. ``ScimRequestError`` for a 4xx or a 5xx that persisted; or its payload fails the
check before the first write, ``scim.preflight``, and it is never sent) is recorded in its
``ObjectResult`` (``ok=False, rejected=True``) and the others go on. With ``max_rejections``, once more
objects than that are rejected no new object is started, the ones in flight finish, and
``TooManyRejections`` is raised (the caller decides what that means for the run).

Errors that make the rest of the run pointless (credentials refused, the server down beyond the
retry budget), any unexpected exception, and cancellation stop the run: no new object is started,
the objects already being written finish (on cancellation they are cut short), and every object
that was written or attempted is in ``finished`` before the error propagates, an attempt whose
outcome is unknown with ``ok=False`` and an error that says the app may have applied it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from personio_operator.api.run import ObjectResult
from personio_operator.errors import ConfigurationError, ErrorKind, SyncError, TransientError
from personio_operator.scim.changes import adoption_changes
from personio_operator.scim.client import ExistingUser, ScimClient
from personio_operator.scim.models import DesiredUser, ScimUser, TargetState, UserField
from personio_operator.scim.payloads import updated_user
from personio_operator.scim.plan import (
    GroupAction,
    GroupOp,
    ManagerLinkOp,
    TargetPlan,
    UserAction,
    UserOp,
    describe_op,
)
from personio_operator.scim.planner import index_managed_users
from personio_operator.scim.preflight import ObjectKey, payload_problems

log = logging.getLogger(__name__)

_FATAL = (ConfigurationError, TransientError)
_Op = TypeVar("_Op", UserOp, ManagerLinkOp, GroupOp)
INTERRUPTED = "the run was stopped while this was being written; the app may or may not have applied it"
# Groups in phases: a name given up (removed, renamed away) is free before it is taken again.
_GROUP_PHASES = ((GroupAction.REMOVE,), (GroupAction.RENAME,), (GroupAction.CREATE, GroupAction.MEMBERS))


class TooManyRejections(SyncError):
    """More objects were rejected than the caller allowed; no further object was started."""

    kind = ErrorKind.DATA


async def apply_plan(
    client: ScimClient,
    plan: TargetPlan,
    *,
    state: TargetState,
    concurrency: int = 8,
    finished: list[ObjectResult] | None = None,
    max_rejections: int | None = None,
) -> list[ObjectResult]:
    """Apply the plan; results in plan order (users, manager links, groups).

    ``state`` is what the plan was made from: it maps externalIds of existing users to SCIM ids.
    ``concurrency`` bounds the objects in flight; the client bounds the requests in flight.
    ``finished``, when given, receives each object's result as soon as it is done (or cut short), so
    a caller still knows what was written when an error or a cancellation stops the rest.
    ``max_rejections``: stop starting objects once more than this many were rejected (None: never).
    """
    ids = {external_id: user.id for external_id, user in index_managed_users(state.users).items()}
    problems = payload_problems(plan)
    applier = _Applier(client, ids, concurrency, finished if finished is not None else [], problems, max_rejections)
    user_results: dict[str, ObjectResult] = {}
    for wave in _manager_first_waves(plan.users):
        for result in await applier.run(wave, applier.user):
            user_results[result.key] = result
        applier.raise_if_too_many_rejections()
    results = [user_results[op.external_id] for op in plan.users]
    results += await applier.run(plan.manager_links, applier.manager_link)
    applier.raise_if_too_many_rejections()
    group_results: dict[str, ObjectResult] = {}
    for actions in _GROUP_PHASES:
        phase = [op for op in plan.groups if op.action in actions]
        for result in await applier.run(phase, applier.group):
            group_results[result.key] = result
        applier.raise_if_too_many_rejections()
    results += [group_results[op.external_id] for op in plan.groups]
    return results


async def create_or_adopt(client: ScimClient, desired: DesiredUser, *, manager_id: str | None = None) -> ScimUser:
    """Create the user; when the app already holds it (a 409 for its userName on a user without an
    externalId, or a create whose answer was lost), make that user ours: our externalId, reactivation
    and the managed attributes that differ (``scim.changes.adoption_changes``), in one PATCH."""
    async with client.object_write():
        created = await client.create_user(desired, manager_id=manager_id)
        if not isinstance(created, ExistingUser):
            return created
        existing = created.user
        changes = adoption_changes(existing, desired)
        if existing.external_id == desired.external_id:
            changes = [change for change in changes if change.field is not UserField.EXTERNAL_ID]
        await client.patch_user(existing.id, changes)
        return updated_user(existing, changes)


def _manager_first_waves(ops: Sequence[UserOp]) -> list[list[UserOp]]:
    """Users in waves so that a new manager exists before their new reports are created.

    A report created after its manager gets the manager link in the create itself, which saves a
    PATCH per user on a first sync. Non-create ops all go in the first wave.
    """
    creates = {op.external_id: op for op in ops if op.action is UserAction.CREATE}
    depth: dict[str, int] = {}

    def manager_of(external_id: str) -> str | None:
        desired = creates[external_id].desired
        manager = desired.manager_external_id if desired else None
        return manager if manager in creates else None

    def depth_of(external_id: str) -> int:
        chain = [external_id]  # walk up until a known depth, a manager not created now, or a cycle
        while chain[-1] not in depth:
            manager = manager_of(chain[-1])
            if manager is None or manager in chain:
                depth[chain.pop()] = 0
                break
            chain.append(manager)
        for member in reversed(chain):
            if member not in depth:
                depth[member] = depth[manager_of(member) or member] + 1
        return depth[external_id]

    waves: list[list[UserOp]] = [[op for op in ops if op.action is not UserAction.CREATE]]
    for op in ops:
        if op.action is UserAction.CREATE:
            level = depth_of(op.external_id)
            while len(waves) <= level:
                waves.append([])
            waves[level].append(op)
    return [wave for wave in waves if wave]


class _Applier:
    def __init__(
        self,
        client: ScimClient,
        ids: dict[str, str],
        concurrency: int,
        finished: list[ObjectResult],
        problems: dict[ObjectKey, str],
        max_rejections: int | None = None,
    ) -> None:
        self.client = client
        self.finished = finished
        self.problems = problems
        self.max_rejections = max_rejections
        self.rejections = 0
        self.ids = ids  # user externalId -> SCIM id, grows as users are created / adopted
        self.manager_set_on_create: dict[str, str] = {}
        self.limit = asyncio.Semaphore(concurrency)
        self.stopped = False  # an error stops the run: nothing new is started
        self.too_many_rejections = False

    def raise_if_too_many_rejections(self) -> None:
        if self.too_many_rejections:
            raise TooManyRejections(
                f"more than {self.max_rejections} objects were rejected; no further object was started"
            )

    def _count(self, result: ObjectResult) -> None:
        if not result.rejected:
            return
        self.rejections += 1
        if self.max_rejections is not None and self.rejections > self.max_rejections:
            self.stopped = self.too_many_rejections = True

    async def run(
        self, ops: Sequence[_Op], apply: Callable[[_Op, ObjectResult], Awaitable[None]]
    ) -> list[ObjectResult]:
        """Apply the ops concurrently; on an error the ones in flight finish, then the first error is raised."""

        async def guarded(op: _Op) -> ObjectResult | None:
            async with self.limit:
                if self.stopped:
                    return None
                result = describe_op(op)
                problem = self.problems.get((result.kind, result.key))
                try:
                    if problem is None:
                        await apply(op, result)
                    else:
                        _reject(result, SyncError(problem))
                except asyncio.CancelledError:
                    self.stopped = True
                    self.finished.append(_fail(result, SyncError(INTERRUPTED)))
                    raise
                except Exception as error:
                    self.stopped = True
                    self.finished.append(_fail(result, SyncError(_stopping_error(error))))
                    raise
            self._count(result)
            self.finished.append(result)
            return result

        outcomes = await asyncio.gather(*(guarded(op) for op in ops), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [outcome for outcome in outcomes if outcome is not None]

    async def user(self, op: UserOp, result: ObjectResult) -> None:
        try:
            if op.action is UserAction.CREATE:
                assert op.desired is not None
                manager_id = self.ids.get(op.desired.manager_external_id or "")
                created = await create_or_adopt(self.client, op.desired, manager_id=manager_id)
                self.ids[op.external_id] = created.id
                if created.manager_id:
                    self.manager_set_on_create[op.external_id] = created.manager_id
            else:
                assert op.user_id is not None
                await self.client.patch_user(op.user_id, op.changes)
                self.ids[op.external_id] = op.user_id
        except _FATAL:
            raise
        except SyncError as error:
            _reject(result, error)

    async def manager_link(self, op: ManagerLinkOp, result: ObjectResult) -> None:
        user_id = self.ids.get(op.external_id)
        if user_id is None:
            _fail(result, SyncError(f"{op.user_name} has no account in the app, so no manager link is set"))
            return
        manager_id = None
        if op.manager_external_id is not None:
            manager_id = self.ids.get(op.manager_external_id)
            if manager_id is None:
                _fail(result, SyncError(f"the manager {op.manager_external_id} has no account in the app yet"))
                return
        if manager_id is not None and self.manager_set_on_create.get(op.external_id) == manager_id:
            return  # already linked when the user was created
        try:
            await self.client.set_manager(user_id, manager_id)
        except _FATAL:
            raise
        except SyncError as error:
            _reject(result, error)

    async def group(self, op: GroupOp, result: ObjectResult) -> None:
        try:
            if op.action is GroupAction.CREATE:
                await self.client.create_group(op.external_id, op.display_name, self._resolve(op.add_external_ids))
            elif op.action is GroupAction.REMOVE:
                assert op.group_id is not None
                await self.client.delete_group(op.group_id)
            else:
                assert op.group_id is not None
                if op.action is GroupAction.RENAME:
                    await self.client.rename_group(op.group_id, op.display_name)
                await self.client.add_members(op.group_id, self._resolve(op.add_external_ids))
                await self.client.remove_members(op.group_id, self._resolve(op.remove_external_ids))
        except _FATAL:
            raise
        except SyncError as error:
            _reject(result, error)

    def _resolve(self, external_ids: Sequence[str]) -> list[str]:
        resolved = [self.ids[external_id] for external_id in external_ids if external_id in self.ids]
        if len(resolved) < len(external_ids):
            missing = len(external_ids) - len(resolved)
            log.info("%d member(s) have no account (their create failed) and are left out", missing)
        return resolved


def _fail(result: ObjectResult, error: SyncError) -> ObjectResult:
    """Not done, but not refused by the app either: cut short, or an object it needs is missing."""
    result.ok = False
    result.error = error.message
    return result


def _reject(result: ObjectResult, error: SyncError) -> ObjectResult:
    """Refused by the app, or by the payload check: this object only; the run goes on."""
    _fail(result, error)
    result.rejected = True
    status = getattr(error, "status", None)
    result.http_status = status if isinstance(status, int) and 100 <= status <= 599 else None
    return result


def _stopping_error(error: Exception) -> str:
    """What the object result says about the error that stopped the run while it was being written."""
    if isinstance(error, SyncError):
        return error.message
    return (
        f"internal error ({type(error).__name__}) while this was being written; the app may or may not have applied it"
    )
