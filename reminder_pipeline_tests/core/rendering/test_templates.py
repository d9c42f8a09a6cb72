"""Templates render in a sandbox, with strict variables, and may only place per-message values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reminder_pipeline.config_files import TEMPLATES, load_templates
from reminder_pipeline.core.rendering.templates import Slot, TemplateProblem

SLOTS = frozenset({"customer_name", "amount"})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    return copy


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_the_shipped_templates_cover_four_languages() -> None:
    assert {"en", "es", "fr", "de"} <= load_templates().languages


def test_a_skeleton_places_slots_and_fills_them_from_columns(folder: Path) -> None:
    _write(
        folder, "t.j2", "Dear {{ customer_name }}, you owe {{ amount }}{% if n > 1 %} in {{ n }} invoices{% endif %}."
    )
    skeleton = load_templates(folder).skeleton("t.j2", False, {"n": 2}, SLOTS)
    assert skeleton.slots == ("customer_name", "amount")
    assert skeleton.fill_row({"customer_name": "Ann", "amount": "€5"}) == "Dear Ann, you owe €5 in 2 invoices."


@pytest.mark.parametrize(
    "body",
    [
        "{{ customer_name|upper }}",
        "{{ customer_name|lower }}",
        "{{ customer_name|title }}",
        "{{ customer_name|replace(' ', '') }}",
        "{{ customer_name[:3] }}",
        "{% if amount > 3 %}big{% endif %}",
        "{{ amount ~ '!' if amount|length > 3 else '' }}",
    ],
)
def test_computing_with_a_per_message_value_is_refused(folder: Path, body: str) -> None:
    _write(folder, "t.j2", body)
    with pytest.raises(TemplateProblem):
        load_templates(folder).skeleton("t.j2", False, {}, SLOTS)


def test_an_unknown_variable_is_an_error_not_an_empty_string(folder: Path) -> None:
    _write(folder, "t.j2", "Hello {{ customer_nmae }}")
    with pytest.raises(TemplateProblem, match="customer_nmae"):
        load_templates(folder).skeleton("t.j2", False, {}, SLOTS)


def test_the_sandbox_refuses_to_reach_python_internals(folder: Path) -> None:
    _write(folder, "t.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateProblem, match=r"SecurityError|unsafe"):
        load_templates(folder).skeleton("t.j2", False, {}, SLOTS)


def test_a_language_missing_a_template_is_not_offered(folder: Path) -> None:
    (folder / "de" / "tones" / "final.j2").unlink()
    assert "de" not in load_templates(folder).languages


@pytest.mark.parametrize("name", ["missing", "a_file"])
def test_a_templates_folder_that_is_not_there_is_a_template_problem(tmp_path: Path, name: str) -> None:
    """Issue 8: ``--templates /nonexistent`` (or ``$REMINDERS_TEMPLATES``) raised FileNotFoundError."""
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(TemplateProblem, match=f"{tmp_path / name}: no such templates folder"):
        load_templates(tmp_path / name)


def test_a_step_template_takes_precedence_over_its_tone(folder: Path) -> None:
    _write(folder, "en/steps/final_notice.j2", "{% macro subject() %}Last call{% endmacro %}")
    templates = load_templates(folder)
    assert templates.content("en", "final", "final_notice") == "en/steps/final_notice.j2"
    assert templates.content("en", "final", "other") == "en/tones/final.j2"


def test_a_slot_renders_as_a_marker_in_text_and_html() -> None:
    slot = Slot("amount")
    assert str(slot) == slot.__html__() == "\ue000Slot amount\ue001"
