"""The project's code and the code it generates are ruff-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.pipeline import Options, build

ROOT = Path(__file__).resolve().parent.parent
RULES = "--select=E,W,F,I,UP,B"


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run([ruff, *args], capture_output=True, text=True, cwd=ROOT)


def test_project_code_is_ruff_clean() -> None:
    done = _ruff("check", "generator", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_sample_is_ruff_clean() -> None:
    done = _ruff("check", "--no-cache", RULES, "--line-length=100", "generated")
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_libdxg_module_is_ruff_clean(corpus: Path, tmp_path: Path) -> None:
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", rules=()))
    (tmp_path / "d3dkmthk.py").write_text(result.text)
    (tmp_path / "d3dkmthk.pyi").write_text(result.stub)
    done = _ruff("check", "--no-cache", "--isolated", RULES, "--line-length=100", str(tmp_path))
    assert done.returncode == 0, done.stdout[:3000]
