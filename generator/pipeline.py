"""The stages in order: header -> preprocess -> parse -> lower -> layout -> docs -> rules -> text.

``build()`` runs them and returns everything a command needs, without writing
anything; ``cli.py`` decides what to write.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, ir
from .cache import Cache, current_digest
from .cache import key as cache_key
from .derive import (
    derive_rules,
    element_checks,
    forget_walks,
    merge_rules,
    requirement_stubs,
    rules_report,
    rules_summary,
)
from .docs import DocIndex
from .errors import COMMAND_LINE, Diagnostics, GeneratorError
from .inputs import file_digest, shipped_rules_path
from .layout import ABIS, Layout, layouts
from .lower import lower, size_checks
from .options import INTERFACE_VERSION, Options, Provenance
from .pages import Digests, PageReader
from .parse import parse, parse_size_asserts
from .preprocess import preprocess, size_assert_view
from .render import render_module
from .rules import Rule, load_rules
from .snapshot import snapshot
from .spelling import names_of


@dataclass
class Analysis:
    """The header's IR and layouts: what ``diff`` and ``show`` need, before docs."""

    module: ir.Module
    layouts: Mapping[str, Layout]
    diagnostics: Diagnostics
    provenance: Provenance
    # (path, sha256) of every header file read: a cached analysis holds while they do
    depends: tuple[tuple[str, str], ...] = ()


@dataclass
class Result:
    """The products of one run, not yet written anywhere."""

    module: ir.Module
    layouts: Mapping[str, Layout]
    docs: DocIndex
    rules: Mapping[str, Sequence[Rule]]
    text: str
    stub: str
    diagnostics: Diagnostics
    report: dict = field(default_factory=dict)
    provenance: Provenance | None = None
    depends: tuple[tuple[str, str], ...] = ()

    @property
    def stem(self) -> str:
        return Path(self.module.header).stem

    def summary(self) -> str:
        """The short block printed after ``generate``."""
        labels = {
            "records": "records", "paged_records": "  with a page", "members": "members",
            "paged_members": "  of paged records", "enums": "enums", "enum_values": "enum values",
            "functions": "functions", "callbacks": "callback types", "constants": "constants",
        }  # fmt: skip
        lines = ["documentation (from pages / header comments / none):"]
        counts = self.report.get("counts", {})
        for kind, label in labels.items():
            if kind in counts:
                bucket = counts[kind]
                lines.append(
                    f"  {label:<20} {bucket['total']:>5}: {bucket['page']} / "
                    f"{bucket['comment']} / {bucket['none']}"
                )
        lines.append(f"  mismatches: {len(self.report.get('mismatches', []))} (see --report-json)")
        if "rules" in self.report:
            lines.append(rules_summary(self.report["rules"]))
        return "\n".join(lines)

    def layout_json(self) -> dict:
        """The ``--layout-json`` document: the ABI snapshot ``diff`` reads back."""
        return snapshot(self.module, self.layouts, self.provenance)

    def report_json(self) -> dict:
        """The ``--report-json`` document, with the run's provenance."""
        provenance = self.provenance.to_json() if self.provenance else {}
        return {"provenance": provenance, **self.report}


def build(
    options: Options, digests: Digests | None = None, pages: PageReader | None = None
) -> Result:
    """Run every stage on ``options.header``.

    ``digests``: the sha256 of inputs this run has hashed already, by (kind, path)
    (``outputs.input_digests``), so that none is read twice for it. ``pages``: the
    reader of ``options.docs``, if the caller started it already (then the caller
    closes it).

    Example::

        result = build(Options(Path("d3dkmthk.h"), docs=(Path("docs/d3dkmthk"),)))
        result.text  # the Python module
    """
    digests = digests or {}
    if pages is not None:
        return _build(options, pages, digests)
    pages = PageReader(options.docs, options.parallel, Cache(options.cache_dir), digests)
    try:
        return _build(options, pages, digests)
    finally:
        pages.close()


def analyze(options: Options, digests: Digests | None = None) -> Analysis:
    """The front half of ``build()``: preprocess, parse, lower, lay out.

    With ``options.cache_dir``, an earlier analysis of the same header files and
    options is taken from the cache instead.

    Example::

        analysis = analyze(Options(Path("d3dkmthk.h")))
        analysis.layouts["x86"].record("D3DKMT_DESTROYALLOCATION").size  # 16
    """
    cache = Cache(options.cache_dir)
    name = analysis_key(options, digests) if cache.root else None
    cached = cache.get("analysis", name) if name else None
    if isinstance(cached, Analysis):
        return cached
    with _no_cyclic_gc():
        analysis = _analyze(options)
    if name:
        cache.put("analysis", name, analysis, analysis.depends)
    return analysis


def analysis_key(options: Options, digests: Digests | None = None) -> str | None:
    """The cache key of ``analyze(options)``: the header's bytes and where its
    includes are looked for, and every option that changes the analysis (the files
    it includes are checked through the entry's own list). None: no header to read."""
    header = Path(options.header)
    digest = (digests or {}).get(("header", str(header))) or current_digest(header)
    if digest is None:
        return None
    return cache_key(
        "analysis",
        digest,
        str(header.resolve().parent),
        [str(Path(d).resolve()) for d in options.include_dirs],
        options.defines,
        options.interface_version,
        options.sdk_version,
        list(options.abis),
    )


def _analyze(options: Options) -> Analysis:
    diagnostics = Diagnostics()
    defines = _defines(options)
    if tuple(options.abis) not in (("x64", "x86"), ("wsl",)):
        # One preprocess pass gives one IR: _WIN32 decides what the header declares.
        raise ValueError(f"abis {options.abis!r}: either ('x64', 'x86') or ('wsl',)")
    # The first ABI's text is the module's: x64 (x86 adds its size checks), or wsl.
    first = options.abis[0]
    pp = preprocess(options.header, abi=first, include_dirs=options.include_dirs, defines=defines)
    for loc, message in pp.warnings:
        diagnostics.warn(loc, message)
    # No gc.collect() between the stages (see _no_cyclic_gc): pcpp and pycparser
    # leave next to no cycles (parse.py breaks the parser's), and a full collection
    # would walk everything alive, 30 ms each on libdxg.
    parsed = parse(pp.text, diagnostics)
    module = lower(parsed.ast, pp, options.header.name, first, diagnostics)
    del parsed  # the AST: the IR has all it needs
    _check_interface_version(module, defines, options)
    checks = list(module.size_checks)
    sources = list(pp.sources)
    if pp.arch_dependent and "x86" in options.abis:
        # Some of the header depends on the ABI (C_ASSERTs under _AMD64_, say):
        # the x86 view contributes its own size checks.
        pp86 = size_assert_view(pp, "x86")
        asserts = parse_size_asserts(pp86.text, module.typedefs)
        checks += size_checks(asserts, module, pp86, "x86")
        sources += pp86.sources
    elif "x86" in options.abis:
        # Nothing in the header asks for the architecture: x86 reads the same asserts.
        checks += [replace(check, abi="x86") for check in module.size_checks]
    module = replace(
        module,
        size_checks=tuple(checks),
        defines=tuple(sorted(defines.items())),
        interface_version=_interface_version(module, defines),
        abis=tuple(options.abis),
    )
    engines = layouts(module)
    for engine in engines.values():
        engine.all_records()  # errors (a record holding itself, say) surface here
    _check_sizes(module, engines)
    provenance = Provenance(
        header=module.header,
        sdk_version=options.sdk_version,
        interface_version=module.interface_version,
        defines=module.defines,
        inputs=tuple(("header", name, digest) for name, _, digest in pp.sources),
    )
    depends = tuple(dict.fromkeys((path, digest) for _, path, digest in sources if path))
    return Analysis(module, engines, diagnostics, provenance, depends)


def _check_sizes(module: ir.Module, engines: Mapping[str, Layout]) -> None:
    """The header's own ``C_ASSERT(sizeof(X) == N)``, against the layouts: one that
    fails would stop MSVC too, and bindings made from such a header would fail
    their ``check_layout()`` (or be wrong, for a type they do not check)."""
    for check in module.size_checks:
        try:
            size, _ = engines[check.abi].size_align(check.type)
        except TypeError:  # void, a function type: MSVC rejects such a sizeof
            raise GeneratorError(check.loc, "sizeof of a type without a size") from None
        if size != check.size:
            raise GeneratorError(
                check.loc, f"C_ASSERT fails: sizeof is {size} on {check.abi}, not {check.size}"
            )


def _build(options: Options, pages: PageReader, digests: Digests) -> Result:
    with _no_cyclic_gc():
        analysis = analyze(options, digests)
        docs = pages.index(analysis.diagnostics)
        return _back_half(options, analysis, docs, pages.digests, digests)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """No cyclic GC while a build runs (the CLI runs without it anyway).

    What the stages make lives to the end (AST to IR, IR, layouts, pages) or is
    freed by reference counting (parse.py breaks the parser's cycles; pcpp leaves
    two small classes per ``#if`` it evaluates), so collections would free next
    to nothing, yet each full one walks all of it again: a fifth of an in-process
    build of libdxg, half the parse of a 10 MB header. What was alive before is
    frozen, left out of collections until the build ends. A program that froze
    objects itself, or turned the GC off, keeps its own arrangement.
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _back_half(
    options: Options,
    analysis: Analysis,
    docs: DocIndex,
    page_digests: Mapping[Path, str],
    digests: Digests,
) -> Result:
    module, engines, diagnostics = analysis.module, analysis.layouts, analysis.diagnostics
    rule_files = list(options.rules) if options.rules is not None else [shipped_rules_path()]
    skipped: list[Rule] = []
    hand = load_rules(
        rule_files,
        _MemberPaths(module, engines[module.abis[0]]),
        diagnostics,
        keep_going=options.keep_going,
        skipped=skipped,
    )
    rules = merge_rules(hand, derive_rules(module, docs, hand))
    stubs = requirement_stubs(module, docs, rules)
    provenance = replace(
        analysis.provenance,
        inputs=analysis.provenance.inputs
        + tuple(("docs", Path(d).name, page_digests[d]) for d in options.docs)
        + tuple(
            ("rules", Path(f).name, digests.get(("rules", str(Path(f)))) or file_digest(Path(f)))
            for f in rule_files
        ),
    )
    elements = element_checks(module, docs, rules)
    forget_walks()  # the member walks those shared: render needs them no more
    banner = _banner(module, options, provenance)
    text, stub, report = render_module(
        module, engines, docs, rules, stubs, banner, elements, cache_dir=options.cache_dir
    )
    report["rules"] = rules_report(rules, stubs, skipped)
    return Result(
        module, engines, docs, rules, text, stub, diagnostics, report, provenance, analysis.depends
    )


def _defines(options: Options) -> dict[str, str]:
    """The -D macros, with ``--interface-version`` as the define it stands for."""
    defines = dict(options.defines)
    if options.interface_version:
        if INTERFACE_VERSION in defines:
            raise GeneratorError(
                COMMAND_LINE,
                f"--interface-version and -D {INTERFACE_VERSION} both given: give one",
            )
        name = options.interface_version
        prefix = INTERFACE_VERSION + "_"
        defines[INTERFACE_VERSION] = name if name.startswith(prefix) else prefix + name
    return defines


def interface_versions(module: ir.Module) -> list[tuple[str, int]]:
    """The header's ``DXGKDDI_INTERFACE_VERSION_*`` names and values, in header order."""
    prefix = INTERFACE_VERSION + "_"
    return [
        (c.name, c.value)
        for c in module.constants
        if c.name.startswith(prefix) and c.loc.file != COMMAND_LINE.file
    ]


def _check_interface_version(
    module: ir.Module, defines: Mapping[str, str], options: Options
) -> None:
    """An interface version the header does not know would silently select the
    oldest branches of every ``#if``: refuse it, listing the ones it knows."""
    if INTERFACE_VERSION not in defines:
        return
    given = defines[INTERFACE_VERSION]
    versions = interface_versions(module)
    if not versions and not options.interface_version:
        return  # a header without named versions (Wine's): the -D is the user's business
    values = {value for _, value in versions}
    if given in dict(versions):
        return
    if not given.isidentifier() and _defined_version(module) in values:
        return
    option = (
        f"--interface-version {options.interface_version}"
        if options.interface_version
        else f"-D {INTERFACE_VERSION}={given}"
    )
    if not versions:
        raise GeneratorError(COMMAND_LINE, f"{option}: the header defines no interface versions")
    prefix = INTERFACE_VERSION + "_"
    short = [name.removeprefix(prefix) for name, _ in versions]
    guess = difflib.get_close_matches(given.removeprefix(prefix), short, n=1)
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    listing = ", ".join(
        f"{name} (0x{value:X})" for name, (_, value) in zip(short, versions, strict=True)
    )
    raise GeneratorError(
        COMMAND_LINE,
        f"{option}: unknown interface version{hint}; the header knows: {listing}",
    )


def _interface_version(module: ir.Module, defines: Mapping[str, str]) -> str | None:
    """The interface version in effect, as "NAME (0xVALUE)" (or its value alone)."""
    value = _defined_version(module)
    if value is None:
        return None
    names = [name for name, known in interface_versions(module) if known == value]
    label = names[0] if names else defines.get(INTERFACE_VERSION, "")
    return f"{label} (0x{value:X})" if label else f"0x{value:X}"


def _defined_version(module: ir.Module) -> int | None:
    """The value ``DXGKDDI_INTERFACE_VERSION`` has, if it has one."""
    return next((c.value for c in module.constants if c.name == INTERFACE_VERSION), None)


class _MemberPaths(Mapping[str, dict[str, str]]):
    """Each record's member paths as a rule may spell them (C or Python), to the Python
    one, by public name; worked out for a record when asked: the rules name few."""

    def __init__(self, module: ir.Module, engine: Layout) -> None:
        self.engine = engine
        self.names = names_of(module)
        self.keys = {
            name: key
            for key, name in module.record_names().items()
            if module.records[key].fields is not None
        }
        self.found: dict[str, dict[str, str]] = {}

    def __getitem__(self, name: str) -> dict[str, str]:
        if name not in self.found:
            key = self.keys[name]
            paths = [path for path, *_ in self.engine.paths(key)]
            self.found[name] = self.names.rule_paths(key, paths)
        return self.found[name]

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


def _banner(module: ir.Module, options: Options, provenance: Provenance) -> tuple[str, ...]:
    lines = [
        f"Generated by d3dkmt-codegen {__version__} from {module.header}"
        f" ({', '.join(module.files)}).",
        f"Command: {options.command}",
        (
            "ABIs: wsl (Linux x86-64 under WSL 2, System V layouts)"
            if module.abis == ("wsl",)
            else "ABIs: x64 and x86 (MSVC layouts)"
        )
        + "; do not edit: regenerate instead.",
    ]
    return (*lines, *provenance.banner())


__all__ = ["ABIS", "Analysis", "Options", "Provenance", "Result", "analyze", "build"]
