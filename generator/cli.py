"""The command line: ``d3dkmt-codegen generate`` and ``d3dkmt-codegen check``.

Input problems are ``GeneratorError``s, caught here once: one
``file:line:col: error: ...`` line, exit status 2, nothing written. Output is
written all-or-nothing (``atomic.py``), also when the run is interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from . import __version__
from .atomic import WriteFailed, recover, write_atomically
from .errors import GeneratorError, option_error
from .pipeline import Options, Result, build

EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # what a shell reports for Ctrl-C


def sample_dir() -> Path:
    """The embedded sample: our own small d3dkmthk.h and one reference page."""
    return Path(str(resources.files("generator").joinpath("data/sample")))


def default_out() -> Path:
    """``generated/`` of the checkout (the committed output of the default run)."""
    return Path("generated")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="d3dkmt-codegen",
        description="Generate ctypes bindings for d3dkmthk.h with MSVC-exact layouts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("generate", "write the bindings (default: the embedded sample into generated/)"),
        ("check", "exit 1 if the output folder differs from what generate would write"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--header", type=Path, help="the d3dkmthk.h to read (default: sample)")
        sub.add_argument(
            "-I",
            dest="include_dirs",
            action="append",
            type=Path,
            default=[],
            metavar="DIR",
            help="another folder to search for #include files",
        )
        sub.add_argument(
            "-D",
            dest="defines",
            action="append",
            default=[],
            metavar="NAME[=VALUE]",
            help="define a macro, e.g. "
            "DXGKDDI_INTERFACE_VERSION=DXGKDDI_INTERFACE_VERSION_WDDM2_7",
        )
        sub.add_argument(
            "--docs",
            action="append",
            type=Path,
            default=[],
            metavar="DIR",
            help="a folder of reference pages (ns-*.md, ne-*.md, nf-*.md)",
        )
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
            help="also write the MSVC layouts of every record as JSON",
        )
        sub.add_argument(
            "--report-json",
            type=Path,
            metavar="FILE",
            help="also write documentation coverage and mismatches as JSON",
        )
        sub.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return parser


def _options(args: argparse.Namespace) -> Options:
    docs = tuple(args.docs)
    header = args.header
    if header is None:
        header = sample_dir() / "d3dkmthk.h"
        if not docs:
            docs = (sample_dir() / "docs",)
    defines = []
    for item in args.defines:
        name, _, value = item.partition("=")
        defines.append((name, value or "1"))
    rules = tuple(args.rules) if args.rules else None
    return Options(
        header=header,
        include_dirs=tuple(args.include_dirs),
        defines=tuple(defines),
        docs=docs,
        rules=rules,
        keep_going=args.keep_going,
        command=_command_line(args),
        parallel=True,
    )


def _command_line(args: argparse.Namespace) -> str:
    """The command as it goes in the banner: names of inputs only, no absolute paths."""
    parts = ["d3dkmt-codegen generate"]
    if args.header:
        parts.append(f"--header {args.header.name}")
    parts += [f"-D {d}" for d in args.defines]
    parts += [f"--docs {Path(d).name}" for d in args.docs]
    parts += [f"--rules {Path(r).name}" for r in args.rules or ()]
    return " ".join(parts)


def outputs(result: Result) -> dict[str, str]:
    """File name -> text of everything ``generate`` writes into the output folder."""
    return {f"{result.stem}.py": result.text, f"{result.stem}.pyi": result.stub}


def _report(result: Result, strict: bool) -> None:
    warnings = result.diagnostics.warnings
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
    args = _parser().parse_args(argv)
    # One run builds many small objects (AST, IR) that all live until the end:
    # the cyclic collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _terminate_cleanly():
            return _run(args)
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


def _run(args: argparse.Namespace) -> int:
    out = args.out or default_out()
    try:
        result = build(_options(args))
        _report(result, args.strict)
        files = outputs(result)
        if args.command == "check":
            recover(out)  # a killed generate's committed set first
            return _check(out, files)
        written = {out / name: text for name, text in files.items()}
        option = {path: ("--out", out) for path in written}
        if args.layout_json:
            written[args.layout_json] = json.dumps(result.layout_json(), indent=1) + "\n"
            option[args.layout_json] = ("--layout-json", args.layout_json)
        if args.report_json:
            written[args.report_json] = json.dumps(result.report, indent=1) + "\n"
            option[args.report_json] = ("--report-json", args.report_json)
        _write(written, option, out)
        print(result.summary())
    except GeneratorError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except _Reported:
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(str(out / name) for name in files)}")
    return EXIT_OK


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


def _check(out: Path, files: Mapping[str, str]) -> int:
    status = EXIT_OK
    for name, text in files.items():
        path = out / name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            status = EXIT_DIFFERENT
            diff = difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), str(path), f"{name} (generated)"
            )
            sys.stdout.writelines(list(diff)[:200])
    if status == EXIT_OK:
        print(f"{out} is up to date")
    else:
        print(f"{out} is out of date: run d3dkmt-codegen generate")
    return status
