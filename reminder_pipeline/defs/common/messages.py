"""What every domain writing messages shares (reminders, statements, delivery's fallbacks, listening's lookups):
the message templates and the secret that signs links."""

from __future__ import annotations

import dagster as dg

from reminder_pipeline.config_files import load_templates
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.templates import Templates


class LinkSignerResource(dg.ConfigurableResource):
    """Signs the payment and unsubscribe links. The secret only ever comes from ``$REMINDERS_LINK_SECRET``."""

    secret: str

    def signer(self) -> LinkSigner:
        return LinkSigner(self.secret)


class TemplatesResource(dg.ConfigurableResource):
    """The message templates: ``path``, else the shipped ones (``$REMINDERS_TEMPLATES`` sets ``path``)."""

    path: str | None = None

    def load(self) -> Templates:
        return load_templates(self.path)
