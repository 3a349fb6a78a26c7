"""The filters that follow the user across pages and live in the URL.

Run, portfolio, month and party are sidebar widgets of the entry script: their
values stay in the session as the user moves between pages, and every rerun
writes them into the address bar (``st.query_params``), so a view is shared by
copying its link.  The run is always written (a link opened after another load
still opens the run it was copied from); other values are left out at their
default.  A link is read once, when the session starts (:func:`seed`).  Pages
read the values with :func:`current`; page-local choices (assignee, period,
account, the run compared with) use the same :func:`seed` / :func:`publish`
pair, and :func:`keep_page_choices` keeps them while the user is on another
page.

A value in a link that does not exist in the store (run 99, a month outside
the run, an unknown assignee, a reversed period) is never replaced silently:
:func:`link_problem` records a plain message, shown at the top of the page the
link opened (:func:`show_link_problems`) until the user moves to another page
or changes a filter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from calc.reports.common import portfolio_labels
from dashboard import data, theme
from dashboard.plain import plain

log = logging.getLogger("dashboard")

ALL = "all"
KEY_RUN, KEY_PORTFOLIO, KEY_MONTH, KEY_PARTY = "run", "portfolio", "month", "party"
# Page-local choices kept while the user visits other pages (Streamlit forgets a widget's value
# when a rerun does not draw it): the assignee on Collateral, the period on Revenue, the portfolio
# pick and account on Omnibus, the run compared with on Compare runs, the breakdown on Revenue, the
# section shown on Collateral, the view shown on Omnibus.
PAGE_KEYS = ("assignee", "period", "account", "compare_with", "revenue_view", "runoff_view", "section",
             "omnibus_view")
_PROBLEMS = "_link_problems"
_PAGE = "_page"
STORE_DOWN = "The calculation store could not be reached. The details are in the server log."


@dataclass(frozen=True)
class Filters:
    """The current global filters (None where no data is loaded)."""

    run_id: int | None
    meta: data.RunMeta | None
    portfolio: str | None  # None = the whole complex
    month: pd.Timestamp | None
    party: str | None  # None = every party

    @property
    def portfolio_ids(self) -> list[str] | None:
        return None if self.portfolio is None else [self.portfolio]

    @property
    def scope_label(self) -> str:
        if self.portfolio is None or self.meta is None:
            return "the whole complex"
        return portfolio_labels(self.meta.portfolios).get(self.portfolio, self.portfolio)

    @property
    def party_label(self) -> str:
        """``ADI`` or ``every party``."""
        return self.party or "every party"

    @property
    def is_assignee(self) -> bool:
        return bool(self.party and self.meta is not None and self.party in self.meta.assignees)


LINK_INT = re.compile(r"[0-9]{1,9}")  # a run id in a link: ASCII digits only ("¹" and "٣" pass str.isdigit)


def link_int(raw: str, allowed: Iterable[int]) -> int | None:
    """The run id a link's text names when it is one of ``allowed``; None for anything else (``¹``, ``-1``,
    ``1e3``, an empty or huge number), never an exception."""
    if not LINK_INT.fullmatch(raw):
        return None
    value = int(raw)
    return value if value in set(allowed) else None


def month_key(m: pd.Timestamp) -> str:
    """A month end as it stands in the URL: ``2020-06``."""
    return pd.Timestamp(m).strftime("%Y-%m")


def month_of(key: str | None) -> pd.Timestamp | None:
    """The month end of a ``YYYY-MM`` key."""
    if not key:
        return None
    return pd.Timestamp(f"{key}-01") + pd.offsets.MonthEnd(0)


# --- links: read once, problems reported -------------------------------------------------


def link_problem(message: str) -> None:
    """Record a plain message about a value of the link that could not be used (shown on this page).

    The message quotes the link and names feed values: it is drawn as plain text (:func:`plain.plain`)."""
    problems: list[tuple[str, str]] = st.session_state.setdefault(_PROBLEMS, [])
    page = st.session_state.get(_PAGE, "")
    if (page, message) not in problems:
        problems.append((page, message))
    box = st.session_state.get("_notice_box")
    if box is not None:
        box.warning(plain(message), icon=":material/link_off:")


def clear_link_problems() -> None:
    st.session_state[_PROBLEMS] = []


def show_link_problems(page: str, box: Any) -> None:
    """Draw the link's problems recorded on ``page`` into ``box``; forget those of other pages."""
    st.session_state[_PAGE] = page
    st.session_state["_notice_box"] = box
    problems = [p for p in st.session_state.get(_PROBLEMS, []) if p[0] == page]
    st.session_state[_PROBLEMS] = problems
    for _, message in problems:
        box.warning(plain(message), icon=":material/link_off:")  # it quotes the link: plain text


def seed(key: str, parse: Callable[[str], Any | None], problem: Callable[[str], str] | None = None) -> None:
    """Take ``key`` from the link once per session: ``parse`` turns the text into a valid value or None.

    A value that does not parse is reported (``problem(raw)`` says what is shown instead).
    """
    done: set[str] = st.session_state.setdefault("_seeded", set())
    if key in done:
        return
    done.add(key)
    raw = st.query_params.get(key)
    if raw is None:
        return
    value = parse(str(raw))
    if value is not None:
        st.session_state[key] = value
    elif not _sees_all():  # an assignee: the link's value is never echoed (it may name another party)
        link_problem(f"The link's {key} is not available to you: it was left out.")
    else:
        link_problem(problem(str(raw)) if problem else f"The link's {key} “{raw}” does not exist here: it was left out.")


def _sees_all() -> bool:
    from dashboard import auth

    principal = auth.current()
    return principal is not None and principal.sees_all


def publish(key: str, value: Any, default: Any, text: Callable[[Any], str] = str) -> None:
    """Write ``key`` into the address bar (removed when ``value`` is its default; ``default=None`` always writes)."""
    try:
        if value is None or (default is not None and value == default):
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != text(value):
            st.query_params[key] = text(value)
    except Exception:  # the address bar is a convenience: never break a page over it
        log.debug("could not publish %s", key, exc_info=True)


def keep_page_choices() -> None:
    """Keep the page-local choices of pages not drawn in this rerun (Streamlit would drop them)."""
    for key in PAGE_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def choice(key: str, options: list[Any], default: Any, what: str, *,
           parse: Callable[[str], Any | None] | None = None, show: Callable[[Any], str] = str,
           where: str = "in this calculation run") -> None:
    """Prepare the page-local selector ``key``: seeded from the link (problems reported), kept valid.

    ``what`` names the value in a message (``assignee``), ``show`` writes the value shown instead; a
    value no longer among ``options`` (another run, another portfolio) falls back to ``default``.
    """
    by_text = {str(o): o for o in options}
    seed(key, parse or by_text.get,
         lambda raw: f"The link's {what} “{raw}” is not {where}: showing {show(default)}.")
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def _run_label(listing: pd.DataFrame) -> tuple[dict[int, str], dict[int, str]]:
    """Each run's short label (``Run 2 · random-1095``, it fits the sidebar) and when it was loaded."""
    labels, loaded = {}, {}
    for r in listing.itertuples(index=False):
        labels[int(r.run_id)] = f"Run {int(r.run_id)} · {data.source_name(getattr(r, 'source', ''))}"
        when = getattr(r, "created_at", None)
        if when is not None and not pd.isna(when):
            loaded[int(r.run_id)] = f"{pd.Timestamp(when):%Y-%m-%d %H:%M}"
    return labels, loaded


def run_labels(listing: pd.DataFrame) -> dict[int, str]:
    return _run_label(listing)[0]


def _on_change() -> None:
    clear_link_problems()


def _month_range(months: list[str]) -> str:
    return f"{theme.fmt_month(month_of(months[-1]))} to {theme.fmt_month(month_of(months[0]))}" if months else "no months"


def render_sidebar() -> Filters:
    """Draw the global filters in the sidebar and return their values."""
    try:
        listing = data.runs()
    except data.StoreUnavailable:
        st.session_state["_store_problem"] = "unavailable"
        return Filters(None, None, None, None, None)
    except Exception:
        log.exception("the store could not be read")
        st.session_state["_store_problem"] = STORE_DOWN
        return Filters(None, None, None, None, None)
    st.session_state.pop("_store_problem", None)
    if listing.empty:
        return Filters(None, None, None, None, None)

    sb = st.sidebar
    sb.markdown("**Filters**")
    run_ids = [int(r) for r in listing["run_id"]]
    labels, loaded = _run_label(listing)
    pending = st.session_state.pop("_select_run", None)  # a run just loaded on the Data page
    if pending in run_ids:
        st.session_state[KEY_RUN] = pending
    seed(KEY_RUN, lambda raw: link_int(raw, run_ids),
         lambda raw: f"The link's calculation run “{raw}” is not in the store "
                     f"(runs {', '.join(map(str, sorted(run_ids)))}): showing run {run_ids[0]}, the newest. "
                     "Its month, portfolio and party were checked against that run.")
    if st.session_state.get(KEY_RUN) not in run_ids:
        st.session_state.pop(KEY_RUN, None)
    run_id = sb.selectbox(
        "Calculation run", run_ids, format_func=lambda r: labels.get(r, f"Run {r}"), key=KEY_RUN,
        help="The stored Monthly Calculation to show (newest first).", on_change=_on_change,
    )
    if run_id in loaded:
        sb.caption(f"Loaded {loaded[run_id]}")
    meta = data.run_meta(run_id)
    names = portfolio_labels(meta.portfolios)
    portfolio_options = [ALL, *meta.portfolio_ids]
    months = [month_key(m) for m in reversed(meta.months)]
    from dashboard import auth

    principal = auth.current()
    bound = principal.assignee if principal is not None and not principal.sees_all else None
    party_options = [bound] if bound else [ALL, *meta.parties]  # an assignee: its own party, fixed
    newest = theme.fmt_month(month_of(months[0])) if months else "–"
    problems = {
        KEY_PORTFOLIO: lambda raw: f"The link's portfolio “{raw}” is not in run {run_id}: showing all portfolios.",
        KEY_MONTH: lambda raw: (f"The link's month “{raw}” is not in run {run_id} ({_month_range(months)}): "
                                f"showing {newest}, its last month."),
        KEY_PARTY: lambda raw: f"The link's party “{raw}” is not in run {run_id}: showing every party.",
    }
    for key, options in ((KEY_PORTFOLIO, portfolio_options), (KEY_MONTH, months), (KEY_PARTY, party_options)):
        by_text = {str(o): o for o in options}
        seed(key, by_text.get, problems[key])
        if key in st.session_state and st.session_state[key] not in options:
            del st.session_state[key]  # another run: a value it does not have falls back to the default
    portfolio = sb.selectbox(
        "Portfolio", portfolio_options,
        format_func=lambda p: "All portfolios (the complex)" if p == ALL else names.get(p, p), key=KEY_PORTFOLIO,
        on_change=_on_change,
    )
    month = sb.selectbox(
        "Month", months, format_func=lambda k: theme.fmt_month(month_of(k)), key=KEY_MONTH,
        disabled=not months, help="The month of the statement, the figure cards and the drill-downs; "
        "Collateral shows everything as of this month.", on_change=_on_change,
    )
    party = sb.selectbox(
        "Party", party_options, format_func=lambda p: "All parties" if p == ALL else p, key=KEY_PARTY,
        disabled=bool(bound),
        help="One rights holder, distributor or assignee: every page's figures, tables and downloads "
        "follow it (or say that they are of the whole complex).", on_change=_on_change,
    )
    publish(KEY_RUN, run_id, None)
    publish(KEY_PORTFOLIO, portfolio, ALL)
    publish(KEY_MONTH, month, months[0] if months else None)
    publish(KEY_PARTY, party, bound or ALL)
    return Filters(
        run_id=int(run_id),
        meta=meta,
        portfolio=None if portfolio in (None, ALL) else str(portfolio),
        month=month_of(month),
        party=None if party in (None, ALL) else str(party),
    )


def current() -> Filters:
    """The filters drawn by the entry script in this rerun."""
    return st.session_state.get("_filters") or Filters(None, None, None, None, None)
