"""Stage 7: turn the IR, layouts, docs and rules into Python text with jinja2.

Everything the templates print is computed here, into plain view objects; the
templates only lay text out. This is the only module that imports jinja2.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import ir
from .docs import DocIndex, DocMember, DocPage, wrap_text
from .layout import ABIS, FieldLayout, Layout, RecordLayout
from .rules import Rule

_CTYPES = {
    "char": "c_char", "int8": "c_int8", "uint8": "c_uint8", "int16": "c_int16",
    "uint16": "c_uint16", "int32": "c_int32", "uint32": "c_uint32", "int64": "c_int64",
    "uint64": "c_uint64", "float": "c_float", "double": "c_double", "intptr": "c_ssize_t",
    "uintptr": "c_size_t",
}  # fmt: skip
_C_NAMES = {
    "char": "char", "int8": "signed char", "uint8": "unsigned char", "int16": "short",
    "uint16": "unsigned short", "int32": "int", "uint32": "unsigned int",
    "int64": "long long", "uint64": "unsigned long long", "float": "float",
    "double": "double", "intptr": "INT_PTR", "uintptr": "UINT_PTR",
}  # fmt: skip
_UNIT_TYPES = {1: "c_uint8", 2: "c_uint16", 4: "c_uint32", 8: "c_uint64"}
_SIGNED_KINDS = {"char", "int8", "int16", "int32", "int64", "intptr"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
DOC_WIDTH = 79
PRELUDE = "<prelude>"


# -- text filters (registered on the environment) ------------------------------------
def docstring_body(text: str) -> str:
    """Make text safe inside a triple-quoted, non-raw Python string.

    Backslashes, triple quotes and control characters from outside text (doc
    pages, header comments) must not change the string or end it early.
    """
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


def py_string(text: str) -> str:
    """A Python string literal for any text, double-quoted as ruff format would."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def py_tuple(items: Sequence[str]) -> str:
    """A tuple literal of strings."""
    inner = ", ".join(py_string(item) for item in items)
    return f"({inner},)" if len(items) == 1 else f"({inner})"


FILTERS = {"docstring": docstring_body, "pystr": py_string, "pytuple": py_tuple}


# -- view objects -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldView:
    """One entry of ``_fields_``."""

    name: str
    ctype: str


@dataclass(frozen=True, slots=True)
class BitFieldView:
    """A bit-field member, read through a unit integer."""

    name: str
    path: tuple[str, ...]
    shift: int
    bits: int
    signed: bool


@dataclass(frozen=True, slots=True)
class RuleView:
    """One check in ``validate()``; ``cite`` is already comment lines.

    ``broken`` is the Python test that is true when the rule does not hold.
    """

    broken: str
    member: str
    message: str
    cite: str
    long: bool = False


@dataclass(frozen=True, slots=True)
class StubMember:
    """A member as the .pyi stub shows it: name, Python type, documentation."""

    name: str
    py_type: str
    doc: str


@dataclass(frozen=True, slots=True)
class RecordView:
    """Everything printed for one record class."""

    name: str
    base: str
    doc: str
    pack: int | None
    anonymous: tuple[str, ...]
    fields: tuple[FieldView, ...]
    bitfields: tuple[BitFieldView, ...]
    rules: tuple[RuleView, ...]
    members: tuple[StubMember, ...] = ()
    todo: tuple[str, ...] = ()
    align: int | None = None
    opaque: bool = False


@dataclass(frozen=True, slots=True)
class EnumView:
    """An IntEnum class and its members."""

    name: str
    doc: str
    members: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class FunctionView:
    """A lazily bound function of gdi32.dll."""

    name: str
    restype: str
    argtypes: tuple[str, ...]
    argnames: tuple[str, ...]
    doc: str


@dataclass(frozen=True, slots=True)
class AliasView:
    """A typedef: a plain alias, or (with a docstring) a callback type.

    For a callback, ``expr`` is its signature: return type, then argument types.
    """

    name: str
    expr: str
    doc: str | None = None


@dataclass(slots=True)
class ModuleView:
    """The whole module, in the order it is printed."""

    banner: tuple[str, ...]
    doc: str
    constants: list[tuple[str, int]] = field(default_factory=list)
    guids: list[tuple[str, str]] = field(default_factory=list)
    enums: list[EnumView] = field(default_factory=list)
    aliases: list[AliasView] = field(default_factory=list)
    records: list[RecordView] = field(default_factory=list)
    fields_order: list[RecordView] = field(default_factory=list)
    late_aliases: list[AliasView] = field(default_factory=list)
    functions: list[FunctionView] = field(default_factory=list)
    layout_table: list[tuple[str, str]] = field(default_factory=list)
    size_checks: list[tuple[str, str, int, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    stub_imports: list[str] = field(default_factory=list)


class _Builder:
    """Builds the ``ModuleView`` of one module."""

    def __init__(
        self,
        module: ir.Module,
        layouts: Mapping[str, Layout],
        docs: DocIndex,
        rules: Mapping[str, Sequence[Rule]],
        stubs: Mapping[str, Sequence[str]],
    ) -> None:
        self.module = module
        self.layouts = layouts
        self.docs = docs
        self.rules = rules
        self.stubs = stubs
        self.public = module.record_names()
        self.enum_names = module.enum_names()
        self.used_prelude = _used_prelude_records(module)
        self.coverage = Coverage()

    # -- names and types ---------------------------------------------------------------
    def record_name(self, key: str) -> str:
        return self.public.get(key, key)

    def emitted(self, loc: ir.Loc) -> bool:
        return loc.file != PRELUDE

    def ctype(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Prim):
            return _CTYPES[type_.kind]
        if isinstance(type_, ir.Void):
            return "None"
        if isinstance(type_, ir.Pointer):
            target = self.module.resolve(type_.target)
            if isinstance(target, ir.Void):
                return "c_void_p"
            if isinstance(target, ir.FuncType):
                return self.ctype(target)
            return f"POINTER({self.ctype(type_.target)})"
        if isinstance(type_, ir.Array):
            return f"({self.ctype(type_.elem)} * {type_.count})"
        if isinstance(type_, ir.FuncType):
            args = ", ".join(self.ctype(p.type) for p in type_.params)
            return f"_FUNCTYPE({self.ctype(type_.ret)}{', ' if args else ''}{args})"
        if type_.kind == "enum":
            return "c_int32"
        if type_.kind == "record":
            return self.record_name(type_.name)
        typedef = self.module.typedefs[type_.name]
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return "c_int32"  # the typedef's name is the IntEnum class
        if self.emitted(typedef.loc):
            return type_.name
        return self.ctype(typedef.type)

    def c_spelling(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Prim):
            return _C_NAMES[type_.kind]
        if isinstance(type_, ir.Void):
            return "void"
        if isinstance(type_, ir.Pointer):
            return self.c_spelling(type_.target) + "*"
        if isinstance(type_, ir.Array):
            return f"{self.c_spelling(type_.elem)}[{type_.count}]"
        if isinstance(type_, ir.FuncType):
            return "function"
        if type_.kind == "record":
            return self.record_name(type_.name)
        if type_.kind == "enum":
            return self.enum_names.get(type_.name, type_.name)
        return type_.name

    # -- records -----------------------------------------------------------------------
    def record_view(self, key: str) -> RecordView:
        record = self.module.records[key]
        name = self.record_name(key)
        if record.fields is None:
            doc = f"{name}: declared but never defined by the header; usable only by pointer."
            base = "Union" if record.kind == "union" else "Structure"
            return RecordView(name, base, doc, None, (), (), (), (), opaque=True)
        page = self.docs.find(name) or (self.docs.find(record.tag) if record.tag else None)
        anonymous: list[str] = []
        fields: list[FieldView] = []
        bitfields: list[BitFieldView] = []
        layout = self.layouts["x64"].record(key)
        # ctypes copies the members of an anonymous member into its parent, so the
        # names we make up must be unique across the parent and everything lifted
        # into it: they carry the record's scope ("_0_1" for the second anonymous
        # member of the first one).
        scope = self._scope(key)
        units = _UnitNamer(scope)
        aligners = 0
        is_struct = record.kind == "struct"
        per_abi = {abi: self.layouts[abi].record(key) for abi in ABIS}
        ends = dict.fromkeys(ABIS, 0)  # where the previous member ends, per ABI
        members = zip(record.fields or (), layout.fields, strict=True)
        for index, (member, place) in enumerate(members):
            aligner = self._aligner(record, member, place, per_abi, index, ends)
            if aligner:
                fields.append(FieldView(f"_align{scope}_{aligners}", aligner))
                aligners += 1
            if place is not None and is_struct:
                for abi in ABIS:  # a ': 0' moves the end to its aligned offset
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
                            member.name,
                            (units.current,),
                            place.bit_offset or 0,
                            member.bits,
                            self._is_signed(member.type),
                        )  # fmt: skip
                    )
                continue
            units.close()
            if member.name is None:
                target = self.module.resolve(member.type)
                attr = "_u" + self._scope(target.name)
                anonymous.append(attr)
                fields.append(FieldView(attr, self.ctype(member.type)))
                bitfields.extend(self._lifted_bitfields(member.type, (attr,)))
            else:
                fields.append(FieldView(member.name, self.ctype(member.type)))
        if layout.filler:
            fields.append(FieldView(f"_empty{scope}", f"(c_uint8 * {layout.filler})"))
        # Under #pragma pack ctypes cannot align past the pack, though MSVC does for
        # alignas: pad the tail to MSVC's size (and ask 3.13+ for the alignment).
        align_attr = None
        if record.pack and layout.align > record.pack:
            align_attr = layout.align
            if is_struct:
                tails = {abi: per_abi[abi].size - _round_up(ends[abi], record.pack) for abi in ABIS}
            else:
                tails = {abi: per_abi[abi].size for abi in ABIS}
            if any(tails.values()):
                fields.append(FieldView(f"_tail{scope}", _bytes_by_abi(tails)))
        rules = tuple(
            RuleView(
                broken_when(r.condition),
                r.member,
                r.message,
                _comment_lines(r.cite),
                long=len(broken_when(r.condition)) > _LONG_CONDITION,
            )  # fmt: skip
            for r in self.rules.get(name, ())
        )
        todo = tuple(_comment_lines("Not yet checked: " + s) for s in self.stubs.get(name, ()))
        doc, members = self.record_doc(key, name, page)
        return RecordView(
            name=name,
            base="Union" if record.kind == "union" else "Structure",
            doc=doc,
            members=members,
            todo=todo,
            pack=record.pack,
            align=align_attr,
            anonymous=tuple(anonymous),
            fields=tuple(fields),
            bitfields=tuple(bitfields),
            rules=rules,
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

        ': 0' after a bit-field: a zero-length array of its type (in a union, its
        bytes). alignas above what ctypes would give: a zero-length array with
        that alignment, the same on every ABI; under #pragma pack, which caps
        that too, the padding bytes themselves, per ABI.
        """
        if place is None:
            return None
        engine = self.layouts["x64"]
        if place.bits == 0:
            size = engine.size_align(member.type)[0]
            return (
                f"({_UNIT_TYPES[size]} * 0)" if record.kind == "struct" else f"(c_uint8 * {size})"
            )
        if member.bits is not None:
            return None
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
        return _bytes_by_abi({abi: per_abi[abi].fields[index].offset - ends[abi] for abi in ABIS})

    def _ctypes_align(self, type_: ir.Type) -> int:
        """The alignment ctypes gives a member of this type in our classes (x64)."""
        engine = self.layouts["x64"]
        target = self.module.resolve(type_)
        while isinstance(target, ir.Array):
            target = self.module.resolve(target.elem)
        if isinstance(target, ir.Ref) and target.kind == "record":
            record = self.module.records[target.name]
            align = engine.record(target.name).align
            return min(align, record.pack) if record.pack else align
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
        view = self.record_view(self.module.resolve(type_).name)
        lifted = [
            BitFieldView(b.name, prefix + b.path, b.shift, b.bits, b.signed) for b in view.bitfields
        ]
        return lifted

    def _is_signed(self, type_: ir.Type) -> bool:
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return True
        return isinstance(resolved, ir.Prim) and resolved.kind in _SIGNED_KINDS

    # -- documentation -----------------------------------------------------------------
    def record_doc(
        self, key: str, name: str, page: DocPage | None
    ) -> tuple[str, tuple[StubMember, ...]]:
        record = self.module.records[key]
        parts: list[str] = []
        if page and page.description:
            parts.append(wrap_text(page.description, DOC_WIDTH - 4))
        elif record.comment:
            parts.append(wrap_text(record.comment, DOC_WIDTH - 4))
        else:
            parts.append(f"The {name} {record.kind}.")
        page_members = {m.name: m for m in page.members} if page else {}
        entries = []
        counted = record.parent is None
        paths = set()
        member_docs: list[StubMember] = []
        for path, member in self._documented_members(key, page_members):
            paths.add(path)
            body, source = self._member_text(member, page_members.get(path))
            entries.append(self._member_entry(path, member, body))
            if "." not in path:
                member_docs.append(StubMember(path, self.py_type(member), body))
            if counted:
                self.coverage.count("members", source)
                if page:
                    self.coverage.count("paged_members", source)
        if counted:
            self.coverage.count("records", "page" if page and page.description else
                                "comment" if record.comment else "none")  # fmt: skip
        if counted and page:
            self.coverage.count("paged_records", "page" if page.description else "none")
            self.coverage.used_pages.add(page.file)
            layout_paths = {p for p, *_ in self.layouts["x64"].paths(key)} | paths
            for doc_member in page.members:
                if doc_member.name not in layout_paths:
                    self.coverage.mismatch(page.file, name, doc_member.name)
        if entries:
            parts.append("Attributes:\n" + "\n".join(entries))
        tail = []
        if page:
            tail.append(f"Reference: {page.url}")
        tail.append(f"Declared at: {record.loc.file}:{record.loc.line}")
        parts.append("\n".join(tail))
        return "\n\n".join(parts), tuple(member_docs)

    def py_type(self, member: ir.Field) -> str:
        """The Python type a user reads from a member, for the .pyi stub."""
        if member.bits is not None:
            return "int"
        type_ = self.module.resolve(member.type)
        if isinstance(type_, ir.Prim):
            return "float" if type_.kind in ("float", "double") else (
                "bytes" if type_.kind == "char" else "int")  # fmt: skip
        if isinstance(type_, ir.Ref) and type_.kind == "enum":
            return "int"
        if isinstance(type_, ir.Ref) and type_.kind == "record":
            return self.record_name(type_.name)
        if isinstance(type_, ir.Array):
            return f"Array[{self.ctype(type_.elem)}]"
        if isinstance(type_, ir.Pointer) and isinstance(self.module.resolve(type_.target), ir.Void):
            return "int | None"
        return "Any"

    def _documented_members(
        self, key: str, page_members: Mapping[str, DocMember]
    ) -> list[tuple[str, ir.Field]]:
        """The record's members, plus members of named nested records the page documents.

        Pages write ``Flags.Primary`` for a member of a flags record the struct
        holds; those entries go under their dotted path.
        """
        found: list[tuple[str, ir.Field]] = []
        for path, member in self._doc_members(key, ""):
            found.append((path, member))
            target = self.module.resolve(member.type)
            if not (isinstance(target, ir.Ref) and target.kind == "record"):
                continue
            if self.module.records[target.name].parent is not None:
                continue  # inline records are already listed
            prefix = path + "."
            if any(name.startswith(prefix) for name in page_members):
                nested = self._doc_members(target.name, prefix)
                found.extend((p, m) for p, m in nested if p in page_members)
        return found

    def _doc_members(self, key: str, prefix: str) -> list[tuple[str, ir.Field]]:
        """Members worth a line: lifted anonymous ones, and inline nested records' members."""
        found: list[tuple[str, ir.Field]] = []
        for member in self.module.records[key].fields or ():
            target = self.module.resolve(member.type)
            inline = (
                isinstance(target, ir.Ref)
                and target.kind == "record"
                and self.module.records[target.name].parent is not None
            )
            if member.name is None:
                if inline:
                    found.extend(self._doc_members(target.name, prefix))
                continue
            found.append((prefix + member.name, member))
            if inline:
                found.extend(self._doc_members(target.name, prefix + member.name + "."))
        return found

    def _member_text(self, member: ir.Field, doc: DocMember | None) -> tuple[str, str]:
        """A member's ``[direction] text`` (page first, then header comment) and its source."""
        direction = doc.direction if doc else None
        text = doc.text if doc and doc.text else ""
        source = "page" if text else "comment" if member.comment else "none"
        if not text and member.comment:
            comment_direction, text = member.comment_direction()
            direction = direction or comment_direction
        return (f"[{direction}] " if direction else "") + text, source

    def _member_entry(self, path: str, member: ir.Field, body: str) -> str:
        """One member's lines in the ``Attributes:`` section."""
        ctype = self.c_spelling(member.type)
        if member.bits is not None:
            ctype += f" : {member.bits}"
        head = f"    {path} ({ctype}):"
        if not body:
            return head
        return head + "\n" + wrap_text(body, DOC_WIDTH - 8, indent="        ")

    # -- the whole module --------------------------------------------------------------
    def build(self, banner: tuple[str, ...]) -> ModuleView:
        module = self.module
        view = ModuleView(banner=banner, doc=f"ctypes bindings for {module.header}.")
        view.constants = [(c.name, c.value) for c in module.constants]
        for enum_key, enum in module.enums.items():
            if not self.emitted(enum.loc) or not enum.members:
                continue
            view.enums.append(self.enum_view(enum_key, enum))
        view.constants = [
            (name, value) for name, value in view.constants if name not in self.enum_names.values()
        ]
        view.guids = [(g.name, str(g)) for g in module.guids if self.emitted(g.loc)]
        records = [k for k, r in module.records.items() if self._wanted(k, r)]
        by_key = {}
        for key in records:
            by_key[key] = self.record_view(key)
            view.records.append(by_key[key])
        view.fields_order = [
            by_key[k] for k in self._dependency_order(records) if not by_key[k].opaque
        ]
        for name, td in module.typedefs.items():
            if not self.emitted(td.loc):
                continue
            target = td.type
            if isinstance(target, ir.Ref) and target.kind == "record":
                if self.record_name(target.name) == name:
                    continue
            if isinstance(target, ir.Ref) and target.kind == "enum":
                if self.enum_names.get(target.name) == name:
                    continue
                view.aliases.append(AliasView(name, "c_int32"))
                continue
            expr = self.ctype(target)
            func = self.module.resolve(target)
            if isinstance(func, ir.Pointer):
                func = self.module.resolve(func.target)
            if isinstance(func, ir.FuncType):
                signature = ", ".join(
                    self.ctype(t) for t in (func.ret, *(p.type for p in func.params))
                )
                view.aliases.append(AliasView(name, signature, self.callback_doc(td, func)))
                continue
            target_list = view.late_aliases if _has_record_array(module, target) else view.aliases
            target_list.append(AliasView(name, expr))
        for key in records:
            tag = module.records[key].tag
            if tag and tag != self.record_name(key) and tag not in module.typedefs:
                view.late_aliases.append(AliasView(tag, self.record_name(key)))
        for function in module.functions:
            if self.emitted(function.loc):
                view.functions.append(self.function_view(function))
        for key in records:
            if key in self.public and module.records[key].fields is not None:
                view.layout_table.append((self.record_name(key), self._layout_entry(key)))
        for check in module.size_checks:
            view.size_checks.append((self.c_spelling(check.type), check.abi, check.size,
                                     f"{check.loc.file}:{check.loc.line}"))  # fmt: skip
        view.imports = _ctypes_imports(view)
        view.stub_imports = _isort({*view.imports, "Array"})
        names = [n for n, _ in view.constants] + [n for n, _ in view.guids]
        for enum in view.enums:
            names.append(enum.name)
            names.extend(n for n, _ in enum.members)
        names += [
            r.name
            for r in view.records
            if not r.name.startswith("_") or r.name in self.public.values()
        ]
        names += [a.name for a in view.aliases] + [a.name for a in view.late_aliases]
        names += [f.name for f in view.functions]
        view.names = sorted(set(names))
        return view

    def _wanted(self, key: str, record: ir.Record) -> bool:
        if not self.emitted(record.loc):
            return key in self.used_prelude
        return True

    def _dependency_order(self, keys: list[str]) -> list[str]:
        """Records ordered so that each one's by-value members come first."""
        wanted = set(keys)
        done: list[str] = []
        seen: set[str] = set()

        def visit(key: str) -> None:
            if key in seen:
                return
            seen.add(key)
            for member in self.module.records[key].fields or ():
                for dep in _by_value_records(self.module, member.type):
                    if dep in wanted:
                        visit(dep)
            done.append(key)

        for key in keys:
            visit(key)
        return done

    def _layout_entry(self, key: str) -> str:
        entries = []
        for abi in ("x64", "x86"):
            engine = self.layouts[abi]
            layout = engine.record(key)
            fields = []
            for path, offset, bit_offset, bits in engine.paths(key):
                value = str(offset) if bits is None else f"({bit_offset}, {bits})"
                fields.append(f"{py_string(path)}: {value}")
            entries.append(f"({layout.size}, {layout.align}, {{{', '.join(fields)}}})")
        return f'{{"x64": {entries[0]}, "x86": {entries[1]}}}'

    def enum_view(self, key: str, enum: ir.Enum) -> EnumView:
        name = self.enum_names.get(key, key)
        page = self.docs.find(name) or (self.docs.find(enum.tag) if enum.tag else None)
        parts = [wrap_text(page.description, DOC_WIDTH - 4) if page else f"The {name} enumeration."]
        page_members = {m.name: m for m in page.members} if page else {}
        lines = []
        self.coverage.count("enums", "page" if page else "none")
        if page:
            self.coverage.used_pages.add(page.file)
        for item in enum.members:
            doc = page_members.get(item.name)
            text = doc.text if doc and doc.text else item.comment
            self.coverage.count("enum_values", "page" if doc and doc.text else
                                "comment" if item.comment else "none")  # fmt: skip
            lines.append(f"    {item.name} ({item.value}):")
            if text:
                lines.append(wrap_text(text, DOC_WIDTH - 8, indent="        "))
        if lines:
            parts.append("Members:\n" + "\n".join(lines))
        tail = [f"Reference: {page.url}"] if page else []
        tail.append(f"Declared at: {enum.loc.file}:{enum.loc.line}")
        parts.append("\n".join(tail))
        return EnumView(name, "\n\n".join(parts), tuple((m.name, m.value) for m in enum.members))

    def function_view(self, function: ir.Function) -> FunctionView:
        page = self._page_for("functions", function.name)
        names, doc = self._callable_doc(function.name, function.ret, function.params,
                                        function.loc, page)  # fmt: skip
        return FunctionView(
            name=function.name,
            restype=self.ctype(function.ret),
            argtypes=tuple(self.ctype(p.type) for p in function.params),
            argnames=names,
            doc=doc,
        )

    def callback_doc(self, typedef: ir.Typedef, func: ir.FuncType) -> str:
        """The docstring of a callback type (``PFND3DKMT_*``), from its ``nc-`` page."""
        page = self._page_for("callbacks", typedef.name)
        return self._callable_doc(typedef.name, func.ret, func.params, typedef.loc, page)[1]

    def _page_for(self, kind: str, name: str) -> DocPage | None:
        page = self.docs.find(name)
        self.coverage.count(kind, "page" if page else "none")
        if page:
            self.coverage.used_pages.add(page.file)
        return page

    def _callable_doc(
        self,
        name: str,
        ret: ir.Type,
        params: Sequence[ir.Param],
        loc: ir.Loc,
        page: DocPage | None,
    ) -> tuple[tuple[str, ...], str]:
        """Parameter names (C's, else the page's) and the docstring of a function."""
        page_params = list(page.members) if page else []
        names = []
        for index, param in enumerate(params):
            if param.name:
                names.append(param.name)
            elif index < len(page_params):
                names.append(page_params[index].name)
            else:
                names.append(f"arg{index}")
        parts = [wrap_text(page.description, DOC_WIDTH - 4) if page else f"{name}."]
        lines = []
        for index, (param_name, param) in enumerate(zip(names, params, strict=True)):
            doc = page_params[index] if index < len(page_params) else None
            sal = " ".join(param.annotations)
            direction = doc.direction if doc and doc.direction else _sal_direction(sal)
            text = doc.text if doc else ""
            head = f"    {param_name} ({self.c_spelling(param.type)}):"
            body = (f"[{direction}] " if direction else "") + text
            if body:
                head += "\n" + wrap_text(body, DOC_WIDTH - 8, indent="        ")
            lines.append(head)
        if lines:
            parts.append("Args:\n" + "\n".join(lines))
        returns = page.returns if page and page.returns else ""
        parts.append(
            f"Returns:\n    {self.c_spelling(ret)}"
            + ("\n" + wrap_text(returns, DOC_WIDTH - 8, indent="        ") if returns else "")
        )
        tail = [f"Reference: {page.url}"] if page else []
        tail.append(f"Declared at: {loc.file}:{loc.line}")
        parts.append("\n".join(tail))
        return tuple(names), "\n\n".join(parts)


class Coverage:
    """How much of the output got documentation, and what did not match."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.mismatches: list[dict[str, str]] = []
        self.used_pages: set[str] = set()

    def count(self, kind: str, source: str) -> None:
        bucket = self.counts.setdefault(kind, {"total": 0, "page": 0, "comment": 0, "none": 0})
        bucket["total"] += 1
        bucket[source] += 1

    def mismatch(self, page: str, record: str, member: str) -> None:
        self.mismatches.append(
            {"page": page, "record": record, "member": member,
             "problem": "the page documents a member the header does not have"}
        )  # fmt: skip

    def report(self, docs: DocIndex) -> dict:
        """The ``--report-json`` document."""
        unmatched = [
            {"page": p.file, "api_name": ", ".join(p.api_names),
             "problem": "the page matches no declaration"}
            for p in docs.pages if p.file not in self.used_pages
        ]  # fmt: skip
        return {"counts": self.counts, "mismatches": self.mismatches + unmatched}


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


_LONG_CONDITION = 60
_INVERSE = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip


def broken_when(condition: str) -> str:
    """The test that a rule is broken: ``condition`` negated, as a person would write it.

    ``not (W) or (R)`` (a rule with a ``when``) becomes ``W and <R negated>``.
    """
    return ast.unparse(_negate(ast.parse(condition, mode="eval").body))


def _is_and(tree: ast.expr) -> bool:
    return isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)


def _negate(tree: ast.expr) -> ast.expr:
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
        return ast.Compare(tree.left, [_INVERSE[type(tree.ops[0])]()], tree.comparators)
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return tree.operand
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "bool":
        return ast.UnaryOp(ast.Not(), tree.args[0])
    if (
        isinstance(tree, ast.BoolOp)
        and isinstance(tree.op, ast.Or)
        and len(tree.values) == 2
        and isinstance(tree.values[0], ast.UnaryOp)
        and isinstance(tree.values[0].op, ast.Not)
    ):
        parts = [tree.values[0].operand, _negate(tree.values[1])]
        flat = [v for p in parts for v in (p.values if _is_and(p) else [p])]
        return ast.BoolOp(ast.And(), flat)
    return ast.UnaryOp(ast.Not(), tree)


def _comment_lines(text: str) -> str:
    """Text as the lines of a ``#`` comment inside ``validate()``, wrapped."""
    if not text:
        return ""
    wrapped = wrap_text(" ".join(text.split()), DOC_WIDTH - 10)
    return "\n".join(("# " + line).rstrip() for line in wrapped.splitlines())


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _bytes_by_abi(counts: Mapping[str, int]) -> str:
    """A byte array whose length may differ per ABI (chosen when the module loads)."""
    if len(set(counts.values())) == 1:
        return f"(c_uint8 * {counts['x64']})"
    return f'(c_uint8 * ({counts["x64"]} if _ABI == "x64" else {counts["x86"]}))'


def _aligner(align: int) -> str:
    """A zero-length array whose alignment is ``align``."""
    if align in _UNIT_TYPES:
        return f"({_UNIT_TYPES[align]} * 0)"
    return f"(_aligned({align}) * 0)"


def _ctypes_imports(view: ModuleView) -> list[str]:
    """The names the module takes from ctypes: only those it uses (ruff-clean output)."""
    texts = [f.ctype for r in view.records for f in r.fields]
    texts += [r.base for r in view.records]
    texts += [a.expr for a in view.aliases + view.late_aliases]  # callbacks: signatures
    for function in view.functions:
        texts += [function.restype, *function.argtypes]
    used = set(re.findall(r"\b(?:c_\w+|POINTER|Structure|Union)\b", " ".join(texts)))
    used |= {"c_void_p", "Structure"}  # the runtime helpers use them
    return _isort(used)


def _isort(names: set[str]) -> list[str]:
    """isort's order-by-type, as ruff applies it: CONSTANTS, Classes, functions."""

    def key(name: str) -> tuple:
        kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
        natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
        return kind, natural

    return sorted(names, key=key)


def _sal_direction(sal: str) -> str | None:
    if "_Inout" in sal:
        return "in, out"
    if "_In_" in sal or sal.startswith("_In"):
        return "in"
    if "_Out" in sal:
        return "out"
    return None


def _by_value_records(module: ir.Module, type_: ir.Type) -> list[str]:
    type_ = module.resolve(type_)
    while isinstance(type_, ir.Array):
        type_ = module.resolve(type_.elem)
    if isinstance(type_, ir.Ref) and type_.kind == "record":
        return [type_.name]
    return []


def _has_record_array(module: ir.Module, type_: ir.Type) -> bool:
    type_ = module.resolve(type_)
    return isinstance(type_, ir.Array) and bool(_by_value_records(module, type_))


def _used_prelude_records(module: ir.Module) -> set[str]:
    """Prelude records (LUID, GUID, ...) that the header's own declarations reach."""
    used: set[str] = set()
    seen: set[str] = set()

    def visit(type_: ir.Type) -> None:
        if isinstance(type_, ir.Pointer):
            visit(type_.target)
        elif isinstance(type_, ir.Array):
            visit(type_.elem)
        elif isinstance(type_, ir.FuncType):
            visit(type_.ret)
            for param in type_.params:
                visit(param.type)
        elif isinstance(type_, ir.Ref) and type_.kind == "typedef":
            visit(module.typedefs[type_.name].type)
        elif isinstance(type_, ir.Ref) and type_.kind == "record" and type_.name not in seen:
            seen.add(type_.name)
            record = module.records[type_.name]
            if record.loc.file == PRELUDE or record.parent:
                used.add(type_.name)
            for member in record.fields or ():
                visit(member.type)

    for record in module.records.values():
        if record.loc.file != PRELUDE:
            for member in record.fields or ():
                visit(member.type)
    for td in module.typedefs.values():
        if td.loc.file != PRELUDE:
            visit(td.type)
    for function in module.functions:
        visit(ir.FuncType(function.ret, function.params))
    if module.guids:
        visit(ir.Ref("typedef", "GUID"))
    return used


def _environment(template_dir: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir or templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def templates_dir() -> Path:
    """Where the templates are: ``templates/`` of a checkout, or inside the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "templates", here / "templates"):
        if (candidate / "module.py.jinja").is_file():
            return candidate
    raise FileNotFoundError("d3dkmt-codegen templates are missing from this installation")


def render_module(
    module: ir.Module,
    layouts: Mapping[str, Layout],
    docs: DocIndex,
    rules: Mapping[str, Sequence[Rule]],
    stubs: Mapping[str, Sequence[str]],
    banner: tuple[str, ...],
) -> tuple[str, str, dict]:
    """The generated module, its .pyi stub, and the documentation report."""
    builder = _Builder(module, layouts, docs, rules, stubs)
    view = builder.build(banner)
    env = _environment()
    text = env.get_template("module.py.jinja").render(m=view)
    stub = env.get_template("stub.pyi.jinja").render(m=view)
    return text, stub, builder.coverage.report(docs)
