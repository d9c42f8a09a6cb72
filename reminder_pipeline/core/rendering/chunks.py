"""A day's messages rendered, checked and handed on ``RENDER_CHUNK`` at a time.

Only one chunk's bodies are ever in memory (about 2.3 KB a message): what is kept of the day is a
few columns per message and one whole sample message per language and channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from reminder_pipeline.core.rendering.render import RENDER_CHUNK, RenderContext, render_messages

KEPT_COLUMNS = ("outbox_id", "customer_id", "channel", "language", "template", "sms_encoding", "sms_segments")
"""What is kept of every message after its chunk is written (with ``problems``): counts and held messages."""


@dataclass(frozen=True)
class Rendered:
    messages: pl.DataFrame
    """``KEPT_COLUMNS`` and ``problems`` (the checks failed) of every message, by ``outbox_id``."""
    samples: pl.DataFrame
    """Every column of the first message (lowest ``outbox_id``) of each language and channel."""


def render_in_chunks(
    messages: pl.DataFrame,
    lines: pl.DataFrame,
    context: RenderContext,
    check: Callable[[pl.DataFrame], pl.DataFrame],
    write: Callable[[pl.DataFrame], object],
) -> Rendered:
    """``render_messages`` a chunk at a time; ``check(rendered)`` gives each message's ``outbox_id, problems``;
    ``write`` receives the chunk's messages with ``problems`` and ``customer_id`` (from ``messages``)."""
    chunk_of = messages.select("outbox_id", (pl.int_range(pl.len()) // RENDER_CHUNK).alias("_chunk"))
    lines_of = lines.join(chunk_of, on="outbox_id", how="inner").partition_by("_chunk", as_dict=True, include_key=False)
    kept, samples = [], []
    for index, start in enumerate(range(0, max(messages.height, 1), RENDER_CHUNK)):
        chunk = messages.slice(start, RENDER_CHUNK)
        rendered = render_messages(chunk, lines_of.get((index,), lines.clear()), context)
        rendered = rendered.join(check(rendered), on="outbox_id", how="left").join(
            chunk.select("outbox_id", "customer_id"), on="outbox_id", how="left"
        )
        write(rendered)
        kept.append(rendered.select(*KEPT_COLUMNS, "problems"))
        samples.append(_firsts(rendered))
    return Rendered(pl.concat(kept).sort("outbox_id"), _firsts(pl.concat(samples)))


def _firsts(rendered: pl.DataFrame) -> pl.DataFrame:
    return rendered.sort("outbox_id").group_by("language", "channel", maintain_order=True).first()
