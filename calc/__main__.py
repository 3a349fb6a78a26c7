"""``python -m calc``: the command line (:mod:`calc.cli`)."""

import gc
import sys

# A command is one short process that makes a few hundred thousand long-lived objects (the
# imports of pandas, pyarrow and numba, numba's first load of its compiled kernels) and
# little cyclic garbage: the cyclic collector's passes over them took 0.15-0.2 s of CPU of a
# monthly close.  So no collection during the imports, what they made frozen (never
# traversed again), and a collection after 20,000 allocations instead of 700.  Only the
# command's own process: code importing calc keeps its collector as it was.
gc.disable()
from calc.cli import main  # noqa: E402

gc.freeze()
gc.set_threshold(20_000, 10, 10)
gc.enable()

sys.exit(main())
