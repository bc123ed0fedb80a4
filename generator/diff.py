"""``d3dkmt-codegen diff OLD NEW``: what changed in the ABI between two headers.

Both sides are ABI snapshots (``snapshot.py``), made from a header or read back
from an earlier ``generate --layout-json``: the comparison never looks at
generated text. Like libabigail's ``abidiff``, changes are grouped by kind, the
breaking ones first (anything that makes code written against OLD wrong against
NEW: a removed or renamed name, a changed size, offset, alignment, type or
value), each with its place in both headers; the exit status says whether
anything breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import __version__

# The order sections are reported in, within the breaking and the other changes.
SECTIONS = ("record", "member", "enum", "constant", "guid", "typedef", "function", "callback")


@dataclass(frozen=True)
class Change:
    """One difference between the two snapshots.

    ``abi`` holds, for layout changes, ``{abi: {"old": ..., "new": ...}}`` with
    sizes and alignments (records) or offsets and sizes (members).
    """

    kind: str  # "record-removed", "member-renamed", "enum-value-changed", ...
    name: str
    breaking: bool
    message: str
    member: str | None = None
    abi: Mapping[str, Any] | None = None
    old: Any = None
    new: Any = None
    old_loc: str | None = None
    new_loc: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "member": self.member,
            "breaking": self.breaking,
            "message": self.message,
            "abi": self.abi,
            "old": self.old,
            "new": self.new,
            "old_loc": self.old_loc,
            "new_loc": self.new_loc,
        }


@dataclass
class Report:
    """The changes between two snapshots, and what each side was."""

    old: dict[str, Any]
    new: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": f"d3dkmt-codegen {__version__}",
            "old": self.old,
            "new": self.new,
            "summary": {
                "breaking": len(self.breaking),
                "other": len(self.changes) - len(self.breaking),
            },
            "changes": [c.to_json() for c in self.changes],
        }


def side(label: str, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """What the report says about one input: its name and what made it."""
    provenance = snapshot.get("provenance") or {}
    return {
        "input": label,
        "header": provenance.get("header"),
        "sdk_version": provenance.get("sdk_version"),
        "interface_version": provenance.get("interface_version"),
        "tool": provenance.get("tool"),
        "abis": list(snapshot.get("abis", ())),
    }


def compare(old: Mapping[str, Any], new: Mapping[str, Any], labels: tuple[str, str]) -> Report:
    """Every change from snapshot ``old`` to snapshot ``new``, breaking ones first."""
    abis = [abi for abi in old.get("abis", ()) if abi in new.get("abis", ())]
    changes = list(_records(old.get("records", {}), new.get("records", {}), abis))
    changes += _enums(old.get("enums", {}), new.get("enums", {}))
    changes += _values("constant", old.get("constants", {}), new.get("constants", {}))
    changes += _values("guid", old.get("guids", {}), new.get("guids", {}))
    changes += _typedefs(old.get("typedefs", {}), new.get("typedefs", {}))
    changes += _signatures("function", old.get("functions", {}), new.get("functions", {}))
    changes += _signatures("callback", old.get("callbacks", {}), new.get("callbacks", {}))
    section = {name: i for i, name in enumerate(SECTIONS)}
    changes.sort(key=lambda c: (not c.breaking, section[c.kind.split("-")[0]]))
    return Report(side(labels[0], old), side(labels[1], new), changes)


# What the comparison fails with on a snapshot of the wrong shape (hand-edited,
# damaged): valid JSON, but a member or an ABI missing, a list for a mapping.
SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def unreadable(snapshot: Mapping[str, Any]) -> str | None:
    """What ``compare`` cannot read in one snapshot, or None: compared with itself
    and with nothing both ways, each entry is read as kept, added and removed."""
    nothing: dict[str, Any] = {"abis": snapshot.get("abis", ())}
    try:
        for old, new in ((snapshot, snapshot), (snapshot, nothing), (nothing, snapshot)):
            compare(old, new, ("old", "new"))
    except SHAPE_ERRORS as exc:
        if isinstance(exc, KeyError):
            return f"no {exc.args[0]!r} where the format has one"
        return f"an entry of another shape than the format's ({exc})"
    return None


def _ends(
    kind: str,
    old: Mapping,
    new: Mapping,
    value: Any = None,
    detail: Any = None,
    owner: str | None = None,
) -> Iterator[Change]:
    """Names only in ``old`` (removed: breaking) and only in ``new`` (added).

    ``value(entry)`` is what the change's ``old``/``new`` hold; ``detail(entry)``,
    words for the message of an addition. With ``owner`` the names are its members
    (an enum's values): the change names the owner, and the name is its ``member``.
    """
    for side, names, breaking in (("removed", old.keys() - new.keys(), True),
                                  ("added", new.keys() - old.keys(), False)):  # fmt: skip
        for name in sorted(names):
            entry = (old if breaking else new)[name]
            label = f"{owner}.{name}" if owner else f"{kind} {name}"
            extra = f" ({detail(entry)})" if detail and not breaking else ""
            held = value(entry) if value else None
            yield Change(
                f"{kind}-{side}",
                owner or name,
                breaking,
                f"{label} {side}{extra}",
                member=name if owner else None,
                old=held if breaking else None,
                new=None if breaking else held,
                old_loc=entry["loc"] if breaking else None,
                new_loc=None if breaking else entry["loc"],
            )


# -- records ------------------------------------------------------------------------


def _records(old: Mapping, new: Mapping, abis: Sequence[str]) -> Iterator[Change]:
    def sizes(entry: Mapping) -> str:
        return ", ".join(f"{abi} {entry[abi]['size']} bytes" for abi in abis)

    yield from _ends("record", old, new, detail=sizes)
    for name in sorted(old.keys() & new.keys()):
        yield from _record(name, old[name], new[name], abis)


def _record(name: str, old: Mapping, new: Mapping, abis: Sequence[str]) -> Iterator[Change]:
    locs = {"old_loc": old["loc"], "new_loc": new["loc"]}
    if old["kind"] != new["kind"]:
        yield Change(
            "record-changed",
            name,
            True,
            f"{name}: {old['kind']} -> {new['kind']}",
            old=old["kind"],
            new=new["kind"],
            **locs,
        )
    shape = {
        abi: {
            side: {"size": r[abi]["size"], "align": r[abi]["align"]}
            for side, r in (("old", old), ("new", new))
        }
        for abi in abis
    }
    moved = [abi for abi in abis if shape[abi]["old"] != shape[abi]["new"]]
    if moved:
        parts = []
        for what in ("size", "align"):
            steps = [
                f"{abi} {shape[abi]['old'][what]} -> {shape[abi]['new'][what]}"
                for abi in abis
                if shape[abi]["old"][what] != shape[abi]["new"][what]
            ]
            if steps:
                parts.append(f"{what} {', '.join(steps)}")
        yield Change("record-changed", name, True, f"{name}: {'; '.join(parts)}", abi=shape, **locs)
    yield from _members(name, old, new, abis)


def _placement(record: Mapping, path: str, abis: Sequence[str]) -> dict[str, dict[str, int]]:
    """Where a member sits in each ABI: offset (or bits) and size."""
    member = record["members"][path]
    return {abi: {**record[abi]["fields"][path], "size": member["size"][abi]} for abi in abis}


def _where(placement: Mapping[str, Mapping[str, int]]) -> str:
    parts = []
    for abi, place in placement.items():
        if "bit_offset" in place:
            last = place["bit_offset"] + place["bit_size"] - 1
            parts.append(f"{abi} bits {place['bit_offset']}-{last}")
        else:
            parts.append(f"{abi} offset {place['offset']} size {place['size']}")
    return ", ".join(parts)


def _members(name: str, old: Mapping, new: Mapping, abis: Sequence[str]) -> Iterator[Change]:
    before, after = old["members"], new["members"]
    removed = [p for p in before if p not in after]
    added = [p for p in after if p not in before]
    reported: set[str] = set()  # members whose change already covers what is inside them

    def inside_reported(path: str) -> bool:
        parts = path.split(".")
        return any(".".join(parts[:i]) in reported for i in range(1, len(parts)))

    def loc(path: str, record: Mapping) -> str:
        return record["members"][path]["loc"]

    # A renamed member: same parent, same type (as spelled too: a handle that
    # becomes a count is a new member), same place in every ABI, new name.
    for path in list(removed):
        if inside_reported(path):
            continue
        parent = path.rpartition(".")[0]
        place = _placement(old, path, abis)
        for candidate in added:
            if (
                candidate.rpartition(".")[0] == parent
                and after[candidate]["type"] == before[path]["type"]
                and after[candidate]["canonical"] == before[path]["canonical"]
                and _placement(new, candidate, abis) == place
            ):
                new_name = candidate.rpartition(".")[2]
                yield Change(
                    "member-renamed",
                    name,
                    True,
                    f"{name}.{path} renamed to {new_name} ({after[candidate]['type']} at "
                    f"{_where(place)})",
                    member=path,
                    old=path,
                    new=candidate,
                    old_loc=loc(path, old),
                    new_loc=loc(candidate, new),
                )
                removed.remove(path)
                added.remove(candidate)
                reported.update((path, candidate))
                break
    for how, paths, record, breaking in (("removed", removed, old, True),
                                          ("added", added, new, False)):  # fmt: skip
        for path in paths:
            if not inside_reported(path):
                member = record["members"][path]
                yield Change(
                    f"member-{how}",
                    name,
                    breaking,
                    f"{name}.{path} {how} ({member['type']} at "
                    f"{_where(_placement(record, path, abis))})",
                    member=path,
                    old=member["type"] if breaking else None,
                    new=None if breaking else member["type"],
                    old_loc=member["loc"] if breaking else None,
                    new_loc=None if breaking else member["loc"],
                )
            reported.add(path)
    for path in before:
        if path not in after or inside_reported(path):
            continue
        was, now = before[path], after[path]
        places = {
            abi: {"old": p, "new": q}
            for abi, p, q in zip(
                abis,
                _placement(old, path, abis).values(),
                _placement(new, path, abis).values(),
                strict=True,
            )
        }
        moved = [abi for abi in abis if places[abi]["old"] != places[abi]["new"]]
        retyped = was["canonical"] != now["canonical"]
        if not (moved or retyped or was["type"] != now["type"]):
            continue
        parts = []
        if was["type"] != now["type"]:
            same = "" if retyped else " (the same type)"
            parts.append(f"type {was['type']} -> {now['type']}{same}")
        for abi in moved:
            parts.append(
                f"{_where({abi: places[abi]['old']})} -> "
                f"{_where({abi: places[abi]['new']}).removeprefix(abi + ' ')}"
            )
        breaking = bool(moved or retyped)
        yield Change(
            "member-changed",
            name,
            breaking,
            f"{name}.{path}: {'; '.join(parts)}",
            member=path,
            abi=places if moved else None,
            old=was["type"],
            new=now["type"],
            old_loc=was["loc"],
            new_loc=now["loc"],
        )
        if breaking:
            reported.add(path)


# -- enums, constants, GUIDs, typedefs -------------------------------------------------


def _enums(old: Mapping, new: Mapping) -> Iterator[Change]:
    yield from _ends("enum", old, new)
    for name in sorted(old.keys() & new.keys()):
        yield from _values("enum-value", old[name]["values"], new[name]["values"], owner=name)


def _values(kind: str, old: Mapping, new: Mapping, owner: str | None = None) -> Iterator[Change]:
    """Constants, GUIDs and an enum's values: a name with a value."""
    yield from _ends(
        kind,
        old,
        new,
        value=lambda e: e["value"],
        detail=lambda e: f"= {_show(e['value'])}",
        owner=owner,
    )
    for name in sorted(old.keys() & new.keys()):
        was, now = old[name]["value"], new[name]["value"]
        if was != now:
            label = f"{owner}.{name}" if owner else f"{kind} {name}"
            yield Change(
                f"{kind}-changed",
                owner or name,
                True,
                f"{label}: {_show(was)} -> {_show(now)}",
                member=name if owner else None,
                old=was,
                new=now,
                old_loc=old[name]["loc"],
                new_loc=new[name]["loc"],
            )


def _show(value: Any) -> str:
    return f"0x{value:X}" if isinstance(value, int) and abs(value) > 9 else str(value)


def _typedefs(old: Mapping, new: Mapping) -> Iterator[Change]:
    yield from _ends("typedef", old, new, value=lambda e: e["type"], detail=lambda e: e["type"])
    for name in sorted(old.keys() & new.keys()):
        was, now = old[name], new[name]
        if was["type"] != now["type"] or was["canonical"] != now["canonical"]:
            retyped = was["canonical"] != now["canonical"]
            same = "" if retyped else " (the same type)"
            yield Change(
                "typedef-changed",
                name,
                retyped,
                f"typedef {name}: {was['type']} -> {now['type']}{same}",
                old=was["type"],
                new=now["type"],
                old_loc=was["loc"],
                new_loc=now["loc"],
            )


# -- functions and callback types ------------------------------------------------------


def _spelled(signature: Mapping, key: str) -> str:
    params = ", ".join(
        f"{p[key]} {p['name']}" if p.get("name") else p[key] for p in signature["params"]
    )
    if signature.get("variadic"):
        params += ", ..." if params else "..."
    return f"{signature['ret'][key]} ({params or 'void'})"


def _canonical(signature: Mapping) -> tuple:
    return (
        signature["ret"]["canonical"],
        tuple(p["canonical"] for p in signature["params"]),
        bool(signature.get("variadic")),
    )


def _signatures(kind: str, old: Mapping, new: Mapping) -> Iterator[Change]:
    yield from _ends(kind, old, new, value=lambda e: _spelled(e, "type"))
    for name in sorted(old.keys() & new.keys()):
        was, now = old[name], new[name]
        before, after = _spelled(was, "type"), _spelled(now, "type")
        if before == after and _canonical(was) == _canonical(now):
            continue
        breaking = _canonical(was) != _canonical(now)
        what = _signature_change(was, now) if breaking else "parameters renamed or respelled"
        yield Change(
            f"{kind}-changed",
            name,
            breaking,
            f"{kind} {name}: {what}",
            old=before,
            new=after,
            old_loc=was["loc"],
            new_loc=now["loc"],
        )


def _signature_change(was: Mapping, now: Mapping) -> str:
    parts = []
    if was["ret"]["canonical"] != now["ret"]["canonical"]:
        parts.append(f"returns {was['ret']['type']} -> {now['ret']['type']}")
    old_params, new_params = was["params"], now["params"]
    if len(old_params) != len(new_params):
        parts.append(f"{len(old_params)} -> {len(new_params)} parameters")
    for i, (p, q) in enumerate(zip(old_params, new_params, strict=False)):
        if p["canonical"] != q["canonical"]:
            label = q.get("name") or p.get("name") or f"#{i + 1}"
            parts.append(f"parameter {label} {p['type']} -> {q['type']}")
    if bool(was.get("variadic")) != bool(now.get("variadic")):
        parts.append("variadic" if now.get("variadic") else "no longer variadic")
    return "; ".join(parts)


# -- printing -------------------------------------------------------------------------


def _describe(info: Mapping[str, Any]) -> str:
    parts = [str(info.get("input"))]
    if info.get("sdk_version"):
        parts.append(f"SDK {info['sdk_version']}")
    if info.get("interface_version"):
        parts.append(f"interface version {info['interface_version']}")
    return ", ".join(parts)


def _locs(change: Change) -> str:
    return f"{change.old_loc or '(none)'} -> {change.new_loc or '(none)'}"


def format_text(report: Report) -> str:
    """For a terminal: a headline, then each change with both places."""
    lines = [f"old: {_describe(report.old)}", f"new: {_describe(report.new)}"]
    breaking = report.breaking
    other = [c for c in report.changes if not c.breaking]
    if not report.changes:
        lines.append("no ABI changes")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(breaking)} breaking change(s), {len(other)} other change(s)")
    for title, changes in (("Breaking changes", breaking), ("Other changes", other)):
        if not changes:
            continue
        lines += ["", f"{title}:"]
        for change in changes:
            lines.append(f"  [{change.kind}] {change.message}")
            lines.append(f"      {_locs(change)}")
    return "\n".join(lines) + "\n"


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|")


def format_markdown(report: Report) -> str:
    """For a pull request or release notes: a summary table, then one table per group."""
    breaking = report.breaking
    other = [c for c in report.changes if not c.breaking]
    lines = [
        "## ABI changes",
        "",
        "| | old | new |",
        "|---|---|---|",
        f"| input | `{_cell(report.old['input'])}` | `{_cell(report.new['input'])}` |",
        *(
            f"| {label} | {_cell(report.old[key])} | {_cell(report.new[key])} |"
            for label, key in (
                ("SDK version", "sdk_version"),
                ("interface version", "interface_version"),
            )
        ),
        "",
        f"**{len(breaking)} breaking change(s)**, {len(other)} other change(s).",
    ]
    for title, changes in (("Breaking changes", breaking), ("Other changes", other)):
        if not changes:
            continue
        lines += ["", f"### {title}", "", "| kind | change | old | new |", "|---|---|---|---|"]
        for c in changes:
            lines.append(
                f"| {c.kind} | {_cell(c.message)} | {_cell(c.old_loc)} | {_cell(c.new_loc)} |"
            )
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=1) + "\n"


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
