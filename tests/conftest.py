"""Shared test configuration. Fixtures live in plugin modules owned by each area."""

pytest_plugins = [
    "tests.plugins.personio_sandbox",
    "tests.plugins.scim_server",
    "tests.plugins.django_scim_server",
    "tests.plugins.leaks",
]
