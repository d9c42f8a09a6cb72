"""Column mappings: how another file's columns, date formats and values map onto the canonical ones."""

from __future__ import annotations

import codecs

import polars as pl
from polars.datatypes import DataTypeClass
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from reminder_pipeline.core.canonical import (
    ATTRIBUTES,
    CUSTOMER_SCHEMA,
    ROW_NUMBER,
    SCHEMAS,
    Entity,
    EntitySchema,
)
from reminder_pipeline.core.yaml_config import FieldProblem, parse_yaml_model

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

    @field_validator("decimal_separator", "thousands_separator")
    @classmethod
    def _one_separator_character(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "thousands_separator" and value == "":
            return value
        if len(value) != 1:
            raise ValueError(f"must be a single character, got {value!r}")
        if value.isdigit() or value in "+-":
            raise ValueError(f"{value!r} is part of a number, it cannot separate one")
        if value.isspace() and info.field_name == "decimal_separator":
            raise ValueError("a decimal separator cannot be white space")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ValueFormat:
        if self.thousands_separator == self.decimal_separator:
            raise FieldProblem(
                ("thousands_separator",),
                f"the thousands separator is the decimal separator {self.decimal_separator!r}: "
                "amounts could not be read without guessing",
            )
        both = sorted({v.lower() for v in self.true_values} & {v.lower() for v in self.false_values})
        if both:
            raise FieldProblem(("false_values",), f"{both} are both true and false values")
        return self

    def date_format_for(self, column: str) -> str:
        return self.date_formats.get(column, self.date_format)

    def describe_numbers(self) -> str:
        """The number format in words, for quarantine details."""
        thousands = (
            f"thousands separator {self.thousands_separator!r}"
            if self.thousands_separator
            else "no thousands separator"
        )
        return f"decimal separator {self.decimal_separator!r}, {thousands}"


def _columns_and_constants(columns: dict[str, str], constants: dict[str, str]) -> None:
    """A canonical column comes from a file column or from a constant, never both."""
    for name in constants:
        if name in columns:
            raise FieldProblem(
                ("constants", name),
                f"{name} is also read from column '{columns[name]}' (columns.{name}); give it one source",
            )


class DerivedCustomers(_Strict):
    """Create customer rows from the invoice rows (for files with no separate customer list)."""

    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    attributes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known_columns(self) -> DerivedCustomers:
        for field in ("columns", "constants"):
            names = getattr(self, field)
            unknown = [n for n in names if n not in CUSTOMER_SCHEMA.columns]
            if unknown:
                raise FieldProblem(
                    (field, unknown[0]),
                    f"unknown customer columns {unknown}; known: {list(CUSTOMER_SCHEMA.columns)}",
                )
            if "customer_id" in names:
                raise FieldProblem(
                    (field, "customer_id"),
                    "derived customers take customer_id from the invoices (the mapping's columns.customer_id)",
                )
        _columns_and_constants(self.columns, self.constants)
        return self


class Mapping(_Strict):
    entity: Entity = Entity.INVOICES
    description: str = ""
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    drop: tuple[str, ...] = ()
    """File columns that are neither read nor kept as attributes (derived customers still read what they name)."""
    format: ValueFormat = Field(default_factory=ValueFormat)
    customers: DerivedCustomers | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_delimiter_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("delimiter must be a single character")
        return value

    @model_validator(mode="after")
    def _known_columns(self) -> Mapping:
        canonical = set(SCHEMAS[self.entity].columns)
        for field in ("columns", "constants"):
            unknown = [n for n in getattr(self, field) if n not in canonical]
            if unknown:
                raise FieldProblem(
                    (field, unknown[0]),
                    f"unknown canonical columns {unknown} for {self.entity.value}; known: {sorted(canonical)}",
                )
        _columns_and_constants(self.columns, self.constants)
        self._drop_is_honoured()
        if self.customers is not None and self.entity is not Entity.INVOICES:
            raise FieldProblem(("customers",), "customers can only be derived from an invoices file")
        return self

    def _drop_is_honoured(self) -> None:
        """A dropped column is never read: refuse a drop that contradicts ``columns`` or empties a required column."""
        mapped_from = {source: name for name, source in self.columns.items()}
        for index, column in enumerate(self.drop):
            if column in mapped_from:
                raise FieldProblem(
                    ("drop", index),
                    f"'{column}' is dropped but columns.{mapped_from[column]} reads it; a column is read or dropped",
                )
            if column in self.entity_schema.required and column not in self.columns and column not in self.constants:
                raise FieldProblem(
                    ("drop", index),
                    f"'{column}' is dropped, and nothing else gives the required column {column}: "
                    f"map it from another column (columns.{column}) or set it in constants",
                )

    @property
    def entity_schema(self) -> EntitySchema:
        return SCHEMAS[self.entity]


def parse_mapping(text: str, *, source: str) -> Mapping:
    return parse_yaml_model(text, Mapping, source=source)


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
    schema = raw.schema  # built once: rebuilding it per column is quadratic on a wide file
    for name, source in canonical.items():
        dtype = schema[source]
        if dtype.is_nested() or _holds_bytes_or_objects(dtype):
            raise UnusableInputError(
                f"{what}: column '{source}' ({name}) has type {dtype}; {name} needs a single text, number or date value"
            )
    for column in extras:
        dtype = schema[column]
        if _holds_bytes_or_objects(dtype):
            raise UnusableInputError(
                f"{what}: column '{column}' has type {dtype}, which cannot be kept as a row attribute; "
                f"add it to the mapping's drop list"
            )


def _attributes_expr(raw: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """Extra columns as one JSON object per row; nested values (lists, structs) stay JSON arrays and objects."""
    if not columns:
        return pl.lit(None, dtype=pl.String).alias(ATTRIBUTES)
    schema = raw.schema
    return pl.struct([json_value(c, schema[c]) for c in columns]).struct.json_encode().alias(ATTRIBUTES)


def _select_canonical(raw: pl.DataFrame, mapping: Mapping, keep_as_attributes: list[str], what: str) -> pl.DataFrame:
    schema, columns, constants = mapping.entity_schema, mapping.columns, mapping.constants
    available = set(raw.columns) - set(mapping.drop)
    resolved: dict[str, str] = {}
    for name in schema.columns:
        source = columns.get(name, name)
        if source in available:
            resolved[name] = source
    clashing = sorted(set(resolved) & set(constants))
    if clashing:
        name = clashing[0]
        raise UnusableInputError(
            f"{what}: has a column '{name}' and the mapping sets {name} to the constant {constants[name]!r}; "
            f"to use the constant, add '{name}' to the mapping's drop list; to use the column, remove the constant"
        )
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
    columns are absent, naming them and the columns that were found, when a column's type
    cannot hold its values (a list as an amount, bytes anywhere but in a dropped column), and
    when the file has a column the mapping also gives as a constant (which one is meant is not
    guessed).
    """
    raw = raw.rename({c: _normalise_header(c) for c in raw.columns})
    used = {mapping.columns.get(c, c) for c in mapping.entity_schema.columns}
    dropped = set(mapping.drop)
    extras = [c for c in raw.columns if c not in used and c not in dropped and c != ROW_NUMBER]
    return _select_canonical(raw, mapping, extras, f"{mapping.entity.value} file")


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
    found = {name: source for name, source in sources.items() if source in raw.columns}
    constants = dict(derived.constants)
    if "customer_id" in mapping.constants:  # the invoices' customer is a constant: so is the derived one
        found.pop("customer_id", None)
        constants["customer_id"] = mapping.constants["customer_id"]
    elif "customer_id" not in found:
        return None
    extras = [c for c in derived.attributes if c in raw.columns and c not in sources.values()]
    _check_types(raw, found, extras, "customers derived from the invoices file")
    selected = [pl.col(source).alias(name) for name, source in found.items()]
    selected += [pl.lit(value, dtype=pl.String).alias(name) for name, value in constants.items()]
    frame = raw.select(pl.col(ROW_NUMBER), *selected, *extras)
    frame = frame.filter(pl.col("customer_id").cast(pl.String).str.strip_chars().str.len_chars() > 0)
    return frame.unique(subset=["customer_id"], keep="last", maintain_order=True)
