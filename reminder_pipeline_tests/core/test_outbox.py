"""The outbox vocabulary: the state machine's shape, and the reminder key."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from reminder_pipeline.core.outbox import (
    FINAL,
    NOT_CONTACTS,
    NOT_HANDED_OVER,
    RENDERABLE,
    REVIVABLE,
    TRANSITIONS,
    OutboxStatus,
    can_move,
    moved_from,
    reminder_key,
    reminder_keys,
)

S = OutboxStatus


def test_every_status_has_its_moves_and_every_move_lands_on_a_status() -> None:
    assert set(TRANSITIONS) == set(OutboxStatus)
    assert all(moves <= set(OutboxStatus) for moves in TRANSITIONS.values())


def test_nothing_handed_to_a_provider_is_sent_again_without_evidence() -> None:
    """Promise 1: once a provider may have a message, no move leads back to a state a worker claims from."""
    claimable = {s for s in OutboxStatus if can_move(s, S.SENDING)}
    assert claimable == {S.RENDERED, S.RETRY}
    handed_over = {S.SENT, S.DELIVERED, S.FAILED, S.UNRESOLVED}
    for status in handed_over:
        assert not TRANSITIONS[status] & (claimable | {S.SENDING, S.PLANNED}), status
    assert TRANSITIONS[S.SENDING] == {S.SENT, S.RETRY, S.FAILED, S.UNKNOWN, S.CANCELLED, S.EXPIRED}, (
        "a crash leaves sending for unknown; cancelled and expired only by the worker holding the row, before "
        "it calls the provider (the last look again)"
    )
    assert S.SENDING not in TRANSITIONS[S.UNKNOWN], "an unknown outcome is reconciled, never resent blindly"


def test_final_states_and_the_groups() -> None:
    assert {S.DELIVERED, S.FAILED, S.TASK_DONE} == FINAL
    assert not set(REVIVABLE) & set(NOT_HANDED_OVER)
    assert set(REVIVABLE) <= set(NOT_CONTACTS)
    assert all(can_move(s, S.PLANNED) for s in REVIVABLE)
    assert all(can_move(s, S.CANCELLED) and can_move(s, S.EXPIRED) for s in NOT_HANDED_OVER)
    assert all(can_move(s, S.RENDERED) or s == S.PLANNED for s in RENDERABLE)
    assert set(moved_from(S.SENT)) == {S.SENDING, S.UNKNOWN, S.UNRESOLVED}


@given(parts=st.lists(st.text(max_size=12), min_size=8, max_size=8))
def test_keys_spell_one_reminder_only_and_the_column_form_agrees(parts: list[str]) -> None:
    first, second = parts[:4], parts[4:]
    a, b = reminder_key(*first), reminder_key(*second)
    assert (a == b) == (first == second)
    frame = pl.DataFrame([first, second], schema=["c", "e", "s", "ch"], orient="row")
    keys = frame.select(reminder_keys(pl.col("c"), pl.col("e"), pl.col("s"), pl.col("ch")))[:, 0].to_list()
    assert keys == [a, b]
