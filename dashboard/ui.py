"""Small display helpers shared by the pages: friendly empty states and formatted tables."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from calc.reports.common import change
from calc.reports.shares import termination_date
from dashboard import filters as flt
from dashboard import theme

log = logging.getLogger("dashboard")

NO_DATA = (
    "No Monthly Calculation is loaded yet. Run `make run` to load the sample complex, "
    "or upload a feed on the **Data** page."
)


def require_data() -> flt.Filters:
    """The current filters; stops the page with a clear message when nothing is loaded."""
    f = flt.current()
    problem = st.session_state.get("_store_problem")
    if f.run_id is None:
        if problem == "unavailable":
            st.info("The calculation store is not available on this installation yet. " + NO_DATA)
        elif problem:
            st.error(f"The database could not be read: {problem}")
            st.info(NO_DATA)
        else:
            st.info(NO_DATA)
        st.stop()
    if f.month is None:
        st.info("This calculation run has no months. " + NO_DATA)
        st.stop()
    return f


def guarded(render: Callable[[], None]) -> None:
    """Run a page body; an unexpected error becomes a short message, never a traceback."""
    try:
        render()
    except ScriptControlException:  # st.stop, st.rerun, page switches: not errors
        raise
    except Exception as err:
        log.error("page failed: %s", traceback.format_exc())
        st.error(f"This view could not be drawn ({type(err).__name__}: {err}). The other pages still work; "
                 "the details are in the server log.")


def termination_notice(f: flt.Filters) -> None:
    """A clear note when the chosen portfolio's Plan has ended (Complete Termination) by the chosen month."""
    if f.portfolio is None or f.meta is None or f.month is None:
        return
    ended = termination_date(f.meta.plan_events, f.portfolio)
    if ended is None or ended > f.month:
        return
    last_day = ended - pd.Timedelta(days=1)
    when = (f"in {theme.fmt_month(f.month)} fees accrued to {theme.fmt_date(last_day)} only"
            if ended + pd.offsets.MonthEnd(0) == f.month else f"no Distribution Fee or service fee accrues in {theme.fmt_month(f.month)}")
    st.warning(f"{f.portfolio}: Complete Termination of the Plan on {theme.fmt_date(ended)}. From that day on neither the "
               f"Distribution Fee nor the service fee accrues to anyone: {when}. CDSCs go on, and so does the attribution "
               "of the shares.", icon=":material/block:")


def column_config(
    money: Iterable[str] = (),
    percent: Iterable[str] = (),
    shares: Iterable[str] = (),
    dates: Iterable[str] = (),
    months: Iterable[str] = (),
    labels: dict[str, str] | None = None,
    wide: Iterable[str] = (),
    pinned: Iterable[str] = (),
) -> dict[str, object]:
    """``st.dataframe`` column_config: $1,234.56, 71.34%, six-decimal shares, ISO dates.

    ``pinned`` columns stay in view while a wide table scrolls sideways.
    """
    labels = labels or {}
    cfg: dict[str, object] = {}
    for c in money:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.MONEY_FORMAT)
    for c in percent:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.PERCENT_FORMAT)
    for c in shares:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.SHARES_FORMAT)
    for c in dates:
        cfg[c] = st.column_config.DateColumn(labels.get(c, c), format="YYYY-MM-DD")
    for c in months:
        cfg[c] = st.column_config.DateColumn(labels.get(c, c), format="MMM YYYY")
    for c in wide:
        cfg[c] = st.column_config.TextColumn(labels.get(c, c), width="large")
    for c, label in labels.items():
        cfg.setdefault(c, st.column_config.Column(label))
    for c in pinned:
        cfg.setdefault(c, st.column_config.Column(labels.get(c, c)))
        cfg[c] = {**cfg[c], "pinned": True}  # type: ignore[dict-item]
    return cfg


def table(frame: pd.DataFrame, *, key: str | None = None, height: int | str = "auto", **kinds: Iterable[str]) -> None:
    """A read-only table with fund-report formats (see :func:`column_config`)."""
    labels = kinds.pop("labels", None)  # type: ignore[arg-type]
    st.dataframe(
        frame, hide_index=True, width="stretch", height=height, key=key,
        column_config=column_config(labels=labels, **kinds),  # type: ignore[arg-type]
    )


def money_metric(label: str, value: float, prior: float | None = None, prior_label: str = "", help: str | None = None) -> None:
    """A KPI in dollars with its change against ``prior`` as a percent."""
    delta = None
    rel = change(value, prior) if prior is not None else float("nan")
    if not pd.isna(rel):
        delta = f"{theme.fmt_change(rel)} vs {prior_label}" if prior_label else theme.fmt_change(rel)
    st.metric(label, theme.fmt_money(value), delta=delta, help=help, border=True)
