"""Offsets (EIGHTH (D); RULES.md section 6): the Fund's claims against a rights holder
reduce its own rounded Portions (12b-1 first, then CDSC; never below zero, never an
Assignee's, never the service fee); what is left carries to the next month."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal


def room(distribution_fee_cents: int, cdsc_cents: int) -> Decimal:
    """What a month's own Portions can absorb, in dollars (a negative Portion counts as zero)."""
    return Decimal(max(int(distribution_fee_cents), 0) + max(int(cdsc_cents), 0)) / 100


def apply_claims(
    claims: Iterable[Decimal], rooms: Iterable[Decimal], carry: Decimal = Decimal(0)
) -> tuple[list[int], Decimal]:
    """Month by month: the claims dated in the month plus the carry, against the month's room.

    Returns the offset applied each month, in cents, and the claim still unapplied.
    """
    applied = []
    for claim, space in zip(claims, rooms, strict=True):
        carry += claim
        take = min(carry, space) if carry > 0 else Decimal(0)
        if take > 0:
            applied.append(int((take * 100).to_integral_value(rounding=ROUND_FLOOR)))
            carry -= take
        else:
            applied.append(0)
    return applied, carry
