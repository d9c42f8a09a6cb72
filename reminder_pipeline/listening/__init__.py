"""Listening: what providers, payment processors and customers tell us, applied to the ledger at once."""
