"""The policy file (YAML), validated with errors that name the line and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reminder_pipeline.core.yaml_config import load_yaml_model

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueTier(_Strict):
    name: str
    below: float | None = Field(default=None, description="upper bound of the open balance in major units")


class Segmentation(_Strict):
    risk_bands: dict[str, float] = Field(
        description="band name: upper bound of P(late), in increasing order; the last must be 1.0"
    )
    aging_edges: list[int] = Field(description="days overdue that end each aging bucket after 'not yet due'")
    value_tiers: dict[str, list[ValueTier]] = Field(
        description="per currency (or 'default'): tiers by open balance, increasing, the last without a bound"
    )

    @field_validator("risk_bands")
    @classmethod
    def _bands_increase(cls, bands: dict[str, float]) -> dict[str, float]:
        bounds = list(bands.values())
        if not bounds or bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("risk band bounds must strictly increase")
        if bounds[-1] != 1.0 or bounds[0] <= 0.0:
            raise ValueError("risk band bounds must lie in (0, 1] and end at 1.0")
        return bands

    @field_validator("aging_edges")
    @classmethod
    def _edges_increase(cls, edges: list[int]) -> list[int]:
        if not edges or edges != sorted(set(edges)) or edges[0] < 1:
            raise ValueError("aging edges must be increasing whole days, the first at least 1")
        return edges

    @model_validator(mode="after")
    def _tiers(self) -> Segmentation:
        if "default" not in self.value_tiers:
            raise ValueError("value_tiers needs a 'default' entry")
        for currency, tiers in self.value_tiers.items():
            bounds = [t.below for t in tiers]
            if not tiers or bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError(f"value_tiers.{currency}: every tier but the last needs 'below', the last none")
            finite = [b for b in bounds if b is not None]
            if finite != sorted(finite) or len(set(finite)) != len(finite):
                raise ValueError(f"value_tiers.{currency}: bounds must strictly increase")
        return self

    def aging_labels(self) -> list[str]:
        labels = ["not yet due"]
        lower = 1
        for edge in self.aging_edges:
            labels.append(f"{lower}-{edge}")
            lower = edge + 1
        return [*labels, f"{self.aging_edges[-1]}+"]


class Policy(_Strict):
    version: str
    segmentation: Segmentation


def load_policy(path: Path | str | None = None) -> Policy:
    return load_yaml_model(path or DEFAULT_POLICY, Policy)
