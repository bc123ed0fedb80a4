"""A run's input files and their digests: what the provenance records and the
cache keys on. Cheap to import (no stage is loaded)."""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path

# Reference page files: ns- (structures), ne- (enums), nf- (functions),
# nc- (callbacks), ni- (IOCTLs), then the header and the name.
PAGE_FILE = re.compile(r"(n[sefci])-([^-]+)-.+")
SHIPPED_RULES = "data/rules/d3dkmthk.toml"


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def page_files(folder: Path) -> list[Path]:
    """The reference pages of a folder that the docs reader reads, in its order.

    An unreadable folder raises OSError (``glob`` would take it as empty).
    """
    names = [n for n in os.listdir(folder) if n.endswith(".md") and PAGE_FILE.fullmatch(n[:-3])]
    return [Path(folder) / name for name in sorted(names)]


def folder_digest(folder: Path) -> str:
    """One sha256 for a folder of pages: over each page's name and bytes, in order.

    A folder that cannot be read has no digest ("": the reader reports it).
    """
    digest = hashlib.sha256()
    try:
        for path in page_files(folder):
            data = path.read_bytes()
            digest.update(f"{path.name}\0{len(data)}\0".encode())
            digest.update(data)
    except OSError:
        return ""
    return digest.hexdigest()


def shipped_rules_path() -> Path:
    """The rules file the project ships (the default for ``--rules``)."""
    return Path(str(resources.files("generator").joinpath(SHIPPED_RULES)))
