"""Reading a PersonioIntegration YAML file for local runs, with errors that name the field to fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.errors import ConfigurationError

API_VERSION = "hrsync.dev/v1alpha1"
KIND = "PersonioIntegration"


@dataclass(frozen=True)
class IntegrationFile:
    name: str
    spec: PersonioIntegrationSpec
    other_documents: list[dict[str, Any]]  # e.g. Secrets kept in the same file


def load_integration(path: Path) -> IntegrationFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigurationError(f"cannot read {path}: {err.strerror}") from None
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise ConfigurationError(f"{path} is not valid YAML{where}: {problem}") from None
    integrations = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == KIND]
    if len(integrations) != 1:
        found = "no" if not integrations else str(len(integrations))
        raise ConfigurationError(f"{path} must hold exactly one object with kind: {KIND}; found {found}")
    (integration,) = integrations
    if integration.get("apiVersion") != API_VERSION:
        raise ConfigurationError(
            f"{path}: apiVersion is {integration.get('apiVersion')!r}; this version reads {API_VERSION!r}"
        )
    spec_data = integration.get("spec")
    if not isinstance(spec_data, dict):
        raise ConfigurationError(f"{path}: the {KIND} has no spec (a mapping with personio and target)")
    try:
        spec = PersonioIntegrationSpec.model_validate(spec_data)
    except ValidationError as err:
        raise ConfigurationError(f"{path} has an invalid spec:\n{describe_validation_error(err)}") from None
    name = (integration.get("metadata") or {}).get("name") or path.stem
    others = [doc for doc in documents if doc is not integration and isinstance(doc, dict)]
    return IntegrationFile(name=str(name), spec=spec, other_documents=others)


def describe_validation_error(err: ValidationError) -> str:
    """One line per problem: ``spec.<camelCase path>: what is wrong`` (never the offending secret values:
    the spec holds none, only Secret names)."""
    lines = []
    for problem in err.errors(include_url=False):
        path = ".".join(["spec", *(str(part) for part in problem["loc"])])
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; fields are camelCase)"
        elif problem["type"] == "missing":
            message = "required field is missing"
        lines.append(f"  {path}: {message}")
    return "\n".join(lines)
