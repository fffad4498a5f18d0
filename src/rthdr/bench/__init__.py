"""`rthdr bench`: the model alone and the service over HTTP, under load, side by side with a git revision.

One module per job, in the order a run uses them: server (a real `rthdr serve` process), wrk (the load
and what it posts), versus (another git revision beside this one), report (targets, Markdown, JSON), and
measure, which runs them all.
"""

from rthdr.bench.measure import run
from rthdr.bench.report import Report, write

__all__ = ["Report", "run", "write"]
