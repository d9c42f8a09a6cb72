"""``reminders serve`` under cProfile, every thread profiled (the event loop and the threadpool's workers).

``python -m benchmarks.webhook_server PROFILE serve --port N --db URL`` runs the CLI command in this
process; each thread gets its own profiler when it starts, and after the graceful stop (SIGTERM) the
profiles are merged into ``PROFILE`` (pstats). Without profiling the benchmark runs
``python -m reminder_pipeline.cli serve`` itself.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
from types import FrameType
from typing import Any

from reminder_pipeline.cli import main as reminders

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start_in_thread(_frame: FrameType, _event: str, _arg: Any) -> None:
    """Called once by each new thread (``threading.setprofile``): hands the thread over to a profiler."""
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    profile.enable()


def run(profile_path: str, arguments: list[str]) -> None:
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


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
