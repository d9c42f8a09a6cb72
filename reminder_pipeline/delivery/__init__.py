"""Delivery: drain the due outbox through the email and SMS providers, at most once per reminder."""
