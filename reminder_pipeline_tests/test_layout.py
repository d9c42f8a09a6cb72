"""The package's shape (``reminder_pipeline_tests/layout.py``'s rules, read with ``ast``: nothing is imported).

One test per rule, over the whole package (and over the tests for ``cross_test_imports``), so a failure
says which rule broke and lists every offender with the limit. Each rule is also run on small synthetic
sources, so that it is known to catch what it is for, and to leave the rest alone.
"""

from __future__ import annotations

import pytest

from reminder_pipeline_tests.layout import (
    COMPOSING_DOMAIN,
    MAX_ASSET_BODY_LINES,
    MAX_MODULE_LINES,
    PACKAGE,
    PROJECT,
    RULES,
    TESTS,
    asset_size,
    core_imports,
    core_io_calls,
    cross_test_imports,
    domain_imports,
    module_size,
    package_modules,
    suite_modules,
    synthetic,
)


@pytest.mark.parametrize("rule", list(RULES))
def test_the_package_keeps_its_layout(rule: str) -> None:
    modules = package_modules()
    assert len(modules) > 50, f"only {len(modules)} modules found under {PROJECT / PACKAGE}"
    violations = [v for module in modules for v in RULES[rule](module)]
    assert not violations, f"{rule}: {len(violations)} violation(s)\n" + "\n".join(violations)


def test_the_tests_import_no_test_module() -> None:
    modules = suite_modules()
    assert len(modules) > 50, f"only {len(modules)} modules found under {PROJECT / TESTS}"
    violations = [v for module in modules for v in cross_test_imports(module)]
    assert not violations, f"cross_test_imports: {len(violations)} violation(s)\n" + "\n".join(violations)


# --- each rule on synthetic sources: it catches what it is for, and leaves the rest alone ---


def _asset_source(decorator: str, body_lines: int) -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f'import dagster as dg\n\n\n{decorator}\ndef fat() -> None:\n    """Docstring, not counted."""\n{body}'


def test_module_size_catches_a_long_module() -> None:
    long = synthetic(f"{PACKAGE}/core/long.py", "x = 1\n" * (MAX_MODULE_LINES + 1))
    assert module_size(long) == [f"{PACKAGE}/core/long.py: 401 lines (limit 400 lines per module)"]
    assert module_size(synthetic(f"{PACKAGE}/core/fits.py", "x = 1\n" * MAX_MODULE_LINES)) == []


@pytest.mark.parametrize("decorator", ["@dg.asset", "@dg.asset(group_name='g')", "@dg.multi_asset(specs=[])", "@asset"])
def test_asset_size_catches_a_fat_asset(decorator: str) -> None:
    fat = synthetic(f"{PACKAGE}/defs/risk/assets.py", _asset_source(decorator, MAX_ASSET_BODY_LINES + 1))
    (message,) = asset_size(fat)
    assert message.startswith(f"{PACKAGE}/defs/risk/assets.py:5 asset fat: body of 41 lines")
    assert "(limit 40 lines per asset function" in message


def test_asset_size_leaves_thin_assets_plain_functions_and_other_folders_alone() -> None:
    assert asset_size(synthetic(f"{PACKAGE}/defs/a.py", _asset_source("@dg.asset", MAX_ASSET_BODY_LINES))) == []
    assert asset_size(synthetic(f"{PACKAGE}/defs/a.py", _asset_source("@staticmethod", 80))) == []
    assert asset_size(synthetic(f"{PACKAGE}/reminders/a.py", _asset_source("@dg.asset", 80))) == []


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import sqlalchemy\n", "sqlalchemy"),
        ("from sqlalchemy import select\n", "sqlalchemy"),
        ("import dagster as dg\n", "dagster"),
        ("from reminder_pipeline.ledger.store import Ledger\n", "reminder_pipeline.ledger"),
        ("from ..ledger import schema\n", "reminder_pipeline.ledger"),
        ("from .. import providers\n", "reminder_pipeline.providers"),
        ("from urllib import request\n", "urllib.request"),
        ("import urllib.request\n", "urllib.request"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from twilio.rest import Client\n", "twilio"),
        ("def f() -> None:\n    import subprocess\n", "subprocess"),
    ],
)
def test_core_imports_catch_a_layer_doing_io(source: str, named: str) -> None:
    messages = core_imports(synthetic(f"{PACKAGE}/core/money.py", source))
    assert messages
    assert all(m.startswith(f"{PACKAGE}/core/money.py:") and "forbidden: sqlalchemy, dagster" in m for m in messages)
    assert any(f"imports {named}" in m for m in messages), messages


def test_core_imports_leave_pure_imports_and_other_layers_alone() -> None:
    pure = "import polars as pl\nfrom urllib.parse import quote\nfrom .money import minor\nimport requests_toolbelt\n"
    assert core_imports(synthetic(f"{PACKAGE}/core/money.py", pure)) == []
    assert core_imports(synthetic(f"{PACKAGE}/ledger/store.py", "import sqlalchemy\n")) == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(p: str) -> str:\n    with open(p) as handle:\n        return handle.read()\n",
        "from pathlib import Path\n\n\ndef f(p: Path) -> str:\n    return p.read_text()\n",
        "import os\n\nKEY = os.environ['SECRET']\n",
        "import os\n\nKEY = os.getenv('SECRET')\n",
        "from os import environ\n",
    ],
)
def test_core_io_calls_catch_files_and_the_environment(source: str) -> None:
    (message,) = core_io_calls(synthetic(f"{PACKAGE}/core/policy/config.py", source))
    assert message.startswith(f"{PACKAGE}/core/policy/config.py:")


def test_core_io_calls_leave_pure_code_and_other_layers_alone() -> None:
    pure = "import os\n\nSEP = os.sep\n\n\ndef f(text: str) -> list[str]:\n    return text.splitlines()\n"
    assert core_io_calls(synthetic(f"{PACKAGE}/core/a.py", pure)) == []
    assert core_io_calls(synthetic(f"{PACKAGE}/config_files.py", "x = open('f').read()\n")) == []


@pytest.mark.parametrize(
    "source",
    [
        "from reminder_pipeline_tests.listening.test_inbox_batches import Effects, _statuses\n",
        "from .test_inbox_batches import Effects\n",
        "from ..listening import test_inbox_batches\n",
        "import reminder_pipeline_tests.listening.test_inbox_batches as batches\n",
    ],
)
def test_cross_test_imports_catch_a_test_module_imported(source: str) -> None:
    (message,) = cross_test_imports(synthetic(f"{TESTS}/listening/test_batched_handlers.py", source))
    assert message.startswith(
        f"{TESTS}/listening/test_batched_handlers.py:1 imports the test module {TESTS}.listening.test_inbox_batches:"
    )


def test_cross_test_imports_leave_helpers_conftests_and_the_package_alone() -> None:
    shared = (
        "from reminder_pipeline_tests.listening.batches import Effects\n"
        "from reminder_pipeline_tests.delivery.conftest import FakeClock\n"
        "from reminder_pipeline.listening.inbox import process_events\n"
        "import pytest\n"
    )
    assert cross_test_imports(synthetic(f"{TESTS}/listening/test_batched_handlers.py", shared)) == []
    package = "from reminder_pipeline_tests.listening.test_inbox import x\n"
    assert cross_test_imports(synthetic(f"{PACKAGE}/listening/inbox.py", package)) == []


@pytest.mark.parametrize(
    ("path", "source", "named"),
    [
        (
            f"{PACKAGE}/defs/listening/assets.py",
            "from reminder_pipeline.defs.delivery.assets import DeliveryConfig, delivery_clock\n",
            "reminder_pipeline.defs.delivery.assets",
        ),
        (
            f"{PACKAGE}/defs/listening/automation.py",
            "from ..delivery.automation import ACTIVE\n",
            "reminder_pipeline.defs.delivery.automation",
        ),
        (
            f"{PACKAGE}/defs/risk/assets.py",
            "from reminder_pipeline.defs import ingestion\n",
            "reminder_pipeline.defs.ingestion",
        ),
        (
            f"{PACKAGE}/defs/common/policy.py",
            "from reminder_pipeline.defs.reminders.assets import reminder_plan\n",
            "reminder_pipeline.defs.reminders.assets",
        ),
    ],
)
def test_domain_imports_catch_a_domain_importing_another(path: str, source: str, named: str) -> None:
    (message,) = domain_imports(synthetic(path, source))
    assert message.startswith(f"{path}:1 imports {named}: a domain imports no other domain")


def test_domain_imports_leave_common_own_modules_the_composer_and_other_layers_alone() -> None:
    own = (
        "from reminder_pipeline.defs.common.clock import moving_clock\n"
        "from reminder_pipeline.defs.listening.metadata import status_metadata\n"
        "from .metadata import read_summary\n"
        "from reminder_pipeline.listening.inbox import process_pending\n"
    )
    assert domain_imports(synthetic(f"{PACKAGE}/defs/listening/assets.py", own)) == []
    composing = "from reminder_pipeline.defs.ingestion.resources import BillingSourceResource\n"
    assert domain_imports(synthetic(f"{PACKAGE}/defs/{COMPOSING_DOMAIN}/automation.py", composing)) == []
    gathering = "from reminder_pipeline.defs import delivery, listening\n"
    assert domain_imports(synthetic(f"{PACKAGE}/defs/__init__.py", gathering)) == []
    assert domain_imports(synthetic(f"{PACKAGE}/cli/main.py", composing)) == []
