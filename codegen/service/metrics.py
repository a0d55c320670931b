"""``/metrics`` in Prometheus' text format (prometheus_client, a registry per service): queue
depth, jobs by state, sandbox workers busy, model latency and cost per model, candidates per
verdict.

Any token may read them, so they carry counts only, never a job's contents: no id, no problem,
no source, no prompt; a model is named only if the service itself runs it (its roster, its
embedded models), and any model a tenant named counts as ``other``."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from codegen.service.fair import FairShare
from codegen.service.jobs import Job, JobManager

OTHER = "other"


class Metrics:
    def __init__(self, jobs: JobManager, share: FairShare, known: set[str] | None = None) -> None:
        self.known = known or set()
        self.registry = CollectorRegistry()
        self.queued = Gauge("codegen_jobs_queued", "Jobs waiting to run", registry=self.registry)
        self.queued.set_function(lambda: jobs.counts()["queued"])
        self.jobs = Counter(
            "codegen_jobs", "Jobs ended, by final state", ["state"], registry=self.registry
        )
        self.running = Gauge("codegen_jobs_running", "Jobs running", registry=self.registry)
        self.running.set_function(lambda: jobs.counts()["running"])
        self.busy = Gauge(
            "codegen_sandbox_workers_busy", "Sandbox jobs in progress", registry=self.registry
        )
        self.busy.set_function(lambda: share.busy)
        self.latency = Histogram(
            "codegen_model_latency_seconds", "Model request latency", ["model"],
            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128), registry=self.registry,
        )  # fmt: skip
        self.cost = Counter(
            "codegen_model_cost_usd", "Model cost", ["model"], registry=self.registry
        )
        self.verdicts = Counter(
            "codegen_candidates", "Candidates tested, by verdict", ["verdict"],
            registry=self.registry,
        )  # fmt: skip

    def finished(self, job: Job) -> None:
        """Count what a job's report says it cost and found."""
        self.jobs.labels(state=str(job.view.state)).inc()
        report: dict[str, Any] = job.view.report or {}
        for candidate in report.get("candidates", []) if job.view.kind == "solve" else []:
            self.verdicts.labels(verdict=candidate.get("verdict", "")).inc()
            for proposal in candidate.get("proposers", []):
                model = proposal.get("model", "")
                model = model if model in self.known else OTHER
                self.latency.labels(model=model).observe(proposal.get("latency_s", 0.0))
                self.cost.labels(model=model).inc(proposal.get("cost_usd", 0.0))

    def text(self) -> bytes:
        return generate_latest(self.registry)
