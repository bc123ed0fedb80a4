"""The command line: ``d3dkmt-codegen generate`` and ``d3dkmt-codegen check``.

Input problems are ``GeneratorError``s, caught here once: one
``file:line:col: error: ...`` line, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from . import __version__
from .errors import GeneratorError
from .pipeline import Options, Result, build

EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2


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


def write_atomically(files: Mapping[Path, str]) -> None:
    """Write every file or none: all go to temporary files beside their targets
    first, and are renamed into place only when all of them are written."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            staged.append((temp, target))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
    except BaseException:
        for temp, _ in staged:
            Path(temp).unlink(missing_ok=True)
        raise
    for temp, target in staged:
        os.replace(temp, target)


def _report(result: Result, strict: bool) -> None:
    for warning in result.diagnostics.warnings:
        print(warning, file=sys.stderr)
    if strict and result.diagnostics.warnings:
        raise GeneratorError(None, f"{len(result.diagnostics.warnings)} warning(s) with --strict")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``d3dkmt-codegen`` and ``python -m generator``.

    Example::

        d3dkmt-codegen generate --header sdk/km/d3dkmthk.h --docs ddi/d3dkmthk --out out/
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    # One run builds many small objects (AST, IR) that all live until the end:
    # the cyclic collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if collecting:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    out = args.out or default_out()
    try:
        result = build(_options(args))
        _report(result, args.strict)
        files = outputs(result)
        if args.command == "check":
            return _check(out, files)
        written = {out / name: text for name, text in files.items()}
        if args.layout_json:
            written[args.layout_json] = json.dumps(result.layout_json(), indent=1) + "\n"
        if args.report_json:
            written[args.report_json] = json.dumps(result.report, indent=1) + "\n"
        try:
            write_atomically(written)
        except OSError as exc:
            where = exc.filename or out
            raise GeneratorError(None, f"cannot write {where}: {exc.strerror}") from None
        print(result.summary())
    except GeneratorError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(str(out / name) for name in files)}")
    return EXIT_OK


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
