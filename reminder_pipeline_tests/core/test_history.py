"""The billing history replayed: settlements, outcomes and balances; the promise statuses it reads."""

from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.core.features.build import open_invoices_on, scoring_features
from reminder_pipeline.core.history import (
    PROMISES_OVER,
    History,
    PromiseStatus,
    outcomes,
    paid_to_date,
    settlements,
)
from reminder_pipeline.ledger.schema import promises_to_pay


def _history() -> History:
    invoices = pl.DataFrame(
        {
            "invoice_id": ["ZERO", "PAID", "OPEN"],
            "customer_id": ["C1", "C1", "C1"],
            "issue_date": [date(2026, 1, 5), date(2026, 1, 5), date(2026, 2, 1)],
            "due_date": [date(2026, 2, 4), date(2026, 2, 4), date(2026, 3, 3)],
            "amount_minor": [0, 10_000, 5_000],
            "currency": ["EUR"] * 3,
        }
    )
    payments = pl.DataFrame(
        {"invoice_id": ["PAID"], "amount_minor": [10_000], "paid_date": [date(2026, 2, 10)], "method": ["card"]}
    )
    return History.of(invoices=invoices, payments=payments)


def test_an_invoice_of_nothing_is_settled_when_issued() -> None:
    settled = dict(settlements(_history()).iter_rows())
    assert settled == {"ZERO": date(2026, 1, 5), "PAID": date(2026, 2, 10)}


def test_an_invoice_of_nothing_is_never_late_nor_open() -> None:
    known = {r["invoice_id"]: r for r in outcomes(_history(), date(2026, 6, 1)).iter_rows(named=True)}
    assert (known["ZERO"]["late"], known["ZERO"]["settled"]) == (False, True)
    assert known["PAID"]["late"]
    assert known["OPEN"]["late"]
    assert set(open_invoices_on(_history(), date(2026, 6, 1))["invoice_id"]) == {"OPEN"}
    features = scoring_features(_history(), date(2026, 6, 1)).row(0, named=True)
    assert (features["other_open_invoices"], features["other_overdue_invoices"]) == (0, 0)


def test_payment_state_is_derived_once_per_history_and_afresh_for_the_history_of_an_earlier_day() -> None:
    history = _history()
    assert paid_to_date(history) is paid_to_date(history), "a day's features and a training share it"
    assert settlements(history) is settlements(history)
    earlier = history.known_on(date(2026, 2, 9))
    assert settlements(earlier)["invoice_id"].to_list() == ["ZERO"], "the payment of 10 February not yet made"
    assert sorted(settlements(history)["invoice_id"].to_list()) == ["PAID", "ZERO"]


def test_only_promises_broken_count_as_broken_from_their_promised_date() -> None:
    statuses = [PromiseStatus.BROKEN, PromiseStatus.BROKEN, PromiseStatus.KEPT, PromiseStatus.CANCELLED]
    promises = pl.DataFrame(
        {
            "customer_id": ["C1"] * 5,
            "promised_date": [date(2026, 3, 1), date(2026, 7, 1), date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1)],
            "made_on": [date(2026, 2, 20)] * 5,
            "status": [s.value for s in statuses] + [PromiseStatus.PENDING.value],
        }
    )
    plain = _history()
    history = History.of(customers=plain.customers, invoices=plain.invoices, payments=plain.payments, promises=promises)
    features = scoring_features(history, date(2026, 6, 1)).row(0, named=True)
    assert features["broken_promises"] == 1, "the broken promise of 1 July is not broken yet on 1 June"


def test_the_promise_statuses_are_the_ledgers() -> None:
    assert {s.value for s in PromiseStatus} == {"pending", "kept", "cancelled", "broken"}
    assert promises_to_pay.c.status.server_default.arg == PromiseStatus.PENDING  # type: ignore[union-attr]
    assert set(PROMISES_OVER) == {PromiseStatus.KEPT, PromiseStatus.CANCELLED}, "a broken promise still counts"
