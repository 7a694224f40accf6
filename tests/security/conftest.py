"""Fixtures of the security tests: the operator-in-the-loop ones are the controller tests' own."""

from tests.controller.conftest import api, clock, cluster, kmock_options, personio, smtp  # noqa: F401
