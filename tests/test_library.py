"""The generated module as a library: records refuse unknown names, show their values,
read enum members back as enums; the file reads and diffs well."""

from __future__ import annotations

import ctypes
import difflib
import enum
import io
import re
import shutil
import tokenize
from pathlib import Path

import pytest
from conftest import load_module

from generator.pipeline import Options, build


@pytest.fixture(scope="module")
def libdxg(corpus: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", rules=()))
    out = tmp_path_factory.mktemp("libdxg") / "d3dkmthk.py"
    out.write_text(result.text)
    return result, load_module(out, "library_libdxg")


def test_unknown_names_are_refused_naming_the_closest_member(libdxg) -> None:  # noqa: ANN001
    _, k = libdxg
    flags = k.D3DKMT_CREATEALLOCATIONFLAGS()
    with pytest.raises(AttributeError, match=r"D3DKMT_CREATEALLOCATIONFLAGS .*'CreateShared'"):
        flags.CreateSahred = 1
    with pytest.raises(TypeError, match=r"D3DKMT_CREATEALLOCATION .*'hDevice'"):
        k.D3DKMT_CREATEALLOCATION(hDevcie=1)
    with pytest.raises(AttributeError):
        k.D3DKMT_DESTROYALLOCATION().NoSuchMember = 1
    # Every member a user sees can be set, lifted and bit-field ones included.
    flags.CreateShared = 1
    assert flags.CreateShared == 1
    value = k.D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS(Shared=1)
    assert value.Value == 1  # the union's whole word, under its C name


def test_enum_members_read_back_as_the_enum(libdxg) -> None:  # noqa: ANN001
    _, k = libdxg
    query = k.D3DKMT_QUERYADAPTERINFO(Type=3)
    assert isinstance(query.Type, k.KMTQUERYADAPTERINFOTYPE)
    assert query.Type == k.KMTQUERYADAPTERINFOTYPE(3)
    query.Type = k.KMTQAITYPE_GETSEGMENTSIZE
    assert query.Type is k.KMTQAITYPE_GETSEGMENTSIZE
    query.Type = 0x7FFF_FFF0  # a value the enum lacks stays an int
    assert type(query.Type) is int
    assert k.D3DKMT_QUERYADAPTERINFO.Type.offset == 4  # the class attribute is ctypes' field


def test_repr_and_to_dict_show_the_members(libdxg) -> None:  # noqa: ANN001
    _, k = libdxg
    handles = (ctypes.c_uint32 * 2)(7, 8)
    destroy = k.D3DKMT_DESTROYALLOCATION(hDevice=5, phAllocationList=handles, AllocationCount=2)
    text = repr(destroy)
    assert text.startswith("D3DKMT_DESTROYALLOCATION(hDevice=5, hResource=0, phAllocationList=<")
    assert text.endswith("AllocationCount=2)")
    flags = k.D3DKMT_CREATEALLOCATIONFLAGS(CreateShared=1, ReadOnly=1)
    assert repr(flags) == "D3DKMT_CREATEALLOCATIONFLAGS(CreateShared=1, ReadOnly=1)"
    create = k.D3DKMT_CREATEALLOCATION(Flags=flags)
    assert "Flags=D3DKMT_CREATEALLOCATIONFLAGS(CreateShared=1, ReadOnly=1)" in repr(create)
    plain = create.to_dict()
    assert plain["Flags"]["CreateShared"] == 1 and plain["pAllocationInfo"] is None
    assert isinstance(plain["Flags"], dict)
    query = k.D3DKMT_QUERYADAPTERINFO(Type=3)
    assert "Type=KMTQUERYADAPTERINFOTYPE.KMTQAITYPE_GETSEGMENTSIZE" in repr(query)
    assert isinstance(query.to_dict()["Type"], enum.IntEnum)


def test_no_made_up_names_or_tags_are_exported(libdxg) -> None:  # noqa: ANN001
    _, k = libdxg
    exported = set(k.__all__)
    assert not [n for n in exported if "anonymous" in n]
    assert "_D3DKMT_CREATEALLOCATION" not in exported
    assert k._D3DKMT_CREATEALLOCATION is k.D3DKMT_CREATEALLOCATION  # still there
    assert "D3DKMT_CREATEALLOCATION" in exported and "KMTQAITYPE_GETSEGMENTSIZE" in exported


def _code_lines(text: str) -> set[int]:
    """Numbers of the lines that hold code, not string literals (docstrings)."""
    in_strings: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.start[0] != token.end[0]:
            in_strings.update(range(token.start[0], token.end[0] + 1))
    return set(range(1, text.count("\n") + 2)) - in_strings


def test_no_line_of_code_is_over_120_characters(libdxg) -> None:  # noqa: ANN001
    result, _ = libdxg
    lines = result.text.splitlines()
    code = _code_lines(result.text)
    long = [line for n, line in enumerate(lines, 1) if n in code and len(line) > 120]
    long = [line for line in long if "://" not in line]
    assert not long, long[:5]


def test_one_more_member_changes_a_handful_of_lines(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "headers" / "libdxg"
    copy = tmp_path / "sdk"
    shutil.copytree(source, copy)
    header = copy / "d3dkmthk.h"
    text = header.read_text(encoding="utf-8", errors="replace")
    pattern = r"(typedef struct _D3DKMT_DESTROYALLOCATION\s*\{.*?AllocationCount;)"
    changed, count = re.subn(pattern, r"\1\n    UINT Extra;", text, count=1, flags=re.S)
    assert count == 1
    before = build(Options(header, rules=())).text
    header.write_text(changed, encoding="utf-8")
    after = build(Options(header, rules=())).text
    old_lines, new_lines = before.splitlines(), after.splitlines()
    outside = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes():
        if tag == "equal":
            continue
        outside += [line for line in old_lines[i1:i2] + new_lines[j1:j2]]
    docstring = _class_docstring(after, "D3DKMT_DESTROYALLOCATION")
    docstring |= _class_docstring(before, "D3DKMT_DESTROYALLOCATION")
    outside = [line for line in outside if line not in docstring and not line.startswith("# ")]
    assert 0 < len(outside) <= 12, outside  # measured: see the closing note


def _class_docstring(text: str, name: str) -> set[str]:
    start = text.index(f"\n    class {name}(")  # in its builder
    first = text.index('"""', start)
    end = text.index('"""', first + 3)
    return set(text[first : end + 3].splitlines())


def test_validate_checks_each_record_an_array_pointer_counts(libdxg) -> None:  # noqa: ANN001
    _, k = libdxg
    infos = (k.D3DDDI_ALLOCATIONINFO * 3)()
    infos[2].Flags.Reserved = 1  # a reserved bit set in the third element only
    pointer = ctypes.cast(infos, ctypes.POINTER(k.D3DDDI_ALLOCATIONINFO))
    create = k.D3DKMT_CREATEALLOCATION(hDevice=1, NumAllocations=3, pAllocationInfo=pointer)
    with pytest.raises(k.ValidationError) as caught:
        create.validate()
    members = [member for _, member, _ in caught.value.errors]
    assert "pAllocationInfo[2].Flags.Reserved" in members
    assert not [m for m in members if m.startswith(("pAllocationInfo[0]", "pAllocationInfo[1]"))]
    create.NumAllocations = 2  # the count says how many elements there are
    with pytest.raises(k.ValidationError) as caught:
        create.validate()
    assert not [m for _, m, _ in caught.value.errors if m.startswith("pAllocationInfo[")]
