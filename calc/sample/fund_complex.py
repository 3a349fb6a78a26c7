"""The sample fund complex: the portfolios of Schedules A-1 and A-2 and their history.

``data/schedule_a.csv`` lists every Fund and Portfolio of the agreement with
the sample's attributes (asset class, flagship, target size, Class B
inception).  This module turns it into the feed's static tables: portfolios,
tenures (the distributor history), assignments, offsets and plan events.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calc.vocabulary import COMPLETE_TERMINATION, DEFAULT_CDSC_SCHEDULE

SCHEDULE_A = Path(__file__).resolve().parents[2] / "data" / "schedule_a.csv"

# Parties (short names, used in tenures.csv, assignments.csv and offsets.csv).
ADI = "ADI"  # A I M Distributors, Inc.: the Distributor of the agreement
IDI = "IDI"  # INVESCO Distributors, Inc.: Schedule A-2 distributor before the agreement
OTHER_DISTRIBUTOR = "LFD"  # Lakeshore Fund Distributors, Inc. (fictional Other Distributor)
PARTY_NAMES = {
    ADI: "A I M Distributors, Inc.",
    IDI: "INVESCO Distributors, Inc.",
    OTHER_DISTRIBUTOR: "Lakeshore Fund Distributors, Inc. (fictional)",
}

# Key dates of the distributor history.
AGREEMENT_DATE = pd.Timestamp("2003-08-18")  # the agreement; ADI serves Schedule A-2 from here (NINETEENTH)
IDI_LAST_DAY = AGREEMENT_DATE - pd.Timedelta(days=1)
ADI_TERMINATION = pd.Timestamp("2009-06-30")  # ADI's last day as exclusive distributor
OTHER_DISTRIBUTOR_FIRST_DAY = ADI_TERMINATION + pd.Timedelta(days=1)

# Complete Termination of the Plan (FIFTEENTH (B)) for two portfolios of the small sample.
COMPLETE_TERMINATIONS = {
    "INV-TELE": pd.Timestamp("2004-11-19"),
    "AIM-BB": pd.Timestamp("2010-09-17"),
}

# Assignments (EIGHTH (A)) to fictional financing vehicles; "" = all portfolios.
ASSIGNMENTS = [
    # id, assignee, rights holder, portfolio, start, end, fee fraction, cdsc fraction, purchase price ($)
    ("AS01", "Harbor Lane B-Share Funding Trust I", ADI, "", "1997-01-01", "2003-08-17", 0.90, 0.90, 182_500_000.00),
    ("AS02", "Harbor Lane B-Share Funding Trust I", ADI, "", "2003-08-18", "", 0.80, 0.75, 241_000_000.00),
    ("AS03", "Cedar Point Distribution Finance LLC", ADI, "AIM-CHAR", "2005-01-01", "2010-12-31", 0.15, 0.20, 6_750_000.00),
    ("AS04", "Cedar Point Distribution Finance LLC", ADI, "INV-HY", "2006-04-01", "2011-03-31", 0.10, 0.10, 310_000.00),
    ("AS05", "Mesa Verde B-Share Receivables LP", OTHER_DISTRIBUTOR, "", "2009-07-01", "", 0.60, 0.50, 4_400_000.00),
]

# Fund claims against a rights holder (EIGHTH (D)): date, rights holder, portfolio, amount ($).
OFFSETS = [
    ("2001-05-15", ADI, "AIM-CHAR", 18_500.00),
    ("2004-03-15", ADI, "AIM-MM", 2_750.00),
    ("2007-09-28", ADI, "INV-HY", 4_250.00),
    ("2010-02-16", OTHER_DISTRIBUTOR, "AIM-CHAR", 1_800.00),
    ("2012-11-15", OTHER_DISTRIBUTOR, "INV-TFB", 95_000.00),
    ("2002-10-15", ADI, "AIM-CONS", 22_000.00),
    ("2006-06-15", ADI, "INV-DYNA", 9_600.00),
    ("2011-08-15", OTHER_DISTRIBUTOR, "AIM-PE", 3_300.00),
]

DISTRIBUTION_FEE_RATE = 0.0075  # SEVENTH (B)
SERVICE_FEE_RATE = 0.0025  # TENTH
CDSC_SCHEDULE = DEFAULT_CDSC_SCHEDULE
CONVERSION_YEARS = 8


def load_schedule_a(path: Path = SCHEDULE_A) -> pd.DataFrame:
    """Every Fund and Portfolio of Schedules A-1 and A-2 (``data/schedule_a.csv``)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["flagship"] = frame["flagship"].str.lower() == "true"
    frame["small_sample"] = frame["small_sample"].str.lower() == "true"
    frame["target_net_assets_musd"] = frame["target_net_assets_musd"].astype(float)
    frame["class_b_inception"] = pd.to_datetime(frame["class_b_inception"])
    return frame


def select(schedule: pd.DataFrame, small: bool) -> pd.DataFrame:
    """The sample's portfolios: the six of the small sample, or all of them."""
    chosen = schedule[schedule["small_sample"]] if small else schedule
    return chosen.reset_index(drop=True)


def portfolios_table(ports: pd.DataFrame) -> pd.DataFrame:
    """``portfolios.csv``: the rates and schedule of the agreement, written out; asset_class extra."""
    n = len(ports)
    return pd.DataFrame({
        "portfolio_id": ports["portfolio_id"],
        "name": ports["portfolio"],
        "fund": ports["fund"],
        "schedule": ports["schedule"],
        "distribution_fee_rate": [DISTRIBUTION_FEE_RATE] * n,
        "service_fee_rate": [SERVICE_FEE_RATE] * n,
        "cdsc_schedule": [CDSC_SCHEDULE] * n,
        "conversion_years": [CONVERSION_YEARS] * n,
        "asset_class": ports["asset_class"],
    })


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def tenures_table(ports: pd.DataFrame, first_days: pd.Series) -> pd.DataFrame:
    """``tenures.csv``: IDI (rights holder ADI) for Schedule A-2 before the agreement, ADI, then
    the Other Distributor from ADI's termination (not where the Plan ended before it)."""
    rows = []
    for pid, sched, first in zip(ports["portfolio_id"], ports["schedule"], first_days, strict=True):
        start = pd.Timestamp(first)
        ended = COMPLETE_TERMINATIONS.get(pid)
        adi_end = "" if ended is not None and ended <= ADI_TERMINATION else _iso(ADI_TERMINATION)
        if sched == "A-2" and start <= IDI_LAST_DAY:
            rows.append((pid, IDI, _iso(start), _iso(IDI_LAST_DAY), ADI))
            start = AGREEMENT_DATE
        rows.append((pid, ADI, _iso(start), adi_end, ADI))
        if adi_end:
            rows.append((pid, OTHER_DISTRIBUTOR, _iso(OTHER_DISTRIBUTOR_FIRST_DAY), "", OTHER_DISTRIBUTOR))
    return pd.DataFrame(rows, columns=["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"])


def assignments_table(ports: pd.DataFrame) -> pd.DataFrame:
    known = set(ports["portfolio_id"])
    rows = [a for a in ASSIGNMENTS if a[3] == "" or a[3] in known]
    frame = pd.DataFrame(rows, columns=[
        "assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date",
        "fee_fraction", "cdsc_fraction", "purchase_price",
    ])
    frame["purchase_price"] = frame["purchase_price"].map(lambda v: f"{v:.2f}")
    return frame


def offsets_table(ports: pd.DataFrame) -> pd.DataFrame:
    known = set(ports["portfolio_id"])
    rows = [o for o in OFFSETS if o[2] in known]
    frame = pd.DataFrame(rows, columns=["date", "rights_holder", "portfolio_id", "amount"])
    frame["amount"] = frame["amount"].map(lambda v: f"{v:.2f}")
    return frame.sort_values(["date", "portfolio_id"], kind="stable").reset_index(drop=True)


def plan_events_table(ports: pd.DataFrame) -> pd.DataFrame:
    known = set(ports["portfolio_id"])
    rows = [(pid, _iso(day), COMPLETE_TERMINATION) for pid, day in COMPLETE_TERMINATIONS.items() if pid in known]
    return pd.DataFrame(rows, columns=["portfolio_id", "date", "kind"])


def termination_days(ports: pd.DataFrame) -> np.ndarray:
    """Epoch day of each portfolio's Complete Termination (a far future day where none)."""
    far = np.iinfo(np.int32).max
    return np.array([
        int(np.datetime64(COMPLETE_TERMINATIONS[p].date(), "D").astype(np.int64)) if p in COMPLETE_TERMINATIONS else far
        for p in ports["portfolio_id"]
    ], dtype=np.int64)
