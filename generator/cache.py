"""A content-addressed cache of what runs compute, in the user's cache folder.

Like ccache's manifest mode: an entry is found by a key made of the bytes of
the inputs known up front (the header, the pages, the rules, the options) and
the generator's own fingerprint; it also lists the files discovered while
computing it (the headers the header includes) with their digests, and is used
only while each still has that digest. An entry is a header line, the digest of
its payload and the pickled payload: one that is truncated, corrupt or written
by another generator version is ignored (and later overwritten), never trusted.
Entries are written to a temporary file and renamed into place, so a reader
never sees half of one, whatever other runs are doing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .inputs import file_digest

MAGIC = b"d3dkmt-codegen cache 1\n"
# Libraries whose behaviour shapes what is cached (parsed pages, IR, text).
_LIBRARIES = ("pcpp", "pycparser", "jinja2", "markdown-it-py", "pyyaml")


def default_dir() -> Path:
    """The user's cache folder for this tool (``platformdirs``)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("d3dkmt-codegen", appauthor=False))


@functools.cache
def fingerprint() -> str:
    """This generator: its version, its own files (code, prelude, templates, shipped
    rules), the Python that runs it and the versions of the libraries it uses."""
    digest = hashlib.sha256(f"{__version__} {sys.version_info[:2]}".encode())
    package = Path(__file__).resolve().parent
    templates = package.parent / "templates"
    if not templates.is_dir():
        templates = package / "templates"
    files = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix != ".pyc")
    files += sorted(p for p in templates.glob("*.jinja"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    versions = _installed_versions(_LIBRARIES)
    for name in _LIBRARIES:
        if name not in versions:
            from importlib import metadata  # slow to import: more than a warm run's rest

            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                digest.update(name.encode())
                continue
        digest.update(f"{name} {versions[name]}".encode())
    return digest.hexdigest()


def _installed_versions(names: Sequence[str]) -> dict[str, str]:
    """The versions of installed distributions as their ``NAME-VERSION.dist-info``
    folders on ``sys.path`` spell them: the first found, as ``importlib.metadata``
    finds it (names compared as PEP 503 normalizes them). Those not found so are
    left out."""
    wanted = {re.sub(r"[-_.]+", "-", name).lower(): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for item in listing:
            if item.endswith(".dist-info") and "-" in item:
                project, _, version = item[: -len(".dist-info")].partition("-")
                name = wanted.get(re.sub(r"[-_.]+", "-", project).lower())
                if name is not None and name not in found:
                    found[name] = version
        if len(found) == len(wanted):
            break
    return found


def key(*parts: object) -> str:
    """A cache key from the fingerprint and ``parts`` (their ``repr``s)."""
    digest = hashlib.sha256(fingerprint().encode())
    for part in parts:
        digest.update(b"\0" + repr(part).encode())
    return digest.hexdigest()


def current_digest(path: str | Path) -> str | None:
    """The sha256 of a file as it is now, or None if it cannot be read."""
    try:
        return file_digest(Path(path))
    except OSError:
        return None


def kept_beside(folder: Path) -> Cache:
    """What the generator keeps beside its own files (the templates' compiled form,
    the names they bind), as Python keeps a module's .pyc beside it: in
    ``folder/__pycache__``, written unless bytecode may not be (PYTHONDONTWRITEBYTECODE)."""
    return Cache(folder / "__pycache__", read_only=sys.dont_write_bytecode)


class Cache:
    """One cache folder; ``Cache(None)`` caches nothing, a ``read_only`` one is
    read but never written."""

    def __init__(self, root: Path | None, read_only: bool = False) -> None:
        self.root = Path(root) if root is not None else None
        self.read_only = read_only

    def _path(self, kind: str, name: str) -> Path:
        assert self.root is not None
        return self.root / kind / name[:2] / name

    def get(self, kind: str, name: str) -> Any | None:
        """The value stored under ``name``, or None: missing, damaged, from another
        version, or made from a discovered file that has changed since."""
        if self.root is None:
            return None
        try:
            data = self._path(kind, name).read_bytes()
        except OSError:
            return None
        if not data.startswith(MAGIC):
            return None
        payload_digest, _, payload = data[len(MAGIC) :].partition(b"\n")
        if payload_digest.decode("ascii", "replace") != hashlib.sha256(payload).hexdigest():
            return None
        try:
            depends, value = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - any damage means: not cached
            return None
        if any(current_digest(path) != digest for path, digest in depends):
            return None
        return value

    def put(self, kind: str, name: str, value: Any, depends: Iterable[Sequence[str]] = ()) -> None:
        """Store ``value``; ``depends`` are (path, sha256) of the files it was made
        from beyond those in the key. A cache that cannot be written is no error."""
        if self.root is None or self.read_only:
            return
        payload = pickle.dumps(
            ([(str(p), d) for p, d in depends], value), protocol=pickle.HIGHEST_PROTOCOL
        )
        data = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        target = self._path(kind, name)
        temp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temp, target)
            temp = None
        except OSError:
            pass
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
