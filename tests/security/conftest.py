"""Fixtures of the security tests: the controller tests' (operator in the loop) and the sync tests' (runs)."""

from tests.controller.conftest import api, clock, cluster, kmock_options, personio, smtp  # noqa: F401
from tests.sync.conftest import harness, make_harness  # noqa: F401
