"""The .pyi stub types everything as typeshed's ctypes does, and as the module behaves.

mypy and pyright (both --strict) must find no error in the stubs (libdxg's, the
sample's, a header of awkward cases), none in ordinary use
(``stub_usage/valid.py``, which also runs against the module), and one at the
marked line of each ordinary mistake (``stub_usage/mistake_*.py``). Each checker
runs once over the libdxg stub and all the usage files together.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stub_checkers import CHECKERS, Diagnostic, run

from generator.pipeline import Options, build

USAGE = Path(__file__).resolve().parent / "stub_usage"
GOLDEN_STUB = Path(__file__).resolve().parent / "golden" / "sample" / "d3dkmthk.pyi"
MISTAKES = sorted(p.name for p in USAGE.glob("mistake_*.py"))
MARK = "# error"

# Awkward cases in one header: every kind of member, a callback, functions taking
# void*, handles and enums, a member named self, bit-fields before plain members,
# members named like the types the record's other members have, a typedef'd
# array of records.
CASES = """\
typedef UINT CASE_HANDLE;
typedef enum _CASE_MODE { CASE_MODE_A = 1, CASE_MODE_B = 2 } CASE_MODE;
typedef struct _CASE_INNER { UINT x; } CASE_INNER;
typedef CASE_INNER CASE_INNERS[3];
typedef VOID (APIENTRY *PFN_CASE_NOTIFY)(CASE_INNER* pInner, UINT value);
typedef CASE_MODE (APIENTRY *PFN_CASE_PICK)(CASE_MODE Mode);
typedef struct _CASES
{
    CASE_HANDLE hObject;
    CASE_MODE Mode;
    CHAR Letter;
    CHAR Name[8];
    VOID* pData;
    CASE_INNER* pInner;
    CASE_INNER** ppInner;
    CASE_INNER Inners[2];
    FLOAT Matrix[2][3];
    PFN_CASE_NOTIFY Notify;
    UINT Small : 3;
    CASE_MODE Kind : 4;
    union { UINT AsUint; FLOAT AsFloat; };
    UINT self;
    CASE_INNERS Three;
} CASES, *PCASES;
typedef struct _CASE_SHADOW
{
    CASE_INNER CASE_INNER;
    CASE_INNER other;
    UINT c_uint32, count;
} CASE_SHADOW;
NTSTATUS APIENTRY CaseCall(CASES* pCases, VOID* pContext, CASE_HANDLE hObject, CASE_MODE Mode);
"""


# A header with nothing but a constant: the stub imports only what it reads.
MINIMAL = "#define CASE_ONLY 1\n"


def _marked_lines(name: str) -> set[int]:
    lines = (USAGE / name).read_text(encoding="utf-8").splitlines()
    return {number for number, line in enumerate(lines, 1) if MARK in line}


def _by_file(found: list[Diagnostic]) -> dict[str, list[Diagnostic]]:
    files: dict[str, list[Diagnostic]] = {}
    for diagnostic in found:
        files.setdefault(diagnostic.file, []).append(diagnostic)
    return files


@pytest.fixture(scope="module")
def libdxg_folder(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The libdxg module and stub (with its pages and the shipped rules) and the usage files."""
    folder = tmp_path_factory.mktemp("stub")
    docs = (corpus / "docs" / "d3dkmthk", corpus / "docs" / "d3dukmdt")
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", docs=docs))
    (folder / "d3dkmthk.py").write_text(result.text, encoding="utf-8")
    (folder / "d3dkmthk.pyi").write_text(result.stub, encoding="utf-8")
    for path in USAGE.glob("*.py"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module", params=CHECKERS)
def libdxg_errors(request: pytest.FixtureRequest, libdxg_folder: Path) -> dict[str, list]:
    """Each checker's errors over the libdxg stub and every usage file, by file."""
    files = ["d3dkmthk.pyi", "valid.py", *MISTAKES]
    return _by_file(run(request.param, libdxg_folder, files))


def test_libdxg_stub_and_ordinary_use_have_no_errors(libdxg_errors: dict[str, list]) -> None:
    for name in ("d3dkmthk.pyi", "valid.py"):
        assert not libdxg_errors.get(name), "\n".join(map(str, libdxg_errors[name][:20]))


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_is_an_error_at_its_line(libdxg_errors: dict[str, list], mistake: str) -> None:
    expected = _marked_lines(mistake)
    assert len(expected) == 1, f"{mistake} should mark one line with {MARK!r}"
    found = libdxg_errors.get(mistake, [])
    assert {d.line for d in found} == expected, "\n".join(map(str, found)) or "no error"


def test_there_are_the_eight_mistakes() -> None:
    assert len(MISTAKES) == 8


def test_ordinary_use_runs_against_the_module(libdxg_folder: Path) -> None:
    """What valid.py does with the stub's blessing, ctypes does too (gdi32 calls aside)."""
    script = "import valid\nvalid.portable()\nvalid.contract()\n"
    env = {**os.environ, "PYTHONPATH": str(libdxg_folder)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=libdxg_folder, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def cases_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("cases")
    header = folder / "cases.h"
    header.write_text(CASES, encoding="utf-8")
    result = build(Options(header, rules=()))
    (folder / "cases.py").write_text(result.text, encoding="utf-8")
    (folder / "cases.pyi").write_text(result.stub, encoding="utf-8")
    shutil.copy(GOLDEN_STUB, folder / "sample.pyi")
    (folder / "minimal.h").write_text(MINIMAL, encoding="utf-8")
    minimal = build(Options(folder / "minimal.h", rules=())).stub
    (folder / "minimal.pyi").write_text(minimal, encoding="utf-8")
    return folder, result.stub


@pytest.mark.parametrize("checker", CHECKERS)
def test_sample_and_cases_stubs_have_no_errors(
    checker: str, cases_folder: tuple[Path, str]
) -> None:
    found = run(checker, cases_folder[0], ["sample.pyi", "cases.pyi", "minimal.pyi"])
    assert not found, "\n".join(map(str, found[:20]))


@pytest.mark.parametrize(
    "line",
    [
        # A handle is its ctypes type; reading it gives an int; it takes an int, or an
        # instance of its own ctypes type (ctypes copies that).
        "    hObject: _CField[CASE_HANDLE, int, int | CASE_HANDLE]",
        # An enum member reads as its IntEnum and takes any int.
        "    Mode: _CField[c_int32, CASE_MODE, int]",
        "    Letter: _CField[c_char, bytes, bytes | int | c_char]",
        "    Name: _CField[Array[c_char], bytes, bytes]",
        "    pData: _CField[c_void_p, int | None, int | c_void_p | None]",
        "    pInner: _CField[_Pointer[CASE_INNER], _Pointer[CASE_INNER], "
        "_Pointer[CASE_INNER] | Array[CASE_INNER] | None]",
        "    ppInner: _CField[_Pointer[_Pointer[CASE_INNER]], _Pointer[_Pointer[CASE_INNER]], "
        "_Pointer[_Pointer[CASE_INNER]] | Array[_Pointer[CASE_INNER]] | None]",
        "    Inners: _CField[Array[CASE_INNER], Array[CASE_INNER], Array[CASE_INNER]]",
        "    Matrix: _CField[Array[Array[c_float]], Array[Array[c_float]], Array[Array[c_float]]]",
        "    Notify: _CField[PFN_CASE_NOTIFY, PFN_CASE_NOTIFY, PFN_CASE_NOTIFY]",
        "    Small: _BitField[int]",
        "    Kind: _BitField[CASE_MODE]",
        "    AsFloat: _CField[c_float, float, float | c_float]",
        "CASE_HANDLE: TypeAlias = c_uint32",
        "PCASES: TypeAlias = _Pointer[CASES]",
        "_CASES: TypeAlias = CASES",
        "CASE_MODE_A: Final = CASE_MODE.CASE_MODE_A",
        # The C function: positional, as ctypes calls it.
        "def CaseCall(pCases: _PointerArg[CASES], pContext: _CVoidConstPLike | None, "
        "hObject: int | CASE_HANDLE, Mode: int | c_int32, /) -> int:",
        # The callback: what the Python function receives, what a call takes.
        "    def __new__(cls, callable: Callable[[_Pointer[CASE_INNER], int], None], /) "
        "-> Self: ...",
        "    def __call__(self, pInner: _PointerArg[CASE_INNER], value: int | c_uint32, /) "
        "-> None: ...",
        # ctypes hands enums to and from callbacks as plain ints (records convert them).
        "    def __new__(cls, callable: Callable[[int], int], /) -> Self: ...",
        "    def __call__(self, Mode: int | c_int32, /) -> int: ...",
        # A member named like a type would hide it from mypy in the class body.
        "    CASE_INNER: _CField[CASE_INNER_, CASE_INNER_, CASE_INNER_]",
        "    other: _CField[CASE_INNER_, CASE_INNER_, CASE_INNER_]",
        "    count: _CField[c_uint32_, int, int | c_uint32_]",
        "CASE_INNER_: TypeAlias = CASE_INNER  # a member named CASE_INNER hides it in a class body",
    ],
)
def test_cases_are_typed_as_ctypes_has_them(cases_folder: tuple[Path, str], line: str) -> None:
    assert line + "\n" in cases_folder[1]


def test_constructor_takes_the_leading_members_by_position(
    cases_folder: tuple[Path, str],
) -> None:
    stub = cases_folder[1]
    init = stub[stub.index("class CASES(") :]
    init = init[init.index("    def __init__(") : init.index(") -> None: ...")]
    # ctypes fills _fields_ in order: up to the first bit-field unit that is the
    # members' order; after it, keywords only. A member named self moves self aside.
    assert init.startswith("    def __init__(\n        __self,\n        hObject: int | CASE_HANDLE")
    positional, keyword = init.split("        *,\n")
    assert "Notify: PFN_CASE_NOTIFY = ...," in positional
    assert "Small: int = ...," in keyword and "self: int | c_uint32 = ...," in keyword
