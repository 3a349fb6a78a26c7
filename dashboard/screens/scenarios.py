"""Scenarios (analysts, assignee investors, rating agencies): every party's streams projected
from the actuals under distributor termination, Plan termination, amendment and stress.

Three tabs.  **Scenario**: the start month (of the run chosen in the sidebar), horizon,
paths and discount rate, the assumptions (empty: the default calibrated from the actuals,
shown beside each) and the events; Run (a progress bar), then the fan charts against the
baseline (the same scenario without its events), the 12b-1 Share paths, the present
values, an assignee's payback, the downloads and Save.  **Saved scenarios**: open, delete
and compare saved scenarios side by side; open a TOML file.  **Model validation**: the
backtest from a chosen month.

Numbers come from ``calc.reports.scenarios``; runs are kept by ``dashboard.data``
(keyed by run and the scenario's TOML), so a rerun of the page redraws at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from calc.reports import scenarios as R
from calc.reports.common import ROLE_LABELS, portfolio_labels
from calc.reports.render import table_csv, workbook
from calc.scenarios.backtest import backtest_summary, backtest_totals
from calc.scenarios.spec import (
    EVENT_TYPES,
    Event,
    Scenario,
    SpecError,
    check_against,
    parse_scenario,
)
from dashboard import data, theme, ui
from dashboard.filters import month_key, month_of
from dashboard.plain import plain, plain_list

TABS = ["Scenario", "Saved scenarios", "Model validation"]
EVENT_LABELS = {
    "distributor_termination": "Distributor termination (FIFTEENTH (A))",
    "complete_termination": "Complete Termination of the Plan (FIFTEENTH (B))",
    "plan_amendment": "Plan amendment: lower Distribution Fee rate (EIGHTH (E))",
    "sales_suspension": "Sales suspension (THIRD (A))",
    "market_shock": "Market shock: a one-off return",
    "redemption_shock": "Redemption shock: more (or fewer) redemptions",
}
EVENT_DATE_HELP = {
    "distributor_termination": "The departing distributor's last day; the successor serves from the next day.",
    "complete_termination": "No Distribution Fee and no service fee from this day on, to anyone; CDSCs go on.",
    "plan_amendment": "The lower rate applies to shares issued after this day only.",
    "sales_suspension": "No new sales from this day on.",
    "market_shock": "The day the return happens (once).",
    "redemption_shock": "The first day of the shock.",
}
# The form's widgets and their defaults (percent fields hold percents; None: the calibrated default).
FORM_DEFAULTS = {
    "scn_name": "Scenario", "scn_horizon": 120, "scn_paths": 1, "scn_seed": 1, "scn_discount": 8.0,
    "scn_sales": 1.0, "scn_nav_sales": 1.0, "scn_redemptions": 1.0,
    "scn_dividends": None, "scn_waiver": None, "scn_drift": None, "scn_volatility": None,
}
PERCENT_ASSUMPTIONS = {"dividend_yield": "scn_dividends", "waiver_rate": "scn_waiver", "drift": "scn_drift",
                       "volatility": "scn_volatility"}
SCALES = {"sales_scale": "scn_sales", "nav_sales_scale": "scn_nav_sales", "redemption_scale": "scn_redemptions"}
PV_LABELS = {
    "party": "Party", "role": "Role", "kind": "Kind of money", "undiscounted": "Undiscounted",
    "present_value": "Present value", "baseline_present_value": "Baseline", "change": "Change",
    "change_pct": "Change (%)", "present_value_p05": "PV p05", "present_value_p95": "PV p95",
    "payback_probability": "Payback probability",
}
MAX_COMPARED = 6


def _card(value: float | None) -> str:
    """An amount in a figure card: whole dollars from $100,000 on (the tables keep the cents),
    so that it fits its card."""
    if value is None or pd.isna(value) or abs(float(value)) < 100_000:
        return theme.fmt_money(value)
    text = f"${abs(round(float(value))):,.0f}"
    return f"({text})" if float(value) < 0 else text


def _delta(change: float) -> str:
    """A change against the baseline for a card's delta: ``-$1,234 vs baseline`` (the sign leads,
    so that the arrow points the right way)."""
    return f"{'-' if change < 0 else '+'}{_card(abs(change))} vs baseline"


def _dark() -> bool:
    """Whether the reader's theme is the dark one (charts lift dark party colours on it)."""
    try:
        return st.context.theme.type == "dark"
    except Exception:
        return False


# --- the form ------------------------------------------------------------------------------


def _defaults(months: list[str]) -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("scn_events", [])
    st.session_state.setdefault("scn_by_class", {})
    if st.session_state.get("scn_start") not in months:
        st.session_state["scn_start"] = months[0]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(float(value) / 100.0, 10)


def _problems(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        where = ".".join(str(p) for p in e.get("loc", ()))
        out.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return out


def _form_scenario(meta: data.RunMeta, start: pd.Timestamp) -> tuple[Scenario | None, list[str]]:
    """The scenario the form describes and what is wrong with it on this run (nothing: [])."""
    ss = st.session_state
    assumptions = {key: float(ss[field]) for key, field in SCALES.items()}
    for key, field in PERCENT_ASSUMPTIONS.items():
        if ss[field] is not None:
            assumptions[key] = _pct(ss[field])
    if ss["scn_by_class"]:
        assumptions["by_asset_class"] = ss["scn_by_class"]
    spec = {
        "name": str(ss["scn_name"]).strip() or "Scenario", "start": f"{start:%Y-%m}",
        "horizon_months": int(ss["scn_horizon"]), "paths": int(ss["scn_paths"]), "seed": int(ss["scn_seed"]),
        "discount_rate": _pct(ss["scn_discount"]), "assumptions": assumptions, "events": list(ss["scn_events"]),
    }
    try:
        scenario = Scenario.model_validate(spec)
    except ValidationError as err:
        return None, _problems(err)
    try:
        check_against(scenario, meta.portfolio_ids, meta.assignees, start, meta.months[-1])
    except SpecError as err:
        return scenario, err.problems
    return scenario, []


def _range_text(lo: float, hi: float) -> str:
    """A calibrated default as the form shows it: ``2.45%`` or ``2.45-2.58%`` (by portfolio)."""
    if abs(hi - lo) < 5e-5:
        return theme.fmt_pct(lo)
    return f"{theme.fmt_pct(lo).rstrip('%')}–{theme.fmt_pct(hi)}"


def _setup(f, months: list[str]) -> pd.Timestamp:
    c = st.columns([1.7, 1.5, 1.25, 1, 0.8, 1.45])
    c[0].text_input("Scenario name", key="scn_name", max_chars=200)
    c[1].selectbox("Start: last actual month", months, key="scn_start", format_func=lambda k: theme.fmt_month(month_of(k)),
                   help="The projection starts from the month-end state of the actuals at this month (default: the "
                        "run's last month, read from the store; an earlier month is computed first).")
    c[2].number_input("Horizon (months)", min_value=1, max_value=600, step=12, key="scn_horizon",
                      help="120 months by default. A deterministic 120-month run of the whole medium sample takes a "
                           "few minutes (the projection runs ~0.8M synthetic transactions through the engine); "
                           "shorten it for a quick look.")
    c[3].number_input("Paths", min_value=1, max_value=10_000, step=100, key="scn_paths",
                      help="1: deterministic. More: Monte Carlo market paths (one market factor plus portfolio "
                           "noise) over the deterministic projection, with p05-p95 bands.")
    c[4].number_input("Seed", min_value=0, step=1, key="scn_seed", help="The same seed gives the same paths.")
    c[5].number_input("Discount rate (% a year)", min_value=0.0, max_value=100.0, step=0.5, format="%.2f",
                      key="scn_discount", help="Present values are discounted to the start at this rate.")
    start = month_of(st.session_state["scn_start"])
    with st.spinner("Calibrating the defaults from the actuals…"):
        calibration = data.scenario_calibration(f.run_id, start)
    ranges = R.calibrated_ranges(calibration)
    st.markdown("**Assumptions** · an empty field takes the default calibrated from the actuals up to the start "
                "(shown in the field); every one may be set to zero")
    a = st.columns(4)
    a[0].number_input("Sales (× last 12 months)", min_value=0.0, step=0.1, format="%.2f",
                      key="scn_sales", help="Commission Share sales. 1 = the trailing twelve months' sales: "
                                            f"{theme.fmt_money(ranges['sales'][0])} a month over the complex, per "
                                            "portfolio as it sold.")
    a[1].number_input("NAV sales (× last 12 months)", min_value=0.0, step=0.1, format="%.2f", key="scn_nav_sales",
                      help=f"1 = the trailing twelve months' NAV purchases: {theme.fmt_money(ranges['nav_sales'][0])} a month.")
    a[2].number_input("Redemptions (× calibrated)", min_value=0.0, step=0.1, format="%.2f", key="scn_redemptions",
                      help="1 = the redemption rates by year held calibrated from the trailing three years "
                           f"(year 1: {_range_text(*ranges['redemption_year_1'])} a year).")
    a[3].number_input("Dividends (% a year)", min_value=0.0, max_value=100.0, step=0.25, format="%.2f",
                      key="scn_dividends", placeholder=_range_text(*ranges["dividend_yield"]),
                      help="Reinvested dividends. Empty: each portfolio's trailing twelve months.")
    b = st.columns(4)
    b[0].number_input("CDSC waivers (%)", min_value=0.0, max_value=100.0, step=1.0, format="%.2f", key="scn_waiver",
                      placeholder=_range_text(*ranges["waiver_rate"]), help="The share of redemptions whose CDSC is waived.")
    b[1].number_input("Drift (% a year)", min_value=-100.0, max_value=100.0, step=0.5, format="%.2f",
                      key="scn_drift", placeholder=_range_text(*ranges["drift"]),
                      help="Market drift. Empty: per asset class, from the month-end NAVs. The deterministic "
                           "projection uses the drift.")
    b[2].number_input("Volatility (% a year)", min_value=0.0, max_value=200.0, step=1.0, format="%.2f",
                      key="scn_volatility", placeholder=_range_text(*ranges["volatility"]),
                      help="Monte Carlo only. Empty: per asset class, from the month-end NAVs.")
    with b[3]:
        with st.popover("Calibrated defaults", icon=":material/tune:", width="stretch"):
            st.caption(f"Calibrated from the actuals up to {theme.fmt_month(start)}, per portfolio.")
            ui.table(calibration.table(), money=["sales_a_month", "nav_sales_a_month"],
                     percent=["dividend_yield", "redemption_year_1", "free_share_redemption", "drift", "volatility"],
                     labels={"portfolio_id": "Portfolio", "asset_class": "Asset class",
                             "sales_a_month": "Sales a month", "nav_sales_a_month": "NAV sales a month",
                             "dividend_yield": "Dividends", "redemption_year_1": "Redemptions, year 1",
                             "free_share_redemption": "Free Share redemptions", "drift": "Drift",
                             "volatility": "Volatility"}, height=320)
            if calibration.notes:
                st.caption(plain_list(calibration.notes, " · "))
    if st.session_state["scn_by_class"]:
        st.caption("Drift and volatility by asset class, from the opened scenario: " + ", ".join(
            f"{plain(c)}: " + ", ".join(f"{k} {theme.fmt_pct(v)}" for k, v in vals.items() if v is not None)
            for c, vals in sorted(st.session_state["scn_by_class"].items())))
    return start


# --- events --------------------------------------------------------------------------------


def _event_spec() -> dict:
    ss = st.session_state
    kind = ss["scn_ev_type"]
    spec: dict = {"type": kind, "date": f"{pd.Timestamp(ss['scn_ev_date']):%Y-%m-%d}",
                  "portfolios": list(ss.get("scn_ev_portfolios") or []) or "all"}
    if kind == "distributor_termination":
        spec["successor"] = str(ss.get("scn_ev_successor") or "").strip() or None
    elif kind == "plan_amendment":
        spec["rate"] = _pct(ss.get("scn_ev_rate"))
    elif kind == "market_shock":
        spec["return"] = _pct(ss.get("scn_ev_return"))
    elif kind == "redemption_shock":
        spec["multiplier"] = ss.get("scn_ev_multiplier")
        spec["months"] = ss.get("scn_ev_months")
    return {k: v for k, v in spec.items() if v is not None}


def _add_event() -> None:
    spec = _event_spec()
    try:
        Event.model_validate(spec)
    except ValidationError as err:
        st.session_state["scn_event_error"] = "; ".join(p.removeprefix(": ") for p in _problems(err))
        return
    st.session_state["scn_events"] = [*st.session_state["scn_events"], spec]


def _remove_event(i: int) -> None:
    events = list(st.session_state["scn_events"])
    del events[i]
    st.session_state["scn_events"] = events


def _events(meta: data.RunMeta, start: pd.Timestamp) -> None:
    st.markdown("**Events** · alone or combined, each at a date and for all or some portfolios")
    events = st.session_state["scn_events"]
    if not events:
        st.caption("No events yet: without events the scenario is its own baseline (the assumptions alone).")
    for i, spec in enumerate(events):
        c = st.columns([0.92, 0.08], vertical_alignment="center")
        c[0].markdown(f"{i + 1}\\. {plain(R.describe_event(Event.model_validate(spec)))}")
        c[1].button("", key=f"scn_remove_{i}", icon=":material/close:", help="Remove this event",
                    on_click=_remove_event, args=(i,))
    st.session_state.setdefault("scn_ev_date", (start + pd.offsets.MonthEnd(6)).date())
    st.session_state.setdefault("scn_ev_successor", "NEWCO")
    st.session_state.setdefault("scn_ev_rate", 0.5)
    st.session_state.setdefault("scn_ev_return", -30.0)
    st.session_state.setdefault("scn_ev_multiplier", 2.0)
    st.session_state.setdefault("scn_ev_months", 12)
    with st.expander("Add an event", expanded=not events, icon=":material/add:"):
        c = st.columns([2.2, 1, 2.2, 1.6])
        kind = c[0].selectbox("Event", EVENT_TYPES, format_func=EVENT_LABELS.get, key="scn_ev_type")
        c[1].date_input("Date", key="scn_ev_date", min_value=meta.months[0].date(), format="YYYY-MM-DD",
                        max_value=(start + pd.DateOffset(years=60)).date(), help=EVENT_DATE_HELP[kind])
        names = portfolio_labels(meta.portfolios)
        c[2].multiselect("Portfolios", meta.portfolio_ids, key="scn_ev_portfolios", format_func=lambda p: names.get(p, p),
                         placeholder="All portfolios", help="None chosen: every portfolio.")
        with c[3]:
            if kind == "distributor_termination":
                st.text_input("Successor (Other Distributor)", key="scn_ev_successor",
                              help="Serves from the day after; new Commission Shares are its own.")
            elif kind == "plan_amendment":
                st.number_input("New Distribution Fee rate (% a year)", min_value=0.0, max_value=5.0, step=0.05,
                                format="%.2f", key="scn_ev_rate", help="For shares issued after the date (EIGHTH (E)).")
            elif kind == "market_shock":
                st.number_input("Return (%)", min_value=-99.0, max_value=1000.0, step=5.0, format="%.1f",
                                key="scn_ev_return", help="-30 = the NAVs fall 30% on the date.")
            elif kind == "redemption_shock":
                m = st.columns(2)
                m[0].number_input("× redemptions", min_value=0.0, step=0.5, format="%.2f", key="scn_ev_multiplier")
                m[1].number_input("Months", min_value=1, max_value=600, step=1, key="scn_ev_months")
        st.button("Add event", key="scn_add_event", icon=":material/add:", on_click=_add_event)
        problem = st.session_state.pop("scn_event_error", None)
        if problem:
            st.error(f"This event cannot be added: {plain(problem)}")


def _cautions(f, form: Scenario | None, start: pd.Timestamp) -> None:
    """What would make a run say less than the reader expects: events after the horizon, a
    start before any net assets were reported."""
    if form is None:
        return
    last = start + pd.offsets.MonthEnd(form.horizon_months)
    late = R.events_after(form, last)
    if late:
        st.warning(f"After the last projected month ({theme.fmt_month(last)}), so without effect in the horizon: "
                   + plain_list(late, "; ") + ".", icon=":material/schedule:")
    first = R.first_month_with_net_assets(data.table(f.run_id, "summary"))
    if first is None or start < first:
        st.warning(f"No net assets are reported by {theme.fmt_month(start)} (the first are in "
                   f"{theme.fmt_month(first)}): the projection has no NAV to start from, and projects no fees.",
                   icon=":material/warning:")


# --- running --------------------------------------------------------------------------------


def _run(run_id: int, scenario: Scenario) -> bool:
    """Run the scenario and its baseline (unless kept) with a progress bar; whether it ran."""
    steps = ["scenario"] + (["baseline (no events)"] if scenario.events else [])
    with st.status(f"Running {plain(scenario.name)}…", expanded=True) as status:
        bar = ui.ProgressBar(steps)
        try:
            data.run_outcome(run_id, scenario, bar)
            if scenario.events:
                bar.step()
                data.run_outcome(run_id, scenario.baseline(), bar)
        except SpecError as err:
            status.update(label=f"{plain(scenario.name)} cannot run", state="error", expanded=True)
            _spec_problems(err.problems)
            return False
        bar.finish()
        seconds = bar.elapsed
        status.update(label=f"{plain(scenario.name)}: projected in {seconds:.0f} s", state="complete", expanded=False)
    st.session_state["scn_current"] = {"run": run_id, "toml": scenario.to_toml(), "seconds": seconds}
    st.session_state["scn_save_name"] = scenario.name
    return True


def _spec_problems(problems: list[str]) -> None:
    st.error("The scenario cannot run on this calculation run:\n\n" + "\n".join(f"- {plain(p)}" for p in problems),
             icon=":material/error:")


# --- results ---------------------------------------------------------------------------------


def _results(f, form: Scenario | None) -> None:
    current = st.session_state.get("scn_current")
    if not current or current.get("run") != f.run_id:
        st.info("Set the start, the assumptions and the events, then **Run scenario**. The results are drawn against "
                "the baseline: the same assumptions without the events.", icon=":material/play_circle:")
        return
    scenario = parse_scenario(current["toml"])
    ours, base = data.cached_outcome(f.run_id, scenario), data.cached_outcome(f.run_id, scenario.baseline())
    if ours is None or base is None:
        st.info(f"The results of {plain(scenario.name)} are no longer kept: run it again.")
        return
    if form is not None and data.scenario_key(form) != data.scenario_key(scenario):
        st.info("The settings above are not those of the results below: **Run scenario** to update them.",
                icon=":material/sync_problem:")
    actuals = data.scenario_actuals(f.run_id, scenario.start)
    st.divider()
    st.subheader(f"Results: {plain(scenario.name)}")
    kind = f"Monte Carlo, {scenario.paths:,} paths (seed {scenario.seed})" if ours.monte_carlo else "deterministic"
    events = plain_list((R.describe_event(e) for e in scenario.events), "; ") or "no events (the scenario is its own baseline)"
    st.caption(f"From {theme.fmt_month(ours.start)} (run {f.run_id}), {scenario.horizon_months} months, {kind}, "
               f"discounted at {scenario.discount_rate:.2%} a year · events: {events} · whole complex"
               + (f" · computed in {current['seconds']:.0f} s" if current.get("seconds") else ""))
    for note in ours.notes:
        st.caption(f"Calibration: {plain(note)}")

    comparison = R.pv_comparison(ours.present_values, base.present_values)
    totals = R.pv_totals(comparison)
    by_party = R.pv_by_party(comparison)
    left, right = st.columns([1, 2.2])
    with left:
        moves = abs(totals["change"]) >= max(1.0, 1e-6 * abs(totals["baseline"]))  # not rounding noise
        st.metric("Present value, every party", _card(totals["scenario"]), border=True,
                  delta=(_delta(totals["change"]) if moves else "no change vs baseline") if scenario.events else None,
                  delta_color="normal" if moves else "off", delta_arrow="auto" if moves else "off",
                  help="Distribution Fees, CDSCs and service fees of every party over the horizon, discounted to the "
                       "start" + (" (Monte Carlo: the mean over the paths)" if ours.monte_carlo else ""))
        st.metric("Baseline (no events)", _card(totals["baseline"]), border=True)
        moved = by_party.reindex(by_party["change"].abs().sort_values(ascending=False).index)
        if scenario.events and not moved.empty and abs(moved["change"].iloc[0]) >= 0.005:
            top = moved.iloc[0]
            st.metric("Largest change", f"{'-' if top['change'] < 0 else '+'}{_card(abs(top['change']))}", border=True,
                      delta=f"{plain(top['label'])}, {theme.fmt_change(top['change'] / top['baseline_present_value'])}"
                      if top["baseline_present_value"] else f"{plain(top['label'])}, new", delta_color="off", delta_arrow="off",
                      help="The party whose present value moves most against the baseline")
    with right:
        ui.chart("pv_change_chart", by_party, "Present value by party, against the baseline", dark=_dark(),
                 key="scn_pv_chart")

    _fans(f, ours, base, actuals)
    st.subheader("12b-1 Share of each rights holder")
    st.caption("S_h(m) over the complex (each portfolio's share weighted by its shares outstanding): the last two "
               "years of actuals, then the scenario (solid) and the baseline (dotted).")
    path = R.share_path(ours, base, actuals.calculation.allocation, actuals.calculation.summary)
    ui.chart("share_path_chart", path, ours.start, dark=_dark(), key="scn_share_chart")

    st.subheader("Present values")
    st.caption("Per party, role and kind of money, discounted to the start"
               + (": the mean over the paths, with the 5th and 95th percentiles" if ours.monte_carlo else "")
               + ". Payable is the money less offsets (EIGHTH (D)).")
    shown = comparison.assign(kind=comparison["kind"].map(lambda k: R.KIND_LABELS.get(k, k)),
                              role=comparison["role"].map(lambda r: ROLE_LABELS.get(r, r)),
                              change_pct=[_change_text(c, p) for c, p in zip(comparison["change"],
                                                                           comparison["change_pct"], strict=True)])
    config = ui.column_config(money=["undiscounted", "present_value", "baseline_present_value", "change",
                                     "present_value_p05", "present_value_p95"],
                              percent=["payback_probability"], labels=PV_LABELS)
    longest = int(shown["party"].astype(str).str.len().max()) if len(shown) else 8
    config["party"] = st.column_config.TextColumn("Party", width=min(260, 40 + 7 * longest), pinned=True)
    st.dataframe(shown, hide_index=True, width="stretch", key="scn_pv_table", column_config=config,
                 height=420 if len(shown) > 11 else "auto")
    _payback(f, ours, base, actuals)
    _downloads(f, ours, base, actuals)
    _save(scenario)
    with st.expander("Assumptions used, against the calibrated defaults"):
        table = R.assumption_labels(ours.assumptions)
        ui.table(table, height=320, **R.assumption_kinds(table))
    with st.expander("The scenario as TOML (for `python -m calc scenario`)"):
        st.code(scenario.to_toml(), language="toml")


def _change_text(change: float, fraction: float) -> str:
    """A change against the baseline in percent; ``new`` where the baseline had none."""
    if pd.isna(fraction):
        return "new" if abs(change) >= 0.005 else "–"
    return theme.fmt_change(0.0 if abs(fraction) < 5e-5 else fraction)


def _fans(f, ours: R.Outcome, base: R.Outcome, actuals) -> None:
    st.subheader("Each party's money against the baseline")
    options = R.parties(ours, base)
    if not options:
        st.info("No party has money in this projection.")
        return
    if st.session_state.get("scn_party") not in options:
        st.session_state["scn_party"] = f.party if f.party in options else options[0]
    party = st.selectbox("Party", options, key="scn_party")
    band = "median and p05-p95 band" if ours.monte_carlo else "line"
    st.caption(f"Left of the dotted line: the last two years of actuals. Then the scenario ({band}, in the party's "
               "colour) against the baseline (grey, dashed).")
    history = R.actual_streams(actuals.calculation.payments, ours.start)
    kinds = R.kinds_of(party, ours, base)
    cols = st.columns(max(len(kinds), 1))
    for col, kind in zip(cols, kinds, strict=False):
        with col:
            frame = R.fan(ours, base, party, kind, history)
            ui.chart("fan_chart", frame, party, ours.monte_carlo, ours.start, R.KIND_LABELS[kind], dark=_dark(),
                     key=f"scn_fan_{kind}")


def _payback(f, ours: R.Outcome, base: R.Outcome, actuals) -> None:
    assignees = sorted(set(ours.streams.loc[ours.streams["role"] == "assignee", "party"])
                       | set(f.meta.assignees))
    if not assignees:
        return
    st.subheader("An assignee's payback")
    if st.session_state.get("scn_assignee") not in assignees:  # first: the one with the most money projected
        ranked = [a for a in R.projected_money(ours, "assignee").index if a in assignees]
        st.session_state["scn_assignee"] = ranked[0] if ranked else assignees[0]
    assignee = st.selectbox("Assignee", assignees, key="scn_assignee")
    price = R.purchase_prices(actuals.feed.assignments).get(assignee)
    pb = R.scenario_payback(actuals.calculation.payments, ours, base, assignee, price)
    c = st.columns([1.35, 1.2, 1.1, 0.85])
    c[0].metric("Purchase price", _card(price) if price else "not given", border=True)
    c[1].metric("Received to date", _card(pb.received), border=True,
                help=f"12b-1 and CDSC Portions in the actuals to {theme.fmt_month(ours.start)}")
    c[2].metric("Projected", _card(pb.projected), border=True,
                help="Over the horizon" + (" (the mean over the paths)" if ours.monte_carlo else ""))
    if ours.monte_carlo and pb.probability is not None:
        c[3].metric("Payback probability", theme.fmt_pct(pb.probability, 1), border=True,
                    help="The share of paths on which what it has received reaches its purchase price within the horizon")
    else:
        c[3].metric("Recovered", theme.fmt_pct(pb.recovered) if pb.recovered is not None else "–", border=True,
                    help="Received to date and projected, of the purchase price, at the end of the horizon")
    end = theme.fmt_month(ours.months[-1]) if ours.months else "the end of the horizon"
    if not price:
        st.caption(f"{plain(assignee)} has no purchase price in the run's assignments: its collections are shown alone.")
    elif pb.paid_back_before:
        st.caption(f"{plain(assignee)} was paid back in {theme.fmt_month(pb.payback_month)}, before the start.")
    elif pb.payback_month is not None:
        st.caption(f"Under the scenario {plain(assignee)} is paid back in **{theme.fmt_month(pb.payback_month)}**"
                   + (" (on the mean path)." if ours.monte_carlo else "."))
    else:
        st.caption(f"Under the scenario {plain(assignee)} is not paid back by {end}: it recovers "
                   f"{theme.fmt_pct(pb.recovered)} of its price" + (" on the mean path." if ours.monte_carlo else "."))
    ui.chart("scenario_payback_chart", pb.curve, price, assignee, ours.start, dark=_dark(), key="scn_payback_chart")


def _downloads(f, ours: R.Outcome, base: R.Outcome, actuals) -> None:
    st.subheader("Downloads")
    stem = R.file_stem(ours.scenario, f.run_id)
    run_label = f"run {f.run_id}: {f.meta.info.get('source', '')}"

    def sheets() -> dict[str, pd.DataFrame]:
        return R.download_sheets(ours, base, actuals.calculation.payments,
                                 R.purchase_prices(actuals.feed.assignments), run_label)

    kinds = R.download_kinds()
    c = st.columns([1, 1, 1, 2])
    c[0].download_button("Present values (CSV)", lambda: table_csv(sheets()["Present values"], kinds),
                         file_name=f"{stem}-present-values.csv", mime="text/csv", icon=":material/download:",
                         key="scn_dl_pv", on_click="ignore")
    c[1].download_button("Monthly streams (CSV)", lambda: table_csv(sheets()["Monthly streams"], kinds),
                         file_name=f"{stem}-monthly-streams.csv", mime="text/csv", icon=":material/download:",
                         key="scn_dl_streams", on_click="ignore")
    c[2].download_button("Workbook (Excel)", lambda: workbook(sheets(), kinds, f"Scenario {ours.scenario.name}",
                                                              f"Class B Shares, {run_label}; against the baseline "
                                                              "(no events)"),
                         file_name=f"{stem}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         icon=":material/table_view:", key="scn_dl_xlsx", on_click="ignore")
    c[3].caption("The workbook: the settings and events, present values against the baseline, the monthly streams, "
                 "the 12b-1 Share paths, the assignees' payback and the assumptions.")


def _save(scenario: Scenario) -> None:
    st.subheader("Save")
    st.session_state.setdefault("scn_save_name", scenario.name)
    c = st.columns([3, 1.4, 2.6], vertical_alignment="bottom")
    name = c[0].text_input("Save as", key="scn_save_name", max_chars=200,
                           help="Saved in the store by name; saving again under a name replaces it.")
    if c[1].button("Save scenario", key="scn_save", icon=":material/save:", type="secondary"):
        name = str(name).strip()
        if not name:
            st.error("Give the scenario a name to save it under.")
            return
        existed = name in set(data.saved_scenarios()["name"])
        data.save_scenario(name, scenario.model_copy(update={"name": name}).to_toml())
        st.success(f"Saved as “{plain(name)}”" + (" (it replaces the scenario saved under that name)." if existed else ".")
                   + " Reopen and compare it on the Saved scenarios tab.", icon=":material/check_circle:")


# --- saved scenarios ---------------------------------------------------------------------------


def _fit(scenario: Scenario, meta: data.RunMeta) -> Scenario:
    """A scenario without a start starts at the run's last month."""
    return scenario if scenario.start is not None else scenario.model_copy(update={"start": meta.months[-1]})


def _open(scenario: Scenario, months: list[str], run_id: int) -> None:
    """Fill the form with ``scenario`` (a callback: before the widgets are drawn) and show its
    results when they are kept."""
    ss = st.session_state
    ss["scn_name"] = scenario.name
    key = month_key(scenario.start) if scenario.start is not None else months[0]
    if key not in months:
        ss["scn_open_note"] = (f"{plain(scenario.name)} starts at {key}, a month this run does not have: it starts at "
                               f"{theme.fmt_month(month_of(months[0]))} instead.")
        key = months[0]
    ss["scn_start"] = key
    ss["scn_horizon"], ss["scn_paths"], ss["scn_seed"] = scenario.horizon_months, scenario.paths, scenario.seed
    ss["scn_discount"] = round(scenario.discount_rate * 100, 10)
    a = scenario.assumptions
    for name, field in SCALES.items():
        ss[field] = float(getattr(a, name))
    for name, field in PERCENT_ASSUMPTIONS.items():
        value = getattr(a, name)
        ss[field] = None if value is None else round(value * 100, 10)
    ss["scn_by_class"] = {c: v.model_dump(exclude_none=True) for c, v in a.by_asset_class.items()}
    ss["scn_events"] = [{**e.model_dump(by_alias=True, exclude_none=True), "date": f"{e.date:%Y-%m-%d}"}
                        for e in scenario.events]
    ss["scn_tab"] = TABS[0]
    opened = scenario.model_copy(update={"start": month_of(key)})
    if data.cached_outcome(run_id, opened) is not None and data.cached_outcome(run_id, opened.baseline()) is not None:
        ss["scn_current"] = {"run": run_id, "toml": opened.to_toml()}
        ss["scn_save_name"] = scenario.name
    else:
        ss.pop("scn_current", None)
        ss.setdefault("scn_open_note", f"Opened {plain(scenario.name)}: **Run scenario** to see its results.")


def _open_saved(name: str, months: list[str], run_id: int) -> None:
    _open(parse_scenario(data.saved_scenario_text(name), name), months, run_id)


def _delete_saved(name: str) -> None:
    data.delete_saved_scenario(name)
    st.session_state["scn_deleted"] = name


def _saved_tab(f, months: list[str]) -> None:
    saved = data.saved_scenarios()
    deleted = st.session_state.pop("scn_deleted", None)
    if deleted:
        st.success(f"Deleted “{plain(deleted)}”.")
    if saved.empty:
        st.info("No saved scenarios yet: run one on the Scenario tab and save it.")
    else:
        names = saved["name"].tolist()
        ui.table(saved[["name", "created_at", "updated_at"]], key="scn_saved_table",
                 labels={"name": "Name", "created_at": "Saved first (UTC)", "updated_at": "Saved last (UTC)"})
        if st.session_state.get("scn_pick") not in names:
            st.session_state["scn_pick"] = names[0]
        c = st.columns([3, 1, 1], vertical_alignment="bottom")
        pick = c[0].selectbox("Saved scenario", names, key="scn_pick")
        c[1].button("Open", key="scn_open", icon=":material/open_in_new:", on_click=_open_saved, args=(pick, months, f.run_id),
                    help="Fill the Scenario tab's form with it", type="primary")
        c[2].button("Delete", key="scn_delete", icon=":material/delete:", on_click=_delete_saved, args=(pick,))
        with st.expander(f"{plain(pick)} as TOML"):
            st.code(data.saved_scenario_text(pick), language="toml")
        _compare(f, names)
    with st.expander("Open a scenario file (TOML)", icon=":material/upload_file:"):
        upload = st.file_uploader("Scenario (.toml)", type=["toml"], key="scn_toml_file")
        if upload is not None:
            try:
                scenario = parse_scenario(upload.getvalue().decode("utf-8"), upload.name)
            except (SpecError, UnicodeDecodeError) as err:
                st.error(f"{plain(upload.name)} is not a scenario: {plain(err)}")
            else:
                st.button(f"Open {plain(scenario.name)}", key="scn_open_file", on_click=_open,
                          args=(scenario, months, f.run_id))


def _compare(f, names: list[str]) -> None:
    st.subheader("Compare side by side")
    chosen = st.multiselect("Saved scenarios to compare", names, key="scn_compare", max_selections=MAX_COMPARED,
                            placeholder="Choose two or more", help="Each runs on the run chosen in the sidebar.")
    if len(chosen) < 2:
        st.caption("Choose two or more saved scenarios: their present values and streams side by side.")
        return
    scenarios = {}
    for name in chosen:
        scenarios[name] = _fit(parse_scenario(data.saved_scenario_text(name), name), f.meta)
    missing = [n for n, s in scenarios.items()
               if data.cached_outcome(f.run_id, s) is None or data.cached_outcome(f.run_id, s.baseline()) is None]
    if missing:
        st.caption(f"Not run yet on run {f.run_id}: {plain_list(missing)}.")
        if not st.button("Run the comparison", key="scn_compare_run", type="primary", icon=":material/play_arrow:"):
            return
        with st.status("Running the scenarios…", expanded=True) as status:
            steps = [f"{n}" for n in missing] + [f"{n}, baseline" for n in missing if scenarios[n].events]
            bar = ui.ProgressBar(steps)
            try:
                for n in missing:
                    data.run_outcome(f.run_id, scenarios[n], bar)
                    bar.step()
                for n in missing:
                    if scenarios[n].events:
                        data.run_outcome(f.run_id, scenarios[n].baseline(), bar)
                        bar.step()
            except SpecError as err:
                status.update(label="A scenario cannot run", state="error")
                _spec_problems(err.problems)
                return
            bar.finish()
            status.update(label=f"Ran {len(missing)} scenario(s) in {bar.elapsed:.0f} s", state="complete",
                          expanded=False)
    outcomes = {n: data.cached_outcome(f.run_id, s) for n, s in scenarios.items()}
    table = R.compare_present_values({n: o.present_values for n, o in outcomes.items()})
    shown = table.assign(kind=table["kind"].map(lambda k: R.KIND_LABELS.get(k, k)),
                         role=table["role"].map(lambda r: ROLE_LABELS.get(r, r)))
    totals = R.compare_totals(table)
    cards = st.columns(len(totals))
    for card, (name, total) in zip(cards, totals.items(), strict=True):
        card.metric(plain(name), _card(total), border=True, help="Present value of every party's money (Monte Carlo: the mean)")
    st.markdown("**Present values** (Monte Carlo: the mean)")
    ui.table(shown, key="scn_compare_table", money=list(outcomes), labels={"party": "Party", "role": "Role",
                                                                           "kind": "Kind of money"},
             height=380 if len(shown) > 10 else "auto")
    parties = R.parties(*outcomes.values())
    if not parties:
        return
    c = st.columns(2)
    party = c[0].selectbox("Party", parties, key="scn_compare_party")
    kinds = R.kinds_of(party, *outcomes.values())
    kind = c[1].selectbox("Money", kinds, format_func=R.KIND_LABELS.get, key="scn_compare_kind")
    frame = R.compare_streams(outcomes, party, kind)
    ui.chart("compare_streams_chart", frame, f"{party}: {R.KIND_LABELS[kind]} by month", key="scn_compare_chart")


# --- model validation ----------------------------------------------------------------------------


def _validation_tab(f) -> None:
    meta = f.meta
    st.subheader("Model validation: a backtest")
    st.caption("From a month in the run's history, with the assumptions calibrated only from the months before it, "
               "project the months after and compare each party's Distribution Fee with what the actuals were. The "
               "projection knows the tenures, assignments and Plan events as the feed has them (as an analyst models "
               "a known event), nothing of the later transactions or NAVs.")
    if len(meta.months) < 2:
        st.info("The run has one month: there is nothing to compare a projection with.")
        return
    options = [month_key(m) for m in reversed(meta.months[:-1])]
    first = R.first_month_with_net_assets(data.table(f.run_id, "summary"))
    if st.session_state.get("scn_bt_at") not in options:  # two years back, not before any net assets
        default = options[min(23, len(options) - 1)]
        if first is not None and month_of(default) < first and month_key(first) in options:
            default = month_key(first)
        st.session_state["scn_bt_at"] = default
    c = st.columns([2, 1, 1.2], vertical_alignment="bottom")
    at = month_of(c[0].selectbox("Project from", options, key="scn_bt_at", format_func=lambda k: theme.fmt_month(month_of(k))))
    months = int(c[1].number_input("Months", min_value=1, max_value=120, value=24, step=6, key="scn_bt_months"))
    if first is None or at < first:
        st.warning(f"No net assets are reported by {theme.fmt_month(at)}: the projection has no NAV to start from "
                   "and projects no Distribution Fee. Choose a later month.", icon=":material/warning:")
    frame = data.cached_backtest(f.run_id, at, months)
    if c[2].button("Run the backtest", key="scn_bt_run", type="primary", icon=":material/play_arrow:",
                   disabled=frame is not None):
        with st.status(f"Backtest from {theme.fmt_month(at)}…", expanded=True) as status:
            bar = ui.ProgressBar([f"backtest from {at:%Y-%m}"])
            frame = data.run_backtest(f.run_id, at, months, bar)
            bar.finish()
            status.update(label=f"Backtest from {theme.fmt_month(at)}: done in {bar.elapsed:.0f} s", state="complete",
                          expanded=False)
    if frame is None:
        st.caption("Run the backtest to see the projected Distribution Fee against the actual, party by party.")
        return
    if frame.empty:
        st.info("No Distribution Fee in these months, projected or actual.")
        return
    summary = backtest_summary(frame)
    total_p, total_a, error = backtest_totals(frame)
    m = st.columns(3)
    m[0].metric("Projected Distribution Fee", _card(total_p), border=True)
    m[1].metric("Actual Distribution Fee", _card(total_a), border=True)
    m[2].metric("Error over the months", theme.fmt_change(error) if error is not None else "n/a",
                border=True, help="(projected - actual) ÷ actual, every party added")
    ui.chart("backtest_chart", frame, "Distribution Fee by party: projected (dashed) and actual (solid)", dark=_dark(),
             key="scn_bt_chart")
    shown = summary.assign(role=summary["role"].map(lambda r: ROLE_LABELS.get(r, r)),
                           total_error_pct=summary["total_error_pct"] / 100,
                           mean_abs_monthly_error_pct=summary["mean_abs_monthly_error_pct"] / 100)
    ui.table(shown, key="scn_bt_table", money=["projected", "actual"],
             percent=["total_error_pct", "mean_abs_monthly_error_pct"],
             labels={"party": "Party", "role": "Role", "projected": "Projected", "actual": "Actual",
                     "total_error_pct": "Error over the months", "mean_abs_monthly_error_pct": "Mean monthly error (abs)"})
    kinds = {"money": ["projected", "actual", "error"], "percent": [], "dates": ["month_end"]}
    st.download_button("Backtest (CSV)", lambda: table_csv(frame, kinds),
                       file_name=f"backtest-run{f.run_id}-from-{at:%Y-%m}-{months}m.csv", mime="text/csv",
                       icon=":material/download:", key="scn_bt_dl", on_click="ignore")


# --- the page --------------------------------------------------------------------------------------


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    st.title("Scenarios")
    st.caption(f"Every party's streams projected from the actuals of run {f.run_id} (choose another in the sidebar) "
               "under distributor termination, Plan termination, amendment and stress; deterministic or Monte Carlo.")
    months = [month_key(m) for m in reversed(meta.months)]
    _defaults(months)
    tabs = st.tabs(TABS, key="scn_tab", on_change="rerun")
    with tabs[0]:
        note = st.session_state.pop("scn_open_note", None)
        if note:
            st.info(note, icon=":material/info:")
        start = _setup(f, months)
        _events(meta, start)
        form, problems = _form_scenario(meta, start)
        _cautions(f, form, start)
        run = st.button("Run scenario", key="scn_run", type="primary", icon=":material/play_arrow:")
        if problems:
            _spec_problems(problems)
        elif run and form is not None:
            _run(f.run_id, form)
        _results(f, form)
    with tabs[1]:
        _saved_tab(f, months)
    with tabs[2]:
        _validation_tab(f)


ui.guarded(render)
