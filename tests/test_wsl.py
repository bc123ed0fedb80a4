"""The wsl ABI: the header as Linux programs under WSL 2 see it (no ``_WIN32``),
laid out by System V x86-64 (GCC) rules, calling libdxcore.so.

Layout numbers come from libclang with ``-target x86_64-pc-linux-gnu``
(``tests/clang_oracle.py``), never from the code under test.
"""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import pytest
from clang_oracle import clang_layout
from conftest import load_module
from test_layout_vs_clang import _compare

from generator.cli import main
from generator.pipeline import Options, build

WSL = ("wsl",)
LIBDXCORE = Path("/usr/lib/wsl/lib/libdxcore.so")

# GCC's bit-field rules where they differ from MSVC's: types share storage, a
# bit-field goes at the next free bit unless it would cross its type's boundary,
# ': 0' aligns to its type without aligning the record, any #pragma pack stops the
# padding, named bit-fields align the record; and __attribute__((aligned)).
GCC_CASES = """
typedef struct _SHARED { UCHAR a; UINT b : 4; USHORT c : 9; ULONGLONG d : 40; } SHARED;
typedef struct _CROSS { UINT a : 30; UINT b : 4; UCHAR c : 7; UCHAR d : 2; } CROSS;
typedef struct _ZERO { UCHAR a : 3; ULONGLONG : 0; UCHAR b; } ZERO;
typedef struct _ONLY_BITS { UINT a : 1; } ONLY_BITS;
typedef struct _UNNAMED { UCHAR a; ULONGLONG : 3; } UNNAMED;
typedef union _BITS_UNION { UCHAR a; ULONGLONG b : 17; } BITS_UNION;
#pragma pack(push, 2)
typedef struct _PACKED { UCHAR a; UINT b : 30; UINT c : 4; ULONGLONG d; } PACKED;
#pragma pack(push, 16)
typedef struct _PACK16 { ULONGLONG a : 49; UINT b : 29; } PACK16;
#pragma pack(pop)
#pragma pack(pop)
typedef struct _ALIGNED {
    UCHAR a;
    __attribute__((aligned(16))) UINT b;
    UINT c : 3;
    __attribute__((aligned(8))) UINT d : 3;
} ALIGNED;
typedef union __attribute__((aligned(8))) _PTR { void *p; UINT h; } PTR;
typedef struct _WIDE_ENUM_USER { enum { NEG = -2, HIGH = 0x80000000 } e; UINT x; } WIDE_ENUM_USER;
typedef struct _BASE_TYPES {
    WCHAR w[3]; BOOLEAN b; HWND h; LONG l; GUID g; LARGE_INTEGER q;
} BASE_TYPES;
"""


def test_gcc_bitfield_rules_match_clang(tmp_path: Path) -> None:
    header = tmp_path / "gcc_cases.h"
    header.write_text(GCC_CASES, encoding="utf-8")
    _compare(header, tmp_path, abis=WSL)
    # The rules really differ from MSVC's here (else the cases would test nothing).
    wsl, x64 = clang_layout(header, abi="wsl"), clang_layout(header, abi="x64")
    assert wsl["SHARED"]["size"] < x64["SHARED"]["size"]
    assert wsl["WIDE_ENUM_USER"]["size"] == 16 and x64["WIDE_ENUM_USER"]["size"] == 8


def test_libdxg_records_match_clang_linux_target(corpus: Path, tmp_path: Path) -> None:
    """The bar: every record of libdxg for wsl, in the JSON and as imported classes."""
    _compare(corpus / "headers" / "libdxg" / "d3dkmthk.h", tmp_path, abis=WSL)


def test_destroyallocation_pointer_is_an_8_byte_union(corpus: Path, tmp_path: Path) -> None:
    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    clang = clang_layout(header, abi="wsl")["D3DKMT_DESTROYALLOCATION"]
    assert (clang["size"], clang["fields"]["phAllocationList"]) == (24, {"offset": 8})
    assert clang_layout(header, abi="x86")["D3DKMT_DESTROYALLOCATION"]["size"] == 16

    result = build(Options(header, rules=(), abis=WSL))
    out = tmp_path / "d3dkmthk.py"
    out.write_text(result.text, encoding="utf-8")
    module = load_module(out, "wsl_libdxg_destroy")
    cls = module.D3DKMT_DESTROYALLOCATION
    assert ctypes.sizeof(cls) == 24 and ctypes.alignment(cls) == 8
    assert cls.phAllocationList.offset == 8
    holder = cls._u_0  # the D3DKMT_PTR union that holds it
    assert (holder.offset, holder.size) == (8, 8)
    assert module._ABI == "wsl" and module.check_layout() == []
    assert '_layout_ = "ms"' not in result.text
    entry = result.layout_json()["records"]["D3DKMT_DESTROYALLOCATION"]
    assert set(entry) >= {"wsl"} and "x86" not in entry
    # The Windows module keeps its x86 layout: no union there.
    windows = build(Options(header, rules=())).layout_json()["records"]
    assert windows["D3DKMT_DESTROYALLOCATION"]["x86"]["size"] == 16


@pytest.mark.skipif(LIBDXCORE.exists(), reason="this host is WSL 2: libdxcore.so loads")
def test_functions_load_libdxcore_lazily(corpus: Path, tmp_path: Path) -> None:
    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    result = build(Options(header, rules=(), abis=WSL))
    out = tmp_path / "d3dkmthk.py"
    out.write_text(result.text, encoding="utf-8")
    module = load_module(out, "wsl_libdxg_functions")  # importing works without it
    with pytest.raises(OSError, match="libdxcore.so"):
        module.D3DKMTEnumAdapters2(None)
    # A function the header declares for WSL only is bound here, and only here.
    with pytest.raises(OSError, match="libdxcore.so"):
        module.D3DKMTCloseDxCoreDevice(None)
    windows = build(Options(header, rules=()))
    out = tmp_path / "windows" / "d3dkmthk.py"
    out.parent.mkdir()
    out.write_text(windows.text, encoding="utf-8")
    with pytest.raises(OSError, match="declared for wsl only"):
        load_module(out, "wsl_libdxg_windows").D3DKMTCloseDxCoreDevice(None)


def test_cli_generate_and_show_for_wsl(corpus: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    out, snapshot = tmp_path / "out", tmp_path / "abi.json"
    args = ["--header", str(header), "--abi", "wsl", "--no-cache"]
    assert main(["generate", *args, "--out", str(out), "--layout-json", str(snapshot)]) == 0
    text = (out / "d3dkmthk.py").read_text(encoding="utf-8")
    assert '_ABI = "wsl"' in text and "--abi wsl" in text
    assert "# ABIs: wsl (Linux x86-64 under WSL 2, System V layouts)" in text
    data = json.loads(snapshot.read_text(encoding="utf-8"))
    assert data["records"]["D3DKMT_DESTROYALLOCATION"]["wsl"]["size"] == 24
    assert main(["check", *args, "--out", str(out), "--layout-json", str(snapshot)]) == 0
    capsys.readouterr()
    assert main(["show", "D3DKMT_DESTROYALLOCATION", *args]) == 0
    shown = capsys.readouterr().out
    assert "wsl: offset size" in shown and "size 24, align 8" in shown


def test_unsigned_enum_bitfield_reads_back_unsigned(tmp_path: Path) -> None:
    # GCC: an enum with 0x80000000 and no negative value is an unsigned int, so a
    # bit-field of it holds no sign.
    header = tmp_path / "enum_bits.h"
    header.write_text(
        "typedef enum _BIG { SMALL = 1, LARGE = 0x80000000 } BIG;\n"
        "typedef struct _HOLDS { BIG e : 2; BIG f : 32; } HOLDS;\n",
        encoding="utf-8",
    )
    _compare(header, tmp_path, abis=WSL)
    module = load_module(tmp_path / "enum_bits.py", "wsl_enum_bits")
    value = module.HOLDS()
    value.e = 3
    value.f = 0x80000000
    assert value.e == 3 and value.f == module.BIG.LARGE == 0x80000000
