"""Dashboard users: passwords stored as argon2id hashes at the shipped strength, checked on login."""

from __future__ import annotations

from argon2 import extract_parameters
from sqlalchemy import select

from reminder_pipeline.collections.users import Role, add_user, authenticate
from reminder_pipeline.ledger.schema import users
from reminder_pipeline.ledger.store import Ledger


def test_a_password_is_stored_as_an_argon2id_hash_at_the_shipped_strength_and_checked(ledger: Ledger) -> None:
    add_user(ledger, "cora", "correct horse battery", Role.COLLECTOR)
    with ledger.begin() as connection:
        stored = connection.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    parameters = extract_parameters(stored)
    assert (parameters.memory_cost, parameters.time_cost) >= (65_536, 3)
    user = authenticate(ledger, "cora", "correct horse battery")
    assert user is not None
    assert user.role is Role.COLLECTOR
    assert authenticate(ledger, "cora", "correct horse batterY") is None
    assert authenticate(ledger, "nobody", "correct horse battery") is None
