"""Our faster lexers give the very tokens of the ones they stand in for:
generator.cpp_lexer those of pcpp's PLY lexer, parse._Lexer pycparser's; and the
parser built on them keeps no more than it needs, so that a build can run
without the cyclic GC."""

from __future__ import annotations

import gc
import random
from pathlib import Path

import pcpp
import pytest
from pycparser import c_lexer

from generator import cpp_lexer, parse
from generator.errors import Diagnostics
from generator.preprocess import prelude_text, preprocess

PIECES = [
    "a", "_b1", "0x1F", "12", "1e5", ".", "'", '"', "\\", "\\\n", "\n", " ", "\t", "/*",
    "*/", "//", "#", "##", "<", ">", "=", "^", "|", "&", "-", "+", "%", ":", "?", "(",
    ")", ",", ";", "{", "}", "[", "]", "L", "u8", "U", "@", "$", "é", "\r", "\x0c", "\x0b",
    "...", "~", "!", "int", "struct", "_Bool", "#line 5 \"f.h\"\n", "#pragma pack(1)\n",
    "[[", "]]", "__attribute__", "::", "->", ">>=", "<<", "x'", "'a'", '"s"',
]  # fmt: skip
TRICKY = {
    "strings": r'"a\"b" "\\" "tab\t" "\x41\101" L"wide" u8"utf" "unterminated' "\n" '"x',
    "continued string": '"abc\\\ndef" "a\\  \nb"\n',
    "chars": r"'a' '\'' '\\' L'x' '\n' 'ab' '''" "\n'\\\nq'\n",
    "comments": "/* one */ // line\n/* two\nlines */ x /* ** */ /**/ // \\\n",
    "unterminated comment": "a /* never closed\n b",
    "continuations": "#define A(x) \\\n  x + \\   \n  1\nA(2) \\\n",
    "numbers": "0x1ULL 0X1f 1e-5f 1.5 .5 1. 10UL 10lu 0777 1E+3L 0x 1.2.3 12345678901234567890",
    "operators": "a##b # ## ### ... -> <<= >>= ^= != == <= >= && || ++ -- += -= *= /= %= |= &=",
    "digraphs and trigraphs": "<: :> <% %> %: %:%: ??= ??( ??/ x",
    "odd characters": "@ $x ` \\ é ß 漢字 \u00a0 \u2028 \x0c \x0b \r mixed\u00e9name",
    "blank lines": "\n\n  \n\t\n x  \t\n",
    "no final newline": "int x;",
    "empty": "",
    "only newline": "\n",
    "one of each": "+ - * / % | & ~ ^ < > = ! ? ( ) [ ] { } . , ; : << >> -=\n' \n\" \n\\ x",
    # PLY's rule for '^=' is r'^=', an '=' at the very start of the text
    "equals at the start": "= a ^= b",
    "directives": '#include <a/b.h>\n#include "c.h"\n#if defined(X) && X > 1\n#endif\n',
}


def _ply_lines(text: str, source: str | None) -> list[list]:
    """pcpp's own group_lines, with its PLY lexer."""
    return list(pcpp.Preprocessor.group_lines(pcpp.Preprocessor(), text, source))


def _fields(lines: list[list]) -> list[list[dict]]:
    # PLY also hangs itself on the tokens its rule functions made (tok.lexer): nobody reads it
    return [[{k: v for k, v in vars(t).items() if k != "lexer"} for t in line] for line in lines]


def _check(text: str, source: str | None = "file.h") -> None:
    expected = _fields(_ply_lines(text, source))
    got = _fields(list(cpp_lexer.group_lines(text, source)))
    assert got == expected


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_inputs(name: str) -> None:
    _check(TRICKY[name])


def test_no_source() -> None:
    _check(TRICKY["strings"], None)


def test_each_type_is_met() -> None:
    """The tricky inputs reach every rule of the master regex and unmatched characters."""
    types = {tok.type for text in TRICKY.values() for line in cpp_lexer.group_lines(text, "")
             for tok in line}  # fmt: skip
    rules = set(filter(None, cpp_lexer.master_regex()[1])) - {"CPP_FLOAT"}  # (INTEGER wins)
    assert rules <= types
    assert {"@", "$", "`", "é"} <= types


def test_random_pcpp_fragments() -> None:
    """Random strings of C-ish pieces, where tokens meet in every order."""
    rng = random.Random(1)
    for _ in range(300):
        _check("".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 60))))


def test_prelude() -> None:
    _check(prelude_text(), "<prelude>")


def test_corpus_headers(corpus: Path) -> None:
    for header in sorted((corpus / "headers").glob("*/*.h")):
        _check(header.read_text("utf-8", errors="replace"), str(header))


# --- pycparser's tokens (parse._Lexer) ---


def _pycparser_tokens(lexer_class: type, text: str) -> list:
    """Every token (with the file the lexer is in after it) and every error."""
    out: list = []
    lexer = lexer_class(lambda msg, line, col: out.append(("error", msg, line, col)))
    lexer.input(text, "<input>")
    while (tok := lexer.token()) is not None:
        out.append((tok.type, tok.value, tok.lineno, tok.column, tok.filename, lexer.filename))
    return out


def _check_pycparser(text: str) -> None:
    assert _pycparser_tokens(parse._Lexer, text) == _pycparser_tokens(c_lexer.CLexer, text)


PYCPARSER_TRICKY = [
    "int x; unsigned long long y = 0x1ULL; float f = 1e-5f, g = .5, h = 1.;",
    'wchar_t *s = L"wide", *t = u8"x", *u = u"y", *v = U"z"; char c = L\'a\', d = u8\'b\';',
    'L \'a\' u8 "b" xL"c" _Bool b; _Alignas(8) int a; __int128 q; $dollar x$;',
    "a->b >>= c <<= d ... e :: f && g || h != i == j <= k >= l ++ -- += -= *= /= %= &= |= ^=",
    '[[deprecated("no")]] int old; [ [ nodiscard ] ] int f(void); int a[[1]];',
    "__attribute__((aligned(8))) int x;",
    '#line 12 "other.h"\nint a;\n# 7 "third.h" 1 3\n  int b;\n#pragma pack(push, 8)\nint c;',
    "#pragma\n#pragma once\n# pragma omp parallel\n#define X 1\n#error no\n",
    '#line\n#line x\n#line "f.h" 3\nint d;',
    "/* comment */ int e; // line\n'unterminated\n'' 'ab' '\\q' \"bad \\q escape\" 089 0b101",
    "@ ` \\ \r é \x0c\x0b\t  \n\n\n   x",
    "",
    "   \n  \n",
    "int",
]


# pycparser 3.11 (the one for Python 3.10) keeps its own lexer and its own parser.
needs_faster_lexer = pytest.mark.skipif(
    parse._LEXER is c_lexer.CLexer, reason="this pycparser keeps its own lexer"
)
needs_look_ahead = pytest.mark.skipif(
    not parse._Parser.can_look_ahead, reason="this pycparser's parser is used as it is"
)


@needs_faster_lexer
@pytest.mark.parametrize("text", PYCPARSER_TRICKY)
def test_pycparser_tricky_inputs(text: str) -> None:
    _check_pycparser(text)


@needs_faster_lexer
def test_pycparser_random_fragments() -> None:
    rng = random.Random(2)
    for _ in range(500):
        _check_pycparser(" ".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 60))))
        _check_pycparser("".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 60))))


@needs_faster_lexer
def test_pycparser_corpus(corpus: Path) -> None:
    """The preprocessed text of each header (what parse reads), and its raw text."""
    for header in sorted((corpus / "headers").glob("*/d3dkmthk.h")):
        _check_pycparser(preprocess(header, abi="x64").text)
        _check_pycparser(header.read_text("utf-8", errors="replace"))


@needs_faster_lexer
def test_parser_uses_it() -> None:
    parser = parse._Parser()
    assert type(parser.clex) is parse._Lexer
    parse.parse("typedef int A; A x;", Diagnostics())


@needs_look_ahead
def test_parser_drops_the_tokens_it_has_read() -> None:
    """On a long header the parser's token stream stays short (the tokens of the
    declarations already read are dropped), and the tree is the one pycparser
    gives; a name never declared is still found, its use one token after a drop."""
    from pycparser import c_ast, c_generator, c_parser

    decls = [f"typedef struct _S{i} {{ int a; char b[{i % 7 + 1}]; }} S{i}, *PS{i};"
             for i in range(3000)]  # fmt: skip
    text = "\n".join(decls) + "\ntypedef struct _LAST { NEVER_DECLARED *p; S1 s; } LAST;\n"
    parser = parse._Parser()
    longest = 0
    read_one = parser._parse_external_declaration

    def watched() -> list:
        nonlocal longest
        longest = max(longest, len(parser._tokens._buffer))
        return read_one()

    parser._parse_external_declaration = watched
    tree = parser.parse(text, "<input>")
    assert longest < parse._TOKENS_KEPT + 100
    assert [name for name, _ in parser.undeclared] == ["NEVER_DECLARED"]
    plain = c_parser.CParser().parse("typedef struct NEVER_DECLARED NEVER_DECLARED;\n" + text)
    show = c_generator.CGenerator().visit
    assert show(tree) == show(c_ast.FileAST(plain.ext[1:]))


def test_parse_and_lower_leave_no_cycles(corpus: Path) -> None:
    """The pipeline runs no gc.collect() between its stages: what parse and lower
    (with a parser for every alignment it reads) drop must be freed by reference
    counting alone, the AST and every parser with it."""
    from generator.lower import lower

    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    pp = preprocess(header, abi="x64")
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        diagnostics = Diagnostics()
        parsed = parse.parse(pp.text, diagnostics)
        module = lower(parsed.ast, pp, header.name, "x64", diagnostics)
        del parsed
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert module.records


def test_a_build_runs_without_the_cyclic_gc_and_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No collection while the stages run (not even one asked for: gc.collect()
    runs with the GC off too), and the GC as it was once the build is over."""
    from generator import pipeline

    header = tmp_path / "case.h"
    header.write_text("typedef struct _S { UINT a; UCHAR b[3]; } S;\n#if 1\n#endif\n")
    during: list[bool] = []
    collections_while_off: list[dict] = []
    lower = pipeline.lower

    def watched_lower(*args: object) -> object:
        during.append(gc.isenabled())
        return lower(*args)

    def watch(phase: str, info: dict) -> None:
        if phase == "start" and not gc.isenabled():
            collections_while_off.append(info)

    monkeypatch.setattr(pipeline, "lower", watched_lower)
    gc.callbacks.append(watch)
    try:
        pipeline.build(pipeline.Options(header, rules=()))
    finally:
        gc.callbacks.remove(watch)
    assert during == [False]
    assert collections_while_off == []
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()  # a program that turned it off keeps it off
    try:
        pipeline.build(pipeline.Options(header, rules=()))
        assert not gc.isenabled()
    finally:
        gc.enable()
