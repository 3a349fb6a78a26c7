"""The Collateral page's CDSC carried by the shares behind the stream: years held by anniversary,
exact for a run whose lots keep the anniversary parts; a range for a run stored before."""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_fixtures import RANDOM_RUN
from test_dashboard import assert_clean, open_page, read

from calc.reports.collateral import assignee_terms, investor_cdsc

pytest_plugins = ["dashboard_fixtures"]  # dashboard_store, dashboard_db


def _cdsc_table(at) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if "year_held" in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_collateral_shows_the_exact_years_held(dashboard_db):
    """June 2016, before December: each issue year's shares are in their exact years held (two rows
    for a year with shares on both sides of their anniversary), no "2 or 3" range."""
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month="2016-06", section="cdsc")
    assert_clean(at)
    table = _cdsc_table(at)
    assert not table["year_held"].astype(str).str.contains("or").any()
    assert "rate_high" not in table.columns and "cdsc_high" not in table.columns
    assert table.groupby("issue_year")["year_held"].nunique().max() == 2  # split by anniversary
    assert any("FOURTH (D)" in c.value for c in at.caption)
    # the store's figures
    lots = read(dashboard_db, "lots", RANDOM_RUN)
    assignments = read(dashboard_db, "assignments", RANDOM_RUN)
    portfolios = read(dashboard_db, "portfolios", RANDOM_RUN)
    expected = investor_cdsc(lots, portfolios, assignee_terms(assignments, "FINCO1"), pd.Timestamp("2016-06-30"))
    assert expected["exact"].all()
    assert [int(y) for y in table["year_held"]] == expected["year_held"].tolist()
    assert table["cdsc_low"].sum() == pytest.approx(expected["cdsc_low"].sum(), rel=1e-9)


def test_a_run_stored_before_shows_a_range_and_says_why(dashboard_db, monkeypatch):
    """Lots without the anniversary parts (a run stored before migration 0006): the range, as before."""
    from dashboard import data

    real = data.assignee_lots

    def without(run_id, pairs):
        lots = real(run_id, pairs)
        return lots.assign(anniversary_shares=float("nan"), anniversary_cost=float("nan"))

    monkeypatch.setattr(data, "assignee_lots", without)
    at = open_page("collateral", run=str(RANDOM_RUN), assignee="FINCO1", month="2016-06", section="cdsc")
    assert_clean(at)
    table = _cdsc_table(at)
    assert table["year_held"].astype(str).str.contains(" or ").any()
    assert "rate_high" in table.columns
    assert any("stored before" in c.value for c in at.caption)

