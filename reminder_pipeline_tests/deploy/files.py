"""The deployment files, read as the tools that use them would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from reminder_pipeline_tests.conftest import PROJECT

DEPLOY = PROJECT / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|PASS$|SECRET|TOKEN|API_KEY|PUBLIC_KEY|_DB_URL$|AMQP_URL$")
"""Environment names whose values are credentials (or URLs that carry one)."""
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def load(relative: str) -> Any:
    return yaml.safe_load((DEPLOY / relative).read_text(encoding="utf-8"))


def references(value: str) -> list[str]:
    """The variables a compose value interpolates (``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}``)."""
    return REFERENCE.findall(value)


def example_names(path: Path) -> set[str]:
    """The variable names an ``env.example`` file lists."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            names.add(line.split("=", 1)[0].strip())
    return names
