"""The docstrings of records, enums, functions and callback types, and their coverage.

Text comes from the matched reference page first, then the header's comments;
``Coverage`` counts which of the two each declaration got and lists the page
members and pages that match nothing (the ``--report-json`` document).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from . import ir
from .docs import DocIndex, DocMember, DocPage, sal_direction, wrap_text
from .layout import FieldLayout, Layout
from .preprocess import SAL_NAME
from .spelling import Spelling
from .views import StubMember

DOC_WIDTH = 79

# A bit-field's header comment often starts with the member's mask
# ("// 0x00000040  // Driver private data ..."): shown as the bits it covers.
_MASK = re.compile(r"0[xX]([0-9A-Fa-f]+)\b[\s-]*")
# Feature tags some comments end with ("... of the command buffer. _ADVSCH_").
_TRAILING_TAG = re.compile(rf"(?:\s*(?:{SAL_NAME.pattern}))+\s*$")


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


class Docstrings:
    """Writes the docstrings of one module, counting their sources in ``coverage``."""

    def __init__(
        self,
        module: ir.Module,
        layouts: Mapping[str, Layout],
        docs: DocIndex,
        spelling: Spelling,
        coverage: Coverage,
    ) -> None:
        self.module = module
        self.layouts = layouts
        self.docs = docs
        self.spelling = spelling
        self.coverage = coverage

    # -- records -----------------------------------------------------------------------
    def record_doc(self, key: str, name: str) -> tuple[str, tuple[StubMember, ...]]:
        """A record's docstring, and its members as the .pyi stub shows them.

        ``name`` is the record's C name; members are listed under their Python
        names, each renamed one with its C name.
        """
        names = self.spelling.names
        record = self.module.records[key]
        page = self.docs.find(name) or (self.docs.find(record.tag) if record.tag else None)
        parts: list[str] = []
        if page and page.description:
            parts.append(wrap_text(page.description, DOC_WIDTH - 4))
        elif record.comment:
            parts.append(wrap_text(" ".join(record.comment.split()), DOC_WIDTH - 4))
        else:
            parts.append(f"The {name} {record.kind}.")
        page_members = {m.name: m for m in page.members} if page else {}
        entries = []
        counted = record.parent is None
        paths = set()
        member_docs: list[StubMember] = []
        places: dict[int, FieldLayout] | None = None  # only a header comment's mask reads them
        for path, member in self._documented_members(key, page_members):
            paths.add(path)
            doc = page_members.get(path)
            if places is None and member.comment and not (doc and doc.text):
                layout = self.layouts[self.module.abis[0]]
                places = {id(f): place for _, f, _, place in layout.members(key)}
            place = places.get(id(member)) if places else None
            body, source = self._member_text(member, doc, place)
            py_path = names.path(key, path)
            body = " ".join(filter(None, (names.renamed(path, py_path), body)))
            entries.append(self._member_entry(py_path, member, body))
            if "." not in path:
                member_docs.append(StubMember(py_path, self.spelling.py_type(member), body))
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
            unlisted = [m.name for m in page.members if m.name not in paths]
            if unlisted:  # (the layout's paths only for those: most pages list no others)
                layout_paths = {p for p, *_ in self.layouts[self.module.abis[0]].paths(key)}
                for member_name in unlisted:
                    if member_name not in layout_paths:
                        self.coverage.mismatch(page.file, name, member_name)
        if entries:
            parts.append("Attributes:\n" + "\n".join(entries))
        tail = []
        if page:
            tail.append(f"Reference: {page.url}")
        tail.append(f"Declared in: {record.loc.file}")
        tail.append(names.renamed(name, self.spelling.record_name(key)))
        parts.append("\n".join(filter(None, tail)))
        return "\n\n".join(parts), tuple(member_docs)

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

    def _member_text(
        self, member: ir.Field, doc: DocMember | None, place: FieldLayout | None
    ) -> tuple[str, str]:
        """A member's ``[direction] text`` (page first, then header comment) and its source."""
        direction = doc.direction if doc else None
        text = doc.text if doc and doc.text else ""
        source = "page" if text else "comment" if member.comment else "none"
        if not text and member.comment:
            comment_direction, text = _comment_text(member, place)
            direction = direction or comment_direction
        return (f"[{direction}] " if direction else "") + text, source

    def _member_entry(self, path: str, member: ir.Field, body: str) -> str:
        """One member's lines in the ``Attributes:`` section."""
        ctype = self.spelling.c_spelling(member.type)
        if member.bits is not None:
            ctype += f" : {member.bits}"
        head = f"    {path} ({ctype}):"
        if not body:
            return head
        return head + "\n" + wrap_text(body, DOC_WIDTH - 8, indent="        ")

    # -- enums -------------------------------------------------------------------------
    def enum_doc(self, name: str, enum: ir.Enum) -> str:
        """An IntEnum's docstring: description, then each member's value and text.

        ``name`` is the enum's C name; renamed members are listed with theirs.
        """
        names = self.spelling.names
        page = self.docs.find(name) or (self.docs.find(enum.tag) if enum.tag else None)
        # An enum with neither tag nor typedef has only the name lower.py made up.
        made_up = enum.tag is None and name == enum.key and name not in self.module.typedefs
        shown = names.of(name) if made_up else name
        fallback = f"The {shown} enumeration."
        parts = [wrap_text(page.description, DOC_WIDTH - 4) if page else fallback]
        page_members = {m.name: m for m in page.members} if page else {}
        lines = []
        self.coverage.count("enums", "page" if page else "none")
        if page:
            self.coverage.used_pages.add(page.file)
        for item in enum.members:
            doc = page_members.get(item.name)
            text = doc.text if doc and doc.text else " ".join(item.comment.split())
            self.coverage.count("enum_values", "page" if doc and doc.text else
                                "comment" if item.comment else "none")  # fmt: skip
            lines.append(f"    {names.of(item.name)} ({item.value}):")
            text = " ".join(filter(None, (names.renamed(item.name, names.of(item.name)), text)))
            if text:
                lines.append(wrap_text(text, DOC_WIDTH - 8, indent="        "))
        if lines:
            parts.append("Members:\n" + "\n".join(lines))
        tail = [f"Reference: {page.url}"] if page else []
        tail.append(f"Declared in: {enum.loc.file}")
        tail.append(names.renamed(shown, names.of(name)))
        parts.append("\n".join(filter(None, tail)))
        return "\n\n".join(parts)

    # -- constants ---------------------------------------------------------------------
    def constant_doc(self, constant: ir.Constant) -> str:
        """A constant's documentation: its page's description, else its header comment.

        "" when it has neither; the module prints it as ``#:`` lines above the
        assignment (Sphinx reads those), the stub as a string after it (editors).
        """
        page = self.docs.find(constant.name)
        text = page.description if page and page.description else constant.comment
        self.coverage.count("constants", "page" if page and page.description else
                            "comment" if constant.comment else "none")  # fmt: skip
        if page:
            self.coverage.used_pages.add(page.file)
        if not text:
            return ""
        parts = [wrap_text(text, DOC_WIDTH - 4)]
        if page:
            parts.append(f"Reference: {page.url}")
        return "\n\n".join(parts)

    # -- functions and callback types --------------------------------------------------
    def function_doc(self, function: ir.Function) -> tuple[tuple[str, ...], str]:
        """A function's parameter names and docstring, from its page, else its comment."""
        page = self._page_for("functions", function.name, bool(function.comment))
        return self._callable_doc(
            function.name, function.ret, function.params, function.loc, page,
            about=function.comment or f"The {function.name} function (no reference page found).",
            platform=function.platform,
        )  # fmt: skip

    def callback_doc(self, typedef: ir.Typedef, func: ir.FuncType) -> str:
        """The docstring of a callback type (``PFND3DKMT_*``), from its ``nc-`` page."""
        page = self._page_for("callbacks", typedef.name)
        target = self._function_named_by(typedef.name)
        about = f"The type of a pointer to {target}" if target else f"The {typedef.name} type"
        return self._callable_doc(
            typedef.name, func.ret, func.params, typedef.loc, page,
            about=f"{about} (no reference page found).", platform=typedef.platform,
        )[1]  # fmt: skip

    def _function_named_by(self, callback: str) -> str | None:
        """The function a ``PFND3DKMT_X`` type points to, by name (``D3DKMTX``), if any."""
        key = callback.removeprefix("PFN").replace("_", "").casefold()
        for function in self.module.functions:
            if function.name.replace("_", "").casefold() == key:
                return function.name
        return None

    def _page_for(self, kind: str, name: str, commented: bool = False) -> DocPage | None:
        page = self.docs.find(name)
        self.coverage.count(kind, "page" if page else "comment" if commented else "none")
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
        about: str,
        platform: ir.Platform | None,
    ) -> tuple[tuple[str, ...], str]:
        """Python parameter names (C's, else the page's) and the docstring of a function.

        ``about`` is the first paragraph when there is no page.
        """
        page_params = list(page.members) if page else []
        c_names = []
        for index, param in enumerate(params):
            if param.name:
                c_names.append(param.name)
            elif index < len(page_params):
                c_names.append(page_params[index].name)
            else:
                c_names.append(f"arg{index}")
        names = self.spelling.names.parameters(c_names)
        shown = page.description if page else about
        parts = [wrap_text(shown, DOC_WIDTH - 4)]
        if platform:
            parts.append(wrap_text(_platform_note(platform, shown), DOC_WIDTH - 4))
        lines = []
        for index, (param_name, param) in enumerate(zip(names, params, strict=True)):
            doc = page_params[index] if index < len(page_params) else None
            sal = " ".join(param.annotations)
            direction = doc.direction if doc and doc.direction else sal_direction(sal)
            text = doc.text if doc else ""
            head = f"    {param_name} ({self.spelling.c_spelling(param.type)}):"
            body = (f"[{direction}] " if direction else "") + text
            note = self.spelling.names.renamed(c_names[index], param_name)
            body = " ".join(filter(None, (note, body)))
            if body:
                head += "\n" + wrap_text(body, DOC_WIDTH - 8, indent="        ")
            lines.append(head)
        if lines:
            parts.append("Args:\n" + "\n".join(lines))
        returns = page.returns if page and page.returns else ""
        parts.append(
            f"Returns:\n    {self.spelling.c_spelling(ret)}"
            + ("\n" + wrap_text(returns, DOC_WIDTH - 8, indent="        ") if returns else "")
        )
        tail = [f"Reference: {page.url}"] if page else []
        tail.append(f"Declared in: {loc.file}")
        tail.append(self.spelling.names.renamed(name, self.spelling.names.of(name)))
        parts.append("\n".join(filter(None, tail)))
        return tuple(names), "\n\n".join(parts)


_PLATFORM_NAMES = {"windows": "Windows only", "wsl": "WSL only (not Windows)"}


def _platform_note(platform: ir.Platform, shown: str) -> str:
    """Which platform the header declares this for, and how it says so."""
    label = _PLATFORM_NAMES.get(platform.name, f"{platform.name} only")
    if platform.reason.startswith("#"):
        return f"Platform: {label}; declared under ``{platform.reason}`` in {platform.loc.file}."
    if platform.reason == shown:
        return f"Platform: {label}, as the header's comment above says."
    return f'Platform: {label}; the header\'s comment says: "{platform.reason}".'


def _comment_text(member: ir.Field, place: FieldLayout | None) -> tuple[str | None, str]:
    """A member's header comment as prose: its direction, then its text.

    A leading mask becomes the bits it covers (left out when the layout disagrees
    with it), a comment inside the comment is read as more text, trailing feature
    tags go, and a comment that only repeats the member's name says nothing.
    """
    direction, bits = None, ""
    pieces = []
    for piece in member.comment.split("//"):
        piece = piece.strip()
        mask = _MASK.match(piece)
        if mask and not bits and not pieces:
            bits = _bits_of(int(mask.group(1), 16), place)
            piece = piece[mask.end() :]
        piece_direction, piece = ir.comment_direction(piece)
        direction = direction or piece_direction
        piece = _TRAILING_TAG.sub("", piece).strip()
        if piece and piece != member.name:
            pieces.append(piece)
    # Column alignment ("720 x 525i   @ (59.94  [Hz]") does not survive wrapping.
    return direction, " ".join(" ".join(filter(None, (bits, *pieces))).split())


def _bits_of(mask: int, place: FieldLayout | None) -> str:
    """``Bit 6.`` / ``Bits 8-31.`` when ``mask`` is the bit-field's own mask, else ""."""
    if place is None or place.bits is None or not place.bits:
        return ""
    first = place.bit_offset or 0
    if mask != ((1 << place.bits) - 1) << first:
        return ""
    last = first + place.bits - 1
    return f"Bit {first}." if first == last else f"Bits {first}-{last}."
