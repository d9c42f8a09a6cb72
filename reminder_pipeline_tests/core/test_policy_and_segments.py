from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import LaterInvoices, StatementSms
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
        # an assignment naming a segment the segmentation does not have
        (
            ("{risk_band: high, ladder: high_risk}", "{risk_band: severe, ladder: high_risk}"),
            "line {line}, field 'assignments.0.risk_band': unknown risk band 'severe'",
        ),
        (
            ("{risk_band: low, ladder: low_risk}", "{risk_band: low, ladder: gentle}"),
            "line {line}, field 'assignments.1.ladder': unknown ladder 'gentle'",
        ),
        (("  - {ladder: standard}", "  - {ladder: standard, value_tier: huge}"), "unknown value tier 'huge'"),
        (("  - {ladder: standard}\n", ""), "the last assignment must match every segment"),
        # a send window wider than 08:00-21:00, or inside out
        (
            ('send_window: {start: "09:00", end: "19:00"}', 'send_window: {start: "07:30", end: "19:00"}'),
            "line {line}, field 'contact.send_window': .*wider than the allowed 08:00-21:00",
        ),
        (
            ('send_window: {start: "09:00", end: "19:00"}', 'send_window: {start: "19:00", end: "09:00"}'),
            "starts \\(19:00\\) after it ends",
        ),
        # overlapping or misordered steps, a hand-off before the end, a message without a channel
        (
            ("{name: second_reminder, offset_days: 7,", "{name: second_reminder, offset_days: 1,"),
            "line {line}, field 'ladders.standard.steps.2.offset_days': steps overlap: 'second_reminder' \\(day 1\\)",
        ),
        (
            (
                "{name: collector, offset_days: 30, action: handoff}",
                "{name: collector, offset_days: 30, action: handoff, channels: [sms]}",
            ),
            "hands off to a collector and sends nothing",
        ),
        (
            (
                "{name: reminder, offset_days: 3, channels: [email], tone: friendly}",
                "{name: reminder, offset_days: 3, channels: [], tone: friendly}",
            ),
            "names no channel",
        ),
        # a tone that does not fit the step's day
        (
            (
                "{name: courtesy, offset_days: -3, channels: [email], tone: courtesy}",
                "{name: courtesy, offset_days: -3, channels: [email], tone: final}",
            ),
            "line {line}, field 'ladders.standard.steps.0.tone': a final reminder is for an overdue invoice",
        ),
        (
            (
                "{name: reminder, offset_days: 1, channels: [email, sms], tone: friendly}",
                "{name: reminder, offset_days: 1, channels: [email, sms], tone: courtesy}",
            ),
            "a courtesy note goes before the due date",
        ),
        (
            (
                "{name: second_reminder, offset_days: 7, channels: [email, sms], tone: friendly}",
                "{name: reminder, offset_days: 7, channels: [email, sms], tone: friendly}",
            ),
            "step name 'reminder' is used twice in ladder 'standard'",
        ),
        # typos in a field name or a value
        (
            ("min_days_between_contacts: 3", "min_days_between_contact: 3"),
            "line {line}, field 'contact.min_days_between_contact': Extra inputs are not permitted",
        ),
        (
            ("tone: firm}", "tone: furm}"),
            "field 'ladders.standard.steps.3.tone': Input should be 'courtesy', 'friendly', 'firm' or 'final'",
        ),
        (
            ("business_days: [mon, tue, wed, thu, fri]", "business_days: [mon, tue, wed, thu, fry]"),
            "line {line}, field 'contact.business_days.4'",
        ),
        (("weekly_cap: 2", "weekly_cap: 9"), "field 'contact.weekly_cap': Input should be less than or equal to 7"),
        (
            ("  default_language: en", "  countries: {XX: {quiet_days: [2026-12-24]}}\n  default_language: en"),
            "unknown country code",
        ),
        # issue 8, item 6: numbers beyond any sensible policy, and dates that do not exist
        (
            ("{name: reminder, offset_days: 1,", "{name: reminder, offset_days: 99999999999999999999,"),
            "line {line}, field 'ladders.standard.steps.1.offset_days': Input should be less than or equal to 1095",
        ),
        (
            ("{name: courtesy, offset_days: -3,", "{name: courtesy, offset_days: -3000,"),
            "line {line}, field 'ladders.standard.steps.0.offset_days': Input should be greater than or equal to -365",
        ),
        (
            ("  default_language: en", "  quiet_days: [2026-12-24, 2026-02-30]\n  default_language: en"),
            "line {line}, field 'contact.quiet_days.1': 2026-02-30 is not a date: day is out of range for month",
        ),
        (
            ("  default_language: en", "  countries: {DE: {quiet_days: [2026-13-01]}}\n  default_language: en"),
            "line {line}, field 'contact.countries.DE.quiet_days.0': 2026-13-01 is not a date: month must be in 1..12",
        ),
        (
            ("aging_edges: [7, 30, 60]", "aging_edges: [7, 30, 600000]"),
            "line {line}, field 'segmentation.aging_edges.2': Input should be less than or equal to 1095",
        ),
        (
            ("min_days_between_contacts: 3", "min_days_between_contacts: 3000"),
            "line {line}, field 'contact.min_days_between_contacts': Input should be less than or equal to 90",
        ),
        (
            ("promise_grace_days: 3 ", "promise_grace_days: -1 "),
            "line {line}, field 'contact.promise_grace_days': Input should be greater than or equal to 0",
        ),
        (("weekly_cap: 2", "weekly_cap: 0"), "line {line}, field 'contact.weekly_cap': Input should be greater"),
        (("expiry_days: 30", "expiry_days: 3650"), "line {line}, field 'links.expiry_days': Input should be less"),
        (("medium: 0.6", "medium: .nan"), "line {line}, field 'segmentation.risk_bands.medium': Input should be"),
        # issue 8, item 7: accepted though wrong
        (
            ("default_language: en ", "default_language: klingon "),
            "line {line}, field 'contact.default_language': .*'klingon' is not a language code",
        ),
        (("default_language: en ", "default_language: en_GB "), "field 'contact.default_language'"),
        (
            ("payment_url: https://pay.example.com/p/", "payment_url: javascript:alert(1)"),
            "line {line}, field 'links.payment_url': .*'javascript:alert\\(1\\)' is not an https:// link",
        ),
        (
            ("payment_url: https://pay.example.com/p/", "payment_url: http://pay.example.com/p/"),
            "field 'links.payment_url': .* is not an https:// link \\(http:// only on localhost",
        ),
        (
            ("unsubscribe_url: https://pay.example.com/u/", "unsubscribe_url: https:///u/"),
            "line {line}, field 'links.unsubscribe_url': .*'https:///u/' is not a web address",
        ),
        (
            ("{name: small, below: 500}", "{name: small, below: -500}"),
            "line {line}, field 'segmentation.value_tiers.default.0.below': Input should be greater than 0",
        ),
        (
            ("{name: medium, below: 5000}", "{name: medium, below: .inf}"),
            "line {line}, field 'segmentation.value_tiers.default.1.below': Input should be a finite number",
        ),
        (("  sms: summary", "  sms: always"), "line {line}, field 'statements.sms': Input should be 'summary' or"),
        (("  low_risk:", "  statement:"), "field 'ladders.statement': 'statement' names the statements of account"),
        (
            ("  later_invoices: new_episode", "  later_invoices: new-episode"),
            "line {line}, field 'handoff.later_invoices': Input should be 'new_episode' or 'hold'",
        ),
        (
            ("  later_invoices: new_episode", "  later_invoice: hold"),
            "line {line}, field 'handoff.later_invoice': Extra inputs are not permitted",
        ),
        (("handoff:\n  later_invoices: new_episode", "handoff: hold"), "line {line}, field 'handoff': Input should be"),
    ],
)
def test_a_bad_policy_is_refused_with_a_pointer(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = Path(load_policy.__globals__["DEFAULT_POLICY"]).read_text()
    assert change[0] in text
    path = tmp_path / "policy.yaml"
    changed = text.replace(change[0], change[1], 1)
    path.write_text(changed)
    line = changed[: changed.index(change[1])].count("\n") + 1 if change[1] else 0
    with pytest.raises(ConfigError, match=message.replace("{line}", str(line))):
        load_policy(path)


@pytest.mark.parametrize(
    ("change", "read"),
    [
        (
            ("payment_url: https://pay.example.com/p/", "payment_url: http://127.0.0.1:8025/p/"),
            "http://127.0.0.1:8025/p/",
        ),
        (("payment_url: https://pay.example.com/p/", "payment_url: http://localhost/p/"), "http://localhost/p/"),
        (("payment_url: https://pay.example.com/p/", "payment_url: 'http://[::1]:9/p/'"), "http://[::1]:9/p/"),
        (("default_language: en ", "default_language: de "), "de"),
    ],
)
def test_links_on_loopback_and_other_languages_are_accepted(tmp_path: Path, change: tuple[str, str], read: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(Path(load_policy.__globals__["DEFAULT_POLICY"]).read_text().replace(*change, 1))
    policy = load_policy(path)
    assert read in (policy.links.payment_url, policy.contact.default_language)


def test_the_statements_sms_rule_defaults_to_none_where_a_policy_is_silent(tmp_path: Path) -> None:
    text = Path(load_policy.__globals__["DEFAULT_POLICY"]).read_text()
    assert load_policy().statements.sms == StatementSms.SUMMARY
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace("statements:\n  sms: summary\n", "", 1))
    assert load_policy(path).statements.sms == StatementSms.NONE


def test_invoices_billed_after_a_hand_off_are_dunned_unless_a_policy_says_hold(tmp_path: Path) -> None:
    text = Path(load_policy.__globals__["DEFAULT_POLICY"]).read_text()
    assert load_policy().handoff.later_invoices == LaterInvoices.NEW_EPISODE
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace("handoff:\n  later_invoices: new_episode\n", "", 1))
    assert load_policy(path).handoff.later_invoices == LaterInvoices.NEW_EPISODE, "silent: the default"
    path.write_text(text.replace("  later_invoices: new_episode", "  later_invoices: hold", 1))
    assert load_policy(path).handoff.later_invoices == LaterInvoices.HOLD


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
