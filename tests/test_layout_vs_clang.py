"""The layout engine and the generated ctypes classes against libclang (MSVC targets).

Every named record of each header: size, alignment, every member's offset, bit
offset and width, for x64 and x86 from ``--layout-json``, and for the running
host's ABI from the imported classes.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest
from clang_oracle import clang_layout
from conftest import load_module

from generator.pipeline import Options, build
from generator.spelling import Names

CASES = Path(__file__).resolve().parent / "layout_cases"
HOST_ABI = "x64" if ctypes.sizeof(ctypes.c_void_p) == 8 else "x86"


def _build(header: Path, tmp_path: Path, abis: tuple[str, ...] = ("x64", "x86")):  # noqa: ANN202
    result = build(Options(header, rules=(), abis=abis))
    out = tmp_path / f"{header.stem}.py"
    out.write_text(result.text, encoding="utf-8")
    suffix = "_wsl" if abis == ("wsl",) else ""
    return result, load_module(out, f"oracle_{header.parent.name}_{header.stem}{suffix}")


def _compare(header: Path, tmp_path: Path, abis: tuple[str, ...] = ("x64", "x86")) -> None:
    """Every record of ``header`` for ``abis``: the JSON against clang, and the classes
    (those of the host's Windows ABI, or the wsl module's) imported here."""
    result, module = _build(header, tmp_path, abis)
    host_abi = "wsl" if abis == ("wsl",) else HOST_ABI
    ours = result.layout_json()["records"]
    names = Names(result.module)
    keys = {name: key for key, name in result.module.record_names().items()}
    problems: list[str] = []
    for abi in abis:
        theirs = clang_layout(header, abi=abi)
        if set(theirs) != set(ours):
            problems.append(
                f"{abi}: records only in clang {sorted(set(theirs) - set(ours))[:10]}, "
                f"only in ours {sorted(set(ours) - set(theirs))[:10]}"
            )
        for name, expected in theirs.items():
            mine = ours.get(name, {}).get(abi)
            if mine != expected:
                problems.append(f"{abi} {name}: ours {mine} != clang {expected}")
            if abi != host_abi or name not in ours:
                continue
            key = keys[name]
            cls = getattr(module, names.of(name))
            if ctypes.sizeof(cls) != expected["size"]:
                problems.append(f"ctypes {name}: size {ctypes.sizeof(cls)} != {expected['size']}")
            if ctypes.alignment(cls) != expected["align"]:
                problems.append(f"ctypes {name}: align {ctypes.alignment(cls)}")
            for path, place in expected["fields"].items():
                py_path = names.path(key, path)  # the C name may be renamed (class -> class_)
                actual = module._place(cls, py_path)
                want = place.get("offset", (place.get("bit_offset"), place.get("bit_size")))
                if actual != want:
                    problems.append(f"ctypes {name}.{path}: {actual} != clang {want}")
                if "bit_size" in place and not _writes_its_bits(cls, py_path, place):
                    problems.append(f"ctypes {name}.{path}: writing it sets other bits")
    assert not problems, "\n".join(problems[:40])


def _writes_its_bits(cls: type, path: str, place: dict) -> bool:
    """Setting a bit-field to all ones sets exactly its bits in the record's bytes."""
    value = cls()
    *parents, last = path.split(".")
    holder = value
    for name in parents:
        holder = getattr(holder, name)
    setattr(holder, last, (1 << place["bit_size"]) - 1)
    raw = int.from_bytes(ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(cls)), "little")
    expected = ((1 << place["bit_size"]) - 1) << place["bit_offset"]
    return raw == expected


@pytest.mark.parametrize("sdk", ["libdxg", "wine", "reactos"])
def test_corpus_header_layouts_match_clang(corpus: Path, sdk: str, tmp_path: Path) -> None:
    _compare(corpus / "headers" / sdk / "d3dkmthk.h", tmp_path)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.h")))
def test_layout_case_matches_clang(case: str, tmp_path: Path) -> None:
    _compare(CASES / case, tmp_path)


@pytest.mark.parametrize(
    "version", ["DXGKDDI_INTERFACE_VERSION_WIN8", "DXGKDDI_INTERFACE_VERSION_WDDM2_7", "0x2005"]
)
def test_interface_versions_match_clang(corpus: Path, version: str, tmp_path: Path) -> None:
    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    defines = (("DXGKDDI_INTERFACE_VERSION", version),)
    result = build(Options(header, defines=defines, rules=()))
    ours = result.layout_json()["records"]
    assert "DXGKDDI_INTERFACE_VERSION" in "\n".join(result.text.splitlines()[:6])
    for abi in ("x64", "x86"):
        theirs = clang_layout(header, abi=abi, defines=dict(defines))
        assert set(theirs) == set(ours)
        bad = [n for n in theirs if theirs[n] != ours[n][abi]]
        assert not bad, bad[:10]
