"""Reminders: one decision per customer per day, the outbox it fills, and the messages written for it.

- ``reminder_plan`` (daily): decides every customer with open invoices — a ladder step, a channel
  and a send window, or a skip with its reason — records every decision in the audit table and
  adds the reminders to the outbox, at most once per (customer, episode, step, channel).
- ``rendered_messages`` (daily): writes the day's outbox messages in each customer's language and
  holds back any message that fails a blocking check; nothing held ever reaches a provider.
"""

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.core.rendering.checks import CHECKS
from reminder_pipeline.defs.common.clock import ClockConfig, run_instant
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.partitions import daily_asset_options, days_in_run, record_each_day
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.reminders.metadata import check_results, failing_by_check, messages_metadata, plan_metadata
from reminder_pipeline.reminders.service import plan_and_record_day, render_day

GROUP = "reminders"
DAILY = daily_asset_options(GROUP)
WHAT_TO_DO = {
    "no_unrendered_placeholder": "a template names a value the message does not have, or has a syntax slip: fix it "
    "in REMINDERS_TEMPLATES (`reminders preview` shows it), then re-materialize rendered_messages for the day.",
    "sms_at_most_two_segments": "shorten the step's SMS wording (`reminders preview --channel sms` counts the "
    "parts), then re-materialize rendered_messages for the day.",
    "email_has_unsubscribe_link": "restore the unsubscribe link in the email layout of REMINDERS_TEMPLATES, then "
    "re-materialize rendered_messages for the day.",
    "amount_matches_ledger": "a payment or credit changed the balance after the plan: run the replan_today job, so "
    "that the message asks for what is owed now.",
    "no_opted_out_channel": "the customer opted out or withdrew consent after the plan: run the replan_today job; "
    "the plan then picks another channel or skips.",
    "send_window_in_quiet_hours": "check the policy's contact hours and the customer's time zone and country in "
    "the billing data, then run the replan_today job.",
}
"""Per blocking check of the messages: how to get the held messages out."""


@dg.asset(deps=[dg.AssetKey("customer_segments")], kinds={"polars"}, **DAILY)
@retry_when_transient
def reminder_plan(
    context: dg.AssetExecutionContext, config: ClockConfig, ledger: LedgerResource, policy: PolicyResource
) -> dg.MaterializeResult:
    """One decision per customer with open invoices per day, written to the audit table; the reminders to the outbox."""
    rules, store, zone = policy.load(), ledger.open(), settings.business_timezone()
    days = [
        plan_and_record_day(store, rules, day, run_instant(config, day), run_id=context.run.run_id, business_tz=zone)
        for day in days_in_run(context)
    ]
    last = days[-1].summary()
    context.log.info(
        f"reminder plan for {last['day']}: {last['send']} to send, {last['handoff']} hand-offs, {last['skip']} skipped"
    )
    record_each_day(context, ((d.day, plan_metadata([d], rules.version)) for d in days))
    return dg.MaterializeResult(metadata=plan_metadata(days, rules.version))


@dg.asset(
    deps=[reminder_plan],
    kinds={"jinja"},
    check_specs=[
        dg.AssetCheckSpec(
            name,
            asset="rendered_messages",
            blocking=True,
            description=f"{description[0].upper()}{description[1:]}. A message that fails is held and never "
            f"sent. What to do: {WHAT_TO_DO[name]} The check's `outbox_ids` name the messages.",
        )
        for name, description in CHECKS.items()
    ],
    **DAILY,
)
@retry_when_transient
def rendered_messages(
    context: dg.AssetExecutionContext,
    config: ClockConfig,
    ledger: LedgerResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """The day's reminders written in each customer's language; a message failing a check is held, never sent."""
    rules, words, signer, store = policy.load(), templates.load(), links.signer(), ledger.open()
    days = [render_day(store, rules, words, signer, day, run_instant(config, day)) for day in days_in_run(context)]
    failing = failing_by_check(days)
    if held := {name: len(ids) for name, ids in failing.items() if len(ids)}:
        context.log.warning("messages held by failed checks: " + ", ".join(f"{n} {c}" for n, c in held.items()))
    record_each_day(context, ((d.day, messages_metadata([d])) for d in days))
    return dg.MaterializeResult(metadata=messages_metadata(days), check_results=check_results(failing))
