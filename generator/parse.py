"""Stage 2: parse preprocessed C with pycparser. The only module that imports it.

Also parses the bodies of object-like macros as C expressions, so that lowering
can compute ``#define`` constants with the same machinery as enum values.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

from pycparser import c_ast, c_lexer, c_parser

from .errors import Diagnostics, GeneratorError, Loc
from .preprocess import MacroDef

ast = c_ast  # lowering walks these node classes

_ERROR = re.compile(r"^(.*?):(\d+):(\d+): (.*)$", re.S)
_LINE_MARK = re.compile(r'^#line (\d+) "(.*)"\s*$')
_IDENT_BEFORE = re.compile(r"([A-Za-z_]\w*)\s*$")
# A macro body worth trying as a constant expression: no strings, braces or ';'.
_EXPR_LIKE = re.compile(r"^[\w\s()+\-*/%<>&|^~!?:'.,]+$")
_MAX_OPAQUE = 200
# Brackets ((), [], {}) nested deeper than this are an error. pycparser recurses
# about 8 Python frames per parenthesis and stops near 120 of them; the C standard
# asks for 63 levels of parentheses and of nested structs, the SDK uses 6.
MAX_NESTING = 100
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_BRACKET_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
# Tokens the parser may hold before it drops those of the declarations it has read.
_TOKENS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Parsed:
    """The AST of one translation unit and the names made opaque to parse it."""

    ast: c_ast.FileAST
    opaque_names: tuple[str, ...]


@functools.cache  # asked for every node's place, of a handful of files
def file_name(coord_file: str | None) -> str:
    """The display name of a file named in a pycparser coord (its base name)."""
    if not coord_file:
        return "<unknown>"
    return coord_file if coord_file.startswith("<") else PurePath(coord_file).name


def loc_of(node: c_ast.Node) -> Loc:
    """The ``Loc`` of an AST node."""
    coord = node.coord
    if coord is None:
        return Loc("<unknown>")
    return Loc(file_name(coord.file), coord.line or 0, coord.column or 0)


def parse(text: str, diagnostics: Diagnostics) -> Parsed:
    """Parse preprocessed text; a name used but never declared becomes opaque.

    libdxg's d3dkmthk.h really does use ``D3DKMT_DISPLAYPORT_OPERATION_HEADER``
    without declaring it; a warning and an incomplete struct keep the run going.
    """
    opaque: dict[str, Loc] = {}
    lines = text.split("\n")
    check_nesting(lines)
    parser = _Parser() if _Parser.can_look_ahead else c_parser.CParser()
    while True:
        prefix = _opaque_declarations(opaque)
        try:
            tree = parser.parse(prefix + text, "<input>")
            found: dict[str, Loc] = {}
            for name, coord in getattr(parser, "undeclared", []):
                where = Loc(file_name(coord.file), coord.line or 0, coord.column or 0)
                diagnostics.warn(
                    where, f"'{name}' is used but never declared; made it an opaque type"
                )
                found[name] = where
            if found:
                with _plain_parser() as declaring:
                    declared = declaring.parse(_opaque_declarations(found), "<input>")
                tree.ext[:0] = declared.ext
                opaque.update(found)
            _release(parser)
            return Parsed(tree, tuple(opaque))
        except RecursionError:
            # A shape the bracket limit does not cover (a long chain of '*', say).
            loc, _ = _stuck_token(parser)
            raise GeneratorError(loc, "declaration nested too deeply for the parser") from None
        except c_parser.ParseError as exc:
            loc, message = _split_error(str(exc))
            index = _line_index(lines)  # (only an error needs it)
            if loc is None or not loc.line:
                loc, name = _stuck_token(parser)
            else:
                name = _undeclared_name(loc, lines, index)
            if loc is None:
                # pycparser's "At end of input": the header ends inside a declaration.
                loc, message = _end_of(index, lines), "unexpected end of the header"
            if message.startswith("Comments are not supported"):
                # pcpp passes a comment through only when its '*/' never comes.
                message = "unterminated /* comment"
            if name is None or name in opaque or len(opaque) >= _MAX_OPAQUE:
                raise GeneratorError(loc, f"syntax error: {message}") from None
            diagnostics.warn(loc, f"'{name}' is used but never declared; made it an opaque type")
            opaque[name] = loc


def _opaque_declarations(opaque: Mapping[str, Loc]) -> str:
    # Each opaque type is declared at its first use, so errors about it point there.
    return "".join(
        f'#line {loc.line} "{loc.file}"\ntypedef struct {name} {name};\n'
        for name, loc in opaque.items()
    )


def check_nesting(lines: Sequence[str]) -> None:
    """Raise a located error where brackets nest deeper than ``MAX_NESTING``.

    pycparser would hit Python's recursion limit and say nothing useful; checking
    the depth first costs a few milliseconds on the SDK's headers.
    """
    text = "\n".join(lines)
    brackets = _NOT_BRACKET.sub("", _LITERAL.sub("", text))
    if brackets.count("(") + brackets.count("[") + brackets.count("{") <= MAX_NESTING:
        return
    steps = map(_BRACKET_STEP.__getitem__, brackets)  # (C loops: a Python one costs more)
    if max(itertools.accumulate(steps), default=0) <= MAX_NESTING:
        return
    file, line_no, depth = "<input>", 0, 0
    for line in lines:
        mark = _LINE_MARK.match(line)
        if mark:
            line_no, file = int(mark.group(1)) - 1, file_name(mark.group(2))
            continue
        line_no += 1
        for col, char in enumerate(_LITERAL.sub(lambda m: " " * len(m.group(0)), line), 1):
            if char in "([{":
                depth += 1
                if depth > MAX_NESTING:
                    raise GeneratorError(
                        Loc(file, line_no, col),
                        f"brackets nested more than {MAX_NESTING} deep (parentheses, "
                        "[] and struct or union bodies count alike)",
                    )
            elif char in ")]}":
                depth -= 1


def _end_of(index: dict[tuple[str, int], int], lines: Sequence[str]) -> Loc:
    """Just past the last character of the text, in its original file."""
    (file, line_no), position = max(index.items(), key=lambda item: item[1])
    return Loc(file, line_no, len(lines[position]) + 1)


def _common_tokens() -> re.Pattern[str] | None:
    """Blanks, then an identifier or an operator whose token pycparser 3.12's
    lexer would pick without its master regex; None for another pycparser."""
    fixed = getattr(c_lexer, "_fixed_tokens_by_first", None)
    fields = getattr(c_lexer.Token, "__dataclass_fields__", {})
    # (3.11, the one for Python 3.10, has that lexer too, but tokens without their file)
    if fixed is None or not hasattr(c_lexer.CLexer, "_match_token") or "filename" not in fields:
        return None
    # Its master regex can match at no other first character of a fixed token
    # but '.' (.5), '/' (comments) and '[' ('[[' opens an attribute).
    literals = [entry.literal for first, bucket in fixed.items() if first not in ".[/"
                for entry in bucket]  # fmt: skip
    literals.sort(key=len, reverse=True)  # the longest first, as its buckets are
    operators = "|".join(re.escape(literal) for literal in literals)
    # An identifier followed by a quote may be a prefix (L"...", u8'x'): not common
    # (and no shorter part of it either).
    identifier = r"[a-zA-Z_$][0-9a-zA-Z_$]*(?![0-9a-zA-Z_$'\"])"
    return re.compile(rf"([ \t\f\v\n]*)(?:(?P<ID>{identifier})|(?P<OP>{operators}))?")


_COMMON_TOKENS = _common_tokens()
_FIXED_TYPES = {entry.literal: entry.tok_type for entry in getattr(c_lexer, "_fixed_tokens", ())}


class _Lexer(c_lexer.CLexer):
    """pycparser 3.12's lexer, reading the tokens most of a header is made of
    (identifiers, keywords, operators, and the blanks before them) with one regex
    match, not its per-character loop and two-way longest match. Anything else
    (numbers, strings, directives, attributes, errors) is left to it. Either way
    the tokens, positions and errors are the lexer's own."""

    def token(self) -> c_lexer.Token | None:
        if self._pending_tok is not None or self._in_attribute:
            return super().token()
        text, pos = self._lexdata, self._pos
        match = _COMMON_TOKENS.match(text, pos)
        start = match.end(1)
        if start != pos:
            newlines = text.count("\n", pos, start)
            if newlines:
                self._lineno += newlines
                self._line_start = text.rfind("\n", pos, start) + 1
            self._pos = start
        kind = match.lastgroup
        if kind is None:
            return super().token()
        value = match.group(kind)
        kind = self._keyword_map.get(value, "ID") if kind == "ID" else _FIXED_TYPES[value]
        self._pos = match.end()
        return c_lexer.Token(
            kind, value, self._lineno, start - self._line_start + 1, self._filename
        )


_LEXER = _Lexer if _COMMON_TOKENS is not None else c_lexer.CLexer


@contextmanager
def _plain_parser() -> Iterator[c_parser.CParser]:
    """pycparser's own parser, with the faster lexer where it applies; released
    when done with (see ``_release``)."""
    parser = c_parser.CParser(lexer=_LEXER)
    try:
        yield parser
    finally:
        _release(parser)


def _release(parser: c_parser.CParser) -> None:
    """Break the cycle a parser makes with its lexer (whose error callback is the
    parser's method), so that reference counting frees both, and the text the
    lexer holds: a build runs without the cyclic GC, and lowering makes a parser
    for every alignment it reads."""
    parser.clex = parser._tokens = None  # type: ignore[assignment]


class _Parser(c_parser.CParser):
    """pycparser, taking a name never declared where a type goes (before a
    declarator's name or ``*``) as an incomplete struct, so that one pass parses
    a header that uses such a name (libdxg does).

    pycparser 3.12 classifies identifiers as it peeks at them, which is where this
    hooks in; older ones classify in the lexer, without lookahead, and ``parse``
    falls back to parsing again with the name declared.
    """

    can_look_ahead = hasattr(c_parser.CParser, "_classify_identifier")

    def __init__(self) -> None:
        super().__init__(lexer=_LEXER)

    def parse(self, text: str, filename: str = "", debug: bool = False) -> c_ast.FileAST:
        self.undeclared: list[tuple[str, object]] = []
        return super().parse(text, filename, debug)

    def _parse_translation_unit(self) -> list[c_ast.Node]:
        # pycparser's loop, dropping the tokens of each declaration once it is read:
        # its stream keeps every token for backtracking, which never reaches back
        # past a declaration (only _undeclared_type looks one token back). Kept, they
        # were a third of a big header's peak memory.
        ext: list[c_ast.Node] = []
        stream = self._tokens
        while self._peek() is not None:
            ext.extend(self._parse_external_declaration())
            if stream._index > _TOKENS_KEPT:
                del stream._buffer[: stream._index - 1]
                stream._index = 1
        return ext

    def _peek(self, k: int = 1):  # noqa: ANN202
        # pycparser's own _peek and its token stream's peek in one (the parser peeks
        # at every token many times: method calls less each), with the check where
        # it classifies a token. The stream keeps every token it has read, and
        # reads the next one only when asked for it (errors name the lexer's file).
        stream = self._tokens
        pos = stream._index + k - 1
        buffer = stream._buffer
        if k == 1 and pos == len(buffer):
            tok = self.clex.token()
            buffer.append(tok)
        else:
            tok = buffer[pos] if k > 0 and pos < len(buffer) else stream.peek(k)
        if tok is not self._typedef_checked_token:
            kind = tok.type if tok is not None else None
            if kind == "ID" and self._undeclared_type(tok, k, pos):
                self._scope_stack[0][tok.value] = True
                self.undeclared.append((tok.value, self._tok_coord(tok)))
            if kind == "ID" or kind == "TYPEID":
                self._classify_identifier(tok)
            else:
                self._typedef_checked_token = tok  # all that classifying does to others
        return tok

    def _undeclared_type(self, tok, k: int, pos: int) -> bool:  # noqa: ANN001
        for scope in self._scope_stack:
            if tok.value in scope:
                return False
        before = self._tokens._buffer[pos - 1] if pos else None
        if before is not None and before.type in ("STRUCT", "UNION", "ENUM", "PERIOD", "ARROW"):
            return False  # a tag or a member, not a type name
        after = self._tokens.peek(k + 1)
        return after is not None and after.type in ("ID", "TYPEID", "TIMES")


def parse_macros(
    macros: Sequence[MacroDef], typedef_names: Collection[str]
) -> dict[str, c_ast.Node]:
    """Parse each macro body that looks like an expression; skip the others.

    All candidates go through one parse; should that fail, each is tried alone.
    ``typedef_names`` is looked into, never walked: lower passes its whole table
    for every alignment it reads.
    """
    candidates = [m for m in macros if _EXPR_LIKE.match(m.body) and m.name not in typedef_names]
    prefix = _typedefs_used(" ".join(m.body for m in candidates), typedef_names)

    def unit(items: Sequence[MacroDef]) -> str:
        return prefix + "".join(f"int {m.name} = ({m.body});\n" for m in items)

    with _plain_parser() as parser:
        # A body nested past pycparser's recursion is not a constant we can use either.
        try:
            tree = parser.parse(unit(candidates), "<macros>")
            return {d.name: d.init for d in tree.ext if isinstance(d, c_ast.Decl)}
        except (c_parser.ParseError, RecursionError):
            pass
        result: dict[str, c_ast.Node] = {}
        for macro in candidates:
            try:
                tree = parser.parse(unit([macro]), "<macros>")
            except (c_parser.ParseError, RecursionError):
                continue
            result[macro.name] = tree.ext[-1].init
        return result


def _stuck_token(parser: c_parser.CParser) -> tuple[Loc | None, str | None]:
    """Where the parser stopped, for errors pycparser reports without a line.

    "Invalid specifier list" (an unknown type name starting a member) carries no
    coordinates; the next token is the culprit. This reads pycparser's token
    stream, a private detail of the pinned version.
    """
    try:
        tok = parser._tokens.peek(1)
    except AttributeError:  # another pycparser: keep the error without a place
        return None, None
    if tok is None:
        return None, None
    # pycparser 3.12 tokens carry their file; 3.11's leave it to the lexer.
    file = getattr(tok, "filename", None) or getattr(parser.clex, "filename", None)
    loc = Loc(file_name(file), getattr(tok, "lineno", 0) or 0, getattr(tok, "column", 0) or 0)
    return loc, tok.value if tok.type == "ID" else None


def parse_size_asserts(text: str, typedef_names: Collection[str]) -> list[c_ast.Typedef]:
    """Only the ``C_ASSERT`` lines of a preprocessed text, parsed on their own.

    The x86 view of a header differs from the x64 one in little more than these;
    parsing just them (with the x64 typedef names declared) spares a full parse.
    """
    lines = text.split("\n")
    wanted = []
    for (file, line_no), index in _line_index(lines).items():
        if "__C_ASSERT__" in lines[index]:
            wanted.append(f'#line {line_no} "{file}"\n{lines[index]}\n')
    if not wanted:
        return []
    prefix = _typedefs_used("".join(wanted), typedef_names)
    with _plain_parser() as parser:
        tree = parser.parse(prefix + "".join(wanted), "<asserts>")
    return [node for node in tree.ext if getattr(node, "name", None) == "__C_ASSERT__"]


def _typedefs_used(text: str, typedef_names: Collection[str]) -> str:
    """Declarations of the typedef names ``text`` uses, so that casts parse."""
    words = sorted(set(re.findall(r"[A-Za-z_]\w*", text)))
    return "".join(f"typedef int {name};\n" for name in words if name in typedef_names)


def _split_error(text: str) -> tuple[Loc | None, str]:
    match = _ERROR.match(text)
    if not match:
        return None, text
    file, line, col, message = match.groups()
    return Loc(file_name(file), int(line), int(col)), message.strip()


def _line_index(lines: list[str]) -> dict[tuple[str, int], int]:
    """Map ``(file, line)`` of the original sources to an index into ``lines``."""
    index: dict[tuple[str, int], int] = {}
    file, line_no = "<input>", 0
    for i, line in enumerate(lines):
        mark = _LINE_MARK.match(line)
        if mark:
            line_no, file = int(mark.group(1)) - 1, file_name(mark.group(2))
            continue
        line_no += 1
        index.setdefault((file, line_no), i)
    return index


def _undeclared_name(
    loc: Loc | None, lines: list[str], index: dict[tuple[str, int], int]
) -> str | None:
    """The identifier just before a parse error, if that is what broke the parse."""
    if loc is None or (loc.file, loc.line) not in index:
        return None
    line = lines[index[(loc.file, loc.line)]]
    match = _IDENT_BEFORE.search(line[: max(loc.col - 1, 0)])
    if not match:
        return None
    name = match.group(1)
    keywords = {"struct", "union", "enum", "const", "volatile", "unsigned", "signed", "int",
                "char", "short", "long", "void", "float", "double", "typedef", "static",
                "extern", "return", "sizeof"}  # fmt: skip
    return None if name in keywords else name
