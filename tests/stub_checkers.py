"""Run mypy and pyright, both ``--strict``, over files in one folder; collect their errors.

Each checker runs once per call over all the files given, so a stub and the
usage files that import it cost one start of each. Both check as Python 3.10,
the oldest the generated code supports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CHECKERS = ("mypy", "pyright")
PYTHON_VERSION = "3.10"
_MYPY_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): error: (?P<message>.*)$", re.M)


@dataclass(frozen=True)
class Diagnostic:
    """One error: the file's name (in the folder), its 1-based line, the message."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def tool(name: str) -> str:
    """The checker's command, from the running environment; skips the test without it."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def run(checker: str, folder: Path, files: list[str]) -> list[Diagnostic]:
    """The errors ``checker`` finds in ``files`` (names in ``folder``), warnings left out."""
    if checker == "mypy":
        return _mypy(folder, files)
    return _pyright(folder, files)


def _mypy(folder: Path, files: list[str]) -> list[Diagnostic]:
    command = [tool("mypy"), "--strict", "--no-incremental", "--no-error-summary",
               "--hide-error-context", "--no-pretty", "--python-version", PYTHON_VERSION,
               *files]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    found = [Diagnostic(m["file"], int(m["line"]), m["message"])
             for m in _MYPY_LINE.finditer(done.stdout)]  # fmt: skip
    # Exit status 1 is "errors found"; anything else (a crash, a usage error) is no verdict.
    assert done.returncode in (0, 1) and (found or done.returncode == 0), done.stdout + done.stderr
    return found


def _pyright(folder: Path, files: list[str]) -> list[Diagnostic]:
    # The folder's own config, so that no pyproject.toml above it changes the rules.
    config = {"typeCheckingMode": "strict", "pythonVersion": PYTHON_VERSION}
    (folder / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run([tool("pyright"), "--outputjson", *files],
                          capture_output=True, text=True, cwd=folder)  # fmt: skip
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr
    report = json.loads(done.stdout)
    return [
        Diagnostic(Path(d["file"]).name, d["range"]["start"]["line"] + 1, d["message"])
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
