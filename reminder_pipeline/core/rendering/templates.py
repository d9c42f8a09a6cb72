"""Templates per language, channel, tone and step, rendered once per variant and filled per row.

A template is rendered in Jinja2's sandbox with strict undefined variables: values shared by
every message of a variant (language, tone, invoice count, the sender) as themselves, and
per-message values (name, amounts, dates, links) as *slots*, markers that pass through Jinja
untouched. The output is split at the markers into a skeleton, and polars fills the slots from
columns for thousands of messages at once. A template that computes with a per-message value
(``{{ name|upper }}``, ``{% if days_overdue > 30 %}``) cannot work that way: it fails loudly,
and each variant is also rendered once the ordinary way and compared, so nothing differs.

Layout of a template folder, per language (``en/``, ``de/``...):

- ``email_subject.txt.j2``, ``email.txt.j2``, ``email.html.j2``, ``sms.txt.j2``: the layouts;
- ``invoice_line.txt.j2``, ``invoice_line.html.j2``: one invoice in a message's list;
- ``tones/<tone>.j2``: macros ``subject()``, ``message()`` and ``sms()`` in that tone;
- ``steps/<step>.j2`` (optional): the same macros for one ladder step, preferred over its tone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
from jinja2 import DictLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from reminder_pipeline.core.policy.config import Tone

SLOT_OPEN, SLOT_CLOSE = "\ue000Slot ", "\ue001"
"""A marker holds upper and lower case and a space, so that a filter changing any of them is caught."""
SLOT = re.compile(f"{SLOT_OPEN}([a-z_]+){SLOT_CLOSE}")
MARKER_CHARACTERS = ("\ue000", "\ue001")
LAYOUTS = ("email_subject.txt.j2", "email.txt.j2", "email.html.j2", "sms.txt.j2")
LINES = ("invoice_line.txt.j2", "invoice_line.html.j2")
TONES = tuple(tone.value for tone in Tone)


class TemplateProblem(ValueError):
    """A template cannot be used: it is missing, broken, or computes with a per-message value."""


class Slot:
    """A per-message value inside a template: a marker that polars later replaces, row by row."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"{SLOT_OPEN}{self.name}{SLOT_CLOSE}"

    def __html__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Skeleton:
    """Rendered text split at its slots: ``literals[0] slot[0] literals[1] ... literals[-1]``."""

    literals: tuple[str, ...]
    slots: tuple[str, ...]

    def fill(self, values: Mapping[str, pl.Expr]) -> pl.Expr:
        parts: list[pl.Expr] = [pl.lit(self.literals[0])]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            parts += [values[slot], pl.lit(literal)]
        return pl.concat_str(parts)

    def fill_row(self, values: Mapping[str, str]) -> str:
        pieces = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            pieces += [values[slot], literal]
        return "".join(pieces)


def skeleton_of(text: str, slots: frozenset[str], template: str) -> Skeleton:
    pieces = SLOT.split(text)
    literals, names = tuple(pieces[0::2]), tuple(pieces[1::2])
    unknown = sorted(set(names) - slots)
    if unknown or any(mark in part for part in literals for mark in MARKER_CHARACTERS):
        raise TemplateProblem(
            f"{template}: a per-message value is changed inside the template ({', '.join(unknown) or 'cut'}); "
            "place values as they are, e.g. {{ customer_name }}"
        )
    return Skeleton(literals, names)


def html_escaped(value: pl.Expr) -> pl.Expr:
    """The same escaping as Jinja's autoescape (markupsafe), vectorised."""
    return (
        value.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&#34;", literal=True)
        .str.replace_all("'", "&#39;", literal=True)
    )


def paragraphs(text: str) -> list[str]:
    """A macro's text split at blank lines (escaped text stays escaped), for the HTML layouts."""
    make = Markup if isinstance(text, Markup) else str
    return [make(piece.strip()) for piece in re.split(r"\n\s*\n", str(text).strip()) if piece.strip()]


class Templates:
    """A template set: which languages are complete, and the skeleton of any variant.

    ``sources`` maps each template's path in the set (``en/tones/firm.j2``) to its text; reading a
    folder is the caller's business (``config_files.load_templates``). ``origin`` names the set in errors.
    """

    def __init__(self, sources: Mapping[str, str], origin: str = "templates") -> None:
        self.origin = origin
        self._sources = dict(sources)
        options: dict[str, Any] = {
            "loader": DictLoader(self._sources),
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self._environments = {
            False: SandboxedEnvironment(**options),
            True: SandboxedEnvironment(**options, autoescape=True),
        }
        for environment in self._environments.values():
            environment.filters["paragraphs"] = paragraphs
        required = [*LAYOUTS, *LINES, *(f"tones/{tone}.j2" for tone in TONES)]
        folders = {name.split("/", 1)[0] for name in self._sources if "/" in name}
        self.languages = frozenset(
            folder for folder in folders if all(f"{folder}/{name}" in self._sources for name in required)
        )
        if not self.languages:
            raise TemplateProblem(f"{origin}: no language has every template ({', '.join(required)})")
        self._skeleton = cache(self._render_skeleton)

    def has(self, name: str) -> bool:
        """Whether the set holds the template ``name`` (``en/statement_sms.txt.j2``)."""
        return name in self._sources

    def content(self, language: str, tone: str, step: str) -> str:
        """The macros of a step's message: its own template if there is one, else its tone's."""
        step_template = f"{language}/steps/{step}.j2"
        if step_template in self._sources:
            return step_template
        return f"{language}/tones/{tone}.j2"

    def render(self, name: str, html: bool, context: Mapping[str, Any]) -> str:
        """One ordinary rendering, with real values."""
        try:
            return self._environments[html].get_template(name).render(**context)
        except TemplateError as exc:
            raise TemplateProblem(f"{name}: {type(exc).__name__}: {exc}") from exc
        except TypeError as exc:
            raise TemplateProblem(f"{name}: a per-message value is used in a computation ({exc})") from exc

    def _render_skeleton(
        self, name: str, html: bool, constants: tuple[tuple[str, Any], ...], slots: frozenset[str]
    ) -> Skeleton:
        context = dict(constants) | {slot: Slot(slot) for slot in slots}
        return skeleton_of(self.render(name, html, context), slots, name)

    def skeleton(self, name: str, html: bool, constants: Mapping[str, Any], slots: frozenset[str]) -> Skeleton:
        return self._skeleton(name, html, tuple(sorted(constants.items())), slots)
