"""End-to-end harness: the Personio sandbox and a real SCIM server on 127.0.0.1, the real runner between.

Reads the app's state straight from the SCIM server's storage, so assertions never depend on the
code under test reading it back.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from personio_operator.api.run import Trigger
from personio_operator.destinations import DestinationPolicy
from personio_operator.sync.report import RunReport
from personio_operator.sync.runner import run_integration
from personio_operator.sync.secrets import RunSecrets
from personio_testkit.personio_sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxServer
from personio_testkit.scim_app import ENTERPRISE_SCHEMA, ScimTestServer
from tests.sync.factories import make_spec

IN_SCOPE_STATUSES = {"ACTIVE", "ONBOARDING", "LEAVE"}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = (
            merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


class Harness:
    def __init__(self, sandbox: SandboxServer, app: ScimTestServer, **spec: Any) -> None:
        self.sandbox = sandbox
        self.app = app
        self.company = sandbox.company
        self.base_spec = spec

    def spec(self, **overrides: Any):
        connection = {
            "personio": {"credentialsSecretRef": {"name": "personio-credentials"}, "baseUrl": self.sandbox.base_url},
            "target": {"scim": {"url": self.app.url, "credentialsSecretRef": {"name": "scim-token"}}},
        }
        return make_spec(**merge(merge(connection, self.base_spec), overrides))

    @property
    def destinations(self) -> DestinationPolicy:
        """Exactly the two local servers: the operator's default refuses 127.0.0.1 and plain http."""
        return DestinationPolicy.only(self.sandbox.base_url, self.app.url)

    async def run(self, *, dry_run: bool = False, **overrides: Any) -> RunReport:
        secrets = RunSecrets(
            personio_client_id=DEFAULT_CLIENT_ID,
            personio_client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
            scim_token=SecretStr(self.app.token),
        )
        trigger = Trigger.TEST if dry_run else Trigger.MANUAL
        return await run_integration(
            self.spec(**overrides),
            secrets,
            trigger=trigger,
            started_by="tester@acme.example",
            dry_run=dry_run,
            destinations=self.destinations,
        )

    async def sync(self, **overrides: Any) -> RunReport:
        """A run that must succeed."""
        report = await self.run(**overrides)
        assert report.succeeded, report.error
        return report

    # --- the app, read from the SCIM server's storage ---------------------------------------------

    def users(self) -> dict[str, dict[str, Any]]:
        """Managed users by Personio person id."""
        return {u["externalId"].removeprefix("personio:"): u for u in self.app.users() if u.get("externalId")}

    def active_ids(self) -> set[str]:
        return {pid for pid, user in self.users().items() if user.get("active")}

    def groups(self) -> dict[str, dict[str, Any]]:
        return {g["externalId"]: g for g in self.app.groups() if g.get("externalId")}

    def members(self, group_external_id: str) -> set[str]:
        """Person ids of the group's members."""
        person_of = {u["id"]: pid for pid, u in self.users().items()}
        group = self.groups()[group_external_id]
        return {person_of.get(m["value"], m["value"]) for m in group.get("members", [])}

    def manager_of(self, person_id: str) -> str | None:
        """Person id of the user's manager in the app."""
        users = self.users()
        manager = users[person_id].get(ENTERPRISE_SCHEMA, {}).get("manager")
        if not manager:
            return None
        return next(pid for pid, u in users.items() if u["id"] == manager["value"])

    def patch_user_in_app(self, person_id: str, path: str, value: Any) -> None:
        """Change a user by hand in the app, as a person would."""
        self._patch(f"/Users/{self.users()[person_id]['id']}", "replace", path, value)

    def add_member_in_app(self, group_external_id: str, user_id: str) -> None:
        self._patch(f"/Groups/{self.groups()[group_external_id]['id']}", "add", "members", [{"value": user_id}])

    def _patch(self, path: str, op: str, attribute: str, value: Any) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": op, "path": attribute, "value": value}],
        }
        response = httpx.patch(
            f"{self.app.url}{path}", json=body, headers={"Authorization": f"Bearer {self.app.token}"}
        )
        response.raise_for_status()

    # --- Personio, read from the sandbox's own data ------------------------------------------------

    def in_scope_ids(self, *, include_external: bool = False) -> set[str]:
        kinds = {"INTERNAL", "EXTERNAL"} if include_external else {"INTERNAL"}
        return {
            str(p.id)
            for p in self.company.persons()
            if p.current.status in IN_SCOPE_STATUSES and p.current.type in kinds and p.email
        }
