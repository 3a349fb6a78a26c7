"""The Data page's closed months (AppTest): the close button only for an admin signed in
(the sign-in's principal in the session), a close made from the page, the restatement view."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dashboard_fixtures import APP, HAND_RUN, signed_in
from feedkit import copy_example, set_cell
from streamlit.testing.v1 import AppTest

from calc.access import Principal
from calc.load import load_feed
from calc.store import get_engine, read_audit
from calc.store.audit import ACTION_CLOSE
from calc.store.closes import close_month, list_closes

pytest_plugins = ["dashboard_fixtures"]
ADMIN = Principal("ada", "admin")
ANALYST = Principal("ann", "analyst")
TIMEOUT = 120


def data_page(principal: Principal | None, run: int = HAND_RUN) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if principal is not None:
        signed_in(at, principal)
    at.query_params["run"] = str(run)
    at.switch_page("screens/data.py")
    return at.run()


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with {column!r}"
    return found[0]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_close_button_is_only_for_an_admin(own_store: str) -> None:
    for principal in (None, ANALYST, Principal("fin", "assignee", assignee="FIN")):
        at = data_page(principal)
        assert_clean(at)
        assert not [b for b in at.button if b.key == "close_month_button"], principal
    assert [t.value for t in data_page(None).title] == ["Sign in"]  # no principal: the sign-in form only


def test_an_admin_closes_a_month_on_the_data_page(own_store: str) -> None:
    at = data_page(ADMIN)
    assert_clean(at)
    months = at.selectbox(key="close_month").options
    assert "2020-06" in months[0] and len(months) == 100  # run 1's months, newest first
    at.selectbox(key="close_month").set_value(pd.Timestamp("2020-05-31")).run()
    at.button(key="close_month_button").click().run()
    assert_clean(at)
    assert any("Closed 2020-05 of run 1 (close 1)" in s.value for s in at.success), [s.value for s in at.success]
    engine = get_engine(own_store)
    closes = list_closes(engine, ADMIN)
    assert list(closes["run_id"]) == [HAND_RUN]
    events = read_audit(engine, ADMIN, action=ACTION_CLOSE)
    assert list(events["actor"]) == ["ada"]
    listed = frame_with(at, "tables_checksum")
    assert list(listed["close_id"]) == [1]
    # 2020-05 is no longer offered; the closed files can be downloaded.
    assert "2020-05" not in at.selectbox(key="close_month").options
    assert at.selectbox(key="closed_download").value == 1
    engine.dispose()


def test_the_restatement_view_shows_each_partys_difference(own_store: str, tmp_path: Path) -> None:
    engine = get_engine(own_store)
    close_month(engine, HAND_RUN, "2020-05", ADMIN)
    changed = copy_example(tmp_path, "hand")
    set_cell(changed, "transactions", 14, "price", "8")  # T13: May's CDSC base 160.00, not 200.00
    restating = load_feed(changed, engine, principal=ADMIN)
    engine.dispose()

    at = data_page(ANALYST, run=restating)
    assert_clean(at)
    restatements = frame_with(at, "version")
    assert restatements[["run_id", "version"]].values.tolist() == [[restating, 2]]
    diff = frame_with(at, "payable_difference")
    assert diff[["party", "role"]].values.tolist() == [["ADI", "rights_holder"]]
    assert diff["cdsc_difference"].tolist() == [-2.0]
    assert diff["closed_payable"].tolist() == [7652.45]
    at.checkbox(key="restated_only_changed").uncheck().run()
    assert len(frame_with(at, "payable_difference")) > 1


def test_a_restating_upload_is_for_an_admin_and_stored_as_a_restatement(own_store: str, tmp_path: Path) -> None:
    """Only an admin sees the upload; an admin's feed that changes a closed month is loaded as
    a restatement (a new run; the closed month listed with its restatement)."""
    import io
    import zipfile

    from calc.store import list_runs
    from calc.store.closes import list_restatements

    engine = get_engine(own_store)
    close_month(engine, HAND_RUN, "2020-05", ADMIN)
    changed = copy_example(tmp_path, "hand")
    set_cell(changed, "transactions", 14, "price", "8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(changed.iterdir()):
            archive.write(path, path.name)
    analyst = data_page(ANALYST)
    assert not [u for u in analyst.get("file_uploader") if u.proto.id.endswith("feed_zip")] and \
        any("Loading a feed is for an admin" in i.value for i in analyst.info)
    at = data_page(ADMIN)
    at.file_uploader(key="feed_zip").upload("changed.zip", buffer.getvalue(), "application/zip").run()
    at.button(key="load_feed").click().run()
    assert_clean(at)
    assert len(list_runs(engine, ADMIN)) == 3
    restated = list_restatements(engine, ADMIN)
    assert list(restated["version"]) == [2] and pd.Timestamp(restated["month_end"].iloc[0]) == pd.Timestamp("2020-05-31")
    engine.dispose()
