"""Split a feed at a month end and compare a continued calculation with the whole one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from calc.engine.state import MonthEndState
from calc.feed import Feed
from calc.monthly import compute
from calc.report import TABLE_NAMES, MonthlyCalculation, format_table

MONTH_COLUMN = {"cdsc": "date"}  # the other tables have month_end


def split(feed: Feed, month_end: pd.Timestamp) -> tuple[Feed, Feed]:
    """The feed up to ``month_end`` (its transactions, NAVs, offsets and plan events dated by
    then) and the continuation after it (the reference tables whole)."""
    end = pd.Timestamp(month_end)

    def upto(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["date"] <= end].reset_index(drop=True)

    def after(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["date"] > end].reset_index(drop=True)

    first = dataclasses.replace(feed, transactions=upto(feed.transactions), nav=upto(feed.nav),
                                offsets=upto(feed.offsets), plan_events=upto(feed.plan_events))
    rest = dataclasses.replace(feed, transactions=after(feed.transactions), nav=after(feed.nav),
                               opening_month_end=end)
    return first, rest



def split_folder(feed: Path, end: str, first: Path, rest: Path) -> tuple[Path, Path]:
    """The CSV feed folder ``feed`` up to the month end ``end`` (ISO text) into ``first`` and
    after it into ``rest``: reference tables whole in both, offsets and plan events dated by
    then in ``first`` and all of them in ``rest``."""
    first.mkdir()
    rest.mkdir()
    for path in feed.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem in ("transactions", "nav"):
            frame[frame["date"] <= end].to_csv(first / path.name, index=False)
            frame[frame["date"] > end].to_csv(rest / path.name, index=False)
        elif path.stem in ("offsets", "plan_events"):
            frame[frame["date"] <= end].to_csv(first / path.name, index=False)
            frame.to_csv(rest / path.name, index=False)
        else:
            frame.to_csv(first / path.name, index=False)
            frame.to_csv(rest / path.name, index=False)
    return first, rest

def after_month(calc: MonthlyCalculation, month_end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The six tables' rows of the months after ``month_end``, as written to CSV, and the
    ``lots`` drill-down's (every float to the bit: its repr)."""
    out = {}
    for name in TABLE_NAMES:
        frame = getattr(calc, name)
        column = MONTH_COLUMN.get(name, "month_end")
        if len(frame):
            frame = frame[pd.to_datetime(frame[column]) > month_end]
        out[name] = format_table(name, frame).reset_index(drop=True)
    out["lots"] = lots_text(calc.lots, month_end)
    return out


def lots_text(lots: pd.DataFrame, after: pd.Timestamp | None = None) -> pd.DataFrame:
    """The ``lots`` rows (of the months after ``after``) with every value but the month end as its repr."""
    if lots is None:
        return pd.DataFrame()
    if after is not None and len(lots):
        lots = lots[pd.to_datetime(lots["month_end"]) > after]
    lots = lots.reset_index(drop=True)
    return lots.map(repr).assign(month_end=pd.to_datetime(lots["month_end"]))


def continued(feed: Feed, month_end: pd.Timestamp, roundtrip=None) -> tuple[MonthlyCalculation, MonthEndState]:
    """The calculation of ``feed`` after ``month_end``, continued from the state of a run up to
    it (``roundtrip``: a function the state passes through, e.g. save and load)."""
    first, rest = split(feed, month_end)
    _, state = compute(first, through=month_end)
    assert state is not None and state.month_end == month_end
    if roundtrip is not None:
        state = roundtrip(state)
    return compute(rest, opening=state)


def differences(whole: dict[str, pd.DataFrame], part: dict[str, pd.DataFrame]) -> list[str]:
    out = []
    for name in whole:
        a, b = whole[name], part[name]
        if a.to_csv(index=False) != b.to_csv(index=False):
            out.append(f"{name}: {len(a)} rows in the whole run, {len(b)} continued; first difference:\n"
                       f"{_first_difference(a, b)}")
    return out


def _first_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    for i in range(min(len(a), len(b))):
        if not a.iloc[i].equals(b.iloc[i]):
            return f"row {i}:\n{a.iloc[i].to_dict()}\n{b.iloc[i].to_dict()}"
    return "one is longer"


def state_differences(a: MonthEndState, b: MonthEndState) -> list[str]:
    out = []
    if a.month_end != b.month_end or a.reference_checksum != b.reference_checksum:
        out.append("month end or reference checksum")
    for name, frame in a.frames().items():
        other = b.frames()[name]
        left, right = frame.reset_index(drop=True), other.reset_index(drop=True)
        if name == "offsets_carried":
            left = left.assign(amount=left["amount"].astype(str))
            right = right.assign(amount=right["amount"].astype(str))
        try:
            pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=True)
        except AssertionError as err:
            out.append(f"{name}: {err}")
    return out
