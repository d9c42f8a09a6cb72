"""SMS parts as carriers count them: GSM-7 160/153 septets, extension characters two; UCS-2 70/67 units."""

from __future__ import annotations

import polars as pl
import pytest

from reminder_pipeline.core.rendering.sms import sms_encoding, sms_segments


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("x" * 160, "GSM-7", 1),
        ("x" * 161, "GSM-7", 2),
        ("x" * 306, "GSM-7", 2),
        ("x" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),
        ("€" * 81, "GSM-7", 2),
        ("Müller, Ñandu, Øre, ¿Qué? à é è ù ì ò ß Æ £ ¥ §", "GSM-7", 1),
        ("ç" + "x" * 69, "UCS-2", 1),
        ("ç" + "x" * 70, "UCS-2", 2),
        ("日" * 134, "UCS-2", 2),
        ("日" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),
        ("😀" * 36, "UCS-2", 2),
        ("100\xa0€", "UCS-2", 1),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    frame = pl.DataFrame({"text": [text]})
    found = frame.select(sms_encoding(pl.col("text")).alias("e"), sms_segments(pl.col("text")).alias("s")).row(0)
    assert found == (encoding, segments)
