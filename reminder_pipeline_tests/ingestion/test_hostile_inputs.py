"""Hostile customer and payment files, and nasty bytes, through the real ingestion service.

Every test runs on SQLite and on PostgreSQL (the ``ledger`` fixture). Each hostile file lists
its rows with the outcome each must get, so the reason is checked per source row. Every bad
row carries ``BAD`` in a value, so "nothing of a bad row is in the ledger" is one search.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.ingestion.files import SNIFF_BYTES
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.quarantine import quarantine_overview
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.ingestion.helpers import (
    customers_csv,
    frame_of,
    ingest_file,
    quarantined_rows,
    snapshot,
    write_csv,
)

ACCEPTED = "accepted"
BUSINESS_TABLES = ("customers", "invoices", "payments", "disputes")

CUSTOMER_COLUMNS = [
    "customer_id",
    "name",
    "email",
    "phone",
    "country",
    "time_zone",
    "locale",
    "preferred_channel",
    "sms_consent",
    "billing_cycle_day",
    "paperless_since",
    "payment_method",
]


def _customer(customer_id: str, **fields: str) -> str:
    return ",".join([customer_id, *(fields.get(c, "") for c in CUSTOMER_COLUMNS[1:])])


# "\udce9" is written as the lone byte 0xE9 (surrogateescape): latin-1 "é", not valid UTF-8.
HOSTILE_CUSTOMERS: list[tuple[str, str]] = [
    (
        ACCEPTED,
        _customer(
            "OK-FULL",
            name="Ada Example",
            email="Ada@Example.COM",
            phone="030 12345678",
            country="de",
            time_zone="Europe/Berlin",
            locale="de-DE",
            preferred_channel="SMS",
            sms_consent="yes",
            billing_cycle_day="15",
            paperless_since="2025-06-01",
            payment_method="card",
        ),
    ),
    (ACCEPTED, _customer("OK-BARE")),
    (ACCEPTED, _customer("OK-TWIN", name="Twin")),
    (ACCEPTED, _customer("OK-TWIN", name="Twin")),
    ("conflicting_duplicate", _customer("BAD-DUP", name="One")),
    ("conflicting_duplicate", _customer("BAD-DUP", name="Two")),
    ("missing_field", _customer("", name="BAD no id")),
    ("missing_field", _customer("   ", name="BAD blank id")),
    ("invalid_email", _customer("BAD-EMAIL", email="ada@@example.com")),
    ("invalid_email", _customer("BAD-EMAIL-HOST", email="ada@localhost")),
    ("invalid_phone", _customer("BAD-PHONE", phone="12345", country="DE")),
    ("invalid_phone", _customer("BAD-PHONE-NATIONAL", phone="030 12345678")),
    ("invalid_country", _customer("BAD-COUNTRY", country="Germany")),
    ("invalid_time_zone", _customer("BAD-TZ", time_zone="Mars/Olympus")),
    ("invalid_locale", _customer("BAD-LOCALE", locale="zz_QQ_nonsense")),
    ("invalid_channel", _customer("BAD-CHANNEL", preferred_channel="pigeon")),
    ("invalid_boolean", _customer("BAD-CONSENT", sms_consent="perhaps")),
    ("invalid_cycle_day", _customer("BAD-CYCLE-0", billing_cycle_day="0")),
    ("invalid_cycle_day", _customer("BAD-CYCLE-32", billing_cycle_day="32")),
    ("invalid_cycle_day", _customer("BAD-CYCLE-TEXT", billing_cycle_day="first")),
    ("invalid_date", _customer("BAD-DATE", paperless_since="2025-02-30")),
    ("implausible_date", _customer("BAD-OLD", paperless_since="1899-12-31")),
    ("value_too_long", _customer("BAD-LONG-NAME", name="n" * 201)),
    ("value_too_long", _customer("BAD-LONG-METHOD", payment_method="m" * 41)),
    ("value_too_long", _customer("BAD-LONG-ID-" + "x" * 60)),
    ("invalid_encoding", _customer("BAD-BYTES", name="Caf\udce9")),
    ("malformed_row", "BAD-SHORT,Short"),
    ("malformed_row", _customer("BAD-WIDE") + ",one too many"),
]

PAYMENT_HEADER = "payment_id,invoice_id,amount,currency,paid_date,method"
HOSTILE_PAYMENTS: list[tuple[str, str]] = [
    (ACCEPTED, "OK-P1,INV-1,30.00,EUR,2026-02-01,card"),
    (ACCEPTED, "OK-P2, INV-1 ,5,eur,2026-02-02,"),
    (ACCEPTED, "OK-YEN,INV-JPY,500,JPY,2026-02-02,"),
    (ACCEPTED, "OK-TWIN,INV-1,1.00,EUR,2026-02-03,"),
    (ACCEPTED, "OK-TWIN,INV-1,1.00,EUR,2026-02-03,"),
    (ACCEPTED, "KNOWN-1,INV-1,10.00,EUR,2026-01-05,"),
    ("conflicts_with_ledger", "KNOWN-2,INV-1,99.00,EUR,2026-01-06,BAD-method"),
    ("conflicting_duplicate", "BAD-DUP,INV-1,1.00,EUR,2026-02-03,"),
    ("conflicting_duplicate", "BAD-DUP,INV-1,2.00,EUR,2026-02-03,"),
    ("missing_field", ",INV-1,1.00,EUR,2026-02-01,BAD-no-id"),
    ("missing_field", "BAD-NO-INVOICE,,1.00,EUR,2026-02-01,"),
    ("missing_field", "BAD-NO-AMOUNT,INV-1,,EUR,2026-02-01,"),
    ("missing_field", "BAD-NO-CURRENCY,INV-1,1.00,,2026-02-01,"),
    ("missing_field", "BAD-NO-DATE,INV-1,1.00,EUR,,"),
    ("reserved_id", "BAD:settled,INV-1,1.00,EUR,2026-02-01,"),
    ("invalid_currency", "BAD-CURRENCY,INV-1,1.00,EUROS,2026-02-01,"),
    ("invalid_currency", "BAD-WITHDRAWN,INV-1,1.00,DEM,2026-02-01,"),
    ("invalid_date", "BAD-DATE,INV-1,1.00,EUR,2026-02-30,"),
    ("invalid_date", "BAD-DATE-FORMAT,INV-1,1.00,EUR,01/02/2026,"),
    ("implausible_date", "BAD-OLD,INV-1,1.00,EUR,1899-12-31,"),
    ("invalid_amount", "BAD-AMOUNT,INV-1,12abc,EUR,2026-02-01,"),
    ("invalid_amount", 'BAD-COMMA,INV-1,"1,50",EUR,2026-02-01,'),
    ("amount_precision", "BAD-PRECISION,INV-1,1.001,EUR,2026-02-01,"),
    ("amount_precision", "BAD-YEN,INV-JPY,1.5,JPY,2026-02-01,"),
    ("non_positive_amount", "BAD-ZERO,INV-1,0.00,EUR,2026-02-01,"),
    ("non_positive_amount", "BAD-NEGATIVE,INV-1,-5.00,EUR,2026-02-01,"),
    ("value_too_long", f"BAD-LONG-METHOD,INV-1,1.00,EUR,2026-02-01,{'m' * 41}"),
    ("value_too_long", f"BAD-LONG-ID-{'x' * 90},INV-1,1.00,EUR,2026-02-01,"),
    ("unknown_invoice", "BAD-UNKNOWN,NOPE,1.00,EUR,2026-02-01,"),
    ("currency_mismatch", "BAD-MISMATCH,INV-1,1.00,USD,2026-02-01,"),
    ("invalid_encoding", "BAD-BYTES,INV-1,1.00,EUR,2026-02-01,caf\udce9"),
    ("malformed_row", "BAD-SHORT,INV-1,1.00"),
    ("malformed_row", "BAD-WIDE,INV-1,1.00,EUR,2026-02-01,,extra"),
]

HOSTILE = {
    Entity.CUSTOMERS: (",".join(CUSTOMER_COLUMNS), HOSTILE_CUSTOMERS),
    Entity.PAYMENTS: (PAYMENT_HEADER, HOSTILE_PAYMENTS),
}


def _hostile_csv(path: Path, entity: Entity) -> Path:
    header, rows = HOSTILE[entity]
    path.write_bytes("\n".join([header, *(line for _, line in rows), ""]).encode("utf-8", "surrogateescape"))
    return path


def _expected_quarantine(entity: Entity) -> dict[int, str]:
    """Source row (data rows numbered from 1) -> reason, for every row that must be quarantined."""
    return {n: outcome for n, (outcome, _) in enumerate(HOSTILE[entity][1], start=1) if outcome != ACCEPTED}


def _ledger_text(ledger: Ledger) -> str:
    """Every value of the business tables but ``source`` (the file path), as searchable text."""
    return repr({name: frame_of(ledger, name).drop("source", strict=False).rows() for name in BUSINESS_TABLES})


def _with_invoices_and_payments(ledger: Ledger, tmp_path: Path) -> None:
    """Customer C1, invoices INV-1 (100.00 EUR) and INV-JPY (1000 JPY), payments KNOWN-1 and KNOWN-2."""
    ingest_file(ledger, customers_csv(tmp_path / "setup_customers.csv", "C1"), Entity.CUSTOMERS)
    invoices = (
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        "INV-1,C1,2026-01-01,2026-01-31,100.00,EUR\n"
        "INV-JPY,C1,2026-01-01,2026-01-31,1000,JPY"
    )
    assert ingest_file(ledger, write_csv(tmp_path / "setup_invoices.csv", invoices)).inserted == 2
    known = f"{PAYMENT_HEADER}\nKNOWN-1,INV-1,10.00,EUR,2026-01-05,\nKNOWN-2,INV-1,20.00,EUR,2026-01-06,"
    assert ingest_file(ledger, write_csv(tmp_path / "setup_payments.csv", known), Entity.PAYMENTS).inserted == 2


CONTACT_REASONS = {
    Reason.INVALID_BOOLEAN,
    Reason.INVALID_EMAIL,
    Reason.INVALID_PHONE,
    Reason.INVALID_COUNTRY,
    Reason.INVALID_TIME_ZONE,
    Reason.INVALID_LOCALE,
    Reason.INVALID_CHANNEL,
    Reason.INVALID_CYCLE_DAY,
}
MONEY_REASONS = {
    Reason.INVALID_AMOUNT,
    Reason.AMOUNT_PRECISION,
    Reason.NEGATIVE_AMOUNT,
    Reason.NON_POSITIVE_AMOUNT,
    Reason.INVALID_CURRENCY,
    Reason.CURRENCY_MISMATCH,
}
INVOICE_ONLY = {Reason.DUE_BEFORE_ISSUE, Reason.UNKNOWN_CUSTOMER}
CANNOT_OCCUR = {
    # a customer row merges into the ledger: it never conflicts with it
    Entity.CUSTOMERS: MONEY_REASONS
    | INVOICE_ONLY
    | {Reason.CONFLICTS_WITH_LEDGER, Reason.UNKNOWN_INVOICE, Reason.RESERVED_ID},
    # a payment amount that is zero or negative is non_positive_amount, never negative_amount
    Entity.PAYMENTS: CONTACT_REASONS | INVOICE_ONLY | {Reason.NEGATIVE_AMOUNT},
}


@pytest.mark.parametrize("entity", [Entity.CUSTOMERS, Entity.PAYMENTS])
def test_the_hostile_files_hold_every_reason_and_mark_every_bad_row(entity: Entity) -> None:
    """The premise of the tests below: every reason the entity can get is there, and only bad rows carry BAD."""
    _, rows = HOSTILE[entity]
    assert {outcome for outcome, _ in rows} - {ACCEPTED} == set(Reason) - CANNOT_OCCUR[entity]
    assert all(("BAD" in line) == (outcome != ACCEPTED) for outcome, line in rows)


def test_a_customers_file_with_every_kind_of_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    report = ingest_file(ledger, _hostile_csv(tmp_path / "customers.csv", Entity.CUSTOMERS), Entity.CUSTOMERS)
    expected = _expected_quarantine(Entity.CUSTOMERS)
    assert report.rows_in == len(HOSTILE_CUSTOMERS)
    assert report.rows_in == report.accepted + report.quarantined
    assert (report.accepted, report.inserted, report.unchanged, report.folded_duplicates) == (4, 3, 1, 1)
    assert report.reasons == dict(sorted(Counter(expected.values()).items()))
    assert quarantined_rows(ledger, Entity.CUSTOMERS) == expected
    with ledger.begin() as connection:
        _, latest = quarantine_overview(connection, reason="malformed_row", limit=10)
    assert sorted(latest["detail"]) == ["line has 13 fields, the header has 12", "line has 2 fields, the header has 12"]
    customers = frame_of(ledger, "customers")
    assert sorted(customers["customer_id"]) == ["OK-BARE", "OK-FULL", "OK-TWIN"]
    full = customers.filter(pl.col("customer_id") == "OK-FULL").row(0, named=True)
    assert {c: full[c] for c in CUSTOMER_COLUMNS[1:]} == {
        "name": "Ada Example",
        "email": "Ada@example.com",
        "phone": "+493012345678",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "locale": "de_DE",
        "preferred_channel": "sms",
        "sms_consent": True,
        "billing_cycle_day": 15,
        "paperless_since": date(2025, 6, 1),
        "payment_method": "card",
    }
    assert "BAD" not in _ledger_text(ledger)


def test_a_payments_file_with_every_kind_of_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    _with_invoices_and_payments(ledger, tmp_path)
    report = ingest_file(ledger, _hostile_csv(tmp_path / "payments.csv", Entity.PAYMENTS), Entity.PAYMENTS)
    expected = _expected_quarantine(Entity.PAYMENTS)
    assert report.rows_in == len(HOSTILE_PAYMENTS)
    assert report.rows_in == report.accepted + report.quarantined
    assert (report.accepted, report.inserted, report.unchanged, report.folded_duplicates) == (6, 4, 2, 1)
    assert report.reasons == dict(sorted(Counter(expected.values()).items()))
    assert quarantined_rows(ledger, Entity.PAYMENTS) == expected
    payments = frame_of(ledger, "payments").sort("payment_id")
    assert payments.select("payment_id", "invoice_id", "amount_minor", "currency", "paid_date", "method").rows() == [
        ("KNOWN-1", "INV-1", 1000, "EUR", date(2026, 1, 5), None),
        ("KNOWN-2", "INV-1", 2000, "EUR", date(2026, 1, 6), None),
        ("OK-P1", "INV-1", 3000, "EUR", date(2026, 2, 1), "card"),
        ("OK-P2", "INV-1", 500, "EUR", date(2026, 2, 2), None),
        ("OK-TWIN", "INV-1", 100, "EUR", date(2026, 2, 3), None),
        ("OK-YEN", "INV-JPY", 500, "JPY", date(2026, 2, 2), None),
    ]
    with ledger.begin() as connection:
        open_invoices = receivables.open_invoices(connection, date(2026, 2, 28))
    assert dict(open_invoices.select("invoice_id", "balance_minor").rows()) == {"INV-1": 3400, "INV-JPY": 500}
    assert "BAD" not in _ledger_text(ledger)


@pytest.mark.parametrize("entity", [Entity.CUSTOMERS, Entity.PAYMENTS])
def test_reingesting_a_hostile_file_changes_nothing(ledger: Ledger, tmp_path: Path, entity: Entity) -> None:
    if entity is Entity.PAYMENTS:
        _with_invoices_and_payments(ledger, tmp_path)
    path = _hostile_csv(tmp_path / f"{entity.value}.csv", entity)
    first = ingest_file(ledger, path, entity)
    before = snapshot(ledger)
    again = ingest_file(ledger, path, entity)
    assert snapshot(ledger) == before
    assert (again.rows_in, again.accepted, again.quarantined) == (first.rows_in, first.accepted, first.quarantined)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.accepted)
    assert again.reasons == first.reasons
    assert quarantined_rows(ledger, entity) == _expected_quarantine(entity)


@pytest.mark.parametrize(
    ("kind", "filler"),
    [("csv", ""), ("csv", "x" * SNIFF_BYTES), ("parquet", "")],
    ids=["csv_start", "csv_deep", "parquet"],
)
def test_a_nul_character_quarantines_only_its_row_wherever_it_is(
    ledger: Ledger, tmp_path: Path, kind: str, filler: str
) -> None:
    """One rule for NUL: its row is quarantined as invalid_encoding, in the first block read of a CSV or
    past it, in CSV or Parquet. PostgreSQL cannot store NUL in text; SQLite can: both ledgers agree."""
    frame = pl.DataFrame(
        {
            "customer_id": ["FILLER", "NUL-NAME", "NUL-DATE", "NUL-NOTE", "OK"],
            "name": ["Filler", "Na\x00me", None, None, "Fine"],
            "paperless_since": [None, None, "2026\x00-01-01", None, None],
            "note": [filler or None, None, None, "a\x00b", None],
        }
    )
    path = tmp_path / f"nul.{kind}"
    if kind == "csv":
        frame.write_csv(path)
        first_nul = path.read_bytes().index(b"\x00")
        assert (first_nul < SNIFF_BYTES) is (not filler)
    else:
        frame.write_parquet(path)
    report = ingest_file(ledger, path, Entity.CUSTOMERS)
    assert (report.rows_in, report.accepted, report.reasons) == (5, 2, {"invalid_encoding": 3})
    assert quarantined_rows(ledger, Entity.CUSTOMERS) == dict.fromkeys([2, 3, 4], "invalid_encoding")
    assert sorted(frame_of(ledger, "customers")["customer_id"]) == ["FILLER", "OK"]
    with ledger.begin() as connection:
        _, latest = quarantine_overview(connection, reason=None, limit=10)
    assert set(latest["detail"]) == {"the row holds a NUL character, which is not text"}


def test_the_smallest_file_with_a_nul_in_its_first_row_quarantines_that_row(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"customer_id,name\nN1,Na\x00me\nN2,Fine\n")
    report = ingest_file(ledger, path, Entity.CUSTOMERS)
    assert (report.rows_in, report.accepted, report.reasons) == (2, 1, {"invalid_encoding": 1})
    assert quarantined_rows(ledger, Entity.CUSTOMERS) == {1: "invalid_encoding"}


@pytest.mark.parametrize(
    "content",
    [
        b"customer_id,na\x00me\nN1,Name\n",
        b"SQLite format 3\x00" + bytes(4000),
        b"PK\x03\x04\x14\x00\x08\x00" + bytes(range(256)) * 8,
    ],
    ids=["nul_in_header", "sqlite_database", "zip_archive"],
)
def test_a_file_that_is_not_text_is_still_refused_as_binary(ledger: Ledger, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(content)
    before = snapshot(ledger)
    with pytest.raises(UnusableInputError, match="binary content"):
        ingest_file(ledger, path, Entity.CUSTOMERS)
    assert snapshot(ledger) == before


def test_a_10000_character_value_in_each_kind_of_field(ledger: Ledger, tmp_path: Path) -> None:
    huge = "7" * 10_000
    rows = [
        ("L-NAME", huge, "", "", "", ""),
        ("L-EMAIL", "", f"{huge}@example.com", "", "", ""),
        ("L-PHONE", "", "", f"+49{huge}", "DE", ""),
        ("L-COUNTRY", "", "", "", huge, ""),
        (f"L-ID-{huge}", "", "", "", "", ""),
        ("L-NOTE", "", "", "", "", huge),
    ]
    text = "\n".join(["customer_id,name,email,phone,country,note", *(",".join(row) for row in rows)])
    report = ingest_file(ledger, write_csv(tmp_path / "huge.csv", text), Entity.CUSTOMERS)
    assert (report.rows_in, report.accepted) == (6, 1)
    assert quarantined_rows(ledger, Entity.CUSTOMERS) == {
        1: "value_too_long",
        2: "invalid_email",
        3: "invalid_phone",
        4: "invalid_country",
        5: "value_too_long",
    }
    note = frame_of(ledger, "customers").row(0, named=True)
    assert (note["customer_id"], note["attributes"]) == ("L-NOTE", f'{{"note":"{huge}"}}')
    with ledger.begin() as connection:
        _, latest = quarantine_overview(connection, reason=None, limit=10)
    details = dict(zip(latest["source_row"], latest["detail"], strict=True))
    assert details[1] == "name has 10000 characters, the ledger keeps at most 200"
    assert details[5] == "customer_id has 10005 characters, the ledger keeps at most 64"
    assert huge not in details[2] + details[3]


def test_lookalike_email_addresses_are_kept_as_written_and_invisible_characters_are_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Mixed-script addresses are valid internationalised addresses: stored as given, never folded into
    the ASCII address they imitate. Invisible and direction-changing characters make an address invalid."""
    emails = {
        "ASCII": "paypal@example.com",
        "CYRILLIC-LOCAL": "p\u0430ypal@example.com",
        "CYRILLIC-DOMAIN": "paypal@ex\u0430mple.com",
        "FULLWIDTH": "\uff50aypal@example.com",
        "ZERO-WIDTH": "pay\u200bpal@example.com",
        "SOFT-HYPHEN": "pay\u00adpal@example.com",
        "RTL-OVERRIDE": "\u202epaypal@example.com",
    }
    text = "\n".join(["customer_id,email", *(f"{c},{e}" for c, e in emails.items())])
    report = ingest_file(ledger, write_csv(tmp_path / "lookalike.csv", text), Entity.CUSTOMERS)
    assert (report.accepted, report.reasons) == (4, {"invalid_email": 3})
    stored = dict(frame_of(ledger, "customers").select("customer_id", "email").rows())
    assert stored == {c: emails[c] for c in ("ASCII", "CYRILLIC-LOCAL", "CYRILLIC-DOMAIN", "FULLWIDTH")}
    assert len(set(stored.values())) == 4


def test_phone_numbers_with_letters(ledger: Ledger, tmp_path: Path) -> None:
    """Letters are read as keypad digits (libphonenumber): a vanity number is a number; anything else is invalid.

    An extension is not part of an E.164 number and is dropped (no SMS reaches an extension).
    """
    rows = [
        "WORDS,+49 151 CALL NOW,DE",
        "LETTER-I,+49151I2345678,DE",
        "LABEL,+49 151 12345678 (mobile),DE",
        "VANITY,1-800-FLOWERS,US",
        "EXTENSION,+1 415 555 2671 ext. 5,US",
    ]
    text = "\n".join(["customer_id,phone,country", *rows])
    report = ingest_file(ledger, write_csv(tmp_path / "phones.csv", text), Entity.CUSTOMERS)
    assert (report.accepted, report.reasons) == (2, {"invalid_phone": 3})
    assert quarantined_rows(ledger, Entity.CUSTOMERS) == dict.fromkeys([1, 2, 3], "invalid_phone")
    stored = dict(frame_of(ledger, "customers").select("customer_id", "phone").rows())
    assert stored == {"VANITY": "+18003569377", "EXTENSION": "+14155552671"}
    with ledger.begin() as connection:
        _, latest = quarantine_overview(connection, reason=None, limit=10)
    assert not any("CALL" in detail or "12345678" in detail for detail in latest["detail"])


@pytest.mark.parametrize("ragged", [False, True], ids=["fast_reader", "tolerant_reader"])
def test_a_bom_and_crlf_line_endings_read_like_a_plain_file(ledger: Ledger, tmp_path: Path, ragged: bool) -> None:
    """Neither the byte-order mark nor the CR of CRLF ends up in an id, a value or an attribute.

    A ragged line sends the file through the record-by-record reader instead of polars.
    """
    lines = [
        "customer_id,name,email,country,locale,note",
        "C1,Ada,ada@example.com,DE,de_DE,n1",
        "C2,Bob,,,,n2",
        *(["C3"] if ragged else []),
    ]
    path = tmp_path / "bom_crlf.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([*lines, ""]).encode())
    report = ingest_file(ledger, path, Entity.CUSTOMERS)
    assert (report.accepted, report.reasons, report.warnings) == (2, {"malformed_row": 1} if ragged else {}, [])
    customers = frame_of(ledger, "customers").sort("customer_id")
    assert customers.select("customer_id", "name", "email", "country", "locale", "attributes").rows() == [
        ("C1", "Ada", "ada@example.com", "DE", "de_DE", '{"note":"n1"}'),
        ("C2", "Bob", None, None, None, '{"note":"n2"}'),
    ]
