"""`reminders demo` end to end, then `dagster dev` showing what the demo materialized, and no personal data
in anything the demo logged, stored as Dagster metadata or printed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import phonenumbers
import pytest
from click.testing import CliRunner
from phonenumbers import PhoneNumberFormat

from reminder_pipeline import settings
from reminder_pipeline.cli import main
from reminder_pipeline.demo.run import DemoPlan, WorkdirInUse, prepare
from reminder_pipeline_tests.conftest import PROJECT

DEMO_DAYS = 21
"""Enough for the first reminders of invoices on 14-day terms to be written, and still too few to train a model."""
ASSETS_QUERY = """
{ assetsOrError { ... on AssetConnection { nodes { key { path }
    assetMaterializations(limit: 100) { partition runId } } } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "reminder_pipeline.cli",
            "demo",
            "--workdir",
            str(workdir),
            "--invoices",
            "1500",
            "--days",
            str(DEMO_DAYS),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (workdir / "demo.stderr").write_text(completed.stderr)
    return workdir, completed.stdout


def test_the_demo_summarises_the_ledger(demo: tuple[Path, str]) -> None:
    workdir, output = demo
    assert output.count(f"{DEMO_DAYS} days materialized") == 3, "customers, invoices, payments: every day"
    assert output.count("   7 days materialized") == 5, "features, scores, segments, plan, messages: a week"
    assert "risk_model" in output
    assert "scored by rule" in output, "three weeks are too few to validate a model: the rule score stands in"
    assert "customers per band" in output
    assert "Quarantined rows by reason" in output
    assert "invalid_currency" in output
    assert "one decision per customer" in output
    assert "skipped because:\n    " in output, "one reason a line"
    assert "open invoices by days past due: not yet due: " in output
    assert re.search(r"^Checks: \d+ passed, \d+ warned, \d+ failed$", output, re.MULTILINE)
    assert "risk_model.quality_gate" in output, "too little history: the gate's warning is named in the summary"
    assert "P(late) 100%" not in output
    assert "make ui PORT=" in output
    assert "messages written for" in output
    assert (workdir / "ledger.sqlite").exists()
    assert "DAGSTER_HOME" in _env_file(workdir / "demo.env")


def test_dagster_dev_displays_the_demo_materializations(demo: tuple[Path, str]) -> None:
    workdir, _ = demo
    port = _free_port()
    env = {**os.environ, **_env_file(workdir / "demo.env")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-m", "reminder_pipeline.definitions", "-p", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline, result = time.monotonic() + 180, None
        while time.monotonic() < deadline:
            try:
                result = _graphql(port, ASSETS_QUERY)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(2)
        assert result is not None, "dagster dev did not answer within 180 s"
        nodes = {"/".join(n["key"]["path"]): n for n in result["data"]["assetsOrError"]["nodes"]}  # type: ignore[index]
        ingested = {"customers": DEMO_DAYS, "invoices": DEMO_DAYS, "payments": DEMO_DAYS}
        expected = {**ingested, "customer_features": 7, "risk_scores": 7}
        week = {"customer_segments": 7, "reminder_plan": 7, "rendered_messages": 7}
        for asset, days in {**expected, **week}.items():
            partitions = {m["partition"] for m in nodes[asset]["assetMaterializations"]}
            assert len(partitions) == days, (asset, partitions)
        assert nodes["risk_model"]["assetMaterializations"], "the model step ran (and warned: too little history)"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_demo_uses_its_own_ledger_and_drop_folder_whatever_the_shell_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.DB_URL_ENV, "postgresql+psycopg2://prod@db.example.com/ledger")
    monkeypatch.setenv(settings.SOURCE_CONFIG_ENV, "/etc/reminders/source.yaml")
    plan = DemoPlan(tmp_path, invoices=100, days=3, seed=1, end=date(2026, 3, 3))
    environment = plan.environment()
    assert environment[settings.DB_URL_ENV] == f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert settings.SOURCE_CONFIG_ENV not in environment
    assert environment[settings.DROP_DIR_ENV] == str(tmp_path / "drop")
    tmp_path.mkdir(exist_ok=True)
    written = _env_file(plan.write_env_file())
    assert written[settings.DB_URL_ENV] == plan.ledger_url
    assert written[settings.SOURCE_CONFIG_ENV] == ""


def _small_plan(workdir: Path) -> DemoPlan:
    return DemoPlan(workdir, invoices=100, days=3, seed=1, end=date(2026, 3, 3))


def test_the_demo_does_not_clear_a_folder_it_did_not_make(tmp_path: Path) -> None:
    """``reminders demo --workdir ~`` deleted the home folder: a folder with anything but an earlier demo is left."""
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "photos").mkdir()
    with pytest.raises(WorkdirInUse, match="not a demo's folder"):
        prepare(_small_plan(tmp_path))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt", "photos"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_demo_env_naming_another_folder_does_not_make_a_folder_the_demos(tmp_path: Path) -> None:
    prepare(_small_plan(tmp_path / "demo"))
    moved = (tmp_path / "demo").rename(tmp_path / "moved")
    with pytest.raises(WorkdirInUse):
        prepare(_small_plan(moved))
    assert (moved / "demo.env").read_text().startswith(f"DAGSTER_HOME={tmp_path / 'demo' / 'dagster_home'}\n")


def test_the_demo_uses_an_empty_folder_and_clears_its_own_earlier_one(tmp_path: Path) -> None:
    plan = _small_plan(tmp_path)
    prepare(plan)
    assert plan.holds_a_previous_demo()
    (plan.drop / "2026-03-02").mkdir(parents=True)
    (plan.drop / "2026-03-02" / "invoices.csv").write_text("from the earlier demo")
    prepare(plan)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dagster_home", "demo.env", "link.secret"]
    assert (plan.dagster_home / "dagster.yaml").read_text() == (PROJECT / "dagster.yaml").read_text()


def test_reminders_demo_answers_a_folder_in_use_with_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_demo(*_: object, **__: object) -> None:
        raise AssertionError("the demo ran in the user's folder")

    monkeypatch.setattr("reminder_pipeline.demo.run.generate_demo_data", no_demo)
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["demo", "--workdir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {tmp_path.resolve()} is not empty"), result.stderr
    assert "--workdir" in result.stderr
    assert result.stdout == "", "refused before anything was generated or printed"
    assert (tmp_path / "notes.txt").read_text() == "mine"


NOT_LOGS = {"ledger.sqlite", "drop", "features", "link.secret", "sandbox.jsonl", "sandbox_messages.json"}
"""The ledger itself, the billing system's files and the feature store hold personal data by design, and so
does what the provider sandbox received (the messages themselves, as SendGrid and Twilio keep them)."""
PHONE_LIKE = re.compile(r"\+?\d(?:[\s().-]{0,3}\d){6,}")
NOT_IN_AN_ADDRESS = re.compile(r"[\s\"'<>(),;:\\]+")
"""What ends an address-like token. Splitting on it, rather than searching for ``[^...]+@[^...]+``, keeps the
scan linear: the search backtracks over every position of a long run without an ``@`` (a chart's base64)."""
WORD = re.compile(r"\w+")


@dataclass
class PersonalData:
    """What the demo ledger knows about people, as it may be written anywhere."""

    names: set[str] = field(default_factory=set)
    name_words: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    malformed_emails: set[str] = field(default_factory=set)
    """Those without exactly one ``@``: no address-like token holds them whole, so they are searched as they are."""
    phone_digits: set[str] = field(default_factory=set)
    national_numbers: set[str] = field(default_factory=set)

    def add(self, name: str | None, email: str | None, phone: str | None, country: str | None) -> None:
        if name and name.strip():
            self.names.add(name.strip())
            self.name_words.update(w for w in name.split() if len(w) >= 3)
        if email and email.strip():
            self.emails.add(email.strip().lower())
            if email.count("@") != 1:
                self.malformed_emails.add(email.strip().lower())
        if phone and phone.strip():
            try:
                number = phonenumbers.parse(phone, country)
            except phonenumbers.NumberParseException:
                return
            if not phonenumbers.is_valid_number(number):
                return  # "+1 555", "0000000": quarantined as invalid, and no one's number
            national = phonenumbers.national_significant_number(number)
            self.national_numbers.add(national)
            for form in (PhoneNumberFormat.E164, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
                self.phone_digits.add(re.sub(r"\D", "", phonenumbers.format_number(number, form)))
            self.phone_digits.add(national)

    def found_in(self, text: str) -> list[str]:
        """Every name, address or number of the ledger in ``text``: word by word, in any format.

        A name of one word (鈴木花子) is searched as it is; other names word by word (that covers
        them whole); addresses as address-like tokens, and malformed ones (no single ``@``) as they are.
        """
        found = [n for n in self.names if " " not in n and n in text]
        found += [w for w in WORD.findall(text) if w in self.name_words]
        lowered = text.lower()
        tokens = (token.strip(".") for token in NOT_IN_AN_ADDRESS.split(lowered) if "@" in token)
        found += [e for e in tokens if e in self.emails]
        found += [e for e in self.malformed_emails if e in lowered]
        for run in PHONE_LIKE.findall(text):
            digits = re.sub(r"\D", "", run)
            if digits in self.phone_digits or any(digits[-k:] in self.national_numbers for k in range(7, 16)):
                found.append(run)
        return found


def test_the_search_finds_a_name_an_address_and_a_number_in_any_form_even_after_a_long_run() -> None:
    people = PersonalData()
    people.add("Jane Example", "Jane.Doe@Example.com", "+49 30 12345678", "DE")
    people.add("鈴木花子", "no-at-sign.example.com", None, None)
    chart = "iVBORw0KGgo" * 20_000
    text = f'{{"preview": "{chart} to <jane.doe@example.com>, call 030 1234-5678"}}'
    assert set(people.found_in(text)) == {"jane.doe@example.com", "030 1234-5678"}
    assert set(people.found_in("Dear Jane, 鈴木花子 at no-at-sign.example.com")) == {
        "Jane",
        "鈴木花子",
        "no-at-sign.example.com",
    }
    assert people.found_in(f"{chart} j***@example.com, +49 30 *** **78, Customer C000123") == []


def _personal_data(ledger: Path) -> PersonalData:
    people = PersonalData()
    with sqlite3.connect(ledger) as db:
        for row in db.execute("SELECT name, email, phone, country FROM customers"):
            people.add(*row)
        for (raw,) in db.execute("SELECT raw FROM quarantine WHERE entity = 'customers'"):
            values = json.loads(raw)
            people.add(values.get("name"), values.get("email"), values.get("phone"), values.get("country"))
    return people


def _strings(value: object) -> Iterator[str]:
    """Every string in a stored value, JSON (Dagster's serialized events) decoded at every level."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            yield value
            return
        if isinstance(parsed, dict | list):
            yield from _strings(parsed)
        else:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _cells(database: Path) -> Iterator[str]:
    """Each stored value of every table, decompressed and decoded (one text per value)."""
    with sqlite3.connect(database) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, bytes):
                        with contextlib.suppress(zlib.error):
                            cell = zlib.decompress(cell)
                        cell = cell.decode(errors="replace")
                    if isinstance(cell, str):
                        yield "\n".join(_strings(cell))


def _stored_texts(workdir: Path) -> Iterator[tuple[str, str]]:
    """``(where, text)`` of everything the demo wrote outside the ledger and its inputs: the Dagster instance
    (event logs, runs, schedules: SQLite), compute logs, the materialize log, stderr."""
    for path in sorted(workdir.rglob("*")):
        if not path.is_file() or NOT_LOGS & set(path.relative_to(workdir).parts):
            continue
        where = str(path.relative_to(workdir))
        if path.suffix == ".db":
            for text in _cells(path):
                yield where, text
        else:
            yield where, path.read_text(errors="replace")


def test_no_name_address_or_number_of_the_ledger_is_in_what_the_demo_logged_stored_or_printed(
    demo: tuple[Path, str],
) -> None:
    """Promise 8 end to end: the Dagster event log and run storage, compute logs and printed output."""
    workdir, output = demo
    people = _personal_data(workdir / "ledger.sqlite")
    assert min(len(people.emails), len(people.national_numbers)) > 500
    assert len(people.names) > 50, "names repeat; every one of them is searched"
    assert "Subject:" in output, "a message is printed: the customer's name was at hand"
    leaks: dict[str, set[str]] = {}
    searched = 0
    for where, text in [("printed output", output), *_stored_texts(workdir)]:
        searched += 1
        if found := people.found_in(text):
            leaks.setdefault(where, set()).update(found)
    assert searched > 1000, "the event log was read"
    assert not leaks, {where: sorted(found)[:5] for where, found in leaks.items()}
