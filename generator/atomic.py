"""Writing a set of output files all-or-nothing, even if the process is killed.

A small write-ahead journal in the output folder makes the set atomic:

1. ``.d3dkmt-codegen.journal`` is written (state ``staging``) naming a temporary
   file beside each target; then every temporary file is written and fsynced.
2. The journal is rewritten as ``committed``: from this moment the new set is
   the one that counts. SIGINT, SIGTERM and SIGHUP wait until step 3 is done.
3. Each temporary file is renamed over its target; the journal is removed.

Interrupted by a signal, a run cleans up before it exits: before step 2 it
removes its temporary files (the old set stays), after it it finishes step 3
(the new set is complete). Killed outright (SIGKILL, power loss) between the
steps, it leaves the journal behind; the next run with the same output folder
(``generate`` or ``check``) first finishes a committed journal or undoes a staging
one, and removes every temporary file the journal names. Runs on one folder
take turns (an ``flock`` on the folder, where the platform has one).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import GeneratorError, Loc

JOURNAL = ".d3dkmt-codegen.journal"
# Seconds to sleep at every step, so a test can interrupt a real run at each one.
TEST_PAUSE = "D3DKMT_CODEGEN_TEST_PAUSE"
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class WriteFailed(Exception):
    """Writing ``target`` failed with ``error``; nothing of the new set was kept."""

    def __init__(self, target: Path, error: OSError) -> None:
        super().__init__(f"{target}: {error.strerror}")
        self.target = target
        self.error = error


def write_atomically(files: Mapping[Path, str], folder: Path | None = None) -> None:
    """Write every file of ``files`` or none of them; the journal goes in ``folder``
    (default: the folder of the first file). Files get the mode the umask gives.

    Example::

        write_atomically({out / "d3dkmthk.py": text, out / "d3dkmthk.pyi": stub}, out)
    """
    targets = [Path(os.path.abspath(path)) for path in files]
    if not targets:
        return
    folder = Path(os.path.abspath(folder)) if folder else targets[0].parent
    created: list[Path] = []
    owners = {folder: targets[0]}  # a folder that cannot be made: blame a file in it
    for target in targets:
        owners.setdefault(target.parent, target)
    try:
        for directory, owner in owners.items():  # noqa: B007 - used in the except
            created += _make_folder(directory)
    except OSError as error:
        _remove_folders(created)
        raise WriteFailed(owner, error) from None
    with _locked(folder):
        recover(folder, lock=False)
        token = secrets.token_hex(4)
        staged = [(t.parent / f".{t.name}.{token}.tmp", t) for t in targets]
        journal = folder / JOURNAL
        committed = False
        current = targets[0]
        try:
            _write_journal(journal, "staging", staged)
            for (temp, target), text in zip(staged, files.values(), strict=True):
                current = target
                _pause()
                _write_new(temp, text.encode("utf-8"))
            _pause()
            with _signals_deferred():
                current = targets[0]
                _write_journal(journal, "committed", staged)
                committed = True
                _finish(journal, staged)
        except BaseException as error:
            if not committed:
                _undo(journal, staged)
                _remove_folders(created)
            if isinstance(error, OSError):
                raise WriteFailed(current, error) from None
            raise


def recover(folder: Path, lock: bool = True) -> None:
    """Finish (committed) or undo (staging) a write a killed run left in ``folder``."""
    journal = Path(folder) / JOURNAL
    scratch = Path(str(journal) + ".tmp")
    if not journal.exists() and not scratch.exists():
        return  # the usual case: nothing to do, and nothing written (check may be read-only)
    with _locked(Path(folder)) if lock else contextlib.nullcontext():
        scratch.unlink(missing_ok=True)  # a journal being written when the run died
        if not journal.exists():  # no journal, or another run finished it meanwhile
            return
        state, staged = _read_journal(journal)
        if state == "committed":
            with _signals_deferred():
                _finish(journal, staged)
        else:
            _undo(journal, staged)


def _finish(journal: Path, staged: list[tuple[Path, Path]]) -> None:
    for temp, target in staged:
        _pause()
        if temp.exists():  # not yet renamed by the run that wrote the journal
            os.replace(temp, target)
    for directory in dict.fromkeys(target.parent for _, target in staged):
        _sync_folder(directory)
    journal.unlink()
    _sync_folder(journal.parent)


def _undo(journal: Path, staged: list[tuple[Path, Path]]) -> None:
    left = False
    for temp, _ in staged:
        try:
            temp.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass  # never created
        except OSError:
            left = True  # keep the journal: the next run tries again
    with contextlib.suppress(OSError):
        Path(str(journal) + ".tmp").unlink(missing_ok=True)
        if not left:
            journal.unlink(missing_ok=True)


def _write_journal(journal: Path, state: str, staged: list[tuple[Path, Path]]) -> None:
    def relative(path: Path) -> str:
        try:
            return os.path.relpath(path, journal.parent)
        except ValueError:  # another drive (Windows)
            return str(path)

    entries = [[relative(temp), relative(target)] for temp, target in staged]
    data = json.dumps({"journal": 1, "state": state, "files": entries}, indent=1) + "\n"
    scratch = Path(str(journal) + ".tmp")
    scratch.unlink(missing_ok=True)
    _write_new(scratch, data.encode("utf-8"))
    os.replace(scratch, journal)
    _sync_folder(journal.parent)


def _read_journal(journal: Path) -> tuple[str, list[tuple[Path, Path]]]:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        state = data["state"]
        base = journal.parent
        staged = [(base / temp, base / target) for temp, target in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise GeneratorError(
            Loc(str(journal), 1, 1),
            "damaged journal of an interrupted run: check the output files and remove it",
        ) from None
    if state not in ("staging", "committed"):
        raise GeneratorError(Loc(str(journal), 1, 1), f"unknown journal state {state!r}")
    return state, staged


def _write_new(path: Path, data: bytes) -> None:
    # 0o666 and the kernel applies the umask (mkstemp would give 0600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    handle = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
        os.fsync(handle)
    finally:
        os.close(handle)


def _make_folder(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return those created, outermost first."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return list(reversed(missing))


def _remove_folders(created: list[Path]) -> None:
    for path in reversed(created):
        with contextlib.suppress(OSError):
            path.rmdir()


def _sync_folder(directory: Path) -> None:
    """Make renames in ``directory`` durable (POSIX; Windows cannot open folders)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One run at a time writes into (or recovers) ``folder``."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on folders
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block is done, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals in Python
        return
    arrived: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        arrived.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # None: a handler not set from Python; the default is the closest.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(arrived):
            signal.raise_signal(sig)


def _pause() -> None:
    delay = os.environ.get(TEST_PAUSE)
    if delay:
        time.sleep(float(delay))


__all__ = ["JOURNAL", "WriteFailed", "recover", "write_atomically"]
