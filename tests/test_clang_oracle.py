"""Sanity tests of the libclang layout oracle itself.

The oracle is what the layout engine and the generated ctypes classes are
judged by, so it is checked here against facts of the MSVC ABI that do not
depend on clang (Microsoft's own docs, the headers' own ``C_ASSERT`` lines).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clang_oracle import OracleError, clang_layout, clang_oracle

CASES = Path(__file__).parent / "layout_cases"
ABIS = ("x64", "x86")


def layout(case: str, abi: str) -> dict:
    """The oracle's records for one header of ``tests/layout_cases``."""
    return clang_layout(CASES / case, abi=abi)


def fields(record: dict) -> dict[str, int]:
    """``{PATH: offset in bytes}`` for members, ``bit_offset`` for bit-fields."""
    return {p: f.get("offset", f.get("bit_offset")) for p, f in record["fields"].items()}


@pytest.mark.parametrize("abi", ABIS)
def test_mixed_bitfields_start_a_unit_when_the_type_size_changes(abi: str) -> None:
    records = layout("mixed_bitfields.h", abi)
    # MSVC: struct {UCHAR a:1; UINT b:1;} is 8 bytes, b in a UINT at byte 4.
    assert records["MIXED_BITFIELDS"]["size"] == 8
    assert records["MIXED_BITFIELDS"]["fields"]["Large"] == {"bit_offset": 32, "bit_size": 1}
    # INT and ULONG are as wide as UINT: one unit.
    assert records["SAME_SIZE_BITFIELDS"]["size"] == 4
    assert fields(records["SAME_SIZE_BITFIELDS"]) == {"First": 0, "Signed": 4, "Rest": 8}
    assert records["SHORT_CHAR_SHORT"]["size"] == 6
    assert fields(records["SHORT_CHAR_SHORT"]) == {"A": 0, "B": 16, "C": 32}
    assert fields(records["OVERFLOWING_UNIT"]) == {"Low": 0, "High": 32}
    wide = records["WIDE_BITFIELDS"]
    assert (wide["size"], wide["align"]) == (24, 8)
    assert wide["fields"]["Count"] == {"bit_offset": 64, "bit_size": 30}
    assert fields(records["BITFIELD_AFTER_MEMBER"]) == {"Plain": 0, "Bits": 8, "Value": 4}


@pytest.mark.parametrize("abi", ABIS)
def test_zero_width_bitfield_closes_the_unit_and_unnamed_ones_are_skipped(abi: str) -> None:
    records = layout("zero_width.h", abi)
    assert records["ZERO_WIDTH"]["size"] == 8
    assert fields(records["ZERO_WIDTH"]) == {"Before": 0, "After": 32}
    assert fields(records["UNNAMED_PADDING"]) == {"Low": 0, "High": 8}
    assert fields(records["ZERO_WIDTH_IN_UNION"]) == {"Flag0": 0, "Flag1": 32, "Value": 0}


@pytest.mark.parametrize("abi", ABIS)
def test_pragma_pack_caps_alignment_and_nests(abi: str) -> None:
    records = layout("pack.h", abi)
    sizes = {name: (r["size"], r["align"]) for name, r in records.items()}
    assert sizes == {
        "PACKED_1": (7, 1),
        "PACKED_1_BITFIELDS": (5, 1),
        "PACKED_4": (12, 4),
        "PACKED_2": (6, 2),
        "PACKED_4_AGAIN": (12, 4),
        "NATURAL": (24, 8),
    }
    assert fields(records["PACKED_1"]) == {"Tag": 0, "Value": 1, "Count": 5}
    assert records["PACKED_1_BITFIELDS"]["fields"]["Large"]["bit_offset"] == 8
    assert fields(records["NATURAL"])["Packed.Value"] == 17


@pytest.mark.parametrize("abi", ABIS)
def test_64_bit_members_are_8_aligned_on_x86_too(abi: str) -> None:
    records = layout("int64_on_x86.h", abi)
    # MSVC x86: struct {UINT64 a; UINT b;} is 16 bytes, aligned to 8.
    assert records["MIXED64"] == {
        "size": 16,
        "align": 8,
        "fields": {"a": {"offset": 0}, "b": {"offset": 8}},
    }
    assert fields(records["INT64_AFTER_UINT"]) == {"Count": 0, "Total": 8, "Ratio": 16}
    assert fields(records["WITH_LARGE_INTEGER"])["Time.QuadPart"] == 8


def test_pointers_are_8_bytes_on_x64_and_4_on_x86() -> None:
    x64 = layout("int64_on_x86.h", "x64")["POINTER_SIZED"]
    x86 = layout("int64_on_x86.h", "x86")["POINTER_SIZED"]
    assert (x64["size"], x64["align"]) == (32, 8)
    assert fields(x64) == {"Count": 0, "hObject": 8, "Cookie": 16, "pData": 24}
    assert (x86["size"], x86["align"]) == (16, 4)
    assert fields(x86) == {"Count": 0, "hObject": 4, "Cookie": 8, "pData": 12}


@pytest.mark.parametrize("abi", ABIS)
def test_arrays_are_one_member_and_not_entered(abi: str) -> None:
    records = layout("arrays.h", abi)
    assert (records["ARRAYS"]["size"], records["ARRAYS"]["align"]) == (80, 4)
    assert fields(records["ARRAYS"]) == {"Bytes": 0, "Matrix": 4, "Points": 28, "Tail": 76}
    # WCHAR is 2 bytes (ULONG 4, whatever the host's C long is).
    assert records["NAMED_BUFFER"]["size"] == 2 * 260 + 32
    assert fields(records["VARIABLE_TAIL"]) == {"Count": 0, "Items": 4}


def test_self_referential_and_forward_declared_records() -> None:
    x64, x86 = layout("self_ref.h", "x64"), layout("self_ref.h", "x86")
    # The incomplete _OPAQUE_OBJECT is not listed; a pointer-only typedef and a
    # bare tag leave the record under its tag.
    assert list(x64) == ["NODE", "HOLDER", "LATER", "_POINTER_ONLY", "TAG_ONLY"]
    assert (x64["NODE"]["size"], x86["NODE"]["size"]) == (16, 8)
    assert fields(x64["LATER"]) == {"Holder": 0, "Holder.pLater": 0, "Holder.pHead": 8, "Extra": 16}
    assert fields(x86["TAG_ONLY"]) == {"Length": 0, "Parent": 4}


@pytest.mark.parametrize("abi", ABIS)
def test_anonymous_members_are_lifted_and_named_ones_dotted(abi: str) -> None:
    records = layout("anon_nested.h", abi)
    outer = records["ANON_NESTED"]
    assert (outer["size"], outer["align"]) == (32, 8)
    assert fields(outer) == {
        "Id": 0,
        "Primary": 32,
        "Secondary": 33,
        "Reserved": 34,
        "Value": 4,
        "u": 8,
        "u.Parts": 8,
        "u.Parts.Lo": 8,
        "u.Parts.Hi": 12,
        "u.QuadPart": 8,
        "Time": 16,
        "Time.LowPart": 16,
        "Time.HighPart": 20,
        "Time.u": 16,
        "Time.u.LowPart": 16,
        "Time.u.HighPart": 20,
        "Time.QuadPart": 16,
        "Inner": 24,
        "Inner.a": 24,
        "Inner.b": 26,
    }
    assert outer["fields"]["Reserved"]["bit_size"] == 30
    # A named struct declared inside a record is a record of the header too.
    assert records["_INNER_NAMED"]["size"] == 4
    assert fields(records["ANON_IN_UNION"]) == {"Byte": 0, "Word": 0, "Next": 2, "All": 0}


@pytest.mark.parametrize("abi", ABIS)
def test_sal_annotations_and_undeclared_names_are_tolerated(abi: str) -> None:
    result = clang_oracle(CASES / "sal_undeclared.h", abi=abi)
    assert result.predeclared == ("UNDECLARED_HEADER",)
    assert result.diagnostics == ()
    pointer = 8 if abi == "x64" else 4
    assert result.records["SAL_ANNOTATED"]["size"] == 4 * pointer


def test_a_record_clang_cannot_lay_out_raises(tmp_path: Path) -> None:
    header = tmp_path / "broken.h"
    header.write_text("typedef struct _BROKEN { UINT a; MISSING_T Inline; } BROKEN;\n")
    with pytest.raises(OracleError, match="cannot lay out BROKEN"):
        clang_layout(header, abi="x64")


def test_errors_outside_records_are_reported_not_raised(tmp_path: Path) -> None:
    header = tmp_path / "stray.h"
    header.write_text("typedef struct _FINE { ULONG a; } FINE;\nint f(void) { return nowhere; }\n")
    result = clang_oracle(header, abi="x86")
    assert result.records["FINE"]["size"] == 4
    assert len(result.diagnostics) == 1
    assert "stray.h:2:" in result.diagnostics[0]


def test_includes_defines_and_system_stubs(tmp_path: Path) -> None:
    (tmp_path / "inner.h").write_text(
        "typedef struct _INNER { USHORT a; } INNER;\n"
        "#if INNER_VERSION >= 2\n"
        "typedef struct _INNER_V2 { INNER Inner; ULONGLONG b; } INNER_V2;\n"
        "#endif\n"
    )
    (tmp_path / "outer.h").write_text(
        '#include <winapifamily.h>\n#include "inner.h"\n'
        "typedef struct _OUTER { INNER Inner; _In_ UINT c; } OUTER;\n"
    )
    plain = clang_oracle(tmp_path / "outer.h", abi="x86")
    assert plain.stubbed == ("winapifamily.h",)
    assert list(plain.records) == ["INNER", "OUTER"]
    v2 = clang_layout(tmp_path / "outer.h", abi="x86", defines={"INNER_VERSION": "2"})
    assert v2["INNER_V2"]["fields"] == {
        "Inner": {"offset": 0},
        "Inner.a": {"offset": 0},
        "b": {"offset": 8},
    }


def test_results_are_fresh_copies_of_the_cache() -> None:
    first = layout("arrays.h", "x64")
    first["ARRAYS"]["size"] = -1
    assert layout("arrays.h", "x64")["ARRAYS"]["size"] == 80
    with pytest.raises(ValueError, match="unknown ABI"):
        clang_layout(CASES / "arrays.h", abi="arm64")


# --- the SDK headers of the corpus -------------------------------------------

# Records the oracle lists per corpus header. libdxg: 531 of the 532 named
# records in d3dkmthk.h + d3dkmdt.h + d3dukmdt.h (the 532nd, the
# D3DKMT_PTR_TYPE union, exists only where _WIN32 is undefined). Wine: 93 in
# d3dkmthk.h plus 1 in its d3dukmdt.h.
CORPUS_COUNTS = {"libdxg": 531, "wine": 94, "reactos": 88}


@pytest.fixture(scope="module")
def corpus() -> Path:
    """``$D3DKMT_CORPUS/headers``, or skip."""
    root = os.environ.get("D3DKMT_CORPUS")
    if not root:
        pytest.skip("set D3DKMT_CORPUS=... to run against the SDK headers")
    return Path(root) / "headers"


@pytest.mark.parametrize("abi", ABIS)
@pytest.mark.parametrize("copy", sorted(CORPUS_COUNTS))
def test_corpus_headers_lay_out(corpus: Path, copy: str, abi: str) -> None:
    started = time.perf_counter()
    result = clang_oracle(corpus / copy / "d3dkmthk.h", abi=abi)
    assert time.perf_counter() - started < 10, "one parse per header should take < 1 s"
    assert len(result.records) == CORPUS_COUNTS[copy]
    # A failed C_ASSERT of the header would be an error outside records.
    assert result.diagnostics == ()
    expected = ("D3DKMT_DISPLAYPORT_OPERATION_HEADER",) if copy == "libdxg" else ()
    assert result.predeclared == expected


def test_libdxg_own_c_assert_holds_on_x64(corpus: Path) -> None:
    header = corpus / "libdxg" / "d3dkmthk.h"
    # d3dkmthk.h: #if defined(_AMD64_) C_ASSERT(sizeof(D3DKMT_QUERYSTATISTICS) == 0x328)
    assert clang_layout(header, abi="x64")["D3DKMT_QUERYSTATISTICS"]["size"] == 0x328
    # d3dkmdt.h: C_ASSERT(sizeof(DISPLAYID_DETAILED_TIMING_TYPE_I) == 20), under pack(1)
    timing = clang_layout(header, abi="x86")["DISPLAYID_DETAILED_TIMING_TYPE_I"]
    assert (timing["size"], timing["align"]) == (20, 1)


def test_libdxg_x86_differs_from_x64(corpus: Path) -> None:
    header = corpus / "libdxg" / "d3dkmthk.h"
    x64, x86 = clang_layout(header, abi="x64"), clang_layout(header, abi="x86")
    assert x64.keys() == x86.keys()
    size = [name for name in x64 if x64[name]["size"] != x86[name]["size"]]
    anywhere = [name for name in x64 if x64[name] != x86[name]]
    # Pinned from clang 18.1.1, so that a change in the oracle shows.
    assert (len(size), len(anywhere)) == (137, 146)
    assert "D3DKMT_CREATEDEVICE" in size
    assert "D3DKMT_QUERYVIDEOMEMORYINFO" in anywhere and "D3DKMT_QUERYVIDEOMEMORYINFO" not in size
