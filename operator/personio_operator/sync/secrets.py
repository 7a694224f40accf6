"""Credentials for one run, already resolved (from Kubernetes Secrets, Secret YAML files or env)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class RunSecrets(BaseModel):
    model_config = ConfigDict(frozen=True)

    personio_client_id: str
    personio_client_secret: SecretStr
    scim_token: SecretStr
