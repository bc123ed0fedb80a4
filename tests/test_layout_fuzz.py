"""Differential test: random records, laid out by us and by libclang (MSVC targets).

A fixed seed keeps failures reproducible; each record mixes scalar sizes, pointers,
arrays, nested anonymous and named records, unions, bit-fields of mixed types
(with ': 0'), and #pragma pack.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_layout_vs_clang import _compare

SCALARS = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN", "ULONG_PTR", "HANDLE",
           "LARGE_INTEGER", "LUID", "FLOAT", "double")  # fmt: skip
BIT_TYPES = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN")
BIT_WIDTHS = {"UCHAR": 8, "USHORT": 16, "UINT": 32, "ULONGLONG": 64, "INT": 32, "BOOLEAN": 8}


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def members(self, depth: int) -> list[str]:
        lines: list[str] = []
        for _ in range(self.rng.randint(1, 6)):
            roll = self.rng.random()
            if roll < 0.35:
                lines.append(f"{self.rng.choice(SCALARS)} {self.name('m')};")
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
                lines.append(f"{self.rng.choice(SCALARS)} {self.name('a')}{dims};")
            elif depth < 2:
                kind = self.rng.choice(("struct", "union"))
                inner = "\n".join(self.members(depth + 1))
                tail = f" {self.name('n')};" if self.rng.random() < 0.5 else ";"
                lines.append(f"{kind} {{\n{inner}\n}}{tail}")
            else:
                lines.append(f"UINT {self.name('m')};")
        return lines

    def header(self, records: int) -> str:
        parts = []
        for index in range(records):
            pack = self.rng.choice((None, None, None, 1, 2, 4, 8))
            kind = "union" if self.rng.random() < 0.2 else "struct"
            body = "\n".join(f"    {line}" for line in self.members(0))
            record = f"typedef {kind} _FUZZ{index}\n{{\n{body}\n}} FUZZ{index};\n"
            if pack:
                record = f"#pragma pack(push, {pack})\n{record}#pragma pack(pop)\n"
            parts.append(record)
        return "\n".join(parts)


@pytest.mark.parametrize("seed", range(6))
def test_random_records_match_clang(seed: int, tmp_path: Path) -> None:
    header = tmp_path / f"fuzz{seed}.h"
    header.write_text(_Maker(seed).header(40))
    _compare(header, tmp_path)
