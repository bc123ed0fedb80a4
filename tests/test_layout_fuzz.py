"""Differential test: random records, laid out by us and by libclang (MSVC targets).

A fixed seed keeps failures reproducible; each record mixes scalar sizes, pointers,
arrays, nested anonymous and named records, unions, bit-fields of mixed types
(with ': 0'), and #pragma pack.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from clang_oracle import clang_layout
from test_layout_vs_clang import _compare

from generator.pipeline import Options, build

SCALARS = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN", "ULONG_PTR", "HANDLE",
           "LARGE_INTEGER", "LUID", "FLOAT", "double")  # fmt: skip
BIT_TYPES = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN", "FUZZ_ENUM")
BIT_WIDTHS = {"UCHAR": 8, "USHORT": 16, "UINT": 32, "ULONGLONG": 64, "INT": 32, "BOOLEAN": 8,
              "FUZZ_ENUM": 32}  # fmt: skip


class _Maker:
    """Writes a header of random records; ``aligned_in_packs`` allows alignas under
    #pragma pack, which ctypes can only follow from Python 3.13 (``_align_``)."""

    def __init__(self, seed: int, aligned_in_packs: bool = True) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.records: list[str] = []  # earlier records, usable as member types
        self.aligned: set[str] = set()  # those with an alignas somewhere inside
        self.aligned_in_packs = aligned_in_packs
        self.packed = False  # writing a record under #pragma pack
        self.uses_alignas = False  # the record being written has alignas inside

    def may_align(self) -> bool:
        return self.aligned_in_packs or not self.packed

    def scalar(self) -> str:
        choices = [r for r in self.records if self.may_align() or r not in self.aligned]
        if choices and self.rng.random() < 0.2:
            name = self.rng.choice(choices)
            self.uses_alignas |= name in self.aligned
            return name
        return self.rng.choice(SCALARS)

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def members(self, depth: int) -> list[str]:
        lines: list[str] = []
        for _ in range(self.rng.randint(1, 6)):
            roll = self.rng.random()
            if roll < 0.05 and self.may_align():
                # C11 (and so clang) rejects an alignas below the natural one.
                self.uses_alignas = True
                lines.append(f"DECLSPEC_ALIGN(16) {self.scalar()} {self.name('m')};")
            elif roll < 0.35:
                lines.append(f"{self.scalar()} {self.name('m')};")
            elif roll < 0.6:
                kind = self.rng.choice(BIT_TYPES)
                for _ in range(self.rng.randint(1, 4)):
                    width = self.rng.randint(0, BIT_WIDTHS[kind]) if self.rng.random() < 0.9 else 0
                    lines.append(
                        f"{kind} : 0;" if width == 0 else f"{kind} {self.name('b')} : {width};"
                    )
                    if self.rng.random() < 0.4:
                        kind = self.rng.choice(BIT_TYPES)
            elif roll < 0.75:
                dims = "".join(f"[{self.rng.randint(1, 3)}]" for _ in range(self.rng.randint(1, 2)))
                lines.append(f"{self.scalar()} {self.name('a')}{dims};")
            elif depth < 2:
                kind = self.rng.choice(("struct", "union"))
                inner = "\n".join(self.members(depth + 1))
                tail = f" {self.name('n')};" if self.rng.random() < 0.5 else ";"
                lines.append(f"{kind} {{\n{inner}\n}}{tail}")
            else:
                lines.append(f"UINT {self.name('m')};")
        return lines

    def header(self, records: int) -> str:
        parts = ["typedef enum _FUZZ_ENUM { FuzzA = 0, FuzzB = 5 } FUZZ_ENUM;\n"]
        for index in range(records):
            pack = self.rng.choice((None, None, None, 1, 2, 4, 8))
            self.packed, self.uses_alignas = bool(pack), False
            kind = "union" if self.rng.random() < 0.2 else "struct"
            body = "\n".join(f"    {line}" for line in self.members(0))
            if self.uses_alignas:
                self.aligned.add(f"FUZZ{index}")
            record = f"typedef {kind} _FUZZ{index}\n{{\n{body}\n}} FUZZ{index};\n"
            if pack:
                record = f"#pragma pack(push, {pack})\n{record}#pragma pack(pop)\n"
            parts.append(record)
            self.records.append(f"FUZZ{index}")
        return "\n".join(parts)


@pytest.mark.parametrize("seed", range(6))
def test_random_records_match_clang(seed: int, tmp_path: Path) -> None:
    """Layout engine (x64, x86) and the imported classes against clang."""
    header = tmp_path / f"fuzz{seed}.h"
    header.write_text(_Maker(seed, aligned_in_packs=sys.version_info >= (3, 13)).header(40))
    _compare(header, tmp_path)


@pytest.mark.parametrize("seed", range(6, 12))
def test_random_records_with_alignas_in_packs_match_clang(seed: int, tmp_path: Path) -> None:
    """The layout engine alone, with alignas under #pragma pack too."""
    header = tmp_path / f"fuzz{seed}.h"
    header.write_text(_Maker(seed).header(40))
    ours = build(Options(header, rules=())).layout_json()["records"]
    for abi in ("x64", "x86"):
        theirs = clang_layout(header, abi=abi)
        bad = [name for name in theirs if ours[name][abi] != theirs[name]]
        assert not bad, f"{abi}: {bad[:5]}"
