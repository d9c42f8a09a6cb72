"""Reminders as business days run them: plan and record the day, write its messages (and, later, send them)."""
