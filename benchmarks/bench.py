"""Time d3dkmt-codegen on the real corpus, side by side with its peers.

Prints one table (tool | header | time | peak RSS | notes), where our time goes
stage by stage, and what importing the generated module costs; ``--json FILE``
saves the same numbers. It is a script, not a test: nothing here fails on a
slow number.

Example (from the checkout, project venv active)::

    python benchmarks/bench.py                     # best of 5
    python benchmarks/bench.py --repeat 3 --json /tmp/bench.json --profile-import

Inputs come from ``$D3DKMT_CORPUS`` (default ``../shared/corpus`` beside the
checkout). Peers run from their own venv (``--peers``, default ``/tmp/peers``),
so that their dependencies never meet ours; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRELUDE = REPO / "generator" / "data" / "prelude.h"
HEADERS = ("libdxg", "wine", "reactos")
DOC_DIRS = ("docs/d3dkmthk", "docs/d3dukmdt")
MODULE = "d3dkmthk"
MB = 1024  # ru_maxrss is in KiB on Linux
TARGETS = {"x64": "x86_64-pc-windows-msvc", "x86": "i686-pc-windows-msvc"}


# ---------------------------------------------------------------------------
# Running things


@dataclass
class Run:
    """One finished subprocess: wall time, its own peak RSS, and what it printed."""

    wall: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run(cmd: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run ``cmd`` to the end; ``os.wait4`` gives the peak RSS of that child alone."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_maxrss / MB, proc.returncode, out.read(), err.read())


@dataclass
class Row:
    """One line of the main table."""

    tool: str
    header: str
    seconds: float | None
    rss_mb: float | None
    notes: str
    extra: dict = field(default_factory=dict)


def best(runs: Sequence[Run]) -> Run:
    """The fastest run: the least disturbed by the rest of the machine."""
    return min(runs, key=lambda r: r.wall)


def failed(what: str, r: Run) -> str:
    """A one-line note for a run that did not succeed: its last line of output."""
    tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or ["(no output)"]
    return f"{what} failed (exit {r.returncode}): {tail[0][:160]}"


# ---------------------------------------------------------------------------
# d3dkmt-codegen: one fresh process per build


def child_build(header: Path, docs: Sequence[Path], rules: str) -> None:
    """The body of a ``--child-build`` process: one build, numbers as JSON on stdout.

    Importing the generator is timed apart from ``build()``; the peak RSS is the
    whole process's (``resource.getrusage``), imports included.
    """
    import resource

    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from generator.pipeline import Options, build

    imported = time.perf_counter()
    # As the CLI runs it: the pages are read in a second process meanwhile.
    options = Options(
        header, docs=tuple(docs), rules=() if rules == "none" else None, parallel=True
    )
    result = build(options)
    done = time.perf_counter()
    rss = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / MB
    )
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "build_s": done - imported,
                "rss_mb": rss,
                "chars": len(result.text),
                "warnings": len(result.diagnostics.warnings),
            }
        )
    )


def measure_ours(header: Path, docs: Sequence[Path], rules: str, repeat: int) -> Row:
    """Best of ``repeat`` fresh processes, each running one full ``build()``."""
    name = header.parent.name
    cmd = [sys.executable, __file__, "--child-build", str(header), "--rules", rules]
    cmd += [arg for d in docs for arg in ("--docs", str(d))]
    runs, reports = [], []
    for _ in range(repeat):
        r = run(cmd, cwd=REPO)
        if r.returncode != 0:
            return Row(f"d3dkmt-codegen (rules: {rules})", name, None, None, failed("build", r))
        runs.append(r)
        reports.append(json.loads(r.stdout.strip().splitlines()[-1]))
    fastest = min(reports, key=lambda rep: rep["build_s"])
    notes = (
        f"build() {fastest['build_s']:.2f} s + import generator {fastest['import_s']:.2f} s; "
        f"docs, x64+x86, {fastest['chars'] // 1000} k chars"
    )
    return Row(
        f"d3dkmt-codegen (rules: {rules})",
        name,
        best(runs).wall,
        max(rep["rss_mb"] for rep in reports),
        notes,
        {
            "build_s": fastest["build_s"],
            "import_generator_s": fastest["import_s"],
            "all_wall_s": [r.wall for r in runs],
        },
    )


# ---------------------------------------------------------------------------
# d3dkmt-codegen as a maintainer runs it: the command line, with its cache


def measure_cli(corpus: Path, docs: Sequence[Path], repeat: int) -> dict[str, dict]:
    """Whole ``d3dkmt-codegen`` processes on libdxg (docs, both ABIs, shipped rules),
    best of ``repeat``, in four cases of the cache:

    - cold: an empty cache;
    - new header, pages cached: the cache holds a run on another header (Wine's)
      with the same pages, as at an SDK update;
    - generate / check on unchanged inputs: the cache holds this very run.
    """
    libdxg = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    wine = corpus / "headers" / "wine" / "d3dkmthk.h"
    pages = [arg for d in docs for arg in ("--docs", str(d))]

    def command(verb: str, header: Path, out: Path, cache: Path) -> list[str]:
        return [sys.executable, "-m", "generator", verb, "--header", str(header), *pages,
                "--out", str(out), "--cache-dir", str(cache)]  # fmt: skip

    cases: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as tmp:
        work = Path(tmp)
        primed = {"pages": work / "primed-pages", "all": work / "primed-all"}
        run(command("generate", wine, work / "o-wine", primed["pages"]), cwd=REPO)
        run(command("generate", libdxg, work / "o-all", primed["all"]), cwd=REPO)
        for case, verb, prime in (
            ("cold generate (empty cache)", "generate", None),
            ("new header, pages cached", "generate", "pages"),
            ("generate, unchanged inputs", "generate", "all"),
            ("check, unchanged inputs", "check", "all"),
        ):
            runs = []
            for i in range(repeat):
                cache = work / f"cache-{len(cases)}-{i}"
                if prime:
                    shutil.copytree(primed[prime], cache)
                out = work / ("o-all" if verb == "check" else f"out-{len(cases)}-{i}")
                r = run(command(verb, libdxg, out, cache), cwd=REPO)
                if r.returncode != 0:
                    cases[case] = {"error": failed(verb, r)}
                    break
                runs.append(r)
            else:
                fastest = best(runs)
                cases[case] = {"seconds": fastest.wall, "rss_mb": max(r.rss_mb for r in runs)}
    return cases


# ---------------------------------------------------------------------------
# d3dkmt-codegen: stage by stage, in this process


@dataclass
class Stage:
    """Where a stage's function lives; a ``part`` is timed inside whichever stage runs it."""

    name: str
    owner: object
    attr: str
    part: bool = False


def stages() -> list[Stage]:
    """The stage functions exactly as ``pipeline.build`` calls them, and their parts.

    Wrapping the names ``build`` looks up (rather than copying its body here)
    keeps the breakdown honest as ``pipeline.py`` changes: whatever ``build``
    does that no stage covers shows up as "other". Parts are library calls and
    a few private helpers; any that no longer exists is skipped.
    """
    import jinja2
    import markdown_it
    import pcpp
    import yaml
    from pycparser import c_parser

    from generator import docs, layout, pipeline, preprocess, render

    found = [
        Stage("preprocess", pipeline, "preprocess"),
        Stage("preprocess", pipeline, "size_assert_view"),  # the x86 view (its groups)
        Stage("parse", pipeline, "parse"),
        Stage("lower", pipeline, "lower"),
        Stage("layout", pipeline, "layouts"),
        Stage("layout", layout.Layout, "all_records"),
        Stage("docs", docs, "load_docs"),  # (the page reader looks it up when it reads)
        Stage("rules", pipeline, "load_rules"),
        Stage("render", pipeline, "render_module"),
        Stage("pcpp (parse + write)", pcpp.Preprocessor, "write", part=True),
        Stage("SAL side table", preprocess, "_strip_annotations", part=True),
        Stage("pycparser CParser.parse", c_parser.CParser, "parse", part=True),
        Stage("YAML front matter", yaml, "load", part=True),
        Stage("markdown-it parse", markdown_it.MarkdownIt, "parse", part=True),
        Stage("HTML to text", docs, "_to_text", part=True),
        Stage("view objects", getattr(render, "_Builder", None), "build", part=True),
        Stage("jinja2 templates", jinja2.Template, "render", part=True),
    ]
    return [s for s in found if s.owner is not None and hasattr(s.owner, s.attr)]


@contextlib.contextmanager
def timed(plan: Sequence[Stage], calls: dict[str, list[float]]) -> Iterator[None]:
    """Wrap the stage functions: each call appends its seconds to ``calls``.

    A stage's calls go under its name; a part's under ``"stage/part"``, for the
    stage running at the time (pycparser runs in both parse and lower, say).
    """
    saved = []
    running: list[str] = []

    def wrap(stage: Stage, fn: Callable) -> Callable:
        def timed_call(*args: object, **kwargs: object) -> object:
            if stage.part:
                key = f"{running[-1] if running else 'other'}/{stage.name}"
            else:
                key = stage.name
                running.append(stage.name)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                calls.setdefault(key, []).append(time.perf_counter() - started)
                if not stage.part:
                    running.pop()

        return timed_call

    # The cyclic GC is a part of every stage: its collections grow with the
    # live heap (ASTs, IR), and they land on whatever stage is allocating.
    collecting: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting.append(time.perf_counter())
        elif collecting:
            key = f"{running[-1] if running else 'other'}/cyclic GC"
            calls.setdefault(key, []).append(time.perf_counter() - collecting.pop())

    try:
        for stage in plan:
            fn = getattr(stage.owner, stage.attr)
            saved.append((stage.owner, stage.attr, fn))
            setattr(stage.owner, stage.attr, wrap(stage, fn))
        gc.callbacks.append(on_gc)
        yield
    finally:
        if on_gc in gc.callbacks:
            gc.callbacks.remove(on_gc)
        for owner, attr, fn in reversed(saved):
            setattr(owner, attr, fn)


def stage_breakdown(header: Path, docs: Sequence[Path], rules: str, repeat: int) -> dict:
    """Run ``build()`` ``repeat`` times here; per stage, its calls in the fastest run.

    The first run is cold for this process (modules imported, nothing built);
    later ones are warm, helped by any cache a stage or library keeps.
    """
    from generator.pipeline import Options, build

    options = Options(header, docs=tuple(docs), rules=() if rules == "none" else None)
    plan = stages()
    totals, per_run, result = [], [], None
    for _ in range(repeat):
        calls: dict[str, list[float]] = {}
        with timed(plan, calls):
            started = time.perf_counter()
            result = build(options)
            totals.append(time.perf_counter() - started)
        per_run.append(calls)
    fastest = per_run[totals.index(min(totals))]
    order = list(dict.fromkeys(s.name for s in plan if not s.part))
    rows: dict[str, dict] = {}
    for name in order:
        if name in fastest:
            rows[name] = {"calls_s": fastest[name], "total_s": sum(fastest[name]), "part": False}
        parts = [k for k in fastest if k.startswith(name + "/")]
        for key in sorted(parts, key=lambda k: k.endswith("/cyclic GC")):  # GC last
            if sum(fastest[key]) >= 0.001:
                rows[key] = {"calls_s": fastest[key], "total_s": sum(fastest[key]), "part": True}
    top = sum(v["total_s"] for v in rows.values() if not v["part"])
    gc_s = sum(sum(v) for k, v in fastest.items() if k.endswith("/cyclic GC"))
    return {
        "gc_s": gc_s,
        "cold_s": totals[0],
        "warm_s": min(totals),
        "stages": rows,
        "other_s": max(min(totals) - top, 0.0),
        "text": result.text if result is not None else "",
    }


# ---------------------------------------------------------------------------
# The generated module: import time and check_layout()

IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(\S+)\s*$")


def import_costs(text: str, repeat: int, profile: bool) -> dict:
    """Import the generated module in fresh processes: first (no .pyc), then cached."""
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(tmp)
        (folder / f"{MODULE}.py").write_text(text, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.pop("PYTHONPYCACHEPREFIX", None)
        cmd = [sys.executable, "-X", "importtime", "-c", f"import {MODULE}"]

        def once(fresh: bool) -> dict:
            if fresh:
                shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            r = run(cmd, cwd=folder, env=env)
            if r.returncode != 0:
                raise RuntimeError(failed(f"import {MODULE}", r))
            times = {}
            for line in r.stderr.splitlines():
                if m := IMPORTTIME.match(line):
                    times[m.group(3)] = (int(m.group(1)) / 1000, int(m.group(2)) / 1000)
            self_ms, cumulative_ms = times[MODULE]
            return {
                "cumulative_ms": cumulative_ms,
                "self_ms": self_ms,
                "ctypes_ms": times.get("ctypes", (0, 0))[1],
                "process_s": r.wall,
            }

        first = min((once(True) for _ in range(repeat)), key=lambda d: d["cumulative_ms"])
        cached = min((once(False) for _ in range(repeat)), key=lambda d: d["cumulative_ms"])
        added = added_to_bare_interpreter(folder, env, max(repeat, 5))
        check = run(
            [sys.executable, "-c", CHECK_LAYOUT.format(module=MODULE, n=repeat)],
            cwd=folder,
            env=env,
        )
        if check.returncode != 0:
            raise RuntimeError(failed("check_layout()", check))
        out = {
            "first": first,
            "cached": cached,
            "check_layout": json.loads(check.stdout),
            "size_kb": len(text.encode()) // 1024,
            "added_ms": added,
        }
        if profile:
            pieces = run(
                [sys.executable, __file__, "--child-import-profile", str(folder / f"{MODULE}.py")],
                cwd=folder,
                env=env,
            )
            out["statements"] = (
                json.loads(pieces.stdout)
                if pieces.returncode == 0
                else {"error": failed("profile", pieces)}
            )
            prof = run(
                [sys.executable, "-c", PROFILE_IMPORT.format(module=MODULE)], cwd=folder, env=env
            )
            out["profile"] = prof.stdout if prof.returncode == 0 else failed("cProfile", prof)
        return out


IMPORT_ROUNDS = 15


def added_to_bare_interpreter(folder: Path, env: dict, repeat: int) -> dict[str, float]:
    """What ``import d3dkmthk`` adds to ``python -c pass``, wall clock: with the
    ``.pyc`` in place, and where none can be used or written
    (``PYTHONDONTWRITEBYTECODE`` and no ``__pycache__``, as in a read-only install
    or the first import after a regenerate).

    Each figure is the fastest of at least ``IMPORT_ROUNDS`` processes, each run
    right after a bare one (fastest kept too): a few tens of milliseconds on a
    shared machine drift more between runs than what is measured.
    """
    rounds = max(repeat, IMPORT_ROUNDS)

    def added(code: str, extra: dict) -> float:
        bare, imported = [], []
        for _ in range(rounds):
            bare.append(run([sys.executable, "-c", "pass"], cwd=folder, env=env).wall)
            imported.append(run([sys.executable, "-c", code], cwd=folder,
                                env={**env, **extra}).wall)  # fmt: skip
        return (min(imported) - min(bare)) * 1e3

    run([sys.executable, "-c", f"import {MODULE}"], cwd=folder, env=env)  # writes the .pyc
    with_pyc = added(f"import {MODULE}", {})
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    without = added(f"import {MODULE}", {"PYTHONDONTWRITEBYTECODE": "1"})
    return {"with_pyc": with_pyc, "without_pyc": without}


CHECK_LAYOUT = """
import json, time, {module} as m
runs = []
for _ in range({n}):
    t = time.perf_counter(); problems = m.check_layout(); runs.append(time.perf_counter() - t)
print(json.dumps({{"first_ms": runs[0] * 1e3, "best_ms": min(runs) * 1e3,
                  "problems": len(problems), "records": len(m._LAYOUT)}}))
"""

PROFILE_IMPORT = """
import cProfile, pstats
prof = cProfile.Profile()
prof.enable()
import {module}
prof.disable()
pstats.Stats(prof).sort_stats("tottime").print_stats(12)
"""


def statement_kind(stmt: object) -> str:
    """What a top-level statement of the generated module makes, for the import profile."""
    import ast

    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return "imports (ctypes, enum, ...)"
    if isinstance(stmt, ast.ClassDef):
        bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in stmt.bases}
        if bases & {"Enum", "IntEnum", "Flag", "IntFlag"}:
            return "enum classes"
        if bases & {"Structure", "Union"}:
            return "record classes (class statement, docstring, validate)"
        return "runtime helpers"
    if isinstance(stmt, ast.FunctionDef):
        if stmt.decorator_list:  # @_lazy(...) def _make(): made on first use
            return "builders registered (@_lazy)"
        return "runtime helpers"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        if isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "_msvc":
            return "layout tables kept (_msvc)"
    if isinstance(stmt, ast.Assign):
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, ast.Attribute):
            return f"record .{target.attr} = ... (ctypes lays the record out)"
        if isinstance(target, ast.Name) and target.id in ("_LAYOUT", "_SIZE_CHECKS"):
            return "_LAYOUT and _SIZE_CHECKS tables"
        if isinstance(value, ast.Attribute):
            return "enum members re-exported (X = ENUM.X)"
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return {
                "_callback": "callback types (_callback)",
                "_Function": "functions (_Function)",
                "POINTER": "POINTER(...) aliases",
            }.get(value.func.id, "other")
        if isinstance(value, ast.Constant | ast.UnaryOp | ast.BinOp):
            return "constants"
        if isinstance(value, ast.Name):
            return "type aliases"
    return "other"


def child_import_profile(path: Path) -> None:
    """Execute ``path`` one top-level statement at a time; milliseconds per kind.

    Statements are compiled first, so this is the cost of running the module
    body (as from a cached .pyc); unmarshalling the .pyc is timed apart.
    """
    import ast
    import importlib.util
    import marshal
    import types

    tree = ast.parse(path.read_text(encoding="utf-8"))
    code = [(statement_kind(s), compile(ast.Module([s], []), str(path), "exec")) for s in tree.body]
    del tree
    gc.collect()  # the AST is garbage: do not let its collection land on a statement
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.modules[path.stem] = module  # check_layout() and friends look themselves up here
    # A collection the module's own allocations trigger is real import cost,
    # but it lands on whichever statement happens to run: count it apart.
    collecting: list[float] = []
    gc_spent: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting.append(time.perf_counter())
        elif collecting:
            gc_spent.append(time.perf_counter() - collecting.pop())

    gc.callbacks.append(on_gc)
    spent: dict[str, list[float]] = {}
    for kind, unit in code:
        before = sum(gc_spent)
        started = time.perf_counter()
        exec(unit, module.__dict__)  # our own generated module
        elapsed = time.perf_counter() - started - (sum(gc_spent) - before)
        spent.setdefault(kind, []).append(elapsed)
    gc.callbacks.remove(on_gc)
    spent["cyclic GC triggered by the body"] = gc_spent
    out = {kind: {"ms": sum(t) * 1e3, "statements": len(t)} for kind, t in spent.items()}
    pyc = Path(importlib.util.cache_from_source(str(path)))
    if pyc.exists():
        data = pyc.read_bytes()[16:]  # the header: magic, flags, mtime, size
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            marshal.loads(data)
            runs.append(time.perf_counter() - started)
        out["unmarshal the .pyc"] = {"ms": min(runs) * 1e3, "statements": 0}
    print(json.dumps(dict(sorted(out.items(), key=lambda kv: -kv[1]["ms"]))))


# ---------------------------------------------------------------------------
# Peers: clang2py (ctypeslib2) and ctypesgen, from their own venv


def peer_inputs(header: Path, work: Path) -> tuple[list[str], list[str]]:
    """What clang needs to read a Windows header on Linux, as our oracle gives it.

    Returns ``-include``/``-I`` arguments (prelude, SAL macros defined empty,
    stubs for system headers, predeclared opaque names) and notes. The recipe is
    ``tests/clang_oracle.py``'s, reused rather than copied.
    """
    sys.path.insert(0, str(REPO / "tests"))
    import clang_oracle  # needs the test extra (libclang) in this venv

    oracle = clang_oracle.clang_oracle(header, abi="x64")
    files, _ = clang_oracle._header_files(header.resolve(), ())
    sal = clang_oracle._sal_macros(files)
    work.mkdir(parents=True, exist_ok=True)
    stubs = work / "stubs"
    stubs.mkdir(exist_ok=True)
    for name in oracle.stubbed:
        (stubs / name).parent.mkdir(parents=True, exist_ok=True)
        (stubs / name).write_text("/* stub: the prelude stands in for this header */\n")
    (work / "sal.h").write_text(
        "".join(
            f"#define {n}(...)\n" if call else f"#define {n}\n" for n, call in sorted(sal.items())
        )
    )
    (work / "opaque.h").write_text(
        "".join(f"typedef struct {n} {n};\n" for n in oracle.predeclared)
    )
    args = [
        f"-I{header.parent}",
        f"-I{stubs}",
        "-include",
        str(PRELUDE),
        "-include",
        str(work / "sal.h"),
        "-include",
        str(work / "opaque.h"),
    ]
    notes = [f"{len(sal)} SAL macros empty"]
    if oracle.predeclared:
        notes.append("predeclared " + ", ".join(oracle.predeclared))
    return args, notes


def peer_env(venv: Path) -> dict:
    """The environment for peer tools: their venv first, libclang found for ctypeslib2."""
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    # The libclang wheel bundles the shared library where ctypeslib2's search
    # (find_library) never looks; CLANG_LIBRARY_PATH is its documented override.
    libs = sorted(venv.glob("lib/python*/site-packages/clang/native/libclang*.so*"))
    if libs and "CLANG_LIBRARY_PATH" not in env:
        env["CLANG_LIBRARY_PATH"] = str(libs[0])
    return env


def imports_ok(py: Path) -> str:
    """'imports' or why the generated module does not import here."""
    r = run([sys.executable, "-c", f"import {py.stem}"], cwd=py.parent)
    if r.returncode == 0:
        return "output imports"
    tail = r.stderr.strip().splitlines()[-1:] or [f"exit {r.returncode}"]
    return f"output does not import ({tail[0][:100]})"


def measure_clang2py(
    venv: Path, header: Path, work: Path, repeat: int, *, abi: str, kinds: str
) -> Row:
    """clang2py on ``header`` for one target; best of ``repeat`` processes."""
    tool = f"clang2py -k {kinds} ({abi})"
    exe = venv / "bin" / "clang2py"
    if not exe.exists():
        return Row(tool, header.parent.name, None, None, f"not installed: {exe} (see README)")
    args, prepared = peer_inputs(header, work)
    out = work / f"clang2py_{abi}_{kinds}.py"
    clang_args = ["-x", "c", "-std=c11", "-fms-extensions", "-nostdinc", *args]
    cmd = [
        str(exe),
        "-t",
        TARGETS[abi],
        "-i",
        "-k",
        kinds,
        f"--clang-args={' '.join(clang_args)}",
        str(header),
        "-o",
        str(out),
    ]
    runs = run_peer(cmd, venv, repeat)
    if isinstance(runs, Run):
        return Row(tool, header.parent.name, None, None, failed("clang2py", runs))
    fastest = best(runs)
    classes = len(re.findall(r"^class ", out.read_text(), re.MULTILINE))
    notes = [f"one ABI, no docs, {classes} classes", imports_ok(out)]
    extra = {"all_wall_s": [r.wall for r in runs], "inputs": prepared, "command": cmd}
    return Row(
        tool,
        header.parent.name,
        fastest.wall,
        max(r.rss_mb for r in runs),
        "; ".join(notes),
        extra,
    )


def run_peer(cmd: list[str], venv: Path, repeat: int) -> list[Run] | Run:
    """``repeat`` runs of a peer's command, or the first one that failed."""
    runs = []
    for _ in range(repeat):
        r = run(cmd, env=peer_env(venv))
        if r.returncode != 0:
            return r
        runs.append(r)
    return runs


def measure_ctypesgen(venv: Path, header: Path, work: Path, repeat: int) -> Row:
    """ctypesgen (its own yacc parser, ``gcc -E`` for the preprocessor); optional."""
    tool = "ctypesgen (x64)"
    exe = venv / "bin" / "ctypesgen"
    if not exe.exists():
        return Row(tool, header.parent.name, None, None, f"not installed: {exe}")
    if shutil.which("gcc") is None:
        return Row(tool, header.parent.name, None, None, "needs gcc -E as its preprocessor")
    args, _ = peer_inputs(header, work)
    includes = [a for a in args if not a.startswith("-I")]
    out = work / "ctypesgen_out.py"
    cmd = [
        str(exe),
        "--cpp",
        " ".join(["gcc", "-E", "-nostdinc", *includes]),
        *[a for a in args if a.startswith("-I")],
        "--all-headers",
        str(header),
        "-o",
        str(out),
    ]
    runs = run_peer(cmd, venv, repeat)
    if isinstance(runs, Run):
        return Row(tool, header.parent.name, None, None, failed("ctypesgen", runs))
    fastest = best(runs)
    errors = sum(1 for line in fastest.stderr.splitlines() if line.startswith("ERROR"))
    notes = f"one ABI (host's), no docs, {errors} parse errors; {imports_ok(out)}"
    return Row(tool, header.parent.name, fastest.wall, max(r.rss_mb for r in runs), notes)


# ---------------------------------------------------------------------------
# Printing


def table(rows: Sequence[Sequence[str]]) -> str:
    """A plain pipe table; the first row is the heading."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


# Issue 10's bar: (figure, limit, unit); ratios are to clang2py x64 in the same run.
BAR = (
    ("cold generate (empty cache)", 1.0, "x"),
    ("new header, pages cached", 0.6, "x"),
    ("generate, unchanged inputs", 0.2, "x"),
    ("check, unchanged inputs", 0.2, "x"),
    ("import adds, with .pyc", 20.0, "ms"),
    ("import adds, without .pyc", 150.0, "ms"),
    ("peak RSS on libdxg", 150.0, "MiB"),
)


def bar_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """Each figure of the bar, measured in this run, its limit, and whether it is met."""
    peer = clang2py_seconds(results)
    cli = results.get("cli") or {}
    imp = results.get("import") or {}
    got: dict[str, float | None] = {}
    for case in BAR[:4]:
        secs = cli.get(case[0], {}).get("seconds")
        got[case[0]] = secs / peer if secs and peer else None
    added = imp.get("added_ms") or {}
    got["import adds, with .pyc"] = added.get("with_pyc")
    got["import adds, without .pyc"] = added.get("without_pyc")
    peaks = [c["rss_mb"] for c in cli.values() if "rss_mb" in c]
    got["peak RSS on libdxg"] = max(peaks) if peaks else None
    rows = []
    for name, limit, unit in BAR:
        value = got[name]
        shown = (
            "-" if value is None else (f"{value:.2f}x" if unit == "x" else f"{value:.0f} {unit}")
        )
        verdict = "-" if value is None else ("met" if value <= limit else "NOT met")
        rows.append((name, shown, f"<= {limit:g}{unit if unit == 'x' else ' ' + unit}", verdict))
    return rows


def clang2py_seconds(results: dict) -> float | None:
    """clang2py's x64 time (default kinds) in this run, the bar's yardstick."""
    return next(
        (r["seconds"] for r in results["rows"]
         if r["tool"] == "clang2py -k cdefstu (x64)" and r["seconds"]),
        None,
    )  # fmt: skip


def show(results: dict) -> str:
    """Everything ``main`` measured, as the text it prints."""
    out = [f"# {results['machine']}; best of {results['repeat']}", ""]
    out += [
        "## Issue 10's bar, in this run",
        table([("figure", "measured", "bar", ""), *bar_rows(results)]),
        "",
    ]
    rows = [("tool", "header", "time (s)", "peak RSS (MB)", "notes")]
    for row in results["rows"]:
        secs = "-" if row["seconds"] is None else f"{row['seconds']:.2f}"
        rss = "-" if row["rss_mb"] is None else f"{row['rss_mb']:.0f}"
        rows.append((row["tool"], row["header"], secs, rss, row["notes"]))
    out += [table(rows), ""]

    cli = results.get("cli")
    if cli:
        peer = clang2py_seconds(results)
        out.append(
            "## d3dkmt-codegen on libdxg (docs, x64+x86), whole process, "
            + (f"against clang2py x64 ({peer:.2f} s) in this run" if peer else "no clang2py here")
        )
        rows = [("case", "time (s)", "ratio to clang2py", "peak RSS (MB)")]
        for case, got in cli.items():
            if "error" in got:
                rows.append((case, "-", "-", got["error"]))
                continue
            ratio = f"{got['seconds'] / peer:.2f}x" if peer else "-"
            rows.append((case, f"{got['seconds']:.2f}", ratio, f"{got['rss_mb']:.0f}"))
        out += [table(rows), ""]

    b = results.get("stages")
    if b:
        out.append(
            f"## Stages of build() on {b['header']} (rules: {b['rules']}), in-process: "
            f"cold {b['cold_s']:.2f} s, warm best {b['warm_s']:.2f} s, "
            f"of which cyclic GC {b['gc_s']:.2f} s"
        )
        rows = [("stage", "calls (s)", "total (s)", "share")]
        for name, st in b["stages"].items():
            label = "  " + name.split("/", 1)[1] if st["part"] else name
            secs = st["calls_s"]
            calls = " + ".join(f"{s:.3f}" for s in secs) if len(secs) <= 4 else f"{len(secs)} calls"
            rows.append(
                (label, calls, f"{st['total_s']:.3f}", f"{st['total_s'] / b['warm_s']:.0%}")
            )
        rows.append(
            (
                "other (arch check, member paths, ...)",
                "",
                f"{b['other_s']:.3f}",
                f"{b['other_s'] / b['warm_s']:.0%}",
            )
        )
        out += [table(rows), ""]

    imp = results.get("import")
    if imp and "error" in imp:
        out.append(f"## Import of the generated module: {imp['error']}")
    elif imp:
        f, c, k = imp["first"], imp["cached"], imp["check_layout"]
        out.append(
            f"## Import of the generated {MODULE}.py ({imp['size_kb']} KiB), "
            "python -X importtime, cumulative"
        )
        rows = [("what", "ms", "notes")]
        rows.append(
            (
                "first import (no .pyc)",
                f"{f['cumulative_ms']:.1f}",
                f"self {f['self_ms']:.1f} ms; compiles and writes the .pyc",
            )
        )
        rows.append(
            (
                "second import (.pyc cached)",
                f"{c['cumulative_ms']:.1f}",
                f"self {c['self_ms']:.1f} ms; of which ctypes {c['ctypes_ms']:.1f} ms",
            )
        )
        rows.append(
            (
                "check_layout()",
                f"{k['best_ms']:.1f}",
                f"first call {k['first_ms']:.1f} ms; {k['records']} records, "
                f"{k['problems']} problems",
            )
        )
        for key, label in (("with_pyc", "with .pyc"), ("without_pyc", "without .pyc")):
            if key in imp.get("added_ms", {}):
                rows.append(
                    (
                        f"added to `python -c pass`, {label}",
                        f"{imp['added_ms'][key]:.1f}",
                        "wall clock, fastest of each",
                    )
                )
        out += [table(rows), ""]
        if "statements" in imp:
            pieces = imp["statements"]
            out.append("## Where the cached import goes: module body run statement by statement")
            if "error" in pieces:
                out += [pieces["error"], ""]
            else:
                rows = [("kind of statement", "count", "ms")]
                rows += [
                    (k, str(v["statements"] or ""), f"{v['ms']:.1f}") for k, v in pieces.items()
                ]
                out += [table(rows), ""]
        if "profile" in imp:
            out += ["## cProfile of the cached import (by own time)", imp["profile"].strip(), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------


def corpus_dir(given: str | None) -> Path:
    """The corpus folder, checked; a clear message (and exit 2) when it is missing."""
    raw = given or os.environ.get("D3DKMT_CORPUS") or str(REPO.parent / "shared" / "corpus")
    corpus = Path(raw).expanduser()
    if not corpus.is_absolute():
        corpus = (REPO / corpus).resolve()
    needed = [corpus / "headers" / "libdxg" / "d3dkmthk.h", *(corpus / d for d in DOC_DIRS)]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        print(
            f"bench: corpus not found: {', '.join(missing)}\n"
            "Set D3DKMT_CORPUS to the folder holding headers/ and docs/ "
            "(default: ../shared/corpus beside the checkout).",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return corpus


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, optionally save; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument("--corpus", help="default: $D3DKMT_CORPUS or ../shared/corpus")
    parser.add_argument(
        "--peers",
        type=Path,
        default=Path("/tmp/peers"),
        help="venv with ctypeslib2 (clang2py) and ctypesgen",
    )
    parser.add_argument("--no-peers", action="store_true", help="time only d3dkmt-codegen")
    parser.add_argument(
        "--headers",
        default=",".join(HEADERS),
        help="corpus header folders for our tool (default: all three)",
    )
    parser.add_argument(
        "--profile-import",
        action="store_true",
        help="print a cProfile of importing the generated module",
    )
    # One build in a fresh process (used by the parent; not for people).
    parser.add_argument("--child-build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-import-profile", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=Path, action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument(
        "--rules", choices=("none", "shipped"), default="none", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child_build:
        child_build(args.child_build, args.docs, args.rules)
        return 0
    if args.child_import_profile:
        child_import_profile(args.child_import_profile)
        return 0

    corpus = corpus_dir(args.corpus)
    docs = [corpus / d for d in DOC_DIRS]
    libdxg = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    sys.path.insert(0, str(REPO))
    n = max(args.repeat, 1)
    results: dict = {
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.system()}",
        "repeat": n,
        "corpus": str(corpus),
        "rows": [],
    }

    def add(row: Row) -> None:
        results["rows"].append(asdict(row))
        secs = "-" if row.seconds is None else f"{row.seconds:.2f} s"
        print(f"  {row.tool} on {row.header}: {secs}", file=sys.stderr)

    print("timing d3dkmt-codegen ...", file=sys.stderr)
    for name in args.headers.split(","):
        header = corpus / "headers" / name / "d3dkmthk.h"
        if not header.is_file():
            add(Row("d3dkmt-codegen", name, None, None, f"no such header: {header}"))
            continue
        add(measure_ours(header, docs, "none", n))
        add(measure_ours(header, docs, "shipped", n))

    print("timing the command line with its cache ...", file=sys.stderr)
    results["cli"] = measure_cli(corpus, docs, n)

    if not args.no_peers:
        print("timing peers ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="bench_peers_") as tmp:
            work = Path(tmp)
            try:
                add(measure_clang2py(args.peers, libdxg, work, n, abi="x64", kinds="cdefstu"))
                add(measure_clang2py(args.peers, libdxg, work, n, abi="x64", kinds="cdefstum"))
                add(measure_clang2py(args.peers, libdxg, work, n, abi="x86", kinds="cdefstum"))
                add(measure_ctypesgen(args.peers, libdxg, work, n))
            except ImportError as exc:
                add(
                    Row(
                        "clang2py",
                        "libdxg",
                        None,
                        None,
                        f"cannot prepare clang inputs ({exc}): install the test extra",
                    )
                )

    print("stage breakdown ...", file=sys.stderr)
    shipped_ok = any(
        r["tool"].endswith("(rules: shipped)") and r["header"] == "libdxg" and r["seconds"]
        for r in results["rows"]
    )
    rules = "shipped" if shipped_ok else "none"
    breakdown = stage_breakdown(libdxg, docs, rules, n)
    text = breakdown.pop("text")
    results["stages"] = {"header": "libdxg", "rules": rules, **breakdown}

    print("import of the generated module ...", file=sys.stderr)
    try:
        results["import"] = import_costs(text, n, args.profile_import)
    except RuntimeError as exc:
        results["import"] = {"error": str(exc)}

    print(show(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
