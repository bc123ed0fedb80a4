"""Inputs the SDK headers throw at the front end: prelude fallbacks, undeclared
names, interface versions, constants and GUIDs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_module

from generator.errors import GeneratorError
from generator.pipeline import Options, build


def _generate(tmp_path: Path, text: str, **options):  # noqa: ANN003, ANN202
    header = tmp_path / "case.h"
    header.write_text(text)
    result = build(Options(header, rules=(), **options))
    out = tmp_path / "case.py"
    out.write_text(result.text)
    return result, load_module(out, f"case_{abs(hash(str(tmp_path)))}")


def test_wdm_types_come_from_the_prelude_when_the_header_lacks_them(tmp_path: Path) -> None:
    _, module = _generate(tmp_path, "typedef struct _P { DEVICE_POWER_STATE State; UINT X; } P;\n")
    assert module._LAYOUT["P"]["x64"][:2] == (8, 4)


def test_a_header_declaring_a_prelude_type_wins(tmp_path: Path) -> None:
    text = (
        "typedef enum _DEVICE_POWER_STATE { PowerDeviceUnspecified = 0, PowerDeviceD0 = 7 }"
        " DEVICE_POWER_STATE;\n"
        "#define NTSTATUS int32_t\n"
        "typedef struct _P { DEVICE_POWER_STATE State; NTSTATUS Status; } P;\n"
    )
    _, module = _generate(tmp_path, text)
    assert module.PowerDeviceD0 == 7
    assert module._LAYOUT["P"]["x64"][0] == 8


def test_undeclared_name_becomes_opaque_with_a_located_warning(tmp_path: Path) -> None:
    text = "typedef struct _H { UINT A;\n    MYSTERY_HEADER* pHeader; } H;\n"
    result, module = _generate(tmp_path, text)
    warnings = [str(w) for w in result.diagnostics.warnings]
    assert warnings and warnings[0].startswith("case.h:2:")
    assert "MYSTERY_HEADER" in warnings[0]
    assert module._LAYOUT["H"]["x64"][0] == 16


def test_a_member_that_declares_nothing_is_dropped_with_a_located_warning(
    tmp_path: Path,
) -> None:
    """``UINT;`` in a record (the layout is clang's: tests/layout_cases/declares_nothing.h),
    and the directives that only a skipped group holds without their words."""
    text = (
        "typedef struct _H { UCHAR a;\n    UINT; UCHAR b; } H;\n"
        "#if 0\n#define\n#ifdef\n#endif\n#endif\n#pragma\n"
    )
    result, module = _generate(tmp_path, text)
    assert [str(w) for w in result.diagnostics.warnings] == [
        "case.h:2:5: warning: member declares nothing (no name); ignored"
    ]
    assert [name for name, _ in module.H._fields_] == ["a", "b"]


def test_size_checks_on_types_the_module_has_no_name_for(tmp_path: Path) -> None:
    """The header's C_ASSERTs are checked as the bindings are made; check_layout()
    looks again at those on the module's own names only."""
    text = (
        "typedef struct _S { PVOID p; } S;\n"
        "#ifdef _WIN64\nC_ASSERT(sizeof(PVOID) == 8);\nC_ASSERT(sizeof(S) == 8);\n"
        "#else\nC_ASSERT(sizeof(void *) == 4);\nC_ASSERT(sizeof(S) == 4);\n#endif\n"
    )
    result, module = _generate(tmp_path, text)
    assert len(result.module.size_checks) == 4
    assert [(name, abi) for name, abi, *_ in module._SIZE_CHECKS] == [("S", "x64"), ("S", "x86")]
    assert module.check_layout() == []


def test_undeclared_name_used_by_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="MYSTERY"):
        _generate(tmp_path, "typedef struct _H { MYSTERY Value; } H;\n")


def test_constants_with_casts_shifts_fourcc_and_negatives(tmp_path: Path) -> None:
    text = (
        "#define STATUS_X ((NTSTATUS)0xC01E0000L)\n"
        "#define SHIFTED (1u << 31)\n"
        "#define NEGATIVE (-5)\n"
        "typedef enum _E { E_FOURCC = MAKEFOURCC('D', 'X', 'T', '1'),"
        " E_BIG = 0xFFFFFFFF, E_NEXT } E;\n"
        "DEFINE_GUID(GUID_X, 0xea5c6870, 0xe93c, 0x4588, 0xbe, 0xf1, 0xfe, 0xc4, 0x2f, 0xc9,"
        " 0x42, 0x9a);\n"
    )
    _, module = _generate(tmp_path, text)
    assert module.STATUS_X == -1071775744
    assert module.SHIFTED == 0x80000000
    assert module.NEGATIVE == -5
    assert module.E_FOURCC == 0x31545844
    assert module.E_BIG == -1 and module.E_NEXT == 0  # MSVC: enumerators are ints
    guid = module.GUID_X
    assert (guid.Data1, guid.Data2, guid.Data3) == (0xEA5C6870, 0xE93C, 0x4588)
    assert bytes(guid.Data4) == bytes.fromhex("BEF1FEC42FC9429A")
    assert module._GUID_TEXT["GUID_X"] == "EA5C6870-E93C-4588-BEF1-FEC42FC9429A"


def test_interface_version_selects_branches_and_is_in_the_banner(tmp_path: Path) -> None:
    text = (
        "#define DXGKDDI_INTERFACE_VERSION_WIN7 0x2005\n"
        "#define DXGKDDI_INTERFACE_VERSION_WIN8 0x300E\n"
        "#ifndef DXGKDDI_INTERFACE_VERSION\n"
        "#define DXGKDDI_INTERFACE_VERSION DXGKDDI_INTERFACE_VERSION_WIN8\n"
        "#endif\n"
        "typedef struct _F { UINT A;\n"
        "#if DXGKDDI_INTERFACE_VERSION >= DXGKDDI_INTERFACE_VERSION_WIN8\n"
        "    UINT B;\n"
        "#endif\n"
        "} F;\n"
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    default, module = _generate(tmp_path / "a", text)
    assert module._LAYOUT["F"]["x64"][0] == 8
    assert "DXGKDDI_INTERFACE_VERSION_WIN8 (0x300E)" in default.text.split('"""')[0]
    win7 = (("DXGKDDI_INTERFACE_VERSION", "DXGKDDI_INTERFACE_VERSION_WIN7"),)
    older, module = _generate(tmp_path / "b", text, defines=win7)
    assert module._LAYOUT["F"]["x64"][0] == 4
    assert "DXGKDDI_INTERFACE_VERSION_WIN7 (0x2005)" in older.text.split('"""')[0]


def test_size_asserts_of_the_header_become_checks(tmp_path: Path) -> None:
    text = (
        "typedef struct _S { UINT64 A; UINT B; } S;\n"
        "#if defined(_AMD64_)\nC_ASSERT(sizeof(S) == 16);\n#endif\n"
        "#if defined(_X86_)\nC_ASSERT(sizeof(S) == 16);\n#endif\n"
    )
    _, module = _generate(tmp_path, text)
    assert [(abi, size) for _, abi, size, _ in module._SIZE_CHECKS] == [("x64", 16), ("x86", 16)]
    assert module.check_layout() == []


def test_old_sal_declspec_and_unusual_asserts_are_understood(tmp_path: Path) -> None:
    text = (
        "typedef struct _OLD {\n"
        "    __in UINT Count;\n"
        "    __field_ecount_opt(Count) UINT* pValues;\n"
        "    __declspec(align(8)) UINT Aligned;\n"
        "} OLD;\n"
        "__checkReturn __drv_maxIRQL(PASSIVE_LEVEL) NTSTATUS APIENTRY OldCall(__inout OLD* p);\n"
        "C_ASSERT(sizeof(OLD) == sizeof(OLD));\n"
        "C_ASSERT(FIELD_OFFSET(OLD, pValues) == 8);\n"
        '__declspec(deprecated("use NewCall")) NTSTATUS APIENTRY OlderCall(void);\n'
    )
    result, module = _generate(tmp_path, text)
    pointer = result.module.records["_OLD"].fields[1]
    assert pointer.annotations == ("__field_ecount_opt(Count)",)
    assert module._LAYOUT["OLD"]["x64"][2]["Aligned"] == 16
    assert module._LAYOUT["OLD"]["x86"][2]["Aligned"] == 8
    assert module.OldCall.argnames == ("p",)


def test_unknown_system_header_is_a_warning_unknown_local_one_an_error(tmp_path: Path) -> None:
    result, module = _generate(tmp_path, "#include <dispmprt.h>\ntypedef UINT X;\n")
    (warning,) = [str(w) for w in result.diagnostics.warnings]
    assert warning.startswith("case.h:1:1: warning: system header <dispmprt.h> not found")
    assert module.X is module.c_uint32
    with pytest.raises(GeneratorError, match="cannot find include file 'mine.h'"):
        _generate(tmp_path, '#include "mine.h"\ntypedef UINT X;\n')
