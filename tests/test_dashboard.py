"""The dashboard's pages under streamlit.testing (AppTest), on a store of the worked examples.

Every page renders without an exception, and the numbers it shows are the
store's: a month's Distribution Fee, an assignee's Portion, an omnibus
account's attributed Free Shares.  The store is a temporary SQLite file
(``DATABASE_URL``) holding ``hand`` (run 1) and ``random-1095`` (run 2).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from dashboard_fixtures import APP, HAND_RUN, RANDOM_RUN, clear_streamlit_caches, signed_in
from feedkit import EXAMPLES, copy_example
from streamlit.testing.v1 import AppTest

from calc import store
from calc.access import Principal
from dashboard import theme
from dashboard.plain import unescape

pytest_plugins = ["dashboard_fixtures"]  # dashboard_store, dashboard_db, own_store, empty_db
TITLES = {  # each page script in dashboard/screens/ and the title it draws
    "revenue": "Fee revenue",
    "shares": "Shares of the Distribution Fee",
    "collateral": "Collateral",
    "scenarios": "Scenarios",
    "omnibus": "Omnibus accounts",
    "statement": "Monthly Calculation",
    "compare": "Compare runs",
    "data": "Data",
}
PAGES = list(TITLES)
TIMEOUT = 120
ANALYST = Principal("tester", "analyst")  # reads the store as the pages of an analyst do


def open_page(page: str, **params: str) -> AppTest:
    """The app opened on ``page`` with the query parameters of a shared link.

    Revenue, the default page, is the app opened at the root.  Every other page
    is switched to by its file, ``screens/<page>.py``: before a first run AppTest
    finds a page by its file name, which is also its ``url_path`` in app.py.  (An
    unknown page would fall back to Revenue silently: the tests check titles.)
    ``screens/revenue.py`` by name is the hidden ``/revenue`` alias, which
    redirects to the root; AppTest would ask for it again on every run, so a
    widget change made by a test would be lost in the redirect.
    """
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.query_params.update(params)
    if page != "revenue":
        at.switch_page(f"screens/{page}.py")
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [unescape(e.value) for e in at.error]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def read(db, name: str, run: int, **filters) -> pd.DataFrame:
    return store.read_table(store.get_engine(db.url), ANALYST, name, run, **filters)


# --- every page ----------------------------------------------------------------------


def test_no_pages_folder_beside_the_entry_script():
    """A ``pages/`` folder beside app.py would switch on Streamlit's older pages-folder mode."""
    assert not (APP.parent / "pages").exists()
    assert sorted(p.stem for p in (APP.parent / "screens").glob("*.py")) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_newest_run(dashboard_db, page):
    at = open_page(page)
    assert_clean(at)
    assert at.title and at.title[0].value.startswith(TITLES[page]), [t.value for t in at.title]
    assert not any("No Monthly Calculation is loaded" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_filters_from_a_link(dashboard_db, page):
    at = open_page(page, run=str(HAND_RUN), portfolio="P", month="2020-06", party="ADI", assignee="FIN", account="OM")
    assert_clean(at)
    assert at.title[0].value.startswith(TITLES[page])
    selected = {s.key: s.value for s in at.sidebar.selectbox}
    assert selected == {"run": HAND_RUN, "portfolio": "P", "month": "2020-06", "party": "ADI"}


@pytest.mark.parametrize("page", PAGES)
def test_no_data_tells_how_to_load(empty_db, page):
    at = open_page(page)
    assert_clean(at)
    text = " ".join(i.value for i in at.info)
    assert "make run" in text and "Data" in text


def test_unknown_link_values_are_reported_not_silently_replaced(dashboard_db):
    at = open_page("revenue", run="99", portfolio="NOPE", month="1999-01", party="X")
    assert_clean(at)
    selected = {s.key: s.value for s in at.sidebar.selectbox}
    assert selected["run"] == RANDOM_RUN and selected["portfolio"] == "all" and selected["month"] == "2017-03"
    shown = " ".join(unescape(w.value) for w in at.warning)
    assert "The link's calculation run “99” is not in the store (runs 1, 2): showing run 2, the newest." in shown
    assert "The link's month “1999-01” is not in run 2" in shown and "showing March 2017" in shown
    assert "The link's portfolio “NOPE” is not in run 2: showing all portfolios." in shown
    assert "The link's party “X” is not in run 2: showing every party." in shown
    assert at.query_params.get("run") == "2"  # the link now names the run shown


@pytest.mark.parametrize(("page", "params", "message"), [
    ("collateral", {"assignee": "NOBODY"}, "The link's assignee “NOBODY” is not in this calculation run: showing FINCO1."),
    ("revenue", {"period": "2017-03..2016-01"}, "The link's period “2017-03..2016-01” is reversed"),
    ("revenue", {"period": "1990-01..2016-01"}, "The link's period “1990-01..2016-01” is not within the run's months"),
    ("omnibus", {"portfolio": "P1", "account": "NOPE"}, "The link's account “NOPE” is not an omnibus account of P1"),
    ("omnibus", {"portfolio": "P1", "omnibus_view": "everything"},
     "The link's view “everything” is not a view of this page: showing Month's formulas."),
    ("compare", {"compare_with": "7"}, "The link's run to compare with “7” is not in this calculation run"),
])
def test_a_bad_value_in_a_link_shows_a_message(dashboard_db, page, params, message):
    at = open_page(page, run=str(RANDOM_RUN), **params)
    assert_clean(at)
    assert any(message in unescape(w.value) for w in at.warning), [unescape(w.value) for w in at.warning]
    at.run()  # still there on the next rerun of the same page
    assert any(message in unescape(w.value) for w in at.warning)


def test_a_link_always_names_its_run(dashboard_db):
    at = open_page("revenue")
    assert at.query_params.get("run") == str(RANDOM_RUN)  # the newest, named all the same
    at.sidebar.selectbox(key="month").set_value("2016-06").run()
    assert at.query_params == {"run": str(RANDOM_RUN), "month": "2016-06"}


# --- Revenue -----------------------------------------------------------------------------


def test_revenue_by_name_redirects_to_the_root_with_the_link(dashboard_db):
    """``/revenue?...``: the hidden alias hands over to the default page, filters of the link included."""
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.query_params.update({"run": str(HAND_RUN), "month": "2020-04", "portfolio": "P"})
    at.switch_page("screens/revenue.py").run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Fee revenue"]
    selected = {s.key: s.value for s in at.sidebar.selectbox}
    assert selected == {"run": HAND_RUN, "portfolio": "P", "month": "2020-04", "party": "all"}
    assert at.query_params == {"run": str(HAND_RUN), "month": "2020-04", "portfolio": "P"}


def test_revenue_month_equals_the_store(dashboard_db):
    at = open_page("revenue", run=str(RANDOM_RUN), month="2016-06")
    assert_clean(at)
    summary = read(dashboard_db, "summary", RANDOM_RUN, month_end="2016-06-30")
    assert metric(at, "Distribution Fee, Jun 2016") == theme.fmt_money(summary["distribution_fee"].sum())
    assert metric(at, "CDSC, Jun 2016") == theme.fmt_money(summary["cdsc"].sum())
    ytd = read(dashboard_db, "summary", RANDOM_RUN)
    ytd = ytd[(ytd["month_end"] >= "2016-01-01") & (ytd["month_end"] <= "2016-06-30")]
    assert metric(at, "Service fee, YTD 2016") == theme.fmt_money(round(ytd["service_fee"].sum(), 2))


def test_hand_month_total_distribution_fee(dashboard_db):
    at = open_page("revenue", run=str(HAND_RUN), month="2020-06")
    # P 30 days and Q 15 days at 0.75% of 10,000,000 and 5,000,000 a year (2020: 366 days).
    assert metric(at, "Distribution Fee, Jun 2020") == "$7,684.43"


def test_changing_the_portfolio_filter_updates_numbers_and_link(dashboard_db):
    at = open_page("revenue", run=str(RANDOM_RUN), month="2016-06")
    at.sidebar.selectbox(key="portfolio").set_value("P1").run()
    assert_clean(at)
    assert at.query_params.get("portfolio") == "P1"
    summary = read(dashboard_db, "summary", RANDOM_RUN, month_end="2016-06-30", portfolio_id="P1")
    assert metric(at, "Distribution Fee, Jun 2016") == theme.fmt_money(summary["distribution_fee"].iloc[0])
    at.switch_page("screens/statement.py").run()  # the filter follows the user to another page
    assert_clean(at)
    assert at.title[0].value == "Monthly Calculation: June 2016"
    assert metric(at, "Distribution Fee") == theme.fmt_money(summary["distribution_fee"].iloc[0])


def test_month_without_activity(dashboard_db):
    at = open_page("revenue", run=str(HAND_RUN), month="2015-01")
    assert_clean(at)
    assert any("No fees or CDSCs" in i.value for i in at.info)
    at.switch_page("screens/statement.py").run()
    assert_clean(at)
    assert any("No activity with money" in i.value for i in at.info)


def _cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_party_changes_every_figure_card_on_revenue(dashboard_db):
    whole = list(_cards(open_page("revenue", run=str(RANDOM_RUN), month="2016-06")).values())
    at = open_page("revenue", run=str(RANDOM_RUN), month="2016-06", party="ADI")
    assert_clean(at)
    cards = _cards(at)
    assert len(cards) == len(whole) == 12
    pay = read(dashboard_db, "payments", RANDOM_RUN)
    adi = pay[pay["party"] == "ADI"]
    month, ytd = adi[adi["month_end"] == "2016-06-30"], adi[(adi["month_end"] >= "2016-01-01") & (adi["month_end"] <= "2016-06-30")]
    for label, col in (("Distribution Fee", "distribution_fee"), ("Service fee", "service_fee"), ("CDSC", "cdsc"),
                       ("Net of offsets", "payable")):
        assert cards[f"{label}, Jun 2016"] == theme.fmt_money_card(round(month[col].sum(), 2)), label
        assert cards[f"{label}, YTD 2016"] == theme.fmt_money_card(round(ytd[col].sum(), 2)), label
    unchanged = [label for label, before in zip(cards, whole, strict=True) if cards[label] == before]
    # ADI's fee is earned on its own net assets at the same 0.75% a year as the complex's: the rate may agree.
    assert all(label.startswith("Distribution Fee rate") for label in unchanged), f"cards left complex-wide: {unchanged}"
    assert "Net assets behind ADI's fee, Jun 2016" in cards
    total = round(month[["distribution_fee", "service_fee", "cdsc"]].sum().sum(), 2)
    assert any(md.value.startswith(f"### ADI earned {theme.fmt_money(total)} in June 2016") for md in at.markdown)
    assert any("ADI's own money" in c.value for c in at.caption)
    parties = [d.value for d in at.dataframe if "retained" in d.value.columns]
    assert len(parties) == 1 and list(parties[0]["party"]) == ["ADI"]


def test_a_party_changes_the_monthly_calculation(dashboard_db):
    at = open_page("statement", run=str(HAND_RUN), month="2020-06", party="ADI")
    assert_clean(at)
    pay = read(dashboard_db, "payments", HAND_RUN, month_end="2020-06-30", party="ADI")
    cards = _cards(at)
    assert cards["ADI: Distribution Fee"] == theme.fmt_money(pay["distribution_fee"].sum())
    assert cards["ADI: CDSC"] == theme.fmt_money(pay["cdsc"].sum())
    assert cards["ADI: Offsets"] == theme.fmt_money(pay["offset"].sum())
    assert cards["ADI: Payable"] == theme.fmt_money(pay["payable"].sum())
    assert any("Summary, Exceptions, Tie-out are of the whole portfolios" in c.value for c in at.caption)
    by_party = at.dataframe[2].value  # the By party sheet
    assert set(by_party["Party"]) == {"ADI", "Total"}


def test_choices_survive_navigation(dashboard_db):
    """Assignee, Collateral's section, period and account come back when the user leaves the page and returns."""
    at = open_page("collateral", run=str(RANDOM_RUN))
    at.selectbox(key="assignee").set_value("FINCO3").run()
    at.segmented_control(key="section").set_value("cdsc").run()
    at.switch_page("screens/revenue.py").run()  # away (through the /revenue alias) ...
    at.switch_page("screens/collateral.py").run()  # ... and back
    assert_clean(at)
    assert at.selectbox(key="assignee").value == "FINCO3"
    assert at.query_params.get("assignee") == "FINCO3"
    assert at.segmented_control(key="section").value == "cdsc" and at.query_params.get("section") == "cdsc"
    assert collateral_tables(at) == ["runoff_table"]

    at = open_page("omnibus", run=str(RANDOM_RUN), portfolio="P1", month="2016-08")
    at.selectbox(key="account").set_value("AC012").run()
    at.segmented_control(key="omnibus_view").set_value("history").run()
    at.switch_page("screens/statement.py").run()
    at.switch_page("screens/omnibus.py").run()
    assert_clean(at)
    assert at.selectbox(key="account").value == "AC012"
    assert at.segmented_control(key="omnibus_view").value == "history"
    assert at.query_params.get("omnibus_view") == "history"
    assert omnibus_tables(at) == ["omnibus_history", "account_exceptions"]  # AC012 has exceptions
    # The period on Revenue: tests/browser/test_flows.py (AppTest cannot set a formatted range slider).


# --- Shares over time ----------------------------------------------------------------------


def test_shares_after_complete_termination(dashboard_db):
    at = open_page("shares", run=str(HAND_RUN), portfolio="Q", month="2020-06")
    assert_clean(at)
    assert any("Complete Termination of the Plan on 2020-06-16" in unescape(w.value) for w in at.warning)


def test_shares_table_of_the_month(dashboard_db):
    at = open_page("shares", run=str(HAND_RUN), portfolio="P", month="2020-04")
    assert_clean(at)
    table = at.dataframe[0].value.set_index("party")
    assert table.loc["ADI", "distribution_fee"] == pytest.approx(4385.54)
    assert table.loc["ADI", "fee_share"] == pytest.approx(100 * 4385.54 / 6147.54)  # shown as a percent: 71.34%


# --- Collateral ----------------------------------------------------------------------------


def test_collateral_portion_equals_the_store(dashboard_db):
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month="2016-05")
    assert_clean(at)
    mine = read(dashboard_db, "payments", RANDOM_RUN, assignee="FINCO1")
    may = mine[mine["month_end"] == "2016-05-31"]
    fee, cdsc = round(may["distribution_fee"].sum(), 2), round(may["cdsc"].sum(), 2)
    text = " ".join(s.value for s in at.success)
    assert f"12b-1 Portion {theme.fmt_money(fee)}" in text and f"CDSC Portion {theme.fmt_money(cdsc)}" in text
    assert "due 2016-06-14" in text
    assert metric(at, "Purchase price") == "$25,000,000"
    assert at.query_params.get("assignee") == "FINCO1"


def test_the_month_bounds_collateral(dashboard_db):
    """Everything on Collateral is as of the chosen month: received, recovered, payback, the payments."""
    mine = read(dashboard_db, "payments", RANDOM_RUN, assignee="FINCO1")
    for month, end in (("2016-05", "2016-05-31"), ("2015-06", "2015-06-30")):
        at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month=month)
        assert_clean(at)
        to_date = mine[mine["month_end"] <= end]
        received = round(to_date["distribution_fee"].sum() + to_date["cdsc"].sum(), 2)
        assert metric(at, "Received to date") == theme.fmt_money_card(received)
        assert metric(at, "Recovered") == theme.fmt_pct(received / 25_000_000)
        assert metric(at, "Multiple") == f"{received / 25_000_000:.2f}x"
        xs = []
        for section in ("portions", "runoff"):  # the charts: Portions and payback, Net assets and runoff
            at = show_section(at, section)
            xs += [pd.Timestamp(x) for chart in at.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]
                   if trace.get("type") in ("bar", "scatter") for x in trace.get("x", []) if str(x)[:2] in ("19", "20")]
        assert xs and max(xs) <= pd.Timestamp(end)  # every chart stops at the month
        at = show_section(at, "payments")
        schedule = at.dataframe[0].value
        assert schedule["month_end"].max() <= pd.Timestamp(end)
        assert set(schedule.loc[schedule["status"] == "due", "month_end"]) <= {pd.Timestamp(end)}
        statement = [d for d in at.dataframe if "distribution_fee" in d.value.columns and "offset" in d.value.columns]
        assert statement and statement[0].value["month_end"].max() <= pd.Timestamp(end)
    # The whole stream runs to 2017-03: at 2016-05 the page does not show it.
    assert mine["month_end"].max() > pd.Timestamp("2016-05-31")


def show_section(at: AppTest, section: str) -> AppTest:
    """Collateral with ``section`` chosen (one section is drawn at a time)."""
    at.segmented_control(key="section").set_value(section).run()
    assert_clean(at)
    assert at.query_params.get("section") == (None if section == "portions" else section)
    return at


COLLATERAL_TABLES = {  # a column only each of Collateral's tables has -> its name
    "status": "schedule", "assignment_id": "terms", "portfolios": "statement_months",
    "share_of_total": "by_portfolio", "year_held": "runoff_table",
}


def collateral_tables(at: AppTest) -> list[str]:
    """The names of the tables drawn on Collateral, in order (AppTest does not give a table's key)."""
    return [next(name for column, name in COLLATERAL_TABLES.items() if column in d.value.columns) for d in at.dataframe]


def test_each_collateral_section_is_reachable(dashboard_db):
    """One section at a time: the default draws the two charts and no table; each other section its own."""
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month="2016-06")
    assert_clean(at)
    assert at.segmented_control(key="section").value == "portions"
    assert [c.key for c in at.get("plotly_chart")] == ["portions_chart", "payback_chart"] and not at.dataframe
    expected = {  # section -> (its charts, its tables' keys)
        "payments": ([], ["schedule", "statement_months"]),
        "portfolios": ([], ["by_portfolio", "terms"]),
        "runoff": (["nav_chart"], []),
        "cdsc": ([], ["runoff_table"]),
        "portions": (["portions_chart", "payback_chart"], []),
    }
    for section, (charts, tables) in expected.items():
        at = show_section(at, section)
        assert [c.key for c in at.get("plotly_chart")] == charts, section
        assert collateral_tables(at) == tables, section
        assert metric(at, "Purchase price") == "$25,000,000"  # the figure cards stay above every section
    # a click on the section already chosen (which unselects it) keeps it
    at = show_section(at, "cdsc")
    at.segmented_control(key="section").set_value(None).run()
    assert_clean(at)
    assert at.segmented_control(key="section").value == "cdsc" and collateral_tables(at) == ["runoff_table"]


def test_a_link_opens_a_collateral_section(dashboard_db):
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", section="payments")
    assert_clean(at)
    assert at.segmented_control(key="section").value == "payments"
    assert collateral_tables(at) == ["schedule", "statement_months"]
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", section="everything")
    assert not at.exception and not at.error
    assert at.segmented_control(key="section").value == "portions"
    assert any("The link's section “everything” is not a section of this page: showing Portions and payback"
               in unescape(w.value) for w in at.warning), [unescape(w.value) for w in at.warning]


def test_collateral_status_of_an_ended_assignment(dashboard_db):
    """FINCO2's windows ended in 2016-02 (AS2) and 2015-07 (AS3): no "not yet", and end dates are never "None"."""
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO2", month="2017-03", section="portfolios")
    assert_clean(at)
    assert metric(at, "Paid back") == "window ended 2016-02"
    terms = [d.value for d in at.dataframe if "assignment_id" in d.value.columns][0]
    assert set(terms["end_date"]) == {"2015-07-31", "2016-02-20"}
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month="2017-03", section="portfolios")
    terms = [d.value for d in at.dataframe if "assignment_id" in d.value.columns][0]
    assert list(terms["end_date"]) == ["open"]


def test_collateral_reads_only_the_assignees_rows(dashboard_db, monkeypatch):
    calls: list[tuple[str, dict]] = []
    real_read_table, real_read_calculation = store.read_table, store.read_calculation

    def read_table(engine, principal, name, run_id, **filters):
        calls.append((name, filters))
        return real_read_table(engine, principal, name, run_id, **filters)

    def read_calculation(engine, principal, run_id):
        calls.append(("calculation", {}))
        return real_read_calculation(engine, principal, run_id)

    monkeypatch.setattr(store, "read_table", read_table)
    monkeypatch.setattr(store, "read_calculation", read_calculation)
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO3")
    assert_clean(at)
    assert not [f for name, f in calls if name in ("lots", "allocation")], "the first section reads no lots"
    for section in ("payments", "portfolios", "runoff", "cdsc"):
        at = show_section(at, section)
    assert ("calculation", {}) not in calls, "the Collateral page must not load every party's money"
    money = [f for name, f in calls if name == "payments"]
    assert money and all(f == {"assignee": "FINCO3"} for f in money), money
    assert {"assignee": "FINCO3"} in [f for name, f in calls if name == "assignments"]
    lots = [f for name, f in calls if name == "lots"]
    assert lots and all(f.get("rights_holder") == "OD1" for f in lots), lots
    allocation = [f for name, f in calls if name == "allocation"]
    assert allocation and all(list(f["rights_holder"]) == ["OD1"] for f in allocation), allocation


def test_collateral_unknown_assignee_in_the_link(dashboard_db):
    at = open_page("collateral", run=str(HAND_RUN), assignee="NOBODY")
    assert not at.exception and not at.error
    assert metric(at, "Received to date") == "$699.01"  # FIN, the only assignee of the hand example
    assert any("“NOBODY” is not in this calculation run: showing FIN" in unescape(w.value) for w in at.warning)


# --- Omnibus -------------------------------------------------------------------------------


# A column only one of Omnibus's tables has -> the table's name (the first match wins).
OMNIBUS_TABLES = {"exceptions_this_month": "accounts", "F_h_prev": "omnibus_history", "code": "account_exceptions",
                  "K_prev": "account_month"}


def omnibus_tables(at: AppTest) -> list[str]:
    """The names of the tables drawn on Omnibus, in order (AppTest does not give a table's key)."""
    return [next(name for column, name in OMNIBUS_TABLES.items() if column in d.value.columns) for d in at.dataframe]


def show_view(at: AppTest, view: str) -> AppTest:
    """Omnibus with ``view`` chosen (one view is drawn at a time)."""
    at.segmented_control(key="omnibus_view").set_value(view).run()
    assert_clean(at)
    assert at.query_params.get("omnibus_view") == (None if view == "formulas" else view)
    return at


def test_each_omnibus_view_is_reachable(dashboard_db):
    """One view at a time: the month's formula lines (the default), the account month by month, the accounts."""
    at = open_page("omnibus", run=str(RANDOM_RUN), portfolio="P1", month="2016-08", account="AC012")
    assert_clean(at)
    assert at.segmented_control(key="omnibus_view").value == "formulas"
    assert omnibus_tables(at) == ["account_month"] and at.code and not at.get("plotly_chart")
    at = show_view(at, "history")
    assert omnibus_tables(at)[0] == "omnibus_history" and "accounts" not in omnibus_tables(at)
    assert [c.key for c in at.get("plotly_chart")] == ["omnibus_chart"] and not at.code
    assert any("August 2016, the chosen month, is highlighted" in c.value for c in at.caption)
    at = show_view(at, "accounts")
    assert omnibus_tables(at) == ["accounts"] and not at.code and not at.get("plotly_chart")
    assert at.selectbox(key="account").value == "AC012"  # the account selector stays above every view
    at = show_view(at, "formulas")
    assert any("F(m-1) = 0" in c.value for c in at.code)
    # a click on the view already chosen (which unselects it) keeps it
    at = show_view(at, "history")
    at.segmented_control(key="omnibus_view").set_value(None).run()
    assert_clean(at)
    assert at.segmented_control(key="omnibus_view").value == "history" and omnibus_tables(at)[0] == "omnibus_history"


def test_a_link_opens_an_omnibus_view(dashboard_db):
    at = open_page("omnibus", run=str(RANDOM_RUN), portfolio="P1", month="2016-08", omnibus_view="accounts")
    assert_clean(at)
    assert at.segmented_control(key="omnibus_view").value == "accounts" and omnibus_tables(at) == ["accounts"]
    at = open_page("omnibus", run=str(RANDOM_RUN), portfolio="P1", month="2016-08", omnibus_view="everything")
    assert at.segmented_control(key="omnibus_view").value == "formulas" and omnibus_tables(at) == ["account_month"]


def test_omnibus_account_attributed_shares_equal_the_store(dashboard_db):
    at = open_page("omnibus", run=str(HAND_RUN), portfolio="P", month="2020-04", account="OM", omnibus_view="accounts")
    assert_clean(at)
    overview = at.dataframe[0].value.set_index("account_id")
    omnibus = read(dashboard_db, "omnibus", HAND_RUN, portfolio_id="P", account_id="OM", month_end="2020-04-30")
    by_holder = omnibus.set_index("rights_holder")["free_shares"]
    assert overview.loc["OM", "F_ADI"] == pytest.approx(by_holder["ADI"], abs=1e-9)
    assert overview.loc["OM", "F_OD1"] == pytest.approx(by_holder["OD1"], abs=1e-9)
    at = show_view(at, "formulas")
    code = "\n".join(c.value for c in at.code)
    assert "issued to ADI = I × (K_h(m-1)+F_h(m-1)) / (K(m-1)+F(m-1)) = 60 × (1000+144.473684)/(1500+144.473684) = 41.757081" in code
    assert "redeemed from ADI = R × F_h(m-1) / F(m-1) = 20 × 144.473684/144.473684 = 20.000000" in code


def test_omnibus_drill_to_another_account_and_exceptions(dashboard_db):
    at = open_page("omnibus", run=str(RANDOM_RUN), portfolio="P1", month="2016-08")
    assert_clean(at)
    assert at.selectbox(key="account").value == "AC011"  # the first flagged account
    assert any("negative_free_shares" in unescape(w.value) for w in at.warning)
    at.selectbox(key="account").set_value("AC012").run()
    assert_clean(at)
    assert at.query_params.get("account") == "AC012"
    assert any("zero_denominator" in unescape(w.value) for w in at.warning)
    assert any("F(m-1) = 0" in c.value for c in at.code)


def test_omnibus_asks_for_a_portfolio(dashboard_db):
    at = open_page("omnibus", run=str(RANDOM_RUN))
    assert_clean(at)
    pick = at.selectbox(key="omnibus_portfolio_pick")
    assert len(pick.options) == 2  # P1 and P2 hold omnibus accounts
    pick.set_value("P2").run()
    assert_clean(at)
    assert at.sidebar.selectbox(key="portfolio").value == "P2"
    assert at.selectbox(key="account").value


# --- Monthly Calculation -------------------------------------------------------------------


def test_statement_totals_equal_the_store(dashboard_db):
    at = open_page("statement", run=str(HAND_RUN), month="2020-06")
    assert_clean(at)
    payments = read(dashboard_db, "payments", HAND_RUN, month_end="2020-06-30")
    assert metric(at, "Distribution Fee") == theme.fmt_money(payments["distribution_fee"].sum()) == "$7,684.43"
    assert metric(at, "Payable") == theme.fmt_money(payments["payable"].sum()) == "$6,750.84"
    assert any("ties out" in s.value for s in at.success)
    labels = [d.label for d in at.get("download_button")]
    assert labels[:3] == ["Download CSV", "Download Excel", "Printable HTML"]
    at.segmented_control(key="statement_mode").set_value("Printable page").run()
    assert_clean(at)
    assert any("$6,750.84" in h.value for h in at.get("html"))


# --- Data ---------------------------------------------------------------------------------


def _zip(folder: Path, nested: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{nested}{f.name}")
    return buf.getvalue()


def test_data_page_lists_runs(dashboard_db):
    at = open_page("data")
    assert_clean(at)
    assert metric(at, "Calculation runs") == "2"
    runs = at.dataframe[0].value
    assert sorted(runs["run_id"]) == [HAND_RUN, RANDOM_RUN]


def test_data_page_rejects_a_bad_feed(own_store, tmp_path):
    feed = copy_example(tmp_path)
    (feed / "tenures.csv").write_text((feed / "tenures.csv").read_text().replace("2020-03-15", "2020-03-20"))
    at = open_page("data")
    at.file_uploader(key="feed_zip").upload("bad.zip", _zip(feed), "application/zip").run()
    at.button(key="load_feed").click().run()
    assert not at.exception
    assert any("rejected" in e.value for e in at.error)
    problems = at.table[-1].value
    assert list(problems.columns) == ["File", "Line", "Column", "Rule"]
    assert "tenures.csv" in set(problems["File"].map(unescape))
    assert len(store.list_runs(store.get_engine(own_store), ANALYST)) == 2  # nothing was written


def test_data_page_loads_a_feed(own_store):
    """The hand feed again: the page says it is run 1's feed and stores it only when asked; the new run,
    named after the file, is chosen in the sidebar at once."""
    at = open_page("data")
    at.file_uploader(key="feed_zip").upload("hand.zip", _zip(EXAMPLES / "hand" / "feed", "hand/"), "application/zip").run()
    at.button(key="load_feed").click().run()
    assert_clean(at)
    assert any("identical to the feed of run 1" in unescape(w.value) for w in at.warning), [unescape(w.value) for w in at.warning]
    assert len(store.list_runs(store.get_engine(own_store), ANALYST)) == 2  # not stored yet
    at.button(key="store_again").click().run()
    assert_clean(at)
    assert any("Loaded hand.zip as calculation run 3" in unescape(s.value) for s in at.success), [s.value for s in at.success]
    assert len(store.list_runs(store.get_engine(own_store), ANALYST)) == 3
    run = at.sidebar.selectbox(key="run")
    assert run.value == 3 and run.options[0] == "Run 3 · hand.zip"
    assert at.query_params.get("run") == "3"


def test_data_page_upload_errors_read_the_same(own_store):
    """A .zip that is no zip, and a zip without a feed: plain upload errors, like a rejected feed's."""
    at = open_page("data")
    at.file_uploader(key="feed_zip").upload("notes.zip", b"this is not a zip file", "application/zip").run()
    at.button(key="load_feed").click().run()
    assert not at.exception
    errors = [unescape(e.value) for e in at.error]
    assert errors == ["**notes.zip was not loaded.** The upload could not be used: the file is not a zip archive (it "
                      "could not be opened as one): zip the feed's CSV files, or their folder, and upload the zip. "
                      "Nothing was written to the store."]
    assert "could not be drawn" not in " ".join(errors)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "no feed here")
    at.file_uploader(key="feed_zip").upload("empty.zip", buf.getvalue(), "application/zip").run()
    at.button(key="load_feed").click().run()
    assert [unescape(e.value).split("**")[1] for e in at.error] == ["empty.zip was not loaded."]
    assert len(store.list_runs(store.get_engine(own_store), ANALYST)) == 2


def test_unreachable_database_shows_a_plain_message(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nowhere?connect_timeout=2")

    clear_streamlit_caches()
    try:
        at = open_page("revenue")
        assert not at.exception
        text = " ".join(e.value for e in at.error)
        assert "could not be reached" in text and "server log" in text
        assert "127.0.0.1" not in text and "nowhere" not in text
    finally:
        clear_streamlit_caches()


# --- Scenarios -----------------------------------------------------------------------------


def _add_event(at: AppTest, kind: str, day: str, **fields) -> AppTest:
    at.selectbox(key="scn_ev_type").set_value(kind).run()
    at.date_input(key="scn_ev_date").set_value(pd.Timestamp(day).date())
    for key, value in fields.items():
        getattr(at, "text_input" if isinstance(value, str) else "number_input")(key=f"scn_ev_{key}").set_value(value)
    return at.button(key="scn_add_event").click().run()


def _hand_run(horizon: int = 4) -> AppTest:
    """The Scenarios page on the hand example, a short deterministic run with a distributor termination."""
    at = open_page("scenarios", run=str(HAND_RUN))
    at.number_input(key="scn_horizon").set_value(horizon)
    at.text_input(key="scn_name").set_value("ADI out in August")
    _add_event(at, "distributor_termination", "2020-08-31", successor="NEWCO")
    return at.button(key="scn_run").click().run()


def test_scenarios_opens_on_the_hand_example(dashboard_db):
    at = open_page("scenarios", run=str(HAND_RUN))
    assert_clean(at)
    assert at.selectbox(key="scn_start").value == "2020-06"  # the run's last month
    assert at.number_input(key="scn_horizon").value == 120  # the default horizon
    assert at.number_input(key="scn_paths").value == 1
    assert at.number_input(key="scn_dividends").value is None  # empty: the calibrated default
    assert any("Run scenario" in i.value for i in at.info)
    assert [t.label for t in at.tabs] == ["Scenario", "Saved scenarios", "Model validation"]


def test_a_short_run_draws_the_fans_and_the_present_values(dashboard_db):
    from calc.reports import scenarios as R
    from calc.scenarios.run import actuals_until, run_scenario
    from calc.scenarios.spec import parse_scenario

    at = _hand_run()
    assert_clean(at)
    headers = [h.value for h in at.subheader]
    for header in ("Results: ADI out in August", "Each party's money against the baseline",
                   "12b-1 Share of each rights holder", "Present values", "Downloads", "Save"):
        assert header in headers, headers
    assert len(at.get("plotly_chart")) >= 4  # PV by party, the party's fans, the 12b-1 Share paths
    pv = next(d.value for d in at.dataframe if "baseline_present_value" in d.value.columns)
    assert "NEWCO" in set(pv["party"])
    # the numbers are calc's: the same scenario run here on the stored run's feed (stored without a
    # month-end state, so the page computed the actuals too)
    actuals = actuals_until(store.read_feed(store.get_engine(dashboard_db.url), ANALYST, HAND_RUN))
    scenario = parse_scenario(at.session_state["scn_current"]["toml"])
    assert scenario.horizon_months == 4 and scenario.events[0].successor == "NEWCO"
    ours = run_scenario(actuals.feed, scenario, actuals=actuals).present_values
    base = run_scenario(actuals.feed, scenario.baseline(), actuals=actuals).present_values
    totals = R.pv_totals(R.pv_comparison(ours, base))
    assert metric(at, "Present value, every party") == theme.fmt_money(totals["scenario"])
    assert metric(at, "Baseline (no events)") == theme.fmt_money(totals["baseline"])
    shown = pv.set_index(["party", "role", "kind"])["present_value"]
    expected = ours.set_index(["party", "role", "kind"])["present_value"]
    assert shown[("NEWCO", "rights holder", "Distribution Fee")] == expected[("NEWCO", "rights_holder", "distribution_fee")]
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Present values (CSV)", "Monthly streams (CSV)", "Workbook (Excel)"]


def test_an_event_before_the_start_says_so_and_runs_nothing(dashboard_db):
    at = open_page("scenarios", run=str(HAND_RUN))
    _add_event(at, "complete_termination", "2020-03-31")
    at.button(key="scn_run").click().run()
    assert not at.exception
    text = " ".join(unescape(e.value) for e in at.error)
    assert "cannot run" in text and "2020-03-31 is not after the start 2020-06" in text
    assert "scn_current" not in at.session_state
    assert not any(h.value.startswith("Results") for h in at.subheader)


def test_an_event_missing_what_it_needs_is_not_added(dashboard_db):
    at = open_page("scenarios", run=str(HAND_RUN))
    _add_event(at, "distributor_termination", "2020-09-30", successor="")
    assert not at.exception
    assert any("needs successor" in e.value for e in at.error)
    assert at.session_state["scn_events"] == []


def test_save_then_reopen_a_scenario(own_store):
    at = _hand_run()
    assert_clean(at)
    at.text_input(key="scn_save_name").set_value("ADI out, saved")
    at.button(key="scn_save").click().run()
    assert_clean(at)
    assert any("Saved as “ADI out, saved”" in unescape(s.value) for s in at.success)
    eng = store.get_engine(own_store)
    assert store.list_scenarios(eng)["name"].tolist() == ["ADI out, saved"]
    assert "successor = \"NEWCO\"" in store.read_saved_scenario(eng, "ADI out, saved")

    # change the form, then reopen the saved scenario: the form and the results come back
    at.number_input(key="scn_horizon").set_value(9)
    at.button(key="scn_remove_0").click().run()
    assert at.session_state["scn_events"] == []
    assert at.selectbox(key="scn_pick").value == "ADI out, saved"
    at.button(key="scn_open").click().run()
    assert_clean(at)
    assert at.number_input(key="scn_horizon").value == 4
    assert at.session_state["scn_events"][0]["successor"] == "NEWCO"
    assert at.session_state["scn_tab"] == "Scenario"
    assert "Results: ADI out, saved" in [unescape(h.value) for h in at.subheader]  # kept: drawn without running again
    assert not any("not those of the results" in i.value for i in at.info)

    at.button(key="scn_delete").click().run()
    assert_clean(at)
    assert store.list_scenarios(eng).empty


def test_saved_scenarios_side_by_side(own_store):
    eng = store.get_engine(own_store)
    base = 'start = "2020-06"\nhorizon_months = 3\n'
    store.save_scenario(eng, "quiet", f'name = "quiet"\n{base}')
    store.save_scenario(eng, "ended", f'name = "ended"\n{base}\n[[events]]\ntype = "complete_termination"\n'
                                      'date = "2020-07-15"\n')
    at = open_page("scenarios", run=str(HAND_RUN))
    at.multiselect(key="scn_compare").set_value(["ended", "quiet"]).run()
    at.button(key="scn_compare_run").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "quiet" in d.value.columns)
    assert list(table.columns) == ["party", "role", "kind", "ended", "quiet"]
    fee = table[(table["party"] == "ADI") & (table["kind"] == "Distribution Fee")].iloc[0]
    assert 0 < fee["ended"] < fee["quiet"]  # the Plan ends in July: less fee than without the event
    assert at.selectbox(key="scn_compare_party").value == "ADI"


def test_monte_carlo_shows_bands_and_the_payback_probability(dashboard_db):
    at = open_page("scenarios", run=str(RANDOM_RUN))
    at.number_input(key="scn_horizon").set_value(3)
    at.number_input(key="scn_paths").set_value(200)
    at.button(key="scn_run").click().run()
    assert_clean(at)
    pv = next(d.value for d in at.dataframe if "baseline_present_value" in d.value.columns)
    assert {"present_value_p05", "present_value_p95", "payback_probability"} <= set(pv.columns)
    assert metric(at, "Payback probability") == "0.0%"  # FINCO1's 25 million are far off
    assert "Monte Carlo, 200 paths" in " ".join(c.value for c in at.caption)


def test_model_validation_backtest(dashboard_db):
    at = open_page("scenarios", run=str(RANDOM_RUN))
    at.selectbox(key="scn_bt_at").set_value("2016-09")
    at.number_input(key="scn_bt_months").set_value(3)
    at.button(key="scn_bt_run").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "total_error_pct" in d.value.columns)
    assert {"party", "projected", "actual"} <= set(table.columns)
    assert metric(at, "Actual Distribution Fee").startswith("$")
    summary = read(dashboard_db, "payments", RANDOM_RUN)
    window = summary[(summary["month_end"] > "2016-09-30") & (summary["month_end"] <= "2016-12-31")]
    assert metric(at, "Actual Distribution Fee") == theme.fmt_money(window["distribution_fee"].sum())


# --- theme --------------------------------------------------------------------------------


def test_formats_and_party_colours():
    assert theme.fmt_money(1234567.891) == "$1,234,567.89"
    assert theme.fmt_money(-1234.5) == "($1,234.50)"
    assert theme.fmt_money(-0.001) == "$0.00"
    assert theme.fmt_money(None) == "–"
    assert theme.fmt_pct(0.71344) == "71.34%"
    assert theme.fmt_change(0.125) == "+12.50%"
    assert theme.fmt_change(float("nan")) == "n/a"
    assert theme.fmt_shares(1234.5) == "1,234.500000"
    assert theme.fmt_month(pd.Timestamp("2020-06-30")) == "June 2020"
    known = ["ADI", "IDI", "OD1", "OD2", "FINCO1", "FINCO2", "FINCO3"]
    assert len({theme.party_colour(p) for p in known}) == len(known)
    assert theme.party_colour("SOMEONE ELSE") == theme.party_colour("SOMEONE ELSE") in theme.PALETTE


def test_revenue_breakdowns_by_fund_and_years_as_tables(dashboard_db):
    at = open_page("revenue", run=str(RANDOM_RUN), month="2016-06", party="ADI")
    assert_clean(at)
    year = [d.value for d in at.dataframe if "month" in d.value.columns and "fee_rate" in d.value.columns][0]
    assert year["month"].iloc[-1] == "Year 2016"
    at.segmented_control(key="revenue_view").set_value("By Fund").run()
    assert_clean(at)
    by_fund = [d.value for d in at.dataframe if "fund" in d.value.columns]
    assert by_fund and by_fund[0]["total"].sum() > 0
    at.segmented_control(key="revenue_view").set_value("Year by year").run()
    years = [d.value for d in at.dataframe if "year" in d.value.columns]
    assert years and list(years[0]["year"]) == sorted(years[0]["year"])
