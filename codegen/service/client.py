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

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen.errors import BadInput, EnvironmentProblem
from codegen.service.transport import Response, Transport, TransportError

if TYPE_CHECKING:  # loaded once the job is submitted: their import overlaps the models' work
    from codegen.problems import Problem
    from codegen.settings import Overrides
    from codegen.solve import SolveEvent, SolveReport

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
        try:
            self.http = Transport(self.url, headers, timeout)
        except TransportError as error:
            raise BadInput(f"--server: {error}") from None

    def close(self) -> None:
        """Nothing stays open between requests; kept for ``with``."""

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
            from codegen.project.archive import pack

            body["project"] = {"archive": pack(Path(context.root))}
        for _ in range(BUSY_RETRIES):
            answer = self._request("POST", "/v1/solve", json_body=body)
            if answer.status_code != 429:
                return answer.json()["id"]
            time.sleep(float(answer.headers.get("retry-after", "5")))
        raise EnvironmentProblem(f"the codegen service at {self.url} stays full (429); try later")

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's events until its `end` event (server-sent events)."""
        try:
            data: list[str] = []
            for line in self.http.stream_lines(f"/v1/jobs/{job_id}/events"):
                if isinstance(line, Response):
                    _raise_for(line, self.url)
                    return
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    event = json.loads("\n".join(data))
                    data = []
                    yield event
                    if event.get("type") == "end":
                        return
        except TransportError as error:
            raise EnvironmentProblem(f"lost the codegen service at {self.url}: {error}") from None

    def follow_solve(
        self, job_id: str, on_event: Callable[[SolveEvent], None] | None = None
    ) -> SolveReport:
        """The submitted solve's events (to ``on_event``) until it ends, then its report; the
        job is cancelled if this is interrupted."""
        with self.cancelled_on_error(job_id):
            for record in self.events(job_id):
                event = event_from_record(record)
                if event is not None and on_event is not None:
                    on_event(event)
        return _report(self.job(job_id), self.url)

    @contextlib.contextmanager
    def cancelled_on_error(self, job_id: str) -> Iterator[None]:
        """Ctrl-C or a lost stream must not leave the job running on the service."""
        try:
            yield
        except BaseException:
            self.cancel(job_id)
            raise

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/jobs/{job_id}").json()

    def cancel(self, job_id: str) -> None:
        self._request("DELETE", f"/v1/jobs/{job_id}", ok=(200, 409))

    def _request(self, method: str, path: str, ok: tuple[int, ...] = (), **kw: Any) -> Response:
        try:
            answer = self.http.request(method, path, **kw)
        except TransportError as error:
            raise EnvironmentProblem(
                f"cannot reach the codegen service at {self.url} ({error}): start it with "
                f"`codegen serve`, or drop --server / {SERVER_ENV} to run locally"
            ) from None
        if answer.status_code not in ok and answer.status_code != 429:
            _raise_for(answer, self.url)
        return answer


def _raise_for(answer: Response, url: str) -> None:
    if answer.status_code < 400:
        return
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
        return client.follow_solve(job_id, on_event)


def _report(view: dict[str, Any], url: str) -> SolveReport:
    if view["state"] == "done":
        from codegen.solve import SolveReport

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


def event_from_record(record: dict[str, Any]) -> SolveEvent | None:
    """A solve event sent by the service, as the live display takes it (others: None)."""
    from codegen.generation import GenerationEvent
    from codegen.solve import (
        CandidateProgress,
        Decided,
        GenerationProgress,
        JudgeProgress,
        StageProgress,
    )

    r = record
    match r.get("type"):
        case "GenerationProgress":
            return GenerationProgress(r["round"], GenerationEvent.model_validate(r["event"]))
        case "CandidateProgress":
            return CandidateProgress(
                r["candidate"], r["status"], r.get("author", ""), r.get("detail", "")
            )
        case "JudgeProgress":
            return JudgeProgress(r["judge"], r["status"], r.get("detail", ""))
        case "StageProgress":
            return StageProgress(r["stage"], r["message"])
        case "Decided":
            return Decided(r["winner"], r["author"], r["code"], r["after"], r["reason"],
                           r["seconds"], r.get("enriching", True))  # fmt: skip
    return None
