"""C names that cannot be Python names, or would clash, get one rule (spelling.python_name).

A header whose records, members, bit-fields, enumerators, functions, parameters,
typedefs and constants are named like Python keywords, ctypes' attributes, the
generated records' methods and the module's own names must give a module that
imports, a stub that parses and type-checks, a validate() that works (hand rules
naming renamed members included) and a layout clang agrees with.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import inspect
import keyword
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from clang_oracle import clang_layout
from conftest import load_module
from stub_checkers import CHECKERS
from stub_checkers import run as run_checker

from generator.errors import GeneratorError
from generator.pipeline import Options, Result, build
from generator.spelling import MADE_UP, Names, python_name, reserved_names

HOST_ABI = "x64" if ctypes.sizeof(ctypes.c_void_p) == 8 else "x86"
C_KEYWORDS = {"break", "case", "continue", "else", "for", "if", "return", "while"}
# Every Python keyword C lets a program use as a name.
KEYWORDS = [k for k in keyword.kwlist if k not in C_KEYWORDS]

HEADER = """\
typedef enum _KEYWORDS_ENUM
{
    False, None, True, and, as, assert, async, await, class, from, global, in, is,
    lambda, nonlocal, not, or, pass, raise, try, with, yield,
    match, _, print, mro, bit_length, _missing_, __init__, name, value, sys, _ABI
} KEYWORDS_ENUM;

typedef struct POINTER { UINT print; } POINTER;
typedef union Union { UINT validate; float _fields_; } Union;
typedef struct Structure
{
    Union Union;
    POINTER* POINTER;
    UINT validate;
    UINT _pack_ : 3;
    UINT _anonymous_ : 5;
} Structure;
typedef struct ValidationError { Structure Structure; UINT errors; } ValidationError;
typedef struct check_layout { UINT check_layout; } check_layout;
typedef struct ctypes { UINT None; ULONGLONG ctypes; } ctypes;

typedef struct _KEYWORDS_REC
{
    UINT False; UINT None; UINT True; UINT and; UINT as; UINT assert; UINT async;
    UINT await; UINT class; UINT not; UINT or; UINT pass; UINT raise; UINT try;
    UINT yield; UINT global;
    UINT from;
    _Field_size_(from) UINT* in;
    KEYWORDS_ENUM import;
    UINT def : 3;
    UINT del : 5;
    UINT lambda : 4;
    UINT validate : 2;
    UINT _fields_ : 1;
    UINT print : 1;
    UINT match : 1;
    UINT _ : 15;
    union
    {
        UINT elif;
        struct
        {
            UINT is : 16;
            UINT except : 16;
        };
    };
    struct { UINT finally; UINT nonlocal : 4; UINT type : 4; } with;
    UINT class_;
    UINT _align_; UINT _layout_; UINT _b_base_; UINT _objects; UINT from_buffer; UINT mro;
    UINT __debug__; UINT __init__; UINT __secret;
    UINT _bits_0; UINT _u_0; UINT _empty;
    UINT Any; UCHAR Array[3];
    UINT self;
} KEYWORDS_REC;

typedef UINT (APIENTRY *def)(UINT yield, UINT class);
typedef UINT bytes;
typedef bytes type;

UINT APIENTRY import(UINT class, UINT from, UINT print, UINT None, UINT lambda, UINT class_);
NTSTATUS APIENTRY isinstance(POINTER* POINTER, Structure* Structure);

#define finally 7
#define _SIZE_CHECKS 8
#define getattr 9
#define __all__ 10
"""

RULES = """\
[[rule]]
record = "KEYWORDS_REC"
name = "validate-by-c-name"
require = "validate != 3"
message = "must not be 3"
example_ok = { validate = 1 }
example_bad = { validate = 3 }

[[rule]]
record = "KEYWORDS_REC"
name = "by-python-name"
when = "lambda_ > 1"
require = "None_ != 0"
message = "must be set when lambda is above 1"

[[rule]]
record = "KEYWORDS_REC"
name = "nested"
require = "with_.finally_ < 100 and print == 0"
message = "finally below 100, print clear"

[[rule]]
record = "Structure"
name = "renamed-record"
require = "validate == 0"
message = "must be zero"
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, ModuleType, Path]:
    folder = tmp_path_factory.mktemp("names")
    header = folder / "keywords.h"
    header.write_text(HEADER, encoding="utf-8")
    rules = folder / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    result = build(Options(header, rules=(rules,)))
    (folder / "keywords.py").write_text(result.text, encoding="utf-8")
    (folder / "keywords.pyi").write_text(result.stub, encoding="utf-8")
    return result, load_module(folder / "keywords.py", "names_keywords"), folder


# -- the rule itself ----------------------------------------------------------------------
@pytest.mark.parametrize("name", keyword.kwlist)
def test_every_keyword_gets_a_trailing_underscore(name: str) -> None:
    for kind in ("module", "member", "enumerator", "parameter"):
        assert python_name(name, kind) == name + "_"  # type: ignore[arg-type]


def test_soft_keywords_and_unused_builtins_stay() -> None:
    # Valid names everywhere (3.12's "type" too, except at module level: the runtime calls type()).
    for name in ("match", "case", "_", "print"):
        for kind in ("module", "member", "enumerator", "parameter"):
            assert python_name(name, kind) == name  # type: ignore[arg-type]
    assert python_name("type", "member") == "type"
    assert python_name("type", "module") == python_name("type", "parameter") == "type_"


def test_reserved_names_come_from_the_runtime() -> None:
    member = reserved_names("member")
    assert {"validate", "_objects", "from_buffer", "in_dll", "mro"} <= member
    module = reserved_names("module")
    assert {"ctypes", "Structure", "Union", "POINTER", "ValidationError", "check_layout"} <= module
    assert {"_LAYOUT", "_SIZE_CHECKS", "_BitField", "_place", "_Function", "sys", "enum"} <= module
    assert {"name", "value", "bit_length", "mro"} <= reserved_names("enumerator")
    for name in ("_fields_", "_pack_", "_anonymous_", "_align_", "_layout_", "_b_base_"):
        assert python_name(name, "member") == name + "_"
    assert python_name("_bits_0", "member") == "_bits_0__"  # "_bits_0_" is _sunder_
    assert python_name("__secret", "member") == "_secret"
    assert python_name("Reserved", "member") == "Reserved"


def test_a_renamed_name_does_not_take_another_c_name() -> None:
    assert python_name("class", "member", taken={"class", "class_"}) == "class__"
    assert python_name("class_", "member", taken={"class", "class_"}) == "class_"


# -- the generated module -------------------------------------------------------------------
def test_module_imports_with_every_name(generated: tuple[Result, ModuleType, Path]) -> None:
    result, module, _ = generated
    rec = module.KEYWORDS_REC
    attributes = set(dir(rec)) | set(dir(rec().with_))
    expected = {name: name + "_" for name in KEYWORDS} | {"class": "class__"}
    assert set(expected.values()) <= attributes, set(expected.values()) - attributes
    assert not set(KEYWORDS) & attributes
    assert rec.class__ is not rec.class_  # C's class_ keeps its name; class takes class__
    assert callable(rec.validate)
    assert {"match", "_", "print", "type", "self"} <= attributes
    for name in ("ValidationError", "Structure", "Union", "POINTER", "ctypes", "check_layout"):
        assert isinstance(getattr(module, name + "_"), type), name
    assert module.ValidationError.__mro__[1] is ValueError
    assert module.POINTER is ctypes.POINTER and module.ctypes is ctypes
    assert module.check_layout(HOST_ABI) == []
    enum = module.KEYWORDS_ENUM
    assert enum.None_ == 1 and enum.class_ == module.class_ == 8
    assert (enum.name_.name, enum.mro_.value) == ("name_", enum.mro_)
    assert [module.match, module._, module.print] == [enum.match, enum._, enum.print]
    assert (module.finally_, module._SIZE_CHECKS_, module.getattr_, module._all__) == (7, 8, 9, 10)
    assert module.type_ is module.bytes_ is ctypes.c_uint32
    assert module.import_.__name__ == "import"  # gdi32 exports it by its C name
    assert module.import_.argnames == ("class__", "from_", "print", "None_", "lambda_", "class_")
    assert module.isinstance_.argnames == ("POINTER_", "Structure_")
    for name in module.__all__:
        assert hasattr(module, name), name


def test_bit_fields_of_renamed_members_keep_their_bits(
    generated: tuple[Result, ModuleType, Path],
) -> None:
    _, module, _ = generated
    rec = module.KEYWORDS_REC()
    rec.lambda_, rec.validate_, rec._ = 9, 3, 0x7FFF
    rec.is_, rec.except_ = 0x1234, 0xFFFF
    assert (rec.def_, rec.del_, rec.lambda_, rec.validate_, rec._fields__) == (0, 0, 9, 3, 0)
    assert (rec.is_, rec.except_, rec.elif_) == (0x1234, 0xFFFF, 0xFFFF1234)
    rec.with_.type = 5
    assert rec.with_.type == 5 and rec.with_.nonlocal_ == 0


def test_validate_reads_renamed_members(generated: tuple[Result, ModuleType, Path]) -> None:
    _, module, _ = generated
    rec = module.KEYWORDS_REC()
    rec.validate()
    rec.from_ = 2  # SAL: _Field_size_(from) UINT* in
    rec.import_ = 99  # no KEYWORDS_ENUM value
    rec.validate_ = 3  # the hand rule written with the C name
    rec.lambda_ = 2  # the hand rule written with Python names: class_ must be set
    rec.with_.finally_ = 100
    with pytest.raises(module.ValidationError) as raised:
        rec.validate()
    members = [member for _, member, _ in raised.value.errors]
    assert members == ["validate_", "None_", "with_.finally_", "in_", "import_"]
    assert {record for record, _, _ in raised.value.errors} == {"KEYWORDS_REC"}
    structure = module.Structure_()
    structure.validate_ = 1
    with pytest.raises(module.ValidationError) as raised:
        structure.validate()
    assert raised.value.errors == [("Structure_", "validate_", "must be zero")]


def test_hand_rules_are_compiled_to_python_names(
    generated: tuple[Result, ModuleType, Path],
) -> None:
    result, _, _ = generated
    hand = {r.name: r for r in result.rules["KEYWORDS_REC"] if r.origin == "hand"}
    assert hand["validate-by-c-name"].condition == "self.validate_ != 3"
    assert hand["validate-by-c-name"].example_bad == (("validate_", 3),)
    assert hand["by-python-name"].member == "None_"
    derived = [r.condition for r in result.rules["KEYWORDS_REC"] if r.origin == "derived"]
    assert "self.from_ <= 0 or bool(self.in_)" in derived


def test_a_rule_naming_a_missing_member_still_fails(tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text("typedef struct _R { UINT class; } R;\n", encoding="utf-8")
    rules = tmp_path / "r.toml"
    rules.write_text(
        '[[rule]]\nrecord = "R"\nname = "n"\nrequire = "klass != 0"\nmessage = "m"\n',
        encoding="utf-8",
    )
    with pytest.raises(GeneratorError, match="'klass'"):
        build(Options(header, rules=(rules,)))


@pytest.mark.parametrize("checker", CHECKERS)
def test_stub_parses_and_type_checks(
    generated: tuple[Result, ModuleType, Path], checker: str
) -> None:
    result, _, folder = generated
    ast.parse(result.stub)
    assert "    class__: _CField[c_uint32, int, int | c_uint32]\n" in result.stub
    assert "def import_(class__: int | c_uint32, from_: int | c_uint32, print: int" in result.stub
    found = run_checker(checker, folder, ["keywords.pyi"])
    assert not found, "\n".join(map(str, found[:20]))


def test_module_and_stub_are_ruff_clean(generated: tuple[Result, ModuleType, Path]) -> None:
    _, _, folder = generated
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [ruff, "check", "--no-cache", "--isolated", "--select=E,W,F,I,UP,B", "--line-length=100",
         "keywords.py", "keywords.pyi"],
        capture_output=True, text=True, cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]


def test_docstrings_give_the_c_name(generated: tuple[Result, ModuleType, Path]) -> None:
    _, module, _ = generated
    doc = inspect.getdoc(module.KEYWORDS_REC) or ""
    assert "    class__ (UINT):\n        C name: class.\n" in doc
    assert "    with_.finally_ (UINT):\n        C name: with.finally.\n" in doc
    assert "    print (UINT : 1):\n" in doc  # not renamed: no note
    assert "C name: Structure" in module.Structure_.__doc__
    assert "C name: lambda." in module.KEYWORDS_ENUM.__doc__
    assert "    class__ (UINT):\n        C name: class." in inspect.getdoc(module.import_)
    assert "C name: import" in module.import_.__doc__


def test_layout_json_keeps_c_names_and_matches_clang(
    generated: tuple[Result, ModuleType, Path],
) -> None:
    result, module, folder = generated
    ours = result.layout_json()["records"]
    names = Names(result.module)
    keys = {name: key for key, name in result.module.record_names().items()}
    problems = []
    for abi in ("x64", "x86"):
        theirs = clang_layout(folder / "keywords.h", abi=abi)
        assert set(theirs) == set(ours) and "Structure" in theirs
        for name, expected in theirs.items():
            if ours[name][abi] != expected:
                problems.append(f"{abi} {name}: ours {ours[name][abi]} != clang {expected}")
            if abi != HOST_ABI:
                continue
            cls = getattr(module, names.of(name))
            assert ctypes.sizeof(cls) == expected["size"], name
            for path, place in expected["fields"].items():
                want = place.get("offset", (place.get("bit_offset"), place.get("bit_size")))
                actual = module._place(cls, names.path(keys[name], path))
                if actual != want:
                    problems.append(f"ctypes {name}.{path}: {actual} != clang {want}")
    assert "class" in ours["KEYWORDS_REC"]["x64"]["fields"]
    assert not problems, "\n".join(problems)


def test_generated_module_binds_no_unreserved_name_of_its_own(
    generated: tuple[Result, ModuleType, Path],
) -> None:
    """What the module binds beyond the C declarations, and the builtins it reads, are
    reserved: a helper added to the templates cannot clash with a C name unnoticed."""
    result, module, _ = generated
    names = Names(result.module)
    from_c = {names.of(n) for n in _c_module_names(result)}
    for text in (result.text, result.stub):
        tree = ast.parse(text)
        bound = _bound_names(tree) - from_c
        assert bound <= reserved_names("module"), sorted(bound - reserved_names("module"))
        read = {
            n.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in dir(builtins)
        }
        assert read - from_c <= reserved_names("module"), sorted(read - reserved_names("module"))
    members = {
        names.member(key, f.name)
        for key, record in result.module.records.items()
        for f in record.fields or ()
        if f.name
    }
    for cls in vars(module).values():
        if isinstance(cls, type) and issubclass(cls, ctypes.Structure | ctypes.Union):
            made_up = {entry[0] for entry in getattr(cls, "_fields_", ())} - members
            assert all(MADE_UP.fullmatch(name) for name in made_up), made_up


def _c_module_names(result: Result) -> set[str]:
    module = result.module
    found = set(module.record_names().values()) | set(module.records) | set(module.typedefs)
    found |= {r.tag for r in module.records.values() if r.tag}
    found |= set(module.enum_names().values())
    found |= {m.name for e in module.enums.values() for m in e.members}
    found |= {c.name for c in module.constants} | {g.name for g in module.guids}
    return found | {f.name for f in module.functions}


def _bound_names(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Assign):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return found


@pytest.mark.parametrize("sdk", ["libdxg", "wine"])
def test_sdk_headers_keep_their_c_names(corpus: Path, sdk: str) -> None:
    result = build(Options(corpus / "headers" / sdk / "d3dkmthk.h", rules=()))
    names = Names(result.module)
    module = result.module
    renamed = {n: names.of(n) for n in _c_module_names(result) if names.of(n) != n}
    # Only the name lower.py makes up for an enum without tag or typedef.
    assert all(n.startswith("__anonymous_enum_") for n in renamed), renamed
    members = [(key, f.name) for key, r in module.records.items() for f in r.fields or () if f.name]
    assert len(members) > 400
    assert [m for m in members if names.member(*m) != m[1]] == []
    params = [[p.name for p in f.params if p.name] for f in module.functions]
    assert all(list(names.parameters(p)) == p for p in params)
