"""The provider sandbox: Twilio's and SendGrid's APIs on one local port, faithful enough that the
official SDKs cannot tell it from the real ones, with faults on demand and a log of what it accepted.

Run it in-process with :func:`running_sandbox`, or as ``reminders sandbox``; drive it with
:class:`SandboxControl`.
"""

from reminder_pipeline.providers.sandbox.control import SandboxControl, SandboxControlError
from reminder_pipeline.providers.sandbox.faults import HEAVY, FaultSpec, FaultSpecError, RateLimit
from reminder_pipeline.providers.sandbox.server import RunningSandbox, running_sandbox, serve_until_stopped
from reminder_pipeline.providers.sandbox.state import SandboxConfig

__all__ = [
    "HEAVY",
    "FaultSpec",
    "FaultSpecError",
    "RateLimit",
    "RunningSandbox",
    "SandboxConfig",
    "SandboxControl",
    "SandboxControlError",
    "running_sandbox",
    "serve_until_stopped",
]
