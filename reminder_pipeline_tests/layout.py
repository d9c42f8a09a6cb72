"""The rules of the package's shape, read from its source with ``ast`` (nothing is imported); ``test_layout``
runs them. Each rule takes one module and returns its violations, each naming the file and the limit:

- ``module_size``: no module under ``reminder_pipeline/`` is longer than 400 lines;
- ``asset_size``: no function decorated as a Dagster asset (``@dg.asset``, ``@dg.multi_asset``,
  ``@asset``, ``@multi_asset``, called or not) in ``reminder_pipeline/defs/`` has a body longer
  than 40 lines, its docstring not counted (assets gather resources and call a service);
- ``core_imports``: no module under ``reminder_pipeline/core/`` imports a library or a layer that
  does I/O (relative imports resolved, imports under ``TYPE_CHECKING`` included: the core stays
  free of them);
- ``core_io_calls``: no module under ``reminder_pipeline/core/`` opens files, reads or writes them
  through ``pathlib`` or reads the environment (core takes text or parsed objects; the edge reads);
- ``domain_imports``: no module of a domain under ``reminder_pipeline/defs/`` imports another domain's
  modules (its resources, assets, configs): what several domains use lives in ``defs/common/``, which
  imports no domain; only ``defs/daily_run/``, which composes the domains into one run, imports them;
- ``cross_test_imports`` (over ``reminder_pipeline_tests/``): no module imports a test module
  (``test_*.py``): what tests share lives in a helper module or a conftest.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "reminder_pipeline"
TESTS = "reminder_pipeline_tests"
MAX_MODULE_LINES = 400
MAX_ASSET_BODY_LINES = 40
ASSET_DECORATORS = frozenset({"asset", "multi_asset"})
DAGSTER_MODULE_ALIASES = frozenset({"dg", "dagster"})
SHARED_DOMAIN = "common"
COMPOSING_DOMAIN = "daily_run"
CORE_FORBIDDEN_IMPORTS = (
    "sqlalchemy",
    "dagster",
    "reminder_pipeline.ledger",
    "reminder_pipeline.providers",
    "reminder_pipeline.defs",
    "requests",
    "urllib.request",
    "socket",
    "sendgrid",
    "twilio",
    "subprocess",
)
FILE_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})
ENVIRONMENT_FUNCTIONS = frozenset({"getenv", "putenv", "unsetenv"})


@dataclass(frozen=True)
class Module:
    path: str
    """Relative to the project, e.g. ``reminder_pipeline/core/money.py``."""
    name: str
    """Dotted, e.g. ``reminder_pipeline.core.money`` (a package's ``__init__`` is the package)."""
    source: str

    @property
    def is_package(self) -> bool:
        return self.path.endswith("__init__.py")

    def under(self, folder: str) -> bool:
        return self.path.startswith(folder.rstrip("/") + "/")


def module_of(path: Path) -> Module:
    relative = path.relative_to(PROJECT)
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return Module(relative.as_posix(), ".".join(parts), path.read_text(encoding="utf-8"))


def package_modules() -> list[Module]:
    return [module_of(p) for p in sorted((PROJECT / PACKAGE).rglob("*.py"))]


def suite_modules() -> list[Module]:
    return [module_of(p) for p in sorted((PROJECT / TESTS).rglob("*.py"))]


# --- the rules ---


def module_size(module: Module) -> list[str]:
    lines = len(module.source.splitlines())
    if lines <= MAX_MODULE_LINES:
        return []
    return [f"{module.path}: {lines} lines (limit {MAX_MODULE_LINES} lines per module)"]


def _decorator_name(decorator: ast.expr) -> str | None:
    """``asset`` for ``@asset``, ``@dg.asset``, ``@dg.asset(...)``, ``@dagster.asset(...)``; else None."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in DAGSTER_MODULE_ALIASES
    ):
        return target.attr
    return None


def _body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        body = body[1:]
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def asset_size(module: Module) -> list[str]:
    if not module.under(f"{PACKAGE}/defs"):
        return []
    found = []
    for node in ast.walk(ast.parse(module.source, module.path)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not any(_decorator_name(d) in ASSET_DECORATORS for d in node.decorator_list):
            continue
        lines = _body_lines(node)
        if lines > MAX_ASSET_BODY_LINES:
            found.append(
                f"{module.path}:{node.lineno} asset {node.name}: body of {lines} lines "
                f"(limit {MAX_ASSET_BODY_LINES} lines per asset function, docstring not counted)"
            )
    return found


def _imported(module: Module, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of everything the module imports; ``from a import b`` gives ``a`` and ``a.b``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _forbidden(name: str) -> str | None:
    for banned in CORE_FORBIDDEN_IMPORTS:
        if name == banned or name.startswith(banned + "."):
            return banned
    return None


def core_imports(module: Module) -> list[str]:
    if not module.under(f"{PACKAGE}/core"):
        return []
    found: dict[tuple[int, str], str] = {}
    for line, name in _imported(module, ast.parse(module.source, module.path)):
        banned = _forbidden(name)
        if banned is not None:
            found.setdefault((line, banned), name)
    return [
        f"{module.path}:{line} imports {name}: core may import nothing doing I/O "
        f"(forbidden: {', '.join(CORE_FORBIDDEN_IMPORTS)})"
        for (line, _), name in sorted(found.items())
    ]


def _io_call(node: ast.AST) -> str | None:
    """What the node does that is I/O: ``open()``, ``os.environ``, ``os.getenv()``, ``path.read_text()``..."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "open":
            return "open()"
        if isinstance(node.func, ast.Attribute):
            if node.func.attr in FILE_METHODS:
                return f".{node.func.attr}()"
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "os" and node.func.attr in ENVIRONMENT_FUNCTIONS:
                return f"os.{node.func.attr}()"
    if (
        isinstance(node, ast.Attribute)
        and node.attr in {"environ", "environb"}
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ):
        return f"os.{node.attr}"
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        names = {a.name for a in node.names} & {"environ", "environb", *ENVIRONMENT_FUNCTIONS}
        if names:
            return "from os import " + ", ".join(sorted(names))
    return None


def core_io_calls(module: Module) -> list[str]:
    if not module.under(f"{PACKAGE}/core"):
        return []
    found = []
    for node in ast.walk(ast.parse(module.source, module.path)):
        what = _io_call(node)
        if what is not None:
            line = getattr(node, "lineno", 0)
            found.append(
                (
                    line,
                    f"{module.path}:{line} uses {what}: core reads no files and no environment (take text or "
                    "parsed objects; resources and config_files read them)",
                )
            )
    return [message for _, message in sorted(found)]


def _domain(name: str) -> str | None:
    """``delivery`` for ``reminder_pipeline.defs.delivery`` and anything under it; else None."""
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == [PACKAGE, "defs"] else None


def domain_imports(module: Module) -> list[str]:
    own = _domain(module.name)
    if own is None or own == COMPOSING_DOMAIN:
        return []
    found: dict[tuple[int, str], str] = {}
    for line, name in _imported(module, ast.parse(module.source, module.path)):
        other = _domain(name)
        if other is not None and other not in {own, SHARED_DOMAIN}:
            found.setdefault((line, other), name)
    return [
        f"{module.path}:{line} imports {name}: a domain imports no other domain (what several use goes "
        f"to defs/{SHARED_DOMAIN}/; only defs/{COMPOSING_DOMAIN}/ composes them)"
        for (line, _), name in sorted(found.items())
    ]


def _test_module_in(name: str) -> str | None:
    """``reminder_pipeline_tests.listening.test_inbox`` for any name at or under that test module."""
    parts = name.split(".")
    if parts[0] != TESTS:
        return None
    for index, part in enumerate(parts):
        if part.startswith("test_"):
            return ".".join(parts[: index + 1])
    return None


def cross_test_imports(module: Module) -> list[str]:
    if not module.under(TESTS):
        return []
    found: dict[int, str] = {}
    for line, name in _imported(module, ast.parse(module.source, module.path)):
        imported = _test_module_in(name)
        if imported is not None and imported != module.name:
            found.setdefault(line, imported)
    return [
        f"{module.path}:{line} imports the test module {name}: no module imports a test module "
        "(move what they share into a helper module or a conftest fixture)"
        for line, name in sorted(found.items())
    ]


Rule = Callable[[Module], list[str]]
RULES: dict[str, Rule] = {
    "module_size": module_size,
    "asset_size": asset_size,
    "core_imports": core_imports,
    "core_io_calls": core_io_calls,
    "domain_imports": domain_imports,
}


def synthetic(path: str, source: str) -> Module:
    """A module of the given path and source, to try a rule on."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return Module(path, ".".join(parts), source)
