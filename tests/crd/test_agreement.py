"""One table of hostile and borderline spec values, judged by the API server (the generated CRD:
schema, defaults, CEL) and by the models (what ``plan -f``, ``sync -f`` and the operator use).

Both must agree, so a tenant never gets an object stored that the operator then cannot read, and a
local check never passes what the cluster refuses. The one deliberate exception is what CEL cannot
express (a schedule that never fires): the API server stores it and the operator reports it in
status (tests/security/test_operator_reporting.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from personio_operator.api.spec import PersonioIntegrationSpec
from tests.crd.apiserver import admit
from tests.crd.objects import minimal_integration

BOTH_ACCEPT = "both accept"
BOTH_REFUSE = "both refuse"
OPERATOR_REPORTS = "API server accepts, the model refuses, the operator reports it in status"


def _personio_secret(name: str, **keys: str) -> dict[str, Any]:
    return {"personio": {"credentialsSecretRef": {"name": name, **keys}}}


def _scim(url: str = "https://app.example/scim/v2", name: str = "scim", key: str = "token") -> dict[str, Any]:
    return {"target": {"scim": {"url": url, "credentialsSecretRef": {"name": name, "key": key}}}}


def _personio(**fields: Any) -> dict[str, Any]:
    return {"personio": {"credentialsSecretRef": {"name": "personio-credentials"}, **fields}}


CASES: list[tuple[str, dict[str, Any], str]] = [
    # Secret names: a Kubernetes object name, so no path can leave the namespace.
    ("secret name plain", _personio_secret("personio-credentials"), BOTH_ACCEPT),
    ("secret name dotted", _personio_secret("acme.personio.v2"), BOTH_ACCEPT),
    ("secret name climbing out", _personio_secret("../../other-tenant/secrets/personio"), BOTH_REFUSE),
    ("secret name dot-dot", _personio_secret(".."), BOTH_REFUSE),
    ("secret name with slash", _personio_secret("a/b"), BOTH_REFUSE),
    ("secret name percent-encoded", _personio_secret("%2e%2e%2fother"), BOTH_REFUSE),
    ("secret name backslash", _personio_secret("..\\other"), BOTH_REFUSE),
    ("secret name upper case", _personio_secret("Personio"), BOTH_REFUSE),
    ("secret name trailing newline", _personio_secret("personio\n"), BOTH_REFUSE),
    ("secret name trailing space", _personio_secret("personio "), BOTH_REFUSE),
    ("secret name lookalike letters", _personio_secret("\u0440ersonio"), BOTH_REFUSE),
    ("secret name too long", _personio_secret("a" * 254), BOTH_REFUSE),
    ("scim secret name climbing out", _scim(name="../kube-system/secrets/x"), BOTH_REFUSE),
    # Secret keys: what the API server allows in a Secret's data.
    ("secret key plain", _personio_secret("p", clientIdKey="client.id_1-x"), BOTH_ACCEPT),
    ("secret key with slash", _personio_secret("p", clientSecretKey="a/b"), BOTH_REFUSE),
    ("secret key with newline", _scim(key="token\n"), BOTH_REFUSE),
    # URLs: no credentials, query or fragment in them; bounded.
    ("url with path and port", _scim(url="https://app.example:8443/scim/v2/"), BOTH_ACCEPT),
    ("url ipv6 literal", _scim(url="https://[2001:db8::1]/scim"), BOTH_ACCEPT),
    ("url with user and password", _scim(url="https://user:pw@app.example/scim/v2"), BOTH_REFUSE),
    ("url with user only", _personio(baseUrl="https://token@api.personio.de"), BOTH_REFUSE),
    ("url with query", _scim(url="https://app.example/scim?token=x"), BOTH_REFUSE),
    ("url with fragment", _scim(url="https://app.example/scim#x"), BOTH_REFUSE),
    ("url with space", _scim(url="https://app.example/sc im"), BOTH_REFUSE),
    ("url with CR LF", _personio(baseUrl="https://api.personio.de\r\nX-Injected: 1"), BOTH_REFUSE),
    ("url other scheme", _scim(url="file:///etc/passwd"), BOTH_REFUSE),
    ("url too long", _scim(url="https://app.example/" + "a" * 600), BOTH_REFUSE),
    # Header values sent to Personio.
    ("app id upper snake", _personio(appId="ACME_HR_SYNC"), BOTH_ACCEPT),
    ("app id with CR LF", _personio(appId="ACME\r\nX-Injected: 1"), BOTH_REFUSE),
    ("app id 200 KB", _personio(appId="A" * 200_000), BOTH_REFUSE),
    ("partner id lower case", _personio(partnerId="acme"), BOTH_REFUSE),
    # Team name templates.
    ("template with placeholder", {"teams": {"nameTemplates": {"team": "Team {name}"}}}, BOTH_ACCEPT),
    ("template without placeholder", {"teams": {"nameTemplates": {"team": "Staff"}}}, BOTH_REFUSE),
    ("template with escape sequence", {"teams": {"nameTemplates": {"team": "\x1b[31m{name}"}}}, BOTH_REFUSE),
    ("template of 1 MB", {"teams": {"nameTemplates": {"team": "{name}" + "x" * 1_000_000}}}, BOTH_REFUSE),
    # Notification addresses: plain e-mail addresses, a few of them.
    ("notification address", {"notifications": {"emails": ["owner@acme.example.com"]}}, BOTH_ACCEPT),
    (
        "notification address with CR LF",
        {"notifications": {"emails": ["a@example.com\r\nBcc: x@example.com"]}},
        BOTH_REFUSE,
    ),
    ("notification address without dot", {"notifications": {"emails": ["a@b"]}}, BOTH_REFUSE),
    ("notification address localhost", {"notifications": {"emails": ["x@localhost"]}}, BOTH_REFUSE),
    ("notification address ip literal", {"notifications": {"emails": ["a@[127.0.0.1]"]}}, BOTH_REFUSE),
    ("notification address double dot", {"notifications": {"emails": ["a..b@example.com"]}}, BOTH_REFUSE),
    ("notification addresses 21", {"notifications": {"emails": [f"o{i}@example.com" for i in range(21)]}}, BOTH_REFUSE),
    (
        "notification addresses 10,000",
        {"notifications": {"emails": [f"o{i}@example.com" for i in range(10_000)]}},
        BOTH_REFUSE,
    ),
    # Types exactly as the API server reads them: no coercion, no trimming.
    ("threshold with a space", {"safety": {"maxDeactivations": " 10%"}}, BOTH_REFUSE),
    ("threshold as a boolean", {"safety": {"maxDeactivations": True}}, BOTH_REFUSE),
    ("threshold too long", {"safety": {"maxDeactivations": "1" * 20}}, BOTH_REFUSE),
    ("threshold count as text", {"safety": {"maxDeactivations": "25"}}, BOTH_ACCEPT),
    ("active as text", {"active": "yes"}, BOTH_REFUSE),
    ("active as a number", {"active": 1}, BOTH_REFUSE),
    ("history limit as text", {"historyLimit": "10"}, BOTH_REFUSE),
    ("history limit as a boolean", {"historyLimit": True}, BOTH_REFUSE),
    ("team flag as text", {"teams": {"department": "true"}}, BOTH_REFUSE),
    (
        "concurrency as text",
        _scim() | {"target": {"scim": {**_scim()["target"]["scim"], "maxConcurrency": "4"}}},
        BOTH_REFUSE,
    ),
    ("unknown field", {"activ": True}, BOTH_REFUSE),
    # What CEL cannot see.
    ("schedule that never fires", {"schedule": "0 4 30 2 *"}, OPERATOR_REPORTS),
    ("schedule on 31 April", {"schedule": "0 4 31 4 *"}, OPERATOR_REPORTS),
    ("schedule with a trailing newline", {"schedule": "0 4 * * *\n"}, BOTH_REFUSE),
    ("threshold with a trailing newline", {"safety": {"maxDeactivations": "10%\n"}}, BOTH_REFUSE),
    ("schedule on 29 February", {"schedule": "0 4 29 2 *"}, BOTH_ACCEPT),
]


def _model_accepts(spec: dict[str, Any]) -> bool:
    try:
        PersonioIntegrationSpec.model_validate(spec)
    except ValidationError:
        return False
    return True


def merge_spec(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = (
            merge_spec(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


@pytest.mark.parametrize(("case", "fragment", "verdict"), CASES, ids=[case for case, _, _ in CASES])
def test_the_api_server_and_the_models_agree(
    resource_schema: dict[str, Any], case: str, fragment: dict[str, Any], verdict: str
) -> None:
    integration = minimal_integration()
    integration["spec"] = merge_spec(integration["spec"], fragment)
    _, errors = admit(resource_schema, integration)
    api_accepts = not errors
    model_accepts = _model_accepts(integration["spec"])
    expected = {
        BOTH_ACCEPT: (True, True),
        BOTH_REFUSE: (False, False),
        OPERATOR_REPORTS: (True, False),
    }[verdict]
    assert (api_accepts, model_accepts) == expected, f"{case}: API server errors {errors[:3]}"


def test_a_refused_value_is_named_with_what_to_fix_and_never_echoed_whole() -> None:
    spec = merge_spec(minimal_integration()["spec"], _personio(appId="A\r\n" + "B" * 200_000))
    with pytest.raises(ValidationError) as caught:
        PersonioIntegrationSpec.model_validate(spec)
    message = str(caught.value)
    assert "UPPER_SNAKE_CASE" in message or "at most 64 characters" in message
    assert len(message) < 2_000
