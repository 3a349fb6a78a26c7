"""The filters that follow the user across pages and live in the URL.

Run, portfolio, month and party are sidebar widgets of the entry script: their
values stay in the session as the user moves between pages, and every rerun
writes them into the address bar (``st.query_params``; a value at its default
is left out), so a view is shared by copying its link.  A link is read once,
when the session starts (:func:`seed`).  Pages read the values with
:func:`current`; page-local choices (assignee, account, period) use the same
:func:`seed` / :func:`publish` pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from calc.reports.common import portfolio_labels
from dashboard import data, theme

ALL = "all"
KEY_RUN, KEY_PORTFOLIO, KEY_MONTH, KEY_PARTY = "run", "portfolio", "month", "party"


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


def month_key(m: pd.Timestamp) -> str:
    """A month end as it stands in the URL: ``2020-06``."""
    return pd.Timestamp(m).strftime("%Y-%m")


def month_of(key: str | None) -> pd.Timestamp | None:
    """The month end of a ``YYYY-MM`` key."""
    if not key:
        return None
    return pd.Timestamp(f"{key}-01") + pd.offsets.MonthEnd(0)


def seed(key: str, parse: Callable[[str], Any | None]) -> None:
    """Take ``key`` from the link once per session: ``parse`` turns the text into a valid value or None."""
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


def publish(key: str, value: Any, default: Any, text: Callable[[Any], str] = str) -> None:
    """Write ``key`` into the address bar (removed when ``value`` is its default)."""
    try:
        if value is None or value == default:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != text(value):
            st.query_params[key] = text(value)
    except Exception:
        pass


def _valid(options: list[Any]) -> Callable[[str], Any | None]:
    by_text = {str(o): o for o in options}
    return lambda raw: by_text.get(raw)


def _run_label(listing: pd.DataFrame) -> tuple[dict[int, str], dict[int, str]]:
    """Each run's short label (``Run 2 · random-1095``, it fits the sidebar) and when it was loaded."""
    labels, loaded = {}, {}
    for r in listing.itertuples(index=False):
        parts = [p for p in str(getattr(r, "source", "") or "").replace("\\", "/").split("/") if p]
        if len(parts) > 1 and parts[-1] in ("feed", "expected"):
            parts = parts[:-1]
        src = parts[-1] if parts else "feed"
        labels[int(r.run_id)] = f"Run {int(r.run_id)} · {src}"
        when = getattr(r, "created_at", None)
        if when is not None and not pd.isna(when):
            loaded[int(r.run_id)] = f"{pd.Timestamp(when):%Y-%m-%d %H:%M}"
    return labels, loaded


def render_sidebar() -> Filters:
    """Draw the global filters in the sidebar and return their values."""
    try:
        listing = data.runs()
    except data.StoreUnavailable:
        st.session_state["_store_problem"] = "unavailable"
        return Filters(None, None, None, None, None)
    except Exception as err:
        st.session_state["_store_problem"] = str(err)
        return Filters(None, None, None, None, None)
    st.session_state.pop("_store_problem", None)
    if listing.empty:
        return Filters(None, None, None, None, None)

    sb = st.sidebar
    sb.markdown("**Filters**")
    run_ids = [int(r) for r in listing["run_id"]]
    labels, loaded = _run_label(listing)
    seed(KEY_RUN, lambda raw: int(raw) if raw.isdigit() and int(raw) in run_ids else None)
    if st.session_state.get(KEY_RUN) not in run_ids:
        st.session_state.pop(KEY_RUN, None)
    run_id = sb.selectbox(
        "Calculation run", run_ids, format_func=lambda r: labels.get(r, f"Run {r}"), key=KEY_RUN,
        help="The stored Monthly Calculation to show (newest first).",
    )
    if run_id in loaded:
        sb.caption(f"Loaded {loaded[run_id]}")
    meta = data.run_meta(run_id)
    names = portfolio_labels(meta.portfolios)
    portfolio_options = [ALL, *meta.portfolio_ids]
    months = [month_key(m) for m in reversed(meta.months)]
    party_options = [ALL, *meta.parties]
    for key, options in ((KEY_PORTFOLIO, portfolio_options), (KEY_MONTH, months), (KEY_PARTY, party_options)):
        seed(key, _valid(options))
        if key in st.session_state and st.session_state[key] not in options:
            del st.session_state[key]  # another run: a value it does not have falls back to the default
    portfolio = sb.selectbox(
        "Portfolio", portfolio_options,
        format_func=lambda p: "All portfolios (the complex)" if p == ALL else names.get(p, p), key=KEY_PORTFOLIO,
    )
    month = sb.selectbox(
        "Month", months, format_func=lambda k: theme.fmt_month(month_of(k)), key=KEY_MONTH,
        disabled=not months, help="The month of the statement, the KPIs and the drill-downs.",
    )
    party = sb.selectbox(
        "Party", party_options, format_func=lambda p: "All parties" if p == ALL else p, key=KEY_PARTY,
        help="Show one rights holder or assignee only (Revenue by party, Shares over time).",
    )
    publish(KEY_RUN, run_id, run_ids[0])
    publish(KEY_PORTFOLIO, portfolio, ALL)
    publish(KEY_MONTH, month, months[0] if months else None)
    publish(KEY_PARTY, party, ALL)
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
