"""The web app of ``reminders serve`` as its own process, on the simulation's clock.

A deployment runs ``reminders serve`` apart from the pipeline; so does a simulation, with one
difference: the app's clock (signatures' freshness, when an event was received) must be the simulated
one. The simulation writes its clock's anchor to a file at each step (:class:`ClockFile`) and the app
reads it when it changes: an anchor instant and the system-wide monotonic time it was set at, so that
both processes' clocks run on together. Run as ``python -m reminder_pipeline.simulation.web_process
--db URL --clock-file PATH [--policy FILE]`` (the simulation's policy, which the webhooks' fallbacks and
HELP answers follow); the secrets come from the environment, as for ``reminders serve``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.listening.handlers import handlers_for
from reminder_pipeline.web import WebSettings, create_app
from reminder_pipeline.web.server import GracefulServer

READY = "web app listening on "


class ClockFile:
    """The simulated clock shared through a file: written by the simulation, read by the app."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._anchor = datetime.now(UTC)
        self._set_at = time.monotonic()

    def write(self, instant: datetime) -> None:
        staged = self.path.with_suffix(".tmp")
        staged.write_text(json.dumps({"at": instant.astimezone(UTC).isoformat(), "monotonic": time.monotonic()}))
        os.replace(staged, self.path)

    def __call__(self) -> datetime:
        with self._lock:
            try:
                stamp = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                stamp = None
            if stamp is not None and stamp != self._seen:
                read = json.loads(self.path.read_text())
                self._anchor, self._set_at, self._seen = datetime.fromisoformat(read["at"]), read["monotonic"], stamp
            return self._anchor + timedelta(seconds=time.monotonic() - self._set_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--clock-file", required=True, type=Path)
    parser.add_argument("--policy", type=Path, default=None)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    settings = replace(WebSettings.from_environment(), clock=ClockFile(arguments.clock_file))
    app = create_app(arguments.db, settings=settings, handlers=handlers_for(load_policy(arguments.policy)))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = GracefulServer(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="on"))
    started = threading.Thread(target=_announce, args=(server, listener.getsockname()[1]), daemon=True)
    started.start()
    server.run(sockets=[listener])


def _announce(server: uvicorn.Server, port: int) -> None:
    while not server.started:
        time.sleep(0.02)
    print(f"{READY}http://127.0.0.1:{port}", flush=True)


if __name__ == "__main__":
    main()
