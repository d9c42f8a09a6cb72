from __future__ import annotations

from datetime import date

import numpy as np
import phonenumbers
import polars as pl
import pytest
from email_validator import validate_email

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, apply_mapping
from reminder_pipeline.core.validation.customers import validate_customers
from reminder_pipeline.core.validation.invoices import validate_invoices
from reminder_pipeline.core.validation.payments import validate_payments
from reminder_pipeline.core.validation.references import fold_duplicates
from reminder_pipeline.core.validation.result import ValidationResult
from reminder_pipeline.demo.behaviour import BEHAVIOURS, Behaviour, sample_days_late, sample_never_pays
from reminder_pipeline.demo.generator import DemoData, generate_demo_data
from reminder_pipeline.demo.tables import EMAIL_DOMAINS

START = date(2024, 1, 1)
END = date(2025, 6, 30)
TABLES = ("customers", "invoices", "payments", "truth")


@pytest.fixture(scope="module")
def clean() -> DemoData:
    return generate_demo_data(20_000, seed=11, start=START, end=END, dirty_rate=0.0)


@pytest.fixture(scope="module")
def dirty() -> DemoData:
    return generate_demo_data(5_000, seed=11, start=START, end=END, dirty_rate=0.02)


def _validate(entity: Entity, frame: pl.DataFrame) -> ValidationResult:
    raw = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    canonical = apply_mapping(raw, Mapping(entity=entity))
    validator = {
        Entity.CUSTOMERS: validate_customers,
        Entity.INVOICES: validate_invoices,
        Entity.PAYMENTS: validate_payments,
    }[entity]
    return validator(canonical, Mapping().format)


def _paid_per_invoice(data: DemoData) -> pl.DataFrame:
    paid = data.payments.group_by("invoice_id").agg(pl.col("amount").cast(pl.Decimal(20, 2)).sum().alias("paid"))
    return data.invoices.join(paid, on="invoice_id", how="left")


def test_same_arguments_give_identical_frames() -> None:
    first = generate_demo_data(1_000, seed=5, start=START, end=END)
    second = generate_demo_data(1_000, seed=5, start=START, end=END)
    for table in TABLES:
        assert getattr(first, table).equals(getattr(second, table)), table


def test_another_seed_gives_other_frames() -> None:
    first = generate_demo_data(1_000, seed=5, start=START, end=END)
    other = generate_demo_data(1_000, seed=6, start=START, end=END)
    for table in TABLES:
        assert not getattr(first, table).equals(getattr(other, table)), table


@pytest.mark.parametrize("n_invoices", [1_000, 20_000])
@pytest.mark.parametrize("dirty_rate", [0.0, 0.01])
def test_invoice_count_is_within_two_percent(n_invoices: int, dirty_rate: float) -> None:
    data = generate_demo_data(n_invoices, seed=1, start=START, end=END, dirty_rate=dirty_rate)
    assert abs(data.invoices.height - n_invoices) <= 0.02 * n_invoices
    assert data.truth.height == data.customers.height


def test_short_period_still_reaches_the_count() -> None:
    data = generate_demo_data(1_000, seed=2, start=date(2025, 3, 1), end=date(2025, 3, 20), dirty_rate=0.0)
    assert abs(data.invoices.height - 1_000) <= 20
    issued = data.invoices["issue_date"].str.to_date()
    assert issued.min() >= date(2025, 3, 1)
    assert issued.max() <= date(2025, 3, 20)


def test_frames_carry_text_as_a_csv_would(clean: DemoData) -> None:
    assert all(dtype == pl.String for dtype in clean.invoices.schema.values())
    assert all(dtype == pl.String for dtype in clean.payments.schema.values())
    assert clean.customers.schema["first_invoice_date"] == pl.Date
    assert all(dtype == pl.String for name, dtype in clean.customers.schema.items() if name != "first_invoice_date")
    assert set(clean.invoices["disputed"].unique()) == {"true", "false"}


def test_clean_invoices_reference_generated_customers(clean: DemoData) -> None:
    assert clean.invoices["customer_id"].is_in(clean.customers["customer_id"].implode()).all()
    assert clean.invoices["invoice_id"].is_unique().all()
    assert clean.payments["invoice_id"].is_in(clean.invoices["invoice_id"].implode()).all()


def test_each_customer_first_appears_on_its_first_invoice_date(clean: DemoData) -> None:
    first = clean.invoices.group_by("customer_id").agg(pl.col("issue_date").str.to_date().min().alias("first"))
    joined = clean.customers.join(first, on="customer_id", how="left")
    assert (joined["first"] == joined["first_invoice_date"]).all()


def test_payments_add_up_to_the_paid_amount(clean: DemoData) -> None:
    joined = _paid_per_invoice(clean)
    settled = joined.filter(pl.col("paid_date").is_not_null())
    assert (settled["paid"] == settled["paid_amount"].cast(pl.Decimal(20, 2))).all()
    assert (settled["paid_amount"] == settled["amount"]).all()
    still_open = joined.filter(pl.col("paid_date").is_null() & pl.col("paid").is_not_null())
    assert still_open.height > 0, "some open invoices are partially paid"
    assert (still_open["paid"] < still_open["amount"].cast(pl.Decimal(20, 2))).all()
    assert still_open["paid_amount"].is_null().all()


def test_partial_payments_come_in_two_or_three_installments(clean: DemoData) -> None:
    installments = clean.payments.group_by("invoice_id").len()["len"]
    assert set(installments.unique()) == {1, 2, 3}


def test_nothing_happens_after_the_end_date(clean: DemoData) -> None:
    for frame, column in ((clean.payments, "paid_date"), (clean.invoices, "paid_date"), (clean.invoices, "issue_date")):
        assert frame[column].drop_nulls().str.to_date().max() <= END


def test_disputes_lie_between_issue_and_settlement(clean: DemoData) -> None:
    disputed = clean.invoices.filter(pl.col("disputed") == "true")
    assert disputed.height > 0
    assert disputed["dispute_date"].is_not_null().all()
    assert (disputed["dispute_date"] > disputed["issue_date"]).all()
    settled = disputed.filter(pl.col("paid_date").is_not_null())
    assert (settled["dispute_date"] <= settled["paid_date"]).all()
    assert clean.invoices.filter(pl.col("disputed") == "false")["dispute_date"].is_null().all()


def test_amounts_have_the_currency_decimals(clean: DemoData) -> None:
    yen = clean.invoices.filter(pl.col("currency") == "JPY")["amount"]
    others = clean.invoices.filter(pl.col("currency") != "JPY")["amount"]
    assert yen.len() > 0
    assert yen.str.contains(r"^\d+$").all()
    assert others.str.contains(r"^\d+\.\d{2}$").all()
    assert set(clean.invoices["currency"].unique()) == {"USD", "GBP", "EUR", "MXN", "CAD", "INR", "AUD", "JPY"}


def test_contacts_are_valid_and_fictional(clean: DemoData) -> None:
    customers = clean.customers
    for number in customers["phone"].drop_nulls().to_list():
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number
    for address in customers["email"].drop_nulls().to_list():
        domain = validate_email(address, check_deliverability=False).domain
        assert domain in EMAIL_DOMAINS, address
    assert 0.1 < customers["phone"].is_null().mean() < 0.5
    assert 0 < customers["email"].is_null().sum() < 0.1 * customers.height
    assert 0 < customers["time_zone"].is_null().sum() < 0.08 * customers.height
    assert (customers["email_opt_out"] == "true").sum() > 0
    assert (customers["sms_opt_out"] == "true").sum() > 0


def test_time_zones_follow_the_country(clean: DemoData) -> None:
    zones = clean.customers.group_by("country").agg(pl.col("time_zone").drop_nulls().unique())
    by_country = {row[0]: set(row[1]) for row in zones.iter_rows()}
    assert by_country["IN"] == {"Asia/Kolkata"}
    assert by_country["AU"] == {"Australia/Sydney", "Australia/Adelaide"}
    assert by_country["CA"] == {"America/Toronto", "America/Vancouver"}
    assert len(by_country["US"]) >= 4
    french_canadians = clean.customers.filter(pl.col("locale") == "fr_CA")["time_zone"].drop_nulls()
    assert (french_canadians == "America/Toronto").all()


@pytest.mark.parametrize("entity", [Entity.CUSTOMERS, Entity.INVOICES, Entity.PAYMENTS])
def test_clean_data_passes_validation(clean: DemoData, entity: Entity) -> None:
    frame = getattr(clean, entity.value)
    result = _validate(entity, frame)
    assert result.quarantined.is_empty(), result.quarantined.head(5).rows()
    key = {Entity.CUSTOMERS: "customer_id", Entity.INVOICES: "invoice_id", Entity.PAYMENTS: "payment_id"}[entity]
    folded, repeats = fold_duplicates(result.accepted, key)
    assert folded.quarantined.is_empty()
    assert repeats == 0


def test_dirty_rows_are_quarantined_for_several_reasons(dirty: DemoData) -> None:
    reasons = {
        entity: set(_validate(entity, getattr(dirty, entity.value)).quarantined["reason"].to_list())
        for entity in (Entity.CUSTOMERS, Entity.INVOICES, Entity.PAYMENTS)
    }
    assert reasons[Entity.CUSTOMERS] == {"invalid_phone", "invalid_email", "invalid_time_zone"}
    assert reasons[Entity.INVOICES] == {"invalid_currency", "negative_amount", "due_before_issue", "invalid_date"}
    assert reasons[Entity.PAYMENTS] == {"non_positive_amount"}


def test_dirty_rows_stay_a_small_share(dirty: DemoData) -> None:
    invoices = _validate(Entity.INVOICES, dirty.invoices)
    folded, repeats = fold_duplicates(invoices.accepted, "invoice_id")
    assert folded.quarantined.height > 0, "conflicting duplicates"
    assert repeats > 0, "identical duplicates"
    unknown_customers = ~dirty.invoices["customer_id"].is_in(dirty.customers["customer_id"].implode())
    unknown_invoices = ~dirty.payments["invoice_id"].is_in(dirty.invoices["invoice_id"].implode())
    assert unknown_customers.sum() > 0
    assert unknown_invoices.sum() > 0
    bad_invoices = invoices.quarantined.height + folded.quarantined.height + repeats + unknown_customers.sum()
    assert 0.01 * dirty.invoices.height < bad_invoices < 0.04 * dirty.invoices.height
    bad_customers = _validate(Entity.CUSTOMERS, dirty.customers).quarantined.height
    assert 0 < bad_customers < 0.04 * dirty.customers.height


def test_late_rate_depends_on_behaviour(clean: DemoData) -> None:
    invoices = clean.invoices.with_columns(pl.col("due_date", "paid_date").str.to_date()).join(
        clean.truth, on="customer_id"
    )
    late = (pl.col("paid_date") > pl.col("due_date")) | (pl.col("paid_date").is_null() & (pl.col("due_date") < END))
    rate = dict(invoices.group_by("behaviour").agg(late.mean()).iter_rows())
    assert rate[Behaviour.PUNCTUAL] < 0.3
    assert rate[Behaviour.NEVER_PAYS] > 0.8
    assert rate[Behaviour.CASH_STRAPPED] > 0.8
    assert rate[Behaviour.PUNCTUAL] < rate[Behaviour.FORGETFUL] < rate[Behaviour.CASH_STRAPPED]


def test_behaviour_mix_follows_the_shares(clean: DemoData) -> None:
    shares = clean.truth["behaviour"].value_counts(normalize=True)
    observed = dict(shares.iter_rows())
    for profile in BEHAVIOURS:
        assert abs(observed[profile.behaviour] - profile.share) < 0.05


def test_reminders_shorten_only_the_late_part() -> None:
    size = 20_000
    mean = np.full(size, 20.0)
    noise = np.full(size, 5.0)
    sensitivity = np.full(size, 0.5)
    silent = sample_days_late(np.random.default_rng(0), mean, noise, sensitivity)
    reminded = sample_days_late(np.random.default_rng(0), mean, noise, sensitivity, reminders_after_due=1)
    assert abs(reminded.mean() - silent.mean() / 2) < 1.0
    always_early = np.full(size, -30.0)
    early_silent = sample_days_late(np.random.default_rng(0), always_early, np.ones(size), sensitivity)
    early_reminded = sample_days_late(np.random.default_rng(0), always_early, np.ones(size), sensitivity, 2, 3)
    assert (early_silent < 0).all()
    assert (early_reminded == early_silent).all()
    never = sample_never_pays(np.random.default_rng(0), np.full(size, 0.8), sensitivity)
    never_reminded = sample_never_pays(np.random.default_rng(0), np.full(size, 0.8), sensitivity, 2)
    assert never_reminded.mean() < never.mean() / 2


@pytest.mark.parametrize(
    ("n_invoices", "start", "end", "dirty_rate"),
    [(0, START, END, 0.0), (10, END, START, 0.0), (10, START, END, -0.1), (10, START, END, 0.9)],
)
def test_rejects_impossible_arguments(n_invoices: int, start: date, end: date, dirty_rate: float) -> None:
    with pytest.raises(ValueError, match="must"):
        generate_demo_data(n_invoices, seed=0, start=start, end=end, dirty_rate=dirty_rate)
