"""Reminders: the daily plan (decisions, outbox, audit) and the rendered messages with their checks."""

import os

import dagster as dg

from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.reminders.resources import (
    LINK_SECRET_ENV,
    TEMPLATES_ENV,
    LinkSignerResource,
    TemplatesResource,
)

defs = dg.Definitions(
    assets=[reminder_plan, rendered_messages],
    resources={
        "templates": TemplatesResource(path=os.environ.get(TEMPLATES_ENV) or None),
        "links": LinkSignerResource(secret=dg.EnvVar(LINK_SECRET_ENV)),
    },
)
