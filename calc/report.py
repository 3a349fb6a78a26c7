"""The Monthly Calculation as six tables (RULES.md sections 7 and 8).

:class:`MonthlyCalculation` holds the six frames of section 8 with the columns
below.  Money columns hold amounts already rounded to the cent (floats whose
decimal value is exact to the cent); shares and fractions are unrounded.
``write_csv`` applies the output rounding of section 8.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = [
    "month_end", "portfolio_id", "average_net_assets", "distribution_fee", "service_fee",
    "cdsc", "cdsc_waived", "shares_outstanding", "due_date",
]
ALLOCATION_COLUMNS = [
    "month_end", "portfolio_id", "rights_holder", "commission_shares", "free_shares",
    "omnibus_free_shares", "attributed_shares", "share",
]
PAYMENTS_COLUMNS = [
    "month_end", "portfolio_id", "party", "role", "distribution_fee", "cdsc", "service_fee",
    "offset", "payable", "due_date",
]
OMNIBUS_COLUMNS = [
    "month_end", "portfolio_id", "account_id", "rights_holder", "issued", "redeemed",
    "net_exchange", "free_shares",
]
CDSC_COLUMNS = [
    "txn_id", "date", "portfolio_id", "account_id", "issue_date", "shares", "year_held", "rate",
    "base", "cdsc", "waived", "rights_holder",
]
EXCEPTIONS_COLUMNS = ["month_end", "portfolio_id", "account_id", "code", "detail"]

# Beyond the six files: what the drill-downs and the scenarios need.
OMNIBUS_ACCOUNT_COLUMNS = [
    "month_end", "portfolio_id", "account_id", "issued", "redeemed", "net_exchange",
    "free_shares", "commission_shares",
]  # per omnibus account and portfolio: I, R, E, F(m), K(m) of Exhibit A 2(c)
OMNIBUS_HOLDER_EXTRA = ["commission_shares"]  # K_h(m), beside F_h(m) in ``omnibus``
LOT_COLUMNS = ["month_end", "portfolio_id", "rights_holder", "issue_year", "commission_shares", "cost"]

COLUMNS = {
    "summary": SUMMARY_COLUMNS,
    "allocation": ALLOCATION_COLUMNS,
    "payments": PAYMENTS_COLUMNS,
    "omnibus": OMNIBUS_COLUMNS,
    "cdsc": CDSC_COLUMNS,
    "exceptions": EXCEPTIONS_COLUMNS,
}

MONEY_COLUMNS = {
    "summary": ["average_net_assets", "distribution_fee", "service_fee", "cdsc", "cdsc_waived"],
    "payments": ["distribution_fee", "cdsc", "service_fee", "offset", "payable"],
    "cdsc": ["base", "cdsc", "waived"],
}
SHARE_COLUMNS = {
    "summary": ["shares_outstanding"],
    "allocation": ["commission_shares", "free_shares", "omnibus_free_shares", "attributed_shares"],
    "omnibus": ["issued", "redeemed", "net_exchange", "free_shares"],
    "cdsc": ["shares"],
}
FRACTION_COLUMNS = {"allocation": ["share"], "cdsc": ["rate"]}
DATE_COLUMNS = {
    "summary": ["month_end", "due_date"],
    "allocation": ["month_end"],
    "payments": ["month_end", "due_date"],
    "omnibus": ["month_end"],
    "cdsc": ["date", "issue_date"],
    "exceptions": ["month_end"],
}

TABLE_NAMES = tuple(COLUMNS)


@dataclass(frozen=True)
class MonthlyCalculation:
    """The six tables of a Monthly Calculation (RULES.md section 8)."""

    summary: pd.DataFrame
    allocation: pd.DataFrame
    payments: pd.DataFrame
    omnibus: pd.DataFrame
    cdsc: pd.DataFrame
    exceptions: pd.DataFrame
    omnibus_accounts: pd.DataFrame | None = None
    lots: pd.DataFrame | None = None
    # per Commission lot part redeemed: cost and value (shares x price) unrounded, for
    # revaluing CDSCs (calc.scenarios.montecarlo); not stored, not written
    cdsc_values: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLE_NAMES}


def _fixed(values: pd.Series, places: int) -> pd.api.extensions.ExtensionArray:
    """Half away from zero to ``places`` decimals, as text; never '-0'.

    Money reaches here already rounded to the cent on exact decimals
    (``calc.money``), so this float rounding only trims representation error.
    The text is made by Python's ``%`` (what ``numpy.char.mod`` does) into a
    pandas string array, without numpy's fixed-width text arrays.
    """
    v = np.asarray(values, dtype=float)
    scale = 10.0**places
    rounded = np.sign(v) * np.floor(np.abs(v) * scale + 0.5) / scale
    rounded = np.where(rounded == 0.0, 0.0, rounded)  # -0.0 -> 0.0
    text = f"%.{places}f"
    return pd.array([text % x for x in rounded.tolist()], dtype="str")


def format_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table as the text written to its CSV file (section 8 rounding)."""
    out = frame[COLUMNS[name]].copy()
    for col in DATE_COLUMNS.get(name, []):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    for col in MONEY_COLUMNS.get(name, []):
        out[col] = _fixed(out[col], 2)
    for col in SHARE_COLUMNS.get(name, []):
        out[col] = _fixed(out[col], 6)
    for col in FRACTION_COLUMNS.get(name, []):
        out[col] = _fixed(out[col], 12)
    return out


def write_csv(calc: MonthlyCalculation, out_dir: str | Path) -> list[Path]:
    """Write the six CSV files of section 8 into ``out_dir`` (created if needed).

    The files are written beside it first and moved in only when all six are
    complete, so a failure leaves nothing half-written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".writing-") as tmp:
        staged = []
        for name, frame in calc.tables().items():
            path = Path(tmp) / f"{name}.csv"
            format_table(name, frame).to_csv(path, index=False, lineterminator="\n")
            staged.append(path)
        written = []
        for path in staged:
            target = out_dir / path.name
            os.replace(path, target)
            written.append(target)
    return written


def read_csv(folder: str | Path) -> MonthlyCalculation:
    """Read the six CSV files of a Monthly Calculation back (dates parsed, numbers as floats)."""
    folder = Path(folder)
    frames = {}
    for name in TABLE_NAMES:
        frame = pd.read_csv(folder / f"{name}.csv", dtype={"account_id": str, "detail": str}, keep_default_na=False)
        for col in DATE_COLUMNS.get(name, []):
            frame[col] = pd.to_datetime(frame[col].replace("", None))
        for col in MONEY_COLUMNS.get(name, []) + SHARE_COLUMNS.get(name, []) + FRACTION_COLUMNS.get(name, []):
            frame[col] = pd.to_numeric(frame[col])
        frames[name] = frame
    return MonthlyCalculation(**frames)


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[name]})


__all__ = ["COLUMNS", "MonthlyCalculation", "TABLE_NAMES", "empty_table", "format_table", "read_csv", "write_csv"]
