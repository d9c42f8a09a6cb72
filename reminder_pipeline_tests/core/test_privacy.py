"""The masks fail closed: whatever they are given, no phone digits, address or name comes through (promise 8)."""

from __future__ import annotations

import re

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from reminder_pipeline.core.channels import mask_recipient
from reminder_pipeline.core.privacy import mask_email, mask_name, mask_phone, mask_text

DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xFF10]
"""ASCII, Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali and fullwidth digits."""
EXAMPLES = sorted(
    {
        phonenumbers.format_number(number, PhoneNumberFormat.E164)
        for number in [phonenumbers.example_number(region) for region in phonenumbers.SUPPORTED_REGIONS]
        + [phonenumbers.example_number_for_non_geo_entity(code) for code in (800, 870, 882)]
        if number is not None
    }
)
"""An example number of every region (and of a few global services), in E.164."""
FORMATS = [
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
]


def _mask(mask: pl.Expr) -> str | None:
    return pl.select(mask).item()  # type: ignore[no-any-return]


def _phone(value: str | None) -> str | None:
    return _mask(mask_phone(pl.lit(value, dtype=pl.String)))


def _email(value: str | None) -> str | None:
    return _mask(mask_email(pl.lit(value, dtype=pl.String)))


def _name(value: str) -> str | None:
    return _mask(mask_name(pl.lit(value, dtype=pl.String)))


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A real number as people write it: any format, separators, brackets, an extension, any script's digits."""
    number = phonenumbers.parse(draw(st.sampled_from(EXAMPLES)))
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    text = text.replace(" ", draw(st.sampled_from([" ", "-", ".", "", "  ", " / "])))
    if draw(st.booleans()):
        text = re.sub(r"(\d+)", r"(\1)", text, count=1)
    text += draw(st.sampled_from(["", " ext. 123", " x45", ";ext=9876", " (office)"]))
    zero = draw(st.sampled_from(DIGIT_ZEROS))
    return text.translate({0x30 + d: zero + d for d in range(10)})


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdecimal())


@settings(max_examples=400, deadline=None)
@given(st.one_of(written_numbers(), st.text(), st.from_regex(r"\+?[\d\s().-]{0,30}", fullmatch=True)))
def test_no_four_digits_of_a_phone_number_survive(number: str) -> None:
    masked = _phone(number)
    assert masked is not None
    assert not re.search(r"\d{4}", masked), masked
    assert len(_digits(masked)) <= 3, "the first and the last two digits at most"
    assert re.fullmatch(r"\+?\d\*\*\*\d\d|\*\*\*", masked), masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+44 7700 900123", "+4***23"),
        ("+4915112345678", "+4***78"),
        ("(201) 555-0123", "2***23"),
        ("+1 201.555.0123 ext. 45", "+1***45"),
        ("0151 1234 5678", "0***78"),
        ("+٤٤٧٧٠٠٩٠٠١٢٣", "+٤***٢٣"),
        ("12345", "***"),
        ("call me", "***"),
        ("", "***"),
        (None, None),
    ],
)
def test_phone_masks(number: str | None, masked: str | None) -> None:
    assert _phone(number) == masked


@settings(max_examples=400, deadline=None)
@given(st.emails())
def test_no_local_part_of_an_address_survives_beyond_its_first_character(address: str) -> None:
    masked = _email(address)
    local, domain = address.rsplit("@", 1)
    assert masked is not None
    shown_local, shown_domain = masked.split("@")
    assert shown_local == local[0] + "***"
    assert re.fullmatch(r".\*\*\*(\.[A-Za-z]{2,6})?", shown_domain), masked
    assert shown_domain[0] == domain[0]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.builds(lambda a, b: f"{a}@{b}", st.text(), st.text())))
def test_anything_given_as_an_address_shows_two_characters_and_a_top_level_domain_at_most(text: str) -> None:
    masked = _email(text)
    assert masked is not None
    assert re.fullmatch(r"(?s).?\*\*\*(@.?\*\*\*(\.[A-Za-z]{2,6})?)?", masked), masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        (" JANE@EXAMPLE.CO.UK ", "J***@E***.UK"),
        ("jane@@example.org", "j***@e***.org"),
        ("jane@localhost", "j***@l***"),
        ("jane@example.verylongname", "j***@e***"),
        ("jane.doe", "j***"),
        ("", "***"),
        (None, None),
    ],
)
def test_email_masks(address: str | None, masked: str | None) -> None:
    assert _email(address) == masked


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_no_name_survives_beyond_the_first_character_of_each_word(name: str) -> None:
    masked = _name(name)
    assert masked is not None
    assert not re.search(r"[^\s*]{2}", masked), masked
    visible = [c for c in masked if not c.isspace() and c != "*"]
    assert len(visible) <= len(name.split()), "one character per word at most"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Jürgen Müller", "J*** M***"),
        ("O'Brien-Smith", "O***"),
        ("鈴木花子", "鈴***"),
        ("J. R. R. Tolkien", "J*** R*** R*** T***"),
        ("", ""),
    ],
)
def test_name_masks(name: str, masked: str) -> None:
    assert _name(name) == masked


def test_a_recipient_is_masked_by_its_channel_and_hidden_on_any_other() -> None:
    frame = pl.DataFrame(
        {
            "channel": ["sms", "email", "whatsapp", None],
            "recipient": ["+44 7700 900123", "jane@example.com", "+447700900123", "jane@example.com"],
        }
    )
    masked = frame.select(mask_recipient(pl.col("channel"), pl.col("recipient")).alias("m"))["m"].to_list()
    assert masked == ["+4***23", "j***@e***.com", "***", "***"]


def test_a_preview_masks_the_name_in_any_case_and_word_the_address_and_the_number() -> None:
    text = (
        "Dear JANE DOE-SMITH, hello Jane. Reply to jane.doe@Example.com or call 07700 900123 "
        "(+44 7700 900123). Pay at https://pay.example.com/p/abc. Janet is someone else."
    )
    masked = mask_text(text, name=" Jane Doe-Smith ", email="jane.doe@example.com", phone="+447700900123")
    assert masked == (
        "Dear J*** D***, hello J***. Reply to j***@e***.com or call +4***23 "
        "(+4***23). Pay at https://pay.example.com/p/abc. Janet is someone else."
    )
    assert mask_text("Dear customer", name=None, email="", phone=None) == "Dear customer"
