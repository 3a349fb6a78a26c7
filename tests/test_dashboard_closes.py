"""The Data page's closed months (AppTest): the close button only for an admin signed in
(``st.session_state["principal"]``), a close made from the page, the restatement view."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from dashboard_fixtures import APP, HAND_RUN, clear_streamlit_caches
from feedkit import copy_example, set_cell
from streamlit.testing.v1 import AppTest

from calc.access import Principal
from calc.load import load_feed
from calc.store import get_engine, read_audit
from calc.store.audit import ACTION_CLOSE
from calc.store.closes import close_month, list_closes
from dashboard.plain import unescape

pytest_plugins = ["dashboard_fixtures"]
ADMIN = Principal("ada", "admin")
ANALYST = Principal("ann", "analyst")
TIMEOUT = 120


@pytest.fixture
def page_store(dashboard_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the examples' store (run 1 hand, run 2 random-1095) that a test may write to."""
    path = tmp_path / "own.db"
    shutil.copy(dashboard_store.url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    clear_streamlit_caches()
    yield url
    clear_streamlit_caches()


def data_page(principal: Principal | None, run: int = HAND_RUN) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if principal is not None:
        at.session_state["principal"] = principal
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


def test_the_close_button_is_only_for_an_admin(page_store: str) -> None:
    for principal in (None, ANALYST, Principal("fin", "assignee", assignee="FIN")):
        at = data_page(principal)
        assert_clean(at)
        assert not [b for b in at.button if b.key == "close_month_button"], principal
    assert any("Sign in to see the closed months" in i.value for i in data_page(None).info)


def test_an_admin_closes_a_month_on_the_data_page(page_store: str) -> None:
    at = data_page(ADMIN)
    assert_clean(at)
    months = at.selectbox(key="close_month").options
    assert "2020-06" in months[0] and len(months) == 100  # run 1's months, newest first
    at.selectbox(key="close_month").set_value(pd.Timestamp("2020-05-31")).run()
    at.button(key="close_month_button").click().run()
    assert_clean(at)
    assert any("Closed 2020-05 of run 1 (close 1)" in s.value for s in at.success), [s.value for s in at.success]
    engine = get_engine(page_store)
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


def test_the_restatement_view_shows_each_partys_difference(page_store: str, tmp_path: Path) -> None:
    engine = get_engine(page_store)
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


def test_a_restating_upload_without_an_admin_is_refused_plainly(page_store: str, tmp_path: Path) -> None:
    """The page passes the signed-in principal to the load: an analyst's restating feed stores nothing."""
    import io
    import zipfile

    engine = get_engine(page_store)
    close_month(engine, HAND_RUN, "2020-05", ADMIN)
    changed = copy_example(tmp_path, "hand")
    set_cell(changed, "transactions", 14, "price", "8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(changed.iterdir()):
            archive.write(path, path.name)
    at = data_page(ANALYST)
    at.file_uploader(key="feed_zip").upload("changed.zip", buffer.getvalue(), "application/zip").run()
    at.button(key="load_feed").click().run()
    assert not at.exception
    errors = [unescape(e.value) for e in at.error]  # the reason is drawn as plain text
    assert len(errors) == 1 and "restates the closed month 2020-05" in errors[0], errors
    assert "Nothing was written" in errors[0]
    from calc.store import list_runs

    assert len(list_runs(engine)) == 2
    engine.dispose()
