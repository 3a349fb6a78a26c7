"""Integer codes for portfolios, rights holders and accounts, fixed before any walk,
and the tenures serving each portfolio (RULES.md section 1, "Tenure")."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calc.arrays import arrow_text, sorted_codes
from calc.feed import Feed


class Names(Sequence[str]):
    """Names held as one Arrow string array and read like a list of str (length, position,
    slices, iteration, equality), without a Python string per name: a feed's million account
    names took 0.1 s and 60 MB as a list; the engine looks names up in the array
    (``calc.arrays.sorted_codes``) and takes them in Arrow (``calc.arrays.names_at``)."""

    __slots__ = ("array",)

    def __init__(self, names: pa.Array | Sequence[str]):
        self.array = names if isinstance(names, pa.Array) else pa.array(list(names), type=pa.large_string())

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.array[i].to_pylist()
        return self.array[i].as_py()

    def __iter__(self):
        return iter(self.array.to_pylist())

    def __eq__(self, other) -> bool:
        if isinstance(other, Names):
            theirs = other.array if other.array.type == self.array.type else other.array.cast(self.array.type)
            return self.array.equals(theirs)
        if isinstance(other, (list, tuple)):
            return self.array.to_pylist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = self.array.slice(0, 3).to_pylist()
        return f"Names({shown}{', ...' if len(self) > 3 else ''}, {len(self):,} names)"


@dataclass(frozen=True)
class Parties:
    """Integer codes for portfolios, rights holders and accounts (sorted names).

    Fixed before the ledger walks: every partition of accounts, every
    continuation and every projection of a feed codes them alike.  ``accounts`` is a
    :class:`Names` (given a list, it is made one).
    """

    portfolios: list[str]
    holders: list[str]
    accounts: Names
    portfolio_index: dict[str, int] = field(default_factory=dict, compare=False)
    holder_index: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.accounts, Names):
            object.__setattr__(self, "accounts", Names(self.accounts))
        self.portfolio_index.update({p: i for i, p in enumerate(self.portfolios)})
        self.holder_index.update({h: i for i, h in enumerate(self.holders)})

    @functools.cached_property
    def account_index(self) -> dict[str, int]:
        """Account code by name, made when first asked for (a million accounts take seconds;
        the engine codes accounts in arrays)."""
        return {a: i for i, a in enumerate(self.accounts)}

    @property
    def account_names(self) -> pa.Array:
        """The account names as one Arrow string array (code order): what account ids are
        looked up in (:meth:`account_codes`) and names taken from (``calc.arrays.names_at``)."""
        return self.accounts.array

    def account_codes(self, ids: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each account id's code (-1: not an account), by search in the sorted names."""
        return sorted_codes(ids, self.account_names)

    @classmethod
    def of(cls, feed: Feed) -> Parties:
        """The feed's portfolios, the rights holders of its tenures, its accounts."""
        ids = arrow_text(feed.accounts["account_id"])
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ids = ids.cast(pa.large_string())
        # Arrow orders strings by their UTF-8 bytes: the order of sorted(), code point by
        # code point; the sort is stable
        given = feed.account_order  # the validator's sort of the same table (checked: in order)
        names = ids.take(pa.array(given)) if given is not None and len(given) == len(ids) else None
        if names is not None and (len(names) < 2 or pc.all(
                pc.less_equal(names.slice(0, len(names) - 1), names.slice(1))).as_py()):
            order = given
        elif len(ids) < 2 or pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
            order, names = np.arange(len(ids)), ids  # the table is in id order already (the usual feed)
        else:
            order = pc.sort_indices(ids).to_numpy()
            names = ids.take(order)
        parties = cls(
            sorted(feed.portfolios["portfolio_id"].tolist()),
            sorted(set(feed.tenures["rights_holder"])),
            Names(names),
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
            codes = self.account_codes(feed.accounts["account_id"])
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
    """Each portfolio's tenures by start date (one sort of the table, not one filter and
    sort per portfolio)."""
    t = feed.tenures
    portfolio = np.array([parties.portfolio_index.get(p, -1) for p in t["portfolio_id"]], dtype=np.int64)
    start = epoch_days(t["start_date"])
    holder = np.array([parties.holder_index[h] for h in t["rights_holder"]], dtype=np.int64)
    order = np.lexsort((start, portfolio))  # stable: tenures starting the same day keep the table's order
    order = order[portfolio[order] >= 0]
    cuts = np.searchsorted(portfolio[order], np.arange(len(parties.portfolios) + 1))
    starts = [start[order[a:b]] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    holders = [holder[order[a:b]] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    return Tenures(starts, holders)


def holder_codes(names: pd.Series | list[str], parties: Parties) -> np.ndarray:
    """Rights holder codes of names (a name outside the feed's tenures raises KeyError)."""
    return np.array([parties.holder_index[h] for h in names], dtype=np.int64)
