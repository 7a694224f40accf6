"""Resolve an integration's credentials from Kubernetes Secrets in its own namespace (``get`` only).

What an integration may name is checked before any request: only its own namespace (never the
operator's), valid Kubernetes names, and the admin's limits (``OperatorSettings.secret_access``:
allowed names, a required label). Only Opaque Secrets are used, so a service-account token or a Helm
release in the tenant's namespace can never be sent out. Messages name only the integration's own
namespace, and a Secret that is missing, unlabelled or of another type gets one and the same answer.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.controller.kube import InvalidNameError, KubeApi, KubeError, is_namespace, is_object_name, shown
from personio_operator.controller.settings import OperatorSettings
from personio_operator.errors import ConfigurationError, SyncError, TransientError
from personio_operator.sync.secrets import RunSecrets

ABSENT = ""  # resourceVersion recorded for a Secret that does not exist (or may not be used)
USABLE_TYPES = frozenset({"", "Opaque"})
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_MAX_SECRET_KEY = 253


def referenced_secret_names(spec: PersonioIntegrationSpec) -> list[str]:
    return sorted({spec.personio.credentials_secret_ref.name, spec.target.scim.credentials_secret_ref.name})


async def read_run_secrets(
    kube: KubeApi, namespace: str, spec: PersonioIntegrationSpec, settings: OperatorSettings
) -> RunSecrets:
    """Raises ConfigurationError when a Secret or key is missing or may not be used, TransientError when
    the API fails."""
    return await _run_secrets(_Reader(kube, namespace, settings), namespace, spec, settings)


async def read_for_run(
    kube: KubeApi, namespace: str, spec: PersonioIntegrationSpec, settings: OperatorSettings
) -> tuple[RunSecrets | SyncError, dict[str, str]]:
    """The run's credentials, or why they cannot be used, and the resourceVersion of each Secret as it was
    read (empty if the names may not be used or the API failed): one ``get`` per Secret."""
    reader = _Reader(kube, namespace, settings)
    secrets: RunSecrets | SyncError
    try:
        secrets = await _run_secrets(reader, namespace, spec, settings)
    except SyncError as err:
        secrets = err
    try:
        names = referenced_secret_names(spec)
        check_secret_names(namespace, names, settings)
        versions = {name: _version(await reader.secret_or_none(name)) for name in names}
    except SyncError:
        versions = {}
    return secrets, versions


async def _run_secrets(
    reader: _Reader, namespace: str, spec: PersonioIntegrationSpec, settings: OperatorSettings
) -> RunSecrets:
    personio_ref = spec.personio.credentials_secret_ref
    scim_ref = spec.target.scim.credentials_secret_ref
    check_secret_names(namespace, [personio_ref.name, scim_ref.name], settings)
    for key in (personio_ref.client_id_key, personio_ref.client_secret_key, scim_ref.key):
        _check_key(key)
    client_id = await reader.value(personio_ref.name, personio_ref.client_id_key)
    client_secret = await reader.value(personio_ref.name, personio_ref.client_secret_key)
    token = await reader.value(scim_ref.name, scim_ref.key)
    return RunSecrets(
        personio_client_id=client_id,
        personio_client_secret=SecretStr(client_secret),
        scim_token=SecretStr(token),
    )


async def secret_versions(
    kube: KubeApi, namespace: str, names: list[str], settings: OperatorSettings
) -> dict[str, str]:
    """resourceVersion of each named Secret (``ABSENT`` if it does not exist or may not be used)."""
    check_secret_names(namespace, names, settings)
    reader = _Reader(kube, namespace, settings)
    return {name: _version(await reader.secret_or_none(name)) for name in names}


def _version(secret: dict[str, Any] | None) -> str:
    return ABSENT if secret is None else str(secret.get("metadata", {}).get("resourceVersion", ABSENT))


def check_secret_names(namespace: str, names: Iterable[str], settings: OperatorSettings) -> None:
    """Raises ConfigurationError unless the integration in ``namespace`` may read Secrets named ``names``."""
    if not is_namespace(namespace):
        raise ConfigurationError(f"namespace {shown(namespace)} is not a valid Kubernetes namespace name")
    if settings.operator_namespace and namespace == settings.operator_namespace:
        raise ConfigurationError(
            f"integrations in the operator's own namespace {namespace!r} are not served: the Secrets there "
            "(the operator's and Helm's) are off limits. Create the integration in a namespace of its own"
        )
    if settings.namespaces and namespace not in settings.namespaces:
        raise ConfigurationError(f"namespace {namespace!r} is not served by this operator")
    allowed = settings.secret_access.allowed_names
    for name in names:
        if not is_object_name(name):
            raise ConfigurationError(
                f"Secret name {shown(name)} is not a valid Kubernetes name (lower-case letters, digits, '-' and "
                "'.'; no '/'): fix the name in the spec"
            )
        if allowed and name not in allowed:
            raise ConfigurationError(
                f"Secret {name!r} may not be used: the operator's administrator allows only Secrets named "
                f"{', '.join(sorted(allowed))} (chart value secrets.allowedNames). Store the credentials in one "
                "of those"
            )


def _check_key(key: str) -> None:
    if not isinstance(key, str) or len(key) > _MAX_SECRET_KEY or not _SECRET_KEY.fullmatch(key):
        raise ConfigurationError(
            f"Secret key {shown(key)} is not a valid key name (letters, digits, '-', '_' and '.'): fix it in the spec"
        )


class _Reader:
    """Reads each Secret of one integration at most once and decides whether it may be used."""

    def __init__(self, kube: KubeApi, namespace: str, settings: OperatorSettings) -> None:
        self.kube = kube
        self.namespace = namespace
        self.access = settings.secret_access
        self._cache: dict[str, dict[str, Any] | None] = {}

    async def secret_or_none(self, name: str) -> dict[str, Any] | None:
        """The Secret if it exists and may be used, else None."""
        if name not in self._cache:
            secret = await self._get(name)
            self._cache[name] = secret if secret is not None and self._usable(secret) else None
        return self._cache[name]

    async def value(self, name: str, key: str) -> str:
        secret = await self.secret_or_none(name)
        if secret is None:
            raise ConfigurationError(self._not_found(name))
        if key in (secret.get("stringData") or {}):
            value = secret["stringData"][key]
        elif key in (secret.get("data") or {}):
            try:
                value = base64.b64decode(secret["data"][key], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
                raise ConfigurationError(
                    f"key {key!r} of Secret {name!r} is not valid base64-encoded UTF-8 text: store it again"
                ) from None
        else:
            raise ConfigurationError(f"Secret {name!r} has no key {key!r}: add it, or fix the key name in the spec")
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            raise ConfigurationError(f"key {key!r} of Secret {name!r} is empty: put the credential in it")
        return value

    def _usable(self, secret: dict[str, Any]) -> bool:
        if str(secret.get("type") or "") not in USABLE_TYPES:
            return False
        label = self.access.label
        if label is None:
            return True
        labels = (secret.get("metadata") or {}).get("labels") or {}
        key, value = label
        return labels.get(key) == value

    def _not_found(self, name: str) -> str:
        """One answer for missing, unlabelled and non-Opaque Secrets: the tenant learns nothing more."""
        label = self.access.required_label
        if label is None:
            return (
                f"Secret {name!r} not found in namespace {self.namespace!r} (or not of type Opaque): create it, "
                "or fix the name in the spec"
            )
        return (
            f"Secret {name!r} not found in namespace {self.namespace!r}, or it lacks the label {label} the "
            f"operator requires (or is not of type Opaque): create it, label it (kubectl label secret {name} "
            f"-n {self.namespace} {label}), or fix the name in the spec"
        )

    async def _get(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.kube.get_secret(self.namespace, name)
        except InvalidNameError as err:
            raise ConfigurationError(str(err)) from None
        except KubeError as err:
            if err.status_code in (401, 403):
                raise ConfigurationError(
                    f"the operator may not read Secret {name!r} in namespace {self.namespace!r} "
                    f"(HTTP {err.status_code}): its administrator must allow it (chart values watchNamespaces, "
                    "secrets.allowedNames)"
                ) from None
            raise TransientError(f"could not read Secret {name!r} in namespace {self.namespace!r}: {err}") from None
