"""Getting billing data in: reading sources and applying validated rows to the ledger."""
