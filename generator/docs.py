"""Read Microsoft's reference pages (windows-driver-docs-ddi markdown) into plain text.

A page is YAML front matter plus markdown in which raw HTML is common (``<b>``,
``<a href>``, ``<ul>``, ``<div class="alert">``). Both kinds of markup reach one
place: a stdlib ``html.parser`` handler that prints plain, reStructuredText-friendly
text. markdown-it's tokens give it the events their HTML would, and raw HTML is
parsed. Sections and members are found from markdown-it's block tokens, never by
scanning lines ourselves.

Example::

    index = load_docs([corpus / "docs/d3dkmthk"], diagnostics)
    page = index.find("D3DKMT_DESTROYALLOCATION")
    page.members[0]  # DocMember(name="hDevice", direction="in", text="A D3DKMT_HANDLE ...")
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin, urlsplit, urlunsplit

from .errors import Diagnostics, GeneratorError, Loc, option_error
from .inputs import PAGE_FILE, page_files
from .pickling import by_fields
from .sal import SAL_NAME

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

SITE = "https://learn.microsoft.com"
DDI_ROOT = f"{SITE}/windows-hardware/drivers/ddi"

# ns- structure, ne- enumeration, nf- function, nc- callback; other prefixes
# (ni- IOCTL pages, index.md) describe nothing the header declares.
# Whole lines up to the closing "---" (a lazy ".*?" would look for it after every character).
# The front matter ends at its first '---' line (the lazy star tries none first: an
# empty front matter does not reach on to a '---' rule in the body).
_FRONT_MATTER = re.compile(r"---[ \t]*\n((?:[^\n]*\n)*?)---[ \t]*(?:\n|\Z)")
_MEMBER_HEADING = re.compile(r"-(?:field|param)\s+(\S.*)", re.S)
_TRAILING_BRACKET = re.compile(r"\s*\[([^\[\]]*)\]\s*$")
_TEXT_DIRECTION = re.compile(r"\[([A-Za-z ,/]{2,24})\]\s*")
_LABEL_DIRECTION = re.compile(r"([A-Za-z_]\w*) \[([A-Za-z ,/]{2,24})\] (?=\S)")
_C_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NAME_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACE_BEFORE_STOP = re.compile(r" ([.,;:])(?= |$)")
_DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?= |$)")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_QUOTE_LABEL = re.compile(r"\[!?(note|important|warning|caution|tip)!?\]:?\s*", re.I)
_ALERT_LABEL = re.compile(r"(note|important|warning|caution|tip)\b[:.]?\s*", re.I)

_MEMBER_SECTIONS = frozenset({"-struct-fields", "-enum-fields", "-parameters"})
_TEXT_SECTIONS = frozenset({"-description", "-returns", "-remarks"})
_READ_SECTIONS = _MEMBER_SECTIONS | _TEXT_SECTIONS
# What a page's declaration line may hold once its SAL is gone: C type and
# declarator tokens ("void * pPrivateDriverData", "D3DKMT_HANDLE hAdapter", "pData").
_DECLARATION = re.compile(
    r"(?:[A-Za-z_]\w*(?:\s+|\s*[*&]+\s*)|\[\w*\]\s*)*([A-Za-z_]\w*)(?:\s*\[\w*\])?"
)
_NOT_DECLARATION = re.compile(r"[^\w\s*&\[\]]")  # a character _DECLARATION has no place for
_C_TYPE_WORD = re.compile(
    r"void|const|volatile|struct|union|enum|signed|unsigned|char|short|int|long|float|double"
    r"|[A-Za-z]*[A-Z0-9_][A-Za-z0-9_]*[A-Z0-9_][A-Za-z0-9_]*|[A-Z]{2,}"
)
_SAL_CALL = re.compile(rf"(?:{SAL_NAME.pattern})(?:\s*\([^()]*\))?")
# _In_, _Out_opt_, _Inout_updates_(n), and SAL 1's __in, __out_ecount(n), __inout
_SAL_DIRECTION = re.compile(r"(?<![a-z0-9])_{1,2}(inout|in|out)(?=_|\b|ptr)")
_EMPHASIS = {"em_open": 1, "em_close": -1}
_HTML_EMPHASIS = re.compile(r"<(/?)(?:i|em)\s*>", re.I)
_DIRECTION_WORDS = {"in": "in", "out": "out", "opt": "opt", "optional": "opt"}
_DIRECTION_ORDER = ("in", "out", "opt")


@by_fields
@dataclass(frozen=True, slots=True)
class DocMember:
    """One documented field / enum value / parameter."""

    name: str  # C name or dotted path ("Flags.Primary"), array size and escapes removed
    direction: str | None  # "in", "out", "in, out", "in, opt", "out, opt", "in, out, opt"
    text: str  # plain text, paragraphs separated by a blank line, not wrapped
    loc: Loc  # page file name and heading line


@by_fields
@dataclass(frozen=True, slots=True)
class DocPage:
    """One reference page: its names, its prose and its documented members."""

    file: str  # file name only: no absolute path may reach generated code
    kind: str  # "ns" | "ne" | "nf" | "nc" | "ni" (IOCTL)
    uid: str
    api_names: tuple[str, ...]
    title: str
    description: str
    url: str  # the page on learn.microsoft.com
    members: tuple[DocMember, ...]  # in page order
    returns: str
    remarks: str
    loc: Loc


@by_fields
@dataclass(frozen=True, slots=True)
class DocIndex:
    """All pages read, and every name they document mapped to its page."""

    pages: tuple[DocPage, ...]
    by_name: Mapping[str, DocPage]
    _folded: Mapping[str, DocPage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded: dict[str, DocPage] = {}
        for name, page in self.by_name.items():
            folded.setdefault(name.casefold(), page)
        object.__setattr__(self, "_folded", MappingProxyType(folded))

    @classmethod
    def from_pages(cls, pages: Sequence[DocPage]) -> DocIndex:
        """Index ``pages``; when two pages claim a name, the first one keeps it."""
        by_name: dict[str, DocPage] = {}
        for page in pages:
            for name in (*page.api_names, re.split(r"[.:]", page.uid)[-1]):
                if name:
                    by_name.setdefault(name, page)
        return cls(tuple(pages), MappingProxyType(by_name))

    def find(self, name: str) -> DocPage | None:
        """Find the page for ``name``, or None.

        Tries ``name`` exactly, then with/without the C tag's leading ``_``, then
        both again ignoring case.
        """
        # Pages are titled by the tag (_D3DKMT_X) and list the typedef; the header
        # may use either, so try both spellings.
        spellings = (name, name[1:] if name.startswith("_") else "_" + name)
        for spelling in spellings:
            if spelling in self.by_name:
                return self.by_name[spelling]
        for spelling in spellings:
            if spelling.casefold() in self._folded:
                return self._folded[spelling.casefold()]
        return None


def load_docs(dirs: Sequence[Path], diagnostics: Diagnostics) -> DocIndex:
    """Read every reference page in ``dirs``, in sorted order.

    A page that cannot be read is reported with ``diagnostics.warn`` and skipped;
    a folder that does not exist is an error (it is an option the user gave).
    """
    pages: list[DocPage] = []
    for folder in dirs:
        if not Path(folder).is_dir():
            raise option_error("--docs", folder, "not a folder of reference pages")
        try:
            paths = page_files(folder)
        except OSError as exc:
            raise option_error("--docs", folder, f"cannot read: {exc.strerror}") from None
        for path in paths:
            try:
                pages.append(read_page(path))
            except GeneratorError as err:
                diagnostics.warn(err.loc, f"{err.message}; page skipped")
    return DocIndex.from_pages(pages)


_WANTED_KEYS = ("UID", "api_name", "title", "description")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:")


def _wanted_keys(front: str) -> str:
    """Only the front matter's top-level entries we read, with their continuations.

    Pages carry some thirty keys; building Python objects for all of them was
    most of the time spent on YAML.
    """
    kept: list[str] = []
    keep = False
    for line in front.splitlines(keepends=True):
        key = _TOP_KEY.match(line)
        if key:
            keep = key.group(1) in _WANTED_KEYS
        if keep:
            kept.append(line)
    return "".join(kept)


def _starts_with_key(front: str) -> bool:
    """Is the front matter empty or a mapping (its first entry a ``key:``)?"""
    for line in front.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return _TOP_KEY.match(line) is not None
    return True


def read_page(path: Path) -> DocPage:
    """Read one page file; see ``read_page_text``."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise GeneratorError(Loc(path.name, 1, 1), f"cannot read page: {err.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - data.rfind(b"\n", 0, err.start)
        raise GeneratorError(Loc(path.name, line, col), "page is not UTF-8 text") from None
    return read_page_text(text, path.name)


def read_page_text(text: str, file: str) -> DocPage:
    """Read one page from its text; ``file`` is the page's file name (it gives the kind).

    Example::

        page = read_page_text(text, "ns-d3dkmthk-_d3dkmt_destroyallocation.md")
        page.url  # ".../ddi/d3dkmthk/ns-d3dkmthk-_d3dkmt_destroyallocation"
    """
    stem = file.removesuffix(".md")
    named = PAGE_FILE.fullmatch(stem)
    if not named:
        raise GeneratorError(Loc(file), "not a reference page name (ns-, ne-, nf-, nc- or ni-)")
    url = f"{DDI_ROOT}/{named.group(2)}/{stem}"

    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front = _FRONT_MATTER.match(text)
    if not front:
        raise GeneratorError(Loc(file, 1, 1), "page does not start with '---' front matter")
    import yaml  # here: a run whose pages are cached, or read by the page reader, never needs it

    # BaseLoader keeps every value a string (no dates from ms.date, no booleans), and
    # the C loader is several times faster than the pure-Python one.
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        meta = yaml.load(_wanted_keys(front.group(1) or ""), Loader=loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark else 1  # + the opening '---', and 1-based
        col = mark.column + 1 if mark else 1
        problem = getattr(err, "problem", None) or str(err)
        raise GeneratorError(Loc(file, line, col), f"bad front matter: {problem}") from None
    if meta is None and _starts_with_key(front.group(1)):
        meta = {}  # an empty front matter, or none of the keys we read
    if not isinstance(meta, dict):
        raise GeneratorError(Loc(file, 2, 1), "front matter is not a mapping")

    body_line = text.count("\n", 0, front.end())  # lines before the markdown body
    sections, members = _read_body(text[front.end() :], file, body_line, url)
    api_names = meta.get("api_name") or []
    return DocPage(
        file=file,
        kind=named.group(1),
        uid=str(meta.get("UID", "")),
        api_names=tuple(map(str, api_names if isinstance(api_names, list) else [api_names])),
        title=str(meta.get("title") or sections.get("", "")),
        description=sections.get("-description") or _collapse(str(meta.get("description", ""))),
        url=url,
        members=tuple(members),
        returns=sections.get("-returns", ""),
        remarks=sections.get("-remarks", ""),
        loc=Loc(file),
    )


# Words and single spaces: for such text textwrap's greedy fill is, line by line,
# the longest run of words that fits (a word too long for any line alone on its
# own), which one regex finds without textwrap's chunking.
def _spaced_words(text: str) -> bool:
    # Printable: no whitespace but the space (tabs, NBSPs, line breaks are not).
    return text.isprintable() and text[:1] not in ("", " ") and text[-1] != " " and "  " not in text


@functools.cache
def _fitting_lines(width: int) -> re.Pattern[str]:
    """The lines of spaced words at ``width``: the most words that fit, else one word."""
    return re.compile(rf"(.{{1,{width}}}|\S+)(?: |\Z)")


@functools.lru_cache(maxsize=16384)  # pages repeat their texts (one member, many records)
def wrap_text(text: str, width: int = 72, indent: str = "") -> str:
    r"""Wrap each paragraph of ``text`` at ``width``, every line starting with ``indent``.

    Paragraph breaks stay; list items ("- ") wrap with a hanging indent; table rows
    ("|") and code lines (four-space indent) are kept as they are.

    >>> wrap_text("- a long item", width=8)
    '- a long\n  item'
    """
    paragraphs = (_wrap_paragraph(p, width, indent) for p in text.split("\n\n"))
    return "\n\n".join(paragraphs).strip("\n")


def _wrap_paragraph(paragraph: str, width: int, indent: str) -> str:
    lines: list[str] = []
    prose: list[str] = []  # plain lines waiting to be re-flowed together

    def fill(words: str, first: str, rest: str) -> None:
        room = width - len(first)  # (first and rest are always as long)
        if room > 0 and _spaced_words(words):
            found = _fitting_lines(room).findall(words)
            lines.append(first + found[0])
            lines.extend(rest + line for line in found[1:])
            return
        wrapped = textwrap.wrap(
            words,
            width=width,
            initial_indent=first,
            subsequent_indent=rest,
            # URLs and C names must survive whole.
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.extend(wrapped or [first.rstrip()])

    def end_prose() -> None:
        if prose:
            fill(" ".join(prose), indent, indent)
            prose.clear()

    for line in paragraph.split("\n"):
        stripped = line.lstrip(" ")
        lead = line[: len(line) - len(stripped)]
        if line.startswith("    ") or stripped.startswith("|"):
            end_prose()
            lines.append((indent + line).rstrip())
        elif stripped.startswith("- "):
            end_prose()
            fill(stripped[2:], f"{indent}{lead}- ", f"{indent}{lead}  ")
        elif stripped:
            prose.append(stripped)
    end_prose()
    return "\n".join(lines)


# -- markdown -----------------------------------------------------------------


def _heading_role(section: str, tag: str, heading: str) -> tuple[str, bool] | None:
    """Tell what a top-level heading starts: ``(section, is_member)``.

    None for a sub-heading that belongs to the text it is in ("#### Examples").
    """
    # "-param" is sometimes an h2 (nf-d3dkmthk-d3dkmtgetprocessschedulingpriorityclass),
    # so inside a member section any level counts as a member.
    if section in _MEMBER_SECTIONS and _MEMBER_HEADING.match(heading):
        return section, True
    if tag in ("h1", "h2"):
        return (heading.split(maxsplit=1)[0] if heading.startswith("-") else ""), False
    return None


def _inline_where_read(state: StateCore) -> None:
    """markdown-it's "inline" core rule, run only on the sections we read (and its
    "text_join" after it, on those); it leaves the page's parts in ``env["parts"]``.

    Inline parsing is most of markdown-it's time, and prototypes and see-also
    lists are a large part of every page. Pages also repeat paragraphs ("Returns
    NTSTATUS.", the members records share): each text is parsed once, unless the
    page defines link references (they may change what it parses to).
    """
    from markdown_it.rules_core import text_join

    known_texts = {} if state.env.get("references") else _INLINE_TOKENS
    # Each part of the page: (section, member heading or None, index of its heading_open).
    parts: list[tuple[str, str | None, int]] = []
    section = ""
    heading_text = -1  # a section or member heading: read raw, never rendered
    tokens = state.tokens
    parsed: list[Token] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0:
            heading = tokens[i + 1].content
            role = _heading_role(section, token.tag, heading)
            if role:
                section, is_member = role
                heading_text = i + 1
                parts.append((section, heading if is_member else None, i))
        elif token.type == "inline" and i != heading_text and section in _READ_SECTIONS:
            known = known_texts.get(token.content)
            if known is not None:
                token.children = known  # joined already: text_join leaves it as it is
            else:
                token.children = []
                state.md.inline.parse(token.content, state.md, state.env, token.children)
                parsed.append(token)
    text_join(state)
    if known_texts is _INLINE_TOKENS and len(_INLINE_TOKENS) < _INLINE_TOKENS_KEPT:
        for token in parsed:
            _INLINE_TOKENS.setdefault(token.content, token.children or [])
    state.env["parts"] = parts


# Inline tokens of the texts read so far, joined; shared by the pages that repeat
# a text, so only ever read.
_INLINE_TOKENS: dict[str, list[Token]] = {}
_INLINE_TOKENS_KEPT = 50_000  # the two folders of the corpus hold some 4,100 texts


@functools.cache
def _markdown() -> MarkdownIt:
    """One parser for every page: building one costs more than parsing a small page
    (and importing markdown-it waits until a page is read)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.core.ruler.at("inline", _inline_where_read)
    md.core.ruler.disable("text_join")  # run by _inline_where_read, before it keeps tokens
    return md


def _read_body(
    body: str, file: str, line0: int, url: str
) -> tuple[dict[str, str], list[DocMember]]:
    """Text per section name ("" holds the h1 title) and the members, in page order."""
    env: dict[str, Any] = {}  # markdown-it's sandbox for rules
    tokens = _markdown().parse(body, env)
    parts = env["parts"]  # found by _inline_where_read

    sections: dict[str, str] = {}
    members: list[DocMember] = []
    for n, (section, heading, i) in enumerate(parts):
        end = parts[n + 1][2] if n + 1 < len(parts) else len(tokens)
        if tokens[i].tag == "h1" and heading is None:
            sections.setdefault("", tokens[i + 1].content.strip())
        elif heading is not None:
            name, direction = _member_heading(heading)
            body = tokens[i + 3 : end]
            # Some pages open a member with its C declaration ("*pData* [in, out]",
            # "*\\_In\\_* *D3DKMT\\_HANDLE* *hAdapter*"): keep only its direction.
            declared = _declaration_direction(body, name)
            if declared is not None:
                direction = direction or declared or None
                body = body[3:]
            text = _to_text(body, url)
            tag = _TEXT_DIRECTION.match(text)
            # 2018 pages write the direction as the first words of the text.
            if tag and (text_direction := _direction(tag.group(1))):
                direction = direction or text_direction
                text = text[tag.end() :]
            # Others after the name they give the parameter ("**pData** [in/out] is a").
            label = _LABEL_DIRECTION.match(text)
            if label and (text_direction := _direction(label.group(2))):
                direction = direction or text_direction
                text = f"{label.group(1)} {text[label.end() :]}"
            line = line0 + tokens[i].map[0] + 1 if tokens[i].map else 0
            members.append(DocMember(name, direction, text, Loc(file, line)))
        elif section in _TEXT_SECTIONS:
            text = _to_text(tokens[i + 3 : end], url)
            sections[section] = f"{sections[section]}\n\n{text}" if section in sections else text
    return {k: v.strip("\n") for k, v in sections.items()}, members


def _member_heading(heading: str) -> tuple[str, str | None]:
    """``-field Reserved[5] [in]`` -> ``("Reserved", "in")``."""
    match = _MEMBER_HEADING.match(heading)
    rest = match.group(1).strip() if match else heading
    direction = None
    while bracket := _TRAILING_BRACKET.search(rest):
        # A bracket that is not a direction is an array size: the header has it.
        direction = direction or _direction(bracket.group(1))
        rest = rest[: bracket.start()]
    if "\\" in rest:  # (rare: most headings would pay for the substitution's template)
        rest = _NAME_ESCAPE.sub(r"\1", rest)
    name = rest.replace("`", "").replace("*", "").strip()
    # Keep the C name (or dotted path) only: enum pages add the value
    # ("D3DKMT_CLIENTHINT_CDD:2"), some parameters a colon, one field a stray dot.
    c_name = _C_NAME.match(name)
    return (c_name.group(0) if c_name else name), direction


def _declaration_direction(body: list[Token], name: str) -> str | None:
    """If ``body`` opens with a declaration line, its direction ("" for none); else None.

    A declaration line is a paragraph of C tokens (SAL, type, declarator) with an
    optional ``[in]``-style tag, written in emphasis, or plain when it holds SAL
    or a type and the member's own name: page prose never has that shape.
    """
    if len(body) < 3 or body[0].type != "paragraph_open" or body[2].type != "paragraph_close":
        return None
    depth, plain, emphasized = 0, [], True
    for child in body[1].children or ():
        if child.type in _EMPHASIS:
            depth += _EMPHASIS[child.type]
        elif child.type == "html_inline" and (tag := _HTML_EMPHASIS.fullmatch(child.content)):
            depth += -1 if tag.group(1) else 1
        elif child.type in ("text", "code_inline"):
            plain.append(child.content)
            # Outside emphasis only spaces, stars and a direction tag may stand.
            if not depth and not re.fullmatch(r"[\s*]*(?:\[[^\[\]]*\]\s*)?", child.content):
                emphasized = False
        elif child.type not in ("link_open", "link_close", "softbreak"):
            return None
    text = "".join(plain)
    tag = _TRAILING_BRACKET.search(text)
    direction = _direction(tag.group(1)) if tag else None
    if tag and direction is not None:
        text = text[: tag.start()]
    # The pattern takes long to fail on prose; a character it never takes tells
    # sooner (SAL's parentheses, removed below, may hold any).
    if "(" not in text and _NOT_DECLARATION.search(text):
        return None
    sal = [m.group(0) for m in _SAL_CALL.finditer(text)]
    code = _SAL_CALL.sub(" ", text).strip()
    declaration = None if _NOT_DECLARATION.search(code) else _DECLARATION.fullmatch(code)
    if not declaration:
        return None
    # Before the declarator only type words may stand ("D3DKMT_HANDLE", "void"):
    # an emphasized phrase of English ("*Supported in Windows 7*") is prose.
    types = re.findall(r"[A-Za-z_]\w*", code[: declaration.start(1)])
    if not all(_C_TYPE_WORD.fullmatch(word) for word in types):
        return None
    if not (emphasized or sal or (types and declaration.group(1) == name)):
        return None
    return direction or sal_direction(" ".join(sal)) or ""


def sal_direction(sal: str) -> str | None:
    """The direction SAL annotations give, spelled as the pages do ("in, out"), or None.

    >>> sal_direction("_Inout_bytecount_(Size)"), sal_direction("_In_opt_")
    ('in, out', 'in, opt')
    """
    words = set(_SAL_DIRECTION.findall(sal.lower()))
    if "inout" in words or {"in", "out"} <= words:
        direction = "in, out"
    elif words:
        direction = words.pop()
    else:
        return None
    return direction + (", opt" if "_opt" in sal.lower() else "")


def _direction(tag: str) -> str | None:
    """Normalise "in/out", "in,opt", "out, optional", ... or None if ``tag`` is not one."""
    words = [w for w in re.split(r"[\s,/]+", tag.lower()) if w]
    if not words or any(w not in _DIRECTION_WORDS for w in words):
        return None
    found = {_DIRECTION_WORDS[w] for w in words}
    if found == {"opt"}:
        return None
    return ", ".join(d for d in _DIRECTION_ORDER if d in found)


def _to_text(tokens: list[Token], url: str) -> str:
    if not tokens:
        return ""
    reader = _HtmlText(url)
    try:
        _send_tokens(reader, tokens, _markdown())
    except _NeedsHtml:
        md = _markdown()
        reader = _HtmlText(url)
        reader.feed(md.renderer.render(tokens, md.options, {}))
    return reader.text()


class _NeedsHtml(Exception):
    """A token the walk below cannot hand over as the renderer would have."""


# Token types the HTML renderer has a rule of its own for, and that _send_tokens mirrors.
_MIRRORED_RULES = frozenset(
    {"text", "html_block", "html_inline", "softbreak", "hardbreak", "code_inline"}
    | {"code_block", "fence", "image", "list_item_open"}
)


def _send_tokens(reader: _HtmlText, tokens: Sequence[Token], md: MarkdownIt) -> None:
    """Give ``reader`` the events it would get from parsing the rendered HTML.

    Rendering each section to HTML only to parse it again was a third of the time
    spent reading pages. Markdown's own tags and text become handler calls here, in
    the renderer's order (with the newlines it writes); raw HTML still goes through
    the parser. Whatever may not give the same events (raw HTML the parser holds
    back, a token type not mirrored) raises _NeedsHtml, and the section is rendered
    and parsed as before.
    """
    xhtml = md.options["xhtmlOut"]
    renderer = cast("RendererHTML", md.renderer)  # the preset's, built in _markdown
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "inline":
            if token.children:
                _send_tokens(reader, token.children, md)
        elif kind == "text":
            if token.content:
                reader.handle_data(token.content)
        elif kind in ("html_block", "html_inline"):
            reader.feed(token.content)
            # Text or a tag cut at the end waits for what follows it in the HTML.
            if reader.rawdata or reader.cdata_elem:
                raise _NeedsHtml
        elif kind == "softbreak":
            if md.options.breaks:
                raise _NeedsHtml
            reader.handle_data("\n")
        elif kind == "hardbreak":
            reader.handle_starttag("br", [])
            if xhtml:
                reader.handle_endtag("br")
            reader.handle_data("\n")
        elif kind == "code_inline":
            reader.handle_starttag("code", _attrs(token))
            if token.content:
                reader.handle_data(token.content)
            reader.handle_endtag("code")
        elif kind in ("code_block", "fence"):
            if md.options.highlight:
                raise _NeedsHtml
            # The renderer's class="language-..." on <code> is read by no one.
            reader.handle_starttag("pre", _attrs(token) if kind == "code_block" else [])
            reader.handle_starttag("code", [] if kind == "code_block" else _attrs(token))
            if token.content:
                reader.handle_data(token.content)
            reader.handle_endtag("code")
            reader.handle_endtag("pre")
            reader.handle_data("\n")
        elif kind == "image":
            alt = renderer.renderInlineAsText(token.children, md.options, {})
            attrs = {**token.attrs, "alt": alt}
            _send_tag(reader, tokens, i, [(k, str(v)) for k, v in attrs.items()], xhtml)
        elif kind in renderer.rules and kind not in _MIRRORED_RULES:
            raise _NeedsHtml
        elif kind == "list_item_open" and token.meta and "checked" in token.meta:
            raise _NeedsHtml  # a task list's checkbox
        else:
            _send_tag(reader, tokens, i, _attrs(token), xhtml)


def _attrs(token: Token) -> list[tuple[str, str | None]]:
    if not token.attrs:  # most tokens
        return []
    return [(key, str(value)) for key, value in token.attrItems()]


def _send_tag(
    reader: _HtmlText,
    tokens: Sequence[Token],
    i: int,
    attrs: list[tuple[str, str | None]],
    xhtml: bool,
) -> None:
    """The events of markdown-it's ``renderToken`` for ``tokens[i]``."""
    token = tokens[i]
    if token.hidden:  # a tight list's paragraph
        return
    if not token.tag or token.tag != token.tag.lower() or not token.tag.isalnum():
        raise _NeedsHtml
    if token.block and token.nesting != -1 and i and tokens[i - 1].hidden:
        reader.handle_data("\n")
    if token.nesting == -1:
        reader.handle_endtag(token.tag)
    else:
        reader.handle_starttag(token.tag, attrs)
        if token.nesting == 0 and xhtml:  # "<hr />": the parser calls both
            reader.handle_endtag(token.tag)
    if token.block:
        following = tokens[i + 1] if token.nesting == 1 and i + 1 < len(tokens) else None
        if not following or not (
            following.type == "inline"
            or following.hidden
            or (following.nesting == -1 and following.tag == token.tag)
        ):
            reader.handle_data("\n")


def _collapse(text: str) -> str:
    # Each run of spaces (str.split's are the Unicode ones, as \s is) as one, none
    # at the ends: a regex substitution would build a match for every space.
    text = " ".join(text.split())
    # Some pages put a space before punctuation ("color-key value ."), and
    # markup often leaves one ("<b>Flags</b> ."); prose never has it. (The tests
    # in front spare most texts a substitution: few have either.)
    if " ." in text or " ," in text or " ;" in text or " :" in text:
        text = _SPACE_BEFORE_STOP.sub(r"\1", text)
    if ".." in text:
        text = _DOUBLED_STOP.sub(".", text)  # "a hardware key.." (an ellipsis stays)
    return text


# -- HTML -----------------------------------------------------------------------

_BREAKS = frozenset(
    {"p", "div", "br", "hr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd"}
)


class _HtmlText(HTMLParser):
    """Plain text of one HTML fragment, as blocks (paragraph, list, table, code) of lines."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.blocks: list[list[str]] = []
        self._buf: list[str] = []  # text of the paragraph, list item or cell being read
        self._depth = 0  # open <ul>/<ol>
        self._items: list[str] = []  # lines of the outermost open list
        self._rows: list[str] | None = None  # lines of the open table
        self._cells: list[str] | None = None  # cells of the open row
        self._in_cell = False
        self._in_pre = False
        self._links: list[tuple[str, int]] = []  # (href, where its text starts in _buf)
        # Per open <div>/<blockquote>: the first block it holds, if it may be a note.
        self._notes: list[tuple[bool, int] | None] = []

    def text(self) -> str:
        self.close()
        self._end_paragraph()
        if self._items:
            self.blocks.append(self._items)
        if self._rows:
            self.blocks.append(self._rows)
        return "\n\n".join("\n".join(block) for block in self.blocks if block)

    def handle_data(self, data: str) -> None:
        self._buf.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self._end_paragraph()
            self._depth += 1
        elif tag == "li":
            self._end_paragraph()
        elif tag == "table":
            self._end_paragraph()
            self._rows = []
        elif tag == "tr":
            self._cells = []
        elif tag in ("td", "th"):
            self._buf.clear()  # only whitespace between cells
            self._in_cell = True
        elif tag == "pre":
            self._end_paragraph()
            self._in_pre = True
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self._buf)))
        elif tag == "img":
            self._buf.append(dict(attrs).get("alt") or "")
        elif tag in _BREAKS:
            self._break()
            if tag in ("div", "blockquote"):
                alert = tag == "div" and "alert" in (dict(attrs).get("class") or "")
                nested = self._depth or self._in_cell
                self._notes.append(None if nested else (alert, len(self.blocks)))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._end_paragraph()
            self._depth = max(self._depth - 1, 0)
            if not self._depth and self._items:
                self.blocks.append(self._items)
                self._items = []
        elif tag == "li":
            self._end_paragraph()
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append(_collapse("".join(self._buf)))
            self._buf.clear()
            self._in_cell = False
        elif tag == "tr" and self._cells is not None:
            self._add_lines(["| " + " | ".join(self._cells) + " |"], table=True)
            self._cells = None
        elif tag == "table" and self._rows is not None:
            rows, self._rows = self._rows, None
            self._add_lines(rows)
        elif tag == "pre" and self._in_pre:
            self._in_pre = False
            code = "".join(self._buf).replace("\xa0", " ").strip("\n")
            self._buf.clear()
            # Four spaces: a literal block to reST, and wrap_text leaves it alone.
            lines = [f"    {line}".rstrip() for line in code.split("\n")]
            if any(lines):
                self._add_lines(lines)
        elif tag == "a" and self._links:
            self._end_link(*self._links.pop())
        elif tag in _BREAKS:
            self._break()
            if tag in ("div", "blockquote") and self._notes:
                note = self._notes.pop()
                if note:
                    self._label_note(*note)

    def _break(self) -> None:
        # <p> and <br> end a paragraph, but a list item or a cell stays one line.
        if self._depth or self._in_cell:
            self._buf.append(" ")
        else:
            self._end_paragraph()

    def _end_paragraph(self) -> None:
        text = _collapse("".join(self._buf))
        self._buf.clear()
        self._links.clear()
        if not text:
            return
        if self._depth:
            self._items.append(f"{'  ' * (self._depth - 1)}- {text}")
        else:
            self.blocks.append([text])

    def _add_lines(self, lines: list[str], table: bool = False) -> None:
        if not lines:
            return
        if table and self._rows is not None:
            self._rows.extend(lines)
        elif self._depth:
            self._items.extend(lines)
        else:
            self.blocks.append(lines)

    def _end_link(self, href: str, start: int) -> None:
        url = self._absolute(href)
        if not url:
            return
        start = min(start, len(self._buf))
        label = _collapse("".join(self._buf[start:]))
        if not label or label == url:
            self._buf[start:] = [url]
        else:
            self._buf.append(f" ({url})")

    def _absolute(self, href: str) -> str:
        href = href.strip()
        if not href or _URL_SCHEME.match(href):
            return href
        # Of a page's URL (it always has a path), a link with a path needs only the
        # folder (RFC 3986, 5.2.2): the pages of a folder share their links' lookups.
        base = self.page_url if href[0] in "?#" else self.page_url.rsplit("/", 1)[0] + "/"
        return _page_link(base, href)

    def _label_note(self, alert: bool, first: int) -> None:
        """Print a note as "Note: ...".

        It is written ``<div class="alert"><b>Note</b> ...`` or ``> [!NOTE]``.
        """
        if first >= len(self.blocks):
            return
        block = self.blocks[first]
        label = _QUOTE_LABEL.match(block[0]) or (alert and _ALERT_LABEL.match(block[0]))
        if not label:
            return
        rest = block[0][label.end() :]
        if not rest and len(block) == 1 and first + 1 < len(self.blocks):
            del self.blocks[first]  # the label had a paragraph of its own
            block = self.blocks[first]
            rest = block[0]
        self.blocks[first] = [f"{label.group(1).capitalize()}: {rest}", *block[1:]]


@functools.lru_cache(maxsize=4096)  # pages link the same pages
def _page_link(base: str, href: str) -> str:
    # Some pages write Windows paths: href="..\d3dkmthk\ns-....md".
    parts = urlsplit(urljoin(base, href.replace("\\", "/")))
    # Links name the .md source; the site serves the page without the suffix.
    return urlunsplit(parts._replace(path=parts.path.removesuffix(".md")))
