"""The x86 view of a header that tests the architecture: re-reading only its
``#if _AMD64_``-style groups must give the very ``C_ASSERT`` lines (and errors)
a whole x86 preprocessing pass gives, and must fall back to that pass whenever a
group could change the text after it.

The reference is pcpp run over the whole header for x86; the expected sizes in
the end-to-end cases are the header's own asserts.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import load_module

from generator import preprocess as pre
from generator.errors import GeneratorError
from generator.pipeline import Options, build

RECORD = "typedef struct _P { void* p; UINT x; } P;\n"
BOTH = "C_ASSERT(sizeof(UINT) == 4);\n"

# name -> (header text, whether a whole x86 pass is needed)
CASES = {
    "amd64 only": (
        RECORD + BOTH + "#if defined(_AMD64_)\nC_ASSERT(sizeof(P) == 16);\n#endif\n" + BOTH,
        False,
    ),
    "both arches": (
        RECORD + "#ifdef _WIN64\nC_ASSERT(sizeof(P) == 16);\n#else\n"
        "C_ASSERT(sizeof(P) == 8);\n#endif\n",
        False,
    ),
    "elif chain": (
        RECORD + "#define V 3\n#if V > 5\nC_ASSERT(sizeof(P) == 1);\n"
        "#elif defined(_X86_)\nC_ASSERT(sizeof(P) == 8);\n#elif defined(_M_X64)\n"
        "C_ASSERT(sizeof(P) == 16);\n#else\n#error neither\n#endif\n",
        False,
    ),
    "nested, macros of the header": (
        RECORD + "#define VERSION 2\n#ifndef _WIN64\n  #if VERSION >= 2\n"
        "C_ASSERT(sizeof(P) == 8);\n  #else\nC_ASSERT(sizeof(P) == 99);\n  #endif\n"
        "#endif\n",
        False,
    ),
    "declarations in the groups": (
        "#ifdef _WIN64\ntypedef struct _A { UINT64 x; } A;\n#else\n"
        "typedef struct _A { UINT x; } A;\n#endif\nC_ASSERT(sizeof(A) == 8);\n"
        "#if defined(_X86_) || defined(_M_IX86)\n#pragma pack(push, 1)\n"
        "C_ASSERT(sizeof(A) == 4);\n#pragma pack(pop)\n#endif\n",
        False,
    ),
    "skipped branch": (
        RECORD + "#if 0\n#ifdef _X86_\nC_ASSERT(sizeof(P) == 1);\n#error x\n"
        "#endif\n#endif\n" + BOTH,
        False,
    ),
    "comment and string naming _WIN64": (
        RECORD + "// on _WIN64 P is 16 bytes\n/* _X86_: 8 */\n"
        'static const char* where = "_WIN64";\n'
        "#ifdef _WIN64\nC_ASSERT(sizeof(P) == 16);\n#endif\n" + BOTH,
        False,
    ),
    "macro defined per arch": (
        RECORD + "#ifdef _WIN64\n#define PSIZE 16\n#else\n#define PSIZE 8\n#endif\n"
        "C_ASSERT(sizeof(P) == PSIZE);\n",
        True,
    ),
    "macro naming an arch macro": (
        RECORD + "#define IS64 _WIN64\n#if defined(_AMD64_)\nC_ASSERT(sizeof(P) == 16);\n"
        "#endif\nC_ASSERT(sizeof(P) == (IS64 + 1) * 8);\n",
        True,
    ),
    "group inside a macro call": (
        RECORD + "C_ASSERT(sizeof(P) ==\n#ifdef _WIN64\n16\n#else\n8\n#endif\n);\n",
        True,
    ),
    "group ending inside a macro call": (
        RECORD + "#ifdef _WIN64\nC_ASSERT(sizeof(P) == 16\n#else\nC_ASSERT(sizeof(P) == 8\n"
        "#endif\n);\n",
        True,
    ),
    "undef in a group": (
        RECORD + "#define PSIZE 16\n#ifdef _X86_\n#undef PSIZE\n#define PSIZE 8\n#endif\n"
        "C_ASSERT(sizeof(P) == PSIZE);\n",
        True,
    ),
}


def _views(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch, **kwargs):  # noqa: ANN003, ANN202
    header = tmp_path / "case.h"
    header.write_text(text)
    pp = pre.preprocess(header, abi="x64", **kwargs)
    whole = pre.preprocess(header, abi="x86", **kwargs)
    reference = "".join(pre._marked(line) for line in pre._assert_lines(whole.text))
    passes: list[str] = []
    real = pre.preprocess

    def counted(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        passes.append(kw["abi"])
        return real(*args, **kw)

    monkeypatch.setattr(pre, "preprocess", counted)
    return pp, pre.size_assert_view(pp, "x86"), reference, passes


@pytest.mark.parametrize("name", sorted(CASES))
def test_x86_view_is_that_of_a_whole_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    text, whole_pass = CASES[name]
    pp, view, reference, passes = _views(tmp_path, text, monkeypatch)
    assert pp.arch_dependent
    assert view.text == reference
    assert "__C_ASSERT__" in view.text
    assert passes == (["x86"] if whole_pass else [])


def test_groups_in_included_files_keep_the_text_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inner.h").write_text(
        "#pragma once\nC_ASSERT(sizeof(P) == 16 - 8 * 0);\n"
        "#ifdef _X86_\nC_ASSERT(sizeof(P) == 8);\n#endif\nC_ASSERT(sizeof(UINT) == 4);\n"
    )
    (tmp_path / "outer.h").write_text(
        '#pragma once\n#ifdef _WIN64\nC_ASSERT(sizeof(P) == 16);\n#endif\n#include "inner.h"\n'
        "C_ASSERT(sizeof(UINT) == 4);\n"
    )
    text = (
        RECORD + '#ifndef _WIN64\nC_ASSERT(sizeof(P) == 8);\n#endif\n#include "outer.h"\n'
        '#include "inner.h"\n#if defined(_X86_)\nC_ASSERT(sizeof(P) == 8);\n#endif\n'
    )
    pp, view, reference, passes = _views(tmp_path, text, monkeypatch)
    assert view.text == reference
    assert view.text.count("#line") == 6
    assert passes == []


def test_option_naming_an_arch_macro_takes_a_whole_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = RECORD + "#ifdef _WIN64\nC_ASSERT(sizeof(P) == 16);\n#endif\nC_ASSERT(SZ == 8);\n"
    _, view, reference, passes = _views(
        tmp_path, text, monkeypatch, defines={"SZ": "(sizeof(P) / (1 + defined_WIN64))"}
    )
    assert view.text == reference and passes == []
    _, view, reference, passes = _views(tmp_path, text, monkeypatch, defines={"SZ": "_WIN64"})
    assert view.text == reference and passes == ["x86"]


def test_include_in_a_group_takes_a_whole_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x86.h").write_text("C_ASSERT(sizeof(P) == 8);\n")
    text = RECORD + '#ifdef _X86_\n#include "x86.h"\n#endif\n'
    _, view, reference, passes = _views(tmp_path, text, monkeypatch)
    assert view.text == reference and "case.h" not in view.text
    assert passes == ["x86"]


def test_error_of_the_x86_branch_is_reported_as_by_a_whole_pass(tmp_path: Path) -> None:
    header = tmp_path / "case.h"
    header.write_text(
        RECORD
        + "#define V 1\n#ifdef _X86_\n#if V\n#error this header is x64 only\n#endif\n#endif\n"
    )
    pp = pre.preprocess(header, abi="x64")
    with pytest.raises(GeneratorError) as whole:
        pre.preprocess(header, abi="x86")
    with pytest.raises(GeneratorError) as view:
        pre.size_assert_view(pp, "x86")
    assert (
        str(view.value) == str(whole.value) == "case.h:5:1: error: #error this header is x64 only"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("both arches", 8), ("macro defined per arch", 8), ("undef in a group", 8)],
)
def test_x86_checks_are_the_x86_asserts(tmp_path: Path, name: str, expected: int) -> None:
    header = tmp_path / "case.h"
    header.write_text(CASES[name][0])
    result = build(Options(header, rules=()))
    out = tmp_path / "case.py"
    out.write_text(result.text)
    module = load_module(out, f"arch_{abs(hash(str(tmp_path)))}")
    assert [(abi, size) for _, abi, size, _ in module._SIZE_CHECKS] == [
        ("x64", 16),
        ("x86", expected),
    ]
    assert module.check_layout() == []


def _prelude_macros(abi: str) -> dict[str, tuple]:
    pp = pre._Preprocessor()
    for name, value in pre.ABI_DEFINES[abi].items():
        pp.define(f"{name} {value}")
    pp.parse(pre.prelude_text(), pre.PRELUDE_NAME)
    pp.write(io.StringIO())
    return {
        name: (tuple(t.value for t in m.value), m.arglist, m.variadic)
        for name, m in pp.macros.items()
        if name not in ("__DATE__", "__TIME__")
    }


def test_prelude_differs_per_arch_only_in_the_arch_macros() -> None:
    # What lets a group be re-read with the x64 macros, the arch macros swapped.
    x64, x86 = _prelude_macros("x64"), _prelude_macros("x86")
    differ = {n for n in x64.keys() | x86.keys() if x64.get(n) != x86.get(n)}
    assert differ and differ <= pre.ARCH_MACROS
    bodies = {n for n, (body, *_) in x64.items() if pre.ARCH_MACROS & set(body)}
    assert bodies == set()
    for abi, macros in (("x64", x64), ("x86", x86)):
        arch = {
            n: (tuple(t.value for t in m.value), m.arglist, m.variadic)
            for n, m in pre._abi_macros(abi).items()
        }
        assert arch == {n: v for n, v in macros.items() if n in pre.ARCH_MACROS}
