"""Read a CSV or Parquet file into a frame of raw values, or say clearly why it is unusable.

CSV is read as text (no type guessing) so that every value is validated the same way; lines
with the wrong number of fields become ``malformed_row`` quarantine rows instead of failing
the file or being silently cut.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.core.validation.reasons import Reason

PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 65536
REPLACEMENT_CHARACTER = "\ufffd"


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


def _read_csv_fast(path: Path, delimiter: str) -> pl.DataFrame:
    return pl.read_csv(
        path,
        separator=delimiter,
        infer_schema=False,
        encoding="utf8-lossy",
        raise_if_empty=False,
    )


def _has_ragged_records(path: Path, delimiter: str) -> bool:
    """One streaming pass: does any record have another field count than the header?

    polars pads short records with nulls, so a truncated line would pass as empty fields.
    """
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return False
        width = len(header)
        return any(len(row) != width for row in reader if row)


def _read_csv_tolerant(text: str, delimiter: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Record by record: rows with the header's field count, and the others as malformed."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return pl.DataFrame(), _malformed([])
    good: list[list[str | None]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for number, row in enumerate((r for r in reader if r), start=1):
        if len(row) == len(header):
            good.append([value if value != "" else None for value in row])
            numbers.append(number)
        else:
            detail = f"line has {len(row)} fields, the header has {len(header)}"
            bad.append((number, detail, json.dumps(row)))
    frame = pl.DataFrame(good, schema=dict.fromkeys(header, pl.String), orient="row")
    frame = frame.with_columns(pl.Series(ROW_NUMBER, numbers, dtype=pl.Int64))
    return frame.select([ROW_NUMBER, *header]), _malformed(bad)


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


def _check_header(head: bytes, path: Path, delimiter: str, encoding: str) -> None:
    """Refuse a header that is not text or repeats a column (polars would silently rename it)."""
    first_line = head.split(b"\n", 1)[0]
    try:
        text = first_line.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnusableInputError(f"{path}: the header is not valid text in encoding {encoding}") from exc
    except LookupError as exc:
        raise UnusableInputError(f"{path}: unknown encoding {encoding!r}") from exc
    names = [n.strip().lstrip("\ufeff") for n in next(csv.reader([text], delimiter=delimiter), [])]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UnusableInputError(f"{path}: the header repeats columns {duplicated}")


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
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:
            raise UnusableInputError(f"{path}: starts like Parquet but cannot be read: {exc}") from exc
        return RawTable(_numbered(frame).select([ROW_NUMBER, *frame.columns]), source, key)
    if b"\x00" in head:
        raise UnusableInputError(f"{path}: binary content (NUL bytes): not a CSV or Parquet file")
    _check_header(head, path, delimiter, encoding)
    warnings: list[str] = []
    malformed = _malformed([])
    if encoding.lower().replace("-", "") in ("utf8", "utf8sig") and not _has_ragged_records(path, delimiter):
        frame = _numbered(_read_csv_fast(path, delimiter))
        frame = frame.select([ROW_NUMBER, *[c for c in frame.columns if c != ROW_NUMBER]])
    else:
        frame, malformed = _read_csv_tolerant(_decode(path, encoding), delimiter)
    if frame.width == 0 or (frame.width == 1 and frame.columns == [ROW_NUMBER]):
        raise UnusableInputError(f"{path}: no header line")
    if frame.height == 0 and malformed.height == 0:
        warnings.append("the file has a header but no rows")
    return RawTable(frame, source, key, malformed=malformed, warnings=warnings)
