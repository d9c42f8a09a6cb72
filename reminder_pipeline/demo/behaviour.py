"""Latent payment behaviours of demo customers and the vectorised sampling of their payment outcomes.

The parameters are hidden from ingestion; they are published in the demo ``truth`` table so that risk
models can be evaluated against them and a simulator can re-sample outcomes under a reminder policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

PAYMENT_METHODS: tuple[str, ...] = ("card", "direct_debit", "bank_transfer", "paypal")

BEFORE_DUE_REMINDER_WEIGHT = 0.5
"""A reminder sent before the due date counts as half a reminder sent after it."""

PROBABILITY_CONCENTRATION = 20.0
"""Concentration of the Beta distributions customer-level probabilities are drawn from (higher: closer to the mean)."""

EULER_GAMMA = 0.5772156649015329


class Behaviour(StrEnum):
    PUNCTUAL = "punctual"
    FORGETFUL = "forgetful"
    CASH_STRAPPED = "cash_strapped"
    DISPUTING = "disputing"
    NEVER_PAYS = "never_pays"


@dataclass(frozen=True)
class BehaviourProfile:
    """Population-level parameters of one behaviour; each customer draws its own values around them.

    Days late are relative to the due date (negative: paid before it). Probabilities are per invoice.
    """

    behaviour: Behaviour
    share: float
    mean_days_late: float
    mean_days_late_spread: float
    noise_scale: float
    reminder_sensitivity: float
    partial_payment_prob: float
    dispute_prob: float
    never_pay_prob: float
    churn_prob: float
    payment_method_weights: tuple[float, ...]


BEHAVIOURS: tuple[BehaviourProfile, ...] = (
    BehaviourProfile(
        behaviour=Behaviour.PUNCTUAL,
        share=0.5,
        mean_days_late=-4.0,
        mean_days_late_spread=2.0,
        noise_scale=2.0,
        reminder_sensitivity=0.3,
        partial_payment_prob=0.01,
        dispute_prob=0.01,
        never_pay_prob=0.002,
        churn_prob=0.05,
        payment_method_weights=(0.35, 0.4, 0.2, 0.05),
    ),
    BehaviourProfile(
        behaviour=Behaviour.FORGETFUL,
        share=0.2,
        mean_days_late=10.0,
        mean_days_late_spread=4.0,
        noise_scale=6.0,
        reminder_sensitivity=0.65,
        partial_payment_prob=0.03,
        dispute_prob=0.02,
        never_pay_prob=0.01,
        churn_prob=0.08,
        payment_method_weights=(0.4, 0.1, 0.35, 0.15),
    ),
    BehaviourProfile(
        behaviour=Behaviour.CASH_STRAPPED,
        share=0.15,
        mean_days_late=24.0,
        mean_days_late_spread=8.0,
        noise_scale=10.0,
        reminder_sensitivity=0.25,
        partial_payment_prob=0.55,
        dispute_prob=0.03,
        never_pay_prob=0.05,
        churn_prob=0.12,
        payment_method_weights=(0.45, 0.05, 0.35, 0.15),
    ),
    BehaviourProfile(
        behaviour=Behaviour.DISPUTING,
        share=0.08,
        mean_days_late=6.0,
        mean_days_late_spread=4.0,
        noise_scale=6.0,
        reminder_sensitivity=0.35,
        partial_payment_prob=0.05,
        dispute_prob=0.35,
        never_pay_prob=0.03,
        churn_prob=0.1,
        payment_method_weights=(0.35, 0.1, 0.45, 0.1),
    ),
    BehaviourProfile(
        behaviour=Behaviour.NEVER_PAYS,
        share=0.07,
        mean_days_late=45.0,
        mean_days_late_spread=15.0,
        noise_scale=20.0,
        reminder_sensitivity=0.05,
        partial_payment_prob=0.1,
        dispute_prob=0.05,
        never_pay_prob=0.75,
        churn_prob=0.4,
        payment_method_weights=(0.3, 0.05, 0.55, 0.1),
    ),
)


@dataclass(frozen=True)
class CustomerParameters:
    """One entry per customer (arrays of equal length); ``behaviour`` indexes :data:`BEHAVIOURS`."""

    behaviour: np.ndarray
    mean_days_late: np.ndarray
    noise_scale: np.ndarray
    reminder_sensitivity: np.ndarray
    partial_payment_prob: np.ndarray
    dispute_prob: np.ndarray
    never_pay_prob: np.ndarray


def profile_values(field: str) -> np.ndarray:
    """One float per behaviour, in :data:`BEHAVIOURS` order, so ``profile_values(f)[behaviour]`` gathers."""
    return np.array([getattr(p, field) for p in BEHAVIOURS], dtype=np.float64)


def draw_behaviours(rng: np.random.Generator, size: int) -> np.ndarray:
    shares = profile_values("share")
    return rng.choice(len(BEHAVIOURS), size=size, p=shares / shares.sum())


def _beta_around(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    mean = np.clip(mean, 1e-6, 1 - 1e-6)
    return rng.beta(mean * PROBABILITY_CONCENTRATION, (1 - mean) * PROBABILITY_CONCENTRATION)


def draw_customer_parameters(rng: np.random.Generator, behaviour: np.ndarray) -> CustomerParameters:
    """Per-customer parameters: a normal spread around the behaviour's mean delay, Beta draws for the rest."""
    mean_days_late = rng.normal(
        profile_values("mean_days_late")[behaviour], profile_values("mean_days_late_spread")[behaviour]
    )
    return CustomerParameters(
        behaviour=behaviour,
        mean_days_late=mean_days_late,
        noise_scale=profile_values("noise_scale")[behaviour],
        reminder_sensitivity=_beta_around(rng, profile_values("reminder_sensitivity")[behaviour]),
        partial_payment_prob=_beta_around(rng, profile_values("partial_payment_prob")[behaviour]),
        dispute_prob=_beta_around(rng, profile_values("dispute_prob")[behaviour]),
        never_pay_prob=_beta_around(rng, profile_values("never_pay_prob")[behaviour]),
    )


def reminder_factor(
    reminder_sensitivity: np.ndarray | float,
    reminders_before_due: np.ndarray | int = 0,
    reminders_after_due: np.ndarray | int = 0,
) -> np.ndarray:
    """The share of the delay left after reminders: ``(1 - s) ** (w * before + after)``, w = 0.5."""
    effective = BEFORE_DUE_REMINDER_WEIGHT * np.asarray(reminders_before_due) + np.asarray(reminders_after_due)
    return np.power(1.0 - np.asarray(reminder_sensitivity, dtype=np.float64), effective)


def sample_days_late(
    rng: np.random.Generator,
    mean_days_late: np.ndarray,
    noise_scale: np.ndarray,
    reminder_sensitivity: np.ndarray,
    reminders_before_due: np.ndarray | int = 0,
    reminders_after_due: np.ndarray | int = 0,
) -> np.ndarray:
    """Days between due date and payment (negative: early), one per invoice, as integers.

    Without reminders the delay is ``baseline = mean_days_late + noise_scale * (G - γ)`` with
    ``G ~ Gumbel(0, 1)`` centred by Euler's γ: right-skewed, so a few payments are very late.
    Reminders only shorten the late part; each one removes the share ``s`` (reminder_sensitivity) of
    what is left, a reminder before the due date counting half::

        days_late = min(baseline, 0) + max(baseline, 0) * (1 - s) ** (0.5 * reminders_before_due + reminders_after_due)

    The baseline demo data uses zero reminders.
    """
    mean = np.asarray(mean_days_late, dtype=np.float64)
    noise = np.asarray(noise_scale, dtype=np.float64) * (rng.gumbel(0.0, 1.0, size=mean.shape) - EULER_GAMMA)
    baseline = mean + noise
    late = np.maximum(baseline, 0.0) * reminder_factor(reminder_sensitivity, reminders_before_due, reminders_after_due)
    return np.rint(np.minimum(baseline, 0.0) + late).astype(np.int64)


def sample_never_pays(
    rng: np.random.Generator,
    never_pay_prob: np.ndarray,
    reminder_sensitivity: np.ndarray,
    reminders_after_due: np.ndarray | int = 0,
) -> np.ndarray:
    """Whether each invoice is never (fully) paid: probability ``never_pay_prob * (1 - s) ** reminders_after_due``."""
    probability = np.asarray(never_pay_prob, dtype=np.float64) * reminder_factor(
        reminder_sensitivity, 0, reminders_after_due
    )
    return rng.random(size=probability.shape) < probability
