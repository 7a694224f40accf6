"""What a SCIM app holds and what it declares, read over plain HTTP (never through the product's client).

``AppReader(url, token)`` lists users and groups page by page and reads the app's discovery
documents; ``Dialect`` says which attributes the app can hold, so that expectations depend on what
the app declares and never on which server it is. Requests carry the test servers' seed header:
they are not recorded and never hit an injected fault.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from personio_testkit.scim_app import SEED_HEADER

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# RFC 7643 §3.1: attributes every resource has, whatever its schema lists.
COMMON_ATTRIBUTES = frozenset({"schemas", "id", "externalId", "meta"})
PAGE_SIZE = 100


@dataclass(frozen=True)
class Dialect:
    """The attributes an app declares (``/Schemas``, ``/ResourceTypes``) and its features."""

    user_attributes: frozenset[str]  # core User attributes, e.g. {"userName", "title", ...}
    group_attributes: frozenset[str]
    user_extensions: dict[str, frozenset[str]] = field(default_factory=dict)  # URN -> its attributes
    patch: bool = True
    filter: bool = True

    def holds_user(self, attribute: str) -> bool:
        return attribute in self.user_attributes

    def holds_enterprise(self, attribute: str) -> bool:
        return attribute in self.user_extensions.get(ENTERPRISE_SCHEMA, frozenset())

    def describe(self) -> str:
        extensions = ", ".join(sorted(self.user_extensions)) or "none"
        return f"User attributes {sorted(self.user_attributes)}, extensions {extensions}"


class AppReader:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(headers={"Authorization": f"Bearer {token}", SEED_HEADER: "1"}, timeout=10)

    def close(self) -> None:
        self._http.close()

    def users(self) -> list[dict[str, Any]]:
        return self._list("/Users")

    def groups(self) -> list[dict[str, Any]]:
        return self._list("/Groups")

    def get(self, path: str) -> dict[str, Any]:
        response = self._http.get(f"{self.url}{path}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def add_member(self, group_id: str, user_id: str) -> None:
        """Add a member by hand, as a person would in the app's admin screen."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}],
        }
        response = self._http.patch(f"{self.url}/Groups/{group_id}", json=body)
        response.raise_for_status()

    def dialect(self) -> Dialect:
        schemas = {schema["id"]: schema for schema in self._resources("/Schemas")}
        types = {resource["id"]: resource for resource in self._resources("/ResourceTypes")}
        user_type = types.get("User", {})
        extensions = {
            extension["schema"]: _attribute_names(schemas.get(extension["schema"], {}))
            for extension in user_type.get("schemaExtensions") or []
        }
        config = self.get("/ServiceProviderConfig")
        return Dialect(
            user_attributes=_attribute_names(schemas.get(USER_SCHEMA, {})),
            group_attributes=_attribute_names(schemas.get(GROUP_SCHEMA, {})),
            user_extensions=extensions,
            patch=bool((config.get("patch") or {}).get("supported")),
            filter=bool((config.get("filter") or {}).get("supported")),
        )

    def _resources(self, path: str) -> list[dict[str, Any]]:
        body = self.get(path)
        resources: list[dict[str, Any]] = body.get("Resources", []) if isinstance(body, dict) else body
        return resources

    def _list(self, path: str) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = []
        while True:
            response = self._http.get(
                f"{self.url}{path}", params={"startIndex": len(resources) + 1, "count": PAGE_SIZE}
            )
            response.raise_for_status()
            page = response.json()
            resources += page.get("Resources", [])
            if not page.get("Resources") or len(resources) >= page["totalResults"]:
                return resources


def _attribute_names(schema: dict[str, Any]) -> frozenset[str]:
    return frozenset(attribute["name"] for attribute in schema.get("attributes", []))


# --- what an app holds, as plain facts ----------------------------------------------------------------


@dataclass(frozen=True)
class Holdings:
    """A snapshot of an app: every user and group, with helpers for the checks the suites make."""

    users: list[dict[str, Any]]
    groups: list[dict[str, Any]]

    @classmethod
    def read(cls, reader: AppReader) -> Holdings:
        return cls(reader.users(), reader.groups())

    def managed_users(self) -> dict[str, dict[str, Any]]:
        """Users carrying a ``personio:<id>`` externalId, by person id (the last one wins: see duplicates())."""
        return {
            str(user["externalId"]).removeprefix("personio:"): user
            for user in self.users
            if str(user.get("externalId") or "").startswith("personio:")
        }

    def managed_groups(self) -> dict[str, dict[str, Any]]:
        return {
            str(group["externalId"]): group
            for group in self.groups
            if str(group.get("externalId") or "").startswith("personio:")
        }

    def user_by_id(self) -> dict[str, dict[str, Any]]:
        return {user["id"]: user for user in self.users}

    def member_ids(self, group: dict[str, Any]) -> list[str]:
        return [member["value"] for member in group.get("members") or []]

    def members(self, group_external_id: str) -> set[str]:
        """Person ids (or, for users we do not manage, app ids) of a managed group's members."""
        person_of = {user["id"]: pid for pid, user in self.managed_users().items()}
        group = self.managed_groups()[group_external_id]
        return {person_of.get(member, member) for member in self.member_ids(group)}

    def duplicates(self) -> list[str]:
        """Every duplicate, described: users sharing an externalId or a userName, groups sharing an
        externalId, members listed twice in one group."""
        found: list[str] = []
        external_ids = Counter(user.get("externalId") for user in self.users if user.get("externalId"))
        found += [f"{count} users with externalId {key}" for key, count in external_ids.items() if count > 1]
        names = Counter(str(user.get("userName", "")).casefold() for user in self.users)
        found += [f"{count} users with userName {key}" for key, count in names.items() if count > 1]
        group_ids = Counter(group.get("externalId") for group in self.groups if group.get("externalId"))
        found += [f"{count} groups with externalId {key}" for key, count in group_ids.items() if count > 1]
        for group in self.groups:
            repeated = [value for value, count in Counter(self.member_ids(group)).items() if count > 1]
            if repeated:
                found.append(f"group {group.get('displayName')!r} lists member(s) {repeated} more than once")
        return found
