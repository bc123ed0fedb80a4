"""The checks a record's ``validate()`` makes: each rule as the test that it is broken.

A rule's condition says what must hold; ``validate()`` reports when it does not,
so the condition is printed negated, as a person would write it, with the
rule's citation (and each requirement no rule encodes yet) as comment lines.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence

from .docs import wrap_text
from .docstrings import DOC_WIDTH
from .rules import Rule
from .views import RuleView

_LONG_CONDITION = 56  # validate() sits in a class inside its builder
_LINE = 92  # what fits in an if ( ... ) inside validate()
_INVERSE = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip


def rule_views(rules: Sequence[Rule]) -> tuple[RuleView, ...]:
    """The checks of one record, in the order of its rules."""
    views = []
    for rule in rules:
        test = broken_when(rule.condition)
        views.append(
            RuleView(
                _lines(test),
                rule.member,
                rule.message,
                _comment_lines(rule.cite),
                long=len(test) > _LONG_CONDITION,
            )
        )
    return tuple(views)


def _lines(test: str) -> str:
    """A test too long for one line, split before each top-level ``and``."""
    if len(test) <= _LINE:
        return test
    tree = ast.parse(test, mode="eval").body
    if not _is_and(tree):
        return test
    parts = [
        f"({ast.unparse(v)})" if isinstance(v, ast.BoolOp | ast.IfExp) else ast.unparse(v)
        for v in tree.values
    ]
    return "\nand ".join(parts)


def todo_comments(sentences: Sequence[str]) -> tuple[str, ...]:
    """Comment lines for the requirement sentences no rule encodes yet."""
    return tuple(_comment_lines("Not yet checked: " + s) for s in sentences)


@functools.lru_cache(maxsize=4096)  # records share rules (Reserved == 0, Header.Type)
def broken_when(condition: str) -> str:
    """The test that a rule is broken: ``condition`` negated, as a person would write it.

    ``not (W) or (R)`` (a rule with a ``when``) becomes ``W and <R negated>``.
    """
    return ast.unparse(_negate(ast.parse(condition, mode="eval").body))


def _is_and(tree: ast.expr) -> bool:
    return isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)


def _negate(tree: ast.expr) -> ast.expr:
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
        return ast.Compare(tree.left, [_INVERSE[type(tree.ops[0])]()], tree.comparators)
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return tree.operand
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "bool":
        return ast.UnaryOp(ast.Not(), tree.args[0])
    if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.Or):
        # De Morgan: the rule "not W or R" is broken when "W and not R".
        parts = [_negate(value) for value in tree.values]
        flat = [v for p in parts for v in (p.values if _is_and(p) else [p])]
        return ast.BoolOp(ast.And(), flat)
    return ast.UnaryOp(ast.Not(), tree)


def _comment_lines(text: str) -> str:
    """Text as the lines of a ``#`` comment inside ``validate()``, wrapped."""
    if not text:
        return ""
    wrapped = wrap_text(" ".join(text.split()), DOC_WIDTH - 10)
    return "\n".join(("# " + line).rstrip() for line in wrapped.splitlines())
