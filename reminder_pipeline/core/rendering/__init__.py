"""Rendering reminders: templates per step, tone, language and channel, filled over polars columns."""
