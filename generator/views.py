"""The view objects the templates read: plain data, everything already computed.

``render.py`` builds one ``ModuleView`` per module; the templates only lay its
text out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    enum: str | None = None  # the IntEnum class it reads back as


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
    # Members of an enum type (lifted ones too), as (member, IntEnum class)
    enum_fields: tuple[tuple[str, str], ...] = ()
    tag_alias: str | None = None  # the C tag, where it names the record too
    layout: LayoutView | None = None  # MSVC's layout, for check_layout()
    # Arrays of records validate() checks element by element: (pointer, count)
    elements: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class LayoutView:
    """A record's MSVC layout: size and alignment per ABI, then one entry per
    member path with its place in each ABI (offset, or (bit offset, bits))."""

    sizes: tuple[tuple[str, int, int], ...]  # (ABI, size, alignment)
    places: tuple[tuple[str, str], ...]  # (member path, "(x64 place, x86 place)")


@dataclass(frozen=True, slots=True)
class EnumView:
    """An IntEnum class and its members."""

    name: str
    doc: str
    members: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class FunctionView:
    """A lazily bound function of gdi32.dll; ``c_name`` is its name in the DLL."""

    name: str
    c_name: str
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
    constant_docs: dict[str, str] = field(default_factory=dict)  # name -> its text, if any
    guids: list[tuple[str, str]] = field(default_factory=list)
    enums: list[EnumView] = field(default_factory=list)
    aliases: list[AliasView] = field(default_factory=list)
    records: list[RecordView] = field(default_factory=list)
    # What the module prints between the enums and the functions, in order:
    # ("class" | "fields", RecordView) and ("alias", AliasView)
    blocks: list[tuple[str, object]] = field(default_factory=list)
    late_aliases: list[AliasView] = field(default_factory=list)
    functions: list[FunctionView] = field(default_factory=list)
    size_checks: list[tuple[str, str, int, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    stub_imports: list[str] = field(default_factory=list)
