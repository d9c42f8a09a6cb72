"""Statements of account: billing cycles, who gets a statement when, and its words."""
