"""Credentials for local runs: Kubernetes Secret YAML files (``data`` base64 or ``stringData``)
matched by the spec's secret refs, else environment variables. Values never appear in errors."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from pydantic import SecretStr

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.errors import ConfigurationError
from personio_operator.sync.secrets import RunSecrets

ENV_CLIENT_ID = "PERSONIO_CLIENT_ID"
ENV_CLIENT_SECRET = "PERSONIO_CLIENT_SECRET"
ENV_SCIM_TOKEN = "SCIM_TOKEN"

SecretData = dict[str, dict[str, SecretStr]]  # Secret name -> key -> value


def load_secret_files(paths: Sequence[Path]) -> SecretData:
    """Every ``kind: Secret`` document in the files, by name. Later files win for the same name and key."""
    secrets: SecretData = {}
    for path in paths:
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except OSError as err:
            raise ConfigurationError(f"cannot read the Secret file {path}: {err.strerror}") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigurationError(f"{path}{where} is not valid YAML") from None
        for index, document in enumerate(documents):
            if document is None:
                continue
            name, values = secret_from_document(document, f"{path} document {index + 1}")
            secrets.setdefault(name, {}).update(values)
    return secrets


def secret_from_document(document: object, where: str) -> tuple[str, dict[str, SecretStr]]:
    if not isinstance(document, dict) or document.get("kind") != "Secret":
        raise ConfigurationError(f"{where} is not a Kubernetes Secret (expected kind: Secret)")
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{where}: the Secret has no metadata.name")
    values: dict[str, SecretStr] = {}
    for key, encoded in (document.get("data") or {}).items():
        try:
            values[str(key)] = SecretStr(base64.b64decode(str(encoded), validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigurationError(
                f"{where}: data.{key} of Secret {name} is not base64-encoded UTF-8 text; "
                "put plain text under stringData instead"
            ) from None
    for key, text in (document.get("stringData") or {}).items():
        values[str(key)] = SecretStr(str(text))
    return name, values


def resolve_secrets(
    spec: PersonioIntegrationSpec, secret_files: SecretData, env: Mapping[str, str] | None = None
) -> RunSecrets:
    """Look up the spec's three credentials in the Secret files, falling back to the environment."""
    env = os.environ if env is None else env
    personio = spec.personio.credentials_secret_ref
    scim = spec.target.scim.credentials_secret_ref
    wanted = {
        "client_id": (personio.name, personio.client_id_key, ENV_CLIENT_ID),
        "client_secret": (personio.name, personio.client_secret_key, ENV_CLIENT_SECRET),
        "scim_token": (scim.name, scim.key, ENV_SCIM_TOKEN),
    }
    found: dict[str, SecretStr] = {}
    missing: list[str] = []
    for field, (secret_name, key, env_name) in wanted.items():
        value = secret_files.get(secret_name, {}).get(key)
        if value is None and env.get(env_name):
            value = SecretStr(env[env_name])
        if value is None or not value.get_secret_value().strip():
            missing.append(f"key {key!r} of Secret {secret_name!r} (or ${env_name})")
        else:
            found[field] = value
    if missing:
        raise ConfigurationError(
            "missing credentials: "
            + "; ".join(missing)
            + ". Pass a Secret YAML file with --secrets, or set the environment variable(s)."
        )
    return RunSecrets(
        personio_client_id=found["client_id"].get_secret_value().strip(),
        personio_client_secret=found["client_secret"],
        scim_token=found["scim_token"],
    )
