from __future__ import annotations

import codecs
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.ingestion import files
from reminder_pipeline.ingestion.files import RawTable, read_file


def test_csv_values_stay_text_and_rows_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("invoice_id,amount\n0001,1.50\n0002,2\n")
    table = read_file(path)
    assert table.frame[ROW_NUMBER].to_list() == [1, 2]
    assert table.frame["invoice_id"].to_list() == ["0001", "0002"]
    assert table.rows_in == 2
    assert len(table.source_key) == 64


def test_the_same_content_has_the_same_key(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n")
    (tmp_path / "c.csv").write_text("x\n2\n")
    keys = [read_file(tmp_path / n).source_key for n in ("a.csv", "b.csv", "c.csv")]
    assert keys[0] == keys[1] != keys[2]


def test_an_empty_file_is_processed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    table = read_file(path)
    assert table.rows_in == 0
    assert table.warnings == ["the file is empty"]


def test_a_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("invoice_id,amount\n")
    table = read_file(path)
    assert table.rows_in == 0
    assert table.frame.columns == [ROW_NUMBER, "invoice_id", "amount"]


def test_a_binary_file_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UnusableInputError, match="binary"):
        read_file(path)


def test_a_missing_file_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(UnusableInputError, match="no such file"):
        read_file(tmp_path / "nope.csv")


def test_a_truncated_parquet_file_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(UnusableInputError, match="Parquet"):
        read_file(path)


def test_parquet_keeps_its_types(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame({"amount": [1.5], "n": [3]}).write_parquet(path)
    table = read_file(path)
    assert table.frame.schema["amount"] == pl.Float64
    assert table.frame[ROW_NUMBER].to_list() == [1]


def test_lines_with_the_wrong_number_of_fields_become_malformed_rows(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2\n3,4,5\n"6,x",7\n8\n9,10\n')
    table = read_file(path)
    assert table.frame[ROW_NUMBER].to_list() == [1, 3, 5]
    assert table.frame["a"].to_list() == ["1", "6,x", "9"]
    assert table.malformed[ROW_NUMBER].to_list() == [2, 4]
    assert set(table.malformed["reason"]) == {"malformed_row"}
    assert table.rows_in == 5


def test_another_encoding_is_read_when_the_mapping_says_so(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name;amount\nMüller;1\n".encode("latin-1"))
    table = read_file(path, delimiter=";", encoding="latin-1")
    assert table.frame["name"].to_list() == ["Müller"]


def test_duplicate_headers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("a,a\n1,2\n")
    with pytest.raises(UnusableInputError, match="repeats"):
        read_file(path)


INVOICES = "invoice_id,customer_id,issue_date,due_date,amount,currency"


def _both_readers(path: Path) -> tuple[RawTable, RawTable]:
    """The fast reader (UTF-8) and the tolerant one (forced through another encoding name)."""
    return read_file(path), read_file(path, encoding="latin-1")


def _content(table: RawTable) -> list[tuple[object, ...]]:
    return table.frame.rows() + table.malformed.drop("raw").rows()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("stray_quote", f'{INVOICES}\nM1,C1,2026-01-01,2026-01-31,10,US"D\nM2,C1,2026-01-01,2026-01-31,10,USD\n'),
        (
            "text_after_quote",
            f'{INVOICES}\n"M3"x,C1,2026-01-01,2026-01-31,10,USD\nM4,C1,2026-01-01,2026-01-31,10,USD\n',
        ),
        ("cr_only", f"{INVOICES}\rM5,C1,2026-01-01,2026-01-31,10,USD\rM6,C1,2026-01-01,2026-01-31,10,USD\r"),
    ],
)
def test_hostile_csv_is_read_record_by_record(tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(body.encode())
    table = read_file(path)
    assert table.frame.columns == [ROW_NUMBER, *INVOICES.split(",")]
    assert table.frame[ROW_NUMBER].to_list() == [1, 2]
    assert table.malformed.is_empty()
    assert table.frame["currency"].to_list()[-1] == "USD"


def test_a_field_over_128_kib_is_a_value(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    note = "x" * 300_000
    path.write_text(f"{INVOICES},note\nH1,C1,2026-01-01,2026-01-31,10,USD,{note}\nH2,C1,2026-01-01,2026-01-31,10,USD\n")
    table = read_file(path)
    assert table.frame["note"].to_list() == [note]
    assert table.malformed[ROW_NUMBER].to_list() == [2]


def test_a_column_named_source_row_is_an_ordinary_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("source_row,invoice_id\nx,1\n")
    assert read_file(path).frame["source_row"].to_list() == ["x"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_the_internal_row_number_column_name_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"r.{suffix}"
    frame = pl.DataFrame({ROW_NUMBER: ["1"], "invoice_id": ["A"]})
    frame.write_csv(path) if suffix == "csv" else frame.write_parquet(path)
    with pytest.raises(UnusableInputError, match=ROW_NUMBER):
        read_file(path)


def test_blank_lines_are_not_rows_for_either_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("a,b\n1,2\n\n,\n3,4\n\n")
    tolerant_reader = files._read_csv_tolerant
    with monkeypatch.context() as patch:
        patch.setattr(files, "_read_csv_tolerant", None)  # the fast reader must handle this file alone
        fast = read_file(path)
    assert files._read_csv_tolerant is tolerant_reader
    tolerant = read_file(path, encoding="latin-1")
    assert _content(fast) == _content(tolerant) == [(1, "1", "2"), (2, None, None), (3, "3", "4")]
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"a,b\r\n1,2\r\n\r\n3,4\r\n")
    assert [_content(t) for t in _both_readers(crlf)] == [[(1, "1", "2"), (2, "3", "4")]] * 2


def test_the_readers_agree_on_ragged_and_quoted_records(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text('a,b\n1,2\n"x\ny",z\n\n3\n4,5\n')
    fast, tolerant = _both_readers(path)
    assert _content(fast) == _content(tolerant)
    assert fast.frame[ROW_NUMBER].to_list() == [1, 2, 4]


def test_fewer_records_than_lines_warns_of_an_unbalanced_quote(tmp_path: Path) -> None:
    path = tmp_path / "swallowed.csv"
    rows = [f"S{n},C1,2026-01-01,2026-01-31,10,USD" for n in range(2, 5)]
    path.write_text("\n".join([INVOICES, 'S1,"C1,2026-01-01,2026-01-31,10,USD', *rows]) + "\n")
    for table in _both_readers(path):
        assert table.rows_in == 1
        assert any("unbalanced quote" in warning for warning in table.warnings)
    clean = tmp_path / "clean.csv"
    clean.write_text(f"{INVOICES}\nS1,C1,2026-01-01,2026-01-31,10,USD\n")
    assert read_file(clean).warnings == []


def _wide_header(columns: int) -> list[str]:
    """Names of one width, so a header cut anywhere never repeats a whole name by accident."""
    return [f"column_{n:07d}" for n in range(columns)]


def test_a_column_repeated_past_the_first_64_kib_of_the_header_is_named(tmp_path: Path) -> None:
    names = [*_wide_header(6000), "column_0000005"]
    assert len(",".join(names)) > files.SNIFF_BYTES
    for rows in (["1"] * len(names), ["1"] * 3):  # the fast reader, and the tolerant one (a ragged row)
        path = tmp_path / "repeat.csv"
        path.write_text(",".join(names) + "\n" + ",".join(rows) + "\n")
        with pytest.raises(UnusableInputError, match=r"the header repeats columns 'column_0000005'$"):
            read_file(path)


def test_a_header_over_64_kib_of_unique_columns_is_read_whole(tmp_path: Path) -> None:
    names = _wide_header(6000)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join(str(n) for n in range(len(names))) + "\n")
    table = read_file(path)
    assert table.frame.columns == [ROW_NUMBER, *names]
    assert table.frame.row(0)[-1] == "5999"


@pytest.mark.parametrize(("kind", "columns"), [("csv", 1_000_000), ("parquet", 10_001)])
def test_a_table_too_wide_to_hold_is_refused_for_what_it_is(tmp_path: Path, kind: str, columns: int) -> None:
    """A million unique columns was refused as 'repeats columns', which was false (and reading them takes GBs)."""
    path = tmp_path / f"wide.{kind}"
    if kind == "csv":
        path.write_text(",".join(f"x{n}" for n in range(columns)) + "\n" + "1," * (columns - 1) + "1\n")
    else:
        pl.DataFrame({f"x{n}": [1] for n in range(columns)}).write_parquet(path)
    with pytest.raises(UnusableInputError, match=f"has {columns:,} columns; at most 10,000 can be read$"):
        read_file(path)


UTF16_TEXT = "name,amount\nMüller,1\nŁódź,2\n"


@pytest.mark.parametrize(
    ("encoded", "declared"),
    [
        (UTF16_TEXT.encode("utf-16"), "utf-16"),
        (UTF16_TEXT.encode("utf-16"), "utf-8"),
        (UTF16_TEXT.encode("utf-16"), "latin-1"),
        (codecs.BOM_UTF16_BE + UTF16_TEXT.encode("utf-16-be"), "utf-16-le"),
        (UTF16_TEXT.encode("utf-16-le"), "utf-16-le"),
        (UTF16_TEXT.encode("utf-16-be"), "UTF-16BE"),
        (UTF16_TEXT.encode("utf-32"), "utf-8"),
    ],
    ids=["declared_bom", "bom_default", "bom_wins", "bom_beats_wrong_order", "le", "be", "utf32_bom"],
)
def test_utf16_is_read_as_declared_or_as_its_byte_order_mark_says(
    tmp_path: Path, encoded: bytes, declared: str
) -> None:
    path = tmp_path / "wide_chars.csv"
    path.write_bytes(encoded)
    table = read_file(path, encoding=declared)
    assert table.frame.columns == [ROW_NUMBER, "name", "amount"]
    assert table.frame["name"].to_list() == ["Müller", "Łódź"]
    assert table.malformed.is_empty()


def test_utf16_without_a_byte_order_mark_or_a_declared_encoding_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(UTF16_TEXT.encode("utf-16-le"))
    with pytest.raises(UnusableInputError, match=r"binary content.*UTF-16 or UTF-32 without a byte-order mark"):
        read_file(path)


def test_a_header_in_another_encoding_is_refused_with_the_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Kundennummer,Straße\n1,x\n".encode("latin-1"))
    with pytest.raises(UnusableInputError, match="the header is not valid text in encoding utf-8"):
        read_file(path)
