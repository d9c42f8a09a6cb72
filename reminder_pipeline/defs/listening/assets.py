"""Delivery status: what providers said of every message, and the daily lookup of those they never spoke of."""

from datetime import datetime, timedelta

import dagster as dg

from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.templates import Templates
from reminder_pipeline.defs.common.clock import moving_clock
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.providers import SendGridResource, TwilioResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.listening.metadata import read_summary, status_metadata
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.delivery_events import settle_pending
from reminder_pipeline.listening.handlers import handlers_for
from reminder_pipeline.listening.inbox import default_handlers, process_pending
from reminder_pipeline.listening.status_lookups import DEFAULT_AFTER, LookupReport, look_up_unconfirmed
from reminder_pipeline.providers.base import Provider
from reminder_pipeline.reminders.service import render_day

GROUP = "delivery"
DELIVERIES = [dg.AssetKey("email_deliveries"), dg.AssetKey("sms_deliveries")]


class StatusConfig(dg.Config):
    run_at: str | None = None
    """An ISO 8601 instant to act as if it were then (demos, simulations); empty: the real clock."""
    lookup_after_hours: float = DEFAULT_AFTER.total_seconds() / 3600
    """The lookup: messages still without a final status this long after their send."""


def render_fallbacks(ledger: Ledger, policy: Policy, templates: Templates, signer: LinkSigner, now: datetime) -> int:
    """Write the fallback rows provider events planned (a handler has a connection, not the templates)."""
    with ledger.begin() as connection:
        days = queries.fallbacks_to_render(connection)
    written = [render_day(ledger, policy, templates, signer, day, now) for day in days]
    return sum(day.rendered.height - day.held for day in written)


@retry_when_transient
def _look_up(store: Ledger, rules: Policy, provider: Provider, now: datetime, after: timedelta) -> LookupReport:
    return look_up_unconfirmed(store, rules, provider, now, after=after)


@retry_when_transient
def _status(store: Ledger, rules: Policy, words: Templates, signer: LinkSigner, now: datetime) -> dict[str, object]:
    inbox = process_pending(store, now, {**default_handlers(), **handlers_for(rules)})
    with store.begin_write(OUTBOX_LOCK, shared=True) as connection:
        settled = settle_pending(connection, rules, now)
    rendered = render_fallbacks(store, rules, words, signer, now)
    with store.begin() as connection:
        summary = read_summary(connection)
    return status_metadata(summary, {str(k): v for k, v in inbox.items()}, settled, rendered)


@dg.asset(group_name=GROUP, deps=DELIVERIES, kinds={"sendgrid", "twilio"})
def delivery_status(
    context: dg.AssetExecutionContext,
    config: StatusConfig,
    ledger: LedgerResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """Where every message ended (delivered, failed, waiting), from the providers' callbacks and events:
    stored events not processed yet are processed first, late ones settled, fallbacks written."""
    now = moving_clock(config.run_at)()
    metadata = _status(ledger.open(), policy.load(), templates.load(), links.signer(), now)
    context.log.info(f"delivered {metadata['delivered']}, failed {metadata['failed']}")
    return dg.MaterializeResult(metadata=metadata)  # type: ignore[arg-type]


@dg.asset(group_name=GROUP, deps=[delivery_status], kinds={"sendgrid", "twilio"})
def delivery_status_lookups(
    context: dg.AssetExecutionContext,
    config: StatusConfig,
    ledger: LedgerResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
    sendgrid: SendGridResource,
    twilio: TwilioResource,
) -> dg.MaterializeResult:
    """The daily reconciliation: messages still without a final status hours after their send, looked up
    at the provider; a final status found there settles the row as its callback would have."""
    store, rules, now = ledger.open(), policy.load(), moving_clock(config.run_at)()
    after = timedelta(hours=config.lookup_after_hours)
    reports = [_look_up(store, rules, p.provider(), now, after) for p in (twilio, sendgrid)]
    metadata = _status(store, rules, templates.load(), links.signer(), now)
    lookups = {report.provider: report.summary() for report in reports}
    context.log.info(", ".join(f"{name}: asked {r['asked']}" for name, r in lookups.items()))
    return dg.MaterializeResult(metadata=metadata | {"lookups": dg.MetadataValue.json(lookups)})  # type: ignore[arg-type]
