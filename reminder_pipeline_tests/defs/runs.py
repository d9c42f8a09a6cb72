"""Running assets in tests: every resource the code location gives them, pointed at a test folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.providers import SendGridResource, TwilioResource
from reminder_pipeline.defs.ingestion.resources import DropFolderSource
from reminder_pipeline.defs.risk.resources import FeatureStore
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_EMAIL, SANDBOX_FROM_NUMBER
from reminder_pipeline_tests.ingestion.helpers import write_csv

MORNING = {"config": {"run_at_local_time": "06:00"}}
"""A planning or rendering run's clock: each business day as of 06:00 that morning."""
TEST_LINK_SECRET = "a-test-secret-of-some-length"
D1, D2 = "2026-03-02", "2026-03-03"
INVOICE_HEADER = "invoice_id,customer_id,issue_date,due_date,amount,currency"


def write_two_day_drop(root: Path, *, bad_invoices: int = 1) -> Path:
    """Two business days of a billing system's drop files: three customers (one with a bad email), twenty
    invoices and ``bad_invoices`` with an unreadable amount, then one more invoice and two payments."""
    (root / D1).mkdir(parents=True)
    (root / D2).mkdir(parents=True)
    write_csv(
        root / D1 / "customers.csv",
        "customer_id,email,country\nC1,c1@example.com,DE\nC2,c2@example.com,FR\nC3,not-an-email,FR",
    )
    good = [f"I{n},C{1 + n % 2},{D1},2026-04-01,{10 + n}.00,EUR" for n in range(20)]
    bad = [f"B{n},C1,{D1},2026-04-01,abc,EUR" for n in range(bad_invoices)]
    write_csv(root / D1 / "invoices.csv", "\n".join([INVOICE_HEADER, *good, *bad]))
    write_csv(root / D2 / "invoices.csv", f"{INVOICE_HEADER}\nI100,C2,{D2},2026-03-10,5.00,EUR")
    write_csv(
        root / D2 / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP1,I0,4.00,EUR,{D2}\nP2,I1,20.00,EUR,{D2}",
    )
    return root


def asset_resources(
    workdir: Path, *, ledger_url: str | None = None, drop: Path | None = None, policy: str | None = None
) -> dict[str, Any]:
    """The code location's resources on ``workdir``: its SQLite ledger (or ``ledger_url``), drop folder,
    feature store, the shipped policy (or ``policy``) and templates, and a test link secret."""
    return {
        "ledger": LedgerResource(url=ledger_url or f"sqlite:///{workdir / 'ledger.sqlite'}"),
        "billing_source": DropFolderSource(root=str(drop or workdir / "drop")),
        "feature_store": FeatureStore(root=str(workdir / "features")),
        "policy": PolicyResource(path=policy),
        "templates": TemplatesResource(),
        "links": LinkSignerResource(secret=TEST_LINK_SECRET),
    }


def provider_resources(sandbox_url: str, *, callback_base: str) -> dict[str, Any]:
    """SendGrid and Twilio resources pointed at a running provider sandbox, with the demo credentials."""
    return {
        "sendgrid": SendGridResource(
            api_key=DEMO_CREDENTIALS.sendgrid_api_key, from_email=SANDBOX_FROM_EMAIL, base_url=sandbox_url
        ),
        "twilio": TwilioResource(
            account_sid=DEMO_CREDENTIALS.twilio_account_sid,
            auth_token=DEMO_CREDENTIALS.twilio_auth_token,
            from_number=SANDBOX_FROM_NUMBER,
            base_url=sandbox_url,
            status_callback_base=callback_base,
        ),
    }


def partition_range(first: date | str, last: date | str) -> dict[str, str]:
    """Run tags for one single-run backfill over the business days ``first`` .. ``last``."""
    return {
        "dagster/asset_partition_range_start": str(first),
        "dagster/asset_partition_range_end": str(last),
    }


def asset_metadata(result: dg.ExecuteInJobResult, asset: str) -> dict[str, Any]:
    """The metadata of ``asset``'s last materialization in the run, as plain values."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    assert events, f"{asset} was not materialized"
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def partition_metadata(result: dg.ExecuteInJobResult, asset: str) -> dict[str, dict[str, Any]]:
    """Partition key → the metadata of ``asset``'s materialization of that partition in the run."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {
        str(e.materialization.partition): {k: v.value for k, v in e.materialization.metadata.items()} for e in events
    }


def check_outcomes(result: dg.ExecuteInJobResult) -> dict[str, bool]:
    """``asset.check`` → passed, for every check the run evaluated."""
    return {f"{e.asset_key.to_user_string()}.{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}
