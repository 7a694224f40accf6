"""Credentials for one run, already resolved (from Kubernetes Secrets, Secret YAML files or env)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from personio_operator.redaction import remember_secret


class RunSecrets(BaseModel):
    model_config = ConfigDict(frozen=True)

    personio_client_id: str
    personio_client_secret: SecretStr
    scim_token: SecretStr

    @model_validator(mode="after")
    def _remember(self) -> RunSecrets:
        """Whatever path read them, these values are masked in every text that leaves the process."""
        remember_secret(self.personio_client_id)
        remember_secret(self.personio_client_secret.get_secret_value())
        remember_secret(self.scim_token.get_secret_value())
        return self
