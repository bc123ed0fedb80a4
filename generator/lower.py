"""Stage 3: lower the pycparser AST to the IR (``ir.py``).

A ``NodeVisitor``-style walk over the top-level declarations, in source order,
tracking ``#pragma pack`` as it goes. Constant expressions (enum values, array
sizes, bit widths, ``#define`` bodies) are computed with C's integer rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from . import ir
from .cint import NotConstant
from .cint import binary as _binary
from .cint import unary as _unary
from .cint import wrap as _wrap
from .comments import HeaderNotes
from .errors import Diagnostics, GeneratorError, Loc
from .parse import ast, loc_of, parse_macros
from .preprocess import ALIGN_PRAGMA, PRELUDE_NAME, MacroDef, Preprocessed

# Integer kinds as (bits, signed); MSVC's long is 32-bit on every Windows ABI.
_C_SCALARS: Mapping[tuple[str, ...], str] = {
    ("char",): "char",
    ("signed", "char"): "int8",
    ("unsigned", "char"): "uint8",
    ("short",): "int16",
    ("short", "int"): "int16",
    ("signed", "short"): "int16",
    ("signed", "short", "int"): "int16",
    ("unsigned", "short"): "uint16",
    ("unsigned", "short", "int"): "uint16",
    ("int",): "int32",
    ("signed",): "int32",
    ("signed", "int"): "int32",
    ("long",): "int32",
    ("long", "int"): "int32",
    ("signed", "long"): "int32",
    ("unsigned",): "uint32",
    ("unsigned", "int"): "uint32",
    ("unsigned", "long"): "uint32",
    ("unsigned", "long", "int"): "uint32",
    ("long", "long"): "int64",
    ("long", "long", "int"): "int64",
    ("signed", "long", "long"): "int64",
    ("unsigned", "long", "long"): "uint64",
    ("unsigned", "long", "long", "int"): "uint64",
    ("float",): "float",
    ("double",): "double",
    ("long", "double"): "double",
    ("_Bool",): "uint8",
}
# The prelude's pointer-sized integers: one IR for both ABIs.
_POINTER_SIZED = {
    "INT_PTR": "intptr", "LONG_PTR": "intptr", "SSIZE_T": "intptr",
    "UINT_PTR": "uintptr", "ULONG_PTR": "uintptr", "SIZE_T": "uintptr", "DWORD_PTR": "uintptr",
}  # fmt: skip
INT_BITS = {
    "char": (8, True), "int8": (8, True), "uint8": (8, False), "int16": (16, True),
    "uint16": (16, False), "int32": (32, True), "uint32": (32, False), "int64": (64, True),
    "uint64": (64, False), "intptr": (64, True), "uintptr": (64, False),
}  # fmt: skip
_PACK = re.compile(r"^\s*pack\s*\((.*)\)\s*$")
# MSVC: an enumerator is an int, and a value written as 0x80000000..0xFFFFFFFF is
# taken as that int (the SDK's *_FORCE_DWORD = 0xFFFFFFFF). clang and gcc accept
# wider values by widening the enum; MSVC would truncate them: we refuse them.
_ENUM_RANGE = (-(1 << 31), (1 << 32) - 1)
_ALIGN = re.compile(rf"^\s*{ALIGN_PRAGMA}\s*\((.*)\)\s*$")


class Lowerer:
    """Builds one ``ir.Module`` from a parsed translation unit."""

    def __init__(self, pp: Preprocessed, header: str, diagnostics: Diagnostics) -> None:
        self.pp = pp
        self.header = header
        self.diagnostics = diagnostics
        self.records: dict[str, ir.Record] = {}
        self.enums: dict[str, ir.Enum] = {}
        self.typedefs: dict[str, ir.Typedef] = {}
        self.constants: list[ir.Constant] = []
        self.guids: list[ir.Guid] = []
        self.functions: list[ir.Function] = []
        self.size_checks: list[ir.SizeCheck] = []
        self.values: dict[str, tuple[int, int, bool]] = {}  # name -> (value, bits, signed)
        self.pack_stack: list[tuple[str | None, int | None]] = []  # (label, pack)
        self.pack: int | None = None
        # __declspec(align(n)) of the next typedef declarators: (n, how many)
        self.typedef_align: tuple[int, int] | None = None
        self.record_align: dict[str, int] = {}  # record key -> its __declspec(align(n))
        self._node_keys: dict[int, str] = {}
        self._anon_counts: dict[str, int] = {}
        self._enumerators: dict[str, Loc] = {}  # where each enumerator was defined
        self.abi = "x64"

    # -- top level ---------------------------------------------------------------
    def lower(self, tree: ast.FileAST, abi: str) -> ir.Module:
        self.abi = abi
        for node in tree.ext:
            try:
                if isinstance(node, ast.Pragma):
                    self._pragma(node)
                elif isinstance(node, ast.Typedef):
                    self._typedef(node)
                elif isinstance(node, ast.Decl):
                    self._decl(node)
            except RecursionError:
                # A chain the bracket limit of parse.py does not see (1+1+...+1).
                raise GeneratorError(loc_of(node), "declaration nested too deeply") from None
        self._macros()
        self._check_complete()
        self._check_not_empty()
        self._notes()
        return ir.Module(
            header=self.header,
            files=self.pp.header_files,
            records=self.records,
            enums=self.enums,
            typedefs=self.typedefs,
            constants=tuple(self.constants),
            guids=tuple(self.guids),
            functions=tuple(self.functions),
            size_checks=tuple(self.size_checks),
        )

    def _pragma(self, node: ast.Pragma, record: str | None = None) -> None:
        align = _ALIGN.match(node.string or "")
        if align:
            # The preprocess stage's form of __declspec(align(n)): in a record's
            # body it is the record's; before a typedef, its declarators'.
            loc = loc_of(node)
            if record is not None:
                value = self._align_value(align.group(1), loc)
                self.record_align[record] = max(self.record_align.get(record, 1), value)
            else:
                text, _, count = align.group(1).rpartition(",")
                self.typedef_align = (self._align_value(text, loc), int(count))
            return
        match = _PACK.match(node.string or "")
        if not match:
            return
        # MSVC: pack(push[, label][, n]), pack(pop[, label][, n]), pack(n), pack();
        # a pop with a label pops down to (and including) the push with that label.
        args = [a.strip() for a in match.group(1).split(",") if a.strip()]
        numbers = [int(a, 0) for a in args if a[:1].isdigit()]
        labels = [a for a in args[1:] if a[:1].isalpha() or a[:1] == "_"]
        if args and args[0] == "push":
            self.pack_stack.append((labels[0] if labels else None, self.pack))
            if numbers:
                self.pack = numbers[0]
        elif args and args[0] == "pop":
            if labels:
                depth = next(
                    (i for i in range(len(self.pack_stack) - 1, -1, -1)
                     if self.pack_stack[i][0] == labels[0]),
                    None,
                )  # fmt: skip
                if depth is not None:  # MSVC: an unknown label pops nothing
                    self.pack = self.pack_stack[depth][1]
                    del self.pack_stack[depth:]
            elif self.pack_stack:
                self.pack = self.pack_stack.pop()[1]
            if numbers:
                self.pack = numbers[0]
        elif not args or numbers:
            self.pack = numbers[0] if numbers else None

    def _align_value(self, text: str, loc: Loc) -> int:
        parsed = parse_macros([MacroDef("align", text.strip(), loc)], self.typedefs)
        if "align" not in parsed:
            raise GeneratorError(loc, f"alignment '{text.strip()}' is not an integer constant")
        value = self._int(parsed["align"], loc, "alignment")
        if value < 1 or value & (value - 1) or value > 8192:
            raise GeneratorError(loc, f"alignment {value} is not a power of two up to 8192")
        return value

    def _typedef(self, node: ast.Typedef) -> None:
        loc = loc_of(node)
        if node.name == "__C_ASSERT__":
            self._c_assert(node, loc)
            return
        align = None
        if self.typedef_align is not None:
            align, left = self.typedef_align
            self.typedef_align = (align, left - 1) if left > 1 else None
        if node.name in _POINTER_SIZED and loc.file == PRELUDE_NAME:
            type_: ir.Type = ir.Prim(_POINTER_SIZED[node.name])
        else:
            type_ = self._type(node.type, loc, owner=node.name)
        first = self.typedefs.get(node.name)
        if first is not None:
            # C11 allows a typedef repeated with the same type, nothing else.
            if self._canonical(first.type) != self._canonical(type_):
                raise GeneratorError(
                    loc, f"typedef '{node.name}' redefined with a different type "
                    f"(first defined at {first.loc})"
                )  # fmt: skip
            return
        self.typedefs[node.name] = ir.Typedef(node.name, type_, loc, align=align)

    def _decl(self, node: ast.Decl) -> None:
        loc = loc_of(node)
        type_node = node.type
        if isinstance(type_node, ast.FuncDecl):
            self._function(node, loc)
        elif isinstance(type_node, ast.Struct | ast.Union | ast.Enum):
            self._type(ast.TypeDecl(None, [], None, type_node), loc, owner=None)
        elif node.name and isinstance(node.init, ast.InitList) and "static" in node.storage:
            self._guid(node, loc)

    # -- types -------------------------------------------------------------------
    def _type(self, node: ast.Node, loc: Loc, owner: str | None) -> ir.Type:
        if isinstance(node, ast.TypeDecl):
            return self._type(node.type, loc, owner)
        if isinstance(node, ast.PtrDecl):
            const = "const" in (node.type.quals if isinstance(node.type, ast.TypeDecl) else [])
            star = loc_of(node)
            size = self.pp.pointer_sizes.get((star.file, star.line, star.col))
            return ir.Pointer(self._type(node.type, loc, owner), const, size)
        if isinstance(node, ast.ArrayDecl):
            elem = self._type(node.type, loc, owner)
            if node.dim is None:
                return ir.Array(elem, 0)
            count = self._count(node.dim, loc)
            if isinstance(count, int) and count < 0:
                raise GeneratorError(loc, f"array size is negative ({count})")
            return ir.Array(elem, count)
        if isinstance(node, ast.FuncDecl):
            return self._functype(node, loc)
        if isinstance(node, ast.IdentifierType):
            return self._identifier_type(node.names, loc)
        if isinstance(node, ast.Struct | ast.Union):
            return ir.Ref("record", self._record(node, loc, owner))
        if isinstance(node, ast.Enum):
            return ir.Ref("enum", self._enum(node, loc, owner))
        raise GeneratorError(loc, f"unsupported declaration ({type(node).__name__})")

    def _identifier_type(self, names: list[str], loc: Loc) -> ir.Type:
        if names == ["void"]:
            return ir.Void()
        kind = _C_SCALARS.get(tuple(names))
        if kind:
            return ir.Prim(kind)
        if len(names) == 1:
            name = names[0]
            if name in self.typedefs:
                return ir.Ref("typedef", name)
        raise GeneratorError(loc, f"unknown type '{' '.join(names)}'")

    def _functype(self, node: ast.FuncDecl, loc: Loc) -> ir.FuncType:
        params, variadic = self._params(node, loc)
        return ir.FuncType(self._type(node.type, loc, None), params, variadic)

    def _params(self, node: ast.FuncDecl, loc: Loc) -> tuple[tuple[ir.Param, ...], bool]:
        params: list[ir.Param] = []
        variadic = False
        for param in node.args.params if node.args else []:
            if isinstance(param, ast.EllipsisParam):
                variadic = True
                continue
            ptype = self._type(param.type, loc, None)
            if isinstance(ptype, ir.Void):
                continue
            if isinstance(ptype, ir.Array):  # arrays decay in parameters
                ptype = ir.Pointer(ptype.elem)
            pname = getattr(param, "name", None)
            params.append(ir.Param(pname, ptype, self._param_annotations(param)))
        return tuple(params), variadic

    def _param_annotations(self, param: ast.Node) -> tuple[str, ...]:
        loc = loc_of(param)
        found = self.pp.annotations.get((loc.file, loc.line), ())
        # Annotations written just before this parameter on its line.
        return tuple(str(a) for a in found if a.loc.col <= loc.col)

    def _record(self, node: ast.Struct | ast.Union, loc: Loc, owner: str | None) -> str:
        kind = "struct" if isinstance(node, ast.Struct) else "union"
        if id(node) in self._node_keys:
            return self._node_keys[id(node)]
        key = node.name or owner
        if key is None:
            raise GeneratorError(loc, f"anonymous {kind} needs a name")
        self._node_keys[id(node)] = key
        existing = self.records.get(key)
        if node.decls is None:
            if existing is None:
                self.records[key] = ir.Record(key, kind, loc, tag=node.name)
            return key
        rec_loc = loc_of(node) if node.coord else loc
        if existing is not None and existing.fields is not None:
            if node.name and existing.loc != rec_loc:
                raise GeneratorError(
                    rec_loc, f"{kind} '{node.name}' redefined (first defined at {existing.loc})"
                )
            return key  # the same definition met again through another typedef
        # MSVC: the pack in force where the record starts; one wider than every
        # ABI's pointer (16) caps nothing (layout drops pack(8) on x86 likewise).
        # GCC (wsl) keeps any pack: even pack(16) stops bit-field padding.
        pack = self.pack if self.pack and (self.pack <= 8 or self.abi == "wsl") else None
        fields = tuple(self._fields(node.decls, key))
        self._check_unique_members(fields, key)
        record = ir.Record(
            key, kind, rec_loc, tag=node.name, fields=fields, pack=pack,
            comment=self._comment(rec_loc), align=self.record_align.get(key),
        )  # fmt: skip
        self.records[key] = record
        return key

    def _fields(self, decls: list[ast.Node], parent: str) -> list[ir.Field]:
        fields: list[ir.Field] = []
        for decl in decls:
            if isinstance(decl, ast.Pragma):
                self._pragma(decl, record=parent)
                continue
            loc = loc_of(decl)
            owner = self._nested_name(parent, decl.name)
            type_ = self._type(decl.type, loc, owner)
            if decl.name is None and decl.bitsize is None and not self._is_record(type_):
                # ``UINT;``: only a struct or union is a member without a name (C11
                # 6.7.2.1p13, MSVC's typedef-named ones too); clang warns and drops it.
                self.diagnostics.warn(loc, "member declares nothing (no name); ignored")
                continue
            if isinstance(type_, ir.Ref) and type_.kind == "record" and owner == type_.name:
                self.records[owner] = replace(self.records[owner], parent=parent)
            bits = self._int(decl.bitsize, loc, "bit-field width") if decl.bitsize else None
            if bits is not None:
                self._check_bits(decl, type_, bits, loc)
            align = None
            for spec in getattr(decl, "align", None) or []:
                align = max(align or 0, self._int(spec.alignment, loc, "alignment"))
            annotations = self._annotations_of(loc)
            fields.append(
                ir.Field(
                    decl.name,
                    type_,
                    loc,
                    bits=bits,
                    align=align,
                    annotations=annotations,
                    comment=self._comment(loc),
                )  # fmt: skip
            )
        return fields

    def _annotations_of(self, loc: Loc) -> tuple[str, ...]:
        """SAL written on a member's line, and on the annotation-only lines just above."""
        lines = [loc.line]
        while (loc.file, lines[-1] - 1) in self.pp.annotation_only:
            lines.append(lines[-1] - 1)
        found = []
        for line in reversed(lines):
            found += [str(a) for a in self.pp.annotations.get((loc.file, line), ())]
        return tuple(found)

    def _nested_name(self, parent: str, member: str | None) -> str:
        if member:
            return f"{parent}_{member}"
        count = self._anon_counts.get(parent, 0)
        self._anon_counts[parent] = count + 1
        return f"{parent}_{count}"

    def _check_bits(self, decl: ast.Decl, type_: ir.Type, bits: int, loc: Loc) -> None:
        base = _scalar_kind(self, type_)
        if base is None:
            raise GeneratorError(loc, f"bit-field '{decl.name}' must have an integer type")
        width = INT_BITS[base][0]
        if bits < 0:
            raise GeneratorError(loc, f"bit-field '{decl.name}' has a negative width ({bits})")
        if bits > width:
            raise GeneratorError(
                loc, f"bit-field '{decl.name}' is {bits} bits wide, more than its {width}-bit type"
            )
        if bits == 0 and decl.name:
            raise GeneratorError(loc, f"named bit-field '{decl.name}' has zero width")

    def _enum(self, node: ast.Enum, loc: Loc, owner: str | None) -> str:
        if id(node) in self._node_keys:
            return self._node_keys[id(node)]
        key = node.name or owner
        if key is None:
            key = f"__anonymous_enum_{len(self.enums)}"
        self._node_keys[id(node)] = key
        if node.values is None:
            if key not in self.enums:
                self.enums[key] = ir.Enum(key, loc, tag=node.name)
            return key
        members: list[ir.EnumMember] = []
        next_value = 0
        for item in node.values.enumerators:
            if isinstance(item, ast.Pragma):
                # pycparser takes one here; clang rejects it (what MSVC makes of a pack
                # pushed among enumerators is not known to us).
                raise GeneratorError(loc_of(item), "#pragma inside an enum's body")
            item_loc = loc_of(item)
            if item.name in self._enumerators:
                raise GeneratorError(
                    item_loc, f"enumerator '{item.name}' redefined "
                    f"(first defined at {self._enumerators[item.name]})"
                )  # fmt: skip
            self._enumerators[item.name] = item_loc
            if item.value is not None:
                next_value = self._int(item.value, item_loc, f"value of '{item.name}'")
                low, high = _ENUM_RANGE
                if not low <= next_value <= high:
                    raise GeneratorError(
                        item_loc, f"value of '{item.name}' ({next_value:#x}) does not fit in "
                        "32 bits (MSVC: an enumerator is an int)"
                    )  # fmt: skip
            if self.abi == "wsl":
                # GCC: an enumerator keeps its value; the enum widens to hold them all.
                value = next_value
                bits = 32 if -(1 << 31) <= value < (1 << 31) else 64
            else:
                value, bits = _wrap(next_value, 32, True), 32  # MSVC: enumerators are ints
            self.values[item.name] = (value, bits, True)
            members.append(ir.EnumMember(item.name, value, item_loc, self._comment(item_loc)))
            next_value = value + 1
        self.enums[key] = ir.Enum(
            key, loc_of(node) if node.coord else loc, node.name, tuple(members)
        )
        return key

    # -- other declarations --------------------------------------------------------
    def _function(self, node: ast.Decl, loc: Loc) -> None:
        func = node.type
        params, _ = self._params(func, loc)
        ret = self._type(func.type, loc, None)
        self.functions.append(ir.Function(node.name, ret, params, loc))

    def _guid(self, node: ast.Decl, loc: Loc) -> None:
        type_ = self._type(node.type, loc, None)
        if not (isinstance(type_, ir.Ref) and type_.name == "GUID"):
            return
        exprs = node.init.exprs
        try:
            data4 = tuple(self._int(e, loc, "GUID byte") & 0xFF for e in exprs[3].exprs)
            numbers = [self._int(e, loc, "GUID part") for e in exprs[:3]]
        except (AttributeError, IndexError):
            raise GeneratorError(loc, f"GUID '{node.name}' is not in DEFINE_GUID form") from None
        self.guids.append(
            ir.Guid(node.name, numbers[0] & 0xFFFFFFFF, numbers[1] & 0xFFFF,
                    numbers[2] & 0xFFFF, data4, loc)
        )  # fmt: skip

    def _c_assert(self, node: ast.Typedef, loc: Loc) -> None:
        """``C_ASSERT(e)`` arrives as ``typedef char __C_ASSERT__[(e) ? 1 : -1]``."""
        cond = node.type.dim.cond if isinstance(node.type.dim, ast.TernaryOp) else None
        if (
            isinstance(cond, ast.BinaryOp)
            and cond.op == "=="
            and isinstance(cond.left, ast.UnaryOp)
            and cond.left.op == "sizeof"
            and isinstance(cond.left.expr, ast.Typename)
        ):
            try:
                size = self._eval(cond.right)[0]
            except NotConstant:
                return  # sizeof(X) == sizeof(Y) and the like: clang checks those
            type_ = self._type(cond.left.expr.type, loc, None)
            self.size_checks.append(ir.SizeCheck(type_, size, self.abi, loc))
            return
        try:
            ok = self._int(cond, loc, "C_ASSERT") if cond is not None else 1
        except GeneratorError:
            return  # sizeof of something else: clang checks those, we do not
        if not ok:
            raise GeneratorError(loc, "C_ASSERT fails")

    def _macros(self) -> None:
        user = [m for m in self.pp.macros if m.name not in self.values]
        parsed = parse_macros(user, self.typedefs)
        for macro in user:
            expr = parsed.get(macro.name)
            if expr is None:
                continue
            try:
                value, bits, signed = self._eval(expr)
            except (NotConstant, RecursionError):
                continue
            self.values[macro.name] = (value, bits, signed)
            self.constants.append(
                ir.Constant(macro.name, value, macro.loc, self._comment(macro.loc))
            )

    def _notes(self) -> None:
        """Give constants and functions the comment above them, and functions and
        typedefs the platform the header declares them for (``comments.py``)."""
        taken = {(t.loc.file, t.loc.line) for t in self.typedefs.values()}
        taken |= {(f.loc.file, f.loc.line) for f in self.functions}
        for record in self.records.values():
            taken |= {(m.loc.file, m.loc.line) for m in (record, *(record.fields or ()))}
        for enum in self.enums.values():
            taken |= {(m.loc.file, m.loc.line) for m in enum.members}
        notes = HeaderNotes(self.pp, taken)
        self.constants = [
            replace(c, comment=notes.own(c.loc) or notes.leading(c.loc, defines=True))
            for c in self.constants
        ]
        functions = []
        for function in self.functions:
            comment = notes.own(function.loc) or notes.leading(function.loc)
            platform = notes.platform(function.loc, comment)
            functions.append(replace(function, comment=comment, platform=platform))
        self.functions = functions
        for name, typedef in self.typedefs.items():
            if platform := notes.platform(typedef.loc, ""):
                self.typedefs[name] = replace(typedef, platform=platform)

    # -- constant expressions --------------------------------------------------------
    def _count(self, node: ast.Node, loc: Loc) -> int | ir.Count:
        """An array length: a number, or (when it takes a sizeof) an ``ir.Count``."""
        try:
            return self._eval(node)[0]
        except NotConstant as exc:
            try:
                count = self._count_expr(node, loc)
            except NotConstant:
                raise GeneratorError(
                    loc, f"array size is not an integer constant ({exc})"
                ) from None
            return count

    def _count_expr(self, node: ast.Node, loc: Loc) -> ir.Count:
        """The expression tree of a length with a ``sizeof`` (computed per ABI by layout)."""
        if isinstance(node, ast.UnaryOp) and node.op == "sizeof":
            if not isinstance(node.expr, ast.Typename):
                raise NotConstant("sizeof of an expression")
            return ir.Count("sizeof", (self._type(node.expr.type, loc, None),))
        try:
            return ir.Count("int", self._eval(node))
        except NotConstant:
            pass
        if isinstance(node, ast.Cast):
            kind = _scalar_kind(self, self._type(node.to_type.type, loc_of(node), None))
            if kind is None or kind not in INT_BITS:
                raise NotConstant("cast to a non-integer type")
            return ir.Count("cast", (*INT_BITS[kind], self._count_expr(node.expr, loc)))
        if isinstance(node, ast.UnaryOp) and node.op in ("-", "+", "~", "!"):
            return ir.Count("u" + node.op, (self._count_expr(node.expr, loc),))
        if isinstance(node, ast.BinaryOp):
            return ir.Count(
                node.op, (self._count_expr(node.left, loc), self._count_expr(node.right, loc))
            )
        if isinstance(node, ast.TernaryOp):
            parts = (node.cond, node.iftrue, node.iffalse)
            return ir.Count("?:", tuple(self._count_expr(p, loc) for p in parts))
        if isinstance(node, ast.ExprList) and node.exprs:
            return self._count_expr(node.exprs[-1], loc)
        raise NotConstant(type(node).__name__)

    def _int(self, node: ast.Node, loc: Loc, what: str) -> int:
        try:
            return self._eval(node)[0]
        except NotConstant as exc:
            raise GeneratorError(loc, f"{what} is not an integer constant ({exc})") from None

    def _eval(self, node: ast.Node) -> tuple[int, int, bool]:
        """Value, width and signedness of an integer constant expression."""
        if isinstance(node, ast.Constant):
            return _literal(node.type, node.value)
        if isinstance(node, ast.ID):
            if node.name in self.values:
                return self.values[node.name]
            raise NotConstant(f"'{node.name}' is not a known constant")
        if isinstance(node, ast.Cast):
            value, _, _ = self._eval(node.expr)
            kind = _scalar_kind(self, self._type(node.to_type.type, loc_of(node), None))
            if kind is None or kind not in INT_BITS:
                raise NotConstant("cast to a non-integer type")
            bits, signed = INT_BITS[kind]
            return _wrap(value, bits, signed), bits, signed
        if isinstance(node, ast.UnaryOp):
            if node.op == "sizeof":
                raise NotConstant("sizeof depends on the ABI")
            return _unary(node.op, self._eval(node.expr))
        if isinstance(node, ast.BinaryOp):
            return _binary(node.op, self._eval(node.left), self._eval(node.right))
        if isinstance(node, ast.TernaryOp):
            cond = self._eval(node.cond)[0]
            return self._eval(node.iftrue if cond else node.iffalse)
        if isinstance(node, ast.ExprList) and node.exprs:
            return self._eval(node.exprs[-1])
        raise NotConstant(type(node).__name__)

    def _comment(self, loc: Loc) -> str:
        return self.pp.comments.get((loc.file, loc.line), "")

    # -- declaration checks ------------------------------------------------------------
    def _is_record(self, type_: ir.Type) -> bool:
        target = self._canonical(type_)
        return isinstance(target, ir.Ref) and target.kind == "record"

    def _canonical(self, type_: ir.Type) -> ir.Type:
        """A type with its typedef names spelled out: what C compares (C11 6.7p3)."""
        while isinstance(type_, ir.Ref) and type_.kind == "typedef":
            type_ = self.typedefs[type_.name].type
        if isinstance(type_, ir.Pointer):
            return ir.Pointer(self._canonical(type_.target), type_.const)
        if isinstance(type_, ir.Array):
            return ir.Array(self._canonical(type_.elem), type_.count)
        if isinstance(type_, ir.FuncType):
            params = tuple(ir.Param(None, self._canonical(p.type)) for p in type_.params)
            return ir.FuncType(self._canonical(type_.ret), params, type_.variadic)
        return type_

    def _check_unique_members(self, fields: tuple[ir.Field, ...], key: str) -> None:
        """Members, and those an anonymous struct or union lifts into the record,
        need distinct names (MSVC C2020)."""
        seen: dict[str, Loc] = {}
        for name, loc in self._member_names(fields):
            if name in seen:
                raise GeneratorError(
                    loc, f"duplicate member '{name}' in {key} (first declared at {seen[name]})"
                )
            seen[name] = loc

    def _member_names(self, fields: tuple[ir.Field, ...]) -> list[tuple[str, Loc]]:
        names: list[tuple[str, Loc]] = []
        for field in fields:
            if field.name:
                names.append((field.name, field.loc))
            elif isinstance(field.type, ir.Ref) and field.type.kind == "record":
                inner = self.records[field.type.name].fields or ()
                names += self._member_names(inner)
        return names

    def _check_complete(self) -> None:
        """A member held by value needs its type's definition (MSVC C2079)."""
        for record in self.records.values():
            for field in record.fields or ():
                written = field.type
                while isinstance(written, ir.Array):
                    written = written.elem
                target = self._canonical(written)
                if (
                    isinstance(target, ir.Ref)
                    and target.kind == "record"
                    and self.records[target.name].fields is None
                ):
                    name = written.name if isinstance(written, ir.Ref) else target.name
                    raise GeneratorError(
                        field.loc, f"'{name}' is used by value but never defined "
                        f"(member '{field.name}' of {record.key})"
                    )  # fmt: skip

    def _check_not_empty(self) -> None:
        """A header that declares nothing is not the header the user meant."""
        declared = [
            *self.records.values(), *self.enums.values(), *self.typedefs.values(),
            *self.functions, *self.guids,
            *(c for c in self.constants if c.loc.file != "<command line>"),
        ]  # fmt: skip
        if not any(item.loc.file != PRELUDE_NAME for item in declared):
            raise GeneratorError(
                Loc(self.header, 1, 1), "the header declares nothing (no types, functions "
                "or constants): is it the right file?"
            )  # fmt: skip


def _scalar_kind(lowerer: Lowerer, type_: ir.Type) -> str | None:
    """The integer kind behind a type (enums are 32-bit ints), or None."""
    while isinstance(type_, ir.Ref) and type_.kind == "typedef":
        type_ = lowerer.typedefs[type_.name].type
    if isinstance(type_, ir.Prim):
        return type_.kind if type_.kind in INT_BITS else None
    if isinstance(type_, ir.Ref) and type_.kind == "enum":
        return "int32"
    return None


def _literal(ctype: str, text: str) -> tuple[int, int, bool]:
    """An integer or character literal with the type C (MSVC) gives it."""
    if ctype == "char":
        body = text[1:-1]
        if body.startswith("\\"):
            escapes = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34}
            value = escapes.get(body[1:], None)
            if value is None:
                value = int(body[2:], 16) if body[1] == "x" else int(body[1:], 8)
        else:
            value = ord(body)
        return value, 32, True
    if ctype not in ("int", "unsigned int", "long int", "unsigned long int", "long long int",
                     "unsigned long long int"):  # fmt: skip
        raise NotConstant(f"{ctype} literal")
    digits = text.rstrip("uUlL")
    suffix = text[len(digits) :].lower()
    if digits.lower().startswith("0x"):
        value = int(digits, 16)
    elif digits.startswith("0") and len(digits) > 1:
        value = int(digits, 8)
    else:
        value = int(digits)
    decimal = not digits.startswith("0") or digits == "0"
    unsigned = "u" in suffix
    wide = "ll" in suffix
    # C's rule: the first of int, unsigned int, long long, unsigned long long that
    # holds the value (decimal literals without 'u' skip the unsigned ones).
    for bits, signed in ((32, True), (32, False), (64, True), (64, False)):
        if wide and bits == 32 or unsigned and signed or decimal and not unsigned and not signed:
            continue
        limit = 1 << (bits - 1 if signed else bits)
        if value < limit:
            return value, bits, signed
    if value >> 64:
        raise NotConstant(f"{text} does not fit in 64 bits")
    return value, 64, False


def size_checks(
    nodes: list[ast.Typedef], module: ir.Module, pp: Preprocessed, abi: str
) -> tuple[ir.SizeCheck, ...]:
    """Lower ``C_ASSERT`` typedefs of another ABI's view against an existing module."""
    lowerer = Lowerer(pp, module.header, Diagnostics())
    lowerer.abi = abi
    lowerer.typedefs = dict(module.typedefs)
    lowerer.records = dict(module.records)
    lowerer.enums = dict(module.enums)
    for enum in module.enums.values():
        for item in enum.members:
            lowerer.values[item.name] = (item.value, 32, True)
    for constant in module.constants:
        lowerer.values.setdefault(constant.name, (constant.value, 64, True))
    for node in nodes:
        lowerer._c_assert(node, loc_of(node))
    return tuple(lowerer.size_checks)


def lower(
    tree: ast.FileAST, pp: Preprocessed, header: str, abi: str, diagnostics: Diagnostics
) -> ir.Module:
    """Lower a parsed header to the IR.

    Example::

        module = lower(parsed.ast, pp, "d3dkmthk.h", "x64", Diagnostics())
        module.records["_D3DKMT_DESTROYALLOCATION"].fields[0].name  # 'hDevice'
    """
    return Lowerer(pp, header, diagnostics).lower(tree, abi)
