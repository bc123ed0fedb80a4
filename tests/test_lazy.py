"""The generated module makes its enums, records, callback types and functions on
first use (PEP 562): importing makes none of them, and every way of reaching a
name (attribute, ``from m import *``, ``dir()``, ``check_layout()``, pickle) still
gives the one, complete object."""

from __future__ import annotations

import ctypes
import enum
import pickle
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import load_module

from generator.pipeline import Options, build

LINKED = """
typedef unsigned int UINT;
typedef struct _D3DKMT_LATER D3DKMT_LATER;
typedef enum _D3DKMT_KIND { D3DKMT_KIND_A = 1, D3DKMT_KIND_B = 2 } D3DKMT_KIND;
typedef struct _D3DKMT_NODE {
    struct _D3DKMT_NODE* pNext;   // itself
    D3DKMT_LATER* pLater;         // a record declared only further down
    D3DKMT_KIND Kind;
} D3DKMT_NODE;
struct _D3DKMT_LATER {
    D3DKMT_NODE* pBack;
    D3DKMT_NODE Inner;            // by value: complete before this one
    UINT Value;
};
typedef void (*PFND3DKMT_VISIT)(D3DKMT_NODE* pNode);
"""


@pytest.fixture(scope="module")
def libdxg_path(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h"))
    out = tmp_path_factory.mktemp("lazy") / "d3dkmthk.py"
    out.write_text(result.text)
    return out


def _fresh(path: Path, name: str) -> ModuleType:
    sys.modules.pop(name, None)
    return load_module(path, name)


def _lazy_names(module: ModuleType) -> set[str]:
    return set(module._made_by())


def _made(module: ModuleType) -> set[str]:
    return _lazy_names(module) & set(vars(module))


def test_importing_makes_no_class(libdxg_path: Path) -> None:
    k = _fresh(libdxg_path, "lazy_import")
    assert _made(k) == set()
    assert k._Structure.__subclasses__() == [] and k._Union.__subclasses__() == []
    lazy = _lazy_names(k)
    assert "D3DKMT_CREATEALLOCATION" in lazy and "KMTQAITYPE_UMDRIVERPRIVATE" in lazy
    assert isinstance(k.D3DKMT_MAX_PRESENT_HISTORY_RECTS, int)  # constants stay plain
    # One record makes what it reaches, not the whole module.
    destroy = k.D3DKMT_DESTROYALLOCATION2
    held = {t.__name__ for _, t in destroy._fields_ if issubclass(t, ctypes.Structure)}
    assert held and {"D3DKMT_DESTROYALLOCATION2", *held} <= _made(k)
    assert len(_made(k)) < len(lazy) // 10
    with pytest.raises(AttributeError, match="no attribute 'D3DKMT_NO_SUCH_THING'"):
        k.D3DKMT_NO_SUCH_THING  # noqa: B018


def test_every_exported_name_resolves_to_one_object(libdxg_path: Path) -> None:
    k = _fresh(libdxg_path, "lazy_all")
    first = {name: getattr(k, name) for name in k.__all__}
    assert all(getattr(k, name) is value for name, value in first.items())
    assert set(k.__all__) <= set(dir(k))
    assert _lazy_names(k) <= set(dir(k))
    assert isinstance(k.KMTQAITYPE_GETSEGMENTSIZE, k.KMTQUERYADAPTERINFOTYPE)
    assert k.D3DKMT_DESTROYALLOCATION is k._D3DKMT_DESTROYALLOCATION  # the tag, the same class
    assert repr(k.D3DKMTDestroyAllocation) == "<gdi32 function D3DKMTDestroyAllocation>"


def test_star_import_in_a_fresh_namespace(libdxg_path: Path) -> None:
    _fresh(libdxg_path, "lazy_star")
    namespace: dict[str, object] = {}
    exec("from lazy_star import *", namespace)  # noqa: S102
    k = sys.modules["lazy_star"]
    assert set(namespace) - {"__builtins__"} == set(k.__all__)
    create = namespace["D3DKMT_CREATEALLOCATION"]
    assert isinstance(create, type) and issubclass(create, ctypes.Structure)
    assert ctypes.sizeof(create) > 0


def test_check_layout_makes_and_checks_every_record(libdxg_path: Path) -> None:
    k = _fresh(libdxg_path, "lazy_layout")
    assert k.check_layout() == []
    assert k.check_layout("x86" if k._ABI == "x64" else "x64") is not None
    assert _made(k) == _lazy_names(k)  # everything, once


def test_classes_are_named_as_module_level_and_pickle(libdxg_path: Path) -> None:
    k = _fresh(libdxg_path, "lazy_pickle")
    luid = k.LUID
    assert luid.__qualname__ == "LUID" and repr(luid) == "<class 'lazy_pickle.LUID'>"
    create = k.D3DKMT_CREATEALLOCATION
    assert create._broken.__qualname__ == "D3DKMT_CREATEALLOCATION._broken"
    value = pickle.loads(pickle.dumps(luid(LowPart=7, HighPart=-2)))
    assert type(value) is luid and (value.LowPart, value.HighPart) == (7, -2)
    member = pickle.loads(pickle.dumps(k.KMTQAITYPE_GETSEGMENTSIZE))
    assert member is k.KMTQAITYPE_GETSEGMENTSIZE
    assert k.KMTQUERYADAPTERINFOTYPE.__qualname__ == "KMTQUERYADAPTERINFOTYPE"


def test_records_that_point_to_themselves_and_to_later_records(tmp_path: Path) -> None:
    header = tmp_path / "d3dkmthk.h"
    header.write_text(LINKED, encoding="utf-8")
    result = build(Options(header, rules=()))
    out = tmp_path / "linked.py"
    out.write_text(result.text)
    k = _fresh(out, "lazy_linked")
    node = k.D3DKMT_NODE  # made first: it makes D3DKMT_LATER too, which it points to
    later = vars(k)["D3DKMT_LATER"]
    fields = dict(node._fields_)
    assert fields["pNext"]._type_ is node and fields["pLater"]._type_ is later
    assert dict(later._fields_)["pBack"]._type_ is node
    assert ctypes.sizeof(later) > ctypes.sizeof(node)  # complete: it holds one by value
    assert isinstance(node(Kind=2).Kind, enum.IntEnum)  # its enum made with it
    visit = k.PFND3DKMT_VISIT
    assert visit._argtypes_ == (ctypes.POINTER(node),)
    a, b = node(), later(Value=3)
    a.pLater = ctypes.pointer(b)
    assert a.pLater.contents.Value == 3
    assert k.check_layout() == []


def test_a_record_is_complete_before_its_name_is_bound(
    libdxg_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another thread reads a bound name without the lock: what it finds must be
    # complete. Every record completed where it is declared is bound only after
    # its _fields table ran (libdxg has no record declared ahead of its members).
    k = _fresh(libdxg_path, "lazy_bound")
    completion = k._Completion
    bound_while_completing: list[str] = []
    run = completion.__call__

    def watched(self, cls=None):  # noqa: ANN001, ANN202
        if self.name in vars(k):
            bound_while_completing.append(self.name)
        return run(self, cls)

    monkeypatch.setattr(completion, "__call__", watched)
    create = k.D3DKMT_CREATEALLOCATION
    assert ctypes.sizeof(create) > 0 and len(_made(k)) > 10
    assert k.check_layout() == []
    assert bound_while_completing == []
