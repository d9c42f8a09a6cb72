"""The provider sandbox: Twilio's and SendGrid's APIs on one local port, faithful enough that the
official SDKs cannot tell it from the real ones, with faults on demand and a log of what it accepted.

After a send it posts what the providers post: signed Twilio status callbacks to each message's
``StatusCallback`` and signed SendGrid event batches to ``sendgrid_events_url`` (late, lost,
duplicated and out of order as the faults say), and it injects customers' SMS and emails as the
providers' inbound webhooks.

Run it in-process with :func:`running_sandbox`, or as ``reminders sandbox``; drive it with
:class:`SandboxControl`.
"""

from reminder_pipeline.providers.sandbox.control import InboundAnswer, SandboxControl, SandboxControlError
from reminder_pipeline.providers.sandbox.faults import HEAVY, FaultSpec, FaultSpecError, RateLimit
from reminder_pipeline.providers.sandbox.server import RunningSandbox, running_sandbox, serve_until_stopped
from reminder_pipeline.providers.sandbox.state import SandboxConfig
from reminder_pipeline.providers.sandbox.webhooks import WebhookKind, WebhookOutcome

__all__ = [
    "HEAVY",
    "FaultSpec",
    "FaultSpecError",
    "InboundAnswer",
    "RateLimit",
    "RunningSandbox",
    "SandboxConfig",
    "SandboxControl",
    "SandboxControlError",
    "WebhookKind",
    "WebhookOutcome",
    "running_sandbox",
    "serve_until_stopped",
]
