"""Operator configuration from the environment (the Helm chart sets these) and CLI flags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from personio_operator.destinations import DestinationPolicy

ENV_PREFIX = "PERSONIO_OPERATOR_"


class SmtpSettings(BaseModel):
    """The SMTP login comes from the operator's own environment (the chart mounts it from a Secret), never
    through the Kubernetes API: no integration can name it, and the operator needs no RBAC rule for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str | None = Field(default=None, description="SMTP server; no e-mails are sent when unset.")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    sender: str = "personio-operator@localhost"
    username: str | None = Field(default=None, description="SMTP login name (or username_file).")
    password: SecretStr | None = Field(default=None, description="SMTP password (or password_file).")
    username_file: Path | None = Field(default=None, description="File holding the login name, read at each send.")
    password_file: Path | None = Field(default=None, description="File holding the password, read at each send.")
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _one_source_each(self) -> SmtpSettings:
        if self.username is not None and self.username_file is not None:
            raise ValueError("set the SMTP username or a file holding it, not both")
        if self.password is not None and self.password_file is not None:
            raise ValueError("set the SMTP password or a file holding it, not both")
        return self


# -- Which Secrets integrations may use (least privilege) -------------------------------------------------

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_SELECTOR = re.compile(r"[-A-Za-z0-9_./=!,() ]+")


def _is_subdomain(value: str) -> bool:
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


def _is_label_name(value: str) -> bool:
    return len(value) <= 63 and _LABEL_NAME.fullmatch(value) is not None


class SecretAccess(BaseModel):
    """The admin's limits on the Secrets an integration may name (both empty: any Opaque Secret in the
    integration's own namespace)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_names: frozenset[str] = Field(
        default=frozenset(), description="Only Secrets with these names; empty: any name."
    )
    required_label: str | None = Field(
        default=None, description="'key=value': only Secrets carrying this label (their writer's consent)."
    )

    @field_validator("allowed_names")
    @classmethod
    def _names_are_kubernetes_names(cls, names: frozenset[str]) -> frozenset[str]:
        bad = sorted(name for name in names if not _is_subdomain(name))
        if bad:
            raise ValueError(f"not valid Secret names: {', '.join(map(repr, bad[:5]))}")
        return names

    @field_validator("required_label")
    @classmethod
    def _label_is_key_equals_value(cls, label: str | None) -> str | None:
        if label is None:
            return None
        key, equals, value = label.partition("=")
        prefix, slash, name = key.rpartition("/")
        valid_key = _is_label_name(name) and (not slash or _is_subdomain(prefix))
        if not equals or not valid_key or (value and not _is_label_name(value)):
            raise ValueError("expected a label as key=value, e.g. hrsync.dev/personio-operator=allowed")
        return label

    @property
    def label(self) -> tuple[str, str] | None:
        if self.required_label is None:
            return None
        key, _, value = self.required_label.partition("=")
        return key, value


class OperatorSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    operator_namespace: str | None = Field(
        default=None, description="The operator's own namespace (POD_NAMESPACE); integrations there are refused."
    )
    namespaces: tuple[str, ...] = Field(default=(), description="Watched namespaces; empty means cluster-wide.")
    max_concurrent_runs: int = Field(default=2, ge=1, le=64)
    metrics_port: int | None = Field(default=9090, ge=0, le=65535, description="0 or unset: no metrics server.")
    metrics_host: str = "0.0.0.0"  # noqa: S104 - the Pod's metrics endpoint must be reachable by Prometheus
    secret_check_seconds: float = Field(
        default=60, ge=0, description="How often a paused integration checks whether its Secrets changed."
    )
    retry_seconds: float = Field(
        default=10, gt=0, description="First wait before work that failed is tried again (doubling, up to 5 min)."
    )
    label_selector: str | None = Field(
        default=None,
        max_length=1024,
        description="Serve only integrations with these labels (a Kubernetes label selector): shards replicas.",
    )
    run_budget_seconds: float = Field(
        default=1800, gt=0, description="Time each side of a run (Personio, the app) may take, retries included."
    )
    discovery: bool = Field(
        default=False,
        description="The operator may list/watch Namespaces and CRDs (chart: rbac.discovery); else kopf does not try.",
    )
    secret_access: SecretAccess = Field(default_factory=SecretAccess)
    # --- destinations: where credentials may be sent (PERSONIO_OPERATOR_ALLOWED_*) ---
    destinations: DestinationPolicy = Field(
        default_factory=DestinationPolicy, description="Allowed Personio and SCIM URLs and private networks."
    )

    @field_validator("label_selector")
    @classmethod
    def _selector_is_one_line(cls, selector: str | None) -> str | None:
        if selector is not None and not _LABEL_SELECTOR.fullmatch(selector):
            raise ValueError(
                "expected a Kubernetes label selector, e.g. hrsync.dev/shard=a or hrsync.dev/shard in (a,b)"
            )
        return selector

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OperatorSettings:
        """Read the ``PERSONIO_OPERATOR_*`` variables; a bad value raises ``ValueError`` naming the variable."""

        destinations = DestinationPolicy.from_env(environ)  # raises ValueError naming the variable

        def get(name: str) -> str | None:
            value = environ.get(ENV_PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        if get("SMTP_SECRET"):
            raise ValueError(
                f"{ENV_PREFIX}SMTP_SECRET is no longer read: the SMTP login now comes from the operator's own "
                f"environment ({ENV_PREFIX}SMTP_USERNAME_FILE/{ENV_PREFIX}SMTP_PASSWORD_FILE, which the chart sets "
                "from smtp.existingSecret)"
            )
        smtp = {
            "host": get("SMTP_HOST"),
            "port": get("SMTP_PORT"),
            "starttls": get("SMTP_STARTTLS"),
            "sender": get("SMTP_FROM"),
            "username": get("SMTP_USERNAME"),
            "password": environ.get(ENV_PREFIX + "SMTP_PASSWORD") or None,
            "username_file": get("SMTP_USERNAME_FILE"),
            "password_file": get("SMTP_PASSWORD_FILE"),
        }
        secret_access = {
            "allowed_names": frozenset(name.strip() for name in (get("SECRET_NAMES") or "").split(",") if name.strip()),
            "required_label": get("SECRET_LABEL"),
        }
        values = {
            "operator_namespace": environ.get("POD_NAMESPACE") or None,
            "namespaces": tuple(ns.strip() for ns in (get("NAMESPACES") or "").split(",") if ns.strip()),
            "max_concurrent_runs": get("MAX_CONCURRENT_RUNS"),
            "metrics_port": get("METRICS_PORT"),
            "secret_check_seconds": get("SECRET_CHECK_SECONDS"),
            "retry_seconds": get("RETRY_SECONDS"),
            "label_selector": get("LABEL_SELECTOR"),
            "run_budget_seconds": get("RUN_BUDGET_SECONDS"),
            "discovery": get("DISCOVERY"),
        }
        try:
            return cls(
                smtp=SmtpSettings(**{k: v for k, v in smtp.items() if v is not None}),
                secret_access=SecretAccess(**{k: v for k, v in secret_access.items() if v is not None}),
                destinations=destinations,
                **{k: v for k, v in values.items() if v is not None},
            )
        except ValidationError as err:
            problems = "; ".join(
                f"{_env_name(error['loc'], err.title)}: {error['msg']}" for error in err.errors(include_input=False)
            )
            raise ValueError(f"invalid operator settings: {problems}") from None


_ENV_NAMES = {
    "host": "SMTP_HOST",
    "port": "SMTP_PORT",
    "starttls": "SMTP_STARTTLS",
    "sender": "SMTP_FROM",
    "username": "SMTP_USERNAME",
    "password": "SMTP_PASSWORD",
    "username_file": "SMTP_USERNAME_FILE",
    "password_file": "SMTP_PASSWORD_FILE",
    "namespaces": "NAMESPACES",
    "max_concurrent_runs": "MAX_CONCURRENT_RUNS",
    "retry_seconds": "RETRY_SECONDS",
    "label_selector": "LABEL_SELECTOR",
    "metrics_port": "METRICS_PORT",
    "secret_check_seconds": "SECRET_CHECK_SECONDS",
    "run_budget_seconds": "RUN_BUDGET_SECONDS",
    "discovery": "DISCOVERY",
    "allowed_names": "SECRET_NAMES",
    "required_label": "SECRET_LABEL",
}
# Errors of a whole model (no field in `loc`): name the variables that model reads.
_MODEL_ENV_NAMES = {"SmtpSettings": "SMTP_*"}


def _env_name(loc: tuple[int | str, ...], model: str) -> str:
    if loc and loc[-1] == "operator_namespace":
        return "POD_NAMESPACE"
    name = next((str(part) for part in reversed(loc) if str(part) in _ENV_NAMES), None)
    if name:
        return ENV_PREFIX + _ENV_NAMES[name]
    if model in _MODEL_ENV_NAMES:
        return ENV_PREFIX + _MODEL_ENV_NAMES[model]
    return ".".join(map(str, loc))
