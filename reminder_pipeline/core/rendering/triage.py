"""The last look before writing a message: is anything still owed, and does its channel still reach the customer?"""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.channels import why_unreachable, with_contact_columns

NOTHING_OWED = "nothing is owed on its invoices any more (paid or disputed since it was planned)"


def triage(
    messages: pl.DataFrame, lines: pl.DataFrame, contacts: pl.DataFrame, disputed: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What is still worth writing, looked at again just before rendering.

    Returns the messages to render (with their customers' contact details), the invoice lines
    still owed and undisputed, and ``outbox_id, status_reason`` of messages to cancel: nothing
    owed any more, or no longer a consented channel to reach the customer on.
    """
    owed = (
        messages.select("outbox_id", pl.col("invoice_ids").alias("invoice_id"))
        .explode("invoice_id")
        .join(lines.select("invoice_id", "due_date", "amount_minor", "balance_minor"), on="invoice_id", how="inner")
        .join(disputed.select("invoice_id"), on="invoice_id", how="anti")
        .filter(pl.col("balance_minor") > 0)
    )
    owes = pl.col("outbox_id").is_in(owed["outbox_id"].implode())
    decided = messages.join(with_contact_columns(contacts), on="customer_id", how="left").with_columns(
        pl.when(~owes).then(pl.lit(NOTHING_OWED)).otherwise(why_unreachable(pl.col("channel"))).alias("status_reason")
    )
    keep = decided.filter(pl.col("status_reason").is_null()).drop("status_reason")
    cancelled = decided.filter(pl.col("status_reason").is_not_null()).select("outbox_id", "status_reason")
    return keep, owed.join(keep.select("outbox_id"), on="outbox_id", how="semi"), cancelled
