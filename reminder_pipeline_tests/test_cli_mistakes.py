"""Issue 8: every ``reminders`` command answers a user's mistake with one line and exit code 2, never a traceback.

The commands are enumerated from the click group, so a new one is walked too (and must be given its
valid arguments below). Each is given a wrong path for every path option, every bad database URL
for its ``--db`` (and through ``$REMINDERS_DB_URL``), an unknown option and bad option values.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reminder_pipeline import settings
from reminder_pipeline.cli import main
from reminder_pipeline_tests.cli_commands import COMMANDS, CommandPath
from reminder_pipeline_tests.ingestion.helpers import write_csv

HISTORY = "invoice_id,customer_id,issue_date,due_date,amount,currency,paid_date\n" + "\n".join(
    f"I{n},C{n % 7},2025-{1 + n % 12:02}-01,2025-{1 + n % 12:02}-28,{100 + n}.00,EUR," for n in range(60)
)


def _valid_arguments(folder: Path) -> dict[CommandPath, dict[str, str]]:
    """Arguments each command accepts, so that a mutation of one of them is what goes wrong."""
    customers = write_csv(folder / "customers.csv", "customer_id,email\nC1,c1@example.com")
    history = write_csv(folder / "history.csv", HISTORY)
    mapping = folder / "mapping.yaml"
    mapping.write_text("entity: invoices\n")
    ledger = f"sqlite:///{folder / 'ledger.sqlite'}"
    return {
        ("db", "upgrade"): {"--db": ledger},
        ("deliver",): {"--db": ledger, "--channel": "email"},
        ("sandbox",): {"--port": "0", "--log": str(folder / "sandbox" / "messages.jsonl")},
        ("serve",): {"--db": ledger, "--port": "0"},
        ("listen",): {"--db": ledger, "--queue": "reminders.cli-mistakes"},
        ("replies", "classify"): {"--today": "2026-03-10"},
        ("demo",): {"--workdir": str(folder / "demo"), "--invoices": "300", "--days": "40"},
        ("evaluate",): {"--history": str(history), "--mapping": str(mapping), "--split-date": "2025-07-01"},
        ("ingest",): {"--file": str(customers), "--entity": "customers", "--db": ledger},
        ("preview",): {"--locale": "de_DE", "--step": "reminder"},
        ("quarantine",): {"--db": ledger},
        ("simulate",): {"--days": "2", "--customers": "20", "--workdir": str(folder / "simulation")},
        ("users", "add"): {"--db": ledger, "--username": "cora", "--role": "collector"},
        ("users", "set-password"): {"--db": ledger, "--username": "cora"},
        ("users", "set-role"): {"--db": ledger, "--username": "cora", "--role": "viewer"},
        ("users", "disable"): {"--db": ledger, "--username": "cora"},
        ("users", "enable"): {"--db": ledger, "--username": "cora"},
        ("users", "list"): {"--db": ledger},
    }


BAD_VALUES: dict[CommandPath, list[tuple[str, str]]] = {
    ("db", "upgrade"): [],
    ("serve",): [("--port", "70000"), ("--workers", "0"), ("--host", "not..a..host")],
    ("listen",): [
        ("--prefetch", "0"),
        ("--batch-size", "5000"),
        ("--amqp-url", "notaurl"),
        ("--amqp-url", "http://127.0.0.1/"),
        ("--amqp-url", "amqp://127.0.0.1:notaport/"),
    ],
    ("replies", "classify"): [("--today", "2026-13-01")],
    ("sandbox",): [("--port", "70000"), ("--faults", "error_rate=2"), ("--faults", "bogus")],
    ("deliver",): [("--channel", "fax"), ("--at", "tomorrow"), ("--batch-size", "0"), ("--per-second", "0")],
    ("demo",): [("--days", "many"), ("--invoices", "lots")],
    ("evaluate",): [("--split-date", "2025-13-01"), ("--split-date", "1900-01-01"), ("--exclude", "colour")],
    ("ingest",): [("--business-date", "2026-02-30"), ("--entity", "orders")],
    ("preview",): [
        ("--channel", "fax"),
        ("--invoices", "0"),
        ("--locale", "xx_YY"),
        ("--locale", "de-DE-!"),
        ("--ladder", "gentle"),
        ("--step", "collector"),
    ],
    ("quarantine",): [("--limit", "0"), ("--reason", "invalid_amout")],
    ("simulate",): [
        ("--days", "0"),
        ("--customers", "many"),
        ("--seeds", "0"),
        ("--faults", "bogus"),
        ("--faults", "error_rate=2"),
        ("--faults", "kill_delivery=-1"),
        ("--faults", "outage_days=5"),
    ],
    ("users", "add"): [("--role", "boss"), ("--username", "no spaces")],
    ("users", "set-password"): [("--username", "no spaces")],
    ("users", "set-role"): [("--role", "boss"), ("--username", "no spaces")],
    ("users", "disable"): [("--username", "no spaces")],
    ("users", "enable"): [("--username", "no spaces")],
    ("users", "list"): [],
}
"""A bad value per option that can take one, and the value the message must quote (or the option it must name)."""


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _bad_urls(folder: Path, closed_port: int) -> dict[str, str]:
    return {
        "unknown dialect": "sqlit:///x.sqlite",
        "malformed": "not a url at all",
        "another database": "mysql://user@127.0.0.1/ledger",
        "unknown driver": "postgresql+nodriver://user@127.0.0.1/ledger",
        "driver not installed": "postgresql+psycopg://user@127.0.0.1/ledger",
        "nothing listens": f"postgresql+psycopg2://postgres:secret@127.0.0.1:{closed_port}/ledger",
        "no such folder": f"sqlite:///{folder / 'no' / 'such' / 'folder' / 'ledger.sqlite'}",
        "not a database": f"sqlite:///{folder / 'not_a_ledger.txt'}",
    }


Case = tuple[CommandPath, list[str], dict[str, str], str]
"""(command, arguments, environment, something the error line must contain)."""


def _arguments(path: CommandPath, command: click.Command, options: dict[str, str]) -> list[str]:
    as_json = ["--json"] if any(p.name == "as_json" for p in command.params) else []
    return [*path, *(token for item in options.items() for token in item), *as_json]


@pytest.fixture
def cases(tmp_path: Path, closed_port: int) -> list[Case]:
    (tmp_path / "a_file").write_text("a file, not a folder")
    (tmp_path / "not_a_ledger.txt").write_text("hello")
    wrong_path = str(tmp_path / "a_file" / "missing")
    valid = _valid_arguments(tmp_path)
    found: list[Case] = []
    for path, command in COMMANDS.items():
        base = valid[path]
        found.append((path, [*_arguments(path, command, base), "--no-such-option"], {}, "--no-such-option"))
        for option, value in BAD_VALUES[path]:
            found.append((path, _arguments(path, command, base | {option: value}), {}, value))
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(param.type, click.Path):
                found.append((path, _arguments(path, command, base | {param.opts[0]: wrong_path}), {}, param.opts[0]))
            if param.name in ("db_url", "ledger_url"):  # simulate's --db: a fresh ledger, never $REMINDERS_DB_URL
                for url in _bad_urls(tmp_path, closed_port).values():
                    found.append((path, _arguments(path, command, base | {"--db": url}), {}, "ledger"))
            if param.name == "db_url":
                without_db = {k: v for k, v in base.items() if k != "--db"}
                bad_env = {settings.DB_URL_ENV: "sqlit:///x.sqlite"}
                found.append(
                    (path, _arguments(path, command, without_db), bad_env, f"(the URL is ${settings.DB_URL_ENV})")
                )
    return found


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _error_line_problem(result: Result, marker: str, args: list[str]) -> str | None:
    """What is wrong with the answer to a mistake, if anything."""
    lines = result.stderr.splitlines()
    if result.exit_code != 2 or not isinstance(result.exception, SystemExit) or "Traceback" in result.output:
        return f"{args}: exit {result.exit_code}, {result.exception!r}\n{result.output}"
    if len(lines) != 1 or not lines[0].startswith("error: ") or marker not in lines[0]:
        return f"{args}: not one error line naming {marker!r}:\n{result.stderr}"
    if "--json" in args and json.loads(result.stdout or "null") != {"error": lines[0].removeprefix("error: ")}:
        return f"{args}: stdout is not the error as JSON: {result.stdout!r}"
    return None


def _assert_one_error_line(result: Result, marker: str, args: list[str]) -> None:
    problem = _error_line_problem(result, marker, args)
    assert problem is None, problem


def test_every_command_has_valid_arguments_and_bad_values_to_try(tmp_path: Path) -> None:
    """A new command fails here until the walk below knows how to call it."""
    assert set(COMMANDS) == set(_valid_arguments(tmp_path)) == set(BAD_VALUES)


def test_every_command_answers_every_mistake_with_one_line_and_exit_2(
    cases: list[Case], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_demo(*_: object) -> None:
        raise AssertionError("the demo ran: the mistake was not caught")

    monkeypatch.setattr("reminder_pipeline.demo.run.run", no_demo)
    monkeypatch.delenv(settings.DB_URL_ENV, raising=False)
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "home"))
    walked = {path for path, *_ in cases}
    assert walked == set(COMMANDS)
    problems = [_error_line_problem(_invoke(args, env), marker, args) for _, args, env, marker in cases]
    assert [p for p in problems if p] == []
    assert len(cases) > 40
    assert not (tmp_path / "ledger.sqlite").exists(), "a refused URL created a ledger"
    assert not (tmp_path / "home").exists()
    assert not (tmp_path / "no").exists()


def test_a_password_in_a_bad_url_is_not_shown(closed_port: int) -> None:
    url = f"postgresql+psycopg2://postgres:hunter2@127.0.0.1:{closed_port}/ledger"
    result = _invoke(["db", "upgrade", "--db", url])
    assert result.exit_code == 2
    assert "hunter2" not in result.output
    assert f"127.0.0.1:{closed_port}" in result.stderr


def test_a_read_only_command_does_not_create_a_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 8: ``reminders quarantine`` without ``--db`` silently created an empty ledger."""
    monkeypatch.delenv(settings.DB_URL_ENV, raising=False)
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "home"))
    result = _invoke(["quarantine"])
    _assert_one_error_line(result, f"no ledger at sqlite:///{tmp_path / 'home' / 'ledger.sqlite'}", ["quarantine"])
    assert "reminders db upgrade" in result.stderr
    missing = tmp_path / "missing.sqlite"
    _assert_one_error_line(_invoke(["quarantine", "--db", f"sqlite:///{missing}"]), "no ledger", [])
    assert not missing.exists()
    assert not (tmp_path / "home").exists()


def test_a_read_only_command_refuses_a_database_without_a_ledger(postgres_url: str) -> None:
    result = _invoke(["quarantine", "--db", postgres_url, "--json"])
    _assert_one_error_line(result, "the database holds none", ["--json"])
    assert _invoke(["db", "upgrade", "--db", postgres_url]).exit_code == 0
    listing = _invoke(["quarantine", "--db", postgres_url, "--json"])
    assert listing.exit_code == 0, listing.output
    assert json.loads(listing.stdout)["counts"] == {}


def test_the_embedded_default_ledger_is_still_made_with_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(settings.DB_URL_ENV, raising=False)
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "home"))
    assert _invoke(["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "home" / "ledger.sqlite").is_file()
    assert _invoke(["quarantine"]).stdout.strip() == "the quarantine is empty"


@pytest.mark.parametrize(
    "mapping",
    [
        "columns:\n  custmer_id: customerID\n",
        "columns: [invoice_id]\n",
        "columns: {invoice_id: invoiceNumber\n",
        "\x00\x01binary",
    ],
)
def test_a_bad_mapping_is_one_line_and_exit_2(tmp_path: Path, mapping: str, sqlite_url: str) -> None:
    history = write_csv(tmp_path / "history.csv", HISTORY)
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping)
    for args in (
        ["ingest", "--file", str(history), "--mapping", str(path), "--db", sqlite_url, "--json"],
        ["evaluate", "--history", str(history), "--mapping", str(path), "--split-date", "2025-07-01", "--json"],
    ):
        result = _invoke(args)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"error: {path}"), result.stderr
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview", "--templates", "/nonexistent"], "Directory '/nonexistent' does not exist"),
        (["ingest", "--file", "{csv}", "--db", "sqlit:///x.sqlite"], "the ledger URL names the database 'sqlit'"),
        (["quarantine"], "no ledger at"),
    ],
)
def test_the_mistakes_of_the_issue_through_the_real_console(tmp_path: Path, args: list[str], message: str) -> None:
    """As a user runs them: a separate process, its real stderr."""
    history = write_csv(tmp_path.parent / f"{tmp_path.name}.csv", HISTORY)
    command = [sys.executable, "-m", "reminder_pipeline.cli", *(a.replace("{csv}", str(history)) for a in args)]
    environment = {"PATH": "/usr/bin:/bin", settings.DATA_DIR_ENV: str(tmp_path / "home")}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path, env=environment)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert completed.stderr.startswith("error: "), completed.stderr
    assert message in completed.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is created"
