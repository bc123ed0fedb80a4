"""Stage 1: run the C preprocessor (pcpp) over the prelude and the header.

Besides the preprocessed text, this stage keeps what a preprocessor would throw
away but users need, in side tables keyed by ``(file, line)`` of the original
source: the header's comments (``// in: ...``) and the SAL annotations
(``_In_``, ``_Field_size_(Count)``), which are left undefined so that pcpp keeps
them, then blanked out of the text before pycparser sees it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import pcpp
from pcpp.preprocessor import OutputDirective

from . import cpp_lexer
from .errors import GeneratorError, Loc, option_error
from .inputs import file_digest
from .sal import SAL_NAME

PRELUDE_NAME = "<prelude>"
# gcc stops at 200 nested #includes; pcpp recurses about 4 Python frames per
# level, so a cycle without include guards would exhaust the stack near 250.
MAX_INCLUDE_DEPTH = 100
_MACRO_NAME = re.compile(r"[A-Za-z_]\w*(?:\([\w\s,.]*\))?")
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*")

# Per ABI: what the compiler itself would predefine for an MSVC target.
ABI_DEFINES: Mapping[str, Mapping[str, str]] = {
    "x64": {"_WIN32": "1", "_MSC_VER": "1930", "_M_X64": "100", "_M_AMD64": "100"},
    "x86": {"_WIN32": "1", "_MSC_VER": "1930", "_M_IX86": "600"},
    # gcc for Linux x86-64 (WSL 2): no _WIN32, so libdxg's D3DKMT_PTR becomes an
    # 8-byte union and D3DKMT_ALIGN64 an __attribute__((aligned(8))). libdxg tests
    # only _WIN32 and __cplusplus; the rest is what gcc predefines, for other headers.
    "wsl": {"__linux__": "1", "__x86_64__": "1", "__LP64__": "1", "__GNUC__": "12"},
}

# Macros that tell one architecture from another, and the directives testing them.
ARCH_MACROS = frozenset(
    "_WIN64 _AMD64_ _X86_ _M_X64 _M_AMD64 _M_IX86 _M_ARM64 _ARM64_ _IA64_".split()
)
_CONDITIONALS = frozenset({"if", "ifdef", "ifndef", "elif"})
_BRANCHING = _CONDITIONALS | {"else", "endif"}
# Directives that need words after them (pcpp reads the first unchecked), and the error.
_NEEDS_WORDS = {
    "define": "no macro name given in #define",
    "undef": "no macro name given in #undef",
    "ifdef": "no macro name given in #ifdef",
    "ifndef": "no macro name given in #ifndef",
    "if": "#if with no expression",
}
# (each name starts with "_": a literal first character keeps the search fast,
# and a look-behind would not; see _arch_words)
_ARCH_WORD = re.compile(r"_(?:{})(?!\w)".format("|".join(sorted(m[1:] for m in ARCH_MACROS))))
# What an architecture-dependent group may not hold to be re-read on its own:
# anything changing the preprocessor's state for the text after it (macros,
# included files, line numbers, __COUNTER__), trigraphs and digraphs that could
# hide such a directive.
_STATEFUL = re.compile(
    r"#\s*(?:define|undef|include|include_next|import|line|\d)\b|#\s*pragma\s+once\b"
    r"|\?\?=|%:|__COUNTER__|_Pragma"
)
_LINE_DIRECTIVE = re.compile(r"#[ \t]*(?:line\b|\d)")

# Headers of the Windows SDK/WDK whose content the prelude already provides.
SYSTEM_HEADERS = frozenset(
    name.lower()
    for name in (
        "winapifamily.h windows.h windef.h minwindef.h winnt.h winbase.h wingdi.h "
        "winuser.h ntdef.h ntddk.h wdm.h ntifs.h ntstatus.h basetsd.h guiddef.h "
        "sal.h specstrings.h driverspecs.h winerror.h winternl.h wtypes.h "
        "wtypesbase.h initguid.h devpropdef.h stdint.h stddef.h stdbool.h "
        "ntddvdeo.h winioctl.h d3d9types.h d3d9caps.h dxgitype.h dxgiformat.h "
        "d3dukmdt_wsl.h"
    ).split()
)

LINE_MARK = re.compile(r'^#line (\d+) "(.*)"\s*$')
# Tokens that can hold "//" without starting a comment, and a "//" comment with
# the lines a backslash at its end joins to it (pcpp would end it at the newline).
_COMMENT_OR_LITERAL = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|/\*.*?\*/|//(?:\\[ \t]*\n|[^\n])*',
    re.S,
)
_CONTINUED_LINE_COMMENT = re.compile(r"//[^\n]*\\[ \t]*\n")
_SPLICE = re.compile(r"\\[ \t]*\n")

# Conditions that select a platform: Windows (_WIN32) or not (WSL's libdxg side).
_TEST = r"^(!)?\s*(?:defined\s*\(?\s*)?(?:{})\s*\)?$"
_WINDOWS_TEST = re.compile(_TEST.format(r"_WIN32"))
_LINUX_TEST = re.compile(_TEST.format(r"__linux|__linux__|__gnu_linux__|__unix__"))


@dataclass(frozen=True, slots=True)
class Annotation:
    """One SAL annotation as written, e.g. ``_Field_size_(AllocationCount)``."""

    name: str
    args: str
    loc: Loc

    def __str__(self) -> str:
        return f"{self.name}({self.args})" if self.args else self.name


@dataclass(frozen=True, slots=True)
class MacroDef:
    """An object-like ``#define`` from the user's headers, body already expanded."""

    name: str
    body: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class PlatformBranch:
    """Lines ``first..last`` of ``file`` that only one platform compiles.

    ``platform`` is "windows" (``#ifdef _WIN32``) or "wsl" (``#ifndef _WIN32``,
    ``#ifdef __linux__``: the header's non-Windows side, which is WSL's);
    ``directive`` is the test as written, at ``loc``.
    """

    file: str
    first: int
    last: int
    platform: str
    directive: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Preprocessed:
    """The output of the preprocess stage for one ABI."""

    text: str
    annotations: Mapping[tuple[str, int], tuple[Annotation, ...]]
    annotation_only: frozenset[tuple[str, int]]
    comments: Mapping[tuple[str, int], str]
    macros: tuple[MacroDef, ...]
    header_files: tuple[str, ...]
    warnings: tuple[tuple[Loc, str], ...] = ()
    arch_dependent: bool = False  # the header tests _WIN64, _AMD64_, _X86_, ...
    # (file name, path, sha256 of its bytes) of every header file read: the
    # provenance names them, the cache checks them
    sources: tuple[tuple[str, str, str], ...] = ()
    # Where the header selects a platform, and which lines hold a directive:
    # what tells a declaration's comment, and its platform, from other lines.
    platforms: tuple[PlatformBranch, ...] = ()
    directive_lines: frozenset[tuple[str, int]] = frozenset()
    # (file, line, col) of a '*' -> the width in bytes its __ptr32/__ptr64 gives it
    pointer_sizes: Mapping[tuple[str, int, int], int] = field(default_factory=dict)
    # What another ABI's view needs: see size_assert_view()
    rerun: _Rerun | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _ArchGroup:
    """An outermost ``#if`` ... ``#endif`` that tests the architecture, at lines
    ``first..last`` of the file named ``name`` (``source`` as its tokens spell it).
    ``macros``: the macros in effect at its ``#if``; None in a skipped branch."""

    source: str
    name: str
    first: int
    last: int
    macros: dict | None


@dataclass(frozen=True, slots=True)
class _Rerun:
    """How a header was preprocessed, and its architecture-dependent groups."""

    header: Path
    include_dirs: tuple[Path, ...]
    defines: Mapping[str, str]
    header_text: str | None
    groups: tuple[_ArchGroup, ...]
    texts: Mapping[str, str]  # file name -> its text as pcpp read it
    sites: Mapping[str, tuple[int, ...]]  # file name -> where it was included
    define_words: Mapping[str, str]
    blocker: str | None  # why the groups cannot be re-read alone


def source_text(data: bytes) -> str:
    """The text of a source file as MSVC reads it: UTF-16 when it starts with that
    byte-order mark, otherwise UTF-8 (a UTF-8 BOM dropped, stray bytes replaced:
    they are harmless in comments and a located syntax error anywhere else)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n")


def splice_line_comments(text: str, file: str) -> tuple[str, list[tuple[Loc, str]]]:
    """Join the lines a ``//`` comment ending in a backslash continues onto.

    C splices backslash-newlines before it finds comments, so MSVC and gcc read
    the next line as part of the comment; pcpp would read it as code. Each joined
    line is left blank, so every other line keeps its number; a warning says so.
    """
    if _CONTINUED_LINE_COMMENT.search(text) is None:
        return text, []
    warnings: list[tuple[Loc, str]] = []
    pieces: list[str] = []
    pos = 0
    for match in _COMMENT_OR_LITERAL.finditer(text):
        token = match.group(0)
        if not token.startswith("//") or "\n" not in token:
            continue
        joined = token.count("\n")
        line = text.count("\n", 0, match.start()) + 1
        col = match.start() - text.rfind("\n", 0, match.start())
        following = f"line {line + 1}" if joined == 1 else f"lines {line + 1}-{line + joined}"
        warnings.append(
            (Loc(file, line, col), f"'//' comment ends in a backslash, so it goes on to "
             f"{following} (as MSVC and gcc read it)")
        )  # fmt: skip
        pieces += [text[pos : match.start()], _SPLICE.sub(" ", token), "\n" * joined]
        pos = match.end()
    pieces.append(text[pos:])
    return "".join(pieces), warnings


def prelude_text() -> str:
    """The built-in Windows prelude (``generator/data/prelude.h``)."""
    return resources.files("generator").joinpath("data/prelude.h").read_text("utf-8")


_FALLBACK = re.compile(r"^/\* fallback: (\w+) \*/\n", re.M)


def fallbacks() -> dict[str, str]:
    """Name -> C declaration of each fallback type (``generator/data/fallbacks.h``)."""
    text = resources.files("generator").joinpath("data/fallbacks.h").read_text("utf-8")
    parts = _FALLBACK.split(text)
    return {parts[i]: parts[i + 1].strip() + "\n" for i in range(1, len(parts), 2)}


def declares(text: str, name: str) -> bool:
    """Does preprocessed C text declare the type ``name`` (``} NAME`` or ``typedef ... NAME;``)?"""
    # Two searches, each led by a literal, run many times faster than one alternation.
    if name not in text:
        return False
    if re.search(rf"\}}\s*{name}\b", text):
        return True
    return re.search(rf"typedef[^;{{}}]*\b{name}\s*[;,]", text) is not None


def _with_fallbacks(prelude: str, header: str) -> str:
    """The prelude's text plus the fallback types the header does not declare itself."""
    missing = [decl for name, decl in fallbacks().items() if not declares(header, name)]
    if not missing:
        return prelude
    return prelude + f'#line 1 "{PRELUDE_NAME}"\n' + "".join(missing)


class _Preprocessor(pcpp.Preprocessor):
    """pcpp with our error reporting, comment capture and system-header policy."""

    def __init__(self) -> None:
        super().__init__()
        self.line_directive = "#line"
        self.compress = 0
        self.comments: dict[tuple[str, int], list[str]] = {}
        self.errors: list[GeneratorError] = []
        self.warnings: list[tuple[Loc, str]] = []
        self.arch_dependent = False
        self.files_read: list[str] = []
        self.digests: dict[str, str] = {}  # path -> sha256 of the bytes read from it
        self.open_files: list[str] = []  # the #include chain being read
        self.defining: str | None = None  # the -D option being defined
        self.define_words: dict[str, str] = {}  # identifier in a -D value -> that -D
        self.directive_words: set[str] = set()  # of the #if or #elif being read
        self.platforms: list[PlatformBranch] = []
        self.directive_lines: set[tuple[str, int]] = set()
        # Per file, the open conditionals: [platform of this branch, its first
        # line, platform of an #else, the directive, its loc, the #if's line].
        self._branches: dict[str, list[list]] = {}
        # For another ABI's view (size_assert_view): the groups testing the
        # architecture, each file's text and include site, and what rules out
        # re-reading only the groups.
        self.arch_groups: list[_ArchGroup] = []
        self._arch_group: list | None = None  # [source, name, first, depth, macros]
        self.texts: dict[str, str] = {}
        self.sites: dict[str, tuple[int, ...]] = {}
        self.rerun_blocker: str | None = None
        self._names: dict[str, str] = {}

    def group_lines(self, input, abssource):  # noqa: ANN001, ANN201
        # pcpp's lines of tokens, read without PLY's per-token calls (a third of pcpp's time)
        return cpp_lexer.group_lines(input, abssource)

    def name_of(self, source: str | None) -> str:
        if not source:
            return "<command line>"
        name = self._names.get(source)
        if name is None:  # (asked for every comment and directive: Path() is slow)
            name = self._names[source] = source if source == PRELUDE_NAME else Path(source).name
        return name

    def on_error(self, file: str, line: int, msg: str) -> None:
        if self.defining is not None:
            self.errors.append(option_error("-D", self.defining, msg))
        elif (not file or file == "unknown") and self.lastdirective is not None:
            # Tokens of a -D value carry no place: the directive using them does.
            where = self.lastdirective
            self.errors.append(
                GeneratorError(Loc(self.name_of(where.source), where.lineno, 1), msg)
            )
        else:
            # pcpp reports lines only; its errors are about directives, which start a line.
            loc = Loc(self.name_of(file), line, 1 if line else 0)
            self.errors.append(GeneratorError(loc, msg))
        self.return_code += 1

    def on_file_open(self, is_system_include: bool, includepath: str):  # noqa: ANN201
        # The files being read are the first include_depth (pcpp's count) of those opened.
        del self.open_files[self.include_depth :]
        if len(self.open_files) >= MAX_INCLUDE_DEPTH:
            self._too_deep()
        # Included files are read as the header is (encoding, '//' continuations).
        with open(includepath, "rb") as stream:  # an OSError: pcpp tries the next folder
            data = stream.read()
        self.files_read.append(includepath)
        self.digests[includepath] = hashlib.sha256(data).hexdigest()
        name = self.name_of(includepath)
        text, warnings = splice_line_comments(source_text(data), name)
        self.warnings += warnings
        parent = self.sites.get(self.name_of(self.open_files[-1])) if self.open_files else None
        self.note_file(name, text, None if parent is None else (*parent, self.lastdirective.lineno))
        self.open_files.append(includepath)
        return io.StringIO(text)

    def note_file(self, name: str, text: str, site: tuple[int, ...] | None) -> None:
        """Keep a file's text and where it sits in the output, for another ABI's view."""
        if name in self.texts or site is None:
            self.rerun_blocker = self.rerun_blocker or f"{name} is read more than once"
        self.texts[name] = text
        if site is not None:
            self.sites[name] = site

    def _too_deep(self) -> None:
        """Without include guards a cycle would recurse until Python's stack ends:
        stop at the #include being read (pcpp drops it on this exception)."""
        current = self.open_files[-1]
        earlier = self.open_files[-2::-1]
        start = len(earlier) - 1 - earlier.index(current) if current in earlier else -1
        chain = self.open_files[start:]
        names = " -> ".join(self.name_of(f) for f in chain)
        cycle = f" (a cycle without include guards: {names})" if len(chain) > 1 else ""
        directive = self.lastdirective
        self.errors.append(
            GeneratorError(
                Loc(self.name_of(directive.source), directive.lineno or 0, 1),
                f"#include nested more than {MAX_INCLUDE_DEPTH} deep{cycle}",
            )
        )
        raise OutputDirective(pcpp.Action.IgnoreAndRemove)

    def on_unknown_macro_in_expr(self, ident: str) -> int:
        # C reads an unknown name in #if as 0, but one that a -D value brought in is
        # a mistyped option (-D DXGKDDI_INTERFACE_VERSION=banana): say so.
        option = self.define_words.get(ident)
        if option is not None and ident not in self.directive_words:
            directive = self.lastdirective
            loc = Loc(self.name_of(directive.source), directive.lineno or 0, 1)
            self.errors.append(
                GeneratorError(
                    loc,
                    f"-D {option}: '{ident}' is neither a number nor a macro "
                    "defined before this #if",
                )  # fmt: skip
            )
        return 0

    def on_include_not_found(
        self, is_malformed: bool, is_system_include: bool, curdir: str, includepath: str
    ) -> str:
        # The prelude stands in for the SDK's own base headers.
        if not is_malformed and Path(includepath).name.lower() in SYSTEM_HEADERS:
            raise OutputDirective(pcpp.Action.IgnoreAndRemove)
        directive = self.lastdirective
        where = Loc(self.name_of(directive.source), directive.lineno or 0, 1)
        if is_system_include and not is_malformed:
            # Another system header: go on without it; what it would have declared
            # shows up as undeclared names (warned about, made opaque).
            self.warnings.append(
                (where, f"system header <{includepath}> not found; going on without it "
                 "(add its folder with -I DIR to read it)")
            )  # fmt: skip
            raise OutputDirective(pcpp.Action.IgnoreAndRemove)
        self.on_error(
            directive.source,
            directive.lineno,
            f"cannot find include file '{includepath}' (add its folder with -I DIR)",
        )
        raise OutputDirective(pcpp.Action.IgnoreAndRemove)

    def on_directive_handle(self, directive, toks, ifpassthru, precedingtoks):  # noqa: ANN001, ANN201
        if not toks and directive.value == "pragma":
            # A bare #pragma does nothing, and pcpp reads its first word unchecked.
            raise OutputDirective(pcpp.Action.IgnoreAndRemove)
        if not toks and directive.value in _NEEDS_WORDS:
            if sys._getframe(1).f_locals.get("enable", True):  # (a skipped group's is no error)
                loc = Loc(self.name_of(directive.source), directive.lineno or 1, 1)
                raise GeneratorError(loc, _NEEDS_WORDS[directive.value])
        if directive.value in ("if", "elif"):  # (only those evaluate an expression)
            self.directive_words = {t.value for t in toks}
        if directive.source != PRELUDE_NAME:
            self._note_arch(directive, toks, sys._getframe(1))
            self._track_platform(directive, toks)
        return super().on_directive_handle(directive, toks, ifpassthru, precedingtoks)

    def _note_arch(self, directive, toks, caller) -> None:  # noqa: ANN001
        """Does the header itself ask which architecture it is? Then the x86 view
        may differ from the x64 one (C_ASSERTs under _AMD64_, say): note where.
        ``caller`` is pcpp's frame reading the directive."""
        kind = directive.value
        if kind in _CONDITIONALS and any(t.value in ARCH_MACROS for t in toks):
            self.arch_dependent = True
            if self._arch_group is None:
                self._open_arch_group(directive, caller)
        elif kind == "endif" and self._arch_group is not None:
            self._close_arch_group(directive, caller)

    def _open_arch_group(self, directive, caller) -> None:  # noqa: ANN001
        """Note where an ``#if`` chain testing the architecture starts (at its ``#if``,
        also when an ``#elif`` is the first to test it), and the macros there."""
        name = self.name_of(directive.source)
        stack = self._branches.get(name, [])
        if directive.value == "elif":
            if not stack:
                return  # a misplaced #elif: pcpp reports it
            first, depth = stack[-1][5], len(stack)
        else:
            first, depth = directive.lineno, len(stack) + 1
        # Whether this chain is read at all is pcpp's local state (pinned pcpp 1.30).
        state = caller.f_locals if caller.f_code.co_name == "parsegen" else {}
        enclosing = state.get("enable")
        if directive.value == "elif":
            ifstack = state.get("ifstack")
            enclosing = getattr(ifstack[-1], "enable", None) if ifstack else None
        if not isinstance(enclosing, bool):
            self.rerun_blocker = self.rerun_blocker or "pcpp's state is not readable"
            enclosing = True
        macros = None
        if enclosing:
            macros = dict(self.macros)
            if self._open_invocation(state.get("chunk")):
                self.rerun_blocker = self.rerun_blocker or f"{name}:{first}: inside a macro call"
        self._arch_group = [directive.source, name, first, depth, macros]

    def _close_arch_group(self, directive, caller) -> None:  # noqa: ANN001
        source, name, first, depth, macros = self._arch_group
        if self.name_of(directive.source) != name or len(self._branches.get(name, ())) != depth:
            return
        if macros is not None and caller.f_code.co_name == "parsegen":
            if self._open_invocation(caller.f_locals.get("chunk")):
                self.rerun_blocker = self.rerun_blocker or f"{name}:{first}: inside a macro call"
        self.arch_groups.append(_ArchGroup(source, name, first, directive.lineno, macros))
        self._arch_group = None

    def _open_invocation(self, chunk) -> bool:  # noqa: ANN001
        """Does the text pcpp holds back (``chunk``) end inside a macro call?

        Then a group's lines would be part of the call's arguments, whose
        expansion lands on the line where the call starts, outside the group.
        """
        if not isinstance(chunk, list):
            return True
        depth = 0
        last = None
        for tok in chunk:
            if tok.type in self.t_WS or tok.type in self.t_COMMENT:
                continue
            depth += (tok.value == "(") - (tok.value == ")")
            last = tok
        if depth:
            return True
        macro = self.macros.get(last.value) if last is not None else None
        return macro is not None and macro.arglist is not None

    def _track_platform(self, directive, toks) -> None:  # noqa: ANN001
        """Note the branches of ``#if``s that test the platform (pcpp calls this for
        every directive, also in skipped branches, so the nesting stays right)."""
        file, line = self.name_of(directive.source), directive.lineno or 0
        self.directive_lines.add((file, line))
        stack = self._branches.setdefault(file, [])
        kind = directive.value
        if kind not in _BRANCHING:
            return
        test = " ".join("".join(t.value for t in toks).split())
        if kind in ("if", "ifdef", "ifndef"):
            if kind != "if":
                test = ("!" if kind == "ifndef" else "") + test
            platform = _platform_test(test)
            other = {"windows": "wsl", "wsl": "windows"}.get(platform or "")
            written = f"#{kind} {' '.join(''.join(t.value for t in toks).split())}"
            stack.append([platform, line + 1, other, written, Loc(file, line), line])
        elif kind in ("elif", "else", "endif") and stack:
            branch = stack[-1]
            if branch[0]:
                self.platforms.append(
                    PlatformBranch(file, branch[1], line - 1, branch[0], branch[3], branch[4])
                )
            if kind == "endif":
                stack.pop()
            elif kind == "else":
                branch[:3] = [branch[2], line + 1, None]
                branch[3] = f"{branch[3]} ... #else"
            else:
                branch[:3] = [_platform_test(test), line + 1, None]
                branch[3], branch[4] = f"#elif {test}", Loc(file, line)

    def on_directive_unknown(self, directive, toks, ifpassthru, precedingtoks):  # noqa: ANN001, ANN201
        if directive.value == "error":
            message = "".join(t.value for t in toks).strip()
            self.on_error(directive.source, directive.lineno, f"#error {message}")
            return True
        if directive.value == "warning":
            return True
        return None  # #pragma and friends pass through to the parser

    def on_comment(self, tok) -> bool:  # noqa: ANN001
        text = tok.value
        if text.startswith("//"):
            body = text[2:]
        else:
            body = text[2:-2]
        key = (self.name_of(tok.source), tok.lineno)
        self.comments.setdefault(key, []).append(body.strip())
        return False


def preprocess(
    header: Path,
    *,
    abi: str,
    include_dirs: Sequence[Path] = (),
    defines: Mapping[str, str] = {},  # noqa: B006 - never mutated
    header_text: str | None = None,
) -> Preprocessed:
    """Preprocess ``header`` for ``abi`` ('x64' or 'x86').

    Example::

        pp = preprocess(Path("d3dkmthk.h"), abi="x64", include_dirs=[Path("inc")])
        pp.annotations[("d3dkmthk.h", 812)]  # SAL written on that line
    """
    header = Path(header)
    given_text = header_text
    pp = _Preprocessor()
    pp.add_path(str(header.parent))
    for directory in include_dirs:
        pp.add_path(str(directory))
    for name, value in ABI_DEFINES[abi].items():
        pp.define(f"{name} {value}")
    _define_options(pp, defines)
    if header_text is None:
        try:
            data = header.read_bytes()
        except OSError as exc:
            raise option_error("--header", header, f"cannot read: {exc.strerror}") from None
        header_text = source_text(data)
        pp.digests[str(header)] = hashlib.sha256(data).hexdigest()
    header_text, splice_warnings = splice_line_comments(
        header_text.replace("\r\n", "\n"), pp.name_of(str(header))
    )
    pp.warnings += splice_warnings
    pp.parse(prelude_text(), PRELUDE_NAME)
    prelude_out = io.StringIO()
    pp.write(prelude_out)
    pp.note_file(pp.name_of(str(header)), header_text, (1,))
    pp.open_files = [os.path.abspath(str(header))]
    pp.parse(header_text, str(header))
    header_out = io.StringIO()
    _write(pp, header_out, Loc(pp.name_of(str(header)), 1, 1))
    if pp.errors:
        raise pp.errors[0]
    body = header_out.getvalue()
    combined = _with_fallbacks(prelude_out.getvalue(), body) + body

    text, pointer_sizes = _declspecs(combined, pp)
    text, annotations, annotation_only = _strip_annotations(text, pp)
    read = [f for f in pp.files_read if Path(f).is_file()]
    paths = {pp.name_of(f): f for f in reversed([str(header), *read])}
    header_files = tuple(dict.fromkeys(pp.name_of(f) for f in [str(header), *read]))
    sources = tuple(
        (
            name,
            str(Path(paths[name]).resolve()),
            pp.digests.get(paths[name]) or file_digest(Path(paths[name])),
        )
        if Path(paths[name]).is_file()
        else (name, "", hashlib.sha256(header_text.encode("utf-8")).hexdigest())
        for name in header_files
    )
    return Preprocessed(
        text=text,
        annotations=annotations,
        annotation_only=annotation_only,
        comments={key: " ".join(parts) for key, parts in pp.comments.items()},
        macros=_user_macros(pp),
        header_files=header_files,
        warnings=tuple(pp.warnings),
        arch_dependent=pp.arch_dependent,
        sources=sources,
        platforms=tuple(pp.platforms),
        directive_lines=frozenset(pp.directive_lines),
        pointer_sizes=pointer_sizes,
        rerun=_Rerun(
            header,
            tuple(include_dirs),
            dict(defines),
            given_text,
            tuple(pp.arch_groups),
            pp.texts,
            pp.sites,
            dict(pp.define_words),
            pp.rerun_blocker,
        ),
    )


def size_assert_view(pp: Preprocessed, abi: str) -> Preprocessed:
    """The ``C_ASSERT`` lines of the header of ``pp`` (preprocessed for another
    ABI) as ``abi`` reads them, in order, each after a ``#line`` mark.

    When ``pp`` tests the architecture only in ``#if`` groups that change nothing
    for the text after them (no macros defined, no files included), every other
    line reads the same for ``abi``: only those groups are preprocessed again,
    each alone with the macros in effect at its ``#if`` (the architecture's own
    swapped). Otherwise, or when something may escape that reasoning, the whole
    header is. Either way errors (an ``#error`` under ``_X86_``) are those of a
    whole pass.

    Example::

        x86 = size_assert_view(preprocess(Path("d3dkmthk.h"), abi="x64"), "x86")
        x86.text  # '#line 3811 "d3dkmthk.h"\ntypedef char __C_ASSERT__[...];\n...'
    """
    rerun = pp.rerun
    assert rerun is not None, "pp comes from preprocess()"
    blocker = rerun.blocker or _outside_groups(rerun)
    if blocker is None:
        lines = _groups_reread(pp, rerun, abi)
        if lines is not None:
            return replace(pp, text="".join(lines[0]), pointer_sizes=lines[1])
    whole = preprocess(
        rerun.header,
        abi=abi,
        include_dirs=rerun.include_dirs,
        defines=rerun.defines,
        header_text=rerun.header_text,
    )
    return replace(whole, text="".join(_marked(line) for line in _assert_lines(whole.text)))


def _marked(line: tuple[str, int, str]) -> str:
    file, line_no, text = line
    return f'#line {line_no} "{file}"\n{text}\n'


def _assert_lines(text: str) -> list[tuple[str, int, str]]:
    """(file name, line, text) of each line holding a ``C_ASSERT``, in order: the
    first text line of each source line, as the parse stage indexes them."""
    if "__C_ASSERT__" not in text:
        return []
    found = []
    seen: set[tuple[str, int]] = set()
    file, line_no = PRELUDE_NAME, 0
    for line in text.split("\n"):
        if line.startswith("#line"):
            mark = LINE_MARK.match(line)
            if mark:
                line_no, file = int(mark.group(1)) - 1, Path(mark.group(2)).name
                continue
        line_no += 1
        if "__C_ASSERT__" in line and (file, line_no) not in seen:
            found.append((file, line_no, line))
        seen.add((file, line_no))
    return found


def _outside_groups(rerun: _Rerun) -> str | None:
    """Why the text outside the groups might read differently for another ABI:
    an architecture macro named outside them (not in a comment or a string), in
    a ``-D``, or a ``#line`` that would confuse where lines are."""
    for name, value in rerun.defines.items():
        if next(_arch_words(f"{name} {value}"), None):
            return f"-D {name}={value} names an architecture macro"
    ranges: dict[str, list[tuple[int, int]]] = {}
    for group in rerun.groups:
        ranges.setdefault(group.name, []).append((group.first, group.last))
    for name, text in rerun.texts.items():
        if any(_line_start(text, m.start()) for m in _LINE_DIRECTIVE.finditer(text)):
            return f"{name} has a #line directive"
        spans = None
        for word in _arch_words(text):
            line = text.count("\n", 0, word.start()) + 1
            if any(first <= line <= last for first, last in ranges.get(name, ())):
                continue
            if spans is None:
                spans = [m.span() for m in _COMMENT_OR_LITERAL.finditer(text)]
            if not any(start <= word.start() < end for start, end in spans):
                return f"{name}:{line}: {word.group(0)} outside an #if"
    return None


def _arch_words(text: str) -> Iterator[re.Match]:
    """Where ``text`` names an architecture macro (not as the end of a longer name)."""
    for word in _ARCH_WORD.finditer(text):
        before = text[word.start() - 1] if word.start() else " "
        if not (before.isalnum() or before == "_"):
            yield word


def _line_start(text: str, pos: int) -> bool:
    """Is ``text[pos]`` the first character of its line but blanks?"""
    start = text.rfind("\n", 0, pos) + 1
    return not text[start:pos].strip(" \t")


@functools.cache
def _abi_macros(abi: str) -> dict:
    """The architecture macros (``_WIN64``, ``_X86_``) the prelude defines for ``abi``.

    Only its directives are read: they alone decide which macros it defines.
    """
    lines = []
    continued = False
    for line in prelude_text().split("\n"):
        keep = continued or line.lstrip().startswith("#")
        lines.append(line if keep else "")
        continued = keep and line.endswith("\\")
    pp = _Preprocessor()
    for name, value in ABI_DEFINES[abi].items():
        pp.define(f"{name} {value}")
    pp.parse("\n".join(lines), PRELUDE_NAME)
    pp.write(io.StringIO())
    return {name: macro for name, macro in pp.macros.items() if name in ARCH_MACROS}


class _GroupReader(_Preprocessor):
    """pcpp for one group's lines alone: tokens numbered from ``first_line``."""

    first_line = 1

    def group_lines(self, input, abssource):  # noqa: ANN001, ANN201
        offset = self.first_line - 1
        for line in super().group_lines(input, abssource):
            for tok in line:
                tok.lineno += offset
            yield line

    def _note_arch(self, directive, toks, caller) -> None:  # noqa: ANN001
        # The group's own #endif: its text must not end inside a macro call either.
        stack = self._branches.get(self.name_of(directive.source), ())
        if directive.value == "endif" and len(stack) == 1:
            chunk = caller.f_locals.get("chunk") if caller.f_code.co_name == "parsegen" else None
            if self._open_invocation(chunk):
                self.rerun_blocker = "the group ends inside a macro call"


def _write(reader: _Preprocessor, out: io.StringIO, start: Loc) -> None:
    """pcpp's ``write``, its failures made located errors (at the directive it read
    last, else ``start``): macros or ``#if`` expressions nested past its recursion,
    and directives it reads unchecked (``#define F(a,)``) that ``on_directive_handle``
    has not stopped first."""
    try:
        reader.write(out)
    except (RecursionError, IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
        directive = reader.lastdirective
        loc = start
        if directive is not None:
            loc = Loc(reader.name_of(directive.source), directive.lineno or 1, 1)
        if isinstance(exc, RecursionError):
            raise GeneratorError(loc, "nested too deeply for the preprocessor") from None
        what = f"#{directive.value} directive" if directive is not None else "header"
        raise GeneratorError(loc, f"the preprocessor cannot read this {what}") from None


def _groups_reread(
    pp: Preprocessed, rerun: _Rerun, abi: str
) -> tuple[list[str], dict[tuple[str, int, int], int]] | None:
    """The marked ``C_ASSERT`` lines of ``abi``'s view, and its pointer widths, with
    only the groups preprocessed again; None if a group cannot be read alone."""
    arch = _abi_macros(abi)
    reader = _GroupReader()
    reader.define_words = dict(rerun.define_words)
    pointer_sizes = dict(pp.pointer_sizes)
    inside: dict[str, list[tuple[int, int]]] = {}
    keyed: list[tuple[tuple[int, ...], str]] = []
    for group in rerun.groups:
        inside.setdefault(group.name, []).append((group.first, group.last))
        if group.macros is None:
            continue  # in a branch no ABI reads
        lines = rerun.texts[group.name].split("\n")[group.first - 1 : group.last]
        text = "\n".join(lines) + "\n"
        if _STATEFUL.search(text) or lines[-1].endswith("\\") or "/*" in lines[-1]:
            return None
        reader.macros = {k: v for k, v in group.macros.items() if k not in ARCH_MACROS}
        reader.macros.update(arch)
        reader._branches = {}
        reader.first_line = group.first
        reader.parse(text, group.source)
        out = io.StringIO()
        _write(reader, out, Loc(group.name, group.first, 1))
        if reader.errors:
            raise reader.errors[0]
        if reader.rerun_blocker:
            return None
        text, sizes = _declspecs(out.getvalue(), reader)
        text, _, _ = _strip_annotations(text, reader)
        pointer_sizes.update(sizes)
        site = rerun.sites[group.name]
        keyed += [((*site, group.first), _marked(line)) for line in _assert_lines(text)]
    for order, line in enumerate(_assert_lines(pp.text)):
        file, line_no, _ = line
        if file == PRELUDE_NAME:
            key: tuple[int, ...] = (0, order)
        elif file in rerun.sites:
            if any(first <= line_no <= last for first, last in inside.get(file, ())):
                continue  # this ABI's own line of a group
            key = (*rerun.sites[file], line_no)
        else:
            return None
        keyed.append((key, _marked(line)))
    keyed.sort(key=lambda item: item[0])  # stable: a group's lines keep their order
    return [text for _, text in keyed], pointer_sizes


def _define_options(pp: _Preprocessor, defines: Mapping[str, str]) -> None:
    """Define the ``-D NAME=VALUE`` macros; a bad one is an error naming the option."""
    for name, value in defines.items():
        option = f"{name}={value}"
        if not _MACRO_NAME.fullmatch(name):
            raise option_error("-D", option, f"'{name}' is not a macro name")
        pp.defining = option
        pp.define(f"{name} {value}")
        pp.defining = None
        if pp.errors:
            raise pp.errors[0]
        for word in _IDENTIFIER.findall(value):
            pp.define_words.setdefault(word, option)


def _platform_test(test: str) -> str | None:
    """The platform a condition selects ("windows", "wsl"), or None for other tests."""
    for pattern, platform in ((_WINDOWS_TEST, "windows"), (_LINUX_TEST, "wsl")):
        match = pattern.match(test)
        if match:
            if not match.group(1):
                return platform
            return "wsl" if platform == "windows" else "windows"
    return None


# __declspec(align(n)) arrives as this marker (see the prelude); __ptr32/__ptr64 as is.
ALIGN_MARKER = "__d3dkmt_align"
ALIGN_PRAGMA = "d3dkmt_align"
_POINTER_WIDTHS = {"__ptr32": 4, "__ptr64": 8}
_TOKEN = re.compile(
    r"(?P<mark>^[ \t]*#[^\n]*)|(?P<id>[A-Za-z_]\w*)|(?P<num>\.?\d[\w.]*)"
    r'|(?P<str>"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')|(?P<nl>\n)|(?P<punct>\S)',
    re.M,
)
_POINTER_QUALIFIERS = frozenset({"const", "volatile", "restrict", *_POINTER_WIDTHS})


@dataclass(slots=True)
class _Token:
    text: str
    start: int
    end: int
    file: str  # as the last #line mark spells it
    line: int
    col: int

    @property
    def is_name(self) -> bool:
        return self.text[:1].isalpha() or self.text[:1] == "_"


def _declspecs(text: str, pp: _Preprocessor) -> tuple[str, dict[tuple[str, int, int], int]]:
    """Read MSVC's ``__declspec(align(n))`` and ``__ptr32``/``__ptr64`` out of the text.

    pycparser knows neither. A pointer's width goes to a side table keyed by its
    ``*``. MSVC gives an alignment to the record when it is written on a struct
    or union definition (``typedef struct DECLSPEC_ALIGN(16) _X {...} X;``,
    ``DECLSPEC_ALIGN(8) struct {...};``), else to each declarator (a member, a
    typedef): the first becomes ``#pragma d3dkmt_align(n)`` inside the body, a
    member's ``_Alignas(n)``, a typedef's ``#pragma d3dkmt_align(n, declarators)``
    before it. Columns and lines are kept (``#line`` after each inserted pragma).
    """
    if ALIGN_MARKER not in text and "__ptr" not in text:
        return text, {}
    tokens = _tokens(text)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    sizes: dict[tuple[str, int, int], int] = {}
    for index, tok in enumerate(tokens):
        if tok.text in _POINTER_WIDTHS:
            edits.append((tok.start, tok.end, " " * (tok.end - tok.start)))
            star = index - 1
            while star >= 0 and tokens[star].text in _POINTER_QUALIFIERS:
                star -= 1
            if star >= 0 and tokens[star].text == "*":
                where = tokens[star]
                sizes[(pp.name_of(where.file), where.line, where.col)] = _POINTER_WIDTHS[tok.text]
        elif tok.text == ALIGN_MARKER:
            edits += _align_edits(tokens, index)
    pieces: list[str] = []
    pos = 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        pieces += [text[pos:start], replacement]
        pos = max(pos, end)
    pieces.append(text[pos:])
    return "".join(pieces), sizes


def _tokens(text: str) -> list[_Token]:
    """C tokens with their source place; a directive line is one token."""
    tokens: list[_Token] = []
    file, line, line_start = PRELUDE_NAME, 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "nl":
            line, line_start = line + 1, match.end()
            continue
        col = match.start() - line_start + 1
        tokens.append(_Token(match.group(0), match.start(), match.end(), file, line, col))
        if kind == "mark":
            mark = LINE_MARK.match(match.group(0).strip())
            if mark:
                file, line = mark.group(2), int(mark.group(1)) - 1
    return tokens


def _group_end(tokens: list[_Token], index: int) -> int:
    """Index just past the balanced group opening at ``tokens[index]``."""
    pairs = {"(": ")", "{": "}"}
    opening, closing = tokens[index].text, pairs[tokens[index].text]
    depth = 0
    for end in range(index, len(tokens)):
        if tokens[end].text == opening:
            depth += 1
        elif tokens[end].text == closing:
            depth -= 1
            if depth == 0:
                return end + 1
    return len(tokens)


def _group_start(tokens: list[_Token], index: int) -> int:
    """Index of the opening of the balanced group closing at ``tokens[index]``."""
    pairs = {")": "(", "}": "{"}
    closing, opening = tokens[index].text, pairs[tokens[index].text]
    depth = 0
    for start in range(index, -1, -1):
        if tokens[start].text == closing:
            depth += 1
        elif tokens[start].text == opening:
            depth -= 1
            if depth == 0:
                return start
    return 0


def _insertion(tokens: list[_Token], at: _Token, after: bool, pragma: str) -> tuple[int, int, str]:
    """An edit putting ``#pragma`` on a line of its own before or after ``at``,
    with a ``#line`` back to where the text goes on (columns kept)."""
    pos = at.end if after else at.start
    col = at.col + (at.end - at.start) if after else at.col
    text = f'\n#pragma {pragma}\n#line {at.line} "{at.file}"\n' + " " * (col - 1)
    return pos, pos, text


def _skip_specs(tokens: list[_Token], index: int) -> int:
    """Past any align markers and qualifiers from ``index`` on."""
    while index < len(tokens) and tokens[index].text in ("const", "volatile", ALIGN_MARKER):
        marker = tokens[index].text == ALIGN_MARKER
        if marker and index + 1 < len(tokens) and tokens[index + 1].text == "(":
            index = _group_end(tokens, index + 1)
        else:
            index += 1
    return index


def _definition_brace(tokens: list[_Token], index: int, args_end: int) -> int | None:
    """The '{' of the struct/union definition a marker is written on, if any."""
    keyword = _skip_specs(tokens, args_end)
    if keyword >= len(tokens) or tokens[keyword].text not in ("struct", "union"):
        # After the keyword? Step back over the markers written between.
        keyword = index - 1
        while keyword > 0 and tokens[keyword].text == ")":
            opening = _group_start(tokens, keyword)
            if tokens[opening - 1].text != ALIGN_MARKER:
                return None
            keyword = opening - 2
        if keyword < 0 or tokens[keyword].text not in ("struct", "union"):
            return None
    brace = _skip_specs(tokens, keyword + 1)
    if brace < len(tokens) and tokens[brace].is_name:
        brace = _skip_specs(tokens, brace + 1)  # the tag
    return brace if brace < len(tokens) and tokens[brace].text == "{" else None


def _align_edits(tokens: list[_Token], index: int) -> list[tuple[int, int, str]]:
    """The edits that carry one ``__declspec(align(n))`` marker to the parser."""
    marker = tokens[index]
    if index + 1 >= len(tokens) or tokens[index + 1].text != "(":
        return []
    args_end = _group_end(tokens, index + 1)
    value = " ".join(t.text for t in tokens[index + 2 : args_end - 1])
    span = tokens[args_end - 1].end - marker.start
    blank = (marker.start, tokens[args_end - 1].end, " " * span)
    # Where the declaration starts: after the ';', '{' or directive before it.
    start = index - 1
    while start >= 0:
        text = tokens[start].text
        if text in (")", "}"):
            start = _group_start(tokens, start) - 1
            continue
        if text == "(":
            return [blank]  # inside parentheses (a parameter, a cast): no layout
        if text in (";", "{") or text.startswith("#") or text.lstrip().startswith("#"):
            break
        start -= 1
    start += 1
    # On a struct or union definition (the marker before the keyword or after
    # it): the record's own alignment, as a pragma opening its body.
    brace = _definition_brace(tokens, index, args_end)
    if brace is not None:
        return [blank, _insertion(tokens, tokens[brace], True, f"{ALIGN_PRAGMA}({value})")]
    # Else each declarator's: a typedef's through a pragma before it, counting
    # the declarators it applies to; anything else's as alignas.
    end, commas, is_typedef = start, 0, False
    while end < len(tokens) and tokens[end].text != ";":
        text = tokens[end].text
        if text in ("(", "{"):
            end = _group_end(tokens, end)
            continue
        commas += text == ","
        is_typedef |= text == "typedef"
        end += 1
    if not is_typedef:
        return [(blank[0], blank[1], f"_Alignas({value})".ljust(span))]
    pragma = f"{ALIGN_PRAGMA}({value}, {commas + 1})"
    return [blank, _insertion(tokens, tokens[start], False, pragma)]


def _strip_annotations(
    text: str, pp: _Preprocessor
) -> tuple[str, dict[tuple[str, int], tuple[Annotation, ...]], frozenset[tuple[str, int]]]:
    """Blank out SAL annotations, recording each against its source line.

    Also returns the lines that held nothing but annotations: those belong to the
    declaration below them (``D3DKMT_PTR(_Field_size_(N)`` on a line of its own).
    """
    found: dict[tuple[str, int], list[Annotation]] = {}
    only: set[tuple[str, int]] = set()
    lines = text.split("\n")
    file, line_no = PRELUDE_NAME, 0
    for index, line in enumerate(lines):
        mark = LINE_MARK.match(line)
        if mark:
            line_no = int(mark.group(1)) - 1
            file = pp.name_of(mark.group(2))
            continue
        line_no += 1
        if "_" not in line or line.startswith("#"):
            continue
        pieces: list[str] = []
        pos = 0
        for match in SAL_NAME.finditer(line):
            if match.start() < pos:
                continue
            end, args = _call_args(line, match.end())
            found.setdefault((file, line_no), []).append(
                Annotation(match.group(0), args, Loc(file, line_no, match.start() + 1))
            )
            pieces.append(line[pos : match.start()])
            pieces.append(" " * (end - match.start()))
            pos = end
        if pieces:
            pieces.append(line[pos:])
            lines[index] = "".join(pieces)
            if not lines[index].strip():
                only.add((file, line_no))
    return "\n".join(lines), {k: tuple(v) for k, v in found.items()}, frozenset(only)


def _call_args(line: str, start: int) -> tuple[int, str]:
    """If ``line[start:]`` opens a balanced ``( ... )``, return its end and contents."""
    pos = start
    while pos < len(line) and line[pos] in " \t":
        pos += 1
    if pos >= len(line) or line[pos] != "(":
        return start, ""
    depth = 0
    for end in range(pos, len(line)):
        if line[end] == "(":
            depth += 1
        elif line[end] == ")":
            depth -= 1
            if depth == 0:
                return end + 1, " ".join(line[pos + 1 : end].split())
    return start, ""


def _user_macros(pp: _Preprocessor) -> tuple[MacroDef, ...]:
    """Object-like macros defined in the user's headers, with bodies expanded."""
    result = []
    for name, macro in pp.macros.items():
        # Macros of the prelude are not the header's; those from -D are (the user chose them).
        if macro.arglist is not None or macro.source == PRELUDE_NAME:
            continue
        if not macro.source and (name.startswith("__") or name in ABI_DEFINES["x64"].keys()
                                 | ABI_DEFINES["x86"].keys()):  # fmt: skip
            continue
        if not macro.value:
            continue
        tokens = pp.expand_macros([t for t in macro.value])
        body = "".join(t.value for t in tokens).strip()
        result.append(MacroDef(name, body, Loc(pp.name_of(macro.source), macro.lineno or 0)))
    result.sort(key=lambda m: (m.loc.file, m.loc.line, m.name))
    return tuple(result)
