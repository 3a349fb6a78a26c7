"""calc.reports.render: CSV, Excel and HTML of a statement or any table, writing the numbers it is given and no others."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import pandas as pd
import pytest

from calc.reports import render, statement

M = pd.Timestamp
XLSX = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
EXCEL_EPOCH = M("1899-12-30")


def _cells(xlsx: bytes) -> dict[str, dict[tuple[int, int], object]]:
    """Every worksheet's cells: {sheet name: {(row, column) 0-based: number, text or None (blank)}}."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{XLSX['m']}}}t"))
            for si in ElementTree.fromstring(zf.read("xl/sharedStrings.xml")).findall("m:si", XLSX)
        ]
        names = [s.get("name") for s in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter(f"{{{XLSX['m']}}}sheet")]
        out = {}
        for i, name in enumerate(names, start=1):
            cells = {}
            for c in ElementTree.fromstring(zf.read(f"xl/worksheets/sheet{i}.xml")).iter(f"{{{XLSX['m']}}}c"):
                letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", c.get("r")).groups()
                col = 0
                for ch in letters:
                    col = col * 26 + ord(ch) - 64
                v = c.find("m:v", XLSX)
                value = None if v is None else strings[int(v.text)] if c.get("t") == "s" else float(v.text)
                cells[(int(digits) - 1, col - 1)] = value
            out[name] = cells
    return out


def _expected(value: object, kind: str) -> object:
    """What the workbook holds for ``value``: numbers as numbers, dates as Excel serials, yes/NO, text."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if kind == "dates":
        return (M(value) - EXCEL_EPOCH) / pd.Timedelta(days=1)
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def test_statement_csv_excel_html(june):
    names = {"P": "Portfolio P", "Q": "Portfolio Q"}
    sheets = statement.statement_sheets(june, names)
    csv = pd.read_csv(io.BytesIO(render.statement_csv(june, names)), dtype=str, keep_default_na=False)
    assert csv.iloc[-1]["Payable"] == "6750.84"
    assert csv.iloc[0]["Due date"] == "2020-07-15"

    xlsx = render.statement_excel(june, names)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        styles = zf.read("xl/styles.xml").decode()
        strings = zf.read("xl/sharedStrings.xml").decode()
    for name in sheets:
        assert f'name="{name}"' in workbook
    assert "&quot;$&quot;#,##0.00" in styles and "0.00%" in styles
    assert "Monthly Calculation, June 2020" in strings

    page = render.statement_html(june, names)
    assert page.startswith("<!DOCTYPE html>")
    assert "$6,750.84" in page and "Wednesday, 15 July 2020" in page
    embedded = render.statement_html(june, names, standalone=False)
    assert embedded.startswith("<style>") and "<body>" not in embedded


def test_workbook_holds_the_statement_sheets_and_nothing_else(june):
    names = {"P": "Portfolio P", "Q": "Portfolio Q"}
    sheets = statement.statement_sheets(june, names)
    cells = _cells(render.statement_excel(june, names))
    assert list(cells) == list(sheets)
    header_row = 3
    for name, frame in sheets.items():
        got = cells[name]
        assert [got[(header_row, j)] for j in range(frame.shape[1])] == list(frame.columns)
        below = {(r, c): v for (r, c), v in got.items() if r > header_row}
        expected = {}
        for j, col in enumerate(frame.columns):
            kind = render.column_kind(col, statement.SHEET_KINDS)
            for i, v in enumerate(frame[col].tolist()):
                expected[(header_row + 1 + i, j)] = _expected(v.item() if hasattr(v, "item") else v, kind)
        if frame.empty:
            expected = {(header_row + 1, 0): "(none this month)"}
        assert below.keys() == expected.keys(), name
        for key, want in expected.items():
            assert below[key] == (pytest.approx(want, abs=1e-9) if isinstance(want, float) else want), (name, key)


def test_any_table_renders_with_the_kinds_it_is_given():
    frame = pd.DataFrame({
        "Portfolio": ["P", "Total"],
        "Paid": [1234.5, -1234.5],
        "Held": [1.5, 1.5],
        "Part": [0.25, 1.0],
        "On": [M("2020-07-15"), pd.NaT],
        "Note": ["a & b", ""],
    })
    kinds = {"money": ["Paid"], "shares": ["Held"], "percent": ["Part"], "dates": ["On"]}
    assert [render.column_kind(c, kinds) for c in frame.columns] == ["text", "money", "shares", "percent", "dates", "text"]

    csv = render.table_csv(frame, kinds).decode()
    assert csv.splitlines() == ["Portfolio,Paid,Held,Part,On,Note", "P,1234.50,1.5,0.25,2020-07-15,a & b", "Total,-1234.50,1.5,1.0,,"]

    cells = _cells(render.workbook({"Fees": frame}, kinds, "Heading", "Below"))
    assert list(cells) == ["Fees"]
    assert cells["Fees"][(0, 0)] == "Heading: Fees" and cells["Fees"][(1, 0)] == "Below"
    assert cells["Fees"][(4, 1)] == 1234.5 and cells["Fees"][(5, 1)] == -1234.5
    assert cells["Fees"][(4, 4)] == (M("2020-07-15") - EXCEL_EPOCH).days

    page = render.html_table("Fees", frame, kinds)
    assert '<td class="n">$1,234.50</td>' in page and '<td class="n">($1,234.50)</td>' in page
    assert '<td class="n">1.500000</td>' in page and '<td class="n">25.00%</td>' in page
    assert "<td>2020-07-15</td>" in page and "<td>a &amp; b</td>" in page
    assert '<tr class="t">' in page  # the Total row
    assert render.html_table("None", frame.iloc[0:0], kinds, "Nothing.") == "<h2>None</h2><p><i>Nothing.</i></p>"


def test_printable_pages_are_paper_white_in_any_theme():
    """Dark text on a white page of its own: readable in the dashboard's dark theme too."""
    from calc.reports.render import STYLE, document_html

    assert "background: #fff" in STYLE and "color: #111" in STYLE
    page = document_html("Statement of Portions: FIN", "Months to June 2020.",
                         {"By month": pd.DataFrame({"Month": [pd.Timestamp("2020-06-30")], "Payable": [699.01]})},
                         {"money": ["Payable"], "dates": ["Month"]})
    assert "<h1>Statement of Portions: FIN</h1>" in page and "$699.01" in page and "2020-06-30" in page


# --- formulas in text (OWASP CSV injection) -------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_csv_quotes_text_a_spreadsheet_would_run_and_keeps_numbers():
    frame = pd.DataFrame({
        "=party": [*FORMULAS, "ADI", "-12.5", "–"],
        "amount": [-1.5, -2.0, 3.0, -4.25, 5.0, 6.0, -7.0, 8.0, 9.0],
        "shares": [-1.0] * 9,
    })
    text = render.table_csv(frame, {"money": ["amount"]}).decode()
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["'=party", "amount", "shares"]
    assert back["'=party"].tolist() == [f"'{v}" for v in FORMULAS] + ["ADI", "-12.5", "–"]
    assert back["amount"].tolist() == ["-1.50", "-2.00", "3.00", "-4.25", "5.00", "6.00", "-7.00", "8.00", "9.00"]
    assert back["shares"].tolist() == ["-1.0"] * 9  # numbers stay numbers, negative or not
    assert not any(line.startswith(("=", "+", "@")) for line in text.splitlines())


def test_formula_risk_is_text_only():
    assert all(render.formula_risk(v) for v in FORMULAS)
    assert not any(render.formula_risk(v) for v in [-1, -1.5, "-1", "+2.5e3", "ADI", "", None, "a=b"])
    assert render.formula_safe(-3) == -3 and render.formula_safe("=1") == "'=1"


def _quote_prefixed(xlsx: bytes) -> dict[str, set[tuple[int, int]]]:
    """Per sheet, the cells whose style has Excel's quote prefix (text that stays text when edited)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        styles = ElementTree.fromstring(zf.read("xl/styles.xml"))
        xfs = styles.find("m:cellXfs", XLSX).findall("m:xf", XLSX)
        prefixed = {i for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}
        names = [s.get("name") for s in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter(f"{{{XLSX['m']}}}sheet")]
        out = {}
        for i, name in enumerate(names, start=1):
            cells = set()
            for c in ElementTree.fromstring(zf.read(f"xl/worksheets/sheet{i}.xml")).iter(f"{{{XLSX['m']}}}c"):
                if int(c.get("s", 0)) in prefixed:
                    assert c.get("t") == "s" and c.find("m:f", XLSX) is None  # a shared string, never a formula
                    letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", c.get("r")).groups()
                    cells.add((int(digits) - 1, ord(letters) - 65))
            out[name] = cells
    return out


def test_excel_writes_formula_text_as_quoted_strings_and_numbers_as_numbers():
    frame = pd.DataFrame({"=party": [*FORMULAS, "ADI"], "amount": [-1.5, -2.0, 3.0, -4.25, 5.0, 6.0, -7.0]})
    xlsx = render.workbook({"Sheet": frame}, {"money": ["amount"]}, "=heading", "@sub")
    cells = _cells(xlsx)["Sheet"]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")  # no formula anywhere
    as_stored = [v.replace("\r", "_x000D_") for v in FORMULAS]  # OOXML's escape of a CR, which Excel reads back
    assert [cells[(4 + i, 0)] for i in range(len(FORMULAS))] == as_stored  # the text as typed
    assert [cells[(4 + i, 1)] for i in range(7)] == [-1.5, -2.0, 3.0, -4.25, 5.0, 6.0, -7.0]
    assert _quote_prefixed(xlsx)["Sheet"] == {(3, 0), *((4 + i, 0) for i in range(len(FORMULAS)))}
