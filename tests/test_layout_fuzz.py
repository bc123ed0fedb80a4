"""Differential test: random records, laid out by us and by libclang (MSVC targets).

Each record mixes scalar sizes, pointers (``__ptr32``/``__ptr64`` too), arrays
(lengths with ``sizeof`` too), nested anonymous and named records, unions,
bit-fields of mixed types (with ': 0'), ``__declspec(align(n))`` and ``alignas``
up to 64 on members, bit-fields, records, anonymous members and typedefs,
typedef'd arrays of records, and ``#pragma pack`` in all its forms (push/pop with
labels). The layout JSON (x64, x86) and the imported ctypes classes must match
clang exactly.

A fixed seed keeps CI reproducible. Environment:
- ``D3DKMT_FUZZ_RECORDS=20000``: a long run (default 1000 records);
- ``D3DKMT_FUZZ_SEED=N``: another seed;
- ``D3DKMT_FUZZ_PYTHONS="/path/python3.10 /path/python3.13"``: also import the
  generated classes in those interpreters and check them there.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from clang_oracle import clang_layout
from test_layout_vs_clang import _compare

RECORDS = int(os.environ.get("D3DKMT_FUZZ_RECORDS", "1000"))
SEED = int(os.environ.get("D3DKMT_FUZZ_SEED", "0"))
PYTHONS = os.environ.get("D3DKMT_FUZZ_PYTHONS", "").split()
PER_HEADER = 100

SCALARS = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN", "ULONG_PTR", "HANDLE",
           "LARGE_INTEGER", "LUID", "FLOAT", "double", "WCHAR", "unsigned __int64", "SIZE_T",
           "PVOID", "FUZZ_ENUM")  # fmt: skip
# Natural alignment on x64 (alignas below it is an error in C).
NATURAL = {"UCHAR": 1, "USHORT": 2, "UINT": 4, "ULONGLONG": 8, "INT": 4, "BOOLEAN": 1,
           "ULONG_PTR": 8, "HANDLE": 8, "FLOAT": 4, "double": 8, "WCHAR": 2,
           "unsigned __int64": 8, "SIZE_T": 8, "PVOID": 8, "FUZZ_ENUM": 4}  # fmt: skip
BIT_TYPES = ("UCHAR", "USHORT", "UINT", "ULONGLONG", "INT", "BOOLEAN", "FUZZ_ENUM")
BIT_WIDTHS = {"UCHAR": 8, "USHORT": 16, "UINT": 32, "ULONGLONG": 64, "INT": 32, "BOOLEAN": 8,
              "FUZZ_ENUM": 32}  # fmt: skip
ALIGNS = (1, 2, 4, 8, 16, 16, 32, 64)
PACKS = (1, 2, 4, 8, 16)


class _Maker:
    """Writes a header of random records (and the typedefs they use)."""

    def __init__(self, seed: int, gcc: bool = False) -> None:
        self.rng = random.Random(seed)
        # gcc: the wsl ABI's spellings (__attribute__((aligned)), no __ptr32/__int64),
        # and aligned only where GCC and MSVC read it alike (members, after 'struct').
        self.gcc = gcc
        self.count = 0
        self.records: list[str] = []  # earlier records, usable as member types
        self.arrays: list[str] = []  # typedef'd arrays of records
        self.aligned: list[tuple[str, str]] = []  # aligned typedefs (name, base): no arrays
        self.labels: list[str] = []  # pack labels pushed so far

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def declspec(self, align: int | None = None) -> str:
        align = align or self.rng.choice(ALIGNS)
        if self.gcc:
            return f"__attribute__((aligned({align})))"
        if self.rng.random() < 0.5:
            return f"DECLSPEC_ALIGN({align})"
        return f"__declspec(align({align}))"

    def element(self) -> str:
        """A type that may be an array element."""
        roll = self.rng.random()
        if roll < 0.15 and self.records:
            return self.rng.choice(self.records)
        if roll < 0.2 and self.arrays:
            return self.rng.choice(self.arrays)
        scalar = self.rng.choice(SCALARS)
        return "unsigned long long" if self.gcc and "__int64" in scalar else scalar

    def member_type(self) -> str:
        if self.aligned and self.rng.random() < 0.1:
            return self.rng.choice(self.aligned)[0]
        return self.element()

    def length(self) -> str:
        """An array length: a number, or one taking a sizeof."""
        if self.rng.random() < 0.7:
            return str(self.rng.randint(1, 3))
        scalar = self.rng.choice(SCALARS)
        record = self.rng.choice(self.records[-5:] or ["LUID"])
        # Lengths from a record's size stay small: records hold records.
        return self.rng.choice(
            (
                f"sizeof({scalar})",
                f"sizeof({scalar}) / 2 + 1",
                "sizeof(PVOID) == 8 ? 1 : 3",
                f"sizeof({record}) % 5 + 1",
                f"(sizeof({record}) + 7) / 8 % 3 + 1",
            )
        )

    def pointer(self) -> str:
        target = self.rng.choice(("void", "UINT", "CHAR", *self.records[-3:]))
        width = self.rng.choice(("__ptr32", "__ptr64", "POINTER_32", "POINTER_64", ""))
        width = "" if self.gcc else width
        inner = self.rng.choice(("", " *", " * const"))
        return f"{target} *{' ' + width if width else ''}{inner}"

    def bitfields(self, lines: list[str]) -> None:
        kind = self.rng.choice(BIT_TYPES)
        for _ in range(self.rng.randint(1, 4)):
            width = self.rng.randint(0, BIT_WIDTHS[kind]) if self.rng.random() < 0.9 else 0
            spec = f"{self.declspec()} " if self.rng.random() < 0.15 else ""
            if width == 0:
                lines.append(f"{'' if self.gcc else spec}{kind} : 0;")
            else:
                lines.append(f"{spec}{kind} {self.name('b')} : {width};")
            if self.rng.random() < 0.4:
                kind = self.rng.choice(BIT_TYPES)
        aligned_ints = [n for n, base in self.aligned if base in BIT_WIDTHS]
        if aligned_ints and self.rng.random() < 0.2:
            name = self.rng.choice(aligned_ints)
            base = dict(self.aligned)[name]
            lines.append(f"{name} {self.name('b')} : {self.rng.randint(1, BIT_WIDTHS[base])};")

    def members(self, depth: int) -> list[str]:
        lines: list[str] = []
        for _ in range(self.rng.randint(1, 6)):
            roll = self.rng.random()
            if roll < 0.06:
                lines.append(f"{self.declspec()} {self.member_type()} {self.name('m')};")
            elif roll < 0.09:
                scalar = self.rng.choice([s for s in NATURAL if NATURAL[s] <= 8])
                align = self.rng.choice([a for a in (8, 16, 32, 64) if a >= NATURAL[scalar]])
                lines.append(f"alignas({align}) {scalar} {self.name('m')};")
            elif roll < 0.3:
                lines.append(f"{self.member_type()} {self.name('m')};")
            elif roll < 0.36:
                lines.append(f"{self.pointer()} {self.name('p')};")
            elif roll < 0.58:
                self.bitfields(lines)
            elif roll < 0.72:
                dims = "".join(f"[{self.length()}]" for _ in range(self.rng.randint(1, 2)))
                lines.append(f"{self.element()} {self.name('a')}{dims};")
            elif roll < 0.74:
                label = self.rng.choice(PACKS)
                lines.append(f"#pragma pack(push, {label})")
                lines.extend(self.members(depth + 1) if depth < 2 else [f"UINT {self.name('m')};"])
                lines.append("#pragma pack(pop)")
            elif depth < 2:
                kind = self.rng.choice(("struct", "union"))
                inner = "\n".join(self.members(depth + 1))
                tail = f" {self.name('n')};" if self.rng.random() < 0.5 else ";"
                spec = self.rng.random()
                if spec < 0.15:
                    lines.append(f"{kind} {self.declspec()} {{\n{inner}\n}}{tail}")
                elif spec < 0.25 and not self.gcc:
                    lines.append(f"{self.declspec()} {kind} {{\n{inner}\n}}{tail}")
                else:
                    lines.append(f"{kind} {{\n{inner}\n}}{tail}")
            else:
                lines.append(f"UINT {self.name('m')};")
        return lines

    def pack_pragmas(self) -> list[str]:
        """Random #pragma pack lines, in every form MSVC reads."""
        lines = []
        for _ in range(self.rng.choice((0, 0, 0, 1, 1, 2, 3))):
            roll = self.rng.random()
            pack = self.rng.choice(PACKS)
            if roll < 0.3:
                lines.append(f"#pragma pack(push, {pack})")
            elif roll < 0.45:
                label = self.name("fuzz_label")
                self.labels.append(label)
                lines.append(
                    f"#pragma pack(push, {label}, {pack})"
                    if self.rng.random() < 0.7
                    else f"#pragma pack(push, {label})"
                )
            elif roll < 0.5:
                lines.append("#pragma pack(push)")
            elif roll < 0.7:
                lines.append("#pragma pack(pop)")
            elif roll < 0.8 and self.labels:
                label = self.rng.choice(self.labels)
                lines.append(
                    f"#pragma pack(pop, {label})"
                    if self.rng.random() < 0.8
                    else f"#pragma pack(pop, {label}, {pack})"
                )
            elif roll < 0.9:
                lines.append(f"#pragma pack({pack})")
            else:
                lines.append("#pragma pack()")
        return lines

    def typedefs(self) -> list[str]:
        """Typedefs the next records may use: aligned ones, arrays of records."""
        lines = []
        roll = self.rng.random()
        if roll < 0.1:
            base = self.rng.choice([s for s in NATURAL if NATURAL[s] <= 8 and "__" not in s])
            # GCC lets a typedef lower an alignment, which ctypes cannot (a known limit).
            natural = 4 if self.gcc and base == "WCHAR" else NATURAL[base]
            align = self.rng.choice([a for a in ALIGNS if a >= natural])
            name = self.name("FUZZ_ALIGNED")
            if self.rng.random() < 0.7 or self.gcc:
                lines.append(f"typedef {self.declspec(align)} {base} {name};")
            else:
                lines.append(f"typedef {base} {self.declspec(align)} {name};")
            self.aligned.append((name, base))
        elif roll < 0.15 and self.records and not self.gcc:
            name = self.name("FUZZ_ALIGNED")
            lines.append(f"typedef {self.declspec()} {self.rng.choice(self.records)} {name};")
            self.aligned.append((name, ""))
        elif roll < 0.25 and self.records:
            name = self.name("FUZZ_ARRAY")
            target = self.rng.choice(self.records + ["LARGE_INTEGER"])
            lines.append(f"typedef {target} {name}[{self.rng.randint(1, 3)}];")
            self.arrays.append(name)
        return lines

    def header(self, records: int) -> str:
        parts = ["typedef enum _FUZZ_ENUM { FuzzA = 0, FuzzB = 5 } FUZZ_ENUM;\n"]
        for index in range(records):
            kind = "union" if self.rng.random() < 0.2 else "struct"
            body = "\n".join(
                line if line.startswith("#") else f"    {line}" for line in self.members(0)
            )
            name = f"FUZZ{index}"
            form = self.rng.random()
            if form < 0.12:
                head = f"typedef {kind} {self.declspec()} _{name}"
            elif form < 0.2 and not self.gcc:
                head = f"typedef {self.declspec()} {kind} _{name}"
            elif form < 0.25 and not self.gcc:
                head = f"{kind} {self.declspec()} _{name}"
            else:
                head = f"typedef {kind} _{name}"
            if head.startswith("typedef"):
                record = f"{head}\n{{\n{body}\n}} {name};\n"
            else:
                record = f"{head}\n{{\n{body}\n}};\ntypedef {kind} _{name} {name};\n"
            parts.append("\n".join([*self.typedefs(), *self.pack_pragmas(), record]))
            self.records.append(name)
        return "\n".join(parts)


_CHECK_IN = """
import ctypes, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fuzzed", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["fuzzed"] = module
spec.loader.exec_module(module)
expected = json.load(open(sys.argv[2]))
problems = list(module.check_layout())
for name, want in expected.items():
    cls = getattr(module, name)
    if (ctypes.sizeof(cls), ctypes.alignment(cls)) != (want["size"], want["align"]):
        problems.append(f"{name}: {ctypes.sizeof(cls)}/{ctypes.alignment(cls)} != {want}")
    for path, place in want["fields"].items():
        got = module._place(cls, path)
        if got != place.get("offset", (place.get("bit_offset"), place.get("bit_size"))):
            problems.append(f"{name}.{path}: {got} != {place}")
print(json.dumps(problems[:20]))
"""


def _check_in(python: str, module: Path, header: Path, tmp_path: Path) -> list[str]:
    """Problems found when another interpreter imports the generated module."""
    abi = "x64"  # the pyenv interpreters of CI hosts are 64-bit
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(clang_layout(header, abi=abi)))
    run = subprocess.run(
        [python, "-c", _CHECK_IN, str(module), str(expected)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode:
        return [f"{python}: {run.stderr.strip()[-2000:]}"]
    return [f"{python}: {p}" for p in json.loads(run.stdout)]


@pytest.mark.parametrize("chunk", range(max(1, -(-RECORDS // PER_HEADER))))
def test_random_records_match_clang(chunk: int, tmp_path: Path) -> None:
    """Layout engine (x64, x86) and the imported classes against clang."""
    seed = SEED * 100_000 + chunk
    header = tmp_path / f"fuzz{seed}.h"
    header.write_text(_Maker(seed).header(min(PER_HEADER, RECORDS)))
    try:
        _compare(header, tmp_path)
    except AssertionError as exc:
        raise AssertionError(f"seed {seed} ({header}):\n{exc}") from None
    problems = [
        p
        for python in PYTHONS
        for p in _check_in(python, tmp_path / f"{header.stem}.py", header, tmp_path)
    ]
    assert not problems, f"seed {seed} ({header}):\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("chunk", range(max(1, -(-RECORDS // PER_HEADER // 5))))
def test_random_records_match_clang_wsl(chunk: int, tmp_path: Path) -> None:
    """The wsl ABI (System V x86-64, GCC's bit-fields) against clang's Linux target:
    a fifth of the Windows run's records (D3DKMT_FUZZ_RECORDS scales both)."""
    seed = SEED * 100_000 + chunk
    header = tmp_path / f"fuzz_wsl{seed}.h"
    header.write_text(_Maker(seed, gcc=True).header(min(PER_HEADER, RECORDS)))
    try:
        _compare(header, tmp_path, abis=("wsl",))
    except AssertionError as exc:
        raise AssertionError(f"seed {seed} ({header}):\n{exc}") from None
