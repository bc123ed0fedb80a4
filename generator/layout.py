"""Stage 4: MSVC record layout, a pure function of the IR and an ABI.

The rules (as MSVC applies them, for the ``x64`` and ``x86`` ABIs):
- scalars are aligned to their size, and 64-bit scalars to 8 bytes on x86 too;
  ``__ptr32``/``__ptr64`` pointers are 4/8 bytes on both;
- ``#pragma pack(N)`` caps each member's natural alignment at N, unless N is
  wider than the ABI's pointers (pack(8) on x86 caps nothing); what a member
  *requires* is not capped: its own ``alignas``/``__declspec(align)``, an aligned
  typedef's or record's alignment, what records inside it require;
- ``__declspec(align(n))`` on a record raises its alignment (and size) to n; on a
  typedef it replaces the type's alignment (a member still gets at least the
  underlying type's natural one); on a bit-field it aligns the bit-field's unit
  when one starts there (never in a union) and is required by nothing outside;
- a bit-field lives in a unit of its declared type; a new unit starts when the
  type's size changes or the bits do not fit; ``: 0`` after a bit-field closes
  the unit and aligns the next member to its type (in a union: takes its type's
  room), and is ignored anywhere else;
- union members all sit at offset 0, and bit-fields in a union do not count
  towards its alignment; a record is as aligned as its most aligned member, and
  its size is rounded up to that alignment.

For ``wsl`` (Linux x86-64 under WSL 2) the System V rules, as GCC applies them:
- members align to their type (raised by ``aligned``/``alignas``), all capped by
  any ``#pragma pack``;
- a bit-field goes at the next free bit, whatever the types before it, unless it
  would cross a boundary of its type's alignment past its type's size (then it
  moves to that boundary; under any ``#pragma pack`` it never does); ``: 0``
  moves to its type's boundary; named bit-fields align the record, unnamed don't;
- an enum is an int unless its values need unsigned int or 64 bits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import ir
from .cint import NotConstant, Value, binary, unary, wrap
from .errors import GeneratorError, Loc
from .pickling import by_fields

ABIS = ("x64", "x86")  # the Windows ABIs: one module carries both
WSL_ABIS = ("wsl",)  # Linux x86-64 under WSL 2 (System V): a module of its own
ALL_ABIS = ABIS + WSL_ABIS
POINTER_SIZE = {"x64": 8, "x86": 4, "wsl": 8}
_SCALAR_SIZE = {
    "char": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "int64": 8, "uint64": 8, "float": 4, "double": 8,
}  # fmt: skip


@by_fields
@dataclass(frozen=True, slots=True)
class FieldLayout:
    """Where one member sits. For a bit-field, ``offset``/``size`` are its unit's."""

    offset: int
    size: int
    bit_offset: int | None = None
    bits: int | None = None


@by_fields
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
        if isinstance(type_, ir.Ref) and type_.kind == "typedef":
            typedef = self.module.typedefs[type_.name]
            size, align = self.size_align(typedef.type)
            # clang (MSVC targets): an aligned typedef's alignment replaces the type's.
            return size, typedef.align or align
        if isinstance(type_, ir.Prim):
            if type_.kind in ("intptr", "uintptr"):
                size = POINTER_SIZE[self.abi]
            else:
                size = _SCALAR_SIZE[type_.kind]
            return size, size
        if isinstance(type_, ir.Pointer):
            size = type_.size or POINTER_SIZE[self.abi]
            return size, size
        if isinstance(type_, ir.Array):
            size, align = self.size_align(type_.elem)
            return size * self.count(type_), align
        if isinstance(type_, ir.Ref) and type_.kind == "enum":
            size = self.enum_type(type_.name)[0]
            return size, size
        if isinstance(type_, ir.Ref) and type_.kind == "record":
            layout = self.record(type_.name)
            return layout.size, layout.align
        raise TypeError(f"type without a size: {type_}")

    def enum_type(self, key: str) -> tuple[int, bool]:
        """An enum's size and signedness: MSVC's are ints; GCC's (wsl) the first of
        int, unsigned int, long, unsigned long that holds every value."""
        enum = self.module.enums.get(key)
        values = [m.value for m in enum.members] if enum is not None else []
        low, high = min(values, default=0), max(values, default=0)
        if self.abi != "wsl" or (low >= -(1 << 31) and high < (1 << 31)):
            return 4, True
        if low >= 0:
            return (4, False) if high < (1 << 32) else (8, False)
        return 8, True

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
            layout = self._lay_out_sysv(record) if self.abi == "wsl" else self._lay_out(record)
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

    def count(self, array: ir.Array) -> int:
        """The length of an array on this ABI."""
        if isinstance(array.count, int):
            return array.count
        try:
            value = self._value(array.count)[0]
        except NotConstant as exc:
            raise GeneratorError(
                Loc(self.module.header), f"array size {array.count} on {self.abi}: {exc}"
            ) from None
        if value < 0:
            raise GeneratorError(
                Loc(self.module.header), f"array size {array.count} is {value} on {self.abi}"
            )
        return value

    def _value(self, expr: ir.Count) -> Value:
        args = expr.args
        if expr.op == "int":
            return args  # type: ignore[return-value]
        if expr.op == "sizeof":
            # sizeof gives a size_t: as wide as a pointer, unsigned.
            return self.size_align(args[0])[0], POINTER_SIZE[self.abi] * 8, False  # type: ignore[arg-type]
        values = [self._value(a) for a in args if isinstance(a, ir.Count)]
        if expr.op == "cast":
            bits, signed = args[0], args[1]
            return wrap(values[0][0], bits, signed), bits, signed  # type: ignore[arg-type]
        if expr.op == "?:":
            return values[1] if values[0][0] else values[2]
        if expr.op.startswith("u"):
            return unary(expr.op[1:], values[0])
        return binary(expr.op, values[0], values[1])

    def required_align(self, type_: ir.Type) -> int:
        """Alignment a member of this type requires, which ``#pragma pack`` does not
        lower (MSVC's "required alignment"): an aligned typedef's or record's
        whole alignment, and what the records inside require."""
        required = self.size_align(type_)[1] if self._align_required(type_) else 1
        base = self.module.resolve(type_)
        while isinstance(base, ir.Array):
            base = self.module.resolve(base.elem)
        if isinstance(base, ir.Ref) and base.kind == "record":
            required = max(required, self.record(base.name).required)
        return required

    def _align_required(self, type_: ir.Type) -> bool:
        """Whether the type's alignment comes from a __declspec(align) on it."""
        while True:
            if isinstance(type_, ir.Ref) and type_.kind == "typedef":
                typedef = self.module.typedefs[type_.name]
                if typedef.align:
                    return True
                type_ = typedef.type
            elif isinstance(type_, ir.Array):
                type_ = type_.elem
            elif isinstance(type_, ir.Ref) and type_.kind == "record":
                return bool(self.module.records[type_.name].align)
            else:
                return False

    def natural_align(self, type_: ir.Type) -> int:
        """A member's alignment before pack and alignas: that of the type under its
        typedef names (an aligned typedef's own alignment is required instead)."""
        return self.size_align(self.module.resolve(type_))[1]

    def pack(self, record: ir.Record) -> int | None:
        """The record's ``#pragma pack`` on this ABI: MSVC ignores one wider than a pointer."""
        if self.abi == "wsl":
            return record.pack  # GCC caps at any pack
        return record.pack if record.pack and record.pack <= POINTER_SIZE[self.abi] else None

    def member_align(self, record: ir.Record, field: ir.Field) -> int:
        """Where a member (or the unit a bit-field starts) is aligned in ``record``."""
        natural = self.natural_align(field.type)
        pack = self.pack(record)
        align = min(natural, pack) if pack else natural
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
            type_size = self.size_align(field.type)[0]
            align = self.member_align(record, field)
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
        # What the record requires (a bit-field's alignas is not required outside).
        required = max(
            [record.align or 1]
            + [
                max(f.align or 1, self.required_align(f.type))
                for f in record.fields
                if f.bits is None
            ]
        )
        max_align = max(max_align, required)
        total = _round_up(size if is_union else offset, max_align)
        # clang's MSVC C layout (our oracle) gives a record with no bytes 4 of them,
        # or its alignment when a __declspec(align) of 4 or more asks for one.
        filler = 0 if total else max_align if required >= 4 else 4
        return RecordLayout(total + filler, max_align, tuple(placed), filler, required)

    def _lay_out_sysv(self, record: ir.Record) -> RecordLayout:
        """System V x86-64 (GCC) layout; positions are counted in bits."""
        assert record.fields is not None
        is_union = record.kind == "union"
        pack = self.pack(record)
        pos = 0  # first free bit (structs); largest member end in bits (unions)
        max_align = record.align or 1
        placed: list[FieldLayout | None] = []
        for field in record.fields:
            type_size, type_align = self.size_align(field.type)
            if field.bits is None:
                # GCC: alignas/aligned raise a member's alignment; pack caps it all.
                align = max(type_align, field.align or 1)
                align = min(align, pack) if pack else align
                max_align = max(max_align, align)
                start = 0 if is_union else _round_up(pos, align * 8)
                placed.append(FieldLayout(start // 8, type_size))
                pos = max(pos, type_size * 8) if is_union else start + type_size * 8
                continue
            if field.bits == 0:
                # GCC: ': 0' moves to the next boundary of its type (pack does not
                # cap that) and, unnamed, gives the record no alignment.
                start = 0 if is_union else _round_up(pos, type_align * 8)
                pos = max(pos, start)
                placed.append(FieldLayout(start // 8, 0, 0, 0))
                continue
            align = max(type_align, field.align or 1)
            align = min(align, pack) if pack else align
            start = 0 if is_union else pos
            # GCC: a bit-field goes at the next bit unless it would cross a boundary
            # of its alignment unit past its type's size (any #pragma pack stops
            # that padding); its own aligned attribute counts where no smaller pack
            # overrides it.
            if not pack and start % (align * 8) + field.bits > type_size * 8:
                start = _round_up(start, align * 8)
            elif field.align and (not pack or field.align <= pack):
                start = _round_up(start, field.align * 8)
            if field.name is not None:
                max_align = max(max_align, align)
            placed.append(FieldLayout(start // 8, type_size, start % 8, field.bits))
            pos = max(pos, start + field.bits) if is_union else start + field.bits
        total = _round_up((pos + 7) // 8, max_align)
        return RecordLayout(total, max_align, tuple(placed))

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
        # One walk with a stack of the records being entered, not a generator per
        # nesting level: a member deep inside costs no more than one at the top.
        stack = [(iter(self._placed(key)), "", 0)]
        while stack:
            fields, prefix, base = stack[-1]
            for field, place in fields:
                target = self.module.resolve(field.type)
                nested = (
                    target.name if isinstance(target, ir.Ref) and target.kind == "record" else None
                )
                start = base + place.offset
                if field.name is None:
                    if nested:
                        stack.append((iter(self._placed(nested)), prefix, start))
                        break
                    continue
                path = prefix + field.name
                yield path, field, start, place
                if place.bits is None and nested and self.module.records[nested].fields is not None:
                    stack.append((iter(self._placed(nested)), path + ".", start))
                    break
            else:
                stack.pop()

    def _placed(self, key: str) -> Iterator[tuple[ir.Field, FieldLayout]]:
        """A record's members that take room, with their placements."""
        layout = self.record(key)
        for field, place in zip(self.module.records[key].fields or (), layout.fields, strict=True):
            if place is not None and place.bits != 0:
                yield field, place


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def layouts(module: ir.Module) -> Mapping[str, Layout]:
    """One ``Layout`` per ABI the module is for (``module.abis``)."""
    return {abi: Layout(module, abi) for abi in module.abis}
