"""How d3dkmt-codegen scales: a cold ``generate`` on synthetic headers of N random records.

The records are the layout fuzzer's (``tests/test_layout_fuzz.py``: nested records,
bit-fields, packs, alignment), no docs, the shipped rules. Each size runs as whole
``d3dkmt-codegen generate --no-cache`` processes (best of ``--repeat``; peak RSS
from ``os.wait4``), and once more in-process with the stage timers of
``bench.py``, so a stage that grows faster than the header shows in its share.

Example (from the checkout, project venv active)::

    python benchmarks/scale.py --records 2000 8000 --repeat 3
    python benchmarks/scale.py --records 4000 --tracemalloc 15   # what holds memory
    python benchmarks/scale.py --records 8000 --profile /tmp/p8k  # cProfile of one run

It is a script, not a test: nothing here fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests"), str(REPO)]

from bench import run, stage_breakdown  # noqa: E402

SEED = 10  # any fixed seed: the same header every run


def write_header(records: int, folder: Path) -> Path:
    """The fuzzer's random records, ``records`` of them, in one header."""
    from test_layout_fuzz import _Maker

    header = folder / f"scale{records}.h"
    if not header.exists():
        header.write_text(_Maker(SEED).header(records))
    return header


def cli(header: Path, out: Path) -> list[str]:
    command = [sys.executable, "-m", "generator", "generate", "--no-cache"]
    return command + ["--header", str(header), "--out", str(out)]


def measure(records: int, folder: Path, repeat: int) -> dict:
    header = write_header(records, folder)
    runs = []
    for _ in range(repeat):
        r = run(cli(header, folder / "out"), cwd=REPO)
        if r.returncode != 0:
            raise SystemExit(f"generate failed on {header}:\n{r.stderr[-2000:]}")
        runs.append(r)
    stages = json.loads(_child(["--child-stages", str(header)]).stdout)
    return {
        "records": records,
        "header_mb": header.stat().st_size / 1e6,
        "seconds": min(r.wall for r in runs),
        "all_s": [round(r.wall, 2) for r in runs],
        "rss_mb": min(r.rss_mb for r in runs),
        "stages": stages,
    }


def _child(args: Sequence[str]):
    r = run([sys.executable, __file__, *args], cwd=REPO)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-3000:])
    return r


def child_stages(header: Path) -> None:
    """One in-process ``build()`` with the stage timers; seconds per stage as JSON."""
    got = stage_breakdown(header, [], "shipped", 1)
    rows = {name: round(row["total_s"], 3) for name, row in got["stages"].items()}
    rows["other"] = round(got["other_s"], 3)
    print(json.dumps(rows))


def child_tracemalloc(header: Path, top: int) -> None:
    """The largest live allocations at the end of ``render``, by where they were made."""
    import tracemalloc

    from generator import pipeline

    snapshots = []
    render_module = pipeline.render_module

    def snapshot_after(*args: object, **kwargs: object) -> object:
        text = render_module(*args, **kwargs)
        snapshots.append(tracemalloc.take_snapshot())
        return text

    pipeline.render_module = snapshot_after
    tracemalloc.start(1)
    pipeline.build(pipeline.Options(header, docs=(), parallel=False))
    current, peak = tracemalloc.get_traced_memory()
    print(f"traced: {current / 2**20:.0f} MiB now, {peak / 2**20:.0f} MiB peak")
    for stat in snapshots[0].statistics("lineno")[:top]:
        print(f"{stat.size / 2**20:8.1f} MiB {stat.count:9} blocks  {stat.traceback[0]}")


def child_profile(header: Path, out: Path) -> None:
    import cProfile

    from generator import pipeline

    options = pipeline.Options(header, docs=(), parallel=False)
    cProfile.runctx("pipeline.build(options)", globals(), {"pipeline": pipeline,
                    "options": options}, str(out))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--folder", type=Path, help="keep the headers here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument("--tracemalloc", type=int, metavar="TOP", help="top allocations instead")
    parser.add_argument("--profile", type=Path, help="cProfile one build() into this file instead")
    parser.add_argument("--child-stages", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_stages:
        child_stages(args.child_stages)
        return 0
    with tempfile.TemporaryDirectory() as temp:
        folder = args.folder or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.tracemalloc or args.profile:
            for records in args.records:
                header = write_header(records, folder)
                if args.tracemalloc:
                    child_tracemalloc(header, args.tracemalloc)
                else:
                    started = time.perf_counter()
                    child_profile(header, args.profile)
                    print(f"{records} records: {time.perf_counter() - started:.1f} s profiled")
            return 0
        results = []
        print("| records | header (MB) | time (s) | peak RSS (MB) | stages (s) |")
        print("|---|---|---|---|---|")
        for records in args.records:
            got = measure(records, folder, args.repeat)
            results.append(got)
            stages = ", ".join(f"{k} {v:.2f}" for k, v in got["stages"].items() if v >= 0.01)
            print(f"| {records:,} | {got['header_mb']:.2f} | {got['seconds']:.1f} "
                  f"| {got['rss_mb']:.0f} | {stages} |", flush=True)  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
