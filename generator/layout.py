"""Stage 4: MSVC record layout, a pure function of the IR and an ABI.

The rules (as MSVC applies them, for the ``x64`` and ``x86`` ABIs):
- scalars are aligned to their size, and 64-bit scalars to 8 bytes on x86 too;
- ``#pragma pack(N)`` caps each member's alignment at N; ``alignas`` raises it;
- a bit-field lives in a unit of its declared type; a new unit starts when the
  type's size changes or the bits do not fit; ``: 0`` after a bit-field closes
  the unit and aligns the next member to its type (in a union: takes its type's
  room), and is ignored anywhere else;
- union members all sit at offset 0, and bit-fields in a union do not count
  towards its alignment; a record is as aligned as its most aligned member, and
  its size is rounded up to that alignment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import ir
from .errors import GeneratorError

ABIS = ("x64", "x86")
POINTER_SIZE = {"x64": 8, "x86": 4}
_SCALAR_SIZE = {
    "char": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "int64": 8, "uint64": 8, "float": 4, "double": 8,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """Where one member sits. For a bit-field, ``offset``/``size`` are its unit's."""

    offset: int
    size: int
    bit_offset: int | None = None
    bits: int | None = None


@dataclass(frozen=True, slots=True)
class RecordLayout:
    """Size, alignment and per-member placement (parallel to ``Record.fields``).

    ``fields[i]`` is None for a ``: 0`` bit-field MSVC ignores; one that ends a unit
    has ``bits == 0`` (its offset is where the next member may start).
    """

    size: int
    align: int
    fields: tuple[FieldLayout | None, ...]
    filler: int = 0  # bytes an empty record gets that no member accounts for
    required: int = 1  # alignment demanded by alignas inside, which pack cannot lower


class Layout:
    """Layouts of every complete record of a module for one ABI, computed once."""

    def __init__(self, module: ir.Module, abi: str) -> None:
        if abi not in POINTER_SIZE:
            raise ValueError(f"unknown ABI {abi!r}")
        self.module = module
        self.abi = abi
        self._records: dict[str, RecordLayout] = {}
        self._busy: set[str] = set()

    def size_align(self, type_: ir.Type) -> tuple[int, int]:
        """Size and alignment of any complete type."""
        type_ = self.module.resolve(type_)
        if isinstance(type_, ir.Prim):
            if type_.kind in ("intptr", "uintptr"):
                size = POINTER_SIZE[self.abi]
            else:
                size = _SCALAR_SIZE[type_.kind]
            return size, size
        if isinstance(type_, ir.Pointer):
            size = POINTER_SIZE[self.abi]
            return size, size
        if isinstance(type_, ir.Array):
            size, align = self.size_align(type_.elem)
            return size * type_.count, align
        if isinstance(type_, ir.Ref) and type_.kind == "enum":
            return 4, 4
        if isinstance(type_, ir.Ref) and type_.kind == "record":
            layout = self.record(type_.name)
            return layout.size, layout.align
        raise TypeError(f"type without a size: {type_}")

    def record(self, key: str) -> RecordLayout:
        """The layout of the record with this key."""
        cached = self._records.get(key)
        if cached is not None:
            return cached
        record = self.module.records[key]
        if record.fields is None:
            raise GeneratorError(record.loc, f"'{key}' is used by value but never defined")
        if key in self._busy:
            raise GeneratorError(record.loc, f"'{key}' contains itself")
        self._busy.add(key)
        try:
            layout = self._lay_out(record)
        finally:
            self._busy.discard(key)
        self._records[key] = layout
        return layout

    def all_records(self) -> dict[str, RecordLayout]:
        """Layouts of every complete record, keyed by record key."""
        return {
            key: self.record(key)
            for key, rec in self.module.records.items()
            if rec.fields is not None
        }

    def required_align(self, type_: ir.Type) -> int:
        """Alignment a type demands through ``alignas`` inside it; ``#pragma pack``
        does not lower it (MSVC's "required alignment")."""
        type_ = self.module.resolve(type_)
        while isinstance(type_, ir.Array):
            type_ = self.module.resolve(type_.elem)
        if isinstance(type_, ir.Ref) and type_.kind == "record":
            return self.record(type_.name).required
        return 1

    def _member_align(self, record: ir.Record, field: ir.Field, natural: int) -> int:
        align = min(natural, record.pack) if record.pack else natural
        return max(align, field.align or 1, self.required_align(field.type))

    def _lay_out(self, record: ir.Record) -> RecordLayout:
        assert record.fields is not None
        is_union = record.kind == "union"
        offset = 0  # first free byte (structs)
        size = 0  # largest member end (unions)
        max_align = 1
        unit: tuple[int, int] | None = None  # open bit-field unit (structs): (offset, size)
        used_bits = 0
        after_bits = False  # the previous member is a bit-field of non-zero width
        placed: list[FieldLayout | None] = []
        for field in record.fields:
            type_size, type_align = self.size_align(field.type)
            align = self._member_align(record, field, type_align)
            follows_bits, after_bits = after_bits, bool(field.bits)
            if field.bits == 0:
                # MSVC: ': 0' right after a bit-field ends its unit; in a struct it
                # aligns what follows (and the record) to its type, in a union it
                # takes its type's room. Anywhere else it is ignored.
                unit = None
                if not follows_bits:
                    placed.append(None)
                    continue
                if is_union:
                    size = max(size, type_size)
                    placed.append(FieldLayout(0, type_size, 0, 0))
                else:
                    offset = _round_up(offset, align)
                    max_align = max(max_align, align)
                    placed.append(FieldLayout(offset, 0, 0, 0))
                continue
            if is_union:
                placed.append(FieldLayout(0, type_size, 0 if field.bits else None, field.bits))
                size = max(size, type_size)
                # MSVC: a bit-field in a union takes room but gives it no alignment.
                if field.bits is None:
                    max_align = max(max_align, align)
                continue
            if field.bits is None:
                unit = None
                start = _round_up(offset, align)
                placed.append(FieldLayout(start, type_size))
            elif unit and unit[1] == type_size and used_bits + field.bits <= type_size * 8:
                placed.append(FieldLayout(unit[0], unit[1], used_bits, field.bits))
                used_bits += field.bits
                continue
            else:
                start = _round_up(offset, align)
                unit, used_bits = (start, type_size), field.bits
                placed.append(FieldLayout(start, type_size, 0, field.bits))
            offset = start + type_size
            max_align = max(max_align, align)
        total = _round_up(size if is_union else offset, max_align)
        # clang's MSVC C layout (our oracle) gives a record with no bytes 4 of them.
        filler = 4 if total == 0 else 0
        required = max(
            [1] + [max(f.align or 1, self.required_align(f.type)) for f in record.fields]
        )
        return RecordLayout(total + filler, max_align, tuple(placed), filler, required)

    def paths(self, key: str) -> Iterator[tuple[str, int, int | None, int | None]]:
        """Every member as ``(path, byte offset, bit offset, bit size)``.

        Paths are what a Python user writes: anonymous members lifted into their
        parent, named record members dotted (``Parts.LowPart``); offsets count from
        the start of the outermost record, bit offsets in bits.
        """
        for path, _field, start, place in self.members(key):
            if place.bits is not None:
                yield path, start, start * 8 + (place.bit_offset or 0), place.bits
            else:
                yield path, start, None, None

    def members(self, key: str) -> Iterator[tuple[str, ir.Field, int, FieldLayout]]:
        """Every member as ``(path, field, byte offset, placement)``, in the order
        and with the paths of ``paths()``; the offset counts from the outermost
        record, the placement is the member's own (a bit-field's unit)."""
        yield from self._members(key, "", 0)

    def _members(
        self, key: str, prefix: str, base: int
    ) -> Iterator[tuple[str, ir.Field, int, FieldLayout]]:
        record = self.module.records[key]
        layout = self.record(key)
        for field, place in zip(record.fields or (), layout.fields, strict=True):
            if place is None or place.bits == 0:
                continue
            target = self.module.resolve(field.type)
            nested = target.name if isinstance(target, ir.Ref) and target.kind == "record" else None
            start = base + place.offset
            if field.name is None:
                if nested:
                    yield from self._members(nested, prefix, start)
                continue
            path = prefix + field.name
            yield path, field, start, place
            if place.bits is None and nested and self.module.records[nested].fields is not None:
                yield from self._members(nested, path + ".", start)


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def layouts(module: ir.Module) -> Mapping[str, Layout]:
    """One ``Layout`` per supported ABI."""
    return {abi: Layout(module, abi) for abi in ABIS}
