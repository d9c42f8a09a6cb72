"""The dashboard's pages: overview, customer table, worklist and a customer's page (read-only)."""

from __future__ import annotations

from typing import Any

import polars as pl
from babel.numbers import get_currency_precision
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reminder_pipeline.collections.actions import CallOutcome
from reminder_pipeline.core.money import to_major
from reminder_pipeline.core.receivables import NOT_YET_DUE
from reminder_pipeline.dashboard.accounts import QUEUE_LABELS, Queue
from reminder_pipeline.dashboard.customer import customer_record
from reminder_pipeline.dashboard.figures import Figures
from reminder_pipeline.dashboard.table import Filters, page_of
from reminder_pipeline.dashboard.table import worklist as queue_rows
from reminder_pipeline.web.dashboard.auth import Session
from reminder_pipeline.web.dashboard.formatting import Formatter, negotiate
from reminder_pipeline.web.masking import masked_email, masked_phone

COLUMNS = [
    ("p_late", "Risk"),
    ("owed", "Owed"),
    ("oldest_due", "Oldest due"),
    ("days_past_due", "Days past due"),
    ("expected_loss", "Expected loss"),
]
SORT_LABELS = {**dict(COLUMNS), "next_date": "next step", "last_contact": "last contact", "customer": "customer"}


def _dashboard(request: Request) -> Any:
    return request.app.state.dashboard


def render(request: Request, session: Session, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    dashboard = _dashboard(request)
    locale = negotiate(request.headers.get("accept-language"))
    state = dashboard.snapshot.state
    context = {
        "lang": locale.split("_")[0],
        "fmt": Formatter(locale),
        "user": session.user,
        "csrf": session.csrf,
        "version": state.version,
        "day": state.sources.day,
        **values,
    }
    html = dashboard.templates.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _digits(frame: pl.DataFrame) -> dict[str, int]:
    return {str(c): get_currency_precision(str(c)) for c in frame["currency"].unique().drop_nulls().to_list()}


def aging_label(bucket: str) -> str:
    """How the overview names an aging bucket: ``1-30`` as ``1–30 days``, ``60+`` as ``over 60 days``."""
    if bucket == NOT_YET_DUE:
        return bucket
    if bucket.endswith("+"):
        return f"over {bucket.removesuffix('+')} days"
    return f"{bucket.replace('-', '–')} days"


def _chart_data(figures: Figures) -> dict[str, dict[str, Any]]:
    charts = {}
    buckets = figures.aging_buckets
    for c in figures.currencies:
        charts[c.currency] = {
            "aging": {
                "type": "bar",
                "label": c.currency,
                "labels": [aging_label(b) for b in buckets],
                "values": [float(to_major(c.aging_minor[b], c.currency)) for b in buckets],
            },
            "dso": {
                "type": "line",
                "label": "DSO",
                "labels": [t.isoformat() for t, _ in c.dso_trend],
                "values": [None if v is None else round(v, 1) for _, v in c.dso_trend],
            },
        }
    return charts


async def overview(request: Request, session: Session) -> Response:
    figures = _dashboard(request).snapshot.state.figures
    return render(
        request,
        session,
        "overview.html",
        title="Overview",
        nav="overview",
        figures=figures,
        charts=_chart_data(figures),
        aging_buckets=figures.aging_buckets,
        aging_labels={b: aging_label(b) for b in figures.aging_buckets},
    )


_OPTIONS: dict[int, dict[str, list[str]]] = {}


def _options(frame: pl.DataFrame, version: int) -> dict[str, list[str]]:
    """The filters' choices, once per snapshot version."""
    if version not in _OPTIONS:

        def values(column: str) -> list[str]:
            return sorted(str(v) for v in frame[column].unique().drop_nulls().to_list())

        _OPTIONS.clear()
        _OPTIONS[version] = {"bands": values("risk_band"), "segments": values("segment"), "channels": values("channel")}
    return _OPTIONS[version]


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


async def customers(request: Request, session: Session) -> Response:
    state = _dashboard(request).snapshot.state
    frame = state.accounts
    filters = Filters.from_query(request.query_params)
    page = page_of(frame, filters, _digits(frame))
    partial = "hx-request" in request.headers and request.headers.get("hx-target") == "table-area"
    values: dict[str, Any] = {
        "title": "Customers",
        "nav": "customers",
        "filters": filters,
        "page": page,
        "rows": page.rows.to_dicts(),
        "columns": COLUMNS,
        "sort_labels": SORT_LABELS,
        "options": {} if partial else _options(frame, state.version),
        "queues": [(q.value, QUEUE_LABELS[q]) for q in Queue],
        "plain": _plain,
    }
    return render(request, session, "_table.html" if partial else "customers.html", **values)


async def worklist(request: Request, session: Session) -> Response:
    frame = _dashboard(request).snapshot.state.accounts
    queues = []
    for queue in (Queue.READY, Queue.WAITING, Queue.AT_RISK):
        rows, total = queue_rows(frame, queue)
        queues.append((queue.value, QUEUE_LABELS[queue], rows.to_dicts(), total))
    return render(request, session, "worklist.html", title="Worklist", nav="worklist", queues=queues)


async def customer(
    request: Request, session: Session, message: str | None = None, error: str | None = None
) -> Response:
    dashboard = _dashboard(request)
    customer_id = request.path_params["customer_id"]

    def read() -> Any:
        with dashboard.ledger.begin() as connection:
            return customer_record(connection, customer_id)

    record = await run_in_threadpool(read)
    if record is None:
        return render(
            request,
            session,
            "error.html",
            404,
            title="No such customer",
            message="The ledger has no customer with that id.",
        )
    frame = dashboard.snapshot.state.accounts
    found = frame.filter(pl.col("customer_id") == customer_id)
    account = found.to_dicts()[0] if found.height else None
    deliveries: dict[int, list[dict[str, Any]]] = {}
    for event in record.deliveries:
        deliveries.setdefault(event["outbox_id"], []).append(event)
    open_invoices = [i["invoice_id"] for i in record.invoices if i["amount_minor"] > i["paid_minor"]]
    queue = Queue(account["queue"]) if account else None
    email, phone = record.customer.get("email"), record.customer.get("phone")
    if not session.user.role.can_act:
        email = masked_email(email) if email else None
        phone = masked_phone(phone) if phone else None
    return render(
        request,
        session,
        "customer.html",
        status=400 if error else 200,
        title=record.customer.get("name") or customer_id,
        nav="customers",
        record=record,
        account=account,
        deliveries=deliveries,
        open_invoices=open_invoices,
        queue_label=QUEUE_LABELS[queue] if queue else "owes nothing",
        can_act=session.user.role.can_act,
        contact={"email": email, "phone": phone},
        outcomes=list(CallOutcome),
        message=message,
        error=error,
    )


async def customer_page(request: Request, session: Session) -> Response:
    saved = request.query_params.get("saved")
    return await customer(request, session, message="Saved, and written to the audit." if saved else None)
