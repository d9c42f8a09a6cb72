"""The Makefile's uv bootstrap on a machine without python3-venv (Debian/Ubuntu default)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reminder_pipeline_tests.conftest import PROJECT

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  "-m venv "*) mkdir -p "$2/bin"; echo "ensurepip is not available" >&2; exit 1 ;;
  *--break-system-packages*)
    mkdir -p "$USER_BASE/bin"
    printf '#!/bin/sh\\necho uv 0.0.0\\n' > "$USER_BASE/bin/uv"
    chmod +x "$USER_BASE/bin/uv"
    exit 0 ;;
  "-m pip install --quiet --user uv") echo "error: externally-managed-environment" >&2; exit 1 ;;
  "-m site --user-base") echo "$USER_BASE"; exit 0 ;;
esac
exit 2
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_uv_is_installed_with_pip_user_when_venv_is_missing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT / "Makefile", project / "Makefile")
    python = tmp_path / "python3"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    calls, user_base = tmp_path / "calls.log", tmp_path / "user"
    env = {**os.environ, "CALLS": str(calls), "USER_BASE": str(user_base)}
    completed = subprocess.run(
        ["make", "-C", str(project), f"PYTHON={python}", f"{project}/.tools/bin/uv"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert calls.read_text().splitlines() == [
        f"-m venv {project}/.tools",
        "-m pip install --quiet --user uv",
        "-m pip install --quiet --user --break-system-packages uv",
        "-m site --user-base",
    ]
    uv = project / ".tools" / "bin" / "uv"
    assert subprocess.run([str(uv)], capture_output=True, text=True, check=True).stdout == "uv 0.0.0\n"
