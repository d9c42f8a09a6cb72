"""The customers of a schedule: country, locale, time zone, name, contacts and consents, payment habits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import phonenumbers
import polars as pl
from babel.numbers import get_currency_precision

from reminder_pipeline.core.canonical import CUSTOMER_SCHEMA
from reminder_pipeline.demo import export
from reminder_pipeline.demo.behaviour import BEHAVIOURS, PAYMENT_METHODS, CustomerParameters, draw_customer_parameters
from reminder_pipeline.demo.days import NO_DAY
from reminder_pipeline.demo.schedule import Schedule
from reminder_pipeline.demo.tables import (
    COUNTRIES,
    EMAIL_DOMAINS,
    FRENCH_CANADIAN_ZONE,
    NAME_LIST_OF_LOCALE,
    NAME_LISTS,
    SALES_REGIONS,
)

FIXED_PLAN_SHARE = 0.35
"""Customers on a fixed monthly price: the same amount every month."""
AMOUNT_SIGMA = 0.3
TYPICAL_AMOUNT_USD = 85.0
TYPICAL_AMOUNT_SIGMA = 0.8
PAYMENT_TERMS_DAYS = np.array([14, 30, 45])
PAYMENT_TERMS_WEIGHTS = np.array([0.30, 0.55, 0.15])

PHONE_SHARE = 0.72
EMAIL_SHARE = 0.97
UNKNOWN_TIME_ZONE_SHARE = 0.03
EMAIL_OPT_OUT_SHARE = 0.03
SMS_OPT_OUT_SHARE = 0.04
SMS_CONSENT_SHARE = 0.65
SMS_PREFERENCE_SHARE = 0.25
NO_CHANNEL_PREFERENCE_SHARE = 0.10
PAPERLESS_SHARE = 0.6

NANP_SUFFIX_DIGITS = 4
"""US/CA numbers keep the example's 555 exchange, reserved for fictional use."""
PHONE_SUFFIX_DIGITS = 5

CUSTOMER_COLUMNS = (*CUSTOMER_SCHEMA.columns, "first_invoice_date")


@dataclass(frozen=True)
class Customers:
    country: np.ndarray
    exponent: np.ndarray
    payment_method: np.ndarray
    terms_days: np.ndarray
    typical_amount: np.ndarray
    amount_sigma: np.ndarray
    parameters: CustomerParameters
    currency: np.ndarray
    frame: pl.DataFrame


def _pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    values = np.array([value for value, _ in options], dtype=object)
    weights = np.array([weight for _, weight in options])
    return values[rng.choice(len(values), size=size, p=weights / weights.sum())]


@cache
def _currency_exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


def _phone_numbers(rng: np.random.Generator, region: str, size: int) -> np.ndarray:
    """Valid E.164 mobile numbers: the region's example number with its trailing digits varied."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"libphonenumber has no example mobile number for {region}")
    national = str(example.national_number)
    digits = NANP_SUFFIX_DIGITS if example.country_code == 1 else PHONE_SUFFIX_DIGITS
    space = 10**digits
    suffixes = rng.permutation(space)[:size] if size <= space else rng.integers(0, space, size)
    candidates = [int(national[:-digits] + str(s).zfill(digits)) for s in suffixes.tolist()]
    numbers = [
        f"+{example.country_code}{n}"
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=example.country_code, national_number=n))
        else f"+{example.country_code}{national}"
        for n in candidates
    ]
    return np.array(numbers, dtype=object)


def _names(rng: np.random.Generator, locale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(display name, ascii email local part without the number) per customer."""
    size = locale.size
    display = np.empty(size, dtype=object)
    ascii_name = np.empty(size, dtype=object)
    list_of_customer = np.array([NAME_LIST_OF_LOCALE[value] for value in locale.tolist()], dtype=object)
    for key, names in NAME_LISTS.items():
        rows = np.flatnonzero(list_of_customer == key)
        given = rng.integers(0, len(names.given), rows.size)
        family = rng.integers(0, len(names.family), rows.size)
        given_display = np.array([n for n, _ in names.given], dtype=object)[given]
        family_display = np.array([n for n, _ in names.family], dtype=object)[family]
        given_ascii = np.array([a for _, a in names.given], dtype=object)[given]
        family_ascii = np.array([a for _, a in names.family], dtype=object)[family]
        display[rows] = family_display + given_display if names.family_first else given_display + " " + family_display
        ascii_name[rows] = np.where(rng.random(rows.size) < 0.5, given_ascii + ".", given_ascii + "_") + family_ascii
    return display, ascii_name


def draw_customers(rng: np.random.Generator, schedule: Schedule) -> Customers:
    size = schedule.behaviour.size
    parameters = draw_customer_parameters(rng, schedule.behaviour)
    shares = np.array([c.share for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=size, p=shares / shares.sum())
    locale = np.empty(size, dtype=object)
    time_zone = np.empty(size, dtype=object)
    phone = np.empty(size, dtype=object)
    exponent = np.zeros(size, dtype=np.int64)
    units_per_usd = np.zeros(size)
    currency = np.empty(size, dtype=object)
    for index, spec in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == index)
        locale[rows] = _pick(rng, spec.locales, rows.size)
        time_zone[rows] = _pick(rng, spec.time_zones, rows.size)
        phone[rows] = _phone_numbers(rng, spec.code, rows.size)
        exponent[rows] = _currency_exponent(spec.currency)
        units_per_usd[rows] = spec.units_per_usd
        currency[rows] = spec.currency
    time_zone[locale == "fr_CA"] = FRENCH_CANADIAN_ZONE
    time_zone[rng.random(size) < UNKNOWN_TIME_ZONE_SHARE] = None
    display_name, local_part = _names(rng, locale)
    number = np.arange(1, size + 1)
    domains = np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), size)]
    email = local_part + number.astype(str).astype(object) + "@" + domains
    has_email = rng.random(size) < EMAIL_SHARE
    has_phone = (rng.random(size) < PHONE_SHARE) | ~has_email
    prefers_sms = has_phone & (~has_email | (rng.random(size) < SMS_PREFERENCE_SHARE))
    states_preference = ~has_email | ~has_phone | (rng.random(size) >= NO_CHANNEL_PREFERENCE_SHARE)
    preferred_channel = np.where(prefers_sms, "sms", "email").astype(object)
    preferred_channel[~states_preference] = None
    sms_consent = has_phone & (prefers_sms | (rng.random(size) < SMS_CONSENT_SHARE))
    email_opt_out = has_email & (rng.random(size) < EMAIL_OPT_OUT_SHARE)
    sms_opt_out = has_phone & (rng.random(size) < SMS_OPT_OUT_SHARE)
    paperless_day = schedule.first_issue_day - rng.integers(0, 366, size)
    paperless = rng.random(size) < PAPERLESS_SHARE
    method_weights = np.array([p.payment_method_weights for p in BEHAVIOURS])
    cumulative_weights = np.cumsum(method_weights / method_weights.sum(axis=1, keepdims=True), axis=1)
    method_index = (rng.random(size)[:, None] > cumulative_weights[schedule.behaviour]).sum(axis=1)
    method_index = np.minimum(method_index, len(PAYMENT_METHODS) - 1)
    payment_method = np.array(PAYMENT_METHODS, dtype=object)[method_index]
    terms_days = rng.choice(PAYMENT_TERMS_DAYS, size=size, p=PAYMENT_TERMS_WEIGHTS)
    typical_amount = rng.lognormal(math.log(TYPICAL_AMOUNT_USD), TYPICAL_AMOUNT_SIGMA, size) * units_per_usd
    amount_sigma = np.where(rng.random(size) < FIXED_PLAN_SHARE, 0.0, AMOUNT_SIGMA)
    frame = pl.DataFrame(
        {
            "customer_id": export.ids("C", number, export.CUSTOMER_ID_DIGITS),
            "name": export.text(display_name),
            "email": export.text(export.blank_where(~has_email, email)),
            "phone": export.text(export.blank_where(~has_phone, phone)),
            "country": export.text(np.array([c.code for c in COUNTRIES], dtype=object)[country]),
            "region": export.text(np.array([SALES_REGIONS[c.code] for c in COUNTRIES], dtype=object)[country]),
            "time_zone": export.text(time_zone),
            "locale": export.text(locale),
            "preferred_channel": export.text(preferred_channel),
            "email_opt_out": export.booleans(email_opt_out),
            "sms_opt_out": export.booleans(sms_opt_out),
            "sms_consent": export.booleans(sms_consent),
            "billing_cycle_day": pl.Series(schedule.cycle_day).cast(pl.String),
            "paperless_since": export.date_text(np.where(paperless, paperless_day, NO_DAY)),
            "payment_method": export.text(payment_method),
            "first_invoice_date": export.dates(schedule.first_issue_day),
        }
    )
    return Customers(
        country=country,
        exponent=exponent,
        payment_method=payment_method,
        terms_days=terms_days,
        typical_amount=typical_amount,
        amount_sigma=amount_sigma,
        parameters=parameters,
        currency=currency,
        frame=frame,
    )
