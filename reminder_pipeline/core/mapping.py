"""Column mappings: how another file's columns, date formats and values map onto the canonical ones."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.datatypes import DataTypeClass
from pydantic import BaseModel, ConfigDict, Field, model_validator

from reminder_pipeline.core.canonical import (
    ATTRIBUTES,
    CUSTOMER_SCHEMA,
    ROW_NUMBER,
    SCHEMAS,
    Entity,
    EntitySchema,
)
from reminder_pipeline.core.yaml_config import load_yaml_model

ISO_DATE = "%Y-%m-%d"


class UnusableInputError(ValueError):
    """The input as a whole cannot be processed (wrong headers, unreadable, not a table)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueFormat(_Strict):
    """How values are written in the source."""

    date_format: str = ISO_DATE
    date_formats: dict[str, str] = Field(default_factory=dict)
    decimal_separator: str = "."
    thousands_separator: str = ""
    true_values: tuple[str, ...] = ("true", "t", "yes", "y", "1")
    false_values: tuple[str, ...] = ("false", "f", "no", "n", "0")

    def date_format_for(self, column: str) -> str:
        return self.date_formats.get(column, self.date_format)


class DerivedCustomers(_Strict):
    """Create customer rows from the invoice rows (for files with no separate customer list)."""

    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    attributes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known_columns(self) -> DerivedCustomers:
        unknown = sorted(set(self.columns) - set(CUSTOMER_SCHEMA.columns))
        if unknown:
            raise ValueError(f"unknown customer columns {unknown}; known: {list(CUSTOMER_SCHEMA.columns)}")
        return self


class Mapping(_Strict):
    entity: Entity = Entity.INVOICES
    description: str = ""
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    drop: tuple[str, ...] = ()
    format: ValueFormat = Field(default_factory=ValueFormat)
    customers: DerivedCustomers | None = None

    @model_validator(mode="after")
    def _known_columns(self) -> Mapping:
        canonical = set(SCHEMAS[self.entity].columns)
        for field in ("columns", "constants"):
            unknown = sorted(set(getattr(self, field)) - canonical)
            if unknown:
                raise ValueError(
                    f"{field}: unknown canonical columns {unknown} for {self.entity.value}; known: {sorted(canonical)}"
                )
        if self.customers is not None and self.entity is not Entity.INVOICES:
            raise ValueError("customers can only be derived from an invoices file")
        if len(self.delimiter) != 1:
            raise ValueError("delimiter must be a single character")
        return self

    @property
    def entity_schema(self) -> EntitySchema:
        return SCHEMAS[self.entity]


def load_mapping(path: Path | str) -> Mapping:
    return load_yaml_model(path, Mapping)


def _normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff")


def _holds_bytes_or_objects(dtype: pl.DataType | DataTypeClass) -> bool:
    if dtype in (pl.Binary, pl.Object):
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        return _holds_bytes_or_objects(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_holds_bytes_or_objects(f.dtype) for f in dtype.fields)
    return False


def json_value(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as a JSON object can carry it: nested values as they are, bytes as hex, the rest as text."""
    if dtype == pl.Binary:
        return pl.col(column).bin.encode("hex")
    if _holds_bytes_or_objects(dtype):
        return pl.col(column).map_elements(str, return_dtype=pl.String)
    if dtype.is_nested():
        return pl.col(column)
    return pl.col(column).cast(pl.String)


def _check_types(raw: pl.DataFrame, canonical: dict[str, str], extras: list[str], what: str) -> None:
    """Canonical values are scalars; extra columns may be nested (kept as JSON) but not bytes or objects."""
    for name, source in canonical.items():
        dtype = raw.schema[source]
        if dtype.is_nested() or _holds_bytes_or_objects(dtype):
            raise UnusableInputError(
                f"{what}: column '{source}' ({name}) has type {dtype}; {name} needs a single text, number or date value"
            )
    for column in extras:
        dtype = raw.schema[column]
        if _holds_bytes_or_objects(dtype):
            raise UnusableInputError(
                f"{what}: column '{column}' has type {dtype}, which cannot be kept as a row attribute; "
                f"add it to the mapping's drop list"
            )


def _attributes_expr(raw: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """Extra columns as one JSON object per row; nested values (lists, structs) stay JSON arrays and objects."""
    if not columns:
        return pl.lit(None, dtype=pl.String).alias(ATTRIBUTES)
    return pl.struct([json_value(c, raw.schema[c]) for c in columns]).struct.json_encode().alias(ATTRIBUTES)


def _select_canonical(
    raw: pl.DataFrame,
    schema: EntitySchema,
    columns: dict[str, str],
    constants: dict[str, str],
    keep_as_attributes: list[str],
    what: str,
) -> pl.DataFrame:
    available = set(raw.columns)
    resolved: dict[str, str] = {}
    for name in schema.columns:
        source = columns.get(name, name)
        if source in available:
            resolved[name] = source
    missing = [c for c in schema.required if c not in resolved and c not in constants]
    if missing:
        described = ", ".join(f"{c} (from '{columns[c]}')" if c in columns else c for c in missing)
        found = ", ".join(c for c in raw.columns if c != ROW_NUMBER) or "none"
        raise UnusableInputError(
            f"{what}: missing required columns: {described}. Columns found: {found}. "
            "Pass --mapping with a column mapping if the file uses other names."
        )
    _check_types(raw, resolved, keep_as_attributes, what)
    exprs: list[pl.Expr] = [pl.col(ROW_NUMBER)]
    for name in schema.columns:
        if name in resolved:
            exprs.append(pl.col(resolved[name]).alias(name))
        elif name in constants:
            exprs.append(pl.lit(constants[name], dtype=pl.String).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(name))
    exprs.append(_attributes_expr(raw, keep_as_attributes))
    return raw.select(exprs)


def apply_mapping(raw: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """Rename and select the canonical columns; every other column not dropped becomes ``attributes``.

    ``raw`` must carry the row number column. Raises :class:`UnusableInputError` when required
    columns are absent, naming them and the columns that were found, and when a column's type
    cannot hold its values (a list as an amount, bytes anywhere but in a dropped column).
    """
    raw = raw.rename({c: _normalise_header(c) for c in raw.columns})
    used = {mapping.columns.get(c, c) for c in mapping.entity_schema.columns}
    dropped = set(mapping.drop)
    extras = [c for c in raw.columns if c not in used and c not in dropped and c != ROW_NUMBER]
    return _select_canonical(
        raw,
        mapping.entity_schema,
        mapping.columns,
        mapping.constants,
        extras,
        f"{mapping.entity.value} file",
    )


def derive_customers(raw: pl.DataFrame, mapping: Mapping) -> pl.DataFrame | None:
    """Customer rows implied by an invoice file, one per customer (its last row's values).

    The result is raw-shaped: canonical customer column names plus the attribute columns, so it
    goes through the same customer validation as a customer file.
    """
    if mapping.customers is None:
        return None
    derived = mapping.customers
    raw = raw.rename({c: _normalise_header(c) for c in raw.columns})
    sources = {
        "customer_id": mapping.columns.get("customer_id", "customer_id"),
        **derived.columns,
    }
    selected = [pl.col(src).alias(name) for name, src in sources.items() if src in raw.columns]
    selected += [pl.lit(value, dtype=pl.String).alias(name) for name, value in derived.constants.items()]
    selected += [pl.col(c) for c in derived.attributes if c in raw.columns and c not in sources.values()]
    if "customer_id" not in {e.meta.output_name() for e in selected}:
        return None
    frame = raw.select(pl.col(ROW_NUMBER), *selected)
    frame = frame.filter(pl.col("customer_id").cast(pl.String).str.strip_chars().str.len_chars() > 0)
    return frame.unique(subset=["customer_id"], keep="last", maintain_order=True)
