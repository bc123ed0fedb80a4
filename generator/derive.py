"""Stage 6b: rules derived from what the header and the reference pages say.

derive_rules() makes them for every named record:

- SAL buffer sizes on pointers (``_Field_size_(Count)``, ``_In_reads_bytes_opt_(Size)``,
  ...): a count above zero needs a non-NULL pointer. The ``_opt_`` forms get the
  same rule: they allow NULL, but only with a zero count — and the non-``_opt_``
  forms are not stricter here, because the SDK's own structures pass NULL with a
  zero count (D3DKMT_DESTROYALLOCATION with a resource handle, say).
- Reserved members (``Reserved``, ``Reserved0``, ``ulReserved2``, reserved
  bit-fields) must be zero; reserved arrays all zero; reserved pointers NULL
  (NULL is a pointer's zero); reserved structures say nothing themselves.
- Members typed with an enum hold one of its values (or, for an enum of single-bit
  flags, no bit outside them).
- Members the caller never fills (``[out]`` on the page, ``// out:`` in the header)
  get no reserved, enum or pair rules: ``validate()`` checks what goes in.
- Inside a union of two or more records (which arm is live, validate() cannot
  tell) nothing is derived. A union's scalar arm (``Value``) overlays its one
  record arm and gets no reserved or enum rule; a SAL-sized pointer arm keeps its
  SAL rule (its siblings are pointers to the same buffer).
- A by-value member of record type contributes its own rules under its path
  (``Flags.Reserved``), since ``validate()`` does not call nested validate()s.
- Pointer/count pairs the page states in words ("The number of pages in the page
  list that pPages specifies") get the SAL rule; a count naming a fixed array
  ("... in the ObjectHandleArray array") must not exceed its length.

A hand rule mentioning a member supersedes every derived rule on that member.
``requirement_stubs`` lists the page sentences stating a requirement that no rule
covers, for a maintainer to encode.
"""

from __future__ import annotations

import ast
import functools
import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import ir
from .docs import DocIndex, DocPage
from .errors import Loc
from .rules import Rule, member_path
from .spelling import names_of

# -- derived rules ------------------------------------------------------------------------
# SAL that sizes a buffer, first argument the count (element or byte count: either
# way zero means "no buffer"): _Field_size_, _Field_size_bytes_part_opt_,
# _In_reads_, _Out_writes_bytes_all_opt_, _Inout_updates_to_, and the older
# _In_count_, _Inout_bytecount_, _Out_cap_, ...
_SAL_SIZE = re.compile(
    r"_(?:Field_size|In_reads|Out_writes|Inout_updates)(?:_bytes)?(?:_full|_part|_to|_all)?"
    r"(?:_opt)?_"
    r"|_(?:In|Out|Inout|Deref_out|Deref_in)_(?:byte)?(?:count|cap)(?:_c)?(?:_opt)?_"
)
_SAL_CALL = re.compile(r"(_[A-Za-z_]+?_)\s*\((.*)\)\s*$", re.S)
_INT_SUFFIX = re.compile(r"\b(0[xX][0-9A-Fa-f]+|\d+)[uUlL]+\b")
_C_NAME = re.compile(r"(?<!\w)[A-Za-z_]\w*")  # not the x of 0x10
_RESERVED = re.compile(r"(?:ul|dw)?Reserved\d*")
_COUNT_SENTENCE = re.compile(r"^(?:specifies\s+)?(?:the\s+)?(?:number|count|size)\b", re.I)
_COUNT_LINK = re.compile(
    r"\b(?:specifies|specified by|points? to|pointed to by|array|buffer|list)\b", re.I
)
_INTEGER_KINDS = frozenset(k for k in ir.PRIM_KINDS if k not in ("float", "double"))
_RANGE_RUN = 3  # consecutive enum values printed as lo <= x <= hi from this many on
_MAX_RANGES = 3  # more alternatives than this: test against the generated IntEnum instead


@dataclass(frozen=True, slots=True)
class _Slot:
    """A member as seen from a named record: its path and what may be said about it."""

    path: str  # in C names, as SAL and the pages name members
    field: ir.Field
    scope: str  # path prefix of the record that declares it (count names resolve there)
    certain: bool  # its bytes always mean this member (not one arm of several)
    sal_ok: bool  # not inside one of several alternative record arms of a union
    out_only: bool  # the caller never fills it in
    page: DocPage | None
    doc_name: str  # its name on ``page``
    py: str = ""  # the path in Python names, as validate() reads it


class _Deriver:
    """Derives the rules of every named record of one module."""

    def __init__(self, module: ir.Module, docs: DocIndex) -> None:
        self.module = module
        self.docs = docs
        self.public = module.record_names()
        self.constants = {c.name: c.value for c in module.constants}
        # The IntEnum classes' names (the first typedef, else the key), as rendered.
        self.enum_names = module.enum_names()
        self.names = names_of(module)
        self._slots: dict[str, list[_Slot]] = {}  # record key -> its members, walked once

    def page_of(self, key: str) -> DocPage | None:
        name = self.public.get(key)
        record = self.module.records[key]
        page = self.docs.find(name) if name else None
        if page is None and record.tag:
            page = self.docs.find(record.tag)
        return page

    # -- walking a record --------------------------------------------------------------
    def slots(self, key: str) -> list[_Slot]:
        if key not in self._slots:
            found: list[_Slot] = []
            self._walk(key, key, "", True, True, False, self.page_of(key), "", found)
            self._slots[key] = found
        return self._slots[key]

    def _walk(
        self, root: str, key: str, scope: str, certain: bool, sal_ok: bool, out_only: bool,
        page: DocPage | None, doc_prefix: str, found: list[_Slot],
    ) -> None:  # fmt: skip
        record = self.module.records[key]
        fields = record.fields or ()
        union = record.kind == "union"
        # A union of two or more records holds one of them: which one, validate()
        # cannot know, so nothing is said about their members.
        alternatives = union and sum(self._nested(f) is not None for f in fields) >= 2
        page_members = {m.name: m for m in page.members} if page else {}
        for member in fields:
            if member.name is None and member.bits is not None:
                continue  # an unnamed bit-field (": 0") is padding
            nested = self._nested(member)
            # A union's scalar arm overlays the others (Value, AlignUnionTo64).
            member_certain = certain and (not union or (nested is not None and not alternatives))
            member_sal = sal_ok and not (alternatives and nested is not None)
            if member.name is None:
                if nested is not None:
                    self._walk(root, nested, scope, member_certain, member_sal, out_only,
                               page, doc_prefix, found)  # fmt: skip
                continue
            path = scope + member.name
            doc_name = path if doc_prefix == scope else doc_prefix + member.name
            doc = page_members.get(doc_name)
            member_out = out_only or self._out_only(member, doc.direction if doc else None)
            found.append(
                _Slot(
                    path=path,
                    field=member,
                    scope=scope,
                    certain=member_certain,
                    sal_ok=member_sal,
                    out_only=member_out,
                    page=page,
                    doc_name=doc_name,
                    py=self.names.path(root, path),
                )
            )
            if nested is not None and self.module.records[nested].fields is not None:
                own = self.page_of(nested) if nested in self.public else None
                self._walk(
                    root, nested, path + ".", member_certain, member_sal, member_out,
                    own or page, "" if own else doc_prefix + member.name + ".", found,
                )  # fmt: skip

    def _nested(self, member: ir.Field) -> str | None:
        target = self.module.resolve(member.type)
        if isinstance(target, ir.Ref) and target.kind == "record":
            return target.name
        return None

    @staticmethod
    def _out_only(member: ir.Field, direction: str | None) -> bool:
        """Only the callee writes it: ``[out]`` on the page, else ``// out:``, else ``_Out_``."""
        if direction is None:
            direction = member.comment_direction()[0]
        if direction is None and member.annotations:
            sal = " ".join(member.annotations)
            direction = "out" if "_Out" in sal and "_In" not in sal else None
        return _Deriver.direction_out(direction)

    @staticmethod
    @functools.cache
    def direction_out(direction: str | None) -> bool:
        """Is ``direction`` ("out", "out, opt", "in/out", ...) output only?"""
        words = set(re.split(r"[\s,/_]+", (direction or "").lower()))
        return "out" in words and not words & {"in", "inout"}

    # -- the rules -------------------------------------------------------------------
    def rules(self, key: str, name: str) -> list[Rule]:
        slots = self.slots(key)
        by_path = {s.path: s for s in slots}
        found: list[Rule] = []
        sized: set[str] = set()  # pointers a SAL rule already covers
        for slot in slots:
            rule = self.sal_rule(name, slot, by_path)
            if rule:
                found.append(rule)
                sized.add(slot.path)
        for slot in slots:
            found.extend(self.word_rules(name, slot, by_path, sized))
            found.extend(self.reserved_rules(name, slot))
            found.extend(self.enum_rules(name, slot))
        order = {s.py: i for i, s in enumerate(slots)}
        kinds = ("sal", "words", "bound", "reserved", "enum")
        found.sort(key=lambda r: (order.get(r.member, len(order)), kinds.index(r.kind)))
        return found

    def sal_rule(self, record: str, slot: _Slot, by_path: Mapping[str, _Slot]) -> Rule | None:
        if not slot.sal_ok or not isinstance(self.module.resolve(slot.field.type), ir.Pointer):
            return None
        for text in slot.field.annotations:
            call = _SAL_CALL.match(text)
            if not call or not _SAL_SIZE.fullmatch(call.group(1)):
                continue
            count_c = _split_args(call.group(2))[0]
            count = self.count_expression(count_c, slot.scope, by_path)
            loc = slot.field.loc
            if count is None:
                # The size is read through another member (*pCchDest): validate()
                # does not dereference, but that member must at least point somewhere.
                holder = self.size_pointer(count_c, slot.scope, by_path)
                if holder is None:
                    continue  # sizeof(...) and the like: nothing validate() can read
                return _derived(
                    record,
                    "sal",
                    holder,
                    f"bool(self.{holder})",
                    f"must not be NULL: it holds the size of {slot.path}",
                    f"SAL {text} in {loc.file}",
                    loc,
                )
            return _derived(
                record,
                "sal",
                slot.py,
                f"{count} <= 0 or bool(self.{slot.py})",
                f"must not be NULL when {count_c} > 0",
                f"SAL {text} in {loc.file}",
                loc,
            )
        return None

    def element_checks(
        self, key: str, rules: Mapping[str, Sequence[Rule]]
    ) -> list[tuple[str, str]]:
        """(pointer, count) pairs of a record whose SAL sizes a pointer to records
        that have rules of their own: ``validate()`` checks each of those too."""
        slots = self.slots(key)
        by_path = {s.path: s for s in slots}
        found = []
        for slot in slots:
            target = self.module.resolve(slot.field.type)
            if not slot.sal_ok or not isinstance(target, ir.Pointer):
                continue
            element = self.module.resolve(target.target)
            if not (isinstance(element, ir.Ref) and element.kind == "record"):
                continue
            if not rules.get(self.public.get(element.name, "")):
                continue
            for text in slot.field.annotations:
                call = _SAL_CALL.match(text)
                if not call or not _SAL_SIZE.fullmatch(call.group(1)) or "_bytes" in text:
                    continue  # a size in bytes does not count records
                count = self.count_expression(_split_args(call.group(2))[0], slot.scope, by_path)
                if count is not None:
                    found.append((slot.py, count))
                    break
        return found

    def size_pointer(self, text: str, scope: str, by_path: Mapping[str, _Slot]) -> str | None:
        """The path of the pointer member a ``*name`` count reads, or None."""
        name = text.strip()
        if not name.startswith("*") or not _is_member_name(name[1:].strip()):
            return None
        slot = by_path.get(scope + name[1:].strip())
        if slot is None or not isinstance(self.module.resolve(slot.field.type), ir.Pointer):
            return None
        return slot.py

    def count_expression(self, text: str, scope: str, by_path: Mapping[str, _Slot]) -> str | None:
        """``text`` (a C count expression) as Python over ``self``, or None if unreadable.

        Member names resolve in ``scope`` (C: relative to the declaring record) and
        must be integers; other names must be integer constants; only ``+ - *``.
        """
        # A C name that is a Python keyword (a member "from") is parsed as a stand-in.
        held: dict[str, str] = {}

        def hold(match: re.Match[str]) -> str:
            word = match.group(0)
            if not keyword.iskeyword(word):
                return word
            stand_in = next((k for k, v in held.items() if v == word), f"_c{len(held)}_")
            held[stand_in] = word
            return stand_in

        def c_name(name: str) -> str:
            return ".".join(held.get(part, part) for part in name.split("."))

        try:
            python = _C_NAME.sub(hold, _INT_SUFFIX.sub(r"\1", text.strip()))
            tree = ast.parse(python, mode="eval").body
        except SyntaxError:
            return None  # *pCchDest: a dereference is not an expression of members

        def convert(node: ast.expr) -> ast.expr | None:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
                left, right = convert(node.left), convert(node.right)
                return ast.BinOp(left, node.op, right) if left and right else None
            if isinstance(node, ast.Constant):
                return node if type(node.value) is int else None
            path = member_path(node) if isinstance(node, ast.Name | ast.Attribute) else None
            slot = by_path.get(scope + c_name(path)) if path else None
            if slot is not None and self.is_integer(slot.field):
                return ast.parse(f"self.{slot.py}", mode="eval").body
            if isinstance(node, ast.Name) and c_name(node.id) in self.constants:
                return ast.Constant(self.constants[c_name(node.id)])
            return None  # sizeof(...), a pointer member, an unknown name, ...

        converted = convert(tree)
        return ast.unparse(converted) if converted else None

    def is_integer(self, member: ir.Field) -> bool:
        if member.bits is not None:
            return True
        target = self.module.resolve(member.type)
        if isinstance(target, ir.Ref):
            return target.kind == "enum"
        return isinstance(target, ir.Prim) and target.kind in _INTEGER_KINDS

    def word_rules(
        self, record: str, slot: _Slot, by_path: Mapping[str, _Slot], sized: set[str]
    ) -> list[Rule]:
        """A count member whose page says which pointer or array it counts."""
        if slot.page is None or slot.out_only or not slot.sal_ok or not self.is_integer(slot.field):
            return []
        doc = next((m for m in slot.page.members if m.name == slot.doc_name), None)
        if doc is None or not doc.text:
            return []
        # Newer pages open with the declaration ("UINT PrivateDriverDataSize").
        prose = [s for s in _sentences(doc.text) if not s.endswith(slot.field.name or "")]
        sentence = prose[0] if prose else ""
        if not _COUNT_SENTENCE.match(sentence) or not _COUNT_LINK.search(sentence):
            return []
        for word in re.findall(r"[A-Za-z_]\w*", sentence):
            other = by_path.get(slot.scope + word)
            if other is None or other is slot or other.out_only or not other.sal_ok:
                continue
            target = self.module.resolve(other.field.type)
            cite = f"{sentence} ({slot.page.file}:{doc.loc.line})"
            if isinstance(target, ir.Pointer):
                if other.path in sized:
                    return []
                return [
                    _derived(
                        record,
                        "words",
                        other.py,
                        f"self.{slot.py} <= 0 or bool(self.{other.py})",
                        f"must not be NULL when {slot.doc_name} > 0",
                        cite,
                        doc.loc,
                    )
                ]
            if isinstance(target, ir.Array) and isinstance(target.count, int) and target.count > 1:
                return [
                    _derived(
                        record,
                        "bound",
                        slot.py,
                        f"self.{slot.py} <= {target.count}",
                        f"must be at most {target.count}, the length of {word}",
                        cite,
                        doc.loc,
                    )
                ]
        return []

    def reserved_rules(self, record: str, slot: _Slot) -> list[Rule]:
        member = slot.field
        if slot.out_only or not slot.certain or not _RESERVED.fullmatch(member.name or ""):
            return []
        target = self.module.resolve(member.type)
        path = f"self.{slot.py}"
        if self.is_integer(member):
            condition, message = f"{path} == 0", "is reserved and must be zero"
        elif isinstance(target, ir.Pointer):
            condition, message = f"not {path}", "is reserved and must be NULL"
        elif isinstance(target, ir.Array):
            elem = self.module.resolve(target.elem)
            if not (isinstance(elem, ir.Prim) and elem.kind in _INTEGER_KINDS):
                return []
            # c_char arrays read as bytes; .raw gives the integers.
            values = f"{path}.raw" if elem.kind == "char" else path
            condition, message = f"not any({values})", "is reserved and must be all zero"
        else:
            return []  # a reserved structure: its own members say what they need
        return [
            _derived(
                record,
                "reserved",
                slot.py,
                condition,
                message,
                self._reserved_cite(slot),
                member.loc,
            )
        ]

    def _reserved_cite(self, slot: _Slot) -> str:
        """The page's sentence about the reserved member, else where the header has it."""
        if slot.page is not None:
            for doc in slot.page.members:
                if doc.name != slot.doc_name:
                    continue
                for sentence in _sentences(doc.text):
                    if re.search(r"\breserved\b", sentence, re.I):
                        return f"{sentence} ({slot.page.file}:{doc.loc.line})"
        loc = slot.field.loc
        return f"reserved member {slot.field.name} in {loc.file}"

    def enum_rules(self, record: str, slot: _Slot) -> list[Rule]:
        member = slot.field
        target = self.module.resolve(member.type)
        if not slot.certain or slot.out_only:
            return []
        if not (isinstance(target, ir.Ref) and target.kind == "enum"):
            return []
        enum = self.module.enums.get(target.name)
        if enum is None or not enum.members:
            return []
        name = self.enum_names.get(target.name, target.name)
        py_name = self.names.of(name)
        values = sorted({_stored(m.value, member.bits or 32) for m in enum.members})
        path = f"self.{slot.py}"
        flags = [v for v in values if v]
        if len(flags) >= 3 and all(v > 0 and v & (v - 1) == 0 for v in flags):
            mask = 0
            for value in flags:
                mask |= value
            condition = f"not {path} & ~{mask:#x}"
            message = f"must hold only {name} flags"
        else:
            condition = _membership(path, values)
            if condition.count(" or ") >= _MAX_RANGES and member.bits is None:
                # Too many ranges to read (D3DDDIFORMAT): ask the generated IntEnum,
                # whose values are these (a full-width field reads them unchanged).
                condition = f"{path} in set({py_name})"
            message = f"must be a {name} value"
        loc = member.loc
        return [
            _derived(
                record,
                "enum",
                slot.py,
                condition,
                message,
                f"{slot.path} is declared {name} in {loc.file}",
                loc,
            )
        ]


def _is_member_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", text) is not None


def _derived(
    record: str, kind: str, member: str, condition: str, message: str, cite: str, loc: Loc
) -> Rule:
    """A derived rule, named after what it checks and where (``sal:pPages``)."""
    return Rule(
        record=record,
        name=f"{kind}:{member}",
        member=member,
        condition=condition,
        message=message,
        cite=cite,
        origin="derived",
        loc=loc,
    )


def _stored(value: int, bits: int) -> int:
    """``value`` as a signed field of ``bits`` bits reads it back (MSVC enums are signed)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _membership(path: str, values: Sequence[int]) -> str:
    """``path in (...)``, with long runs of consecutive values written as ranges.

    >>> _membership("self.x", [0, 1, 2, 3, 7])
    '0 <= self.x <= 3 or self.x == 7'
    """
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts: list[str] = []
    singles: list[int] = []
    for run in runs:
        if len(run) >= _RANGE_RUN:
            parts.append(f"{run[0]} <= {path} <= {run[-1]}")
        else:
            singles.extend(run)
    if len(singles) == 1:
        parts.append(f"{path} == {singles[0]}")
    elif singles:
        parts.append(f"{path} in ({', '.join(map(str, singles))})")
    return " or ".join(parts)


def _split_args(text: str) -> list[str]:
    """Split a macro's arguments at top-level commas."""
    args, depth, current = [], 0, []
    for char in text:
        if char == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        depth += char in "([{"
        depth -= char in ")]}"
        current.append(char)
    args.append("".join(current).strip())
    return args


_LAST: list[_Deriver] = []  # the one for the module being built: its walks are shared


def _deriver(module: ir.Module, docs: DocIndex) -> _Deriver:
    """The deriver of this module and these pages (derive_rules, requirement_stubs and
    element_checks of one build share it, and so its member walks)."""
    if not (_LAST and _LAST[0].module is module and _LAST[0].docs is docs):
        _LAST[:] = [_Deriver(module, docs)]
    return _LAST[0]


def forget_walks() -> None:
    """Drop the shared member walks (a build calls it once it has its rules and checks)."""
    _LAST.clear()


def derive_rules(
    module: ir.Module, docs: DocIndex, hand: Mapping[str, Sequence[Rule]]
) -> dict[str, tuple[Rule, ...]]:
    """Rules derived from SAL, reserved members, enum types and the pages, per record.

    Keys are the records' public names (``module.record_names()``); records without
    derived rules are left out. A derived rule on a member that any hand rule of
    the record mentions is dropped: the hand rule says what the member needs.

    Example::

        derived = derive_rules(result.module, result.docs, hand_rules)
        derived["D3DKMT_LOCK"][0].condition  # 'self.NumPages <= 0 or bool(self.pPages)'
    """
    deriver = _deriver(module, docs)
    result: dict[str, tuple[Rule, ...]] = {}
    for key, name in sorted(deriver.public.items(), key=lambda item: item[1]):
        record = module.records[key]
        if record.fields is None or name in result:
            continue
        covered = {path for rule in hand.get(name, ()) for path in (rule.member, *rule.paths())}
        rules = [
            r for r in deriver.rules(key, name)
            if r.member not in covered and not any(r.member.startswith(p + ".") for p in covered)
        ]  # fmt: skip
        if rules:
            result[name] = tuple(rules)
    return result


def element_checks(
    module: ir.Module, docs: DocIndex, rules: Mapping[str, Sequence[Rule]]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per record (public name), the arrays of records ``validate()`` checks element by
    element: a pointer SAL sizes by a count (``_Field_size_(NumAllocations)``) to a
    record that has rules. Each pair is (pointer path, count expression), in Python."""
    deriver = _deriver(module, docs)
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, name in deriver.public.items():
        if module.records[key].fields is not None and name not in found:
            checks = deriver.element_checks(key, rules)
            if checks:
                found[name] = tuple(checks)
    return found


def merge_rules(
    hand: Mapping[str, Sequence[Rule]], derived: Mapping[str, Sequence[Rule]]
) -> dict[str, tuple[Rule, ...]]:
    """Every record's rules, hand-written first (in file order), then derived ones."""
    names = sorted(set(hand) | set(derived))
    return {name: (*hand.get(name, ()), *derived.get(name, ())) for name in names}


# -- stubs: requirements no rule encodes yet ------------------------------------------------
_REQUIREMENT = re.compile(
    r"\bmust\b|\b(?:is|are) ignored\b|\breserved\b.*\bzero\b"
    r"|\bshould be (?:set to )?(?:zero|0|NULL)\b",
    re.I,
)
# Where a sentence ends: the spaces after ".", "!" or "?" (not "e.g." nor "i.e.")
# where the next one starts (a capital, a bracket, a quote). Matched from the stop
# itself: a pattern that starts with a lookbehind is tried at every character.
_SENTENCE_END = re.compile(r"[.!?](?<!\be\.g\.)(?<!\bi\.e\.)(\s+)(?=[A-Z\[(\"'])")
_LINK = re.compile(r"\s*\((?:https?://|/)[^()\s]*\)")


@functools.lru_cache(maxsize=8192)  # a page's texts are read by several rules and the stubs
def _sentences(text: str) -> tuple[str, ...]:
    """Plain one-line sentences of a page text (paragraphs and list items split)."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*- )", text):
        block = _plain(block).removeprefix("- ")
        if block.startswith("|") or block.startswith("    "):
            continue  # a table row or code: not prose
        start = 0
        for end in _SENTENCE_END.finditer(block):
            found.append(block[start : end.start(1)].strip())
            start = end.end(1)
        found.append(block[start:].strip())
    return tuple(s for s in found if s)


def _plain(text: str) -> str:
    """Text without its links' addresses, on one line, single-spaced."""
    if "(" in text:  # (the search for a link is slow: most texts have none)
        text = _LINK.sub("", text)
    return " ".join(text.split())  # (str.split and the regex's \s: the same spaces)


def requirement_stubs(
    module: ir.Module, docs: DocIndex, rules: Mapping[str, Sequence[Rule]]
) -> dict[str, tuple[str, ...]]:
    """Page sentences stating a requirement that no rule of the record covers.

    A sentence in a member's text is covered when a rule reads that member (or a
    member below it); sentences of ``[out]`` members are left out (they say what
    the callee does). A description or remarks sentence is covered when a rule
    cites it (a page's generic sentences, "This member is reserved...", are not
    matched by citation across members). Member
    sentences come back as ``"member: sentence"``, others as the sentence alone;
    records with none are left out.

    Example::

        stubs = requirement_stubs(module, docs, merge_rules(hand, derived))
        stubs["D3DKMT_LOCK"]  # ('Flags: Note that specifying some flags together is ...',)
    """
    deriver = _deriver(module, docs)
    result: dict[str, tuple[str, ...]] = {}
    for key, name in sorted(deriver.public.items(), key=lambda item: item[1]):
        record = module.records[key]
        page = deriver.page_of(key)
        if record.fields is None or page is None or name in result:
            continue
        record_rules = rules.get(name, ())
        read = {path for rule in record_rules for path in (rule.member, *rule.paths())}
        cites = [_plain(rule.cite) for rule in record_rules if rule.cite]

        def cited(sentence: str, cites: list[str] = cites) -> bool:
            return any(sentence in cite or (cite and cite in sentence) for cite in cites)

        found: list[str] = []
        for member in page.members:
            path = deriver.names.path(key, member.name)
            covered = path in read or any(p.startswith(path + ".") for p in read)
            # What the callee does with an [out] member is nothing validate() can check.
            if covered or _Deriver.direction_out(member.direction):
                continue
            for sentence in _sentences(member.text):
                if _REQUIREMENT.search(sentence):
                    found.append(f"{member.name}: {sentence}")
        for text in (page.description, page.remarks):
            for sentence in _sentences(text):
                if _REQUIREMENT.search(sentence) and not cited(sentence):
                    found.append(sentence)
        if found:
            result[name] = tuple(dict.fromkeys(found))
    return result


# -- the report ---------------------------------------------------------------------------
def rules_report(
    rules: Mapping[str, Sequence[Rule]],
    stubs: Mapping[str, Sequence[str]],
    skipped: Sequence[Rule] = (),
) -> dict:
    """The rules part of the run's report: counts per record and per kind.

    ``{"records": {name: {"hand": n, "derived": n, "stubs": n}}, "kinds": {...},
    "totals": {...}, "skipped": {"rules": n, "records": [...]}}``
    """
    records: dict[str, dict[str, int]] = {}
    kinds: dict[str, int] = {}
    for name in sorted(set(rules) | set(stubs)):
        hand = sum(rule.origin == "hand" for rule in rules.get(name, ()))
        records[name] = {
            "hand": hand,
            "derived": len(rules.get(name, ())) - hand,
            "stubs": len(stubs.get(name, ())),
        }
        for rule in rules.get(name, ()):
            kinds[rule.kind] = kinds.get(rule.kind, 0) + 1
    totals = {
        key: sum(entry[key] for entry in records.values()) for key in ("hand", "derived", "stubs")
    }
    return {
        "records": records,
        "kinds": dict(sorted(kinds.items())),
        "totals": totals,
        "skipped": {
            "rules": len(skipped),
            "records": sorted({rule.record for rule in skipped}),
        },
    }


def rules_summary(report: Mapping) -> str:
    """The lines printed after ``generate`` about rules (from ``rules_report``)."""
    totals, kinds, skipped = report["totals"], report["kinds"], report["skipped"]
    derived = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if kind != "hand")
    lines = [
        f"rules: {totals['hand']} hand-written, {totals['derived']} derived"
        + (f" ({derived})" if derived else ""),
        f"  requirement sentences not yet encoded: {totals['stubs']} "
        f"in {sum(1 for r in report['records'].values() if r['stubs'])} records",
    ]
    if skipped["rules"]:
        lines.append(
            f"  skipped {skipped['rules']} hand rule(s) for {len(skipped['records'])} "
            "record(s) this header does not declare"
        )
    return "\n".join(lines)
