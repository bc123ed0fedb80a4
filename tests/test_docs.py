"""Tests for generator/docs.py: unit tests on inline pages, then the whole corpus.

The corpus tests read ``$D3DKMT_CORPUS`` (the shared ``corpus`` folder, with
``docs/d3dkmthk`` and ``docs/d3dukmdt``; the 2018 seed page is in ``../seeds``).
"""

from __future__ import annotations

import os
import random
import re
import textwrap
import time
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

import generator.docs as docs
from generator.docs import (
    DocIndex,
    DocPage,
    load_docs,
    read_page,
    read_page_text,
    sal_direction,
    wrap_text,
)
from generator.errors import Diagnostics, GeneratorError

FILE = "ns-d3dkmthk-_d3dkmt_x.md"
DDI = "https://learn.microsoft.com/windows-hardware/drivers/ddi"
TAG = re.compile(r"<[a-zA-Z/]")

FRONT = """\
---
UID: NS:d3dkmthk._D3DKMT_X
title: _D3DKMT_X (d3dkmthk.h)
description: From the front matter.
ms.date: 05/10/2018
api_name:
 - _D3DKMT_X
 - D3DKMT_X
---

# _D3DKMT_X structure

"""


def page(body: str, file: str = FILE) -> DocPage:
    return read_page_text(FRONT + dedent(body), file)


def fields(*blocks: str) -> DocPage:
    """A structure page whose -struct-fields holds ``blocks`` (heading + text each)."""
    body = "## -description\n\nX.\n\n## -struct-fields\n\n" + "\n\n".join(blocks)
    return page(body)


def only_text(html_or_markdown: str) -> str:
    return fields(f"### -field A\n\n{dedent(html_or_markdown)}").members[0].text


# -- page structure ---------------------------------------------------------------


def test_page_fields_from_front_matter_and_file_name() -> None:
    p = fields("### -field hDevice [in]\n\nThe device.")
    assert p.file == FILE and p.kind == "ns" and p.uid == "NS:d3dkmthk._D3DKMT_X"
    assert p.api_names == ("_D3DKMT_X", "D3DKMT_X")
    assert p.title == "_D3DKMT_X (d3dkmthk.h)"
    assert p.url == f"{DDI}/d3dkmthk/ns-d3dkmthk-_d3dkmt_x"
    assert p.description == "X."
    assert p.returns == "" and p.remarks == ""
    assert p.loc.file == FILE and p.loc.line == 0
    (m,) = p.members
    assert (m.name, m.direction, m.text) == ("hDevice", "in", "The device.")
    # 9 lines of front matter, 3 of title, 4 of description, then "## -struct-fields", "".
    assert m.loc.file == FILE and m.loc.line == 19


def test_empty_description_falls_back_to_front_matter() -> None:
    p = page("## -description\n\n## -remarks\n\nSee <b>this</b>.\n\n## -returns\n\nNothing.\n")
    assert p.description == "From the front matter."
    assert p.remarks == "See this." and p.returns == "Nothing."


def test_parameters_enum_fields_and_h2_param_headings() -> None:
    p = read_page_text(
        FRONT.replace("NS:", "NF:")
        + "## -parameters\n\n## -param unnamedParam1 [in]\n\nA handle.\n\n"
        + "### -param unnamedParam2 [out]\n\nA pointer.\n\n## -returns\n\nOK.\n",
        "nf-d3dkmthk-d3dkmtx.md",
    )
    assert p.kind == "nf"
    assert [(m.name, m.direction, m.text) for m in p.members] == [
        ("unnamedParam1", "in", "A handle."),
        ("unnamedParam2", "out", "A pointer."),
    ]
    assert p.returns == "OK."
    e = read_page_text(
        FRONT + "## -enum-fields\n\n### -field D3DKMT_X_CDD:2\n\nThe CDD.\n",
        "ne-d3dkmthk-_d3dkmt_x.md",
    )
    assert [(m.name, m.text) for m in e.members] == [("D3DKMT_X_CDD", "The CDD.")]


def test_headings_outside_member_sections_and_subheadings() -> None:
    p = page(
        """\
        ## -struct-fields

        ### -field A

        First.

        #### Sub

        Nested text.

        ### -field B

        ## -see-also

        ### -field NotAMember
        """
    )
    assert [(m.name, m.text) for m in p.members] == [
        ("A", "First.\n\nSub\n\nNested text."),
        ("B", ""),
    ]


@pytest.mark.parametrize(
    ("tag", "direction"),
    [
        ("[in]", "in"),
        ("[out]", "out"),
        ("[IN]", "in"),
        ("[in/out]", "in, out"),
        ("[in, out]", "in, out"),
        ("[in,out]", "in, out"),
        ("[in, opt]", "in, opt"),
        ("[in,opt]", "in, opt"),
        ("[in, optional]", "in, opt"),
        ("[in/optional]", "in, opt"),
        ("[out, optional]", "out, opt"),
        ("[out/optional]", "out, opt"),
        ("[in/out,opt]", "in, out, opt"),
        ("[opt, out, in]", "in, out, opt"),
        ("", None),
    ],
)
def test_direction_in_heading_or_text(tag: str, direction: str | None) -> None:
    in_heading = fields(f"### -field hDevice {tag}\n\nA handle.").members[0]
    in_text = fields(f"### -field hDevice\n\n{tag} A handle.").members[0]
    assert in_heading.direction == in_text.direction == direction
    assert in_heading.text == in_text.text == "A handle."
    assert in_heading.name == in_text.name == "hDevice"


def test_bracket_that_is_not_a_direction_stays_in_text() -> None:
    m = fields("### -field A\n\n[Reserved] Do not use.").members[0]
    assert (m.direction, m.text) == (None, "[Reserved] Do not use.")


@pytest.mark.parametrize(
    ("heading", "name", "direction"),
    [
        ("Reserved[5]", "Reserved", None),
        ("ValueName[MAX_PATH] [in]", "ValueName", "in"),
        ("Reserved.[8]", "Reserved", None),
        ("Flags.Primary", "Flags.Primary", None),
        ("DUMMYUNIONNAME.Flags.Value [out]", "DUMMYUNIONNAME.Flags.Value", "out"),
        ("Reserved\\_1", "Reserved_1", None),
        ("`hDevice`", "hDevice", None),
        ("cObjects:", "cObjects", None),
        ("D3DKMT_PM_FLIPMANAGER :", "D3DKMT_PM_FLIPMANAGER", None),
    ],
)
def test_member_names(heading: str, name: str, direction: str | None) -> None:
    m = fields(f"### -field {heading}\n\nText.").members[0]
    assert (m.name, m.direction) == (name, direction)


def params(*blocks: str) -> DocPage:
    """A callback page whose -parameters holds ``blocks``."""
    body = "## -description\n\nX.\n\n## -parameters\n\n" + "\n\n".join(blocks)
    return page(body, "nc-d3dkmthk-pfnd3dkmt_x.md")


@pytest.mark.parametrize(
    ("heading", "declaration", "direction"),
    [
        ("-param unnamedParam1", "*pData* [in, out]", "in, out"),
        ("-param unnamedParam1", "*pData*", None),
        ("-param unnamedParam1", "*\\_Inout\\_* *pData*", "in, out"),
        ("-param Arg1", "*\\_In\\_* *[D3DKMT_X](ns-d3dkmthk-_d3dkmt_x.md)* * *Arg1*", "in"),
        ("-param unnamedParam1", "<i>pData</i> [in]", "in"),
        ("-field hAdapter", "*\\_In\\_* *D3DKMT\\_HANDLE* *hAdapter*", "in"),
        ("-field hAdapter", "*D3DKMT\\_HANDLE* *hAdapter*", None),
        ("-field p", "*\\_Inout\\_bytecount\\_(Size)* *void * p*", "in, out"),
        ("-field Size", "*UINT Size*", None),
        ("-field Type", "*[KMTQUERYADAPTERINFOTYPE](ne-d3dkmthk-_k.md) Type*", None),
        ("-field hAdapter", "D3DKMT_HANDLE hAdapter", None),  # plain: ends in the name
        ("-param unnamedParam1", "_\\_In_\\_ _pData_", "in"),  # half emphasized, with SAL
        ("-field hAdapter [out]", "*\\_In\\_* *hAdapter*", "out"),  # the heading wins
    ],
)
def test_declaration_line_gives_only_its_direction(
    heading: str, declaration: str, direction: str | None
) -> None:
    # Pages that open a member with its C declaration: the text must not repeat
    # it ("[in, out] pData [in, out] A pointer"), nor keep SAL or C.
    m = params(f"### {heading}\n\n{declaration}\n\nA pointer.").members[0]
    assert (m.direction, m.text) == (direction, "A pointer.")


@pytest.mark.parametrize(
    "first",
    [
        "*Supported in Windows 7 and later*",  # emphasized English
        "Reserved",  # the member's own name as text
        "UINT OtherName",  # plain C that names something else
        "*pData* is a pointer.",  # a sentence that starts emphasized
        "**pData**",  # bold is not how pages write a declaration
    ],
)
def test_prose_shaped_like_a_declaration_stays(first: str) -> None:
    m = fields(f"### -field Reserved\n\n{first}\n\nMore.").members[0]
    assert m.text.startswith(first.replace("*", "")) and m.text.endswith("More.")


def test_declaration_only_first_and_only_a_paragraph() -> None:
    m = params("### -param A\n\nText.\n\n*pResults*\n\nMore.").members[0]
    assert m.text == "Text.\n\npResults\n\nMore."
    m = params("### -param A\n\n- *pData*\n\nMore.").members[0]
    assert m.text.startswith("- pData")


@pytest.mark.parametrize(
    ("sal", "direction"),
    [
        ("_In_", "in"),
        ("_In_opt_", "in, opt"),
        ("_Out_writes_(n)", "out"),
        ("_Outptr_", "out"),
        ("_Inout_bytecount_(Size)", "in, out"),
        ("__in", "in"),
        ("__out_ecount(n)", "out"),
        ("__inout", "in, out"),
        ("_Field_size_(n)", None),
        ("", None),
    ],
)
def test_sal_direction(sal: str, direction: str | None) -> None:
    assert sal_direction(sal) == direction


# -- text -----------------------------------------------------------------------


def test_inline_html_and_markdown_lose_their_markup() -> None:
    text = only_text("The <b>hDevice</b> and <i>pData</i> of <code>X</code>, **bold** and `code`.")
    assert text == "The hDevice and pData of X, bold and code."


def test_links_become_text_and_absolute_url() -> None:
    text = only_text(
        '<a href="/windows-hardware/drivers/ddi/d3dkmthk/nf-d3dkmthk-d3dkmtlock">D3DKMTLock</a>, '
        "[Lock2](nf-d3dkmthk-d3dkmtlock2.md), [Unlock](./nf-d3dkmthk-d3dkmtunlock.md), "
        "[Cb](../d3dkmddi/nc-d3dkmddi-dxgkcb_x.md#remarks), "
        '<a href="..\\d3dkmdt\\ns-d3dkmdt-_d3dkmdt_y.md">Y</a>, '
        "[Win32](/windows/win32/api/z), [Site](https://example.com/a.md), "
        "<https://example.com/b>, [None]()."
    )
    assert text == (
        f"D3DKMTLock ({DDI}/d3dkmthk/nf-d3dkmthk-d3dkmtlock), "
        f"Lock2 ({DDI}/d3dkmthk/nf-d3dkmthk-d3dkmtlock2), "
        f"Unlock ({DDI}/d3dkmthk/nf-d3dkmthk-d3dkmtunlock), "
        f"Cb ({DDI}/d3dkmddi/nc-d3dkmddi-dxgkcb_x#remarks), "
        f"Y ({DDI}/d3dkmdt/ns-d3dkmdt-_d3dkmdt_y), "
        "Win32 (https://learn.microsoft.com/windows/win32/api/z), "
        "Site (https://example.com/a.md), https://example.com/b, None."
    )


def test_page_relative_links_use_this_pages_header() -> None:
    p = read_page_text(
        FRONT + "## -description\n\nSee [F](nf-d3dukmdt-makefourcc.md).\n",
        "ns-d3dukmdt-_d3dddi_x.md",
    )
    assert p.description == f"See F ({DDI}/d3dukmdt/nf-d3dukmdt-makefourcc)."


def test_html_list_alert_and_breaks() -> None:
    text = only_text(
        """\
        Conditions:

        <ul>
        <li>
        First <b>one</b>

        </li>
        <li>Second
        <ul><li>nested</li></ul>
        </li>
        </ul>
        <div class="alert"><b>Note</b>  Be  careful.</div>
        <div> </div>
        One<br/>Two"""
    )
    assert text == (
        "Conditions:\n\n- First one\n- Second\n  - nested\n\nNote: Be careful.\n\nOne\n\nTwo"
    )


def test_markdown_list_table_and_note() -> None:
    text = only_text(
        """\
        Values:

        * one
        * two

        | Return code | Description |
        |--|--|
        | STATUS_SUCCESS | It <b>worked</b>. |

        > [!NOTE]
        > Mind the gap.

        > [NOTE!]
        >
        > Spelled wrong."""
    )
    assert text == (
        "Values:\n\n- one\n- two\n\n"
        "| Return code | Description |\n| STATUS_SUCCESS | It worked. |\n\n"
        "Note: Mind the gap.\n\nNote: Spelled wrong."
    )


def test_html_table() -> None:
    text = only_text(
        "<table>\n<tr><th>Value</th><th>Meaning</th></tr>\n"
        "<tr><td><b>A</b></td><td>First<br/>line</td></tr>\n</table>"
    )
    assert text == "| Value | Meaning |\n| A | First line |"


def test_spaces_entities_and_python_specials() -> None:
    text = only_text(
        'Say\u00a0&nbsp;"""quoted"""\r\nand C:\\\\path &amp; &lt;= x &AllocInfo;\r\n\r\n\r\nNext.'
    )
    assert text == 'Say """quoted""" and C:\\path & <= x &AllocInfo;\n\nNext.'


def test_code_block_is_kept_as_indented_lines() -> None:
    text = only_text("Example:\n\n```cpp\nif (a < b) {\n    x = &y;\n}\n```\n")
    assert text == "Example:\n\n    if (a < b) {\n        x = &y;\n    }"


def test_2018_and_2024_forms_read_the_same() -> None:
    new = fields("### -field hDevice [in]\n\nA <b>handle</b>.")
    old = fields("### -field hDevice\n\n[in] A <b>handle</b>.")
    assert [(m.name, m.direction, m.text) for m in new.members] == [
        (m.name, m.direction, m.text) for m in old.members
    ]


# -- errors and loading ---------------------------------------------------------


def test_bad_front_matter_is_an_error_with_a_line() -> None:
    with pytest.raises(GeneratorError) as err:
        read_page_text("---\nUID: NS:x.Y\napi_name: [unclosed\n---\n\n# Y\n", FILE)
    assert err.value.loc is not None and err.value.loc.file == FILE
    assert err.value.loc.line >= 3
    with pytest.raises(GeneratorError, match="front matter"):
        read_page_text("# no front matter\n", FILE)
    with pytest.raises(GeneratorError, match="mapping"):
        read_page_text("---\n- a list\n---\n", FILE)
    with pytest.raises(GeneratorError, match="reference page name"):
        read_page_text(FRONT, "index.md")


def test_empty_front_matter_ends_at_its_own_closing_line() -> None:
    """An empty front matter is no metadata, and a '---' rule further down is
    the body's: the page keeps it, its title and the text around it."""
    p = read_page_text(
        "---\n---\n\n# _D3DKMT_X structure\n\n## -description\n\nBefore the rule.\n\n"
        "---\n\napi_name: after the rule.\n",
        FILE,
    )
    assert p.api_names == ()
    assert "Before the rule." in p.description and "after the rule." in p.description
    # A front matter with none of the keys read is a mapping all the same.
    assert read_page_text("---\nms.topic: reference\n---\n\n# Y\n", FILE).uid == ""


def test_load_docs_skips_other_files_and_warns_on_bad_pages(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# index\n")
    (tmp_path / "notes-x.md").write_text("# notes\n")
    (tmp_path / "ni-d3dkmthk-ioctl_x.md").write_text("---\nUID: NI:x\n---\n")
    (tmp_path / "ns-d3dkmthk-_d3dkmt_bad.md").write_text("---\nUID: [\n---\n")
    (tmp_path / FILE).write_text(FRONT + "## -description\n\nX.\n")
    diagnostics = Diagnostics()
    index = load_docs([tmp_path], diagnostics)
    assert [p.file for p in index.pages] == ["ni-d3dkmthk-ioctl_x.md", FILE]
    (warning,) = diagnostics.warnings
    assert warning.loc is not None and warning.loc.file == "ns-d3dkmthk-_d3dkmt_bad.md"
    with pytest.raises(GeneratorError):
        load_docs([tmp_path / "missing"], diagnostics)


def test_read_page_from_file(tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes((FRONT + "## -description\n\nX.\n").replace("\n", "\r\n").encode())
    assert read_page(path).description == "X."


def test_find_by_typedef_tag_and_case() -> None:
    x = page("## -description\n\nX.\n")
    f = read_page_text(
        FRONT.replace("NS:d3dkmthk._D3DKMT_X", "NF:d3dkmthk.D3DKMTLock").replace(
            " - _D3DKMT_X\n - D3DKMT_X", " - D3DKMTLock"
        ),
        "nf-d3dkmthk-d3dkmtlock.md",
    )
    index = DocIndex.from_pages([x, f])
    assert index.find("D3DKMT_X") is x and index.find("_D3DKMT_X") is x
    assert index.find("D3DKMTLock") is f and index.find("_D3DKMTLock") is f
    assert index.find("d3dkmtlock") is f and index.find("_d3dkmt_x") is x
    assert index.find("D3DKMT_Y") is None
    assert set(index.by_name) == {"_D3DKMT_X", "D3DKMT_X", "D3DKMTLock"}


# -- wrap_text --------------------------------------------------------------------


def test_wrap_text_paragraphs_lists_tables_and_code() -> None:
    text = (
        "one two three four five six\n\n"
        "- alpha beta gamma delta\n  - nested item words here\n"
        "| a | b c d e f g h i j k l |\n\n"
        "    code line that is long and stays"
    )
    assert wrap_text(text, width=16, indent="# ") == (
        "# one two three\n# four five six\n\n"
        "# - alpha beta\n#   gamma delta\n#   - nested\n#     item words\n#     here\n"
        "# | a | b c d e f g h i j k l |\n\n"
        "#     code line that is long and stays"
    )


def test_wrap_text_keeps_urls_and_names_whole() -> None:
    url = f"{DDI}/d3dkmthk/nf-d3dkmthk-d3dkmtcreateallocation"
    assert wrap_text(f"See D3DKMT_CREATEALLOCATION ({url}).", width=20) == (
        f"See\nD3DKMT_CREATEALLOCATION\n({url})."
    )
    assert wrap_text("") == ""


def test_wrap_text_wraps_one_paragraph_as_textwrap_does() -> None:
    """Words and single spaces skip textwrap: random prose must come out as textwrap
    gives it (unicode spaces and control characters included, which it strips or
    keeps; words longer than a line; lines of many words)."""
    rng = random.Random(7)
    pieces = ["a", "bb", "word", "x" * 18, " ", " ", "  ", "\xa0", "\x1c", "\x0b", "\t", "é",
              "(url)", "\u3000", "\xad"]  # fmt: skip
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))).strip(" ")
        width, indent = rng.randint(1, 40), rng.choice(["", "  ", "# ", " " * 8])
        if not text or text.startswith(("-", "|")):
            continue  # a list item or a table row: not one paragraph of prose
        expected = textwrap.wrap(
            text, width=width, initial_indent=indent, subsequent_indent=indent,
            break_long_words=False, break_on_hyphens=False,
        ) or [indent.rstrip()]  # fmt: skip
        assert wrap_text(text, width, indent) == "\n".join(expected).strip("\n"), (text, width)


# -- the corpus -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> Path:
    root = os.environ.get("D3DKMT_CORPUS")
    if not root:
        pytest.skip(
            "set D3DKMT_CORPUS to a folder with docs/d3dkmthk and docs/d3dukmdt (see README)"
        )
    return Path(root)


@pytest.fixture(scope="module")
def corpus_index(corpus: Path) -> tuple[DocIndex, Diagnostics, float]:
    diagnostics = Diagnostics()
    start = time.perf_counter()
    index = load_docs([corpus / "docs/d3dkmthk", corpus / "docs/d3dukmdt"], diagnostics)
    return index, diagnostics, time.perf_counter() - start


def all_texts(index: DocIndex) -> list[tuple[str, str]]:
    return [
        (f"{page.file} {where}", text)
        for page in index.pages
        for where, text in [
            ("description", page.description),
            ("returns", page.returns),
            ("remarks", page.remarks),
            *((m.name, m.text) for m in page.members),
        ]
    ]


def test_corpus_every_page_read(
    corpus: Path, corpus_index: tuple[DocIndex, Diagnostics, float]
) -> None:
    index, diagnostics, seconds = corpus_index
    files = [
        path
        for folder in ("d3dkmthk", "d3dukmdt")
        for path in (corpus / "docs" / folder).glob("*.md")
        if re.match(r"n[sefci]-", path.name)
    ]
    # README: 364+65 ns, 55+25 ne, 179+2 nf, 183 nc; and 2 ni (IOCTL) pages.
    # The corpus's other two files are the folders' index.md, not reference pages.
    assert len(files) == 875
    assert len(index.pages) == len(files)
    assert diagnostics.warnings == []
    assert seconds < 10, f"loading the corpus took {seconds:.2f} s"
    members = [m for page in index.pages for m in page.members]
    # README: 2263+679 "### -field" headings; parameters come on top.
    assert sum(page.kind in ("ns", "ne") for page in index.pages) == 509
    assert (
        len([m for page in index.pages if page.kind in ("ns", "ne") for m in page.members]) == 2942
    )
    assert all(m.name and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", m.name) for m in members)
    assert all(page.description for page in index.pages)


def test_corpus_2018_seed_reads_like_2024_page(corpus: Path) -> None:
    name = "ns-d3dkmthk-_d3dkmt_destroyallocation"
    new = read_page(corpus / "docs/d3dkmthk" / f"{name}.md")
    old = read_page(corpus.parent / "seeds" / f"{name}.2018.md")
    assert [(m.name, m.direction, m.text) for m in new.members] == [
        (m.name, m.direction, m.text) for m in old.members
    ]
    assert new.description == old.description
    assert [(m.name, m.direction) for m in new.members] == [
        ("hDevice", "in"),
        ("hResource", "in"),
        ("phAllocationList", "in"),
        ("AllocationCount", "in"),
    ]
    assert new.members[2].text.endswith("the ICD must set phAllocationList to NULL.")


def test_space_before_punctuation_goes() -> None:
    assert only_text("The color-key value . A <b>Flags</b> , then more ...") == (
        "The color-key value. A Flags, then more ..."
    )


def test_corpus_no_markup_left(corpus_index: tuple[DocIndex, Diagnostics, float]) -> None:
    index = corpus_index[0]
    tagged = [where for where, text in all_texts(index) if TAG.search(text)]
    assert tagged == []
    for where, text in all_texts(index):
        assert "\r" not in text and "\u00a0" not in text, where
        assert text == text.strip("\n"), where
        assert "&nbsp;" not in text and "&amp;" not in text, where
        assert not re.search(r"\s[.,;](?:\s|$)", text), where


def test_corpus_no_declaration_line_left(
    corpus_index: tuple[DocIndex, Diagnostics, float],
) -> None:
    index = corpus_index[0]
    members = [(p, m) for p in index.pages for m in p.members]

    # Member texts that still open with a declaration line: a SAL token, a
    # declarator and its direction alone ("pData [in, out]"), or a type and the
    # member's own name. ("pData: A pointer" names the parameter in a sentence.)
    def declared(name: str, text: str) -> bool:
        first = text.split("\n\n", 1)[0]
        return bool(
            re.match(r"_In_|_Out_|_Inout_|\w+ ?\[[a-z, /]+\]$", first)
            or re.fullmatch(rf"[A-Z_]+[ *]+{re.escape(name)}", first)
        )

    left = [f"{p.file}: {m.name}" for p, m in members if declared(m.name, m.text)]
    assert left == []
    unnamed = [m for _, m in members if m.name == "unnamedParam1"]
    # 101 of the 350 give their direction in a heading or a leading [in]; 77 more
    # only in their declaration line (*pData* [in, out], *\\_In\\_* *pPresent*)
    # or after the name they give it (**pData** [in/out] is a pointer).
    assert len(unnamed) == 350
    assert sum(m.direction is not None for m in unnamed) == 178


def test_corpus_links_are_absolute(corpus_index: tuple[DocIndex, Diagnostics, float]) -> None:
    index = corpus_index[0]
    linked = 0
    for where, text in all_texts(index):
        # A link prints as "text (URL)"; anything in such brackets that looks like a
        # path must be a full URL.
        for target in re.findall(r" \(([^()\s]*[/\\][^()\s]*|[^()\s]+\.md(?:#\S*)?)\)", text):
            assert re.match(r"https?://", target), f"{where}: {target}"
            linked += 1
        assert not re.search(r"https://learn\.microsoft\.com/\S*\.md\b", text), where
    assert linked > 1000
    doorbell = index.find("D3DKMTConnectDoorbell")
    assert doorbell is not None
    assert f"({DDI}/d3dkmthk/ns-d3dkmthk-d3dkmt_connect_doorbell)" in doorbell.members[0].text


# -- text from tokens, as from the rendered HTML ------------------------------------

# Each is read twice: from markdown-it's tokens, and (the oracle) from markdown-it's
# HTML parsed by html.parser, as before. Several are shapes the corpus never has.
_SHAPES = [
    "One  \nTwo\\\nThree\nFour",  # hard breaks and a soft one
    "A\n\n---\n\nB\n\n- x\n\n  ***\n- y",  # rules, one inside a list item
    'Before ![alt *text* `c`](x.png "T") after [![logo](a.png)](b.md).',
    "- a\n  > quoted\n- c\n-\n- d",  # tight list: hidden paragraphs
    "- a\n\n- b\n\n  more\n\n  1. x\n  2. y",
    "Code:\n\n    int x;\n    y < z && w;\n\nafter",
    "```c\nint a = &b; // <ok>\n```\n\n```\n```\n\n`a<b>` and ``x ` y``",
    '<b>bold</b> and *em* <a href="x.md">link *em*</a> <i>it</i>_x_',
    '<div class="alert">\n\n**Note** text with [a link](https://e.com "t").\n\n</div>',
    '&copy; &#35; &amp;amp; AT&T &lt;b&gt; &bogus; "q" &amp',
    "| a | b |\n|:-|-:|\n| 1 <br> 2 | *x* |\n| | |",
    "#### Example\n\ntext <https://x.y/z> and <mail@x.y>",
    '[x](..\\d3dkmthk\\ns-a.md "T") [y](#frag) [](nothing.md)',
    "> [!NOTE]\n> a\n>\n> - b\n\n<pre>\nraw &lt;pre&gt;\n</pre>",
    "<ul>\n<li>html item with *md*</li>\n\n- md item\n</ul>",
]
# Raw HTML that the parser must read together with what follows it.
_NEEDS_HTML = [
    '<div>\n<a href="x"\n\ntitle> after',  # a tag that a blank line cuts
    "<div><script>\n\n*not markdown* </script> tail",  # script text runs on
    "<div>\n<!-- a comment\n\nthat goes on --> then",
]


def _read_both(markdown: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, bool]:
    """(text from tokens, text from HTML, whether the token walk gave up)."""
    walk = docs._send_tokens
    gave_up = []

    def watched(*args: Any) -> None:
        try:
            walk(*args)
        except docs._NeedsHtml:
            gave_up.append(True)
            raise

    with monkeypatch.context() as patch:
        patch.setattr(docs, "_send_tokens", watched)
        from_tokens = only_text(markdown)
    with monkeypatch.context() as patch:
        patch.setattr(docs, "_send_tokens", _html_only)
        from_html = only_text(markdown)
    return from_tokens, from_html, bool(gave_up)


def _html_only(*args: Any) -> None:
    raise docs._NeedsHtml


@pytest.mark.parametrize("markdown", _SHAPES)
def test_text_from_tokens_is_the_text_from_html(
    markdown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_tokens, from_html, gave_up = _read_both(markdown, monkeypatch)
    assert not gave_up
    assert from_tokens == from_html
    assert from_tokens


@pytest.mark.parametrize("markdown", _NEEDS_HTML)
def test_raw_html_cut_by_markdown_is_read_from_html(
    markdown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_tokens, from_html, gave_up = _read_both(markdown, monkeypatch)
    assert gave_up
    assert from_tokens == from_html


def test_corpus_text_from_tokens_is_the_text_from_html(
    corpus: Path,
    corpus_index: tuple[DocIndex, Diagnostics, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docs, "_send_tokens", _html_only)
    from_html = load_docs([corpus / "docs/d3dkmthk", corpus / "docs/d3dukmdt"], Diagnostics())
    assert corpus_index[0] == from_html
    assert corpus_index[0].pages == from_html.pages
