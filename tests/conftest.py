"""Shared fixtures: the corpus of real headers and pages, and module loading."""

from __future__ import annotations

import difflib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CORPUS_HELP = (
    "set D3DKMT_CORPUS to a folder with headers/<sdk>/d3dkmthk.h and docs/d3dkmthk "
    "(the corpus beside the checkout: D3DKMT_CORPUS=../shared/corpus), "
    "or point the generator at your SDK with --header/-I/--docs"
)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI caches in the user's cache folder (XDG_CACHE_HOME on Linux): the tests
    use one of their own, shared by the session, and never the user's."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The corpus folder from D3DKMT_CORPUS; skips the test when it is not set."""
    value = os.environ.get("D3DKMT_CORPUS")
    if not value:
        pytest.skip(CORPUS_HELP)
    path = Path(value)
    if not (path / "headers").is_dir():
        pytest.fail(f"D3DKMT_CORPUS={value} has no headers/ folder")
    return path


def load_module(path: Path, name: str | None = None) -> ModuleType:
    """Import a generated module from a file under a unique name."""
    name = name or f"generated_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def assert_golden(actual: str, golden: Path) -> None:
    """Compare with a golden file; UPDATE_GOLDEN=1 rewrites it instead."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8") if golden.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), str(golden), "generated"
            )
        )
        pytest.fail(
            f"{golden.name} differs from the generated text:\n{diff}\n"
            "If the change is intended, regenerate with UPDATE_GOLDEN=1 pytest "
            "and review the diff before committing.",
            pytrace=False,
        )
