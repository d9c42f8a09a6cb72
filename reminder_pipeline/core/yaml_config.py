"""Load YAML configuration into pydantic models with errors that name the line and the field.

Every YAML file the product reads (mappings, policies, the source config) goes through
:func:`parse_yaml_model`, which refuses a key repeated in one mapping at any depth: plain YAML
keeps the last value silently, so a policy or mapping would not say what its author thinks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor

ModelT = TypeVar("ModelT", bound=BaseModel)
MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
TOP_LEVEL = "(top level)"


class ConfigError(ValueError):
    """A configuration file is unusable; the message says where and why."""


class FieldProblem(ValueError):
    """Raised by a model's validator to point at the field at fault, relative to the model.

    Pydantic places an error from a whole-model validator at the model itself; this carries the
    path of the field (``("columns", "custmer_id")``) so the error can name its line.
    """

    def __init__(self, loc: Sequence[int | str], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that exists in the YAML tree."""
    line = _line(node) if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if pair is None:
                break
            line = _line(pair[0])
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = _line(node)
        else:
            break
    return line


def _mappings(tree: yaml.Node) -> Iterator[tuple[yaml.MappingNode, tuple[str, ...]]]:
    """Every mapping node of the tree with its path, once (an alias may share a node, or make a cycle)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(tree, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            yield node, path
            stack.extend((value, (*path, str(getattr(key, "value", "?")))) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(node.value))


def _repeated_keys(loader: yaml.SafeLoader, tree: yaml.Node) -> list[str]:
    """``line N, field 'a.k': repeats ...`` for every key given twice in one mapping (merge keys aside)."""
    found: list[tuple[int, str]] = []
    for mapping, path in _mappings(tree):
        first: dict[Any, int] = {}
        for key_node, _ in mapping.value:
            if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = loader.construct_object(key_node), _line(key_node)
            if key in first:
                field = ".".join((*path, str(key)))
                found.append((line, f"line {line}, field '{field}': repeats the key on line {first[key]}"))
            else:
                first[key] = line
    return [problem for _, problem in sorted(found)]


def _scalars(node: yaml.Node, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, (*path, str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*path, str(index)))
    else:
        yield path, node


def _impossible_dates(tree: yaml.Node) -> list[str]:
    """Values that look like dates but are none (``2026-02-30``): YAML itself fails on them, naming no line."""
    found = []
    for path, node in _scalars(tree):
        if node.tag == TIMESTAMP_TAG:
            try:
                SafeConstructor().construct_yaml_timestamp(node)  # type: ignore[arg-type]
            except ValueError as exc:
                field = ".".join(path) or TOP_LEVEL
                found.append(f"line {_line(node)}, field '{field}': {node.value} is not a date: {exc}")
    return found


def _compose(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data, refusing repeated keys and dates that do not exist."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        tree = loader.get_single_node()
        if tree is None:
            return None, None
        problems = _repeated_keys(loader, tree) or _impossible_dates(tree)
        if problems:
            raise ConfigError("\n".join(f"{source}: {problem}" for problem in problems))
        return tree, loader.construct_document(tree)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()


def _error_path(error: Any) -> tuple[int | str, ...]:
    loc = tuple(p for p in error["loc"] if isinstance(p, (int, str)))
    cause = (error.get("ctx") or {}).get("error")
    return loc + cause.loc if isinstance(cause, FieldProblem) else loc


def _error_message(error: Any) -> str:
    cause = (error.get("ctx") or {}).get("error")
    return str(cause) if isinstance(cause, FieldProblem) else str(error["msg"])


def _located(tree: yaml.Node | None, loc: Sequence[int | str], message: str, source: str) -> str:
    line = _line_of(tree, loc)
    field = ".".join(str(p) for p in loc) or TOP_LEVEL
    return f"{source}: {f'line {line}, ' if line else ''}field '{field}': {message}"


def parse_yaml_model(text: str, model: type[ModelT], *, source: str) -> ModelT:
    tree, data = _compose(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_located(tree, _error_path(e), _error_message(e), source) for e in exc.errors()]
        raise ConfigError("\n".join(problems)) from None


def located_problems(text: str, problems: Sequence[tuple[Sequence[int | str], str]], *, source: str) -> ConfigError:
    """One error naming the line and field of each ``(path, message)`` found after parsing."""
    tree = _compose(text, source)[0]
    return ConfigError("\n".join(_located(tree, loc, message, source) for loc, message in problems))
