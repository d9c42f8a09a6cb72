from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.ingestion.files import read_file


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
