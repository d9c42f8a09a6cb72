"""What every domain shares: business-day partitions, the run clocks, the runs still going, metadata helpers,
retries, and the resources more than one domain uses: the ledger, the policy, the templates and link signer,
the providers."""

import os

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.providers import sendgrid_resource_from_environment, twilio_resource_from_environment

defs = dg.Definitions(
    resources={
        "ledger": LedgerResource(),
        "policy": PolicyResource(),
        "templates": TemplatesResource(path=os.environ.get(settings.TEMPLATES_ENV) or None),
        "links": LinkSignerResource(secret=dg.EnvVar(settings.LINK_SECRET_ENV)),
        "sendgrid": sendgrid_resource_from_environment(),
        "twilio": twilio_resource_from_environment(),
    }
)
