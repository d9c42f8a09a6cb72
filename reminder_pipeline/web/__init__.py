"""The web app of ``reminders serve``: signed webhooks into the durable inbox, and ``GET /healthz``."""

from reminder_pipeline.web.app import create_app
from reminder_pipeline.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
