"""The intermediate representation: what the header declares, ABI-neutral.

Every node is a frozen dataclass carrying the ``Loc`` it came from. Types refer to
records, enums and typedefs by name (``Ref``), resolved through ``Module``; sizes
and offsets are not here: they belong to ``layout.py``, per ABI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .errors import Loc
from .pickling import by_fields

# Scalar kinds, named by width and signedness. "intptr"/"uintptr" are 8 bytes on
# x64 and 4 on x86 (ULONG_PTR, SIZE_T, ...); everything else has one size.
PRIM_KINDS = (
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float", "double", "intptr", "uintptr", "char",
)  # fmt: skip


@by_fields
@dataclass(frozen=True, slots=True)
class Prim:
    """A scalar of a fixed kind (see ``PRIM_KINDS``); ``char`` is C's plain char."""

    kind: str


@by_fields
@dataclass(frozen=True, slots=True)
class Void:
    """C ``void``: only meaningful behind a pointer or as a return type."""


@by_fields
@dataclass(frozen=True, slots=True)
class Pointer:
    """A pointer to ``target``; ``size`` is set for ``__ptr32`` (4) and ``__ptr64`` (8),
    which have that width whatever the ABI."""

    target: Type
    const: bool = False
    size: int | None = None


@by_fields
@dataclass(frozen=True, slots=True)
class Array:
    """A fixed-size array; multi-dimensional arrays nest (``elem`` is an Array).

    ``count`` is a ``Count`` when the length takes a ``sizeof`` (``BYTE
    Reserved[sizeof(PVOID)]``): layout computes it per ABI.
    """

    elem: Type
    count: int | Count


@by_fields
@dataclass(frozen=True, slots=True)
class Count:
    """An integer constant expression with a ``sizeof`` in it, kept as C wrote it.

    ``op`` is ``"int"`` (``args``: value, bits, signed), ``"sizeof"`` (a type),
    ``"cast"`` (bits, signed, operand), ``"?:"`` (three operands), a unary
    operator prefixed with ``u`` (``"u-"``, one operand) or a binary one
    (``"*"``, two operands).
    """

    op: str
    args: tuple[object, ...]

    def __str__(self) -> str:
        if self.op == "int":
            return str(self.args[0])
        if self.op == "sizeof":
            return "sizeof(...)"
        if self.op == "cast":
            return str(self.args[2])
        if self.op == "?:":
            return f"({self.args[0]} ? {self.args[1]} : {self.args[2]})"
        if self.op.startswith("u"):
            return f"{self.op[1:]}{self.args[0]}"
        return f"({self.args[0]} {self.op} {self.args[1]})"


@by_fields
@dataclass(frozen=True, slots=True)
class Ref:
    """A named type: a record (by key), an enum (by key) or a typedef (by name)."""

    kind: Literal["record", "enum", "typedef"]
    name: str


@by_fields
@dataclass(frozen=True, slots=True)
class FuncType:
    """A function type, as pointed to by callback typedefs (``PFND3DKMT_*``)."""

    ret: Type
    params: tuple[Param, ...]
    variadic: bool = False


Type: TypeAlias = Prim | Void | Pointer | Array | Ref | FuncType


@by_fields
@dataclass(frozen=True, slots=True)
class Param:
    """A function parameter with its SAL annotations (``_In_``)."""

    name: str | None
    type: Type
    annotations: tuple[str, ...] = ()


_COMMENT_DIRECTION = re.compile(
    r"^\s*(in|out|in/out|in_out|inout|in[ _,]\s*opt|in \(or out\))\s*(?::\s*|$)", re.I
)
_COMMENT_WORDS = {"in/out": "in, out", "in_out": "in, out", "inout": "in, out",
                  "in (or out)": "in, out"}  # fmt: skip


def comment_direction(comment: str) -> tuple[str | None, str]:
    """A header comment split as ``in: text`` -> ``("in", "text")``.

    Directions are spelled as the reference pages spell them ("in, out", "in, opt").
    """
    match = _COMMENT_DIRECTION.match(comment)
    if not match:
        return None, comment
    word = re.sub(r"[ _,]\s*opt$", ", opt", match.group(1).lower())
    return _COMMENT_WORDS.get(word, word), comment[match.end() :]


@by_fields
@dataclass(frozen=True, slots=True)
class Field:
    """A record member. ``name`` is None for an anonymous struct/union member."""

    name: str | None
    type: Type
    loc: Loc
    bits: int | None = None
    align: int | None = None
    annotations: tuple[str, ...] = ()
    comment: str = ""

    def comment_direction(self) -> tuple[str | None, str]:
        """The header comment split as ``// in: text`` -> ``("in", "text")``."""
        return comment_direction(self.comment)


@by_fields
@dataclass(frozen=True, slots=True)
class Record:
    """A struct or union. ``fields`` is None when the record is only declared.

    ``key`` is unique in the module: the typedef name that names the record, else
    its tag, else (for anonymous nested records) a name made from the parent.
    """

    key: str
    kind: Literal["struct", "union"]
    loc: Loc
    tag: str | None = None
    fields: tuple[Field, ...] | None = None
    pack: int | None = None
    parent: str | None = None
    comment: str = ""
    align: int | None = None  # __declspec(align(n)) on the record itself


@by_fields
@dataclass(frozen=True, slots=True)
class EnumMember:
    """One enumerator and its value."""

    name: str
    value: int
    loc: Loc
    comment: str = ""


@by_fields
@dataclass(frozen=True, slots=True)
class Enum:
    """An enum; MSVC stores every C enum as a 32-bit ``int``."""

    key: str
    loc: Loc
    tag: str | None = None
    members: tuple[EnumMember, ...] = ()


@by_fields
@dataclass(frozen=True, slots=True)
class Platform:
    """The one platform the header declares something for, and how it says so.

    ``name`` is "windows" or "wsl" (the header's non-Windows side: WSL's libdxg);
    ``reason`` is what the header wrote (``#ifdef _WIN32``, or a comment such as
    "Used in WSL to close ..."), found at ``loc``.
    """

    name: str
    reason: str
    loc: Loc


@by_fields
@dataclass(frozen=True, slots=True)
class Typedef:
    """``typedef TYPE NAME;`` — including those naming a record (``D3DKMT_X``).

    ``align`` is a ``__declspec(align(n))`` on the typedef: the type's alignment
    becomes n, and a member of that type needs it whatever ``#pragma pack`` says.
    """

    name: str
    type: Type
    loc: Loc
    align: int | None = None
    platform: Platform | None = None  # None: every platform the header is for


@by_fields
@dataclass(frozen=True, slots=True)
class Constant:
    """An integer ``#define`` (or a const) whose value could be computed.

    ``comment`` is the define's own trailing comment, else the comment block
    directly above the run of defines it belongs to.
    """

    name: str
    value: int
    loc: Loc
    comment: str = ""


@by_fields
@dataclass(frozen=True, slots=True)
class Guid:
    """A ``DEFINE_GUID`` constant."""

    name: str
    data1: int
    data2: int
    data3: int
    data4: tuple[int, ...]
    loc: Loc

    def __str__(self) -> str:
        tail = bytes(self.data4).hex().upper()
        return f"{self.data1:08X}-{self.data2:04X}-{self.data3:04X}-{tail[:4]}-{tail[4:]}"


@by_fields
@dataclass(frozen=True, slots=True)
class Function:
    """A function prototype exported by the kernel thunk (``D3DKMTDestroyAllocation``)."""

    name: str
    ret: Type
    params: tuple[Param, ...]
    loc: Loc
    comment: str = ""  # the header's comment on it, or just above it
    platform: Platform | None = None  # None: every platform the header is for


@by_fields
@dataclass(frozen=True, slots=True)
class SizeCheck:
    """``C_ASSERT(sizeof(X) == N)`` from the header, for one ABI."""

    type: Type
    size: int
    abi: str
    loc: Loc


@by_fields
@dataclass(frozen=True, slots=True)
class Module:
    """Everything one header (with its non-system includes) declares.

    The mappings keep source order, which the renderer follows.
    """

    header: str
    files: tuple[str, ...]
    records: Mapping[str, Record]
    enums: Mapping[str, Enum]
    typedefs: Mapping[str, Typedef]
    constants: tuple[Constant, ...]
    guids: tuple[Guid, ...]
    functions: tuple[Function, ...]
    size_checks: tuple[SizeCheck, ...]
    defines: tuple[tuple[str, str], ...] = ()
    interface_version: str | None = None
    # The ABIs this module is laid out for: the Windows ones together, or "wsl"
    # alone (its header text differs: no _WIN32, so D3DKMT_PTR is a union).
    abis: tuple[str, ...] = ("x64", "x86")

    def resolve(self, type_: Type) -> Type:
        """Follow typedefs until a non-typedef type is reached."""
        while isinstance(type_, Ref) and type_.kind == "typedef":
            type_ = self.typedefs[type_.name].type
        return type_

    def enum_names(self) -> dict[str, str]:
        """Public name of every enum: its first typedef name, else its key."""
        names: dict[str, str] = {}
        for td in self.typedefs.values():
            if isinstance(td.type, Ref) and td.type.kind == "enum":
                names.setdefault(td.type.name, td.name)
        for key in self.enums:
            names.setdefault(key, key)
        return names

    def record_names(self) -> dict[str, str]:
        """Public name of every named record: its first typedef name, else its tag.

        Anonymous nested records keep their made-up key and are not listed.
        """
        names: dict[str, str] = {}
        for td in self.typedefs.values():
            target = td.type
            if isinstance(target, Ref) and target.kind == "record" and target.name not in names:
                names[target.name] = td.name
        for key, rec in self.records.items():
            if key not in names and rec.parent is None and rec.tag:
                names[key] = rec.tag
        return names
