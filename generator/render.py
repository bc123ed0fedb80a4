"""Stage 7: turn the IR, layouts, docs and rules into Python text with jinja2.

Everything the templates print is computed into plain view objects (``views.py``)
before a template sees it: ``spelling.py`` spells types, ``classes.py`` gives each
record its ctypes class body, ``docstrings.py`` writes the docstrings and
``checks.py`` the ``validate()`` checks; this module puts them together in the
order the module is printed. This is the only module that imports jinja2.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import jinja2

from . import ir
from .cache import Cache, kept_beside
from .cache import key as cache_key
from .checks import rule_views, todo_comments
from .classes import RecordClasses
from .docs import DocIndex
from .docstrings import Coverage, Docstrings
from .layout import Layout
from .order import declaration_order
from .rules import Rule
from .spelling import (
    CTYPES_NAMES,
    MADE_UP,
    PRELUDE,
    Spelling,
    emitted,
    forget_names,
    reserved_names,
    templates_dir,
)
from .views import (
    AliasView,
    EnumView,
    FieldView,
    FunctionView,
    LayoutView,
    ModuleView,
    RecordView,
    StubMember,
    StubParam,
    StubSignature,
    StubType,
)

# Names of typeshed's ctypes stub the generated stub imports besides the CTYPES_NAMES.
_STUB_CTYPES = frozenset({"Array", "_CFunctionType", "_CVoidConstPLike"})
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- text filters (registered on the environment) ------------------------------------
def docstring_body(text: str) -> str:
    """Make text safe inside a triple-quoted, non-raw Python string.

    Backslashes, triple quotes and control characters from outside text (doc
    pages, header comments) must not change the string or end it early.
    """
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


def sphinx_comment(text: str) -> str:
    """Text as ``#:`` comment lines, which Sphinx reads as the next assignment's doc.

    A line break other than ``\\n`` (``\\r``, form feed, ...) would end the comment
    early, so control characters are written as escapes.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text.replace("\r\n", "\n"))
    return "\n".join(f"#: {line}".rstrip() for line in text.split("\n"))


def py_string(text: str) -> str:
    """A Python string literal for any text, double-quoted as ruff format would."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def py_tuple(items: Sequence[str]) -> str:
    """A tuple literal of strings."""
    inner = ", ".join(py_string(item) for item in items)
    return f"({inner},)" if len(items) == 1 else f"({inner})"


FILTERS = {
    "docstring": docstring_body,
    "pystr": py_string,
    "pytuple": py_tuple,
    "sphinx_comment": sphinx_comment,
}


class _Builder:
    """Builds the ``ModuleView`` of one module."""

    def __init__(
        self,
        module: ir.Module,
        layouts: Mapping[str, Layout],
        docs: DocIndex,
        rules: Mapping[str, Sequence[Rule]],
        stubs: Mapping[str, Sequence[str]],
    ) -> None:
        self.module = module
        self.layouts = layouts
        self.rules = rules
        self.stubs = stubs
        self.spelling = Spelling(module, layouts)
        self.names = self.spelling.names
        self.public = self.spelling.public
        self.enum_names = self.spelling.enum_names
        self.used_prelude = _used_prelude_records(module)
        self.coverage = Coverage()
        self.docstrings = Docstrings(module, layouts, docs, self.spelling, self.coverage)
        self.classes = RecordClasses(module, layouts, self.spelling)
        self.elements: Mapping[str, Sequence[tuple[str, str]]] = {}
        self.shadow_aliases: dict[str, str] = {}  # stub alias -> the type a member hides

    # -- one view per declaration ------------------------------------------------------
    def record_view(self, key: str) -> RecordView:
        record = self.module.records[key]
        name = self.spelling.record_name(key)
        c_name = self.spelling.record_c_name(key)  # rules, stubs and pages go by it
        base = "Union" if record.kind == "union" else "Structure"
        if record.fields is None:
            doc = f"{name}: declared but never defined by the header; usable only by pointer."
            doc += " " + self.names.renamed(c_name, name) if c_name != name else ""
            return RecordView(
                name, base, doc, None, (), (), (), (), opaque=True, tag_alias=self._tag_alias(key)
            )
        body = self.classes.body(key)
        doc, members = self.docstrings.record_doc(key, c_name)
        members = self._unshadowed(members)
        positional, keyword = _init_params(members, body.fields)
        return RecordView(
            name=name,
            base=base,
            doc=doc,
            members=members,
            todo=todo_comments(self.stubs.get(c_name, ())),
            pack=record.pack,
            align=body.align,
            anonymous=body.anonymous,
            fields=body.fields,
            bitfields=body.bitfields,
            rules=rule_views(self.rules.get(c_name, ())),
            elements=tuple(self.elements.get(c_name, ())),
            enum_fields=body.enum_fields,
            tag_alias=self._tag_alias(key),
            layout=self._layout(key) if key in self.public else None,
            init_positional=positional,
            init_keyword=keyword,
        )

    def _tag_alias(self, key: str) -> str | None:
        """The record's tag as a second name (``_D3DKMT_X``), where nothing else has it."""
        tag = self.module.records[key].tag
        if tag and tag != self.spelling.record_c_name(key) and tag not in self.module.typedefs:
            return self.names.of(tag)
        return None

    def _unshadowed(self, members: tuple[StubMember, ...]) -> tuple[StubMember, ...]:
        """The members with every type that a member's name would hide spelled by an alias.

        In a stub's class body mypy reads a name as the class's own first: after
        ``A: _CField[A, A, A]`` the member, not the record, is ``A``. Such a type
        gets a module-level alias (``A_: TypeAlias = A``) that no member and no
        module-level name of the module takes.
        """
        names = {m.name for m in members}
        hidden = sorted(names & set(_IDENTIFIER.findall(" ".join(_stub_types(members)))))
        if not hidden:
            return members
        spelled = {name: self._alias(name, names) for name in hidden}
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, hidden)) + r")\b")

        def respell(text: str) -> str:
            return pattern.sub(lambda match: spelled[match.group(0)], text)

        return tuple(
            replace(m, py_type=StubType(respell(m.py_type.field), respell(m.py_type.init)))
            for m in members
        )

    def _alias(self, name: str, members: set[str]) -> str:
        alias = name + "_"
        while alias in members or self._taken(alias) and self.shadow_aliases.get(alias) != name:
            alias += "_"
        self.shadow_aliases[alias] = name
        return alias

    def _taken(self, name: str) -> bool:
        return name in self.names.module_names() or name in reserved_names("module")

    def enum_view(self, key: str, enum: ir.Enum) -> EnumView:
        doc = self.docstrings.enum_doc(self.spelling.enum_c_name(key), enum)
        members = tuple((self.names.of(m.name), m.value) for m in enum.members)
        return EnumView(self.spelling.enum_name(key), doc, members)

    def function_view(self, function: ir.Function) -> FunctionView:
        names, doc = self.docstrings.function_doc(function)
        return FunctionView(
            name=self.names.of(function.name),
            c_name=function.name,
            restype=self.spelling.ctype(function.ret),
            argtypes=tuple(self.spelling.ctype(p.type) for p in function.params),
            argnames=names,
            doc=doc,
            stub=self.signature(names, function.ret, function.params),
            only_on=self._other_platform(function),
        )

    def _other_platform(self, function: ir.Function) -> str | None:
        """The platform a function is declared for, where this module is not for it:
        it stays in the module (with its docstring) but is never bound."""
        here = "wsl" if self.module.abis == ("wsl",) else "windows"
        platform = function.platform.name if function.platform else None
        return platform if platform not in (None, here) else None

    def signature(
        self, names: Sequence[str], ret: ir.Type, params: Sequence[ir.Param]
    ) -> StubSignature:
        """How the stub types a call through ctypes, and a Python function behind a callback."""
        spelling = self.spelling
        return StubSignature(
            params=tuple(
                StubParam(name, spelling.stub_arg(p.type))
                for name, p in zip(names, params, strict=True)
            ),
            returns=spelling.stub_return(ret),
            receives=tuple(spelling.stub_return(p.type) for p in params),
            gives=spelling.stub_return(ret),  # ctypes converts it as a result: a plain value
        )

    # -- the whole module --------------------------------------------------------------
    def build(self, banner: tuple[str, ...]) -> ModuleView:
        module = self.module
        view = ModuleView(banner=banner, doc=f"ctypes bindings for {module.header}.")
        view.made_up = MADE_UP.pattern
        for enum_key, enum in module.enums.items():
            if not emitted(enum.loc) or not enum.members:
                continue
            view.enums.append(self.enum_view(enum_key, enum))
        enum_names = set(self.enum_names.values())
        view.constants = [
            (self.names.of(c.name), c.value) for c in module.constants if c.name not in enum_names
        ]
        shown = {name for name, _ in view.constants}
        for constant in module.constants:
            name = self.names.of(constant.name)
            if name in shown and (doc := self.docstrings.constant_doc(constant)):
                view.constant_docs[name] = doc
        view.guids = [(self.names.of(g.name), str(g)) for g in module.guids if emitted(g.loc)]
        records = [k for k, r in module.records.items() if self._wanted(k, r)]
        by_key = {}
        for key in records:
            by_key[key] = self.record_view(key)
            view.records.append(by_key[key])
        aliases: dict[str, AliasView] = {}  # by C typedef name, in header order
        for c_name, td in module.typedefs.items():
            alias = self._alias_view(c_name, td)
            if alias is not None:
                aliases[c_name] = alias
                view.aliases.append(alias)
        view.tag_aliases = [
            AliasView(r.tag_alias, r.name, stub=r.name) for r in view.records if r.tag_alias
        ]
        opaque = {k for k in records if by_key[k].opaque}
        for kind, what in declaration_order(module, records, opaque, list(aliases)):
            item = aliases[what] if kind in ("alias", "scalar") else by_key[what]
            if kind == "scalar" and item.doc is not None:
                kind = "alias"  # a callback type: made on first use like the records
            view.blocks.append((kind, item))
        view.wsl = module.abis == ("wsl",)
        view.abis = module.abis
        for function in module.functions:
            if emitted(function.loc):
                view.functions.append(self.function_view(function))
        # check_layout() looks each name up in the module: a check on a type it has no
        # name for (``sizeof(PVOID)``, a prelude type) was made at generation only.
        named = {r.name for r in view.records} | {a.name for a in view.aliases}
        for check in module.size_checks:
            name = self.spelling.py_name(check.type)
            if name in named:
                view.size_checks.append((name, check.abi, check.size,
                                         f"{check.loc.file}:{check.loc.line}"))  # fmt: skip
        view.imports = _ctypes_imports(view)
        view.stub_imports = _stub_imports(view)
        view.shadow_aliases = sorted(self.shadow_aliases.items())
        view.stub_uses_cfield = any(
            m.py_type.field.startswith("_CField[") for r in view.records for m in r.members
        )
        view.stub_uses_final = bool(view.constants or view.enums)
        # Exported by "*": what the header names; not the names made up for anonymous
        # records and enums, nor the tags (``_D3DKMT_X``), which stay importable.
        names = [n for n, _ in view.constants] + [n for n, _ in view.guids]
        made_up_enums = {self.spelling.enum_name(k) for k, e in module.enums.items()
                         if e.tag is None and self.enum_names.get(k, k) == k}  # fmt: skip
        for enum in view.enums:
            if enum.name not in made_up_enums:
                names.append(enum.name)
            names.extend(n for n, _ in enum.members)
        public = {self.names.of(name) for name in self.public.values()}
        names += [r.name for r in view.records if r.name in public]
        names += [a.name for a in view.aliases]
        names += [f.name for f in view.functions]
        view.names = sorted(set(names))
        return view

    def _wanted(self, key: str, record: ir.Record) -> bool:
        if not emitted(record.loc):
            return key in self.used_prelude
        return True

    def _alias_view(self, c_name: str, td: ir.Typedef) -> AliasView | None:
        """A typedef as the module spells it, or None where it is a record's or an
        enum's own name (or the prelude's)."""
        if not emitted(td.loc):
            return None
        target = td.type
        if isinstance(target, ir.Ref) and target.kind == "record":
            if self.spelling.record_c_name(target.name) == c_name:
                return None
        name = self.names.of(c_name)
        if isinstance(target, ir.Ref) and target.kind == "enum":
            if self.spelling.enum_name(target.name) == name:
                return None
            ctype = self.spelling.enum_ctype(target.name)
            return AliasView(name, ctype, stub=ctype)
        func = self.module.resolve(target)
        if isinstance(func, ir.Pointer):
            func = self.module.resolve(func.target)
        if isinstance(func, ir.FuncType):
            signature = ", ".join(
                self.spelling.ctype(t) for t in (func.ret, *(p.type for p in func.params))
            )
            doc = self.docstrings.callback_doc(td, func)
            c_names = [p.name or f"arg{i}" for i, p in enumerate(func.params)]
            stub = self.signature(self.names.parameters(c_names), func.ret, func.params)
            return AliasView(name, signature, doc, signature=stub)
        return AliasView(name, self.spelling.ctype(target), stub=self.spelling.stub_ctype(target))

    def _layout(self, key: str) -> LayoutView:
        sizes = []
        places: dict[str, list[str]] = {}
        for abi in self.module.abis:
            engine = self.layouts[abi]
            layout = engine.record(key)
            sizes.append((abi, layout.size, layout.align))
            for path, offset, bit_offset, bits in engine.paths(key):
                value = str(offset) if bits is None else f"{bit_offset}:{bits}"
                places.setdefault(self.names.path(key, path), []).append(value)
        # One row of text per member, one column per ABI: a string costs next to
        # nothing to compile, where a dict of tuples was a third of the module's.
        rows = tuple(" ".join((path, *values)) for path, values in places.items())
        return LayoutView(tuple(sizes), rows)


def _ctypes_imports(view: ModuleView) -> list[str]:
    """The names the module takes from ctypes: only those it uses (ruff-clean output)."""
    texts = [f.ctype for r in view.records for f in r.fields]
    texts += [r.base for r in view.records]
    texts += [a.expr for a in view.aliases + view.tag_aliases]  # callbacks: signatures
    for function in view.functions:
        texts += [function.restype, *function.argtypes]
    used = set(re.findall(r"\b(?:c_\w+|POINTER|Structure|Union)\b", " ".join(texts)))
    used |= {"c_void_p", "Structure", "Union"}  # the runtime helpers use them
    return _isort(used & CTYPES_NAMES)  # a C name "c_foo" is the module's, not ctypes'.


def _stub_imports(view: ModuleView) -> list[str]:
    """The names the stub takes from ctypes: the record bases, and what its types name."""
    texts = [m.py_type.field for r in view.records for m in r.members]
    texts += [a.stub or "_CFunctionType" for a in view.aliases + view.tag_aliases]  # a base
    for signature in [a.signature for a in view.aliases] + [f.stub for f in view.functions]:
        if signature is not None:
            texts += [p.type for p in signature.params]
            texts += [signature.returns, *signature.receives, signature.gives]
    used = set(re.findall(r"\b(?:c_\w+|Array|_CFunctionType|_CVoidConstPLike)\b", " ".join(texts)))
    return _isort((used & (CTYPES_NAMES | _STUB_CTYPES)) | {"Array", "Structure", "Union"})


def _stub_types(members: Sequence[StubMember]) -> list[str]:
    return [text for m in members for text in (m.py_type.field, m.py_type.init)]


def _init_params(
    members: Sequence[StubMember], fields: Sequence[FieldView]
) -> tuple[tuple[StubParam, ...], tuple[StubParam, ...]]:
    """A record's ``__init__`` parameters: those ctypes also takes by position, then the rest.

    ctypes fills ``_fields_`` in order from positional arguments; that order is the
    members' only until the first made-up entry (a bit-field unit, an anonymous
    member, an aligner), so the members from there on are keyword-only.
    """
    params = [StubParam(m.name, m.py_type.init) for m in members]
    count = 0
    for member, entry in zip(members, fields, strict=False):
        if member.name != entry.name:
            break
        count += 1
    return tuple(params[:count]), tuple(params[count:])


def _isort(names: set[str]) -> list[str]:
    """isort's order-by-type, as ruff applies it: CONSTANTS, Classes, functions."""

    def key(name: str) -> tuple:
        kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
        natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
        return kind, natural

    return sorted(names, key=key)


def _used_prelude_records(module: ir.Module) -> set[str]:
    """Prelude records (LUID, GUID, ...) that the header's own declarations reach."""
    used: set[str] = set()
    seen: set[str] = set()
    typedefs_seen: set[str] = set()  # (typedefs name the same types over and over)

    def visit(type_: ir.Type) -> None:
        if isinstance(type_, ir.Pointer):
            visit(type_.target)
        elif isinstance(type_, ir.Array):
            visit(type_.elem)
        elif isinstance(type_, ir.FuncType):
            visit(type_.ret)
            for param in type_.params:
                visit(param.type)
        elif isinstance(type_, ir.Ref) and type_.kind == "typedef":
            if type_.name not in typedefs_seen:
                typedefs_seen.add(type_.name)
                visit(module.typedefs[type_.name].type)
        elif isinstance(type_, ir.Ref) and type_.kind == "record" and type_.name not in seen:
            seen.add(type_.name)
            record = module.records[type_.name]
            if record.loc.file == PRELUDE or record.parent:
                used.add(type_.name)
            for member in record.fields or ():
                visit(member.type)

    for record in module.records.values():
        if record.loc.file != PRELUDE:
            for member in record.fields or ():
                visit(member.type)
    for td in module.typedefs.values():
        if td.loc.file != PRELUDE:
            visit(td.type)
    for function in module.functions:
        visit(ir.FuncType(function.ret, function.params))
    if module.guids:
        visit(ir.Ref("typedef", "GUID"))
    return used


@functools.lru_cache(maxsize=8)
def _environment(cache_dir: Path | None = None) -> jinja2.Environment:
    """The templates' environment, one per process (and cache folder): the
    templates are the generator's own files, compiled once per process, and once
    for all runs where their compiled form can be kept (see _CompiledTemplates)."""
    caches = [kept_beside(templates_dir())]
    if cache_dir:
        caches.append(Cache(cache_dir))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,  # (else each include looks at the template's file again)
        bytecode_cache=_CompiledTemplates(caches),
    )
    env.filters.update(FILTERS)
    return env


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates beside the templates (``cache.kept_beside``) and in the
    run cache: keyed by the generator's fingerprint (which covers the
    templates, jinja2's version and Python's) and the source.

    Compiling them is a tenth of the back half (50 ms): only the first run after
    the templates change pays it. A folder that cannot be written is no error.
    """

    def __init__(self, caches: Sequence[Cache]) -> None:
        self.caches = caches

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        for cache in self.caches:
            code = cache.get("templates", _template_key(bucket))
            if isinstance(code, bytes):
                bucket.bytecode_from_string(code)  # (jinja2 checks its magic and checksum)
                return

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = bucket.bytecode_to_string()
        for cache in self.caches:
            cache.put("templates", _template_key(bucket), code)


def _template_key(bucket: jinja2.bccache.Bucket) -> str:
    return cache_key("template", bucket.key, bucket.checksum)


def render_module(
    module: ir.Module,
    layouts: Mapping[str, Layout],
    docs: DocIndex,
    rules: Mapping[str, Sequence[Rule]],
    stubs: Mapping[str, Sequence[str]],
    banner: tuple[str, ...],
    elements: Mapping[str, Sequence[tuple[str, str]]] = {},  # noqa: B006 - never mutated
    cache_dir: Path | None = None,
) -> tuple[str, str, dict]:
    """The generated module, its .pyi stub, and the documentation report.

    ``elements`` are the arrays of records each record's ``validate()`` also checks;
    ``cache_dir`` is the run cache, where compiled templates are kept.
    """
    builder = _Builder(module, layouts, docs, rules, stubs)
    builder.elements = elements
    view = builder.build(banner)
    report = builder.coverage.report(docs)
    # What building the views kept (spellings, member paths) is not needed to print
    # them: on a big header it is a fifth of the memory the run peaks at.
    del builder
    forget_names(module)
    env = _environment(cache_dir)
    text = env.get_template("module.py.jinja").render(m=view)
    stub = env.get_template("stub.pyi.jinja").render(m=view)
    return text, stub, report
