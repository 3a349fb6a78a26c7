"""The dashboard as an attacker meets it: uploads, feed text, odd links, failures, settings, SQL.

- Uploads: a zip is checked before anything is extracted (expanded size, ratio, names, links).
- Feed text (portfolio, party, assignee and account names) is drawn as plain text everywhere: a
  feed whose names hold Markdown images and links, emphasis and HTML draws none of them.
- Odd values in a link (``?run=¹``) and failures inside the sidebar or a page show a plain message,
  never a traceback; the traceback goes to the server log.
- An unreachable database is a plain message on every page, the driver's detail in the log.
- The settings: localhost only, XSRF protection, no error details, secrets untracked.
- No SQL is built from strings.
"""

from __future__ import annotations

import io
import json
import logging
import re
import struct
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from dashboard_fixtures import (
    APP,
    HAND_RUN,
    IMAGE,
    NASTY,
    build_nasty_store,
    clear_streamlit_caches,
    signed_in,
)
from feedkit import EXAMPLES, copy_example, set_cell
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from calc import store
from calc.access import Principal
from dashboard import data
from dashboard.plain import WORD_JOINER, chart_safe, plain, unescape

pytest_plugins = ["dashboard_fixtures"]
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
PAGES = ["revenue", "shares", "collateral", "scenarios", "omnibus", "statement", "compare", "data"]


def open_page(page: str, **params: str | list[str]) -> AppTest:
    """The app opened on ``page`` by a signed-in admin with a link's query parameters (see
    tests/test_dashboard.py)."""
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    at.query_params.update(params)
    if page != "revenue":
        at.switch_page(f"screens/{page}.py")
    return at.run()


def _zip(files: dict[str, bytes], **info: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zi = zipfile.ZipInfo(name)
            zi.compress_type = zipfile.ZIP_DEFLATED
            for k, v in info.items():
                setattr(zi, k, v)
            zf.writestr(zi, body)
    return buf.getvalue()


def _feed_zip(folder: Path, prefix: str = "") -> bytes:
    return _zip({prefix + p.name: p.read_bytes() for p in sorted(folder.iterdir())})


def _declare_size(payload: bytes, size: int) -> bytes:
    """A zip whose only member declares ``size`` bytes expanded (local header and central directory)."""
    out = bytearray(payload)
    local = out.find(b"PK\x03\x04")
    struct.pack_into("<I", out, local + 22, size)
    central = out.find(b"PK\x01\x02")
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


# --- uploads --------------------------------------------------------------------------------------


def test_a_feed_zip_still_unzips(tmp_path):
    folder = data.unzip_feed(_feed_zip(EXAMPLES / "hand" / "feed", "hand/"), tmp_path)
    assert folder == (tmp_path / "hand").resolve() and (folder / "portfolios.csv").exists()


def test_a_zip_bomb_is_refused_before_extraction(tmp_path):
    """8 MiB of zeros zip to a few KB: the ratio is refused from the directory, nothing is written."""
    bomb = _zip({"portfolios.csv": b"0" * (8 << 20)})
    assert len(bomb) < 100_000
    with pytest.raises(data.UploadError, match="expands .* times, more than the 100 times"):
        data.unzip_feed(bomb, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_zip_declaring_2_gib_is_refused_before_extraction(tmp_path):
    """2 GiB declared from a 2 MB file (the issue's case), without building the 2 GiB."""
    declared = _declare_size(_zip({"transactions.csv": b"x" * 1000}), 2 << 30)
    with pytest.raises(data.UploadError, match=r"expands to 2\.0 GiB, more than the 1\.0 GiB"):
        data.unzip_feed(declared, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_member_that_expands_beyond_what_it_declares_is_stopped(tmp_path):
    """A member that lies about its size (declares 1,000 bytes, holds 2 MiB) stops at the lie."""
    liar = _declare_size(_zip({"portfolios.csv": b"1" * (2 << 20)}), 1000)
    with pytest.raises(data.UploadError, match="damaged|more than it declares"):
        data.unzip_feed(liar, tmp_path)


def test_many_small_files_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_ZIP_MEMBERS", 5)
    with pytest.raises(data.UploadError, match="holds 6 files, more than the 5"):
        data.unzip_feed(_zip({f"f{i}.csv": b"a" for i in range(6)}), tmp_path)


@pytest.mark.parametrize("name", ["../evil.csv", "feed/../../evil.csv", "/tmp/evil.csv", "\\evil.csv",
                                  "..\\evil.csv", "C:/evil.csv"])
def test_unsafe_names_are_refused(tmp_path, name):
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(data.UploadError, match="unsafe path"):
        data.unzip_feed(_zip({name: b"x", "portfolios.csv": b"p"}), into)
    assert not any(into.iterdir()) and sorted(p.name for p in tmp_path.iterdir()) == ["into"]


def test_the_check_compares_real_paths_not_string_prefixes(tmp_path):
    """``/tmp/x/abc-evil`` starts with the string ``/tmp/x/abc`` but is not inside it."""
    into = tmp_path / "abc"
    into.mkdir()
    with pytest.raises(data.UploadError, match="unsafe path"):
        data.unzip_feed(_zip({str(tmp_path / "abc-evil" / "portfolios.csv"): b"x"}), into)
    assert not (tmp_path / "abc-evil").exists()
    # and the folder reached through a link is judged by where it really is
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    folder = data.unzip_feed(_feed_zip(EXAMPLES / "hand" / "feed"), tmp_path / "link")
    assert folder == (tmp_path / "real").resolve()


def test_links_in_a_zip_are_refused(tmp_path):
    link = _zip({"portfolios.csv": b"/etc/passwd"}, external_attr=(0o120777 << 16), create_system=3)
    with pytest.raises(data.UploadError, match="holds a link"):
        data.unzip_feed(link, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("payload", [b"", b"not a zip", b"PK\x03\x04broken", _zip({"a.csv": b"x" * 5000})[:-30]])
def test_a_non_zip_or_broken_zip_is_a_plain_upload_error(tmp_path, payload):
    with pytest.raises(data.UploadError, match="not a zip archive|could not be extracted"):
        data.unzip_feed(payload, tmp_path)


@pytest.fixture
def own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store of its own holding the hand example (run 1), for tests that upload."""
    from dashboard_fixtures import build_store

    built = build_store(tmp_path / "own.db", ("hand",))
    monkeypatch.setenv("DATABASE_URL", built.url)
    clear_streamlit_caches()
    yield built.url
    clear_streamlit_caches()


def _upload(at: AppTest, name: str, payload: bytes) -> AppTest:
    at.file_uploader(key="feed_zip").upload(name, payload, "application/zip").run()
    return at.button(key="load_feed").click().run()


def test_the_data_page_refuses_a_bomb_plainly(own_store):
    at = _upload(open_page("data"), "bomb.zip", _zip({"portfolios.csv": b"0" * (8 << 20)}))
    assert not at.exception
    shown = [unescape(e.value) for e in at.error]
    assert len(shown) == 1 and shown[0].startswith("**bomb.zip was not loaded.** The upload could not be used: ")
    assert "Nothing was written to the store." in shown[0]
    assert len(store.list_runs(store.get_engine(own_store), Principal("tester", "admin"))) == 1


# --- feed text is plain text ---------------------------------------------------------------------

# In Markdown source, any of these means an image, link, emphasis or HTML tag the browser would draw.
ACTIVE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<[A-Za-z/]|\*\*bold\*\*|https?:(?!\\)|"
                    r"(?<!\\)\[(link|acct|fund)|www\.|@evil")
FEED_TAGS = ("<b>html</b>", "<b>x</b>")  # the HTML of NASTY, as it would stand unescaped in HTML or a chart
# Fields that Streamlit draws as plain text (not Markdown): options, input values, code, table data.
PLAIN_FIELDS = {"options", "raw_value", "default", "value", "code_text", "data", "columns", "arrow_data", "url", "id",
                "form_id", "formatted_value"}


@pytest.fixture(scope="module")
def nasty_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding the hand example with every name replaced by one from :data:`NASTY`."""
    return build_nasty_store(tmp_path_factory.mktemp("nasty"))


@pytest.fixture
def nasty_db(nasty_store: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", nasty_store)
    clear_streamlit_caches()
    yield nasty_store
    clear_streamlit_caches()


def _strings(msg: Message) -> Iterator[tuple[str, str]]:
    """Every text field of an element: (field, text); an ``st.html`` body as field ``html``."""
    for fd, val in msg.ListFields():
        values = list(val) if not isinstance(val, (str, bytes, Message)) and hasattr(val, "__len__") else [val]
        for v in values:
            if isinstance(v, Message):
                yield from _strings(v)
            elif isinstance(v, str):
                yield ("html" if msg.DESCRIPTOR.name == "Html" and fd.name == "body" else fd.name), v


def _elements(node: object) -> Iterator[Message]:
    proto = getattr(node, "proto", None)
    if isinstance(proto, Message):
        yield proto
    children = getattr(node, "children", None)
    for child in (children.values() if isinstance(children, dict) else []):
        yield from _elements(child)


def active_markup(at: AppTest) -> list[str]:
    """Every piece of Markdown source in the page that would draw an image, link, emphasis or HTML
    from a feed value; every chart text that holds a feed value's HTML tag; every st.table cell."""
    found = []
    for proto in _elements(at._tree):
        for field, text in _strings(proto):
            if field == "spec":  # a plotly figure: its text, decoded
                spec = json.dumps(json.loads(text), ensure_ascii=False)
                found += [f"chart: {t}" for t in FEED_TAGS if t in spec]
            elif field == "html":  # the app's own HTML (styles, the printable statement): feed text escaped in it
                found += [f"html: {t}" for t in FEED_TAGS if t in text]
            elif field not in PLAIN_FIELDS and ACTIVE.search(text):
                found.append(f"{field}: {text[:200]}")
    for table in at.table:
        for cell in [*map(str, table.value.columns), *map(str, table.value.to_numpy().ravel())]:
            if ACTIVE.search(cell):
                found.append(f"table: {cell}")
    return found


PARTY_LINKS = {
    "revenue": {"party": NASTY["OD1"], "portfolio": NASTY["P"]},
    "shares": {"party": NASTY["FIN"], "portfolio": NASTY["P"]},
    "collateral": {"party": NASTY["FIN"]},
    "scenarios": {"party": NASTY["OD1"]},
    "omnibus": {"party": NASTY["OD1"], "portfolio": NASTY["P"], "account": NASTY["OM"]},
    "statement": {"party": NASTY["FIN"], "portfolio": NASTY["P"], "month": "2020-06"},
    "compare": {"party": NASTY["OD1"]},
    "data": {},
}


@pytest.mark.parametrize("page", PAGES)
def test_feed_names_are_plain_text_on_every_page(nasty_db, page):
    at = open_page(page, **PARTY_LINKS[page])
    assert not at.exception, [e.value for e in at.exception]
    assert not active_markup(at)
    shown = " ".join(unescape(s) for p in _elements(at._tree) for f, s in _strings(p) if f not in PLAIN_FIELDS)
    if page not in ("data", "scenarios"):  # the names are there, written out as they are (scenarios: below)
        assert any(v in shown for v in (NASTY["OD1"], NASTY["FIN"], NASTY["P"])), shown[:500]


def test_a_scenario_run_on_feed_names_draws_them_as_plain_text(nasty_db):
    """The results (fans, payback, present values) name parties and assignees; the scenario and its
    successor are named by the user: all plain text."""
    at = open_page("scenarios", party=NASTY["OD1"])
    at.number_input(key="scn_horizon").set_value(2)
    at.text_input(key="scn_name").set_value(f"{IMAGE} [link](http://evil)")
    at.selectbox(key="scn_ev_type").set_value("distributor_termination").run()
    at.date_input(key="scn_ev_date").set_value(pd.Timestamp("2020-07-31").date())
    at.text_input(key="scn_ev_successor").set_value("<b>x</b> [link](http://evil)")
    at.button(key="scn_add_event").click().run()
    at.button(key="scn_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any(unescape(s.value).startswith(f"Results: {IMAGE} [link](http://evil)") for s in at.subheader)
    assert not active_markup(at)


def test_odd_link_values_quoting_markup_are_plain_text(nasty_db):
    """A link's value the store does not have is quoted in a warning: as plain text."""
    at = open_page("revenue", portfolio=f"{IMAGE} [link](http://evil) <b>html</b>", party="**bold**")
    assert not at.exception and not active_markup(at)
    warned = " ".join(unescape(w.value) for w in at.warning)
    assert f"The link's portfolio “{IMAGE} [link](http://evil) <b>html</b>” is not in run 2" in warned


def test_the_rejection_table_and_the_file_name_are_plain_text(own_store, tmp_path):
    feed = copy_example(tmp_path)
    set_cell(feed, "transactions", 2, "portfolio_id", IMAGE)
    set_cell(feed, "transactions", 3, "account_id", "[link](http://evil)")
    at = _upload(open_page("data"), f"{IMAGE}.zip", _feed_zip(feed))
    assert not at.exception
    assert any("rejected" in e.value for e in at.error)
    assert not active_markup(at)
    problems = at.table[-1].value
    rules = [unescape(r) for r in problems["Rule"]]
    assert any(IMAGE in r for r in rules) and any("[link](http://evil)" in r for r in rules)


@given(st.text())
def test_plain_round_trips_and_leaves_nothing_active(text):
    written = plain(text)
    clean = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", text)
    assert unescape(written) == clean.replace(WORD_JOINER, "")
    # every ASCII punctuation character is escaped: no Markdown construct can start
    assert not re.search(r"(?<!\\)(\\\\)*[!\[\]()<>*_`#|~$]", written.replace("\\\\", ""))
    assert "\n" not in written and not re.search(r"https?:(?!\\)", written)


def test_chart_text_is_escaped_for_plotly():
    frame = pd.DataFrame({"party": ["<b>x</b>", "ADI"], "total": [1.0, 2.0]})
    safe = chart_safe(frame)
    assert safe["party"].tolist() == ["&lt;b&gt;x&lt;/b&gt;", "ADI"] and safe["total"].tolist() == [1.0, 2.0]
    assert chart_safe("<a href='x'>") == "&lt;a href='x'&gt;" and chart_safe(3) == 3


# --- no traceback reaches a page ------------------------------------------------------------------

ODD = ["¹", "٣", "-1", "1e3", "9" * 5000, "", ["1", "2"]]
PATHS = re.compile(r"Traceback|File \"|/work|site-packages|\.py\b")


def _no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception][:1]
    text = " ".join(s for p in _elements(at._tree) for f, s in _strings(p) if f not in PLAIN_FIELDS)
    assert not PATHS.search(text), PATHS.search(text)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("value", ODD, ids=["superscript", "arabic", "negative", "exponent", "huge", "empty",
                                            "repeated"])
def test_odd_link_values_never_show_a_traceback(dashboard_db, page, value):
    keys = ("run", "portfolio", "month", "party", "assignee", "account", "compare_with", "period")
    at = open_page(page, **{k: value for k in keys})
    _no_traceback(at)
    assert at.title, "the page was drawn"
    if not isinstance(value, list):
        assert {s.key: s.value for s in at.sidebar.selectbox}["run"] == 2  # the newest run, and the link's was reported
        assert any("The link's calculation run" in unescape(w.value) for w in at.warning)


def test_a_failure_in_the_sidebar_is_a_plain_message(dashboard_db, monkeypatch, caplog):
    def broken(run_id: int) -> None:
        raise RuntimeError("/srv/secret/path.py went wrong")

    monkeypatch.setattr(data, "run_meta", broken)
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at = open_page("revenue", run=str(HAND_RUN))
    _no_traceback(at)
    assert [e.value for e in at.error] == ["The filters could not be drawn. The details are in the server log."]
    assert "/srv/secret/path.py went wrong" in caplog.text and "Traceback" in caplog.text


def test_a_failure_outside_a_page_body_is_a_plain_message(dashboard_db, monkeypatch, caplog):
    """Even a page whose body ran without its own handler cannot show a traceback: app.py holds one."""
    from calc.reports import revenue
    from dashboard import ui

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("/srv/secret/other.py")

    monkeypatch.setattr(ui, "guarded", lambda render: render())
    monkeypatch.setattr(revenue, "revenue_comparison", broken)
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at = open_page("revenue")
    _no_traceback(at)
    assert any("could not be drawn (ValueError)" in e.value for e in at.error)
    assert "/srv/secret/other.py" in caplog.text


@pytest.mark.parametrize("page", PAGES)
def test_an_unreachable_database_is_a_plain_message_on_every_page(page, monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:hunter2@127.0.0.1:9/nowhere?connect_timeout=2")
    clear_streamlit_caches()
    try:
        with caplog.at_level(logging.ERROR, logger="dashboard"):
            at = open_page(page)
        _no_traceback(at)
        text = " ".join(s for p in _elements(at._tree) for f, s in _strings(p))
        assert "could not be reached" in text and "server log" in text
        for detail in ("127.0.0.1", "nowhere", "hunter2", "nobody", "psycopg", "postgresql", ":9"):
            assert detail not in text
        assert "127.0.0.1" in caplog.text  # the driver's detail went to the server log
    finally:
        clear_streamlit_caches()


# --- settings, secrets, SQL ----------------------------------------------------------------------


def test_the_streamlit_settings_are_safe():
    from streamlit import config

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server, client = settings["server"], settings["client"]
    assert server["address"] in ("localhost", "127.0.0.1")  # this machine only, unless configured otherwise
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True  # Streamlit refuses XSRF protection with CORS off
    assert client["showErrorDetails"] == "none"
    for section, values in settings.items():  # every key is one Streamlit knows
        for key, value in values.items():
            if not isinstance(value, dict):
                assert f"{section}.{key}" in config._config_options_template, f"{section}.{key}"


def test_secrets_come_from_the_environment_or_an_untracked_file():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    assert "DATABASE_URL" in example
    assert not re.search(r"(?m)^\s*DATABASE_URL\s*=\s*\"[a-z]+://[^\"]*:[^\"@]+@", example)  # no password in it


SQL_FROM_STRINGS = re.compile(
    r"""(?:(?<![.\w])|\b(?:sa|sqlalchemy)\.)text\(\s*f["']|"""  # sa.text(f"..."), not st.text(f"...")
    r"""\.(exec_driver_sql|execute|executemany|executescript|copy)\(\s*f["']|"""
    r"""f["'](SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|TRUNCATE|WITH)\s|"""
    r"""["'](SELECT|INSERT|UPDATE|DELETE|COPY)\s[^"']*["']\s*(%|\.format\(|\+)""",
    re.IGNORECASE)


def test_the_sql_check_finds_sql_built_from_strings():
    for line in ['conn.execute(sa.text(f"SELECT * FROM {name}"))', 'conn.exec_driver_sql(f"DROP TABLE {t}")',
                 'q = f"DELETE FROM x WHERE id = {i}"', 'cur.execute("SELECT %s" % v)', 'text(f"select {x}")',
                 'statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"']:  # the one there was
        assert SQL_FROM_STRINGS.search(line), line
    for line in ['line.text(f"{stage}")', 'st.text(f"loading {name}")', 'sa.select(table).where(table.c.id == i)']:
        assert not SQL_FROM_STRINGS.search(line), line


# The one exception: a migration's trigger DDL (0005, closed months) is written per table from the
# migration's own constant table names; identifiers and DDL cannot be bound parameters, and no value
# from a feed, a link or a user reaches it.
MIGRATION_DDL = re.compile(r"(CREATE|DROP) (TRIGGER|FUNCTION)")


def test_no_sql_is_built_from_strings():
    found = []
    for folder in ("calc", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            ddl_allowed = "migrations/versions" in path.as_posix()
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if SQL_FROM_STRINGS.search(line) and not (ddl_allowed and MIGRATION_DDL.search(line)):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found


def test_a_failure_in_a_fragment_rerun_is_a_plain_message(dashboard_db, monkeypatch, caplog):
    """Moving the period slider reruns the period's fragment alone, outside the page's handler."""
    from calc.reports import revenue

    at = open_page("revenue")
    assert not at.exception

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("/srv/secret/fragment.py")

    monkeypatch.setattr(revenue, "party_revenue", broken)
    clear_streamlit_caches()
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at.select_slider(key="period").set_value(("2016-01", "2016-12")).run()
    _no_traceback(at)
    assert any("could not be drawn (KeyError)" in e.value for e in at.error)
    assert "/srv/secret/fragment.py" in caplog.text
