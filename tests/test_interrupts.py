"""Output is all-or-nothing: a real ``d3dkmt-codegen generate`` interrupted by
SIGINT, SIGTERM or SIGKILL at random moments leaves the complete old set of files
or the complete new one, and no temporary files; files get the umask's mode.

The CLI sleeps at every step of writing when ``D3DKMT_CODEGEN_TEST_PAUSE`` is set,
so the moments fall inside the write as well as before it. More trials:
``D3DKMT_INTERRUPT_TRIALS=30 pytest tests/test_interrupts.py``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.atomic import JOURNAL, TEST_PAUSE, recover
from generator.cli import main, sample_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
TRIALS = int(os.environ.get("D3DKMT_INTERRUPT_TRIALS", "4"))
PAUSE = 0.05
OLD_HEADER = "typedef struct _OLD { UINT a; } OLD;\n"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def command(out: Path, header: Path | None) -> list[str]:
    args = [sys.executable, "-m", "generator", "generate", "--out", str(out)]
    args += ["--layout-json", str(out / "layout.json"), "--report-json", str(out / "report.json")]
    if header is not None:
        args += ["--header", str(header), "--rules", os.devnull]
    else:  # the sample, with its reference page: the page reader's process runs too
        args += ["--docs", str(sample_dir() / "docs")]
    return args


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The old set (a small header) and the new set (the sample), same file names."""
    root = tmp_path_factory.mktemp("sets")
    header = root / "d3dkmthk.h"
    header.write_text(OLD_HEADER)
    for name, source in (("old", header), ("new", None)):
        done = subprocess.run(command(root / name, source), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    old, new = snapshot(root / "old"), snapshot(root / "new")
    assert old.keys() == new.keys() and old != new
    return old, new


def run_and_signal(
    out: Path, old: dict[str, bytes], sig: int, delay: float
) -> subprocess.CompletedProcess[str]:
    out.mkdir(exist_ok=True)
    for name in os.listdir(out):
        (out / name).unlink()
    for name, data in old.items():
        (out / name).write_bytes(data)
    env = {**os.environ, TEST_PAUSE: str(PAUSE)}
    # A session of its own: a terminal's Ctrl-C reaches the whole process group.
    proc = subprocess.Popen(
        command(out, None), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    time.sleep(delay)
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass  # already done
    stdout, stderr = proc.communicate(timeout=20)  # prompt: the page reader too
    if sig != signal.SIGKILL:  # (killed children wait as zombies for a reaper)
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)  # nothing of the run is left running
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def moments(seed: int) -> list[float]:
    # Spread over the run: building (~0.5 s, page reader alive) and the writes
    # (about 10 pauses); the last ones may come after the end.
    rng = random.Random(seed)
    return [rng.uniform(0.05, 0.6 + 12 * PAUSE) for _ in range(TRIALS)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_moment_leaves_the_old_or_the_new_set(
    sig: int, sets: tuple[dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    old, new = sets
    outcomes = []
    for delay in moments(int(sig)):
        done = run_and_signal(tmp_path / "out", old, sig, delay)
        state = snapshot(tmp_path / "out")
        assert state in (old, new), f"after {delay:.2f} s: {sorted(state)}"
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
        # Stopped by the signal (128 + n; 130 prints "interrupted"), finished first (0),
        # or finished and then ended by the signal during interpreter exit (-n).
        assert done.returncode in (0, 128 + sig, -sig), (delay, done.returncode, done.stderr)
        if done.returncode != 0 and state == old:
            assert "wrote" not in done.stdout
        outcomes.append("new" if state == new else "old")
    print(sig, outcomes)


def test_a_kill_at_any_moment_is_finished_or_undone_by_the_next_run(
    sets: tuple[dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    old, new = sets
    out = tmp_path / "out"
    for delay in moments(9):
        run_and_signal(out, old, signal.SIGKILL, delay)
        state = snapshot(out)
        if state not in (old, new):
            # The journal, or its scratch copy (killed while writing the first one)
            journals = {JOURNAL, JOURNAL + ".tmp"} & state.keys()
            assert journals, f"a mixed set without a journal after {delay:.2f} s"
        recover(out)  # what the next generate or check does first
        assert snapshot(out) in (old, new), f"after {delay:.2f} s: {sorted(snapshot(out))}"


def test_a_committed_journal_is_finished_by_check(tmp_path: Path) -> None:
    """Rolled forward: the journal says the new set was complete when the run died."""
    out = tmp_path / "generated"
    assert main(["generate", "--out", str(out)]) == 0
    new = snapshot(out)
    (out / ".d3dkmthk.py.0000.tmp").write_bytes(new["d3dkmthk.py"])
    (out / "d3dkmthk.py").write_text("# the old module\n")
    (out / JOURNAL).write_text(
        '{"journal": 1, "state": "committed", "files": [[".d3dkmthk.py.0000.tmp", "d3dkmthk.py"],'
        ' [".d3dkmthk.pyi.0000.tmp", "d3dkmthk.pyi"]]}'
    )  # the stub was renamed already; the module was not
    assert main(["check", "--out", str(out)]) == 0
    assert snapshot(out) == new


def test_a_staging_journal_is_undone(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    out.mkdir()
    (out / "d3dkmthk.py").write_text("# the old module\n")
    (out / ".d3dkmthk.py.0000.tmp").write_text("# half of a new one")
    (out / JOURNAL).write_text(
        '{"journal": 1, "state": "staging", "files": [[".d3dkmthk.py.0000.tmp", "d3dkmthk.py"],'
        ' [".d3dkmthk.pyi.0000.tmp", "d3dkmthk.pyi"]]}'
    )
    recover(out)
    assert snapshot(out) == {"d3dkmthk.py": b"# the old module\n"}


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_files_get_the_mode_the_umask_gives(umask: int, tmp_path: Path) -> None:
    previous = os.umask(umask)
    try:
        out = tmp_path / "out"
        status = main(["generate", "--out", str(out), "--layout-json", str(out / "l.json")])
    finally:
        os.umask(previous)
    assert status == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert modes == dict.fromkeys(["d3dkmthk.py", "d3dkmthk.pyi", "l.json"], 0o666 & ~umask)


def test_a_successful_run_prints_nothing_on_stderr(tmp_path: Path) -> None:
    """The page reader's process ends cleanly (no 'Exception ignored' at exit)."""
    for attempt in range(3):
        done = subprocess.run(command(tmp_path / f"out{attempt}", None), capture_output=True)
        assert done.returncode == 0
        assert done.stderr == b""
