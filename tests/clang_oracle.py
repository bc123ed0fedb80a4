"""An independent layout oracle: libclang with an MSVC target lays the header out
(or, for ``wsl``, the Linux x86-64 target, as gcc would).

The tests compare the generator's ``--layout-json`` (and the imported ctypes
classes) with what clang computes for ``x86_64-pc-windows-msvc`` and
``i686-pc-windows-msvc``. Clang implements MSVC's record layout itself (bit-field
units, ``#pragma pack``, 8-byte ``long long`` on x86), so it shares no code and no
assumptions with ``generator/layout.py``: only the prelude's base typedefs, which
both sides must read alike anyway.

Example::

    >>> layout = clang_layout(Path("corpus/headers/wine/d3dkmthk.h"), abi="x86")
    >>> layout["D3DKMT_CREATEDEVICE"]["fields"]["Flags.RequestVSync"]
    {'bit_offset': 33, 'bit_size': 1}

Records are listed under the typedef that names them directly (``typedef
struct _X {...} X, *PX;`` gives ``X``), under their tag when they have none;
records of the prelude, unnamed records and incomplete ones are not listed.

The result has the shape of one ABI of ``generate --layout-json``::

    {NAME: {"size": int, "align": int,
            "fields": {PATH: {"offset": int} | {"bit_offset": int, "bit_size": int}}}}
"""

from __future__ import annotations

import ctypes
import functools
import json
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import clang.cindex as ci

from generator.preprocess import declares, fallbacks

PRELUDE = Path(__file__).resolve().parent.parent / "generator" / "data" / "prelude.h"

TARGETS: Mapping[str, str] = {
    "x64": "x86_64-pc-windows-msvc",
    "x86": "i686-pc-windows-msvc",
    # WSL 2: Linux x86-64, System V layout (GCC's bit-fields); no _WIN32, so the
    # prelude gives winadapter.h's base types and libdxg its 8-byte D3DKMT_PTR.
    "wsl": "x86_64-pc-linux-gnu",
}

# The same shape the preprocess stage treats as SAL (_In_, _Field_size_bytes_opt_).
SAL_NAME = re.compile(r"\b(_[A-Z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*_)(?![A-Za-z0-9_])(\s*\()?")
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.MULTILINE)
DIRECTIVE = re.compile(
    r"^[ \t]*#[ \t]*(define|undef|ifdef|ifndef|if|elif)\b[ \t]*(.*)$", re.MULTILINE
)
TAG_NAME = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Comments and string literals, so that "_ADVSCH_" in a comment is no macro.
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"', re.DOTALL)
UNKNOWN_TYPE = re.compile(r"unknown type name '([A-Za-z_]\w*)'")

RECORD_KINDS = (ci.CursorKind.STRUCT_DECL, ci.CursorKind.UNION_DECL)


class OracleError(RuntimeError):
    """Clang could not lay out a record of the header: the oracle has no answer."""


@dataclass(frozen=True, slots=True)
class OracleResult:
    """What one libclang parse of a header for one ABI gives.

    ``records`` is the ``--layout-json`` shape for that ABI (treat as read-only:
    it is cached). ``diagnostics`` are the errors clang reported outside every
    listed record (``file:line:col: message``), ``predeclared`` the names used
    but never declared that the oracle made incomplete structs, ``stubbed`` the
    includes it answered with an empty file.
    """

    records: Mapping[str, dict]
    diagnostics: tuple[str, ...]
    predeclared: tuple[str, ...]
    stubbed: tuple[str, ...]
    seconds: float


def clang_layout(
    header: Path,
    *,
    abi: str,
    include_dirs: Sequence[Path | str] = (),
    defines: Mapping[str, str] | None = None,
) -> dict:
    """Lay out every named record of ``header`` (and its includes) as MSVC would.

    Returns a fresh ``{NAME: {"size", "align", "fields"}}`` dict; raises
    ``OracleError`` if clang cannot lay out one of those records.

    >>> clang_layout(Path("tests/layout_cases/int64_on_x86.h"), abi="x86")["MIXED64"]
    {'size': 16, 'align': 8, 'fields': {'a': {'offset': 0}, 'b': {'offset': 8}}}
    """
    result = clang_oracle(header, abi=abi, include_dirs=include_dirs, defines=defines)
    # A JSON round trip is a cheap deep copy: callers may not mutate the cache.
    return json.loads(json.dumps(result.records))


def clang_oracle(
    header: Path,
    *,
    abi: str,
    include_dirs: Sequence[Path | str] = (),
    defines: Mapping[str, str] | None = None,
) -> OracleResult:
    """Like ``clang_layout``, with the diagnostics; cached per input and ABI."""
    if abi not in TARGETS:
        raise ValueError(f"unknown ABI {abi!r}: expected one of {sorted(TARGETS)}")
    header = Path(header).resolve()
    dirs = tuple(str(Path(d).resolve()) for d in include_dirs)
    files, _ = _header_files(header, dirs)
    # The files' mtimes are part of the key so that an edited header is re-parsed.
    stamps = tuple((str(f), f.stat().st_mtime_ns) for f in [PRELUDE, *files])
    return _parse(str(header), abi, dirs, tuple(sorted((defines or {}).items())), stamps)


def _header_files(header: Path, include_dirs: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The header and the includes found beside it or in ``include_dirs``.

    Returns those files and the include names found nowhere (the oracle stubs
    them: they are system headers such as ``winapifamily.h`` the prelude stands
    in for).
    """
    found: list[Path] = []
    missing: list[str] = []
    todo = [header]
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.append(path)
        text = _strip_comments(path.read_text(encoding="utf-8", errors="replace"))
        for quote, name in INCLUDE.findall(text):
            # Quotes look beside the including file first; both look in the
            # header's folder, as the generator does ("includes found beside it").
            bases = [path.parent] if quote == '"' else []
            bases += [header.parent, *map(Path, include_dirs)]
            hit = next((b / name for b in bases if (b / name).is_file()), None)
            if hit is not None:
                todo.append(hit.resolve())
            elif name not in missing:
                missing.append(name)
    return found, missing


def _strip_comments(text: str) -> str:
    """Blank comments (keeping string literals and line breaks) and join continuations."""

    def blank(m: re.Match[str]) -> str:
        s = m.group(0)
        return s if s.startswith('"') else "\n" * s.count("\n") or " "

    return COMMENT_OR_STRING.sub(blank, text.replace("\\\n", ""))


def _sal_macros(files: Sequence[Path]) -> dict[str, bool]:
    """SAL-shaped names used in ``files``: name -> whether it takes arguments.

    Names a header or the prelude tests or defines in a directive (include
    guards like ``_D3DKMTHK_H_``, ``_AMD64_``) and tag names are no annotations.
    """
    texts = [_strip_comments(f.read_text(encoding="utf-8", errors="replace")) for f in files]
    texts.append(_strip_comments(PRELUDE.read_text(encoding="utf-8")))
    reserved: set[str] = set()
    for text in texts:
        for keyword, rest in DIRECTIVE.findall(text):
            # A #define reserves the name it defines; its body may use SAL.
            names = IDENTIFIER.findall(rest)
            reserved.update(names[:1] if keyword == "define" else names)
        reserved.update(TAG_NAME.findall(text))
    sal: dict[str, bool] = {}
    for text in texts[:-1]:
        for name, paren in SAL_NAME.findall(text):
            if name not in reserved:
                sal[name] = sal.get(name, False) or bool(paren)
    return sal


@functools.lru_cache(maxsize=64)
def _parse(
    header: str,
    abi: str,
    include_dirs: tuple[str, ...],
    defines: tuple[tuple[str, str], ...],
    stamps: tuple[tuple[str, int], ...],
) -> OracleResult:
    """Parse once (twice if names must be predeclared) and collect the layouts."""
    started = time.perf_counter()
    path = Path(header)
    files, missing = _header_files(path, include_dirs)
    sal = _sal_macros(files)
    with tempfile.TemporaryDirectory(prefix="clang_oracle_") as tmp:
        stub_dir = Path(tmp, "stubs")
        for name in missing:
            stub = stub_dir / name
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("/* stub: the prelude stands in for this header */\n")
        # The wdm.h types the generator supplies when a header uses them without
        # declaring them (the real SDK's DEVICE_POWER_STATE): the same facts here.
        fallback_h = Path(tmp, "oracle_fallbacks.h")
        texts = "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
        fallback_h.write_text(
            "".join(decl for name, decl in fallbacks().items() if not declares(texts, name))
        )
        sal_h = Path(tmp, "oracle_sal.h")
        sal_h.write_text(
            "".join(
                f"#define {name}(...)\n" if call else f"#define {name}\n"
                for name, call in sorted(sal.items())
            )
        )
        args = [
            "-x", "c", "-std=c11",
            "-target", TARGETS[abi],
            # MSVC extensions (anonymous records, __declspec, #pragma pack); no
            # system headers: what the prelude lacks must show up as an error.
            "-fms-extensions", "-nostdinc", "-ferror-limit=0", "-Wno-everything",
            f"-I{path.parent}",
            *(f"-I{d}" for d in include_dirs),
            f"-I{stub_dir}",
            *(f"-D{k}={v}" for k, v in defines),
            "-include", str(PRELUDE),
            "-include", str(fallback_h),
            "-include", str(sal_h),
        ]  # fmt: skip
        index = ci.Index.create()
        tu = index.parse(header, args=args)
        predeclared = sorted(
            {m.group(1) for d in _errors(tu) if (m := UNKNOWN_TYPE.search(d.spelling))}
        )
        if predeclared:
            # Used but never declared (libdxg's D3DKMT_DISPLAYPORT_OPERATION_HEADER):
            # an incomplete struct, as the generator makes it an opaque type.
            opaque_h = Path(tmp, "oracle_opaque.h")
            opaque_h.write_text("".join(f"typedef struct {n} {n};\n" for n in predeclared))
            tu = index.parse(header, args=[*args, "-include", str(opaque_h)])
        records, diagnostics = _collect(tu, {str(f) for f in files})
    return OracleResult(
        records=records,
        diagnostics=tuple(diagnostics),
        predeclared=tuple(predeclared),
        stubbed=tuple(missing),
        seconds=time.perf_counter() - started,
    )


def _errors(tu: ci.TranslationUnit) -> Iterator[ci.Diagnostic]:
    """Clang's errors (warnings are off: MSVC-isms would flood them)."""
    return (d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error)


def _where(loc: ci.SourceLocation) -> str:
    """``file:line:col`` of a clang location, as the generator prints them."""
    return f"{loc.file.name if loc.file else '<command line>'}:{loc.line}:{loc.column}"


def _collect(tu: ci.TranslationUnit, files: set[str]) -> tuple[dict[str, dict], list[str]]:
    """Every complete named record declared in ``files``, and the other errors.

    An error inside a listed record's extent means its layout is not clang's
    real answer, so it raises; the others are returned as strings.
    """
    records = [r for top in tu.cursor.get_children() for r in _records(top, files)]
    names = _typedef_names(tu, files)
    errors = list(_errors(tu))
    out: dict[str, dict] = {}
    seen: set[ci.Cursor] = set()
    for rec in records:
        if _key(rec) in seen:
            continue  # reached twice: as a declaration and inside its typedef
        seen.add(_key(rec))
        name = names.get(_key(rec)) or _tag(rec)
        if name is None:
            continue  # an unnamed record, reached only through its parent
        ext = rec.extent
        inside = [
            d
            for d in errors
            if d.location.file
            and d.location.file.name == ext.start.file.name
            and ext.start.line <= d.location.line <= ext.end.line
        ]
        if inside:
            raise OracleError(
                f"{_where(rec.location)}: clang cannot lay out {name}:\n"
                + "\n".join(f"{_where(d.location)}: {d.spelling}" for d in inside)
            )
        layout = _layout(rec, name)
        if name in out and out[name] != layout:
            raise OracleError(f"{_where(rec.location)}: two different records named {name}")
        out[name] = layout
    diagnostics = [f"{_where(d.location)}: {d.spelling}" for d in errors]
    return out, diagnostics


def _records(cursor: ci.Cursor, files: set[str]) -> Iterator[ci.Cursor]:
    """Record definitions at or under ``cursor`` that lie in ``files``."""
    if cursor.kind not in (*RECORD_KINDS, ci.CursorKind.TYPEDEF_DECL, ci.CursorKind.FIELD_DECL):
        return
    if not _in_files(cursor, files):
        return
    if cursor.kind in RECORD_KINDS and cursor.is_definition():
        yield cursor
    # C has no scopes for tags: a named struct declared inside another (or
    # inside a typedef) is a record of the header too.
    for child in cursor.get_children():
        yield from _records(child, files)


def _in_files(cursor: ci.Cursor, files: set[str]) -> bool:
    """Whether ``cursor`` lies in one of ``files`` (resolved paths)."""
    return cursor.location.file is not None and _real(cursor.location.file.name) in files


@functools.lru_cache(maxsize=256)
def _real(name: str) -> str:
    """Clang names an include as it found it ("dir/../x.h"); ``files`` are resolved."""
    return str(Path(name).resolve())


def _key(record: ci.Cursor) -> ci.Cursor:
    """One identity for all declarations of a record: its first declaration."""
    # Cursors compare and hash by clang's own identity, so records from one
    # macro expansion (which share a source location) stay apart.
    return record.canonical


def _typedef_names(tu: ci.TranslationUnit, files: set[str]) -> dict[ci.Cursor, str]:
    """Record identity -> the first typedef in ``files`` that names it directly.

    ``typedef struct _X {...} X, *PX;`` names ``_X`` as ``X``; ``PX`` is a
    pointer and ``typedef X Y;`` an alias of an alias, neither counts.
    """
    names: dict[ci.Cursor, str] = {}
    for td in tu.cursor.get_children():
        if td.kind != ci.CursorKind.TYPEDEF_DECL:
            continue
        if not _in_files(td, files):
            continue
        under = td.underlying_typedef_type
        if under.kind == ci.TypeKind.ELABORATED and not under.is_const_qualified():
            named = under.get_named_type()
            if named.kind == ci.TypeKind.RECORD:
                names.setdefault(_key(named.get_declaration()), td.spelling)
    return names


def _tag(record: ci.Cursor) -> str | None:
    """The record's tag name (``_X`` of ``struct _X``), None when it has none."""
    # Unnamed records spell as "struct (unnamed at f.h:1:9)" or "(anonymous ...)".
    name = record.spelling
    return name if IDENTIFIER.fullmatch(name or "") else None


def _layout(record: ci.Cursor, name: str) -> dict:
    """``{"size", "align", "fields"}`` of one record, offsets from its start."""
    rtype = record.type
    size, align = rtype.get_size(), rtype.get_align()
    if size < 0 or align < 0:
        raise OracleError(f"{_where(record.location)}: clang gives {name} no layout ({size})")
    fields: dict[str, dict] = {}
    _fields(rtype, "", 0, fields, name)
    return {"size": size, "align": align, "fields": fields}


def _fields(rtype: ci.Type, prefix: str, base: int, out: dict[str, dict], name: str) -> None:
    """Add the members of record type ``rtype`` at bit ``base`` under ``prefix``."""
    for field in rtype.get_fields():
        offset = field.get_field_offsetof()
        if offset < 0:
            raise OracleError(f"{_where(field.location)}: clang gives {name} no layout")
        bits = base + offset
        if field.is_bitfield():
            if not field.spelling:
                continue  # unnamed bit-fields (": 0", padding) are no attributes
            width = field.get_bitfield_width()
            out[prefix + field.spelling] = {"bit_offset": bits, "bit_size": width}
            continue
        ftype = field.type.get_canonical()
        if _is_anonymous_member(field):
            # MSVC/C11 anonymous struct or union: its members are the parent's.
            _fields(ftype, prefix, bits, out, name)
            continue
        path = prefix + field.spelling
        out[path] = {"offset": bits // 8}
        if ftype.kind == ci.TypeKind.RECORD:
            _fields(ftype, path + ".", bits, out, name)


def _is_anonymous_member(field: ci.Cursor) -> bool:
    """True for the implicit field of an anonymous struct/union member."""
    decl = field.type.get_canonical().get_declaration()
    if decl.kind not in RECORD_KINDS:
        return False
    return bool(ci.conf.lib.clang_Cursor_isAnonymousRecordDecl(decl))


def _register() -> None:
    """Declare the libclang function the Python bindings of clang 18 do not wrap."""
    fn = ci.conf.lib.clang_Cursor_isAnonymousRecordDecl
    fn.argtypes = [ci.Cursor]
    fn.restype = ctypes.c_uint


_register()
