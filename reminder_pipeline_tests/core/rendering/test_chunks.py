"""A day's messages rendered a chunk at a time: the same messages written, the same checks failed."""

from __future__ import annotations

import polars as pl
import pytest

from reminder_pipeline.core.rendering import chunks
from reminder_pipeline.core.rendering.chunks import KEPT_COLUMNS, render_in_chunks
from reminder_pipeline.core.rendering.render import render_messages
from reminder_pipeline_tests.core.rendering.examples import golden_set, render_context


def _failing_odd_ids(rendered: pl.DataFrame) -> pl.DataFrame:
    odd = pl.col("outbox_id") % 2 == 1
    return rendered.select("outbox_id", pl.when(odd).then(pl.lit(["a_check"])).otherwise(pl.lit([])).alias("problems"))


def test_the_chunks_write_every_message_once_as_one_rendering_would(monkeypatch: pytest.MonkeyPatch) -> None:
    messages, lines = golden_set("de")
    whole = render_messages(messages, lines, render_context()).sort("outbox_id")
    monkeypatch.setattr(chunks, "RENDER_CHUNK", 2)
    written: list[pl.DataFrame] = []
    result = render_in_chunks(messages, lines, render_context(), _failing_odd_ids, written.append)
    assert len(written) == -(-messages.height // 2) > 1
    assert all(chunk.height <= 2 for chunk in written)
    stored = pl.concat(written).sort("outbox_id")
    assert stored.drop("problems", "customer_id").equals(whole)
    assert stored["customer_id"].to_list() == messages.sort("outbox_id")["customer_id"].to_list()
    assert result.messages.columns == [*KEPT_COLUMNS, "problems"]
    assert result.messages.equals(stored.select(*KEPT_COLUMNS, "problems"))
    firsts = stored.group_by("language", "channel", maintain_order=True).first()
    assert result.samples.sort("language", "channel").equals(firsts.sort("language", "channel"))


def test_a_day_without_messages_writes_an_empty_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    messages, lines = golden_set("de")
    written: list[pl.DataFrame] = []
    result = render_in_chunks(messages.clear(), lines.clear(), render_context(), _failing_odd_ids, written.append)
    assert [chunk.height for chunk in written] == [0]
    assert result.messages.is_empty()
    assert result.samples.is_empty()
