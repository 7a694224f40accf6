"""Sync engine: rules, desired state, team naming, plan, safety guards, apply, run report."""
