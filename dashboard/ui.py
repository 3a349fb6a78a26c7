"""Small display helpers shared by the pages: friendly empty states and formatted tables."""

from __future__ import annotations

import logging
import time
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


class ProgressBar:
    """A progress bar for a long calculation, fed by calc's ``progress(stage)`` /
    ``progress(stage, done, total)`` callbacks (a scenario, a backtest).

    ``steps`` labels the runs it covers one after another (the scenario, then its
    baseline); :meth:`step` moves to the next.  Within a run the bar moves through the
    phases calc reports: the projected months written, the engine's walk of the accounts,
    the Monte Carlo paths; the line under it says the stage, its count and the seconds.
    """

    PHASES = (  # stage prefix, where its count starts and ends in a run's share of the bar
        ("reading", 0.0, 0.05), ("actuals", 0.0, 0.1), ("calibrating", 0.1, 0.12),
        ("projection: months written", 0.12, 0.4), ("projecting", 0.12, 0.12), ("projection:", 0.4, 0.4),
        ("ledger", 0.4, 0.85), ("attribution", 0.85, 0.88), ("money", 0.88, 0.92), ("done", 0.92, 0.92),
        ("Monte Carlo", 0.92, 1.0),
    )

    def __init__(self, steps: list[str]):
        self.steps = steps
        self.index = 0
        self.local = 0.0
        self.started = time.perf_counter()
        self.bar = st.progress(0.0)
        self.line = st.empty()

    def step(self) -> None:
        """The next run (its share of the bar starts where the last one ended)."""
        self.index = min(self.index + 1, len(self.steps) - 1)
        self.local = 0.0

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        for prefix, lo, hi in self.PHASES:
            if stage.startswith(prefix):
                fraction = lo + (hi - lo) * (done / total if done is not None and total else 0.0)
                self.local = max(self.local, min(fraction, 1.0))
                break
        overall = (self.index + self.local) / max(len(self.steps), 1)
        self.bar.progress(min(1.0, overall))
        count = f" {done:,}/{total:,}" if done is not None and total else ""
        self.line.caption(f"{self.steps[self.index]} · {stage}{count} · {time.perf_counter() - self.started:.0f} s")

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was drawn."""
        return time.perf_counter() - self.started

    def finish(self) -> None:
        self.bar.progress(1.0)
        self.line.caption(f"done in {self.elapsed:.0f} s")
