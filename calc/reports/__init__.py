"""Reports on a Monthly Calculation: every number the dashboard shows, as pure functions.

One module per subject (pandas in, pandas out; no streamlit, no plotly):

- :mod:`calc.reports.common`: labels (kinds of money, roles, schedules, column
  headers), month ends, filtering by period and portfolio, relative change.
- :mod:`calc.reports.revenue`: this month and year to date against a year
  earlier, for the complex or one party (money frames); each party's gross
  and retained; net assets and the effective fee rate; money by month, year,
  party, Fund, schedule; top portfolios.
- :mod:`calc.reports.shares`: the parties' parts of the Distribution Fee and
  the 12b-1 Share over time; the plan timeline (tenure changes, Complete
  Terminations).
- :mod:`calc.reports.collateral`: an assignee's stream as of a month, payback
  against its purchase price and the status of ended windows, multiple, yield
  and IRR, its statement of Portions, payments and due dates, the net assets
  and the runoff of the shares behind it and its share of their CDSC.
- :mod:`calc.reports.omnibus`: the Exhibit A 2(c) drill-down of an omnibus
  account, each line of 2(c)(ii)-(iv) written out with its numbers.
- :mod:`calc.reports.statement`: the numbers of the monthly statement, its
  tie-out and its sheets.
- :mod:`calc.reports.compare`: two calculation runs side by side, what
  changed per party and month.
- :mod:`calc.reports.render`: CSV, Excel and printable HTML of a statement or
  any table (formats only: no number is computed there).
- :mod:`calc.reports.data`: what a feed and a calculation hold; a rejected
  feed's problems.

Frames are those of :class:`calc.report.MonthlyCalculation` (money already
rounded to the cent, shares unrounded) and of :class:`calc.feed.Feed`.
Nothing is re-exported here: import the module of the subject.
"""
