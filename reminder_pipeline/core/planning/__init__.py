"""The reminder policy engine: one decision per customer per day, and the outbox rows it plans."""
