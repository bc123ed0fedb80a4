"""What ``generate`` and ``check`` need from one run — the text of every output
file and what to print — cached as a whole.

On unchanged inputs this is the whole run: hash the inputs, read one cache
entry. The stages are imported only when something has to be built, so such a
run costs little more than starting Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .cache import Cache, current_digest, key
from .errors import Warning_
from .inputs import folder_digest, shipped_rules_path
from .options import Options


@dataclass(frozen=True)
class Outputs:
    """The texts one run writes and prints."""

    stem: str
    module: str
    stub: str
    layout_json: str | None  # when asked for
    report_json: str | None
    summary: str
    warnings: tuple[Warning_, ...]


def outputs(options: Options, *, layout_json: bool, report_json: bool) -> Outputs:
    """Run the pipeline (or take its texts from the cache) for ``options``."""
    cache = Cache(options.cache_dir)
    digests = input_digests(options)
    # (no key without a cache: the generator's fingerprint costs a read of its files)
    name = _key(options, digests, layout_json, report_json) if cache.root else None
    if name:
        hit = cache.get("outputs", name)
        if isinstance(hit, Outputs):
            return hit
    # The page reader first: its process reads while this one imports the stages.
    from .pages import PageReader  # (multiprocessing too: not for a warm run)

    pages = PageReader(options.docs, options.parallel, cache, digests)
    try:
        from .pipeline import build

        result = build(options, digests, pages)  # what is hashed here is not hashed again
    finally:
        pages.close()
    made = Outputs(
        stem=result.stem,
        module=result.text,
        stub=result.stub,
        layout_json=_json(result.layout_json()) if layout_json else None,
        report_json=_json(result.report_json()) if report_json else None,
        summary=result.summary(),
        warnings=tuple(result.diagnostics.warnings),
    )
    if name:
        cache.put("outputs", name, made, result.depends)
    return made


def _json(data: object) -> str:
    return json.dumps(data, indent=1) + "\n"


def input_digests(options: Options) -> dict[tuple[str, str], str | None]:
    """The sha256 of the inputs known up front, by (kind, path): the "header", each
    "rules" file (None: unreadable) and each "docs" folder ("": unreadable)."""
    header = Path(options.header)
    digests: dict[tuple[str, str], str | None] = {("header", str(header)): current_digest(header)}
    for path in _rules(options):
        digests["rules", str(Path(path))] = current_digest(path)
    for folder in options.docs:
        digests["docs", str(Path(folder))] = folder_digest(Path(folder))
    return digests


def _rules(options: Options) -> tuple[Path, ...]:
    return tuple(options.rules) if options.rules is not None else (shipped_rules_path(),)


def _key(
    options: Options,
    known: dict[tuple[str, str], str | None],
    layout_json: bool,
    report_json: bool,
) -> str | None:
    """Every input's bytes (the header here, its includes through the entry's
    list), and every option that changes a text."""
    header = Path(options.header)
    rules = _rules(options)
    digests = [known["header", str(header)], *(known["rules", str(Path(r))] for r in rules)]
    if None in digests:
        return None  # something cannot be read: let the pipeline say what
    pages = [known["docs", str(Path(d))] for d in options.docs]
    if "" in pages:
        return None
    return key(
        "outputs",
        digests,
        pages,
        [Path(d).name for d in options.docs],
        [Path(r).name for r in rules],
        str(header.resolve().parent),
        [str(Path(d).resolve()) for d in options.include_dirs],
        options.defines,
        options.interface_version,
        options.sdk_version,
        options.keep_going,
        list(options.abis),
        options.command,
        layout_json,
        report_json,
    )
