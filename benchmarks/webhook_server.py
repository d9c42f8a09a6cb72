"""``reminders serve`` for the benchmark's special runs: under cProfile, or with handlers that do nothing.

``python -m benchmarks.webhook_server [--profile PROFILE] [--no-handlers] serve --port N --db URL``
runs the CLI command in this process. ``--profile``: each thread gets its own profiler when it starts
(the event loop, the writer), and after the graceful stop (SIGTERM) the profiles are merged into
``PROFILE`` (pstats). ``--no-handlers``: every source's handler marks its event processed and does
nothing else — what is left is the web and inbox path alone (HTTP, signature checks, storing,
claiming, marking). Otherwise the benchmark runs ``python -m reminder_pipeline.cli serve`` itself.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
from types import FrameType
from typing import Any

from sqlalchemy import Connection

from reminder_pipeline.cli import main as reminders
from reminder_pipeline.listening import inbox
from reminder_pipeline.listening.inbox import EventSource, EventStatus, Handler, HandlerOutcome, InboundEvent
from reminder_pipeline.web import app

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start_in_thread(_frame: FrameType, _event: str, _arg: Any) -> None:
    """Called once by each new thread (``threading.setprofile``): hands the thread over to a profiler."""
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    profile.enable()


def _nothing_done(_connection: Connection, _event: InboundEvent, _now: Any) -> HandlerOutcome:
    return HandlerOutcome(EventStatus.PROCESSED, "nothing done (the benchmark's baseline)")


def _no_handlers() -> dict[EventSource, Handler]:
    return dict.fromkeys(EventSource, _nothing_done)


def profiled(profile_path: str, arguments: list[str]) -> None:
    threading.setprofile(_start_in_thread)
    main_profile = cProfile.Profile()
    _profiles.append(main_profile)
    main_profile.enable()
    try:
        reminders.main(arguments, standalone_mode=False)
    finally:
        main_profile.disable()
        threading.setprofile(None)
        with _lock:
            for profile in _profiles:
                profile.disable()
            stats = pstats.Stats(_profiles[0])
            for profile in _profiles[1:]:
                stats.add(profile)
        stats.dump_stats(profile_path)


def main(arguments: list[str]) -> None:
    profile_path = None
    while arguments and arguments[0].startswith("--"):
        option = arguments.pop(0)
        if option == "--profile":
            profile_path = arguments.pop(0)
        elif option == "--no-handlers":
            app.default_handlers = _no_handlers
            inbox.default_handlers = _no_handlers
        else:
            raise SystemExit(f"unknown option {option}")
    if profile_path is None:
        reminders.main(arguments, standalone_mode=False)
    else:
        profiled(profile_path, arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
