"""A run's warnings: one line of text each, plus a kind, so that status and Events can count them.

Every layer that notices something a person should fix (the Personio client, the desired state,
the planner) records a :class:`RunWarning`. The run report keeps the texts (``report.warnings``)
and summarises the kinds (``report.warning_summary``). A warning reads as its text: ``str(w)``
and ``"e-mail" in w`` work as they did when warnings were plain strings.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class WarningKind(StrEnum):
    # one person is held: their account is left exactly as it is
    HELD_PERSON = "HeldPerson"  # status or employment type cannot be read
    MISSING_EMAIL = "MissingEmail"
    INVALID_EMAIL = "InvalidEmail"
    DUPLICATE_EMAIL = "DuplicateEmail"  # several people share one address
    INVALID_ID = "InvalidId"  # Personio sent an id we cannot use as a key
    # the person is synced, with something left out or shortened
    MISSING_NAME = "MissingName"
    NAME_TRUNCATED = "NameTruncated"
    SUPERVISOR_CYCLE = "SupervisorCycle"  # including people who are their own supervisor
    UNSYNCED_SUPERVISOR = "UnsyncedSupervisor"  # the supervisor has no account, the link stays empty
    # teams
    TEAM_NAME_CLASH = "TeamNameClash"  # several teams would look alike
    TEAM_NAME_MISSING = "TeamNameMissing"  # an org unit without a name
    TEAM_NAME_VARIES = "TeamNameVaries"  # an org unit named differently across people
    # Personio's answer
    DUPLICATE_RECORD = "DuplicateRecord"  # the same person twice in the answer
    PERSONIO_ANSWER = "PersonioAnswer"  # anything else odd about the answer (paging, missing employments)
    # the app
    USERNAME_TAKEN = "UserNameTaken"  # the userName belongs to an account we may not use
    DUPLICATE_IN_APP = "DuplicateInApp"  # the app holds two objects with one of our externalIds
    HAND_MADE_GROUP = "HandMadeGroup"  # a group of the same name made by hand in the app
    NO_ACCOUNT = "NoAccount"  # a member or manager has no account in the app
    UNREADABLE_IN_APP = "UnreadableInApp"  # an app object that is not ours cannot be read; it is left alone
    OTHER = "Other"


class RunWarning(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: WarningKind
    text: str  # one line that says what happened and what to fix, with people named by id and name

    def __str__(self) -> str:
        return self.text

    def __contains__(self, fragment: object) -> bool:
        return isinstance(fragment, str) and fragment in self.text


def warning(kind: WarningKind, text: str) -> RunWarning:
    return RunWarning(kind=kind, text=text)


# Kinds that mean a person gets no account or change at all until their data is fixed in Personio.
HOLDING_KINDS = frozenset(
    {
        WarningKind.HELD_PERSON,
        WarningKind.MISSING_EMAIL,
        WarningKind.INVALID_EMAIL,
        WarningKind.DUPLICATE_EMAIL,
        WarningKind.INVALID_ID,
    }
)
