"""pcpp's tokens, read faster: the same token stream as its PLY lexer gives.

pcpp (pinned 1.30) reads every line through PLY's ``Lexer.token()``, a Python
call per token that tries its master regex, builds the token and, for seven of
the rules, calls the rule's function: about a third of pcpp's time. This module
walks the very same compiled master regex with ``finditer`` in one loop and
does what those rule functions do inline, so each token comes out with the
type, value, line number and position PLY would give it.

It relies on details of the pinned pcpp: one master regex (PLY splits it only
when Python cannot compile it whole), the rules' functions in ``pcpp.parser``,
and every character no rule matches becoming a one-character token typed as
itself (PLY's literals and pcpp's ``t_error`` do the same). ``tests/test_lexers.py``
compares the two token streams.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator

from pcpp import parser as _pcpp_rules
from pcpp.parser import LexToken


@functools.cache
def master_regex() -> tuple[re.Pattern[str], list[str | None]]:
    """PLY's master regex for pcpp's rules, and the token type of each of its
    groups by ``match.lastindex`` (as PLY looks it up). Made on first use, as
    pcpp makes its own lexer: an import that never preprocesses pays nothing."""
    ((master, rules),) = _pcpp_rules.default_lexer().lexre  # one regex, as PLY compiled it
    return master, [rule[1] if rule else None for rule in rules]


# Only these of the rules with functions change a token (or the line count) beyond
# counting the newlines it holds: a line continuation keeps only its blanks, a
# string drops the continuations inside it.
_STRING_CONTINUATION = _pcpp_rules._string_literal_linecont_pat


def group_lines(text: str, source: str | None) -> Iterator[list[LexToken]]:
    """What pcpp's ``Preprocessor.group_lines`` yields: the tokens of ``text``
    (trailing blanks of each line dropped, lines numbered from 1, ``source`` set
    on each), one list per line, each ending in its newline token (``CPP_WS``,
    ``"\\n"``). Lazy, as pcpp's: a line's tokens are made when it is read."""
    text = "\n".join([line.rstrip() for line in text.splitlines()])
    master, types = master_regex()
    line: list[LexToken] = []
    lineno = 1
    pos = 0
    for match in master.finditer(text):
        start = match.start()
        if start != pos:
            line += _unmatched(text, pos, start, lineno, source)
        value = match.group()
        tok = LexToken()
        tok.type = kind = types[match.lastindex]
        tok.value = value
        tok.lineno = lineno
        tok.lexpos = start
        tok.source = source
        line.append(tok)
        pos = match.end()
        if "\n" in value:  # (PLY's rule functions count the newlines they read)
            if value == "\n":
                lineno += 1
                yield line
                line = []
                continue
            lineno += value.count("\n")
            if kind == "CPP_LINECONT":
                tok.value = value[1:-1]
            elif kind == "CPP_STRING":
                tok.value = _STRING_CONTINUATION.sub("", value)
    line += _unmatched(text, pos, len(text), lineno, source)
    if line:
        # The last line has no newline of its own: pcpp gives it a copy of its last token.
        newline = copy.copy(line[-1])
        newline.type = "CPP_WS"
        newline.value = "\n"
        line.append(newline)
        yield line


def _unmatched(text: str, pos: int, end: int, lineno: int, source: str | None) -> list[LexToken]:
    """Characters no rule matches ('@', '$', '`', non-ASCII): one token each."""
    toks = []
    for at in range(pos, end):
        tok = LexToken()
        tok.type = tok.value = text[at]
        tok.lineno = lineno
        tok.lexpos = at
        tok.source = source
        toks.append(tok)
    return toks
