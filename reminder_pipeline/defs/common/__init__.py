"""What every domain shares: business-day partitions, the run clock, metadata helpers, retries, the policy."""
