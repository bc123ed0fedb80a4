"""Finding ``d3dkmthk.h`` in an installed Windows Kit (``--sdk``).

A Kit root (``Windows Kits/10``) holds ``Include/<version>/{shared,um,km}``; older
kits (``Windows Kits/8.1``) have ``Include/{shared,um,km}`` with no version
folder. ``d3dkmthk.h`` sits in ``km/`` in older kits and in ``shared/`` in newer
ones; its own includes are found in the same three folders.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import GeneratorError, Loc

HEADER = "d3dkmthk.h"
_FOLDERS = ("shared", "km", "um")


@dataclass(frozen=True)
class Kit:
    """One version of a Windows Kit: where the header is and what to search."""

    version: str | None
    header: Path
    include_dirs: tuple[Path, ...]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _header_in(folder: Path) -> Path | None:
    for sub in _FOLDERS:
        candidate = folder / sub / HEADER
        if candidate.is_file():
            return candidate
    return None


def _kit(folder: Path, name: str) -> Kit:
    header = _header_in(folder)
    assert header is not None
    includes = tuple(folder / sub for sub in _FOLDERS if (folder / sub).is_dir())
    # A folder named like a version (10.0.26100.0, 8.1) names the SDK version.
    version = name if re.fullmatch(r"\d+(\.\d+)+", name) else None
    return Kit(version, header, includes)


def versions(root: Path) -> dict[str, Path]:
    """Version name -> version folder of every version under ``root`` that has the
    header; ``root`` may be the Kit root, its ``Include`` folder or one version."""
    root = Path(root)
    if _header_in(root):
        # One version folder, or the versionless Include folder of an 8.1 kit.
        return {root.parent.name if root.name.lower() == "include" else root.name: root}
    include = root / "Include" if (root / "Include").is_dir() else root
    found = {}
    if _header_in(include):
        found[root.name] = include
    for child in include.iterdir() if include.is_dir() else ():
        if child.is_dir() and _version_key(child.name) and _header_in(child):
            found[child.name] = child
    return found


def find_kit(root: Path, version: str | None = None) -> Kit:
    """The Kit version to read: ``version`` (a full name or a prefix such as
    ``10.0.26100``), else the newest one. Anything missing is an error."""
    root = Path(root)
    if not root.is_dir():
        raise GeneratorError(Loc(str(root)), "--sdk: not a folder")
    found = versions(root)
    if not found:
        raise GeneratorError(
            Loc(str(root)),
            f"--sdk: no {HEADER} here (looked for Include/<version>/{{shared,km}}/{HEADER})",
        )
    if version is None:
        name = max(found, key=_version_key)
        return _kit(found[name], name)
    matches = [name for name in found if name == version or name.startswith(version + ".")]
    if not matches:
        listing = ", ".join(sorted(found, key=_version_key))
        raise GeneratorError(
            Loc(str(root)), f"--sdk-version {version}: not in this Kit (it has {listing})"
        )
    name = max(matches, key=_version_key)
    return _kit(found[name], name)


def installed_kit_root() -> Path | None:
    """On Windows, the installed Windows 10/11 Kit: the registry's ``KitsRoot10``,
    else the default path. None elsewhere, or when there is none."""
    if sys.platform != "win32":
        return None
    candidates = []
    try:
        import winreg

        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows Kits\Installed Roots"
        ) as key:
            candidates.append(Path(winreg.QueryValueEx(key, "KitsRoot10")[0]))
    except OSError:
        pass
    program_files = os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")
    candidates.append(Path(program_files) / "Windows Kits" / "10")
    for candidate in candidates:
        if candidate.is_dir() and versions(candidate):
            return candidate
    return None
