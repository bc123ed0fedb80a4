"""The stages in order: header -> preprocess -> parse -> lower -> layout -> docs -> rules -> text.

``build()`` runs them and returns everything a command needs, without writing
anything; ``cli.py`` decides what to write.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, ir
from .derive import derive_rules, merge_rules, requirement_stubs, rules_report, rules_summary
from .docs import DocIndex, folder_digest, load_docs
from .errors import Diagnostics, GeneratorError, Loc
from .layout import ABIS, Layout, layouts
from .lower import lower, size_checks
from .parse import parse, parse_size_asserts
from .preprocess import file_digest, preprocess
from .render import render_module
from .rules import Rule, load_rules, shipped_rules_path
from .snapshot import snapshot

INTERFACE_VERSION = "DXGKDDI_INTERFACE_VERSION"
COMMAND_LINE = Loc("<command line>", 1, 1)


@dataclass(frozen=True)
class Options:
    """What to generate from: the command line, as data."""

    header: Path
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    docs: tuple[Path, ...] = ()
    rules: tuple[Path, ...] | None = None  # None: the shipped rules
    keep_going: bool = False
    command: str = "d3dkmt-codegen generate"
    # Read the reference pages in a second process while the header is parsed
    # (the CLI does; library callers may not want a child process).
    parallel: bool = False
    # --interface-version: "WDDM2_7" or "DXGKDDI_INTERFACE_VERSION_WDDM2_7"
    interface_version: str | None = None
    sdk_version: str | None = None  # the Windows Kit version the header came from


@dataclass(frozen=True)
class Provenance:
    """Where one run's output came from: recorded in the banner and the JSON files.

    Names and digests only (no absolute paths, no time), so that identical inputs
    give identical bytes.
    """

    header: str
    sdk_version: str | None = None
    interface_version: str | None = None
    defines: tuple[tuple[str, str], ...] = ()
    # (kind, name, sha256): kind is "header", "docs" (a folder, one digest) or "rules"
    inputs: tuple[tuple[str, str, str], ...] = ()
    tool: str = f"d3dkmt-codegen {__version__}"

    def to_json(self) -> dict:
        return {
            "tool": self.tool,
            "header": self.header,
            "sdk_version": self.sdk_version,
            "interface_version": self.interface_version,
            "defines": {name: value for name, value in self.defines},
            "inputs": [{"kind": k, "name": n, "sha256": d} for k, n, d in self.inputs],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Provenance:
        return cls(
            header=str(data.get("header", "")),
            sdk_version=data.get("sdk_version"),
            interface_version=data.get("interface_version"),
            defines=tuple(sorted((data.get("defines") or {}).items())),
            inputs=tuple((i["kind"], i["name"], i["sha256"]) for i in data.get("inputs", ())),
            tool=str(data.get("tool", "")),
        )

    def banner(self) -> list[str]:
        lines = []
        if self.sdk_version:
            lines.append(f"SDK version: {self.sdk_version}")
        if self.interface_version:
            lines.append(f"Interface version: {INTERFACE_VERSION} = {self.interface_version}")
        lines.append("Inputs (sha256):")
        lines += [f"  {kind} {name} {digest}" for kind, name, digest in self.inputs]
        return lines


@dataclass
class Analysis:
    """The header's IR and layouts: what ``diff`` and ``show`` need, before docs."""

    module: ir.Module
    layouts: Mapping[str, Layout]
    diagnostics: Diagnostics
    provenance: Provenance


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


def build(options: Options) -> Result:
    """Run every stage on ``options.header``.

    Example::

        result = build(Options(Path("d3dkmthk.h"), docs=(Path("docs/d3dkmthk"),)))
        result.text  # the Python module
    """
    pages = _PageReader(options.docs, options.parallel)
    try:
        return _build(options, pages)
    finally:
        pages.close()


def analyze(options: Options) -> Analysis:
    """The front half of ``build()``: preprocess, parse, lower, lay out.

    Example::

        analysis = analyze(Options(Path("d3dkmthk.h")))
        analysis.layouts["x86"].record("D3DKMT_DESTROYALLOCATION").size  # 16
    """
    diagnostics = Diagnostics()
    defines = _defines(options)
    pp = preprocess(options.header, abi="x64", include_dirs=options.include_dirs, defines=defines)
    for loc, message in pp.warnings:
        diagnostics.warn(loc, message)
    parsed = parse(pp.text, diagnostics)
    module = lower(parsed.ast, pp, options.header.name, "x64", diagnostics)
    _check_interface_version(module, defines, options)
    checks = list(module.size_checks)
    if pp.arch_dependent:
        # Some of the header depends on the ABI (C_ASSERTs under _AMD64_, say):
        # the x86 view contributes its own size checks.
        pp86 = preprocess(
            options.header, abi="x86", include_dirs=options.include_dirs, defines=defines
        )
        asserts = parse_size_asserts(pp86.text, sorted(module.typedefs))
        checks += size_checks(asserts, module, pp86, "x86")
    module = replace(
        module,
        size_checks=tuple(checks),
        defines=tuple(sorted(defines.items())),
        interface_version=_interface_version(module, defines),
    )
    engines = layouts(module)
    for engine in engines.values():
        engine.all_records()  # errors (a record holding itself, say) surface here
    provenance = Provenance(
        header=module.header,
        sdk_version=options.sdk_version,
        interface_version=module.interface_version,
        defines=module.defines,
        inputs=tuple(("header", name, digest) for name, digest in pp.digests),
    )
    return Analysis(module, engines, diagnostics, provenance)


def _build(options: Options, pages: _PageReader) -> Result:
    analysis = analyze(options)
    module, engines, diagnostics = analysis.module, analysis.layouts, analysis.diagnostics
    docs = pages.index(diagnostics)
    members = _member_paths(module, engines["x64"])
    rule_files = list(options.rules) if options.rules is not None else [shipped_rules_path()]
    skipped: list[Rule] = []
    hand = load_rules(
        rule_files, members, diagnostics, keep_going=options.keep_going, skipped=skipped
    )
    rules = merge_rules(hand, derive_rules(module, docs, hand))
    stubs = requirement_stubs(module, docs, rules)
    provenance = replace(
        analysis.provenance,
        inputs=analysis.provenance.inputs
        + tuple(("docs", Path(d).name, folder_digest(Path(d))) for d in options.docs)
        + tuple(("rules", Path(f).name, file_digest(Path(f))) for f in rule_files),
    )
    text, stub, report = render_module(
        module, engines, docs, rules, stubs, _banner(module, options, provenance)
    )
    report["rules"] = rules_report(rules, stubs, skipped)
    return Result(module, engines, docs, rules, text, stub, diagnostics, report, provenance)


class _PageReader:
    """The reference pages, read here or (``parallel``) in a second process.

    Reading ~900 pages takes about as long as parsing the header; on a machine
    with two cores both can happen at once.
    """

    def __init__(self, dirs: Sequence[Path], parallel: bool) -> None:
        self.dirs = tuple(dirs)
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future | None = None
        if parallel and self.dirs and (os.cpu_count() or 1) > 1:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            self.future = self.pool.submit(_read_pages, self.dirs)

    def index(self, diagnostics: Diagnostics) -> DocIndex:
        if self.future is None:
            return load_docs(list(self.dirs), diagnostics)
        pages, warnings, error = self.future.result()
        if error is not None:
            raise GeneratorError(*error)
        for loc, message in warnings:
            diagnostics.warn(loc, message)
        return DocIndex.from_pages(pages)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _read_pages(dirs: Sequence[Path]) -> tuple[list, list, tuple[Loc | None, str] | None]:
    """In the second process: pages, warnings, and the error if there was one
    (plain data: an exception with our constructor does not cross processes)."""
    diagnostics = Diagnostics()
    try:
        index = load_docs(list(dirs), diagnostics)
    except GeneratorError as error:
        return [], [], (error.loc, error.message)
    return list(index.pages), [(w.loc, w.message) for w in diagnostics.warnings], None


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
    computed = next((c.value for c in module.constants if c.name == INTERFACE_VERSION), None)
    if not given.isidentifier() and computed in values:
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
    listing = ", ".join(f"{name.removeprefix(prefix)} (0x{value:X})" for name, value in versions)
    raise GeneratorError(
        COMMAND_LINE,
        f"{option}: unknown interface version{hint}; the header knows: {listing}",
    )


def _interface_version(module: ir.Module, defines: Mapping[str, str]) -> str | None:
    for constant in module.constants:
        if constant.name == INTERFACE_VERSION:
            names = [
                c.name
                for c in module.constants
                if c.name.startswith(INTERFACE_VERSION + "_") and c.value == constant.value
            ]
            label = names[0] if names else defines.get(INTERFACE_VERSION, "")
            return f"{label} (0x{constant.value:X})" if label else f"0x{constant.value:X}"
    return None


def _member_paths(module: ir.Module, engine: Layout) -> dict[str, list[str]]:
    names = module.record_names()
    return {
        name: [path for path, *_ in engine.paths(key)]
        for key, name in names.items()
        if module.records[key].fields is not None
    }


def _banner(module: ir.Module, options: Options, provenance: Provenance) -> tuple[str, ...]:
    lines = [
        f"Generated by d3dkmt-codegen {__version__} from {module.header}"
        f" ({', '.join(module.files)}).",
        f"Command: {options.command}",
        "ABIs: x64 and x86 (MSVC layouts); do not edit: regenerate instead.",
    ]
    return (*lines, *provenance.banner())


__all__ = ["ABIS", "Analysis", "Options", "Provenance", "Result", "analyze", "build"]
