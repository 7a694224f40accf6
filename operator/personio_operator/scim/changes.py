"""What writing a desired user over an app user changes: the attribute-level diff the planner plans
and the client's create path falls back on when the user turns out to exist already.

Only attributes the desired user manages are compared (``DesiredUser.managed``: the spec's choice,
what Personio returned, what the app holds), so an attribute the app drops, or one that is not ours
to keep, is never written again and never cleared. Create-only attributes (``displayName``,
``preferredLanguage``) are not compared. The app's userName and e-mail are read in our normal form
(``scim.emails.email_key``: the domain in IDNA Unicode form), so an address the app spells with
punycode or an upper-case domain is the same mailbox and not rewritten on every run; a change in
the local part's casing IS an update (people fix casing).
"""

from __future__ import annotations

from collections.abc import Callable

from personio_operator.scim.emails import email_key
from personio_operator.scim.models import DesiredUser, ScimUser, UserField
from personio_operator.scim.plan import FieldChange

# The compared attributes, in the order plans list them: (field, the app's value, ours).
_COMPARED: list[tuple[UserField, Callable[[ScimUser], str | None], Callable[[DesiredUser], str | None]]] = [
    (UserField.USER_NAME, lambda user: user.user_name, lambda wanted: wanted.user_name),
    (UserField.GIVEN_NAME, lambda user: user.given_name, lambda wanted: wanted.given_name),
    (UserField.FAMILY_NAME, lambda user: user.family_name, lambda wanted: wanted.family_name),
    (UserField.EMAILS, lambda user: user.email, lambda wanted: wanted.email),
    (UserField.USER_TYPE, lambda user: user.user_type, lambda wanted: wanted.user_type),
    (UserField.EMPLOYEE_NUMBER, lambda user: user.employee_number, lambda wanted: wanted.employee_number),
    (UserField.DEPARTMENT, lambda user: user.department, lambda wanted: wanted.department),
    (UserField.TITLE, lambda user: user.title, lambda wanted: wanted.title),
]
_AS_COMPARED: dict[UserField, Callable[[str | None], str | None]] = {
    UserField.USER_NAME: email_key,
    UserField.EMAILS: email_key,
}


def user_changes(current: ScimUser, desired: DesiredUser) -> list[FieldChange]:
    """Differences in managed attributes, excluding ``active`` and ``externalId`` (decided by the caller)
    and the manager (a link, planned once every user exists)."""
    changes = []
    for field, theirs, ours in _COMPARED:
        if desired.manages(field) and _differs(field, theirs(current), ours(desired)):
            changes.append(FieldChange(field=field, old=theirs(current), new=ours(desired)))
    return changes


def _differs(field: UserField, old: str | None, new: str | None) -> bool:
    as_compared = _AS_COMPARED.get(field)
    if as_compared is not None:
        old = as_compared(old)
    return (old or None) != (new or None)


def adoption_changes(current: ScimUser, desired: DesiredUser) -> list[FieldChange]:
    """What adopting ``current`` for ``desired`` writes: our externalId, reactivation, attributes."""
    changes = [FieldChange(field=UserField.EXTERNAL_ID, old=current.external_id, new=desired.external_id)]
    if desired.active and not current.active:
        changes.append(FieldChange(field=UserField.ACTIVE, old=False, new=True))
    return changes + user_changes(current, desired)
