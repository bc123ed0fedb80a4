"""Tests for generator/rules.py: rule compilation, derived rules, stubs, and the shipped rules.

Unit tests run on small inline headers and pages. The corpus tests read
``$D3DKMT_CORPUS`` (see conftest.py) and generate libdxg's d3dkmthk.h with the
reference pages; every shipped hand rule is exercised on real ctypes instances:
one that satisfies every rule of its record, and one that breaks that rule alone.
"""

from __future__ import annotations

import ctypes
import random
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from textwrap import dedent
from types import ModuleType

import pytest
from conftest import load_module

from generator import ir
from generator.cli import main as cli_main
from generator.cli import sample_dir
from generator.derive import (
    derive_rules,
    merge_rules,
    requirement_stubs,
    rules_report,
    rules_summary,
)
from generator.docs import DocIndex, read_page_text
from generator.errors import Diagnostics, GeneratorError, Loc
from generator.pipeline import Options, Result, build
from generator.preprocess import preprocess
from generator.rules import (
    POINTER_EXAMPLE,
    Rule,
    compile_rule,
    load_rules,
    read_rules_file,
    shipped_rules_path,
)

SHIPPED = tuple(read_rules_file(shipped_rules_path()))
SHIPPED_RECORDS = tuple(dict.fromkeys(rule.record for rule in SHIPPED))
# Independent of rules.py's own pattern: the SAL that sizes a buffer.
SAL_SIZE = re.compile(r"_(?:Field_size|In_reads|Out_writes|Inout_updates)\w*_\s*\(")
_KEEP_ALIVE = ctypes.create_string_buffer(64)  # what "ptr" example values point to


# -- helpers ----------------------------------------------------------------------------
def entry(**fields: object) -> dict[str, object]:
    """A ``[[rule]]`` table with the required keys filled in."""
    base: dict[str, object] = {"record": "R", "name": "n", "require": "a != 0", "message": "m"}
    return {**base, **fields}


def broken(
    instance: ctypes.Structure, rules: Sequence[Rule], module: ModuleType | None = None
) -> list[tuple[str, str]]:
    """(member, message) of every rule whose condition is false: a reference validator.

    Conditions run where validate() runs them: in the generated module's globals.
    """
    scope = vars(module) if module else {}
    return [
        (r.member, r.message) for r in rules if not eval(r.condition, scope, {"self": instance})
    ]


def field_type(cls: type, name: str) -> type | None:
    """The ctypes type of member ``name`` of ``cls``, anonymous members searched."""
    types = {item[0]: item[1] for item in getattr(cls, "_fields_", ())}
    if name in types:
        return types[name]
    for anonymous in getattr(cls, "_anonymous_", ()):
        found = field_type(types[anonymous], name)
        if found is not None:
            return found
    return None


def set_path(instance: ctypes.Structure, path: str, value: int | str) -> None:
    """Set a member path; ``"ptr"`` is a valid non-NULL pointer, 0 on a pointer NULL."""
    *parents, last = path.split(".")
    holder = instance
    for name in parents:
        holder = getattr(holder, name)
    ctype = field_type(type(holder), last)
    pointer = ctype is not None and (
        issubclass(ctype, ctypes._Pointer) or issubclass(ctype, ctypes.c_void_p)
    )
    if value == POINTER_EXAMPLE:
        assert pointer, f"{path} is not a pointer"
        address = ctypes.addressof(_KEEP_ALIVE)
        value = ctypes.cast(address, ctype) if issubclass(ctype, ctypes._Pointer) else address
    elif pointer and value == 0:
        value = None
    setattr(holder, last, value)


def satisfying(cls: type, rules: Sequence[Rule]) -> ctypes.Structure:
    """A zeroed instance with every rule's ``example_ok`` values set."""
    instance = cls()
    for rule in rules:
        for path, value in rule.example_ok:
            set_path(instance, path, value)
    return instance


def member_paths(result: Result) -> dict[str, set[str]]:
    """Public record name -> member paths, as the pipeline checks rules against them."""
    engine, module = result.layouts["x64"], result.module
    return {
        name: {path for path, *_ in engine.paths(key)}
        for key, name in module.record_names().items()
        if module.records[key].fields is not None
    }


def header_block(text: str, record: str) -> tuple[int, int]:
    """Start and end offsets of ``typedef struct _RECORD { ... } RECORD;`` in ``text``."""
    start = text.index(f"typedef struct _{record}\n")
    end = text.index(f"}} {record};", start)
    return start, end


def copy_libdxg(corpus: Path, folder: Path) -> Path:
    for header in (corpus / "headers" / "libdxg").glob("*.h"):
        shutil.copy(header, folder / header.name)
    return folder / "d3dkmthk.h"


def rename_in_record(header: Path, record: str, old: str, new: str | None) -> None:
    """Rename member ``old`` of ``record`` in a header (``new=None`` deletes its line)."""
    text = header.read_text(encoding="utf-8")
    start, end = header_block(text, record)
    block = text[start:end]
    pattern = re.compile(rf"^.*\b{old};.*\n", re.M) if new is None else re.compile(rf"\b{old}\b")
    changed, count = pattern.subn("" if new is None else new, block, count=1)
    assert count == 1, f"{old} not found in {record}"
    header.write_text(text[:start] + changed + text[end:], encoding="utf-8")


# -- compiling hand rules ---------------------------------------------------------------
def test_compile_require_only() -> None:
    rule = compile_rule(entry(require="hDevice != 0"), Loc("r.toml", 3))
    assert rule.condition == "self.hDevice != 0"
    assert (rule.member, rule.origin, rule.loc.line) == ("hDevice", "hand", 3)


def test_compile_when_and_null() -> None:
    rule = compile_rule(entry(when="hResource != 0", require="phList == NULL"), Loc("r"))
    assert rule.condition == "not (self.hResource != 0) or (not self.phList)"
    rule = compile_rule(entry(require="phList != NULL"), Loc("r"))
    assert rule.condition == "bool(self.phList)"


def test_compile_paths_and_member_override() -> None:
    rule = compile_rule(
        entry(require="Luid.LowPart != 0 or Luid.HighPart != 0", member="Luid"), Loc("r")
    )
    assert rule.condition == "self.Luid.LowPart != 0 or self.Luid.HighPart != 0"
    assert rule.member == "Luid"
    assert rule.paths() == ("Luid.LowPart", "Luid.HighPart")


def test_compile_examples_flatten_dotted_keys() -> None:
    rule = compile_rule(
        entry(example_ok={"Flags": {"A": 1}, "p": "ptr"}, example_bad={"Flags.A": 0}), Loc("r")
    )
    assert rule.example_ok == (("Flags.A", 1), ("p", "ptr"))
    assert rule.example_bad == (("Flags.A", 0),)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"require": "f(x)"}, "Call is not allowed"),
        ({"require": "x == 'a'"}, "Constant is not allowed"),
        ({"require": "x == True"}, "Constant is not allowed"),
        ({"require": "x[0] == 1"}, "Subscript is not allowed"),
        ({"require": "1 == 1"}, "the expression names no member"),
        ({"require": "x ="}, "cannot read expression"),
        ({"requires": "x"}, "unknown key 'requires'"),
        ({"message": 3}, "needs a 'message' string"),
        ({"member": "a b"}, "'member' must be a member path"),
        ({"example_ok": {"x": 1.5}}, "example_ok.x must be an integer"),
        ({"example_bad": 3}, "'example_bad' must be a table"),
    ],
)
def test_compile_rejects(fields: dict[str, object], message: str) -> None:
    with pytest.raises(GeneratorError, match=re.escape(message)):
        compile_rule(entry(**fields), Loc("r.toml", 7))


def write_rules(folder: Path, text: str) -> Path:
    path = folder / "mine.toml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


RULES_TEXT = """\
    # a comment
    [[rule]]
    record = "R"
    name = "first"
    require = "a != 0"
    message = "m"

    [[rule]]
    record = "R"
    name = "second"
    require = "b != 0"
    message = "m"

    [[rule]]
    record = "Absent"
    name = "third"
    require = "c != 0"
    message = "m"
"""


def test_load_rules_points_at_the_rule_line(tmp_path: Path) -> None:
    path = write_rules(tmp_path, RULES_TEXT)
    with pytest.raises(GeneratorError) as caught:
        load_rules([path], {"R": ["a"]}, Diagnostics())
    assert str(caught.value) == (
        f"{path}:8:1: error: rule 'second' refers to member 'b' that R no longer has"
    )


def test_load_rules_keep_going_and_skipped_records(tmp_path: Path) -> None:
    path = write_rules(tmp_path, RULES_TEXT)
    diagnostics, skipped = Diagnostics(), []
    rules = load_rules([path], {"R": ["a"]}, diagnostics, keep_going=True, skipped=skipped)
    assert [r.name for r in rules["R"]] == ["first"]
    assert [str(w) for w in diagnostics.warnings] == [
        f"{path}:8:1: warning: rule 'second' refers to member 'b' that R no longer has; "
        "rule dropped"
    ]
    assert [r.name for r in skipped] == ["third"]  # the header has no record "Absent"


def test_example_paths_are_checked_too(tmp_path: Path) -> None:
    path = write_rules(
        tmp_path, '[[rule]]\nrecord = "R"\nname = "x"\nrequire = "a != 0"\nmessage = "m"\n'
        'example_bad = { gone = 1 }\n'
    )  # fmt: skip
    with pytest.raises(GeneratorError, match="refers to member 'gone'"):
        load_rules([path], {"R": ["a"]}, Diagnostics())


def test_shipped_rules_cover_enough_records() -> None:
    assert "D3DKMT_DESTROYALLOCATION" in SHIPPED_RECORDS
    assert len(SHIPPED_RECORDS) - 1 >= 10, SHIPPED_RECORDS
    for rule in SHIPPED:
        assert rule.cite, f"{rule.record}:{rule.name} cites no page sentence"
        assert rule.example_bad, f"{rule.record}:{rule.name} has no example_bad"


def test_sample_skips_rules_of_absent_records() -> None:
    options = Options(sample_dir() / "d3dkmthk.h", docs=(sample_dir() / "docs",))
    result = build(options)
    skipped: list[Rule] = []
    hand = load_rules([shipped_rules_path()], member_paths(result), Diagnostics(), skipped=skipped)
    assert list(hand) == ["D3DKMT_DESTROYALLOCATION"]
    assert {r.record for r in skipped} == set(SHIPPED_RECORDS) - {"D3DKMT_DESTROYALLOCATION"}
    names = [r.name for r in merge_rules(hand, derive_rules(result.module, result.docs, hand))[
        "D3DKMT_DESTROYALLOCATION"
    ]]  # fmt: skip
    assert names == ["device-handle", "no-list-with-resource", "list-without-resource"]


# -- derived rules on a small header ------------------------------------------------------
TINY_HEADER = """\
typedef UINT D3DKMT_HANDLE;
#define EXTRA_COUNT 2

typedef enum _T_KIND { T_KIND_A = 1, T_KIND_B = 2, T_KIND_C = 3, T_KIND_Z = 9 } T_KIND;
typedef enum _T_FLAGS { T_FLAG_A = 1, T_FLAG_B = 2, T_FLAG_C = 4 } T_FLAGS;
typedef enum _T_MANY
{
    M0, M1, M2, M10 = 10, M11, M12, M20 = 20, M21, M22, M30 = 30, M31, M32
} T_MANY;

typedef struct _T_FLAGBITS
{
    union
    {
        struct
        {
            UINT A        : 1;
            UINT Reserved : 31;
        };
        UINT Value;
    };
} T_FLAGBITS;

typedef struct _T_RECORD
{
    D3DKMT_HANDLE hDevice;
    UINT Count;
    union
    {
        _Field_size_(Count) D3DKMT_HANDLE* pList;
        UINT64 AlignTo64;
    };
    _Field_size_opt_(*pCount) UINT* pOpt;
    UINT* pCount;
    _Field_size_bytes_(Count + EXTRA_COUNT) VOID* pPlus;
    _Field_size_bytes_(sizeof(T_FLAGBITS)) VOID* pSized;
    T_KIND Kind;
    T_KIND Result;          // out: what happened
    T_FLAGS Mask;
    T_MANY Many;
    T_FLAGBITS Flags;
    UINT Reserved0;
    BYTE Reserved1[4];
    VOID* Reserved2;
    union
    {
        struct { UINT Reserved; UINT X; } A;
        struct { UINT Y; UINT Z; } B;
    } Alt;
    UINT PageCount;
    UINT* pPages;
    UINT HandleCount;
    D3DKMT_HANDLE Handles[8];
} T_RECORD;
"""

TINY_PAGE = """\
---
UID: NS:t._T_RECORD
title: _T_RECORD
description: x
api_name:
 - _T_RECORD
 - T_RECORD
---

# _T_RECORD structure

## -description

The T_RECORD structure. Callers must zero the structure first.

## -struct-fields

### -field hDevice [in]

A handle to the device. It must be non-zero.

### -field Count [in]

The number of handles in the array that pList specifies.

### -field Kind [in]

The kind. Unknown kinds are ignored.

### -field Result [out]

The driver must set this.

### -field PageCount [in]

The number of pages in the array that [pPages](#) specifies.

### -field HandleCount [in]

The number of handles in the Handles array.
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Result:
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "t.h").write_text(TINY_HEADER, encoding="utf-8")
    return build(Options(folder / "t.h", rules=()))


@pytest.fixture(scope="module")
def tiny_docs() -> DocIndex:
    return DocIndex.from_pages([read_page_text(TINY_PAGE, "ns-t-_t_record.md")])


def test_derived_rules_of_a_small_header(tiny: Result, tiny_docs: DocIndex) -> None:
    derived = derive_rules(tiny.module, tiny_docs, {})
    got = {r.name: r.condition for r in derived["T_RECORD"]}
    assert got == {
        "sal:pList": "self.Count <= 0 or bool(self.pList)",
        "sal:pPlus": "self.Count + 2 <= 0 or bool(self.pPlus)",
        "sal:pCount": "bool(self.pCount)",
        "enum:Kind": "1 <= self.Kind <= 3 or self.Kind == 9",
        "enum:Mask": "not self.Mask & ~0x7",
        "enum:Many": "self.Many in set(T_MANY)",
        "reserved:Flags.Reserved": "self.Flags.Reserved == 0",
        "reserved:Reserved0": "self.Reserved0 == 0",
        "reserved:Reserved1": "not any(self.Reserved1)",
        "reserved:Reserved2": "not self.Reserved2",
        "words:pPages": "self.PageCount <= 0 or bool(self.pPages)",
        "bound:HandleCount": "self.HandleCount <= 8",
    }
    # *pCount: not read (no dereference), but pCount must point somewhere.
    # Not derived: sizeof() counts, the [out] enum, the union of alternatives
    # (Alt.A.Reserved), the Value overlay, a SAL'd pair again in words.
    assert derived["T_FLAGBITS"][0].condition == "self.Reserved == 0"
    assert all(r.origin == "derived" for r in derived["T_RECORD"])
    sal = next(r for r in derived["T_RECORD"] if r.name == "sal:pList")
    assert sal.cite == "SAL _Field_size_(Count) in t.h"
    assert sal.message == "must not be NULL when Count > 0"
    words = next(r for r in derived["T_RECORD"] if r.name == "words:pPages")
    assert words.cite.startswith("The number of pages in the array that pPages specifies. (")


def test_derived_conditions_run_in_the_generated_module(
    tiny: Result, tiny_docs: DocIndex, tmp_path: Path
) -> None:
    (tmp_path / "t.py").write_text(tiny.text, encoding="utf-8")
    module = load_module(tmp_path / "t.py", "tiny_rules_t")
    rules = derive_rules(tiny.module, tiny_docs, {})["T_RECORD"]
    instance = module.T_RECORD(Kind=1, Many=11)
    set_path(instance, "pPlus", POINTER_EXAMPLE)  # its count, Count + 2, is never zero
    set_path(instance, "pCount", POINTER_EXAMPLE)  # it holds pOpt's size
    assert broken(instance, rules, module) == []
    instance.Many, instance.Kind, instance.Reserved1[2] = 5, 4, 1
    instance.Flags.Reserved, instance.Count = 3, 1
    set_path(instance, "pCount", 0)
    assert [member for member, _ in broken(instance, rules, module)] == [
        "pList", "pCount", "Kind", "Many", "Flags.Reserved", "Reserved1",
    ]  # fmt: skip


def test_derived_rules_are_deterministic(tiny: Result, tiny_docs: DocIndex) -> None:
    assert derive_rules(tiny.module, tiny_docs, {}) == derive_rules(tiny.module, tiny_docs, {})


def test_hand_rule_supersedes_derived(tiny: Result, tiny_docs: DocIndex) -> None:
    rule = compile_rule(entry(record="T_RECORD", require="pList != NULL"), Loc("r"))
    hand = {"T_RECORD": (rule,)}
    names = [r.name for r in derive_rules(tiny.module, tiny_docs, hand)["T_RECORD"]]
    assert "sal:pList" not in names and "sal:pPlus" in names
    merged = merge_rules(hand, derive_rules(tiny.module, tiny_docs, hand))
    assert merged["T_RECORD"][0] is hand["T_RECORD"][0]


def test_requirement_stubs(tiny: Result, tiny_docs: DocIndex) -> None:
    rules = merge_rules({}, derive_rules(tiny.module, tiny_docs, {}))
    assert requirement_stubs(tiny.module, tiny_docs, rules)["T_RECORD"] == (
        "hDevice: It must be non-zero.",
        "Callers must zero the structure first.",
    )
    hand = {"T_RECORD": (compile_rule(entry(record="T_RECORD", require="hDevice != 0"), Loc("r")),)}
    stubs = requirement_stubs(tiny.module, tiny_docs, merge_rules(hand, rules))
    assert stubs["T_RECORD"] == ("Callers must zero the structure first.",)


def test_report_counts(tiny: Result, tiny_docs: DocIndex) -> None:
    rules = merge_rules({}, derive_rules(tiny.module, tiny_docs, {}))
    report = rules_report(rules, requirement_stubs(tiny.module, tiny_docs, rules))
    assert report["records"]["T_RECORD"] == {"hand": 0, "derived": 12, "stubs": 2}
    assert report["kinds"] == {"bound": 1, "enum": 3, "reserved": 5, "sal": 3, "words": 1}
    assert rules_summary(report).startswith("rules: 0 hand-written, 13 derived")


# -- libdxg, with the pages ---------------------------------------------------------------
class Libdxg:
    """libdxg generated with the pages, its module imported, and every rule."""

    def __init__(self, result: Result, module: ModuleType) -> None:
        self.result = result
        self.module = module
        self.hand = {
            name: tuple(r for r in rules if r.origin == "hand")
            for name, rules in result.rules.items()
        }
        self.derived = derive_rules(result.module, result.docs, self.hand)
        self.rules = merge_rules(self.hand, self.derived)

    def emitted(self, record: str) -> Sequence[Rule]:
        """The rules the generated validate() checks (whatever pipeline.py passes on)."""
        return self.result.rules.get(record, ())


@pytest.fixture(scope="module")
def libdxg(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Libdxg:
    docs = (corpus / "docs" / "d3dkmthk", corpus / "docs" / "d3dukmdt")
    result = build(Options(corpus / "headers" / "libdxg" / "d3dkmthk.h", docs=docs))
    path = tmp_path_factory.mktemp("libdxg") / "d3dkmthk.py"
    path.write_text(result.text, encoding="utf-8")
    return Libdxg(result, load_module(path, "libdxg_rules_d3dkmthk"))


def test_destroyallocation_keeps_exactly_its_three_rules(libdxg: Libdxg) -> None:
    names = [r.name for r in libdxg.rules["D3DKMT_DESTROYALLOCATION"]]
    assert names == ["device-handle", "no-list-with-resource", "list-without-resource"]


@pytest.mark.parametrize("record", SHIPPED_RECORDS)
def test_hand_rules_cite_their_page(libdxg: Libdxg, record: str) -> None:
    from generator.derive import _sentences  # the same sentence splitting as the stubs

    page = libdxg.result.docs.find(record)
    assert page is not None, f"no page for {record}"
    sentences = set(_sentences(page.description))
    for member in page.members:
        sentences.update(_sentences(member.text))
    for rule in libdxg.hand[record]:
        assert rule.cite in sentences, f"{record}:{rule.name} cites {rule.cite!r}"


@pytest.mark.parametrize("record", SHIPPED_RECORDS)
def test_instance_satisfying_every_rule(libdxg: Libdxg, record: str) -> None:
    rules = libdxg.rules[record]
    instance = satisfying(getattr(libdxg.module, record), libdxg.hand[record])
    assert broken(instance, rules, libdxg.module) == []
    assert instance.validate() is None


@pytest.mark.parametrize("rule", SHIPPED, ids=lambda r: f"{r.record}:{r.name}")
def test_instance_breaking_only_this_rule(libdxg: Libdxg, rule: Rule) -> None:
    cls = getattr(libdxg.module, rule.record)
    instance = satisfying(cls, libdxg.hand[rule.record])
    for path, value in rule.example_bad:
        set_path(instance, path, value)
    assert broken(instance, libdxg.rules[rule.record], libdxg.module) == [
        (rule.member, rule.message)
    ]
    with pytest.raises(libdxg.module.ValidationError) as caught:
        instance.validate()
    assert caught.value.errors == [(rule.record, rule.member, rule.message)]
    assert f"{rule.record}.{rule.member}: {rule.message}" in str(caught.value)


def test_validate_lists_every_broken_rule(libdxg: Libdxg) -> None:
    instance = libdxg.module.D3DKMT_LOCK()  # zero: no device, no allocation
    with pytest.raises(libdxg.module.ValidationError) as caught:
        instance.validate()
    assert [member for _, member, _ in caught.value.errors] == ["hDevice", "hAllocation"]


def fuzz_records(libdxg: Libdxg, count: int) -> list[str]:
    """The shipped records, then those with the most rules, ``count`` in all."""
    by_size = sorted(libdxg.rules, key=lambda name: (-len(libdxg.rules[name]), name))
    chosen = list(dict.fromkeys([*SHIPPED_RECORDS, *by_size]))
    return [name for name in chosen if hasattr(libdxg.module, name)][:count]


def test_random_values_only_ever_give_validation_errors(libdxg: Libdxg) -> None:
    rng = random.Random(20240605)  # fixed: a failure reproduces
    records = fuzz_records(libdxg, 50)
    assert len(records) == 50
    for name in records:
        cls = getattr(libdxg.module, name)
        size = ctypes.sizeof(cls)
        for _ in range(20):
            instance = cls()
            ctypes.memmove(ctypes.addressof(instance), rng.randbytes(size), size)
            broken(instance, libdxg.rules[name], libdxg.module)  # every condition evaluates
            try:
                assert instance.validate() is None
            except libdxg.module.ValidationError as error:
                members = {r.member for r in libdxg.emitted(name)}
                assert error.errors and all(
                    e[0] == name and e[1].split("[")[0] in members for e in error.errors
                )


def test_derived_rules_name_real_members(libdxg: Libdxg) -> None:
    paths = member_paths(libdxg.result)
    for name, rules in libdxg.derived.items():
        for rule in rules:
            assert set(rule.paths()) | {rule.member} <= paths[name], (name, rule.name)


def sal_pointer_fields(module: ir.Module) -> list[ir.Field]:
    """Record members that are pointers and carry a buffer-size SAL annotation."""
    return [
        member
        for record in module.records.values()
        for member in record.fields or ()
        if isinstance(module.resolve(member.type), ir.Pointer)
        and any(SAL_SIZE.match(a) for a in member.annotations)
    ]


def test_every_sal_pointer_member_has_its_rule(libdxg: Libdxg) -> None:
    fields = sal_pointer_fields(libdxg.result.module)
    ruled = {
        (r.loc.file, r.loc.line) for rules in libdxg.derived.values() for r in rules
        if r.kind == "sal"
    }  # fmt: skip
    missing = [f for f in fields if (f.loc.file, f.loc.line) not in ruled]
    assert missing == []
    assert len(fields) - len(missing) >= 23, "fewer SAL-annotated pointers than libdxg has"
    print(f"{len(fields)} SAL-annotated pointer members, {len(fields) - len(missing)} with rules")


def test_every_sal_annotation_of_a_member_reaches_the_ir(libdxg: Libdxg, corpus: Path) -> None:
    pp = preprocess(corpus / "headers" / "libdxg" / "d3dkmthk.h", abi="x64")
    module = libdxg.result.module
    # Each member owns the lines from the previous member (or its record's start) to its own.
    owner: dict[tuple[str, int], ir.Field] = {}
    for record in module.records.values():
        previous = record.loc.line
        for member in record.fields or ():
            if member.loc.file != record.loc.file:
                continue
            for line in range(previous + 1, member.loc.line + 1):
                owner.setdefault((member.loc.file, line), member)
            previous = member.loc.line
    lost = [
        f"{file}:{line}: {a}"
        for (file, line), found in pp.annotations.items()
        for a in map(str, found)
        if SAL_SIZE.match(a) and (file, line) in owner and a not in owner[(file, line)].annotations
    ]
    assert lost == []


# -- a shipped rule's member deleted from the header ----------------------------------------
def lock_rule_line() -> int:
    wanted = ("D3DKMT_LOCK", "allocation-handle")
    return next(r.loc.line for r in SHIPPED if (r.record, r.name) == wanted)


def test_deleted_member_stops_generation(corpus: Path, tmp_path: Path) -> None:
    header = copy_libdxg(corpus, tmp_path)
    rename_in_record(header, "D3DKMT_LOCK", "hAllocation", None)
    with pytest.raises(GeneratorError) as caught:
        build(Options(header))
    assert str(caught.value) == (
        f"rules/d3dkmthk.toml:{lock_rule_line()}:1: error: rule 'allocation-handle' refers to "
        "member 'hAllocation' that D3DKMT_LOCK no longer has"
    )


def test_deleted_member_cli_exit_2_writes_nothing(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = copy_libdxg(corpus, tmp_path)
    rename_in_record(header, "D3DKMT_LOCK", "hAllocation", None)
    out = tmp_path / "out"
    assert cli_main(["generate", "--header", str(header), "--out", str(out)]) == 2
    assert not out.exists()
    error = capsys.readouterr().err
    assert "refers to member 'hAllocation' that D3DKMT_LOCK no longer has" in error


def test_deleted_member_keep_going_drops_the_rule(corpus: Path, tmp_path: Path) -> None:
    header = copy_libdxg(corpus, tmp_path)
    rename_in_record(header, "D3DKMT_LOCK", "hAllocation", None)
    result = build(Options(header, keep_going=True))
    assert [r.name for r in result.rules["D3DKMT_LOCK"] if r.origin == "hand"] == [
        "device-handle", "reserved-gpu-virtual-address",
    ]  # fmt: skip
    assert any(
        "rule 'allocation-handle' refers to member 'hAllocation'" in w.message
        and w.message.endswith("rule dropped")
        for w in result.diagnostics.warnings
    )


def test_renaming_the_rules_member_fixes_it(corpus: Path, tmp_path: Path) -> None:
    header = copy_libdxg(corpus, tmp_path)
    rename_in_record(header, "D3DKMT_LOCK", "hAllocation", "hLockedAllocation")
    text = shipped_rules_path().read_text(encoding="utf-8")
    rules = tmp_path / "d3dkmthk.toml"
    rules.write_text(re.sub(r"\bhAllocation\b", "hLockedAllocation", text), encoding="utf-8")
    result = build(Options(header, rules=(rules,)))
    assert "self.hLockedAllocation != 0" in [r.condition for r in result.rules["D3DKMT_LOCK"]]


# -- the numbers ----------------------------------------------------------------------------
def test_report_on_libdxg(libdxg: Libdxg) -> None:
    stubs = requirement_stubs(libdxg.result.module, libdxg.result.docs, libdxg.rules)
    report = rules_report(libdxg.rules, stubs)
    assert report["totals"]["hand"] == len(SHIPPED)
    assert report["records"]["D3DKMT_DESTROYALLOCATION"] == {"hand": 3, "derived": 0, "stubs": 0}
    for kind in ("sal", "words", "bound", "reserved", "enum"):
        assert report["kinds"].get(kind, 0) > 0, kind
    print(rules_summary(report))


def check_mapping(rules: Mapping[str, Sequence[Rule]]) -> None:
    for name, items in rules.items():
        assert all(rule.record == name for rule in items)


def test_rule_records_match_their_keys(libdxg: Libdxg) -> None:
    check_mapping(libdxg.rules)
