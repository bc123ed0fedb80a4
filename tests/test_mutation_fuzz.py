"""Mutated headers and pages never break the generator: each ``generate`` either
writes bindings that import and pass ``check_layout()``, or stops with one located
error (exit status 2) and leaves the output folder as it was; ``diff`` and ``show``
on the same header, and on a mutated ABI snapshot, answer or give one located
error; never a traceback.

The inputs are the sample header and the corpus pages of what it declares, with
tokens deleted, inserted (C and preprocessor pieces for the header, markdown and
HTML for the pages), repeated, swapped, and the text cut short; and libdxg's
d3dkmthk.h with lines about the architecture put in or taken out. Fixed seed; for
long runs:

- ``D3DKMT_FUZZ_MUTATIONS=2000``: that many mutated headers, half as many page
  sets and an eighth as many libdxg headers with lines about the architecture
  put in or taken out (default 40, 20 and 5);
- ``D3DKMT_FUZZ_SEED=N``: another seed (shared with ``test_layout_fuzz.py``).

A failing input is kept in the test's temp folder, named in the failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

from conftest import load_module

from generator.cli import main, sample_dir

MUTATIONS = int(os.environ.get("D3DKMT_FUZZ_MUTATIONS", "40"))
SEED = int(os.environ.get("D3DKMT_FUZZ_SEED", "0"))

C_PIECES = [
    "{", "}", ";", ",", "*", "(", ")", "[", "]", ":", "=", "<<", ">>", "~", "!", "?", "...",
    "\n#if 1\n", "\n#endif\n", "\n#else\n", "\n#elif\n", "\n#define X\n", "\n#define\n",
    "\n#define F(a) a##a\n", "\n#undef\n", "\n#ifdef\n", "\n#pragma\n", "\n#pragma pack(push, 1)\n",
    "\n#pragma pack(pop)\n", "\n#pragma pack(\n", '\n#include "nowhere.h"\n', "\n#error x\n",
    "__declspec(align(8))", "DECLSPEC_ALIGN(3)", "0", "-1", "99999999999999999999", "0x80000000",
    "UINT", "struct", "union", "enum", "typedef", "const", "volatile", "unsigned", "long long",
    "char", "void", "__int64", "_In_", "_Out_writes_bytes_(x)", "D3DKMT_HANDLE", "X",
    "sizeof(X)", "1/0", '"str"', "'c'", "C_ASSERT(sizeof(X) == 4);", "\\\n", "/*", "*/", "//",
    "\x00", "\u00e9",
]  # fmt: skip
PAGE_PIECES = [
    "<table>", "</table>", "<tr>", "<td>", "</td>", "<b>", "</b>", "<br/>", "<p>", "<!--", "-->",
    "&amp;", "&#xD800;", "&#0;", "&bogus;", "|", "| --- |", "---", "```", "`", "[link](", "](x)",
    "## -struct-fields", "## -description", "## -remarks", "### -field hDevice", "### -field",
    "## ", "# ", "\n", "\n\n", "\x00", "\r", "\u2028", "\u00e9", "\ufeff", "* ", "1. ", "> ",
    "    ", "\t", "<", ">", '"', "'", ":", "- ", "api_name:", "UID: ", "\n---\n", "{", "}", "\\",
    '<a href="', "<img src=x>", "<xref:x>", ":::", "**", "__",
]  # fmt: skip
JSON_PIECES = [
    "{", "}", "[", "]", ",", ":", '"', "null", "true", "-1", "1e999", '"x"', "0", "{}", "[]",
    '"size"', '"records"', '"x86"', "99999999999999999999",
]  # fmt: skip
# Lines put into libdxg's headers: what its x86 view and size checks read.
ARCH_LINES = [
    "#ifdef _AMD64_", "#if defined(_X86_)", "#ifndef _WIN64", "#else", "#endif",
    "#elif defined(_M_IX86)", "C_ASSERT(sizeof(D3DKMT_HANDLE) == 4);",
    "C_ASSERT(sizeof(PVOID) == 8);", "C_ASSERT(sizeof(D3DKMT_CREATEDEVICE) == 24);",
    "#pragma pack(push, 4)", "#pragma pack(pop)", "#define _AMD64_ 1", "#undef _AMD64_",
    "typedef struct _ZZ { UINT a; VOID * __ptr32 p; UCHAR c; } ZZ;",
    "typedef struct DECLSPEC_ALIGN(16) _YY { UINT a; } YY;",
    "typedef struct _WW { UINT a[sizeof(PVOID)]; } WW;",
]  # fmt: skip
_TOKEN = re.compile(r"\s+|\w+|\"[^\"\n]*\"|.", re.S)
_ERROR_LINE = re.compile(r"[^\s:][^:\n]*(:\d+:\d+)?: error: .+")
# The pages of what the sample header declares, in the corpus's docs/d3dkmthk.
SAMPLE_PAGES = [
    "ns-d3dkmthk-_d3dkmt_destroyallocation.md", "ns-d3dkmthk-_d3dkmt_destroyallocation2.md",
    "ne-d3dkmthk-_d3dkmt_allocationresidencystatus.md", "nf-d3dkmthk-d3dkmtdestroyallocation.md",
    "nf-d3dkmthk-d3dkmtdestroyallocation2.md", "nc-d3dkmthk-pfnd3dkmt_destroyallocation.md",
]  # fmt: skip
OLD = "# the previous output\n"


def mutate(text: str, pieces: list[str], rng: random.Random) -> str:
    tokens = _TOKEN.findall(text)
    for _ in range(rng.randint(1, 4)):
        if not tokens:
            break
        op, at = rng.random(), rng.randrange(len(tokens))
        if op < 0.3:
            del tokens[at]
        elif op < 0.6:
            tokens.insert(at, rng.choice(pieces))
        elif op < 0.75:
            tokens[at:at] = tokens[at : at + rng.randint(1, 40)]
        elif op < 0.85:
            tokens = tokens[:at]
        else:
            other = rng.randrange(len(tokens))
            tokens[at], tokens[other] = tokens[other], tokens[at]
    return "".join(tokens)


def _command(args: list[str], ok: tuple[int, ...]) -> tuple[int | None, str | None]:
    """Run the CLI in this process: its exit status, or what is wrong with the run
    (a traceback, an exit status not in ``ok`` nor 2, 2 without one located error)."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = main(args)
    except BaseException as exc:  # noqa: BLE001 - exactly what must never happen
        return None, f"{args[0]} raised {exc!r}"
    text = stderr.getvalue()
    if "Traceback" in text:
        return None, f"{args[0]} printed a traceback:\n" + text[-3000:]
    errors = [line for line in text.splitlines() if ": error:" in line]
    if status == 2 and (len(errors) != 1 or not _ERROR_LINE.fullmatch(errors[0])):
        return None, f"{args[0]}: exit 2 without one located error line:\n" + text[-3000:]
    if status != 2 and status not in ok:
        return None, f"{args[0]}: exit status {status}:\n" + text[-3000:]
    return status, None


def run_once(header: Path, docs: Path | None, out: Path, *extra: str) -> str | None:
    """What is wrong with one run, or None: exit 0 and bindings that import and
    check, or exit 2, one located error and the old output untouched."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    (out / f"{header.stem}.py").write_text(OLD)
    args = ["generate", "--header", str(header), "--out", str(out), "--no-cache", *extra]
    args += ["--docs", str(docs)] if docs else []
    status, problem = _command(args, ok=(0,))
    if problem:
        return problem
    if status == 2:
        if [p.name for p in out.iterdir()] != [f"{header.stem}.py"]:
            return f"a failed run changed the output folder: {sorted(os.listdir(out))}"
        if (out / f"{header.stem}.py").read_text() != OLD:
            return "a failed run changed the output"
        return None
    module = load_module(out / f"{header.stem}.py")
    problems = module.check_layout()
    return f"check_layout(): {problems}" if problems else None


def test_mutated_headers(tmp_path: Path) -> None:
    """``generate`` (for Windows or, one time in four, WSL, with the JSON outputs
    now and then), ``diff`` from the sample and ``show`` of one of its records."""
    rng = random.Random(SEED)
    sample = sample_dir() / "d3dkmthk.h"
    base = sample.read_text(encoding="utf-8")
    failures = []
    for case in range(MUTATIONS):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        header = folder / "d3dkmthk.h"
        header.write_text(mutate(base, C_PIECES, rng), encoding="utf-8")
        extra = ["--abi", "wsl"] if rng.random() < 0.25 else []
        if rng.random() < 0.25:
            extra += ["--layout-json", str(folder / "layout.json")]
            extra += ["--report-json", str(folder / "report.json")]
        problem = run_once(header, None, folder / "out", *extra)
        abi = ["--abi", "wsl"] if "wsl" in extra else []
        if not problem:
            _, problem = _command(["diff", "--no-cache", *abi, str(sample), str(header)], (0, 1))
        if not problem:
            show = ["show", "--no-cache", "--header", str(header), "D3DKMT_DESTROYALLOCATION2"]
            _, problem = _command(show, (0, 1))
        if problem:
            failures.append(f"{header}: {problem}")
        else:
            shutil.rmtree(folder)
    assert not failures, "\n\n".join(failures[:3])


def _replace_a_value(data: Any, rng: random.Random) -> Any:
    """``data`` (parsed JSON) with one value, anywhere in it, of another kind."""
    leaves: list[tuple[Any, Any]] = []  # (container, key)

    def walk(node: Any) -> None:
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, dict | list) and value and rng.random() < 0.9:
                walk(value)
            else:
                leaves.append((node, key))

    walk(data)
    container, key = rng.choice(leaves)
    container[key] = rng.choice([None, 1, -5, "x", [], {}, [1], {"a": 1}, True, 1.5])
    return data


def test_mutated_snapshots(tmp_path: Path) -> None:
    """``diff`` of an ABI snapshot (``--layout-json``) mutated as text or with one
    value of another kind, against the whole one and against the header, either
    way round, in each format."""
    rng = random.Random(SEED)
    sample = sample_dir() / "d3dkmthk.h"
    whole = tmp_path / "whole.json"
    _, problem = _command(["generate", "--no-cache", "--header", str(sample), "--out",
                           str(tmp_path / "out"), "--layout-json", str(whole)], (0,))  # fmt: skip
    assert problem is None
    base = whole.read_text(encoding="utf-8")
    failures = []
    for case in range(MUTATIONS):
        mutated = tmp_path / f"case{case}.json"
        if case % 2:
            text = json.dumps(_replace_a_value(json.loads(base), rng))
        else:
            text = mutate(base, JSON_PIECES, rng)
        mutated.write_text(text, encoding="utf-8")
        for pair in ((whole, mutated), (mutated, sample), (sample, mutated)):
            form = ["--format", rng.choice(["text", "markdown", "json"])]
            _, problem = _command(["diff", "--no-cache", *form, *map(str, pair)], (0, 1))
            if problem:
                failures.append(f"{mutated}: {problem}")
                break
        else:
            mutated.unlink()
    assert not failures, "\n\n".join(failures[:3])


def test_mutated_pages(tmp_path: Path, corpus: Path) -> None:
    rng = random.Random(SEED)
    pages = {name: (corpus / "docs" / "d3dkmthk" / name).read_text(encoding="utf-8")
             for name in SAMPLE_PAGES}  # fmt: skip
    failures = []
    for case in range(max(MUTATIONS // 2, 1)):
        folder = tmp_path / f"case{case}"
        docs = folder / "docs"
        docs.mkdir(parents=True)
        for name, text in pages.items():
            if rng.random() < 0.5:
                text = mutate(text, PAGE_PIECES, rng)
            (docs / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        for extra in ((), ("--strict",)):
            problem = run_once(sample_dir() / "d3dkmthk.h", docs, folder / "out", *extra)
            if problem:
                failures.append(f"{docs} {' '.join(extra)}: {problem}")
        if not failures:
            shutil.rmtree(folder)
    assert not failures, "\n\n".join(failures[:3])


def test_mutated_architecture_lines(tmp_path: Path, corpus: Path) -> None:
    """libdxg with lines about the architecture put in or taken out: the x86 view
    (groups read again), pointer widths, packs and the header's size checks."""
    rng = random.Random(SEED)
    sources = sorted((corpus / "headers" / "libdxg").glob("*.h"))
    base = (corpus / "headers" / "libdxg" / "d3dkmthk.h").read_text(encoding="utf-8")
    lines = base.replace("\r\n", "\n").split("\n")
    failures = []
    for case in range(max(MUTATIONS // 8, 1)):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        for source in sources:
            shutil.copy(source, folder / source.name)
        mutated = list(lines)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(mutated))
            if rng.random() < 0.7:
                mutated.insert(at, rng.choice(ARCH_LINES))
            else:
                del mutated[at]
        header = folder / "d3dkmthk.h"
        header.write_text("\n".join(mutated), encoding="utf-8")
        problem = run_once(header, None, folder / "out")
        if problem:
            failures.append(f"{header}: {problem}")
        else:
            shutil.rmtree(folder)
    assert not failures, "\n\n".join(failures[:3])
