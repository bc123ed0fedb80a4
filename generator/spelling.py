"""How the generated module spells an IR type: as ctypes, as C, as a .pyi type.

ctypes text goes into ``_fields_``, aliases and signatures; the C spelling into
docstrings; the Python type into the .pyi stub.
"""

from __future__ import annotations

from . import ir
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

    def record_name(self, key: str) -> str:
        return self.public.get(key, key)

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
        if emitted(typedef.loc):
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
