"""The one e-mail check of the sync, and the one normal form in which addresses are compared.

scim2-models validates ``emails[].value`` with pydantic's ``EmailStr``, which calls
email-validator with ``check_deliverability=False`` and stores its normalised form. We call the
same library with the same options, on the address exactly as given (no display-name form), so
every address the planner accepts is one the payload layer accepts, and the address we send is
the one the app stores: a rerun compares equal and writes nothing.

The normal form: trimmed and lower-cased (apps compare user names case-insensitively), the local
part NFC-normalised, the domain in IDNA/UTS-46 Unicode form. So ``müller@xn--bcher-kva.de`` and
``Müller@BÜCHER.de`` are both ``müller@bücher.de``: one mailbox, one user.

A run checks each address several times (Personio's, the app's userName and e-mail, the payload), so
the checks are remembered per spelling (email-validator is a pure function of its input).
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit, which email-validator also enforces
_REMEMBERED = 16_384  # spellings; a bigger company is checked again, not wrongly


@functools.lru_cache(maxsize=_REMEMBERED)
def validated(text: str) -> ValidatedEmail | str:
    """email-validator's verdict on ``text`` (without DNS): the validated address, or why it is not one."""
    try:
        return validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)


class InvalidEmailError(ValueError):
    """Not an address the app could be sent; the message says why, in email-validator's words."""


def normalized_email(value: str) -> str:
    """The address in its normal form; raises :class:`InvalidEmailError` when it is not usable."""
    text = value.strip().lower()
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmailError(f"it is {len(text)} characters long; an address has at most {MAX_EMAIL_LENGTH}")
    result = validated(text)
    if isinstance(result, str):
        raise InvalidEmailError(result)
    normal = result.normalized
    if normal != normal.lower():  # e.g. a character that lower-cases differently after NFC
        raise InvalidEmailError("it has characters whose lower-case form is not stable")
    return normal


def email_key(value: str | None) -> str | None:
    """How an app-side userName or e-mail is compared with ours: the domain in the normal form, the
    local part as it is (a change of case there is still an update). Values that are not addresses
    are compared as they are."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_EMAIL_LENGTH or "@" not in text:
        return value
    result = validated(text)
    return value if isinstance(result, str) else result.normalized


def user_name_key(user_name: str) -> str:
    """How userNames are matched (adoption, conflicts, look-ups): ignoring case, addresses in their normal
    form, so ``Müller@xn--bcher-kva.de`` and ``müller@bücher.de`` are one user."""
    return (email_key(user_name) or user_name).lower()


def address_spellings(value: str) -> list[str]:
    """The ways an app may have stored this address, for look-ups by filter (which compare the spelling
    given, and at most ASCII letters ignoring case): as given, and with the domain in its Unicode and its
    ASCII (IDNA, ``xn--``) form, each also in lower case. A value that is no address: as given."""
    spellings = [value]
    text = value.strip()
    if len(text) > MAX_EMAIL_LENGTH or "@" not in text:
        return spellings
    result = validated(text)
    if isinstance(result, str):
        return spellings
    unicode_form, ascii_form = result.normalized, f"{result.local_part}@{result.ascii_domain}"
    for spelling in (unicode_form, unicode_form.lower(), ascii_form, ascii_form.lower()):
        if spelling not in spellings:
            spellings.append(spelling)
    return spellings
