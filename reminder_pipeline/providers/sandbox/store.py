"""Every message the sandbox accepted, kept across its own restarts in a journal of JSON lines.

A send is answered only once its record is written and fsynced, so an audit after a crash (of the
sandbox or the machine) sees every message a client was told was accepted. One writer thread
commits whatever is waiting in one write and one fsync (group commit), so durability does not cap
throughput at one fsync per message. A torn last line (a crash mid-write) is dropped on reload.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Record = dict[str, Any]


class StoreClosed(RuntimeError):
    """The store was closed (the sandbox is stopping): nothing more is accepted."""


class _Op(StrEnum):
    ADD = "add"
    RESET = "reset"
    STOP = "stop"


@dataclass
class _Pending:
    op: _Op
    records: list[Record] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    removed: int = 0


class MessageStore:
    """Thread-safe. Without a ``log_path`` nothing is written and a restart starts empty."""

    def __init__(self, log_path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []
        self.log_path = log_path
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._closed = False
        if log_path is not None:
            self._records = _reload(log_path)
            self._file = log_path.open("a", encoding="utf-8")
            self._writer = threading.Thread(target=self._write_forever, name="sandbox-journal", daemon=True)
            self._writer.start()

    def add(self, records: list[Record]) -> None:
        """Keep ``records``; durable (written and fsynced) when this returns. Raises OSError if it cannot be."""
        self._submit(_Pending(_Op.ADD, records))

    def reset(self) -> int:
        """Forget every message (the journal too); how many there were."""
        return self._submit(_Pending(_Op.RESET)).removed

    def all(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def where(self, keep: Callable[[Record], bool]) -> list[Record]:
        with self._lock:
            return [r for r in self._records if keep(r)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def close(self) -> None:
        """Finish what was submitted; anything submitted later raises :class:`StoreClosed`."""
        stop = _Pending(_Op.STOP)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._writer is not None:
                self._queue.put(stop)
        if self._writer is not None:
            stop.done.wait()
            self._writer.join()
            self._file.close()

    def _submit(self, pending: _Pending) -> _Pending:
        with self._lock:
            if self._closed:
                raise StoreClosed("the sandbox is stopping")
            if self._writer is None:
                self._apply_locked([pending])
            else:
                self._queue.put(pending)
        if self._writer is not None:
            pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending

    def _apply(self, batch: list[_Pending]) -> None:
        with self._lock:
            self._apply_locked(batch)

    def _apply_locked(self, batch: list[_Pending]) -> None:
        for pending in batch:
            if pending.op is _Op.ADD:
                self._records.extend(pending.records)
            elif pending.op is _Op.RESET:
                pending.removed = len(self._records)
                self._records.clear()

    def _write_forever(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = any(p.op is _Op.STOP for p in batch)
            try:
                self._write(batch)
                self._apply(batch)
            except OSError as error:
                logger.exception("the sandbox could not write its journal %s", self.log_path)
                for pending in batch:
                    pending.error = error
            for pending in batch:
                pending.done.set()

    def _write(self, batch: list[_Pending]) -> None:
        for pending in batch:
            if pending.op is _Op.ADD:
                self._file.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pending.records))
            elif pending.op is _Op.RESET:
                self._file.flush()
                self._file.truncate(0)
        self._file.flush()
        os.fsync(self._file.fileno())


def _reload(path: Path) -> list[Record]:
    """The journal's records; a line that cannot be read (a torn write) is dropped and the file rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    records = [r for r in map(_read_line, lines) if r is not None]
    if len(records) != len(lines) or (text and not text.endswith("\n")):  # else the next line joins the last
        logger.warning("rewrote the sandbox journal %s without its unreadable lines", path)
        staged = path.with_suffix(path.suffix + ".tmp")
        with staged.open("w", encoding="utf-8") as out:
            out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
            out.flush()
            os.fsync(out.fileno())
        staged.replace(path)
    return records


def _read_line(line: str) -> Record | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
