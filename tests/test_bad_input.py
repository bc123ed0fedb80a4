"""Every input error is one located ``file:line:col: error: ...`` line, exit 2,
no traceback, and the output folder exactly as it was.

One case per kind of bad input: what the user wrote (header, included file,
rules file, reference page, option) and the place the error must point at.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from generator.cli import main
from generator.parse import MAX_NESTING
from generator.preprocess import MAX_INCLUDE_DEPTH

GOOD_PAGE = "---\nUID: NS:case._S\ntitle: S\napi_name:\n- S\n---\n\n# S\n"


@dataclass
class Case:
    """Files to write (``case.h`` is the header), extra options, and the error line."""

    files: dict[str, str | bytes]
    error: str  # regex the one error line must match in full
    args: tuple[str, ...] = ()
    rules: bool = False  # pass --rules rules.toml (else an empty rules file)
    mode: dict[str, int] = field(default_factory=dict)  # chmod after writing


def deep(open_: str, close: str, depth: int) -> str:
    return open_ * depth + "1" + close * depth


def nested_structs(depth: int) -> str:
    opening = "".join(f"struct s{i} {{ int x{i};\n" for i in range(depth))
    return opening + "} m;\n" * (depth - 1) + "};\n"


CASES: dict[str, Case] = {
    # -- the header and its includes -----------------------------------------------------
    "syntax error": Case(
        {"case.h": "typedef struct _X {\n    UINT a;\n    UINT b c;\n} X;\n"},
        r"case\.h:3:\d+: error: syntax error: .*",
    ),
    "syntax error in an included file": Case(
        {"case.h": '#include "b.h"\n', "b.h": "typedef UINT A;\ntypedef struct { UINT } B;\n"},
        r"b\.h:2:\d+: error: syntax error: .*",
    ),
    "include cycle without guards": Case(
        {"case.h": '#include "b.h"\ntypedef UINT X;\n', "b.h": '#include "case.h"\n'},
        rf"(case|b)\.h:1:1: error: #include nested more than {MAX_INCLUDE_DEPTH} deep "
        r"\(a cycle without include guards: (case|b)\.h -> (case|b)\.h -> (case|b)\.h\)",
    ),
    "missing local include": Case(
        {"case.h": '\n#include "nowhere.h"\n'},
        r"case\.h:2:1: error: cannot find include file 'nowhere\.h' .*",
    ),
    "#error": Case(
        {"case.h": "typedef UINT X;\n#error not for this SDK\n"},
        r"case\.h:2:1: error: #error not for this SDK",
    ),
    # pcpp reads the first word of these unchecked (an IndexError, once).
    "#define without a name": Case(
        {"case.h": "typedef UINT X;\n#define\n"},
        r"case\.h:2:1: error: no macro name given in #define",
    ),
    "#ifdef without a name, in an included file": Case(
        {"case.h": '#include "b.h"\n', "b.h": "typedef UINT X;\n#ifdef\n#endif\n"},
        r"b\.h:2:1: error: no macro name given in #ifdef",
    ),
    "#if without an expression": Case(
        {"case.h": "#if\ntypedef UINT X;\n#endif\n"},
        r"case\.h:1:1: error: #if with no expression",
    ),
    "#define the preprocessor cannot read": Case(
        {"case.h": "typedef UINT X;\n\n#define F(a,) a\n"},
        r"case\.h:3:1: error: the preprocessor cannot read this #define directive",
    ),
    "#pragma among an enum's enumerators": Case(
        {"case.h": "typedef enum _E {\n    E_A = 1,\n#pragma pack(push, 1)\n} E;\n"},
        # (pycparser 3.11, the one for Python 3.10, takes no #pragma there at all)
        r"case\.h:3:\d+: error: (#pragma inside an enum's body|syntax error: .*)",
    ),
    "parentheses nested too deeply": Case(
        {"case.h": f"typedef struct _S {{\n    UINT a[{deep('(', ')', 200)}];\n}} S;\n"},
        rf"case\.h:2:{11 + MAX_NESTING - 1}: error: brackets nested more than {MAX_NESTING} .*",
    ),
    "structs nested too deeply": Case(
        {"case.h": nested_structs(200)},
        rf"case\.h:{MAX_NESTING + 1}:13: error: brackets nested more than {MAX_NESTING} deep .*",
    ),
    "expression chain too long": Case(
        {"case.h": "typedef struct _S {\n    UINT a[" + "1+" * 3000 + "1];\n} S;\n"},
        r"case\.h:3:3: error: declaration nested too deeply",
    ),
    "unterminated comment": Case(
        {"case.h": "typedef UINT X;\n/* never closed\ntypedef UINT Y;\n"},
        r"case\.h:2:1: error: syntax error: unterminated /\* comment",
    ),
    "unterminated struct": Case(
        {"case.h": "typedef struct _S {\n    UINT a;\n"},
        r"case\.h:3:1: error: syntax error: unexpected end of the header",
    ),
    "empty header": Case(
        {"case.h": "// nothing here\n"},
        r"case\.h:1:1: error: the header declares nothing .*",
    ),
    "binary junk": Case(
        {"case.h": bytes(range(1, 256)) * 4},
        r"case\.h:\d+:\d+: error: .*",
    ),
    "not UTF-8 outside a comment": Case(
        {"case.h": b"typedef struct _S {\n    UINT a; // caf\xe9\n    UINT \xe9b;\n} S;\n"},
        r"case\.h:3:10: error: syntax error: Illegal character .*",
    ),
    "NUL byte": Case(
        {"case.h": b"typedef UINT X;\x00\n"},
        r"case\.h:1:16: error: syntax error: Illegal character .*",
    ),
    # -- declarations ---------------------------------------------------------------------
    "negative array size": Case(
        {"case.h": "typedef struct _S {\n    UINT a[-1];\n} S;\n"},
        r"case\.h:2:10: error: array size is negative \(-1\)",
    ),
    "array size not a constant": Case(
        {"case.h": "typedef struct _S {\n    UINT n;\n    UINT a[n];\n} S;\n"},
        r"case\.h:3:10: error: array size is not an integer constant .*",
    ),
    "duplicate member": Case(
        {"case.h": "typedef struct _S {\n    UINT a;\n    UINT a;\n} S;\n"},
        r"case\.h:3:10: error: duplicate member 'a' in _S \(first declared at case\.h:2:10\)",
    ),
    "duplicate member from an anonymous union": Case(
        {"case.h": "typedef struct _S {\n    UINT a;\n    union { UINT b; UINT a; };\n} S;\n"},
        r"case\.h:3:26: error: duplicate member 'a' in _S \(first declared at case\.h:2:10\)",
    ),
    "typedef redefined as another type": Case(
        {"case.h": "typedef UINT T;\ntypedef UINT64 T;\n"},
        r"case\.h:2:16: error: typedef 'T' redefined with a different type "
        r"\(first defined at case\.h:1:14\)",
    ),
    "struct defined twice": Case(
        {"case.h": "struct A { int x; };\nstruct A { int y; };\n"},
        r"case\.h:2:8: error: struct 'A' redefined \(first defined at case\.h:1:8\)",
    ),
    "enumerator defined twice": Case(
        {"case.h": "enum A { X };\nenum B { Y, X };\n"},
        r"case\.h:2:13: error: enumerator 'X' redefined \(first defined at case\.h:1:10\)",
    ),
    "enumerator past 64 bits": Case(
        {"case.h": "typedef enum _E {\n    E_A = 0x1FFFFFFFFFFFFFFFF,\n} E;\n"},
        r"case\.h:2:5: error: value of 'E_A' is not an integer constant "
        r"\(0x1FFFFFFFFFFFFFFFF does not fit in 64 bits\)",
    ),
    "enumerator past 32 bits": Case(
        {"case.h": "typedef enum _E {\n    E_A = 0x100000000,\n} E;\n"},
        r"case\.h:2:5: error: value of 'E_A' \(0x100000000\) does not fit in 32 bits .*",
    ),
    "enumerator below INT_MIN": Case(
        {"case.h": "typedef enum _E {\n    E_A = -2147483649,\n} E;\n"},
        r"case\.h:2:5: error: value of 'E_A' \(-0x80000001\) does not fit in 32 bits .*",
    ),
    "bit-field wider than its type": Case(
        {"case.h": "typedef struct _W {\n    UINT Reserved : 33;\n} W;\n"},
        r"case\.h:2:10: error: bit-field 'Reserved' is 33 bits wide, more than its 32-bit type",
    ),
    "bit-field of negative width": Case(
        {"case.h": "typedef struct _W {\n    UINT Reserved : -1;\n} W;\n"},
        r"case\.h:2:10: error: bit-field 'Reserved' has a negative width \(-1\)",
    ),
    "type used by value, never defined": Case(
        {"case.h": "typedef struct _S {\n    UINT a;\n    MYSTERY b;\n} S;\n"},
        r"case\.h:3:13: error: 'MYSTERY' is used by value but never defined "
        r"\(member 'b' of _S\)",
    ),
    "C_ASSERT that fails": Case(
        {"case.h": "typedef UINT X;\nC_ASSERT(1 == 2);\n"},
        r"case\.h:2:14: error: C_ASSERT fails",
    ),
    "C_ASSERT on a size the layout does not give": Case(
        {"case.h": "typedef struct _S { UINT a; } S;\nC_ASSERT(sizeof(S) == 8);\n"},
        r"case\.h:2:\d+: error: C_ASSERT fails: sizeof is 4 on x64, not 8",
    ),
    "C_ASSERT on the size of void": Case(
        {"case.h": "typedef UINT X;\nC_ASSERT(sizeof(void) == 1);\n"},
        r"case\.h:2:\d+: error: sizeof of a type without a size",
    ),
    "C_ASSERT that holds on x64 only": Case(
        {"case.h": "typedef UINT X;\nC_ASSERT(sizeof(PVOID) == 8);\n"},
        r"case\.h:2:\d+: error: C_ASSERT fails: sizeof is 4 on x86, not 8",
    ),
    # -- options -----------------------------------------------------------------------------
    "-D value that is neither a number nor a macro": Case(
        {
            "case.h": "#define V_WIN8 0x300E\n"
            "#if DXGKDDI_INTERFACE_VERSION >= V_WIN8\ntypedef UINT X;\n#endif\n"
            "typedef UINT Y;\n"
        },
        r"case\.h:2:1: error: -D DXGKDDI_INTERFACE_VERSION=banana: 'banana' is neither a "
        r"number nor a macro defined before this #if",
        args=("-D", "DXGKDDI_INTERFACE_VERSION=banana"),
    ),
    "-D value that does not evaluate": Case(
        {"case.h": "#if VERSION > 2\ntypedef UINT X;\n#endif\ntypedef UINT Y;\n"},
        r"case\.h:1:1: error: Could not evaluate expression .*",
        args=("-D", "VERSION=1+"),
    ),
    "-D the preprocessor rejects": Case(
        {"case.h": "typedef UINT X;\n"},
        r"<command line>:1:1: error: -D X\(a b\)=1: Invalid macro argument",
        args=("-D", "X(a b)=1"),
    ),
    "-D with a bad name": Case(
        {"case.h": "typedef UINT X;\n"},
        r"<command line>:1:1: error: -D 9X=1: '9X' is not a macro name",
        args=("-D", "9X=1"),
    ),
    "missing header": Case(
        {},
        r"<command line>:1:1: error: --header \S*nowhere\.h: cannot read: No such file .*",
        args=("--header", "{tmp}/nowhere.h"),
    ),
    "header is a folder": Case(
        {"folder/x": ""},
        r"<command line>:1:1: error: --header \S*folder: cannot read: Is a directory",
        args=("--header", "{tmp}/folder"),
    ),
    "output folder is a file": Case(
        {"case.h": "typedef UINT X;\n", "blocker": "a file\n"},
        r"<command line>:1:1: error: --out \S*blocker: cannot write case\.py: Not a directory",
        args=("--out", "{tmp}/blocker"),
    ),
    "--layout-json in a file": Case(
        {"case.h": "typedef UINT X;\n", "blocker": "a file\n"},
        r"<command line>:1:1: error: --layout-json \S*layout\.json: cannot write: .*",
        args=("--layout-json", "{tmp}/blocker/layout.json"),
    ),
    "--strict and a warning": Case(
        {"case.h": "typedef struct _H {\n    UINT A;\n    MYSTERY_HEADER* pHeader;\n} H;\n"},
        r"case\.h:3:\d+: error: 'MYSTERY_HEADER' is used but never declared; .* \[--strict\]",
        args=("--strict",),
    ),
    # -- rules files ---------------------------------------------------------------------------
    "missing rules file": Case(
        {"case.h": "typedef UINT X;\n"},
        r"<command line>:1:1: error: --rules \S*nowhere\.toml: cannot read: No such file .*",
        args=("--rules", "{tmp}/nowhere.toml"),
    ),
    "rules file that is not TOML": Case(
        {"case.h": "typedef UINT X;\n", "rules.toml": '[[rule]]\nrecord = "X"\nname = \n'},
        r"\S*rules\.toml:3:8: error: bad rules file: Invalid value",
        rules=True,
    ),
    "rules file that is not UTF-8": Case(
        {"case.h": "typedef UINT X;\n", "rules.toml": b"# ok\n# caf\xe9\n"},
        r"\S*rules\.toml:2:6: error: rules file is not UTF-8 text",
        rules=True,
    ),
    "rule without a message": Case(
        {
            "case.h": "typedef UINT X;\n",
            "rules.toml": '# rules\n\n[[rule]]\nrecord = "S"\nname = "n"\nrequire = "a != 0"\n',
        },
        r"\S*rules\.toml:3:1: error: rule needs a 'message' string",
        rules=True,
    ),
    "rule naming a member the record lacks": Case(
        {
            "case.h": "typedef struct _S {\n    UINT a;\n} S;\n",
            "rules.toml": '[[rule]]\nrecord = "S"\nname = "n"\nrequire = "b != 0"\n'
            'message = "m"\n',
        },
        r"\S*rules\.toml:1:1: error: rule 'n' refers to member 'b' that S no longer has",
        rules=True,
    ),
    # -- reference pages -------------------------------------------------------------------------
    "missing docs folder": Case(
        {"case.h": "typedef struct _S { UINT a; } S;\n"},
        r"<command line>:1:1: error: --docs \S*nowhere: not a folder of reference pages",
        args=("--docs", "{tmp}/nowhere"),
    ),
    "docs folder is a file": Case(
        {"case.h": "typedef struct _S { UINT a; } S;\n", "docs": "a file\n"},
        r"<command line>:1:1: error: --docs \S*docs: not a folder of reference pages",
        args=("--docs", "{tmp}/docs"),
    ),
    "unreadable docs folder": Case(
        {"case.h": "typedef struct _S { UINT a; } S;\n", "docs/ns-case-_s.md": GOOD_PAGE},
        r"<command line>:1:1: error: --docs \S*docs: cannot read: Permission denied",
        args=("--docs", "{tmp}/docs"),
        mode={"docs": 0},
    ),
    "broken front matter (--strict)": Case(
        {
            "case.h": "typedef struct _S { UINT a; } S;\n",
            "docs/ns-case-_s.md": "---\nUID: NS:case._S\ntitle: [unclosed\n---\n# S\n",
        },
        r"ns-case-_s\.md:4:1: error: bad front matter: .*; page skipped \[--strict\]",
        args=("--docs", "{tmp}/docs", "--strict"),
    ),
    "page that is not UTF-8 (--strict)": Case(
        {
            "case.h": "typedef struct _S { UINT a; } S;\n",
            "docs/ns-case-_s.md": GOOD_PAGE.encode() + b"caf\xe9\n",
        },
        r"ns-case-_s\.md:9:4: error: page is not UTF-8 text; page skipped \[--strict\]",
        args=("--docs", "{tmp}/docs", "--strict"),
    ),
}

OLD_OUTPUT = {"case.py": "# the previous module\n", "case.pyi": "# the previous stub\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_located_error_and_nothing_written(
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = CASES[name]
    if case.mode and os.geteuid() == 0:
        pytest.skip("root reads folders whatever their mode")
    for relative, content in case.files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    for file_name, text in OLD_OUTPUT.items():
        (out / file_name).write_text(text)
    before = snapshot(tmp_path)
    args = ["generate", "--header", str(tmp_path / "case.h"), "--out", str(out)]
    args += ["--rules", str(tmp_path / "rules.toml") if case.rules else os.devnull]
    args += [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    for relative, mode in case.mode.items():
        (tmp_path / relative).chmod(mode)
    try:
        status = main(args)  # an exception here (a traceback) fails the test
    finally:
        for relative in case.mode:
            (tmp_path / relative).chmod(0o755)
    captured = capsys.readouterr()
    assert status == 2, captured.err
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 1, captured.err
    assert re.fullmatch(case.error, errors[0]), errors[0]
    assert captured.err.splitlines()[0] == errors[0], "the error comes first"
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert snapshot(tmp_path) == before, "the output folder (and every input) is unchanged"


def test_each_limit_is_the_limit(tmp_path: Path) -> None:
    """MAX_NESTING brackets and MAX_INCLUDE_DEPTH includes still work: the limits
    are the documented ones, not where the stack happens to end."""
    from generator.pipeline import Options, build

    text = "#define V " + deep("(", ")", MAX_NESTING - 2) + "\n"
    text += "typedef struct _S {\n    UINT a[V];\n} S;\n" + nested_structs(MAX_NESTING // 2)
    for level in range(MAX_INCLUDE_DEPTH - 1):  # the header and its includes: files open at once
        (tmp_path / f"h{level}.h").write_text(f'#include "h{level + 1}.h"\n')
    (tmp_path / f"h{MAX_INCLUDE_DEPTH - 1}.h").write_text(text)
    result = build(Options(tmp_path / "h0.h", rules=()))
    assert result.layouts["x64"].record("_S").size == 4


def test_an_unused_macro_nested_too_deeply_is_only_not_a_constant(tmp_path: Path) -> None:
    from generator.pipeline import Options, build

    header = tmp_path / "case.h"
    header.write_text(f"#define V {deep('(', ')', 300)}\ntypedef UINT X;\n")
    result = build(Options(header, rules=()))
    assert "X" in result.module.typedefs
    assert "V" not in {c.name for c in result.module.constants}
