from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.policy.config import load_policy
from reminder_pipeline.core.segments import segment_customers, segment_summary
from reminder_pipeline.core.yaml_config import ConfigError

DAY = date(2026, 6, 30)


def test_the_shipped_policy_loads() -> None:
    policy = load_policy()
    assert list(policy.segmentation.risk_bands) == ["low", "medium", "high"]
    assert policy.segmentation.aging_labels() == ["not yet due", "1-7", "8-30", "31-60", "60+"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("low: 0.3", "low: 0.7"), "strictly increase"),
        (("high: 1.0", "high: 0.9"), "end at 1.0"),
        (("aging_edges: [7, 30, 60]", "aging_edges: [30, 7]"), "increasing"),
        (("      - {name: large}\n    JPY", "      - {name: large, below: 9}\n    JPY"), "the last none"),
        (("segmentation:", "segmentaton:"), "line"),
    ],
)
def test_a_bad_policy_is_refused_with_a_pointer(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = Path(load_policy.__globals__["DEFAULT_POLICY"]).read_text()
    assert change[0] in text
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError, match=message):
        load_policy(path)


def test_segments_combine_band_aging_value_and_a_usable_channel() -> None:
    scores = pl.DataFrame(
        {"customer_id": ["A", "B", "C"], "p_late": [0.9, 0.1, 0.5], "risk_band": ["high", "low", "medium"]}
    )
    open_invoices = pl.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "due_date": [DAY - timedelta(45), DAY + timedelta(5), DAY - timedelta(2), DAY - timedelta(90)],
            "currency": ["EUR", "EUR", "JPY", "USD"],
            "balance_minor": [200_000, 100_000, 120_000, 100],
        }
    )
    utc = pl.Datetime("us", "UTC")
    customers = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "email": ["a@example.com", None, "c@example.com"],
            "phone": ["+4915112345678", "+819012345678", None],
            "preferred_channel": ["sms", "email", None],
            "email_opt_out_at": [None, None, DAY],
            "sms_opt_out_at": [None, None, None],
            "sms_consent": [True, True, None],
        },
        schema_overrides={"email_opt_out_at": utc, "sms_opt_out_at": utc},
    )
    segments = segment_customers(scores, open_invoices, customers, load_policy().segmentation, DAY)
    assert segments.select("customer_id", "segment").rows() == [
        ("A", "high / 31-60 / medium / sms"),
        ("B", "low / 1-7 / medium / sms"),
        ("C", "medium / 60+ / small / none"),
    ]
    assert segments.filter(pl.col("customer_id") == "A")["open_balance_minor"].to_list() == [300_000]
    assert segment_summary(segments)["customers"].sum() == 3
