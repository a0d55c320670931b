"""``codegen serve``: the long-running service, warm for every client, shared by tenants.

api         the requests and answers (pydantic; FastAPI serves the schema at /docs)
app         the FastAPI app: its parts started and stopped, middleware, routers
routes/     the HTTP routes, one module per concern (submit, jobs, site)
auth        bearer tokens: tenants, the admin
context     what every route is given: the service's parts, the caller
middleware  the body limit (413) and the security headers (CSP, no framing)
task        a request's problem built from text, named after its function
checks      the models a request names, checked at submit
jobs        admission, queue, running, events, cancellation, retries, draining
work        what each kind of job does (solve, rank, run) on the warm parts
fair        the sandbox shared fairly between jobs
store       jobs and reports in SQLite, read per owner
metrics     Prometheus text format, counts only
server      uvicorn, draining on SIGTERM
client      what ``codegen solve --server`` and the pre-commit hook use
page*       the page at / (HTML, its scripts, its style)
"""
