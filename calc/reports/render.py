"""Rendering: a statement, or any table, as CSV, an Excel workbook (xlsxwriter) or printable HTML.

Nothing here computes a number.  The frames come ready from the reports (a
statement's sheets from :func:`calc.reports.statement.statement_sheets`, with
their subtotal and total rows), and ``kinds`` says which columns are money,
shares, percents or dates (``{"money": [...], "shares": [...], "percent":
[...], "dates": [...]}``, e.g. :data:`calc.reports.statement.SHEET_KINDS`);
this module only writes them in fund-report formats: $1,234.56 with negatives
in parentheses, six-decimal shares, 71.34%, ISO dates.  A row is a total row
when its first cell is "Total" or its second "Subtotal".

Text comes from feeds (portfolio, party and account names), and a spreadsheet
runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return) as a formula.  Following OWASP's guidance on CSV injection, such a text
cell or header is written with a leading single quote in CSV
(:func:`formula_safe`); in Excel it is a string cell with the quote-prefix
style, so it shows as typed and stays text when edited.  Numbers stay numbers:
a negative amount is written as a number, and text that is only a number
(``-12.5``) cannot run and is left as it is.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calc.reports.statement import SHEET_KINDS, Statement, statement_sheets

Kinds = Mapping[str, Iterable[str]]
KINDS = ("money", "shares", "percent", "dates")
STATEMENT_HTML_SHEETS = ("Summary", "Payments", "By party", "Tie-out", "Exceptions")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet may run a cell that starts so (OWASP)
FORMULA_ESCAPE = "'"
CSV_LINE_END = "\r\n"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def formula_risk(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet could run as a formula (text that is only a number cannot)."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)


def formula_safe(value: object) -> object:
    """``value`` for a CSV cell: text that could run as a formula gets a leading single quote; the rest as it is."""
    return FORMULA_ESCAPE + value if formula_risk(value) else value  # type: ignore[operator]


def column_kind(column: str, kinds: Kinds) -> str:
    """The kind of ``column`` (money, shares, percent, dates), or text."""
    for kind in KINDS:
        if column in kinds.get(kind, ()):
            return kind
    return "text"


def _is_total_row(row: Sequence[object]) -> bool:
    return str(row[0]) == "Total" or (len(row) > 1 and str(row[1]) == "Subtotal")


def _missing(v: object) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _fmt_money(value: float) -> str:
    v = round(float(value), 2)
    text = f"${abs(v):,.2f}"
    return f"({text})" if v < 0 else text


def _scope(s: Statement) -> str:
    where = "all portfolios" if s.portfolio_ids is None else ", ".join(s.portfolio_ids)
    return where if s.party is None else f"{where}, {s.party}'s payments"


# --- CSV --------------------------------------------------------------------------------


def table_csv(frame: pd.DataFrame, kinds: Kinds) -> bytes:
    """``frame`` as CSV bytes: dates as YYYY-MM-DD, money with two decimals, text that a spreadsheet could
    run as a formula quoted (:func:`formula_safe`, headers too), the rest as it is."""
    sheet = frame.copy()
    for col in sheet.columns:
        kind = column_kind(col, kinds)
        if kind == "dates":
            sheet[col] = pd.to_datetime(sheet[col]).dt.strftime("%Y-%m-%d").fillna("")
        elif kind == "money":
            sheet[col] = sheet[col].map(lambda v: "" if pd.isna(v) else f"{round(float(v), 2) + 0.0:.2f}")
        elif not (pd.api.types.is_numeric_dtype(sheet[col]) or pd.api.types.is_datetime64_any_dtype(sheet[col])):
            sheet[col] = sheet[col].map(formula_safe)
    sheet.columns = [formula_safe(str(c)) for c in sheet.columns]
    # CRLF line ends (RFC 4180): the csv writer then quotes a text cell holding a lone CR, which would
    # otherwise end the row early in a spreadsheet.
    return sheet.to_csv(index=False, lineterminator=CSV_LINE_END).encode("utf-8")


def statement_csv(s: Statement, portfolio_names: dict[str, str] | None = None) -> bytes:
    """The statement's payments view (per portfolio and party, subtotals and total) as CSV bytes."""
    return table_csv(statement_sheets(s, portfolio_names)["Payments"], SHEET_KINDS)


# --- Excel ------------------------------------------------------------------------------


def workbook(sheets: Mapping[str, pd.DataFrame], kinds: Kinds, heading: str, subheading: str,
             empty_note: str = "(none)") -> bytes:
    """An Excel workbook (xlsxwriter): one formatted sheet per frame, titled ``heading: <sheet name>``."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    sub = wb.add_format({"italic": True, "font_color": "#595959"})
    head = wb.add_format({"bold": True, "bg_color": "#1f4e79", "font_color": "#ffffff", "border": 1, "text_wrap": True, "valign": "top"})
    fmts = {
        "money": wb.add_format({"num_format": '"$"#,##0.00;("$"#,##0.00)'}),
        "shares": wb.add_format({"num_format": "#,##0.000000"}),
        "percent": wb.add_format({"num_format": "0.00%"}),
        "dates": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "text": wb.add_format({}),
    }
    bold = {k: wb.add_format({"bold": True, "top": 1, **({"num_format": f.num_format} if f.num_format else {})})
            for k, f in fmts.items()}
    # Text that a spreadsheet could run as a formula: a string cell with the quote-prefix style.
    quoted = {False: wb.add_format({"quote_prefix": True}), True: wb.add_format({"bold": True, "top": 1, "quote_prefix": True})}
    head_quoted = wb.add_format({"bold": True, "bg_color": "#1f4e79", "font_color": "#ffffff", "border": 1,
                                 "text_wrap": True, "valign": "top", "quote_prefix": True})
    for name, frame in sheets.items():
        ws = wb.add_worksheet(name[:31])
        ws.write_string(0, 0, f"{heading}: {name}", title)
        ws.write_string(1, 0, subheading, sub)
        row0 = 3
        totals = [_is_total_row(row) for row in frame.itertuples(index=False)]
        for j, col in enumerate(frame.columns):
            ws.write_string(row0, j, str(col), head_quoted if formula_risk(str(col)) else head)
            kind = column_kind(col, kinds)
            width = max(len(str(col)), 12 if kind != "text" else min(60, max([len(str(v)) for v in frame[col]] + [8])))
            ws.set_column(j, j, width + 2)
            for i, v in enumerate(frame[col].tolist()):
                f = (bold if totals[i] else fmts)[kind]
                if _missing(v):
                    ws.write_blank(row0 + 1 + i, j, None, f)
                elif kind == "dates":
                    ws.write_datetime(row0 + 1 + i, j, pd.Timestamp(v).to_pydatetime(), f)
                elif isinstance(v, (bool, np.bool_)):
                    ws.write_string(row0 + 1 + i, j, "yes" if v else "NO", f)
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    ws.write_number(row0 + 1 + i, j, float(v), f)
                else:
                    text = str(v)
                    ws.write_string(row0 + 1 + i, j, text, quoted[totals[i]] if formula_risk(text) else f)
        ws.freeze_panes(row0 + 1, 0)
        if frame.empty:
            ws.write_string(row0 + 1, 0, empty_note, sub)
    wb.close()
    return buf.getvalue()


def statement_excel(s: Statement, portfolio_names: dict[str, str] | None = None) -> bytes:
    """The statement as an Excel workbook (xlsxwriter): one formatted sheet per view."""
    due = f"due {s.due_date:%Y-%m-%d}" if s.due_date is not None else "no due date"
    return workbook(statement_sheets(s, portfolio_names), SHEET_KINDS, f"Monthly Calculation, {s.month_end:%B %Y}",
                    f"Class B Shares, {_scope(s)}; {due}", empty_note="(none this month)")


# --- HTML -------------------------------------------------------------------------------

STYLE = """<style>
.stmt { font-family: "Source Sans Pro", Arial, sans-serif; font-size: 11px; color: #111; background: #fff;
        color-scheme: light; padding: 16px; border-radius: 4px; }
.stmt h1 { font-size: 18px; margin: 0 0 4px 0; } .stmt h2 { font-size: 14px; margin: 18px 0 6px 0; color: #1f4e79; }
.stmt table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
.stmt th { background: #1f4e79; color: #fff; text-align: left; padding: 3px 6px; }
.stmt td { border-bottom: 1px solid #ddd; padding: 2px 6px; }
.stmt td.n { text-align: right; font-variant-numeric: tabular-nums; }
.stmt tr.t td { font-weight: bold; border-top: 1px solid #333; }
.stmt .meta { color: #444; }
@media print { .stmt tr { page-break-inside: avoid; } }
</style>"""


def _html_cell(kind: str, v: object) -> str:
    if _missing(v):
        return "<td></td>"
    if kind == "money":
        return f'<td class="n">{html.escape(_fmt_money(float(v)))}</td>'
    if kind == "shares":
        return f'<td class="n">{float(v):,.6f}</td>'
    if kind == "percent":
        return f'<td class="n">{float(v) * 100:.2f}%</td>'
    if kind == "dates":
        return f"<td>{pd.Timestamp(v):%Y-%m-%d}</td>"
    if isinstance(v, (bool, np.bool_)):
        return f"<td>{'yes' if v else '<b>NO</b>'}</td>"
    return f"<td>{html.escape(str(v))}</td>"


def html_table(name: str, frame: pd.DataFrame, kinds: Kinds, empty_note: str = "None.") -> str:
    """``<h2>name</h2>`` and ``frame`` as an HTML table (total rows in bold), for a ``.stmt`` page."""
    if frame.empty:
        return f"<h2>{name}</h2><p><i>{empty_note}</i></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    col_kinds = [column_kind(c, kinds) for c in frame.columns]
    body = []
    for row in frame.itertuples(index=False):
        cls = ' class="t"' if _is_total_row(row) else ""
        body.append(f"<tr{cls}>" + "".join(_html_cell(k, v) for k, v in zip(col_kinds, row, strict=True)) + "</tr>")
    return f"<h2>{name}</h2><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def statement_html(s: Statement, portfolio_names: dict[str, str] | None = None, standalone: bool = True) -> str:
    """The statement as a printable HTML page (summary, payments, by party, tie-out, exceptions).

    ``standalone=False`` gives the styled ``<div class="stmt">`` alone, to embed in a page.
    """
    sheets = statement_sheets(s, portfolio_names)
    due = f"{s.due_date:%A, %d %B %Y}" if s.due_date is not None else "–"
    tie = "All totals tie out." if s.ties_out else "<b>Some totals do not tie out: see the tie-out table.</b>"
    parts = [html_table(n + (" (whole portfolios)" if n in s.whole else ""), sheets[n], SHEET_KINDS, "None this month.")
             for n in STATEMENT_HTML_SHEETS]
    content = (f'<div class="stmt"><h1>Monthly Calculation: {s.month_end:%B %Y}</h1>'
               f'<p class="meta">Master Distribution Agreement (Class B Shares), {html.escape(_scope(s))}. '
               f"Amounts payable on {due}. {tie}</p>{''.join(parts)}</div>")
    if not standalone:
        return STYLE + content
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Monthly Calculation {s.month_end:%Y-%m}</title>'
            f"{STYLE}</head><body>{content}</body></html>")


def document_html(title: str, subtitle: str, sheets: Mapping[str, pd.DataFrame], kinds: Kinds,
                  standalone: bool = True, empty_note: str = "None.") -> str:
    """Any report as a printable page: a heading, a line under it and one table per sheet.

    ``standalone=False`` gives the styled ``<div class="stmt">`` alone, to embed in a page.
    """
    parts = [html_table(html.escape(name), frame, kinds, empty_note) for name, frame in sheets.items()]
    content = (f'<div class="stmt"><h1>{html.escape(title)}</h1><p class="meta">{html.escape(subtitle)}</p>'
               f"{''.join(parts)}</div>")
    if not standalone:
        return STYLE + content
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"{STYLE}</head><body>{content}</body></html>")


__all__ = ["column_kind", "document_html", "formula_risk", "formula_safe", "html_table", "statement_csv", "statement_excel", "statement_html", "table_csv", "workbook"]
