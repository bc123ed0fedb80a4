"""Stage 6: validation rules for ``validate()``, from rules files (and, later, derived).

A rule is written in terms of member names, in a rules file kept outside the
generated code (``generator/data/rules/d3dkmthk.toml`` ships with the project;
``--rules FILE`` adds a maintainer's own)::

    [[rule]]
    record = "D3DKMT_DESTROYALLOCATION"
    name = "no-list-with-resource"
    when = "hResource != 0"
    require = "phAllocationList == NULL"
    message = "must be NULL when hResource is set"
    cite = "If the OpenGL ICD sets the handle in the hResource member ..."

``when`` and ``require`` are Python-syntax expressions over member paths
(``Flags.Primary``), integers, ``NULL``, comparisons and ``and``/``or``/``not``.
Rules are checked against the IR at generation time: a rule naming a member the
header no longer has is an error that points at the rules file.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import Diagnostics, GeneratorError, Loc

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SHIPPED_RULES = "data/rules/d3dkmthk.toml"
_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")


@dataclass(frozen=True, slots=True)
class Rule:
    """One check of ``validate()``, with its Python condition already compiled.

    ``condition`` is a Python expression over ``self`` that is true when the rule
    holds; ``member`` is the path named in the error.
    """

    record: str
    name: str
    member: str
    condition: str
    message: str
    cite: str
    origin: str
    loc: Loc


def shipped_rules_path() -> Path:
    """The rules file the project ships (the default for ``--rules``)."""
    return Path(str(resources.files("generator").joinpath(SHIPPED_RULES)))


def load_rules(
    files: Sequence[Path],
    members: Mapping[str, Sequence[str]],
    diagnostics: Diagnostics,
    keep_going: bool = False,
) -> dict[str, tuple[Rule, ...]]:
    """Read rules files and check them against the records' member paths.

    ``members`` maps each record's public name to its member paths. A rule that
    names a record or member not there is an error (or, with ``keep_going``, a
    warning and the rule is dropped).
    """
    by_record: dict[str, list[Rule]] = {}
    for path in files:
        for rule in _read_file(path):
            problem = _check(rule, members)
            if problem:
                if not keep_going:
                    raise GeneratorError(rule.loc, problem)
                diagnostics.warn(rule.loc, problem + "; rule dropped")
                continue
            by_record.setdefault(rule.record, []).append(rule)
    return {name: tuple(rules) for name, rules in by_record.items()}


def _read_file(path: Path) -> Iterable[Rule]:
    display = path.name if path == shipped_rules_path() else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GeneratorError(Loc(display), f"cannot read rules file: {exc.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0)
        raise GeneratorError(Loc(display, line), f"bad rules file: {exc}") from None
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if _RULE_HEADER.match(line)]
    for index, entry in enumerate(document.get("rule", [])):
        loc = Loc(display, lines[index] if index < len(lines) else 0)
        yield _compile(entry, loc)


def _compile(entry: Mapping[str, object], loc: Loc) -> Rule:
    for key in ("record", "name", "require", "message"):
        if not isinstance(entry.get(key), str):
            raise GeneratorError(loc, f"rule needs a '{key}' string")
    record, name = str(entry["record"]), str(entry["name"])
    require = _expression(str(entry["require"]), loc, name)
    member = _member_paths(require)[0]
    condition = ast.unparse(_Translate().visit(require))
    when_text = entry.get("when")
    if when_text is not None:
        when = _expression(str(when_text), loc, name)
        condition = f"not ({ast.unparse(_Translate().visit(when))}) or ({condition})"
    return Rule(
        record=record,
        name=name,
        member=member,
        condition=condition,
        message=str(entry["message"]),
        cite=str(entry.get("cite", "")),
        origin="hand",
        loc=loc,
    )


def _expression(text: str, loc: Loc, name: str) -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise GeneratorError(loc, f"rule '{name}': cannot read expression {text!r}") from None
    allowed = (
        ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Invert, ast.Compare,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Name, ast.Attribute,
        ast.Constant, ast.Load, ast.BinOp, ast.BitAnd, ast.BitOr, ast.LShift, ast.RShift,
        ast.Add, ast.Sub, ast.Mult, ast.In, ast.NotIn, ast.Tuple,
    )  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, int)
        ):
            raise GeneratorError(loc, f"rule '{name}': {type(node).__name__} is not allowed")
    if not _member_paths(tree):
        raise GeneratorError(loc, f"rule '{name}': the expression names no member")
    return tree


def _path(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return None if node.id == "NULL" else node.id
    if isinstance(node, ast.Attribute):
        base = _path(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _member_paths(tree: ast.expr) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        path = _path(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if path:
            if path not in found:
                found.append(path)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


class _Translate(ast.NodeTransformer):
    """Member paths become ``self.`` attributes; ``x == NULL`` becomes ``not self.x``."""

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == "NULL":
            return ast.Constant(None)
        return ast.Attribute(ast.Name("self", ast.Load()), node.id, ast.Load())

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        if (
            len(node.ops) == 1
            and isinstance(node.comparators[0], ast.Name)
            and node.comparators[0].id == "NULL"
        ):
            target = self.visit(node.left)
            if isinstance(node.ops[0], ast.Eq):
                return ast.UnaryOp(ast.Not(), target)
            if isinstance(node.ops[0], ast.NotEq):
                return ast.Call(ast.Name("bool", ast.Load()), [target], [])
        return self.generic_visit(node)


def _check(rule: Rule, members: Mapping[str, Sequence[str]]) -> str | None:
    known = members.get(rule.record)
    if known is None:
        return f"rule '{rule.name}' refers to record '{rule.record}' that the header no longer has"
    tree = ast.parse(rule.condition, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _self_path(node):
            path = _self_path(node)
            if path not in known:
                return (
                    f"rule '{rule.name}' refers to member '{path}' that {rule.record} "
                    "no longer has"
                )
    return None


def _self_path(node: ast.Attribute) -> str | None:
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if isinstance(current, ast.Name) and current.id == "self":
        return ".".join(reversed(parts))
    return None
