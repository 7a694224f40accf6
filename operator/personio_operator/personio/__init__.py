"""Personio source: domain model, v2/v1 client and the local sandbox."""
