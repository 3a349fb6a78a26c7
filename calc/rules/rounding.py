"""Rounding (RULES.md section 6): money rounded on exact decimal values, half away
from zero, and each total's cents split among its parties by largest remainder."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from calc.vocabulary import CENT_REMAINDER_TOLERANCE

CENT = Decimal("0.01")
PRECISION = 60  # decimal digits: every sum of the calculation is exact at this precision


def to_decimal(x: float) -> Decimal:
    """The decimal a float was written as (shortest round-trip repr)."""
    return Decimal(repr(float(x)))


def round_cents(x: Decimal) -> Decimal:
    """Half away from zero, to the cent."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


_POW10 = np.array([10**k for k in range(400)], dtype=object)
_FAR_FROM_HALF = 1e-12  # relative: a float approximation this far from x.5 rounds as the number does


@njit(cache=True)
def _read_decimals(offsets, data, mantissa, exponent):
    """Each number written in ``data`` (Arrow's text of a float: ``-123.45``, ``1e-7``,
    ``1.5e+22``) as ``mantissa * 10**exponent``, trailing zeros taken into the exponent."""
    for i in range(len(mantissa)):
        k, end = offsets[i], offsets[i + 1]
        negative = k < end and data[k] == 45  # '-'
        if negative:
            k += 1
        m = np.int64(0)
        zeros = 0  # zeros read and not yet known to be followed by a digit
        fraction = 0  # digits after the point
        in_fraction = False
        while k < end and data[k] != 101 and data[k] != 69:  # up to 'e' / 'E'
            c = np.int64(data[k])  # a byte as a wide integer (also when run uncompiled)
            if c == 46:  # '.'
                in_fraction = True
            else:
                if in_fraction:
                    fraction += 1
                if c == 48:  # '0'
                    zeros += 1
                else:
                    for _ in range(zeros):
                        m *= 10
                    m = m * 10 + (c - 48)
                    zeros = 0
            k += 1
        e = 0
        if k < end:  # the exponent
            k += 1
            sign = 1
            if data[k] == 45:
                sign = -1
                k += 1
            elif data[k] == 43:
                k += 1
            while k < end:
                e = e * 10 + (np.int64(data[k]) - 48)
                k += 1
            e *= sign
        mantissa[i] = -m if negative else m
        exponent[i] = e - fraction + zeros


def _pow10(k: np.ndarray) -> np.ndarray:
    """10**k (k >= 0) as Python integers."""
    k = np.asarray(k, dtype=np.int64)
    if k.size and int(k.max()) >= len(_POW10):
        return np.array([10 ** int(v) for v in k.ravel()] + [0], dtype=object)[:-1].reshape(k.shape)
    return _POW10[k]


@dataclass
class Exact:
    """Decimal numbers as arrays, exact: ``numerator * 10**exponent`` with Python-integer
    numerators (an object array) and int64 exponents.  What :class:`decimal.Decimal`
    does for one number, for millions at once."""

    numerator: np.ndarray
    exponent: np.ndarray

    @classmethod
    def of_floats(cls, values) -> Exact:
        """Each float as the decimal it was written as (:func:`to_decimal`: the shortest
        digits that read back as the float, as ``repr`` gives them)."""
        x = np.ascontiguousarray(values, dtype=np.float64)
        if len(x) == 0:
            return cls(np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64))
        if not np.all(np.isfinite(x)):
            raise ValueError("only finite numbers are decimals")
        # Arrow writes each float with the shortest digits that read back as it (as repr)
        text = pc.cast(pa.array(x), pa.string())
        _, offsets, data = text.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int32)[text.offset:text.offset + len(x) + 1]
        mantissa = np.zeros(len(x), dtype=np.int64)
        exponent = np.zeros(len(x), dtype=np.int64)
        _read_decimals(offsets, np.frombuffer(data, dtype=np.uint8), mantissa, exponent)
        return cls(mantissa.astype(object), exponent)

    @classmethod
    def of_decimals(cls, values) -> Exact:
        """Exact numbers from :class:`decimal.Decimal` values."""
        nums, exps = [], []
        for v in values:
            sign, digits, exp = Decimal(v).as_tuple()
            n = int("".join(map(str, digits)) or "0")
            nums.append(-n if sign else n)
            exps.append(int(exp))
        return cls(np.array(nums + [0], dtype=object)[:-1], np.array(exps, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.exponent)

    def at(self, exponent) -> np.ndarray:
        """The numerators scaled to ``exponent`` (not above any of the exponents)."""
        shift = self.exponent - exponent
        if np.any(shift < 0):
            raise ValueError("an exponent above the number's own would lose digits")
        return self.numerator * _pow10(shift)

    def __mul__(self, other: Exact) -> Exact:
        return Exact(self.numerator * other.numerator, self.exponent + other.exponent)

    def __getitem__(self, index) -> Exact:
        return Exact(self.numerator[index], self.exponent[index])

    def minimum(self, other: Exact) -> Exact:
        """The lesser of each pair (``min(a, b)``: ``b`` only when it is smaller)."""
        common = np.minimum(self.exponent, other.exponent)
        a, b = self.at(common), other.at(common)
        smaller = np.asarray(b < a, dtype=bool)
        return Exact(np.where(smaller, b, a), common)

    def cents(self) -> np.ndarray:
        """Each number in cents, rounded half away from zero (:func:`round_cents`), as
        Python integers.

        Read off a float approximation where that is sure to round the same: where the
        hundredths' fraction lies well away from one half (the approximation is within a
        few parts in 10**16 of the number; ``_FAR_FROM_HALF`` leaves a margin thousands
        of times that).  Near or at one half (and beyond what a float holds as a whole
        number), in exact integers."""
        up = self.exponent + 2
        out = np.zeros(len(self), dtype=object)
        whole = up >= 0
        out[whole] = self.numerator[whole] * _pow10(up[whole])
        part = np.flatnonzero(~whole)
        if len(part) == 0:
            return out
        n = self.numerator[part]
        shift = -up[part]
        try:
            as_float = n.astype(np.float64)
        except OverflowError:  # a numerator beyond any float: every one exactly
            as_float = np.full(len(n), np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            approx = np.abs(as_float) / np.power(10.0, shift.astype(np.float64))
            fraction = approx - np.floor(approx)
            sure = (np.isfinite(approx) & (approx < 2.0**50) & (shift <= 300)
                    & (np.abs(fraction - 0.5) > _FAR_FROM_HALF * np.maximum(approx, 1.0)))
        negative = np.asarray(n < 0, dtype=bool)
        magnitude = np.floor(approx[sure] + 0.5).astype(np.int64)
        out[part[sure]] = np.where(negative[sure], -magnitude, magnitude).astype(object)
        slow = ~sure
        if slow.any():
            d = _pow10(shift[slow])
            m = n[slow]
            magnitude = (abs(m) + d // 2) // d
            out[part[slow]] = np.where(negative[slow], -magnitude, magnitude)
        return out

    def to_float(self) -> np.ndarray:
        """The nearest float to each number (as ``float(Decimal)``)."""
        out = np.zeros(len(self), dtype=object)
        whole = self.exponent >= 0
        out[whole] = self.numerator[whole] * _pow10(self.exponent[whole])
        out[~whole] = self.numerator[~whole] / _pow10(-self.exponent[~whole])
        return out.astype(float)

    def to_decimal(self) -> list[Decimal]:
        return [Decimal(int(n)).scaleb(int(e)) for n, e in zip(self.numerator, self.exponent, strict=True)]


def split_cents(parties: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Round each (month, portfolio, kind) total half away from zero and split its cents
    among the parties by largest remainder (ties: party name, then role).

    ``parties``: month, portfolio_id, kind, party, role, amount (float, unrounded);
    ``totals``: month, portfolio_id, kind, total (Decimal, unrounded).  Any grain
    works: the key columns only group.  Returns ``parties`` with ``cents`` (int).
    """
    if parties.empty:
        return parties.assign(cents=pd.Series(dtype=np.int64))
    key = ["month", "portfolio_id", "kind"]
    tot = totals[key + ["total"]].copy()
    tot["total_cents"] = [int(round_cents(v) * 100) for v in tot["total"]]
    frame = parties.merge(tot[key + ["total_cents"]], on=key, how="left")
    frame["total_cents"] = frame["total_cents"].fillna(0).astype(np.int64)
    scaled = frame["amount"].to_numpy(dtype=float) * 100.0
    floor = np.floor(scaled + CENT_REMAINDER_TOLERANCE)
    remainder = np.round(scaled - floor, 6)
    frame["cents"] = floor.astype(np.int64)
    frame["_rem"] = remainder
    frame = frame.sort_values(key + ["_rem", "party", "role"], ascending=[True, True, True, False, True, True], kind="stable")
    group = frame.groupby(key, sort=False)
    missing = (frame["total_cents"] - group["cents"].transform("sum")).to_numpy()
    size = group["cents"].transform("size").to_numpy()
    rank = group.cumcount().to_numpy()
    # Cents still missing go one each to the largest remainders; more than one round if ever needed.
    extra = np.where(missing >= 0, missing // size + (rank < missing % size), -((-missing) // size) - (rank >= size - (-missing) % size))
    frame["cents"] = frame["cents"] + extra
    return frame.drop(columns=["_rem", "total_cents"]).sort_index()
