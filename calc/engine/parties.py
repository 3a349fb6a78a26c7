"""Integer codes for portfolios, rights holders and accounts, fixed before any walk,
and the tenures serving each portfolio (RULES.md section 1, "Tenure")."""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calc.feed import Feed


@dataclass(frozen=True)
class Parties:
    """Integer codes for portfolios, rights holders and accounts (sorted names).

    Fixed before the ledger walks: every partition of accounts, every
    continuation and every projection of a feed codes them alike.
    """

    portfolios: list[str]
    holders: list[str]
    accounts: list[str]
    portfolio_index: dict[str, int] = field(default_factory=dict, compare=False)
    holder_index: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.portfolio_index.update({p: i for i, p in enumerate(self.portfolios)})
        self.holder_index.update({h: i for i, h in enumerate(self.holders)})

    @functools.cached_property
    def account_index(self) -> dict[str, int]:
        """Account code by name, made when first asked for (a million accounts take seconds;
        the engine codes accounts in arrays)."""
        return {a: i for i, a in enumerate(self.accounts)}

    @classmethod
    def of(cls, feed: Feed) -> Parties:
        """The feed's portfolios, the rights holders of its tenures, its accounts."""
        ids = feed.accounts["account_id"].to_numpy(dtype=object)
        order = np.argsort(ids, kind="stable")  # as sorted() orders them
        parties = cls(
            sorted(feed.portfolios["portfolio_id"].tolist()),
            sorted(set(feed.tenures["rights_holder"])),
            ids[order].tolist(),
        )
        codes = np.empty(len(ids), dtype=np.int64)
        codes[order] = np.arange(len(ids))
        parties.__dict__["_accounts_of"] = (feed.accounts, codes)  # the accounts table's codes, kept
        return parties

    def omnibus_flags(self, feed: Feed) -> np.ndarray:
        """Whether each account (by code) is an omnibus account (``feed.accounts``)."""
        kept = self.__dict__.get("_accounts_of")
        if kept is not None and kept[0] is feed.accounts:
            codes = kept[1]
        else:
            from calc.engine.ledger import _codes

            codes = _codes(feed.accounts["account_id"], self.accounts)
        flags = np.zeros(len(self.accounts), dtype=bool)
        flags[codes] = feed.accounts["omnibus"].to_numpy(dtype=bool)
        return flags


@dataclass
class Tenures:
    """The tenure serving each portfolio on a day, as arrays for lookup."""

    starts: list[np.ndarray]  # per portfolio: start day numbers, ascending
    holders: list[np.ndarray]  # per portfolio: rights holder codes

    def __post_init__(self) -> None:
        # plain lists for the one-day lookup of the walk (bisect on a list is
        # several times faster than numpy on a handful of tenures)
        self._starts_list = [s.tolist() for s in self.starts]
        self._holders_list = [h.tolist() for h in self.holders]

    def serving(self, pi: int, day: int) -> int:
        """Rights holder of the tenure serving ``day`` (before the first: the first's)."""
        k = bisect.bisect_right(self._starts_list[pi], day) - 1
        return self._holders_list[pi][max(k, 0)]

    def serving_many(self, pi: int, days: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.starts[pi], days, side="right") - 1
        return self.holders[pi][np.maximum(k, 0)]


def epoch_days(values) -> np.ndarray:
    """Dates as epoch-day numbers (int64)."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def build_tenures(feed: Feed, parties: Parties) -> Tenures:
    starts, holders = [], []
    for pid in parties.portfolios:
        t = feed.tenures[feed.tenures["portfolio_id"] == pid].sort_values("start_date")
        starts.append(epoch_days(t["start_date"]))
        holders.append(np.array([parties.holder_index[h] for h in t["rights_holder"]], dtype=np.int64))
    return Tenures(starts, holders)


def holder_codes(names: pd.Series | list[str], parties: Parties) -> np.ndarray:
    """Rights holder codes of names (a name outside the feed's tenures raises KeyError)."""
    return np.array([parties.holder_index[h] for h in names], dtype=np.int64)
