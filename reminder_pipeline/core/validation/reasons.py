"""Quarantine reason codes. Each quarantined row carries exactly one primary reason."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED_ROW = "malformed_row"
    INVALID_ENCODING = "invalid_encoding"
    MISSING_FIELD = "missing_field"
    INVALID_DATE = "invalid_date"
    IMPLAUSIBLE_DATE = "implausible_date"
    INVALID_AMOUNT = "invalid_amount"
    AMOUNT_PRECISION = "amount_precision"
    NEGATIVE_AMOUNT = "negative_amount"
    NON_POSITIVE_AMOUNT = "non_positive_amount"
    INVALID_CURRENCY = "invalid_currency"
    DUE_BEFORE_ISSUE = "due_before_issue"
    INVALID_BOOLEAN = "invalid_boolean"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    INVALID_COUNTRY = "invalid_country"
    INVALID_TIME_ZONE = "invalid_time_zone"
    INVALID_LOCALE = "invalid_locale"
    INVALID_CHANNEL = "invalid_channel"
    INVALID_CYCLE_DAY = "invalid_cycle_day"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    CONFLICTS_WITH_LEDGER = "conflicts_with_ledger"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_INVOICE = "unknown_invoice"
    CURRENCY_MISMATCH = "currency_mismatch"
    RESERVED_ID = "reserved_id"
    VALUE_TOO_LONG = "value_too_long"


DESCRIPTIONS: dict[Reason, str] = {
    Reason.MALFORMED_ROW: "the line does not have the header's number of fields",
    Reason.INVALID_ENCODING: "the row holds bytes that are not valid in the file's encoding",
    Reason.MISSING_FIELD: "a required field is empty",
    Reason.INVALID_DATE: "a date does not parse in the expected format",
    Reason.IMPLAUSIBLE_DATE: "a date lies outside 1970-2100",
    Reason.INVALID_AMOUNT: "an amount is not a number written in the mapping's number format",
    Reason.AMOUNT_PRECISION: "an amount has more decimals than its currency allows",
    Reason.NEGATIVE_AMOUNT: "an invoice amount is negative",
    Reason.NON_POSITIVE_AMOUNT: "a payment amount is zero or negative",
    Reason.INVALID_CURRENCY: "the currency is not the ISO 4217 code of a currency in use (legal tender)",
    Reason.DUE_BEFORE_ISSUE: "the due date is before the issue date",
    Reason.INVALID_BOOLEAN: "a yes/no field holds something else",
    Reason.INVALID_EMAIL: "the email address is not deliverable-looking",
    Reason.INVALID_PHONE: "the phone number is not a valid number in E.164 form",
    Reason.INVALID_COUNTRY: "the country is not an ISO 3166 alpha-2 code",
    Reason.INVALID_TIME_ZONE: "the time zone is not an IANA zone name",
    Reason.INVALID_LOCALE: "the locale is not a known locale",
    Reason.INVALID_CHANNEL: "the preferred channel is not email or sms",
    Reason.INVALID_CYCLE_DAY: "the billing cycle day is not between 1 and 31",
    Reason.CONFLICTING_DUPLICATE: "the same id appears more than once in the input with different content",
    Reason.CONFLICTS_WITH_LEDGER: "the id is already in the ledger with different content",
    Reason.UNKNOWN_CUSTOMER: "the customer is neither in the ledger nor in this input",
    Reason.UNKNOWN_INVOICE: "the invoice is not in the ledger",
    Reason.CURRENCY_MISMATCH: "the payment's currency differs from its invoice's",
    Reason.RESERVED_ID: "the id uses a suffix the ledger reserves for reported settlements",
    Reason.VALUE_TOO_LONG: "a value is longer than the ledger's column for it",
}
