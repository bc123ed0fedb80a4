"""The ABI snapshot: everything code written against a header relies on, as data.

``generate --layout-json`` writes it and ``diff`` compares two of them, each made
from a header or read back from such a file, so that a maintainer can compare the
committed bindings with a new SDK without keeping the old one.

Per record it keeps, for each ABI, the layout as libclang reports it (``size``,
``align``, ``fields``: the offset, or bit offset and width, of every member path)
and, ABI-neutral, each member's type, size per ABI and line. Then enums,
constants, GUIDs, typedefs, functions and callback types with their types, and
the run's provenance. Types appear twice: as the header spells them (``type``)
and ``canonical``, with every typedef resolved (``uint32*``): two headers that
spell a type differently but mean the same one agree on the canonical form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ir
from .errors import GeneratorError, Loc
from .layout import Layout
from .spelling import Spelling, emitted

if TYPE_CHECKING:
    from .pipeline import Provenance

FORMAT = "d3dkmt-codegen ABI snapshot"
FORMAT_VERSION = 1


def snapshot(
    module: ir.Module, layouts: Mapping[str, Layout], provenance: Provenance | None = None
) -> dict[str, Any]:
    """The snapshot of one module: plain JSON data (dicts, lists, str, int)."""
    writer = _Writer(module, layouts)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "provenance": provenance.to_json() if provenance else {},
        "abis": list(layouts),
        "records": writer.records(),
        "enums": writer.enums(),
        "constants": writer.constants(),
        "guids": {
            g.name: {"value": str(g), "loc": where(g.loc)} for g in module.guids if emitted(g.loc)
        },
        "typedefs": writer.typedefs(),
        "functions": {
            f.name: writer.signature(f.ret, f.params, False, f.loc)
            for f in module.functions
            if emitted(f.loc)
        },
        "callbacks": writer.callbacks(),
    }


def load_snapshot(path: Path) -> dict[str, Any]:
    """Read a snapshot written by ``generate --layout-json``; anything else is an error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise GeneratorError(Loc(str(path)), f"cannot read ABI snapshot: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeneratorError(Loc(str(path), exc.lineno, exc.colno), exc.msg) from None
    except RecursionError:
        raise GeneratorError(Loc(str(path)), "not an ABI snapshot: nested too deeply") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GeneratorError(
            Loc(str(path)),
            "not an ABI snapshot (write one with d3dkmt-codegen generate --layout-json FILE)",
        )
    version = data.get("format_version", 0)
    if not isinstance(version, int):
        raise GeneratorError(Loc(str(path)), f"damaged ABI snapshot: format_version {version!r}")
    if version > FORMAT_VERSION:
        raise GeneratorError(
            Loc(str(path)),
            f"ABI snapshot format {data.get('format_version')} is newer than this "
            f"d3dkmt-codegen reads ({FORMAT_VERSION}): upgrade d3dkmt-codegen",
        )
    return data


def where(loc: Loc) -> str:
    """A location as the snapshot and the diff print it: ``file:line``."""
    return f"{loc.file}:{loc.line}" if loc.line else loc.file


class _Writer:
    """Builds the sections of one module's snapshot."""

    def __init__(self, module: ir.Module, layouts: Mapping[str, Layout]) -> None:
        self.module = module
        self.layouts = layouts
        self.spelling = Spelling(module, layouts)
        self.enum_names = module.enum_names()

    def canonical(self, type_: ir.Type) -> str:
        """The type with every typedef resolved, ``const`` dropped (it moves nothing)."""
        type_ = self.module.resolve(type_)
        if isinstance(type_, ir.Prim):
            return type_.kind
        if isinstance(type_, ir.Void):
            return "void"
        if isinstance(type_, ir.Pointer):
            return self.canonical(type_.target) + "*"
        if isinstance(type_, ir.Array):
            return f"{self.canonical(type_.elem)}[{self.spelling.c_count(type_.count)}]"
        if isinstance(type_, ir.FuncType):
            params = [self.canonical(p.type) for p in type_.params]
            if type_.variadic:
                params.append("...")
            return f"{self.canonical(type_.ret)}({', '.join(params)})"
        if type_.kind == "enum":
            return "enum " + self.enum_names.get(type_.name, type_.name)
        record = self.module.records[type_.name]
        name = self.spelling.public.get(type_.name)
        return f"{record.kind} {name}" if name else f"{record.kind} {{...}}"

    def typed(self, type_: ir.Type) -> dict[str, str]:
        return {"type": self.spelling.c_spelling(type_), "canonical": self.canonical(type_)}

    def records(self) -> dict[str, Any]:
        records: dict[str, Any] = {}
        names = sorted(self.module.record_names().items(), key=lambda item: item[1])
        for key, name in names:
            record = self.module.records[key]
            if record.fields is None or not emitted(record.loc):
                continue
            members: dict[str, Any] = {}
            entry: dict[str, Any] = {
                "kind": record.kind,
                "tag": record.tag,
                "loc": where(record.loc),
                "members": members,
            }
            for abi, engine in self.layouts.items():
                layout = engine.record(key)
                fields: dict[str, dict[str, int]] = {}
                for path, field, offset, place in engine.members(key):
                    if place.bits is None:
                        fields[path] = {"offset": offset}
                    else:
                        bit_offset = offset * 8 + (place.bit_offset or 0)
                        fields[path] = {"bit_offset": bit_offset, "bit_size": place.bits}
                    member = members.setdefault(
                        path, {**self.typed(field.type), "loc": where(field.loc), "size": {}}
                    )
                    member["size"][abi] = place.size
                entry[abi] = {"size": layout.size, "align": layout.align, "fields": fields}
            records[name] = entry
        return records

    def enums(self) -> dict[str, Any]:
        enums: dict[str, Any] = {}
        for key, enum in self.module.enums.items():
            if not emitted(enum.loc) or self._anonymous(key, enum):
                continue
            values = {m.name: {"value": m.value, "loc": where(m.loc)} for m in enum.members}
            enums[self.enum_names.get(key, key)] = {"loc": where(enum.loc), "values": values}
        return enums

    def _anonymous(self, key: str, enum: ir.Enum) -> bool:
        # An enum with neither tag nor typedef has a made-up key that changes from one
        # SDK to the next: its enumerators are constants, and compared as such.
        return enum.tag is None and self.enum_names.get(key, key) == key

    def constants(self) -> dict[str, Any]:
        constants: dict[str, Any] = {}
        for constant in self.module.constants:
            if emitted(constant.loc):
                constants[constant.name] = {"value": constant.value, "loc": where(constant.loc)}
        for key, enum in self.module.enums.items():
            if emitted(enum.loc) and self._anonymous(key, enum):
                for m in enum.members:
                    constants[m.name] = {"value": m.value, "loc": where(m.loc)}
        return dict(sorted(constants.items()))

    def _callback(self, type_: ir.Type) -> ir.FuncType | None:
        target = self.module.resolve(type_)
        if isinstance(target, ir.Pointer):
            target = self.module.resolve(target.target)
        return target if isinstance(target, ir.FuncType) else None

    def typedefs(self) -> dict[str, Any]:
        """Typedefs a user can name that are not a record's, an enum's or a callback's
        own name (``D3DKMT_HANDLE``, ``PD3DKMT_X``)."""
        typedefs: dict[str, Any] = {}
        for name, td in self.module.typedefs.items():
            if not emitted(td.loc) or self._callback(td.type) is not None:
                continue
            target = td.type
            if isinstance(target, ir.Ref) and target.kind == "record":
                if self.spelling.public.get(target.name) == name:
                    continue
            if isinstance(target, ir.Ref) and target.kind == "enum":
                if self.enum_names.get(target.name) == name:
                    continue
            typedefs[name] = {**self.typed(td.type), "loc": where(td.loc)}
        return typedefs

    def callbacks(self) -> dict[str, Any]:
        callbacks: dict[str, Any] = {}
        for name, td in self.module.typedefs.items():
            func = self._callback(td.type)
            if func is not None and emitted(td.loc):
                callbacks[name] = self.signature(func.ret, func.params, func.variadic, td.loc)
        return callbacks

    def signature(
        self, ret: ir.Type, params: tuple[ir.Param, ...], variadic: bool, loc: Loc
    ) -> dict[str, Any]:
        return {
            "ret": self.typed(ret),
            "params": [{"name": p.name, **self.typed(p.type)} for p in params],
            "variadic": variadic,
            "loc": where(loc),
        }
