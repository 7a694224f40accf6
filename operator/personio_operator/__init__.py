"""personio-operator: keep an application's users and teams (SCIM 2.0) in step with Personio."""

__version__ = "0.1.0"
