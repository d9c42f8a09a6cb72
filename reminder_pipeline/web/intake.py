"""What every webhook does once its request is authentic: store it durably, then process it, then answer.

One writer thread per app does the writing. The requests waiting when it is free are taken together
(at most ``MAX_BATCH_REQUESTS``, about ``MAX_BATCH_BYTES`` of bodies): their events are stored in one
transaction and committed before anything is answered; those new are then processed together in one
more (:func:`reminder_pipeline.listening.inbox.process_events`: each alone should anything go wrong),
and each request is answered with what became of its own event. Nothing is acknowledged before its commit,
each event is still claimed before it is handled, and a crash in between leaves events ``received``
for :func:`~reminder_pipeline.listening.inbox.process_pending` — the guarantees of one request at a
time, with two commits per batch instead of two per request (and no writers queueing in SQLite's
busy handler, which sleeps between tries). A source without a handler leaves its event ``received``.

On a SQLite file the writer's commits do not checkpoint the write-ahead log: the writer does, once the batch
is answered (:mod:`reminder_pipeline.web.checkpoints`).

The requests of a batch are stored grouped by their handler's group (the delivery events, the payments):
none of them was answered before the others arrived, so no order among them is lost, and each group's
events then go to its set-based handler in one run (:mod:`reminder_pipeline.listening.batched`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from starlette.responses import JSONResponse

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    Handler,
    Handlers,
    InboundEvent,
    check_dedupe_key,
    process_events,
    store_events,
)
from reminder_pipeline.web.checkpoints import WriterLedger
from reminder_pipeline.web.refusal import Refusal, malformed
from reminder_pipeline.web.settings import WebSettings

log = logging.getLogger("reminder_pipeline.web")

MAX_BATCH_REQUESTS = 64
MAX_BATCH_BYTES = 128 * 1024
"""A batch stops growing past this many bytes of bodies: a SendGrid batch may hold thousands of events, and
its processing transaction holds SQLite's write lock (and the answers of the whole batch) meanwhile."""


@dataclass(frozen=True)
class Taken:
    """What became of an authentic request: its event (None: stored before, a no-op) and its status."""

    event_id: int | None
    status: EventStatus | None = None
    detail: str = ""
    reply: str | None = None

    @property
    def duplicate(self) -> bool:
        return self.event_id is None

    def response(self) -> JSONResponse:
        if self.duplicate:
            return JSONResponse({"status": "duplicate"})
        payload: dict[str, Any] = {"event_id": self.event_id, "status": str(self.status)}
        return JSONResponse(payload)


@dataclass
class _Request:
    """An authentic request waiting for the writer, and the future its endpoint awaits."""

    source: EventSource
    dedupe_key: str
    body: str
    context: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Taken] = field(repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        return f" ({self.context})" if self.context else ""

    def answer(self, taken: Taken, answers: _Answers | None = None) -> None:
        self._settle(lambda: self.future.set_result(taken), answers)

    def fail(self, error: BaseException, answers: _Answers | None = None) -> None:
        self._settle(lambda: self.future.set_exception(error), answers)

    def _settle(self, settle: Any, answers: _Answers | None) -> None:
        def once() -> None:
            if not self.future.done():
                settle()

        if answers is not None:
            answers.add(self.loop, once)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self.loop.call_soon_threadsafe(once)


class _Answers:
    """Answers handed to their event loops together: one wake-up of a loop per batch, not one per request."""

    def __init__(self) -> None:
        self._waiting: dict[asyncio.AbstractEventLoop, list[Callable[[], None]]] = {}

    def add(self, loop: asyncio.AbstractEventLoop, settle: Callable[[], None]) -> None:
        self._waiting.setdefault(loop, []).append(settle)

    def send(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for loop, settles in waiting.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle_all, settles)


def _settle_all(settles: list[Callable[[], None]]) -> None:
    for settle in settles:
        settle()


class Intake:
    """The ledger, the handlers and the clock the endpoints share, and the thread that writes for them."""

    def __init__(self, ledger: Ledger, handlers: Handlers, settings: WebSettings) -> None:
        self.ledger = ledger
        self.handlers = handlers
        self.settings = settings
        self._waiting: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()

    async def take(
        self, source: EventSource, dedupe_key: str, body: str, context: str = "", form: Mapping[str, str] | None = None
    ) -> Taken:
        """Store the event (committed), then process it; ``context`` (already masked) goes to the log line, ``form``
        (the body's fields, when the endpoint parsed them) to its handler (:attr:`InboundEvent.form`).

        :class:`Refusal` 503 when the event could not be stored (the sender retries); 400 for a NUL
        character, which no provider sends and PostgreSQL cannot store in text.
        """
        if "\x00" in dedupe_key or "\x00" in body:
            raise malformed("the request holds a NUL character")
        loop = asyncio.get_running_loop()
        request = _Request(source, dedupe_key, body, context, loop, loop.create_future(), form)
        self._start()
        self._waiting.put(request)
        return await request.future

    def _start(self) -> None:
        with self._lock:
            if self._writer is None or not self._writer.is_alive():  # none yet, or one that died
                self._writer = threading.Thread(target=self._write_until_closed, name="webhook-writer", daemon=True)
                self._writer.start()

    def close(self) -> None:
        """Stop the writer once the requests given to it are answered."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._waiting.put(None)
            writer.join()

    def _write_until_closed(self) -> None:
        writing = WriterLedger(self.ledger)
        try:
            self._write_batches(writing)
        finally:
            writing.close()

    def _write_batches(self, writing: WriterLedger) -> None:
        closing = False
        while not closing:
            first = self._waiting.get()
            if first is None:
                return
            batch = [first]
            try:
                with writing.turn():  # what arrives while another process writes joins this batch
                    batch, closing = self._gather(first)
                    self._write(writing.ledger, batch)
            except Exception as error:  # a bug: every request of the batch still waiting hears of it
                log.exception("webhook batch of %s request(s) not written", len(batch))
                for request in batch:
                    request.fail(error)
            writing.answered()

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """``first`` and the requests waiting behind it, up to the batch's bounds; True: the app is closing."""
        batch, size = [first], len(first.body)
        while len(batch) < MAX_BATCH_REQUESTS and size < MAX_BATCH_BYTES:
            try:
                more = self._waiting.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return batch, True
            batch.append(more)
            size += len(more.body)
        return batch, False

    def _write(self, ledger: Ledger, batch: list[_Request]) -> None:
        now = self.settings.clock()
        valid: list[_Request] = []
        for request in batch:
            try:
                check_dedupe_key(request.dedupe_key)
            except ValueError as error:
                request.fail(error)
                continue
            valid.append(request)
        if not valid:
            return
        valid.sort(key=lambda r: str(getattr(self.handlers.get(r.source), "group", r.source)))  # stable
        try:
            with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
                stored = store_events(connection, [(r.source, r.dedupe_key, r.body) for r in valid], now)
        except LedgerWriteError as error:
            for request in valid:
                log.error("%s event not stored: %s", request.source, error)
                request.fail(Refusal(503, "the event could not be stored; retry later"))
            return
        answers = _Answers()
        to_process: list[tuple[_Request, InboundEvent, Handler]] = []
        for request, event_id in zip(valid, stored, strict=True):
            handler = self.handlers.get(request.source)
            if event_id is None:
                log.info("%s event again%s: already stored, nothing done", request.source, request.shown)
                request.answer(Taken(None), answers)
            elif handler is None:
                log.info("%s event %s stored%s: no handler yet, left received", request.source, event_id, request.shown)
                request.answer(Taken(event_id, EventStatus.RECEIVED), answers)
            else:
                event = InboundEvent(event_id, request.source, request.body, now, request.form)
                to_process.append((request, event, handler))
        answers.send()
        results = process_events(ledger, [(event, handler) for _, event, handler in to_process], now)
        for (request, event, _), done in zip(to_process, results, strict=True):
            log.info("%s event %s%s: %s %s", request.source, event.event_id, request.shown, done.status, done.detail)
            request.answer(Taken(event.event_id, done.status, done.detail, done.reply), answers)
        answers.send()

    def healthy(self) -> bool:
        try:
            with self.ledger.begin() as connection:
                connection.execute(select(inbound_events.c.event_id).limit(1)).all()
        except Exception as error:
            log.warning("health check: the ledger does not answer (%s)", type(error).__name__)
            return False
        return True
