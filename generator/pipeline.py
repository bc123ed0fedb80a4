"""The stages in order: header -> preprocess -> parse -> lower -> layout -> docs -> rules -> text.

``build()`` runs them and returns everything a command needs, without writing
anything; ``cli.py`` decides what to write.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, ir
from .derive import derive_rules, merge_rules, requirement_stubs, rules_report, rules_summary
from .docs import DocIndex, load_docs
from .errors import Diagnostics, GeneratorError, Loc
from .layout import ABIS, Layout, layout_json, layouts
from .lower import lower, size_checks
from .parse import parse, parse_size_asserts
from .preprocess import preprocess
from .render import render_module
from .rules import Rule, load_rules, shipped_rules_path

INTERFACE_VERSION = "DXGKDDI_INTERFACE_VERSION"


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

    @property
    def stem(self) -> str:
        return Path(self.module.header).stem

    def summary(self) -> str:
        """The short block printed after ``generate``."""
        labels = {
            "records": "records", "paged_records": "  with a page", "members": "members",
            "paged_members": "  of paged records", "enums": "enums", "enum_values": "enum values",
            "functions": "functions", "callbacks": "callback types",
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
        return layout_json(self.module)


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


def _build(options: Options, pages: _PageReader) -> Result:
    diagnostics = Diagnostics()
    defines = dict(options.defines)
    pp = preprocess(options.header, abi="x64", include_dirs=options.include_dirs, defines=defines)
    for loc, message in pp.warnings:
        diagnostics.warn(loc, message)
    parsed = parse(pp.text, diagnostics)
    module = lower(parsed.ast, pp, options.header.name, "x64", diagnostics)
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
    docs = pages.index(diagnostics)
    members = _member_paths(module, engines["x64"])
    rule_files = list(options.rules) if options.rules is not None else [shipped_rules_path()]
    skipped: list[Rule] = []
    hand = load_rules(
        rule_files, members, diagnostics, keep_going=options.keep_going, skipped=skipped
    )
    rules = merge_rules(hand, derive_rules(module, docs, hand))
    stubs = requirement_stubs(module, docs, rules)
    text, stub, report = render_module(
        module, engines, docs, rules, stubs, _banner(module, options)
    )
    report["rules"] = rules_report(rules, stubs, skipped)
    return Result(module, engines, docs, rules, text, stub, diagnostics, report)


class _PageReader:
    """The reference pages, read here or (``parallel``) in a second process.

    Reading ~900 pages takes about as long as parsing the header; on a machine
    with two cores both can happen at once. One plain child process and a pipe
    (not a process pool): closing ends it at once, whatever state the run is in,
    and leaves no pool threads behind to fail at interpreter exit.
    """

    def __init__(self, dirs: Sequence[Path], parallel: bool) -> None:
        self.dirs = tuple(dirs)
        self.process: multiprocessing.process.BaseProcess | None = None
        self.answer: multiprocessing.connection.Connection | None = None
        if parallel and self.dirs and (os.cpu_count() or 1) > 1:
            try:
                self._start()
            except BaseException:  # Ctrl-C just now: build() never gets to close()
                self.close()
                raise

    def _start(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.answer, sender = context.Pipe(duplex=False)
        try:
            self.process = context.Process(
                target=_send_pages, args=(self.dirs, sender), name="page reader", daemon=True
            )
            # Signals stay blocked across the fork until the child ignores Ctrl-C.
            with _signals_blocked():
                self.process.start()
        finally:
            sender.close()  # the child's copy is the only writer: EOF if it dies

    def index(self, diagnostics: Diagnostics) -> DocIndex:
        if self.answer is None:
            return load_docs(list(self.dirs), diagnostics)
        try:
            pages, warnings, error = self.answer.recv()
        except EOFError:  # the child died without an answer: read the pages here
            pages, warnings, error = _read_pages(self.dirs)
        if error is not None:
            raise GeneratorError(*error)
        for loc, message in warnings:
            diagnostics.warn(loc, message)
        return DocIndex.from_pages(pages)

    def close(self) -> None:
        if self.answer is not None:
            self.answer.close()
            self.answer = None
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join(2)
            if self.process.is_alive():  # pragma: no cover - SIGTERM is not ignored there
                self.process.kill()
                self.process.join()
            self.process = None


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM in this thread (POSIX); a child forked meanwhile starts so."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _send_pages(dirs: Sequence[Path], sender: multiprocessing.connection.Connection) -> None:
    """The child process: read the pages and send them back once."""
    # Ctrl-C reaches the whole process group: the parent decides, and ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (fork)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        sender.send(_read_pages(dirs))
    except (BrokenPipeError, EOFError):
        pass  # the parent is gone or no longer wants the pages
    finally:
        sender.close()


def _read_pages(dirs: Sequence[Path]) -> tuple[list, list, tuple[Loc | None, str] | None]:
    """Pages, warnings, and the error if there was one (plain data: an exception
    with our constructor does not cross processes)."""
    diagnostics = Diagnostics()
    try:
        index = load_docs(list(dirs), diagnostics)
    except GeneratorError as error:
        return [], [], (error.loc, error.message)
    return list(index.pages), [(w.loc, w.message) for w in diagnostics.warnings], None


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


def _banner(module: ir.Module, options: Options) -> tuple[str, ...]:
    lines = [
        f"Generated by d3dkmt-codegen {__version__} from {module.header}"
        f" ({', '.join(module.files)}).",
        f"Command: {options.command}",
        "ABIs: x64 and x86 (MSVC layouts); do not edit: regenerate instead.",
    ]
    if module.interface_version:
        lines.append(f"Interface version: {INTERFACE_VERSION} = {module.interface_version}")
    return tuple(lines)


__all__ = ["ABIS", "Options", "Result", "build"]
