"""How a record becomes the body of a ctypes class that MSVC would lay out the same.

``_fields_`` with a unit integer for each run of bit-fields, and made-up members
(aligners, padding) where MSVC places a member in a way ctypes has no word for;
the anonymous members ctypes lifts into the class; the bit-field accessors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import ir
from .layout import FieldLayout, Layout, RecordLayout
from .spelling import Spelling, emitted
from .views import BitFieldView, FieldView

_UNIT_TYPES = {1: "c_uint8", 2: "c_uint16", 4: "c_uint32", 8: "c_uint64"}
_SIGNED_KINDS = {"char", "int8", "int16", "int32", "int64", "intptr"}


@dataclass(frozen=True, slots=True)
class ClassBody:
    """What a record's class declares: ``_anonymous_``, ``_fields_``, bit-fields, alignment.

    ``align`` is the alignment to ask 3.13+ for, where ``#pragma pack`` keeps
    ctypes below MSVC's; else None.
    """

    anonymous: tuple[str, ...]
    fields: tuple[FieldView, ...]
    bitfields: tuple[BitFieldView, ...]
    align: int | None
    enum_fields: tuple[tuple[str, str], ...] = ()  # (member, IntEnum class), lifted too


class RecordClasses:
    """Builds the class bodies of one module's records, each once."""

    def __init__(
        self, module: ir.Module, layouts: Mapping[str, Layout], spelling: Spelling
    ) -> None:
        self.module = module
        self.layouts = layouts
        self.spelling = spelling
        self._bodies: dict[str, ClassBody] = {}

    def body(self, key: str) -> ClassBody:
        """The class body of a defined record."""
        if key not in self._bodies:
            self._bodies[key] = self._body(key)
        return self._bodies[key]

    def _body(self, key: str) -> ClassBody:
        if self.module.abis == ("wsl",):
            return self._body_sysv(key)
        abis = self.module.abis
        record = self.module.records[key]
        anonymous: list[str] = []
        fields: list[FieldView] = []
        bitfields: list[BitFieldView] = []
        enum_fields: list[tuple[str, str]] = []
        layout = self.layouts["x64"].record(key)
        # ctypes copies the members of an anonymous member into its parent, so the
        # names we make up must be unique across the parent and everything lifted
        # into it: they carry the record's scope ("_0_1" for the second anonymous
        # member of the first one). C members never take them (spelling.MADE_UP).
        scope = self._scope(key)
        units = _UnitNamer(scope)
        aligners = 0
        is_struct = record.kind == "struct"
        per_abi = {abi: self.layouts[abi].record(key) for abi in abis}
        ends = dict.fromkeys(abis, 0)  # where the previous member ends, per ABI
        members = zip(record.fields or (), layout.fields, strict=True)
        leading = self._record_aligner(record, layout)
        if leading:
            fields.append(FieldView(f"_align{scope}_{aligners}", leading))
            aligners += 1
        for index, (member, place) in enumerate(members):
            aligner = self._aligner(record, member, place, per_abi, index, ends)
            if aligner:
                fields.append(FieldView(f"_align{scope}_{aligners}", aligner))
                aligners += 1
            if place is not None and is_struct:
                for abi in abis:  # a ': 0' moves the end to its aligned offset
                    there = per_abi[abi].fields[index]
                    ends[abi] = max(ends[abi], there.offset + there.size)
            if place is None or place.bits == 0:
                units.close()
                continue
            if member.bits is not None:
                unit = units.unit_for(place)
                if unit is not None:
                    # In a union MSVC gives bit-fields no alignment: bytes, not an int.
                    unit_type = (
                        _UNIT_TYPES[place.size] if is_struct else f"(c_uint8 * {place.size})"
                    )
                    fields.append(FieldView(unit, unit_type))
                if member.name:
                    bitfields.append(
                        BitFieldView(
                            self.spelling.names.member(key, member.name),
                            (units.current,),
                            place.bit_offset or 0,
                            member.bits,
                            self._is_signed(member.type),
                            self._enum_class(member.type),
                        )  # fmt: skip
                    )
                continue
            units.close()
            self._plain_member(key, member, anonymous, fields, bitfields, enum_fields)
        if layout.filler:
            fillers = {abi: per_abi[abi].filler for abi in abis}
            fields.append(FieldView(f"_empty{scope}", _bytes_by_abi(fillers)))
            ends = {abi: max(ends[abi], fillers[abi]) for abi in abis}
        # Under #pragma pack ctypes cannot align past the pack, though MSVC does for
        # alignas: pad the tail to MSVC's size (and ask 3.13+ for the alignment).
        align_attr = None
        if record.pack and layout.align > record.pack:
            align_attr = layout.align
            if is_struct:
                # Members sit where MSVC puts them; the tail bytes make up the size
                # (a multiple of any alignment ctypes rounds it to).
                tails = {abi: per_abi[abi].size - ends[abi] for abi in abis}
            else:
                tails = {abi: per_abi[abi].size for abi in abis}
            if any(tails.values()):
                fields.append(FieldView(f"_tail{scope}", _bytes_by_abi(tails)))
        return ClassBody(
            tuple(anonymous), tuple(fields), tuple(bitfields), align_attr, tuple(enum_fields)
        )

    def _plain_member(
        self,
        key: str,
        member: ir.Field,
        anonymous: list[str],
        fields: list[FieldView],
        bitfields: list[BitFieldView],
        enum_fields: list[tuple[str, str]],
    ) -> None:
        """A member that is no bit-field: as ctypes declares it (anonymous ones lifted)."""
        if member.name is None:
            target = self.module.resolve(member.type)
            attr = "_u" + self._scope(target.name)
            anonymous.append(attr)
            fields.append(FieldView(attr, self.spelling.ctype(member.type)))
            bitfields.extend(self._lifted_bitfields(member.type, (attr,)))
            enum_fields.extend(self.body(target.name).enum_fields)
        else:
            name = self.spelling.names.member(key, member.name)
            fields.append(FieldView(name, self.spelling.ctype(member.type)))
            enum_class = self._enum_class(member.type)
            if enum_class:
                enum_fields.append((name, enum_class))

    def _body_sysv(self, key: str) -> ClassBody:
        """The class body for the wsl ABI (System V x86-64, GCC's layout).

        ctypes on Linux already places plain members as GCC does (``_pack_``
        included); only bit-fields differ (GCC packs them across types, at the
        next free bit). Each run of bit-fields becomes one unit holding exactly
        the bytes GCC gives it, padding bytes go where GCC skips to a boundary,
        and an aligner gives the class the alignment named bit-fields or
        ``aligned`` attributes give the record.
        """
        record = self.module.records[key]
        engine = self.layouts["wsl"]
        layout = engine.record(key)
        scope = self._scope(key)
        is_union = record.kind == "union"
        pack = engine.pack(record)
        anonymous: list[str] = []
        fields: list[FieldView] = []
        bitfields: list[BitFieldView] = []
        enum_fields: list[tuple[str, str]] = []
        end = 0  # bytes ctypes has laid out so far (a union: its largest member)
        have = 1  # the alignment ctypes gives the class so far
        pads = units = 0
        members = list(zip(record.fields or (), layout.fields, strict=True))
        index = 0
        while index < len(members):
            member, place = members[index]
            if place is None or member.bits == 0:
                index += 1  # ': 0' only moves what follows, whose offset we know
                continue
            if member.bits is None:
                align = self._ctypes_align(member.type)
                align = min(align, pack) if pack else align
                if not is_union and _round_up(end, align) != place.offset:
                    fields.append(FieldView(f"_align{scope}_{pads}", _bytes(place.offset - end)))
                    pads += 1
                end = max(end, place.size) if is_union else place.offset + place.size
                have = max(have, align)
                self._plain_member(key, member, anonymous, fields, bitfields, enum_fields)
                index += 1
                continue
            # A run of bit-fields (in a union: one): the bytes their bits fall in.
            run = [(member, place)]
            index += 1
            while not is_union and index < len(members) and members[index][0].bits:
                run.append(members[index])
                index += 1
            starts = [p.offset * 8 + (p.bit_offset or 0) for _, p in run]
            first = min(starts) // 8
            last = max(s + (m.bits or 0) for s, (m, _) in zip(starts, run, strict=True))
            width = (last + 7) // 8 - first
            if not is_union and first > end:
                fields.append(FieldView(f"_align{scope}_{pads}", _bytes(first - end)))
                pads += 1
            name = f"_bits{scope}_{units}"
            units += 1
            if width in _UNIT_TYPES and first % width == 0 and width <= layout.align:
                fields.append(FieldView(name, _UNIT_TYPES[width]))
                have = max(have, min(width, pack) if pack else width)
            else:
                fields.append(FieldView(name, _bytes(width)))
            end = max(end, width) if is_union else first + width
            for (bit_member, _), start in zip(run, starts, strict=True):
                if bit_member.name:
                    bitfields.append(
                        BitFieldView(
                            self.spelling.names.member(key, bit_member.name),
                            (name,),
                            start - first * 8,
                            bit_member.bits or 0,
                            self._is_signed(bit_member.type),
                            self._enum_class(bit_member.type),
                        )  # fmt: skip
                    )
        align_attr = None
        if have < layout.align:
            if pack and layout.align > pack:
                align_attr = layout.align  # _pack_ caps an aligner too
            else:
                fields.insert(0, FieldView(f"_align{scope}_{pads}", _aligner(layout.align)))
                have = layout.align
        # GCC's size where ctypes would stop short (an aligned record, say); the
        # class alignment set past a pack does not round ctypes' size up.
        if layout.size > _round_up(end, have):
            tail = layout.size if is_union else layout.size - end
            fields.append(FieldView(f"_tail{scope}", _bytes(tail)))
        return ClassBody(
            tuple(anonymous), tuple(fields), tuple(bitfields), align_attr, tuple(enum_fields)
        )

    def _aligner(
        self,
        record: ir.Record,
        member: ir.Field,
        place: FieldLayout | None,
        per_abi: Mapping[str, RecordLayout],
        index: int,
        ends: Mapping[str, int],
    ) -> str | None:
        """A made-up member giving MSVC placement ctypes has no word for, or None.

        ': 0' after a bit-field: a zero-length array aligned as it is (in a union,
        its type's bytes). A member, or a bit-field unit starting, aligned past
        what ctypes would give (alignas, an aligned typedef or record): a
        zero-length array with that alignment, the same on every ABI; under
        #pragma pack, which caps that too, the padding bytes themselves, per ABI.
        """
        if place is None:
            return None
        engine = self.layouts["x64"]
        abis = self.module.abis
        if place.bits == 0 and record.kind == "union":
            return f"(c_uint8 * {engine.size_align(member.type)[0]})"
        if place.bits == 0:
            # What follows is aligned as the ': 0' is, whatever ctypes would do.
            required, have = engine.member_align(record, member), 1
        elif member.bits is not None:
            # MSVC aligns a bit-field's unit where one starts (never in a union);
            # ctypes aligns our unit integer to its size.
            if record.kind == "union" or place.bit_offset:
                return None
            required, have = engine.member_align(record, member), place.size
        else:
            required = max(member.align or 1, engine.required_align(member.type))
            have = self._ctypes_align(member.type)
        if record.pack:
            have = min(have, record.pack)
        if required <= have:
            return None
        if not record.pack or required <= record.pack:
            return _aligner(required)
        if record.kind == "union":
            return None  # offsets are 0; the tail padding gives the size
        return _bytes_by_abi({abi: per_abi[abi].fields[index].offset - ends[abi] for abi in abis})

    def _record_aligner(self, record: ir.Record, layout: RecordLayout) -> str | None:
        """A leading aligner for ``__declspec(align(n))`` on the record itself, where
        its members would not align it that far (under a smaller #pragma pack the
        class's alignment is set instead)."""
        if not record.align or (record.pack and record.align > record.pack):
            return None
        have = max(
            [1] + [self._ctypes_align(f.type) for f in record.fields or () if f.bits is None]
        )
        return _aligner(record.align) if record.align > have else None

    def _ctypes_align(self, type_: ir.Type) -> int:
        """The alignment ctypes gives a member of this type in our classes (x64).

        Every record class has MSVC's alignment (aligners, ``_align_``); an aligned
        typedef's is spelled as its underlying type, so has that one's.
        """
        engine = self.layouts[self.module.abis[0]]
        target = self.module.resolve(type_)
        while isinstance(target, ir.Array):
            target = self.module.resolve(target.elem)
        if isinstance(target, ir.Ref) and target.kind == "record":
            return engine.record(target.name).align
        return engine.size_align(target)[1]

    def _scope(self, key: str) -> str:
        """Where a record sits among the anonymous members lifted into one class.

        "" for a record that is not an anonymous member; else its parent's scope
        plus its own suffix ("_0" for the first anonymous member, "_0_1", ...).
        """
        record = self.module.records[key]
        parent = self.module.records.get(record.parent or "")
        if parent is None:
            return ""
        anonymous = any(
            f.name is None and isinstance(f.type, ir.Ref) and f.type.name == key
            for f in parent.fields or ()
        )
        return self._scope(parent.key) + key[len(parent.key) :] if anonymous else ""

    def _lifted_bitfields(self, type_: ir.Type, prefix: tuple[str, ...]) -> list[BitFieldView]:
        """Bit-fields of an anonymous member, reachable from the parent by path."""
        lifted = [
            BitFieldView(b.name, prefix + b.path, b.shift, b.bits, b.signed, b.enum)
            for b in self.body(self.module.resolve(type_).name).bitfields
        ]
        return lifted

    def _enum_class(self, type_: ir.Type) -> str | None:
        """The IntEnum class a member of this type reads back as, if the module has one."""
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            enum = self.module.enums.get(resolved.name)
            if enum is not None and enum.members and emitted(enum.loc):
                return self.spelling.enum_name(resolved.name)
        return None

    def _is_signed(self, type_: ir.Type) -> bool:
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            # MSVC: an int; GCC (wsl): unsigned when no value is negative and one needs it.
            return self.layouts[self.module.abis[0]].enum_type(resolved.name)[1]
        return isinstance(resolved, ir.Prim) and resolved.kind in _SIGNED_KINDS


class _UnitNamer:
    """Names bit-field units ``_bits{scope}_0``, ``_bits{scope}_1``, ... as they open."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.count = 0
        self.open_at: tuple[int, int] | None = None
        self.current = ""

    def unit_for(self, place) -> str | None:  # noqa: ANN001
        key = (place.offset, place.size)
        if self.open_at == key and place.bit_offset:
            return None
        self.open_at = key
        self.current = f"_bits{self.scope}_{self.count}"
        self.count += 1
        return self.current

    def close(self) -> None:
        self.open_at = None


def _bytes(count: int) -> str:
    return f"(c_uint8 * {count})"


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _bytes_by_abi(counts: Mapping[str, int]) -> str:
    """A byte array whose length may differ per ABI (chosen when the module loads)."""
    if len(set(counts.values())) == 1:
        return _bytes(next(iter(counts.values())))
    return f'(c_uint8 * ({counts["x64"]} if _ABI == "x64" else {counts["x86"]}))'


def _aligner(align: int) -> str:
    """A zero-length array whose alignment is ``align``."""
    if align in _UNIT_TYPES:
        return f"({_UNIT_TYPES[align]} * 0)"
    return f"(_aligned({align}) * 0)"
