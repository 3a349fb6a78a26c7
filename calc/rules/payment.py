"""Payment (SEVENTH (B); RULES.md section 6): a month's amounts are due on the 10th New
York Stock Exchange business day after the month end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calc.calendar import nyse_sessions

PAYMENT_BUSINESS_DAYS = 10


def due_dates(month_ends: pd.DatetimeIndex | pd.Series) -> pd.Series:
    """The 10th NYSE business day after each month end (SEVENTH (B))."""
    ends = pd.DatetimeIndex(pd.to_datetime(month_ends))
    if len(ends) == 0:
        return pd.Series([], dtype="datetime64[ns]")
    sessions = nyse_sessions(ends.min(), ends.max() + pd.Timedelta(days=40))
    values = sessions.values.astype("datetime64[ns]")
    idx = np.searchsorted(values, ends.values.astype("datetime64[ns]"), side="right")
    return pd.Series(values[idx + PAYMENT_BUSINESS_DAYS - 1], index=range(len(ends)))
