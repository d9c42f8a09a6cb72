from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.config_files import load_mapping
from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, UnusableInputError, apply_mapping, derive_customers
from reminder_pipeline.core.yaml_config import ConfigError


def _raw(**columns: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame(columns)
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def test_the_shipped_ibm_mapping_loads(ibm_mapping: Path) -> None:
    mapping = load_mapping(ibm_mapping)
    assert mapping.columns["invoice_id"] == "invoiceNumber"
    assert "DaysLate" in mapping.drop
    assert mapping.customers is not None


def test_extra_columns_become_attributes_and_dropped_ones_vanish() -> None:
    mapping = Mapping(columns={"invoice_id": "No"}, constants={"currency": "EUR"}, drop=("secret",))
    raw = _raw(
        No=["1"],
        customer_id=["c"],
        issue_date=["2026-01-01"],
        due_date=["2026-01-02"],
        amount=["1"],
        region=["north"],
        secret=["x"],
    )
    frame = apply_mapping(raw, mapping)
    assert frame["invoice_id"].to_list() == ["1"]
    assert frame["currency"].to_list() == ["EUR"]
    assert json.loads(frame["attributes"][0]) == {"region": "north"}


def test_missing_required_columns_are_named_with_what_was_found() -> None:
    raw = _raw(InvoiceNo=["1"], Amount=["2"])
    with pytest.raises(UnusableInputError) as error:
        apply_mapping(raw, Mapping(columns={"amount": "Amount"}))
    message = str(error.value)
    assert "invoice_id" in message
    assert "Columns found: InvoiceNo, Amount" in message
    assert "amount" not in message.split("Columns found")[0].split("missing required columns:")[1]


def test_headers_are_trimmed_and_a_byte_order_mark_removed() -> None:
    raw = _raw(
        **{
            "\ufeffinvoice_id": ["1"],
            " customer_id ": ["c"],
            "issue_date": ["x"],
            "due_date": ["x"],
            "amount": ["1"],
            "currency": ["EUR"],
        }
    )
    assert apply_mapping(raw, Mapping())["customer_id"].to_list() == ["c"]


def test_derived_customers_take_one_row_per_customer_and_skip_blank_ids() -> None:
    mapping = Mapping(
        columns={"customer_id": "cust"}, customers={"columns": {"paperless_since": "since"}, "attributes": ["zone"]}
    )
    raw = _raw(
        cust=["a", "b", "a", " "], since=["2026-01-01", "2026-02-01", "2026-03-01", "x"], zone=["1", "2", "3", "4"]
    )
    derived = derive_customers(raw, mapping)
    assert derived is not None
    assert derived.sort("customer_id")["paperless_since"].to_list() == ["2026-03-01", "2026-02-01"]
    assert set(derived.columns) == {ROW_NUMBER, "customer_id", "paperless_since", "zone"}


def test_a_typo_in_a_mapping_field_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("entity: invoices\ncolumns:\n  invoice_id: No\nconstans:\n  currency: EUR\n")
    with pytest.raises(ConfigError) as error:
        load_mapping(path)
    assert "line 4" in str(error.value)
    assert "constans" in str(error.value)


def test_an_unknown_canonical_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("columns:\n  invoice_number: No\n")
    with pytest.raises(ConfigError, match="invoice_number"):
        load_mapping(path)


def test_a_mapping_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("columns: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(path)


def test_customers_cannot_be_derived_from_a_payments_file() -> None:
    with pytest.raises(ValueError, match="derived"):
        Mapping(entity=Entity.PAYMENTS, customers={"columns": {}})


def _invoice_raw(**extra: pl.Series) -> pl.DataFrame:
    base = pl.DataFrame(
        {
            "invoice_id": ["1"],
            "customer_id": ["c"],
            "issue_date": ["2026-01-01"],
            "due_date": ["2026-01-02"],
            "amount": ["1"],
            "currency": ["EUR"],
        }
    )
    frame = base.with_columns(**extra) if extra else base
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def test_nested_extra_columns_are_kept_as_json_attributes() -> None:
    raw = _invoice_raw(tags=pl.Series([[1, 2]]), meta=pl.Series([{"a": "x", "b": [3]}]))
    frame = apply_mapping(raw, Mapping())
    assert json.loads(frame["attributes"][0]) == {"tags": [1, 2], "meta": {"a": "x", "b": [3]}}


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("amount", pl.Series([[10]])),
        ("amount", pl.Series([{"value": 10}])),
        ("invoice_id", pl.Series([b"\x01"], dtype=pl.Binary)),
        ("blob", pl.Series([b"\xff\x00"], dtype=pl.Binary)),
        ("blobs", pl.Series([[b"\xff"]], dtype=pl.List(pl.Binary))),
        ("thing", pl.Series([object()], dtype=pl.Object)),
    ],
)
def test_columns_whose_type_cannot_hold_their_values_are_refused(column: str, values: pl.Series) -> None:
    with pytest.raises(UnusableInputError, match=f"column '{column}'.* has type"):
        apply_mapping(_invoice_raw(**{column: values}), Mapping())


def test_a_refused_extra_column_can_be_dropped() -> None:
    raw = _invoice_raw(blob=pl.Series([b"\xff\x00"], dtype=pl.Binary))
    assert apply_mapping(raw, Mapping(drop=("blob",)))["attributes"].to_list() == [None]


def _load(tmp_path: Path, text: str) -> Mapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return load_mapping(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("columns:\n  custmer_id: Kunde\n", "line 2, field 'columns.custmer_id': unknown canonical columns"),
        (
            "entity: invoices\ncolumns:\n  invoice_id: Nr\n  amont: Betrag\n",
            "line 4, field 'columns.amont': unknown canonical columns",
        ),
        ("constants:\n  currency: EUR\n  curency: EUR\n", "line 3, field 'constants.curency'"),
        (
            "customers:\n  columns:\n    region: Land\n    emial: Mail\n",
            "line 4, field 'customers.columns.emial': unknown customer columns",
        ),
        ("entity: payments\ncustomers:\n  columns: {}\n", "line 2, field 'customers': customers can only be derived"),
        ("delimiter: ';;'\n", "line 1, field 'delimiter'"),
    ],
)
def test_a_mapping_error_names_the_line_and_field_at_fault(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"mapping.yaml: {where}")):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("fmt", "where"),
    [
        ("{decimal_separator: ',', thousands_separator: ','}", "format.thousands_separator"),
        ("{decimal_separator: '.', thousands_separator: '.'}", "format.thousands_separator"),
        ("{thousands_separator: '.'}", "format.thousands_separator"),
        ("{decimal_separator: ''}", "format.decimal_separator"),
        ("{decimal_separator: ',,'}", "format.decimal_separator"),
        ("{decimal_separator: '5'}", "format.decimal_separator"),
        ("{decimal_separator: ' '}", "format.decimal_separator"),
        ("{thousands_separator: '-'}", "format.thousands_separator"),
        ("{thousands_separator: '..'}", "format.thousands_separator"),
        ("{true_values: [Ja, X], false_values: [Nein, x]}", "format.false_values"),
    ],
)
def test_a_contradictory_or_nonsensical_number_format_is_refused_with_its_line(
    tmp_path: Path, fmt: str, where: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"line 2, field '{where}'")):
        _load(tmp_path, f"entity: invoices\nformat: {fmt}\n")


def test_an_unknown_encoding_is_refused_when_the_mapping_loads(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=re.escape("line 2, field 'encoding': Value error, unknown encoding 'utf-17'")
    ):
        _load(tmp_path, "entity: invoices\nencoding: utf-17\n")


def test_a_column_given_both_from_the_file_and_as_a_constant_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("line 4, field 'constants.currency': currency is also read from")):
        _load(tmp_path, "columns:\n  currency: Waehrung\nconstants:\n  currency: EUR\n")
    with pytest.raises(ConfigError, match=re.escape("field 'customers.constants.country'")):
        _load(tmp_path, "customers:\n  columns: {country: Land}\n  constants: {country: DE}\n")


def test_a_file_column_never_silently_overrides_a_constant() -> None:
    """A constant and a file column of the same name: which one is meant is not guessed."""
    raw = _invoice_raw()
    with pytest.raises(UnusableInputError, match="has a column 'currency' and the mapping sets currency to"):
        apply_mapping(raw, Mapping(constants={"currency": "USD"}))
    honoured = apply_mapping(raw, Mapping(constants={"currency": "USD"}, drop=("currency",)))
    assert honoured["currency"].to_list() == ["USD"]
    assert honoured["attributes"].to_list() == [None]


def test_a_dropped_canonical_column_is_not_read() -> None:
    """drop names file columns, canonical or not: a dropped column is neither read nor kept."""
    raw = _invoice_raw(paid_date=pl.Series(["2026-01-05"]), note=pl.Series(["n"]))
    frame = apply_mapping(raw, Mapping(drop=("paid_date",)))
    assert frame["paid_date"].to_list() == [None]
    assert json.loads(frame["attributes"][0]) == {"note": "n"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "drop: [amount]\n",
            "line 1, field 'drop.0'",
            "'amount' is dropped, and nothing else gives the required column amount",
        ),
        (
            "columns: {amount: Betrag}\ndrop:\n  - Notiz\n  - Betrag\n",
            "line 4, field 'drop.1'",
            "'Betrag' is dropped but columns.amount reads it",
        ),
    ],
)
def test_a_drop_that_contradicts_the_mapping_is_refused_with_its_line(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"mapping.yaml: {where}: {message}")):
        _load(tmp_path, text)


def test_dropping_a_required_column_that_a_constant_or_another_column_gives_is_fine(tmp_path: Path) -> None:
    assert _load(tmp_path, "constants: {currency: EUR}\ndrop: [currency]\n").drop == ("currency",)
    assert _load(tmp_path, "columns: {amount: net}\ndrop: [amount]\n").drop == ("amount",)


def test_derived_customers_of_a_list_typed_customer_id_are_refused_clearly() -> None:
    raw = _invoice_raw(customer_id=pl.Series([["a", "b"]]))
    with pytest.raises(UnusableInputError, match=r"column 'customer_id' \(customer_id\) has type List\(String\)"):
        derive_customers(raw, Mapping(customers={}))
    with pytest.raises(UnusableInputError, match=r"column 'zone' \(region\) has type List\(Int64\)"):
        derive_customers(_invoice_raw(zone=pl.Series([[1]])), Mapping(customers={"columns": {"region": "zone"}}))
