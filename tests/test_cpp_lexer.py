"""generator.cpp_lexer gives pcpp the very token stream its PLY lexer would."""

from __future__ import annotations

import random
from pathlib import Path

import pcpp
import pytest

from generator import cpp_lexer
from generator.preprocess import prelude_text

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
    rules = {rule[1] for rule in cpp_lexer._RULES if rule} - {"CPP_FLOAT"}  # (INTEGER wins)
    assert rules <= types
    assert {"@", "$", "`", "é"} <= types


def test_random_fragments() -> None:
    """Random strings of C-ish pieces, where tokens meet in every order."""
    pieces = [
        "a", "_b1", "0x1F", "12", "1e5", ".", "'", '"', "\\", "\\\n", "\n", " ", "\t", "/*",
        "*/", "//", "#", "##", "<", ">", "=", "^", "|", "&", "-", "+", "%", ":", "?", "(",
        ")", ",", ";", "{", "}", "[", "]", "L", "@", "é", "\r", "\x0c", "...", "~", "!",
    ]  # fmt: skip
    rng = random.Random(1)
    for _ in range(300):
        _check("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 60))))


def test_prelude() -> None:
    _check(prelude_text(), "<prelude>")


def test_corpus_headers(corpus: Path) -> None:
    for header in sorted((corpus / "headers").glob("*/*.h")):
        _check(header.read_text("utf-8", errors="replace"), str(header))
