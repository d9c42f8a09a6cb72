"""Dagster wiring only: one folder per domain, each exporting its own ``defs``."""
