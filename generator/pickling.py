"""Pickling for the frozen, slotted dataclasses the cache stores and the page
reader sends (the IR, layouts, pages, locations).

For such a class ``dataclasses`` supplies ``__getstate__``/``__setstate__`` that
look the class's fields up again for every object; an analysis holds some 27,000
of them, and those lookups were most of the time its cache entry took to write
and to read. These do the same with the field names looked up once.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import TypeVar

T = TypeVar("T", bound=type)


def by_fields(cls: T) -> T:
    """Class decorator (outside ``@dataclass(frozen=True, slots=True)``): pickle
    each object as the tuple of its fields' values."""
    names = tuple(field.name for field in dataclasses.fields(cls))
    values = attrgetter(*names) if names else (lambda _: ())

    def __getstate__(self: object) -> tuple:  # noqa: N807 - pickle's protocol
        state = values(self)
        return state if len(names) != 1 else (state,)

    # Each slot's own setter: object.__setattr__ (a frozen class refuses plain
    # assignment) would find it again from the name for every field of every object.
    setters = tuple(cls.__dict__[name].__set__ for name in names)

    def __setstate__(self: object, state: tuple) -> None:  # noqa: N807
        for set_slot, value in zip(setters, state, strict=True):
            set_slot(self, value)

    cls.__getstate__ = __getstate__
    cls.__setstate__ = __setstate__
    return cls
