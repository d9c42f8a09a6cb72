"""Delivery's pure decisions: the last look before a send, and when to try again."""
