"""How the generated module spells an IR type: as ctypes, as C, as a .pyi type.

ctypes text goes into ``_fields_``, aliases and signatures; the C spelling into
docstrings; the Python type into the .pyi stub.
"""

from __future__ import annotations

from . import ir
from .layout import ABIS, Layout, layouts
from .preprocess import PRELUDE_NAME

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


def emitted(loc: ir.Loc) -> bool:
    """Whether the module declares what stands at ``loc`` (the prelude's it does not)."""
    return loc.file != PRELUDE


class Spelling:
    """The spellings of one module's types, under the names the module gives them."""

    def __init__(self, module: ir.Module) -> None:
        self.module = module
        self.public = module.record_names()
        self.enum_names = module.enum_names()
        self._layouts: dict[str, Layout] | None = None  # for lengths that take a sizeof

    def count(self, array: ir.Array) -> str:
        """An array's length as the module spells it: a number, or one per ABI."""
        if isinstance(array.count, int):
            return str(array.count)
        if self._layouts is None:
            self._layouts = dict(layouts(self.module))
        counts = {abi: self._layouts[abi].count(array) for abi in ABIS}
        if counts["x64"] == counts["x86"]:
            return str(counts["x64"])
        return f'({counts["x64"]} if _ABI == "x64" else {counts["x86"]})'

    def _c_count(self, count: int | ir.Count) -> str:
        if isinstance(count, int):
            return str(count)
        if count.op == "int":
            return str(count.args[0])
        if count.op == "sizeof":
            return f"sizeof({self.c_spelling(count.args[0])})"  # type: ignore[arg-type]
        parts = [self._c_count(a) for a in count.args if isinstance(a, int | ir.Count)]
        if count.op == "cast":
            return parts[-1]
        if count.op == "?:":
            return f"({parts[0]} ? {parts[1]} : {parts[2]})"
        if count.op.startswith("u"):
            return f"{count.op[1:]}{parts[0]}"
        return f"{parts[0]} {count.op} {parts[1]}"

    def record_name(self, key: str) -> str:
        return self.public.get(key, key)

    def ctype(self, type_: ir.Type) -> str:
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
            return "c_int32"
        if type_.kind == "record":
            return self.record_name(type_.name)
        typedef = self.module.typedefs[type_.name]
        resolved = self.module.resolve(type_)
        if isinstance(resolved, ir.Ref) and resolved.kind == "enum":
            return "c_int32"  # the typedef's name is the IntEnum class
        if emitted(typedef.loc) and not _holds_record_array(self.module, resolved):
            return type_.name
        # The module defines an array-of-records alias only after the records'
        # members (its length needs their size): other declarations spell it out.
        return self.ctype(typedef.type)

    def _native_pointer(self, type_: ir.Pointer) -> str:
        target = self.module.resolve(type_.target)
        if isinstance(target, ir.Void):
            return "c_void_p"
        if isinstance(target, ir.FuncType):
            return self.ctype(target)
        return f"POINTER({self.ctype(type_.target)})"

    def c_spelling(self, type_: ir.Type) -> str:
        if isinstance(type_, ir.Prim):
            return _C_NAMES[type_.kind]
        if isinstance(type_, ir.Void):
            return "void"
        if isinstance(type_, ir.Pointer):
            width = {4: " __ptr32", 8: " __ptr64"}.get(type_.size or 0, "")
            return self.c_spelling(type_.target) + "*" + width
        if isinstance(type_, ir.Array):
            return f"{self.c_spelling(type_.elem)}[{self._c_count(type_.count)}]"
        if isinstance(type_, ir.FuncType):
            return "function"
        if type_.kind == "record":
            return self.record_name(type_.name)
        if type_.kind == "enum":
            return self.enum_names.get(type_.name, type_.name)
        return type_.name

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
            return self._stub_array(type_)
        if isinstance(type_, ir.Pointer) and isinstance(self.module.resolve(type_.target), ir.Void):
            return "int | None"
        return "Any"

    def _stub_array(self, type_: ir.Array) -> str:
        """``Array[c_float]``, ``Array[Array[c_float]]``: what typeshed's ctypes reads."""
        elem = self.module.resolve(type_.elem)
        if isinstance(elem, ir.Array):
            return f"Array[{self._stub_array(elem)}]"
        name = self.ctype(type_.elem)
        return f"Array[{name}]" if name.isidentifier() else "Array[Any]"


def _holds_record_array(module: ir.Module, type_: ir.Type) -> bool:
    """An array (of arrays) of records, by value."""
    if not isinstance(type_, ir.Array):
        return False
    while isinstance(type_, ir.Array):
        type_ = module.resolve(type_.elem)
    return isinstance(type_, ir.Ref) and type_.kind == "record"
