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
"""

from __future__ import annotations

import re
import string

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
