"""Every model feature: where it comes from and how to say it to a collector.

``source`` names the canonical column a feature is derived from, so that ``--exclude disputed``
removes every feature built from the dispute flag. ``reason`` is the phrase shown when the
feature pushes risk up; ``{}`` takes the value, written as ``unit`` says (whole number,
percentage, one decimal, or no value at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["int", "pct", "dec1", "none"]


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    reason: str
    unit: Unit = "none"
    source: str = "invoices"
    categorical: bool = False
    monotone: int = 0
    """+1 when more of the feature can only mean more risk (more days late, more overdue, more
    disputes), 0 when the model may find either direction; the model is held to it."""

    @property
    def group(self) -> str:
        """Features that say the same thing to a collector share a group; a customer gets one reason per group."""
        return REASON_GROUPS.get(self.name, self.name)


F = Feature
FEATURES: tuple[Feature, ...] = (
    F("hist_resolved", "earlier invoices whose punctuality is known", "only {} earlier invoices to judge by", "int"),
    F(
        "hist_late_rate",
        "share of earlier invoices paid late or still overdue",
        "paid {} of earlier invoices late",
        "pct",
        monotone=1,
    ),
    F(
        "hist_recent_late_rate",
        "late share of the last three earlier invoices",
        "{} of the last three invoices were late",
        "pct",
        monotone=1,
    ),
    F(
        "hist_mean_days_late",
        "mean days late (negative: early) of settled invoices",
        "usually pays {} days after the due date",
        "int",
        monotone=1,
    ),
    F("hist_max_days_late", "most days late on a settled invoice", "once paid {} days late", "int", monotone=1),
    F(
        "hist_ewm_days_late",
        "recent-weighted days late of settled invoices",
        "recently pays about {} days late",
        "int",
        monotone=1,
    ),
    F(
        "hist_mean_days_late_same_delivery",
        "mean days late of settled invoices delivered like this one (paper or electronic)",
        "usually pays invoices like this {} days after the due date",
        "int",
        source="paperless_since",
        monotone=1,
    ),
    F(
        "hist_p_late_same_delivery",
        "chance of a delay, from the mean and spread of earlier delays on invoices delivered like this one",
        "past delays put the chance of paying late at {}",
        "pct",
        source="paperless_since",
        monotone=1,
    ),
    F(
        "hist_expected_days_late",
        "mean days late of settled invoices, each restated for this invoice's delivery (paper or electronic)"
        " with the difference delivery makes across customers",
        "usually pays invoices like this {} days after the due date",
        "int",
        source="paperless_since",
        monotone=1,
    ),
    F(
        "hist_p_late_expected",
        "chance of a delay, from the delivery-adjusted mean and spread of earlier delays",
        "past delays put the chance of paying late at {}",
        "pct",
        source="paperless_since",
        monotone=1,
    ),
    F(
        "hist_paperless_share",
        "share of settled earlier invoices that were delivered electronically",
        "earlier invoices went mostly by paper",
        source="paperless_since",
    ),
    F(
        "hist_late_trend",
        "late share of the last three earlier invoices against the late share of all of them",
        "more of the last invoices were late than usual (+{})",
        "pct",
    ),
    F(
        "hist_lateness_to_terms",
        "mean days late of settled invoices in units of their terms (at least a week)",
        "usually pays {} of the terms late",
        "pct",
        monotone=1,
    ),
    F(
        "hist_days_to_pay_to_terms",
        "mean days from invoice to payment in units of the terms (at least a week)",
        "takes {} of the terms to pay on average",
        "pct",
        monotone=1,
    ),
    F(
        "hist_delay_trend_to_terms",
        "recent-weighted days late against the mean, in units of this invoice's terms",
        "has been paying later recently",
    ),
    F(
        "portfolio_late_rate",
        "late share across all customers over the last 60 days",
        "payments are running late across all customers ({})",
        "pct",
    ),
    F(
        "hist_median_days_late",
        "median days late of the last ten settled invoices (robust to a few exceptional delays)",
        "typically pays {} days after the due date",
        "int",
        monotone=1,
    ),
    F(
        "hist_delay_trend",
        "recent-weighted days late minus the long-run mean (positive: getting slower)",
        "has been paying later recently (+{} days)",
        "int",
    ),
    F(
        "hist_recent_days_late",
        "mean days late of the last three settled invoices",
        "paid the last invoices {} days late on average",
        "int",
        monotone=1,
    ),
    F(
        "hist_last_days_late",
        "days late of the last settled invoice",
        "paid the last invoice {} days late",
        "int",
        monotone=1,
    ),
    F("hist_std_days_late", "spread of days late across settled invoices", "pays irregularly (±{} days)", "int"),
    F(
        "hist_days_late_z",
        "mean days late relative to their spread",
        "usually pays close to or after the due date",
        monotone=1,
    ),
    F(
        "hist_mean_days_to_pay",
        "mean days from invoice to payment",
        "takes {} days on average to pay",
        "int",
        monotone=1,
    ),
    F("days_since_last_payment", "days since the customer last paid anything", "no payment for {} days", "int"),
    F("other_open_invoices", "other invoices open on the day", "{} other invoices still open", "int"),
    F(
        "other_overdue_invoices",
        "other invoices overdue on the day",
        "{} other invoices already overdue",
        "int",
        monotone=1,
    ),
    F(
        "overdue_amount_ratio",
        "overdue amount relative to the usual invoice",
        "owes {}× a usual invoice in overdue amounts",
        "dec1",
        monotone=1,
    ),
    F("invoices_issued", "invoices issued to the customer before this one", "only {} earlier invoices", "int"),
    F("tenure_days", "days since the customer's first invoice", "a customer for only {} days", "int"),
    F("amount_log", "log of the invoice amount", "a large invoice"),
    F(
        "amount_ratio",
        "this invoice's amount relative to the customer's usual",
        "{}× the customer's usual invoice",
        "dec1",
    ),
    F(
        "amount_z",
        "this invoice's log amount against the mean and spread of the customer's earlier ones",
        "an unusually large invoice for this customer",
    ),
    F(
        "amount_vs_portfolio",
        "this invoice's log amount against the mean across all customers' invoices of the last 90 days",
        "a large invoice compared with other customers'",
    ),
    F("terms_days", "days between issue and due date", "payment terms of {} days", "int"),
    F("issue_month", "month of issue", "issued in a month when payments run late"),
    F("issue_weekday", "weekday of issue (0 = Monday)", "issued on a weekday that tends to be paid late"),
    F("due_weekday", "weekday of the due date (0 = Monday)", "due on a weekday that tends to be paid late"),
    F("region", "country or sales region", "in a region that pays later", source="country", categorical=True),
    F(
        "paperless",
        "the invoice went out electronically: the customer was paperless on its issue date (paperless_since)",
        "still receives paper invoices",
        source="paperless_since",
    ),
    F(
        "payment_method",
        "how the customer pays",
        "pays by a slower method",
        source="payment_method",
        categorical=True,
    ),
    F(
        "disputes_before",
        "disputes on earlier invoices",
        "raised {} disputes before",
        "int",
        source="disputed",
        monotone=1,
    ),
    F("disputed_now", "this invoice is disputed on the day", "this invoice is disputed", source="disputed", monotone=1),
    F(
        "broken_promises",
        "promises to pay that were broken",
        "broke {} promises to pay",
        "int",
        source="promises",
        monotone=1,
    ),
)

REASON_GROUPS = {
    **dict.fromkeys(
        [
            "hist_mean_days_late",
            "hist_ewm_days_late",
            "hist_mean_days_late_same_delivery",
            "hist_p_late_same_delivery",
            "hist_expected_days_late",
            "hist_p_late_expected",
            "hist_median_days_late",
            "hist_recent_days_late",
            "hist_last_days_late",
            "hist_days_late_z",
            "hist_mean_days_to_pay",
            "hist_lateness_to_terms",
            "hist_days_to_pay_to_terms",
        ],
        "usual_delay",
    ),
    **dict.fromkeys(["hist_late_rate", "hist_recent_late_rate", "hist_late_trend"], "late_share"),
    **dict.fromkeys(["hist_delay_trend", "hist_delay_trend_to_terms"], "trend"),
    **dict.fromkeys(["hist_resolved", "invoices_issued", "tenure_days"], "short_history"),
    **dict.fromkeys(["other_overdue_invoices", "overdue_amount_ratio"], "overdue_now"),
    **dict.fromkeys(["amount_log", "amount_ratio", "amount_z", "amount_vs_portfolio"], "amount"),
    **dict.fromkeys(["issue_month", "issue_weekday", "due_weekday"], "calendar"),
    **dict.fromkeys(["paperless", "hist_paperless_share"], "paper"),
}
BY_NAME = {f.name: f for f in FEATURES}
SOURCE_ALIASES = {"region": "country", "disputed_date": "disputed", "dispute_date": "disputed"}


def select_features(exclude: list[str] | tuple[str, ...] = ()) -> list[Feature]:
    """Features left after excluding source columns (``disputed``) or feature names (``amount_ratio``)."""
    excluded = {SOURCE_ALIASES.get(e.strip(), e.strip()) for e in exclude if e.strip()}
    unknown = excluded - {f.source for f in FEATURES} - set(BY_NAME)
    if unknown:
        sources = sorted({f.source for f in FEATURES})
        raise ValueError(f"cannot exclude {sorted(unknown)}: known columns {sources} and features {sorted(BY_NAME)}")
    return [f for f in FEATURES if f.source not in excluded and f.name not in excluded]
