"""The SDK update: ``diff`` between two headers or snapshots, ``show`` of one record,
``--sdk`` discovery, checked interface versions, ``check`` over every output, and
the provenance in the banner and the JSON files.

Layout numbers come from libclang (``clang_oracle``), never from the generator.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from clang_oracle import clang_layout

from generator.cli import main, sample_dir

ABIS = ("x64", "x86")

OLD_HEADER = """\
#define MAX_THINGS 4
typedef enum _MODE { MODE_A = 0, MODE_B = 1 } MODE;
typedef struct _REC {
    UINT hDevice;
    UINT Value;
    UINT Count;
} REC;
typedef struct _GONE { UINT X; } GONE;
typedef struct _RN { UINT hHwQueue; void* Y; } RN;
NTSTATUS APIENTRY D3DKMTThing(REC* pArgs);
"""
NEW_HEADER = """\
#define MAX_THINGS 8
typedef enum _MODE { MODE_A = 0, MODE_B = 2, MODE_C = 3 } MODE;
typedef struct _REC {
    UINT hDevice;
    ULONGLONG Value;
    UINT Count;
} REC;
typedef struct _RN { UINT hQueue; void* Y; } RN;
typedef struct _NEWREC { UINT Z; } NEWREC;
NTSTATUS APIENTRY D3DKMTThing(RN* pArgs);
"""


def _headers(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old" / "d3dkmthk.h", tmp_path / "new" / "d3dkmthk.h"
    for path, text in ((old, OLD_HEADER), (new, NEW_HEADER)):
        path.parent.mkdir()
        path.write_text(text)
    return old, new


def _diff_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    status = main(["diff", *args, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def _by_kind(report: dict) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for change in report["changes"]:
        kinds.setdefault(change["kind"], []).append(change)
    return kinds


def test_diff_names_the_retyped_member_with_offsets_and_sizes_per_abi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _headers(tmp_path)
    status, report = _diff_json(capsys, str(old), str(new))
    assert status == 1
    kinds = _by_kind(report)
    [value] = [c for c in kinds["member-changed"] if c["member"] == "Value"]
    assert value["name"] == "REC" and value["breaking"]
    assert (value["old"], value["new"]) == ("UINT", "ULONGLONG")
    assert value["old_loc"] == "d3dkmthk.h:5" and value["new_loc"] == "d3dkmthk.h:5"
    for abi in ABIS:
        before = clang_layout(old, abi=abi)["REC"]
        after = clang_layout(new, abi=abi)["REC"]
        for side, layout in (("old", before), ("new", after)):
            fields = layout["fields"]
            size = fields["Count"]["offset"] - fields["Value"]["offset"]  # Value runs up to Count
            assert value["abi"][abi][side] == {"offset": fields["Value"]["offset"], "size": size}
        [record] = [c for c in kinds["record-changed"] if c["name"] == "REC"]
        assert record["abi"][abi]["old"] == {"size": before["size"], "align": before["align"]}
        assert record["abi"][abi]["new"] == {"size": after["size"], "align": after["align"]}
    text_status = main(["diff", str(old), str(new)])
    text = capsys.readouterr().out
    assert text_status == 1
    assert re.search(r"REC\.Value: type UINT -> ULONGLONG; x64 offset \d+ size 4 -> ", text)


def test_diff_reports_every_kind_with_breaking_ones_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _headers(tmp_path)
    _, report = _diff_json(capsys, str(old), str(new))
    kinds = _by_kind(report)
    assert [c["name"] for c in kinds["record-removed"]] == ["GONE"]
    assert [c["name"] for c in kinds["record-added"]] == ["NEWREC"]
    [renamed] = kinds["member-renamed"]
    assert (renamed["name"], renamed["old"], renamed["new"]) == ("RN", "hHwQueue", "hQueue")
    assert [(c["member"], c["old"], c["new"]) for c in kinds["enum-value-changed"]] == [
        ("MODE_B", 1, 2)
    ]
    assert [c["member"] for c in kinds["enum-value-added"]] == ["MODE_C"]
    assert [(c["name"], c["old"], c["new"]) for c in kinds["constant-changed"]] == [
        ("MAX_THINGS", 4, 8)
    ]
    assert [c["name"] for c in kinds["function-changed"]] == ["D3DKMTThing"]
    flags = [c["breaking"] for c in report["changes"]]
    assert flags == sorted(flags, reverse=True), "breaking changes come first"
    assert not any(c["breaking"] for c in kinds["record-added"] + kinds["enum-value-added"])
    assert report["summary"]["breaking"] == sum(flags)
    for change in report["changes"]:
        assert {"kind", "name", "member", "breaking", "abi", "old_loc", "new_loc"} <= set(change)
    assert report["old"]["input"] == str(old) and report["new"]["tool"].startswith("d3dkmt")


def test_diff_of_a_header_with_itself_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _ = _headers(tmp_path)
    status, report = _diff_json(capsys, str(old), str(old))
    assert (status, report["changes"]) == (0, [])
    assert main(["diff", str(old), str(old)]) == 0
    assert "no ABI changes" in capsys.readouterr().out


def test_diff_from_a_layout_json_equals_the_diff_from_its_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _headers(tmp_path)
    snapshot = tmp_path / "old.json"
    args = ["--header", str(old), "--rules", "/dev/null", "--out", str(tmp_path / "o")]
    assert main(["generate", *args, "--layout-json", str(snapshot)]) == 0
    capsys.readouterr()
    _, from_header = _diff_json(capsys, str(old), str(new))
    status, from_json = _diff_json(capsys, str(snapshot), str(new))
    assert status == 1
    assert from_json["changes"] == from_header["changes"]
    assert from_json["changes"]
    assert _diff_json(capsys, str(old), str(snapshot))[1]["changes"] == []


def test_diff_markdown_has_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _headers(tmp_path)
    assert main(["diff", str(old), str(new), "--format", "markdown"]) == 1
    text = capsys.readouterr().out
    assert "### Breaking changes" in text and "| member-renamed |" in text
    assert text.index("### Breaking changes") < text.index("### Other changes")


def test_diff_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, _ = _headers(tmp_path)
    (tmp_path / "bad.json").write_text('{"records": 1')
    assert main(["diff", str(tmp_path / "bad.json"), str(old)]) == 2
    assert re.match(r"\S*bad\.json:1:\d+: error: ", capsys.readouterr().err)
    (tmp_path / "other.json").write_text('{"records": {}}')
    assert main(["diff", str(tmp_path / "other.json"), str(old)]) == 2
    assert "not an ABI snapshot" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "missing.h"), str(old)]) == 2


def test_a_damaged_snapshot_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Valid JSON of another shape (an ABI gone, a number for the members): the
    error names the damaged snapshot, whichever side it is on."""
    old, new = _headers(tmp_path)
    good = tmp_path / "good.json"
    assert main(["generate", "--header", str(old), "--out", str(tmp_path / "o"),
                 "--layout-json", str(good)]) == 0  # fmt: skip
    capsys.readouterr()
    data = json.loads(good.read_text())
    for record in data["records"].values():
        del record["x86"]
    (tmp_path / "no-x86.json").write_text(json.dumps(data))
    data = json.loads(good.read_text())
    for record in data["records"].values():
        record["members"] = 1
    (tmp_path / "number.json").write_text(json.dumps(data))
    for damaged in ("no-x86.json", "number.json"):
        for args in ([damaged, str(new)], [str(new), damaged], ["good.json", damaged]):
            paths = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
            assert main(["diff", *paths]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"{tmp_path / damaged}: error: damaged ABI snapshot: "), err
            assert "Traceback" not in err


def test_diff_between_interface_versions_matches_clang(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = corpus / "headers" / "libdxg" / "d3dkmthk.h"
    versions = ("WDDM2_7", "WDDM3_0")
    status, report = _diff_json(
        capsys, str(header), str(header),
        "--old-interface-version", versions[0], "--new-interface-version", versions[1],
    )  # fmt: skip
    assert status == 1
    kinds = _by_kind(report)
    changed = {c["name"]: c for c in kinds.get("record-changed", []) if c["abi"]}
    defines = [{"DXGKDDI_INTERFACE_VERSION": f"DXGKDDI_INTERFACE_VERSION_{v}"} for v in versions]
    for abi in ABIS:
        old = clang_layout(header, abi=abi, defines=defines[0])
        new = clang_layout(header, abi=abi, defines=defines[1])
        assert {c["name"] for c in kinds.get("record-removed", [])} == old.keys() - new.keys()
        assert {c["name"] for c in kinds.get("record-added", [])} == new.keys() - old.keys()
        grown = {n for n in old.keys() & new.keys() if old[n]["size"] != new[n]["size"]}
        reported = {n for n, c in changed.items() if c["abi"][abi]["old"]["size"]
                    != c["abi"][abi]["new"]["size"]}  # fmt: skip
        assert reported == grown
        for name in grown:
            assert changed[name]["breaking"]
            assert changed[name]["abi"][abi]["old"]["size"] == old[name]["size"]
            assert changed[name]["abi"][abi]["new"]["size"] == new[name]["size"]
    mode = changed["D3DKMDT_VIDPN_TARGET_MODE"]["abi"]["x64"]
    assert (mode["old"]["size"], mode["new"]["size"]) == (72, 80)
    assert report["old"]["interface_version"].startswith("DXGKDDI_INTERFACE_VERSION_WDDM2_7")


# -- show ---------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.findall(r"/\*(.*?)\*/", line)]


def test_show_marks_trailing_padding_per_abi(capsys: pytest.CaptureFixture[str]) -> None:
    header = sample_dir() / "d3dkmthk.h"
    assert main(["show", "D3DKMT_DESTROYALLOCATION"]) == 0
    text = capsys.readouterr().out
    x64, x86 = clang_layout(header, abi="x64"), clang_layout(header, abi="x86")
    record = x64["D3DKMT_DESTROYALLOCATION"]
    end = record["fields"]["AllocationCount"]["offset"] + 4
    assert (end, record["size"] - end) == (20, 4)
    [padding] = [line for line in text.splitlines() if "padding" in line]
    x64_cell, x86_cell = _cells(padding)[1:]
    assert x64_cell.split()[:2] == [str(end), str(record["size"] - end)]
    assert x86_cell == ""
    assert x86["D3DKMT_DESTROYALLOCATION"]["size"] == 16
    footer = [line for line in text.splitlines() if line.startswith("};")][0]
    assert _cells(footer) == [f"size {record['size']}, align 8", "size 16, align 4"]
    assert "d3dkmthk.h:" in text


def test_show_finds_an_interior_hole_by_tag_and_one_abi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = tmp_path / "gaps.h"
    header.write_text("typedef struct _HOLEY { UCHAR Small; UINT Big; UCHAR Flag : 3; } HOLEY;\n")
    assert main(["show", "_HOLEY", "--header", str(header), "--abi", "x86"]) == 0
    lines = capsys.readouterr().out.splitlines()
    fields = clang_layout(header, abi="x86")["HOLEY"]["fields"]
    hole_start, hole_size = 1, fields["Big"]["offset"] - 1
    [hole] = [i for i, line in enumerate(lines) if "bytes hole" in line]
    assert "Small" in lines[hole - 1] and "Big" in lines[hole + 1], "the hole is where it is"
    assert _cells(lines[hole])[1].split()[:2] == [str(hole_start), str(hole_size)]
    assert f"XXX {hole_size} bytes hole" in lines[hole]
    assert "XXX 5 bits unused" in "\n".join(lines)
    assert "bits 0-2" in [line for line in lines if "Flag" in line][0]


def test_show_unknown_name_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "D3DKMT_DESTROYALLOCATOIN"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("<command line>:1:1: error: no record named")
    assert "D3DKMT_DESTROYALLOCATION" in err


# -- --sdk ----------------------------------------------------------------------------


def _kit(tmp_path: Path) -> Path:
    """A folder laid out like an installed Windows Kit, holding our own sample header:
    an older version with it in km/, a newer one with it in shared/."""
    root = tmp_path / "Windows Kits" / "10"
    for version, folder in (("10.0.19041.0", "km"), ("10.0.26100.0", "shared")):
        target = root / "Include" / version / folder
        target.mkdir(parents=True)
        text = (sample_dir() / "d3dkmthk.h").read_text()
        (target / "d3dkmthk.h").write_text(f"// kit {version}\n{text}")
        (root / "Include" / version / "um").mkdir()
    return root


def test_sdk_picks_the_newest_version_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _kit(tmp_path)
    out = tmp_path / "out"
    assert main(["generate", "--sdk", str(root), "--out", str(out)]) == 0
    assert "10.0.26100.0" in capsys.readouterr().err
    banner = (out / "d3dkmthk.py").read_text().splitlines()[:12]
    assert "# SDK version: 10.0.26100.0" in banner
    assert main(["generate", "--sdk", str(root), "--sdk-version", "10.0.19041",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "# SDK version: 10.0.19041.0" in (out / "d3dkmthk.py").read_text()
    assert main(["generate", "--sdk", str(root), "--sdk-version", "9.9", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "10.0.19041.0, 10.0.26100.0" in err
    version_folder = root / "Include" / "10.0.19041.0"
    assert main(["show", "D3DKMT_DESTROYALLOCATION", "--sdk", str(version_folder)]) == 0


def test_diff_between_two_versions_of_a_kit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _kit(tmp_path)
    status, report = _diff_json(capsys, "--sdk", str(root), "10.0.19041.0", "10.0.26100.0")
    assert (status, report["changes"]) == (0, [])
    assert report["old"]["sdk_version"] == "10.0.19041.0"
    assert report["new"]["sdk_version"] == "10.0.26100.0"


# -- interface versions ------------------------------------------------------------------


def test_unknown_interface_version_lists_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    for option in (["--interface-version", "WDDM9_9"],
                   ["-D", "DXGKDDI_INTERFACE_VERSION=banana"]):  # fmt: skip
        assert main(["generate", *option, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("<command line>:1:1: error: ") and "WDDM2_0 (0x5023)" in err
        assert not out.exists()


def test_interface_version_option_equals_the_define(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    common = ["--out", str(tmp_path / "o")]
    assert main(["generate", *common, "--interface-version", "WIN8", "--layout-json", str(a)]) == 0
    define = "DXGKDDI_INTERFACE_VERSION=DXGKDDI_INTERFACE_VERSION_WIN8"
    assert main(["generate", *common, "-D", define, "--layout-json", str(b)]) == 0
    assert json.loads(a.read_text())["records"] == json.loads(b.read_text())["records"]
    capsys.readouterr()
    assert main(["generate", "--list-interface-versions"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^WIN8 +DXGKDDI_INTERFACE_VERSION_WIN8 +0x300E$", listing, re.M)
    assert "(in effect)" in listing


# -- check and provenance --------------------------------------------------------------


def test_check_covers_the_json_files_and_prints_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, layout, report = tmp_path / "out", tmp_path / "layout.json", tmp_path / "report.json"
    args = ["--out", str(out), "--layout-json", str(layout), "--report-json", str(report)]
    assert main(["generate", *args]) == 0
    assert main(["check", *args]) == 0
    data = bytearray(layout.read_bytes())
    data[data.index(b'"size": 24') + 9] = ord("5")  # one byte
    layout.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["check", *args]) == 1
    printed = capsys.readouterr().out
    assert '-   "size": 25,' in printed or '"size": 25' in printed
    assert printed.rstrip().endswith("out of date: run d3dkmt-codegen generate " + " ".join(args))
    report.write_text("{}\n" * 500)
    assert main(["check", *args]) == 1
    assert "more diff line(s) left out" in capsys.readouterr().out


def test_provenance_names_every_input_with_its_digest(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus / "headers" / "libdxg"
    header = tmp_path / "sdk" / "d3dkmthk.h"
    shutil.copytree(source, header.parent)
    out, layout = tmp_path / "out", tmp_path / "layout.json"
    rules = tmp_path / "my.toml"
    rules.write_text("")
    args = ["--header", str(header), "--rules", str(rules), "--out", str(out),
            "--layout-json", str(layout), "--interface-version", "WDDM2_7"]  # fmt: skip
    assert main(["generate", *args]) == 0
    banner = (out / "d3dkmthk.py").read_text().split('"""')[0]
    for name in ("d3dkmthk.h", "d3dkmdt.h", "d3dukmdt.h"):
        digest = hashlib.sha256((header.parent / name).read_bytes()).hexdigest()
        assert f"header {name} {digest}" in banner
    assert f"rules my.toml {hashlib.sha256(b'').hexdigest()}" in banner
    assert "WDDM2_7 (0xC004)" in banner
    assert str(tmp_path) not in banner
    provenance = json.loads(layout.read_text())["provenance"]
    assert provenance["interface_version"].startswith("DXGKDDI_INTERFACE_VERSION_WDDM2_7")
    assert {i["name"] for i in provenance["inputs"]} >= {"d3dkmthk.h", "d3dukmdt.h", "my.toml"}
    assert str(tmp_path) not in layout.read_text()


def test_a_repurposed_member_is_no_rename_and_errors_name_the_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.h", tmp_path / "new.h"
    old.write_text("typedef UINT HANDLE32;\ntypedef struct _R { HANDLE32 hShared; } R;\n")
    new.write_text("typedef UINT HANDLE32;\ntypedef struct _R { UINT Count; } R;\n")
    _, report = _diff_json(capsys, str(old), str(new))
    assert sorted(c["kind"] for c in report["changes"]) == ["member-added", "member-removed"]
    assert main(["diff", str(old), str(old), "--new-interface-version", "WDDM9_9"]) == 2
    assert "error: new side: --interface-version WDDM9_9" in capsys.readouterr().err


def test_without_header_or_sdk_the_installed_kit_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows the newest installed Kit is the default (here: one made to look so)."""
    import generator.cli as cli

    root = _kit(tmp_path)
    monkeypatch.setattr(cli, "installed_kit_root", lambda: root)
    out = tmp_path / "out"
    assert main(["generate", "--out", str(out)]) == 0
    assert "# SDK version: 10.0.26100.0" in (out / "d3dkmthk.py").read_text()
    monkeypatch.setattr(cli, "installed_kit_root", lambda: None)  # elsewhere: the sample
    assert main(["generate", "--out", str(out)]) == 0
    assert "SDK version" not in (out / "d3dkmthk.py").read_text()
