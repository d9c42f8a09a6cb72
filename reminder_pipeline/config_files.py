"""Configuration read from files, at the edge: the policy, column mappings, message templates.

The pure core parses text and builds from what it is given; this module is where paths are read
(the shipped defaults, or the user's files), and where an unreadable file becomes a
:class:`ConfigError` that names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from reminder_pipeline.core.mapping import Mapping, parse_mapping
from reminder_pipeline.core.policy.config import Policy, parse_policy
from reminder_pipeline.core.rendering.templates import TemplateProblem, Templates
from reminder_pipeline.core.yaml_config import ConfigError, parse_yaml_model

PACKAGE = Path(__file__).resolve().parent
DEFAULT_POLICY = PACKAGE / "policies" / "default.yaml"
TEMPLATES = PACKAGE / "templates"
TEMPLATE_SUFFIX = ".j2"

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_config_text(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load_yaml_model(path: Path | str, model: type[ModelT]) -> ModelT:
    return parse_yaml_model(read_config_text(path), model, source=str(path))


def load_policy(path: Path | str | None = None) -> Policy:
    """The policy file at ``path``, or the shipped default."""
    path = path or DEFAULT_POLICY
    return parse_policy(read_config_text(path), source=str(path))


def load_mapping(path: Path | str) -> Mapping:
    return parse_mapping(read_config_text(path), source=str(path))


def load_templates(root: Path | str | None = None) -> Templates:
    """Every ``*.j2`` under the template folder (a folder per language), or the shipped templates."""
    folder = Path(root) if root else TEMPLATES
    if not folder.is_dir():
        raise TemplateProblem(f"{folder}: no such templates folder (it holds a folder per language, e.g. en/)")
    try:
        sources = {
            path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}"))
            if path.is_file()
        }
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateProblem(f"{folder}: cannot read a template: {exc}") from exc
    return Templates(sources, origin=str(folder))
