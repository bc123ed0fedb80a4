"""What the header says about a declaration besides the C: its comments, its platform.

The preprocess stage keeps every comment by ``(file, line)``, the lines that hold
a directive, and the branches of ``#if``s that select a platform; ``lower.py``
asks this module which of them belong to a constant or a function:

- a declaration's own trailing comment, else the comment block directly above it
  (no blank line between). Consecutive ``#define`` lines share the block above
  the first of them, as a group heading does ("// Allocation priorities.");
- its platform: a ``#ifdef _WIN32``-style branch it sits in, else its comment
  saying so ("Used in WSL to ...", "Windows only").

Example::

    notes = HeaderNotes(pp, taken={("d3dkmthk.h", 5655)})
    notes.leading(Loc("d3dkmthk.h", 5656))  # "Used in WSL to close the ..."
"""

from __future__ import annotations

import re
from collections.abc import Collection

from . import ir
from .errors import Loc
from .preprocess import SAL_NAME, Preprocessed

# Rules and banners ("//////// VidPN management ////////", "//----") are not prose.
_RULE = re.compile(r"^[/*=#~+-]{3,}|[/*=#~+-]{3,}$")
# Feature tags some comments end with ("// _ADVSCH_"): not prose.
_TAGS = re.compile(rf"(?:\s*(?:{SAL_NAME.pattern}))+\s*$")
_DEVELOPER_NOTE = re.compile(r"^(?:TODO|FIXME|XXX|HACK)\b", re.I)
# How a comment says that only one platform has the declaration.
_PLATFORM_WORDS = (
    ("wsl", re.compile(r"\b(?:(?:used|only|available)\s+(?:in|on|for|by)\s+(?:WSL|Linux)"
                       r"|(?:WSL|Linux)[- ]only)\b", re.I)),
    ("windows", re.compile(r"\b(?:only\s+(?:in|on|for)\s+Windows|Windows[- ]only)\b", re.I)),
)  # fmt: skip


class HeaderNotes:
    """Comments and platform branches of one preprocessed header, by declaration."""

    def __init__(self, pp: Preprocessed, taken: Collection[tuple[str, int]] = ()) -> None:
        self.comments = pp.comments
        self.directives = pp.directive_lines
        self.platforms = pp.platforms
        self.taken = taken  # lines holding a declaration: their comment is theirs
        self.defines = {(m.loc.file, m.loc.line) for m in pp.macros}
        # A /* ... */ over several lines is keyed by its first line: find it by its last.
        self.ends: dict[tuple[str, int], tuple[str, int]] = {}
        for (file, line), text in pp.comments.items():
            self.ends[(file, line + text.count("\n"))] = (file, line)

    def own(self, loc: Loc) -> str:
        """The comment written on the declaration's own line."""
        return _prose(self.comments.get((loc.file, loc.line), ""))

    def leading(self, loc: Loc, *, defines: bool = False) -> str:
        """The comment block directly above ``loc`` (above its run of defines, with
        ``defines``), as prose; "" when there is none."""
        line = loc.line - 1
        if defines:
            # Up through the other defines of the run, unless one has its own comment.
            while (loc.file, line) in self.defines and (loc.file, line) not in self.comments:
                line -= 1
        block: list[str] = []
        while True:
            key = (loc.file, line)
            start = self.ends.get(key)
            # A directive's comment ("#endif // _WIN32") speaks of the directive,
            # another declaration's of that declaration.
            if start is None or key in self.directives or key in self.taken:
                break
            block.insert(0, self.comments[start])
            line = start[1] - 1
        return _prose("\n".join(block))

    def platform(self, loc: Loc, comment: str) -> ir.Platform | None:
        """The one platform the header declares ``loc`` for, or None."""
        inner = None
        for branch in self.platforms:
            if branch.file == loc.file and branch.first <= loc.line <= branch.last:
                if inner is None or branch.first >= inner.first:
                    inner = branch
        if inner is not None:
            return ir.Platform(inner.platform, inner.directive, inner.loc)
        for name, words in _PLATFORM_WORDS:
            if words.search(comment):
                return ir.Platform(name, comment, loc)
        return None


def _prose(text: str) -> str:
    """A comment's text as paragraphs: rules and developer notes dropped.

    An empty comment line (``//`` alone) ends a paragraph; other line breaks
    are only the comment's wrapping.
    """
    paragraphs: list[list[str]] = [[]]
    for line in text.split("\n"):
        line = _RULE.sub("", line.strip().lstrip("/*").strip()).strip()
        if not line:
            paragraphs.append([])
        else:
            paragraphs[-1].append(line)
    # Column alignment ("720 x 525i   @ (59.94  [Hz]") does not survive wrapping.
    kept = [_TAGS.sub("", " ".join(" ".join(p).split())).strip() for p in paragraphs if p]
    return "\n\n".join(p for p in kept if p and not _DEVELOPER_NOTE.match(p))
