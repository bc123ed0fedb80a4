"""What a run is asked to do (``Options``) and where its output came from
(``Provenance``): plain data, cheap to import (the CLI answers from the cache
without loading the stages)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import __version__

INTERFACE_VERSION = "DXGKDDI_INTERFACE_VERSION"


@dataclass(frozen=True)
class Options:
    """What to generate from: the command line, as data."""

    header: Path
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    docs: tuple[Path, ...] = ()
    rules: tuple[Path, ...] | None = None  # None: the shipped rules
    keep_going: bool = False
    command: str = "d3dkmt-codegen generate"
    # Read the reference pages in a second process while the header is parsed
    # (the CLI does; library callers may not want a child process).
    parallel: bool = False
    # --interface-version: "WDDM2_7" or "DXGKDDI_INTERFACE_VERSION_WDDM2_7"
    interface_version: str | None = None
    sdk_version: str | None = None  # the Windows Kit version the header came from
    cache_dir: Path | None = None  # where results are cached; None: no cache
    # The ABIs of the module: ("x64", "x86") for Windows, or ("wsl",) alone, since
    # the header's text itself differs per platform (_WIN32 is not defined on WSL).
    abis: tuple[str, ...] = ("x64", "x86")


@dataclass(frozen=True)
class Provenance:
    """Where one run's output came from: recorded in the banner and the JSON files.

    Names and digests only (no absolute paths, no time), so that identical inputs
    give identical bytes.
    """

    header: str
    sdk_version: str | None = None
    interface_version: str | None = None
    defines: tuple[tuple[str, str], ...] = ()
    # (kind, name, sha256): kind is "header", "docs" (a folder, one digest) or "rules"
    inputs: tuple[tuple[str, str, str], ...] = ()
    tool: str = f"d3dkmt-codegen {__version__}"

    def to_json(self) -> dict:
        return {
            "tool": self.tool,
            "header": self.header,
            "sdk_version": self.sdk_version,
            "interface_version": self.interface_version,
            "defines": {name: value for name, value in self.defines},
            "inputs": [{"kind": k, "name": n, "sha256": d} for k, n, d in self.inputs],
        }

    def banner(self) -> list[str]:
        lines = []
        if self.sdk_version:
            lines.append(f"SDK version: {self.sdk_version}")
        if self.interface_version:
            lines.append(f"Interface version: {INTERFACE_VERSION} = {self.interface_version}")
        lines.append("Inputs (sha256):")
        lines += [f"  {kind} {name} {digest}" for kind, name, digest in self.inputs]
        return lines
