"""The reference pages of a run, from the cache, read here, or read in a second
process while the header is worked on.

Light to import (no stage is loaded): ``outputs`` starts the reader before it
imports the pipeline, so the second process is reading pages while this one
still imports pcpp, pycparser and jinja2.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from .cache import Cache
from .cache import key as cache_key
from .errors import Diagnostics, GeneratorError, Loc
from .inputs import folder_digest

if TYPE_CHECKING:
    import multiprocessing.connection
    import multiprocessing.process

    from .docs import DocIndex, DocPage

# (kind, path) -> sha256 of the inputs a run has hashed (outputs.input_digests)
Digests: TypeAlias = Mapping[tuple[str, str], str | None]


class PageReader:
    """The reference pages, from the cache or read here or (``parallel``) in a
    second process.

    Reading ~900 pages takes about as long as parsing the header; on a machine
    with two cores both can happen at once. Each folder is cached by its digest.
    One plain child process and a pipe (not a process pool): closing ends it at
    once, whatever state the run is in, and leaves no pool threads behind to fail
    at interpreter exit.
    """

    def __init__(
        self,
        dirs: Sequence[Path],
        parallel: bool,
        cache: Cache,
        known: Digests = {},  # noqa: B006 - never mutated
    ) -> None:
        self.dirs = tuple(dirs)
        self.cache = cache
        self.digests = {
            d: known.get(("docs", str(Path(d)))) or folder_digest(Path(d)) for d in self.dirs
        }
        self.keys = {
            d: cache_key("pages", self.digests[d])
            for d in self.dirs
            if self.digests[d] and cache.root is not None
        }
        self.found: dict[Path, tuple[list[DocPage], list[tuple[Loc | None, str]]]] = {}
        for folder, name in self.keys.items():
            hit = cache.get("pages", name)
            if hit is not None:
                self.found[folder] = hit
        self.missing = [d for d in self.dirs if d not in self.found]
        self.process: multiprocessing.process.BaseProcess | None = None
        self.answer: multiprocessing.connection.Connection | None = None
        if parallel and self.missing and (os.cpu_count() or 1) > 1:
            try:
                self._start()
            except BaseException:  # Ctrl-C just now: build() never gets to close()
                self.close()
                raise

    def _start(self) -> None:
        import multiprocessing  # (only here: a run with its pages cached never needs it)

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.answer, sender = context.Pipe(duplex=False)
        try:
            self.process = context.Process(
                target=_send_pages, args=(self.missing, sender), name="page reader", daemon=True
            )
            # Signals stay blocked across the fork until the child ignores Ctrl-C.
            with _signals_blocked():
                self.process.start()
        finally:
            sender.close()  # the child's copy is the only writer: EOF if it dies

    def index(self, diagnostics: Diagnostics) -> DocIndex:
        if self.missing:
            if self.answer is None:
                read, error = _read_pages(self.missing)
            else:
                try:
                    read, error = self.answer.recv()
                except EOFError:  # the child died without an answer: read the pages here
                    read, error = _read_pages(self.missing)
            if error is not None:
                raise GeneratorError(*error)
            for folder, entry in zip(self.missing, read, strict=True):
                self.found[folder] = entry
                if folder in self.keys:
                    self.cache.put("pages", self.keys[folder], entry)
        from .docs import DocIndex

        pages: list[DocPage] = []
        for folder in self.dirs:
            folder_pages, warnings = self.found[folder]
            pages += folder_pages
            for loc, message in warnings:
                diagnostics.warn(loc, message)
        return DocIndex.from_pages(pages)

    def close(self) -> None:
        if self.answer is not None:
            self.answer.close()
            self.answer = None
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join(2)
            if self.process.is_alive():  # pragma: no cover - SIGTERM is not ignored there
                self.process.kill()
                self.process.join()
            self.process = None


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM in this thread (POSIX); a child forked meanwhile starts so."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _send_pages(dirs: Sequence[Path], sender: multiprocessing.connection.Connection) -> None:
    """The child process: read the pages and send them back once."""
    # Ctrl-C reaches the whole process group: the parent decides, and ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (fork)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        sender.send(_read_pages(dirs))
    except (BrokenPipeError, EOFError):
        pass  # the parent is gone or no longer wants the pages
    finally:
        sender.close()


def _read_pages(
    dirs: Sequence[Path],
) -> tuple[list[tuple[list[DocPage], list[tuple[Loc | None, str]]]], tuple[Loc | None, str] | None]:
    """Per folder, its pages and warnings; and the error if there was one
    (plain data: an exception with our constructor does not cross processes)."""
    from .docs import load_docs  # in the page reader: this process never needs it

    read = []
    for folder in dirs:
        diagnostics = Diagnostics()
        try:
            index = load_docs([folder], diagnostics)
        except GeneratorError as error:
            return [], (error.loc, error.message)
        read.append((list(index.pages), [(w.loc, w.message) for w in diagnostics.warnings]))
    return read, None
