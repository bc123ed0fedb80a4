"""The command line: exit codes, error format, atomic output, check mode."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from generator.cli import main, sample_dir


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd
    )


def test_syntax_error_reports_location_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "broken.py"
    previous.write_text("# previous output\n")
    header = tmp_path / "broken.h"
    header.write_text("typedef struct _X\n{\n    UINT a;\n    UINT b c;\n} X;\n")
    done = run("generate", "--header", str(header), "--out", str(out), "--rules", "/dev/null")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.match(r"^broken\.h:4:\d+: error: ", lines[0]), lines[0]
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["broken.py"]
    assert previous.read_text() == "# previous output\n"


def test_bit_field_too_wide_is_an_input_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    header = tmp_path / "wide.h"
    header.write_text("typedef struct _W { UINT Reserved : 33; } W;\n")
    status = main(["generate", "--header", str(header), "--out", str(tmp_path / "o"),
                   "--rules", "/dev/null"])  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert re.match(r"wide\.h:1:\d+: error: bit-field 'Reserved' is 33 bits wide", err), err
    assert not (tmp_path / "o").exists()


def test_generate_writes_module_and_check_agrees(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert run("generate", "--out", str(out)).returncode == 0
    assert (out / "d3dkmthk.py").is_file()
    assert run("check", "--out", str(out)).returncode == 0
    (out / "d3dkmthk.py").write_text("changed\n")
    checked = run("check", "--out", str(out))
    assert checked.returncode == 1
    assert "+++" in checked.stdout


def test_output_is_byte_identical_between_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--out", str(first)]) == 0
    assert main(["generate", "--out", str(second)]) == 0
    assert (first / "d3dkmthk.py").read_bytes() == (second / "d3dkmthk.py").read_bytes()
    text = (first / "d3dkmthk.py").read_text()
    assert str(tmp_path) not in text and str(sample_dir()) not in text


def test_layout_json_has_both_abis(tmp_path: Path) -> None:
    import json

    target = tmp_path / "layout.json"
    assert main(["generate", "--out", str(tmp_path), "--layout-json", str(target)]) == 0
    records = json.loads(target.read_text())["records"]
    entry = records["D3DKMT_DESTROYALLOCATION"]
    assert entry["x64"]["size"] == 24 and entry["x86"]["size"] == 16
    assert entry["x86"]["fields"]["AllocationCount"] == {"offset": 12}
    bits = records["D3DKMT_DESTROYALLOCATIONFLAGS"]["x64"]["fields"]["SystemUseOnly"]
    assert bits == {"bit_offset": 31, "bit_size": 1}


def test_missing_include_is_an_error_with_location(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    header = tmp_path / "inc.h"
    header.write_text('#include "nowhere.h"\ntypedef UINT X;\n')
    assert main(["generate", "--header", str(header), "--out", str(tmp_path / "o"),
                 "--rules", "/dev/null"]) == 2  # fmt: skip
    assert re.match(r"inc\.h:1:1: error: cannot find include file 'nowhere.h'",
                    capsys.readouterr().err)  # fmt: skip


def test_missing_docs_folder_is_an_input_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    status = main(["generate", "--out", str(tmp_path), "--docs", str(tmp_path / "nowhere")])
    assert status == 2
    assert re.fullmatch(
        r"<command line>:1:1: error: --docs \S*nowhere: not a folder of reference pages\n",
        capsys.readouterr().err,
    )
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_cannot_be_written_leaves_everything_as_it_was(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    out = tmp_path / "out"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n")
    status = main(["generate", "--out", str(out), "--layout-json", str(blocker / "layout.json")])
    assert status == 2
    assert re.fullmatch(
        r"<command line>:1:1: error: --layout-json \S*layout\.json: cannot write: .*\n",
        capsys.readouterr().err,
    )
    assert not out.exists() or list(out.iterdir()) == []
