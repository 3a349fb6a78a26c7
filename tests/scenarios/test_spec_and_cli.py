"""A scenario is data (TOML), checked before anything runs; `python -m calc scenario`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from feedkit import copy_example

from calc.cli import main
from calc.scenarios.spec import SpecError, parse_scenario, read_scenario

GOOD = """
name = "ADI terminated"
horizon_months = 6
discount_rate = 0.08

[assumptions]
sales_scale = 1.5
drift = 0.0

[assumptions.by_asset_class.equity]
volatility = 0.2

[[events]]
type = "distributor_termination"
date = "2020-09-30"
successor = "NEWCO"
portfolios = ["P"]

[[events]]
type = "market_shock"
date = "2020-10-15"
return = -0.3
"""


def test_a_scenario_reads_and_writes_back_the_same():
    s = parse_scenario(GOOD)
    assert s.horizon_months == 6 and s.assumptions.sales_scale == 1.5
    assert s.events[0].successor == "NEWCO" and s.events[1].return_ == -0.3
    assert s.assumptions.by_asset_class["equity"].volatility == 0.2
    assert parse_scenario(s.to_toml()) == s
    assert s.baseline().events == []


@pytest.mark.parametrize(("text", "words"), [
    ('name = "x"\ncolour = "red"\n', "colour: unknown key"),
    ('[assumptions]\nwaiver_rate = -0.1\n', "greater than or equal to 0"),
    ('[assumptions]\nsales_scale = -1\n', "greater than or equal to 0"),
    ('[[events]]\ntype = "meteor"\ndate = "2021-01-01"\n', "events.0.type"),
    ('[[events]]\ntype = "distributor_termination"\ndate = "2021-01-01"\n', "needs successor"),
    ('[[events]]\ntype = "market_shock"\ndate = "2021-01-01"\nreturn = -1.5\n', "above -1"),
    ('[[events]]\ntype = "plan_amendment"\ndate = "someday"\nrate = 0.005\n', "not a date"),
    ('name = \n', "not TOML"),
])
def test_a_bad_scenario_says_what_is_wrong(text, words):
    with pytest.raises(SpecError) as err:
        parse_scenario(text)
    assert words in str(err.value)


def test_read_scenario_names_an_unreadable_file(tmp_path):
    with pytest.raises(SpecError, match="cannot be read"):
        read_scenario(tmp_path / "missing.toml")


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_scenario_command_writes_the_projection(hand, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["scenario", str(hand), "--spec", str(spec), "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.csv", "allocation.csv", "payments.csv", "present_values.csv", "assumptions.csv", "scenario.toml"])
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["month_end", "portfolio_id", "average_net_assets", "distribution_fee",
                                     "service_fee", "cdsc", "cdsc_waived", "shares_outstanding", "due_date"]
    assert summary["month_end"].min() == "2020-07-31" and summary["month_end"].max() == "2020-12-31"
    payments = pd.read_csv(out / "payments.csv")
    assert "NEWCO" in set(payments["party"])
    pv = pd.read_csv(out / "present_values.csv")
    assert list(pv.columns) == ["party", "role", "kind", "undiscounted", "present_value"]
    assert read_scenario(out / "scenario.toml") == parse_scenario(GOOD)


def test_scenario_command_with_paths_writes_bands(hand, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["scenario", str(hand), "--spec", str(spec), "--out", str(out), "--paths", "200", "--seed", "3",
                 "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["bands.csv", "present_values.csv", "assumptions.csv", "scenario.toml"])
    bands = pd.read_csv(out / "bands.csv")
    assert list(bands.columns) == ["month_end", "party", "role", "kind", "mean", "p05", "p50", "p95"]
    pv = pd.read_csv(out / "present_values.csv")
    assert {"present_value_mean", "present_value_p05", "present_value_p95", "payback_probability"} <= set(pv.columns)
    assert "paths = 200" in (out / "scenario.toml").read_text()


@pytest.mark.parametrize(("extra", "words"), [
    ('[[events]]\ntype = "complete_termination"\ndate = "2020-03-31"\n', "not after the start"),
    ('[[events]]\ntype = "sales_suspension"\ndate = "2021-03-31"\nportfolios = ["ZZZ"]\n', "unknown portfolio"),
    ('[assumptions]\ndividend_yield = -0.02\n', "dividend_yield"),
    ('start = "2031-01"\n', "after the feed's last month"),
    ('paths = 0\n', "paths"),
])
def test_a_scenario_that_does_not_fit_writes_nothing_and_exits_2(hand, tmp_path, capsys, extra, words):
    spec = tmp_path / "s.toml"
    spec.write_text(extra + 'name = "bad"\n' if extra.startswith(("start", "paths")) else 'name = "bad"\n' + extra)
    out = tmp_path / "out"
    assert main(["scenario", str(hand), "--spec", str(spec), "--out", str(out)]) == 2
    assert not out.exists()
    assert words in capsys.readouterr().err
