"""The model registry in the ledger: every trained version, its metrics and its status.

A version is ``active`` (in use), ``rejected`` (failed the quality gate) or ``retired``
(replaced). Scoring day d uses the newest version that was active and trained on or before d,
so a backfill never scores the past with a model that learned from its future.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from reminder_pipeline.ledger.schema import model_versions

ACTIVE, REJECTED, RETIRED = "active", "rejected", "retired"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    trained_as_of: date
    window_start: date
    window_end: date
    features: list[str]
    metrics: dict[str, Any]
    reference: dict[str, Any]
    status: str
    bundle: str
    bundle_sha256: str

    @property
    def intact(self) -> bool:
        return hashlib.sha256(self.bundle.encode()).hexdigest() == self.bundle_sha256


def save_version(
    connection: Connection,
    *,
    version: str,
    trained_as_of: date,
    window: tuple[date, date],
    features: list[str],
    metrics: dict[str, Any],
    reference: dict[str, Any],
    bundle: str,
    promote: bool,
) -> str:
    """Store a trained version; when ``promote``, it becomes active and the previous active one retires."""
    if promote:
        connection.execute(update(model_versions).where(model_versions.c.status == ACTIVE).values(status=RETIRED))
    connection.execute(
        insert(model_versions).values(
            version=version,
            trained_as_of=trained_as_of,
            window_start=window[0],
            window_end=window[1],
            features=json.dumps(features),
            metrics=json.dumps(metrics, default=str),
            reference=json.dumps(reference),
            status=ACTIVE if promote else REJECTED,
            bundle=bundle,
            bundle_sha256=hashlib.sha256(bundle.encode()).hexdigest(),
        )
    )
    return ACTIVE if promote else REJECTED


def _version(row: Any) -> ModelVersion:
    return ModelVersion(
        version=row.version,
        trained_as_of=row.trained_as_of,
        window_start=row.window_start,
        window_end=row.window_end,
        features=json.loads(row.features),
        metrics=json.loads(row.metrics),
        reference=json.loads(row.reference),
        status=row.status,
        bundle=row.bundle,
        bundle_sha256=row.bundle_sha256,
    )


def version_for(connection: Connection, day: date) -> ModelVersion | None:
    """The newest version trained on or before ``day`` that has been in use (active or since retired)."""
    row = connection.execute(
        select(model_versions)
        .where(model_versions.c.status.in_([ACTIVE, RETIRED]), model_versions.c.trained_as_of <= day)
        .order_by(model_versions.c.trained_as_of.desc(), model_versions.c.version_id.desc())
        .limit(1)
    ).first()
    return _version(row) if row is not None else None


def active_version(connection: Connection) -> ModelVersion | None:
    row = connection.execute(
        select(model_versions).where(model_versions.c.status == ACTIVE).order_by(model_versions.c.version_id.desc())
    ).first()
    return _version(row) if row is not None else None


def list_versions(connection: Connection) -> list[ModelVersion]:
    rows = connection.execute(select(model_versions).order_by(model_versions.c.version_id)).all()
    return [_version(row) for row in rows]
