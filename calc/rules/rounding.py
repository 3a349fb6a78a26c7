"""Rounding (RULES.md section 6): money rounded on exact decimal values, half away
from zero, and each total's cents split among its parties by largest remainder."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
# a float as Arrow writes it (shortest round-trip digits, as repr): sign, digits, fraction, exponent
_FLOAT_TEXT = r"^(?P<sign>-?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[-+]?[0-9]+))?$"


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
        parts = pc.extract_regex(pc.cast(pa.array(x), pa.string()), _FLOAT_TEXT)
        frac = parts.field("frac").fill_null("")
        digits = pc.binary_join_element_wise(parts.field("int"), frac, "")
        significant = pc.utf8_ltrim(pc.utf8_rtrim(digits, "0"), "0")
        zeros = pc.subtract(pc.utf8_length(pc.utf8_ltrim(digits, "0")), pc.utf8_length(significant))
        written = pc.utf8_ltrim(parts.field("exp").fill_null(""), "+")
        exp = pc.cast(pc.if_else(pc.equal(written, ""), "0", written), pa.int64())
        exponent = pc.add(pc.subtract(exp, pc.utf8_length(frac)), zeros).to_numpy(zero_copy_only=False)
        mantissa = pc.cast(pc.if_else(pc.equal(significant, ""), "0", significant), pa.int64()).to_numpy(
            zero_copy_only=False)
        negative = pc.equal(parts.field("sign"), "-").to_numpy(zero_copy_only=False)
        mantissa = np.where(negative, -mantissa, mantissa)
        return cls(mantissa.astype(object), exponent.astype(np.int64))

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
        Python integers."""
        up = self.exponent + 2
        out = np.zeros(len(self), dtype=object)
        whole = up >= 0
        out[whole] = self.numerator[whole] * _pow10(up[whole])
        part = ~whole
        if part.any():
            d = _pow10(-up[part])
            n = self.numerator[part]
            magnitude = (abs(n) + d // 2) // d
            out[part] = np.where(np.asarray(n < 0, dtype=bool), -magnitude, magnitude)
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
