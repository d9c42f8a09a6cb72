"""Dashboard users: passwords stored as argon2id hashes at the shipped strength, checked on login in the
same time whoever the name is; names unique whatever their case."""

from __future__ import annotations

import time

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from reminder_pipeline.collections.users import Role, UserProblem, add_user, authenticate, disable_user
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


def test_a_name_that_differs_from_a_users_only_in_case_is_taken(ledger: Ledger) -> None:
    """The login brake counts "Cora" and "cora" as one name and a good login clears that count: a "Cora" who
    logs in between guesses would otherwise guess cora's password without end."""
    add_user(ledger, "cora", "correct horse battery", Role.COLLECTOR)
    for name in ("Cora", "CORA"):
        with pytest.raises(UserProblem, match="exists already"):
            add_user(ledger, name, "correct horse battery", Role.VIEWER)
    add_user(ledger, "cora2", "correct horse battery", Role.VIEWER)


def test_a_login_takes_as_long_for_a_user_as_for_no_user(ledger: Ledger) -> None:
    """With the shipped hash strength: a wrong password of a user, a name nobody has, a disabled user and a
    name no user can have each cost one hash check, so the time of a refusal does not tell which it was."""
    add_user(ledger, "cora", "correct horse battery", Role.COLLECTOR)
    add_user(ledger, "gone", "correct horse battery", Role.COLLECTOR)
    disable_user(ledger, "gone")
    authenticate(ledger, "cora", "warming up the hasher")

    names = ("cora", "nobody", "gone", "co\x00ra")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(7):  # interleaved, and the fastest of each: other work on the machine only adds time
        for name in names:
            started = time.perf_counter()
            assert authenticate(ledger, name, "not the password") is None
            times[name].append(time.perf_counter() - started)
    user = min(times["cora"])
    for other in names[1:]:
        assert 0.5 < min(times[other]) / user < 2, other
