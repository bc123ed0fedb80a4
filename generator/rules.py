"""Stage 6: the rules ``validate()`` checks, and the hand-written rules files.

Hand-written rules live in a rules file kept outside the generated code
(``generator/data/rules/d3dkmthk.toml`` ships with the project; ``--rules FILE``
adds a maintainer's own), written in terms of member names::

    [[rule]]
    record = "D3DKMT_DESTROYALLOCATION"
    name = "no-list-with-resource"
    when = "hResource != 0"
    require = "phAllocationList == NULL"
    message = "must be NULL when hResource is set"
    cite = "If the OpenGL ICD sets the handle in the hResource member ..."

``when`` and ``require`` are Python-syntax expressions over member paths
(``Flags.Primary``), integers, ``NULL``, comparisons and ``and``/``or``/``not``.
A member the module renames (``class`` is ``class_``: README, "Names") may be
named either way where Python can read it (``validate`` or ``validate_``; ``class_``
only); the compiled rule uses the Python name.
Rules are checked against the IR at generation time: a rule naming a member the
header no longer has is an error that points at the rules file (``--keep-going``:
a warning, and the rule is dropped). A rule for a record the header does not
declare at all is skipped and counted: a header may declare a subset of the SDK.

Rules derived from the header and the pages are in ``derive.py``.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import Diagnostics, GeneratorError, Loc, option_error
from .inputs import shipped_rules_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SHIPPED_DISPLAY = "rules/d3dkmthk.toml"  # how errors name the shipped file
_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")
_TOML_PLACE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_KEYS = frozenset(
    {"record", "name", "when", "require", "member", "message", "cite", "example_ok",
     "example_bad"}
)  # fmt: skip
POINTER_EXAMPLE = "ptr"  # an example value meaning "any non-NULL pointer"
ExampleValue = int | str


@dataclass(frozen=True, slots=True)
class Rule:
    """One check of ``validate()``, with its Python condition already compiled.

    ``condition`` is a Python expression over ``self`` that is true when the rule
    holds; ``member`` is the path named in the error. ``origin`` is ``"hand"`` or
    ``"derived"``; a derived rule's ``name`` starts with its kind (``"sal:pPages"``).
    ``example_ok``/``example_bad`` are the member values of the rules file's
    examples (tests build instances from them; ``"ptr"`` is any non-NULL pointer).
    """

    record: str
    name: str
    member: str
    condition: str
    message: str
    cite: str
    origin: str
    loc: Loc
    example_ok: tuple[tuple[str, ExampleValue], ...] = ()
    example_bad: tuple[tuple[str, ExampleValue], ...] = ()

    @property
    def kind(self) -> str:
        """``"hand"``, or the kind of derived rule: sal, words, bound, reserved, enum."""
        return "hand" if self.origin == "hand" else self.name.split(":", 1)[0]

    def paths(self) -> tuple[str, ...]:
        """Every member path the condition reads, in order of appearance."""
        return _condition_paths(self.condition)


@functools.lru_cache(maxsize=4096)  # records share conditions (self.Reserved == 0, ...)
def _condition_paths(condition: str) -> tuple[str, ...]:
    found: list[str] = []
    for node in ast.walk(ast.parse(condition, mode="eval")):
        if isinstance(node, ast.Attribute):
            path = _self_path(node)
            if path and path not in found:
                found.append(path)
    # A path's prefixes are attributes too (self.Flags of self.Flags.Primary).
    return tuple(p for p in found if not any(q.startswith(p + ".") for q in found))


# -- hand-written rules -----------------------------------------------------------------
def load_rules(
    files: Sequence[Path],
    members: Mapping[str, Iterable[str] | Mapping[str, str]],
    diagnostics: Diagnostics,
    keep_going: bool = False,
    skipped: list[Rule] | None = None,
) -> dict[str, tuple[Rule, ...]]:
    """Read rules files and check them against the records' member paths.

    ``members`` maps each record's public name to its member paths, or to a
    mapping from each way a rule may spell a path to the Python path the rule is
    compiled to (``Names.rule_paths``). A rule for a
    record the header does not define at all is skipped (a header may declare a
    subset of the SDK: the embedded sample does) and appended to ``skipped`` for
    the report. A rule naming a member its record lacks is an error (or, with
    ``keep_going``, a warning and the rule is dropped).

    Example::

        rules = load_rules([shipped_rules_path()], {"D3DKMT_LOCK": ["hDevice", ...]},
                           Diagnostics(), skipped=[])
    """
    by_record: dict[str, list[Rule]] = {}
    for path in files:
        for rule in read_rules_file(path):
            if rule.record not in members:
                if skipped is not None:
                    skipped.append(rule)
                continue
            known = members[rule.record]
            spellings = known if isinstance(known, Mapping) else {p: p for p in known}
            problem = _check(rule, list(spellings))
            if problem:
                if not keep_going:
                    raise GeneratorError(rule.loc, problem)
                diagnostics.warn(rule.loc, problem + "; rule dropped")
                continue
            by_record.setdefault(rule.record, []).append(_in_python_names(rule, spellings))
    return {name: tuple(rules) for name, rules in by_record.items()}


def read_rules_file(path: Path) -> Iterable[Rule]:
    """The rules of one file, compiled but not checked against any header."""
    display = SHIPPED_DISPLAY if path == shipped_rules_path() else str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise option_error("--rules", path, f"cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - data.rfind(b"\n", 0, exc.start)
        raise GeneratorError(Loc(display, line, col), "rules file is not UTF-8 text") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        loc = _toml_loc(exc, display, text)
        raise GeneratorError(loc, f"bad rules file: {_toml_problem(exc)}") from None
    rules = document.get("rule", [])
    if not isinstance(rules, list) or not all(isinstance(entry, dict) for entry in rules):
        raise GeneratorError(Loc(display, 1, 1), "'rule' must be an array of [[rule]] tables")
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if _RULE_HEADER.match(line)]
    for index, entry in enumerate(rules):
        loc = Loc(display, lines[index] if index < len(lines) else 1, 1)
        yield compile_rule(entry, loc)


def _toml_loc(exc: tomllib.TOMLDecodeError, display: str, text: str) -> Loc:
    """Where tomllib found the problem (3.14 has attributes; older ones only the text)."""
    line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if line is None:
        match = _TOML_PLACE.search(str(exc))
        if match and match.group(1):
            line, col = int(match.group(1)), int(match.group(2))
        else:  # "at end of document"
            lines = text.split("\n")
            line, col = len(lines), len(lines[-1]) + 1
    return Loc(display, line, col or 1)


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    return getattr(exc, "msg", None) or _TOML_PLACE.sub("", str(exc))


def compile_rule(entry: Mapping[str, object], loc: Loc) -> Rule:
    """Compile one ``[[rule]]`` table into a ``Rule`` (members are not checked here).

    >>> compile_rule({"record": "R", "name": "n", "when": "a != 0",
    ...               "require": "p != NULL", "message": "m"}, Loc("x")).condition
    'not (self.a != 0) or (bool(self.p))'
    """
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise GeneratorError(loc, f"rule has unknown key '{unknown[0]}'")
    for key in ("record", "name", "require", "message"):
        if not isinstance(entry.get(key), str):
            raise GeneratorError(loc, f"rule needs a '{key}' string")
    record, name = str(entry["record"]), str(entry["name"])
    require = _expression(str(entry["require"]), loc, name)
    member = _member_paths(require)[0]
    if "member" in entry:
        if not isinstance(entry["member"], str) or not _is_path(entry["member"]):
            raise GeneratorError(loc, f"rule '{name}': 'member' must be a member path")
        member = str(entry["member"])
    condition = _unparse(require)
    when_text = entry.get("when")
    if when_text is not None:
        when = _expression(str(when_text), loc, name)
        # The form the golden test of D3DKMT_DESTROYALLOCATION pins down.
        condition = f"not ({_unparse(when)}) or ({condition})"
    return Rule(
        record=record,
        name=name,
        member=member,
        condition=condition,
        message=str(entry["message"]),
        cite=str(entry.get("cite", "")),
        origin="hand",
        loc=loc,
        example_ok=_example(entry.get("example_ok"), loc, name, "example_ok"),
        example_bad=_example(entry.get("example_bad"), loc, name, "example_bad"),
    )


def _example(value: object, loc: Loc, name: str, key: str) -> tuple[tuple[str, ExampleValue], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise GeneratorError(loc, f"rule '{name}': '{key}' must be a table of member values")
    pairs: list[tuple[str, ExampleValue]] = []
    for path, item in _flatten(value, ""):
        ok = (isinstance(item, int) and not isinstance(item, bool)) or item == POINTER_EXAMPLE
        if not ok:
            raise GeneratorError(
                loc, f"rule '{name}': {key}.{path} must be an integer or \"{POINTER_EXAMPLE}\""
            )
        pairs.append((path, item))
    return tuple(pairs)


def _flatten(table: Mapping[str, object], prefix: str) -> Iterable[tuple[str, object]]:
    # TOML reads dotted keys (Flags.CreateShared = 1) as nested tables.
    for key, item in table.items():
        if isinstance(item, Mapping):
            yield from _flatten(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


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
            isinstance(node, ast.Constant)
            and (not isinstance(node.value, int) or isinstance(node.value, bool))
        ):
            raise GeneratorError(loc, f"rule '{name}': {type(node).__name__} is not allowed")
    if not _member_paths(tree):
        raise GeneratorError(loc, f"rule '{name}': the expression names no member")
    return tree


def _unparse(tree: ast.expr) -> str:
    return ast.unparse(_Translate().visit(tree))


def _is_path(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", text) is not None


def member_path(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return None if node.id == "NULL" else node.id
    if isinstance(node, ast.Attribute):
        base = member_path(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _member_paths(tree: ast.expr) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        path = member_path(node) if isinstance(node, ast.Name | ast.Attribute) else None
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


def _check(rule: Rule, known: Sequence[str]) -> str | None:
    """Why ``rule`` does not fit a record with member paths ``known``, or None."""
    names = set(known)
    used = [
        _self_path(node)
        for node in ast.walk(ast.parse(rule.condition, mode="eval"))
        if isinstance(node, ast.Attribute)
    ]
    used += [rule.member]
    used += [path for path, _ in rule.example_ok + rule.example_bad]
    for path in used:
        if path and path not in names:
            return f"rule '{rule.name}' refers to member '{path}' that {rule.record} no longer has"
    return None


def _in_python_names(rule: Rule, spellings: Mapping[str, str]) -> Rule:
    """``rule`` with every member path as the module spells it (``validate`` -> ``validate_``)."""
    examples = [path for path, _ in rule.example_ok + rule.example_bad]
    if all(spellings.get(p, p) == p for p in (rule.member, *rule.paths(), *examples)):
        return rule  # as compiled, so the condition keeps its text
    return replace(
        rule,
        member=spellings.get(rule.member, rule.member),
        condition=rename_paths(rule.condition, spellings),
        example_ok=tuple((spellings.get(p, p), v) for p, v in rule.example_ok),
        example_bad=tuple((spellings.get(p, p), v) for p, v in rule.example_bad),
    )


def rename_paths(condition: str, paths: Mapping[str, str]) -> str:
    """A condition over ``self.<path>`` with each path replaced by ``paths[path]``.

    >>> rename_paths("self.validate != 0 and bool(self.x)", {"validate": "validate_"})
    'self.validate_ != 0 and bool(self.x)'
    """

    class Rename(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
            path = _self_path(node)
            if path is None:
                return self.generic_visit(node)
            return ast.parse("self." + paths.get(path, path), mode="eval").body

    return ast.unparse(Rename().visit(ast.parse(condition, mode="eval")))


def _self_path(node: ast.Attribute) -> str | None:
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if isinstance(current, ast.Name) and current.id == "self":
        return ".".join(reversed(parts))
    return None
