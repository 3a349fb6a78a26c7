"""The rules of the Monthly Calculation as pure kernels, each named for its clause.

They read no :class:`calc.feed.Feed`: they take numbers, arrays or small frames
and work on any grain, accounts, cohorts or Monte Carlo paths alike.  The
engine (``calc.engine``) calls them on the transfer agent's records; the sample
generator and the projections call the same ones.

| module | rules | agreement |
|---|---|---|
| ``lots`` | lot relief, conversion to Class A, Free Share buckets, the 2(b) split | FOURTH (D), (E); Exhibit A 2(b); RULES.md 3-4 |
| ``exhibit_a`` | the omnibus roll-forward step 2(c)(ii)-(iv); the 12b-1 Share | Exhibit A 2(c), first paragraph; SEVENTH (B) |
| ``fees`` | daily accrual of the Distribution Fee and the service fee; Complete Termination | SEVENTH (B), TENTH, FIFTEENTH (B) |
| ``cdsc`` | year held by anniversary, rate by year held, charge on a lot part | FOURTH (D) |
| ``assignments`` | an Assignee's 12b-1 Portion and CDSC Portion by fraction and window | EIGHTH |
| ``offsets`` | claims against the rights holder's own Portions, with carry | EIGHTH (D) |
| ``rounding`` | half away from zero; the largest-remainder split of cents | RULES.md 6 |
| ``payment`` | the due date: 10th NYSE business day after the month end | SEVENTH (B) |
"""
