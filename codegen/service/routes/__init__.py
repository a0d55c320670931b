"""The HTTP routes, one module per concern.

submit  POST /v1/solve, /v1/rank, /v1/run (jobs) and /v1/plan (a solve's request count)
jobs    the caller's jobs: list, status, events, cancel (another tenant's job is a 404)
site    the page at /, its script and style, /docs (offline), health, readiness, models, metrics
"""
