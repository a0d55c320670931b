"""The service's job core without HTTP or Docker: a real SQLite store and the real JobManager,
with plain async functions as the jobs' work. Owners apart, pages, the retry of an interrupted
job, draining with a grace period, and followers that always get their `end`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codegen.service.api import Interruption, JobKind, JobState, JobView
from codegen.service.jobs import Conflict, Draining, Job, JobManager
from codegen.service.store import JobStore

ALICE, BOB = "alice-hash", "bob-hash"


async def _quick(job: Job) -> dict[str, Any]:
    job.emit({"type": "StageProgress", "stage": "generate", "message": "one request"})
    return {"winner": "c1", "candidates": [{"id": "c1", "model": "openai/coder"}]}


async def _forever(job: Job) -> dict[str, Any]:
    await asyncio.sleep(3600)
    return {}


def _submit(jobs: JobManager, owner: str, work: Any = _quick, key: str | None = None,
            request: str = "{}") -> Any:  # fmt: skip
    return jobs.submit(JobKind.SOLVE, request, "two_sum", work, owner, key, ["openai/coder"])


async def _ended(jobs: JobManager, job_id: str) -> None:
    while job_id in jobs.live:
        await asyncio.sleep(0.01)


def test_a_job_is_seen_only_by_its_owner_and_the_admin(tmp_path: Path) -> None:
    async def scenario() -> None:
        jobs = JobManager(JobStore(tmp_path / "jobs.sqlite"))
        running, _ = _submit(jobs, ALICE, _forever)
        done, _ = _submit(jobs, ALICE)
        await _ended(jobs, done.id)
        for job_id in (running.id, done.id):  # live and stored alike
            assert jobs.view(job_id, ALICE) is not None
            assert jobs.view(job_id, BOB) is None
            assert jobs.view(job_id, None) is not None  # the admin
        assert jobs.store.page(BOB, 10) == ([], 0)
        assert jobs.store.position(done.id, BOB) is None
        assert [v.id for v in jobs.store.page(ALICE, 10)[0]] == [done.id, running.id]
        await jobs.stop()

    asyncio.run(scenario())


def test_the_list_is_paged_newest_first_and_finds_a_jobs_page(tmp_path: Path) -> None:
    async def scenario() -> None:
        jobs = JobManager(JobStore(tmp_path / "jobs.sqlite"), per_owner=100, max_pending=100)
        ids = []
        for _ in range(7):
            view, _ = _submit(jobs, ALICE)
            ids.append(view.id)
            await _ended(jobs, view.id)
        _submit(jobs, BOB)
        first, total = jobs.store.page(ALICE, 3)
        second, _ = jobs.store.page(ALICE, 3, 3)
        assert total == 7 and [v.id for v in first + second] == ids[::-1][:6]
        assert jobs.store.position(ids[0], ALICE) == 6  # the oldest: the last page
        assert first[0].winner == "c1" and first[0].winner_model == "openai/coder"
        assert first[0].models == ["openai/coder"] and first[0].report is None  # a summary
        await jobs.stop()

    asyncio.run(scenario())


def test_a_key_retried_after_an_interruption_starts_a_new_run(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite"

    async def before_the_stop() -> str:
        jobs = JobManager(JobStore(db))
        view, replayed = _submit(jobs, ALICE, _forever, key="k1", request='{"a": 1}')
        again, replayed_again = _submit(jobs, ALICE, _forever, key="k1", request='{"a": 1}')
        assert not replayed and replayed_again and again.id == view.id
        with pytest.raises(Conflict):
            _submit(jobs, ALICE, _forever, key="k1", request='{"a": 2}')
        await jobs.stop()  # the service stops while it runs
        assert jobs.view(view.id, ALICE).reason is Interruption.SHUTDOWN
        return view.id

    async def after_the_restart(old: str) -> None:
        jobs = JobManager(JobStore(db))
        view, replayed = _submit(jobs, ALICE, key="k1", request='{"a": 1}')
        assert not replayed and view.id != old and view.retry_of == old
        await _ended(jobs, view.id)
        again, replayed = _submit(jobs, ALICE, key="k1", request='{"a": 1}')
        assert replayed and again.id == view.id  # the new run is the key's job now
        other, replayed = _submit(jobs, BOB, key="k1", request='{"a": 1}')
        assert not replayed and other.retry_of is None  # keys are per owner
        await jobs.stop()

    old = asyncio.run(before_the_stop())
    asyncio.run(after_the_restart(old))


def test_what_a_dead_service_left_running_reads_interrupted_lost(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    left = JobView(id="j1", kind=JobKind.SOLVE, state=JobState.RUNNING, created=1.0)
    store.insert(left, ALICE, "k1", "{}", "digest")  # as a killed process leaves it
    store.close()
    store = JobStore(tmp_path / "jobs.sqlite")
    assert store.interrupt_unfinished() == 1
    view = store.get("j1", ALICE)
    assert view.state is JobState.INTERRUPTED and view.reason is Interruption.LOST


def test_draining_lets_quick_jobs_finish_and_interrupts_the_rest(tmp_path: Path) -> None:
    async def scenario() -> None:
        jobs = JobManager(JobStore(tmp_path / "jobs.sqlite"), max_running=2)

        async def short(job: Job) -> dict[str, Any]:
            await asyncio.sleep(0.3)
            return {"winner": None}

        quick, _ = _submit(jobs, ALICE, short)
        stuck, _ = _submit(jobs, ALICE, _forever)
        queued, _ = _submit(jobs, BOB, _forever)  # max_running 2: this one waits
        await asyncio.sleep(0.05)
        followers = [asyncio.create_task(_follow(jobs, v.id)) for v in (quick, stuck, queued)]
        await asyncio.sleep(0.05)
        await jobs.drain(grace_s=1.0)
        with pytest.raises(Draining):
            _submit(jobs, ALICE)
        ends = [events[-1] for events in await asyncio.gather(*followers)]
        assert [e["state"] for e in ends] == ["done", "interrupted", "interrupted"]
        assert [e["reason"] for e in ends] == [None, "shutdown", "shutdown"]
        stored = jobs.store.get(stuck.id, None)
        assert stored.state is JobState.INTERRUPTED and stored.reason is Interruption.SHUTDOWN

    asyncio.run(scenario())


def test_a_late_follower_of_a_finished_job_gets_its_end(tmp_path: Path) -> None:
    async def scenario() -> None:
        jobs = JobManager(JobStore(tmp_path / "jobs.sqlite"))
        view, _ = _submit(jobs, ALICE)
        await _ended(jobs, view.id)
        events = await asyncio.wait_for(_follow(jobs, view.id), 5)
        assert events == [{"type": "end", "state": "done", "reason": None, "error": None,
                           "winner": "c1", "winner_model": "openai/coder"}]  # fmt: skip
        cancelled, _ = _submit(jobs, ALICE, _forever)
        await asyncio.sleep(0.05)
        assert jobs.cancel(cancelled.id)
        await _ended(jobs, cancelled.id)
        assert jobs.view(cancelled.id, ALICE).state is JobState.CANCELLED  # a client's cancel

    asyncio.run(scenario())


async def _follow(jobs: JobManager, job_id: str) -> list[dict[str, Any]]:
    return [event async for event in jobs.events(job_id)]
