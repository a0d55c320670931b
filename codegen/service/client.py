"""The service's client, for ``codegen solve --server URL`` and the pre-commit hook: the problem
is loaded here, exactly as a local run loads it, and sent whole; progress comes back as
server-sent events for the same live display; failures come back as the same one-line errors
and exit codes (2 bad input, 3 environment).

A problem from a project (``path.py::name``, the hook's stubs) takes the project's source
along, packed (:mod:`codegen.project.archive`), so that it runs there in its context.

The server's roster applies unless the flags name models. ``CODEGEN_SERVER`` names the service
when ``--server`` does not; ``CODEGEN_API_TOKEN`` is the bearer token it may want.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import GenerationEvent
from codegen.problems import Problem
from codegen.project.archive import pack
from codegen.settings import Overrides
from codegen.solve import (
    CandidateProgress,
    Decided,
    GenerationProgress,
    JudgeProgress,
    SolveEvent,
    SolveReport,
    StageProgress,
)

SERVER_ENV = "CODEGEN_SERVER"
TOKEN_ENV = "CODEGEN_API_TOKEN"
BUSY_RETRIES = 30  # a full service (429) is retried after its Retry-After, this many times


def server_from_env(given: str | None) -> str | None:
    return given or os.environ.get(SERVER_ENV) or None


class ServiceClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        token = token or os.environ.get(TOKEN_ENV)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit_solve(
        self, problem: Problem, overrides: Overrides, optimise: int = 0, fast: bool = False
    ) -> str:
        body = {"problem": problem.model_dump(mode="json"), **overrides.model_dump(),
                "optimise": optimise, "fast": fast}  # fmt: skip
        context = problem.context
        if context is not None and context.root is not None:  # its project goes with it
            body["project"] = {"archive": pack(Path(context.root))}
        for _ in range(BUSY_RETRIES):
            answer = self._request("POST", "/v1/solve", json=body)
            if answer.status_code != 429:
                return answer.json()["id"]
            time.sleep(float(answer.headers.get("Retry-After", "5")))
        raise EnvironmentProblem(f"the codegen service at {self.url} stays full (429); try later")

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's events until its `end` event (server-sent events)."""
        try:
            with self.http.stream("GET", f"/v1/jobs/{job_id}/events", timeout=None) as stream:
                _raise_for(stream, self.url)
                data: list[str] = []
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        event = json.loads("\n".join(data))
                        data = []
                        yield event
                        if event.get("type") == "end":
                            return
        except httpx.HTTPError as error:
            raise EnvironmentProblem(f"lost the codegen service at {self.url}: {error}") from None

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/jobs/{job_id}").json()

    def cancel(self, job_id: str) -> None:
        self._request("DELETE", f"/v1/jobs/{job_id}", ok=(200, 409))

    def _request(
        self, method: str, path: str, ok: tuple[int, ...] = (), **kw: Any
    ) -> httpx.Response:
        try:
            answer = self.http.request(method, path, **kw)
        except httpx.HTTPError as error:
            raise EnvironmentProblem(
                f"cannot reach the codegen service at {self.url} ({error}): start it with "
                f"`codegen serve`, or drop --server / {SERVER_ENV} to run locally"
            ) from None
        if answer.status_code not in ok and answer.status_code != 429:
            _raise_for(answer, self.url)
        return answer


def _raise_for(answer: httpx.Response, url: str) -> None:
    if answer.status_code < 400:
        return
    if isinstance(answer, httpx.Response) and not answer.is_stream_consumed:
        answer.read()
    try:
        detail = answer.json().get("detail", "")
    except ValueError:
        detail = answer.text[:200]
    if answer.status_code == 401:
        raise EnvironmentProblem(
            f"the codegen service at {url} wants an API token: set {TOKEN_ENV}"
        )
    if answer.status_code in (409, 413, 422):
        raise BadInput(f"the codegen service refused the request: {detail}")
    raise EnvironmentProblem(
        f"the codegen service at {url} answered {answer.status_code}: {detail}"
    )


def solve_remote(
    url: str,
    problem: Problem,
    overrides: Overrides,
    on_event: Callable[[SolveEvent], None] | None = None,
    optimise_rounds: int = 0,
    *,
    fast: bool = False,
    token: str | None = None,
) -> SolveReport:
    """``solve`` (and ``--optimise N``, ``--fast``) on the service: the same report, or the
    same error, as a local run. ``token``: one the service gave local clients (discovery)."""
    with ServiceClient(url, token) as client:
        job_id = client.submit_solve(problem, overrides, optimise_rounds, fast)
        try:
            for record in client.events(job_id):
                event = event_from_record(record)
                if event is not None and on_event is not None:
                    on_event(event)
        except BaseException:  # Ctrl-C or a lost stream: do not leave the job running
            client.cancel(job_id)
            raise
        return _report(client.job(job_id), url)


def _report(view: dict[str, Any], url: str) -> SolveReport:
    if view["state"] == "done":
        return SolveReport.model_validate(view["report"])
    error = view.get("error") or {}
    message = error.get("message") or f"the job ended {view['state']} on the service at {url}"
    if view["state"] == "interrupted":
        message = (
            f"the codegen service at {url} stopped before the job finished "
            f"({view.get('reason') or 'interrupted'}); run it again"
        )
    if error.get("kind") == "bad_input":
        raise BadInput(message)
    raise EnvironmentProblem(message)


_EVENTS: dict[str, Callable[[dict[str, Any]], SolveEvent]] = {
    "GenerationProgress": lambda r: GenerationProgress(
        r["round"], GenerationEvent.model_validate(r["event"])
    ),
    "CandidateProgress": lambda r: CandidateProgress(
        r["candidate"], r["status"], r.get("author", ""), r.get("detail", "")
    ),
    "JudgeProgress": lambda r: JudgeProgress(r["judge"], r["status"], r.get("detail", "")),
    "StageProgress": lambda r: StageProgress(r["stage"], r["message"]),
    "Decided": lambda r: Decided(
        r["winner"],
        r["author"],
        r["code"],
        r["after"],
        r["reason"],
        r["seconds"],
        r.get("enriching", True),
    ),
}


def event_from_record(record: dict[str, Any]) -> SolveEvent | None:
    """A solve event sent by the service, as the live display takes it (others: None)."""
    build = _EVENTS.get(str(record.get("type")))
    return build(record) if build is not None else None
