"""Read a CSV or Parquet file into a frame of raw values, or say clearly why it is unusable.

CSV is read as text (no type guessing) so that every value is validated the same way; lines
with the wrong number of fields become ``malformed_row`` quarantine rows instead of failing
the file or being silently cut. A blank line is not a row.

Two readers give the same result: polars (fast) for well-formed UTF-8 files, and Python's csv
module record by record (tolerant) for everything else — other encodings, ragged records, CR-only
line endings, stray quotes, or anything polars cannot read. One streaming pass with the csv module
decides, and checks that polars saw the same records.

The encoding is the mapping's, unless a UTF-16 or UTF-32 byte-order mark says otherwise. A NUL
character is not text: the row holding it is quarantined wherever it is (ingestion checks every
row). A file is refused as binary only when it is not text at all: its header line holds control
characters, or they make up more than a tenth of its first 64 KiB.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.core.validation.reasons import Reason

if TYPE_CHECKING:
    from _csv import Reader

PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 65536
REPLACEMENT_CHARACTER = "\ufffd"
CSV_FIELD_LIMIT = 2**31 - 1
"""Python's csv module refuses fields over 128 KiB by default; a long note is still a value."""
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""NUL and the other control characters; tab, line feed and carriage return are text."""
BINARY_SHARE = 0.1
"""Above this share of control characters in the first block, a file is binary, not text with a stray byte."""
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UTF8 = ("utf-8", "utf-8-sig")
MAX_COLUMNS = 10_000
"""Wider tables are refused before they are read: a million columns would take tens of GB to hold."""


@dataclass
class RawTable:
    """A source's rows as delivered, numbered from 1, plus rows that could not even be split."""

    frame: pl.DataFrame
    source: str
    source_key: str
    malformed: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                ROW_NUMBER: pl.Int64,
                "reason": pl.String,
                "detail": pl.String,
                "raw": pl.String,
            }
        )
    )
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return self.frame.height + self.malformed.height


@dataclass
class _Shape:
    """What one pass of the csv module saw after the header."""

    header: list[str]
    records: int = 0
    blank: list[int] = field(default_factory=list)
    """Positions of blank lines among the records after the header (polars reads each as a row of nulls)."""
    ragged: bool = False
    lines: int = 0
    leading_blank: int = 0

    @property
    def lines_in_records(self) -> int:
        """Physical lines beyond one per record: records whose quoted fields span lines."""
        return self.lines - self.leading_blank - len(self.blank) - (self.records + 1)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _numbered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def _decode(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace")
    except LookupError as exc:
        raise UnusableInputError(f"{path}: unknown encoding {encoding!r}") from exc


def _csv_reader(lines: Iterable[str], delimiter: str) -> Reader:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    return csv.reader(lines, delimiter=delimiter)


def _header(reader: Reader, shape: _Shape) -> list[str] | None:
    for row in reader:
        if row:
            return row
        shape.leading_blank += 1
    return None


def _scan(path: Path, delimiter: str) -> _Shape:
    """One streaming pass: the header, how many records follow, where blank lines are, any ragged record."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = _csv_reader(handle, delimiter)
        shape = _Shape(header=[])
        try:
            shape.header = _header(reader, shape) or []
            for position, row in enumerate(reader):
                if not row:
                    shape.blank.append(position)
                    continue
                shape.records += 1
                shape.ragged = shape.ragged or len(row) != len(shape.header)
        except csv.Error as exc:
            raise UnusableInputError(f"{path}: not readable as CSV: {exc}") from exc
        shape.lines = reader.line_num
    return shape


def _read_csv_fast(path: Path, delimiter: str, shape: _Shape) -> pl.DataFrame | None:
    """polars' reading of the file, or None when it fails or sees other records than the csv module."""
    try:
        frame = pl.read_csv(
            path,
            separator=delimiter,
            infer_schema=False,
            encoding="utf8-lossy",
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException):  # a panic is a read error too
        return None
    header = [shape.header[0].lstrip("\ufeff"), *shape.header[1:]] if shape.header else []
    if [c.lstrip("\ufeff") for c in frame.columns] != header:
        return None
    if frame.height != shape.records + len(shape.blank):
        return None
    if shape.blank:
        blank = frame.with_row_index("_position").filter(pl.col("_position").is_in(shape.blank))
        if not blank.drop("_position").select(pl.all_horizontal(pl.all().is_null())).to_series().all():
            return None
        frame = frame.with_row_index("_position").filter(~pl.col("_position").is_in(shape.blank)).drop("_position")
    return frame


def _read_csv_tolerant(text: str, delimiter: str) -> tuple[pl.DataFrame, pl.DataFrame, _Shape]:
    """Record by record: rows with the header's field count, and the others as malformed."""
    reader = _csv_reader(io.StringIO(text, newline=""), delimiter)
    shape = _Shape(header=[])
    good: list[list[str | None]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str, str]] = []
    try:
        header = _header(reader, shape)
        if header is None:
            return pl.DataFrame(), _malformed([]), shape
        shape.header = header
        for position, row in enumerate(reader):
            if not row:
                shape.blank.append(position)
                continue
            shape.records += 1
            if len(row) == len(header):
                good.append([value if value != "" else None for value in row])
                numbers.append(shape.records)
            else:
                detail = f"line has {len(row)} fields, the header has {len(header)}"
                bad.append((shape.records, detail, json.dumps(row)))
    except csv.Error as exc:
        raise UnusableInputError(f"not readable as CSV: {exc}") from exc
    shape.lines = reader.line_num
    frame = pl.DataFrame(good, schema=dict.fromkeys(header, pl.String), orient="row")
    frame = frame.with_columns(pl.Series(ROW_NUMBER, numbers, dtype=pl.Int64))
    return frame.select([ROW_NUMBER, *header]), _malformed(bad), shape


def _malformed(rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            ROW_NUMBER: [r[0] for r in rows],
            "reason": [Reason.MALFORMED_ROW.value] * len(rows),
            "detail": [r[1] for r in rows],
            "raw": [r[2] for r in rows],
        },
        schema={
            ROW_NUMBER: pl.Int64,
            "reason": pl.String,
            "detail": pl.String,
            "raw": pl.String,
        },
    )


def refuse_reserved_columns(names: Iterable[str], what: str) -> None:
    """The row-number column is ingestion's own: a table may not bring a column of that name."""
    if ROW_NUMBER in {n.strip().lstrip("\ufeff") for n in names}:
        raise UnusableInputError(
            f"{what}: has a column named {ROW_NUMBER!r}, a name reserved for row numbers; rename or remove it"
        )


def file_encoding(head: bytes, declared: str) -> str:
    """The declared encoding, unless the file starts with a UTF-16 or UTF-32 byte-order mark."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    return declared


def _read_header(path: Path, delimiter: str, encoding: str) -> list[str]:
    """The first record, however long (a header is not cut at the block read to sniff the file)."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = _csv_reader(handle, delimiter)
        try:
            return next((row for row in reader if row), [])
        except csv.Error as exc:
            raise UnusableInputError(f"{path}: not readable as CSV: {exc}") from exc


def _binary(path: Path, encoding: str) -> UnusableInputError:
    return UnusableInputError(
        f"{path}: binary content (NUL or other control characters): not a CSV or Parquet file in encoding "
        f"{encoding}. A text file in UTF-16 or UTF-32 without a byte-order mark needs the encoding in the mapping"
    )


def refuse_too_wide(columns: int, what: str) -> None:
    if columns > MAX_COLUMNS:
        raise UnusableInputError(f"{what}: has {columns:,} columns; at most {MAX_COLUMNS:,} can be read")


def _check_header(head: bytes, path: Path, delimiter: str, encoding: str) -> None:
    """Refuse a file that is not text, or whose header repeats a column (polars would silently
    rename it) or uses the reserved name."""
    sniffed = head.decode(encoding, errors="replace")
    if len(CONTROL_CHARACTER.findall(sniffed)) > BINARY_SHARE * len(sniffed):
        raise _binary(path, encoding)  # before reading a header that may never end
    header = _read_header(path, delimiter, encoding)
    if any(CONTROL_CHARACTER.search(name) for name in header):
        raise _binary(path, encoding)
    if any(REPLACEMENT_CHARACTER in name for name in header):
        raise UnusableInputError(f"{path}: the header is not valid text in encoding {encoding}")
    names = [n.strip().lstrip("\ufeff") for n in header]
    refuse_too_wide(len(names), str(path))
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        shown = ", ".join(repr(n) for n in duplicated[:10]) + (
            f" and {len(duplicated) - 10} more" if len(duplicated) > 10 else ""
        )
        raise UnusableInputError(f"{path}: the header repeats columns {shown}")
    refuse_reserved_columns(names, str(path))


def _shape_warnings(shape: _Shape) -> list[str]:
    if shape.lines_in_records <= 0:
        return []
    return [
        f"{shape.lines - shape.leading_blank - len(shape.blank)} lines hold only {shape.records + 1} records "
        "(header included): quoted fields span lines. If no value should hold a line break, look for an "
        'unbalanced quote (") that swallowed the lines after it'
    ]


def _read_parquet(path: Path, key: str) -> RawTable:
    def unreadable(exc: Exception) -> UnusableInputError:
        return UnusableInputError(f"{path}: starts like Parquet but cannot be read: {exc}")

    try:
        width = len(pl.read_parquet_schema(path))
    except Exception as exc:
        raise unreadable(exc) from exc
    refuse_too_wide(width, str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise unreadable(exc) from exc
    refuse_reserved_columns(frame.columns, str(path))
    return RawTable(_numbered(frame).select([ROW_NUMBER, *frame.columns]), str(path), key)


def read_file(path: Path | str, *, delimiter: str = ",", encoding: str = "utf-8") -> RawTable:
    """Read ``path`` (CSV or Parquet, told apart by content) as raw rows."""
    path = Path(path)
    if not path.is_file():
        raise UnusableInputError(f"{path}: no such file")
    source = str(path)
    key = file_digest(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        return RawTable(
            pl.DataFrame({ROW_NUMBER: []}, schema={ROW_NUMBER: pl.Int64}),
            source,
            key,
            warnings=["the file is empty"],
        )
    if head.startswith(PARQUET_MAGIC):
        return _read_parquet(path, key)
    try:
        encoding = codecs.lookup(file_encoding(head, encoding)).name
    except LookupError as exc:
        raise UnusableInputError(f"{path}: unknown encoding {encoding!r}") from exc
    _check_header(head, path, delimiter, encoding)
    malformed = _malformed([])
    fast: pl.DataFrame | None = None
    if encoding in UTF8:
        shape = _scan(path, delimiter)
        if not shape.ragged and not shape.leading_blank:
            fast = _read_csv_fast(path, delimiter, shape)
    if fast is not None:
        frame = _numbered(fast)
        frame = frame.select([ROW_NUMBER, *[c for c in frame.columns if c != ROW_NUMBER]])
    else:
        try:
            frame, malformed, shape = _read_csv_tolerant(_decode(path, encoding), delimiter)
        except UnusableInputError as exc:
            raise UnusableInputError(f"{path}: {exc}") from exc
    if frame.width == 0 or (frame.width == 1 and frame.columns == [ROW_NUMBER]):
        raise UnusableInputError(f"{path}: no header line")
    warnings = _shape_warnings(shape)
    if frame.height == 0 and malformed.height == 0:
        warnings.append("the file has a header but no rows")
    return RawTable(frame, source, key, malformed=malformed, warnings=warnings)
