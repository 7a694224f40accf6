"""Operator configuration from the environment (the Helm chart sets these) and CLI flags."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personio_operator.destinations import DestinationPolicy

ENV_PREFIX = "PERSONIO_OPERATOR_"


class SmtpSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str | None = Field(default=None, description="SMTP server; no e-mails are sent when unset.")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    sender: str = "personio-operator@localhost"
    credentials_secret: str | None = Field(
        default=None, description="Secret in the operator's namespace with keys username and password."
    )
    timeout_seconds: float = Field(default=30, gt=0)


class OperatorSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    operator_namespace: str = "default"
    namespaces: tuple[str, ...] = Field(default=(), description="Watched namespaces; empty means cluster-wide.")
    max_concurrent_runs: int = Field(default=2, ge=1, le=64)
    metrics_port: int | None = Field(default=9090, ge=0, le=65535, description="0 or unset: no metrics server.")
    metrics_host: str = "0.0.0.0"  # noqa: S104 - the Pod's metrics endpoint must be reachable by Prometheus
    tick_seconds: float = Field(default=30, gt=0, description="How often each integration checks for due work.")
    secret_check_seconds: float = Field(
        default=60, ge=0, description="How often a paused integration checks whether its Secrets changed."
    )
    run_budget_seconds: float = Field(
        default=1800, gt=0, description="Time each side of a run (Personio, the app) may take, retries included."
    )
    # --- destinations: where credentials may be sent (PERSONIO_OPERATOR_ALLOWED_*) ---
    destinations: DestinationPolicy = Field(
        default_factory=DestinationPolicy, description="Allowed Personio and SCIM URLs and private networks."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OperatorSettings:
        """Read the ``PERSONIO_OPERATOR_*`` variables; a bad value raises ``ValueError`` naming the variable."""

        destinations = DestinationPolicy.from_env(environ)  # raises ValueError naming the variable

        def get(name: str) -> str | None:
            value = environ.get(ENV_PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        smtp = {
            "host": get("SMTP_HOST"),
            "port": get("SMTP_PORT"),
            "starttls": get("SMTP_STARTTLS"),
            "sender": get("SMTP_FROM"),
            "credentials_secret": get("SMTP_SECRET"),
        }
        values = {
            "operator_namespace": environ.get("POD_NAMESPACE") or None,
            "namespaces": tuple(ns.strip() for ns in (get("NAMESPACES") or "").split(",") if ns.strip()),
            "max_concurrent_runs": get("MAX_CONCURRENT_RUNS"),
            "metrics_port": get("METRICS_PORT"),
            "tick_seconds": get("TICK_SECONDS"),
            "secret_check_seconds": get("SECRET_CHECK_SECONDS"),
            "run_budget_seconds": get("RUN_BUDGET_SECONDS"),
        }
        try:
            return cls(
                smtp=SmtpSettings(**{k: v for k, v in smtp.items() if v is not None}),
                destinations=destinations,
                **{k: v for k, v in values.items() if v is not None},
            )
        except ValidationError as err:
            problems = "; ".join(
                f"{_env_name(error['loc'])}: {error['msg']}" for error in err.errors(include_input=False)
            )
            raise ValueError(f"invalid operator settings: {problems}") from None


_ENV_NAMES = {
    "host": "SMTP_HOST",
    "port": "SMTP_PORT",
    "starttls": "SMTP_STARTTLS",
    "sender": "SMTP_FROM",
    "credentials_secret": "SMTP_SECRET",
    "namespaces": "NAMESPACES",
    "max_concurrent_runs": "MAX_CONCURRENT_RUNS",
    "metrics_port": "METRICS_PORT",
    "tick_seconds": "TICK_SECONDS",
    "secret_check_seconds": "SECRET_CHECK_SECONDS",
    "run_budget_seconds": "RUN_BUDGET_SECONDS",
}


def _env_name(loc: tuple[int | str, ...]) -> str:
    if loc and loc[-1] == "operator_namespace":
        return "POD_NAMESPACE"
    name = next((str(part) for part in reversed(loc) if str(part) in _ENV_NAMES), None)
    return ENV_PREFIX + _ENV_NAMES[name] if name else ".".join(map(str, loc))
