"""The command line: ``d3dkmt-codegen generate`` and ``d3dkmt-codegen check``.

Input problems are ``GeneratorError``s, caught here once: one
``file:line:col: error: ...`` line, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import shlex
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from importlib import resources
from pathlib import Path

from . import __version__
from .atomic import WriteFailed, recover, write_atomically
from .cache import default_dir as default_cache_dir
from .diff import FORMATS as DIFF_FORMATS
from .diff import SHAPE_ERRORS, compare, unreadable
from .errors import COMMAND_LINE, GeneratorError, Loc, option_error
from .options import INTERFACE_VERSION, Options
from .outputs import Outputs, outputs
from .sdk import find_kit, installed_kit_root

# The stages (pcpp, pycparser, jinja2, the pages' readers) are imported only when
# a run has to build something: answered from the cache, it never loads them.

EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # what a shell reports for Ctrl-C


def sample_dir() -> Path:
    """The embedded sample: our own small d3dkmthk.h and one reference page."""
    return Path(str(resources.files("generator").joinpath("data/sample")))


def default_out() -> Path:
    """``generated/`` of the checkout (the committed output of the default run)."""
    return Path("generated")


def _input_options(sub: argparse.ArgumentParser, sides: bool = False) -> None:
    """The options that say which header to read and how: shared by every command."""
    if not sides:
        sub.add_argument("--header", type=Path, help="the d3dkmthk.h to read (default: sample)")
    sub.add_argument(
        "--sdk",
        type=Path,
        metavar="DIR",
        help="an installed Windows Kit (Windows Kits/10) or one version folder in it",
    )
    sub.add_argument(
        "--sdk-version", metavar="VERSION", help="the Kit version to read (default: the newest)"
    )
    _folders(sub, "-I", "another folder to search for #include files", dest="include_dirs")
    sub.add_argument(
        "-D",
        dest="defines",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="define a macro, e.g. DXGKDDI_INTERFACE_VERSION=DXGKDDI_INTERFACE_VERSION_WDDM2_7",
    )
    sub.add_argument(
        "--interface-version",
        metavar="NAME",
        help="the DXGKDDI interface version to generate for (WDDM2_7, or the full name)",
    )
    sub.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where to cache parsed headers, pages and outputs (default: the user's cache)",
    )
    sub.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    if sub.prog.split()[-1] != "show":  # show has its own --abi (columns)
        sub.add_argument(
            "--abi",
            choices=("windows", "wsl"),
            default="windows",
            help="windows: x64 and x86 layouts (default); wsl: Linux x86-64 under WSL 2, "
            "calling libdxcore.so (the header reads differently there: no _WIN32)",
        )
    if sides:
        for side in ("old", "new"):
            _folders(sub, f"--{side}-I", f"an include folder for the {side} side only",
                     dest=f"{side}_include_dirs")  # fmt: skip
            sub.add_argument(
                f"--{side}-D",
                dest=f"{side}_defines",
                action="append",
                default=[],
                metavar="NAME[=VALUE]",
                help=f"a macro for the {side} side only",
            )
            sub.add_argument(
                f"--{side}-interface-version",
                metavar="NAME",
                help=f"the interface version of the {side} side",
            )
    else:
        sub.add_argument(
            "--list-interface-versions",
            action="store_true",
            help="list the header's interface versions (name, value) and exit",
        )


def _folders(sub: argparse.ArgumentParser, flag: str, text: str, dest: str | None = None) -> None:
    """A repeatable folder option (``-I DIR``, ``--docs DIR``)."""
    kwargs = {"dest": dest} if dest else {}
    sub.add_argument(
        flag, action="append", type=Path, default=[], metavar="DIR", help=text, **kwargs
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="d3dkmt-codegen",
        description="Generate ctypes bindings for d3dkmthk.h with MSVC-exact layouts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("generate", "write the bindings (default: the embedded sample into generated/)"),
        ("check", "exit 1 if any output differs from what generate would write"),
    ):
        sub = commands.add_parser(name, help=text)
        _input_options(sub)
        _folders(sub, "--docs", "a folder of reference pages (ns-*.md, ne-*.md, nf-*.md)")
        sub.add_argument(
            "--rules",
            action="append",
            type=Path,
            default=None,
            metavar="FILE",
            help="a rules file (default: the shipped one); repeatable",
        )
        sub.add_argument(
            "--keep-going",
            action="store_true",
            help="drop rules that no longer fit the header, with a warning",
        )
        sub.add_argument(
            "--out",
            type=Path,
            default=None,
            metavar="DIR",
            help="output folder (default: generated/)",
        )
        sub.add_argument(
            "--layout-json",
            type=Path,
            metavar="FILE",
            help="also write the ABI snapshot (layouts, types, values) as JSON, for diff",
        )
        sub.add_argument(
            "--report-json",
            type=Path,
            metavar="FILE",
            help="also write documentation coverage and mismatches as JSON",
        )
        sub.add_argument("--strict", action="store_true", help="treat warnings as errors")
    show = commands.add_parser("show", help="print one record's layout, pahole-style")
    show.add_argument("name", metavar="NAME", help="the record: typedef name or tag")
    _input_options(show)
    show.add_argument("--abi", choices=("x64", "x86", "both", "wsl"), default="both")
    _folders(show, "--docs", "a folder of reference pages, to name the record's page")
    diff = commands.add_parser(
        "diff", help="list ABI changes between two headers (exit 1 if any breaks)"
    )
    diff.add_argument(
        "old",
        metavar="OLD",
        help="a header, a Kit folder, a --layout-json file, or a --sdk version",
    )
    diff.add_argument("new", metavar="NEW", help="the same kinds as OLD")
    _input_options(diff, sides=True)
    diff.add_argument("--format", choices=sorted(DIFF_FORMATS), default="text")
    return parser


def _defines(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    defines = []
    for item in items:
        name, _, value = item.partition("=")
        defines.append((name, value or "1"))
    return tuple(defines)


def _source(args: argparse.Namespace) -> tuple[Path | None, tuple[Path, ...], str | None]:
    """Header, extra include folders and SDK version from --header / --sdk; on Windows
    with neither, the newest installed Kit; else (None, ...): the sample."""
    if args.header is not None and args.sdk is not None:
        raise GeneratorError(COMMAND_LINE, "--header and --sdk both given: give one")
    root = args.sdk
    if args.header is None and root is None:
        root = installed_kit_root()
    if root is None:
        return args.header, (), None
    kit = find_kit(root, args.sdk_version)
    print(f"using {kit.header} (SDK version {kit.version or 'unknown'})", file=sys.stderr)
    return kit.header, kit.include_dirs, kit.version


def _options(args: argparse.Namespace) -> Options:
    docs = tuple(args.docs)
    header, kit_includes, sdk_version = _source(args)
    if header is None:
        header = sample_dir() / "d3dkmthk.h"
        if not docs and args.command != "show":
            docs = (sample_dir() / "docs",)
    rules = tuple(args.rules) if getattr(args, "rules", None) else None
    return Options(
        header=header,
        include_dirs=tuple(args.include_dirs) + kit_includes,
        defines=_defines(args.defines),
        docs=docs,
        rules=rules,
        keep_going=getattr(args, "keep_going", False),
        command=_command_line(args),
        parallel=True,
        interface_version=args.interface_version,
        sdk_version=sdk_version,
        cache_dir=_cache_dir(args),
        abis=_abis(args),
    )


def _abis(args: argparse.Namespace) -> tuple[str, ...]:
    """The module's ABIs: wsl alone (its own header text), else both Windows ones."""
    return ("wsl",) if args.abi == "wsl" else ("x64", "x86")


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    return args.cache_dir or default_cache_dir()


def _command_line(args: argparse.Namespace) -> str:
    """The command as it goes in the banner: names of inputs only, no absolute paths."""
    parts = ["d3dkmt-codegen generate"]
    if args.header:
        parts.append(f"--header {args.header.name}")
    if args.sdk:
        parts.append(f"--sdk {args.sdk.name}")
    if args.sdk_version:
        parts.append(f"--sdk-version {args.sdk_version}")
    parts += [f"-D {d}" for d in args.defines]
    if args.interface_version:
        parts.append(f"--interface-version {args.interface_version}")
    if args.abi == "wsl":
        parts.append("--abi wsl")
    parts += [f"--docs {Path(d).name}" for d in args.docs]
    parts += [f"--rules {Path(r).name}" for r in getattr(args, "rules", None) or ()]
    return " ".join(parts)


def all_outputs(result: Outputs, args: argparse.Namespace) -> dict[Path, str]:
    """Path -> text of every file these options write: the folder's and the JSON files."""
    out = args.out or default_out()
    files = {out / f"{result.stem}.py": result.module, out / f"{result.stem}.pyi": result.stub}
    if args.layout_json and result.layout_json is not None:
        files[args.layout_json] = result.layout_json
    if args.report_json and result.report_json is not None:
        files[args.report_json] = result.report_json
    return files


def _report(result: Outputs, strict: bool) -> None:
    warnings = result.warnings
    if strict and warnings:
        # The first warning is the error, in the same located form; the rest follow.
        first = warnings[0]
        more = f" ({len(warnings) - 1} more warning(s) below)" if len(warnings) > 1 else ""
        print(GeneratorError(first.loc, f"{first.message} [--strict]{more}"), file=sys.stderr)
        for warning in warnings[1:]:
            print(warning, file=sys.stderr)
        raise _Reported
    for warning in warnings:
        print(warning, file=sys.stderr)


class _Reported(Exception):
    """The error is printed already; exit with status 2."""


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C does, so temporary files and the page
    reader's process are cleaned up (their default would end the process at once)."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                previous[name] = signal.signal(getattr(signal, name), stop)
            except ValueError:  # not the main thread: leave signals alone
                break
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), signal.SIG_DFL if handler is None else handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``d3dkmt-codegen`` and ``python -m generator``.

    Example::

        d3dkmt-codegen generate --header sdk/km/d3dkmthk.h --docs ddi/d3dkmthk --out out/
    """
    as_program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    # One run builds many small objects (AST, IR) that all live until the end:
    # the cyclic collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        args = _parser().parse_args(argv)  # (argparse takes long enough for a Ctrl-C)
        with _terminate_cleanly():
            if args.command == "diff":
                return _diff(args)
            if args.command == "show":
                return _show(args)
            return _run(args, argv)
    except KeyboardInterrupt:
        print("d3dkmt-codegen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if collecting:
            gc.enable()
        if as_program:
            # The work is over and the process about to exit: a Ctrl-C now would
            # only print a KeyboardInterrupt traceback from the interpreter's shutdown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    out = args.out or default_out()
    try:
        options = _options(args)
        if args.list_interface_versions:
            print(_interface_listing(options))
            return EXIT_OK
        result = outputs(
            options, layout_json=bool(args.layout_json), report_json=bool(args.report_json)
        )
        _report(result, args.strict)
        files = all_outputs(result, args)
        if args.command == "check":
            recover(out)  # a killed generate's committed set first
            return _check(files, argv)
        _write(files, _options_of(files, args), out)
        print(result.summary)
    except GeneratorError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except _Reported:
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(str(path) for path in files)}")
    return EXIT_OK


def _options_of(files: Mapping[Path, str], args: argparse.Namespace) -> dict[Path, tuple]:
    """Which option named each output file (for an error writing it)."""
    out = args.out or default_out()
    option: dict[Path, tuple[str, Path]] = {path: ("--out", out) for path in files}
    for name, path in (("--layout-json", args.layout_json), ("--report-json", args.report_json)):
        if path is not None:
            option[path] = (name, path)
    return option


def _write(written: Mapping[Path, str], option: Mapping[Path, tuple[str, Path]], out: Path) -> None:
    """Write the set (journal in ``out``); a failure names the option it came from."""
    try:
        write_atomically(written, out)
    except WriteFailed as failed:
        by_path = {Path(path).absolute(): pair for path, pair in option.items()}
        name, value = by_path.get(failed.target, ("--out", out))
        what = f"cannot write {failed.target.name}" if name == "--out" else "cannot write"
        raise option_error(name, value, f"{what}: {failed.error.strerror}") from None
    except OSError as error:  # recovering an earlier run's files
        raise option_error("--out", out, f"cannot write: {error.strerror}") from None


def _interface_listing(options: Options) -> str:
    """``--list-interface-versions``: name and value of each, the one in effect marked."""
    from .pipeline import analyze, interface_versions

    defines = tuple((n, v) for n, v in options.defines if n != INTERFACE_VERSION)
    analysis = analyze(replace(options, defines=defines, interface_version=None))
    versions = interface_versions(analysis.module)
    if not versions:
        return f"{analysis.module.header} defines no {INTERFACE_VERSION}_* values"
    default = analysis.module.interface_version or ""
    prefix = INTERFACE_VERSION + "_"
    short = max(len(name) for name, _ in versions) - len(prefix)
    width = short + len(prefix)
    lines = []
    for name, value in versions:
        mark = "  (in effect)" if default.startswith(name + " ") else ""
        lines.append(f"{name.removeprefix(prefix):<{short}}  {name:<{width}}  0x{value:X}{mark}")
    return "\n".join(lines)


MAX_DIFF_LINES = 200


def _check(files: Mapping[Path, str], argv: Sequence[str]) -> int:
    status = EXIT_OK
    shown = left_out = 0
    for path, text in files.items():
        try:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError):
            current = ""
        if current == text:
            continue
        status = EXIT_DIFFERENT
        diff = list(
            difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), str(path), f"{path} (generated)"
            )
        )
        room = max(0, MAX_DIFF_LINES - shown)
        sys.stdout.writelines(diff[:room])
        shown += min(room, len(diff))
        left_out += max(0, len(diff) - room)
    if status == EXIT_OK:
        print(f"up to date: {', '.join(str(p) for p in files)}")
        return status
    if left_out:
        print(f"... {left_out} more diff line(s) left out")
    command = ["d3dkmt-codegen", "generate", *argv[argv.index("check") + 1 :]]
    print(f"out of date: run {shlex.join(command)}")
    return status


def _show(args: argparse.Namespace) -> int:
    from .pipeline import analyze
    from .show import show

    try:
        options = _options(args)
        if args.list_interface_versions:
            print(_interface_listing(options))
            return EXIT_OK
        analysis = analyze(options)
        abis = analysis.module.abis if args.abi in ("both", "wsl") else (args.abi,)
        layouts = {abi: analysis.layouts[abi] for abi in abis}
        sys.stdout.write(show(analysis.module, layouts, args.name, options.docs))
    except GeneratorError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    try:
        sides = []
        for side in ("old", "new"):
            try:
                sides.append(_diff_side(args, side))
            except GeneratorError as error:
                # Say which side: both may read the same header under other options.
                if error.message.startswith(side.upper() + " "):
                    raise
                raise GeneratorError(error.loc, f"{side} side: {error.message}") from None
        old, new = sides
    except GeneratorError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        report = compare(old, new, (args.old, args.new))
        text = DIFF_FORMATS[args.format](report)
    except SHAPE_ERRORS:
        print(_damaged_snapshot(args, {"old": old, "new": new}), file=sys.stderr)
        return EXIT_BAD_INPUT
    sys.stdout.write(text)
    return EXIT_DIFFERENT if report.breaking else EXIT_OK


def _damaged_snapshot(args: argparse.Namespace, sides: Mapping[str, dict]) -> GeneratorError:
    """The error for a diff whose snapshots cannot be compared: at the snapshot file
    that cannot be read (those made from a header here are whole)."""
    files = [side for side in sides if _is_snapshot_file(getattr(args, side))]
    for side in files:
        problem = unreadable(sides[side])
        if problem:
            return GeneratorError(Loc(getattr(args, side)), f"damaged ABI snapshot: {problem}")
    named = " and ".join(getattr(args, side) for side in files) or "the two sides"
    return GeneratorError(COMMAND_LINE, f"{named} cannot be compared (a damaged ABI snapshot?)")


def _is_snapshot_file(spec: str) -> bool:
    path = Path(spec)
    return path.suffix.lower() == ".json" and not path.is_dir()


def _diff_side(args: argparse.Namespace, side: str) -> dict:
    """One side of a diff as an ABI snapshot: read back, or made from a header."""
    from .pipeline import analyze
    from .snapshot import load_snapshot, snapshot

    spec = getattr(args, side)
    path = Path(spec)
    if _is_snapshot_file(spec):
        return load_snapshot(path)
    if path.is_file():
        header, includes, version = path, (), None
    elif path.is_dir() or args.sdk is None:
        if not path.is_dir():
            raise option_error(side.upper(), spec, "no such header, Kit folder or ABI snapshot")
        kit = find_kit(path, args.sdk_version)
        header, includes, version = kit.header, kit.include_dirs, kit.version
    else:
        kit = find_kit(args.sdk, spec)  # OLD and NEW name versions of the --sdk Kit
        header, includes, version = kit.header, kit.include_dirs, kit.version
    defines = dict(_defines(args.defines))
    defines.update(_defines(getattr(args, f"{side}_defines")))
    options = Options(
        header=header,
        include_dirs=(*args.include_dirs, *getattr(args, f"{side}_include_dirs"), *includes),
        defines=tuple(defines.items()),
        interface_version=getattr(args, f"{side}_interface_version") or args.interface_version,
        sdk_version=version,
        cache_dir=_cache_dir(args),
        abis=_abis(args),
    )
    analysis = analyze(options)
    return snapshot(analysis.module, analysis.layouts, analysis.provenance)
