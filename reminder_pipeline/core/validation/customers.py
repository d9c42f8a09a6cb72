from __future__ import annotations

import polars as pl

from reminder_pipeline.core.canonical import (
    ATTRIBUTES,
    CUSTOMER_SCHEMA,
    ROW_NUMBER,
    Channel,
)
from reminder_pipeline.core.mapping import ValueFormat
from reminder_pipeline.core.validation.contacts import (
    countries,
    map_distinct,
    normalise_email,
    normalise_locale,
    normalise_phones,
    time_zones,
)
from reminder_pipeline.core.validation.parse import (
    drop_work_columns,
    is_blank,
    keep_raw,
    parse_booleans,
    parse_dates,
    required_present,
    text,
)
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.result import (
    ValidationResult,
    check,
    split_on_problems,
)

CUSTOMER_COLUMNS = [ROW_NUMBER, *CUSTOMER_SCHEMA.columns, ATTRIBUTES]


def validate_customers(frame: pl.DataFrame, fmt: ValueFormat) -> ValidationResult:
    """Row-level checks of customer rows; contacts are normalised (E.164 phones, normalised emails).

    Problem details never echo a contact value: they end up in logs and run metadata.
    """
    frame = keep_raw(frame, list(CUSTOMER_SCHEMA.columns))
    frame = frame.with_columns(
        text("customer_id"),
        text("name"),
        text("country").str.to_uppercase(),
        text("region"),
        text("time_zone"),
        text("preferred_channel").str.to_lowercase(),
        text("payment_method"),
        text("billing_cycle_day").cast(pl.Int64, strict=False),
    )
    frame = frame.with_columns(
        map_distinct(frame["email__raw"].str.strip_chars(), normalise_email).alias("email"),
        normalise_phones(frame["phone__raw"].str.strip_chars(), frame["country"]).alias("phone"),
        map_distinct(frame["locale__raw"].str.strip_chars(), normalise_locale).alias("locale"),
    )
    problems = required_present(CUSTOMER_SCHEMA.required)
    problems += [
        check(
            ~is_blank("email") & pl.col("email").is_null(),
            Reason.INVALID_EMAIL,
            "email is not a deliverable-looking address",
        ),
        check(
            ~is_blank("phone") & pl.col("phone").is_null(),
            Reason.INVALID_PHONE,
            "phone is not a valid number (E.164, or national with a country)",
        ),
        check(
            pl.col("country").is_not_null() & ~pl.col("country").is_in(sorted(countries())),
            Reason.INVALID_COUNTRY,
            pl.format("country '{}' is not an ISO 3166 alpha-2 code", pl.col("country__raw")),
        ),
        check(
            pl.col("time_zone").is_not_null() & ~pl.col("time_zone").is_in(sorted(time_zones())),
            Reason.INVALID_TIME_ZONE,
            pl.format("time_zone '{}' is not an IANA time zone", pl.col("time_zone__raw")),
        ),
        check(
            ~is_blank("locale") & pl.col("locale").is_null(),
            Reason.INVALID_LOCALE,
            pl.format("locale '{}' is not a known locale", pl.col("locale__raw")),
        ),
        check(
            pl.col("preferred_channel").is_not_null() & ~pl.col("preferred_channel").is_in([c.value for c in Channel]),
            Reason.INVALID_CHANNEL,
            pl.format(
                "preferred_channel '{}' is not email or sms",
                pl.col("preferred_channel__raw"),
            ),
        ),
        check(
            ~is_blank("billing_cycle_day") & ~pl.col("billing_cycle_day").is_between(1, 31).fill_null(False),
            Reason.INVALID_CYCLE_DAY,
            pl.format(
                "billing_cycle_day '{}' is not between 1 and 31",
                pl.col("billing_cycle_day__raw"),
            ),
        ),
    ]
    frame, found = parse_booleans(frame, CUSTOMER_SCHEMA.booleans, fmt)
    problems += found
    frame, found = parse_dates(frame, CUSTOMER_SCHEMA.dates, fmt)
    problems += found
    result = split_on_problems(frame, problems)
    return ValidationResult(drop_work_columns(result.accepted).select(CUSTOMER_COLUMNS), result.quarantined)
