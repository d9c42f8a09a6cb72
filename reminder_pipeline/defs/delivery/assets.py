"""The deliveries: one asset per provider, each in its own pool, draining the due outbox of its channel."""

import dagster as dg

from reminder_pipeline.defs.common.clock import moving_clock
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.providers import SendGridResource, TwilioResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.delivery.metadata import delivery_metadata
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.service import DeliveryOptions, deliver
from reminder_pipeline.ledger.delivery import due_counts, sent_messages
from reminder_pipeline.providers.base import Provider
from reminder_pipeline.reminders.service import render_day

GROUP = "delivery"
RENDERED = dg.AssetKey("rendered_messages")
PREVIEWS = 2


class DeliveryConfig(dg.Config):
    run_at: str | None = None
    """An ISO 8601 instant to deliver as if it were then (demos and simulations; the clock runs on from
    it). Empty: the real clock."""
    batch_size: int = 500
    max_batches: int | None = None
    """Stop after this many batches (None: when nothing is due)."""


@retry_when_transient
def _deliver(
    context: dg.AssetExecutionContext,
    config: DeliveryConfig,
    ledger: LedgerResource,
    provider: Provider,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    store, rules, words, signer = ledger.open(), policy.load(), templates.load(), links.signer()
    follow_up = FollowUp(store, rules, lambda day, now: render_day(store, rules, words, signer, day, now))
    options = DeliveryOptions(
        batch_size=config.batch_size,
        max_batches=config.max_batches,
        promise_grace_days=rules.contact.promise_grace_days,
        sender_name=rules.sender.name,
    )
    clock = moving_clock(config.run_at)
    report = deliver(store, provider, clock, options, follow_up=follow_up)
    context.log.info(f"{provider.name}: " + ", ".join(f"{k} {v}" for k, v in report.summary().items() if v))
    with store.begin() as connection:
        sent = sent_messages(connection, report.sent_ids, PREVIEWS)
        due_after = due_counts(connection, clock())[provider.channel.value]
    return dg.MaterializeResult(metadata=delivery_metadata(report, sent, due_after))


@dg.asset(group_name=GROUP, deps=[RENDERED], pool="sendgrid", kinds={"sendgrid"})
def email_deliveries(
    context: dg.AssetExecutionContext,
    config: DeliveryConfig,
    ledger: LedgerResource,
    sendgrid: SendGridResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """Due email reminders sent through SendGrid, at most once each, after a last look at the ledger."""
    return _deliver(context, config, ledger, sendgrid.provider(), policy, templates, links)


@dg.asset(group_name=GROUP, deps=[RENDERED], pool="twilio", kinds={"twilio"})
def sms_deliveries(
    context: dg.AssetExecutionContext,
    config: DeliveryConfig,
    ledger: LedgerResource,
    twilio: TwilioResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """Due SMS reminders sent through Twilio, at most once each, after a last look at the ledger."""
    return _deliver(context, config, ledger, twilio.provider(), policy, templates, links)
