"""Golden tests: the generated sample module and its D3DKMT_DESTROYALLOCATION class."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import GOLDEN, assert_golden, load_module

from generator.cli import sample_dir
from generator.pipeline import Options, build


@pytest.fixture(scope="module")
def sample_result():  # noqa: ANN201
    options = Options(sample_dir() / "d3dkmthk.h", docs=(sample_dir() / "docs",))
    return build(options)


@pytest.fixture(scope="module")
def sample_text(sample_result) -> str:  # noqa: ANN001
    return sample_result.text


def record_text(module_text: str, name: str) -> str:
    """The builder of ``name`` (its class statement) and the ``_fields`` table after it."""
    builder = re.search(
        rf'^@_lazy\("{name}"[,)].*?^def _make\(\):\n.*?(?=^\S)', module_text, flags=re.M | re.S
    )
    table = re.search(
        rf'^_fields\("{name}", """\n.*?^"""[^\n]*\)\n', module_text, flags=re.M | re.S
    )
    assert builder and table, f"{name} not found"
    return builder.group(0) + table.group(0)


def test_destroyallocation_class_matches_golden(sample_text: str) -> None:
    assert_golden(
        record_text(sample_text, "D3DKMT_DESTROYALLOCATION"),
        GOLDEN / "destroyallocation" / "D3DKMT_DESTROYALLOCATION.py",
    )


def test_sample_module_matches_golden(sample_text: str) -> None:
    assert_golden(sample_text, GOLDEN / "sample" / "d3dkmthk.py")


def test_sample_stub_matches_golden(sample_result) -> None:  # noqa: ANN001
    assert_golden(sample_result.stub, GOLDEN / "sample" / "d3dkmthk.pyi")


def test_committed_generated_files_are_current(sample_result) -> None:  # noqa: ANN001
    generated = Path(__file__).resolve().parent.parent / "generated"
    for name, text in (("d3dkmthk.py", sample_result.text), ("d3dkmthk.pyi", sample_result.stub)):
        assert (generated / name).read_text(
            encoding="utf-8"
        ) == text, f"generated/{name} is out of date: run `d3dkmt-codegen generate`"


@pytest.fixture(scope="module")
def golden_module():  # noqa: ANN201
    return load_module(GOLDEN / "sample" / "d3dkmthk.py", "golden_sample_d3dkmthk")


def test_golden_module_layout_matches_msvc_table(golden_module) -> None:  # noqa: ANN001
    assert golden_module.check_layout() == []


def test_destroyallocation_layout(golden_module) -> None:  # noqa: ANN001
    import ctypes

    cls = golden_module.D3DKMT_DESTROYALLOCATION
    assert ctypes.sizeof(cls) == 24
    offsets = [getattr(cls, f).offset for f in ("hDevice", "hResource", "phAllocationList",
                                                "AllocationCount")]  # fmt: skip
    assert offsets == [0, 4, 8, 16]


def test_destroyallocation_docstring(golden_module) -> None:  # noqa: ANN001
    doc = " ".join(golden_module.D3DKMT_DESTROYALLOCATION.__doc__.split())
    assert "describes parameters for releasing allocations" in doc
    for member in ("hDevice", "hResource", "phAllocationList", "AllocationCount"):
        assert re.search(rf"{member} \([^)]*\): \[in\] \w", doc), member
    assert "automatically released" in doc
    assert "is ignored by the OpenGL runtime" in doc
    assert "https://learn.microsoft.com/" in doc
    assert "<b>" not in doc


def _valid(module):  # noqa: ANN001, ANN202
    import ctypes

    handles = (ctypes.c_uint32 * 2)(7, 8)
    value = module.D3DKMT_DESTROYALLOCATION(
        hDevice=1, hResource=0, phAllocationList=handles, AllocationCount=2
    )
    return value


def test_validate_accepts_valid_instance(golden_module) -> None:  # noqa: ANN001
    assert _valid(golden_module).validate() is None
    resource_only = golden_module.D3DKMT_DESTROYALLOCATION(hDevice=1, hResource=5)
    assert resource_only.validate() is None


@pytest.mark.parametrize(
    ("change", "member"),
    [
        ({"hDevice": 0}, "hDevice"),
        ({"hResource": 9}, "phAllocationList"),  # a list given with a resource
        ({"phAllocationList": None}, "phAllocationList"),  # count without a list
    ],
)
def test_validate_rejects_each_broken_rule(golden_module, change, member) -> None:  # noqa: ANN001
    import ctypes

    value = _valid(golden_module)
    for name, new in change.items():
        setattr(value, name, new if new is not None else ctypes.POINTER(ctypes.c_uint32)())
    with pytest.raises(golden_module.ValidationError) as raised:
        value.validate()
    assert isinstance(raised.value, ValueError)
    assert [error[1] for error in raised.value.errors] == [member]
    assert member in str(raised.value)


def test_validate_lists_every_broken_rule(golden_module) -> None:  # noqa: ANN001
    value = _valid(golden_module)
    value.hDevice = 0
    value.hResource = 3
    with pytest.raises(golden_module.ValidationError) as raised:
        value.validate()
    assert [error[1] for error in raised.value.errors] == ["hDevice", "phAllocationList"]
