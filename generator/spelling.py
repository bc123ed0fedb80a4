"""How the generated module spells names and types: Python names, ctypes, C, .pyi.

``python_name()`` is the one rule that turns a C name into the Python name the
module uses (``class`` -> ``class_``); ``Names`` applies it to every declaration,
member and parameter of a module. ctypes text goes into ``_fields_``, aliases and
signatures; the C spelling into docstrings; the Python type into the .pyi stub.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import enum
import functools
import keyword
import re
from collections.abc import Container, Iterable, Mapping
from pathlib import Path
from typing import Literal

from . import ir
from .cache import kept_beside
from .cache import key as cache_key
from .layout import Layout, layouts
from .preprocess import PRELUDE_NAME
from .views import StubType

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
PRELUDE = PRELUDE_NAME
# What the stub's member types are spelled with (``py_type``), besides record names and
# the c_* types: a member of one of these names would hide it from the members after it.
_STUB_TYPES = (
    "int", "float", "bytes", "Any", "Array", "_Pointer", "_CField", "_BitField",
    "_CFunctionType",
)  # fmt: skip
# What reading a simple ctypes type gives in Python.
_PY_TYPES = {"char": "bytes", "float": "float", "double": "float"}
# The builtins that validate() conditions call (rules.py: bool; derive.py: any, set).
_CONDITION_BUILTINS = ("bool", "any", "set")


def emitted(loc: ir.Loc) -> bool:
    """Whether the module declares what stands at ``loc`` (the prelude's it does not)."""
    return loc.file != PRELUDE


class Spelling:
    """The spellings of one module's types, under the names the module gives them."""

    def __init__(self, module: ir.Module, layouts: Mapping[str, Layout] | None = None) -> None:
        self.module = module
        self.public = module.record_names()
        self.enum_names = module.enum_names()
        self.names = names_of(module)
        # For lengths that take a sizeof: the build's own layouts (laid out once), else new.
        self._layouts: Mapping[str, Layout] | None = layouts
        self._ctypes: dict[ir.Type, str] = {}
        self._c_spellings: dict[ir.Type, str] = {}
        self._stub_ctypes: dict[ir.Type, str] = {}
        self._py_types: dict[tuple[ir.Type, bool], StubType] = {}

    def count(self, array: ir.Array) -> str:
        """An array's length as the module spells it: a number, or one per ABI."""
        if isinstance(array.count, int):
            return str(array.count)
        if self._layouts is None:
            self._layouts = layouts(self.module)
        counts = {abi: self._layouts[abi].count(array) for abi in self.module.abis}
        if len(set(counts.values())) == 1:
            return str(next(iter(counts.values())))
        return f'({counts["x64"]} if _ABI == "x64" else {counts["x86"]})'

    def enum_ctype(self, key: str) -> str:
        """The integer an enum is stored as: ``c_int32`` (MSVC), GCC's width on wsl."""
        if self.module.abis != ("wsl",):
            return "c_int32"
        if self._layouts is None:
            self._layouts = layouts(self.module)
        size, signed = self._layouts["wsl"].enum_type(key)
        return f"c_{'' if signed else 'u'}int{size * 8}"

    def c_count(self, count: int | ir.Count) -> str:
        """An array's length as C writes it (``4``, ``sizeof(HANDLE) * 2``)."""
        if isinstance(count, int):
            return str(count)
        if count.op == "int":
            return str(count.args[0])
        if count.op == "sizeof":
            return f"sizeof({self.c_spelling(count.args[0])})"  # type: ignore[arg-type]
        parts = [self.c_count(a) for a in count.args if isinstance(a, int | ir.Count)]
        if count.op == "cast":
            return parts[-1]
        if count.op == "?:":
            return f"({parts[0]} ? {parts[1]} : {parts[2]})"
        if count.op.startswith("u"):
            return f"{count.op[1:]}{parts[0]}"
        return f"{parts[0]} {count.op} {parts[1]}"

    def record_c_name(self, key: str) -> str:
        """The name C gives a record (its typedef or tag; the key of an anonymous one)."""
        return self.public.get(key, key)

    def record_name(self, key: str) -> str:
        """The record's class name in the module."""
        return self.names.of(self.record_c_name(key))

    def enum_c_name(self, key: str) -> str:
        return self.enum_names.get(key, key)

    def enum_name(self, key: str) -> str:
        """The IntEnum class name in the module."""
        return self.names.of(self.enum_c_name(key))

    def py_name(self, type_: ir.Type) -> str:
        """The module's name for a named type (``C_ASSERT`` checks look it up)."""
        if isinstance(type_, ir.Ref) and type_.kind == "record":
            return self.record_name(type_.name)
        if isinstance(type_, ir.Ref) and type_.kind == "enum":
            return self.enum_name(type_.name)
        if isinstance(type_, ir.Ref):
            return self.names.of(type_.name)
        return self.c_spelling(type_)

    # Each spelling is asked for once per member, and members share few types: memoised.
    def ctype(self, type_: ir.Type) -> str:
        """A type as ctypes spells it in ``_fields_`` (``POINTER(D3DKMT_HANDLE)``)."""
        known = self._ctypes.get(type_)
        if known is None:
            known = self._ctypes[type_] = self._ctype(type_)
        return known

    def _ctype(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Prim):
            return _CTYPES[type_.kind]
        if isinstance(type_, ir.Void):
            return "None"
        if isinstance(type_, ir.Pointer):
            native = self._native_pointer(type_)
            if type_.size is None:
                return native
            # __ptr32/__ptr64: a pointer on the ABI whose width it has, else an integer.
            abi = "x64" if type_.size == 8 else "x86"
            return f'({native} if _ABI == "{abi}" else c_uint{type_.size * 8})'
        if isinstance(type_, ir.Array):
            return f"({self.ctype(type_.elem)} * {self.count(type_)})"
        if isinstance(type_, ir.FuncType):
            args = ", ".join(self.ctype(p.type) for p in type_.params)
            return f"_FUNCTYPE({self.ctype(type_.ret)}{', ' if args else ''}{args})"
        if type_.kind == "enum":
            return self.enum_ctype(type_.name)
        if type_.kind == "record":
            return self.record_name(type_.name)
        typedef = self.module.typedefs[type_.name]
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return self.enum_ctype(resolved.name)  # the typedef's name is the IntEnum class
        if emitted(typedef.loc):
            return self.names.of(type_.name)
        return self.ctype(typedef.type)

    def _native_pointer(self, type_: ir.Pointer) -> str:
        target = self.module.resolve(type_.target)
        if isinstance(target, ir.Void):
            return "c_void_p"
        if isinstance(target, ir.FuncType):
            return self.ctype(target)
        return f"POINTER({self.ctype(type_.target)})"

    def c_spelling(self, type_: ir.Type) -> str:
        """A type as C spells it (``D3DKMT_HANDLE*``), for docstrings."""
        known = self._c_spellings.get(type_)
        if known is None:
            known = self._c_spellings[type_] = self._c_spelling(type_)
        return known

    def _c_spelling(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Prim):
            return _C_NAMES[type_.kind]
        if isinstance(type_, ir.Void):
            return "void"
        if isinstance(type_, ir.Pointer):
            width = {4: " __ptr32", 8: " __ptr64"}.get(type_.size or 0, "")
            return self.c_spelling(type_.target) + "*" + width
        if isinstance(type_, ir.Array):
            return f"{self.c_spelling(type_.elem)}[{self.c_count(type_.count)}]"
        if isinstance(type_, ir.FuncType):
            return "function"
        if type_.kind == "record":
            return self.record_c_name(type_.name)
        if type_.kind == "enum":
            return self.enum_c_name(type_.name)
        return type_.name

    # -- the .pyi stub: typeshed's ctypes types ------------------------------------------
    def py_type(self, member: ir.Field) -> StubType:
        """How the .pyi stub types a member: its class attribute, and what ``__init__`` takes.

        A ctypes field is typeshed's ``_CField[ctype, read, write]``: the field (with
        ``.offset``, ``.size``) on the class, the Python value on an instance. A
        bit-field is the module's ``_BitField`` descriptor, read as ``int`` (or its
        enum).
        """
        key = (member.type, member.bits is not None)
        known = self._py_types.get(key)
        if known is None:
            known = self._py_types[key] = self._py_type(member)
        return known

    def _py_type(self, member: ir.Field) -> StubType:
        if member.bits is not None:
            return StubType(f"_BitField[{self._enum_or(member.type, 'int')}]", "int")
        write = self.stub_write(member.type)
        ctype = self.stub_ctype(member.type)
        return StubType(f"_CField[{ctype}, {self.stub_read(member.type)}, {write}]", write)

    def stub_ctype(self, type_: ir.Type) -> str:
        """The ctypes class of a type as a type expression (``_Pointer[D3DKMT_HANDLE]``)."""
        known = self._stub_ctypes.get(type_)
        if known is None:
            known = self._stub_ctypes[type_] = self._stub_ctype(type_)
        return known

    def _stub_ctype(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Pointer):
            target = self.module.resolve(type_.target)
            if isinstance(target, ir.Void):
                return "c_void_p"
            if isinstance(target, ir.FuncType):
                return "_CFunctionType"  # an unnamed function type: no class to name
            return f"_Pointer[{self.stub_ctype(type_.target)}]"
        if isinstance(type_, ir.Array):
            return f"Array[{self.stub_ctype(type_.elem)}]"
        if isinstance(type_, ir.FuncType):
            return "_CFunctionType"
        if isinstance(type_, ir.Ref) and type_.kind == "typedef":
            typedef = self.module.typedefs[type_.name]
            if not emitted(typedef.loc):  # the prelude's typedefs are spelled out
                return self.stub_ctype(typedef.type)
        return self.ctype(type_)  # a name: c_uint32, a record, an alias, a callback

    def stub_read(self, type_: ir.Type, member: bool = True) -> str:
        """What reading a member of this type gives (ctypes unboxes simple types).

        An enum member reads as its IntEnum (the module's records convert it); a
        value ctypes hands over itself (a result, a callback's argument) as int.
        """
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Prim):
            return _PY_TYPES.get(resolved.kind, "int")
        if isinstance(resolved, ir.Void):
            return "None"
        if isinstance(resolved, ir.Pointer) and isinstance(
            self.module.resolve(resolved.target), ir.Void
        ):
            return "int | None"
        if isinstance(resolved, ir.Array) and self._is_char(resolved.elem):
            return "bytes"  # a char array member reads as bytes, up to the first NUL
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return self._enum_or(resolved, "int") if member else "int"
        return self.stub_ctype(type_)

    def stub_write(self, type_: ir.Type) -> str:
        """What assigning to a member of this type accepts.

        ctypes takes an instance of the member's own ctypes type too (``c_uint32(5)``
        into a ``c_uint32``, not ``c_int32(5)``), and for a pointer an array of its
        type (the array's address) or None.
        """
        resolved = self.module.resolve(type_)
        ctype = self.stub_ctype(type_)
        if isinstance(resolved, ir.Prim) and resolved.kind == "char":
            return f"bytes | int | {ctype}"  # one byte, or its value
        if isinstance(resolved, ir.Prim):
            return f"{_PY_TYPES.get(resolved.kind, 'int')} | {ctype}"
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return "int"  # the IntEnum or any int
        if isinstance(resolved, ir.Pointer):
            target = self.module.resolve(resolved.target)
            if isinstance(target, ir.Void):
                return f"int | {ctype} | None"
            if not isinstance(target, ir.FuncType):
                elem = self.stub_ctype(resolved.target)
                return f"_Pointer[{elem}] | Array[{elem}] | None"
        return self.stub_read(type_)

    def stub_arg(self, type_: ir.Type) -> str:
        """What a foreign function accepts for a parameter of this type (``from_param``)."""
        resolved = self.module.resolve(type_)
        ctype = self.stub_ctype(type_)
        if isinstance(resolved, ir.Prim):
            return f"{_PY_TYPES.get(resolved.kind, 'int')} | {ctype}"
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return "int | c_int32"
        if isinstance(resolved, ir.Pointer):
            target = self.module.resolve(resolved.target)
            if isinstance(target, ir.Void):
                return "_CVoidConstPLike | None"  # typeshed's: what converts to void*
            if not isinstance(target, ir.FuncType):
                return f"_PointerArg[{self.stub_ctype(resolved.target)}]"
        return ctype  # a record by value, a callback of its type

    def stub_return(self, type_: ir.Type) -> str:
        """What a foreign function call returns, or a callback is passed."""
        return self.stub_read(type_, member=False)

    def _enum_or(self, type_: ir.Type, default: str) -> str:
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            enum = self.module.enums[resolved.name]
            if emitted(enum.loc) and enum.members:
                return self.enum_name(resolved.name)
        return default

    def _is_char(self, type_: ir.Type) -> bool:
        resolved = self.module.resolve(type_)
        return isinstance(resolved, ir.Prim) and resolved.kind == "char"


# -- Python names ------------------------------------------------------------------------
# Where a name is used: a module-level name (record, enum, typedef, constant, GUID,
# function), a record member (a _fields_ entry or a bit-field accessor), an
# enumerator (an IntEnum member, and a module-level alias too), a function parameter.
Kind = Literal["module", "member", "enumerator", "parameter"]

# Names classes.py makes up for a record's own use: bit-field units, aligners, the
# attributes of anonymous members, filler and tail bytes ("_bits_0", "_u_0_1").
MADE_UP = re.compile(r"_(?:bits|align|u|empty|tail)(?:_\d+)*")
# Every ctypes name the generated module can import (and the stub: Array).
CTYPES_NAMES = frozenset({*_CTYPES.values(), "c_void_p", "POINTER", "Structure", "Union"})
_PLACEHOLDER = "_T"  # what each {{ ... }} of a template reads as, to parse it
_TAG_LINE = re.compile(r"\s*\{%-?\s*(\w+)\b.*?%\}\s*")
_TAG = re.compile(r"\{%.*?%\}")
_EXPR = re.compile(r"\{\{.*?\}\}")


def python_name(c_name: str, kind: Kind, taken: Container[str] = ()) -> str:
    """The Python name the module gives a C name used as ``kind``.

    The C name itself, unless Python cannot take it there or it would hide
    something the module needs (``reserved_names``): then PEP 8's trailing
    underscore, repeated until the name is neither reserved nor in ``taken``
    (the other C names of the same scope). A name beginning with two
    underscores first keeps only one: Python reserves ``__x__`` and mangles
    ``__x`` inside a class.

    >>> python_name("class", "member"), python_name("validate", "member")
    ('class_', 'validate_')
    >>> python_name("class", "member", taken={"class_"}), python_name("print", "member")
    ('class__', 'print')
    >>> python_name("Structure", "module"), python_name("__x__", "member")
    ('Structure_', '_x__')
    """
    name = c_name
    if name.startswith("__") and name.strip("_"):
        name = "_" + name.lstrip("_")
    while _is_reserved(name, kind) or (name != c_name and name in taken):
        name += "_"
    return name


def _is_reserved(name: str, kind: Kind) -> bool:
    if name in reserved_names(kind):
        return True
    if kind in ("member", "enumerator") and _is_sunder(name):
        return True  # ctypes' and enum's own attributes: _fields_, _pack_, _missing_, ...
    return kind == "member" and MADE_UP.fullmatch(name) is not None


def _is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


@functools.cache
def reserved_names(kind: Kind) -> frozenset[str]:
    """The names a C name of ``kind`` cannot keep (besides the ``_x_`` and made-up patterns).

    Everywhere, Python's keywords. At module level (and for parameters, which
    the stub's signatures would let shadow them) also every name the templates
    bind there (``ctypes``, ``Structure``, ``ValidationError``, ``check_layout``,
    ``_LAYOUT``, ...), every builtin the generated code calls (``type``,
    ``getattr``, ``bool``, ...) or the stub's types use. For members, the
    attributes of ctypes records and their metaclass (``from_buffer``, ``_objects``),
    what the record template defines (``validate``), and the stub's member types
    (a member ``int`` would hide ``int`` from the members after it). For
    enumerators, the attributes of IntEnum members (``name``, ``value``,
    ``bit_length``, ``mro``) and the module's names. Soft keywords (``match``,
    ``case``, ``type``, ``_``) are valid names everywhere and are not reserved
    as such.
    """
    always = frozenset(keyword.kwlist)
    module_bound, record_bound, used_builtins = _template_names()
    module = always | module_bound | used_builtins | CTYPES_NAMES
    module |= {*_CONDITION_BUILTINS, *_STUB_TYPES}
    if kind in ("module", "parameter"):
        return module  # a parameter of the stub's def would shadow the module's name
    if kind == "member":
        records = (ctypes.Structure, ctypes.Union)
        attributes = {n for cls in records for n in (*dir(cls), *dir(type(cls)))}
        return always | record_bound | _not_dunder(attributes) | set(_STUB_TYPES)
    # name and value are Enum's (vars); the rest an int's (dir: Python 3.10's dir of
    # IntEnum leaves them out) and EnumType's (mro).
    members = {*vars(enum.Enum), *dir(int), *dir(enum.IntEnum), *dir(type(enum.IntEnum))}
    return module | _not_dunder(members)


def _not_dunder(names: Iterable[str]) -> frozenset[str]:
    # A C name never keeps a leading "__" (python_name), so these could never match.
    return frozenset(n for n in names if not n.startswith("__"))


def templates_dir() -> Path:
    """Where the templates are: ``templates/`` of a checkout, or inside the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "templates", here / "templates"):
        if (candidate / "module.py.jinja").is_file():
            return candidate
    raise FileNotFoundError("d3dkmt-codegen templates are missing from this installation")


@functools.cache
def _template_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """What the templates bind at module level, bind in a record class, and read of builtins.

    Read from the templates themselves, so that a helper added there is reserved
    without a list to keep up to date; kept beside them with their compiled form
    (render._CompiledTemplates), since parsing them is most of a small run's names.
    """
    kept = kept_beside(templates_dir())
    name = cache_key("template names")  # (the generator's fingerprint covers the templates)
    found = kept.get("names", name)
    if not isinstance(found, tuple):
        found = _read_template_names()
        kept.put("names", name, found)
    return found


def _read_template_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    module: set[str] = set()
    record: set[str] = set()
    loaded: set[str] = set()
    classes: dict[str, list[ast.ClassDef]] = {}  # several templates name theirs alike
    for path in sorted(templates_dir().glob("*.jinja")):
        tree = ast.parse(_template_code(path.read_text(encoding="utf-8")), str(path))
        module |= _bound(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loaded.add(node.id)
    # A record class binds what its template binds, and what the runtime's record
    # bases define (those deriving from Structure or Union, and their own bases).
    todo = [
        name
        for name, nodes in classes.items()
        if name == _PLACEHOLDER
        or any(isinstance(b, ast.Name) and b.id in ("Structure", "Union") for b in nodes[0].bases)
    ]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in classes:
            continue
        seen.add(name)
        for node in classes[name]:
            record |= _bound(node.body)
            todo += [b.id for b in node.bases if isinstance(b, ast.Name)]
    module.discard(_PLACEHOLDER)
    record.discard(_PLACEHOLDER)
    return frozenset(module), frozenset(record), frozenset(loaded & set(dir(builtins)))


def _template_code(text: str) -> str:
    """A template read as the Python it prints: each ``{{ }}`` a placeholder name,
    tags dropped, and of each ``{% if %}`` only its first branch (the branches are
    alternatives; both together need not parse)."""
    lines: list[str] = []
    skipping: list[bool] = []
    for line in text.splitlines():
        tag = _TAG_LINE.fullmatch(line)
        if tag:
            word = tag.group(1)
            if word == "if":
                skipping.append(False)
            elif word in ("elif", "else") and skipping:
                skipping[-1] = True
            elif word == "endif" and skipping:
                skipping.pop()
            continue
        if not any(skipping):
            lines.append(_EXPR.sub(_PLACEHOLDER, _TAG.sub("", line)))
    return "\n".join(lines)


def _bound(body: Iterable[ast.stmt]) -> set[str]:
    """The names a block of statements binds."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _assign(names: Iterable[tuple[str, Kind]]) -> dict[str, str]:
    """Python names for the C names of one scope, in order (a name keeps its first kind)."""
    pairs = list(names)
    taken = {c_name for c_name, _ in pairs}
    result: dict[str, str] = {}
    for c_name, kind in pairs:
        if c_name not in result:
            result[c_name] = python_name(c_name, kind, taken)
            taken.add(result[c_name])
    return result


class Names:
    """The Python name of every C name of one module, by ``python_name``.

    Module-level names share one scope; a record's members share theirs with the
    members ctypes lifts into it from anonymous members (and they with it).
    """

    def __init__(self, module: ir.Module) -> None:
        self.module = module
        records = module.record_names()
        scope: list[tuple[str, Kind]] = [
            (m.name, "enumerator") for e in module.enums.values() for m in e.members
        ]
        scope += [(records.get(key, key), "module") for key in module.records]
        scope += [(r.tag, "module") for r in module.records.values() if r.tag]
        scope += [(name, "module") for name in module.enum_names().values()]
        scope += [(name, "module") for name in module.typedefs]
        scope += [(c.name, "module") for c in module.constants]
        scope += [(g.name, "module") for g in module.guids]
        scope += [(f.name, "module") for f in module.functions]
        self._module = _assign(scope)
        self._members: dict[str, dict[str, str]] = {}
        self._paths: dict[str, dict[str, str]] = {}  # record key -> C path -> Python path
        self._reaches: dict[str, dict[str, str | None]] = {}  # -> the record it names, if any
        self._roots: dict[str, str] = {}  # record key -> the class its members are in
        self._fields: dict[str, dict[str, ir.Field]] = {}  # key -> members by C name
        self._taken: frozenset[str] | None = None

    def of(self, c_name: str) -> str:
        """The Python name of a module-level C name."""
        return self._module.get(c_name, c_name)

    def module_names(self) -> frozenset[str]:
        """Every module-level Python name the module's C names take."""
        if self._taken is None:
            self._taken = frozenset(self._module.values())
        return self._taken

    def member(self, key: str, c_name: str) -> str:
        """The Python name of member ``c_name`` of the record with key ``key``."""
        root = self._lift_root(key)
        if root not in self._members:
            self._members[root] = _assign((n, "member") for n in self._lifted(root))
        return self._members[root].get(c_name, c_name)

    def path(self, key: str, c_path: str) -> str:
        """A member path (``Flags.Primary``) in Python names; what is no member stays."""
        paths = self._paths.get(key)
        if paths is None:
            paths = self._paths[key] = {}
            self._reaches[key] = {}
        known = paths.get(c_path)
        if known is None:
            known = self._path(key, c_path, paths)
        return known

    def _path(self, key: str, c_path: str, paths: dict[str, str]) -> str:
        # From the path one member shorter (asked for first, as paths come in layout
        # order): each path costs one member's lookup, however deep it is.
        reaches = self._reaches[key]
        head, dot, last = c_path.rpartition(".")
        if dot:
            prefix = self.path(key, head) + "."
            current = reaches[head]
        else:
            prefix, current = "", key
        field = self._field(current, last) if current else None
        target = None
        if field is None:
            py_path = prefix + last
        else:
            py_path = prefix + self.member(current, last)  # type: ignore[arg-type]
            resolved = self.module.resolve(field.type)
            if isinstance(resolved, ir.Ref) and resolved.kind == "record":
                target = resolved.name
        # Most paths need no renaming: keep the one string (big headers have many).
        paths[c_path] = c_path if py_path == c_path else py_path
        reaches[c_path] = target
        return paths[c_path]

    def rule_paths(self, key: str, c_paths: Iterable[str]) -> dict[str, str]:
        """How a rule may spell each member path (C or Python), mapped to the Python one."""
        spellings: dict[str, str] = {}
        for c_path in c_paths:
            py_path = self.path(key, c_path)
            spellings[c_path] = spellings[py_path] = py_path
        return spellings

    def parameters(self, c_names: Iterable[str]) -> tuple[str, ...]:
        """Python names of one function's parameters."""
        names = list(c_names)
        taken = set(names)
        result = []
        for c_name in names:
            result.append(python_name(c_name, "parameter", taken))
            taken.add(result[-1])
        return tuple(result)

    def renamed(self, c_name: str, py_name: str) -> str:
        """The note a docstring gives a renamed name ("C name: class."), else ""."""
        return f"C name: {c_name}." if c_name != py_name else ""

    def _lift_root(self, key: str) -> str:
        """The record whose class the members of ``key`` are lifted into, if any."""
        root = self._roots.get(key)
        if root is None:
            root = self._roots[key] = self._find_root(key)
        return root

    def _find_root(self, key: str) -> str:
        while True:
            parent = self.module.records.get(self.module.records[key].parent or "")
            if parent is None or not any(_is_anonymous(f, key) for f in parent.fields or ()):
                return key
            key = parent.key

    def _lifted(self, key: str) -> Iterable[str]:
        """The member names of a record's class: its own, and those of anonymous members."""
        for field in self.module.records[key].fields or ():
            if field.name is not None:
                yield field.name
            elif isinstance(field.type, ir.Ref) and field.type.kind == "record":
                yield from self._lifted(field.type.name)

    def _field(self, key: str, c_name: str) -> ir.Field | None:
        """The member ``c_name`` of a record's class (an anonymous member's included)."""
        fields = self._fields.get(key)
        if fields is None:
            fields = self._fields[key] = {}
            self._collect(key, fields)
        return fields.get(c_name)

    def _collect(self, key: str, into: dict[str, ir.Field]) -> None:
        for field in self.module.records[key].fields or ():
            if field.name is not None:
                into.setdefault(field.name, field)
            elif isinstance(field.type, ir.Ref) and field.type.kind == "record":
                self._collect(field.type.name, into)


_LAST: list[Names] = []  # the Names of the module being built: its lookups are shared


def names_of(module: ir.Module) -> Names:
    """The ``Names`` of this module, one per module object: the stages after layout
    (rules, derived rules, render) ask for the same member paths."""
    if not (_LAST and _LAST[0].module is module):
        _LAST[:] = [Names(module)]
    return _LAST[0]


def forget_names(module: ir.Module) -> None:
    """Drop the shared ``Names`` of this module (a build calls it once its views are made)."""
    if _LAST and _LAST[0].module is module:
        _LAST.clear()


def _is_anonymous(field: ir.Field, key: str) -> bool:
    return field.name is None and isinstance(field.type, ir.Ref) and field.type.name == key
