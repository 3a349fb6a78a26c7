"""Compare a Monthly Calculation's CSV files with expected ones, as the examples'
README says: shares within 1e-6, `share` and `rate` within 1e-9, money within a
cent (`payable` and `offset` within two), dates and names exactly; a row whose
numbers are all zero may be absent on either side; exceptions by
(month_end, portfolio_id, account_id, code) and their number."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

KEYS = {
    "summary": ["month_end", "portfolio_id"],
    "allocation": ["month_end", "portfolio_id", "rights_holder"],
    "payments": ["month_end", "portfolio_id", "party", "role"],
    "omnibus": ["month_end", "portfolio_id", "account_id", "rights_holder"],
    "cdsc": ["txn_id", "part"],
}
TOLERANCE = {
    "summary": {"average_net_assets": 0.011, "distribution_fee": 0.011, "service_fee": 0.011, "cdsc": 0.011,
                "cdsc_waived": 0.011, "shares_outstanding": 1.5e-6},
    "allocation": {"commission_shares": 1.5e-6, "free_shares": 1.5e-6, "omnibus_free_shares": 1.5e-6,
                   "attributed_shares": 1.5e-6, "share": 1.5e-9},
    "payments": {"distribution_fee": 0.011, "cdsc": 0.011, "service_fee": 0.011, "offset": 0.021, "payable": 0.021},
    "omnibus": {"issued": 1.5e-6, "redeemed": 1.5e-6, "net_exchange": 1.5e-6, "free_shares": 1.5e-6},
    "cdsc": {"shares": 1.5e-6, "rate": 1.5e-9, "base": 0.011, "cdsc": 0.011, "waived": 0.011, "year_held": 0},
}
EXACT = {"summary": ["due_date"], "payments": ["due_date"], "cdsc": ["date", "portfolio_id", "account_id", "issue_date", "rights_holder"]}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def compare_table(name: str, expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Differences between two tables of the same name (empty list when they agree)."""
    if name == "exceptions":
        key = ["month_end", "portfolio_id", "account_id", "code"]
        e = Counter(map(tuple, expected[key].to_numpy().tolist()))
        a = Counter(map(tuple, actual[key].to_numpy().tolist()))
        return [f"exceptions: expected {dict(e - a)} missing, unexpected {dict(a - e)}"] if e != a else []
    if name == "cdsc":
        expected = expected.assign(part=expected.groupby("txn_id").cumcount().astype(str))
        actual = actual.assign(part=actual.groupby("txn_id").cumcount().astype(str))
    key = KEYS[name]
    numeric = list(TOLERANCE[name])
    problems: list[str] = []
    merged = expected.merge(actual, on=key, how="outer", suffixes=("_e", "_a"), indicator="side")
    for row in merged.itertuples(index=False):
        r = row._asdict()
        where = f"{name} {[r[k] for k in key]}"
        side = r["side"]
        if side != "both":
            present = "_e" if side == "left_only" else "_a"
            if any(float(r[f"{c}{present}"] or 0) != 0.0 for c in numeric if c not in ("share", "year_held")):
                problems.append(f"{where}: only in {'expected' if side == 'left_only' else 'actual'}")
            continue
        for c in numeric:
            ev, av = float(r[f"{c}_e"]), float(r[f"{c}_a"])
            if abs(ev - av) > TOLERANCE[name][c]:
                problems.append(f"{where} {c}: expected {ev}, got {av}")
        for c in EXACT.get(name, []):
            if r[f"{c}_e"] != r[f"{c}_a"]:
                problems.append(f"{where} {c}: expected {r[f'{c}_e']}, got {r[f'{c}_a']}")
    return problems


def compare_dirs(expected_dir: Path, actual_dir: Path) -> dict[str, list[str]]:
    """Differences per table between two folders of the six CSV files."""
    out = {}
    for name in ("summary", "allocation", "payments", "omnibus", "cdsc", "exceptions"):
        e, a = _read(Path(expected_dir) / f"{name}.csv"), _read(Path(actual_dir) / f"{name}.csv")
        if list(e.columns) != list(a.columns):
            out[name] = [f"columns differ: {list(e.columns)} vs {list(a.columns)}"]
            continue
        out[name] = compare_table(name, e, a)
    return out
