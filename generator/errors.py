"""Source locations, the one error type for bad input, and collected warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

from .pickling import by_fields


@by_fields
@dataclass(frozen=True, slots=True)
class Loc:
    """A place in an input file; prints as ``file:line:col`` like a compiler."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


# Where a problem with an option (``--header``, ``-D``, ``--out``) is reported, as
# compilers do; the message names the option.
COMMAND_LINE = Loc("<command line>", 1, 1)


class GeneratorError(Exception):
    """A problem in the input (header, doc page, rules file, option).

    The CLI catches it once, prints ``file:line:col: error: message`` and exits 2
    without writing anything. Bugs in the generator are other exceptions and keep
    their traceback.
    """

    def __init__(self, loc: Loc | None, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}error: {self.message}"


def option_error(option: str, value: object, message: str) -> GeneratorError:
    """A problem with one command-line option, e.g. ``--header x.h: no such file``.

    >>> str(option_error("--out", "gen", "cannot write d3dkmthk.py: Permission denied"))
    '<command line>:1:1: error: --out gen: cannot write d3dkmthk.py: Permission denied'
    """
    return GeneratorError(COMMAND_LINE, f"{option} {value}: {message}")


@by_fields
@dataclass(frozen=True, slots=True)
class Warning_:
    """One warning with the place it is about."""

    loc: Loc | None
    message: str

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}warning: {self.message}"


@dataclass(slots=True)
class Diagnostics:
    """Warnings gathered during one run, reported once at the end.

    Passed explicitly from stage to stage: there is no global state.
    """

    warnings: list[Warning_] = field(default_factory=list)

    def warn(self, loc: Loc | None, message: str) -> None:
        self.warnings.append(Warning_(loc, message))
