"""The cache: a warm run gives the cold run's bytes, and an entry is used only while
every input it was made from is unchanged; damaged or foreign entries are ignored."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from generator import cache as cache_module
from generator.cli import main, sample_dir
from generator.inputs import page_files, shipped_rules_path
from generator.options import Options
from generator.outputs import outputs


def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sdk"
    shutil.copytree(sample_dir(), folder)
    return folder / "d3dkmthk.h"


def _generate(header: Path, out: Path, cache: Path, *extra: str) -> int:
    return main(["generate", "--header", str(header), "--docs", str(header.parent / "docs"),
                 "--out", str(out), "--cache-dir", str(cache), *extra])  # fmt: skip


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_warm_run_gives_the_same_bytes_and_no_cache_writes_none(tmp_path: Path) -> None:
    header = _copy_sample(tmp_path)
    cache = tmp_path / "cache"
    assert _generate(header, tmp_path / "cold", cache, "--no-cache") == 0
    assert not cache.exists()
    assert _generate(header, tmp_path / "first", cache) == 0
    kinds = {p.name for p in cache.iterdir()} - {"templates"}  # (unless kept beside them)
    assert kinds == {"analysis", "pages", "outputs"}
    assert _generate(header, tmp_path / "warm", cache) == 0
    assert _files(tmp_path / "cold") == _files(tmp_path / "first") == _files(tmp_path / "warm")


def test_templates_compiled_by_an_earlier_run_give_the_same_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run on a changed header takes the templates an earlier process compiled
    from the cache, and prints what a run that compiles them prints."""
    import jinja2

    from generator import render

    header = _copy_sample(tmp_path)
    cache = tmp_path / "cache"
    assert _generate(header, tmp_path / "first", cache) == 0
    header.write_text(header.read_text() + "\n#define CACHE_PROBE 12345\n")
    assert _generate(header, tmp_path / "fresh", cache, "--no-cache") == 0
    render._environment.cache_clear()  # as in a new process

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was compiled again")

    with monkeypatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", compile_again)
        assert _generate(header, tmp_path / "second", cache) == 0
    assert _files(tmp_path / "second") == _files(tmp_path / "fresh")


def test_templates_compiled_beside_them_serve_runs_without_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Python keeps .pyc beside a module: the compiled templates are kept beside
    the templates, used by later runs (--no-cache too), and not written where
    bytecode may not be."""
    import jinja2

    from generator import render

    templates = tmp_path / "templates"
    shutil.copytree(render.templates_dir(), templates, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(render, "templates_dir", lambda: templates)
    header = _copy_sample(tmp_path)
    render._environment.cache_clear()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert _generate(header, tmp_path / "unkept", tmp_path / "c", "--no-cache") == 0
    assert not (templates / "__pycache__").exists()
    render._environment.cache_clear()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert _generate(header, tmp_path / "first", tmp_path / "c", "--no-cache") == 0
    assert list((templates / "__pycache__" / "templates").rglob("*"))
    render._environment.cache_clear()  # as in a new process

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was compiled again")

    with monkeypatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", compile_again)
        assert _generate(header, tmp_path / "second", tmp_path / "c", "--no-cache") == 0
    assert _files(tmp_path / "second") == _files(tmp_path / "first") == _files(tmp_path / "unkept")
    render._environment.cache_clear()


def test_names_the_templates_bind_are_kept_beside_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import spelling

    templates = tmp_path / "templates"
    shutil.copytree(
        spelling.templates_dir(), templates, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(spelling, "templates_dir", lambda: templates)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    spelling._template_names.cache_clear()
    read = spelling._template_names()
    assert (
        read == spelling._read_template_names() and (templates / "__pycache__" / "names").is_dir()
    )
    spelling._template_names.cache_clear()

    def read_again() -> None:
        raise AssertionError("the templates were parsed again")

    monkeypatch.setattr(spelling, "_read_template_names", read_again)
    assert spelling._template_names() == read
    spelling._template_names.cache_clear()


def test_a_changed_input_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    header = _copy_sample(tmp_path)
    cache, out = tmp_path / "cache", tmp_path / "out"
    assert _generate(header, out, cache) == 0
    header.write_text(header.read_text() + "\n#define CACHE_PROBE 12345\n")
    assert _generate(header, out, cache) == 0
    assert "CACHE_PROBE = 12345" in (out / "d3dkmthk.py").read_text()
    page = next((header.parent / "docs").glob("ns-*.md"))
    page.write_text(page.read_text().replace("OpenGL ICD", "OpenGL Teh"))
    assert _generate(header, out, cache) == 0
    assert "Teh" in (out / "d3dkmthk.py").read_text()


def test_an_included_header_that_changes_invalidates_the_entry(tmp_path: Path) -> None:
    folder = tmp_path / "inc"
    folder.mkdir()
    (folder / "top.h").write_text('#include "part.h"\ntypedef struct _T { PART p; } T;\n')
    (folder / "part.h").write_text("typedef struct _PART { UINT a; } PART;\n")
    cache, out = tmp_path / "cache", tmp_path / "out"
    args = ["--rules", "/dev/null"]
    assert main(["generate", "--header", str(folder / "top.h"), "--out", str(out),
                 "--cache-dir", str(cache), *args]) == 0  # fmt: skip
    (folder / "part.h").write_text("typedef struct _PART { ULONGLONG a; } PART;\n")
    assert main(["generate", "--header", str(folder / "top.h"), "--out", str(out),
                 "--cache-dir", str(cache), *args]) == 0  # fmt: skip
    assert "c_uint64" in (out / "top.py").read_text()


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_damaged_or_foreign_entries_are_ignored(tmp_path: Path, damage: str) -> None:
    header = _copy_sample(tmp_path)
    cache = tmp_path / "cache"
    assert _generate(header, tmp_path / "first", cache) == 0
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        data = entry.read_bytes()
        if damage == "truncate":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            entry.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
        else:  # written by another version of the generator
            entry.write_bytes(data.replace(b"cache 1\n", b"cache 0\n", 1))
    assert _generate(header, tmp_path / "second", cache) == 0
    assert _files(tmp_path / "first") == _files(tmp_path / "second")


def test_another_generator_version_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = cache_module.Cache(tmp_path)
    cache.put("x", cache_module.key("probe"), "value")
    assert cache.get("x", cache_module.key("probe")) == "value"
    monkeypatch.setattr(cache_module, "fingerprint", lambda: "another version")
    assert cache.get("x", cache_module.key("probe")) is None


def test_runs_at_once_share_the_cache(tmp_path: Path) -> None:
    header = _copy_sample(tmp_path)
    cache = tmp_path / "cache"
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "generator",
                "generate",
                "--header",
                str(header),
                "--docs",
                str(header.parent / "docs"),
                "--out",
                str(tmp_path / f"out{i}"),
                "--cache-dir",
                str(cache),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for i in range(4)
    ]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    assert len({tuple(_files(tmp_path / f"out{i}").items()) for i in range(4)}) == 1
    assert not [p for p in cache.rglob(".tmp-*")]


def test_a_cold_run_reads_each_input_once_to_hash_and_once_to_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = _copy_sample(tmp_path)
    pages = page_files(header.parent / "docs")
    reads: Counter[Path] = Counter()
    read_bytes = Path.read_bytes

    def counted(self: Path) -> bytes:
        reads[self.resolve()] += 1
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counted)
    options = Options(header, docs=(header.parent / "docs",), cache_dir=tmp_path / "cache")
    outputs(options, layout_json=False, report_json=False)  # pages read in this process
    expected = [header, shipped_rules_path(), *pages]
    assert {p.name: reads[p.resolve()] for p in expected} == {p.name: 2 for p in expected}


# What a run must not import (the stages' libraries) when it has no use for them.
_PROBE = """
import sys
from generator.cli import main
{run}
heavy = ("pcpp", "pycparser", "jinja2", "markdown_it", "yaml", "generator.preprocess",
         "generator.parse", "generator.render")
print("imported:", *(name for name in heavy if name in sys.modules))
"""


def _imported(run: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(run=run)], capture_output=True, text=True, check=True
    )
    return done.stdout.rsplit("imported:", 1)[1].split()


def test_a_warm_run_imports_no_stage(tmp_path: Path) -> None:
    header = _copy_sample(tmp_path)
    assert _generate(header, tmp_path / "out", tmp_path / "cache") == 0
    args = ["generate", "--header", str(header), "--docs", str(header.parent / "docs"),
            "--out", str(tmp_path / "warm"), "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert _imported(f"assert main({args!r}) == 0") == []


def test_pages_are_read_without_the_preprocessor_parser_or_templates(tmp_path: Path) -> None:
    # The page reader's process starts before the stages are imported: it reads
    # pages with markdown-it and PyYAML only.
    docs = sample_dir() / "docs"
    run = f"from generator.pages import _read_pages\nassert _read_pages([{str(docs)!r}])[0]"
    assert _imported(run) == ["markdown_it", "yaml"]


def test_library_versions_are_those_importlib_metadata_reads() -> None:
    from importlib import metadata

    found = cache_module._installed_versions(cache_module._LIBRARIES)
    assert found == {name: metadata.version(name) for name in cache_module._LIBRARIES}
