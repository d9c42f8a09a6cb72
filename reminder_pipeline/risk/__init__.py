"""Risk as business days run it: features, the model registry, scores and segments over the ledger."""
