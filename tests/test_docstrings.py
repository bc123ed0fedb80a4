"""Docstrings from reference pages: both page generations, escaping, coverage."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import pytest
from conftest import load_module
from doc_glitches import docstrings, glitches, scan

from generator.cli import sample_dir
from generator.pipeline import Options, build
from generator.render import sphinx_comment

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


# -- glitches -------------------------------------------------------------------------
# doc_glitches.py scans every docstring of a module; these tests hold the
# generator to zero of each kind on the real headers, and show on small inputs
# that each kind is both caught by the scanner and not produced by the generator.

CORPUS_DOCS = ("d3dkmthk", "d3dukmdt")


def _write(tmp_path: Path, result: object, name: str) -> tuple[Path, Path]:
    py, pyi = tmp_path / f"{name}.py", tmp_path / f"{name}.pyi"
    py.write_text(result.text, encoding="utf-8")  # type: ignore[attr-defined]
    pyi.write_text(result.stub, encoding="utf-8")  # type: ignore[attr-defined]
    return py, pyi


@pytest.mark.parametrize("sdk", ["libdxg", "wine", "reactos"])
def test_no_docstring_glitches_in_corpus_modules(corpus: Path, tmp_path: Path, sdk: str) -> None:
    docs = tuple(corpus / "docs" / folder for folder in CORPUS_DOCS)
    result = build(Options(corpus / "headers" / sdk / "d3dkmthk.h", docs=docs, rules=()))
    found = scan(*_write(tmp_path, result, sdk))
    assert {kind: items[:3] for kind, items in found.items() if items} == {}
    # The scanner did read the module: every record, function and callback.
    text = result.text
    assert len(list(docstrings(text))) > text.count("\nclass ") + text.count("= _Function(")


@pytest.mark.parametrize(
    ("kind", "doc"),
    [
        ("repeated direction", "X.\n\nArgs:\n    a (T*):\n        [in, out] pData [in, out]\n"),
        ("SAL token", "X.\n\nAttributes:\n    p (void*):\n        _Inout_bytecount_(n) text\n"),
        ("C declaration", "X.\n\nAttributes:\n    hAdapter (H):\n        D3DKMT_HANDLE hAdapter\n"),
        ("C declaration", "X.\n\nAttributes:\n    Flags (F):\n        [in] Flags\n"),
        ("hex mask comment", "X.\n\nAttributes:\n    A (UINT : 1):\n        0x00000040\n"),
        ("hex mask comment", "X.\n\nAttributes:\n    A (UINT : 1):\n        0x0040 // in: x\n"),
        ("name-only docstring", "D3DKMTFoo.\n\nReturns:\n    void\n"),
        ("doubled space or punctuation", "Some  text."),
        ("doubled space or punctuation", "A value . Then"),
        ("HTML or markdown", "The <b>Flags</b> member."),
        ("HTML or markdown", "The **Flags** member."),
    ],
)
def test_scanner_catches_each_kind(kind: str, doc: str) -> None:
    found = glitches(doc, "D3DKMTFoo")
    assert found[kind], found
    assert not any(items for other, items in found.items() if other != kind)


def test_scanner_leaves_good_text_alone() -> None:
    doc = (
        "The D3DKMT_X structure.\n\nAttributes:\n    Flags (UINT : 1):\n        [in] Bit 6."
        "\n    Reserved (UINT):\n        Reserved.\n\n    Code::\n\n        x  = 1  // c\n"
        "\n    | a  | b |\n\nReference: https://learn.microsoft.com/x_(y)\n"
    )
    assert not any(glitches(doc, "D3DKMT_X").values())


SYNTHETIC = """\
typedef UINT D3DKMT_HANDLE;

typedef struct _D3DKMT_FLAGS
{
    UINT Bit0 : 1;   // 0x00000001
    UINT Two  : 2;   // 0x00000006  // in: two bits
    UINT Off  : 1;   // 0x00000010  Stale mask
    UINT Rest : 28;  // 0xFFFFFFF0 _ADVSCH_
} D3DKMT_FLAGS;

typedef struct _D3DKMT_THING
{
    D3DKMT_HANDLE hDevice;   // in
    D3DKMT_FLAGS  Flags;     // in: Flags
    UINT          Count;     // in opt : how many
} D3DKMT_THING;

#define D3DKMT_LONE 7 // A trailing comment

//
// Group heading.
//
#define D3DKMT_FIRST 1
#define D3DKMT_SECOND 2

// Separated by a blank line: not a doc.

#define D3DKMT_UNDOCUMENTED 3
#ifdef D3DKMT_FIRST // a directive's comment
#endif // D3DKMT_FIRST
#define D3DKMT_AFTER_DIRECTIVE 4
// TODO: developer note
//
// Described after a note.
#define D3DKMT_NOTED 5

EXTERN_C NTSTATUS APIENTRY D3DKMTEverywhere(_In_ CONST D3DKMT_THING*);
// Used in WSL to close something
EXTERN_C VOID APIENTRY D3DKMTWslOnly();
#ifdef _WIN32
EXTERN_C NTSTATUS APIENTRY D3DKMTWindowsOnly(_In_ CONST D3DKMT_THING*);
typedef NTSTATUS (APIENTRY *PFND3DKMT_WINDOWSONLY)(_In_ CONST D3DKMT_THING*);
#else
EXTERN_C NTSTATUS APIENTRY D3DKMTNotWindows(_In_ CONST D3DKMT_THING*);
#endif
#if !defined(_WIN32)
EXTERN_C NTSTATUS APIENTRY D3DKMTNotWindowsEither(void);
#else
EXTERN_C NTSTATUS APIENTRY D3DKMTElseOfNotWindows(void);
#endif
"""


def _synthetic(tmp_path: Path) -> tuple[object, object]:
    header = tmp_path / "d3dkmthk.h"
    header.write_text(SYNTHETIC, encoding="utf-8")
    result = build(Options(header, rules=()))
    py, pyi = _write(tmp_path, result, "synthetic")
    assert not any(scan(py, pyi).values()), scan(py, pyi)
    return result, load_module(py, "synthetic_docs")


def test_mask_comments_become_the_bits_they_cover(tmp_path: Path) -> None:
    _, module = _synthetic(tmp_path)
    doc = inspect.getdoc(module.D3DKMT_FLAGS)  # as help() shows it, whatever the nesting
    assert "Bit0 (UINT : 1):\n        Bit 0.\n" in doc
    assert "[in] Bits 1-2. two bits" in doc  # the comment after the mask, and its direction
    assert "Off (UINT : 1):\n        Stale mask\n" in doc  # 0x10 is not bit 3: left out
    assert "Bits 4-31.\n" in doc and "_ADVSCH_" not in doc and "0x" not in doc


def test_header_comment_directions_and_names(tmp_path: Path) -> None:
    _, module = _synthetic(tmp_path)
    doc = inspect.getdoc(module.D3DKMT_THING)
    assert "hDevice (D3DKMT_HANDLE):\n        [in]\n" in doc  # "// in" alone
    assert "Flags (D3DKMT_FLAGS):\n        [in]\n" in doc  # "// in: Flags" names itself
    assert "[in, opt] how many" in doc


def test_constants_get_their_header_comment(tmp_path: Path) -> None:
    result, _ = _synthetic(tmp_path)
    expected = {
        "D3DKMT_LONE": "A trailing comment",
        "D3DKMT_FIRST": "Group heading.",  # a comment heads the run of defines below it
        "D3DKMT_SECOND": "Group heading.",
        "D3DKMT_NOTED": "Described after a note.",  # the TODO paragraph is not for users
    }
    for text in (result.text, result.stub):  # type: ignore[attr-defined]
        documented = {name: doc for _, name, doc in docstrings(text) if name.isupper()}
        assert {name: documented.get(name) for name in expected} == expected
        # A comment after a blank line, and a directive's comment, are not theirs.
        assert "D3DKMT_UNDOCUMENTED" not in documented
        assert "D3DKMT_AFTER_DIRECTIVE" not in documented
    assert "#: A trailing comment\nD3DKMT_LONE = 7\n" in result.text  # type: ignore[attr-defined]
    assert 'D3DKMT_LONE: Final = 7\n"""A trailing comment"""\n' in result.stub  # type: ignore[attr-defined]
    counts = result.report["counts"]["constants"]  # type: ignore[attr-defined]
    assert (counts["total"], counts["comment"], counts["none"]) == (6, 4, 2)


def test_functions_say_which_platform_declares_them(tmp_path: Path) -> None:
    result, module = _synthetic(tmp_path)
    functions = {f.name: f for f in result.module.functions}  # type: ignore[attr-defined]
    # The x64 pass defines _WIN32, as MSVC does: the non-Windows branches never
    # reach the IR.
    assert "D3DKMTNotWindows" not in functions and "D3DKMTNotWindowsEither" not in functions
    platforms = {name: f.platform and f.platform.name for name, f in functions.items()}
    assert platforms == {
        "D3DKMTEverywhere": None,
        "D3DKMTWslOnly": "wsl",
        "D3DKMTWindowsOnly": "windows",
        "D3DKMTElseOfNotWindows": "windows",
    }
    assert functions["D3DKMTWindowsOnly"].platform.reason == "#ifdef _WIN32"
    assert functions["D3DKMTElseOfNotWindows"].platform.reason == "#if !defined(_WIN32) ... #else"
    typedef = result.module.typedefs["PFND3DKMT_WINDOWSONLY"]  # type: ignore[attr-defined]
    assert typedef.platform.name == "windows"
    wsl = module.D3DKMTWslOnly.__doc__
    assert wsl.startswith("Used in WSL to close something\n")  # its comment, as its text
    assert "Platform: WSL only (not Windows)" in wsl
    assert "Platform: Windows only; declared under ``#ifdef _WIN32`` in d3dkmthk.h." in (
        " ".join(module.D3DKMTWindowsOnly.__doc__.split())
    )
    assert "Platform" not in module.D3DKMTEverywhere.__doc__
    assert "Platform: Windows only" in module.PFND3DKMT_WINDOWSONLY.__doc__


def test_libdxg_wsl_function_and_callback_directions(corpus: Path) -> None:
    docs = tuple(corpus / "docs" / folder for folder in CORPUS_DOCS)
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", docs=docs, rules=()))
    close = next(f for f in result.module.functions if f.name == "D3DKMTCloseDxCoreDevice")
    # libdxg declares it unconditionally; only the comment above it says WSL.
    assert close.platform is not None and close.platform.name == "wsl"
    assert close.platform.reason.startswith("Used in WSL")
    doc = result.text.split('@_lazy("D3DKMTCloseDxCoreDevice")', 1)[1].split('""",', 1)[0]
    assert "Used in WSL to close" in doc and "Platform: WSL only" in doc
    windows = result.module.typedefs["PFND3DKMT_DISPLAYPORT_OPERATION"]
    assert windows.platform is not None and windows.platform.reason == "#ifdef _WIN32"
    # The callbacks whose page opens with "*pData* [in, out]": one direction each,
    # and no declarator left ("[in, out] pData: A pointer" is a page's sentence).
    assert not re.search(r"\[in(?:, out)?\] \w+ \[|\[in(?:, out)?\] pData\n", result.text)
    assert len(re.findall(r"\n +\[in, out\] A pointer to a D3DKMT_", result.text)) >= 50
    assert "#: Allocation priorities.\nD3DDDI_ALLOCATIONPRIORITY_MINIMUM = " in result.text


def test_sphinx_comment_filter_keeps_text_inside_the_comment() -> None:
    assert sphinx_comment("one\ntwo\r three\x0bfour") == "#: one\n#: two\\x0d three\\x0bfour"
    assert sphinx_comment("a\n\nb") == "#: a\n#:\n#: b"
