"""Leaderboard runs: every model on every problem of a suite, stored, resumable and reported.

The data flow, one module per step::

    suites (problems) ─▶ runner: generation (per model × persona × sample) ─▶ store (SQLite)
                                 ─▶ executor (local pool or Ray actors) ─▶ evaluate: hidden tests,
                                    the ensemble's pick (codegen.evaluation, visible tests only;
                                    its timing rounds hold the canonical solution too: the
                                    efficiency, from the same job) ─▶ store
    store ─▶ metrics (pure) ─▶ report (markdown, HTML with inline SVG plots) / compare

Pure modules: ``config``, ``records``, ``metrics``, ``compare``, ``plots`` (SVG text).
I/O: ``store`` (SQLite), ``evaluate`` and ``executors`` (Docker, Ray), ``runner``, ``progress``,
``embedded`` (a server per embedded model for the run).
"""
