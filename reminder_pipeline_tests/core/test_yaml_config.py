"""The one YAML loader every configuration goes through: repeated keys refused, errors located."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, model_validator

from reminder_pipeline.config_files import DEFAULT_POLICY, load_mapping, load_policy
from reminder_pipeline.core.yaml_config import ConfigError, FieldProblem, parse_yaml_model
from reminder_pipeline.ingestion.sources import load_source_config

PACKAGE = Path(__file__).resolve().parents[2] / "reminder_pipeline"


class _Inner(BaseModel):
    model_config = ConfigDict(extra="allow")
    names: dict[str, str] = {}

    @model_validator(mode="after")
    def _no_bad_name(self) -> _Inner:
        if "bad" in self.names:
            raise FieldProblem(("names", "bad"), "'bad' is not a name")
        return self


class _Outer(BaseModel):
    model_config = ConfigDict(extra="allow")
    inner: _Inner = _Inner()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", ["line 3, field 'a': repeats the key on line 1"]),
        ("inner:\n  names:\n    x: 1\n    x: 2\n", ["line 4, field 'inner.names.x': repeats the key on line 3"]),
        ("list:\n  - k: 1\n    k: 2\n", ["line 3, field 'list.0.k': repeats the key on line 2"]),
        ("flow: {k: 1, k: 2}\n", ["line 1, field 'flow.k': repeats the key on line 1"]),
        (
            "a: 1\na: 2\ninner:\n  b: 1\n  b: 2\n",
            ["line 2, field 'a': repeats the key on line 1", "line 5, field 'inner.b': repeats the key on line 4"],
        ),
    ],
)
def test_a_repeated_key_at_any_depth_is_refused_with_both_lines(text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        parse_yaml_model(text, _Outer, source="c.yaml")
    assert str(error.value).splitlines() == [f"c.yaml: {line}" for line in expected]


def test_a_merge_key_overriding_a_value_is_not_a_repeat() -> None:
    parsed = parse_yaml_model("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n", _Outer, source="c.yaml")
    assert parsed.model_extra == {"base": {"x": 1}, "other": {"x": 2}}


def test_a_recursive_alias_does_not_hang_the_check() -> None:
    with pytest.raises(ConfigError, match=re.escape("line 3, field 'a.x': repeats the key on line 2")):
        parse_yaml_model("a: &r\n  x: 1\n  x: 2\n  self: *r\n", _Outer, source="c.yaml")


def test_a_model_validator_can_point_at_the_field_at_fault() -> None:
    """Without the pointer pydantic places a whole-model error at the model: 'line 1, (top level)'."""
    with pytest.raises(ConfigError) as error:
        parse_yaml_model("# a comment\ninner:\n  names:\n    good: x\n    bad: y\n", _Outer, source="c.yaml")
    assert str(error.value) == "c.yaml: line 5, field 'inner.names.bad': 'bad' is not a name"


def _policy_with_a_repeat(path: Path) -> Callable[[], Any]:
    text = DEFAULT_POLICY.read_text()
    assert "\n  aging_edges: [7, 30, 60]\n" in text
    path.write_text(
        text.replace("\n  aging_edges: [7, 30, 60]\n", "\n  aging_edges: [7, 30, 60]\n  aging_edges: [5]\n")
    )
    return lambda: load_policy(path)


def _mapping_with_a_repeat(path: Path) -> Callable[[], Any]:
    path.write_text("entity: invoices\nconstants:\n  currency: EUR\n  currency: USD\n")
    return lambda: load_mapping(path)


def _source_with_a_repeat(path: Path) -> Callable[[], Any]:
    path.write_text("kind: drop_folder\nroot: a\nroot: b\n")
    return lambda: load_source_config(path)


@pytest.mark.parametrize("reader", [_policy_with_a_repeat, _mapping_with_a_repeat, _source_with_a_repeat])
def test_every_configuration_the_product_reads_refuses_repeated_keys(
    tmp_path: Path, reader: Callable[[Path], Callable[[], Any]]
) -> None:
    path = tmp_path / "config.yaml"
    load = reader(path)
    with pytest.raises(
        ConfigError, match=rf"{re.escape(str(path))}: line \d+, field '[\w.]+': repeats the key on line"
    ):
        load()


def test_no_module_reads_yaml_around_the_shared_loader() -> None:
    """yaml.safe_load and friends keep the last of two repeated keys silently: only yaml_config may parse YAML."""
    direct = re.compile(r"\byaml\.(safe_load|load|full_load|unsafe_load|compose|safe_load_all|load_all)\b")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "yaml_config.py" and direct.search(path.read_text())
    ]
    assert offenders == []
