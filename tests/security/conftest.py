"""Fixtures of the security tests: the operator-in-the-loop ones are the controller tests' own, the run ones the sync tests'."""

from tests.controller.conftest import api, clock, cluster, kmock_options, personio, smtp  # noqa: F401
from tests.sync.conftest import harness, make_harness  # noqa: F401
