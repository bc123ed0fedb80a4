"""The order the generated module declares its records and aliases in.

Each record's ``_fields_`` follows its class as closely as Python allows: a class
must exist before a pointer to it is made, and be complete (its ``_fields_`` set)
before it is used by value or in an array. So records are taken in header order,
and each first pulls in what its members need: the classes they point to
(declared ahead when they come later), the records they hold (completed first),
and the aliases and callback types they name. Aliases that need no record come
first of all, as plain scalar types.

The module makes its records on first use, one builder per block, run in this
order (``_lazy`` in the runtime): a class completed right where it is declared is
one ``record`` block, so that most records are one builder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from . import ir

# ("record", key): a class and its _fields_ at once; ("class", key) declared ahead
# and ("fields", key) later; ("alias", typedef name); ("scalar", typedef name): an
# alias that needs no record, printed before every record
Block = tuple[str, str]


def declaration_order(
    module: ir.Module,
    records: Sequence[str],
    opaque: set[str],
    aliases: Sequence[str],
) -> list[Block]:
    """The blocks of the module in the order they are printed."""
    return _Order(module, records, opaque, aliases).run()


class _Order:
    def __init__(
        self, module: ir.Module, records: Sequence[str], opaque: set[str], aliases: Sequence[str]
    ) -> None:
        self.module = module
        self.records = list(records)
        self.wanted = set(records)
        self.opaque = opaque
        self.aliases = list(aliases)
        self.alias_names = set(aliases)
        self.blocks: list[Block] = []
        self.declared: set[str] = set()
        self.completed: set[str] = set()
        self.aliased: set[str] = set()

    def run(self) -> list[Block]:
        for name in self.aliases:
            if not self._reaches_a_record(name, set()):
                self.alias(name)
        scalars = len(self.blocks)
        for key in self.records:
            self.complete(key)
        for name in self.aliases:
            self.alias(name)
        return [("scalar", name) for _, name in self.blocks[:scalars]] + _joined(
            self.blocks[scalars:]
        )

    # -- what a type needs ---------------------------------------------------------
    def needs(self, type_: ir.Type, by_value: bool = True) -> Iterator[tuple[str, str]]:
        """("complete" | "declared", record key) and ("alias", typedef name) pairs."""
        if isinstance(type_, ir.Pointer):
            yield from self.needs(type_.target, by_value=False)
        elif isinstance(type_, ir.Array):
            yield from self.needs(type_.elem, by_value)
        elif isinstance(type_, ir.FuncType):
            for part in (type_.ret, *(p.type for p in type_.params)):
                yield from self.needs(part, by_value=False)
        elif isinstance(type_, ir.Ref) and type_.kind == "record":
            if type_.name in self.wanted:
                yield ("complete" if by_value else "declared", type_.name)
        elif isinstance(type_, ir.Ref) and type_.kind == "typedef":
            if type_.name in self.alias_names:
                yield ("alias", type_.name)
            else:  # a typedef spelled as what it names (a record's own name, the prelude's)
                yield from self.needs(self.module.typedefs[type_.name].type, by_value)

    def alias_needs(self, name: str) -> Iterator[tuple[str, str]]:
        target = self.module.typedefs[name].type
        # "Y = X" for a record needs X to exist; an array of X needs it complete.
        by_value = not (isinstance(target, ir.Ref) and target.kind in ("record", "typedef"))
        yield from self.needs(target, by_value)

    def _reaches_a_record(self, name: str, seen: set[str]) -> bool:
        seen.add(name)
        for kind, what in self.alias_needs(name):
            if kind != "alias" or (what not in seen and self._reaches_a_record(what, seen)):
                return True
        return False

    # -- emitting ------------------------------------------------------------------
    def satisfy(self, need: tuple[str, str]) -> None:
        kind, what = need
        if kind == "alias":
            self.alias(what)
        elif kind == "declared":
            self.declare(what)
        else:
            self.complete(what)

    def declare(self, key: str) -> None:
        if key not in self.declared:
            self.declared.add(key)
            self.blocks.append(("class", key))

    def complete(self, key: str) -> None:
        if key in self.completed:
            return
        self.completed.add(key)
        if key in self.opaque:
            self.declare(key)
            return
        for member in self.module.records[key].fields or ():
            for need in self.needs(member.type):
                self.satisfy(need)
        self.declare(key)
        self.blocks.append(("fields", key))

    def alias(self, name: str) -> None:
        if name in self.aliased:
            return
        self.aliased.add(name)
        for need in self.alias_needs(name):
            self.satisfy(need)
        self.blocks.append(("alias", name))


def _joined(blocks: list[Block]) -> list[Block]:
    """The blocks with each class completed right after its declaration as one."""
    joined: list[Block] = []
    for kind, what in blocks:
        if kind == "fields" and joined and joined[-1] == ("class", what):
            joined[-1] = ("record", what)
        else:
            joined.append((kind, what))
    return joined


__all__ = ["Block", "declaration_order"]
