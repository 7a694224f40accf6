"""Exact companies from JSON or YAML files (the ``CompanyData`` format), and writing them back."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.models import CompanyData


class FixtureError(ValueError):
    """A fixture file that cannot become a company; the message says which file and what to fix."""


def load_company(path: str | Path) -> Company:
    """Read a company fixture (``.json``, ``.yaml`` or ``.yml``). Ids, e-mails and references are checked."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FixtureError(f"Cannot read company fixture {path}: {error.strerror}.") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise FixtureError(f"Company fixture {path} is not valid {path.suffix.lstrip('.').upper()}: {error}") from None
    return company_from_dict(raw, source=str(path))


def company_from_dict(raw: object, *, source: str = "company fixture") -> Company:
    if not isinstance(raw, dict):
        raise FixtureError(f"{source} must be a mapping with keys such as persons, departments, teams, workplaces.")
    try:
        data = CompanyData.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)[:10]
        )
        raise FixtureError(f"{source} is not a valid company: {problems}") from None
    try:
        return Company(data)
    except ValueError as error:
        raise FixtureError(f"{source} is not a valid company: {error}") from None


def save_company(company: Company, path: str | Path) -> None:
    """Write a company as a fixture (YAML unless the file name ends in ``.json``)."""
    path = Path(path)
    data = company.to_data().model_dump(mode="json", exclude_defaults=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
