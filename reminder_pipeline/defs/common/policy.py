"""The reminder policy every domain reads: segments, ladders, contact rules."""

from __future__ import annotations

import os

import dagster as dg

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import Policy

POLICY_ENV = "REMINDERS_POLICY"


class PolicyResource(dg.ConfigurableResource):
    """The reminder policy file: ``path``, else ``$REMINDERS_POLICY``, else the shipped default."""

    path: str | None = None

    def load(self) -> Policy:
        return load_policy(self.path or os.environ.get(POLICY_ENV) or None)
