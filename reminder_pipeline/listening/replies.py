"""Customers' replies by SMS (Twilio inbound) and email (SendGrid Inbound Parse), and what they lead to.

The sender is matched to customers by number (E.164) or address (case-insensitive). A carrier keyword
(the whole body, as carriers require) speaks for the number or address, so it applies to every customer
who has it: STOP-type opts them out of the channel in this transaction — before the next send can
start — and cancels their pending rows on it; START-type opts them back in; HELP is answered with
TwiML. Free text needs exactly one customer (several: a task, never a guess) and is classified:

- a promise to pay: a ``promises_to_pay`` row (made today, pending) and the customer's pending rows
  cancelled; planning and the last look hold the ladder until the date plus the policy's grace;
- a dispute: a dispute on each of the customer's open invoices (planning skips disputed invoices), the
  pending rows cancelled, and a task;
- "paid already": a reconciliation task (the claim alone stops nothing); a call request: a collector
  task; a free-text wish to stop: honoured like STOP on that channel (never the other way round: only a
  keyword opts back in); anything else is kept;
- a classification less sure than the classifier's threshold opens a task instead of acting.

Every reply is kept once in ``replies`` (per channel and provider id) with what was done. SendGrid
Inbound Parse bodies are stored by the web app as a JSON object of the post's text fields (``from``,
``to``, ``subject``, ``text``, ``headers``, ...): the reply's id is its ``Message-ID`` header, else
the sha256 of that object; quoted history below the reply is left out before classifying.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.parser import HeaderParser
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Connection
from twilio.twiml.messaging_response import MessagingResponse

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNELS
from reminder_pipeline.core.history import PromiseStatus
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.replies import (
    CONFIDENT,
    Classification,
    KeywordCommand,
    ReplyIntent,
    classify_reply,
    keyword_command,
)
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.listening.inbox import EventStatus, HandlerOutcome
from reminder_pipeline.listening.tasks import Task, TaskKind, open_task

QUOTED = re.compile(r"^(>|On .+ wrote:$|Le .+ a écrit\s*:$|El .+ escribió:$|Am .+ schrieb .+:$|-{2,}\s*Original)", re.I)
MAX_BODY = 5000
MAX_PROMISE_DAYS = 120
"""A promised date further off than this is not taken as a promise to act on: a person looks at it."""


class ReplyProblem(ValueError):
    """A stored body that is not what the provider posts."""


@dataclass(frozen=True)
class Reply:
    channel: Channel
    provider_id: str
    sender: str
    """The number in E.164 or the address, as the provider gave it (normalised)."""
    text: str
    received_at: datetime


def _e164(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_twilio_inbound(body: str, received_at: datetime) -> Reply:
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, value)
    sid, sender = fields.get("MessageSid") or fields.get("SmsMessageSid"), fields.get("From")
    if not sid or not sender:
        raise ReplyProblem("a Twilio inbound message names MessageSid and From")
    return Reply(Channel.SMS, sid[:200], _e164(sender)[:320], fields.get("Body", "")[:MAX_BODY], received_at)


def _own_words(text: str) -> str:
    """The reply without the quoted message below it."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if QUOTED.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def parse_sendgrid_inbound(body: str, received_at: datetime) -> Reply:
    try:
        fields = json.loads(body)
    except ValueError as error:
        raise ReplyProblem("an Inbound Parse body is a JSON object of its fields") from error
    if not isinstance(fields, dict):
        raise ReplyProblem("an Inbound Parse body is a JSON object of its fields")
    _, address = email.utils.parseaddr(str(fields.get("from") or ""))
    if "@" not in address:
        raise ReplyProblem("an Inbound Parse post names its sender in 'from'")
    headers = HeaderParser().parsestr(str(fields.get("headers") or ""))
    message_id = (headers.get("Message-ID") or "").strip()
    provider_id = message_id or "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()
    text = _own_words(str(fields.get("text") or "")) or str(fields.get("subject") or "").strip()
    return Reply(Channel.EMAIL, provider_id[:200], address.strip().lower()[:320], text[:MAX_BODY], received_at)


def help_text(policy: Policy) -> str:
    sender = policy.sender
    return f"{sender.name}: payment reminders. Questions: {sender.contact_email}. Reply STOP to opt out."


def _twiml(text: str) -> str:
    response = MessagingResponse()
    response.message(text)
    return str(response)


@dataclass(frozen=True)
class Acted:
    action: str
    status: EventStatus = EventStatus.PROCESSED
    detail: str = ""
    reply: str | None = None


class _Context:
    """One reply being handled: the connection, what it came on, and who sent it."""

    def __init__(self, connection: Connection, policy: Policy, reply: Reply, now: datetime) -> None:
        self.connection, self.policy, self.reply, self.now = connection, policy, reply, now
        self.source = f"reply:{reply.channel.value}:{reply.provider_id}"[:60]
        self.key = f"reply:{reply.channel.value}:{reply.provider_id}"

    def task(self, kind: TaskKind, reason: str, customer_id: str | None) -> Acted:
        open_task(self.connection, Task(f"{self.key}:{kind.value}", kind, reason, self.source, customer_id), self.now)
        return Acted(f"task:{kind.value}", detail=reason)


def _senders(connection: Connection, reply: Reply) -> list[str]:
    if reply.channel is Channel.SMS:
        return queries.customers_with_phone(connection, [reply.sender])
    return queries.customers_with_email(connection, reply.sender)


def _keyword(context: _Context, command: KeywordCommand, customers: list[str]) -> Acted:
    spec = CHANNELS[context.reply.channel]
    if command is KeywordCommand.HELP:
        return Acted("help", reply=_twiml(help_text(context.policy)))
    if not customers:
        return Acted("none", EventStatus.UNMATCHED, "a keyword from a sender the ledger does not know")
    changed = 0
    for customer_id in customers:
        queries.lock_customer(context.connection, customer_id)
        if command is KeywordCommand.OPT_OUT:
            changed += queries.set_opt_out(context.connection, customer_id, spec.opt_out, context.now)
            reason = f"the customer replied STOP ({spec.label})"
            queries.cancel_pending(context.connection, customer_id, reason, spec.channel.value)
        else:
            changed += queries.clear_opt_out(context.connection, customer_id, spec.opt_out)
    action = "opted_out" if command is KeywordCommand.OPT_OUT else "opted_in"
    return Acted(action, detail=f"{action} of {spec.label}: {changed} of {len(customers)} customer(s) changed")


def _local_today(connection: Connection, customer_id: str, now: datetime) -> date:
    zone = queries.customer_time_zone(connection, customer_id)
    try:
        return now.astimezone(ZoneInfo(zone)).date() if zone else now.date()
    except (KeyError, ValueError):
        return now.date()


def _promise(context: _Context, customer_id: str, found: Classification, today: date) -> Acted:
    promised = found.promised_date
    if promised is None or promised < today or promised > today + timedelta(days=MAX_PROMISE_DAYS):
        return context.task(TaskKind.UNCLEAR_REPLY, "a promise to pay without a date to act on", customer_id)
    values = {
        "promise_id": context.key[:100],
        "customer_id": customer_id,
        "invoice_id": None,
        "promised_date": promised,
        "made_on": today,
        "status": PromiseStatus.PENDING.value,
        "source": context.source,
    }
    queries.record_promise(context.connection, values)
    reason = f"the customer promised to pay by {promised.isoformat()}"
    cancelled = queries.cancel_pending(context.connection, customer_id, reason)
    return Acted("promise", detail=f"{reason}; {cancelled} pending reminder(s) cancelled")


def _dispute(context: _Context, customer_id: str, today: date) -> Acted:
    invoices = queries.open_invoices_of(context.connection, customer_id)
    for invoice_id in invoices:
        values = {
            "dispute_id": f"{invoice_id}:{context.key}"[:100],
            "invoice_id": invoice_id,
            "opened_on": today,
            "reason": f"the customer disputes it in a reply by {context.reply.channel.value}",
            "source": context.source,
        }
        queries.open_dispute(context.connection, values)
    cancelled = queries.cancel_pending(context.connection, customer_id, "the customer disputes what is owed")
    context.task(TaskKind.DISPUTE, f"the customer disputes {len(invoices)} open invoice(s)", customer_id)
    return Acted("dispute", detail=f"{len(invoices)} invoice(s) disputed, {cancelled} pending reminder(s) cancelled")


def _free_text(context: _Context, customer_id: str, found: Classification, today: date) -> Acted:
    intent = found.intent
    if found.confidence < CONFIDENT:
        reason = f"a reply read as {intent.value} with confidence {found.confidence:.2f}: too unsure to act on"
        return context.task(TaskKind.UNCLEAR_REPLY, reason, customer_id)
    if intent is ReplyIntent.PROMISE_TO_PAY:
        return _promise(context, customer_id, found, today)
    if intent is ReplyIntent.DISPUTE:
        return _dispute(context, customer_id, today)
    if intent is ReplyIntent.PAID:
        return context.task(TaskKind.PAYMENT_CLAIMED, "the customer says they paid already: find it", customer_id)
    if intent is ReplyIntent.CALL_REQUEST:
        return context.task(TaskKind.CALL_REQUEST, "the customer asks to be called", customer_id)
    if intent is ReplyIntent.OPT_OUT:
        return _keyword(context, KeywordCommand.OPT_OUT, [customer_id])
    if intent is ReplyIntent.OPT_IN:
        return context.task(TaskKind.OPT_IN_REQUEST, "the customer may want messages again (no keyword)", customer_id)
    if intent is ReplyIntent.HELP:
        return _keyword(context, KeywordCommand.HELP, [customer_id])
    return Acted("none")


def _record(context: _Context, customer_id: str | None, found: Classification, acted: Acted) -> None:
    reply = context.reply
    queries.record_reply(
        context.connection,
        {
            "channel": reply.channel.value,
            "provider_id": reply.provider_id,
            "customer_id": customer_id,
            "sender": reply.sender,
            "body": reply.text,
            "received_at": reply.received_at,
            "intent": found.intent.value,
            "confidence": found.confidence,
            "promised_date": found.promised_date,
            "action": acted.action[:40],
            "detail": acted.detail[:300] or None,
        },
    )


def _keyword_classification(command: KeywordCommand) -> Classification:
    intent = {
        KeywordCommand.OPT_OUT: ReplyIntent.OPT_OUT,
        KeywordCommand.OPT_IN: ReplyIntent.OPT_IN,
        KeywordCommand.HELP: ReplyIntent.HELP,
    }[command]
    return Classification(intent=intent, confidence=1.0)


def handle_reply(connection: Connection, policy: Policy, reply: Reply, now: datetime) -> HandlerOutcome:
    """Match, classify and act on ``reply`` in the caller's transaction; the event's outcome."""
    if queries.reply_exists(connection, reply.channel.value, reply.provider_id):
        return HandlerOutcome(EventStatus.IGNORED, "this reply was handled already")
    context = _Context(connection, policy, reply, now)
    customers = _senders(connection, reply)
    command = keyword_command(reply.text)
    if command is not None:
        found = _keyword_classification(command)
        acted = _keyword(context, command, customers)
        customer_id = customers[0] if len(customers) == 1 else None
    elif len(customers) != 1:
        found = classify_reply(reply.text, now.date())
        if customers:
            acted = context.task(
                TaskKind.UNKNOWN_SENDER, f"a reply from a sender {len(customers)} customers share", None
            )
        else:
            acted = Acted("none", EventStatus.UNMATCHED, "a reply from a sender the ledger does not know")
        customer_id = None
    else:
        customer_id = customers[0]
        queries.lock_customer(connection, customer_id)
        today = _local_today(connection, customer_id, now)
        found = classify_reply(reply.text, today)
        acted = _free_text(context, customer_id, found, today)
    _record(context, customer_id, found, acted)
    detail = f"{reply.channel.value} reply: {found.intent.value} ({found.confidence:.2f}) → {acted.action}"
    return HandlerOutcome(acted.status, detail + (f"; {acted.detail}" if acted.detail else ""), acted.reply)
