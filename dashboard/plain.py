"""Feed values shown as plain text: the one helper every page uses before a value meets Markdown.

Streamlit writes captions, headers, alerts, metric and expander labels, tabs
and ``st.table`` cells as GitHub-flavoured Markdown.  A portfolio name, account
id, party or assignee name comes from a feed, so a value such as
``![x](http://host/x.png)`` would make the reader's browser fetch an image, and
``[link](http://evil)`` would draw a link.  :func:`plain` writes a value so that
Markdown shows it character for character:

- every ASCII punctuation character is backslash-escaped (CommonMark lets any
  of them be escaped): no emphasis, link, image, HTML tag, heading, list,
  table cell, math (``$``) or Streamlit directive (``:red[...]``) can start;
- Markdown would still turn a bare ``http://...``, ``www.x`` or ``a@b.c`` into a
  link after the escapes are read (GitHub's "autolink literal" runs on the text),
  and ``:name:`` into an emoji or icon: a WORD JOINER (U+2060, invisible) after
  every ``:`` and ``@`` and between ``www`` and its dot breaks those patterns;
- line breaks and other control characters become spaces (a value never opens
  a new block).

Values in ``st.dataframe`` cells, selectbox options and ``st.text`` / ``st.code``
are already plain text and are passed as they are.

Charts are the other door: plotly draws ``<b>``, ``<i>``, ``<br>`` and
``<a href=...>`` in trace names, hover text, tick labels and titles.
:func:`chart_safe` escapes ``&``, ``<`` and ``>`` in the text of whatever a chart
builder is given (frames, their column names, strings), so a name is drawn as it
is written; :func:`dashboard.ui.plot` and :func:`dashboard.ui.chart` apply it to
every chart.
"""

from __future__ import annotations

import html
import re
import string

import pandas as pd

WORD_JOINER = "\u2060"
_ESCAPED = frozenset(string.punctuation)  # the ASCII punctuation CommonMark lets a backslash escape
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)


def plain(value: object) -> str:
    """``value`` as Markdown source that renders as exactly its text, with no link, image or formatting."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    text = _WWW.sub(r"\1" + WORD_JOINER, text)
    out = []
    for ch in text:
        if ch in _ESCAPED:
            out.append("\\" + ch)
            if ch in ":@":
                out.append(WORD_JOINER)
        else:
            out.append(ch)
    return "".join(out)


def plain_list(values: object, sep: str = ", ") -> str:
    """Several feed values joined by ``sep``, each as :func:`plain` text."""
    return sep.join(plain(v) for v in values)  # type: ignore[union-attr]


def unescape(markdown: str) -> str:
    """The text :func:`plain` wrote (its escapes and word joiners removed): for tests and logs."""
    return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", markdown).replace(WORD_JOINER, "")


def chart_text(value: str) -> str:
    """``value`` for plotly's text (names, hover, ticks, titles): its markup characters as entities."""
    return html.escape(value, quote=False)


def _chart_cell(value: object) -> object:
    return chart_text(value) if isinstance(value, str) else value


def chart_safe(value: object) -> object:
    """What a chart builder is given, with every piece of text as :func:`chart_text`: a frame's text
    cells, column names and index, a series, a string; anything else (numbers, dates, flags) as it is."""
    if isinstance(value, str):
        return chart_text(value)
    if isinstance(value, pd.DataFrame):
        out = value.rename(columns=_chart_cell)
        for col in out.columns:
            if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col])):
                out[col] = out[col].map(_chart_cell)
        if not pd.api.types.is_numeric_dtype(out.index) and not isinstance(out.index, pd.DatetimeIndex):
            out.index = out.index.map(_chart_cell)
        return out
    if isinstance(value, pd.Series):
        out = value.map(_chart_cell) if not pd.api.types.is_numeric_dtype(value) else value.copy()
        out.name = _chart_cell(value.name)
        return out
    return value
