"""Docstrings from reference pages: both page generations, escaping, coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import load_module

from generator.cli import sample_dir
from generator.pipeline import Options, build

PAGE = "ns-d3dkmthk-_d3dkmt_destroyallocation.md"


def _doc(tmp_path: Path, docs: Path, name: str) -> str:
    result = build(Options(sample_dir() / "d3dkmthk.h", docs=(docs,)))
    out = tmp_path / f"{name}.py"
    out.write_text(result.text, encoding="utf-8")
    return load_module(out, name).D3DKMT_DESTROYALLOCATION.__doc__


def test_2018_and_2024_pages_give_the_same_docstring(corpus: Path, tmp_path: Path) -> None:
    newer = tmp_path / "docs2024"
    newer.mkdir()
    shutil.copy(corpus / "docs" / "d3dkmthk" / PAGE, newer / PAGE)
    old = _doc(tmp_path, sample_dir() / "docs", "doc2018")
    new = _doc(tmp_path, newer, "doc2024")
    assert old == new
    assert "[in]" in new and "<" not in new


def test_quotes_backslashes_and_control_characters_survive(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    page = (sample_dir() / "docs" / PAGE).read_text(encoding="utf-8")
    nasty = 'Ends with """ and a \\ backslash, a tab\there and a bell\x07 then "'
    # The description section (not the front matter, which must stay valid YAML).
    head, _, tail = page.rpartition(
        "The D3DKMT_DESTROYALLOCATION structure describes parameters for releasing allocations."
    )
    page = head + nasty + tail
    (docs / PAGE).write_text(page, encoding="utf-8")
    doc = _doc(tmp_path, docs, "nasty")
    assert '"""' in doc and "\\ backslash" in doc and "\x07" in doc


def test_libdxg_documentation_coverage(corpus: Path) -> None:
    docs = (corpus / "docs" / "d3dkmthk", corpus / "docs" / "d3dukmdt")
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", docs=docs, rules=()))
    counts = result.report["counts"]
    records, members = counts["paged_records"], counts["paged_members"]
    assert records["total"] >= 400  # records of the header that have a page
    assert records["page"] >= 0.95 * records["total"]  # ... and got its description
    # Of the members of records that have a page, those without page text are the
    # page's own empty '### -field' bodies (353 in this corpus) and members the
    # pages predate (41); every other one gets its page text.
    assert members["page"] >= 0.80 * members["total"]
    assert counts["functions"]["page"] >= 0.95 * counts["functions"]["total"]
    assert counts["callbacks"]["page"] >= 0.95 * counts["callbacks"]["total"]
    mismatches = result.report["mismatches"]
    assert mismatches and all(m["page"].endswith(".md") for m in mismatches)
    missing = [m for m in mismatches if "member" in m]
    assert {"page", "record", "member"} <= set(missing[0])
    assert any(m["member"] == "UserModeSubmission" for m in missing)  # the docs drift
    for record in ("D3DKMT_CREATEALLOCATION", "D3DKMT_LOCK", "D3DKMT_CREATEDEVICE"):
        assert (
            "Reference: https://learn.microsoft.com/"
            in result.text.split(f"class {record}(", 1)[1].split('"""', 2)[1]
        )


def test_pages_read_in_a_second_process_give_the_same_result(corpus: Path) -> None:
    docs = (corpus / "docs" / "d3dkmthk", corpus / "docs" / "d3dukmdt")
    header = corpus / "headers" / "wine" / "d3dkmthk.h"
    serial = build(Options(header, docs=docs, rules=()))
    parallel = build(Options(header, docs=docs, rules=(), parallel=True))
    assert parallel.text == serial.text and parallel.stub == serial.stub
    assert parallel.report == serial.report
