"""Resolve an integration's credentials from Kubernetes Secrets in its own namespace (``get`` only)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import SecretStr

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.controller.kube import KubeApi, KubeError
from personio_operator.errors import ConfigurationError, TransientError
from personio_operator.sync.secrets import RunSecrets

ABSENT = ""  # resourceVersion recorded for a Secret that does not exist


def referenced_secret_names(spec: PersonioIntegrationSpec) -> list[str]:
    return sorted({spec.personio.credentials_secret_ref.name, spec.target.scim.credentials_secret_ref.name})


async def read_run_secrets(kube: KubeApi, namespace: str, spec: PersonioIntegrationSpec) -> RunSecrets:
    """Raises ConfigurationError when a Secret or key is missing, TransientError when the API fails."""
    personio_ref = spec.personio.credentials_secret_ref
    scim_ref = spec.target.scim.credentials_secret_ref
    cache: dict[str, dict[str, Any]] = {}
    client_id = await _read_key(kube, namespace, personio_ref.name, personio_ref.client_id_key, cache)
    client_secret = await _read_key(kube, namespace, personio_ref.name, personio_ref.client_secret_key, cache)
    token = await _read_key(kube, namespace, scim_ref.name, scim_ref.key, cache)
    return RunSecrets(
        personio_client_id=client_id,
        personio_client_secret=SecretStr(client_secret),
        scim_token=SecretStr(token),
    )


async def secret_versions(kube: KubeApi, namespace: str, names: list[str]) -> dict[str, str]:
    """resourceVersion of each named Secret (``ABSENT`` if it does not exist)."""
    versions = {}
    for name in names:
        secret = await _get(kube, namespace, name)
        versions[name] = ABSENT if secret is None else str(secret.get("metadata", {}).get("resourceVersion", ABSENT))
    return versions


async def _read_key(kube: KubeApi, namespace: str, name: str, key: str, cache: dict[str, dict[str, Any]]) -> str:
    if name not in cache:
        secret = await _get(kube, namespace, name)
        if secret is None:
            raise ConfigurationError(
                f"Secret {name!r} not found in namespace {namespace!r}: create it, or fix the name in the spec"
            )
        cache[name] = secret
    secret = cache[name]
    if key in (secret.get("stringData") or {}):
        value = secret["stringData"][key]
    elif key in (secret.get("data") or {}):
        try:
            value = base64.b64decode(secret["data"][key], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigurationError(
                f"key {key!r} of Secret {name!r} is not valid base64-encoded UTF-8 text: store it again"
            ) from None
    else:
        raise ConfigurationError(f"Secret {name!r} has no key {key!r}: add it, or fix the key name in the spec")
    value = value.strip()
    if not value:
        raise ConfigurationError(f"key {key!r} of Secret {name!r} is empty: put the credential in it")
    return value


async def _get(kube: KubeApi, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return await kube.get_secret(namespace, name)
    except KubeError as err:
        if err.status_code in (401, 403):
            raise ConfigurationError(
                f"the operator may not read Secret {name!r} in namespace {namespace!r} (HTTP {err.status_code}): "
                "grant it 'get' on secrets there"
            ) from None
        raise TransientError(f"could not read Secret {name!r}: {err}") from None
