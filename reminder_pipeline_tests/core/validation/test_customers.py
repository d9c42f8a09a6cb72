from __future__ import annotations

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, ValueFormat, apply_mapping
from reminder_pipeline.core.validation.customers import validate_customers

GOOD = {
    "customer_id": "C-1",
    "name": "Ada Example",
    "email": "ada@example.com",
    "phone": "+4915112345678",
    "country": "de",
    "time_zone": "Europe/Berlin",
    "locale": "de-DE",
    "preferred_channel": "SMS",
    "sms_consent": "yes",
    "billing_cycle_day": "15",
}


def _validate(*rows: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    raw = pl.DataFrame([{**GOOD, **row} for row in rows], schema=dict.fromkeys(GOOD, pl.String))
    raw = raw.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    result = validate_customers(apply_mapping(raw, Mapping(entity=Entity.CUSTOMERS)), ValueFormat())
    return result.accepted, result.quarantined


def test_contacts_are_normalised() -> None:
    accepted, quarantined = _validate({"phone": "030 12345678", "email": "Ada@Example.COM"})
    row = accepted.row(0, named=True)
    assert quarantined.is_empty()
    assert row["phone"] == "+493012345678"
    assert row["email"] == "Ada@example.com"
    assert row["country"] == "DE"
    assert row["locale"] == "de_DE"
    assert row["preferred_channel"] == "sms"
    assert row["sms_consent"] is True
    assert row["billing_cycle_day"] == 15


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"customer_id": ""}, "missing_field"),
        ({"email": "ada@@example.com"}, "invalid_email"),
        ({"email": "ada@localhost"}, "invalid_email"),
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "030 12345678", "country": ""}, "invalid_phone"),
        ({"country": "XX"}, "invalid_country"),
        ({"time_zone": "Mars/Olympus"}, "invalid_time_zone"),
        ({"locale": "zz_QQ_nonsense"}, "invalid_locale"),
        ({"preferred_channel": "pigeon"}, "invalid_channel"),
        ({"billing_cycle_day": "32"}, "invalid_cycle_day"),
        ({"billing_cycle_day": "first"}, "invalid_cycle_day"),
        ({"sms_consent": "perhaps"}, "invalid_boolean"),
    ],
)
def test_each_bad_customer_gets_its_specific_reason(row: dict[str, str], reason: str) -> None:
    accepted, quarantined = _validate(row)
    assert accepted.is_empty()
    assert quarantined["reason"].to_list() == [reason]


def test_a_customer_without_any_contact_is_accepted() -> None:
    accepted, quarantined = _validate({"email": "", "phone": ""})
    assert accepted.height == 1
    assert quarantined.is_empty()


def test_problem_details_never_echo_contact_values() -> None:
    _, quarantined = _validate({"email": "secret.person@@example.com", "phone": "+999999"})
    assert "secret.person" not in quarantined["detail"][0]
    assert "999999" not in quarantined["detail"][0]
