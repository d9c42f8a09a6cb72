"""Each blocking check catches its fault, and a sound message passes them all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.rendering import checks, render
from reminder_pipeline.core.rendering.checks import CHECKS, message_problems
from reminder_pipeline.core.rendering.render import render_messages
from reminder_pipeline_tests.core.rendering.examples import SEND_ON, golden_set, render_context

UTC_DT = pl.Datetime("us", "UTC")
BERLIN_MORNING = (datetime(2026, 3, 10, 8, 0, tzinfo=UTC), datetime(2026, 3, 10, 18, 0, tzinfo=UTC))


def _world() -> dict[str, pl.DataFrame]:
    messages, lines = golden_set("de")
    rendered = render_messages(messages, lines, render_context())
    outbox = messages.select(
        "outbox_id",
        "customer_id",
        pl.lit(SEND_ON).alias("send_on"),
        pl.lit(BERLIN_MORNING[0]).cast(UTC_DT).alias("window_start"),
        pl.lit(BERLIN_MORNING[1]).cast(UTC_DT).alias("window_end"),
    )
    balances = lines.select("invoice_id", "balance_minor").unique("invoice_id")
    contacts = messages.select(
        "customer_id",
        "email",
        "phone",
        pl.lit("DE").alias("country"),
        pl.lit("Europe/Berlin").alias("time_zone"),
        pl.lit(None, dtype=UTC_DT).alias("email_opt_out_at"),
        pl.lit(None, dtype=UTC_DT).alias("sms_opt_out_at"),
        pl.lit(True).alias("sms_consent"),
    )
    return {"rendered": rendered, "outbox": outbox, "balances": balances, "contacts": contacts}


def _problems(world: dict[str, pl.DataFrame]) -> dict[int, list[str]]:
    found = message_problems(world["rendered"], world["outbox"], world["balances"], world["contacts"], load_policy())
    return dict(found.iter_rows())


def _change(frame: pl.DataFrame, outbox_id: int, **values: Any) -> pl.DataFrame:
    where = pl.col("outbox_id") == outbox_id
    return frame.with_columns(
        [pl.when(where).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c) for c, v in values.items()]
    )


def test_sound_messages_pass_every_check() -> None:
    assert _problems(_world()) == {i: [] for i in range(1, 7)}


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (
            lambda w: {"rendered": _append(w["rendered"], 2, "body_text", "Gruß {{ customer_name }}")},
            "no_unrendered_placeholder",
        ),
        (
            lambda w: {"rendered": _change(w["rendered"], 3, subject="Zahlung \ue000amount\ue001")},
            "no_unrendered_placeholder",
        ),
        (lambda w: {"rendered": _change(w["rendered"], 5, sms_segments=3)}, "sms_at_most_two_segments"),
        (lambda w: {"rendered": _change(w["rendered"], 2, body_html="<p>no link</p>")}, "email_has_unsubscribe_link"),
        (lambda w: {"rendered": _change(w["rendered"], 2, unsubscribe_url=None)}, "email_has_unsubscribe_link"),
        (lambda w: {"balances": w["balances"].with_columns(pl.col("balance_minor") - 1)}, "amount_matches_ledger"),
        (lambda w: {"rendered": _change(w["rendered"], 2, amount_text="1.310,07\xa0€")}, "amount_matches_ledger"),
        (
            lambda w: {
                "contacts": _change_contact(w["contacts"], "C2", email_opt_out_at=datetime(2026, 3, 9, tzinfo=UTC))
            },
            "no_opted_out_channel",
        ),
        (lambda w: {"contacts": _change_contact(w["contacts"], "C5", sms_consent=False)}, "no_opted_out_channel"),
        (
            lambda w: {"outbox": _change(w["outbox"], 2, window_start=datetime(2026, 3, 10, 6, 30, tzinfo=UTC))},
            "send_window_in_quiet_hours",
        ),
        (
            lambda w: {"outbox": _change(w["outbox"], 2, window_end=datetime(2026, 3, 10, 20, 30, tzinfo=UTC))},
            "send_window_in_quiet_hours",
        ),
        (
            lambda w: {"contacts": _change_contact(w["contacts"], "C2", time_zone=None, phone=None, country="US")},
            "send_window_in_quiet_hours",
        ),
        (
            # 09:00-19:00 in New York is 04:00-14:00 in Adak: a +1 201 number may be anywhere in the US
            lambda w: {
                "contacts": _change_contact(w["contacts"], "C2", time_zone=None, phone="+12015550123", country="US"),
                "outbox": _change(
                    w["outbox"],
                    2,
                    window_start=datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
                    window_end=datetime(2026, 3, 10, 23, 0, tzinfo=UTC),
                ),
            },
            "send_window_in_quiet_hours",
        ),
    ],
)
def test_each_fault_is_caught_by_its_check(fault: Any, check: str) -> None:
    world = _world()
    world |= fault(world)
    problems = _problems(world)
    assert any(check in found for found in problems.values()), problems
    assert all(set(found) <= {check} for found in problems.values()), "only the faulty check fails"
    assert check in CHECKS


def test_in_chunks_the_same_messages_are_written_and_fail_the_same_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def faulty(world: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        late = datetime(2026, 3, 9, tzinfo=UTC)
        return world | {
            "rendered": _change(world["rendered"], 5, sms_segments=3),
            "contacts": _change_contact(world["contacts"], "C2", email_opt_out_at=late),
        }

    whole = _world()
    expected = _problems(faulty(whole))
    monkeypatch.setattr(render, "RENDER_CHUNK", 2)
    monkeypatch.setattr(checks, "RENDER_CHUNK", 2)
    chunked = _world()
    assert chunked["rendered"].equals(whole["rendered"])
    assert _problems(faulty(chunked)) == expected
    assert expected[5] == ["sms_at_most_two_segments"]
    assert expected[2] == ["no_opted_out_channel"]


def _append(frame: pl.DataFrame, outbox_id: int, column: str, text: str) -> pl.DataFrame:
    where = pl.col("outbox_id") == outbox_id
    return frame.with_columns(pl.when(where).then(pl.col(column) + text).otherwise(pl.col(column)).alias(column))


def _change_contact(frame: pl.DataFrame, customer_id: str, **values: Any) -> pl.DataFrame:
    where = pl.col("customer_id") == customer_id
    return frame.with_columns(
        [pl.when(where).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c) for c, v in values.items()]
    )
