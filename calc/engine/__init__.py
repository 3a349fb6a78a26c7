"""The engine of the Monthly Calculation: the ledger (``ledger``), the attribution
(``attribution``), the money (``money``), the codes of the parties (``parties``) and
the month-end state (``state``).  ``calc.monthly.compute`` runs them in order; the
rules they apply are the kernels of ``calc.rules``."""
