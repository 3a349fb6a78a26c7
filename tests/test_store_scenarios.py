"""Saved scenarios in the store (table ``scenario``, migration 0003): saved by name, listed,
read back, replaced, deleted; a saved scenario reruns identically.

On SQLite and PostgreSQL (the ``database_url`` fixture of conftest.py).
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from feedkit import EXAMPLES
from pandas.testing import assert_frame_equal

from calc import store
from calc.feed import read_feed
from calc.monthly import compute
from calc.scenarios.run import Actuals, run_scenario
from calc.scenarios.spec import parse_scenario
from calc.store import engine as store_engine_module
from calc.store import models

SPEC = """
name = "ADI terminated, \\"stressed\\" — é"
horizon_months = 4
discount_rate = 0.07

[assumptions]
sales_scale = 1.5
redemption_scale = 2.0
drift = 0.03

[[events]]
type = "distributor_termination"
date = "2020-08-31"
successor = "NEWCO"
portfolios = ["P"]

[[events]]
type = "market_shock"
date = "2020-09-15"
return = -0.25
"""


@cache
def hand():
    feed = read_feed(EXAMPLES / "hand" / "feed")
    calculation, state = compute(feed)
    return feed, calculation, state


def test_save_list_read_replace_delete(store_engine: sa.Engine) -> None:
    assert store.list_scenarios(store_engine).empty
    first = store.save_scenario(store_engine, "  Base case ", 'name = "Base case"\n')
    second = store.save_scenario(store_engine, "ADI terminated", SPEC)
    listing = store.list_scenarios(store_engine)
    assert listing["name"].tolist() == ["ADI terminated", "Base case"]  # by name; trimmed
    assert list(listing.columns) == ["scenario_id", "name", "created_at", "updated_at"]
    assert store.read_saved_scenario(store_engine, "ADI terminated") == SPEC  # as given, to the character
    before = listing.set_index("name").loc["Base case"]

    again = store.save_scenario(store_engine, "Base case", 'name = "Base case"\nhorizon_months = 12\n')
    assert again == first != second
    after = store.list_scenarios(store_engine).set_index("name")
    assert len(after) == 2
    assert after.loc["Base case", "created_at"] == before["created_at"]
    assert after.loc["Base case", "updated_at"] >= before["updated_at"]
    assert "horizon_months = 12" in store.read_saved_scenario(store_engine, "Base case")

    assert store.delete_scenario(store_engine, "Base case") is True
    assert store.delete_scenario(store_engine, "Base case") is False
    assert store.list_scenarios(store_engine)["name"].tolist() == ["ADI terminated"]
    with pytest.raises(store.ScenarioNotFound, match="Base case"):
        store.read_saved_scenario(store_engine, "Base case")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_name_is_needed(store_engine: sa.Engine, name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        store.save_scenario(store_engine, name, SPEC)
    assert store.list_scenarios(store_engine).empty


def test_names_are_unique_in_the_store_itself(store_engine: sa.Engine) -> None:
    store.save_scenario(store_engine, "once", SPEC)
    now = pd.Timestamp.now().to_pydatetime()
    with pytest.raises(sa.exc.IntegrityError), store_engine.begin() as conn:
        conn.execute(sa.insert(models.SCENARIO_TABLE).values(name="once", toml="", created_at=now, updated_at=now))


def test_a_database_never_migrated_has_none_and_a_save_can_migrate_it(engine: sa.Engine) -> None:
    assert store.list_scenarios(engine).empty
    with pytest.raises(store.ScenarioNotFound):
        store.read_saved_scenario(engine, "x")
    assert store.delete_scenario(engine, "x") is False
    store.save_scenario(engine, "x", SPEC, migrate=True)
    assert store.read_saved_scenario(engine, "x") == SPEC


def test_a_saved_scenario_reruns_identically(store_engine: sa.Engine) -> None:
    """Saved, read back and parsed: the same Scenario, and the same results to the cent,
    run from the stored run (feed, calculation and month-end state read from the store)."""
    feed, calculation, state = hand()
    run_id = store.save_calculation(store_engine, feed, calculation, state=state)
    scenario = parse_scenario(SPEC)
    store.save_scenario(store_engine, scenario.name, scenario.to_toml())
    again = parse_scenario(store.read_saved_scenario(store_engine, scenario.name))
    assert again == scenario

    actuals = Actuals(store.read_feed(store_engine, run_id), store.read_calculation(store_engine, run_id),
                      store.read_state(store_engine, run_id))
    first = run_scenario(actuals.feed, scenario, actuals=actuals)
    second = run_scenario(actuals.feed, again, actuals=actuals)
    assert not first.calculation.payments.empty and "NEWCO" in set(first.calculation.payments["party"])
    for name in ("summary", "allocation", "payments"):
        assert_frame_equal(getattr(first.calculation, name), getattr(second.calculation, name))
    assert_frame_equal(first.present_values, second.present_values)
    # and the stored run gives what the feed itself gives
    direct = run_scenario(feed, scenario, actuals=Actuals(feed, calculation, state))
    assert_frame_equal(direct.present_values, first.present_values)


def test_migration_0003_up_from_0002_and_down_keeps_the_runs(engine: sa.Engine) -> None:
    config = store_engine_module.alembic_config()
    with store_engine_module.write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    assert "scenario" not in sa.inspect(engine).get_table_names()
    feed, calculation, state = hand()
    run_id = store.save_calculation(engine, feed, calculation, state=state)
    store.upgrade(engine, "0003")
    assert store_engine_module.current_revision(engine) == "0003"
    store.save_scenario(engine, "kept until the downgrade", SPEC)

    store_engine_module.downgrade(engine, "0002")
    assert "scenario" not in sa.inspect(engine).get_table_names()
    assert store.list_scenarios(engine).empty
    assert len(store.read_table(engine, "payments", run_id)) == len(calculation.payments)
    assert store.read_state(engine, run_id).month_end == state.month_end
    store.upgrade(engine)
    assert store.list_scenarios(engine).empty
