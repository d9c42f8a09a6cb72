"""The demo: deterministic synthetic billing data (also for tests, benchmarks and evaluating risk models and
reminder policies), written as a billing system's files, and ``reminders demo``, which runs the pipeline on it."""
