"""``d3dkmt-codegen show NAME``: one record's layout, the way ``pahole`` prints it.

One line per member (its declaration, then per ABI its offset and size, and for a
bit-field its bits within the unit), a note wherever bytes sit unused (holes
between members, bits left in a bit-field unit, trailing padding), anonymous
members expanded in place, the record's size and alignment last, every ABI side
by side; then where the record came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .docs import DocPage, page_files, read_page
from .errors import COMMAND_LINE, GeneratorError
from .layout import Layout
from .spelling import Spelling


@dataclass
class _Row:
    """One printed line: the C text on the left, a note per ABI on the right."""

    text: str
    cells: dict[str, str] = field(default_factory=dict)


def find_record(module: ir.Module, name: str) -> str:
    """The key of the record ``name`` names: its typedef name, another typedef of
    it, or its tag. An unknown name is an error suggesting the closest ones."""
    names: dict[str, str] = {}
    for key, public in module.record_names().items():
        names[public] = key
    for key, record in module.records.items():
        if record.tag and record.parent is None:
            names.setdefault(record.tag, key)
    for alias, td in module.typedefs.items():
        if isinstance(td.type, ir.Ref) and td.type.kind == "record":
            names.setdefault(alias, td.type.name)
    if name in names:
        return names[name]
    folded = {n.casefold(): key for n, key in names.items()}
    if name.casefold() in folded:
        return folded[name.casefold()]
    picked: dict[str, str] = {}  # one name per record, best match first
    for candidate in difflib.get_close_matches(name, list(names), n=12, cutoff=0.6):
        picked.setdefault(names[candidate], candidate)
    close = list(picked.values())[:5]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise GeneratorError(COMMAND_LINE, f"no record named '{name}' in the header{hint}")


def find_page(docs: Sequence[Path], names: Sequence[str]) -> DocPage | None:
    """The reference page of a record, found by its file name (``ns-*-_d3dkmt_x.md``)
    and confirmed by the names it documents; only that page is read."""
    wanted = {n.casefold() for n in names}
    for folder in docs:
        for path in page_files(folder):
            if path.stem.rpartition("-")[2].casefold() not in wanted:
                continue
            try:
                page = read_page(path)
            except GeneratorError:
                continue
            if wanted & {n.casefold() for n in (*page.api_names, page.title.split()[0])}:
                return page
    return None


class _Printer:
    """Rows for one record across the chosen ABIs."""

    def __init__(self, module: ir.Module, layouts: Mapping[str, Layout]) -> None:
        self.module = module
        self.layouts = layouts
        self.spelling = Spelling(module)

    def declaration(self, member: ir.Field) -> str:
        type_, dims = member.type, ""
        while isinstance(type_, ir.Array):
            dims += f"[{self.spelling.c_count(type_.count)}]"
            type_ = type_.elem
        text = f"{self.spelling.c_spelling(type_)} {member.name}{dims}"
        return f"{text}:{member.bits}" if member.bits is not None else text

    def rows(self, key: str, base: Mapping[str, int], depth: int) -> list[_Row]:
        record = self.module.records[key]
        indent = "    " * depth
        places = {abi: engine.record(key) for abi, engine in self.layouts.items()}
        union = record.kind == "union"
        end = dict(base)  # per ABI: first byte after what is placed so far
        unit_bits: dict[
            str, tuple[int, int, int]
        ] = {}  # ABI -> open unit (offset, size, bits used)
        rows: list[_Row] = []
        for i, member in enumerate(record.fields or ()):
            placed = {abi: places[abi].fields[i] for abi in self.layouts}
            if any(p is None or p.bits == 0 for p in placed.values()):
                continue  # ': 0' takes no line of its own
            starts = {abi: base[abi] + p.offset for abi, p in placed.items() if p is not None}
            if not union:
                rows += self._unused_bits(unit_bits, starts, indent)
                hole = _Row(f"{indent}    /* XXX hole */")
                for abi, start in starts.items():
                    if abi not in unit_bits and start > end[abi]:
                        gap = start - end[abi]
                        hole.cells[abi] = f"{end[abi]:>5} {gap:>4}  XXX {gap} bytes hole"
                if hole.cells:
                    rows.append(hole)
            target = self.module.resolve(member.type)
            nested = target.name if isinstance(target, ir.Ref) and target.kind == "record" else None
            if nested and (member.name is None or nested not in self.spelling.public):
                # pahole: a record without a name of its own is printed in place
                inner = self.module.records[nested]
                rows.append(_Row(f"{indent}    {inner.kind} {{", self._cells(starts, placed)))
                rows += self.rows(nested, starts, depth + 1)
                rows.append(_Row(f"{indent}    }}{' ' + member.name if member.name else ''};"))
            else:
                rows.append(
                    _Row(f"{indent}    {self.declaration(member)};", self._cells(starts, placed))
                )
            for abi, p in placed.items():
                assert p is not None
                if p.bits is not None and not union:
                    unit_bits[abi] = (starts[abi], p.size, (p.bit_offset or 0) + p.bits)
                end[abi] = max(end[abi], starts[abi] + p.size)
        if not union:
            rows += self._unused_bits(unit_bits, {}, indent)
        padding = _Row(f"{indent}    /* padding */")
        for abi, layout in places.items():
            total = base[abi] + layout.size
            if total > end[abi]:
                gap = total - end[abi]
                padding.cells[abi] = f"{end[abi]:>5} {gap:>4}  XXX {gap} bytes padding"
        if padding.cells:
            rows.append(padding)
        return rows

    @staticmethod
    def _cells(starts: Mapping[str, int], placed: Mapping) -> dict[str, str]:
        cells = {}
        for abi, start in starts.items():
            p = placed[abi]
            cell = f"{start:>5} {p.size:>4}"
            if p.bits is not None:
                low = p.bit_offset or 0
                cell += f"  bits {low}-{low + p.bits - 1}"
            cells[abi] = cell
        return cells

    @staticmethod
    def _unused_bits(
        units: dict[str, tuple[int, int, int]], starts: Mapping[str, int], indent: str
    ) -> list[_Row]:
        """A note for each ABI whose open bit-field unit the next member leaves."""
        row = _Row(f"{indent}    /* XXX bits unused */")
        for abi in list(units):
            offset, size, used = units[abi]
            if starts.get(abi) == offset:
                continue  # the next member shares the unit
            del units[abi]
            if used < size * 8:
                row.cells[abi] = f"XXX {size * 8 - used} bits unused"
        return [row] if row.cells else []


def show(
    module: ir.Module,
    layouts: Mapping[str, Layout],
    name: str,
    docs: Sequence[Path] = (),
) -> str:
    """The pahole-style text for the record ``name`` over ``layouts``' ABIs."""
    key = find_record(module, name)
    record = module.records[key]
    public = Spelling(module).record_name(key)
    if record.fields is None:
        raise GeneratorError(record.loc, f"'{public}' is declared but never defined: no layout")
    printer = _Printer(module, layouts)
    rows = printer.rows(key, {abi: 0 for abi in layouts}, 0)
    tag = f" /* tag {record.tag} */" if record.tag and record.tag != public else ""
    head = _Row(f"{record.kind} {public} {{{tag}", {abi: f"{abi}: offset size" for abi in layouts})
    foot = _Row("};")
    for abi, engine in layouts.items():
        layout = engine.record(key)
        foot.cells[abi] = f"size {layout.size}, align {layout.align}"
    lines = _columns([head, *rows, foot], list(layouts))
    lines.append(f"/* {record.loc.file}:{record.loc.line} */")
    page = find_page(docs, [n for n in (public, record.tag) if n]) if docs else None
    if page is not None:
        lines.append(f"/* page: {page.file} ({page.url}) */")
    return "\n".join(lines) + "\n"


def _columns(rows: Sequence[_Row], abis: Sequence[str]) -> list[str]:
    left = max(len(r.text) for r in rows) + 2
    widths = {abi: max((len(r.cells.get(abi, "")) for r in rows), default=0) for abi in abis}
    lines = []
    for row in rows:
        if not row.cells:
            lines.append(row.text)
            continue
        cells = [f"/* {row.cells.get(abi, ''):<{widths[abi]}} */" for abi in abis]
        lines.append(f"{row.text:<{left}}{'  '.join(cells)}".rstrip())
    return lines
