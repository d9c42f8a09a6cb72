from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Connection, select

from reminder_pipeline.core.changes import Merge
from reminder_pipeline.ledger import bulk, schema
from reminder_pipeline.ledger.bulk import fetch_by_keys, upsert
from reminder_pipeline.ledger.store import Ledger


def _customer(customer_id: str, email: str | None, name: str | None = "N") -> dict[str, object]:
    return {"customer_id": customer_id, "name": name, "email": email, "source": "test"}


def test_upsert_merges_per_column_and_survives_hostile_text(ledger: Ledger) -> None:
    hostile = 'Robert\'); DROP TABLE customers;-- "quoted", comma\nnewline ünïcode'
    first = pl.DataFrame([_customer("A", "a@example.com"), _customer("B", None, hostile)])
    merge = {"name": Merge.KEEP_EXISTING_IF_NEW_NULL, "email": Merge.KEEP_EXISTING_IF_NEW_NULL}
    with ledger.begin() as connection:
        assert upsert(connection, schema.customers, first, key=["customer_id"], merge=merge) == 2
        second = pl.DataFrame([_customer("A", None, None), _customer("B", "b@example.com", None)])
        upsert(connection, schema.customers, second, key=["customer_id"], merge=merge)
        rows = fetch_by_keys(
            connection, schema.customers, "customer_id", pl.Series(["A", "B", "C"]), ["customer_id", "name", "email"]
        )
    assert sorted(rows.rows()) == [("A", "N", "a@example.com"), ("B", hostile, "b@example.com")]


def test_fetch_by_keys_handles_many_keys_and_types(ledger: Ledger) -> None:
    customers = pl.DataFrame({"customer_id": ["C"], "source": ["t"]})
    invoices = pl.DataFrame(
        {
            "invoice_id": [f"I{n}" for n in range(5000)],
            "customer_id": ["C"] * 5000,
            "issue_date": [date(2026, 1, 1)] * 5000,
            "due_date": [date(2026, 1, 31)] * 5000,
            "amount_minor": list(range(5000)),
            "currency": ["EUR"] * 5000,
            "source": ["t"] * 5000,
        }
    )
    with ledger.begin() as connection:
        upsert(connection, schema.customers, customers, key=["customer_id"], merge={})
        assert upsert(connection, schema.invoices, invoices, key=["invoice_id"], merge={}) == 5000
        wanted = pl.Series([f"I{n}" for n in range(0, 10000, 2)])
        found = fetch_by_keys(
            connection, schema.invoices, "invoice_id", wanted, ["invoice_id", "due_date", "amount_minor"]
        )
    assert found.height == 2500
    assert found.schema["due_date"] == pl.Date
    assert found["amount_minor"].sum() == sum(range(0, 5000, 2))


def test_values_copy_and_postgres_treat_specially_arrive_intact(ledger: Ledger) -> None:
    """``\\.`` alone on a line ends PostgreSQL's COPY data unless quoted; nulls must stay NULL, '' stay ''."""
    keys = ["\\.", "\\N", '""', "", "line\nbreak", "after"]
    names = ["\\.", None, "", '"', "\\N", "\r\n"]
    frame = pl.DataFrame({"customer_id": keys, "name": names, "source": ["t"] * len(keys)})
    with ledger.begin() as connection:
        assert upsert(connection, schema.customers, frame, key=["customer_id"], merge={}) == len(keys)
        rows = fetch_by_keys(connection, schema.customers, "customer_id", pl.Series(keys), ["customer_id", "name"])
    assert sorted(rows.rows(), key=repr) == sorted(zip(keys, names, strict=True), key=repr)


def test_append_adds_rows_whose_key_the_database_assigns_and_refuses_a_key(ledger: Ledger) -> None:
    """The audit's rows go straight into the table, typed as a staged insert would write them."""
    customers = pl.DataFrame([_customer("A", None), _customer("B", None)])
    decisions = pl.DataFrame(
        {
            "business_date": [date(2026, 3, 2)] * 3,
            "customer_id": ["A", "B", "A"],
            "run_id": ["r"] * 3,
            "decision": ["send", "skip", "skip"],
            "reason": [None, "paid", "\\."],
            "detail": ["d", "line\nbreak", ""],
            "invoice_ids": ['["I1"]', "[]", "[]"],
            "superseded_steps": ["[]"] * 3,
            "escalated": [True, False, False],
            "policy_version": ["v"] * 3,
        }
    )
    columns = list(decisions.columns)
    with ledger.begin() as connection:
        upsert(connection, schema.customers, customers, key=["customer_id"], merge={})
        assert bulk.append(connection, schema.reminder_decisions, decisions) == 3
        assert bulk.append(connection, schema.reminder_decisions, decisions.clear()) == 0
        table = schema.reminder_decisions
        rows = connection.execute(select(*[table.c[c] for c in columns]).order_by(table.c.decision_id)).all()
        with pytest.raises(ValueError, match="decision_id"):
            bulk.append(connection, table, decisions.with_row_index("decision_id"))
    assert [tuple(row) for row in rows] == decisions.rows()


def test_staging_refuses_to_merge_when_rows_went_missing(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    fill = bulk._fill

    def lossy(connection: Connection, table: str, columns: str, chunk: pl.DataFrame) -> None:
        fill(connection, table, columns, chunk.head(chunk.height - 1))

    monkeypatch.setattr(bulk, "_fill", lossy)
    frame = pl.DataFrame({"customer_id": ["A", "B"], "source": ["t", "t"]})
    with pytest.raises(bulk.StagingError, match="1 rows arrived of 2"), ledger.begin() as connection:
        upsert(connection, schema.customers, frame, key=["customer_id"], merge={})


def test_every_column_of_the_ledger_has_a_polars_type() -> None:
    """Frames read from any table are typed by the table (``schema_of``), risk's float columns included."""
    for table in schema.metadata.sorted_tables:
        types = bulk.schema_of(table, [c.name for c in table.columns])
        assert len(types) == len(table.columns), table.name
    assert bulk.schema_of(schema.risk_scores, ["p_late"]) == {"p_late": pl.Float64()}


@pytest.mark.parametrize("wanted", [1, bulk.FEW_KEYS - 1, bulk.FEW_KEYS])
def test_fetch_by_keys_reads_the_same_rows_with_or_without_a_staging_table(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, wanted: int
) -> None:
    """A few keys go in an ``IN`` list, more through a staging table: the same rows and types either way."""
    count = bulk.FEW_KEYS + 10
    invoices = pl.DataFrame(
        {
            "invoice_id": [f"I{n}" for n in range(count)],
            "customer_id": ["C"] * count,
            "issue_date": [date(2026, 1, 1)] * count,
            "due_date": [date(2026, 1, n % 28 + 1) for n in range(count)],
            "amount_minor": list(range(count)),
            "currency": ["EUR"] * count,
            "source": ["t"] * count,
        }
    )
    keys = pl.Series([f"I{n}" for n in range(0, 2 * wanted, 2)] + ["I0", None, "missing"])
    columns = ["invoice_id", "due_date", "amount_minor"]
    with ledger.begin() as connection:
        upsert(
            connection,
            schema.customers,
            pl.DataFrame({"customer_id": ["C"], "source": ["t"]}),
            key=["customer_id"],
            merge={},
        )
        upsert(connection, schema.invoices, invoices, key=["invoice_id"], merge={})
        chosen = fetch_by_keys(connection, schema.invoices, "invoice_id", keys, columns)
        monkeypatch.setattr(bulk, "FEW_KEYS", 0)
        staged = fetch_by_keys(connection, schema.invoices, "invoice_id", keys, columns)
    expected = sorted((f"I{n}", date(2026, 1, n % 28 + 1), n) for n in range(0, 2 * wanted, 2) if n < count)
    assert sorted(chosen.rows()) == sorted(staged.rows()) == expected
    assert chosen.schema == staged.schema == bulk.schema_of(schema.invoices, columns)


def test_fetch_table_reads_what_sqlalchemy_reads(ledger: Ledger) -> None:
    """The whole-table read that skips SQLAlchemy's row processing on SQLite gives the same typed frame."""
    customers = pl.DataFrame({"customer_id": ["C", "D"], "paperless_since": [date(2025, 2, 3), None], "source": "t"})
    invoices = pl.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"],
            "customer_id": ["C", "C", "D"],
            "issue_date": [date(2026, 1, 1), date(2025, 12, 31), date(2026, 2, 28)],
            "due_date": [date(2026, 1, 31)] * 3,
            "amount_minor": [0, -5, 2**40],
            "currency": ["EUR", "JPY", "EUR"],
            "source": "t",
        }
    )
    columns = {
        schema.customers: ["customer_id", "paperless_since", "email_opt_out_at", "sms_consent"],
        schema.invoices: ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"],
        schema.disputes: ["invoice_id", "opened_on"],
    }
    with ledger.begin() as connection:
        upsert(connection, schema.customers, customers, key=["customer_id"], merge={})
        upsert(connection, schema.invoices, invoices, key=["invoice_id"], merge={})
        for table, names in columns.items():
            types = bulk.schema_of(table, names)
            expected = bulk.fetch(connection, select(*[table.c[c] for c in names]), types)
            found = bulk.fetch_table(connection, table, names)
            assert found.schema == expected.schema
            assert sorted(found.rows(), key=str) == sorted(expected.rows(), key=str)
    assert found.is_empty()


def test_append_writes_what_an_insert_of_the_same_rows_writes(ledger: Ledger) -> None:
    """COPY on PostgreSQL (executemany on SQLite) against SQLAlchemy's INSERT: the same rows read back,
    types and awkward text included."""
    texts = ["tab\there", "back\\slash", "quo\"te's", "new\nline\r\n", "\\.", "\\N", "", "ünï 🧾 ∑"]
    n = len(texts)
    aware = pl.datetime(2026, 3, 29, 0, 59, 59, 999_999, time_zone="UTC") + pl.duration(minutes=pl.int_range(n))
    decisions = pl.select(
        business_date=pl.lit(date(2026, 3, 29)),
        customer_id=pl.lit("A"),
        run_id=pl.Series(texts),
        decision=pl.lit("send"),
        reason=pl.Series([None, *texts[1:]]),
        detail=pl.Series(texts),
        send_on=pl.Series([date(1999, 12, 31), None] * (n // 2)),
        window_start=aware.dt.convert_time_zone("Europe/Berlin").dt.convert_time_zone("UTC"),
        window_end=pl.when(pl.int_range(n) % 3 == 0).then(aware),
        invoice_ids=pl.Series(['["I\\"1", "ü"]', "[]"] * (n // 2)),
        amount_minor=pl.Series([2**62, -1, 0, None] * (n // 4), dtype=pl.Int64),
        superseded_steps=pl.lit("[]"),
        escalated=pl.Series([True, False] * (n // 2)),
        policy_version=pl.lit("v"),
    )
    table = schema.reminder_decisions
    columns = [table.c[c] for c in decisions.columns]
    with ledger.begin() as connection:
        upsert(connection, schema.customers, pl.DataFrame([_customer("A", None)]), key=["customer_id"], merge={})
        bulk.append(connection, table, decisions)
        connection.execute(table.insert(), decisions.to_dicts())
        rows = [tuple(r) for r in connection.execute(select(*columns).order_by(table.c.decision_id)).all()]
    assert rows[:n] == rows[n:]
    if ledger.dialect == "postgresql":
        assert rows[n:] == decisions.rows()
