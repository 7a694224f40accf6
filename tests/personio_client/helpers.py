"""Shared bits of the client tests: a fast retry policy and a one-call fetch against a running sandbox."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from personio_operator.api.spec import PersonioSource
from personio_operator.personio.client import PersonioClient
from personio_operator.personio.http import HttpPolicy
from personio_operator.personio.models import Attribute, Employee, FetchResult
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ALL_ATTRIBUTES = set(Attribute)

# Short waits so retry tests take milliseconds; the logic (what is retried, when to give up) is unchanged.
FAST = HttpPolicy(
    connect_timeout=2.0,
    read_timeout=2.0,
    backoff_base=0.01,
    backoff_max=0.05,
    min_wait_after_429=0.01,
)


def source(base_url: str, version: str = "v2", **overrides: Any) -> PersonioSource:
    return PersonioSource.model_validate(
        {
            "credentialsSecretRef": {"name": "personio-credentials"},
            "baseUrl": base_url,
            "apiVersion": version,
            **overrides,
        }
    )


def client(
    sandbox: Any,
    version: str = "v2",
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    secret: str = DEFAULT_CLIENT_SECRET,
    policy: HttpPolicy = FAST,
    budget_seconds: float = 60.0,
    **kwargs: Any,
) -> PersonioClient:
    return PersonioClient(
        source(sandbox.base_url, version),
        client_id,
        SecretStr(secret),
        budget_seconds=budget_seconds,
        policy=policy,
        **kwargs,
    )


async def fetch(
    sandbox: Any, version: str = "v2", attributes: set[Attribute] = ALL_ATTRIBUTES, **kwargs: Any
) -> FetchResult:
    async with client(sandbox, version, **kwargs) as personio:
        return await personio.fetch_employees(attributes)


def by_id(employees: list[Employee]) -> dict[str, Employee]:
    return {e.id: e for e in employees}
