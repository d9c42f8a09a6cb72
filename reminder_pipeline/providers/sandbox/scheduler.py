"""Jobs run later on a few background threads: the sandbox's callbacks never hold up a send's answer.

The threads start with the first job. :meth:`Scheduler.stop` forgets what has not started and waits
for what has (the poster aborts posts in flight first, so that is quick).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], None]


class Scheduler:
    def __init__(self, workers: int, max_pending: int) -> None:
        self.workers = max(1, workers)
        self.max_pending = max_pending
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._running = 0
        self._threads: list[threading.Thread] = []
        self._stopped = False

    def after(self, seconds: float, job: Job) -> bool:
        """Run ``job`` in ``seconds`` (or as soon as a thread is free); False when stopped or full."""
        with self._changed:
            if self._stopped or len(self._heap) >= self.max_pending:
                return False
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, seconds), next(self._order), job))
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"sandbox-webhooks-{len(self._threads)}")
                thread.daemon = True
                self._threads.append(thread)
                thread.start()
            self._changed.notify()
        return True

    def pending(self) -> int:
        """Jobs waiting or running."""
        with self._changed:
            return len(self._heap) + self._running

    def wait_until_idle(self, timeout_seconds: float, also_busy: Callable[[], bool] = lambda: False) -> bool:
        """Whether every job (and whatever ``also_busy`` says) was done within ``timeout_seconds``."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            with self._changed:
                busy, stopped = bool(self._heap or self._running), self._stopped
            if not busy and not also_busy():  # asked outside the lock: ``also_busy`` may take its own
                return True
            left = deadline - time.monotonic()
            if left <= 0 or stopped:
                return False
            with self._changed:
                self._changed.wait(min(left, 0.05))

    def _work(self) -> None:
        while True:
            with self._changed:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, _, job = heapq.heappop(self._heap)
                        self._running += 1
                        break
                    self._changed.wait(self._heap[0][0] - now if self._heap else None)
            try:
                job()
            except Exception:
                logger.exception("a sandbox webhook job failed")
            finally:
                with self._changed:
                    self._running -= 1
                    self._changed.notify_all()

    def stop(self) -> int:
        """Forget the jobs not started and wait for the running ones; how many were forgotten."""
        with self._changed:
            self._stopped = True
            forgotten = len(self._heap)
            self._heap.clear()
            self._changed.notify_all()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
        return forgotten
