"""Scan every docstring of a generated module (and its .pyi stub) for glitches.

Used by the tests, and on its own to measure a generated module::

    python tests/doc_glitches.py out/d3dkmthk.py out/d3dkmthk.pyi

prints one count per kind of glitch and the first examples of each. A docstring is
any string the module documents something with: class and function docstrings,
member docstrings of the stub, a callback's ``doc=``, a gdi32 function's text, a
constant's ``#:`` comment lines (.py) or the string after its assignment (.pyi).
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.preprocess import SAL_NAME  # noqa: E402 - after the path fix

_SECTION = re.compile(r"^\s*(?:Args|Attributes|Members|Returns):$")
_DIRECTION = r"\[(?:in|out|opt)(?:\s*[,/]\s*(?:in|out|opt|optional))*\]"
_URL = re.compile(r"\(?https?://\S+")
# One entry of an Args:/Attributes:/Members: section: "    name (type):" and its body.
_ENTRY = re.compile(r"^(\s+)([A-Za-z_][\w.]*) \(([^()\n]*(?:\([^()\n]*\))?[^()\n]*)\):$")
_C_WORD = r"(?:const|CONST|struct|union|enum|unsigned|signed|[A-Z_][A-Z0-9_]*|[A-Za-z_]\w*_t)"
_TAGS = "a|b|i|u|p|br|hr|em|strong|code|pre|span|div|sup|sub|img|ul|ol|li|dl|dt|dd|table|tr|td|th"
_HTML = re.compile(
    rf"</?(?:{_TAGS}|h[1-6]|blockquote)\b[^<>]*>|&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.I
)
_MARKDOWN = re.compile(r"\*\*|\]\(|(?<!`)`(?!`)")
_DOUBLED = re.compile(r"\S {2,}\S|(?<![.\d])\.\.(?!\.)|,,|;;|\s[,.;:](?:\s|$)|[,;]\.")
_HEX_COMMENT = re.compile(r"0x[0-9A-Fa-f]+\s*(?://|/\*)")
_BARE_MASK = re.compile(r"^\s*0x[0-9A-Fa-f]+\b")

# Tokens between a comment and the statement it documents.
_LAYOUT_TOKENS = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)

KINDS = (
    "repeated direction",
    "SAL token",
    "C declaration",
    "hex mask comment",
    "name-only docstring",
    "doubled space or punctuation",
    "HTML or markdown",
)


def docstrings(text: str, name: str = "<module>") -> Iterator[tuple[int, str, str]]:
    """(line, documented name, text) of every documenting string in ``text``.

    That is every docstring, the string after an assignment (stub members and
    constants), a callback's ``doc=``, a gdi32 function's text and each block of
    ``#:`` comment lines (those document the assignment below them).
    """
    tree = ast.parse(text, name)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            owner = getattr(node, "name", "")
            for index, stmt in enumerate(body):
                if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                    continue
                if not isinstance(stmt.value.value, str):
                    continue
                before = body[index - 1] if index else None
                target = getattr(before, "target", None) or next(
                    iter(getattr(before, "targets", ())), None
                )
                documented = target.id if isinstance(target, ast.Name) and index else owner
                yield stmt.lineno, documented, inspect.cleandoc(stmt.value.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            first = node.args[0]
            called = first.value if isinstance(first, ast.Constant) else ""
            if node.func.id == "_callback":
                for keyword in node.keywords:
                    if keyword.arg == "doc" and isinstance(keyword.value, ast.Constant):
                        yield keyword.value.lineno, called, inspect.cleandoc(keyword.value.value)
            if node.func.id == "_Function" and len(node.args) >= 5:
                arg = node.args[4]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.lineno, called, inspect.cleandoc(arg.value)
    block: list[str] = []
    start = 0
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and token.string.startswith("#:"):
            if not block:
                start = token.start[0]
            block.append(token.string[2:].removeprefix(" "))
        elif block and token.type not in _LAYOUT_TOKENS:
            documented = token.string if token.type == tokenize.NAME else ""
            yield start, documented, "\n".join(block)
            block = []


def _prose_lines(doc: str) -> Iterator[str]:
    """The prose lines of ``doc``: not section or entry heads, tables or literal blocks.

    A literal block (a page's code) is indented four more than the paragraph
    it follows; section and entry heads start a new indentation.
    """
    base: int | None = None  # the indentation of the prose being read
    type_line = False  # the line after "Returns:" gives a type
    for line in doc.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("|"):
            continue
        indent = len(line) - len(stripped)
        if _SECTION.match(line) or _ENTRY.match(line) or type_line:
            base, type_line = None, stripped == "Returns:"
            continue
        if base is None or indent < base:
            base = indent
        elif indent >= base + 4:
            continue
        yield _URL.sub("URL", stripped)


def _entries(doc: str) -> Iterator[tuple[str, list[str]]]:
    """(name, body paragraphs) of every Args/Attributes/Members entry of ``doc``."""
    lines = doc.split("\n")
    index = 0
    while index < len(lines):
        head = _ENTRY.match(lines[index])
        index += 1
        if not head:
            continue
        depth = len(head.group(1))
        body: list[str] = []
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > depth
        ):
            body.append(lines[index].strip())
            index += 1
        paragraphs = " ".join(line or "\n" for line in body).split("\n")
        yield head.group(2), [p.strip() for p in paragraphs if p.strip()]


def glitches(doc: str, name: str = "") -> dict[str, list[str]]:
    """The glitches of the docstring of ``name``, by kind, each with the offending text."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    prose = [line for line in _prose_lines(doc) if line]
    for entry, paragraphs in _entries(doc):
        text = " ".join(paragraphs)
        # "[in, out] pData [in, out]": the page's direction read twice. (A later
        # paragraph may give another direction for other versions: that is prose.)
        if re.match(rf"{_DIRECTION}\s*(?:\S+\s+)?{_DIRECTION}", text):
            found["repeated direction"].append(f"{entry}: {text[:80]}")
        leaf = re.escape(entry.rsplit(".", 1)[-1])
        declaration = re.compile(
            rf"^(?:{_DIRECTION}\s*)?(?:(?:{_C_WORD}|URL)(?![\w])[\s*]+)*{leaf}(?:\[\w*\])?;?$"
        )
        for paragraph in paragraphs:
            plain = _URL.sub("URL", SAL_NAME.sub("", paragraph)).strip()
            if declaration.match(plain) or _BARE_MASK.match(paragraph):
                kind = "hex mask comment" if _BARE_MASK.match(paragraph) else "C declaration"
                found[kind].append(f"{entry}: {paragraph[:80]}")
    for line in prose:
        for match in SAL_NAME.finditer(line):
            found["SAL token"].append(f"{match.group(0)} in {line[:80]}")
        if _HEX_COMMENT.search(line):
            found["hex mask comment"].append(line[:80])
        if _DOUBLED.search(line):
            found["doubled space or punctuation"].append(line[:80])
        if _HTML.search(line) or _MARKDOWN.search(line):
            found["HTML or markdown"].append(line[:80])
    # Empty, or nothing but the documented name (or a bare direction word).
    first = doc.strip().split("\n\n", 1)[0].strip()
    # (A plain word such as "Reserved." documenting Reserved is prose.)
    if first.rstrip(".") in ("", "in", "out", "In", "Out") or (
        first.rstrip(".") == name and not re.fullmatch(r"[A-Z]?[a-z]+", name)
    ):
        found["name-only docstring"].append(f"{name}: {first or '(empty)'}")
    return found


def scan(*files: Path) -> dict[str, list[str]]:
    """All glitches of the docstrings in ``files``, by kind, as ``file:line: text``."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for line, name, doc in docstrings(text, str(path)):
            for kind, items in glitches(doc, name).items():
                found[kind].extend(f"{path.name}:{line}: {item}" for item in items)
    return found


def main(argv: list[str]) -> int:
    """Print the count and the first examples of each kind of glitch."""
    found = scan(*map(Path, argv))
    for kind, items in found.items():
        print(f"{kind:32} {len(items)}")
        for item in items[:5]:
            print(f"    {item}")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
