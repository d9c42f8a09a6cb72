"""Deterministic demo billing data: customers, monthly invoices, payments and the hidden behaviour truth.

Everything is drawn with numpy from one seed and formatted with polars, vectorised over invoices and
payments. The frames carry text exactly as a billing system's CSV export would (empty fields are null),
including a small share of deliberately bad rows that ingestion is expected to quarantine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import phonenumbers
import polars as pl
from babel.numbers import get_currency_precision

from reminder_pipeline.core.canonical import CUSTOMER_SCHEMA, INVOICE_SCHEMA
from reminder_pipeline.core.demo.behaviour import (
    BEHAVIOURS,
    PAYMENT_METHODS,
    CustomerParameters,
    draw_behaviours,
    draw_customer_parameters,
    profile_values,
    sample_days_late,
    sample_never_pays,
)

EPOCH = date(1970, 1, 1)
DAYS_PER_MONTH = 30.44
MAX_CYCLE_DAY = 28
EXISTING_CUSTOMER_SHARE = 0.35
"""Customers already billed when the period starts; the others join uniformly over the period."""
SKIP_MONTH_PROB = 0.02
EXTRA_INVOICE_PROB = 0.015
LARGE_INVOICE_PROB = 0.02
FIXED_PLAN_SHARE = 0.35
"""Customers on a fixed monthly price: the same amount every month."""
AMOUNT_SIGMA = 0.3
TYPICAL_AMOUNT_USD = 85.0
TYPICAL_AMOUNT_SIGMA = 0.8
AMOUNT_DELAY_DAYS = 2.0
"""Extra days late per e-fold of an invoice above the customer's usual amount."""
PAYMENT_TERMS_DAYS = np.array([14, 30, 45])
PAYMENT_TERMS_WEIGHTS = np.array([0.30, 0.55, 0.15])
MAX_INSTALLMENTS = 3
CALENDAR_DELAY_DAYS = np.array([2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4], dtype=np.float64)
"""Extra days late by due month (January .. December): slow Decembers, holiday August, a January hangover."""
BANK_DAY_METHODS = ("bank_transfer", "direct_debit")
"""Payment methods that only post on weekdays: a weekend payment lands on Monday."""

PHONE_SHARE = 0.72
EMAIL_SHARE = 0.97
UNKNOWN_TIME_ZONE_SHARE = 0.03
EMAIL_OPT_OUT_SHARE = 0.03
SMS_OPT_OUT_SHARE = 0.04
SMS_CONSENT_SHARE = 0.65
SMS_PREFERENCE_SHARE = 0.25
NO_CHANNEL_PREFERENCE_SHARE = 0.10
PAPERLESS_SHARE = 0.6
EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "post.example.org",
    "inbox.example.net",
)
"""Documentation domains only (RFC 2606): no generated address can reach a real person."""
NANP_SUFFIX_DIGITS = 4
"""US/CA numbers keep the example's 555 exchange, reserved for fictional use."""
PHONE_SUFFIX_DIGITS = 5

CUSTOMER_ID_DIGITS = 7
INVOICE_ID_DIGITS = 8
PAYMENT_ID_DIGITS = 8

INVALID_CURRENCIES = ("USX", "EUX", "GPB", "EURO", "$")
INVALID_PHONES = ("12345", "+1 555", "0000000", "n/a")
INVALID_TIME_ZONES = ("Mars/Olympus", "Europe/Atlantis", "America/Gotham", "UTC+25")
INVOICE_DEFECTS = (
    "invalid_currency",
    "negative_amount",
    "due_before_issue",
    "invalid_date",
    "unknown_customer",
    "conflicting_duplicate",
    "identical_duplicate",
)
CUSTOMER_DEFECTS = ("invalid_phone", "invalid_email", "invalid_time_zone")
PAYMENT_DEFECTS = ("unknown_invoice", "zero_amount")
DIRTY_CUSTOMER_QUANTILE = 0.25
"""Contact defects go to customers with few invoices, so quarantining them orphans few invoices."""

SALES_REGIONS = {"US": "AMER", "CA": "AMER", "MX": "LATAM", "GB": "EMEA", "DE": "EMEA", "FR": "EMEA", "ES": "EMEA"}
SALES_REGIONS |= {"IN": "APAC", "AU": "APAC", "JP": "APAC"}
"""The sales organisation's regions, a coarser grouping than the country."""

CUSTOMER_COLUMNS = (*CUSTOMER_SCHEMA.columns, "first_invoice_date")
INVOICE_COLUMNS = INVOICE_SCHEMA.columns
PAYMENT_COLUMNS = ("payment_id", "invoice_id", "amount", "currency", "paid_date")
TRUTH_COLUMNS = (
    "customer_id",
    "behaviour",
    "mean_days_late",
    "reminder_sensitivity",
    "partial_payment_prob",
    "dispute_prob",
    "never_pay_prob",
)


@dataclass(frozen=True)
class Country:
    code: str
    share: float
    currency: str
    units_per_usd: float
    locales: tuple[tuple[str, float], ...]
    time_zones: tuple[tuple[str, float], ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        0.30,
        "USD",
        1.0,
        (("en_US", 1.0),),
        (
            ("America/New_York", 0.45),
            ("America/Chicago", 0.27),
            ("America/Denver", 0.07),
            ("America/Phoenix", 0.03),
            ("America/Los_Angeles", 0.18),
        ),
    ),
    Country("GB", 0.11, "GBP", 0.79, (("en_GB", 1.0),), (("Europe/London", 1.0),)),
    Country("DE", 0.14, "EUR", 0.92, (("de_DE", 1.0),), (("Europe/Berlin", 1.0),)),
    Country("FR", 0.10, "EUR", 0.92, (("fr_FR", 1.0),), (("Europe/Paris", 1.0),)),
    Country("ES", 0.07, "EUR", 0.92, (("es_ES", 1.0),), (("Europe/Madrid", 0.9), ("Atlantic/Canary", 0.1))),
    Country(
        "MX",
        0.06,
        "MXN",
        17.0,
        (("es_MX", 1.0),),
        (("America/Mexico_City", 0.8), ("America/Monterrey", 0.1), ("America/Tijuana", 0.1)),
    ),
    Country(
        "CA",
        0.07,
        "CAD",
        1.36,
        (("en_CA", 0.7), ("fr_CA", 0.3)),
        (("America/Toronto", 0.75), ("America/Vancouver", 0.25)),
    ),
    Country("IN", 0.06, "INR", 83.0, (("en_IN", 1.0),), (("Asia/Kolkata", 1.0),)),
    Country("AU", 0.06, "AUD", 1.52, (("en_AU", 1.0),), (("Australia/Sydney", 0.7), ("Australia/Adelaide", 0.3))),
    Country("JP", 0.03, "JPY", 150.0, (("ja_JP", 1.0),), (("Asia/Tokyo", 1.0),)),
)
FRENCH_CANADIAN_ZONE = "America/Toronto"
"""fr_CA customers live in Quebec, which follows Toronto's time."""


@dataclass(frozen=True)
class NameList:
    """Given and family names as (display, ascii) pairs; the ascii form builds the email address."""

    given: tuple[tuple[str, str], ...]
    family: tuple[tuple[str, str], ...]
    family_first: bool = False


NAME_LISTS: dict[str, NameList] = {
    "en": NameList(
        given=tuple((n, n.lower()) for n in ("Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "James")),
        family=tuple(
            (n, n.lower()) for n in ("Smith", "Brown", "Taylor", "Walker", "Harris", "Clarke", "Wright", "Baker")
        ),
    ),
    "de": NameList(
        given=(("Anna", "anna"), ("Lukas", "lukas"), ("Lea", "lea"), ("Jonas", "jonas"), ("Jürgen", "juergen")),
        family=(
            ("Müller", "mueller"),
            ("Schmidt", "schmidt"),
            ("Weber", "weber"),
            ("Schäfer", "schaefer"),
            ("Koch", "koch"),
        ),
    ),
    "fr": NameList(
        given=(("Camille", "camille"), ("Louis", "louis"), ("Léa", "lea"), ("Hugo", "hugo"), ("Chloé", "chloe")),
        family=(
            ("Martin", "martin"),
            ("Dubois", "dubois"),
            ("Lefèvre", "lefevre"),
            ("Girard", "girard"),
            ("Gagnon", "gagnon"),
        ),
    ),
    "es": NameList(
        given=(("Lucía", "lucia"), ("Mateo", "mateo"), ("Sofía", "sofia"), ("Diego", "diego"), ("Ximena", "ximena")),
        family=(
            ("García", "garcia"),
            ("López", "lopez"),
            ("Núñez", "nunez"),
            ("Torres", "torres"),
            ("Ramírez", "ramirez"),
        ),
    ),
    "in": NameList(
        given=tuple((n, n.lower()) for n in ("Aarav", "Priya", "Vivaan", "Ananya", "Arjun", "Isha")),
        family=tuple((n, n.lower()) for n in ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Mehta")),
    ),
    "ja": NameList(
        given=(("花子", "hanako"), ("太郎", "taro"), ("結衣", "yui"), ("蓮", "ren"), ("陽菜", "hina")),
        family=(("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("渡辺", "watanabe")),
        family_first=True,
    ),
}
NAME_LIST_OF_LOCALE = {
    "en_US": "en",
    "en_GB": "en",
    "en_CA": "en",
    "en_AU": "en",
    "de_DE": "de",
    "fr_FR": "fr",
    "fr_CA": "fr",
    "es_ES": "es",
    "es_MX": "es",
    "en_IN": "in",
    "ja_JP": "ja",
}


@dataclass(frozen=True)
class DemoData:
    """Demo tables as text frames (what a CSV export carries) plus ``truth``, the hidden behaviour per customer."""

    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    truth: pl.DataFrame


@dataclass(frozen=True)
class _Schedule:
    """Customers (indexed by their number - 1, ordered by first invoice) and their invoices, ordered by issue day."""

    behaviour: np.ndarray
    cycle_day: np.ndarray
    first_issue_day: np.ndarray
    invoice_customer: np.ndarray
    issue_day: np.ndarray


@dataclass(frozen=True)
class _Customers:
    country: np.ndarray
    exponent: np.ndarray
    payment_method: np.ndarray
    terms_days: np.ndarray
    typical_amount: np.ndarray
    amount_sigma: np.ndarray
    parameters: CustomerParameters
    currency: np.ndarray
    frame: pl.DataFrame


@dataclass(frozen=True)
class _Outcomes:
    """Per-invoice amounts and what happened by the end date; payments one row per installment paid."""

    due_day: np.ndarray
    amount_minor: np.ndarray
    paid_day: np.ndarray
    disputed: np.ndarray
    dispute_day: np.ndarray
    payment_invoice: np.ndarray
    payment_amount_minor: np.ndarray
    payment_day: np.ndarray
    payment_installment: np.ndarray


NO_DAY = np.iinfo(np.int64).min
"""Marks a missing day in the int day arrays (becomes null)."""


def generate_demo_data(
    n_invoices: int,
    *,
    seed: int,
    start: date,
    end: date,
    dirty_rate: float = 0.01,
) -> DemoData:
    """About ``n_invoices`` invoice rows (dirty duplicates included) issued between ``start`` and ``end``.

    The result depends only on the arguments. ``dirty_rate`` is the approximate share of bad rows per
    table (at least one of each kind when positive); 0 gives clean data only. Malformed dates are put in
    ``due_date`` only, so every row keeps a valid day to be delivered on.
    """
    if n_invoices < 1:
        raise ValueError("n_invoices must be at least 1")
    if end < start:
        raise ValueError("end must not be before start")
    if not 0.0 <= dirty_rate <= 0.5:
        raise ValueError("dirty_rate must be between 0 and 0.5")
    schedule_rng, customer_rng, outcome_rng, dirty_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    start_day, end_day = (start - EPOCH).days, (end - EPOCH).days
    invoice_defects = _defect_counts(dirty_rate, n_invoices, len(INVOICE_DEFECTS))
    appended = (
        invoice_defects[INVOICE_DEFECTS.index("conflicting_duplicate")]
        + invoice_defects[INVOICE_DEFECTS.index("identical_duplicate")]
    )
    clean_invoices = max(1, n_invoices - appended)
    schedule = _draw_schedule(schedule_rng, clean_invoices, start_day, end_day)
    customers = _draw_customers(customer_rng, schedule)
    outcomes = _simulate_outcomes(outcome_rng, schedule, customers, end_day)
    invoice_counts = np.bincount(schedule.invoice_customer, minlength=schedule.behaviour.size)
    return DemoData(
        customers=_dirty_customers(dirty_rng, customers.frame, invoice_counts, dirty_rate),
        invoices=_invoice_frame(dirty_rng, schedule, customers, outcomes, invoice_defects),
        payments=_payment_frame(dirty_rng, schedule, customers, outcomes, dirty_rate),
        truth=_truth_frame(customers.parameters),
    )


def _defect_counts(rate: float, rows: int, kinds: int) -> list[int]:
    """Bad rows per kind: about ``rate * rows`` in all, at least one of each kind when the rate is positive."""
    if rate <= 0 or rows == 0:
        return [0] * kinds
    total = min(max(kinds, round(rate * rows)), rows // 2)
    return [total // kinds + (1 if i < total % kinds else 0) for i in range(kinds)]


def _month_of(days: np.ndarray) -> np.ndarray:
    """Months since January 1970."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _first_day_of(months: np.ndarray) -> np.ndarray:
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _draw_batch(
    rng: np.random.Generator, size: int, start_day: int, end_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A batch of candidate customers with their monthly invoices: (behaviour, cycle, first issue, customer, issue)."""
    behaviour = draw_behaviours(rng, size)
    cycle_day = rng.integers(1, MAX_CYCLE_DAY + 1, size)
    existing = rng.random(size) < EXISTING_CUSTOMER_SHARE
    join_day = np.where(existing, start_day, rng.integers(start_day, end_day + 1, size))
    churns = rng.random(size) < profile_values("churn_prob")[behaviour]
    stay_days = np.floor(rng.random(size) * (end_day - join_day + 1)).astype(np.int64)
    leave_day = np.where(churns, join_day + stay_days, end_day)
    join_month, leave_month = _month_of(join_day), _month_of(leave_day)
    first_month = join_month + (join_day - _first_day_of(join_month) + 1 > cycle_day)
    last_month = leave_month - (leave_day - _first_day_of(leave_month) + 1 < cycle_day)
    regular = np.clip(last_month - first_month + 1, 0, None)
    customer = np.repeat(np.arange(size), regular)
    nth = np.arange(customer.size) - np.repeat(np.cumsum(regular) - regular, regular)
    issue_day = _first_day_of(first_month[customer] + nth) + cycle_day[customer] - 1
    kept = (nth == 0) | (rng.random(customer.size) >= SKIP_MONTH_PROB)
    extra = rng.random(customer.size) < EXTRA_INVOICE_PROB
    extra_day = issue_day[extra] + rng.integers(3, 16, int(extra.sum()))
    extra_kept = extra_day <= end_day
    first_issue_day = _first_day_of(first_month) + cycle_day - 1
    return (
        behaviour,
        cycle_day,
        np.where(regular > 0, first_issue_day, NO_DAY),
        np.concatenate([customer[kept], customer[extra][extra_kept]]),
        np.concatenate([issue_day[kept], extra_day[extra_kept]]),
    )


def _draw_schedule(rng: np.random.Generator, target: int, start_day: int, end_day: int) -> _Schedule:
    """Exactly ``target`` invoices: whole candidate customers in draw order, the last one cut short."""
    months = (end_day - start_day + 1) / DAYS_PER_MONTH
    invoices_per_customer = max(0.5, months * (EXISTING_CUSTOMER_SHARE + (1 - EXISTING_CUSTOMER_SHARE) / 2) * 0.9)
    batch_size = math.ceil(target / invoices_per_customer * 1.2) + 16
    batches: list[tuple[np.ndarray, ...]] = []
    drawn = total = 0
    while total < target:
        behaviour, cycle, first_issue, customer, issue = _draw_batch(rng, batch_size, start_day, end_day)
        batches.append((behaviour, cycle, first_issue, customer + drawn, issue))
        drawn += batch_size
        total += issue.size
    behaviour, cycle_day, first_issue_day, customer, issue_day = (
        np.concatenate(parts) for parts in zip(*batches, strict=True)
    )
    counts = np.bincount(customer, minlength=drawn)
    cumulative = np.cumsum(counts)
    last = int(np.searchsorted(cumulative, target))
    excess = int(cumulative[last] - target)
    kept = customer <= last
    if excess:
        own = np.flatnonzero(customer == last)
        kept[own[np.argsort(issue_day[own], kind="stable")[-excess:]]] = False
    customer, issue_day = customer[kept], issue_day[kept]
    candidates = np.flatnonzero(counts[: last + 1] > 0)
    by_first_invoice = candidates[np.lexsort((candidates, first_issue_day[candidates]))]
    number = np.full(drawn, -1, dtype=np.int64)
    number[by_first_invoice] = np.arange(by_first_invoice.size)
    invoice_customer = number[customer]
    order = np.lexsort((invoice_customer, issue_day))
    return _Schedule(
        behaviour=behaviour[by_first_invoice],
        cycle_day=cycle_day[by_first_invoice],
        first_issue_day=first_issue_day[by_first_invoice],
        invoice_customer=invoice_customer[order],
        issue_day=issue_day[order],
    )


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


def _draw_customers(rng: np.random.Generator, schedule: _Schedule) -> _Customers:
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
            "customer_id": _ids("C", number, CUSTOMER_ID_DIGITS),
            "name": _text(display_name),
            "email": _text(_blank_where(~has_email, email)),
            "phone": _text(_blank_where(~has_phone, phone)),
            "country": _text(np.array([c.code for c in COUNTRIES], dtype=object)[country]),
            "region": _text(np.array([SALES_REGIONS[c.code] for c in COUNTRIES], dtype=object)[country]),
            "time_zone": _text(time_zone),
            "locale": _text(locale),
            "preferred_channel": _text(preferred_channel),
            "email_opt_out": _booleans(email_opt_out),
            "sms_opt_out": _booleans(sms_opt_out),
            "sms_consent": _booleans(sms_consent),
            "billing_cycle_day": pl.Series(schedule.cycle_day).cast(pl.String),
            "paperless_since": _date_text(np.where(paperless, paperless_day, NO_DAY)),
            "payment_method": _text(payment_method),
            "first_invoice_date": _dates(schedule.first_issue_day),
        }
    )
    return _Customers(
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


def _monday_if_weekend(days: np.ndarray) -> np.ndarray:
    weekday = (days + 3) % 7
    return days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))


def _simulate_outcomes(rng: np.random.Generator, schedule: _Schedule, customers: _Customers, end_day: int) -> _Outcomes:
    """Amounts, delays, disputes and installments per invoice, as if no reminder was ever sent."""
    customer = schedule.invoice_customer
    issue_day = schedule.issue_day
    size = issue_day.size
    params = customers.parameters
    terms = customers.terms_days[customer]
    due_day = issue_day + terms

    large = rng.random(size) < LARGE_INVOICE_PROB
    multiplier = np.exp(rng.normal(0.0, customers.amount_sigma[customer])) * np.where(
        large, rng.uniform(3.0, 10.0, size), 1.0
    )
    scale = np.power(10.0, customers.exponent[customer])
    amount_minor = np.maximum(np.rint(customers.typical_amount[customer] * multiplier * scale), scale).astype(np.int64)

    due_month = _month_of(due_day) % 12
    mean_delay = (
        params.mean_days_late[customer] + CALENDAR_DELAY_DAYS[due_month] + AMOUNT_DELAY_DAYS * np.log(multiplier)
    )
    days_late = sample_days_late(rng, mean_delay, params.noise_scale[customer], params.reminder_sensitivity[customer])
    pay_day = np.maximum(due_day + days_late, issue_day)
    never_paid = sample_never_pays(rng, params.never_pay_prob[customer], params.reminder_sensitivity[customer])

    raises_dispute = rng.random(size) < params.dispute_prob[customer]
    dispute_day = issue_day + rng.integers(2, terms + 11)
    resolved_day = dispute_day + np.ceil(rng.gamma(2.0, 9.0, size)).astype(np.int64)
    pay_day = np.where(raises_dispute, np.maximum(pay_day, resolved_day + rng.integers(0, 7, size)), pay_day)

    partial = rng.random(size) < params.partial_payment_prob[customer]
    installments = np.where(partial, rng.integers(2, MAX_INSTALLMENTS + 1, size), 1)
    gap = np.minimum(rng.integers(7, 22, size), (pay_day - issue_day) // np.maximum(installments - 1, 1))
    installments = np.where(gap > 0, installments, 1)
    paid_installments = np.where(never_paid, np.where(installments > 1, installments - 1, 0), installments)
    slot = np.arange(MAX_INSTALLMENTS)[None, :]
    weights = np.where(slot < installments[:, None], rng.uniform(0.5, 1.5, (size, MAX_INSTALLMENTS)), 0.0)
    shares = np.floor(weights / weights.sum(axis=1, keepdims=True) * amount_minor[:, None]).astype(np.int64)
    rows = np.arange(size)
    last_slot = installments - 1
    shares[rows, last_slot] = amount_minor - (shares.sum(axis=1) - shares[rows, last_slot])
    slot_day = np.maximum(pay_day[:, None] - (last_slot[:, None] - slot) * gap[:, None], issue_day[:, None])
    bank_day = np.isin(customers.payment_method[customer], BANK_DAY_METHODS)
    slot_day = np.where(bank_day[:, None], _monday_if_weekend(slot_day), slot_day)

    final_day = slot_day[rows, last_slot]
    settled = (paid_installments == installments) & (final_day <= end_day)
    payment_made = (slot < paid_installments[:, None]) & (slot_day <= end_day)
    invoice_of_payment, installment = np.nonzero(payment_made)
    disputed = raises_dispute & (dispute_day <= end_day)
    return _Outcomes(
        due_day=due_day,
        amount_minor=amount_minor,
        paid_day=np.where(settled, final_day, NO_DAY),
        disputed=disputed,
        dispute_day=np.where(disputed, dispute_day, NO_DAY),
        payment_invoice=invoice_of_payment,
        payment_amount_minor=shares[invoice_of_payment, installment],
        payment_day=slot_day[invoice_of_payment, installment],
        payment_installment=installment,
    )


def _ids(prefix: str, numbers: np.ndarray, digits: int) -> pl.Series:
    """Zero-padded ids such as ``C0000042`` from 1-based numbers."""
    return prefix + pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(digits)


def _text(values: np.ndarray, name: str = "") -> pl.Series:
    """Object arrays of str/None as a String series (polars cannot cast numpy object arrays)."""
    return pl.Series(name, values.tolist(), dtype=pl.String)


def _blank_where(missing: np.ndarray, values: np.ndarray) -> np.ndarray:
    blanked = values.copy()
    blanked[missing] = None
    return blanked


def _booleans(values: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.Boolean).replace_strict({True: "true", False: "false"}, return_dtype=pl.String)


def _dates(days: np.ndarray) -> pl.Series:
    """Day numbers to a Date series; :data:`NO_DAY` becomes null."""
    series = pl.Series("day", days, dtype=pl.Int64)
    known = series.to_frame().select(pl.when(pl.col("day") != NO_DAY).then(pl.col("day"))).to_series()
    return known.cast(pl.Int32).cast(pl.Date)


def _date_text(days: np.ndarray) -> pl.Series:
    return _dates(days).dt.to_string("%Y-%m-%d")


def _money_text(minor: pl.Expr, exponent: pl.Expr) -> pl.Expr:
    """Decimal text with exactly the currency's number of decimals (JPY none, EUR two)."""
    scale = pl.lit(10, dtype=pl.Int64).pow(exponent)
    whole = (minor.abs() // scale).cast(pl.String)
    fraction = (minor.abs() % scale).cast(pl.String).str.zfill(exponent)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(exponent == 0).then(sign + whole).otherwise(pl.concat_str([sign, whole, pl.lit("."), fraction]))


def _split_chosen(rng: np.random.Generator, population: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Distinct rows of ``population`` for each defect kind."""
    chosen = rng.choice(population, size=min(sum(counts), population.size), replace=False)
    return np.split(chosen, np.cumsum(counts)[:-1])


def _invoice_frame(
    rng: np.random.Generator,
    schedule: _Schedule,
    customers: _Customers,
    outcomes: _Outcomes,
    defect_counts: list[int],
) -> pl.DataFrame:
    size = schedule.issue_day.size
    kind = {name: code for code, name in enumerate(INVOICE_DEFECTS, start=1)}
    chosen = dict(zip(INVOICE_DEFECTS, _split_chosen(rng, np.arange(size), defect_counts), strict=True))
    conflicting, identical = chosen["conflicting_duplicate"], chosen["identical_duplicate"]
    rows = np.concatenate([np.arange(size), conflicting, identical])
    defect = np.zeros(rows.size, dtype=np.int8)
    for name in ("invalid_currency", "negative_amount", "due_before_issue", "invalid_date", "unknown_customer"):
        defect[chosen[name]] = kind[name]
    defect[size : size + conflicting.size] = kind["conflicting_duplicate"]
    defect[size + conflicting.size :] = kind["identical_duplicate"]

    customer = schedule.invoice_customer[rows]
    currency = customers.currency[customer].copy()
    exponent = customers.exponent[customer]
    issue_day = schedule.issue_day[rows]
    due_day = outcomes.due_day[rows].copy()
    amount = outcomes.amount_minor[rows].copy()
    paid_day = outcomes.paid_day[rows]
    paid_amount = np.where(paid_day != NO_DAY, amount, 0)

    def has_defect(name: str) -> np.ndarray:
        return defect == kind[name]

    currency[has_defect("invalid_currency")] = np.array(INVALID_CURRENCIES, dtype=object)[
        rng.integers(0, len(INVALID_CURRENCIES), int(has_defect("invalid_currency").sum()))
    ]
    amount[has_defect("negative_amount")] *= -1
    due_day[has_defect("due_before_issue")] = issue_day[has_defect("due_before_issue")] - rng.integers(
        1, 31, int(has_defect("due_before_issue").sum())
    )
    customer = np.where(
        has_defect("unknown_customer"), schedule.behaviour.size + rng.integers(0, 50_000, rows.size), customer
    )
    bump = np.maximum(1, np.rint(np.abs(amount) * rng.uniform(0.05, 0.5, rows.size))).astype(np.int64)
    amount = np.where(has_defect("conflicting_duplicate"), amount + bump, amount)

    order = np.argsort(rows, kind="stable")
    frame = pl.DataFrame(
        {
            "invoice_id": _ids("INV-", rows[order] + 1, INVOICE_ID_DIGITS),
            "customer_id": _ids("C", customer[order] + 1, CUSTOMER_ID_DIGITS),
            "issue_date": _date_text(issue_day[order]),
            "due_date": _date_text(due_day[order]),
            "_amount": amount[order],
            "currency": _text(currency[order]),
            "paid_date": _date_text(paid_day[order]),
            "_paid_amount": paid_amount[order],
            "disputed": _booleans(outcomes.disputed[rows][order]),
            "dispute_date": _date_text(outcomes.dispute_day[rows][order]),
            "_exponent": exponent[order],
            "_invalid_date": has_defect("invalid_date")[order],
            "_variant": rng.integers(0, 4, rows.size)[order],
        }
    )
    return frame.with_columns(
        _money_text(pl.col("_amount"), pl.col("_exponent")).alias("amount"),
        pl.when(pl.col("paid_date").is_not_null())
        .then(_money_text(pl.col("_paid_amount"), pl.col("_exponent")))
        .alias("paid_amount"),
        pl.when(pl.col("_invalid_date"))
        .then(_malformed_date(pl.col("due_date"), pl.col("_variant")))
        .otherwise(pl.col("due_date"))
        .alias("due_date"),
    ).select(INVOICE_COLUMNS)


def _malformed_date(iso: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """Dates as broken exports write them: month 13, day 32, day-first, 30 February."""
    year, month, day = iso.str.slice(0, 4), iso.str.slice(5, 2), iso.str.slice(8, 2)
    return (
        pl.when(variant == 0)
        .then(pl.concat_str([year, pl.lit("-13-"), day]))
        .when(variant == 1)
        .then(pl.concat_str([year, pl.lit("-"), month, pl.lit("-32")]))
        .when(variant == 2)
        .then(pl.concat_str([day, pl.lit("/"), month, pl.lit("/"), year]))
        .otherwise(pl.concat_str([year, pl.lit("-02-30")]))
    )


def _payment_frame(
    rng: np.random.Generator,
    schedule: _Schedule,
    customers: _Customers,
    outcomes: _Outcomes,
    dirty_rate: float,
) -> pl.DataFrame:
    size = outcomes.payment_invoice.size
    unknown, zero = _split_chosen(rng, np.arange(size), _defect_counts(dirty_rate, size, len(PAYMENT_DEFECTS)))
    rows = np.concatenate([np.arange(size), unknown, zero])
    invoice = outcomes.payment_invoice[rows]
    customer = schedule.invoice_customer[invoice]
    invoice_number = invoice + 1
    invoice_number[size : size + unknown.size] = schedule.issue_day.size + 1 + rng.integers(0, 100_000, unknown.size)
    amount = outcomes.payment_amount_minor[rows].copy()
    amount[size + unknown.size :] = 0
    day = outcomes.payment_day[rows]
    appended = np.arange(rows.size) >= size
    order = np.lexsort((appended, outcomes.payment_installment[rows], invoice, day))
    frame = pl.DataFrame(
        {
            "payment_id": _ids("PAY-", np.arange(1, rows.size + 1), PAYMENT_ID_DIGITS),
            "invoice_id": _ids("INV-", invoice_number[order], INVOICE_ID_DIGITS),
            "_amount": amount[order],
            "_exponent": customers.exponent[customer][order],
            "currency": _text(customers.currency[customer][order]),
            "paid_date": _date_text(day[order]),
        }
    )
    return frame.with_columns(_money_text(pl.col("_amount"), pl.col("_exponent")).alias("amount")).select(
        PAYMENT_COLUMNS
    )


def _dirty_customers(
    rng: np.random.Generator, frame: pl.DataFrame, invoice_counts: np.ndarray, dirty_rate: float
) -> pl.DataFrame:
    counts = _defect_counts(dirty_rate, frame.height, len(CUSTOMER_DEFECTS))
    if not sum(counts):
        return frame
    candidates = np.flatnonzero(invoice_counts <= np.quantile(invoice_counts, DIRTY_CUSTOMER_QUANTILE))
    if candidates.size < sum(counts):
        candidates = np.argsort(invoice_counts, kind="stable")[: sum(counts)]
    chosen = dict(zip(CUSTOMER_DEFECTS, _split_chosen(rng, candidates, counts), strict=True))
    defect = np.full(frame.height, "", dtype=object)
    for name, rows in chosen.items():
        defect[rows] = name
    variant = rng.integers(0, 4, frame.height)
    email = pl.coalesce(pl.col("email"), pl.col("customer_id").str.to_lowercase() + "@example.com")
    broken_email = (
        pl.when(pl.col("_variant") == 0)
        .then(email.str.replace("@", "@@", literal=True))
        .when(pl.col("_variant") == 1)
        .then(email.str.replace("@", "", literal=True))
        .when(pl.col("_variant") == 2)
        .then(email.str.replace("@", "@.", literal=True))
        .otherwise(email + ".")
    )
    return (
        frame.with_columns(
            _text(defect, "_defect"),
            pl.Series("_variant", variant),
            _text(np.array(INVALID_PHONES, dtype=object)[variant % len(INVALID_PHONES)], "_phone"),
            _text(np.array(INVALID_TIME_ZONES, dtype=object)[variant % len(INVALID_TIME_ZONES)], "_zone"),
        )
        .with_columns(
            pl.when(pl.col("_defect") == "invalid_phone")
            .then(pl.col("_phone"))
            .otherwise(pl.col("phone"))
            .alias("phone"),
            pl.when(pl.col("_defect") == "invalid_email").then(broken_email).otherwise(pl.col("email")).alias("email"),
            pl.when(pl.col("_defect") == "invalid_time_zone")
            .then(pl.col("_zone"))
            .otherwise(pl.col("time_zone"))
            .alias("time_zone"),
        )
        .select(CUSTOMER_COLUMNS)
    )


def _truth_frame(parameters: CustomerParameters) -> pl.DataFrame:
    names = np.array([p.behaviour.value for p in BEHAVIOURS], dtype=object)
    return pl.DataFrame(
        {
            "customer_id": _ids("C", np.arange(1, parameters.behaviour.size + 1), CUSTOMER_ID_DIGITS),
            "behaviour": _text(names[parameters.behaviour]),
            "mean_days_late": parameters.mean_days_late,
            "reminder_sensitivity": parameters.reminder_sensitivity,
            "partial_payment_prob": parameters.partial_payment_prob,
            "dispute_prob": parameters.dispute_prob,
            "never_pay_prob": parameters.never_pay_prob,
        }
    ).select(TRUTH_COLUMNS)
