"""Guards that run before any write. Each failure is an error that says what happened, that nothing
was changed, and what to do.

``safety.maxDeactivations``: "N" allows N deactivations per run; "N%" allows N percent of the
users we managed before the run, rounded down but at least 1 (so a small org can still let one
leaver go per run). "0" and "0%" allow none.
"""

from __future__ import annotations

import math

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.errors import ConfigurationError, SafetyError
from personio_operator.personio.models import FetchResult
from personio_operator.safe_text import shown
from personio_operator.scim.plan import TargetPlan
from personio_operator.sync.attributes import PERSONIO_LABELS, needed_attributes, needed_by

WHITELIST_HINT = "Personio > Settings > Integrations > API credentials > (this credential) > readable attributes"
_SHOWN_NAMES = 5


def check_fetch(result: FetchResult, spec: PersonioIntegrationSpec) -> None:
    """Refuse to plan from an answer that is incomplete or lacks attributes this spec depends on."""
    if not result.all_pages_read:
        raise SafetyError(
            f"Personio's answer was incomplete ({result.pages_read} page(s) read, the last page was not reached), "
            "so nothing was changed: deciding who left from a partial list could deactivate people by mistake. "
            "This is usually temporary; run again later, and check the Personio API status if it persists."
        )
    missing_needed = [a for a in result.missing_attributes if a in needed_attributes(spec)]
    if missing_needed:
        parts = [f"{PERSONIO_LABELS[a]} ({needed_by(a)})" for a in sorted(missing_needed)]
        raise ConfigurationError(
            f"Personio returned no {', '.join(parts)} for anybody: the API credential may not read "
            f"{'it' if len(parts) == 1 else 'them'}. Nothing was changed. Allow the attribute(s) in {WHITELIST_HINT}, "
            "or switch off the setting named in brackets."
        )


def check_not_empty(result: FetchResult, managed_users_before: int) -> None:
    if not result.employees and managed_users_before > 0:
        raise SafetyError(
            f"Personio returned no employees at all while {managed_users_before} users in the app are managed by "
            "this integration; nothing was changed. Check that the API credential may read employees "
            "and that baseUrl points at the right Personio account."
        )


def allowed_deactivations(threshold: str | int, managed_users_before: int) -> int:
    text = str(threshold).strip()
    if text.endswith("%"):
        percent = int(text[:-1])
        if percent == 0:
            return 0
        return max(1, math.floor(managed_users_before * percent / 100))
    return int(text)


def check_deactivations(plan: TargetPlan, spec: PersonioIntegrationSpec) -> None:
    """Fail the run before writing when it would deactivate more users than the spec allows."""
    threshold = spec.safety.max_deactivations
    allowed = allowed_deactivations(threshold, plan.managed_users_before)
    deactivations = plan.deactivations
    if len(deactivations) <= allowed:
        return
    limit = (
        f"{threshold} of {plan.managed_users_before} managed users = {allowed}"
        if str(threshold).endswith("%")
        else str(allowed)
    )
    names = ", ".join(shown(op.user_name) for op in deactivations[:_SHOWN_NAMES])
    more = f" and {len(deactivations) - _SHOWN_NAMES} more" if len(deactivations) > _SHOWN_NAMES else ""
    raise SafetyError(
        f"This run would deactivate {len(deactivations)} users, more than safety.maxDeactivations allows "
        f"({limit}); nothing was changed. Check in Personio that these people really left ({names}{more}). "
        f"If they did, raise safety.maxDeactivations for one run (e.g. to '{len(deactivations)}'), run again, "
        "then set it back."
    )
