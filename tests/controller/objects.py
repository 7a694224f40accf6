"""Integrations as the controller parses them, for the tests of pure rules (decisions, status patches)."""

from __future__ import annotations

from typing import Any

from personio_operator.api.status import PersonioIntegrationStatus
from personio_operator.controller.integration import Integration

SPEC: dict[str, Any] = {
    "personio": {"credentialsSecretRef": {"name": "personio-credentials"}},
    "target": {"scim": {"url": "https://app.example/scim/v2", "credentialsSecretRef": {"name": "scim-token"}}},
}


def integration(
    status: dict[str, Any] | PersonioIntegrationStatus | None = None,
    *,
    generation: int = 1,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Integration:
    """An integration ``tenant-acme/acme`` with a valid spec (plus ``spec``) and ``status`` as read."""
    if isinstance(status, PersonioIntegrationStatus):
        status = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Integration.parse(
        {
            "metadata": {
                "namespace": "tenant-acme",
                "name": "acme",
                "uid": "uid-1",
                "resourceVersion": "1",
                "generation": generation,
                "annotations": annotations or {},
            },
            "spec": {**SPEC, **spec},
            "status": status or {},
        }
    )
