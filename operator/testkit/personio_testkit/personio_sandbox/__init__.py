"""A local Personio: the real v1 and v2 HTTP APIs over a generated or fixture company.

company = generate_company(employees=250, seed=7)
with SandboxServer(company, SandboxConfig(rate_limits=False)) as sandbox:
    sandbox.base_url   # http://127.0.0.1:PORT
    sandbox.company.terminate(1042)
    sandbox.faults.add("/v2/persons", status=502, times=2)
"""

from personio_testkit.personio_sandbox.clock import SandboxClock
from personio_testkit.personio_sandbox.company import Company
from personio_testkit.personio_sandbox.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN_LIFETIME_SECONDS,
    KNOWN_SCOPES,
    RateLimitRule,
    SandboxConfig,
    V1Quirks,
    default_rate_limits,
)
from personio_testkit.personio_sandbox.faults import FaultInjector, PageFault, RequestFault
from personio_testkit.personio_sandbox.fixtures import FixtureError, company_from_dict, load_company, save_company
from personio_testkit.personio_sandbox.generator import generate_company
from personio_testkit.personio_sandbox.models import CompanyData, Employment, OrgUnit, Person, Workplace
from personio_testkit.personio_sandbox.server import SandboxServer
from personio_testkit.personio_sandbox.stats import SandboxStats
from personio_testkit.personio_sandbox.tokens import Credentials

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TOKEN_LIFETIME_SECONDS",
    "KNOWN_SCOPES",
    "Company",
    "CompanyData",
    "Credentials",
    "Employment",
    "FaultInjector",
    "FixtureError",
    "OrgUnit",
    "PageFault",
    "Person",
    "RateLimitRule",
    "RequestFault",
    "SandboxClock",
    "SandboxConfig",
    "SandboxServer",
    "SandboxStats",
    "V1Quirks",
    "Workplace",
    "company_from_dict",
    "default_rate_limits",
    "generate_company",
    "load_company",
    "save_company",
]
