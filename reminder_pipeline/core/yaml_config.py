"""Load YAML configuration into pydantic models with errors that name the line and the field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file is unusable; the message says where and why."""


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that exists in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            line = (key or match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_yaml_model(text: str, model: type[ModelT], *, source: str) -> ModelT:
    try:
        tree = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [p for p in error["loc"] if isinstance(p, (int, str))]
            field = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(tree, loc)
            where = f"line {line}, " if line else ""
            problems.append(f"{source}: {where}field '{field}': {error['msg']}")
        raise ConfigError("\n".join(problems)) from None


def read_config_text(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load_yaml_model(path: Path | str, model: type[ModelT]) -> ModelT:
    return parse_yaml_model(read_config_text(path), model, source=str(path))


def located_problems(text: str, problems: Sequence[tuple[Sequence[int | str], str]], *, source: str) -> ConfigError:
    """One error naming the line and field of each ``(path, message)`` found after parsing."""
    tree = yaml.compose(text)
    lines = []
    for loc, message in problems:
        line = _line_of(tree, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{source}: {f'line {line}, ' if line else ''}field '{field}': {message}")
    return ConfigError("\n".join(lines))
