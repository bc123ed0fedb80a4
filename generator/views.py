"""The view objects the templates read: plain data, everything already computed.

``render.py`` builds one ``ModuleView`` per module; the templates only lay its
text out.
"""

from __future__ import annotations

from collections.abc import Iterable
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
class StubType:
    """A member's types in the .pyi stub: its class attribute, and what ``__init__`` takes."""

    field: str
    init: str


@dataclass(frozen=True, slots=True)
class StubMember:
    """A member as the .pyi stub shows it: name, types, documentation."""

    name: str
    py_type: StubType
    doc: str


@dataclass(frozen=True, slots=True)
class StubParam:
    """A parameter of a stub signature: its Python name and the type it accepts."""

    name: str
    type: str


def instance_name(names: Iterable[str]) -> str:
    """``self``, unless a parameter (a member, for ``__init__``) already has that name.

    Then ``__self``: no C name becomes one (``python_name`` keeps one leading
    underscore), and type checkers take a leading underscore for ``self``.
    """
    return "__self" if "self" in names else "self"


@dataclass(frozen=True, slots=True)
class StubSignature:
    """A function or callback type as the stub types it.

    ``params`` and ``returns`` type a call; ``receives`` and ``gives`` the Python
    function a callback object wraps (what ctypes passes it, what it must return).
    """

    params: tuple[StubParam, ...]
    returns: str
    receives: tuple[str, ...] = ()
    gives: str = "None"

    @property
    def parameters(self) -> str:
        """The parameter list, positional-only as ctypes calls are: ``pData: X, /``."""
        if not self.params:
            return ""
        return ", ".join(f"{p.name}: {p.type}" for p in self.params) + ", /"

    @property
    def method_parameters(self) -> str:
        """The parameter list of ``__call__``: ``self``, then the parameters."""
        instance = instance_name(p.name for p in self.params)
        return ", ".join(filter(None, (instance, self.parameters)))

    @property
    def callable(self) -> str:
        """The type of a Python function a callback object can wrap."""
        return f"Callable[[{', '.join(self.receives)}], {self.gives}]"


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

    init_positional: tuple[StubParam, ...] = ()  # what ctypes also takes by position
    init_keyword: tuple[StubParam, ...] = ()

    @property
    def init_self(self) -> str:
        """The name of ``__init__``'s instance parameter."""
        return instance_name(p.name for p in self.init_positional + self.init_keyword)


@dataclass(frozen=True, slots=True)
class LayoutView:
    """A record's MSVC layout: size and alignment per ABI, then one row per
    member path with its place in each ABI (offset, or bit offset:bits)."""

    sizes: tuple[tuple[str, int, int], ...]  # (ABI, size, alignment)
    places: tuple[str, ...]  # "path x64-place x86-place": a byte offset or bit:bits


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
    stub: StubSignature | None = None
    # "windows" or "wsl": the header declares it for that other platform only, so
    # calling it here raises OSError
    only_on: str | None = None


@dataclass(frozen=True, slots=True)
class AliasView:
    """A typedef: a plain alias, or (with a docstring) a callback type.

    For a callback, ``expr`` is its signature: return type, then argument types.
    ``stub`` is the alias as a type expression for the .pyi stub; ``signature``
    the callback's.
    """

    name: str
    expr: str
    doc: str | None = None
    stub: str = ""
    signature: StubSignature | None = None


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
    made_up: str = ""  # the pattern of the member names the generator makes up
    tag_aliases: list[AliasView] = field(default_factory=list)  # _D3DKMT_X = D3DKMT_X (stub)
    functions: list[FunctionView] = field(default_factory=list)
    size_checks: list[tuple[str, str, int, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    stub_imports: list[str] = field(default_factory=list)
    # Whether the stub's declarations use these (pyright --strict reports an import
    # nothing reads).
    shadow_aliases: list[tuple[str, str]] = field(default_factory=list)  # (alias, type)
    stub_uses_cfield: bool = False
    stub_uses_final: bool = False
    wsl: bool = False  # laid out for Linux x86-64 under WSL 2, calling libdxcore.so
    abis: tuple[str, ...] = ("x64", "x86")  # the layout tables' columns, in this order
