"""``codegen serve``: the long-running service, warm for every client.

api      the requests and answers (pydantic; FastAPI serves the schema at /docs)
app      the HTTP routes, auth, body limits, /metrics, the page at /
jobs     admission, queue, running, events, cancellation
work     what each kind of job does (solve, rank, run) on the warm parts
fair     the sandbox shared fairly between jobs
store    jobs and reports in SQLite
metrics  Prometheus text format
client   what ``codegen solve --server`` and the pre-commit hook use
"""
