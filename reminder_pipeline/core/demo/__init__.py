"""Deterministic synthetic billing data for demos, tests and evaluating risk models and reminder policies."""
