"""Signed, expiring links: genuine ones verify, altered, foreign, expired or forged ones do not."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from reminder_pipeline.core.rendering.links import PAYMENT, UNSUBSCRIBE, InvalidLink, LinkSigner

EXPIRES = date(2026, 4, 9)


def _token(signer: LinkSigner, outbox_id: int = 42, purpose: str = PAYMENT) -> str:
    return str(signer.tokens(pl.Series([outbox_id]), purpose, EXPIRES)[0])


def test_a_token_names_its_outbox_row_until_it_expires() -> None:
    signer = LinkSigner("a-long-enough-secret-for-tests")
    token = _token(signer)
    assert signer.verify(token, PAYMENT, EXPIRES) == 42
    with pytest.raises(InvalidLink, match="expired"):
        signer.verify(token, PAYMENT, EXPIRES + timedelta(days=1))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("42.", "43.", 1),
        lambda t: "42." + f"{(EXPIRES + timedelta(days=365)).toordinal():x}" + "." + t.rsplit(".", 1)[1],
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "garbage",
    ],
)
def test_an_altered_token_is_refused(tamper: object) -> None:
    signer = LinkSigner("a-long-enough-secret-for-tests")
    with pytest.raises(InvalidLink, match="not genuine"):
        signer.verify(tamper(_token(signer)), PAYMENT, EXPIRES)  # type: ignore[operator]


def test_a_token_works_for_its_purpose_and_secret_only() -> None:
    signer = LinkSigner("a-long-enough-secret-for-tests")
    with pytest.raises(InvalidLink):
        signer.verify(_token(signer, purpose=UNSUBSCRIBE), PAYMENT, EXPIRES)
    with pytest.raises(InvalidLink):
        LinkSigner("another-secret-of-the-same-length").verify(_token(signer), PAYMENT, EXPIRES)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        LinkSigner("short")


def test_tokens_are_exactly_what_itsdangerous_signs() -> None:
    from itsdangerous import Signer

    token = _token(LinkSigner("a-long-enough-secret-for-tests"))
    reference = Signer("a-long-enough-secret-for-tests", salt="reminder_pipeline.payment")
    assert token == reference.sign(token.rsplit(".", 1)[0]).decode()


def test_many_tokens_are_exactly_what_itsdangerous_signs() -> None:
    from itsdangerous import Signer

    ids = pl.Series([1, 42, 10**12, 7_000_001])
    signer = LinkSigner("a-long-enough-secret-for-tests")
    tokens = signer.tokens(ids, UNSUBSCRIBE, EXPIRES)
    reference = Signer("a-long-enough-secret-for-tests", salt="reminder_pipeline.unsubscribe")
    assert tokens.to_list() == [reference.sign(f"{i}.{EXPIRES.toordinal():x}").decode() for i in ids]
    assert tokens.name == "unsubscribe_token"
    assert (
        LinkSigner("a-long-enough-secret-for-tests").tokens(pl.Series([], dtype=pl.Int64), PAYMENT, EXPIRES).is_empty()
    )
